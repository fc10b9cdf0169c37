//! The non-resource endpoints every server has: `/`, `/version`, `/metrics`, `/healthz`,
//! `/livez`, `/readyz` (with per-check paths), and the OpenAPI documents (`/openapi/v2`,
//! `/openapi/v3`, served by [`OpenApiService`]).

use std::sync::Arc;

use http::{header, Request, Response, StatusCode};
use serde_json::{json, Value};

use super::chain::DelegateTarget;
use super::hooks::Lifecycle;
use crate::body::{full, Body};
use crate::discovery::ResourceRegistry;
use crate::endpoints::negotiate::Target;
use crate::endpoints::render::respond;
use crate::health;
use crate::metrics::{self, Metrics};
use crate::openapi::OpenApiService;

/// The Kubernetes API level served (k8s-openapi's `v1_36` types).
pub const KUBERNETES_MAJOR: &str = "1";
pub const KUBERNETES_MINOR: &str = "36";

/// `/version`, shaped as upstream's `version.Info`.
pub fn version_info() -> Value {
    json!({
        "major": KUBERNETES_MAJOR,
        "minor": KUBERNETES_MINOR,
        "emulationMajor": KUBERNETES_MAJOR,
        "emulationMinor": KUBERNETES_MINOR,
        "minCompatibilityMajor": KUBERNETES_MAJOR,
        "minCompatibilityMinor": "35",
        "gitVersion": format!("v{KUBERNETES_MAJOR}.{KUBERNETES_MINOR}.0"),
        "gitCommit": option_env!("KUBE_APISERVER_GIT_COMMIT").unwrap_or("unknown"),
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": concat!("rust (kube-apiserver-rs ", env!("CARGO_PKG_VERSION"), ")"),
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        }),
    })
}

/// Serves `/`, `/version`, `/metrics`, the health endpoints and OpenAPI.
pub struct CoreRoutes {
    pub registry: Arc<ResourceRegistry>,
    pub lifecycle: Arc<Lifecycle>,
    pub metrics: Arc<Metrics>,
}

impl CoreRoutes {
    /// Every path served, for `/`.
    fn paths(&self) -> Vec<String> {
        let mut paths = vec![
            "/api".to_string(),
            "/apis".to_string(),
            "/healthz".to_string(),
            "/livez".to_string(),
            "/metrics".to_string(),
            "/openapi/v2".to_string(),
            "/openapi/v3".to_string(),
            "/openapi/v3/".to_string(),
            "/readyz".to_string(),
            "/version".to_string(),
        ];
        for (group, versions) in self.registry.groups() {
            for v in versions {
                if group.is_empty() {
                    paths.push(format!("/api/{v}"));
                } else {
                    paths.push(format!("/apis/{group}/{v}"));
                }
            }
            if !group.is_empty() {
                paths.push(format!("/apis/{group}"));
            }
        }
        for (endpoint, checks) in [
            ("healthz", self.lifecycle.healthz()),
            ("livez", self.lifecycle.livez()),
            ("readyz", self.lifecycle.readyz()),
        ] {
            for c in checks {
                paths.push(format!("/{endpoint}/{}", c.name));
            }
        }
        paths.sort();
        paths.dedup();
        paths
    }

    /// Refreshes `apiserver_storage_objects` from the stores.
    async fn refresh_storage_objects(&self) {
        // Reviews are not stored: upstream reports no count for them.
        for store in self
            .registry
            .all()
            .iter()
            .filter(|s| s.decl.review.is_none())
        {
            let count = store.count().await.map(|n| n as i64).unwrap_or(-1);
            self.metrics
                .set_storage_objects(&store.decl.qualified_resource(), count);
        }
    }
}

#[async_trait::async_trait]
impl DelegateTarget for CoreRoutes {
    async fn try_serve(&self, req: Request<Body>) -> Result<Response<Body>, Request<Body>> {
        let path = req.uri().path().to_string();
        let query = req.uri().query().map(str::to_string);
        if req.method() != http::Method::GET && req.method() != http::Method::HEAD {
            return Err(req);
        }
        for (endpoint, checks) in [
            ("healthz", self.lifecycle.healthz()),
            ("livez", self.lifecycle.livez()),
            ("readyz", self.lifecycle.readyz()),
        ] {
            let root = format!("/{endpoint}");
            if path == root || path.starts_with(&format!("{root}/")) {
                let sub = &path[root.len()..];
                return Ok(health::serve(endpoint, &checks, sub, query.as_deref()).await);
            }
        }
        if path.starts_with("/openapi/") {
            if let Some(resp) = OpenApiService::shared().serve(&self.registry, &req) {
                return Ok(resp);
            }
        }
        match path.as_str() {
            "/" => Ok(respond(
                StatusCode::OK,
                &json!({ "paths": self.paths() }),
                Target::Json,
                true,
            )),
            "/version" | "/version/" => {
                Ok(respond(StatusCode::OK, &version_info(), Target::Json, true))
            }
            "/metrics" => {
                self.refresh_storage_objects().await;
                let mut resp = Response::new(full(self.metrics.render()));
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static(metrics::CONTENT_TYPE),
                );
                Ok(resp)
            }
            _ => Err(req),
        }
    }
}

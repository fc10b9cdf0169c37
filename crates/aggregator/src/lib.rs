//! The aggregator: the head of the server chain (upstream's kube-aggregator). It serves
//! the non-resource endpoints and discovery for every group-version the chain serves, and
//! delegates everything else. APIService objects and proxying to remote API servers will
//! live here.

use std::net::SocketAddr;
use std::sync::Arc;

use apiserver::body::Body;
use apiserver::discovery::{wants_aggregated, ResourceRegistry, AGGREGATED_V2};
use apiserver::endpoints::negotiate::Target;
use apiserver::endpoints::render::respond;
use apiserver::server::{not_found, CoreRoutes, DelegateTarget};
use http::{header, Method, Request, Response, StatusCode};
use serde_json::Value;

/// The aggregator server.
pub struct AggregatorServer {
    registry: Arc<ResourceRegistry>,
    core: CoreRoutes,
    /// The address clients should use (`serverAddressByClientCIDRs`).
    server_address: SocketAddr,
}

impl AggregatorServer {
    pub fn new(
        registry: Arc<ResourceRegistry>,
        core: CoreRoutes,
        server_address: SocketAddr,
    ) -> Self {
        AggregatorServer {
            registry,
            core,
            server_address,
        }
    }

    /// Serves a discovery path, or `None` when the path is not one.
    fn discovery(&self, path: &str, accept: Option<&str>) -> Option<Response<Body>> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let aggregated = wants_aggregated(accept);
        let doc: Option<Value> = match segments.as_slice() {
            ["api"] if aggregated => {
                return Some(aggregated_response(self.registry.aggregated(true)))
            }
            ["apis"] if aggregated => {
                return Some(aggregated_response(self.registry.aggregated(false)))
            }
            ["api"] => Some(self.registry.api_versions(self.server_address)),
            ["apis"] => Some(self.registry.api_group_list()),
            ["api", version] => self.registry.resource_list("", version),
            ["apis", group] => self.registry.api_group(group),
            ["apis", group, version] => self.registry.resource_list(group, version),
            _ => return None,
        };
        Some(match doc {
            Some(d) => respond(StatusCode::OK, &d, Target::Json, false),
            None => not_found(),
        })
    }
}

fn aggregated_response(doc: Value) -> Response<Body> {
    let mut resp = respond(StatusCode::OK, &doc, Target::Json, false);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(AGGREGATED_V2),
    );
    resp.headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    resp
}

#[async_trait::async_trait]
impl DelegateTarget for AggregatorServer {
    async fn try_serve(&self, req: Request<Body>) -> Result<Response<Body>, Request<Body>> {
        let req = match self.core.try_serve(req).await {
            Ok(resp) => return Ok(resp),
            Err(req) => req,
        };
        if req.method() == Method::GET || req.method() == Method::HEAD {
            let accept = req
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok());
            if let Some(resp) = self.discovery(req.uri().path(), accept) {
                return Ok(resp);
            }
        }
        Err(req)
    }
}

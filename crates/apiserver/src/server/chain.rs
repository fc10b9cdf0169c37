//! Delegation: the servers of the chain (aggregator → kube API → apiextensions → not found).
//! Each serves what it owns and hands everything else to the next.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use apimachinery::errors::ApiError;
use http::{Request, Response};

use crate::body::Body;
use crate::discovery::ResourceRegistry;
use crate::endpoints::render::error_response;
use crate::endpoints::resource::{self, EndpointConfig};
use crate::filters::{request_info, user};
use crate::registry::{RequestContext, Store};

/// One server of the chain.
#[async_trait::async_trait]
pub trait DelegateTarget: Send + Sync + 'static {
    /// Serves the request, or gives it back for the next server.
    async fn try_serve(&self, req: Request<Body>) -> Result<Response<Body>, Request<Body>>;
}

/// The chain of servers; a request none of them owns gets upstream's 404.
#[derive(Clone, Default)]
pub struct ServerChain {
    links: Vec<Arc<dyn DelegateTarget>>,
}

impl ServerChain {
    pub fn new(links: Vec<Arc<dyn DelegateTarget>>) -> Self {
        ServerChain { links }
    }

    pub async fn serve(&self, mut req: Request<Body>) -> Response<Body> {
        for link in &self.links {
            match link.try_serve(req).await {
                Ok(resp) => return resp,
                Err(back) => req = back,
            }
        }
        not_found()
    }
}

/// Upstream's answer for a path no server owns.
pub fn not_found() -> Response<Body> {
    error_response(&ApiError::not_found_message(
        "the server could not find the requested resource",
    ))
}

/// A server of resources: it owns some group-versions and serves their resources through
/// the generic endpoints. The kube API server and the apiextensions server are each one.
pub struct GenericApiServer {
    pub name: &'static str,
    registry: Arc<ResourceRegistry>,
    owned: RwLock<HashSet<(String, String)>>,
    endpoint_cfg: EndpointConfig,
}

impl GenericApiServer {
    pub fn new(
        name: &'static str,
        registry: Arc<ResourceRegistry>,
        endpoint_cfg: EndpointConfig,
    ) -> Self {
        GenericApiServer {
            name,
            registry,
            owned: RwLock::new(HashSet::new()),
            endpoint_cfg,
        }
    }

    /// Installs a resource: registers its store for discovery and routes its group-version here.
    pub fn install(&self, store: Arc<Store>) {
        let gv = (store.decl.group.clone(), store.decl.version.clone());
        self.owned
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(gv);
        self.registry.register(store);
    }

    fn owns(&self, group: &str, version: &str) -> bool {
        self.owned
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&(group.to_string(), version.to_string()))
    }
}

#[async_trait::async_trait]
impl DelegateTarget for GenericApiServer {
    async fn try_serve(&self, req: Request<Body>) -> Result<Response<Body>, Request<Body>> {
        let info = request_info(&req);
        if !info.is_resource_request || !self.owns(&info.api_group, &info.api_version) {
            return Err(req);
        }
        let Some(store) = self
            .registry
            .lookup(&info.api_group, &info.api_version, &info.resource)
        else {
            return Ok(not_found());
        };
        let ctx = RequestContext {
            user: user(&req),
            ..Default::default()
        };
        Ok(resource::serve(store, &info, ctx, req, &self.endpoint_cfg).await)
    }
}

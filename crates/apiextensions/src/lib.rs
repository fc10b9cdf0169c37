//! The apiextensions server (CustomResourceDefinitions): the delegate of the kube API
//! server. Custom resources are served by the same generic Store and endpoints as built-in
//! kinds, installed at run time into its [`GenericApiServer`].

use std::sync::Arc;

use apiserver::discovery::ResourceRegistry;
use apiserver::endpoints::resource::EndpointConfig;
use apiserver::server::GenericApiServer;

/// The group this server owns.
pub const GROUP: &str = "apiextensions.k8s.io";

/// Builds the apiextensions server. It serves no resources until CRDs are implemented;
/// requests it does not own fall through to the not-found handler.
pub fn new_server(
    registry: Arc<ResourceRegistry>,
    endpoint_cfg: EndpointConfig,
) -> GenericApiServer {
    GenericApiServer::new("apiextensions-apiserver", registry, endpoint_cfg)
}

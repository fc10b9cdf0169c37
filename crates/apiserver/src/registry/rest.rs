//! REST storage beyond the generic store (upstream's `rest.Storage` family): a subresource
//! may be served by code of its own — `pods/binding` creates a `Binding`, `*/scale` reads
//! and writes a `Scale`, `pods/log` connects to a node. The generic [`Store`] serves the
//! resource itself and the subresources of its own kind (`status`); a [`SubresourceRest`]
//! serves the others, each verb a method whose default says the verb is not served.

use std::sync::Arc;

use apimachinery::errors::ApiError;
use http::{HeaderMap, Method};
use serde_json::Value;

use super::store::{RequestContext, Store};
use crate::body::Body;

/// A request to a connect subresource (`pods/log`, `pods/exec`, `services/proxy`):
/// whatever the client sent, for the subresource to pass on.
pub struct ConnectRequest {
    pub method: Method,
    /// The path after the subresource (`/healthz` of `.../proxy/healthz`), or empty.
    pub path: String,
    /// The raw query string.
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Body,
}

/// What a subresource's create answers: upstream answers most with `201 Created`.
pub struct Created {
    pub code: u16,
    pub body: Value,
}

/// What a write to a subresource makes of its current object (upstream's
/// `rest.UpdatedObjectInfo`): given the subresource's object as it stands, with the
/// `managedFields` it has through the subresource, the new object with its
/// `managedFields`. A PUT gives the body, a PATCH the patched object, an apply the merged
/// configuration, each with its manager recorded.
pub type UpdatedObject<'a> = dyn Fn(&Value) -> Result<Value, ApiError> + Send + Sync + 'a;

/// The REST storage of one subresource, given the store of its resource. PUT, PATCH and
/// apply all reach [`update`](Self::update) with what they make of the current object.
#[async_trait::async_trait]
pub trait SubresourceRest: Send + Sync + 'static {
    /// Whether this is a connect subresource: every declared verb goes to
    /// [`connect`](Self::connect).
    fn connects(&self) -> bool {
        false
    }

    /// GET of the subresource's object (`Scale`).
    async fn get(&self, store: &Store, namespace: &str, name: &str) -> Result<Value, ApiError> {
        let _ = (namespace, name);
        Err(not_served(store, "get"))
    }

    /// POST of an object to the subresource (`Binding`, `Eviction`, `TokenRequest`).
    async fn create(
        &self,
        store: &Store,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        obj: Value,
    ) -> Result<Created, ApiError> {
        let _ = (ctx, namespace, name, obj);
        Err(not_served(store, "create"))
    }

    /// PUT, PATCH or apply of the subresource's object: `updated` makes the new object of
    /// the current one (see [`UpdatedObject`]); answers the object as stored. Conflicts are
    /// the storage's to retry, as the resource's own PATCH retries them.
    async fn update(
        &self,
        store: &Store,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        updated: &UpdatedObject<'_>,
    ) -> Result<Value, ApiError> {
        let _ = (ctx, namespace, name, updated);
        Err(not_served(store, "update"))
    }

    /// A connect request; answers the response to send.
    async fn connect(
        &self,
        store: &Store,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        req: ConnectRequest,
    ) -> Result<http::Response<Body>, ApiError> {
        let _ = (ctx, namespace, name, req);
        Err(not_served(store, "connect"))
    }
}

/// The 405 of a verb a subresource does not serve.
fn not_served(store: &Store, verb: &str) -> ApiError {
    ApiError::method_not_supported(&store.decl.group, &store.decl.plural, verb)
}

/// A shared handle to a subresource's storage.
pub type SubresourceHandler = Arc<dyn SubresourceRest>;

//! The legacy `bindings` resource (`POST /api/v1/namespaces/{ns}/bindings`): a `Binding`
//! named after its pod, served as that pod's `binding` subresource, as upstream's
//! `LegacyBindingREST` serves it. It stores nothing of its own.

use std::sync::Arc;

use apimachinery::errors::ApiError;
use apiserver::registry::{
    meta, DefaultStrategy, Listers, RequestContext, ResourceDecl, Review, Scope, SubresourceRest,
};
use serde_json::Value;

use super::binding::BindingRest;
use crate::types::Typed;

/// Binds the pod a `Binding` names, through the pods' store.
struct LegacyBindings {
    listers: Arc<Listers>,
}

#[async_trait::async_trait]
impl Review for LegacyBindings {
    async fn answer(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        binding: Value,
    ) -> Result<Value, ApiError> {
        let pods = self.listers.store("pods")?;
        let name = meta::name(&binding).to_string();
        let created = BindingRest
            .create(pods, ctx, namespace, &name, binding)
            .await?;
        Ok(created.body)
    }
}

/// The core/v1 `bindings` declaration (create only); pods are found through `listers`.
pub fn decl(listers: &Arc<Listers>) -> ResourceDecl {
    ResourceDecl::new(
        "",
        "v1",
        "Binding",
        "bindings",
        Scope::Namespaced,
        Arc::new(DefaultStrategy),
    )
    .typed()
    .with_review(Arc::new(LegacyBindings {
        listers: listers.clone(),
    }))
}

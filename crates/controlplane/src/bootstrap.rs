//! Bootstrap post-start hooks: the system namespaces and the system priority classes,
//! created when missing, as upstream's bootstrap controller does.

use std::sync::Arc;

use apiserver::auth::UserInfo;
use apiserver::registry::{RequestContext, Store};
use serde_json::json;

use crate::resources::priorityclasses::SYSTEM_CLASSES;

/// Namespaces that exist in every cluster.
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// The context of the server's own writes (`system:apiserver` in `system:masters`).
pub fn system_context() -> RequestContext {
    RequestContext {
        user: UserInfo {
            name: "system:apiserver".to_string(),
            uid: String::new(),
            groups: vec!["system:masters".to_string()],
            extra: Default::default(),
        },
        dry_run: false,
        ..Default::default()
    }
}

/// Creates `obj` unless an object of that name exists already.
async fn ensure(store: &Store, obj: serde_json::Value) -> Result<(), String> {
    match store.create(&system_context(), "", obj).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == 409 => Ok(()),
        Err(e) => Err(e.message.clone()),
    }
}

/// Creates the system namespaces (together: the writes share one commit).
pub async fn ensure_system_namespaces(namespaces: Arc<Store>) -> Result<(), String> {
    let creates = SYSTEM_NAMESPACES.iter().map(|name| {
        ensure(
            &namespaces,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        )
    });
    futures::future::try_join_all(creates).await.map(|_| ())
}

/// Creates the system priority classes.
pub async fn ensure_system_priority_classes(classes: Arc<Store>) -> Result<(), String> {
    let creates = SYSTEM_CLASSES.iter().map(|(name, value, description)| {
        ensure(
            &classes,
            json!({
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": {"name": name},
                "value": value,
                "description": description,
            }),
        )
    });
    futures::future::try_join_all(creates).await.map(|_| ())
}

/// Creates the ServiceCIDR `kubernetes` from the service range flags (upstream's default
/// ServiceCIDR controller), unless it exists.
pub async fn ensure_default_service_cidr(
    cidrs: &Store,
    allocators: &crate::resources::services::ServiceAllocators,
) -> Result<(), String> {
    let ranges: Vec<String> = allocators.ips.iter().map(|a| a.cidr.to_string()).collect();
    ensure(
        cidrs,
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "ServiceCIDR",
            "metadata": {"name": crate::resources::servicecidrs::DEFAULT_SERVICE_CIDR},
            "spec": {"cidrs": ranges},
        }),
    )
    .await
}

//! What upstream's kube-controller-manager gives every namespace, done by this server
//! because it runs without one (a deliberate difference; see docs/architecture.md): the
//! `default` ServiceAccount (its serviceaccount controller), without which the
//! ServiceAccount admission plugin refuses every pod, and the `kube-root-ca.crt` ConfigMap
//! with the cluster's CA bundle (its root-ca-cert-publisher), which pods' token volumes
//! project. Both are created when missing, for new namespaces at once and for every
//! namespace on a periodic resync (which also brings back deleted ones).

use std::sync::Arc;
use std::time::Duration;

use apiserver::registry::{ListParams, Store};
use futures::StreamExt;
use serde_json::{json, Value};
use storage::{EventType, WatchItem};

use super::{DEFAULT_SERVICE_ACCOUNT, ROOT_CA_CONFIGMAP};
use crate::bootstrap::system_context;

/// How often every namespace is checked again.
const RESYNC: Duration = Duration::from_secs(30);

/// The controller's stores and the CA bundle it publishes.
pub struct NamespaceDefaults {
    pub namespaces: Arc<Store>,
    pub service_accounts: Arc<Store>,
    /// The ConfigMaps store and the PEM CA bundle, when there is a bundle to publish.
    pub root_ca: Option<(Arc<Store>, String)>,
}

impl NamespaceDefaults {
    /// Runs until the process ends: a resync of every namespace, then each namespace as it
    /// is created, and a resync again every [`RESYNC`] or after a broken watch.
    pub async fn run(self) {
        loop {
            let revision = match self.resync().await {
                Ok(rev) => rev,
                Err(e) => {
                    tracing::warn!("namespace defaults: listing namespaces: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let watch = self
                .namespaces
                .storage()
                .watch(self.namespaces.key_root(), revision, false)
                .await;
            let Ok(mut watch) = watch else {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            };
            let deadline = tokio::time::sleep(RESYNC);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    _ = &mut deadline => break,
                    item = watch.next() => match item {
                        Some(Ok(WatchItem::Event(ev))) if ev.event_type == EventType::Created => {
                            if let Ok(ns) = self.namespaces.decode(&ev.kv.value, ev.kv.mod_revision) {
                                self.ensure(&ns).await;
                            }
                        }
                        Some(Ok(_)) => {}
                        Some(Err(_)) | None => break,
                    },
                }
            }
        }
    }

    /// Ensures the defaults of every namespace; returns the revision of the list.
    async fn resync(&self) -> Result<i64, String> {
        let out = self
            .namespaces
            .list("", &ListParams::default())
            .await
            .map_err(|e| e.message)?;
        for item in &out.items {
            if let Ok(ns) = serde_json::from_slice::<Value>(item) {
                self.ensure(&ns).await;
            }
        }
        Ok(out.revision)
    }

    /// Creates what a namespace lacks (nothing in a terminating namespace).
    async fn ensure(&self, ns: &Value) {
        if ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating") {
            return;
        }
        let Some(name) = ns.pointer("/metadata/name").and_then(Value::as_str) else {
            return;
        };
        let account = json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": DEFAULT_SERVICE_ACCOUNT, "namespace": name},
        });
        create_missing(
            &self.service_accounts,
            name,
            DEFAULT_SERVICE_ACCOUNT,
            account,
        )
        .await;
        if let Some((configmaps, pem)) = &self.root_ca {
            let map = json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": ROOT_CA_CONFIGMAP, "namespace": name},
                "data": {"ca.crt": pem},
            });
            create_missing(configmaps, name, ROOT_CA_CONFIGMAP, map).await;
        }
    }
}

/// Creates `obj` in `namespace` unless the cache (then storage) has it; a conflict or a
/// namespace that began terminating meanwhile is not an error.
async fn create_missing(store: &Store, namespace: &str, name: &str, obj: Value) {
    if store.get_cached(namespace, name).await.is_ok() {
        return;
    }
    match store.create(&system_context(), namespace, obj).await {
        Ok(_) => {}
        Err(e) if e.code == 409 || e.code == 403 || e.code == 404 => {}
        Err(e) => tracing::warn!(
            "namespace defaults: creating {}/{namespace}/{name}: {}",
            store.decl.plural,
            e.message
        ),
    }
}

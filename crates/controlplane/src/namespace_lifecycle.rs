//! The NamespaceLifecycle admission plugin: no new content in a missing or terminating
//! namespace, and the system namespaces cannot be deleted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apimachinery::errors::{ApiError, StatusCause};
use apiserver::admission::{AdmissionPlugin, Attributes, Operation};
use apiserver::registry::Listers;
use serde_json::Value;

/// Namespaces that may never be deleted.
pub const IMMORTAL_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// How long after admitting a namespace's deletion the plugin reads that namespace from
/// storage rather than the cache, which may not show the deletion yet (upstream's
/// `forceLiveLookupTTL`).
const LIVE_LOOKUP_TTL: Duration = Duration::from_secs(30);

/// The plugin. It reads namespaces through the shared listers.
pub struct NamespaceLifecycle {
    listers: Arc<Listers>,
    /// Namespaces whose deletion this server admitted lately, with when.
    recently_deleted: Mutex<HashMap<String, Instant>>,
}

impl NamespaceLifecycle {
    pub fn new(listers: Arc<Listers>) -> NamespaceLifecycle {
        NamespaceLifecycle {
            listers,
            recently_deleted: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the namespace's deletion was admitted less than the TTL ago.
    fn needs_live_lookup(&self, namespace: &str) -> bool {
        let mut recent = self
            .recently_deleted
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        recent.retain(|_, at| at.elapsed() < LIVE_LOOKUP_TTL);
        recent.contains_key(namespace)
    }
}

#[async_trait::async_trait]
impl AdmissionPlugin for NamespaceLifecycle {
    fn name(&self) -> &'static str {
        "NamespaceLifecycle"
    }

    async fn admit(
        &self,
        attrs: &Attributes<'_>,
        _obj: Option<&mut Value>,
    ) -> Result<(), ApiError> {
        let decl = attrs.resource;
        if decl.group.is_empty() && decl.plural == "namespaces" {
            if attrs.operation == Operation::Delete {
                if IMMORTAL_NAMESPACES.contains(&attrs.name) {
                    return Err(ApiError::forbidden(
                        "",
                        "namespaces",
                        attrs.name,
                        "this namespace may not be deleted",
                    ));
                }
                self.recently_deleted
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(attrs.name.to_string(), Instant::now());
            }
            return Ok(());
        }
        if !decl.namespaced() || attrs.operation != Operation::Create {
            return Ok(());
        }
        let ns = if self.needs_live_lookup(attrs.namespace) {
            self.listers
                .store("namespaces")?
                .get("", attrs.namespace)
                .await?
        } else {
            self.listers.get("namespaces", "", attrs.namespace).await?
        };
        let terminating =
            ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating");
        if terminating {
            let mut err = ApiError::forbidden(
                &decl.group,
                &decl.plural,
                attrs.name,
                &format!(
                    "unable to create new content in namespace {} because it is being terminated",
                    attrs.namespace
                ),
            );
            if let Some(details) = err.details.as_mut() {
                details.causes.push(StatusCause {
                    reason: "NamespaceTerminating".to_string(),
                    message: format!("namespace {} is being terminated", attrs.namespace),
                    field: "metadata.namespace".to_string(),
                });
            }
            return Err(err);
        }
        Ok(())
    }
}

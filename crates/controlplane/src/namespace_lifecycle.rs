//! The NamespaceLifecycle admission plugin: no new content in a missing or terminating
//! namespace, and the system namespaces cannot be deleted.

use std::sync::{Arc, OnceLock};

use apimachinery::errors::{ApiError, StatusCause};
use apiserver::admission::{AdmissionPlugin, Attributes, Operation};
use apiserver::registry::Store;
use serde_json::Value;

/// Namespaces that may never be deleted.
pub const IMMORTAL_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// The plugin; `namespaces` is set once the namespace store exists.
#[derive(Default)]
pub struct NamespaceLifecycle {
    pub namespaces: OnceLock<Arc<Store>>,
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
            if attrs.operation == Operation::Delete && IMMORTAL_NAMESPACES.contains(&attrs.name) {
                return Err(ApiError::forbidden(
                    "",
                    "namespaces",
                    attrs.name,
                    "this namespace may not be deleted",
                ));
            }
            return Ok(());
        }
        if !decl.namespaced() || attrs.operation != Operation::Create {
            return Ok(());
        }
        let Some(namespaces) = self.namespaces.get() else {
            return Err(ApiError::internal("namespace lifecycle is not initialised"));
        };
        let ns = namespaces.get_cached("", attrs.namespace).await?;
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

//! `namespaces` (core/v1, cluster-scoped).

use std::sync::Arc;

use crate::types::Typed;
use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy, Subresource};
use serde_json::{json, Value};

/// The finalizer the namespace controller removes once the namespace is empty.
pub const KUBERNETES_FINALIZER: &str = "kubernetes";
/// The label every namespace carries with its own name.
pub const NAME_LABEL: &str = "kubernetes.io/metadata.name";
const PHASE_ACTIVE: &str = "Active";
const PHASE_TERMINATING: &str = "Terminating";

pub struct NamespaceStrategy;

fn set_name_label(obj: &mut Value) {
    let name = meta::name(obj).to_string();
    if name.is_empty() {
        return;
    }
    let m = meta::meta_mut(obj);
    let labels = m.entry("labels").or_insert_with(|| json!({}));
    if !labels.is_object() {
        *labels = json!({});
    }
    labels[NAME_LABEL] = json!(name);
}

fn spec_finalizers(obj: &Value) -> Vec<Value> {
    obj.pointer("/spec/finalizers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

impl Strategy for NamespaceStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        obj["status"] = json!({"phase": "Active"});
        let mut finalizers = spec_finalizers(obj);
        if !finalizers.iter().any(|f| f == KUBERNETES_FINALIZER) {
            finalizers.push(json!(KUBERNETES_FINALIZER));
        }
        obj["spec"] = json!({"finalizers": finalizers});
        set_name_label(obj);
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        new["spec"] = old.get("spec").cloned().unwrap_or_else(|| json!({}));
        new["status"] = old.get("status").cloned().unwrap_or_else(|| json!({}));
        set_name_label(new);
    }

    fn validate_name(&self, name: &str, prefix: bool) -> Vec<String> {
        validation::name_is_dns_label(name, prefix)
    }

    fn subresource_update(&self, subresource: &str, new: &Value, old: &Value) -> Option<Value> {
        match subresource {
            "finalize" => {
                let mut merged = old.clone();
                merged["spec"] = json!({"finalizers": spec_finalizers(new)});
                Some(merged)
            }
            "status" => {
                let mut merged = old.clone();
                merged["status"] = new.get("status").cloned().unwrap_or_else(|| json!({}));
                // Upstream's defaulting: a status without a phase is `Active`.
                if merged["status"].is_object()
                    && merged
                        .pointer("/status/phase")
                        .is_none_or(|p| p.is_null() || p == "")
                {
                    merged["status"]["phase"] = json!(PHASE_ACTIVE);
                }
                Some(merged)
            }
            _ => None,
        }
    }

    /// Upstream's `ValidateNamespaceStatusUpdate`: the phase is `Active` until deletion
    /// begins and `Terminating` after (its field path is `status.Phase`, as upstream's).
    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        _old: &Value,
    ) -> Vec<FieldError> {
        if subresource != "status" {
            return Vec::new();
        }
        let phase = new.pointer("/status/phase").cloned().unwrap_or(json!(""));
        let (want, detail) = if meta::deletion_started(new) {
            (
                PHASE_TERMINATING,
                "may only be 'Terminating' if `deletionTimestamp` is not empty",
            )
        } else {
            (
                PHASE_ACTIVE,
                "may only be 'Active' if `deletionTimestamp` is empty",
            )
        };
        if phase == want {
            return Vec::new();
        }
        vec![FieldError::invalid(
            &FieldPath::new("status").child("Phase"),
            phase,
            detail,
        )]
    }

    fn pending_finalization(&self, obj: &Value) -> bool {
        !spec_finalizers(obj).is_empty()
    }

    fn on_deletion_started(&self, obj: &mut Value) {
        obj["status"]["phase"] = json!("Terminating");
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("Status", "string", "The status of the namespace"),
            ColumnDef::AGE,
        ]
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        vec![
            Cell::Value(json!(obj
                .pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or(""))),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
    }

    fn selectable_fields(&self) -> &[&'static str] {
        &["status.phase"]
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "",
        "v1",
        "Namespace",
        "namespaces",
        Scope::Cluster,
        Arc::new(NamespaceStrategy),
    )
    .typed()
    .with_short_names(&["ns"])
    .with_verbs(&[
        "create", "delete", "get", "list", "patch", "update", "watch",
    ])
    .with_subresource(Subresource::new("finalize", &["update"]))
    .with_subresources(&["status"])
}

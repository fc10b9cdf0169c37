//! `priorityclasses` (scheduling.k8s.io/v1, cluster-scoped).

use std::sync::Arc;

use crate::types::Typed;
use apimachinery::errors::{FieldError, FieldPath};
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

/// Highest value a user-defined priority class may have.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i64 = 1_000_000_000;
/// Prefix reserved for the system's priority classes.
pub const SYSTEM_PREFIX: &str = "system-";
const PREEMPTION_POLICIES: [&str; 2] = ["Never", "PreemptLowerPriority"];

/// The classes created at start-up: (name, value, description).
pub const SYSTEM_CLASSES: [(&str, i64, &str); 2] = [
    (
        "system-node-critical",
        2_000_001_000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
    (
        "system-cluster-critical",
        2_000_000_000,
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ),
];

pub struct PriorityClassStrategy;

impl Strategy for PriorityClassStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        if obj.get("preemptionPolicy").is_none_or(Value::is_null) {
            obj["preemptionPolicy"] = json!("PreemptLowerPriority");
        }
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        if new.get("preemptionPolicy").is_none_or(Value::is_null) {
            new["preemptionPolicy"] = old.get("preemptionPolicy").cloned().unwrap_or(Value::Null);
        }
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let name = meta::name(obj);
        match obj.get("value") {
            None | Some(Value::Null) => {
                errs.push(FieldError::required(&FieldPath::new("value"), ""))
            }
            Some(v) => match v.as_i64() {
                Some(n) if i32::try_from(n).is_err() => errs.push(FieldError::invalid(
                    &FieldPath::new("value"),
                    v.clone(),
                    "must be a 32-bit integer",
                )),
                Some(n) => {
                    let system = SYSTEM_CLASSES
                        .iter()
                        .any(|(s, value, _)| *s == name && *value == n);
                    if name.starts_with(SYSTEM_PREFIX) && !system {
                        errs.push(FieldError::forbidden(
                            &FieldPath::new("metadata").child("name"),
                            &format!("priority class names with '{SYSTEM_PREFIX}' prefix are reserved for system use only"),
                        ));
                    } else if !system && n > HIGHEST_USER_DEFINABLE_PRIORITY {
                        errs.push(FieldError::forbidden(
                            &FieldPath::new("value"),
                            &format!("maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"),
                        ));
                    }
                }
                None => errs.push(FieldError::invalid(
                    &FieldPath::new("value"),
                    v.clone(),
                    "must be an integer",
                )),
            },
        }
        if let Some(p) = obj.get("preemptionPolicy").and_then(Value::as_str) {
            if !PREEMPTION_POLICIES.contains(&p) {
                errs.push(FieldError::not_supported(
                    &FieldPath::new("preemptionPolicy"),
                    json!(p),
                    &PREEMPTION_POLICIES,
                ));
            }
        }
        errs
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = self.validate(new);
        for field in ["value", "preemptionPolicy"] {
            if new.get(field) != old.get(field) {
                errs.push(FieldError::invalid(
                    &FieldPath::new(field),
                    new.get(field).cloned().unwrap_or(Value::Null),
                    "field is immutable",
                ));
            }
        }
        errs
    }

    fn forbid_delete(&self, name: &str) -> Option<String> {
        SYSTEM_CLASSES
            .iter()
            .any(|(system, _, _)| *system == name)
            .then(|| "this is a system priority class and cannot be deleted".to_string())
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("Value", "integer", "value represents the integer value of this priority class."),
            ColumnDef::new("Global-Default", "boolean", "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class."),
            ColumnDef::AGE,
            ColumnDef::new("PreemptionPolicy", "string", "preemptionPolicy is the Policy for preempting pods with lower priority."),
        ]
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        vec![
            Cell::Value(obj.get("value").cloned().unwrap_or(json!(0))),
            Cell::Value(json!(obj
                .get("globalDefault")
                .and_then(Value::as_bool)
                .unwrap_or(false))),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
            Cell::Value(obj.get("preemptionPolicy").cloned().unwrap_or(json!(""))),
        ]
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        "priorityclasses",
        Scope::Cluster,
        Arc::new(PriorityClassStrategy),
    )
    .typed()
    .with_short_names(&["pc"])
}

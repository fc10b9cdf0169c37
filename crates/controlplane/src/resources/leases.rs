//! `leases` (coordination.k8s.io/v1): the locks of leader election and node heartbeats.

use std::sync::Arc;

use crate::types::Typed;
use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

/// The strategies Kubernetes itself defines (names without a `/`).
const KNOWN_STRATEGIES: [&str; 1] = ["OldestEmulationVersion"];

/// Upstream's lease strategy. `coordinated_leader_election` is the feature gate of that
/// name (off by default in v1.36): without it `spec.strategy` and `spec.preferredHolder`
/// are dropped on create, and on update unless the stored lease already had them.
pub struct LeaseStrategy {
    pub coordinated_leader_election: bool,
}

fn spec_field<'a>(obj: &'a Value, field: &str) -> Option<&'a Value> {
    obj.get("spec")
        .and_then(|s| s.get(field))
        .filter(|v| !v.is_null())
}

fn drop_spec_field(obj: &mut Value, field: &str) {
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove(field);
    }
}

/// `ValidateCoordinatedLeaseStrategy`: a Kubernetes-defined name, or a qualified name with
/// a prefix. As upstream, errors name `<path>.strategy` under the path given.
fn validate_strategy(strategy: &str, path: &FieldPath, errs: &mut Vec<FieldError>) {
    let path = path.child("strategy");
    if !strategy.contains('/') {
        if !KNOWN_STRATEGIES.contains(&strategy) {
            errs.push(FieldError::not_supported(
                &path,
                json!(strategy),
                &KNOWN_STRATEGIES,
            ));
        }
        return;
    }
    for msg in validation::is_qualified_name(strategy) {
        errs.push(FieldError::invalid(&path, json!(strategy), &msg));
    }
}

/// Upstream's `ValidateLeaseSpec`.
fn validate_spec(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = FieldPath::new("spec");
    if let Some(v) = spec_field(obj, "leaseDurationSeconds") {
        if v.as_i64().is_some_and(|n| n <= 0) {
            errs.push(FieldError::invalid(
                &spec.child("leaseDurationSeconds"),
                v.clone(),
                "must be greater than 0",
            ));
        }
    }
    if let Some(v) = spec_field(obj, "leaseTransitions") {
        if v.as_i64().is_some_and(|n| n < 0) {
            errs.push(FieldError::invalid(
                &spec.child("leaseTransitions"),
                v.clone(),
                validation::IS_NEGATIVE_ERROR_MSG,
            ));
        }
    }
    let strategy = spec_field(obj, "strategy").and_then(Value::as_str);
    if let Some(s) = strategy {
        validate_strategy(s, &spec.child("strategy"), &mut errs);
    }
    let preferred = spec_field(obj, "preferredHolder")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !preferred.is_empty() && strategy.unwrap_or("").is_empty() {
        errs.push(FieldError::forbidden(
            &spec.child("preferredHolder"),
            "may only be specified if `strategy` is defined",
        ));
    }
    errs
}

impl Strategy for LeaseStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        if !self.coordinated_leader_election {
            drop_spec_field(obj, "strategy");
            drop_spec_field(obj, "preferredHolder");
        }
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        if !self.coordinated_leader_election {
            for field in ["strategy", "preferredHolder"] {
                if spec_field(old, field).is_none() {
                    drop_spec_field(new, field);
                }
            }
        }
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_spec(obj)
    }

    fn allow_create_on_update(&self) -> bool {
        true
    }

    fn allow_unconditional_update(&self) -> bool {
        false
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new(
                "Holder",
                "string",
                "The identity of the current holder of the lease.",
            ),
            ColumnDef::AGE,
        ]
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let holder = spec_field(obj, "holderIdentity")
            .and_then(Value::as_str)
            .unwrap_or("");
        vec![
            Cell::Value(json!(holder)),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
    }
}

/// The declaration; `coordinated_leader_election` is the feature gate's state.
pub fn decl(coordinated_leader_election: bool) -> ResourceDecl {
    ResourceDecl::new(
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        Scope::Namespaced,
        Arc::new(LeaseStrategy {
            coordinated_leader_election,
        }),
    )
    .typed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(spec: Value) -> Value {
        json!({"metadata": {"name": "l", "namespace": "default"}, "spec": spec})
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter()
            .map(|e| format!("{}: {}", e.field, e.error_body()))
            .collect()
    }

    #[test]
    fn durations_and_transitions_are_bounded() {
        assert!(validate_spec(&lease(json!({"leaseDurationSeconds": 1}))).is_empty());
        assert!(validate_spec(&lease(json!({"leaseTransitions": 0}))).is_empty());
        let errs = validate_spec(&lease(
            json!({"leaseDurationSeconds": 0, "leaseTransitions": -1}),
        ));
        assert_eq!(
            messages(&errs),
            [
                "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
                "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
            ]
        );
    }

    #[test]
    fn strategy_and_preferred_holder() {
        assert!(validate_spec(&lease(json!({"strategy": "OldestEmulationVersion"}))).is_empty());
        assert!(validate_spec(&lease(json!({"strategy": "example.com/mine"}))).is_empty());
        let errs = validate_spec(&lease(json!({"strategy": "Newest"})));
        assert_eq!(errs[0].field, "spec.strategy.strategy");
        assert_eq!(
            errs[0].detail,
            "supported values: \"OldestEmulationVersion\""
        );
        let errs = validate_spec(&lease(json!({"strategy": "a/b/c"})));
        assert!(!errs.is_empty());
        assert!(errs.iter().all(|e| e.field == "spec.strategy.strategy"));
        let errs = validate_spec(&lease(json!({"preferredHolder": "me"})));
        assert_eq!(
            messages(&errs),
            ["spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined"]
        );
    }

    #[test]
    fn gated_fields_are_dropped_without_the_gate() {
        let off = LeaseStrategy {
            coordinated_leader_election: false,
        };
        let mut l = lease(
            json!({"holderIdentity": "a", "strategy": "OldestEmulationVersion", "preferredHolder": "b"}),
        );
        off.prepare_for_create(&mut l);
        assert_eq!(l["spec"], json!({"holderIdentity": "a"}));
        // An update keeps what the stored lease already had.
        let old = lease(json!({"strategy": "OldestEmulationVersion"}));
        let mut new = lease(json!({"strategy": "OldestEmulationVersion", "preferredHolder": "b"}));
        off.prepare_for_update(&mut new, &old);
        assert_eq!(new["spec"], json!({"strategy": "OldestEmulationVersion"}));
        let on = LeaseStrategy {
            coordinated_leader_election: true,
        };
        let mut l = lease(json!({"strategy": "OldestEmulationVersion", "preferredHolder": "b"}));
        on.prepare_for_create(&mut l);
        assert_eq!(l["spec"]["preferredHolder"], "b");
    }

    #[test]
    fn table_shows_the_holder() {
        let s = LeaseStrategy {
            coordinated_leader_election: false,
        };
        assert_eq!(
            s.table_columns().len(),
            s.table_cells(&lease(json!({}))).len()
        );
        assert_eq!(
            s.table_cells(&lease(json!({"holderIdentity": "node-1"})))[0],
            Cell::Value(json!("node-1"))
        );
        assert_eq!(
            s.table_cells(&json!({"metadata": {"name": "l"}}))[0],
            Cell::Value(json!(""))
        );
    }
}

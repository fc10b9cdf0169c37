//! `replicasets` (apps/v1, `rs`): a set number of identical pods, with upstream's defaults,
//! validation (`ValidateReplicaSet*`), status split, the `status.replicas` field selector and
//! columns.

use std::sync::Arc;

use apimachinery::errors::{ApiError, FieldError, FieldPath};
use apiserver::registry::{meta, Cell, ColumnDef, DefaultStrategy, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::common::{self, int_of, object_at, spec, status};
use super::{scale, template};
use crate::types::Typed;

pub struct ReplicaSetStrategy;

/// `SetDefaults_ReplicaSet`.
pub fn default_replica_set(obj: &mut Value) {
    let spec = object_at(obj, "spec");
    common::default_field(spec, "replicas", json!(1));
    if let Some(t) = spec.get_mut("template") {
        template::default_template(t);
    }
}

/// The status a new replica set starts with (`replicas` is written even when zero).
fn empty_status() -> Value {
    json!({"replicas": 0})
}

/// `ValidateReplicaSetSpec` (which words an empty selector as upstream does, "deployment").
fn validate_spec(obj: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let spec = spec(obj);
    let mut errs = common::nonnegatives(spec, &["replicas", "minReadySeconds"], &path);
    errs.extend(common::validate_required_selector(
        spec,
        "deployment",
        "invalid label selector",
        &path,
    ));
    let template = spec.get("template").unwrap_or(&Value::Null);
    let template_path = path.child("template");
    errs.extend(template::validate_template(template, &template_path));
    errs.extend(common::validate_always_restart(
        template,
        "ReplicaSet",
        &template_path,
    ));
    errs
}

/// `ValidateReplicaSetStatus`.
fn validate_status(obj: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("status");
    let status = status(obj);
    let mut errs = common::nonnegatives(
        status,
        &[
            "replicas",
            "fullyLabeledReplicas",
            "readyReplicas",
            "availableReplicas",
            "terminatingReplicas",
            "observedGeneration",
        ],
        &path,
    );
    errs.extend(common::replica_counts(
        status,
        &["fullyLabeledReplicas", "readyReplicas", "availableReplicas"],
        Some("cannot be greater than readyReplicas"),
        &path,
    ));
    errs
}

impl Strategy for ReplicaSetStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        default_replica_set(obj);
        common::reset_status(obj, empty_status());
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        default_replica_set(new);
        common::reset_status(new, common::old_status(old, empty_status()));
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_spec(obj)
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = validate_spec(new);
        errs.extend(common::immutable(
            spec(new).get("selector"),
            spec(old).get("selector"),
            &FieldPath::new("spec").child("selector"),
        ));
        errs
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn generation_changed(&self, new: &Value, old: &Value) -> bool {
        spec(new) != spec(old)
    }

    fn subresource_update(&self, subresource: &str, new: &Value, old: &Value) -> Option<Value> {
        (subresource == "status").then(|| common::status_update(new, old, false))
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        _old: &Value,
    ) -> Vec<FieldError> {
        if subresource != "status" {
            return Vec::new();
        }
        validate_status(new)
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("Desired", "integer", "The number of pods asked for."),
            ColumnDef::new("Current", "integer", "The number of pods that exist."),
            ColumnDef::new("Ready", "integer", "The number of ready pods."),
            ColumnDef::AGE,
        ]
        .into_iter()
        .chain(common::template_columns(Some(
            "The label query over pods the replica set manages.",
        )))
        .collect()
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let (spec, status) = (spec(obj), status(obj));
        let template = spec.get("template").unwrap_or(&Value::Null);
        vec![
            Cell::Value(json!(int_of(spec, "replicas"))),
            Cell::Value(json!(int_of(status, "replicas"))),
            Cell::Value(json!(int_of(status, "readyReplicas"))),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
        .into_iter()
        .chain(common::template_cells(
            template,
            Some(common::selector_cell(spec.get("selector"))),
        ))
        .collect()
    }

    fn selectable_fields(&self) -> &[&'static str] {
        &["status.replicas"]
    }

    fn field_value(&self, obj: &Value, field: &str) -> Option<String> {
        match field {
            "status.replicas" => Some(int_of(status(obj), "replicas").to_string()),
            other => DefaultStrategy.field_value(obj, other),
        }
    }
}

/// The autoscaling/v1 `Scale` of a replica set.
pub fn scale_of(obj: &Value) -> Value {
    scale::scale_of(obj)
}

/// Writes a `Scale` into a replica set (upstream's scale validation first).
pub fn apply_scale(obj: &mut Value, scale: &Value) -> Result<(), ApiError> {
    scale::apply_scale(obj, scale)
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        Scope::Namespaced,
        Arc::new(ReplicaSetStrategy),
    )
    .typed()
    .with_short_names(&["rs"])
    .with_categories(&["all"])
    .with_subresources(&["status"])
    .with_subresource(scale::subresource())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(spec: Value) -> Value {
        json!({"metadata": {"name": "web-1", "namespace": "default"}, "spec": spec})
    }

    fn valid() -> Value {
        let mut r = rs(json!({
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
        }));
        ReplicaSetStrategy.prepare_for_create(&mut r);
        r
    }

    #[test]
    fn defaults_and_empty_status() {
        let r = valid();
        assert_eq!(r["spec"]["replicas"], 1);
        assert_eq!(r["status"], json!({"replicas": 0}));
        assert!(validate_spec(&r).is_empty());
    }

    #[test]
    fn empty_selector_is_worded_as_upstream() {
        let mut r = valid();
        r["spec"]["selector"] = json!({});
        let errs = validate_spec(&r);
        assert_eq!(errs[0].field, "spec.selector");
        assert_eq!(errs[0].detail, "empty selector is invalid for deployment");
    }

    #[test]
    fn status_counts_and_field_selector() {
        let s = ReplicaSetStrategy;
        let old = valid();
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(4);
        new["status"] = json!({"replicas": 2, "readyReplicas": 2, "availableReplicas": 3});
        let merged = s.subresource_update("status", &new, &old).expect("status");
        assert_eq!(merged["spec"]["replicas"], 1);
        let errs = s.validate_subresource_update("status", &merged, &old);
        let fields: Vec<_> = errs.iter().map(|e| e.detail.as_str()).collect();
        assert_eq!(
            fields,
            [
                "cannot be greater than status.replicas",
                "cannot be greater than readyReplicas"
            ]
        );
        assert_eq!(
            s.field_value(&merged, "status.replicas").as_deref(),
            Some("2")
        );
        assert_eq!(s.field_value(&old, "status.replicas").as_deref(), Some("0"));
    }

    #[test]
    fn table_cells_match_columns() {
        let s = ReplicaSetStrategy;
        let r = valid();
        let cells = s.table_cells(&r);
        assert_eq!(cells.len(), s.table_columns().len());
        assert_eq!(cells[0], Cell::Value(json!(1)));
        assert_eq!(cells[1], Cell::Value(json!(0)));
    }
}

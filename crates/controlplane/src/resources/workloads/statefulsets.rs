//! `statefulsets` (apps/v1, `sts`): pods with stable identities, with upstream's defaults
//! (`SetDefaults_StatefulSet`), validation (`ValidateStatefulSet*`: DNS-label names, a spec
//! of which only some fields may change), status split and columns.

use std::sync::Arc;

use apimachinery::errors::{ApiError, FieldError, FieldPath};
use apimachinery::validation;
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::common::{self, int_of, object_at, present, spec, status};
use super::{scale, template};
use crate::types::Typed;

/// The fields of a StatefulSet's spec an update may change.
const MUTABLE_FIELDS: [&str; 6] = [
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];
const RETENTION_POLICIES: [&str; 2] = ["Retain", "Delete"];

pub struct StatefulSetStrategy;

/// `SetDefaults_StatefulSet` (with the PVC retention policy of the GA
/// `StatefulSetAutoDeletePVC`).
pub fn default_stateful_set(obj: &mut Value) {
    let spec = object_at(obj, "spec");
    if spec
        .get("podManagementPolicy")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        spec.insert("podManagementPolicy".to_string(), json!("OrderedReady"));
    }
    let strategy = spec.entry("updateStrategy").or_insert_with(|| json!({}));
    if !strategy.is_object() {
        *strategy = json!({});
    }
    if let Some(s) = strategy.as_object_mut() {
        if s.get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            s.insert("type".to_string(), json!("RollingUpdate"));
            common::default_field(s, "rollingUpdate", json!({}));
        }
        if s.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            if let Some(ru) = s.get_mut("rollingUpdate").and_then(Value::as_object_mut) {
                common::default_field(ru, "partition", json!(0));
            }
        }
    }
    let policy = spec
        .entry("persistentVolumeClaimRetentionPolicy")
        .or_insert_with(|| json!({}));
    if !policy.is_object() {
        *policy = json!({});
    }
    if let Some(p) = policy.as_object_mut() {
        for field in ["whenDeleted", "whenScaled"] {
            if p.get(field)
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
            {
                p.insert(field.to_string(), json!("Retain"));
            }
        }
    }
    common::default_field(spec, "replicas", json!(1));
    common::default_field(spec, "revisionHistoryLimit", json!(10));
    if let Some(t) = spec.get_mut("template") {
        template::default_template(t);
    }
}

/// The status a new stateful set starts with (both counters are written even when zero).
fn empty_status() -> Value {
    json!({"replicas": 0, "availableReplicas": 0})
}

/// `validateRollingUpdateStatefulSet`.
fn validate_rolling_update(ru: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = common::nonnegatives(ru, &["partition"], path);
    if let Some(max) = present(ru, "maxUnavailable") {
        let max_path = path.child("maxUnavailable");
        errs.extend(common::positive_int_or_percent(Some(max), &max_path));
        if common::int_or_percent_value(Some(max)) == 0 {
            errs.push(FieldError::invalid(&max_path, max.clone(), "cannot be 0"));
        }
        errs.extend(common::not_more_than_100_percent(Some(max), &max_path));
    }
    errs
}

/// `ValidateStatefulSetSpec`.
fn validate_spec(obj: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let spec = spec(obj);
    let mut errs = Vec::new();
    match spec
        .get("podManagementPolicy")
        .and_then(Value::as_str)
        .unwrap_or("")
    {
        "" => errs.push(FieldError::required(&path.child("podManagementPolicy"), "")),
        "OrderedReady" | "Parallel" => {}
        other => errs.push(FieldError::invalid(
            &path.child("podManagementPolicy"),
            json!(other),
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    let strategy = spec.get("updateStrategy").unwrap_or(&Value::Null);
    let strategy_path = path.child("updateStrategy");
    let rolling = present(strategy, "rollingUpdate");
    match strategy.get("type").and_then(Value::as_str).unwrap_or("") {
        "" => errs.push(FieldError::required(&strategy_path, "")),
        "OnDelete" => {
            if let Some(ru) = rolling {
                errs.push(FieldError::invalid(
                    &strategy_path.child("rollingUpdate"),
                    ru.clone(),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            if let Some(ru) = rolling {
                errs.extend(validate_rolling_update(
                    ru,
                    &strategy_path.child("rollingUpdate"),
                ));
            }
        }
        _ => errs.push(FieldError::invalid(
            &strategy_path,
            strategy.clone(),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    if let Some(policy) = present(spec, "persistentVolumeClaimRetentionPolicy") {
        let policy_path = path.child("persistentVolumeClaimRetentionPolicy");
        for field in ["whenDeleted", "whenScaled"] {
            let value = policy.get(field).and_then(Value::as_str).unwrap_or("");
            if !RETENTION_POLICIES.contains(&value) {
                errs.push(FieldError::not_supported(
                    &policy_path.child(field),
                    json!(value),
                    &RETENTION_POLICIES,
                ));
            }
        }
    }
    errs.extend(common::nonnegatives(
        spec,
        &["replicas", "minReadySeconds"],
        &path,
    ));
    if let Some(ordinals) = present(spec, "ordinals") {
        errs.extend(common::nonnegatives(
            ordinals,
            &["start"],
            &path.child("ordinals"),
        ));
    }
    errs.extend(common::validate_required_selector(
        spec,
        "statefulset",
        "",
        &path,
    ));
    let template = spec.get("template").unwrap_or(&Value::Null);
    let template_path = path.child("template");
    errs.extend(template::validate_template_metadata(
        template,
        &template_path,
    ));
    errs.extend(common::validate_always_restart(
        template,
        "StatefulSet",
        &template_path,
    ));
    errs
}

/// `ValidateStatefulSetUpdate`'s rule: only some spec fields may change.
fn validate_spec_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let strip = |obj: &Value| {
        let mut s = spec(obj).as_object().cloned().unwrap_or_default();
        for f in MUTABLE_FIELDS {
            s.remove(f);
        }
        s.retain(|_, v| !v.is_null());
        s
    };
    if strip(new) == strip(old) {
        return Vec::new();
    }
    vec![FieldError::forbidden(
        &FieldPath::new("spec"),
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    )]
}

/// `ValidateStatefulSetStatus`.
fn validate_status(obj: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("status");
    let status = status(obj);
    let mut errs = common::nonnegatives(
        status,
        &[
            "replicas",
            "readyReplicas",
            "currentReplicas",
            "updatedReplicas",
            "availableReplicas",
            "observedGeneration",
            "collisionCount",
        ],
        &path,
    );
    errs.extend(common::replica_counts(
        status,
        &[
            "readyReplicas",
            "currentReplicas",
            "updatedReplicas",
            "availableReplicas",
        ],
        Some("cannot be greater than status.readyReplicas"),
        &path,
    ));
    errs
}

impl Strategy for StatefulSetStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        default_stateful_set(obj);
        common::reset_status(obj, empty_status());
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        default_stateful_set(new);
        common::reset_status(new, common::old_status(old, empty_status()));
    }

    /// Pods are named after the set: a DNS label.
    fn validate_name(&self, name: &str, prefix: bool) -> Vec<String> {
        validation::name_is_dns_label(name, prefix)
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_spec(obj)
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = validate_spec(new);
        errs.extend(validate_spec_update(new, old));
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
        old: &Value,
    ) -> Vec<FieldError> {
        if subresource != "status" {
            return Vec::new();
        }
        let mut errs = validate_status(new);
        errs.extend(common::collision_count_not_decremented(new, old));
        errs
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("Ready", "string", "Number of the pod with ready state"),
            ColumnDef::AGE,
        ]
        .into_iter()
        .chain(common::template_columns(None))
        .collect()
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let (spec, status) = (spec(obj), status(obj));
        let template = spec.get("template").unwrap_or(&Value::Null);
        vec![
            Cell::Value(json!(format!(
                "{}/{}",
                int_of(status, "readyReplicas"),
                int_of(spec, "replicas")
            ))),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
        .into_iter()
        .chain(common::template_cells(template, None))
        .collect()
    }
}

/// The autoscaling/v1 `Scale` of a stateful set.
pub fn scale_of(obj: &Value) -> Value {
    scale::scale_of(obj)
}

/// Writes a `Scale` into a stateful set (upstream's scale validation first).
pub fn apply_scale(obj: &mut Value, scale: &Value) -> Result<(), ApiError> {
    scale::apply_scale(obj, scale)
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        Scope::Namespaced,
        Arc::new(StatefulSetStrategy),
    )
    .typed()
    .with_short_names(&["sts"])
    .with_categories(&["all"])
    .with_subresources(&["status"])
    .with_subresource(scale::subresource())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Value {
        let mut s = json!({"metadata": {"name": "db", "namespace": "default"}, "spec": {
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "c", "image": "postgres"}]}}
        }});
        StatefulSetStrategy.prepare_for_create(&mut s);
        s
    }

    #[test]
    fn defaults_as_upstream() {
        let s = valid();
        assert_eq!(s["spec"]["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            s["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(
            s["spec"]["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(s["spec"]["replicas"], 1);
        assert_eq!(s["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(s["status"], empty_status());
        assert!(validate_spec(&s).is_empty(), "{:?}", validate_spec(&s));
        let mut on_delete = valid();
        on_delete["spec"]["updateStrategy"] = json!({"type": "OnDelete"});
        default_stateful_set(&mut on_delete);
        assert_eq!(
            on_delete["spec"]["updateStrategy"],
            json!({"type": "OnDelete"})
        );
    }

    #[test]
    fn spec_rules() {
        let mut s = valid();
        s["spec"]["podManagementPolicy"] = json!("Random");
        s["spec"]["updateStrategy"] =
            json!({"type": "OnDelete", "rollingUpdate": {"partition": 1}});
        s["spec"]["persistentVolumeClaimRetentionPolicy"]["whenScaled"] = json!("Keep");
        s["spec"]["template"]["spec"]["activeDeadlineSeconds"] = json!(5);
        let msgs: Vec<String> = validate_spec(&s).iter().map(|e| e.to_string()).collect();
        assert_eq!(
            msgs,
            [
                "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
                "spec.updateStrategy.rollingUpdate: Invalid value: {\"partition\":1}: only allowed for updateStrategy 'RollingUpdate'",
                "spec.persistentVolumeClaimRetentionPolicy.whenScaled: Unsupported value: \"Keep\": supported values: \"Retain\", \"Delete\"",
                "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported",
            ]
        );
        assert!(!StatefulSetStrategy.validate_name("a.b", false).is_empty());
    }

    #[test]
    fn only_some_fields_change() {
        let old = valid();
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(3);
        new["spec"]["minReadySeconds"] = json!(3);
        assert!(validate_spec_update(&new, &old).is_empty());
        new["spec"]["serviceName"] = json!("other");
        let errs = validate_spec_update(&new, &old);
        assert_eq!(errs[0].field, "spec");
        assert!(errs[0].detail.starts_with("updates to statefulset spec"));
    }

    #[test]
    fn table_cells_match_columns() {
        let s = StatefulSetStrategy;
        let cells = s.table_cells(&valid());
        assert_eq!(cells.len(), s.table_columns().len());
        assert_eq!(cells[0], Cell::Value(json!("0/1")));
    }
}

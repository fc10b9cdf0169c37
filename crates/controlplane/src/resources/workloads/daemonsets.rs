//! `daemonsets` (apps/v1, `ds`): a pod on every eligible node, with upstream's defaults
//! (`SetDefaults_DaemonSet`), validation (`ValidateDaemonSet*`), the template generation kept
//! in the `deprecated.daemonset.template.generation` annotation, status split and columns.

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::common::{self, int_of, object_at, present, spec, status};
use super::template;
use crate::types::Typed;

/// Where apps/v1 keeps the internal `spec.templateGeneration`.
pub const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";
const STRATEGY_TYPES: [&str; 2] = ["RollingUpdate", "OnDelete"];

pub struct DaemonSetStrategy;

/// `SetDefaults_DaemonSet`.
pub fn default_daemon_set(obj: &mut Value) {
    let spec = object_at(obj, "spec");
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
        }
        if s.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            let ru = s.entry("rollingUpdate").or_insert_with(|| json!({}));
            if !ru.is_object() {
                *ru = json!({});
            }
            if let Some(ru) = ru.as_object_mut() {
                common::default_field(ru, "maxUnavailable", json!(1));
                common::default_field(ru, "maxSurge", json!(0));
            }
        }
    }
    common::default_field(spec, "revisionHistoryLimit", json!(10));
    if let Some(t) = spec.get_mut("template") {
        template::default_template(t);
    }
}

/// The status a new daemon set starts with (its four counters are written even when zero).
fn empty_status() -> Value {
    json!({
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    })
}

/// The template generation the annotation holds (0 when absent or not a number).
fn template_generation(obj: &Value) -> i64 {
    meta::meta(obj)
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(TEMPLATE_GENERATION_ANNOTATION))
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn set_template_generation(obj: &mut Value, generation: i64) {
    let mut annotations = meta::meta(obj)
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    annotations.insert(
        TEMPLATE_GENERATION_ANNOTATION.to_string(),
        json!(generation.to_string()),
    );
    meta::set_meta(obj, "annotations", Some(Value::Object(annotations)));
}

/// `ValidateRollingUpdateDaemonSet`.
fn validate_rolling_update(ru: &Value, path: &FieldPath) -> Vec<FieldError> {
    let (unavailable, surge) = (ru.get("maxUnavailable"), ru.get("maxSurge"));
    let (u_path, s_path) = (path.child("maxUnavailable"), path.child("maxSurge"));
    let mut errs = common::positive_int_or_percent(unavailable, &u_path);
    errs.extend(common::positive_int_or_percent(surge, &s_path));
    errs.extend(common::not_more_than_100_percent(unavailable, &u_path));
    errs.extend(common::not_more_than_100_percent(surge, &s_path));
    let has_unavailable = common::int_or_percent_value(unavailable) != 0;
    let has_surge = common::int_or_percent_value(surge) != 0;
    if has_unavailable && has_surge {
        errs.push(FieldError::invalid(
            &s_path,
            surge.cloned().unwrap_or(Value::Null),
            "may not be set when maxUnavailable is non-zero",
        ));
    } else if !has_unavailable && !has_surge {
        errs.push(FieldError::required(
            &u_path,
            "cannot be 0 when maxSurge is 0",
        ));
    }
    errs
}

/// `ValidateDaemonSetSpec`; `check_values` is false on an update of a set whose selector
/// already had invalid label values.
fn validate_spec(obj: &Value, check_values: bool) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let spec = spec(obj);
    let mut errs = Vec::new();
    let selector = present(spec, "selector");
    let template = spec.get("template").unwrap_or(&Value::Null);
    let template_path = path.child("template");
    if let Some(sel) = selector {
        errs.extend(
            crate::resources::poddisruptionbudgets::validate_label_selector(
                sel,
                check_values,
                &path.child("selector"),
            ),
        );
    }
    if let Ok(sel) = apimachinery::selectors::label_selector_from_json(selector) {
        if !sel.matches(&common::template_labels(template)) {
            errs.push(common::selector_mismatch(&template_path, template));
        }
    }
    if let Some(sel) = selector.filter(|s| common::selector_is_empty(s)) {
        errs.push(FieldError::invalid(
            &path.child("selector"),
            sel.clone(),
            "empty selector is invalid for daemonset",
        ));
    }
    errs.extend(template::validate_template(template, &template_path));
    errs.extend(common::validate_always_restart(
        template,
        "DaemonSet",
        &template_path,
    ));
    errs.extend(common::nonnegatives(spec, &["minReadySeconds"], &path));
    let strategy = spec.get("updateStrategy").unwrap_or(&Value::Null);
    let strategy_path = path.child("updateStrategy");
    match strategy.get("type").and_then(Value::as_str).unwrap_or("") {
        "OnDelete" => {}
        "RollingUpdate" => match present(strategy, "rollingUpdate") {
            None => errs.push(FieldError::required(
                &strategy_path.child("rollingUpdate"),
                "",
            )),
            Some(ru) => errs.extend(validate_rolling_update(
                ru,
                &strategy_path.child("rollingUpdate"),
            )),
        },
        _ => errs.push(FieldError::not_supported(
            &strategy_path,
            strategy.clone(),
            &STRATEGY_TYPES,
        )),
    }
    errs.extend(common::nonnegatives(spec, &["revisionHistoryLimit"], &path));
    errs
}

/// Whether a selector has a match expression value that is no valid label value.
fn has_invalid_label_values(obj: &Value) -> bool {
    let Some(sel) = present(spec(obj), "selector") else {
        return false;
    };
    crate::resources::fields::array(sel, "matchExpressions")
        .iter()
        .flat_map(|e| crate::resources::fields::array(e, "values"))
        .any(|v| {
            !apimachinery::validation::is_valid_label_value(v.as_str().unwrap_or("")).is_empty()
        })
}

/// `validateDaemonSetStatus`.
fn validate_status(obj: &Value) -> Vec<FieldError> {
    common::nonnegatives(
        status(obj),
        &[
            "currentNumberScheduled",
            "numberMisscheduled",
            "desiredNumberScheduled",
            "numberReady",
            "observedGeneration",
            "updatedNumberScheduled",
            "numberAvailable",
            "numberUnavailable",
            "collisionCount",
        ],
        &FieldPath::new("status"),
    )
}

impl Strategy for DaemonSetStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        default_daemon_set(obj);
        common::reset_status(obj, empty_status());
        let generation = template_generation(obj).max(1);
        set_template_generation(obj, generation);
    }

    /// The template generation moves on exactly when the template changes.
    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        default_daemon_set(new);
        common::reset_status(new, common::old_status(old, empty_status()));
        let mut generation = template_generation(old);
        if spec(new).get("template") != spec(old).get("template") {
            generation += 1;
        }
        set_template_generation(new, generation);
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_spec(obj, true)
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = validate_spec(new, !has_invalid_label_values(old));
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
            ColumnDef::new(
                "Desired",
                "integer",
                "The number of nodes that should run the daemon pod.",
            ),
            ColumnDef::new(
                "Current",
                "integer",
                "The number of nodes that run at least one daemon pod and should.",
            ),
            ColumnDef::new(
                "Ready",
                "integer",
                "The number of nodes whose daemon pod is ready.",
            ),
            ColumnDef::new(
                "Up-to-date",
                "integer",
                "The number of nodes that run the current template.",
            ),
            ColumnDef::new(
                "Available",
                "integer",
                "The number of nodes whose daemon pod has been ready for minReadySeconds.",
            ),
            ColumnDef::new(
                "Node Selector",
                "string",
                "The labels a node must have for the daemon pod to run there.",
            ),
            ColumnDef::AGE,
        ]
        .into_iter()
        .chain(common::template_columns(Some(
            "The label query over pods the daemon set manages.",
        )))
        .collect()
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let (spec, status) = (spec(obj), status(obj));
        let template = spec.get("template").unwrap_or(&Value::Null);
        let count = |f: &str| Cell::Value(json!(int_of(status, f)));
        vec![
            count("desiredNumberScheduled"),
            count("currentNumberScheduled"),
            count("numberReady"),
            count("updatedNumberScheduled"),
            count("numberAvailable"),
            Cell::Value(json!(common::format_labels(
                template.pointer("/spec/nodeSelector")
            ))),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
        .into_iter()
        .chain(common::template_cells(
            template,
            Some(common::selector_cell(spec.get("selector"))),
        ))
        .collect()
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        Scope::Namespaced,
        Arc::new(DaemonSetStrategy),
    )
    .typed()
    .with_short_names(&["ds"])
    .with_categories(&["all"])
    .with_subresources(&["status"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Value {
        let mut d = json!({"metadata": {"name": "agent", "namespace": "kube-system"}, "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "c", "image": "agent"}]}}
        }});
        DaemonSetStrategy.prepare_for_create(&mut d);
        d
    }

    #[test]
    fn defaults_and_template_generation() {
        let d = valid();
        assert_eq!(
            d["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(
            d["metadata"]["annotations"][TEMPLATE_GENERATION_ANNOTATION],
            "1"
        );
        assert_eq!(d["status"], empty_status());
        assert!(
            validate_spec(&d, true).is_empty(),
            "{:?}",
            validate_spec(&d, true)
        );
        let mut same = d.clone();
        same["metadata"]["annotations"][TEMPLATE_GENERATION_ANNOTATION] = json!("9");
        DaemonSetStrategy.prepare_for_update(&mut same, &d);
        assert_eq!(
            same["metadata"]["annotations"][TEMPLATE_GENERATION_ANNOTATION],
            "1"
        );
        let mut changed = d.clone();
        changed["spec"]["template"]["spec"]["containers"][0]["image"] = json!("agent:2");
        DaemonSetStrategy.prepare_for_update(&mut changed, &d);
        assert_eq!(
            changed["metadata"]["annotations"][TEMPLATE_GENERATION_ANNOTATION],
            "2"
        );
    }

    #[test]
    fn rolling_update_needs_exactly_one_nonzero() {
        let mut d = valid();
        d["spec"]["updateStrategy"]["rollingUpdate"] = json!({"maxUnavailable": 0, "maxSurge": 0});
        let msgs: Vec<String> = validate_spec(&d, true)
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            msgs,
            ["spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"]
        );
        d["spec"]["updateStrategy"]["rollingUpdate"] =
            json!({"maxUnavailable": 1, "maxSurge": "10%"});
        let msgs: Vec<String> = validate_spec(&d, true)
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            msgs,
            ["spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: \"10%\": may not be set when maxUnavailable is non-zero"]
        );
    }

    #[test]
    fn missing_selector_is_a_mismatch() {
        let mut d = valid();
        d["spec"].as_object_mut().map(|s| s.remove("selector"));
        let errs = validate_spec(&d, true);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec.template.metadata.labels");
    }

    #[test]
    fn table_cells_match_columns() {
        let s = DaemonSetStrategy;
        let mut d = valid();
        d["spec"]["template"]["spec"]["nodeSelector"] = json!({"kubernetes.io/os": "linux"});
        let cells = s.table_cells(&d);
        assert_eq!(cells.len(), s.table_columns().len());
        assert_eq!(cells[5], Cell::Value(json!("kubernetes.io/os=linux")));
    }
}

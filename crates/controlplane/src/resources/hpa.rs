//! `horizontalpodautoscalers` (autoscaling/v2, the storage version): upstream's v2 defaults,
//! validation, status split and table. autoscaling/v1 is served over the same storage
//! (`hpa_v1.rs`).

use std::sync::Arc;

use crate::resources::fields::{array, str_of};
use crate::resources::resourcelists::{quantity, validate_container_resource_name};
use crate::types::Typed;
use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Map, Value};

/// `autoscaling.DefaultCPUUtilization`: the target when an autoscaler names no metric.
pub const DEFAULT_CPU_UTILIZATION: i64 = 80;
/// Longest scaling policy period, in seconds.
const MAX_PERIOD_SECONDS: i64 = 1800;
/// Longest stabilization window, in seconds.
const MAX_STABILIZATION_WINDOW_SECONDS: i64 = 3600;

const METRIC_SOURCE_TYPES: [&str; 5] = [
    "ContainerResource",
    "External",
    "Object",
    "Pods",
    "Resource",
];
const SELECT_POLICIES: [&str; 3] = ["Disabled", "Max", "Min"];
const POLICY_TYPES: [&str; 2] = ["Percent", "Pods"];

pub struct HorizontalPodAutoscalerStrategy;

/// The default CPU metric (a utilization target of 80%).
pub fn default_cpu_metric() -> Value {
    json!({"type": "Resource", "resource": {"name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}}})
}

/// Fills the fields of scaling rules that are absent with `defaults`' values.
fn default_rules(rules: &mut Value, defaults: Value) {
    let (Some(map), Value::Object(defaults)) = (rules.as_object_mut(), defaults) else {
        return;
    };
    for (k, v) in defaults {
        let missing = map.get(&k).is_none_or(Value::is_null);
        if missing {
            map.insert(k, v);
        }
    }
}

/// Upstream's v2 `SetDefaults_HorizontalPodAutoscaler`: `minReplicas` 1, the CPU metric when
/// there is none, and the rules of a `behavior` that is set.
pub fn set_defaults_v2(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if spec.get("minReplicas").is_none_or(Value::is_null) {
        spec.insert("minReplicas".into(), json!(1));
    }
    if spec
        .get("metrics")
        .and_then(Value::as_array)
        .is_none_or(|m| m.is_empty())
    {
        spec.insert("metrics".into(), json!([default_cpu_metric()]));
    }
    let Some(behavior) = spec.get_mut("behavior").and_then(Value::as_object_mut) else {
        return;
    };
    let up = behavior.entry("scaleUp").or_insert_with(|| json!({}));
    if up.is_null() {
        *up = json!({});
    }
    default_rules(
        up,
        json!({"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15},
        ]}),
    );
    let down = behavior.entry("scaleDown").or_insert_with(|| json!({}));
    if down.is_null() {
        *down = json!({});
    }
    default_rules(
        down,
        json!({"selectPolicy": "Max", "policies": [
            {"type": "Percent", "value": 100, "periodSeconds": 15},
        ]}),
    );
}

fn int_at(obj: &Value, field: &str) -> Option<i64> {
    obj.get(field).and_then(Value::as_i64)
}

/// A quantity that is set and not positive.
fn not_positive(v: Option<&Value>) -> bool {
    v.filter(|v| !v.is_null())
        .and_then(quantity)
        .is_some_and(|q| q.value <= 0.0)
}

fn set(v: Option<&Value>) -> bool {
    v.is_some_and(|v| !v.is_null())
}

/// `ValidateCrossVersionObjectReference`.
fn validate_reference(r: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for field in ["kind", "name"] {
        let value = str_of(r, field);
        if value.is_empty() {
            errs.push(FieldError::required(&path.child(field), ""));
        } else {
            for msg in validation::name_is_path_segment(value, false) {
                errs.push(FieldError::invalid(&path.child(field), json!(value), &msg));
            }
        }
    }
    errs
}

fn validate_metric_identifier(id: &Value, path: &FieldPath) -> Vec<FieldError> {
    let name = str_of(id, "name");
    let p = path.child("name");
    if name.is_empty() {
        return vec![FieldError::required(&p, "must specify a metric name")];
    }
    validation::name_is_path_segment(name, false)
        .into_iter()
        .map(|m| FieldError::invalid(&p, json!(name), &m))
        .collect()
}

fn validate_metric_target(t: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let kind = str_of(t, "type");
    if kind.is_empty() {
        errs.push(FieldError::required(
            &path.child("type"),
            "must specify a metric target type",
        ));
    }
    if !matches!(kind, "Utilization" | "Value" | "AverageValue") {
        errs.push(FieldError::invalid(
            &path.child("type"),
            json!(kind),
            "must be either Utilization, Value, or AverageValue",
        ));
    }
    for field in ["value", "averageValue"] {
        if not_positive(t.get(field)) {
            errs.push(FieldError::invalid(
                &path.child(field),
                t.get(field).cloned().unwrap_or(Value::Null),
                "must be positive",
            ));
        }
    }
    if let Some(u) = int_at(t, "averageUtilization").filter(|u| *u < 1) {
        errs.push(FieldError::invalid(
            &path.child("averageUtilization"),
            json!(u),
            "must be greater than 0",
        ));
    }
    errs
}

/// The checks of a `Resource` or `ContainerResource` source's target.
fn validate_resource_target(src: &Value, path: &FieldPath) -> Vec<FieldError> {
    let target = src.get("target").cloned().unwrap_or(json!({}));
    let tpath = path.child("target");
    let mut errs = validate_metric_target(&target, &tpath);
    let utilization = set(target.get("averageUtilization"));
    let average = set(target.get("averageValue"));
    if !utilization && !average {
        errs.push(FieldError::required(
            &tpath.child("averageUtilization"),
            "must set either a target raw value or a target utilization",
        ));
    }
    if utilization && average {
        errs.push(FieldError::forbidden(
            &tpath.child("averageValue"),
            "may not set both a target raw value and a target utilization",
        ));
    }
    errs
}

fn validate_source(kind: &str, src: &Value, path: &FieldPath) -> Vec<FieldError> {
    let target = src.get("target").cloned().unwrap_or(json!({}));
    let tpath = path.child("target");
    let mut errs = Vec::new();
    match kind {
        "object" => {
            let described = src.get("describedObject").cloned().unwrap_or(json!({}));
            errs.extend(validate_reference(
                &described,
                &path.child("describedObject"),
            ));
            let id = src.get("metric").cloned().unwrap_or(json!({}));
            errs.extend(validate_metric_identifier(&id, &path.child("metric")));
            errs.extend(validate_metric_target(&target, &tpath));
            if !set(target.get("value")) && !set(target.get("averageValue")) {
                errs.push(FieldError::required(
                    &tpath.child("averageValue"),
                    "must set either a target value or averageValue",
                ));
            }
        }
        "external" => {
            let id = src.get("metric").cloned().unwrap_or(json!({}));
            errs.extend(validate_metric_identifier(&id, &path.child("metric")));
            errs.extend(validate_metric_target(&target, &tpath));
            let (value, average) = (set(target.get("value")), set(target.get("averageValue")));
            if !value && !average {
                errs.push(FieldError::required(
                    &tpath.child("averageValue"),
                    "must set either a target value for metric or a per-pod target",
                ));
            }
            if value && average {
                errs.push(FieldError::forbidden(
                    &tpath.child("value"),
                    "may not set both a target value for metric and a per-pod target",
                ));
            }
        }
        "pods" => {
            let id = src.get("metric").cloned().unwrap_or(json!({}));
            errs.extend(validate_metric_identifier(&id, &path.child("metric")));
            errs.extend(validate_metric_target(&target, &tpath));
            if !set(target.get("averageValue")) {
                errs.push(FieldError::required(
                    &tpath.child("averageValue"),
                    "must specify a positive target averageValue",
                ));
            }
        }
        "resource" => {
            if str_of(src, "name").is_empty() {
                errs.push(FieldError::required(
                    &path.child("name"),
                    "must specify a resource name",
                ));
            }
            errs.extend(validate_resource_target(src, path));
        }
        _ => {
            let name = str_of(src, "name");
            if name.is_empty() {
                errs.push(FieldError::required(
                    &path.child("name"),
                    "must specify a resource name",
                ));
            } else {
                errs.extend(validate_container_resource_name(name, &path.child("name")));
            }
            let container = str_of(src, "container");
            if container.is_empty() {
                errs.push(FieldError::required(
                    &path.child("container"),
                    "must specify a container",
                ));
            } else {
                for msg in validation::is_dns1123_label(container) {
                    errs.push(FieldError::invalid(
                        &path.child("container"),
                        json!(container),
                        &msg,
                    ));
                }
            }
            errs.extend(validate_resource_target(src, path));
        }
    }
    errs
}

/// `validateMetricSpec`: a known type, the source of that type (and only that one).
fn validate_metric(m: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let kind = str_of(m, "type");
    if kind.is_empty() {
        errs.push(FieldError::required(
            &path.child("type"),
            "must specify a metric source type",
        ));
    }
    if !METRIC_SOURCE_TYPES.contains(&kind) {
        errs.push(FieldError::not_supported(
            &path.child("type"),
            json!(kind),
            &METRIC_SOURCE_TYPES,
        ));
    }
    let sources = [
        "object",
        "external",
        "pods",
        "resource",
        "containerResource",
    ];
    let present: Vec<&str> = sources.into_iter().filter(|s| set(m.get(*s))).collect();
    if let Some(first) = present.first() {
        errs.extend(validate_source(first, &m[*first], &path.child(first)));
    }
    let expected = match kind {
        "Object" => "object",
        "Pods" => "pods",
        "Resource" => "resource",
        "External" => "external",
        "ContainerResource" => "containerResource",
        _ => {
            errs.push(FieldError::not_supported(
                &path.child("type"),
                json!(kind),
                &METRIC_SOURCE_TYPES,
            ));
            ""
        }
    };
    if !expected.is_empty() && !present.contains(&expected) {
        errs.push(FieldError::required(
            &path.child(expected),
            "must populate information for the given metric source",
        ));
    }
    if present.len() != 1 {
        for other in present.iter().filter(|p| **p != expected) {
            errs.push(FieldError::forbidden(
                &path.child(other),
                "must populate the given metric source only",
            ));
        }
    }
    errs
}

fn validate_rules(rules: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(w) = int_at(rules, "stabilizationWindowSeconds") {
        let p = path.child("stabilizationWindowSeconds");
        if w < 0 {
            errs.push(FieldError::invalid(
                &p,
                json!(w),
                "must be greater than or equal to zero",
            ));
        }
        if w > MAX_STABILIZATION_WINDOW_SECONDS {
            errs.push(FieldError::invalid(
                &p,
                json!(w),
                &format!("must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"),
            ));
        }
    }
    if let Some(policy) = rules.get("selectPolicy").and_then(Value::as_str) {
        if !SELECT_POLICIES.contains(&policy) {
            errs.push(FieldError::not_supported(
                &path.child("selectPolicy"),
                json!(policy),
                &SELECT_POLICIES,
            ));
        }
    }
    let ppath = path.child("policies");
    let policies = array(rules, "policies");
    if policies.is_empty() {
        errs.push(FieldError::required(
            &ppath,
            "must specify at least one Policy",
        ));
    }
    for (i, p) in policies.iter().enumerate() {
        let ip = ppath.index(i);
        let kind = str_of(p, "type");
        if !POLICY_TYPES.contains(&kind) {
            errs.push(FieldError::not_supported(
                &ip.child("type"),
                json!(kind),
                &POLICY_TYPES,
            ));
        }
        let value = int_at(p, "value").unwrap_or(0);
        if value <= 0 {
            errs.push(FieldError::invalid(
                &ip.child("value"),
                json!(value),
                "must be greater than zero",
            ));
        }
        let period = int_at(p, "periodSeconds").unwrap_or(0);
        if period <= 0 {
            errs.push(FieldError::invalid(
                &ip.child("periodSeconds"),
                json!(period),
                "must be greater than zero",
            ));
        }
        if period > MAX_PERIOD_SECONDS {
            errs.push(FieldError::invalid(
                &ip.child("periodSeconds"),
                json!(period),
                &format!("must be less than or equal to {MAX_PERIOD_SECONDS}"),
            ));
        }
    }
    errs
}

/// `validateHorizontalPodAutoscalerSpec`, with `minReplicas` at least `min_lower_bound`.
fn validate_spec(obj: &Value, min_lower_bound: i64) -> Vec<FieldError> {
    let empty = json!({});
    let spec = obj.get("spec").unwrap_or(&empty);
    let path = FieldPath::new("spec");
    let mut errs = Vec::new();
    let min = int_at(spec, "minReplicas");
    let max = int_at(spec, "maxReplicas").unwrap_or(0);
    if let Some(min) = min.filter(|m| *m < min_lower_bound) {
        errs.push(FieldError::invalid(
            &path.child("minReplicas"),
            json!(min),
            &format!("must be greater than or equal to {min_lower_bound}"),
        ));
    }
    if max < 1 {
        errs.push(FieldError::invalid(
            &path.child("maxReplicas"),
            json!(max),
            "must be greater than 0",
        ));
    }
    if min.is_some_and(|m| max < m) {
        errs.push(FieldError::invalid(
            &path.child("maxReplicas"),
            json!(max),
            "must be greater than or equal to `minReplicas`",
        ));
    }
    let target = spec.get("scaleTargetRef").unwrap_or(&empty);
    errs.extend(validate_reference(target, &path.child("scaleTargetRef")));
    let mpath = path.child("metrics");
    let metrics = array(spec, "metrics");
    for (i, m) in metrics.iter().enumerate() {
        errs.extend(validate_metric(m, &mpath.index(i)));
    }
    if min == Some(0)
        && !metrics
            .iter()
            .any(|m| matches!(str_of(m, "type"), "Object" | "External"))
    {
        errs.push(FieldError::forbidden(
            &mpath,
            "must specify at least one Object or External metric to support scaling to zero replicas",
        ));
    }
    if let Some(behavior) = spec.get("behavior").filter(|b| b.is_object()) {
        let bpath = path.child("behavior");
        for rules in ["scaleUp", "scaleDown"] {
            if let Some(r) = behavior.get(rules).filter(|r| r.is_object()) {
                errs.extend(validate_rules(r, &bpath.child(rules)));
            }
        }
    }
    errs
}

fn validate_status(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for field in ["currentReplicas", "desiredReplicas"] {
        let value = obj
            .pointer(&format!("/status/{field}"))
            .and_then(Value::as_i64);
        if let Some(v) = value.filter(|v| *v < 0) {
            errs.push(FieldError::invalid(
                &FieldPath::new("status").child(field),
                json!(v),
                "must be greater than or equal to 0",
            ));
        }
    }
    errs
}

/// The empty status of a new autoscaler (`desiredReplicas` is always written).
fn empty_status() -> Value {
    json!({"desiredReplicas": 0})
}

fn quantity_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".to_string(),
    }
}

/// Upstream's `formatHPAMetrics`: each target with its current value, at most two, then
/// how many more.
pub fn format_metrics(specs: &[Value], statuses: &[Value]) -> String {
    if specs.is_empty() {
        return "<none>".to_string();
    }
    let unknown = || "<unknown>".to_string();
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let status = statuses.get(i);
            let source = |key: &str| status.and_then(|s| s.get(key)).filter(|s| s.is_object());
            let kind = str_of(spec, "type");
            let key = match kind {
                "External" => "external",
                "Pods" => "pods",
                "Object" => "object",
                "Resource" => "resource",
                "ContainerResource" => "containerResource",
                _ => return "<unknown type>".to_string(),
            };
            let target = spec.get(key).and_then(|s| s.get("target"));
            let target_of = |f: &str| target.and_then(|t| t.get(f)).filter(|v| !v.is_null());
            let current_of = |f: &str| {
                source(key)
                    .and_then(|s| s.get("current"))
                    .and_then(|c| c.get(f))
                    .filter(|v| !v.is_null())
            };
            match key {
                "external" | "object" => match target_of("averageValue") {
                    Some(avg) => {
                        let current = current_of("averageValue")
                            .map(|v| quantity_text(Some(v)))
                            .unwrap_or_else(unknown);
                        format!("{current}/{} (avg)", quantity_text(Some(avg)))
                    }
                    None => {
                        let current = source(key)
                            .map(|_| quantity_text(current_of("value")))
                            .unwrap_or_else(unknown);
                        format!("{current}/{}", quantity_text(target_of("value")))
                    }
                },
                "pods" => {
                    let current = source(key)
                        .map(|_| quantity_text(current_of("averageValue")))
                        .unwrap_or_else(unknown);
                    format!("{current}/{}", quantity_text(target_of("averageValue")))
                }
                _ => {
                    let name = spec.get(key).map(|s| str_of(s, "name")).unwrap_or_default();
                    match target_of("averageValue") {
                        Some(avg) => {
                            let current = source(key)
                                .map(|_| quantity_text(current_of("averageValue")))
                                .unwrap_or_else(unknown);
                            format!("{name}: {current}/{}", quantity_text(Some(avg)))
                        }
                        None => {
                            let current = current_of("averageUtilization")
                                .and_then(Value::as_i64)
                                .map(|u| format!("{u}%"))
                                .unwrap_or_else(unknown);
                            let target = target_of("averageUtilization")
                                .and_then(Value::as_i64)
                                .map(|u| format!("{u}%"))
                                .unwrap_or_else(|| "<auto>".to_string());
                            format!("{name}: {current}/{target}")
                        }
                    }
                }
            }
        })
        .collect();
    const SHOWN: usize = 2;
    if list.len() > SHOWN {
        format!(
            "{} + {} more...",
            list[..SHOWN].join(", "),
            list.len() - SHOWN
        )
    } else {
        list.join(", ")
    }
}

/// The table columns of autoscalers (every version prints the stored form's).
pub fn columns() -> Vec<ColumnDef> {
    vec![
        ColumnDef::new(
            "Reference",
            "string",
            "The resource whose scale is managed.",
        ),
        ColumnDef::new(
            "Targets",
            "string",
            "The metric targets and their current values.",
        ),
        ColumnDef::new(
            "MinPods",
            "string",
            "The fewest replicas the autoscaler scales down to.",
        ),
        ColumnDef::new(
            "MaxPods",
            "string",
            "The most replicas the autoscaler scales up to.",
        ),
        ColumnDef::new(
            "Replicas",
            "string",
            "The replicas the target currently has.",
        ),
        ColumnDef::AGE,
    ]
}

/// The table cells of a stored (v2) autoscaler.
pub fn cells(obj: &Value) -> Vec<Cell> {
    let empty = json!({});
    let spec = obj.get("spec").unwrap_or(&empty);
    let target = spec.get("scaleTargetRef").unwrap_or(&empty);
    let reference = format!("{}/{}", str_of(target, "kind"), str_of(target, "name"));
    let status = obj.get("status").unwrap_or(&empty);
    let metrics = format_metrics(array(spec, "metrics"), array(status, "currentMetrics"));
    let min = int_at(spec, "minReplicas")
        .map(|m| m.to_string())
        .unwrap_or_else(|| "<unset>".to_string());
    vec![
        Cell::Value(json!(reference)),
        Cell::Value(json!(metrics)),
        Cell::Value(json!(min)),
        Cell::Value(json!(int_at(spec, "maxReplicas").unwrap_or(0))),
        Cell::Value(json!(int_at(status, "currentReplicas").unwrap_or(0))),
        Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
    ]
}

impl Strategy for HorizontalPodAutoscalerStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        set_defaults_v2(obj);
        if let Some(map) = obj.as_object_mut() {
            map.insert("status".into(), empty_status());
        }
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        set_defaults_v2(new);
        if let Some(map) = new.as_object_mut() {
            let status = old.get("status").cloned().unwrap_or_else(empty_status);
            map.insert("status".into(), status);
        }
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_spec(obj, 1)
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        // An autoscaler already at zero may stay there.
        let lower = if old.pointer("/spec/minReplicas").and_then(Value::as_i64) == Some(0) {
            0
        } else {
            1
        };
        validate_spec(new, lower)
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        _old: &Value,
    ) -> Vec<FieldError> {
        match subresource {
            "status" => validate_status(new),
            _ => Vec::new(),
        }
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        columns()
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        cells(obj)
    }
}

/// The autoscaling/v2 declaration (the storage version).
pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        Scope::Namespaced,
        Arc::new(HorizontalPodAutoscalerStrategy),
    )
    .typed()
    .with_short_names(&["hpa"])
    .with_categories(&["all"])
    .with_subresources(&["status"])
}

/// Puts `value` at `annotations[key]` of `obj`.
pub fn set_annotation(obj: &mut Value, key: &str, value: String) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    let metadata = map.entry("metadata").or_insert_with(|| json!({}));
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(a) = annotations.as_object_mut() {
        a.insert(key.to_string(), Value::String(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hpa(spec: Value) -> Value {
        json!({"metadata": {"name": "h", "namespace": "default"}, "spec": spec})
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter()
            .map(|e| format!("{}: {}", e.field, e.error_body()))
            .collect()
    }

    #[test]
    fn defaults_fill_min_replicas_metrics_and_behavior() {
        let mut h = hpa(
            json!({"maxReplicas": 3, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 10}}}),
        );
        set_defaults_v2(&mut h);
        assert_eq!(h["spec"]["minReplicas"], 1);
        assert_eq!(h["spec"]["metrics"], json!([default_cpu_metric()]));
        assert_eq!(h["spec"]["behavior"]["scaleUp"]["policies"][0]["value"], 4);
        assert_eq!(
            h["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"],
            10
        );
        assert_eq!(h["spec"]["behavior"]["scaleDown"]["selectPolicy"], "Max");
    }

    #[test]
    fn spec_validation_names_upstream_fields() {
        let errs = validate_spec(
            &hpa(
                json!({"minReplicas": 0, "maxReplicas": 0, "scaleTargetRef": {"kind": "Deployment"},
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 0}}},
                            {"type": "Bogus"}]}),
            ),
            1,
        );
        let m = messages(&errs);
        assert_eq!(
            m[0],
            "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"
        );
        assert_eq!(
            m[1],
            "spec.maxReplicas: Invalid value: 0: must be greater than 0"
        );
        assert_eq!(m[2], "spec.scaleTargetRef.name: Required value");
        assert_eq!(
            m[3],
            "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0"
        );
        assert!(
            m[4].starts_with("spec.metrics[1].type: Unsupported value: \"Bogus\""),
            "{}",
            m[4]
        );
        assert!(m.iter().any(|e| e.starts_with("spec.metrics: Forbidden")));
    }

    #[test]
    fn table_prints_targets_like_kubectl() {
        let mut h = hpa(json!({"maxReplicas": 5, "minReplicas": 2,
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "metrics": [default_cpu_metric(),
                {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}},
                {"type": "External", "external": {"metric": {"name": "q"}, "target": {"type": "Value", "value": "3"}}}]}));
        h["status"] = json!({"currentReplicas": 2, "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 40}}}]});
        let cells = cells(&h);
        assert_eq!(cells[0], Cell::Value(json!("Deployment/web")));
        assert_eq!(
            cells[1],
            Cell::Value(json!("cpu: 40%/80%, <unknown>/10 + 1 more..."))
        );
        assert_eq!(cells[2], Cell::Value(json!("2")));
        assert_eq!(cells[3], Cell::Value(json!(5)));
        assert_eq!(cells[4], Cell::Value(json!(2)));
        assert_eq!(format_metrics(&[], &[]), "<none>");
    }
}

//! autoscaling/v1 `HorizontalPodAutoscaler`, served over the autoscaling/v2 storage.
//!
//! v1 has one metric (`targetCPUUtilizationPercentage`) and one current value; what else v2
//! holds travels, as upstream carries it, in annotations of the v1 object, so that a v1
//! client reading and writing an autoscaler back loses nothing:
//! `autoscaling.alpha.kubernetes.io/metrics` (the other metrics, in v1's metric shape),
//! `…/current-metrics` (every current metric), `…/behavior` (the behavior, with Go's field
//! names, as upstream marshals its internal type) and `…/conditions`.

use std::sync::Arc;

use apimachinery::errors::ApiError;
use apiserver::registry::{Cell, ColumnDef, Conversion, ResourceDecl, Scope, Strategy};
use serde_json::{json, Map, Value};

use super::hpa::{self, set_annotation};
use crate::types::Typed;

pub const METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
pub const CURRENT_METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
pub const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
pub const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";
/// Annotations that only carry v2 fields through v1, dropped from the hub object.
const ROUND_TRIP_ANNOTATIONS: [&str; 6] = [
    METRICS_ANNOTATION,
    BEHAVIOR_ANNOTATION,
    "autoscaling.alpha.kubernetes.io/scale-down-tolerance",
    "autoscaling.alpha.kubernetes.io/scale-up-tolerance",
    CURRENT_METRICS_ANNOTATION,
    CONDITIONS_ANNOTATION,
];

/// The value at `key`, when set (not absent, not null).
fn get<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// Copies `from[key]` to `to[as_key]` when set.
fn copy(to: &mut Map<String, Value>, as_key: &str, from: &Value, key: &str) {
    if let Some(v) = get(from, key) {
        to.insert(as_key.to_string(), v.clone());
    }
}

/// A Go `resource.Quantity` that is not a pointer: `"0"` when unset.
fn quantity(from: &Value, key: &str) -> Value {
    get(from, key).cloned().unwrap_or_else(|| json!("0"))
}

fn reference(r: Option<&Value>) -> Value {
    let empty = json!({});
    let r = r.unwrap_or(&empty);
    let mut out = Map::new();
    out.insert("kind".into(), get(r, "kind").cloned().unwrap_or(json!("")));
    out.insert("name".into(), get(r, "name").cloned().unwrap_or(json!("")));
    copy(&mut out, "apiVersion", r, "apiVersion");
    Value::Object(out)
}

fn is_cpu(metric: &Value) -> bool {
    metric.get("type").and_then(Value::as_str) == Some("Resource")
        && metric.pointer("/resource/name").and_then(Value::as_str) == Some("cpu")
}

fn annotation(obj: &Value, key: &str) -> Option<Value> {
    let raw = obj.pointer("/metadata/annotations")?.get(key)?.as_str()?;
    serde_json::from_str(raw).ok()
}

fn drop_round_trip_annotations(obj: &mut Value) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) else {
        return;
    };
    for key in ROUND_TRIP_ANNOTATIONS {
        annotations.remove(key);
    }
    if annotations.is_empty() {
        meta.remove("annotations");
    }
}

/// A metric's identifier (`metric.name`, `metric.selector`) as v1's `metricName` and the
/// selector under `selector_key`.
fn identifier_to_v1(out: &mut Map<String, Value>, src: &Value, selector_key: &str) {
    let empty = json!({});
    let metric = src.get("metric").unwrap_or(&empty);
    out.insert(
        "metricName".into(),
        get(metric, "name").cloned().unwrap_or(json!("")),
    );
    copy(out, selector_key, metric, "selector");
}

fn identifier_from_v1(src: &Value, selector_key: &str) -> Value {
    let mut id = Map::new();
    id.insert(
        "name".into(),
        get(src, "metricName").cloned().unwrap_or(json!("")),
    );
    copy(&mut id, "selector", src, selector_key);
    Value::Object(id)
}

/// A v2 metric in v1's (annotation) shape.
fn metric_to_v1(m: &Value) -> Value {
    let empty = json!({});
    let mut out = Map::new();
    out.insert("type".into(), m.get("type").cloned().unwrap_or(json!("")));
    if let Some(src) = get(m, "object") {
        let target = src.get("target").unwrap_or(&empty);
        let mut v = Map::new();
        v.insert("target".into(), reference(src.get("describedObject")));
        identifier_to_v1(&mut v, src, "selector");
        v.insert("targetValue".into(), quantity(target, "value"));
        copy(&mut v, "averageValue", target, "averageValue");
        out.insert("object".into(), Value::Object(v));
    }
    if let Some(src) = get(m, "pods") {
        let target = src.get("target").unwrap_or(&empty);
        let mut v = Map::new();
        identifier_to_v1(&mut v, src, "selector");
        v.insert(
            "targetAverageValue".into(),
            quantity(target, "averageValue"),
        );
        out.insert("pods".into(), Value::Object(v));
    }
    for key in ["resource", "containerResource"] {
        if let Some(src) = get(m, key) {
            let target = src.get("target").unwrap_or(&empty);
            let mut v = Map::new();
            v.insert(
                "name".into(),
                get(src, "name").cloned().unwrap_or(json!("")),
            );
            copy(
                &mut v,
                "targetAverageUtilization",
                target,
                "averageUtilization",
            );
            copy(&mut v, "targetAverageValue", target, "averageValue");
            if key == "containerResource" {
                v.insert(
                    "container".into(),
                    get(src, "container").cloned().unwrap_or(json!("")),
                );
            }
            out.insert(key.into(), Value::Object(v));
        }
    }
    if let Some(src) = get(m, "external") {
        let target = src.get("target").unwrap_or(&empty);
        let mut v = Map::new();
        identifier_to_v1(&mut v, src, "metricSelector");
        copy(&mut v, "targetValue", target, "value");
        copy(&mut v, "targetAverageValue", target, "averageValue");
        out.insert("external".into(), Value::Object(v));
    }
    Value::Object(out)
}

/// A v1 (annotation) metric in v2's shape.
fn metric_from_v1(m: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), m.get("type").cloned().unwrap_or(json!("")));
    if let Some(src) = get(m, "object") {
        let mut target = Map::new();
        let average = get(src, "averageValue");
        target.insert(
            "type".into(),
            json!(if average.is_some() {
                "AverageValue"
            } else {
                "Value"
            }),
        );
        target.insert("value".into(), quantity(src, "targetValue"));
        copy(&mut target, "averageValue", src, "averageValue");
        out.insert(
            "object".into(),
            json!({"describedObject": reference(src.get("target")),
                   "metric": identifier_from_v1(src, "selector"),
                   "target": target}),
        );
    }
    if let Some(src) = get(m, "pods") {
        out.insert(
            "pods".into(),
            json!({"metric": identifier_from_v1(src, "selector"),
                   "target": {"type": "AverageValue",
                              "averageValue": quantity(src, "targetAverageValue")}}),
        );
    }
    for key in ["resource", "containerResource"] {
        if let Some(src) = get(m, key) {
            let utilization = get(src, "targetAverageUtilization");
            let mut target = Map::new();
            target.insert(
                "type".into(),
                json!(if utilization.is_some() {
                    "Utilization"
                } else {
                    "AverageValue"
                }),
            );
            copy(&mut target, "averageValue", src, "targetAverageValue");
            copy(
                &mut target,
                "averageUtilization",
                src,
                "targetAverageUtilization",
            );
            let mut v = Map::new();
            v.insert(
                "name".into(),
                get(src, "name").cloned().unwrap_or(json!("")),
            );
            if key == "containerResource" {
                v.insert(
                    "container".into(),
                    get(src, "container").cloned().unwrap_or(json!("")),
                );
            }
            v.insert("target".into(), Value::Object(target));
            out.insert(key.into(), Value::Object(v));
        }
    }
    if let Some(src) = get(m, "external") {
        let value = get(src, "targetValue");
        let mut target = Map::new();
        target.insert(
            "type".into(),
            json!(if value.is_some() {
                "Value"
            } else {
                "AverageValue"
            }),
        );
        copy(&mut target, "value", src, "targetValue");
        copy(&mut target, "averageValue", src, "targetAverageValue");
        out.insert(
            "external".into(),
            json!({"metric": identifier_from_v1(src, "metricSelector"), "target": target}),
        );
    }
    Value::Object(out)
}

/// A v2 current metric in v1's (annotation) shape.
fn status_to_v1(m: &Value) -> Value {
    let empty = json!({});
    let mut out = Map::new();
    out.insert("type".into(), m.get("type").cloned().unwrap_or(json!("")));
    if let Some(src) = get(m, "object") {
        let current = src.get("current").unwrap_or(&empty);
        let mut v = Map::new();
        v.insert("target".into(), reference(src.get("describedObject")));
        identifier_to_v1(&mut v, src, "selector");
        v.insert("currentValue".into(), quantity(current, "value"));
        copy(&mut v, "averageValue", current, "averageValue");
        out.insert("object".into(), Value::Object(v));
    }
    if let Some(src) = get(m, "pods") {
        let current = src.get("current").unwrap_or(&empty);
        let mut v = Map::new();
        identifier_to_v1(&mut v, src, "selector");
        v.insert(
            "currentAverageValue".into(),
            quantity(current, "averageValue"),
        );
        out.insert("pods".into(), Value::Object(v));
    }
    for key in ["resource", "containerResource"] {
        if let Some(src) = get(m, key) {
            let current = src.get("current").unwrap_or(&empty);
            let mut v = Map::new();
            v.insert(
                "name".into(),
                get(src, "name").cloned().unwrap_or(json!("")),
            );
            copy(
                &mut v,
                "currentAverageUtilization",
                current,
                "averageUtilization",
            );
            v.insert(
                "currentAverageValue".into(),
                quantity(current, "averageValue"),
            );
            if key == "containerResource" {
                v.insert(
                    "container".into(),
                    get(src, "container").cloned().unwrap_or(json!("")),
                );
            }
            out.insert(key.into(), Value::Object(v));
        }
    }
    if let Some(src) = get(m, "external") {
        let current = src.get("current").unwrap_or(&empty);
        let mut v = Map::new();
        identifier_to_v1(&mut v, src, "metricSelector");
        v.insert("currentValue".into(), quantity(current, "value"));
        copy(&mut v, "currentAverageValue", current, "averageValue");
        out.insert("external".into(), Value::Object(v));
    }
    Value::Object(out)
}

/// A v1 (annotation) current metric in v2's shape.
fn status_from_v1(m: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), m.get("type").cloned().unwrap_or(json!("")));
    if let Some(src) = get(m, "object") {
        let mut current = Map::new();
        current.insert("value".into(), quantity(src, "currentValue"));
        copy(&mut current, "averageValue", src, "averageValue");
        out.insert(
            "object".into(),
            json!({"describedObject": reference(src.get("target")),
                   "metric": identifier_from_v1(src, "selector"),
                   "current": current}),
        );
    }
    if let Some(src) = get(m, "pods") {
        out.insert(
            "pods".into(),
            json!({"metric": identifier_from_v1(src, "selector"),
                   "current": {"averageValue": quantity(src, "currentAverageValue")}}),
        );
    }
    for key in ["resource", "containerResource"] {
        if let Some(src) = get(m, key) {
            let mut current = Map::new();
            current.insert("averageValue".into(), quantity(src, "currentAverageValue"));
            copy(
                &mut current,
                "averageUtilization",
                src,
                "currentAverageUtilization",
            );
            let mut v = Map::new();
            v.insert(
                "name".into(),
                get(src, "name").cloned().unwrap_or(json!("")),
            );
            if key == "containerResource" {
                v.insert(
                    "container".into(),
                    get(src, "container").cloned().unwrap_or(json!("")),
                );
            }
            v.insert("current".into(), Value::Object(current));
            out.insert(key.into(), Value::Object(v));
        }
    }
    if let Some(src) = get(m, "external") {
        let mut current = Map::new();
        current.insert("value".into(), quantity(src, "currentValue"));
        copy(&mut current, "averageValue", src, "currentAverageValue");
        out.insert(
            "external".into(),
            json!({"metric": identifier_from_v1(src, "metricSelector"), "current": current}),
        );
    }
    Value::Object(out)
}

/// Scaling rules with Go's field names (upstream marshals its internal type, untagged).
fn rules_to_go(r: Option<&Value>) -> Value {
    let Some(r) = r.filter(|r| r.is_object()) else {
        return Value::Null;
    };
    let policies = match r.get("policies").and_then(Value::as_array) {
        Some(ps) => Value::Array(
            ps.iter()
                .map(|p| {
                    json!({"Type": p.get("type").cloned().unwrap_or(json!("")),
                           "Value": p.get("value").cloned().unwrap_or(json!(0)),
                           "PeriodSeconds": p.get("periodSeconds").cloned().unwrap_or(json!(0))})
                })
                .collect(),
        ),
        None => Value::Null,
    };
    let field = |k: &str| r.get(k).cloned().unwrap_or(Value::Null);
    json!({"StabilizationWindowSeconds": field("stabilizationWindowSeconds"),
           "SelectPolicy": field("selectPolicy"),
           "Policies": policies,
           "Tolerance": field("tolerance")})
}

/// A key of a Go-marshalled object, matched without regard to case (as Go's decoder does).
fn go_field<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    obj.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

fn rules_from_go(r: Option<&Value>) -> Option<Value> {
    let r = r.filter(|r| r.is_object())?;
    let mut out = Map::new();
    for (go, ours) in [
        ("StabilizationWindowSeconds", "stabilizationWindowSeconds"),
        ("SelectPolicy", "selectPolicy"),
    ] {
        if let Some(v) = go_field(r, go) {
            out.insert(ours.into(), v.clone());
        }
    }
    if let Some(ps) = go_field(r, "Policies").and_then(Value::as_array) {
        let policies = ps
            .iter()
            .map(|p| {
                json!({"type": go_field(p, "Type").cloned().unwrap_or(json!("")),
                       "value": go_field(p, "Value").cloned().unwrap_or(json!(0)),
                       "periodSeconds": go_field(p, "PeriodSeconds").cloned().unwrap_or(json!(0))})
            })
            .collect();
        out.insert("policies".into(), Value::Array(policies));
    }
    if let Some(v) = go_field(r, "Tolerance") {
        out.insert("tolerance".into(), v.clone());
    }
    Some(Value::Object(out))
}

/// The v2 (hub) form of a v1 autoscaler (upstream's v1 → internal conversion).
pub fn v1_to_v2(v1: Value) -> Value {
    let spec_in = v1.get("spec").cloned().unwrap_or(json!({}));
    let status_in = v1.get("status").cloned().unwrap_or(json!({}));
    let mut out = v1.clone();

    let mut spec = Map::new();
    spec.insert(
        "scaleTargetRef".into(),
        reference(spec_in.get("scaleTargetRef")),
    );
    copy(&mut spec, "minReplicas", &spec_in, "minReplicas");
    spec.insert(
        "maxReplicas".into(),
        get(&spec_in, "maxReplicas").cloned().unwrap_or(json!(0)),
    );
    let cpu: Vec<Value> = get(&spec_in, "targetCPUUtilizationPercentage")
        .map(|pct| {
            json!({"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": pct}}})
        })
        .into_iter()
        .collect();
    let mut metrics: Vec<Value> = match annotation(&v1, METRICS_ANNOTATION) {
        Some(Value::Array(other)) => other.iter().map(metric_from_v1).collect(),
        _ => Vec::new(),
    };
    metrics.extend(cpu);
    if metrics.is_empty() {
        metrics.push(hpa::default_cpu_metric());
    }
    spec.insert("metrics".into(), Value::Array(metrics));
    if let Some(b) = annotation(&v1, BEHAVIOR_ANNOTATION).filter(|b| b.is_object()) {
        let mut behavior = Map::new();
        for (go, ours) in [("ScaleUp", "scaleUp"), ("ScaleDown", "scaleDown")] {
            if let Some(r) = rules_from_go(go_field(&b, go)) {
                behavior.insert(ours.into(), r);
            }
        }
        if !behavior.is_empty() {
            spec.insert("behavior".into(), Value::Object(behavior));
        }
    }

    let mut status = Map::new();
    copy(
        &mut status,
        "observedGeneration",
        &status_in,
        "observedGeneration",
    );
    copy(&mut status, "lastScaleTime", &status_in, "lastScaleTime");
    if let Some(n) = get(&status_in, "currentReplicas").filter(|n| n.as_i64() != Some(0)) {
        status.insert("currentReplicas".into(), n.clone());
    }
    status.insert(
        "desiredReplicas".into(),
        get(&status_in, "desiredReplicas")
            .cloned()
            .unwrap_or(json!(0)),
    );
    match annotation(&v1, CURRENT_METRICS_ANNOTATION) {
        Some(Value::Array(current)) => {
            let list = current.iter().map(status_from_v1).collect();
            status.insert("currentMetrics".into(), Value::Array(list));
        }
        _ => {
            if let Some(pct) = get(&status_in, "currentCPUUtilizationPercentage") {
                status.insert(
                    "currentMetrics".into(),
                    json!([{"type": "Resource", "resource": {"name": "cpu",
                        "current": {"averageUtilization": pct}}}]),
                );
            }
        }
    }
    if let Some(Value::Array(conditions)) = annotation(&v1, CONDITIONS_ANNOTATION) {
        status.insert("conditions".into(), Value::Array(conditions));
    }
    if let Some(map) = out.as_object_mut() {
        map.insert("apiVersion".into(), json!("autoscaling/v2"));
        map.insert("spec".into(), Value::Object(spec));
        map.insert("status".into(), Value::Object(status));
    }
    drop_round_trip_annotations(&mut out);
    out
}

/// The v1 form of a v2 (hub) autoscaler (upstream's internal → v1 conversion).
pub fn v2_to_v1(v2: Value) -> Value {
    let spec_in = v2.get("spec").cloned().unwrap_or(json!({}));
    let status_in = v2.get("status").cloned().unwrap_or(json!({}));
    let metrics = spec_in
        .get("metrics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let current = status_in
        .get("currentMetrics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = v2.clone();
    drop_round_trip_annotations(&mut out);

    let mut spec = Map::new();
    spec.insert(
        "scaleTargetRef".into(),
        reference(spec_in.get("scaleTargetRef")),
    );
    copy(&mut spec, "minReplicas", &spec_in, "minReplicas");
    spec.insert(
        "maxReplicas".into(),
        get(&spec_in, "maxReplicas").cloned().unwrap_or(json!(0)),
    );
    // The first CPU metric stands for v1's target (when it is a utilization).
    if let Some(m) = metrics.iter().find(|m| is_cpu(m)) {
        if let Some(u) = m
            .pointer("/resource/target/averageUtilization")
            .filter(|u| !u.is_null())
        {
            spec.insert("targetCPUUtilizationPercentage".into(), u.clone());
        }
    }

    let mut status = Map::new();
    copy(
        &mut status,
        "observedGeneration",
        &status_in,
        "observedGeneration",
    );
    copy(&mut status, "lastScaleTime", &status_in, "lastScaleTime");
    for field in ["currentReplicas", "desiredReplicas"] {
        status.insert(
            field.into(),
            get(&status_in, field).cloned().unwrap_or(json!(0)),
        );
    }
    // The last CPU utilization reported stands for v1's current value.
    for m in current.iter().filter(|m| is_cpu(m)) {
        if let Some(u) = m
            .pointer("/resource/current/averageUtilization")
            .filter(|u| !u.is_null())
        {
            status.insert("currentCPUUtilizationPercentage".into(), u.clone());
        }
    }

    let other: Vec<Value> = metrics
        .iter()
        .filter(|m| {
            !(is_cpu(m)
                && m.pointer("/resource/target/averageUtilization")
                    .is_some_and(|u| !u.is_null()))
        })
        .map(metric_to_v1)
        .collect();
    if !other.is_empty() {
        set_annotation(
            &mut out,
            METRICS_ANNOTATION,
            Value::Array(other).to_string(),
        );
    }
    if !current.is_empty() {
        let list: Vec<Value> = current.iter().map(status_to_v1).collect();
        set_annotation(
            &mut out,
            CURRENT_METRICS_ANNOTATION,
            Value::Array(list).to_string(),
        );
    }
    if let Some(b) = get(&spec_in, "behavior") {
        let go = json!({"ScaleUp": rules_to_go(b.get("scaleUp")),
                        "ScaleDown": rules_to_go(b.get("scaleDown"))});
        set_annotation(&mut out, BEHAVIOR_ANNOTATION, go.to_string());
    }
    if let Some(c) = status_in
        .get("conditions")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
    {
        set_annotation(
            &mut out,
            CONDITIONS_ANNOTATION,
            Value::Array(c.clone()).to_string(),
        );
    }
    if let Some(map) = out.as_object_mut() {
        map.insert("apiVersion".into(), json!("autoscaling/v1"));
        map.insert("spec".into(), Value::Object(spec));
        map.insert("status".into(), Value::Object(status));
    }
    out
}

/// autoscaling/v1 ↔ autoscaling/v2.
pub struct V1Conversion;

impl Conversion for V1Conversion {
    /// v1's `SetDefaults_HorizontalPodAutoscaler`: `minReplicas` 1.
    fn default(&self, obj: &mut Value) {
        if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
            if spec.get("minReplicas").is_none_or(Value::is_null) {
                spec.insert("minReplicas".into(), json!(1));
            }
        }
    }

    fn hub_of(&self, obj: Value) -> Result<Value, ApiError> {
        Ok(v1_to_v2(obj))
    }

    fn version_of(&self, obj: Value) -> Result<Value, ApiError> {
        Ok(v2_to_v1(obj))
    }
}

/// What the v1 declaration prints: the stored form's table.
pub struct V1Strategy;

impl Strategy for V1Strategy {
    fn table_columns(&self) -> Vec<ColumnDef> {
        hpa::columns()
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        hpa::cells(&v1_to_v2(obj.clone()))
    }
}

/// The autoscaling/v1 declaration, stored as `hub` (the v2 declaration).
pub fn decl(hub: ResourceDecl) -> ResourceDecl {
    ResourceDecl::new(
        "autoscaling",
        "v1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        Scope::Namespaced,
        Arc::new(V1Strategy),
    )
    .typed()
    .with_short_names(&["hpa"])
    .with_categories(&["all"])
    .with_subresources(&["status"])
    .stored_as(hub, Arc::new(V1Conversion))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(spec: Value, status: Value) -> Value {
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
               "metadata": {"name": "h", "namespace": "default"}, "spec": spec, "status": status})
    }

    #[test]
    fn cpu_target_is_v1s_percentage() {
        let h = v2(
            json!({"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1,
                   "maxReplicas": 3, "metrics": [hpa::default_cpu_metric()]}),
            json!({"desiredReplicas": 0}),
        );
        let one = v2_to_v1(h.clone());
        assert_eq!(one["apiVersion"], "autoscaling/v1");
        assert_eq!(one["spec"]["targetCPUUtilizationPercentage"], 80);
        assert!(one["metadata"].get("annotations").is_none());
        assert_eq!(
            one["status"],
            json!({"currentReplicas": 0, "desiredReplicas": 0})
        );
        assert_eq!(v1_to_v2(one), h);
    }

    #[test]
    fn other_metrics_behavior_and_conditions_travel_in_annotations() {
        let h = v2(
            json!({"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 2,
                   "maxReplicas": 5, "metrics": [
                {"type": "Resource", "resource": {"name": "memory",
                    "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
                {"type": "External", "external": {"metric": {"name": "q", "selector": {"matchLabels": {"a": "b"}}},
                    "target": {"type": "Value", "value": "3"}}},
                hpa::default_cpu_metric()],
                "behavior": {"scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                    "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}]}}}),
            json!({"currentReplicas": 2, "desiredReplicas": 2,
                   "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu",
                        "current": {"averageUtilization": 40, "averageValue": "0"}}}],
                   "conditions": [{"type": "AbleToScale", "status": "True", "reason": "Ready"}]}),
        );
        let one = v2_to_v1(h.clone());
        let annotations = &one["metadata"]["annotations"];
        let metrics: Value =
            serde_json::from_str(annotations[METRICS_ANNOTATION].as_str().unwrap_or(""))
                .unwrap_or_default();
        assert_eq!(metrics[0]["resource"]["targetAverageValue"], "100Mi");
        assert_eq!(
            metrics[1]["external"]["metricSelector"]["matchLabels"]["a"],
            "b"
        );
        let behavior: Value =
            serde_json::from_str(annotations[BEHAVIOR_ANNOTATION].as_str().unwrap_or(""))
                .unwrap_or_default();
        assert_eq!(behavior["ScaleUp"]["Policies"][0]["PeriodSeconds"], 15);
        assert_eq!(one["status"]["currentCPUUtilizationPercentage"], 40);
        assert_eq!(v1_to_v2(one), h);
    }

    #[test]
    fn a_v1_object_without_target_gets_the_default_cpu_metric() {
        let one = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "h", "annotations": {METRICS_ANNOTATION: "not json", "keep": "me"}},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3}});
        let two = v1_to_v2(one);
        assert_eq!(two["spec"]["metrics"], json!([hpa::default_cpu_metric()]));
        assert_eq!(two["metadata"]["annotations"], json!({"keep": "me"}));
        assert_eq!(two["status"], json!({"desiredReplicas": 0}));
    }
}

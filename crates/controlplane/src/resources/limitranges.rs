//! `limitranges` (core/v1): per-namespace bounds and defaults of container, pod and claim
//! resources. Only stored and validated here; no admission applies them yet.

use std::collections::BTreeSet;
use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use apiserver::registry::{ResourceDecl, Scope, Strategy};
use serde_json::{json, Map, Value};

use super::fields;
use super::resourcelists::{self, Quantity};
use crate::types::Typed;

/// The limit types without a domain.
const STANDARD_TYPES: [&str; 3] = ["Pod", "Container", "PersistentVolumeClaim"];

/// Upstream's LimitRange strategy: defaults and validation, no status.
pub struct LimitRangeStrategy;

/// `SetDefaults_LimitRangeItem`: a container's default limit falls back to its max, its
/// default request to its default limit, then to its min.
fn default_item(item: &mut Value) {
    if fields::str_of(item, "type") != "Container" {
        return;
    }
    let list = |item: &Value, f: &str| -> Map<String, Value> {
        item.get(f)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let (max, min) = (list(item, "max"), list(item, "min"));
    let mut default = list(item, "default");
    for (k, v) in &max {
        default.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut request = list(item, "defaultRequest");
    for (k, v) in default.iter().chain(&min) {
        request.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if let Some(m) = item.as_object_mut() {
        if !default.is_empty() {
            m.insert("default".into(), Value::Object(default));
        }
        if !request.is_empty() {
            m.insert("defaultRequest".into(), Value::Object(request));
        }
    }
}

fn default_limits(obj: &mut Value) {
    if let Some(items) = obj
        .pointer_mut("/spec/limits")
        .and_then(Value::as_array_mut)
    {
        items.iter_mut().for_each(default_item);
    }
}

/// `validateLimitRangeTypeName`.
fn validate_type(value: &str, path: &FieldPath) -> Vec<FieldError> {
    let errs: Vec<FieldError> = validation::is_qualified_name(value)
        .iter()
        .map(|msg| FieldError::invalid(path, json!(value), msg))
        .collect();
    if errs.is_empty() && !value.contains('/') && !STANDARD_TYPES.contains(&value) {
        return vec![FieldError::invalid(
            path,
            json!(value),
            "must be a standard limit type or fully qualified",
        )];
    }
    errs
}

/// `validateLimitRangeResourceName`: containers and pods take container resources only.
fn validate_name(limit_type: &str, name: &str, path: &FieldPath) -> Vec<FieldError> {
    match limit_type {
        "Pod" | "Container" => resourcelists::validate_container_resource_name(name, path),
        _ => resourcelists::validate_resource_name(name, path),
    }
}

/// Go's `%f`.
fn go_float(v: f64) -> String {
    format!("{v:.6}")
}

/// Upstream's `ValidateLimitRange` for one item of `spec.limits`.
fn validate_item(
    item: &Value,
    path: &FieldPath,
    seen: &mut BTreeSet<String>,
    errs: &mut Vec<FieldError>,
) {
    let limit_type = fields::str_of(item, "type");
    errs.extend(validate_type(limit_type, &path.child("type")));
    if !seen.insert(limit_type.to_string()) {
        errs.push(FieldError::duplicate(
            &path.child("type"),
            json!(limit_type),
        ));
    }
    let mut keys = BTreeSet::new();
    let mut read = |field: &str, errs: &mut Vec<FieldError>| {
        let mut out = std::collections::BTreeMap::new();
        for (k, v) in resourcelists::entries(item, field) {
            errs.extend(validate_name(limit_type, k, &path.child(field).key(k)));
            keys.insert(k.to_string());
            if let Some(q) = resourcelists::quantity(v) {
                out.insert(k.to_string(), q);
            }
        }
        out
    };
    let max = read("max", errs);
    let min = read("min", errs);
    let (mut defaults, mut requests) = Default::default();
    if limit_type == "Pod" {
        for field in ["default", "defaultRequest"] {
            if !resourcelists::entries(item, field).is_empty() {
                errs.push(FieldError::forbidden(
                    &path.child(field),
                    "may not be specified when `type` is 'Pod'",
                ));
            }
        }
    } else {
        defaults = read("default", errs);
        requests = read("defaultRequest", errs);
    }
    if limit_type == "PersistentVolumeClaim"
        && !min.contains_key("storage")
        && !max.contains_key("storage")
    {
        errs.push(FieldError::required(
            &path.child("limits"),
            "either minimum or maximum storage value is required, but neither was provided",
        ));
    }
    let ratios = read("maxLimitRequestRatio", errs);
    for k in &keys {
        let get = |m: &std::collections::BTreeMap<String, Quantity>| m.get(k).cloned();
        let (mn, mx, df, rq, ratio) = (
            get(&min),
            get(&max),
            get(&defaults),
            get(&requests),
            get(&ratios),
        );
        let mut bad = |field: &str, q: &Quantity, msg: String| {
            errs.push(FieldError::invalid(
                &path.child(field).key(k),
                json!(q.text),
                &msg,
            ));
        };
        if let (Some(mn), Some(mx)) = (&mn, &mx) {
            if mn.value > mx.value {
                let msg = format!(
                    "min value {} is greater than max value {}",
                    mn.text, mx.text
                );
                bad("min", mn, msg);
            }
        }
        if let (Some(rq), Some(mn)) = (&rq, &mn) {
            if mn.value > rq.value {
                let msg = format!(
                    "min value {} is greater than default request value {}",
                    mn.text, rq.text
                );
                bad("defaultRequest", rq, msg);
            }
        }
        if let (Some(rq), Some(mx)) = (&rq, &mx) {
            if rq.value > mx.value {
                let msg = format!(
                    "default request value {} is greater than max value {}",
                    rq.text, mx.text
                );
                bad("defaultRequest", rq, msg);
            }
        }
        if let (Some(rq), Some(df)) = (&rq, &df) {
            if rq.value > df.value {
                let msg = format!(
                    "default request value {} is greater than default limit value {}",
                    rq.text, df.text
                );
                bad("defaultRequest", rq, msg);
            }
        }
        if let (Some(df), Some(mn)) = (&df, &mn) {
            if mn.value > df.value {
                let msg = format!(
                    "min value {} is greater than default value {}",
                    mn.text, df.text
                );
                bad("default", mn, msg);
            }
        }
        if let (Some(df), Some(mx)) = (&df, &mx) {
            if df.value > mx.value {
                let msg = format!(
                    "default value {} is greater than max value {}",
                    df.text, mx.text
                );
                bad("default", mx, msg);
            }
        }
        if let Some(r) = &ratio {
            if r.value < 1.0 {
                bad(
                    "maxLimitRequestRatio",
                    r,
                    format!("ratio {} is less than 1", r.text),
                );
            }
            if let (Some(mn), Some(mx)) = (&mn, &mx) {
                let limit = mx.value / mn.value;
                if r.value > limit {
                    let msg = format!(
                        "ratio {} is greater than max/min = {}",
                        r.text,
                        go_float(limit)
                    );
                    bad("maxLimitRequestRatio", r, msg);
                }
            }
        }
        if let (Some(df), Some(rq)) = (&df, &rq) {
            if !resourcelists::is_overcommit_allowed(k) && df.value != rq.value {
                let msg = format!(
                    "default value {} must equal to defaultRequest value {} in {k}",
                    df.text, rq.text
                );
                bad("defaultRequest", rq, msg);
            }
        }
    }
}

fn validate_spec(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut seen = BTreeSet::new();
    let path = FieldPath::new("spec").child("limits");
    let limits = obj
        .get("spec")
        .map_or(&[][..], |s| fields::array(s, "limits"));
    for (i, item) in limits.iter().enumerate() {
        validate_item(item, &path.index(i), &mut seen, &mut errs);
    }
    errs
}

impl Strategy for LimitRangeStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        default_limits(obj);
    }

    fn prepare_for_update(&self, new: &mut Value, _old: &Value) {
        default_limits(new);
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_spec(obj)
    }

    fn allow_create_on_update(&self) -> bool {
        true
    }
}

/// The declaration; tables keep upstream's `Created At` column.
pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "",
        "v1",
        "LimitRange",
        "limitranges",
        Scope::Namespaced,
        Arc::new(LimitRangeStrategy),
    )
    .typed()
    .with_short_names(&["limits"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use apiserver::registry::Cell;

    fn lr(limits: Value) -> Value {
        json!({"metadata": {"name": "l", "namespace": "default"}, "spec": {"limits": limits}})
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter()
            .map(|e| format!("{}: {}", e.field, e.error_body()))
            .collect()
    }

    #[test]
    fn container_defaults_follow_max_then_min() {
        let mut obj = lr(json!([{"type": "Container",
            "max": {"cpu": "2", "memory": "1Gi"}, "min": {"ephemeral-storage": "1Mi"},
            "default": {"memory": "512Mi"}}]));
        LimitRangeStrategy.prepare_for_create(&mut obj);
        let item = &obj["spec"]["limits"][0];
        assert_eq!(item["default"], json!({"cpu": "2", "memory": "512Mi"}));
        assert_eq!(
            item["defaultRequest"],
            json!({"cpu": "2", "memory": "512Mi", "ephemeral-storage": "1Mi"})
        );
        let mut pod = lr(json!([{"type": "Pod", "max": {"cpu": "2"}}]));
        LimitRangeStrategy.prepare_for_create(&mut pod);
        assert!(pod["spec"]["limits"][0].get("default").is_none());
    }

    #[test]
    fn bounds_are_ordered() {
        assert!(validate_spec(&lr(json!([{"type": "Container",
            "min": {"cpu": "100m"}, "defaultRequest": {"cpu": "200m"},
            "default": {"cpu": "500m"}, "max": {"cpu": "1"}, "maxLimitRequestRatio": {"cpu": "2"}}])))
        .is_empty());
        let errs = validate_spec(&lr(json!([{"type": "Container",
            "min": {"cpu": "2"}, "max": {"cpu": "1"}, "maxLimitRequestRatio": {"cpu": "500m"}}])));
        assert_eq!(
            messages(&errs),
            [
                "spec.limits[0].min[cpu]: Invalid value: \"2\": min value 2 is greater than max value 1",
                "spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: \"500m\": ratio 500m is less than 1",
            ]
        );
        let errs = validate_spec(&lr(json!([{"type": "Container",
            "min": {"cpu": "1"}, "max": {"cpu": "2"}, "maxLimitRequestRatio": {"cpu": "3"}}])));
        assert_eq!(errs[0].detail, "ratio 3 is greater than max/min = 2.000000");
        let errs = validate_spec(&lr(json!([{"type": "Container",
            "default": {"example.com/gpu": "2"}, "defaultRequest": {"example.com/gpu": "1"}}])));
        assert_eq!(
            errs[0].detail,
            "default value 2 must equal to defaultRequest value 1 in example.com/gpu"
        );
    }

    #[test]
    fn types_and_names() {
        let errs = validate_spec(&lr(json!([
            {"type": "Node"},
            {"type": "Pod", "max": {"pods": "1"}, "default": {"cpu": "1"}},
            {"type": "Pod"},
            {"type": "PersistentVolumeClaim", "max": {"widgets": "1"}},
        ])));
        assert_eq!(
            messages(&errs),
            [
                "spec.limits[0].type: Invalid value: \"Node\": must be a standard limit type or fully qualified",
                "spec.limits[1].max[pods]: Invalid value: \"pods\": must be a standard resource for containers",
                "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'",
                "spec.limits[2].type: Duplicate value: \"Pod\"",
                "spec.limits[3].max[widgets]: Invalid value: \"widgets\": must be a standard resource type or fully qualified",
                "spec.limits[3].limits: Required value: either minimum or maximum storage value is required, but neither was provided",
            ]
        );
    }

    #[test]
    fn table_is_created_at() {
        let s = LimitRangeStrategy;
        let obj = json!({"metadata": {"name": "l", "creationTimestamp": "2026-01-01T00:00:00Z"}});
        assert_eq!(s.table_columns().len(), 1);
        assert_eq!(s.table_columns()[0].name, "Created At");
        assert_eq!(
            s.table_cells(&obj),
            [Cell::Value(json!("2026-01-01T00:00:00Z"))]
        );
    }
}

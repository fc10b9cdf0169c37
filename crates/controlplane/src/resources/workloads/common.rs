//! What the workload kinds (apps/v1 and batch/v1) share: reading their specs, the checks of
//! upstream's apps validation that several kinds repeat, status splitting and the
//! `CONTAINERS`/`IMAGES`/`SELECTOR` table cells.

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::selectors::label_selector_from_json;
use apimachinery::validation;
use apiserver::registry::{meta, Cell, ColumnDef};
use serde_json::{json, Map, Value};

use crate::resources::fields::{array, str_of};

/// The object's `spec`, or `null`.
pub fn spec(obj: &Value) -> &Value {
    obj.get("spec").unwrap_or(&Value::Null)
}

/// The object's `status`, or `null`.
pub fn status(obj: &Value) -> &Value {
    obj.get("status").unwrap_or(&Value::Null)
}

/// `field` of `v` unless absent or `null`.
pub fn present<'a>(v: &'a Value, field: &str) -> Option<&'a Value> {
    v.get(field).filter(|f| !f.is_null())
}

/// An integer field, 0 when absent (Go's zero value).
pub fn int_of(v: &Value, field: &str) -> i64 {
    v.get(field).and_then(Value::as_i64).unwrap_or(0)
}

/// The object at `field` of `obj`, created when absent or not an object.
pub fn object_at<'a>(obj: &'a mut Value, field: &str) -> &'a mut Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    let map = obj.as_object_mut().expect("made an object above");
    let slot = map.entry(field.to_string()).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    slot.as_object_mut().expect("made an object above")
}

/// Sets `field` of `map` to `value` when it is absent or `null` (a Go pointer left nil).
pub fn default_field(map: &mut Map<String, Value>, field: &str, value: Value) {
    if map.get(field).is_none_or(Value::is_null) {
        map.insert(field.to_string(), value);
    }
}

/// `ValidateNonnegativeField` on an optional integer field.
pub fn nonnegative(v: &Value, field: &str, path: &FieldPath, errs: &mut Vec<FieldError>) {
    if let Some(n) = v.get(field).and_then(Value::as_i64) {
        if n < 0 {
            errs.push(FieldError::invalid(
                &path.child(field),
                json!(n),
                validation::IS_NEGATIVE_ERROR_MSG,
            ));
        }
    }
}

/// Each listed field of `v` must not be negative.
pub fn nonnegatives(v: &Value, fields: &[&str], path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for f in fields {
        nonnegative(v, f, path, &mut errs);
    }
    errs
}

/// The counters of a status that may not exceed `status.replicas` (`cannot be greater than
/// status.replicas`), then `availableReplicas` against `readyReplicas` with `ready_msg`.
pub fn replica_counts(
    status: &Value,
    bounded: &[&str],
    ready_msg: Option<&str>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let replicas = int_of(status, "replicas");
    for f in bounded {
        let n = int_of(status, f);
        if n > replicas {
            errs.push(FieldError::invalid(
                &path.child(f),
                json!(n),
                "cannot be greater than status.replicas",
            ));
        }
    }
    if let Some(msg) = ready_msg {
        let available = int_of(status, "availableReplicas");
        if available > int_of(status, "readyReplicas") {
            errs.push(FieldError::invalid(
                &path.child("availableReplicas"),
                json!(available),
                msg,
            ));
        }
    }
    errs
}

/// `IsDecremented` on `status.collisionCount`: `cannot be decremented`.
pub fn collision_count_not_decremented(new: &Value, old: &Value) -> Vec<FieldError> {
    let (Some(old_count), new_count) = (
        status(old).get("collisionCount").and_then(Value::as_i64),
        status(new).get("collisionCount").and_then(Value::as_i64),
    ) else {
        return Vec::new();
    };
    if new_count.is_some_and(|n| n >= old_count) {
        return Vec::new();
    }
    vec![FieldError::invalid(
        &FieldPath::new("status").child("collisionCount"),
        json!(new_count.unwrap_or(0)),
        "cannot be decremented",
    )]
}

/// `ValidateImmutableField`: `field is immutable`, showing the new value.
pub fn immutable(new: Option<&Value>, old: Option<&Value>, path: &FieldPath) -> Vec<FieldError> {
    let norm = |v: Option<&Value>| v.filter(|v| !v.is_null()).cloned();
    let (n, o) = (norm(new), norm(old));
    if n == o {
        return Vec::new();
    }
    vec![FieldError::invalid(
        path,
        n.unwrap_or(Value::Null),
        validation::FIELD_IMMUTABLE_ERROR_MSG,
    )]
}

/// The labels of a pod template (`template.metadata.labels`), empty when unset.
pub fn template_labels(template: &Value) -> Map<String, Value> {
    template
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// The labels of a template as a bad value: the map, or `null` when unset.
pub fn template_labels_value(template: &Value) -> Value {
    template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(Value::Null)
}

/// A selector with neither `matchLabels` nor `matchExpressions`.
pub fn selector_is_empty(selector: &Value) -> bool {
    let n = |f: &str| {
        selector
            .get(f)
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    let labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .map_or(0, Map::len);
    labels + n("matchExpressions") == 0
}

/// The checks Deployment, ReplicaSet and StatefulSet make of `spec.selector`: required,
/// valid, not empty (`empty selector is invalid for <noun>`), then, when it converts,
/// whether it selects the template's labels. `convert_msg` is upstream's detail when it
/// does not convert.
pub fn validate_required_selector(
    spec: &Value,
    noun: &str,
    convert_msg: &str,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let sel_path = path.child("selector");
    let selector = present(spec, "selector");
    match selector {
        None => errs.push(FieldError::required(&sel_path, "")),
        Some(sel) => {
            errs.extend(
                crate::resources::poddisruptionbudgets::validate_label_selector(
                    sel, true, &sel_path,
                ),
            );
            if selector_is_empty(sel) {
                errs.push(FieldError::invalid(
                    &sel_path,
                    sel.clone(),
                    &format!("empty selector is invalid for {noun}"),
                ));
            }
        }
    }
    match label_selector_from_json(selector) {
        Err(_) => errs.push(FieldError::invalid(
            &sel_path,
            selector.cloned().unwrap_or(Value::Null),
            convert_msg,
        )),
        Ok(sel) => {
            let template = spec.get("template").unwrap_or(&Value::Null);
            if !sel.is_empty() && !sel.matches(&template_labels(template)) {
                errs.push(selector_mismatch(&path.child("template"), template));
            }
        }
    }
    errs
}

/// `` `selector` does not match template `labels` `` at `<template>.metadata.labels`.
pub fn selector_mismatch(template_path: &FieldPath, template: &Value) -> FieldError {
    FieldError::invalid(
        &template_path.child("metadata").child("labels"),
        template_labels_value(template),
        "`selector` does not match template `labels`",
    )
}

/// The restart policy a template's pods get: `Always` when unset, as upstream's pod
/// defaulting leaves it.
pub fn restart_policy(template: &Value) -> &str {
    match template
        .pointer("/spec/restartPolicy")
        .and_then(Value::as_str)
    {
        Some(p) if !p.is_empty() => p,
        _ => "Always",
    }
}

/// The template checks of controllers whose pods run forever (`restartPolicy` must be
/// `Always`, no `activeDeadlineSeconds`); `kind` names the controller in the message.
pub fn validate_always_restart(template: &Value, kind: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec_path = path.child("spec");
    let policy = restart_policy(template);
    if policy != "Always" {
        errs.push(FieldError::not_supported(
            &spec_path.child("restartPolicy"),
            json!(policy),
            &["Always"],
        ));
    }
    if template
        .pointer("/spec/activeDeadlineSeconds")
        .is_some_and(|v| !v.is_null())
    {
        errs.push(FieldError::forbidden(
            &spec_path.child("activeDeadlineSeconds"),
            &format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
    errs
}

/// A status update: the new object with the stored spec (what upstream's status strategies
/// keep); with `keep_labels`, the stored labels too (Deployments).
pub fn status_update(new: &Value, old: &Value, keep_labels: bool) -> Value {
    let mut merged = new.clone();
    if let Some(m) = merged.as_object_mut() {
        match old.get("spec") {
            Some(s) => {
                m.insert("spec".to_string(), s.clone());
            }
            None => {
                m.remove("spec");
            }
        }
    }
    if keep_labels {
        meta::set_meta(
            &mut merged,
            "labels",
            meta::meta(old).and_then(|m| m.get("labels")).cloned(),
        );
    }
    merged
}

/// Replaces `status` with `empty` (create) or the stored one (update).
pub fn reset_status(obj: &mut Value, status: Value) {
    if let Some(m) = obj.as_object_mut() {
        m.insert("status".to_string(), status);
    }
}

/// The stored status of `old`, or `empty` when it has none.
pub fn old_status(old: &Value, empty: Value) -> Value {
    old.get("status").cloned().unwrap_or(empty)
}

/// `CONTAINERS` and `IMAGES` cells: the template's container names and images, joined by
/// commas.
pub fn containers_and_images(template: &Value) -> (String, String) {
    let containers = template
        .get("spec")
        .map(|s| array(s, "containers"))
        .unwrap_or(&[]);
    let names: Vec<&str> = containers.iter().map(|c| str_of(c, "name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_of(c, "image")).collect();
    (names.join(","), images.join(","))
}

/// A `SELECTOR` cell: the label selector in query form (`LabelSelectorAsSelector`), empty
/// for a missing one and `<error>` for one that does not convert.
pub fn selector_cell(selector: Option<&Value>) -> String {
    match label_selector_from_json(selector) {
        Ok(s) => s.to_string(),
        Err(_) => "<error>".to_string(),
    }
}

/// `metav1.FormatLabelSelector`: `<none>` for a missing or empty selector.
pub fn format_label_selector(selector: Option<&Value>) -> String {
    match selector.filter(|s| !s.is_null()) {
        None => "<none>".to_string(),
        Some(s) if selector_is_empty(s) => "<none>".to_string(),
        Some(s) => match label_selector_from_json(Some(s)) {
            Ok(sel) => {
                let text = sel.to_string();
                if text.is_empty() {
                    "<none>".to_string()
                } else {
                    text
                }
            }
            Err(_) => "<error>".to_string(),
        },
    }
}

/// A `k=v,k2=v2` rendering of a string map, sorted, `<none>` when empty
/// (`labels.FormatLabels`).
pub fn format_labels(map: Option<&Value>) -> String {
    let Some(m) = map.and_then(Value::as_object).filter(|m| !m.is_empty()) else {
        return "<none>".to_string();
    };
    let mut pairs: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// The value of an int-or-percent (`getIntOrPercentValue`): the percentage's number, the
/// integer, or 0 for anything else.
pub fn int_or_percent_value(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => match s.strip_suffix('%') {
            Some(d) if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) => {
                d.parse().unwrap_or(0)
            }
            _ => s.parse().unwrap_or(0),
        },
        _ => 0,
    }
}

/// `ValidatePositiveIntOrPercent`: a non-negative integer or a `[0-9]+%` string.
pub fn positive_int_or_percent(v: Option<&Value>, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match v {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            let digits = s.strip_suffix('%').unwrap_or("");
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                errs.push(FieldError::invalid(
                    path,
                    json!(s),
                    &validation::regex_error(
                        "a valid percent string must be a numeric string followed by an ending '%'",
                        "[0-9]+%",
                        &["1%", "93%"],
                    ),
                ));
            }
        }
        Some(n @ Value::Number(_)) => {
            if n.as_i64().is_some_and(|i| i < 0) {
                errs.push(FieldError::invalid(
                    path,
                    n.clone(),
                    validation::IS_NEGATIVE_ERROR_MSG,
                ));
            }
        }
        Some(other) => errs.push(FieldError::invalid(
            path,
            other.clone(),
            "must be an integer or percentage (e.g '5%')",
        )),
    }
    errs
}

/// `IsNotMoreThan100Percent`: a valid percentage above 100% is refused.
pub fn not_more_than_100_percent(v: Option<&Value>, path: &FieldPath) -> Vec<FieldError> {
    let Some(Value::String(s)) = v else {
        return Vec::new();
    };
    let Some(d) = s
        .strip_suffix('%')
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    else {
        return Vec::new();
    };
    if d.parse::<u64>().map_or(true, |n| n > 100) {
        return vec![FieldError::invalid(
            path,
            json!(s),
            "must not be greater than 100%",
        )];
    }
    Vec::new()
}

/// Upstream's create warning for workloads whose name goes into pod names and hostnames.
pub fn dns_label_name_warning(obj: &Value) -> Vec<String> {
    let msgs = validation::is_dns1123_label(meta::name(obj));
    if msgs.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: [{}]",
        msgs.join(" ")
    )]
}

/// The wide columns of a kind with a pod template: `Containers` and `Images`, then
/// `Selector` (described as `selector`) when the kind shows one.
pub fn template_columns(selector: Option<&'static str>) -> Vec<ColumnDef> {
    let wide = |c: ColumnDef| ColumnDef { priority: 1, ..c };
    let mut columns = vec![
        wide(ColumnDef::new(
            "Containers",
            "string",
            "Names of each container in the template.",
        )),
        wide(ColumnDef::new(
            "Images",
            "string",
            "Images referenced by each container in the template.",
        )),
    ];
    if let Some(description) = selector {
        columns.push(wide(ColumnDef::new("Selector", "string", description)));
    }
    columns
}

/// The cells of [`template_columns`]: the template's containers and images, then the
/// selector cell when there is one.
pub fn template_cells(template: &Value, selector: Option<String>) -> Vec<Cell> {
    let (containers, images) = containers_and_images(template);
    let mut cells = vec![Cell::Value(json!(containers)), Cell::Value(json!(images))];
    if let Some(selector) = selector {
        cells.push(Cell::Value(json!(selector)));
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_checks() {
        let path = FieldPath::new("spec");
        let spec = json!({"selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "b"}}}});
        let errs = validate_required_selector(&spec, "deployment", "invalid label selector", &path);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec.template.metadata.labels");
        assert_eq!(
            errs[0].detail,
            "`selector` does not match template `labels`"
        );
        let errs = validate_required_selector(&json!({}), "deployment", "x", &path);
        assert_eq!(errs[0].field, "spec.selector");
        assert_eq!(errs[0].kind, apimachinery::errors::FieldErrorKind::Required);
        let errs = validate_required_selector(&json!({"selector": {}}), "statefulset", "", &path);
        assert_eq!(errs[0].detail, "empty selector is invalid for statefulset");
    }

    #[test]
    fn immutable_and_collision_count() {
        let p = FieldPath::new("spec").child("selector");
        assert!(immutable(Some(&json!({"a": 1})), Some(&json!({"a": 1})), &p).is_empty());
        let errs = immutable(Some(&json!({"a": 2})), Some(&json!({"a": 1})), &p);
        assert_eq!(errs[0].detail, "field is immutable");
        let old = json!({"status": {"collisionCount": 2}});
        let new = json!({"status": {"collisionCount": 1}});
        assert_eq!(
            collision_count_not_decremented(&new, &old)[0].detail,
            "cannot be decremented"
        );
        assert!(collision_count_not_decremented(&old, &new).is_empty());
    }

    #[test]
    fn cells() {
        let t = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}});
        assert_eq!(containers_and_images(&t), ("a,b".into(), "x,y".into()));
        assert_eq!(
            selector_cell(Some(&json!({"matchLabels": {"b": "2", "a": "1"}}))),
            "a=1,b=2"
        );
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(format_labels(Some(&json!({"z": "1", "a": "2"}))), "a=2,z=1");
        assert_eq!(format_labels(None), "<none>");
    }
}

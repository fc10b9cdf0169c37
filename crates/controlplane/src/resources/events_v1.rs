//! events.k8s.io/v1 `Event`, served over the core/v1 events (one storage, `/registry/events`,
//! one watch cache). The fields map as upstream's conversion maps them (`regarding` ↔
//! `involvedObject`, `note` ↔ `message`, `reportingController` ↔ `reportingComponent`, the
//! `deprecated*` fields ↔ the legacy ones); the hub's (legacy) validation applies to every
//! write, and writes through this version get upstream's strict rules on top.

use std::sync::Arc;

use apimachinery::errors::{ApiError, FieldError, FieldPath};
use apiserver::registry::{Cell, ColumnDef, Conversion, ResourceDecl, Scope, Strategy};
use serde_json::{json, Map, Value};

use super::events::EventStrategy;
use crate::types::Typed;

/// `(events.k8s.io/v1 name, core/v1 name)` of the fields whose names differ.
const RENAMED: [(&str, &str); 7] = [
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

/// Fields events.k8s.io/v1 omits when empty (Go's `omitempty` on strings and numbers).
const OMIT_EMPTY: [&str; 7] = [
    "reportingController",
    "reportingInstance",
    "action",
    "reason",
    "note",
    "type",
    "deprecatedCount",
];

fn rename(obj: Value, api_version: &str, to_core: bool) -> Value {
    let Value::Object(map) = obj else {
        return obj;
    };
    let mut out = Map::with_capacity(map.len());
    for (k, v) in map {
        let key = RENAMED
            .iter()
            .find_map(|(ours, core)| {
                let (from, to) = if to_core { (ours, core) } else { (core, ours) };
                (k == *from).then_some(*to)
            })
            .unwrap_or(&k)
            .to_string();
        out.insert(key, v);
    }
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!("Event"));
    Value::Object(out)
}

/// The core/v1 form of an events.k8s.io/v1 event.
pub fn to_core(obj: Value) -> Value {
    rename(obj, "v1", true)
}

/// The events.k8s.io/v1 form of a core/v1 event, with the fields Go always writes.
pub fn from_core(obj: Value) -> Value {
    let mut out = rename(obj, "events.k8s.io/v1", false);
    if let Some(map) = out.as_object_mut() {
        for field in OMIT_EMPTY {
            let empty = match map.get(field) {
                Some(Value::String(s)) => s.is_empty(),
                Some(Value::Number(n)) => n.as_i64() == Some(0),
                Some(Value::Null) => true,
                _ => false,
            };
            if empty {
                map.remove(field);
            }
        }
        for field in ["regarding", "deprecatedSource"] {
            let entry = map.entry(field).or_insert_with(|| json!({}));
            if entry.is_null() {
                *entry = json!({});
            }
        }
        for field in [
            "eventTime",
            "deprecatedFirstTimestamp",
            "deprecatedLastTimestamp",
        ] {
            map.entry(field).or_insert(Value::Null);
        }
    }
    out
}

/// A value with Go's zero values (absent, null, `""`, `0`, `false`, `{}`, `[]`) folded to
/// null, members included: what `reflect.DeepEqual` on Go structs compares.
fn normalized(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Value::Null,
        Some(Value::String(s)) if s.is_empty() => Value::Null,
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => Value::Null,
        Some(Value::Array(a)) if a.is_empty() => Value::Null,
        Some(Value::Object(m)) => {
            let kept: Map<String, Value> = m
                .iter()
                .map(|(k, v)| (k.clone(), normalized(Some(v))))
                .filter(|(_, v)| !v.is_null())
                .collect();
            if kept.is_empty() {
                Value::Null
            } else {
                Value::Object(kept)
            }
        }
        Some(other) => other.clone(),
    }
}

fn unset(obj: &Value, field: &str) -> bool {
    normalized(obj.get(field)).is_null()
}

/// Upstream's `validateV1EventSeries`, on the core form.
fn validate_series(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(series) = obj.get("series").filter(|s| s.is_object()) {
        if series.get("count").and_then(Value::as_i64).unwrap_or(0) < 2 {
            errs.push(FieldError::invalid(
                &FieldPath::new("series.count"),
                json!(""),
                "should be at least 2",
            ));
        }
        if unset(series, "lastObservedTime") {
            errs.push(FieldError::required(
                &FieldPath::new("series.lastObservedTime"),
                "",
            ));
        }
    }
    errs
}

/// The strict rules of a create through events.k8s.io/v1, on the core form.
pub fn validate_strict_create(obj: &Value) -> Vec<FieldError> {
    let mut errs = validate_series(obj);
    if unset(obj, "eventTime") {
        errs.push(FieldError::required(&FieldPath::new("eventTime"), ""));
    }
    let kind = obj.get("type").and_then(Value::as_str).unwrap_or("");
    if kind != "Normal" && kind != "Warning" {
        errs.push(FieldError::invalid(
            &FieldPath::new("type"),
            json!(""),
            &format!("has invalid value: {kind}"),
        ));
    }
    for field in ["firstTimestamp", "lastTimestamp", "count", "source"] {
        if !unset(obj, field) {
            errs.push(FieldError::invalid(
                &FieldPath::new(field),
                json!(""),
                "needs to be unset",
            ));
        }
    }
    errs
}

/// The strict rules of an update through events.k8s.io/v1: a changed series is checked,
/// and what an event reports may not change. Paths name the core (internal) fields, as
/// upstream's do.
pub fn validate_strict_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if normalized(new.get("series")) != normalized(old.get("series")) {
        errs.extend(validate_series(new));
    }
    for (field, path) in [
        ("involvedObject", "involvedObject"),
        ("reason", "reason"),
        ("message", "message"),
        ("source", "source"),
        ("firstTimestamp", "firstTimestamp"),
        ("lastTimestamp", "lastTimestamp"),
        ("count", "count"),
        ("reason", "reason"),
        ("type", "type"),
        ("eventTime", "eventTime"),
        ("action", "action"),
        ("related", "related"),
        ("reportingComponent", "reportingController"),
        ("reportingInstance", "reportingInstance"),
    ] {
        if normalized(new.get(field)) != normalized(old.get(field)) {
            errs.push(FieldError::invalid(
                &FieldPath::new(path),
                new.get(field).cloned().unwrap_or(Value::Null),
                "field is immutable",
            ));
        }
    }
    errs
}

/// events.k8s.io/v1 ↔ core/v1.
pub struct EventsV1Conversion;

impl Conversion for EventsV1Conversion {
    fn hub_of(&self, obj: Value) -> Result<Value, ApiError> {
        Ok(to_core(obj))
    }

    fn version_of(&self, obj: Value) -> Result<Value, ApiError> {
        Ok(from_core(obj))
    }

    fn validate_create(&self, hub: &Value) -> Vec<FieldError> {
        validate_strict_create(hub)
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        validate_strict_update(new, old)
    }
}

/// What the events.k8s.io/v1 declaration prints: the core events' table.
pub struct EventsV1Strategy;

impl Strategy for EventsV1Strategy {
    fn table_leads_with_name(&self) -> bool {
        EventStrategy.table_leads_with_name()
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        EventStrategy.table_columns()
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        EventStrategy.table_cells(&to_core(obj.clone()))
    }
}

/// The events.k8s.io/v1 declaration, stored as `hub` (the core/v1 events declaration).
pub fn decl(hub: ResourceDecl) -> ResourceDecl {
    ResourceDecl::new(
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        Scope::Namespaced,
        Arc::new(EventsV1Strategy),
    )
    .typed()
    .with_short_names(&["ev"])
    .stored_as(hub, Arc::new(EventsV1Conversion))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn fields_map_both_ways() {
        let v1 = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "default"},
            "eventTime": "2026-12-01T10:00:00.000000Z", "reportingController": "ctl",
            "reportingInstance": "i", "action": "Do", "reason": "Done", "type": "Normal",
            "regarding": {"kind": "Pod", "name": "p"}, "note": "hello",
            "series": {"count": 2, "lastObservedTime": "2026-12-01T10:00:01.000000Z"}});
        let core = to_core(v1.clone());
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["involvedObject"]["name"], "p");
        assert_eq!(core["message"], "hello");
        assert_eq!(core["reportingComponent"], "ctl");
        assert!(core.get("note").is_none());
        let back = from_core(core);
        assert_eq!(back["note"], "hello");
        assert_eq!(back["deprecatedSource"], json!({}));
        assert!(back["deprecatedFirstTimestamp"].is_null());
        for (k, v) in v1.as_object().into_iter().flatten() {
            assert_eq!(&back[k], v, "{k}");
        }
        // A legacy event: its legacy fields come out deprecated, empty strings omitted.
        let legacy = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "x"},
            "involvedObject": {"kind": "Node"}, "source": {"component": "kubelet"},
            "count": 3, "reportingComponent": "", "message": "m"});
        let v1 = from_core(legacy);
        assert_eq!(v1["deprecatedSource"]["component"], "kubelet");
        assert_eq!(v1["deprecatedCount"], 3);
        assert!(v1.get("reportingController").is_none());
        assert!(v1["eventTime"].is_null());
    }

    #[test]
    fn strict_rules_on_create_and_update() {
        let core = json!({"metadata": {"name": "e", "namespace": "default"}, "type": "Odd",
            "source": {"component": "x"}, "count": 1, "series": {"count": 1}});
        assert_eq!(
            fields(&validate_strict_create(&core)),
            [
                "series.count",
                "series.lastObservedTime",
                "eventTime",
                "type",
                "count",
                "source"
            ]
        );
        let old = json!({"reason": "A", "involvedObject": {}, "reportingComponent": "c"});
        let new = json!({"reason": "B", "reportingComponent": "c"});
        assert_eq!(
            fields(&validate_strict_update(&new, &old)),
            ["reason", "reason"]
        );
        let renamed = json!({"reason": "A", "reportingComponent": "d"});
        assert_eq!(
            fields(&validate_strict_update(&renamed, &old)),
            ["reportingController"]
        );
    }
}

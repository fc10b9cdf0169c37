//! `events` (core/v1): reports of what happened to objects, as `kubectl describe` and
//! `kubectl get events` read them. Validated as upstream validates core/v1 events (its
//! "legacy" rules; the strict ones apply only to events.k8s.io/v1).

use std::sync::Arc;

use crate::types::Typed;
use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use apiserver::registry::{meta, Cell, ColumnDef, GcPolicy, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

/// Longest `reportingInstance`, `action` and `reason` of an event with an `eventTime`.
const SHORT_FIELD_LIMIT: usize = 128;
/// Longest `message` of an event with an `eventTime`.
const MESSAGE_LIMIT: usize = 1024;

/// Fields a field selector may name, besides `metadata.name` and `metadata.namespace`.
const SELECTABLE: [&str; 11] = [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

pub struct EventStrategy;

fn str_at<'a>(obj: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = obj;
    for part in path {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

/// Whether a timestamp field is unset (absent, null or empty), as Go's zero time.
fn unset(obj: &Value, field: &str) -> bool {
    match obj.get(field) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}

/// Writes the fields Go always writes for an event, so that the JSON served is the JSON
/// upstream serves: `involvedObject` and `source` as objects, the timestamps as `null`
/// when unset, `reportingComponent` and `reportingInstance` as strings.
fn fill_go_zero_values(obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    for field in ["involvedObject", "source"] {
        let entry = map.entry(field).or_insert_with(|| json!({}));
        if entry.is_null() {
            *entry = json!({});
        }
    }
    for field in ["firstTimestamp", "lastTimestamp", "eventTime"] {
        map.entry(field).or_insert(Value::Null);
    }
    for field in ["reportingComponent", "reportingInstance"] {
        let entry = map.entry(field).or_insert_with(|| json!(""));
        if entry.is_null() {
            *entry = json!("");
        }
    }
}

/// Upstream's `legacyValidateEvent`: the namespace agrees with the involved object's, and
/// events of the new style (with an `eventTime`) name their reporter, action and reason.
fn validate_event(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let namespace = meta::namespace(obj);
    let involved_ns = str_at(obj, &["involvedObject", "namespace"]);
    let mismatch = || {
        FieldError::invalid(
            &FieldPath::new("involvedObject").child("namespace"),
            json!(involved_ns),
            "does not match event.namespace",
        )
    };
    if unset(obj, "eventTime") {
        let agrees = if involved_ns.is_empty() {
            namespace.is_empty() || namespace == "default"
        } else {
            namespace == involved_ns
        };
        if !agrees {
            errs.push(mismatch());
        }
    } else {
        if involved_ns.is_empty() && namespace != "default" && namespace != "kube-system" {
            errs.push(mismatch());
        }
        // Upstream's internal field is `reportingController`, and its errors say so.
        let controller = str_at(obj, &["reportingComponent"]);
        let controller_path = FieldPath::new("reportingController");
        if controller.is_empty() {
            errs.push(FieldError::required(&controller_path, ""));
        }
        for msg in validation::is_qualified_name(controller) {
            errs.push(FieldError::invalid(
                &controller_path,
                json!(controller),
                &msg,
            ));
        }
        for (field, limit) in [
            ("reportingInstance", SHORT_FIELD_LIMIT),
            ("action", SHORT_FIELD_LIMIT),
            ("reason", SHORT_FIELD_LIMIT),
            ("message", MESSAGE_LIMIT),
        ] {
            let value = str_at(obj, &[field]);
            let path = FieldPath::new(field);
            if value.is_empty() && field != "message" {
                errs.push(FieldError::required(&path, ""));
            }
            if value.len() > limit {
                errs.push(FieldError::invalid(
                    &path,
                    json!(""),
                    &format!("can have at most {limit} characters"),
                ));
            }
        }
    }
    for msg in validation::is_dns1123_subdomain(namespace) {
        errs.push(FieldError::invalid(
            &FieldPath::new("namespace"),
            json!(namespace),
            &msg,
        ));
    }
    errs
}

/// A timestamp cell: `field` of `obj`, or `None` when unset.
fn time_of(obj: &Value, path: &[&str]) -> Option<String> {
    let s = str_at(obj, path);
    (!s.is_empty()).then(|| s.to_string())
}

/// `formatEventSource`: the component (or reporting controller), then the host (or
/// reporting instance) after a comma when there is one.
fn event_source(obj: &Value) -> String {
    let first = |a: &str, b: &'static str| -> String {
        let v = str_at(obj, &["source", a]);
        if v.is_empty() {
            str_at(obj, &[b]).to_string()
        } else {
            v.to_string()
        }
    };
    let component = first("component", "reportingComponent");
    let instance = first("host", "reportingInstance");
    if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    }
}

impl Strategy for EventStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        fill_go_zero_values(obj);
    }

    fn prepare_for_update(&self, new: &mut Value, _old: &Value) {
        fill_go_zero_values(new);
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_event(obj)
    }

    fn validate_update(&self, new: &Value, _old: &Value) -> Vec<FieldError> {
        validate_event(new)
    }

    fn validate_name(&self, name: &str, prefix: bool) -> Vec<String> {
        validation::name_is_path_segment(name, prefix)
    }

    fn allow_create_on_update(&self) -> bool {
        true
    }

    fn allow_unconditional_update(&self) -> bool {
        true
    }

    fn gc_policy(&self) -> GcPolicy {
        GcPolicy::Unsupported
    }

    fn table_leads_with_name(&self) -> bool {
        false
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        let wide = |c: ColumnDef| ColumnDef { priority: 1, ..c };
        vec![
            ColumnDef::new("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
            ColumnDef::new("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future"),
            ColumnDef::new("Reason", "string", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
            ColumnDef::new("Object", "string", "The object that this event is about."),
            wide(ColumnDef::new("Subobject", "string", "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.")),
            wide(ColumnDef::new("Source", "string", "The component reporting this event. Should be a short machine understandable string.")),
            ColumnDef::new("Message", "string", "A human-readable description of the status of this operation."),
            wide(ColumnDef::new("First Seen", "string", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)")),
            wide(ColumnDef::new("Count", "string", "The number of times this event has occurred.")),
            ColumnDef {
                priority: 1,
                ..ColumnDef::NAME
            },
        ]
    }

    /// Upstream's `printEvent` with `Wide` (the server always prints every column; kubectl
    /// hides the priority-1 ones unless `-o wide`).
    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let age = |t: Option<String>| Cell::Age(t.unwrap_or_default());
        let first = time_of(obj, &["firstTimestamp"]).or_else(|| time_of(obj, &["eventTime"]));
        let series = obj.get("series").filter(|s| s.is_object());
        let last = match series {
            Some(_) => time_of(obj, &["series", "lastObservedTime"]),
            None => time_of(obj, &["lastTimestamp"]).or_else(|| first.clone()),
        };
        let count = match series {
            Some(s) => s.get("count").and_then(Value::as_i64).unwrap_or(0),
            None => match obj.get("count").and_then(Value::as_i64).unwrap_or(0) {
                0 => 1,
                n => n,
            },
        };
        let kind = str_at(obj, &["involvedObject", "kind"]).to_lowercase();
        let name = str_at(obj, &["involvedObject", "name"]);
        let target = if name.is_empty() {
            kind
        } else {
            format!("{kind}/{name}")
        };
        vec![
            age(last),
            Cell::Value(json!(str_at(obj, &["type"]))),
            Cell::Value(json!(str_at(obj, &["reason"]))),
            Cell::Value(json!(target)),
            Cell::Value(json!(str_at(obj, &["involvedObject", "fieldPath"]))),
            Cell::Value(json!(event_source(obj))),
            Cell::Value(json!(str_at(obj, &["message"]).trim())),
            age(first),
            Cell::Value(json!(count)),
            Cell::Value(json!(meta::name(obj))),
        ]
    }

    fn selectable_fields(&self) -> &[&'static str] {
        &SELECTABLE
    }

    fn field_value(&self, obj: &Value, field: &str) -> Option<String> {
        let value = match field {
            // The reporting component stands in for a legacy source that is not set.
            "source" => match str_at(obj, &["source", "component"]) {
                "" => str_at(obj, &["reportingComponent"]),
                component => component,
            },
            other => {
                let path: Vec<&str> = other.split('.').collect();
                str_at(obj, &path)
            }
        };
        Some(value.to_string())
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "",
        "v1",
        "Event",
        "events",
        Scope::Namespaced,
        Arc::new(EventStrategy),
    )
    .typed()
    .with_short_names(&["ev"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ns: &str, extra: Value) -> Value {
        let mut e = json!({
            "metadata": {"name": "c1.1", "namespace": ns},
            "involvedObject": {"kind": "ConfigMap", "name": "c1", "namespace": ns},
            "reason": "Created",
            "message": "made it",
        });
        if let (Some(e), Value::Object(extra)) = (e.as_object_mut(), extra) {
            e.extend(extra);
        }
        e
    }

    fn fields(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn legacy_events_need_matching_namespaces() {
        assert!(validate_event(&event("demo", json!({}))).is_empty());
        let mut e = event("demo", json!({}));
        e["involvedObject"]["namespace"] = json!("other");
        let errs = validate_event(&e);
        assert_eq!(fields(&errs), ["involvedObject.namespace"]);
        assert_eq!(errs[0].detail, "does not match event.namespace");
        // A cluster-scoped subject: only the default namespace (for old clients) will do.
        let mut e = event("default", json!({}));
        e["involvedObject"] = json!({"kind": "Node", "name": "n1"});
        assert!(validate_event(&e).is_empty());
        e["metadata"]["namespace"] = json!("demo");
        assert_eq!(fields(&validate_event(&e)), ["involvedObject.namespace"]);
    }

    #[test]
    fn new_style_events_name_reporter_action_and_reason() {
        let e = event("demo", json!({"eventTime": "2026-11-22T10:00:00.000000Z"}));
        // As upstream: an empty controller is required, and not a qualified name (twice:
        // empty, and not matching the pattern).
        assert_eq!(
            fields(&validate_event(&e)),
            [
                "reportingController",
                "reportingController",
                "reportingController",
                "reportingInstance",
                "action"
            ]
        );
        let long = "x".repeat(129);
        let e = event(
            "demo",
            json!({
                "eventTime": "2026-11-22T10:00:00.000000Z",
                "reportingComponent": "not a name!",
                "reportingInstance": "i",
                "action": long,
                "message": "m".repeat(1025),
            }),
        );
        let errs = validate_event(&e);
        assert_eq!(fields(&errs), ["reportingController", "action", "message"]);
        assert_eq!(errs[1].detail, "can have at most 128 characters");
        assert_eq!(errs[2].detail, "can have at most 1024 characters");
    }

    #[test]
    fn go_zero_values_are_written() {
        let mut e = json!({"metadata": {"name": "e"}});
        fill_go_zero_values(&mut e);
        assert_eq!(
            e,
            json!({
                "metadata": {"name": "e"},
                "involvedObject": {},
                "source": {},
                "firstTimestamp": null,
                "lastTimestamp": null,
                "eventTime": null,
                "reportingComponent": "",
                "reportingInstance": "",
            })
        );
    }

    #[test]
    fn table_cells_follow_print_event() {
        let e = event(
            "demo",
            json!({
                "type": "Normal",
                "source": {"component": "kubelet", "host": "node-1"},
                "firstTimestamp": "2026-11-22T10:00:00Z",
                "involvedObject": {"kind": "Pod", "name": "p", "namespace": "demo", "fieldPath": "spec.containers{app}"},
                "message": "  pulled \n",
            }),
        );
        let cells = EventStrategy.table_cells(&e);
        assert_eq!(cells.len(), EventStrategy.table_columns().len());
        assert_eq!(cells[0], Cell::Age("2026-11-22T10:00:00Z".into()));
        assert_eq!(cells[3], Cell::Value(json!("pod/p")));
        assert_eq!(cells[4], Cell::Value(json!("spec.containers{app}")));
        assert_eq!(cells[5], Cell::Value(json!("kubelet, node-1")));
        assert_eq!(cells[6], Cell::Value(json!("pulled")));
        assert_eq!(cells[8], Cell::Value(json!(1)));
        assert_eq!(cells[9], Cell::Value(json!("c1.1")));
        // A series: its count and last observation.
        let e = event(
            "demo",
            json!({"eventTime": "2026-11-22T10:00:00.000000Z", "reportingComponent": "ctl",
                   "series": {"count": 4, "lastObservedTime": "2026-11-22T10:05:00.000000Z"}}),
        );
        let cells = EventStrategy.table_cells(&e);
        assert_eq!(cells[0], Cell::Age("2026-11-22T10:05:00.000000Z".into()));
        assert_eq!(cells[5], Cell::Value(json!("ctl")));
        assert_eq!(cells[7], Cell::Age("2026-11-22T10:00:00.000000Z".into()));
        assert_eq!(cells[8], Cell::Value(json!(4)));
    }

    #[test]
    fn source_selector_falls_back_to_the_reporting_component() {
        let e = event("demo", json!({"reportingComponent": "ctl"}));
        assert_eq!(
            EventStrategy.field_value(&e, "source").as_deref(),
            Some("ctl")
        );
        assert_eq!(
            EventStrategy
                .field_value(&e, "involvedObject.kind")
                .as_deref(),
            Some("ConfigMap")
        );
        assert_eq!(EventStrategy.field_value(&e, "type").as_deref(), Some(""));
    }
}

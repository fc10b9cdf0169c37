//! Managers at different versions of one kind: a write at one version compares each other
//! manager's fields at the version that manager wrote them (upstream's version converter),
//! so conflicts and lost ownership follow the field whatever its name at each version.

use std::sync::Arc;

use apimachinery::schema::decl::{Field, Message, Type};
use apimachinery::schema::MessageRef;
use managedfields::manager::{ApplyError, FieldManager, VersionConverter};
use managedfields::shape::Shape;
use serde_json::{json, Value};

static META: Message = Message {
    name: "io.example.Meta",
    description: "",
    gvks: &[],
    atomic: false,
    fields: &[
        Field::new("name", 1, Type::String),
        Field::new("labels", 2, Type::Map(&Type::String)),
        Field::new("managedFields", 3, Type::List(&Type::RawJson)),
    ],
};

static SPEC_V1: Message = Message {
    name: "io.example.v1.Spec",
    description: "",
    gvks: &[],
    atomic: false,
    fields: &[
        Field::new("replicas", 1, Type::Int32),
        Field::new("target", 2, Type::Int32),
    ],
};

static METRICS: Message = Message {
    name: "io.example.v2.Metrics",
    description: "",
    gvks: &[],
    atomic: false,
    fields: &[Field::new("cpu", 1, Type::Int32)],
};

static SPEC_V2: Message = Message {
    name: "io.example.v2.Spec",
    description: "",
    gvks: &[],
    atomic: false,
    fields: &[
        Field::new("replicas", 1, Type::Int32),
        Field::new("metrics", 2, Type::Message(&METRICS)),
    ],
};

static SCALER_V1: Message = Message {
    name: "io.example.v1.Scaler",
    description: "",
    gvks: &[("example.io", "v1", "Scaler")],
    atomic: false,
    fields: &[
        Field::new("apiVersion", 1, Type::String),
        Field::new("kind", 2, Type::String),
        Field::new("metadata", 3, Type::Message(&META)),
        Field::new("spec", 4, Type::Message(&SPEC_V1)),
    ],
};

static SCALER_V2: Message = Message {
    name: "io.example.v2.Scaler",
    description: "",
    gvks: &[("example.io", "v2", "Scaler")],
    atomic: false,
    fields: &[
        Field::new("apiVersion", 1, Type::String),
        Field::new("kind", 2, Type::String),
        Field::new("metadata", 3, Type::Message(&META)),
        Field::new("spec", 4, Type::Message(&SPEC_V2)),
    ],
};

const NOW: &str = "2026-12-03T10:00:00Z";

/// v1's `spec.target` is v2's `spec.metrics.cpu`.
#[derive(Debug)]
struct Versions;

fn shape_of(version: &str) -> Option<Shape> {
    match version {
        "example.io/v1" => Some(Shape::root(&MessageRef::from_decl(&SCALER_V1))),
        "example.io/v2" => Some(Shape::root(&MessageRef::from_decl(&SCALER_V2))),
        _ => None,
    }
}

fn convert(obj: &Value, to: &str) -> Value {
    let mut out = obj.clone();
    out["apiVersion"] = json!(to);
    let Some(spec) = out.get_mut("spec").and_then(Value::as_object_mut) else {
        return out;
    };
    if to == "example.io/v1" {
        if let Some(cpu) = spec.remove("metrics").and_then(|m| m.get("cpu").cloned()) {
            spec.insert("target".into(), cpu);
        }
    } else if let Some(target) = spec.remove("target") {
        spec.insert("metrics".into(), json!({ "cpu": target }));
    }
    out
}

impl VersionConverter for Versions {
    fn shape(&self, api_version: &str) -> Option<Shape> {
        shape_of(api_version)
    }

    fn convert(&self, obj: &Value, _from: &str, to: &str) -> Option<Value> {
        shape_of(to).map(|_| convert(obj, to))
    }
}

fn fm(version: &str, versioned: bool) -> FieldManager {
    let mut fm = FieldManager::new(
        shape_of(&format!("example.io/{version}")).expect("shape"),
        "example.io",
        version,
        "Scaler",
        "",
    );
    if versioned {
        fm.converter = Some(Arc::new(Versions));
    }
    fm
}

fn scaler(version: &str, spec: Value) -> Value {
    json!({"apiVersion": format!("example.io/{version}"), "kind": "Scaler",
        "metadata": {"name": "s"}, "spec": spec})
}

fn entry(obj: &Value, manager: &str) -> Value {
    obj["metadata"]["managedFields"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["manager"] == manager).cloned())
        .unwrap_or(Value::Null)
}

/// The object `v2mgr` applied at v2, as v1 serves it.
fn applied_at_v2() -> Value {
    let obj = fm("v2", true)
        .apply(
            None,
            &scaler("v2", json!({"replicas": 2, "metrics": {"cpu": 50}})),
            "v2mgr",
            false,
            NOW,
        )
        .expect("apply at v2");
    convert(&obj, "example.io/v1")
}

#[test]
fn an_apply_at_another_version_conflicts_on_the_field_as_its_owner_named_it() {
    let live = applied_at_v2();
    let config = scaler("v1", json!({"target": 70}));
    let err = fm("v1", true)
        .apply(Some(&live), &config, "v1mgr", false, NOW)
        .expect_err("conflict");
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"v2mgr\": .spec.metrics.cpu"
    );
    assert!(matches!(err, ApplyError::Conflicts(_)));

    // Forced, the field changes hands at both versions: v2mgr keeps what else it owns.
    let forced = fm("v1", true)
        .apply(Some(&live), &config, "v1mgr", true, NOW)
        .expect("forced");
    assert_eq!(forced["spec"]["target"], 70);
    assert_eq!(
        entry(&forced, "v2mgr")["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert_eq!(entry(&forced, "v2mgr")["apiVersion"], "example.io/v2");
    assert_eq!(
        entry(&forced, "v1mgr")["fieldsV1"],
        json!({"f:spec": {"f:target": {}}})
    );
    assert_eq!(entry(&forced, "v1mgr")["apiVersion"], "example.io/v1");

    // Back at v2, v1mgr's field is met under v2's name.
    let live_v2 = convert(&forced, "example.io/v2");
    let err = fm("v2", true)
        .apply(
            Some(&live_v2),
            &scaler("v2", json!({"replicas": 2, "metrics": {"cpu": 50}})),
            "v2mgr",
            false,
            NOW,
        )
        .expect_err("conflict");
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"v1mgr\": .spec.target"
    );
}

#[test]
fn without_conversion_the_owner_at_another_version_is_not_seen() {
    // What the converter is for: compared at v1 only, v2mgr's `.spec.metrics.cpu` never
    // meets the change of `.spec.target`.
    let live = applied_at_v2();
    let out = fm("v1", false)
        .apply(
            Some(&live),
            &scaler("v1", json!({"target": 70})),
            "v1mgr",
            false,
            NOW,
        )
        .expect("no conflict seen");
    assert!(entry(&out, "v2mgr")["fieldsV1"]["f:spec"]
        .get("f:metrics")
        .is_some());
}

#[test]
fn an_update_at_one_version_takes_the_field_from_its_owner_at_another() {
    let live = applied_at_v2();
    let mut new = live.clone();
    new["spec"]["target"] = json!(80);
    fm("v1", true).update(Some(&live), &mut new, "editor", NOW);
    assert_eq!(
        entry(&new, "v2mgr")["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert_eq!(
        entry(&new, "editor")["fieldsV1"],
        json!({"f:spec": {"f:target": {}}})
    );
    // A change of another field leaves the owner at v2 its field.
    let live = applied_at_v2();
    let mut new = live.clone();
    new["metadata"]["labels"] = json!({"a": "b"});
    fm("v1", true).update(Some(&live), &mut new, "labeller", NOW);
    assert_eq!(
        entry(&new, "v2mgr")["fieldsV1"],
        json!({"f:spec": {"f:metrics": {"f:cpu": {}}, "f:replicas": {}}})
    );
}

#[test]
fn an_applier_switching_versions_drops_what_it_no_longer_applies() {
    // v2mgr applied replicas and the cpu target at v2; at v1 it applies the target only.
    let live = applied_at_v2();
    let out = fm("v1", true)
        .apply(
            Some(&live),
            &scaler("v1", json!({"target": 50})),
            "v2mgr",
            false,
            NOW,
        )
        .expect("apply at v1");
    assert_eq!(out["spec"], json!({"target": 50}), "{out}");
    assert_eq!(entry(&out, "v2mgr")["apiVersion"], "example.io/v1");
    assert_eq!(
        entry(&out, "v2mgr")["fieldsV1"],
        json!({"f:spec": {"f:target": {}}})
    );

    // What another manager owns stays, whatever the version it owns it at.
    let mut shared = applied_at_v2();
    let mut edited = shared.clone();
    edited["spec"]["replicas"] = json!(3);
    fm("v1", true).update(Some(&shared), &mut edited, "editor", NOW);
    shared = edited;
    let out = fm("v1", true)
        .apply(
            Some(&shared),
            &scaler("v1", json!({"target": 50})),
            "v2mgr",
            false,
            NOW,
        )
        .expect("apply at v1");
    assert_eq!(out["spec"], json!({"replicas": 3, "target": 50}), "{out}");
}

#[test]
fn managers_at_a_version_no_longer_served_are_dropped() {
    let mut live = applied_at_v2();
    live["metadata"]["managedFields"][0]["apiVersion"] = json!("example.io/v0");
    let mut new = live.clone();
    new["metadata"]["labels"] = json!({"a": "b"});
    fm("v1", true).update(Some(&live), &mut new, "labeller", NOW);
    assert_eq!(entry(&new, "v2mgr"), Value::Null, "{new}");
    assert!(entry(&new, "labeller").is_object());
    // Without a converter there is nothing to tell served versions by: kept.
    let mut new = live.clone();
    new["metadata"]["labels"] = json!({"a": "b"});
    fm("v1", false).update(Some(&live), &mut new, "labeller", NOW);
    assert!(entry(&new, "v2mgr").is_object());
}

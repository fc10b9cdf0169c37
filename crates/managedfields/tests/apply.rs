//! Merge, ownership and conflicts on a small kind, following the cases of
//! structured-merge-diff's own suite (multiple appliers, nested keyed lists, sets, atomic
//! lists, granular vs atomic maps, removal of dropped fields, duplicates), in our words.

use apimachinery::schema::decl::{Field, ListMerge, Message, Type};
use apimachinery::schema::MessageRef;
use managedfields::manager::{conflict_message, ApplyError, FieldManager};
use managedfields::set::Set;
use managedfields::shape::Shape;
use managedfields::typed;
use serde_json::{json, Value};

static META: Message = Message {
    name: "io.example.v1.Meta",
    description: "",
    gvks: &[],
    atomic: false,
    fields: &[
        Field::new("name", 1, Type::String),
        Field::new("namespace", 2, Type::String),
        Field::new("labels", 3, Type::Map(&Type::String)),
        Field::new("annotations", 4, Type::Map(&Type::String)),
        Field::new("managedFields", 5, Type::List(&Type::RawJson)),
        Field::new("uid", 6, Type::String),
        Field::new("resourceVersion", 7, Type::String),
    ],
};

static PORT: Message = Message {
    name: "io.example.v1.Port",
    description: "",
    gvks: &[],
    atomic: false,
    fields: &[
        Field::new("containerPort", 1, Type::Int32),
        Field::new("protocol", 2, Type::String),
        Field::new("name", 3, Type::String),
    ],
};

static CONTAINER: Message = Message {
    name: "io.example.v1.Container",
    description: "",
    gvks: &[],
    atomic: false,
    fields: &[
        Field::new("name", 1, Type::String),
        Field::new("image", 2, Type::String),
        Field::new("args", 3, Type::List(&Type::String)),
        Field::new("ports", 4, Type::List(&Type::Message(&PORT))).merge(ListMerge::of(
            Some("map"),
            &["containerPort", "protocol"],
            None,
            None,
            None,
        )),
    ],
};

static SELECTOR: Message = Message {
    name: "io.example.v1.Selector",
    description: "",
    gvks: &[],
    atomic: true,
    fields: &[Field::new("matchLabels", 1, Type::Map(&Type::String))],
};

static SPEC: Message =
    Message {
        name: "io.example.v1.Spec",
        description: "",
        gvks: &[],
        atomic: false,
        fields: &[
            Field::new("replicas", 1, Type::Int32),
            Field::new("containers", 2, Type::List(&Type::Message(&CONTAINER)))
                .merge(ListMerge::of(None, &[], Some("merge"), Some("name"), None)),
            Field::new("finalizers", 3, Type::List(&Type::String)).merge(ListMerge::of(
                Some("set"),
                &[],
                None,
                None,
                None,
            )),
            Field::new("selector", 4, Type::Message(&SELECTOR)),
            Field::new("config", 5, Type::Map(&Type::String)).merge(ListMerge::of(
                None,
                &[],
                None,
                None,
                Some("atomic"),
            )),
            Field::new("extra", 6, Type::RawJson),
        ],
    };

static THING: Message = Message {
    name: "io.example.v1.Thing",
    description: "",
    gvks: &[("example.io", "v1", "Thing")],
    atomic: false,
    fields: &[
        Field::new("apiVersion", 1, Type::String),
        Field::new("kind", 2, Type::String),
        Field::new("metadata", 3, Type::Message(&META)),
        Field::new("spec", 4, Type::Message(&SPEC)),
        Field::new("status", 5, Type::Message(&SPEC)),
    ],
};

const NOW: &str = "2026-12-03T10:00:00Z";

fn fm() -> FieldManager {
    FieldManager::new(
        Shape::root(&MessageRef::from_decl(&THING)),
        "example.io",
        "v1",
        "Thing",
        "",
    )
}

fn thing(spec: Value) -> Value {
    json!({"apiVersion": "example.io/v1", "kind": "Thing", "metadata": {"name": "a"}, "spec": spec})
}

fn apply(live: Option<&Value>, config: &Value, manager: &str) -> Value {
    match fm().apply(live, config, manager, false, NOW) {
        Ok(v) => v,
        Err(e) => panic!("apply by {manager}: {e}"),
    }
}

fn fields_of(obj: &Value, manager: &str) -> String {
    obj["metadata"]["managedFields"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["manager"] == manager))
        .map(|e| managedfields::gojson::to_string(&e["fieldsV1"]))
        .unwrap_or_default()
}

#[test]
fn field_sets_follow_list_and_map_types() {
    let shape = Shape::root(&MessageRef::from_decl(&THING));
    let obj = thing(json!({
        "replicas": 1,
        "containers": [{"name": "c", "image": "i", "args": ["x"], "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
        "finalizers": ["f1", "f2"],
        "selector": {"matchLabels": {"a": "b"}},
        "config": {"k": "v"},
        "extra": {"free": {"form": [1]}},
    }));
    let set = typed::field_set(&shape, &obj);
    assert_eq!(
        set.to_fields_v1(),
        concat!(
            r#"{"f:apiVersion":{},"f:kind":{},"f:metadata":{"f:name":{}},"f:spec":{"#,
            r#""f:config":{},"#,
            r#""f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:args":{},"f:image":{},"f:name":{},"#,
            r#""f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}}}},"#,
            r#""f:extra":{"f:free":{".":{},"f:form":{}}},"#,
            r#""f:finalizers":{"v:\"f1\"":{},"v:\"f2\"":{}},"f:replicas":{},"f:selector":{}}}"#
        )
    );
}

#[test]
fn duplicated_items_are_owned_whole() {
    let shape = Shape::root(&MessageRef::from_decl(&THING));
    let obj =
        thing(json!({"containers": [{"name": "c", "image": "1"}, {"name": "c", "image": "2"}]}));
    let set = typed::field_set(&shape, &obj);
    assert_eq!(
        managedfields::gojson::to_string(
            &serde_json::from_str::<Value>(&set.to_fields_v1()).unwrap_or_default()["f:spec"]
        ),
        r#"{"f:containers":{"k:{\"name\":\"c\"}":{}}}"#
    );
}

#[test]
fn compare_reports_added_modified_removed() {
    let shape = Shape::root(&MessageRef::from_decl(&THING));
    let old =
        thing(json!({"replicas": 1, "finalizers": ["a"], "selector": {"matchLabels": {"x": "y"}}}));
    let new = thing(json!({"replicas": 2, "finalizers": ["a", "b"], "config": {"k": "v"}}));
    let cmp = typed::compare(&shape, Some(&old), Some(&new));
    assert_eq!(
        cmp.modified.to_fields_v1(),
        r#"{"f:spec":{"f:replicas":{}}}"#
    );
    assert_eq!(
        cmp.added.to_fields_v1(),
        r#"{"f:spec":{"f:config":{},"f:finalizers":{"v:\"b\"":{}}}}"#
    );
    assert_eq!(
        cmp.removed.to_fields_v1(),
        r#"{"f:spec":{"f:selector":{}}}"#
    );
    assert!(typed::compare(&shape, Some(&old), Some(&old)).is_same());
}

#[test]
fn create_records_an_update_entry_like_upstream() {
    let mut obj = thing(json!({"replicas": 1}));
    obj["metadata"]["labels"] = json!({"app": "x"});
    fm().update(None, &mut obj, "kubectl-create", NOW);
    assert_eq!(
        obj["metadata"]["managedFields"],
        json!([{"manager": "kubectl-create", "operation": "Update", "apiVersion": "example.io/v1",
                "time": NOW, "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {"f:replicas": {}}}}])
    );
    // An update by another manager takes the field it changed.
    let live = obj.clone();
    let mut next = obj.clone();
    next["spec"]["replicas"] = json!(3);
    fm().update(Some(&live), &mut next, "scaler", "2026-12-03T10:00:05Z");
    assert_eq!(
        fields_of(&next, "kubectl-create"),
        r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}"#
    );
    assert_eq!(
        fields_of(&next, "scaler"),
        r#"{"f:spec":{"f:replicas":{}}}"#
    );
    // `managedFields: []` stops tracking.
    let mut reset = next.clone();
    reset["metadata"]["managedFields"] = json!([]);
    fm().update(Some(&next), &mut reset, "x", NOW);
    assert!(reset["metadata"].get("managedFields").is_none());
    // An untracked object stays untracked on update.
    let mut again = reset.clone();
    again["spec"]["replicas"] = json!(4);
    fm().update(Some(&reset), &mut again, "x", NOW);
    assert!(again["metadata"].get("managedFields").is_none());
}

#[test]
fn update_managers_are_capped_into_ancient_changes() {
    let mut obj = thing(json!({"replicas": 1}));
    fm().update(None, &mut obj, "m0", "2026-12-03T10:00:00Z");
    for i in 1..=12 {
        let live = obj.clone();
        let mut labels = live["metadata"]["labels"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        labels.insert(format!("l{i}"), json!("v"));
        obj["metadata"]["labels"] = Value::Object(labels);
        fm().update(
            Some(&live),
            &mut obj,
            &format!("m{i}"),
            &format!("2026-12-03T10:00:{i:02}Z"),
        );
    }
    let entries = obj["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(entries.len(), 10);
    assert_eq!(entries[0]["manager"], "ancient-changes");
    assert!(fields_of(&obj, "ancient-changes").contains("f:l1"));
    assert!(fields_of(&obj, "ancient-changes").contains("f:l3"));
    assert_eq!(entries[9]["manager"], "m12");
}

#[test]
fn two_appliers_share_and_conflict() {
    let a = thing(json!({"replicas": 1, "finalizers": ["x"]}));
    let obj = apply(None, &a, "a");
    assert_eq!(
        fields_of(&obj, "a"),
        r#"{"f:spec":{"f:finalizers":{"v:\"x\"":{}},"f:replicas":{}}}"#
    );
    // The same value is shared without conflict.
    let b = thing(json!({"replicas": 1, "finalizers": ["y"]}));
    let obj = apply(Some(&obj), &b, "b");
    assert_eq!(obj["spec"]["finalizers"], json!(["x", "y"]));
    assert_eq!(
        fields_of(&obj, "b"),
        r#"{"f:spec":{"f:finalizers":{"v:\"y\"":{}},"f:replicas":{}}}"#
    );
    // A different value conflicts with both owners.
    let c = thing(json!({"replicas": 2}));
    let Err(ApplyError::Conflicts(conflicts)) = fm().apply(Some(&obj), &c, "c", false, NOW) else {
        panic!("expected conflicts");
    };
    assert_eq!(
        conflict_message(&conflicts),
        "Apply failed with 2 conflicts: conflicts with \"a\":\n- .spec.replicas\nconflicts with \"b\":\n- .spec.replicas"
    );
    // Forced, it takes the field from both.
    let obj = fm()
        .apply(Some(&obj), &c, "c", true, NOW)
        .unwrap_or_default();
    assert_eq!(obj["spec"]["replicas"], 2);
    assert_eq!(
        fields_of(&obj, "a"),
        r#"{"f:spec":{"f:finalizers":{"v:\"x\"":{}}}}"#
    );
    assert_eq!(fields_of(&obj, "c"), r#"{"f:spec":{"f:replicas":{}}}"#);
}

#[test]
fn dropped_fields_are_removed_unless_others_own_them() {
    let obj = apply(
        None,
        &thing(json!({"replicas": 1, "config": {"k": "v"}, "finalizers": ["x", "y"]})),
        "a",
    );
    let obj = apply(Some(&obj), &thing(json!({"finalizers": ["y"]})), "b");
    // a drops replicas, config and the item y (which b owns too) and x.
    let obj = apply(Some(&obj), &thing(json!({})), "a");
    assert!(obj["spec"].get("replicas").is_none());
    assert!(obj["spec"].get("config").is_none());
    assert_eq!(obj["spec"]["finalizers"], json!(["y"]));
    // What it applied now: an empty spec.
    assert_eq!(fields_of(&obj, "a"), r#"{"f:spec":{}}"#);
}

#[test]
fn keyed_lists_merge_by_key_and_keep_order() {
    let obj = apply(
        None,
        &thing(json!({"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]})),
        "one",
    );
    let obj = apply(
        Some(&obj),
        &thing(json!({"containers": [{"name": "c", "image": "2"}, {"name": "a", "args": ["x"]}]})),
        "two",
    );
    assert_eq!(
        obj["spec"]["containers"],
        // The configuration's order for the items it names, the others kept after them.
        json!([{"name": "c", "image": "2"}, {"name": "a", "image": "1", "args": ["x"]}, {"name": "b", "image": "1"}])
    );
    // Atomic lists are replaced and owned whole: another applier of args conflicts.
    let err = fm().apply(
        Some(&obj),
        &thing(json!({"containers": [{"name": "a", "args": ["y"]}]})),
        "three",
        false,
        NOW,
    );
    let Err(ApplyError::Conflicts(c)) = err else {
        panic!("expected a conflict")
    };
    assert_eq!(
        conflict_message(&c),
        "Apply failed with 1 conflict: conflict with \"two\": .spec.containers[name=\"a\"].args"
    );
}

#[test]
fn atomic_structs_and_maps_are_replaced() {
    let obj = apply(
        None,
        &thing(
            json!({"selector": {"matchLabels": {"a": "1", "b": "2"}}, "config": {"x": "1", "y": "2"}}),
        ),
        "one",
    );
    let obj = fm()
        .apply(
            Some(&obj),
            &thing(json!({"selector": {"matchLabels": {"c": "3"}}, "config": {"z": "3"}})),
            "two",
            true,
            NOW,
        )
        .unwrap_or_default();
    assert_eq!(obj["spec"]["selector"], json!({"matchLabels": {"c": "3"}}));
    assert_eq!(obj["spec"]["config"], json!({"z": "3"}));
    assert_eq!(fields_of(&obj, "one"), "");
}

#[test]
fn apply_over_updates_and_before_first_apply() {
    // An object nobody tracked: what it holds goes to before-first-apply.
    let mut live = thing(json!({"replicas": 1}));
    live["metadata"]["uid"] = json!("u");
    let obj = apply(Some(&live), &thing(json!({"finalizers": ["a"]})), "a");
    assert_eq!(
        fields_of(&obj, "before-first-apply"),
        r#"{"f:spec":{"f:replicas":{}}}"#
    );
    // An Update manager's field conflicts with an apply that changes it, naming its version.
    let err = fm().apply(Some(&obj), &thing(json!({"replicas": 5})), "a", false, NOW);
    let Err(ApplyError::Conflicts(c)) = err else {
        panic!("expected a conflict")
    };
    assert_eq!(
        conflict_message(&c),
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using example.io/v1: .spec.replicas"
    );
}

#[test]
fn a_no_op_apply_keeps_the_object_and_time() {
    let cfg = thing(json!({"replicas": 1}));
    let obj = apply(None, &cfg, "a");
    let again = fm()
        .apply(Some(&obj), &cfg, "a", false, "2030-01-01T00:00:00Z")
        .unwrap_or_default();
    assert_eq!(again, obj);
}

#[test]
fn wrong_type_and_managed_fields_in_config_are_refused() {
    let mut cfg = thing(json!({}));
    cfg["kind"] = json!("Other");
    assert_eq!(
        fm().apply(None, &cfg, "a", false, NOW),
        Err(ApplyError::BadRequest(
            "invalid object type: example.io/v1, Kind=Other".into()
        ))
    );
    let mut cfg = thing(json!({}));
    cfg["metadata"]["managedFields"] = json!([]);
    assert_eq!(
        fm().apply(None, &cfg, "a", false, NOW),
        Err(ApplyError::BadRequest(
            "metadata.managedFields must be nil".into()
        ))
    );
}

#[test]
fn sets_of_paths_reject_nothing_they_hold() {
    let s = Set::from_fields_v1_str(r#"{"f:spec":{"f:replicas":{}}}"#).unwrap_or_default();
    assert!(!s.is_empty());
}

#[test]
fn a_key_field_left_out_takes_its_default() {
    let cfg = thing(json!({"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}));
    let obj = apply(None, &cfg, "a");
    // The server defaulted the protocol; applying the same configuration again matches it.
    let mut live = obj.clone();
    live["spec"]["containers"][0]["ports"][0]["protocol"] = json!("TCP");
    let again = apply(Some(&live), &cfg, "a");
    assert_eq!(
        again["spec"]["containers"][0]["ports"],
        json!([{"containerPort": 80, "protocol": "TCP"}])
    );
    assert!(fields_of(&again, "a").contains(r#"k:{\"containerPort\":80,\"protocol\":\"TCP\"}"#));
}

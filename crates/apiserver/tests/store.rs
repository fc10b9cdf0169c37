//! The generic Store with a kind that tracks `metadata.generation`: 1 on create, +1 on
//! every change outside metadata and status, never on metadata-only or status changes;
//! system fields cannot be changed by clients; PUT without changes writes nothing.

use std::sync::Arc;

use apiserver::admission::AdmissionChain;
use apiserver::auth::UserInfo;
use apiserver::registry::{RequestContext, ResourceDecl, Scope, Store, Strategy};
use serde_json::{json, Value};
use storage::embedded::EmbeddedStore;

/// A kind with a spec and a status subresource that tracks generation.
struct Widget;

impl Strategy for Widget {
    fn tracks_generation(&self) -> bool {
        true
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        new["status"] = old.get("status").cloned().unwrap_or(Value::Null);
    }
}

fn ctx() -> RequestContext {
    RequestContext {
        user: UserInfo::default(),
        dry_run: false,
        ..Default::default()
    }
}

fn generation(v: &Value) -> i64 {
    v["metadata"]["generation"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generation_counts_spec_changes_only() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(EmbeddedStore::open(&dir.path().join("db")).unwrap());
    let decl = ResourceDecl::new(
        "example.com",
        "v1",
        "Widget",
        "widgets",
        Scope::Namespaced,
        Arc::new(Widget),
    )
    .with_subresources(&["status"]);
    let store = Store::new(
        Arc::new(decl),
        backend,
        "/registry",
        AdmissionChain::default(),
    );

    let created = store
        .create(&ctx(), "ns", json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "generation": 9}, "spec": {"size": 1}}))
        .await
        .unwrap();
    assert_eq!(generation(&created), 1, "clients cannot set generation");

    let mut spec_change = created.clone();
    spec_change["spec"]["size"] = json!(2);
    let (updated, _) = store
        .update(&ctx(), "ns", "w", "", spec_change)
        .await
        .unwrap();
    assert_eq!(generation(&updated), 2);

    let mut label_change = updated.clone();
    label_change["metadata"]["labels"] = json!({"a": "b"});
    label_change["metadata"]["uid"] = updated["metadata"]["uid"].clone();
    let (labelled, _) = store
        .update(&ctx(), "ns", "w", "", label_change)
        .await
        .unwrap();
    assert_eq!(
        generation(&labelled),
        2,
        "metadata changes keep the generation"
    );

    let mut status_change = labelled.clone();
    status_change["status"] = json!({"ready": true});
    let (with_status, _) = store
        .update(&ctx(), "ns", "w", "status", status_change)
        .await
        .unwrap();
    assert_eq!(
        generation(&with_status),
        2,
        "status changes keep the generation"
    );
    assert_eq!(with_status["status"]["ready"], true);

    // The main resource cannot change status; the status subresource cannot change spec.
    let mut sneaky = with_status.clone();
    sneaky["status"] = json!({"ready": false});
    sneaky["spec"]["size"] = json!(3);
    let (after, _) = store.update(&ctx(), "ns", "w", "", sneaky).await.unwrap();
    assert_eq!(after["status"]["ready"], true);
    assert_eq!(
        (after["spec"]["size"].as_i64(), generation(&after)),
        (Some(3), 3)
    );
    let mut sneaky = after.clone();
    sneaky["spec"]["size"] = json!(4);
    let (after_status, _) = store
        .update(&ctx(), "ns", "w", "status", sneaky)
        .await
        .unwrap();
    assert_eq!(after_status["spec"]["size"], 3);

    // Clients cannot move creationTimestamp; an unchanged PUT keeps the resourceVersion.
    let mut moved = after_status.clone();
    moved["metadata"]["creationTimestamp"] = json!("2000-01-01T00:00:00Z");
    let (same, _) = store.update(&ctx(), "ns", "w", "", moved).await.unwrap();
    assert_eq!(
        same["metadata"]["creationTimestamp"],
        after_status["metadata"]["creationTimestamp"]
    );
    assert_eq!(
        same["metadata"]["resourceVersion"],
        after_status["metadata"]["resourceVersion"]
    );

    // A uid that differs from the stored one is refused (immutable field).
    let mut other_uid = same.clone();
    other_uid["metadata"]["uid"] = json!("not-the-uid");
    let err = store
        .update(&ctx(), "ns", "w", "", other_uid)
        .await
        .unwrap_err();
    assert_eq!(err.code, 422, "{err:?}");
}

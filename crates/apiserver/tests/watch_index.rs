//! Watches served through the watch cache's index (a resource whose strategy names a
//! trigger field), on a real embedded store: a watch pinned to a value sees an object
//! arrive and leave with the events and objects it would see without the index, and a
//! watch whose client left is unregistered at once.

use std::sync::Arc;
use std::time::Duration;

use apiserver::admission::AdmissionChain;
use apiserver::auth::UserInfo;
use apiserver::registry::watch::WatchReceiver;
use apiserver::registry::{
    ListParams, RequestContext, ResourceDecl, Scope, Store, Strategy, WatchOut,
};
use serde_json::{json, Value};
use storage::embedded::EmbeddedStore;

/// Things with a `spec.node`, filed by it.
struct ByNode;

impl Strategy for ByNode {
    fn selectable_fields(&self) -> &[&'static str] {
        &["spec.node"]
    }

    fn watch_trigger_field(&self) -> Option<&'static str> {
        Some("spec.node")
    }
}

fn ctx() -> RequestContext {
    RequestContext {
        user: UserInfo::default(),
        dry_run: false,
        ..Default::default()
    }
}

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let backend = Arc::new(EmbeddedStore::open(&dir.path().join("db")).unwrap());
    let decl = ResourceDecl::new(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        Scope::Namespaced,
        Arc::new(ByNode),
    );
    let store = Store::new(
        Arc::new(decl),
        backend,
        "/registry",
        AdmissionChain::default(),
    )
    .with_watch_cache(100);
    let cacher = store.cacher().expect("watch cache");
    assert!(cacher.wait_consistent(Duration::from_secs(5)).await);
    assert_eq!(cacher.trigger_field(), Some("spec.node"));
    (store, dir)
}

fn thing(name: &str, node: &str, rv: Option<&str>) -> Value {
    let mut obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name}, "spec": {"node": node}});
    if let Some(rv) = rv {
        obj["metadata"]["resourceVersion"] = json!(rv);
    }
    obj
}

fn params(q: &str) -> ListParams {
    ListParams::from_query(Some(q)).unwrap()
}

/// `TYPE name node` of the events that come within a short while.
async fn events(rx: &mut WatchReceiver) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
        let (kind, wire) = match &ev {
            WatchOut::Added(w) => ("ADDED", w),
            WatchOut::Modified(w) => ("MODIFIED", w),
            WatchOut::Deleted(w) => ("DELETED", w),
            other => panic!("unexpected {other:?}"),
        };
        let v: Value = serde_json::from_slice(wire).unwrap();
        out.push(format!(
            "{kind} {} {}",
            v["metadata"]["name"].as_str().unwrap_or(""),
            v["spec"]["node"].as_str().unwrap_or("")
        ));
    }
    out
}

fn rv_of(obj: &Value) -> String {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_watch_sees_objects_arrive_and_leave() {
    let (store, _dir) = store().await;
    store
        .create(&ctx(), "ns", thing("old", "a", None))
        .await
        .unwrap();
    let mut on_a = store
        .watch("", &params("fieldSelector=spec.node%3Da"))
        .await
        .unwrap();
    let mut on_b = store
        .watch("ns", &params("fieldSelector=spec.node%3D%3Db"))
        .await
        .unwrap();
    // Not an `=` term: in the general list, filtered as before.
    let mut not_a = store
        .watch("ns", &params("fieldSelector=spec.node!%3Da"))
        .await
        .unwrap();
    let mut named = store
        .watch(
            "",
            &params("fieldSelector=metadata.name%3Dx,metadata.namespace%3Dns"),
        )
        .await
        .unwrap();

    let x = store
        .create(&ctx(), "ns", thing("x", "a", None))
        .await
        .unwrap();
    let (x, _) = store
        .update(&ctx(), "ns", "x", "", thing("x", "b", Some(&rv_of(&x))))
        .await
        .unwrap();
    let mut relabelled = thing("x", "b", Some(&rv_of(&x)));
    relabelled["metadata"]["labels"] = json!({"k": "v"});
    store
        .update(&ctx(), "ns", "x", "", relabelled)
        .await
        .unwrap();
    store
        .create(&ctx(), "other", thing("y", "b", None))
        .await
        .unwrap();
    store
        .delete(&ctx(), "ns", "x", &Default::default())
        .await
        .unwrap();

    // The initial state, then x arriving and leaving (DELETED with its last state on a).
    assert_eq!(
        events(&mut on_a).await,
        vec!["ADDED old a", "ADDED x a", "DELETED x a"]
    );
    assert_eq!(
        events(&mut on_b).await,
        vec!["ADDED x b", "MODIFIED x b", "DELETED x b"]
    );
    assert_eq!(
        events(&mut not_a).await,
        vec!["ADDED x b", "MODIFIED x b", "DELETED x b"]
    );
    assert_eq!(
        events(&mut named).await,
        vec!["ADDED x a", "MODIFIED x b", "MODIFIED x b", "DELETED x b"]
    );
    // Lists with the pinned value match on the cached value.
    let listed = store
        .list("", &params("fieldSelector=spec.node%3Db"))
        .await
        .unwrap();
    let names: Vec<String> = listed
        .items
        .iter()
        .map(|i| serde_json::from_slice::<Value>(i).unwrap()["metadata"]["name"].to_string())
        .collect();
    assert_eq!(names, vec!["\"y\""]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_whose_client_left_is_unregistered_at_once() {
    let (store, _dir) = store().await;
    let cacher = store.cacher().unwrap().clone();
    let rx = store
        .watch("", &params("fieldSelector=spec.node%3Da"))
        .await
        .unwrap();
    let kept = store
        .watch("", &params("fieldSelector=spec.node%3Db"))
        .await
        .unwrap();
    assert_eq!(cacher.watcher_count(), 2);
    drop(rx);
    // No event for either value comes; the watcher still goes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while cacher.watcher_count() > 1 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(cacher.watcher_count(), 1);
    drop(kept);
}

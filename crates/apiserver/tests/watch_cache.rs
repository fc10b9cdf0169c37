//! The watch cache in front of a real embedded store: consistent lists, watches from the
//! window, 410 for versions older than the window, selector transitions, and slow watchers
//! being cut off rather than buffering without bound.

use std::sync::Arc;
use std::time::Duration;

use apiserver::admission::AdmissionChain;
use apiserver::auth::UserInfo;
use apiserver::registry::{
    DefaultStrategy, ListParams, RequestContext, ResourceDecl, Scope, Store, WatchOut,
};
use serde_json::{json, Value};
use storage::embedded::{EmbeddedOptions, EmbeddedStore};

fn ctx() -> RequestContext {
    RequestContext {
        user: UserInfo::default(),
        dry_run: false,
        ..Default::default()
    }
}

async fn store(window: usize) -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let opts = EmbeddedOptions {
        progress_interval: Duration::from_millis(50),
        ..Default::default()
    };
    let backend = Arc::new(EmbeddedStore::open_with(&dir.path().join("db"), opts).unwrap());
    let decl = ResourceDecl::new(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        Scope::Namespaced,
        Arc::new(DefaultStrategy),
    );
    let store = Store::new(
        Arc::new(decl),
        backend,
        "/registry",
        AdmissionChain::default(),
    )
    .with_watch_cache(window);
    // The cache starts from a list made in the background: a watch from a revision older
    // than that list is 410, as upstream's. Let it finish before the tests write.
    let cacher = store.cacher().expect("watch cache");
    assert!(cacher.wait_consistent(Duration::from_secs(5)).await);
    (store, dir)
}

fn cm(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"k": name}})
}

fn params(q: &str) -> ListParams {
    ListParams::from_query(Some(q)).unwrap()
}

async fn next(rx: &mut apiserver::registry::watch::WatchReceiver) -> WatchOut {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("event in time")
        .expect("open")
}

fn name_of(wire: &[u8]) -> String {
    let v: Value = serde_json::from_slice(wire).unwrap();
    v["metadata"]["name"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consistent_list_sees_every_acknowledged_write() {
    let (store, _dir) = store(1024).await;
    for i in 0..50 {
        store
            .create(&ctx(), "ns", cm(&format!("c{i:02}"), json!({})))
            .await
            .unwrap();
        // A consistent list right after each write includes it.
        let out = store.list("ns", &ListParams::default()).await.unwrap();
        assert_eq!(out.items.len(), i + 1);
    }
    let out = store
        .list("ns", &params("labelSelector=missing"))
        .await
        .unwrap();
    assert!(out.items.is_empty());
    // Items are the stored bytes with their resourceVersion.
    let out = store.list("", &ListParams::default()).await.unwrap();
    let first: Value = serde_json::from_slice(&out.items[0]).unwrap();
    assert!(first["metadata"]["resourceVersion"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
    assert!(store.cacher().is_some_and(|c| c.len() == 50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_window_and_too_old() {
    let (store, _dir) = store(4).await;
    let first = store
        .create(&ctx(), "ns", cm("a", json!({})))
        .await
        .unwrap();
    let rv0: i64 = first["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    for n in ["b", "c"] {
        store.create(&ctx(), "ns", cm(n, json!({}))).await.unwrap();
    }
    store.list("ns", &ListParams::default()).await.unwrap();
    let mut rx = store
        .watch("ns", &params(&format!("resourceVersion={rv0}")))
        .await
        .unwrap();
    for want in ["b", "c"] {
        match next(&mut rx).await {
            WatchOut::Added(w) => assert_eq!(name_of(&w), want),
            other => panic!("{other:?}"),
        }
    }
    // Push rv0 out of the 4-event window: watching from it is 410 Expired.
    for n in ["d", "e", "f", "g", "h"] {
        store.create(&ctx(), "ns", cm(n, json!({}))).await.unwrap();
    }
    store.list("ns", &ListParams::default()).await.unwrap();
    let mut old = store
        .watch("ns", &params(&format!("resourceVersion={rv0}")))
        .await
        .unwrap();
    match next(&mut old).await {
        WatchOut::Error(e) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selector_transitions_and_initial_events() {
    let (store, _dir) = store(1024).await;
    store
        .create(&ctx(), "ns", cm("in", json!({"app": "x"})))
        .await
        .unwrap();
    store
        .create(&ctx(), "ns", cm("out", json!({"app": "y"})))
        .await
        .unwrap();
    let mut rx = store
        .watch(
            "ns",
            &params("labelSelector=app%3Dx&sendInitialEvents=true&allowWatchBookmarks=true"),
        )
        .await
        .unwrap();
    match next(&mut rx).await {
        WatchOut::Added(w) => assert_eq!(name_of(&w), "in"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(next(&mut rx).await, WatchOut::Bookmark(_, true)));
    // "out" starts matching: ADDED; "in" stops matching: DELETED.
    fn relabel(
        v: &'static str,
    ) -> impl Fn(&Value) -> Result<Value, apimachinery::errors::ApiError> + Send + Sync {
        move |cur: &Value| {
            let mut c = cur.clone();
            c["metadata"]["labels"]["app"] = json!(v);
            Ok(c)
        }
    }
    store
        .patch(&ctx(), "ns", "out", "", &relabel("x"))
        .await
        .unwrap();
    match next(&mut rx).await {
        WatchOut::Added(w) => assert_eq!(name_of(&w), "out"),
        other => panic!("{other:?}"),
    }
    store
        .patch(&ctx(), "ns", "in", "", &relabel("z"))
        .await
        .unwrap();
    match next(&mut rx).await {
        WatchOut::Deleted(w) => assert_eq!(name_of(&w), "in"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_watcher_is_cut_off_and_told() {
    let (store, _dir) = store(100_000).await;
    // A watcher that never reads: the HTTP side holds 1024 events, the cache 1000 more.
    let mut slow = store
        .watch("ns", &params("resourceVersion=0"))
        .await
        .unwrap();
    let writes = apiserver::registry::cacher::WATCHER_BUFFER + 1024 + 200;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in (t..writes).step_by(8) {
                store
                    .create(&ctx(), "ns", cm(&format!("s{i}"), json!({})))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Draining now: the watch ends with an error event instead of growing without bound.
    let mut seen = 0;
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(5), slow.recv()).await;
        let ev = match ev {
            Ok(Some(ev)) => ev,
            other => panic!("after {seen} events: {other:?}"),
        };
        match ev {
            WatchOut::Added(_) => seen += 1,
            WatchOut::Error(e) => {
                assert_eq!(e.code, 410);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        seen < writes,
        "the slow watcher must have been cut off ({seen} of {writes})"
    );
}

//! kube-rs against the real binary: CRUD, selectors, pagination pinned to a revision,
//! patches, optimistic concurrency, finalizers, namespace lifecycle and watches.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{api_err, Server};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, ObjectReference};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::core::ObjectMeta;
use serde_json::json;

fn cm(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("k".to_string(), name.to_string())])),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_selectors_pagination_conflicts() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    // Create sets system metadata; create again is 409 AlreadyExists.
    let created = cms
        .create(
            &PostParams::default(),
            &cm("one", &[("app", "a"), ("tier", "x")]),
        )
        .await
        .unwrap();
    let meta = &created.metadata;
    assert!(meta.uid.is_some() && meta.creation_timestamp.is_some());
    assert_eq!(meta.namespace.as_deref(), Some("default"));
    let rv1: i64 = meta.resource_version.as_deref().unwrap().parse().unwrap();
    let e = api_err(
        cms.create(&PostParams::default(), &cm("one", &[]))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "AlreadyExists"));

    for (i, app) in ["a", "b", "a", "c"].iter().enumerate() {
        cms.create(
            &PostParams::default(),
            &cm(&format!("n{i}"), &[("app", app)]),
        )
        .await
        .unwrap();
    }

    // Label selectors: =, !=, in, notin, exists, !exists.
    let names = |l: kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        // Every namespace also holds the server's kube-root-ca.crt.
        l.items
            .into_iter()
            .map(|c| c.metadata.name.unwrap())
            .filter(|n| n != "kube-root-ca.crt")
            .collect()
    };
    let sel = |s: &str| ListParams::default().labels(s);
    assert_eq!(
        names(cms.list(&sel("app=a")).await.unwrap()),
        ["n0", "n2", "one"]
    );
    assert_eq!(names(cms.list(&sel("app!=a")).await.unwrap()), ["n1", "n3"]);
    assert_eq!(
        names(cms.list(&sel("app in (b,c)")).await.unwrap()),
        ["n1", "n3"]
    );
    assert_eq!(
        names(cms.list(&sel("app notin (a)")).await.unwrap()),
        ["n1", "n3"]
    );
    assert_eq!(names(cms.list(&sel("tier")).await.unwrap()), ["one"]);
    assert_eq!(
        names(cms.list(&sel("!tier")).await.unwrap()),
        ["n0", "n1", "n2", "n3"]
    );
    let by_name = ListParams::default().fields("metadata.name=n1");
    assert_eq!(names(cms.list(&by_name).await.unwrap()), ["n1"]);
    let e = api_err(
        cms.list(&ListParams::default().fields("data.k=x"))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 400);

    // Pagination is pinned to the first page's revision: an object created between pages
    // does not show up, and the pages together are exactly the first snapshot.
    let first = cms.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    // Five of ours and the namespace's kube-root-ca.crt.
    assert_eq!(first.metadata.remaining_item_count, Some(4));
    let token = first.metadata.continue_.clone().expect("continue token");
    cms.create(&PostParams::default(), &cm("aaa-late", &[]))
        .await
        .unwrap();
    let mut seen = names(first);
    let mut token = Some(token);
    while let Some(t) = token {
        let page = cms
            .list(&ListParams::default().limit(2).continue_token(&t))
            .await
            .unwrap();
        token = page.metadata.continue_.clone().filter(|c| !c.is_empty());
        seen.extend(names(page));
    }
    assert_eq!(seen, ["n0", "n1", "n2", "n3", "one"]);
    assert_eq!(
        cms.list(&ListParams::default()).await.unwrap().items.len(),
        7
    );

    // Merge patch and JSON patch.
    let patched = cms
        .patch(
            "one",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"extra": "1"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data.as_ref().unwrap()["extra"], "1");
    let rv2: i64 = patched
        .metadata
        .resource_version
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv2 > rv1);
    let jp = serde_json::from_value(json!([{"op": "replace", "path": "/data/k", "value": "z"}]))
        .unwrap();
    let patched = cms
        .patch("one", &PatchParams::default(), &Patch::Json::<()>(jp))
        .await
        .unwrap();
    assert_eq!(patched.data.as_ref().unwrap()["k"], "z");

    // Optimistic concurrency: an update with a stale resourceVersion is 409 Conflict.
    let mut stale = created.clone();
    stale.data = Some(BTreeMap::from([("k".to_string(), "stale".to_string())]));
    let e = api_err(
        cms.replace("one", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert!(
        e.message.contains("the object has been modified"),
        "{}",
        e.message
    );
    // With the current version it succeeds.
    let mut fresh = cms.get("one").await.unwrap();
    fresh.data = Some(BTreeMap::from([("k".to_string(), "fresh".to_string())]));
    let replaced = cms
        .replace("one", &PostParams::default(), &fresh)
        .await
        .unwrap();
    assert_eq!(replaced.data.unwrap()["k"], "fresh");

    // Validation: 422 Invalid with causes.
    let e = api_err(
        cms.create(&PostParams::default(), &cm("Bad_Name", &[]))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));

    // Dry run writes nothing.
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    cms.create(&dry, &cm("dry", &[])).await.unwrap();
    assert_eq!(api_err(cms.get("dry").await.unwrap_err()).code, 404);

    // Delete with a stale UID precondition is refused; a plain delete succeeds.
    let e = api_err(
        cms.delete(
            "n0",
            &DeleteParams::default().preconditions(kube::api::Preconditions {
                uid: Some("not-the-uid".into()),
                resource_version: None,
            }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 409);
    cms.delete("n0", &DeleteParams::default()).await.unwrap();
    assert_eq!(api_err(cms.get("n0").await.unwrap_err()).code, 404);

    // deletecollection with a selector.
    cms.delete_collection(&DeleteParams::default(), &sel("app=a"))
        .await
        .unwrap();
    assert_eq!(
        names(cms.list(&sel("app=a")).await.unwrap()),
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finalizers_and_namespace_lifecycle() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    // An object with a finalizer is only marked for deletion ...
    let mut held = cm("held", &[]);
    held.metadata.finalizers = Some(vec!["example.com/hold".to_string()]);
    cms.create(&PostParams::default(), &held).await.unwrap();
    cms.delete("held", &DeleteParams::default()).await.unwrap();
    let marked = cms.get("held").await.unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    // ... and goes away when the last finalizer is removed.
    cms.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert_eq!(api_err(cms.get("held").await.unwrap_err()).code, 404);

    // Creating in a namespace that does not exist is 404; the namespace must exist.
    let missing: Api<ConfigMap> = Api::namespaced(client.clone(), "nowhere");
    let e = api_err(
        missing
            .create(&PostParams::default(), &cm("x", &[]))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 404, "{e:?}");
    assert!(
        e.message.contains("namespaces \"nowhere\" not found"),
        "{}",
        e.message
    );

    // A deleted namespace is Terminating and refuses new content with 403.
    let nss: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some("doomed".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let created = nss.create(&PostParams::default(), &ns).await.unwrap();
    assert_eq!(created.status.unwrap().phase.as_deref(), Some("Active"));
    assert_eq!(
        created.metadata.labels.unwrap()["kubernetes.io/metadata.name"],
        "doomed"
    );
    nss.delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let ns = nss.get("doomed").await.unwrap();
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Terminating"));
    let doomed: Api<ConfigMap> = Api::namespaced(client.clone(), "doomed");
    let e = api_err(
        doomed
            .create(&PostParams::default(), &cm("x", &[]))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (403, "Forbidden"));

    // System namespaces cannot be deleted.
    let e = api_err(
        nss.delete("kube-system", &DeleteParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 403);

    // Finalizing the namespace (empty spec.finalizers) removes it.
    let (status, body) = common::send_json(
        &client,
        "PUT",
        "/api/v1/namespaces/doomed/finalize",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}, "spec": {"finalizers": []}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api_err(nss.get("doomed").await.unwrap_err()).code, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_resource_version() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    let a = cms
        .create(&PostParams::default(), &cm("w-a", &[("w", "1")]))
        .await
        .unwrap();
    let start_rv = a.metadata.resource_version.clone().unwrap();
    cms.patch(
        "w-a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"x": "1"}})),
    )
    .await
    .unwrap();
    cms.create(&PostParams::default(), &cm("w-b", &[("w", "1")]))
        .await
        .unwrap();
    cms.delete("w-a", &DeleteParams::default()).await.unwrap();

    // Replays exactly the events after start_rv, in order, then live ones.
    let mut stream = cms
        .watch(&WatchParams::default().labels("w=1").timeout(20), &start_rv)
        .await
        .unwrap()
        .boxed();
    let mut got = Vec::new();
    while got.len() < 3 {
        let ev = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
            .await
            .expect("watch event in time")
            .unwrap()
            .expect("stream open");
        match ev {
            WatchEvent::Added(c) => got.push(format!("ADDED {}", c.metadata.name.unwrap())),
            WatchEvent::Modified(c) => got.push(format!("MODIFIED {}", c.metadata.name.unwrap())),
            WatchEvent::Deleted(c) => got.push(format!("DELETED {}", c.metadata.name.unwrap())),
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(got, ["MODIFIED w-a", "ADDED w-b", "DELETED w-a"]);
    cms.create(&PostParams::default(), &cm("w-c", &[("w", "1")]))
        .await
        .unwrap();
    cms.create(&PostParams::default(), &cm("w-other", &[]))
        .await
        .unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match ev {
        WatchEvent::Added(c) => assert_eq!(c.metadata.name.as_deref(), Some("w-c")),
        other => panic!("unexpected {other:?}"),
    }

    // A label change that leaves the selector is a DELETED event for this watcher.
    cms.patch(
        "w-c",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"w": "2"}}})),
    )
    .await
    .unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(ev, WatchEvent::Deleted(ref c) if c.metadata.name.as_deref() == Some("w-c")),
        "{ev:?}"
    );

    // The kube-rs watcher (list then watch) sees the current state.
    let names: Vec<String> = kube::runtime::watcher(
        cms.clone(),
        kube::runtime::watcher::Config::default().labels("w=1"),
    )
    .take_while(|e| {
        futures::future::ready(!matches!(e, Ok(kube::runtime::watcher::Event::InitDone)))
    })
    .filter_map(|e| async move {
        match e {
            Ok(kube::runtime::watcher::Event::InitApply(c)) => c.metadata.name,
            _ => None,
        }
    })
    .collect()
    .await;
    assert_eq!(names, ["w-b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_options_propagation_and_dry_run() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for name in ["dry", "orphaned", "fg", "query"] {
        cms.create(&PostParams::default(), &cm(name, &[]))
            .await
            .unwrap();
    }
    let finalizers = |c: &ConfigMap| c.metadata.finalizers.clone().unwrap_or_default();

    // A dry-run delete (DeleteOptions.dryRun in the body) deletes nothing.
    let dry = DeleteParams {
        dry_run: true,
        ..Default::default()
    };
    cms.delete("dry", &dry).await.unwrap();
    let kept = cms.get("dry").await.unwrap();
    assert!(kept.metadata.deletion_timestamp.is_none());

    // Orphan: the garbage collector's finalizer holds the object, marked for deletion.
    let out = cms
        .delete("orphaned", &DeleteParams::orphan())
        .await
        .unwrap();
    let held = out
        .left()
        .expect("the object is returned while finalizers hold it");
    assert_eq!(finalizers(&held), vec!["orphan"]);
    let held = cms.get("orphaned").await.unwrap();
    assert_eq!(finalizers(&held), vec!["orphan"]);
    assert!(held.metadata.deletion_timestamp.is_some());
    assert_eq!(held.metadata.deletion_grace_period_seconds, Some(0));
    // Deleting again in the background takes the finalizer away: the object goes.
    cms.delete("orphaned", &DeleteParams::background())
        .await
        .unwrap();
    assert_eq!(api_err(cms.get("orphaned").await.unwrap_err()).code, 404);

    // Foreground adds foregroundDeletion.
    cms.delete("fg", &DeleteParams::foreground()).await.unwrap();
    assert_eq!(
        finalizers(&cms.get("fg").await.unwrap()),
        vec!["foregroundDeletion"]
    );

    // Without a body, DeleteOptions come from the query string.
    let path = "/api/v1/namespaces/default/configmaps/query";
    let (s, _, body) = common::raw(
        &client,
        "DELETE",
        &format!("{path}?propagationPolicy=Orphan&dryRun=All"),
        &[],
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{body}");
    assert!(finalizers(&cms.get("query").await.unwrap()).is_empty());
    let (s, _, body) = common::raw(
        &client,
        "DELETE",
        &format!("{path}?propagationPolicy=Sideways"),
        &[],
        vec![],
    )
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((s, v["reason"].as_str()), (422, Some("Invalid")), "{v}");
    assert_eq!(
        v["message"],
        "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sideways\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
    );
    assert_eq!(v["details"]["group"], "meta.k8s.io");
    assert_eq!(v["details"]["kind"], "DeleteOptions");
    let (s, _, _) = common::raw(
        &client,
        "DELETE",
        &format!("{path}?propagationPolicy=Orphan"),
        &[],
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    assert_eq!(finalizers(&cms.get("query").await.unwrap()), vec!["orphan"]);

    // Write options are validated as upstream's CreateOptions: 422, not 400.
    let (s, v) = common::send_json(
        &client,
        "POST",
        "/api/v1/namespaces/default/configmaps?dryRun=Some",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(
        v["message"],
        "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: [\"Some\"]: supported values: \"All\""
    );
}

/// Events through the typed client: created, selected by their involved object, and gone
/// (a DELETED watch event) once `--event-ttl` has passed since their last write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_selectable_and_expire() {
    let server = Server::start(&["--event-ttl=2s"]).await;
    let client = server.client().await;
    let events: Api<Event> = Api::namespaced(client, "default");
    let event = |name: &str, object: &str| Event {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..Default::default()
        },
        involved_object: ObjectReference {
            kind: Some("ConfigMap".into()),
            name: Some(object.into()),
            namespace: Some("default".into()),
            ..Default::default()
        },
        reason: Some("Tested".into()),
        type_: Some("Normal".into()),
        ..Default::default()
    };
    let first = events
        .create(&PostParams::default(), &event("e1", "c1"))
        .await
        .expect("create e1");
    events
        .create(&PostParams::default(), &event("e2", "c2"))
        .await
        .expect("create e2");
    // Go's zero values are written, as upstream's JSON has them.
    assert_eq!(first.reporting_component.as_deref(), Some(""));
    let selected = events
        .list(&ListParams::default().fields("involvedObject.name=c1"))
        .await
        .expect("list by involved object");
    let names: Vec<_> = selected
        .items
        .iter()
        .filter_map(|e| e.metadata.name.clone())
        .collect();
    assert_eq!(names, ["e1"]);
    let rv = first.metadata.resource_version.clone().unwrap_or_default();
    let mut stream = events
        .watch(&WatchParams::default().timeout(20), &rv)
        .await
        .expect("watch")
        .boxed();
    let mut deleted = Vec::new();
    while deleted.len() < 2 {
        let ev = tokio::time::timeout(Duration::from_secs(15), stream.try_next())
            .await
            .expect("an event before the timeout")
            .expect("watch stream")
            .expect("open stream");
        if let WatchEvent::Deleted(e) = ev {
            deleted.extend(e.metadata.name);
        }
    }
    deleted.sort();
    assert_eq!(deleted, ["e1", "e2"]);
    assert!(events.get_opt("e1").await.expect("get").is_none());
}

/// Objects stored as upstream's kube-apiserver stores them (protobuf in the `k8s\0`
/// envelope, at upstream's keys) are served, listed (through the watch cache) and updated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_stored_as_upstream_stores_them_are_read() {
    use storage::Storage;
    let tmp = tempfile::tempdir().expect("tempdir");
    let object = serde_json::json!({
        "kind": "ConfigMap", "apiVersion": "v1",
        "metadata": {"name": "from-upstream", "namespace": "default",
                     "uid": "6f9a1c4e-0000-4000-8000-000000000001",
                     "creationTimestamp": "2026-01-02T03:04:05Z", "labels": {"from": "upstream"}},
        "data": {"k": "v"}, "binaryData": {"b": "AAEC"},
    });
    let schema = api::kind("", "v1", "ConfigMap").expect("ConfigMap");
    let bytes =
        apimachinery::protobuf::encode("v1", "ConfigMap", &schema, &object).expect("protobuf");
    {
        let store = storage::embedded::EmbeddedStore::open(&tmp.path().join("store.db"))
            .expect("open store");
        store
            .create("/registry/configmaps/default/from-upstream", bytes.into())
            .await
            .expect("write upstream bytes");
    }
    let server = Server::start_in(tmp.path(), common::free_port(), &[]).await;
    let client = server.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let got = cms.get("from-upstream").await.expect("get");
    assert_eq!(
        got.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("from"))
            .map(String::as_str),
        Some("upstream")
    );
    assert_eq!(
        got.data
            .as_ref()
            .and_then(|d| d.get("k"))
            .map(String::as_str),
        Some("v")
    );
    assert_eq!(
        got.binary_data
            .as_ref()
            .and_then(|d| d.get("b"))
            .map(|b| b.0.clone()),
        Some(vec![0, 1, 2])
    );
    let listed = cms
        .list(&ListParams::default().labels("from=upstream"))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 1);
    // Written back, then read as before.
    let mut changed = got.clone();
    changed.data = Some([("k".to_string(), "w".to_string())].into());
    let updated = cms
        .replace("from-upstream", &PostParams::default(), &changed)
        .await
        .expect("replace");
    assert_eq!(
        updated
            .data
            .as_ref()
            .and_then(|d| d.get("k"))
            .map(String::as_str),
        Some("w")
    );
    assert_eq!(updated.metadata.uid, got.metadata.uid);
}

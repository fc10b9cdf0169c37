//! Watches of pods pinned to a node (`fieldSelector=spec.nodeName=…`, as every kubelet
//! watches), which the watch cache files by node: end to end with kube-rs watches and
//! kubectl against the real binary. Each watcher sees exactly its node's pods — created on
//! the node, bound to it later through `pods/binding`, updated, deleted — and the watchers
//! of unscheduled pods see a pod leave when it is bound.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{ok, send_json, Server};
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::api::{WatchEvent, WatchParams};
use serde_json::json;

const NODES: usize = 12;

fn pod(name: &str, node: Option<&str>) -> Pod {
    let mut spec = json!({"containers": [{"name": "c", "image": "nginx:1.27"}]});
    if let Some(node) = node {
        spec["nodeName"] = json!(node);
    }
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).expect("a pod")
}

fn node(i: usize) -> String {
    format!("node-{i}")
}

/// `TYPE name` of a watch event.
fn describe(ev: &WatchEvent<Pod>) -> String {
    let (kind, pod) = match ev {
        WatchEvent::Added(p) => ("ADDED", p),
        WatchEvent::Modified(p) => ("MODIFIED", p),
        WatchEvent::Deleted(p) => ("DELETED", p),
        WatchEvent::Bookmark(_) => return "BOOKMARK".into(),
        WatchEvent::Error(e) => return format!("ERROR {e:?}"),
    };
    format!("{kind} {}", pod.metadata.name.clone().unwrap_or_default())
}

/// The events of a watch up to and including the one about `last`.
async fn events_until(
    stream: &mut (impl Stream<Item = kube::Result<WatchEvent<Pod>>> + Unpin),
    last: &str,
) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), stream.next()).await;
        let ev = match next {
            Ok(Some(Ok(ev))) => ev,
            other => panic!("watch ended or stalled after {seen:?}: {other:?}"),
        };
        let text = describe(&ev);
        let done = text.ends_with(&format!(" {last}"));
        seen.push(text);
        if done {
            return seen;
        }
    }
}

async fn bind(client: &kube::Client, pod: &str, node: &str) {
    let (code, body) = send_json(
        client,
        "POST",
        &format!("/api/v1/namespaces/default/pods/{pod}/binding"),
        "application/json",
        &json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod},
                "target": {"kind": "Node", "name": node}}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_watchers_see_exactly_their_pods() {
    let server = Server::start(&["--disable-admission-plugins=ServiceAccount"]).await;
    let client = server.client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let all_pods: Api<Pod> = Api::all(client.clone());

    let start = pods.list(&ListParams::default()).await.expect("list");
    let rv = start
        .metadata
        .resource_version
        .expect("list resourceVersion");
    let mut watches = Vec::new();
    for i in 0..NODES {
        let wp = WatchParams::default().fields(&format!("spec.nodeName={}", node(i)));
        // Half of them across all namespaces (the kubelet's watch), half in one.
        let api = if i % 2 == 0 { &all_pods } else { &pods };
        watches.push(api.watch(&wp, &rv).await.expect("watch").boxed());
    }
    let unscheduled = WatchParams::default().fields("spec.nodeName=");
    let mut unscheduled = pods.watch(&unscheduled, &rv).await.expect("watch").boxed();
    let mut everything = all_pods
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();

    let pp = PostParams::default();
    for i in 0..NODES {
        let n = node(i);
        pods.create(&pp, &pod(&format!("on-{i}"), Some(&n)))
            .await
            .expect("create on a node");
        pods.create(&pp, &pod(&format!("later-{i}"), None))
            .await
            .expect("create unscheduled");
    }
    for i in 0..NODES {
        bind(&client, &format!("later-{i}"), &node(i)).await;
        let label = Patch::Merge(json!({"metadata": {"labels": {"seen": "yes"}}}));
        pods.patch(&format!("on-{i}"), &PatchParams::default(), &label)
            .await
            .expect("label");
    }
    let now = DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::default()
    };
    for i in 0..NODES {
        pods.delete(&format!("on-{i}"), &now).await.expect("delete");
        // The last write of each node marks the end of what its watcher must see.
        pods.create(&pp, &pod(&format!("end-{i}"), Some(&node(i))))
            .await
            .expect("create the end marker");
    }

    for (i, watch) in watches.iter_mut().enumerate() {
        let seen = events_until(watch, &format!("end-{i}")).await;
        let want: Vec<String> = [
            format!("ADDED on-{i}"),
            format!("ADDED later-{i}"),
            format!("MODIFIED on-{i}"),
            format!("DELETED on-{i}"),
            format!("ADDED end-{i}"),
        ]
        .into();
        assert_eq!(seen, want, "the watcher of {}", node(i));
    }
    // The unscheduled pods' watcher sees each of them leave when it is bound.
    let last = format!("later-{}", NODES - 1);
    let mut seen = events_until(&mut unscheduled, &last).await;
    seen.extend(events_until(&mut unscheduled, &last).await);
    let added = (0..NODES).map(|i| format!("ADDED later-{i}"));
    let left = (0..NODES).map(|i| format!("DELETED later-{i}"));
    assert_eq!(seen, added.chain(left).collect::<Vec<_>>());
    // The watch of everything sees every write.
    let seen = events_until(&mut everything, &format!("end-{}", NODES - 1)).await;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &seen {
        *counts.entry(s.split(' ').next().unwrap_or("")).or_default() += 1;
    }
    let n = NODES;
    assert_eq!(
        counts,
        BTreeMap::from([("ADDED", 3 * n), ("DELETED", n), ("MODIFIED", 2 * n)]),
        "{seen:?}"
    );

    // A watcher that starts at an old resourceVersion replays only its node's events.
    let wp = WatchParams::default().fields("spec.nodeName=node-3");
    let mut replayed = pods.watch(&wp, &rv).await.expect("watch").boxed();
    assert_eq!(
        events_until(&mut replayed, "end-3").await,
        vec![
            "ADDED on-3",
            "ADDED later-3",
            "MODIFIED on-3",
            "DELETED on-3",
            "ADDED end-3"
        ]
    );

    // Lists with the same selector, from the cache, through kubectl.
    let out = ok(server.kubectl(&[
        "get",
        "pods",
        "-A",
        "--field-selector",
        "spec.nodeName=node-5",
        "-o",
        "name",
    ]));
    assert_eq!(out, "pod/end-5\npod/later-5\n");
}

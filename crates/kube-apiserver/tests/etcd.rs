//! The server on real etcd (Debian's etcd-server, started per test on free loopback ports):
//! keys laid out as upstream lays them out, two API servers sharing one etcd (HA), readyz
//! following etcd's health without a restart, and etcd's size limit answered as a 4xx.
//! A missing etcd fails these tests loudly (see `storage::etcd::testing`).

mod common;

use std::time::{Duration, Instant};

use common::{get_json, get_status, send_json, Server};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use storage::etcd::testing::{TestEtcd, TestEtcdOptions};
use storage::etcd::EtcdStore;
use storage::Storage;

async fn etcd(options: TestEtcdOptions) -> TestEtcd {
    TestEtcd::start_with(options)
        .await
        .unwrap_or_else(|e| panic!("etcd is required for these tests: {e}"))
}

fn etcd_flag(etcd: &TestEtcd) -> String {
    format!("--etcd-servers={}", etcd.endpoint())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_from_etcd_with_upstream_key_layout() {
    let etcd = etcd(TestEtcdOptions::default()).await;
    let server = Server::start(&[&etcd_flag(&etcd)]).await;
    let c = server.client().await;
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "in-etcd"}, "data": {"a": "b"}});
    let (s, created) = send_json(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        &body,
    )
    .await;
    assert_eq!(s, 201, "{created}");

    // The object is where an operator expects it, and its resourceVersion is etcd's revision.
    let raw = EtcdStore::connect(etcd.config()).await.unwrap();
    let kv = raw
        .get("/registry/configmaps/default/in-etcd")
        .await
        .unwrap()
        .expect("key in etcd");
    assert_eq!(
        created["metadata"]["resourceVersion"],
        kv.mod_revision.to_string()
    );
    // Stored as upstream stores it: protobuf in the `k8s\0` envelope.
    let lookup = |_: &str, _: &str| api::kind("", "v1", "ConfigMap");
    let (_, stored) = apimachinery::protobuf::decode(&kv.value, &lookup).expect("protobuf");
    assert_eq!(stored["data"]["a"], "b");
    assert!(raw
        .get("/registry/namespaces/kube-system")
        .await
        .unwrap()
        .is_some());

    // Lists, label selectors and kubectl work the same as on the embedded store.
    let list = get_json(&c, "/api/v1/namespaces/default/configmaps", 200).await;
    assert_eq!(list["items"][0]["metadata"]["name"], "in-etcd");
    let out = common::ok(server.kubectl(&["get", "cm", "in-etcd", "-o", "name"]));
    assert_eq!(out.trim(), "configmap/in-etcd");
    let (s, text) = get_status(&c, "/readyz/etcd").await.unwrap();
    assert_eq!((s, text.as_str()), (200, "ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_api_servers_share_one_etcd() {
    let etcd = etcd(TestEtcdOptions::default()).await;
    let a = Server::start(&[&etcd_flag(&etcd)]).await;
    let b = Server::start(&[&etcd_flag(&etcd)]).await;
    let (ca, cb) = (a.client().await, b.client().await);
    let on_a: Api<ConfigMap> = Api::namespaced(ca.clone(), "default");
    let on_b: Api<ConfigMap> = Api::namespaced(cb.clone(), "default");

    // A watch on B sees a write made through A, at the same resourceVersion.
    let start = on_b
        .list(&Default::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut events = on_b
        .watch(&WatchParams::default().timeout(20), &start)
        .await
        .unwrap()
        .boxed();
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "shared"}, "data": {"v": "1"}}))
            .unwrap();
    let created = on_a.create(&PostParams::default(), &cm).await.unwrap();
    let rv = created.metadata.resource_version.clone().unwrap();
    let seen = loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), events.try_next())
            .await
            .expect("event through B in time")
            .unwrap()
            .expect("open");
        if let WatchEvent::Added(c) = ev {
            break c;
        }
    };
    assert_eq!(seen.metadata.name.as_deref(), Some("shared"));
    assert_eq!(seen.metadata.resource_version.as_deref(), Some(rv.as_str()));
    assert_eq!(
        on_b.get("shared").await.unwrap().metadata.resource_version,
        Some(rv.clone())
    );

    // An update through A, then a stale update through B: 409 Conflict.
    let mut fresh = created.clone();
    fresh.data = Some([("v".to_string(), "2".to_string())].into());
    on_a.replace("shared", &PostParams::default(), &fresh)
        .await
        .unwrap();
    let mut stale = created.clone();
    stale.data = Some([("v".to_string(), "3".to_string())].into());
    match on_b.replace("shared", &PostParams::default(), &stale).await {
        Err(kube::Error::Api(s)) => assert_eq!((s.code, s.reason.as_str()), (409, "Conflict")),
        other => panic!("expected 409, got {other:?}"),
    }
    // A consistent list through B right after the write through A includes it.
    let listed = on_b.list(&Default::default()).await.unwrap();
    let shared = listed
        .items
        .iter()
        .find(|c| c.metadata.name.as_deref() == Some("shared"))
        .unwrap();
    assert_eq!(shared.data.as_ref().unwrap()["v"], "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_etcd_health() {
    let etcd = etcd(TestEtcdOptions::default()).await;
    let server = Server::start(&[&etcd_flag(&etcd), "--etcd-healthcheck-timeout=1s"]).await;
    let anon = server.anonymous_client().await.unwrap();
    assert_eq!(get_status(&anon, "/readyz").await.unwrap().0, 200);

    etcd.pause().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (s, _) = get_status(&anon, "/readyz/etcd").await.unwrap();
        if s == 500 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "readyz/etcd stayed green with etcd paused"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (s, text) = get_status(&anon, "/readyz?verbose").await.unwrap();
    assert_eq!(s, 500);
    assert!(text.contains("[-]etcd failed"), "{text}");
    assert_eq!(get_status(&anon, "/livez/etcd").await.unwrap().0, 500);

    etcd.resume().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if get_status(&anon, "/readyz").await.unwrap().0 == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "readyz did not recover after etcd came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // And the API works again without a restart.
    let c = server.client().await;
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "after"}});
    let (s, v) = send_json(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        &body,
    )
    .await;
    assert_eq!(s, 201, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_over_etcds_limit_are_413() {
    let etcd = etcd(TestEtcdOptions {
        max_request_bytes: Some(256 * 1024),
        ..Default::default()
    })
    .await;
    let server = Server::start(&[&etcd_flag(&etcd)]).await;
    let c = server.client().await;
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"blob": "x".repeat(400 * 1024)}});
    let (s, v) = send_json(
        &c,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        &body,
    )
    .await;
    assert_eq!(
        (s, v["reason"].as_str()),
        (413, Some("RequestEntityTooLarge")),
        "{v}"
    );
    // Nothing was half-written.
    assert_eq!(
        get_status(&c, "/api/v1/namespaces/default/configmaps/big")
            .await
            .unwrap()
            .0,
        404
    );
}

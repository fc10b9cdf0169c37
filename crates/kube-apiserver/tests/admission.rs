//! Admission plugins end to end, with kube-rs typed clients and kubectl:
//! DefaultTolerationSeconds (and its flags).

mod common;

use common::{ok, Server};
use k8s_openapi::api::core::v1::{Pod, Toleration};
use kube::api::{Api, PostParams};
use serde_json::json;

fn pod(name: &str, tolerations: serde_json::Value) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [{"name": "c", "image": "nginx:1.27"}],
            "tolerations": tolerations,
        },
    }))
    .expect("a pod")
}

fn no_execute(key: &str, seconds: i64) -> Toleration {
    Toleration {
        key: Some(key.to_string()),
        operator: Some("Exists".to_string()),
        effect: Some("NoExecute".to_string()),
        toleration_seconds: Some(seconds),
        value: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_toleration_seconds_adds_the_node_failure_tolerations() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let pods: Api<Pod> = Api::namespaced(client, "default");

    let created = pods
        .create(&PostParams::default(), &pod("plain", json!([])))
        .await
        .expect("create");
    let tolerations = created.spec.and_then(|s| s.tolerations).unwrap_or_default();
    assert_eq!(
        tolerations,
        vec![
            no_execute("node.kubernetes.io/not-ready", 300),
            no_execute("node.kubernetes.io/unreachable", 300),
        ]
    );

    // A pod's own toleration of a taint is kept, and only the other one is added.
    let own = json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 7}]);
    let created = pods
        .create(&PostParams::default(), &pod("own", own))
        .await
        .expect("create");
    let tolerations = created.spec.and_then(|s| s.tolerations).unwrap_or_default();
    assert_eq!(
        tolerations,
        vec![
            no_execute("node.kubernetes.io/unreachable", 7),
            no_execute("node.kubernetes.io/not-ready", 300),
        ]
    );

    // A toleration of every taint needs nothing more.
    let all = json!([{"operator": "Exists"}]);
    let out = ok(server.kubectl_stdin(
        &["create", "-o", "jsonpath={.spec.tolerations}", "-f", "-"],
        &serde_json::to_string(&pod("all", all)).unwrap_or_default(),
    ));
    assert_eq!(out, r#"[{"operator":"Exists"}]"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_toleration_seconds_follows_its_flags_and_can_be_disabled() {
    let server = Server::start(&[
        "--default-not-ready-toleration-seconds=30",
        "--default-unreachable-toleration-seconds=45",
    ])
    .await;
    let pods: Api<Pod> = Api::namespaced(server.client().await, "default");
    let created = pods
        .create(&PostParams::default(), &pod("p", json!([])))
        .await
        .expect("create");
    assert_eq!(
        created.spec.and_then(|s| s.tolerations).unwrap_or_default(),
        vec![
            no_execute("node.kubernetes.io/not-ready", 30),
            no_execute("node.kubernetes.io/unreachable", 45),
        ]
    );
    drop(server);

    let server = Server::start(&["--disable-admission-plugins=DefaultTolerationSeconds"]).await;
    let pods: Api<Pod> = Api::namespaced(server.client().await, "default");
    let created = pods
        .create(&PostParams::default(), &pod("p", json!([])))
        .await
        .expect("create");
    assert_eq!(
        created.spec.and_then(|s| s.tolerations).unwrap_or_default(),
        vec![]
    );
}

//! Admission plugins end to end, with kube-rs typed clients and kubectl:
//! ServiceAccount (with the namespace defaults this server creates), LimitRanger, Priority, and
//! DefaultTolerationSeconds (and its flags).

mod common;

use std::time::Duration;

use common::{ok, send_json, Server};
use k8s_openapi::api::core::v1::{
    ConfigMap, LimitRange, Namespace, Pod, ServiceAccount, Toleration,
};
use kube::api::{Api, PostParams};
use serde_json::{json, Value};

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

async fn post_pod(client: &kube::Client, ns: &str, body: Value) -> (u16, Value) {
    send_json(
        client,
        "POST",
        &format!("/api/v1/namespaces/{ns}/pods"),
        "application/json",
        &body,
    )
    .await
}

fn raw_pod(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    if spec.get("containers").is_none() {
        spec["containers"] = json!([{"name": "c", "image": "nginx:1.27"}]);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
}

/// Waits (bounded) until `get` finds the object.
async fn eventually<K>(api: &Api<K>, name: &str) -> K
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    for _ in 0..100 {
        if let Ok(Some(obj)) = api.get_opt(name).await {
            return obj;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} never appeared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_account_defaults_and_mounts_the_token_volume() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let created = pods
        .create(
            &PostParams::default(),
            &serde_json::from_value(raw_pod(
                "web",
                json!({"initContainers": [{"name": "init", "image": "busybox"}]}),
            ))
            .expect("a pod"),
        )
        .await
        .expect("create");
    let spec = created.spec.expect("spec");
    assert_eq!(spec.service_account_name.as_deref(), Some("default"));
    assert_eq!(spec.service_account.as_deref(), Some("default"));
    let volumes = spec.volumes.unwrap_or_default();
    assert_eq!(volumes.len(), 1, "{volumes:?}");
    let volume = &volumes[0];
    let suffix = volume
        .name
        .strip_prefix("kube-api-access-")
        .expect("token volume name");
    assert_eq!(suffix.len(), 5);
    let projected = volume.projected.clone().expect("projected");
    assert_eq!(projected.default_mode, Some(420));
    let sources = projected.sources.unwrap_or_default();
    let token = sources[0]
        .service_account_token
        .clone()
        .expect("token source");
    assert_eq!(
        (token.path.as_str(), token.expiration_seconds),
        ("token", Some(3607))
    );
    let ca = sources[1].config_map.clone().expect("configmap source");
    assert_eq!(ca.name, "kube-root-ca.crt");
    let downward = sources[2].downward_api.clone().expect("downwardAPI source");
    let item = &downward.items.unwrap_or_default()[0];
    assert_eq!(item.path, "namespace");
    assert_eq!(
        item.field_ref.as_ref().map(|f| f.field_path.as_str()),
        Some("metadata.namespace")
    );
    for container in spec
        .init_containers
        .unwrap_or_default()
        .iter()
        .chain(&spec.containers)
    {
        let mounts = container.volume_mounts.clone().unwrap_or_default();
        assert_eq!(mounts.len(), 1, "{}", container.name);
        assert_eq!(mounts[0].name, volume.name);
        assert_eq!(
            mounts[0].mount_path,
            "/var/run/secrets/kubernetes.io/serviceaccount"
        );
        assert_eq!(mounts[0].read_only, Some(true));
    }

    // Opting out on the pod, or on its service account, mounts nothing.
    let (code, body) = post_pod(
        &client,
        "default",
        raw_pod("no-token", json!({"automountServiceAccountToken": false})),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["spec"].get("volumes"), None, "{body}");
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
    let account: ServiceAccount = serde_json::from_value(json!({
        "metadata": {"name": "quiet"}, "automountServiceAccountToken": false,
        "imagePullSecrets": [{"name": "registry"}],
    }))
    .expect("an account");
    accounts
        .create(&PostParams::default(), &account)
        .await
        .expect("account");
    let (code, body) = post_pod(
        &client,
        "default",
        raw_pod("quiet", json!({"serviceAccountName": "quiet"})),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["spec"].get("volumes"), None, "{body}");
    assert_eq!(
        body["spec"]["imagePullSecrets"],
        json!([{"name": "registry"}])
    );
    // The pod's own choice wins over the account's.
    let (code, body) = post_pod(
        &client,
        "default",
        raw_pod(
            "loud",
            json!({"serviceAccountName": "quiet", "automountServiceAccountToken": true}),
        ),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(
        body["spec"]["volumes"].as_array().map(Vec::len),
        Some(1),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_account_refusals() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let (code, body) = post_pod(
        &client,
        "default",
        raw_pod("p", json!({"serviceAccountName": "missing"})),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(body["reason"], json!("Forbidden"));
    assert_eq!(
        body["message"],
        json!("pods \"p\" is forbidden: error looking up service account default/missing: serviceaccount \"missing\" not found")
    );
    // Before a name is generated, the message names the prefix.
    let mut generated = raw_pod("", json!({"serviceAccountName": "missing"}));
    generated["metadata"] = json!({"generateName": "web-"});
    let (code, body) = post_pod(&client, "default", generated).await;
    assert_eq!(code, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("pods \"web-\" is forbidden: "),
        "{body}"
    );

    // Mirror pods may not name a service account or refer to secrets.
    let mirror = |spec: Value| {
        let mut spec = spec;
        spec["nodeName"] = json!("node-1");
        let mut pod = raw_pod("mirror", spec);
        pod["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "x"});
        pod
    };
    let (code, body) = post_pod(
        &client,
        "default",
        mirror(json!({"serviceAccountName": "default"})),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body["message"],
        json!("pods \"mirror\" is forbidden: a mirror pod may not reference service accounts")
    );
    let (code, body) = post_pod(
        &client,
        "default",
        mirror(json!({"volumes": [{"name": "s", "secret": {"secretName": "s"}}]})),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body["message"],
        json!("pods \"mirror\" is forbidden: a mirror pod may not reference secrets")
    );
    let (code, body) = post_pod(&client, "default", mirror(json!({}))).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["spec"].get("serviceAccountName"), None, "{body}");
    assert_eq!(body["spec"].get("volumes"), None, "{body}");

    // An account that enforces mountable secrets limits the pod's secrets to its own.
    let (code, body) = send_json(&client, "POST", "/api/v1/namespaces/default/serviceaccounts", "application/json", &json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "strict", "annotations": {"kubernetes.io/enforce-mountable-secrets": "true"}},
        "secrets": [{"name": "allowed"}],
    })).await;
    assert_eq!(code, 201, "{body}");
    let env = |secret: &str| json!({"serviceAccountName": "strict", "containers": [{"name": "c", "image": "nginx", "env": [{"name": "E", "valueFrom": {"secretKeyRef": {"name": secret, "key": "k"}}}]}]});
    let (code, body) = post_pod(&client, "default", raw_pod("strict", env("other"))).await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(body["message"], json!("pods \"strict\" is forbidden: container c with envVar E referencing secret.secretName=\"other\" is not allowed because service account strict does not reference that secret"));
    let (code, body) = post_pod(&client, "default", raw_pod("strict", env("allowed"))).await;
    assert_eq!(code, 201, "{body}");

    // kubectl shows the refusal as upstream's does.
    let out = server.kubectl_stdin(
        &["create", "-f", "-"],
        &raw_pod("k", json!({"serviceAccountName": "nobody"})).to_string(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pods \"k\" is forbidden: error looking up service account default/nobody: serviceaccount \"nobody\" not found"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_namespace_gets_a_default_account_and_the_root_ca() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        eventually(
            &Api::<ServiceAccount>::namespaced(client.clone(), ns),
            "default",
        )
        .await;
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "team"}})).expect("ns");
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace");
    // A pod created at once waits for the default account rather than failing.
    let (code, body) = post_pod(&client, "team", raw_pod("first", json!({}))).await;
    assert_eq!(code, 201, "{body}");
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "team");
    eventually(&accounts, "default").await;
    let ca = eventually(
        &Api::<ConfigMap>::namespaced(client.clone(), "team"),
        "kube-root-ca.crt",
    )
    .await;
    let pem = ca
        .data
        .unwrap_or_default()
        .get("ca.crt")
        .cloned()
        .unwrap_or_default();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let out = ok(server.kubectl(&["get", "serviceaccounts", "-n", "team", "-o", "name"]));
    assert_eq!(out.trim(), "serviceaccount/default");

    // Without the plugin, pods need no account.
    drop(server);
    let server = Server::start(&["--disable-admission-plugins=ServiceAccount"]).await;
    let client = server.client().await;
    let (code, body) = post_pod(
        &client,
        "default",
        raw_pod("p", json!({"serviceAccountName": "missing"})),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["spec"].get("volumes"), None, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_ranger_defaults_and_bounds_containers_and_pods() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let ranges: Api<LimitRange> = Api::namespaced(client.clone(), "default");
    let range: LimitRange = serde_json::from_value(json!({
        "metadata": {"name": "bounds"},
        "spec": {"limits": [
            {"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"}, "defaultRequest": {"cpu": "100m"},
             "min": {"cpu": "50m"}, "max": {"cpu": "1"}, "maxLimitRequestRatio": {"cpu": "10"}},
            {"type": "Pod", "max": {"memory": "1Gi"}},
        ]},
    }))
    .expect("a limit range");
    ranges
        .create(&PostParams::default(), &range)
        .await
        .expect("limit range");

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let created = pods
        .create(&PostParams::default(), &pod("plain", json!([])))
        .await
        .expect("create");
    let annotations = created.metadata.annotations.unwrap_or_default();
    assert_eq!(
        annotations.get("kubernetes.io/limit-ranger").map(String::as_str),
        // The LimitRange's own defaulting made its default limits default requests too.
        Some("LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c")
    );
    let resources = created.spec.expect("spec").containers[0]
        .resources
        .clone()
        .expect("resources");
    let text = |m: Option<
        std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    >,
                k: &str| {
        m.unwrap_or_default()
            .get(k)
            .map(|q| q.0.clone())
            .unwrap_or_default()
    };
    assert_eq!(text(resources.requests.clone(), "cpu"), "100m");
    assert_eq!(text(resources.limits.clone(), "cpu"), "500m");
    assert_eq!(text(resources.limits, "memory"), "256Mi");

    // Bounds: one violation alone, several in brackets, and the pod's total.
    let with = |name: &str, resources: Value| {
        raw_pod(
            name,
            json!({"containers": [{"name": "c", "image": "nginx", "resources": resources}]}),
        )
    };
    let (code, body) = post_pod(
        &client,
        "default",
        with(
            "small",
            json!({"requests": {"cpu": "10m"}, "limits": {"cpu": "50m"}}),
        ),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(body["message"], json!("pods \"small\" is forbidden: minimum cpu usage per Container is 50m, but request is 10m"));
    let (code, body) = post_pod(
        &client,
        "default",
        with(
            "big",
            json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "2"}}),
        ),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body["message"],
        json!("pods \"big\" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, cpu max limit to request ratio per Container is 10, but provided ratio is 20.000000]")
    );
    let two = raw_pod(
        "two",
        json!({"containers": [
            {"name": "a", "image": "nginx", "resources": {"limits": {"memory": "768Mi"}}},
            {"name": "b", "image": "nginx", "resources": {"limits": {"memory": "512Mi"}}},
        ]}),
    );
    let out = server.kubectl_stdin(&["create", "-f", "-"], &two.to_string());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "pods \"two\" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1280Mi"
        ),
        "{stderr}"
    );

    // Without the plugin nothing is defaulted.
    drop(server);
    let server = Server::start(&["--disable-admission-plugins=LimitRanger"]).await;
    let client = server.client().await;
    let ranges: Api<LimitRange> = Api::namespaced(client.clone(), "default");
    ranges
        .create(&PostParams::default(), &range)
        .await
        .expect("limit range");
    let (code, body) = post_pod(
        &client,
        "default",
        with("small", json!({"requests": {"cpu": "10m"}})),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["metadata"].get("annotations"), None, "{body}");
}

async fn post(client: &kube::Client, path: &str, body: Value) -> (u16, Value) {
    send_json(client, "POST", path, "application/json", &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priority_resolves_classes_and_the_global_default() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    const CLASSES: &str = "/apis/scheduling.k8s.io/v1/priorityclasses";

    // No default class: priority 0 and no class name.
    let (code, body) = post_pod(&client, "default", raw_pod("zero", json!({}))).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["spec"]["priority"], json!(0));
    assert_eq!(body["spec"].get("priorityClassName"), None, "{body}");

    let (code, body) = post(
        &client,
        CLASSES,
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
        "metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let (code, body) = post_pod(
        &client,
        "default",
        raw_pod("high", json!({"priorityClassName": "high"})),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(
        (&body["spec"]["priority"], &body["spec"]["preemptionPolicy"]),
        (&json!(1000), &json!("Never"))
    );
    let (code, body) = post_pod(
        &client,
        "default",
        raw_pod("crit", json!({"priorityClassName": "system-node-critical"})),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["spec"]["priority"], json!(2000001000));

    // Unknown classes and values that differ from the class are refused.
    let (code, body) = post_pod(
        &client,
        "default",
        raw_pod("nope", json!({"priorityClassName": "nope"})),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body["message"],
        json!("pods \"nope\" is forbidden: no PriorityClass with name nope was found")
    );
    let (code, body) = post_pod(
        &client,
        "default",
        raw_pod("lie", json!({"priorityClassName": "high", "priority": 5})),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(body["message"], json!("pods \"lie\" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name"));
    let (code, body) = post_pod(
        &client,
        "default",
        raw_pod(
            "policy",
            json!({"priorityClassName": "high", "preemptionPolicy": "PreemptLowerPriority"}),
        ),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(body["message"], json!("pods \"policy\" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name"));

    // One global default, which pods without a class get.
    let (code, body) = post(
        &client,
        CLASSES,
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
        "metadata": {"name": "normal"}, "value": 10, "globalDefault": true}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let (code, body) = post(
        &client,
        CLASSES,
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
        "metadata": {"name": "second"}, "value": 20, "globalDefault": true}),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(body["message"], json!("priorityclasses.scheduling.k8s.io \"second\" is forbidden: PriorityClass normal is already marked as default. Only one default can exist"));
    let (code, body) = post_pod(&client, "default", raw_pod("defaulted", json!({}))).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(
        (
            &body["spec"]["priorityClassName"],
            &body["spec"]["priority"]
        ),
        (&json!("normal"), &json!(10))
    );
    assert_eq!(
        body["spec"]["preemptionPolicy"],
        json!("PreemptLowerPriority")
    );
    let out = ok(server.kubectl(&["get", "pod", "defaulted", "-o", "jsonpath={.spec.priority}"]));
    assert_eq!(out, "10");
}

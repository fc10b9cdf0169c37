//! The subresources of pods served by REST storage of their own, end to end with kube-rs
//! and kubectl: binding, graceful deletion, eviction under PodDisruptionBudgets,
//! ephemeral containers, and the connect subresources' answers when there is no node to
//! reach.

mod common;

use common::{api_err, get_json, get_status, ok, raw, send_json, Server};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, DeleteParams, EvictParams, PostParams};
use serde_json::{json, Value};

fn pod(name: &str, labels: Value, containers: &[&str]) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": containers.iter().map(|c| json!({"name": c, "image": "nginx:1.27"})).collect::<Vec<_>>()},
    })
}

async fn create_pod(client: &kube::Client, body: Value) -> Value {
    let (code, created) = send_json(
        client,
        "POST",
        "/api/v1/namespaces/default/pods",
        "application/json",
        &body,
    )
    .await;
    assert_eq!(code, 201, "{created}");
    created
}

async fn bind(client: &kube::Client, pod: &str, node: &str) -> (u16, Value) {
    send_json(
        client,
        "POST",
        &format!("/api/v1/namespaces/default/pods/{pod}/binding"),
        "application/json",
        &json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod}, "target": {"kind": "Node", "name": node}}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binding_assigns_a_node_once() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    create_pod(&client, pod("web", json!({}), &["web"])).await;

    let (code, status) = bind(&client, "web", "node-1").await;
    assert_eq!(code, 201, "{status}");
    assert_eq!(status["status"], json!("Success"));
    let bound = get_json(&client, "/api/v1/namespaces/default/pods/web", 200).await;
    assert_eq!(bound["spec"]["nodeName"], json!("node-1"));
    let scheduled: Vec<&Value> = bound["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == json!("PodScheduled"))
        .collect();
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0]["status"], json!("True"));

    let (code, err) = bind(&client, "web", "node-2").await;
    assert_eq!(code, 409);
    assert_eq!(
        err["message"],
        json!("Operation cannot be fulfilled on pods/binding \"web\": pod web is already assigned to node \"node-1\"")
    );
    let (code, err) = send_json(
        &client,
        "POST",
        "/api/v1/namespaces/default/pods/web/binding",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "other"}, "target": {"name": "n"}}),
    )
    .await;
    assert_eq!(
        (code, err["message"].as_str()),
        (
            400,
            Some("name in URL does not match name in Binding object")
        )
    );
    create_pod(&client, pod("lonely", json!({}), &["c"])).await;
    let (code, err) = send_json(
        &client,
        "POST",
        "/api/v1/namespaces/default/pods/lonely/binding",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "lonely"}, "target": {"kind": "Service"}}),
    )
    .await;
    assert_eq!(code, 500, "{err}");
    assert_eq!(
        err["message"],
        json!("[target.kind: Unsupported value: \"Service\": supported values: \"Node\", \"<empty>\", target.name: Required value]")
    );
    let (code, _) = bind(&client, "missing", "node-1").await;
    assert_eq!(code, 404);

    // Discovery and OpenAPI publish the subresource with its own kind.
    let discovery = get_json(&client, "/api/v1", 200).await;
    let binding = discovery["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == json!("pods/binding"))
        .expect("pods/binding in discovery");
    assert_eq!(
        (binding["kind"].as_str(), binding["verbs"].clone()),
        (Some("Binding"), json!(["create"]))
    );
    let openapi = get_json(&client, "/openapi/v2", 200).await;
    let op = &openapi["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/binding"]["post"];
    assert_eq!(op["operationId"], json!("createCoreV1NamespacedPodBinding"));
    assert_eq!(
        op["x-kubernetes-group-version-kind"]["kind"],
        json!("Binding")
    );
    let exec = &openapi["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/exec"]["post"];
    assert_eq!(
        exec["operationId"],
        json!("connectCoreV1PostNamespacedPodExec")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_bindings_resource_binds_the_pod_it_names() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    create_pod(&client, pod("old", json!({}), &["c"])).await;
    let post = |name: &str, node: &str| {
        let body = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
            "target": {"kind": "Node", "name": node}});
        let client = client.clone();
        async move {
            send_json(
                &client,
                "POST",
                "/api/v1/namespaces/default/bindings",
                "application/json",
                &body,
            )
            .await
        }
    };
    let (code, status) = post("old", "node-7").await;
    assert_eq!(
        (code, &status["status"]),
        (201, &json!("Success")),
        "{status}"
    );
    let bound = get_json(&client, "/api/v1/namespaces/default/pods/old", 200).await;
    assert_eq!(bound["spec"]["nodeName"], json!("node-7"));
    let (code, err) = post("old", "node-8").await;
    assert_eq!(code, 409, "{err}");
    let (code, err) = post("nobody", "node-8").await;
    assert_eq!(code, 404, "{err}");
    assert_eq!(err["message"], json!("pods \"nobody\" not found"));
    // Nothing of its own is stored: create is the only verb.
    let (code, _) = get_status(&client, "/api/v1/namespaces/default/bindings")
        .await
        .unwrap();
    assert_eq!(code, 405);
    let discovery = get_json(&client, "/api/v1", 200).await;
    let bindings = discovery["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == json!("bindings"))
        .expect("bindings in discovery");
    assert_eq!(
        (
            bindings["kind"].as_str(),
            bindings["verbs"].clone(),
            bindings["namespaced"].clone()
        ),
        (Some("Binding"), json!(["create"]), json!(true))
    );
    let openapi = get_json(&client, "/openapi/v2", 200).await;
    let op = &openapi["paths"]["/api/v1/namespaces/{namespace}/bindings"]["post"];
    assert_eq!(op["operationId"], json!("createCoreV1NamespacedBinding"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_pod_is_deleted_gracefully_and_an_unbound_one_at_once() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    create_pod(&client, pod("pending", json!({}), &["c"])).await;
    pods.delete("pending", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(
        get_status(&client, "/api/v1/namespaces/default/pods/pending")
            .await
            .unwrap()
            .0,
        404
    );

    create_pod(&client, pod("running", json!({}), &["c"])).await;
    assert_eq!(bind(&client, "running", "node-1").await.0, 201);
    let deleting = pods
        .delete("running", &DeleteParams::default())
        .await
        .unwrap();
    let deleting = deleting.left().expect("a graceful delete answers the pod");
    assert_eq!(deleting.metadata.deletion_grace_period_seconds, Some(30));
    assert!(deleting.metadata.deletion_timestamp.is_some());
    let still = pods.get("running").await.unwrap();
    assert_eq!(still.metadata.deletion_grace_period_seconds, Some(30));
    let out = ok(server.kubectl(&["get", "pods", "running", "--no-headers"]));
    assert!(out.contains("Terminating"), "{out}");

    // What the kubelet does once the containers stopped, or kubectl's --force.
    ok(server.kubectl(&["delete", "pod", "running", "--grace-period=0", "--force"]));
    assert_eq!(
        get_status(&client, "/api/v1/namespaces/default/pods/running")
            .await
            .unwrap()
            .0,
        404
    );
}

/// Makes a pod look started and ready, as its kubelet would report it.
async fn run(client: &kube::Client, name: &str) {
    let mut current = get_json(
        client,
        &format!("/api/v1/namespaces/default/pods/{name}"),
        200,
    )
    .await;
    current["status"]["phase"] = json!("Running");
    current["status"]["conditions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "Ready", "status": "True"}));
    let (code, body) = send_json(
        client,
        "PUT",
        &format!("/api/v1/namespaces/default/pods/{name}/status"),
        "application/json",
        &current,
    )
    .await;
    assert_eq!(code, 200, "{body}");
}

/// Sets a budget's status, as the disruption controller would.
async fn budget_status(client: &kube::Client, allowed: i64) {
    let mut pdb = get_json(
        client,
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web",
        200,
    )
    .await;
    pdb["status"] = json!({"observedGeneration": 1, "disruptionsAllowed": allowed, "currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2});
    let (code, body) = send_json(
        client,
        "PUT",
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web/status",
        "application/json",
        &pdb,
    )
    .await;
    assert_eq!(code, 200, "{body}");
}

fn cause(s: &kube::core::Status) -> String {
    s.details.as_ref().unwrap().causes[0].message.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eviction_honours_the_disruption_budget() {
    let server = Server::start(&[]).await;
    let client = server.client_without_retries().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    for name in ["web-1", "web-2"] {
        create_pod(&client, pod(name, json!({"app": "web"}), &["c"])).await;
        assert_eq!(bind(&client, name, "node-1").await.0, 201);
        run(&client, name).await;
    }
    // Without a budget, an eviction is a delete.
    create_pod(&client, pod("free", json!({"app": "other"}), &["c"])).await;
    pods.evict("free", &EvictParams::default()).await.unwrap();
    assert_eq!(
        get_status(&client, "/api/v1/namespaces/default/pods/free")
            .await
            .unwrap()
            .0,
        404
    );

    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), "default");
    pdbs.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}})).unwrap(),
    )
    .await
    .unwrap();
    let s = api_err(
        pods.evict("web-1", &EvictParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (s.code, s.message.as_str()),
        (
            429,
            "Cannot evict pod as it would violate the pod's disruption budget."
        )
    );
    assert_eq!(
        cause(&s),
        "The disruption budget web is still being processed by the server."
    );

    budget_status(&client, 0).await;
    let s = api_err(
        pods.evict("web-1", &EvictParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 429);
    assert_eq!(
        cause(&s),
        "The disruption budget web needs 1 healthy pods and has 2 currently"
    );

    budget_status(&client, 1).await;
    pods.evict("web-1", &EvictParams::default()).await.unwrap();
    let evicted = get_json(&client, "/api/v1/namespaces/default/pods/web-1", 200).await;
    assert!(
        evicted["metadata"]["deletionTimestamp"].is_string(),
        "a bound pod goes gracefully"
    );
    let target = evicted["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == json!("DisruptionTarget"))
        .cloned()
        .expect("DisruptionTarget condition");
    assert_eq!(target["reason"], json!("EvictionByEvictionAPI"));
    let pdb = get_json(
        &client,
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web",
        200,
    )
    .await;
    assert_eq!(pdb["status"]["disruptionsAllowed"], json!(0));
    assert!(pdb["status"]["disruptedPods"]["web-1"].is_string(), "{pdb}");

    // The budget is spent: the next eviction is refused.
    let s = api_err(
        pods.evict("web-2", &EvictParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 429);
    // A dry run spends nothing.
    budget_status(&client, 1).await;
    let (code, body) = send_json(
        &client,
        "POST",
        "/api/v1/namespaces/default/pods/web-2/eviction?dryRun=All",
        "application/json",
        &json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web-2"}}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let pdb = get_json(
        &client,
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web",
        200,
    )
    .await;
    assert_eq!(pdb["status"]["disruptionsAllowed"], json!(1));
    assert!(
        get_json(&client, "/api/v1/namespaces/default/pods/web-2", 200).await["metadata"]
            ["deletionTimestamp"]
            .is_null()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_subresources_answer_upstreams_errors_without_a_node() {
    let server = Server::start(&[]).await;
    let client = server.client_without_retries().await;
    create_pod(&client, pod("one", json!({}), &["app"])).await;
    create_pod(&client, pod("two", json!({}), &["a", "b"])).await;

    // A pod no node runs yet has no log, and nothing to exec into.
    let (code, _, body) = raw(
        &client,
        "GET",
        "/api/v1/namespaces/default/pods/one/log",
        &[],
        Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!((code, body.as_str()), (200, ""));
    assert_eq!(ok(server.kubectl(&["logs", "one"])), "");
    let (code, err) = send_json(
        &client,
        "POST",
        "/api/v1/namespaces/default/pods/one/exec?command=ls&stdout=true",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(
        (code, err["message"].as_str()),
        (400, Some("pod one does not have a host assigned"))
    );
    let (code, err) = send_json(
        &client,
        "GET",
        "/api/v1/namespaces/default/pods/two/log",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(
        (code, err["message"].as_str()),
        (
            400,
            Some("a container name must be specified for pod two, choose one of: [a b]")
        )
    );
    let (code, err) = send_json(
        &client,
        "GET",
        "/api/v1/namespaces/default/pods/two/log?container=c",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(
        (code, err["message"].as_str()),
        (400, Some("container c is not valid for pod two"))
    );
    let (code, err) = send_json(
        &client,
        "GET",
        "/api/v1/namespaces/default/pods/one/proxy/",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(
        (code, err["message"].as_str()),
        (400, Some("address not allowed"))
    );

    // Bound to a node that does not exist, then to one whose kubelet does not answer.
    assert_eq!(bind(&client, "one", "ghost").await.0, 201);
    let (code, err) = send_json(
        &client,
        "GET",
        "/api/v1/namespaces/default/pods/one/log",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(
        (code, err["message"].as_str()),
        (404, Some("nodes \"ghost\" not found"))
    );
    let closed = common::free_port();
    let (code, body) = send_json(
        &client,
        "POST",
        "/api/v1/nodes",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let mut node = get_json(&client, "/api/v1/nodes/n1", 200).await;
    node["status"] = json!({"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}], "daemonEndpoints": {"kubeletEndpoint": {"Port": closed}}});
    let (code, body) = send_json(
        &client,
        "PUT",
        "/api/v1/nodes/n1/status",
        "application/json",
        &node,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(bind(&client, "two", "n1").await.0, 201);
    let (code, err) = send_json(
        &client,
        "GET",
        "/api/v1/namespaces/default/pods/two/log?container=a",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(code, 500, "{err}");
    assert_eq!(
        err["message"],
        json!(format!("Get \"https://127.0.0.1:{closed}/containerLogs/default/two/a\": dial tcp 127.0.0.1:{closed}: connect: connection refused"))
    );
    let (code, err) = send_json(
        &client,
        "POST",
        "/api/v1/namespaces/default/pods/two/exec?container=b&command=ls",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(
        (code, err["message"].clone()),
        (
            500,
            json!(format!(
                "error dialing backend: dial tcp 127.0.0.1:{closed}: connect: connection refused"
            ))
        )
    );
    let (code, err) = send_json(
        &client,
        "GET",
        "/api/v1/nodes/n1/proxy/healthz",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!((code, err["message"].clone()), (500, json!(format!("error trying to reach service: dial tcp 127.0.0.1:{closed}: connect: connection refused"))));
    let (code, _) = send_json(
        &client,
        "GET",
        "/api/v1/nodes/ghost/proxy/",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(code, 404);
    // A verb a subresource does not serve has no route.
    let (code, _) = send_json(
        &client,
        "DELETE",
        "/api/v1/namespaces/default/pods/two/log",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(code, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_containers_may_be_added_never_removed() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    create_pod(&client, pod("dbg", json!({}), &["app"])).await;
    let (code, body) = send_json(
        &client,
        "PATCH",
        "/api/v1/namespaces/default/pods/dbg/ephemeralcontainers",
        "application/strategic-merge-patch+json",
        &json!({"spec": {"ephemeralContainers": [{"name": "debugger", "image": "busybox", "targetContainerName": "app"}], "containers": [{"name": "app", "image": "changed"}]}, "metadata": {"labels": {"x": "y"}}}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["spec"]["ephemeralContainers"][0]["name"],
        json!("debugger")
    );
    assert_eq!(
        body["spec"]["containers"][0]["image"],
        json!("nginx:1.27"),
        "only ephemeral containers change"
    );
    assert!(
        body["metadata"]["labels"].get("x").is_none(),
        "nor the metadata"
    );
    let mut removed = body.clone();
    removed["spec"]["ephemeralContainers"] = json!([]);
    let (code, err) = send_json(
        &client,
        "PUT",
        "/api/v1/namespaces/default/pods/dbg/ephemeralcontainers",
        "application/json",
        &removed,
    )
    .await;
    assert_eq!(code, 422, "{err}");
    assert_eq!(
        err["details"]["causes"][0]["message"],
        json!("Forbidden: existing ephemeral containers \"debugger\" may not be removed\n"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_proxy_needs_endpoints() {
    let server = Server::start(&[]).await;
    let client = server.client_without_retries().await;
    let (code, body) = send_json(
        &client,
        "POST",
        "/api/v1/namespaces/default/services",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"name": "http", "port": 80}], "selector": {"app": "web"}}}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let (code, err) = send_json(
        &client,
        "GET",
        "/api/v1/namespaces/default/services/web/proxy/",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(
        (code, err["message"].as_str()),
        (404, Some("endpoints \"web\" not found"))
    );
    let (code, err) = send_json(
        &client,
        "GET",
        "/api/v1/namespaces/default/services/web:81/proxy/",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(
        (code, err["message"].as_str()),
        (503, Some("no service port 81 found for service \"web\""))
    );
    let (code, body) = send_json(
        &client,
        "POST",
        "/api/v1/namespaces/default/endpoints",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web"}}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let (code, err) = send_json(
        &client,
        "GET",
        "/api/v1/namespaces/default/services/web:80/proxy/",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(
        (code, err["message"].as_str()),
        (503, Some("no endpoints available for service \"web\""))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubelets_are_reached_at_the_preferred_address_types() {
    let server = Server::start(&["--kubelet-preferred-address-types=ExternalIP,InternalIP"]).await;
    let client = server.client().await;
    let closed = common::free_port();
    let (code, body) = send_json(
        &client,
        "POST",
        "/api/v1/nodes",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    // The node's addresses are set, then the node proxy answers what dialing found.
    let proxied_with = |addresses: Value| {
        let client = client.clone();
        async move {
            let mut node = get_json(&client, "/api/v1/nodes/n1", 200).await;
            node["status"] = json!({"addresses": addresses,
                "daemonEndpoints": {"kubeletEndpoint": {"Port": closed}}});
            let (code, body) = send_json(
                &client,
                "PUT",
                "/api/v1/nodes/n1/status",
                "application/json",
                &node,
            )
            .await;
            assert_eq!(code, 200, "{body}");
            let (code, err) = send_json(
                &client,
                "GET",
                "/api/v1/nodes/n1/proxy/healthz",
                "application/json",
                &json!({}),
            )
            .await;
            (code, err["message"].clone())
        }
    };
    // Upstream's default order would take the Hostname.
    assert_eq!(
        proxied_with(json!([
            {"type": "Hostname", "address": "n1.invalid"},
            {"type": "InternalIP", "address": "127.0.0.1"}]))
        .await,
        (
            500,
            json!(format!(
                "error trying to reach service: dial tcp 127.0.0.1:{closed}: connect: connection refused"
            ))
        )
    );
    // A node with none of the types has no address to reach.
    assert_eq!(
        proxied_with(json!([{"type": "Hostname", "address": "n1.invalid"}])).await,
        (
            500,
            json!("no preferred addresses found; known addresses: [{Hostname n1.invalid}]")
        )
    );
}

/// Connect subresources are published with their options kinds and query parameters, and
/// their options are decoded from the query (for admission); `pods/log` is a read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_subresources_publish_their_options() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let discovery = get_json(&client, "/api/v1", 200).await;
    let kind_of = |name: &str| -> String {
        discovery["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == json!(name))
            .and_then(|r| r["kind"].as_str())
            .unwrap_or("-")
            .to_string()
    };
    assert_eq!(
        [
            "pods/log",
            "pods/exec",
            "pods/attach",
            "pods/portforward",
            "pods/proxy",
            "nodes/proxy",
            "services/proxy"
        ]
        .map(kind_of),
        [
            "Pod",
            "PodExecOptions",
            "PodAttachOptions",
            "PodPortForwardOptions",
            "PodProxyOptions",
            "NodeProxyOptions",
            "ServiceProxyOptions"
        ]
    );
    let openapi = get_json(&client, "/openapi/v2", 200).await;
    let names = |path: &str, method: &str| -> Vec<String> {
        let item = &openapi["paths"][path];
        let mut all: Vec<String> = item["parameters"]
            .as_array()
            .into_iter()
            .chain(item[method]["parameters"].as_array())
            .flatten()
            .map(|p| {
                let p = match p["$ref"].as_str() {
                    Some(r) => &openapi["parameters"][r.trim_start_matches("#/parameters/")],
                    None => p,
                };
                format!(
                    "{}:{}",
                    p["in"].as_str().unwrap_or(""),
                    p["name"].as_str().unwrap_or("")
                )
            })
            .collect();
        all.sort();
        all
    };
    assert_eq!(
        names("/api/v1/namespaces/{namespace}/pods/{name}/exec", "post"),
        [
            "path:name",
            "path:namespace",
            "query:command",
            "query:container",
            "query:stderr",
            "query:stdin",
            "query:stdout",
            "query:tty"
        ]
    );
    let log = &openapi["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"];
    assert_eq!(log["operationId"], json!("readCoreV1NamespacedPodLog"));
    assert_eq!(log["x-kubernetes-group-version-kind"]["kind"], json!("Pod"));
    assert_eq!(log["produces"][0], json!("text/plain"));
    let log_params = names("/api/v1/namespaces/{namespace}/pods/{name}/log", "get");
    for p in [
        "query:pretty",
        "query:tailLines",
        "query:follow",
        "query:container",
    ] {
        assert!(log_params.contains(&p.to_string()), "{log_params:?}");
    }
    assert!(!log_params.contains(&"query:sinceTime".to_string()));
    assert_eq!(
        names(
            "/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}",
            "get"
        ),
        ["path:name", "path:namespace", "path:path", "query:path"]
    );

    // The options are decoded (and admitted) before the pod is looked up.
    let (code, _) = send_json(
        &client,
        "POST",
        "/api/v1/namespaces/default/pods/web/exec?tty=maybe",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(code, 400);
    let (code, err) = send_json(
        &client,
        "GET",
        "/api/v1/namespaces/default/pods/web/log",
        "application/json",
        &json!({}),
    )
    .await;
    assert_eq!(code, 404, "{err}");
}

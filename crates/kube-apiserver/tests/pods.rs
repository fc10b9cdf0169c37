//! core/v1 Pods end to end: kube-rs typed clients and kubectl against the real binary —
//! upstream's defaults, validation causes, update restrictions, the status split, field
//! selectors, watches, and kubectl's run, get -o wide, explain and describe.

mod common;

use std::time::Duration;

use common::{api_err, causes, get_json, ok, send_json, Server};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use serde_json::{json, Value};

fn pod(name: &str, spec: Value) -> Pod {
    serde_json::from_value(
        json!({"metadata": {"name": name, "labels": {"app": name}}, "spec": spec}),
    )
    .expect("a pod")
}

fn nginx(name: &str) -> Pod {
    pod(
        name,
        json!({"containers": [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]}),
    )
}

fn names(pods: &[Pod]) -> Vec<String> {
    pods.iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_pod_has_upstreams_defaults_and_a_pending_status() {
    let server = Server::start(&[
        // The strategy's own defaults, without what admission adds (the service
        // account's token volume, tolerations, priority).
        "--disable-admission-plugins=ServiceAccount,DefaultTolerationSeconds,Priority",
    ])
    .await;
    let pods: Api<Pod> = Api::namespaced(server.client().await, "default");
    let created = pods
        .create(&PostParams::default(), &nginx("web"))
        .await
        .expect("created");
    // What upstream's defaulting gives for the same input (before admission plugins).
    let spec = serde_json::to_value(created.spec.as_ref().expect("spec")).expect("json");
    assert_eq!(
        spec,
        json!({
            "containers": [{
                "name": "web",
                "image": "nginx:1.25",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "resources": {},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent",
            }],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "enableServiceLinks": true,
        })
    );
    let status = serde_json::to_value(created.status.as_ref().expect("status")).expect("json");
    assert_eq!(
        status,
        json!({"phase": "Pending", "qosClass": "BestEffort"})
    );
    assert_eq!(created.metadata.generation, Some(1));

    // A client's status is not taken on create; limits alone give Guaranteed.
    let mut guaranteed = pod(
        "sized",
        json!({"containers": [{"name": "c", "image": "busybox",
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}]}),
    );
    guaranteed.status = Some(serde_json::from_value(json!({"phase": "Running"})).expect("status"));
    let created = pods
        .create(&PostParams::default(), &guaranteed)
        .await
        .expect("created");
    let c = &created.spec.as_ref().expect("spec").containers[0];
    assert_eq!(c.image_pull_policy.as_deref(), Some("Always"));
    let requests =
        serde_json::to_value(&c.resources.as_ref().expect("resources").requests).expect("json");
    assert_eq!(requests, json!({"cpu": "500m", "memory": "128Mi"}));
    let status = created.status.expect("status");
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    assert_eq!(status.qos_class.as_deref(), Some("Guaranteed"));

    // A template-only default does not reach pods twice: GET shows the stored object.
    let got = pods.get("web").await.expect("get");
    assert_eq!(
        serde_json::to_value(got.spec.expect("spec")).expect("json"),
        spec
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_pods_are_refused_with_upstreams_causes() {
    let server = Server::start(&[]).await;
    let pods: Api<Pod> = Api::namespaced(server.client().await, "default");
    let bad = pod(
        "bad",
        json!({
            "restartPolicy": "Sometimes",
            "containers": [
                {"name": "Web", "image": ""},
                {"name": "b", "image": "x", "ports": [{"containerPort": 70000}],
                 "volumeMounts": [{"name": "missing", "mountPath": "/m"}],
                 "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "2"}}},
                {"name": "b", "image": "x"},
            ],
        }),
    );
    let status = api_err(
        pods.create(&PostParams::default(), &bad)
            .await
            .expect_err("invalid"),
    );
    assert_eq!(
        causes(&status),
        [
            "spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            "spec.containers[0].image: Required value",
            "spec.containers[1].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            "spec.containers[1].volumeMounts[0].name: Not found: \"missing\"",
            "spec.containers[1].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
            "spec.containers[2].name: Duplicate value: \"b\"",
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
        ]
    );
    assert!(
        status.message.starts_with("Pod \"bad\" is invalid: ["),
        "{}",
        status.message
    );

    let none = pod("none", json!({"containers": []}));
    let status = api_err(
        pods.create(&PostParams::default(), &none)
            .await
            .expect_err("invalid"),
    );
    assert_eq!(causes(&status), ["spec.containers: Required value"]);

    let ephemeral = pod(
        "eph",
        json!({"containers": [{"name": "c", "image": "x"}],
            "ephemeralContainers": [{"name": "debug", "image": "busybox"}]}),
    );
    let status = api_err(
        pods.create(&PostParams::default(), &ephemeral)
            .await
            .expect_err("invalid"),
    );
    assert_eq!(
        causes(&status),
        ["spec.ephemeralContainers: Forbidden: cannot be set on create"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_may_change_images_only_and_status_is_split() {
    let server = Server::start(&[]).await;
    let pods: Api<Pod> = Api::namespaced(server.client().await, "default");
    pods.create(&PostParams::default(), &nginx("web"))
        .await
        .expect("created");

    // The image may change; the generation moves on.
    let patched = pods
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(
                json!({"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}),
            ),
        )
        .await
        .expect("image patched");
    assert_eq!(
        patched.spec.as_ref().expect("spec").containers[0]
            .image
            .as_deref(),
        Some("nginx:1.27")
    );
    assert_eq!(patched.metadata.generation, Some(2));

    // Anything else in the spec may not.
    let mut changed = patched.clone();
    changed.spec.as_mut().expect("spec").restart_policy = Some("Never".to_string());
    let status = api_err(
        pods.replace("web", &PostParams::default(), &changed)
            .await
            .expect_err("refused"),
    );
    let got = causes(&status);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"),
        "{}",
        got[0]
    );
    assert!(got[0].contains("spec.restartPolicy"), "{}", got[0]);
    let more = pods
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"containers": [{"name": "extra", "image": "x"}]}})),
        )
        .await
        .expect_err("refused");
    assert_eq!(
        causes(&api_err(more)),
        ["spec.containers: Forbidden: pod updates may not add or remove containers"]
    );

    // A status written with the main resource is dropped; pods/status takes it, and keeps
    // the spec.
    let mut with_status = pods.get("web").await.expect("get");
    with_status.status = Some(serde_json::from_value(json!({"phase": "Running"})).expect("status"));
    let updated = pods
        .replace("web", &PostParams::default(), &with_status)
        .await
        .expect("updated");
    assert_eq!(
        updated.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Pending")
    );
    let status_patch = json!({"spec": {"nodeName": "ignored"}, "status": {"phase": "Running", "podIP": "10.244.0.7",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "web", "ready": true, "restartCount": 2, "image": "nginx:1.27", "imageID": "", "state": {"running": {}}}]}});
    let running = pods
        .patch_status("web", &PatchParams::default(), &Patch::Merge(status_patch))
        .await
        .expect("status written");
    let status = running.status.as_ref().expect("status");
    assert_eq!(status.phase.as_deref(), Some("Running"));
    assert_eq!(status.qos_class.as_deref(), Some("BestEffort"));
    let ips: Vec<String> = status
        .pod_ips
        .iter()
        .flatten()
        .map(|p| p.ip.clone())
        .collect();
    assert_eq!(ips, ["10.244.0.7"]);
    assert_eq!(
        running.spec.as_ref().and_then(|s| s.node_name.as_deref()),
        None
    );
    assert_eq!(running.metadata.generation, Some(2));
    let qos = pods
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"qosClass": "Guaranteed"}})),
        )
        .await
        .expect_err("qos is immutable");
    assert_eq!(
        causes(&api_err(qos)),
        ["status.qosClass: Invalid value: \"Guaranteed\": field is immutable"]
    );

    // kubectl shows the cells printPod computes.
    let out = ok(server.kubectl(&["get", "pods", "-n", "default", "-o", "wide"]));
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED",
            "NODE",
            "READINESS",
            "GATES"
        ]
    );
    let row: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    assert_eq!(row[..4], ["web", "1/1", "Running", "2"]);
    assert_eq!(row[5..], ["10.244.0.7", "<none>", "<none>", "<none>"]);

    // DELETE answers with the pod itself.
    let deleted = pods
        .delete("web", &DeleteParams::default())
        .await
        .expect("deleted");
    let gone = deleted.left().expect("the deleted pod");
    assert_eq!(gone.metadata.name.as_deref(), Some("web"));
    assert!(pods.get_opt("web").await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_selectors_and_watches() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let start = pods
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    let mut events = pods
        .watch(
            &WatchParams::default()
                .fields("spec.nodeName=node-1")
                .timeout(20),
            &start,
        )
        .await
        .expect("watch")
        .boxed();

    let mut bound = nginx("bound");
    bound.spec.as_mut().expect("spec").node_name = Some("node-1".to_string());
    pods.create(&PostParams::default(), &bound)
        .await
        .expect("bound");
    let mut never = nginx("once");
    never.spec.as_mut().expect("spec").restart_policy = Some("Never".to_string());
    pods.create(&PostParams::default(), &never)
        .await
        .expect("once");

    let seen = loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), events.try_next())
            .await
            .expect("event in time")
            .expect("no error")
            .expect("open");
        if let WatchEvent::Added(p) = ev {
            break p;
        }
    };
    assert_eq!(seen.metadata.name.as_deref(), Some("bound"));

    let select = |fields: &str| ListParams::default().fields(fields);
    for (selector, want) in [
        ("spec.nodeName=node-1", vec!["bound"]),
        ("spec.nodeName=", vec!["once"]),
        ("spec.restartPolicy=Never", vec!["once"]),
        ("spec.restartPolicy!=Never", vec!["bound"]),
        (
            "spec.schedulerName=default-scheduler",
            vec!["bound", "once"],
        ),
        ("spec.hostNetwork=false", vec!["bound", "once"]),
        // ServiceAccount admission gives every pod the `default` account.
        ("spec.serviceAccountName=default", vec!["bound", "once"]),
        ("spec.serviceAccountName=", vec![]),
        ("status.phase=Pending", vec!["bound", "once"]),
        ("status.phase=Running", vec![]),
        ("status.podIP=", vec!["bound", "once"]),
        ("status.nominatedNodeName=", vec!["bound", "once"]),
    ] {
        let list = pods.list(&select(selector)).await.expect(selector);
        assert_eq!(names(&list.items), want, "{selector}");
    }
    let (code, body) = send_json(
        &client,
        "GET",
        "/api/v1/namespaces/default/pods?fieldSelector=spec.image%3Dx",
        "application/json",
        &json!(null),
    )
    .await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["message"], "field label not supported: spec.image");

    // Discovery: short name and category.
    let discovery = get_json(&client, "/api/v1", 200).await;
    let entry = discovery["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "pods"))
        .cloned()
        .expect("pods in discovery");
    assert_eq!(entry["shortNames"], json!(["po"]));
    assert_eq!(entry["categories"], json!(["all"]));
    assert_eq!(entry["kind"], "Pod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_runs_describes_and_explains_pods() {
    let server = Server::start(&[]).await;
    let out = ok(server.kubectl(&["run", "nginx", "--image=nginx", "--restart=Never"]));
    assert_eq!(out.trim(), "pod/nginx created");
    let pod = ok(server.kubectl(&["get", "pod", "nginx", "-o", "json"]));
    let pod: Value = serde_json::from_str(&pod).expect("json");
    assert_eq!(pod["spec"]["restartPolicy"], "Never");
    assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Always");
    assert_eq!(pod["metadata"]["labels"], json!({"run": "nginx"}));

    let out = ok(server.kubectl(&["get", "po"]));
    let row: Vec<&str> = out
        .lines()
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(row[..4], ["nginx", "0/1", "Pending", "0"]);
    // `all` names pods (kubectl prefixes `pod/` once other kinds join the category).
    let all = ok(server.kubectl(&["get", "all"]));
    assert!(
        all.lines()
            .any(|l| l.starts_with("nginx ") || l.starts_with("pod/nginx ")),
        "{all}"
    );

    let out = ok(server.kubectl(&["describe", "pod", "nginx"]));
    for line in [
        "Name:",
        "Namespace:",
        "Status:",
        "Pending",
        "QoS Class:",
        "BestEffort",
        "Image:",
        "nginx",
    ] {
        assert!(out.contains(line), "{line} missing from:\n{out}");
    }

    let out = ok(server.kubectl(&["explain", "pods.spec.containers"]));
    assert!(out.contains("KIND:") && out.contains("Pod"), "{out}");
    assert!(out.contains("FIELD: containers <[]Container>"), "{out}");
    assert!(
        out.contains("image\t<string>")
            || out.contains("image <string>")
            || out.contains("image\t"),
        "{out}"
    );
    assert!(out.contains("A process to run in the pod"), "{out}");

    let out = ok(server.kubectl(&["delete", "pod", "nginx"]));
    assert_eq!(out.trim(), "pod \"nginx\" deleted");
}

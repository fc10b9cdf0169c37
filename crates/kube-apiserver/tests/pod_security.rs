//! The PodSecurity admission plugin end to end: namespace labels choose the level, pods
//! that violate the enforce level are refused with upstream's message, the warn level (and
//! workload controllers' templates) draw `Warning` headers that kubectl prints, and a
//! stricter enforce label warns about the pods already there.

mod common;

use common::{api_err, get_status, ok, raw, send_json, Server};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, PostParams};
use kube::Client;
use serde_json::{json, Value};

/// Upstream's violations of a plain one-container pod (container `name`) at restricted.
fn restricted_violations(name: &str) -> String {
    format!(
        "allowPrivilegeEscalation != false (container \"{name}\" must set securityContext.allowPrivilegeEscalation=false), \
         unrestricted capabilities (container \"{name}\" must set securityContext.capabilities.drop=[\"ALL\"]), \
         runAsNonRoot != true (pod or container \"{name}\" must set securityContext.runAsNonRoot=true), \
         seccompProfile (pod or container \"{name}\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
    )
}

/// The value of one series on `/metrics` (0 when absent).
async fn counter(client: &Client, series: &str) -> u64 {
    let (code, text) = get_status(client, "/metrics").await.expect("metrics");
    assert_eq!(code, 200);
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Creates namespace `name` with these labels.
async fn namespace(client: &Client, name: &str, labels: Value) {
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}}))
            .expect("namespace");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
}

fn pod(name: &str, container: Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [container]},
    }))
    .expect("pod")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_refuses_violating_pods_with_upstreams_message() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    ok(server.kubectl(&["create", "namespace", "locked"]));
    ok(server.kubectl(&[
        "label",
        "namespace",
        "locked",
        "pod-security.kubernetes.io/enforce=restricted",
    ]));
    let pods: Api<Pod> = Api::namespaced(client.clone(), "locked");

    let privileged = pod(
        "root",
        json!({"name": "shell", "image": "busybox", "securityContext": {"privileged": true}}),
    );
    let err = api_err(
        pods.create(&PostParams::default(), &privileged)
            .await
            .expect_err("a privileged pod must be refused"),
    );
    assert_eq!(
        (err.code, err.reason.as_str()),
        (403, "Forbidden"),
        "{err:?}"
    );
    assert_eq!(
        err.message,
        format!(
            "pods \"root\" is forbidden: violates PodSecurity \"restricted:latest\": \
             privileged (container \"shell\" must not set securityContext.privileged=true), {}",
            restricted_violations("shell")
        )
    );
    let details = err.details.as_ref().expect("details");
    assert_eq!(
        (details.name.as_str(), details.kind.as_str()),
        ("root", "pods")
    );

    // kubectl run prints the same refusal.
    let out = server.kubectl(&["run", "web", "--image=nginx", "-n", "locked"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "Error from server (Forbidden): pods \"web\" is forbidden: violates PodSecurity \"restricted:latest\": {}",
            restricted_violations("web")
        )
    );

    // A pod that meets the standard is created, and draws no warning.
    let compliant: Pod = serde_json::from_value(json!({
        "metadata": {"name": "good"},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "app", "image": "nginx", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
        },
    }))
    .expect("pod");
    let body = serde_json::to_vec(&compliant).expect("json");
    let (code, headers, text) = raw(
        &client,
        "POST",
        "/api/v1/namespaces/locked/pods",
        &[("content-type", "application/json")],
        body,
    )
    .await
    .expect("create");
    assert_eq!(code, 201, "{text}");
    assert!(headers.get("warning").is_none(), "{headers:?}");

    // Without the label, the same privileged pod is fine (privileged is the default).
    let open: Api<Pod> = Api::namespaced(client.clone(), "default");
    open.create(&PostParams::default(), &privileged)
        .await
        .expect("privileged pod in an unlabelled namespace");

    // Every decision is counted under upstream's metric and labels.
    let series = |decision: &str, level: &str| {
        format!(
            "pod_security_evaluations_total{{decision=\"{decision}\",mode=\"enforce\",policy_level=\"{level}\",policy_version=\"latest\",request_operation=\"create\",resource=\"pod\",subresource=\"\"}}"
        )
    };
    assert_eq!(counter(&client, &series("deny", "restricted")).await, 2);
    assert_eq!(counter(&client, &series("allow", "restricted")).await, 1);
    assert!(counter(&client, &series("allow", "privileged")).await >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warn_level_warns_and_admits() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    namespace(
        &client,
        "watched",
        json!({"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "v1.30"}),
    )
    .await;

    let out = server.kubectl(&["run", "web", "--image=nginx", "-n", "watched"]);
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "Warning: would violate PodSecurity \"restricted:v1.30\": {}",
            restricted_violations("web")
        )
    );
    assert_eq!(ok(out).trim_end(), "pod/web created");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "watched");
    pods.get("web").await.expect("the warned pod exists");

    // The header itself, as upstream's recorder writes it.
    let (code, headers, text) = raw(
        &client,
        "POST",
        "/api/v1/namespaces/watched/pods",
        &[("content-type", "application/json")],
        serde_json::to_vec(&pod("api", json!({"name": "app", "image": "nginx"}))).expect("json"),
    )
    .await
    .expect("create");
    assert_eq!(code, 201, "{text}");
    let warning = headers
        .get("warning")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        warning.starts_with(
            r#"299 - "would violate PodSecurity \"restricted:v1.30\": allowPrivilegeEscalation != false (container \"app\""#
        ),
        "{warning}"
    );
    assert_eq!(
        counter(
            &client,
            "pod_security_evaluations_total{decision=\"deny\",mode=\"warn\",policy_level=\"restricted\",policy_version=\"v1.30\",request_operation=\"create\",resource=\"pod\",subresource=\"\"}"
        )
        .await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workload_templates_are_warned_never_refused() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    // An enforce label alone also warns at its level (upstream defaults warn to it).
    namespace(
        &client,
        "apps",
        json!({"pod-security.kubernetes.io/enforce": "baseline"}),
    )
    .await;

    let out = server.kubectl_stdin(
        &["apply", "-n", "apps", "-f", "-"],
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: agent\nspec:\n  selector:\n    matchLabels:\n      app: agent\n  template:\n    metadata:\n      labels:\n        app: agent\n    spec:\n      hostNetwork: true\n      containers:\n      - name: agent\n        image: agent:1\n        securityContext:\n          privileged: true\n",
    );
    assert_eq!(
        stderr(&out).trim_end(),
        "Warning: would violate PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true), privileged (container \"agent\" must not set securityContext.privileged=true)"
    );
    ok(out);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "apps");
    deployments
        .get("agent")
        .await
        .expect("the deployment exists");

    // kubectl create deployment at restricted (a second namespace): warned, created.
    namespace(
        &client,
        "strict",
        json!({"pod-security.kubernetes.io/enforce": "restricted"}),
    )
    .await;
    let out = server.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "-n",
        "strict",
    ]);
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "Warning: would violate PodSecurity \"restricted:latest\": {}",
            restricted_violations("nginx")
        )
    );
    assert_eq!(ok(out).trim_end(), "deployment.apps/web created");

    // A Job's template too; a CronJob's sits one level deeper.
    let out = server.kubectl(&["create", "job", "once", "--image=busybox", "-n", "strict"]);
    assert!(
        stderr(&out).starts_with("Warning: would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"once\""),
        "{out:?}"
    );
    ok(out);
    let out = server.kubectl(&[
        "create",
        "cronjob",
        "nightly",
        "--image=busybox",
        "--schedule=0 3 * * *",
        "-n",
        "strict",
    ]);
    assert!(
        stderr(&out).starts_with("Warning: would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"nightly\""),
        "{out:?}"
    );
    ok(out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_labels_are_validated_and_existing_pods_reported() {
    let server = Server::start(&[]).await;
    let client = server.client().await;

    // Bad label values are refused with upstream's 422.
    let (code, body) = send_json(
        &client,
        "POST",
        "/api/v1/namespaces",
        "application/json",
        &json!({"metadata": {"name": "bad", "labels": {"pod-security.kubernetes.io/enforce": "bogus", "pod-security.kubernetes.io/warn-version": "1.30"}}}),
    )
    .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        json!("Namespace \"bad\" is invalid: [metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"bogus\": must be one of privileged, baseline, restricted, metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: \"1.30\": must be \"latest\" or \"v1.x\"]")
    );
    assert_eq!(
        body["details"]["causes"][0]["field"],
        json!("metadata.labels[pod-security.kubernetes.io/enforce]")
    );

    ok(server.kubectl(&["create", "namespace", "team"]));
    let out = server.kubectl(&[
        "label",
        "namespace",
        "team",
        "pod-security.kubernetes.io/enforce-version=latest1",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: \"latest1\": must be \"latest\" or \"v1.x\""),
        "{out:?}"
    );

    // Pods that a new enforce level would refuse are named in warnings; the label is set.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "team");
    for name in ["priv-b", "priv-a"] {
        pods.create(
            &PostParams::default(),
            &pod(
                name,
                json!({"name": "c", "image": "busybox", "securityContext": {"privileged": true}}),
            ),
        )
        .await
        .expect("privileged pod");
    }
    pods.create(
        &PostParams::default(),
        &pod("ports", json!({"name": "c", "image": "busybox", "ports": [{"containerPort": 80, "hostPort": 8080}]})),
    )
    .await
    .expect("host port pod");
    pods.create(
        &PostParams::default(),
        &pod("fine", json!({"name": "c", "image": "busybox"})),
    )
    .await
    .expect("plain pod");
    let out = server.kubectl(&[
        "label",
        "namespace",
        "team",
        "pod-security.kubernetes.io/enforce=baseline",
    ]);
    assert_eq!(
        stderr(&out).trim_end(),
        "Warning: existing pods in namespace \"team\" violate the new PodSecurity enforce level \"baseline:latest\"\n\
         Warning: ports: hostPort\n\
         Warning: priv-a (and 1 other pod): privileged"
    );
    assert_eq!(ok(out).trim_end(), "namespace/team labeled");

    // Now enforced: updates that do not touch what the checks read still go through ...
    ok(server.kubectl(&["label", "pod", "priv-a", "-n", "team", "touched=yes"]));
    // ... but a privileged ephemeral container is refused.
    let (code, err) = send_json(
        &client,
        "PATCH",
        "/api/v1/namespaces/team/pods/fine/ephemeralcontainers",
        "application/strategic-merge-patch+json",
        &json!({"spec": {"ephemeralContainers": [{"name": "debug", "image": "busybox", "securityContext": {"privileged": true}}]}}),
    )
    .await;
    assert_eq!(code, 403, "{err}");
    assert_eq!(
        err["message"],
        json!("pods \"fine\" is forbidden: violates PodSecurity \"baseline:latest\": privileged (container \"debug\" must not set securityContext.privileged=true)")
    );
    // An image change on a violating pod is a significant update: checked, and refused.
    let out = server.kubectl(&["set", "image", "pod/ports", "c=busybox:2", "-n", "team"]);
    assert!(
        stderr(&out).contains("pods \"ports\" is forbidden: violates PodSecurity \"baseline:latest\": hostPort (container \"c\" uses hostPort 8080)"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_file_sets_defaults_and_exemptions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let psa = dir.path().join("podsecurity.yaml");
    std::fs::write(
        &psa,
        "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults:\n  enforce: baseline\nexemptions:\n  namespaces: [tools]\n",
    )
    .expect("write");
    let file = dir.path().join("admission.yaml");
    std::fs::write(
        &file,
        "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  path: podsecurity.yaml\n",
    )
    .expect("write");
    let flag = format!("--admission-control-config-file={}", file.display());
    let server = Server::start(&[&flag]).await;
    let client = server.client().await;
    let privileged = pod(
        "root",
        json!({"name": "shell", "image": "busybox", "securityContext": {"privileged": true}}),
    );

    // Unlabelled namespaces get the configured default.
    let err = api_err(
        Api::<Pod>::namespaced(client.clone(), "default")
            .create(&PostParams::default(), &privileged)
            .await
            .expect_err("refused by the default policy"),
    );
    assert_eq!(
        err.message,
        "pods \"root\" is forbidden: violates PodSecurity \"baseline:latest\": privileged (container \"shell\" must not set securityContext.privileged=true)"
    );

    // An exempt namespace admits it, and says its labels are ignored.
    ok(server.kubectl(&["create", "namespace", "tools"]));
    Api::<Pod>::namespaced(client.clone(), "tools")
        .create(&PostParams::default(), &privileged)
        .await
        .expect("exempt namespace");
    assert_eq!(
        counter(
            &client,
            "pod_security_exemptions_total{request_operation=\"create\",resource=\"pod\",subresource=\"\"}"
        )
        .await,
        1
    );
    let out = server.kubectl(&[
        "label",
        "namespace",
        "tools",
        "pod-security.kubernetes.io/enforce=restricted",
    ]);
    assert_eq!(
        stderr(&out).trim_end(),
        "Warning: namespace \"tools\" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored"
    );
    ok(out);
    drop(server);

    // A configuration upstream refuses stops start-up.
    std::fs::write(
        &psa,
        "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults:\n  enforce: strict\n",
    )
    .expect("write");
    let out = std::process::Command::new(common::binary())
        .arg(format!("--data-dir={}", dir.path().display()))
        .arg(format!("--secure-port={}", common::free_port()))
        .arg("--bind-address=127.0.0.1")
        .arg(&flag)
        .output()
        .expect("run binary");
    assert_ne!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("PodSecurity invalid: defaults.enforce: Invalid value: \"strict\": must be one of privileged, baseline, restricted"),
        "{text}"
    );

    // Configuration for an enabled plugin that reads none here is refused, not dropped.
    std::fs::write(
        &file,
        "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: ResourceQuota\n  configuration:\n    apiVersion: apiserver.config.k8s.io/v1\n    kind: ResourceQuotaConfiguration\n    limitedResources: []\n",
    )
    .expect("write");
    let out = std::process::Command::new(common::binary())
        .arg(format!("--data-dir={}", dir.path().display()))
        .arg(format!("--secure-port={}", common::free_port()))
        .arg("--bind-address=127.0.0.1")
        .arg(&flag)
        .output()
        .expect("run binary");
    assert_ne!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("configuration of the ResourceQuota admission plugin is not supported yet"),
        "{text}"
    );
}

//! Server-side apply and managedFields end to end: raw requests for upstream's exact
//! answers, kubectl (`apply --server-side`, conflicts, `--force-conflicts`, `diff
//! --server-side`, `--show-managed-fields`, the client-side to server-side upgrade), and a
//! kube-rs controller pair (one manager applies spec, another status).

mod common;

use common::{get_json, ok, raw, send_json, Server};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

const APPLY: &str = "application/apply-patch+yaml";

async fn apply_raw(c: &kube::Client, path: &str, query: &str, body: &str) -> (u16, Value) {
    let (s, _, text) = raw(
        c,
        "PATCH",
        &format!("{path}?{query}"),
        &[("content-type", APPLY)],
        body.as_bytes().to_vec(),
    )
    .await
    .expect("request");
    (
        s,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn entries(obj: &Value) -> Vec<Value> {
    obj["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn entry<'a>(list: &'a [Value], manager: &str) -> &'a Value {
    list.iter()
        .find(|e| e["manager"] == manager)
        .unwrap_or_else(|| panic!("no entry of {manager}: {list:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_creates_owns_conflicts_and_forces() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let path = "/api/v1/namespaces/default/configmaps/cfg";
    let yaml =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"1\"\n  b: \"2\"\n";

    // fieldManager is required; force belongs to apply only.
    let (s, v) = apply_raw(&c, path, "", yaml).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(
        v["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    let (s, v) = send_json(
        &c,
        "PATCH",
        &format!("{path}?force=true"),
        "application/merge-patch+json",
        &json!({}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(
        v["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
    );

    // Dry run creates nothing.
    let (s, v) = apply_raw(&c, path, "fieldManager=alice&dryRun=All", yaml).await;
    assert_eq!(s, 201, "{v}");
    get_json(&c, path, 404).await;

    // An apply to a missing object creates it, owned by its applier.
    let (s, v) = apply_raw(&c, path, "fieldManager=alice", yaml).await;
    assert_eq!(s, 201, "{v}");
    let list = entries(&v);
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(list[0]["manager"], "alice");
    assert_eq!(list[0]["operation"], "Apply");
    assert_eq!(list[0]["apiVersion"], "v1");
    assert_eq!(list[0]["fieldsType"], "FieldsV1");
    assert_eq!(
        list[0]["fieldsV1"],
        json!({"f:data": {"f:a": {}, "f:b": {}}})
    );
    assert!(list[0]["time"].is_string());
    let rv = v["metadata"]["resourceVersion"].clone();

    // The same apply again writes nothing.
    let (s, v) = apply_raw(&c, path, "fieldManager=alice", yaml).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["metadata"]["resourceVersion"], rv);

    // Another manager changing alice's field conflicts, with upstream's words and causes.
    let bob = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"9\"\n";
    let (s, v) = apply_raw(&c, path, "fieldManager=bob", bob).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["reason"], "Conflict");
    assert_eq!(
        v["message"],
        "Apply failed with 1 conflict: conflict with \"alice\": .data.a"
    );
    assert_eq!(
        v["details"]["causes"],
        json!([{"reason": "FieldManagerConflict", "message": "conflict with \"alice\"", "field": ".data.a"}])
    );

    // Forced, bob takes the field.
    let (s, v) = apply_raw(&c, path, "fieldManager=bob&force=true", bob).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"], json!({"a": "9", "b": "2"}));
    let list = entries(&v);
    assert_eq!(
        entry(&list, "alice")["fieldsV1"],
        json!({"f:data": {"f:b": {}}})
    );
    assert_eq!(
        entry(&list, "bob")["fieldsV1"],
        json!({"f:data": {"f:a": {}}})
    );

    // alice drops b: it goes, since nobody else owns it.
    let alice = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata: {}\n";
    let (s, v) = apply_raw(&c, path, "fieldManager=alice", alice).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"], json!({"a": "9"}));

    // A JSON body in the apply media type, a wrong kind, managedFields in the body.
    let (s, v) = apply_raw(
        &c,
        path,
        "fieldManager=carol",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","labels":{"x":"y"}}}"#,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["metadata"]["labels"], json!({"x": "y"}));
    let (s, v) = apply_raw(
        &c,
        path,
        "fieldManager=carol",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cfg\n",
    )
    .await;
    assert_eq!(
        (s, v["message"].as_str()),
        (400, Some("invalid object type: /v1, Kind=Secret")),
        "{v}"
    );
    let (s, v) = apply_raw(
        &c,
        path,
        "fieldManager=carol",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  managedFields: []\n",
    )
    .await;
    assert_eq!(
        (s, v["message"].as_str()),
        (400, Some("metadata.managedFields must be nil")),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_records_an_update_entry() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let base = "/api/v1/namespaces/default/secrets";
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "labels": {"app": "x"}}, "stringData": {"k": "v"}});

    // The manager is the User-Agent's prefix when fieldManager is not given.
    let (s, _, text) = raw(
        &c,
        "POST",
        base,
        &[
            ("content-type", "application/json"),
            ("user-agent", "my-tool/1.2 (linux)"),
        ],
        serde_json::to_vec(&secret).unwrap_or_default(),
    )
    .await
    .expect("request");
    assert_eq!(s, 201, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap_or_default();
    let list = entries(&v);
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(list[0]["manager"], "my-tool");
    assert_eq!(list[0]["operation"], "Update");
    assert_eq!(
        list[0]["fieldsV1"],
        json!({"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:type": {}})
    );

    // A patch by another manager takes what it changed.
    let (s, v) = send_json(
        &c,
        "PATCH",
        &format!("{base}/s?fieldManager=labeller"),
        "application/merge-patch+json",
        &json!({"metadata": {"labels": {"app": "y", "tier": "db"}}}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let list = entries(&v);
    assert_eq!(
        entry(&list, "labeller")["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:app": {}, "f:tier": {}}}})
    );
    assert_eq!(
        entry(&list, "my-tool")["fieldsV1"],
        json!({"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {}}, "f:type": {}})
    );
    // A write that changes nothing keeps the resourceVersion.
    let rv = v["metadata"]["resourceVersion"].clone();
    let (s, v) = send_json(
        &c,
        "PATCH",
        &format!("{base}/s?fieldManager=other"),
        "application/merge-patch+json",
        &json!({"metadata": {"labels": {"app": "y"}}}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["metadata"]["resourceVersion"], rv);

    // `managedFields: []` stops tracking, and an untracked object stays untracked.
    let (s, v) = send_json(
        &c,
        "PATCH",
        &format!("{base}/s"),
        "application/merge-patch+json",
        &json!({"metadata": {"managedFields": []}}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["metadata"].get("managedFields").is_none(), "{v}");
    let (s, v) = send_json(
        &c,
        "PATCH",
        &format!("{base}/s?fieldManager=x"),
        "application/merge-patch+json",
        &json!({"metadata": {"labels": {"more": "1"}}}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["metadata"].get("managedFields").is_none(), "{v}");

    // An apply to it gives what it held to before-first-apply.
    let (s, v) = apply_raw(
        &c,
        &format!("{base}/s"),
        "fieldManager=applier",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n    a: b\n",
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let list = entries(&v);
    assert_eq!(list.len(), 2, "{v}");
    assert!(
        entry(&list, "before-first-apply")["fieldsV1"]["f:metadata"]["f:labels"]["f:more"]
            .is_object(),
        "{v}"
    );
    assert_eq!(
        entry(&list, "applier")["fieldsV1"],
        json!({"f:metadata": {"f:annotations": {"f:a": {}}}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_server_side_apply() {
    let server = Server::start(&[]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cm.yaml");
    let write = |data: &str| {
        std::fs::write(
            &file,
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: default\ndata:\n{data}"),
        )
        .expect("write");
    };
    let f = file.to_str().unwrap_or_default().to_string();

    // Client-side apply first: the last-applied annotation and kubectl's Update entry.
    write("  color: blue\n  size: big\n");
    let out = ok(server.kubectl(&["apply", "-f", &f]));
    assert!(out.contains("configmap/web created"), "{out}");
    // Then server-side: kubectl upgrades the client-side manager, no conflict.
    write("  color: red\n  size: big\n");
    let out = ok(server.kubectl(&["apply", "--server-side", "-f", &f]));
    assert!(out.contains("configmap/web serverside-applied"), "{out}");
    let yaml = ok(server.kubectl(&["get", "cm", "web", "-o", "json", "--show-managed-fields"]));
    let v: Value = serde_json::from_str(&yaml).unwrap_or_default();
    assert_eq!(v["data"]["color"], "red");
    let list = entries(&v);
    let applier = entry(&list, "kubectl");
    assert_eq!(applier["operation"], "Apply", "{v}");
    assert!(applier["fieldsV1"]["f:data"]["f:color"].is_object(), "{v}");
    assert!(
        list.iter()
            .all(|e| e["manager"] != "kubectl-client-side-apply"),
        "{v}"
    );
    // The annotation follows the server-side apply, as upstream keeps it for kubectl.
    let last = v["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap_or_default();
    assert!(last.contains("\"color\":\"red\""), "{last}");

    // Without --show-managed-fields kubectl hides them.
    let plain = ok(server.kubectl(&["get", "cm", "web", "-o", "yaml"]));
    assert!(!plain.contains("managedFields"), "{plain}");

    // Another manager conflicts; --force-conflicts takes the field.
    write("  color: green\n");
    let out = server.kubectl(&["apply", "--server-side", "--field-manager=other", "-f", &f]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("conflict with \"kubectl\": .data.color"),
        "{err}"
    );
    // kubectl diff --server-side shows what a forced apply would change.
    let out = server.kubectl(&[
        "diff",
        "--server-side",
        "--force-conflicts",
        "--field-manager=other",
        "-f",
        &f,
    ]);
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("-  color: red") && diff.contains("+  color: green"),
        "{diff}"
    );
    ok(server.kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=other",
        "-f",
        &f,
    ]));
    let v: Value = serde_json::from_str(&ok(server.kubectl(&[
        "get",
        "cm",
        "web",
        "-o",
        "json",
        "--show-managed-fields",
    ])))
    .unwrap_or_default();
    assert_eq!(v["data"], json!({"color": "green", "size": "big"}));
    let list = entries(&v);
    assert_eq!(
        entry(&list, "other")["fieldsV1"],
        json!({"f:data": {"f:color": {}}})
    );
    assert!(
        entry(&list, "kubectl")["fieldsV1"]["f:data"]
            .get("f:color")
            .is_none(),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controllers_apply_spec_and_status_without_clobbering() {
    use k8s_openapi::api::core::v1::Node;
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let nodes: Api<Node> = Api::all(c.clone());
    let spec = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {"zone": "a"}},
                      "spec": {"podCIDR": "10.0.0.0/24", "podCIDRs": ["10.0.0.0/24"]}});
    let n = nodes
        .patch(
            "n1",
            &PatchParams::apply("spec-controller"),
            &Patch::Apply(&spec),
        )
        .await
        .expect("apply spec");
    assert_eq!(
        n.spec.as_ref().and_then(|s| s.pod_cidr.clone()).as_deref(),
        Some("10.0.0.0/24")
    );
    let status = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
                        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok"}]}});
    let n = nodes
        .patch_status(
            "n1",
            &PatchParams::apply("status-controller"),
            &Patch::Apply(&status),
        )
        .await
        .expect("apply status");
    let mf = n.metadata.managed_fields.clone().unwrap_or_default();
    let by = |m: &str| mf.iter().find(|e| e.manager.as_deref() == Some(m)).cloned();
    let st = by("status-controller").expect("status entry");
    assert_eq!(st.subresource.as_deref(), Some("status"));
    assert_eq!(st.operation.as_deref(), Some("Apply"));
    let sp = by("spec-controller").expect("spec entry");
    assert_eq!(sp.subresource, None);
    // The spec controller applies again without status: the status stays (not its field).
    let n = nodes
        .patch(
            "n1",
            &PatchParams::apply("spec-controller"),
            &Patch::Apply(&spec),
        )
        .await
        .expect("apply spec again");
    let conds = n.status.and_then(|s| s.conditions).unwrap_or_default();
    assert_eq!(conds.len(), 1);
    assert_eq!(conds[0].type_, "Ready");
    // The status controller drops its condition: the labels and spec stay.
    let n = nodes
        .patch_status("n1", &PatchParams::apply("status-controller"), &Patch::Apply(&json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "status": {}})))
        .await
        .expect("apply status again");
    assert!(n
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .is_empty());
    assert_eq!(
        n.metadata
            .labels
            .unwrap_or_default()
            .get("zone")
            .map(String::as_str),
        Some("a")
    );
    assert_eq!(
        n.spec.and_then(|s| s.pod_cidr).as_deref(),
        Some("10.0.0.0/24")
    );

    // A typed create with a field manager, then an apply that conflicts with it.
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(c.clone(), "default");
    let mut cm: k8s_openapi::api::core::v1::ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "t"}, "data": {"k": "1"}}))
            .unwrap_or_default();
    cm = cms
        .create(
            &PostParams {
                field_manager: Some("creator".into()),
                ..Default::default()
            },
            &cm,
        )
        .await
        .expect("create");
    let mf = cm.metadata.managed_fields.unwrap_or_default();
    assert_eq!(mf[0].manager.as_deref(), Some("creator"));
    let err = cms
        .patch("t", &PatchParams::apply("late"), &Patch::Apply(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t"}, "data": {"k": "2"}})))
        .await
        .expect_err("conflict");
    let kube::Error::Api(s) = err else {
        panic!("expected an API error")
    };
    assert_eq!(s.code, 409);
    assert_eq!(
        s.message,
        "Apply failed with 1 conflict: conflict with \"creator\" using v1: .data.k"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_kinds_and_status_subresource_conflicts() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("objs.yaml");
    std::fs::write(
        &file,
        r#"apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: lock
  namespace: default
spec:
  holderIdentity: a
  leaseDurationSeconds: 15
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: pdb
  namespace: default
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: web
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: default
addressType: IPv4
endpoints:
- addresses: ["10.0.0.1"]
ports:
- name: http
  port: 80
  protocol: TCP
"#,
    )
    .expect("write");
    let f = file.to_str().unwrap_or_default();
    let out = ok(server.kubectl(&["apply", "--server-side", "-f", f]));
    assert_eq!(out.matches("serverside-applied").count(), 3, "{out}");
    let lease = get_json(
        &c,
        "/apis/coordination.k8s.io/v1/namespaces/default/leases/lock",
        200,
    )
    .await;
    assert_eq!(
        entry(&entries(&lease), "kubectl")["fieldsV1"],
        json!({"f:spec": {"f:holderIdentity": {}, "f:leaseDurationSeconds": {}}})
    );
    let pdb = get_json(
        &c,
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets/pdb",
        200,
    )
    .await;
    // The selector is an atomic struct: owned whole.
    assert_eq!(
        entry(&entries(&pdb), "kubectl")["fieldsV1"],
        json!({"f:spec": {"f:minAvailable": {}, "f:selector": {}}})
    );
    let slice = get_json(
        &c,
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-1",
        200,
    )
    .await;
    let slice_entries = entries(&slice);
    let fields = &entry(&slice_entries, "kubectl")["fieldsV1"];
    assert!(
        fields["f:addressType"].is_object() && fields["f:endpoints"].is_object(),
        "{slice}"
    );
    // Applying again changes nothing.
    let out = ok(server.kubectl(&["apply", "--server-side", "-f", f]));
    assert_eq!(out.matches("serverside-applied").count(), 3, "{out}");
    let again = get_json(
        &c,
        "/apis/coordination.k8s.io/v1/namespaces/default/leases/lock",
        200,
    )
    .await;
    assert_eq!(
        again["metadata"]["resourceVersion"],
        lease["metadata"]["resourceVersion"]
    );

    // Two status appliers: the second conflicts with the first, named with its subresource.
    let path = "/apis/policy/v1/namespaces/default/poddisruptionbudgets/pdb/status";
    let st = |n: i64| {
        format!("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: pdb\n  namespace: default\nstatus:\n  currentHealthy: {n}\n  desiredHealthy: 1\n  disruptionsAllowed: 0\n  expectedPods: 1\n")
    };
    let (s, v) = apply_raw(&c, path, "fieldManager=pdb-controller", &st(1)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"]["currentHealthy"], 1);
    let (s, v) = apply_raw(&c, path, "fieldManager=intruder", &st(2)).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(
        v["message"],
        "Apply failed with 1 conflict: conflict with \"pdb-controller\" with subresource \"status\": .status.currentHealthy"
    );
    // The resource's applier never owns status, the status applier never owns spec.
    let pdb = get_json(
        &c,
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets/pdb",
        200,
    )
    .await;
    let list = entries(&pdb);
    assert!(
        entry(&list, "kubectl")["fieldsV1"]
            .get("f:status")
            .is_none(),
        "{pdb}"
    );
    assert!(
        entry(&list, "pdb-controller")["fieldsV1"]
            .get("f:spec")
            .is_none(),
        "{pdb}"
    );

    // A field the type does not declare: upstream's typed conversion error.
    let (s, v) = apply_raw(
        &c,
        "/api/v1/namespaces/default/configmaps/u",
        "fieldManager=m",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: u\nbogus: 1\n",
    )
    .await;
    assert_eq!(s, 500, "{v}");
    assert!(v.get("reason").is_none(), "{v}");
    assert_eq!(
        v["message"],
        "failed to create typed patch object (default/u; /v1, Kind=ConfigMap): .bogus: field not declared in schema"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_apply_twice_with_defaulted_keys() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: default\nspec:\n  containers:\n  - name: web\n    image: nginx\n    ports:\n    - containerPort: 80\n";
    let path = "/api/v1/namespaces/default/pods/p";
    let (s, v) = apply_raw(&c, path, "fieldManager=deployer", pod).await;
    assert_eq!(s, 201, "{v}");
    let rv = v["metadata"]["resourceVersion"].clone();
    let (s, v) = apply_raw(&c, path, "fieldManager=deployer", pod).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["spec"]["containers"][0]["ports"],
        json!([{"containerPort": 80, "protocol": "TCP"}])
    );
    assert_eq!(v["metadata"]["resourceVersion"], rv, "{v}");
    let fields = &entry(&entries(&v), "deployer")["fieldsV1"].clone();
    assert!(
        fields["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]["f:ports"]
            ["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"]
            .is_object(),
        "{fields}"
    );
}

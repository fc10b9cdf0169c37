//! Server-side apply beyond the resource itself: managers of `*/scale` kept on the parent
//! object (apply, merge patch and PUT of a `Scale`, `kubectl scale`), conflicts between a
//! `spec.replicas` applier and a scaler, and `fieldValidation` on applied configurations.

mod common;

use common::{get_json, ok, raw, Server};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v1::Scale;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

const APPLY: &str = "application/apply-patch+yaml";
const MERGE: &str = "application/merge-patch+json";

/// The `managedFields` entry of `manager` in `obj`.
fn entry_of(obj: &Value, manager: &str) -> Value {
    obj["metadata"]["managedFields"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["manager"] == manager).cloned())
        .unwrap_or_else(|| panic!("no entry of {manager}: {obj}"))
}

/// A PATCH with `content_type`; answers the status, the warnings and the body.
async fn patch_raw(
    c: &kube::Client,
    path: &str,
    query: &str,
    content_type: &str,
    body: &str,
) -> (u16, Vec<String>, Value) {
    let (s, headers, text) = raw(
        c,
        "PATCH",
        &format!("{path}?{query}"),
        &[("content-type", content_type)],
        body.as_bytes().to_vec(),
    )
    .await
    .expect("request");
    let warnings = headers
        .get_all("warning")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    (
        s,
        warnings,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The managers that own `.spec.replicas`, with their entries.
fn replicas_owners(obj: &Value) -> Vec<Value> {
    obj["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["fieldsV1"]["f:spec"].get("f:replicas").is_some())
        .collect()
}

fn owner_names(obj: &Value) -> Vec<String> {
    let mut names: Vec<String> = replicas_owners(obj)
        .iter()
        .filter_map(|e| e["manager"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

fn workload(kind: &str) -> String {
    let mut obj = json!({
        "apiVersion": "apps/v1", "kind": kind,
        "metadata": {"name": "test"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:latest"}]}}
        }
    });
    if kind == "StatefulSet" {
        obj["spec"]["serviceName"] = json!("test");
    }
    obj.to_string()
}

fn scale_body(replicas: i64) -> String {
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": "test", "namespace": "default"},
        "spec": {"replicas": replicas}})
    .to_string()
}

/// A PATCH of `path` that must answer `code`; answers `parent` read back.
async fn write_and_read(
    c: &kube::Client,
    path: &str,
    query: &str,
    content_type: &str,
    body: &str,
    code: u16,
    parent: &str,
) -> Value {
    let (s, _, v) = patch_raw(c, path, query, content_type, body).await;
    assert_eq!(s, code, "PATCH {path}?{query}: {v}");
    get_json(c, parent, 200).await
}

/// Upstream's scale test (`TestScaleAllResources`) for every kind with `*/scale`: the
/// replicas owner moves between the resource's applier and the scale's writers, and the
/// two sides conflict as upstream's do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_managers_live_on_the_parent_and_conflict_with_appliers() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let replicas_5 = r#"{"spec":{"replicas":5}}"#;
    for (kind, plural) in [
        ("Deployment", "deployments"),
        ("ReplicaSet", "replicasets"),
        ("StatefulSet", "statefulsets"),
    ] {
        let path = format!("/apis/apps/v1/namespaces/default/{plural}/test");
        let scale = format!("{path}/scale");
        let body = workload(kind);
        let on_parent = |query: &'static str, body: String, code: u16| {
            let (c, path) = (c.clone(), path.clone());
            async move { write_and_read(&c, &path, query, APPLY, &body, code, &path).await }
        };
        let on_scale = |query: &'static str, ct: &'static str, body: String, code: u16| {
            let (c, path, scale) = (c.clone(), path.clone(), scale.clone());
            async move { write_and_read(&c, &scale, query, ct, &body, code, &path).await }
        };

        let obj = on_parent("fieldManager=apply_test", body.clone(), 201).await;
        assert_eq!(obj["spec"]["replicas"], 1);
        assert_eq!(owner_names(&obj), ["apply_test"], "{kind}");

        // A merge patch of the scale takes replicas over, as an Update through `scale`
        // recorded at the parent's version (and, as upstream's, without a time). The
        // answer is the Scale, without managed fields.
        let (s, _, v) = patch_raw(&c, &scale, "fieldManager=scale_test", MERGE, replicas_5).await;
        assert_eq!(s, 200, "{kind}: {v}");
        assert_eq!(v["kind"], "Scale");
        assert_eq!(v["spec"]["replicas"], 5);
        assert!(v["metadata"].get("managedFields").is_none(), "{v}");
        let obj = get_json(&c, &path, 200).await;
        assert_eq!(obj["spec"]["replicas"], 5);
        let owners = replicas_owners(&obj);
        assert_eq!(owners.len(), 1, "{kind}: {owners:?}");
        assert_eq!(
            owners[0],
            json!({"manager": "scale_test", "operation": "Update", "apiVersion": "apps/v1",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}},
                "subresource": "scale"}),
            "{kind}"
        );
        // The applier keeps what else it applied.
        let applier = entry_of(&obj, "apply_test");
        assert!(applier["fieldsV1"]["f:spec"].get("f:selector").is_some());

        // Re-applying the old replicas conflicts with the scaler.
        let (s, _, v) = patch_raw(&c, &path, "fieldManager=apply_test", APPLY, &body).await;
        assert_eq!(s, 409, "{kind}: {v}");
        assert_eq!(
            v["message"],
            "Apply failed with 1 conflict: conflict with \"scale_test\" with subresource \"scale\" using apps/v1: .spec.replicas"
        );
        assert_eq!(
            v["details"]["causes"],
            json!([{"reason": "FieldManagerConflict",
                "message": "conflict with \"scale_test\" with subresource \"scale\" using apps/v1",
                "field": ".spec.replicas"}])
        );
        let obj = on_parent("fieldManager=apply_test&force=true", body.clone(), 200).await;
        assert_eq!(obj["spec"]["replicas"], 1);
        assert_eq!(owner_names(&obj), ["apply_test"], "{kind}");

        // Applying a Scale conflicts with the resource's applier, then forces.
        let (s, _, v) = patch_raw(
            &c,
            &scale,
            "fieldManager=apply_scale",
            APPLY,
            &scale_body(17),
        )
        .await;
        assert_eq!(s, 409, "{kind}: {v}");
        assert_eq!(
            v["message"],
            "Apply failed with 1 conflict: conflict with \"apply_test\": .spec.replicas"
        );
        let forced = "fieldManager=apply_scale&force=true";
        let obj = on_scale(forced, APPLY, scale_body(17), 200).await;
        assert_eq!(obj["spec"]["replicas"], 17);
        let owners = replicas_owners(&obj);
        assert_eq!(owners.len(), 1, "{kind}: {owners:?}");
        assert_eq!(owners[0]["manager"], "apply_scale");
        assert_eq!(owners[0]["operation"], "Apply");
        assert_eq!(owners[0]["apiVersion"], "apps/v1");
        assert_eq!(owners[0]["subresource"], "scale");

        // A PUT of the scale replaces the owner.
        let (s, _, v) = raw(
            &c,
            "PUT",
            &format!("{scale}?fieldManager=replace_test"),
            &[("content-type", "application/json")],
            scale_body(7).into_bytes(),
        )
        .await
        .expect("request");
        assert_eq!(s, 200, "{kind}: {v}");
        let obj = get_json(&c, &path, 200).await;
        assert_eq!(obj["spec"]["replicas"], 7);
        assert_eq!(owner_names(&obj), ["replace_test"], "{kind}");

        // Applying the same number through the scale shares the field.
        let obj = on_scale("fieldManager=co_owning_test", APPLY, scale_body(7), 200).await;
        let shared = owner_names(&obj);
        assert_eq!(shared, ["co_owning_test", "replace_test"], "{kind}");

        // Scaling again leaves one owner.
        let obj = on_scale("fieldManager=scale_test", MERGE, replicas_5.into(), 200).await;
        assert_eq!(obj["spec"]["replicas"], 5);
        assert_eq!(owner_names(&obj), ["scale_test"], "{kind}");

        // A scale write that does not touch spec.replicas changes no owner and writes
        // nothing (upstream's TestScaleUpdateOnlyStatus).
        let before = get_json(&c, &path, 200).await;
        let status_only = r#"{"status":{"replicas":42}}"#.to_string();
        let obj = on_scale("fieldManager=status_only", MERGE, status_only, 200).await;
        assert_eq!(owner_names(&obj), ["scale_test"], "{kind}");
        assert_eq!(
            obj["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"],
            "{kind}"
        );
    }

    // An apply of a Scale to a missing object is a 404 (scale never creates).
    let (s, _, v) = patch_raw(
        &c,
        "/apis/apps/v1/namespaces/default/deployments/none/scale",
        "fieldManager=m",
        APPLY,
        &scale_body(1).replace("\"test\"", "\"none\""),
    )
    .await;
    assert_eq!(s, 404, "{v}");
    // A configuration of another kind is refused.
    let (s, _, v) = patch_raw(
        &c,
        "/apis/apps/v1/namespaces/default/deployments/test/scale",
        "fieldManager=m",
        APPLY,
        &workload("Deployment"),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v["message"],
        "invalid object type: apps/v1, Kind=Deployment"
    );
}

/// kubectl and kube-rs clients of `*/scale`: `kubectl scale` records an `Update` entry
/// through `scale`, and a kube-rs controller applying `spec.replicas` then conflicts with
/// it until it forces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_scale_and_typed_clients_track_scale_managers() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    ok(server.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=2",
    ]));
    ok(server.kubectl(&["scale", "deployment/web", "--replicas=4"]));
    let path = "/apis/apps/v1/namespaces/default/deployments/web";
    let obj = get_json(&c, path, 200).await;
    assert_eq!(obj["spec"]["replicas"], 4);
    let owners = replicas_owners(&obj);
    assert_eq!(owners.len(), 1, "{owners:?}");
    assert_eq!(owners[0]["manager"], "kubectl");
    assert_eq!(owners[0]["operation"], "Update");
    assert_eq!(owners[0]["subresource"], "scale");
    assert_eq!(owners[0]["apiVersion"], "apps/v1");
    // kubectl create still owns the rest of the spec.
    let creator = entry_of(&obj, "kubectl-create");
    assert!(creator["fieldsV1"]["f:spec"].get("f:replicas").is_none());
    assert!(creator["fieldsV1"]["f:spec"].get("f:template").is_some());

    // kubectl shows the scale manager.
    let yaml = ok(server.kubectl(&[
        "get",
        "deployment",
        "web",
        "-o",
        "yaml",
        "--show-managed-fields",
    ]));
    assert!(yaml.contains("subresource: scale"), "{yaml}");

    // A typed controller applying replicas conflicts with kubectl scale.
    let deployments: Api<Deployment> = Api::namespaced(c.clone(), "default");
    let config = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"}, "spec": {"replicas": 6}});
    let err = deployments
        .patch("web", &PatchParams::apply("ctrl"), &Patch::Apply(&config))
        .await
        .expect_err("conflict");
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert_eq!(
                s.message,
                "Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let d = deployments
        .patch(
            "web",
            &PatchParams::apply("ctrl").force(),
            &Patch::Apply(&config),
        )
        .await
        .expect("forced apply");
    assert_eq!(d.spec.and_then(|s| s.replicas), Some(6));

    // The typed scale client: replace_scale is a PUT recorded through `scale`.
    let current: Scale = deployments.get_scale("web").await.expect("scale");
    let mut scale = current.clone();
    scale.spec = Some(k8s_openapi::api::autoscaling::v1::ScaleSpec { replicas: Some(3) });
    let pp = PostParams {
        field_manager: Some("typed-scaler".into()),
        ..Default::default()
    };
    let replaced = deployments
        .replace_scale("web", &pp, &scale)
        .await
        .expect("replace scale");
    assert_eq!(replaced.spec.and_then(|s| s.replicas), Some(3));
    let obj = get_json(&c, path, 200).await;
    assert_eq!(owner_names(&obj), ["typed-scaler"]);
    // A stale resourceVersion in the Scale is a conflict.
    let stale = deployments
        .replace_scale("web", &pp, &current)
        .await
        .expect_err("stale");
    assert!(
        matches!(stale, kube::Error::Api(ref s) if s.code == 409),
        "{stale:?}"
    );
}

/// `fieldValidation` on applied configurations, as upstream's apply handler: repeated keys
/// are warnings by default and under `Warn`, a 400 under `Strict` (checked once the apply
/// itself succeeded), nothing under `Ignore`; a field the kind does not declare fails the
/// typed conversion whatever the directive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_validation_of_applied_configurations() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let body = |name: &str| {
        format!(
            "{{\n\t\"apiVersion\": \"apps/v1\",\n\t\"kind\": \"Deployment\",\n\t\"metadata\": {{\n\t\t\"name\": \"{name}\",\n\t\t\"labels\": {{\"app\": \"nginx\"}}\n\t}},\n\t\"spec\": {{\n\t\t\"paused\": false,\n\t\t\"paused\": true,\n\t\t\"selector\": {{\"matchLabels\": {{\"app\": \"nginx\"}}}},\n\t\t\"template\": {{\n\t\t\t\"metadata\": {{\"labels\": {{\"app\": \"nginx\"}}}},\n\t\t\t\"spec\": {{\n\t\t\t\t\"containers\": [{{\n\t\t\t\t\t\"name\": \"nginx\",\n\t\t\t\t\t\"image\": \"nginx:latest\",\n\t\t\t\t\t\"imagePullPolicy\": \"Never\",\n\t\t\t\t\t\"imagePullPolicy\": \"Always\"\n\t\t\t\t}}]\n\t\t\t}}\n\t\t}}\n\t}}\n}}"
        )
    };
    let warned = [
        "299 - \"line 10: key \\\"paused\\\" already set in map\"".to_string(),
        "299 - \"line 19: key \\\"imagePullPolicy\\\" already set in map\"".to_string(),
    ];
    for validation in ["Strict", "Warn", "Ignore", ""] {
        let name = match validation {
            "" => "fv-default".to_string(),
            v => format!("fv-{}", v.to_lowercase()),
        };
        let path = format!("/apis/apps/v1/namespaces/default/deployments/{name}");
        let query = format!("fieldManager=mgr&fieldValidation={validation}");
        // Create by apply, then apply again to the existing object.
        for existing in [false, true] {
            if existing && validation == "Strict" {
                let clean = body(&name)
                    .replace("\t\t\"paused\": false,\n", "")
                    .replace("\t\t\t\t\t\"imagePullPolicy\": \"Never\",\n", "");
                let (s, w, v) = patch_raw(&c, &path, "fieldManager=mgr", APPLY, &clean).await;
                assert_eq!(s, 201, "{v}");
                assert!(w.is_empty(), "{w:?}");
            }
            let (s, w, v) = patch_raw(&c, &path, &query, APPLY, &body(&name)).await;
            if validation == "Strict" {
                assert_eq!(s, 400, "{v}");
                assert_eq!(
                    v["message"],
                    "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 10: key \"paused\" already set in map\n  line 19: key \"imagePullPolicy\" already set in map"
                );
                assert!(w.is_empty(), "{w:?}");
                if !existing {
                    // Nothing was created.
                    get_json(&c, &path, 404).await;
                }
                continue;
            }
            assert_eq!(s, if existing { 200 } else { 201 }, "{validation}: {v}");
            if validation == "Ignore" {
                assert!(w.is_empty(), "{validation}: {w:?}");
            } else {
                assert_eq!(w, warned, "{validation}");
            }
            // The last value of a repeated key wins.
            assert_eq!(v["spec"]["paused"], true);
            assert_eq!(
                v["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
                "Always"
            );
        }
    }

    // A conflict is reported before the strict check, as upstream orders them.
    let path = "/apis/apps/v1/namespaces/default/deployments/fv-warn";
    let (s, _, v) = patch_raw(
        &c,
        path,
        "fieldManager=other&fieldValidation=Strict",
        APPLY,
        &body("fv-warn").replace("\"paused\": true", "\"paused\": false"),
    )
    .await;
    assert_eq!(s, 409, "{v}");

    // An undeclared field fails the typed conversion under every directive.
    for validation in ["Strict", "Warn", "Ignore"] {
        let (s, _, v) = patch_raw(
            &c,
            path,
            &format!("fieldManager=mgr&fieldValidation={validation}"),
            APPLY,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: fv-warn\nspec:\n  foo: 1\n",
        )
        .await;
        assert_eq!(s, 500, "{v}");
        assert_eq!(
            v["message"],
            "failed to create typed patch object (default/fv-warn; apps/v1, Kind=Deployment): .spec.foo: field not declared in schema"
        );
    }

    // Repeated keys in a Scale applied to `*/scale` are checked the same way.
    let scale = format!("{path}/scale");
    let scale_yaml = "kind: Scale\napiVersion: autoscaling/v1\nmetadata:\n  name: fv-warn\n  namespace: default\nspec:\n  replicas: 2\n  replicas: 3\n";
    // Nobody owns the defaulted replicas of fv-warn: the first apply through the scale
    // meets them as `before-first-apply`'s (upstream's skip-non-applied manager).
    let (s, _, v) = patch_raw(&c, &scale, "fieldManager=s", APPLY, scale_yaml).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(
        v["message"],
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" with subresource \"scale\" using autoscaling/v1: .spec.replicas"
    );
    let (s, _, v) = patch_raw(
        &c,
        &scale,
        "fieldManager=s&force=true&fieldValidation=Strict",
        APPLY,
        scale_yaml,
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v["message"],
        "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 8: key \"replicas\" already set in map"
    );
    let (s, w, v) = patch_raw(&c, &scale, "fieldManager=s&force=true", APPLY, scale_yaml).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["spec"]["replicas"], 3);
    assert_eq!(
        w,
        ["299 - \"line 8: key \\\"replicas\\\" already set in map\"".to_string()]
    );

    // A YAML create body's repeated keys are judged the same way, before its unknown
    // fields (upstream's YAML decoder reports them first, as one error).
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yaml-dups\ndata:\n  a: \"1\"\n  a: \"2\"\nfoo: bar\n";
    let post = |query: &'static str| {
        let c = c.clone();
        async move {
            let (s, headers, text) = raw(
                &c,
                "POST",
                &format!("/api/v1/namespaces/default/configmaps?{query}"),
                &[("content-type", "application/yaml")],
                cm.as_bytes().to_vec(),
            )
            .await
            .expect("request");
            let warnings: Vec<String> = headers
                .get_all("warning")
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_string))
                .collect();
            (
                s,
                warnings,
                serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
            )
        }
    };
    let (s, w, v) = post("fieldValidation=Strict").await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: yaml: unmarshal errors:\n  line 7: key \"a\" already set in map, unknown field \"foo\""
    );
    assert!(w.is_empty(), "{w:?}");
    let (s, w, v) = post("").await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["data"]["a"], "2");
    assert_eq!(
        w,
        [
            "299 - \"line 7: key \\\"a\\\" already set in map\"".to_string(),
            "299 - \"unknown field \\\"foo\\\"\"".to_string(),
        ]
    );

    // kubectl's strict validation of an applied manifest.
    let manifest =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict\ndata:\n  a: \"1\"\nfoo: bar\n";
    let out = server.kubectl_stdin(
        &["apply", "--server-side", "--validate=strict", "-f", "-"],
        manifest,
    );
    assert!(!out.status.success(), "strict apply of an unknown field");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("field not declared in schema"), "{err}");
    let clean = manifest.replace("foo: bar\n", "");
    let out = ok(server.kubectl_stdin(
        &["apply", "--server-side", "--validate=strict", "-f", "-"],
        &clean,
    ));
    assert!(out.contains("configmap/strict serverside-applied"), "{out}");
}

/// Managers are recorded before mutating admission, as upstream's handlers record them:
/// what admission plugins add (the ServiceAccount token volume and its mounts,
/// DefaultTolerationSeconds' tolerations, the service account name) belongs to no manager,
/// while the defaults the request's object gets stay its writer's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_admission_adds_belong_to_no_manager() {
    use k8s_openapi::api::core::v1::Pod;
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "p"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}
    }))
    .expect("pod");
    let pp = PostParams {
        field_manager: Some("creator".into()),
        ..Default::default()
    };
    let created = pods.create(&pp, &pod).await.expect("create");
    let created = serde_json::to_value(&created).expect("json");
    // Admission did mutate the pod.
    let volumes = created["spec"]["volumes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        volumes.iter().any(|v| v["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("kube-api-access-"))),
        "{created}"
    );
    assert!(created["spec"]["tolerations"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(created["spec"]["serviceAccountName"], "default");

    let creator = |obj: &Value| entry_of(obj, "creator");
    let entry = creator(&created);
    assert_eq!(entry["operation"], "Update");
    let spec = &entry["fieldsV1"]["f:spec"];
    for unowned in ["f:volumes", "f:tolerations", "f:serviceAccountName"] {
        assert!(spec.get(unowned).is_none(), "{unowned} owned: {entry}");
    }
    let container = &spec["f:containers"]["k:{\"name\":\"c\"}"];
    assert!(container.get("f:image").is_some(), "{entry}");
    assert!(container.get("f:volumeMounts").is_none(), "{entry}");
    // Defaults of the request's object are its writer's, as upstream's decoding defaults
    // them before the field manager runs.
    for defaulted in [
        "f:restartPolicy",
        "f:dnsPolicy",
        "f:terminationGracePeriodSeconds",
    ] {
        assert!(
            spec.get(defaulted).is_some(),
            "{defaulted} not owned: {entry}"
        );
    }
    assert!(
        container.get("f:terminationMessagePath").is_some(),
        "{entry}"
    );

    // An update by another manager that admission also mutates: its entry holds what it
    // changed, not what admission put back.
    let (s, _, v) = patch_raw(
        &c,
        "/api/v1/namespaces/default/pods/p",
        "fieldManager=labeller",
        MERGE,
        r#"{"metadata":{"labels":{"tier":"web"}}}"#,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let labeller = entry_of(&v, "labeller");
    assert_eq!(
        labeller["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:tier": {}}}})
    );
    assert_eq!(creator(&v)["fieldsV1"], entry["fieldsV1"]);

    // kubectl run: the same split.
    ok(server.kubectl(&["run", "r", "--image=nginx"]));
    let run = get_json(&c, "/api/v1/namespaces/default/pods/r", 200).await;
    let entry = entry_of(&run, "kubectl-run");
    assert!(
        entry["fieldsV1"]["f:spec"].get("f:volumes").is_none(),
        "{entry}"
    );
    assert!(
        entry["fieldsV1"]["f:spec"].get("f:containers").is_some(),
        "{entry}"
    );
}

/// Managed fields across served versions: an HPA applied at autoscaling/v2 and at
/// autoscaling/v1 compares each manager's fields at the version it wrote them, so the v1
/// `targetCPUUtilizationPercentage` and the v2 `metrics` that hold the same setting conflict,
/// and ownership moves between the two names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managers_at_two_hpa_versions_meet_on_the_same_setting() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let v2 = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: default\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n  minReplicas: 1\n  maxReplicas: 5\n  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      target:\n        type: Utilization\n        averageUtilization: 50\n";
    let v1 = "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: default\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n  maxReplicas: 5\n  targetCPUUtilizationPercentage: 70\n";
    let out = ok(server.kubectl_stdin(&["apply", "--server-side", "-f", "-"], v2));
    assert!(out.contains("serverside-applied"), "{out}");

    // At v1 the setting is another field: its owner at v2 is still met.
    let v1_path = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web";
    let (s, _, v) = patch_raw(&c, v1_path, "fieldManager=v1mgr", APPLY, v1).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(
        v["message"],
        "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.metrics"
    );
    let out = server.kubectl_stdin(
        &["apply", "--server-side", "--field-manager=v1mgr", "-f", "-"],
        v1,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(".spec.metrics"), "{err}");
    let out = ok(server.kubectl_stdin(
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=v1mgr",
            "-f",
            "-",
        ],
        v1,
    ));
    assert!(out.contains("serverside-applied"), "{out}");

    let v2_path = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web";
    let obj = get_json(&c, v2_path, 200).await;
    assert_eq!(
        obj["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        70
    );
    let of = |m: &str| entry_of(&obj, m);
    // kubectl keeps what else it applied, in v2's terms; v1mgr owns the setting in v1's.
    let kubectl = of("kubectl");
    assert_eq!(kubectl["apiVersion"], "autoscaling/v2");
    assert!(
        kubectl["fieldsV1"]["f:spec"].get("f:metrics").is_none(),
        "{kubectl}"
    );
    assert!(
        kubectl["fieldsV1"]["f:spec"].get("f:minReplicas").is_some(),
        "{kubectl}"
    );
    let v1mgr = of("v1mgr");
    assert_eq!(v1mgr["apiVersion"], "autoscaling/v1");
    assert!(
        v1mgr["fieldsV1"]["f:spec"]
            .get("f:targetCPUUtilizationPercentage")
            .is_some(),
        "{v1mgr}"
    );
    // Both own maxReplicas, applied with the same value.
    assert!(kubectl["fieldsV1"]["f:spec"].get("f:maxReplicas").is_some());
    assert!(v1mgr["fieldsV1"]["f:spec"].get("f:maxReplicas").is_some());

    // Back at v2, the setting's owner at v1 is met under v1's name.
    let (s, _, v) = patch_raw(&c, v2_path, "fieldManager=kubectl", APPLY, v2).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(
        v["message"],
        "Apply failed with 1 conflict: conflict with \"v1mgr\": .spec.targetCPUUtilizationPercentage"
    );
    // An update at v2 of another field leaves v1mgr its setting.
    let (s, _, v) = patch_raw(
        &c,
        v2_path,
        "fieldManager=editor",
        MERGE,
        r#"{"spec":{"minReplicas":2}}"#,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let v1mgr = entry_of(&v, "v1mgr");
    assert!(v1mgr["fieldsV1"]["f:spec"]
        .get("f:targetCPUUtilizationPercentage")
        .is_some());
    // An update at v2 of the setting itself takes it from v1mgr.
    let (s, _, v) = patch_raw(
        &c,
        v2_path,
        "fieldManager=editor",
        "application/json-patch+json",
        r#"[{"op":"replace","path":"/spec/metrics/0/resource/target/averageUtilization","value":60}]"#,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let v1mgr = entry_of(&v, "v1mgr");
    assert!(
        v1mgr["fieldsV1"]["f:spec"]
            .get("f:targetCPUUtilizationPercentage")
            .is_none(),
        "{v1mgr}"
    );

    // Writes at v1 are recorded at v1, in v1's terms (upstream's field manager runs at the
    // request's version), and take the setting from its owner at v2.
    let (s, _, v) = patch_raw(
        &c,
        v1_path,
        "fieldManager=v1editor",
        MERGE,
        r#"{"spec":{"targetCPUUtilizationPercentage":65}}"#,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let obj = get_json(&c, v2_path, 200).await;
    let v1editor = entry_of(&obj, "v1editor");
    assert_eq!(v1editor["operation"], "Update");
    assert_eq!(v1editor["apiVersion"], "autoscaling/v1");
    assert_eq!(
        v1editor["fieldsV1"],
        json!({"f:spec": {"f:targetCPUUtilizationPercentage": {}}})
    );
    let editor = entry_of(&obj, "editor");
    assert_eq!(editor["apiVersion"], "autoscaling/v2");
    assert_eq!(editor["fieldsV1"], json!({"f:spec": {"f:minReplicas": {}}}));

    // A create at v1 too.
    let (s, _, v) = raw(
        &c,
        "POST",
        "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers?fieldManager=v1creator",
        &[("content-type", "application/json")],
        serde_json::to_vec(
            &json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "other"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "x"}, "maxReplicas": 3,
                "targetCPUUtilizationPercentage": 40}}),
        )
        .expect("json"),
    )
    .await
    .expect("request");
    assert_eq!(s, 201, "{v}");
    let v: Value = serde_json::from_str(&v).expect("json");
    let entry = &v["metadata"]["managedFields"][0];
    assert_eq!(entry["manager"], "v1creator");
    assert_eq!(entry["operation"], "Update");
    assert_eq!(entry["apiVersion"], "autoscaling/v1");
    assert!(
        entry["fieldsV1"]["f:spec"]
            .get("f:targetCPUUtilizationPercentage")
            .is_some(),
        "{entry}"
    );

    // An apply at v1 that creates: the applier's entry at v1, read back at v2.
    let (s, _, v) = patch_raw(
        &c,
        "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/applied",
        "fieldManager=v1applier",
        APPLY,
        &v1.replace("name: web\n  namespace", "name: applied\n  namespace"),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let obj = get_json(
        &c,
        "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/applied",
        200,
    )
    .await;
    assert_eq!(
        obj["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        70
    );
    let entry = &obj["metadata"]["managedFields"][0];
    assert_eq!(entry["manager"], "v1applier");
    assert_eq!(entry["operation"], "Apply");
    assert_eq!(entry["apiVersion"], "autoscaling/v1");
    assert_eq!(
        entry["fieldsV1"],
        // scaleTargetRef is an atomic struct: one leaf.
        json!({"f:spec": {"f:maxReplicas": {}, "f:scaleTargetRef": {},
            "f:targetCPUUtilizationPercentage": {}}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applier_moving_to_another_hpa_version_drops_what_it_left_out() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let v2 = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: default\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n  minReplicas: 2\n  maxReplicas: 5\n  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      target:\n        type: Utilization\n        averageUtilization: 50\n";
    let v1 = "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: default\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n  maxReplicas: 5\n  targetCPUUtilizationPercentage: 50\n";
    let v2_path = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web";
    let v1_path = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web";
    let (s, _, v) = patch_raw(&c, v2_path, "fieldManager=mgr", APPLY, v2).await;
    assert_eq!(s, 201, "{v}");
    // The same manager, now at v1, leaves minReplicas out: it is pruned (and defaulted).
    let (s, _, v) = patch_raw(&c, v1_path, "fieldManager=mgr", APPLY, v1).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["spec"]["minReplicas"], 1, "{v}");
    assert_eq!(v["spec"]["targetCPUUtilizationPercentage"], 50, "{v}");
    let obj = get_json(&c, v2_path, 200).await;
    let mgr = entry_of(&obj, "mgr");
    assert_eq!(mgr["apiVersion"], "autoscaling/v1", "{mgr}");
    assert!(
        mgr["fieldsV1"]["f:spec"].get("f:minReplicas").is_none(),
        "{mgr}"
    );
}

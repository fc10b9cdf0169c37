//! Strategic merge patch against the real binary: `kubectl patch --type=strategic` merging
//! finalizers as a set and ownerReferences by uid, `kubectl apply` (client-side, whose
//! patches carry `$setElementOrder` and `$deleteFromPrimitiveList`) run on a changing
//! manifest, and upstream's statuses for malformed directives.

mod common;

use common::{ok, raw, Server};
use serde_json::{json, Value};

const CM: &str = "/api/v1/namespaces/default/configmaps";
const SMP: &str = "application/strategic-merge-patch+json";

/// The object as `kubectl get -o json` shows it.
fn get_cm(server: &Server, name: &str) -> Value {
    let out = ok(server.kubectl(&["get", "configmap", name, "-o", "json"]));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn strategic(server: &Server, name: &str, patch: &str) -> String {
    ok(server.kubectl(&["patch", "configmap", name, "--type=strategic", "-p", patch]))
}

/// Keys starting with `$` anywhere in `v`, with their paths.
fn directive_keys(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{path}.{k}");
                if k.starts_with('$') {
                    out.push(p.clone());
                }
                directive_keys(child, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                directive_keys(item, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn assert_no_directives(v: &Value) {
    let mut found = Vec::new();
    directive_keys(v, "", &mut found);
    assert!(found.is_empty(), "directive keys stored: {found:?} in {v}");
}

fn owner(name: &str, uid: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "name": name, "uid": uid})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_patch_merges_finalizers_and_owner_references() {
    let server = Server::start(&[]).await;
    ok(server.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owned\n  finalizers:\n  - example.com/a\n  \
         ownerReferences:\n  - apiVersion: v1\n    kind: ConfigMap\n    name: parent-1\n    uid: uid-1\n\
         data:\n  k: v\n",
    ));

    // Finalizers merge as a set; what the patch adds comes first, as upstream orders it.
    strategic(
        &server,
        "owned",
        r#"{"metadata":{"finalizers":["example.com/b"]}}"#,
    );
    let cm = get_cm(&server, "owned");
    assert_eq!(
        cm["metadata"]["finalizers"],
        json!(["example.com/b", "example.com/a"])
    );
    // A finalizer already there is not repeated.
    strategic(
        &server,
        "owned",
        r#"{"metadata":{"finalizers":["example.com/a"]}}"#,
    );
    let cm = get_cm(&server, "owned");
    assert_eq!(
        cm["metadata"]["finalizers"],
        json!(["example.com/b", "example.com/a"])
    );

    // Owner references merge by uid: a new one is added, an existing one updated in place.
    strategic(
        &server,
        "owned",
        &json!({"metadata": {"ownerReferences": [
            owner("parent-2", "uid-2"),
            {"uid": "uid-1", "controller": true},
        ]}})
        .to_string(),
    );
    let cm = get_cm(&server, "owned");
    let mut first = owner("parent-1", "uid-1");
    first["controller"] = json!(true);
    assert_eq!(
        cm["metadata"]["ownerReferences"],
        json!([owner("parent-2", "uid-2"), first])
    );
    assert_eq!(cm["data"], json!({"k": "v"}));

    // `$patch: delete` removes an element by uid; `$deleteFromPrimitiveList` a finalizer.
    strategic(
        &server,
        "owned",
        r#"{"metadata":{"ownerReferences":[{"$patch":"delete","uid":"uid-2"}],"$deleteFromPrimitiveList/finalizers":["example.com/b"]}}"#,
    );
    let cm = get_cm(&server, "owned");
    assert_eq!(cm["metadata"]["ownerReferences"], json!([first]));
    assert_eq!(cm["metadata"]["finalizers"], json!(["example.com/a"]));
    assert_no_directives(&cm);

    // Merge patch still replaces lists whole, for comparison.
    ok(server.kubectl(&[
        "patch",
        "configmap",
        "owned",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":["example.com/z"]}}"#,
    ]));
    let cm = get_cm(&server, "owned");
    assert_eq!(cm["metadata"]["finalizers"], json!(["example.com/z"]));

    // Let the object go.
    strategic(&server, "owned", r#"{"metadata":{"finalizers":null}}"#);
    ok(server.kubectl(&["delete", "configmap", "owned"]));
}

fn manifest(labels: &str, finalizers: &[&str], value: &str) -> String {
    let mut m = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: default\n  \
         labels:\n{labels}  finalizers:\n"
    );
    for f in finalizers {
        m.push_str(&format!("  - {f}\n"));
    }
    m.push_str(&format!("data:\n  k: {value}\n"));
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_twice_with_changed_labels_and_finalizers() {
    let server = Server::start(&[]).await;

    let v1 = manifest(
        "    app: web\n    tier: front\n",
        &["example.com/a", "example.com/b"],
        "one",
    );
    ok(server.kubectl_stdin(&["apply", "-f", "-"], &v1));
    let cm = get_cm(&server, "applied");
    assert_eq!(
        cm["metadata"]["finalizers"],
        json!(["example.com/a", "example.com/b"])
    );

    // tier and finalizer a go, env and finalizer c come: the patch kubectl computes from
    // the last applied configuration deletes through the directives.
    let v2 = manifest(
        "    app: web\n    env: prod\n",
        &["example.com/b", "example.com/c"],
        "two",
    );
    let out = server.kubectl_stdin(&["apply", "-f", "-", "-v=8"], &v2);
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    ok(out);
    assert!(
        log.contains("$deleteFromPrimitiveList/finalizers")
            && log.contains("$setElementOrder/finalizers"),
        "kubectl did not send the directives:\n{log}"
    );
    let cm = get_cm(&server, "applied");
    assert_eq!(
        cm["metadata"]["labels"],
        json!({"app": "web", "env": "prod"})
    );
    assert_eq!(
        cm["metadata"]["finalizers"],
        json!(["example.com/b", "example.com/c"])
    );
    assert_eq!(cm["data"], json!({"k": "two"}));
    assert_no_directives(&cm);

    // Only the order changes: `$setElementOrder` alone reorders.
    let v3 = manifest(
        "    app: web\n    env: prod\n",
        &["example.com/c", "example.com/b"],
        "two",
    );
    ok(server.kubectl_stdin(&["apply", "-f", "-"], &v3));
    let cm = get_cm(&server, "applied");
    assert_eq!(
        cm["metadata"]["finalizers"],
        json!(["example.com/c", "example.com/b"])
    );
    assert_no_directives(&cm);

    // A finalizer added by someone else survives the next apply (three-way merge).
    strategic(
        &server,
        "applied",
        r#"{"metadata":{"finalizers":["other.io/x"]}}"#,
    );
    let v4 = manifest("    app: web\n", &["example.com/c"], "three");
    ok(server.kubectl_stdin(&["apply", "-f", "-"], &v4));
    let cm = get_cm(&server, "applied");
    assert_eq!(cm["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(
        cm["metadata"]["finalizers"],
        json!(["other.io/x", "example.com/c"])
    );
    assert_no_directives(&cm);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_directives_get_upstreams_statuses() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    ok(server.kubectl(&["create", "configmap", "target", "--from-literal=k=v"]));
    let path = format!("{CM}/target");
    let send = |body: &'static str| {
        let client = client.clone();
        let path = path.clone();
        async move {
            let (status, _, text) = raw(
                &client,
                "PATCH",
                &path,
                &[("content-type", SMP)],
                body.as_bytes().to_vec(),
            )
            .await
            .expect("request");
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            (status, v)
        }
    };

    // Malformed directive lists: 400 BadRequest.
    let (status, v) = send(r#"{"metadata":{"$setElementOrder":["a"]}}"#).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["reason"], "BadRequest");
    assert_eq!(v["message"], "invalid patch format of setElementOrder list");
    let (status, v) = send(r#"{"data":{"$retainKeys":"k","k":"v"}}"#).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["message"], "invalid patch format of retainKeys");
    let (status, v) = send("[1]").await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        v["message"],
        "json: cannot unmarshal array into Go value of type map[string]interface {}"
    );

    // An unknown `$patch` value: upstream's plain error, a 500 without a reason.
    let (status, v) = send(r#"{"data":{"$patch":"merge","k":"w"}}"#).await;
    assert_eq!(status, 500, "{v}");
    assert_eq!(
        v["message"],
        "unknown patch type: merge in map: map[$patch:merge k:w]"
    );
    assert!(v.get("reason").is_none(), "{v}");
    let (status, v) = send(
        r#"{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"p","uid":"u"}]}}"#,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) =
        send(r#"{"metadata":{"ownerReferences":[{"$patch":"merge","uid":"u"}]}}"#).await;
    assert_eq!(status, 500, "{v}");
    assert_eq!(
        v["message"],
        "merging lists cannot yet be specified in the patch"
    );

    // Nothing of the above was stored.
    let (status, v) = send("{}").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"], json!({"k": "v"}));
    assert_eq!(v["metadata"]["ownerReferences"], json!([owner("p", "u")]));
    assert_no_directives(&v);
}

#[test]
fn kinds_without_a_declared_type_refuse_strategic_merge_patch() {
    use apiserver::endpoints::resource::PatchKind;
    let err = PatchKind::Strategic
        .apply(&json!({"metadata": {"name": "x"}}), &json!({}), None)
        .unwrap_err();
    assert_eq!(err.code, 415);
    assert_eq!(err.reason, "UnsupportedMediaType");
    assert_eq!(
        err.message,
        "the body of the request was in an unknown format - accepted media types include: \
         application/json-patch+json, application/merge-patch+json"
    );
}

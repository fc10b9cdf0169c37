//! kubectl against the real binary: namespaces at start-up, table output, create, label,
//! patch, get -o json/yaml, delete, and the version it reports.

mod common;

use common::{ok, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_end_to_end() {
    let server = Server::start(&[]).await;

    // The four system namespaces exist right away, shown as kubectl's table.
    let out = ok(server.kubectl(&["get", "namespaces"]));
    let header = out.lines().next().unwrap_or_default();
    assert!(
        header.contains("NAME") && header.contains("STATUS") && header.contains("AGE"),
        "{out}"
    );
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(ns) && l.contains("Active")),
            "{ns} missing: {out}"
        );
    }

    // Create from literals, then the DATA column counts keys.
    ok(server.kubectl(&[
        "create",
        "configmap",
        "app",
        "--from-literal=a=1",
        "--from-literal=b=2",
    ]));
    let out = ok(server.kubectl(&["get", "configmaps"]));
    assert!(
        out.lines().next().unwrap_or_default().contains("DATA"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("app") && l.split_whitespace().nth(1) == Some("2")),
        "{out}"
    );

    // Label, then select by label.
    ok(server.kubectl(&["label", "configmap", "app", "tier=web"]));
    let out = ok(server.kubectl(&["get", "cm", "-l", "tier=web", "-o", "name"]));
    assert_eq!(out.trim(), "configmap/app");
    let out = ok(server.kubectl(&["get", "cm", "-l", "tier!=web", "-o", "name"]));
    assert!(!out.contains("configmap/app"), "{out}");

    // Patch (strategic merge, kubectl's default) and read back as JSON.
    ok(server.kubectl(&["patch", "configmap", "app", "-p", r#"{"data":{"c":"3"}}"#]));
    let json: serde_json::Value =
        serde_json::from_str(&ok(server.kubectl(&["get", "cm", "app", "-o", "json"]))).unwrap();
    assert_eq!(json["data"]["c"], "3");
    assert_eq!(json["metadata"]["labels"]["tier"], "web");
    assert!(json["metadata"]["uid"]
        .as_str()
        .is_some_and(|u| !u.is_empty()));

    // JSON patch through kubectl.
    ok(server.kubectl(&[
        "patch",
        "configmap",
        "app",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/data/a"}]"#,
    ]));
    let yaml = ok(server.kubectl(&["get", "cm", "app", "-o", "yaml"]));
    assert!(!yaml.contains("a: \"1\""), "{yaml}");
    assert!(yaml.contains("c: \"3\""), "{yaml}");

    // Create from a manifest on stdin, in another namespace, then a cluster-scoped kind.
    ok(server.kubectl(&["create", "namespace", "team-a"]));
    ok(server.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: team-a\nstringData:\n  password: hunter2\n",
    ));
    let out = ok(server.kubectl(&["get", "secrets", "-n", "team-a"]));
    assert!(
        out.lines().next().unwrap_or_default().contains("TYPE"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("creds") && l.contains("Opaque")),
        "{out}"
    );
    let out = ok(server.kubectl(&["get", "priorityclasses"]));
    assert!(
        out.contains("system-node-critical") && out.contains("2000001000"),
        "{out}"
    );

    // All namespaces at once.
    let out = ok(server.kubectl(&["get", "cm", "-A"]));
    assert!(
        out.lines().next().unwrap_or_default().contains("NAMESPACE"),
        "{out}"
    );

    // Errors come back as kubectl prints upstream's Status messages.
    let out = server.kubectl(&["get", "configmap", "nope"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(r#"configmaps "nope" not found"#), "{err}");
    let out = server.kubectl(&["create", "configmap", "app"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains(r#"configmaps "app" already exists"#));

    // Delete.
    let out = ok(server.kubectl(&["delete", "configmap", "app"]));
    assert!(out.contains("deleted"), "{out}");
    let out = ok(server.kubectl(&["get", "cm", "-o", "name"]));
    assert!(!out.contains("configmap/app"), "{out}");

    // Deleting a namespace leaves it Terminating (its finalizer holds it).
    ok(server.kubectl(&["delete", "namespace", "team-a", "--wait=false"]));
    let out = ok(server.kubectl(&["get", "namespace", "team-a"]));
    assert!(out.contains("Terminating"), "{out}");
    let out = server.kubectl(&["create", "configmap", "late", "-n", "team-a"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("because it is being terminated"));

    // kubectl version reports the API level served.
    let out = ok(server.kubectl(&["version", "-o", "json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["serverVersion"]["gitVersion"], "v1.36.0");

    // api-resources comes from discovery.
    let out = ok(server.kubectl(&["api-resources"]));
    for needle in [
        "configmaps",
        "namespaces",
        "secrets",
        "priorityclasses",
        "scheduling.k8s.io/v1",
    ] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_delete_dry_run_and_cascade() {
    let server = Server::start(&[]).await;
    ok(server.kubectl(&["create", "configmap", "keep"]));
    ok(server.kubectl(&["create", "configmap", "orphaned"]));

    // --dry-run=server deletes nothing.
    let out = ok(server.kubectl(&["delete", "configmap", "keep", "--dry-run=server"]));
    assert!(out.contains("deleted (server dry run)"), "{out}");
    ok(server.kubectl(&["get", "configmap", "keep"]));

    // --cascade=orphan leaves the object to the garbage collector's orphan finalizer.
    ok(server.kubectl(&[
        "delete",
        "configmap",
        "orphaned",
        "--cascade=orphan",
        "--wait=false",
    ]));
    let out = ok(server.kubectl(&[
        "get",
        "configmap",
        "orphaned",
        "-o",
        "jsonpath={.metadata.finalizers}|{.metadata.deletionTimestamp}",
    ]));
    let (finalizers, deleted_at) = out.split_once('|').unwrap_or_default();
    assert_eq!(finalizers, r#"["orphan"]"#, "{out}");
    assert!(!deleted_at.is_empty(), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_describe_shows_events() {
    let server = Server::start(&[]).await;
    ok(server.kubectl(&["create", "namespace", "demo"]));
    ok(server.kubectl(&["-n", "demo", "create", "configmap", "c1"]));
    let uid = ok(server.kubectl(&[
        "-n",
        "demo",
        "get",
        "cm",
        "c1",
        "-o",
        "jsonpath={.metadata.uid}",
    ]));
    // An event about c1 as a controller records it (core/v1, legacy fields), and one about
    // another object that describe must not show.
    let events = format!(
        r#"{{"apiVersion": "v1", "kind": "List", "items": [
          {{"apiVersion": "v1", "kind": "Event",
            "metadata": {{"name": "c1.1", "namespace": "demo"}},
            "involvedObject": {{"apiVersion": "v1", "kind": "ConfigMap", "name": "c1",
                                "namespace": "demo", "uid": "{uid}"}},
            "reason": "Checked", "message": "all good", "type": "Normal",
            "source": {{"component": "tester", "host": "node-1"}},
            "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
            "count": 3}},
          {{"apiVersion": "v1", "kind": "Event",
            "metadata": {{"name": "other.1", "namespace": "demo"}},
            "involvedObject": {{"kind": "ConfigMap", "name": "other", "namespace": "demo"}},
            "reason": "Elsewhere", "message": "not about c1", "type": "Warning"}}
        ]}}"#
    );
    ok(server.kubectl_stdin(&["create", "-f", "-"], &events));

    // describe lists events by field selector on involvedObject.
    let out = ok(server.kubectl(&["-n", "demo", "describe", "configmap", "c1"]));
    assert!(out.contains("Events:"), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("Checked"))
        .unwrap_or_else(|| panic!("no event row: {out}"));
    for needle in ["Normal", "(x3 over", "tester", "all good"] {
        assert!(line.contains(needle), "{needle}: {line}");
    }
    assert!(!out.contains("Elsewhere"), "{out}");

    // get events: upstream's columns, the name only with -o wide.
    let out = ok(server.kubectl(&["-n", "demo", "get", "events"]));
    let header: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or_default()
        .split("  ")
        .filter(|c| !c.is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(
        header,
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        "{out}"
    );
    assert!(out.contains("configmap/c1"), "{out}");
    let out = ok(server.kubectl(&["-n", "demo", "get", "ev", "-o", "wide"]));
    let header = out.lines().next().unwrap_or_default();
    for col in ["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"] {
        assert!(header.contains(col), "{col}: {out}");
    }
    assert!(
        out.lines()
            .any(|l| l.contains("c1.1") && l.contains(" 3 ") && l.contains("tester, node-1")),
        "{out}"
    );

    // Field selectors kubectl users type.
    let out = ok(server.kubectl(&[
        "-n",
        "demo",
        "get",
        "events",
        "--field-selector",
        "type=Warning",
        "-o",
        "name",
    ]));
    assert_eq!(out.trim(), "event/other.1");

    // An event whose subject is in another namespace is refused, as upstream refuses it.
    let bad = r#"{"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "bad.1", "namespace": "demo"},
        "involvedObject": {"kind": "ConfigMap", "name": "x", "namespace": "default"}}"#;
    let out = server.kubectl_stdin(&["create", "-f", "-"], bad);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            r#"involvedObject.namespace: Invalid value: "default": does not match event.namespace"#
        ),
        "{err}"
    );
}

/// Built-in secret types are validated as upstream: a TLS secret needs its key pair, and
/// the type cannot change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_types_are_validated() {
    let server = Server::start(&[]).await;
    let tls = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: t\ntype: kubernetes.io/tls\ndata:\n  tls.crt: Yw==\n";
    let out = server.kubectl_stdin(&["create", "-f", "-"], tls);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("data[tls.key]: Required value") && !err.contains("data[tls.crt]"),
        "{err}"
    );
    let full = format!("{tls}  tls.key: aw==\n");
    ok(server.kubectl_stdin(&["create", "-f", "-"], &full));
    let out = server.kubectl(&[
        "patch",
        "secret",
        "t",
        "--type=merge",
        "-p",
        r#"{"type":"Opaque"}"#,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("type: Invalid value") && err.contains("field is immutable"),
        "{err}"
    );
}

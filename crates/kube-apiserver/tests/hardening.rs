//! Hostile clients: requests built to confuse scope, amplify work, starve the runtime or slip
//! past validation and the wire's limits, each answered as upstream answers it.

mod common;

use std::time::{Duration, Instant};

use common::{get_json, raw, send_json, Server};
use serde_json::{json, Value};

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// A cluster-scoped resource has no route under `/namespaces/<ns>/`: every verb there is a
/// 404, and the object named is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_scoped_resources_have_no_namespaced_paths() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "victim"}});
    let (s, v) = send_json(&c, "POST", "/api/v1/namespaces", "application/json", &ns).await;
    assert_eq!(s, 201, "{v}");

    let item = "/api/v1/namespaces/default/namespaces/victim";
    let collection = "/api/v1/namespaces/default/namespaces";
    let pc = "/apis/scheduling.k8s.io/v1/namespaces/default/priorityclasses/system-node-critical";
    let ns_body = serde_json::to_vec(&ns).unwrap();
    let merge = br#"{"metadata":{"labels":{"owned":"yes"}}}"#.to_vec();
    let cases: Vec<(&str, String, &str, Vec<u8>)> = vec![
        ("GET", item.into(), "", vec![]),
        ("GET", collection.into(), "", vec![]),
        (
            "GET",
            format!("{collection}?watch=true&timeoutSeconds=1"),
            "",
            vec![],
        ),
        (
            "GET",
            "/api/v1/watch/namespaces/default/namespaces/victim?timeoutSeconds=1".into(),
            "",
            vec![],
        ),
        ("DELETE", item.into(), "", vec![]),
        ("DELETE", collection.into(), "", vec![]),
        (
            "PATCH",
            item.into(),
            "application/merge-patch+json",
            merge.clone(),
        ),
        (
            "PATCH",
            format!("{item}/status"),
            "application/merge-patch+json",
            merge,
        ),
        ("PUT", item.into(), "application/json", ns_body.clone()),
        (
            "PUT",
            format!("{item}/finalize"),
            "application/json",
            ns_body.clone(),
        ),
        ("POST", collection.into(), "application/json", ns_body),
        ("GET", pc.into(), "", vec![]),
        ("DELETE", pc.into(), "", vec![]),
    ];
    for (method, path, content_type, body) in cases {
        let headers: Vec<(&str, &str)> = if content_type.is_empty() {
            vec![]
        } else {
            vec![("content-type", content_type)]
        };
        let (s, _, text) = raw(&c, method, &path, &headers, body).await.unwrap();
        let v = parse(&text);
        assert_eq!(s, 404, "{method} {path}: {text}");
        assert_eq!(v["reason"], "NotFound", "{method} {path}: {text}");
        assert_eq!(
            v["message"], "the server could not find the requested resource",
            "{method} {path}"
        );
    }

    let victim = get_json(&c, "/api/v1/namespaces/victim", 200).await;
    assert_eq!(victim["status"]["phase"], "Active", "{victim}");
    assert!(victim["metadata"].get("deletionTimestamp").is_none());
    assert!(victim["metadata"]["labels"].get("owned").is_none());
    get_json(
        &c,
        "/apis/scheduling.k8s.io/v1/priorityclasses/system-node-critical",
        200,
    )
    .await;
    // The namespace's own paths and namespaced resources are unaffected.
    get_json(&c, "/api/v1/namespaces/victim/status", 200).await;
    get_json(&c, "/api/v1/namespaces/default/configmaps", 200).await;
}

/// JSON patches are bounded as upstream bounds them: more than 10,000 operations is a 413,
/// and copies that would add more than the body limit fail fast with a 422.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_patches_are_bounded() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let base = "/api/v1/namespaces/default/configmaps";
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "amp"}});
    let (s, v) = send_json(&c, "POST", base, "application/json", &cm).await;
    assert_eq!(s, 201, "{v}");
    let path = format!("{base}/amp");
    let patch = |ops: Vec<Value>| {
        let c = c.clone();
        let path = path.clone();
        async move {
            let started = Instant::now();
            let (s, _, text) = raw(
                &c,
                "PATCH",
                &path,
                &[("content-type", "application/json-patch+json")],
                serde_json::to_vec(&ops).unwrap(),
            )
            .await
            .unwrap();
            (s, parse(&text), started.elapsed())
        }
    };

    let test_op = json!({"op": "test", "path": "/metadata/name", "value": "amp"});
    let (s, v, _) = patch(vec![test_op.clone(); 10_001]).await;
    assert_eq!(
        (s, v["reason"].as_str()),
        (413, Some("RequestEntityTooLarge")),
        "{v}"
    );
    assert_eq!(
        v["message"],
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"
    );
    let (s, v, _) = patch(vec![test_op; 10_000]).await;
    assert_eq!(s, 200, "{v}");

    // One add and 22 copies of the annotations into themselves: each doubles them
    // (1 KB → 4 GB). The copies stop at the limit, 3 MiB, as upstream's do.
    let mut ops = vec![json!({
        "op": "add", "path": "/metadata/annotations", "value": {"seed": "x".repeat(1000)}
    })];
    for i in 0..22 {
        ops.push(json!({"op": "copy", "from": "/metadata/annotations", "path": format!("/metadata/annotations/k{i}")}));
    }
    assert!(serde_json::to_vec(&ops).unwrap().len() < 4096);
    let (s, v, took) = patch(ops).await;
    assert_eq!((s, v["reason"].as_str()), (422, Some("Invalid")), "{v}");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Unable to complete the copy, the accumulated size increase of copy is ")
            && message.ends_with(", exceeding the limit 3145728"),
        "{message}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let amp = get_json(&c, &path, 200).await;
    assert!(amp["metadata"].get("annotations").is_none(), "{amp}");

    // Copies of a value into itself nest it one level deeper each: the result may not
    // nest deeper than a body can (it could not be read back), in a free-form field too.
    let mut ops = vec![json!({
        "op": "add", "path": "/metadata/managedFields",
        "value": [{"manager": "m", "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": {}}]
    })];
    for _ in 0..200 {
        ops.push(json!({"op": "copy", "from": "/metadata/managedFields/0/fieldsV1", "path": "/metadata/managedFields/0/fieldsV1/f:x"}));
    }
    let (s, v, _) = patch(ops).await;
    assert_eq!((s, v["reason"].as_str()), (422, Some("Invalid")), "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or_default()
            .ends_with("the patched object nests deeper than 128 levels"),
        "{v}"
    );
    get_json(&c, &path, 200).await;
}

/// Validation upstream does and a hostile client probes: a namespace's phase, the system
/// priority classes, resource versions, `timeout`, and booleans read as upstream reads them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_gaps_are_closed() {
    let server = Server::start(&[]).await;
    let c = server.client().await;

    // A namespace's phase is Active until deletion begins.
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "phased"}});
    let (s, v) = send_json(&c, "POST", "/api/v1/namespaces", "application/json", &ns).await;
    assert_eq!(s, 201, "{v}");
    let mut bogus = v.clone();
    bogus["status"]["phase"] = json!("Bogus");
    let (s, v) = send_json(
        &c,
        "PUT",
        "/api/v1/namespaces/phased/status",
        "application/json",
        &bogus,
    )
    .await;
    assert_eq!((s, v["reason"].as_str()), (422, Some("Invalid")), "{v}");
    assert_eq!(
        v["message"],
        "Namespace \"phased\" is invalid: status.Phase: Invalid value: \"Bogus\": may only be 'Active' if `deletionTimestamp` is empty"
    );
    assert_eq!(v["details"]["causes"][0]["field"], "status.Phase");
    let (s, v) = send_json(
        &c,
        "PATCH",
        "/api/v1/namespaces/phased/status",
        "application/merge-patch+json",
        &json!({"status": {"phase": "Terminating"}}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    let (s, v) = send_json(
        &c,
        "PATCH",
        "/api/v1/namespaces/phased/status",
        "application/merge-patch+json",
        &json!({"status": {"phase": "Active"}}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let phased = get_json(&c, "/api/v1/namespaces/phased", 200).await;
    assert_eq!(phased["status"]["phase"], "Active");

    // The system priority classes cannot be deleted; others can.
    let pcs = "/apis/scheduling.k8s.io/v1/priorityclasses";
    for name in ["system-node-critical", "system-cluster-critical"] {
        let (s, _, text) = raw(&c, "DELETE", &format!("{pcs}/{name}"), &[], vec![])
            .await
            .unwrap();
        let v = parse(&text);
        assert_eq!(
            (s, v["reason"].as_str()),
            (403, Some("Forbidden")),
            "{text}"
        );
        assert_eq!(
            v["message"],
            format!("priorityclasses.scheduling.k8s.io \"{name}\" is forbidden: this is a system priority class and cannot be deleted")
        );
        get_json(&c, &format!("{pcs}/{name}"), 200).await;
    }
    let pc = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
        "metadata": {"name": "mine"}, "value": 10});
    let (s, v) = send_json(&c, "POST", pcs, "application/json", &pc).await;
    assert_eq!(s, 201, "{v}");
    let (s, _, text) = raw(&c, "DELETE", &format!("{pcs}/mine"), &[], vec![])
        .await
        .unwrap();
    assert_eq!(s, 200, "{text}");

    // A resourceVersion that is none: 400 on GET, LIST and watch.
    let cms = "/api/v1/namespaces/default/configmaps";
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "rv"}});
    let (s, v) = send_json(&c, "POST", cms, "application/json", &cm).await;
    assert_eq!(s, 201, "{v}");
    for (path, rv) in [
        (format!("{cms}/rv?resourceVersion=abc"), "abc"),
        (format!("{cms}?resourceVersion=abc"), "abc"),
        (format!("{cms}?resourceVersion=-1"), "-1"),
        (format!("{cms}?watch=true&resourceVersion=abc"), "abc"),
    ] {
        let v = get_json(&c, &path, 400).await;
        assert_eq!(v["reason"], "BadRequest");
        assert_eq!(
            v["message"],
            format!("resourceVersion: Invalid value: \"{rv}\": strconv.ParseUint: parsing \"{rv}\": invalid syntax"),
            "{path}"
        );
    }
    get_json(&c, &format!("{cms}/rv?resourceVersion=0"), 200).await;

    // `timeout` must be a Go duration.
    let v = get_json(&c, &format!("{cms}/rv?timeout=abc"), 400).await;
    assert_eq!(v["reason"], "BadRequest");
    assert_eq!(
        v["message"],
        "invalid timeout specified in the request URL - time: invalid duration \"abc\""
    );
    get_json(&c, &format!("{cms}?timeout=10s"), 200).await;

    // Booleans as upstream's parameter codec reads them: anything but 0/false is true, so
    // `watch=notabool` is a watch (it streams the existing object, then times out).
    let (s, _, text) = raw(
        &c,
        "GET",
        &format!("{cms}?watch=notabool&timeoutSeconds=1"),
        &[],
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{text}");
    // The namespace's objects come first (the server's kube-root-ca.crt among them).
    let added: Vec<serde_json::Value> = text.lines().map(parse).collect();
    assert!(
        added
            .iter()
            .any(|e| e["type"] == "ADDED" && e["object"]["metadata"]["name"] == "rv"),
        "{text}"
    );
    let list = get_json(&c, &format!("{cms}?watch=false"), 200).await;
    assert_eq!(list["kind"], "ConfigMapList");
}

/// PUT and PATCH have no route on a collection: 405 MethodNotAllowed as a Status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_refuse_put_and_patch() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    for (method, content_type) in [
        ("PUT", "application/json"),
        ("PATCH", "application/merge-patch+json"),
        ("PATCH", "application/json-patch+json"),
    ] {
        for path in [
            "/api/v1/namespaces/default/configmaps",
            "/api/v1/namespaces",
            "/apis/scheduling.k8s.io/v1/priorityclasses",
        ] {
            let (s, _, text) = raw(
                &c,
                method,
                path,
                &[("content-type", content_type)],
                b"{}".to_vec(),
            )
            .await
            .unwrap();
            let v = parse(&text);
            assert_eq!(s, 405, "{method} {path}: {text}");
            assert_eq!(v["kind"], "Status");
            assert_eq!(v["reason"], "MethodNotAllowed");
            assert_eq!(
                v["message"],
                "the server does not allow this method on the requested resource"
            );
        }
    }
}

/// curl with the admin credential of a server's data directory: (exit ok, stdout+stderr).
fn curl(server: &Server, args: &[&str]) -> (bool, String) {
    let pki = server.data_dir.join("pki");
    let out = std::process::Command::new("curl")
        .arg("-sS")
        .arg("--cacert")
        .arg(pki.join("ca.crt"))
        .arg("--cert")
        .arg(pki.join("admin.crt"))
        .arg("--key")
        .arg(pki.join("admin.key"))
        .args(args)
        .output()
        .expect("curl must be installed");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A body over the 3 MiB limit gets its 413 Status, not a reset connection, over HTTP/1.1
/// (with and without `Expect: 100-continue`) and HTTP/2, as do answers given before a
/// large body is read; and the server keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_their_413() {
    let server = Server::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 24 << 20]).unwrap();
    let body_arg = format!("@{}", big.display());
    let out_path = dir.path().join("out.json");
    let url = format!(
        "https://127.0.0.1:{}/api/v1/namespaces/default/configmaps",
        server.port
    );
    for _ in 0..3 {
        for flags in [
            vec!["--http1.1", "-H", "Expect:"],
            vec!["--http1.1"],
            vec!["--http2"],
        ] {
            let mut args = flags.clone();
            args.extend([
                "-X",
                "POST",
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                &body_arg,
                "-o",
                out_path.to_str().unwrap(),
                "-w",
                "%{http_code}",
                &url,
            ]);
            let (ok, out) = curl(&server, &args);
            assert!(ok && out == "413", "{flags:?}: {out}");
            let v = parse(&std::fs::read_to_string(&out_path).unwrap());
            assert_eq!(v["reason"], "RequestEntityTooLarge", "{flags:?}: {v}");
            assert_eq!(v["code"], 413);
        }
    }
    // Answers given before the body is read (415 for a type not accepted, 404 for no
    // such resource) reach the client too: the connection reads the rest first.
    let missing = format!(
        "https://127.0.0.1:{}/api/v1/namespaces/default/nothings",
        server.port
    );
    for (target, content_type, code, reason) in [
        (
            url.as_str(),
            "Content-Type: text/plain",
            "415",
            "UnsupportedMediaType",
        ),
        (
            missing.as_str(),
            "Content-Type: application/json",
            "404",
            "NotFound",
        ),
    ] {
        for flags in [vec!["--http1.1", "-H", "Expect:"], vec!["--http2"]] {
            let mut args = flags.clone();
            args.extend([
                "-X",
                "POST",
                "-H",
                content_type,
                "--data-binary",
                &body_arg,
                "-o",
                out_path.to_str().unwrap(),
                "-w",
                "%{http_code}",
                target,
            ]);
            let (ok, out) = curl(&server, &args);
            assert!(ok && out == code, "{target} {flags:?}: {out}");
            let v = parse(&std::fs::read_to_string(&out_path).unwrap());
            assert_eq!(v["reason"], reason, "{flags:?}: {v}");
        }
    }
    let (ok, out) = curl(&server, &["-o", "/dev/null", "-w", "%{http_code}", &url]);
    assert!(ok && out == "200", "{out}");
}

/// CPU-heavy patches run off the async workers: while two 10,000-operation JSON patches
/// work (each insert or remove at the head of a 150,000-element list moves the list), an
/// unrelated GET is answered at once instead of after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_patches_do_not_starve_other_requests() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let base = "/api/v1/namespaces/default/configmaps";
    let finalizers = vec!["a/b"; 150_000];
    for name in ["heavy-0", "heavy-1"] {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "finalizers": finalizers}});
        let (s, v) = send_json(&c, "POST", base, "application/json", &cm).await;
        assert_eq!(s, 201, "{v}");
    }
    let ops: Vec<Value> = (0..10_000)
        .map(|i| match i % 2 {
            0 => json!({"op": "add", "path": "/metadata/finalizers/0", "value": "a/x"}),
            _ => json!({"op": "remove", "path": "/metadata/finalizers/0"}),
        })
        .collect();
    let body = serde_json::to_vec(&ops).unwrap();
    let started = Instant::now();
    let patches: Vec<_> = ["heavy-0", "heavy-1"]
        .into_iter()
        .map(|name| {
            let (c, body, path) = (c.clone(), body.clone(), format!("{base}/{name}"));
            tokio::spawn(async move {
                let (s, _, text) = raw(
                    &c,
                    "PATCH",
                    &path,
                    &[("content-type", "application/json-patch+json")],
                    body,
                )
                .await
                .unwrap();
                assert_eq!(s, 200, "{}", &text[..text.len().min(500)]);
                started.elapsed()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let get_started = Instant::now();
    get_json(&c, "/api/v1/namespaces/default", 200).await;
    let get_took = get_started.elapsed();
    let get_done = started.elapsed();
    let mut first_patch_done = Duration::MAX;
    for p in patches {
        first_patch_done = first_patch_done.min(p.await.unwrap());
    }
    // A starved GET waits until a patch ends (about `first_patch_done - 500ms`); one that
    // is not takes a small part of that. Meaningful only when the patches are heavy.
    let patch_work = first_patch_done.saturating_sub(Duration::from_millis(500));
    if patch_work >= Duration::from_millis(1500) {
        assert!(
            get_took < patch_work / 3,
            "GET took {get_took:?} (answered at {get_done:?}) while the patches ran until {first_patch_done:?}"
        );
    } else {
        eprintln!("patches finished too soon ({first_patch_done:?}) to measure the GET");
    }
}

/// `application/yaml` bodies are accepted for create and update, as upstream accepts them:
/// read as JSON, then decoded and field-validated as JSON bodies are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yaml_bodies_create_and_update() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let base = "/api/v1/namespaces/default/configmaps";
    let yaml = |body: &str| body.as_bytes().to_vec();
    let send = |method: &'static str, path: String, query: &'static str, body: Vec<u8>| {
        let c = c.clone();
        async move {
            let (s, _, text) = raw(
                &c,
                method,
                &format!("{path}{query}"),
                &[("content-type", "application/yaml")],
                body,
            )
            .await
            .unwrap();
            (s, parse(&text))
        }
    };
    let created = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n  labels: {app: web}\ndata:\n  # a comment\n  key: value\n  multi: |\n    line one\n    line two\n";
    let (s, v) = send("POST", base.to_string(), "", yaml(created)).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        v["data"],
        json!({"key": "value", "multi": "line one\nline two\n"})
    );
    assert_eq!(v["metadata"]["labels"], json!({"app": "web"}));

    let rv = v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let updated = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n  resourceVersion: \"{rv}\"\ndata:\n  key: changed\n");
    let (s, v) = send("PUT", format!("{base}/from-yaml"), "", yaml(&updated)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"], json!({"key": "changed"}));
    let stored = get_json(&c, &format!("{base}/from-yaml"), 200).await;
    assert_eq!(stored["data"], json!({"key": "changed"}));

    // Field validation applies to YAML bodies too.
    let unknown = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict\nbogus: 1\n";
    let (s, v) = send(
        "POST",
        base.to_string(),
        "?fieldValidation=Strict",
        yaml(unknown),
    )
    .await;
    assert_eq!((s, v["reason"].as_str()), (400, Some("BadRequest")), "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or_default()
            .contains("unknown field \"bogus\""),
        "{v}"
    );

    // Malformed YAML is a 400, and so is a bomb of aliases.
    let (s, v) = send("POST", base.to_string(), "", yaml("metadata: [\n")).await;
    assert_eq!((s, v["reason"].as_str()), (400, Some("BadRequest")), "{v}");
    let mut bomb = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\nx0: &x0 [a, a, a, a, a, a, a, a, a]\n");
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "x{i}: &x{i} [*x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}]\n"
        ));
    }
    let (s, v) = send("POST", base.to_string(), "", yaml(&bomb)).await;
    assert_eq!((s, v["reason"].as_str()), (400, Some("BadRequest")), "{v}");

    // Other types are still refused, naming YAML among the accepted ones.
    let (s, _, text) = raw(
        &c,
        "POST",
        base,
        &[("content-type", "text/plain")],
        b"{}".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(s, 415, "{text}");
    assert_eq!(
        parse(&text)["message"],
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf"
    );
}

/// Over HTTP/1.1, a URI longer than 65,534 bytes (the most the `http` crate holds) is
/// answered 414 with a Status body, not an empty one (hyper's 431 for headers past 1 MiB
/// gets the same treatment; curl cannot send such headers, the unit tests cover it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_request_lines_get_a_status() {
    let server = Server::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.json");
    let out = out_path.to_str().unwrap();
    let url = format!("https://127.0.0.1:{}/api/v1/namespaces", server.port);
    let long_url = format!("{url}?pad={}", "x".repeat(70_000));
    let (ok, text) = curl(
        &server,
        &["--http1.1", "-o", out, "-w", "%{http_code}", &long_url],
    );
    assert!(ok && text == "414", "{text}");
    let v = parse(&std::fs::read_to_string(&out_path).unwrap());
    assert_eq!(v["kind"], "Status", "{v}");
    assert_eq!(v["code"], 414, "{v}");
    assert_eq!(
        v["message"],
        "the request URI is longer than the server's limit of 65534 bytes"
    );
    let (ok, text) = curl(
        &server,
        &["--http1.1", "-o", "/dev/null", "-w", "%{http_code}", &url],
    );
    assert!(ok && text == "200", "{text}");
}

/// Bodies nested past 128 levels are refused with a 400 wherever they are decoded (JSON
/// and YAML bodies, every patch type), never decoded recursively without bound; an
/// unknown field is skipped without recursion and dropped, as upstream drops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_bodies_are_refused() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let base = "/api/v1/namespaces/default/configmaps";
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let cm = |name: &str, field: &str| {
        format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}"}},{field}}}"#
        )
    };
    let (s, _, text) = raw(
        &c,
        "POST",
        base,
        &[("content-type", "application/json")],
        cm("skipped", &format!(r#""x":{deep}"#)).into_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(s, 201, "{text}");
    let skipped = get_json(&c, &format!("{base}/skipped"), 200).await;
    assert!(skipped.get("x").is_none(), "{skipped}");

    let known = format!(r#""data":{{"k":{deep}}}"#);
    for (method, path, content_type, body) in [
        (
            "POST",
            base.to_string(),
            "application/json",
            cm("deep", &known),
        ),
        (
            "POST",
            base.to_string(),
            "application/yaml",
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep}}\nx: {deep}\n"),
        ),
        (
            "PUT",
            format!("{base}/skipped"),
            "application/json",
            cm("skipped", &known),
        ),
        (
            "PATCH",
            format!("{base}/skipped"),
            "application/merge-patch+json",
            format!(r#"{{"x":{deep}}}"#),
        ),
        (
            "PATCH",
            format!("{base}/skipped"),
            "application/strategic-merge-patch+json",
            format!(r#"{{"x":{deep}}}"#),
        ),
        (
            "PATCH",
            format!("{base}/skipped"),
            "application/json-patch+json",
            format!(r#"[{{"op":"add","path":"/x","value":{deep}}}]"#),
        ),
    ] {
        let (s, _, text) = raw(
            &c,
            method,
            &path,
            &[("content-type", content_type)],
            body.into_bytes(),
        )
        .await
        .unwrap();
        let v = parse(&text);
        assert_eq!(
            (s, v["reason"].as_str()),
            (400, Some("BadRequest")),
            "{method} {content_type}: {text}"
        );
        assert!(
            v["message"]
                .as_str()
                .unwrap_or_default()
                .contains("recursion limit exceeded"),
            "{method} {content_type}: {text}"
        );
    }
    get_json(&c, &format!("{base}/skipped"), 200).await;
}

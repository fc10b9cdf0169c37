//! The wire, checked field by field against upstream's behaviour: Status errors, health
//! endpoints, version, metrics, discovery, tables, content negotiation, and the default
//! authorization of anonymous requests.

mod common;

use common::{get_json, get_status, ok, raw, send_json, Server};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_errors() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let base = "/api/v1/namespaces/default/configmaps";

    let nf = get_json(&c, &format!("{base}/missing"), 404).await;
    assert_eq!(
        nf,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "configmaps \"missing\" not found", "reason": "NotFound",
            "details": {"name": "missing", "kind": "configmaps"}, "code": 404
        })
    );

    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
    let (s, _) = send_json(&c, "POST", base, "application/json", &body).await;
    assert_eq!(s, 201);
    let (s, v) = send_json(&c, "POST", base, "application/json", &body).await;
    assert_eq!((s, v["reason"].as_str()), (409, Some("AlreadyExists")));

    // Namespace in the body must match the URL's.
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "y", "namespace": "kube-system"}});
    let (s, v) = send_json(&c, "POST", base, "application/json", &other).await;
    assert_eq!((s, v["reason"].as_str()), (400, Some("BadRequest")), "{v}");

    // Invalid names: 422 with a cause per field error.
    let bad = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "UPPER"}});
    let (s, v) = send_json(&c, "POST", base, "application/json", &bad).await;
    assert_eq!((s, v["reason"].as_str()), (422, Some("Invalid")), "{v}");
    assert_eq!(v["details"]["causes"][0]["field"], "metadata.name");
    assert_eq!(v["details"]["kind"], "ConfigMap");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("ConfigMap \"UPPER\" is invalid: metadata.name: Invalid value: \"UPPER\""),
        "{v}"
    );

    // generateName.
    let gen =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}});
    let (s, v) = send_json(&c, "POST", base, "application/json", &gen).await;
    assert_eq!(s, 201);
    let name = v["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");

    // Unsupported media types: 415.
    let (s, _, text) = raw(
        &c,
        "PATCH",
        &format!("{base}/x"),
        &[("content-type", "text/plain")],
        b"{}".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(s, 415, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["reason"], "UnsupportedMediaType");

    // Bodies over 3 MiB: 413.
    let big = vec![b' '; 3 * 1024 * 1024 + 10];
    let (s, _, text) = raw(
        &c,
        "POST",
        base,
        &[("content-type", "application/json")],
        big,
    )
    .await
    .unwrap();
    assert_eq!(s, 413, "{text}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["reason"],
        "RequestEntityTooLarge"
    );

    // A verb the resource does not serve: 405.
    let (s, _, text) = raw(
        &c,
        "POST",
        &format!("{base}/x"),
        &[("content-type", "application/json")],
        b"{}".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(s, 405, "{text}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["reason"],
        "MethodNotAllowed"
    );

    // Unknown paths: upstream's 404 Status.
    let v = get_json(&c, "/apis/nope.example.com/v1/things", 404).await;
    assert_eq!(v["reason"], "NotFound");

    // Bad JSON: 400.
    let (s, _, _) = raw(
        &c,
        "POST",
        base,
        &[("content-type", "application/json")],
        b"{not json".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(s, 400);

    // Too-old resource version on a list with Exact match after compaction is covered in
    // lifecycle tests; a malformed one is 400 here.
    let (s, _) = get_status(&c, &format!("{base}?resourceVersion=abc"))
        .await
        .unwrap();
    assert_eq!(s, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_version_metrics_discovery() {
    let server = Server::start(&[]).await;
    let anon = server.anonymous_client().await.unwrap();

    // Health and version are open to anonymous requests; the API is not.
    for p in ["/healthz", "/livez", "/readyz"] {
        assert_eq!(
            get_status(&anon, p).await.unwrap(),
            (200, "ok".to_string()),
            "{p}"
        );
    }
    let (s, text) = get_status(&anon, "/readyz?verbose").await.unwrap();
    assert_eq!(s, 200);
    for line in [
        "[+]ping ok",
        "[+]etcd ok",
        "[+]shutdown ok",
        "[+]poststarthook/start-system-namespaces-controller ok",
        "readyz check passed",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    let (_, text) = get_status(&anon, "/livez?verbose&exclude=etcd")
        .await
        .unwrap();
    assert!(text.contains("[+]etcd excluded: ok"), "{text}");
    assert!(!text.contains("[+]shutdown"), "{text}");
    assert_eq!(
        get_status(&anon, "/readyz/etcd").await.unwrap(),
        (200, "ok".to_string())
    );
    assert_eq!(get_status(&anon, "/readyz/nope").await.unwrap().0, 404);
    let v = get_json(&anon, "/version", 200).await;
    assert_eq!(
        (v["major"].as_str(), v["minor"].as_str()),
        (Some("1"), Some("36"))
    );
    let v = get_json(&anon, "/api", 403).await;
    assert_eq!(
        v["message"],
        "forbidden: User \"system:anonymous\" cannot get path \"/api\""
    );
    let v = get_json(&anon, "/api/v1/namespaces/default/configmaps", 403).await;
    assert_eq!(v["message"], "configmaps is forbidden: User \"system:anonymous\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\"");

    // A bearer token nobody recognises is 401, not anonymous.
    let bogus = server.token_client("not-a-token").await;
    let v = get_json(&bogus, "/api", 401).await;
    assert_eq!(v["reason"], "Unauthorized");

    let c = server.client().await;
    // Discovery.
    let v = get_json(&c, "/api", 200).await;
    assert_eq!(v["versions"], json!(["v1"]));
    let v = get_json(&c, "/api/v1", 200).await;
    let cm = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "configmaps")
        .unwrap()
        .clone();
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["namespaced"], true);
    assert_eq!(cm["shortNames"], json!(["cm"]));
    assert!(v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "namespaces/status"));
    let v = get_json(&c, "/apis", 200).await;
    assert!(v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "scheduling.k8s.io"));
    get_json(&c, "/apis/scheduling.k8s.io", 200).await;
    get_json(&c, "/apis/scheduling.k8s.io/v1", 200).await;
    let (s, h, text) = raw(
        &c,
        "GET",
        "/apis",
        &[(
            "accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )],
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    assert_eq!(
        h["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["kind"], "APIGroupDiscoveryList");
    assert_eq!(v["items"][0]["metadata"]["name"], "scheduling.k8s.io");

    // Tables and partial metadata.
    let (s, _, text) = raw(
        &c,
        "GET",
        "/api/v1/namespaces",
        &[("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")],
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    let t: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(t["kind"], "Table");
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["Name", "Status", "Age"]);
    assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    let (_, _, text) = raw(
        &c,
        "GET",
        "/api/v1/namespaces",
        &[(
            "accept",
            "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
        )],
        vec![],
    )
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["kind"], "PartialObjectMetadataList");
    assert!(v["items"][0].get("spec").is_none());
    let (s, h, text) = raw(
        &c,
        "GET",
        "/api/v1/namespaces/default",
        &[("accept", "application/yaml")],
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    assert_eq!(h["content-type"], "application/yaml");
    assert!(text.contains("kind: Namespace"), "{text}");
    let (s, _, _) = raw(
        &c,
        "GET",
        "/api/v1/namespaces/default",
        &[("accept", "text/html")],
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(s, 406);

    // Metrics with upstream's names.
    let (s, text) = get_status(&c, "/metrics").await.unwrap();
    assert_eq!(s, 200);
    for name in [
        "apiserver_request_total{",
        "apiserver_request_duration_seconds_bucket{",
        "apiserver_current_inflight_requests{request_kind=\"readOnly\"}",
        "apiserver_storage_objects{resource=\"namespaces\"} 4",
    ] {
        assert!(text.contains(name), "{name}");
    }
    assert!(text.contains("resource=\"namespaces\",scope=\"cluster\",subresource=\"\",verb=\"LIST\",version=\"v1\"}"), "{text}");

    // The index.
    let v = get_json(&c, "/", 200).await;
    let paths = v["paths"].as_array().unwrap();
    for p in [
        "/api/v1",
        "/apis/scheduling.k8s.io/v1",
        "/healthz",
        "/metrics",
        "/readyz/etcd",
        "/version",
    ] {
        assert!(paths.iter().any(|x| x == p), "{p}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_auth_file() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.csv");
    std::fs::write(
        &tokens,
        "admin-token,alice,1,\"system:masters\"\nplain-token,bob,2\n",
    )
    .unwrap();
    let flag = format!("--token-auth-file={}", tokens.display());
    let server = Server::start(&[&flag]).await;
    let alice = server.token_client("admin-token").await;
    get_json(&alice, "/api/v1/namespaces", 200).await;
    // bob is authenticated but has no grant beyond discovery.
    let bob = server.token_client("plain-token").await;
    get_json(&bob, "/api", 200).await;
    let v = get_json(&bob, "/api/v1/namespaces", 403).await;
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("User \"bob\" cannot list resource \"namespaces\""),
        "{v}"
    );
}

/// The self reviews: any authenticated user may ask who they are and what they may do;
/// the answers come from the authenticator and the authorizer, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_reviews() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.csv");
    std::fs::write(&tokens, "plain-token,bob,2\n").unwrap();
    let flag = format!("--token-auth-file={}", tokens.display());
    let server = Server::start(&[&flag]).await;
    let bob = server.token_client("plain-token").await;
    let ssr = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
    let (status, v) = send_json(&bob, "POST", ssr, "application/json", &json!({})).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["kind"], "SelfSubjectReview");
    assert_eq!(
        v["status"]["userInfo"],
        json!({"username": "bob", "uid": "2", "groups": ["system:authenticated"]})
    );
    let ssar = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let ask = |spec: serde_json::Value| json!({"spec": spec});
    let (status, v) = send_json(
        &bob,
        "POST",
        ssar,
        "application/json",
        &ask(json!({"resourceAttributes": {"namespace": "default", "verb": "list", "resource": "configmaps"}})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["status"], json!({"allowed": false}));
    let (_, v) = send_json(
        &bob,
        "POST",
        ssar,
        "application/json",
        &ask(json!({"nonResourceAttributes": {"path": "/healthz", "verb": "get"}})),
    )
    .await;
    assert_eq!(v["status"], json!({"allowed": true}));
    let (status, v) = send_json(&bob, "POST", ssar, "application/json", &ask(json!({}))).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["reason"], "Invalid");
    let ssrr = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";
    let (status, v) = send_json(
        &bob,
        "POST",
        ssrr,
        "application/json",
        &json!({"spec": {"namespace": "default"}}),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["status"]["incomplete"], false);
    assert!(
        v["status"]["resourceRules"]
            .as_array()
            .is_some_and(|rules| rules.contains(&json!({
                "verbs": ["create"],
                "apiGroups": ["authentication.k8s.io"],
                "resources": ["selfsubjectreviews"]
            }))),
        "{v}"
    );
    // Reviews are only created: there is nothing to list.
    let v = get_json(&server.client().await, ssr, 405).await;
    assert_eq!(v["reason"], "MethodNotAllowed");

    // kubectl (the admin credential, protobuf on the wire).
    let out = ok(server.kubectl(&["auth", "whoami", "-o", "json"]));
    let whoami: serde_json::Value = serde_json::from_str(&out).expect("json");
    let groups = whoami["status"]["userInfo"]["groups"].to_string();
    assert!(groups.contains("system:masters"), "{out}");
    assert_eq!(
        ok(server.kubectl(&["auth", "can-i", "create", "configmaps"])).trim(),
        "yes"
    );
    let out = ok(server.kubectl(&["auth", "can-i", "--list"]));
    assert!(out.lines().any(|l| l.starts_with("*.*")), "{out}");
}

/// A GET with `Accept: application/vnd.kubernetes.protobuf`, returning the raw body.
async fn get_protobuf(client: &kube::Client, path: &str) -> Vec<u8> {
    let req = http::Request::builder()
        .uri(path)
        .header("accept", "application/vnd.kubernetes.protobuf")
        .body(kube::client::Body::from(Vec::new()))
        .expect("request");
    let resp = client.send(req).await.expect("send");
    assert_eq!(resp.status(), 200, "GET {path}");
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.kubernetes.protobuf"
    );
    http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_lists_from_the_cache_and_read_stored_agree() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let base = "/api/v1/namespaces/default/configmaps";
    for i in 0..3 {
        let (status, v) = send_json(
            &c,
            "POST",
            base,
            "application/json",
            &json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": format!("pb-{i}"), "labels": {"n": i.to_string()}},
                    "data": {"k": "v", "i": i.to_string()}}),
        )
        .await;
        assert_eq!(status, 201, "{v}");
    }
    let json_list = get_json(&c, base, 200).await;
    let schema = api::kind("", "v1", "ConfigMap").expect("ConfigMap");
    let decode = |bytes: &[u8]| {
        let unk = apimachinery::protobuf::decode_envelope(bytes).expect("envelope");
        assert_eq!(unk.type_meta.kind, "ConfigMapList");
        apimachinery::protobuf::decode_list(&schema, unk.raw).expect("list")
    };
    // The watch cache's list, twice: the second reuses the items' cached encodings.
    let first = decode(&get_protobuf(&c, base).await);
    let second = decode(&get_protobuf(&c, base).await);
    assert_eq!(first, second);
    // A paginated list comes from storage and is encoded from JSON.
    let paged = decode(&get_protobuf(&c, &format!("{base}?limit=10")).await);
    assert_eq!(first["items"], paged["items"]);
    assert_eq!(first["items"], json_list["items"]);
    assert_eq!(
        first["metadata"]["resourceVersion"],
        json_list["metadata"]["resourceVersion"]
    );
    // A label selector filters the cached items.
    let one = decode(&get_protobuf(&c, &format!("{base}?labelSelector=n%3D1")).await);
    assert_eq!(one["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(one["items"][0]["metadata"]["name"], "pb-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_with_resource_version_reads_the_watch_cache() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let base = "/api/v1/namespaces/default/configmaps";
    let (status, created) = send_json(
        &c,
        "POST",
        base,
        "application/json",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "rv-get"},
                "data": {"a": "1"}}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let rv: u64 = created["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("resourceVersion");
    // Not older than the create: the cache is waited for, then answers.
    let at = get_json(&c, &format!("{base}/rv-get?resourceVersion={rv}"), 200).await;
    assert_eq!(at, created);
    // Any version: what the cache holds.
    let any = get_json(&c, &format!("{base}/rv-get?resourceVersion=0"), 200).await;
    assert_eq!(any, created);
    // Missing at that version: 404 from the cache, as from storage.
    let v = get_json(&c, &format!("{base}/nope?resourceVersion={rv}"), 404).await;
    assert_eq!(v["reason"], "NotFound");
    // A version storage has not reached: upstream's 504 after a short wait.
    let future = rv + 1_000_000;
    let once = server.client_without_retries().await;
    let v = get_json(
        &once,
        &format!("{base}/rv-get?resourceVersion={future}"),
        504,
    )
    .await;
    assert_eq!(v["reason"], "Timeout", "{v}");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "Timeout: Too large resource version: {future}, current: "
        )),
        "{v}"
    );
    assert_eq!(
        v["details"]["causes"],
        json!([{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}]),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subresources_serve_their_declared_verbs() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    // Discovery publishes each subresource's own verbs.
    let v = get_json(&c, "/api/v1", 200).await;
    let verbs = |name: &str| {
        v["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["name"] == name))
            .map(|r| r["verbs"].clone())
    };
    assert_eq!(verbs("namespaces/finalize"), Some(json!(["update"])));
    assert_eq!(
        verbs("namespaces/status"),
        Some(json!(["get", "patch", "update"]))
    );
    // Others are not routed: 405, as upstream's router answers.
    let (status, _) = get_status(&c, "/api/v1/namespaces/default/finalize")
        .await
        .expect("request");
    assert_eq!(status, 405);
    let (status, _, _) = raw(
        &c,
        "DELETE",
        "/api/v1/namespaces/default/status",
        &[],
        Vec::new(),
    )
    .await
    .expect("request");
    assert_eq!(status, 405);
    // Served verbs still work.
    let v = get_json(&c, "/api/v1/namespaces/default/status", 200).await;
    assert_eq!(v["metadata"]["name"], "default");
}

//! Hostile clients: requests built to confuse scope, amplify work, starve the runtime or slip
//! past validation and the wire's limits, each answered as upstream answers it.

mod common;

use common::{get_json, raw, send_json, Server};
use serde_json::{json, Value};

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

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

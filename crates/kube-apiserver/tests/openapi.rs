//! OpenAPI against the real binary: the `/openapi/v3` index, a group-version document as
//! kubectl reads it (the `fieldValidation` parameter, the group-version-kind extension), the
//! caching headers, `/openapi/v2`, and kubectl commands that depend on the documents
//! (`create -f` with default validation, `explain`).

mod common;

use common::{get_json, ok, raw, Server};
use serde_json::Value;

/// Names of the query parameters of an operation, including those written on its path.
fn query_params(doc: &Value, path: &str, method: &str) -> Vec<String> {
    let item = &doc["paths"][path];
    item["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(item[method]["parameters"].as_array().into_iter().flatten())
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents() {
    let server = Server::start(&[]).await;
    let client = server.client().await;

    // The index links every group-version's document, with its hash.
    let index = get_json(&client, "/openapi/v3", 200).await;
    for key in [
        "api/v1",
        "apis/scheduling.k8s.io/v1",
        "api",
        "apis",
        "version",
    ] {
        assert!(
            index["paths"][key]["serverRelativeURL"].is_string(),
            "{key}: {index}"
        );
    }
    let url = index["paths"]["api/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with("/openapi/v3/api/v1?hash="), "{url}");

    // The core group-version's document, as kubectl reads it.
    let doc = get_json(&client, &url, 200).await;
    assert_eq!(doc["openapi"], "3.0.0");
    let collection = "/api/v1/namespaces/{namespace}/configmaps";
    let item = "/api/v1/namespaces/{namespace}/configmaps/{name}";
    let post = &doc["paths"][collection]["post"];
    assert_eq!(post["operationId"], "createCoreV1NamespacedConfigMap");
    assert_eq!(post["x-kubernetes-action"], "post");
    let gvk = serde_json::json!({"group": "", "version": "v1", "kind": "ConfigMap"});
    assert_eq!(post["x-kubernetes-group-version-kind"], gvk);
    let params = query_params(&doc, collection, "post");
    for p in ["fieldValidation", "fieldManager", "dryRun", "pretty"] {
        assert!(params.iter().any(|n| n == p), "{p} not in {params:?}");
    }
    // kubectl decides on server-side validation from the PATCH operation of the kind.
    let patch = &doc["paths"][item]["patch"];
    assert_eq!(patch["x-kubernetes-group-version-kind"], gvk);
    assert!(query_params(&doc, item, "patch")
        .iter()
        .any(|n| n == "fieldValidation"));
    assert!(patch["requestBody"]["content"]["application/strategic-merge-patch+json"].is_object());
    assert_eq!(
        post["requestBody"]["content"]["*/*"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.ConfigMap"
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["io.k8s.api.core.v1.ConfigMap"]["x-kubernetes-group-version-kind"],
        serde_json::json!([gvk])
    );
    assert!(schemas["io.k8s.api.core.v1.ConfigMapList"].is_object());
    assert!(doc["paths"]["/api/v1/namespaces/{name}/finalize"]["put"].is_object());

    let sched_url = index["paths"]["apis/scheduling.k8s.io/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let sched = get_json(&client, &sched_url, 200).await;
    assert_eq!(
        sched["paths"]["/apis/scheduling.k8s.io/v1/priorityclasses"]["get"]["operationId"],
        "listSchedulingV1PriorityClass"
    );

    // Caching: immutable with the current hash, 304 on a matching ETag, 301 for an old hash.
    let (status, headers, _) = raw(&client, "GET", &url, &[], Vec::new()).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "public, immutable");
    let etag = headers["etag"].to_str().unwrap().to_string();
    let (status, _, _) = raw(
        &client,
        "GET",
        "/openapi/v3/api/v1",
        &[("if-none-match", &etag)],
        Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!(status, 304);

    // The Swagger 2.0 document, with everything in one.
    let v2 = get_json(&client, "/openapi/v2", 200).await;
    assert_eq!(v2["swagger"], "2.0");
    assert_eq!(
        v2["paths"][collection]["post"]["operationId"],
        "createCoreV1NamespacedConfigMap"
    );
    assert!(v2["definitions"]["io.k8s.api.scheduling.v1.PriorityClass"].is_object());

    // `/` lists the OpenAPI paths.
    let root = get_json(&client, "/", 200).await;
    let paths: Vec<&str> = root["paths"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        paths.contains(&"/openapi/v2") && paths.contains(&"/openapi/v3"),
        "{paths:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_reads_openapi() {
    let server = Server::start(&[]).await;

    // `create -f -` with kubectl's default (strict) validation: kubectl downloads the
    // OpenAPI documents, finds `fieldValidation` and leaves validation to the server.
    let out = ok(server.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-manifest\n  namespace: default\ndata:\n  key: value\n",
    ));
    assert!(out.contains("configmap/from-manifest created"), "{out}");
    let out = ok(server.kubectl(&[
        "get",
        "configmap",
        "from-manifest",
        "-o",
        "jsonpath={.data.key}",
    ]));
    assert_eq!(out, "value");

    // An unknown field: with server-side validation, rejecting it is the server's job.
    let unknown = server.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: with-spec\n  namespace: default\nspec: {}\n",
    );
    assert!(!unknown.status.success());
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        err.contains(r#"strict decoding error: unknown field "spec""#),
        "{err}"
    );

    // A `kind: List` file: kubectl cannot hand its validation to the server, and checks
    // each item against /openapi/v2, which it reads as protobuf.
    let list = r#"{"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "listed", "namespace": "default"}}]}"#;
    let out = ok(server.kubectl_stdin(&["create", "-f", "-"], list));
    assert!(out.contains("configmap/listed created"), "{out}");
    let list = r#"{"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "typo", "namespace": "default"},
         "dta": {"a": "b"}}]}"#;
    let typo = server.kubectl_stdin(&["create", "-f", "-"], list);
    assert!(!typo.status.success());
    let err = String::from_utf8_lossy(&typo.stderr);
    assert!(
        err.contains(r#"unknown field "dta" in io.k8s.api.core.v1.ConfigMap"#),
        "{err}"
    );

    // `explain` renders the published schema.
    let out = ok(server.kubectl(&["explain", "configmap"]));
    assert!(out.contains("KIND:") && out.contains("ConfigMap"), "{out}");
    assert!(out.contains("data") && out.contains("metadata"), "{out}");
    eprintln!("kubectl explain configmap:\n{out}");
    let out = ok(server.kubectl(&["explain", "priorityclass.value"]));
    assert!(out.contains("value"), "{out}");
}

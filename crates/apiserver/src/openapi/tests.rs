//! Generation tests on small declarations: a namespaced ConfigMap-like kind with a schema,
//! a cluster-scoped kind with subresources and none.

use std::sync::Arc;

use apimachinery::schema::decl::{Field, ListMerge, Message, Type};
use apimachinery::schema::MessageRef;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};

use super::paths::to_operation_id;
use super::*;
use crate::admission::AdmissionChain;
use crate::discovery::ResourceRegistry;
use crate::registry::{DefaultStrategy, ResourceDecl, Scope, Store};

static ITEM: Message = Message {
    name: "io.example.test.v1.Item",
    description: "An item.",
    gvks: &[],
    atomic: false,
    fields: &[
        Field::new("name", 1, Type::String)
            .doc("The key.")
            .required(),
        Field::new("size", 2, Type::Quantity),
    ],
};

static WIDGET: Message = Message {
    name: "io.k8s.api.core.v1.Widget",
    description: "A widget holds configuration.",
    gvks: &[("", "v1", "Widget")],
    atomic: false,
    fields: &[
        Field::new(
            "metadata",
            1,
            Type::Message(&apimachinery::types::OBJECT_META),
        )
        .doc("Standard object's metadata."),
        Field::new("data", 2, Type::Map(&Type::String)).doc("The data."),
        Field::new("binaryData", 3, Type::Map(&Type::Bytes)).doc("Binary data."),
        Field::new("count", 4, Type::Int32).required(),
        Field::new("total", 5, Type::Int64),
        Field::new("since", 6, Type::Time).doc("When."),
        Field::new("items", 7, Type::List(&Type::Message(&ITEM)))
            .doc("The items.")
            .merge(ListMerge {
                list_type: Some("map"),
                map_keys: &["name"],
                patch_strategy: Some("merge"),
                patch_merge_key: Some("name"),
                map_type: None,
            }),
        Field::new("port", 8, Type::IntOrString),
    ],
};

fn widgets() -> ResourceDecl {
    ResourceDecl::new(
        "",
        "v1",
        "Widget",
        "widgets",
        Scope::Namespaced,
        Arc::new(DefaultStrategy),
    )
    .with_schema(MessageRef::from_decl(&WIDGET))
}

fn gadgets() -> ResourceDecl {
    ResourceDecl::new(
        "example.k8s.io",
        "v1beta1",
        "Gadget",
        "gadgets",
        Scope::Cluster,
        Arc::new(DefaultStrategy),
    )
    .with_subresource(crate::registry::Subresource::new("finalize", &["update"]))
    .with_subresources(&["status"])
}

fn op<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "no {method} {path}");
    op
}

/// Names of the parameters of an operation, the path's included.
fn param_names(doc: &Value, path: &str, method: &str) -> Vec<String> {
    let mut names: Vec<String> = doc["paths"][path]["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            op(doc, path, method)["parameters"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[test]
fn operation_id_segments() {
    assert_eq!(
        to_operation_id("rbac.authorization", true),
        "RbacAuthorization"
    );
    assert_eq!(
        to_operation_id("flowcontrol.apiserver", false),
        "flowcontrolApiserver"
    );
    assert_eq!(to_operation_id("v1beta1", true), "V1beta1");
    assert_eq!(
        to_operation_id("stable.example.com", true),
        "StableExampleCom"
    );
}

#[test]
fn namespaced_paths_and_operations() {
    let w = widgets();
    let docs = v3_documents(&[&w]);
    let doc = &docs["api/v1"];
    assert_eq!(doc["openapi"], "3.0.0");

    let ids: Vec<(&str, &str, &str, &str)> = vec![
        (
            "/api/v1/namespaces/{namespace}/widgets",
            "get",
            "listCoreV1NamespacedWidget",
            "list",
        ),
        (
            "/api/v1/namespaces/{namespace}/widgets",
            "post",
            "createCoreV1NamespacedWidget",
            "post",
        ),
        (
            "/api/v1/namespaces/{namespace}/widgets",
            "delete",
            "deleteCoreV1CollectionNamespacedWidget",
            "deletecollection",
        ),
        (
            "/api/v1/namespaces/{namespace}/widgets/{name}",
            "get",
            "readCoreV1NamespacedWidget",
            "get",
        ),
        (
            "/api/v1/namespaces/{namespace}/widgets/{name}",
            "put",
            "replaceCoreV1NamespacedWidget",
            "put",
        ),
        (
            "/api/v1/namespaces/{namespace}/widgets/{name}",
            "patch",
            "patchCoreV1NamespacedWidget",
            "patch",
        ),
        (
            "/api/v1/namespaces/{namespace}/widgets/{name}",
            "delete",
            "deleteCoreV1NamespacedWidget",
            "delete",
        ),
        (
            "/api/v1/widgets",
            "get",
            "listCoreV1WidgetForAllNamespaces",
            "list",
        ),
        (
            "/api/v1/watch/widgets",
            "get",
            "watchCoreV1WidgetListForAllNamespaces",
            "watchlist",
        ),
        (
            "/api/v1/watch/namespaces/{namespace}/widgets",
            "get",
            "watchCoreV1NamespacedWidgetList",
            "watchlist",
        ),
        (
            "/api/v1/watch/namespaces/{namespace}/widgets/{name}",
            "get",
            "watchCoreV1NamespacedWidget",
            "watch",
        ),
    ];
    for (path, method, id, action) in ids {
        let o = op(doc, path, method);
        assert_eq!(o["operationId"], id, "{method} {path}");
        assert_eq!(o["x-kubernetes-action"], action, "{method} {path}");
        assert_eq!(
            o["x-kubernetes-group-version-kind"],
            json!({"group": "", "version": "v1", "kind": "Widget"})
        );
        assert_eq!(o["tags"], json!(["core_v1"]));
    }
    assert_eq!(
        op(doc, "/api/v1/", "get")["operationId"],
        "getCoreV1APIResources"
    );
    assert_eq!(
        op(doc, "/api/v1/namespaces/{namespace}/widgets", "post")["description"],
        "create a Widget"
    );

    // Parameters exactly where upstream has them.
    let coll = "/api/v1/namespaces/{namespace}/widgets";
    let item = "/api/v1/namespaces/{namespace}/widgets/{name}";
    assert_eq!(
        param_names(doc, coll, "post"),
        [
            "dryRun",
            "fieldManager",
            "fieldValidation",
            "namespace",
            "pretty"
        ]
    );
    assert_eq!(
        param_names(doc, item, "patch"),
        [
            "dryRun",
            "fieldManager",
            "fieldValidation",
            "force",
            "name",
            "namespace",
            "pretty"
        ]
    );
    assert_eq!(
        param_names(doc, item, "delete"),
        [
            "dryRun",
            "gracePeriodSeconds",
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            "name",
            "namespace",
            "orphanDependents",
            "pretty",
            "propagationPolicy"
        ]
    );
    assert_eq!(
        param_names(doc, item, "get"),
        ["name", "namespace", "pretty"]
    );
    let list = param_names(doc, coll, "get");
    for p in [
        "watch",
        "allowWatchBookmarks",
        "limit",
        "continue",
        "labelSelector",
        "sendInitialEvents",
    ] {
        assert!(list.iter().any(|n| n == p), "{p} in {list:?}");
    }
    let dc = param_names(doc, coll, "delete");
    assert!(!dc
        .iter()
        .any(|n| n == "watch" || n == "allowWatchBookmarks"));
    assert!(dc.iter().any(|n| n == "propagationPolicy") && dc.iter().any(|n| n == "limit"));

    // Shared parameters are written once on the path, in name order.
    let shared: Vec<&str> = doc["paths"][coll]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(shared, ["namespace", "pretty"]);
    let ns = &doc["paths"][coll]["parameters"][0];
    assert_eq!(ns["in"], "path");
    assert_eq!(ns["required"], true);
    assert_eq!(ns["schema"], json!({"type": "string", "uniqueItems": true}));
    assert!(doc["paths"]["/api/v1/widgets"]["get"]
        .get("parameters")
        .is_none());

    // Bodies and responses.
    let post = op(doc, coll, "post");
    assert_eq!(
        post["requestBody"],
        json!({"content": {"*/*": {"schema": {"$ref": "#/components/schemas/io.k8s.api.core.v1.Widget"}}}, "required": true})
    );
    let created = &post["responses"]["201"]["content"];
    for ct in [
        "application/json",
        "application/yaml",
        "application/vnd.kubernetes.protobuf",
    ] {
        assert_eq!(
            created[ct]["schema"]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.Widget"
        );
    }
    assert_eq!(
        post["responses"]["401"],
        json!({"description": "Unauthorized"})
    );
    let patch = op(doc, item, "patch");
    for ct in [
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
    ] {
        assert_eq!(
            patch["requestBody"]["content"][ct]["schema"]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
        );
    }
    let list_op = op(doc, coll, "get");
    assert_eq!(
        list_op["responses"]["200"]["content"]["application/json;stream=watch"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.WidgetList"
    );
    assert_eq!(
        op(doc, item, "delete")["responses"]["200"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status"
    );
}

#[test]
fn component_schemas() {
    let w = widgets();
    let docs = v3_documents(&[&w]);
    let schemas = &docs["api/v1"]["components"]["schemas"];
    let widget = &schemas["io.k8s.api.core.v1.Widget"];
    assert_eq!(widget["type"], "object");
    assert_eq!(widget["description"], "A widget holds configuration.");
    assert_eq!(
        widget["x-kubernetes-group-version-kind"],
        json!([{"group": "", "kind": "Widget", "version": "v1"}])
    );
    assert_eq!(widget["required"], json!(["count"]));
    let p = &widget["properties"];
    assert_eq!(p["apiVersion"]["type"], "string");
    assert_eq!(p["kind"]["type"], "string");
    assert_eq!(
        p["metadata"],
        json!({
            "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}],
            "description": "Standard object's metadata.",
        })
    );
    assert_eq!(
        p["data"],
        json!({"type": "object", "additionalProperties": {"type": "string"}, "description": "The data."})
    );
    assert_eq!(
        p["binaryData"]["additionalProperties"],
        json!({"type": "string", "format": "byte"})
    );
    assert_eq!(p["count"], json!({"type": "integer", "format": "int32"}));
    assert_eq!(p["total"], json!({"type": "integer", "format": "int64"}));
    assert_eq!(
        p["since"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time"
    );
    assert_eq!(
        p["port"],
        json!({"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"})
    );
    assert_eq!(
        p["items"],
        json!({
            "type": "array",
            "description": "The items.",
            "items": {"$ref": "#/components/schemas/io.example.test.v1.Item"},
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "x-kubernetes-patch-strategy": "merge",
            "x-kubernetes-patch-merge-key": "name",
        })
    );
    // Referenced types become components of their own, recursively.
    let item = &schemas["io.example.test.v1.Item"];
    assert_eq!(item["required"], json!(["name"]));
    assert!(item.get("x-kubernetes-group-version-kind").is_none());
    assert!(item["properties"].get("kind").is_none());
    assert_eq!(
        item["properties"]["size"]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"
    );
    assert_eq!(
        schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"],
        json!({"type": "string", "format": "date-time", "description": schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]["description"]})
    );
    assert!(schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]["oneOf"].is_array());
    for name in [
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
        "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIResource",
    ] {
        assert!(schemas[name].is_object(), "{name}");
    }
    // Only what the paths refer to.
    assert!(schemas
        .get("io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup")
        .is_none());
    assert!(schemas
        .get("io.k8s.apimachinery.pkg.version.Info")
        .is_none());

    let list = &schemas["io.k8s.api.core.v1.WidgetList"];
    assert_eq!(list["required"], json!(["items"]));
    assert_eq!(
        list["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.Widget"
    );
    assert_eq!(
        list["x-kubernetes-group-version-kind"],
        json!([{"group": "", "kind": "WidgetList", "version": "v1"}])
    );
    assert_eq!(
        schemas["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]
            ["x-kubernetes-group-version-kind"],
        json!([{"group": "", "kind": "DeleteOptions", "version": "v1"}])
    );
}

#[test]
fn cluster_scoped_without_schema() {
    let w = widgets();
    let g = gadgets();
    let docs = v3_documents(&[&w, &g]);
    let mut keys: Vec<&str> = docs.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "api",
            "api/v1",
            "apis",
            "apis/example.k8s.io",
            "apis/example.k8s.io/v1beta1",
            "version"
        ]
    );
    let doc = &docs["apis/example.k8s.io/v1beta1"];
    let base = "/apis/example.k8s.io/v1beta1";
    assert_eq!(
        op(doc, &format!("{base}/gadgets"), "get")["operationId"],
        "listExampleV1beta1Gadget"
    );
    assert_eq!(
        op(doc, &format!("{base}/gadgets/{{name}}/status"), "patch")["operationId"],
        "patchExampleV1beta1GadgetStatus"
    );
    assert_eq!(
        op(doc, &format!("{base}/gadgets/{{name}}/status"), "get")["description"],
        "read status of the specified Gadget"
    );
    let finalize = &doc["paths"][format!("{base}/gadgets/{{name}}/finalize")];
    assert_eq!(
        finalize["put"]["operationId"],
        "replaceExampleV1beta1GadgetFinalize"
    );
    assert!(finalize.get("get").is_none() && finalize.get("patch").is_none());
    // A single operation: all its parameters are on the path.
    assert!(finalize["put"].get("parameters").is_none());
    assert!(doc["paths"]
        .get(format!("{base}/watch/gadgets/{{name}}"))
        .is_some());
    assert!(doc["paths"]
        .get(format!("{base}/namespaces/{{namespace}}/gadgets"))
        .is_none());
    assert_eq!(
        op(doc, &format!("{base}/"), "get")["tags"],
        json!(["example_v1beta1"])
    );

    let schemas = &doc["components"]["schemas"];
    let gadget = &schemas["io.k8s.api.example.v1beta1.Gadget"];
    assert_eq!(gadget["x-kubernetes-preserve-unknown-fields"], true);
    assert_eq!(
        gadget["x-kubernetes-group-version-kind"],
        json!([{"group": "example.k8s.io", "kind": "Gadget", "version": "v1beta1"}])
    );
    assert!(schemas["io.k8s.api.example.v1beta1.GadgetList"].is_object());
    assert_eq!(
        schemas["io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"]
            ["x-kubernetes-group-version-kind"],
        json!([
            {"group": "", "kind": "WatchEvent", "version": "v1"},
            {"group": "example.k8s.io", "kind": "WatchEvent", "version": "v1beta1"},
        ])
    );
    let event_props = &schemas["io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"]["properties"];
    assert!(event_props.get("kind").is_none() && event_props["object"].is_object());
    let delete_props = &schemas["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]["properties"];
    assert!(delete_props["kind"].is_object() && delete_props["apiVersion"].is_object());

    let group = &docs["apis/example.k8s.io"];
    assert_eq!(
        op(group, "/apis/example.k8s.io/", "get")["operationId"],
        "getExampleAPIGroup"
    );
    assert!(
        group["components"]["schemas"]["io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup"].is_object()
    );
    assert_eq!(
        op(&docs["api"], "/api/", "get")["operationId"],
        "getCoreAPIVersions"
    );
    assert_eq!(
        op(&docs["version"], "/version/", "get")["operationId"],
        "getCodeVersion"
    );
}

#[test]
fn swagger_v2() {
    let w = widgets();
    let g = gadgets();
    let doc = v2_document(&[&w, &g]);
    assert_eq!(doc["swagger"], "2.0");
    let post = op(&doc, "/api/v1/namespaces/{namespace}/widgets", "post");
    assert_eq!(post["operationId"], "createCoreV1NamespacedWidget");
    assert_eq!(post["consumes"], json!(["*/*"]));
    assert_eq!(post["schemes"], json!(["https"]));
    let params = post["parameters"].as_array().unwrap();
    assert_eq!(
        params[0],
        json!({"in": "body", "name": "body", "required": true, "schema": {"$ref": "#/definitions/io.k8s.api.core.v1.Widget"}})
    );
    let fv = params
        .iter()
        .find(|p| p["name"] == "fieldValidation")
        .unwrap();
    assert_eq!(fv["type"], "string");
    assert_eq!(fv["in"], "query");
    assert_eq!(
        post["responses"]["201"]["schema"]["$ref"],
        "#/definitions/io.k8s.api.core.v1.Widget"
    );
    let patch = op(
        &doc,
        "/api/v1/namespaces/{namespace}/widgets/{name}",
        "patch",
    );
    assert_eq!(
        patch["consumes"][2],
        "application/strategic-merge-patch+json"
    );
    let defs = &doc["definitions"];
    // Swagger 2.0 allows siblings of `$ref`.
    assert_eq!(
        defs["io.k8s.api.core.v1.Widget"]["properties"]["metadata"]["$ref"],
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    assert_eq!(
        defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"],
        json!({"type": "string", "format": "int-or-string", "description": defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["description"]})
    );
    assert_eq!(
        defs["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]
            ["x-kubernetes-group-version-kind"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    for p in [
        "/api/",
        "/apis/",
        "/apis/example.k8s.io/",
        "/version/",
        "/apis/example.k8s.io/v1beta1/",
    ] {
        assert!(doc["paths"][p]["get"].is_object(), "{p}");
    }
}

fn temp_registry(name: &str) -> (Arc<ResourceRegistry>, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!(
        "apiserver-openapi-{name}-{}.db",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    let storage: Arc<dyn storage::Storage> =
        Arc::new(storage::embedded::EmbeddedStore::open(&path).expect("open store"));
    let registry = Arc::new(ResourceRegistry::new());
    registry.register(Arc::new(Store::new(
        Arc::new(widgets()),
        storage.clone(),
        "/registry",
        AdmissionChain::new(Vec::new()),
    )));
    (registry, path)
}

async fn get(
    svc: &OpenApiService,
    registry: &ResourceRegistry,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let mut b = Request::builder().uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b.body(()).unwrap();
    let resp = svc.serve(registry, &req).expect("an openapi path");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

#[tokio::test]
async fn serving_and_caching() {
    let (registry, path) = temp_registry("serve");
    let svc = OpenApiService::new();
    let req = Request::builder().uri("/version").body(()).unwrap();
    assert!(svc.serve(&registry, &req).is_none());

    let (status, headers, body) = get(&svc, &registry, "/openapi/v3", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let index: Value = serde_json::from_slice(&body).unwrap();
    let url = index["paths"]["api/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with("/openapi/v3/api/v1?hash="), "{url}");
    assert!(index["paths"]["version"].is_object());

    let (status, headers, body) =
        get(&svc, &registry, &url, &[("accept", "application/json")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "public, immutable");
    assert!(headers.contains_key(header::EXPIRES));
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert!(doc["paths"]["/api/v1/namespaces/{namespace}/widgets"]["post"].is_object());
    let etag = headers[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", url.split("hash=").nth(1).unwrap()));

    // Without the hash: no immutable caching, but the ETag still works.
    let (status, headers, _) = get(&svc, &registry, "/openapi/v3/api/v1", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!headers.contains_key(header::CACHE_CONTROL));
    let (status, _, body) = get(
        &svc,
        &registry,
        "/openapi/v3/api/v1",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());

    // An outdated hash redirects to the current document.
    let (status, headers, _) = get(&svc, &registry, "/openapi/v3/api/v1?hash=0123", &[]).await;
    assert_eq!(status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(headers[header::LOCATION], url.as_str());

    let (status, _, _) = get(&svc, &registry, "/openapi/v3/apis/nothing/v1", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get(
        &svc,
        &registry,
        "/openapi/v3/api/v1",
        &[(
            "accept",
            "application/com.github.proto-openapi.spec.v3.v1.0+protobuf",
        )],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);

    let (status, headers, body) = get(
        &svc,
        &registry,
        "/openapi/v2",
        &[("accept", "application/json")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let v2: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v2["swagger"], "2.0");
    let v2_etag = headers[header::ETAG].to_str().unwrap().to_string();
    let (status, _, _) = get(
        &svc,
        &registry,
        "/openapi/v2",
        &[("if-none-match", &v2_etag)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    // client-go's request: the gnostic protobuf document, with its own ETag.
    let (status, headers, body) = get(
        &svc,
        &registry,
        "/openapi/v2",
        &[(
            "accept",
            "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
        )],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-type"],
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    );
    assert_ne!(headers["etag"].to_str().unwrap_or_default(), v2_etag);
    // Field 1 of openapi.v2.Document is `swagger`.
    assert!(
        body.starts_with(b"\x0a\x032.0"),
        "{:?}",
        &body[..8.min(body.len())]
    );
    let (status, _, _) = get(
        &svc,
        &registry,
        "/openapi/v2",
        &[("accept", "application/vnd.kubernetes.protobuf")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);

    // Repeated requests reuse the documents: one v3 set and one v2 document so far.
    assert_eq!(svc.generations(), 2);

    // A registry change regenerates, with new hashes for what changed.
    let storage: Arc<dyn storage::Storage> = registry.all()[0].storage().clone();
    registry.register(Arc::new(Store::new(
        Arc::new(gadgets()),
        storage,
        "/registry",
        AdmissionChain::new(Vec::new()),
    )));
    let (_, _, body) = get(&svc, &registry, "/openapi/v3", &[]).await;
    assert_eq!(svc.generations(), 3);
    let index2: Value = serde_json::from_slice(&body).unwrap();
    assert!(index2["paths"]["apis/example.k8s.io/v1beta1"].is_object());
    assert_eq!(index2["paths"]["api/v1"], index["paths"]["api/v1"]);
    assert!(index2["paths"]["apis/example.k8s.io"].is_object());
    let _ = get(&svc, &registry, "/openapi/v3", &[]).await;
    assert_eq!(svc.generations(), 3);

    drop(registry);
    let _ = std::fs::remove_file(&path);
}

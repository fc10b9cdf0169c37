//! The operations a resource declaration publishes, in a model independent of the OpenAPI
//! version: the paths upstream's installer registers for a resource (collection, item,
//! subresources, `watch/` paths, the all-namespaces forms), with upstream's operation ids,
//! actions, parameters, bodies and responses; and the discovery paths of each
//! group-version, group and the root.

use std::borrow::Cow;
use std::collections::BTreeMap;

use apimachinery::schema::{MessageRef, Type};

use super::meta_types;
use super::schema::{kind_schema_name, list_schema_name, Gvk};
use crate::registry::ResourceDecl;

/// Response types of a request for one object (or a `Status`).
pub const OBJECT_MEDIA: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/cbor",
];

/// Response types of a list or watch.
pub const STREAM_MEDIA: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/cbor",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
    "application/cbor-seq",
];

/// Request types of a PATCH.
pub const PATCH_MEDIA: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/apply-patch+cbor",
];

/// Response types of a read with options that answers text (`pods/log`).
pub const TEXT_MEDIA: &[&str] = &[
    "text/plain",
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/cbor",
];

/// Request types of a POST or PUT (any: the server decodes what it can).
pub const ANY_MEDIA: &[&str] = &["*/*"];

/// Types of the legacy discovery documents (`/api`, `/apis`, `/apis/<group>`).
pub const DISCOVERY_MEDIA: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];

/// Types of `/version`.
pub const JSON_MEDIA: &[&str] = &["application/json"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Location {
    Path,
    Query,
}

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
        }
    }
}

/// A path or query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: Cow<'static, str>,
    pub location: Location,
    /// `string`, `integer` or `boolean`.
    pub ty: &'static str,
    pub description: String,
    pub required: bool,
}

fn query(name: &'static str, ty: &'static str, description: &str) -> Param {
    Param {
        name: Cow::Borrowed(name),
        location: Location::Query,
        ty,
        description: description.to_string(),
        required: false,
    }
}

fn path(name: &'static str, description: String) -> Param {
    Param {
        name: Cow::Borrowed(name),
        location: Location::Path,
        ty: "string",
        description,
        required: true,
    }
}

/// The query parameters of an options type (`PodExecOptions`): one per field of a
/// plain type or a list of one, as upstream publishes them (a `sinceTime` is left out).
fn options_params(options: Option<&MessageRef>) -> Vec<Param> {
    let Some(options) = options else {
        return Vec::new();
    };
    options
        .json_fields()
        .into_iter()
        .filter_map(|f| {
            let ty = match &f.ty {
                Type::List(item) => item.as_ref(),
                other => other,
            };
            let ty = match ty {
                Type::String => "string",
                Type::Bool => "boolean",
                Type::Int32 | Type::Int64 => "integer",
                _ => return None,
            };
            Some(Param {
                name: f.json.clone(),
                location: Location::Query,
                ty,
                description: f.description.to_string(),
                required: false,
            })
        })
        .collect()
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestBody {
    /// The schema name of the body.
    pub schema: String,
    pub media: &'static [&'static str],
    pub required: bool,
}

/// One operation (a method on a path).
#[derive(Debug, Clone)]
pub struct Operation {
    /// `get`, `put`, `post`, `patch` or `delete`.
    pub method: &'static str,
    pub id: String,
    pub description: String,
    pub tag: String,
    /// `x-kubernetes-action`.
    pub action: Option<&'static str>,
    /// `x-kubernetes-group-version-kind`.
    pub gvk: Option<Gvk>,
    /// All parameters (the document hoists the shared ones to the path).
    pub params: Vec<Param>,
    pub body: Option<RequestBody>,
    /// Status codes with their schema names (none for 401).
    pub responses: Vec<(u16, Option<String>)>,
    /// Response media types.
    pub produces: &'static [&'static str],
    /// Request media types (Swagger 2.0's `consumes`).
    pub consumes: &'static [&'static str],
}

/// Operations by path.
pub type Paths = BTreeMap<String, Vec<Operation>>;

const PRETTY: &str = "If 'true', the response is indented for reading. Defaults to 'false', except for clients that look like command-line HTTP tools (curl, wget) or browsers.";
const DRY_RUN: &str = "When present, the request is processed but nothing is persisted. The only valid value is 'All' (every dry-run stage); any other value is rejected with an error.";
const FIELD_MANAGER: &str = "The name of the actor making the change, recorded in managedFields. At most 128 characters, all printable.";
const FIELD_MANAGER_PATCH: &str = "The name of the actor making the change, recorded in managedFields. At most 128 characters, all printable. Required for apply patches (application/apply-patch+yaml), optional for the other patch types (JSON patch, merge patch, strategic merge patch).";
const FIELD_VALIDATION: &str = "How the server treats unknown and duplicate fields in the request object (POST, PUT, PATCH): 'Ignore' drops unknown fields silently and keeps the last of duplicate fields; 'Warn' (the default) does the same but reports each one in a warning header; 'Strict' rejects the request (BadRequest for create and update, Invalid for patches) naming every unknown or duplicate field.";
const FORCE: &str = "Force an apply request: take over fields that other managers own instead of failing with a conflict. Must be unset for other patch types.";
const LABEL_SELECTOR: &str =
    "Only objects whose labels match this selector are returned. Defaults to everything.";
const FIELD_SELECTOR: &str =
    "Only objects whose fields match this selector are returned. Defaults to everything.";
const LIMIT: &str = "The maximum number of items to return. When more exist, the list metadata carries a continue token for the next chunk; fewer items (even none) may be returned, so only a missing continue token means the end. Together the chunks form a consistent snapshot as of the first request: objects created, changed or deleted later do not appear. Not supported with watch.";
const CONTINUE: &str = "The continue token of a previous chunked list response, to get the next chunk of the same query (only continue may differ). An expired token is answered with 410 ResourceExpired, carrying a new token that continues from the latest snapshot (inconsistently with the earlier chunks); a client needing a consistent list starts over. Not supported with watch: start a watch from the list's resourceVersion instead.";
const RESOURCE_VERSION: &str = "Constrains which resource versions the request may be served from; see https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions. Defaults to unset.";
const RESOURCE_VERSION_MATCH: &str = "How resourceVersion applies to a list: 'NotOlderThan' or 'Exact'. Recommended whenever resourceVersion is set on a list; see https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions. Defaults to unset.";
const SEND_INITIAL_EVENTS: &str = "With watch=true, the stream starts with synthetic ADDED events for the objects that exist, followed by a BOOKMARK event whose object carries the resourceVersion of that state and the annotation \"k8s.io/initial-events-end\": \"true\"; then changes follow as usual. Requires resourceVersionMatch=NotOlderThan: the initial state is at least as new as resourceVersion, or, when resourceVersion is unset, a consistent read as of the request. Defaults to true when resourceVersion is \"\" or \"0\", false otherwise.";
const SHARD_SELECTOR: &str = "Only objects in the given shard are returned: a CEL expression of shardRange(field, 'hexStart', 'hexEnd') terms joined by ||, over object.metadata.uid or object.metadata.namespace, where the range bounds (inclusive start, exclusive end, '0x' hex strings) are over the 64-bit FNV-1a hash of the field. Alpha: requires the ShardedListAndWatch feature gate.";
const TIMEOUT_SECONDS: &str =
    "A limit on the duration of the list or watch call, whatever the activity.";
const WATCH: &str = "Watch for changes to the described resources, returned as a stream of add, update and delete notifications. Use with resourceVersion.";
const ALLOW_WATCH_BOOKMARKS: &str = "Ask for BOOKMARK watch events. The server sends them at its discretion: clients may not assume any interval, nor that any is sent at all. Ignored outside a watch.";
const GRACE_PERIOD_SECONDS: &str = "Seconds to wait before the object is deleted: a non-negative integer, zero meaning immediately. Unset means the kind's default grace period.";
const IGNORE_STORE_READ_ERROR: &str = "If true, an object that cannot be read from storage (its data cannot be decrypted or decoded) is deleted anyway, skipping finalizers and precondition checks. Unsafe, and may break whatever relies on the normal deletion flow: meant only for objects known to be corrupt. Defaults to false.";
const ORPHAN_DEPENDENTS: &str = "Deprecated: use propagationPolicy. If true, the \"orphan\" finalizer is added to the object so that its dependents are orphaned; if false, it is removed. Cannot be set together with propagationPolicy.";
const PROPAGATION_POLICY: &str = "How garbage collection treats the dependents: 'Orphan' leaves them, 'Background' lets the garbage collector delete them in the background, 'Foreground' deletes them before the owner (cascading). Cannot be set together with orphanDependents; unset means the default given by the object's finalizers and its kind.";
const NAMESPACE: &str =
    "The namespace: the scope of object names and of authorization, such as a team or a project.";

fn list_params() -> Vec<Param> {
    vec![
        query("allowWatchBookmarks", "boolean", ALLOW_WATCH_BOOKMARKS),
        query("continue", "string", CONTINUE),
        query("fieldSelector", "string", FIELD_SELECTOR),
        query("labelSelector", "string", LABEL_SELECTOR),
        query("limit", "integer", LIMIT),
        query("resourceVersion", "string", RESOURCE_VERSION),
        query("resourceVersionMatch", "string", RESOURCE_VERSION_MATCH),
        query("sendInitialEvents", "boolean", SEND_INITIAL_EVENTS),
        query("shardSelector", "string", SHARD_SELECTOR),
        query("timeoutSeconds", "integer", TIMEOUT_SECONDS),
        query("watch", "boolean", WATCH),
    ]
}

fn delete_params() -> Vec<Param> {
    vec![
        query("dryRun", "string", DRY_RUN),
        query("gracePeriodSeconds", "integer", GRACE_PERIOD_SECONDS),
        query(
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            "boolean",
            IGNORE_STORE_READ_ERROR,
        ),
        query("orphanDependents", "boolean", ORPHAN_DEPENDENTS),
        query("propagationPolicy", "string", PROPAGATION_POLICY),
    ]
}

fn delete_collection_params() -> Vec<Param> {
    let mut params: Vec<Param> = list_params()
        .into_iter()
        .filter(|p| p.name != "watch" && p.name != "allowWatchBookmarks")
        .collect();
    params.extend(delete_params());
    params
}

fn write_params() -> Vec<Param> {
    vec![
        query("dryRun", "string", DRY_RUN),
        query("fieldManager", "string", FIELD_MANAGER),
        query("fieldValidation", "string", FIELD_VALIDATION),
    ]
}

fn patch_params() -> Vec<Param> {
    vec![
        query("dryRun", "string", DRY_RUN),
        query("fieldManager", "string", FIELD_MANAGER_PATCH),
        query("fieldValidation", "string", FIELD_VALIDATION),
        query("force", "boolean", FORCE),
    ]
}

/// Upstream's operation-id form of a path segment: letters, digits (not first) and `_`
/// are kept, any other character is dropped and capitalizes the next kept one.
pub fn to_operation_id(s: &str, capitalize_first: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut capitalize = capitalize_first;
    for (i, c) in s.chars().enumerate() {
        if c.is_alphabetic() || c == '_' || (i != 0 && c.is_numeric()) {
            if capitalize {
                out.extend(c.to_uppercase());
                capitalize = false;
            } else {
                out.push(c);
            }
        } else {
            capitalize = true;
        }
    }
    out
}

/// The group's part of operation ids and tags: `core` for the core group, the group
/// without `.k8s.io` otherwise.
fn group_part(group: &str) -> &str {
    if group.is_empty() {
        "core"
    } else {
        group.strip_suffix(".k8s.io").unwrap_or(group)
    }
}

/// The tag of a group-version's operations (`core_v1`, `rbacAuthorization_v1`).
pub fn gv_tag(group: &str, version: &str) -> String {
    format!(
        "{}_{}",
        to_operation_id(group_part(group), false),
        to_operation_id(version, false)
    )
}

/// The `<Group><Version>` infix of a group-version's operation ids (`CoreV1`).
fn gv_infix(group: &str, version: &str) -> String {
    format!(
        "{}{}",
        to_operation_id(group_part(group), true),
        to_operation_id(version, true)
    )
}

/// `/api/v1` or `/apis/<group>/<version>`.
pub fn gv_prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// The article upstream puts before a kind in "create a ConfigMap": none for plural-looking
/// kinds (`Endpoints`), "an" before a vowel.
fn article(kind: &str) -> &'static str {
    if kind.ends_with('s') && !kind.ends_with("ss") {
        " "
    } else if kind
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c))
    {
        " an "
    } else {
        " a "
    }
}

fn capitalize(s: &str) -> String {
    to_operation_id(s, true)
}

fn add(paths: &mut Paths, path: String, op: Operation) {
    paths.entry(path).or_default().push(op);
}

/// Adds the operations of one resource to `paths`.
pub fn add_resource(paths: &mut Paths, d: &ResourceDecl) {
    let kind = d.kind.as_str();
    let kind_schema = kind_schema_name(d);
    let list_schema = list_schema_name(d);
    let status = apimachinery::types::STATUS.name.to_string();
    let infix = gv_infix(&d.group, &d.version);
    let tag = gv_tag(&d.group, &d.version);
    let gvk = (d.group.clone(), d.version.clone(), d.kind.clone());
    let base = gv_prefix(&d.group, &d.version);
    let scope = if d.namespaced() { "Namespaced" } else { "" };
    let ns_segment = if d.namespaced() {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let collection = format!("{base}{ns_segment}/{}", d.plural);
    let item = format!("{collection}/{{name}}");
    let pretty = query("pretty", "string", PRETTY);
    let ns_param = d
        .namespaced()
        .then(|| path("namespace", NAMESPACE.to_string()));
    let name_param = path("name", format!("name of the {kind}"));

    let op = |method: &'static str,
              verb: &str,
              rest: String,
              description: String,
              action: &'static str,
              mut params: Vec<Param>,
              named: bool,
              scoped: bool| {
        params.push(pretty.clone());
        if scoped {
            params.extend(ns_param.clone());
        }
        if named {
            params.push(name_param.clone());
        }
        Operation {
            method,
            id: format!("{verb}{infix}{rest}"),
            description,
            tag: tag.clone(),
            action: Some(action),
            gvk: Some(gvk.clone()),
            params,
            body: None,
            responses: Vec::new(),
            produces: OBJECT_MEDIA,
            consumes: ANY_MEDIA,
        }
    };
    let object_body = || RequestBody {
        schema: kind_schema.clone(),
        media: ANY_MEDIA,
        required: true,
    };
    let delete_body = || RequestBody {
        schema: apimachinery::types::DELETE_OPTIONS.name.to_string(),
        media: ANY_MEDIA,
        required: false,
    };
    let patch_body = || RequestBody {
        schema: meta_types::PATCH.name.to_string(),
        media: PATCH_MEDIA,
        required: true,
    };
    let kind_resp = |codes: &[u16]| -> Vec<(u16, Option<String>)> {
        let mut r: Vec<_> = codes
            .iter()
            .map(|c| (*c, Some(kind_schema.clone())))
            .collect();
        r.push((401, None));
        r
    };
    let ns = d.namespaced();

    // The collection.
    if d.supports("list") {
        let mut o = op(
            "get",
            "list",
            format!("{scope}{kind}"),
            format!("list or watch objects of kind {kind}"),
            "list",
            list_params(),
            false,
            ns,
        );
        o.responses = vec![(200, Some(list_schema.clone())), (401, None)];
        o.produces = STREAM_MEDIA;
        add(paths, collection.clone(), o);
    }
    if d.supports("create") {
        let mut o = op(
            "post",
            "create",
            format!("{scope}{kind}"),
            format!("create{}{kind}", article(kind)),
            "post",
            write_params(),
            false,
            ns,
        );
        o.body = Some(object_body());
        o.responses = kind_resp(&[200, 201, 202]);
        add(paths, collection.clone(), o);
    }
    if d.supports("deletecollection") {
        let mut o = op(
            "delete",
            "delete",
            format!("Collection{scope}{kind}"),
            format!("delete collection of {kind}"),
            "deletecollection",
            delete_collection_params(),
            false,
            ns,
        );
        o.body = Some(delete_body());
        o.responses = vec![(200, Some(status.clone())), (401, None)];
        add(paths, collection.clone(), o);
    }

    // The item.
    if d.supports("get") {
        let mut o = op(
            "get",
            "read",
            format!("{scope}{kind}"),
            format!("read the specified {kind}"),
            "get",
            Vec::new(),
            true,
            ns,
        );
        o.responses = kind_resp(&[200]);
        add(paths, item.clone(), o);
    }
    if d.supports("update") {
        let mut o = op(
            "put",
            "replace",
            format!("{scope}{kind}"),
            format!("replace the specified {kind}"),
            "put",
            write_params(),
            true,
            ns,
        );
        o.body = Some(object_body());
        o.responses = kind_resp(&[200, 201]);
        add(paths, item.clone(), o);
    }
    if d.supports("patch") {
        let mut o = op(
            "patch",
            "patch",
            format!("{scope}{kind}"),
            format!("partially update the specified {kind}"),
            "patch",
            patch_params(),
            true,
            ns,
        );
        o.body = Some(patch_body());
        o.consumes = PATCH_MEDIA;
        o.responses = kind_resp(&[200, 201]);
        add(paths, item.clone(), o);
    }
    if d.supports("delete") {
        let mut o = op(
            "delete",
            "delete",
            format!("{scope}{kind}"),
            format!("delete{}{kind}", article(kind)),
            "delete",
            delete_params(),
            true,
            ns,
        );
        o.body = Some(delete_body());
        let returned = if d.strategy.return_deleted_object() {
            kind_schema.clone()
        } else {
            status.clone()
        };
        o.responses = vec![
            (200, Some(returned.clone())),
            (202, Some(returned)),
            (401, None),
        ];
        add(paths, item.clone(), o);
    }

    // Subresources, with the verbs their declarations give, in their own kinds.
    for sub in &d.subresources {
        let name = &sub.name;
        let sub_path = format!("{item}/{name}");
        let rest = format!("{scope}{kind}{}", capitalize(name));
        let sub_schema = sub
            .schema
            .as_ref()
            .map(|m| m.name.to_string())
            .unwrap_or_else(|| kind_schema.clone());
        let sub_gvk = sub.kind.clone().unwrap_or_else(|| gvk.clone());
        let sub_resp = |codes: &[u16]| -> Vec<(u16, Option<String>)> {
            let mut r: Vec<_> = codes
                .iter()
                .map(|c| (*c, Some(sub_schema.clone())))
                .collect();
            r.push((401, None));
            r
        };
        let sub_body = || RequestBody {
            schema: sub_schema.clone(),
            media: ANY_MEDIA,
            required: true,
        };
        if sub.connects() && sub.read_with_options {
            // Read with options (`pods/log`): a read of the resource's kind, answering text.
            let mut o = op(
                "get",
                "read",
                rest.clone(),
                format!("read {name} of the specified {kind}"),
                "get",
                options_params(sub.options.as_ref()),
                true,
                ns,
            );
            o.gvk = Some(sub_gvk.clone());
            o.produces = TEXT_MEDIA;
            o.responses = vec![(200, Some("string".to_string())), (401, None)];
            add(paths, sub_path.clone(), o);
            continue;
        }
        if sub.connects() {
            // Connect subresources: one operation per HTTP method their verbs map to,
            // with their options as query parameters, plus the `{path}` form of proxies.
            let paths_of = if name == "proxy" {
                vec![sub_path.clone(), format!("{sub_path}/{{path}}")]
            } else {
                vec![sub_path.clone()]
            };
            for (i, p) in paths_of.iter().enumerate() {
                for verb in &sub.verbs {
                    let (method, go_method) = match verb.as_str() {
                        "get" => ("get", "Get"),
                        "create" => ("post", "Post"),
                        "update" => ("put", "Put"),
                        "patch" => ("patch", "Patch"),
                        "delete" => ("delete", "Delete"),
                        _ => continue,
                    };
                    let with_path = if i == 1 { "WithPath" } else { "" };
                    let mut params = options_params(sub.options.as_ref());
                    if i == 1 {
                        params.push(path("path", "path to the resource".to_string()));
                    }
                    let mut o = op(
                        method,
                        "connect",
                        format!("{go_method}{rest}{with_path}"),
                        format!("connect {go_method} requests to {name} of {kind}"),
                        "connect",
                        params,
                        true,
                        ns,
                    );
                    // Connecters take no `pretty`: they answer what the backend sends.
                    o.params.retain(|p| p.name != "pretty");
                    o.gvk = Some(sub_gvk.clone());
                    o.produces = ANY_MEDIA;
                    o.responses = vec![(200, Some("string".to_string())), (401, None)];
                    add(paths, p.clone(), o);
                }
            }
            continue;
        }
        for verb in &sub.verbs {
            let sub = name;
            let mut o = match verb.as_str() {
                "get" => {
                    let mut o = op(
                        "get",
                        "read",
                        rest.clone(),
                        format!("read {sub} of the specified {kind}"),
                        "get",
                        Vec::new(),
                        true,
                        ns,
                    );
                    o.responses = sub_resp(&[200]);
                    o
                }
                "create" => {
                    let mut o = op(
                        "post",
                        "create",
                        rest.clone(),
                        format!("create {sub} of a {kind}"),
                        "post",
                        write_params(),
                        true,
                        ns,
                    );
                    o.body = Some(sub_body());
                    o.responses = sub_resp(&[200, 201, 202]);
                    o
                }
                "update" => {
                    let mut o = op(
                        "put",
                        "replace",
                        rest.clone(),
                        format!("replace {sub} of the specified {kind}"),
                        "put",
                        write_params(),
                        true,
                        ns,
                    );
                    o.body = Some(sub_body());
                    o.responses = sub_resp(&[200, 201]);
                    o
                }
                "patch" => {
                    let mut o = op(
                        "patch",
                        "patch",
                        rest.clone(),
                        format!("partially update {sub} of the specified {kind}"),
                        "patch",
                        patch_params(),
                        true,
                        ns,
                    );
                    o.body = Some(patch_body());
                    o.consumes = PATCH_MEDIA;
                    o.responses = sub_resp(&[200, 201]);
                    o
                }
                _ => continue,
            };
            o.gvk = Some(sub_gvk.clone());
            add(paths, sub_path.clone(), o);
        }
    }

    // Watch paths (deprecated upstream, still published and served).
    if d.supports("watch") {
        let watch_event = apimachinery::types::WATCH_EVENT.name.to_string();
        let watch_base = format!("{base}/watch{ns_segment}/{}", d.plural);
        let watch_op = |rest: String, description: String, action: &'static str, named, scoped| {
            let mut o = op(
                "get",
                "watch",
                rest,
                description,
                action,
                list_params(),
                named,
                scoped,
            );
            o.responses = vec![(200, Some(watch_event.clone())), (401, None)];
            o.produces = STREAM_MEDIA;
            o
        };
        add(
            paths,
            watch_base.clone(),
            watch_op(
                format!("{scope}{kind}List"),
                format!("watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list operation instead."),
                "watchlist",
                false,
                ns,
            ),
        );
        add(
            paths,
            format!("{watch_base}/{{name}}"),
            watch_op(
                format!("{scope}{kind}"),
                format!("watch changes to an object of kind {kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter."),
                "watch",
                true,
                ns,
            ),
        );
        if ns {
            add(
                paths,
                format!("{base}/watch/{}", d.plural),
                watch_op(
                    format!("{kind}ListForAllNamespaces"),
                    format!("watch individual changes to a list of {kind}. deprecated: use the 'watch' parameter with a list operation instead."),
                    "watchlist",
                    false,
                    false,
                ),
            );
        }
    }

    // Lists across all namespaces.
    if ns && d.supports("list") {
        let mut o = op(
            "get",
            "list",
            format!("{kind}ForAllNamespaces"),
            format!("list or watch objects of kind {kind}"),
            "list",
            list_params(),
            false,
            false,
        );
        o.responses = vec![(200, Some(list_schema)), (401, None)];
        o.produces = STREAM_MEDIA;
        add(paths, format!("{base}/{}", d.plural), o);
    }
}

fn discovery_op(
    id: String,
    description: &str,
    tag: String,
    schema: &str,
    media: &'static [&'static str],
) -> Operation {
    Operation {
        method: "get",
        id,
        description: description.to_string(),
        tag,
        action: None,
        gvk: None,
        params: Vec::new(),
        body: None,
        responses: vec![(200, Some(schema.to_string())), (401, None)],
        produces: media,
        consumes: media,
    }
}

/// `/api/v1/` or `/apis/<group>/<version>/`: the group-version's resource list.
pub fn add_group_version(paths: &mut Paths, group: &str, version: &str) {
    add(
        paths,
        format!("{}/", gv_prefix(group, version)),
        discovery_op(
            format!("get{}APIResources", gv_infix(group, version)),
            "get available resources",
            gv_tag(group, version),
            meta_types::API_RESOURCE_LIST.name,
            OBJECT_MEDIA,
        ),
    );
}

/// `/apis/<group>/`: the group's versions.
pub fn add_group(paths: &mut Paths, group: &str) {
    add(
        paths,
        format!("/apis/{group}/"),
        discovery_op(
            format!("get{}APIGroup", to_operation_id(group_part(group), true)),
            "get information of a group",
            to_operation_id(group_part(group), false),
            meta_types::API_GROUP.name,
            DISCOVERY_MEDIA,
        ),
    );
}

/// `/api/`: the core group's versions.
pub fn add_core_root(paths: &mut Paths) {
    add(
        paths,
        "/api/".to_string(),
        discovery_op(
            "getCoreAPIVersions".to_string(),
            "get available API versions",
            "core".to_string(),
            meta_types::API_VERSIONS.name,
            DISCOVERY_MEDIA,
        ),
    );
}

/// `/apis/`: the named groups.
pub fn add_apis_root(paths: &mut Paths) {
    add(
        paths,
        "/apis/".to_string(),
        discovery_op(
            "getAPIVersions".to_string(),
            "get available API versions",
            "apis".to_string(),
            meta_types::API_GROUP_LIST.name,
            DISCOVERY_MEDIA,
        ),
    );
}

/// `/version/`.
pub fn add_version(paths: &mut Paths) {
    add(
        paths,
        "/version/".to_string(),
        discovery_op(
            "getCodeVersion".to_string(),
            "get the version information for this server",
            "version".to_string(),
            meta_types::VERSION_INFO.name,
            JSON_MEDIA,
        ),
    );
}

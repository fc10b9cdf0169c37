//! The REST verbs of a resource (get, list, watch, create, update, patch, delete,
//! deletecollection), one generic implementation over [`Store`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use apimachinery::errors::{ApiError, FieldError, FieldPath};
use apimachinery::fieldvalidation::{self as fv, Directive, PatchFormat};
use apimachinery::typecheck::TypeError;
use apimachinery::{jsonpatch, strategicpatch};
use bytes::Bytes;
use http::{header, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use serde_json::{json, Map, Value};

use super::apply;
use super::negotiate::{negotiate, Target};
use super::options::{delete_options, PatchOptionsFor, WriteOptions};
use super::protobuf;
use super::render::{self, error_response, IncludeObject};
use super::warnings::Warnings;
use crate::body::{read_limited, Body, ReadBodyError};
use crate::registry::{
    list_options, managed, meta, DeleteOptions, DeleteOutcome, ListParams, RequestContext,
    ResourceDecl, Store, WatchOut,
};
use crate::request_info::{query_param, RequestInfo};

/// Settings the resource endpoints need from the server configuration.
#[derive(Clone)]
pub struct EndpointConfig {
    /// Largest request body accepted (upstream: 3 MiB).
    pub max_body_bytes: usize,
    /// Watches without `timeoutSeconds` end after a random time in [t, 2t).
    pub min_request_timeout: Duration,
    /// Becomes `true` when the server shuts down: open watches end cleanly.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

/// Serves one resource request for `store`, already authenticated and authorized.
pub async fn serve(
    store: Arc<Store>,
    info: &RequestInfo,
    ctx: RequestContext,
    req: Request<Body>,
    cfg: &EndpointConfig,
) -> Response<Body> {
    // Errors go out in protobuf too when the client asked for it first.
    let protobuf_errors = protobuf::request_response_schema(&req, &store.decl).is_some();
    // Warnings go out with the response, an error response included (as upstream's
    // recorder writes them as they come).
    let mut warnings = Warnings::default();
    if let Some(w) = &store.decl.warning {
        warnings.add(w);
    }
    let sink = ctx.warnings.clone();
    let mut resp = match serve_inner(store, info, ctx, req, cfg, &mut warnings).await {
        Ok(resp) => resp,
        Err(e) if protobuf_errors => protobuf::error_response(&e),
        Err(e) => error_response(&e),
    };
    for w in sink.take() {
        warnings.add(&w);
    }
    warnings.write_to(resp.headers_mut());
    resp
}

/// Whether the client wants indented JSON (`?pretty=true`, or a browser or curl).
fn wants_pretty(req: &Request<Body>) -> bool {
    if let Some(p) = query_param(req.uri().query(), "pretty") {
        return p == "true" || p == "1";
    }
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| {
            ["curl", "Wget", "Mozilla/"]
                .iter()
                .any(|p| ua.starts_with(p))
        })
}

async fn serve_inner(
    store: Arc<Store>,
    info: &RequestInfo,
    mut ctx: RequestContext,
    req: Request<Body>,
    cfg: &EndpointConfig,
    warnings: &mut Warnings,
) -> Result<Response<Body>, ApiError> {
    let decl = store.decl.clone();
    let query = req.uri().query().map(str::to_string);
    let query = query.as_deref();
    let pretty = wants_pretty(&req);
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let collection = info.name.is_empty();
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // Protobuf responses when the client lists protobuf first and the kind declares a type;
    // objects are then rendered as for JSON and encoded at the end. Watches stay JSON.
    let proto =
        protobuf::response_schema(accept.as_deref(), &decl).filter(|_| info.verb != "watch");
    let target = match proto {
        Some(_) => Target::Json,
        None => negotiate(
            accept.as_deref(),
            collection && info.verb != "deletecollection",
        )?,
    };
    // Every response below goes through this `respond`, which encodes protobuf when asked.
    let respond = |status: StatusCode, body: &Value, target: Target, pretty: bool| {
        proto
            .and_then(|_| protobuf::respond(status, &decl, body))
            .unwrap_or_else(|| render::respond(status, body, target, pretty))
    };
    let include = IncludeObject::from_query(query_param(query, "includeObject").as_deref())?;

    let namespace = scoped_namespace(&decl, info)?;
    if !info.subresource.is_empty() {
        let Some(sub) = decl.subresource(&info.subresource) else {
            return Err(ApiError::not_found_message(
                "the server could not find the requested resource",
            ));
        };
        // A verb the subresource does not serve has no route upstream: go-restful's 405.
        if !sub.verbs.contains(&info.verb) {
            return Err(ApiError::generic_server_response(
                405, "", "", "", "", "", 0, false,
            ));
        }
        if let Some(rest) = sub.rest.clone() {
            let sub = sub.clone();
            return super::subresource::serve(
                store,
                &sub,
                rest.as_ref(),
                info,
                &namespace,
                ctx,
                req,
                cfg,
                warnings,
                pretty,
            )
            .await;
        }
    }
    // A collection has no PUT or PATCH route upstream: go-restful's 405, as a Status.
    if collection && matches!(info.verb.as_str(), "update" | "patch") {
        return Err(ApiError::generic_server_response(
            405, "", "", "", "", "", 0, false,
        ));
    }
    // POST names a collection; on a named object only connect-style subresources take it.
    let misplaced_create = info.verb == "create" && !info.name.is_empty();
    if !decl.supports(&info.verb) || misplaced_create {
        return Err(ApiError::method_not_supported(
            &decl.group,
            &decl.plural,
            &info.verb,
        ));
    }

    match info.verb.as_str() {
        "get" => {
            // No resourceVersion reads storage; one is served from the watch cache, not
            // older than it asks (upstream's cacher); one that is not a resource version at
            // all is refused, as for lists.
            let rv = match query_param(query, "resourceVersion").filter(|v| !v.is_empty()) {
                Some(rv) => Some(list_options::parse_resource_version(&rv)?),
                None => None,
            };
            let obj = store.get_at(&namespace, &info.name, rv).await?;
            // GET of a subresource (`status`) shows the whole object, as upstream does.
            Ok(respond(
                StatusCode::OK,
                &render::render_object(&decl, obj, target, include),
                target,
                pretty,
            ))
        }
        "list" => {
            let params = ListParams::from_query(query)?;
            let out = store.list(&namespace, &params).await?;
            let mut list_meta = Map::new();
            list_meta.insert("resourceVersion".into(), json!(out.revision.to_string()));
            if let Some(c) = out.continue_token {
                list_meta.insert("continue".into(), json!(c));
            }
            if let Some(r) = out.remaining {
                list_meta.insert("remainingItemCount".into(), json!(r));
            }
            if let Some(resp) = proto.and_then(|_| {
                protobuf::list_response(&decl, &out.items, out.cached.as_deref(), &list_meta)
            }) {
                return Ok(resp);
            }
            let (body, content_type) = render::render_list(
                &decl,
                out.items,
                Value::Object(list_meta),
                target,
                include,
                pretty,
            )?;
            let mut resp = Response::new(body);
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(content_type),
            );
            Ok(resp)
        }
        "watch" => {
            let mut params = ListParams::from_query(query)?;
            if !info.name.is_empty() {
                // A watch of one object: `/watch/.../name` or a metadata.name field selector.
                let sel = format!("metadata.name={}", info.name);
                params.field_selector = Some(
                    apimachinery::selectors::FieldSelector::parse(&sel)
                        .map_err(|e| ApiError::bad_request(&e))?,
                );
            }
            let rx = store.watch(&namespace, &params).await?;
            Ok(watch_response(store, rx, &params, target, include, cfg))
        }
        "create" => {
            let (obj, opts) =
                read_object(req, &decl, cfg, query, BodyVerb::Create, warnings).await?;
            ctx.dry_run = opts.dry_run;
            ctx.field_manager = Some(managed::manager_from_request(
                &opts.field_manager,
                &user_agent,
            ));
            ctx.options = Some(opts.object);
            let created = store.create(&ctx, &namespace, obj).await?;
            Ok(respond(
                StatusCode::CREATED,
                &render::render_object(&decl, created, target, include),
                target,
                pretty,
            ))
        }
        "update" => {
            let (obj, opts) =
                read_object(req, &decl, cfg, query, BodyVerb::Update, warnings).await?;
            ctx.dry_run = opts.dry_run;
            ctx.field_manager = Some(managed::manager_from_request(
                &opts.field_manager,
                &user_agent,
            ));
            ctx.options = Some(opts.object);
            let (updated, created) = store
                .update(&ctx, &namespace, &info.name, &info.subresource, obj)
                .await?;
            let code = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(respond(
                code,
                &render::render_object(&decl, updated, target, include),
                target,
                pretty,
            ))
        }
        "patch" => {
            let content_type = patch_content_type(&req);
            if content_type == APPLY_YAML {
                let (body, opts) = apply::read_request(req, cfg, query, &mut ctx).await?;
                let request = apply::ApplyRequest::new(
                    &namespace,
                    &info.name,
                    &info.subresource,
                    &opts,
                    &body,
                );
                let applied = apply::apply(&store, &ctx, request).await?;
                for w in &applied.warnings {
                    warnings.add(w);
                }
                let code = if applied.created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                return Ok(respond(
                    code,
                    &render::render_object(&decl, applied.object, target, include),
                    target,
                    pretty,
                ));
            }
            let kind = PatchKind::from_content_type(&content_type)?;
            if kind == PatchKind::Strategic && decl.schema.is_none() {
                return Err(strategic_unsupported());
            }
            let body = read_body(req, cfg).await?;
            let opts = WriteOptions::for_patch(query, PatchOptionsFor::Other)?;
            ctx.dry_run = opts.dry_run;
            ctx.field_manager = Some(managed::manager_from_request(
                &opts.field_manager,
                &user_agent,
            ));
            ctx.options = Some(opts.object.clone());
            let patcher = super::cpu_bound(body.len() >= super::HEAVY_BODY_BYTES, || {
                Patcher::new(
                    kind,
                    decl.schema.clone(),
                    opts.field_validation,
                    &body,
                    cfg.max_body_bytes as u64,
                )
            })?;
            // Patching costs what the object and the patch make it: never on a worker.
            let apply = |current: &Value| super::cpu_bound(true, || patcher.apply(current));
            let result = store
                .patch(&ctx, &namespace, &info.name, &info.subresource, &apply)
                .await;
            for w in patcher.take_warnings() {
                warnings.add(&w);
            }
            let patched = result?;
            Ok(respond(
                StatusCode::OK,
                &render::render_object(&decl, patched, target, include),
                target,
                pretty,
            ))
        }
        "delete" => {
            if let Some(reason) = decl.strategy.forbid_delete(&info.name) {
                return Err(ApiError::forbidden(
                    &decl.group,
                    &decl.plural,
                    &info.name,
                    &reason,
                ));
            }
            let opts = read_delete_options(req, cfg, query).await?;
            ctx.dry_run = opts.dry_run;
            ctx.options = Some(opts.to_object());
            let outcome = store.delete(&ctx, &namespace, &info.name, &opts).await?;
            let body = match outcome {
                DeleteOutcome::Pending(obj) => render::render_object(&decl, obj, target, include),
                DeleteOutcome::Deleted(obj) if decl.strategy.return_deleted_object() => {
                    render::render_object(&decl, obj, target, include)
                }
                DeleteOutcome::Deleted(obj) => json!({
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": {
                        "name": meta::name(&obj),
                        "group": decl.group,
                        "kind": decl.plural,
                        "uid": meta::uid(&obj),
                    },
                }),
            };
            Ok(respond(StatusCode::OK, &body, target, pretty))
        }
        "deletecollection" => {
            let params = ListParams::from_query(query)?;
            let opts = read_delete_options(req, cfg, query).await?;
            ctx.dry_run = opts.dry_run;
            ctx.options = Some(opts.to_object());
            let listed = store.list(&namespace, &params).await?;
            let mut deleted = Vec::new();
            for wire in listed.items {
                let obj = render::parse_wire(&wire)?;
                let ns = meta::namespace(&obj).to_string();
                let name = meta::name(&obj).to_string();
                match store.delete(&ctx, &ns, &name, &opts).await {
                    Ok(DeleteOutcome::Deleted(o)) | Ok(DeleteOutcome::Pending(o)) => {
                        deleted.push(o)
                    }
                    Err(e) if e.code == 404 => {}
                    Err(e) => return Err(e),
                }
            }
            let list_meta = json!({"resourceVersion": listed.revision.to_string()});
            let body = render::render_list_value(&decl, deleted, list_meta, Target::Json, include);
            Ok(respond(StatusCode::OK, &body, Target::Json, pretty))
        }
        other => Err(ApiError::method_not_supported(
            &decl.group,
            &decl.plural,
            other,
        )),
    }
}

/// The media type of a PATCH body, lower-cased, without parameters.
pub(super) fn patch_content_type(req: &Request<Body>) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The namespace a request's object lives in, decided once from the declaration's scope
/// for every verb, as upstream's routes are: a cluster-scoped resource has no route under
/// `/namespaces/<namespace>/` (404), and its objects have no namespace; a namespaced
/// resource is reached without a namespace only to list or watch across all of them.
fn scoped_namespace(decl: &ResourceDecl, info: &RequestInfo) -> Result<String, ApiError> {
    if !decl.namespaced() {
        if info.namespaced_path {
            return Err(ApiError::not_found_message(
                "the server could not find the requested resource",
            ));
        }
        return Ok(String::new());
    }
    if info.namespace.is_empty() && !matches!(info.verb.as_str(), "list" | "watch") {
        return Err(ApiError::method_not_supported(
            &decl.group,
            &decl.plural,
            &info.verb,
        ));
    }
    Ok(info.namespace.clone())
}

pub(super) async fn read_body(req: Request<Body>, cfg: &EndpointConfig) -> Result<Bytes, ApiError> {
    read_limited(req.into_body(), cfg.max_body_bytes)
        .await
        .map_err(|e| match e {
            ReadBodyError::TooLarge(limit) => {
                ApiError::request_entity_too_large(&format!("limit is {limit}"))
            }
            ReadBodyError::Io(m) => ApiError::bad_request(&m),
        })
}

/// Which verb a body is read for: upstream's create handler checks the body's media type
/// before reading it and its options, the update handler after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyVerb {
    Create,
    Update,
}

/// Reads an object body (create and update): JSON, or protobuf for kinds that declare a type.
/// JSON bodies of declared kinds are decoded as upstream decodes them into the Go type:
/// unknown fields are dropped, and reported per `fieldValidation` (warnings, or a 400).
pub(super) async fn read_object(
    req: Request<Body>,
    decl: &ResourceDecl,
    cfg: &EndpointConfig,
    query: Option<&str>,
    verb: BodyVerb,
    warnings: &mut Warnings,
) -> Result<(Value, WriteOptions), ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let proto_schema = decl
        .schema
        .as_deref()
        .filter(|_| content_type == protobuf::PROTOBUF);
    let yaml = content_type == YAML;
    let supported = proto_schema.is_some()
        || yaml
        || matches!(content_type.as_str(), "application/json" | "" | "*/*");
    let unsupported = || match &decl.schema {
        Some(_) => ApiError::unsupported_media_type_accepted(&[
            BODY_TYPES[0],
            BODY_TYPES[1],
            protobuf::PROTOBUF,
        ]),
        None => ApiError::unsupported_media_type_accepted(&BODY_TYPES),
    };
    if !supported && verb == BodyVerb::Create {
        return Err(unsupported());
    }
    let body = read_body(req, cfg).await?;
    let opts = WriteOptions::from_query(
        query,
        match verb {
            BodyVerb::Create => "CreateOptions",
            BodyVerb::Update => "UpdateOptions",
        },
    )?;
    let directive = opts.field_validation;
    if !supported {
        return Err(unsupported());
    }
    let value = super::cpu_bound(body.len() >= super::HEAVY_BODY_BYTES, || {
        // YAML is turned into JSON first, then decoded (and field-validated) as JSON is.
        let json;
        let raw: &[u8] = &body;
        let mut yaml_errors = Vec::new();
        let body: &[u8] = if yaml {
            // A repeated key keeps its last value; strict decoding names it.
            let (value, repeated) = apimachinery::yaml::from_yaml_lenient(&body)
                .map_err(|e| ApiError::bad_request(&e.to_string()))?;
            yaml_errors = repeated;
            json = serde_json::to_vec(&value)
                .map_err(|e| ApiError::bad_request(&format!("error decoding request body: {e}")))?;
            &json
        } else {
            &body
        };
        let body = BodyBytes {
            json: body,
            raw,
            yaml_errors: &yaml_errors,
        };
        decode_object(decl, proto_schema, body, directive, warnings)
    })?;
    Ok((value, opts))
}

/// A create or update body (see [`read_object`]): `json` is JSON, `raw` the request's own
/// bytes (YAML, say), which a "the object provided is unrecognized" error quotes, and
/// `yaml_errors` the keys a YAML body repeated, as go-yaml's strict decoding names them.
struct BodyBytes<'a> {
    json: &'a [u8],
    raw: &'a [u8],
    yaml_errors: &'a [String],
}

/// Decodes a create or update body.
fn decode_object(
    decl: &ResourceDecl,
    proto_schema: Option<&apimachinery::schema::Message>,
    body: BodyBytes<'_>,
    directive: Directive,
    warnings: &mut Warnings,
) -> Result<Value, ApiError> {
    let BodyBytes {
        json: body,
        raw,
        yaml_errors,
    } = body;
    if let Some(schema) = proto_schema {
        return protobuf::decode_object(decl, schema, body);
    }
    let decode_error =
        |e: serde_json::Error| ApiError::bad_request(&format!("error decoding request body: {e}"));
    let value = match decl.schema.as_deref() {
        Some(schema) => {
            let decoded = fv::decode_typed(schema, body).map_err(decode_error)?;
            if let Some(e) = apimachinery::typecheck::type_error(schema, &decoded.value) {
                return Err(cannot_handle(decl, &decoded.value, raw, &e));
            }
            if (!decoded.errors.is_empty() || !yaml_errors.is_empty()) && directive.reports() {
                report_body_errors(decl, &decoded, yaml_errors, directive, warnings)?;
            }
            decoded.value
        }
        None => serde_json::from_slice(body).map_err(decode_error)?,
    };
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request was not a JSON object",
        ));
    }
    Ok(value)
}

/// Upstream's 400 for a body its decoder refused: `ConfigMap in version "v1" cannot be
/// handled as a ConfigMap: <error>`, naming the type the body gave (or the resource's);
/// when the body's `apiVersion` or `kind` cannot be read, `the object provided is
/// unrecognized (must be of type ConfigMap): <error> (<the body's first 30 bytes> ...)`.
fn cannot_handle(decl: &ResourceDecl, body: &Value, raw: &[u8], error: &TypeError) -> ApiError {
    if let TypeError::TypeMeta(_) = error {
        const SUMMARY: usize = 30;
        // Upstream's summary: an object's text, anything else in hex.
        let head = &raw[..raw.len().min(SUMMARY)];
        let mut summary = match raw.first() {
            None => "<empty>".to_string(),
            Some(b'{') => String::from_utf8_lossy(head).into_owned(),
            Some(_) => head.iter().map(|b| format!("{b:02x}")).collect(),
        };
        if raw.len() > SUMMARY {
            summary.push_str(" ...");
        }
        return ApiError::bad_request(&format!(
            "the object provided is unrecognized (must be of type {}): {error} ({summary})",
            decl.kind
        ));
    }
    let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or("");
    let (api_version, kind) = (field("apiVersion"), field("kind"));
    let version = api_version.rsplit('/').next().filter(|v| !v.is_empty());
    ApiError::bad_request(&format!(
        "{} in version {} cannot be handled as a {}: {error}",
        if kind.is_empty() { &decl.kind } else { kind },
        apimachinery::go_quote(version.unwrap_or(&decl.version)),
        decl.kind
    ))
}

/// Warns of, or (`Strict`) refuses, the unknown and duplicate fields of a create or update
/// body. A body naming another type is left to the type check, which refuses it.
fn report_body_errors(
    decl: &ResourceDecl,
    decoded: &fv::Decoded,
    yaml_errors: &[String],
    directive: Directive,
    warnings: &mut Warnings,
) -> Result<(), ApiError> {
    let field = |name: &str| {
        decoded
            .value
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (api_version, kind) = (field("apiVersion"), field("kind"));
    if (!api_version.is_empty() && api_version != decl.api_version())
        || (!kind.is_empty() && kind != decl.kind)
    {
        return Ok(());
    }
    // The YAML decoder's errors come first, as one (go-yaml's `unmarshal errors`).
    match directive {
        Directive::Strict => {
            let mut messages = Vec::new();
            if !yaml_errors.is_empty() {
                messages.push(format!(
                    "yaml: unmarshal errors:\n  {}",
                    yaml_errors.join("\n  ")
                ));
            }
            messages.extend(decoded.errors.iter().map(ToString::to_string));
            Err(fv::strict_body_error(
                if kind.is_empty() { &decl.kind } else { &kind },
                &decl.version,
                &decl.kind,
                &messages,
            ))
        }
        _ => {
            for e in yaml_errors {
                warnings.add(e);
            }
            for e in &decoded.errors {
                warnings.add(&e.to_string());
            }
            Ok(())
        }
    }
}

/// Applies a patch to the current object (possibly several times, on conflicts) the way
/// upstream's patchers do for declared kinds: the result is decoded into the type, so
/// unknown fields are dropped, and they and the patch body's duplicate fields are reported
/// per `fieldValidation`.
pub(super) struct Patcher {
    kind: PatchKind,
    schema: Option<apimachinery::schema::MessageRef>,
    directive: Directive,
    patch: Value,
    /// The operations of a JSON patch, decoded once (at most `jsonpatch::MAX_OPERATIONS`).
    json_ops: Vec<json_patch::PatchOperation>,
    /// Most bytes the `copy` operations of a JSON patch may add.
    max_copy_bytes: u64,
    /// Strict errors of the patch body itself, as upstream words them.
    body_errors: Vec<String>,
    /// Warnings of the attempts so far (`Warn`).
    warnings: Mutex<Vec<String>>,
}

impl Patcher {
    pub(super) fn new(
        kind: PatchKind,
        schema: Option<apimachinery::schema::MessageRef>,
        directive: Directive,
        body: &[u8],
        max_copy_bytes: u64,
    ) -> Result<Patcher, ApiError> {
        let decode_error =
            |e: serde_json::Error| ApiError::bad_request(&format!("error decoding patch: {e}"));
        let (patch, body_errors) = match schema.as_ref().filter(|_| directive.reports()) {
            Some(_) => {
                let decoded = match kind {
                    PatchKind::Json => fv::decode_json_patch(body),
                    PatchKind::Merge | PatchKind::Strategic => fv::decode_untyped(body),
                }
                .map_err(decode_error)?;
                let format = kind.format();
                let errors = decoded
                    .errors
                    .iter()
                    .map(|e| format.body_error(e))
                    .collect();
                (decoded.value, errors)
            }
            None => (
                serde_json::from_slice(body).map_err(decode_error)?,
                Vec::new(),
            ),
        };
        let json_ops = match kind {
            PatchKind::Json => jsonpatch::decode(&patch).map_err(|e| e.to_api_error())?,
            PatchKind::Merge | PatchKind::Strategic => Vec::new(),
        };
        Ok(Patcher {
            kind,
            schema,
            directive,
            patch,
            json_ops,
            max_copy_bytes,
            body_errors,
            warnings: Mutex::new(Vec::new()),
        })
    }

    /// Applies the patch alone, before the result is checked against the type.
    fn apply_patch(&self, current: &Value) -> Result<Value, ApiError> {
        match self.kind {
            PatchKind::Json => {
                let mut doc = current.clone();
                jsonpatch::apply(&mut doc, &self.json_ops, self.max_copy_bytes)
                    .map_err(|e| e.to_api_error())?;
                Ok(doc)
            }
            kind => kind.apply(current, &self.patch, self.schema.as_deref()),
        }
    }

    pub(super) fn apply(&self, current: &Value) -> Result<Value, ApiError> {
        let mut patched = self.apply_patch(current)?;
        // What is stored must read back: no deeper than a body can be.
        if jsonpatch::nesting_depth(&patched, jsonpatch::MAX_DEPTH) > jsonpatch::MAX_DEPTH {
            return Err(ApiError::unprocessable(&format!(
                "the server rejected our request due to an error in our request: the patched object nests deeper than {} levels",
                jsonpatch::MAX_DEPTH
            )));
        }
        let Some(schema) = self.schema.as_deref() else {
            return Ok(patched);
        };
        if let Some(e) = apimachinery::typecheck::type_error(schema, &patched) {
            // Upstream decodes the patched object into its type and answers a type error
            // as an invalid `patch` (a strategic merge patch words the error differently).
            let report =
                fv::patch_report(schema, self.kind.format(), current, &self.patch, &patched);
            return Err(ApiError::invalid(
                "",
                "",
                "",
                vec![FieldError::invalid(
                    &FieldPath::new("patch"),
                    Value::String(report.rendered),
                    &e.to_string(),
                )],
            ));
        }
        if !self.directive.reports() {
            fv::prune_unknown(schema, &mut patched);
            return Ok(patched);
        }
        let report = fv::patch_report(schema, self.kind.format(), current, &self.patch, &patched);
        fv::prune_unknown(schema, &mut patched);
        let mut errors = self.body_errors.clone();
        errors.extend(report.unknown);
        if errors.is_empty() {
            return Ok(patched);
        }
        if self.directive == Directive::Strict {
            return Err(fv::strict_patch_error(&report.rendered, &errors));
        }
        if let Ok(mut w) = self.warnings.lock() {
            w.extend(errors);
        }
        Ok(patched)
    }

    /// The warnings to send (each attempt's; repeats are dropped by [`Warnings`]).
    pub(super) fn take_warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }
}

/// The `DeleteOptions` of a delete or deletecollection: its body (JSON or protobuf) when it
/// has one, else its query string.
async fn read_delete_options(
    req: Request<Body>,
    cfg: &EndpointConfig,
    query: Option<&str>,
) -> Result<DeleteOptions, ApiError> {
    let is_protobuf = protobuf::is_protobuf_body(&req);
    let body = read_body(req, cfg).await?;
    let body_json =
        if is_protobuf && !body.is_empty() {
            Some(protobuf::decode_delete_options(&body)?)
        } else if body.iter().any(|b| !b.is_ascii_whitespace()) {
            Some(serde_json::from_slice(&body).map_err(|e| {
                ApiError::bad_request(&format!("error decoding DeleteOptions: {e}"))
            })?)
        } else {
            None
        };
    delete_options(query, body_json.as_ref())
}

/// Content types accepted for PATCH bodies, as upstream lists them.
const PATCH_TYPES: [&str; 4] = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    APPLY_YAML,
];

/// The media type of server-side apply (YAML or JSON bodies).
pub(super) const APPLY_YAML: &str = "application/apply-patch+yaml";

/// Content types accepted for create and update bodies.
const BODY_TYPES: [&str; 2] = ["application/json", YAML];

/// The YAML media type, accepted for create and update bodies.
const YAML: &str = "application/yaml";

/// The patch formats accepted by PATCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Json,
    Merge,
    /// Strategic merge patch ([`apimachinery::strategicpatch`]), driven by the kind's
    /// declared type; refused (415) for kinds that declare none, as upstream refuses it for
    /// custom resources.
    Strategic,
}

/// 415 for a strategic merge patch of a kind without a declared type: upstream's words for
/// custom resources, whose PATCH accepts every patch type but this one.
pub(super) fn strategic_unsupported() -> ApiError {
    // Upstream also lists apply for custom resources; kinds without a declared type cannot
    // be applied here yet (`endpoints::apply`), so it is not offered.
    ApiError::unsupported_media_type_accepted(&PATCH_TYPES[..2])
}

impl PatchKind {
    pub fn from_content_type(ct: &str) -> Result<PatchKind, ApiError> {
        match ct {
            "application/json-patch+json" => Ok(PatchKind::Json),
            "application/merge-patch+json" => Ok(PatchKind::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchKind::Strategic),
            _ => Err(ApiError::unsupported_media_type_accepted(&PATCH_TYPES)),
        }
    }

    /// How upstream's field validation treats this patch format.
    pub fn format(&self) -> PatchFormat {
        match self {
            PatchKind::Json => PatchFormat::Json,
            PatchKind::Merge => PatchFormat::Merge,
            PatchKind::Strategic => PatchFormat::Strategic,
        }
    }

    /// Applies `patch` to `current`; `schema` is the kind's declared type, which strategic
    /// merge patch needs. A JSON patch is bounded as [`jsonpatch`] says, its copies by
    /// [`JSON_PATCH_MAX_COPY_BYTES`] (requests use their server's body limit instead).
    pub fn apply(
        &self,
        current: &Value,
        patch: &Value,
        schema: Option<&apimachinery::schema::Message>,
    ) -> Result<Value, ApiError> {
        let mut doc = current.clone();
        match self {
            PatchKind::Json => {
                let ops = jsonpatch::decode(patch).map_err(|e| e.to_api_error())?;
                jsonpatch::apply(&mut doc, &ops, JSON_PATCH_MAX_COPY_BYTES)
                    .map_err(|e| e.to_api_error())?;
            }
            PatchKind::Merge => {
                if !patch.is_object() {
                    return Err(ApiError::bad_request("patch body must be a JSON object"));
                }
                json_patch::merge(&mut doc, patch);
            }
            PatchKind::Strategic => {
                let schema = schema.ok_or_else(strategic_unsupported)?;
                return strategicpatch::apply(current, patch, schema).map_err(|e| e.to_api_error());
            }
        }
        Ok(doc)
    }
}

/// Upstream's default `JSONPatchMaxCopyBytes`: 3 MiB, as its request body limit.
pub const JSON_PATCH_MAX_COPY_BYTES: u64 = 3 * 1024 * 1024;

/// Encodes one watch event as a JSON line.
fn encode_event(store: &Store, ev: WatchOut, target: Target, include: IncludeObject) -> Bytes {
    let decl = &store.decl;
    let type_name = ev.type_name();
    let object = match ev {
        WatchOut::Added(wire) | WatchOut::Modified(wire) | WatchOut::Deleted(wire) => {
            if matches!(target, Target::Json) {
                // The object's bytes as stored: nothing is serialized per watcher.
                let mut line = Vec::with_capacity(wire.len() + 32);
                line.extend_from_slice(b"{\"type\":\"");
                line.extend_from_slice(type_name.as_bytes());
                line.extend_from_slice(b"\",\"object\":");
                line.extend_from_slice(&wire);
                line.extend_from_slice(b"}\n");
                return Bytes::from(line);
            }
            match render::parse_wire(&wire) {
                Ok(o) => render::render_object(decl, o, target, include),
                Err(e) => e.to_status(),
            }
        }
        WatchOut::Bookmark(rv, initial_end) => {
            let mut m = json!({"resourceVersion": rv});
            if initial_end {
                m["annotations"] = json!({"k8s.io/initial-events-end": "true"});
            }
            json!({"kind": decl.kind, "apiVersion": decl.api_version(), "metadata": m})
        }
        WatchOut::Error(e) => e.to_status(),
    };
    let mut line =
        serde_json::to_vec(&json!({"type": type_name, "object": object})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

/// A streaming response of watch events, ended by `timeoutSeconds`, by the watch ending, or
/// by server shutdown.
fn watch_response(
    store: Arc<Store>,
    rx: crate::registry::watch::WatchReceiver,
    params: &ListParams,
    target: Target,
    include: IncludeObject,
    cfg: &EndpointConfig,
) -> Response<Body> {
    let timeout = match params.timeout_seconds {
        Some(s) => Duration::from_secs(s),
        None => {
            let base = cfg.min_request_timeout.as_secs_f64();
            let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as f64 / 1000.0;
            Duration::from_secs_f64(base * (1.0 + jitter))
        }
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let shutdown = cfg.shutdown.clone();
    let state = (rx, shutdown, store, false);
    let stream = futures::stream::unfold(
        state,
        move |(mut rx, mut shutdown, store, done)| async move {
            if done || *shutdown.borrow() {
                return None;
            }
            tokio::select! {
                ev = rx.recv() => {
                    let ev = ev?;
                    let is_error = matches!(ev, WatchOut::Error(_));
                    let bytes = encode_event(&store, ev, target, include);
                    Some((Ok::<_, crate::body::BodyError>(Frame::data(bytes)), (rx, shutdown, store, is_error)))
                }
                _ = tokio::time::sleep_until(deadline) => None,
                _ = shutdown.changed() => None,
            }
        },
    );
    let mut resp = Response::new(StreamBody::new(stream).boxed_unsync());
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(render::JSON),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache, private"),
    );
    resp
}

//! The verbs of a subresource served by REST storage of its own ([`SubresourceRest`]):
//! bodies are decoded and answers encoded as the subresource's kind; PUT, PATCH and apply
//! hand the storage what they make of the current object, with the write's manager
//! recorded in the subresource's `managedFields` (upstream's handlers run the field
//! manager on the subresource's object); a connect subresource takes the request as it
//! came.

use std::sync::Arc;

use apimachinery::errors::ApiError;
use http::{header, Request, Response, StatusCode};
use serde_json::Value;

use super::apply;
use super::negotiate::{negotiate, Target};
use super::options::{PatchOptionsFor, WriteOptions};
use super::protobuf;
use super::render::{self, IncludeObject};
use super::resource::{
    patch_content_type, read_body, read_object, strategic_unsupported, BodyVerb, EndpointConfig,
    PatchKind, Patcher, APPLY_YAML,
};
use super::warnings::Warnings;
use crate::body::Body;
use crate::registry::store::check_type_meta;
use crate::registry::{
    managed, meta, ConnectRequest, RequestContext, Store, Subresource, SubresourceRest,
};
use crate::request_info::{query_param, RequestInfo};

/// Serves `info.verb` of subresource `sub` (already checked to be declared) through `rest`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn serve(
    store: Arc<Store>,
    sub: &Subresource,
    rest: &dyn SubresourceRest,
    info: &RequestInfo,
    namespace: &str,
    mut ctx: RequestContext,
    req: Request<Body>,
    cfg: &EndpointConfig,
    warnings: &mut Warnings,
    pretty: bool,
) -> Result<Response<Body>, ApiError> {
    if rest.connects() {
        let (parts, body) = req.into_parts();
        let path = info
            .parts
            .get(3..)
            .filter(|rest| !rest.is_empty())
            .map(|rest| format!("/{}", rest.join("/")))
            .unwrap_or_default();
        let query = parts.uri.query().map(str::to_string);
        if !sub.read_with_options {
            super::connect_options::admit(
                &store,
                sub,
                &ctx,
                namespace,
                &info.name,
                query.as_deref(),
                &path,
            )
            .await?;
        }
        let connect = ConnectRequest {
            method: parts.method,
            path,
            query,
            headers: parts.headers,
            body,
        };
        return rest
            .connect(&store, &ctx, namespace, &info.name, connect)
            .await;
    }
    let decl = store.decl.for_subresource(sub);
    let query = req.uri().query().map(str::to_string);
    let query = query.as_deref();
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let proto = protobuf::response_schema(accept.as_deref(), &decl).is_some();
    let target = if proto {
        Target::Json
    } else {
        negotiate(accept.as_deref(), false)?
    };
    let include = IncludeObject::from_query(query_param(query, "includeObject").as_deref())?;
    let respond = |status: StatusCode, body: Value| {
        let body = render::render_object(&decl, body, target, include);
        proto
            .then(|| protobuf::respond(status, &decl, &body))
            .flatten()
            .unwrap_or_else(|| render::respond(status, &body, target, pretty))
    };
    match info.verb.as_str() {
        "get" => {
            let obj = rest.get(&store, namespace, &info.name).await?;
            Ok(respond(StatusCode::OK, obj))
        }
        "create" => {
            let (mut obj, opts) =
                read_object(req, &decl, cfg, query, BodyVerb::Create, warnings).await?;
            check_type_meta(&mut obj, &decl.api_version(), &decl.kind)?;
            ctx.dry_run = opts.dry_run;
            ctx.options = Some(opts.object);
            let created = rest
                .create(&store, &ctx, namespace, &info.name, obj)
                .await?;
            let code = StatusCode::from_u16(created.code).unwrap_or(StatusCode::CREATED);
            Ok(respond(code, created.body))
        }
        "update" => {
            let manager = manager_of(&req, query);
            let (mut obj, opts) =
                read_object(req, &decl, cfg, query, BodyVerb::Update, warnings).await?;
            check_type_meta(&mut obj, &decl.api_version(), &decl.kind)?;
            ctx.dry_run = opts.dry_run;
            ctx.options = Some(opts.object);
            let fm = managed::field_manager(&decl, &sub.name);
            let now = apimachinery::time::now_rfc3339();
            let updated = |current: &Value| {
                let mut new = obj.clone();
                if let Some(fm) = &fm {
                    fm.update(Some(current), &mut new, &manager, &now);
                }
                Ok(new)
            };
            let updated = rest
                .update(&store, &ctx, namespace, &info.name, &updated)
                .await?;
            Ok(respond(StatusCode::OK, updated))
        }
        "patch" => {
            let content_type = patch_content_type(&req);
            if content_type == APPLY_YAML {
                let (body, opts) = apply::read_request(req, cfg, query, &mut ctx).await?;
                let request =
                    apply::ApplyRequest::new(namespace, &info.name, &sub.name, &opts, &body);
                let merger = apply::Merger::new(&decl, None, &request)?;
                let merge = |current: &Value| merger.merge(current);
                let applied = rest
                    .update(&store, &ctx, namespace, &info.name, &merge)
                    .await?;
                for w in merger.warnings() {
                    warnings.add(&w);
                }
                return Ok(respond(StatusCode::OK, applied));
            }
            let manager = manager_of(&req, query);
            let kind = PatchKind::from_content_type(&content_type)?;
            if kind == PatchKind::Strategic && decl.schema.is_none() {
                return Err(strategic_unsupported());
            }
            let body = read_body(req, cfg).await?;
            let opts = WriteOptions::for_patch(query, PatchOptionsFor::Other)?;
            ctx.dry_run = opts.dry_run;
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
            let fm = managed::field_manager(&decl, &sub.name);
            let now = apimachinery::time::now_rfc3339();
            let updated = |current: &Value| {
                let mut patched = super::cpu_bound(true, || patcher.apply(current))?;
                // A patch that names no resourceVersion writes at the one it was made on.
                if meta::resource_version(&patched).is_empty() {
                    let rv = meta::resource_version(current).to_string();
                    meta::set_meta(&mut patched, "resourceVersion", Some(Value::from(rv)));
                }
                if let Some(fm) = &fm {
                    fm.update(Some(current), &mut patched, &manager, &now);
                }
                Ok(patched)
            };
            let result = rest
                .update(&store, &ctx, namespace, &info.name, &updated)
                .await;
            for w in patcher.take_warnings() {
                warnings.add(&w);
            }
            Ok(respond(StatusCode::OK, result?))
        }
        _ => Err(ApiError::method_not_supported(
            &store.decl.group,
            &store.decl.plural,
            &info.verb,
        )),
    }
}

/// The manager of a PUT or PATCH: `fieldManager`, else the client's User-Agent.
fn manager_of(req: &Request<Body>, query: Option<&str>) -> String {
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let field_manager = query_param(query, "fieldManager").unwrap_or_default();
    managed::manager_from_request(&field_manager, user_agent)
}

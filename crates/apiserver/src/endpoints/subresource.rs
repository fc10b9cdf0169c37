//! The verbs of a subresource served by REST storage of its own ([`SubresourceRest`]):
//! bodies are decoded and answers encoded as the subresource's kind, a PATCH is a GET,
//! the patch and an UPDATE, and a connect subresource takes the request as it came.

use std::sync::Arc;

use apimachinery::errors::ApiError;
use http::{header, Request, Response, StatusCode};
use serde_json::Value;

use super::negotiate::{negotiate, Target};
use super::options::WriteOptions;
use super::protobuf;
use super::render::{self, IncludeObject};
use super::resource::{
    patch_content_type, read_body, read_object, strategic_unsupported, BodyVerb, EndpointConfig,
    PatchKind, Patcher,
};
use super::warnings::Warnings;
use crate::body::Body;
use crate::registry::store::check_type_meta;
use crate::registry::{meta, ConnectRequest, RequestContext, Store, Subresource, SubresourceRest};
use crate::request_info::{query_param, RequestInfo};

/// Conflicts a subresource PATCH retries before giving up.
const PATCH_RETRIES: usize = 8;

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
            let (mut obj, opts) =
                read_object(req, &decl, cfg, query, BodyVerb::Update, warnings).await?;
            check_type_meta(&mut obj, &decl.api_version(), &decl.kind)?;
            ctx.dry_run = opts.dry_run;
            ctx.options = Some(opts.object);
            let updated = rest
                .update(&store, &ctx, namespace, &info.name, obj)
                .await?;
            Ok(respond(StatusCode::OK, updated))
        }
        "patch" => {
            let kind = PatchKind::from_content_type(&patch_content_type(&req))?;
            if kind == PatchKind::Strategic && decl.schema.is_none() {
                return Err(strategic_unsupported());
            }
            let body = read_body(req, cfg).await?;
            let opts = WriteOptions::from_query(query, "PatchOptions")?;
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
            let result = patch(&store, rest, &ctx, namespace, &info.name, &patcher).await;
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

/// A PATCH of a subresource: the current object, patched, written back at the revision it
/// was read at; a conflict is retried unless the patch itself names a resourceVersion.
async fn patch(
    store: &Store,
    rest: &dyn SubresourceRest,
    ctx: &RequestContext,
    namespace: &str,
    name: &str,
    patcher: &Patcher,
) -> Result<Value, ApiError> {
    let mut last = None;
    for _ in 0..PATCH_RETRIES {
        let current = rest.get(store, namespace, name).await?;
        let current_rv = meta::resource_version(&current).to_string();
        let mut patched = super::cpu_bound(true, || patcher.apply(&current))?;
        let rv = meta::resource_version(&patched).to_string();
        let pinned = !rv.is_empty() && rv != current_rv;
        if rv.is_empty() {
            meta::set_meta(
                &mut patched,
                "resourceVersion",
                Some(Value::from(current_rv)),
            );
        }
        match rest.update(store, ctx, namespace, name, patched).await {
            Err(e) if e.code == 409 && !pinned => last = Some(e),
            other => return other,
        }
    }
    Err(last.unwrap_or_else(|| ApiError::internal("patch retries exhausted")))
}

//! Server-side apply: `PATCH` with `application/apply-patch+yaml` (YAML or JSON). The
//! configuration is merged into the live object by the kind's type model
//! (`managedfields`), then written through the Store's generic patch path (strategy,
//! validation, admission); an object that does not exist is created through the generic
//! create path.

use apimachinery::errors::{ApiError, StatusCause};
use managedfields::manager::ApplyError;
use managedfields::FieldManager;
use serde_json::Value;

use crate::registry::{managed, meta, RequestContext, ResourceDecl, Store};

/// The options of one apply.
pub struct ApplyRequest<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub subresource: &'a str,
    pub manager: &'a str,
    pub force: bool,
    pub body: &'a [u8],
}

/// What an apply did: the object and whether it was created.
pub struct Applied {
    pub object: Value,
    pub created: bool,
}

/// Turns a failed apply into the client's `Status`.
fn apply_error(e: ApplyError) -> ApiError {
    match e {
        ApplyError::BadRequest(m) => ApiError::bad_request(&m),
        ApplyError::Decode(_) => ApiError::internal(&e.to_string()),
        ApplyError::Conflicts(ref conflicts) => {
            let causes = conflicts
                .iter()
                .map(|c| StatusCause {
                    reason: "FieldManagerConflict".into(),
                    message: format!("conflict with {}", c.manager.describe()),
                    field: c.path.to_string(),
                })
                .collect();
            ApiError::apply_conflict(causes, &e.to_string())
        }
    }
}

/// Reads the configuration: YAML (JSON is YAML) that must be an object.
fn decode_config(
    decl: &ResourceDecl,
    body: &[u8],
    req: &ApplyRequest<'_>,
) -> Result<Value, ApiError> {
    let mut config = apimachinery::yaml::from_yaml(body)
        .map_err(|e| ApiError::bad_request(&format!("error decoding YAML: {e}")))?;
    if !config.is_object() {
        return Err(ApiError::bad_request(
            "error decoding YAML: the apply configuration must be an object",
        ));
    }
    if let Some(schema) = decl.schema.as_deref() {
        let unknown = apimachinery::fieldvalidation::prune_unknown(schema, &mut config);
        if let Some(first) = unknown.first() {
            // Upstream's typed conversion of the configuration fails: a plain error, which
            // its handlers answer as a 500 with no reason.
            let gv = config
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            let (g, v) = gv.rsplit_once('/').unwrap_or(("", gv));
            let kind = config.get("kind").and_then(Value::as_str).unwrap_or("");
            return Err(ApiError::new(
                500,
                "",
                &format!(
                    "failed to create typed patch object ({}/{}; {g}/{v}, Kind={kind}): .{first}: field not declared in schema",
                    req.namespace, req.name
                ),
            ));
        }
    }
    Ok(config)
}

/// Applies `req` to `store`.
pub async fn apply(
    store: &Store,
    ctx: &RequestContext,
    req: ApplyRequest<'_>,
) -> Result<Applied, ApiError> {
    let decl = &store.decl;
    let Some(fm) = managed::field_manager(decl, req.subresource) else {
        return Err(ApiError::unsupported_media_type_accepted(&[
            "application/json-patch+json",
            "application/merge-patch+json",
        ]));
    };
    let config = decode_config(decl, req.body, &req)?;
    let now = apimachinery::time::now_rfc3339();
    // The closure leaves managedFields set: the Store must not track this write again.
    let ctx = RequestContext {
        field_manager: None,
        ..ctx.clone()
    };
    let merge = |current: &Value| -> Result<Value, ApiError> {
        super::cpu_bound(true, || {
            fm.apply(Some(current), &config, req.manager, req.force, &now)
                .map_err(apply_error)
        })
    };
    match store
        .patch(&ctx, req.namespace, req.name, req.subresource, &merge)
        .await
    {
        Ok(object) => Ok(Applied {
            object,
            created: false,
        }),
        Err(e) if e.code == 404 && req.subresource.is_empty() && e.reason == "NotFound" => {
            create(store, &ctx, &fm, &config, &req, &now).await
        }
        Err(e) => Err(e),
    }
}

/// An apply to an object that does not exist: the configuration, owned by its applier,
/// created through the generic create path.
async fn create(
    store: &Store,
    ctx: &RequestContext,
    fm: &FieldManager,
    config: &Value,
    req: &ApplyRequest<'_>,
    now: &str,
) -> Result<Applied, ApiError> {
    let mut object = fm
        .apply(None, config, req.manager, req.force, now)
        .map_err(apply_error)?;
    let body_name = meta::name(&object).to_string();
    if body_name != req.name {
        return Err(ApiError::bad_request(&format!(
            "the name of the object ({body_name}) does not match the name on the URL ({})",
            req.name
        )));
    }
    meta::set_meta(&mut object, "resourceVersion", None);
    let object = store.create(ctx, req.namespace, object).await?;
    Ok(Applied {
        object,
        created: true,
    })
}

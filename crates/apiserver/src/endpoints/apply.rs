//! Server-side apply: `PATCH` with `application/apply-patch+yaml` (YAML or JSON). The
//! configuration is merged into the live object by the kind's type model
//! (`managedfields`), then written through the Store's generic patch path (strategy,
//! validation, admission); an object that does not exist is created through the generic
//! create path.

use apimachinery::errors::{ApiError, StatusCause};
use apimachinery::fieldvalidation::Directive;
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
    /// `fieldValidation`: what becomes of keys the configuration repeats.
    pub field_validation: Directive,
}

/// What an apply did: the object, whether it was created, and the warnings for the
/// response.
pub struct Applied {
    pub object: Value,
    pub created: bool,
    pub warnings: Vec<String>,
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

/// An applied configuration, read as upstream reads it: leniently (a repeated key keeps
/// its last value), the repeated keys kept for `fieldValidation`.
pub(super) struct Config {
    pub value: Value,
    /// The repeated keys, as go-yaml's strict decoding words them.
    duplicates: Vec<String>,
    directive: Directive,
}

impl Config {
    /// Upstream checks the configuration strictly once the apply succeeded: under
    /// `Strict`, repeated keys fail it.
    fn check_strict(&self) -> Result<(), ApiError> {
        if self.directive != Directive::Strict || self.duplicates.is_empty() {
            return Ok(());
        }
        Err(ApiError::bad_request(&format!(
            "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  {}",
            self.duplicates.join("\n  ")
        )))
    }

    /// The warnings of a successful apply: under `Warn` (the default), one per repeated
    /// key.
    pub(super) fn warnings(&self) -> Vec<String> {
        match self.directive {
            Directive::Warn => self.duplicates.clone(),
            _ => Vec::new(),
        }
    }
}

/// Reads the configuration: YAML (JSON is YAML) that must be an object, with only fields
/// the kind declares.
pub(super) fn decode_config(
    decl: &ResourceDecl,
    req: &ApplyRequest<'_>,
) -> Result<Config, ApiError> {
    let (mut config, duplicates) = apimachinery::yaml::from_yaml_lenient(req.body)
        .map_err(|e| ApiError::bad_request(&format!("error decoding YAML: {e}")))?;
    if !config.is_object() {
        return Err(ApiError::bad_request(
            "error decoding YAML: the apply configuration must be an object",
        ));
    }
    // A configuration of another kind is the field manager's to refuse (upstream checks
    // the kind before converting the configuration to its type).
    let s = |k: &str| config.get(k).and_then(Value::as_str).unwrap_or("");
    let own_kind = s("apiVersion") == decl.api_version() && s("kind") == decl.kind;
    if let Some(schema) = decl.schema.as_deref().filter(|_| own_kind) {
        let unknown = apimachinery::fieldvalidation::prune_unknown(schema, &mut config);
        if let Some(first) = unknown.first() {
            // Upstream's typed conversion of the configuration fails, whatever
            // `fieldValidation` says: a plain error, which its handlers answer as a 500
            // with no reason.
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
    Ok(Config {
        value: config,
        duplicates,
        directive: req.field_validation,
    })
}

/// The field manager of the applied endpoint; kinds without a declared type cannot be
/// applied (415).
fn field_manager(decl: &ResourceDecl, subresource: &str) -> Result<FieldManager, ApiError> {
    managed::field_manager(decl, subresource).ok_or_else(|| {
        ApiError::unsupported_media_type_accepted(&[
            "application/json-patch+json",
            "application/merge-patch+json",
        ])
    })
}

/// What an apply makes of the current object (`decl` is the applied endpoint's: a
/// subresource's own kind for `*/scale`), and the configuration it applies.
pub(super) fn merger<'a>(
    decl: &ResourceDecl,
    req: &'a ApplyRequest<'a>,
) -> Result<
    (
        impl Fn(&Value) -> Result<Value, ApiError> + Send + Sync + 'a,
        Config,
    ),
    ApiError,
> {
    let fm = field_manager(decl, req.subresource)?;
    let config = decode_config(decl, req)?;
    let now = apimachinery::time::now_rfc3339();
    let value = config.value.clone();
    let strict = Config {
        value: Value::Null,
        duplicates: config.duplicates.clone(),
        directive: config.directive,
    };
    let merge = move |current: &Value| -> Result<Value, ApiError> {
        let merged = super::cpu_bound(true, || {
            fm.apply(Some(current), &value, req.manager, req.force, &now)
                .map_err(apply_error)
        })?;
        strict.check_strict()?;
        Ok(merged)
    };
    Ok((merge, config))
}

/// Applies `req` to `store`.
pub async fn apply(
    store: &Store,
    ctx: &RequestContext,
    req: ApplyRequest<'_>,
) -> Result<Applied, ApiError> {
    let decl = &store.decl;
    let (merge, config) = merger(decl, &req)?;
    // The closure leaves managedFields set: the Store must not track this write again.
    let ctx = RequestContext {
        field_manager: None,
        ..ctx.clone()
    };
    match store
        .patch(&ctx, req.namespace, req.name, req.subresource, &merge)
        .await
    {
        Ok(object) => Ok(Applied {
            object,
            created: false,
            warnings: config.warnings(),
        }),
        Err(e) if e.code == 404 && req.subresource.is_empty() && e.reason == "NotFound" => {
            let fm = field_manager(decl, req.subresource)?;
            let now = apimachinery::time::now_rfc3339();
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
    config: &Config,
    req: &ApplyRequest<'_>,
    now: &str,
) -> Result<Applied, ApiError> {
    let mut object = fm
        .apply(None, &config.value, req.manager, req.force, now)
        .map_err(apply_error)?;
    config.check_strict()?;
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
        warnings: config.warnings(),
    })
}

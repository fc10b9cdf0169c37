//! Server-side apply: `PATCH` with `application/apply-patch+yaml` (YAML or JSON). The
//! configuration is merged into the live object by the kind's type model
//! (`managedfields`), then written through the Store's generic patch path (strategy,
//! validation, admission); an object that does not exist is created through the generic
//! create path.

use apimachinery::errors::{ApiError, StatusCause};
use apimachinery::fieldvalidation::Directive;
use bytes::Bytes;
use http::Request;
use managedfields::manager::ApplyError;
use managedfields::{FieldManager, VersionConverter};
use serde_json::Value;
use std::sync::Arc;

use super::options::{PatchOptionsFor, WriteOptions};
use super::resource::EndpointConfig;
use crate::body::Body;
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

impl<'a> ApplyRequest<'a> {
    /// An apply of `body` to `name` (through `subresource`) with the request's options.
    pub fn new(
        namespace: &'a str,
        name: &'a str,
        subresource: &'a str,
        opts: &'a WriteOptions,
        body: &'a [u8],
    ) -> Self {
        ApplyRequest {
            namespace,
            name,
            subresource,
            manager: &opts.field_manager,
            force: opts.force,
            body,
            field_validation: opts.field_validation,
        }
    }
}

/// Reads an apply request: its body and its options, which `ctx` is given (dry run, the
/// options object for admission).
pub(super) async fn read_request(
    req: Request<Body>,
    cfg: &EndpointConfig,
    query: Option<&str>,
    ctx: &mut RequestContext,
) -> Result<(Bytes, WriteOptions), ApiError> {
    let body = super::resource::read_body(req, cfg).await?;
    let opts = WriteOptions::for_patch(query, PatchOptionsFor::Apply)?;
    ctx.dry_run = opts.dry_run;
    ctx.options = Some(opts.object.clone());
    Ok((body, opts))
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
struct Config {
    value: Value,
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
    fn warnings(&self) -> Vec<String> {
        match self.directive {
            Directive::Warn => self.duplicates.clone(),
            _ => Vec::new(),
        }
    }
}

/// Reads the configuration: YAML (JSON is YAML) that must be an object, with only fields
/// the kind declares.
fn decode_config(decl: &ResourceDecl, req: &ApplyRequest<'_>) -> Result<Config, ApiError> {
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
fn field_manager(
    decl: &ResourceDecl,
    subresource: &str,
    converter: Option<Arc<dyn VersionConverter>>,
) -> Result<FieldManager, ApiError> {
    managed::field_manager_with(decl, subresource, converter).ok_or_else(|| {
        ApiError::unsupported_media_type_accepted(&[
            "application/json-patch+json",
            "application/merge-patch+json",
        ])
    })
}

/// What an apply makes of the current object: the applied endpoint's field manager (a
/// subresource's own kind for `*/scale`) and the configuration it applies.
pub(super) struct Merger<'a> {
    fm: FieldManager,
    config: Config,
    req: &'a ApplyRequest<'a>,
    now: String,
}

impl<'a> Merger<'a> {
    /// The merger of an apply to `decl` (`converter`: the kind's other versions, see
    /// `Store::version_converter`).
    pub(super) fn new(
        decl: &ResourceDecl,
        converter: Option<Arc<dyn VersionConverter>>,
        req: &'a ApplyRequest<'a>,
    ) -> Result<Self, ApiError> {
        Ok(Merger {
            fm: field_manager(decl, req.subresource, converter)?,
            config: decode_config(decl, req)?,
            req,
            now: apimachinery::time::now_rfc3339(),
        })
    }

    /// The configuration merged into `current`, with its managers.
    pub(super) fn merge(&self, current: &Value) -> Result<Value, ApiError> {
        let req = self.req;
        let merged = super::cpu_bound(true, || {
            self.fm
                .apply(
                    Some(current),
                    &self.config.value,
                    req.manager,
                    req.force,
                    &self.now,
                )
                .map_err(apply_error)
        })?;
        self.config.check_strict()?;
        Ok(merged)
    }

    /// The warnings of the apply, once it succeeded.
    pub(super) fn warnings(&self) -> Vec<String> {
        self.config.warnings()
    }
}

/// Applies `req` to `store`.
pub async fn apply(
    store: &Store,
    ctx: &RequestContext,
    req: ApplyRequest<'_>,
) -> Result<Applied, ApiError> {
    let merger = Merger::new(&store.decl, store.version_converter(), &req)?;
    // The closure leaves managedFields set: the Store must not track this write again.
    let ctx = RequestContext {
        field_manager: None,
        ..ctx.clone()
    };
    match store
        .patch(
            &ctx,
            req.namespace,
            req.name,
            req.subresource,
            &|current: &Value| merger.merge(current),
        )
        .await
    {
        Ok(object) => Ok(Applied {
            object,
            created: false,
            warnings: merger.warnings(),
        }),
        Err(e) if e.code == 404 && req.subresource.is_empty() && e.reason == "NotFound" => {
            create(store, &ctx, &merger, &req).await
        }
        Err(e) => Err(e),
    }
}

/// An apply to an object that does not exist: the configuration, owned by its applier,
/// created through the generic create path.
async fn create(
    store: &Store,
    ctx: &RequestContext,
    merger: &Merger<'_>,
    req: &ApplyRequest<'_>,
) -> Result<Applied, ApiError> {
    let config = &merger.config;
    let mut object = merger
        .fm
        .apply(None, &config.value, req.manager, req.force, &merger.now)
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

//! One stored resource served at several versions (upstream's hub conversion): a resource
//! is stored once, at its storage version (one key prefix, one `Store`, one watch cache),
//! and each other version it is served at is a [`Store`] view over that store, which
//! converts on the way in and out.
//!
//! The hub is the storage version's JSON form: strategies (defaults, validation, status
//! rules) run on it, so field paths in errors name the hub's fields, as upstream's name its
//! internal version's. A served version contributes its own facts through its declaration
//! (schema for decoding and patching, table columns, kind and apiVersion) and a
//! [`Conversion`]: defaults applied to a decoded body, the mapping to and from the hub,
//! the field selector labels it accepts, and the validation only requests at that version
//! get (events.k8s.io/v1's stricter rules).
//!
//! The storage version's responses reuse the cached bytes (serialize once); another
//! version's are converted per object: GETs, list items and watch events are decoded,
//! converted and encoded again for each request.

use std::sync::Arc;

use apimachinery::errors::{ApiError, FieldError};
use apimachinery::schema::MessageRef;
use bytes::Bytes;
use managedfields::shape::Shape;
use managedfields::VersionConverter;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::deletion::DeleteOptions;
use super::encoding::{encode_canonical, with_resource_version};
use super::list_options::ListParams;
use super::meta;
use super::resource::ResourceDecl;
use super::store::{DeleteOutcome, ListOutput, RequestContext, Store};
use super::watch::{WatchOut, WatchReceiver};
use crate::admission::AdmittedAs;

/// How one served version maps to its resource's storage (hub) version. Objects are JSON;
/// `hub_of` gets a body already checked against this version's type, and both directions
/// set `apiVersion` and `kind` of the version they produce.
pub trait Conversion: Send + Sync + 'static {
    /// Defaults of this version, applied to a decoded create or update body before it is
    /// converted (upstream's per-version `SetDefaults_*`).
    fn default(&self, _obj: &mut Value) {}

    /// This version's object in the hub's form.
    fn hub_of(&self, obj: Value) -> Result<Value, ApiError>;

    /// A hub object in this version's form.
    fn version_of(&self, obj: Value) -> Result<Value, ApiError>;

    /// The hub's field selector label for one of this version's, or the 400 message for a
    /// label this version does not support (upstream's field label conversion; its default
    /// allows only the metadata fields).
    fn field_label(&self, label: &str) -> Result<String, String> {
        match label {
            "metadata.name" | "metadata.namespace" => Ok(label.to_string()),
            other => Err(format!(
                "\"{other}\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
            )),
        }
    }

    /// Validation a create through this version adds to the hub's, on the hub object.
    fn validate_create(&self, _hub: &Value) -> Vec<FieldError> {
        Vec::new()
    }

    /// Validation an update through this version adds to the hub's, on hub objects.
    fn validate_update(&self, _new: &Value, _old: &Value) -> Vec<FieldError> {
        Vec::new()
    }
}

/// `ctx` for the hub store, naming the view's version as the one the write's managers are
/// recorded at.
fn at_version(view: &Store, ctx: &RequestContext) -> RequestContext {
    RequestContext {
        field_version: Some(super::managed::RequestVersion(view.decl.clone())),
        ..ctx.clone()
    }
}

/// A served version's view of the store of its storage version.
pub struct ServedVersion {
    /// The store of the storage version (its declaration holds the hub's strategy).
    pub hub: Store,
    pub conversion: Arc<dyn Conversion>,
}

/// The wire JSON of a converted object (canonical order, its resourceVersion spliced in).
fn wire_of(obj: &Value) -> Bytes {
    let rv = meta::resource_version(obj).parse::<i64>().unwrap_or(0);
    with_resource_version(&encode_canonical(obj), rv)
}

fn parse(wire: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(wire)
        .map_err(|e| ApiError::internal(&format!("decoding stored object: {e}")))
}

impl ServedVersion {
    /// The request's context for the hub's store: admission is told of this version's
    /// resource and kind (the object it sees is the hub's, as upstream's plugins see the
    /// internal version).
    fn admitted_as(&self, view: &Store, ctx: &RequestContext, subresource: &str) -> RequestContext {
        ctx.admitted_as(AdmittedAs {
            resource: view.decl.clone(),
            subresource: subresource.to_string(),
            kind: view.decl.kind.clone(),
            view: None,
        })
    }

    fn version_of(&self, obj: Value) -> Result<Value, ApiError> {
        // Keep the resourceVersion whatever the conversion does with metadata.
        let rv = meta::resource_version(&obj).to_string();
        let mut out = self.conversion.version_of(obj)?;
        if !rv.is_empty() {
            meta::set_meta(&mut out, "resourceVersion", Some(json!(rv)));
        }
        Ok(out)
    }

    fn wire_from_hub(&self, wire: &[u8]) -> Result<Bytes, ApiError> {
        Ok(wire_of(&self.version_of(parse(wire)?)?))
    }

    /// A body of this version in the hub's form: checked against this version's kind,
    /// defaulted as this version defaults, converted.
    fn body_to_hub(&self, view: &Store, mut obj: Value) -> Result<Value, ApiError> {
        view.check_type_meta(&mut obj)?;
        self.conversion.default(&mut obj);
        self.conversion.hub_of(obj)
    }

    /// The list's selectors with field labels translated to the hub's.
    fn hub_params(&self, params: &ListParams) -> Result<ListParams, ApiError> {
        let mut out = params.clone();
        if let Some(sel) = &params.field_selector {
            let mapped = sel
                .map_fields(|f| self.conversion.field_label(f))
                .map_err(|e| ApiError::bad_request(&e))?;
            out.field_selector = Some(mapped);
        }
        Ok(out)
    }

    /// The 422 of a write whose hub object fails this version's own rules, with the hub's
    /// errors first (upstream runs its legacy rules, then the version's).
    fn refuse(&self, name: &str, mut errs: Vec<FieldError>, extra: Vec<FieldError>) -> ApiError {
        errs.extend(extra);
        let decl = &self.hub.decl;
        ApiError::invalid(&decl.group, &decl.kind, name, errs)
    }

    pub(crate) async fn get(&self, ns: &str, name: &str) -> Result<Value, ApiError> {
        self.version_of(Box::pin(self.hub.get(ns, name)).await?)
    }

    pub(crate) async fn get_at(
        &self,
        ns: &str,
        name: &str,
        rv: Option<storage::Revision>,
    ) -> Result<Value, ApiError> {
        self.version_of(Box::pin(self.hub.get_at(ns, name, rv)).await?)
    }

    pub(crate) async fn get_cached(&self, ns: &str, name: &str) -> Result<Value, ApiError> {
        self.version_of(Box::pin(self.hub.get_cached(ns, name)).await?)
    }

    pub(crate) async fn create(
        &self,
        view: &Store,
        ctx: &RequestContext,
        ns: &str,
        obj: Value,
    ) -> Result<Value, ApiError> {
        let hub = self.body_to_hub(view, obj)?;
        let extra = self.conversion.validate_create(&hub);
        if !extra.is_empty() {
            let mut probe = hub.clone();
            meta::set_meta(&mut probe, "namespace", Some(json!(ns)));
            let errs = self.hub.validate_new(&probe);
            return Err(self.refuse(meta::name(&hub), errs, extra));
        }
        let ctx = at_version(view, &self.admitted_as(view, ctx, ""));
        self.version_of(Box::pin(self.hub.create(&ctx, ns, hub)).await?)
    }

    pub(crate) async fn update(
        &self,
        view: &Store,
        ctx: &RequestContext,
        ns: &str,
        name: &str,
        subresource: &str,
        obj: Value,
    ) -> Result<(Value, bool), ApiError> {
        let hub = self.body_to_hub(view, obj)?;
        if let Ok(old) = Box::pin(self.hub.get(ns, name)).await {
            let extra = self.conversion.validate_update(&hub, &old);
            if !extra.is_empty() {
                let errs = self.hub.decl.strategy.validate_update(&hub, &old);
                return Err(self.refuse(name, errs, extra));
            }
        }
        let ctx = at_version(view, &self.admitted_as(view, ctx, subresource));
        let (out, created) = Box::pin(self.hub.update(&ctx, ns, name, subresource, hub)).await?;
        Ok((self.version_of(out)?, created))
    }

    /// A patch is applied in this version: the current hub object is converted to it,
    /// patched, defaulted, checked against this version's kind and converted back.
    pub(crate) async fn patch(
        &self,
        view: &Store,
        ctx: &RequestContext,
        ns: &str,
        name: &str,
        subresource: &str,
        patch: &(dyn Fn(&Value) -> Result<Value, ApiError> + Send + Sync),
    ) -> Result<Value, ApiError> {
        let in_version = |current: &Value| -> Result<Value, ApiError> {
            let patched = patch(&self.version_of(current.clone())?)?;
            if !patched.is_object() {
                return Err(ApiError::bad_request(
                    "the patched object must be a JSON object",
                ));
            }
            let hub = self.body_to_hub(view, patched)?;
            let extra = self.conversion.validate_update(&hub, current);
            if !extra.is_empty() {
                let errs = self.hub.decl.strategy.validate_update(&hub, current);
                return Err(self.refuse(name, errs, extra));
            }
            Ok(hub)
        };
        let ctx = at_version(view, &self.admitted_as(view, ctx, subresource));
        let out = Box::pin(self.hub.patch(&ctx, ns, name, subresource, &in_version)).await?;
        self.version_of(out)
    }

    pub(crate) async fn delete(
        &self,
        view: &Store,
        ctx: &RequestContext,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome, ApiError> {
        let ctx = self.admitted_as(view, ctx, "");
        Ok(
            match Box::pin(self.hub.delete(&ctx, ns, name, opts)).await? {
                DeleteOutcome::Deleted(o) => DeleteOutcome::Deleted(self.version_of(o)?),
                DeleteOutcome::Pending(o) => DeleteOutcome::Pending(self.version_of(o)?),
            },
        )
    }

    pub(crate) async fn list(&self, ns: &str, params: &ListParams) -> Result<ListOutput, ApiError> {
        let mut out = Box::pin(self.hub.list(ns, &self.hub_params(params)?)).await?;
        out.items = out
            .items
            .iter()
            .map(|w| self.wire_from_hub(w))
            .collect::<Result<_, _>>()?;
        // The cache's encodings are the storage version's.
        out.cached = None;
        Ok(out)
    }

    /// The hub's watch, each object converted as it passes.
    pub(crate) async fn watch(
        self: &Arc<Self>,
        ns: &str,
        params: &ListParams,
    ) -> Result<WatchReceiver, ApiError> {
        let mut hub_rx = Box::pin(self.hub.watch(ns, &self.hub_params(params)?)).await?;
        let (tx, rx) = mpsc::channel(64);
        let this = self.clone();
        tokio::spawn(async move {
            while let Some(ev) = hub_rx.recv().await {
                let convert = |w: &Bytes| this.wire_from_hub(w);
                let out = match &ev {
                    WatchOut::Added(w) => convert(w).map(WatchOut::Added),
                    WatchOut::Modified(w) => convert(w).map(WatchOut::Modified),
                    WatchOut::Deleted(w) => convert(w).map(WatchOut::Deleted),
                    _ => Ok(ev),
                };
                let out = out.unwrap_or_else(WatchOut::Error);
                if tx.send(out).await.is_err() {
                    return;
                }
            }
        });
        Ok(rx)
    }
}

/// Every version one stored resource is served at, shared by its store and the views over
/// it: how managed fields recorded at one version are compared at another (a
/// [`VersionConverter`] through the hub).
#[derive(Default)]
pub struct VersionSet {
    versions: std::sync::RwLock<Vec<VersionEntry>>,
}

/// One version of a [`VersionSet`]: its type, and its conversion (none for the hub).
struct VersionEntry {
    api_version: String,
    schema: Option<MessageRef>,
    conversion: Option<Arc<dyn Conversion>>,
}

impl std::fmt::Debug for VersionSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let versions = self.versions.read().unwrap_or_else(|p| p.into_inner());
        f.debug_list()
            .entries(versions.iter().map(|v| &v.api_version))
            .finish()
    }
}

impl VersionSet {
    /// The set of a resource stored at `hub`.
    pub fn of_hub(hub: &ResourceDecl) -> Self {
        let set = VersionSet::default();
        set.add(hub, None);
        set
    }

    /// Adds a version served over the hub through `conversion`.
    pub fn add(&self, decl: &ResourceDecl, conversion: Option<Arc<dyn Conversion>>) {
        let mut versions = self.versions.write().unwrap_or_else(|p| p.into_inner());
        let api_version = decl.api_version();
        versions.retain(|v| v.api_version != api_version);
        versions.push(VersionEntry {
            api_version,
            schema: decl.schema.clone(),
            conversion,
        });
    }

    /// Whether the resource is served at more than one version.
    pub fn is_versioned(&self) -> bool {
        self.versions.read().map(|v| v.len() > 1).unwrap_or(false)
    }

    /// `obj` (at `from`) in the hub's form.
    fn to_hub(&self, obj: &Value, from: &str) -> Option<Value> {
        let versions = self.versions.read().ok()?;
        let entry = versions.iter().find(|v| v.api_version == from)?;
        match &entry.conversion {
            None => Some(obj.clone()),
            Some(c) => c.hub_of(obj.clone()).ok(),
        }
    }
}

impl VersionConverter for VersionSet {
    fn shape(&self, api_version: &str) -> Option<Shape> {
        let versions = self.versions.read().ok()?;
        let entry = versions.iter().find(|v| v.api_version == api_version)?;
        entry.schema.as_ref().map(Shape::root)
    }

    fn convert(&self, obj: &Value, from: &str, to: &str) -> Option<Value> {
        let hub = self.to_hub(obj, from)?;
        let versions = self.versions.read().ok()?;
        let entry = versions.iter().find(|v| v.api_version == to)?;
        match &entry.conversion {
            None => Some(hub),
            Some(c) => c.version_of(hub).ok(),
        }
    }
}

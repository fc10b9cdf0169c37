//! The generic registry: one `Store` serves any kind, through the kind's [`Strategy`].
//! It owns the object life cycle upstream's `genericregistry.Store` owns: system metadata,
//! validation, admission, optimistic concurrency, finalizers, dry run, lists and watches.

use std::sync::Arc;
use std::time::Duration;

use apimachinery::errors::{ApiError, FieldError, FieldPath};
use apimachinery::{time as ktime, validation};
use bytes::Bytes;
use serde_json::{json, Value};
use storage::{ListOptions, Revision, Storage, StorageError};

use super::cacher::{CacheError, CachedObject, Cacher, Trigger, WatchScope};
use super::codec::{StorageCodec, StorageEncoding};
use super::deletion::DeleteOptions;
use super::encoding::{encode_canonical, with_resource_version};
use super::list_options::{ContinueToken, ListParams, RvMatch};
use super::meta;
use super::reservation::{NoReservation, Reservation};
use super::resource::{ResourceDecl, WriteContext};
use super::versions::{Conversion, ServedVersion, VersionSet};
use crate::admission::{AdmissionChain, AdmissionView, AdmittedAs, Attributes, Operation};
use crate::auth::UserInfo;

/// Admission's attributes of a request made with `ctx` (no old object yet). A namespace
/// is its own namespace, as upstream's handlers tell admission (its request info, and
/// its create handler, take the namespace's name as the request's namespace).
fn attributes<'a>(
    ctx: &'a RequestContext,
    operation: Operation,
    resource: &'a ResourceDecl,
    subresource: &'a str,
    kind: &'a str,
    namespace: &'a str,
    name: &'a str,
) -> Attributes<'a> {
    let is_namespace = resource.group.is_empty() && resource.plural == "namespaces";
    let namespace = if namespace.is_empty() && is_namespace {
        name
    } else {
        namespace
    };
    Attributes {
        operation,
        resource,
        subresource,
        kind,
        namespace,
        name,
        old: None,
        options: ctx.options.as_ref(),
        user: &ctx.user,
        dry_run: ctx.dry_run,
        warnings: &ctx.warnings,
    }
}

/// Who asks, and how: passed to every Store operation.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub user: UserInfo,
    pub dry_run: bool,
    /// The request's options object (`CreateOptions`, `UpdateOptions`, `PatchOptions`,
    /// `DeleteOptions`), for admission.
    pub options: Option<Value>,
    /// Warnings the strategy has for the request's object, for the response's headers.
    pub warnings: WarningSink,
    /// The manager of a create, update or patch: the write records an `Update` entry in
    /// `managedFields` for it (`registry::managed`). `None` leaves `managedFields` as the
    /// object carries them (an apply has set them already).
    pub field_manager: Option<String>,
    /// The declaration of the version the request was made at, when a view serves it over
    /// another version's storage (`registry::versions`): the write's managers are recorded
    /// at it, as upstream's field manager runs at the request's version.
    pub field_version: Option<super::managed::RequestVersion>,
    /// Set when the Store writes on behalf of another view of the object (a served
    /// version, a subresource's REST storage): what admission is told the request is.
    pub admitted_as: Option<AdmittedAs>,
}

impl RequestContext {
    /// This context, admitted as `admitted_as` unless an outer view already set one.
    pub fn admitted_as(&self, admitted_as: AdmittedAs) -> RequestContext {
        let mut ctx = self.clone();
        if ctx.admitted_as.is_none() {
            ctx.admitted_as = Some(admitted_as);
        }
        ctx
    }
}

/// Where a Store operation leaves warnings for the client (shared by a context's clones).
#[derive(Debug, Clone, Default)]
pub struct WarningSink(Arc<std::sync::Mutex<Vec<String>>>);

impl WarningSink {
    pub fn add(&self, texts: Vec<String>) {
        if texts.is_empty() {
            return;
        }
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        w.extend(texts);
    }

    /// The warnings left so far, emptying the sink.
    pub fn take(&self) -> Vec<String> {
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *w)
    }
}

/// Conflicts retried by a patch or an unconditional update before giving up.
const MAX_UPDATE_RETRIES: usize = 8;

/// New suffixes tried when a generated name is taken.
const GENERATE_NAME_RETRIES: usize = 7;

/// How long a list waits for a requested future resource version to appear.
const FUTURE_RV_WAIT: Duration = Duration::from_secs(3);

/// The generic store of one resource.
#[derive(Clone)]
pub struct Store {
    pub decl: Arc<ResourceDecl>,
    storage: Arc<dyn Storage>,
    /// `<etcd prefix>/<storage path>/`: every key of this resource starts with it.
    key_root: String,
    admission: AdmissionChain,
    /// The watch cache, when enabled for this resource.
    cacher: Option<Arc<Cacher>>,
    /// How long objects live after each write (from the declaration).
    ttl: Option<Duration>,
    /// For a version served over another version's storage: that store and the conversion
    /// (every operation goes through it, `registry::versions`).
    served: Option<Arc<ServedVersion>>,
    /// Every version the stored resource is served at, shared with the views over it:
    /// managed fields are compared at the version each manager wrote at.
    versions: Arc<VersionSet>,
    /// The storage codec of a declared kind: the store encodes what it writes with it.
    codec: Option<Arc<StorageCodec>>,
    /// Where writes go: the storage below the codec (encryption, then the backend), as
    /// the store hands it encoded bytes. Reads and watches go through `storage`, which
    /// decodes every stored form.
    writer: Arc<dyn Storage>,
}

/// A list's result, before rendering: each item's wire JSON (with its resourceVersion).
pub struct ListOutput {
    pub items: Vec<Bytes>,
    /// The cached objects `items` come from, in the same order, when the watch cache
    /// served the list: their other encodings are kept there.
    pub cached: Option<Vec<Arc<CachedObject>>>,
    pub revision: Revision,
    pub continue_token: Option<String>,
    pub remaining: Option<usize>,
}

/// What a DELETE did.
pub enum DeleteOutcome {
    /// The object is gone; this was its last state.
    Deleted(Value),
    /// Deletion began but finalizers hold the object; this is its new state.
    Pending(Value),
}

/// Generates the random suffix of a `generateName` (upstream's alphabet, 5 characters).
fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let uid = uuid::Uuid::new_v4();
    uid.as_bytes()
        .iter()
        .take(5)
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

/// Maps a storage error to the client's `Status`.
pub fn storage_error(decl: &ResourceDecl, name: &str, err: StorageError) -> ApiError {
    match err {
        StorageError::NotFound { .. } => ApiError::not_found(&decl.group, &decl.plural, name),
        StorageError::AlreadyExists { .. } => {
            ApiError::already_exists(&decl.group, &decl.plural, name)
        }
        StorageError::Conflict { .. } => ApiError::conflict(
            &decl.group,
            &decl.plural,
            name,
            apimachinery::errors::OPTIMISTIC_LOCK_ERROR_MSG,
        ),
        StorageError::Compacted {
            requested,
            compacted,
        } => ApiError::expired(&format!(
            "too old resource version: {requested} ({compacted})"
        )),
        StorageError::FutureRevision { requested, current } => {
            ApiError::too_large_resource_version(requested as u64, current as u64, 1)
        }
        StorageError::TooLarge { .. } => {
            ApiError::request_entity_too_large("etcdserver: request is too large")
        }
        StorageError::Timeout(m) => ApiError::timeout(&m, 1),
        StorageError::Unavailable(m) => ApiError::service_unavailable(&m),
        StorageError::Internal(m) => ApiError::internal(&m),
    }
}

impl Store {
    /// A store writing protobuf (JSON for kinds without a type), unencrypted.
    pub fn new(
        decl: Arc<ResourceDecl>,
        storage: Arc<dyn Storage>,
        etcd_prefix: &str,
        admission: AdmissionChain,
    ) -> Self {
        Self::with_encoding(
            decl,
            storage,
            etcd_prefix,
            admission,
            StorageEncoding::default(),
        )
    }

    /// A store whose objects are kept as `encoding` says: encrypted (when configured) under
    /// the storage codec, which declared kinds go through (see `registry::codec`).
    pub fn with_encoding(
        decl: Arc<ResourceDecl>,
        storage: Arc<dyn Storage>,
        etcd_prefix: &str,
        admission: AdmissionChain,
        encoding: StorageEncoding,
    ) -> Self {
        use storage::transform::TransformedStorage;
        let key_root = format!(
            "{}/{}/",
            etcd_prefix.trim_end_matches('/'),
            decl.storage_path
        );
        let storage: Arc<dyn Storage> = match encoding.encryption {
            Some(encryption) => Arc::new(TransformedStorage::new(storage, encryption)),
            None => storage,
        };
        let codec = decl
            .schema
            .as_ref()
            .map(|schema| Arc::new(StorageCodec::new(schema.clone(), encoding.media_type)));
        let writer = storage.clone();
        let storage: Arc<dyn Storage> = match &codec {
            Some(codec) => Arc::new(TransformedStorage::new(storage, codec.clone())),
            None => storage,
        };
        Store {
            ttl: decl.ttl,
            storage,
            key_root,
            admission,
            cacher: None,
            served: None,
            versions: Arc::new(VersionSet::of_hub(&decl)),
            decl,
            codec,
            writer,
        }
    }

    /// Serves `decl` (another version of `hub`'s resource) over `hub`'s storage and watch
    /// cache, converting through `conversion`.
    pub fn served_at(
        hub: &Store,
        decl: Arc<ResourceDecl>,
        conversion: Arc<dyn Conversion>,
    ) -> Self {
        let mut store = hub.clone();
        hub.versions.add(&decl, Some(conversion.clone()));
        store.decl = decl;
        store.served = Some(Arc::new(ServedVersion {
            hub: hub.clone(),
            conversion,
        }));
        store
    }

    /// The declaration of the version objects are stored at (this store's own, unless it
    /// serves another version over it).
    pub fn storage_decl(&self) -> &Arc<ResourceDecl> {
        match &self.served {
            Some(s) => &s.hub.decl,
            None => &self.decl,
        }
    }

    /// The kind's versions, for comparing managed fields across them; `None` when it is
    /// served at one version only.
    pub fn version_converter(&self) -> Option<Arc<dyn managedfields::VersionConverter>> {
        self.versions
            .is_versioned()
            .then(|| self.versions.clone() as Arc<dyn managedfields::VersionConverter>)
    }

    /// Where `ctx`'s write records its managers (see [`super::managed::Tracking`]).
    fn tracking<'a>(&'a self, ctx: &'a RequestContext) -> super::managed::Tracking<'a> {
        super::managed::Tracking {
            decl: &self.decl,
            at: ctx.field_version.as_ref().map(|v| v.0.as_ref()),
            converter: self.version_converter(),
        }
    }

    /// The view of another version's storage this store is, if it is one.
    pub(crate) fn served(&self) -> Option<&Arc<ServedVersion>> {
        self.served.as_ref()
    }

    /// Puts a watch cache keeping `capacity` recent events in front of storage.
    pub fn with_watch_cache(mut self, capacity: usize) -> Self {
        let trigger = self.decl.strategy.watch_trigger_field().map(|field| {
            let strategy = self.decl.strategy.clone();
            Trigger {
                field: field.to_string(),
                value_of: Arc::new(move |obj: &Value| strategy.field_value(obj, field)),
            }
        });
        self.cacher = Some(Cacher::start(
            self.storage.clone(),
            &self.key_root,
            capacity,
            trigger,
        ));
        self
    }

    /// The admission plugins writes of this resource go through (subresources with REST
    /// storage of their own admit their objects with them).
    pub fn admission(&self) -> &AdmissionChain {
        &self.admission
    }

    /// What admission is told about a write of this store for `ctx`: the store's own
    /// resource and kind, or the view the request was made through (`ctx.admitted_as`).
    fn admission_target<'a>(
        &'a self,
        ctx: &'a RequestContext,
        subresource: &'a str,
    ) -> (
        &'a ResourceDecl,
        &'a str,
        &'a str,
        Option<&'a dyn AdmissionView>,
    ) {
        match &ctx.admitted_as {
            Some(a) => (&a.resource, &a.subresource, &a.kind, a.view.as_deref()),
            None => (&self.decl, subresource, &self.decl.kind, None),
        }
    }

    /// Mutating admission of a write (`obj` absent for deletes).
    #[allow(clippy::too_many_arguments)]
    async fn admit_mutating(
        &self,
        ctx: &RequestContext,
        operation: Operation,
        subresource: &str,
        namespace: &str,
        name: &str,
        old: Option<&Value>,
        obj: Option<&mut Value>,
    ) -> Result<(), ApiError> {
        let (resource, subresource, kind, view) = self.admission_target(ctx, subresource);
        // Through a view, admission sees the view's objects.
        let old_view = view.zip(old).map(|(v, o)| v.view(o));
        let attrs = Attributes {
            old: old_view.as_ref().or(old),
            ..attributes(ctx, operation, resource, subresource, kind, namespace, name)
        };
        match (view, obj) {
            (Some(view), Some(obj)) => {
                let before = view.view(obj);
                let mut seen = before.clone();
                self.admission.mutate(&attrs, Some(&mut seen)).await?;
                if seen != before {
                    view.apply(obj, &seen)?;
                }
                Ok(())
            }
            (_, obj) => self.admission.mutate(&attrs, obj).await,
        }
    }

    /// Validating admission of a write, on the object as it will be stored.
    #[allow(clippy::too_many_arguments)]
    async fn admit_validating(
        &self,
        ctx: &RequestContext,
        operation: Operation,
        subresource: &str,
        namespace: &str,
        name: &str,
        old: Option<&Value>,
        obj: Option<&Value>,
    ) -> Result<(), ApiError> {
        let (resource, subresource, kind, view) = self.admission_target(ctx, subresource);
        let old_view = view.zip(old).map(|(v, o)| v.view(o));
        let obj_view = view.zip(obj).map(|(v, o)| v.view(o));
        let attrs = Attributes {
            old: old_view.as_ref().or(old),
            ..attributes(ctx, operation, resource, subresource, kind, namespace, name)
        };
        self.admission
            .validate(&attrs, obj_view.as_ref().or(obj))
            .await
    }

    /// Both phases of a write without an object (a delete of `old`).
    async fn admit_both(
        &self,
        ctx: &RequestContext,
        operation: Operation,
        subresource: &str,
        namespace: &str,
        name: &str,
        old: Option<&Value>,
    ) -> Result<(), ApiError> {
        self.admit_mutating(ctx, operation, subresource, namespace, name, old, None)
            .await?;
        self.admit_validating(ctx, operation, subresource, namespace, name, old, None)
            .await
    }

    /// The watch cache, when enabled.
    pub fn cacher(&self) -> Option<&Arc<Cacher>> {
        self.cacher.as_ref()
    }

    /// The storage backend behind this store.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The storage key of an object.
    pub fn key(&self, namespace: &str, name: &str) -> String {
        if self.decl.namespaced() {
            format!("{}{}/{}", self.key_root, namespace, name)
        } else {
            format!("{}{}", self.key_root, name)
        }
    }

    /// The key prefix of a list: one namespace, or all of them.
    pub fn list_prefix(&self, namespace: &str) -> String {
        if self.decl.namespaced() && !namespace.is_empty() {
            format!("{}{}/", self.key_root, namespace)
        } else {
            self.key_root.clone()
        }
    }

    /// The prefix every key of this resource has.
    pub fn key_root(&self) -> &str {
        &self.key_root
    }

    fn err(&self, name: &str, e: StorageError) -> ApiError {
        storage_error(&self.decl, name, e)
    }

    /// Decodes stored bytes into an object carrying `rev` as its resourceVersion.
    pub fn decode(&self, value: &[u8], rev: Revision) -> Result<Value, ApiError> {
        let mut obj: Value = serde_json::from_slice(value)
            .map_err(|e| ApiError::internal(&format!("decoding stored object: {e}")))?;
        meta::set_meta(&mut obj, "resourceVersion", Some(json!(rev.to_string())));
        Ok(obj)
    }

    /// The bytes to write for `obj`, and `obj` as reading them back gives it: upstream's
    /// stores answer a write (dry run included) with the object decoded from the bytes
    /// written, so a response never shows what the stored form cannot hold (empty maps and
    /// lists in protobuf) and a GET after it answers the same. Stored bytes hold no
    /// `resourceVersion`; the object keeps its own.
    fn encode_for_storage(&self, mut obj: Value) -> Result<(Bytes, Value), ApiError> {
        let Some(codec) = &self.codec else {
            return Ok((encode_canonical(&obj), obj));
        };
        let rv = obj
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .and_then(|m| m.remove("resourceVersion"));
        let key = self.key(meta::namespace(&obj), meta::name(&obj));
        let err = |e| self.err(meta::name(&obj), e);
        let bytes = codec.encode_object(&key, &obj).map_err(err)?;
        let mut back = if codec.round_trip_changes() {
            codec.decode_object(&key, &bytes).map_err(err)?
        } else {
            obj
        };
        meta::set_meta(&mut back, "resourceVersion", rv);
        Ok((bytes, back))
    }

    fn invalid(&self, name: &str, errs: Vec<FieldError>) -> ApiError {
        ApiError::invalid(&self.decl.group, &self.decl.kind, name, errs)
    }

    /// Checks `kind`/`apiVersion` of a body against this resource, filling them when absent.
    pub(crate) fn check_type_meta(&self, obj: &mut Value) -> Result<(), ApiError> {
        check_type_meta(obj, &self.decl.api_version(), &self.decl.kind)
    }

    /// Makes the body's namespace agree with the URL's (upstream's `ValidNamespace`).
    fn check_namespace(&self, obj: &mut Value, namespace: &str) -> Result<(), ApiError> {
        if !self.decl.namespaced() {
            meta::set_meta(obj, "namespace", None);
            return Ok(());
        }
        let body_ns = meta::namespace(obj).to_string();
        if body_ns.is_empty() {
            meta::set_meta(obj, "namespace", Some(json!(namespace)));
        } else if body_ns != namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        Ok(())
    }

    pub(crate) fn validate_new(&self, obj: &Value) -> Vec<FieldError> {
        let empty = Value::Object(Default::default());
        let metadata = obj.get("metadata").unwrap_or(&empty);
        let strategy = self.decl.strategy.clone();
        let mut errs = validation::validate_object_meta(
            metadata,
            self.decl.namespaced(),
            &|n: &str, p: bool| strategy.validate_name(n, p),
            &FieldPath::new("metadata"),
        );
        errs.extend(self.decl.strategy.validate(obj));
        errs
    }

    /// GET of one object.
    pub async fn get(&self, namespace: &str, name: &str) -> Result<Value, ApiError> {
        if let Some(v) = &self.served {
            return v.get(namespace, name).await;
        }
        match self.storage.get(&self.key(namespace, name)).await {
            Ok(Some(kv)) => self.decode(&kv.value, kv.mod_revision),
            Ok(None) => Err(ApiError::not_found(
                &self.decl.group,
                &self.decl.plural,
                name,
            )),
            Err(e) => Err(self.err(name, e)),
        }
    }

    /// GET with a `resourceVersion`, as upstream's cacher serves it: none reads the latest
    /// object from storage; `0` takes what the watch cache holds; `N` waits (a little) for
    /// the cache to reach `N` and answers from it, and a revision storage has not reached
    /// is 504 "Too large resource version". Without a ready cache, storage answers.
    pub async fn get_at(
        &self,
        namespace: &str,
        name: &str,
        rv: Option<Revision>,
    ) -> Result<Value, ApiError> {
        if let Some(v) = &self.served {
            return v.get_at(namespace, name, rv).await;
        }
        let (Some(rv), Some(cacher)) = (rv, self.cacher.as_ref()) else {
            return self.get(namespace, name).await;
        };
        let key = self.key(namespace, name);
        let caught_up = rv == 0 || cacher.wait_for(rv, FUTURE_RV_WAIT).await;
        if caught_up {
            match cacher.lookup(&key) {
                Ok(Some(obj)) => {
                    return serde_json::from_slice(&obj.wire)
                        .map_err(|e| ApiError::internal(&format!("decoding cached object: {e}")))
                }
                Ok(None) => {
                    return Err(ApiError::not_found(
                        &self.decl.group,
                        &self.decl.plural,
                        name,
                    ))
                }
                Err(_) => {}
            }
        }
        if rv > 0 {
            let current = self
                .storage
                .current_revision()
                .await
                .map_err(|e| self.err(name, e))?;
            if rv > current {
                return Err(self.err(
                    name,
                    StorageError::FutureRevision {
                        requested: rv,
                        current,
                    },
                ));
            }
        }
        self.get(namespace, name).await
    }

    /// GET that may be served from the watch cache (slightly stale at worst), falling back
    /// to storage when the cache does not hold the object: for admission lookups, as
    /// upstream's listers with a live lookup on a miss.
    pub async fn get_cached(&self, namespace: &str, name: &str) -> Result<Value, ApiError> {
        if let Some(v) = &self.served {
            return v.get_cached(namespace, name).await;
        }
        if let Some(obj) = self
            .cacher
            .as_ref()
            .and_then(|c| c.get(&self.key(namespace, name)))
        {
            if let Ok(v) = serde_json::from_slice(&obj.wire) {
                return Ok(v);
            }
        }
        self.get(namespace, name).await
    }

    /// POST: creates an object in `namespace` (ignored for cluster-scoped kinds).
    pub async fn create(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        mut obj: Value,
    ) -> Result<Value, ApiError> {
        if let Some(v) = &self.served {
            return v.create(self, ctx, namespace, obj).await;
        }
        self.check_type_meta(&mut obj)?;
        if let Some(review) = &self.decl.review {
            // Reviews are answered, not stored (nor admitted, as upstream's).
            return review.answer(ctx, namespace, obj).await;
        }
        self.check_namespace(&mut obj, namespace)?;
        if !meta::resource_version(&obj).is_empty() {
            return Err(ApiError::internal(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        // Mutating admission sees the object as the client sent it (upstream runs it in the
        // create handler, before the store prepares the object). The write's managers are
        // recorded on the object as it was before admission (`managed`).
        let requested_name = meta::name(&obj).to_string();
        let before_admission = ctx.field_manager.as_ref().map(|_| obj.clone());
        self.admit_mutating(
            ctx,
            Operation::Create,
            "",
            namespace,
            &requested_name,
            None,
            Some(&mut obj),
        )
        .await?;
        let before_admission = before_admission.filter(|b| *b != obj);
        for field in ["deletionTimestamp", "deletionGracePeriodSeconds"] {
            meta::set_meta(&mut obj, field, None);
        }
        meta::set_meta(&mut obj, "uid", Some(json!(apimachinery::uid::new_uid())));
        meta::set_meta(
            &mut obj,
            "creationTimestamp",
            Some(json!(ktime::now_rfc3339())),
        );
        if self.decl.strategy.tracks_generation() {
            meta::set_meta(&mut obj, "generation", Some(json!(1)));
        } else {
            meta::set_meta(&mut obj, "generation", None);
        }
        let generate_name = meta::meta_str(&obj, "generateName").to_string();
        let generated = meta::name(&obj).is_empty() && !generate_name.is_empty();
        if generated {
            let name = format!("{generate_name}{}", random_suffix());
            meta::set_meta(&mut obj, "name", Some(json!(name)));
        }
        // As upstream's Store.Create: system fields and the generated name come first, so
        // a strategy may use them (a Job's selector is made of its uid and name).
        let write = WriteContext {
            operation: Operation::Create,
            user: &ctx.user,
            dry_run: ctx.dry_run,
            subresource: "",
            namespace,
            name: &requested_name,
            old: None,
        };
        self.decl.strategy.prepare(&write, &mut obj)?;
        if let Some(manager) = &ctx.field_manager {
            super::managed::track_before_admission(
                before_admission,
                &mut obj,
                |basis| self.decl.strategy.prepare(&write, basis),
                |o| self.tracking(ctx).create(o, manager),
            );
        }
        let reservation = self.begin_create(ctx, &mut obj).await?;
        let stored = self
            .create_prepared(ctx, obj, generated, &generate_name)
            .await;
        super::reservation::finish(reservation, stored).await
    }

    /// Reserves what a new object holds outside storage (see [`super::reservation`]).
    async fn begin_create(
        &self,
        ctx: &RequestContext,
        obj: &mut Value,
    ) -> Result<Box<dyn Reservation>, ApiError> {
        match &self.decl.reserver {
            Some(r) => r.begin_create(ctx, obj).await,
            None => Ok(Box::new(NoReservation)),
        }
    }

    /// Validates, admits and stores a prepared new object.
    async fn create_prepared(
        &self,
        ctx: &RequestContext,
        obj: Value,
        generated: bool,
        generate_name: &str,
    ) -> Result<Value, ApiError> {
        let name = meta::name(&obj).to_string();
        let ns = meta::namespace(&obj).to_string();
        let write = WriteContext {
            operation: Operation::Create,
            user: &ctx.user,
            dry_run: ctx.dry_run,
            subresource: "",
            namespace: &ns,
            name: &name,
            old: None,
        };
        let mut errs = self.validate_new(&obj);
        errs.extend(self.decl.strategy.validate_in_context(&write, &obj));
        if !errs.is_empty() {
            return Err(self.invalid(&name, errs));
        }
        ctx.warnings
            .add(self.decl.strategy.warnings_on_create(&obj));
        self.admit_validating(ctx, Operation::Create, "", &ns, &name, None, Some(&obj))
            .await?;
        if ctx.dry_run {
            if self
                .storage
                .get(&self.key(&ns, &name))
                .await
                .map_err(|e| self.err(&name, e))?
                .is_some()
            {
                return Err(ApiError::already_exists(
                    &self.decl.group,
                    &self.decl.plural,
                    &name,
                ));
            }
            return Ok(self.encode_for_storage(obj)?.1);
        }
        let mut name = name;
        let mut attempts = 0;
        let (mut bytes, mut obj) = self.encode_for_storage(obj)?;
        let rev = loop {
            match self
                .writer
                .create_with_ttl(&self.key(&ns, &name), bytes.clone(), self.ttl)
                .await
            {
                Ok(rev) => break rev,
                // A generated name that is taken: pick another suffix (upstream's
                // RetryGenerateName), a few times, then report the conflict.
                Err(StorageError::AlreadyExists { .. })
                    if generated && attempts < GENERATE_NAME_RETRIES =>
                {
                    attempts += 1;
                    name = format!("{generate_name}{}", random_suffix());
                    meta::set_meta(&mut obj, "name", Some(json!(name)));
                    (bytes, obj) = self.encode_for_storage(obj)?;
                }
                Err(e) => return Err(self.err(&name, e)),
            }
        };
        meta::set_meta(&mut obj, "resourceVersion", Some(json!(rev.to_string())));
        Ok(obj)
    }

    /// Writes `new` in place of `old` (as read from this store) the way REST storage writes
    /// below the strategy and admission (upstream's `GuaranteedUpdate` in `pods/binding`):
    /// compare-and-swap on `old`'s resourceVersion, a 409 Conflict when it changed.
    pub async fn write_system(
        &self,
        namespace: &str,
        name: &str,
        old: &Value,
        mut new: Value,
    ) -> Result<Value, ApiError> {
        let rev: Revision = meta::resource_version(old)
            .parse()
            .map_err(|_| ApiError::internal("object without a resourceVersion"))?;
        meta::set_meta(&mut new, "resourceVersion", None);
        let (bytes, mut new) = self.encode_for_storage(new)?;
        match self
            .writer
            .update_with_ttl(&self.key(namespace, name), rev, bytes, self.ttl)
            .await
        {
            Ok(new_rev) => {
                meta::set_meta(
                    &mut new,
                    "resourceVersion",
                    Some(json!(new_rev.to_string())),
                );
                Ok(new)
            }
            Err(e) => Err(self.err(name, e)),
        }
    }

    /// Releases what a deleted object held outside storage.
    async fn after_delete(&self, obj: &Value) {
        if let Some(r) = &self.decl.reserver {
            r.after_delete(obj).await;
        }
    }

    /// PUT of the object or one of its subresources. Returns the object and whether it was
    /// created (a PUT to a missing object, for kinds that allow it).
    pub async fn update(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        subresource: &str,
        mut obj: Value,
    ) -> Result<(Value, bool), ApiError> {
        if let Some(v) = &self.served {
            return v.update(self, ctx, namespace, name, subresource, obj).await;
        }
        self.check_type_meta(&mut obj)?;
        self.check_namespace(&mut obj, namespace)?;
        let body_name = meta::name(&obj).to_string();
        if body_name.is_empty() {
            meta::set_meta(&mut obj, "name", Some(json!(name)));
        } else if body_name != name {
            return Err(ApiError::bad_request(&format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let precondition = meta::resource_version(&obj).to_string();
        if precondition.is_empty() && !self.decl.strategy.allow_unconditional_update() {
            return Err(self.invalid(
                name,
                vec![FieldError::invalid(
                    &FieldPath::new("metadata").child("resourceVersion"),
                    json!(0),
                    "must be specified for an update",
                )],
            ));
        }
        for _ in 0..MAX_UPDATE_RETRIES {
            let current = self
                .storage
                .get(&self.key(namespace, name))
                .await
                .map_err(|e| self.err(name, e))?;
            let Some(current) = current else {
                if subresource.is_empty() && self.decl.strategy.allow_create_on_update() {
                    meta::set_meta(&mut obj, "resourceVersion", None);
                    return self.create(ctx, namespace, obj).await.map(|o| (o, true));
                }
                return Err(ApiError::not_found(
                    &self.decl.group,
                    &self.decl.plural,
                    name,
                ));
            };
            let old = self.decode(&current.value, current.mod_revision)?;
            if !precondition.is_empty() && precondition != current.mod_revision.to_string() {
                return Err(ApiError::conflict(
                    &self.decl.group,
                    &self.decl.plural,
                    name,
                    apimachinery::errors::OPTIMISTIC_LOCK_ERROR_MSG,
                ));
            }
            match self
                .apply_update(
                    ctx,
                    name,
                    subresource,
                    obj.clone(),
                    old,
                    current.mod_revision,
                )
                .await
            {
                Err(UpdateError::Conflict) if precondition.is_empty() => continue,
                Err(UpdateError::Conflict) => {
                    return Err(ApiError::conflict(
                        &self.decl.group,
                        &self.decl.plural,
                        name,
                        apimachinery::errors::OPTIMISTIC_LOCK_ERROR_MSG,
                    ))
                }
                Err(UpdateError::Api(e)) => return Err(e),
                Ok(v) => return Ok((v, false)),
            }
        }
        Err(ApiError::conflict(
            &self.decl.group,
            &self.decl.plural,
            name,
            apimachinery::errors::OPTIMISTIC_LOCK_ERROR_MSG,
        ))
    }

    /// PATCH: applies `patch` to the current object and updates it, retrying on conflict
    /// unless the patch itself names a resourceVersion.
    pub async fn patch(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        subresource: &str,
        patch: &(dyn Fn(&Value) -> Result<Value, ApiError> + Send + Sync),
    ) -> Result<Value, ApiError> {
        if let Some(v) = &self.served {
            return v
                .patch(self, ctx, namespace, name, subresource, patch)
                .await;
        }
        for _ in 0..MAX_UPDATE_RETRIES {
            let current = self
                .storage
                .get(&self.key(namespace, name))
                .await
                .map_err(|e| self.err(name, e))?
                .ok_or_else(|| ApiError::not_found(&self.decl.group, &self.decl.plural, name))?;
            let old = self.decode(&current.value, current.mod_revision)?;
            let mut patched = patch(&old)?;
            if !patched.is_object() {
                return Err(ApiError::bad_request(
                    "the patched object must be a JSON object",
                ));
            }
            let rv = meta::resource_version(&patched).to_string();
            let pinned = rv != current.mod_revision.to_string();
            if pinned && !rv.is_empty() {
                return Err(ApiError::conflict(
                    &self.decl.group,
                    &self.decl.plural,
                    name,
                    apimachinery::errors::OPTIMISTIC_LOCK_ERROR_MSG,
                ));
            }
            self.check_type_meta(&mut patched)?;
            self.check_namespace(&mut patched, namespace)?;
            if meta::name(&patched) != name {
                return Err(ApiError::bad_request(&format!(
                    "the name of the object ({}) does not match the name on the URL ({name})",
                    meta::name(&patched)
                )));
            }
            match self
                .apply_update(ctx, name, subresource, patched, old, current.mod_revision)
                .await
            {
                Err(UpdateError::Conflict) => continue,
                Err(UpdateError::Api(e)) => return Err(e),
                Ok(v) => return Ok(v),
            }
        }
        Err(ApiError::conflict(
            &self.decl.group,
            &self.decl.plural,
            name,
            apimachinery::errors::OPTIMISTIC_LOCK_ERROR_MSG,
        ))
    }

    /// Prepares, validates, admits and writes an update of `old` (read at `rev`) to `new`.
    async fn apply_update(
        &self,
        ctx: &RequestContext,
        name: &str,
        subresource: &str,
        new: Value,
        old: Value,
        rev: Revision,
    ) -> Result<Value, UpdateError> {
        let strategy = &self.decl.strategy;
        let sent_managed_fields = new.pointer("/metadata/managedFields").cloned();
        let ns = meta::namespace(&old).to_string();
        let mut new = new;
        let before_admission = ctx.field_manager.as_ref().map(|_| new.clone());
        self.admit_mutating(
            ctx,
            Operation::Update,
            subresource,
            &ns,
            name,
            Some(&old),
            Some(&mut new),
        )
        .await?;
        let write = WriteContext {
            operation: Operation::Update,
            user: &ctx.user,
            dry_run: ctx.dry_run,
            subresource,
            namespace: &ns,
            name,
            old: Some(&old),
        };
        let before_admission = before_admission.filter(|b| *b != new);
        let prepare = |obj: &mut Value| -> Result<(), ApiError> {
            if subresource.is_empty() {
                strategy.prepare(&write, obj)
            } else {
                *obj = strategy
                    .subresource_update(subresource, obj, &old)
                    .ok_or_else(|| {
                        ApiError::not_found(&self.decl.group, &self.decl.plural, name)
                    })?;
                Ok(())
            }
        };
        prepare(&mut new)?;
        match &ctx.field_manager {
            Some(manager) => {
                super::managed::track_before_admission(before_admission, &mut new, prepare, |o| {
                    self.tracking(ctx).update(subresource, &old, o, manager)
                })
            }
            None => meta::set_meta(&mut new, "managedFields", sent_managed_fields),
        }
        // System fields a client cannot change.
        for field in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ] {
            let old_value = meta::meta(&old).and_then(|m| m.get(field)).cloned();
            let keep_client_value = field == "uid" && !meta::uid(&new).is_empty();
            if !keep_client_value {
                meta::set_meta(&mut new, field, old_value);
            }
        }
        if strategy.tracks_generation() && strategy.generation_changed(&new, &old) {
            let generation = meta::meta(&old)
                .and_then(|m| m.get("generation"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta::set_meta(&mut new, "generation", Some(json!(generation + 1)));
        }
        meta::set_meta(&mut new, "resourceVersion", Some(json!(rev.to_string())));
        let reservation: Box<dyn Reservation> = match &self.decl.reserver {
            Some(r) if subresource.is_empty() => r.begin_update(ctx, &mut new, &old).await?,
            _ => Box::new(NoReservation),
        };
        let stored = self
            .update_prepared(ctx, name, subresource, new, old, rev)
            .await;
        super::reservation::finish(reservation, stored).await
    }

    /// Validates, admits and writes a prepared update of `old` (read at `rev`) to `new`.
    async fn update_prepared(
        &self,
        ctx: &RequestContext,
        name: &str,
        subresource: &str,
        new: Value,
        old: Value,
        rev: Revision,
    ) -> Result<Value, UpdateError> {
        let strategy = &self.decl.strategy;
        let ns = meta::namespace(&old).to_string();
        let write = WriteContext {
            operation: Operation::Update,
            user: &ctx.user,
            dry_run: ctx.dry_run,
            subresource,
            namespace: &ns,
            name,
            old: Some(&old),
        };
        let empty = Value::Object(Default::default());
        let mut errs = validation::validate_object_meta_update(
            new.get("metadata").unwrap_or(&empty),
            old.get("metadata").unwrap_or(&empty),
            &FieldPath::new("metadata"),
        );
        if errs.is_empty() {
            errs.extend(self.validate_new(&new));
            // A subresource has its own update rules (upstream gives each its strategy).
            if subresource.is_empty() {
                errs.extend(strategy.validate_update(&new, &old));
            } else {
                errs.extend(strategy.validate_subresource_update(subresource, &new, &old));
            }
            errs.extend(strategy.validate_in_context(&write, &new));
            dedup_errors(&mut errs);
        }
        if !errs.is_empty() {
            return Err(UpdateError::Api(self.invalid(name, errs)));
        }
        if subresource.is_empty() {
            ctx.warnings.add(strategy.warnings_on_update(&new, &old));
        }
        self.admit_validating(
            ctx,
            Operation::Update,
            subresource,
            &ns,
            name,
            Some(&old),
            Some(&new),
        )
        .await?;
        // An update that removes the last finalizer of an object being deleted (its grace
        // period over) completes the deletion (upstream's `shouldDeleteDuringUpdate`).
        let finished = meta::deletion_started(&new)
            && meta::finalizers(&new).is_empty()
            && grace_period(&new) == 0
            && !strategy.pending_finalization(&new);
        // Compared, and answered, in the stored form (upstream compares the bytes): an
        // update that changes only what storage cannot hold writes nothing.
        let (bytes, mut new) = self.encode_for_storage(new)?;
        if new == old && !finished {
            return Ok(old);
        }
        if ctx.dry_run {
            return Ok(new);
        }
        let key = self.key(&ns, name);
        if finished {
            return match self.storage.delete(&key, Some(rev)).await {
                Ok(_) => {
                    self.after_delete(&new).await;
                    Ok(new)
                }
                Err(StorageError::Conflict { .. }) => Err(UpdateError::Conflict),
                Err(e) => Err(UpdateError::Api(self.err(name, e))),
            };
        }
        match self
            .writer
            .update_with_ttl(&key, rev, bytes, self.ttl)
            .await
        {
            Ok(new_rev) => {
                meta::set_meta(
                    &mut new,
                    "resourceVersion",
                    Some(json!(new_rev.to_string())),
                );
                Ok(new)
            }
            Err(StorageError::Conflict { .. }) => Err(UpdateError::Conflict),
            Err(e) => Err(UpdateError::Api(self.err(name, e))),
        }
    }

    /// DELETE of one object, honouring preconditions, finalizers and the garbage
    /// collector's options. An object with finalizers (its own, or the `orphan` /
    /// `foregroundDeletion` ones the options ask for) is marked as being deleted and stays
    /// until they are removed; any other is deleted now.
    pub async fn delete(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome, ApiError> {
        if let Some(v) = &self.served {
            return v.delete(self, ctx, namespace, name, opts).await;
        }
        for _ in 0..MAX_UPDATE_RETRIES {
            let key = self.key(namespace, name);
            let current = self
                .storage
                .get(&key)
                .await
                .map_err(|e| self.err(name, e))?
                .ok_or_else(|| ApiError::not_found(&self.decl.group, &self.decl.plural, name))?;
            let obj = self.decode(&current.value, current.mod_revision)?;
            opts.preconditions.check(&self.decl, name, &obj)?;
            self.admit_both(ctx, Operation::Delete, "", namespace, name, Some(&obj))
                .await?;
            let strategy = &self.decl.strategy;
            let mut marked = obj.clone();
            if let Some(finalizers) =
                opts.gc_finalizers(strategy.gc_policy(), &meta::finalizers(&obj))
            {
                meta::set_meta(
                    &mut marked,
                    "finalizers",
                    (!finalizers.is_empty()).then(|| json!(finalizers)),
                );
            }
            if let Some(period) = strategy.graceful_delete_period(&obj, opts.grace_period_seconds) {
                start_graceful_deletion(
                    &mut marked,
                    period,
                    opts.grace_period_seconds,
                    strategy.as_ref(),
                );
                if grace_period(&marked) > 0 {
                    // The grace period runs: whoever stops the object (the kubelet) deletes
                    // it with a grace period of zero.
                    if marked == obj {
                        return Ok(DeleteOutcome::Pending(obj));
                    }
                    if ctx.dry_run {
                        return Ok(DeleteOutcome::Pending(marked));
                    }
                    let (bytes, mut marked) = self.encode_for_storage(marked)?;
                    match self
                        .writer
                        .update_with_ttl(&key, current.mod_revision, bytes, self.ttl)
                        .await
                    {
                        Ok(rev) => {
                            meta::set_meta(
                                &mut marked,
                                "resourceVersion",
                                Some(json!(rev.to_string())),
                            );
                            return Ok(DeleteOutcome::Pending(marked));
                        }
                        Err(StorageError::Conflict { .. }) => continue,
                        Err(e) => return Err(self.err(name, e)),
                    }
                }
            }
            if !meta::finalizers(&marked).is_empty() || strategy.pending_finalization(&marked) {
                mark_deleting(&mut marked, strategy.as_ref());
                if marked == obj {
                    return Ok(DeleteOutcome::Pending(obj));
                }
                if ctx.dry_run {
                    return Ok(DeleteOutcome::Pending(marked));
                }
                let (bytes, mut marked) = self.encode_for_storage(marked)?;
                match self
                    .writer
                    .update_with_ttl(&key, current.mod_revision, bytes, self.ttl)
                    .await
                {
                    Ok(rev) => {
                        meta::set_meta(
                            &mut marked,
                            "resourceVersion",
                            Some(json!(rev.to_string())),
                        );
                        return Ok(DeleteOutcome::Pending(marked));
                    }
                    Err(StorageError::Conflict { .. }) => continue,
                    Err(e) => return Err(self.err(name, e)),
                }
            }
            if ctx.dry_run {
                return Ok(DeleteOutcome::Deleted(obj));
            }
            match self.storage.delete(&key, Some(current.mod_revision)).await {
                Ok((_, rev)) => {
                    self.after_delete(&obj).await;
                    let mut gone = obj;
                    meta::set_meta(&mut gone, "resourceVersion", Some(json!(rev.to_string())));
                    return Ok(DeleteOutcome::Deleted(gone));
                }
                Err(StorageError::Conflict { .. }) => continue,
                Err(e) => return Err(self.err(name, e)),
            }
        }
        Err(ApiError::conflict(
            &self.decl.group,
            &self.decl.plural,
            name,
            apimachinery::errors::OPTIMISTIC_LOCK_ERROR_MSG,
        ))
    }

    /// Whether an object known by its name, namespace, labels and wire bytes passes the
    /// selectors; the bytes are parsed only for field selectors on other fields.
    pub fn matches_parts(
        &self,
        name: &str,
        namespace: &str,
        labels: &serde_json::Map<String, Value>,
        wire: &[u8],
        params: &ListParams,
    ) -> bool {
        self.matches_known(name, namespace, labels, wire, None, params)
    }

    /// Whether a cached object passes the selectors; its trigger field's value is known.
    pub(crate) fn matches_cached(&self, obj: &CachedObject, params: &ListParams) -> bool {
        let trigger = self.cacher.as_ref().and_then(|c| c.trigger_field());
        let known = trigger.zip(obj.trigger.as_deref());
        self.matches_known(
            &obj.name,
            &obj.namespace,
            &obj.labels,
            &obj.wire,
            known,
            params,
        )
    }

    /// [`Store::matches_parts`], with one more field whose value is known.
    fn matches_known(
        &self,
        name: &str,
        namespace: &str,
        labels: &serde_json::Map<String, Value>,
        wire: &[u8],
        known: Option<(&str, &str)>,
        params: &ListParams,
    ) -> bool {
        if let Some(sel) = &params.label_selector {
            if !sel.matches(labels) {
                return false;
            }
        }
        if let Some(sel) = &params.field_selector {
            let parsed: std::cell::OnceCell<Value> = std::cell::OnceCell::new();
            let strategy = &self.decl.strategy;
            return sel.matches(|field| match field {
                "metadata.name" => Some(name.to_string()),
                "metadata.namespace" => Some(namespace.to_string()),
                f if known.is_some_and(|(k, _)| k == f) => known.map(|(_, v)| v.to_string()),
                f => {
                    let obj =
                        parsed.get_or_init(|| serde_json::from_slice(wire).unwrap_or(Value::Null));
                    strategy.field_value(obj, f)
                }
            });
        }
        true
    }

    /// Whether an object passes the list's label and field selectors.
    pub fn matches(&self, obj: &Value, params: &ListParams) -> bool {
        if let Some(sel) = &params.label_selector {
            if !sel.matches(&meta::labels(obj)) {
                return false;
            }
        }
        if let Some(sel) = &params.field_selector {
            let strategy = &self.decl.strategy;
            if !sel.matches(|field| match field {
                "metadata.name" => Some(meta::name(obj).to_string()),
                "metadata.namespace" => Some(meta::namespace(obj).to_string()),
                f => strategy.field_value(obj, f),
            }) {
                return false;
            }
        }
        true
    }

    /// Refuses field selectors on fields this kind does not support (upstream's message).
    pub fn check_field_selector(&self, params: &ListParams) -> Result<(), ApiError> {
        if let Some(sel) = &params.field_selector {
            for (field, _, _) in sel.requirements() {
                let known = matches!(field.as_str(), "metadata.name" | "metadata.namespace")
                    || self
                        .decl
                        .strategy
                        .selectable_fields()
                        .contains(&field.as_str());
                if !known {
                    return Err(ApiError::bad_request(&format!(
                        "field label not supported: {field}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Resolves the revision a list reads at, per `resourceVersion`/`resourceVersionMatch`.
    async fn list_revision(&self, params: &ListParams) -> Result<Option<Revision>, ApiError> {
        if let Some(token) = &params.continue_token {
            return Ok(Some(token.revision));
        }
        let Some(rv) = params.revision()? else {
            return Ok(None);
        };
        if rv == 0 {
            return Ok(None);
        }
        let exact = params.rv_match == Some(RvMatch::Exact)
            || (params.rv_match.is_none() && params.limit > 0);
        let current = self
            .storage
            .current_revision()
            .await
            .map_err(|e| self.err("", e))?;
        if rv > current {
            // Wait briefly for the store to catch up, as upstream's watch cache does.
            let deadline = tokio::time::Instant::now() + FUTURE_RV_WAIT;
            loop {
                let now_rev = self
                    .storage
                    .current_revision()
                    .await
                    .map_err(|e| self.err("", e))?;
                if now_rev >= rv {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(self.err(
                        "",
                        StorageError::FutureRevision {
                            requested: rv,
                            current: now_rev,
                        },
                    ));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(exact.then_some(rv))
    }

    /// LIST: one namespace or all, with selectors, pagination and resourceVersion semantics.
    /// Served from the watch cache when it can be (no pagination, not an exact revision).
    pub async fn list(&self, namespace: &str, params: &ListParams) -> Result<ListOutput, ApiError> {
        if let Some(v) = &self.served {
            return v.list(namespace, params).await;
        }
        self.check_field_selector(params)?;
        if let Some(out) = self.list_from_cache(namespace, params).await? {
            return Ok(out);
        }
        self.list_read_stored(namespace, params).await
    }

    /// Serves a list from the cache, or `None` when the cache cannot serve it.
    async fn list_from_cache(
        &self,
        namespace: &str,
        params: &ListParams,
    ) -> Result<Option<ListOutput>, ApiError> {
        let Some(cacher) = &self.cacher else {
            return Ok(None);
        };
        if params.limit > 0
            || params.continue_token.is_some()
            || params.rv_match == Some(RvMatch::Exact)
        {
            return Ok(None);
        }
        let fresh = match params.revision()? {
            None => cacher.wait_consistent(FUTURE_RV_WAIT).await,
            Some(0) => true,
            Some(rv) => {
                if !cacher.wait_for(rv, FUTURE_RV_WAIT).await {
                    // Let storage decide: it answers 504 for a revision it does not have.
                    return Ok(None);
                }
                true
            }
        };
        if !fresh {
            return Ok(None);
        }
        let Ok((revision, objects)) = cacher.snapshot(&self.list_prefix(namespace)) else {
            return Ok(None);
        };
        let filtered = params.label_selector.is_some() || params.field_selector.is_some();
        let cached: Vec<Arc<CachedObject>> = objects
            .into_iter()
            .filter(|o| !filtered || self.matches_cached(o, params))
            .collect();
        Ok(Some(ListOutput {
            items: cached.iter().map(|o| o.wire.clone()).collect(),
            cached: Some(cached),
            revision,
            continue_token: None,
            remaining: None,
        }))
    }

    /// Lists from storage, following `limit` and `continue` at a pinned revision.
    async fn list_read_stored(
        &self,
        namespace: &str,
        params: &ListParams,
    ) -> Result<ListOutput, ApiError> {
        let prefix = self.list_prefix(namespace);
        let mut revision = self.list_revision(params).await?;
        let mut start_key = params
            .continue_token
            .as_ref()
            .map(|t| format!("{}{}", self.key_root, t.start));
        if let Some(start) = &start_key {
            if !start.starts_with(&prefix) {
                return Err(ApiError::bad_request(
                    "continue key is not valid: key is outside the requested list",
                ));
            }
        }
        let filtered = params.label_selector.is_some() || params.field_selector.is_some();
        let mut items = Vec::new();
        loop {
            let want = if params.limit > 0 {
                params.limit - items.len()
            } else {
                0
            };
            let res = self
                .storage
                .list(
                    &prefix,
                    ListOptions {
                        revision,
                        limit: want,
                        start_key: start_key.clone(),
                    },
                )
                .await
                .map_err(|e| match e {
                    StorageError::Compacted { .. } if params.continue_token.is_some() => ApiError::expired(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                    ),
                    e => self.err("", e),
                })?;
            revision = Some(res.revision);
            let last_key = res.items.last().map(|kv| kv.key.clone());
            for kv in &res.items {
                let wire = with_resource_version(&kv.value, kv.mod_revision);
                if filtered {
                    let obj: Value = serde_json::from_slice(&wire)
                        .map_err(|e| ApiError::internal(&format!("decoding stored object: {e}")))?;
                    if !self.matches(&obj, params) {
                        continue;
                    }
                }
                items.push(wire);
            }
            let filled = params.limit > 0 && items.len() >= params.limit;
            if res.more && (filled || params.limit == 0) {
                // More items follow: hand out a continue token.
                let next = last_key.unwrap_or_default();
                let token = ContinueToken {
                    revision: res.revision,
                    start: format!(
                        "{}\u{0}",
                        next.strip_prefix(&self.key_root).unwrap_or(&next)
                    ),
                };
                return Ok(ListOutput {
                    items,
                    cached: None,
                    revision: res.revision,
                    continue_token: Some(token.encode()),
                    remaining: (!filtered).then_some(res.remaining),
                });
            }
            if !res.more {
                return Ok(ListOutput {
                    items,
                    cached: None,
                    revision: res.revision,
                    continue_token: None,
                    remaining: None,
                });
            }
            start_key = last_key.map(|k| format!("{k}\u{0}"));
        }
    }

    /// Registers a watch with the cache, waiting briefly for it to reach `after`.
    pub(crate) async fn cache_watch(
        &self,
        scope: &WatchScope,
        after: Option<Revision>,
    ) -> Option<Result<super::cacher::CacheWatch, ApiError>> {
        let cacher = self.cacher.as_ref()?;
        for attempt in 0..2 {
            let result = match after {
                Some(rev) => cacher.watch(scope.clone(), rev),
                None => cacher.watch_current(scope.clone()),
            };
            match result {
                Ok(w) => return Some(Ok(w)),
                Err(CacheError::TooOld { requested, oldest }) => {
                    return Some(Err(ApiError::expired(&format!(
                        "too old resource version: {requested} ({oldest})"
                    ))))
                }
                Err(CacheError::NotReady) if attempt == 0 => {
                    let target = match after {
                        Some(rev) => rev,
                        None => self.storage.current_revision().await.ok()?,
                    };
                    if !cacher.wait_for(target, FUTURE_RV_WAIT).await {
                        return None;
                    }
                }
                Err(CacheError::NotReady) => return None,
            }
        }
        None
    }

    /// Counts the objects of this resource (for `apiserver_storage_objects`).
    pub async fn count(&self) -> Result<usize, ApiError> {
        if let Some(c) = &self.cacher {
            return Ok(c.len());
        }
        self.storage
            .count(&self.key_root)
            .await
            .map_err(|e| self.err("", e))
    }
}

/// Checks a body's `kind`/`apiVersion` against the expected ones, filling them when
/// absent, with upstream's 400 for a mismatch.
pub fn check_type_meta(obj: &mut Value, want_api: &str, want_kind: &str) -> Result<(), ApiError> {
    let Some(map) = obj.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    };
    match map.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("apiVersion".into(), json!(want_api));
        }
        Some(v) if v == want_api => {}
        Some(v) => {
            return Err(ApiError::bad_request(&format!(
                "the API version in the data ({v}) does not match the expected API version ({want_api})"
            )))
        }
    }
    match map.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("kind".into(), json!(want_kind));
        }
        Some(k) if k == want_kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(&format!(
                "the kind in the data ({k}) does not match the expected kind ({want_kind})"
            )))
        }
    }
    Ok(())
}

/// Why an internal update attempt failed.
enum UpdateError {
    /// The object changed under us; the caller may retry.
    Conflict,
    Api(ApiError),
}

impl From<ApiError> for UpdateError {
    fn from(e: ApiError) -> Self {
        UpdateError::Api(e)
    }
}

/// The `deletionGracePeriodSeconds` of an object (zero when unset).
fn grace_period(obj: &Value) -> i64 {
    meta::meta(obj)
        .and_then(|m| m.get("deletionGracePeriodSeconds"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// Starts (or shortens) the graceful deletion of an object, as upstream's `BeforeDelete`:
/// the first delete sets `deletionTimestamp` to now plus `period` and
/// `deletionGracePeriodSeconds` to `period` (and bumps a tracked generation); a later one
/// may only shorten the period it asks for (`requested`), moving the timestamp earlier by
/// as much. A period of zero leaves the object to be finalized or deleted at once.
fn start_graceful_deletion(
    obj: &mut Value,
    period: i64,
    requested: Option<i64>,
    strategy: &dyn super::resource::Strategy,
) {
    let period = period.max(0);
    if meta::deletion_started(obj) {
        let current = grace_period(obj);
        let Some(shorter) = requested.map(|r| r.max(0)).filter(|r| *r < current) else {
            return;
        };
        let timestamp = meta::meta_str(obj, "deletionTimestamp").to_string();
        let moved = ktime::parse_rfc3339(&timestamp)
            .and_then(|t| t.checked_sub(Duration::from_secs((current - shorter) as u64)))
            .map(ktime::format_rfc3339)
            .unwrap_or(timestamp);
        meta::set_meta(obj, "deletionTimestamp", Some(json!(moved)));
        meta::set_meta(obj, "deletionGracePeriodSeconds", Some(json!(shorter)));
        return;
    }
    if period == 0 {
        return;
    }
    let at = std::time::SystemTime::now() + Duration::from_secs(period as u64);
    meta::set_meta(
        obj,
        "deletionTimestamp",
        Some(json!(ktime::format_rfc3339(at))),
    );
    meta::set_meta(obj, "deletionGracePeriodSeconds", Some(json!(period)));
    let generation = meta::meta(obj)
        .and_then(|m| m.get("generation"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if generation > 0 {
        meta::set_meta(obj, "generation", Some(json!(generation + 1)));
    }
    strategy.on_deletion_started(obj);
}

/// Marks an object held by finalizers as being deleted, as upstream's `markAsDeleting`
/// does for kinds without graceful deletion: the first time, `deletionTimestamp` is set
/// (and a tracked generation bumped); the grace period is always zero.
fn mark_deleting(obj: &mut Value, strategy: &dyn super::resource::Strategy) {
    if !meta::deletion_started(obj) {
        let generation = meta::meta(obj)
            .and_then(|m| m.get("generation"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if generation > 0 {
            meta::set_meta(obj, "generation", Some(json!(generation + 1)));
        }
        meta::set_meta(obj, "deletionTimestamp", Some(json!(ktime::now_rfc3339())));
        strategy.on_deletion_started(obj);
    }
    meta::set_meta(obj, "deletionGracePeriodSeconds", Some(json!(0)));
}

/// Drops repeated field errors (the same field and message).
fn dedup_errors(errs: &mut Vec<FieldError>) {
    let mut seen = std::collections::HashSet::new();
    errs.retain(|e| seen.insert(e.to_string()));
}

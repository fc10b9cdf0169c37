//! A resource is a declaration plus a strategy: routes, discovery, storage keys, tables and
//! field selectors all derive from [`ResourceDecl`]; per-kind behaviour lives in [`Strategy`].

use std::sync::Arc;
use std::time::Duration;

use apimachinery::errors::{ApiError, FieldError};
use apimachinery::schema::MessageRef;
use apimachinery::validation;
use serde_json::{json, Value};

use super::deletion::GcPolicy;
use super::meta;
use super::rest::SubresourceHandler;
use super::store::RequestContext;
use super::versions::Conversion;
use crate::admission::Operation;
use crate::auth::UserInfo;

/// What a strategy is told about the write it prepares (upstream passes this in its
/// request context): who writes, how, through which subresource, and the object before.
#[derive(Clone, Copy)]
pub struct WriteContext<'a> {
    pub operation: Operation,
    pub user: &'a UserInfo,
    pub dry_run: bool,
    /// The subresource written through, empty for the resource itself.
    pub subresource: &'a str,
    pub namespace: &'a str,
    /// The object's name (empty on a create with `generateName`, before one is chosen).
    pub name: &'a str,
    /// The object before an update.
    pub old: Option<&'a Value>,
}

/// Whether objects of a kind live in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// The verbs a full resource supports, in discovery's order.
pub const ALL_VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// A subresource of a resource (`pods/status`, `namespaces/finalize`, `pods/binding`): its
/// name, the verbs it serves, the kind it takes and answers when not the resource's own
/// (`autoscaling/v1` `Scale` for `*/scale`), and the REST storage serving it when the
/// generic store's update path does not (see [`super::rest`]).
#[derive(Clone)]
pub struct Subresource {
    pub name: String,
    pub verbs: Vec<String>,
    /// `(group, version, kind)`; `None` for the resource's own kind.
    pub kind: Option<(String, String, String)>,
    /// The type of [`kind`](Self::kind), for decoding bodies and encoding answers.
    pub schema: Option<MessageRef>,
    /// What serves the subresource; `None` for the generic store's subresource update.
    pub rest: Option<SubresourceHandler>,
    /// The type of a connect subresource's query options (`PodExecOptions`): decoded from
    /// the query for admission, and published as OpenAPI's query parameters.
    pub options: Option<MessageRef>,
    /// A connect subresource read with options (`pods/log`, upstream's
    /// `GetterWithOptions`) rather than connected to: OpenAPI publishes it as a `read`
    /// operation, and, being a read, it is not admitted.
    pub read_with_options: bool,
}

impl std::fmt::Debug for Subresource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subresource")
            .field("name", &self.name)
            .field("verbs", &self.verbs)
            .field("kind", &self.kind)
            .field("rest", &self.rest.is_some())
            .field(
                "options",
                &self.options.as_ref().map(|o| o.name.to_string()),
            )
            .finish()
    }
}

impl Subresource {
    /// A subresource of the resource's own kind.
    pub fn new(name: &str, verbs: &[&str]) -> Subresource {
        Subresource {
            name: name.to_string(),
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
            kind: None,
            schema: None,
            rest: None,
            options: None,
            read_with_options: false,
        }
    }

    /// The kind the subresource takes and answers, when not the resource's own.
    pub fn of_kind(mut self, group: &str, version: &str, kind: &str) -> Subresource {
        self.kind = Some((group.to_string(), version.to_string(), kind.to_string()));
        self
    }

    /// The type of the subresource's kind.
    pub fn with_schema(mut self, schema: MessageRef) -> Subresource {
        self.schema = Some(schema);
        self
    }

    /// The type of the subresource's query options (connect subresources).
    pub fn with_options(mut self, options: MessageRef) -> Subresource {
        self.options = Some(options);
        self
    }

    /// Marks a connect subresource as read with its options rather than connected to.
    pub fn read_with_options(mut self) -> Subresource {
        self.read_with_options = true;
        self
    }

    /// Serves the subresource with `rest` instead of the generic store.
    pub fn served_by(mut self, rest: SubresourceHandler) -> Subresource {
        self.rest = Some(rest);
        self
    }

    /// Whether the subresource connects (`pods/exec`): every verb is a connect.
    pub fn connects(&self) -> bool {
        self.rest.as_ref().is_some_and(|r| r.connects())
    }
}

/// Everything the server needs to know to serve one resource.
#[derive(Clone)]
pub struct ResourceDecl {
    /// API group (`""` for the core group).
    pub group: String,
    pub version: String,
    pub kind: String,
    /// The resource name in URLs (`configmaps`).
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub scope: Scope,
    /// Subresources, each with the verbs it serves (today through the generic update path:
    /// `status`, `finalize`). Discovery and OpenAPI publish them from here.
    pub subresources: Vec<Subresource>,
    /// The verbs served.
    pub verbs: Vec<String>,
    /// The path segment under the etcd prefix (upstream's resource prefix, usually `plural`).
    pub storage_path: String,
    /// Whether list items are written without `kind`/`apiVersion`, as typed built-in lists are.
    pub list_items_omit_type_meta: bool,
    /// The kind's type declaration (protobuf, OpenAPI, unknown fields), when declared.
    pub schema: Option<MessageRef>,
    /// How long an object lives after its last write (upstream's TTLFunc; events).
    pub ttl: Option<Duration>,
    /// For a resource computed rather than stored: what answers its creates.
    pub review: Option<Arc<dyn Review>>,
    /// A warning every request for the resource answers with (a deprecated API's).
    pub warning: Option<String>,
    /// What reserves the kind's holdings outside storage around writes (a Service's
    /// cluster IPs and node ports).
    pub reserver: Option<Arc<dyn super::reservation::Reserver>>,
    pub strategy: Arc<dyn Strategy>,
    /// For a version served over another version's storage: that version's declaration
    /// and the conversion between the two (`registry::versions`).
    pub stored_as: Option<StoredAs>,
}

/// The storage (hub) version a served version converts to and from.
#[derive(Clone)]
pub struct StoredAs {
    pub hub: Arc<ResourceDecl>,
    pub conversion: Arc<dyn Conversion>,
}

/// A resource that is not stored: each create is answered by code of its own, as
/// upstream's review APIs (`SelfSubjectReview`, `SelfSubjectAccessReview`) answer a
/// question about the request, and its legacy `bindings` writes a pod's binding.
#[async_trait::async_trait]
pub trait Review: Send + Sync + 'static {
    /// The answer to `obj` (the object posted) for `ctx`'s request to `namespace` (empty
    /// for cluster-scoped resources).
    async fn answer(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        obj: Value,
    ) -> Result<Value, ApiError>;
}

impl ResourceDecl {
    /// A declaration with the usual defaults: all verbs, storage path = plural, no short names.
    pub fn new(
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        scope: Scope,
        strategy: Arc<dyn Strategy>,
    ) -> Self {
        ResourceDecl {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            plural: plural.to_string(),
            singular: kind.to_ascii_lowercase(),
            short_names: Vec::new(),
            categories: Vec::new(),
            scope,
            subresources: Vec::new(),
            verbs: ALL_VERBS.iter().map(|v| v.to_string()).collect(),
            storage_path: plural.to_string(),
            list_items_omit_type_meta: true,
            schema: None,
            ttl: None,
            review: None,
            warning: None,
            reserver: None,
            strategy,
            stored_as: None,
        }
    }

    /// Serves this version over `hub`'s storage (its key prefix and watch cache), converting
    /// each object through `conversion`.
    pub fn stored_as(mut self, hub: ResourceDecl, conversion: Arc<dyn Conversion>) -> Self {
        self.storage_path = hub.storage_path.clone();
        self.stored_as = Some(StoredAs {
            hub: Arc::new(hub),
            conversion,
        });
        self
    }

    /// `(group, version, kind)` of the version objects are stored at.
    pub fn storage_version(&self) -> (&str, &str, &str) {
        match &self.stored_as {
            Some(s) => (&s.hub.group, &s.hub.version, &s.hub.kind),
            None => (&self.group, &self.version, &self.kind),
        }
    }

    /// Makes this a review: create is its only verb, and `review` answers it; nothing is
    /// stored.
    pub fn with_review(mut self, review: Arc<dyn Review>) -> Self {
        self.review = Some(review);
        self.with_verbs(&["create"])
    }

    /// Objects expire `ttl` after their last write (none when zero).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = (!ttl.is_zero()).then_some(ttl);
        self
    }

    /// Every request for the resource answers with this `Warning`.
    pub fn with_warning(mut self, text: &str) -> Self {
        self.warning = Some(text.to_string());
        self
    }

    /// Writes reserve through `reserver` (see [`super::reservation`]).
    pub fn with_reserver(mut self, reserver: Arc<dyn super::reservation::Reserver>) -> Self {
        self.reserver = Some(reserver);
        self
    }

    pub fn with_short_names(mut self, names: &[&str]) -> Self {
        self.short_names = names.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn with_categories(mut self, names: &[&str]) -> Self {
        self.categories = names.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn with_schema(mut self, schema: MessageRef) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Serves only these verbs (upstream's order in discovery).
    pub fn with_verbs(mut self, verbs: &[&str]) -> Self {
        self.verbs = verbs.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Adds subresources that serve get, patch and update of the whole object, as `status`
    /// does.
    pub fn with_subresources(mut self, names: &[&str]) -> Self {
        self.subresources.extend(
            names
                .iter()
                .map(|n| Subresource::new(n, &["get", "patch", "update"])),
        );
        self
    }

    /// Adds a subresource with its own verbs.
    pub fn with_subresource(mut self, sub: Subresource) -> Self {
        self.subresources.push(sub);
        self
    }

    /// The declared subresource `name`.
    pub fn subresource(&self, name: &str) -> Option<&Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// The declaration bodies and answers of subresource `sub` are read and written by:
    /// this one, with the subresource's kind and type when it has its own.
    pub fn for_subresource(&self, sub: &Subresource) -> ResourceDecl {
        let mut decl = self.clone();
        if let Some((group, version, kind)) = &sub.kind {
            decl.group = group.clone();
            decl.version = version.clone();
            decl.kind = kind.clone();
            decl.schema = sub.schema.clone();
        }
        decl
    }

    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `configmaps` or `priorityclasses.scheduling.k8s.io`: how errors name the resource.
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub fn namespaced(&self) -> bool {
        self.scope == Scope::Namespaced
    }

    /// Whether `verb` is served for this resource.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }
}

/// One column of a `Table`, as `metav1.TableColumnDefinition`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    pub name: &'static str,
    /// OpenAPI type: `string`, `integer`, `number`, `boolean`, `date`.
    pub type_: &'static str,
    pub format: &'static str,
    pub description: &'static str,
    pub priority: i32,
}

impl ColumnDef {
    pub const fn new(name: &'static str, type_: &'static str, description: &'static str) -> Self {
        ColumnDef {
            name,
            type_,
            format: "",
            description,
            priority: 0,
        }
    }

    /// The `Name` column every table starts with.
    pub const NAME: ColumnDef = ColumnDef {
        name: "Name",
        type_: "string",
        format: "name",
        description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
        priority: 0,
    };

    /// The `Age` column (cells are computed when the table is rendered).
    pub const AGE: ColumnDef = ColumnDef {
        name: "Age",
        type_: "string",
        format: "",
        description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
        priority: 0,
    };

    /// The `Created At` column of the default table (kinds without their own printer).
    pub const CREATED_AT: ColumnDef = ColumnDef {
        name: "Created At",
        type_: "date",
        format: "",
        description: ColumnDef::AGE.description,
        priority: 0,
    };

    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// A table cell, before rendering: `Age` is computed at render time from the timestamp.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Value(Value),
    /// The age of the object created at this RFC 3339 time.
    Age(String),
}

/// Per-kind behaviour of the generic registry. Every method has upstream's generic default.
pub trait Strategy: Send + Sync + 'static {
    /// Prepares a write with its context and may refuse it: by default
    /// [`prepare_for_create`](Self::prepare_for_create) for a create and
    /// [`prepare_for_update`](Self::prepare_for_update) for an update of the resource itself.
    /// Kinds whose preparation needs the request (its user, dry run) override this.
    fn prepare(&self, ctx: &WriteContext<'_>, obj: &mut Value) -> Result<(), ApiError> {
        match ctx.old {
            Some(old) => self.prepare_for_update(obj, old),
            None => self.prepare_for_create(obj),
        }
        Ok(())
    }

    /// Validation that needs the request's context, after the object's own validation
    /// (none by default).
    fn validate_in_context(&self, _ctx: &WriteContext<'_>, _obj: &Value) -> Vec<FieldError> {
        Vec::new()
    }

    /// Sets defaults and clears fields a client may not set on create (e.g. `status`).
    fn prepare_for_create(&self, _obj: &mut Value) {}

    /// Adjusts an update of the main resource (e.g. keeps `status` from `old`).
    fn prepare_for_update(&self, _new: &mut Value, _old: &Value) {}

    /// Validates a new object (beyond `metadata`, which the store validates).
    fn validate(&self, _obj: &Value) -> Vec<FieldError> {
        Vec::new()
    }

    /// Validates an update (beyond `metadata` immutability, which the store checks).
    fn validate_update(&self, new: &Value, _old: &Value) -> Vec<FieldError> {
        self.validate(new)
    }

    /// Warnings for a valid new object (upstream's `WarningsOnCreate`).
    fn warnings_on_create(&self, _obj: &Value) -> Vec<String> {
        Vec::new()
    }

    /// Warnings for a valid update (upstream's `WarningsOnUpdate`).
    fn warnings_on_update(&self, _new: &Value, _old: &Value) -> Vec<String> {
        Vec::new()
    }

    /// Validates a name (`prefix` is true for a `generateName`), returning messages.
    fn validate_name(&self, name: &str, prefix: bool) -> Vec<String> {
        validation::name_is_dns_subdomain(name, prefix)
    }

    /// Whether `metadata.generation` is kept (1 on create, +1 on every spec change).
    fn tracks_generation(&self) -> bool {
        false
    }

    /// Whether an update moves a tracked generation on; by default, when anything but
    /// `metadata` and `status` changed.
    fn generation_changed(&self, new: &Value, old: &Value) -> bool {
        meta::spec_part(new) != meta::spec_part(old)
    }

    /// Whether a PUT to a missing object creates it.
    fn allow_create_on_update(&self) -> bool {
        false
    }

    /// Whether a PUT without `metadata.resourceVersion` is accepted.
    fn allow_unconditional_update(&self) -> bool {
        true
    }

    /// Builds the object stored by an update of a subresource: for `status`, the old object
    /// with the new `status`. Returns `None` for a subresource the kind does not have.
    fn subresource_update(&self, subresource: &str, new: &Value, old: &Value) -> Option<Value> {
        match subresource {
            "status" => {
                let mut merged = old.clone();
                if let (Some(m), Some(status)) = (merged.as_object_mut(), new.get("status")) {
                    m.insert("status".to_string(), status.clone());
                }
                // Metadata a client may change through any endpoint.
                for field in ["labels", "annotations"] {
                    meta::set_meta(
                        &mut merged,
                        field,
                        meta::meta(new).and_then(|m| m.get(field)).cloned(),
                    );
                }
                Some(merged)
            }
            _ => None,
        }
    }

    /// Validates an update through a subresource, on the object
    /// [`subresource_update`](Self::subresource_update) built (a namespace's `status.phase`).
    fn validate_subresource_update(
        &self,
        _subresource: &str,
        _new: &Value,
        _old: &Value,
    ) -> Vec<FieldError> {
        Vec::new()
    }

    /// Why an object may not be deleted by name (a DELETE answers 403 Forbidden with it),
    /// as upstream's REST storage refuses the system priority classes; `None` allows it.
    fn forbid_delete(&self, _name: &str) -> Option<String> {
        None
    }

    /// Whether something besides `metadata.finalizers` still holds the object after deletion
    /// began (a namespace's `spec.finalizers`).
    fn pending_finalization(&self, _obj: &Value) -> bool {
        false
    }

    /// Marks an object whose deletion has begun (a namespace goes `Terminating`).
    fn on_deletion_started(&self, _obj: &mut Value) {}

    /// What happens to dependents when a delete does not say (upstream's
    /// `DefaultGarbageCollectionPolicy`); decides which finalizers deletion adds.
    fn gc_policy(&self) -> GcPolicy {
        GcPolicy::DeleteDependents
    }

    /// The grace period a DELETE gives an object of a kind with graceful deletion (upstream's
    /// `CheckGracefulDelete`), from the grace period the request asks for; `None` for kinds
    /// deleted at once (the default). A period of zero deletes now.
    fn graceful_delete_period(&self, _obj: &Value, _requested: Option<i64>) -> Option<i64> {
        None
    }

    /// Whether DELETE answers with the object (as for pods) rather than a success `Status`.
    fn return_deleted_object(&self) -> bool {
        false
    }

    /// Whether tables start with the `Name` column (events print it last, as a wide column).
    fn table_leads_with_name(&self) -> bool {
        true
    }

    /// Table columns after `Name`; the default is upstream's default table (`Created At`).
    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![ColumnDef::CREATED_AT]
    }

    /// Table cells matching [`Strategy::table_columns`].
    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        vec![Cell::Value(Value::String(
            meta::meta_str(obj, "creationTimestamp").to_string(),
        ))]
    }

    /// Field selector labels this kind supports besides `metadata.name` and
    /// `metadata.namespace`.
    fn selectable_fields(&self) -> &[&'static str] {
        &[]
    }

    /// The value of a selectable field of an object.
    fn field_value(&self, obj: &Value, field: &str) -> Option<String> {
        // Default: follow the dotted path through the JSON.
        let mut cur = obj;
        for part in field.split('.') {
            cur = cur.get(part)?;
        }
        match cur {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// The selectable field the watch cache files watchers by (upstream's trigger
    /// function): a watch whose field selector pins it with `=` is woken only by writes of
    /// objects that have or had that value. At most one per resource, as upstream.
    fn watch_trigger_field(&self) -> Option<&'static str> {
        None
    }
}

/// A strategy with every default: for kinds with no rules of their own.
pub struct DefaultStrategy;

impl Strategy for DefaultStrategy {}

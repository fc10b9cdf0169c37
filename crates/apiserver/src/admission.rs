//! Admission: plugins that see (and may change or refuse) every write after authorization,
//! in upstream's two phases. Mutating plugins run first, before the strategy prepares and
//! validates the object; validating plugins run after, on the object as it will be stored.

use std::sync::Arc;

use apimachinery::errors::ApiError;
use serde_json::Value;

use crate::auth::UserInfo;
use crate::registry::store::WarningSink;
use crate::registry::ResourceDecl;

/// The operation being admitted, as upstream's `admission.Operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    /// Upstream's name of the operation (`CREATE`, `UPDATE`, `DELETE`, `CONNECT`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// What an admission plugin is told about a request (upstream's `admission.Attributes`).
pub struct Attributes<'a> {
    pub operation: Operation,
    /// The resource the request is for (its group, version and plural).
    pub resource: &'a ResourceDecl,
    /// The subresource (`status`, `binding`), empty for the resource itself.
    pub subresource: &'a str,
    /// The kind of the object admitted: the resource's own, or the subresource's
    /// (`Binding` for `pods/binding`).
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    /// The object before the request (updates and deletes).
    pub old: Option<&'a Value>,
    /// The request's options object (`CreateOptions`, `UpdateOptions`, `DeleteOptions`,
    /// or a connect request's options), when it has one.
    pub options: Option<&'a Value>,
    pub user: &'a UserInfo,
    pub dry_run: bool,
    /// Where a plugin leaves warnings for the client (the response's `Warning` headers,
    /// upstream's `warning.AddWarning`); shared with the request context.
    pub warnings: &'a WarningSink,
}

impl Attributes<'_> {
    /// Leaves one warning for the client.
    pub fn warn(&self, text: String) {
        self.warnings.add(vec![text]);
    }
}

/// An admission plugin: it may change the object in the mutating phase (`admit`) and refuse
/// the request in either phase. Both default to admitting.
#[async_trait::async_trait]
pub trait AdmissionPlugin: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// Whether the plugin looks at requests of this operation at all.
    fn handles(&self, _operation: Operation) -> bool {
        true
    }

    /// The mutating phase: may change `obj` (absent for deletes and connects).
    async fn admit(
        &self,
        _attrs: &Attributes<'_>,
        _obj: Option<&mut Value>,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// The validating phase: sees the object as it will be stored, may only refuse.
    async fn validate(
        &self,
        _attrs: &Attributes<'_>,
        _obj: Option<&Value>,
    ) -> Result<(), ApiError> {
        Ok(())
    }
}

/// How admission is told about a write the Store makes on behalf of another view of the
/// stored object: a version served over another version's storage (HPA `autoscaling/v1`),
/// or a subresource with its own REST storage that writes through the resource's Store
/// (`*/scale`). Admission then sees the request as the client made it (its resource,
/// version, subresource and kind), as upstream's handlers tell it.
#[derive(Clone)]
pub struct AdmittedAs {
    /// The resource as requested: the declaration of the version the client used.
    pub resource: Arc<ResourceDecl>,
    pub subresource: String,
    /// The kind of the object the request carries (`Scale` for `deployments/scale`).
    pub kind: String,
    /// The object admission sees, when it is not the stored one (a `Scale` made from a
    /// Deployment). Without it, admission sees the stored (hub) object, as upstream's
    /// in-tree plugins see its internal version.
    pub view: Option<Arc<dyn AdmissionView>>,
}

impl std::fmt::Debug for AdmittedAs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdmittedAs")
            .field("resource", &self.resource.plural)
            .field("version", &self.resource.version)
            .field("subresource", &self.subresource)
            .field("kind", &self.kind)
            .field("view", &self.view.is_some())
            .finish()
    }
}

/// Maps a stored object to the object a subresource's admission sees, and back.
pub trait AdmissionView: Send + Sync + 'static {
    /// The subresource's object made from the resource's.
    fn view(&self, obj: &Value) -> Value;

    /// Writes what mutating admission changed in the subresource's object into the
    /// resource's.
    fn apply(&self, obj: &mut Value, view: &Value) -> Result<(), ApiError>;
}

/// The configured plugins, run in order within each phase.
#[derive(Clone, Default)]
pub struct AdmissionChain {
    plugins: Vec<Arc<dyn AdmissionPlugin>>,
}

impl AdmissionChain {
    pub fn new(plugins: Vec<Arc<dyn AdmissionPlugin>>) -> Self {
        AdmissionChain { plugins }
    }

    /// The mutating phase: every plugin's `admit`, in order; the first refusal wins.
    pub async fn mutate(
        &self,
        attrs: &Attributes<'_>,
        mut obj: Option<&mut Value>,
    ) -> Result<(), ApiError> {
        for plugin in &self.plugins {
            if plugin.handles(attrs.operation) {
                plugin.admit(attrs, obj.as_deref_mut()).await?;
            }
        }
        Ok(())
    }

    /// The validating phase: every plugin's `validate`, in order; the first refusal wins.
    pub async fn validate(
        &self,
        attrs: &Attributes<'_>,
        obj: Option<&Value>,
    ) -> Result<(), ApiError> {
        for plugin in &self.plugins {
            if plugin.handles(attrs.operation) {
                plugin.validate(attrs, obj).await?;
            }
        }
        Ok(())
    }

    /// Both phases, for requests where nothing happens in between (deletes, connects).
    pub async fn admit(
        &self,
        attrs: &Attributes<'_>,
        mut obj: Option<&mut Value>,
    ) -> Result<(), ApiError> {
        self.mutate(attrs, obj.as_deref_mut()).await?;
        self.validate(attrs, obj.as_deref()).await
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.plugins.iter().map(|p| p.name()).collect()
    }
}

//! Admission: plugins that see (and may change or refuse) every write after authorization.

use std::sync::Arc;

use apimachinery::errors::ApiError;
use serde_json::Value;

use crate::auth::UserInfo;
use crate::registry::ResourceDecl;

/// The operation being admitted, as upstream's `admission.Operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

/// What an admission plugin is told about a request.
pub struct Attributes<'a> {
    pub operation: Operation,
    pub resource: &'a ResourceDecl,
    pub subresource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub user: &'a UserInfo,
    pub dry_run: bool,
}

/// An admission plugin. `admit` may change `obj` (mutating) and may refuse (validating).
#[async_trait::async_trait]
pub trait AdmissionPlugin: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    async fn admit(&self, attrs: &Attributes<'_>, obj: Option<&mut Value>) -> Result<(), ApiError>;
}

/// The configured plugins, run in order.
#[derive(Clone, Default)]
pub struct AdmissionChain {
    plugins: Vec<Arc<dyn AdmissionPlugin>>,
}

impl AdmissionChain {
    pub fn new(plugins: Vec<Arc<dyn AdmissionPlugin>>) -> Self {
        AdmissionChain { plugins }
    }

    /// Runs every plugin; the first refusal wins.
    pub async fn admit(
        &self,
        attrs: &Attributes<'_>,
        mut obj: Option<&mut Value>,
    ) -> Result<(), ApiError> {
        for plugin in &self.plugins {
            plugin.admit(attrs, obj.as_deref_mut()).await?;
        }
        Ok(())
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.plugins.iter().map(|p| p.name()).collect()
    }
}

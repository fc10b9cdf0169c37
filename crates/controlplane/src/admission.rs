//! The trivial admission plugins: AlwaysAdmit and AlwaysDeny (upstream's
//! plugin/pkg/admission/admit and deny).

use apimachinery::errors::ApiError;
use apiserver::admission::{AdmissionPlugin, Attributes};
use serde_json::Value;

/// Admits everything.
pub struct AlwaysAdmit;

#[async_trait::async_trait]
impl AdmissionPlugin for AlwaysAdmit {
    fn name(&self) -> &'static str {
        "AlwaysAdmit"
    }

    async fn admit(&self, _: &Attributes<'_>, _: Option<&mut Value>) -> Result<(), ApiError> {
        Ok(())
    }
}

/// Refuses every write.
pub struct AlwaysDeny;

#[async_trait::async_trait]
impl AdmissionPlugin for AlwaysDeny {
    fn name(&self) -> &'static str {
        "AlwaysDeny"
    }

    async fn admit(&self, attrs: &Attributes<'_>, _: Option<&mut Value>) -> Result<(), ApiError> {
        Err(ApiError::forbidden(
            &attrs.resource.group,
            &attrs.resource.plural,
            attrs.name,
            "admission control is denying all modifications",
        ))
    }
}

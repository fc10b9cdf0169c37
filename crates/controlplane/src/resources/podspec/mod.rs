//! Pod specs as upstream defaults and validates them, for Pods and for every kind that
//! carries a pod template (Deployments, Jobs, ...).

mod containers;
mod defaults;
pub mod image;
mod validation;
mod volumes;

pub use containers::validate_image_whitespace;
pub use defaults::{default_pod, default_pod_spec, default_pod_template};
pub use validation::{
    validate_pod_spec, validate_pod_spec_for, validate_pod_template_spec, validate_tolerations,
};

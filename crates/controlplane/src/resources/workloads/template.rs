//! The pod templates of workload objects: defaulted and validated by the shared pod spec
//! rules (`podspec`), except a StatefulSet's, of which upstream checks only the metadata.

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use serde_json::Value;

use crate::resources::podspec;

/// Upstream's pod template defaults.
pub fn default_template(template: &mut Value) {
    podspec::default_pod_template(template);
}

/// `ValidatePodTemplateSpec`.
pub fn validate_template(template: &Value, path: &FieldPath) -> Vec<FieldError> {
    podspec::validate_pod_template_spec(template, path)
}

/// What upstream checks of a StatefulSet's template (its metadata only: the pod spec is
/// left to the pods it creates, as upstream's `ValidatePodTemplateSpecForStatefulSet`).
pub fn validate_template_metadata(template: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let meta = template.get("metadata").unwrap_or(&Value::Null);
    if let Some(labels) = meta.get("labels").and_then(Value::as_object) {
        errs.extend(validation::validate_labels(labels, &path.child("labels")));
    }
    if let Some(annotations) = meta.get("annotations").and_then(Value::as_object) {
        errs.extend(validation::validate_annotations(
            annotations,
            &path.child("annotations"),
        ));
    }
    errs
}

//! The pod templates of workload objects: where their defaults and validation come from.
//!
//! TODO(pods): once the `podspec` module lands, default with `podspec::default_pod_template`
//! and validate with `podspec::validate_pod_template_spec`; until then only the template's
//! own metadata is checked, as upstream's `ValidatePodTemplateSpec` starts with.

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use serde_json::Value;

/// Upstream's pod template defaults (today: none beyond what the workloads set).
pub fn default_template(_template: &mut Value) {}

/// `ValidatePodTemplateSpec` as far as it is built: the template's labels and annotations
/// (reported under `<path>.labels` and `<path>.annotations`, as upstream does).
pub fn validate_template(template: &Value, path: &FieldPath) -> Vec<FieldError> {
    validate_template_metadata(template, path)
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

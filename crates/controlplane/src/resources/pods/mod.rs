//! `pods` (core/v1): the declaration and upstream's pod strategy — defaults and
//! validation of the spec (shared with pod templates, `podspec`), status reset on create,
//! the narrow updates a pod accepts, the `status` subresource, `kubectl get pods` columns
//! and field selectors.

mod qos;
mod status;
mod subresources;
mod table;
mod update;

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use apiserver::registry::{meta, Cell, ColumnDef, DefaultStrategy, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::fields::{array, str_of};
use super::podspec;
use crate::types::Typed;

pub use qos::compute as qos_class;

/// The annotation that marks a kubelet's mirror of a static pod.
const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";
/// The annotation ReplicaSets read to pick pods to remove first.
const DELETION_COST_ANNOTATION: &str = "controller.kubernetes.io/pod-deletion-cost";

pub struct PodStrategy;

fn spec(obj: &Value) -> &Value {
    obj.get("spec").unwrap_or(&Value::Null)
}

/// Whether a pod is bound to a node (`spec.nodeName` set): only a bound pod's deletion
/// waits for its grace period.
pub fn is_bound(pod: &Value) -> bool {
    !str_of(spec(pod), "nodeName").is_empty()
}

/// The grace period a DELETE of `pod` gets (upstream's `CheckGracefulDelete`): the one
/// asked for, else the pod's `terminationGracePeriodSeconds`; zero for a pod never bound
/// or already finished; a negative request counts as 1.
pub fn deletion_grace_period(pod: &Value, requested: Option<i64>) -> i64 {
    let mut period = requested.unwrap_or_else(|| {
        spec(pod)
            .get("terminationGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0)
    });
    let phase = pod.get("status").map(|s| str_of(s, "phase")).unwrap_or("");
    if !is_bound(pod) || phase == "Failed" || phase == "Succeeded" {
        period = 0;
    }
    if period < 0 {
        period = 1;
    }
    period
}

fn annotations(obj: &Value) -> serde_json::Map<String, Value> {
    meta::meta(obj)
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// `ValidatePodSpecificAnnotations`: a mirror pod names its node; a deletion cost is an
/// int32.
fn validate_annotations(obj: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("metadata").child("annotations");
    let annotations = annotations(obj);
    let mut errs = Vec::new();
    if let Some(value) = annotations.get(MIRROR_POD_ANNOTATION) {
        if !is_bound(obj) {
            errs.push(FieldError::invalid(
                &path.key(MIRROR_POD_ANNOTATION),
                value.clone(),
                "must set spec.nodeName if mirror pod annotation is set",
            ));
        }
    }
    if let Some(cost) = annotations.get(DELETION_COST_ANNOTATION) {
        let text = cost.as_str().unwrap_or("");
        if text.parse::<i32>().is_err() {
            errs.push(FieldError::invalid(
                &path.key(DELETION_COST_ANNOTATION),
                json!(text),
                "must be a 32bit integer",
            ));
        }
    }
    errs
}

/// `ValidatePodSpecificAnnotationUpdates`: the mirror annotation is neither added, changed
/// nor removed.
fn validate_annotation_updates(new: &Value, old: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("metadata").child("annotations");
    let (new_a, old_a) = (annotations(new), annotations(old));
    match (
        new_a.get(MIRROR_POD_ANNOTATION),
        old_a.get(MIRROR_POD_ANNOTATION),
    ) {
        (Some(n), Some(o)) if n != o => vec![FieldError::forbidden(
            &path.key(MIRROR_POD_ANNOTATION),
            "may not remove or update mirror pod annotation",
        )],
        (None, Some(_)) => vec![FieldError::forbidden(
            &path.key(MIRROR_POD_ANNOTATION),
            "may not remove or update mirror pod annotation",
        )],
        (Some(_), None) => vec![FieldError::forbidden(
            &path.key(MIRROR_POD_ANNOTATION),
            "may not add mirror pod annotation",
        )],
        _ => Vec::new(),
    }
}

/// `validatePodMetadataAndSpec` beyond metadata, plus the checks only a create makes
/// (`ValidatePodCreate`).
fn validate_pod(obj: &Value, creating: bool) -> Vec<FieldError> {
    let spec_path = FieldPath::new("spec");
    let spec = spec(obj);
    let mut errs = validate_annotations(obj);
    errs.extend(podspec::validate_pod_spec_for(spec, &spec_path, true));
    if str_of(spec, "serviceAccountName").is_empty() {
        for (vi, volume) in array(spec, "volumes").iter().enumerate() {
            let Some(projected) = volume.get("projected").filter(|p| !p.is_null()) else {
                continue;
            };
            for (si, source) in array(projected, "sources").iter().enumerate() {
                if source
                    .get("serviceAccountToken")
                    .is_some_and(|t| !t.is_null())
                {
                    errs.push(FieldError::forbidden(
                        &spec_path
                            .child("volumes")
                            .index(vi)
                            .child("projected")
                            .child("sources")
                            .index(si)
                            .child("serviceAccountToken"),
                        "must not be specified when serviceAccountName is not set",
                    ));
                }
            }
        }
    }
    for list in ["containers", "initContainers"] {
        for (i, ctr) in array(spec, list).iter().enumerate() {
            errs.extend(podspec::validate_image_whitespace(
                ctr,
                &spec_path.child(list).index(i),
            ));
        }
    }
    if creating {
        if !array(spec, "ephemeralContainers").is_empty() {
            errs.push(FieldError::forbidden(
                &spec_path.child("ephemeralContainers"),
                "cannot be set on create",
            ));
        }
        if is_bound(obj) && !array(spec, "schedulingGates").is_empty() {
            errs.push(FieldError::forbidden(
                &spec_path.child("nodeName"),
                "cannot be set until all schedulingGates have been cleared",
            ));
        }
    }
    errs
}

/// The status a new pod starts with: `Pending`, its QoS class (kept when the client gave
/// one, as upstream does), and a `SchedulingGated` condition when gates hold it.
fn initial_status(obj: &Value) -> Value {
    let given = obj
        .get("status")
        .map(|s| str_of(s, "qosClass"))
        .filter(|q| !q.is_empty());
    let qos = given.unwrap_or_else(|| qos::compute(spec(obj)));
    let mut status = json!({"phase": "Pending", "qosClass": qos});
    if !array(spec(obj), "schedulingGates").is_empty() {
        status["conditions"] = json!([{
            "type": "PodScheduled",
            "status": "False",
            "lastProbeTime": null,
            "lastTransitionTime": apimachinery::time::now_rfc3339(),
            "reason": "SchedulingGated",
            "message": "Scheduling is blocked due to non-empty scheduling gates",
        }]);
    }
    status
}

impl Strategy for PodStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        podspec::default_pod(obj);
        let status = initial_status(obj);
        if let Some(m) = obj.as_object_mut() {
            m.insert("status".to_string(), status);
        }
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        podspec::default_pod(new);
        if let Some(m) = new.as_object_mut() {
            match old.get("status") {
                Some(s) => m.insert("status".to_string(), s.clone()),
                None => m.remove("status"),
            };
        }
    }

    /// Runs on every write; only a create has no resource version yet.
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_pod(obj, meta::resource_version(obj).is_empty())
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = validate_annotation_updates(new, old);
        errs.extend(update::validate(new, old));
        errs
    }

    fn warnings_on_create(&self, obj: &Value) -> Vec<String> {
        let msgs = validation::is_dns1123_label(meta::name(obj));
        if msgs.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS label is recommended: [{}]",
            msgs.join(" ")
        )]
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn generation_changed(&self, new: &Value, old: &Value) -> bool {
        spec(new) != spec(old)
    }

    fn subresource_update(&self, subresource: &str, new: &Value, old: &Value) -> Option<Value> {
        match subresource {
            "ephemeralcontainers" => {
                let mut merged = subresources::ephemeral_containers_update(new, old);
                podspec::default_pod(&mut merged);
                Some(merged)
            }
            "resize" => Some(subresources::resize_update(new, old)),
            _ => {
                let mut merged = DefaultStrategy.subresource_update(subresource, new, old)?;
                if subresource == "status" {
                    podspec::default_pod(&mut merged);
                    status::prepare(&mut merged, old);
                }
                Some(merged)
            }
        }
    }

    fn graceful_delete_period(&self, obj: &Value, requested: Option<i64>) -> Option<i64> {
        Some(deletion_grace_period(obj, requested))
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        old: &Value,
    ) -> Vec<FieldError> {
        match subresource {
            "ephemeralcontainers" => return subresources::validate_ephemeral_containers(new, old),
            "resize" => return subresources::validate_resize(new, old),
            "status" => {}
            _ => return Vec::new(),
        }
        let mut errs = validate_annotation_updates(new, old);
        errs.extend(status::validate(new, old));
        errs
    }

    fn return_deleted_object(&self) -> bool {
        true
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        table::columns()
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        table::cells(obj)
    }

    fn selectable_fields(&self) -> &[&'static str] {
        &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ]
    }

    /// Upstream's pod storage files watchers by node, so that a kubelet's watch is woken
    /// only by its own pods.
    fn watch_trigger_field(&self) -> Option<&'static str> {
        Some("spec.nodeName")
    }

    /// Upstream's `ToSelectableFields`: every field has a value (`""`, `false` when
    /// unset), and `status.podIP` is the first of `status.podIPs`.
    fn field_value(&self, obj: &Value, field: &str) -> Option<String> {
        let status = obj.get("status").unwrap_or(&Value::Null);
        let value = match field {
            "spec.nodeName"
            | "spec.restartPolicy"
            | "spec.schedulerName"
            | "spec.serviceAccountName" => str_of(spec(obj), &field["spec.".len()..]).to_string(),
            "spec.hostNetwork" => {
                (spec(obj).get("hostNetwork").and_then(Value::as_bool) == Some(true)).to_string()
            }
            "status.phase" | "status.nominatedNodeName" => {
                str_of(status, &field["status.".len()..]).to_string()
            }
            "status.podIP" => array(status, "podIPs")
                .first()
                .map_or("", |p| str_of(p, "ip"))
                .to_string(),
            other => return DefaultStrategy.field_value(obj, other),
        };
        Some(value)
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "",
        "v1",
        "Pod",
        "pods",
        Scope::Namespaced,
        Arc::new(PodStrategy),
    )
    .typed()
    .with_short_names(&["po"])
    .with_categories(&["all"])
    .with_subresources(&["ephemeralcontainers", "resize", "status"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(spec: Value) -> Value {
        let mut pod = json!({"metadata": {"name": "p", "namespace": "default"}, "spec": spec,
            "status": {"phase": "Running", "podIP": "1.2.3.4"}});
        PodStrategy.prepare_for_create(&mut pod);
        pod
    }

    #[test]
    fn create_defaults_the_spec_and_resets_the_status() {
        let pod = created(json!({"containers": [{"name": "c", "image": "nginx",
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}));
        assert_eq!(
            pod["status"],
            json!({"phase": "Pending", "qosClass": "Guaranteed"})
        );
        assert_eq!(
            pod["spec"]["containers"][0]["resources"]["requests"],
            json!({"cpu": "1", "memory": "1Gi"})
        );
        assert!(PodStrategy.validate(&pod).is_empty());
    }

    #[test]
    fn gated_pods_get_a_condition_and_no_node() {
        let pod = created(
            json!({"nodeName": "n1", "schedulingGates": [{"name": "example.com/wait"}],
            "containers": [{"name": "c", "image": "nginx"}]}),
        );
        assert_eq!(pod["status"]["conditions"][0]["reason"], "SchedulingGated");
        let msgs: Vec<String> = PodStrategy
            .validate(&pod)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            msgs,
            ["spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared"]
        );
    }

    #[test]
    fn grace_periods_follow_binding_and_phase() {
        let unbound = created(json!({"containers": [{"name": "c", "image": "x"}]}));
        assert_eq!(deletion_grace_period(&unbound, None), 0);
        let mut bound =
            created(json!({"nodeName": "n1", "containers": [{"name": "c", "image": "x"}]}));
        assert!(is_bound(&bound));
        assert_eq!(deletion_grace_period(&bound, None), 30);
        assert_eq!(deletion_grace_period(&bound, Some(-5)), 1);
        bound["status"]["phase"] = json!("Succeeded");
        assert_eq!(deletion_grace_period(&bound, Some(10)), 0);
    }

    #[test]
    fn field_selectors_as_upstream() {
        let mut pod = created(json!({"containers": [{"name": "c", "image": "x"}]}));
        pod["status"]["podIPs"] = json!([{"ip": "10.0.0.9"}, {"ip": "fd00::9"}]);
        let value = |f: &str| PodStrategy.field_value(&pod, f);
        assert_eq!(value("spec.hostNetwork").as_deref(), Some("false"));
        assert_eq!(value("spec.nodeName").as_deref(), Some(""));
        assert_eq!(value("spec.restartPolicy").as_deref(), Some("Always"));
        assert_eq!(value("status.phase").as_deref(), Some("Pending"));
        assert_eq!(value("status.podIP").as_deref(), Some("10.0.0.9"));
    }

    #[test]
    fn status_writes_keep_the_spec_and_the_qos_class() {
        let old = created(json!({"containers": [{"name": "c", "image": "x"}]}));
        let mut new = old.clone();
        new["spec"]["nodeName"] = json!("elsewhere");
        new["status"] = json!({"phase": "Running", "podIP": "10.0.0.3"});
        let merged = PodStrategy
            .subresource_update("status", &new, &old)
            .expect("pods have status");
        assert_eq!(merged["spec"], old["spec"]);
        assert_eq!(merged["status"]["qosClass"], "BestEffort");
        assert_eq!(merged["status"]["podIPs"], json!([{"ip": "10.0.0.3"}]));
        assert!(PodStrategy
            .validate_subresource_update("status", &merged, &old)
            .is_empty());
    }
}

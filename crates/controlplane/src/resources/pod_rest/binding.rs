//! `pods/binding`: a scheduler assigns a pod to a node (upstream's `BindingREST`). The
//! pod must exist, not be bound yet and not be being deleted; its `spec.nodeName` is set,
//! the binding's annotations are merged into the pod's, and `PodScheduled` turns true.

use apimachinery::errors::{ApiError, FieldError, FieldPath};
use apimachinery::time as ktime;
use apiserver::admission::{Attributes, Operation};
use apiserver::registry::{meta, Created, RequestContext, Store, SubresourceRest};
use serde_json::{json, Value};

/// Writes of the pod retried when it changes under the binding.
const RETRIES: usize = 8;

pub struct BindingRest;

/// Upstream's `ValidatePodBinding`.
fn validate(binding: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let target = FieldPath::new("target");
    let kind = binding
        .pointer("/target/kind")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !kind.is_empty() && kind != "Node" {
        errs.push(FieldError::not_supported(
            &target.child("kind"),
            json!(kind),
            &["Node", "<empty>"],
        ));
    }
    let name = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() {
        errs.push(FieldError::required(&target.child("name"), ""));
    }
    errs
}

/// A field error list as Go's `ToAggregate` prints it: one message, or `[a, b]`.
pub(super) fn aggregate(errs: &[FieldError]) -> String {
    match errs {
        [one] => one.to_string(),
        many => format!(
            "[{}]",
            many.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Sets a pod condition as upstream's `UpdatePodCondition`: the transition time moves
/// only when the status changes.
pub(super) fn set_condition(
    pod: &mut Value,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
) {
    let now = ktime::now_rfc3339();
    let Some(obj) = pod.as_object_mut() else {
        return;
    };
    let status_obj = obj.entry("status").or_insert_with(|| json!({}));
    if !status_obj.is_object() {
        *status_obj = json!({});
    }
    let conditions = status_obj
        .as_object_mut()
        .map(|s| s.entry("conditions").or_insert_with(|| json!([])));
    let Some(Value::Array(conditions)) = conditions else {
        return;
    };
    let mut new =
        json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": now});
    if !reason.is_empty() {
        new["reason"] = json!(reason);
    }
    if !message.is_empty() {
        new["message"] = json!(message);
    }
    match conditions.iter_mut().find(|c| c["type"] == json!(kind)) {
        Some(existing) => {
            if existing["status"] == json!(status) {
                new["lastTransitionTime"] = existing
                    .get("lastTransitionTime")
                    .cloned()
                    .unwrap_or(Value::Null);
            }
            *existing = new;
        }
        None => conditions.push(new),
    }
}

#[async_trait::async_trait]
impl SubresourceRest for BindingRest {
    async fn create(
        &self,
        store: &Store,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        binding: Value,
    ) -> Result<Created, ApiError> {
        if meta::name(&binding) != name {
            return Err(ApiError::bad_request(
                "name in URL does not match name in Binding object",
            ));
        }
        let errs = validate(&binding);
        if !errs.is_empty() {
            // Upstream returns the list as a plain error: a 500 without a reason.
            return Err(ApiError::new(500, "", &aggregate(&errs)));
        }
        store
            .admission()
            .validate(
                &Attributes {
                    operation: Operation::Create,
                    resource: &store.decl,
                    subresource: "binding",
                    kind: "Binding",
                    namespace,
                    name,
                    old: None,
                    options: ctx.options.as_ref(),
                    user: &ctx.user,
                    dry_run: ctx.dry_run,
                    warnings: &ctx.warnings,
                },
                Some(&binding),
            )
            .await?;
        let node = binding
            .pointer("/target/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let annotations = meta::meta(&binding)
            .and_then(|m| m.get("annotations"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let conflict = |message: String| ApiError::conflict("", "pods/binding", name, &message);
        for _ in 0..RETRIES {
            let pod = store.get(namespace, name).await?;
            if meta::deletion_started(&pod) {
                return Err(conflict(format!(
                    "pod {name} is being deleted, cannot be assigned to a host"
                )));
            }
            let bound = pod
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !bound.is_empty() {
                return Err(conflict(format!(
                    "pod {name} is already assigned to node {}",
                    apimachinery::go_quote(bound)
                )));
            }
            let mut assigned = pod.clone();
            assigned["spec"]["nodeName"] = json!(node);
            if !annotations.is_empty() {
                let mut merged = meta::meta(&pod)
                    .and_then(|m| m.get("annotations"))
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                merged.extend(annotations.clone());
                meta::set_meta(&mut assigned, "annotations", Some(Value::Object(merged)));
            }
            set_condition(&mut assigned, "PodScheduled", "True", "", "");
            if ctx.dry_run {
                break;
            }
            match store.write_system(namespace, name, &pod, assigned).await {
                Ok(_) => break,
                Err(e) if e.code == 409 => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(Created {
            code: 201,
            body: json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
        })
    }
}

//! The pod subresources that write part of the pod: `ephemeralcontainers` (debug
//! containers may be added, never changed or removed) and `resize` (container cpu and
//! memory resources changed in place). Each takes only its part from the request; the
//! rest of the pod, metadata included, stays as stored (upstream's
//! `ResetObjectMetaForStatus`).

use apimachinery::errors::{FieldError, FieldPath};
use serde_json::{json, Value};

/// The stored pod with `spec.ephemeralContainers` from the request.
pub fn ephemeral_containers_update(new: &Value, old: &Value) -> Value {
    let mut merged = old.clone();
    let containers = new
        .pointer("/spec/ephemeralContainers")
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(spec) = merged.get_mut("spec").and_then(Value::as_object_mut) {
        if containers.is_null() {
            spec.remove("ephemeralContainers");
        } else {
            spec.insert("ephemeralContainers".into(), containers);
        }
    }
    merged
}

fn ephemeral(pod: &Value) -> Vec<Value> {
    pod.pointer("/spec/ephemeralContainers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn name_of(c: &Value) -> &str {
    c.get("name").and_then(Value::as_str).unwrap_or("")
}

/// Upstream's `ValidatePodEphemeralContainersUpdate`: every ephemeral container the pod
/// had is still there, unchanged.
pub fn validate_ephemeral_containers(new: &Value, old: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("spec").child("ephemeralContainers");
    let now = ephemeral(new);
    let mut errs = Vec::new();
    for before in ephemeral(old) {
        let name = name_of(&before);
        match now.iter().position(|c| name_of(c) == name) {
            None => errs.push(FieldError::forbidden(
                &path,
                &format!(
                    "existing ephemeral containers {} may not be removed\n",
                    apimachinery::go_quote(name)
                ),
            )),
            Some(i) if now[i] != before => errs.push(FieldError::forbidden(
                &path,
                &format!(
                    "existing ephemeral containers {} may not be changed\n",
                    apimachinery::go_quote(name)
                ),
            )),
            Some(_) => {}
        }
    }
    errs
}

/// The stored pod with the containers' `resources` and `resizePolicy` from the request.
/// A request that adds, removes, reorders or renames containers is taken as it is, for
/// validation to refuse.
pub fn resize_update(new: &Value, old: &Value) -> Value {
    let mut merged = old.clone();
    for list in ["containers", "initContainers"] {
        let ptr = format!("/spec/{list}");
        let (Some(wanted), Some(stored)) = (
            new.pointer(&ptr).and_then(Value::as_array).cloned(),
            merged.pointer_mut(&ptr).and_then(Value::as_array_mut),
        ) else {
            continue;
        };
        if wanted.len() != stored.len()
            || wanted
                .iter()
                .zip(stored.iter())
                .any(|(a, b)| name_of(a) != name_of(b))
        {
            return new.clone();
        }
        for (c, w) in stored.iter_mut().zip(wanted.iter()) {
            for field in ["resources", "resizePolicy"] {
                match w.get(field) {
                    Some(v) => c[field] = v.clone(),
                    None => {
                        if let Some(m) = c.as_object_mut() {
                            m.remove(field);
                        }
                    }
                }
            }
        }
    }
    merged
}

/// A resize changes only cpu and memory and keeps the pod's QoS class (upstream's
/// `ValidatePodResize`, its main rules).
pub fn validate_resize(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = FieldPath::new("spec");
    for list in ["containers", "initContainers"] {
        let ptr = format!("/spec/{list}");
        let (now, before) = (
            new.pointer(&ptr)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            old.pointer(&ptr)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        );
        if now.len() != before.len()
            || now
                .iter()
                .zip(before.iter())
                .any(|(a, b)| name_of(a) != name_of(b))
        {
            errs.push(FieldError::forbidden(
                &spec.child(list),
                "containers may not be added, removed, reordered or renamed by a resize",
            ));
            continue;
        }
        for (i, (a, b)) in now.iter().zip(before.iter()).enumerate() {
            let path = spec.child(list).index(i).child("resources");
            for kind in ["requests", "limits"] {
                let (x, y) = (
                    a.pointer(&format!("/resources/{kind}"))
                        .cloned()
                        .unwrap_or(json!({})),
                    b.pointer(&format!("/resources/{kind}"))
                        .cloned()
                        .unwrap_or(json!({})),
                );
                let keys: std::collections::BTreeSet<&String> = x
                    .as_object()
                    .into_iter()
                    .chain(y.as_object())
                    .flat_map(|m| m.keys())
                    .collect();
                if keys.iter().any(|k| {
                    !matches!(k.as_str(), "cpu" | "memory")
                        && x.get(k.as_str()) != y.get(k.as_str())
                }) {
                    errs.push(FieldError::forbidden(
                        &path,
                        "only cpu and memory resources are mutable",
                    ));
                }
            }
        }
    }
    let qos = |pod: &Value| super::qos::compute(pod.get("spec").unwrap_or(&Value::Null));
    if errs.is_empty() && qos(new) != qos(old) {
        errs.push(FieldError::forbidden(
            &spec,
            "Pod QOS Class may not change as a result of resizing",
        ));
    }
    errs
}

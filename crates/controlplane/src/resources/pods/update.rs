//! Which updates a Pod accepts (upstream's `ValidatePodUpdate`): images, a shorter
//! `activeDeadlineSeconds`, added tolerations and removed scheduling gates; anything else
//! in the spec is refused with the list of what may change and a diff of what did.

use std::collections::BTreeSet;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use serde_json::{json, Value};

use super::super::fields::{array, str_of};

const MAX_INT32: i64 = 2_147_483_647;

/// Upstream's `updatablePodSpecFields`, as its message lists them.
const UPDATABLE: [&str; 5] = [
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
];

fn spec(obj: &Value) -> &Value {
    obj.get("spec").unwrap_or(&Value::Null)
}

/// `ValidateContainerUpdates`: the same number of containers, each with an image; `true`
/// when validation stops here.
fn container_updates(new: &[Value], old: &[Value], path: &FieldPath) -> (Vec<FieldError>, bool) {
    if new.len() != old.len() {
        return (
            vec![FieldError::forbidden(
                path,
                "pod updates may not add or remove containers",
            )],
            true,
        );
    }
    let mut errs = Vec::new();
    for (i, ctr) in new.iter().enumerate() {
        let image = str_of(ctr, "image");
        if image.is_empty() {
            errs.push(FieldError::required(&path.index(i).child("image"), ""));
        }
        if image.trim() != image {
            errs.push(FieldError::invalid(
                &path.index(i).child("image"),
                json!(image),
                "must not have leading or trailing whitespace",
            ));
        }
    }
    (errs, false)
}

/// `ValidatePodUpdate` beyond what every write of a pod checks.
pub fn validate(new: &Value, old: &Value) -> Vec<FieldError> {
    let spec_path = FieldPath::new("spec");
    let (new_spec, old_spec) = (spec(new), spec(old));
    let mut errs = Vec::new();
    for list in ["containers", "initContainers"] {
        let (e, stop) = container_updates(
            array(new_spec, list),
            array(old_spec, list),
            &spec_path.child(list),
        );
        errs.extend(e);
        if stop {
            return errs;
        }
    }
    let deadline_path = spec_path.child("activeDeadlineSeconds");
    let new_deadline = new_spec
        .get("activeDeadlineSeconds")
        .and_then(Value::as_i64);
    let old_deadline = old_spec
        .get("activeDeadlineSeconds")
        .and_then(Value::as_i64);
    match (new_deadline, old_deadline) {
        (Some(n), _) if !(0..=MAX_INT32).contains(&n) => {
            errs.push(FieldError::invalid(
                &deadline_path,
                json!(n),
                &validation::inclusive_range_error(0, MAX_INT32),
            ));
            return errs;
        }
        (Some(n), Some(o)) if o < n => {
            errs.push(FieldError::invalid(
                &deadline_path,
                json!(n),
                "must be less than or equal to previous value",
            ));
            return errs;
        }
        (None, Some(_)) => errs.push(FieldError::invalid(
            &deadline_path,
            Value::Null,
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }
    errs.extend(only_added_tolerations(
        array(new_spec, "tolerations"),
        array(old_spec, "tolerations"),
        &spec_path.child("tolerations"),
    ));
    errs.extend(only_deleted_gates(
        array(new_spec, "schedulingGates"),
        array(old_spec, "schedulingGates"),
        &spec_path.child("schedulingGates"),
    ));
    if new_spec == old_spec {
        return errs;
    }
    let munged = munge(new_spec, old_spec);
    if munged != *old_spec {
        errs.push(FieldError::forbidden(
            &spec_path,
            &format!(
                "pod updates may not change fields other than {}\n{}",
                UPDATABLE.join(","),
                diff(old_spec, &munged)
            ),
        ));
    }
    errs
}

/// The new spec with the fields an update may change taken from the old one.
fn munge(new: &Value, old: &Value) -> Value {
    let mut munged = new.clone();
    let Some(m) = munged.as_object_mut() else {
        return munged;
    };
    for list in ["containers", "initContainers"] {
        if let Some(containers) = m.get_mut(list).and_then(Value::as_array_mut) {
            for (i, c) in containers.iter_mut().enumerate() {
                let image = array(old, list)
                    .get(i)
                    .and_then(|o| o.get("image"))
                    .cloned();
                if let (Some(c), Some(image)) = (c.as_object_mut(), image) {
                    c.insert("image".to_string(), image);
                }
            }
        }
    }
    for field in ["activeDeadlineSeconds", "schedulingGates", "tolerations"] {
        match old.get(field) {
            Some(v) => {
                m.insert(field.to_string(), v.clone());
            }
            None => {
                m.remove(field);
            }
        }
    }
    let old_grace = old
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64);
    let new_grace = m
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64);
    if old_grace.is_some_and(|g| g < 0) && new_grace == Some(1) {
        m.insert(
            "terminationGracePeriodSeconds".to_string(),
            json!(old_grace),
        );
    }
    munged
}

/// `validateOnlyAddedTolerations`: every old toleration is still there (its
/// `tolerationSeconds` may change), and the new list is valid.
fn only_added_tolerations(new: &[Value], old: &[Value], path: &FieldPath) -> Vec<FieldError> {
    let without_seconds = |t: &Value| {
        let mut t = t.clone();
        if let Some(m) = t.as_object_mut() {
            m.remove("tolerationSeconds");
        }
        t
    };
    for o in old {
        let o = without_seconds(o);
        if !new.iter().any(|n| without_seconds(n) == o) {
            return vec![FieldError::forbidden(
                path,
                "existing toleration can not be modified except its tolerationSeconds",
            )];
        }
    }
    crate::resources::podspec::validate_tolerations(new, path)
}

/// `validateOnlyDeletedSchedulingGates`.
fn only_deleted_gates(new: &[Value], old: &[Value], path: &FieldPath) -> Vec<FieldError> {
    let old_names: BTreeSet<&str> = old.iter().map(|g| str_of(g, "name")).collect();
    new.iter()
        .enumerate()
        .filter(|(_, g)| !old_names.contains(str_of(g, "name")))
        .map(|(i, g)| {
            FieldError::forbidden(
                &path.index(i).child("name"),
                &format!(
                    "only deletion is allowed, but found new scheduling gate '{}'",
                    str_of(g, "name")
                ),
            )
        })
        .collect()
}

/// A readable diff of two specs: one `-`/`+` line pair per changed field, by path.
/// (Upstream prints Go's `cmp.Diff` of its internal types, whose layout it calls unstable.)
pub fn diff(old: &Value, new: &Value) -> String {
    let mut lines = Vec::new();
    diff_into("spec", old, new, &mut lines);
    lines.join("\n")
}

fn diff_into(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
            for k in keys {
                let null = Value::Null;
                diff_into(
                    &format!("{path}.{k}"),
                    o.get(k).unwrap_or(&null),
                    n.get(k).unwrap_or(&null),
                    out,
                );
            }
        }
        (Value::Array(o), Value::Array(n)) if o.len() == n.len() => {
            for (i, (a, b)) in o.iter().zip(n).enumerate() {
                diff_into(&format!("{path}[{i}]"), a, b, out);
            }
        }
        _ => {
            if !old.is_null() {
                out.push(format!("- {path}: {old}"));
            }
            if !new.is_null() {
                out.push(format!("+ {path}: {new}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(spec: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": spec})
    }

    #[test]
    fn images_deadlines_and_tolerations_may_change() {
        let old = pod(
            json!({"containers": [{"name": "c", "image": "a"}], "activeDeadlineSeconds": 100,
            "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}]}),
        );
        let new = pod(
            json!({"containers": [{"name": "c", "image": "b"}], "activeDeadlineSeconds": 50,
            "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 9}, {"key": "x", "operator": "Exists"}]}),
        );
        assert_eq!(validate(&new, &old), Vec::new());
    }

    #[test]
    fn other_changes_are_refused_with_a_diff() {
        let old =
            pod(json!({"containers": [{"name": "c", "image": "a"}], "restartPolicy": "Always"}));
        let new =
            pod(json!({"containers": [{"name": "c", "image": "a"}], "restartPolicy": "Never"}));
        let errs = validate(&new, &old);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec");
        assert_eq!(
            errs[0].detail,
            format!("pod updates may not change fields other than {}\n- spec.restartPolicy: \"Always\"\n+ spec.restartPolicy: \"Never\"", UPDATABLE.join(","))
        );
        let more =
            pod(json!({"containers": [{"name": "c", "image": "a"}, {"name": "d", "image": "a"}]}));
        assert_eq!(
            validate(&more, &old)[0].to_string(),
            "spec.containers: Forbidden: pod updates may not add or remove containers"
        );
        let longer =
            pod(json!({"containers": [{"name": "c", "image": "a"}], "activeDeadlineSeconds": 200}));
        let with_deadline =
            pod(json!({"containers": [{"name": "c", "image": "a"}], "activeDeadlineSeconds": 100}));
        assert_eq!(
            validate(&longer, &with_deadline)[0].to_string(),
            "spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value"
        );
        let changed = pod(
            json!({"containers": [{"name": "c", "image": "a"}], "tolerations": [{"key": "k", "operator": "Equal", "value": "x"}]}),
        );
        let tolerating = pod(
            json!({"containers": [{"name": "c", "image": "a"}], "tolerations": [{"key": "k", "operator": "Exists"}]}),
        );
        assert_eq!(
            validate(&changed, &tolerating)[0].to_string(),
            "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"
        );
    }
}

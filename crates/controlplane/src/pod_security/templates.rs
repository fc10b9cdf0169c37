//! Where objects carry a pod, and which pod updates are worth checking again.

use serde_json::Value;

use super::checks::PodView;

/// The pod template's place in an object of a pod-controller resource (upstream's
/// `DefaultPodSpecExtractor`), or `None` for other resources.
pub fn template_pointer(group: &str, plural: &str) -> Option<&'static str> {
    match (group, plural) {
        ("", "replicationcontrollers")
        | ("apps", "replicasets" | "deployments" | "statefulsets" | "daemonsets")
        | ("batch", "jobs") => Some("/spec/template"),
        ("", "podtemplates") => Some("/template"),
        ("batch", "cronjobs") => Some("/spec/jobTemplate/spec/template"),
        _ => None,
    }
}

static NULL: Value = Value::Null;

/// A pod's metadata and spec.
pub fn pod_view(pod: &Value) -> PodView<'_> {
    PodView {
        meta: pod.get("metadata").unwrap_or(&NULL),
        spec: pod.get("spec").unwrap_or(&NULL),
    }
}

/// The template at `pointer` as a pod, when the object has one.
pub fn template_view<'a>(obj: &'a Value, pointer: &str) -> Option<PodView<'a>> {
    obj.pointer(pointer).filter(|t| !t.is_null()).map(pod_view)
}

/// Whether a pod update can change what the checks see: upstream re-checks a pod only when
/// containers are added or removed, an image changes, or an ephemeral container is added or
/// changes its image (the other fields the checks read cannot change on a pod).
pub fn significant_pod_update(new: &Value, old: &Value) -> bool {
    let list = |pod: &Value, key: &str| -> Vec<Value> {
        pod.pointer(&format!("/spec/{key}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let image = |c: &Value| {
        c.get("image")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    for key in ["containers", "initContainers"] {
        let (n, o) = (list(new, key), list(old, key));
        if n.len() != o.len() || n.iter().zip(&o).any(|(a, b)| image(a) != image(b)) {
            return true;
        }
    }
    let old_ephemeral = list(old, "ephemeralContainers");
    list(new, "ephemeralContainers").iter().any(|c| {
        let name = c.get("name");
        match old_ephemeral.iter().find(|o| o.get("name") == name) {
            None => true,
            Some(o) => image(c) != image(o),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn significant_updates() {
        let old = json!({"spec": {"containers": [{"name": "a", "image": "x"}]}});
        let labels_only = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}});
        assert!(!significant_pod_update(&labels_only, &old));
        let image = json!({"spec": {"containers": [{"name": "a", "image": "y"}]}});
        assert!(significant_pod_update(&image, &old));
        let ephemeral = json!({"spec": {"containers": [{"name": "a", "image": "x"}],
            "ephemeralContainers": [{"name": "debug", "image": "busybox"}]}});
        assert!(significant_pod_update(&ephemeral, &old));
        assert!(!significant_pod_update(&ephemeral, &ephemeral));
    }
}

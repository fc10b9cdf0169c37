//! The DefaultTolerationSeconds admission plugin: pods that do not tolerate the
//! `node.kubernetes.io/not-ready` and `node.kubernetes.io/unreachable` NoExecute taints get a
//! toleration for each, for a configured number of seconds (300 by default), so they are
//! evicted from a failed node after that time rather than at once.

use apimachinery::errors::ApiError;
use apiserver::admission::{AdmissionPlugin, Attributes, Operation};
use serde_json::{json, Value};

/// The taint a node gets while it is not ready.
pub const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";
/// The taint a node gets while it is unreachable.
pub const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";

/// The plugin, with the tolerationSeconds it gives.
pub struct DefaultTolerationSeconds {
    pub not_ready_seconds: i64,
    pub unreachable_seconds: i64,
}

impl DefaultTolerationSeconds {
    /// Adds the missing tolerations to a pod object.
    pub fn default_pod(&self, pod: &mut Value) {
        let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
            return;
        };
        let existing: &[Value] = spec
            .get("tolerations")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        let tolerates = |taint: &str| {
            existing.iter().any(|t| {
                let key = t.get("key").and_then(Value::as_str).unwrap_or("");
                let effect = t.get("effect").and_then(Value::as_str).unwrap_or("");
                (key.is_empty() || key == taint) && (effect.is_empty() || effect == "NoExecute")
            })
        };
        let mut added = Vec::new();
        for (taint, seconds) in [
            (NOT_READY_TAINT, self.not_ready_seconds),
            (UNREACHABLE_TAINT, self.unreachable_seconds),
        ] {
            if !tolerates(taint) {
                added.push(json!({
                    "key": taint,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": seconds,
                }));
            }
        }
        if added.is_empty() {
            return;
        }
        let list = spec
            .entry("tolerations")
            .or_insert_with(|| Value::Array(Vec::new()));
        if !list.is_array() {
            *list = Value::Array(Vec::new());
        }
        if let Some(list) = list.as_array_mut() {
            list.extend(added);
        }
    }
}

#[async_trait::async_trait]
impl AdmissionPlugin for DefaultTolerationSeconds {
    fn name(&self) -> &'static str {
        "DefaultTolerationSeconds"
    }

    fn handles(&self, operation: Operation) -> bool {
        matches!(operation, Operation::Create | Operation::Update)
    }

    async fn admit(&self, attrs: &Attributes<'_>, obj: Option<&mut Value>) -> Result<(), ApiError> {
        let decl = attrs.resource;
        if !attrs.subresource.is_empty() || !decl.group.is_empty() || decl.plural != "pods" {
            return Ok(());
        }
        if let Some(pod) = obj {
            self.default_pod(pod);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin() -> DefaultTolerationSeconds {
        DefaultTolerationSeconds {
            not_ready_seconds: 300,
            unreachable_seconds: 60,
        }
    }

    #[test]
    fn adds_both_tolerations_to_a_pod_without_any() {
        let mut pod = json!({"spec": {"containers": []}});
        plugin().default_pod(&mut pod);
        assert_eq!(
            pod["spec"]["tolerations"],
            json!([
                {"key": NOT_READY_TAINT, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": UNREACHABLE_TAINT, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60},
            ])
        );
    }

    #[test]
    fn keeps_a_pod_that_tolerates_them_already() {
        let own = json!({"key": NOT_READY_TAINT, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5});
        let mut pod = json!({"spec": {"tolerations": [own.clone()]}});
        plugin().default_pod(&mut pod);
        let list = pod["spec"]["tolerations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0], own);
        assert_eq!(list[1]["key"], UNREACHABLE_TAINT);

        // An empty key tolerates every taint, an empty effect every effect.
        let mut pod = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        plugin().default_pod(&mut pod);
        assert_eq!(pod["spec"]["tolerations"].as_array().map(Vec::len), Some(1));
        let mut pod = json!({"spec": {"tolerations": [{"key": UNREACHABLE_TAINT, "operator": "Exists", "effect": "NoSchedule"}]}});
        plugin().default_pod(&mut pod);
        assert_eq!(pod["spec"]["tolerations"].as_array().map(Vec::len), Some(3));
    }
}

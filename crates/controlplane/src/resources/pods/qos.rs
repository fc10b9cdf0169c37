//! A pod's quality of service class (upstream's `ComputePodQOS`), from the cpu and memory
//! requests and limits of its containers.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::fields::array;
use super::super::resourcelists;

const QOS_RESOURCES: [&str; 2] = ["cpu", "memory"];

/// Sums the non-zero cpu and memory quantities of `list` into `into`; returns which
/// resources were present.
fn add(list: Option<&Value>, into: &mut BTreeMap<&'static str, f64>) -> Vec<&'static str> {
    let mut found = Vec::new();
    for name in QOS_RESOURCES {
        let q = list
            .and_then(|l| l.get(name))
            .and_then(resourcelists::quantity)
            .map_or(0.0, |q| q.value);
        if q != 0.0 {
            *into.entry(name).or_default() += q;
            found.push(name);
        }
    }
    found
}

/// `Guaranteed` when every container limits cpu and memory and requests equal limits,
/// `BestEffort` when nothing is requested or limited, `Burstable` otherwise. Pod-level
/// resources, when set, decide instead of the containers'.
pub fn compute(spec: &Value) -> &'static str {
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    let mut guaranteed = true;
    let pod_level = spec.get("resources").filter(|r| {
        QOS_RESOURCES.iter().any(|n| {
            r.get("requests").and_then(|l| l.get(n)).is_some()
                || r.get("limits").and_then(|l| l.get(n)).is_some()
        })
    });
    if let Some(resources) = pod_level {
        add(resources.get("requests"), &mut requests);
        if add(resources.get("limits"), &mut limits).len() != QOS_RESOURCES.len() {
            guaranteed = false;
        }
    } else {
        for ctr in array(spec, "containers")
            .iter()
            .chain(array(spec, "initContainers"))
        {
            let resources = ctr.get("resources");
            add(resources.and_then(|r| r.get("requests")), &mut requests);
            let found = add(resources.and_then(|r| r.get("limits")), &mut limits);
            if found.len() != QOS_RESOURCES.len() {
                guaranteed = false;
            }
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed
        && requests.len() == limits.len()
        && requests
            .iter()
            .all(|(name, req)| limits.get(name).is_some_and(|lim| lim == req))
    {
        return "Guaranteed";
    }
    "Burstable"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(resources: Value) -> Value {
        json!({"containers": [{"name": "c", "resources": resources}]})
    }

    #[test]
    fn classes() {
        assert_eq!(compute(&spec(json!({}))), "BestEffort");
        assert_eq!(
            compute(&spec(json!({"requests": {"cpu": "100m"}}))),
            "Burstable"
        );
        let both = json!({"cpu": "1", "memory": "1Gi"});
        assert_eq!(
            compute(&spec(json!({"requests": both, "limits": both}))),
            "Guaranteed"
        );
        assert_eq!(
            compute(&spec(
                json!({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": both})
            )),
            "Burstable"
        );
        assert_eq!(
            compute(&spec(json!({"requests": {"example.com/gpu": "1"}}))),
            "BestEffort"
        );
    }
}

//! Writes of `pods/status` (upstream's `podStatusStrategy` and `ValidatePodStatusUpdate`):
//! the kubelet's and the scheduler's reports, which never change the spec.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use serde_json::{json, Value};

use super::super::fields::{array, str_of};
use super::super::netcheck;

/// The condition types the system owns; others must be qualified names.
const SYSTEM_CONDITIONS: [&str; 3] = ["PodScheduled", "Ready", "Initialized"];

fn status(obj: &Value) -> &Value {
    obj.get("status").unwrap_or(&Value::Null)
}

/// v1 conversion through the internal type, which keeps only the lists: a lone `podIP`
/// (`hostIP`) becomes the list, and the single field is always the list's first entry.
pub fn sync_ips(obj: &mut Value) {
    let Some(s) = obj.get_mut("status").and_then(Value::as_object_mut) else {
        return;
    };
    for (single, list) in [("podIP", "podIPs"), ("hostIP", "hostIPs")] {
        let ip = s
            .get(single)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let empty = s
            .get(list)
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        if empty {
            if !ip.is_empty() {
                s.insert(list.to_string(), json!([{"ip": ip}]));
            }
            continue;
        }
        let first = s
            .get(list)
            .and_then(|l| l.get(0))
            .and_then(|e| e.get("ip"))
            .cloned()
            .unwrap_or(Value::Null);
        s.insert(single.to_string(), first);
    }
}

/// `podStatusStrategy.PrepareForUpdate` on the object the status write builds: owner
/// references stay, the QoS class is backfilled, observed generations are kept.
pub fn prepare(merged: &mut Value, old: &Value) {
    let owners = old
        .get("metadata")
        .and_then(|m| m.get("ownerReferences"))
        .cloned();
    apiserver::registry::meta::set_meta(merged, "ownerReferences", owners);
    sync_ips(merged);
    let old_status = status(old).clone();
    let Some(s) = merged.get_mut("status").and_then(Value::as_object_mut) else {
        return;
    };
    if s.get("qosClass")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        if let Some(q) = old_status.get("qosClass") {
            s.insert("qosClass".to_string(), q.clone());
        }
    }
    let observed = s
        .get("observedGeneration")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if observed == 0 {
        if let Some(g) = old_status.get("observedGeneration") {
            s.insert("observedGeneration".to_string(), g.clone());
        }
    }
    // Remember the old conditions' observed generations, per type in order.
    let mut old_generations: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for c in array(&old_status, "conditions") {
        old_generations
            .entry(str_of(c, "type").to_string())
            .or_default()
            .push(c.get("observedGeneration").cloned().unwrap_or(json!(0)));
    }
    if let Some(conditions) = s.get_mut("conditions").and_then(Value::as_array_mut) {
        for c in conditions.iter_mut() {
            let kind = str_of(c, "type").to_string();
            let old_gen = old_generations
                .get_mut(&kind)
                .and_then(|g| (!g.is_empty()).then(|| g.remove(0)));
            let unset = c
                .get("observedGeneration")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                == 0;
            if let (true, Some(g), Some(m)) = (unset, old_gen, c.as_object_mut()) {
                if g.as_i64().unwrap_or(0) != 0 {
                    m.insert("observedGeneration".to_string(), g);
                }
            }
        }
    }
}

/// `validatePodIPs`/`validateHostIPs`: addresses, one per family, no duplicates.
pub fn validate_ips(obj: &Value, list: &str) -> Vec<FieldError> {
    let path = FieldPath::new("status").child(list);
    let ips: Vec<&str> = array(status(obj), list)
        .iter()
        .map(|e| str_of(e, "ip"))
        .collect();
    let mut errs = Vec::new();
    if list == "hostIPs" && !ips.is_empty() && str_of(status(obj), "hostIP") != ips[0] {
        errs.push(FieldError::invalid(
            &path.index(0).child("ip"),
            json!(ips[0]),
            "must be equal to `hostIP`",
        ));
    }
    for (i, ip) in ips.iter().enumerate() {
        errs.extend(netcheck::is_valid_ip(&path.index(i), ip));
    }
    if ips.len() > 1 {
        let families: Option<Vec<bool>> = ips
            .iter()
            .map(|ip| netcheck::parse_ip_sloppy(ip).map(|a| matches!(a, IpAddr::V4(_))))
            .collect();
        let dual = families.is_some_and(|f| f.contains(&true) && f.contains(&false));
        if !dual || ips.len() > 2 {
            errs.push(FieldError::invalid(
                &path,
                status(obj)[list].clone(),
                "may specify no more than one IP for each IP family",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, e) in array(status(obj), list).iter().enumerate() {
            if !seen.insert(str_of(e, "ip")) {
                errs.push(FieldError::duplicate(&path.index(i), e.clone()));
            }
        }
    }
    errs
}

/// `ValidateContainerStateTransition`: a container that may not restart stays terminated.
fn state_transitions(
    new: &[Value],
    old: &[Value],
    path: &FieldPath,
    restart: &str,
    init: &[Value],
) -> Vec<FieldError> {
    if restart == "Always" {
        return Vec::new();
    }
    let mut errs = Vec::new();
    for (i, o) in old.iter().enumerate() {
        let Some(t) = o
            .get("state")
            .and_then(|s| s.get("terminated"))
            .filter(|t| !t.is_null())
        else {
            continue;
        };
        if t.get("exitCode").and_then(Value::as_i64).unwrap_or(0) != 0 && restart == "OnFailure" {
            continue;
        }
        let name = str_of(o, "name");
        let sidecar = init
            .iter()
            .find(|c| str_of(c, "name") == name)
            .is_some_and(|c| str_of(c, "restartPolicy") == "Always");
        if sidecar {
            continue;
        }
        for n in new {
            let running = n
                .get("state")
                .and_then(|s| s.get("terminated"))
                .is_none_or(Value::is_null);
            if str_of(n, "name") == name && running {
                errs.push(FieldError::forbidden(
                    &path.index(i).child("state"),
                    "may not be transitioned to non-terminated state",
                ));
            }
        }
    }
    errs
}

/// `ValidatePodStatusUpdate`, beyond metadata.
pub fn validate(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, c) in array(status(new), "conditions").iter().enumerate() {
        let kind = str_of(c, "type");
        if SYSTEM_CONDITIONS.contains(&kind) {
            continue;
        }
        // Upstream reports these under `metadata`.
        errs.extend(netcheck::qualified_name(
            kind,
            &FieldPath::new("metadata")
                .child("conditions")
                .index(i)
                .child("Type"),
        ));
    }
    let path = FieldPath::new("status");
    let nominated = str_of(status(new), "nominatedNodeName");
    if nominated != str_of(status(old), "nominatedNodeName") && !nominated.is_empty() {
        for m in validation::name_is_dns_subdomain(nominated, false) {
            errs.push(FieldError::invalid(
                &path.child("nominatedNodeName"),
                json!(nominated),
                &m,
            ));
        }
    }
    let (new_qos, old_qos) = (
        str_of(status(new), "qosClass"),
        str_of(status(old), "qosClass"),
    );
    if new_qos != old_qos {
        errs.push(FieldError::invalid(
            &path.child("qosClass"),
            json!(new_qos),
            validation::FIELD_IMMUTABLE_ERROR_MSG,
        ));
    }
    let old_spec = old.get("spec").unwrap_or(&Value::Null);
    let restart = str_of(old_spec, "restartPolicy");
    let init = array(old_spec, "initContainers");
    errs.extend(state_transitions(
        array(status(new), "containerStatuses"),
        array(status(old), "containerStatuses"),
        &path.child("containerStatuses"),
        restart,
        &[],
    ));
    errs.extend(state_transitions(
        array(status(new), "initContainerStatuses"),
        array(status(old), "initContainerStatuses"),
        &path.child("initContainerStatuses"),
        restart,
        init,
    ));
    errs.extend(state_transitions(
        array(status(new), "ephemeralContainerStatuses"),
        array(status(old), "ephemeralContainerStatuses"),
        &path.child("ephemeralContainerStatuses"),
        "Never",
        &[],
    ));
    errs.extend(validate_ips(new, "podIPs"));
    errs.extend(validate_ips(new, "hostIPs"));
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ips_sync_and_validate() {
        let mut pod = json!({"status": {"podIP": "10.0.0.1", "hostIPs": [{"ip": "192.168.0.1"}]}});
        sync_ips(&mut pod);
        assert_eq!(pod["status"]["podIPs"], json!([{"ip": "10.0.0.1"}]));
        assert_eq!(pod["status"]["hostIP"], "192.168.0.1");
        let bad = json!({"status": {"podIPs": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]}});
        assert_eq!(
            validate_ips(&bad, "podIPs")[0].to_string(),
            "status.podIPs: Invalid value: [{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"}]: may specify no more than one IP for each IP family"
        );
    }

    #[test]
    fn qos_is_immutable_and_terminated_containers_stay_so() {
        let old = json!({"spec": {"restartPolicy": "Never"}, "status": {"qosClass": "BestEffort",
            "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 0}}}]}});
        let new = json!({"status": {"qosClass": "Guaranteed",
            "containerStatuses": [{"name": "c", "state": {"running": {}}}]}});
        let msgs: Vec<String> = validate(&new, &old)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            msgs,
            [
                "status.qosClass: Invalid value: \"Guaranteed\": field is immutable",
                "status.containerStatuses[0].state: Forbidden: may not be transitioned to non-terminated state",
            ]
        );
    }
}

//! What the server does to a Service before validating it: v1 defaults (upstream's
//! `SetDefaults_Service`, applied on every write as decoding applies them), the status
//! split, and on updates the strategy's `patchAllocatedValues`, `normalizeClusterIPs` and
//! `dropTypeDependentFields`.

use serde_json::{json, Map, Value};

use super::{
    cluster_ips, externally_accessible, ip_families, needs_health_check, needs_node_ports,
    service_type, spec,
};

/// Session affinity timeout when `ClientIP` affinity names none (3 hours).
const DEFAULT_CLIENT_IP_TIMEOUT: i64 = 10800;

fn spec_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let map = obj.as_object_mut()?;
    let spec = map.entry("spec").or_insert_with(|| json!({}));
    if !spec.is_object() {
        *spec = json!({});
    }
    spec.as_object_mut()
}

fn unset(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        _ => false,
    }
}

/// `SetDefaults_Service`.
pub fn defaults(obj: &mut Value) {
    let Some(spec) = spec_mut(obj) else {
        return;
    };
    if unset(spec.get("sessionAffinity")) {
        spec.insert("sessionAffinity".into(), json!("None"));
    }
    if spec.get("sessionAffinity").and_then(Value::as_str) == Some("ClientIP") {
        let config = spec
            .entry("sessionAffinityConfig")
            .or_insert_with(|| json!({}));
        if let Some(config) = config.as_object_mut() {
            let client = config.entry("clientIP").or_insert_with(|| json!({}));
            if let Some(client) = client.as_object_mut() {
                if client.get("timeoutSeconds").is_none_or(Value::is_null) {
                    client.insert("timeoutSeconds".into(), json!(DEFAULT_CLIENT_IP_TIMEOUT));
                }
            }
        }
    }
    if unset(spec.get("type")) {
        spec.insert("type".into(), json!("ClusterIP"));
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            if unset(port.get("protocol")) {
                port.insert("protocol".into(), json!("TCP"));
            }
            if unset(port.get("targetPort")) {
                let number = port.get("port").cloned().unwrap_or(json!(0));
                port.insert("targetPort".into(), number);
            }
        }
    }
    let kind = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if (kind == "NodePort" || kind == "LoadBalancer") && unset(spec.get("externalTrafficPolicy")) {
        spec.insert("externalTrafficPolicy".into(), json!("Cluster"));
    }
    if kind != "ExternalName" && spec.get("internalTrafficPolicy").is_none_or(Value::is_null) {
        spec.insert("internalTrafficPolicy".into(), json!("Cluster"));
    }
    if kind == "LoadBalancer"
        && spec
            .get("allocateLoadBalancerNodePorts")
            .is_none_or(Value::is_null)
    {
        spec.insert("allocateLoadBalancerNodePorts".into(), json!(true));
    }
}

fn set_cluster_ips(obj: &mut Value, ips: Vec<String>) {
    if let Some(spec) = spec_mut(obj) {
        if ips.is_empty() {
            spec.remove("clusterIPs");
        } else {
            spec.insert("clusterIPs".into(), json!(ips));
        }
    }
}

fn set_field(obj: &mut Value, field: &str, value: Option<Value>) {
    if let Some(spec) = spec_mut(obj) {
        match value {
            Some(v) => {
                spec.insert(field.into(), v);
            }
            None => {
                spec.remove(field);
            }
        }
    }
}

fn cluster_ip(obj: &Value) -> String {
    spec(obj)
        .get("clusterIP")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// Keeps `clusterIP` and `clusterIPs[0]` in step on create: either names the other.
fn normalize_new_cluster_ips(obj: &mut Value) {
    let ip = cluster_ip(obj);
    let ips = cluster_ips(obj);
    if !ip.is_empty() && ips.is_empty() {
        set_cluster_ips(obj, vec![ip]);
    } else if ip.is_empty() && !ips.is_empty() {
        set_field(obj, "clusterIP", Some(json!(ips[0])));
    }
}

/// Create: defaults, no status but an empty load balancer, `clusterIP(s)` in step.
pub fn for_create(obj: &mut Value) {
    defaults(obj);
    if let Some(map) = obj.as_object_mut() {
        map.insert("status".into(), json!({"loadBalancer": {}}));
    }
    normalize_new_cluster_ips(obj);
}

/// Update: defaults, status kept, allocated values carried over, `clusterIP(s)` in
/// step with what the client changed, fields of the old type dropped.
pub fn for_update(new: &mut Value, old: &Value) {
    defaults(new);
    if let Some(map) = new.as_object_mut() {
        match old.get("status") {
            Some(status) => map.insert("status".into(), status.clone()),
            None => map.remove("status"),
        };
    }
    patch_allocated_values(new, old);
    normalize_cluster_ips(new, old);
    drop_type_dependent_fields(new, old);
}

fn needs_cluster_ip(obj: &Value) -> bool {
    service_type(obj) != "ExternalName"
}

/// `patchAllocatedValues`: an update that omits what was allocated keeps it.
fn patch_allocated_values(new: &mut Value, old: &Value) {
    if needs_cluster_ip(old) && needs_cluster_ip(new) {
        if cluster_ip(new).is_empty() {
            let ip = cluster_ip(old);
            set_field(new, "clusterIP", (!ip.is_empty()).then(|| json!(ip)));
        }
        if cluster_ips(new).is_empty() && !cluster_ips(old).is_empty() {
            set_cluster_ips(new, cluster_ips(old));
        }
    }
    if needs_node_ports(old) && needs_node_ports(new) {
        let ports_of = |svc: &Value| -> Vec<(String, i64)> {
            super::array(spec(svc), "ports")
                .iter()
                .map(|p| {
                    (
                        super::str_of(p, "name").to_string(),
                        p.get("nodePort").and_then(Value::as_i64).unwrap_or(0),
                    )
                })
                .collect()
        };
        let old_ports = ports_of(old);
        let new_ports = ports_of(new);
        let used: Vec<i64> = new_ports
            .iter()
            .map(|(_, np)| *np)
            .filter(|np| *np != 0 && old_ports.iter().any(|(_, o)| o == np))
            .collect();
        if let Some(ports) = spec_mut(new)
            .and_then(|s| s.get_mut("ports"))
            .and_then(Value::as_array_mut)
        {
            for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                if port.get("nodePort").and_then(Value::as_i64).unwrap_or(0) != 0 {
                    continue;
                }
                let name = port.get("name").and_then(Value::as_str).unwrap_or("");
                if let Some((_, np)) = old_ports.iter().find(|(n, _)| n == name) {
                    if *np != 0 && !used.contains(np) {
                        port.insert("nodePort".into(), json!(np));
                    }
                }
            }
        }
    }
    if needs_health_check(old) && needs_health_check(new) {
        let hc = |svc: &Value| {
            spec(svc)
                .get("healthCheckNodePort")
                .and_then(Value::as_i64)
                .unwrap_or(0)
        };
        if hc(new) == 0 && hc(old) != 0 {
            set_field(new, "healthCheckNodePort", Some(json!(hc(old))));
        }
    }
}

/// `normalizeClusterIPs`: a client that changed only one of `clusterIP` and `clusterIPs`
/// meant both.
fn normalize_cluster_ips(new: &mut Value, old: &Value) {
    let (new_ip, old_ip) = (cluster_ip(new), cluster_ip(old));
    let (new_ips, old_ips) = (cluster_ips(new), cluster_ips(old));
    if new_ip != old_ip && new_ips == old_ips {
        if new_ip.is_empty() {
            set_cluster_ips(new, Vec::new());
        } else if new_ips.is_empty() {
            set_cluster_ips(new, vec![new_ip]);
        } else {
            let mut ips = new_ips;
            ips[0] = new_ip;
            set_cluster_ips(new, ips);
        }
    } else if new_ip == old_ip && new_ips != old_ips {
        match new_ips.first() {
            None => set_field(new, "clusterIP", None),
            Some(first) => set_field(new, "clusterIP", Some(json!(first))),
        }
    } else {
        normalize_new_cluster_ips(new);
    }
}

/// `dropTypeDependentFields`: a type change drops what only the old type had, when the
/// client left it as it was.
fn drop_type_dependent_fields(new: &mut Value, old: &Value) {
    if service_type(new) == service_type(old) {
        return;
    }
    let same = |field: &str, new: &Value| spec(new).get(field) == spec(old).get(field);
    if !needs_cluster_ip(new) && needs_cluster_ip(old) {
        if cluster_ip(new) == cluster_ip(old) && cluster_ips(new) == cluster_ips(old) {
            set_field(new, "clusterIP", None);
            set_cluster_ips(new, Vec::new());
        }
        if ip_families(new) == ip_families(old) {
            set_field(new, "ipFamilies", None);
        }
        if same("ipFamilyPolicy", new) {
            set_field(new, "ipFamilyPolicy", None);
        }
    }
    if !needs_node_ports(new) && needs_node_ports(old) {
        let old_ports = super::array(spec(old), "ports").to_vec();
        if let Some(ports) = spec_mut(new)
            .and_then(|s| s.get_mut("ports"))
            .and_then(Value::as_array_mut)
        {
            for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                let np = port.get("nodePort").cloned();
                let kept = old_ports.iter().any(|o| o.get("nodePort") == np.as_ref());
                if kept {
                    port.remove("nodePort");
                }
            }
        }
    }
    if !needs_health_check(new) && needs_health_check(old) && same("healthCheckNodePort", new) {
        set_field(new, "healthCheckNodePort", None);
    }
    if service_type(new) != "LoadBalancer" {
        if same("allocateLoadBalancerNodePorts", new) {
            set_field(new, "allocateLoadBalancerNodePorts", None);
        }
        if same("loadBalancerClass", new) {
            set_field(new, "loadBalancerClass", None);
        }
    }
    if !externally_accessible(new) && same("externalTrafficPolicy", new) {
        set_field(new, "externalTrafficPolicy", None);
    }
    if service_type(new) == "ExternalName" && same("internalTrafficPolicy", new) {
        set_field(new, "internalTrafficPolicy", None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_as_upstream() {
        let mut svc = json!({"spec": {"ports": [{"port": 80}]}});
        for_create(&mut svc);
        assert_eq!(
            svc,
            json!({"spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
                "sessionAffinity": "None", "type": "ClusterIP", "internalTrafficPolicy": "Cluster"},
                "status": {"loadBalancer": {}}})
        );
        let mut lb = json!({"spec": {"type": "LoadBalancer", "sessionAffinity": "ClientIP"}});
        defaults(&mut lb);
        assert_eq!(lb["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
        assert_eq!(
            lb["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"],
            10800
        );
        let mut ext = json!({"spec": {"type": "ExternalName", "externalName": "x.example"}});
        defaults(&mut ext);
        assert!(ext["spec"].get("internalTrafficPolicy").is_none());
    }

    #[test]
    fn an_update_keeps_what_was_allocated() {
        let old = json!({"spec": {"type": "NodePort", "clusterIP": "10.0.0.5", "clusterIPs": ["10.0.0.5"],
            "ports": [{"name": "a", "port": 80, "nodePort": 30001, "protocol": "TCP"}]}});
        let mut new = json!({"spec": {"type": "NodePort", "ports": [{"name": "a", "port": 81}]}});
        for_update(&mut new, &old);
        assert_eq!(new["spec"]["clusterIP"], "10.0.0.5");
        assert_eq!(new["spec"]["clusterIPs"], json!(["10.0.0.5"]));
        assert_eq!(new["spec"]["ports"][0]["nodePort"], 30001);
    }

    #[test]
    fn a_type_change_drops_the_old_types_fields() {
        let old = json!({"spec": {"type": "NodePort", "clusterIP": "10.0.0.5", "clusterIPs": ["10.0.0.5"],
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "externalTrafficPolicy": "Cluster",
            "ports": [{"port": 80, "nodePort": 30001, "protocol": "TCP"}]}});
        let mut new = old.clone();
        new["spec"]["type"] = json!("ExternalName");
        new["spec"]["externalName"] = json!("a.example");
        for_update(&mut new, &old);
        let s = &new["spec"];
        for f in [
            "clusterIP",
            "clusterIPs",
            "ipFamilies",
            "ipFamilyPolicy",
            "externalTrafficPolicy",
        ] {
            assert!(s.get(f).is_none(), "{f}: {s}");
        }
        assert!(s["ports"][0].get("nodePort").is_none());
    }
}

//! Upstream's `ValidateService`, `ValidateServiceUpdate` and `ValidateServiceStatusUpdate`
//! (metadata is validated by the store), with upstream's field paths and messages.

use std::net::IpAddr;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use serde_json::{json, Value};

use super::super::fields::{array, str_of};
use super::super::netcheck;
use super::{
    cluster_ips, externally_accessible, ip_families, is_headless, needs_health_check, service_type,
    spec, CLUSTER_IP_NONE,
};
use crate::allocators::cidr::Family;

const SERVICE_TYPES: [&str; 4] = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const AFFINITIES: [&str; 2] = ["ClientIP", "None"];
const TRAFFIC_POLICIES: [&str; 2] = ["Cluster", "Local"];
const IP_FAMILIES: [&str; 2] = ["IPv4", "IPv6"];
const IP_FAMILY_POLICIES: [&str; 3] = ["PreferDualStack", "RequireDualStack", "SingleStack"];
/// Longest session affinity timeout (a day).
const MAX_CLIENT_IP_TIMEOUT: i64 = 86400;

fn path(field: &str) -> FieldPath {
    FieldPath::new("spec").child(field)
}

/// `IsValidPortName`.
fn port_name_errors(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 15 {
        errs.push(validation::max_len_error(15));
    }
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if name.contains("--") {
        errs.push("must not contain consecutive hyphens (--)".into());
    }
    if name.starts_with('-') || name.ends_with('-') {
        errs.push("must not begin or end with a hyphen (-)".into());
    }
    errs
}

/// `ValidatePortNumOrName` for an IntOrString.
fn port_num_or_name(value: Option<&Value>, path: &FieldPath, errs: &mut Vec<FieldError>) {
    match value {
        Some(Value::String(s)) => {
            for m in port_name_errors(s) {
                errs.push(FieldError::invalid(path, json!(s), &m));
            }
        }
        other => {
            let n = other.and_then(Value::as_i64).unwrap_or(0);
            for m in netcheck::port_num_errors(n) {
                errs.push(FieldError::invalid(path, json!(n), &m));
            }
        }
    }
}

fn validate_port(
    port: &Value,
    require_name: bool,
    names: &mut Vec<String>,
    path: &FieldPath,
    errs: &mut Vec<FieldError>,
) {
    let name = str_of(port, "name");
    if require_name && name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    } else if !name.is_empty() {
        errs.extend(netcheck::dns1123_label(name, &path.child("name")));
        if names.iter().any(|n| n == name) {
            errs.push(FieldError::duplicate(&path.child("name"), json!(name)));
        } else {
            names.push(name.to_string());
        }
    }
    let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
    for m in netcheck::port_num_errors(number) {
        errs.push(FieldError::invalid(&path.child("port"), json!(number), &m));
    }
    let protocol = str_of(port, "protocol");
    if protocol.is_empty() {
        errs.push(FieldError::required(&path.child("protocol"), ""));
    } else if !netcheck::PORT_PROTOCOLS.contains(&protocol) {
        errs.push(FieldError::not_supported(
            &path.child("protocol"),
            json!(protocol),
            &netcheck::PORT_PROTOCOLS,
        ));
    }
    port_num_or_name(port.get("targetPort"), &path.child("targetPort"), errs);
    if let Some(app) = port.get("appProtocol").and_then(Value::as_str) {
        errs.extend(netcheck::qualified_name(app, &path.child("appProtocol")));
    }
}

fn family_of(ip: &str) -> Option<Family> {
    netcheck::parse_ip_sloppy(ip).map(|ip: IpAddr| Family::of(&ip))
}

/// `ValidateServiceClusterIPsRelatedFields`.
pub fn cluster_ips_related(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if service_type(obj) == "ExternalName" {
        return errs;
    }
    let spec = spec(obj);
    let ips_path = path("clusterIPs");
    let ip = str_of(spec, "clusterIP");
    let ips = cluster_ips(obj);
    if !ip.is_empty() {
        if ips.is_empty() {
            errs.push(FieldError::required(&ips_path, ""));
        } else if ips[0] != ip {
            errs.push(FieldError::invalid(
                &ips_path,
                json!(ips),
                "first value must match `clusterIP`",
            ));
        }
    } else if !ips.is_empty() {
        errs.push(FieldError::invalid(
            &ips_path,
            json!(ips),
            "must be empty when `clusterIP` is not specified",
        ));
    }
    let families = ip_families(obj);
    let mut seen: Vec<&str> = Vec::new();
    for (i, f) in families.iter().enumerate() {
        let p = path("ipFamilies").index(i);
        if !IP_FAMILIES.contains(&f.as_str()) {
            errs.push(FieldError::not_supported(&p, json!(f), &IP_FAMILIES));
        }
        if seen.contains(&f.as_str()) {
            errs.push(FieldError::duplicate(&p, json!(f)));
        }
        seen.push(f);
    }
    if let Some(policy) = spec.get("ipFamilyPolicy").and_then(Value::as_str) {
        if !IP_FAMILY_POLICIES.contains(&policy) {
            errs.push(FieldError::not_supported(
                &path("ipFamilyPolicy"),
                json!(policy),
                &IP_FAMILY_POLICIES,
            ));
        }
    }
    let mut invalid = false;
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == CLUSTER_IP_NONE {
            if ips.len() > 1 {
                invalid = true;
                errs.push(FieldError::invalid(
                    &ips_path,
                    json!(ips),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        let e = netcheck::is_valid_ip(&ips_path.index(i), ip);
        invalid |= !e.is_empty();
        errs.extend(e);
    }
    if ips.len() > 2 {
        errs.push(FieldError::invalid(
            &ips_path,
            json!(ips),
            "may only hold up to 2 values",
        ));
    }
    if invalid {
        return errs;
    }
    if ips.len() > 1 {
        let fams: Vec<Option<Family>> = ips.iter().map(|ip| family_of(ip)).collect();
        let dual = ips.len() == 2 && fams[0].is_some() && fams[1].is_some() && fams[0] != fams[1];
        if !dual {
            errs.push(FieldError::invalid(
                &ips_path,
                json!(ips),
                "may specify no more than one IP for each IP family",
            ));
        }
    }
    if !is_headless(obj) {
        for (i, (ip, family)) in ips.iter().zip(families.iter()).enumerate() {
            let v6 = family_of(ip) == Some(Family::V6);
            if family == "IPv4" && v6 {
                errs.push(FieldError::invalid(
                    &ips_path.index(i),
                    json!(ip),
                    &format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
            if family == "IPv6" && !v6 {
                errs.push(FieldError::invalid(
                    &ips_path.index(i),
                    json!(ip),
                    &format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
    errs
}

/// The duplicate key upstream prints for a repeated (port, protocol): the internal
/// `ServicePort` with only those two set.
fn port_key(protocol: &str, port: i64) -> Value {
    json!({"Name": "", "Protocol": protocol, "AppProtocol": null, "Port": port, "TargetPort": 0, "NodePort": 0})
}

/// `ValidateService` (without the metadata, which the store validates).
pub fn validate(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = spec(obj);
    let kind = service_type(obj);
    let ports = array(spec, "ports");
    let headless = is_headless(obj);
    if ports.is_empty() && !headless && kind != "ExternalName" {
        errs.push(FieldError::required(&path("ports"), ""));
    }
    let first_ip = || json!(cluster_ips(obj).first().cloned().unwrap_or_default());
    match kind {
        "LoadBalancer" if headless => errs.push(FieldError::invalid(
            &path("clusterIPs").index(0),
            first_ip(),
            "may not be set to 'None' for LoadBalancer services",
        )),
        "NodePort" if headless => errs.push(FieldError::invalid(
            &path("clusterIPs").index(0),
            first_ip(),
            "may not be set to 'None' for NodePort services",
        )),
        "ExternalName" => {
            if !cluster_ips(obj).is_empty() {
                errs.push(FieldError::forbidden(
                    &path("clusterIPs"),
                    "may not be set for ExternalName services",
                ));
            }
            if !ip_families(obj).is_empty() {
                errs.push(FieldError::forbidden(
                    &path("ipFamilies"),
                    "may not be set for ExternalName services",
                ));
            }
            if spec.get("ipFamilyPolicy").is_some_and(|v| !v.is_null()) {
                errs.push(FieldError::forbidden(
                    &path("ipFamilyPolicy"),
                    "may not be set for ExternalName services",
                ));
            }
            let cname = str_of(spec, "externalName");
            let cname = cname.strip_suffix('.').unwrap_or(cname);
            if cname.is_empty() {
                errs.push(FieldError::required(&path("externalName"), ""));
            } else {
                for m in validation::is_dns1123_subdomain(cname) {
                    errs.push(FieldError::invalid(&path("externalName"), json!(cname), &m));
                }
            }
        }
        _ => {}
    }
    let mut names = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        validate_port(
            port,
            ports.len() > 1,
            &mut names,
            &path("ports").index(i),
            &mut errs,
        );
    }
    if let Some(sel) = spec.get("selector").and_then(Value::as_object) {
        errs.extend(validation::validate_labels(sel, &path("selector")));
    }
    let affinity = str_of(spec, "sessionAffinity");
    if affinity.is_empty() {
        errs.push(FieldError::required(&path("sessionAffinity"), ""));
    } else if !AFFINITIES.contains(&affinity) {
        errs.push(FieldError::not_supported(
            &path("sessionAffinity"),
            json!(affinity),
            &AFFINITIES,
        ));
    }
    let affinity_config = spec.get("sessionAffinityConfig").filter(|v| !v.is_null());
    if affinity == "ClientIP" {
        let timeout_path = path("sessionAffinityConfig")
            .child("clientIP")
            .child("timeoutSeconds");
        match affinity_config
            .and_then(|c| c.get("clientIP"))
            .and_then(|c| c.get("timeoutSeconds"))
            .and_then(Value::as_i64)
        {
            None => errs.push(FieldError::required(
                &timeout_path,
                "when session affinity type is ClientIP",
            )),
            Some(t) if t <= 0 || t > MAX_CLIENT_IP_TIMEOUT => errs.push(FieldError::invalid(
                &timeout_path,
                json!(t),
                &validation::inclusive_range_error(1, MAX_CLIENT_IP_TIMEOUT),
            )),
            Some(_) => {}
        }
    } else if affinity == "None" && affinity_config.is_some() {
        errs.push(FieldError::forbidden(
            &path("sessionAffinityConfig"),
            "must not be set when session affinity is None",
        ));
    }
    errs.extend(cluster_ips_related(obj));
    for (i, ip) in array(spec, "externalIPs").iter().enumerate() {
        let ip = ip.as_str().unwrap_or("");
        let p = path("externalIPs").index(i);
        let e = netcheck::is_valid_ip(&p, ip);
        if e.is_empty() {
            errs.extend(netcheck::validate_non_special_ip(&p, ip));
        } else {
            errs.extend(e);
        }
    }
    if kind.is_empty() {
        errs.push(FieldError::required(&path("type"), ""));
    } else if !SERVICE_TYPES.contains(&kind) {
        errs.push(FieldError::not_supported(
            &path("type"),
            json!(kind),
            &SERVICE_TYPES,
        ));
    }
    let node_port = |p: &Value| p.get("nodePort").and_then(Value::as_i64).unwrap_or(0);
    if kind == "ClusterIP" {
        for (i, port) in ports.iter().enumerate() {
            if node_port(port) != 0 {
                errs.push(FieldError::forbidden(
                    &path("ports").index(i).child("nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    let mut node_ports: Vec<(&str, i64)> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let np = node_port(port);
        if np == 0 {
            continue;
        }
        let key = (str_of(port, "protocol"), np);
        if node_ports.contains(&key) {
            errs.push(FieldError::duplicate(
                &path("ports").index(i).child("nodePort"),
                json!(np),
            ));
        }
        node_ports.push(key);
    }
    let mut keys: Vec<(&str, i64)> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let key = (
            str_of(port, "protocol"),
            port.get("port").and_then(Value::as_i64).unwrap_or(0),
        );
        if keys.contains(&key) {
            errs.push(FieldError::duplicate(
                &path("ports").index(i),
                port_key(key.0, key.1),
            ));
        }
        keys.push(key);
    }
    let ranges = array(spec, "loadBalancerSourceRanges");
    if !ranges.is_empty() {
        let p = path("LoadBalancerSourceRanges");
        if kind != "LoadBalancer" {
            errs.push(FieldError::forbidden(
                &p,
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        for (i, r) in ranges.iter().enumerate() {
            errs.extend(netcheck::is_valid_cidr(
                &p.index(i),
                r.as_str().unwrap_or("").trim(),
            ));
        }
    }
    if spec
        .get("allocateLoadBalancerNodePorts")
        .is_some_and(|v| !v.is_null())
        && kind != "LoadBalancer"
    {
        errs.push(FieldError::forbidden(
            &path("allocateLoadBalancerNodePorts"),
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    if kind == "LoadBalancer"
        && spec
            .get("allocateLoadBalancerNodePorts")
            .is_none_or(Value::is_null)
    {
        errs.push(FieldError::required(
            &FieldPath::new("allocateLoadBalancerNodePorts"),
            "",
        ));
    }
    if let Some(class) = spec.get("loadBalancerClass").and_then(Value::as_str) {
        if kind != "LoadBalancer" {
            errs.push(FieldError::forbidden(
                &path("loadBalancerClass"),
                "may only be used when service type is 'LoadBalancer'",
            ));
        } else {
            errs.extend(netcheck::qualified_name(class, &path("loadBalancerClass")));
        }
    }
    let etp = str_of(spec, "externalTrafficPolicy");
    if !externally_accessible(obj) {
        if !etp.is_empty() {
            errs.push(FieldError::invalid(
                &path("externalTrafficPolicy"),
                json!(etp),
                "may only be set for externally-accessible services",
            ));
        }
    } else if etp.is_empty() {
        errs.push(FieldError::required(&path("externalTrafficPolicy"), ""));
    } else if !TRAFFIC_POLICIES.contains(&etp) {
        errs.push(FieldError::not_supported(
            &path("externalTrafficPolicy"),
            json!(etp),
            &TRAFFIC_POLICIES,
        ));
    }
    let hc = spec
        .get("healthCheckNodePort")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if !needs_health_check(obj) {
        if hc != 0 {
            errs.push(FieldError::invalid(&path("healthCheckNodePort"), json!(hc), "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
        }
    } else if hc == 0 {
        errs.push(FieldError::required(&path("healthCheckNodePort"), ""));
    } else {
        for m in netcheck::port_num_errors(hc) {
            errs.push(FieldError::invalid(
                &path("healthCheckNodePort"),
                json!(hc),
                &m,
            ));
        }
    }
    match spec.get("internalTrafficPolicy").and_then(Value::as_str) {
        None if matches!(kind, "NodePort" | "LoadBalancer" | "ClusterIP") => {
            errs.push(FieldError::required(&path("internalTrafficPolicy"), ""));
        }
        Some(p) if !TRAFFIC_POLICIES.contains(&p) => {
            errs.push(FieldError::not_supported(
                &path("internalTrafficPolicy"),
                json!(p),
                &TRAFFIC_POLICIES,
            ));
        }
        _ => {}
    }
    if let Some(td) = spec.get("trafficDistribution").and_then(Value::as_str) {
        const DISTRIBUTIONS: [&str; 3] = ["PreferClose", "PreferSameNode", "PreferSameZone"];
        if !DISTRIBUTIONS.contains(&td) {
            errs.push(FieldError::not_supported(
                &path("trafficDistribution"),
                json!(td),
                &DISTRIBUTIONS,
            ));
        }
    }
    errs
}

/// The immutability rules of `ValidateServiceUpdate` (the caller adds `validate`).
pub fn validate_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let external = service_type(new) == "ExternalName" || service_type(old) == "ExternalName";
    let ips_path = path("clusterIPs");
    let (new_ips, old_ips) = (cluster_ips(new), cluster_ips(old));
    let both_headless = is_headless(new) && is_headless(old);
    if !external && !both_headless {
        if new_ips.len() == old_ips.len() {
            for (i, ip) in old_ips.iter().enumerate() {
                if *ip != new_ips[i] {
                    errs.push(FieldError::invalid(
                        &ips_path.index(i),
                        json!(new_ips),
                        "may not change once set",
                    ));
                }
            }
        } else if old_ips.len() > new_ips.len() {
            if new_ips.is_empty() {
                errs.push(FieldError::invalid(
                    &ips_path.index(0),
                    json!(new_ips),
                    "primary clusterIP can not be unset",
                ));
            } else if new_ips[0] != old_ips[0] {
                errs.push(FieldError::invalid(
                    &ips_path.index(0),
                    json!(new_ips),
                    "may not change once set",
                ));
            }
            if new_ips.len() == 1
                && spec(new).get("ipFamilyPolicy").and_then(Value::as_str) != Some("SingleStack")
            {
                errs.push(FieldError::invalid(
                    &path("ipFamilyPolicy"),
                    spec(new)
                        .get("ipFamilyPolicy")
                        .cloned()
                        .unwrap_or(Value::Null),
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                ));
            }
        } else if !old_ips.is_empty() && new_ips[0] != old_ips[0] {
            errs.push(FieldError::invalid(
                &ips_path.index(0),
                json!(new_ips),
                "may not change once set",
            ));
        }
    }
    let (new_fams, old_fams) = (ip_families(new), ip_families(old));
    if !external && is_headless(new) == is_headless(old) && !is_headless(new) {
        let fam_path = path("ipFamilies");
        if new_fams.len() == old_fams.len() {
            if new_fams != old_fams {
                errs.push(FieldError::invalid(
                    &fam_path.index(0),
                    json!(new_fams),
                    "may not change once set",
                ));
            }
        } else if old_fams.len() > new_fams.len() {
            if new_fams.is_empty() {
                errs.push(FieldError::invalid(
                    &fam_path.index(0),
                    json!(new_fams),
                    "primary ipFamily can not be unset",
                ));
            } else if new_fams[0] != old_fams[0] {
                errs.push(FieldError::invalid(
                    &fam_path.index(0),
                    json!(new_fams),
                    "may not change once set",
                ));
            }
            if new_fams.len() == 1
                && spec(new).get("ipFamilyPolicy").and_then(Value::as_str) != Some("SingleStack")
            {
                errs.push(FieldError::invalid(
                    &path("ipFamilyPolicy"),
                    spec(new)
                        .get("ipFamilyPolicy")
                        .cloned()
                        .unwrap_or(Value::Null),
                    "must be set to 'SingleStack' when releasing the secondary ipFamily",
                ));
            }
        } else if !old_fams.is_empty() && new_fams[0] != old_fams[0] {
            errs.push(FieldError::invalid(
                &fam_path.index(0),
                json!(new_fams),
                "may not change once set",
            ));
        }
    }
    let class = |s: &Value| {
        spec(s)
            .get("loadBalancerClass")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if service_type(old) == "LoadBalancer"
        && service_type(new) == "LoadBalancer"
        && class(old) != class(new)
    {
        errs.push(FieldError::invalid(
            &path("loadBalancerClass"),
            json!(class(new)),
            "may not change once set",
        ));
    }
    if needs_health_check(old) && needs_health_check(new) {
        let hc = |s: &Value| {
            spec(s)
                .get("healthCheckNodePort")
                .and_then(Value::as_i64)
                .unwrap_or(0)
        };
        if hc(old) != hc(new) {
            errs.push(FieldError::forbidden(
                &path("healthCheckNodePort"),
                "field is immutable",
            ));
        }
    }
    errs
}

/// `ValidateServiceStatusUpdate`'s load balancer checks: ingress IPs must be IPs.
pub fn validate_status(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let ingress = obj
        .get("status")
        .and_then(|s| s.get("loadBalancer"))
        .map(|lb| array(lb, "ingress"))
        .unwrap_or(&[]);
    let base = FieldPath::new("status")
        .child("loadBalancer")
        .child("ingress");
    for (i, entry) in ingress.iter().enumerate() {
        let ip = str_of(entry, "ip");
        if !ip.is_empty() {
            errs.extend(netcheck::is_valid_ip(&base.index(i).child("ip"), ip));
        }
        let host = str_of(entry, "hostname");
        if !host.is_empty() {
            for m in validation::is_dns1123_subdomain(host) {
                errs.push(FieldError::invalid(
                    &base.index(i).child("hostname"),
                    json!(host),
                    &m,
                ));
            }
            if netcheck::parse_ip_sloppy(host).is_some() {
                errs.push(FieldError::invalid(
                    &base.index(i).child("hostname"),
                    json!(host),
                    "must be a DNS name, not an IP address",
                ));
            }
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::services::prepare;

    fn errors(mut svc: Value) -> Vec<String> {
        prepare::for_create(&mut svc);
        validate(&svc).iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn ports_need_names_and_unique_keys() {
        let errs = errors(json!({"spec": {"ports": [{"port": 80}, {"port": 80, "name": "Bad"}]}}));
        assert!(
            errs.contains(&"spec.ports[0].name: Required value".to_string()),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("spec.ports[1].name: Invalid value: \"Bad\"")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("spec.ports[1]: Duplicate value")),
            "{errs:?}"
        );
        let errs = errors(json!({"spec": {}}));
        assert_eq!(errs, vec!["spec.ports: Required value".to_string()]);
    }

    #[test]
    fn node_ports_only_for_their_types() {
        let errs = errors(json!({"spec": {"ports": [{"port": 80, "nodePort": 30001}]}}));
        assert_eq!(
            errs,
            vec![
                "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
                    .to_string()
            ]
        );
    }

    #[test]
    fn external_name_rules() {
        let errs = errors(json!({"spec": {"type": "ExternalName"}}));
        assert_eq!(errs, vec!["spec.externalName: Required value".to_string()]);
        let errs = errors(
            json!({"spec": {"type": "ExternalName", "externalName": "a.example.", "clusterIP": "10.0.0.1"}}),
        );
        assert_eq!(
            errs,
            vec![
                "spec.clusterIPs: Forbidden: may not be set for ExternalName services".to_string()
            ]
        );
    }

    #[test]
    fn cluster_ips_follow_the_dual_stack_rules() {
        let errs = errors(
            json!({"spec": {"ports": [{"port": 1}], "clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1", "10.0.0.2"]}}),
        );
        assert_eq!(errs, vec!["spec.clusterIPs: Invalid value: [\"10.0.0.1\",\"10.0.0.2\"]: may specify no more than one IP for each IP family".to_string()]);
        let old = json!({"spec": {"type": "ClusterIP", "clusterIPs": ["10.0.0.1"], "ipFamilies": ["IPv4"]}});
        let new = json!({"spec": {"type": "ClusterIP", "clusterIPs": ["10.0.0.2"], "ipFamilies": ["IPv4"]}});
        let errs: Vec<String> = validate_update(&new, &old)
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            errs,
            vec![
                "spec.clusterIPs[0]: Invalid value: [\"10.0.0.2\"]: may not change once set"
                    .to_string()
            ]
        );
    }
}

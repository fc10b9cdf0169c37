//! `endpoints` (core/v1): the addresses and ports behind a service, validated as
//! upstream's `ValidateEndpoints`.

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::fields::{array, str_of};
use super::netcheck;
use crate::types::Typed;

/// What every request for v1 Endpoints answers with, as upstream since v1.33.
pub const DEPRECATION_WARNING: &str =
    "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice";
/// The label the endpoints controller marks its objects with, and its value there.
const MANAGED_BY_LABEL: &str = "endpoints.kubernetes.io/managed-by";
const CONTROLLER_NAME: &str = "endpoint-controller";
/// Most addresses the ENDPOINTS column lists before `+ N more...`.
const MAX_LISTED: usize = 3;

pub struct EndpointsStrategy;

/// v1 defaulting: a port without a protocol is TCP.
fn default_ports(obj: &mut Value) {
    let Some(subsets) = obj.get_mut("subsets").and_then(Value::as_array_mut) else {
        return;
    };
    for subset in subsets {
        let Some(ports) = subset.get_mut("ports").and_then(Value::as_array_mut) else {
            continue;
        };
        for port in ports.iter_mut().filter(|p| p.is_object()) {
            if str_of(port, "protocol").is_empty() {
                port["protocol"] = json!("TCP");
            }
        }
    }
}

fn validate_address(addr: &Value, path: &FieldPath, errs: &mut Vec<FieldError>) {
    let ip = str_of(addr, "ip");
    let ip_path = path.child("ip");
    errs.extend(netcheck::is_valid_ip(&ip_path, ip));
    let hostname = str_of(addr, "hostname");
    if !hostname.is_empty() {
        errs.extend(netcheck::dns1123_label(hostname, &path.child("hostname")));
    }
    if let Some(node) = addr.get("nodeName").and_then(Value::as_str) {
        for msg in validation::is_dns1123_subdomain(node) {
            errs.push(FieldError::invalid(
                &path.child("nodeName"),
                json!(node),
                &msg,
            ));
        }
    }
    errs.extend(netcheck::validate_non_special_ip(&ip_path, ip));
}

/// Upstream's `validateEndpointPort`; a name is required when the subset has several ports.
pub(crate) fn validate_port(
    port: &Value,
    require_name: bool,
    path: &FieldPath,
    errs: &mut Vec<FieldError>,
) {
    let name = str_of(port, "name");
    if require_name && name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    } else if !name.is_empty() {
        errs.extend(netcheck::dns1123_label(name, &path.child("name")));
    }
    let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
    for msg in netcheck::port_num_errors(number) {
        errs.push(FieldError::invalid(
            &path.child("port"),
            json!(number),
            &msg,
        ));
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
    if let Some(app) = port.get("appProtocol").and_then(Value::as_str) {
        errs.extend(netcheck::qualified_name(app, &path.child("appProtocol")));
    }
}

/// Upstream's `validateEndpointSubsets`.
fn validate_subsets(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, subset) in array(obj, "subsets").iter().enumerate() {
        let path = FieldPath::new("subsets").index(i);
        let ready = array(subset, "addresses");
        let not_ready = array(subset, "notReadyAddresses");
        if ready.is_empty() && not_ready.is_empty() {
            errs.push(FieldError::required(
                &path,
                "must specify `addresses` or `notReadyAddresses`",
            ));
        }
        for (field, addrs) in [("addresses", ready), ("notReadyAddresses", not_ready)] {
            for (j, addr) in addrs.iter().enumerate() {
                validate_address(addr, &path.child(field).index(j), &mut errs);
            }
        }
        let ports = array(subset, "ports");
        for (j, port) in ports.iter().enumerate() {
            validate_port(
                port,
                ports.len() > 1,
                &path.child("ports").index(j),
                &mut errs,
            );
        }
    }
    errs
}

/// `host:port`, with IPv6 hosts in brackets (Go's `net.JoinHostPort`).
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Upstream's `formatEndpoints` for every port: up to three `ip:port` (or bare IPs for
/// subsets without ports), then `+ N more...`; `<none>` without subsets.
fn format_endpoints(obj: &Value) -> String {
    let subsets = array(obj, "subsets");
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    let mut list: Vec<String> = Vec::new();
    let mut count = 0usize;
    for subset in subsets {
        let addrs = array(subset, "addresses");
        let ports = array(subset, "ports");
        if ports.is_empty() {
            count += addrs.len();
            for addr in addrs.iter().take(MAX_LISTED.saturating_sub(list.len())) {
                list.push(str_of(addr, "ip").to_string());
            }
            continue;
        }
        for port in ports {
            let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
            count += addrs.len();
            for addr in addrs.iter().take(MAX_LISTED.saturating_sub(list.len())) {
                list.push(join_host_port(str_of(addr, "ip"), number));
            }
        }
    }
    let joined = list.join(",");
    if count > MAX_LISTED {
        format!("{joined} + {} more...", count - MAX_LISTED)
    } else {
        joined
    }
}

/// Upstream's `endpointsWarnings`: addresses in a non-standard form, except in objects
/// the endpoints controller wrote (it writes them canonical).
fn ip_warnings(obj: &Value) -> Vec<String> {
    let managed = meta::meta(obj)
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .and_then(Value::as_str)
        == Some(CONTROLLER_NAME);
    if managed {
        return Vec::new();
    }
    let mut warnings = Vec::new();
    for (i, subset) in array(obj, "subsets").iter().enumerate() {
        for field in ["addresses", "notReadyAddresses"] {
            for (j, addr) in array(subset, field).iter().enumerate() {
                let path = FieldPath::new("subsets")
                    .index(i)
                    .child(field)
                    .index(j)
                    .child("ip");
                warnings.extend(netcheck::ip_warnings(&path, str_of(addr, "ip")));
            }
        }
    }
    warnings
}

impl Strategy for EndpointsStrategy {
    fn warnings_on_create(&self, obj: &Value) -> Vec<String> {
        ip_warnings(obj)
    }

    fn warnings_on_update(&self, new: &Value, _old: &Value) -> Vec<String> {
        ip_warnings(new)
    }

    fn prepare_for_create(&self, obj: &mut Value) {
        default_ports(obj);
    }

    fn prepare_for_update(&self, new: &mut Value, _old: &Value) {
        default_ports(new);
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_subsets(obj)
    }

    fn allow_create_on_update(&self) -> bool {
        true
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new(
                "Endpoints",
                "string",
                "The addresses and ports the endpoints list.",
            ),
            ColumnDef::AGE,
        ]
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        vec![
            Cell::Value(json!(format_endpoints(obj))),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
    }
}

pub fn decl() -> ResourceDecl {
    let mut decl = ResourceDecl::new(
        "",
        "v1",
        "Endpoints",
        "endpoints",
        Scope::Namespaced,
        Arc::new(EndpointsStrategy),
    )
    .typed()
    .with_short_names(&["ep"])
    .with_warning(DEPRECATION_WARNING);
    // Upstream's singular is the plural: there is no `endpoint` resource.
    decl.singular = "endpoints".to_string();
    decl
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eps(subsets: Value) -> Value {
        json!({"metadata": {"name": "svc", "namespace": "default"}, "subsets": subsets})
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter()
            .map(|e| format!("{}: {}", e.field, e.error_body()))
            .collect()
    }

    #[test]
    fn valid_subsets_pass() {
        let e = eps(json!([{
            "addresses": [{"ip": "10.0.0.1", "hostname": "a", "nodeName": "node-1"}],
            "notReadyAddresses": [{"ip": "2001:db8::2"}],
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"},
                      {"name": "dns", "port": 53, "protocol": "UDP", "appProtocol": "dns"}],
        }]));
        assert!(
            validate_subsets(&e).is_empty(),
            "{:?}",
            validate_subsets(&e)
        );
    }

    #[test]
    fn subsets_need_addresses_and_valid_ports() {
        let e = eps(json!([
            {"ports": [{"port": 80, "protocol": "TCP"}]},
            {"addresses": [{"ip": "10.0.0.1"}],
             "ports": [{"port": 0, "protocol": "ICMP"}, {"name": "Bad_Name", "port": 70000, "protocol": "TCP"}]},
        ]));
        let m = messages(&validate_subsets(&e));
        assert_eq!(
            m[0],
            "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"
        );
        assert_eq!(m[1], "subsets[1].ports[0].name: Required value");
        assert_eq!(
            m[2],
            "subsets[1].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"
        );
        assert_eq!(m[3], "subsets[1].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"");
        assert!(m[4].starts_with(
            "subsets[1].ports[1].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 label"
        ));
        assert_eq!(m[5], "subsets[1].ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive");
        assert_eq!(m.len(), 6);
    }

    #[test]
    fn addresses_must_be_ordinary_ips() {
        let e = eps(
            json!([{"addresses": [{"ip": "127.0.0.1"}, {"ip": "bogus", "hostname": "X"}],
                            "notReadyAddresses": [{"ip": "169.254.1.1", "nodeName": "Node_1"}]}]),
        );
        let m = messages(&validate_subsets(&e));
        assert_eq!(
            m,
            [
                "subsets[0].addresses[0].ip: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
                "subsets[0].addresses[1].ip: Invalid value: \"bogus\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                "subsets[0].addresses[1].hostname: Invalid value: \"X\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "subsets[0].addresses[1].ip: Invalid value: \"bogus\": must be a valid IP address",
                "subsets[0].notReadyAddresses[0].nodeName: Invalid value: \"Node_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                "subsets[0].notReadyAddresses[0].ip: Invalid value: \"169.254.1.1\": may not be in the link-local range (169.254.0.0/16, fe80::/10)",
            ]
        );
    }

    #[test]
    fn non_standard_ips_are_warned_about_unless_the_controller_wrote_them() {
        let mut e = eps(json!([{"addresses": [{"ip": "10.0.0.1"}],
                                "notReadyAddresses": [{"ip": "010.0.0.2"}]}]));
        assert_eq!(
            EndpointsStrategy.warnings_on_create(&e),
            ["subsets[0].notReadyAddresses[0].ip: non-standard IP address \"010.0.0.2\" will be considered invalid in a future Kubernetes release: use \"10.0.0.2\""]
        );
        e["metadata"]["labels"] = json!({MANAGED_BY_LABEL: CONTROLLER_NAME});
        assert!(EndpointsStrategy.warnings_on_update(&e, &e).is_empty());
    }

    #[test]
    fn ports_default_to_tcp() {
        let mut e = eps(json!([{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]));
        EndpointsStrategy.prepare_for_create(&mut e);
        assert_eq!(e["subsets"][0]["ports"][0]["protocol"], "TCP");
    }

    #[test]
    fn endpoints_column_formats_as_upstream() {
        assert_eq!(format_endpoints(&eps(json!(null))), "<none>");
        assert_eq!(format_endpoints(&json!({"metadata": {}})), "<none>");
        let one = eps(
            json!([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "2001:db8::1"}],
                              "ports": [{"port": 80}]}]),
        );
        assert_eq!(format_endpoints(&one), "10.0.0.1:80,[2001:db8::1]:80");
        // Headless: bare IPs.
        let headless = eps(json!([{"addresses": [{"ip": "10.0.0.1"}]}]));
        assert_eq!(format_endpoints(&headless), "10.0.0.1");
        // Only not-ready addresses: nothing listed.
        let not_ready =
            eps(json!([{"notReadyAddresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]));
        assert_eq!(format_endpoints(&not_ready), "");
        let many = eps(
            json!([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
                               "ports": [{"port": 80}, {"port": 443}, {"port": 8080}]}]),
        );
        assert_eq!(
            format_endpoints(&many),
            "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 3 more..."
        );
        let cells = EndpointsStrategy.table_cells(&one);
        assert_eq!(cells.len(), EndpointsStrategy.table_columns().len());
    }

    #[test]
    fn singular_is_endpoints() {
        let d = decl();
        assert_eq!(
            (d.singular.as_str(), d.short_names.as_slice()),
            ("endpoints", &["ep".to_string()][..])
        );
    }
}

//! `endpointslices` (discovery.k8s.io/v1): the scalable form of endpoints, validated as
//! upstream's `ValidateEndpointSlice`. Services' slices carry the label
//! `kubernetes.io/service-name`, selected as any label is.

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::fields::{array, str_of};
use super::netcheck;
use crate::types::Typed;

/// The label naming the service a slice belongs to.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
const ADDRESS_TYPES: [&str; 3] = ["FQDN", "IPv4", "IPv6"];
const MAX_ENDPOINTS: usize = 1000;
const MAX_ADDRESSES: usize = 100;
const MAX_PORTS: usize = 20000;
const MAX_TOPOLOGY_LABELS: usize = 16;
const MAX_ZONE_HINTS: usize = 8;
/// Most entries the PORTS and ENDPOINTS columns list before `+ N more...`.
const MAX_LISTED: usize = 3;

pub struct EndpointSliceStrategy;

fn too_many(path: &FieldPath, actual: usize, max: usize) -> FieldError {
    FieldError::too_many(
        path,
        i64::try_from(actual).ok(),
        i64::try_from(max).unwrap_or(i64::MAX),
    )
}

/// v1 defaulting: a port without a name gets `""`, without a protocol `TCP`.
fn default_ports(obj: &mut Value) {
    let Some(ports) = obj.get_mut("ports").and_then(Value::as_array_mut) else {
        return;
    };
    for port in ports.iter_mut() {
        let Some(p) = port.as_object_mut() else {
            continue;
        };
        for (field, default) in [("name", ""), ("protocol", "TCP")] {
            let entry = p.entry(field).or_insert(Value::Null);
            if entry.is_null() {
                *entry = json!(default);
            }
        }
    }
}

/// `IsFullyQualifiedDomainName`: a DNS subdomain of at least two labels (a trailing dot
/// is allowed).
fn fqdn_errors(path: &FieldPath, name: &str) -> Vec<FieldError> {
    if name.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let errs = validation::is_dns1123_subdomain(name);
    if !errs.is_empty() {
        return vec![FieldError::invalid(path, json!(name), &errs.join(","))];
    }
    if name.split('.').count() < 2 {
        return vec![FieldError::invalid(
            path,
            json!(name),
            "should be a domain with at least two segments separated by dots",
        )];
    }
    for label in name.split('.') {
        let errs = validation::is_dns1123_label(label);
        if !errs.is_empty() {
            return vec![FieldError::invalid(path, json!(label), &errs.join(","))];
        }
    }
    Vec::new()
}

fn validate_address(address_type: &str, address: &str, path: &FieldPath) -> Vec<FieldError> {
    // As Go's `To4`: an IPv4-mapped IPv6 address counts as IPv4.
    let family = |v4: bool| {
        let is_v4 = |ip: std::net::IpAddr| match ip {
            std::net::IpAddr::V4(_) => true,
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some(),
        };
        let ok = netcheck::parse_ip_sloppy(address).is_some_and(|ip| is_v4(ip) == v4);
        let mut errs = Vec::new();
        if !ok {
            let detail = if v4 {
                "must be a valid IPv4 address"
            } else {
                "must be a valid IPv6 address"
            };
            errs.push(FieldError::invalid(path, json!(address), detail));
        }
        errs.extend(netcheck::validate_non_special_ip(path, address));
        errs
    };
    match address_type {
        "IPv4" => family(true),
        "IPv6" => family(false),
        "FQDN" => fqdn_errors(path, address),
        // Unknown types are refused once, at `addressType`.
        _ => Vec::new(),
    }
}

fn validate_hints(hints: &Value, path: &FieldPath, errs: &mut Vec<FieldError>) {
    let zones_path = path.child("forZones");
    let zones = array(hints, "forZones");
    if zones.len() > MAX_ZONE_HINTS {
        errs.push(too_many(&zones_path, zones.len(), MAX_ZONE_HINTS));
        return;
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, zone) in zones.iter().enumerate() {
        let name = str_of(zone, "name");
        let name_path = zones_path.index(i).child("name");
        if seen.contains(&name) {
            errs.push(FieldError::duplicate(&name_path, json!(name)));
        } else {
            seen.push(name);
        }
        for msg in validation::is_valid_label_value(name) {
            errs.push(FieldError::invalid(&name_path, json!(name), &msg));
        }
    }
}

fn validate_endpoints(obj: &Value, errs: &mut Vec<FieldError>) {
    let path = FieldPath::new("endpoints");
    let endpoints = array(obj, "endpoints");
    if endpoints.len() > MAX_ENDPOINTS {
        errs.push(too_many(&path, endpoints.len(), MAX_ENDPOINTS));
        return;
    }
    let address_type = str_of(obj, "addressType");
    for (i, endpoint) in endpoints.iter().enumerate() {
        let idx = path.index(i);
        let addresses_path = idx.child("addresses");
        let addresses = array(endpoint, "addresses");
        if addresses.is_empty() {
            errs.push(FieldError::required(
                &addresses_path,
                "must contain at least 1 address",
            ));
        } else if addresses.len() > MAX_ADDRESSES {
            errs.push(too_many(&addresses_path, addresses.len(), MAX_ADDRESSES));
        }
        for (j, address) in addresses.iter().enumerate() {
            let address = address.as_str().unwrap_or("");
            errs.extend(validate_address(
                address_type,
                address,
                &addresses_path.index(j),
            ));
        }
        if let Some(node) = endpoint.get("nodeName").and_then(Value::as_str) {
            for msg in validation::is_dns1123_subdomain(node) {
                errs.push(FieldError::invalid(
                    &idx.child("nodeName"),
                    json!(node),
                    &msg,
                ));
            }
        }
        if let Some(topology) = endpoint
            .get("deprecatedTopology")
            .and_then(Value::as_object)
        {
            let topology_path = idx.child("deprecatedTopology");
            if topology.len() > MAX_TOPOLOGY_LABELS {
                errs.push(too_many(
                    &topology_path,
                    topology.len(),
                    MAX_TOPOLOGY_LABELS,
                ));
            }
            errs.extend(validation::validate_labels(topology, &topology_path));
        }
        if let Some(hostname) = endpoint.get("hostname").and_then(Value::as_str) {
            errs.extend(netcheck::dns1123_label(hostname, &idx.child("hostname")));
        }
        if let Some(hints) = endpoint.get("hints").filter(|h| h.is_object()) {
            validate_hints(hints, &idx.child("hints"), errs);
        }
    }
}

fn validate_ports(obj: &Value, errs: &mut Vec<FieldError>) {
    let path = FieldPath::new("ports");
    let ports = array(obj, "ports");
    if ports.len() > MAX_PORTS {
        errs.push(too_many(&path, ports.len(), MAX_PORTS));
        return;
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let idx = path.index(i);
        let name = str_of(port, "name");
        if !name.is_empty() {
            errs.extend(netcheck::dns1123_label(name, &idx.child("name")));
        }
        if names.contains(&name) {
            errs.push(FieldError::duplicate(&idx.child("name"), json!(name)));
        } else {
            names.push(name);
        }
        match port.get("protocol").and_then(Value::as_str) {
            None => errs.push(FieldError::required(&idx.child("protocol"), "")),
            Some(p) if !netcheck::PORT_PROTOCOLS.contains(&p) => {
                errs.push(FieldError::not_supported(
                    &idx.child("protocol"),
                    json!(p),
                    &netcheck::PORT_PROTOCOLS,
                ))
            }
            Some(_) => {}
        }
        if let Some(app) = port.get("appProtocol").and_then(Value::as_str) {
            errs.extend(netcheck::qualified_name(app, &idx.child("appProtocol")));
        }
    }
}

/// Upstream's `ValidateEndpointSlice` (beyond metadata).
fn validate_slice(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let address_type = str_of(obj, "addressType");
    let path = FieldPath::new("addressType");
    if address_type.is_empty() {
        errs.push(FieldError::required(&path, ""));
    } else if !ADDRESS_TYPES.contains(&address_type) {
        errs.push(FieldError::not_supported(
            &path,
            json!(address_type),
            &ADDRESS_TYPES,
        ));
    }
    validate_endpoints(obj, &mut errs);
    validate_ports(obj, &mut errs);
    errs
}

/// Up to three entries joined by commas, then `+ N more...`; `<unset>` when empty
/// (upstream's `listWithMoreString`).
fn list_with_more(list: Vec<String>, count: usize) -> String {
    let joined = list.join(",");
    if count > MAX_LISTED {
        format!("{joined} + {} more...", count - MAX_LISTED)
    } else if joined.is_empty() {
        "<unset>".to_string()
    } else {
        joined
    }
}

/// `formatDiscoveryPorts`: each port's number, else its name, else `*`.
fn format_ports(obj: &Value) -> String {
    let ports = array(obj, "ports");
    let list = ports
        .iter()
        .take(MAX_LISTED)
        .map(
            |p| match (p.get("port").and_then(Value::as_i64), p.get("name")) {
                (Some(n), _) => n.to_string(),
                (None, Some(Value::String(name))) => name.clone(),
                _ => "*".to_string(),
            },
        )
        .collect();
    list_with_more(list, ports.len())
}

/// `formatDiscoveryEndpoints`: the addresses of every endpoint.
fn format_endpoints(obj: &Value) -> String {
    let addresses: Vec<&Value> = array(obj, "endpoints")
        .iter()
        .flat_map(|e| array(e, "addresses"))
        .collect();
    let list = addresses
        .iter()
        .take(MAX_LISTED)
        .map(|a| a.as_str().unwrap_or("").to_string())
        .collect();
    list_with_more(list, addresses.len())
}

/// The label naming the controller that manages a slice, and the two controllers whose
/// slices are written canonical (no address warnings for them).
const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
const CONTROLLERS: [&str; 2] = [
    "endpointslice-controller.k8s.io",
    "endpointslicemirroring-controller.k8s.io",
];
/// The topology key older clients stored an endpoint's node in.
const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

/// Node names in the `deprecatedTopology` of a slice's endpoints.
fn topology_node_names(obj: &Value) -> Vec<String> {
    array(obj, "endpoints")
        .iter()
        .filter_map(|e| e.pointer("/deprecatedTopology/kubernetes.io~1hostname"))
        .filter_map(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// Upstream's `dropTopologyOnV1`: v1 writes clear `deprecatedTopology` of every endpoint
/// (on update only when the endpoints changed); a node name the stored slice kept there
/// moves to `nodeName` when that is unset.
fn drop_deprecated_topology(obj: &mut Value, old: Option<&Value>) {
    let previous = old.map(topology_node_names).unwrap_or_default();
    let Some(endpoints) = obj.get_mut("endpoints").and_then(Value::as_array_mut) else {
        return;
    };
    for endpoint in endpoints.iter_mut().filter_map(Value::as_object_mut) {
        let Some(topology) = endpoint.remove("deprecatedTopology") else {
            continue;
        };
        let node = topology.get(HOSTNAME_LABEL).and_then(Value::as_str);
        let unset = endpoint.get("nodeName").is_none_or(Value::is_null);
        if let Some(node) = node.filter(|n| unset && previous.iter().any(|p| p == n)) {
            if validation::is_dns1123_subdomain(node).is_empty() {
                endpoint.insert("nodeName".to_string(), json!(node));
            }
        }
    }
}

/// Upstream's `warnOnBadIPs`: addresses in a non-standard form, except in slices the
/// endpoint slice controllers manage.
fn ip_warnings(obj: &Value) -> Vec<String> {
    let managed_by = meta::meta(obj)
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .and_then(Value::as_str)
        .unwrap_or("");
    if CONTROLLERS.contains(&managed_by) {
        return Vec::new();
    }
    let mut warnings = Vec::new();
    for (i, endpoint) in array(obj, "endpoints").iter().enumerate() {
        for (j, address) in array(endpoint, "addresses").iter().enumerate() {
            let path = FieldPath::new("endpoints")
                .index(i)
                .child("addresses")
                .index(j);
            warnings.extend(netcheck::ip_warnings(&path, address.as_str().unwrap_or("")));
        }
    }
    warnings
}

impl Strategy for EndpointSliceStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        default_ports(obj);
        drop_deprecated_topology(obj, None);
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        default_ports(new);
        if new.get("endpoints") != old.get("endpoints") {
            drop_deprecated_topology(new, Some(old));
        }
    }

    fn warnings_on_create(&self, obj: &Value) -> Vec<String> {
        let mut warnings = Vec::new();
        if str_of(obj, "addressType") == "FQDN" {
            warnings.push("spec.addressType: FQDN endpoints are deprecated".to_string());
        }
        warnings.extend(ip_warnings(obj));
        warnings
    }

    fn warnings_on_update(&self, new: &Value, _old: &Value) -> Vec<String> {
        ip_warnings(new)
    }

    /// As upstream: a change of labels moves the generation on too.
    fn generation_changed(&self, new: &Value, old: &Value) -> bool {
        let labels = |o: &Value| meta::meta(o).and_then(|m| m.get("labels")).cloned();
        meta::spec_part(new) != meta::spec_part(old) || labels(new) != labels(old)
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_slice(obj)
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = validate_slice(new);
        let (n, o) = (new.get("addressType"), old.get("addressType"));
        if n != o {
            errs.push(FieldError::invalid(
                &FieldPath::new("addressType"),
                n.cloned().unwrap_or(json!("")),
                validation::FIELD_IMMUTABLE_ERROR_MSG,
            ));
        }
        errs
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn allow_create_on_update(&self) -> bool {
        false
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new(
                "AddressType",
                "string",
                "The type of the slice's addresses.",
            ),
            ColumnDef::new("Ports", "string", "The ports of the slice's endpoints."),
            ColumnDef::new(
                "Endpoints",
                "string",
                "The addresses of the slice's endpoints.",
            ),
            ColumnDef::AGE,
        ]
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        vec![
            Cell::Value(json!(str_of(obj, "addressType"))),
            Cell::Value(json!(format_ports(obj))),
            Cell::Value(json!(format_endpoints(obj))),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        Scope::Namespaced,
        Arc::new(EndpointSliceStrategy),
    )
    .typed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(address_type: &str, endpoints: Value, ports: Value) -> Value {
        json!({"metadata": {"name": "s", "namespace": "default"},
               "addressType": address_type, "endpoints": endpoints, "ports": ports})
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter()
            .map(|e| format!("{}: {}", e.field, e.error_body()))
            .collect()
    }

    #[test]
    fn valid_slices_pass() {
        let s = slice(
            "IPv4",
            json!([{"addresses": ["10.0.0.1"], "nodeName": "node-1", "hostname": "a",
                    "hints": {"forZones": [{"name": "zone-a"}]}}]),
            json!([{"name": "http", "port": 80, "protocol": "TCP"}]),
        );
        assert!(validate_slice(&s).is_empty(), "{:?}", validate_slice(&s));
        let s = slice("IPv6", json!([{"addresses": ["2001:db8::1"]}]), json!([]));
        assert!(validate_slice(&s).is_empty());
        let s = slice(
            "FQDN",
            json!([{"addresses": ["db.example.com."]}]),
            json!(null),
        );
        assert!(validate_slice(&s).is_empty());
    }

    #[test]
    fn address_type_and_addresses() {
        let m = messages(&validate_slice(&slice("IP", json!([]), json!([]))));
        assert_eq!(
            m,
            ["addressType: Unsupported value: \"IP\": supported values: \"FQDN\", \"IPv4\", \"IPv6\""]
        );
        let m = messages(&validate_slice(&slice("", json!([]), json!([]))));
        assert_eq!(m, ["addressType: Required value"]);
        let many: Vec<String> = (0..101)
            .map(|i| format!("10.0.{}.{}", i / 250, i % 250 + 1))
            .collect();
        let s = slice(
            "IPv4",
            json!([{"addresses": []}, {"addresses": many}, {"addresses": ["2001:db8::1", "127.0.0.1"]}]),
            json!([]),
        );
        let m = messages(&validate_slice(&s));
        assert_eq!(
            m,
            [
                "endpoints[0].addresses: Required value: must contain at least 1 address",
                "endpoints[1].addresses: Too many: 101: must have at most 100 items",
                "endpoints[2].addresses[0]: Invalid value: \"2001:db8::1\": must be a valid IPv4 address",
                "endpoints[2].addresses[1]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
            ]
        );
        let s = slice("IPv6", json!([{"addresses": ["10.0.0.1"]}]), json!([]));
        assert_eq!(
            messages(&validate_slice(&s)),
            ["endpoints[0].addresses[0]: Invalid value: \"10.0.0.1\": must be a valid IPv6 address"]
        );
        let s = slice("FQDN", json!([{"addresses": ["localhost"]}]), json!([]));
        assert_eq!(
            messages(&validate_slice(&s)),
            ["endpoints[0].addresses[0]: Invalid value: \"localhost\": should be a domain with at least two segments separated by dots"]
        );
    }

    #[test]
    fn ports_are_named_uniquely_with_known_protocols() {
        let mut s = slice(
            "IPv4",
            json!([]),
            json!([{"port": 80}, {"name": "", "port": 81, "protocol": "ICMP"}, {"name": "Web"}]),
        );
        EndpointSliceStrategy.prepare_for_create(&mut s);
        assert_eq!(
            s["ports"][0],
            json!({"name": "", "port": 80, "protocol": "TCP"})
        );
        let m = messages(&validate_slice(&s));
        assert_eq!(m[0], "ports[1].name: Duplicate value: \"\"");
        assert_eq!(
            m[1],
            "ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\""
        );
        assert!(
            m[2].starts_with("ports[2].name: Invalid value: \"Web\""),
            "{m:?}"
        );
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn deprecated_topology_is_dropped_and_labels_move_the_generation() {
        let s = EndpointSliceStrategy;
        let mut new = slice(
            "IPv4",
            json!([{"addresses": ["10.0.0.1"], "deprecatedTopology": {"a": "b"}}]),
            json!([]),
        );
        s.prepare_for_create(&mut new);
        assert_eq!(new["endpoints"][0], json!({"addresses": ["10.0.0.1"]}));
        // Unchanged endpoints keep what the stored slice has.
        let old = slice(
            "IPv4",
            json!([{"addresses": ["10.0.0.1"], "deprecatedTopology": {"a": "b"}}]),
            json!([]),
        );
        let mut same = old.clone();
        s.prepare_for_update(&mut same, &old);
        assert_eq!(same["endpoints"], old["endpoints"]);
        let mut labelled = old.clone();
        labelled["metadata"]["labels"] = json!({"x": "y"});
        assert!(s.generation_changed(&labelled, &old));
        assert!(!s.generation_changed(&old.clone(), &old));
    }

    #[test]
    fn a_kept_topology_node_moves_to_node_name() {
        let old = slice(
            "IPv4",
            json!([{"addresses": ["10.0.0.1"], "deprecatedTopology": {"kubernetes.io/hostname": "node-1"}}]),
            json!([]),
        );
        let mut new = slice(
            "IPv4",
            json!([{"addresses": ["10.0.0.2"], "deprecatedTopology": {"kubernetes.io/hostname": "node-1"}},
                   {"addresses": ["10.0.0.3"], "deprecatedTopology": {"kubernetes.io/hostname": "node-2"}}]),
            json!([]),
        );
        EndpointSliceStrategy.prepare_for_update(&mut new, &old);
        assert_eq!(
            new["endpoints"],
            json!([{"addresses": ["10.0.0.2"], "nodeName": "node-1"}, {"addresses": ["10.0.0.3"]}])
        );
    }

    #[test]
    fn warnings_for_fqdn_and_non_standard_ips() {
        let s = EndpointSliceStrategy;
        let fqdn = slice(
            "FQDN",
            json!([{"addresses": ["db.example.com"]}]),
            json!([]),
        );
        assert_eq!(
            s.warnings_on_create(&fqdn),
            ["spec.addressType: FQDN endpoints are deprecated"]
        );
        assert!(s.warnings_on_update(&fqdn, &fqdn).is_empty());
        let mut zeros = slice("IPv4", json!([{"addresses": ["010.0.0.1"]}]), json!([]));
        assert_eq!(
            s.warnings_on_update(&zeros, &zeros),
            ["endpoints[0].addresses[0]: non-standard IP address \"010.0.0.1\" will be considered invalid in a future Kubernetes release: use \"10.0.0.1\""]
        );
        zeros["metadata"]["labels"] = json!({MANAGED_BY_LABEL: CONTROLLERS[0]});
        assert!(s.warnings_on_create(&zeros).is_empty());
    }

    #[test]
    fn address_type_is_immutable() {
        let old = slice("IPv4", json!([]), json!([]));
        let new = slice("IPv6", json!([]), json!([]));
        let m = messages(&EndpointSliceStrategy.validate_update(&new, &old));
        assert_eq!(
            m,
            ["addressType: Invalid value: \"IPv6\": field is immutable"]
        );
    }

    #[test]
    fn columns_format_as_upstream() {
        let empty = slice("IPv4", json!(null), json!(null));
        let cells = EndpointSliceStrategy.table_cells(&empty);
        assert_eq!(cells.len(), EndpointSliceStrategy.table_columns().len());
        assert_eq!(cells[0], Cell::Value(json!("IPv4")));
        assert_eq!(cells[1], Cell::Value(json!("<unset>")));
        assert_eq!(cells[2], Cell::Value(json!("<unset>")));
        let s = slice(
            "IPv4",
            json!([{"addresses": ["10.0.0.1", "10.0.0.2"]}, {"addresses": ["10.0.0.3", "10.0.0.4"]}]),
            json!([{"port": 80}, {"name": "dyn"}, {}, {"port": 443}]),
        );
        assert_eq!(format_ports(&s), "80,dyn,* + 1 more...");
        assert_eq!(
            format_endpoints(&s),
            "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more..."
        );
    }
}

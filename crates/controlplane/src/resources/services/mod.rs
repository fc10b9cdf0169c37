//! `services` (core/v1): defaults as upstream's `SetDefaults_Service`, the strategy's
//! preparation (status split, `clusterIP`/`clusterIPs` kept in step, allocated values
//! carried over an update that omits them, fields of the old type dropped on a type
//! change), upstream's validation (`validation.rs`), kubectl's columns and the
//! `spec.clusterIP`/`spec.type` field selectors. Cluster IPs and node ports are reserved
//! around each write by [`allocation::ServiceReserver`].

pub mod allocation;
mod prepare;
mod validation;

use std::sync::Arc;

use apimachinery::errors::FieldError;
use apimachinery::validation as names;
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::fields::{array, str_of};
use crate::types::Typed;

pub use allocation::{ServiceAllocators, ServiceReserver};

/// `clusterIP: None`: a headless Service.
pub const CLUSTER_IP_NONE: &str = "None";

pub struct ServiceStrategy;

/// The `spec` of a Service (or `null`).
pub(crate) fn spec(obj: &Value) -> &Value {
    obj.get("spec").unwrap_or(&Value::Null)
}

/// `spec.type`.
pub(crate) fn service_type(obj: &Value) -> &str {
    str_of(spec(obj), "type")
}

/// `spec.clusterIPs` as strings.
pub(crate) fn cluster_ips(obj: &Value) -> Vec<String> {
    array(spec(obj), "clusterIPs")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// `spec.ipFamilies` as strings.
pub(crate) fn ip_families(obj: &Value) -> Vec<String> {
    array(spec(obj), "ipFamilies")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Upstream's `isHeadlessService`: `clusterIPs[0]` is `None`.
pub(crate) fn is_headless(obj: &Value) -> bool {
    cluster_ips(obj).first().map(String::as_str) == Some(CLUSTER_IP_NONE)
}

/// Whether the type gets node ports (`NodePort`, `LoadBalancer`).
pub(crate) fn needs_node_ports(obj: &Value) -> bool {
    matches!(service_type(obj), "NodePort" | "LoadBalancer")
}

/// Upstream's `ExternallyAccessible`: a LoadBalancer, a NodePort, or a ClusterIP with
/// external IPs.
pub(crate) fn externally_accessible(obj: &Value) -> bool {
    match service_type(obj) {
        "LoadBalancer" | "NodePort" => true,
        "ClusterIP" => !array(spec(obj), "externalIPs").is_empty(),
        _ => false,
    }
}

/// Upstream's `NeedsHealthCheck`: a LoadBalancer with `externalTrafficPolicy: Local`.
pub(crate) fn needs_health_check(obj: &Value) -> bool {
    service_type(obj) == "LoadBalancer" && str_of(spec(obj), "externalTrafficPolicy") == "Local"
}

/// The node ports the Service holds (ports' `nodePort` and `healthCheckNodePort`).
pub fn node_ports(obj: &Value) -> Vec<u32> {
    let mut ports: Vec<u32> = array(spec(obj), "ports")
        .iter()
        .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
        .filter(|p| *p > 0)
        .map(|p| p as u32)
        .collect();
    if let Some(hc) = spec(obj).get("healthCheckNodePort").and_then(Value::as_u64) {
        if hc > 0 {
            ports.push(hc as u32);
        }
    }
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// `port/protocol` or `port:nodePort/protocol`, joined by commas (`makePortString`).
fn ports_cell(obj: &Value) -> String {
    let pieces: Vec<String> = array(spec(obj), "ports")
        .iter()
        .map(|p| {
            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            let protocol = str_of(p, "protocol");
            match p.get("nodePort").and_then(Value::as_i64).unwrap_or(0) {
                0 => format!("{port}/{protocol}"),
                np => format!("{port}:{np}/{protocol}"),
            }
        })
        .collect();
    if pieces.is_empty() {
        "<none>".to_string()
    } else {
        pieces.join(",")
    }
}

/// The load balancer's ingress addresses (IPs, else host names), comma separated.
fn load_balancer_cell(obj: &Value) -> Vec<String> {
    let ingress = obj
        .get("status")
        .and_then(|s| s.get("loadBalancer"))
        .map(|lb| array(lb, "ingress"))
        .unwrap_or(&[]);
    ingress
        .iter()
        .filter_map(|i| {
            let ip = str_of(i, "ip");
            let host = str_of(i, "hostname");
            if !ip.is_empty() {
                Some(ip.to_string())
            } else if !host.is_empty() {
                Some(host.to_string())
            } else {
                None
            }
        })
        .collect()
}

/// The `External-IP` cell (`getServiceExternalIP`).
fn external_ip_cell(obj: &Value) -> String {
    let external: Vec<String> = array(spec(obj), "externalIPs")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    match service_type(obj) {
        "ClusterIP" | "NodePort" if !external.is_empty() => external.join(","),
        "ClusterIP" | "NodePort" => "<none>".to_string(),
        "LoadBalancer" => {
            let mut all = load_balancer_cell(obj);
            all.extend(external);
            if all.is_empty() {
                "<pending>".to_string()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => str_of(spec(obj), "externalName").to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// The `Selector` cell (`labels.FormatLabels`: sorted `k=v`, or `<none>`).
fn selector_cell(obj: &Value) -> String {
    let Some(sel) = spec(obj).get("selector").and_then(Value::as_object) else {
        return "<none>".to_string();
    };
    let mut pairs: Vec<String> = sel
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    if pairs.is_empty() {
        return "<none>".to_string();
    }
    pairs.sort();
    pairs.join(",")
}

impl Strategy for ServiceStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        prepare::for_create(obj);
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        prepare::for_update(new, old);
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validation::validate(obj)
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = validation::validate_update(new, old);
        errs.extend(validation::validate(new));
        errs
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        _old: &Value,
    ) -> Vec<FieldError> {
        if subresource == "status" {
            return validation::validate_status(new);
        }
        Vec::new()
    }

    fn validate_name(&self, name: &str, prefix: bool) -> Vec<String> {
        names::name_is_dns1035_label(name, prefix)
    }

    fn allow_create_on_update(&self) -> bool {
        true
    }

    fn return_deleted_object(&self) -> bool {
        true
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new(
                "Type",
                "string",
                "How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.",
            ),
            ColumnDef::new(
                "Cluster-IP",
                "string",
                "The primary virtual IP of the service.",
            ),
            ColumnDef::new(
                "External-IP",
                "string",
                "Addresses outside the cluster that reach the service.",
            ),
            ColumnDef::new("Port(s)", "string", "The ports the service exposes."),
            ColumnDef::AGE,
            ColumnDef {
                priority: 1,
                ..ColumnDef::new(
                    "Selector",
                    "string",
                    "The pod labels the service routes traffic to.",
                )
            },
        ]
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let text = |s: String| Cell::Value(json!(s));
        let cluster_ip = cluster_ips(obj)
            .into_iter()
            .next()
            .unwrap_or_else(|| "<none>".to_string());
        vec![
            text(service_type(obj).to_string()),
            text(cluster_ip),
            text(external_ip_cell(obj)),
            text(ports_cell(obj)),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
            text(selector_cell(obj)),
        ]
    }

    fn selectable_fields(&self) -> &[&'static str] {
        &["spec.clusterIP", "spec.type"]
    }

    fn field_value(&self, obj: &Value, field: &str) -> Option<String> {
        match field {
            "spec.clusterIP" => Some(str_of(spec(obj), "clusterIP").to_string()),
            "spec.type" => Some(service_type(obj).to_string()),
            _ => None,
        }
    }
}

/// The declaration; `reserver` reserves cluster IPs and node ports around writes.
pub fn decl(reserver: Option<Arc<ServiceReserver>>) -> ResourceDecl {
    let decl = ResourceDecl::new(
        "",
        "v1",
        "Service",
        "services",
        Scope::Namespaced,
        Arc::new(ServiceStrategy),
    )
    .typed()
    .with_short_names(&["svc"])
    .with_categories(&["all"])
    .with_subresources(&["status"]);
    match reserver {
        Some(r) => decl.with_reserver(r),
        None => decl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(obj: &Value) -> Vec<Value> {
        ServiceStrategy
            .table_cells(obj)
            .into_iter()
            .filter_map(|c| match c {
                Cell::Value(v) => Some(v),
                Cell::Age(_) => None,
            })
            .collect()
    }

    #[test]
    fn columns_follow_upstreams_printer() {
        let svc = json!({"metadata": {"name": "s"}, "spec": {
            "type": "NodePort", "clusterIP": "10.0.0.9", "clusterIPs": ["10.0.0.9"],
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
            "selector": {"b": "2", "a": "1"}}});
        assert_eq!(
            cells(&svc),
            vec![
                json!("NodePort"),
                json!("10.0.0.9"),
                json!("<none>"),
                json!("80:30080/TCP,53/UDP"),
                json!("a=1,b=2")
            ]
        );
        let ext = json!({"spec": {"type": "ExternalName", "externalName": "example.com"}});
        assert_eq!(
            cells(&ext),
            vec![
                json!("ExternalName"),
                json!("<none>"),
                json!("example.com"),
                json!("<none>"),
                json!("<none>")
            ]
        );
        let lb = json!({"spec": {"type": "LoadBalancer", "clusterIPs": ["10.0.0.1"], "ports": [{"port": 1, "protocol": "TCP"}]}});
        assert_eq!(cells(&lb)[2], json!("<pending>"));
    }
}

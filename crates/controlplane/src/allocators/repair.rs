//! Reconciles the allocations with the Services (upstream's ClusterIP and NodePort repair
//! controllers), at start-up and then every [`REPAIR_INTERVAL`]:
//!
//! - a Service's cluster IP without its `IPAddress` gets one; an `IPAddress` of the
//!   allocator whose Service is gone (or holds another address) is deleted once it is
//!   older than [`ORPHAN_GRACE`] (a create in flight reserves before it stores);
//! - the node port bitmap gets every port a Service uses; a port marked but used by no
//!   Service is released after it was seen so in [`LEAK_ROUNDS`] repairs in a row.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use apiserver::registry::{DeleteOptions, ListParams, Store};
use serde_json::Value;

use super::ip::{address_object, LABEL_MANAGED_BY, MANAGER};
use super::ports::Bitmap;
use super::Owner;
use crate::bootstrap::system_context;
use crate::resources::netcheck::parse_ip_sloppy;
use crate::resources::services::{ServiceAllocators, CLUSTER_IP_NONE};

/// How often the repair runs after start-up (upstream's default).
pub const REPAIR_INTERVAL: Duration = Duration::from_secs(180);
/// How old an orphaned `IPAddress` must be before it is released.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(60);
/// Repairs in a row a node port must be seen leaked before it is released (upstream's).
pub const LEAK_ROUNDS: u32 = 3;

/// What one repair changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RepairReport {
    pub addresses_created: usize,
    pub addresses_released: usize,
    pub ports_marked: usize,
    pub ports_released: usize,
}

/// The repair's memory between runs: how many times each unused port was seen marked.
#[derive(Default)]
pub struct Repairer {
    leaks: HashMap<u32, u32>,
}

async fn list_all(store: &Store) -> Result<Vec<Value>, String> {
    let out = store
        .list("", &ListParams::default())
        .await
        .map_err(|e| e.message.clone())?;
    out.items
        .iter()
        .map(|b| serde_json::from_slice(b).map_err(|e| e.to_string()))
        .collect()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

/// The cluster IPs a Service holds, parsed.
fn service_ips(svc: &Value) -> Vec<IpAddr> {
    if str_at(svc, &["spec", "type"]) == "ExternalName" {
        return Vec::new();
    }
    svc.get("spec")
        .and_then(|s| s.get("clusterIPs"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|ip| *ip != CLUSTER_IP_NONE)
                .filter_map(parse_ip_sloppy)
                .collect()
        })
        .unwrap_or_default()
}

fn older_than(obj: &Value, grace: Duration) -> bool {
    let created = str_at(obj, &["metadata", "creationTimestamp"]);
    match apimachinery::time::parse_rfc3339(created) {
        Some(t) => std::time::SystemTime::now()
            .duration_since(t)
            .is_ok_and(|age| age >= grace),
        None => true,
    }
}

impl Repairer {
    /// Runs one repair over `services` with `addresses` (the `ipaddresses` store).
    pub async fn run(
        &mut self,
        services: &Store,
        addresses: &Store,
        allocators: &ServiceAllocators,
    ) -> Result<RepairReport, String> {
        let mut report = RepairReport::default();
        // Addresses first: one created after this list cannot be taken for an orphan.
        let existing = list_all(addresses).await?;
        let svcs = list_all(services).await?;
        let mut held: HashMap<IpAddr, Owner> = HashMap::new();
        for svc in &svcs {
            let owner = Owner {
                namespace: str_at(svc, &["metadata", "namespace"]).to_string(),
                name: str_at(svc, &["metadata", "name"]).to_string(),
            };
            for ip in service_ips(svc) {
                held.insert(ip, owner.clone());
            }
        }
        let mut present: HashMap<IpAddr, &Value> = HashMap::new();
        for addr in &existing {
            if let Some(ip) = parse_ip_sloppy(str_at(addr, &["metadata", "name"])) {
                present.insert(ip, addr);
            }
        }
        for (ip, owner) in &held {
            if present.contains_key(ip) {
                continue;
            }
            if allocators.ip_for(ip).is_none_or(|a| !a.cidr.contains(ip)) {
                tracing::warn!(
                    "the cluster IP {ip} of service {}/{} is not in a configured range",
                    owner.namespace,
                    owner.name
                );
                continue;
            }
            match addresses
                .create(&system_context(), "", address_object(ip, owner))
                .await
            {
                Ok(_) => report.addresses_created += 1,
                Err(e) if e.code == 409 => {}
                Err(e) => tracing::warn!("repairing cluster IP {ip}: {}", e.message),
            }
        }
        for (ip, addr) in &present {
            let managed = addr
                .get("metadata")
                .and_then(|m| m.get("labels"))
                .and_then(|l| l.get(LABEL_MANAGED_BY))
                .and_then(Value::as_str)
                == Some(MANAGER);
            if !managed || !older_than(addr, ORPHAN_GRACE) {
                continue;
            }
            let parent = Owner {
                namespace: str_at(addr, &["spec", "parentRef", "namespace"]).to_string(),
                name: str_at(addr, &["spec", "parentRef", "name"]).to_string(),
            };
            if held.get(ip) == Some(&parent) {
                continue;
            }
            let name = ip.to_string();
            match addresses
                .delete(&system_context(), "", &name, &DeleteOptions::default())
                .await
            {
                Ok(_) => report.addresses_released += 1,
                Err(e) if e.code == 404 => {}
                Err(e) => tracing::warn!("releasing orphaned cluster IP {name}: {}", e.message),
            }
        }
        self.repair_ports(&svcs, allocators, &mut report).await?;
        Ok(report)
    }

    async fn repair_ports(
        &mut self,
        svcs: &[Value],
        allocators: &ServiceAllocators,
        report: &mut RepairReport,
    ) -> Result<(), String> {
        let ports = &allocators.ports;
        let range = ports.range;
        let mut used = Bitmap::default();
        for svc in svcs {
            for port in crate::resources::services::node_ports(svc) {
                if range.contains(port) {
                    used.set(port - u32::from(range.base), true);
                } else {
                    tracing::warn!(
                        "the node port {port} of service {}/{} is not in the range {range}",
                        str_at(svc, &["metadata", "namespace"]),
                        str_at(svc, &["metadata", "name"])
                    );
                }
            }
        }
        for _ in 0..8 {
            let (stored, rev) = ports.snapshot().await.map_err(|e| e.to_string())?;
            let mut next = used.clone();
            let mut leaks = HashMap::new();
            let mut released = 0;
            for offset in stored.offsets() {
                if used.has(offset) {
                    continue;
                }
                let port = u32::from(range.base) + offset;
                let seen = self.leaks.get(&port).copied().unwrap_or(0) + 1;
                if seen >= LEAK_ROUNDS {
                    released += 1;
                } else {
                    leaks.insert(port, seen);
                    next.set(offset, true);
                }
            }
            let marked = used.offsets().filter(|o| !stored.has(*o)).count();
            if next == stored && rev.is_some() {
                self.leaks = leaks;
                return Ok(());
            }
            if ports.store(&next, rev).await.map_err(|e| e.to_string())? {
                self.leaks = leaks;
                report.ports_marked += marked;
                report.ports_released += released;
                return Ok(());
            }
        }
        Err("the node port allocation kept changing during repair".to_string())
    }
}

/// Runs the repair every [`REPAIR_INTERVAL`] after a first run, in the background.
pub fn spawn_periodic(
    mut repairer: Repairer,
    services: Arc<Store>,
    addresses: Arc<Store>,
    allocators: Arc<ServiceAllocators>,
) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(REPAIR_INTERVAL).await;
            match repairer.run(&services, &addresses, &allocators).await {
                Ok(report) if report != RepairReport::default() => {
                    tracing::info!("service allocations repaired: {report:?}")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("repairing service allocations: {e}"),
            }
        }
    });
}

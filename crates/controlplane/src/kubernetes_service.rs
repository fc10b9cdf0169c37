//! The `kubernetes` Service in `default` and its endpoints (upstream's bootstrap
//! controller in `pkg/controlplane/controller/kubernetesservice`): the Service gets the
//! first IP of the service range and port 443 `https` to the secure port; its Endpoints
//! and EndpointSlice list the API servers' advertise addresses. With the `lease`
//! reconciler (upstream's default) every server keeps a lease under
//! `/registry/masterleases/<ip>` (a short time to live, renewed every
//! [`RECONCILE_INTERVAL`]) and the endpoints list the addresses holding one, so several
//! servers on one etcd all appear and a stopped one drops out; with `master-count` each
//! server adds its address to those listed and, when there are more than
//! `--apiserver-count`, drops the ones after its own (upstream's master-count reconciler);
//! `none` leaves them alone.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use apiserver::registry::{encoding::encode_canonical, Store};
use serde_json::{json, Value};
use storage::{Storage, StorageError};

use crate::bootstrap::system_context;

/// The Service's name.
pub const NAME: &str = "kubernetes";
/// How often the Service and endpoints are reconciled (upstream's endpoint interval).
pub const RECONCILE_INTERVAL: Duration = Duration::from_secs(10);
/// How long a server's lease lives without renewal (upstream's master lease TTL).
pub const LEASE_TTL: Duration = Duration::from_secs(15);

/// How the endpoints are kept (`--endpoint-reconciler-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconciler {
    /// Leases in storage: every live server is listed.
    Lease,
    /// Each server adds itself and trims the list to this many (`master-count`,
    /// `--apiserver-count`).
    MasterCount(usize),
    /// The endpoints are not touched.
    None,
}

/// What the controller needs.
pub struct KubernetesService {
    pub services: Arc<Store>,
    pub endpoints: Option<Arc<Store>>,
    pub slices: Option<Arc<Store>>,
    /// Raw storage for the leases, and the etcd prefix.
    pub storage: Arc<dyn Storage>,
    pub prefix: String,
    pub service_ip: IpAddr,
    /// `443`, or what `--kubernetes-service-node-port` turns it into.
    pub node_port: u16,
    pub advertise: IpAddr,
    pub secure_port: u16,
    pub reconciler: Reconciler,
}

/// Upstream's master-count trimming: `own` joins `listed`; while more than `count` remain,
/// the address after `own` in string order (wrapping around) goes.
fn trim_to_count(listed: Vec<String>, own: &str, count: usize) -> Vec<String> {
    let mut ips: Vec<String> = listed;
    ips.push(own.to_string());
    ips.sort();
    ips.dedup();
    let count = count.max(1);
    if ips.len() > count {
        let sorted = ips.clone();
        if let Some(i) = sorted.iter().position(|ip| ip == own) {
            let mut next = i;
            while ips.len() > count {
                next = (next + 1) % sorted.len();
                ips.retain(|ip| ip != &sorted[next]);
            }
        }
    }
    ips
}

fn port_spec(target: u16, node_port: u16) -> Value {
    let mut port = json!({"name": "https", "port": 443, "protocol": "TCP", "targetPort": target});
    if node_port > 0 {
        port["nodePort"] = json!(node_port);
    }
    port
}

impl KubernetesService {
    fn service_type(&self) -> &'static str {
        if self.node_port > 0 {
            "NodePort"
        } else {
            "ClusterIP"
        }
    }

    /// Creates the Service, or corrects its ports and type.
    pub async fn ensure_service(&self) -> Result<(), String> {
        let ctx = system_context();
        let ports = json!([port_spec(self.secure_port, self.node_port)]);
        match self.services.get("default", NAME).await {
            Ok(mut svc) => {
                let spec = &svc["spec"];
                let same_ports = spec["ports"].as_array().is_some_and(|p| {
                    p.len() == 1
                        && p[0]["port"] == 443
                        && p[0]["targetPort"] == self.secure_port
                        && p[0]["protocol"] == "TCP"
                        && p[0]["name"] == "https"
                        && (self.node_port == 0 || p[0]["nodePort"] == self.node_port)
                });
                if same_ports && spec["type"] == self.service_type() {
                    return Ok(());
                }
                svc["spec"]["ports"] = ports;
                svc["spec"]["type"] = json!(self.service_type());
                self.services
                    .update(&ctx, "default", NAME, "", svc)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.message.clone())
            }
            Err(e) if e.code == 404 => {
                let svc = json!({
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": NAME, "namespace": "default",
                                 "labels": {"component": "apiserver", "provider": "kubernetes"}},
                    "spec": {
                        "ports": ports,
                        "clusterIP": self.service_ip.to_string(),
                        "sessionAffinity": "None",
                        "type": self.service_type(),
                    },
                });
                match self.services.create(&ctx, "default", svc).await {
                    Ok(_) => Ok(()),
                    Err(e) if e.code == 409 => Ok(()),
                    Err(e) => Err(e.message.clone()),
                }
            }
            Err(e) => Err(e.message.clone()),
        }
    }

    fn lease_prefix(&self) -> String {
        format!("{}/masterleases/", self.prefix.trim_end_matches('/'))
    }

    /// Renews this server's lease and lists the addresses holding one.
    async fn live_addresses(&self) -> Result<Vec<IpAddr>, String> {
        let key = format!("{}{}", self.lease_prefix(), self.advertise);
        let lease = encode_canonical(&json!({
            "kind": "Endpoints", "apiVersion": "v1",
            "metadata": {"name": self.advertise.to_string(), "creationTimestamp": null},
            "subsets": [{"addresses": [{"ip": self.advertise.to_string()}]}],
        }));
        let err = |e: StorageError| e.to_string();
        match self.storage.get(&key).await.map_err(err)? {
            Some(kv) => match self
                .storage
                .update_with_ttl(&key, kv.mod_revision, lease.clone(), Some(LEASE_TTL))
                .await
            {
                Ok(_) | Err(StorageError::Conflict { .. }) => {}
                Err(StorageError::NotFound { .. }) => {
                    self.storage
                        .create_with_ttl(&key, lease, Some(LEASE_TTL))
                        .await
                        .map_err(err)?;
                }
                Err(e) => return Err(err(e)),
            },
            None => match self
                .storage
                .create_with_ttl(&key, lease, Some(LEASE_TTL))
                .await
            {
                Ok(_) | Err(StorageError::AlreadyExists { .. }) => {}
                Err(e) => return Err(err(e)),
            },
        }
        let listed = self
            .storage
            .list(&self.lease_prefix(), Default::default())
            .await
            .map_err(err)?;
        let mut ips: Vec<IpAddr> = listed
            .items
            .iter()
            .filter_map(|kv| kv.key.strip_prefix(&self.lease_prefix()))
            .filter_map(|ip| ip.parse().ok())
            .collect();
        if !ips.contains(&self.advertise) {
            ips.push(self.advertise);
        }
        ips.sort();
        Ok(ips)
    }

    /// The master-count reconciler's list: the listed addresses and this server's, then,
    /// while there are more than `count`, the one after this server's in sorted order
    /// (wrapping around) removed, so that servers agreeing on the count converge.
    async fn counted_addresses(&self, count: usize) -> Result<Vec<IpAddr>, String> {
        let listed = match &self.endpoints {
            Some(store) => match store.get("default", NAME).await {
                Ok(endpoints) => endpoints["subsets"][0]["addresses"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|a| a["ip"].as_str())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
                Err(e) if e.code == 404 => Vec::new(),
                Err(e) => return Err(e.message.clone()),
            },
            None => Vec::new(),
        };
        Ok(trim_to_count(listed, &self.advertise.to_string(), count)
            .iter()
            .filter_map(|ip| ip.parse().ok())
            .collect())
    }

    /// Creates or updates `name` in `store` to hold `want`'s content fields.
    async fn upsert(store: &Store, want: Value, fields: &[&str]) -> Result<(), String> {
        let ctx = system_context();
        match store.get("default", NAME).await {
            Ok(mut current) => {
                if fields.iter().all(|f| current.get(*f) == want.get(*f))
                    && current["metadata"]["labels"] == want["metadata"]["labels"]
                {
                    return Ok(());
                }
                for f in fields {
                    current[*f] = want[*f].clone();
                }
                current["metadata"]["labels"] = want["metadata"]["labels"].clone();
                store
                    .update(&ctx, "default", NAME, "", current)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.message.clone())
            }
            Err(e) if e.code == 404 => match store.create(&ctx, "default", want).await {
                Ok(_) => Ok(()),
                Err(e) if e.code == 409 => Ok(()),
                Err(e) => Err(e.message.clone()),
            },
            Err(e) => Err(e.message.clone()),
        }
    }

    /// Points the Endpoints and the EndpointSlice at the live servers.
    pub async fn ensure_endpoints(&self) -> Result<(), String> {
        let ips = match self.reconciler {
            Reconciler::None => return Ok(()),
            Reconciler::MasterCount(count) => self.counted_addresses(count).await?,
            Reconciler::Lease => self.live_addresses().await?,
        };
        let port = json!({"name": "https", "port": self.secure_port, "protocol": "TCP"});
        if let Some(endpoints) = &self.endpoints {
            let addresses: Vec<Value> =
                ips.iter().map(|ip| json!({"ip": ip.to_string()})).collect();
            let want = json!({
                "apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": NAME, "namespace": "default",
                             "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                "subsets": [{"addresses": addresses, "ports": [port.clone()]}],
            });
            Self::upsert(endpoints, want, &["subsets"]).await?;
        }
        if let Some(slices) = &self.slices {
            let family = if self.advertise.is_ipv4() {
                "IPv4"
            } else {
                "IPv6"
            };
            let endpoints: Vec<Value> = ips
                .iter()
                .map(|ip| json!({"addresses": [ip.to_string()], "conditions": {"ready": true}}))
                .collect();
            let want = json!({
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": NAME, "namespace": "default",
                             "labels": {"kubernetes.io/service-name": NAME}},
                "addressType": family,
                "endpoints": endpoints,
                "ports": [port],
            });
            Self::upsert(slices, want, &["addressType", "endpoints", "ports"]).await?;
        }
        Ok(())
    }

    /// One reconciliation of the Service and its endpoints.
    pub async fn reconcile(&self) -> Result<(), String> {
        self.ensure_service().await?;
        self.ensure_endpoints().await
    }

    /// Removes this server's lease (on shutdown), so that the others drop it at once.
    pub async fn remove_lease(&self) {
        if self.reconciler == Reconciler::Lease {
            let key = format!("{}{}", self.lease_prefix(), self.advertise);
            let _ = self.storage.delete(&key, None).await;
        }
    }
}

/// Reconciles every [`RECONCILE_INTERVAL`] in the background.
pub fn spawn_periodic(controller: Arc<KubernetesService>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(RECONCILE_INTERVAL).await;
            if let Err(e) = controller.reconcile().await {
                tracing::warn!("reconciling the kubernetes service: {e}");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::trim_to_count;

    fn ips(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn master_count_keeps_its_own_address_and_drops_the_ones_after_it() {
        assert_eq!(trim_to_count(Vec::new(), "10.0.0.2", 1), ips(&["10.0.0.2"]));
        assert_eq!(
            trim_to_count(ips(&["10.0.0.1", "10.0.0.3"]), "10.0.0.2", 3),
            ips(&["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        );
        // Four for three: the one after ours goes.
        assert_eq!(
            trim_to_count(ips(&["10.0.0.1", "10.0.0.3", "10.0.0.4"]), "10.0.0.2", 3),
            ips(&["10.0.0.1", "10.0.0.2", "10.0.0.4"])
        );
        // Ours is last: removal wraps around to the first.
        assert_eq!(
            trim_to_count(ips(&["10.0.0.1", "10.0.0.2"]), "10.0.0.3", 2),
            ips(&["10.0.0.2", "10.0.0.3"])
        );
        assert_eq!(
            trim_to_count(ips(&["10.0.0.1", "10.0.0.2"]), "10.0.0.3", 1),
            ips(&["10.0.0.3"])
        );
    }
}

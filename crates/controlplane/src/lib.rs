//! The built-in Kubernetes API (upstream's `pkg/controlplane`): REST storage for every
//! built-in resource, admission plugins for them, and the bootstrap post-start hooks
//! (system namespaces, system priority classes).

pub mod admission;
pub mod allocators;
pub mod bootstrap;
pub mod default_toleration_seconds;
pub mod kubernetes_service;
pub mod limit_ranger;
pub mod namespace_lifecycle;
pub mod pod_security;
pub mod priority;
pub mod resources;
pub mod service_account;
pub mod types;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use apiserver::admission::{AdmissionChain, AdmissionPlugin};
use apiserver::auth::Authorizer;
use apiserver::encryptionconfig::EncryptionConfig;
use apiserver::registry::{Listers, ResourceDecl, StorageEncoding, StorageMediaType, Store};
use apiserver::server::GenericApiServer;
use storage::Storage;

/// The stores of the built-in API, by qualified resource (`configmaps`, `priorityclasses.scheduling.k8s.io`).
pub struct Instance {
    pub stores: BTreeMap<String, Arc<Store>>,
    /// The same stores, for code that reads other kinds.
    pub listers: Arc<Listers>,
    /// The Service allocators, when a service network was configured.
    pub service_allocators: Option<Arc<resources::services::ServiceAllocators>>,
    /// Metrics the enabled admission plugins keep, for `/metrics`.
    pub metrics_sources: Vec<Arc<dyn apiserver::metrics::MetricsSource>>,
}

/// The Service network (`--service-cluster-ip-range`, `--service-node-port-range`).
#[derive(Debug, Clone)]
pub struct ServiceNetwork {
    /// One CIDR, or two of different families (the primary first).
    pub cidrs: Vec<allocators::cidr::Cidr>,
    pub node_ports: allocators::ports::PortRange,
}

impl Instance {
    pub fn store(&self, qualified_resource: &str) -> Option<Arc<Store>> {
        self.stores.get(qualified_resource).cloned()
    }

    /// Starts the controller that gives every namespace its `default` ServiceAccount and
    /// (with a CA bundle) its `kube-root-ca.crt` ConfigMap, when those resources are served.
    pub fn start_namespace_defaults(&self, root_ca_pem: Option<String>) {
        let (Some(namespaces), Some(service_accounts)) =
            (self.store("namespaces"), self.store("serviceaccounts"))
        else {
            return;
        };
        let root_ca = root_ca_pem.and_then(|pem| Some((self.store("configmaps")?, pem)));
        let controller = service_account::controller::NamespaceDefaults {
            namespaces,
            service_accounts,
            root_ca,
        };
        tokio::spawn(controller.run());
    }
}

/// Which group-versions are enabled (from `--runtime-config`): `enabled(group, version)`.
pub type EnabledFn<'a> = &'a dyn Fn(&str, &str) -> bool;

/// The watch cache's window for a resource, or `None` to serve it from storage alone.
pub type CacheSizeFn<'a> = &'a dyn Fn(&ResourceDecl) -> Option<usize>;

/// How the built-in resources are stored, from the server's options.
pub struct StorageConfig<'a> {
    /// The watch cache's window per resource.
    pub cache_size: CacheSizeFn<'a>,
    /// How long events are kept after their last write (`--event-ttl`).
    pub event_ttl: Duration,
    /// The enabled admission plugins, in the order they run (upstream's names; names this
    /// crate does not implement are skipped: the options refuse enabling them).
    pub admission_plugins: &'a [String],
    /// The PodSecurity plugin's configuration (from `--admission-control-config-file`).
    pub pod_security: pod_security::config::Config,
    /// The `CoordinatedLeaderElection` feature gate (lease strategies and preferred holders).
    pub coordinated_leader_election: bool,
    /// Where Services get cluster IPs and node ports; `None` serves Services without
    /// allocating (only for tests of other kinds).
    pub service_network: Option<ServiceNetwork>,
    /// The media type objects are written in (`--storage-media-type`).
    pub media_type: StorageMediaType,
    /// Encryption at rest per resource (`--encryption-provider-config`).
    pub encryption: Option<&'a EncryptionConfig>,
    /// The tolerationSeconds DefaultTolerationSeconds gives pods for the not-ready and the
    /// unreachable taints (`--default-not-ready-toleration-seconds`,
    /// `--default-unreachable-toleration-seconds`).
    pub default_toleration_seconds: (i64, i64),
    /// The node address types tried, in order, to reach a kubelet
    /// (`--kubelet-preferred-address-types`).
    pub kubelet_preferred_address_types: &'a [String],
}

/// Builds the Service allocators over `storage` (the node port bitmap is read through the
/// `RangeAllocation` codec); the `ipaddresses` store is filled in once built.
fn service_allocators(
    network: &ServiceNetwork,
    storage: &Arc<dyn Storage>,
    etcd_prefix: &str,
    addresses: &allocators::ip::AddressStore,
    media_type: StorageMediaType,
) -> Arc<resources::services::ServiceAllocators> {
    let codec = apiserver::registry::codec::StorageCodec::new(
        types::of("", "v1", "RangeAllocation"),
        media_type,
    );
    let ranges: Arc<dyn Storage> = Arc::new(storage::transform::TransformedStorage::new(
        storage.clone(),
        Arc::new(codec),
    ));
    Arc::new(resources::services::ServiceAllocators {
        ips: network
            .cidrs
            .iter()
            .map(|c| allocators::ip::IpAllocator::new(*c, addresses.clone()))
            .collect(),
        ports: allocators::ports::PortAllocator::new(
            network.node_ports,
            ranges,
            format!(
                "{}/ranges/servicenodeports",
                etcd_prefix.trim_end_matches('/')
            ),
        ),
    })
}

/// Admission plugins this crate implements.
pub const ADMISSION_PLUGINS: &[&str] = &[
    "AlwaysAdmit",
    "NamespaceLifecycle",
    "LimitRanger",
    "ServiceAccount",
    "PodSecurity",
    "DefaultTolerationSeconds",
    "Priority",
    "AlwaysDeny",
];

/// Builds the stores of every enabled built-in resource and installs them in `server`.
pub fn install(
    server: &GenericApiServer,
    storage: Arc<dyn Storage>,
    etcd_prefix: &str,
    enabled: EnabledFn<'_>,
    config: &StorageConfig<'_>,
    authorizer: Arc<dyn Authorizer>,
) -> Instance {
    let listers = Listers::new();
    let lifecycle = Arc::new(namespace_lifecycle::NamespaceLifecycle::new(
        listers.clone(),
    ));
    let mut metrics_sources: Vec<Arc<dyn apiserver::metrics::MetricsSource>> = Vec::new();
    let plugins = config
        .admission_plugins
        .iter()
        .filter_map(|name| -> Option<Arc<dyn AdmissionPlugin>> {
            match name.as_str() {
                "AlwaysAdmit" => Some(Arc::new(admission::AlwaysAdmit)),
                "NamespaceLifecycle" => Some(lifecycle.clone()),
                "LimitRanger" => Some(Arc::new(limit_ranger::LimitRanger::new(listers.clone()))),
                "ServiceAccount" => Some(Arc::new(
                    service_account::admission::ServiceAccount::new(listers.clone()),
                )),
                "DefaultTolerationSeconds" => Some(Arc::new(
                    default_toleration_seconds::DefaultTolerationSeconds {
                        not_ready_seconds: config.default_toleration_seconds.0,
                        unreachable_seconds: config.default_toleration_seconds.1,
                    },
                )),
                "PodSecurity" => {
                    let plugin = pod_security::PodSecurity::new(
                        listers.clone(),
                        config.pod_security.clone(),
                    );
                    metrics_sources.push(plugin.metrics());
                    Some(Arc::new(plugin))
                }
                "Priority" => Some(Arc::new(priority::Priority::new(listers.clone()))),
                "AlwaysDeny" => Some(Arc::new(admission::AlwaysDeny)),
                _ => None,
            }
        })
        .collect();
    let admission = AdmissionChain::new(plugins);
    let addresses: allocators::ip::AddressStore = Default::default();
    let service_allocators = config
        .service_network
        .as_ref()
        .map(|net| service_allocators(net, &storage, etcd_prefix, &addresses, config.media_type));
    let endpoints_cell: Arc<std::sync::OnceLock<Arc<Store>>> = Default::default();
    let reserver = service_allocators.clone().map(|allocators| {
        Arc::new(resources::services::ServiceReserver {
            allocators,
            endpoints: endpoints_cell.clone(),
        })
    });
    let mut stores = BTreeMap::new();
    // The store of each stored resource, by storage key root: the versions served over it
    // share it (and its one watch cache), whether or not its own version is served.
    let mut stored: BTreeMap<String, Store> = BTreeMap::new();
    let mut storage_store = |decl: &ResourceDecl| -> Store {
        let key = format!("{}/{}", decl.group, decl.storage_path);
        stored
            .entry(key)
            .or_insert_with(|| {
                let size = (config.cache_size)(decl);
                let encoding = StorageEncoding {
                    media_type: config.media_type,
                    encryption: config
                        .encryption
                        .and_then(|e| e.transformer_for(&decl.group, &decl.plural)),
                };
                let store = Store::with_encoding(
                    Arc::new(decl.clone()),
                    storage.clone(),
                    etcd_prefix,
                    admission.clone(),
                    encoding,
                );
                match size {
                    Some(size) => store.with_watch_cache(size),
                    None => store,
                }
            })
            .clone()
    };
    for decl in resources::all(config, authorizer, &listers, reserver) {
        if !enabled(&decl.group, &decl.version) {
            continue;
        }
        let store = match decl.stored_as.clone() {
            None => storage_store(&decl),
            Some(s) => Store::served_at(&storage_store(&s.hub), Arc::new(decl), s.conversion),
        };
        let store = Arc::new(store);
        server.install(store.clone());
        stores
            .entry(store.decl.qualified_resource())
            .or_insert(store);
    }
    if let Some(endpoints) = stores.get("endpoints") {
        let _ = endpoints_cell.set(endpoints.clone());
    }
    if let Some(ips) = stores.get("ipaddresses.networking.k8s.io") {
        let _ = addresses.set(ips.clone());
    }
    listers.set(stores.clone());
    Instance {
        stores,
        listers,
        service_allocators,
        metrics_sources,
    }
}

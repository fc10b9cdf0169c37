//! The built-in Kubernetes API (upstream's `pkg/controlplane`): REST storage for every
//! built-in resource, admission plugins for them, and the bootstrap post-start hooks
//! (system namespaces, system priority classes).

pub mod admission;
pub mod bootstrap;
pub mod default_toleration_seconds;
pub mod limit_ranger;
pub mod namespace_lifecycle;
pub mod priority;
pub mod resources;
pub mod service_account;
pub mod types;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use apiserver::admission::{AdmissionChain, AdmissionPlugin};
use apiserver::auth::Authorizer;
use apiserver::registry::{Listers, ResourceDecl, Store};
use apiserver::server::GenericApiServer;
use storage::Storage;

/// The stores of the built-in API, by qualified resource (`configmaps`, `priorityclasses.scheduling.k8s.io`).
pub struct Instance {
    pub stores: BTreeMap<String, Arc<Store>>,
    /// The same stores, for code that reads other kinds.
    pub listers: Arc<Listers>,
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
    /// The `CoordinatedLeaderElection` feature gate (lease strategies and preferred holders).
    pub coordinated_leader_election: bool,
    /// The tolerationSeconds DefaultTolerationSeconds gives pods for the not-ready and the
    /// unreachable taints (`--default-not-ready-toleration-seconds`,
    /// `--default-unreachable-toleration-seconds`).
    pub default_toleration_seconds: (i64, i64),
}

/// Admission plugins this crate implements.
pub const ADMISSION_PLUGINS: [&str; 7] = [
    "AlwaysAdmit",
    "NamespaceLifecycle",
    "LimitRanger",
    "ServiceAccount",
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
                "Priority" => Some(Arc::new(priority::Priority::new(listers.clone()))),
                "AlwaysDeny" => Some(Arc::new(admission::AlwaysDeny)),
                _ => None,
            }
        })
        .collect();
    let admission = AdmissionChain::new(plugins);
    let mut stores = BTreeMap::new();
    for decl in resources::all(config, authorizer, &listers) {
        if !enabled(&decl.group, &decl.version) {
            continue;
        }
        let size = (config.cache_size)(&decl);
        let mut store = Store::new(
            Arc::new(decl),
            storage.clone(),
            etcd_prefix,
            admission.clone(),
        );
        if let Some(size) = size {
            store = store.with_watch_cache(size);
        }
        let store = Arc::new(store);
        server.install(store.clone());
        stores.insert(store.decl.qualified_resource(), store);
    }
    listers.set(stores.clone());
    Instance { stores, listers }
}

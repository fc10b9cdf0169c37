//! CreateServerChain and Run: storage, the three servers joined by delegation
//! (aggregator → kube API → apiextensions → not found), the filter chain, and serving.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aggregator::AggregatorServer;
use apiserver::auth::authenticator::{
    ClientCertAuthenticator, RequestHeaderAuthenticator, RequestHeaderConfig,
    TokenFileAuthenticator, UnionAuthenticator,
};
use apiserver::auth::{
    AlwaysAllow, AlwaysDeny, Authenticator, Authorizer, DefaultAuthorizer, NodeAuthorizer,
    UnionAuthorizer,
};
use apiserver::discovery::ResourceRegistry;
use apiserver::endpoints::resource::EndpointConfig;
use apiserver::filters::{build_chain, service_fn, ChainConfig};
use apiserver::health::HealthCheck;
use apiserver::metrics::Metrics;
use apiserver::server::serve::{bind, run_until_signal};
use apiserver::server::tls::{client_verifier, tls_config, MinTlsVersion, SniCertKey, TlsSettings};
use apiserver::server::{
    hook, CoreRoutes, DelegateTarget, GenericApiServer, Lifecycle, ServeConfig, ServerChain,
    ShutdownSignals,
};
use storage::embedded::{EmbeddedOptions, EmbeddedStore};
use storage::etcd::{EtcdConfig, EtcdStore};
use storage::Storage;

use crate::options::CompletedOptions;

/// Largest request body accepted, as upstream (3 MiB).
pub const MAX_REQUEST_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("opening storage at {path}: {source}")]
    Storage {
        path: String,
        source: storage::StorageError,
    },
    #[error("{0}")]
    Serve(#[from] apiserver::server::ServeError),
    #[error("{0}")]
    Config(String),
    /// `--encryption-provider-config` could not be used.
    #[error("{0}")]
    Encryption(#[from] apiserver::encryptionconfig::EncryptionConfigError),
    /// `--admission-control-config-file` (or a plugin's configuration in it) could not be used.
    #[error("failed to initialize admission: {0}")]
    Admission(String),
}

/// The admission plugins' configuration from `--admission-control-config-file`: the file
/// is read and PodSecurity's part checked before serving. Configuration for an enabled
/// plugin that reads none here (ResourceQuota's `limitedResources`) stops start-up, naming
/// it, rather than being dropped; entries for plugins not enabled are named in the log
/// (upstream ignores them too).
fn admission_configuration(
    opts: &CompletedOptions,
) -> Result<controlplane::pod_security::config::Config, RunError> {
    let Some(path) = opts.admission_control_config_file.as_deref() else {
        return Ok(Default::default());
    };
    let file = apiserver::admission_config::AdmissionConfig::load(path)
        .map_err(|e| RunError::Admission(e.to_string()))?;
    let (refused, unread): (Vec<&str>, Vec<&str>) = file
        .plugin_names()
        .filter(|name| *name != "PodSecurity")
        .partition(|name| opts.enabled_admission_plugins.iter().any(|p| p == name));
    if !refused.is_empty() {
        return Err(RunError::Admission(format!(
            "--admission-control-config-file: configuration of the {} admission plugin is not supported yet",
            refused.join(", ")
        )));
    }
    if !unread.is_empty() {
        tracing::warn!(
            "--admission-control-config-file: configuration of plugins not enabled is ignored: {}",
            unread.join(", ")
        );
    }
    match file
        .plugin("PodSecurity")
        .map_err(|e| RunError::Admission(e.to_string()))?
    {
        None => Ok(Default::default()),
        Some(value) => controlplane::pod_security::config::Config::from_value(&value)
            .map_err(|e| RunError::Admission(e.to_string())),
    }
}

/// Whether a group-version is enabled by `--runtime-config` (everything is by default).
pub fn group_version_enabled(
    runtime_config: &std::collections::BTreeMap<String, String>,
    group: &str,
    version: &str,
) -> bool {
    let key = if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("{group}/{version}")
    };
    let lookup = |k: &str| runtime_config.get(k).map(|v| v != "false");
    let specific = lookup(&key).or_else(|| {
        if group.is_empty() {
            lookup(version)
        } else {
            None
        }
    });
    specific
        .or_else(|| lookup("api/all"))
        .or_else(|| lookup("api/ga"))
        .unwrap_or(true)
}

/// Events every watch cache keeps at least: upstream sizes its caches dynamically (at least
/// the last 75 s of events), so the flag's number is a floor here too.
const MIN_WATCH_CACHE_EVENTS: usize = 1024;

/// The watch cache window for a resource (`--watch-cache`, `--watch-cache-sizes`,
/// `--default-watch-cache-size`); `None` disables the cache for it (size 0).
fn watch_cache_size(
    opts: &CompletedOptions,
    decl: &apiserver::registry::ResourceDecl,
) -> Option<usize> {
    if !opts.watch_cache {
        return None;
    }
    let size = opts
        .watch_cache_sizes
        .get(&decl.qualified_resource())
        .copied()
        .unwrap_or(opts.default_watch_cache_size);
    (size > 0).then(|| size.max(MIN_WATCH_CACHE_EVENTS))
}

/// How often idle storage watches report progress; the watch caches rely on it to know
/// they are current when other resources were written last.
const STORAGE_PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// How often the etcd backend asks etcd for progress on idle watches (the watch caches
/// rely on it, as on the embedded store's progress notifications).
const ETCD_PROGRESS_INTERVAL: Duration = Duration::from_millis(200);

/// The opened backend, and what keeps its background work alive.
struct OpenedStorage {
    storage: Arc<dyn Storage>,
    /// The coordinated etcd compactor; dropping it stops compaction.
    _compactor: Option<storage::etcd::CompactorHandle>,
}

/// Opens the storage backend the options ask for: etcd with `--etcd-servers` (after a
/// bounded preflight wait), the embedded store otherwise. Starts compaction.
async fn open_storage(opts: &CompletedOptions) -> Result<OpenedStorage, RunError> {
    if !opts.etcd.servers.is_empty() {
        let mut cfg = EtcdConfig::new(opts.etcd.servers.clone());
        cfg.ca_file = opts.etcd.cafile.clone();
        cfg.cert_file = opts.etcd.certfile.clone();
        cfg.key_file = opts.etcd.keyfile.clone();
        cfg.progress_interval = ETCD_PROGRESS_INTERVAL;
        if !opts.etcd.healthcheck_timeout.is_zero() {
            cfg.health_timeout = opts.etcd.healthcheck_timeout;
        }
        cfg.health_key = format!("{}/health", opts.etcd.prefix.trim_end_matches('/'));
        let store = EtcdStore::connect(cfg)
            .await
            .map_err(|source| RunError::Storage {
                path: opts.etcd.servers.join(","),
                source,
            })?;
        let wait = if opts.storage_initialization_timeout.is_zero() {
            Duration::from_secs(60)
        } else {
            opts.storage_initialization_timeout
        };
        store
            .wait_ready(wait)
            .await
            .map_err(|source| RunError::Storage {
                path: opts.etcd.servers.join(","),
                source,
            })?;
        let compactor = store
            .compact_coordinated(opts.etcd.compaction_interval)
            .map_err(|source| RunError::Storage {
                path: opts.etcd.servers.join(","),
                source,
            })?;
        tracing::info!("storage: etcd at {}", opts.etcd.servers.join(","));
        return Ok(OpenedStorage {
            storage: Arc::new(store),
            _compactor: Some(compactor),
        });
    }
    let path = opts.data_dir.join("store.db");
    let options = EmbeddedOptions {
        progress_interval: STORAGE_PROGRESS_INTERVAL,
        ..EmbeddedOptions::default()
    };
    let store = EmbeddedStore::open_with(&path, options).map_err(|source| RunError::Storage {
        path: path.display().to_string(),
        source,
    })?;
    tracing::info!("storage: embedded store at {}", path.display());
    let storage: Arc<dyn Storage> = Arc::new(store);
    start_compactor(storage.clone(), opts.etcd.compaction_interval);
    Ok(OpenedStorage {
        storage,
        _compactor: None,
    })
}

/// Compacts history every `interval`, to the revision seen one interval earlier (as
/// upstream's compactor does), so that watchers get a window of at least one interval.
fn start_compactor(storage: Arc<dyn Storage>, interval: Duration) {
    if interval.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut previous = None;
        loop {
            tokio::time::sleep(interval).await;
            if let Some(rev) = previous {
                if let Err(e) = storage.compact(rev).await {
                    tracing::warn!("compaction to {rev} failed: {e}");
                }
            }
            previous = storage.current_revision().await.ok();
        }
    });
}

/// Builds the authenticators the options configure, in upstream's order: the front
/// proxy's request headers, client certificates, bearer tokens.
fn authenticator(opts: &CompletedOptions) -> Result<Arc<dyn Authenticator>, RunError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut authenticators: Vec<Box<dyn Authenticator>> = Vec::new();
    if let Some(ca) = &opts.requestheader_client_ca_file {
        let verifier = client_verifier(std::slice::from_ref(ca), provider.clone())?;
        authenticators.push(Box::new(RequestHeaderAuthenticator::new(
            verifier,
            RequestHeaderConfig {
                allowed_names: opts.requestheader_allowed_names.clone(),
                username_headers: opts.requestheader_username_headers.clone(),
                uid_headers: opts.requestheader_uid_headers.clone(),
                group_headers: opts.requestheader_group_headers.clone(),
                extra_headers_prefixes: opts.requestheader_extra_headers_prefix.clone(),
            },
        )));
    }
    // TLS verified the chain against the client CA; with the front proxy's CA also
    // trusted there, certificates must be checked against the client CA again.
    match (&opts.client_ca_file, &opts.requestheader_client_ca_file) {
        (Some(ca), Some(_)) => authenticators.push(Box::new(ClientCertAuthenticator::new(Some(
            client_verifier(std::slice::from_ref(ca), provider)?,
        )))),
        (Some(_), None) => authenticators.push(Box::new(ClientCertAuthenticator::new(None))),
        // Only the front proxy's CA is trusted: its certificates name no user themselves.
        (None, _) => {}
    }
    if let Some(path) = &opts.token_auth_file {
        let tokens =
            TokenFileAuthenticator::load(path).map_err(|e| RunError::Config(e.to_string()))?;
        authenticators.push(Box::new(tokens));
    }
    Ok(Arc::new(UnionAuthenticator { authenticators }))
}

/// The TLS settings of the secure port (`--tls-*`, and the CAs client certificates may
/// chain to: `--client-ca-file` and `--requestheader-client-ca-file`).
fn tls_settings(opts: &CompletedOptions) -> TlsSettings {
    TlsSettings {
        cert_file: opts.tls_cert_file.clone(),
        key_file: opts.tls_key_file.clone(),
        client_ca_files: opts
            .client_ca_file
            .iter()
            .chain(&opts.requestheader_client_ca_file)
            .cloned()
            .collect(),
        min_version: opts
            .tls_min_version
            .as_deref()
            .and_then(MinTlsVersion::from_name)
            .unwrap_or_default(),
        cipher_suites: opts.tls_cipher_suites.clone(),
        // Validation refused entries that do not parse.
        sni: opts
            .tls_sni_cert_keys
            .iter()
            .filter_map(|s| SniCertKey::parse(s))
            .collect(),
    }
}

/// Logs, once, what the options accept without acting on it.
fn log_inert_options(opts: &CompletedOptions) {
    if !opts.ignored_flags.is_empty() {
        let flags: Vec<String> = opts
            .ignored_flags
            .iter()
            .map(|(name, value)| format!("--{name}={value}"))
            .collect();
        tracing::warn!(
            "flags accepted for compatibility but not acted on: {}",
            flags.join(" ")
        );
    }
    let header_flags_set = !opts.requestheader_username_headers.is_empty()
        || !opts.requestheader_group_headers.is_empty()
        || !opts.requestheader_uid_headers.is_empty()
        || !opts.requestheader_extra_headers_prefix.is_empty()
        || !opts.requestheader_allowed_names.is_empty();
    if header_flags_set && opts.requestheader_client_ca_file.is_none() {
        tracing::warn!(
            "--requestheader-* flags given without --requestheader-client-ca-file: request \
             headers are not trusted from any client (as upstream)"
        );
    }
    let missing = crate::options::default_plugins_not_implemented(&opts.enabled_admission_plugins);
    if !missing.is_empty() {
        tracing::warn!(
            "admission plugins enabled by default upstream but not implemented here: {}",
            missing.join(", ")
        );
    }
}

/// The authorizers of `--authorization-mode`, in order (validation refused modes not
/// implemented), and whether AlwaysAllow is among them (then anonymous requests are
/// refused, as upstream).
fn authorizer(modes: &[String]) -> (Arc<dyn Authorizer>, bool) {
    let authorizers = modes
        .iter()
        .filter_map(|m| -> Option<Box<dyn Authorizer>> {
            match m.as_str() {
                "AlwaysAllow" => Some(Box::new(AlwaysAllow)),
                "AlwaysDeny" => Some(Box::new(AlwaysDeny)),
                "RBAC" => Some(Box::new(DefaultAuthorizer)),
                "Node" => Some(Box::new(NodeAuthorizer)),
                _ => None,
            }
        })
        .collect();
    let always_allow = modes.iter().any(|m| m == "AlwaysAllow");
    (Arc::new(UnionAuthorizer { authorizers }), always_allow)
}

/// The Service network of the options.
fn service_network(opts: &CompletedOptions) -> Result<controlplane::ServiceNetwork, RunError> {
    use controlplane::allocators::{cidr::Cidr, ports::PortRange};
    let cidrs = std::iter::once(opts.service_cluster_ip_range)
        .chain(opts.secondary_service_cluster_ip_range)
        .map(|net| Cidr::parse(&net.to_string()).map_err(|e| RunError::Config(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(controlplane::ServiceNetwork {
        cidrs,
        node_ports: PortRange {
            base: opts.service_node_port_range.base,
            size: opts.service_node_port_range.size,
        },
    })
}

/// The post-start hooks of Services: the default ServiceCIDR and the repair of the
/// allocations (then periodic), and the `kubernetes` Service with its endpoints (then
/// kept by a background reconciler), as upstream's bootstrap controller.
fn start_service_controllers(
    lifecycle: &Lifecycle,
    instance: &controlplane::Instance,
    opts: &CompletedOptions,
    storage: Arc<dyn Storage>,
) {
    use controlplane::allocators::repair::{self, Repairer};
    use controlplane::kubernetes_service::{KubernetesService, Reconciler};
    let (Some(services), Some(allocators)) = (
        instance.store("services"),
        instance.service_allocators.clone(),
    ) else {
        return;
    };
    if let Some(addresses) = instance.store("ipaddresses.networking.k8s.io") {
        let cidrs = instance.store("servicecidrs.networking.k8s.io");
        let (services, allocators) = (services.clone(), allocators.clone());
        lifecycle.add_post_start_hook(
            "start-service-ip-repair-controllers",
            hook(move || {
                let (services, addresses, allocators, cidrs) = (
                    services.clone(),
                    addresses.clone(),
                    allocators.clone(),
                    cidrs.clone(),
                );
                async move {
                    if let Some(cidrs) = &cidrs {
                        controlplane::bootstrap::ensure_default_service_cidr(cidrs, &allocators)
                            .await?;
                    }
                    let mut repairer = Repairer::default();
                    let report = repairer.run(&services, &addresses, &allocators).await?;
                    tracing::info!("service allocations repaired at start-up: {report:?}");
                    repair::spawn_periodic(repairer, services, addresses, allocators);
                    Ok(())
                }
            }),
        );
    }
    let reconciler = match opts.endpoint_reconciler_type.as_str() {
        "none" => Reconciler::None,
        "lease" => Reconciler::Lease,
        _ => Reconciler::MasterCount(opts.apiserver_count.max(1) as usize),
    };
    let controller = Arc::new(KubernetesService {
        services,
        endpoints: instance.store("endpoints"),
        slices: instance.store("endpointslices.discovery.k8s.io"),
        storage,
        prefix: opts.etcd.prefix.clone(),
        service_ip: opts.first_service_ip,
        node_port: opts.kubernetes_service_node_port,
        advertise: opts.advertise_address,
        secure_port: opts.secure_port,
        reconciler,
    });
    let leaving = controller.clone();
    lifecycle.add_pre_shutdown_hook(
        "stop-kubernetes-service-lease",
        hook(move || {
            let controller = leaving.clone();
            async move {
                controller.remove_lease().await;
                Ok(())
            }
        }),
    );
    let namespaces = instance.store("namespaces");
    lifecycle.add_post_start_hook(
        "bootstrap-controller",
        hook(move || {
            let (controller, namespaces) = (controller.clone(), namespaces.clone());
            async move {
                if let Some(ns) = namespaces {
                    controlplane::bootstrap::ensure_system_namespaces(ns).await?;
                }
                // Failures are retried by the reconciler; they do not hold readiness.
                if let Err(e) = controller.reconcile().await {
                    tracing::warn!("reconciling the kubernetes service: {e}");
                }
                controlplane::kubernetes_service::spawn_periodic(controller);
                Ok(())
            }
        }),
    );
}

/// Creates the server chain and runs it until a signal stops it.
pub async fn run(opts: CompletedOptions) -> Result<(), RunError> {
    let started = Instant::now();
    log_inert_options(&opts);
    let encryption = opts
        .encryption_provider_config
        .as_deref()
        .map(apiserver::encryptionconfig::EncryptionConfig::load)
        .transpose()?;
    let pod_security = admission_configuration(&opts)?;
    let media_type = opts.etcd.storage_media_type.parse().unwrap_or_default();
    let opened = open_storage(&opts).await?;
    let storage = opened.storage.clone();

    let registry = Arc::new(ResourceRegistry::new());
    let metrics = Arc::new(Metrics::new());
    let lifecycle = Lifecycle::new();
    let signals = ShutdownSignals::new();
    let endpoint_cfg = EndpointConfig {
        max_body_bytes: MAX_REQUEST_BODY_BYTES,
        min_request_timeout: opts.min_request_timeout,
        shutdown: signals.subscribe_stop(),
    };

    let health_storage = storage.clone();
    lifecycle.add_health_check(HealthCheck::new("etcd", move || {
        let s = health_storage.clone();
        async move { s.check_health().await.map_err(|e| e.to_string()) }
    }));
    lifecycle.add_readyz_check(signals.readyz_check());

    // kube API server: the built-in resources.
    let kube = Arc::new(GenericApiServer::new(
        "kube-apiserver",
        registry.clone(),
        endpoint_cfg.clone(),
    ));
    let (authorizer, always_allow) = authorizer(&opts.authorization_modes);
    if always_allow && opts.anonymous_auth {
        tracing::warn!(
            "AnonymousAuth is not allowed with the AlwaysAllow authorizer: anonymous requests \
             are refused"
        );
    }
    let runtime_config = opts.runtime_config.clone();
    let instance = controlplane::install(
        &kube,
        storage.clone(),
        &opts.etcd.prefix,
        &|g, v| group_version_enabled(&runtime_config, g, v),
        &controlplane::StorageConfig {
            cache_size: &|decl| watch_cache_size(&opts, decl),
            event_ttl: opts.event_ttl,
            admission_plugins: &opts.enabled_admission_plugins,
            pod_security,
            default_toleration_seconds: opts.default_toleration_seconds,
            kubelet_preferred_address_types: &opts.kubelet_preferred_address_types,
            coordinated_leader_election: opts
                .feature_gates
                .get("CoordinatedLeaderElection")
                .copied()
                .unwrap_or(false),
            service_network: Some(service_network(&opts)?),
            media_type,
            encryption: encryption.as_ref(),
        },
        authorizer.clone(),
    );
    for source in &instance.metrics_sources {
        metrics.register(source.clone());
    }
    // No controller manager runs beside this server: it creates each namespace's default
    // ServiceAccount and kube-root-ca.crt ConfigMap itself (the CA that signed our serving
    // certificate, else the client CA bundle).
    let root_ca = opts
        .pki
        .ca_cert
        .as_ref()
        .or(opts.client_ca_file.as_ref())
        .and_then(|p| std::fs::read_to_string(p).ok());
    instance.start_namespace_defaults(root_ca);
    // Nor its resourcequota controller: quotas' status is kept here too, with the
    // ResourceQuota plugin that relies on it.
    if opts
        .enabled_admission_plugins
        .iter()
        .any(|p| p == "ResourceQuota")
    {
        instance.start_quota_controller();
    }
    if let Some(ns) = instance.store("namespaces") {
        lifecycle.add_post_start_hook(
            "start-system-namespaces-controller",
            hook(move || controlplane::bootstrap::ensure_system_namespaces(ns.clone())),
        );
    }
    if let Some(pc) = instance.store("priorityclasses.scheduling.k8s.io") {
        lifecycle.add_post_start_hook(
            "scheduling/bootstrap-system-priority-classes",
            hook(move || controlplane::bootstrap::ensure_system_priority_classes(pc.clone())),
        );
    }

    start_service_controllers(&lifecycle, &instance, &opts, storage.clone());

    // apiextensions server: the kube API server's delegate.
    let extensions = Arc::new(apiextensions::new_server(
        registry.clone(),
        endpoint_cfg.clone(),
    ));

    // aggregator: the head of the chain.
    let core = CoreRoutes {
        registry: registry.clone(),
        lifecycle: lifecycle.clone(),
        metrics: metrics.clone(),
    };
    let server_address = SocketAddr::new(opts.advertise_address, opts.secure_port);
    let aggregator = Arc::new(AggregatorServer::new(
        registry.clone(),
        core,
        server_address,
    ));

    let chain = ServerChain::new(vec![
        aggregator as Arc<dyn DelegateTarget>,
        kube as Arc<dyn DelegateTarget>,
        extensions as Arc<dyn DelegateTarget>,
    ]);
    let handler = service_fn(move |req| {
        let chain = chain.clone();
        async move { chain.serve(req).await }
    });
    let service = build_chain(
        handler,
        &ChainConfig {
            request_timeout: opts.request_timeout,
            max_requests_inflight: opts.max_requests_inflight as usize,
            max_mutating_requests_inflight: opts.max_mutating_requests_inflight as usize,
            authenticator: authenticator(&opts)?,
            anonymous_auth: opts.anonymous_auth && !always_allow,
            authorizer,
            metrics,
            retry_after: opts.shutdown_send_retry_after.then(|| signals.clone()),
        },
    );

    let tls = tls_config(&tls_settings(&opts))?;
    let addr = SocketAddr::new(opts.bind_address, opts.secure_port);
    let listener = bind(addr).await?;
    let local = listener.local_addr().unwrap_or(addr);
    tracing::info!(
        "Serving securely on {local} (ready to accept after {:?})",
        started.elapsed()
    );
    if let Some(kubeconfig) = &opts.admin_kubeconfig {
        tracing::info!("admin kubeconfig: {}", kubeconfig.display());
        tracing::info!(
            "try: kubectl --kubeconfig {} get namespaces",
            kubeconfig.display()
        );
    }
    run_until_signal(
        listener,
        ServeConfig {
            tls: Arc::new(tls),
            shutdown_delay: opts.shutdown_delay_duration,
            drain_timeout: opts.request_timeout,
            send_retry_after: opts.shutdown_send_retry_after,
        },
        service,
        lifecycle,
        signals,
    )
    .await;
    drop(opened);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_config() {
        let mut rc = std::collections::BTreeMap::new();
        assert!(group_version_enabled(&rc, "scheduling.k8s.io", "v1"));
        rc.insert("api/all".to_string(), "false".to_string());
        rc.insert("api/v1".to_string(), "true".to_string());
        assert!(!group_version_enabled(&rc, "scheduling.k8s.io", "v1"));
        assert!(group_version_enabled(&rc, "", "v1"));
        rc.insert("scheduling.k8s.io/v1".to_string(), "true".to_string());
        assert!(group_version_enabled(&rc, "scheduling.k8s.io", "v1"));
    }
}

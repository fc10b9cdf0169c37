//! Upstream's Complete step (cmd/kube-apiserver/app/options/completion.go
//! and pkg/controlplane/apiserver/options/options.go `Complete`):
//! service IP range and first service IP, advertise address, external
//! host, authorization mode default, runtime-config normalisation,
//! watch-cache defaults, plus our PKI, service account key and admin
//! kubeconfig.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::api_enablement::normalize_runtime_config;
use super::auth::DEFAULT_SERVICE_ACCOUNT_ISSUER;
use super::etcd::parse_watch_cache_sizes;
use super::misc::{parse_service_cidrs, PortRange};
use super::net::{host_port, resolve_bind_address, IpNet};
use super::pki::{self, LeafSpec};
use super::{kubeconfig, validate, OptionsError, ServerRunOptions};

/// Storage settings. `servers` empty means: use the embedded store in
/// `CompletedOptions::data_dir`.
#[derive(Clone, Debug, PartialEq)]
pub struct EtcdOptions {
    pub servers: Vec<String>,
    pub prefix: String,
    pub cafile: Option<PathBuf>,
    pub certfile: Option<PathBuf>,
    pub keyfile: Option<PathBuf>,
    pub compaction_interval: Duration,
    /// Raw `group/resource#servers` overrides (validated).
    pub servers_overrides: Vec<String>,
    pub storage_media_type: String,
    pub healthcheck_timeout: Duration,
    pub readycheck_timeout: Duration,
}

impl EtcdOptions {
    pub fn use_embedded_store(&self) -> bool {
        self.servers.is_empty()
    }
}

/// Files of the generated PKI (all `None` when nothing was generated).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PkiPaths {
    /// Our CA certificate/key (`<cert-dir>/ca.crt`, `ca.key`).
    pub ca_cert: Option<PathBuf>,
    pub ca_key: Option<PathBuf>,
    /// Admin client certificate/key (CN kubernetes-admin, O system:masters).
    pub admin_cert: Option<PathBuf>,
    pub admin_key: Option<PathBuf>,
    /// Whether the serving certificate is ours (vs --tls-cert-file).
    pub generated_serving_cert: bool,
    /// Whether anything was (re)written during this Complete.
    pub regenerated: Vec<PathBuf>,
}

/// Everything the server needs, typed and defaulted.
#[derive(Clone, Debug, PartialEq)]
pub struct CompletedOptions {
    // Serving.
    pub secure_port: u16,
    pub bind_address: IpAddr,
    pub advertise_address: IpAddr,
    pub external_host: String,
    pub tls_cert_file: PathBuf,
    pub tls_key_file: PathBuf,
    /// CA bundle used to verify client certificates.
    pub client_ca_file: Option<PathBuf>,
    pub tls_min_version: Option<String>,
    pub tls_cipher_suites: Vec<String>,
    /// Raw `cert,key[:names]` entries.
    pub tls_sni_cert_keys: Vec<String>,
    pub http2_max_streams_per_connection: u32,
    pub permit_port_sharing: bool,
    pub permit_address_sharing: bool,

    // Services.
    pub service_cluster_ip_range: IpNet,
    pub secondary_service_cluster_ip_range: Option<IpNet>,
    pub first_service_ip: IpAddr,
    pub service_node_port_range: PortRange,
    /// 0 = the kubernetes service is ClusterIP.
    pub kubernetes_service_node_port: u16,
    pub endpoint_reconciler_type: String,
    pub apiserver_count: u32,

    // Request handling.
    pub request_timeout: Duration,
    pub min_request_timeout: Duration,
    pub max_requests_inflight: u32,
    pub max_mutating_requests_inflight: u32,
    pub livez_grace_period: Duration,
    pub storage_initialization_timeout: Duration,
    pub shutdown_delay_duration: Duration,
    pub shutdown_send_retry_after: bool,
    pub shutdown_watch_termination_grace_period: Duration,
    pub goaway_chance: f64,
    pub cors_allowed_origins: Vec<String>,
    pub strict_transport_security_directives: Vec<String>,
    pub max_connection_bytes_per_sec: u64,
    pub event_ttl: Duration,

    // Features.
    pub feature_gates: BTreeMap<String, bool>,
    pub enable_priority_and_fairness: bool,
    pub profiling: bool,
    pub contention_profiling: bool,
    pub debug_socket_path: Option<PathBuf>,
    pub allow_privileged: bool,

    // APIs and admission.
    /// After upstream's normalisation (`v1`, `api/v1` -> `/v1`, no `api/legacy`).
    pub runtime_config: BTreeMap<String, String>,
    pub enabled_admission_plugins: Vec<String>,
    /// The tolerationSeconds DefaultTolerationSeconds gives pods: (not ready, unreachable).
    pub default_toleration_seconds: (i64, i64),
    /// The node address types tried, in order, to reach a kubelet.
    pub kubelet_preferred_address_types: Vec<String>,
    pub admission_control_config_file: Option<PathBuf>,

    // Storage.
    pub etcd: EtcdOptions,
    pub watch_cache: bool,
    /// Upstream defaults (`events` and `events.events.k8s.io` = 0) merged
    /// with --watch-cache-sizes.
    pub watch_cache_sizes: BTreeMap<String, usize>,
    pub default_watch_cache_size: usize,
    pub delete_collection_workers: u32,
    pub enable_garbage_collector: bool,
    pub encryption_provider_config: Option<PathBuf>,
    pub encryption_provider_config_automatic_reload: bool,
    pub data_dir: PathBuf,
    pub cert_dir: PathBuf,
    /// Where the admin kubeconfig was written, if it was.
    pub admin_kubeconfig: Option<PathBuf>,
    pub pki: PkiPaths,

    // Authentication / authorization.
    pub anonymous_auth: bool,
    pub token_auth_file: Option<PathBuf>,
    pub enable_bootstrap_token_auth: bool,
    pub authentication_config: Option<PathBuf>,
    pub requestheader_client_ca_file: Option<PathBuf>,
    pub requestheader_allowed_names: Vec<String>,
    pub requestheader_username_headers: Vec<String>,
    pub requestheader_uid_headers: Vec<String>,
    pub requestheader_group_headers: Vec<String>,
    pub requestheader_extra_headers_prefix: Vec<String>,
    pub proxy_client_cert_file: Option<PathBuf>,
    pub proxy_client_key_file: Option<PathBuf>,
    pub enable_aggregator_routing: bool,
    pub aggregator_reject_forwarding_redirect: bool,
    /// Effective modes (AlwaysAllow when nothing was configured).
    pub authorization_modes: Vec<String>,
    /// True when --authorization-mode was given on the command line (false
    /// when `authorization_modes` is only upstream's AlwaysAllow default).
    pub authorization_mode_explicit: bool,
    pub authorization_config: Option<PathBuf>,
    pub authorization_policy_file: Option<PathBuf>,
    pub authorization_webhook_config_file: Option<PathBuf>,
    pub authorization_webhook_version: String,
    pub authorization_webhook_cache_authorized_ttl: Duration,
    pub authorization_webhook_cache_unauthorized_ttl: Duration,

    // Service accounts.
    pub service_account_issuers: Vec<String>,
    /// Keys that verify tokens (defaults to the signing key's public key).
    pub service_account_key_files: Vec<PathBuf>,
    pub service_account_signing_key_file: PathBuf,
    pub api_audiences: Vec<String>,
    pub service_account_max_token_expiration: Option<Duration>,
    pub service_account_extend_token_expiration: bool,
    pub service_account_lookup: bool,
    pub service_account_jwks_uri: Option<String>,

    // Logging and misc.
    pub verbosity: u8,
    pub vmodule: BTreeMap<String, u8>,
    pub log_flush_frequency: Duration,
    pub logging_format: String,
    /// What /version reports (`--version=vX.Y.Z` overrides it).
    pub reported_version: String,
    pub warnings: Vec<String>,
    pub ignored_flags: Vec<(String, String)>,
}

fn dur(d: super::GoDuration) -> Duration {
    d.to_std().unwrap_or_default()
}

fn path(s: &Option<String>) -> Option<PathBuf> {
    s.as_ref().map(PathBuf::from)
}

/// Upstream's `DefaultAdvertiseAddress`, with a fallback where upstream
/// fails: when no global address can be found on the default-route
/// interface, use the bind address if it is specific (e.g. loopback), else
/// the loopback address of the service range's family.
fn default_advertise_address(bind: IpAddr, service_v4: bool) -> IpAddr {
    if let Some(ip) = resolve_bind_address(bind) {
        return ip;
    }
    if !bind.is_unspecified() {
        return bind;
    }
    if service_v4 {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        IpAddr::V6(Ipv6Addr::LOCALHOST)
    }
}

/// The address clients on this host use: the bind address when specific,
/// else loopback of the bind address's family.
fn local_server_address(bind: IpAddr) -> IpAddr {
    match bind {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    }
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// Complete validated options: fill defaults, create directories, ensure
/// the PKI and write the admin kubeconfig. Re-validates first, so it is
/// safe on options that did not go through [`super::parse_and_validate`].
pub fn complete(opts: ServerRunOptions) -> Result<CompletedOptions, OptionsError> {
    let errs = validate(&opts);
    if !errs.is_empty() {
        return Err(OptionsError::Invalid(errs));
    }
    let g = &opts.generic;
    let ss = &opts.secure_serving;
    let authn = &opts.authentication;
    let authz = &opts.authorization;
    let misc = &opts.misc;
    let etcd = &opts.etcd;

    // Directories.
    let data_dir = opts.embedded.resolved_data_dir();
    pki::ensure_dir(&data_dir, 0o700)?;
    let cert_dir = match &ss.cert_dir {
        Some(d) => PathBuf::from(d),
        None => data_dir.join("pki"),
    };

    // Service ranges and the apiserver's service IP.
    let cidrs =
        parse_service_cidrs(&misc.service_cluster_ip_range).map_err(OptionsError::Invalid)?;
    let primary = *cidrs
        .first()
        .ok_or_else(|| OptionsError::Complete("no service cluster IP range".into()))?;
    let secondary = cidrs.get(1).copied();
    let first_service_ip = primary.indexed(1).ok_or_else(|| {
        OptionsError::Complete(format!(
            "service cluster IP range {primary} has no first address"
        ))
    })?;
    let service_node_port_range = PortRange::parse(&misc.service_node_port_range)
        .map_err(|e| OptionsError::Invalid(vec![e]))?;

    // Addresses.
    let bind_address = ss.bind_address;
    let advertise_address = match g.advertise_address {
        Some(ip) if !ip.is_unspecified() => ip,
        _ => default_advertise_address(bind_address, primary.is_ipv4()),
    };
    if misc.endpoint_reconciler_type != "none" && primary.is_ipv4() != advertise_address.is_ipv4() {
        return Err(OptionsError::Invalid(vec![format!(
            "service IP family {:?} must match public address family {:?}",
            primary.to_string(),
            advertise_address.to_string()
        )]));
    }
    let external_host = if g.external_hostname.is_empty() {
        advertise_address.to_string()
    } else {
        g.external_hostname.clone()
    };
    let secure_port = u16::try_from(ss.secure_port).map_err(|_| {
        OptionsError::Invalid(vec![format!(
            "--secure-port {} out of range",
            ss.secure_port
        )])
    })?;

    // PKI.
    let user_serving = ss.tls_cert_file.is_some() && ss.tls_private_key_file.is_some();
    let user_client_ca = authn.client_ca_file.is_some();
    let need_sa_key = misc.service_account_signing_key_file.is_none();
    let mut pki_paths = PkiPaths::default();
    if !user_serving || !user_client_ca || need_sa_key {
        pki::ensure_dir(&cert_dir, 0o700)?;
    }
    let ca = if !user_serving || !user_client_ca {
        let (ca, created) = pki::load_or_create_ca(&cert_dir)?;
        if created {
            pki_paths.regenerated.push(cert_dir.join(pki::CA_CERT));
        }
        pki_paths.ca_cert = Some(cert_dir.join(pki::CA_CERT));
        pki_paths.ca_key = Some(cert_dir.join(pki::CA_KEY));
        Some(ca)
    } else {
        None
    };

    let (tls_cert_file, tls_key_file) = match (&ss.tls_cert_file, &ss.tls_private_key_file, &ca) {
        (Some(c), Some(k), _) => (PathBuf::from(c), PathBuf::from(k)),
        (_, _, Some(ca)) => {
            let mut dns = vec![
                "kubernetes".to_string(),
                "kubernetes.default".to_string(),
                "kubernetes.default.svc".to_string(),
                "kubernetes.default.svc.cluster.local".to_string(),
                "localhost".to_string(),
            ];
            let mut ips = vec![
                first_service_ip,
                advertise_address,
                IpAddr::V4(Ipv4Addr::LOCALHOST),
            ];
            if !bind_address.is_unspecified() {
                push_unique(&mut ips, bind_address);
            }
            if bind_address.is_ipv6() {
                push_unique(&mut ips, IpAddr::V6(Ipv6Addr::LOCALHOST));
            }
            if !g.external_hostname.is_empty() {
                match super::net::parse_ip(&g.external_hostname) {
                    Some(ip) => push_unique(&mut ips, ip),
                    None => push_unique(&mut dns, g.external_hostname.to_ascii_lowercase()),
                }
            }
            let mut ips_dedup = Vec::new();
            for ip in ips {
                push_unique(&mut ips_dedup, ip);
            }
            let spec = LeafSpec {
                common_name: pki::SERVING_COMMON_NAME.to_string(),
                organizations: Vec::new(),
                dns_names: dns,
                ip_addresses: ips_dedup,
                server: true,
                client: false,
            };
            if pki::ensure_leaf(
                ca,
                &cert_dir,
                pki::SERVING_CERT,
                pki::SERVING_KEY,
                &spec,
                true,
            )? {
                pki_paths.regenerated.push(cert_dir.join(pki::SERVING_CERT));
            }
            pki_paths.generated_serving_cert = true;
            (
                cert_dir.join(pki::SERVING_CERT),
                cert_dir.join(pki::SERVING_KEY),
            )
        }
        _ => {
            return Err(OptionsError::Complete(
                "no serving certificate: give --tls-cert-file and --tls-private-key-file".into(),
            ))
        }
    };

    let client_ca_file = match &authn.client_ca_file {
        Some(f) => Some(PathBuf::from(f)),
        None => pki_paths.ca_cert.clone(),
    };

    // Admin client certificate and kubeconfig (only when our CA is the
    // client CA, otherwise the certificate would not be accepted).
    let mut admin_kubeconfig = None;
    if let (Some(ca), false) = (&ca, user_client_ca) {
        let spec = LeafSpec {
            common_name: pki::ADMIN_COMMON_NAME.to_string(),
            organizations: vec![pki::ADMIN_ORGANIZATION.to_string()],
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            server: false,
            client: true,
        };
        if pki::ensure_leaf(ca, &cert_dir, pki::ADMIN_CERT, pki::ADMIN_KEY, &spec, false)? {
            pki_paths.regenerated.push(cert_dir.join(pki::ADMIN_CERT));
        }
        let admin_cert = cert_dir.join(pki::ADMIN_CERT);
        let admin_key = cert_dir.join(pki::ADMIN_KEY);
        if opts.embedded.write_admin_kubeconfig {
            let target = match &opts.embedded.admin_kubeconfig {
                Some(p) => PathBuf::from(p),
                None => data_dir.join("admin.kubeconfig"),
            };
            // Server verification: our CA when we issued the serving
            // certificate, else (best effort) the given certificate chain.
            let server_ca = if pki_paths.generated_serving_cert {
                ca.cert_pem.clone()
            } else {
                read(&tls_cert_file)?
            };
            let server = format!(
                "https://{}",
                host_port(local_server_address(bind_address), secure_port)
            );
            let text =
                kubeconfig::render(&server, &server_ca, &read(&admin_cert)?, &read(&admin_key)?);
            if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
                pki::ensure_dir(parent, 0o700)?;
            }
            pki::write_file(&target, text.as_bytes(), 0o600)?;
            admin_kubeconfig = Some(target);
        }
        pki_paths.admin_cert = Some(admin_cert);
        pki_paths.admin_key = Some(admin_key);
    }

    // Service accounts.
    let (service_account_signing_key_file, generated_sa_pub) =
        match &misc.service_account_signing_key_file {
            Some(f) => (PathBuf::from(f), None),
            None => {
                let (k, p) = pki::ensure_service_account_key(&cert_dir)?;
                (k, Some(p))
            }
        };
    let service_account_key_files: Vec<PathBuf> = if authn.service_account_key_file.is_empty() {
        vec![generated_sa_pub.unwrap_or_else(|| service_account_signing_key_file.clone())]
    } else {
        authn
            .service_account_key_file
            .iter()
            .map(PathBuf::from)
            .collect()
    };
    let service_account_issuers = if authn.service_account_issuer.is_empty() {
        vec![DEFAULT_SERVICE_ACCOUNT_ISSUER.to_string()]
    } else {
        authn.service_account_issuer.clone()
    };
    let api_audiences = if authn.api_audiences.is_empty() {
        service_account_issuers.clone()
    } else {
        authn.api_audiences.clone()
    };

    // Watch cache sizes: upstream disables the cache for events.
    let mut watch_cache_sizes = BTreeMap::from([
        ("events".to_string(), 0usize),
        ("events.events.k8s.io".to_string(), 0usize),
    ]);
    watch_cache_sizes
        .extend(parse_watch_cache_sizes(&etcd.watch_cache_sizes).map_err(OptionsError::Invalid)?);

    let max_exp = authn.service_account_max_token_expiration;
    Ok(CompletedOptions {
        secure_port,
        bind_address,
        advertise_address,
        external_host,
        tls_cert_file,
        tls_key_file,
        client_ca_file,
        tls_min_version: (!ss.tls_min_version.is_empty()).then(|| ss.tls_min_version.clone()),
        tls_cipher_suites: ss.tls_cipher_suites.clone(),
        tls_sni_cert_keys: ss.tls_sni_cert_key.clone(),
        http2_max_streams_per_connection: u32::try_from(ss.http2_max_streams_per_connection)
            .unwrap_or(0),
        permit_port_sharing: ss.permit_port_sharing,
        permit_address_sharing: ss.permit_address_sharing,
        service_cluster_ip_range: primary,
        secondary_service_cluster_ip_range: secondary,
        first_service_ip,
        service_node_port_range,
        kubernetes_service_node_port: u16::try_from(misc.kubernetes_service_node_port).unwrap_or(0),
        endpoint_reconciler_type: misc.endpoint_reconciler_type.clone(),
        apiserver_count: u32::try_from(misc.apiserver_count).unwrap_or(1),
        request_timeout: dur(g.request_timeout),
        min_request_timeout: Duration::from_secs(u64::try_from(g.min_request_timeout).unwrap_or(0)),
        max_requests_inflight: u32::try_from(g.max_requests_inflight).unwrap_or(u32::MAX),
        max_mutating_requests_inflight: u32::try_from(g.max_mutating_requests_inflight)
            .unwrap_or(u32::MAX),
        livez_grace_period: dur(g.livez_grace_period),
        storage_initialization_timeout: dur(g.storage_initialization_timeout),
        shutdown_delay_duration: dur(g.shutdown_delay_duration),
        shutdown_send_retry_after: g.shutdown_send_retry_after,
        shutdown_watch_termination_grace_period: dur(g.shutdown_watch_termination_grace_period),
        goaway_chance: g.goaway_chance,
        cors_allowed_origins: g.cors_allowed_origins.clone(),
        strict_transport_security_directives: g.strict_transport_security_directives.clone(),
        max_connection_bytes_per_sec: u64::try_from(misc.max_connection_bytes_per_sec).unwrap_or(0),
        event_ttl: dur(misc.event_ttl),
        feature_gates: g.feature_gates.clone(),
        enable_priority_and_fairness: opts.features.enable_priority_and_fairness,
        profiling: opts.features.profiling,
        contention_profiling: opts.features.contention_profiling,
        debug_socket_path: path(&opts.features.debug_socket_path),
        allow_privileged: misc.allow_privileged,
        runtime_config: normalize_runtime_config(&opts.api_enablement.runtime_config),
        enabled_admission_plugins: opts.admission.enabled_plugins(),
        default_toleration_seconds: (
            opts.generic.default_not_ready_toleration_seconds,
            opts.generic.default_unreachable_toleration_seconds,
        ),
        kubelet_preferred_address_types: misc.kubelet_preferred_address_types.clone(),
        admission_control_config_file: path(&opts.admission.config_file),
        etcd: EtcdOptions {
            servers: etcd.servers.clone(),
            prefix: etcd.prefix.clone(),
            cafile: path(&etcd.cafile),
            certfile: path(&etcd.certfile),
            keyfile: path(&etcd.keyfile),
            compaction_interval: dur(etcd.compaction_interval),
            servers_overrides: etcd.servers_overrides.clone(),
            storage_media_type: etcd.storage_media_type.clone(),
            healthcheck_timeout: dur(etcd.healthcheck_timeout),
            readycheck_timeout: dur(etcd.readycheck_timeout),
        },
        watch_cache: etcd.watch_cache,
        watch_cache_sizes,
        default_watch_cache_size: usize::try_from(etcd.default_watch_cache_size).unwrap_or(0),
        delete_collection_workers: u32::try_from(etcd.delete_collection_workers).unwrap_or(1),
        enable_garbage_collector: etcd.enable_garbage_collector,
        encryption_provider_config: path(&etcd.encryption_provider_config),
        encryption_provider_config_automatic_reload: etcd
            .encryption_provider_config_automatic_reload,
        data_dir,
        cert_dir,
        admin_kubeconfig,
        pki: pki_paths,
        anonymous_auth: authn.anonymous_auth,
        token_auth_file: path(&authn.token_auth_file),
        enable_bootstrap_token_auth: authn.enable_bootstrap_token_auth,
        authentication_config: path(&authn.authentication_config),
        requestheader_client_ca_file: path(&authn.requestheader_client_ca_file),
        requestheader_allowed_names: authn.requestheader_allowed_names.clone(),
        requestheader_username_headers: authn.requestheader_username_headers.clone(),
        requestheader_uid_headers: authn.requestheader_uid_headers.clone(),
        requestheader_group_headers: authn.requestheader_group_headers.clone(),
        requestheader_extra_headers_prefix: authn.requestheader_extra_headers_prefix.clone(),
        proxy_client_cert_file: path(&misc.proxy_client_cert_file),
        proxy_client_key_file: path(&misc.proxy_client_key_file),
        enable_aggregator_routing: misc.enable_aggregator_routing,
        aggregator_reject_forwarding_redirect: misc.aggregator_reject_forwarding_redirect,
        authorization_modes: authz.effective_modes(),
        authorization_mode_explicit: !authz.modes.is_empty(),
        authorization_config: path(&authz.config),
        authorization_policy_file: path(&authz.policy_file),
        authorization_webhook_config_file: path(&authz.webhook_config_file),
        authorization_webhook_version: authz.webhook_version.clone(),
        authorization_webhook_cache_authorized_ttl: dur(authz.webhook_cache_authorized_ttl),
        authorization_webhook_cache_unauthorized_ttl: dur(authz.webhook_cache_unauthorized_ttl),
        service_account_issuers,
        service_account_key_files,
        service_account_signing_key_file,
        api_audiences,
        service_account_max_token_expiration: (max_exp.nanos() > 0).then(|| dur(max_exp)),
        service_account_extend_token_expiration: authn.service_account_extend_token_expiration,
        service_account_lookup: authn.service_account_lookup,
        service_account_jwks_uri: authn.service_account_jwks_uri.clone(),
        verbosity: opts.logs.verbosity,
        vmodule: opts.logs.vmodule.clone(),
        log_flush_frequency: dur(opts.logs.log_flush_frequency),
        logging_format: opts.logs.logging_format.clone(),
        reported_version: opts.reported_version(),
        warnings: opts.warnings.clone(),
        ignored_flags: opts.ignored_flags.clone(),
    })
}

fn read(p: &Path) -> Result<String, OptionsError> {
    std::fs::read_to_string(p).map_err(|e| OptionsError::io("cannot read", p, e))
}

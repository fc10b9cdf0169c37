//! "Misc flags" (cmd/kube-apiserver/app/options/options.go `Extra` and
//! pkg/controlplane/apiserver/options/options.go), "Features flags"
//! (genericoptions.FeatureOptions), "Logs flags" and "Global flags".

use std::collections::BTreeMap;

use super::auth::check_file;
use super::duration::GoDuration;
use super::flags::{FlagSpec, Kind, RawArgs, Section};
use super::net::IpNet;

/// Used when --service-cluster-ip-range is not given
/// (`kubeoptions.DefaultServiceIPCIDR`).
pub const DEFAULT_SERVICE_CLUSTER_IP_RANGE: &str = "10.0.0.0/24";
pub const DEFAULT_SERVICE_NODE_PORT_RANGE: &str = "30000-32767";
pub const ENDPOINT_RECONCILER_TYPES: [&str; 3] = ["master-count", "lease", "none"];

/// An inclusive port range (`utilnet.PortRange`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub base: u16,
    pub size: u32,
}

impl PortRange {
    /// Accepts `low-high`, `base+offset` or a single port, like upstream.
    pub fn parse(value: &str) -> Result<PortRange, String> {
        let v = value.trim();
        let num = |s: &str| -> Result<u32, String> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("unable to parse port range: {value}"));
            }
            s.parse::<u32>()
                .map_err(|_| format!("unable to parse port range: {value}"))
        };
        let (low, high) = if let Some((a, b)) = v.split_once('-') {
            (num(a)?, num(b)?)
        } else if let Some((a, b)) = v.split_once('+') {
            let a = num(a)?;
            (a, a.saturating_add(num(b)?))
        } else {
            let a = num(v)?;
            (a, a)
        };
        if low > 65535 || high > 65535 {
            return Err(format!("the port range cannot extend past 65535: {value}"));
        }
        if high < low {
            return Err(format!("end port cannot be less than start port: {value}"));
        }
        Ok(PortRange {
            base: low as u16,
            size: high - low + 1,
        })
    }

    pub fn contains(&self, port: i64) -> bool {
        let base = i64::from(self.base);
        port >= base && port < base + i64::from(self.size)
    }

    pub fn last(&self) -> u16 {
        (u32::from(self.base) + self.size - 1) as u16
    }
}

impl std::fmt::Display for PortRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.base, self.last())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct MiscFlags {
    /// Raw `--service-cluster-ip-range` (comma separated, up to 2 CIDRs);
    /// empty means the default 10.0.0.0/24.
    pub service_cluster_ip_range: String,
    pub service_node_port_range: String,
    pub kubernetes_service_node_port: i64,
    pub apiserver_count: i64,
    pub endpoint_reconciler_type: String,
    pub event_ttl: GoDuration,
    /// `--kubelet-preferred-address-types`, in order.
    pub kubelet_preferred_address_types: Vec<String>,
    pub allow_privileged: bool,
    pub max_connection_bytes_per_sec: i64,
    pub proxy_client_cert_file: Option<String>,
    pub proxy_client_key_file: Option<String>,
    pub enable_aggregator_routing: bool,
    pub aggregator_reject_forwarding_redirect: bool,
    pub service_account_signing_key_file: Option<String>,
}

impl Default for MiscFlags {
    fn default() -> Self {
        MiscFlags {
            service_cluster_ip_range: String::new(),
            service_node_port_range: DEFAULT_SERVICE_NODE_PORT_RANGE.to_string(),
            kubernetes_service_node_port: 0,
            apiserver_count: 1,
            endpoint_reconciler_type: "lease".to_string(),
            event_ttl: GoDuration::from_secs(3600),
            kubelet_preferred_address_types:
                controlplane::resources::pod_rest::PREFERRED_ADDRESS_TYPES
                    .iter()
                    .map(|t| t.to_string())
                    .collect(),
            allow_privileged: false,
            max_connection_bytes_per_sec: 0,
            proxy_client_cert_file: None,
            proxy_client_key_file: None,
            enable_aggregator_routing: false,
            aggregator_reject_forwarding_redirect: true,
            service_account_signing_key_file: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FeatureFlags {
    pub profiling: bool,
    pub contention_profiling: bool,
    pub debug_socket_path: Option<String>,
    pub enable_priority_and_fairness: bool,
}

impl Default for FeatureFlags {
    fn default() -> Self {
        FeatureFlags {
            profiling: true,
            contention_profiling: false,
            debug_socket_path: None,
            enable_priority_and_fairness: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogsFlags {
    /// `-v` / `--v`.
    pub verbosity: u8,
    /// `--vmodule` entries `pattern=N`.
    pub vmodule: BTreeMap<String, u8>,
    pub log_flush_frequency: GoDuration,
    pub logging_format: String,
}

impl Default for LogsFlags {
    fn default() -> Self {
        LogsFlags {
            verbosity: 0,
            vmodule: BTreeMap::new(),
            log_flush_frequency: GoDuration::from_secs(5),
            logging_format: "text".to_string(),
        }
    }
}

/// `--help` and `--version`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GlobalFlags {
    pub help: bool,
    /// `--version` / `--version=true` print and exit; `--version=raw` prints
    /// build details; any other non-false value is an override of the
    /// reported version (upstream's verflag), kept here.
    pub version: VersionFlag,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub enum VersionFlag {
    #[default]
    NotSet,
    Print,
    Raw,
    Override(String),
}

pub(crate) fn misc_specs() -> Vec<FlagSpec> {
    let s = Section::Misc;
    vec![
        FlagSpec::boolean(s, "aggregator-reject-forwarding-redirect", true,
            "Have the aggregator reject redirect responses from aggregated servers instead of \
             forwarding them to the client."),
        FlagSpec::boolean(s, "allow-privileged", false, "Allow privileged containers."),
        FlagSpec::value(s, "apiserver-count", "int", "1",
            "Number of apiservers in the cluster; must be positive (used with \
             --endpoint-reconciler-type=master-count).")
            .deprecated("apiserver-count is deprecated and will be removed in a future version."),
        FlagSpec::boolean(s, "enable-aggregator-routing", false,
            "Route aggregator requests to endpoint IPs instead of the service cluster IP."),
        FlagSpec::value(s, "endpoint-reconciler-type", "string", "lease",
            "Endpoint reconciler to use for the kubernetes service (master-count, lease, none)."),
        FlagSpec::value(s, "event-ttl", "duration", "1h0m0s", "How long events are retained."),
        FlagSpec::value(s, "kubelet-preferred-address-types", "strings",
            "Hostname,InternalDNS,InternalIP,ExternalDNS,ExternalIP",
            "Node address types, in the order tried, for reaching a node's kubelet."),
        FlagSpec::value(s, "kubernetes-service-node-port", "int", "",
            "When non-zero, the 'kubernetes' service in the default namespace is of type NodePort \
             using this port; when zero it is of type ClusterIP."),
        FlagSpec::value(s, "max-connection-bytes-per-sec", "int", "",
            "When non-zero, limit each user connection to this many bytes per second (only \
             long-running requests are affected)."),
        FlagSpec::value(s, "proxy-client-cert-file", "string", "",
            "Client certificate the aggregator / apiserver presents when it calls out during a \
             request (proxying to aggregated API servers, admission webhooks). It should be signed \
             by the CA in --requestheader-client-ca-file."),
        FlagSpec::value(s, "proxy-client-key-file", "string", "",
            "Private key for --proxy-client-cert-file."),
        FlagSpec::value(s, "service-account-signing-key-file", "string", "",
            "File with the current private key of the service account token issuer, used to sign \
             issued tokens. Defaults to a key generated in --cert-dir (sa.key)."),
        FlagSpec::value(s, "service-cluster-ip-range", "string", "",
            "CIDR range(s) to allocate service cluster IPs from; at most two, comma separated, one \
             per IP family (dual-stack). Must not overlap node or pod ranges. Defaults to \
             10.0.0.0/24 when unset."),
        FlagSpec::value(s, "service-node-port-range", "portRange", DEFAULT_SERVICE_NODE_PORT_RANGE,
            "Port range reserved for NodePort services, inclusive at both ends, e.g. \
             '30000-32767'."),
    ]
}

pub(crate) fn feature_specs() -> Vec<FlagSpec> {
    let s = Section::Features;
    vec![
        FlagSpec::boolean(
            s,
            "contention-profiling",
            false,
            "Enable block profiling, if profiling is enabled.",
        ),
        FlagSpec::value(
            s,
            "debug-socket-path",
            "string",
            "",
            "Serve the unprotected profiling endpoints on this unix socket path.",
        ),
        FlagSpec::boolean(
            s,
            "enable-priority-and-fairness",
            true,
            "Use the priority-and-fairness request handler instead of the max-in-flight one.",
        ),
        FlagSpec::boolean(
            s,
            "profiling",
            true,
            "Enable profiling via the web interface at host:port/debug/pprof/.",
        ),
    ]
}

pub(crate) fn logs_specs() -> Vec<FlagSpec> {
    let s = Section::Logs;
    vec![
        FlagSpec::value(
            s,
            "log-flush-frequency",
            "duration",
            "5s",
            "Longest time between log flushes.",
        ),
        FlagSpec::value(
            s,
            "logging-format",
            "string",
            "text",
            "Log format: \"text\" or \"json\".",
        ),
        FlagSpec::value(s, "v", "Level", "", "Log verbosity level (0 to 255).").with_short('v'),
        FlagSpec::value(
            s,
            "vmodule",
            "pattern=N,...",
            "",
            "Comma-separated pattern=N settings for file-filtered logging (text format only).",
        ),
    ]
}

pub(crate) fn global_specs() -> Vec<FlagSpec> {
    let s = Section::Global;
    vec![
        FlagSpec::boolean(s, "help", false, "help for kube-apiserver").with_short('h'),
        FlagSpec {
            kind: Kind::OptionalValue,
            value_type: "version",
            ..FlagSpec::boolean(
                s,
                "version",
                false,
                "--version, --version=raw prints version information and quits; \
                 --version=vX.Y.Z... sets the reported version",
            )
        },
    ]
}

impl MiscFlags {
    pub(crate) fn apply(&mut self, raw: &RawArgs, errs: &mut Vec<String>) {
        raw.bool(
            "aggregator-reject-forwarding-redirect",
            &mut self.aggregator_reject_forwarding_redirect,
            errs,
        );
        raw.bool("allow-privileged", &mut self.allow_privileged, errs);
        raw.int("apiserver-count", &mut self.apiserver_count, errs);
        raw.bool(
            "enable-aggregator-routing",
            &mut self.enable_aggregator_routing,
            errs,
        );
        raw.string(
            "endpoint-reconciler-type",
            &mut self.endpoint_reconciler_type,
        );
        raw.duration("event-ttl", &mut self.event_ttl, errs);
        raw.list(
            "kubelet-preferred-address-types",
            &mut self.kubelet_preferred_address_types,
        );
        raw.int(
            "kubernetes-service-node-port",
            &mut self.kubernetes_service_node_port,
            errs,
        );
        raw.int(
            "max-connection-bytes-per-sec",
            &mut self.max_connection_bytes_per_sec,
            errs,
        );
        raw.opt_string("proxy-client-cert-file", &mut self.proxy_client_cert_file);
        raw.opt_string("proxy-client-key-file", &mut self.proxy_client_key_file);
        raw.opt_string(
            "service-account-signing-key-file",
            &mut self.service_account_signing_key_file,
        );
        raw.string(
            "service-cluster-ip-range",
            &mut self.service_cluster_ip_range,
        );
        raw.string("service-node-port-range", &mut self.service_node_port_range);
    }

    /// Parsed service CIDRs (primary first). Errors are upstream's texts.
    pub fn service_cidrs(&self) -> Result<Vec<IpNet>, Vec<String>> {
        parse_service_cidrs(&self.service_cluster_ip_range)
    }

    pub(crate) fn validate(&self, errs: &mut Vec<String>) {
        if let Err(e) = self.service_cidrs() {
            errs.extend(e);
        }
        let range = match PortRange::parse(&self.service_node_port_range) {
            Ok(r) => Some(r),
            Err(e) => {
                errs.push(format!("--service-node-port-range: {e}"));
                None
            }
        };
        let np = self.kubernetes_service_node_port;
        if !(0..=65535).contains(&np) {
            errs.push(format!(
                "--kubernetes-service-node-port {np} must be between 0 and 65535, inclusive. If 0, \
                 the Kubernetes master service will be of type ClusterIP"
            ));
        } else if np > 0 {
            if let Some(r) = range {
                if !r.contains(np) {
                    errs.push(format!(
                        "kubernetes service node port range {r} doesn't contain {np}"
                    ));
                }
            }
        }
        if self.apiserver_count <= 0 {
            errs.push(format!(
                "--apiserver-count should be a positive number, but value '{}' provided",
                self.apiserver_count
            ));
        }
        if !ENDPOINT_RECONCILER_TYPES.contains(&self.endpoint_reconciler_type.as_str()) {
            errs.push(format!(
                "--endpoint-reconciler-type {:?} is invalid, allowed values: {}",
                self.endpoint_reconciler_type,
                ENDPOINT_RECONCILER_TYPES.join(", ")
            ));
        }
        if self.event_ttl.is_negative() {
            errs.push("--event-ttl can not be negative value".into());
        }
        if self.max_connection_bytes_per_sec < 0 {
            errs.push("--max-connection-bytes-per-sec can not be negative value".into());
        }
        if self.proxy_client_cert_file.is_some() != self.proxy_client_key_file.is_some() {
            errs.push(
                "--proxy-client-cert-file and --proxy-client-key-file must be specified together"
                    .into(),
            );
        }
        check_file(
            errs,
            "--proxy-client-cert-file",
            self.proxy_client_cert_file.as_deref(),
        );
        check_file(
            errs,
            "--proxy-client-key-file",
            self.proxy_client_key_file.as_deref(),
        );
        check_file(
            errs,
            "--service-account-signing-key-file",
            self.service_account_signing_key_file.as_deref(),
        );
    }
}

/// Upstream `getServiceIPAndRanges` + `validateClusterIPFlags` +
/// `ServiceIPRange` for Kubernetes v1.36.
///
/// The 20-host-bit cap (`validateMaxCIDRRange`) only applies while the
/// MultiCIDRServiceAllocator or DisableAllocatorDualWrite gates are off; both
/// are GA (the latter locked on) by 1.35, so with default gates upstream
/// accepts any size of at least 8 addresses and we do the same.
pub fn parse_service_cidrs(raw: &str) -> Result<Vec<IpNet>, Vec<String>> {
    let mut errs = Vec::new();
    let raw = raw.trim();
    let value = if raw.is_empty() {
        DEFAULT_SERVICE_CLUSTER_IP_RANGE
    } else {
        raw
    };
    let entries: Vec<&str> = value.split(',').map(str::trim).collect();
    if entries.len() > 2 {
        errs.push("--service-cluster-ip-range must not contain more than two entries".into());
    }
    let mut nets = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        match IpNet::parse(e) {
            Ok(n) => nets.push(n),
            Err(_) => errs.push(if i == 0 {
                format!("service-cluster-ip-range[0] is not a valid cidr: {e:?}")
            } else {
                format!("service-cluster-ip-range[{i}] is not an ip net: {e:?}")
            }),
        }
    }
    if let Some(primary) = nets.first() {
        if primary.size().min(1 << 16) < 8 {
            errs.push(format!(
                "error determining service IP ranges for primary service cidr: the service \
                 cluster IP range must be at least 8 IP addresses (got {primary})"
            ));
        }
    }
    if nets.len() == 2 && nets[0].is_ipv4() == nets[1].is_ipv4() {
        errs.push(
            "--service-cluster-ip-range[0] and --service-cluster-ip-range[1] must be of different \
             IP family"
                .into(),
        );
    }
    if errs.is_empty() {
        Ok(nets)
    } else {
        Err(errs)
    }
}

impl FeatureFlags {
    pub(crate) fn apply(&mut self, raw: &RawArgs, errs: &mut Vec<String>) {
        raw.bool("contention-profiling", &mut self.contention_profiling, errs);
        raw.opt_string("debug-socket-path", &mut self.debug_socket_path);
        raw.bool(
            "enable-priority-and-fairness",
            &mut self.enable_priority_and_fairness,
            errs,
        );
        raw.bool("profiling", &mut self.profiling, errs);
    }
}

impl LogsFlags {
    pub(crate) fn apply(&mut self, raw: &RawArgs, errs: &mut Vec<String>) {
        raw.duration("log-flush-frequency", &mut self.log_flush_frequency, errs);
        raw.string("logging-format", &mut self.logging_format);
        for v in raw.all("v") {
            match v.parse::<u8>() {
                Ok(n) => self.verbosity = n,
                Err(_) => errs.push(format!(
                    "invalid argument {v:?} for \"-v, --v\" flag: must be an integer between 0 and 255"
                )),
            }
        }
        for v in raw.all("vmodule") {
            for item in v.split(',').filter(|s| !s.is_empty()) {
                match item.split_once('=') {
                    Some((pat, lvl)) if !pat.is_empty() => match lvl.parse::<u8>() {
                        Ok(n) => {
                            self.vmodule.insert(pat.to_string(), n);
                        }
                        Err(_) => errs.push(format!(
                            "invalid argument {v:?} for \"--vmodule\" flag: bad level in {item:?}"
                        )),
                    },
                    _ => errs.push(format!(
                        "invalid argument {v:?} for \"--vmodule\" flag: expected pattern=N, got {item:?}"
                    )),
                }
            }
        }
    }

    pub(crate) fn validate(&self, errs: &mut Vec<String>) {
        if self.logging_format != "text" && self.logging_format != "json" {
            errs.push(format!(
                "--logging-format: unsupported log format {:?} (supported: text, json)",
                self.logging_format
            ));
        }
        if self.log_flush_frequency.nanos() <= 0 {
            errs.push("--log-flush-frequency must be greater than 0".into());
        }
    }
}

impl GlobalFlags {
    pub(crate) fn apply(&mut self, raw: &RawArgs, errs: &mut Vec<String>) {
        raw.bool("help", &mut self.help, errs);
        for v in raw.all("version") {
            self.version = match v.as_str() {
                "raw" => VersionFlag::Raw,
                other => match super::flags::parse_go_bool(other) {
                    Some(true) => VersionFlag::Print,
                    Some(false) => VersionFlag::NotSet,
                    None => VersionFlag::Override(other.to_string()),
                },
            };
        }
    }
}

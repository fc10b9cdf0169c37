//! Upstream flags this server accepts so existing command lines and
//! manifests keep working, but does not act on (auditing, OIDC, webhook
//! authentication, kubelet client, peer proxy, metrics, tracing, ...).
//! They are listed in `--help` under upstream's sections, and the values
//! given are reported in `ServerRunOptions::ignored_flags` (with those of
//! [`NOT_ACTED_ON`]), which the server logs once at start-up.

use super::flags::{FlagSpec, Kind, Section};

/// Flags with their own typed options that the server validates but does not act on yet
/// (what they tune is not built: aggregation, profiling, HSTS/CORS headers, the kubernetes
/// service, service account token issuing, ...). When given they are reported with the
/// compatibility flags.
pub(crate) const NOT_ACTED_ON: [&str; 33] = [
    "aggregator-reject-forwarding-redirect",
    "allow-privileged",
    "api-audiences",
    "contention-profiling",
    "cors-allowed-origins",
    "debug-socket-path",
    "delete-collection-workers",
    "emulated-version",
    "enable-aggregator-routing",
    "enable-garbage-collector",
    "enable-priority-and-fairness",
    "etcd-count-metric-poll-period",
    "etcd-db-metric-poll-interval",
    "etcd-readycheck-timeout",
    "etcd-servers-overrides",
    "feature-gates",
    "goaway-chance",
    "http2-max-streams-per-connection",
    "lease-reuse-duration-seconds",
    "livez-grace-period",
    "max-connection-bytes-per-sec",
    "permit-address-sharing",
    "permit-port-sharing",
    "profiling",
    "proxy-client-cert-file",
    "proxy-client-key-file",
    "service-account-extend-token-expiration",
    "service-account-issuer",
    "service-account-jwks-uri",
    "service-account-lookup",
    "service-account-max-token-expiration",
    "service-account-signing-key-file",
    "strict-transport-security-directives",
];

const NOTE: &str = "Accepted for compatibility with upstream kube-apiserver; currently ignored.";

fn v(section: Section, name: &'static str, value_type: &'static str) -> FlagSpec {
    FlagSpec::value(section, name, value_type, "", NOTE).compat()
}

fn b(section: Section, name: &'static str) -> FlagSpec {
    FlagSpec::boolean(section, name, false, NOTE).compat()
}

pub(crate) fn specs() -> Vec<FlagSpec> {
    use Section::*;
    let mut out = vec![
        v(Generic, "cloud-provider-gce-lb-src-cidrs", "cidrs").deprecated(
            "This flag will be removed once the GCE Cloud Provider is removed from kube-apiserver",
        ),
        b(Generic, "emulation-forward-compatible"),
        b(Generic, "runtime-config-emulation-forward-compatible"),
        v(EgressSelector, "egress-selector-config-file", "string"),
        v(
            Authentication,
            "authentication-token-webhook-cache-ttl",
            "duration",
        ),
        v(
            Authentication,
            "authentication-token-webhook-config-file",
            "string",
        ),
        v(
            Authentication,
            "authentication-token-webhook-version",
            "string",
        ),
        v(Authentication, "oidc-ca-file", "string"),
        v(Authentication, "oidc-client-id", "string"),
        v(Authentication, "oidc-groups-claim", "string"),
        v(Authentication, "oidc-groups-prefix", "string"),
        v(Authentication, "oidc-issuer-url", "string"),
        v(Authentication, "oidc-required-claim", "mapStringString"),
        v(Authentication, "oidc-signing-algs", "strings"),
        v(Authentication, "oidc-username-claim", "string"),
        v(Authentication, "oidc-username-prefix", "string"),
        v(Authentication, "service-account-signing-endpoint", "string"),
        v(Metrics, "allow-metric-labels", "stringToString"),
        v(Metrics, "allow-metric-labels-manifest", "string"),
        v(Metrics, "disabled-metrics", "strings"),
        v(Metrics, "show-hidden-metrics-for-version", "string"),
        v(Logs, "log-json-info-buffer-size", "quantity"),
        b(Logs, "log-json-split-stream"),
        v(Logs, "log-text-info-buffer-size", "quantity"),
        b(Logs, "log-text-split-stream"),
        v(Traces, "tracing-config-file", "string"),
        v(Misc, "cloud-config", "string"),
        v(Misc, "cloud-provider", "string"),
        b(Misc, "enable-logs-handler").deprecated("This flag will be removed in v1.19"),
        v(Misc, "kubelet-certificate-authority", "string"),
        v(Misc, "kubelet-client-certificate", "string"),
        v(Misc, "kubelet-client-key", "string"),
        v(Misc, "kubelet-read-only-port", "uint")
            .deprecated("kubelet-read-only-port is deprecated and will be removed."),
        v(Misc, "kubelet-timeout", "duration"),
        v(Misc, "peer-advertise-ip", "string"),
        v(Misc, "peer-advertise-port", "string"),
        v(Misc, "peer-ca-file", "string"),
    ];
    for (name, ty) in [
        ("audit-log-batch-buffer-size", "int"),
        ("audit-log-batch-max-size", "int"),
        ("audit-log-batch-max-wait", "duration"),
        ("audit-log-batch-throttle-burst", "int"),
        ("audit-log-batch-throttle-enable", ""),
        ("audit-log-batch-throttle-qps", "float32"),
        ("audit-log-compress", ""),
        ("audit-log-format", "string"),
        ("audit-log-maxage", "int"),
        ("audit-log-maxbackup", "int"),
        ("audit-log-maxsize", "int"),
        ("audit-log-mode", "string"),
        ("audit-log-path", "string"),
        ("audit-log-truncate-enabled", ""),
        ("audit-log-truncate-max-batch-size", "int"),
        ("audit-log-truncate-max-event-size", "int"),
        ("audit-log-version", "string"),
        ("audit-policy-file", "string"),
        ("audit-webhook-batch-buffer-size", "int"),
        ("audit-webhook-batch-initial-backoff", "duration"),
        ("audit-webhook-batch-max-size", "int"),
        ("audit-webhook-batch-max-wait", "duration"),
        ("audit-webhook-batch-throttle-burst", "int"),
        ("audit-webhook-batch-throttle-enable", ""),
        ("audit-webhook-batch-throttle-qps", "float32"),
        ("audit-webhook-config-file", "string"),
        ("audit-webhook-initial-backoff", "duration"),
        ("audit-webhook-mode", "string"),
        ("audit-webhook-truncate-enabled", ""),
        ("audit-webhook-truncate-max-batch-size", "int"),
        ("audit-webhook-truncate-max-event-size", "int"),
        ("audit-webhook-version", "string"),
    ] {
        out.push(if ty.is_empty() {
            b(Auditing, name)
        } else {
            v(Auditing, name, ty)
        });
    }
    debug_assert!(out.iter().all(|s| s.kind != Kind::OptionalValue));
    out
}

//! "Generic flags": upstream's `genericoptions.ServerRunOptions`
//! (staging/src/k8s.io/apiserver/pkg/server/options/server_run_options.go),
//! defaults from `server.NewConfig`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::duration::GoDuration;
use super::flags::{FlagSpec, RawArgs, Section};

#[derive(Clone, Debug, PartialEq)]
pub struct GenericFlags {
    /// `--advertise-address`; `None` = derive it in Complete.
    pub advertise_address: Option<IpAddr>,
    pub cors_allowed_origins: Vec<String>,
    pub strict_transport_security_directives: Vec<String>,
    pub external_hostname: String,
    pub max_requests_inflight: i64,
    pub max_mutating_requests_inflight: i64,
    pub request_timeout: GoDuration,
    pub goaway_chance: f64,
    pub livez_grace_period: GoDuration,
    /// Integer seconds.
    pub min_request_timeout: i64,
    pub storage_initialization_timeout: GoDuration,
    pub shutdown_delay_duration: GoDuration,
    pub shutdown_send_retry_after: bool,
    pub shutdown_watch_termination_grace_period: GoDuration,
    pub feature_gates: BTreeMap<String, bool>,
    pub emulated_version: Vec<String>,
    /// `--default-not-ready-toleration-seconds` (DefaultTolerationSeconds admission).
    pub default_not_ready_toleration_seconds: i64,
    /// `--default-unreachable-toleration-seconds` (DefaultTolerationSeconds admission).
    pub default_unreachable_toleration_seconds: i64,
}

impl Default for GenericFlags {
    fn default() -> Self {
        GenericFlags {
            advertise_address: None,
            cors_allowed_origins: Vec::new(),
            strict_transport_security_directives: Vec::new(),
            external_hostname: String::new(),
            max_requests_inflight: 400,
            max_mutating_requests_inflight: 200,
            request_timeout: GoDuration::from_secs(60),
            goaway_chance: 0.0,
            livez_grace_period: GoDuration::ZERO,
            min_request_timeout: 1800,
            storage_initialization_timeout: GoDuration::from_secs(60),
            shutdown_delay_duration: GoDuration::ZERO,
            shutdown_send_retry_after: false,
            shutdown_watch_termination_grace_period: GoDuration::ZERO,
            feature_gates: BTreeMap::new(),
            emulated_version: Vec::new(),
            default_not_ready_toleration_seconds: 300,
            default_unreachable_toleration_seconds: 300,
        }
    }
}

pub(crate) fn specs() -> Vec<FlagSpec> {
    let s = Section::Generic;
    vec![
        FlagSpec::value(s, "advertise-address", "ip", "",
            "IP address this API server advertises to the rest of the cluster; it must be reachable \
             by the other members. When empty, --bind-address is used, and when that is unspecified \
             the address of the host's default-route interface is used."),
        FlagSpec::value(s, "cors-allowed-origins", "strings", "",
            "Comma-separated list of origins allowed for CORS; entries are regular expressions that \
             should be anchored to the whole host (start with '^' or contain '//', end with '$' or \
             contain ':'), e.g. '//example\\.com(:|$)'. CORS is off when the list is empty."),
        FlagSpec::value(s, "default-not-ready-toleration-seconds", "int", "300",
            "Seconds a pod keeps running on a node that is not ready: the tolerationSeconds of \
             the notReady:NoExecute toleration added to pods that have none."),
        FlagSpec::value(s, "default-unreachable-toleration-seconds", "int", "300",
            "Seconds a pod keeps running on an unreachable node: the tolerationSeconds of the \
             unreachable:NoExecute toleration added to pods that have none."),
        FlagSpec::value(s, "emulated-version", "strings", "",
            "Versions that components should emulate, as component=version pairs (e.g. \
             kube=1.35). Accepted for compatibility; this server always runs at its binary version."),
        FlagSpec::value(s, "external-hostname", "string", "",
            "Host name to use when generating externalized URLs for this control plane \
             (e.g. in OpenID discovery documents). Defaults to the advertise address."),
        FlagSpec::value(s, "feature-gates", "mapStringBool", "",
            "Comma-separated key=true|false pairs switching alpha/experimental features on or off."),
        FlagSpec::value(s, "goaway-chance", "float", "",
            "Fraction of HTTP/2 requests answered with GOAWAY so clients reconnect (and may land on \
             another apiserver behind a load balancer). 0 disables it, maximum is .02; leave it off \
             for single apiservers or when no load balancer is used."),
        FlagSpec::value(s, "livez-grace-period", "duration", "",
            "Maximum time the server may take to finish its startup sequence; until then /livez \
             treats unfinished post-start hooks as successful."),
        FlagSpec::value(s, "max-mutating-requests-inflight", "int", "200",
            "Together with --max-requests-inflight this sets the total concurrency limit when \
             priority and fairness is enabled; otherwise the maximum number of mutating requests \
             served at once. 0 means no limit."),
        FlagSpec::value(s, "max-requests-inflight", "int", "400",
            "Together with --max-mutating-requests-inflight this sets the total concurrency limit \
             when priority and fairness is enabled; otherwise the maximum number of non-mutating \
             requests served at once. 0 means no limit."),
        FlagSpec::value(s, "min-request-timeout", "int", "1800",
            "Minimum number of seconds a handler keeps a request open before timing it out; only \
             watch requests honour it, picking a random timeout above this value to spread load."),
        FlagSpec::value(s, "request-timeout", "duration", "1m0s",
            "Default time a handler keeps a request open before timing it out; some request types \
             (see --min-request-timeout) use other limits."),
        FlagSpec::boolean(s, "shutdown-send-retry-after", false,
            "When true, once --shutdown-delay-duration has passed the server keeps listening \
             until in-flight non-long-running requests have drained, answering new requests \
             (but health probes and metrics) with 429, a Retry-After header and \
             'Connection: close'."),
        FlagSpec::value(s, "shutdown-delay-duration", "duration", "",
            "How long to delay termination: requests are still served normally, /healthz and /livez \
             stay successful while /readyz fails, giving load balancers time to stop sending traffic."),
        FlagSpec::value(s, "shutdown-watch-termination-grace-period", "duration", "",
            "When set, the longest the server waits for active watch requests to drain during \
             graceful shutdown."),
        FlagSpec::value(s, "storage-initialization-timeout", "duration", "1m0s",
            "Longest time to wait for storage to initialise before the server reports ready."),
        FlagSpec::value(s, "strict-transport-security-directives", "strings", "",
            "Comma-separated HSTS directives (max-age=N, includeSubDomains, preload); no HSTS header \
             is sent when empty. Example: 'max-age=31536000,includeSubDomains,preload'."),
    ]
}

impl GenericFlags {
    pub(crate) fn apply(&mut self, raw: &RawArgs, errs: &mut Vec<String>) {
        raw.ip("advertise-address", &mut self.advertise_address, errs);
        raw.list("cors-allowed-origins", &mut self.cors_allowed_origins);
        raw.int(
            "default-not-ready-toleration-seconds",
            &mut self.default_not_ready_toleration_seconds,
            errs,
        );
        raw.int(
            "default-unreachable-toleration-seconds",
            &mut self.default_unreachable_toleration_seconds,
            errs,
        );
        raw.list("emulated-version", &mut self.emulated_version);
        raw.string("external-hostname", &mut self.external_hostname);
        raw.map_bool("feature-gates", &mut self.feature_gates, errs);
        raw.float("goaway-chance", &mut self.goaway_chance, errs);
        raw.duration("livez-grace-period", &mut self.livez_grace_period, errs);
        raw.int(
            "max-mutating-requests-inflight",
            &mut self.max_mutating_requests_inflight,
            errs,
        );
        raw.int(
            "max-requests-inflight",
            &mut self.max_requests_inflight,
            errs,
        );
        raw.int("min-request-timeout", &mut self.min_request_timeout, errs);
        raw.duration("request-timeout", &mut self.request_timeout, errs);
        raw.bool(
            "shutdown-send-retry-after",
            &mut self.shutdown_send_retry_after,
            errs,
        );
        raw.duration(
            "shutdown-delay-duration",
            &mut self.shutdown_delay_duration,
            errs,
        );
        raw.duration(
            "shutdown-watch-termination-grace-period",
            &mut self.shutdown_watch_termination_grace_period,
            errs,
        );
        raw.duration(
            "storage-initialization-timeout",
            &mut self.storage_initialization_timeout,
            errs,
        );
        raw.list(
            "strict-transport-security-directives",
            &mut self.strict_transport_security_directives,
        );
    }

    /// Upstream `ServerRunOptions.Validate`.
    pub(crate) fn validate(&self, errs: &mut Vec<String>) {
        if self.livez_grace_period.is_negative() {
            errs.push("--livez-grace-period can not be a negative value".into());
        }
        if self.max_requests_inflight < 0 {
            errs.push("--max-requests-inflight can not be negative value".into());
        }
        if self.max_mutating_requests_inflight < 0 {
            errs.push("--max-mutating-requests-inflight can not be negative value".into());
        }
        if self.max_requests_inflight > i64::from(u32::MAX) {
            errs.push(format!(
                "--max-requests-inflight {} is too large",
                self.max_requests_inflight
            ));
        }
        if self.max_mutating_requests_inflight > i64::from(u32::MAX) {
            errs.push(format!(
                "--max-mutating-requests-inflight {} is too large",
                self.max_mutating_requests_inflight
            ));
        }
        if self.request_timeout.is_negative() {
            errs.push("--request-timeout can not be negative value".into());
        } else if self.request_timeout.nanos() == 0 {
            // Upstream tolerates 0 (and then times requests out at once); we
            // require a positive timeout.
            errs.push("--request-timeout must be greater than 0".into());
        }
        if !(0.0..=0.02).contains(&self.goaway_chance) {
            errs.push("--goaway-chance can not be less than 0 or greater than 0.02".into());
        }
        if self.min_request_timeout < 0 {
            errs.push("--min-request-timeout can not be negative value".into());
        }
        if self.storage_initialization_timeout.is_negative() {
            errs.push("--storage-initialization-timeout can not be negative value".into());
        }
        if self.shutdown_delay_duration.is_negative() {
            errs.push("--shutdown-delay-duration can not be negative value".into());
        }
        if self.shutdown_watch_termination_grace_period.is_negative() {
            errs.push(
                "shutdown-watch-termination-grace-period, if provided, can not be a negative value"
                    .into(),
            );
        }
        for d in &self.strict_transport_security_directives {
            if d != "includeSubDomains" && d != "preload" {
                let ok = matches!(d.split_once('='), Some(("max-age", v)) if !v.contains('='));
                if !ok {
                    errs.push(
                        "--strict-transport-security-directives invalid, allowed values: \
                         max-age=expireTime, includeSubDomains, preload. see \
                         https://tools.ietf.org/html/rfc6797#section-6.1 for more information"
                            .into(),
                    );
                }
            }
        }
        for origin in &self.cors_allowed_origins {
            let pin_start = origin.contains('^') || origin.contains("//");
            let pin_end = origin.contains('$') || origin.contains(':');
            if !pin_start || !pin_end {
                errs.push(format!(
                    "--cors-allowed-origins has an invalid regular expression {origin:?}: \
                     regular expression does not pin to start/end of host in the origin header"
                ));
            }
        }
        if let Some(ip) = self.advertise_address {
            if ip.is_multicast() {
                errs.push(format!(
                    "--advertise-address {ip} must not be a multicast address"
                ));
            }
        }
    }
}

//! "Etcd flags": upstream's `genericoptions.EtcdOptions`
//! (staging/src/k8s.io/apiserver/pkg/server/options/etcd.go) with the
//! kube-apiserver defaults (`/registry` prefix, 5m compaction interval from
//! `storagebackend.NewDefaultConfig`, and kube-apiserver's protobuf
//! `--storage-media-type`).
//!
//! Without `--etcd-servers` this server uses its embedded store (see
//! "Embedded store flags") instead of requiring etcd as upstream does.

use std::collections::BTreeMap;

use super::duration::GoDuration;
use super::flags::{FlagSpec, RawArgs, Section};

pub const DEFAULT_ETCD_PREFIX: &str = "/registry";
/// The media type objects are written in by default (kube-apiserver's).
pub const STORED_MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
/// The media types `--storage-media-type` accepts, sorted as upstream lists them.
pub const STORAGE_MEDIA_TYPES: [&str; 3] = apiserver::registry::StorageMediaType::NAMES;

#[derive(Clone, Debug, PartialEq)]
pub struct EtcdFlags {
    pub servers: Vec<String>,
    pub servers_overrides: Vec<String>,
    pub prefix: String,
    pub cafile: Option<String>,
    pub certfile: Option<String>,
    pub keyfile: Option<String>,
    pub compaction_interval: GoDuration,
    pub count_metric_poll_period: GoDuration,
    pub db_metric_poll_interval: GoDuration,
    pub healthcheck_timeout: GoDuration,
    pub readycheck_timeout: GoDuration,
    pub lease_reuse_duration_seconds: i64,
    /// Empty means the default (etcd3).
    pub storage_backend: String,
    pub storage_media_type: String,
    pub delete_collection_workers: i64,
    pub enable_garbage_collector: bool,
    pub watch_cache: bool,
    pub default_watch_cache_size: i64,
    /// Raw `resource[.group]#size` entries, parsed in validation/Complete.
    pub watch_cache_sizes: Vec<String>,
    pub encryption_provider_config: Option<String>,
    pub encryption_provider_config_automatic_reload: bool,
}

impl Default for EtcdFlags {
    fn default() -> Self {
        EtcdFlags {
            servers: Vec::new(),
            servers_overrides: Vec::new(),
            prefix: DEFAULT_ETCD_PREFIX.to_string(),
            cafile: None,
            certfile: None,
            keyfile: None,
            compaction_interval: GoDuration::from_secs(5 * 60),
            count_metric_poll_period: GoDuration::from_secs(60),
            db_metric_poll_interval: GoDuration::from_secs(30),
            healthcheck_timeout: GoDuration::from_secs(2),
            readycheck_timeout: GoDuration::from_secs(2),
            lease_reuse_duration_seconds: 60,
            storage_backend: String::new(),
            storage_media_type: STORED_MEDIA_TYPE.to_string(),
            delete_collection_workers: 1,
            enable_garbage_collector: true,
            watch_cache: true,
            default_watch_cache_size: 100,
            watch_cache_sizes: Vec::new(),
            encryption_provider_config: None,
            encryption_provider_config_automatic_reload: false,
        }
    }
}

pub(crate) fn specs() -> Vec<FlagSpec> {
    let s = Section::Etcd;
    vec![
        FlagSpec::value(s, "default-watch-cache-size", "int", "100",
            "Default watch cache size; 0 disables the watch cache for resources without an \
             explicit size.")
            .deprecated("watch caches are sized automatically and this flag will be removed in a future version"),
        FlagSpec::value(s, "delete-collection-workers", "int", "1",
            "Number of workers used for DeleteCollection calls (speeds up namespace cleanup)."),
        FlagSpec::boolean(s, "enable-garbage-collector", true,
            "Enable the generic garbage collector; must match the same flag of \
             kube-controller-manager."),
        FlagSpec::value(s, "encryption-provider-config", "string", "",
            "File with the configuration of the encryption providers used for storing secrets \
             (and other resources) in the store: an apiserver.config.k8s.io/v1 \
             EncryptionConfiguration with aescbc, aesgcm, secretbox or identity providers."),
        FlagSpec::boolean(s, "encryption-provider-config-automatic-reload", false,
            "Reload the file given by --encryption-provider-config automatically when it changes. \
             Not supported yet: start-up fails when it is set."),
        FlagSpec::value(s, "etcd-cafile", "string", "",
            "CA certificate file used to verify etcd servers."),
        FlagSpec::value(s, "etcd-certfile", "string", "",
            "Client certificate file used to authenticate to etcd."),
        FlagSpec::value(s, "etcd-compaction-interval", "duration", "5m0s",
            "How often to request compaction of the storage; 0 disables compaction requests."),
        FlagSpec::value(s, "etcd-count-metric-poll-period", "duration", "1m0s",
            "How often to poll the store for the number of objects per resource; 0 disables it."),
        FlagSpec::value(s, "etcd-db-metric-poll-interval", "duration", "30s",
            "How often to poll the store for database size metrics; 0 disables it."),
        FlagSpec::value(s, "etcd-healthcheck-timeout", "duration", "2s",
            "Timeout for storage health checks."),
        FlagSpec::value(s, "etcd-keyfile", "string", "",
            "Private key file for --etcd-certfile."),
        FlagSpec::value(s, "etcd-prefix", "string", DEFAULT_ETCD_PREFIX,
            "Prefix prepended to every resource key in the store."),
        FlagSpec::value(s, "etcd-readycheck-timeout", "duration", "2s",
            "Timeout for storage readiness checks."),
        FlagSpec::value(s, "etcd-servers", "strings", "",
            "etcd servers to use (scheme://ip:port), comma separated; the flag may be repeated. \
             When empty, the embedded store in --data-dir is used."),
        FlagSpec::value(s, "etcd-servers-overrides", "strings", "",
            "Per-resource etcd server overrides, comma separated, each as \
             group/resource#servers with servers separated by semicolons."),
        FlagSpec::value(s, "lease-reuse-duration-seconds", "int", "60",
            "How long, in seconds, each storage lease is reused."),
        FlagSpec::value(s, "storage-backend", "string", "",
            "Storage backend for persistence. Only 'etcd3' (the default) is supported."),
        FlagSpec::value(s, "storage-media-type", "string", STORED_MEDIA_TYPE,
            "Media type objects are stored in. Kinds without a protobuf form are always stored \
             as JSON. Supported media types: [application/json, application/yaml, \
             application/vnd.kubernetes.protobuf]"),
        FlagSpec::boolean(s, "watch-cache", true, "Enable the watch cache."),
        FlagSpec::value(s, "watch-cache-sizes", "strings", "",
            "Per-resource watch cache settings, comma separated, each as resource[.group]#size \
             (resource is lowercase plural, group omitted for the core API). Only built-in \
             resources are affected; the only meaningful size is 0, which disables the watch \
             cache for that resource."),
    ]
}

impl EtcdFlags {
    pub(crate) fn apply(&mut self, raw: &RawArgs, errs: &mut Vec<String>) {
        raw.int(
            "default-watch-cache-size",
            &mut self.default_watch_cache_size,
            errs,
        );
        raw.int(
            "delete-collection-workers",
            &mut self.delete_collection_workers,
            errs,
        );
        raw.bool(
            "enable-garbage-collector",
            &mut self.enable_garbage_collector,
            errs,
        );
        raw.opt_string(
            "encryption-provider-config",
            &mut self.encryption_provider_config,
        );
        raw.bool(
            "encryption-provider-config-automatic-reload",
            &mut self.encryption_provider_config_automatic_reload,
            errs,
        );
        raw.opt_string("etcd-cafile", &mut self.cafile);
        raw.opt_string("etcd-certfile", &mut self.certfile);
        raw.duration(
            "etcd-compaction-interval",
            &mut self.compaction_interval,
            errs,
        );
        raw.duration(
            "etcd-count-metric-poll-period",
            &mut self.count_metric_poll_period,
            errs,
        );
        raw.duration(
            "etcd-db-metric-poll-interval",
            &mut self.db_metric_poll_interval,
            errs,
        );
        raw.duration(
            "etcd-healthcheck-timeout",
            &mut self.healthcheck_timeout,
            errs,
        );
        raw.opt_string("etcd-keyfile", &mut self.keyfile);
        raw.string("etcd-prefix", &mut self.prefix);
        raw.duration(
            "etcd-readycheck-timeout",
            &mut self.readycheck_timeout,
            errs,
        );
        raw.list("etcd-servers", &mut self.servers);
        raw.list("etcd-servers-overrides", &mut self.servers_overrides);
        raw.int(
            "lease-reuse-duration-seconds",
            &mut self.lease_reuse_duration_seconds,
            errs,
        );
        raw.string("storage-backend", &mut self.storage_backend);
        raw.string("storage-media-type", &mut self.storage_media_type);
        raw.bool("watch-cache", &mut self.watch_cache, errs);
        raw.list("watch-cache-sizes", &mut self.watch_cache_sizes);
    }

    /// Upstream `EtcdOptions.Validate`, minus "--etcd-servers must be
    /// specified" (we fall back to the embedded store), plus URL, TLS-pair
    /// and watch-cache-size checks.
    pub(crate) fn validate(&self, errs: &mut Vec<String>) {
        if !self.storage_backend.is_empty() && self.storage_backend != "etcd3" {
            errs.push(
                "--storage-backend invalid, allowed values: etcd3. If not specified, it will \
                 default to 'etcd3'"
                    .into(),
            );
        }
        for server in &self.servers {
            if let Err(e) = validate_server_url(server) {
                errs.push(format!("--etcd-servers {server:?} is not a valid URL: {e}"));
            }
        }
        for o in &self.servers_overrides {
            let ok = match o.split_once('#') {
                Some((gr, servers)) => {
                    !servers.contains('#')
                        && gr.split('/').count() == 2
                        && servers.split(';').all(|s| validate_server_url(s).is_ok())
                }
                None => false,
            };
            if !ok {
                errs.push(format!(
                    "--etcd-servers-overrides invalid ({o:?}), must be of format: \
                     group/resource#servers, where servers are URLs, semicolon separated"
                ));
            }
        }
        if self.prefix.is_empty() {
            errs.push("--etcd-prefix must not be empty".into());
        } else if !self.prefix.starts_with('/') {
            errs.push(format!(
                "--etcd-prefix {:?} must start with '/'",
                self.prefix
            ));
        }
        if self.certfile.is_some() != self.keyfile.is_some() {
            errs.push("--etcd-certfile and --etcd-keyfile must be specified together".into());
        }
        if self.servers.is_empty()
            && (self.cafile.is_some() || self.certfile.is_some() || self.keyfile.is_some())
        {
            errs.push(
                "--etcd-cafile/--etcd-certfile/--etcd-keyfile require --etcd-servers \
                 (the embedded store does not use TLS)"
                    .into(),
            );
        }
        for (flag, d) in [
            ("--etcd-compaction-interval", self.compaction_interval),
            (
                "--etcd-count-metric-poll-period",
                self.count_metric_poll_period,
            ),
            (
                "--etcd-db-metric-poll-interval",
                self.db_metric_poll_interval,
            ),
            ("--etcd-healthcheck-timeout", self.healthcheck_timeout),
            ("--etcd-readycheck-timeout", self.readycheck_timeout),
        ] {
            if d.is_negative() {
                errs.push(format!("{flag} can not be negative value"));
            }
        }
        if self.lease_reuse_duration_seconds <= 0 {
            errs.push("--lease-reuse-duration-seconds must be positive".into());
        }
        if !self.storage_media_type.is_empty()
            && !STORAGE_MEDIA_TYPES.contains(&self.storage_media_type.as_str())
        {
            errs.push(format!(
                "--storage-media-type {:?} invalid, allowed values: {}",
                self.storage_media_type,
                STORAGE_MEDIA_TYPES.join(", ")
            ));
        }
        if self.delete_collection_workers <= 0 {
            errs.push("--delete-collection-workers must be greater than 0".into());
        }
        if self.default_watch_cache_size < 0 {
            errs.push("--default-watch-cache-size can not be negative value".into());
        }
        if let Err(e) = parse_watch_cache_sizes(&self.watch_cache_sizes) {
            errs.extend(e);
        }
        if self.encryption_provider_config.is_none()
            && self.encryption_provider_config_automatic_reload
        {
            errs.push(
                "--encryption-provider-config-automatic-reload must be set with \
                 --encryption-provider-config"
                    .into(),
            );
        }
    }
}

/// Upstream `ParseWatchCacheSizes`: `resource[.group]#size`, size >= 0.
/// All malformed entries are reported.
pub fn parse_watch_cache_sizes(entries: &[String]) -> Result<BTreeMap<String, usize>, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut errs = Vec::new();
    for c in entries {
        let tokens: Vec<&str> = c.split('#').collect();
        if tokens.len() != 2 || tokens[0].is_empty() {
            errs.push(format!(
                "--watch-cache-sizes: invalid value of watch cache size: {c} \
                 (expected resource[.group]#size)"
            ));
            continue;
        }
        let num = tokens[1].strip_prefix('+').unwrap_or(tokens[1]);
        match num.parse::<i64>() {
            Err(_) => errs.push(format!(
                "--watch-cache-sizes: invalid size of watch cache size: {c}"
            )),
            Ok(n) if n < 0 => errs.push(format!(
                "--watch-cache-sizes: watch cache size cannot be negative: {c}"
            )),
            Ok(n) => {
                out.insert(
                    tokens[0].to_string(),
                    usize::try_from(n).unwrap_or(usize::MAX),
                );
            }
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

/// A minimal URL check for `scheme://host[:port][/path]`.
pub fn validate_server_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("missing scheme (expected scheme://host:port)".into());
    };
    if !matches!(scheme, "http" | "https" | "unix" | "unixs") {
        return Err(format!("unsupported scheme {scheme:?} (use http or https)"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() && !scheme.starts_with("unix") {
        return Err("missing host".into());
    }
    if authority.chars().any(|c| c.is_whitespace()) {
        return Err("host contains whitespace".into());
    }
    if let Some(host_port) = authority.strip_prefix('[') {
        let Some((host, after)) = host_port.split_once(']') else {
            return Err("unterminated IPv6 literal".into());
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("invalid IPv6 address {host:?}"));
        }
        if !after.is_empty() {
            check_port(after.strip_prefix(':').ok_or("junk after IPv6 literal")?)?;
        }
    } else if let Some((host, port)) = authority.rsplit_once(':') {
        if host.is_empty() {
            return Err("missing host".into());
        }
        check_port(port)?;
    }
    Ok(())
}

fn check_port(port: &str) -> Result<(), String> {
    match port.parse::<u16>() {
        Ok(_) if port.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => Err(format!("invalid port {port:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for ok in [
            "http://127.0.0.1:2379",
            "https://etcd.example:2379",
            "https://[::1]:2379",
            "http://etcd",
        ] {
            assert!(validate_server_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "127.0.0.1:2379",
            "ftp://x",
            "http://",
            "http://:2379",
            "http://h:99999",
            "https://[::1",
        ] {
            assert!(validate_server_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn watch_cache_sizes() {
        let ok =
            parse_watch_cache_sizes(&["pods#0".into(), "deployments.apps#100".into()]).unwrap();
        assert_eq!(ok.get("pods"), Some(&0));
        assert_eq!(ok.get("deployments.apps"), Some(&100));
        let errs =
            parse_watch_cache_sizes(&["pods".into(), "a#b".into(), "x#-1".into(), "#1".into()])
                .unwrap_err();
        assert_eq!(errs.len(), 4);
    }
}

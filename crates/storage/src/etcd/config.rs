//! How to reach etcd: endpoints, TLS files, timeouts and the few keys the store itself uses.

use std::path::PathBuf;
use std::time::Duration;

use etcd_client::{Certificate, ConnectOptions, Identity, TlsOptions};

use crate::StorageError;

/// etcd's default `--max-request-bytes`: 1.5 MiB.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024 / 2;

/// How to connect an [`EtcdStore`](super::EtcdStore) and how it behaves.
///
/// Keys given to the store are used exactly as given (`/registry/configmaps/ns/name`): the
/// store adds no prefix. Only its own bookkeeping keys ([`health_key`](Self::health_key),
/// [`compaction_key`](Self::compaction_key)) are chosen here, with upstream's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdConfig {
    /// Client URLs, upstream's `--etcd-servers` (`http://127.0.0.1:2379`,
    /// `https://etcd-0:2379`). Requests are balanced over all of them. [`Default`] has none
    /// (connecting then fails): use [`EtcdConfig::new`].
    pub endpoints: Vec<String>,
    /// CA bundle that signs the etcd servers' certificates (`--etcd-cafile`).
    pub ca_file: Option<PathBuf>,
    /// Client certificate presented to etcd (`--etcd-certfile`); needs [`key_file`](Self::key_file).
    pub cert_file: Option<PathBuf>,
    /// Private key of the client certificate (`--etcd-keyfile`).
    pub key_file: Option<PathBuf>,
    /// Bound on establishing a connection to an endpoint (upstream: 20 s).
    pub dial_timeout: Duration,
    /// Bound on every unary request (get, txn, range, compact); on expiry the request fails
    /// with [`StorageError::Timeout`]. Watches are not bounded, only their set-up.
    pub request_timeout: Duration,
    /// Bound on one health check (`--etcd-healthcheck-timeout`, upstream: 2 s). Checks are
    /// also rate limited to one per half of this; callers in between get the last result.
    pub health_timeout: Duration,
    /// The key a health check reads: upstream reads `/<prefix>/health`, `/registry/health`.
    pub health_key: String,
    /// The key that coordinates compaction among API servers sharing one etcd; upstream's
    /// `compact_rev_key` (at the root, so mixed fleets coordinate too).
    pub compaction_key: String,
    /// A watch that asks for progress sends etcd a progress request this often, so
    /// [`WatchItem::Progress`](crate::WatchItem::Progress) items flow while no events do
    /// (default 5 s; zero leaves only etcd's own `--experimental-watch-progress-notify-interval`).
    pub progress_interval: Duration,
    /// gRPC keep-alive: ping an idle connection this often (upstream: 30 s)...
    pub keepalive_time: Duration,
    /// ...and drop it when a ping is not answered within this (upstream: 10 s).
    pub keepalive_timeout: Duration,
    /// Fail requests at once when the member has no raft leader instead of waiting (etcd's
    /// `hasleader` metadata, which upstream sets on watches).
    pub require_leader: bool,
    /// The servers' `--max-request-bytes`, only to report the limit in
    /// [`StorageError::TooLarge`]; etcd itself enforces it.
    pub max_request_bytes: usize,
    /// Largest response the client accepts (upstream: 2 GiB), e.g. a big list page.
    pub max_response_bytes: usize,
}

impl Default for EtcdConfig {
    fn default() -> Self {
        EtcdConfig {
            endpoints: Vec::new(),
            ca_file: None,
            cert_file: None,
            key_file: None,
            dial_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(60),
            health_timeout: Duration::from_secs(2),
            health_key: "/registry/health".to_owned(),
            compaction_key: "compact_rev_key".to_owned(),
            progress_interval: Duration::from_secs(5),
            keepalive_time: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(10),
            require_leader: true,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            max_response_bytes: i32::MAX as usize,
        }
    }
}

impl EtcdConfig {
    /// Default settings for these endpoints.
    pub fn new<I, S>(endpoints: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        EtcdConfig {
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            ..EtcdConfig::default()
        }
    }

    /// Whether any TLS file is configured.
    pub fn uses_tls(&self) -> bool {
        self.ca_file.is_some() || self.cert_file.is_some() || self.key_file.is_some()
    }

    /// The client options, reading the TLS files if any.
    pub(crate) async fn connect_options(&self) -> Result<ConnectOptions, StorageError> {
        let mut options = ConnectOptions::new()
            .with_connect_timeout(self.dial_timeout)
            .with_keep_alive(self.keepalive_time, self.keepalive_timeout)
            .with_require_leader(self.require_leader);
        if self.uses_tls() {
            options = options.with_tls(self.tls_options().await?);
        }
        Ok(options)
    }

    async fn tls_options(&self) -> Result<TlsOptions, StorageError> {
        let mut tls = TlsOptions::new();
        if let Some(ca) = &self.ca_file {
            tls = tls.ca_certificate(Certificate::from_pem(read_file(ca, "CA").await?));
        }
        match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => {
                let cert = read_file(cert, "client certificate").await?;
                let key = read_file(key, "client key").await?;
                tls = tls.identity(Identity::from_pem(cert, key));
            }
            (None, None) => {}
            _ => {
                return Err(StorageError::Internal(
                    "etcd TLS: a client certificate needs both a certificate and a key file"
                        .to_owned(),
                ))
            }
        }
        Ok(tls)
    }
}

async fn read_file(path: &PathBuf, what: &str) -> Result<Vec<u8>, StorageError> {
    tokio::fs::read(path).await.map_err(|err| {
        StorageError::Internal(format!(
            "etcd TLS: cannot read {what} file {}: {err}",
            path.display()
        ))
    })
}

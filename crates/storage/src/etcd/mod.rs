//! The etcd v3 backend: [`Storage`] on a real etcd cluster, with upstream kube-apiserver's
//! request shapes, so several API servers can share one etcd (HA) exactly as upstream ones do.
//!
//! - **Keys** are used exactly as given (`/registry/configmaps/ns/name`); the store adds no
//!   prefix. Values are the bytes given.
//! - **Revisions** are etcd's: global to the cluster, increasing, not contiguous per prefix.
//! - **Writes** are single txns comparing `create_revision`/`mod_revision` (see `kv`); reads
//!   are linearizable ranges; a list at a revision reads etcd's MVCC history there.
//! - **Watches** are etcd watches with `prev_kv`, plus periodic progress requests when
//!   progress is asked for. etcd before 3.4.31 / 3.5.8 (Debian's 3.4.23 too) may answer a
//!   progress request ahead of events it holds for the watcher (etcd-io/etcd#15220); the store
//!   reports a progress revision only after a second, confirming answer, which kept progress
//!   and events in order in stress tests here. Use a fixed etcd where bookmarks must be exact.
//! - **Time to live**: keys written with one are put with a lease, shared between writes as
//!   upstream's lease manager shares them (see `lease`).
//! - **Compaction**: [`Storage::compact`] compacts directly; [`EtcdStore::compact_coordinated`]
//!   runs upstream's protocol that lets one of many servers compact per interval (see
//!   `compaction`).
//! - **Health**: [`Storage::check_health`] reads a health key within a short timeout (rate
//!   limited, as upstream); [`EtcdStore::wait_ready`] is the bounded start-up preflight.
//! - **Errors**: gRPC unavailability → [`StorageError::Unavailable`]; deadlines →
//!   [`StorageError::Timeout`]; etcd's "request is too large" → [`StorageError::TooLarge`];
//!   "required revision has been compacted" → [`StorageError::Compacted`]; "is a future
//!   revision" → [`StorageError::FutureRevision`]; anything else
//!   [`StorageError::Internal`] with etcd's message.
//!
//! [`testing`] starts throwaway etcd servers for tests.

mod compaction;
mod config;
mod convert;
mod errors;
mod health;
mod kv;
mod lease;
pub mod testing;
mod watch;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use etcd_client::{Client, KvClient, WatchClient};

use crate::{KeyValue, ListOptions, ListResult, Revision, Storage, StorageError, WatchStream};
pub use compaction::{CompactionRound, CompactionState, CompactorHandle};
pub use config::{EtcdConfig, DEFAULT_MAX_REQUEST_BYTES};

/// A [`Storage`] on etcd v3 (see the [module docs](self)). Cheap to clone: clones share the
/// connection and what the store has learnt (the compacted revision, the last health check).
#[derive(Clone)]
pub struct EtcdStore {
    inner: Arc<Inner>,
}

/// What clones of a store share.
pub(crate) struct Inner {
    kv: KvClient,
    watch: WatchClient,
    leases: lease::LeaseManager,
    config: EtcdConfig,
    /// The newest compacted revision seen (see `compaction`).
    compacted: AtomicI64,
    health: health::HealthCache,
}

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("endpoints", &self.inner.config.endpoints)
            .field("compacted", &self.inner.compacted())
            .finish_non_exhaustive()
    }
}

impl EtcdStore {
    /// Sets up a client for `config.endpoints`. Connections are made lazily, so this does not
    /// wait for etcd (use [`wait_ready`](Self::wait_ready) for that); it fails only on bad
    /// configuration: no endpoints, malformed URLs, unreadable TLS files.
    pub async fn connect(config: EtcdConfig) -> Result<EtcdStore, StorageError> {
        if config.endpoints.is_empty() {
            return Err(StorageError::Internal(
                "no etcd endpoints configured".to_owned(),
            ));
        }
        let options = config.connect_options().await?;
        let client = Client::connect(&config.endpoints, Some(options))
            .await
            .map_err(|err| {
                StorageError::Internal(format!(
                    "etcd client for {}: {err}",
                    config.endpoints.join(",")
                ))
            })?;
        let kv = client
            .kv_client()
            .max_decoding_message_size(config.max_response_bytes);
        let watch = client
            .watch_client()
            .max_decoding_message_size(config.max_response_bytes);
        let leases = lease::LeaseManager::new(client.lease_client());
        Ok(EtcdStore {
            inner: Arc::new(Inner {
                kv,
                watch,
                leases,
                config,
                compacted: AtomicI64::new(0),
                health: health::HealthCache::default(),
            }),
        })
    }

    /// The configuration this store was connected with.
    pub fn config(&self) -> &EtcdConfig {
        &self.inner.config
    }

    /// The start-up preflight: retries a health check until one passes or `timeout` has
    /// elapsed, then fails with [`StorageError::Unavailable`] naming the last error.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), StorageError> {
        self.inner.wait_ready(timeout).await
    }
}

impl Inner {
    /// The newest compacted revision seen so far.
    pub(crate) fn compacted(&self) -> Revision {
        self.compacted.load(Ordering::SeqCst)
    }

    /// Records that etcd has compacted at least at `revision`.
    pub(crate) fn note_compacted(&self, revision: Revision) {
        self.compacted.fetch_max(revision, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl Storage for EtcdStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        self.inner.get(key).await
    }

    async fn create_with_ttl(
        &self,
        key: &str,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> Result<Revision, StorageError> {
        self.inner.create(key, value, ttl).await
    }

    async fn update_with_ttl(
        &self,
        key: &str,
        expected: Revision,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> Result<Revision, StorageError> {
        self.inner.update(key, expected, value, ttl).await
    }

    async fn delete(
        &self,
        key: &str,
        expected: Option<Revision>,
    ) -> Result<(KeyValue, Revision), StorageError> {
        self.inner.delete(key, expected).await
    }

    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError> {
        self.inner.list(prefix, opts).await
    }

    async fn count(&self, prefix: &str) -> Result<usize, StorageError> {
        self.inner.count(prefix).await
    }

    async fn watch(
        &self,
        prefix: &str,
        after: Revision,
        progress: bool,
    ) -> Result<WatchStream, StorageError> {
        watch::watch(&self.inner, prefix, after, progress).await
    }

    async fn current_revision(&self) -> Result<Revision, StorageError> {
        self.inner.current_revision().await
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        self.inner.compact(revision).await
    }

    async fn compacted_revision(&self) -> Result<Revision, StorageError> {
        self.inner.compacted_revision().await
    }

    async fn check_health(&self) -> Result<(), StorageError> {
        self.inner.check_health().await
    }
}

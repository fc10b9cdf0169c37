//! The storage interface the API server is built on, with etcd v3's semantics, and its backends.
//!
//! Every backend gives the same guarantees (see `ARCHITECTURE.md`):
//! - one global, monotonically increasing revision; every write (create, update, delete) gets
//!   a new one, and it never goes backwards, not even across restarts;
//! - compare-and-swap updates and deletes on an object's mod revision;
//! - consistent lists at a revision, paginated with `limit` and a start key;
//! - watches that start after any revision not yet compacted, and deliver every later event
//!   under their prefix exactly once, in revision order;
//! - compaction: history at or below the compacted revision is dropped, and reading or
//!   watching from there fails with [`StorageError::Compacted`].
//!
//! Keys are plain strings (`/registry/configmaps/default/foo`); values are opaque bytes.
//! The contract every backend must pass lives in [`contract`].

pub mod contract;
pub mod embedded;
pub mod encrypt;
mod error;
pub mod etcd;
pub mod transform;

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;

pub use error::StorageError;

/// A revision of the store: etcd's `revision`, the API's `resourceVersion`.
pub type Revision = i64;

/// One key with its value and revisions, as etcd's `mvccpb.KeyValue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Bytes,
    /// Revision of the write that created this key (since its last deletion).
    pub create_revision: Revision,
    /// Revision of the last write to this key.
    pub mod_revision: Revision,
}

/// What happened to a key in a watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// The key did not exist before this event.
    Created,
    /// The key existed and got a new value.
    Updated,
    /// The key was deleted.
    Deleted,
}

/// One change, as seen by a watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent {
    pub event_type: EventType,
    /// For `Created`/`Updated`: the new state. For `Deleted`: the last state before deletion,
    /// with `mod_revision` set to the revision of the deletion.
    pub kv: KeyValue,
    /// The state before this event (`Updated` and `Deleted`), when the backend has it.
    pub prev_value: Option<Bytes>,
}

impl WatchEvent {
    /// The revision at which this event happened.
    pub fn revision(&self) -> Revision {
        self.kv.mod_revision
    }
}

/// What a watch stream yields: events, progress notifications, or an error that ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchItem {
    Event(WatchEvent),
    /// The watcher has seen every event up to this revision (a bookmark / progress notify).
    Progress(Revision),
}

/// A stream of watch items; it ends after yielding an error.
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchItem, StorageError>> + Send>>;

/// How to list a prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Read at this revision; `None` reads the current revision.
    pub revision: Option<Revision>,
    /// At most this many items; `0` means no limit.
    pub limit: usize,
    /// Start at this key (inclusive); must lie under the prefix. Used for `continue`.
    pub start_key: Option<String>,
}

/// The result of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListResult {
    /// Items in key order.
    pub items: Vec<KeyValue>,
    /// The revision the list was read at.
    pub revision: Revision,
    /// Whether more items follow (after the last returned key) at that revision.
    pub more: bool,
    /// How many items follow, when `more`.
    pub remaining: usize,
}

/// A storage backend with etcd v3 semantics.
#[async_trait::async_trait]
pub trait Storage: Send + Sync + 'static {
    /// The current state of one key, or `None`.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StorageError>;

    /// Creates a key that must not exist; returns the new revision.
    /// Fails with [`StorageError::AlreadyExists`].
    async fn create(&self, key: &str, value: Bytes) -> Result<Revision, StorageError> {
        self.create_with_ttl(key, value, None).await
    }

    /// [`create`](Storage::create), with a time to live: once `ttl` has passed (etcd's lease
    /// semantics: at least `ttl`, possibly a little more) the key is deleted, as a deletion at
    /// a new revision that watches see, unless a later write changed its expiry.
    async fn create_with_ttl(
        &self,
        key: &str,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> Result<Revision, StorageError>;

    /// Replaces a key's value if its mod revision is still `expected`; returns the new revision.
    /// Fails with [`StorageError::NotFound`] or [`StorageError::Conflict`]. The key no longer
    /// expires (as an etcd put without a lease).
    async fn update(
        &self,
        key: &str,
        expected: Revision,
        value: Bytes,
    ) -> Result<Revision, StorageError> {
        self.update_with_ttl(key, expected, value, None).await
    }

    /// [`update`](Storage::update), with a new time to live counted from now (or none).
    async fn update_with_ttl(
        &self,
        key: &str,
        expected: Revision,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> Result<Revision, StorageError>;

    /// Deletes a key, if its mod revision is still `expected` when given; returns the deleted
    /// state and the revision of the deletion.
    async fn delete(
        &self,
        key: &str,
        expected: Option<Revision>,
    ) -> Result<(KeyValue, Revision), StorageError>;

    /// Lists the keys under `prefix` (a plain string prefix, usually ending in `/`).
    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError>;

    /// Counts the keys under `prefix` at the current revision.
    async fn count(&self, prefix: &str) -> Result<usize, StorageError>;

    /// Watches `prefix` for every event with a revision greater than `after`.
    /// Fails with [`StorageError::Compacted`] (at once or as the stream's first item) when
    /// `after` is below the compacted revision. `progress` asks for periodic
    /// [`WatchItem::Progress`] items while no events flow.
    async fn watch(
        &self,
        prefix: &str,
        after: Revision,
        progress: bool,
    ) -> Result<WatchStream, StorageError>;

    /// The store's current revision.
    async fn current_revision(&self) -> Result<Revision, StorageError>;

    /// Drops history at or below `revision` (never the current state of a live key).
    async fn compact(&self, revision: Revision) -> Result<(), StorageError>;

    /// The newest compacted revision (0 when never compacted).
    async fn compacted_revision(&self) -> Result<Revision, StorageError>;

    /// Checks the backend can serve (used by `/readyz/etcd` and `/livez/etcd`).
    async fn check_health(&self) -> Result<(), StorageError>;
}

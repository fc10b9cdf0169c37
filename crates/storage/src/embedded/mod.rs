//! The embedded backend: etcd's semantics on a SQLite file, in the shape of kine (k3s).
//!
//! - **Log.** Every write appends a row to the `kv` table; the row's id is the write's
//!   revision (the `schema` module describes the layout). A `current` table points at each live
//!   key's newest row, so reads at the current revision never scan history; reads at an older
//!   revision rebuild the state from the log.
//! - **Writes.** One writer thread owns the write connection and commits queued writes in
//!   groups: one transaction and one fsync for many requests, each checked on its own.
//!   Acknowledged writes are durable (WAL journal, `synchronous = FULL`).
//! - **Reads.** A small pool of read connections on tokio's blocking threads; WAL lets them read
//!   snapshots while the writer writes.
//! - **Watch.** The writer publishes each committed batch's events; a watch replays the log
//!   after its start revision and then follows the live events (see the `watch` module).
//! - **Compaction** deletes history superseded at the compacted revision, in chunks on the
//!   writer thread, after recording the revision so reads below it fail from then on. A list at
//!   or below the compacted revision (unless it is the current one) and a watch after a
//!   revision below it fail with [`StorageError::Compacted`]; compacting at or below the
//!   compacted revision again is a no-op, above the current one is a
//!   [`StorageError::FutureRevision`].
//!
//! - **Expiry** (etcd's leases, for events): a key written with a time to live has a row in
//!   the `expiry` table; the writer deletes keys whose time has come (checked every
//!   `expiry_interval`), as ordinary deletions at new revisions that watches see.
//!
//! One process owns a database file: the writer assumes no other process writes to it.

mod ops;
mod reader;
mod schema;
mod watch;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::broadcast;

use crate::{KeyValue, ListOptions, ListResult, Revision, Storage, StorageError, WatchStream};
use ops::{WriteOp, WriteOutcome};
use reader::ReadPool;
use writer::{EventBatch, Revisions, WriterConfig, WriterHandle};

/// etcd's default `--max-request-bytes`: 1.5 MiB.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 3 * 1024 * 1024 / 2;

/// Tuning of an [`EmbeddedStore`]; [`Default`] gives production values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedOptions {
    /// A watch asked for progress gets a [`WatchItem::Progress`](crate::WatchItem::Progress)
    /// after this long without an item (default 5 s).
    pub progress_interval: Duration,
    /// Values larger than this are refused with [`StorageError::TooLarge`] (default 1.5 MiB).
    pub max_value_bytes: usize,
    /// Most concurrent reads, each on its own connection (default 4).
    pub read_connections: usize,
    /// Most writes committed in one transaction (default 512).
    pub max_write_batch: usize,
    /// Most writes waiting for the writer before callers wait to enqueue (default 4096).
    pub write_queue: usize,
    /// Group commit: when fewer writes are queued than the previous batch had, the writer
    /// waits up to this long for more before committing (default 200 µs; zero disables).
    pub group_commit_wait: Duration,
    /// Committed batches buffered for watchers; a watcher further behind catches up from the
    /// log (default 256).
    pub watch_buffer: usize,
    /// How often keys written with a time to live are checked for expiry (default 500 ms,
    /// etcd's lease check interval).
    pub expiry_interval: Duration,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            progress_interval: Duration::from_secs(5),
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            read_connections: 4,
            max_write_batch: 512,
            write_queue: 4096,
            group_commit_wait: Duration::from_micros(200),
            watch_buffer: 256,
            expiry_interval: Duration::from_millis(500),
        }
    }
}

/// A [`Storage`] on a SQLite file (see the [module docs](self)).
///
/// Dropping it stops the writer thread after the writes already queued (waiting for it);
/// open watch streams then end with [`StorageError::Unavailable`].
pub struct EmbeddedStore {
    writer: WriterHandle,
    reader: Arc<ReadPool>,
    revisions: Arc<Revisions>,
    events: broadcast::Sender<EventBatch>,
    options: EmbeddedOptions,
}

impl EmbeddedStore {
    /// Opens the store at `path` with default options, creating the file and schema if missing.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        Self::open_with(path, EmbeddedOptions::default())
    }

    /// Opens the store at `path` with the given options, creating the file and schema if
    /// missing. Blocks on file I/O: call it at startup or from a blocking context.
    pub fn open_with(path: &Path, options: EmbeddedOptions) -> Result<Self, StorageError> {
        let mut conn = schema::open_connection(path, false)?;
        schema::init_schema(&mut conn)?;
        let current = schema::current_revision(&conn)?;
        let compacted = schema::compacted_revision(&conn)?;
        let revisions = Arc::new(Revisions::new(current, compacted));
        let reader = Arc::new(ReadPool::new(path.to_path_buf(), options.read_connections));
        // Check a read connection works now rather than on the first request.
        let probe = schema::open_connection(path, true)?;
        drop(probe);
        let (events, _) = broadcast::channel(options.watch_buffer.max(1));
        let writer = WriterHandle::spawn(WriterConfig {
            conn,
            revisions: Arc::clone(&revisions),
            events: events.clone(),
            max_batch: options.max_write_batch,
            queue: options.write_queue,
            group_commit_wait: options.group_commit_wait,
            expiry_interval: options.expiry_interval,
        })?;
        tracing::debug!(path = %path.display(), revision = current, "opened embedded storage");
        Ok(EmbeddedStore {
            writer,
            reader,
            revisions,
            events,
            options,
        })
    }

    /// The options this store was opened with.
    pub fn options(&self) -> &EmbeddedOptions {
        &self.options
    }

    fn check_size(&self, value: &Bytes) -> Result<(), StorageError> {
        if value.len() > self.options.max_value_bytes {
            return Err(StorageError::TooLarge {
                size: value.len(),
                limit: self.options.max_value_bytes,
            });
        }
        Ok(())
    }

    async fn write_revision(&self, op: WriteOp) -> Result<Revision, StorageError> {
        match self.writer.write(op).await? {
            WriteOutcome::Written(rev) => Ok(rev),
            WriteOutcome::Deleted(_, rev) => Ok(rev),
        }
    }
}

/// When a key written now with `ttl` expires, in milliseconds since the Unix epoch.
fn expiry_time(ttl: Duration) -> i64 {
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_add(ttl);
    i64::try_from(at.as_millis()).unwrap_or(i64::MAX)
}

#[async_trait::async_trait]
impl Storage for EmbeddedStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StorageError> {
        let key = key.to_owned();
        self.reader.run(move |conn| reader::get(conn, &key)).await
    }

    async fn create_with_ttl(
        &self,
        key: &str,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> Result<Revision, StorageError> {
        self.check_size(&value)?;
        self.write_revision(WriteOp::Create {
            key: key.to_owned(),
            value,
            expires_at: ttl.map(expiry_time),
        })
        .await
    }

    async fn update_with_ttl(
        &self,
        key: &str,
        expected: Revision,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> Result<Revision, StorageError> {
        self.check_size(&value)?;
        self.write_revision(WriteOp::Update {
            key: key.to_owned(),
            expected,
            value,
            expires_at: ttl.map(expiry_time),
        })
        .await
    }

    async fn delete(
        &self,
        key: &str,
        expected: Option<Revision>,
    ) -> Result<(KeyValue, Revision), StorageError> {
        let op = WriteOp::Delete {
            key: key.to_owned(),
            expected,
        };
        match self.writer.write(op).await? {
            WriteOutcome::Deleted(kv, rev) => Ok((kv, rev)),
            WriteOutcome::Written(_) => Err(StorageError::Internal(
                "storage writer answered a delete with a write".into(),
            )),
        }
    }

    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError> {
        let prefix = prefix.to_owned();
        self.reader
            .run(move |conn| reader::list(conn, &prefix, &opts))
            .await
    }

    async fn count(&self, prefix: &str) -> Result<usize, StorageError> {
        let prefix = prefix.to_owned();
        self.reader
            .run(move |conn| reader::count(conn, &prefix))
            .await
    }

    async fn watch(
        &self,
        prefix: &str,
        after: Revision,
        progress: bool,
    ) -> Result<WatchStream, StorageError> {
        let after = after.max(0);
        let compacted = self.revisions.compacted();
        if after < compacted {
            return Err(StorageError::Compacted {
                requested: after,
                compacted,
            });
        }
        // Subscribe before reading any history: see the watch module.
        let live = self.events.subscribe();
        Ok(watch::stream(watch::WatchSetup {
            reader: Arc::clone(&self.reader),
            revisions: Arc::clone(&self.revisions),
            live,
            prefix: prefix.to_owned(),
            after,
            progress: progress.then_some(self.options.progress_interval),
        }))
    }

    async fn current_revision(&self) -> Result<Revision, StorageError> {
        Ok(self.revisions.committed())
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        self.writer.compact(revision).await
    }

    async fn compacted_revision(&self) -> Result<Revision, StorageError> {
        Ok(self.revisions.compacted())
    }

    async fn check_health(&self) -> Result<(), StorageError> {
        self.reader.run(|conn| reader::health(conn)).await
    }
}

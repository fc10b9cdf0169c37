//! The single writer: a dedicated thread owns the write connection and applies writes with
//! group commit.
//!
//! The thread drains every queued request (up to a batch size; when the previous batch was
//! larger, it waits a little for stragglers), applies each in its own
//! savepoint inside one transaction (so a failed compare-and-swap fails only its request),
//! commits once (one fsync for the whole batch), publishes the batch's events to watchers in
//! revision order, and only then acknowledges the requests.
//!
//! Revisions are assigned here: the writer knows the last one, and gives each successful write
//! the next (explicit `kv.id`s; `AUTOINCREMENT` keeps the on-disk counter in step).
//!
//! Compaction runs on the same thread in chunks of revisions, each its own transaction, with
//! pending writes served between chunks.
//!
//! The write connection is tuned for a store that grows (see [`tune_connection`]): a small page
//! cache and a long WAL between checkpoints keep the cost of a write from growing with the number
//! of keys.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::ops::{apply_op, expired, Applied, WriteOp, WriteOutcome};
use super::schema::META_COMPACTED;
use crate::{Revision, StorageError, WatchEvent};

/// The events of one committed batch, in revision order, as published to watchers.
pub(crate) type EventBatch = Arc<[WatchEvent]>;

/// How long the writer sleeps at a time while gathering a batch.
const GATHER_STEP: Duration = Duration::from_micros(50);

/// How many revisions one compaction transaction covers.
const COMPACT_CHUNK: Revision = 2_000;

/// The write connection's page cache, in KiB.
///
/// Small on purpose. When a B-tree page split reorders the new pages (`balance_nonroot` moves a
/// page to the lock-byte page's number for a moment), SQLite's page cache remembers that number
/// as its largest, and at the end of the transaction (`pcache1TruncateUnsafe`) it walks every
/// cached page to drop those past the end of the file. With keys spread at random over three
/// indexes nearly every batch splits a page somewhere, so every commit walked the cache; with
/// 32 MiB that walk grew with the store until the cache was full (at about 50,000 keys). A page
/// that misses is read back from the OS page cache, which costs less. It also bounds the
/// writer's memory.
const WRITER_CACHE_KIB: i64 = 8 * 1024;

/// Pages the WAL holds before the writer copies them into the database file (SQLite's automatic
/// checkpoint, run by the connection that commits).
///
/// With random keys each write dirties a different leaf page of each index once the store holds
/// more than a few thousand keys, so SQLite's default window of 1,000 pages holds nearly 1,000
/// distinct pages, and every write's pages were copied (and the database file synced) again soon
/// after: a cost per write that grew with the store. A longer window copies a page written many
/// times once. 10,000 pages make a WAL of about 40 MiB.
const CHECKPOINT_PAGES: i64 = 10_000;

/// The size, in bytes, the WAL file is cut back to when it starts over after a checkpoint (it
/// would otherwise keep the largest size it ever had, for instance while a long read held a
/// checkpoint back).
const WAL_SIZE_LIMIT: i64 = 64 << 20;

/// Sets the write connection's cache and checkpoint pragmas (see the constants).
fn tune_connection(conn: &Connection) -> Result<(), StorageError> {
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    let pages: i64 =
        conn.pragma_update_and_check(None, "wal_autocheckpoint", CHECKPOINT_PAGES, |row| {
            row.get(0)
        })?;
    let limit: i64 =
        conn.pragma_update_and_check(None, "journal_size_limit", WAL_SIZE_LIMIT, |row| row.get(0))?;
    if pages != CHECKPOINT_PAGES || limit != WAL_SIZE_LIMIT {
        return Err(StorageError::Internal(format!(
            "sqlite: checkpoint settings not taken (wal_autocheckpoint {pages}, \
             journal_size_limit {limit})"
        )));
    }
    Ok(())
}

/// Revisions the writer publishes for everyone else to read without touching SQLite.
#[derive(Debug, Default)]
pub(crate) struct Revisions {
    committed: AtomicI64,
    published: AtomicI64,
    compacted: AtomicI64,
}

impl Revisions {
    /// Starts from the revisions found on disk.
    pub(crate) fn new(current: Revision, compacted: Revision) -> Self {
        Revisions {
            committed: AtomicI64::new(current),
            published: AtomicI64::new(current),
            compacted: AtomicI64::new(compacted),
        }
    }

    /// The newest committed revision.
    pub(crate) fn committed(&self) -> Revision {
        self.committed.load(Ordering::SeqCst)
    }

    /// The newest revision whose events have been sent to the watch channel: a receiver that
    /// read this and then finds its channel empty has received every event up to it.
    pub(crate) fn published(&self) -> Revision {
        self.published.load(Ordering::SeqCst)
    }

    /// The compacted revision.
    pub(crate) fn compacted(&self) -> Revision {
        self.compacted.load(Ordering::SeqCst)
    }
}

type WriteReply = oneshot::Sender<Result<WriteOutcome, StorageError>>;
type CompactReply = oneshot::Sender<Result<(), StorageError>>;

enum Command {
    Write(WriteOp, WriteReply),
    Compact(Revision, CompactReply),
    /// Delete the keys whose time to live has run out.
    Expire,
}

/// Most expired keys deleted in one batch (the rest go in the next round).
const EXPIRE_BATCH: usize = 512;

/// The async side's handle on the writer thread; dropping it stops the thread.
pub(crate) struct WriterHandle {
    commands: Option<mpsc::Sender<Command>>,
    thread: Option<JoinHandle<()>>,
}

/// What the writer thread needs.
pub(crate) struct WriterConfig {
    /// The write connection, schema already in place.
    pub(crate) conn: Connection,
    pub(crate) revisions: Arc<Revisions>,
    pub(crate) events: broadcast::Sender<EventBatch>,
    /// Most requests committed in one transaction.
    pub(crate) max_batch: usize,
    /// Most requests waiting for the writer before callers wait to enqueue.
    pub(crate) queue: usize,
    /// Longest wait for more writes before a commit (see `Writer::gather`).
    pub(crate) group_commit_wait: Duration,
    /// How often expired keys are looked for.
    pub(crate) expiry_interval: Duration,
}

impl WriterHandle {
    /// Starts the writer thread.
    pub(crate) fn spawn(config: WriterConfig) -> Result<Self, StorageError> {
        tune_connection(&config.conn)?;
        let last_rev = config.revisions.committed();
        let (commands, rx) = mpsc::channel(config.queue.max(1));
        let writer = Writer {
            conn: config.conn,
            last_rev,
            revisions: config.revisions,
            events: config.events,
            max_batch: config.max_batch.max(1),
            last_batch: 0,
            group_commit_wait: config.group_commit_wait,
            job: None,
        };
        let thread = std::thread::Builder::new()
            .name("storage-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|err| StorageError::Internal(format!("cannot start writer thread: {err}")))?;
        // The expiry clock holds only a weak handle: it stops once the store is dropped.
        let weak = commands.downgrade();
        let interval = config.expiry_interval;
        std::thread::Builder::new()
            .name("storage-expiry".into())
            .spawn(move || loop {
                std::thread::sleep(interval);
                let Some(commands) = weak.upgrade() else {
                    return;
                };
                if commands.blocking_send(Command::Expire).is_err() {
                    return;
                }
            })
            .map_err(|err| StorageError::Internal(format!("cannot start expiry thread: {err}")))?;
        Ok(WriterHandle {
            commands: Some(commands),
            thread: Some(thread),
        })
    }

    /// Queues a write and waits until it is committed (or refused).
    pub(crate) async fn write(&self, op: WriteOp) -> Result<WriteOutcome, StorageError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Write(op, reply)).await?;
        answer.await.map_err(|_| stopped())?
    }

    /// Compacts history at or below `revision` and waits until it is done.
    pub(crate) async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Compact(revision, reply)).await?;
        answer.await.map_err(|_| stopped())?
    }

    async fn send(&self, command: Command) -> Result<(), StorageError> {
        let commands = self.commands.as_ref().ok_or_else(stopped)?;
        commands.send(command).await.map_err(|_| stopped())
    }
}

impl Drop for WriterHandle {
    fn drop(&mut self) {
        // Closing the queue makes the thread finish what it has and exit.
        self.commands.take();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("storage writer thread panicked");
            }
        }
    }
}

fn stopped() -> StorageError {
    StorageError::Unavailable("storage writer has stopped".into())
}

/// A compaction in progress.
struct CompactJob {
    /// Drop superseded history at or below this revision.
    target: Revision,
    /// Rows with ids at or below this have been handled.
    done_through: Revision,
    waiters: Vec<CompactReply>,
}

struct Writer {
    conn: Connection,
    /// The newest committed revision.
    last_rev: Revision,
    revisions: Arc<Revisions>,
    events: broadcast::Sender<EventBatch>,
    max_batch: usize,
    /// How many writes the previous batch had.
    last_batch: usize,
    group_commit_wait: Duration,
    job: Option<CompactJob>,
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        loop {
            let first = if self.job.is_some() {
                match rx.try_recv() {
                    Ok(command) => Some(command),
                    Err(mpsc::error::TryRecvError::Empty) => None,
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                }
            } else {
                match rx.blocking_recv() {
                    Some(command) => Some(command),
                    None => break,
                }
            };
            if let Some(first) = first {
                let writes = self.gather(first, &mut rx);
                if !writes.is_empty() {
                    self.commit_batch(writes);
                }
            }
            // One chunk per round, so compaction progresses under a steady stream of writes
            // and writes wait for at most one chunk.
            if self.job.is_some() {
                self.compact_step();
            }
        }
    }

    /// Collects a batch: `first` and whatever is queued, waiting up to `group_commit_wait` for
    /// as many writes as the previous batch had (the callers it answered are likely about to
    /// send their next write; one commit for all of them beats one each).
    fn gather(
        &mut self,
        first: Command,
        rx: &mut mpsc::Receiver<Command>,
    ) -> Vec<(WriteOp, WriteReply)> {
        let mut writes = Vec::new();
        self.accept(first, &mut writes);
        let wanted = self.last_batch.min(self.max_batch);
        let mut waited = Duration::ZERO;
        loop {
            while writes.len() < self.max_batch {
                match rx.try_recv() {
                    Ok(command) => self.accept(command, &mut writes),
                    Err(_) => break,
                }
            }
            if writes.len() >= wanted || waited >= self.group_commit_wait {
                break;
            }
            let step = GATHER_STEP.min(self.group_commit_wait - waited);
            std::thread::sleep(step);
            waited += step;
        }
        self.last_batch = writes.len();
        writes
    }

    fn accept(&mut self, command: Command, writes: &mut Vec<(WriteOp, WriteReply)>) {
        match command {
            Command::Write(op, reply) => writes.push((op, reply)),
            Command::Compact(revision, reply) => self.start_compaction(revision, reply),
            Command::Expire => self.expire(writes),
        }
    }

    /// Queues a deletion of each key whose time has come. Each checks its expiry again when
    /// applied, so a write earlier in the batch that gave the key more time keeps it.
    fn expire(&mut self, writes: &mut Vec<(WriteOp, WriteReply)>) {
        let now = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis(),
        )
        .unwrap_or(i64::MAX);
        match expired(&self.conn, now, EXPIRE_BATCH) {
            Ok(keys) => {
                for key in keys {
                    // Nobody waits for the answer.
                    let (reply, _) = oneshot::channel();
                    writes.push((WriteOp::Expire { key, now }, reply));
                }
            }
            Err(err) => tracing::error!(error = %err, "looking for expired keys failed"),
        }
    }

    /// Applies a batch in one transaction, then publishes its events and answers its callers.
    fn commit_batch(&mut self, writes: Vec<(WriteOp, WriteReply)>) {
        let (ops, replies): (Vec<_>, Vec<_>) = writes.into_iter().unzip();
        match self.apply_batch(&ops) {
            Ok(results) => {
                self.revisions
                    .committed
                    .store(self.last_rev, Ordering::SeqCst);
                let mut events = Vec::with_capacity(results.len());
                let mut outcomes = Vec::with_capacity(results.len());
                for result in results {
                    outcomes.push(result.map(|applied| {
                        events.push(applied.event);
                        applied.outcome
                    }));
                }
                if !events.is_empty() {
                    // No receivers is fine: nobody watches.
                    let _ = self.events.send(EventBatch::from(events));
                }
                self.revisions
                    .published
                    .store(self.last_rev, Ordering::SeqCst);
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(err) => {
                tracing::error!(error = %err, "storage write batch failed");
                for reply in replies {
                    let _ = reply.send(Err(err.clone()));
                }
            }
        }
    }

    /// Applies each op in its own savepoint; an error of the transaction itself fails all.
    ///
    /// The savepoint statements are prepared once (rusqlite's `Savepoint` parses its SQL anew
    /// each time).
    fn apply_batch(
        &mut self,
        ops: &[WriteOp],
    ) -> Result<Vec<Result<Applied, StorageError>>, StorageError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut rev = self.last_rev;
        let mut results = Vec::with_capacity(ops.len());
        for op in ops {
            tx.prepare_cached("SAVEPOINT write_op")?.execute([])?;
            match apply_op(&tx, op, rev + 1) {
                Ok(applied) => {
                    tx.prepare_cached("RELEASE write_op")?.execute([])?;
                    rev += 1;
                    results.push(Ok(applied));
                }
                Err(err) => {
                    tx.prepare_cached("ROLLBACK TO write_op")?.execute([])?;
                    tx.prepare_cached("RELEASE write_op")?.execute([])?;
                    results.push(Err(err));
                }
            }
        }
        tx.commit()?;
        self.last_rev = rev;
        Ok(results)
    }

    /// Records the new compacted revision and schedules the deletion of superseded history.
    fn start_compaction(&mut self, target: Revision, reply: CompactReply) {
        if target > self.last_rev {
            let _ = reply.send(Err(StorageError::FutureRevision {
                requested: target,
                current: self.last_rev,
            }));
            return;
        }
        if target <= self.revisions.compacted() {
            match &mut self.job {
                Some(job) => job.waiters.push(reply),
                None => {
                    let _ = reply.send(Ok(()));
                }
            }
            return;
        }
        let first_id = match self.record_compaction(target) {
            Ok(first_id) => first_id,
            Err(err) => {
                let _ = reply.send(Err(err));
                return;
            }
        };
        self.revisions.compacted.store(target, Ordering::SeqCst);
        // (Re)start the scan from the oldest row: rows kept by an earlier compaction may now
        // be superseded.
        let job = self.job.get_or_insert_with(|| CompactJob {
            target,
            done_through: 0,
            waiters: Vec::new(),
        });
        job.target = target;
        job.done_through = first_id.saturating_sub(1);
        job.waiters.push(reply);
    }

    /// Persists the compacted revision (never lowering it); returns the oldest row id.
    fn record_compaction(&mut self, target: Revision) -> Result<Revision, StorageError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
            rusqlite::params![META_COMPACTED, target],
        )?;
        let first_id: Option<i64> = tx.query_row("SELECT min(id) FROM kv", [], |row| row.get(0))?;
        tx.commit()?;
        Ok(first_id.unwrap_or(1))
    }

    /// Deletes the superseded rows of one chunk of revisions.
    fn compact_step(&mut self) {
        let Some(job) = &mut self.job else {
            return;
        };
        let from = job.done_through;
        let through = from.saturating_add(COMPACT_CHUNK).min(job.target);
        // A row at or below the target goes when it is a tombstone or a newer row of the same
        // key at or below the target exists: what remains is each key's state at the target.
        let deleted = self.conn.execute(
            "DELETE FROM kv WHERE id > ?1 AND id <= ?2 AND (deleted = 1 OR EXISTS (
                 SELECT 1 FROM kv AS newer
                 WHERE newer.name = kv.name AND newer.id > kv.id AND newer.id <= ?3))",
            rusqlite::params![from, through, job.target],
        );
        match deleted {
            Ok(_) if through < job.target => job.done_through = through,
            Ok(_) => {
                let target = job.target;
                for waiter in std::mem::take(&mut job.waiters) {
                    let _ = waiter.send(Ok(()));
                }
                self.job = None;
                tracing::debug!(revision = target, "storage compaction finished");
            }
            Err(err) => {
                let err = StorageError::from(err);
                tracing::error!(error = %err, "storage compaction failed");
                for waiter in std::mem::take(&mut job.waiters) {
                    let _ = waiter.send(Err(err.clone()));
                }
                self.job = None;
            }
        }
    }
}

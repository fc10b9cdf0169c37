//! Watch streams: replay from the log, then live events from the writer, with no gap and no
//! duplicate.
//!
//! A watcher subscribes to the writer's broadcast *before* reading history, so every event
//! committed after its history snapshot reaches it live. It keeps a cursor: every event under
//! its prefix up to the cursor has been delivered (or is queued). Replay reads pages of the log
//! after the cursor until it reaches the snapshot's current revision; live events at or below
//! the cursor are skipped. A watcher that falls so far behind that the broadcast drops events
//! for it (`Lagged`) goes back to replaying from its cursor, so memory stays bounded and nothing
//! is lost — unless that history was compacted meanwhile, which ends the stream with
//! [`StorageError::Compacted`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::time::Instant;

use super::reader::{self, ReadPool};
use super::writer::{EventBatch, Revisions};
use crate::{Revision, StorageError, WatchEvent, WatchItem, WatchStream};

/// How many log rows one replay read fetches.
const REPLAY_PAGE: usize = 128;

/// Everything a watch stream needs.
pub(crate) struct WatchSetup {
    pub(crate) reader: Arc<ReadPool>,
    pub(crate) revisions: Arc<Revisions>,
    /// Subscribed before any history is read.
    pub(crate) live: broadcast::Receiver<EventBatch>,
    pub(crate) prefix: String,
    pub(crate) after: Revision,
    /// Send a progress notification after this long without an item, when set.
    pub(crate) progress: Option<Duration>,
}

/// Builds the stream for one watch.
pub(crate) fn stream(setup: WatchSetup) -> WatchStream {
    let watcher = Watcher {
        reader: setup.reader,
        revisions: setup.revisions,
        live: setup.live,
        prefix: setup.prefix,
        cursor: setup.after,
        replaying: true,
        pending: VecDeque::new(),
        progress: setup.progress,
        last_sent: Instant::now(),
        done: false,
    };
    Box::pin(futures::stream::unfold(watcher, |mut watcher| async move {
        let item = watcher.next_item().await?;
        Some((item, watcher))
    }))
}

struct Watcher {
    reader: Arc<ReadPool>,
    revisions: Arc<Revisions>,
    live: broadcast::Receiver<EventBatch>,
    prefix: String,
    /// Every event under the prefix up to here has been delivered or is in `pending`.
    cursor: Revision,
    /// Reading history from the log rather than live events.
    replaying: bool,
    pending: VecDeque<WatchEvent>,
    progress: Option<Duration>,
    /// When the last item went out (or the watch started).
    last_sent: Instant,
    /// An error ended the stream.
    done: bool,
}

/// What waiting on the live channel produced.
enum Live {
    Received(Result<EventBatch, RecvError>),
    ProgressDue,
}

impl Watcher {
    async fn next_item(&mut self) -> Option<Result<WatchItem, StorageError>> {
        if self.done {
            return None;
        }
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.last_sent = Instant::now();
                return Some(Ok(WatchItem::Event(event)));
            }
            let step = if self.replaying {
                self.replay_page().await.map(|()| None)
            } else {
                self.wait_live().await
            };
            match step {
                Ok(Some(item)) => {
                    self.last_sent = Instant::now();
                    return Some(Ok(item));
                }
                Ok(None) => {}
                Err(err) => {
                    self.done = true;
                    return Some(Err(err));
                }
            }
        }
    }

    /// Queues the next page of history after the cursor.
    async fn replay_page(&mut self) -> Result<(), StorageError> {
        let prefix = self.prefix.clone();
        let after = self.cursor;
        let page = self
            .reader
            .run(move |conn| reader::history_page(conn, &prefix, after, REPLAY_PAGE))
            .await?;
        self.pending.extend(page.events);
        self.cursor = self.cursor.max(page.through);
        if page.complete {
            self.replaying = false;
        }
        Ok(())
    }

    /// Waits for live events (queued into `pending`) or a due progress notification.
    async fn wait_live(&mut self) -> Result<Option<WatchItem>, StorageError> {
        let live = match self.progress {
            Some(interval) => {
                let due = self.last_sent + interval;
                tokio::select! {
                    received = self.live.recv() => Live::Received(received),
                    () = tokio::time::sleep_until(due) => Live::ProgressDue,
                }
            }
            None => Live::Received(self.live.recv().await),
        };
        match live {
            Live::Received(Ok(batch)) => {
                self.take(&batch);
                Ok(None)
            }
            Live::Received(Err(RecvError::Lagged(missed))) => {
                tracing::debug!(missed, "watcher fell behind; replaying from the log");
                self.replaying = true;
                Ok(None)
            }
            Live::Received(Err(RecvError::Closed)) => Err(closed()),
            Live::ProgressDue => self.progress_due(),
        }
    }

    /// A progress notification at the newest revision this watcher has provably seen all of,
    /// or nothing if events of its own turn out to be waiting.
    fn progress_due(&mut self) -> Result<Option<WatchItem>, StorageError> {
        // Read before looking at the channel: everything up to `published` was sent before it
        // was stored, so an empty channel means it has all been received.
        let published = self.revisions.published();
        match self.live.try_recv() {
            // Events for other prefixes keep flowing: the cursor covers this batch, so a
            // progress notification at it is true as long as nothing of ours is queued.
            Ok(batch) => {
                self.take(&batch);
                Ok(self
                    .pending
                    .is_empty()
                    .then_some(WatchItem::Progress(self.cursor)))
            }
            Err(TryRecvError::Empty) => {
                self.cursor = self.cursor.max(published);
                Ok(Some(WatchItem::Progress(self.cursor)))
            }
            Err(TryRecvError::Lagged(_)) => {
                self.replaying = true;
                Ok(None)
            }
            Err(TryRecvError::Closed) => Err(closed()),
        }
    }

    /// Queues a live batch's new events under the prefix and moves the cursor past it.
    fn take(&mut self, batch: &EventBatch) {
        for event in batch.iter() {
            if event.revision() > self.cursor && event.kv.key.starts_with(&self.prefix) {
                self.pending.push_back(event.clone());
            }
        }
        if let Some(last) = batch.last() {
            self.cursor = self.cursor.max(last.revision());
        }
    }
}

fn closed() -> StorageError {
    StorageError::Unavailable("storage closed".into())
}

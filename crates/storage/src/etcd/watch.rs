//! Watches: one etcd watch stream per [`Storage::watch`](crate::Storage::watch), mapped to
//! [`WatchItem`]s.
//!
//! The etcd watch starts at `after + 1` over the prefix's key range, with `prev_kv` (deletes
//! carry the last state, updates the previous value) and, when progress is asked for, with
//! `progress_notify`. A put is `Created` when the key's create and mod revisions are equal,
//! `Updated` otherwise; a delete is `Deleted` with the previous key value as `kv` at the
//! deletion's revision. A start revision etcd has compacted ends the stream with
//! [`StorageError::Compacted`] carrying etcd's compact revision.
//!
//! **Progress.** etcd sends its own progress notifications only every
//! `--experimental-watch-progress-notify-interval` (10 min by default), so a watch asked for
//! progress also sends a progress request every
//! [`EtcdConfig::progress_interval`](super::EtcdConfig::progress_interval). etcd before 3.4.31
//! and 3.5.8 (Debian's 3.4.23 among them) may answer such a request *before* sending events it
//! already has for the watcher (etcd-io/etcd#15220). To keep a `Progress(rev)` from overtaking
//! an event at or below `rev`, the answer is not trusted at once: a second request is sent, and
//! only when its answer arrives is the first revision reported (events the server held back
//! come before that second answer in practice). Fixed etcd versions need no such care, and it
//! costs them one extra round trip per interval. Notifications from etcd's own
//! `progress_notify` travel with the events and are reported directly.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use etcd_client::proto::{PbEvent, PbWatchResponse};
use etcd_client::{
    EventType as PbEventType, WatchOptions, WatchRequestSender, WatchResponseStream,
};
use futures::StreamExt;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::convert::{self, header_revision, prefix_range};
use super::errors::{self, timed};
use super::Inner;
use crate::{EventType, KeyValue, Revision, StorageError, WatchEvent, WatchItem, WatchStream};

/// The watch id etcd puts on answers to progress requests (not tied to one watcher).
const PROGRESS_RESPONSE_ID: i64 = -1;

/// Opens a watch on `prefix` for events after `after`.
pub(crate) async fn watch(
    inner: &Arc<Inner>,
    prefix: &str,
    after: Revision,
    progress: bool,
) -> Result<WatchStream, StorageError> {
    let after = after.max(0);
    let compacted = inner.compacted();
    if after < compacted {
        return Err(StorageError::Compacted {
            requested: after,
            compacted,
        });
    }
    let (key, end) = prefix_range(prefix);
    let mut options = WatchOptions::new()
        .with_range(end)
        .with_start_revision(after.saturating_add(1))
        .with_prev_key();
    if progress {
        options = options.with_progress_notify();
    }
    let timeout = inner.config.request_timeout;
    let cx = inner.error_context(after, 0);
    let mut client = inner.watch.clone();
    let stream = timed("watch", timeout, &cx, client.watch(key, Some(options))).await?;
    let (sender, responses) = stream.split();
    let interval = inner.config.progress_interval;
    let ticker = (progress && !interval.is_zero()).then(|| {
        let mut ticker = tokio::time::interval_at(Instant::now() + interval, interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticker
    });
    let mut watcher = Watcher {
        inner: Arc::clone(inner),
        sender,
        responses,
        after,
        cursor: after,
        pending: VecDeque::new(),
        ticker,
        interval,
        unconfirmed: None,
        requested_at: None,
        created: false,
        done: false,
    };
    // Wait for etcd's answer to the create request, so that failing set-ups fail here.
    match tokio::time::timeout(timeout, watcher.await_created()).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => return Err(err),
        Err(_) => {
            return Err(StorageError::Timeout(format!(
                "etcd did not confirm a watch within {timeout:?}"
            )))
        }
    }
    Ok(Box::pin(futures::stream::unfold(
        watcher,
        |mut watcher| async move {
            let item = watcher.next_item().await?;
            Some((item, watcher))
        },
    )))
}

/// The state of one watch stream.
struct Watcher {
    inner: Arc<Inner>,
    sender: WatchRequestSender,
    responses: WatchResponseStream,
    /// The revision the watch started after.
    after: Revision,
    /// Every event up to here has been queued; progress never goes below it.
    cursor: Revision,
    pending: VecDeque<WatchItem>,
    /// Sends progress requests, when progress was asked for.
    ticker: Option<Interval>,
    interval: Duration,
    /// A progress answer waiting for the confirming second answer (see the module docs).
    unconfirmed: Option<Revision>,
    /// When the outstanding progress request went out.
    requested_at: Option<Instant>,
    /// etcd confirmed the watch.
    created: bool,
    /// An error ended the stream.
    done: bool,
}

/// What woke a watcher up.
enum Wake {
    Response(Option<Result<etcd_client::WatchResponse, etcd_client::Error>>),
    Tick,
}

impl Watcher {
    async fn next_item(&mut self) -> Option<Result<WatchItem, StorageError>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(Ok(item));
            }
            if self.done {
                return None;
            }
            if let Err(err) = self.step().await {
                self.done = true;
                return Some(Err(err));
            }
        }
    }

    /// Reads responses until etcd confirms the watch (or fails it).
    async fn await_created(&mut self) -> Result<(), StorageError> {
        while !self.created {
            let response = self.responses.next().await;
            self.on_response(response).await?;
        }
        Ok(())
    }

    /// Waits for one response or a progress tick and handles it.
    async fn step(&mut self) -> Result<(), StorageError> {
        let wake = {
            let responses = &mut self.responses;
            let ticker = &mut self.ticker;
            tokio::select! {
                response = responses.next() => Wake::Response(response),
                () = tick(ticker) => Wake::Tick,
            }
        };
        match wake {
            Wake::Response(response) => self.on_response(response).await,
            Wake::Tick => self.on_tick().await,
        }
    }

    async fn on_response(
        &mut self,
        response: Option<Result<etcd_client::WatchResponse, etcd_client::Error>>,
    ) -> Result<(), StorageError> {
        match response {
            None => Err(StorageError::Unavailable(
                "etcd closed the watch stream".to_owned(),
            )),
            Some(Err(err)) => Err(errors::from_client(
                err,
                &self.inner.error_context(self.after, 0),
            )),
            Some(Ok(response)) => self.on_message(response.0).await,
        }
    }

    async fn on_message(&mut self, message: PbWatchResponse) -> Result<(), StorageError> {
        if message.compact_revision > 0 {
            self.inner.note_compacted(message.compact_revision);
            return Err(StorageError::Compacted {
                requested: self.after,
                compacted: message.compact_revision,
            });
        }
        if message.canceled {
            return Err(cancelled(&message.cancel_reason, &self.inner, self.after));
        }
        if message.created {
            self.created = true;
            return Ok(());
        }
        if !message.events.is_empty() {
            for event in message.events {
                let event = to_event(event)?;
                self.cursor = self.cursor.max(event.revision());
                self.pending.push_back(WatchItem::Event(event));
            }
            return Ok(());
        }
        let revision = header_revision(message.header.as_ref())?;
        if message.watch_id == PROGRESS_RESPONSE_ID {
            self.on_progress_answer(revision).await
        } else {
            // etcd's own progress_notify, sent in order with the watcher's events.
            self.report_progress(revision);
            Ok(())
        }
    }

    /// An answer to a progress request: hold the first, report it on the second.
    async fn on_progress_answer(&mut self, revision: Revision) -> Result<(), StorageError> {
        self.requested_at = None;
        match self.unconfirmed.take() {
            Some(confirmed) => {
                self.report_progress(confirmed);
                Ok(())
            }
            None => {
                self.unconfirmed = Some(revision);
                self.request_progress().await
            }
        }
    }

    async fn on_tick(&mut self) -> Result<(), StorageError> {
        if let Some(at) = self.requested_at {
            if at.elapsed() < self.interval.saturating_mul(2) {
                return Ok(()); // still waiting for the answer
            }
            // The answer got lost (or the server ignores progress requests): start over.
            self.unconfirmed = None;
        }
        self.request_progress().await
    }

    async fn request_progress(&mut self) -> Result<(), StorageError> {
        self.requested_at = Some(Instant::now());
        self.sender
            .request_progress()
            .await
            .map_err(|err| errors::from_client(err, &self.inner.error_context(self.after, 0)))
    }

    /// Queues `Progress(revision)` unless events at later revisions went out already.
    fn report_progress(&mut self, revision: Revision) {
        if revision >= self.cursor {
            self.cursor = revision;
            self.pending.push_back(WatchItem::Progress(revision));
        }
    }
}

/// Completes at the next tick, never without a ticker.
async fn tick(ticker: &mut Option<Interval>) {
    match ticker {
        Some(ticker) => {
            ticker.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Why etcd cancelled a watch, as an error.
fn cancelled(reason: &str, inner: &Inner, after: Revision) -> StorageError {
    if reason.is_empty() {
        return StorageError::Unavailable("etcd cancelled the watch".to_owned());
    }
    errors::from_status(tonic::Code::Unknown, reason, &inner.error_context(after, 0))
}

/// One etcd event as a watch event.
fn to_event(event: PbEvent) -> Result<WatchEvent, StorageError> {
    let Some(kv) = event.kv else {
        return Err(StorageError::Internal(
            "etcd watch event without a key value".to_owned(),
        ));
    };
    if event.r#type == PbEventType::Put as i32 {
        let kv = convert::key_value(kv);
        if kv.create_revision == kv.mod_revision {
            return Ok(WatchEvent {
                event_type: EventType::Created,
                kv,
                prev_value: None,
            });
        }
        return Ok(WatchEvent {
            event_type: EventType::Updated,
            kv,
            prev_value: event.prev_kv.map(|prev| Bytes::from(prev.value)),
        });
    }
    if event.r#type == PbEventType::Delete as i32 {
        // As upstream: a delete without its previous state (compacted away) cannot be told.
        let Some(prev) = event.prev_kv else {
            return Err(StorageError::Internal(format!(
                "etcd delete event for {} without the previous key value",
                convert::key_string(kv.key)
            )));
        };
        let value = Bytes::from(prev.value);
        return Ok(WatchEvent {
            event_type: EventType::Deleted,
            kv: KeyValue {
                key: convert::key_string(kv.key),
                value: value.clone(),
                create_revision: prev.create_revision,
                mod_revision: kv.mod_revision,
            },
            prev_value: Some(value),
        });
    }
    Err(StorageError::Internal(format!(
        "etcd watch event of unknown type {}",
        event.r#type
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use etcd_client::proto::PbKeyValue;

    fn pb_kv(key: &str, value: &str, create: i64, modified: i64) -> PbKeyValue {
        PbKeyValue {
            key: key.as_bytes().to_vec(),
            value: value.as_bytes().to_vec(),
            create_revision: create,
            mod_revision: modified,
            version: 1,
            lease: 0,
        }
    }

    fn bytes(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn puts_and_deletes_map_to_events() {
        let created = to_event(PbEvent {
            r#type: PbEventType::Put as i32,
            kv: Some(pb_kv("/a", "1", 5, 5)),
            prev_kv: None,
        });
        assert_eq!(
            created.map(|e| (e.event_type, e.prev_value)),
            Ok((EventType::Created, None))
        );
        let updated = to_event(PbEvent {
            r#type: PbEventType::Put as i32,
            kv: Some(pb_kv("/a", "2", 5, 6)),
            prev_kv: Some(pb_kv("/a", "1", 5, 5)),
        });
        assert_eq!(
            updated.map(|e| (e.event_type, e.prev_value)),
            Ok((EventType::Updated, Some(bytes("1"))))
        );
        let deleted = to_event(PbEvent {
            r#type: PbEventType::Delete as i32,
            kv: Some(pb_kv("/a", "", 0, 7)),
            prev_kv: Some(pb_kv("/a", "2", 5, 6)),
        });
        assert_eq!(
            deleted,
            Ok(WatchEvent {
                event_type: EventType::Deleted,
                kv: KeyValue {
                    key: "/a".into(),
                    value: bytes("2"),
                    create_revision: 5,
                    mod_revision: 7,
                },
                prev_value: Some(bytes("2")),
            })
        );
    }

    #[test]
    fn malformed_events_are_errors() {
        let unknown = to_event(PbEvent {
            r#type: 9,
            kv: Some(pb_kv("/a", "1", 5, 5)),
            prev_kv: None,
        });
        assert!(matches!(unknown, Err(StorageError::Internal(_))));
        let without_kv = to_event(PbEvent {
            r#type: 0,
            kv: None,
            prev_kv: None,
        });
        assert!(matches!(without_kv, Err(StorageError::Internal(_))));
        let delete_without_prev = to_event(PbEvent {
            r#type: PbEventType::Delete as i32,
            kv: Some(pb_kv("/a", "", 0, 7)),
            prev_kv: None,
        });
        assert!(matches!(
            delete_without_prev,
            Err(StorageError::Internal(_))
        ));
    }
}

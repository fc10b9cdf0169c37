//! WATCH on the generic store: initial events, selector transitions, bookmarks, 410 Gone.

use futures::StreamExt;
use serde_json::{json, Value};
use storage::{EventType, ListOptions, WatchItem};
use tokio::sync::mpsc;

use apimachinery::errors::ApiError;

use super::list_options::{ListParams, RvMatch};
use super::meta;
use super::store::{storage_error, Store};

/// Events buffered per watcher between the storage watch and the HTTP writer.
const WATCH_BUFFER: usize = 1024;

/// One event of a watch, before encoding.
#[derive(Debug, Clone)]
pub enum WatchOut {
    Added(Value),
    Modified(Value),
    Deleted(Value),
    /// A bookmark at this resourceVersion; `true` marks the end of the initial events.
    Bookmark(String, bool),
    /// An error that ends the watch (e.g. 410 Expired).
    Error(ApiError),
}

impl WatchOut {
    /// The event `type` on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            WatchOut::Added(_) => "ADDED",
            WatchOut::Modified(_) => "MODIFIED",
            WatchOut::Deleted(_) => "DELETED",
            WatchOut::Bookmark(..) => "BOOKMARK",
            WatchOut::Error(_) => "ERROR",
        }
    }
}

/// The receiving end of a watch: events in order; the channel closes when the watch ends.
pub type WatchReceiver = mpsc::Receiver<WatchOut>;

impl Store {
    /// Starts a watch of one namespace (or all), as the query parameters ask.
    pub async fn watch(
        &self,
        namespace: &str,
        params: &ListParams,
    ) -> Result<WatchReceiver, ApiError> {
        self.check_field_selector(params)?;
        let rv = params.revision()?;
        if params.send_initial_events == Some(true) {
            if params.rv_match != Some(RvMatch::NotOlderThan) && rv.is_some() {
                return Err(ApiError::bad_request(
                    "sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan",
                ));
            }
            if !params.allow_watch_bookmarks {
                return Err(ApiError::bad_request(
                    "sendInitialEvents is forbidden for watch unless allowWatchBookmarks is set to true",
                ));
            }
        }
        let legacy_initial = matches!(rv, None | Some(0));
        let send_initial = params.send_initial_events.unwrap_or(legacy_initial);
        let prefix = self.list_prefix(namespace);
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);

        let mut initial = Vec::new();
        let start = if send_initial {
            let res = self
                .storage()
                .list(&prefix, ListOptions::default())
                .await
                .map_err(|e| storage_error(&self.decl, "", e))?;
            for kv in &res.items {
                let obj = self.decode(&kv.value, kv.mod_revision)?;
                if self.matches(&obj, params) {
                    initial.push(WatchOut::Added(obj));
                }
            }
            if params.send_initial_events == Some(true) {
                initial.push(WatchOut::Bookmark(res.revision.to_string(), true));
            }
            res.revision
        } else {
            match rv {
                Some(r) if r > 0 => r,
                _ => self
                    .storage()
                    .current_revision()
                    .await
                    .map_err(|e| storage_error(&self.decl, "", e))?,
            }
        };
        let stream = self
            .storage()
            .watch(&prefix, start, params.allow_watch_bookmarks)
            .await;
        let store = self.clone();
        let params = params.clone();
        tokio::spawn(async move {
            for ev in initial {
                if tx.send(ev).await.is_err() {
                    return;
                }
            }
            let mut stream = match stream {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx
                        .send(WatchOut::Error(storage_error(&store.decl, "", e)))
                        .await;
                    return;
                }
            };
            while let Some(item) = stream.next().await {
                let out = match item {
                    Ok(WatchItem::Progress(rev)) => {
                        if !params.allow_watch_bookmarks {
                            continue;
                        }
                        Some(WatchOut::Bookmark(rev.to_string(), false))
                    }
                    Ok(WatchItem::Event(ev)) => store.translate(&ev, &params),
                    Err(e) => {
                        let _ = tx
                            .send(WatchOut::Error(storage_error(&store.decl, "", e)))
                            .await;
                        return;
                    }
                };
                if let Some(out) = out {
                    if tx.send(out).await.is_err() {
                        return;
                    }
                }
            }
        });
        Ok(rx)
    }

    /// Turns a storage event into the event this watcher sees, given its selectors: an
    /// object that starts or stops matching is ADDED or DELETED, as upstream's cacher does.
    fn translate(&self, ev: &storage::WatchEvent, params: &ListParams) -> Option<WatchOut> {
        let rev = ev.revision();
        let decode = |bytes: &[u8]| self.decode(bytes, rev).ok();
        match ev.event_type {
            EventType::Deleted => {
                let obj = decode(&ev.kv.value)?;
                self.matches(&obj, params).then_some(WatchOut::Deleted(obj))
            }
            EventType::Created => {
                let obj = decode(&ev.kv.value)?;
                self.matches(&obj, params).then_some(WatchOut::Added(obj))
            }
            EventType::Updated => {
                let obj = decode(&ev.kv.value)?;
                let now = self.matches(&obj, params);
                let before = ev
                    .prev_value
                    .as_ref()
                    .and_then(|p| decode(p))
                    .map(|old| self.matches(&old, params))
                    .unwrap_or(true);
                match (before, now) {
                    (true, true) => Some(WatchOut::Modified(obj)),
                    (false, true) => Some(WatchOut::Added(obj)),
                    (true, false) => {
                        let mut gone = ev
                            .prev_value
                            .as_ref()
                            .and_then(|p| decode(p))
                            .unwrap_or(obj);
                        meta::set_meta(&mut gone, "resourceVersion", Some(json!(rev.to_string())));
                        Some(WatchOut::Deleted(gone))
                    }
                    (false, false) => None,
                }
            }
        }
    }
}

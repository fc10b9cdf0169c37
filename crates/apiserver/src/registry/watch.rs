//! WATCH on the generic store: initial events, selector transitions, bookmarks, 410 Gone.
//! Served from the watch cache when the resource has one (each event encoded once and
//! shared by every watcher), from storage otherwise.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;
use storage::{EventType, ListOptions, Revision, WatchItem};
use tokio::sync::mpsc;

use apimachinery::errors::ApiError;

use super::cacher::{CacheWatch, CachedEvent, CachedObject, Cacher, Notice, WatchScope};
use super::encoding::with_resource_version;
use super::list_options::{ListParams, RvMatch};
use super::meta;
use super::store::{storage_error, Store};

/// Events buffered per watcher between the event source and the HTTP writer.
const WATCH_BUFFER: usize = 1024;
/// Least time between two bookmarks sent to one watcher.
const BOOKMARK_EVERY: Duration = Duration::from_secs(1);

/// One event of a watch, before encoding. Objects are wire JSON (resourceVersion included).
#[derive(Debug, Clone)]
pub enum WatchOut {
    Added(Bytes),
    Modified(Bytes),
    Deleted(Bytes),
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

/// Where a watch starts, from its query parameters.
struct Start {
    /// Send the current state first (as ADDED events).
    initial: bool,
    /// Mark the end of the initial state with a bookmark (`sendInitialEvents=true`).
    initial_bookmark: bool,
    /// The revision after which events are wanted (`None`: from the current state).
    after: Option<Revision>,
    /// A consistent start (`resourceVersion` unset): the state must be current.
    consistent: bool,
}

fn start_of(params: &ListParams) -> Result<Start, ApiError> {
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
    let initial = params.send_initial_events.unwrap_or(legacy_initial);
    Ok(Start {
        initial,
        initial_bookmark: params.send_initial_events == Some(true),
        after: if initial { None } else { rv.filter(|r| *r > 0) },
        consistent: rv.is_none(),
    })
}

impl Store {
    /// Starts a watch of one namespace (or all), as the query parameters ask.
    pub async fn watch(
        &self,
        namespace: &str,
        params: &ListParams,
    ) -> Result<WatchReceiver, ApiError> {
        if let Some(v) = self.served() {
            return v.watch(namespace, params).await;
        }
        self.check_field_selector(params)?;
        let start = start_of(params)?;
        let prefix = self.list_prefix(namespace);
        if let Some(cacher) = self.cacher() {
            if start.consistent && start.initial {
                // A consistent start: the cache must have caught up with storage.
                cacher.wait_consistent(Duration::from_secs(3)).await;
            }
            let scope = self.watch_scope(cacher, namespace, params);
            if let Some(registered) = self.cache_watch(&scope, start.after).await {
                return match registered {
                    Ok(w) => Ok(self.spawn_cache_watch(w, start, params)),
                    Err(e) => Ok(error_watch(e)),
                };
            }
        }
        self.storage_watch(&prefix, start, params).await
    }

    /// What the cache may file a watch under: its namespace (from the path, or pinned by
    /// the field selector), the name and the trigger value the field selector pins.
    fn watch_scope(&self, cacher: &Cacher, namespace: &str, params: &ListParams) -> WatchScope {
        let pinned = |field: &str| {
            params
                .field_selector
                .as_ref()
                .and_then(|sel| sel.requires_exact_match(field))
        };
        let namespace = match pinned("metadata.namespace") {
            Some(ns) if namespace.is_empty() && !ns.contains('/') => ns,
            _ => namespace,
        };
        WatchScope {
            prefix: self.list_prefix(namespace),
            name: pinned("metadata.name").map(str::to_string),
            trigger: cacher.trigger_field().and_then(pinned).map(str::to_string),
        }
    }

    /// Feeds a watcher from the cache.
    fn spawn_cache_watch(&self, w: CacheWatch, start: Start, params: &ListParams) -> WatchReceiver {
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        let store = self.clone();
        let params = params.clone();
        tokio::spawn(async move {
            let CacheWatch {
                initial,
                replay,
                rx: mut notices,
                overflowed,
                revision,
                registration,
            } = w;
            // Unregistered from the cache when this task ends.
            let _registration = registration;
            if start.initial {
                for obj in initial {
                    if store.object_matches(&obj, &params)
                        && tx.send(WatchOut::Added(obj.wire.clone())).await.is_err()
                    {
                        return;
                    }
                }
                if start.initial_bookmark
                    && tx
                        .send(WatchOut::Bookmark(revision.to_string(), true))
                        .await
                        .is_err()
                {
                    return;
                }
            }
            for ev in replay {
                if let Some(out) = store.translate_cached(&ev, &params) {
                    if tx.send(out).await.is_err() {
                        return;
                    }
                }
            }
            let mut last_bookmark = Instant::now();
            loop {
                // A watcher whose client left ends now, not at its next event: one filed
                // by a trigger value may not see an event for a long time.
                let notice = tokio::select! {
                    n = notices.recv() => n,
                    _ = tx.closed() => return,
                };
                let Some(notice) = notice else { break };
                let out = match notice {
                    Notice::Event(ev) => store.translate_cached(&ev, &params),
                    Notice::Progress(rev) => (params.allow_watch_bookmarks
                        && last_bookmark.elapsed() >= BOOKMARK_EVERY)
                        .then(|| {
                            last_bookmark = Instant::now();
                            WatchOut::Bookmark(rev.to_string(), false)
                        }),
                };
                if let Some(out) = out {
                    if tx.send(out).await.is_err() {
                        return;
                    }
                }
            }
            if overflowed.load(Ordering::Acquire) {
                let _ = tx
                    .send(WatchOut::Error(ApiError::gone(
                        "the watch fell too far behind and was closed; start a new watch",
                    )))
                    .await;
            }
        });
        rx
    }

    fn object_matches(&self, obj: &CachedObject, params: &ListParams) -> bool {
        self.matches_cached(obj, params)
    }

    /// What this watcher sees of a cached event, given its selectors: an object that starts
    /// or stops matching is ADDED or DELETED, as upstream's cacher does.
    fn translate_cached(&self, ev: &Arc<CachedEvent>, params: &ListParams) -> Option<WatchOut> {
        let filtered = params.label_selector.is_some() || params.field_selector.is_some();
        let now = !filtered || self.object_matches(&ev.object, params);
        match ev.event_type {
            EventType::Deleted => now.then(|| WatchOut::Deleted(ev.object.wire.clone())),
            EventType::Created => now.then(|| WatchOut::Added(ev.object.wire.clone())),
            EventType::Updated => {
                let before = !filtered
                    || ev
                        .prev
                        .as_ref()
                        .is_none_or(|p| self.object_matches(p, params));
                match (before, now) {
                    (true, true) => Some(WatchOut::Modified(ev.object.wire.clone())),
                    (false, true) => Some(WatchOut::Added(ev.object.wire.clone())),
                    (true, false) => Some(WatchOut::Deleted(match &ev.prev {
                        Some(p) => with_resource_version(&strip_rv(&p.wire), ev.revision),
                        None => ev.object.wire.clone(),
                    })),
                    (false, false) => None,
                }
            }
        }
    }

    /// Watches storage directly (no cache, or the cache cannot serve the request).
    async fn storage_watch(
        &self,
        prefix: &str,
        start: Start,
        params: &ListParams,
    ) -> Result<WatchReceiver, ApiError> {
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        let mut initial = Vec::new();
        let from = if start.initial {
            let res = self
                .storage()
                .list(prefix, ListOptions::default())
                .await
                .map_err(|e| storage_error(&self.decl, "", e))?;
            for kv in &res.items {
                let wire = with_resource_version(&kv.value, kv.mod_revision);
                if self.wire_matches(&wire, params) {
                    initial.push(WatchOut::Added(wire));
                }
            }
            if start.initial_bookmark {
                initial.push(WatchOut::Bookmark(res.revision.to_string(), true));
            }
            res.revision
        } else {
            match start.after {
                Some(r) => r,
                None => self
                    .storage()
                    .current_revision()
                    .await
                    .map_err(|e| storage_error(&self.decl, "", e))?,
            }
        };
        let stream = self
            .storage()
            .watch(prefix, from, params.allow_watch_bookmarks)
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

    fn wire_matches(&self, wire: &[u8], params: &ListParams) -> bool {
        if params.label_selector.is_none() && params.field_selector.is_none() {
            return true;
        }
        serde_json::from_slice::<Value>(wire).is_ok_and(|obj| self.matches(&obj, params))
    }

    /// Turns a storage event into the event this watcher sees, given its selectors.
    fn translate(&self, ev: &storage::WatchEvent, params: &ListParams) -> Option<WatchOut> {
        let rev = ev.revision();
        let wire = with_resource_version(&ev.kv.value, rev);
        let now = self.wire_matches(&wire, params);
        match ev.event_type {
            EventType::Deleted => now.then_some(WatchOut::Deleted(wire)),
            EventType::Created => now.then_some(WatchOut::Added(wire)),
            EventType::Updated => {
                let prev = ev
                    .prev_value
                    .as_ref()
                    .map(|p| with_resource_version(p, rev));
                let before = prev.as_ref().is_none_or(|p| self.wire_matches(p, params));
                match (before, now) {
                    (true, true) => Some(WatchOut::Modified(wire)),
                    (false, true) => Some(WatchOut::Added(wire)),
                    (true, false) => Some(WatchOut::Deleted(prev.unwrap_or(wire))),
                    (false, false) => None,
                }
            }
        }
    }
}

/// Removes `metadata.resourceVersion` from wire JSON (to stamp another one).
fn strip_rv(wire: &[u8]) -> Bytes {
    match serde_json::from_slice::<Value>(wire) {
        Ok(mut obj) => {
            meta::set_meta(&mut obj, "resourceVersion", None);
            super::encoding::encode_canonical(&obj)
        }
        Err(_) => Bytes::copy_from_slice(wire),
    }
}

/// A watch that yields one error event and ends (e.g. 410 for a too-old version).
fn error_watch(e: ApiError) -> WatchReceiver {
    let (tx, rx) = mpsc::channel(1);
    let _ = tx.try_send(WatchOut::Error(e));
    rx
}

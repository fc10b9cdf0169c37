//! The watch cache (upstream's cacher): one storage watch per resource keeps the current
//! objects, as wire bytes ready to send, and a window of recent events in memory. Lists at
//! `resourceVersion=0`, consistent lists and watches are served from it; every event is
//! encoded once and shared by all watchers.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use apimachinery::schema::Message;
use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};
use storage::{EventType, ListOptions, Revision, Storage, StorageError, WatchItem};
use tokio::sync::{mpsc, watch};

use super::encoding::with_resource_version;

/// Items buffered per watcher; a watcher that falls this far behind is cut off.
pub const WATCHER_BUFFER: usize = 1000;
/// Pause before re-listing after the storage watch failed.
const RELIST_BACKOFF: Duration = Duration::from_millis(200);

/// One object version as the cache holds it.
#[derive(Debug)]
pub struct CachedObject {
    pub key: String,
    pub revision: Revision,
    /// The wire JSON, `resourceVersion` included.
    pub wire: Bytes,
    pub name: String,
    pub namespace: String,
    pub labels: Map<String, Value>,
    /// The protobuf message of `wire`, encoded the first time a client asks for it and
    /// shared by every later list (serialize once); `None` when it does not fit its type.
    protobuf: OnceLock<Option<Bytes>>,
}

/// A change, shared by every watcher it goes to.
#[derive(Debug)]
pub struct CachedEvent {
    pub event_type: EventType,
    pub revision: Revision,
    /// The new state (the last state, for deletions).
    pub object: Arc<CachedObject>,
    /// The state before (updates and deletions).
    pub prev: Option<Arc<CachedObject>>,
}

/// What a cache watcher receives.
#[derive(Debug, Clone)]
pub enum Notice {
    Event(Arc<CachedEvent>),
    /// Everything up to this revision has been delivered.
    Progress(Revision),
}

#[derive(Deserialize)]
struct MetaOnly {
    #[serde(default)]
    metadata: MetaFields,
}

#[derive(Deserialize, Default)]
struct MetaFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    labels: Option<Map<String, Value>>,
}

impl CachedObject {
    fn new(key: String, stored: &[u8], revision: Revision) -> CachedObject {
        let meta = serde_json::from_slice::<MetaOnly>(stored)
            .map(|m| m.metadata)
            .unwrap_or_default();
        CachedObject {
            key,
            revision,
            wire: with_resource_version(stored, revision),
            name: meta.name,
            namespace: meta.namespace,
            labels: meta.labels.unwrap_or_default(),
            protobuf: OnceLock::new(),
        }
    }

    /// The object's protobuf message (without envelope) as `schema` declares it, encoded
    /// once per cached version. A cache serves one resource, so `schema` is always the same.
    pub fn protobuf(&self, schema: &Message) -> Option<Bytes> {
        self.protobuf
            .get_or_init(|| {
                let value: Value = serde_json::from_slice(&self.wire).ok()?;
                apimachinery::protobuf::encode_message(schema, &value)
                    .ok()
                    .map(Bytes::from)
            })
            .clone()
    }
}

struct Watcher {
    prefix: String,
    tx: mpsc::Sender<Notice>,
    /// Set when the watcher fell behind and was cut off.
    overflowed: Arc<AtomicBool>,
}

#[derive(Default)]
struct State {
    /// The cache holds every change up to this revision.
    revision: Revision,
    objects: BTreeMap<String, Arc<CachedObject>>,
    events: VecDeque<Arc<CachedEvent>>,
    /// Watches may start after any revision at or above this one.
    oldest: Revision,
    watchers: Vec<Watcher>,
    ready: bool,
}

/// Why the cache cannot serve a watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheError {
    /// The revision is older than the cache's window.
    TooOld {
        requested: Revision,
        oldest: Revision,
    },
    /// The cache has not caught up (yet); the caller should use storage.
    NotReady,
}

/// The cache of one resource.
pub struct Cacher {
    key_root: String,
    storage: Arc<dyn Storage>,
    capacity: usize,
    state: Mutex<State>,
    /// The cache's revision; `None` while it is not ready (before the first list, and
    /// while it re-lists).
    revision: watch::Sender<Option<Revision>>,
}

/// A registered watch: the replayed events, then live notices.
pub struct CacheWatch {
    /// The state at `revision` (for watches that start with the current state).
    pub initial: Vec<Arc<CachedObject>>,
    pub replay: Vec<Arc<CachedEvent>>,
    pub rx: mpsc::Receiver<Notice>,
    pub overflowed: Arc<AtomicBool>,
    /// The cache's revision when the watch was registered.
    pub revision: Revision,
}

impl Cacher {
    /// Starts caching everything under `key_root`, keeping `capacity` recent events.
    pub fn start(storage: Arc<dyn Storage>, key_root: &str, capacity: usize) -> Arc<Cacher> {
        let cacher = Arc::new(Cacher {
            key_root: key_root.to_string(),
            storage,
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
            revision: watch::channel(None).0,
        });
        let weak = Arc::downgrade(&cacher);
        tokio::spawn(async move {
            loop {
                let Some(c) = weak.upgrade() else { return };
                if let Err(e) = c.reflect().await {
                    tracing::warn!(prefix = %c.key_root, "watch cache restarting: {e}");
                }
                drop(c);
                tokio::time::sleep(RELIST_BACKOFF).await;
            }
        });
        cacher
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lists, then follows the storage watch until it fails.
    async fn reflect(&self) -> Result<(), StorageError> {
        let listed = self
            .storage
            .list(&self.key_root, ListOptions::default())
            .await?;
        let mut stream = self
            .storage
            .watch(&self.key_root, listed.revision, true)
            .await?;
        {
            let mut st = self.lock();
            st.objects = listed
                .items
                .into_iter()
                .map(|kv| {
                    let obj = CachedObject::new(kv.key.clone(), &kv.value, kv.mod_revision);
                    (kv.key, Arc::new(obj))
                })
                .collect();
            st.events.clear();
            st.revision = listed.revision;
            st.oldest = listed.revision;
            // Watchers of the previous incarnation may have missed events: cut them off.
            for w in st.watchers.drain(..) {
                w.overflowed.store(true, Ordering::Release);
            }
            st.ready = true;
        }
        self.revision.send_replace(Some(listed.revision));
        while let Some(item) = stream.next().await {
            match item {
                Ok(WatchItem::Event(ev)) => self.apply(ev),
                Ok(WatchItem::Progress(rev)) => self.progress(rev),
                Err(e) => {
                    self.lock().ready = false;
                    self.revision.send_replace(None);
                    return Err(e);
                }
            }
        }
        self.lock().ready = false;
        self.revision.send_replace(None);
        Err(StorageError::Unavailable("storage watch ended".into()))
    }

    fn apply(&self, ev: storage::WatchEvent) {
        let revision = ev.revision();
        let object = Arc::new(CachedObject::new(ev.kv.key.clone(), &ev.kv.value, revision));
        let mut st = self.lock();
        let prev = match ev.event_type {
            EventType::Deleted => st.objects.remove(&ev.kv.key),
            _ => st.objects.insert(ev.kv.key.clone(), object.clone()),
        };
        let event = Arc::new(CachedEvent {
            event_type: ev.event_type,
            revision,
            object,
            prev,
        });
        st.events.push_back(event.clone());
        while st.events.len() > self.capacity {
            if let Some(old) = st.events.pop_front() {
                st.oldest = old.revision;
            }
        }
        st.revision = st.revision.max(revision);
        let key = &event.object.key;
        st.watchers.retain(|w| {
            if !key.starts_with(&w.prefix) {
                return !w.tx.is_closed();
            }
            match w.tx.try_send(Notice::Event(event.clone())) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    w.overflowed.store(true, Ordering::Release);
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        let rev = st.revision;
        drop(st);
        self.revision.send_replace(Some(rev));
    }

    fn progress(&self, rev: Revision) {
        let mut st = self.lock();
        if rev <= st.revision {
            return;
        }
        st.revision = rev;
        st.watchers
            .retain(|w| match w.tx.try_send(Notice::Progress(rev)) {
                Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => true,
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            });
        drop(st);
        self.revision.send_replace(Some(rev));
    }

    /// Waits until the cache has seen everything up to `rev`; false on timeout.
    pub async fn wait_for(&self, rev: Revision, timeout: Duration) -> bool {
        let mut rx = self.revision.subscribe();
        let caught_up = |r: &Option<Revision>| r.is_some_and(|r| r >= rev);
        let outcome = tokio::time::timeout(timeout, rx.wait_for(caught_up)).await;
        matches!(outcome, Ok(Ok(_)))
    }

    /// Waits until the cache is as fresh as storage is now (a consistent read).
    pub async fn wait_consistent(&self, timeout: Duration) -> bool {
        match self.storage.current_revision().await {
            Ok(rev) => self.wait_for(rev, timeout).await,
            Err(_) => false,
        }
    }

    /// The objects under `prefix` in key order, and the cache's revision.
    pub fn snapshot(&self, prefix: &str) -> Result<(Revision, Vec<Arc<CachedObject>>), CacheError> {
        let st = self.lock();
        if !st.ready {
            return Err(CacheError::NotReady);
        }
        let items = st
            .objects
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v.clone())
            .collect();
        Ok((st.revision, items))
    }

    /// The cached object at `key`, when the cache is ready and holds it.
    pub fn get(&self, key: &str) -> Option<Arc<CachedObject>> {
        self.lookup(key).ok().flatten()
    }

    /// The object at `key` as of the cache's revision (`None` when it does not exist then).
    pub fn lookup(&self, key: &str) -> Result<Option<Arc<CachedObject>>, CacheError> {
        let st = self.lock();
        if !st.ready {
            return Err(CacheError::NotReady);
        }
        Ok(st.objects.get(key).cloned())
    }

    /// Counts the objects cached (all of this resource).
    pub fn len(&self) -> usize {
        self.lock().objects.len()
    }

    /// Whether the cache holds no object.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Registers a watch of `prefix` that starts with the current state: the objects now,
    /// then every later event, with nothing in between lost.
    pub fn watch_current(&self, prefix: &str) -> Result<CacheWatch, CacheError> {
        let mut st = self.lock();
        if !st.ready {
            return Err(CacheError::NotReady);
        }
        let initial = st
            .objects
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v.clone())
            .collect();
        let revision = st.revision;
        let (rx, overflowed) = Self::register(&mut st, prefix);
        Ok(CacheWatch {
            initial,
            replay: Vec::new(),
            rx,
            overflowed,
            revision,
        })
    }

    fn register(st: &mut State, prefix: &str) -> (mpsc::Receiver<Notice>, Arc<AtomicBool>) {
        let (tx, rx) = mpsc::channel(WATCHER_BUFFER);
        let overflowed = Arc::new(AtomicBool::new(false));
        st.watchers.push(Watcher {
            prefix: prefix.to_string(),
            tx,
            overflowed: overflowed.clone(),
        });
        (rx, overflowed)
    }

    /// Registers a watch of `prefix` for every event after `after`.
    pub fn watch(&self, prefix: &str, after: Revision) -> Result<CacheWatch, CacheError> {
        let mut st = self.lock();
        if !st.ready {
            return Err(CacheError::NotReady);
        }
        if after < st.oldest {
            return Err(CacheError::TooOld {
                requested: after,
                oldest: st.oldest,
            });
        }
        if after > st.revision {
            return Err(CacheError::NotReady);
        }
        let replay: Vec<Arc<CachedEvent>> = st
            .events
            .iter()
            .filter(|e| e.revision > after && e.object.key.starts_with(prefix))
            .cloned()
            .collect();
        let revision = st.revision;
        let (rx, overflowed) = Self::register(&mut st, prefix);
        Ok(CacheWatch {
            initial: Vec::new(),
            replay,
            rx,
            overflowed,
            revision,
        })
    }
}

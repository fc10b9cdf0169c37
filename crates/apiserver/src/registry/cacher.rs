//! The watch cache (upstream's cacher): one storage watch per resource keeps the current
//! objects, as wire bytes ready to send, and a window of recent events in memory. Lists at
//! `resourceVersion=0`, consistent lists and watches are served from it; every event is
//! encoded once and shared by all watchers. Watchers are filed by what their selectors pin
//! (`cache_watchers`), so that a write wakes only the watchers it may concern.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use apimachinery::schema::Message;
use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};
use storage::{EventType, ListOptions, Revision, Storage, StorageError, WatchItem};
use tokio::sync::{mpsc, watch};

pub use super::cache_watchers::WatchScope;
use super::cache_watchers::WatcherSet;
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
    /// The value of the cache's trigger field (`None` when the cache has none).
    pub trigger: Option<String>,
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
    /// The cached form of stored bytes; with a trigger, the bytes are parsed once for its
    /// value (an object that does not parse has the value of `null`).
    pub(super) fn new(
        key: String,
        stored: &[u8],
        revision: Revision,
        trigger: Option<&Trigger>,
    ) -> CachedObject {
        let (meta, trigger) = match trigger {
            None => {
                let meta = serde_json::from_slice::<MetaOnly>(stored)
                    .map(|m| m.metadata)
                    .unwrap_or_default();
                (meta, None)
            }
            Some(t) => {
                let obj: Value = serde_json::from_slice(stored).unwrap_or(Value::Null);
                let value = (t.value_of)(&obj).unwrap_or_default();
                let meta = MetaOnly::deserialize(&obj)
                    .map(|m| m.metadata)
                    .unwrap_or_default();
                (meta, Some(value))
            }
        };
        CachedObject {
            key,
            revision,
            wire: with_resource_version(stored, revision),
            name: meta.name,
            namespace: meta.namespace,
            labels: meta.labels.unwrap_or_default(),
            trigger,
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

/// Reads one field's value from an object.
pub type FieldValueFn = Arc<dyn Fn(&Value) -> Option<String> + Send + Sync>;

/// The field a cache files watchers by (upstream's trigger function; one per resource, as
/// upstream allows): watchers whose field selector pins it with `=` are woken only by
/// events whose object has or had the pinned value.
#[derive(Clone)]
pub struct Trigger {
    /// The field selector label (pods: `spec.nodeName`).
    pub field: String,
    /// The field's value in an object, as field selectors see it (`None` compares as `""`).
    pub value_of: FieldValueFn,
}

impl std::fmt::Debug for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trigger")
            .field("field", &self.field)
            .finish()
    }
}

#[derive(Default)]
struct State {
    /// The cache holds every change up to this revision.
    revision: Revision,
    objects: BTreeMap<String, Arc<CachedObject>>,
    events: VecDeque<Arc<CachedEvent>>,
    /// Watches may start after any revision at or above this one.
    oldest: Revision,
    watchers: WatcherSet,
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
    me: Weak<Cacher>,
    key_root: String,
    trigger: Option<Trigger>,
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
    /// Keeps the watcher registered while the watch is served.
    pub registration: Registration,
}

/// A watcher's place in its cache; dropping it unregisters the watcher.
pub struct Registration {
    cacher: Weak<Cacher>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(cacher) = self.cacher.upgrade() {
            cacher.lock().watchers.remove(self.id);
        }
    }
}

impl Cacher {
    /// Starts caching everything under `key_root`, keeping `capacity` recent events, and
    /// filing watchers by `trigger` when there is one.
    pub fn start(
        storage: Arc<dyn Storage>,
        key_root: &str,
        capacity: usize,
        trigger: Option<Trigger>,
    ) -> Arc<Cacher> {
        let cacher = Arc::new_cyclic(|me| Cacher {
            me: me.clone(),
            key_root: key_root.to_string(),
            trigger,
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
                    let obj = CachedObject::new(
                        kv.key.clone(),
                        &kv.value,
                        kv.mod_revision,
                        self.trigger.as_ref(),
                    );
                    (kv.key, Arc::new(obj))
                })
                .collect();
            st.events.clear();
            st.revision = listed.revision;
            st.oldest = listed.revision;
            // Watchers of the previous incarnation may have missed events: cut them off.
            st.watchers.cut_off_all();
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
        let object = Arc::new(CachedObject::new(
            ev.kv.key.clone(),
            &ev.kv.value,
            revision,
            self.trigger.as_ref(),
        ));
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
        let triggers: Vec<&str> = [Some(&event.object), event.prev.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|o| o.trigger.as_deref())
            .collect();
        st.watchers.dispatch(&event, &triggers);
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
        st.watchers.progress(rev);
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

    /// The field this cache files watchers by, if any.
    pub fn trigger_field(&self) -> Option<&str> {
        self.trigger.as_ref().map(|t| t.field.as_str())
    }

    /// Counts the registered watchers.
    pub fn watcher_count(&self) -> usize {
        self.lock().watchers.len()
    }

    /// Registers a watch of `scope` that starts with the current state: the objects under
    /// its prefix now, then every later event it may concern, with nothing in between lost.
    pub fn watch_current(&self, scope: WatchScope) -> Result<CacheWatch, CacheError> {
        let mut st = self.lock();
        if !st.ready {
            return Err(CacheError::NotReady);
        }
        let initial = st
            .objects
            .range(scope.prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&scope.prefix))
            .map(|(_, v)| v.clone())
            .collect();
        let revision = st.revision;
        let (rx, overflowed, registration) = self.register(&mut st, scope);
        Ok(CacheWatch {
            initial,
            replay: Vec::new(),
            rx,
            overflowed,
            revision,
            registration,
        })
    }

    fn register(
        &self,
        st: &mut State,
        scope: WatchScope,
    ) -> (mpsc::Receiver<Notice>, Arc<AtomicBool>, Registration) {
        let (tx, rx) = mpsc::channel(WATCHER_BUFFER);
        let overflowed = Arc::new(AtomicBool::new(false));
        let id = st.watchers.add(scope, tx, overflowed.clone());
        let registration = Registration {
            cacher: self.me.clone(),
            id,
        };
        (rx, overflowed, registration)
    }

    /// Registers a watch of `scope` for every event after `after` under its prefix (the
    /// replayed ones are all of them; the live ones those it may concern).
    pub fn watch(&self, scope: WatchScope, after: Revision) -> Result<CacheWatch, CacheError> {
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
            .filter(|e| e.revision > after && e.object.key.starts_with(&scope.prefix))
            .cloned()
            .collect();
        let revision = st.revision;
        let (rx, overflowed, registration) = self.register(&mut st, scope);
        Ok(CacheWatch {
            initial: Vec::new(),
            replay,
            rx,
            overflowed,
            revision,
            registration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use storage::embedded::EmbeddedStore;

    fn node_trigger() -> Trigger {
        Trigger {
            field: "spec.nodeName".into(),
            value_of: Arc::new(|obj: &Value| {
                Some(obj["spec"]["nodeName"].as_str().unwrap_or("").to_string())
            }),
        }
    }

    fn pod(name: &str, node: &str) -> Bytes {
        let body =
            json!({"metadata": {"name": name, "namespace": "ns"}, "spec": {"nodeName": node}});
        Bytes::from(serde_json::to_vec(&body).unwrap())
    }

    fn on_node(node: &str) -> WatchScope {
        WatchScope {
            trigger: Some(node.into()),
            ..WatchScope::prefix("/pods/")
        }
    }

    /// The names and types of the events received within a short while.
    async fn received(w: &mut CacheWatch) -> Vec<(String, EventType)> {
        let mut out = Vec::new();
        while let Ok(Some(n)) = tokio::time::timeout(Duration::from_millis(300), w.rx.recv()).await
        {
            if let Notice::Event(e) = n {
                out.push((e.object.name.clone(), e.event_type));
            }
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn trigger_watchers_get_the_events_of_their_value_only() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> =
            Arc::new(EmbeddedStore::open(&dir.path().join("db")).unwrap());
        storage
            .create("/pods/ns/early", pod("early", "n1"))
            .await
            .unwrap();
        let cacher = Cacher::start(storage.clone(), "/pods/", 100, Some(node_trigger()));
        assert!(cacher.wait_consistent(Duration::from_secs(5)).await);
        assert_eq!(cacher.trigger_field(), Some("spec.nodeName"));
        let cached = cacher.get("/pods/ns/early").expect("cached");
        assert_eq!(cached.trigger.as_deref(), Some("n1"));

        let mut n1 = cacher.watch_current(on_node("n1")).unwrap();
        let mut n2 = cacher.watch_current(on_node("n2")).unwrap();
        let mut unscheduled = cacher.watch_current(on_node("")).unwrap();
        let mut all = cacher.watch_current(WatchScope::prefix("/pods/")).unwrap();
        assert_eq!(n1.initial.len(), 1, "the initial state is the prefix's");
        assert_eq!(cacher.watcher_count(), 4);

        let rev = storage.create("/pods/ns/p", pod("p", "")).await.unwrap();
        let rev = storage
            .update("/pods/ns/p", rev, pod("p", "n2"))
            .await
            .unwrap();
        let rev = storage
            .update("/pods/ns/p", rev, pod("p", "n1"))
            .await
            .unwrap();
        storage.delete("/pods/ns/p", Some(rev)).await.unwrap();
        storage.create("/pods/ns/q", pod("q", "n2")).await.unwrap();

        use EventType::*;
        let p = |t| ("p".to_string(), t);
        let q = |t| ("q".to_string(), t);
        assert_eq!(received(&mut n1).await, vec![p(Updated), p(Deleted)]);
        assert_eq!(
            received(&mut n2).await,
            vec![p(Updated), p(Updated), q(Created)]
        );
        assert_eq!(
            received(&mut unscheduled).await,
            vec![p(Created), p(Updated)]
        );
        assert_eq!(
            received(&mut all).await,
            vec![p(Created), p(Updated), p(Updated), p(Deleted), q(Created)]
        );

        // A watch's registration ends with it.
        drop(n1);
        drop(all);
        assert_eq!(cacher.watcher_count(), 2);
    }
}

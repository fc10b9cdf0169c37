//! The watchers of one watch cache, filed so that an event wakes only the watchers it may
//! concern, as upstream's cacher files them: by key prefix (a namespace, or all), by object
//! name when the field selector pins `metadata.name`, and by trigger value when it pins the
//! resource's trigger field (pods: `spec.nodeName`). A watcher filed by trigger value gets
//! every event whose object had or has that value, so an object that leaves the value is
//! seen leaving. Which events a watcher then passes on is still decided by its selectors.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use storage::Revision;
use tokio::sync::mpsc;

use super::cacher::{CachedEvent, Notice};

/// What the cache knows of the events a watcher wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchScope {
    /// The objects whose keys start with this (a key root or a namespace's, ending in `/`).
    pub prefix: String,
    /// Only the object of this name (an `=` term on `metadata.name`).
    pub name: Option<String>,
    /// Only objects whose trigger field has or had this value (an `=` term on the cache's
    /// trigger field).
    pub trigger: Option<String>,
}

impl WatchScope {
    /// Every object under `prefix`.
    pub fn prefix(prefix: &str) -> WatchScope {
        WatchScope {
            prefix: prefix.to_string(),
            ..WatchScope::default()
        }
    }

    /// Whether an object with this key and name is within the prefix and name.
    fn admits(&self, key: &str, name: &str) -> bool {
        key.starts_with(&self.prefix) && self.name.as_deref().is_none_or(|n| n == name)
    }
}

struct Watcher {
    scope: WatchScope,
    tx: mpsc::Sender<Notice>,
    /// Set when the watcher fell behind and was cut off.
    overflowed: Arc<AtomicBool>,
}

impl Watcher {
    /// Offers an event; false when the watcher is to be dropped (gone, or cut off because
    /// its buffer is full).
    fn offer(&self, event: &Arc<CachedEvent>) -> bool {
        match self.tx.try_send(Notice::Event(event.clone())) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.overflowed.store(true, Ordering::Release);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

type Group = HashMap<u64, Watcher>;

/// Where a watcher is filed (to remove it by id).
enum Slot {
    Prefix(String),
    Named(String, String),
    Trigger(String),
    /// A prefix that does not end in `/`: checked against every event.
    Other,
}

/// The registered watchers of one cache.
#[derive(Default)]
pub(super) struct WatcherSet {
    next_id: u64,
    by_prefix: HashMap<String, Group>,
    /// Prefix, then name.
    by_name: HashMap<String, HashMap<String, Group>>,
    by_trigger: HashMap<String, Group>,
    other: Group,
    slots: HashMap<u64, Slot>,
}

impl WatcherSet {
    /// Files a watcher; the id removes it.
    pub(super) fn add(
        &mut self,
        scope: WatchScope,
        tx: mpsc::Sender<Notice>,
        overflowed: Arc<AtomicBool>,
    ) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let slot = match (&scope.trigger, &scope.name) {
            (Some(value), _) => Slot::Trigger(value.clone()),
            _ if !scope.prefix.ends_with('/') => Slot::Other,
            (None, Some(name)) => Slot::Named(scope.prefix.clone(), name.clone()),
            (None, None) => Slot::Prefix(scope.prefix.clone()),
        };
        let watcher = Watcher {
            scope,
            tx,
            overflowed,
        };
        let group = match &slot {
            Slot::Prefix(p) => self.by_prefix.entry(p.clone()).or_default(),
            Slot::Named(p, n) => self
                .by_name
                .entry(p.clone())
                .or_default()
                .entry(n.clone())
                .or_default(),
            Slot::Trigger(v) => self.by_trigger.entry(v.clone()).or_default(),
            Slot::Other => &mut self.other,
        };
        group.insert(id, watcher);
        self.slots.insert(id, slot);
        id
    }

    /// Removes a watcher (nothing if it is gone already).
    pub(super) fn remove(&mut self, id: u64) {
        let Some(slot) = self.slots.remove(&id) else {
            return;
        };
        match slot {
            Slot::Prefix(p) => remove_from(&mut self.by_prefix, &p, id),
            Slot::Named(p, n) => {
                if let Some(names) = self.by_name.get_mut(&p) {
                    remove_from(names, &n, id);
                    if names.is_empty() {
                        self.by_name.remove(&p);
                    }
                }
            }
            Slot::Trigger(v) => remove_from(&mut self.by_trigger, &v, id),
            Slot::Other => {
                self.other.remove(&id);
            }
        }
    }

    /// How many watchers are registered.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Sends an event to every watcher it may concern, dropping watchers that are gone or
    /// cut off. `triggers` are the trigger values of the event's object and of its previous
    /// state (empty when the cache has no trigger field). Returns how many were offered it.
    pub(super) fn dispatch(&mut self, event: &Arc<CachedEvent>, triggers: &[&str]) -> usize {
        let key = event.object.key.as_str();
        let name = event.object.name.as_str();
        let mut dropped = Vec::new();
        let mut offered = 0;
        let mut offer_all = |group: &Group, check: bool| {
            for (id, w) in group {
                if check && !w.scope.admits(key, name) {
                    continue;
                }
                offered += 1;
                if !w.offer(event) {
                    dropped.push(*id);
                }
            }
        };
        // Every prefix of the key that ends in `/`: the root, the namespace.
        for (i, _) in key.match_indices('/') {
            let prefix = &key[..=i];
            if let Some(group) = self.by_prefix.get(prefix) {
                offer_all(group, false);
            }
            if let Some(group) = self.by_name.get(prefix).and_then(|names| names.get(name)) {
                offer_all(group, false);
            }
        }
        for (i, value) in triggers.iter().enumerate() {
            if triggers[..i].contains(value) {
                continue;
            }
            if let Some(group) = self.by_trigger.get(*value) {
                offer_all(group, true);
            }
        }
        offer_all(&self.other, true);
        for id in dropped {
            self.remove(id);
        }
        offered
    }

    /// Tells every watcher that everything up to `rev` was delivered; a watcher whose
    /// buffer is full just misses this notice.
    pub(super) fn progress(&mut self, rev: Revision) {
        let mut gone = Vec::new();
        for (id, w) in self.iter() {
            if let Err(mpsc::error::TrySendError::Closed(_)) = w.tx.try_send(Notice::Progress(rev))
            {
                gone.push(id);
            }
        }
        for id in gone {
            self.remove(id);
        }
    }

    /// Cuts every watcher off (they may have missed events) and forgets them.
    pub(super) fn cut_off_all(&mut self) {
        for (_, w) in self.iter() {
            w.overflowed.store(true, Ordering::Release);
        }
        *self = WatcherSet {
            next_id: self.next_id,
            ..WatcherSet::default()
        };
    }

    fn iter(&self) -> impl Iterator<Item = (u64, &Watcher)> {
        let named = self.by_name.values().flat_map(|names| names.values());
        self.by_prefix
            .values()
            .chain(named)
            .chain(self.by_trigger.values())
            .chain(std::iter::once(&self.other))
            .flat_map(|group| group.iter().map(|(id, w)| (*id, w)))
    }
}

fn remove_from(map: &mut HashMap<String, Group>, key: &str, id: u64) {
    if let Some(group) = map.get_mut(key) {
        group.remove(&id);
        if group.is_empty() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::cacher::{CachedObject, Trigger};
    use serde_json::{json, Value};
    use storage::EventType;

    fn node_trigger() -> Trigger {
        Trigger {
            field: "spec.nodeName".into(),
            value_of: Arc::new(|obj: &Value| {
                Some(obj["spec"]["nodeName"].as_str().unwrap_or("").to_string())
            }),
        }
    }

    fn pod(ns: &str, name: &str, node: &str, rev: Revision) -> Arc<CachedObject> {
        let body = json!({"metadata": {"name": name, "namespace": ns}, "spec": {"nodeName": node}});
        let bytes = serde_json::to_vec(&body).unwrap();
        let key = format!("/registry/pods/{ns}/{name}");
        Arc::new(CachedObject::new(key, &bytes, rev, Some(&node_trigger())))
    }

    fn event(
        event_type: EventType,
        object: Arc<CachedObject>,
        prev: Option<Arc<CachedObject>>,
    ) -> Arc<CachedEvent> {
        Arc::new(CachedEvent {
            event_type,
            revision: object.revision,
            object,
            prev,
        })
    }

    fn triggers(ev: &CachedEvent) -> Vec<&str> {
        [Some(&ev.object), ev.prev.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|o| o.trigger.as_deref())
            .collect()
    }

    struct Probe {
        rx: mpsc::Receiver<Notice>,
        overflowed: Arc<AtomicBool>,
        id: u64,
    }

    impl Probe {
        /// The revisions of the events received so far (progress notices as negative).
        fn drain(&mut self) -> Vec<i64> {
            let mut out = Vec::new();
            while let Ok(n) = self.rx.try_recv() {
                out.push(match n {
                    Notice::Event(e) => e.revision,
                    Notice::Progress(r) => -r,
                });
            }
            out
        }
    }

    fn watch(set: &mut WatcherSet, scope: WatchScope, buffer: usize) -> Probe {
        let (tx, rx) = mpsc::channel(buffer);
        let overflowed = Arc::new(AtomicBool::new(false));
        let id = set.add(scope, tx, overflowed.clone());
        Probe { rx, overflowed, id }
    }

    fn on_node(prefix: &str, node: &str) -> WatchScope {
        WatchScope {
            trigger: Some(node.into()),
            ..WatchScope::prefix(prefix)
        }
    }

    fn send(set: &mut WatcherSet, ev: &Arc<CachedEvent>) -> usize {
        let values = triggers(ev);
        set.dispatch(ev, &values)
    }

    #[test]
    fn an_event_wakes_only_the_watchers_it_may_concern() {
        let mut set = WatcherSet::default();
        let mut all = watch(&mut set, WatchScope::prefix("/registry/pods/"), 10);
        let mut ns_a = watch(&mut set, WatchScope::prefix("/registry/pods/a/"), 10);
        let mut ns_b = watch(&mut set, WatchScope::prefix("/registry/pods/b/"), 10);
        let mut node1 = watch(&mut set, on_node("/registry/pods/", "node-1"), 10);
        let mut node2 = watch(&mut set, on_node("/registry/pods/", "node-2"), 10);
        // Pinned to node-1 and namespace b: filed by node, checked by prefix.
        let mut node1_b = watch(&mut set, on_node("/registry/pods/b/", "node-1"), 10);
        let named = WatchScope {
            name: Some("p".into()),
            ..WatchScope::prefix("/registry/pods/a/")
        };
        let mut named = watch(&mut set, named, 10);
        let unscheduled = watch(&mut set, on_node("/registry/pods/", ""), 10);
        let mut unscheduled = unscheduled;
        assert_eq!(set.len(), 8);

        // A pod created in a on node-1.
        let p1 = pod("a", "p", "node-1", 10);
        assert_eq!(
            send(&mut set, &event(EventType::Created, p1.clone(), None)),
            4
        );
        // Moved to node-2: both nodes' watchers see it (one as leaving).
        let p2 = pod("a", "p", "node-2", 11);
        let moved = event(EventType::Updated, p2.clone(), Some(p1));
        assert_eq!(send(&mut set, &moved), 5);
        // Another pod in b, never scheduled.
        let q = pod("b", "q", "", 12);
        assert_eq!(send(&mut set, &event(EventType::Created, q, None)), 3);
        // Deleted from node-2.
        let gone = event(EventType::Deleted, pod("a", "p", "node-2", 13), Some(p2));
        assert_eq!(send(&mut set, &gone), 4);

        assert_eq!(all.drain(), vec![10, 11, 12, 13]);
        assert_eq!(ns_a.drain(), vec![10, 11, 13]);
        assert_eq!(ns_b.drain(), vec![12]);
        assert_eq!(node1.drain(), vec![10, 11]);
        assert_eq!(node2.drain(), vec![11, 13]);
        assert_eq!(node1_b.drain(), Vec::<i64>::new());
        assert_eq!(named.drain(), vec![10, 11, 13]);
        assert_eq!(unscheduled.drain(), vec![12]);

        // Progress reaches every watcher, filed anywhere.
        set.progress(20);
        assert_eq!(all.drain(), vec![-20]);
        assert_eq!(node1_b.drain(), vec![-20]);
        assert_eq!(named.drain(), vec![-20]);
    }

    #[test]
    fn watchers_leave_when_removed_gone_or_full() {
        let mut set = WatcherSet::default();
        let a = watch(&mut set, on_node("/registry/pods/", "n"), 10);
        let b = watch(&mut set, on_node("/registry/pods/", "n"), 1);
        let c = watch(&mut set, WatchScope::prefix("/registry/pods/"), 10);
        let d = watch(&mut set, WatchScope::prefix("/registry/pods"), 10);
        assert_eq!(set.len(), 4);
        set.remove(a.id);
        set.remove(a.id);
        assert_eq!(set.len(), 3);
        drop(c);
        // b takes one event, then is cut off at the second; c is gone.
        send(
            &mut set,
            &event(EventType::Created, pod("x", "p", "n", 1), None),
        );
        assert_eq!(set.len(), 2);
        assert!(!b.overflowed.load(Ordering::Acquire));
        send(
            &mut set,
            &event(EventType::Created, pod("x", "q", "n", 2), None),
        );
        assert!(b.overflowed.load(Ordering::Acquire));
        assert_eq!(set.len(), 1);
        // d's prefix does not end in `/`: checked against every event, and still served.
        set.cut_off_all();
        assert_eq!(set.len(), 0);
        assert!(d.overflowed.load(Ordering::Acquire));
        // Ids are not reused after a cut-off.
        let e = watch(&mut set, WatchScope::prefix("/registry/pods/"), 10);
        assert!(e.id > d.id);
    }
}

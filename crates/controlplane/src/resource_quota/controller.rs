//! Quota bookkeeping that upstream's kube-controller-manager does (its resourcequota
//! controller), done in this server because it runs without one (a deliberate difference;
//! see docs/architecture.md): every quota's `status.hard` follows `spec.hard`, and
//! `status.used` is recounted from storage when a quota is created or its limits change,
//! when objects in its namespace are deleted (deletes release quota) or a pod, Service or
//! claim comes to use something else, at start-up, and on a periodic resync.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use apimachinery::errors::ApiError;
use apiserver::registry::{meta, ListParams, Store};
use futures::StreamExt;
use serde_json::Value;
use storage::{EventType, Storage, WatchItem};
use tokio::sync::mpsc;

use super::access::{writer_context, QUOTAS};
use super::evaluators::{quota_scopes, Evaluator};
use super::usage::{self, Usage};

/// How often every quota is recounted (upstream's `--resource-quota-sync-period` is 5m;
/// this server has no informers to replenish from, so it resyncs more often).
const RESYNC: Duration = Duration::from_secs(60);

/// The field manager of the controller's status writes: upstream's controller runs in
/// kube-controller-manager, whose name its writes carry.
const CONTROLLER_MANAGER: &str = "kube-controller-manager";

/// The kinds whose updates can lower what they use (a pod finishing, a Service no longer
/// a NodePort, a claim's allocation): their updates are compared, not just their deletes.
const USAGE_CHANGES_ON_UPDATE: [&str; 3] = ["pods", "services", "persistentvolumeclaims"];

/// How long a recount that would lower usage waits for admitted writes still on their way
/// to storage before counting again.
const SETTLE: Duration = Duration::from_millis(1500);

/// How long changes are gathered before the namespaces they touch are recounted.
const BATCH: Duration = Duration::from_millis(50);

/// What needs recounting.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Dirty {
    All,
    Namespace(String),
}

/// The controller: the quotas' store and every namespaced store whose objects it counts.
pub struct QuotaController {
    quotas: Arc<Store>,
    /// Namespaced stores by qualified resource (`pods`, `deployments.apps`).
    stores: BTreeMap<String, Arc<Store>>,
    /// The backend under the stores, watched for the keys that change (values unread).
    storage: Arc<dyn Storage>,
}

impl QuotaController {
    /// A controller over the installed stores and their backend; `None` when quotas are
    /// not served.
    pub fn new(
        stores: &BTreeMap<String, Arc<Store>>,
        storage: Arc<dyn Storage>,
    ) -> Option<QuotaController> {
        let quotas = stores.get(QUOTAS)?.clone();
        let stores = stores
            .iter()
            .filter(|(qr, s)| s.decl.namespaced() && Evaluator::for_resource(qr).is_some())
            .map(|(qr, s)| (qr.clone(), s.clone()))
            .collect();
        Some(QuotaController {
            quotas,
            stores,
            storage,
        })
    }

    /// Runs until the process ends.
    pub async fn run(self) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Dirty>();
        let start = loop {
            match self.storage.current_revision().await {
                Ok(rev) => break rev,
                Err(e) => {
                    tracing::warn!("resource quota controller: reading the revision: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        let roots: Vec<(String, String)> = self
            .stores
            .iter()
            .map(|(qr, s)| (s.key_root().to_string(), qr.clone()))
            .collect();
        tokio::spawn(watch_keys(self.storage.clone(), roots, start, tx.clone()));
        tokio::spawn(watch_quotas(self.quotas.clone(), start, tx.clone()));
        for resource in USAGE_CHANGES_ON_UPDATE {
            if let (Some(store), Some(evaluator)) =
                (self.stores.get(resource), Evaluator::for_resource(resource))
            {
                tokio::spawn(watch_usage(store.clone(), evaluator, start, tx.clone()));
            }
        }
        drop(tx);
        let mut pending: BTreeSet<Dirty> = [Dirty::All].into();
        loop {
            if pending.contains(&Dirty::All) {
                self.sync_namespace("").await;
            } else {
                for d in &pending {
                    if let Dirty::Namespace(ns) = d {
                        self.sync_namespace(ns).await;
                    }
                }
            }
            pending.clear();
            tokio::select! {
                _ = tokio::time::sleep(RESYNC) => {
                    pending.insert(Dirty::All);
                }
                d = rx.recv() => match d {
                    Some(d) => {
                        pending.insert(d);
                        tokio::time::sleep(BATCH).await;
                        while let Ok(d) = rx.try_recv() {
                            pending.insert(d);
                        }
                    }
                    None => return,
                },
            }
        }
    }

    /// Recounts the quotas of a namespace (of every namespace when empty).
    async fn sync_namespace(&self, namespace: &str) {
        let quotas = match self.quotas.list(namespace, &ListParams::default()).await {
            Ok(out) => out.items,
            Err(e) => {
                tracing::warn!("resource quota controller: listing quotas: {}", e.message);
                return;
            }
        };
        for item in quotas {
            let Ok(quota) = serde_json::from_slice::<Value>(&item) else {
                continue;
            };
            if let Err(e) = self.sync_quota(quota).await {
                tracing::warn!("resource quota controller: {}", e.message);
            }
        }
    }

    /// Sets one quota's status from its spec and a fresh count, retrying on conflict.
    async fn sync_quota(&self, mut quota: Value) -> Result<(), ApiError> {
        let namespace = meta::namespace(&quota).to_string();
        let name = meta::name(&quota).to_string();
        let mut settled = false;
        let mut conflicts = 0;
        while conflicts < 3 {
            let hard = usage::read(&quota, "/spec/hard");
            let recorded = usage::read(&quota, "/status/used");
            let mut used = recorded.clone();
            used.extend(self.calculate(&namespace, &quota, &hard).await?);
            let used = usage::mask(&used, hard.keys());
            let in_sync = usage::equals(&hard, &usage::read(&quota, "/status/hard"))
                && usage::equals(&used, &recorded);
            if in_sync {
                return Ok(());
            }
            // Admission charges a write before storage holds it: a count below what is
            // charged may miss writes still on their way. Count again once they landed.
            let lowers = used
                .iter()
                .any(|(k, v)| recorded.get(k).is_some_and(|r| v.milli < r.milli));
            if lowers && !settled {
                settled = true;
                tokio::time::sleep(SETTLE).await;
                match self.quotas.get(&namespace, &name).await {
                    Ok(q) => quota = q,
                    Err(e) if e.code == 404 => return Ok(()),
                    Err(e) => return Err(e),
                }
                continue;
            }
            let mut obj = quota.clone();
            // Empty lists are left out, as upstream's serialization leaves them.
            let mut status = serde_json::Map::new();
            for (field, list) in [("hard", &hard), ("used", &used)] {
                if !list.is_empty() {
                    status.insert(field.to_string(), usage::to_json(list));
                }
            }
            obj["status"] = Value::Object(status);
            match self
                .quotas
                .update(
                    &writer_context(CONTROLLER_MANAGER),
                    &namespace,
                    &name,
                    "status",
                    obj,
                )
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if e.code == 409 => {
                    conflicts += 1;
                    quota = self.quotas.get(&namespace, &name).await?;
                }
                Err(e) if e.code == 404 => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Upstream's `CalculateUsage`: for each evaluator tracking some of the quota's
    /// resources, the usage of the namespace's objects in the quota's scopes (zero for the
    /// tracked resources nothing uses).
    async fn calculate(
        &self,
        namespace: &str,
        quota: &Value,
        hard: &Usage,
    ) -> Result<Usage, ApiError> {
        let names: Vec<String> = hard.keys().cloned().collect();
        let scopes = quota_scopes(quota);
        let mut evaluators: Vec<Evaluator> = ["pods", "services", "persistentvolumeclaims"]
            .iter()
            .chain(&[
                "configmaps",
                "resourcequotas",
                "replicationcontrollers",
                "secrets",
            ])
            .filter_map(|r| Evaluator::for_resource(r))
            .collect();
        for name in &names {
            if let Some(resource) = name.strip_prefix("count/") {
                if !evaluators
                    .iter()
                    .any(|e| !e.matching_resources(std::slice::from_ref(name)).is_empty())
                {
                    evaluators.extend(Evaluator::for_resource(resource));
                }
            }
        }
        let now = SystemTime::now();
        let mut total = Usage::new();
        for evaluator in evaluators {
            let matched = evaluator.matching_resources(&names);
            if matched.is_empty() {
                continue;
            }
            for name in &matched {
                total.entry(name.clone()).or_insert(usage::count(0));
            }
            let Some(store) = self.stores.get(evaluator.qualified_resource()) else {
                continue;
            };
            let items = store.list(namespace, &ListParams::default()).await?.items;
            for item in items {
                let Ok(obj) = serde_json::from_slice::<Value>(&item) else {
                    continue;
                };
                if scopes.iter().all(|s| evaluator.matches_scope(s, &obj)) {
                    total = usage::add(&total, &evaluator.usage(&obj, now));
                }
            }
        }
        Ok(usage::mask(&total, &names))
    }
}

/// The longest prefix all of `keys` share.
fn common_prefix<'a>(keys: impl IntoIterator<Item = &'a str>) -> String {
    let mut keys = keys.into_iter();
    let Some(first) = keys.next() else {
        return String::new();
    };
    let mut len = first.len();
    for k in keys {
        len = first
            .bytes()
            .zip(k.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    // Never split a character.
    while !first.is_char_boundary(len) {
        len -= 1;
    }
    first[..len].to_string()
}

/// The resource and namespace of a key: the longest store root it is under, then the
/// namespace segment.
fn locate<'a>(roots: &'a [(String, String)], key: &'a str) -> Option<(&'a str, &'a str)> {
    let (root, resource) = roots
        .iter()
        .filter(|(root, _)| key.starts_with(root.as_str()))
        .max_by_key(|(root, _)| root.len())?;
    let namespace = key[root.len()..].split('/').next()?;
    Some((resource, namespace))
}

/// Watches every counted resource's keys (one watch over their common prefix, values
/// unread) from revision `after` on, and sends the namespaces where objects were deleted;
/// a broken watch restarts and asks for a full recount.
async fn watch_keys(
    storage: Arc<dyn Storage>,
    roots: Vec<(String, String)>,
    mut after: i64,
    tx: mpsc::UnboundedSender<Dirty>,
) {
    let prefix = common_prefix(roots.iter().map(|(r, _)| r.as_str()));
    loop {
        if let Ok(mut watch) = storage.watch(&prefix, after, false).await {
            while let Some(item) = watch.next().await {
                let ev = match item {
                    Ok(WatchItem::Event(ev)) => ev,
                    Ok(WatchItem::Progress(_)) => continue,
                    Err(_) => break,
                };
                after = ev.revision();
                let Some((_, namespace)) = locate(&roots, &ev.kv.key) else {
                    continue;
                };
                if ev.event_type == EventType::Deleted
                    && tx.send(Dirty::Namespace(namespace.to_string())).is_err()
                {
                    return;
                }
            }
        }
        if !restart(&*storage, &mut after, &tx).await {
            return;
        }
    }
}

/// Watches one kind's updates (upstream's replenishment filter, made generic): an update
/// after which the object uses something else than before sends its namespace.
async fn watch_usage(
    store: Arc<Store>,
    evaluator: Evaluator,
    mut after: i64,
    tx: mpsc::UnboundedSender<Dirty>,
) {
    loop {
        let watch = store.storage().watch(store.key_root(), after, false).await;
        if let Ok(mut watch) = watch {
            while let Some(item) = watch.next().await {
                let ev = match item {
                    Ok(WatchItem::Event(ev)) => ev,
                    Ok(WatchItem::Progress(_)) => continue,
                    Err(_) => break,
                };
                after = ev.revision();
                if ev.event_type != EventType::Updated {
                    continue;
                }
                let Ok(new) = store.decode(&ev.kv.value, ev.kv.mod_revision) else {
                    continue;
                };
                let now = SystemTime::now();
                let old = ev
                    .prev_value
                    .as_ref()
                    .and_then(|v| store.decode(v, ev.kv.mod_revision).ok());
                let changed = old.is_none_or(|old| {
                    !usage::equals(&evaluator.usage(&old, now), &evaluator.usage(&new, now))
                });
                let namespace = meta::namespace(&new).to_string();
                if changed && tx.send(Dirty::Namespace(namespace)).is_err() {
                    return;
                }
            }
        }
        if !restart(store.storage().as_ref(), &mut after, &tx).await {
            return;
        }
    }
}

/// Watches the quotas: a new quota, or one whose limits differ from its status, needs
/// counting (status writes that only change `used` do not).
async fn watch_quotas(quotas: Arc<Store>, mut after: i64, tx: mpsc::UnboundedSender<Dirty>) {
    loop {
        let watch = quotas
            .storage()
            .watch(quotas.key_root(), after, false)
            .await;
        if let Ok(mut watch) = watch {
            while let Some(item) = watch.next().await {
                let ev = match item {
                    Ok(WatchItem::Event(ev)) => ev,
                    Ok(WatchItem::Progress(_)) => continue,
                    Err(_) => break,
                };
                after = ev.revision();
                if ev.event_type == EventType::Deleted {
                    continue;
                }
                let Ok(quota) = quotas.decode(&ev.kv.value, ev.kv.mod_revision) else {
                    continue;
                };
                let stale = ev.event_type == EventType::Created
                    || !usage::equals(
                        &usage::read(&quota, "/spec/hard"),
                        &usage::read(&quota, "/status/hard"),
                    );
                let namespace = meta::namespace(&quota).to_string();
                if stale && tx.send(Dirty::Namespace(namespace)).is_err() {
                    return;
                }
            }
        }
        if !restart(quotas.storage().as_ref(), &mut after, &tx).await {
            return;
        }
    }
}

/// After a broken watch: waits a moment, resumes from the current revision and asks for a
/// full recount (what happened in between is not known). False once nobody listens.
async fn restart(
    storage: &dyn Storage,
    after: &mut i64,
    tx: &mpsc::UnboundedSender<Dirty>,
) -> bool {
    tokio::time::sleep(Duration::from_secs(1)).await;
    if let Ok(rev) = storage.current_revision().await {
        *after = rev;
    }
    tx.send(Dirty::All).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_located_under_the_longest_root() {
        let roots = vec![
            (
                "/registry/services/specs/".to_string(),
                "services".to_string(),
            ),
            (
                "/registry/services/endpoints/".to_string(),
                "endpoints".to_string(),
            ),
            ("/registry/pods/".to_string(), "pods".to_string()),
        ];
        assert_eq!(
            common_prefix(roots.iter().map(|(r, _)| r.as_str())),
            "/registry/"
        );
        assert_eq!(
            locate(&roots, "/registry/services/endpoints/ns1/web"),
            Some(("endpoints", "ns1"))
        );
        assert_eq!(
            locate(&roots, "/registry/pods/ns2/p"),
            Some(("pods", "ns2"))
        );
        assert_eq!(locate(&roots, "/registry/secrets/ns/s"), None);
    }
}

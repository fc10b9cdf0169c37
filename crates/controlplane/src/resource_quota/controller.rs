//! Quota bookkeeping that upstream's kube-controller-manager does (its resourcequota
//! controller), done in this server because it runs without one (a deliberate difference;
//! see docs/architecture.md): every quota's `status.hard` follows `spec.hard`, and
//! `status.used` is recounted from storage when a quota is created or its limits change,
//! when objects in its namespace are deleted (deletes release quota) or pods and claims
//! change, at start-up, and on a periodic resync.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use apimachinery::errors::ApiError;
use apiserver::registry::{meta, ListParams, Store};
use futures::StreamExt;
use serde_json::Value;
use storage::{EventType, WatchItem};
use tokio::sync::mpsc;

use super::access::QUOTAS;
use super::evaluators::{quota_scopes, Evaluator};
use super::usage::{self, Usage};
use crate::bootstrap::system_context;

/// How often every quota is recounted (upstream's `--resource-quota-sync-period` is 5m;
/// this server has no informers to replenish from, so it resyncs more often).
const RESYNC: Duration = Duration::from_secs(60);

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
}

impl QuotaController {
    /// A controller over the installed stores; `None` when quotas are not served.
    pub fn new(stores: &BTreeMap<String, Arc<Store>>) -> Option<QuotaController> {
        let quotas = stores.get(QUOTAS)?.clone();
        let stores = stores
            .iter()
            .filter(|(qr, s)| s.decl.namespaced() && Evaluator::for_resource(qr).is_some())
            .map(|(qr, s)| (qr.clone(), s.clone()))
            .collect();
        Some(QuotaController { quotas, stores })
    }

    /// Runs until the process ends.
    pub async fn run(self) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Dirty>();
        let start = loop {
            match self.quotas.storage().current_revision().await {
                Ok(rev) => break rev,
                Err(e) => {
                    tracing::warn!("resource quota controller: reading the revision: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        for (qr, store) in &self.stores {
            tokio::spawn(watch_changes(qr.clone(), store.clone(), start, tx.clone()));
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
        for _ in 0..3 {
            let namespace = meta::namespace(&quota).to_string();
            let name = meta::name(&quota).to_string();
            let hard = usage::read(&quota, "/spec/hard");
            let mut used = usage::read(&quota, "/status/used");
            used.extend(self.calculate(&namespace, &quota, &hard).await?);
            let used = usage::mask(&used, hard.keys());
            let in_sync = usage::equals(&hard, &usage::read(&quota, "/status/hard"))
                && usage::equals(&used, &usage::read(&quota, "/status/used"))
                && quota.pointer("/status/used").is_some();
            if in_sync {
                return Ok(());
            }
            let mut obj = quota.clone();
            obj["status"] = serde_json::json!({
                "hard": usage::to_json(&hard),
                "used": usage::to_json(&used),
            });
            match self
                .quotas
                .update(&system_context(), &namespace, &name, "status", obj)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if e.code == 409 => {
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

/// The namespace of a key under `store`'s root.
fn namespace_of<'a>(store: &Store, key: &'a str) -> Option<&'a str> {
    key.strip_prefix(store.key_root())?.split('/').next()
}

/// Whether an update of an object of `resource` can change what quotas count: pods (phase,
/// deletion), claims (allocated storage) and quotas whose limits changed.
fn update_matters(resource: &str, store: &Store, value: &[u8], rev: i64) -> bool {
    match resource {
        "pods" | "persistentvolumeclaims" => true,
        QUOTAS => store.decode(value, rev).is_ok_and(|q| {
            !usage::equals(
                &usage::read(&q, "/spec/hard"),
                &usage::read(&q, "/status/hard"),
            )
        }),
        _ => false,
    }
}

/// Sends the namespaces where `store`'s objects are deleted (and, for some kinds, changed)
/// from revision `after` on; restarts a broken watch and asks for a full recount then.
async fn watch_changes(
    resource: String,
    store: Arc<Store>,
    mut after: i64,
    tx: mpsc::UnboundedSender<Dirty>,
) {
    loop {
        let watch = store.storage().watch(store.key_root(), after, false).await;
        if let Ok(mut watch) = watch {
            while let Some(item) = watch.next().await {
                let Ok(WatchItem::Event(ev)) = item else {
                    if item.is_err() {
                        break;
                    }
                    continue;
                };
                after = ev.revision();
                let relevant = match ev.event_type {
                    EventType::Deleted => true,
                    EventType::Created => resource == QUOTAS,
                    EventType::Updated => {
                        update_matters(&resource, &store, &ev.kv.value, ev.kv.mod_revision)
                    }
                };
                if !relevant {
                    continue;
                }
                if let Some(ns) = namespace_of(&store, &ev.kv.key) {
                    if tx.send(Dirty::Namespace(ns.to_string())).is_err() {
                        return;
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        match store.storage().current_revision().await {
            Ok(rev) => after = rev,
            Err(_) => continue,
        }
        if tx.send(Dirty::All).is_err() {
            return;
        }
    }
}

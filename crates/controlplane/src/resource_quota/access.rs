//! Reading a namespace's quotas and writing their status (upstream's `quotaAccessor`):
//! the shared listers first, a live list (kept for a while) when the cache holds none,
//! and status writes through the `resourcequotas/status` subresource with the read
//! resourceVersion as precondition. The quotas this server just wrote are remembered until
//! the cache catches up, so the next request starts from them rather than conflicting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apimachinery::errors::ApiError;
use apiserver::registry::{meta, ListParams, Listers, RequestContext};
use serde_json::{json, Value};

use crate::bootstrap::system_context;

/// The resource quotas are stored as.
pub const QUOTAS: &str = "resourcequotas";

/// The field manager of the status writes admission makes (upstream's loopback client's).
pub const ADMISSION_MANAGER: &str = "kube-apiserver";

/// How long a live list of a namespace with no cached quotas is reused.
const LIVE_LOOKUP_TTL: Duration = Duration::from_secs(30);

/// The quotas of namespaces, through the shared listers.
pub struct QuotaAccess {
    listers: Arc<Listers>,
    live: Mutex<HashMap<String, (Instant, Vec<Value>)>>,
    /// Quotas as last written here, by namespace and name.
    written: Mutex<HashMap<(String, String), Value>>,
}

/// The server's own context for a quota status write by `manager`, which upstream's
/// clients' user agents would name in `managedFields`.
pub fn writer_context(manager: &str) -> RequestContext {
    RequestContext {
        field_manager: Some(manager.to_string()),
        ..system_context()
    }
}

/// An object's resourceVersion as a number (0 when it has none).
fn revision(obj: &Value) -> i64 {
    meta::resource_version(obj).parse().unwrap_or(0)
}

impl QuotaAccess {
    pub fn new(listers: Arc<Listers>) -> QuotaAccess {
        QuotaAccess {
            listers,
            live: Mutex::new(HashMap::new()),
            written: Mutex::new(HashMap::new()),
        }
    }

    /// `quotas` with each replaced by the newer version this server wrote, if any; the
    /// versions the cache has caught up with are forgotten.
    fn newest(&self, quotas: Vec<Value>) -> Vec<Value> {
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        quotas
            .into_iter()
            .map(|q| {
                let key = (meta::namespace(&q).to_string(), meta::name(&q).to_string());
                match written.get(&key) {
                    Some(w) if revision(w) > revision(&q) => w.clone(),
                    Some(_) => {
                        written.remove(&key);
                        q
                    }
                    None => q,
                }
            })
            .collect()
    }

    /// The quotas of `namespace`: the cache's, else a live list reused for a while (none
    /// when quotas are not served).
    pub async fn quotas(&self, namespace: &str) -> Result<Vec<Value>, ApiError> {
        if !self.listers.has(QUOTAS) {
            return Ok(Vec::new());
        }
        let cached = self.listers.list(QUOTAS, namespace, None).await?;
        if !cached.is_empty() {
            return Ok(self.newest(cached));
        }
        {
            let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, items)) = live.get(namespace) {
                if at.elapsed() < LIVE_LOOKUP_TTL {
                    let items = items.clone();
                    drop(live);
                    return Ok(self.newest(items));
                }
            }
        }
        let items = self.live_quotas(namespace).await?;
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|_, (at, _)| at.elapsed() < LIVE_LOOKUP_TTL);
        live.insert(namespace.to_string(), (Instant::now(), items.clone()));
        Ok(items)
    }

    /// The quotas of `namespace` as storage holds them now.
    pub async fn live_quotas(&self, namespace: &str) -> Result<Vec<Value>, ApiError> {
        let out = self
            .listers
            .store(QUOTAS)?
            .list(namespace, &ListParams::default())
            .await?;
        Ok(out
            .items
            .iter()
            .filter_map(|b| serde_json::from_slice(b).ok())
            .collect())
    }

    /// Writes `quota`'s status (`hard` and `used` as given) over the version it was read
    /// at; a 409 Conflict when the quota changed since.
    pub async fn update_status(&self, quota: &Value) -> Result<Value, ApiError> {
        let namespace = meta::namespace(quota).to_string();
        let name = meta::name(quota).to_string();
        let mut obj = quota.clone();
        if obj.get("status").is_none_or(|s| !s.is_object()) {
            obj["status"] = json!({});
        }
        let (out, _) = self
            .listers
            .store(QUOTAS)?
            .update(
                &writer_context(ADMISSION_MANAGER),
                &namespace,
                &name,
                "status",
                obj,
            )
            .await?;
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if written.len() > 4096 {
            written.clear();
        }
        written.insert((namespace, name), out.clone());
        Ok(out)
    }
}

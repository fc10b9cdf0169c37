//! The ResourceQuota admission plugin (validating phase): a create or update that would
//! take a namespace's usage past a quota's `hard` limits is refused with upstream's 403,
//! and an admitted one is charged to every quota covering it (`status.used`, written with
//! optimistic concurrency before the object is stored; dry runs are checked, not charged).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use apimachinery::errors::ApiError;
use apiserver::admission::{AdmissionPlugin, Attributes, Operation};
use apiserver::registry::{meta, Listers};
use serde_json::Value;

use super::access::QuotaAccess;
use super::evaluators::Evaluator;
use super::usage::{self, Usage};
use crate::limit_ranger::forbidden;

/// How many times conflicting status writes are re-checked against fresh quotas.
const RETRIES: usize = 3;

/// How long a request may wait for its namespace's turn and its quota writes (upstream's
/// evaluator gives up after as long).
const EVALUATION_TIMEOUT: Duration = Duration::from_secs(10);

/// The plugin.
pub struct ResourceQuota {
    access: QuotaAccess,
    /// One lock per namespace: this server charges a namespace's quotas one request at a
    /// time (as upstream's per-namespace work queue), so concurrent requests rarely conflict.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl ResourceQuota {
    pub fn new(listers: Arc<Listers>) -> ResourceQuota {
        ResourceQuota {
            access: QuotaAccess::new(listers),
            locks: Mutex::new(HashMap::new()),
        }
    }

    fn lock_for(&self, namespace: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if locks.len() > 1024 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(namespace.to_string()).or_default().clone()
    }

    /// Checks the request against `quotas` and charges it, re-checking the quotas whose
    /// status write conflicted against their current state.
    async fn admit_against(
        &self,
        attrs: &Attributes<'_>,
        obj: &Value,
        evaluator: &Evaluator,
        mut quotas: Vec<Value>,
    ) -> Result<(), ApiError> {
        for attempt in 0..=RETRIES {
            let charged = check_request(&quotas, attrs, obj, evaluator, SystemTime::now())?;
            if attrs.dry_run {
                return Ok(());
            }
            let mut failed = Vec::new();
            let mut last_err = None;
            for (before, after) in quotas.iter().zip(&charged) {
                let used = |q: &Value| usage::read(q, "/status/used");
                if usage::equals(&used(before), &used(after)) {
                    continue;
                }
                if let Err(e) = self.access.update_status(after).await {
                    failed.push(meta::name(after).to_string());
                    last_err = Some(e);
                }
            }
            let Some(err) = last_err else {
                return Ok(());
            };
            if attempt == RETRIES {
                return Err(err);
            }
            quotas = self
                .access
                .live_quotas(attrs.namespace)
                .await?
                .into_iter()
                .filter(|q| failed.iter().any(|f| f == meta::name(q)))
                .collect();
        }
        Ok(())
    }
}

/// Whether the quota has a `used` value for each of `resources` it limits.
fn has_usage_stats(quota: &Value, resources: &[String]) -> bool {
    let used = usage::read(quota, "/status/used");
    resources.iter().all(|r| used.contains_key(r))
}

/// Upstream's `CheckRequest`: the quotas as they would be if the request is admitted, or
/// the request's refusal.
pub fn check_request(
    quotas: &[Value],
    attrs: &Attributes<'_>,
    obj: &Value,
    evaluator: &Evaluator,
    now: SystemTime,
) -> Result<Vec<Value>, ApiError> {
    let refuse = |msg: String| forbidden(attrs, obj, &msg);
    let mut interesting = Vec::new();
    for (i, quota) in quotas.iter().enumerate() {
        if !evaluator.matches(quota, obj) {
            continue;
        }
        let name = meta::name(quota);
        let hard: Vec<String> = usage::read(quota, "/status/hard").into_keys().collect();
        let restricted = evaluator.matching_resources(&hard);
        evaluator
            .constraints(&restricted, obj)
            .map_err(|e| refuse(format!("failed quota: {name}: {e}")))?;
        if !has_usage_stats(quota, &restricted) {
            let mut names = restricted.clone();
            names.sort();
            return Err(refuse(format!(
                "status unknown for quota: {name}, resources: {}",
                names.join(",")
            )));
        }
        interesting.push(i);
    }
    if interesting.is_empty() {
        return Ok(quotas.to_vec());
    }
    let input = evaluator.usage(obj, now);
    let negative = usage::negative(&input);
    if !negative.is_empty() {
        return Err(refuse(format!(
            "quota usage is negative for resource(s): {}",
            negative.join(",")
        )));
    }
    let mut deltas: BTreeMap<usize, Usage> =
        interesting.iter().map(|i| (*i, input.clone())).collect();
    if attrs.operation == Operation::Update {
        let Some(old) = attrs.old else {
            return Err(refuse(
                "unable to get previous usage since prior version of object was not found"
                    .to_string(),
            ));
        };
        if !meta::resource_version(old).is_empty() {
            let delta = usage::subtract_non_negative(&input, &evaluator.usage(old, now));
            for i in &interesting {
                if evaluator.matches(&quotas[*i], old) {
                    deltas.insert(*i, delta.clone());
                }
            }
        }
    }
    deltas = deltas
        .into_iter()
        .map(|(i, d)| (i, usage::remove_zeros(&d)))
        .filter(|(_, d)| !d.is_empty())
        .collect();
    let mut out = quotas.to_vec();
    for (i, delta) in deltas {
        let quota = &quotas[i];
        let hard = usage::read(quota, "/status/hard");
        let used = usage::read(quota, "/status/used");
        let requested = usage::mask(&delta, hard.keys());
        let new_used = usage::add(&used, &requested);
        // A status write (a claim's allocated storage growing) is charged, never refused.
        let exceeded = if attrs.subresource == "status" {
            Vec::new()
        } else {
            usage::exceeded(&usage::mask(&new_used, requested.keys()), &hard)
        };
        if !exceeded.is_empty() {
            return Err(refuse(format!(
                "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                meta::name(quota),
                usage::pretty(&usage::mask(&requested, &exceeded)),
                usage::pretty(&usage::mask(&used, &exceeded)),
                usage::pretty(&usage::mask(&hard, &exceeded)),
            )));
        }
        out[i]["status"]["used"] = usage::to_json(&new_used);
    }
    Ok(out)
}

#[async_trait::async_trait]
impl AdmissionPlugin for ResourceQuota {
    fn name(&self) -> &'static str {
        "ResourceQuota"
    }

    fn handles(&self, operation: Operation) -> bool {
        matches!(operation, Operation::Create | Operation::Update)
    }

    async fn validate(&self, attrs: &Attributes<'_>, obj: Option<&Value>) -> Result<(), ApiError> {
        let Some(obj) = obj else {
            return Ok(());
        };
        // Cluster-scoped objects (new namespaces among them) are not charged; which
        // subresources are (`pods/resize`, a claim's `status`) is the evaluator's call.
        if attrs.namespace.is_empty() || !attrs.resource.namespaced() {
            return Ok(());
        }
        let Some(evaluator) = Evaluator::for_resource(&attrs.resource.qualified_resource()) else {
            return Ok(());
        };
        if !evaluator.handles(attrs.operation, attrs.subresource, Some(obj), attrs.old) {
            return Ok(());
        }
        // Requests no quota covers go on without waiting for the namespace's lock.
        let covered = |quotas: &[Value]| quotas.iter().any(|q| evaluator.matches(q, obj));
        if !covered(&self.access.quotas(attrs.namespace).await?) {
            return Ok(());
        }
        let evaluation = async {
            let lock = self.lock_for(attrs.namespace);
            let _held = lock.lock().await;
            let quotas = self.access.quotas(attrs.namespace).await?;
            self.admit_against(attrs, obj, &evaluator, quotas).await
        };
        tokio::time::timeout(EVALUATION_TIMEOUT, evaluation)
            .await
            .unwrap_or_else(|_| Err(ApiError::internal("resource quota evaluation timed out")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apiserver::auth::UserInfo;
    use serde_json::json;

    fn quota(name: &str, hard: Value, used: Value) -> Value {
        json!({
            "metadata": {"name": name, "namespace": "ns", "resourceVersion": "5"},
            "spec": {"hard": hard},
            "status": {"hard": hard, "used": used},
        })
    }

    fn check(
        quotas: &[Value],
        decl: &apiserver::registry::ResourceDecl,
        op: Operation,
        obj: &Value,
        old: Option<&Value>,
    ) -> Result<Vec<Value>, String> {
        let user = UserInfo::default();
        let warnings = apiserver::registry::store::WarningSink::default();
        let attrs = Attributes {
            operation: op,
            resource: decl,
            subresource: "",
            kind: &decl.kind,
            namespace: "ns",
            name: meta::name(obj),
            old,
            options: None,
            user: &user,
            dry_run: false,
            warnings: &warnings,
        };
        let evaluator = Evaluator::for_resource(&decl.qualified_resource())
            .ok_or_else(|| "no evaluator".to_string())?;
        check_request(quotas, &attrs, obj, &evaluator, SystemTime::now()).map_err(|e| e.message)
    }

    #[test]
    fn counts_and_refuses_past_the_limit() {
        let decl = crate::resources::configmaps::decl();
        let cm = json!({"metadata": {"name": "c"}});
        let q = quota(
            "q",
            json!({"configmaps": "2", "pods": "5"}),
            json!({"configmaps": "1", "pods": "0"}),
        );
        let out = check(&[q], &decl, Operation::Create, &cm, None);
        let out = out.unwrap_or_default();
        assert_eq!(
            out[0]["status"]["used"],
            json!({"configmaps": "2", "pods": "0"})
        );
        let err = check(&out, &decl, Operation::Create, &cm, None);
        assert_eq!(
            err.err().as_deref(),
            Some("configmaps \"c\" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=2, limited: configmaps=2")
        );
    }

    #[test]
    fn compute_quotas_need_requests_and_known_usage() {
        let decl = crate::resources::pods::decl();
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "web"}]}});
        let q = quota(
            "compute",
            json!({"requests.cpu": "1", "limits.memory": "1Gi"}),
            json!({"requests.cpu": "0", "limits.memory": "0"}),
        );
        assert_eq!(
            check(&[q], &decl, Operation::Create, &pod, None).err().as_deref(),
            Some("pods \"p\" is forbidden: failed quota: compute: must specify limits.memory for: web; requests.cpu for: web")
        );
        let unknown = quota("fresh", json!({"pods": "1", "count/pods": "1"}), json!({}));
        assert_eq!(
            check(&[unknown], &decl, Operation::Create, &pod, None).err().as_deref(),
            Some("pods \"p\" is forbidden: status unknown for quota: fresh, resources: count/pods,pods")
        );
        let big = json!({"metadata": {"name": "big"}, "spec": {"containers": [{"name": "a", "resources": {"requests": {"memory": "3Gi"}}}]}});
        let mem = quota(
            "mem",
            json!({"requests.memory": "4Gi"}),
            json!({"requests.memory": "2Gi"}),
        );
        assert_eq!(
            check(&[mem], &decl, Operation::Create, &big, None).err().as_deref(),
            Some("pods \"big\" is forbidden: exceeded quota: mem, requested: requests.memory=3Gi, used: requests.memory=2Gi, limited: requests.memory=4Gi")
        );
    }

    #[test]
    fn every_covering_quota_is_charged_or_none() {
        let decl = crate::resources::pods::decl();
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}, "status": {"qosClass": "BestEffort"}});
        let roomy = quota("roomy", json!({"pods": "10"}), json!({"pods": "1"}));
        let mut scoped = quota("best-effort", json!({"pods": "1"}), json!({"pods": "0"}));
        scoped["spec"]["scopes"] = json!(["BestEffort"]);
        let mut other = quota("other-scope", json!({"pods": "1"}), json!({"pods": "1"}));
        other["spec"]["scopes"] = json!(["NotBestEffort"]);
        let quotas = [roomy, scoped, other];
        let out = check(&quotas, &decl, Operation::Create, &pod, None).unwrap_or_default();
        let used: Vec<&Value> = out.iter().map(|q| &q["status"]["used"]).collect();
        assert_eq!(
            used,
            [
                &json!({"pods": "2"}),
                &json!({"pods": "1"}),
                &json!({"pods": "1"})
            ]
        );
        // The scoped quota is full now: the request is refused, and nothing is charged.
        assert_eq!(
            check(&out, &decl, Operation::Create, &pod, None).err().as_deref(),
            Some("pods \"p\" is forbidden: exceeded quota: best-effort, requested: pods=1, used: pods=1, limited: pods=1")
        );
    }

    #[test]
    fn updates_charge_the_difference() {
        let decl = crate::resources::services::decl(None);
        let old = json!({"metadata": {"name": "s", "resourceVersion": "3"}, "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}});
        let new = json!({"metadata": {"name": "s", "resourceVersion": "3"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}});
        let q = quota(
            "q",
            json!({"services": "5", "services.nodeports": "1"}),
            json!({"services": "1", "services.nodeports": "0"}),
        );
        let out = check(
            std::slice::from_ref(&q),
            &decl,
            Operation::Update,
            &new,
            Some(&old),
        )
        .unwrap_or_default();
        assert_eq!(
            out[0]["status"]["used"],
            json!({"services": "1", "services.nodeports": "1"})
        );
        let full = quota(
            "q",
            json!({"services.nodeports": "1"}),
            json!({"services.nodeports": "1"}),
        );
        assert_eq!(
            check(&[full], &decl, Operation::Update, &new, Some(&old)).err().as_deref(),
            Some("services \"s\" is forbidden: exceeded quota: q, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1")
        );
    }
}

//! `pods/eviction`: a delete that honours PodDisruptionBudgets (upstream's `EvictionREST`).
//! A pod no budget protects (or one that is terminal, pending or already being deleted)
//! is deleted at once; otherwise the one budget covering it must allow a disruption, which
//! the eviction spends (`disruptionsAllowed` decremented, the pod noted in
//! `disruptedPods`) before the pod gets a `DisruptionTarget` condition and is deleted.

use std::sync::Arc;

use apimachinery::errors::{ApiError, StatusCause};
use apimachinery::selectors::label_selector_from_json;
use apimachinery::time as ktime;
use apiserver::admission::{Attributes, Operation};
use apiserver::endpoints::options::delete_options;
use apiserver::registry::{meta, Created, Listers, RequestContext, Store, SubresourceRest};
use serde_json::{json, Value};

/// Budgets with more pods awaiting their deletion than this refuse further evictions.
const MAX_DISRUPTED_PODS: usize = 2000;

/// Conflicts retried while spending a budget or deleting the pod.
const RETRIES: usize = 8;

pub struct EvictionRest {
    listers: Arc<Listers>,
}

impl EvictionRest {
    pub fn new(listers: Arc<Listers>) -> EvictionRest {
        EvictionRest { listers }
    }

    /// The budgets in the pod's namespace whose selector matches the pod's labels (an
    /// empty selector matches nothing).
    async fn budgets(&self, pod: &Value, namespace: &str) -> Result<Vec<Value>, ApiError> {
        let labels = meta::labels(pod);
        if labels.is_empty() {
            return Ok(Vec::new());
        }
        // A consistent read, as upstream's client list: a budget just written counts.
        let all = self
            .listers
            .list_current("poddisruptionbudgets.policy", namespace, None)
            .await?;
        Ok(all
            .into_iter()
            .filter(|pdb| {
                label_selector_from_json(pdb.pointer("/spec/selector"))
                    .is_ok_and(|sel| !sel.is_empty() && sel.matches(&labels))
            })
            .collect())
    }
}

fn phase(pod: &Value) -> &str {
    pod.pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Whether the pod's Ready condition is true.
fn ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == json!("Ready") && c["status"] == json!("True"))
        })
}

/// Pods whose eviction needs no budget: terminal, not started, or already going.
fn can_ignore_budget(pod: &Value) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed" | "Pending") || meta::deletion_started(pod)
}

fn int(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// 429 "Cannot evict pod as it would violate the pod's disruption budget." with the
/// budget's reason as a `DisruptionBudget` cause.
fn too_many(cause: String) -> ApiError {
    let mut e = ApiError::too_many_requests(
        "Cannot evict pod as it would violate the pod's disruption budget.",
        0,
    );
    if let Some(d) = e.details.as_mut() {
        d.causes.push(StatusCause {
            reason: "DisruptionBudget".into(),
            message: cause,
            field: String::new(),
        });
    }
    e
}

/// Checks that the budget allows a disruption and spends it (upstream's
/// `checkAndDecrement`); `Ok(None)` when the pod may go without spending it.
fn spend(
    pdb: &Value,
    pod: &Value,
    pod_name: &str,
    dry_run: bool,
) -> Result<Option<Value>, ApiError> {
    let name = meta::name(pdb);
    if int(pdb, "/status/observedGeneration") < int(pdb, "/metadata/generation") {
        return Err(too_many(format!(
            "The disruption budget {name} is still being processed by the server."
        )));
    }
    let allowed = int(pdb, "/status/disruptionsAllowed");
    if allowed < 0 {
        return Err(ApiError::forbidden(
            "policy",
            "poddisruptionbudget",
            name,
            "pdb disruptions allowed is negative",
        ));
    }
    let disrupted = pdb
        .pointer("/status/disruptedPods")
        .and_then(Value::as_object)
        .map_or(0, |m| m.len());
    if disrupted > MAX_DISRUPTED_PODS {
        return Err(ApiError::forbidden(
            "policy",
            "poddisruptionbudget",
            name,
            "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
        ));
    }
    // An unready pod does not count as healthy: with `AlwaysAllow`, or while the budget
    // is met (`IfHealthyBudget`, the default), it may go without spending anything.
    if !ready(pod) {
        let policy = pdb
            .pointer("/spec/unhealthyPodEvictionPolicy")
            .and_then(Value::as_str)
            .unwrap_or("IfHealthyBudget");
        let healthy = int(pdb, "/status/currentHealthy") >= int(pdb, "/status/desiredHealthy")
            && int(pdb, "/status/desiredHealthy") > 0;
        if policy == "AlwaysAllow" || healthy {
            return Ok(None);
        }
    }
    if allowed == 0 {
        return Err(too_many(format!(
            "The disruption budget {name} needs {} healthy pods and has {} currently",
            int(pdb, "/status/desiredHealthy"),
            int(pdb, "/status/currentHealthy")
        )));
    }
    let mut spent = pdb.clone();
    spent["status"]["disruptionsAllowed"] = json!(allowed - 1);
    if dry_run {
        return Ok(Some(spent));
    }
    if !spent["status"]["disruptedPods"].is_object() {
        spent["status"]["disruptedPods"] = json!({});
    }
    spent["status"]["disruptedPods"][pod_name] = json!(ktime::now_rfc3339());
    if allowed - 1 == 0 {
        super::binding::set_condition(
            &mut spent,
            "DisruptionAllowed",
            "False",
            "InsufficientPods",
            "",
        );
        // A budget's conditions carry observedGeneration, not probe times.
        if let Some(c) = spent
            .pointer_mut("/status/conditions")
            .and_then(Value::as_array_mut)
            .and_then(|cs| {
                cs.iter_mut()
                    .find(|c| c["type"] == json!("DisruptionAllowed"))
            })
        {
            if let Some(m) = c.as_object_mut() {
                m.remove("lastProbeTime");
                m.insert(
                    "observedGeneration".into(),
                    json!(int(pdb, "/status/observedGeneration")),
                );
            }
        }
    }
    Ok(Some(spent))
}

#[async_trait::async_trait]
impl SubresourceRest for EvictionRest {
    async fn create(
        &self,
        store: &Store,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        eviction: Value,
    ) -> Result<Created, ApiError> {
        if meta::name(&eviction) != name {
            return Err(ApiError::bad_request(
                "name in URL does not match name in Eviction object",
            ));
        }
        // The eviction's own delete options, with the request's dry run (they must agree).
        let mut raw = eviction
            .get("deleteOptions")
            .filter(|o| o.is_object())
            .cloned()
            .unwrap_or_else(|| json!({}));
        let body_dry_run = raw.get("dryRun").and_then(Value::as_array).cloned();
        match (&body_dry_run, ctx.dry_run) {
            (Some(d), true) if !d.is_empty() && d != &vec![json!("All")] => {
                return Err(ApiError::new(
                    500,
                    "",
                    &format!(
                        "Non-matching dry-run options in request and content: [All] and [{}]",
                        d.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                ))
            }
            (None, true) => raw["dryRun"] = json!(["All"]),
            _ => {}
        }
        let mut opts = delete_options(None, Some(&raw))?;
        let dry_run = opts.dry_run;
        let mut pod = store.get(namespace, name).await?;
        store
            .admission()
            .validate(
                &Attributes {
                    operation: Operation::Create,
                    resource: &store.decl,
                    subresource: "eviction",
                    kind: "Eviction",
                    namespace,
                    name,
                    old: None,
                    options: ctx.options.as_ref(),
                    user: &ctx.user,
                    dry_run,
                    warnings: &ctx.warnings,
                },
                Some(&eviction),
            )
            .await?;
        let mut delete_ctx = ctx.clone();
        delete_ctx.dry_run = dry_run;
        if !can_ignore_budget(&pod) {
            let budgets = self.budgets(&pod, namespace).await?;
            if budgets.len() > 1 {
                return Ok(Created {
                    code: 500,
                    body: json!({
                        "kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Failure",
                        "message": "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                        "code": 500,
                    }),
                });
            }
            if let Some(pdb) = budgets.into_iter().next() {
                let pdbs = self.listers.store("poddisruptionbudgets.policy")?;
                let pdb_name = meta::name(&pdb).to_string();
                let mut current = pdb;
                let mut done = false;
                for attempt in 0..RETRIES {
                    if attempt > 0 {
                        current = pdbs.get(namespace, &pdb_name).await?;
                    }
                    let Some(spent) = spend(&current, &pod, name, dry_run)? else {
                        done = true;
                        break;
                    };
                    if dry_run {
                        done = true;
                        break;
                    }
                    match pdbs
                        .update(&delete_ctx, namespace, &pdb_name, "status", spent)
                        .await
                    {
                        Ok(_) => {
                            done = true;
                            break;
                        }
                        Err(e) if e.code == 409 => continue,
                        Err(e) => return Err(e),
                    }
                }
                if !done {
                    return Err(ApiError::timeout(
                        &format!(
                            "couldn't update PodDisruptionBudget {} due to conflicts",
                            apimachinery::go_quote(&pdb_name)
                        ),
                        10,
                    ));
                }
            }
        }
        // The pod is marked as disrupted, then deleted, as it was when read unless the
        // eviction names its own precondition.
        let pinned = opts.preconditions.resource_version.is_some();
        for _ in 0..RETRIES {
            if !pinned {
                opts.preconditions.resource_version =
                    Some(meta::resource_version(&pod).to_string());
            }
            if !dry_run && !meta::deletion_started(&pod) {
                let mut marked = pod.clone();
                super::binding::set_condition(
                    &mut marked,
                    "DisruptionTarget",
                    "True",
                    "EvictionByEvictionAPI",
                    "Eviction API: evicting",
                );
                match store.write_system(namespace, name, &pod, marked).await {
                    Ok(written) => {
                        if !pinned {
                            opts.preconditions.resource_version =
                                Some(meta::resource_version(&written).to_string());
                        }
                    }
                    Err(e) if e.code == 409 && !pinned => {
                        pod = store.get(namespace, name).await?;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            match store.delete(&delete_ctx, namespace, name, &opts).await {
                Ok(_) => break,
                Err(e) if e.code == 409 && !pinned => {
                    pod = store.get(namespace, name).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Created {
            code: 201,
            body: json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
        })
    }
}

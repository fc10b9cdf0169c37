//! What a quota counts for each kind (upstream's `quota/v1/evaluator/core` and the generic
//! object count evaluator): which quota resource names a kind matches, which scopes an
//! object is in, and the usage one object makes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use apiserver::admission::Operation;
use serde_json::Value;

use super::usage::{self, Usage};
use crate::limit_ranger::constraints::{list_at, pod_total, List, Milli};
use crate::resources::resourcelists;

/// Resources quota never counts (virtual ones, and events).
const IGNORED: [&str; 11] = [
    "bindings",
    "componentstatuses",
    "tokenreviews.authentication.k8s.io",
    "selfsubjectreviews.authentication.k8s.io",
    "subjectaccessreviews.authorization.k8s.io",
    "selfsubjectaccessreviews.authorization.k8s.io",
    "localsubjectaccessreviews.authorization.k8s.io",
    "selfsubjectrulesreviews.authorization.k8s.io",
    "events",
    "events.events.k8s.io",
    "namespaces",
];

/// The kinds counted under a legacy name besides `count/<resource>`.
const LEGACY_ALIASES: [(&str, &str); 4] = [
    ("configmaps", "configmaps"),
    ("resourcequotas", "resourcequotas"),
    ("replicationcontrollers", "replicationcontrollers"),
    ("secrets", "secrets"),
];

/// The pod resources quota tracks by exact name.
const POD_RESOURCES: [&str; 11] = [
    "count/pods",
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
];

/// Compute resources a pod's containers must all set when a quota limits them (upstream
/// keeps this rule for these six only).
const MUST_SPECIFY: [&str; 6] = [
    "cpu",
    "memory",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

const SERVICE_RESOURCES: [&str; 4] = [
    "count/services",
    "services",
    "services.nodeports",
    "services.loadbalancers",
];

const CLAIM_RESOURCES: [&str; 2] = ["persistentvolumeclaims", "requests.storage"];

/// The storage class quota names end in `<class>.storageclass.storage.k8s.io/<resource>`.
const STORAGE_CLASS_SUFFIX: &str = ".storageclass.storage.k8s.io/";

/// One requirement of a quota's scopes (a `scopes` entry is `Exists`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRequirement {
    pub scope: String,
    pub operator: String,
    pub values: Vec<String>,
}

impl ScopeRequirement {
    /// Whether a label set of at most one entry (`scope: value`) satisfies the requirement.
    fn matches_value(&self, value: Option<&str>) -> bool {
        match (self.operator.as_str(), value) {
            ("Exists", v) => v.is_some(),
            ("DoesNotExist", v) => v.is_none(),
            ("In", Some(v)) => self.values.iter().any(|x| x == v),
            ("In", None) => false,
            ("NotIn", Some(v)) => !self.values.iter().any(|x| x == v),
            ("NotIn", None) => true,
            _ => false,
        }
    }
}

/// A quota's scope requirements: its `scopes`, then its `scopeSelector` expressions.
pub fn quota_scopes(quota: &Value) -> Vec<ScopeRequirement> {
    let spec = quota.get("spec").unwrap_or(&Value::Null);
    let mut out: Vec<ScopeRequirement> = spec
        .get("scopes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|s| ScopeRequirement {
            scope: s.to_string(),
            operator: "Exists".to_string(),
            values: Vec::new(),
        })
        .collect();
    for e in spec
        .pointer("/scopeSelector/matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = |f: &str| e.get(f).and_then(Value::as_str).unwrap_or("").to_string();
        out.push(ScopeRequirement {
            scope: text("scopeName"),
            operator: text("operator"),
            values: e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        });
    }
    out
}

/// How quota measures one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evaluator {
    Pods,
    Services,
    PersistentVolumeClaims,
    /// Any other kind: one per object, under `count/<resource>[.<group>]` and, for a few
    /// core kinds, a legacy name.
    ObjectCount {
        qualified_resource: String,
        names: Vec<String>,
    },
}

/// `count/<resource>` or `count/<resource>.<group>`.
pub fn count_name(qualified_resource: &str) -> String {
    format!("count/{qualified_resource}")
}

impl Evaluator {
    /// The evaluator of a resource (`pods`, `deployments.apps`), `None` for the ones quota
    /// ignores.
    pub fn for_resource(qualified_resource: &str) -> Option<Evaluator> {
        if IGNORED.contains(&qualified_resource) {
            return None;
        }
        Some(match qualified_resource {
            "pods" => Evaluator::Pods,
            "services" => Evaluator::Services,
            "persistentvolumeclaims" => Evaluator::PersistentVolumeClaims,
            r => {
                let mut names = vec![count_name(r)];
                if let Some((_, alias)) = LEGACY_ALIASES.iter().find(|(res, _)| *res == r) {
                    names.push(alias.to_string());
                }
                Evaluator::ObjectCount {
                    qualified_resource: r.to_string(),
                    names,
                }
            }
        })
    }

    /// The resource the evaluator counts, as the listers name it.
    pub fn qualified_resource(&self) -> &str {
        match self {
            Evaluator::Pods => "pods",
            Evaluator::Services => "services",
            Evaluator::PersistentVolumeClaims => "persistentvolumeclaims",
            Evaluator::ObjectCount {
                qualified_resource, ..
            } => qualified_resource,
        }
    }

    /// Whether a request can change usage (`Handles`).
    pub fn handles(
        &self,
        operation: Operation,
        subresource: &str,
        obj: Option<&Value>,
        old: Option<&Value>,
    ) -> bool {
        match self {
            Evaluator::Pods => match subresource {
                "" => operation == Operation::Create,
                "resize" => operation == Operation::Update,
                _ => false,
            },
            Evaluator::Services => {
                subresource.is_empty() && matches!(operation, Operation::Create | Operation::Update)
            }
            Evaluator::PersistentVolumeClaims => match subresource {
                "" => matches!(operation, Operation::Create | Operation::Update),
                "status" => {
                    let allocated = |o: Option<&Value>| {
                        o.and_then(|o| o.pointer("/status/allocatedResources/storage"))
                            .and_then(Milli::of)
                    };
                    allocated(obj) != allocated(old)
                }
                _ => false,
            },
            Evaluator::ObjectCount { .. } => {
                subresource.is_empty() && operation == Operation::Create
            }
        }
    }

    /// The names among `input` this evaluator tracks (`MatchingResources`).
    pub fn matching_resources(&self, input: &[String]) -> Vec<String> {
        input
            .iter()
            .filter(|name| self.tracks(name))
            .cloned()
            .collect()
    }

    fn tracks(&self, name: &str) -> bool {
        match self {
            Evaluator::Pods => {
                POD_RESOURCES.contains(&name)
                    || name.starts_with("hugepages-")
                    || name.starts_with("requests.hugepages-")
                    || (!resourcelists::is_native(name) && name.starts_with("requests."))
            }
            Evaluator::Services => SERVICE_RESOURCES.contains(&name),
            Evaluator::PersistentVolumeClaims => {
                name == "count/persistentvolumeclaims"
                    || CLAIM_RESOURCES.contains(&name)
                    || CLAIM_RESOURCES
                        .iter()
                        .any(|r| name.ends_with(&format!("{STORAGE_CLASS_SUFFIX}{r}")))
            }
            Evaluator::ObjectCount { names, .. } => names.iter().any(|n| n == name),
        }
    }

    /// Whether `obj` is in the scope of one requirement (kinds without scopes are in none).
    pub fn matches_scope(&self, req: &ScopeRequirement, obj: &Value) -> bool {
        match self {
            Evaluator::Pods => pod_matches_scope(req, obj),
            Evaluator::PersistentVolumeClaims => claim_matches_scope(req, obj),
            _ => false,
        }
    }

    /// The requirements among `reqs` that `obj` satisfies (`MatchingScopes`).
    pub fn matching_scopes(&self, obj: &Value, reqs: &[ScopeRequirement]) -> Vec<ScopeRequirement> {
        reqs.iter()
            .filter(|r| self.matches_scope(r, obj))
            .cloned()
            .collect()
    }

    /// Whether a quota covers `obj`: it limits a resource this evaluator tracks, and the
    /// object is in every one of its scopes.
    pub fn matches(&self, quota: &Value, obj: &Value) -> bool {
        let hard: Vec<String> = usage::read(quota, "/status/hard").into_keys().collect();
        !self.matching_resources(&hard).is_empty()
            && quota_scopes(quota)
                .iter()
                .all(|r| self.matches_scope(r, obj))
    }

    /// The usage one object makes (`Usage`), at time `now`.
    pub fn usage(&self, obj: &Value, now: SystemTime) -> Usage {
        match self {
            Evaluator::Pods => pod_usage(obj, now),
            Evaluator::Services => service_usage(obj),
            Evaluator::PersistentVolumeClaims => claim_usage(obj),
            Evaluator::ObjectCount { names, .. } => {
                names.iter().map(|n| (n.clone(), usage::count(1))).collect()
            }
        }
    }

    /// Requirements a quota limiting `required` puts on `obj` (`Constraints`): pods must set
    /// the compute resources such a quota limits, in every container.
    pub fn constraints(&self, required: &[String], obj: &Value) -> Result<(), String> {
        match self {
            Evaluator::Pods => pod_constraints(required, obj),
            _ => Ok(()),
        }
    }
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The containers and init containers of a pod.
fn all_containers(pod: &Value) -> impl Iterator<Item = &Value> {
    ["containers", "initContainers"]
        .into_iter()
        .flat_map(move |f| {
            pod.pointer(&format!("/spec/{f}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
}

/// `podComputeUsageHelper`: the quota names a set of requests and limits charges.
fn compute_usage(requests: &List, limits: &List) -> Usage {
    let mut out = Usage::new();
    out.insert("pods".to_string(), usage::count(1));
    for (res, names) in [
        ("cpu", ["cpu", "requests.cpu"]),
        ("memory", ["memory", "requests.memory"]),
        (
            "ephemeral-storage",
            ["ephemeral-storage", "requests.ephemeral-storage"],
        ),
    ] {
        if let Some(q) = requests.get(res) {
            for n in names {
                out.insert(n.to_string(), *q);
            }
        }
        if let Some(q) = limits.get(res) {
            out.insert(format!("limits.{res}"), *q);
        }
    }
    for (res, q) in requests {
        if res.starts_with("hugepages-") {
            out.insert(res.clone(), *q);
            out.insert(format!("requests.{res}"), *q);
        } else if !resourcelists::is_native(res) && !res.starts_with("requests.") {
            out.insert(format!("requests.{res}"), *q);
        }
    }
    out
}

/// `PodRequests` / `PodLimits`: the containers' totals, pod-level cpu and memory in place
/// of them when set, and the pod's overhead (for limits: only where a limit is set).
fn pod_resources(pod: &Value, field: &str) -> List {
    let effective = with_status_resources(pod);
    let spec = &effective;
    let mut total = pod_total(spec, field);
    let pod_level = list_at(spec, &format!("/resources/{field}"));
    for res in ["cpu", "memory"] {
        if let Some(q) = pod_level.get(res) {
            total.insert(res.to_string(), *q);
        }
    }
    for (res, q) in list_at(spec, "/overhead") {
        match total.get_mut(&res) {
            Some(t) => t.milli += q.milli,
            None if field == "requests" => {
                total.insert(res, q);
            }
            None => {}
        }
    }
    total
}

/// The larger of each resource over `lists`.
fn max_of(lists: &[List]) -> List {
    let mut out = List::new();
    for list in lists {
        for (k, v) in list {
            match out.get(k) {
                Some(q) if q.milli >= v.milli => {}
                _ => {
                    out.insert(k.clone(), *v);
                }
            }
        }
    }
    out
}

fn list_json(list: &List) -> Value {
    Value::Object(
        list.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.canonical())))
            .collect(),
    )
}

/// The pod's spec with each running container's resources as in-place resizing counts
/// them (upstream's `determineContainerReqs` / `...Limits`): the larger of the spec's, the
/// status's and the allocated requests, or only what the status shows while a resize is
/// infeasible. Containers without status resources keep their spec.
fn with_status_resources(pod: &Value) -> Value {
    let mut spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    let infeasible = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| text(c, "/type") == "PodResizePending" && text(c, "/reason") == "Infeasible");
    for (field, statuses) in [
        ("containers", "containerStatuses"),
        ("initContainers", "initContainerStatuses"),
    ] {
        let statuses: Vec<&Value> = pod
            .pointer(&format!("/status/{statuses}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        let Some(containers) = spec.get_mut(field).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in containers.iter_mut() {
            if field == "initContainers" && text(c, "/restartPolicy") != "Always" {
                continue;
            }
            let name = text(c, "/name").to_string();
            let Some(cs) = statuses
                .iter()
                .find(|cs| text(cs, "/name") == name && cs.get("resources").is_some())
            else {
                continue;
            };
            let status = |f: &str| list_at(cs, &format!("/resources/{f}"));
            let allocated = list_at(cs, "/allocatedResources");
            let (requests, limits) = if infeasible {
                (max_of(&[status("requests"), allocated]), status("limits"))
            } else {
                (
                    max_of(&[
                        list_at(c, "/resources/requests"),
                        status("requests"),
                        allocated,
                    ]),
                    max_of(&[list_at(c, "/resources/limits"), status("limits")]),
                )
            };
            c["resources"] = serde_json::json!({
                "requests": list_json(&requests),
                "limits": list_json(&limits),
            });
        }
    }
    spec
}

/// `QuotaV1Pod`: terminal pods, and pods past their deletion grace period, use no compute.
fn pod_is_charged(pod: &Value, now: SystemTime) -> bool {
    if matches!(text(pod, "/status/phase"), "Failed" | "Succeeded") {
        return false;
    }
    let deleted = pod
        .pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
        .and_then(apimachinery::time::parse_rfc3339);
    let grace = pod
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64);
    if let (Some(at), Some(grace)) = (deleted, grace) {
        let end = at + Duration::from_secs(grace.max(0) as u64);
        if now > end {
            return false;
        }
    }
    true
}

fn pod_usage(pod: &Value, now: SystemTime) -> Usage {
    let mut out = Usage::new();
    out.insert("count/pods".to_string(), usage::count(1));
    if !pod_is_charged(pod, now) {
        return out;
    }
    let requests = pod_resources(pod, "requests");
    let limits = pod_resources(pod, "limits");
    usage::add(&out, &compute_usage(&requests, &limits))
}

/// Upstream's QoS rule: the recorded class, else BestEffort when no container (nor the
/// pod) requests or limits cpu or memory.
fn is_best_effort(pod: &Value) -> bool {
    let recorded = text(pod, "/status/qosClass");
    if !recorded.is_empty() {
        return recorded == "BestEffort";
    }
    let sets_compute = |v: &Value| {
        ["requests", "limits"].iter().any(|f| {
            let l = list_at(v, &format!("/resources/{f}"));
            l.get("cpu").is_some_and(|q| q.milli != 0)
                || l.get("memory").is_some_and(|q| q.milli != 0)
        })
    };
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    !(all_containers(pod).any(sets_compute) || sets_compute(spec))
}

fn is_terminating(pod: &Value) -> bool {
    pod.pointer("/spec/activeDeadlineSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|s| s >= 0)
}

/// Whether a pod's (anti-)affinity names other namespaces (`namespaces` or a
/// `namespaceSelector` in any term).
fn uses_cross_namespace_affinity(pod: &Value) -> bool {
    let cross = |t: &Value| {
        t.get("namespaces")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
            || t.get("namespaceSelector").is_some_and(|s| !s.is_null())
    };
    ["podAffinity", "podAntiAffinity"].iter().any(|kind| {
        let Some(a) = pod.pointer(&format!("/spec/affinity/{kind}")) else {
            return false;
        };
        let terms = |f: &str| {
            a.get(f)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        terms("requiredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .any(cross)
            || terms("preferredDuringSchedulingIgnoredDuringExecution")
                .iter()
                .any(|w| w.get("podAffinityTerm").is_some_and(cross))
    })
}

fn pod_matches_scope(req: &ScopeRequirement, pod: &Value) -> bool {
    match req.scope.as_str() {
        "Terminating" => is_terminating(pod),
        "NotTerminating" => !is_terminating(pod),
        "BestEffort" => is_best_effort(pod),
        "NotBestEffort" => !is_best_effort(pod),
        "PriorityClass" => {
            let class = text(pod, "/spec/priorityClassName");
            req.matches_value(Some(class).filter(|c| !c.is_empty()))
        }
        "CrossNamespacePodAffinity" => uses_cross_namespace_affinity(pod),
        _ => false,
    }
}

/// `enforcePodContainerConstraints` over every container: the compute names a quota
/// limits that a container does not set, worded as upstream's `must specify ...`.
fn pod_constraints(required: &[String], pod: &Value) -> Result<(), String> {
    let required: BTreeSet<&str> = required
        .iter()
        .map(String::as_str)
        .filter(|r| MUST_SPECIFY.contains(r))
        .collect();
    let mut missing: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for c in all_containers(pod) {
        let requests = list_at(c, "/resources/requests");
        let limits = list_at(c, "/resources/limits");
        let has = compute_usage(&requests, &limits);
        for r in &required {
            if !has.contains_key(*r) {
                missing
                    .entry(r)
                    .or_default()
                    .insert(text(c, "/name").to_string());
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let parts: Vec<String> = missing
        .iter()
        .map(|(r, names)| {
            format!(
                "{r} for: {}",
                names.iter().cloned().collect::<Vec<_>>().join(",")
            )
        })
        .collect();
    Err(format!("must specify {}", parts.join("; ")))
}

fn service_usage(svc: &Value) -> Usage {
    let ports = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Usage::new();
    out.insert("count/services".to_string(), usage::count(1));
    out.insert("services".to_string(), usage::count(1));
    let (mut node_ports, mut balancers) = (0, 0);
    match text(svc, "/spec/type") {
        "NodePort" => node_ports = ports.len() as i128,
        "LoadBalancer" => {
            balancers = 1;
            let allocate = svc
                .pointer("/spec/allocateLoadBalancerNodePorts")
                .and_then(Value::as_bool);
            node_ports = if allocate == Some(false) {
                ports
                    .iter()
                    .filter(|p| p.get("nodePort").and_then(Value::as_i64).unwrap_or(0) != 0)
                    .count() as i128
            } else {
                ports.len() as i128
            };
        }
        _ => {}
    }
    out.insert("services.nodeports".to_string(), usage::count(node_ports));
    out.insert(
        "services.loadbalancers".to_string(),
        usage::count(balancers),
    );
    out
}

/// A claim's storage class: `spec.storageClassName`, else the beta annotation.
fn claim_class(pvc: &Value) -> String {
    let class = text(pvc, "/spec/storageClassName");
    if !class.is_empty() {
        return class.to_string();
    }
    text(
        pvc,
        "/metadata/annotations/volume.beta.kubernetes.io~1storage-class",
    )
    .to_string()
}

/// Rounds a quantity up to whole units (storage is counted in bytes).
fn round_up(q: Milli) -> Milli {
    Milli {
        milli: (q.milli + 999).div_euclid(1000) * 1000,
        binary: q.binary,
    }
}

fn claim_usage(pvc: &Value) -> Usage {
    let mut out = Usage::new();
    out.insert("persistentvolumeclaims".to_string(), usage::count(1));
    out.insert("count/persistentvolumeclaims".to_string(), usage::count(1));
    let class = claim_class(pvc);
    if !class.is_empty() {
        out.insert(
            format!("{class}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"),
            usage::count(1),
        );
    }
    let requested = pvc
        .pointer("/spec/resources/requests/storage")
        .and_then(Milli::of)
        .map(round_up);
    let allocated = pvc
        .pointer("/status/allocatedResources/storage")
        .and_then(Milli::of)
        .map(round_up);
    let storage = match (requested, allocated) {
        (Some(r), Some(a)) if a.milli > r.milli => Some(a),
        (r, _) => r,
    };
    if let Some(q) = storage {
        out.insert("requests.storage".to_string(), q);
        if !class.is_empty() {
            out.insert(format!("{class}{STORAGE_CLASS_SUFFIX}requests.storage"), q);
        }
    }
    out
}

/// The VolumeAttributesClass names a claim refers to (spec, status, a pending change).
fn claim_attribute_classes(pvc: &Value) -> BTreeSet<String> {
    [
        "/spec/volumeAttributesClassName",
        "/status/currentVolumeAttributesClassName",
        "/status/modifyVolumeStatus/targetVolumeAttributesClassName",
    ]
    .iter()
    .map(|p| text(pvc, p).to_string())
    .filter(|s| !s.is_empty())
    .collect()
}

fn claim_matches_scope(req: &ScopeRequirement, pvc: &Value) -> bool {
    if req.scope != "VolumeAttributesClass" {
        return false;
    }
    let classes = claim_attribute_classes(pvc);
    if classes.is_empty() {
        return req.matches_value(None);
    }
    classes.iter().any(|c| req.matches_value(Some(c)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> SystemTime {
        SystemTime::now()
    }

    fn pod(containers: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": {"containers": containers}})
    }

    #[test]
    fn evaluators_by_resource() {
        assert_eq!(Evaluator::for_resource("pods"), Some(Evaluator::Pods));
        assert_eq!(Evaluator::for_resource("events"), None);
        let Some(Evaluator::ObjectCount { names, .. }) = Evaluator::for_resource("configmaps")
        else {
            panic!("configmaps are counted");
        };
        assert_eq!(names, vec!["count/configmaps", "configmaps"]);
        let deploy = Evaluator::for_resource("deployments.apps");
        assert_eq!(
            deploy.map(|e| e.usage(&json!({}), now())),
            Some([("count/deployments.apps".to_string(), usage::count(1))].into())
        );
    }

    #[test]
    fn pod_usage_counts_requests_limits_and_extended_resources() {
        let p = pod(json!([
            {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "1Gi", "example.com/gpu": "1"}, "limits": {"cpu": "200m"}}},
            {"name": "b", "resources": {"requests": {"cpu": "400m", "memory": "512Mi"}}},
        ]));
        let u = Evaluator::Pods.usage(&p, now());
        assert_eq!(
            usage::pretty(&u),
            "count/pods=1,cpu=500m,limits.cpu=200m,memory=1536Mi,pods=1,requests.cpu=500m,requests.example.com/gpu=1,requests.memory=1536Mi"
        );
        let mut done = p.clone();
        done["status"] = json!({"phase": "Succeeded"});
        assert_eq!(
            usage::pretty(&Evaluator::Pods.usage(&done, now())),
            "count/pods=1"
        );
        let mut gone = p;
        gone["metadata"]["deletionTimestamp"] = json!("2020-01-01T00:00:00Z");
        gone["metadata"]["deletionGracePeriodSeconds"] = json!(30);
        assert_eq!(
            usage::pretty(&Evaluator::Pods.usage(&gone, now())),
            "count/pods=1"
        );
    }

    #[test]
    fn running_resizes_count_the_larger_of_spec_and_status() {
        let mut p = pod(json!([
            {"name": "a", "resources": {"requests": {"cpu": "500m"}, "limits": {"memory": "1Gi"}}},
        ]));
        p["status"] = json!({"containerStatuses": [{
            "name": "a",
            "allocatedResources": {"cpu": "800m"},
            "resources": {"requests": {"cpu": "800m"}, "limits": {"memory": "2Gi"}},
        }]});
        let u = Evaluator::Pods.usage(&p, now());
        assert_eq!(
            u.get("requests.cpu").map(Milli::canonical).as_deref(),
            Some("800m")
        );
        assert_eq!(
            u.get("limits.memory").map(Milli::canonical).as_deref(),
            Some("2Gi")
        );
        p["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("2");
        let u = Evaluator::Pods.usage(&p, now());
        assert_eq!(
            u.get("requests.cpu").map(Milli::canonical).as_deref(),
            Some("2")
        );
        p["status"]["conditions"] = json!([{"type": "PodResizePending", "reason": "Infeasible"}]);
        let u = Evaluator::Pods.usage(&p, now());
        assert_eq!(
            u.get("requests.cpu").map(Milli::canonical).as_deref(),
            Some("800m")
        );
    }

    #[test]
    fn pods_must_specify_limited_compute_resources() {
        let p = pod(json!([
            {"name": "web", "resources": {"requests": {"cpu": "100m"}}},
            {"name": "db"},
        ]));
        let required: Vec<String> = ["requests.cpu", "limits.memory", "pods"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            Evaluator::Pods.constraints(&required, &p),
            Err("must specify limits.memory for: db,web; requests.cpu for: db".to_string())
        );
        assert_eq!(
            Evaluator::Pods.constraints(&["pods".to_string()], &p),
            Ok(())
        );
    }

    #[test]
    fn pod_scopes() {
        let best_effort = pod(json!([{"name": "a"}]));
        let mut burstable = pod(json!([{"name": "a", "resources": {"requests": {"cpu": "1"}}}]));
        burstable["spec"]["activeDeadlineSeconds"] = json!(10);
        burstable["spec"]["priorityClassName"] = json!("high");
        let exists = |s: &str| ScopeRequirement {
            scope: s.to_string(),
            operator: "Exists".to_string(),
            values: vec![],
        };
        let e = Evaluator::Pods;
        assert!(e.matches_scope(&exists("BestEffort"), &best_effort));
        assert!(e.matches_scope(&exists("NotTerminating"), &best_effort));
        assert!(e.matches_scope(&exists("NotBestEffort"), &burstable));
        assert!(e.matches_scope(&exists("Terminating"), &burstable));
        assert!(!e.matches_scope(&exists("PriorityClass"), &best_effort));
        let class_in = |op: &str| ScopeRequirement {
            scope: "PriorityClass".to_string(),
            operator: op.to_string(),
            values: vec!["high".to_string()],
        };
        assert!(e.matches_scope(&class_in("In"), &burstable));
        assert!(!e.matches_scope(&class_in("In"), &best_effort));
        assert!(e.matches_scope(&class_in("NotIn"), &best_effort));
        let quota = json!({
            "spec": {"scopes": ["BestEffort"]},
            "status": {"hard": {"pods": "1"}},
        });
        assert!(e.matches(&quota, &best_effort));
        assert!(!e.matches(&quota, &burstable));
    }

    #[test]
    fn services_and_claims() {
        let lb = json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80}, {"port": 443}]}});
        assert_eq!(
            usage::pretty(&Evaluator::Services.usage(&lb, now())),
            "count/services=1,services=1,services.loadbalancers=1,services.nodeports=2"
        );
        let pvc = json!({"spec": {"storageClassName": "gold", "resources": {"requests": {"storage": "1.5"}}}});
        assert_eq!(
            usage::pretty(&Evaluator::PersistentVolumeClaims.usage(&pvc, now())),
            "count/persistentvolumeclaims=1,gold.storageclass.storage.k8s.io/persistentvolumeclaims=1,gold.storageclass.storage.k8s.io/requests.storage=2,persistentvolumeclaims=1,requests.storage=2"
        );
        let names = vec![
            "gold.storageclass.storage.k8s.io/requests.storage".to_string(),
            "pods".to_string(),
        ];
        assert_eq!(
            Evaluator::PersistentVolumeClaims.matching_resources(&names),
            vec![names[0].clone()]
        );
    }
}

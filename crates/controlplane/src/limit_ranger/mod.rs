//! The LimitRanger admission plugin: a namespace's LimitRanges give its pods' containers
//! default requests and limits (mutating phase, noted in the `kubernetes.io/limit-ranger`
//! annotation) and bound containers, pods and PersistentVolumeClaims by min, max and
//! max limit/request ratio (validating phase).

pub(crate) mod constraints;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apimachinery::errors::ApiError;
use apiserver::admission::{AdmissionPlugin, Attributes, Operation};
use apiserver::registry::{ListParams, Listers};
use serde_json::{json, Map, Value};

use constraints::{list_at, pod_total, List, Milli};

/// The annotation naming what the plugin defaulted.
pub const ANNOTATION: &str = "kubernetes.io/limit-ranger";

/// How long a live list of a namespace with no cached LimitRanges is reused.
const LIVE_LOOKUP_TTL: Duration = Duration::from_secs(30);

/// The plugin. It reads LimitRanges through the shared listers.
pub struct LimitRanger {
    listers: Arc<Listers>,
    /// Live lists of namespaces whose cache showed none, with when they were read.
    live: Mutex<HashMap<String, (Instant, Vec<Value>)>>,
}

impl LimitRanger {
    pub fn new(listers: Arc<Listers>) -> LimitRanger {
        LimitRanger {
            listers,
            live: Mutex::new(HashMap::new()),
        }
    }

    /// The namespace's LimitRanges: the cache's, else a live list (reused for a while).
    async fn limit_ranges(&self, namespace: &str) -> Result<Vec<Value>, ApiError> {
        let cached = self.listers.list("limitranges", namespace, None).await?;
        if !cached.is_empty() {
            return Ok(cached);
        }
        {
            let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, items)) = live.get(namespace) {
                if at.elapsed() < LIVE_LOOKUP_TTL {
                    return Ok(items.clone());
                }
            }
        }
        let out = self
            .listers
            .store("limitranges")?
            .list(namespace, &ListParams::default())
            .await?;
        let items: Vec<Value> = out
            .items
            .iter()
            .filter_map(|b| serde_json::from_slice(b).ok())
            .collect();
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|_, (at, _)| at.elapsed() < LIVE_LOOKUP_TTL);
        live.insert(namespace.to_string(), (Instant::now(), items.clone()));
        Ok(items)
    }

    /// The LimitRanges that apply, or `None` when the request is not one the plugin sees.
    async fn applicable(
        &self,
        attrs: &Attributes<'_>,
    ) -> Result<Option<(Target, Vec<Value>)>, ApiError> {
        let decl = attrs.resource;
        if !attrs.subresource.is_empty() || !decl.group.is_empty() {
            return Ok(None);
        }
        let target = match decl.plural.as_str() {
            // Containers cannot change after creation: pod updates are not limited.
            "pods" if attrs.operation == Operation::Create => Target::Pod,
            "persistentvolumeclaims" => Target::Claim,
            _ => return Ok(None),
        };
        if attrs
            .old
            .is_some_and(|old| old.pointer("/metadata/deletionTimestamp").is_some())
        {
            return Ok(None);
        }
        Ok(Some((target, self.limit_ranges(attrs.namespace).await?)))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Pod,
    Claim,
}

/// The limits of a LimitRange, as `(type, limit item)`.
fn limits(range: &Value) -> impl Iterator<Item = (&str, &Value)> {
    range
        .pointer("/spec/limits")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|l| (l.get("type").and_then(Value::as_str).unwrap_or(""), l))
}

/// Sets the defaults of one LimitRange's Container limits on every container and init
/// container that lacks them, and notes what it set in the annotation.
fn default_pod(range: &Value, pod: &mut Value) {
    let mut requests = Map::new();
    let mut limits_default = Map::new();
    for (kind, limit) in limits(range) {
        if kind != "Container" {
            continue;
        }
        for (field, into) in [
            ("defaultRequest", &mut requests),
            ("default", &mut limits_default),
        ] {
            if let Some(m) = limit.get(field).and_then(Value::as_object) {
                into.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
    }
    let mut notes = Vec::new();
    for (field, what) in [
        ("containers", "container"),
        ("initContainers", "init container"),
    ] {
        let Some(list) = pod
            .pointer_mut(&format!("/spec/{field}"))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for c in list.iter_mut().filter_map(Value::as_object_mut) {
            let name = c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let resources = c.entry("resources").or_insert_with(|| json!({}));
            if !resources.is_object() {
                *resources = json!({});
            }
            let Some(resources) = resources.as_object_mut() else {
                continue;
            };
            let mut set = |key: &str, defaults: &Map<String, Value>| {
                let list = resources.entry(key).or_insert_with(|| json!({}));
                if !list.is_object() {
                    *list = json!({});
                }
                let mut names = Vec::new();
                if let Some(list) = list.as_object_mut() {
                    for (k, v) in defaults {
                        if !list.contains_key(k) {
                            list.insert(k.clone(), v.clone());
                            names.push(k.clone());
                        }
                    }
                }
                names.sort();
                names
            };
            let set_limits = set("limits", &limits_default);
            let set_requests = set("requests", &requests);
            for key in ["limits", "requests"] {
                if resources
                    .get(key)
                    .and_then(Value::as_object)
                    .is_some_and(Map::is_empty)
                {
                    resources.remove(key);
                }
            }
            if !set_requests.is_empty() {
                notes.push(format!(
                    "{} request for {what} {name}",
                    set_requests.join(", ")
                ));
            }
            if !set_limits.is_empty() {
                notes.push(format!("{} limit for {what} {name}", set_limits.join(", ")));
            }
        }
    }
    if notes.is_empty() {
        return;
    }
    let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
    if !annotations.is_object() {
        *annotations = json!({});
    }
    if let Some(a) = annotations.as_object_mut() {
        a.insert(
            ANNOTATION.to_string(),
            json!(format!("LimitRanger plugin set: {}", notes.join("; "))),
        );
    }
}

/// Every constraint of `limit` over one (requests, limits) pair.
fn check_all(kind: &str, limit: &Value, requests: &List, lims: &List, errs: &mut Vec<String>) {
    type Check = fn(&str, &str, Milli, &List, &List) -> Option<String>;
    let checks: [(&str, Check); 3] = [
        ("min", constraints::min),
        ("max", constraints::max),
        ("maxLimitRequestRatio", constraints::ratio),
    ];
    for (field, check) in checks {
        for (name, enforced) in list_at(limit, &format!("/{field}")) {
            errs.extend(check(kind, &name, enforced, requests, lims));
        }
    }
}

/// The constraints one LimitRange puts on a pod or a claim, as error messages.
fn violations(range: &Value, target: Target, obj: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    for (kind, limit) in limits(range) {
        match (target, kind) {
            (Target::Pod, "Container") => {
                for field in ["containers", "initContainers"] {
                    for c in spec
                        .get(field)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let requests = list_at(c, "/resources/requests");
                        let lims = list_at(c, "/resources/limits");
                        check_all(kind, limit, &requests, &lims, &mut errs);
                    }
                }
            }
            (Target::Pod, "Pod") => {
                let requests = pod_total(spec, "requests");
                let lims = pod_total(spec, "limits");
                check_all(kind, limit, &requests, &lims, &mut errs);
            }
            (Target::Claim, "PersistentVolumeClaim") => {
                let requests = list_at(spec, "/resources/requests");
                for (name, enforced) in list_at(limit, "/min") {
                    errs.extend(constraints::min(
                        kind,
                        &name,
                        enforced,
                        &requests,
                        &List::new(),
                    ));
                }
                for (name, enforced) in list_at(limit, "/max") {
                    errs.extend(constraints::max_request(kind, &name, enforced, &requests));
                }
            }
            _ => {}
        }
    }
    errs
}

/// Upstream's error aggregate: one message alone, several (distinct) in brackets.
fn aggregate(errs: Vec<String>) -> String {
    let mut seen = Vec::new();
    for e in errs {
        if !seen.contains(&e) {
            seen.push(e);
        }
    }
    if seen.len() == 1 {
        seen.remove(0)
    } else {
        format!("[{}]", seen.join(", "))
    }
}

/// Upstream's `admission.NewForbidden` naming: the request's name, else the object's name
/// or generateName, else `Unknown`.
pub(crate) fn forbidden(attrs: &Attributes<'_>, obj: &Value, msg: &str) -> ApiError {
    let meta = |f: &str| {
        obj.pointer(&format!("/metadata/{f}"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let name = Some(attrs.name)
        .filter(|n| !n.is_empty())
        .or_else(|| meta("name"))
        .or_else(|| meta("generateName"))
        .unwrap_or("Unknown");
    ApiError::forbidden(&attrs.resource.group, &attrs.resource.plural, name, msg)
}

#[async_trait::async_trait]
impl AdmissionPlugin for LimitRanger {
    fn name(&self) -> &'static str {
        "LimitRanger"
    }

    fn handles(&self, operation: Operation) -> bool {
        matches!(operation, Operation::Create | Operation::Update)
    }

    async fn admit(&self, attrs: &Attributes<'_>, obj: Option<&mut Value>) -> Result<(), ApiError> {
        let Some(obj) = obj else {
            return Ok(());
        };
        if let Some((Target::Pod, ranges)) = self.applicable(attrs).await? {
            for range in &ranges {
                default_pod(range, obj);
            }
        }
        Ok(())
    }

    async fn validate(&self, attrs: &Attributes<'_>, obj: Option<&Value>) -> Result<(), ApiError> {
        let Some(obj) = obj else {
            return Ok(());
        };
        let Some((target, ranges)) = self.applicable(attrs).await? else {
            return Ok(());
        };
        for range in &ranges {
            let errs = violations(range, target, obj);
            if !errs.is_empty() {
                return Err(forbidden(attrs, obj, &aggregate(errs)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range() -> Value {
        json!({"spec": {"limits": [{
            "type": "Container",
            "default": {"cpu": "500m", "memory": "256Mi"},
            "defaultRequest": {"cpu": "100m"},
            "min": {"cpu": "50m"},
            "max": {"cpu": "1"},
        }]}})
    }

    #[test]
    fn defaults_containers_and_notes_them() {
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {
            "containers": [{"name": "a"}, {"name": "b", "resources": {"limits": {"cpu": "800m"}}}],
            "initContainers": [{"name": "i"}],
        }});
        default_pod(&range(), &mut pod);
        assert_eq!(
            pod["spec"]["containers"][0]["resources"],
            json!({"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m"}})
        );
        assert_eq!(
            pod["spec"]["containers"][1]["resources"]["limits"],
            json!({"cpu": "800m", "memory": "256Mi"})
        );
        assert_eq!(
            pod["metadata"]["annotations"][ANNOTATION],
            json!("LimitRanger plugin set: cpu request for container a; cpu, memory limit for container a; cpu request for container b; memory limit for container b; cpu request for init container i; cpu, memory limit for init container i")
        );
        assert!(violations(&range(), Target::Pod, &pod).is_empty());
    }

    #[test]
    fn violations_are_aggregated() {
        let pod = json!({"spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "10m"}, "limits": {"cpu": "2"}}}]}});
        let errs = violations(&range(), Target::Pod, &pod);
        assert_eq!(
            aggregate(errs),
            "[minimum cpu usage per Container is 50m, but request is 10m, maximum cpu usage per Container is 1, but limit is 2]"
        );
        let claim_range = json!({"spec": {"limits": [{"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "10Gi"}}]}});
        let claim = json!({"spec": {"resources": {"requests": {"storage": "20Gi"}}}});
        assert_eq!(
            aggregate(violations(&claim_range, Target::Claim, &claim)),
            "maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi"
        );
    }
}

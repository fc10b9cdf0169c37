//! `resourcequotas` (core/v1): per-namespace limits on resource use, stored and
//! validated here; `crate::resource_quota` enforces them (admission) and keeps their
//! status (the quota controller).

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::fields;
use super::resourcelists;
use crate::types::Typed;

/// `standardQuotaResources`: the names a quota may hold without a domain.
const QUOTA_RESOURCES: [&str; 19] = [
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "persistentvolumeclaims",
    "configmaps",
    "services.nodeports",
    "services.loadbalancers",
];

/// `integerResources`: counts, whose quantities must be whole.
const INTEGER_RESOURCES: [&str; 9] = [
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];

/// The scopes upstream knows.
const SCOPES: [&str; 7] = [
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
    "VolumeAttributesClass",
];

/// Scopes a quota cannot have together.
const CONFLICTING: [[&str; 2]; 2] = [
    ["BestEffort", "NotBestEffort"],
    ["Terminating", "NotTerminating"],
];

/// The pod compute resources scoped quotas may limit.
const POD_COMPUTE: [&str; 6] = [
    "cpu",
    "memory",
    "limits.cpu",
    "limits.memory",
    "requests.cpu",
    "requests.memory",
];

const EXISTS_ONLY_MSG: &str = "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity";

/// Upstream's ResourceQuota strategy: `status` is the quota controller's.
pub struct ResourceQuotaStrategy;

fn is_standard_quota_resource(name: &str) -> bool {
    QUOTA_RESOURCES.contains(&name)
        || name.starts_with("hugepages-")
        || name.starts_with("requests.hugepages-")
}

/// `IsResourceQuotaScopeValidForResource`.
fn scope_valid_for(scope: &str, resource: &str) -> bool {
    match scope {
        "Terminating"
        | "NotTerminating"
        | "NotBestEffort"
        | "PriorityClass"
        | "CrossNamespacePodAffinity" => resource == "pods" || POD_COMPUTE.contains(&resource),
        "BestEffort" => resource == "pods",
        "VolumeAttributesClass" => {
            resource == "persistentvolumeclaims" || resource == "requests.storage"
        }
        _ => true,
    }
}

/// `ValidateResourceQuotaResourceName`.
fn validate_quota_name(name: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = resourcelists::validate_resource_name(name, path);
    if !name.contains('/') && !is_standard_quota_resource(name) {
        errs.push(FieldError::invalid(
            path,
            json!(name),
            "must be a standard resource for quota",
        ));
    }
    errs
}

/// `ValidateResourceQuantityValue`: non-negative, and whole for counted resources.
fn validate_quantity(name: &str, v: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(q) = resourcelists::quantity(v) else {
        return errs;
    };
    if q.value < 0.0 {
        errs.push(FieldError::invalid(
            path,
            json!(q.text),
            validation::IS_NEGATIVE_ERROR_MSG,
        ));
    }
    let integer = INTEGER_RESOURCES.contains(&name)
        || (!resourcelists::is_native(name) && !name.starts_with("requests."));
    if integer && (q.value * 1000.0).round() % 1000.0 != 0.0 {
        errs.push(FieldError::invalid(
            path,
            json!(q.text),
            "must be an integer",
        ));
    }
    errs
}

/// Names and quantities of the resource list at `field` of `parent`.
fn validate_list(parent: &Value, field: &str, path: &FieldPath) -> Vec<FieldError> {
    let path = path.child(field);
    resourcelists::entries(parent, field)
        .into_iter()
        .flat_map(|(k, v)| {
            let p = path.key(k);
            let mut errs = validate_quota_name(k, &p);
            errs.extend(validate_quantity(k, v, &p));
            errs
        })
        .collect()
}

fn spec(obj: &Value) -> &Value {
    obj.get("spec").unwrap_or(&Value::Null)
}

fn scopes(obj: &Value) -> Vec<&str> {
    fields::array(spec(obj), "scopes")
        .iter()
        .map(|s| s.as_str().unwrap_or(""))
        .collect()
}

/// The resource names of `spec.hard` that are standard quota resources.
fn standard_hard(obj: &Value) -> Vec<&str> {
    resourcelists::entries(spec(obj), "hard")
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| is_standard_quota_resource(k))
        .collect()
}

fn conflicts(seen: &[&str]) -> usize {
    CONFLICTING
        .iter()
        .filter(|pair| pair.iter().all(|s| seen.contains(s)))
        .count()
}

/// `validateResourceQuotaScopes`.
fn validate_scopes(obj: &Value, errs: &mut Vec<FieldError>) {
    let list = scopes(obj);
    if list.is_empty() {
        return;
    }
    let path = FieldPath::new("spec").child("scopes");
    let value = spec(obj).get("scopes").cloned().unwrap_or(Value::Null);
    let hard = standard_hard(obj);
    for scope in &list {
        if !SCOPES.contains(scope) {
            errs.push(FieldError::invalid(
                &path,
                value.clone(),
                "unsupported scope",
            ));
        }
        for _ in hard.iter().filter(|k| !scope_valid_for(scope, k)) {
            errs.push(FieldError::invalid(
                &path,
                value.clone(),
                "unsupported scope applied to resource",
            ));
        }
    }
    for _ in 0..conflicts(&list) {
        errs.push(FieldError::invalid(
            &path,
            value.clone(),
            "conflicting scopes",
        ));
    }
}

/// `validateScopedResourceSelectorRequirement`; its paths name no index, as upstream's.
fn validate_scope_selector(obj: &Value, errs: &mut Vec<FieldError>) {
    let Some(selector) = spec(obj).get("scopeSelector").filter(|s| !s.is_null()) else {
        return;
    };
    let path = FieldPath::new("spec")
        .child("scopeSelector")
        .child("matchExpressions");
    let hard = standard_hard(obj);
    let mut seen = Vec::new();
    for req in fields::array(selector, "matchExpressions") {
        let scope = fields::str_of(req, "scopeName");
        let operator = fields::str_of(req, "operator");
        let values = fields::array(req, "values");
        if !SCOPES.contains(&scope) {
            errs.push(FieldError::invalid(
                &path.child("scopeName"),
                json!(scope),
                "unsupported scope",
            ));
        }
        for _ in hard.iter().filter(|k| !scope_valid_for(scope, k)) {
            errs.push(FieldError::invalid(
                &path,
                selector.clone(),
                "unsupported scope applied to resource",
            ));
        }
        let exists_only = [
            "BestEffort",
            "NotBestEffort",
            "Terminating",
            "NotTerminating",
            "CrossNamespacePodAffinity",
        ];
        if exists_only.contains(&scope) && operator != "Exists" {
            errs.push(FieldError::invalid(
                &path.child("operator"),
                json!(operator),
                EXISTS_ONLY_MSG,
            ));
        }
        match operator {
            "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
                &path.child("values"),
                "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::invalid(
                &path.child("values"),
                json!(values),
                "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errs.push(FieldError::invalid(
                &path.child("operator"),
                json!(other),
                "not a valid selector operator",
            )),
        }
        seen.push(scope);
    }
    let value = spec(obj).get("scopes").cloned().unwrap_or(Value::Null);
    for _ in 0..conflicts(&seen) {
        errs.push(FieldError::invalid(
            &path,
            value.clone(),
            "conflicting scopes",
        ));
    }
}

/// Upstream's `ValidateResourceQuotaSpec`.
fn validate_spec(obj: &Value) -> Vec<FieldError> {
    let mut errs = validate_list(spec(obj), "hard", &FieldPath::new("spec"));
    validate_scopes(obj, &mut errs);
    validate_scope_selector(obj, &mut errs);
    errs
}

/// Upstream's status checks: the names and quantities of `status.hard` and `status.used`.
fn validate_status(obj: &Value) -> Vec<FieldError> {
    let status = obj.get("status").unwrap_or(&Value::Null);
    let path = FieldPath::new("status");
    let mut errs = validate_list(status, "hard", &path);
    errs.extend(validate_list(status, "used", &path));
    errs
}

/// The REQUEST and LIMIT cells: `name: used/hard` for each hard limit in name order,
/// `limits.*` in the second.
fn usage_cells(obj: &Value) -> (String, String) {
    let status = obj.get("status").unwrap_or(&Value::Null);
    let (mut request, mut limit) = (Vec::new(), Vec::new());
    let mut hard_list = resourcelists::entries(status, "hard");
    hard_list.sort_unstable_by_key(|(name, _)| *name);
    for (name, hard) in hard_list {
        let used = status
            .get("used")
            .and_then(|u| u.get(name))
            .and_then(resourcelists::quantity)
            .map_or_else(|| "0".to_string(), |q| q.text);
        let hard = resourcelists::quantity(hard).map_or_else(|| "0".to_string(), |q| q.text);
        let text = format!("{name}: {used}/{hard}");
        if name.split('.').next() == Some("limits") && name.contains('.') {
            limit.push(text);
        } else {
            request.push(text);
        }
    }
    (request.join(", "), limit.join(", "))
}

impl Strategy for ResourceQuotaStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        obj["status"] = json!({});
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        new["status"] = old.get("status").cloned().unwrap_or_else(|| json!({}));
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let mut errs = validate_spec(obj);
        errs.extend(validate_status(obj));
        errs
    }

    /// `ValidateResourceQuotaUpdate`: the spec again, and `spec.scopes` is immutable.
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = validate_spec(new);
        let set = |o| {
            let mut s = scopes(o);
            s.sort_unstable();
            s.dedup();
            s
        };
        if set(new) != set(old) {
            errs.push(FieldError::invalid(
                &FieldPath::new("spec").child("scopes"),
                spec(new).get("scopes").cloned().unwrap_or(Value::Null),
                validation::FIELD_IMMUTABLE_ERROR_MSG,
            ));
        }
        errs
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        _old: &Value,
    ) -> Vec<FieldError> {
        if subresource == "status" {
            validate_status(new)
        } else {
            Vec::new()
        }
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::AGE,
            ColumnDef::new(
                "Request",
                "string",
                "Request represents a minimum amount of cpu/memory that a container may consume.",
            ),
            ColumnDef::new(
                "Limit",
                "string",
                "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
            ),
        ]
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let (request, limit) = usage_cells(obj);
        vec![
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
            Cell::Value(json!(request)),
            Cell::Value(json!(limit)),
        ]
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "",
        "v1",
        "ResourceQuota",
        "resourcequotas",
        Scope::Namespaced,
        Arc::new(ResourceQuotaStrategy),
    )
    .typed()
    .with_short_names(&["quota"])
    .with_subresources(&["status"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(spec: Value) -> Value {
        json!({"metadata": {"name": "q", "namespace": "default"}, "spec": spec})
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter()
            .map(|e| format!("{}: {}", e.field, e.error_body()))
            .collect()
    }

    #[test]
    fn hard_quantities() {
        assert!(validate_spec(&quota(json!({"hard": {
            "pods": "10", "requests.cpu": "500m", "count/deployments.apps": "2",
            "requests.nvidia.com/gpu": "1"}})))
        .is_empty());
        assert_eq!(
            messages(&validate_spec(&quota(json!({"hard": {
                "pods": "1500m", "memory": "-1Gi", "storage": "1", "widgets": "1"}})))),
            [
                "spec.hard[pods]: Invalid value: \"1500m\": must be an integer",
                "spec.hard[memory]: Invalid value: \"-1Gi\": must be greater than or equal to 0",
                "spec.hard[storage]: Invalid value: \"storage\": must be a standard resource for quota",
                "spec.hard[widgets]: Invalid value: \"widgets\": must be a standard resource type or fully qualified",
                "spec.hard[widgets]: Invalid value: \"widgets\": must be a standard resource for quota",
            ]
        );
    }

    #[test]
    fn scopes() {
        assert!(validate_spec(&quota(
            json!({"hard": {"pods": "1"}, "scopes": ["BestEffort"]})
        ))
        .is_empty());
        let errs = validate_spec(&quota(json!({"hard": {"cpu": "1"},
            "scopes": ["BestEffort", "NotBestEffort", "Sometimes"]})));
        let details: Vec<_> = errs.iter().map(|e| e.detail.as_str()).collect();
        assert_eq!(
            details,
            [
                "unsupported scope applied to resource",
                "unsupported scope",
                "conflicting scopes",
            ]
        );
        assert!(errs.iter().all(|e| e.field == "spec.scopes"));
    }

    #[test]
    fn scope_selector() {
        assert!(
            validate_spec(&quota(json!({"scopeSelector": {"matchExpressions": [
            {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}})))
            .is_empty()
        );
        let errs = validate_spec(&quota(json!({"scopeSelector": {"matchExpressions": [
            {"scopeName": "Terminating", "operator": "In"},
            {"scopeName": "Often", "operator": "Exists", "values": ["x"]},
            {"scopeName": "PriorityClass", "operator": "Near"}]}})));
        assert_eq!(
            messages(&errs),
            [
                format!("spec.scopeSelector.matchExpressions.operator: Invalid value: \"In\": {EXISTS_ONLY_MSG}"),
                "spec.scopeSelector.matchExpressions.values: Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector".to_string(),
                "spec.scopeSelector.matchExpressions.scopeName: Invalid value: \"Often\": unsupported scope".to_string(),
                "spec.scopeSelector.matchExpressions.values: Invalid value: [\"x\"]: must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector".to_string(),
                "spec.scopeSelector.matchExpressions.operator: Invalid value: \"Near\": not a valid selector operator".to_string(),
            ]
        );
    }

    #[test]
    fn status_split_and_immutable_scopes() {
        let s = ResourceQuotaStrategy;
        let mut obj = quota(json!({"hard": {"pods": "2"}, "scopes": ["BestEffort"]}));
        obj["status"] = json!({"used": {"pods": "1"}});
        s.prepare_for_create(&mut obj);
        assert_eq!(obj["status"], json!({}));
        let mut status = quota(json!({"hard": {"pods": "9"}}));
        status["status"] = json!({"hard": {"pods": "2"}, "used": {"pods": "-1"}});
        let merged = s
            .subresource_update("status", &status, &obj)
            .unwrap_or_default();
        assert_eq!(merged["spec"]["hard"]["pods"], "2");
        assert_eq!(
            messages(&s.validate_subresource_update("status", &merged, &obj)),
            ["status.used[pods]: Invalid value: \"-1\": must be greater than or equal to 0"]
        );
        let mut new = quota(json!({"hard": {"pods": "2"}}));
        s.prepare_for_update(&mut new, &merged);
        assert_eq!(new["status"]["hard"]["pods"], "2");
        assert_eq!(
            messages(&s.validate_update(&new, &merged)),
            ["spec.scopes: Invalid value: null: field is immutable"]
        );
    }

    #[test]
    fn table_cells() {
        let s = ResourceQuotaStrategy;
        let mut obj = quota(json!({}));
        obj["status"] = json!({
            "hard": {"pods": "10", "limits.memory": "1Gi", "requests.cpu": "1", "limits.cpu": "2"},
            "used": {"pods": "3", "limits.cpu": "500m"}});
        let cells = s.table_cells(&obj);
        assert_eq!(cells.len(), s.table_columns().len());
        assert_eq!(
            cells[1],
            Cell::Value(json!("pods: 3/10, requests.cpu: 0/1"))
        );
        assert_eq!(
            cells[2],
            Cell::Value(json!("limits.cpu: 500m/2, limits.memory: 0/1Gi"))
        );
    }
}

//! `nodes` (core/v1, cluster-scoped): the machines pods run on, validated as upstream's
//! `ValidateNode` and `ValidateNodeUpdate`. Unlike most kinds a node may carry its status
//! on create (the kubelet registers itself with it).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use apiserver::registry::{meta, Cell, ColumnDef, DefaultStrategy, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::fields::{array, str_of};
use super::netcheck;
use crate::types::Typed;

/// The taint effects upstream knows.
const TAINT_EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
/// Labels `node-role.kubernetes.io/<role>` name a role each.
const ROLE_LABEL_PREFIX: &str = "node-role.kubernetes.io/";
/// The older label whose value names a role.
const ROLE_LABEL: &str = "kubernetes.io/role";
/// The deprecated annotation listing pods the scheduler should keep off the node.
const PREFER_AVOID_PODS: &str = "scheduler.alpha.kubernetes.io/preferAvoidPods";
const PODCIDR_CHANGE: &str = "node updates may not change podCIDR except from \"\" to valid";
const PROVIDER_ID_CHANGE: &str = "node updates may not change providerID except from \"\" to valid";

pub struct NodeStrategy;

fn spec(obj: &Value) -> &Value {
    obj.get("spec").unwrap_or(&Value::Null)
}

fn status(obj: &Value) -> &Value {
    obj.get("status").unwrap_or(&Value::Null)
}

fn present(obj: &Value, part: &str, field: &str) -> bool {
    obj.get(part)
        .and_then(|p| p.get(field))
        .is_some_and(|v| !v.is_null())
}

fn remove(obj: &mut Value, part: &str, field: &str) {
    if let Some(p) = obj.get_mut(part).and_then(Value::as_object_mut) {
        p.remove(field);
    }
}

fn pod_cidrs(obj: &Value) -> Vec<&str> {
    array(spec(obj), "podCIDRs")
        .iter()
        .map(|v| v.as_str().unwrap_or(""))
        .collect()
}

/// v1 conversion through the internal type, which keeps only `podCIDRs`: a lone `podCIDR`
/// becomes the list, and `podCIDR` is always the list's first entry.
fn sync_pod_cidrs(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let single = spec
        .get("podCIDR")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let list_empty = spec
        .get("podCIDRs")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if list_empty {
        if !single.is_empty() {
            spec.insert("podCIDRs".to_string(), json!([single]));
        }
        return;
    }
    let first = spec
        .get("podCIDRs")
        .and_then(|l| l.get(0))
        .cloned()
        .unwrap_or(Value::Null);
    spec.insert("podCIDR".to_string(), first);
}

/// v1 defaulting (`SetDefaults_NodeStatus`): without `allocatable`, a node offers its
/// whole `capacity`.
fn default_status(obj: &mut Value) {
    let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut) else {
        return;
    };
    let capacity = status.get("capacity").filter(|c| !c.is_null()).cloned();
    let allocatable_missing = status.get("allocatable").is_none_or(Value::is_null);
    if let (Some(capacity), true) = (capacity, allocatable_missing) {
        status.insert("allocatable".to_string(), capacity);
    }
}

/// `validateNodeTaints`: a qualified key, a label value, a known effect, and each key at
/// most once per effect.
fn validate_taints(taints: &[Value], path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut seen: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (i, taint) in taints.iter().enumerate() {
        let at = path.index(i);
        let key = str_of(taint, "key");
        for msg in validation::is_qualified_name(key) {
            errs.push(FieldError::invalid(&at.child("key"), json!(key), &msg));
        }
        let value = str_of(taint, "value");
        let msgs = validation::is_valid_label_value(value);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &at.child("value"),
                json!(value),
                &msgs.join(";"),
            ));
        }
        let effect = str_of(taint, "effect");
        if effect.is_empty() {
            errs.push(FieldError::required(&at.child("effect"), ""));
        } else if !TAINT_EFFECTS.contains(&effect) {
            errs.push(FieldError::not_supported(
                &at.child("effect"),
                json!(effect),
                &TAINT_EFFECTS,
            ));
        }
        let keys = seen.entry(effect).or_default();
        if !keys.insert(key) {
            let mut dup = FieldError::duplicate(&at, taint.clone());
            dup.detail = "taints must be unique by key and effect pair".to_string();
            errs.push(dup);
        }
    }
    errs
}

/// `ValidateNodeSpecificAnnotations`: the deprecated `preferAvoidPods` annotation holds
/// `AvoidPods` JSON whose entries each name a controller (paths as upstream writes them).
fn validate_annotations(obj: &Value) -> Vec<FieldError> {
    let path = FieldPath::new("metadata").child("annotations");
    let raw = meta::meta(obj)
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(PREFER_AVOID_PODS))
        .and_then(Value::as_str)
        .unwrap_or("");
    if raw.is_empty() {
        return Vec::new();
    }
    let avoids: Value = match serde_json::from_str(raw) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return vec![FieldError::invalid(
                &path.child("AvoidPods"),
                json!(PREFER_AVOID_PODS),
                "json: cannot unmarshal non-object into Go value of type v1.AvoidPods",
            )]
        }
        Err(e) => {
            return vec![FieldError::invalid(
                &path.child("AvoidPods"),
                json!(PREFER_AVOID_PODS),
                &e.to_string(),
            )]
        }
    };
    let mut errs = Vec::new();
    for (i, entry) in array(&avoids, "preferAvoidPods").iter().enumerate() {
        let at = path.child(PREFER_AVOID_PODS).index(i).child("PodSignature");
        match entry.pointer("/podSignature/podController") {
            None | Some(Value::Null) => errs.push(FieldError::required(&at, "")),
            Some(controller_ref) => {
                let controller = controller_ref.get("controller").and_then(Value::as_bool);
                if controller != Some(true) {
                    errs.push(FieldError::invalid(
                        &at.child("PodController").child("Controller"),
                        json!(controller.unwrap_or(false)),
                        "must point to a controller",
                    ));
                }
            }
        }
    }
    errs
}

/// `ValidateNode`, beyond metadata. As upstream, taint errors are reported under
/// `metadata.taints`.
fn validate_node(obj: &Value) -> Vec<FieldError> {
    let mut errs = validate_annotations(obj);
    errs.extend(validate_taints(
        array(spec(obj), "taints"),
        &FieldPath::new("metadata").child("taints"),
    ));
    errs.extend(validate_resources(obj));
    let cidrs = pod_cidrs(obj);
    if cidrs.is_empty() {
        return errs;
    }
    let path = FieldPath::new("spec").child("podCIDRs");
    for (i, cidr) in cidrs.iter().enumerate() {
        errs.extend(netcheck::is_valid_cidr(&path.index(i), cidr));
    }
    if cidrs.len() > 1 {
        let families: Option<Vec<bool>> = cidrs
            .iter()
            .map(|c| netcheck::parse_cidr_sloppy(c).map(|(ip, _)| matches!(ip, IpAddr::V4(_))))
            .collect();
        if families.is_none() {
            // As netutils words the first CIDR it cannot parse.
            let bad = cidrs
                .iter()
                .find(|c| netcheck::parse_cidr_sloppy(c).is_none())
                .copied()
                .unwrap_or("");
            errs.push(FieldError::internal_error(
                &path,
                &format!(
                    "invalid PodCIDRs. failed to check with dual stack with error:failed to parse cidr value:{bad:?} with error:invalid CIDR address: {bad}"
                ),
            ));
        }
        let dual_stack = families.is_some_and(|f| f.contains(&true) && f.contains(&false));
        if !dual_stack || cidrs.len() > 2 {
            errs.push(FieldError::invalid(
                &path,
                json!(cidrs),
                "may specify no more than one CIDR for each IP family",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, cidr) in cidrs.iter().enumerate() {
            if !seen.insert(*cidr) {
                errs.push(FieldError::duplicate(&path.index(i), json!(cidr)));
            }
        }
    }
    errs
}

/// Resources counted in whole units (upstream's `IsIntegerResourceName`): the standard
/// integer ones and extended resources (a domain other than `kubernetes.io`).
fn integer_resource(name: &str) -> bool {
    const STANDARD: [&str; 9] = [
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
    let extended =
        name.contains('/') && !name.contains("kubernetes.io/") && !name.starts_with("requests.");
    STANDARD.contains(&name) || extended
}

/// The value of a quantity string (already checked by the type check), as a float.
fn quantity_value(q: &str) -> Option<f64> {
    const SUFFIXES: [(&str, f64); 13] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
    ];
    let q = q.trim();
    for (suffix, factor) in SUFFIXES.iter().chain(&[("P", 1e15), ("E", 1e18)]) {
        if let Some(number) = q.strip_suffix(suffix) {
            return number.parse::<f64>().ok().map(|n| n * factor);
        }
    }
    q.parse::<f64>().ok()
}

/// `ValidateNodeResources`: capacity and allocatable are not negative, and whole numbers
/// for integer resources.
fn validate_resources(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for part in ["capacity", "allocatable"] {
        let Some(list) = status(obj).get(part).and_then(Value::as_object) else {
            continue;
        };
        for (name, value) in list {
            let Some(n) = value.as_str().and_then(quantity_value) else {
                continue;
            };
            let path = FieldPath::new("status").child(part).child(name);
            if n < 0.0 {
                errs.push(FieldError::invalid(
                    &path,
                    value.clone(),
                    validation::IS_NEGATIVE_ERROR_MSG,
                ));
            }
            if integer_resource(name) && n.fract() != 0.0 {
                errs.push(FieldError::invalid(
                    &path,
                    value.clone(),
                    "must be an integer",
                ));
            }
        }
    }
    errs
}

/// `ValidateNodeUpdate`, beyond metadata: addresses unique, `podCIDRs` and `providerID`
/// fixed once set, `externalID` fixed, and the taints checked again (as upstream does).
fn validate_node_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = validate_annotations(new);
    errs.extend(validate_resources(new));
    let addresses_path = FieldPath::new("status").child("addresses");
    let mut seen = BTreeSet::new();
    for (i, addr) in array(status(new), "addresses").iter().enumerate() {
        let pair = (str_of(addr, "type"), str_of(addr, "address"));
        if !seen.insert(pair) {
            errs.push(FieldError::duplicate(
                &addresses_path.index(i),
                json!({"type": pair.0, "address": pair.1}),
            ));
        }
    }
    let (old_cidrs, new_cidrs) = (pod_cidrs(old), pod_cidrs(new));
    if !old_cidrs.is_empty() {
        let path = FieldPath::new("spec").child("podCIDRs");
        if old_cidrs.len() != new_cidrs.len() {
            errs.push(FieldError::forbidden(&path, PODCIDR_CHANGE));
        } else {
            for (o, n) in old_cidrs.iter().zip(&new_cidrs) {
                if o != n {
                    errs.push(FieldError::forbidden(&path, PODCIDR_CHANGE));
                }
            }
        }
    }
    let old_provider = str_of(spec(old), "providerID");
    if !old_provider.is_empty() && old_provider != str_of(spec(new), "providerID") {
        errs.push(FieldError::forbidden(
            &FieldPath::new("spec").child("providerID"),
            PROVIDER_ID_CHANGE,
        ));
    }
    errs.extend(validate_taints(
        array(spec(new), "taints"),
        &FieldPath::new("metadata").child("taints"),
    ));
    if str_of(spec(new), "externalID") != str_of(spec(old), "externalID") {
        errs.push(FieldError::forbidden(
            &FieldPath::new("spec").child("externalID"),
            "may not be updated",
        ));
    }
    errs
}

/// `STATUS`: `Ready`/`NotReady` from the Ready condition (`Unknown` without one), then
/// `SchedulingDisabled` for an unschedulable node.
fn status_cell(obj: &Value) -> String {
    // The last Ready condition counts, as upstream's map of conditions by type keeps it.
    let ready = array(status(obj), "conditions")
        .iter()
        .rfind(|c| str_of(c, "type") == "Ready");
    let mut parts = vec![match ready {
        Some(c) if str_of(c, "status") == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if unschedulable(obj) {
        parts.push("SchedulingDisabled");
    }
    parts.join(",")
}

fn unschedulable(obj: &Value) -> bool {
    spec(obj)
        .get("unschedulable")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// `ROLES`: the sorted roles the node's labels name, or `<none>`.
fn roles_cell(obj: &Value) -> String {
    let mut roles = BTreeSet::new();
    if let Some(labels) = meta::meta(obj)
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
    {
        for (key, value) in labels {
            if let Some(role) = key.strip_prefix(ROLE_LABEL_PREFIX) {
                if !role.is_empty() {
                    roles.insert(role.to_string());
                }
            } else if key == ROLE_LABEL {
                if let Some(v) = value.as_str().filter(|v| !v.is_empty()) {
                    roles.insert(v.to_string());
                }
            }
        }
    }
    if roles.is_empty() {
        return "<none>".to_string();
    }
    roles.into_iter().collect::<Vec<_>>().join(",")
}

/// The first address of `kind` in `status.addresses`, or `<none>`.
fn address_cell(obj: &Value, kind: &str) -> String {
    array(status(obj), "addresses")
        .iter()
        .find(|a| str_of(a, "type") == kind)
        .map_or("<none>", |a| str_of(a, "address"))
        .to_string()
}

fn node_info(obj: &Value, field: &str) -> String {
    str_of(status(obj).get("nodeInfo").unwrap_or(&Value::Null), field).to_string()
}

fn or_unknown(s: String) -> String {
    if s.is_empty() {
        "<unknown>".to_string()
    } else {
        s
    }
}

/// Upstream's `fieldIsDeprecatedWarnings`: the removed `configSource` (kept on an update
/// of a node that had it) and the unused `externalID`.
fn deprecation_warnings(obj: &Value) -> Vec<String> {
    let mut warnings = Vec::new();
    if present(obj, "spec", "configSource") {
        warnings.push("spec.configSource: the feature is removed".to_string());
    }
    if !str_of(spec(obj), "externalID").is_empty() {
        warnings.push(
            "spec.externalID: this field is deprecated, and is unused by Kubernetes".to_string(),
        );
    }
    warnings
}

impl Strategy for NodeStrategy {
    fn warnings_on_create(&self, obj: &Value) -> Vec<String> {
        deprecation_warnings(obj)
    }

    fn warnings_on_update(&self, new: &Value, _old: &Value) -> Vec<String> {
        deprecation_warnings(new)
    }

    fn prepare_for_create(&self, obj: &mut Value) {
        remove(obj, "spec", "configSource");
        remove(obj, "status", "config");
        sync_pod_cidrs(obj);
        default_status(obj);
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                if let Some(m) = new.as_object_mut() {
                    m.remove("status");
                }
            }
        }
        if !present(old, "spec", "configSource") {
            remove(new, "spec", "configSource");
        }
        sync_pod_cidrs(new);
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_node(obj)
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = validate_node(new);
        errs.extend(validate_node_update(new, old));
        errs
    }

    /// A status write keeps the stored spec.
    fn subresource_update(&self, subresource: &str, new: &Value, old: &Value) -> Option<Value> {
        let mut merged = DefaultStrategy.subresource_update(subresource, new, old)?;
        if subresource == "status" {
            if !present(old, "status", "config") {
                remove(&mut merged, "status", "config");
            }
            default_status(&mut merged);
        }
        Some(merged)
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        old: &Value,
    ) -> Vec<FieldError> {
        if subresource != "status" {
            return Vec::new();
        }
        validate_node_update(new, old)
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        let wide = |c: ColumnDef| ColumnDef { priority: 1, ..c };
        vec![
            ColumnDef::new("Status", "string", "The status of the node"),
            ColumnDef::new("Roles", "string", "The roles of the node"),
            ColumnDef::AGE,
            ColumnDef::new(
                "Version",
                "string",
                "The version the node's kubelet reports.",
            ),
            wide(ColumnDef::new(
                "Internal-IP",
                "string",
                "The node's first internal address.",
            )),
            wide(ColumnDef::new(
                "External-IP",
                "string",
                "The node's first external address.",
            )),
            wide(ColumnDef::new(
                "OS-Image",
                "string",
                "The operating system image the node reports.",
            )),
            wide(ColumnDef::new(
                "Kernel-Version",
                "string",
                "The kernel version the node reports.",
            )),
            wide(ColumnDef::new(
                "Container-Runtime",
                "string",
                "The container runtime and version the node reports.",
            )),
        ]
    }

    /// Every cell, the wide ones included (kubectl hides priority-1 columns unless `-o wide`).
    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let text = |s: String| Cell::Value(json!(s));
        vec![
            text(status_cell(obj)),
            text(roles_cell(obj)),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
            text(node_info(obj, "kubeletVersion")),
            text(address_cell(obj, "InternalIP")),
            text(address_cell(obj, "ExternalIP")),
            text(or_unknown(node_info(obj, "osImage"))),
            text(or_unknown(node_info(obj, "kernelVersion"))),
            text(or_unknown(node_info(obj, "containerRuntimeVersion"))),
        ]
    }

    fn selectable_fields(&self) -> &[&'static str] {
        &["spec.unschedulable"]
    }

    fn field_value(&self, obj: &Value, field: &str) -> Option<String> {
        match field {
            "spec.unschedulable" => Some(unschedulable(obj).to_string()),
            other => DefaultStrategy.field_value(obj, other),
        }
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "",
        "v1",
        "Node",
        "nodes",
        Scope::Cluster,
        Arc::new(NodeStrategy),
    )
    .typed()
    .with_short_names(&["no"])
    .with_subresources(&["status"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(spec: Value, status: Value) -> Value {
        json!({"metadata": {"name": "n1"}, "spec": spec, "status": status})
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter()
            .map(|e| format!("{}: {}", e.field, e.error_body()))
            .collect()
    }

    #[test]
    fn taints_need_a_key_a_known_effect_and_no_duplicates() {
        let ok = node(
            json!({"taints": [
                {"key": "a", "effect": "NoSchedule"},
                {"key": "a", "value": "v", "effect": "NoExecute"},
                {"key": "example.com/b", "effect": "PreferNoSchedule"},
            ]}),
            json!({}),
        );
        assert!(validate_node(&ok).is_empty());
        let bad = node(
            json!({"taints": [
                {"key": "a", "effect": "NoSchedule"},
                {"key": "a", "effect": "NoSchedule"},
                {"key": "", "effect": "Sometimes"},
                {"key": "c", "value": "-x"},
            ]}),
            json!({}),
        );
        let errs = validate_node(&bad);
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"metadata.taints[1]"), "{fields:?}");
        assert!(fields.contains(&"metadata.taints[2].key"));
        assert!(fields.contains(&"metadata.taints[2].effect"));
        assert!(fields.contains(&"metadata.taints[3].value"));
        assert!(fields.contains(&"metadata.taints[3].effect"));
        let dup = errs
            .iter()
            .find(|e| e.field == "metadata.taints[1]")
            .map(|e| e.detail.clone());
        assert_eq!(
            dup.as_deref(),
            Some("taints must be unique by key and effect pair")
        );
        let effect = errs
            .iter()
            .find(|e| e.field == "metadata.taints[2].effect")
            .map(FieldError::error_body);
        assert_eq!(
            effect.as_deref(),
            Some("Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"")
        );
    }

    #[test]
    fn pod_cidrs_are_cidrs_one_per_family() {
        for ok in [
            json!(["10.0.0.0/24"]),
            json!(["10.0.0.0/24", "fd00::/64"]),
            json!(["fd00::/64", "10.0.0.0/24"]),
        ] {
            assert!(validate_node(&node(json!({"podCIDRs": ok}), json!({}))).is_empty());
        }
        let errs = validate_node(&node(json!({"podCIDRs": ["10.0.0.0/33"]}), json!({})));
        assert_eq!(
            messages(&errs),
            ["spec.podCIDRs[0]: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]
        );
        let errs = validate_node(&node(
            json!({"podCIDRs": ["10.0.0.0/24", "10.1.0.0/24"]}),
            json!({}),
        ));
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec.podCIDRs");
        assert_eq!(
            errs[0].detail,
            "may specify no more than one CIDR for each IP family"
        );
        let errs = validate_node(&node(json!({"podCIDRs": ["10.0.0.0/24", "x"]}), json!({})));
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["spec.podCIDRs[1]", "spec.podCIDRs", "spec.podCIDRs"]
        );
        assert_eq!(
            errs[1].error_body(),
            "Internal error: invalid PodCIDRs. failed to check with dual stack with error:failed to parse cidr value:\"x\" with error:invalid CIDR address: x"
        );
        let three = json!(["10.0.0.0/24", "fd00::/64", "fd01::/64"]);
        assert_eq!(
            validate_node(&node(json!({"podCIDRs": three}), json!({}))).len(),
            1
        );
    }

    #[test]
    fn pod_cidr_and_provider_id_are_fixed_once_set() {
        let unset = node(json!({}), json!({}));
        let set = node(
            json!({"podCIDRs": ["10.0.0.0/24"], "providerID": "aws://i-1"}),
            json!({}),
        );
        assert!(validate_node_update(&set, &unset).is_empty());
        assert!(validate_node_update(&set, &set).is_empty());
        let changed = node(
            json!({"podCIDRs": ["10.1.0.0/24"], "providerID": "aws://i-2"}),
            json!({}),
        );
        assert_eq!(
            messages(&validate_node_update(&changed, &set)),
            [
                "spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid",
                "spec.providerID: Forbidden: node updates may not change providerID except from \"\" to valid",
            ]
        );
        let errs = validate_node_update(&unset, &set);
        assert_eq!(errs.len(), 2);
        let ext = node(json!({"externalID": "x"}), json!({}));
        assert_eq!(
            messages(&validate_node_update(&ext, &unset)),
            ["spec.externalID: Forbidden: may not be updated"]
        );
    }

    #[test]
    fn capacity_is_not_negative_and_pods_are_whole() {
        let ok = node(
            json!({}),
            json!({"capacity": {"cpu": "1500m", "memory": "2Gi", "pods": "110", "example.com/gpu": "2"}}),
        );
        assert!(validate_node(&ok).is_empty());
        let bad = node(
            json!({}),
            json!({"capacity": {"memory": "-1Gi"}, "allocatable": {"pods": "1500m", "example.com/gpu": "0.5"}}),
        );
        assert_eq!(
            messages(&validate_node(&bad)),
            [
                "status.capacity.memory: Invalid value: \"-1Gi\": must be greater than or equal to 0",
                "status.allocatable.pods: Invalid value: \"1500m\": must be an integer",
                "status.allocatable.example.com/gpu: Invalid value: \"0.5\": must be an integer",
            ]
        );
    }

    #[test]
    fn duplicate_pod_cidrs_are_refused() {
        let errs = validate_node(&node(
            json!({"podCIDRs": ["10.0.0.0/24", "10.0.0.0/24"]}),
            json!({}),
        ));
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["spec.podCIDRs", "spec.podCIDRs[1]"]);
    }

    #[test]
    fn deprecated_fields_are_warned_about() {
        let n = node(json!({"externalID": "i-1", "configSource": {}}), json!({}));
        assert_eq!(
            NodeStrategy.warnings_on_create(&n),
            [
                "spec.configSource: the feature is removed",
                "spec.externalID: this field is deprecated, and is unused by Kubernetes",
            ]
        );
        assert!(NodeStrategy
            .warnings_on_update(&node(json!({}), json!({})), &n)
            .is_empty());
    }

    #[test]
    fn prefer_avoid_pods_entries_name_controllers() {
        let with = |value: &str| json!({"metadata": {"name": "n1", "annotations": {PREFER_AVOID_PODS: value}}});
        let ok = r#"{"preferAvoidPods": [{"podSignature": {"podController": {"apiVersion": "v1", "kind": "ReplicationController", "name": "rc", "uid": "u", "controller": true}}}]}"#;
        assert!(validate_node(&with(ok)).is_empty());
        let bad = r#"{"preferAvoidPods": [{"podSignature": {}}, {"podSignature": {"podController": {"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "u"}}}]}"#;
        assert_eq!(
            messages(&validate_node(&with(bad))),
            [
                "metadata.annotations.scheduler.alpha.kubernetes.io/preferAvoidPods[0].PodSignature: Required value",
                "metadata.annotations.scheduler.alpha.kubernetes.io/preferAvoidPods[1].PodSignature.PodController.Controller: Invalid value: false: must point to a controller",
            ]
        );
        let errs = validate_node(&with("{"));
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "metadata.annotations.AvoidPods");
    }

    #[test]
    fn duplicate_addresses_are_refused() {
        let n = node(
            json!({}),
            json!({"addresses": [
                {"type": "InternalIP", "address": "10.0.0.1"},
                {"type": "Hostname", "address": "10.0.0.1"},
                {"type": "InternalIP", "address": "10.0.0.1"},
            ]}),
        );
        let errs = validate_node_update(&n, &n);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "status.addresses[2]");
    }

    #[test]
    fn create_keeps_status_drops_config_source_and_syncs_pod_cidrs() {
        let mut n = node(
            json!({"podCIDR": "10.0.0.0/24", "configSource": {"configMap": {}}}),
            json!({"capacity": {"cpu": "2"}, "config": {}}),
        );
        NodeStrategy.prepare_for_create(&mut n);
        assert_eq!(
            n["spec"],
            json!({"podCIDR": "10.0.0.0/24", "podCIDRs": ["10.0.0.0/24"]})
        );
        assert_eq!(
            n["status"],
            json!({"capacity": {"cpu": "2"}, "allocatable": {"cpu": "2"}})
        );
        let mut n = node(json!({"podCIDRs": ["fd00::/64", "10.0.0.0/24"]}), json!({}));
        NodeStrategy.prepare_for_create(&mut n);
        assert_eq!(n["spec"]["podCIDR"], "fd00::/64");
    }

    #[test]
    fn spec_writes_keep_status_and_status_writes_keep_spec() {
        let old = node(
            json!({"unschedulable": false}),
            json!({"nodeInfo": {"kubeletVersion": "v1.36.0"}}),
        );
        let mut new = node(
            json!({"unschedulable": true, "configSource": {}}),
            json!({"nodeInfo": {"kubeletVersion": "v9"}}),
        );
        NodeStrategy.prepare_for_update(&mut new, &old);
        assert_eq!(new["spec"], json!({"unschedulable": true}));
        assert_eq!(new["status"], old["status"]);

        let new = node(
            json!({"unschedulable": true}),
            json!({"conditions": [{"type": "Ready", "status": "True"}], "config": {}}),
        );
        let merged = NodeStrategy
            .subresource_update("status", &new, &old)
            .expect("status is a subresource");
        assert_eq!(merged["spec"], old["spec"]);
        assert_eq!(
            merged["status"],
            json!({"conditions": [{"type": "Ready", "status": "True"}]})
        );
        assert!(NodeStrategy
            .subresource_update("proxy", &new, &old)
            .is_none());
    }

    #[test]
    fn unschedulable_is_selectable_as_false_when_absent() {
        let n = node(json!({}), json!({}));
        assert_eq!(
            NodeStrategy
                .field_value(&n, "spec.unschedulable")
                .as_deref(),
            Some("false")
        );
        let n = node(json!({"unschedulable": true}), json!({}));
        assert_eq!(
            NodeStrategy
                .field_value(&n, "spec.unschedulable")
                .as_deref(),
            Some("true")
        );
        assert_eq!(
            NodeStrategy.field_value(&n, "metadata.name").as_deref(),
            Some("n1")
        );
    }

    fn cells(obj: &Value) -> Vec<Value> {
        NodeStrategy
            .table_cells(obj)
            .into_iter()
            .filter_map(|c| match c {
                Cell::Value(v) => Some(v),
                Cell::Age(_) => None,
            })
            .collect()
    }

    #[test]
    fn table_cells_follow_print_node() {
        assert_eq!(
            NodeStrategy.table_columns().len(),
            NodeStrategy.table_cells(&json!({})).len()
        );
        let bare = json!({"metadata": {"name": "n1"}});
        assert_eq!(
            cells(&bare),
            [
                "Unknown",
                "<none>",
                "",
                "<none>",
                "<none>",
                "<unknown>",
                "<unknown>",
                "<unknown>"
            ]
        );
        let full = json!({
            "metadata": {"name": "n1", "labels": {
                "node-role.kubernetes.io/worker": "",
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/": "",
                "kubernetes.io/role": "edge",
            }},
            "spec": {"unschedulable": true},
            "status": {
                "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "False"}],
                "addresses": [
                    {"type": "Hostname", "address": "n1"},
                    {"type": "InternalIP", "address": "10.0.0.1"},
                    {"type": "InternalIP", "address": "10.0.0.2"},
                    {"type": "ExternalIP", "address": "203.0.113.1"},
                ],
                "nodeInfo": {"kubeletVersion": "v1.36.0", "osImage": "Debian", "kernelVersion": "6.1", "containerRuntimeVersion": "containerd://2.0"},
            },
        });
        assert_eq!(
            cells(&full),
            [
                "NotReady,SchedulingDisabled",
                "control-plane,edge,worker",
                "v1.36.0",
                "10.0.0.1",
                "203.0.113.1",
                "Debian",
                "6.1",
                "containerd://2.0"
            ]
        );
        let ready = node(
            json!({}),
            json!({"conditions": [{"type": "Ready", "status": "True"}]}),
        );
        assert_eq!(cells(&ready)[0], "Ready");
    }
}

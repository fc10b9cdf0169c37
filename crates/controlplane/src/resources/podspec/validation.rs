//! `ValidatePodSpec` and `ValidatePodTemplateSpec` (upstream's
//! `pkg/apis/core/validation`): the pod-level fields, with container and volume validation
//! in their own modules.

use std::collections::BTreeSet;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use serde_json::{json, Value};

use super::super::fields::{array, str_of};
use super::super::netcheck;
use super::containers::{self, PodContext};
use super::volumes;

const RESTART_POLICIES: [&str; 3] = ["Always", "OnFailure", "Never"];
const DNS_POLICIES: [&str; 4] = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const TAINT_EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
const MAX_INT32: i64 = 2_147_483_647;

/// Validates a pod spec at `path` (`spec`, `spec.template.spec`), as upstream's
/// `ValidatePodSpec` does for a spec inside a template.
pub fn validate_pod_spec(spec: &Value, path: &FieldPath) -> Vec<FieldError> {
    validate_pod_spec_for(spec, path, false)
}

/// As [`validate_pod_spec`]; `is_pod` holds the rules only a Pod's own spec follows
/// (host ports equal to container ports under host networking).
pub fn validate_pod_spec_for(spec: &Value, path: &FieldPath, is_pod: bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let grace_period = spec
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64);
    if grace_period.is_none() {
        errs.push(FieldError::required(
            &path.child("terminationGracePeriodSeconds"),
            "",
        ));
    }
    let (vols, vol_errs) =
        volumes::validate_volumes(array(spec, "volumes"), &path.child("volumes"));
    errs.extend(vol_errs);
    let restart_policy = str_of(spec, "restartPolicy");
    let ctx = PodContext {
        volumes: &vols,
        grace_period,
        restart_policy,
    };
    let regular = array(spec, "containers");
    let init = array(spec, "initContainers");
    errs.extend(containers::validate_containers(
        regular,
        &ctx,
        &path.child("containers"),
    ));
    errs.extend(containers::validate_init_containers(
        init,
        regular,
        &ctx,
        &path.child("initContainers"),
    ));
    let ephemeral = array(spec, "ephemeralContainers");
    if !ephemeral.is_empty() {
        errs.extend(containers::validate_ephemeral_containers(
            ephemeral,
            regular,
            init,
            &ctx,
            &path.child("ephemeralContainers"),
        ));
    }
    errs.extend(host_network_deps(spec, path, is_pod));
    errs.extend(enum_field(spec, "restartPolicy", &RESTART_POLICIES, path));
    errs.extend(enum_field(spec, "dnsPolicy", &DNS_POLICIES, path));
    if let Some(selector) = spec.get("nodeSelector").and_then(Value::as_object) {
        errs.extend(validation::validate_labels(
            selector,
            &path.child("nodeSelector"),
        ));
    }
    errs.extend(validate_pod_security_context(spec, path));
    for (i, secret) in array(spec, "imagePullSecrets").iter().enumerate() {
        let only_name = secret
            .as_object()
            .is_some_and(|m| m.keys().all(|k| k == "name"));
        if !only_name {
            errs.push(FieldError::invalid(
                &path.child("imagePullSecrets").index(i),
                secret.clone(),
                "only name may be set",
            ));
        }
    }
    if let Some(affinity) = spec.get("affinity").filter(|v| !v.is_null()) {
        errs.extend(validate_affinity(affinity, &path.child("affinity")));
    }
    errs.extend(validate_dns_config(spec, &path.child("dnsConfig")));
    for (i, gate) in array(spec, "readinessGates").iter().enumerate() {
        errs.extend(netcheck::qualified_name(
            str_of(gate, "conditionType"),
            &path.child("readinessGates").index(i).child("conditionType"),
        ));
    }
    let mut gates = BTreeSet::new();
    for (i, gate) in array(spec, "schedulingGates").iter().enumerate() {
        let at = path.child("schedulingGates").index(i);
        let name = str_of(gate, "name");
        errs.extend(netcheck::qualified_name(name, &at));
        if !gates.insert(name) {
            errs.push(FieldError::duplicate(&at, json!(name)));
        }
    }
    for field in ["serviceAccountName", "nodeName", "priorityClassName"] {
        let value = str_of(spec, field);
        if !value.is_empty() {
            for m in validation::name_is_dns_subdomain(value, false) {
                errs.push(FieldError::invalid(&path.child(field), json!(value), &m));
            }
        }
    }
    if let Some(deadline) = spec.get("activeDeadlineSeconds").and_then(Value::as_i64) {
        if !(1..=MAX_INT32).contains(&deadline) {
            errs.push(FieldError::invalid(
                &path.child("activeDeadlineSeconds"),
                json!(deadline),
                &validation::inclusive_range_error(1, MAX_INT32),
            ));
        }
    }
    for field in ["hostname", "subdomain"] {
        let value = str_of(spec, field);
        if !value.is_empty() {
            errs.extend(netcheck::dns1123_label(value, &path.child(field)));
        }
    }
    errs.extend(validate_tolerations(
        array(spec, "tolerations"),
        &path.child("tolerations"),
    ));
    for (i, alias) in array(spec, "hostAliases").iter().enumerate() {
        let at = path.child("hostAliases").index(i);
        errs.extend(netcheck::is_valid_ip(&at.child("ip"), str_of(alias, "ip")));
        for (j, host) in array(alias, "hostnames").iter().enumerate() {
            let host = host.as_str().unwrap_or("");
            for m in validation::is_dns1123_subdomain(host) {
                errs.push(FieldError::invalid(
                    &at.child("hostnames").index(j),
                    json!(host),
                    &m,
                ));
            }
        }
    }
    if let Some(class) = spec.get("runtimeClassName").and_then(Value::as_str) {
        for m in validation::name_is_dns_subdomain(class, false) {
            errs.push(FieldError::invalid(
                &path.child("runtimeClassName"),
                json!(class),
                &m,
            ));
        }
    }
    if let Some(policy) = spec.get("preemptionPolicy").and_then(Value::as_str) {
        let allowed = ["PreemptLowerPriority", "Never"];
        if policy.is_empty() {
            errs.push(FieldError::required(&path.child("preemptionPolicy"), ""));
        } else if !allowed.contains(&policy) {
            errs.push(FieldError::not_supported(
                &path.child("preemptionPolicy"),
                json!(policy),
                &allowed,
            ));
        }
    }
    if let Some(os) = spec.get("os").filter(|v| !v.is_null()) {
        let name = str_of(os, "name");
        if name.is_empty() {
            errs.push(FieldError::required(&path.child("os").child("name"), ""));
        } else if name != "linux" && name != "windows" {
            errs.push(FieldError::not_supported(
                &path.child("os").child("name"),
                json!(name),
                &["linux", "windows"],
            ));
        }
    }
    errs
}

/// Validates a pod template (`metadata` and `spec`) at `path` (`spec.template`), as
/// upstream's `ValidatePodTemplateSpec`: labels and annotations, the spec, and no
/// ephemeral containers.
pub fn validate_pod_template_spec(template: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let meta = template.get("metadata").unwrap_or(&Value::Null);
    if let Some(labels) = meta.get("labels").and_then(Value::as_object) {
        errs.extend(validation::validate_labels(labels, &path.child("labels")));
    }
    if let Some(annotations) = meta.get("annotations").and_then(Value::as_object) {
        errs.extend(validation::validate_annotations(
            annotations,
            &path.child("annotations"),
        ));
    }
    let spec = template.get("spec").unwrap_or(&Value::Null);
    errs.extend(validate_pod_spec(spec, &path.child("spec")));
    if !array(spec, "ephemeralContainers").is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("spec").child("ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    errs
}

/// A required enum field of the spec: `Required` when empty, `NotSupported` when unknown.
fn enum_field(spec: &Value, field: &str, allowed: &[&str], path: &FieldPath) -> Vec<FieldError> {
    let value = str_of(spec, field);
    if value.is_empty() {
        return vec![FieldError::required(&path.child(field), "")];
    }
    if !allowed.contains(&value) {
        return vec![FieldError::not_supported(
            &path.child(field),
            json!(value),
            allowed,
        )];
    }
    Vec::new()
}

/// `validatePodHostNetworkDeps`: with host networking a port's `hostPort` is its
/// `containerPort` (0 allowed in templates, where the Pod's defaulting fills it).
fn host_network_deps(spec: &Value, path: &FieldPath, is_pod: bool) -> Vec<FieldError> {
    if spec.get("hostNetwork").and_then(Value::as_bool) != Some(true) {
        return Vec::new();
    }
    let mut errs = Vec::new();
    for (i, ctr) in array(spec, "containers").iter().enumerate() {
        for (j, port) in array(ctr, "ports").iter().enumerate() {
            let host = port.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
            let container = port
                .get("containerPort")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if (is_pod || host != 0) && host != container {
                errs.push(FieldError::invalid(
                    &path
                        .child("containers")
                        .index(i)
                        .child("ports")
                        .index(j)
                        .child("hostPort"),
                    json!(host),
                    "must match `containerPort` when `hostNetwork` is true",
                ));
            }
        }
    }
    errs
}

/// `validatePodSpecSecurityContext` basics: ids in range, and no shared process namespace
/// with the host's.
fn validate_pod_security_context(spec: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(sc) = spec.get("securityContext").filter(|v| !v.is_null()) else {
        return errs;
    };
    let at = path.child("securityContext");
    for field in ["fsGroup", "runAsUser", "runAsGroup"] {
        if let Some(id) = sc.get(field).and_then(Value::as_i64) {
            if !(0..=MAX_INT32).contains(&id) {
                errs.push(FieldError::invalid(
                    &at.child(field),
                    json!(id),
                    &validation::inclusive_range_error(0, MAX_INT32),
                ));
            }
        }
    }
    for (i, gid) in array(sc, "supplementalGroups").iter().enumerate() {
        if let Some(id) = gid.as_i64() {
            if !(0..=MAX_INT32).contains(&id) {
                errs.push(FieldError::invalid(
                    &at.child("supplementalGroups").index(i),
                    json!(id),
                    &validation::inclusive_range_error(0, MAX_INT32),
                ));
            }
        }
    }
    if let Some(policy) = sc.get("fsGroupChangePolicy").and_then(Value::as_str) {
        let allowed = ["Always", "OnRootMismatch"];
        if !allowed.contains(&policy) {
            errs.push(FieldError::not_supported(
                &at.child("fsGroupChangePolicy"),
                json!(policy),
                &allowed,
            ));
        }
    }
    let share = spec.get("shareProcessNamespace").and_then(Value::as_bool) == Some(true);
    let host_pid = spec.get("hostPID").and_then(Value::as_bool) == Some(true);
    if share && host_pid {
        errs.push(FieldError::invalid(
            &path.child("shareProcessNamespace"),
            json!(true),
            "ShareProcessNamespace and HostPID cannot both be enabled",
        ));
    }
    errs
}

/// `ValidateTolerations`.
pub fn validate_tolerations(tolerations: &[Value], path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, t) in tolerations.iter().enumerate() {
        let at = path.index(i);
        let key = str_of(t, "key");
        let operator = str_of(t, "operator");
        let effect = str_of(t, "effect");
        let value = str_of(t, "value");
        if !key.is_empty() {
            errs.extend(validation::validate_label_name(key, &at.child("key")));
        }
        if key.is_empty() && operator != "Exists" {
            errs.push(FieldError::invalid(
                &at.child("operator"),
                json!(operator),
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if t.get("tolerationSeconds").is_some_and(|v| !v.is_null()) && effect != "NoExecute" {
            errs.push(FieldError::invalid(
                &at.child("effect"),
                json!(effect),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match operator {
            "Equal" | "" => {
                let msgs = validation::is_valid_label_value(value);
                if !msgs.is_empty() {
                    errs.push(FieldError::invalid(
                        &at.child("operator"),
                        json!(value),
                        &msgs.join(";"),
                    ));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errs.push(FieldError::invalid(
                        &at.child("operator"),
                        json!(value),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                &at.child("operator"),
                json!(other),
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() && !TAINT_EFFECTS.contains(&effect) {
            errs.push(FieldError::not_supported(
                &at.child("effect"),
                json!(effect),
                &TAINT_EFFECTS,
            ));
        }
    }
    errs
}

/// `validatePodDNSConfig`: a `None` policy needs a config with a nameserver; limits on
/// nameservers and searches.
fn validate_dns_config(spec: &Value, path: &FieldPath) -> Vec<FieldError> {
    let config = spec.get("dnsConfig").filter(|v| !v.is_null());
    if str_of(spec, "dnsPolicy") == "None" {
        let Some(config) = config else {
            return vec![FieldError::required(
                path,
                "must provide `dnsConfig` when `dnsPolicy` is None",
            )];
        };
        if array(config, "nameservers").is_empty() {
            return vec![FieldError::required(
                &path.child("nameservers"),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            )];
        }
    }
    let Some(config) = config else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    let nameservers = array(config, "nameservers");
    if nameservers.len() > 3 {
        errs.push(FieldError::invalid(
            &path.child("nameservers"),
            config["nameservers"].clone(),
            "must not have more than 3 nameservers",
        ));
    }
    for (i, ns) in nameservers.iter().enumerate() {
        errs.extend(netcheck::is_valid_ip(
            &path.child("nameservers").index(i),
            ns.as_str().unwrap_or(""),
        ));
    }
    let searches: Vec<&str> = array(config, "searches")
        .iter()
        .map(|s| s.as_str().unwrap_or(""))
        .collect();
    if searches.len() > 32 {
        errs.push(FieldError::invalid(
            &path.child("searches"),
            config["searches"].clone(),
            "must not have more than 32 search paths",
        ));
    }
    if searches.join(" ").len() > 2048 {
        errs.push(FieldError::invalid(
            &path.child("searches"),
            config["searches"].clone(),
            "must not have more than 2048 characters (including spaces) in the search list",
        ));
    }
    for (i, search) in searches.iter().enumerate() {
        if *search == "." {
            continue;
        }
        let s = search.strip_suffix('.').unwrap_or(search);
        let relaxed = s.replace('_', "a");
        for m in validation::is_dns1123_subdomain(&relaxed) {
            let m = m.replace(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'",
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-', '_' or '.'",
            );
            errs.push(FieldError::invalid(
                &path.child("searches").index(i),
                json!(s),
                &m,
            ));
        }
    }
    for (i, option) in array(config, "options").iter().enumerate() {
        if str_of(option, "name").is_empty() {
            errs.push(FieldError::required(
                &path.child("options").index(i),
                "must not be empty",
            ));
        }
    }
    errs
}

/// `validateAffinity` basics: node selector terms and their requirements, and the
/// topology key of pod (anti-)affinity terms.
fn validate_affinity(affinity: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(node) = affinity.get("nodeAffinity").filter(|v| !v.is_null()) {
        let at = path.child("nodeAffinity");
        let required = "requiredDuringSchedulingIgnoredDuringExecution";
        if let Some(selector) = node.get(required).filter(|v| !v.is_null()) {
            let terms_path = at.child(required).child("nodeSelectorTerms");
            let terms = array(selector, "nodeSelectorTerms");
            if terms.is_empty() {
                errs.push(FieldError::required(
                    &terms_path,
                    "must have at least one node selector term",
                ));
            }
            for (i, term) in terms.iter().enumerate() {
                errs.extend(validate_node_selector_term(term, &terms_path.index(i)));
            }
        }
        let preferred = "preferredDuringSchedulingIgnoredDuringExecution";
        for (i, p) in array(node, preferred).iter().enumerate() {
            let pat = at.child(preferred).index(i);
            let weight = p.get("weight").and_then(Value::as_i64).unwrap_or(0);
            if !(1..=100).contains(&weight) {
                errs.push(FieldError::invalid(
                    &pat.child("weight"),
                    json!(weight),
                    "must be in the range 1-100",
                ));
            }
            errs.extend(validate_node_selector_term(
                p.get("preference").unwrap_or(&Value::Null),
                &pat.child("preference"),
            ));
        }
    }
    for kind in ["podAffinity", "podAntiAffinity"] {
        let Some(pod) = affinity.get(kind).filter(|v| !v.is_null()) else {
            continue;
        };
        let at = path.child(kind);
        let required = "requiredDuringSchedulingIgnoredDuringExecution";
        for (i, term) in array(pod, required).iter().enumerate() {
            errs.extend(validate_pod_affinity_term(
                term,
                &at.child(required).index(i),
            ));
        }
        let preferred = "preferredDuringSchedulingIgnoredDuringExecution";
        for (i, p) in array(pod, preferred).iter().enumerate() {
            let pat = at.child(preferred).index(i);
            let weight = p.get("weight").and_then(Value::as_i64).unwrap_or(0);
            if !(1..=100).contains(&weight) {
                errs.push(FieldError::invalid(
                    &pat.child("weight"),
                    json!(weight),
                    "must be in the range 1-100",
                ));
            }
            errs.extend(validate_pod_affinity_term(
                p.get("podAffinityTerm").unwrap_or(&Value::Null),
                &pat.child("podAffinityTerm"),
            ));
        }
    }
    errs
}

fn validate_pod_affinity_term(term: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, ns) in array(term, "namespaces").iter().enumerate() {
        let ns = ns.as_str().unwrap_or("");
        for m in validation::validate_namespace_name(ns, false) {
            errs.push(FieldError::invalid(
                &path.child("namespaces").index(i),
                json!(ns),
                &m,
            ));
        }
    }
    let key = str_of(term, "topologyKey");
    if key.is_empty() {
        errs.push(FieldError::required(
            &path.child("topologyKey"),
            "can not be empty",
        ));
    } else {
        errs.extend(validation::validate_label_name(
            key,
            &path.child("topologyKey"),
        ));
    }
    errs
}

/// `ValidateNodeSelectorTerm`: its expressions on labels and on fields.
fn validate_node_selector_term(term: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (j, req) in array(term, "matchExpressions").iter().enumerate() {
        let at = path.child("matchExpressions").index(j);
        errs.extend(validate_node_selector_requirement(req, &at));
        errs.extend(validation::validate_label_name(
            str_of(req, "key"),
            &at.child("key"),
        ));
    }
    for (j, req) in array(term, "matchFields").iter().enumerate() {
        let at = path.child("matchFields").index(j);
        errs.extend(validate_node_selector_requirement(req, &at));
        let key = str_of(req, "key");
        if key != "metadata.name" {
            errs.push(FieldError::invalid(
                &at.child("key"),
                json!(key),
                "not a valid field selector key",
            ));
        }
    }
    errs
}

fn validate_node_selector_requirement(req: &Value, path: &FieldPath) -> Vec<FieldError> {
    let values = array(req, "values");
    match str_of(req, "operator") {
        "In" | "NotIn" if values.is_empty() => vec![FieldError::required(
            &path.child("values"),
            "must be specified when `operator` is 'In' or 'NotIn'",
        )],
        "Exists" | "DoesNotExist" if !values.is_empty() => vec![FieldError::forbidden(
            &path.child("values"),
            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        )],
        "Gt" | "Lt" if values.len() != 1 => vec![FieldError::required(
            &path.child("values"),
            "must be specified single value when `operator` is 'Lt' or 'Gt'",
        )],
        "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt" => Vec::new(),
        other => vec![FieldError::invalid(
            &path.child("operator"),
            json!(other),
            "not a valid selector operator",
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    fn defaulted(mut spec: Value) -> Value {
        super::super::default_pod_spec(&mut spec);
        spec
    }

    #[test]
    fn a_defaulted_spec_is_valid() {
        let spec = defaulted(json!({"containers": [{"name": "c", "image": "nginx",
            "ports": [{"containerPort": 80, "name": "http"}],
            "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
            "volumes": [{"name": "data"}]}));
        assert_eq!(
            messages(&validate_pod_spec(&spec, &FieldPath::new("spec"))),
            Vec::<String>::new()
        );
    }

    #[test]
    fn common_mistakes_have_upstreams_paths_and_messages() {
        let spec = defaulted(json!({
            "restartPolicy": "Sometimes",
            "containers": [
                {"name": "Web", "image": ""},
                {"name": "b", "image": "x", "ports": [{"containerPort": 70000}],
                 "volumeMounts": [{"name": "missing", "mountPath": "/m"}],
                 "env": [{"name": "A=B"}],
                 "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "2"}}},
                {"name": "b", "image": "x"},
            ],
        }));
        assert_eq!(
            messages(&validate_pod_spec(&spec, &FieldPath::new("spec"))),
            [
                "spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "spec.containers[0].image: Required value",
                "spec.containers[1].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.containers[1].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
                "spec.containers[1].volumeMounts[0].name: Not found: \"missing\"",
                "spec.containers[1].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
                "spec.containers[2].name: Duplicate value: \"b\"",
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            ]
        );
    }

    #[test]
    fn templates_refuse_ephemeral_containers_and_check_labels() {
        let template = json!({"metadata": {"labels": {"a": "-"}}, "spec": defaulted(json!({
            "containers": [{"name": "c", "image": "x"}],
            "ephemeralContainers": [{"name": "e", "image": "x"}],
        }))});
        let errs = validate_pod_template_spec(&template, &FieldPath::new("spec").child("template"));
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.template.labels",
                "spec.template.spec.ephemeralContainers"
            ]
        );
    }

    #[test]
    fn tolerations_and_affinity() {
        let spec = defaulted(json!({
            "containers": [{"name": "c", "image": "x"}],
            "tolerations": [{"operator": "Equal", "value": "v"}, {"key": "k", "operator": "Exists", "value": "v", "tolerationSeconds": 5}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In"}]}]}}},
        }));
        assert_eq!(
            messages(&validate_pod_spec(&spec, &FieldPath::new("spec"))),
            [
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
                "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
                "spec.tolerations[1].effect: Invalid value: \"\": effect must be 'NoExecute' when `tolerationSeconds` is set",
                "spec.tolerations[1].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
            ]
        );
    }
}

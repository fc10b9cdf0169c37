//! Container validation (upstream's `validateContainers`, `validateInitContainers`,
//! `validateEphemeralContainers` and `validateContainerCommon`): names, images, ports, env,
//! volume mounts, probes, lifecycle hooks, pull policy and resources.

use std::collections::{BTreeMap, BTreeSet};

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use serde_json::{json, Value};

use super::super::fields::{array, str_of};
use super::super::netcheck;
use super::super::resourcelists;
use super::volumes::VolumeKinds;

const PORT_PROTOCOLS: [&str; 3] = ["SCTP", "TCP", "UDP"];
const PULL_POLICIES: [&str; 3] = ["Always", "IfNotPresent", "Never"];
const TERMINATION_MESSAGE_POLICIES: [&str; 2] = ["File", "FallbackToLogsOnError"];
const NOT_FOR_INIT: &str = "may not be set for init containers without restartPolicy=Always";
const ENV_FIELD_PATHS: [&str; 9] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];
const RESOURCE_FIELD_PATHS: [&str; 6] = [
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];
/// The fields an ephemeral container may set (upstream's `allowedEphemeralContainerFields`,
/// by JSON name); the others are forbidden.
const EPHEMERAL_FORBIDDEN: [&str; 6] = [
    "ports",
    "resources",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
];

/// What container validation needs to know of the pod around it.
pub struct PodContext<'a> {
    pub volumes: &'a VolumeKinds,
    pub grace_period: Option<i64>,
    pub restart_policy: &'a str,
}

fn present(obj: &Value, field: &str) -> bool {
    obj.get(field).is_some_and(|v| !v.is_null())
}

fn int_of(obj: &Value, field: &str) -> i64 {
    obj.get(field).and_then(Value::as_i64).unwrap_or(0)
}

/// `validateContainers`: at least one, each valid, names unique, host ports not colliding.
pub fn validate_containers(
    containers: &[Value],
    ctx: &PodContext,
    path: &FieldPath,
) -> Vec<FieldError> {
    if containers.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let mut errs = Vec::new();
    let mut names = BTreeSet::new();
    for (i, ctr) in containers.iter().enumerate() {
        let at = path.index(i);
        errs.extend(validate_container_common(ctr, ctx, &at));
        let name = str_of(ctr, "name");
        if !names.insert(name) {
            errs.push(FieldError::duplicate(&at.child("name"), json!(name)));
        }
        if let Some(lifecycle) = ctr.get("lifecycle").filter(|v| !v.is_null()) {
            errs.extend(validate_lifecycle(lifecycle, ctx, &at.child("lifecycle")));
        }
        errs.extend(validate_probes(ctr, ctx, &at));
        if present(ctr, "restartPolicy") {
            errs.push(FieldError::forbidden(
                &at.child("restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    errs.extend(host_port_conflicts(containers, path));
    errs
}

/// `validateInitContainers`: names unique across init and regular containers; probes and
/// hooks only for restartable (sidecar) init containers.
pub fn validate_init_containers(
    containers: &[Value],
    regular: &[Value],
    ctx: &PodContext,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut names: BTreeSet<&str> = regular.iter().map(|c| str_of(c, "name")).collect();
    for (i, ctr) in containers.iter().enumerate() {
        let at = path.index(i);
        errs.extend(validate_container_common(ctr, ctx, &at));
        let mut restart_always = false;
        if let Some(policy) = ctr.get("restartPolicy").filter(|v| !v.is_null()) {
            let policy = policy.as_str().unwrap_or("");
            if policy != "Always" {
                errs.push(FieldError::not_supported(
                    &at.child("restartPolicy"),
                    json!(policy),
                    &["Always"],
                ));
            }
            restart_always = policy == "Always";
        }
        let name = str_of(ctr, "name");
        if names.contains(name) {
            errs.push(FieldError::duplicate(&at.child("name"), json!(name)));
        } else if !name.is_empty() {
            names.insert(name);
        }
        errs.extend(host_port_conflicts(std::slice::from_ref(ctr), path));
        if restart_always {
            if let Some(lifecycle) = ctr.get("lifecycle").filter(|v| !v.is_null()) {
                errs.extend(validate_lifecycle(lifecycle, ctx, &at.child("lifecycle")));
            }
            errs.extend(validate_probes(ctr, ctx, &at));
        } else {
            for field in [
                "lifecycle",
                "livenessProbe",
                "readinessProbe",
                "startupProbe",
            ] {
                if present(ctr, field) {
                    errs.push(FieldError::forbidden(&at.child(field), NOT_FOR_INIT));
                }
            }
        }
        if !array(ctr, "resizePolicy").is_empty() {
            errs.push(FieldError::invalid(
                &at.child("resizePolicy"),
                ctr["resizePolicy"].clone(),
                "must not be set for init containers",
            ));
        }
    }
    errs
}

/// `validateEphemeralContainers`: names unique across all containers, a target that is a
/// regular or init container, and none of the fields that make a container part of the
/// workload.
pub fn validate_ephemeral_containers(
    containers: &[Value],
    regular: &[Value],
    init: &[Value],
    ctx: &PodContext,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let others: BTreeSet<&str> = regular
        .iter()
        .chain(init)
        .map(|c| str_of(c, "name"))
        .collect();
    let mut all = others.clone();
    for (i, ctr) in containers.iter().enumerate() {
        let at = path.index(i);
        errs.extend(validate_container_common(ctr, ctx, &at));
        errs.extend(validate_image_whitespace(ctr, &at));
        let name = str_of(ctr, "name");
        if !all.insert(name) {
            errs.push(FieldError::duplicate(&at.child("name"), json!(name)));
        }
        let target = str_of(ctr, "targetContainerName");
        if !target.is_empty() && !others.contains(target) {
            errs.push(FieldError::not_found(
                &at.child("targetContainerName"),
                json!(target),
            ));
        }
        for field in EPHEMERAL_FORBIDDEN {
            let set = match ctr.get(field) {
                None | Some(Value::Null) => false,
                Some(Value::Array(a)) => !a.is_empty(),
                Some(Value::Object(o)) => !o.is_empty() || field != "resources",
                Some(_) => true,
            };
            if set {
                errs.push(FieldError::forbidden(
                    &at.child(field),
                    "cannot be set for an Ephemeral Container",
                ));
            }
        }
        for (j, mount) in array(ctr, "volumeMounts").iter().enumerate() {
            for field in ["subPath", "subPathExpr"] {
                if !str_of(mount, field).is_empty() {
                    errs.push(FieldError::forbidden(
                        &at.child("volumeMounts").index(j).child(field),
                        "cannot be set for an Ephemeral Container",
                    ));
                }
            }
        }
    }
    errs
}

/// `validateContainerOnlyForPod`: a Pod's images carry no surrounding whitespace.
pub fn validate_image_whitespace(ctr: &Value, path: &FieldPath) -> Vec<FieldError> {
    let image = str_of(ctr, "image");
    if image.trim() != image {
        return vec![FieldError::invalid(
            &path.child("image"),
            json!(image),
            "must not have leading or trailing whitespace",
        )];
    }
    Vec::new()
}

/// `validateContainerCommon`: what every kind of container needs.
fn validate_container_common(ctr: &Value, ctx: &PodContext, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name = str_of(ctr, "name");
    if name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    } else {
        errs.extend(netcheck::dns1123_label(name, &path.child("name")));
    }
    if str_of(ctr, "image").is_empty() {
        errs.push(FieldError::required(&path.child("image"), ""));
    }
    let policy = str_of(ctr, "terminationMessagePolicy");
    if policy.is_empty() {
        errs.push(FieldError::required(
            &path.child("terminationMessagePolicy"),
            "",
        ));
    } else if !TERMINATION_MESSAGE_POLICIES.contains(&policy) {
        errs.push(FieldError::not_supported(
            &path.child("terminationMessagePolicy"),
            json!(policy),
            &TERMINATION_MESSAGE_POLICIES,
        ));
    }
    errs.extend(validate_ports(array(ctr, "ports"), &path.child("ports")));
    errs.extend(validate_env(array(ctr, "env"), &path.child("env")));
    errs.extend(validate_env_from(
        array(ctr, "envFrom"),
        &path.child("envFrom"),
    ));
    errs.extend(validate_volume_mounts(
        ctr,
        ctx.volumes,
        &path.child("volumeMounts"),
    ));
    errs.extend(validate_volume_devices(
        ctr,
        ctx.volumes,
        &path.child("volumeDevices"),
    ));
    let pull = str_of(ctr, "imagePullPolicy");
    if pull.is_empty() {
        errs.push(FieldError::required(&path.child("imagePullPolicy"), ""));
    } else if !PULL_POLICIES.contains(&pull) {
        errs.push(FieldError::not_supported(
            &path.child("imagePullPolicy"),
            json!(pull),
            &PULL_POLICIES,
        ));
    }
    if let Some(resources) = ctr.get("resources") {
        errs.extend(validate_resources(resources, &path.child("resources")));
    }
    errs.extend(validate_resize_policy(
        array(ctr, "resizePolicy"),
        ctx.restart_policy,
        &path.child("resizePolicy"),
    ));
    if let Some(sc) = ctr.get("securityContext").filter(|v| !v.is_null()) {
        errs.extend(validate_security_context(
            sc,
            &path.child("securityContext"),
        ));
    }
    errs
}

/// `IsValidPortName`: an IANA service name.
pub fn port_name_errors(name: &str) -> Vec<String> {
    let mut msgs = Vec::new();
    if name.len() > 15 {
        msgs.push(validation::max_len_error(15));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        msgs.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string(),
        );
    }
    if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        msgs.push("must contain at least one letter (a-z)".to_string());
    }
    if name.contains("--") {
        msgs.push("must not contain consecutive hyphens".to_string());
    }
    if name.starts_with('-') || name.ends_with('-') {
        msgs.push("must not begin or end with a hyphen".to_string());
    }
    msgs
}

/// `validateContainerPorts`.
fn validate_ports(ports: &[Value], path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let at = path.index(i);
        let name = str_of(port, "name");
        if !name.is_empty() {
            let msgs = port_name_errors(name);
            if !msgs.is_empty() {
                for m in msgs {
                    errs.push(FieldError::invalid(&at.child("name"), json!(name), &m));
                }
            } else if !names.insert(name) {
                errs.push(FieldError::duplicate(&at.child("name"), json!(name)));
            }
        }
        let container_port = int_of(port, "containerPort");
        if container_port == 0 {
            errs.push(FieldError::required(&at.child("containerPort"), ""));
        } else {
            for m in netcheck::port_num_errors(container_port) {
                errs.push(FieldError::invalid(
                    &at.child("containerPort"),
                    json!(container_port),
                    &m,
                ));
            }
        }
        let host_port = int_of(port, "hostPort");
        if host_port != 0 {
            for m in netcheck::port_num_errors(host_port) {
                errs.push(FieldError::invalid(
                    &at.child("hostPort"),
                    json!(host_port),
                    &m,
                ));
            }
        }
        let protocol = str_of(port, "protocol");
        if protocol.is_empty() {
            errs.push(FieldError::required(&at.child("protocol"), ""));
        } else if !PORT_PROTOCOLS.contains(&protocol) {
            errs.push(FieldError::not_supported(
                &at.child("protocol"),
                json!(protocol),
                &PORT_PROTOCOLS,
            ));
        }
    }
    errs
}

/// `AccumulateUniqueHostPorts`: one `protocol/hostIP/hostPort` per pod.
fn host_port_conflicts(containers: &[Value], path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut seen = BTreeSet::new();
    for (ci, ctr) in containers.iter().enumerate() {
        for (pi, port) in array(ctr, "ports").iter().enumerate() {
            let host_port = int_of(port, "hostPort");
            if host_port == 0 {
                continue;
            }
            let key = format!(
                "{}/{}/{}",
                str_of(port, "protocol"),
                str_of(port, "hostIP"),
                host_port
            );
            if seen.contains(&key) {
                errs.push(FieldError::duplicate(
                    &path.index(ci).child("ports").index(pi).child("hostPort"),
                    json!(key),
                ));
            } else {
                seen.insert(key);
            }
        }
    }
    errs
}

/// `IsRelaxedEnvVarName`: printable ASCII other than `=`.
fn env_name_errors(name: &str) -> Vec<String> {
    if name
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'=')
    {
        return Vec::new();
    }
    vec![
        "a valid environment variable name must consist only of printable ASCII characters other than '='"
            .to_string(),
    ]
}

/// `ValidateEnv`.
fn validate_env(vars: &[Value], path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, var) in vars.iter().enumerate() {
        let at = path.index(i);
        let name = str_of(var, "name");
        if name.is_empty() {
            errs.push(FieldError::required(&at.child("name"), ""));
        } else {
            for m in env_name_errors(name) {
                errs.push(FieldError::invalid(&at.child("name"), json!(name), &m));
            }
        }
        errs.extend(validate_value_from(var, &at.child("valueFrom")));
    }
    errs
}

/// `validateEnvVarValueFrom`: exactly one source, and no `value` beside it.
fn validate_value_from(var: &Value, path: &FieldPath) -> Vec<FieldError> {
    let Some(from) = var.get("valueFrom").filter(|v| !v.is_null()) else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    let mut sources = 0;
    if let Some(field_ref) = from.get("fieldRef").filter(|v| !v.is_null()) {
        sources += 1;
        errs.extend(validate_object_field_selector(
            field_ref,
            &ENV_FIELD_PATHS,
            &path.child("fieldRef"),
        ));
    }
    if let Some(resource_ref) = from.get("resourceFieldRef").filter(|v| !v.is_null()) {
        sources += 1;
        errs.extend(validate_resource_field_selector(
            resource_ref,
            false,
            &path.child("resourceFieldRef"),
        ));
    }
    for (field, _) in [("configMapKeyRef", ()), ("secretKeyRef", ())] {
        if let Some(sel) = from.get(field).filter(|v| !v.is_null()) {
            sources += 1;
            errs.extend(validate_key_selector(sel, &path.child(field)));
        }
    }
    if sources == 0 {
        errs.push(FieldError::invalid(
            path,
            json!(""),
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        ));
    } else if !str_of(var, "value").is_empty() {
        errs.push(FieldError::invalid(
            path,
            json!(""),
            "may not be specified when `value` is not empty",
        ));
    } else if sources > 1 {
        errs.push(FieldError::invalid(
            path,
            json!(""),
            "may not have more than one field specified at a time",
        ));
    }
    errs
}

/// `validateObjectFieldSelector` (env and downward API volumes).
pub fn validate_object_field_selector(
    sel: &Value,
    allowed: &[&str],
    path: &FieldPath,
) -> Vec<FieldError> {
    if str_of(sel, "apiVersion").is_empty() {
        return vec![FieldError::required(&path.child("apiVersion"), "")];
    }
    let field_path = str_of(sel, "fieldPath");
    if field_path.is_empty() {
        return vec![FieldError::required(&path.child("fieldPath"), "")];
    }
    if let Some((base, rest)) = field_path.split_once('[') {
        let subscript = rest
            .strip_suffix(']')
            .map(|s| s.trim_matches('\''))
            .unwrap_or("");
        return match base {
            "metadata.annotations" => netcheck::qualified_name(&subscript.to_lowercase(), path),
            "metadata.labels" => netcheck::qualified_name(subscript, path),
            _ => vec![FieldError::invalid(
                path,
                json!(base),
                "does not support subscript",
            )],
        };
    }
    if !allowed.contains(&field_path) {
        let mut sorted: Vec<&str> = allowed.to_vec();
        sorted.sort_unstable();
        return vec![FieldError::not_supported(
            &path.child("fieldPath"),
            json!(field_path),
            &sorted,
        )];
    }
    Vec::new()
}

/// `validateContainerResourceFieldSelector`.
pub fn validate_resource_field_selector(
    sel: &Value,
    volume: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    let resource = str_of(sel, "resource");
    if volume && str_of(sel, "containerName").is_empty() {
        return vec![FieldError::required(&path.child("containerName"), "")];
    }
    if resource.is_empty() {
        return vec![FieldError::required(&path.child("resource"), "")];
    }
    let hugepages =
        resource.starts_with("requests.hugepages-") || resource.starts_with("limits.hugepages-");
    if !RESOURCE_FIELD_PATHS.contains(&resource) && !hugepages {
        return vec![FieldError::not_supported(
            &path.child("resource"),
            json!(resource),
            &RESOURCE_FIELD_PATHS,
        )];
    }
    Vec::new()
}

/// `validateConfigMapKeySelector` / `validateSecretKeySelector`.
fn validate_key_selector(sel: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name = str_of(sel, "name");
    for m in validation::name_is_dns_subdomain(name, false) {
        errs.push(FieldError::invalid(&path.child("name"), json!(name), &m));
    }
    let key = str_of(sel, "key");
    if key.is_empty() {
        errs.push(FieldError::required(&path.child("key"), ""));
    } else {
        for m in validation::is_config_map_key(key) {
            errs.push(FieldError::invalid(&path.child("key"), json!(key), &m));
        }
    }
    errs
}

/// `ValidateEnvFrom`.
fn validate_env_from(sources: &[Value], path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let at = path.index(i);
        let prefix = str_of(source, "prefix");
        if !prefix.is_empty() {
            for m in env_name_errors(prefix) {
                errs.push(FieldError::invalid(&at.child("prefix"), json!(prefix), &m));
            }
        }
        let mut count = 0;
        for field in ["configMapRef", "secretRef"] {
            if let Some(r) = source.get(field).filter(|v| !v.is_null()) {
                count += 1;
                let name = str_of(r, "name");
                let p = at.child(field).child("name");
                if name.is_empty() {
                    errs.push(FieldError::required(&p, ""));
                } else {
                    for m in validation::name_is_dns_subdomain(name, true) {
                        errs.push(FieldError::invalid(&p, json!(name), &m));
                    }
                }
            }
        }
        if count == 0 {
            errs.push(FieldError::invalid(
                path,
                json!(""),
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if count > 1 {
            errs.push(FieldError::invalid(
                path,
                json!(""),
                "may not have more than one field specified at a time",
            ));
        }
    }
    errs
}

/// `ValidateVolumeMounts`: each names a volume of the pod, at a path of its own.
fn validate_volume_mounts(ctr: &Value, volumes: &VolumeKinds, path: &FieldPath) -> Vec<FieldError> {
    let devices: BTreeMap<&str, &str> = array(ctr, "volumeDevices")
        .iter()
        .map(|d| (str_of(d, "name"), str_of(d, "devicePath")))
        .collect();
    let mut errs = Vec::new();
    let mut mount_points = BTreeSet::new();
    for (i, mount) in array(ctr, "volumeMounts").iter().enumerate() {
        let at = path.index(i);
        let name = str_of(mount, "name");
        let mount_path = str_of(mount, "mountPath");
        if name.is_empty() {
            errs.push(FieldError::required(&at.child("name"), ""));
        }
        if !volumes.contains_key(name) {
            errs.push(FieldError::not_found(&at.child("name"), json!(name)));
        }
        if mount_path.is_empty() {
            errs.push(FieldError::required(&at.child("mountPath"), ""));
        }
        if !mount_points.insert(mount_path) {
            errs.push(FieldError::invalid(
                &at.child("mountPath"),
                json!(mount_path),
                "must be unique",
            ));
        }
        if devices.contains_key(name) {
            errs.push(FieldError::invalid(
                &at.child("name"),
                json!(name),
                "must not already exist in volumeDevices",
            ));
        }
        if devices.values().any(|p| *p == mount_path) {
            errs.push(FieldError::invalid(
                &at.child("mountPath"),
                json!(mount_path),
                "must not already exist as a path in volumeDevices",
            ));
        }
        let sub_path = str_of(mount, "subPath");
        let sub_path_expr = str_of(mount, "subPathExpr");
        if volumes.get(name).is_some_and(|k| k == "image") {
            if !sub_path.is_empty() {
                errs.push(FieldError::invalid(
                    &at.child("subPath"),
                    json!(sub_path),
                    "not allowed in image volume sources",
                ));
            }
            if !sub_path_expr.is_empty() {
                errs.push(FieldError::invalid(
                    &at.child("subPathExpr"),
                    json!(sub_path_expr),
                    "not allowed in image volume sources",
                ));
            }
        }
        if !sub_path.is_empty() {
            errs.extend(super::volumes::validate_local_descending_path(
                sub_path,
                &path.child("subPath"),
            ));
        }
        if !sub_path_expr.is_empty() {
            if !sub_path.is_empty() {
                errs.push(FieldError::invalid(
                    &at.child("subPathExpr"),
                    json!(sub_path_expr),
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            errs.extend(super::volumes::validate_local_descending_path(
                sub_path_expr,
                &path.child("subPathExpr"),
            ));
        }
    }
    errs
}

/// `ValidateVolumeDevices`: block devices come from claims.
fn validate_volume_devices(
    ctr: &Value,
    volumes: &VolumeKinds,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mounts: BTreeMap<&str, &str> = array(ctr, "volumeMounts")
        .iter()
        .map(|m| (str_of(m, "name"), str_of(m, "mountPath")))
        .collect();
    let mut errs = Vec::new();
    let mut paths = BTreeSet::new();
    let mut names = BTreeSet::new();
    for (i, dev) in array(ctr, "volumeDevices").iter().enumerate() {
        let at = path.index(i);
        let name = str_of(dev, "name");
        let dev_path = str_of(dev, "devicePath");
        let kind = volumes.get(name);
        if name.is_empty() {
            errs.push(FieldError::required(&at.child("name"), ""));
        }
        if names.contains(name) {
            errs.push(FieldError::invalid(
                &at.child("name"),
                json!(name),
                "must be unique",
            ));
        }
        match kind {
            Some(k) if k != "persistentVolumeClaim" && k != "ephemeral" => {
                errs.push(FieldError::invalid(
                    &at.child("name"),
                    json!(name),
                    "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode",
                ))
            }
            Some(_) => {}
            None => errs.push(FieldError::not_found(&at.child("name"), json!(name))),
        }
        if dev_path.is_empty() {
            errs.push(FieldError::required(&at.child("devicePath"), ""));
        }
        if paths.contains(dev_path) {
            errs.push(FieldError::invalid(
                &at.child("devicePath"),
                json!(dev_path),
                "must be unique",
            ));
        }
        if !dev_path.is_empty() && dev_path.split('/').any(|s| s == "..") {
            errs.push(FieldError::invalid(
                &at.child("devicePath"),
                json!(dev_path),
                "can not contain backsteps ('..')",
            ));
        } else {
            paths.insert(dev_path);
        }
        if mounts.contains_key(name) {
            errs.push(FieldError::invalid(
                &at.child("name"),
                json!(name),
                "must not already exist in volumeMounts",
            ));
        }
        if mounts.values().any(|p| *p == dev_path) {
            errs.push(FieldError::invalid(
                &at.child("devicePath"),
                json!(dev_path),
                "must not already exist as a path in volumeMounts",
            ));
        }
        if !name.is_empty() {
            names.insert(name);
        }
    }
    errs
}

fn validate_probes(ctr: &Value, ctx: &PodContext, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for field in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let Some(probe) = ctr.get(field).filter(|v| !v.is_null()) else {
            continue;
        };
        let at = path.child(field);
        errs.extend(validate_probe(probe, ctx, &at));
        if field != "readinessProbe" && int_of(probe, "successThreshold") != 1 {
            errs.push(FieldError::invalid(
                &at.child("successThreshold"),
                json!(int_of(probe, "successThreshold")),
                "must be 1",
            ));
        }
        if field == "readinessProbe" && present(probe, "terminationGracePeriodSeconds") {
            errs.push(FieldError::invalid(
                &at.child("terminationGracePeriodSeconds"),
                probe["terminationGracePeriodSeconds"].clone(),
                "must not be set for readinessProbes",
            ));
        }
    }
    errs
}

/// `validateProbe`: one handler, non-negative timings.
fn validate_probe(probe: &Value, ctx: &PodContext, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = validate_handler(probe, &["exec", "httpGet", "tcpSocket", "grpc"], ctx, path);
    for field in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        let v = int_of(probe, field);
        if v < 0 {
            errs.push(FieldError::invalid(
                &path.child(field),
                json!(v),
                validation::IS_NEGATIVE_ERROR_MSG,
            ));
        }
    }
    if let Some(grace) = probe
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64)
    {
        if grace <= 0 {
            errs.push(FieldError::invalid(
                &path.child("terminationGracePeriodSeconds"),
                json!(grace),
                "must be greater than 0",
            ));
        }
    }
    errs
}

/// `validateLifecycle`: each hook has one handler.
fn validate_lifecycle(lifecycle: &Value, ctx: &PodContext, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for hook in ["postStart", "preStop"] {
        if let Some(h) = lifecycle.get(hook).filter(|v| !v.is_null()) {
            errs.extend(validate_handler(
                h,
                &["exec", "httpGet", "tcpSocket", "sleep"],
                ctx,
                &path.child(hook),
            ));
        }
    }
    errs
}

/// `validateHandler`: exactly one of `kinds`, each valid.
fn validate_handler(
    handler: &Value,
    kinds: &[&str],
    ctx: &PodContext,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut count = 0;
    for kind in kinds {
        let Some(h) = handler.get(*kind).filter(|v| !v.is_null()) else {
            continue;
        };
        let at = path.child(kind);
        if count > 0 {
            errs.push(FieldError::forbidden(
                &at,
                "may not specify more than 1 handler type",
            ));
            continue;
        }
        count += 1;
        match *kind {
            "exec" if array(h, "command").is_empty() => {
                errs.push(FieldError::required(&at.child("command"), ""));
            }
            "httpGet" => {
                if str_of(h, "path").is_empty() {
                    errs.push(FieldError::required(&at.child("path"), ""));
                }
                errs.extend(validate_port_num_or_name(
                    h.get("port").unwrap_or(&Value::Null),
                    &at.child("port"),
                ));
                let scheme = str_of(h, "scheme");
                if scheme != "HTTP" && scheme != "HTTPS" {
                    errs.push(FieldError::not_supported(
                        &at.child("scheme"),
                        json!(scheme),
                        &["HTTP", "HTTPS"],
                    ));
                }
                for header in array(h, "httpHeaders") {
                    let name = str_of(header, "name");
                    if !is_http_header_name(name) {
                        errs.push(FieldError::invalid(
                            &at.child("httpHeaders"),
                            json!(name),
                            &validation::regex_error(
                                "a valid HTTP header must consist of alphanumeric characters or '-'",
                                "[-A-Za-z0-9]+",
                                &["X-Header-Name"],
                            ),
                        ));
                    }
                }
            }
            "tcpSocket" => errs.extend(validate_port_num_or_name(
                h.get("port").unwrap_or(&Value::Null),
                &at.child("port"),
            )),
            "grpc" => {
                let port = int_of(h, "port");
                for m in netcheck::port_num_errors(port) {
                    errs.push(FieldError::invalid(&at.child("port"), json!(port), &m));
                }
            }
            "sleep" => {
                let seconds = int_of(h, "seconds");
                if let Some(grace) = ctx.grace_period {
                    if seconds < 0 || seconds > grace {
                        errs.push(FieldError::invalid(
                            &at,
                            json!(seconds),
                            &format!("must be non-negative and less than terminationGracePeriodSeconds ({grace})"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    if count == 0 {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
    errs
}

fn is_http_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `ValidatePortNumOrName`: a port number or an IANA service name.
pub fn validate_port_num_or_name(port: &Value, path: &FieldPath) -> Vec<FieldError> {
    match port {
        Value::String(name) => port_name_errors(name)
            .into_iter()
            .map(|m| FieldError::invalid(path, json!(name), &m))
            .collect(),
        other => {
            let n = other.as_i64().unwrap_or(0);
            netcheck::port_num_errors(n)
                .into_iter()
                .map(|m| FieldError::invalid(path, json!(n), &m))
                .collect()
        }
    }
}

/// `validateResizePolicy`.
fn validate_resize_policy(
    policies: &[Value],
    restart_policy: &str,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, p) in policies.iter().enumerate() {
        let name = str_of(p, "resourceName");
        if !seen.insert(name) {
            errs.push(FieldError::duplicate(&path.index(i), json!(name)));
        }
        match name {
            "cpu" | "memory" => {}
            "" => errs.push(FieldError::required(path, "")),
            other => errs.push(FieldError::not_supported(
                path,
                json!(other),
                &["cpu", "memory"],
            )),
        }
        let policy = str_of(p, "restartPolicy");
        match policy {
            "NotRequired" | "RestartContainer" => {}
            "" => errs.push(FieldError::required(path, "")),
            other => errs.push(FieldError::not_supported(
                path,
                json!(other),
                &["NotRequired", "RestartContainer"],
            )),
        }
        if restart_policy == "Never" && policy != "NotRequired" {
            errs.push(FieldError::invalid(
                path,
                json!(policy),
                "must be 'NotRequired' when `restartPolicy` is 'Never'",
            ));
        }
    }
    errs
}

/// `ValidateContainerResourceRequirements`: known names, valid quantities, and requests
/// within limits (equal to them for resources that may not be overcommitted).
pub fn validate_resources(resources: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let lim_path = path.child("limits");
    let req_path = path.child("requests");
    let limits = resourcelists::entries(resources, "limits");
    let requests = resourcelists::entries(resources, "requests");
    for (name, value) in &limits {
        let at = lim_path.key(name);
        errs.extend(resourcelists::validate_container_resource_name(name, &at));
        errs.extend(validate_quantity_value(name, value, &at));
    }
    for (name, value) in &requests {
        let at = req_path.key(name);
        errs.extend(resourcelists::validate_container_resource_name(name, &at));
        errs.extend(validate_quantity_value(name, value, &at));
        let Some(request) = resourcelists::quantity(value) else {
            continue;
        };
        match limits.iter().find(|(n, _)| n == name) {
            Some((_, limit)) => {
                let Some(limit) = resourcelists::quantity(limit) else {
                    continue;
                };
                if request.value != limit.value && !resourcelists::is_overcommit_allowed(name) {
                    errs.push(FieldError::invalid(
                        &req_path,
                        json!(request.text),
                        &format!("must be equal to {name} limit of {}", limit.text),
                    ));
                } else if request.value > limit.value {
                    errs.push(FieldError::invalid(
                        &req_path,
                        json!(request.text),
                        &format!(
                            "must be less than or equal to {name} limit of {}",
                            limit.text
                        ),
                    ));
                }
            }
            None if !resourcelists::is_overcommit_allowed(name) => errs.push(FieldError::required(
                &lim_path,
                "Limit must be set for non overcommitable resources",
            )),
            None => {}
        }
    }
    errs
}

/// `ValidateResourceQuantityValue`: not negative, and whole for integer resources.
fn validate_quantity_value(name: &str, value: &Value, path: &FieldPath) -> Vec<FieldError> {
    let Some(q) = resourcelists::quantity(value) else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    if q.value < 0.0 {
        errs.push(FieldError::invalid(
            path,
            json!(q.text),
            validation::IS_NEGATIVE_ERROR_MSG,
        ));
    }
    let integer = name.contains('/') && !resourcelists::is_native(name);
    if integer && q.value.fract() != 0.0 {
        errs.push(FieldError::invalid(
            path,
            json!(q.text),
            "must be an integer",
        ));
    }
    errs
}

/// `ValidateSecurityContext` basics: capabilities, user and group ids, proc mount.
fn validate_security_context(sc: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for field in ["runAsUser", "runAsGroup"] {
        if let Some(id) = sc.get(field).and_then(Value::as_i64) {
            if !(0..=2_147_483_647).contains(&id) {
                errs.push(FieldError::invalid(
                    &path.child(field),
                    json!(id),
                    &validation::inclusive_range_error(0, 2_147_483_647),
                ));
            }
        }
    }
    if let Some(mount) = sc.get("procMount").and_then(Value::as_str) {
        if mount != "Default" && mount != "Unmasked" {
            errs.push(FieldError::not_supported(
                &path.child("procMount"),
                json!(mount),
                &["Default", "Unmasked"],
            ));
        }
    }
    let privileged = sc.get("privileged").and_then(Value::as_bool) == Some(true);
    let escalation = sc.get("allowPrivilegeEscalation").and_then(Value::as_bool);
    if escalation == Some(false) && privileged {
        errs.push(FieldError::invalid(
            path,
            sc.clone(),
            "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
        ));
    }
    let adds_sys_admin = sc
        .get("capabilities")
        .map(|c| array(c, "add"))
        .unwrap_or(&[])
        .iter()
        .any(|c| c.as_str() == Some("CAP_SYS_ADMIN") || c.as_str() == Some("SYS_ADMIN"));
    if escalation == Some(false) && adds_sys_admin {
        errs.push(FieldError::invalid(
            path,
            sc.clone(),
            "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
        ));
    }
    errs
}

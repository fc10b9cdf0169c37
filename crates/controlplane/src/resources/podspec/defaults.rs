//! Upstream's v1 defaulting of pod specs (`pkg/apis/core/v1/defaults.go` and the generated
//! `SetObjectDefaults_Pod` / `SetObjectDefaults_PodTemplate`), on JSON.
//!
//! A pod spec inside a template (Deployments, Jobs, PodTemplates) gets the spec, volume and
//! container defaults; a Pod also gets [`default_pod`]'s extras (requests from limits,
//! `enableServiceLinks`, host ports under host networking), as upstream keeps those out of
//! templates.

use serde_json::{json, Map, Value};

use super::image;

/// The default `spec.terminationGracePeriodSeconds`.
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;
/// The default scheduler's name.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// Where a container's termination message is read from by default.
pub const TERMINATION_MESSAGE_PATH_DEFAULT: &str = "/dev/termination-log";
/// The file mode secret, config map, downward API and projected volumes get (0644).
pub const DEFAULT_VOLUME_MODE: i64 = 0o644;

/// The container lists of a pod spec, each defaulted alike.
pub const CONTAINER_LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

fn obj_mut(v: &mut Value) -> Option<&mut Map<String, Value>> {
    v.as_object_mut()
}

/// Sets `field` to `value` when it is absent or null.
fn set_absent(m: &mut Map<String, Value>, field: &str, value: Value) {
    if m.get(field).is_none_or(Value::is_null) {
        m.insert(field.to_string(), value);
    }
}

/// Sets `field` to `value` when it is absent, null, or Go's zero value of its type
/// (`""`, `0`): non-pointer Go fields default from their zero value.
fn set_zero(m: &mut Map<String, Value>, field: &str, value: Value) {
    let zero = match m.get(field) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::Bool(b)) => !b,
        _ => false,
    };
    if zero {
        m.insert(field.to_string(), value);
    }
}

fn each_mut<'a>(m: &'a mut Map<String, Value>, field: &str) -> impl Iterator<Item = &'a mut Value> {
    m.get_mut(field)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flat_map(|a| a.iter_mut())
}

fn child_mut<'a>(m: &'a mut Map<String, Value>, field: &str) -> Option<&'a mut Map<String, Value>> {
    m.get_mut(field).and_then(Value::as_object_mut)
}

/// `SetDefaults_PodSpec` plus the defaults of every volume and container in it: what a pod
/// template's spec gets.
pub fn default_pod_spec(spec: &mut Value) {
    let Some(s) = obj_mut(spec) else {
        return;
    };
    sync_service_account(s);
    set_zero(s, "dnsPolicy", json!("ClusterFirst"));
    set_zero(s, "restartPolicy", json!("Always"));
    set_absent(s, "securityContext", json!({}));
    set_absent(
        s,
        "terminationGracePeriodSeconds",
        json!(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS),
    );
    set_zero(s, "schedulerName", json!(DEFAULT_SCHEDULER_NAME));
    for volume in each_mut(s, "volumes") {
        default_volume(volume);
    }
    for list in CONTAINER_LISTS {
        for container in each_mut(s, list) {
            default_container(container);
        }
    }
}

/// v1 conversion through the internal type: the deprecated `serviceAccount` names the
/// account when `serviceAccountName` does not, and is written back as its alias.
fn sync_service_account(s: &mut Map<String, Value>) {
    let name = s
        .get("serviceAccountName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .or_else(|| s.get("serviceAccount").and_then(Value::as_str))
        .unwrap_or("")
        .to_string();
    if name.is_empty() {
        s.remove("serviceAccount");
        return;
    }
    s.insert("serviceAccountName".to_string(), json!(name));
    s.insert("serviceAccount".to_string(), json!(name));
}

/// A pod template (`metadata` and `spec`): its spec's defaults.
pub fn default_pod_template(template: &mut Value) {
    if let Some(spec) = template.get_mut("spec") {
        default_pod_spec(spec);
    }
}

/// Everything a Pod's `spec` gets on decode: `SetDefaults_Pod` (requests from limits,
/// `enableServiceLinks`, host ports from container ports with host networking) and then
/// [`default_pod_spec`], in upstream's order.
pub fn default_pod(pod: &mut Value) {
    let Some(s) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for list in ["containers", "initContainers"] {
        for container in each_mut(s, list) {
            requests_from_limits(container);
        }
    }
    set_absent(s, "enableServiceLinks", json!(true));
    if s.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        for list in ["containers", "initContainers"] {
            for container in each_mut(s, list) {
                let Some(c) = obj_mut(container) else {
                    continue;
                };
                for port in each_mut(c, "ports") {
                    if let Some(p) = obj_mut(port) {
                        let container_port = p.get("containerPort").cloned().unwrap_or(json!(0));
                        set_zero(p, "hostPort", container_port);
                    }
                }
            }
        }
    }
    if let Some(spec) = pod.get_mut("spec") {
        default_pod_spec(spec);
    }
}

/// A request for every resource with a limit but no request.
fn requests_from_limits(container: &mut Value) {
    let Some(resources) = container
        .get_mut("resources")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let Some(limits) = resources.get("limits").and_then(Value::as_object).cloned() else {
        return;
    };
    let requests = resources.entry("requests").or_insert_with(|| json!({}));
    if requests.is_null() {
        *requests = json!({});
    }
    if let Some(requests) = requests.as_object_mut() {
        for (name, value) in limits {
            requests.entry(name).or_insert(value);
        }
    }
}

/// The volume source fields of a `Volume` (all but `name`).
fn has_source(v: &Map<String, Value>) -> bool {
    v.iter().any(|(k, val)| k != "name" && !val.is_null())
}

/// `SetDefaults_Volume` and the defaults of each volume source.
fn default_volume(volume: &mut Value) {
    let Some(v) = obj_mut(volume) else {
        return;
    };
    if !has_source(v) {
        v.insert("emptyDir".to_string(), json!({}));
    }
    if let Some(image) = child_mut(v, "image") {
        let reference = image.get("reference").and_then(Value::as_str).unwrap_or("");
        let policy = image::default_pull_policy(reference);
        set_zero(image, "pullPolicy", json!(policy));
    }
    if let Some(host_path) = child_mut(v, "hostPath") {
        set_absent(host_path, "type", json!(""));
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(src) = child_mut(v, source) {
            set_absent(src, "defaultMode", json!(DEFAULT_VOLUME_MODE));
        }
    }
    if let Some(dapi) = child_mut(v, "downwardAPI") {
        default_downward_items(dapi);
    }
    if let Some(projected) = child_mut(v, "projected") {
        for source in each_mut(projected, "sources") {
            let Some(src) = obj_mut(source) else {
                continue;
            };
            if let Some(dapi) = child_mut(src, "downwardAPI") {
                default_downward_items(dapi);
            }
            if let Some(token) = child_mut(src, "serviceAccountToken") {
                set_absent(token, "expirationSeconds", json!(3600));
            }
        }
    }
    if let Some(iscsi) = child_mut(v, "iscsi") {
        set_zero(iscsi, "iscsiInterface", json!("default"));
    }
    if let Some(rbd) = child_mut(v, "rbd") {
        set_zero(rbd, "pool", json!("rbd"));
        set_zero(rbd, "user", json!("admin"));
        set_zero(rbd, "keyring", json!("/etc/ceph/keyring"));
    }
    if let Some(azure) = child_mut(v, "azureDisk") {
        set_absent(azure, "cachingMode", json!("ReadWrite"));
        set_absent(azure, "fsType", json!("ext4"));
        set_absent(azure, "readOnly", json!(false));
        set_absent(azure, "kind", json!("Shared"));
    }
    if let Some(scaleio) = child_mut(v, "scaleIO") {
        set_zero(scaleio, "storageMode", json!("ThinProvisioned"));
        set_zero(scaleio, "fsType", json!("xfs"));
    }
    if let Some(spec) = v
        .get_mut("ephemeral")
        .and_then(|e| e.get_mut("volumeClaimTemplate"))
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut)
    {
        set_absent(spec, "volumeMode", json!("Filesystem"));
    }
}

fn default_downward_items(dapi: &mut Map<String, Value>) {
    for item in each_mut(dapi, "items") {
        if let Some(field_ref) = item.get_mut("fieldRef").and_then(Value::as_object_mut) {
            set_zero(field_ref, "apiVersion", json!("v1"));
        }
    }
}

/// `SetDefaults_Container` and the defaults of its ports, env, probes and lifecycle hooks.
fn default_container(container: &mut Value) {
    let Some(c) = obj_mut(container) else {
        return;
    };
    let image = c.get("image").and_then(Value::as_str).unwrap_or("");
    let policy = image::default_pull_policy(image);
    set_zero(c, "imagePullPolicy", json!(policy));
    set_zero(
        c,
        "terminationMessagePath",
        json!(TERMINATION_MESSAGE_PATH_DEFAULT),
    );
    set_zero(c, "terminationMessagePolicy", json!("File"));
    for port in each_mut(c, "ports") {
        if let Some(p) = obj_mut(port) {
            set_zero(p, "protocol", json!("TCP"));
        }
    }
    for env in each_mut(c, "env") {
        if let Some(field_ref) = env
            .get_mut("valueFrom")
            .and_then(|v| v.get_mut("fieldRef"))
            .and_then(Value::as_object_mut)
        {
            set_zero(field_ref, "apiVersion", json!("v1"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = child_mut(c, probe) {
            set_zero(p, "timeoutSeconds", json!(1));
            set_zero(p, "periodSeconds", json!(10));
            set_zero(p, "successThreshold", json!(1));
            set_zero(p, "failureThreshold", json!(3));
            default_http_get(p);
        }
    }
    if let Some(lifecycle) = child_mut(c, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = child_mut(lifecycle, hook) {
                default_http_get(h);
            }
        }
    }
}

/// `SetDefaults_HTTPGetAction`: path `/`, scheme `HTTP`.
fn default_http_get(handler: &mut Map<String, Value>) {
    if let Some(get) = child_mut(handler, "httpGet") {
        set_zero(get, "path", json!("/"));
        set_zero(get, "scheme", json!("HTTP"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_pod_gets_upstreams_defaults() {
        let mut pod = json!({"spec": {"containers": [{"name": "c", "image": "nginx"}]}});
        default_pod(&mut pod);
        assert_eq!(
            pod["spec"],
            json!({
                "containers": [{
                    "name": "c",
                    "image": "nginx",
                    "imagePullPolicy": "Always",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                }],
                "dnsPolicy": "ClusterFirst",
                "enableServiceLinks": true,
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "terminationGracePeriodSeconds": 30,
            })
        );
    }

    #[test]
    fn templates_do_not_get_pod_only_defaults() {
        let mut t = json!({"spec": {"containers": [{"name": "c", "image": "nginx:1.25",
            "resources": {"limits": {"cpu": "1"}}}]}});
        default_pod_template(&mut t);
        assert!(t["spec"].get("enableServiceLinks").is_none());
        assert!(t["spec"]["containers"][0]["resources"]
            .get("requests")
            .is_none());
        assert_eq!(
            t["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
    }

    #[test]
    fn pods_get_requests_from_limits_and_host_ports() {
        let mut pod = json!({"spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "x",
            "ports": [{"containerPort": 80}],
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}}]}});
        default_pod(&mut pod);
        let c = &pod["spec"]["containers"][0];
        assert_eq!(
            c["resources"]["requests"],
            json!({"cpu": "500m", "memory": "1Gi"})
        );
        assert_eq!(
            c["ports"][0],
            json!({"containerPort": 80, "hostPort": 80, "protocol": "TCP"})
        );
    }

    #[test]
    fn volumes_probes_and_env_get_their_defaults() {
        let mut spec = json!({
            "volumes": [
                {"name": "a"},
                {"name": "b", "secret": {"secretName": "s"}},
                {"name": "c", "hostPath": {"path": "/x"}},
                {"name": "d", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
            ],
            "containers": [{"name": "c", "image": "x",
                "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "livenessProbe": {"httpGet": {"port": 80}},
            }],
        });
        default_pod_spec(&mut spec);
        assert_eq!(spec["volumes"][0]["emptyDir"], json!({}));
        assert_eq!(spec["volumes"][1]["secret"]["defaultMode"], 420);
        assert_eq!(spec["volumes"][2]["hostPath"]["type"], "");
        assert_eq!(spec["volumes"][3]["projected"]["defaultMode"], 420);
        assert_eq!(
            spec["volumes"][3]["projected"]["sources"][0]["serviceAccountToken"]
                ["expirationSeconds"],
            3600
        );
        let c = &spec["containers"][0];
        assert_eq!(c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
        assert_eq!(
            c["livenessProbe"],
            json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
                "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
        );
    }
}

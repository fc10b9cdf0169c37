//! One test per check (the messages are upstream's, byte for byte), and the registry's
//! order, overrides and versions.

use super::*;
use serde_json::json;

fn lv(level: Level, version: Version) -> LevelVersion {
    LevelVersion { level, version }
}

const BASELINE: LevelVersion = LevelVersion {
    level: Level::Baseline,
    version: Version::Latest,
};
const RESTRICTED: LevelVersion = LevelVersion {
    level: Level::Restricted,
    version: Version::Latest,
};

/// The detailed message of `pod` (a whole Pod object) at `at`.
fn message(at: LevelVersion, pod: &Value) -> String {
    let view = PodView {
        meta: pod.get("metadata").unwrap_or(&Value::Null),
        spec: pod.get("spec").unwrap_or(&Value::Null),
    };
    detailed(&evaluate(at, &view))
}

/// A pod with these containers and pod-level spec fields.
fn pod(spec: Value) -> Value {
    json!({"metadata": {"name": "p"}, "spec": spec})
}

/// A pod that passes restricted at latest.
fn restricted_pod() -> Value {
    pod(json!({
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "app", "image": "nginx", "securityContext": {
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
        }}],
    }))
}

#[test]
fn ids_are_sorted_as_upstream_orders_them() {
    for level in [Level::Baseline, Level::Restricted] {
        let ids = ids(level);
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
    assert_eq!(ids(Level::Baseline).len(), 12);
    assert_eq!(ids(Level::Restricted).len(), 7);
    assert_eq!(newest_minor(), 35);
}

#[test]
fn privileged_level_checks_nothing() {
    let p = pod(
        json!({"hostNetwork": true, "containers": [{"name": "a", "securityContext": {"privileged": true}}]}),
    );
    assert_eq!(message(lv(Level::Privileged, Version::Latest), &p), "");
}

#[test]
fn restricted_pod_passes() {
    assert_eq!(message(RESTRICTED, &restricted_pod()), "");
    // A plain pod passes baseline.
    let plain = pod(json!({"containers": [{"name": "a", "image": "nginx"}]}));
    assert_eq!(message(BASELINE, &plain), "");
}

#[test]
fn a_plain_pod_at_restricted() {
    let plain = pod(json!({"containers": [{"name": "nginx", "image": "nginx"}]}));
    assert_eq!(
        message(RESTRICTED, &plain),
        r#"allowPrivilegeEscalation != false (container "nginx" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "nginx" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "nginx" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "nginx" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
    );
}

#[test]
fn privileged_containers() {
    let p = pod(json!({
        "initContainers": [{"name": "init", "securityContext": {"privileged": true}}],
        "containers": [
            {"name": "a", "securityContext": {"privileged": true}},
            {"name": "b", "securityContext": {"privileged": false}},
        ],
        "ephemeralContainers": [{"name": "debug", "securityContext": {"privileged": true}}],
    }));
    assert_eq!(
        message(BASELINE, &p),
        r#"privileged (containers "init", "a", "debug" must not set securityContext.privileged=true)"#
    );
}

#[test]
fn host_namespaces() {
    let p = pod(json!({"hostNetwork": true, "hostPID": true, "hostIPC": true, "containers": []}));
    assert_eq!(
        message(BASELINE, &p),
        "host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)"
    );
}

#[test]
fn host_path_volumes_and_restricted_volumes() {
    let p = pod(json!({"volumes": [
        {"name": "a", "hostPath": {"path": "/"}},
        {"name": "b", "emptyDir": {}},
        {"name": "c", "nfs": {"server": "s", "path": "/"}},
        {"name": "d", "hostPath": {"path": "/var"}},
    ]}));
    assert_eq!(
        message(BASELINE, &p),
        r#"hostPath volumes (volumes "a", "d")"#
    );
    let mut r = restricted_pod();
    r["spec"]["volumes"] = p["spec"]["volumes"].clone();
    // restrictedVolumes replaces hostPathVolumes at restricted.
    assert_eq!(
        message(RESTRICTED, &r),
        r#"restricted volume types (volumes "a", "c", "d" use restricted volume types "hostPath", "nfs")"#
    );
    r["spec"]["volumes"] = json!([{"name": "x", "gitRepo": {"repository": "r"}}]);
    assert_eq!(
        message(RESTRICTED, &r),
        r#"restricted volume types (volume "x" uses restricted volume type "gitRepo")"#
    );
}

#[test]
fn host_ports() {
    let p = pod(json!({"containers": [
        {"name": "a", "ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81}]},
        {"name": "b", "ports": [{"containerPort": 90, "hostPort": 90}]},
    ]}));
    assert_eq!(
        message(BASELINE, &p),
        r#"hostPort (containers "a", "b" use hostPorts 8080, 90)"#
    );
    let one = pod(json!({"containers": [{"name": "a", "ports": [{"hostPort": 8080}]}]}));
    assert_eq!(
        message(BASELINE, &one),
        r#"hostPort (container "a" uses hostPort 8080)"#
    );
}

#[test]
fn capabilities_baseline_and_restricted() {
    let p = pod(json!({"containers": [
        {"name": "a", "securityContext": {"capabilities": {"add": ["NET_RAW", "CHOWN", "SYS_ADMIN"]}}},
        {"name": "b", "securityContext": {"capabilities": {"add": ["KILL"]}}},
    ]}));
    assert_eq!(
        message(BASELINE, &p),
        r#"non-default capabilities (container "a" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)"#
    );
    let mut r = restricted_pod();
    r["spec"]["containers"][0]["securityContext"]["capabilities"] =
        json!({"drop": ["NET_RAW"], "add": ["NET_BIND_SERVICE", "SYS_TIME"]});
    // capabilities_restricted replaces the baseline check at restricted.
    assert_eq!(
        message(RESTRICTED, &r),
        r#"unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]; container "app" must not include "SYS_TIME" in securityContext.capabilities.add)"#
    );
    // Before v1.22 restricted has no capabilities check of its own: baseline's runs.
    assert_eq!(
        message(lv(Level::Restricted, Version::Minor(21)), &r),
        r#"non-default capabilities (container "app" must not include "SYS_TIME" in securityContext.capabilities.add)"#
    );
}

#[test]
fn app_armor() {
    let p = json!({
        "metadata": {"annotations": {
            "container.apparmor.security.beta.kubernetes.io/a": "unconfined",
            "container.apparmor.security.beta.kubernetes.io/b": "localhost/foo",
        }},
        "spec": {
            "securityContext": {"appArmorProfile": {"type": "Unconfined"}},
            "containers": [{"name": "a", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}],
        },
    });
    assert_eq!(
        message(BASELINE, &p),
        r#"forbidden AppArmor profiles (pod and container "a" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/a="unconfined"")"#
    );
    let fields_only = pod(json!({"securityContext": {"appArmorProfile": {"type": "Unconfined"}}}));
    assert_eq!(
        message(BASELINE, &fields_only),
        r#"forbidden AppArmor profile (pod must not set AppArmor profile type to "Unconfined")"#
    );
}

#[test]
fn se_linux_options() {
    let p = pod(json!({
        "securityContext": {"seLinuxOptions": {"type": "spc_t"}},
        "containers": [
            {"name": "a", "securityContext": {"seLinuxOptions": {"user": "root", "role": "r"}}},
            {"name": "b", "securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}},
        ],
    }));
    assert_eq!(
        message(BASELINE, &p),
        r#"seLinuxOptions (pod and container "a" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)"#
    );
    // container_engine_t is allowed from v1.31 on.
    assert_eq!(
        message(lv(Level::Baseline, Version::Minor(30)), &p),
        r#"seLinuxOptions (pod and containers "a", "b" set forbidden securityContext.seLinuxOptions: types "container_engine_t", "spc_t"; user may not be set; role may not be set)"#
    );
}

#[test]
fn proc_mount() {
    let p = pod(json!({"containers": [
        {"name": "a", "securityContext": {"procMount": "Unmasked"}},
        {"name": "b", "securityContext": {"procMount": "Default"}},
    ]}));
    let text = r#"procMount (container "a" must not set securityContext.procMount to "Unmasked")"#;
    assert_eq!(message(BASELINE, &p), text);
    // In a user namespace baseline allows it from v1.35, restricted never does.
    let mut userns = p.clone();
    userns["spec"]["hostUsers"] = json!(false);
    assert_eq!(message(BASELINE, &userns), "");
    assert_eq!(
        message(lv(Level::Baseline, Version::Minor(34)), &userns),
        text
    );
    let mut r = restricted_pod();
    r["spec"]["hostUsers"] = json!(false);
    r["spec"]["containers"][0]["securityContext"]["procMount"] = json!("Unmasked");
    assert_eq!(
        message(RESTRICTED, &r),
        r#"procMount (container "app" must not set securityContext.procMount to "Unmasked")"#
    );
}

#[test]
fn seccomp_baseline() {
    let p = pod(json!({
        "securityContext": {"seccompProfile": {"type": "Unconfined"}},
        "containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}],
    }));
    assert_eq!(
        message(BASELINE, &p),
        r#"seccompProfile (pod and container "a" must not set securityContext.seccompProfile.type to "Unconfined")"#
    );
    let annotated = json!({
        "metadata": {"annotations": {
            "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
            "container.seccomp.security.alpha.kubernetes.io/a": "runtime/default",
        }},
        "spec": {"containers": [{"name": "a"}]},
    });
    assert_eq!(
        message(lv(Level::Baseline, Version::Minor(18)), &annotated),
        r#"seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined")"#
    );
    assert_eq!(message(BASELINE, &annotated), "");
}

#[test]
fn seccomp_restricted() {
    let mut r = restricted_pod();
    r["spec"]["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"});
    // seccompProfile_restricted replaces the baseline check: the violation is listed once.
    assert_eq!(
        message(RESTRICTED, &r),
        r#"seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")"#
    );
    r["spec"]["securityContext"] = json!({"runAsNonRoot": true});
    r["spec"]["initContainers"] = json!([{"name": "init", "securityContext": {
        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "Localhost", "localhostProfile": "p"}}}]);
    assert_eq!(
        message(RESTRICTED, &r),
        r#"seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
    );
}

#[test]
fn sysctls_by_version() {
    let p = pod(json!({"securityContext": {"sysctls": [
        {"name": "net.ipv4.tcp_rmem", "value": "1"},
        {"name": "kernel.msgmax", "value": "1"},
        {"name": "net.ipv4.ip_local_port_range", "value": "1 2"},
    ]}}));
    assert_eq!(message(BASELINE, &p), "forbidden sysctls (kernel.msgmax)");
    assert_eq!(
        message(lv(Level::Baseline, Version::Minor(31)), &p),
        "forbidden sysctls (net.ipv4.tcp_rmem, kernel.msgmax)"
    );
}

#[test]
fn windows_host_process() {
    let p = pod(json!({
        "securityContext": {"windowsOptions": {"hostProcess": true}},
        "containers": [{"name": "a", "securityContext": {"windowsOptions": {"hostProcess": true}}}],
    }));
    assert_eq!(
        message(BASELINE, &p),
        r#"hostProcess (pod and container "a" must not set securityContext.windowsOptions.hostProcess=true)"#
    );
}

#[test]
fn probe_and_lifecycle_hosts() {
    let p = pod(json!({"containers": [
        {"name": "b", "livenessProbe": {"httpGet": {"host": "evil.example", "port": 80}},
         "lifecycle": {"preStop": {"tcpSocket": {"host": "10.0.0.1", "port": 1}}}},
        {"name": "a", "readinessProbe": {"tcpSocket": {"host": "10.0.0.1", "port": 1}}},
    ]}));
    assert_eq!(
        message(BASELINE, &p),
        r#"probe or lifecycle host (containers "a", "b" use probe or lifecycle hosts "10.0.0.1", "evil.example")"#
    );
    // The check exists from v1.34 on.
    assert_eq!(message(lv(Level::Baseline, Version::Minor(33)), &p), "");
}

#[test]
fn allow_privilege_escalation_and_windows() {
    let mut r = restricted_pod();
    r["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = json!(true);
    let app = r["spec"]["containers"][0].clone();
    r["spec"]["containers"] = json!([app, {"name": "side", "securityContext": {
        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]);
    assert_eq!(
        message(RESTRICTED, &r),
        r#"allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)"#
    );
    // Windows pods skip allowPrivilegeEscalation, capabilities and seccomp from v1.25.
    let windows = pod(
        json!({"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true},
        "containers": [{"name": "w"}]}),
    );
    assert_eq!(message(RESTRICTED, &windows), "");
    assert_eq!(
        message(lv(Level::Restricted, Version::Minor(24)), &windows),
        r#"allowPrivilegeEscalation != false (container "w" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "w" must set securityContext.capabilities.drop=["ALL"]), seccompProfile (pod or container "w" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
    );
}

#[test]
fn run_as_non_root() {
    let mut r = restricted_pod();
    r["spec"]["securityContext"]["runAsNonRoot"] = json!(false);
    r["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = json!(false);
    assert_eq!(
        message(RESTRICTED, &r),
        r#"runAsNonRoot != true (pod and container "app" must not set securityContext.runAsNonRoot=false)"#
    );
    // A pod in a user namespace may run as root from v1.35.
    r["spec"]["hostUsers"] = json!(false);
    assert_eq!(message(RESTRICTED, &r), "");
    assert_ne!(message(lv(Level::Restricted, Version::Minor(34)), &r), "");
}

#[test]
fn run_as_user() {
    let mut r = restricted_pod();
    r["spec"]["securityContext"]["runAsUser"] = json!(0);
    r["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(0);
    assert_eq!(
        message(RESTRICTED, &r),
        r#"runAsUser=0 (pod and container "app" must not set runAsUser=0)"#
    );
    // The check starts at v1.23.
    assert_eq!(message(lv(Level::Restricted, Version::Minor(22)), &r), "");
    r["spec"]["hostUsers"] = json!(false);
    assert_eq!(message(RESTRICTED, &r), "");
}

#[test]
fn baseline_violations_come_first_at_restricted() {
    let p = pod(
        json!({"hostPID": true, "containers": [{"name": "c", "securityContext": {"privileged": true}}]}),
    );
    let text = message(RESTRICTED, &p);
    assert!(
        text.starts_with(r#"host namespaces (hostPID=true), privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false"#),
        "{text}"
    );
    let reasons = reasons(&evaluate(
        RESTRICTED,
        &PodView {
            meta: &p["metadata"],
            spec: &p["spec"],
        },
    ));
    assert_eq!(
        reasons,
        "host namespaces, privileged, allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile"
    );
}

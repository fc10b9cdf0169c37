//! The baseline checks: what any namespace above privileged refuses.

use std::collections::BTreeSet;

use apimachinery::go_quote;
use serde_json::Value;

use super::{
    bool_field, containers_phrase, get, items, join_quote, name, pluralize, security_context,
    str_field, violation, Check, Level, Offenders, PodView, Revision, Violation,
};

/// The baseline checks, sorted by ID.
pub(super) static CHECKS: &[Check] = &[
    check("appArmorProfile", &[rev(0, app_armor_profile)]),
    check("capabilities_baseline", &[rev(0, capabilities)]),
    check("hostNamespaces", &[rev(0, host_namespaces)]),
    check("hostPathVolumes", &[rev(0, host_path_volumes)]),
    check("hostPorts", &[rev(0, host_ports)]),
    check("hostProbesAndHostLifecycle", &[rev(34, probe_hosts)]),
    check("privileged", &[rev(0, privileged)]),
    check(
        "procMount",
        &[
            rev(0, proc_mount),
            rev(35, proc_mount_unless_user_namespace),
        ],
    ),
    check(
        "seLinuxOptions",
        &[rev(0, se_linux_1_0), rev(31, se_linux_1_31)],
    ),
    check(
        "seccompProfile_baseline",
        &[rev(0, seccomp_annotations), rev(19, seccomp_fields)],
    ),
    check(
        "sysctls",
        &[
            rev(0, sysctls_1_0),
            rev(27, sysctls_1_27),
            rev(29, sysctls_1_29),
            rev(32, sysctls_1_32),
        ],
    ),
    check("windowsHostProcess", &[rev(0, windows_host_process)]),
];

const fn check(id: &'static str, revisions: &'static [Revision]) -> Check {
    Check {
        id,
        level: Level::Baseline,
        revisions,
    }
}

const fn rev(since: u64, check: super::CheckFn) -> Revision {
    Revision {
        since,
        check,
        overrides: &[],
    }
}

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// AppArmor: profile types RuntimeDefault and Localhost (pod and containers), annotation
/// values `runtime/default`, `localhost/*` or empty.
fn app_armor_profile(pod: &PodView<'_>) -> Option<Violation> {
    let allowed_type = |profile: &Value| {
        let t = str_field(profile, "type").unwrap_or_default();
        (matches!(t, "RuntimeDefault" | "Localhost"), t.to_string())
    };
    let mut setters = Vec::new();
    let mut values = BTreeSet::new();
    if let Some(profile) = pod
        .security_context()
        .and_then(|sc| get(sc, "appArmorProfile"))
    {
        if let (false, t) = allowed_type(profile) {
            setters.push("pod".to_string());
            values.insert(t);
        }
    }
    let mut bad = Offenders::default();
    for c in pod.containers() {
        if let Some(profile) = security_context(c).and_then(|sc| get(sc, "appArmorProfile")) {
            if let (false, t) = allowed_type(profile) {
                bad.add(c, [t]);
            }
        }
    }
    if !bad.containers.is_empty() {
        setters.push(containers_phrase(&bad.containers));
    }
    values.extend(bad.values);
    let mut annotations: Vec<String> = pod
        .annotations()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with(APPARMOR_ANNOTATION_PREFIX))
        .filter_map(|(k, v)| {
            let v = v.as_str().unwrap_or_default();
            let allowed = v.is_empty() || v == "runtime/default" || v.starts_with("localhost/");
            (!allowed).then(|| format!("{k}={}", go_quote(v)))
        })
        .collect();
    let mut value_list: Vec<String> = values.into_iter().collect();
    if !annotations.is_empty() {
        annotations.sort();
        setters.push(pluralize("annotation", "annotations", annotations.len()).to_string());
        value_list.extend(annotations);
    }
    if setters.is_empty() {
        return None;
    }
    violation(
        pluralize(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            value_list.len(),
        ),
        format!(
            "{} must not set AppArmor profile type to {}",
            setters.join(" and "),
            join_quote(&value_list)
        ),
    )
}

/// Capabilities a container may add at baseline.
const DEFAULT_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Added capabilities beyond the default set.
fn capabilities(pod: &PodView<'_>) -> Option<Violation> {
    let mut bad = Offenders::default();
    for c in pod.containers() {
        let Some(caps) = security_context(c).and_then(|sc| get(sc, "capabilities")) else {
            continue;
        };
        let extra: Vec<String> = items(caps, "add")
            .filter_map(Value::as_str)
            .filter(|cap| !DEFAULT_CAPABILITIES.contains(cap))
            .map(str::to_string)
            .collect();
        if !extra.is_empty() {
            bad.add(c, extra);
        }
    }
    if bad.containers.is_empty() {
        return None;
    }
    violation(
        "non-default capabilities",
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&bad.containers),
            join_quote(&bad.values)
        ),
    )
}

/// hostNetwork, hostPID, hostIPC.
fn host_namespaces(pod: &PodView<'_>) -> Option<Violation> {
    let set: Vec<&str> = [
        ("hostNetwork", "hostNetwork=true"),
        ("hostPID", "hostPID=true"),
        ("hostIPC", "hostIPC=true"),
    ]
    .into_iter()
    .filter(|(field, _)| bool_field(pod.spec, field) == Some(true))
    .map(|(_, text)| text)
    .collect();
    if set.is_empty() {
        return None;
    }
    violation("host namespaces", set.join(", "))
}

/// hostPath volumes.
fn host_path_volumes(pod: &PodView<'_>) -> Option<Violation> {
    let names: Vec<String> = items(pod.spec, "volumes")
        .filter(|v| get(v, "hostPath").is_some())
        .map(name)
        .collect();
    if names.is_empty() {
        return None;
    }
    violation(
        "hostPath volumes",
        format!(
            "{} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names)
        ),
    )
}

/// Container host ports.
fn host_ports(pod: &PodView<'_>) -> Option<Violation> {
    let mut bad = Offenders::default();
    for c in pod.containers() {
        let ports: Vec<String> = items(c, "ports")
            .filter_map(|p| p.get("hostPort").and_then(Value::as_i64))
            .filter(|port| *port != 0)
            .map(|port| port.to_string())
            .collect();
        if !ports.is_empty() {
            bad.add(c, ports);
        }
    }
    if bad.containers.is_empty() {
        return None;
    }
    let ports: Vec<&str> = bad.values.iter().map(String::as_str).collect();
    violation(
        "hostPort",
        format!(
            "{} {} {} {}",
            containers_phrase(&bad.containers),
            pluralize("uses", "use", bad.containers.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
    )
}

/// `host` in probes and lifecycle handlers.
fn probe_hosts(pod: &PodView<'_>) -> Option<Violation> {
    let mut containers = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    for c in pod.containers() {
        let lifecycle = get(c, "lifecycle");
        let handlers = ["livenessProbe", "readinessProbe", "startupProbe"]
            .into_iter()
            .filter_map(|p| get(c, p))
            .chain(
                ["postStart", "preStop"]
                    .into_iter()
                    .filter_map(|h| lifecycle.and_then(|l| get(l, h))),
            );
        for handler in handlers {
            for action in ["httpGet", "tcpSocket"] {
                let host = get(handler, action)
                    .and_then(|a| str_field(a, "host"))
                    .unwrap_or_default();
                if !host.is_empty() {
                    containers.insert(name(c));
                    hosts.insert(host.to_string());
                }
            }
        }
    }
    if containers.is_empty() {
        return None;
    }
    violation(
        "probe or lifecycle host",
        format!(
            "{} {} {} {} {}",
            pluralize("container", "containers", containers.len()),
            join_quote(&containers),
            pluralize("uses", "use", containers.len()),
            pluralize(
                "probe or lifecycle host",
                "probe or lifecycle hosts",
                hosts.len()
            ),
            join_quote(&hosts)
        ),
    )
}

/// `securityContext.privileged: true`.
fn privileged(pod: &PodView<'_>) -> Option<Violation> {
    let names: Vec<String> = pod
        .containers()
        .filter(|c| security_context(c).and_then(|sc| bool_field(sc, "privileged")) == Some(true))
        .map(name)
        .collect();
    if names.is_empty() {
        return None;
    }
    violation(
        "privileged",
        format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&names)
        ),
    )
}

/// A procMount other than `Default` (shared with the restricted check).
pub(super) fn proc_mount(pod: &PodView<'_>) -> Option<Violation> {
    let mut bad = Offenders::default();
    for c in pod.containers() {
        if let Some(mount) = security_context(c).and_then(|sc| get(sc, "procMount")) {
            let mount = mount.as_str().unwrap_or_default();
            if mount != "Default" {
                bad.add(c, [mount.to_string()]);
            }
        }
    }
    if bad.containers.is_empty() {
        return None;
    }
    violation(
        "procMount",
        format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&bad.containers),
            join_quote(&bad.values)
        ),
    )
}

/// From v1.35, a pod in a user namespace may set any procMount.
fn proc_mount_unless_user_namespace(pod: &PodView<'_>) -> Option<Violation> {
    if pod.in_user_namespace() {
        return None;
    }
    proc_mount(pod)
}

const SELINUX_TYPES_1_0: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
const SELINUX_TYPES_1_31: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn se_linux_1_0(pod: &PodView<'_>) -> Option<Violation> {
    se_linux(pod, SELINUX_TYPES_1_0)
}

fn se_linux_1_31(pod: &PodView<'_>) -> Option<Violation> {
    se_linux(pod, SELINUX_TYPES_1_31)
}

/// seLinuxOptions: an allowed type, no user, no role.
fn se_linux(pod: &PodView<'_>, allowed_types: &[&str]) -> Option<Violation> {
    let mut bad_types = BTreeSet::new();
    let (mut set_user, mut set_role) = (false, false);
    let mut valid = |opts: &Value| {
        let mut ok = true;
        let t = str_field(opts, "type").unwrap_or_default();
        if !allowed_types.contains(&t) {
            ok = false;
            bad_types.insert(t.to_string());
        }
        if !str_field(opts, "user").unwrap_or_default().is_empty() {
            ok = false;
            set_user = true;
        }
        if !str_field(opts, "role").unwrap_or_default().is_empty() {
            ok = false;
            set_role = true;
        }
        ok
    };
    let mut setters = Vec::new();
    if let Some(opts) = pod
        .security_context()
        .and_then(|sc| get(sc, "seLinuxOptions"))
    {
        if !valid(opts) {
            setters.push("pod".to_string());
        }
    }
    let bad_containers: Vec<String> = pod
        .containers()
        .filter(|c| {
            security_context(c)
                .and_then(|sc| get(sc, "seLinuxOptions"))
                .is_some_and(|opts| !valid(opts))
        })
        .map(name)
        .collect();
    if !bad_containers.is_empty() {
        setters.push(containers_phrase(&bad_containers));
    }
    if setters.is_empty() {
        return None;
    }
    let mut data = Vec::new();
    if !bad_types.is_empty() {
        data.push(format!(
            "{} {}",
            pluralize("type", "types", bad_types.len()),
            join_quote(&bad_types)
        ));
    }
    if set_user {
        data.push("user may not be set".to_string());
    }
    if set_role {
        data.push("role may not be set".to_string());
    }
    violation(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            data.join("; ")
        ),
    )
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// Before v1.19: the seccomp annotations name `runtime/default`, `docker/default` or
/// `localhost/*`.
fn seccomp_annotations(pod: &PodView<'_>) -> Option<Violation> {
    let annotations = pod.annotations();
    let valid =
        |v: &str| v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
    let mut forbidden = BTreeSet::new();
    let mut check = |key: &str| {
        if let Some(v) = annotations.and_then(|a| a.get(key)) {
            let v = v.as_str().unwrap_or_default();
            if !valid(v) {
                forbidden.insert(format!("{key}={}", go_quote(v)));
            }
        }
    };
    check(SECCOMP_POD_ANNOTATION);
    for c in pod.containers() {
        check(&format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", name(c)));
    }
    if forbidden.is_empty() {
        return None;
    }
    let list: Vec<&str> = forbidden.iter().map(String::as_str).collect();
    violation(
        "seccompProfile",
        format!(
            "forbidden {} {}",
            pluralize("annotation", "annotations", list.len()),
            list.join(", ")
        ),
    )
}

/// A seccomp profile type the standards accept.
pub(super) fn valid_seccomp(profile: &Value) -> Result<(), String> {
    match str_field(profile, "type").unwrap_or_default() {
        "RuntimeDefault" | "Localhost" => Ok(()),
        other => Err(other.to_string()),
    }
}

/// From v1.19: a set seccomp profile is RuntimeDefault or Localhost.
fn seccomp_fields(pod: &PodView<'_>) -> Option<Violation> {
    let mut setters = Vec::new();
    let mut values = BTreeSet::new();
    if let Some(profile) = pod
        .security_context()
        .and_then(|sc| get(sc, "seccompProfile"))
    {
        if let Err(t) = valid_seccomp(profile) {
            setters.push("pod".to_string());
            values.insert(t);
        }
    }
    let mut bad = Offenders::default();
    for c in pod.containers() {
        if let Some(profile) = security_context(c).and_then(|sc| get(sc, "seccompProfile")) {
            if let Err(t) = valid_seccomp(profile) {
                bad.add(c, [t]);
            }
        }
    }
    if !bad.containers.is_empty() {
        setters.push(containers_phrase(&bad.containers));
    }
    values.extend(bad.values);
    if setters.is_empty() {
        return None;
    }
    violation(
        "seccompProfile",
        format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters.join(" and "),
            join_quote(&values)
        ),
    )
}

const SYSCTLS_1_0: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
];
const SYSCTLS_ADDED_1_27: &[&str] = &["net.ipv4.ip_local_reserved_ports"];
const SYSCTLS_ADDED_1_29: &[&str] = &[
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const SYSCTLS_ADDED_1_32: &[&str] = &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];

fn sysctls_1_0(pod: &PodView<'_>) -> Option<Violation> {
    sysctls(pod, &[SYSCTLS_1_0])
}

fn sysctls_1_27(pod: &PodView<'_>) -> Option<Violation> {
    sysctls(pod, &[SYSCTLS_1_0, SYSCTLS_ADDED_1_27])
}

fn sysctls_1_29(pod: &PodView<'_>) -> Option<Violation> {
    sysctls(pod, &[SYSCTLS_1_0, SYSCTLS_ADDED_1_27, SYSCTLS_ADDED_1_29])
}

fn sysctls_1_32(pod: &PodView<'_>) -> Option<Violation> {
    sysctls(
        pod,
        &[
            SYSCTLS_1_0,
            SYSCTLS_ADDED_1_27,
            SYSCTLS_ADDED_1_29,
            SYSCTLS_ADDED_1_32,
        ],
    )
}

/// Pod sysctls outside the safe set, in the pod's order.
fn sysctls(pod: &PodView<'_>, allowed: &[&[&str]]) -> Option<Violation> {
    let forbidden: Vec<&str> = pod
        .security_context()
        .map(|sc| items(sc, "sysctls"))
        .into_iter()
        .flatten()
        .map(|s| str_field(s, "name").unwrap_or_default())
        .filter(|n| !allowed.iter().any(|set| set.contains(n)))
        .collect();
    if forbidden.is_empty() {
        return None;
    }
    violation("forbidden sysctls", forbidden.join(", "))
}

/// `windowsOptions.hostProcess: true`, on the pod or a container.
fn windows_host_process(pod: &PodView<'_>) -> Option<Violation> {
    let host_process = |sc: Option<&Value>| {
        sc.and_then(|sc| get(sc, "windowsOptions"))
            .and_then(|w| bool_field(w, "hostProcess"))
            == Some(true)
    };
    let mut setters = Vec::new();
    if host_process(pod.security_context()) {
        setters.push("pod".to_string());
    }
    let names: Vec<String> = pod
        .containers()
        .filter(|c| host_process(security_context(c)))
        .map(name)
        .collect();
    if !names.is_empty() {
        setters.push(containers_phrase(&names));
    }
    if setters.is_empty() {
        return None;
    }
    violation(
        "hostProcess",
        format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            setters.join(" and ")
        ),
    )
}

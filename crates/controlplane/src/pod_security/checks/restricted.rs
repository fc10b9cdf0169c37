//! The restricted checks: current hardening practice, on top of baseline.

use std::collections::BTreeSet;

use serde_json::Value;

use super::baseline::{proc_mount, valid_seccomp};
use super::{
    bool_field, containers_phrase, get, items, join_quote, name, pluralize, security_context,
    violation, Check, Level, Offenders, PodView, Revision, Violation,
};

/// The restricted checks, sorted by ID.
pub(super) static CHECKS: &[Check] = &[
    check(
        "allowPrivilegeEscalation",
        &[
            rev(8, allow_privilege_escalation, &[]),
            rev(25, allow_privilege_escalation_unless_windows, &[]),
        ],
    ),
    check(
        "capabilities_restricted",
        &[
            rev(22, capabilities, &["capabilities_baseline"]),
            rev(25, capabilities_unless_windows, &["capabilities_baseline"]),
        ],
    ),
    check(
        "procMount_restricted",
        &[rev(35, proc_mount, &["procMount"])],
    ),
    check(
        "restrictedVolumes",
        &[rev(0, restricted_volumes, &["hostPathVolumes"])],
    ),
    check(
        "runAsNonRoot",
        &[
            rev(0, run_as_non_root, &[]),
            rev(35, run_as_non_root_unless_user_namespace, &[]),
        ],
    ),
    check(
        "runAsUser",
        &[
            rev(23, run_as_user, &[]),
            rev(35, run_as_user_unless_user_namespace, &[]),
        ],
    ),
    check(
        "seccompProfile_restricted",
        &[
            rev(19, seccomp, &["seccompProfile_baseline"]),
            rev(25, seccomp_unless_windows, &["seccompProfile_baseline"]),
        ],
    ),
];

const fn check(id: &'static str, revisions: &'static [Revision]) -> Check {
    Check {
        id,
        level: Level::Restricted,
        revisions,
    }
}

const fn rev(since: u64, check: super::CheckFn, overrides: &'static [&'static str]) -> Revision {
    Revision {
        since,
        check,
        overrides,
    }
}

/// Every container sets `allowPrivilegeEscalation: false`.
fn allow_privilege_escalation(pod: &PodView<'_>) -> Option<Violation> {
    let names: Vec<String> = pod
        .containers()
        .filter(|c| {
            security_context(c).and_then(|sc| bool_field(sc, "allowPrivilegeEscalation"))
                != Some(false)
        })
        .map(name)
        .collect();
    if names.is_empty() {
        return None;
    }
    violation(
        "allowPrivilegeEscalation != false",
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&names)
        ),
    )
}

/// From v1.25 Windows pods are exempt (the API refuses the field for them).
fn allow_privilege_escalation_unless_windows(pod: &PodView<'_>) -> Option<Violation> {
    if pod.is_windows() {
        return None;
    }
    allow_privilege_escalation(pod)
}

/// Every container drops `ALL` and adds nothing but `NET_BIND_SERVICE`.
fn capabilities(pod: &PodView<'_>) -> Option<Violation> {
    let mut missing_drop_all = Vec::new();
    let mut adding = Offenders::default();
    for c in pod.containers() {
        let Some(caps) = security_context(c).and_then(|sc| get(sc, "capabilities")) else {
            missing_drop_all.push(name(c));
            continue;
        };
        if !items(caps, "drop").any(|cap| cap.as_str() == Some("ALL")) {
            missing_drop_all.push(name(c));
        }
        let forbidden: Vec<String> = items(caps, "add")
            .map(|cap| cap.as_str().unwrap_or_default())
            .filter(|cap| *cap != "NET_BIND_SERVICE")
            .map(str::to_string)
            .collect();
        if !forbidden.is_empty() {
            adding.add(c, forbidden);
        }
    }
    let mut details = Vec::new();
    if !missing_drop_all.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&missing_drop_all)
        ));
    }
    if !adding.containers.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding.containers),
            join_quote(&adding.values)
        ));
    }
    if details.is_empty() {
        return None;
    }
    violation("unrestricted capabilities", details.join("; "))
}

fn capabilities_unless_windows(pod: &PodView<'_>) -> Option<Violation> {
    if pod.is_windows() {
        return None;
    }
    capabilities(pod)
}

/// Volume sources a restricted pod may use inline.
const ALLOWED_VOLUME_SOURCES: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// The other sources, as upstream names them, in the order it tests them.
const RESTRICTED_VOLUME_SOURCES: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

/// Only the allowed inline volume sources.
fn restricted_volumes(pod: &PodView<'_>) -> Option<Violation> {
    let mut names = Vec::new();
    let mut types = BTreeSet::new();
    for volume in items(pod.spec, "volumes") {
        if ALLOWED_VOLUME_SOURCES
            .iter()
            .any(|s| get(volume, s).is_some())
        {
            continue;
        }
        names.push(name(volume));
        let kind = RESTRICTED_VOLUME_SOURCES
            .iter()
            .find(|s| get(volume, s).is_some())
            .copied()
            .unwrap_or("unknown");
        types.insert(kind);
    }
    if names.is_empty() {
        return None;
    }
    violation(
        "restricted volume types",
        format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names),
            pluralize("uses", "use", names.len()),
            pluralize(
                "restricted volume type",
                "restricted volume types",
                types.len()
            ),
            join_quote(&types)
        ),
    )
}

/// `runAsNonRoot: true` on the pod or every container, and `false` nowhere.
fn run_as_non_root(pod: &PodView<'_>) -> Option<Violation> {
    let mut setters = Vec::new();
    let mut pod_non_root = false;
    match pod
        .security_context()
        .and_then(|sc| bool_field(sc, "runAsNonRoot"))
    {
        Some(false) => setters.push("pod".to_string()),
        Some(true) => pod_non_root = true,
        None => {}
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    for c in pod.containers() {
        match security_context(c).and_then(|sc| bool_field(sc, "runAsNonRoot")) {
            Some(false) => explicit.push(name(c)),
            Some(true) => {}
            None if !pod_non_root => implicit.push(name(c)),
            None => {}
        }
    }
    if !explicit.is_empty() {
        setters.push(containers_phrase(&explicit));
    }
    if !setters.is_empty() {
        return violation(
            "runAsNonRoot != true",
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
        );
    }
    if !implicit.is_empty() {
        return violation(
            "runAsNonRoot != true",
            format!(
                "pod or {} must set securityContext.runAsNonRoot=true",
                containers_phrase(&implicit)
            ),
        );
    }
    None
}

/// From v1.35 a pod in a user namespace may run as root inside it.
fn run_as_non_root_unless_user_namespace(pod: &PodView<'_>) -> Option<Violation> {
    if pod.in_user_namespace() {
        return None;
    }
    run_as_non_root(pod)
}

/// `runAsUser: 0` nowhere.
fn run_as_user(pod: &PodView<'_>) -> Option<Violation> {
    let is_root = |sc: Option<&Value>| {
        sc.and_then(|sc| sc.get("runAsUser"))
            .and_then(Value::as_i64)
            == Some(0)
    };
    let mut setters = Vec::new();
    if is_root(pod.security_context()) {
        setters.push("pod".to_string());
    }
    let names: Vec<String> = pod
        .containers()
        .filter(|c| is_root(security_context(c)))
        .map(name)
        .collect();
    if !names.is_empty() {
        setters.push(containers_phrase(&names));
    }
    if setters.is_empty() {
        return None;
    }
    violation(
        "runAsUser=0",
        format!("{} must not set runAsUser=0", setters.join(" and ")),
    )
}

fn run_as_user_unless_user_namespace(pod: &PodView<'_>) -> Option<Violation> {
    if pod.in_user_namespace() {
        return None;
    }
    run_as_user(pod)
}

/// A seccomp profile of RuntimeDefault or Localhost on the pod or every container.
fn seccomp(pod: &PodView<'_>) -> Option<Violation> {
    let mut setters = Vec::new();
    let mut values = BTreeSet::new();
    let mut pod_set = false;
    if let Some(profile) = pod
        .security_context()
        .and_then(|sc| get(sc, "seccompProfile"))
    {
        match valid_seccomp(profile) {
            Ok(()) => pod_set = true,
            Err(t) => {
                setters.push("pod".to_string());
                values.insert(t);
            }
        }
    }
    let mut explicit = Offenders::default();
    let mut implicit = Vec::new();
    for c in pod.containers() {
        match security_context(c).and_then(|sc| get(sc, "seccompProfile")) {
            Some(profile) => {
                if let Err(t) = valid_seccomp(profile) {
                    explicit.add(c, [t]);
                }
            }
            None if !pod_set => implicit.push(name(c)),
            None => {}
        }
    }
    if !explicit.containers.is_empty() {
        setters.push(containers_phrase(&explicit.containers));
    }
    values.extend(explicit.values);
    if !setters.is_empty() {
        return violation(
            "seccompProfile",
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters.join(" and "),
                join_quote(&values)
            ),
        );
    }
    if !implicit.is_empty() {
        return violation(
            "seccompProfile",
            format!(
                "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                containers_phrase(&implicit)
            ),
        );
    }
    None
}

fn seccomp_unless_windows(pod: &PodView<'_>) -> Option<Violation> {
    if pod.is_windows() {
        return None;
    }
    seccomp(pod)
}

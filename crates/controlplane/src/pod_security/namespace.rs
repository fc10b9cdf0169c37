//! Namespaces: their policy labels must parse, and a stricter enforce level is tried on
//! the pods already there, each violation reported as a warning (upstream's
//! `ValidateNamespace` and `EvaluatePodsInNamespace`).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use apimachinery::errors::{ApiError, FieldError};
use apimachinery::go_quote;
use serde_json::{Map, Value};

use super::checks::{evaluate, reasons};
use super::config::Config;
use super::policy::{
    labels, policy_from_labels, Level, LevelVersion, Policy, AUDIT_LEVEL_LABEL,
    AUDIT_VERSION_LABEL, ENFORCE_LEVEL_LABEL, ENFORCE_VERSION_LABEL, WARN_LEVEL_LABEL,
    WARN_VERSION_LABEL,
};
use super::templates::pod_view;

/// At most this many existing pods are checked.
const MAX_PODS_TO_CHECK: usize = 3000;
/// Checking existing pods stops after this long.
const POD_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// What a namespace write needs from the plugin.
pub enum NamespaceCheck {
    /// Nothing to do.
    Allow,
    /// Labels that do not parse: the 422 to answer.
    Invalid(Vec<FieldError>),
    /// The enforce policy became stricter: try it on the namespace's pods.
    CheckPods(LevelVersion),
    /// An exempt namespace asks for a policy: say it is ignored.
    Warn(String),
}

/// Decides what a namespace create (`old` absent) or update needs, with the configured
/// defaults; exempt namespaces get a warning instead of a check of their pods.
pub fn check_namespace(new: &Value, old: Option<&Value>, config: &Config) -> NamespaceCheck {
    let name = new
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let new_labels = labels(new);
    let (new_policy, new_errs) = policy_from_labels(&new_labels, config.defaults);
    let exempt = || match exempt_warning(name, &new_policy, &new_labels, config) {
        Some(w) if config.exempt_namespace(name) => NamespaceCheck::Warn(w),
        _ => NamespaceCheck::Allow,
    };
    let Some(old) = old else {
        return if new_errs.is_empty() {
            exempt()
        } else {
            NamespaceCheck::Invalid(new_errs)
        };
    };
    let (old_policy, old_errs) = policy_from_labels(&labels(old), config.defaults);
    // Bad labels are refused, unless the update leaves them as bad as they were.
    if !new_errs.is_empty() && (old_errs.is_empty() || new_errs != old_errs) {
        return NamespaceCheck::Invalid(new_errs);
    }
    let (new, old) = (new_policy.enforce, old_policy.enforce);
    if new == old
        || new.level == Level::Privileged
        || (new.version == old.version && new.level <= old.level)
    {
        return NamespaceCheck::Allow;
    }
    if config.exempt_namespace(name) {
        return exempt();
    }
    NamespaceCheck::CheckPods(new)
}

/// The warning for an exempt namespace whose labels ask for a policy that differs from the
/// defaults: the non-privileged modes its labels set.
fn exempt_warning(
    name: &str,
    policy: &Policy,
    labels: &Map<String, Value>,
    config: &Config,
) -> Option<String> {
    if policy.fully_privileged() || policy.equivalent(&config.defaults) {
        return None;
    }
    let modes: Vec<String> = [
        (
            "enforce",
            policy.enforce,
            ENFORCE_LEVEL_LABEL,
            ENFORCE_VERSION_LABEL,
        ),
        (
            "audit",
            policy.audit,
            AUDIT_LEVEL_LABEL,
            AUDIT_VERSION_LABEL,
        ),
        ("warn", policy.warn, WARN_LEVEL_LABEL, WARN_VERSION_LABEL),
    ]
    .into_iter()
    .filter(|(_, lv, level, version)| {
        lv.level != Level::Privileged
            && (labels.contains_key(*level) || labels.contains_key(*version))
    })
    .map(|(mode, lv, _, _)| format!("{mode}={lv}"))
    .collect();
    Some(format!(
        "namespace {} is exempt from Pod Security, and the policy ({}) will be ignored",
        go_quote(name),
        modes.join(", ")
    ))
}

/// The 422 for bad policy labels on namespace `name`.
pub fn invalid(name: &str, errs: Vec<FieldError>) -> ApiError {
    ApiError::invalid("", "Namespace", name, errs)
}

/// The warnings for a namespace's existing pods under a new enforce level: a summary line,
/// then one line per distinct set of violations, naming the first pod (by name) and how
/// many others share it.
pub fn existing_pod_warnings(
    namespace: &str,
    enforce: LevelVersion,
    pods: &[Value],
    config: &Config,
) -> Vec<String> {
    let deadline = Instant::now() + POD_CHECK_TIMEOUT;
    let prioritized = prioritize(pods, config);
    let total = prioritized.len();
    // Per distinct reasons text: the lexically first pod name, and the count.
    let mut seen: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut checked = total.min(MAX_PODS_TO_CHECK);
    for (i, pod) in prioritized.iter().take(MAX_PODS_TO_CHECK).enumerate() {
        let violations = evaluate(enforce, &pod_view(pod));
        if !violations.is_empty() {
            let text = reasons(&violations);
            let name = pod
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            match seen.get_mut(&text) {
                Some((first, count)) => {
                    if name < *first {
                        *first = name;
                    }
                    *count += 1;
                }
                None => {
                    order.push(text.clone());
                    seen.insert(text, (name, 1));
                }
            }
        }
        if Instant::now() >= deadline {
            checked = i + 1;
            break;
        }
    }
    let mut warnings = Vec::new();
    if checked < total {
        warnings.push(format!(
            "new PodSecurity enforce level only checked against the first {checked} of {total} existing pods"
        ));
    }
    if !order.is_empty() {
        warnings.push(format!(
            "existing pods in namespace {} violate the new PodSecurity enforce level {}",
            go_quote(namespace),
            go_quote(&enforce.to_string())
        ));
    }
    let mut per_pod: Vec<String> = order
        .iter()
        .map(|text| {
            let (first, count) = &seen[text];
            match count {
                1 => format!("{first}: {text}"),
                2 => format!("{first} (and 1 other pod): {text}"),
                n => format!("{first} (and {} other pods): {text}", n - 1),
            }
        })
        .collect();
    per_pod.sort();
    warnings.extend(per_pod);
    warnings
}

/// The pods in checking order: one pod per controller first, then the other pods of
/// controllers already seen; pods of exempt runtime classes are left out.
fn prioritize<'a>(pods: &'a [Value], config: &Config) -> Vec<&'a Value> {
    let mut first = Vec::with_capacity(pods.len());
    let mut duplicates = Vec::new();
    let mut controllers = HashSet::new();
    for pod in pods {
        if config.exempt_runtime_class(pod.get("spec").unwrap_or(&Value::Null)) {
            continue;
        }
        let controller = pod
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .and_then(|refs| {
                refs.iter()
                    .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
            })
            .and_then(|r| r.get("uid"))
            .and_then(Value::as_str);
        match controller {
            None => first.push(pod),
            Some(uid) if controllers.contains(uid) => duplicates.push(pod),
            Some(uid) => {
                controllers.insert(uid);
                first.push(pod);
            }
        }
    }
    first.extend(duplicates);
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pod_security::policy::Version;
    use serde_json::json;

    fn ns(labels: Value) -> Value {
        json!({"metadata": {"name": "x", "labels": labels}})
    }

    #[test]
    fn label_changes() {
        let bad = ns(json!({"pod-security.kubernetes.io/enforce": "bogus"}));
        assert!(matches!(
            check_namespace(&bad, None, &Config::default()),
            NamespaceCheck::Invalid(_)
        ));
        // An update that keeps the same bad labels is let through.
        assert!(matches!(
            check_namespace(&bad, Some(&bad), &Config::default()),
            NamespaceCheck::Allow
        ));
        let plain = ns(json!({}));
        assert!(matches!(
            check_namespace(&bad, Some(&plain), &Config::default()),
            NamespaceCheck::Invalid(_)
        ));
        let restricted = ns(json!({"pod-security.kubernetes.io/enforce": "restricted"}));
        assert!(matches!(
            check_namespace(&restricted, Some(&plain), &Config::default()),
            NamespaceCheck::CheckPods(LevelVersion {
                level: Level::Restricted,
                version: Version::Latest
            })
        ));
        // An exempt namespace is told its labels are ignored.
        let config = Config {
            exemptions: crate::pod_security::config::Exemptions {
                namespaces: vec!["x".to_string()],
                ..Default::default()
            },
            ..Default::default()
        };
        match check_namespace(&restricted, Some(&plain), &config) {
            NamespaceCheck::Warn(w) => assert_eq!(
                w,
                "namespace \"x\" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored"
            ),
            _ => panic!("expected a warning"),
        }
        // On create too, but not for labels that only repeat the defaults.
        assert!(matches!(
            check_namespace(&restricted, None, &config),
            NamespaceCheck::Warn(_)
        ));
        let privileged = ns(json!({"pod-security.kubernetes.io/enforce": "privileged"}));
        assert!(matches!(
            check_namespace(&privileged, None, &config),
            NamespaceCheck::Allow
        ));
        // Relaxing at the same version checks nothing.
        let baseline = ns(json!({"pod-security.kubernetes.io/enforce": "baseline"}));
        assert!(matches!(
            check_namespace(&baseline, Some(&restricted), &Config::default()),
            NamespaceCheck::Allow
        ));
    }

    #[test]
    fn existing_pods_grouped() {
        let pod = |name: &str, privileged: bool, owner: Option<&str>| {
            let mut p = json!({"metadata": {"name": name}, "spec": {"containers": [
                {"name": "c", "image": "i", "securityContext": {"privileged": privileged}}]}});
            if let Some(uid) = owner {
                p["metadata"]["ownerReferences"] = json!([{"uid": uid, "controller": true}]);
            }
            p
        };
        let pods = vec![
            pod("web-b", true, Some("rs1")),
            pod("web-a", true, Some("rs1")),
            pod("fine", false, None),
            pod("solo", true, None),
            pod("web-c", true, Some("rs1")),
        ];
        let lv = LevelVersion {
            level: Level::Baseline,
            version: Version::Latest,
        };
        assert_eq!(
            existing_pod_warnings("x", lv, &pods, &Config::default()),
            [
                "existing pods in namespace \"x\" violate the new PodSecurity enforce level \"baseline:latest\"",
                "solo (and 3 other pods): privileged",
            ]
        );
    }
}

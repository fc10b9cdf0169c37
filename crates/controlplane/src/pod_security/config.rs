//! The plugin's configuration (`PodSecurityConfiguration`, given through
//! `--admission-control-config-file`): the policy of namespaces without labels, and what is
//! exempt (namespaces, requesting users, pods' runtime classes).

use std::collections::HashSet;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use serde_json::Value;

use super::policy::{Level, LevelVersion, Policy, Version};

const API_VERSIONS: [&str; 3] = [
    "pod-security.admission.config.k8s.io/v1",
    "pod-security.admission.config.k8s.io/v1beta1",
    "pod-security.admission.config.k8s.io/v1alpha1",
];

/// What is exempt from every mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exemptions {
    pub usernames: Vec<String>,
    pub namespaces: Vec<String>,
    pub runtime_classes: Vec<String>,
}

/// The configuration; the default is upstream's without a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub defaults: Policy,
    pub exemptions: Exemptions,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            defaults: Policy::DEFAULT,
            exemptions: Exemptions::default(),
        }
    }
}

/// Why a configuration is refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Decode(String),
    #[error("PodSecurity invalid: {}", aggregate(.0))]
    Invalid(Vec<FieldError>),
}

fn aggregate(errs: &[FieldError]) -> String {
    let texts: Vec<String> = errs.iter().map(ToString::to_string).collect();
    match texts.len() {
        1 => texts[0].clone(),
        _ => format!("[{}]", texts.join(", ")),
    }
}

impl Config {
    /// Reads a decoded `PodSecurityConfiguration`: unset levels are privileged and unset
    /// versions latest, then everything is checked as upstream checks it.
    pub fn from_value(value: &Value) -> Result<Config, ConfigError> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default();
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        if kind.is_empty() {
            return Err(ConfigError::Decode(
                "Object 'Kind' is missing in the PodSecurity configuration".to_string(),
            ));
        }
        if kind != "PodSecurityConfiguration" || !API_VERSIONS.contains(&api_version) {
            return Err(ConfigError::Decode(format!(
                "no kind {kind:?} is registered for version {api_version:?}"
            )));
        }
        let null = Value::Null;
        let defaults = value.get("defaults").unwrap_or(&null);
        let exemptions = value.get("exemptions").unwrap_or(&null);
        let mut errs = Vec::new();
        let mut mode = |level_key: &str, version_key: &str| {
            let path = FieldPath::new("defaults");
            let level = defaults
                .get(level_key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("privileged");
            let version = defaults
                .get(version_key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("latest");
            let level = Level::parse(level).unwrap_or_else(|e| {
                errs.push(FieldError::invalid(&path.child(level_key), level, &e));
                Level::Restricted
            });
            let version = Version::parse(version).unwrap_or_else(|e| {
                errs.push(FieldError::invalid(&path.child(version_key), version, &e));
                Version::Latest
            });
            LevelVersion { level, version }
        };
        let enforce = mode("enforce", "enforce-version");
        let warn = mode("warn", "warn-version");
        let audit = mode("audit", "audit-version");
        let list = |key: &str| -> Vec<String> {
            exemptions
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect()
        };
        let exemptions = Exemptions {
            usernames: list("usernames"),
            namespaces: list("namespaces"),
            runtime_classes: list("runtimeClasses"),
        };
        check_list(&exemptions.namespaces, "namespaces", &mut errs, |ns| {
            validation::validate_namespace_name(ns, false)
        });
        check_list(
            &exemptions.runtime_classes,
            "runtimeClasses",
            &mut errs,
            |rc| validation::name_is_dns_subdomain(rc, false),
        );
        check_list(&exemptions.usernames, "usernames", &mut errs, |u| {
            if u.is_empty() {
                vec!["username must not be empty".to_string()]
            } else {
                Vec::new()
            }
        });
        if !errs.is_empty() {
            return Err(ConfigError::Invalid(errs));
        }
        Ok(Config {
            defaults: Policy {
                enforce,
                audit,
                warn,
            },
            exemptions,
        })
    }

    pub fn exempt_namespace(&self, namespace: &str) -> bool {
        !namespace.is_empty() && self.exemptions.namespaces.iter().any(|n| n == namespace)
    }

    pub fn exempt_user(&self, username: &str) -> bool {
        !username.is_empty() && self.exemptions.usernames.iter().any(|n| n == username)
    }

    /// Whether a pod's `runtimeClassName` is exempt.
    pub fn exempt_runtime_class(&self, spec: &Value) -> bool {
        let class = spec
            .get("runtimeClassName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        !class.is_empty() && self.exemptions.runtime_classes.iter().any(|n| n == class)
    }
}

/// Each item valid per `check`, and none repeated.
fn check_list(
    items: &[String],
    key: &str,
    errs: &mut Vec<FieldError>,
    check: impl Fn(&str) -> Vec<String>,
) {
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let path = FieldPath::new("exemptions").child(key).index(i);
        let problems = check(item);
        if !problems.is_empty() {
            errs.push(FieldError::invalid(
                &path,
                item.as_str(),
                &problems.join(", "),
            ));
        } else if !seen.insert(item.as_str()) {
            errs.push(FieldError::duplicate(&path, item.as_str()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_exemptions() {
        let c = Config::from_value(&json!({
            "apiVersion": "pod-security.admission.config.k8s.io/v1",
            "kind": "PodSecurityConfiguration",
            "defaults": {"enforce": "baseline", "warn": "restricted", "warn-version": "v1.30"},
            "exemptions": {"namespaces": ["kube-system"], "usernames": ["admin"], "runtimeClasses": ["kata"]},
        }))
        .expect("valid");
        assert_eq!(c.defaults.enforce.to_string(), "baseline:latest");
        assert_eq!(c.defaults.warn.to_string(), "restricted:v1.30");
        assert_eq!(c.defaults.audit.to_string(), "privileged:latest");
        assert!(c.exempt_namespace("kube-system") && !c.exempt_namespace("default"));
        assert!(c.exempt_user("admin"));
        assert!(c.exempt_runtime_class(&json!({"runtimeClassName": "kata"})));
    }

    #[test]
    fn invalid_configuration() {
        let err = Config::from_value(&json!({
            "apiVersion": "pod-security.admission.config.k8s.io/v1",
            "kind": "PodSecurityConfiguration",
            "defaults": {"enforce": "strict"},
            "exemptions": {"namespaces": ["a", "a", "Not_Valid"], "usernames": [""]},
        }))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "PodSecurity invalid: [defaults.enforce: Invalid value: \"strict\": must be one of privileged, baseline, restricted, \
             exemptions.namespaces[1]: Duplicate value: \"a\", \
             exemptions.namespaces[2]: Invalid value: \"Not_Valid\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?'), \
             exemptions.usernames[0]: Invalid value: \"\": username must not be empty]"
        );
        let err = Config::from_value(&json!({"kind": "Other", "apiVersion": "v1"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no kind \"Other\" is registered for version \"v1\""
        );
    }
}

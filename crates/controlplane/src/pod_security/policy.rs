//! Policy levels and versions, and a namespace's policy read from its labels (upstream's
//! `pod-security-admission/api`): `pod-security.kubernetes.io/<mode>` holds a level,
//! `pod-security.kubernetes.io/<mode>-version` a version, for the modes enforce, audit
//! and warn.

use std::fmt;

use apimachinery::errors::{FieldError, FieldPath};
use serde_json::{Map, Value};

/// The enforce level label.
pub const ENFORCE_LEVEL_LABEL: &str = "pod-security.kubernetes.io/enforce";
/// The enforce version label.
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";
/// The audit level label.
pub const AUDIT_LEVEL_LABEL: &str = "pod-security.kubernetes.io/audit";
/// The audit version label.
pub const AUDIT_VERSION_LABEL: &str = "pod-security.kubernetes.io/audit-version";
/// The warn level label.
pub const WARN_LEVEL_LABEL: &str = "pod-security.kubernetes.io/warn";
/// The warn version label.
pub const WARN_VERSION_LABEL: &str = "pod-security.kubernetes.io/warn-version";

/// A Pod Security Standards level, least strict first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// A label's level; anything else is an error (upstream's `ParseLevel`, whose callers
    /// then fall back to `restricted`, or `privileged` for audit and warn).
    pub fn parse(s: &str) -> Result<Level, String> {
        match s {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err("must be one of privileged, baseline, restricted".to_string()),
        }
    }
}

/// A policy version: `latest`, or `v1.<minor>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    Latest,
    /// `v1.<minor>`.
    Minor(u64),
}

impl Version {
    /// A label's version (`latest` or `v1.x`, no leading zeros); anything else is an error,
    /// and the caller falls back to `latest`.
    pub fn parse(s: &str) -> Result<Version, String> {
        if s == "latest" {
            return Ok(Version::Latest);
        }
        let err = || "must be \"latest\" or \"v1.x\"".to_string();
        let digits = s.strip_prefix("v1.").ok_or_else(err)?;
        let canonical = digits == "0" || (!digits.starts_with('0') && !digits.is_empty());
        if !canonical || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        // Go's strconv.Atoi: out of range for a 64-bit int is an error too.
        match digits.parse::<i64>() {
            Ok(n) => Ok(Version::Minor(n as u64)),
            Err(_) => Err(err()),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::Minor(m) => write!(f, "v1.{m}"),
        }
    }
}

/// A level at a version, printed `level:version` (`restricted:latest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelVersion {
    pub level: Level,
    pub version: Version,
}

impl LevelVersion {
    /// Privileged at latest: the default of every mode.
    pub const PRIVILEGED: LevelVersion = LevelVersion {
        level: Level::Privileged,
        version: Version::Latest,
    };
}

impl fmt::Display for LevelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level.as_str(), self.version)
    }
}

/// The three modes of a namespace's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub enforce: LevelVersion,
    pub audit: LevelVersion,
    pub warn: LevelVersion,
}

impl Policy {
    /// Upstream's defaults without a configuration file: privileged/latest everywhere.
    pub const DEFAULT: Policy = Policy {
        enforce: LevelVersion::PRIVILEGED,
        audit: LevelVersion::PRIVILEGED,
        warn: LevelVersion::PRIVILEGED,
    };

    /// Whether two policies act alike: per mode, both privileged or the same level and
    /// version.
    pub fn equivalent(&self, other: &Policy) -> bool {
        let same = |a: LevelVersion, b: LevelVersion| {
            (a.level == Level::Privileged && b.level == Level::Privileged) || a == b
        };
        same(self.enforce, other.enforce)
            && same(self.audit, other.audit)
            && same(self.warn, other.warn)
    }

    /// Whether no mode asks for anything.
    pub fn fully_privileged(&self) -> bool {
        [self.enforce, self.audit, self.warn]
            .iter()
            .all(|lv| lv.level == Level::Privileged)
    }
}

/// The label map of an object (empty when it has none).
pub fn labels(obj: &Value) -> Map<String, Value> {
    obj.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// A namespace's policy from its labels, over the configured defaults (upstream's
/// `PolicyToEvaluate`).
/// A policy is always returned; a label that does not parse also gives an error on
/// `metadata.labels[<label>]`, and its mode falls back: enforce to `restricted`, audit and
/// warn to `privileged`, a version to `latest`. Warn follows an explicitly set, stricter
/// enforce level (and its version, unless warn's version is set).
pub fn policy_from_labels(
    labels: &Map<String, Value>,
    defaults: Policy,
) -> (Policy, Vec<FieldError>) {
    let mut policy = defaults;
    let mut errs = Vec::new();
    if labels.is_empty() {
        return (policy, errs);
    }
    let enforce_level = read(labels, ENFORCE_LEVEL_LABEL, Level::parse, &mut errs);
    if let Some(level) = enforce_level {
        policy.enforce.level = level.unwrap_or(Level::Restricted);
    }
    if let Some(version) = read(labels, ENFORCE_VERSION_LABEL, Version::parse, &mut errs) {
        policy.enforce.version = version.unwrap_or(Version::Latest);
    }
    // Audit and warn fail open: a bad level is privileged.
    for (level_label, version_label, mode) in [
        (AUDIT_LEVEL_LABEL, AUDIT_VERSION_LABEL, &mut policy.audit),
        (WARN_LEVEL_LABEL, WARN_VERSION_LABEL, &mut policy.warn),
    ] {
        if let Some(level) = read(labels, level_label, Level::parse, &mut errs) {
            mode.level = level.unwrap_or(Level::Privileged);
        }
        if let Some(version) = read(labels, version_label, Version::parse, &mut errs) {
            mode.version = version.unwrap_or(Version::Latest);
        }
    }
    let has_enforce_level = matches!(enforce_level, Some(Some(_)));
    if !labels.contains_key(WARN_LEVEL_LABEL)
        && has_enforce_level
        && policy.enforce.level > policy.warn.level
    {
        policy.warn.level = policy.enforce.level;
        if !labels.contains_key(WARN_VERSION_LABEL) {
            policy.warn.version = policy.enforce.version;
        }
    }
    (policy, errs)
}

/// A label parsed: `None` when absent, `Some(None)` (and an error on
/// `metadata.labels[<name>]`) when it does not parse.
fn read<T>(
    labels: &Map<String, Value>,
    name: &str,
    parse: fn(&str) -> Result<T, String>,
    errs: &mut Vec<FieldError>,
) -> Option<Option<T>> {
    let value = labels.get(name)?.as_str().unwrap_or_default();
    match parse(value) {
        Ok(v) => Some(Some(v)),
        Err(detail) => {
            let path = FieldPath::new("metadata").child("labels").key(name);
            errs.push(FieldError::invalid(&path, value, &detail));
            Some(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(labels: Value) -> (Policy, Vec<String>) {
        let map = labels.as_object().cloned().unwrap_or_default();
        let (p, errs) = policy_from_labels(&map, Policy::DEFAULT);
        (p, errs.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn versions() {
        assert_eq!(Version::parse("latest"), Ok(Version::Latest));
        assert_eq!(Version::parse("v1.0"), Ok(Version::Minor(0)));
        assert_eq!(Version::parse("v1.25"), Ok(Version::Minor(25)));
        for bad in [
            "v1.01",
            "1.25",
            "v2.0",
            "v1.",
            "v1.x",
            "Latest",
            "v1.99999999999999999999",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn warn_follows_a_stricter_enforce() {
        let (p, errs) =
            parse(json!({ENFORCE_LEVEL_LABEL: "baseline", ENFORCE_VERSION_LABEL: "v1.22"}));
        assert!(errs.is_empty());
        assert_eq!(p.warn.to_string(), "baseline:v1.22");
        assert_eq!(p.audit.to_string(), "privileged:latest");
        let (p, _) = parse(json!({ENFORCE_LEVEL_LABEL: "restricted", WARN_VERSION_LABEL: "v1.30"}));
        assert_eq!(p.warn.to_string(), "restricted:v1.30");
        let (p, _) =
            parse(json!({ENFORCE_LEVEL_LABEL: "baseline", WARN_LEVEL_LABEL: "privileged"}));
        assert_eq!(p.warn.level, Level::Privileged);
    }

    #[test]
    fn invalid_labels_fall_back() {
        let (p, errs) = parse(json!({
            ENFORCE_LEVEL_LABEL: "bogus",
            WARN_LEVEL_LABEL: "strict",
            AUDIT_VERSION_LABEL: "v1.x",
        }));
        assert_eq!(p.enforce.level, Level::Restricted);
        assert_eq!(p.warn.level, Level::Privileged);
        assert_eq!(p.audit.version, Version::Latest);
        assert_eq!(
            errs,
            [
                r#"metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "bogus": must be one of privileged, baseline, restricted"#,
                r#"metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: "v1.x": must be "latest" or "v1.x""#,
                r#"metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "strict": must be one of privileged, baseline, restricted"#,
            ]
        );
    }
}

//! The Pod Security Standards checks and the registry that picks them per level and
//! version (upstream's `pod-security-admission/policy`).
//!
//! Each check has an ID, a level and revisions, each applying from a policy version on. A
//! baseline namespace runs the baseline checks; a restricted one runs the restricted checks
//! and the baseline checks no restricted revision overrides. Checks run in ID order, baseline
//! first, so messages list violations in upstream's order. A version newer than every
//! revision (and `latest`) runs the newest revisions.

mod baseline;
mod restricted;

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::policy::{Level, LevelVersion, Version};

/// A pod (or a pod template) as the checks see it.
#[derive(Clone, Copy)]
pub struct PodView<'a> {
    /// The pod's (or template's) `metadata`, `Null` when absent.
    pub meta: &'a Value,
    /// The pod's (or template's) `spec`, `Null` when absent.
    pub spec: &'a Value,
}

impl<'a> PodView<'a> {
    /// Init containers, containers, then ephemeral containers (upstream's visit order).
    pub fn containers(&self) -> impl Iterator<Item = &'a Value> {
        let spec = self.spec;
        ["initContainers", "containers", "ephemeralContainers"]
            .into_iter()
            .flat_map(move |list| items(spec, list))
    }

    /// `spec.securityContext`, when set.
    fn security_context(&self) -> Option<&'a Value> {
        get(self.spec, "securityContext")
    }

    /// `metadata.annotations`.
    fn annotations(&self) -> Option<&'a Map<String, Value>> {
        get(self.meta, "annotations").and_then(Value::as_object)
    }

    /// A Windows pod (`spec.os.name: windows`), which some restricted checks let through.
    fn is_windows(&self) -> bool {
        get(self.spec, "os").and_then(|os| str_field(os, "name")) == Some("windows")
    }

    /// A pod in a user namespace (`spec.hostUsers: false`), for which some checks relax.
    fn in_user_namespace(&self) -> bool {
        get(self.spec, "hostUsers").and_then(Value::as_bool) == Some(false)
    }
}

/// `obj[key]` unless absent or `null` (a Go pointer that is nil).
fn get<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn str_field<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

fn bool_field(obj: &Value, key: &str) -> Option<bool> {
    obj.get(key).and_then(Value::as_bool)
}

/// The elements of a list field (none when absent).
fn items<'a>(obj: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    obj.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter())
        .into_iter()
        .flatten()
}

/// A container's name.
fn name(container: &Value) -> String {
    str_field(container, "name").unwrap_or_default().to_string()
}

/// A container's `securityContext`, when set.
fn security_context(container: &Value) -> Option<&Value> {
    get(container, "securityContext")
}

/// `"a", "b"` (empty for no items), as upstream's `joinQuote`: no escaping.
fn join_quote<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let parts: Vec<String> = items
        .into_iter()
        .map(|s| format!("\"{}\"", s.as_ref()))
        .collect();
    parts.join(", ")
}

fn pluralize<'s>(singular: &'s str, plural: &'s str, count: usize) -> &'s str {
    if count == 1 {
        singular
    } else {
        plural
    }
}

/// `container "a"` / `containers "a", "b"`.
fn containers_phrase(names: &[String]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

/// Why a check refuses a pod: a short reason, and what exactly (may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub reason: &'static str,
    pub detail: String,
}

fn violation(reason: &'static str, detail: String) -> Option<Violation> {
    Some(Violation { reason, detail })
}

type CheckFn = fn(&PodView<'_>) -> Option<Violation>;

/// One revision of a check.
struct Revision {
    /// The first policy version (`v1.<since>`) it applies to.
    since: u64,
    check: CheckFn,
    /// Baseline checks this (restricted) revision replaces.
    overrides: &'static [&'static str],
}

/// A check: its ID, level and revisions (oldest first).
struct Check {
    id: &'static str,
    level: Level,
    revisions: &'static [Revision],
}

impl Check {
    /// The revision in force at `v1.<minor>`, if the check exists then.
    fn at(&self, minor: u64) -> Option<&Revision> {
        self.revisions.iter().rev().find(|r| r.since <= minor)
    }
}

/// Every check, baseline then restricted, each group sorted by ID.
fn checks() -> impl Iterator<Item = &'static Check> {
    baseline::CHECKS.iter().chain(restricted::CHECKS.iter())
}

/// The newest policy version any revision names; newer versions and `latest` evaluate as it.
fn newest_minor() -> u64 {
    checks()
        .flat_map(|c| c.revisions.iter().map(|r| r.since))
        .max()
        .unwrap_or(0)
}

/// Runs the checks of a level and version on a pod; the violations, in order.
pub fn evaluate(lv: LevelVersion, pod: &PodView<'_>) -> Vec<Violation> {
    if lv.level == Level::Privileged {
        return Vec::new();
    }
    let newest = newest_minor();
    let minor = match lv.version {
        Version::Latest => newest,
        Version::Minor(m) => m.min(newest),
    };
    let selected: Vec<(&Check, &Revision)> = checks()
        .filter(|c| c.level <= lv.level)
        .filter_map(|c| Some((c, c.at(minor)?)))
        .collect();
    let overridden: BTreeSet<&str> = selected
        .iter()
        .filter(|(c, _)| c.level == Level::Restricted)
        .flat_map(|(_, r)| r.overrides.iter().copied())
        .collect();
    selected
        .iter()
        .filter(|(c, _)| c.level == Level::Restricted || !overridden.contains(c.id))
        .filter_map(|(_, r)| (r.check)(pod))
        .collect()
}

/// The violations with their details: `reason (detail), reason, ...` (upstream's
/// `ForbiddenDetail`), for one object's message.
pub fn detailed(violations: &[Violation]) -> String {
    let parts: Vec<String> = violations
        .iter()
        .map(|v| {
            if v.detail.is_empty() {
                v.reason.to_string()
            } else {
                format!("{} ({})", v.reason, v.detail)
            }
        })
        .collect();
    parts.join(", ")
}

/// The reasons alone, `reason, reason` (upstream's `ForbiddenReason`), for summaries of
/// many pods.
pub fn reasons(violations: &[Violation]) -> String {
    let parts: Vec<&str> = violations.iter().map(|v| v.reason).collect();
    parts.join(", ")
}

/// Collects bad containers and the bad values they set, both in first-seen order for
/// containers and sorted for values (upstream's slices and `sets.String`).
#[derive(Default)]
struct Offenders {
    containers: Vec<String>,
    values: BTreeSet<String>,
}

impl Offenders {
    fn add(&mut self, container: &Value, values: impl IntoIterator<Item = String>) {
        self.containers.push(name(container));
        self.values.extend(values);
    }
}

/// The IDs of every check per level, for tests.
#[cfg(test)]
fn ids(level: Level) -> Vec<&'static str> {
    checks()
        .filter(|c| c.level == level)
        .map(|c| c.id)
        .collect()
}

#[cfg(test)]
mod tests;

//! The plugin's counters, under upstream's names and labels: `pod_security_evaluations_total`,
//! `pod_security_exemptions_total` and `pod_security_errors_total`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use apiserver::admission::{Attributes, Operation};
use apiserver::metrics::MetricsSource;

use super::policy::{Level, LevelVersion, Version};

/// What an evaluation decided.
#[derive(Debug, Clone, Copy)]
pub enum Decision {
    Allow,
    Deny,
}

/// Which mode an evaluation was for.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    Enforce,
    Audit,
    Warn,
}

/// A request's labels: operation, resource kind (`pod`, `namespace`, `controller`),
/// subresource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RequestLabels {
    operation: &'static str,
    resource: &'static str,
    subresource: String,
}

impl RequestLabels {
    fn of(attrs: &Attributes<'_>) -> RequestLabels {
        let decl = attrs.resource;
        let resource = match (decl.group.as_str(), decl.plural.as_str()) {
            ("", "pods") => "pod",
            ("", "namespaces") => "namespace",
            _ => "controller",
        };
        let operation = match attrs.operation {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Connect => "connect",
        };
        RequestLabels {
            operation,
            resource,
            subresource: attrs.subresource.to_string(),
        }
    }
}

/// An evaluation's labels: decision, mode, level, version, then the request's (the order
/// Prometheus prints them in).
type EvaluationLabels = (
    &'static str,
    &'static str,
    &'static str,
    String,
    RequestLabels,
);

/// The counters.
#[derive(Default)]
pub struct PodSecurityMetrics {
    evaluations: Mutex<BTreeMap<EvaluationLabels, u64>>,
    exemptions: Mutex<BTreeMap<RequestLabels, u64>>,
    /// By whether the error stopped the evaluation, and request.
    errors: Mutex<BTreeMap<(bool, RequestLabels), u64>>,
}

/// The minor version of this server: newer policy versions are counted as `future`.
fn server_minor() -> u64 {
    apiserver::server::core::KUBERNETES_MINOR
        .parse()
        .unwrap_or(u64::MAX)
}

impl PodSecurityMetrics {
    pub fn evaluation(
        &self,
        decision: Decision,
        lv: LevelVersion,
        mode: Mode,
        attrs: &Attributes<'_>,
    ) {
        let version = match lv.version {
            _ if lv.level == Level::Privileged => "latest".to_string(),
            Version::Latest => "latest".to_string(),
            Version::Minor(m) if m <= server_minor() => lv.version.to_string(),
            Version::Minor(_) => "future".to_string(),
        };
        let decision = match decision {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        };
        let mode = match mode {
            Mode::Enforce => "enforce",
            Mode::Audit => "audit",
            Mode::Warn => "warn",
        };
        let key = (
            decision,
            mode,
            lv.level.as_str(),
            version,
            RequestLabels::of(attrs),
        );
        if let Ok(mut m) = self.evaluations.lock() {
            *m.entry(key).or_default() += 1;
        }
    }

    pub fn exemption(&self, attrs: &Attributes<'_>) {
        if let Ok(mut m) = self.exemptions.lock() {
            *m.entry(RequestLabels::of(attrs)).or_default() += 1;
        }
    }

    pub fn error(&self, fatal: bool, attrs: &Attributes<'_>) {
        if let Ok(mut m) = self.errors.lock() {
            *m.entry((fatal, RequestLabels::of(attrs))).or_default() += 1;
        }
    }
}

fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} [ALPHA] {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
}

impl MetricsSource for PodSecurityMetrics {
    fn render(&self, out: &mut String) {
        // A family appears once it has a series, as client_golang writes vectors.
        if let Ok(m) = self.errors.lock() {
            if !m.is_empty() {
                family(
                    out,
                    "pod_security_errors_total",
                    "Errors that kept PodSecurity from evaluating a request normally.",
                );
            }
            for ((fatal, r), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "pod_security_errors_total{{fatal=\"{fatal}\",request_operation=\"{}\",resource=\"{}\",subresource=\"{}\"}} {n}",
                    r.operation, r.resource, r.subresource
                );
            }
        }
        if let Ok(m) = self.evaluations.lock() {
            if !m.is_empty() {
                family(
                    out,
                    "pod_security_evaluations_total",
                    "PodSecurity policy evaluations, exempt and ignored requests not counted.",
                );
            }
            for ((decision, mode, level, version, r), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "pod_security_evaluations_total{{decision=\"{decision}\",mode=\"{mode}\",policy_level=\"{level}\",policy_version=\"{version}\",request_operation=\"{}\",resource=\"{}\",subresource=\"{}\"}} {n}",
                    r.operation, r.resource, r.subresource
                );
            }
        }
        if let Ok(m) = self.exemptions.lock() {
            if !m.is_empty() {
                family(
                    out,
                    "pod_security_exemptions_total",
                    "Requests PodSecurity let through because they are exempt.",
                );
            }
            for (r, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "pod_security_exemptions_total{{request_operation=\"{}\",resource=\"{}\",subresource=\"{}\"}} {n}",
                    r.operation, r.resource, r.subresource
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_appear_once_counted() {
        let m = PodSecurityMetrics::default();
        let mut out = String::new();
        m.render(&mut out);
        assert_eq!(out, "");
        let key = |version: &str| {
            (
                "deny",
                "warn",
                "restricted",
                version.to_string(),
                RequestLabels {
                    operation: "create",
                    resource: "controller",
                    subresource: String::new(),
                },
            )
        };
        if let Ok(mut e) = m.evaluations.lock() {
            e.insert(key("future"), 3);
        }
        m.render(&mut out);
        assert!(
            out.starts_with("# HELP pod_security_evaluations_total [ALPHA] "),
            "{out}"
        );
        assert!(out.contains("# TYPE pod_security_evaluations_total counter\n"));
        assert!(out.ends_with(
            "pod_security_evaluations_total{decision=\"deny\",mode=\"warn\",policy_level=\"restricted\",policy_version=\"future\",request_operation=\"create\",resource=\"controller\",subresource=\"\"} 3\n"
        ));
        assert!(server_minor() >= 36);
    }
}

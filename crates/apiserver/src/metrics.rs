//! Prometheus metrics with upstream's names and labels, written in the Prometheus text
//! format (`text/plain; version=0.0.4`) that upstream's `/metrics` serves.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::request_info::RequestInfo;

/// Buckets of `apiserver_request_duration_seconds`, as upstream.
const DURATION_BUCKETS: [f64; 23] = [
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0,
    10.0, 15.0, 20.0, 30.0, 45.0, 60.0,
];

/// Content type of the metrics endpoint.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The labels of a request metric, in the alphabetical order Prometheus clients print them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RequestLabels {
    component: &'static str,
    dry_run: String,
    group: String,
    resource: String,
    scope: &'static str,
    subresource: String,
    verb: String,
    version: String,
}

impl RequestLabels {
    fn render(&self, extra: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![
            ("component", self.component),
            ("dry_run", &self.dry_run),
            ("group", &self.group),
            ("resource", &self.resource),
            ("scope", self.scope),
            ("subresource", &self.subresource),
            ("verb", &self.verb),
            ("version", &self.version),
        ];
        // Variable labels sort by name; a histogram's `le` always comes last.
        pairs.extend(extra.iter().filter(|(k, _)| *k != "le"));
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        pairs.extend(extra.iter().filter(|(k, _)| *k == "le"));
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .collect();
        format!("{{{}}}", body.join(","))
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: [u64; DURATION_BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(RequestLabels, u16), u64>>,
    durations: Mutex<BTreeMap<RequestLabels, Histogram>>,
    inflight_read_only: AtomicI64,
    inflight_mutating: AtomicI64,
    storage_objects: Mutex<BTreeMap<String, i64>>,
    sources: Mutex<Vec<Arc<dyn MetricsSource>>>,
}

/// Metrics kept by another part of the server (an admission plugin's counters), written
/// after the server's own.
pub trait MetricsSource: Send + Sync {
    /// Appends the source's families in the Prometheus text format.
    fn render(&self, out: &mut String);
}

/// The verb label upstream uses (`LIST`, `WATCH`, `GET`, `POST`…).
fn metric_verb(info: &RequestInfo, method: &str) -> String {
    if !info.is_resource_request {
        return method.to_ascii_uppercase();
    }
    match info.verb.as_str() {
        "list" => "LIST".into(),
        "watch" => "WATCH".into(),
        "get" => "GET".into(),
        "create" => "POST".into(),
        "update" => "PUT".into(),
        "patch" => "PATCH".into(),
        "delete" | "deletecollection" => "DELETE".into(),
        other => other.to_ascii_uppercase(),
    }
}

fn scope(info: &RequestInfo) -> &'static str {
    if !info.is_resource_request {
        ""
    } else if !info.name.is_empty() {
        "resource"
    } else if !info.namespace.is_empty() {
        "namespace"
    } else {
        "cluster"
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a finished request.
    pub fn observe_request(
        &self,
        info: &RequestInfo,
        method: &str,
        dry_run: bool,
        code: u16,
        elapsed: Duration,
    ) {
        let labels = RequestLabels {
            component: "apiserver",
            dry_run: if dry_run { "All".into() } else { String::new() },
            group: info.api_group.clone(),
            resource: info.resource.clone(),
            scope: scope(info),
            subresource: info.subresource.clone(),
            verb: metric_verb(info, method),
            version: info.api_version.clone(),
        };
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((labels.clone(), code)).or_default() += 1;
        }
        if let Ok(mut m) = self.durations.lock() {
            let h = m.entry(labels).or_default();
            let secs = elapsed.as_secs_f64();
            for (i, b) in DURATION_BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    /// Adjusts `apiserver_current_inflight_requests` by `delta`.
    pub fn add_inflight(&self, mutating: bool, delta: i64) {
        let g = if mutating {
            &self.inflight_mutating
        } else {
            &self.inflight_read_only
        };
        g.fetch_add(delta, Ordering::Relaxed);
    }

    /// Sets `apiserver_storage_objects` for a resource (`configmaps`, `priorityclasses.scheduling.k8s.io`).
    pub fn set_storage_objects(&self, resource: &str, count: i64) {
        if let Ok(mut m) = self.storage_objects.lock() {
            m.insert(resource.to_string(), count);
        }
    }

    /// Adds a source whose metrics [`render`](Self::render) appends.
    pub fn register(&self, source: Arc<dyn MetricsSource>) {
        if let Ok(mut s) = self.sources.lock() {
            s.push(source);
        }
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP apiserver_current_inflight_requests [STABLE] Requests being served right now, counted against the in-flight limit of their kind.\n");
        out.push_str("# TYPE apiserver_current_inflight_requests gauge\n");
        let _ = writeln!(
            out,
            "apiserver_current_inflight_requests{{request_kind=\"mutating\"}} {}",
            self.inflight_mutating.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "apiserver_current_inflight_requests{{request_kind=\"readOnly\"}} {}",
            self.inflight_read_only.load(Ordering::Relaxed)
        );
        out.push_str("# HELP apiserver_request_duration_seconds [STABLE] How long requests took to answer, in seconds, by verb, dry run, group, version, resource, subresource, scope and component.\n");
        out.push_str("# TYPE apiserver_request_duration_seconds histogram\n");
        if let Ok(m) = self.durations.lock() {
            for (labels, h) in m.iter() {
                for (i, b) in DURATION_BUCKETS.iter().enumerate() {
                    let le = format!("{b}");
                    let _ = writeln!(
                        out,
                        "apiserver_request_duration_seconds_bucket{} {}",
                        labels.render(&[("le", &le)]),
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "apiserver_request_duration_seconds_bucket{} {}",
                    labels.render(&[("le", "+Inf")]),
                    h.count
                );
                let _ = writeln!(
                    out,
                    "apiserver_request_duration_seconds_sum{} {}",
                    labels.render(&[]),
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "apiserver_request_duration_seconds_count{} {}",
                    labels.render(&[]),
                    h.count
                );
            }
        }
        out.push_str("# HELP apiserver_request_total [STABLE] Requests answered, by verb, dry run, group, version, resource, scope, component and HTTP status code.\n");
        out.push_str("# TYPE apiserver_request_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((labels, code), n) in m.iter() {
                let code = code.to_string();
                let _ = writeln!(
                    out,
                    "apiserver_request_total{} {n}",
                    labels.render(&[("code", &code)])
                );
            }
        }
        out.push_str("# HELP apiserver_storage_objects [STABLE] Objects in storage per resource when last counted (-1 when counting failed).\n");
        out.push_str("# TYPE apiserver_storage_objects gauge\n");
        if let Ok(m) = self.storage_objects.lock() {
            for (resource, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "apiserver_storage_objects{{resource=\"{}\"}} {n}",
                    escape(resource)
                );
            }
        }
        let sources = self.sources.lock().map(|s| s.clone()).unwrap_or_default();
        for source in sources {
            source.render(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn renders_upstream_names_and_labels() {
        let m = Metrics::new();
        let info =
            RequestInfo::resolve(&Method::GET, "/api/v1/namespaces/default/configmaps", None);
        m.observe_request(&info, "GET", false, 200, Duration::from_millis(3));
        m.add_inflight(false, 1);
        m.set_storage_objects("configmaps", 7);
        let text = m.render();
        assert!(text.contains("apiserver_request_total{code=\"200\",component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"configmaps\",scope=\"namespace\",subresource=\"\",verb=\"LIST\",version=\"v1\"} 1"), "{text}");
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("apiserver_current_inflight_requests{request_kind=\"readOnly\"} 1"));
        assert!(text.contains("apiserver_storage_objects{resource=\"configmaps\"} 7"));
    }
}

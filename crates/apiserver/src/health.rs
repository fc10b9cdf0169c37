//! `/healthz`, `/livez` and `/readyz`: named checks, per-check paths, `?verbose`, `?exclude=`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::StatusCode;

use crate::body::Body;
use crate::endpoints::render::text_response;
use crate::request_info::percent_decode;

/// The outcome of a check: `Err` carries the reason (logged, not shown to clients).
pub type CheckResult = Result<(), String>;

type CheckFn = dyn Fn() -> Pin<Box<dyn Future<Output = CheckResult> + Send>> + Send + Sync;

/// One named health check.
#[derive(Clone)]
pub struct HealthCheck {
    pub name: String,
    check: Arc<CheckFn>,
}

impl HealthCheck {
    pub fn new<F, Fut>(name: &str, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CheckResult> + Send + 'static,
    {
        HealthCheck {
            name: name.to_string(),
            check: Arc::new(move || Box::pin(f())),
        }
    }

    /// A check that always passes (`ping`, `log`).
    pub fn ping(name: &str) -> Self {
        HealthCheck::new(name, || async { Ok(()) })
    }

    pub async fn run(&self) -> CheckResult {
        (self.check)().await
    }
}

/// Serves one health endpoint (`/readyz`, `/readyz/<check>`…) from its list of checks.
pub async fn serve(
    endpoint: &str,
    checks: &[HealthCheck],
    sub_path: &str,
    query: Option<&str>,
) -> http::Response<Body> {
    let sub = sub_path.trim_matches('/');
    if !sub.is_empty() {
        return match checks.iter().find(|c| c.name == sub) {
            Some(c) => match c.run().await {
                Ok(()) => text_response(StatusCode::OK, "ok"),
                Err(e) => text_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("internal server error: {e}\n"),
                ),
            },
            None => text_response(StatusCode::NOT_FOUND, "404 page not found\n"),
        };
    }
    let mut verbose = false;
    let mut excluded: Vec<String> = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "verbose" => verbose = v != "false",
            "exclude" => excluded.push(percent_decode(v)),
            _ => {}
        }
    }
    let mut out = String::new();
    let mut failed = false;
    for c in checks {
        if let Some(pos) = excluded.iter().position(|e| *e == c.name) {
            excluded.remove(pos);
            out.push_str(&format!("[+]{} excluded: ok\n", c.name));
            continue;
        }
        match c.run().await {
            Ok(()) => out.push_str(&format!("[+]{} ok\n", c.name)),
            Err(e) => {
                failed = true;
                tracing::info!(check = %c.name, endpoint, "health check failed: {e}");
                out.push_str(&format!("[-]{} failed: reason withheld\n", c.name));
            }
        }
    }
    if !excluded.is_empty() {
        let names: Vec<String> = excluded.iter().map(|e| format!("{e:?}")).collect();
        out.push_str(&format!(
            "warning: some health checks cannot be excluded: no matches for {}\n",
            names.join(", ")
        ));
    }
    if failed {
        out.push_str(&format!("{endpoint} check failed\n"));
        return text_response(StatusCode::INTERNAL_SERVER_ERROR, out);
    }
    if verbose {
        out.push_str(&format!("{endpoint} check passed\n"));
        text_response(StatusCode::OK, out)
    } else {
        text_response(StatusCode::OK, "ok")
    }
}

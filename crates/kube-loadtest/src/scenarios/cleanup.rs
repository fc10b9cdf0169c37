//! `cleanup`: deletes the tool's ConfigMaps in the namespace with one deletecollection (by
//! the tool's label), or, where the server does not offer it, one DELETE each.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::Method;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{configmaps_path, label_selector, list_names, run_phase, MakeOp, Op};
use crate::bail;
use crate::client::{status_message, Client, Target};
use crate::error::Result;
use crate::stats::round3;

pub struct CleanupResult {
    pub deleted: usize,
    pub method: &'static str,
    pub elapsed: Duration,
    pub errors: usize,
}

impl CleanupResult {
    pub fn human(&self) -> Vec<String> {
        vec![format!(
            "cleanup: {} objects deleted by {} in {:.3} s, {} errors",
            self.deleted,
            self.method,
            self.elapsed.as_secs_f64(),
            self.errors
        )]
    }

    pub fn json(&self) -> Value {
        json!({
            "deleted": self.deleted,
            "method": self.method,
            "seconds": round3(self.elapsed.as_secs_f64()),
            "errors": self.errors,
        })
    }
}

#[derive(Deserialize)]
struct Deleted {
    #[serde(default)]
    items: Option<Vec<IgnoredAny>>,
}

pub async fn run(target: &Arc<Target>, ns: &str, max_duration: Duration) -> Result<CleanupResult> {
    let mut client = Client::connect(target.clone()).await?;
    let t0 = Instant::now();
    let path = format!("{}?labelSelector={}", configmaps_path(ns), label_selector());
    let r = client.request(Method::DELETE, &path, None).await?;
    if r.status.is_success() {
        let deleted = serde_json::from_slice::<Deleted>(&r.body)
            .ok()
            .and_then(|d| d.items)
            .map(|i| i.len())
            .unwrap_or(0);
        return Ok(CleanupResult {
            deleted,
            method: "deletecollection",
            elapsed: t0.elapsed(),
            errors: 0,
        });
    }
    if r.status.as_u16() == 404 {
        // No such namespace: nothing to delete.
        return Ok(CleanupResult {
            deleted: 0,
            method: "deletecollection",
            elapsed: t0.elapsed(),
            errors: 0,
        });
    }
    if r.status.as_u16() != 405 {
        bail!(
            "deletecollection answered HTTP {}: {}",
            r.status,
            status_message(&r.body)
        );
    }
    let names = list_names(&mut client, ns).await?;
    drop(client);
    if names.is_empty() {
        return Ok(CleanupResult {
            deleted: 0,
            method: "delete each",
            elapsed: t0.elapsed(),
            errors: 0,
        });
    }
    let base = configmaps_path(ns);
    let paths: Arc<Vec<String>> = Arc::new(names.iter().map(|n| format!("{base}/{n}")).collect());
    let count = paths.len();
    let make: MakeOp = Arc::new(move |i| Op {
        method: Method::DELETE,
        path: paths[i].clone(),
        body: None,
        generated_name: false,
    });
    let (phase, _) = run_phase("cleanup", target, count, 16, max_duration, make, false).await?;
    Ok(CleanupResult {
        deleted: phase.ok,
        method: "delete each",
        elapsed: t0.elapsed(),
        errors: phase.errors,
    })
}

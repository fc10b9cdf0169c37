//! `list`: full LISTs of the namespace's ConfigMaps, one after another, or paginated with
//! `limit`, following continue tokens. A LIST's time is the sum, over its pages, of the time
//! from sending the request to having read the whole answer; the client's own parsing of the
//! pages (to count items and find the continue token) is left out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::Method;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{configmaps_path, ListMeta};
use crate::bail;
use crate::client::{query_escape, status_message, Client, Target};
use crate::error::{Context, Result};
use crate::stats::{round3, Samples};

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Option<Vec<IgnoredAny>>,
}

pub struct ListResult {
    pub repeat: usize,
    pub limit: Option<usize>,
    pub latency: Samples,
    pub items: Vec<usize>,
    pub bytes: Vec<u64>,
    pub pages: Vec<usize>,
    pub total: Duration,
    pub stopped: Option<String>,
}

impl ListResult {
    fn mean<T: Copy + Into<f64>>(v: &[T]) -> f64 {
        if v.is_empty() {
            0.0
        } else {
            v.iter().map(|&x| x.into()).sum::<f64>() / v.len() as f64
        }
    }

    fn items_mean(&self) -> f64 {
        Self::mean(&self.items.iter().map(|&i| i as f64).collect::<Vec<_>>())
    }

    fn bytes_mean(&self) -> f64 {
        Self::mean(&self.bytes.iter().map(|&b| b as f64).collect::<Vec<_>>())
    }

    pub fn mb_per_s(&self) -> f64 {
        let s = self.total.as_secs_f64();
        if s > 0.0 {
            self.bytes.iter().sum::<u64>() as f64 / 1e6 / s
        } else {
            0.0
        }
    }

    pub fn failed(&self) -> bool {
        self.stopped.is_some() || self.latency.len() < self.repeat
    }

    pub fn human(&self) -> Vec<String> {
        let how = match self.limit {
            Some(l) => format!("paginated, limit {l}"),
            None => "full".to_string(),
        };
        let mut lines = vec![
            format!(
                "list: {} {how} LISTs: {:.0} items, {:.2} MB, {:.1} pages per LIST; {:.1} MB/s",
                self.latency.len(),
                self.items_mean(),
                self.bytes_mean() / 1e6,
                Self::mean(&self.pages.iter().map(|&p| p as f64).collect::<Vec<_>>()),
                self.mb_per_s()
            ),
            format!("list: latency per LIST {}", self.latency.summary().human()),
        ];
        if let Some(s) = &self.stopped {
            lines.push(format!("list: STOPPED EARLY: {s}"));
        }
        lines
    }

    pub fn json(&self) -> Value {
        json!({
            "repeat": self.repeat,
            "done": self.latency.len(),
            "limit": self.limit,
            "items_per_list": round3(self.items_mean()),
            "bytes_per_list": round3(self.bytes_mean()),
            "mb_per_s": round3(self.mb_per_s()),
            "latency_ms": self.latency.summary().json(),
            "stopped": self.stopped,
        })
    }
}

pub async fn run(
    target: &Arc<Target>,
    ns: &str,
    repeat: usize,
    limit: Option<usize>,
    resource_version: Option<&str>,
    max_duration: Duration,
) -> Result<ListResult> {
    let mut client = Client::connect(target.clone()).await?;
    let base = configmaps_path(ns);
    let mut result = ListResult {
        repeat,
        limit,
        latency: Samples::default(),
        items: Vec::new(),
        bytes: Vec::new(),
        pages: Vec::new(),
        total: Duration::ZERO,
        stopped: None,
    };
    let deadline = Instant::now() + max_duration;
    for _ in 0..repeat {
        if Instant::now() >= deadline {
            result.stopped = Some(format!(
                "time limit of {} s reached",
                max_duration.as_secs()
            ));
            break;
        }
        let mut took = Duration::ZERO;
        let (mut items, mut bytes, mut pages) = (0usize, 0u64, 0usize);
        let mut cont: Option<String> = None;
        loop {
            let mut query = Vec::new();
            if let Some(l) = limit {
                query.push(format!("limit={l}"));
            }
            match (&cont, resource_version) {
                (Some(c), _) => query.push(format!("continue={}", query_escape(c))),
                (None, Some(rv)) => query.push(format!("resourceVersion={}", query_escape(rv))),
                (None, None) => {}
            }
            let path = if query.is_empty() {
                base.clone()
            } else {
                format!("{base}?{}", query.join("&"))
            };
            let t0 = Instant::now();
            let r = client.request(Method::GET, &path, None).await?;
            took += t0.elapsed();
            if !r.status.is_success() {
                bail!(
                    "LIST {path} answered HTTP {}: {}",
                    r.status,
                    status_message(&r.body)
                );
            }
            bytes += r.body.len() as u64;
            pages += 1;
            let page: Page = serde_json::from_slice(&r.body)
                .context(|| format!("LIST {path}: the answer is not a list"))?;
            items += page.items.map(|i| i.len()).unwrap_or(0);
            match page.metadata.continue_token.filter(|c| !c.is_empty()) {
                Some(c) if limit.is_some() => cont = Some(c),
                Some(_) => bail!("LIST {path}: a continue token on a LIST without limit"),
                None => break,
            }
        }
        result.total += took;
        result.latency.push(took);
        result.items.push(items);
        result.bytes.push(bytes);
        result.pages.push(pages);
    }
    Ok(result)
}

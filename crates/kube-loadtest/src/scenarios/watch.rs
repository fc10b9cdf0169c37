//! `watch`: W watches on the namespace's ConfigMaps, all from the resourceVersion current
//! before they open, then K writes one after another. For every write the time from the
//! write's response to each watcher's receipt of its event (matched by name and
//! resourceVersion) is a delivery latency; a write a watcher never sees is a miss.
//!
//! An event can reach a watcher before the writer has read the write's response; such a
//! delivery counts as 0 ms (and is counted as "early"). So that this does not hide anything,
//! the time from sending the write to each receipt is reported too: the true propagation
//! time lies between the two figures.
//!
//! With `per_node`, the watches are of Pods, watcher i pinned to node i by its field
//! selector (as every kubelet watches), and write k creates a Pod on node k mod W: each
//! write is for exactly one watcher, and an event a watcher receives for another node's Pod
//! is counted as stray (and fails the run).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use http::Method;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    configmap, configmaps_path, ensure_namespace, node_name, pod, pods_path,
    wait_for_default_service_account, ObjectHead, ObjectMeta, NAME_COLLISION_RETRIES,
};
use crate::bail;
use crate::client::{status_message, Client, Target};
use crate::error::{Context, Result};
use crate::stats::{round3, Samples};

/// Watch streams per HTTP/2 connection (servers allow 100 or more concurrent streams).
const STREAMS_PER_H2_CONNECTION: usize = 100;
/// Watches being opened at once.
const OPENING_AT_ONCE: usize = 32;

pub struct WatchOptions {
    pub watchers: usize,
    pub writes: usize,
    pub interval: Duration,
    /// Update one object K times instead of creating K objects.
    pub update: bool,
    /// How long to wait for the last deliveries after the last write.
    pub settle: Duration,
    pub size: usize,
    /// Pods per node: watcher i sees only node i's Pods; write k is for watcher k mod W.
    pub per_node: bool,
}

pub struct WatchResult {
    pub watchers: usize,
    pub writes: usize,
    pub mode: &'static str,
    pub interval: Duration,
    pub expected: usize,
    pub delivered: usize,
    pub early: usize,
    pub duplicates: usize,
    pub reordered: usize,
    /// Events of writes meant for another watcher.
    pub strays: usize,
    pub latency: Samples,
    pub from_send: Samples,
    pub write_latency: Samples,
    pub open_time: Duration,
    pub failures: Vec<String>,
    pub failed_watchers: usize,
    pub write_errors: usize,
}

impl WatchResult {
    pub fn missed(&self) -> usize {
        self.expected - self.delivered
    }

    pub fn failed(&self) -> bool {
        self.missed() > 0
            || self.failed_watchers > 0
            || self.write_errors > 0
            || self.duplicates > 0
            || self.reordered > 0
            || self.strays > 0
            || self.expected == 0
    }

    pub fn human(&self) -> Vec<String> {
        let mut lines = vec![
            format!(
                "watch: {} watchers x {} writes ({}, every {} ms), watches opened in {:.3} s",
                self.watchers,
                self.writes,
                self.mode,
                self.interval.as_millis(),
                self.open_time.as_secs_f64()
            ),
            format!(
                "watch: {}/{} deliveries, {} missed, {} before the write's response",
                self.delivered,
                self.expected,
                self.missed(),
                self.early
            ),
            format!("watch: delivery latency {}", self.latency.summary().human()),
            format!(
                "watch: from sending the write {}",
                self.from_send.summary().human()
            ),
            format!(
                "watch: write latency {}",
                self.write_latency.summary().human()
            ),
        ];
        if self.duplicates > 0 || self.reordered > 0 {
            lines.push(format!(
                "watch: {} events delivered twice, {} out of order",
                self.duplicates, self.reordered
            ));
        }
        if self.strays > 0 {
            lines.push(format!(
                "watch: {} events reached a watcher they were not for",
                self.strays
            ));
        }
        if self.write_errors > 0 {
            lines.push(format!("watch: {} writes failed", self.write_errors));
        }
        if self.failed_watchers > 0 {
            lines.push(format!("watch: {} watchers failed", self.failed_watchers));
        }
        for f in &self.failures {
            lines.push(format!("watch: error: {f}"));
        }
        lines
    }

    pub fn json(&self) -> Value {
        json!({
            "watchers": self.watchers,
            "writes": self.writes,
            "mode": self.mode,
            "interval_ms": self.interval.as_millis() as u64,
            "expected": self.expected,
            "delivered": self.delivered,
            "missed": self.missed(),
            "early": self.early,
            "duplicates": self.duplicates,
            "reordered": self.reordered,
            "strays": self.strays,
            "failed_watchers": self.failed_watchers,
            "write_errors": self.write_errors,
            "open_seconds": round3(self.open_time.as_secs_f64()),
            "latency_ms": self.latency.summary().json(),
            "from_send_ms": self.from_send.summary().json(),
            "write_latency_ms": self.write_latency.summary().json(),
        })
    }
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    object: EventObject,
}

#[derive(Deserialize, Default)]
struct EventObject {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    message: Option<String>,
}

/// What one watcher saw.
#[derive(Default)]
struct Watcher {
    events: Mutex<Vec<(String, String, Instant)>>,
    count: AtomicUsize,
    failure: Mutex<Option<String>>,
}

impl Watcher {
    fn fail(&self, msg: String) {
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert(msg);
        }
    }

    fn failed(&self) -> bool {
        self.failure.lock().map(|f| f.is_some()).unwrap_or(true)
    }
}

/// Reads one watch stream, line by line, until stopped.
async fn read_events(
    mut body: Incoming,
    state: Arc<Watcher>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let frame = tokio::select! {
            f = body.frame() => f,
            _ = stop.changed() => return,
        };
        let data = match frame {
            None => {
                if !*stop.borrow() {
                    state.fail("the watch stream ended before the run did".into());
                }
                return;
            }
            Some(Err(e)) => {
                state.fail(format!("the watch stream failed: {e}"));
                return;
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(d) => d,
                Err(_) => continue,
            },
        };
        let at = Instant::now();
        buf.extend_from_slice(&data);
        let mut start = 0;
        while let Some(n) = buf[start..].iter().position(|&b| b == b'\n') {
            let line = &buf[start..start + n];
            start += n + 1;
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            match serde_json::from_slice::<Event>(line) {
                Ok(ev) if ev.kind == "ERROR" => {
                    state.fail(format!(
                        "ERROR event: {}",
                        ev.object.message.unwrap_or_default()
                    ));
                    return;
                }
                Ok(ev) => {
                    if let Ok(mut events) = state.events.lock() {
                        events.push((
                            ev.object.metadata.name,
                            ev.object.metadata.resource_version,
                            at,
                        ));
                    }
                    state.count.fetch_add(1, Ordering::Release);
                }
                Err(e) => {
                    state.fail(format!("a watch line is not a JSON event: {e}"));
                    return;
                }
            }
        }
        buf.drain(..start);
    }
}

/// A write: the object's name and new resourceVersion, when it was sent, when answered.
struct Write {
    name: String,
    rv: String,
    sent: Instant,
    answered: Instant,
}

struct Matched {
    delivered: usize,
    early: usize,
    /// The same write seen twice by one watcher.
    duplicates: usize,
    /// A write seen after a later one by the same watcher.
    reordered: usize,
    strays: usize,
    latency: Samples,
    from_send: Samples,
}

/// Deliveries per watcher matched to writes; `meant(w, k)`: whether write k is for watcher w.
fn match_deliveries(
    watchers: &[Arc<Watcher>],
    writes: &[Write],
    meant: impl Fn(usize, usize) -> bool,
) -> Matched {
    let index: HashMap<(&str, &str), usize> = writes
        .iter()
        .enumerate()
        .map(|(i, w)| ((w.name.as_str(), w.rv.as_str()), i))
        .collect();
    let (mut delivered, mut early, mut duplicates, mut reordered, mut strays) = (0, 0, 0, 0, 0);
    let mut latency = Samples::default();
    let mut from_send = Samples::default();
    for (wi, w) in watchers.iter().enumerate() {
        let mut seen = vec![false; writes.len()];
        let mut last: Option<usize> = None;
        let Ok(events) = w.events.lock() else {
            continue;
        };
        for (name, rv, at) in events.iter() {
            if let Some(&i) = index.get(&(name.as_str(), rv.as_str())) {
                if !meant(wi, i) {
                    strays += 1;
                    continue;
                }
                // Writes are made one after another, so their events must come in order.
                if last.is_some_and(|l| i < l) {
                    reordered += 1;
                }
                last = Some(i);
                if seen[i] {
                    duplicates += 1;
                } else {
                    seen[i] = true;
                    delivered += 1;
                    let w = &writes[i];
                    if *at < w.answered {
                        early += 1;
                    }
                    latency.push(at.saturating_duration_since(w.answered));
                    from_send.push(at.saturating_duration_since(w.sent));
                }
            }
        }
    }
    Matched {
        delivered,
        early,
        duplicates,
        reordered,
        strays,
        latency,
        from_send,
    }
}

pub async fn run(
    target: &Arc<Target>,
    ns: &str,
    opts: &WatchOptions,
    max_duration: Duration,
) -> Result<WatchResult> {
    let started = Instant::now();
    let mut writer = Client::connect(target.clone()).await?;
    ensure_namespace(&mut writer, ns).await?;
    let base = if opts.per_node {
        wait_for_default_service_account(&mut writer, ns).await?;
        pods_path(ns)
    } else {
        configmaps_path(ns)
    };
    let mut object: Option<Value> = None;
    if opts.update {
        let r = writer
            .request(
                Method::POST,
                &base,
                Some(configmap(opts.size).to_string().into()),
            )
            .await?;
        if !r.status.is_success() {
            bail!(
                "cannot create the object to update: HTTP {}: {}",
                r.status,
                status_message(&r.body)
            );
        }
        object = Some(serde_json::from_slice(&r.body).context(|| "create: not an object")?);
    }

    // The resourceVersion every watch starts from.
    let r = writer
        .request(Method::GET, &format!("{base}?limit=1"), None)
        .await?;
    if !r.status.is_success() {
        bail!(
            "LIST {base} answered HTTP {}: {}",
            r.status,
            status_message(&r.body)
        );
    }
    let rv = serde_json::from_slice::<super::NamesPage>(&r.body)
        .context(|| "LIST: not a list")?
        .metadata
        .resource_version;
    if rv.is_empty() {
        bail!("LIST {base} gave no resourceVersion to watch from");
    }

    // Open the watches.
    let timeout_seconds = max_duration.as_secs().max(60);
    let path = format!(
        "{base}?watch=true&resourceVersion={rv}&allowWatchBookmarks=false&timeoutSeconds={timeout_seconds}"
    );
    let t_open = Instant::now();
    let shared: Vec<Client> = if target.http2 {
        let n = opts.watchers.div_ceil(STREAMS_PER_H2_CONNECTION);
        futures::future::try_join_all((0..n).map(|_| Client::connect(target.clone()))).await?
    } else {
        Vec::new()
    };
    let opening = futures::stream::iter(0..opts.watchers)
        .map(|w| {
            let mut client = shared
                .get(w / STREAMS_PER_H2_CONNECTION)
                .and_then(Client::share)
                .unwrap_or_else(|| Client::new(target.clone()));
            let path = if opts.per_node {
                format!("{path}&fieldSelector=spec.nodeName%3D{}", node_name(w))
            } else {
                path.clone()
            };
            async move {
                let (status, body) = client.stream(&path).await?;
                if !status.is_success() {
                    let bytes = tokio::time::timeout(Duration::from_secs(5), body.collect())
                        .await
                        .ok()
                        .and_then(|r| r.ok())
                        .map(|c| c.to_bytes())
                        .unwrap_or_default();
                    bail!(
                        "WATCH {path} answered HTTP {status}: {}",
                        status_message(&bytes)
                    );
                }
                Ok((w, client, body))
            }
        })
        .buffer_unordered(OPENING_AT_ONCE);
    let mut streams: Vec<(usize, Client, Incoming)> = opening.try_collect().await?;
    // Opened out of order; watcher i is the i-th (per node: node i's).
    streams.sort_by_key(|(w, _, _)| *w);
    let open_time = t_open.elapsed();

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut watchers = Vec::with_capacity(streams.len());
    let mut readers = Vec::with_capacity(streams.len());
    let mut keep_alive = Vec::with_capacity(streams.len());
    for (_, client, body) in streams {
        let state = Arc::new(Watcher::default());
        watchers.push(state.clone());
        keep_alive.push(client);
        readers.push(tokio::spawn(read_events(body, state, stop_rx.clone())));
    }

    // The writes.
    let mut writes: Vec<Write> = Vec::with_capacity(opts.writes);
    let mut write_latency = Samples::default();
    let mut failures = Vec::new();
    let mut write_errors = 0;
    let deadline = started + max_duration;
    for k in 0..opts.writes {
        if k > 0 {
            tokio::time::sleep(opts.interval).await;
        }
        if Instant::now() >= deadline {
            failures.push(format!(
                "time limit of {} s reached after {k} writes",
                max_duration.as_secs()
            ));
            break;
        }
        let (method, path, body) = match &mut object {
            Some(obj) => {
                obj["data"]["value"] = json!(format!("{k}-{}", "x".repeat(opts.size)));
                let name = obj["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                (Method::PUT, format!("{base}/{name}"), obj.to_string())
            }
            None if opts.per_node => {
                let node = node_name(k % opts.watchers.max(1));
                (Method::POST, base.clone(), pod(&node).to_string())
            }
            None => (Method::POST, base.clone(), configmap(opts.size).to_string()),
        };
        let body: Bytes = body.into();
        let t0 = Instant::now();
        let mut retries = 0;
        let r = loop {
            let r = writer
                .request(method.clone(), &path, Some(body.clone()))
                .await?;
            if object.is_none() && r.status.as_u16() == 409 && retries < NAME_COLLISION_RETRIES {
                // The generated name was taken: send again.
                retries += 1;
                continue;
            }
            break r;
        };
        let at = Instant::now();
        if !r.status.is_success() {
            write_errors += 1;
            if failures.len() < 5 {
                failures.push(format!(
                    "write {k} answered HTTP {}: {}",
                    r.status,
                    status_message(&r.body)
                ));
            }
            if object.is_some() {
                // The next update needs the current object.
                let name = &path[base.len() + 1..];
                let cur = writer
                    .request(Method::GET, &format!("{base}/{name}"), None)
                    .await?;
                if !cur.status.is_success() {
                    bail!("cannot read back the updated object: HTTP {}", cur.status);
                }
                object = Some(serde_json::from_slice(&cur.body).context(|| "GET: not an object")?);
            }
            continue;
        }
        write_latency.push(at - t0);
        let head: ObjectHead =
            serde_json::from_slice(&r.body).context(|| format!("write {k}: not an object"))?;
        if object.is_some() {
            object = Some(serde_json::from_slice(&r.body).context(|| "update: not an object")?);
        }
        writes.push(Write {
            name: head.metadata.name,
            rv: head.metadata.resource_version,
            sent: t0,
            answered: at,
        });
    }

    // Wait for the deliveries, bounded.
    let n = watchers.len().max(1);
    let meant = |w: usize, k: usize| !opts.per_node || k % n == w;
    let owed = |w: usize| (0..writes.len()).filter(|&k| meant(w, k)).count();
    let expected: usize = (0..watchers.len()).map(owed).sum();
    let settle_until = Instant::now() + opts.settle;
    loop {
        let all_counted = watchers
            .iter()
            .enumerate()
            .all(|(i, w)| w.count.load(Ordering::Acquire) >= owed(i) || w.failed());
        if all_counted && match_deliveries(&watchers, &writes, meant).delivered == expected {
            break;
        }
        if Instant::now() >= settle_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop_tx.send(true);
    for r in readers {
        let _ = tokio::time::timeout(Duration::from_secs(5), r).await;
    }
    drop(keep_alive);

    let matched = match_deliveries(&watchers, &writes, meant);
    let mut failed_watchers = 0;
    for w in &watchers {
        if let Ok(f) = w.failure.lock() {
            if let Some(msg) = f.as_ref() {
                failed_watchers += 1;
                if failures.len() < 5 {
                    failures.push(msg.clone());
                }
            }
        }
    }
    Ok(WatchResult {
        watchers: watchers.len(),
        writes: writes.len(),
        mode: match (opts.update, opts.per_node) {
            (true, _) => "update",
            (false, true) => "pods per node",
            (false, false) => "create",
        },
        interval: opts.interval,
        expected,
        delivered: matched.delivered,
        early: matched.early,
        duplicates: matched.duplicates,
        reordered: matched.reordered,
        strays: matched.strays,
        latency: matched.latency,
        from_send: matched.from_send,
        write_latency,
        open_time,
        failures,
        failed_watchers,
        write_errors,
    })
}

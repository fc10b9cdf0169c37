//! The scenarios, and what they share: the namespace, the objects' shape, the worker pool
//! that runs N requests over C connections.

pub mod cleanup;
pub mod list;
pub mod ready;
pub mod watch;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::bail;
use crate::client::{query_escape, status_message, Client, Target};
use crate::error::{Context, Result};
use crate::stats::{round3, Samples};

/// Label on every object the tool creates; cleanup deletes by it.
pub const LABEL_KEY: &str = "kube-loadtest";
pub const LABEL_VALUE: &str = "bench";

/// A phase gives up after this many failed requests.
const MAX_ERRORS: usize = 100;
/// Error messages kept for the report.
const KEPT_ERRORS: usize = 5;
/// A create whose generated name was taken (409) is sent again up to this many times.
pub const NAME_COLLISION_RETRIES: usize = 5;

pub fn configmaps_path(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/configmaps")
}

pub fn label_selector() -> String {
    query_escape(&format!("{LABEL_KEY}={LABEL_VALUE}"))
}

/// A ConfigMap to create, named by the server from `bench-`, with one value of `size` bytes.
pub fn configmap(size: usize) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"generateName": "bench-", "labels": {LABEL_KEY: LABEL_VALUE}},
        "data": {"value": "x".repeat(size)},
    })
}

pub fn pods_path(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/pods")
}

/// The node name the tool gives its `i`-th node (`node-00042`).
pub fn node_name(i: usize) -> String {
    format!("node-{i:05}")
}

/// A small Pod to create, named by the server from `bench-`, already bound to `node`.
pub fn pod(node: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "bench-", "labels": {LABEL_KEY: LABEL_VALUE}},
        "spec": {
            "nodeName": node,
            "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}],
        },
    })
}

/// Waits (a few seconds at most) for the namespace's `default` ServiceAccount, which
/// upstream's ServiceAccount admission requires of a pod and a controller creates.
pub async fn wait_for_default_service_account(client: &mut Client, ns: &str) -> Result<()> {
    let path = format!("/api/v1/namespaces/{ns}/serviceaccounts/default");
    for _ in 0..100 {
        let r = client.request(Method::GET, &path, None).await?;
        if r.status.as_u16() != 404 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Creates the namespace unless it exists; the first request of a run, so it also tells
/// plainly when the credentials are refused.
pub async fn ensure_namespace(client: &mut Client, ns: &str) -> Result<()> {
    let path = format!("/api/v1/namespaces/{ns}");
    let r = client.request(Method::GET, &path, None).await?;
    match r.status.as_u16() {
        200 => return Ok(()),
        404 => {}
        401 | 403 => bail!(
            "the server refused the credentials (HTTP {}): {}",
            r.status,
            status_message(&r.body)
        ),
        _ => bail!(
            "GET {path} answered HTTP {}: {}",
            r.status,
            status_message(&r.body)
        ),
    }
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
    let r = client
        .request(
            Method::POST,
            "/api/v1/namespaces",
            Some(body.to_string().into()),
        )
        .await?;
    if r.status.is_success() || r.status.as_u16() == 409 {
        Ok(())
    } else {
        bail!(
            "cannot create namespace {ns}: HTTP {}: {}",
            r.status,
            status_message(&r.body)
        )
    }
}

#[derive(Deserialize, Default)]
pub struct ObjectMeta {
    #[serde(default)]
    pub name: String,
    #[serde(default, rename = "resourceVersion")]
    pub resource_version: String,
}

#[derive(Deserialize, Default)]
pub struct ObjectHead {
    #[serde(default)]
    pub metadata: ObjectMeta,
}

#[derive(Deserialize, Default)]
pub struct ListMeta {
    #[serde(default, rename = "continue")]
    pub continue_token: Option<String>,
    #[serde(default, rename = "resourceVersion")]
    pub resource_version: String,
}

/// A list page: its metadata and the items' names.
#[derive(Deserialize)]
pub struct NamesPage {
    #[serde(default)]
    pub metadata: ListMeta,
    #[serde(default)]
    pub items: Option<Vec<ObjectHead>>,
}

/// Names of the tool's objects in the namespace (paginated list by label).
pub async fn list_names(client: &mut Client, ns: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut cont: Option<String> = None;
    loop {
        let mut path = format!(
            "{}?labelSelector={}&limit=500",
            configmaps_path(ns),
            label_selector()
        );
        if let Some(c) = &cont {
            path.push_str(&format!("&continue={}", query_escape(c)));
        }
        let r = client.request(Method::GET, &path, None).await?;
        if !r.status.is_success() {
            bail!(
                "LIST {path} answered HTTP {}: {}",
                r.status,
                status_message(&r.body)
            );
        }
        let page: NamesPage =
            serde_json::from_slice(&r.body).context(|| format!("LIST {path}: not a list"))?;
        names.extend(
            page.items
                .unwrap_or_default()
                .into_iter()
                .map(|i| i.metadata.name),
        );
        match page.metadata.continue_token.filter(|c| !c.is_empty()) {
            Some(c) => cont = Some(c),
            None => return Ok(names),
        }
    }
}

/// One request of a phase.
pub struct Op {
    pub method: Method,
    pub path: String,
    pub body: Option<Bytes>,
    /// A create with generateName: a 409 means the generated name was taken; send again.
    pub generated_name: bool,
}

pub type MakeOp = Arc<dyn Fn(usize) -> Op + Send + Sync>;

/// What a phase of N requests did.
pub struct Phase {
    pub name: &'static str,
    pub requested: usize,
    pub concurrency: usize,
    pub http2: bool,
    pub ok: usize,
    pub errors: usize,
    pub throttled: u64,
    /// 409s on generateName creates, retried.
    pub collisions: usize,
    pub elapsed: Duration,
    pub latency: Samples,
    pub error_samples: Vec<String>,
    pub stopped: Option<String>,
}

impl Phase {
    pub fn rate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.ok as f64 / s
        } else {
            0.0
        }
    }

    pub fn failed(&self) -> bool {
        self.errors > 0 || self.stopped.is_some() || self.ok == 0
    }

    pub fn human(&self) -> Vec<String> {
        let workers = if self.http2 {
            format!("{} streams on one HTTP/2 connection", self.concurrency)
        } else {
            format!("{} connections", self.concurrency)
        };
        let mut lines = vec![format!(
            "{}: {} ok, {} errors, {} throttled (429), {workers}, {:.3} s: {:.0}/s",
            self.name,
            self.ok,
            self.errors,
            self.throttled,
            self.elapsed.as_secs_f64(),
            self.rate()
        )];
        lines.push(format!(
            "{}: latency {}",
            self.name,
            self.latency.summary().human()
        ));
        if self.collisions > 0 {
            lines.push(format!(
                "{}: {} generated names were taken (409 AlreadyExists) and sent again; \
                 latency includes the retries",
                self.name, self.collisions
            ));
        }
        if let Some(s) = &self.stopped {
            lines.push(format!("{}: STOPPED EARLY: {s}", self.name));
        }
        for e in &self.error_samples {
            lines.push(format!("{}: error: {e}", self.name));
        }
        lines
    }

    pub fn json(&self) -> Value {
        json!({
            "requested": self.requested,
            "concurrency": self.concurrency,
            "ok": self.ok,
            "errors": self.errors,
            "throttled": self.throttled,
            "name_collisions": self.collisions,
            "seconds": round3(self.elapsed.as_secs_f64()),
            "per_second": round3(self.rate()),
            "latency_ms": self.latency.summary().json(),
            "stopped": self.stopped,
        })
    }
}

/// Opens `n` clients: `n` HTTP/1.1 connections, or `n` shares of one HTTP/2 connection.
pub async fn clients(target: &Arc<Target>, n: usize) -> Result<Vec<Client>> {
    if target.http2 {
        let first = Client::connect(target.clone()).await?;
        let mut v: Vec<Client> = (1..n).filter_map(|_| first.share()).collect();
        v.push(first);
        Ok(v)
    } else {
        let opening = (0..n).map(|_| Client::connect(target.clone()));
        futures::future::try_join_all(opening).await
    }
}

struct WorkerOut {
    ok: usize,
    collisions: usize,
    latency: Samples,
    names: Vec<String>,
    errors: Vec<String>,
}

/// Runs `count` requests made by `make(i)` over `concurrency` workers, connections opened
/// before the clock starts. Returns the phase and, if `keep_names`, the names of the objects
/// in the answers.
pub async fn run_phase(
    name: &'static str,
    target: &Arc<Target>,
    count: usize,
    concurrency: usize,
    max_duration: Duration,
    make: MakeOp,
    keep_names: bool,
) -> Result<(Phase, Vec<String>)> {
    let concurrency = concurrency.clamp(1, count.max(1));
    let workers = clients(target, concurrency).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let throttled_before = target.throttled.load(Ordering::Relaxed);
    let start = Instant::now();
    let deadline = start + max_duration;
    let mut handles = Vec::with_capacity(concurrency);
    for mut client in workers {
        let next = next.clone();
        let errors = errors.clone();
        let make = make.clone();
        handles.push(tokio::spawn(async move {
            let mut out = WorkerOut {
                ok: 0,
                collisions: 0,
                latency: Samples::default(),
                names: Vec::new(),
                errors: Vec::new(),
            };
            while errors.load(Ordering::Relaxed) < MAX_ERRORS && Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let op = make(i);
                let t0 = Instant::now();
                let mut retries = 0;
                let result = loop {
                    let r = client
                        .request(op.method.clone(), &op.path, op.body.clone())
                        .await;
                    match &r {
                        Ok(resp)
                            if op.generated_name
                                && resp.status.as_u16() == 409
                                && retries < NAME_COLLISION_RETRIES =>
                        {
                            retries += 1;
                            out.collisions += 1;
                        }
                        _ => break r,
                    }
                };
                let took = t0.elapsed();
                let failure = match result {
                    Ok(r) if r.status.is_success() => {
                        out.ok += 1;
                        out.latency.push(took);
                        if keep_names {
                            match serde_json::from_slice::<ObjectHead>(&r.body) {
                                Ok(o) if !o.metadata.name.is_empty() => {
                                    out.names.push(o.metadata.name);
                                    None
                                }
                                _ => Some("the answer names no object".to_string()),
                            }
                        } else {
                            None
                        }
                    }
                    Ok(r) => Some(format!(
                        "{} {}: HTTP {}: {}",
                        op.method,
                        op.path,
                        r.status,
                        status_message(&r.body)
                    )),
                    Err(e) => Some(e.0),
                };
                if let Some(msg) = failure {
                    errors.fetch_add(1, Ordering::Relaxed);
                    if out.errors.len() < KEPT_ERRORS {
                        out.errors.push(msg);
                    }
                }
            }
            out
        }));
    }
    let mut phase = Phase {
        name,
        requested: count,
        concurrency,
        http2: target.http2,
        ok: 0,
        errors: 0,
        throttled: 0,
        collisions: 0,
        elapsed: Duration::ZERO,
        latency: Samples::default(),
        error_samples: Vec::new(),
        stopped: None,
    };
    let mut names = Vec::new();
    for h in handles {
        let out = h.await.context(|| "a worker failed")?;
        phase.ok += out.ok;
        phase.collisions += out.collisions;
        phase.latency.extend(out.latency);
        names.extend(out.names);
        for e in out.errors {
            if phase.error_samples.len() < KEPT_ERRORS {
                phase.error_samples.push(e);
            }
        }
    }
    phase.elapsed = start.elapsed();
    phase.errors = errors.load(Ordering::Relaxed);
    phase.throttled = target.throttled.load(Ordering::Relaxed) - throttled_before;
    let done = phase.ok + phase.errors;
    if done < count {
        phase.stopped = Some(if phase.errors >= MAX_ERRORS {
            format!(
                "gave up after {} errors ({done} of {count} requests done)",
                phase.errors
            )
        } else {
            format!(
                "time limit of {} s reached ({done} of {count} requests done)",
                max_duration.as_secs()
            )
        });
    }
    Ok((phase, names))
}

/// `create`: POSTs `count` ConfigMaps with a value of `size` bytes.
pub async fn create(
    target: &Arc<Target>,
    ns: &str,
    count: usize,
    concurrency: usize,
    size: usize,
    max_duration: Duration,
) -> Result<(Phase, Vec<String>)> {
    let mut client = Client::connect(target.clone()).await?;
    ensure_namespace(&mut client, ns).await?;
    drop(client);
    let body: Bytes = configmap(size).to_string().into();
    let path = configmaps_path(ns);
    let make: MakeOp = Arc::new(move |_| Op {
        method: Method::POST,
        path: path.clone(),
        body: Some(body.clone()),
        generated_name: true,
    });
    run_phase(
        "create",
        target,
        count,
        concurrency,
        max_duration,
        make,
        true,
    )
    .await
}

/// `create --pods`: POSTs `count` Pods, the `i`-th bound to node `i % nodes`.
pub async fn create_pods(
    target: &Arc<Target>,
    ns: &str,
    count: usize,
    concurrency: usize,
    nodes: usize,
    max_duration: Duration,
) -> Result<(Phase, Vec<String>)> {
    let mut client = Client::connect(target.clone()).await?;
    ensure_namespace(&mut client, ns).await?;
    wait_for_default_service_account(&mut client, ns).await?;
    drop(client);
    let nodes = nodes.max(1);
    let bodies: Arc<Vec<Bytes>> = Arc::new(
        (0..nodes)
            .map(|n| pod(&node_name(n)).to_string().into())
            .collect(),
    );
    let path = pods_path(ns);
    let make: MakeOp = Arc::new(move |i| Op {
        method: Method::POST,
        path: path.clone(),
        body: Some(bodies[i % bodies.len()].clone()),
        generated_name: true,
    });
    run_phase(
        "create",
        target,
        count,
        concurrency,
        max_duration,
        make,
        true,
    )
    .await
}

/// `get`: GETs `count` times, round-robin over `names`.
pub async fn get(
    target: &Arc<Target>,
    ns: &str,
    names: Vec<String>,
    count: usize,
    concurrency: usize,
    max_duration: Duration,
) -> Result<Phase> {
    if names.is_empty() {
        bail!("no objects to GET in namespace {ns}: run `create` first, or pass --prepare N");
    }
    let base = configmaps_path(ns);
    let paths: Arc<Vec<String>> = Arc::new(names.iter().map(|n| format!("{base}/{n}")).collect());
    let make: MakeOp = Arc::new(move |i| Op {
        method: Method::GET,
        path: paths[i % paths.len()].clone(),
        body: None,
        generated_name: false,
    });
    let (phase, _) =
        run_phase("get", target, count, concurrency, max_duration, make, false).await?;
    Ok(phase)
}

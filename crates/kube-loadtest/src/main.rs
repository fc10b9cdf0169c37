//! kube-loadtest: drives a Kubernetes API server (ours or upstream's) with bounded
//! scenarios and prints throughput and latency percentiles; `--json` adds one
//! machine-readable line at the end.

mod client;
mod error;
mod kubeconfig;
mod scenarios;
mod stats;
mod yaml;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Map, Value};

use client::{Client, Target};
use error::{Context, Result};
use kubeconfig::Credentials;
use scenarios::watch::WatchOptions;

#[derive(Parser)]
#[command(
    name = "kube-loadtest",
    version,
    about = "Benchmark a Kubernetes API server: create, get, list and watch ConfigMaps",
    long_about = "Benchmark a Kubernetes API server: create, get, list and watch ConfigMaps.\n\n\
        Every scenario is bounded in count and time and stops by itself. Objects are created \
        in --namespace (created if missing) with the label kube-loadtest=bench; `cleanup` \
        deletes them."
)]
struct Cli {
    #[command(flatten)]
    conn: ConnArgs,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args)]
#[command(next_help_heading = "Server, credentials and output (any position)")]
struct ConnArgs {
    /// API server URL, e.g. https://127.0.0.1:6443 (default: the kubeconfig's)
    #[arg(long, global = true)]
    server: Option<String>,
    /// Bearer token
    #[arg(long, global = true)]
    token: Option<String>,
    /// Kubeconfig to read the server, CA and credentials from (its current context)
    #[arg(long, global = true)]
    kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use instead of the current one
    #[arg(long, global = true)]
    context: Option<String>,
    /// PEM file with the CA that signed the server's certificate
    #[arg(long, global = true)]
    ca: Option<PathBuf>,
    /// Do not verify the server's certificate
    #[arg(long = "insecure-skip-tls-verify", global = true)]
    insecure_skip_tls_verify: bool,
    /// Use HTTP/2, multiplexing workers' requests on one connection
    #[arg(long, global = true)]
    http2: bool,
    /// Namespace for the tool's objects
    #[arg(long, short = 'n', global = true, default_value = "kube-loadtest")]
    namespace: String,
    /// Print a final line of JSON with the figures
    #[arg(long, global = true)]
    json: bool,
    /// Bound on each request, in seconds
    #[arg(long, global = true, default_value_t = 60)]
    timeout: u64,
    /// Bound on each scenario, in seconds
    #[arg(long, global = true, default_value_t = 300)]
    max_duration: u64,
    /// Threads of the client's runtime
    #[arg(long, global = true, default_value_t = 2)]
    threads: usize,
}

#[derive(Subcommand)]
enum Cmd {
    /// POST ConfigMaps (generateName bench-)
    Create(CreateArgs),
    /// GET existing objects of the tool (from an earlier `create`, or --prepare N)
    Get(GetArgs),
    /// Full LISTs of the namespace (or paginated with --limit)
    List(ListArgs),
    /// W watches, then K writes; delivery latency of every write to every watcher
    Watch(WatchArgs),
    /// Delete the tool's objects in the namespace
    Cleanup,
    /// A short run of everything (create, get, list, watch, cleanup)
    All(AllArgs),
    /// Poll /readyz until it answers 200; print the time since --since-ns (or since start)
    WaitReady(WaitReadyArgs),
}

#[derive(Args)]
struct CreateArgs {
    /// Objects to create
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Workers: HTTP/1.1 connections, or streams on one HTTP/2 connection
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Bytes in the ConfigMap's one data value
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// Create small Pods instead, bound round-robin to --nodes node names
    #[arg(long)]
    pods: bool,
    /// Node names the Pods are spread over (node-00000, node-00001, ...)
    #[arg(long, default_value_t = 100)]
    nodes: usize,
}

#[derive(Args)]
struct GetArgs {
    /// GETs to make, round-robin over the objects
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Workers: HTTP/1.1 connections, or streams on one HTTP/2 connection
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Create this many objects first
    #[arg(long)]
    prepare: Option<usize>,
    /// Bytes per object created by --prepare
    #[arg(long, default_value_t = 100)]
    size: usize,
}

#[derive(Args)]
struct ListArgs {
    /// LISTs to make, one after another
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Page size; follow continue tokens
    #[arg(long)]
    limit: Option<usize>,
    /// resourceVersion parameter of the first page (e.g. 0 for "any", served from cache)
    #[arg(long)]
    resource_version: Option<String>,
}

#[derive(Args)]
struct WatchArgs {
    /// Concurrent watches (HTTP/1.1: one connection each; HTTP/2: 100 per connection)
    #[arg(long, default_value_t = 100)]
    watchers: usize,
    /// Writes, one after another
    #[arg(long, default_value_t = 20)]
    writes: usize,
    /// Milliseconds between writes
    #[arg(long, default_value_t = 50)]
    interval: u64,
    /// Update one object K times instead of creating K objects
    #[arg(long)]
    update: bool,
    /// Seconds to wait for the last deliveries
    #[arg(long, default_value_t = 10)]
    settle: u64,
    /// Bytes in each written ConfigMap's data value
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// Watch Pods instead, watcher i with fieldSelector=spec.nodeName=node-i (as kubelets
    /// do); write k creates a Pod on node k % watchers, so each write is for one watcher
    #[arg(long, conflicts_with = "update")]
    per_node: bool,
}

#[derive(Args)]
struct AllArgs {
    /// Creates, and GETs
    #[arg(long, default_value_t = 2000)]
    count: usize,
    /// Workers for creates and GETs
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Bytes in each ConfigMap's data value
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// Full LISTs
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Concurrent watches
    #[arg(long, default_value_t = 100)]
    watchers: usize,
    /// Writes seen by the watches
    #[arg(long, default_value_t = 20)]
    writes: usize,
    /// Milliseconds between watch writes
    #[arg(long, default_value_t = 50)]
    interval: u64,
    /// Keep the objects (skip cleanup)
    #[arg(long)]
    no_cleanup: bool,
}

#[derive(Args)]
struct WaitReadyArgs {
    /// The moment to measure from, in nanoseconds since the Unix epoch (`date +%s%N`)
    #[arg(long)]
    since_ns: Option<u128>,
    /// The server's process id: stop waiting if it exits
    #[arg(long)]
    pid: Option<u32>,
    /// Milliseconds between polls
    #[arg(long, default_value_t = 5)]
    poll_ms: u64,
    /// Give up after this many seconds
    #[arg(long, default_value_t = 60)]
    wait: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.conn.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kube-loadtest: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("kube-loadtest: FAILED: some requests failed or watch events were missed (see above)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("kube-loadtest: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn target(args: &ConnArgs) -> Result<Arc<Target>> {
    let mut creds = match &args.kubeconfig {
        Some(path) => kubeconfig::load(path, args.context.as_deref())?,
        None => {
            if args.context.is_some() {
                crate::bail!("--context needs --kubeconfig");
            }
            Credentials::default()
        }
    };
    if let Some(s) = &args.server {
        creds.server = Some(s.clone());
    }
    if let Some(t) = &args.token {
        creds.token = Some(t.clone());
    }
    if let Some(ca) = &args.ca {
        creds.ca_pem =
            Some(std::fs::read(ca).context(|| format!("cannot read --ca {}", ca.display()))?);
    }
    if args.insecure_skip_tls_verify {
        creds.insecure_skip_tls_verify = true;
    }
    let server = creds
        .server
        .clone()
        .context(|| "no server: pass --server https://HOST:PORT, or --kubeconfig FILE")?;
    Ok(Arc::new(Target::new(
        &server,
        &creds,
        args.http2,
        Duration::from_secs(args.timeout.max(1)),
    )?))
}

/// Prints the human lines of a scenario as they come.
fn say(lines: Vec<String>) {
    for l in lines {
        println!("{l}");
    }
}

/// Runs the command; `Ok(false)` when it ran but something failed.
async fn run(cli: Cli) -> Result<bool> {
    let args = &cli.conn;
    let target = target(args)?;
    let ns = args.namespace.as_str();
    let max = Duration::from_secs(args.max_duration.max(1));
    let mut report = Map::new();
    report.insert("server".into(), json!(target.server));
    report.insert(
        "protocol".into(),
        json!(if args.http2 { "HTTP/2" } else { "HTTP/1.1" }),
    );
    report.insert("namespace".into(), json!(ns));
    let mut ok = true;

    if !matches!(cli.cmd, Cmd::WaitReady(_)) {
        println!(
            "kube-loadtest: {} over {}, namespace {ns}",
            target.server,
            if args.http2 { "HTTP/2" } else { "HTTP/1.1" }
        );
    }
    match &cli.cmd {
        Cmd::Create(a) => {
            let (phase, _) = if a.pods {
                scenarios::create_pods(&target, ns, a.count, a.concurrency, a.nodes, max).await?
            } else {
                scenarios::create(&target, ns, a.count, a.concurrency, a.size, max).await?
            };
            say(phase.human());
            ok &= !phase.failed();
            report.insert("create".into(), phase.json());
        }
        Cmd::Get(a) => {
            let names = match a.prepare {
                Some(n) => {
                    let (phase, names) =
                        scenarios::create(&target, ns, n, a.concurrency, a.size, max).await?;
                    say(phase.human());
                    ok &= !phase.failed();
                    report.insert("prepare".into(), phase.json());
                    names
                }
                None => {
                    let mut client = Client::connect(target.clone()).await?;
                    scenarios::list_names(&mut client, ns).await?
                }
            };
            let phase = scenarios::get(&target, ns, names, a.count, a.concurrency, max).await?;
            say(phase.human());
            ok &= !phase.failed();
            report.insert("get".into(), phase.json());
        }
        Cmd::List(a) => {
            let r = scenarios::list::run(
                &target,
                ns,
                a.repeat,
                a.limit,
                a.resource_version.as_deref(),
                max,
            )
            .await?;
            say(r.human());
            ok &= !r.failed();
            report.insert("list".into(), r.json());
        }
        Cmd::Watch(a) => {
            let opts = WatchOptions {
                watchers: a.watchers,
                writes: a.writes,
                interval: Duration::from_millis(a.interval),
                update: a.update,
                settle: Duration::from_secs(a.settle),
                size: a.size,
                per_node: a.per_node,
            };
            let r = scenarios::watch::run(&target, ns, &opts, max).await?;
            say(r.human());
            ok &= !r.failed();
            report.insert("watch".into(), r.json());
        }
        Cmd::Cleanup => {
            let r = scenarios::cleanup::run(&target, ns, max).await?;
            say(r.human());
            ok &= r.errors == 0;
            report.insert("cleanup".into(), r.json());
        }
        Cmd::All(a) => {
            let (create, names) =
                scenarios::create(&target, ns, a.count, a.concurrency, a.size, max).await?;
            say(create.human());
            ok &= !create.failed();
            report.insert("create".into(), create.json());

            let get = scenarios::get(&target, ns, names, a.count, a.concurrency, max).await?;
            say(get.human());
            ok &= !get.failed();
            report.insert("get".into(), get.json());

            let list = scenarios::list::run(&target, ns, a.repeat, None, None, max).await?;
            say(list.human());
            ok &= !list.failed();
            report.insert("list".into(), list.json());

            let opts = WatchOptions {
                watchers: a.watchers,
                writes: a.writes,
                interval: Duration::from_millis(a.interval),
                update: false,
                settle: Duration::from_secs(10),
                size: a.size,
                per_node: false,
            };
            let watch = scenarios::watch::run(&target, ns, &opts, max).await?;
            say(watch.human());
            ok &= !watch.failed();
            report.insert("watch".into(), watch.json());

            if !a.no_cleanup {
                let cleanup = scenarios::cleanup::run(&target, ns, max).await?;
                say(cleanup.human());
                ok &= cleanup.errors == 0;
                report.insert("cleanup".into(), cleanup.json());
            }
        }
        Cmd::WaitReady(a) => {
            let took = scenarios::ready::wait(
                &target,
                a.since_ns,
                a.pid,
                Duration::from_millis(a.poll_ms),
                Duration::from_secs(a.wait),
            )
            .await?;
            let ms = took.as_secs_f64() * 1000.0;
            println!("ready: /readyz answered 200 after {ms:.1} ms");
            report.insert("ready_ms".into(), json!(stats::round3(ms)));
        }
    }
    report.insert("ok".into(), json!(ok));
    if args.json {
        println!("{}", Value::Object(report));
    }
    Ok(ok)
}

//! Starts our `kube-apiserver` binary on a free loopback port and runs a tiny `all` against
//! it, over HTTP/1.1 and HTTP/2: every phase must do work and no watch event may be missed.
//!
//! The server binary is `$KUBE_APISERVER_BIN`, else `<target dir>/debug/kube-apiserver`
//! (build it with `cargo build -p kube-apiserver`; `cargo test --workspace` builds it).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("KUBE_APISERVER_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("debug").join("kube-apiserver")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

/// The server process, killed when dropped (also when an assertion fails).
struct Server {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start() -> Server {
        let bin = server_binary();
        assert!(
            bin.exists(),
            "kube-apiserver binary not found at {}: build it first with \
             `cargo build -p kube-apiserver`, or set KUBE_APISERVER_BIN",
            bin.display()
        );
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let child = Command::new(&bin)
            .arg(format!("--data-dir={}", dir.path().display()))
            .arg(format!("--secure-port={port}"))
            .arg("--bind-address=127.0.0.1")
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let server = Server { child, dir, port };
        let out = loadtest(&[
            "--server",
            &format!("https://127.0.0.1:{port}"),
            "--insecure-skip-tls-verify",
            "--json",
            "wait-ready",
            "--wait",
            "60",
        ]);
        assert!(
            out.status.success(),
            "server not ready: {}",
            server.describe(&out)
        );
        let report = last_json(&out);
        assert!(report["ready_ms"].as_f64().unwrap_or(0.0) > 0.0);
        let kubeconfig = server.kubeconfig();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !kubeconfig.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("admin.kubeconfig")
    }

    fn describe(&self, out: &Output) -> String {
        format!(
            "port {}\nstdout:\n{}\nstderr:\n{}\nserver log:\n{}",
            self.port,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
        )
    }
}

fn loadtest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kube-loadtest"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run kube-loadtest")
}

fn last_json(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {line}"))
}

fn tiny_all(server: &Server, extra: &[&str]) -> Value {
    let kubeconfig = server.kubeconfig();
    let mut args = vec![
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8 path"),
        "--json",
        "--max-duration",
        "60",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[
        "all",
        "--count",
        "60",
        "--concurrency",
        "4",
        "--repeat",
        "2",
        "--watchers",
        "5",
        "--writes",
        "4",
        "--interval",
        "10",
    ]);
    let out = loadtest(&args);
    assert!(
        out.status.success(),
        "kube-loadtest all failed: {}",
        server.describe(&out)
    );
    let report = last_json(&out);
    assert_eq!(report["ok"], true, "{report}");
    for phase in ["create", "get"] {
        assert_eq!(report[phase]["ok"], 60, "{phase}: {report}");
        assert_eq!(report[phase]["errors"], 0, "{phase}: {report}");
        assert!(
            report[phase]["per_second"].as_f64().unwrap_or(0.0) > 0.0,
            "{report}"
        );
        assert!(
            report[phase]["latency_ms"]["p99"].as_f64().unwrap_or(0.0) > 0.0,
            "{report}"
        );
    }
    assert_eq!(report["list"]["done"], 2, "{report}");
    assert!(
        report["list"]["items_per_list"].as_f64().unwrap_or(0.0) >= 60.0,
        "{report}"
    );
    assert!(
        report["list"]["mb_per_s"].as_f64().unwrap_or(0.0) > 0.0,
        "{report}"
    );
    assert_eq!(report["watch"]["expected"], 20, "{report}");
    assert_eq!(report["watch"]["delivered"], 20, "{report}");
    assert_eq!(report["watch"]["missed"], 0, "{report}");
    assert!(
        report["cleanup"]["deleted"].as_u64().unwrap_or(0) >= 64,
        "{report}"
    );
    report
}

#[test]
fn tiny_all_over_http1_and_http2() {
    let server = Server::start();
    tiny_all(&server, &[]);
    let report = tiny_all(&server, &["--http2"]);
    assert_eq!(report["protocol"], "HTTP/2");

    // Paginated lists follow continue tokens, and the watch works on updates too.
    let kubeconfig = server.kubeconfig();
    let kc = kubeconfig.to_str().expect("utf-8 path");
    let out = loadtest(&[
        "--kubeconfig",
        kc,
        "--json",
        "get",
        "--prepare",
        "25",
        "--count",
        "10",
    ]);
    assert!(out.status.success(), "{}", server.describe(&out));
    let out = loadtest(&[
        "--kubeconfig",
        kc,
        "--json",
        "list",
        "--limit",
        "10",
        "--repeat",
        "1",
    ]);
    assert!(out.status.success(), "{}", server.describe(&out));
    let report = last_json(&out);
    // The 25 written and the namespace's kube-root-ca.crt, which the server creates.
    assert_eq!(report["list"]["items_per_list"], 26.0, "{report}");
    let out = loadtest(&[
        "--kubeconfig",
        kc,
        "--json",
        "watch",
        "--watchers",
        "3",
        "--writes",
        "3",
        "--update",
        "--interval",
        "5",
    ]);
    assert!(out.status.success(), "{}", server.describe(&out));
    assert_eq!(last_json(&out)["watch"]["delivered"], 9);
}

#[test]
fn pods_per_node_reach_only_their_nodes_watcher() {
    let server = Server::start();
    let kubeconfig = server.kubeconfig();
    let kc = kubeconfig.to_str().expect("utf-8 path");
    let out = loadtest(&[
        "--kubeconfig",
        kc,
        "--json",
        "-n",
        "pods",
        "create",
        "--pods",
        "--count",
        "30",
        "--nodes",
        "7",
        "--concurrency",
        "4",
    ]);
    assert!(out.status.success(), "{}", server.describe(&out));
    assert_eq!(last_json(&out)["create"]["ok"], 30);
    let out = loadtest(&[
        "--kubeconfig",
        kc,
        "--json",
        "-n",
        "pods",
        "watch",
        "--per-node",
        "--watchers",
        "6",
        "--writes",
        "15",
        "--interval",
        "5",
    ]);
    assert!(out.status.success(), "{}", server.describe(&out));
    let watch = &last_json(&out)["watch"];
    assert_eq!(watch["mode"], "pods per node", "{watch}");
    // Each write is for one watcher only.
    assert_eq!(
        (&watch["expected"], &watch["delivered"], &watch["strays"]),
        (&15.into(), &15.into(), &0.into()),
        "{watch}"
    );
}

#[test]
fn clear_error_when_nothing_listens() {
    let port = free_port();
    let out = loadtest(&[
        "--server",
        &format!("https://127.0.0.1:{port}"),
        "--insecure-skip-tls-verify",
        "create",
        "--count",
        "1",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot connect"), "{stderr}");
}

//! Serving: the no-flag start on the embedded store, HTTP/1.1 and HTTP/2 over TLS (ALPN),
//! upstream's header size limit, and a second signal ending the process at once.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{get_status, Server};

/// curl with the admin credential of a server's data directory.
fn curl(server: &Server, args: &[&str]) -> (bool, String) {
    let pki = server.data_dir.join("pki");
    let out = Command::new("curl")
        .arg("-sS")
        .arg("--cacert")
        .arg(pki.join("ca.crt"))
        .arg("--cert")
        .arg(pki.join("admin.crt"))
        .arg("--key")
        .arg(pki.join("admin.key"))
        .args(args)
        .output()
        .expect("curl must be installed");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_and_http2_over_tls() {
    let server = Server::start(&[]).await;
    let url = format!("https://127.0.0.1:{}/api/v1/namespaces", server.port);
    for (flag, want) in [("--http2", "2"), ("--http1.1", "1.1")] {
        let (ok, out) = curl(
            &server,
            &[
                flag,
                "-o",
                "/dev/null",
                "-w",
                "%{http_version} %{http_code}",
                &url,
            ],
        );
        assert!(ok, "{out}");
        assert_eq!(out, format!("{want} 200"));
    }
    // Headers past upstream's 1 MiB limit are refused (431 or a closed connection), and
    // the server keeps serving.
    let client = server.client().await;
    let big = "a".repeat(1100 * 1024);
    let refused = common::raw(
        &client,
        "GET",
        "/api/v1/namespaces",
        &[("x-padding", &big)],
        vec![],
    )
    .await;
    assert!(
        !matches!(refused, Ok((200, _, _))),
        "oversized headers were accepted"
    );
    let small = "a".repeat(900 * 1024);
    let fine = common::raw(
        &client,
        "GET",
        "/api/v1/namespaces",
        &[("x-padding", &small)],
        vec![],
    )
    .await;
    assert!(matches!(fine, Ok((200, _, _))));
    let (ok, out) = curl(
        &server,
        &["--http1.1", "-o", "/dev/null", "-w", "%{http_code}", &url],
    );
    assert!(ok && out == "200", "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_signal_exits_at_once() {
    let mut server = Server::start(&["--shutdown-delay-duration=20s"]).await;
    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    server.signal("TERM");
    assert_eq!(
        server.wait_exit(Duration::from_secs(5)),
        Some(1),
        "{}",
        server.log()
    );
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// With no flags at all the server starts on the embedded store in its default data
/// directory (here chosen by the environment variable), on upstream's port 6443.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_with_no_flags() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(common::binary())
        .env("KUBE_APISERVER_DATA_DIR", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child: None,
        port: 6443,
        data_dir: dir.path().to_path_buf(),
        _tmp: None,
        log_path: dir.path().join("none.log"),
    };
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        server.wait_ready(Duration::from_secs(30)),
    )
    .await;
    let ok = match result {
        Ok(()) => {
            let out = server.kubectl(&["get", "namespaces", "-o", "name"]);
            String::from_utf8_lossy(&out.stdout).contains("namespace/kube-system")
        }
        Err(_) => false,
    };
    let anon = server.anonymous_client().await.unwrap();
    let version = get_status(&anon, "/version")
        .await
        .map(|(s, _)| s)
        .unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "server with no flags did not serve kubectl on 6443");
    assert_eq!(version, 200);
    for f in [
        "admin.kubeconfig",
        "pki/ca.crt",
        "pki/apiserver.crt",
        "store.db",
    ] {
        assert!(dir.path().join(f).exists(), "{f} missing");
    }
}

/// `--shutdown-send-retry-after`: once the shutdown delay has passed the server keeps
/// listening while a request is in flight, turning new requests away with 429,
/// `Retry-After` and `Connection: close`; health probes still answer. It exits once the
/// request in flight is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_send_retry_after() {
    let mut server = Server::start(&[
        "--shutdown-delay-duration=1s",
        "--shutdown-send-retry-after",
    ])
    .await;
    let pki = server.data_dir.join("pki");
    // A request whose body never ends while stdin stays open: it stays in flight.
    let mut slow = Command::new("curl")
        .arg("-sS")
        .arg("--http1.1")
        .arg("--cacert")
        .arg(pki.join("ca.crt"))
        .arg("--cert")
        .arg(pki.join("admin.crt"))
        .arg("--key")
        .arg(pki.join("admin.key"))
        .args([
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-T",
            "-",
        ])
        .arg(format!(
            "https://127.0.0.1:{}/api/v1/namespaces/default/configmaps",
            server.port
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("curl");
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.signal("TERM");
    let url = format!("https://127.0.0.1:{}/api/v1/namespaces", server.port);
    let (ok, out) = curl(&server, &["-o", "/dev/null", "-w", "%{http_code}", &url]);
    assert!(ok && out == "200", "during the delay: {out}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (ok, out) = curl(&server, &["-i", &url]);
    assert!(ok, "{out}");
    let lower = out.to_ascii_lowercase();
    assert!(
        lower.starts_with("http/2 429") || lower.starts_with("http/1.1 429"),
        "{out}"
    );
    assert!(lower.contains("retry-after: 5"), "{out}");
    let readyz = format!("https://127.0.0.1:{}/livez", server.port);
    let (ok, out) = curl(&server, &["-o", "/dev/null", "-w", "%{http_code}", &readyz]);
    assert!(ok && out == "200", "health probes still answer: {out}");
    // The request in flight ends: the server stops.
    drop(slow.stdin.take());
    let _ = slow.wait();
    assert_eq!(
        server.wait_exit(Duration::from_secs(10)),
        Some(0),
        "{}",
        server.log()
    );
}

//! Test harness: starts the real `kube-apiserver` binary on a free loopback port with its
//! own data directory, and gives kube-rs clients, raw HTTP and `kubectl` against it.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use http::Request;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Client;

/// A running server; stopped (SIGKILL) when dropped.
pub struct Server {
    pub child: Option<Child>,
    pub port: u16,
    pub data_dir: PathBuf,
    /// Keeps the temporary directory alive when the server owns it.
    pub _tmp: Option<tempfile::TempDir>,
    pub log_path: PathBuf,
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_kube-apiserver")
}

impl Server {
    /// Starts a server on a fresh data directory with extra flags, and waits until ready.
    pub async fn start(extra: &[&str]) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_path_buf();
        let mut s = Server::start_in(&dir, free_port(), extra).await;
        s._tmp = Some(tmp);
        s
    }

    /// Starts a server on `data_dir` and `port`, and waits until `/readyz` answers 200.
    pub async fn start_in(data_dir: &Path, port: u16, extra: &[&str]) -> Server {
        let log_path = data_dir.join(format!("server-{port}-{}.log", std::process::id()));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("log file");
        let mut args = vec![
            format!("--secure-port={port}"),
            "--bind-address=127.0.0.1".to_string(),
            format!("--data-dir={}", data_dir.display()),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let child = Command::new(binary())
            .args(&args)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start kube-apiserver");
        let server = Server {
            child: Some(child),
            port,
            data_dir: data_dir.to_path_buf(),
            _tmp: None,
            log_path,
        };
        server.wait_ready(Duration::from_secs(30)).await;
        server
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.data_dir.join("admin.kubeconfig")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Waits until `/readyz` answers 200 (anonymous requests may read it).
    pub async fn wait_ready(&self, limit: Duration) {
        let start = Instant::now();
        loop {
            if self.kubeconfig().exists() {
                if let Ok(client) = self.anonymous_client().await {
                    if let Ok((200, _)) = get_status(&client, "/readyz").await {
                        return;
                    }
                }
            }
            if start.elapsed() > limit {
                panic!("server did not become ready; log:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A client with the admin credential from the written kubeconfig.
    pub async fn client(&self) -> Client {
        let config = self.config().await;
        Client::try_from(config).expect("client")
    }

    /// A client with the admin credential that does not retry 429, 503 and 504 answers
    /// (kube-rs retries them by default, for as long as the server answers so).
    pub async fn client_without_retries(&self) -> Client {
        let mut config = self.config().await;
        config.default_retry = false;
        Client::try_from(config).expect("client")
    }

    async fn config(&self) -> kube::Config {
        let kc = Kubeconfig::read_from(self.kubeconfig()).expect("read kubeconfig");
        kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
            .await
            .expect("kubeconfig")
    }

    /// A client that trusts the server's CA but presents no credential.
    pub async fn anonymous_client(&self) -> Result<Client, kube::Error> {
        let kc = Kubeconfig::read_from(self.kubeconfig()).map_err(kube::Error::InferKubeconfig)?;
        let mut config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
            .await
            .map_err(kube::Error::InferKubeconfig)?;
        config.auth_info = Default::default();
        Client::try_from(config)
    }

    /// A client that trusts the server's CA and presents a bearer token.
    pub async fn token_client(&self, token: &str) -> Client {
        let kc = Kubeconfig::read_from(self.kubeconfig()).expect("read kubeconfig");
        let mut config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
            .await
            .expect("kubeconfig");
        config.auth_info = kube::config::AuthInfo {
            token: Some(token.to_string().into()),
            ..Default::default()
        };
        Client::try_from(config).expect("client")
    }

    /// Runs kubectl against this server.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        kubectl_with(&self.kubeconfig(), args, None)
    }

    /// Runs kubectl with `stdin` as its input.
    pub fn kubectl_stdin(&self, args: &[&str], stdin: &str) -> Output {
        kubectl_with(&self.kubeconfig(), args, Some(stdin))
    }

    /// Sends a signal to the server process.
    pub fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .args([&format!("-{sig}"), &c.id().to_string()])
                .status();
        }
    }

    /// Waits for the process to exit, returning its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let start = Instant::now();
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return status.code();
            }
            if start.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The kubectl binary to use (`KUBECTL` overrides).
pub fn kubectl_bin() -> String {
    std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_string())
}

fn kubectl_with(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(kubectl_bin());
    cmd.arg(format!("--kubeconfig={}", kubeconfig.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn().expect("kubectl must be installed");
    if let Some(input) = stdin {
        if let Some(mut s) = child.stdin.take() {
            let _ = s.write_all(input.as_bytes());
        }
    }
    child.wait_with_output().expect("kubectl")
}

/// stdout of a kubectl run that must succeed.
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "kubectl failed: {}\nstdout: {}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Sends a raw request; returns status, headers and body text.
pub async fn raw(
    client: &Client,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<(u16, http::HeaderMap, String), kube::Error> {
    let mut builder = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let req = builder
        .body(kube::client::Body::from(body))
        .expect("request");
    let resp = client.send(req).await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await?
        .to_bytes();
    Ok((
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}

/// GET returning status and body.
pub async fn get_status(client: &Client, path: &str) -> Result<(u16, String), kube::Error> {
    raw(client, "GET", path, &[], Vec::new())
        .await
        .map(|(s, _, b)| (s, b))
}

/// GET returning parsed JSON, asserting the status.
pub async fn get_json(client: &Client, path: &str, want: u16) -> serde_json::Value {
    let (status, body) = get_status(client, path).await.expect("request");
    assert_eq!(status, want, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"))
}

/// Sends JSON with a method, returning status and parsed body.
pub async fn send_json(
    client: &Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let (status, _, text) = raw(
        client,
        method,
        path,
        &[("content-type", content_type)],
        serde_json::to_vec(body).expect("json"),
    )
    .await
    .expect("request");
    let v = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, v)
}

/// The Status of an API error (panics on any other error).
pub fn api_err(e: kube::Error) -> kube::core::Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// `field: message` of each cause of a 422.
pub fn causes(s: &kube::core::Status) -> Vec<String> {
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"), "{s:?}");
    s.details
        .as_ref()
        .map(|d| {
            d.causes
                .iter()
                .map(|c| format!("{}: {}", c.field, c.message))
                .collect()
        })
        .unwrap_or_default()
}

/// The header of `kubectl get` and each row's cells, split on runs of spaces.
pub fn table(out: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let split = |l: &str| -> Vec<String> {
        l.split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut lines = out.lines();
    let header = lines.next().map(split).unwrap_or_default();
    (header, lines.map(split).collect())
}

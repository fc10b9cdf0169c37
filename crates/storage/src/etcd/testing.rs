//! Throwaway etcd servers for tests: [`TestEtcd`] runs a single-member etcd on free loopback
//! ports with its data in a fresh temporary directory, and removes both when dropped.
//!
//! The binary is `$ETCD_BIN` or `etcd` on `PATH` (Debian's `etcd-server`, which
//! `scripts/etcd.sh install` installs). Not finding or not starting it is an error naming the
//! cause: tests fail loudly rather than skip.
//!
//! Cleanup: dropping the handle (also while a failing test unwinds) kills the server and
//! removes its directory. For exits that run no destructors (`SIGKILL`, `abort`), a small
//! watchdog shell process kills the server once the test process is gone.

use std::fmt;
use std::fs::{self, File};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{EtcdConfig, EtcdStore};

/// Why a test etcd could not be started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestEtcdError(pub String);

impl fmt::Display for TestEtcdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TestEtcdError {}

/// Server settings beyond the defaults of a test etcd.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestEtcdOptions {
    /// `--max-request-bytes` (etcd's default: 1.5 MiB).
    pub max_request_bytes: Option<usize>,
    /// `--experimental-watch-progress-notify-interval` (etcd's default: 10 min).
    pub progress_notify_interval: Option<Duration>,
    /// Serve clients over TLS with these files (the URL becomes `https://`).
    pub tls: Option<TestEtcdTls>,
    /// More command-line arguments.
    pub extra_args: Vec<String>,
}

/// The PEM files of a TLS test etcd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestEtcdTls {
    /// The CA that signs the server's and the clients' certificates.
    pub ca_file: PathBuf,
    /// The server's certificate (valid for `127.0.0.1`) and key.
    pub server_cert_file: PathBuf,
    pub server_key_file: PathBuf,
    /// A client certificate and key: when given, the server requires client certificates
    /// (`--client-cert-auth`) and [`TestEtcd::config`] presents this one.
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
}

/// A running throwaway etcd (see the [module docs](self)).
#[derive(Debug)]
pub struct TestEtcd {
    server: Option<Child>,
    watchdog: Option<Child>,
    dir: PathBuf,
    endpoint: String,
    tls: Option<TestEtcdTls>,
}

/// How long a server may take to answer its first request.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Attempts with fresh ports when a port was taken between choosing and binding it.
const ATTEMPTS: usize = 3;

impl TestEtcd {
    /// Starts a server with default settings and waits until it serves.
    pub async fn start() -> Result<TestEtcd, TestEtcdError> {
        Self::start_with(TestEtcdOptions::default()).await
    }

    /// Starts a server with these settings and waits until it serves.
    pub async fn start_with(options: TestEtcdOptions) -> Result<TestEtcd, TestEtcdError> {
        let binary = etcd_binary()?;
        let mut last = TestEtcdError("etcd did not start".to_owned());
        for _ in 0..ATTEMPTS {
            let mut server = Self::spawn(&binary, &options)?;
            match server.await_ready().await {
                Ok(()) => return Ok(server),
                Err(err) => {
                    let port_taken = err.0.contains("address already in use");
                    drop(server);
                    if !port_taken {
                        return Err(err);
                    }
                    last = err;
                }
            }
        }
        Err(last)
    }

    /// The client URL (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A store configuration for this server (with its TLS files, if any), with timeouts
    /// short enough for tests.
    pub fn config(&self) -> EtcdConfig {
        let tls = self.tls.as_ref();
        EtcdConfig {
            dial_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            ca_file: tls.map(|tls| tls.ca_file.clone()),
            cert_file: tls.and_then(|tls| tls.client_cert_file.clone()),
            key_file: tls.and_then(|tls| tls.client_key_file.clone()),
            ..EtcdConfig::new([self.endpoint.clone()])
        }
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.server.as_ref().map(Child::id)
    }

    /// Freezes the server (`SIGSTOP`): requests then time out.
    pub fn pause(&self) -> Result<(), TestEtcdError> {
        self.signal("STOP")
    }

    /// Thaws a paused server (`SIGCONT`).
    pub fn resume(&self) -> Result<(), TestEtcdError> {
        self.signal("CONT")
    }

    /// Kills the server now (its directory stays until drop).
    pub fn kill(&mut self) {
        if let Some(mut server) = self.server.take() {
            // Thaw it first in case it was paused; errors mean it is gone already.
            let _ = Command::new("kill")
                .args(["-CONT", &server.id().to_string()])
                .status();
            let _ = server.kill();
            let _ = server.wait();
        }
    }

    /// The server's log (stderr), for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("etcd.log")).unwrap_or_default()
    }

    fn signal(&self, signal: &str) -> Result<(), TestEtcdError> {
        let pid = self
            .pid()
            .ok_or_else(|| TestEtcdError("etcd is not running".to_owned()))?;
        let status = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .map_err(|err| TestEtcdError(format!("kill -{signal} {pid}: {err}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(TestEtcdError(format!("kill -{signal} {pid}: {status}")))
        }
    }

    fn spawn(binary: &Path, options: &TestEtcdOptions) -> Result<TestEtcd, TestEtcdError> {
        let dir = fresh_dir()?;
        let client_port = free_port()?;
        let peer_port = free_port()?;
        let scheme = if options.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let endpoint = format!("{scheme}://127.0.0.1:{client_port}");
        let peer = format!("http://127.0.0.1:{peer_port}");
        let log = File::create(dir.join("etcd.log"))
            .map_err(|err| TestEtcdError(format!("creating {}: {err}", dir.display())))?;
        let mut command = Command::new(binary);
        command
            .arg("--name=test")
            .arg(format!("--data-dir={}", dir.join("data").display()))
            .arg(format!("--listen-client-urls={endpoint}"))
            .arg(format!("--advertise-client-urls={endpoint}"))
            .arg(format!("--listen-peer-urls={peer}"))
            .arg(format!("--initial-advertise-peer-urls={peer}"))
            .arg(format!("--initial-cluster=test={peer}"))
            .arg("--initial-cluster-state=new")
            .args(["--logger=zap", "--log-outputs=stderr", "--log-level=warn"]);
        if let Some(bytes) = options.max_request_bytes {
            command.arg(format!("--max-request-bytes={bytes}"));
        }
        if let Some(interval) = options.progress_notify_interval {
            command.arg(format!(
                "--experimental-watch-progress-notify-interval={}ms",
                interval.as_millis().max(1)
            ));
        }
        if let Some(tls) = &options.tls {
            command
                .arg(format!("--cert-file={}", tls.server_cert_file.display()))
                .arg(format!("--key-file={}", tls.server_key_file.display()))
                .arg(format!("--trusted-ca-file={}", tls.ca_file.display()));
            if tls.client_cert_file.is_some() {
                command.arg("--client-cert-auth");
            }
        }
        command
            .args(&options.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let server = command.spawn().map_err(|err| {
            let _ = fs::remove_dir_all(&dir);
            TestEtcdError(format!("starting {}: {err}", binary.display()))
        })?;
        let watchdog = spawn_watchdog(server.id(), &dir);
        Ok(TestEtcd {
            server: Some(server),
            watchdog,
            dir,
            endpoint,
            tls: options.tls.clone(),
        })
    }

    /// Waits until the server answers a request, or fails with its log.
    async fn await_ready(&mut self) -> Result<(), TestEtcdError> {
        let store = EtcdStore::connect(self.config())
            .await
            .map_err(|err| TestEtcdError(format!("etcd client: {err}")))?;
        let deadline = tokio::time::Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(server) = self.server.as_mut() {
                if let Ok(Some(status)) = server.try_wait() {
                    return Err(TestEtcdError(format!(
                        "etcd exited during start-up ({status}); its log:\n{}",
                        self.log()
                    )));
                }
            }
            let Err(err) = store.wait_ready(Duration::from_millis(500)).await else {
                return Ok(());
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(TestEtcdError(format!(
                    "etcd at {} not ready within {STARTUP_TIMEOUT:?}: {err}; its log:\n{}",
                    self.endpoint,
                    self.log()
                )));
            }
        }
    }
}

impl Drop for TestEtcd {
    fn drop(&mut self) {
        self.kill();
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// `$ETCD_BIN`, or `etcd` on `PATH`.
fn etcd_binary() -> Result<PathBuf, TestEtcdError> {
    if let Some(path) = std::env::var_os("ETCD_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(TestEtcdError(format!(
                "ETCD_BIN={} is not a file",
                path.display()
            )))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("etcd"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            TestEtcdError(
                "etcd not found on PATH: install Debian's etcd-server \
                 (`scripts/etcd.sh install`) or set ETCD_BIN"
                    .to_owned(),
            )
        })
}

/// A new, empty directory under the system temp directory.
fn fresh_dir() -> Result<PathBuf, TestEtcdError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "test-etcd-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir)
        .map_err(|err| TestEtcdError(format!("creating {}: {err}", dir.display())))?;
    Ok(dir)
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<u16, TestEtcdError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|err| TestEtcdError(format!("finding a free port: {err}")))
}

/// A shell loop that kills the server and removes its directory once this process is gone.
/// Best effort: without `sh` the server is still killed on drop.
fn spawn_watchdog(server: u32, dir: &Path) -> Option<Child> {
    const SCRIPT: &str = r#"
        while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
        if ! kill -0 "$1" 2>/dev/null; then
            kill -9 "$2" 2>/dev/null
            rm -rf "$3"
        fi
    "#;
    Command::new("sh")
        .args(["-c", SCRIPT, "etcd-watchdog"])
        .arg(std::process::id().to_string())
        .arg(server.to_string())
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

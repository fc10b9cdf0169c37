//! Serving: TLS with HTTP/1.1 and HTTP/2 (ALPN) and upstream's limits, and graceful
//! shutdown (readyz red → delay → pre-shutdown hooks → stop accepting → drain).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use super::hooks::Lifecycle;
use crate::auth::authenticator::ConnInfo;
use crate::body::{BodyError, SharedBody};
use crate::filters::HttpService;
use crate::health::HealthCheck;

/// HTTP/2 streams per connection, as upstream.
pub const HTTP2_MAX_STREAMS: u32 = 250;
/// HTTP/2 maximum frame size, as upstream (256 KiB).
pub const HTTP2_MAX_FRAME_SIZE: u32 = 256 * 1024;
/// Maximum size of request headers, as upstream (1 MiB).
pub const MAX_HEADER_BYTES: usize = 1 << 20;
/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why serving could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("reading {path}: {reason}")]
    Pem { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error("failed to listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// How to serve and shut down.
pub struct ServeConfig {
    pub tls: Arc<rustls::ServerConfig>,
    /// How long to keep serving after shutdown begins (`--shutdown-delay-duration`).
    pub shutdown_delay: Duration,
    /// Bound on draining in-flight requests (the request timeout).
    pub drain_timeout: Duration,
    /// `--shutdown-send-retry-after`: once the delay has passed, keep listening (new
    /// requests get 429 with `Retry-After`) until in-flight requests are done.
    pub send_retry_after: bool,
}

/// Signals the server's shutdown: `initiated` turns readyz red and ends watches;
/// the serve loop stops accepting when `stop` is sent.
#[derive(Clone)]
pub struct ShutdownSignals {
    initiated: watch::Sender<bool>,
    stopping: watch::Sender<bool>,
    /// Set when the shutdown delay has passed: new requests are no longer served.
    not_accepting: watch::Sender<bool>,
    /// Requests being served that are not long-running (upstream's wait group).
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

/// One request counted by [`ShutdownSignals::track`]; uncounted when dropped.
pub struct TrackedRequest(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for TrackedRequest {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl ShutdownSignals {
    pub fn new() -> Self {
        ShutdownSignals {
            initiated: watch::channel(false).0,
            stopping: watch::channel(false).0,
            not_accepting: watch::channel(false).0,
            in_flight: Arc::default(),
        }
    }

    /// Marks the end of the shutdown delay: from now on new requests are turned away.
    pub fn stop_accepting_requests(&self) {
        self.not_accepting.send_replace(true);
    }

    /// Whether the shutdown delay has passed.
    pub fn is_not_accepting_requests(&self) -> bool {
        *self.not_accepting.borrow()
    }

    /// Counts a request until the returned guard is dropped.
    pub fn track(&self) -> TrackedRequest {
        self.in_flight
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        TrackedRequest(self.in_flight.clone())
    }

    /// Waits until no tracked request is in flight, at most `limit`; false on timeout.
    pub async fn wait_drained(&self, limit: Duration) -> bool {
        let start = tokio::time::Instant::now();
        while self.in_flight.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            if start.elapsed() >= limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// A receiver that sees `true` once the server stops accepting: open watches end then.
    pub fn subscribe_stop(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// Stops accepting connections and ends watches.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// A receiver that sees `true` once shutdown has begun.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.initiated.subscribe()
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.initiated.borrow()
    }

    /// Begins shutdown.
    pub fn initiate(&self) {
        self.initiated.send_replace(true);
    }

    /// The readyz `shutdown` check: fails once shutdown has begun.
    pub fn readyz_check(&self) -> HealthCheck {
        let rx = self.subscribe();
        HealthCheck::new("shutdown", move || {
            let down = *rx.borrow();
            async move {
                if down {
                    Err("process is shutting down".to_string())
                } else {
                    Ok(())
                }
            }
        })
    }
}

impl Default for ShutdownSignals {
    fn default() -> Self {
        Self::new()
    }
}

/// Binds the secure port (separately, so that callers learn the address before serving).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })
}

/// Serves `service` on `listener` until `stop` fires, then drains connections.
/// `shutdown_started` (watch) flips to true at the moment shutdown begins, so the caller
/// controls the delay and hooks; `stop` ends accepting.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    service: HttpService,
    mut stop: watch::Receiver<bool>,
    drain_timeout: Duration,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .max_buf_size(MAX_HEADER_BYTES)
        .timer(hyper_util::rt::TokioTimer::new());
    builder
        .http2()
        .max_concurrent_streams(HTTP2_MAX_STREAMS)
        .max_frame_size(HTTP2_MAX_FRAME_SIZE)
        .max_header_list_size(MAX_HEADER_BYTES as u32)
        .timer(hyper_util::rt::TokioTimer::new());
    let builder = Arc::new(builder);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
        };
        let (tcp, remote) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = service.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%remote, "TLS handshake failed: {e}");
                    return;
                }
                Err(_) => return,
            };
            let conn_info = ConnInfo {
                peer_certs: tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .map(|c| Arc::new(c.iter().map(|c| c.clone().into_owned()).collect())),
                remote_addr: Some(remote),
            };
            let hyper_service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                // A client waiting for `100 Continue` sends no body unless it is read.
                let expects_continue = req
                    .headers()
                    .get(http::header::EXPECT)
                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
                let (parts, body) = req.into_parts();
                let body = SharedBody::new(body);
                let mut req = http::Request::from_parts(
                    parts,
                    body.clone()
                        .map_err(|e| BodyError(Box::new(e)))
                        .boxed_unsync(),
                );
                req.extensions_mut().insert(conn_info.clone());
                let service = service.clone();
                async move {
                    let resp = service.oneshot(req).await;
                    if !expects_continue {
                        body.drain_unread().await;
                    }
                    resp
                }
            });
            // hyper's own 414 and 431 answers get a Status body (see `parse_errors`).
            let io = TokioIo::new(super::parse_errors::StatusBodies::new(tls));
            let conn = builder.serve_connection_with_upgrades(io, hyper_service);
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::debug!(%remote, "connection ended: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within {drain_timeout:?}");
    }
}

/// Runs the full life cycle: serve; on the first SIGTERM/SIGINT begin shutdown (readyz
/// red, watches end), keep serving for the delay, run pre-shutdown hooks, stop accepting,
/// drain. A second signal exits with status 1.
pub async fn run_until_signal(
    listener: TcpListener,
    cfg: ServeConfig,
    service: HttpService,
    lifecycle: Arc<Lifecycle>,
    signals: ShutdownSignals,
) {
    let server = tokio::spawn(serve(
        listener,
        cfg.tls.clone(),
        service,
        signals.subscribe_stop(),
        cfg.drain_timeout,
    ));
    lifecycle.run_post_start_hooks();
    wait_for_signal().await;
    tracing::info!(
        "shutdown requested: readyz now fails; serving for another {:?}",
        cfg.shutdown_delay
    );
    tokio::spawn(async {
        wait_for_signal().await;
        tracing::error!("second signal received, exiting at once");
        std::process::exit(1);
    });
    signals.initiate();
    tokio::time::sleep(cfg.shutdown_delay).await;
    signals.stop_accepting_requests();
    lifecycle.run_pre_shutdown_hooks().await;
    if cfg.send_retry_after {
        // Keep listening, answering new requests with 429, until the requests in flight
        // are done (upstream's --shutdown-send-retry-after).
        if !signals.wait_drained(cfg.drain_timeout).await {
            tracing::warn!(
                "in-flight requests did not finish within {:?}",
                cfg.drain_timeout
            );
        }
    }
    signals.stop();
    let _ = server.await;
    tracing::info!("server stopped");
}

/// Waits for SIGTERM or SIGINT.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

//! A minimal HTTP client for one API server: TLS (rustls, aws-lc-rs) with a CA or without
//! verification, a client certificate or a bearer token, HTTP/1.1 keep-alive connections
//! (one per worker) or HTTP/2 (streams multiplexed on shared connections). 429 answers are
//! retried after their Retry-After.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::bail;
use crate::error::{Context, Error, Result};
use crate::kubeconfig::Credentials;

/// How often a 429 is retried before its answer is returned as is.
const MAX_THROTTLE_RETRIES: u32 = 20;

/// Where and how to reach the server. Shared by every connection.
pub struct Target {
    /// The URL as given, for messages.
    pub server: String,
    scheme: &'static str,
    /// host:port to connect to.
    addr: String,
    /// The URL's authority, for Host / :authority.
    authority: String,
    /// A path prefix from the URL, without a trailing slash.
    base_path: String,
    tls: Option<Arc<ClientConfig>>,
    server_name: ServerName<'static>,
    auth: Option<HeaderValue>,
    pub http2: bool,
    /// Bound on connecting, and on a whole request/response exchange.
    pub timeout: Duration,
    /// 429 answers seen (and retried) so far.
    pub throttled: AtomicU64,
}

impl Target {
    pub fn new(
        server: &str,
        creds: &Credentials,
        http2: bool,
        timeout: Duration,
    ) -> Result<Target> {
        let url = parse_url(server)?;
        let name = creds.tls_server_name.clone().unwrap_or(url.host.clone());
        let server_name = ServerName::try_from(name.clone())
            .map_err(|_| Error(format!("{name:?} is not a valid TLS server name")))?;
        let tls = if url.https {
            Some(Arc::new(tls_config(creds, http2)?))
        } else {
            None
        };
        let auth = match &creds.token {
            Some(t) => Some(
                HeaderValue::from_str(&format!("Bearer {}", t.trim())).map_err(|_| {
                    Error("the token contains characters not allowed in a header".into())
                })?,
            ),
            None => None,
        };
        Ok(Target {
            server: server.to_string(),
            scheme: if url.https { "https" } else { "http" },
            addr: url.addr,
            authority: url.authority,
            base_path: url.path,
            tls,
            server_name,
            auth,
            http2,
            timeout,
            throttled: AtomicU64::new(0),
        })
    }

    /// Opens one connection (TCP, TLS, HTTP handshake), bounded by the timeout.
    pub async fn connect(&self) -> Result<Conn> {
        match tokio::time::timeout(self.timeout, self.connect_inner()).await {
            Ok(r) => r,
            Err(_) => bail!(
                "connecting to {}: no connection within {:?}",
                self.server,
                self.timeout
            ),
        }
    }

    async fn connect_inner(&self) -> Result<Conn> {
        let tcp = TcpStream::connect(&self.addr)
            .await
            .context(|| format!("cannot connect to {}", self.server))?;
        // Small request/response exchanges: do not wait for Nagle.
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            Some(tls) => {
                let stream = TlsConnector::from(tls.clone())
                    .connect(self.server_name.clone(), tcp)
                    .await
                    .context(|| format!("TLS handshake with {} failed", self.server))?;
                if self.http2 && stream.get_ref().1.alpn_protocol() != Some(&b"h2"[..]) {
                    bail!("{} did not agree to HTTP/2 (ALPN h2)", self.server);
                }
                self.handshake(stream).await
            }
            None => self.handshake(tcp).await,
        }
    }

    async fn handshake<T>(&self, io: T) -> Result<Conn>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let io = TokioIo::new(io);
        if self.http2 {
            let (sender, conn) = http2::Builder::new(TokioExecutor::new())
                .adaptive_window(true)
                .handshake(io)
                .await
                .context(|| format!("HTTP/2 handshake with {}", self.server))?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok(Conn::H2(sender))
        } else {
            let (sender, conn) = http1::handshake(io)
                .await
                .context(|| format!("HTTP/1.1 handshake with {}", self.server))?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok(Conn::H1(sender))
        }
    }

    fn build(
        &self,
        method: &Method,
        path: &str,
        body: &Option<Bytes>,
    ) -> Result<Request<Full<Bytes>>> {
        let uri = if self.http2 {
            format!(
                "{}://{}{}{}",
                self.scheme, self.authority, self.base_path, path
            )
        } else {
            format!("{}{}", self.base_path, path)
        };
        let mut b = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header(header::ACCEPT, "application/json")
            .header(header::USER_AGENT, "kube-loadtest/0.1");
        if !self.http2 {
            b = b.header(header::HOST, &self.authority);
        }
        if let Some(auth) = &self.auth {
            b = b.header(header::AUTHORIZATION, auth.clone());
        }
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        b.body(Full::new(body.clone().unwrap_or_default()))
            .context(|| format!("cannot build a request for {path}"))
    }
}

/// One connection's request sender.
pub enum Conn {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

/// A response whose body has been read completely.
pub struct Response {
    pub status: StatusCode,
    pub body: Bytes,
}

/// A worker's client: its own HTTP/1.1 connection, or a share of an HTTP/2 one. It
/// reconnects on its own after a connection fails.
pub struct Client {
    target: Arc<Target>,
    conn: Option<Conn>,
}

impl Client {
    /// A client that connects on first use.
    pub fn new(target: Arc<Target>) -> Client {
        Client { target, conn: None }
    }

    /// A client with an open connection.
    pub async fn connect(target: Arc<Target>) -> Result<Client> {
        let conn = target.connect().await?;
        Ok(Client {
            target,
            conn: Some(conn),
        })
    }

    /// Another client on the same HTTP/2 connection; `None` for HTTP/1.1.
    pub fn share(&self) -> Option<Client> {
        match &self.conn {
            Some(Conn::H2(s)) => Some(Client {
                target: self.target.clone(),
                conn: Some(Conn::H2(s.clone())),
            }),
            _ => None,
        }
    }

    async fn send(
        &mut self,
        method: &Method,
        path: &str,
        body: &Option<Bytes>,
    ) -> Result<http::Response<Incoming>> {
        // A kept-alive connection the server has closed is noticed before or while
        // sending; the request was not sent then, so it is sent once more on a new one.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let conn = match &mut self.conn {
                Some(c) => c,
                None => self.conn.insert(self.target.connect().await?),
            };
            let req = self.target.build(method, path, body)?;
            let result = match conn {
                Conn::H1(s) => match s.ready().await {
                    Ok(()) => s.send_request(req).await,
                    Err(e) => Err(e),
                },
                Conn::H2(s) => match s.ready().await {
                    Ok(()) => s.send_request(req).await,
                    Err(e) => Err(e),
                },
            };
            match result {
                Ok(r) => return Ok(r),
                Err(e) => {
                    self.conn = None;
                    if attempt < 2 && (e.is_canceled() || e.is_closed()) {
                        continue;
                    }
                    bail!("{method} {path}: {e}");
                }
            }
        }
    }

    /// Sends a request and reads the whole answer; retries 429s after their Retry-After.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<Response> {
        let mut retries = 0;
        loop {
            let limit = self.target.timeout;
            let exchange = async {
                let resp = self.send(&method, path, &body).await?;
                let status = resp.status();
                let retry_after = resp
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|s| s.trim().parse::<u64>().ok());
                let body = resp
                    .into_body()
                    .collect()
                    .await
                    .context(|| format!("{method} {path}: reading the response"))?
                    .to_bytes();
                Ok::<_, Error>((status, retry_after, body))
            };
            let (status, retry_after, body) = match tokio::time::timeout(limit, exchange).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    self.conn = None;
                    return Err(e);
                }
                Err(_) => {
                    self.conn = None;
                    bail!("{method} {path}: no complete response within {limit:?}");
                }
            };
            if status == StatusCode::TOO_MANY_REQUESTS && retries < MAX_THROTTLE_RETRIES {
                retries += 1;
                self.target.throttled.fetch_add(1, Ordering::Relaxed);
                let wait = Duration::from_secs(retry_after.unwrap_or(1).min(30));
                tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
                continue;
            }
            return Ok(Response { status, body });
        }
    }

    /// Starts a GET whose body is read by the caller (a watch). Only the start is bounded
    /// by the timeout.
    pub async fn stream(&mut self, path: &str) -> Result<(StatusCode, Incoming)> {
        let limit = self.target.timeout;
        match tokio::time::timeout(limit, self.send(&Method::GET, path, &None)).await {
            Ok(Ok(r)) => Ok((r.status(), r.into_body())),
            Ok(Err(e)) => Err(e),
            Err(_) => bail!("GET {path}: no response headers within {limit:?}"),
        }
    }
}

/// The `message` of a Status body, or the start of whatever the body is.
pub fn status_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(m) = v.get("message").and_then(|m| m.as_str()) {
            return m.to_string();
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.len() > 200 {
        let mut end = 200;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &text[..end])
    } else {
        text.to_string()
    }
}

/// Percent-encodes a query parameter value.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Url {
    https: bool,
    host: String,
    addr: String,
    authority: String,
    path: String,
}

fn parse_url(url: &str) -> Result<Url> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        bail!("the server URL must start with https:// or http:// (got {url:?})");
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.is_empty() || path.contains(['?', '#']) {
        bail!("cannot use server URL {url:?}");
    }
    let default_port = if https { 443 } else { 80 };
    let bad_port = || Error(format!("bad port in server URL {url:?}"));
    let (host, port) = if let Some(r) = authority.strip_prefix('[') {
        let end = r
            .find(']')
            .context(|| format!("unclosed [ in server URL {url:?}"))?;
        let port = match r[end + 1..].strip_prefix(':') {
            Some(p) => p.parse::<u16>().map_err(|_| bad_port())?,
            None if r[end + 1..].is_empty() => default_port,
            None => return Err(bad_port()),
        };
        (r[..end].to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse::<u16>().map_err(|_| bad_port())?),
            None => (authority.to_string(), default_port),
        }
    };
    let addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok(Url {
        https,
        host,
        addr,
        authority: authority.to_string(),
        path: path.trim_end_matches('/').to_string(),
    })
}

fn tls_config(creds: &Credentials, http2: bool) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context(|| "TLS setup")?;
    let builder = if creds.insecure_skip_tls_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert(provider)))
    } else {
        let ca = creds.ca_pem.as_ref().context(|| {
            "no CA to verify the server with: pass --ca FILE (or a kubeconfig with a \
             certificate-authority), or --insecure-skip-tls-verify"
        })?;
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca) {
            let cert = cert.context(|| "the CA is not valid PEM")?;
            roots
                .add(cert)
                .context(|| "the CA holds an unusable certificate")?;
        }
        if roots.is_empty() {
            bail!("the CA holds no PEM certificate");
        }
        builder.with_root_certificates(roots)
    };
    let mut config = match (&creds.client_cert_pem, &creds.client_key_pem) {
        (Some(cert), Some(key)) => {
            let certs = CertificateDer::pem_slice_iter(cert)
                .collect::<std::result::Result<Vec<_>, _>>()
                .context(|| "the client certificate is not valid PEM")?;
            if certs.is_empty() {
                bail!("the client certificate holds no PEM certificate");
            }
            let key = PrivateKeyDer::from_pem_slice(key)
                .context(|| "the client key is not a valid PEM private key")?;
            builder
                .with_client_auth_cert(certs, key)
                .context(|| "unusable client certificate and key")?
        }
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(config)
}

/// `--insecure-skip-tls-verify`: any certificate is accepted; signatures are still checked so
/// the handshake itself is sound.
#[derive(Debug)]
struct AcceptAnyServerCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("https://127.0.0.1:6443").unwrap();
        assert!(u.https);
        assert_eq!((u.addr.as_str(), u.path.as_str()), ("127.0.0.1:6443", ""));
        let u = parse_url("https://[::1]:7443/prefix/").unwrap();
        assert_eq!(u.host, "::1");
        assert_eq!(u.addr, "[::1]:7443");
        assert_eq!(u.authority, "[::1]:7443");
        assert_eq!(u.path, "/prefix");
        let u = parse_url("http://localhost").unwrap();
        assert_eq!(u.addr, "localhost:80");
        assert!(parse_url("127.0.0.1:6443").is_err());
        assert!(parse_url("https://h:port").is_err());
        assert!(parse_url("https://").is_err());
    }

    #[test]
    fn escaping_and_messages() {
        assert_eq!(query_escape("a+b/c=="), "a%2Bb%2Fc%3D%3D");
        assert_eq!(
            status_message(br#"{"kind":"Status","message":"nope"}"#),
            "nope"
        );
        assert_eq!(status_message(b" plain \n"), "plain");
    }

    /// A plain-HTTP server that answers 429 (Retry-After: 0), then 200, on one connection.
    #[tokio::test]
    async fn retries_429_on_a_kept_alive_connection() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            for answer in [
                "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
            ] {
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = sock.read(&mut buf).await.unwrap();
                    assert!(n > 0, "connection closed");
                    req.extend_from_slice(&buf[..n]);
                }
                seen.push(String::from_utf8_lossy(&req).to_lowercase());
                sock.write_all(answer.as_bytes()).await.unwrap();
            }
            seen
        });
        let creds = Credentials {
            token: Some("t0k".into()),
            ..Credentials::default()
        };
        let url = format!("http://127.0.0.1:{port}");
        let target = Arc::new(Target::new(&url, &creds, false, Duration::from_secs(5)).unwrap());
        let mut client = Client::new(target.clone());
        let r = client.request(Method::GET, "/api", None).await.unwrap();
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(&r.body[..], b"{}");
        assert_eq!(target.throttled.load(Ordering::Relaxed), 1);
        let seen = server.await.unwrap();
        assert_eq!(seen.len(), 2);
        assert!(seen[1].starts_with("get /api http/1.1"), "{}", seen[1]);
        assert!(seen[1].contains("authorization: bearer t0k"), "{}", seen[1]);
        assert!(
            seen[1].contains(&format!("host: 127.0.0.1:{port}")),
            "{}",
            seen[1]
        );
    }

    #[test]
    fn tls_needs_a_ca_or_insecure() {
        let creds = Credentials::default();
        let err = Target::new("https://127.0.0.1:1", &creds, false, Duration::from_secs(1))
            .err()
            .unwrap();
        assert!(err.0.contains("--insecure-skip-tls-verify"), "{err}");
        let insecure = Credentials {
            insecure_skip_tls_verify: true,
            ..Credentials::default()
        };
        assert!(Target::new(
            "https://127.0.0.1:1",
            &insecure,
            true,
            Duration::from_secs(1)
        )
        .is_ok());
    }
}

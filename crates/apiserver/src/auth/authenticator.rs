//! Authenticators: each looks at a request and its connection and may name a user.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;

use super::{UserInfo, AUTHENTICATED_GROUP};

/// What the TLS connection tells about the client.
#[derive(Debug, Clone, Default)]
pub struct ConnInfo {
    /// The client's certificate chain, already verified against the client CA.
    pub peer_certs: Option<Arc<Vec<CertificateDer<'static>>>>,
    pub remote_addr: Option<std::net::SocketAddr>,
}

/// The result of one authenticator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    Authenticated(UserInfo),
    /// This authenticator has nothing to say about the request.
    NotApplicable,
    /// Credentials were presented and are not valid.
    Failed(String),
}

/// Something that can tell who sent a request.
pub trait Authenticator: Send + Sync + 'static {
    fn authenticate(&self, headers: &http::HeaderMap, conn: &ConnInfo) -> AuthOutcome;

    /// Removes the headers this authenticator reads that must not reach handlers (run on
    /// every request once authentication is done).
    fn strip(&self, _headers: &mut http::HeaderMap) {}
}

/// Subject common name and organizations of a DER certificate.
fn subject_of(cert: &CertificateDer<'_>) -> Result<(String, Vec<String>), String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| format!("invalid client certificate: {e}"))?;
    let subject = parsed.subject();
    let name = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or("")
        .to_string();
    let orgs = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(str::to_string))
        .collect();
    Ok((name, orgs))
}

/// Verifies the connection's client certificate chain against `verifier`; `None` when no
/// certificate was presented.
fn verified_leaf<'c>(
    conn: &'c ConnInfo,
    verifier: Option<&Arc<dyn ClientCertVerifier>>,
) -> Option<Result<&'c CertificateDer<'static>, String>> {
    let chain = conn.peer_certs.as_ref()?;
    let (leaf, intermediates) = chain.split_first()?;
    if let Some(v) = verifier {
        if let Err(e) = v.verify_client_cert(leaf, intermediates, UnixTime::now()) {
            return Some(Err(format!("verifying certificate: {e}")));
        }
    }
    Some(Ok(leaf))
}

/// Users from client certificates (upstream's x509 authenticator): the subject's CN is
/// the name, its O entries the groups. With a verifier, the chain must lead to one of its
/// CAs (the TLS layer may also accept certificates of other CAs, such as the front
/// proxy's).
#[derive(Default)]
pub struct ClientCertAuthenticator {
    verifier: Option<Arc<dyn ClientCertVerifier>>,
}

impl ClientCertAuthenticator {
    /// Trusts certificates `verifier` accepts; `None` trusts whatever TLS accepted.
    pub fn new(verifier: Option<Arc<dyn ClientCertVerifier>>) -> Self {
        ClientCertAuthenticator { verifier }
    }
}

impl Authenticator for ClientCertAuthenticator {
    fn authenticate(&self, _headers: &http::HeaderMap, conn: &ConnInfo) -> AuthOutcome {
        let leaf = match verified_leaf(conn, self.verifier.as_ref()) {
            None => return AuthOutcome::NotApplicable,
            Some(Err(e)) => return AuthOutcome::Failed(e),
            Some(Ok(leaf)) => leaf,
        };
        match subject_of(leaf) {
            Ok((name, _)) if name.is_empty() => {
                AuthOutcome::Failed("client certificate has no common name".into())
            }
            Ok((name, mut groups)) => {
                groups.push(AUTHENTICATED_GROUP.to_string());
                AuthOutcome::Authenticated(UserInfo {
                    name,
                    uid: String::new(),
                    groups,
                    extra: BTreeMap::new(),
                })
            }
            Err(e) => AuthOutcome::Failed(e),
        }
    }
}

/// The `--requestheader-*` settings.
#[derive(Debug, Clone, Default)]
pub struct RequestHeaderConfig {
    /// Common names a proxy certificate may have; any when empty.
    pub allowed_names: Vec<String>,
    pub username_headers: Vec<String>,
    pub uid_headers: Vec<String>,
    pub group_headers: Vec<String>,
    pub extra_headers_prefixes: Vec<String>,
}

/// Users named by a front proxy in request headers (upstream's request-header
/// authenticator): trusted only from a client certificate that chains to the
/// request-header CA and, when names are configured, has an allowed common name.
pub struct RequestHeaderAuthenticator {
    verifier: Arc<dyn ClientCertVerifier>,
    config: RequestHeaderConfig,
}

impl RequestHeaderAuthenticator {
    pub fn new(verifier: Arc<dyn ClientCertVerifier>, config: RequestHeaderConfig) -> Self {
        RequestHeaderAuthenticator { verifier, config }
    }

    /// The extra key of header `name` under one of the prefixes (lower case, unescaped).
    fn extra_key(&self, name: &str) -> Option<String> {
        self.config.extra_headers_prefixes.iter().find_map(|p| {
            let p = p.to_ascii_lowercase();
            name.strip_prefix(p.as_str())
                .filter(|k| !k.is_empty())
                .map(percent_decode)
        })
    }
}

/// The values of headers `names`, in order, without empty ones.
fn header_values(headers: &http::HeaderMap, names: &[String]) -> Vec<String> {
    names
        .iter()
        .flat_map(|n| headers.get_all(n.as_str()).iter())
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// `%XX` escapes decoded, as Go's `url.PathUnescape` (invalid escapes kept as they are).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Authenticator for RequestHeaderAuthenticator {
    fn authenticate(&self, headers: &http::HeaderMap, conn: &ConnInfo) -> AuthOutcome {
        let leaf = match verified_leaf(conn, Some(&self.verifier)) {
            None => return AuthOutcome::NotApplicable,
            Some(Err(e)) => return AuthOutcome::Failed(e),
            Some(Ok(leaf)) => leaf,
        };
        if !self.config.allowed_names.is_empty() {
            let cn = subject_of(leaf).map(|(cn, _)| cn).unwrap_or_default();
            if !self.config.allowed_names.contains(&cn) {
                return AuthOutcome::Failed(format!(
                    "x509: subject with cn={cn} is not in the allowed list"
                ));
            }
        }
        let Some(name) = header_values(headers, &self.config.username_headers)
            .into_iter()
            .next()
        else {
            return AuthOutcome::NotApplicable;
        };
        let uid = header_values(headers, &self.config.uid_headers)
            .into_iter()
            .next()
            .unwrap_or_default();
        let mut groups = header_values(headers, &self.config.group_headers);
        if !groups.iter().any(|g| g == AUTHENTICATED_GROUP) {
            groups.push(AUTHENTICATED_GROUP.to_string());
        }
        let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (header, value) in headers {
            if let (Some(key), Ok(v)) = (self.extra_key(header.as_str()), value.to_str()) {
                extra.entry(key).or_default().push(v.to_string());
            }
        }
        AuthOutcome::Authenticated(UserInfo {
            name,
            uid,
            groups,
            extra,
        })
    }

    fn strip(&self, headers: &mut http::HeaderMap) {
        let c = &self.config;
        for h in c
            .username_headers
            .iter()
            .chain(&c.uid_headers)
            .chain(&c.group_headers)
        {
            headers.remove(h.as_str());
        }
        let extra: Vec<http::HeaderName> = headers
            .keys()
            .filter(|k| self.extra_key(k.as_str()).is_some())
            .cloned()
            .collect();
        for k in extra {
            headers.remove(k);
        }
    }
}

/// Why a token file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("reading token file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("token file {path}, line {line}: {reason}")]
    Parse {
        path: String,
        line: usize,
        reason: String,
    },
}

/// Static bearer tokens from a CSV file (`--token-auth-file`): `token,user,uid,"group1,group2"`.
pub struct TokenFileAuthenticator {
    tokens: HashMap<String, UserInfo>,
}

impl TokenFileAuthenticator {
    pub fn load(path: &Path) -> Result<Self, TokenFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|(line, reason)| TokenFileError::Parse {
            path: path.display().to_string(),
            line,
            reason,
        })
    }

    /// Parses the CSV text; errors carry the 1-based line number.
    pub fn parse(text: &str) -> Result<Self, (usize, String)> {
        let mut tokens = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields = split_csv(line);
            if fields.len() < 3 {
                return Err((i + 1, "want at least token,user,uid".into()));
            }
            if fields[0].is_empty() {
                return Err((i + 1, "empty token".into()));
            }
            let mut groups: Vec<String> = fields
                .get(3)
                .map(|g| {
                    g.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            groups.push(AUTHENTICATED_GROUP.to_string());
            tokens.insert(
                fields[0].clone(),
                UserInfo {
                    name: fields[1].clone(),
                    uid: fields[2].clone(),
                    groups,
                    extra: BTreeMap::new(),
                },
            );
        }
        Ok(TokenFileAuthenticator { tokens })
    }
}

/// Splits one CSV line, honouring double quotes.
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

impl Authenticator for TokenFileAuthenticator {
    fn authenticate(&self, headers: &http::HeaderMap, _conn: &ConnInfo) -> AuthOutcome {
        let Some(token) = bearer_token(headers) else {
            return AuthOutcome::NotApplicable;
        };
        match self.tokens.get(token) {
            Some(user) => AuthOutcome::Authenticated(user.clone()),
            None => AuthOutcome::Failed("invalid bearer token".into()),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Tries each authenticator in turn; the first that authenticates wins.
pub struct UnionAuthenticator {
    pub authenticators: Vec<Box<dyn Authenticator>>,
}

impl Authenticator for UnionAuthenticator {
    fn authenticate(&self, headers: &http::HeaderMap, conn: &ConnInfo) -> AuthOutcome {
        let mut failure = None;
        for a in &self.authenticators {
            match a.authenticate(headers, conn) {
                AuthOutcome::Authenticated(u) => return AuthOutcome::Authenticated(u),
                AuthOutcome::Failed(e) => failure = Some(e),
                AuthOutcome::NotApplicable => {}
            }
        }
        failure.map_or(AuthOutcome::NotApplicable, AuthOutcome::Failed)
    }

    fn strip(&self, headers: &mut http::HeaderMap) {
        for a in &self.authenticators {
            a.strip(headers);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file() {
        let a = TokenFileAuthenticator::parse("# c\nabc,alice,1,\"g1,g2\"\ndef,bob,2\n").unwrap();
        let mut h = http::HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        match a.authenticate(&h, &ConnInfo::default()) {
            AuthOutcome::Authenticated(u) => {
                assert_eq!(u.name, "alice");
                assert_eq!(u.groups, vec!["g1", "g2", AUTHENTICATED_GROUP]);
            }
            other => panic!("{other:?}"),
        }
        h.insert(http::header::AUTHORIZATION, "Bearer nope".parse().unwrap());
        assert!(matches!(
            a.authenticate(&h, &ConnInfo::default()),
            AuthOutcome::Failed(_)
        ));
        assert_eq!(
            a.authenticate(&http::HeaderMap::new(), &ConnInfo::default()),
            AuthOutcome::NotApplicable
        );
        assert!(TokenFileAuthenticator::parse("tok,user").is_err());
    }
}

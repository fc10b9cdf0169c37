//! Authenticators: each looks at a request and its connection and may name a user.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;

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
}

/// Users from client certificates: the subject's CN is the name, its O entries the groups.
pub struct ClientCertAuthenticator;

impl Authenticator for ClientCertAuthenticator {
    fn authenticate(&self, _headers: &http::HeaderMap, conn: &ConnInfo) -> AuthOutcome {
        let Some(leaf) = conn.peer_certs.as_ref().and_then(|c| c.first()) else {
            return AuthOutcome::NotApplicable;
        };
        match x509_parser::parse_x509_certificate(leaf.as_ref()) {
            Ok((_, cert)) => {
                let subject = cert.subject();
                let name = subject
                    .iter_common_name()
                    .next()
                    .and_then(|cn| cn.as_str().ok())
                    .unwrap_or("")
                    .to_string();
                if name.is_empty() {
                    return AuthOutcome::Failed("client certificate has no common name".into());
                }
                let mut groups: Vec<String> = subject
                    .iter_organization()
                    .filter_map(|o| o.as_str().ok().map(str::to_string))
                    .collect();
                groups.push(AUTHENTICATED_GROUP.to_string());
                AuthOutcome::Authenticated(UserInfo {
                    name,
                    uid: String::new(),
                    groups,
                })
            }
            Err(e) => AuthOutcome::Failed(format!("invalid client certificate: {e}")),
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

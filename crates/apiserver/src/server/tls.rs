//! TLS for the secure port: the serving certificate and SNI certificates
//! (`--tls-sni-cert-key`), the minimum protocol version (`--tls-min-version`) and the
//! TLS 1.2 cipher suites (`--tls-cipher-suites`) under upstream's (Go's) names, and client
//! certificate verification against one or more CA bundles.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{CipherSuite, SupportedCipherSuite};

use super::serve::ServeError;

/// TLS 1.2 suites rustls offers, by Go's names (the names upstream's flag takes).
const TLS12_SUITES: [(&str, CipherSuite); 8] = [
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

/// TLS 1.3 suites: accepted in the flag, as upstream, but not configurable (all are
/// always offered).
const TLS13_SUITES: [&str; 3] = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// Suites upstream accepts that rustls does not implement (CBC, RC4, 3DES, RSA key
/// exchange).
const UNIMPLEMENTED_SUITES: [&str; 16] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_RC4_128_SHA",
];

/// What this server makes of a `--tls-cipher-suites` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CipherSuiteName {
    /// A TLS 1.2 suite this server can offer.
    Tls12(CipherSuite),
    /// A TLS 1.3 suite: accepted, not configurable.
    Tls13,
    /// A suite upstream knows that this server does not implement.
    Unimplemented,
    /// Not a cipher suite name.
    Unknown,
}

/// Classifies a cipher suite name as upstream spells it.
pub fn cipher_suite(name: &str) -> CipherSuiteName {
    if let Some((_, suite)) = TLS12_SUITES.iter().find(|(n, _)| *n == name) {
        CipherSuiteName::Tls12(*suite)
    } else if TLS13_SUITES.contains(&name) {
        CipherSuiteName::Tls13
    } else if UNIMPLEMENTED_SUITES.contains(&name) {
        CipherSuiteName::Unimplemented
    } else {
        CipherSuiteName::Unknown
    }
}

/// The lowest protocol version served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MinTlsVersion {
    /// TLS 1.2 and 1.3 (upstream's default minimum is also TLS 1.2).
    #[default]
    Tls12,
    Tls13,
}

impl MinTlsVersion {
    /// Upstream's names (`VersionTLS12`, `VersionTLS13`); `None` for any other.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "VersionTLS12" => Some(MinTlsVersion::Tls12),
            "VersionTLS13" => Some(MinTlsVersion::Tls13),
            _ => None,
        }
    }
}

/// A `--tls-sni-cert-key` entry: a certificate and key, served to clients asking for
/// `names` (when empty: the names in the certificate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SniCertKey {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub names: Vec<String>,
}

impl SniCertKey {
    /// Parses `cert,key` optionally followed by `:name,name`.
    pub fn parse(value: &str) -> Option<SniCertKey> {
        let (files, names) = match value.split_once(':') {
            Some((f, n)) => (f, n),
            None => (value, ""),
        };
        let (cert, key) = files.split_once(',')?;
        let (cert, key) = (cert.trim(), key.trim());
        if cert.is_empty() || key.is_empty() || key.contains(',') {
            return None;
        }
        Some(SniCertKey {
            cert_file: PathBuf::from(cert),
            key_file: PathBuf::from(key),
            names: names
                .split(',')
                .map(|n| n.trim().to_ascii_lowercase())
                .filter(|n| !n.is_empty())
                .collect(),
        })
    }
}

/// Everything that shapes the TLS configuration.
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// CA bundles a client certificate may chain to (none: client certificates are not
    /// asked for).
    pub client_ca_files: Vec<PathBuf>,
    pub min_version: MinTlsVersion,
    /// TLS 1.2 suites by upstream's names; empty means rustls' defaults.
    pub cipher_suites: Vec<String>,
    pub sni: Vec<SniCertKey>,
}

fn pem_err(p: &Path, e: rustls::pki_types::pem::Error) -> ServeError {
    ServeError::Pem {
        path: p.display().to_string(),
        reason: e.to_string(),
    }
}

fn load_certified_key(
    cert_file: &Path,
    key_file: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, ServeError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| pem_err(cert_file, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem_err(cert_file, e))?;
    if certs.is_empty() {
        return Err(ServeError::Pem {
            path: cert_file.display().to_string(),
            reason: "no certificate found".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| pem_err(key_file, e))?;
    CertifiedKey::from_der(certs, key, provider).map_err(|e| {
        ServeError::Tls(format!(
            "{} and {}: {e}",
            cert_file.display(),
            key_file.display()
        ))
    })
}

/// The names a certificate is valid for: its DNS names and IP addresses, and its common
/// name when it looks like a host name (as upstream extracts them).
fn certificate_names(cert: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert.as_ref()) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    if let Some(cn) = parsed
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
    {
        if !cn.is_empty() && cn.contains('.') && !cn.contains(' ') {
            names.push(cn.to_ascii_lowercase());
        }
    }
    if let Ok(Some(san)) = parsed.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                x509_parser::extensions::GeneralName::DNSName(d) => {
                    names.push(d.to_ascii_lowercase())
                }
                x509_parser::extensions::GeneralName::IPAddress(ip) => {
                    let ip = match ip.len() {
                        4 => <[u8; 4]>::try_from(*ip)
                            .ok()
                            .map(|b| std::net::IpAddr::from(b).to_string()),
                        16 => <[u8; 16]>::try_from(*ip)
                            .ok()
                            .map(|b| std::net::IpAddr::from(b).to_string()),
                        _ => None,
                    };
                    names.extend(ip);
                }
                _ => {}
            }
        }
    }
    names
}

/// Picks the certificate for the name a client asks for: an exact name, else a wildcard
/// for its first label (`*.example.com`), else the default certificate.
#[derive(Debug)]
struct SniResolver {
    default: Arc<CertifiedKey>,
    by_name: HashMap<String, Arc<CertifiedKey>>,
}

impl SniResolver {
    fn lookup(&self, server_name: Option<&str>) -> Arc<CertifiedKey> {
        let Some(name) = server_name.map(str::to_ascii_lowercase) else {
            return self.default.clone();
        };
        if let Some(k) = self.by_name.get(&name) {
            return k.clone();
        }
        if let Some((_, rest)) = name.split_once('.') {
            if let Some(k) = self.by_name.get(&format!("*.{rest}")) {
                return k.clone();
            }
        }
        self.default.clone()
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.lookup(hello.server_name()))
    }
}

/// A verifier for client certificates chaining to any CA in `ca_files`. Unauthenticated
/// clients are allowed (anonymous and token requests still connect).
pub fn client_verifier(
    ca_files: &[PathBuf],
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, ServeError> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in ca_files {
        for cert in CertificateDer::pem_file_iter(ca).map_err(|e| pem_err(ca, e))? {
            roots
                .add(cert.map_err(|e| pem_err(ca, e))?)
                .map_err(|e| ServeError::Tls(format!("{}: {e}", ca.display())))?;
        }
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .allow_unauthenticated()
        .build()
        .map_err(|e| ServeError::Tls(e.to_string()))
}

/// The crypto provider with the TLS 1.2 suites `names` asks for (all when empty).
fn provider_with_suites(names: &[String]) -> Result<CryptoProvider, ServeError> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    if names.is_empty() {
        return Ok(provider);
    }
    let mut wanted = Vec::new();
    for name in names {
        match cipher_suite(name) {
            CipherSuiteName::Tls12(s) => wanted.push(s),
            CipherSuiteName::Tls13 => {}
            CipherSuiteName::Unimplemented | CipherSuiteName::Unknown => {
                return Err(ServeError::Tls(format!(
                    "cipher suite {name} not supported or doesn't exist"
                )))
            }
        }
    }
    provider
        .cipher_suites
        .retain(|s: &SupportedCipherSuite| match s {
            SupportedCipherSuite::Tls13(_) => true,
            SupportedCipherSuite::Tls12(_) => wanted.contains(&s.suite()),
        });
    Ok(provider)
}

/// Builds the TLS configuration: ALPN h2 + http/1.1, protocol versions from the minimum,
/// the cipher suites, SNI certificates, and client certificates verified against the
/// client CA bundles.
pub fn tls_config(settings: &TlsSettings) -> Result<rustls::ServerConfig, ServeError> {
    let provider = Arc::new(provider_with_suites(&settings.cipher_suites)?);
    let versions: &[&'static rustls::SupportedProtocolVersion] = match settings.min_version {
        MinTlsVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        MinTlsVersion::Tls13 => &[&rustls::version::TLS13],
    };
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    let builder = if settings.client_ca_files.is_empty() {
        builder.with_no_client_auth()
    } else {
        builder.with_client_cert_verifier(client_verifier(
            &settings.client_ca_files,
            provider.clone(),
        )?)
    };
    let default = Arc::new(load_certified_key(
        &settings.cert_file,
        &settings.key_file,
        &provider,
    )?);
    let mut by_name: HashMap<String, Arc<CertifiedKey>> = HashMap::new();
    // Names given explicitly win over names read from certificates; earlier entries win
    // over later ones.
    let mut implicit = Vec::new();
    for sni in &settings.sni {
        let key = Arc::new(load_certified_key(
            &sni.cert_file,
            &sni.key_file,
            &provider,
        )?);
        if sni.names.is_empty() {
            implicit.push(key);
        } else {
            for name in &sni.names {
                by_name.entry(name.clone()).or_insert_with(|| key.clone());
            }
        }
    }
    for key in implicit {
        if let Some(leaf) = key.cert.first() {
            for name in certificate_names(leaf) {
                by_name.entry(name).or_insert_with(|| key.clone());
            }
        }
    }
    let mut config = builder.with_cert_resolver(Arc::new(SniResolver { default, by_name }));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipher_names() {
        assert_eq!(
            cipher_suite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            CipherSuiteName::Tls12(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
        );
        assert_eq!(
            cipher_suite("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"),
            CipherSuiteName::Tls12(CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256)
        );
        assert_eq!(
            cipher_suite("TLS_AES_128_GCM_SHA256"),
            CipherSuiteName::Tls13
        );
        assert_eq!(
            cipher_suite("TLS_RSA_WITH_AES_128_CBC_SHA"),
            CipherSuiteName::Unimplemented
        );
        assert_eq!(cipher_suite("TLS_NOPE"), CipherSuiteName::Unknown);
        let p = provider_with_suites(&["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".into()])
            .expect("provider");
        let tls12: Vec<_> = p
            .cipher_suites
            .iter()
            .filter(|s| matches!(s, SupportedCipherSuite::Tls12(_)))
            .map(|s| s.suite())
            .collect();
        assert_eq!(
            tls12,
            [CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]
        );
    }

    #[test]
    fn sni_entries() {
        assert_eq!(
            SniCertKey::parse("a.crt,a.key:*.Foo.com, foo.com"),
            Some(SniCertKey {
                cert_file: "a.crt".into(),
                key_file: "a.key".into(),
                names: vec!["*.foo.com".into(), "foo.com".into()],
            })
        );
        assert_eq!(
            SniCertKey::parse("a.crt,a.key").map(|s| s.names),
            Some(vec![])
        );
        assert_eq!(SniCertKey::parse("a.crt"), None);
        assert_eq!(SniCertKey::parse("a.crt,b,c"), None);
    }
}

//! "Secure serving flags": upstream's `SecureServingOptions`
//! (staging/src/k8s.io/apiserver/pkg/server/options/serving.go) with the
//! kube-apiserver defaults from pkg/kubeapiserver/options/serving.go:
//! port 6443 (required, cannot be 0), bind 0.0.0.0, pair name "apiserver".
//! Upstream's --cert-dir default is /var/run/kubernetes; ours is
//! `<data-dir>/pki`, resolved in Complete.

use std::net::{IpAddr, Ipv4Addr};

use apiserver::server::tls::{cipher_suite, CipherSuiteName, MinTlsVersion, SniCertKey};

use super::auth::check_file;
use super::flags::{FlagSpec, RawArgs, Section};

pub const DEFAULT_SECURE_PORT: i64 = 6443;

pub const TLS_VERSIONS: [&str; 4] = [
    "VersionTLS10",
    "VersionTLS11",
    "VersionTLS12",
    "VersionTLS13",
];

#[derive(Clone, Debug, PartialEq)]
pub struct SecureServingFlags {
    pub bind_address: IpAddr,
    /// Kept wide so out-of-range values can be reported by validation.
    pub secure_port: i64,
    /// `None` = `<data-dir>/pki`.
    pub cert_dir: Option<String>,
    pub tls_cert_file: Option<String>,
    pub tls_private_key_file: Option<String>,
    pub tls_cipher_suites: Vec<String>,
    pub tls_min_version: String,
    pub tls_sni_cert_key: Vec<String>,
    pub http2_max_streams_per_connection: i64,
    pub permit_port_sharing: bool,
    pub permit_address_sharing: bool,
}

impl Default for SecureServingFlags {
    fn default() -> Self {
        SecureServingFlags {
            bind_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            secure_port: DEFAULT_SECURE_PORT,
            cert_dir: None,
            tls_cert_file: None,
            tls_private_key_file: None,
            tls_cipher_suites: Vec::new(),
            tls_min_version: String::new(),
            tls_sni_cert_key: Vec::new(),
            http2_max_streams_per_connection: 0,
            permit_port_sharing: false,
            permit_address_sharing: false,
        }
    }
}

pub(crate) fn specs() -> Vec<FlagSpec> {
    let s = Section::SecureServing;
    vec![
        FlagSpec::value(
            s,
            "bind-address",
            "ip",
            "0.0.0.0",
            "IP address to listen on for --secure-port. Its interface(s) must be reachable by the \
             rest of the cluster and by CLI/web clients. An unspecified address (0.0.0.0 or ::) \
             listens on all interfaces.",
        ),
        FlagSpec::value(
            s,
            "cert-dir",
            "string",
            "",
            "Directory holding the TLS certificates; ignored when --tls-cert-file and \
             --tls-private-key-file are given. Defaults to <data-dir>/pki (upstream: \
             /var/run/kubernetes).",
        ),
        FlagSpec::value(
            s,
            "http2-max-streams-per-connection",
            "int",
            "",
            "Maximum number of concurrent streams the server allows per HTTP/2 connection; 0 uses \
             the library default.",
        ),
        FlagSpec::boolean(
            s,
            "permit-address-sharing",
            false,
            "Use SO_REUSEADDR when binding, so the address can be bound again while old \
             connections are in TIME_WAIT.",
        ),
        FlagSpec::boolean(
            s,
            "permit-port-sharing",
            false,
            "Use SO_REUSEPORT when binding, so several instances can bind the same address and \
             port.",
        ),
        FlagSpec::value(
            s,
            "secure-port",
            "int",
            "6443",
            "Port serving HTTPS with authentication and authorization. It cannot be switched off \
             with 0.",
        ),
        FlagSpec::value(
            s,
            "tls-cert-file",
            "string",
            "",
            "File with the default x509 certificate for HTTPS (with any CA certificates appended \
             after the server certificate). When neither this nor --tls-private-key-file is given, \
             a CA and a serving certificate are generated in --cert-dir.",
        ),
        FlagSpec::value(
            s,
            "tls-cipher-suites",
            "strings",
            "",
            "Comma-separated list of TLS 1.2 cipher suites for the server, by upstream's names \
             (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, \
             ..._CHACHA20_POLY1305_SHA256); the ECDHE AES-GCM and ChaCha20-Poly1305 suites are \
             supported, others make start-up fail. TLS 1.3 suites are accepted but not \
             configurable (all are offered), as upstream. Empty: all supported suites.",
        ),
        FlagSpec::value(
            s,
            "tls-min-version",
            "string",
            "",
            "Minimum TLS version supported: VersionTLS12 (the default) or VersionTLS13. \
             VersionTLS10 and VersionTLS11 are upstream's values too, but this server serves \
             TLS 1.2 and 1.3 only, so they make start-up fail.",
        ),
        FlagSpec::value(
            s,
            "tls-private-key-file",
            "string",
            "",
            "File with the default x509 private key matching --tls-cert-file.",
        ),
        FlagSpec::value(
            s,
            "tls-sni-cert-key",
            "namedCertKey",
            "",
            "A certificate and key file pair, optionally followed by domain patterns, e.g. \
             \"example.crt,example.key\" or \"foo.crt,foo.key:*.foo.com,foo.com\". Repeat the flag \
             for several pairs. Without patterns, the certificate's own names are used. A client \
             asking (by SNI) for a matching name gets that certificate; others get \
             --tls-cert-file's.",
        ),
    ]
}

impl SecureServingFlags {
    pub(crate) fn apply(&mut self, raw: &RawArgs, errs: &mut Vec<String>) {
        let mut bind = Some(self.bind_address);
        raw.ip("bind-address", &mut bind, errs);
        if let Some(b) = bind {
            self.bind_address = b;
        }
        raw.opt_string("cert-dir", &mut self.cert_dir);
        raw.int(
            "http2-max-streams-per-connection",
            &mut self.http2_max_streams_per_connection,
            errs,
        );
        raw.bool(
            "permit-address-sharing",
            &mut self.permit_address_sharing,
            errs,
        );
        raw.bool("permit-port-sharing", &mut self.permit_port_sharing, errs);
        raw.int("secure-port", &mut self.secure_port, errs);
        raw.opt_string("tls-cert-file", &mut self.tls_cert_file);
        raw.list("tls-cipher-suites", &mut self.tls_cipher_suites);
        raw.string("tls-min-version", &mut self.tls_min_version);
        raw.opt_string("tls-private-key-file", &mut self.tls_private_key_file);
        raw.array("tls-sni-cert-key", &mut self.tls_sni_cert_key);
    }

    /// Upstream `SecureServingOptions.Validate` with `Required: true`, plus
    /// the cert/key pairing rule and basic SNI / TLS version checks.
    pub(crate) fn validate(&self, errs: &mut Vec<String>) {
        if !(1..=65535).contains(&self.secure_port) {
            errs.push(format!(
                "--secure-port {} must be between 1 and 65535, inclusive. It cannot be turned off \
                 with 0",
                self.secure_port
            ));
        }
        if self.bind_address.is_multicast() {
            errs.push(format!(
                "--bind-address {} must not be a multicast address",
                self.bind_address
            ));
        }
        if self.tls_cert_file.is_some() != self.tls_private_key_file.is_some() {
            errs.push(
                "--tls-cert-file and --tls-private-key-file must be specified together".into(),
            );
        }
        let min = self.tls_min_version.as_str();
        if !min.is_empty() && !TLS_VERSIONS.contains(&min) {
            errs.push(format!(
                "--tls-min-version {min:?} is not supported; possible values: {}",
                TLS_VERSIONS.join(", ")
            ));
        } else if !min.is_empty() && MinTlsVersion::from_name(min).is_none() {
            errs.push(format!(
                "--tls-min-version {min} is not supported yet: this server serves TLS 1.2 and \
                 1.3 only (VersionTLS12, VersionTLS13)"
            ));
        }
        for name in &self.tls_cipher_suites {
            match cipher_suite(name) {
                CipherSuiteName::Tls12(_) | CipherSuiteName::Tls13 => {}
                CipherSuiteName::Unimplemented => errs.push(format!(
                    "--tls-cipher-suites {name} is not supported yet: this server offers only \
                     ECDHE suites with AES-GCM or ChaCha20-Poly1305"
                )),
                CipherSuiteName::Unknown => errs.push(format!(
                    "--tls-cipher-suites: cipher suite {name} not supported or doesn't exist"
                )),
            }
        }
        for sni in &self.tls_sni_cert_key {
            match SniCertKey::parse(sni) {
                None => errs.push(format!(
                    "--tls-sni-cert-key {sni:?}: expected \"cert,key\" optionally followed by \
                     \":domain,domain\""
                )),
                Some(entry) => {
                    for f in [&entry.cert_file, &entry.key_file] {
                        check_file(errs, "--tls-sni-cert-key", f.to_str());
                    }
                }
            }
        }
        if self.http2_max_streams_per_connection < 0 {
            errs.push("--http2-max-streams-per-connection can not be negative value".into());
        }
    }
}

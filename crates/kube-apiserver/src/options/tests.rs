//! End-to-end tests of parsing, validation and completion.

use std::collections::BTreeMap;
use std::fs;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::*;

fn parse(args: &[&str]) -> ServerRunOptions {
    ServerRunOptions::parse_args(std::iter::once("kube-apiserver").chain(args.iter().copied()))
}

fn errors_of(args: &[&str]) -> Vec<String> {
    match parse_and_validate(std::iter::once("kube-apiserver").chain(args.iter().copied())) {
        Err(OptionsError::Invalid(errs)) => errs,
        Err(other) => panic!("expected Invalid, got {other:?}"),
        Ok(_) => panic!("expected errors for {args:?}"),
    }
}

fn ok(args: &[&str]) -> ServerRunOptions {
    match parse_and_validate(std::iter::once("kube-apiserver").chain(args.iter().copied())) {
        Ok(o) => o,
        Err(e) => panic!("unexpected error for {args:?}: {e}"),
    }
}

fn has(errs: &[String], needle: &str) -> bool {
    errs.iter().any(|e| e.contains(needle))
}

#[test]
fn defaults_match_upstream() {
    let o = ok(&[]);
    assert_eq!(o, ServerRunOptions::default());
    assert_eq!(o.secure_serving.secure_port, 6443);
    assert_eq!(
        o.secure_serving.bind_address,
        "0.0.0.0".parse::<IpAddr>().unwrap()
    );
    assert_eq!(o.generic.advertise_address, None);
    assert_eq!(o.generic.request_timeout.to_string(), "1m0s");
    assert_eq!(o.generic.min_request_timeout, 1800);
    assert_eq!(o.generic.max_requests_inflight, 400);
    assert_eq!(o.generic.max_mutating_requests_inflight, 200);
    assert_eq!(o.generic.shutdown_delay_duration.to_string(), "0s");
    assert!(!o.generic.shutdown_send_retry_after);
    assert!(o.etcd.servers.is_empty());
    assert_eq!(o.etcd.prefix, "/registry");
    assert_eq!(o.etcd.compaction_interval.to_string(), "5m0s");
    assert_eq!(o.etcd.storage_backend, "");
    assert!(o.etcd.watch_cache);
    assert_eq!(o.etcd.default_watch_cache_size, 100);
    assert!(o.authentication.anonymous_auth);
    assert_eq!(o.authorization.effective_modes(), vec!["RBAC".to_string()]);
    assert_eq!(
        o.etcd.storage_media_type,
        "application/vnd.kubernetes.protobuf"
    );
    assert_eq!(o.logs.verbosity, 0);
    assert_eq!(
        o.misc.service_cidrs().unwrap(),
        vec![IpNet::parse("10.0.0.0/24").unwrap()]
    );
    assert!(o.api_enablement.runtime_config.is_empty());
    // Program name handling: with or without argv[0].
    assert_eq!(
        ServerRunOptions::parse_args(["--secure-port=1"])
            .secure_serving
            .secure_port,
        1
    );
    assert_eq!(
        ServerRunOptions::parse_args(["kube-apiserver", "--secure-port=2"])
            .secure_serving
            .secure_port,
        2
    );
}

#[test]
fn help_lists_sections_and_defaults() {
    let text = match parse_and_validate(["kube-apiserver", "--help"]) {
        Err(e @ OptionsError::Help(_)) => {
            assert_eq!(e.exit_code(), 0);
            e.to_string()
        }
        other => panic!("{other:?}"),
    };
    let mut last = 0;
    for heading in [
        "Generic flags:",
        "Etcd flags:",
        "Secure serving flags:",
        "Auditing flags:",
        "Features flags:",
        "Authentication flags:",
        "Authorization flags:",
        "API enablement flags:",
        "Admission flags:",
        "Logs flags:",
        "Misc flags:",
        "Embedded store flags:",
        "Global flags:",
    ] {
        let at = text
            .find(heading)
            .unwrap_or_else(|| panic!("missing {heading}"));
        assert!(at > last, "{heading} out of order");
        last = at;
    }
    for needle in [
        "--secure-port int",
        "(default 6443)",
        "--request-timeout duration",
        "(default 1m0s)",
        "--etcd-prefix string",
        "(default \"/registry\")",
        "--etcd-compaction-interval duration",
        "(default 5m0s)",
        "--runtime-config mapStringString",
        "  -v, --v Level",
        "  -h, --help",
        "--version version[=true]",
        "--data-dir string",
        "--bind-address ip",
        "(default 0.0.0.0)",
    ] {
        assert!(text.contains(needle), "help lacks {needle:?}");
    }
    // -h works too, even next to bad flags.
    assert!(matches!(
        parse_and_validate(["kube-apiserver", "--nope", "-h"]),
        Err(OptionsError::Help(_))
    ));
}

#[test]
fn version_flag() {
    match parse_and_validate(["kube-apiserver", "--version"]) {
        Err(e @ OptionsError::Version(_)) => {
            assert_eq!(e.to_string(), "Kubernetes v1.36.0\n");
            assert_eq!(e.exit_code(), 0);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_and_validate(["kube-apiserver", "--version=true"]),
        Err(OptionsError::Version(_))
    ));
    match parse_and_validate(["kube-apiserver", "--version=raw"]) {
        Err(OptionsError::Version(t)) => assert!(t.contains("GitVersion:\"v1.36.0\"")),
        other => panic!("{other:?}"),
    }
    assert!(ok(&["--version=false"]).version_text().is_none());
    let o = ok(&["--version=v1.36.5"]);
    assert_eq!(o.reported_version(), "v1.36.5");
    assert!(o.version_text().is_none());
    assert!(has(&errors_of(&["--version=banana"]), "--version"));
}

#[test]
fn go_duration_flags() {
    let o = ok(&[
        "--request-timeout=90s",
        "--shutdown-delay-duration",
        "1m30s",
        "--etcd-compaction-interval=300ms",
        "--event-ttl=2h",
        "--livez-grace-period=0",
    ]);
    assert_eq!(
        o.generic.request_timeout.to_std(),
        Some(Duration::from_secs(90))
    );
    assert_eq!(
        o.generic.shutdown_delay_duration.to_std(),
        Some(Duration::from_secs(90))
    );
    assert_eq!(
        o.etcd.compaction_interval.to_std(),
        Some(Duration::from_millis(300))
    );
    assert_eq!(o.misc.event_ttl.to_std(), Some(Duration::from_secs(7200)));
    let errs = errors_of(&["--request-timeout=5x", "--shutdown-delay-duration=-1s"]);
    assert!(
        has(
            &errs,
            "invalid argument \"5x\" for \"--request-timeout\" flag"
        ),
        "{errs:?}"
    );
    assert!(
        has(&errs, "--shutdown-delay-duration can not be negative value"),
        "{errs:?}"
    );
    assert!(has(
        &errors_of(&["--request-timeout=0s"]),
        "--request-timeout must be greater than 0"
    ));
}

#[test]
fn underscore_normalisation() {
    let o = ok(&[
        "--secure_port=7443",
        "--max_requests_inflight",
        "10",
        "--etcd_servers=http://127.0.0.1:2379",
        "--watch_cache=false",
        "--runtime_config=api/all_x=true,apps/v1=false",
    ]);
    assert_eq!(o.secure_serving.secure_port, 7443);
    assert_eq!(o.generic.max_requests_inflight, 10);
    assert_eq!(o.etcd.servers, vec!["http://127.0.0.1:2379".to_string()]);
    assert!(!o.etcd.watch_cache);
    // Only the name part is normalised.
    assert!(o.api_enablement.runtime_config.contains_key("api/all_x"));
}

#[test]
fn list_flags_split_and_append() {
    let o = ok(&[
        "--etcd-servers=http://a:2379,http://b:2379",
        "--etcd-servers=http://c:2379",
        "--authorization-mode=Node,RBAC",
        "--service-account-issuer=https://one",
        "--service-account-issuer=https://two",
    ]);
    assert_eq!(
        o.etcd.servers,
        ["http://a:2379", "http://b:2379", "http://c:2379"]
    );
    assert_eq!(o.authorization.effective_modes(), ["Node", "RBAC"]);
    assert_eq!(
        o.authentication.service_account_issuer,
        ["https://one", "https://two"]
    );
}

#[test]
fn bool_flags_go_style() {
    let o = ok(&[
        "--anonymous-auth=false",
        "--shutdown-send-retry-after",
        "--watch-cache=F",
        "--profiling=0",
        "--enable-priority-and-fairness=True",
    ]);
    assert!(!o.authentication.anonymous_auth);
    assert!(o.generic.shutdown_send_retry_after);
    assert!(!o.etcd.watch_cache);
    assert!(!o.features.profiling);
    assert!(o.features.enable_priority_and_fairness);
    let errs = errors_of(&["--watch-cache=maybe"]);
    assert!(
        has(
            &errs,
            "invalid argument \"maybe\" for \"--watch-cache\" flag"
        ),
        "{errs:?}"
    );
    // `--flag false` is a flag plus a stray argument, as in pflag.
    assert!(has(
        &errors_of(&["--anonymous-auth", "false"]),
        "does not take any arguments"
    ));
}

#[test]
fn runtime_config_parsing() {
    let o = ok(&[
        "--enable-priority-and-fairness=false",
        "--runtime-config=api/all=false,apps/v1=true",
        "--runtime-config",
        "batch/v1=false, v1=true,storage.k8s.io/v1beta1/csistoragecapacities",
    ]);
    let rc = &o.api_enablement.runtime_config;
    assert_eq!(rc.get("api/all").map(String::as_str), Some("false"));
    assert_eq!(rc.get("apps/v1").map(String::as_str), Some("true"));
    assert_eq!(rc.get("batch/v1").map(String::as_str), Some("false"));
    assert_eq!(rc.get("v1").map(String::as_str), Some("true"));
    assert_eq!(
        rc.get("storage.k8s.io/v1beta1/csistoragecapacities")
            .map(String::as_str),
        Some("")
    );
    let norm = api_enablement::normalize_runtime_config(rc);
    assert_eq!(norm.get("/v1").map(String::as_str), Some("true"));
    assert!(!norm.contains_key("v1"));

    let errs = errors_of(&[
        "--runtime-config=api/all=maybe,apps/v1=nope,a/b/c/d=true,apps/v1/Deployments=true",
    ]);
    assert!(has(&errs, "invalid value api/all=maybe"), "{errs:?}");
    assert!(has(&errs, "invalid value of apps/v1: nope"), "{errs:?}");
    assert!(has(&errs, "runtime-config invalid key a/b/c/d"), "{errs:?}");
    assert!(has(&errs, "always lowercase plural"), "{errs:?}");
    assert!(has(
        &errors_of(&["--runtime-config=api/all=false"]),
        "only api/all=false"
    ));
    assert!(has(
        &errors_of(&["--runtime-config=api/all=false,apps/v1=true"]),
        "conflicts with --enable-priority-and-fairness=true"
    ));
    ok(&[
        "--runtime-config=api/all=false,apps/v1=true",
        "--enable-priority-and-fairness=false",
    ]);
}

#[test]
fn many_invalid_flags_reported_together() {
    let errs = errors_of(&[
        "--secure-port=abc",
        "--request-timeout=5x",
        "--bind-address=nope",
        "--storage-backend=etcd2",
        "--service-cluster-ip-range=10.0.0.0/30",
        "--authorization-mode=Foo",
        "--watch-cache-sizes=pods",
        "--max-requests-inflight=-1",
        "--etcd-servers=localhost:2379",
        "--tls-cert-file=/nonexistent/cert.pem",
        "--enable-admission-plugins=Bogus",
        "--unknown-thing=1",
        "-v=loud",
    ]);
    for needle in [
        "invalid argument \"abc\" for \"--secure-port\" flag",
        "invalid argument \"5x\" for \"--request-timeout\" flag",
        "invalid argument \"nope\" for \"--bind-address\" flag",
        "--storage-backend invalid",
        "must be at least 8 IP addresses",
        "authorization-mode \"Foo\" is not a valid mode",
        "invalid value of watch cache size: pods",
        "--max-requests-inflight can not be negative value",
        "--etcd-servers \"localhost:2379\" is not a valid URL",
        "--tls-cert-file and --tls-private-key-file must be specified together",
        "--tls-cert-file \"/nonexistent/cert.pem\" cannot be read",
        "enable-admission-plugins plugin \"Bogus\" is unknown",
        "unknown flag: --unknown-thing",
        "invalid argument \"loud\" for \"-v, --v\" flag",
    ] {
        assert!(has(&errs, needle), "missing {needle:?} in {errs:#?}");
    }
    let err = OptionsError::Invalid(errs);
    assert_eq!(err.exit_code(), 1);
    assert!(err.to_string().lines().all(|l| l.starts_with("Error: ")));
}

#[test]
fn unknown_flag_message() {
    let errs = errors_of(&["--definitely-not-a-flag"]);
    assert_eq!(errs, ["unknown flag: --definitely-not-a-flag"]);
    let errs = errors_of(&["--a", "--b=1", "-z"]);
    assert!(has(&errs, "unknown flag: --a"));
    assert!(has(&errs, "unknown flag: --b"));
    assert!(has(&errs, "unknown shorthand flag: 'z' in -z"));
    assert!(has(
        &errors_of(&["positional"]),
        "does not take any arguments"
    ));
    assert!(has(
        &errors_of(&["--etcd-prefix"]),
        "flag needs an argument: --etcd-prefix"
    ));
}

#[test]
fn port_and_address_validation() {
    assert!(has(
        &errors_of(&["--secure-port=0"]),
        "It cannot be turned off with 0"
    ));
    assert!(has(
        &errors_of(&["--secure-port=65536"]),
        "must be between 1 and 65535"
    ));
    ok(&[
        "--secure-port=1",
        "--bind-address=::",
        "--advertise-address=10.1.2.3",
    ]);
    let errs = errors_of(&["--advertise-address=fd00::1"]);
    assert!(has(&errs, "must match public address family"), "{errs:?}");
    ok(&[
        "--advertise-address=fd00::1",
        "--service-cluster-ip-range=fd00:10:96::/112",
    ]);
}

#[test]
fn service_cidr_rules() {
    ok(&["--service-cluster-ip-range=10.96.0.0/12"]);
    // 1.36 default gates: no upper size limit (MultiCIDRServiceAllocator).
    ok(&["--service-cluster-ip-range=10.0.0.0/8"]);
    ok(&["--service-cluster-ip-range=10.96.0.0/16,fd00:10:96::/108"]);
    ok(&["--service-cluster-ip-range=10.0.0.0/29"]);
    let errs = errors_of(&["--service-cluster-ip-range=10.0.0.0/16,10.1.0.0/16"]);
    assert!(has(&errs, "must be of different IP family"));
    let errs = errors_of(&["--service-cluster-ip-range=10.0.0.0/16,fd00::/108,fd01::/108"]);
    assert!(has(&errs, "must not contain more than two entries"));
    let errs = errors_of(&["--service-cluster-ip-range=banana"]);
    assert!(has(&errs, "is not a valid cidr"));
}

#[test]
fn misc_validation() {
    let errs = errors_of(&[
        "--kubernetes-service-node-port=80",
        "--apiserver-count=0",
        "--endpoint-reconciler-type=magic",
        "--etcd-prefix=",
        "--etcd-certfile=/x",
        "--authorization-mode=RBAC,RBAC",
        "--authorization-mode=ABAC",
        "--goaway-chance=0.5",
        "--enable-admission-plugins=PodSecurity",
        "--disable-admission-plugins=PodSecurity",
        "--service-node-port-range=200-100",
        "--strict-transport-security-directives=max-age",
    ]);
    for needle in [
        "--apiserver-count should be a positive number",
        "--endpoint-reconciler-type \"magic\" is invalid",
        "--etcd-prefix must not be empty",
        "--etcd-certfile and --etcd-keyfile must be specified together",
        "has mode specified more than once",
        "ABAC's authorization policy file not passed",
        "--goaway-chance can not be less than 0 or greater than 0.02",
        "overlapped",
        "end port cannot be less than start port",
        "--strict-transport-security-directives invalid",
    ] {
        assert!(has(&errs, needle), "missing {needle:?} in {errs:#?}");
    }
    let errs = errors_of(&["--kubernetes-service-node-port=80"]);
    assert!(has(&errs, "doesn't contain 80"), "{errs:?}");
    assert!(has(
        &errors_of(&["--authorization-config=/tmp/x", "--authorization-mode=RBAC"]),
        "--authorization-config can not be specified"
    ));
}

#[test]
fn compat_flags_are_accepted_and_reported() {
    let o = ok(&[
        "--audit-log-path=/var/log/audit.log",
        "--audit-log-compress",
        "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
        "--enable-logs-handler=false",
        "--apiserver-count=1",
    ]);
    assert!(o.ignored_flags.contains(&(
        "audit-log-path".to_string(),
        "/var/log/audit.log".to_string()
    )));
    assert!(o
        .ignored_flags
        .contains(&("audit-log-compress".to_string(), "true".to_string())));
    // apiserver-count tunes only the master-count endpoint reconciler.
    assert_eq!(o.ignored_flags.len(), 5);
    let counted = ok(&[
        "--endpoint-reconciler-type=master-count",
        "--apiserver-count=3",
    ]);
    assert!(
        counted.ignored_flags.is_empty(),
        "{:?}",
        counted.ignored_flags
    );
    let names: std::collections::BTreeSet<&str> = all_specs().iter().map(|s| s.name).collect();
    for name in super::compat::NOT_ACTED_ON {
        assert!(names.contains(name), "{name} is not a flag");
    }
    assert!(o
        .warnings
        .iter()
        .any(|w| w.contains("--enable-logs-handler has been deprecated")));
    assert!(o
        .warnings
        .iter()
        .any(|w| w.contains("--apiserver-count has been deprecated")));
}

// ------------------------------------------------------------ Complete

fn pem_cert(path: &Path) -> Vec<u8> {
    let data = fs::read(path).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&data).unwrap();
    pem.contents
}

struct Parsed {
    cn: Vec<String>,
    org: Vec<String>,
    dns: Vec<String>,
    ips: Vec<IpAddr>,
    issuer: Vec<u8>,
    subject: Vec<u8>,
    is_ca: bool,
}

fn inspect(der: &[u8]) -> Parsed {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(der).unwrap();
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for gn in &san.value.general_names {
            match gn {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(b) => ips.push(match b.len() {
                    4 => IpAddr::from(<[u8; 4]>::try_from(*b).unwrap()),
                    _ => IpAddr::from(<[u8; 16]>::try_from(*b).unwrap()),
                }),
                _ => {}
            }
        }
    }
    Parsed {
        cn: cert
            .subject()
            .iter_common_name()
            .map(|c| c.as_str().unwrap().to_string())
            .collect(),
        org: cert
            .subject()
            .iter_organization()
            .map(|c| c.as_str().unwrap().to_string())
            .collect(),
        dns,
        ips,
        issuer: cert.issuer().as_raw().to_vec(),
        subject: cert.subject().as_raw().to_vec(),
        is_ca: cert.is_ca(),
    }
}

/// Check the serving certificate chains to the CA for `name` with rustls.
fn verify_server(ca_der: &[u8], leaf_der: &[u8], name: &str) -> Result<(), String> {
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca_der.to_vec()))
        .map_err(|e| e.to_string())?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| e.to_string())?;
    verifier
        .verify_server_cert(
            &CertificateDer::from(leaf_der.to_vec()),
            &[],
            &ServerName::try_from(name.to_string()).map_err(|e| e.to_string())?,
            &[],
            UnixTime::now(),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Check the admin certificate is accepted as a client certificate.
fn verify_client(ca_der: &[u8], leaf_der: &[u8]) -> Result<(), String> {
    use rustls::pki_types::{CertificateDer, UnixTime};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca_der.to_vec()))
        .map_err(|e| e.to_string())?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| e.to_string())?;
    verifier
        .verify_client_cert(
            &CertificateDer::from(leaf_der.to_vec()),
            &[],
            UnixTime::now(),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn base_args(dir: &Path) -> Vec<String> {
    vec![
        "kube-apiserver".into(),
        format!("--data-dir={}", dir.display()),
        "--advertise-address=192.0.2.10".into(),
        "--service-cluster-ip-range=10.96.0.0/16".into(),
        "--secure-port=16443".into(),
    ]
}

fn run_complete(args: Vec<String>) -> CompletedOptions {
    let opts = parse_and_validate(args).unwrap_or_else(|e| panic!("{e}"));
    complete(opts).unwrap_or_else(|e| panic!("{e}"))
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn complete_generates_pki_and_kubeconfig() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let c = run_complete(base_args(&dir));

    assert_eq!(c.secure_port, 16443);
    assert_eq!(c.bind_address, "0.0.0.0".parse::<IpAddr>().unwrap());
    assert_eq!(c.advertise_address, "192.0.2.10".parse::<IpAddr>().unwrap());
    assert_eq!(c.external_host, "192.0.2.10");
    assert_eq!(c.first_service_ip, "10.96.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(c.service_cluster_ip_range.to_string(), "10.96.0.0/16");
    assert_eq!(c.data_dir, dir);
    assert_eq!(c.cert_dir, dir.join("pki"));
    assert_eq!(c.tls_cert_file, dir.join("pki/apiserver.crt"));
    assert_eq!(c.tls_key_file, dir.join("pki/apiserver.key"));
    assert_eq!(c.client_ca_file, Some(dir.join("pki/ca.crt")));
    assert_eq!(c.request_timeout, Duration::from_secs(60));
    assert_eq!(c.min_request_timeout, Duration::from_secs(1800));
    assert_eq!(c.max_requests_inflight, 400);
    assert_eq!(c.max_mutating_requests_inflight, 200);
    assert_eq!(c.etcd.prefix, "/registry");
    assert_eq!(c.etcd.compaction_interval, Duration::from_secs(300));
    assert!(c.etcd.use_embedded_store());
    assert_eq!(c.authorization_modes, ["RBAC"]);
    assert!(!c.authorization_mode_explicit);
    assert_eq!(
        c.service_account_issuers,
        ["https://kubernetes.default.svc.cluster.local"]
    );
    assert_eq!(c.api_audiences, c.service_account_issuers);
    assert_eq!(c.service_account_signing_key_file, dir.join("pki/sa.key"));
    assert_eq!(c.service_account_key_files, [dir.join("pki/sa.pub")]);
    assert_eq!(
        c.watch_cache_sizes,
        BTreeMap::from([
            ("events".to_string(), 0),
            ("events.events.k8s.io".to_string(), 0)
        ])
    );
    assert_eq!(c.reported_version, "v1.36.0");
    assert!(c
        .enabled_admission_plugins
        .contains(&"NamespaceLifecycle".to_string()));

    // Files and modes.
    let pki = dir.join("pki");
    for key in ["ca.key", "apiserver.key", "admin.key", "sa.key"] {
        assert_eq!(mode(&pki.join(key)), 0o600, "{key}");
    }
    assert_eq!(mode(&dir.join("admin.kubeconfig")), 0o600);
    assert_eq!(mode(&dir), 0o700);

    // CA.
    let ca_der = pem_cert(&pki.join("ca.crt"));
    let ca = inspect(&ca_der);
    assert!(ca.is_ca);
    assert_eq!(ca.issuer, ca.subject);

    // Serving certificate SANs.
    let serving_der = pem_cert(&pki.join("apiserver.crt"));
    let s = inspect(&serving_der);
    assert_eq!(s.issuer, ca.subject);
    assert!(!s.is_ca);
    for dns in [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "localhost",
    ] {
        assert!(
            s.dns.contains(&dns.to_string()),
            "missing DNS SAN {dns}: {:?}",
            s.dns
        );
    }
    for ip in ["10.96.0.1", "192.0.2.10", "127.0.0.1"] {
        assert!(
            s.ips.contains(&ip.parse().unwrap()),
            "missing IP SAN {ip}: {:?}",
            s.ips
        );
    }
    verify_server(&ca_der, &serving_der, "kubernetes.default.svc").unwrap();
    verify_server(&ca_der, &serving_der, "127.0.0.1").unwrap();
    verify_server(&ca_der, &serving_der, "10.96.0.1").unwrap();
    assert!(verify_server(&ca_der, &serving_der, "example.com").is_err());

    // Admin certificate.
    let admin_der = pem_cert(&pki.join("admin.crt"));
    let a = inspect(&admin_der);
    assert_eq!(a.cn, ["kubernetes-admin"]);
    assert_eq!(a.org, ["system:masters"]);
    assert_eq!(a.issuer, ca.subject);
    verify_client(&ca_der, &admin_der).unwrap();
    assert_eq!(c.pki.admin_cert, Some(pki.join("admin.crt")));

    // Kubeconfig.
    let kc_path = c.admin_kubeconfig.clone().unwrap();
    assert_eq!(kc_path, dir.join("admin.kubeconfig"));
    let kc = fs::read_to_string(&kc_path).unwrap();
    assert!(kc.contains("server: https://127.0.0.1:16443\n"), "{kc}");
    assert!(kc.contains("current-context: kubernetes-admin@kube-apiserver\n"));
    assert!(kc.contains("kind: Config\n"));
    let field = |name: &str| -> Vec<u8> {
        let line = kc
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name}"));
        let b64 = line.split_once(": ").unwrap().1;
        pki::base64_decode(b64).unwrap()
    };
    assert_eq!(
        field("certificate-authority-data"),
        fs::read(pki.join("ca.crt")).unwrap()
    );
    assert_eq!(
        field("client-certificate-data"),
        fs::read(pki.join("admin.crt")).unwrap()
    );
    assert_eq!(
        field("client-key-data"),
        fs::read(pki.join("admin.key")).unwrap()
    );
}

#[test]
fn second_complete_reuses_ca_and_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let pki = dir.join("pki");
    run_complete(base_args(&dir));
    let read = |n: &str| fs::read(pki.join(n)).unwrap();
    let (ca, ca_key, serving, serving_key, admin, sa) = (
        read("ca.crt"),
        read("ca.key"),
        read("apiserver.crt"),
        read("apiserver.key"),
        read("admin.crt"),
        read("sa.key"),
    );

    // Same flags: nothing is regenerated.
    let c2 = run_complete(base_args(&dir));
    assert!(c2.pki.regenerated.is_empty(), "{:?}", c2.pki.regenerated);
    assert_eq!(read("ca.crt"), ca);
    assert_eq!(read("ca.key"), ca_key);
    assert_eq!(read("apiserver.crt"), serving);
    assert_eq!(read("admin.crt"), admin);
    assert_eq!(read("sa.key"), sa);

    // New SANs (external hostname, port change): the serving certificate is
    // re-issued with the same key and CA; the kubeconfig follows the port.
    let mut args = base_args(&dir);
    args.push("--external-hostname=api.example.test".into());
    args.push("--secure-port=16444".into());
    let c3 = run_complete(args);
    assert_eq!(c3.pki.regenerated, [pki.join("apiserver.crt")]);
    assert_eq!(read("ca.crt"), ca);
    assert_eq!(read("ca.key"), ca_key);
    assert_eq!(read("apiserver.key"), serving_key);
    assert_ne!(read("apiserver.crt"), serving);
    assert_eq!(read("admin.crt"), admin);
    let s = inspect(&pem_cert(&pki.join("apiserver.crt")));
    assert!(s.dns.contains(&"api.example.test".to_string()));
    verify_server(
        &pem_cert(&pki.join("ca.crt")),
        &pem_cert(&pki.join("apiserver.crt")),
        "api.example.test",
    )
    .unwrap();
    let kc = fs::read_to_string(dir.join("admin.kubeconfig")).unwrap();
    assert!(kc.contains("server: https://127.0.0.1:16444\n"));
    assert_eq!(c3.external_host, "api.example.test");

    // A deleted serving certificate comes back, signed by the same CA.
    fs::remove_file(pki.join("apiserver.crt")).unwrap();
    run_complete(base_args(&dir));
    assert_eq!(read("ca.crt"), ca);
    let s = inspect(&pem_cert(&pki.join("apiserver.crt")));
    assert_eq!(s.issuer, inspect(&pem_cert(&pki.join("ca.crt"))).subject);

    // A CA without its key is an error, not silently replaced.
    fs::remove_file(pki.join("ca.key")).unwrap();
    let opts = parse_and_validate(base_args(&dir)).unwrap();
    match complete(opts) {
        Err(OptionsError::Pki(msg)) => assert!(msg.contains("ca.key"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn complete_with_user_certificates() {
    let tmp = tempfile::tempdir().unwrap();
    // First generate a PKI to have some files to hand in.
    let first = tmp.path().join("first");
    run_complete(base_args(&first));
    let pki = first.join("pki");
    let second = tmp.path().join("second");
    let mut args = base_args(&second);
    args.push(format!(
        "--tls-cert-file={}",
        pki.join("apiserver.crt").display()
    ));
    args.push(format!(
        "--tls-private-key-file={}",
        pki.join("apiserver.key").display()
    ));
    args.push(format!("--client-ca-file={}", pki.join("ca.crt").display()));
    args.push(format!(
        "--service-account-signing-key-file={}",
        pki.join("sa.key").display()
    ));
    args.push("--service-account-issuer=https://issuer.example".into());
    args.push("--bind-address=127.0.0.1".into());
    args.push("--advertise-address=192.0.2.11".into());
    args.push("--authorization-mode=AlwaysAllow".into());
    let c = run_complete(args);
    assert!(c.authorization_mode_explicit);
    assert_eq!(c.authorization_modes, ["AlwaysAllow"]);
    assert_eq!(c.tls_cert_file, pki.join("apiserver.crt"));
    assert_eq!(c.client_ca_file, Some(pki.join("ca.crt")));
    assert_eq!(c.admin_kubeconfig, None);
    assert_eq!(c.pki.ca_cert, None);
    assert_eq!(c.service_account_signing_key_file, pki.join("sa.key"));
    assert_eq!(c.service_account_key_files, [pki.join("sa.key")]);
    assert_eq!(c.api_audiences, ["https://issuer.example"]);
    assert_eq!(c.advertise_address, "192.0.2.11".parse::<IpAddr>().unwrap());
    // Nothing generated in the second data dir's PKI.
    assert!(!second.join("pki").join("ca.crt").exists());
}

#[test]
fn complete_with_specific_bind_address_and_ipv6() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v6");
    let mut args = base_args(&dir);
    args.retain(|a| !a.starts_with("--advertise-address") && !a.starts_with("--service-cluster"));
    args.push("--bind-address=::1".into());
    args.push("--advertise-address=fd00::10".into());
    args.push("--service-cluster-ip-range=fd00:10:96::/112".into());
    args.push("--runtime-config=api/v1=true,api/legacy=false".into());
    let c = run_complete(args);
    assert_eq!(
        c.first_service_ip,
        "fd00:10:96::1".parse::<IpAddr>().unwrap()
    );
    assert_eq!(
        c.runtime_config,
        BTreeMap::from([("/v1".to_string(), "true".to_string())])
    );
    let kc = fs::read_to_string(c.admin_kubeconfig.unwrap()).unwrap();
    assert!(kc.contains("server: https://[::1]:16443\n"), "{kc}");
    let s = inspect(&pem_cert(&dir.join("pki/apiserver.crt")));
    for ip in ["::1", "fd00::10", "fd00:10:96::1", "127.0.0.1"] {
        assert!(
            s.ips.contains(&ip.parse().unwrap()),
            "missing {ip}: {:?}",
            s.ips
        );
    }
}

#[test]
fn complete_defaults_advertise_address() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("adv");
    let mut args = base_args(&dir);
    args.retain(|a| !a.starts_with("--advertise-address"));
    let c = run_complete(args);
    assert!(!c.advertise_address.is_unspecified());
    assert!(c.advertise_address.is_ipv4());
    assert_eq!(c.external_host, c.advertise_address.to_string());

    // Loopback bind with no other choice still yields a usable address.
    let dir2 = tmp.path().join("adv2");
    let mut args = base_args(&dir2);
    args.retain(|a| !a.starts_with("--advertise-address"));
    args.push("--bind-address=127.0.0.1".into());
    let c = run_complete(args);
    assert!(!c.advertise_address.is_unspecified());
    let kc = fs::read_to_string(c.admin_kubeconfig.unwrap()).unwrap();
    assert!(kc.contains("server: https://127.0.0.1:16443\n"));
}

#[test]
fn complete_reports_invalid_options() {
    let opts = parse(&["--secure-port=0", "--nope"]);
    match complete(opts) {
        Err(OptionsError::Invalid(errs)) => {
            assert!(has(&errs, "unknown flag: --nope"));
            assert!(has(&errs, "--secure-port 0"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unimplemented_flags_fail_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("f");
    fs::write(&file, "x").unwrap();
    let f = file.display().to_string();
    let errs = errors_of(&[
        &format!("--encryption-provider-config={f}"),
        "--encryption-provider-config-automatic-reload",
        &format!("--service-account-key-file={f}"),
        &format!("--authorization-webhook-config-file={f}"),
        "--authorization-mode=RBAC,Webhook,ABAC",
        "--storage-media-type=text/plain",
        "--enable-admission-plugins=NodeRestriction,NamespaceLifecycle",
        "--tls-min-version=VersionTLS11",
        "--tls-cipher-suites=TLS_RSA_WITH_AES_128_CBC_SHA,TLS_BOGUS",
    ]);
    for needle in [
        "--encryption-provider-config-automatic-reload is not supported yet",
        "--service-account-key-file is not supported yet",
        "--authorization-webhook-config-file is not supported yet",
        "--authorization-mode Webhook is not supported yet",
        "--authorization-mode ABAC is not supported yet",
        "--storage-media-type \"text/plain\" invalid, allowed values: application/json, \
         application/vnd.kubernetes.protobuf, application/yaml",
        "--enable-admission-plugins plugin \"NodeRestriction\" is not supported yet",
        "--tls-min-version VersionTLS11 is not supported yet",
        "--tls-cipher-suites TLS_RSA_WITH_AES_128_CBC_SHA is not supported yet",
        "cipher suite TLS_BOGUS not supported or doesn't exist",
    ] {
        assert!(has(&errs, needle), "missing {needle:?} in {errs:#?}");
    }
    assert!(!has(&errs, "plugin \"NamespaceLifecycle\""), "{errs:#?}");
    assert!(
        !has(&errs, "--encryption-provider-config is not"),
        "{errs:#?}"
    );
    // What is implemented is accepted.
    let o = ok(&[
        "--authorization-mode=Node,RBAC",
        "--storage-media-type=application/json",
        &format!("--encryption-provider-config={f}"),
        "--enable-admission-plugins=NamespaceLifecycle,AlwaysAdmit",
        "--disable-admission-plugins=ServiceAccount,PodSecurity",
        "--tls-min-version=VersionTLS13",
        "--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_AES_128_GCM_SHA256",
    ]);
    let enabled = o.admission.enabled_plugins();
    assert!(enabled.iter().any(|p| p == "AlwaysAdmit"));
    assert!(!enabled.iter().any(|p| p == "ServiceAccount"));
    // The default set starts, and its missing plugins are named for the log.
    let o = ok(&[]);
    let missing = super::default_plugins_not_implemented(&o.admission.enabled_plugins());
    assert!(missing.contains(&"MutatingAdmissionWebhook"), "{missing:?}");
    assert!(!missing.contains(&"ServiceAccount"), "{missing:?}");
    assert!(!missing.contains(&"PodSecurity"), "{missing:?}");
    assert!(!missing.contains(&"NamespaceLifecycle"));
}

#[test]
fn default_toleration_seconds_flags_are_typed() {
    let o = ok(&[]);
    assert_eq!(o.generic.default_not_ready_toleration_seconds, 300);
    assert_eq!(o.generic.default_unreachable_toleration_seconds, 300);
    let o = ok(&[
        "--default-not-ready-toleration-seconds=30",
        "--default-unreachable-toleration-seconds=45",
    ]);
    assert_eq!(o.generic.default_not_ready_toleration_seconds, 30);
    assert_eq!(o.generic.default_unreachable_toleration_seconds, 45);
    assert!(o.ignored_flags.is_empty(), "{:?}", o.ignored_flags);
    assert!(!errors_of(&["--default-unreachable-toleration-seconds=x"]).is_empty());
}

//! Flags that change behaviour do change it: TLS versions, cipher suites and SNI
//! certificates (checked with `openssl s_client`), the front proxy's request headers,
//! admission plugins; compatibility-only flags are logged at start-up.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::Server;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair,
};

/// A test CA.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).expect("self-signed");
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// A certificate signed by `ca` for `cn`, written to `<dir>/<file>.crt` and `.key`.
fn leaf(ca: &Ca, dir: &Path, file: &str, cn: &str, dns: &[&str], client: bool) -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(dns.iter().map(|d| d.to_string()).collect::<Vec<_>>())
        .expect("params");
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    let cert = params.signed_by(&key, &ca.issuer).expect("sign");
    let crt = dir.join(format!("{file}.crt"));
    let k = dir.join(format!("{file}.key"));
    std::fs::write(&crt, cert.pem()).expect("write cert");
    std::fs::write(&k, key.serialize_pem()).expect("write key");
    (crt.display().to_string(), k.display().to_string())
}

/// `openssl s_client` against the server; (handshake succeeded, output).
fn s_client(server: &Server, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .arg("s_client")
        .arg("-connect")
        .arg(format!("127.0.0.1:{}", server.port))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("openssl must be installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success() && !text.contains("Cipher is (NONE)"),
        text,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_min_version_and_cipher_suites() {
    let server = Server::start(&[
        "--tls-min-version=VersionTLS13",
        "--audit-log-path=/nowhere",
    ])
    .await;
    let (ok, out) = s_client(&server, &["-tls1_2"]);
    assert!(
        !ok,
        "TLS 1.2 accepted with --tls-min-version=VersionTLS13: {out}"
    );
    let (ok, out) = s_client(&server, &["-tls1_3"]);
    assert!(ok, "{out}");
    // Compatibility-only flags and the default admission plugins not implemented are
    // named once in the log.
    let log = server.log();
    assert!(
        log.contains("not acted on: --audit-log-path=/nowhere"),
        "{log}"
    );
    assert!(log.contains("not implemented here: ") && log.contains("MutatingAdmissionWebhook"));
    drop(server);

    // The generated serving certificate is ECDSA: only the suite given is offered.
    let server =
        Server::start(&["--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"]).await;
    let (ok, out) = s_client(
        &server,
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"],
    );
    assert!(!ok, "suite outside --tls-cipher-suites accepted: {out}");
    let (ok, out) = s_client(
        &server,
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"],
    );
    assert!(ok, "{out}");
    // TLS 1.3 suites are not configurable.
    let (ok, out) = s_client(&server, &["-tls1_3"]);
    assert!(ok, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sni_certificates() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = ca("sni-ca");
    let (c1, k1) = leaf(
        &ca,
        tmp.path(),
        "named",
        "named-cert",
        &["sni.example"],
        false,
    );
    let (c2, k2) = leaf(
        &ca,
        tmp.path(),
        "wild",
        "wild-cert",
        &["unused.example"],
        false,
    );
    let server = Server::start(&[
        &format!("--tls-sni-cert-key={c1},{k1}"),
        &format!("--tls-sni-cert-key={c2},{k2}:*.wild.example"),
    ])
    .await;
    let subject = |name: &str| {
        let (ok, out) = s_client(&server, &["-servername", name]);
        assert!(ok, "{out}");
        out.lines()
            .find(|l| l.starts_with("subject="))
            .unwrap_or_default()
            .to_string()
    };
    assert!(subject("sni.example").contains("named-cert"));
    assert!(subject("a.wild.example").contains("wild-cert"));
    // The patterns replace the certificate's own names.
    let other = subject("unused.example");
    assert!(
        !other.contains("wild-cert") && !other.contains("named-cert"),
        "{other}"
    );
    let default = subject("localhost");
    assert!(!default.contains("named-cert"), "{default}");
}

/// curl with a client certificate; returns (HTTP status, body).
fn curl_as(server: &Server, cert: &str, key: &str, headers: &[&str], path: &str) -> (u16, String) {
    let mut cmd = Command::new("curl");
    // HTTP/1.1: this curl reports an early answer to an HTTP/2 upload as a framing error.
    cmd.arg("-sS")
        .arg("--http1.1")
        .arg("--cacert")
        .arg(server.data_dir.join("pki/ca.crt"))
        .args(["--cert", cert, "--key", key])
        .args([
            "-w",
            "\n%{http_code}",
            "-H",
            "Content-Type: application/json",
        ]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    cmd.args([
        "-d",
        r#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#,
    ])
    .arg(format!("https://127.0.0.1:{}{path}", server.port));
    let out = cmd.output().expect("curl must be installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let (body, code) = text.rsplit_once('\n').unwrap_or((&text, "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_proxy_request_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let proxy_ca = ca("front-proxy-ca");
    std::fs::write(tmp.path().join("proxy-ca.crt"), &proxy_ca.pem).unwrap();
    let (pc, pk) = leaf(
        &proxy_ca,
        tmp.path(),
        "proxy",
        "front-proxy-client",
        &[],
        true,
    );
    let (ic, ik) = leaf(&proxy_ca, tmp.path(), "intruder", "intruder", &[], true);
    let server = Server::start(&[
        &format!(
            "--requestheader-client-ca-file={}",
            tmp.path().join("proxy-ca.crt").display()
        ),
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    ])
    .await;
    let path = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
    let headers = [
        "X-Remote-User: alice",
        "X-Remote-Group: devs",
        "X-Remote-Group: ops",
        "X-Remote-Extra-Acme.com%2Fproject: p1",
    ];
    let (code, body) = curl_as(&server, &pc, &pk, &headers, path);
    assert_eq!(code, 201, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let info = &v["status"]["userInfo"];
    assert_eq!(info["username"], "alice", "{body}");
    assert_eq!(
        info["groups"],
        serde_json::json!(["devs", "ops", "system:authenticated"])
    );
    assert_eq!(info["extra"]["acme.com/project"], serde_json::json!(["p1"]));

    // A certificate of the proxy CA with a name not allowed: refused, not anonymous.
    let (code, body) = curl_as(&server, &ic, &ik, &headers, path);
    assert_eq!(code, 401, "{body}");

    // The admin's certificate is not the proxy's: its headers are not trusted.
    let pki = server.data_dir.join("pki");
    let (code, body) = curl_as(
        &server,
        &pki.join("admin.crt").display().to_string(),
        &pki.join("admin.key").display().to_string(),
        &headers,
        path,
    );
    assert_eq!(code, 201, "{body}");
    assert!(
        body.contains("kubernetes-admin") && !body.contains("alice"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_plugins_flags() {
    let cm = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}
    });
    // Without NamespaceLifecycle, nothing checks the namespace exists.
    let server = Server::start(&["--disable-admission-plugins=NamespaceLifecycle"]).await;
    let client = server.client().await;
    let (code, body) = common::send_json(
        &client,
        "POST",
        "/api/v1/namespaces/nowhere/configmaps",
        "application/json",
        &cm,
    )
    .await;
    assert_eq!(code, 201, "{body}");
}

/// Until impersonation is built, `kubectl --as` is refused, never served as the caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impersonation_is_refused() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    for header in [
        "Impersonate-User",
        "Impersonate-Group",
        "Impersonate-Uid",
        "Impersonate-Extra-Scopes",
    ] {
        let (code, _, body) = common::raw(
            &client,
            "GET",
            "/api/v1/namespaces",
            &[(header, "bob")],
            vec![],
        )
        .await
        .expect("request");
        assert_eq!(code, 403, "{header}: {body}");
        assert!(body.contains("impersonation is not supported"), "{body}");
    }
    let out = server.kubectl(&["--as=bob", "get", "namespaces"]);
    assert!(!out.status.success());
}

/// `--authorization-mode` is consulted in order: Node lets node identities write events,
/// RBAC's bootstrap policy decides the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_modes_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let tokens = tmp.path().join("tokens.csv");
    std::fs::write(&tokens, "nodetoken,system:node:n1,1,system:nodes\n").unwrap();
    let server = Server::start(&[
        "--authorization-mode=Node,RBAC",
        &format!("--token-auth-file={}", tokens.display()),
    ])
    .await;
    let node = server.token_client("nodetoken").await;
    let event = serde_json::json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "e1"},
        "involvedObject": {"kind": "Node", "name": "n1"},
        "reason": "Started", "message": "m", "type": "Normal"
    });
    let (code, body) = common::send_json(
        &node,
        "POST",
        "/api/v1/namespaces/default/events",
        "application/json",
        &event,
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let (code, body) = common::get_status(&node, "/api/v1/namespaces/default/secrets")
        .await
        .expect("request");
    assert_eq!(code, 403, "{body}");
}

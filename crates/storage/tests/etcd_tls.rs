//! The etcd backend over TLS with client certificates (`--etcd-cafile`, `--etcd-certfile`,
//! `--etcd-keyfile`), against an etcd requiring them. Certificates are made with the
//! `openssl` command; without it the test fails and says so.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use storage::etcd::testing::{TestEtcd, TestEtcdOptions, TestEtcdTls};
use storage::etcd::{EtcdConfig, EtcdStore};
use storage::{Storage, StorageError, WatchItem};

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|err| panic!("cannot run openssl (needed for TLS certificates): {err}"));
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files in `dir`.
fn make_certificates(dir: &Path) -> TestEtcdTls {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    let mut ca = vec![
        "req",
        "-x509",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test-etcd-ca",
    ];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    let leaf = |name: &str, subject: &str, extensions: &str| {
        std::fs::write(dir.join(format!("{name}.ext")), extensions).expect("write extensions");
        let mut request = vec!["req", "-nodes", "-subj", subject];
        request.extend(ec);
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        request.extend(["-keyout", &key, "-out", &csr]);
        openssl(dir, &request);
        let cert = format!("{name}.crt");
        let ext = format!("{name}.ext");
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
                &cert,
                "-extfile",
                &ext,
            ],
        );
    };
    leaf(
        "server",
        "/CN=etcd",
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    );
    leaf(
        "client",
        "/CN=kube-apiserver",
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=clientAuth\n",
    );
    TestEtcdTls {
        ca_file: dir.join("ca.crt"),
        server_cert_file: dir.join("server.crt"),
        server_key_file: dir.join("server.key"),
        client_cert_file: Some(dir.join("client.crt")),
        client_key_file: Some(dir.join("client.key")),
    }
}

#[tokio::test]
async fn tls_with_client_certificates() {
    let certs = tempfile::tempdir().expect("temp dir");
    let tls = make_certificates(certs.path());
    let etcd = match TestEtcd::start_with(TestEtcdOptions {
        tls: Some(tls),
        ..TestEtcdOptions::default()
    })
    .await
    {
        Ok(etcd) => etcd,
        Err(err) => panic!("cannot start a TLS test etcd: {err}"),
    };
    assert!(etcd.endpoint().starts_with("https://"));

    // The full configuration works: writes, reads, watches.
    let store = EtcdStore::connect(etcd.config()).await.expect("connect");
    let rev = store
        .create("/tls/a", Bytes::from_static(b"secret"))
        .await
        .expect("create over TLS");
    let mut stream = store.watch("/tls/", 0, false).await.expect("watch");
    match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
        Ok(Some(Ok(WatchItem::Event(event)))) => assert_eq!(event.revision(), rev),
        other => panic!("expected the create event, got {other:?}"),
    }
    store.check_health().await.expect("health over TLS");

    // Without a client certificate the server refuses the connection.
    let anonymous = EtcdStore::connect(EtcdConfig {
        cert_file: None,
        key_file: None,
        health_timeout: Duration::from_millis(500),
        ..etcd.config()
    })
    .await
    .expect("connect");
    let refused = anonymous.wait_ready(Duration::from_secs(1)).await;
    assert!(
        matches!(refused, Err(StorageError::Unavailable(_))),
        "{refused:?}"
    );

    // Without the CA the server's certificate is not trusted.
    let untrusting = EtcdStore::connect(EtcdConfig {
        ca_file: None,
        health_timeout: Duration::from_millis(500),
        ..etcd.config()
    })
    .await
    .expect("connect");
    let untrusted = untrusting.wait_ready(Duration::from_secs(1)).await;
    assert!(
        matches!(untrusted, Err(StorageError::Unavailable(_))),
        "{untrusted:?}"
    );
}

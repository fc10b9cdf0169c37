//! Storage encoding and encryption at rest, read back from the raw store: objects are written
//! as upstream writes them (protobuf in the `k8s\0` envelope, or the `--storage-media-type`
//! asked for), secrets are encrypted by `--encryption-provider-config` with upstream's
//! `k8s:enc:<provider>:v1:<key>:` prefixes, keys rotate by order across restarts, JSON written
//! by earlier builds still reads, and an etcd holding bytes in upstream's layout serves.

mod common;

use std::path::Path;
use std::process::Command;

use apimachinery::protobuf::{put_bytes, put_int, MAGIC};
use base64::Engine;
use common::Server;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::ByteString;
use kube::api::{Api, ListParams, PostParams};
use storage::embedded::EmbeddedStore;
use storage::encrypt::aes::AesCbc;
use storage::encrypt::Cipher;
use storage::etcd::testing::TestEtcd;
use storage::etcd::EtcdStore;
use storage::Storage;

fn b64(key: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// An EncryptionConfiguration for secrets with one provider and its keys (name, key).
fn write_config(
    dir: &Path,
    provider: &str,
    keys: &[(&str, [u8; 32])],
    then_identity: bool,
) -> String {
    let mut yaml = format!(
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- \
         resources:\n  - secrets\n  providers:\n  - {provider}:\n      keys:\n"
    );
    for (name, key) in keys {
        yaml.push_str(&format!(
            "      - name: {name}\n        secret: {}\n",
            b64(key)
        ));
    }
    if then_identity {
        yaml.push_str("  - identity: {}\n");
    }
    let path = dir.join("encryption.yaml");
    std::fs::write(&path, yaml).expect("write config");
    format!("--encryption-provider-config={}", path.display())
}

fn secret(name: &str, value: &str) -> Secret {
    Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(
            [(
                "password".to_string(),
                ByteString(value.as_bytes().to_vec()),
            )]
            .into(),
        ),
        ..Default::default()
    }
}

fn password(s: &Secret) -> Vec<u8> {
    s.data
        .as_ref()
        .and_then(|d| d.get("password"))
        .map(|b| b.0.clone())
        .unwrap_or_default()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The raw value of `key` in the embedded store of a stopped server.
async fn raw(dir: &Path, key: &str) -> Vec<u8> {
    let store = EmbeddedStore::open(&dir.join("store.db")).expect("open store");
    store
        .get(key)
        .await
        .expect("read")
        .unwrap_or_else(|| panic!("{key} is stored"))
        .value
        .to_vec()
}

const KEY1: [u8; 32] = [1; 32];
const KEY2: [u8; 32] = [2; 32];
const SECRET_KEY: &str = "/registry/secrets/default/db";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_encrypted_at_rest_and_keys_rotate_by_order() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let flag = write_config(dir.path(), "aescbc", &[("key1", KEY1)], false);
    let mut server = Server::start_in(dir.path(), port, &[&flag]).await;
    let client = server.client().await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    let created = secrets
        .create(&PostParams::default(), &secret("db", "hunter2-plain"))
        .await
        .expect("create secret");
    assert_eq!(password(&created), b"hunter2-plain");
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let cm = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some("settings".into()),
            ..Default::default()
        },
        data: Some([("mode".to_string(), "fast".to_string())].into()),
        ..Default::default()
    };
    cms.create(&PostParams::default(), &cm)
        .await
        .expect("create cm");
    server.kill();

    // The secret is encrypted with key1, upstream's layout: prefix, IV, ciphertext of the
    // protobuf object; nothing of it is readable.
    let stored = raw(dir.path(), SECRET_KEY).await;
    let prefix = b"k8s:enc:aescbc:v1:key1:";
    assert!(
        stored.starts_with(prefix),
        "{:?}",
        String::from_utf8_lossy(&stored)
    );
    // (Markers long enough not to turn up in random ciphertext by chance, as "db" did.)
    assert!(!contains(&stored, b"hunter2") && !contains(&stored, b"k8s\0"));
    let plain = AesCbc::new(&KEY1)
        .unwrap()
        .open(&stored[prefix.len()..], b"")
        .expect("decrypts with key1");
    assert!(plain.starts_with(&MAGIC), "protobuf under the encryption");
    assert!(contains(&plain, b"hunter2-plain"));
    // Resources the file does not name are stored as upstream stores them, unencrypted.
    let stored_cm = raw(dir.path(), "/registry/configmaps/default/settings").await;
    assert!(stored_cm.starts_with(b"k8s\0\x0a\x0f\x0a\x02v1\x12\x09ConfigMap\x12"));
    assert!(!contains(&stored_cm, b"resourceVersion"));

    // Rotation: the new key first, the old one second; what key1 wrote still reads.
    let flag = write_config(
        dir.path(),
        "aescbc",
        &[("key2", KEY2), ("key1", KEY1)],
        false,
    );
    let mut server = Server::start_in(dir.path(), port, &[&flag]).await;
    let client = server.client().await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    let got = secrets.get("db").await.expect("read with the old key");
    assert_eq!(password(&got), b"hunter2-plain");
    let listed = secrets.list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);
    let out =
        common::ok(server.kubectl(&["get", "secret", "db", "-o", "jsonpath={.data.password}"]));
    assert_eq!(out.trim(), b64(b"hunter2-plain"));
    // A write re-encrypts with the first key.
    let mut changed = got.clone();
    changed.data = secret("db", "rotated").data;
    secrets
        .replace("db", &PostParams::default(), &changed)
        .await
        .expect("replace");
    server.kill();
    let stored = raw(dir.path(), SECRET_KEY).await;
    assert!(stored.starts_with(b"k8s:enc:aescbc:v1:key2:"));

    // The old key alone cannot read it: the read fails, it is never served as garbage.
    let flag = write_config(dir.path(), "aescbc", &[("key1", KEY1)], false);
    let server = Server::start_in(dir.path(), port, &[&flag]).await;
    let secrets: Api<Secret> = Api::namespaced(server.client_without_retries().await, "default");
    let err = secrets.get("db").await.expect_err("no key for it");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 500),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_writes_its_prefix_and_identity_first_decrypts_on_the_way_out() {
    for (provider, prefix) in [
        ("aesgcm", "k8s:enc:aesgcm:v1:k:"),
        ("secretbox", "k8s:enc:secretbox:v1:k:"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let port = common::free_port();
        let flag = write_config(dir.path(), provider, &[("k", KEY1)], false);
        let mut server = Server::start_in(dir.path(), port, &[&flag]).await;
        let secrets: Api<Secret> = Api::namespaced(server.client().await, "default");
        secrets
            .create(&PostParams::default(), &secret("db", "s3cr3t"))
            .await
            .expect("create");
        server.kill();
        let stored = raw(dir.path(), SECRET_KEY).await;
        assert!(stored.starts_with(prefix.as_bytes()), "{provider}");
        assert!(!contains(&stored, b"s3cr3t"));

        // Decrypting everything: identity first writes plain text, the old key still reads.
        let mut yaml = std::fs::read_to_string(dir.path().join("encryption.yaml")).unwrap();
        yaml = yaml.replace("  providers:\n", "  providers:\n  - identity: {}\n");
        std::fs::write(dir.path().join("encryption.yaml"), yaml).unwrap();
        let mut server = Server::start_in(dir.path(), port, &[&flag]).await;
        let secrets: Api<Secret> = Api::namespaced(server.client().await, "default");
        let mut got = secrets.get("db").await.expect("read encrypted");
        assert_eq!(password(&got), b"s3cr3t");
        got.metadata.labels = Some([("decrypted".to_string(), "yes".to_string())].into());
        secrets
            .replace("db", &PostParams::default(), &got)
            .await
            .expect("rewrite");
        server.kill();
        let stored = raw(dir.path(), SECRET_KEY).await;
        assert!(
            stored.starts_with(&MAGIC) && contains(&stored, b"s3cr3t"),
            "{provider}"
        );
    }
}

fn start_up_error(dir: &Path, flags: &[&str]) -> String {
    let out = Command::new(common::binary())
        .arg(format!("--data-dir={}", dir.display()))
        .arg(format!("--secure-port={}", common::free_port()))
        .arg("--bind-address=127.0.0.1")
        .args(flags)
        .output()
        .expect("run binary");
    assert_ne!(out.status.code(), Some(0));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn bad_encryption_files_fail_start_up_with_upstreams_messages() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    let flag = format!("--encryption-provider-config={}", file.display());
    std::fs::write(
        &file,
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- \
         resources: [secrets]\n  providers:\n  - aesgcm:\n      keys:\n      - name: k\n        \
         secret: c2hvcnQ=\n",
    )
    .unwrap();
    let text = start_up_error(dir.path(), &[&flag]);
    assert!(
        text.contains(
            "error while parsing file: resources[0].providers[0].aesgcm.keys[0].secret: Invalid \
             value: \"REDACTED\": secret is not of the expected length, got 5, expected one of \
             [16 24 32]"
        ),
        "{text}"
    );
    std::fs::write(
        &file,
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- \
         resources: [secrets]\n  providers:\n  - kms:\n      apiVersion: v2\n      name: vault\n      \
         endpoint: unix:///run/kms.sock\n",
    )
    .unwrap();
    let text = start_up_error(dir.path(), &[&flag]);
    assert!(
        text.contains("the kms provider is not supported by this server"),
        "{text}"
    );
    let missing = format!(
        "--encryption-provider-config={}",
        dir.path().join("absent.yaml").display()
    );
    let text = start_up_error(dir.path(), &[&missing]);
    assert!(
        text.contains("error while parsing file: error while loading file: error reading encryption provider configuration file"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_written_by_earlier_builds_reads_and_the_media_type_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let key = "/registry/configmaps/default";
    let create = |name: &'static str| ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some([("k".to_string(), name.to_string())].into()),
        ..Default::default()
    };
    let mut server =
        Server::start_in(dir.path(), port, &["--storage-media-type=application/json"]).await;
    let cms: Api<ConfigMap> = Api::namespaced(server.client().await, "default");
    cms.create(&PostParams::default(), &create("as-json"))
        .await
        .expect("create");
    server.kill();
    let stored = raw(dir.path(), &format!("{key}/as-json")).await;
    assert!(stored.starts_with(b"{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\""));

    let mut server =
        Server::start_in(dir.path(), port, &["--storage-media-type=application/yaml"]).await;
    let cms: Api<ConfigMap> = Api::namespaced(server.client().await, "default");
    cms.create(&PostParams::default(), &create("as-yaml"))
        .await
        .expect("create");
    server.kill();
    let stored = raw(dir.path(), &format!("{key}/as-yaml")).await;
    assert!(stored.starts_with(b"apiVersion: v1\ndata:\n  k: as-yaml\nkind: ConfigMap\n"));

    // The default (protobuf) server reads all three forms side by side.
    let server = Server::start_in(dir.path(), port, &[]).await;
    let cms: Api<ConfigMap> = Api::namespaced(server.client().await, "default");
    cms.create(&PostParams::default(), &create("as-protobuf"))
        .await
        .expect("create");
    let list = cms
        .list(&ListParams::default())
        .await
        .expect("list mixed data");
    let mut names: Vec<_> = list
        .items
        .iter()
        .filter_map(|c| c.metadata.name.clone())
        .filter(|n| n != "kube-root-ca.crt")
        .collect();
    names.sort();
    assert_eq!(names, ["as-json", "as-protobuf", "as-yaml"]);
    for item in &list.items {
        let name = item.metadata.name.clone().unwrap_or_default();
        if name == "kube-root-ca.crt" {
            continue;
        }
        assert_eq!(item.data.as_ref().and_then(|d| d.get("k")), Some(&name));
    }
    // A write moves an old object to protobuf.
    let mut old = cms.get("as-json").await.expect("get");
    old.data = Some([("k".to_string(), "moved".to_string())].into());
    cms.replace("as-json", &PostParams::default(), &old)
        .await
        .expect("replace");
    drop(server);
    assert!(raw(dir.path(), &format!("{key}/as-json"))
        .await
        .starts_with(&MAGIC));
}

/// ObjectMeta as upstream's Go encoder writes it: every non-pointer field, empty or not.
fn go_object_meta(name: &str, namespace: &str, uid: &str, created: i64) -> Vec<u8> {
    let mut meta = Vec::new();
    put_bytes(&mut meta, 1, name.as_bytes());
    put_bytes(&mut meta, 2, b""); // generateName
    put_bytes(&mut meta, 3, namespace.as_bytes());
    put_bytes(&mut meta, 4, b""); // selfLink
    put_bytes(&mut meta, 5, uid.as_bytes());
    put_bytes(&mut meta, 6, b""); // resourceVersion: never stored
    put_int(&mut meta, 7, 0); // generation
    let mut time = Vec::new();
    put_int(&mut time, 1, created);
    put_int(&mut time, 2, 0);
    put_bytes(&mut meta, 8, &time);
    let mut label = Vec::new();
    put_bytes(&mut label, 1, b"from");
    put_bytes(&mut label, 2, b"upstream");
    put_bytes(&mut meta, 11, &label);
    meta
}

/// A Secret in upstream's stored bytes: envelope, ObjectMeta, data, type.
fn go_secret(name: &str) -> Vec<u8> {
    let mut secret = Vec::new();
    put_bytes(
        &mut secret,
        1,
        &go_object_meta(
            name,
            "default",
            "0c6e51d2-1b53-4a3c-9b7e-000000000001",
            1_767_323_045,
        ),
    );
    let mut entry = Vec::new();
    put_bytes(&mut entry, 1, b"token");
    put_bytes(&mut entry, 2, b"upstream-token");
    put_bytes(&mut secret, 2, &entry);
    put_bytes(&mut secret, 3, b"Opaque");
    apimachinery::protobuf::wrap("v1", "Secret", &secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_etcd_in_upstreams_bytes_is_read_and_written_back_in_them() {
    let etcd = TestEtcd::start()
        .await
        .unwrap_or_else(|e| panic!("etcd is required for these tests: {e}"));
    let raw_etcd = EtcdStore::connect(etcd.config()).await.expect("connect");
    // One secret as upstream stores it unencrypted, one encrypted by upstream's aescbc with
    // key1 (prefix, random IV, CBC of the protobuf), under upstream's keys.
    raw_etcd
        .create("/registry/secrets/default/plain", go_secret("plain").into())
        .await
        .unwrap();
    let sealed = AesCbc::new(&KEY1)
        .unwrap()
        .seal(&go_secret("sealed"), b"")
        .unwrap();
    raw_etcd
        .create(
            "/registry/secrets/default/sealed",
            [b"k8s:enc:aescbc:v1:key1:".as_slice(), &sealed]
                .concat()
                .into(),
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let flag = write_config(dir.path(), "aescbc", &[("key1", KEY1)], true);
    let server = Server::start(&[&format!("--etcd-servers={}", etcd.endpoint()), &flag]).await;
    let secrets: Api<Secret> = Api::namespaced(server.client().await, "default");
    for name in ["plain", "sealed"] {
        let got = secrets.get(name).await.expect("read upstream's bytes");
        let token = got
            .data
            .as_ref()
            .and_then(|d| d.get("token"))
            .map(|b| b.0.clone());
        assert_eq!(
            token.as_deref(),
            Some(b"upstream-token".as_slice()),
            "{name}"
        );
        assert_eq!(got.type_.as_deref(), Some("Opaque"));
        assert_eq!(
            got.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("from"))
                .map(String::as_str),
            Some("upstream")
        );
        assert_eq!(
            got.metadata
                .creation_timestamp
                .map(|t| t.0.to_string())
                .as_deref(),
            Some("2026-01-02T03:04:05Z")
        );
        assert!(got
            .metadata
            .resource_version
            .is_some_and(|rv| !rv.is_empty()));
    }
    let listed = secrets
        .list(&ListParams::default().labels("from=upstream"))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 2);
    // Written back through this server: encrypted with key1 as upstream would, protobuf inside.
    let mut plain = secrets.get("plain").await.unwrap();
    plain.data = Some([("token".to_string(), ByteString(b"rewritten".to_vec()))].into());
    secrets
        .replace("plain", &PostParams::default(), &plain)
        .await
        .expect("replace");
    let kv = raw_etcd
        .get("/registry/secrets/default/plain")
        .await
        .unwrap()
        .expect("in etcd");
    let prefix = b"k8s:enc:aescbc:v1:key1:";
    assert!(kv.value.starts_with(prefix));
    let inner = AesCbc::new(&KEY1)
        .unwrap()
        .open(&kv.value[prefix.len()..], b"")
        .unwrap();
    let lookup = |_: &str, _: &str| api::kind("", "v1", "Secret");
    let (_, object) = apimachinery::protobuf::decode(&inner, &lookup).expect("protobuf");
    assert_eq!(object["data"]["token"], b64(b"rewritten"));
    assert_eq!(object["metadata"]["labels"]["from"], "upstream");
    assert!(object["metadata"].get("resourceVersion").is_none());
}

/// Upstream answers a write with the object decoded from the bytes it wrote: what protobuf
/// cannot hold (an empty map) is neither in the answer nor in a later GET, and an update
/// that changes only such things writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_responses_are_what_storage_reads_back() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let send = |method: &'static str, path: &'static str, body: serde_json::Value| {
        let client = client.clone();
        async move { common::send_json(&client, method, path, "application/json", &body).await }
    };
    let body = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "sparse", "labels": {}}, "data": {}});
    let (code, dry) = send(
        "POST",
        "/api/v1/namespaces/default/configmaps?dryRun=All",
        body.clone(),
    )
    .await;
    assert_eq!(code, 201, "{dry}");
    assert!(dry.get("data").is_none(), "{dry}");
    let (code, created) = send("POST", "/api/v1/namespaces/default/configmaps", body).await;
    assert_eq!(code, 201, "{created}");
    assert!(created.get("data").is_none(), "{created}");
    assert!(created["metadata"].get("labels").is_none(), "{created}");
    let read = common::get_json(&client, "/api/v1/namespaces/default/configmaps/sparse", 200).await;
    assert_eq!(read, created);

    let mut same = created.clone();
    same["data"] = serde_json::json!({});
    let (code, updated) = send("PUT", "/api/v1/namespaces/default/configmaps/sparse", same).await;
    assert_eq!(code, 200, "{updated}");
    assert_eq!(
        updated["metadata"]["resourceVersion"], created["metadata"]["resourceVersion"],
        "an update that changes nothing storage holds writes nothing"
    );
    assert!(updated.get("data").is_none(), "{updated}");
}

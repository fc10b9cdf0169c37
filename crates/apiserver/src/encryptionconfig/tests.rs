use bytes::Bytes;

use super::*;

/// base64 of 32 bytes of `b`.
fn key32(b: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([b; 32])
}

fn config(body: &str) -> Result<EncryptionConfig, EncryptionConfigError> {
    let text =
        format!("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n{body}");
    EncryptionConfig::from_bytes(text.as_bytes(), "/etc/enc.yaml")
}

fn error(body: &str) -> String {
    match config(body) {
        Ok(_) => panic!("accepted: {body}"),
        Err(e) => e.to_string(),
    }
}

const KEY: &str = "/registry/secrets/default/s";

#[test]
fn every_provider_writes_its_prefix_and_key_name() {
    for (provider, prefix) in [
        ("aescbc", "k8s:enc:aescbc:v1:k1:"),
        ("aesgcm", "k8s:enc:aesgcm:v1:k1:"),
        ("secretbox", "k8s:enc:secretbox:v1:k1:"),
    ] {
        let c = config(&format!(
            "resources:\n- resources: [secrets]\n  providers:\n  - {provider}:\n      keys:\n      \
             - name: k1\n        secret: {}\n",
            key32(1)
        ))
        .unwrap();
        let t = c
            .transformer_for("", "secrets")
            .expect("secrets are encrypted");
        let stored = t
            .to_storage(KEY, Bytes::from_static(b"k8s\0plain"))
            .unwrap();
        assert!(stored.starts_with(prefix.as_bytes()), "{provider}");
        assert!(!stored.windows(5).any(|w| w == b"plain"));
        assert_eq!(t.read_stored(KEY, stored).unwrap(), "k8s\0plain");
        assert!(c.transformer_for("", "configmaps").is_none());
    }
}

#[test]
fn first_provider_writes_and_every_key_reads_so_keys_rotate() {
    let old = config(&format!(
        "resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: \
         old\n        secret: {}\n",
        key32(1)
    ))
    .unwrap();
    let written = old
        .transformer_for("", "secrets")
        .unwrap()
        .to_storage(KEY, Bytes::from_static(b"{}"))
        .unwrap();
    // The new key first, the old second; then identity, to read what was never encrypted.
    let rotated = config(&format!(
        "resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: \
         new\n        secret: {}\n      - name: old\n        secret: {}\n  - identity: {{}}\n",
        key32(2),
        key32(1)
    ))
    .unwrap();
    let t = rotated.transformer_for("", "secrets").unwrap();
    assert_eq!(t.read_stored(KEY, written).unwrap(), "{}");
    assert_eq!(t.read_stored(KEY, Bytes::from_static(b"{}")).unwrap(), "{}");
    let rewritten = t.to_storage(KEY, Bytes::from_static(b"{}")).unwrap();
    assert!(rewritten.starts_with(b"k8s:enc:aescbc:v1:new:"));
    // Without the old key, the old value does not open.
    let only_new = config(&format!(
        "resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: \
         old\n        secret: {}\n",
        key32(2)
    ))
    .unwrap();
    let t = only_new.transformer_for("", "secrets").unwrap();
    let written = old
        .transformer_for("", "secrets")
        .unwrap()
        .to_storage(KEY, Bytes::from_static(b"{}"))
        .unwrap();
    assert!(t.read_stored(KEY, written).is_err());
    let e = t
        .read_stored(KEY, Bytes::from_static(b"k8s:enc:secretbox:v1:x:abc"))
        .unwrap_err();
    assert!(e.to_string().contains("no matching prefix found"), "{e}");
}

#[test]
fn wildcards_name_groups_and_everything_and_earlier_rules_win() {
    let c = config(&format!(
        "resources:\n- resources: [events]\n  providers:\n  - identity: {{}}\n- resources: \
         ['*.apps']\n  providers:\n  - aesgcm:\n      keys:\n      - name: a\n        secret: \
         {}\n- resources: ['*.*']\n  providers:\n  - secretbox:\n      keys:\n      - name: all\n  \
         \x20     secret: {}\n",
        key32(3),
        key32(4)
    ))
    .unwrap();
    let write = |g: &str, r: &str| {
        c.transformer_for(g, r)
            .unwrap()
            .to_storage("/registry/x", Bytes::from_static(b"{}"))
            .unwrap()
    };
    assert_eq!(write("", "events"), "{}");
    assert!(write("apps", "deployments").starts_with(b"k8s:enc:aesgcm:v1:a:"));
    assert!(write("", "secrets").starts_with(b"k8s:enc:secretbox:v1:all:"));
    assert!(write("batch", "jobs").starts_with(b"k8s:enc:secretbox:v1:all:"));
    let core = config(&format!(
        "resources:\n- resources: ['*.']\n  providers:\n  - aescbc:\n      keys:\n      - name: \
         c\n        secret: {}\n",
        key32(5)
    ))
    .unwrap();
    assert!(core.transformer_for("", "configmaps").is_some());
    assert!(core.transformer_for("apps", "deployments").is_none());
}

#[test]
fn invalid_files_are_refused_with_upstreams_messages() {
    assert_eq!(
        error("resources: []\n"),
        "error while parsing file: resources: Required value: at least one resources is required"
    );
    assert_eq!(
        error("resources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: k\n        secret: c2VjcmV0\n"),
        "error while parsing file: resources[0].providers[0].aescbc.keys[0].secret: Invalid \
         value: \"REDACTED\": secret is not of the expected length, got 6, expected one of [16 24 32]"
    );
    assert_eq!(
        error(&format!("resources:\n- resources: [secrets]\n  providers:\n  - secretbox:\n      keys:\n      - name: k\n        secret: {}\n", base64::engine::general_purpose::STANDARD.encode([1u8; 16]))),
        "error while parsing file: resources[0].providers[0].secretbox.keys[0].secret: Invalid \
         value: \"REDACTED\": secret is not of the expected length, got 16, expected one of [32]"
    );
    assert_eq!(
        error("resources:\n- resources: [secrets]\n  providers:\n  - aesgcm:\n      keys:\n      - secret: '!!'\n"),
        "error while parsing file: [resources[0].providers[0].aesgcm.keys[0].name: Required \
         value: name is a mandatory field for a key, resources[0].providers[0].aesgcm.keys[0].secret: \
         Invalid value: \"REDACTED\": secrets must be base64 encoded]"
    );
    assert_eq!(
        error("resources:\n- resources: [secrets, secrets, '*', Secrets, deployments.*, events.events.k8s.io, foo.extensions, serviceipallocations]\n  providers:\n  - identity: {}\n"),
        "error while parsing file: [resources[0].resources: Invalid value: \
         [\"secrets\",\"secrets\",\"*\",\"Secrets\",\"deployments.*\",\"events.events.k8s.io\",\
         \"foo.extensions\",\"serviceipallocations\"]: the same resource cannot be specified \
         multiple times, resources[0].resources: Invalid value: \
         [\"secrets\",\"secrets\",\"*\",\"Secrets\",\"deployments.*\",\"events.events.k8s.io\",\
         \"foo.extensions\",\"serviceipallocations\"]: using overlapping resources such as \
         'secrets' and '*.' in the same resource list is not allowed as they will be masked, \
         resources[0].resources[2]: Invalid value: \"*\": use '*.' to encrypt \
         all the resources from core API group or *.* to encrypt all resources, \
         resources[0].resources[3]: Invalid value: \"Secrets\": resource name should not contain \
         capital letters, resources[0].resources[4]: Invalid value: \"deployments.*\": \
         encrypting the same resource across groups is not supported, \
         resources[0].resources[5]: Invalid value: \"events.events.k8s.io\": '*.events.k8s.io' \
         objects are stored using the 'events' API group in etcd. Use 'events' instead in the \
         config file, resources[0].resources[6]: Invalid value: \"foo.extensions\": \
         'extensions' group has been removed and cannot be used for encryption, \
         resources[0].resources[7]: Invalid value: \"serviceipallocations\": resources which do \
         not have REST API/s cannot be encrypted]"
    );
    assert_eq!(
        error("resources:\n- resources: [secrets, '*.']\n  providers:\n  - identity: {}\n"),
        "error while parsing file: resources[0].resources: Invalid value: [\"secrets\",\"*.\"]: \
         using overlapping resources such as 'secrets' and '*.' in the same resource list is not \
         allowed as they will be masked"
    );
    assert_eq!(
        error("resources:\n- resources: [secrets]\n  providers:\n  - {}\n  - identity: {}\n    aescbc:\n      keys: []\n"),
        "error while parsing file: [resources[0].providers[0]: Invalid value: {}: provider does \
         not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity, \
         resources[0].providers[1]: Invalid value: {\"aescbc\":{\"keys\":[]},\"identity\":{}}: \
         more than one provider specified in a single element, should split into different list \
         elements, resources[0].providers[1].aescbc.keys: Required value: at least one keys is \
         required]"
    );
    assert_eq!(
        error("resources:\n- resources: ['*.*']\n  providers:\n  - identity: {}\n- resources: [secrets]\n  providers:\n  - identity: {}\n"),
        "error while building transformers: resource \"secrets\" is masked by earlier rule \"*.*\""
    );
    assert_eq!(
        error("resources:\n- resources: ['*.']\n  providers:\n  - identity: {}\n- resources: [configmaps]\n  providers:\n  - identity: {}\n"),
        "error while building transformers: resource \"configmaps\" is masked by earlier rule \"*.\""
    );
}

#[test]
fn kms_unknown_fields_and_wrong_kinds_are_refused_by_name() {
    let e = error(
        "resources:\n- resources: [secrets]\n  providers:\n  - kms:\n      apiVersion: v2\n      \
         name: k\n      endpoint: unix:///tmp/kms.sock\n",
    );
    assert!(
        e.contains("resources[0].providers[0].kms: the kms provider is not supported"),
        "{e}"
    );
    assert_eq!(
        error("resources:\n- resources: [secrets]\n  provider:\n  - identity: {}\n  providers:\n  - identity: {x: 1}\n"),
        "error while parsing file: error decoding encryption provider configuration file \
         \"/etc/enc.yaml\": strict decoding error: unknown field \"resources[0].provider\", \
         unknown field \"resources[0].providers[0].identity.x\""
    );
    let wrong = EncryptionConfig::from_bytes(
        b"{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\"}",
        "/f.json",
    )
    .err()
    .map(|e| e.to_string());
    assert_eq!(
        wrong.as_deref(),
        Some(
            "error while parsing file: error decoding encryption provider configuration file \
             \"/f.json\": no kind \"ConfigMap\" is registered for version \"v1\""
        )
    );
    let json = format!(
        "{{\"apiVersion\": \"apiserver.config.k8s.io/v1\", \"kind\": \"EncryptionConfiguration\", \
         \"resources\": [{{\"resources\": [\"secrets\"], \"providers\": [{{\"aesgcm\": \
         {{\"keys\": [{{\"name\": \"j\", \"secret\": \"{}\"}}]}}}}]}}]}}",
        key32(9)
    );
    let c = EncryptionConfig::from_bytes(json.as_bytes(), "/f.json").unwrap();
    assert!(c.transformer_for("", "secrets").is_some());
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "").unwrap();
    let e = EncryptionConfig::load(&empty).err().map(|e| e.to_string());
    assert_eq!(
        e,
        Some(format!(
            "error while parsing file: error while loading file: encryption provider \
             configuration file {:?} is empty",
            empty.display().to_string()
        ))
    );
}

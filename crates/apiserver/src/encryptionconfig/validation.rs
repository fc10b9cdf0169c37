//! Upstream's checks of an `EncryptionConfiguration` (`ValidateEncryptionConfiguration`),
//! with its field paths and messages; secrets are never printed.

use apimachinery::errors::{aggregate_message, FieldError, FieldPath};
use base64::Engine;
use serde_json::{json, Value};

use super::file::{EncryptionConfiguration, Key, ProviderConfig};
use super::parse_group_resource;

const AES_KEY_SIZES: &[usize] = &[16, 24, 32];
const SECRETBOX_KEY_SIZES: &[usize] = &[32];

/// Every problem of the file, as upstream's aggregate prints them; `None` when valid.
pub fn validate(c: &EncryptionConfiguration) -> Option<String> {
    let root = FieldPath::new("resources");
    let mut errs = Vec::new();
    if c.resources.is_empty() {
        errs.push(FieldError::required(
            &root,
            &format!("at least one {root} is required"),
        ));
        return aggregate_message(&errs);
    }
    for (i, conf) in c.resources.iter().enumerate() {
        let r = root.index(i).child("resources");
        let p = root.index(i).child("providers");
        if conf.resources.is_empty() {
            errs.push(FieldError::required(
                &r,
                &format!("at least one {r} is required"),
            ));
        }
        errs.extend(resource_overlap(&conf.resources, &r));
        errs.extend(resource_names(&conf.resources, &r));
        if conf.providers.is_empty() {
            errs.push(FieldError::required(
                &p,
                &format!("at least one {p} is required"),
            ));
        }
        for (j, provider) in conf.providers.iter().enumerate() {
            let path = p.index(j);
            errs.extend(single_provider(provider, &path));
            if let Some(aes) = &provider.aesgcm {
                let keys = path.child("aesgcm").child("keys");
                errs.extend(validate_keys(&aes.keys, &keys, AES_KEY_SIZES));
            } else if let Some(aes) = &provider.aescbc {
                let keys = path.child("aescbc").child("keys");
                errs.extend(validate_keys(&aes.keys, &keys, AES_KEY_SIZES));
            } else if let Some(sb) = &provider.secretbox {
                let keys = path.child("secretbox").child("keys");
                errs.extend(validate_keys(&sb.keys, &keys, SECRETBOX_KEY_SIZES));
            }
        }
    }
    aggregate_message(&errs)
}

fn resource_overlap(resources: &[String], path: &FieldPath) -> Vec<FieldError> {
    if resources.len() < 2 {
        return Vec::new();
    }
    let parsed: Vec<_> = resources.iter().map(|r| parse_group_resource(r)).collect();
    let (mut overlap, mut duplicate) = (false, false);
    for (i, r1) in parsed.iter().enumerate() {
        for (j, r2) in parsed.iter().enumerate() {
            if i == j {
                continue;
            }
            if r1 == r2 && !duplicate {
                duplicate = true;
                continue;
            }
            if overlap {
                continue;
            }
            if r1.0 == "*" && r1.1 == "*" {
                overlap = true;
                continue;
            }
            if r1.0 == r2.0 && (r1.1 == "*" || r2.1 == "*") {
                overlap = true;
            }
        }
    }
    let list = || json!(resources);
    let mut errs = Vec::new();
    if duplicate {
        errs.push(FieldError::invalid(
            path,
            list(),
            "the same resource cannot be specified multiple times",
        ));
    }
    if overlap {
        errs.push(FieldError::invalid(
            path,
            list(),
            "using overlapping resources such as 'secrets' and '*.' in the same resource list \
             is not allowed as they will be masked",
        ));
    }
    errs
}

fn resource_names(resources: &[String], path: &FieldPath) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (j, res) in resources.iter().enumerate() {
        let at = path.index(j);
        let (group, resource) = parse_group_resource(res);
        let problem = if res.chars().any(char::is_uppercase) {
            "resource name should not contain capital letters"
        } else if res == "*" {
            "use '*.' to encrypt all the resources from core API group or *.* to encrypt all \
             resources"
        } else if matches!(
            res.as_str(),
            "apiserveripinfo" | "serviceipallocations" | "servicenodeportallocations"
        ) {
            "resources which do not have REST API/s cannot be encrypted"
        } else if group == "events.k8s.io" {
            "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use \
             'events' instead in the config file"
        } else if group == "extensions" {
            "'extensions' group has been removed and cannot be used for encryption"
        } else if group == "*" && resource != "*" {
            "encrypting the same resource across groups is not supported"
        } else {
            continue;
        };
        errs.push(FieldError::invalid(&at, res.as_str(), problem));
    }
    errs
}

fn single_provider(p: &ProviderConfig, path: &FieldPath) -> Option<FieldError> {
    let found = [
        p.kms.is_some(),
        p.aesgcm.is_some(),
        p.aescbc.is_some(),
        p.secretbox.is_some(),
        p.identity.is_some(),
    ]
    .iter()
    .filter(|&&set| set)
    .count();
    // The provider prints as JSON with its secrets hidden.
    let shown = || {
        let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
        redact(&mut v);
        v
    };
    match found {
        0 => Some(FieldError::invalid(
            path,
            shown(),
            "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, \
             Secretbox, Identity",
        )),
        1 => None,
        _ => Some(FieldError::invalid(
            path,
            shown(),
            "more than one provider specified in a single element, should split into \
             different list elements",
        )),
    }
}

/// Hides every `secret` in a provider printed in an error (upstream prints keys redacted).
fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, inner) in map.iter_mut() {
                if k == "secret" {
                    *inner = json!("REDACTED");
                } else {
                    redact(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn validate_keys(keys: &[Key], path: &FieldPath, sizes: &[usize]) -> Vec<FieldError> {
    if keys.is_empty() {
        return vec![FieldError::required(path, "at least one keys is required")];
    }
    let mut errs = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let at = path.index(i);
        if key.name.is_empty() {
            errs.push(FieldError::required(
                &at.child("name"),
                "name is a mandatory field for a key",
            ));
        }
        if key.secret.is_empty() {
            errs.push(FieldError::required(
                &at.child("secret"),
                "secret is a mandatory field for a key",
            ));
            continue;
        }
        let secret_path = at.child("secret");
        match base64::engine::general_purpose::STANDARD.decode(&key.secret) {
            Err(_) => errs.push(FieldError::invalid(
                &secret_path,
                "REDACTED",
                "secrets must be base64 encoded",
            )),
            Ok(secret) if !sizes.contains(&secret.len()) => {
                let expected: Vec<String> = sizes.iter().map(ToString::to_string).collect();
                errs.push(FieldError::invalid(
                    &secret_path,
                    "REDACTED",
                    &format!(
                        "secret is not of the expected length, got {}, expected one of [{}]",
                        secret.len(),
                        expected.join(" ")
                    ),
                ));
            }
            Ok(_) => {}
        }
    }
    errs
}

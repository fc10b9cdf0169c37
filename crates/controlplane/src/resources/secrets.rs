//! `secrets` (core/v1).

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use base64::Engine;
use serde_json::{json, Value};

use super::configmaps::{validate_data_maps, validate_immutable};
use crate::types::Typed;

pub struct SecretStrategy;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Folds `stringData` into `data` (base64), as upstream's conversion does.
fn fold_string_data(obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    let Some(Value::Object(string_data)) = map.remove("stringData") else {
        return;
    };
    let data = map.entry("data").or_insert_with(|| json!({}));
    if !data.is_object() {
        *data = json!({});
    }
    for (k, v) in string_data {
        if let Value::String(s) = v {
            data[k.as_str()] = json!(B64.encode(s.as_bytes()));
        }
    }
}

/// The decoded bytes of `data[key]`: `None` when the key is absent (a null or undecodable
/// value counts as present and empty, as the base64 check reports it).
fn data_value(obj: &Value, key: &str) -> Option<Vec<u8>> {
    let v = obj.get("data")?.as_object()?.get(key)?;
    Some(
        v.as_str()
            .and_then(|s| B64.decode(s).ok())
            .unwrap_or_default(),
    )
}

/// Go's `json.Unmarshal` into `map[string]interface{}`: the error it reports, if any.
fn json_object_error(bytes: &[u8]) -> Option<String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(_) | Value::Null) => None,
        Ok(other) => {
            let kind = match other {
                Value::Bool(_) => "bool",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                _ => "array",
            };
            Some(format!(
                "json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
            ))
        }
        Err(e) if e.is_eof() => Some("unexpected end of JSON input".to_string()),
        Err(e) => {
            // The character serde stopped at, and what Go's scanner says it was after.
            let text = String::from_utf8_lossy(bytes);
            let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("");
            let c = line
                .chars()
                .nth(e.column().saturating_sub(1))
                .unwrap_or(' ');
            let msg = e.to_string();
            let context = if msg.starts_with("key must be a string") {
                "looking for beginning of object key string"
            } else if msg.starts_with("expected `:`") {
                "after object key"
            } else if msg.starts_with("expected `,` or `}`") {
                "after object key:value pair"
            } else if msg.starts_with("expected `,` or `]`") {
                "after array element"
            } else if msg.starts_with("trailing characters") {
                "after top-level value"
            } else {
                "looking for beginning of value"
            };
            Some(format!("invalid character '{c}' {context}"))
        }
    }
}

/// The keys each built-in secret type requires (upstream's `ValidateSecret`, with its
/// field paths, `data[%s][...]` for basic-auth and ssh-auth included).
fn validate_type(obj: &Value, errs: &mut Vec<FieldError>) {
    let data = FieldPath::new("data");
    let redacted = "<secret contents redacted>";
    let json_key = |key: &str, errs: &mut Vec<FieldError>| match data_value(obj, key) {
        None => errs.push(FieldError::required(&data.key(key), "")),
        Some(bytes) => {
            if let Some(e) = json_object_error(&bytes) {
                errs.push(FieldError::invalid(&data.key(key), json!(redacted), &e));
            }
        }
    };
    match obj.get("type").and_then(Value::as_str).unwrap_or("") {
        "kubernetes.io/service-account-token" => {
            let name = obj
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(SERVICE_ACCOUNT_NAME_KEY))
                .and_then(Value::as_str)
                .unwrap_or("");
            if name.is_empty() {
                errs.push(FieldError::required(
                    &FieldPath::new("metadata")
                        .child("annotations")
                        .key(SERVICE_ACCOUNT_NAME_KEY),
                    "",
                ));
            }
        }
        "kubernetes.io/dockercfg" => json_key(".dockercfg", errs),
        "kubernetes.io/dockerconfigjson" => json_key(".dockerconfigjson", errs),
        "kubernetes.io/basic-auth"
            if data_value(obj, "username").is_none() && data_value(obj, "password").is_none() =>
        {
            let path = FieldPath::new("data[%s]");
            errs.push(FieldError::required(&path.key("username"), ""));
            errs.push(FieldError::required(&path.key("password"), ""));
        }
        "kubernetes.io/ssh-auth"
            if data_value(obj, "ssh-privatekey").is_none_or(|v| v.is_empty()) =>
        {
            errs.push(FieldError::required(
                &FieldPath::new("data[%s]").key("ssh-privatekey"),
                "",
            ));
        }
        "kubernetes.io/tls" => {
            for key in ["tls.crt", "tls.key"] {
                if data_value(obj, key).is_none() {
                    errs.push(FieldError::required(&data.key(key), ""));
                }
            }
        }
        _ => {}
    }
}

/// The annotation naming a service-account-token secret's service account.
const SERVICE_ACCOUNT_NAME_KEY: &str = "kubernetes.io/service-account.name";

impl Strategy for SecretStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        fold_string_data(obj);
        if obj
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            obj["type"] = json!("Opaque");
        }
    }

    fn prepare_for_update(&self, new: &mut Value, _old: &Value) {
        fold_string_data(new);
        if new
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            new["type"] = json!("Opaque");
        }
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let Some(data) = obj.get("data").and_then(Value::as_object) {
            for (k, v) in data {
                let ok = v.as_str().is_some_and(|s| B64.decode(s).is_ok()) || v.is_null();
                if !ok {
                    errs.push(FieldError::invalid(
                        &FieldPath::new("data").key(k),
                        json!("<secret contents redacted>"),
                        "must be a base64-encoded string",
                    ));
                }
            }
        }
        validate_data_maps(
            obj,
            &["data"],
            &|_, v| v.as_str().map_or(0, |s| s.len() * 3 / 4),
            &mut errs,
        );
        validate_type(obj, &mut errs);
        errs
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = self.validate(new);
        if new.get("type") != old.get("type") {
            errs.push(FieldError::invalid(
                &FieldPath::new("type"),
                new.get("type").cloned().unwrap_or(Value::Null),
                "field is immutable",
            ));
        }
        validate_immutable(new, old, &["data"], &mut errs);
        errs
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new(
                "Type",
                "string",
                "Used to facilitate programmatic handling of secret data.",
            ),
            ColumnDef::new("Data", "string", "Data contains the secret data."),
            ColumnDef::AGE,
        ]
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        vec![
            Cell::Value(json!(obj.get("type").and_then(Value::as_str).unwrap_or(""))),
            Cell::Value(json!(obj
                .get("data")
                .and_then(Value::as_object)
                .map_or(0, |m| m.len()))),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
    }

    fn selectable_fields(&self) -> &[&'static str] {
        &["type"]
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "",
        "v1",
        "Secret",
        "secrets",
        Scope::Namespaced,
        Arc::new(SecretStrategy),
    )
    .typed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(obj: Value) -> Vec<String> {
        SecretStrategy
            .validate(&obj)
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    fn secret(ty: &str, data: Value) -> Value {
        json!({"metadata": {"name": "s", "namespace": "d"}, "type": ty, "data": data})
    }

    #[test]
    fn built_in_types() {
        let b = |s: &str| B64.encode(s);
        assert_eq!(
            errors(secret("kubernetes.io/tls", json!({}))),
            [
                "data[tls.crt]: Required value",
                "data[tls.key]: Required value"
            ]
        );
        assert!(errors(secret(
            "kubernetes.io/tls",
            json!({"tls.crt": b("c"), "tls.key": b("k")})
        ))
        .is_empty());
        assert_eq!(
            errors(secret("kubernetes.io/service-account-token", json!({}))),
            ["metadata.annotations[kubernetes.io/service-account.name]: Required value"]
        );
        assert_eq!(
            errors(secret("kubernetes.io/dockercfg", json!({}))),
            ["data[.dockercfg]: Required value"]
        );
        assert_eq!(
            errors(secret(
                "kubernetes.io/dockerconfigjson",
                json!({".dockerconfigjson": b("{nope")})
            )),
            ["data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": invalid character 'n' looking for beginning of object key string"]
        );
        assert!(errors(secret(
            "kubernetes.io/dockerconfigjson",
            json!({".dockerconfigjson": b("{\"auths\":{}}")})
        ))
        .is_empty());
        assert_eq!(
            json_object_error(b"[1]").as_deref(),
            Some("json: cannot unmarshal array into Go value of type map[string]interface {}")
        );
        assert_eq!(
            json_object_error(b"x").as_deref(),
            Some("invalid character 'x' looking for beginning of value")
        );
        assert_eq!(
            errors(secret("kubernetes.io/basic-auth", json!({}))),
            [
                "data[%s][username]: Required value",
                "data[%s][password]: Required value"
            ]
        );
        assert!(errors(secret("kubernetes.io/basic-auth", json!({"password": ""}))).is_empty());
        assert_eq!(
            errors(secret(
                "kubernetes.io/ssh-auth",
                json!({"ssh-privatekey": ""})
            )),
            ["data[%s][ssh-privatekey]: Required value"]
        );
        assert!(errors(secret("Opaque", json!({}))).is_empty());
        assert!(errors(secret("example.com/custom", json!({}))).is_empty());
    }
}

//! `secrets` (core/v1).

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use base64::Engine;
use serde_json::{json, Value};

use super::configmaps::{validate_data_maps, validate_immutable};

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
    .with_schema(crate::types::of("", "v1", "Secret"))
}

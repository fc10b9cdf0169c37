//! `configmaps` (core/v1).

use std::sync::Arc;

use crate::types::Typed;
use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

/// Largest total size of a ConfigMap's or Secret's data, as upstream.
pub const MAX_DATA_BYTES: usize = 1024 * 1024;

/// Validates the keys of `data`-like maps, their overlap, and the total size.
/// `value_len` tells a value's size as stored.
pub fn validate_data_maps(
    obj: &Value,
    fields: &[&str],
    value_len: &dyn Fn(&str, &Value) -> usize,
    errs: &mut Vec<FieldError>,
) {
    let mut total = 0usize;
    let mut seen: Vec<String> = Vec::new();
    for field in fields {
        let Some(map) = obj.get(*field).and_then(Value::as_object) else {
            continue;
        };
        let path = FieldPath::new(field);
        for (k, v) in map {
            for msg in validation::is_config_map_key(k) {
                errs.push(FieldError::invalid(&path.key(k), json!(k), &msg));
            }
            if seen.contains(k) {
                errs.push(FieldError::invalid(
                    &path.key(k),
                    json!(k),
                    "duplicate of key present in data",
                ));
            }
            seen.push(k.clone());
            total += value_len(field, v);
        }
    }
    if total > MAX_DATA_BYTES {
        errs.push(FieldError::too_long(
            &FieldPath::new(""),
            "",
            MAX_DATA_BYTES,
        ));
    }
}

/// Refuses changes to data of an object marked `immutable`, and unmarking it.
pub fn validate_immutable(
    new: &Value,
    old: &Value,
    data_fields: &[&str],
    errs: &mut Vec<FieldError>,
) {
    if old.get("immutable").and_then(Value::as_bool) != Some(true) {
        return;
    }
    if new.get("immutable").and_then(Value::as_bool) != Some(true) {
        errs.push(FieldError::forbidden(
            &FieldPath::new("immutable"),
            "field is immutable when `immutable` is set",
        ));
    }
    for field in data_fields {
        if new.get(*field) != old.get(*field) {
            errs.push(FieldError::forbidden(
                &FieldPath::new(field),
                "field is immutable when `immutable` is set",
            ));
        }
    }
}

pub struct ConfigMapStrategy;

impl Strategy for ConfigMapStrategy {
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let mut errs = Vec::new();
        validate_data_maps(
            obj,
            &["data", "binaryData"],
            &|field, v| match (field, v) {
                ("binaryData", Value::String(s)) => s.len() * 3 / 4,
                (_, Value::String(s)) => s.len(),
                _ => 0,
            },
            &mut errs,
        );
        errs
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = self.validate(new);
        validate_immutable(new, old, &["data", "binaryData"], &mut errs);
        errs
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("Data", "string", "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'."),
            ColumnDef::AGE,
        ]
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let count = |f: &str| obj.get(f).and_then(Value::as_object).map_or(0, |m| m.len());
        vec![
            Cell::Value(json!(count("data") + count("binaryData"))),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        Scope::Namespaced,
        Arc::new(ConfigMapStrategy),
    )
    .typed()
    .with_short_names(&["cm"])
}

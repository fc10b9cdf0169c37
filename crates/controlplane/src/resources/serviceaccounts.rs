//! `serviceaccounts` (core/v1). Upstream validates only their metadata; references to
//! secrets keep just the secret's name.

use std::sync::Arc;

use crate::types::Typed;
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Map, Value};

pub struct ServiceAccountStrategy;

/// The annotation that limits pods to the secrets listed (deprecated since v1.32).
pub const ENFORCE_MOUNTABLE_SECRETS: &str = "kubernetes.io/enforce-mountable-secrets";

/// Upstream's warning for a service account still carrying the deprecated annotation.
fn deprecation_warnings(obj: &Value) -> Vec<String> {
    let annotated = meta::meta(obj)
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
        .is_some_and(|a| a.contains_key(ENFORCE_MOUNTABLE_SECRETS));
    if !annotated {
        return Vec::new();
    }
    vec![format!(
        "metadata.annotations[{ENFORCE_MOUNTABLE_SECRETS}]: deprecated in v1.32+; prefer separate namespaces to isolate access to mounted secrets"
    )]
}

/// Upstream's `cleanSecretReferences`: each entry of `secrets` keeps only its `name`.
fn clean_secret_references(obj: &mut Value) {
    let Some(secrets) = obj.get_mut("secrets").and_then(Value::as_array_mut) else {
        return;
    };
    for secret in secrets.iter_mut() {
        let mut kept = Map::new();
        if let Some(name) = secret
            .get("name")
            .filter(|n| n.as_str().is_some_and(|s| !s.is_empty()))
        {
            kept.insert("name".to_string(), name.clone());
        }
        *secret = Value::Object(kept);
    }
}

impl Strategy for ServiceAccountStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        clean_secret_references(obj);
    }

    fn prepare_for_update(&self, new: &mut Value, _old: &Value) {
        clean_secret_references(new);
    }

    fn warnings_on_create(&self, obj: &Value) -> Vec<String> {
        deprecation_warnings(obj)
    }

    fn warnings_on_update(&self, new: &Value, _old: &Value) -> Vec<String> {
        deprecation_warnings(new)
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new(
                "Secrets",
                "string",
                "How many secrets the service account refers to.",
            ),
            ColumnDef::AGE,
        ]
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let secrets = obj
            .get("secrets")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        vec![
            Cell::Value(json!(secrets)),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        Scope::Namespaced,
        Arc::new(ServiceAccountStrategy),
    )
    .typed()
    .with_short_names(&["sa"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_references_keep_only_names() {
        let mut sa = json!({
            "metadata": {"name": "builder"},
            "secrets": [
                {"name": "token-a", "namespace": "other", "kind": "Secret", "uid": "u"},
                {"kind": "Secret"},
            ],
        });
        ServiceAccountStrategy.prepare_for_create(&mut sa);
        assert_eq!(sa["secrets"], json!([{"name": "token-a"}, {}]));
    }

    #[test]
    fn table_counts_secrets() {
        let s = ServiceAccountStrategy;
        let sa = json!({"metadata": {"name": "a", "creationTimestamp": "2026-01-01T00:00:00Z"},
                        "secrets": [{"name": "x"}, {"name": "y"}]});
        let cells = s.table_cells(&sa);
        assert_eq!(cells.len(), s.table_columns().len());
        assert_eq!(cells[0], Cell::Value(json!(2)));
        assert_eq!(cells[1], Cell::Age("2026-01-01T00:00:00Z".into()));
        assert_eq!(
            s.table_cells(&json!({"metadata": {"name": "a"}}))[0],
            Cell::Value(json!(0))
        );
    }

    #[test]
    fn the_mountable_secrets_annotation_is_warned_about() {
        let s = ServiceAccountStrategy;
        assert!(s
            .warnings_on_create(&json!({"metadata": {"name": "a"}}))
            .is_empty());
        let sa =
            json!({"metadata": {"name": "a", "annotations": {ENFORCE_MOUNTABLE_SECRETS: "true"}}});
        assert_eq!(
            s.warnings_on_update(&sa, &sa),
            ["metadata.annotations[kubernetes.io/enforce-mountable-secrets]: deprecated in v1.32+; prefer separate namespaces to isolate access to mounted secrets"]
        );
    }

    #[test]
    fn names_are_dns_subdomains() {
        let s = ServiceAccountStrategy;
        assert!(s.validate_name("build-bot.v2", false).is_empty());
        assert!(!s.validate_name("Build_Bot", false).is_empty());
    }
}

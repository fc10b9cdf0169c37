//! `ipaddresses` (networking.k8s.io/v1): one object per allocated cluster IP, named by
//! the address, pointing at the Service holding it (`spec.parentRef`), as upstream's
//! `ValidateIPAddress` checks it.

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::fields::str_of;
use super::netcheck::parse_ip_sloppy;
use crate::types::Typed;

pub struct IpAddressStrategy;

/// `services/default/name` (lower-case group-resource, namespace, name) or `<none>`.
fn parent_ref_cell(obj: &Value) -> String {
    let Some(r) = obj
        .get("spec")
        .and_then(|s| s.get("parentRef"))
        .filter(|r| r.is_object())
    else {
        return "<none>".to_string();
    };
    let (group, resource) = (str_of(r, "group"), str_of(r, "resource"));
    let mut out = if group.is_empty() {
        resource.to_lowercase()
    } else {
        format!("{resource}.{group}").to_lowercase()
    };
    let namespace = str_of(r, "namespace");
    if !namespace.is_empty() {
        out.push('/');
        out.push_str(namespace);
    }
    out.push('/');
    out.push_str(str_of(r, "name"));
    out
}

impl Strategy for IpAddressStrategy {
    fn validate_name(&self, name: &str, _prefix: bool) -> Vec<String> {
        match parse_ip_sloppy(name) {
            None => {
                vec!["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)".to_string()]
            }
            Some(ip) if ip.to_string() != name => {
                vec![format!("must be in canonical form (\"{ip}\")")]
            }
            Some(ip) if ip.is_unspecified() => {
                vec!["may not be an unspecified address".to_string()]
            }
            Some(_) => Vec::new(),
        }
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let path = FieldPath::new("spec").child("parentRef");
        let Some(r) = obj
            .get("spec")
            .and_then(|s| s.get("parentRef"))
            .filter(|r| r.is_object())
        else {
            return vec![FieldError::required(&path, "")];
        };
        let mut errs = Vec::new();
        for field in ["resource", "name"] {
            if str_of(r, field).is_empty() {
                errs.push(FieldError::required(&path.child(field), ""));
            }
        }
        errs
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = self.validate(new);
        let parent = |o: &Value| o.get("spec").and_then(|s| s.get("parentRef")).cloned();
        if parent(new) != parent(old) {
            errs.push(FieldError::invalid(
                &FieldPath::new("spec").child("parentRef"),
                parent(new).unwrap_or(Value::Null),
                "field is immutable",
            ));
        }
        errs
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new(
                "ParentRef",
                "string",
                "The object the address is allocated to.",
            ),
            ColumnDef::AGE,
        ]
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        vec![
            Cell::Value(json!(parent_ref_cell(obj))),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "networking.k8s.io",
        "v1",
        "IPAddress",
        "ipaddresses",
        Scope::Cluster,
        Arc::new(IpAddressStrategy),
    )
    .typed()
    .with_short_names(&["ip"])
}

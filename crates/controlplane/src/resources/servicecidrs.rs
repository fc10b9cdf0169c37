//! `servicecidrs` (networking.k8s.io/v1): the ranges cluster IPs come from. The API server
//! keeps the one named `kubernetes` in step with `--service-cluster-ip-range`.

use std::sync::Arc;

use apimachinery::errors::{FieldError, FieldPath};
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::fields::array;
use crate::allocators::cidr::Cidr;
use crate::types::Typed;

/// The ServiceCIDR made from the server's flags.
pub const DEFAULT_SERVICE_CIDR: &str = "kubernetes";

pub struct ServiceCidrStrategy;

fn cidrs(obj: &Value) -> Vec<String> {
    obj.get("spec")
        .map(|s| array(s, "cidrs"))
        .unwrap_or(&[])
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

impl Strategy for ServiceCidrStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        if let Some(map) = obj.as_object_mut() {
            map.remove("status");
        }
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        if let Some(map) = new.as_object_mut() {
            match old.get("status") {
                Some(s) => map.insert("status".into(), s.clone()),
                None => map.remove("status"),
            };
        }
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let path = FieldPath::new("spec").child("cidrs");
        let list = cidrs(obj);
        let mut errs = Vec::new();
        if list.is_empty() {
            errs.push(FieldError::required(&path, "at least one CIDR required"));
        }
        if list.len() > 2 {
            errs.push(FieldError::too_many(
                &path,
                i64::try_from(list.len()).ok(),
                2,
            ));
            return errs;
        }
        let mut families = Vec::new();
        for (i, c) in list.iter().enumerate() {
            match Cidr::parse(c) {
                Ok(cidr) if cidr.to_string() == *c => families.push(cidr.family()),
                Ok(cidr) => errs.push(FieldError::invalid(
                    &path.index(i),
                    json!(c),
                    &format!("must be in canonical form (\"{cidr}\")"),
                )),
                Err(_) => errs.push(FieldError::invalid(
                    &path.index(i),
                    json!(c),
                    "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                )),
            }
        }
        if families.len() == 2 && families[0] == families[1] {
            errs.push(FieldError::invalid(&path, json!(list), "may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64"));
        }
        errs
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = self.validate(new);
        let (n, o) = (cidrs(new), cidrs(old));
        let upgrade = o.len() == 1 && n.len() == 2 && n[0] == o[0];
        if n != o && !upgrade {
            errs.push(FieldError::invalid(
                &FieldPath::new("spec").child("cidrs"),
                json!(n),
                "field is immutable",
            ));
        }
        errs
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new(
                "CIDRs",
                "string",
                "The ranges cluster IPs are allocated from.",
            ),
            ColumnDef::AGE,
        ]
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        vec![
            Cell::Value(json!(cidrs(obj).join(","))),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "networking.k8s.io",
        "v1",
        "ServiceCIDR",
        "servicecidrs",
        Scope::Cluster,
        Arc::new(ServiceCidrStrategy),
    )
    .typed()
    .with_subresources(&["status"])
}

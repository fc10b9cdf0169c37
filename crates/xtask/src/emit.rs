//! Writes the joined declarations as Rust source: one module per API package, each a list
//! of `static` [`schema::decl::Message`]s, and a `mod.rs` naming them all.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde_json::Value;

use crate::join::{Def, FieldDef, Merge, Ty};

/// Where the declarations of a package live.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Home {
    /// `crates/apimachinery/src/types/generated` (`io.k8s.apimachinery.*`).
    Apimachinery,
    /// `crates/api/src/generated` (every API group).
    Api,
}

/// The crate and module name of a definition's package.
pub fn module_of(def: &str) -> (Home, String) {
    let package = def.rsplit_once('.').map(|(p, _)| p).unwrap_or(def);
    let parts: Vec<&str> = package.split('.').collect();
    if let Some(rest) = package.strip_prefix("io.k8s.apimachinery.pkg.") {
        let segs: Vec<&str> = rest
            .split('.')
            .filter(|s| !matches!(*s, "apis" | "api" | "util"))
            .collect();
        return (Home::Apimachinery, segs.join("_"));
    }
    let n = parts.len();
    let name = if n >= 2 {
        format!("{}_{}", parts[n - 2], parts[n - 1])
    } else {
        package.to_string()
    };
    (Home::Api, name.replace('-', "_"))
}

/// `PodSpec` → `POD_SPEC`, `IPBlock` → `IP_BLOCK`.
pub fn ident_of(def: &str) -> String {
    let short: Vec<char> = def.rsplit('.').next().unwrap_or(def).chars().collect();
    let mut out = String::new();
    for (i, &c) in short.iter().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            let prev = short[i - 1];
            let next_lower = short.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Descriptions (in our words) and Go facts that the published documents lack, by definition.
pub struct Overlay(serde_json::Map<String, Value>);

impl Overlay {
    pub fn new(v: Value) -> Result<Overlay, String> {
        match v {
            Value::Object(m) => Ok(Overlay(m)),
            _ => Err("overlay: expected an object".into()),
        }
    }

    fn entry(&self, def: &str) -> Option<&Value> {
        self.0.get(def)
    }

    fn description(&self, def: &str) -> &str {
        self.entry(def)
            .and_then(|e| e.get("description"))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    fn field_description(&self, def: &str, field: &str) -> &str {
        self.entry(def)
            .and_then(|e| e.get("fields"))
            .and_then(|f| f.get(field))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    fn emit_zero(&self, def: &str, field: &str) -> bool {
        self.entry(def)
            .and_then(|e| e.get("emitZero"))
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(field)))
    }

    /// Definitions or fields the overlay names that do not exist.
    pub fn unknown(&self, defs: &[Def]) -> Vec<String> {
        let by_name: BTreeMap<&str, &Def> = defs.iter().map(|d| (d.name.as_str(), d)).collect();
        let mut out = Vec::new();
        for (name, entry) in &self.0 {
            let Some(def) = by_name.get(name.as_str()) else {
                out.push(name.clone());
                continue;
            };
            let names: BTreeSet<&str> = def.fields.iter().map(|f| f.json.as_str()).collect();
            let fields = entry.get("fields").and_then(Value::as_object);
            let listed = fields
                .into_iter()
                .flat_map(|f| f.keys().map(String::as_str));
            let zero = entry
                .get("emitZero")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str);
            for f in listed.chain(zero) {
                if !names.contains(f) {
                    out.push(format!("{name}.{f}"));
                }
            }
        }
        out
    }
}

/// A Rust string literal.
fn lit(s: &str) -> String {
    format!("{s:?}")
}

fn path_of(def: &str, from: &Home) -> String {
    let (home, module) = module_of(def);
    let krate = match (&home, from) {
        (Home::Apimachinery, Home::Apimachinery) => "crate::types",
        (Home::Apimachinery, Home::Api) => "apimachinery::types",
        (Home::Api, Home::Api) => "crate",
        (Home::Api, Home::Apimachinery) => "api",
    };
    format!("{krate}::{module}::{}", ident_of(def))
}

fn ty_expr(ty: &Ty, from: &Home) -> String {
    match ty {
        Ty::Scalar(s) => format!("Type::{s}"),
        Ty::Ref(name) => format!("Type::Message(&{})", path_of(name, from)),
        Ty::List(inner) => format!("Type::List(&{})", ty_expr(inner, from)),
        Ty::Map(inner) => format!("Type::Map(&{})", ty_expr(inner, from)),
    }
}

fn opt(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("Some({})", lit(s)),
        None => "None".into(),
    }
}

fn merge_expr(m: &Merge) -> Option<String> {
    if *m == Merge::default() {
        return None;
    }
    let keys: Vec<String> = m.map_keys.iter().map(|k| lit(k)).collect();
    Some(format!(
        "ListMerge::of({}, &[{}], {}, {}, {})",
        opt(&m.list_type),
        keys.join(", "),
        opt(&m.patch_strategy),
        opt(&m.patch_merge_key),
        opt(&m.map_type)
    ))
}

fn field_expr(def: &str, f: &FieldDef, overlay: &Overlay, from: &Home) -> String {
    let mut s = format!(
        "Field::new({}, {}, {})",
        lit(&f.json),
        f.proto,
        ty_expr(&f.ty, from)
    );
    if f.required {
        s.push_str(".required()");
    } else if overlay.emit_zero(def, &f.json) {
        s.push_str(".emit_zero()");
    }
    if f.inline {
        s.push_str(".inline()");
    }
    if let Some(m) = merge_expr(&f.merge) {
        write!(s, ".merge({m})").ok();
    }
    let doc = overlay.field_description(def, &f.json);
    if !doc.is_empty() {
        write!(s, ".doc({})", lit(doc)).ok();
    }
    s
}

const HEADER: &str =
    "// Generated by `cargo run -p xtask -- gen-types <reference dir>`: do not edit.\n\
// Facts (field numbers, JSON names, list types, group-version-kinds) come from upstream's\n\
// published OpenAPI and protobuf definitions; descriptions from crates/xtask/overlay.json.\n";

/// The source of one package module.
pub fn module_source(package: &str, defs: &[&Def], overlay: &Overlay, home: &Home) -> String {
    let mut s = String::new();
    s.push_str(HEADER);
    writeln!(s, "//! Declarations of `{package}`.\n").ok();
    s.push_str("#![allow(clippy::all)]\n\n");
    let uses_merge = defs
        .iter()
        .any(|d| d.fields.iter().any(|f| merge_expr(&f.merge).is_some()));
    let uses_type = defs.iter().any(|d| !d.fields.is_empty());
    let mut imports = vec!["Message"];
    if uses_type {
        imports.insert(0, "Field");
        imports.push("Type");
    }
    if uses_merge {
        imports.insert(1, "ListMerge");
    }
    let krate = match home {
        Home::Apimachinery => "crate",
        Home::Api => "apimachinery",
    };
    writeln!(s, "use {krate}::schema::decl::{{{}}};", imports.join(", ")).ok();
    for d in defs {
        let gvks: Vec<String> = d
            .gvks
            .iter()
            .map(|(g, v, k)| format!("({}, {}, {})", lit(g), lit(v), lit(k)))
            .collect();
        writeln!(s).ok();
        writeln!(s, "pub static {}: Message = Message {{", ident_of(&d.name)).ok();
        writeln!(s, "    name: {},", lit(&d.name)).ok();
        writeln!(s, "    description: {},", lit(overlay.description(&d.name))).ok();
        writeln!(s, "    gvks: &[{}],", gvks.join(", ")).ok();
        writeln!(s, "    atomic: {},", d.atomic).ok();
        if d.fields.is_empty() {
            writeln!(s, "    fields: &[],").ok();
        } else {
            writeln!(s, "    fields: &[").ok();
            for f in &d.fields {
                writeln!(s, "        {},", field_expr(&d.name, f, overlay, home)).ok();
            }
            writeln!(s, "    ],").ok();
        }
        writeln!(s, "}};").ok();
    }
    s
}

/// The `mod.rs` of a crate's generated modules, with `ALL`.
pub fn mod_source(modules: &BTreeMap<String, Vec<&Def>>, home: &Home) -> String {
    let mut s = String::new();
    s.push_str(HEADER);
    s.push_str("//! Every generated declaration of this crate, one module per API package.\n\n");
    for m in modules.keys() {
        writeln!(s, "pub mod {m};").ok();
    }
    let krate = match home {
        Home::Apimachinery => "crate",
        Home::Api => "apimachinery",
    };
    writeln!(s, "\n/// Every declaration above.").ok();
    writeln!(s, "pub static ALL: &[&{krate}::schema::decl::Message] = &[").ok();
    for (m, defs) in modules {
        for d in defs {
            writeln!(s, "    &{m}::{},", ident_of(&d.name)).ok();
        }
    }
    writeln!(s, "];").ok();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents() {
        assert_eq!(ident_of("io.k8s.api.core.v1.PodSpec"), "POD_SPEC");
        assert_eq!(ident_of("io.k8s.api.networking.v1.IPBlock"), "IP_BLOCK");
        assert_eq!(ident_of("x.HTTPGetAction"), "HTTP_GET_ACTION");
        assert_eq!(ident_of("x.CSIDriver"), "CSI_DRIVER");
        assert_eq!(ident_of("x.V1Beta1Thing"), "V1_BETA1_THING");
    }

    #[test]
    fn modules() {
        assert_eq!(
            module_of("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
            (Home::Apimachinery, "meta_v1".into())
        );
        assert_eq!(
            module_of("io.k8s.apimachinery.pkg.util.intstr.X"),
            (Home::Apimachinery, "intstr".into())
        );
        assert_eq!(
            module_of("io.k8s.api.core.v1.Pod"),
            (Home::Api, "core_v1".into())
        );
        assert_eq!(
            module_of("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.X"),
            (Home::Api, "apiextensions_v1".into())
        );
    }
}

//! Joins the protobuf definitions with the OpenAPI v2 document into one list of type
//! declarations: field numbers, order and wire types from the protobuf files; JSON names,
//! required fields, merge metadata and group-version-kinds from OpenAPI. A type with no
//! OpenAPI definition (a version upstream does not serve by default) borrows the metadata of
//! the same type in a served version of its group.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::proto::{Label, ProtoField, ProtoMessage};

/// A field type, before it is written as Rust.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// A variant of `schema::decl::Type` without payload (`String`, `Time`, …).
    Scalar(&'static str),
    /// Another declaration, by definition name.
    Ref(String),
    List(Box<Ty>),
    Map(Box<Ty>),
}

/// `x-kubernetes-*` merge metadata of a field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Merge {
    pub list_type: Option<String>,
    pub map_keys: Vec<String>,
    pub patch_strategy: Option<String>,
    pub patch_merge_key: Option<String>,
    pub map_type: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub json: String,
    /// 0 for a field that exists only in JSON.
    pub proto: u32,
    pub ty: Ty,
    pub required: bool,
    /// A Go embedded struct: nested in protobuf, its fields flattened into this object in JSON.
    pub inline: bool,
    pub merge: Merge,
}

#[derive(Debug, Clone)]
pub struct Def {
    pub name: String,
    pub gvks: Vec<(String, String, String)>,
    /// `x-kubernetes-map-type: atomic` on the type (`+structType=atomic`).
    pub atomic: bool,
    pub fields: Vec<FieldDef>,
}

/// Definitions that are not messages of their own but values (`Time` is a string in JSON).
pub fn special(name: &str) -> Option<&'static str> {
    let short = name.rsplit('.').next().unwrap_or(name);
    Some(match name {
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time" => "Time",
        "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime" => "MicroTime",
        "io.k8s.apimachinery.pkg.api.resource.Quantity" => "Quantity",
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => "IntOrString",
        "io.k8s.apimachinery.pkg.runtime.RawExtension" => "RawJson",
        "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1" => "RawJson",
        _ if name.starts_with("io.k8s.apiextensions-apiserver.")
            && matches!(
                short,
                "JSON"
                    | "JSONSchemaPropsOrArray"
                    | "JSONSchemaPropsOrBool"
                    | "JSONSchemaPropsOrStringArray"
            ) =>
        {
            "RawJson"
        }
        _ => return None,
    })
}

/// Packages that hold test types only.
fn skipped(name: &str) -> bool {
    name.starts_with("io.k8s.apimachinery.pkg.apis.testapigroup.")
}

/// Lower-case letters and digits only: `$ref` and `ref`, `x-kubernetes-embedded-resource`
/// and `xKubernetesEmbeddedResource` compare equal.
fn normalized(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn package_of(def: &str) -> &str {
    def.rsplit_once('.').map(|(p, _)| p).unwrap_or(def)
}

fn short_of(def: &str) -> &str {
    def.rsplit('.').next().unwrap_or(def)
}

/// The group of an API package (`io.k8s.api.apps.v1` → `apps`), from what OpenAPI and the
/// fixture names say about its kinds.
pub struct Groups(BTreeMap<String, String>);

impl Groups {
    /// `group_of_package` from OpenAPI's group-version-kinds and fixture file names
    /// (`<group>.<version>.<Kind>.json`, where the core group is empty).
    pub fn new(definitions: &serde_json::Map<String, Value>, fixture_names: &[String]) -> Groups {
        let mut by_package_family: BTreeMap<String, String> = BTreeMap::new();
        for (name, def) in definitions {
            for (g, _, _) in gvks_of(def) {
                // Only a type's own package counts (meta.v1's DeleteOptions lists every group).
                let family = family_of(package_of(name));
                if name.starts_with("io.k8s.apimachinery.") {
                    continue;
                }
                by_package_family.entry(family).or_insert(g);
            }
        }
        for f in fixture_names {
            let Some(stem) = f.strip_suffix(".json") else {
                continue;
            };
            let parts: Vec<&str> = stem.split('.').collect();
            if parts.len() < 3 {
                continue;
            }
            let group = parts[..parts.len() - 2].join(".");
            // The group's first label names the package family (`rbac.authorization.k8s.io` →
            // `rbac`); fixtures name the core group `core`.
            let family = group.split('.').next().unwrap_or_default().to_string();
            let group = if group == "core" {
                String::new()
            } else {
                group
            };
            by_package_family.entry(family).or_insert(group);
        }
        Groups(by_package_family)
    }

    fn group(&self, package: &str) -> Option<&str> {
        self.0.get(&family_of(package)).map(String::as_str)
    }
}

/// The package without its version: `io.k8s.api.apps.v1beta2` → `apps`.
fn family_of(package: &str) -> String {
    let mut parts: Vec<&str> = package.split('.').collect();
    parts.pop();
    parts.last().copied().unwrap_or_default().to_string()
}

fn version_of(package: &str) -> &str {
    package.rsplit('.').next().unwrap_or(package)
}

fn gvks_of(def: &Value) -> Vec<(String, String, String)> {
    let Some(list) = def
        .get("x-kubernetes-group-version-kind")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|g| {
            Some((
                g.get("group")?.as_str()?.to_string(),
                g.get("version")?.as_str()?.to_string(),
                g.get("kind")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

/// Everything the generator reads.
pub struct Inputs<'a> {
    pub protos: &'a BTreeMap<String, ProtoMessage>,
    pub definitions: &'a serde_json::Map<String, Value>,
    pub groups: &'a Groups,
    pub fixtures: &'a BTreeSet<(String, String, String)>,
}

impl Inputs<'_> {
    /// The OpenAPI definition of `name`, or of the same type in a served version of its
    /// package family (preferring stable versions), or else of another group, and whether it
    /// is the type's own.
    fn openapi(&self, name: &str) -> Option<(&Value, bool)> {
        if let Some(d) = self.definitions.get(name) {
            return Some((d, true));
        }
        let package = package_of(name);
        let family = package.rsplit_once('.').map(|(f, _)| f)?;
        let short = short_of(name);
        let mut candidates: Vec<(&String, &Value)> = self
            .definitions
            .iter()
            .filter(|(n, _)| {
                short_of(n) == short
                    && package_of(n).rsplit_once('.').map(|(f, _)| f) == Some(family)
            })
            .collect();
        if candidates.is_empty() {
            // A type that moved between groups (`extensions/v1beta1` to `networking.k8s.io`).
            candidates = self
                .definitions
                .iter()
                .filter(|(n, _)| short_of(n) == short && n.starts_with("io.k8s.api."))
                .collect();
        }
        candidates.sort_by_key(|(n, _)| version_rank(version_of(package_of(n))));
        candidates.first().map(|(_, d)| (*d, false))
    }

    /// A message that only wraps a list so that protobuf can nest it (`ExtraValue`,
    /// `Verbs`): `{repeated T items = 1}` with no OpenAPI definition of its own.
    fn list_wrapper(&self, name: &str) -> Option<&ProtoField> {
        let m = self.protos.get(name)?;
        match m.fields.as_slice() {
            [f] if f.name == "items"
                && f.number == 1
                && f.label == Label::Repeated
                && !self.definitions.contains_key(name) =>
            {
                Some(f)
            }
            _ => None,
        }
    }

    /// The type of a proto field as JSON sees it.
    fn proto_ty(&self, f: &ProtoField) -> Ty {
        let one = self.proto_value_ty(&f.ty);
        match f.label {
            Label::Optional => one,
            Label::Repeated => Ty::List(Box::new(one)),
            Label::Map => Ty::Map(Box::new(one)),
        }
    }

    fn proto_value_ty(&self, ty: &str) -> Ty {
        match ty {
            "string" => Ty::Scalar("String"),
            "int32" => Ty::Scalar("Int32"),
            "int64" => Ty::Scalar("Int64"),
            "bool" => Ty::Scalar("Bool"),
            "bytes" => Ty::Scalar("Bytes"),
            "double" => Ty::Scalar("Double"),
            name => {
                if let Some(s) = special(name) {
                    return Ty::Scalar(s);
                }
                if let Some(inner) = self.list_wrapper(name) {
                    return Ty::List(Box::new(self.proto_value_ty(&inner.ty)));
                }
                Ty::Ref(name.to_string())
            }
        }
    }

    /// The JSON names a message contributes to an object, its inline fields expanded.
    fn json_names(&self, name: &str, depth: usize) -> Vec<String> {
        let Some(m) = self.protos.get(name) else {
            return Vec::new();
        };
        if depth > 4 {
            return Vec::new();
        }
        let own = self.openapi(name).map(|(d, _)| d);
        let mut out = Vec::new();
        for f in &m.fields {
            match own.and_then(|d| property(d, &f.name)) {
                Some((json, _)) => out.push(json),
                None if self.is_inline(f, own) => out.extend(self.json_names(&f.ty, depth + 1)),
                None => out.push(f.name.clone()),
            }
        }
        out
    }

    /// A Go embedded struct: a singular message field that OpenAPI does not list, whose
    /// own fields OpenAPI lists in its place (`Volume.volumeSource`, `Probe.handler`).
    fn is_inline(&self, f: &ProtoField, def: Option<&Value>) -> bool {
        if f.label != Label::Optional
            || special(&f.ty).is_some()
            || !self.protos.contains_key(&f.ty)
        {
            return false;
        }
        if def.and_then(|d| property(d, &f.name)).is_some() {
            return false;
        }
        let Some(props) = def
            .and_then(|d| d.get("properties"))
            .and_then(Value::as_object)
        else {
            return false;
        };
        let names = self.json_names(&f.ty, 1);
        !names.is_empty() && names.iter().all(|n| props.contains_key(n))
    }

    /// Every declaration to generate, sorted by name.
    pub fn defs(&self) -> Result<Vec<Def>, String> {
        let mut names: BTreeSet<&str> = self.protos.keys().map(String::as_str).collect();
        names.extend(self.definitions.keys().map(String::as_str));
        let mut out = Vec::new();
        for name in names {
            if skipped(name) || special(name).is_some() || self.list_wrapper(name).is_some() {
                continue;
            }
            out.push(self.def(name)?);
        }
        Ok(out)
    }

    fn def(&self, name: &str) -> Result<Def, String> {
        let openapi = self.openapi(name);
        let own = openapi.filter(|(_, own)| *own).map(|(d, _)| d);
        let meta = openapi.map(|(d, _)| d);
        let required: BTreeSet<String> = meta
            .and_then(|d| d.get("required"))
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let mut fields = Vec::new();
        let mut covered: BTreeSet<String> = BTreeSet::new();
        if let Some(m) = self.protos.get(name) {
            for f in &m.fields {
                let ty = self.proto_ty(f);
                match meta.and_then(|d| property(d, &f.name)) {
                    Some((json, prop)) => {
                        covered.insert(json.clone());
                        fields.push(FieldDef {
                            required: required.contains(&json),
                            json,
                            proto: f.number,
                            ty,
                            inline: false,
                            merge: merge_of(&prop),
                        });
                    }
                    None if self.is_inline(f, meta) => {
                        covered.extend(self.json_names(&f.ty, 0));
                        fields.push(FieldDef {
                            json: f.name.clone(),
                            proto: f.number,
                            ty,
                            required: false,
                            inline: true,
                            merge: Merge::default(),
                        });
                    }
                    None => fields.push(FieldDef {
                        json: f.name.clone(),
                        proto: f.number,
                        ty,
                        required: false,
                        inline: false,
                        merge: Merge::default(),
                    }),
                }
            }
        }
        // Fields OpenAPI has and protobuf does not (`apiVersion` and `kind` of a kind travel in
        // the protobuf envelope and are left out).
        if let Some(d) = own {
            let is_kind = !gvks_of(d).is_empty() || self.protos.contains_key(name);
            if let Some(props) = d.get("properties").and_then(Value::as_object) {
                for (json, prop) in props {
                    let envelope = json == "apiVersion" || json == "kind";
                    if covered.contains(json) || envelope && is_kind {
                        continue;
                    }
                    fields.push(FieldDef {
                        json: json.clone(),
                        proto: 0,
                        ty: self.openapi_ty(prop)?,
                        required: required.contains(json),
                        inline: false,
                        merge: merge_of(prop),
                    });
                }
            }
        }
        let mut gvks = own.map(gvks_of).unwrap_or_default();
        if gvks.is_empty() {
            let package = package_of(name);
            if let Some(group) = self.groups.group(package) {
                let key = (
                    group.to_string(),
                    version_of(package).to_string(),
                    short_of(name).to_string(),
                );
                if self.fixtures.contains(&key) {
                    gvks.push(key);
                }
            }
        }
        Ok(Def {
            name: name.to_string(),
            gvks,
            atomic: meta
                .and_then(|d| d.get("x-kubernetes-map-type"))
                .and_then(Value::as_str)
                == Some("atomic"),
            fields,
        })
    }

    /// The type of a property that only OpenAPI declares.
    fn openapi_ty(&self, prop: &Value) -> Result<Ty, String> {
        if let Some(r) = prop.get("$ref").and_then(Value::as_str) {
            let name = r.trim_start_matches("#/definitions/");
            return Ok(special(name)
                .map(Ty::Scalar)
                .unwrap_or_else(|| Ty::Ref(name.to_string())));
        }
        let format = prop.get("format").and_then(Value::as_str).unwrap_or("");
        Ok(
            match prop.get("type").and_then(Value::as_str).unwrap_or("") {
                "string" if format == "byte" => Ty::Scalar("Bytes"),
                "string" => Ty::Scalar("String"),
                "integer" if format == "int32" => Ty::Scalar("Int32"),
                "integer" => Ty::Scalar("Int64"),
                "number" => Ty::Scalar("Double"),
                "boolean" => Ty::Scalar("Bool"),
                "array" => {
                    let items = prop.get("items").ok_or("array without items")?;
                    Ty::List(Box::new(self.openapi_ty(items)?))
                }
                "object" => match prop.get("additionalProperties") {
                    Some(v) => Ty::Map(Box::new(self.openapi_ty(v)?)),
                    None => Ty::Scalar("RawJson"),
                },
                _ => Ty::Scalar("RawJson"),
            },
        )
    }
}

/// Stable versions first, then beta, then alpha; higher numbers first within each.
fn version_rank(v: &str) -> (u8, i64) {
    let digits = |s: &str| -> i64 { s.parse().unwrap_or(0) };
    let rest = v.trim_start_matches('v');
    if let Some((major, minor)) = rest.split_once("beta") {
        (1, -(digits(major) * 100 + digits(minor)))
    } else if let Some((major, minor)) = rest.split_once("alpha") {
        (2, -(digits(major) * 100 + digits(minor)))
    } else {
        (0, -digits(rest))
    }
}

/// The OpenAPI property a proto field is, by name or normalized name.
fn property(def: &Value, proto_name: &str) -> Option<(String, Value)> {
    let props = def.get("properties")?.as_object()?;
    if let Some(p) = props.get(proto_name) {
        return Some((proto_name.to_string(), p.clone()));
    }
    let n = normalized(proto_name);
    props
        .iter()
        .find(|(k, _)| normalized(k) == n)
        .map(|(k, v)| (k.clone(), v.clone()))
}

fn merge_of(prop: &Value) -> Merge {
    let s = |k: &str| prop.get(k).and_then(Value::as_str).map(String::from);
    Merge {
        list_type: s("x-kubernetes-list-type"),
        map_keys: prop
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        patch_strategy: s("x-kubernetes-patch-strategy"),
        patch_merge_key: s("x-kubernetes-patch-merge-key"),
        map_type: s("x-kubernetes-map-type"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_rank_stable_first() {
        let mut v = vec!["v1beta1", "v1alpha1", "v1", "v2", "v1beta2"];
        v.sort_by_key(|v| version_rank(v));
        assert_eq!(v, ["v2", "v1", "v1beta2", "v1beta1", "v1alpha1"]);
    }

    #[test]
    fn inline_fields_are_those_openapi_flattens() {
        let f = ProtoField {
            label: Label::Optional,
            ty: "io.k8s.api.core.v1.VolumeSource".into(),
            name: "volumeSource".into(),
            number: 2,
        };
        let mut protos = BTreeMap::new();
        protos.insert(
            f.ty.clone(),
            ProtoMessage {
                def: f.ty.clone(),
                fields: vec![
                    ProtoField {
                        label: Label::Optional,
                        ty: "string".into(),
                        name: "secret".into(),
                        number: 1,
                    },
                    ProtoField {
                        label: Label::Optional,
                        ty: "string".into(),
                        name: "nfs".into(),
                        number: 2,
                    },
                ],
            },
        );
        let definitions = serde_json::Map::new();
        let groups = Groups(BTreeMap::new());
        let fixtures = BTreeSet::new();
        let inputs = Inputs {
            protos: &protos,
            definitions: &definitions,
            groups: &groups,
            fixtures: &fixtures,
        };
        assert!(!inputs.is_inline(&f, None));
        let listed = serde_json::json!({"properties": {"volumeSource": {}}});
        assert!(!inputs.is_inline(&f, Some(&listed)));
        let flattened = serde_json::json!({"properties": {"secret": {}, "nfs": {}}});
        assert!(inputs.is_inline(&f, Some(&flattened)));
    }
}

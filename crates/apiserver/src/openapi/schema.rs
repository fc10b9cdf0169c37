//! Component schemas, derived from the type model ([`Message`] trees) of the registered
//! kinds: one schema per message name, the `<Kind>List` of every resource, a permissive
//! schema for kinds served without a declaration, and the named scalar types
//! (`Time`, `MicroTime`, `Quantity`, `IntOrString`).

use std::collections::{BTreeMap, BTreeSet};

use apimachinery::schema::{decl, Field, MessageRef, Type};
use serde_json::{json, Map, Value};

use super::meta_types;
use crate::registry::ResourceDecl;

pub const TIME: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Time";
pub const MICRO_TIME: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime";
pub const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
pub const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
pub const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// The shared `meta/v1` declarations the paths refer to (request and response bodies).
const SHARED: [&decl::Message; 4] = [
    &apimachinery::types::STATUS,
    &apimachinery::types::DELETE_OPTIONS,
    &apimachinery::types::WATCH_EVENT,
    &apimachinery::types::LIST_META,
];

/// Which OpenAPI document a schema is written for: Swagger 2.0 (`/openapi/v2`) or
/// OpenAPI 3.0 (`/openapi/v3/...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    V2,
    V3,
}

impl Flavor {
    /// A `$ref` to the named schema.
    pub fn reference(self, name: &str) -> Value {
        let prefix = match self {
            Flavor::V2 => "#/definitions/",
            Flavor::V3 => "#/components/schemas/",
        };
        json!({ "$ref": format!("{prefix}{name}") })
    }
}

/// `(group, version, kind)`.
pub type Gvk = (String, String, String);

/// What a component schema is generated from.
#[derive(Debug, Clone)]
pub enum Def {
    Message(MessageRef),
    /// The `<kind>` list of a resource, whose items have the schema named `item`.
    List {
        kind: String,
        item: String,
    },
    /// A kind served without a declared schema: any fields are kept.
    Permissive,
    Time,
    MicroTime,
    Quantity,
    IntOrString,
}

/// Every schema that can be published for a set of resources, by name.
pub struct Universe {
    defs: BTreeMap<String, Def>,
}

impl Universe {
    /// The schemas of `decls` (their messages, recursively, and their lists), the shared
    /// `meta/v1` types and the named scalars. The first declaration of a name wins, and
    /// the resources' own declarations come first.
    pub fn new(decls: &[&ResourceDecl]) -> Universe {
        let mut u = Universe {
            defs: BTreeMap::new(),
        };
        for d in decls {
            if let Some(m) = &d.schema {
                u.add_message(m);
            }
            for m in d.subresources.iter().filter_map(|s| s.schema.as_ref()) {
                u.add_message(m);
            }
        }
        for m in SHARED.iter().chain(meta_types::ALL.iter()) {
            u.add_message(apimachinery::types::handle(m));
        }
        for d in decls {
            let kind = kind_schema_name(d);
            if d.schema.is_none() {
                u.defs.entry(kind.clone()).or_insert(Def::Permissive);
            }
            u.defs.entry(list_schema_name(d)).or_insert(Def::List {
                kind: d.list_kind(),
                item: kind,
            });
        }
        for (name, def) in [
            (TIME, Def::Time),
            (MICRO_TIME, Def::MicroTime),
            (QUANTITY, Def::Quantity),
            (INT_OR_STRING, Def::IntOrString),
        ] {
            u.defs.entry(name.to_string()).or_insert(def);
        }
        u
    }

    fn add_message(&mut self, m: &MessageRef) {
        if self.defs.contains_key(&*m.name) {
            return;
        }
        self.defs
            .insert(m.name.to_string(), Def::Message(m.clone()));
        for f in m.json_fields() {
            self.add_type(&f.ty);
        }
    }

    fn add_type(&mut self, ty: &Type) {
        match ty {
            Type::Message(m) => self.add_message(m),
            Type::List(t) | Type::Map(t) => self.add_type(t),
            _ => {}
        }
    }

    pub fn get(&self, name: &str) -> Option<&Def> {
        self.defs.get(name)
    }

    /// The schemas `roots` refer to, directly or through other schemas, rendered.
    pub fn closure(&self, roots: BTreeSet<String>, renderer: &Renderer) -> Map<String, Value> {
        let mut out = Map::new();
        let mut queue: Vec<String> = roots.into_iter().collect();
        while let Some(name) = queue.pop() {
            if out.contains_key(&name) {
                continue;
            }
            let Some(def) = self.defs.get(&name) else {
                continue;
            };
            let mut refs = BTreeSet::new();
            let schema = renderer.render(def, &name, self, &mut refs);
            out.insert(name, schema);
            queue.extend(refs.into_iter().filter(|r| !out.contains_key(r)));
        }
        out
    }
}

/// The schema name of a resource's kind: its declaration's name, or one in upstream's
/// naming scheme when it has none.
pub fn kind_schema_name(d: &ResourceDecl) -> String {
    match &d.schema {
        Some(m) => m.name.to_string(),
        None => format!("{}.{}", default_package(&d.group, &d.version), d.kind),
    }
}

/// The schema name of a resource's list kind: next to its kind's (`...v1.ConfigMapList`).
pub fn list_schema_name(d: &ResourceDecl) -> String {
    let kind = kind_schema_name(d);
    match kind.rsplit_once('.') {
        Some((package, _)) => format!("{package}.{}", d.list_kind()),
        None => d.list_kind(),
    }
}

/// The definition-name prefix upstream uses for a group-version's types.
fn default_package(group: &str, version: &str) -> String {
    let package = match group {
        "" => "io.k8s.api.core".to_string(),
        "apiextensions.k8s.io" => {
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions".to_string()
        }
        "apiregistration.k8s.io" => "io.k8s.kube-aggregator.pkg.apis.apiregistration".to_string(),
        "internal.apiserver.k8s.io" => "io.k8s.api.apiserverinternal".to_string(),
        g if !g.contains('.') => format!("io.k8s.api.{g}"),
        g if g.ends_with(".k8s.io") => {
            format!("io.k8s.api.{}", g.split('.').next().unwrap_or(g))
        }
        // Custom resources: the group's labels reversed (`stable.example.com` →
        // `com.example.stable`).
        g => g.split('.').rev().collect::<Vec<_>>().join("."),
    };
    format!("{package}.{version}")
}

/// Writes schemas for one document.
pub struct Renderer<'a> {
    pub flavor: Flavor,
    /// `x-kubernetes-group-version-kind` of the schemas that have one in this document.
    pub gvks: &'a BTreeMap<String, Vec<Gvk>>,
}

fn gvk_json(gvks: &[Gvk]) -> Value {
    Value::Array(
        gvks.iter()
            .map(|(g, v, k)| json!({"group": g, "kind": k, "version": v}))
            .collect(),
    )
}

fn is_bare_ref(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| o.len() == 1 && o.contains_key("$ref"))
}

impl Renderer<'_> {
    fn reference(&self, name: &str, refs: &mut BTreeSet<String>) -> Value {
        refs.insert(name.to_string());
        self.flavor.reference(name)
    }

    /// The schema of a value of type `ty` (named types as `$ref`s).
    fn type_schema(&self, ty: &Type, refs: &mut BTreeSet<String>) -> Value {
        match ty {
            Type::String => json!({"type": "string"}),
            Type::Bytes => json!({"type": "string", "format": "byte"}),
            Type::Bool => json!({"type": "boolean"}),
            Type::Int32 => json!({"type": "integer", "format": "int32"}),
            Type::Int64 => json!({"type": "integer", "format": "int64"}),
            Type::Double => json!({"type": "number", "format": "double"}),
            Type::Time => self.reference(TIME, refs),
            Type::MicroTime => self.reference(MICRO_TIME, refs),
            Type::Quantity => self.reference(QUANTITY, refs),
            Type::IntOrString => self.reference(INT_OR_STRING, refs),
            Type::RawJson => json!({"type": "object"}),
            Type::Message(m) => self.reference(&m.name, refs),
            Type::List(t) => json!({"type": "array", "items": self.type_schema(t, refs)}),
            Type::Map(t) => {
                json!({"type": "object", "additionalProperties": self.type_schema(t, refs)})
            }
        }
    }

    /// Adds `extra` (a description, extensions) to a property schema. A `$ref` cannot
    /// have siblings in OpenAPI 3.0, so there it is wrapped in `allOf` first, as upstream
    /// writes it.
    fn decorate(&self, schema: Value, extra: Map<String, Value>) -> Value {
        if extra.is_empty() {
            return schema;
        }
        let mut schema = if self.flavor == Flavor::V3 && is_bare_ref(&schema) {
            json!({ "allOf": [schema] })
        } else {
            schema
        };
        if let Some(obj) = schema.as_object_mut() {
            obj.extend(extra);
        }
        schema
    }

    fn field_schema(&self, f: &Field, refs: &mut BTreeSet<String>) -> Value {
        let schema = self.type_schema(&f.ty, refs);
        let mut extra = Map::new();
        if !f.description.is_empty() {
            extra.insert("description".into(), json!(f.description));
        }
        let m = &f.merge;
        if let Some(t) = &m.list_type {
            extra.insert("x-kubernetes-list-type".into(), json!(t));
        }
        if !m.map_keys.is_empty() {
            extra.insert("x-kubernetes-list-map-keys".into(), json!(m.map_keys));
        }
        if let Some(t) = &m.map_type {
            extra.insert("x-kubernetes-map-type".into(), json!(t));
        }
        if let Some(s) = &m.patch_strategy {
            extra.insert("x-kubernetes-patch-strategy".into(), json!(s));
        }
        if let Some(k) = &m.patch_merge_key {
            extra.insert("x-kubernetes-patch-merge-key".into(), json!(k));
        }
        self.decorate(schema, extra)
    }

    fn described(&self, schema: Value, description: &str) -> Value {
        let mut extra = Map::new();
        extra.insert("description".into(), json!(description));
        self.decorate(schema, extra)
    }

    fn type_meta(props: &mut Map<String, Value>) {
        props.entry("apiVersion").or_insert_with(
            || json!({"type": "string", "description": meta_types::API_VERSION_DOC}),
        );
        props
            .entry("kind")
            .or_insert_with(|| json!({"type": "string", "description": meta_types::KIND_DOC}));
    }

    fn object(
        description: &str,
        props: Map<String, Value>,
        required: Vec<&str>,
        gvks: Option<&Vec<Gvk>>,
    ) -> Value {
        let mut s = Map::new();
        if !description.is_empty() {
            s.insert("description".into(), json!(description));
        }
        if !props.is_empty() {
            s.insert("properties".into(), Value::Object(props));
        }
        if !required.is_empty() {
            s.insert("required".into(), json!(required));
        }
        s.insert("type".into(), json!("object"));
        if let Some(g) = gvks.filter(|g| !g.is_empty()) {
            s.insert("x-kubernetes-group-version-kind".into(), gvk_json(g));
        }
        Value::Object(s)
    }

    /// The component schema `name`, defined by `def`; the names it refers to are added to
    /// `refs`.
    pub fn render(
        &self,
        def: &Def,
        name: &str,
        universe: &Universe,
        refs: &mut BTreeSet<String>,
    ) -> Value {
        let doc_gvks = self.gvks.get(name);
        match def {
            Def::Message(m) => {
                let own;
                let gvks = match (doc_gvks, m.gvks.is_empty()) {
                    (Some(g), _) => Some(g),
                    (None, false) => {
                        own = m
                            .gvks
                            .iter()
                            .map(|g| {
                                (
                                    g.group.to_string(),
                                    g.version.to_string(),
                                    g.kind.to_string(),
                                )
                            })
                            .collect::<Vec<_>>();
                        Some(&own)
                    }
                    (None, true) => None,
                };
                let fields = m.json_fields();
                let mut props = Map::new();
                for f in &fields {
                    props.insert(f.json.to_string(), self.field_schema(f, refs));
                }
                // Kinds carry type metadata; a watch event, though it has a kind, does not.
                if gvks.is_some() && m.name != apimachinery::types::WATCH_EVENT.name {
                    Self::type_meta(&mut props);
                }
                let required = fields
                    .iter()
                    .filter(|f| f.required)
                    .map(|f| &*f.json)
                    .collect();
                let mut s = Self::object(&m.description, props, required, gvks);
                if m.atomic {
                    s["x-kubernetes-map-type"] = json!("atomic");
                }
                s
            }
            Def::List { kind, item } => {
                let mut props = Map::new();
                Self::type_meta(&mut props);
                let items = json!({"type": "array", "items": self.reference(item, refs)});
                let item_kind = kind.strip_suffix("List").unwrap_or(kind);
                props.insert(
                    "items".into(),
                    self.described(items, &format!("The {item_kind} objects of the list.")),
                );
                let meta = self.reference(apimachinery::types::LIST_META.name, refs);
                props.insert(
                    "metadata".into(),
                    self.described(meta, "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"),
                );
                let description = format!("{kind} is a list of {item_kind} objects.");
                Self::object(&description, props, vec!["items"], doc_gvks)
            }
            Def::Permissive => {
                let mut props = Map::new();
                Self::type_meta(&mut props);
                if universe.get(OBJECT_META).is_some() {
                    let meta = self.reference(OBJECT_META, refs);
                    props.insert(
                        "metadata".into(),
                        self.described(meta, "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"),
                    );
                }
                let mut s = Self::object("", props, Vec::new(), doc_gvks);
                s["x-kubernetes-preserve-unknown-fields"] = json!(true);
                s
            }
            Def::Time => json!({
                "description": "Time is a timestamp in RFC 3339 form, in UTC with second precision.",
                "type": "string",
                "format": "date-time",
            }),
            Def::MicroTime => json!({
                "description": "MicroTime is a timestamp in RFC 3339 form, in UTC with microsecond precision.",
                "type": "string",
                "format": "date-time",
            }),
            Def::Quantity => {
                let description = "Quantity is a fixed-point number, written as a string: a decimal number with an optional suffix, either binary SI (Ki, Mi, Gi, Ti, Pi, Ei), decimal SI (m, \"\", k, M, G, T, P, E) or a decimal exponent (e3, E-2). Values are written back in canonical form without losing precision (1.5 as \"1500m\", 1.5Gi as \"1536Mi\"); a quantity is at most 2^63-1 in magnitude with at most three decimal places.";
                match self.flavor {
                    Flavor::V2 => json!({"description": description, "type": "string"}),
                    Flavor::V3 => json!({
                        "description": description,
                        "oneOf": [{"type": "string"}, {"type": "number"}],
                    }),
                }
            }
            Def::IntOrString => {
                let description = "IntOrString holds either an int32 or a string, and is written in JSON or YAML as that inner value (e.g. a port number or a port name).";
                match self.flavor {
                    Flavor::V2 => json!({
                        "description": description,
                        "type": "string",
                        "format": "int-or-string",
                    }),
                    Flavor::V3 => json!({
                        "description": description,
                        "format": "int-or-string",
                        "oneOf": [{"type": "integer"}, {"type": "string"}],
                    }),
                }
            }
        }
    }
}

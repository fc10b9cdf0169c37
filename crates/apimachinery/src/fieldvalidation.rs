//! Unknown and duplicate fields in request bodies, and the `fieldValidation` directive
//! (`Ignore`, `Warn`, `Strict`) of create, update and patch requests.
//!
//! Upstream decodes a body into its Go type: JSON keys that match no field are dropped (at
//! any depth), and a key given twice is decoded again into what the first one produced.
//! With `Warn` or `Strict` the decoder also reports every unknown and duplicate field, in
//! document order, as `unknown field "metadata.foo"` / `duplicate field "data.x"`; `Warn`
//! turns each into a warning, `Strict` fails the request. This module does the same from
//! the [`Message`] declarations: [`decode_typed`] for create and update bodies,
//! [`decode_untyped`] and [`decode_json_patch`] for patch bodies (duplicates only),
//! [`prune_unknown`] for objects already in memory (a patch's result), and
//! [`patch_report`] for what upstream reports about a patched object.
//!
//! Kinds without a declaration are left alone by the callers.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::errors::{ApiError, FieldError, FieldPath};
use crate::gofmt::{go_format_float_g, go_json, go_quote};
use crate::schema::{Message, Type};

/// The `fieldValidation` directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    /// Unknown fields are dropped and duplicates resolved silently.
    Ignore,
    /// As `Ignore`, with a warning per unknown or duplicate field (the default).
    Warn,
    /// Any unknown or duplicate field fails the request.
    Strict,
}

impl Directive {
    /// Parses the `fieldValidation` query value; absent or empty means `Warn`, as upstream
    /// since the feature went GA. An unsupported value is a `fieldValidation` field error,
    /// which the caller reports in its options type's 422 (`CreateOptions.meta.k8s.io`).
    pub fn parse(value: Option<&str>) -> Result<Directive, Box<FieldError>> {
        match value.unwrap_or("") {
            "" | "Warn" => Ok(Directive::Warn),
            "Ignore" => Ok(Directive::Ignore),
            "Strict" => Ok(Directive::Strict),
            other => Err(Box::new(FieldError::not_supported(
                &FieldPath::new("fieldValidation"),
                Value::String(other.to_string()),
                &["", "Ignore", "Strict", "Warn"],
            ))),
        }
    }

    /// Whether unknown and duplicate fields are reported (`Warn` and `Strict`).
    pub fn reports(self) -> bool {
        !matches!(self, Directive::Ignore)
    }
}

/// What a strict decoding found wrong with one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StrictKind {
    Unknown,
    Duplicate,
}

/// One strict decoding error: `unknown field "spec"`, `duplicate field "data.x"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StrictError {
    pub kind: StrictKind,
    /// The field's path: keys joined with `.`, list indices as `[0]`.
    pub path: String,
}

impl fmt::Display for StrictError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            StrictKind::Unknown => "unknown field",
            StrictKind::Duplicate => "duplicate field",
        };
        write!(f, "{kind} {}", go_quote(&self.path))
    }
}

/// Upstream keeps at most this many strict errors per decoding.
const MAX_STRICT_ERRORS: usize = 100;

/// A decoded body and the strict errors found in it, in document order.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub value: Value,
    pub errors: Vec<StrictError>,
}

/// `strict decoding error: <e1>, <e2>`: upstream's message for a list of strict errors.
pub fn strict_decoding_message<S: AsRef<str>>(errors: &[S]) -> String {
    let parts: Vec<&str> = errors.iter().map(AsRef::as_ref).collect();
    format!("strict decoding error: {}", parts.join(", "))
}

/// The 400 a `Strict` create or update gets: `ConfigMap in version "v1" cannot be handled
/// as a ConfigMap: strict decoding error: unknown field "spec"`. `body_kind` and
/// `body_version` are the type the body named (defaulted from the resource).
pub fn strict_body_error<S: AsRef<str>>(
    body_kind: &str,
    body_version: &str,
    kind: &str,
    errors: &[S],
) -> ApiError {
    ApiError::bad_request(&format!(
        "{body_kind} in version {} cannot be handled as a {kind}: {}",
        go_quote(body_version),
        strict_decoding_message(errors)
    ))
}

/// The 422 a `Strict` patch gets: `"" is invalid: patch: Invalid value: "<patched>":
/// strict decoding error: ...`, where `<patched>` is upstream's rendering of the patched
/// object (see [`PatchReport::rendered`]).
pub fn strict_patch_error<S: AsRef<str>>(rendered: &str, errors: &[S]) -> ApiError {
    ApiError::invalid(
        "",
        "",
        "",
        vec![FieldError::invalid(
            &FieldPath::new("patch"),
            Value::String(rendered.to_string()),
            &strict_decoding_message(errors),
        )],
    )
}

// ---------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------

/// How a JSON value is decoded: the Go type it lands in.
#[derive(Debug, Clone, Copy)]
enum Shape<'s> {
    /// A struct; `true` for the top-level object, whose `apiVersion` and `kind` are known.
    Message(&'s Message, bool),
    /// A field of a declared type.
    Type(&'s Type),
    /// `interface{}`: every key is known; duplicates are found at any depth.
    Any,
    /// Taken as it is: scalars, `RawJson` (custom unmarshalers), and values of the wrong
    /// JSON type for their field.
    Opaque,
    /// `[]jsonPatchOp` of a JSON patch body.
    PatchOps,
    /// One `{op, path, from, value}` of a JSON patch.
    PatchOp,
}

/// A `Shape` with `Type` resolved.
#[derive(Debug, Clone, Copy)]
enum Resolved<'s> {
    Message(&'s Message, bool),
    Map(Shape<'s>),
    List(Shape<'s>),
    Any,
    Opaque,
    PatchOp,
}

impl<'s> Shape<'s> {
    fn resolve(self) -> Resolved<'s> {
        match self {
            Shape::Message(m, top) => Resolved::Message(m, top),
            Shape::Type(Type::Message(m)) => Resolved::Message(m, false),
            Shape::Type(Type::List(item)) => Resolved::List(Shape::Type(item)),
            Shape::Type(Type::Map(value)) => Resolved::Map(Shape::Type(value)),
            Shape::Type(_) | Shape::Opaque => Resolved::Opaque,
            Shape::Any => Resolved::Any,
            Shape::PatchOps => Resolved::List(Shape::PatchOp),
            Shape::PatchOp => Resolved::PatchOp,
        }
    }
}

/// The shape of field `key` of a struct, or `None` when the field is unknown.
fn struct_field<'s>(resolved: Resolved<'s>, key: &str) -> Option<Shape<'s>> {
    match resolved {
        Resolved::Message(_, true) if key == "apiVersion" || key == "kind" => Some(Shape::Opaque),
        Resolved::Message(m, _) => m.field(key).map(|f| Shape::Type(&f.ty)),
        Resolved::PatchOp => match key {
            "op" | "path" | "from" => Some(Shape::Opaque),
            "value" => Some(Shape::Any),
            _ => None,
        },
        _ => Some(Shape::Opaque),
    }
}

/// The decoder's state: the path of the value being decoded and the errors so far.
#[derive(Default)]
struct State {
    path: String,
    errors: Vec<StrictError>,
    seen: HashSet<StrictError>,
}

impl State {
    fn push_key(&mut self, key: &str) -> usize {
        let len = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(key);
        len
    }

    fn push_index(&mut self, i: usize) -> usize {
        let len = self.path.len();
        self.path.push('[');
        self.path.push_str(&i.to_string());
        self.path.push(']');
        len
    }

    fn record(&mut self, kind: StrictKind, key: &str) {
        if self.errors.len() >= MAX_STRICT_ERRORS {
            return;
        }
        let path = if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        };
        let err = StrictError { kind, path };
        if self.seen.insert(err.clone()) {
            self.errors.push(err);
        }
    }
}

struct Seed<'a, 's> {
    shape: Shape<'s>,
    state: &'a mut State,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        match self.shape.resolve() {
            Resolved::Opaque => Value::deserialize(d),
            resolved => d.deserialize_any(ShapeVisitor {
                resolved,
                state: self.state,
            }),
        }
    }
}

struct ShapeVisitor<'a, 's> {
    resolved: Resolved<'s>,
    state: &'a mut State,
}

impl<'de> Visitor<'de> for ShapeVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Seed {
            shape: Shape::Opaque,
            state: self.state,
        }
        .deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let item = match self.resolved {
            Resolved::List(item) => item,
            Resolved::Any => Shape::Any,
            _ => Shape::Opaque,
        };
        let mut out = Vec::new();
        loop {
            let len = self.state.push_index(out.len());
            let next = seq.next_element_seed(Seed {
                shape: item,
                state: self.state,
            });
            self.state.path.truncate(len);
            match next? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let resolved = self.resolved;
        let state = self.state;
        let mut out = Map::new();
        let mut seen: HashSet<String> = HashSet::new();
        let is_struct = matches!(resolved, Resolved::Message(..) | Resolved::PatchOp);
        while let Some(key) = map.next_key::<String>()? {
            let shape = match resolved {
                Resolved::Message(..) | Resolved::PatchOp => struct_field(resolved, &key),
                Resolved::Map(value) => Some(value),
                Resolved::Any => Some(Shape::Any),
                // A list field given an object: taken as it is.
                Resolved::List(_) | Resolved::Opaque => Some(Shape::Opaque),
            };
            let Some(shape) = shape else {
                // Unknown fields are skipped without looking inside.
                state.record(StrictKind::Unknown, &key);
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let duplicate = !seen.insert(key.clone());
            if duplicate && !matches!(resolved, Resolved::List(_) | Resolved::Opaque) {
                state.record(StrictKind::Duplicate, &key);
            }
            let len = state.push_key(&key);
            let value = map.next_value_seed(Seed {
                shape,
                state: &mut *state,
            });
            state.path.truncate(len);
            let value = value?;
            match out.get_mut(&key) {
                // A struct field given twice is decoded into what the first one produced.
                Some(old) if is_struct => decode_into(old, value, shape),
                _ => {
                    out.insert(key, value);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Go's decoding of `new` into a value already holding `old`: structs keep the fields `new`
/// does not set, maps keep their other keys, lists are decoded element by element and take
/// `new`'s length; anything else is replaced.
fn decode_into(old: &mut Value, new: Value, shape: Shape) {
    match (shape.resolve(), old, new) {
        (
            resolved @ (Resolved::Message(..) | Resolved::PatchOp),
            Value::Object(o),
            Value::Object(n),
        ) => {
            for (k, v) in n {
                match (o.get_mut(&k), struct_field(resolved, &k)) {
                    (Some(ov), Some(fs)) => decode_into(ov, v, fs),
                    _ => {
                        o.insert(k, v);
                    }
                }
            }
        }
        (Resolved::Map(_), Value::Object(o), Value::Object(n)) => {
            for (k, v) in n {
                o.insert(k, v);
            }
        }
        (Resolved::List(item), Value::Array(o), Value::Array(n)) => {
            let mut merged = Vec::with_capacity(n.len());
            for (i, v) in n.into_iter().enumerate() {
                match o.get_mut(i) {
                    Some(ov) => {
                        let mut ov = std::mem::take(ov);
                        decode_into(&mut ov, v, item);
                        merged.push(ov);
                    }
                    None => merged.push(v),
                }
            }
            *o = merged;
        }
        (_, old, new) => *old = new,
    }
}

fn decode(shape: Shape, body: &[u8]) -> Result<Decoded, serde_json::Error> {
    let mut state = State::default();
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Seed {
        shape,
        state: &mut state,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(Decoded {
        value,
        errors: state.errors,
    })
}

/// Decodes a create or update body into the type `msg` declares, as Go does: unknown fields
/// are dropped (at any depth; `RawJson` fields are taken whole) and a field given twice is
/// decoded into the first. The errors are what a strict decoder reports, in document order.
/// A body that is not a JSON object is returned as it is, without errors.
pub fn decode_typed(msg: &Message, body: &[u8]) -> Result<Decoded, serde_json::Error> {
    decode(Shape::Message(msg, true), body)
}

/// Decodes a merge or strategic merge patch (`map[string]interface{}`): nothing is
/// unknown; duplicate keys are reported at any depth, the last one winning.
pub fn decode_untyped(body: &[u8]) -> Result<Decoded, serde_json::Error> {
    decode(Shape::Any, body)
}

/// Decodes a JSON patch (`[]{op, path, from, value}`): unknown keys of an operation are
/// reported (and dropped), and duplicates at any depth. Upstream prefixes each of these
/// errors with `json patch ` (see [`PatchFormat::Json`]).
pub fn decode_json_patch(body: &[u8]) -> Result<Decoded, serde_json::Error> {
    decode(Shape::PatchOps, body)
}

// ---------------------------------------------------------------------------------------
// Pruning objects in memory
// ---------------------------------------------------------------------------------------

/// Removes the fields `msg` does not declare from `obj`, at any depth (map values, list
/// items and nested messages; `RawJson` fields are opaque; `apiVersion` and `kind` are known
/// at the top level). Returns the paths removed, in the object's key order, in upstream's
/// notation (`spec`, `metadata.foo`, `metadata.ownerReferences[0].bogus`).
pub fn prune_unknown(msg: &Message, obj: &mut Value) -> Vec<String> {
    let mut removed = Vec::new();
    let mut path = String::new();
    prune(Shape::Message(msg, true), obj, &mut path, &mut removed);
    removed
}

fn prune(shape: Shape, v: &mut Value, path: &mut String, removed: &mut Vec<String>) {
    let resolved = shape.resolve();
    match (resolved, v) {
        (Resolved::Message(..), Value::Object(map)) => {
            let mut unknown = Vec::new();
            for (k, child) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                match struct_field(resolved, k) {
                    Some(fs) => prune(fs, child, path, removed),
                    None => {
                        removed.push(path.clone());
                        unknown.push(k.clone());
                    }
                }
                path.truncate(len);
            }
            if !unknown.is_empty() {
                map.retain(|k, _| !unknown.contains(k));
            }
        }
        (Resolved::Map(value), Value::Object(map)) => {
            for (k, child) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                prune(value, child, path, removed);
                path.truncate(len);
            }
        }
        (Resolved::List(item), Value::Array(items)) => {
            for (i, child) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                prune(item, child, path, removed);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// What upstream reports about a patched object
// ---------------------------------------------------------------------------------------

/// The patch formats, as upstream's patchers treat them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchFormat {
    /// `application/json-patch+json`.
    Json,
    /// `application/merge-patch+json`.
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
}

impl PatchFormat {
    /// How an error found in the patch body itself reads (JSON patch errors carry a
    /// `json patch ` prefix upstream).
    pub fn body_error(self, e: &StrictError) -> String {
        match self {
            PatchFormat::Json => format!("json patch {e}"),
            PatchFormat::Merge | PatchFormat::Strategic => e.to_string(),
        }
    }
}

/// What upstream's strict decoding of a patched object reports.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchReport {
    /// The unknown fields of the patched object, as error messages in upstream's order:
    /// document order of the patched JSON for JSON and merge patches, sorted for strategic
    /// merge patches (which upstream checks on the unstructured map).
    pub unknown: Vec<String>,
    /// The value a `Strict` error shows: the patched object's JSON as upstream's patch
    /// library writes it (JSON and merge patches), or Go's `%+v` of the patch (strategic).
    pub rendered: String,
}

/// Upstream's view of `patched`, the result of applying `patch` to `current` (an object of
/// type `msg`). For JSON and merge patches the patched JSON is rebuilt in the key order
/// upstream's JSON patch library produces (the current object in Go field order, with the
/// objects the patch went through re-sorted), so that unknown fields come in the same order.
pub fn patch_report(
    msg: &Message,
    format: PatchFormat,
    current: &Value,
    patch: &Value,
    patched: &Value,
) -> PatchReport {
    match format {
        PatchFormat::Strategic => {
            let mut obj = patched.clone();
            let mut unknown: Vec<String> = prune_unknown(msg, &mut obj)
                .into_iter()
                .map(|p| format!("unknown field \"{p}\""))
                .collect();
            unknown.sort();
            PatchReport {
                unknown,
                rendered: go_sprint(patch),
            }
        }
        PatchFormat::Merge | PatchFormat::Json => {
            let base = go_field_order(Shape::Message(msg, true), current);
            let ordered = match format {
                PatchFormat::Merge => Some(merge_patch_go_order(&base, patch)),
                _ => json_patch_go_order(&base, patch),
            };
            // Should the reordering fail, the patched object as it is still gives the
            // right fields.
            let mut ordered = ordered.unwrap_or_else(|| patched.clone());
            let rendered = go_json(&ordered);
            let mut unknown: Vec<String> = prune_unknown(msg, &mut ordered)
                .into_iter()
                .map(|path| {
                    StrictError {
                        kind: StrictKind::Unknown,
                        path,
                    }
                    .to_string()
                })
                .collect();
            unknown.truncate(MAX_STRICT_ERRORS);
            PatchReport { unknown, rendered }
        }
    }
}

/// `v` in the key order Go's encoder writes its type: `kind` and `apiVersion` first at the
/// top, then declared fields in declaration order, map keys sorted, `RawJson` as it is.
fn go_field_order(shape: Shape, v: &Value) -> Value {
    match (shape.resolve(), v) {
        (resolved @ Resolved::Message(m, top), Value::Object(map)) => {
            let mut out = Map::new();
            let typemeta: &[&str] = if top { &["kind", "apiVersion"] } else { &[] };
            for key in typemeta
                .iter()
                .copied()
                .chain(m.json_fields().into_iter().map(|f| &*f.json))
            {
                if let (Some(child), Some(fs)) = (map.get(key), struct_field(resolved, key)) {
                    out.insert(key.to_string(), go_field_order(fs, child));
                }
            }
            for (k, child) in map {
                if !out.contains_key(k) {
                    out.insert(k.clone(), child.clone());
                }
            }
            Value::Object(out)
        }
        (Resolved::Map(value), Value::Object(map)) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), go_field_order(value, &map[k])))
                    .collect(),
            )
        }
        (Resolved::List(item), Value::Array(items)) => {
            Value::Array(items.iter().map(|i| go_field_order(item, i)).collect())
        }
        _ => v.clone(),
    }
}

/// An object with its keys sorted (what Go's encoder writes for a map).
fn sorted_object(map: Map<String, Value>) -> Map<String, Value> {
    let mut entries: Vec<(String, Value)> = map.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.into_iter().collect()
}

/// A value inserted by a merge patch: nulls dropped from objects, every object sorted (the
/// library parses it all to drop the nulls).
fn pruned_sorted(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(sorted_object(
            map.iter()
                .filter(|(_, c)| !c.is_null())
                .map(|(k, c)| (k.clone(), pruned_sorted(c)))
                .collect(),
        )),
        Value::Array(items) => Value::Array(items.iter().map(pruned_sorted).collect()),
        other => other.clone(),
    }
}

/// RFC 7386 merge of `patch` into `doc`, keeping the key order of upstream's JSON patch
/// library: objects the merge goes through are re-sorted, untouched ones keep their order.
fn merge_patch_go_order(doc: &Value, patch: &Value) -> Value {
    match (doc, patch) {
        (Value::Object(d), Value::Object(p)) => {
            let mut out = d.clone();
            for (k, v) in p {
                if v.is_null() {
                    out.remove(k);
                    continue;
                }
                let merged = match out.get(k) {
                    None | Some(Value::Null) => pruned_sorted(v),
                    Some(cur @ Value::Object(_)) if v.is_object() => merge_patch_go_order(cur, v),
                    Some(Value::Object(_)) => v.clone(),
                    Some(_) => pruned_sorted(v),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(sorted_object(out))
        }
        (_, p) => pruned_sorted(p),
    }
}

/// Applies a JSON patch to `doc` and sorts the objects its operations went through (the
/// root, and every container on an operation's `path` or `from`), as upstream's library
/// re-encodes them. `None` when the patch does not apply.
fn json_patch_go_order(doc: &Value, patch: &Value) -> Option<Value> {
    let ops: json_patch::Patch = serde_json::from_value(patch.clone()).ok()?;
    let mut out = doc.clone();
    json_patch::patch(&mut out, &ops).ok()?;
    // JSON pointers (still escaped) of the containers the operations went through.
    let mut touched: Vec<String> = vec![String::new()];
    for op in patch.as_array()? {
        for key in ["path", "from"] {
            if let Some(pointer) = op.get(key).and_then(Value::as_str) {
                let tokens: Vec<&str> = pointer.split('/').skip(1).collect();
                for n in 1..tokens.len() {
                    touched.push(format!("/{}", tokens[..n].join("/")));
                }
            }
        }
    }
    for pointer in touched {
        if let Some(Value::Object(m)) = out.pointer_mut(&pointer) {
            *m = sorted_object(std::mem::take(m));
        }
    }
    Some(out)
}

/// Go's `fmt.Sprintf("%+v", v)` of a decoded `map[string]interface{}` (integers kept as
/// int64, other numbers float64): `map[data:map[a:b] spec:map[]]`.
pub fn go_sprint(v: &Value) -> String {
    let mut out = String::new();
    write_go_sprint(v, &mut out);
    out
}

fn write_go_sprint(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_i64() {
            Some(i) => out.push_str(&i.to_string()),
            None => out.push_str(&go_format_float_g(n.as_f64().unwrap_or(0.0))),
        },
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_go_sprint(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_go_sprint(&map[k], out);
            }
            out.push(']');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::decl::{Field, Message, Type};
    use crate::schema::MessageRef;

    /// The run-time form of a test declaration.
    fn rt(d: &'static Message) -> MessageRef {
        MessageRef::from_decl(d)
    }
    use crate::types::OBJECT_META;
    use serde_json::json;

    static THING_SPEC: Message = Message {
        name: "io.example.v1.ThingSpec",
        description: "",
        gvks: &[],
        atomic: false,
        fields: &[
            Field::new("size", 1, Type::Int32),
            Field::new("tags", 2, Type::List(&Type::String)),
            Field::new("raw", 3, Type::RawJson),
        ],
    };

    static THING: Message = Message {
        name: "io.example.v1.Thing",
        description: "",
        gvks: &[("", "v1", "Thing")],
        atomic: false,
        fields: &[
            Field::new("metadata", 1, Type::Message(&OBJECT_META)),
            Field::new("data", 2, Type::Map(&Type::String)),
            Field::new("spec", 3, Type::Message(&THING_SPEC)),
            Field::new("specs", 4, Type::Map(&Type::Message(&THING_SPEC))),
        ],
    };

    fn messages(errors: &[StrictError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn directive_values() {
        assert_eq!(Directive::parse(None).unwrap(), Directive::Warn);
        assert_eq!(Directive::parse(Some("")).unwrap(), Directive::Warn);
        assert_eq!(Directive::parse(Some("Strict")).unwrap(), Directive::Strict);
        assert_eq!(Directive::parse(Some("Ignore")).unwrap(), Directive::Ignore);
        let e = Directive::parse(Some("strict")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "fieldValidation: Unsupported value: \"strict\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
        );
    }

    #[test]
    fn unknown_fields_at_any_depth_in_document_order() {
        let body = br#"{"apiVersion":"v1","kind":"Thing","spec":{"size":1,"colour":"red","raw":{"any":{"thing":1}}},
            "metadata":{"name":"a","foo":1,"ownerReferences":[{"uid":"u","bogus":true}]},
            "data":{"x":"y"},"specs":{"k":{"nope":1}},"zzz":{"deep":{"x":1}}}"#;
        let d = decode_typed(&rt(&THING), body).unwrap();
        assert_eq!(
            messages(&d.errors),
            [
                r#"unknown field "spec.colour""#,
                r#"unknown field "metadata.foo""#,
                r#"unknown field "metadata.ownerReferences[0].bogus""#,
                r#"unknown field "specs.k.nope""#,
                r#"unknown field "zzz""#,
            ]
        );
        assert_eq!(
            d.value,
            json!({"apiVersion":"v1","kind":"Thing","spec":{"size":1,"raw":{"any":{"thing":1}}},
                "metadata":{"name":"a","ownerReferences":[{"uid":"u"}]},
                "data":{"x":"y"},"specs":{"k":{}}})
        );
    }

    #[test]
    fn prune_matches_decoding() {
        let mut v = json!({"apiVersion":"v1","kind":"Thing","spec":{"size":1,"colour":"red"},
            "metadata":{"name":"a","foo":1,"ownerReferences":[{"uid":"u","bogus":true}]},
            "data":{"x":"y"},"zzz":1});
        let removed = prune_unknown(&rt(&THING), &mut v);
        assert_eq!(
            removed,
            [
                "spec.colour",
                "metadata.foo",
                "metadata.ownerReferences[0].bogus",
                "zzz"
            ]
        );
        assert_eq!(
            v,
            json!({"apiVersion":"v1","kind":"Thing","spec":{"size":1},
                "metadata":{"name":"a","ownerReferences":[{"uid":"u"}]},"data":{"x":"y"}})
        );
        // Nested apiVersion/kind are not special.
        let mut v = json!({"spec": {"kind": "x"}});
        assert_eq!(prune_unknown(&rt(&THING), &mut v), ["spec.kind"]);
    }

    #[test]
    fn duplicates_are_reported_and_merged_as_go_does() {
        let body = br#"{"metadata":{"name":"a","labels":{"x":"1"}},"data":{"a":"1","a":"2"},
            "metadata":{"labels":{"y":"2"},"name":"b","name":"c"},"zzz":1,"zzz":2}"#;
        let d = decode_typed(&rt(&THING), body).unwrap();
        assert_eq!(
            messages(&d.errors),
            [
                r#"duplicate field "data.a""#,
                r#"duplicate field "metadata""#,
                r#"duplicate field "metadata.name""#,
                r#"unknown field "zzz""#,
            ]
        );
        // The second metadata is decoded into the first; map keys are replaced.
        assert_eq!(
            d.value,
            json!({"metadata":{"name":"c","labels":{"x":"1","y":"2"}},"data":{"a":"2"}})
        );
    }

    #[test]
    fn duplicate_lists_decode_element_wise() {
        let body = br#"{"metadata":{"ownerReferences":[{"uid":"a","name":"n"},{"uid":"b"}],
            "ownerReferences":[{"uid":"c"}]}}"#;
        let d = decode_typed(&rt(&THING), body).unwrap();
        assert_eq!(
            messages(&d.errors),
            [r#"duplicate field "metadata.ownerReferences""#]
        );
        assert_eq!(
            d.value,
            json!({"metadata":{"ownerReferences":[{"uid":"c","name":"n"}]}})
        );
    }

    #[test]
    fn non_objects_and_syntax_errors() {
        assert_eq!(
            decode_typed(&rt(&THING), b"[1,2]").unwrap(),
            Decoded {
                value: json!([1, 2]),
                errors: vec![]
            }
        );
        // Wrong JSON types are left for validation.
        let d = decode_typed(&rt(&THING), br#"{"spec":"x","data":[{"a":1}]}"#).unwrap();
        assert_eq!(d.value, json!({"spec":"x","data":[{"a":1}]}));
        assert!(d.errors.is_empty());
        assert!(decode_typed(&rt(&THING), b"{\"a\":").is_err());
        assert!(decode_typed(&rt(&THING), b"{} x").is_err());
    }

    #[test]
    fn untyped_and_json_patch_bodies() {
        let d = decode_untyped(br#"{"spec":{"a":1,"a":2},"x":[{"b":1,"b":2}]}"#).unwrap();
        assert_eq!(
            messages(&d.errors),
            [r#"duplicate field "spec.a""#, r#"duplicate field "x[0].b""#]
        );
        assert_eq!(d.value, json!({"spec":{"a":2},"x":[{"b":2}]}));

        let d = decode_json_patch(
            br#"[{"op":"add","path":"/a","value":{"k":1,"k":2},"foo":1},{"op":"remove","op":"remove","path":"/b"}]"#,
        )
        .unwrap();
        let msgs: Vec<String> = d
            .errors
            .iter()
            .map(|e| PatchFormat::Json.body_error(e))
            .collect();
        assert_eq!(
            msgs,
            [
                r#"json patch duplicate field "[0].value.k""#,
                r#"json patch unknown field "[0].foo""#,
                r#"json patch duplicate field "[1].op""#,
            ]
        );
    }

    #[test]
    fn error_limit_and_dedup() {
        let mut body = String::from("{");
        for i in 0..150 {
            body.push_str(&format!("\"u{i}\":1,"));
        }
        body.push_str("\"u0\":2}");
        let d = decode_typed(&rt(&THING), body.as_bytes()).unwrap();
        assert_eq!(d.errors.len(), 100);
        assert_eq!(d.value, json!({}));
    }

    #[test]
    fn strict_messages() {
        let errs = [
            StrictError {
                kind: StrictKind::Unknown,
                path: "spec".into(),
            },
            StrictError {
                kind: StrictKind::Duplicate,
                path: "data.x".into(),
            },
        ];
        let errs: Vec<String> = errs.iter().map(ToString::to_string).collect();
        let e = strict_body_error("ConfigMap", "v1", "ConfigMap", &errs);
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            r#"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec", duplicate field "data.x""#
        );
        let e = strict_patch_error(r#"{"a":1}"#, &["unknown field \"spec\""]);
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            r#" "" is invalid: patch: Invalid value: "{\"a\":1}": strict decoding error: unknown field "spec""#
        );
    }

    #[test]
    fn merge_patch_report_orders_like_upstream() {
        let current = json!({"apiVersion":"v1","kind":"Thing",
            "metadata":{"uid":"u","name":"a","labels":{"b":"2","a":"1"}},"data":{"k":"v"}});
        let patch = json!({"zeta":{"y":1,"x":null},"metadata":{"labels":{"c":"3"},"foo":1},"alpha":[{"b":1,"a":2}]});
        let mut patched = current.clone();
        json_patch::merge(&mut patched, &patch);
        let r = patch_report(&rt(&THING), PatchFormat::Merge, &current, &patch, &patched);
        assert_eq!(
            r.rendered,
            r#"{"alpha":[{"a":2,"b":1}],"apiVersion":"v1","data":{"k":"v"},"kind":"Thing","metadata":{"foo":1,"labels":{"a":"1","b":"2","c":"3"},"name":"a","uid":"u"},"zeta":{"y":1}}"#
        );
        assert_eq!(
            r.unknown,
            [
                r#"unknown field "alpha""#,
                r#"unknown field "metadata.foo""#,
                r#"unknown field "zeta""#
            ]
        );
        // Untouched objects keep Go's field order.
        let patch = json!({"spec": {}});
        let mut patched = current.clone();
        json_patch::merge(&mut patched, &patch);
        let r = patch_report(&rt(&THING), PatchFormat::Merge, &current, &patch, &patched);
        assert_eq!(
            r.rendered,
            r#"{"apiVersion":"v1","data":{"k":"v"},"kind":"Thing","metadata":{"name":"a","uid":"u","labels":{"a":"1","b":"2"}},"spec":{}}"#
        );
        assert!(r.unknown.is_empty());
    }

    #[test]
    fn json_patch_report_sorts_touched_containers() {
        let current = json!({"kind":"Thing","apiVersion":"v1",
            "metadata":{"uid":"u","name":"a","labels":{"b":"2"}},"spec":{"tags":["x"],"size":1}});
        let patch = json!([{"op":"add","path":"/metadata/labels/a","value":"1"},
            {"op":"add","path":"/spec/bogus","value":{"z":1,"y":2}}]);
        let mut patched = current.clone();
        let ops: json_patch::Patch = serde_json::from_value(patch.clone()).unwrap();
        json_patch::patch(&mut patched, &ops).unwrap();
        let r = patch_report(&rt(&THING), PatchFormat::Json, &current, &patch, &patched);
        assert_eq!(
            r.rendered,
            r#"{"apiVersion":"v1","kind":"Thing","metadata":{"labels":{"a":"1","b":"2"},"name":"a","uid":"u"},"spec":{"bogus":{"z":1,"y":2},"size":1,"tags":["x"]}}"#
        );
        assert_eq!(r.unknown, [r#"unknown field "spec.bogus""#]);
    }

    #[test]
    fn strategic_report_sorts_and_prints_the_patch() {
        let current = json!({"metadata":{"name":"a"}});
        let patch = json!({"zz":{"n":1,"f":1.5,"big":1e6},"aa":[true,null,"s"],"metadata":{"x":1}});
        let mut patched = current.clone();
        json_patch::merge(&mut patched, &patch);
        let r = patch_report(
            &rt(&THING),
            PatchFormat::Strategic,
            &current,
            &patch,
            &patched,
        );
        assert_eq!(
            r.rendered,
            "map[aa:[true <nil> s] metadata:map[x:1] zz:map[big:1e+06 f:1.5 n:1]]"
        );
        assert_eq!(
            r.unknown,
            [
                r#"unknown field "aa""#,
                r#"unknown field "metadata.x""#,
                r#"unknown field "zz""#
            ]
        );
    }
}

//! The type model: each Kubernetes type as owned data. Protobuf encoding, OpenAPI schemas,
//! unknown-field detection, type checks and strategic-merge metadata are all derived from
//! it rather than written per kind.
//!
//! Built-in types are declared statically ([`decl`], generated from upstream's published
//! facts) and turned into a [`Model`] once; a type built at run time (a custom resource's
//! schema) is made of the same [`Message`]s, so every consumer treats both alike.
//!
//! A [`MessageRef`] is a shared handle to one message. Messages may refer to themselves or to
//! each other in cycles (`JSONSchemaProps`); the model resolves every reference when it is
//! built.

pub mod decl;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

/// A name in the model: borrowed from a static declaration, or owned when built at run time.
pub type Name = Cow<'static, str>;

/// The type of a field.
#[derive(Debug, Clone)]
pub enum Type {
    String,
    /// Bytes: base64 in JSON, raw bytes in protobuf.
    Bytes,
    Bool,
    Int32,
    Int64,
    Double,
    /// `metav1.Time`: RFC 3339 (seconds) in JSON; `{seconds = 1, nanos = 2}` in protobuf.
    Time,
    /// `metav1.MicroTime`: RFC 3339 with microseconds in JSON; same protobuf as `Time`.
    MicroTime,
    /// `resource.Quantity`: a string in JSON; `{string = 1}` in protobuf.
    Quantity,
    /// `intstr.IntOrString`: an integer or a string in JSON; `{type = 1, intVal = 2, strVal = 3}`.
    IntOrString,
    /// Free-form JSON (`runtime.RawExtension`, `FieldsV1`, apiextensions `JSON`): raw bytes
    /// in protobuf.
    RawJson,
    /// A nested message.
    Message(MessageRef),
    /// A repeated field (a JSON array).
    List(Box<Type>),
    /// A map from string keys (a JSON object; protobuf map entries `key = 1, value = 2`).
    Map(Box<Type>),
}

impl Type {
    /// Whether this is a scalar with its own wire value (not a message in protobuf).
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Type::String | Type::Bytes | Type::Bool | Type::Int32 | Type::Int64 | Type::Double
        )
    }
}

/// How a list or map merges (`x-kubernetes-list-type`, `-list-map-keys`, `-patch-strategy`,
/// `-patch-merge-key`, `-map-type`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListMerge {
    /// `atomic`, `set` or `map`; `None` when not declared.
    pub list_type: Option<Name>,
    /// Keys of a `map` list.
    pub map_keys: Vec<Name>,
    /// `merge`, `retainKeys`, or `merge,retainKeys`.
    pub patch_strategy: Option<Name>,
    pub patch_merge_key: Option<Name>,
    /// `atomic` or `granular` for a map or struct field.
    pub map_type: Option<Name>,
}

/// One field of a message.
#[derive(Debug, Clone)]
pub struct Field {
    /// The JSON name.
    pub json: Name,
    /// The protobuf field number; 0 for a field that exists only in JSON.
    pub proto: u32,
    pub ty: Type,
    pub description: Name,
    pub required: bool,
    /// Written even when zero (Go fields without `omitempty`); required fields always are.
    pub emit_zero: bool,
    /// A Go embedded struct: its own message in protobuf, its fields flattened into the
    /// enclosing object in JSON (`Volume.volumeSource`).
    pub inline: bool,
    pub merge: ListMerge,
}

/// A group, version and kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Gvk {
    pub group: Name,
    pub version: Name,
    pub kind: Name,
}

/// A message type: an object with declared fields.
#[derive(Debug, Default)]
pub struct Message {
    /// The OpenAPI definition name (`io.k8s.api.core.v1.ConfigMap`).
    pub name: Name,
    pub description: Name,
    /// The kinds this type is (several for `DeleteOptions`); empty for nested types.
    pub gvks: Vec<Gvk>,
    /// Replaced as a whole by merges (`+structType=atomic`).
    pub atomic: bool,
    /// In protobuf and Go order; inline fields stand where Go embeds them.
    pub fields: Vec<Field>,
}

impl Message {
    /// The field with this JSON name, looking through inline fields.
    pub fn field(&self, json: &str) -> Option<&Field> {
        for f in &self.fields {
            if f.inline {
                if let Type::Message(m) = &f.ty {
                    if let Some(found) = m.get().and_then(|m| m.field(json)) {
                        return Some(found);
                    }
                }
            } else if f.json == json {
                return Some(f);
            }
        }
        None
    }

    /// The fields as JSON sees them: inline fields replaced by their own fields, in order.
    pub fn json_fields(&self) -> Vec<&Field> {
        let mut out = Vec::with_capacity(self.fields.len());
        self.push_json_fields(&mut out, 0);
        out
    }

    fn push_json_fields<'a>(&'a self, out: &mut Vec<&'a Field>, depth: usize) {
        for f in &self.fields {
            match (&f.ty, f.inline) {
                (Type::Message(m), true) if depth < 8 => {
                    if let Some(m) = m.get() {
                        m.push_json_fields(out, depth + 1);
                    }
                }
                _ => out.push(f),
            }
        }
    }

    /// The field with this protobuf number (inline fields are fields of their own here).
    pub fn field_by_number(&self, number: u32) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.proto == number && number != 0)
    }

    /// The first group-version-kind, for kinds.
    pub fn gvk(&self) -> Option<&Gvk> {
        self.gvks.first()
    }

    /// The Go type name: the last segment of the definition name.
    pub fn short_name(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }
}

/// A shared handle to a message of a [`Model`].
#[derive(Clone)]
pub struct MessageRef(Arc<OnceLock<Message>>);

/// What a handle shows before the model fills it (never, once a model is built).
static EMPTY: Message = Message {
    name: Cow::Borrowed(""),
    description: Cow::Borrowed(""),
    gvks: Vec::new(),
    atomic: false,
    fields: Vec::new(),
};

impl MessageRef {
    /// A handle to a message built at run time (its fields may only refer to messages that
    /// already have handles).
    pub fn new(message: Message) -> MessageRef {
        let cell = OnceLock::new();
        let _ = cell.set(message);
        MessageRef(Arc::new(cell))
    }

    /// The run-time form of one static declaration and everything it refers to.
    pub fn from_decl(decl: &'static decl::Message) -> MessageRef {
        let mut model = Model::default();
        model.add_decls(&[decl])
    }

    fn get(&self) -> Option<&Message> {
        self.0.get()
    }

    /// Whether both handles are the same message.
    pub fn same(&self, other: &MessageRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for MessageRef {
    type Target = Message;

    fn deref(&self) -> &Message {
        self.0.get().unwrap_or(&EMPTY)
    }
}

impl fmt::Debug for MessageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageRef({})", self.name)
    }
}

/// A set of messages, found by definition name or by group-version-kind.
#[derive(Default, Clone)]
pub struct Model {
    by_name: HashMap<Name, MessageRef>,
    by_gvk: HashMap<Gvk, MessageRef>,
    /// Static declarations already converted, by address.
    by_decl: HashMap<usize, MessageRef>,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Model({} messages)", self.by_name.len())
    }
}

impl Model {
    /// Adds static declarations and everything they refer to; a declaration added before
    /// (here or in a model this one was cloned from) keeps its handle. Returns the handle of
    /// the first of `decls` (an empty handle when `decls` is empty).
    pub fn add_decls(&mut self, decls: &[&'static decl::Message]) -> MessageRef {
        // First a handle for every reachable declaration, then fill them, so that cycles
        // resolve.
        let mut pending: Vec<&'static decl::Message> = Vec::new();
        let mut stack: Vec<&'static decl::Message> = decls.to_vec();
        while let Some(d) = stack.pop() {
            let key = d as *const decl::Message as usize;
            if self.by_decl.contains_key(&key) {
                continue;
            }
            self.by_decl
                .insert(key, MessageRef(Arc::new(OnceLock::new())));
            pending.push(d);
            for f in d.fields {
                push_refs(&f.ty, &mut stack);
            }
        }
        for d in pending {
            let key = d as *const decl::Message as usize;
            let message = Message {
                name: Cow::Borrowed(d.name),
                description: Cow::Borrowed(d.description),
                gvks: d
                    .gvks
                    .iter()
                    .map(|(g, v, k)| Gvk {
                        group: Cow::Borrowed(g),
                        version: Cow::Borrowed(v),
                        kind: Cow::Borrowed(k),
                    })
                    .collect(),
                atomic: d.atomic,
                fields: d.fields.iter().map(|f| self.field_of(f)).collect(),
            };
            let Some(handle) = self.by_decl.get(&key).cloned() else {
                continue;
            };
            let _ = handle.0.set(message);
            self.index(&handle);
        }
        decls
            .first()
            .and_then(|d| self.by_decl.get(&(*d as *const decl::Message as usize)))
            .cloned()
            .unwrap_or_else(|| MessageRef::new(Message::default()))
    }

    /// Adds a message built at run time.
    pub fn insert(&mut self, message: MessageRef) {
        self.index(&message);
    }

    fn index(&mut self, handle: &MessageRef) {
        for gvk in &handle.gvks {
            // The first type declared for a kind keeps it (a kind has one type).
            self.by_gvk
                .entry(gvk.clone())
                .or_insert_with(|| handle.clone());
        }
        self.by_name
            .entry(handle.name.clone())
            .or_insert_with(|| handle.clone());
    }

    fn field_of(&self, f: &'static decl::Field) -> Field {
        Field {
            json: Cow::Borrowed(f.json),
            proto: f.proto,
            ty: self.type_of(&f.ty),
            description: Cow::Borrowed(f.description),
            required: f.required,
            emit_zero: f.emit_zero,
            inline: f.inline,
            merge: ListMerge {
                list_type: f.merge.list_type.map(Cow::Borrowed),
                map_keys: f.merge.map_keys.iter().map(|k| Cow::Borrowed(*k)).collect(),
                patch_strategy: f.merge.patch_strategy.map(Cow::Borrowed),
                patch_merge_key: f.merge.patch_merge_key.map(Cow::Borrowed),
                map_type: f.merge.map_type.map(Cow::Borrowed),
            },
        }
    }

    fn type_of(&self, t: &'static decl::Type) -> Type {
        match t {
            decl::Type::String => Type::String,
            decl::Type::Bytes => Type::Bytes,
            decl::Type::Bool => Type::Bool,
            decl::Type::Int32 => Type::Int32,
            decl::Type::Int64 => Type::Int64,
            decl::Type::Double => Type::Double,
            decl::Type::Time => Type::Time,
            decl::Type::MicroTime => Type::MicroTime,
            decl::Type::Quantity => Type::Quantity,
            decl::Type::IntOrString => Type::IntOrString,
            decl::Type::RawJson => Type::RawJson,
            decl::Type::Message(m) => Type::Message(
                self.by_decl
                    .get(&(*m as *const decl::Message as usize))
                    .cloned()
                    .unwrap_or_else(|| MessageRef::new(Message::default())),
            ),
            decl::Type::List(inner) => Type::List(Box::new(self.type_of(inner))),
            decl::Type::Map(inner) => Type::Map(Box::new(self.type_of(inner))),
        }
    }

    /// The message with this definition name.
    pub fn message(&self, name: &str) -> Option<&MessageRef> {
        self.by_name.get(name)
    }

    /// The type of a kind.
    pub fn kind(&self, group: &str, version: &str, kind: &str) -> Option<&MessageRef> {
        self.by_gvk.get(&Gvk {
            group: Cow::Owned(group.to_string()),
            version: Cow::Owned(version.to_string()),
            kind: Cow::Owned(kind.to_string()),
        })
    }

    /// Every message, in no particular order.
    pub fn messages(&self) -> impl Iterator<Item = &MessageRef> {
        self.by_name.values()
    }

    /// How many messages the model holds.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

fn push_refs(t: &'static decl::Type, stack: &mut Vec<&'static decl::Message>) {
    match t {
        decl::Type::Message(m) => stack.push(m),
        decl::Type::List(inner) | decl::Type::Map(inner) => push_refs(inner, stack),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::decl;
    use super::*;

    static NODE: decl::Message = decl::Message {
        name: "io.example.v1.Node",
        description: "",
        gvks: &[("example.io", "v1", "Node")],
        atomic: false,
        fields: &[
            decl::Field::new("name", 1, decl::Type::String),
            decl::Field::new("children", 2, decl::Type::List(&decl::Type::Message(&NODE))),
            decl::Field::new("source", 3, decl::Type::Message(&SOURCE)).inline(),
        ],
    };

    static SOURCE: decl::Message = decl::Message {
        name: "io.example.v1.Source",
        description: "",
        gvks: &[],
        atomic: false,
        fields: &[
            decl::Field::new("url", 1, decl::Type::String),
            decl::Field::new("path", 2, decl::Type::String),
        ],
    };

    #[test]
    fn cycles_resolve_and_inline_fields_flatten() {
        let mut model = Model::default();
        let node = model.add_decls(&[&NODE]);
        let Some(Type::List(item)) = node.field("children").map(|f| &f.ty) else {
            panic!("children is a list");
        };
        let Type::Message(child) = item.as_ref() else {
            panic!("of messages");
        };
        assert!(child.same(&node));
        assert_eq!(node.field("url").map(|f| f.proto), Some(1));
        let names: Vec<&str> = node.json_fields().iter().map(|f| &*f.json).collect();
        assert_eq!(names, ["name", "children", "url", "path"]);
        assert!(model
            .kind("example.io", "v1", "Node")
            .is_some_and(|m| m.same(&node)));
        assert!(model.message("io.example.v1.Source").is_some());
        assert_eq!(model.len(), 2);
        // Adding again keeps the handles.
        let again = model.add_decls(&[&NODE]);
        assert!(again.same(&node));
    }
}

//! The type model: each Kubernetes type declared once, as data. Protobuf encoding, OpenAPI
//! schemas, unknown-field detection and strategic-merge metadata are all derived from these
//! declarations rather than written per kind.
//!
//! Declarations are `static` values:
//!
//! ```
//! use apimachinery::schema::{Field, Message, Type};
//! static POINT: Message = Message {
//!     name: "io.example.v1.Point",
//!     description: "A point.",
//!     gvk: None,
//!     fields: &[
//!         Field::new("x", 1, Type::Int32),
//!         Field::new("label", 2, Type::String).optional(),
//!     ],
//! };
//! assert_eq!(POINT.field("x").map(|f| f.proto), Some(1));
//! ```

/// The type of a field.
#[derive(Debug, Clone, Copy)]
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
    /// Free-form JSON (`runtime.RawExtension`, `apiextensions JSON`): raw bytes in protobuf.
    RawJson,
    /// A nested message.
    Message(&'static Message),
    /// A repeated field (a JSON array).
    List(&'static Type),
    /// A map from string keys (a JSON object; protobuf map entries `key = 1, value = 2`).
    Map(&'static Type),
}

/// How a list merges in strategic merge patch and server-side apply
/// (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`, `x-kubernetes-patch-*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListMerge {
    /// `atomic`, `set` or `map`; `None` when not declared.
    pub list_type: Option<&'static str>,
    /// Keys of a `map` list.
    pub map_keys: &'static [&'static str],
    /// `merge`, `retainKeys`, or `merge,retainKeys`.
    pub patch_strategy: Option<&'static str>,
    pub patch_merge_key: Option<&'static str>,
}

/// One field of a message.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The JSON name.
    pub json: &'static str,
    /// The protobuf field number.
    pub proto: u32,
    pub ty: Type,
    pub description: &'static str,
    pub required: bool,
    /// Written even when zero (Go fields without `omitempty`); required fields always are.
    pub emit_zero: bool,
    pub merge: ListMerge,
}

impl Field {
    /// A field with no description, not required, no merge metadata.
    pub const fn new(json: &'static str, proto: u32, ty: Type) -> Field {
        Field {
            json,
            proto,
            ty,
            description: "",
            required: false,
            emit_zero: false,
            merge: ListMerge {
                list_type: None,
                map_keys: &[],
                patch_strategy: None,
                patch_merge_key: None,
            },
        }
    }

    pub const fn doc(mut self, description: &'static str) -> Field {
        self.description = description;
        self
    }

    pub const fn required(mut self) -> Field {
        self.required = true;
        self.emit_zero = true;
        self
    }

    /// Keeps the field when its value is zero (`0`, `false`, `""`) without making it required.
    pub const fn emit_zero(mut self) -> Field {
        self.emit_zero = true;
        self
    }

    /// Marks a field explicitly optional (the default; reads well in declarations).
    pub const fn optional(self) -> Field {
        self
    }

    pub const fn merge(mut self, merge: ListMerge) -> Field {
        self.merge = merge;
        self
    }
}

/// A message type: an object with declared fields.
#[derive(Debug)]
pub struct Message {
    /// The OpenAPI definition name (`io.k8s.api.core.v1.ConfigMap`).
    pub name: &'static str,
    pub description: &'static str,
    /// `(group, version, kind)` for top-level kinds.
    pub gvk: Option<(&'static str, &'static str, &'static str)>,
    pub fields: &'static [Field],
}

impl Message {
    /// The field with this JSON name.
    pub fn field(&self, json: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.json == json)
    }

    /// The field with this protobuf number.
    pub fn field_by_number(&self, number: u32) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.proto == number)
    }
}

//! Static type declarations: the form generated code (`crates/api`, `types::generated`) and
//! tests write. A declaration is turned into the run-time model ([`super::Model`]) once;
//! nothing else reads it.
//!
//! ```
//! use apimachinery::schema::decl::{Field, Message, Type};
//! use apimachinery::schema::MessageRef;
//! static POINT: Message = Message {
//!     name: "io.example.v1.Point",
//!     description: "A point.",
//!     gvks: &[],
//!     atomic: false,
//!     fields: &[
//!         Field::new("x", 1, Type::Int32),
//!         Field::new("label", 2, Type::String).doc("What the point is."),
//!     ],
//! };
//! let point = MessageRef::from_decl(&POINT);
//! assert_eq!(point.field("x").map(|f| f.proto), Some(1));
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
    /// Free-form JSON (`runtime.RawExtension`, `FieldsV1`, apiextensions `JSON`): raw bytes
    /// in protobuf.
    RawJson,
    /// A nested message.
    Message(&'static Message),
    /// A repeated field (a JSON array).
    List(&'static Type),
    /// A map from string keys (a JSON object; protobuf map entries `key = 1, value = 2`).
    Map(&'static Type),
}

/// How a list or map merges in strategic merge patch and server-side apply
/// (`x-kubernetes-list-type`, `-list-map-keys`, `-patch-strategy`, `-patch-merge-key`,
/// `-map-type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListMerge {
    /// `atomic`, `set` or `map`; `None` when not declared.
    pub list_type: Option<&'static str>,
    /// Keys of a `map` list.
    pub map_keys: &'static [&'static str],
    /// `merge`, `retainKeys`, or `merge,retainKeys`.
    pub patch_strategy: Option<&'static str>,
    pub patch_merge_key: Option<&'static str>,
    /// `atomic` or `granular` for a map or struct field.
    pub map_type: Option<&'static str>,
}

impl ListMerge {
    /// No merge metadata.
    pub const NONE: ListMerge = ListMerge::of(None, &[], None, None, None);

    /// All five facts, in the order above.
    pub const fn of(
        list_type: Option<&'static str>,
        map_keys: &'static [&'static str],
        patch_strategy: Option<&'static str>,
        patch_merge_key: Option<&'static str>,
        map_type: Option<&'static str>,
    ) -> ListMerge {
        ListMerge {
            list_type,
            map_keys,
            patch_strategy,
            patch_merge_key,
            map_type,
        }
    }
}

/// One field of a message.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The JSON name.
    pub json: &'static str,
    /// The protobuf field number; 0 for a field that exists only in JSON.
    pub proto: u32,
    pub ty: Type,
    pub description: &'static str,
    pub required: bool,
    /// Written even when zero (Go fields without `omitempty`); required fields always are.
    pub emit_zero: bool,
    /// A Go embedded struct: its own message in protobuf, its fields flattened into the
    /// enclosing object in JSON (`Volume.volumeSource`).
    pub inline: bool,
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
            inline: false,
            merge: ListMerge::NONE,
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

    /// Marks a Go embedded struct (see [`Field::inline`]).
    pub const fn inline(mut self) -> Field {
        self.inline = true;
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
    /// `(group, version, kind)` of the kinds this type is (several for `DeleteOptions`).
    pub gvks: &'static [(&'static str, &'static str, &'static str)],
    /// Replaced as a whole by merges (`+structType=atomic`).
    pub atomic: bool,
    pub fields: &'static [Field],
}

//! How a node of the type model merges and is owned, as structured-merge-diff's schema
//! says it (kube-openapi's conversion of list types, map types and patch strategies).

use apimachinery::schema::{Field, ListMerge, MessageRef, Type};

/// How a list's items are identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListKind {
    /// Replaced as a whole; owned as one leaf.
    Atomic,
    /// Items are scalars, identified by value (`v:`).
    Set,
    /// Items are objects, identified by these key fields (`k:`).
    Map(Vec<String>),
}

/// The shape of a node.
#[derive(Debug, Clone)]
pub enum Shape {
    /// A scalar (also `Quantity`, `Time`, `IntOrString`): a leaf.
    Scalar,
    /// A struct; `atomic` when it is replaced as a whole.
    Struct { message: MessageRef, atomic: bool },
    /// A map from string keys to values of one type.
    Map { value: Box<Shape>, atomic: bool },
    /// A list.
    List { item: Box<Shape>, kind: ListKind },
    /// Free-form JSON (`RawExtension`, preserve-unknown-fields): objects are granular maps,
    /// lists are atomic, anything else a leaf.
    Deduced,
}

impl Shape {
    /// The shape of a kind's root.
    pub fn root(message: &MessageRef) -> Shape {
        Shape::Struct {
            message: message.clone(),
            atomic: message.atomic,
        }
    }

    /// The shape of a field.
    pub fn of_field(field: &Field) -> Shape {
        Shape::of_type(&field.ty, &field.merge)
    }

    fn of_type(ty: &Type, merge: &ListMerge) -> Shape {
        let map_atomic = merge.map_type.as_deref() == Some("atomic");
        match ty {
            Type::Message(m) => Shape::Struct {
                atomic: m.atomic || map_atomic,
                message: m.clone(),
            },
            Type::Map(inner) => Shape::Map {
                value: Box::new(Shape::of_type(inner, &ListMerge::default())),
                atomic: map_atomic,
            },
            Type::List(inner) => {
                let item = Shape::of_type(inner, &ListMerge::default());
                let kind = match merge.list_type.as_deref() {
                    Some("atomic") => ListKind::Atomic,
                    Some("set") => ListKind::Set,
                    Some("map") => {
                        ListKind::Map(merge.map_keys.iter().map(|k| k.to_string()).collect())
                    }
                    _ => match (
                        merge
                            .patch_strategy
                            .as_deref()
                            .is_some_and(|s| s.split(',').any(|p| p == "merge")),
                        &merge.patch_merge_key,
                    ) {
                        (true, Some(key)) => ListKind::Map(vec![key.to_string()]),
                        (true, None) if matches!(item, Shape::Scalar) => ListKind::Set,
                        _ => ListKind::Atomic,
                    },
                };
                Shape::List {
                    item: Box::new(item),
                    kind,
                }
            }
            Type::RawJson => Shape::Deduced,
            _ => Shape::Scalar,
        }
    }

    /// The shape of a child of a struct or map, by key (`None` for a struct's unknown key:
    /// it is then deduced).
    pub fn child(&self, key: &str) -> Shape {
        match self {
            Shape::Struct { message, .. } => message
                .field(key)
                .map(Shape::of_field)
                .unwrap_or(Shape::Deduced),
            Shape::Map { value, .. } => (**value).clone(),
            _ => Shape::Deduced,
        }
    }

    /// Whether a child of a struct or map is declared (a struct's field) rather than a
    /// map's key.
    pub fn declares(&self, key: &str) -> bool {
        match self {
            Shape::Struct { message, .. } => message.field(key).is_some(),
            _ => false,
        }
    }
}

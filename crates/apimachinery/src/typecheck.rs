//! The JSON type check Go's decoder makes when a body is decoded into its declared type:
//! a number where a string belongs, a string where an object belongs, an `int32` out of
//! range. Upstream answers such a body with a 400 carrying `encoding/json`'s error,
//! `json: cannot unmarshal number into Go struct field ConfigMap.data of type string`;
//! [`type_error`] finds the first such error in document order and words it the same way.
//!
//! Fields whose Go types decode themselves (`Time`, `MicroTime`, `Quantity`,
//! `IntOrString`, raw JSON) are not checked here; unknown fields are the business of
//! [`crate::fieldvalidation`]; `null` is accepted everywhere, as Go leaves the zero value.

use serde_json::Value;

use crate::gofmt::json_kind;
use crate::schema::{Message, Type};

/// The first type error of `value` (an object decoded as `msg`), as `encoding/json` words it.
pub fn type_error(msg: &Message, value: &Value) -> Option<String> {
    let mut path = Vec::new();
    check_fields(msg, value, &mut path)
}

/// The Go type name (`ConfigMap` in `v1.ConfigMap`) of a declared message.
fn struct_name(msg: &Message) -> &str {
    msg.short_name()
}

/// The Go type as `reflect` prints it: `v1.ObjectMeta`, `[]string`, `map[string][]uint8`.
fn go_type(ty: &Type) -> String {
    match ty {
        Type::String => "string".into(),
        Type::Bytes => "[]uint8".into(),
        Type::Bool => "bool".into(),
        Type::Int32 => "int32".into(),
        Type::Int64 => "int64".into(),
        Type::Double => "float64".into(),
        Type::Time => "v1.Time".into(),
        Type::MicroTime => "v1.MicroTime".into(),
        Type::Quantity => "resource.Quantity".into(),
        Type::IntOrString => "intstr.IntOrString".into(),
        Type::RawJson => "runtime.RawExtension".into(),
        Type::Message(m) => {
            let mut parts = m.name.rsplit('.');
            let name = parts.next().unwrap_or(&m.name);
            match parts.next() {
                Some(package) => format!("{package}.{name}"),
                None => name.to_string(),
            }
        }
        Type::List(item) => format!("[]{}", go_type(item)),
        Type::Map(value) => format!("map[string]{}", go_type(value)),
    }
}

fn check_fields<'m>(msg: &'m Message, value: &Value, path: &mut Vec<&'m str>) -> Option<String> {
    let obj = value.as_object()?;
    for (key, child) in obj {
        let Some(field) = msg.field(key) else {
            continue;
        };
        path.push(&field.json);
        let found = check(&field.ty, child, struct_name(msg), path);
        path.pop();
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Checks `v` against `ty`; `owner` is the struct whose field (at `path`) holds it.
fn check<'m>(ty: &'m Type, v: &Value, owner: &str, path: &mut Vec<&'m str>) -> Option<String> {
    if v.is_null() {
        return None;
    }
    let mismatch = |value_kind: &str| {
        Some(format!(
            "json: cannot unmarshal {value_kind} into Go struct field {owner}.{} of type {}",
            path.join("."),
            go_type(ty)
        ))
    };
    match ty {
        Type::String | Type::Bytes if !v.is_string() => mismatch(json_kind(v)),
        Type::Bool if !v.is_boolean() => mismatch(json_kind(v)),
        Type::Double if !v.is_number() => mismatch(json_kind(v)),
        Type::Int32 | Type::Int64 => {
            let Value::Number(n) = v else {
                return mismatch(json_kind(v));
            };
            let fits = match (ty, n.as_i64()) {
                (Type::Int32, Some(i)) => i32::try_from(i).is_ok(),
                (_, Some(_)) => true,
                (_, None) => false,
            };
            if fits {
                None
            } else {
                mismatch(&format!("number {n}"))
            }
        }
        Type::Message(m) => match v {
            Value::Object(_) => check_fields(m, v, path),
            _ => mismatch(json_kind(v)),
        },
        Type::List(item) => match v {
            Value::Array(items) => items.iter().find_map(|i| check(item, i, owner, path)),
            _ => mismatch(json_kind(v)),
        },
        Type::Map(value) => match v {
            Value::Object(map) => map.values().find_map(|x| check(value, x, owner, path)),
            _ => mismatch(json_kind(v)),
        },
        _ => None,
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

    static SOURCE: Message = Message {
        name: "io.k8s.api.core.v1.EventSource",
        description: "",
        gvks: &[],
        atomic: false,
        fields: &[Field::new("component", 1, Type::String)],
    };

    static THING: Message = Message {
        name: "io.k8s.api.core.v1.Thing",
        description: "",
        gvks: &[("", "v1", "Thing")],
        atomic: false,
        fields: &[
            Field::new("metadata", 1, Type::Message(&OBJECT_META)),
            Field::new("data", 2, Type::Map(&Type::String)),
            Field::new("count", 3, Type::Int32),
            Field::new("source", 4, Type::Message(&SOURCE)),
            Field::new("sources", 5, Type::List(&Type::Message(&SOURCE))),
            Field::new("when", 6, Type::Time),
        ],
    };

    #[test]
    fn words_errors_as_encoding_json() {
        let err = |v: Value| type_error(&rt(&THING), &v);
        assert_eq!(
            err(json!({"data": {"a": "x", "b": 1}})).as_deref(),
            Some("json: cannot unmarshal number into Go struct field Thing.data of type string")
        );
        assert_eq!(
            err(json!({"data": ["a"]})).as_deref(),
            Some("json: cannot unmarshal array into Go struct field Thing.data of type map[string]string")
        );
        assert_eq!(
            err(json!({"count": "3"})).as_deref(),
            Some("json: cannot unmarshal string into Go struct field Thing.count of type int32")
        );
        assert_eq!(
            err(json!({"count": 3_000_000_000u64})).as_deref(),
            Some("json: cannot unmarshal number 3000000000 into Go struct field Thing.count of type int32")
        );
        assert_eq!(
            err(json!({"count": 1.5})).as_deref(),
            Some(
                "json: cannot unmarshal number 1.5 into Go struct field Thing.count of type int32"
            )
        );
        // Nested structs name the innermost struct and the whole path, without indices.
        assert_eq!(
            err(json!({"metadata": {"labels": {"a": true}}})).as_deref(),
            Some("json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string")
        );
        assert_eq!(
            err(json!({"sources": [{"component": "a"}, {"component": 2}]})).as_deref(),
            Some("json: cannot unmarshal number into Go struct field EventSource.sources.component of type string")
        );
        assert_eq!(
            err(json!({"source": "kubelet"})).as_deref(),
            Some("json: cannot unmarshal string into Go struct field Thing.source of type v1.EventSource")
        );
    }

    #[test]
    fn accepts_what_go_accepts() {
        let ok = |v: Value| assert_eq!(type_error(&rt(&THING), &v), None, "{v}");
        ok(json!({"apiVersion": "v1", "kind": "Thing", "unknown": 5}));
        ok(json!({"data": null, "count": null, "source": null, "metadata": {"labels": null}}));
        ok(json!({"count": -2147483648i64, "data": {"a": "b"}, "sources": []}));
        // Types with their own decoders are left to them.
        ok(json!({"when": 5}));
    }
}

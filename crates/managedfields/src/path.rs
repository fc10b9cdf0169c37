//! Field paths: a sequence of path elements from the object's root, as structured-merge-diff
//! defines them, with its total order (which sorts sets and their FieldsV1 encoding).

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Map, Value};

use crate::gojson;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum PathElement {
    /// A field of a struct or a key of a map (`f:name`).
    Field(String),
    /// An item of a list with keys, by its key fields sorted by name (`k:{"name":"a"}`).
    Key(Vec<(String, Value)>),
    /// An item of a set, by its value (`v:"a"`).
    Value(Value),
    /// An item of a list that has neither keys nor set semantics, by position (`i:0`).
    Index(i64),
}

impl Eq for PathElement {}

impl PathElement {
    /// A key element from its fields (sorted here).
    pub fn key(mut fields: Vec<(String, Value)>) -> PathElement {
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        PathElement::Key(fields)
    }

    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }

    /// The FieldsV1 form: `f:name`, `k:{...}`, `v:...`, `i:N`.
    pub fn serialize(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let mut out = String::from("k:{");
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    gojson::write_string(&mut out, name);
                    out.push(':');
                    gojson::write_value(&mut out, value);
                }
                out.push('}');
                out
            }
            PathElement::Value(v) => format!("v:{}", gojson::to_string(v)),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Reads the FieldsV1 form; `Ok(None)` for an element type this version does not know
    /// (skipped, as upstream skips it).
    pub fn deserialize(s: &str) -> Result<Option<PathElement>, PathError> {
        let bytes = s.as_bytes();
        if bytes.len() < 2 {
            return Err(PathError::TooShort);
        }
        if bytes[1] != b':' {
            return Err(PathError::MissingColon(s.to_string()));
        }
        let rest = &s[2..];
        let json = |text: &str| -> Result<Value, PathError> {
            serde_json::from_str(text).map_err(|e| PathError::Json(e.to_string()))
        };
        Ok(Some(match bytes[0] {
            b'f' => PathElement::Field(rest.to_string()),
            b'v' => PathElement::Value(json(rest)?),
            b'k' => match json(rest)? {
                Value::Object(map) => {
                    PathElement::key(map.into_iter().collect::<Vec<(String, Value)>>())
                }
                _ => return Err(PathError::Json("a key must be a JSON object".into())),
            },
            b'i' => PathElement::Index(
                rest.parse()
                    .map_err(|_| PathError::Index(rest.to_string()))?,
            ),
            _ => return Ok(None),
        }))
    }
}

/// A path element that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("key must be 2 characters long:")]
    TooShort,
    #[error("missing colon: {0}")]
    MissingColon(String),
    #[error("{0}")]
    Json(String),
    #[error("strconv.Atoi: parsing {0:?}: invalid syntax")]
    Index(String),
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => compare_fields(a, b),
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn compare_fields(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for i in 0.. {
        match (a.get(i), b.get(i)) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((an, av)), Some((bn, bv))) => {
                let c = an.cmp(bn).then_with(|| compare_values(av, bv));
                if c != Ordering::Equal {
                    return c;
                }
            }
        }
    }
    Ordering::Equal
}

/// structured-merge-diff's total order of values: numbers (compared numerically), then
/// strings, booleans, lists, maps, and null last.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => {
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                let c = compare_values(p, q);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => compare_maps(x, y),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn compare_maps(x: &Map<String, Value>, y: &Map<String, Value>) -> Ordering {
    let sorted = |m: &Map<String, Value>| {
        let mut v: Vec<(String, Value)> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    x.len()
        .cmp(&y.len())
        .then_with(|| compare_fields(&sorted(x), &sorted(y)))
}

/// A path from the root of an object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Path(pub Vec<PathElement>);

impl Path {
    /// A path of field names (`Path::fields(&["spec", "replicas"])`).
    pub fn fields(names: &[&str]) -> Path {
        Path(
            names
                .iter()
                .map(|n| PathElement::Field(n.to_string()))
                .collect(),
        )
    }

    /// This path with one more element.
    pub fn child(&self, pe: PathElement) -> Path {
        let mut p = self.0.clone();
        p.push(pe);
        Path(p)
    }
}

/// A value as structured-merge-diff prints it inside a path (strings quoted as Go's `%q`).
fn value_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => apimachinery::go_quote(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(value_string).collect::<Vec<_>>().join(",")
        ),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            format!(
                "{{{}}}",
                keys.iter()
                    .map(|k| format!("{k}={}", value_string(&m[k.as_str()])))
                    .collect::<Vec<_>>()
                    .join(";")
            )
        }
        other => other.to_string(),
    }
}

impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(n, v)| format!("{n}={}", value_string(v)))
                    .collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={}]", value_string(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for pe in &self.0 {
            write!(f, "{pe}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elements_serialize_and_read_back() {
        let cases = [
            (PathElement::Field("spec".into()), "f:spec"),
            (
                PathElement::key(vec![
                    ("protocol".into(), json!("TCP")),
                    ("containerPort".into(), json!(80)),
                ]),
                r#"k:{"containerPort":80,"protocol":"TCP"}"#,
            ),
            (PathElement::Value(json!("a<b")), r#"v:"a\u003cb""#),
            (PathElement::Index(3), "i:3"),
        ];
        for (pe, text) in cases {
            assert_eq!(pe.serialize(), text);
            assert_eq!(PathElement::deserialize(text), Ok(Some(pe)));
        }
        assert_eq!(PathElement::deserialize("x:1"), Ok(None));
        assert_eq!(PathElement::deserialize("f"), Err(PathError::TooShort));
        assert!(PathElement::deserialize("fa").is_err());
    }

    #[test]
    fn order_is_upstreams() {
        let mut v = vec![
            PathElement::Index(0),
            PathElement::Value(json!(null)),
            PathElement::Value(json!("a")),
            PathElement::Value(json!(2)),
            PathElement::Value(json!(1.5)),
            PathElement::key(vec![("name".into(), json!("b"))]),
            PathElement::key(vec![("name".into(), json!("a"))]),
            PathElement::Field("b".into()),
            PathElement::Field("a".into()),
        ];
        v.sort();
        let printed: Vec<String> = v.iter().map(|p| p.serialize()).collect();
        assert_eq!(
            printed,
            [
                "f:a",
                "f:b",
                r#"k:{"name":"a"}"#,
                r#"k:{"name":"b"}"#,
                "v:1.5",
                "v:2",
                r#"v:"a""#,
                "v:null",
                "i:0"
            ]
        );
    }

    #[test]
    fn paths_print_as_upstream() {
        let p = Path::fields(&["spec", "containers"])
            .child(PathElement::key(vec![("name".into(), json!("nginx"))]))
            .child(PathElement::Field("ports".into()))
            .child(PathElement::Value(json!(80)))
            .child(PathElement::Index(1));
        assert_eq!(
            p.to_string(),
            r#".spec.containers[name="nginx"].ports[=80][1]"#
        );
    }
}

//! The file's types (`apiserver.config.k8s.io/v1` `EncryptionConfiguration`) and their strict
//! decoding from YAML or JSON: unknown fields are errors, as upstream's decoder makes them.

use serde::Deserialize;
use serde_json::Value;

pub const API_VERSION: &str = "apiserver.config.k8s.io/v1";
pub const KIND: &str = "EncryptionConfiguration";

#[derive(Debug, Default, Deserialize)]
pub struct EncryptionConfiguration {
    #[serde(default, deserialize_with = "null_default")]
    pub resources: Vec<ResourceConfiguration>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResourceConfiguration {
    #[serde(default, deserialize_with = "null_default")]
    pub resources: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub providers: Vec<ProviderConfig>,
}

/// One provider: exactly one of these is set in a valid file. The field order is Go's, which
/// is how a provider prints in errors.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct ProviderConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aesgcm: Option<KeysConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aescbc: Option<KeysConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secretbox: Option<KeysConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms: Option<Value>,
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct KeysConfig {
    #[serde(default, deserialize_with = "null_default")]
    pub keys: Vec<Key>,
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct Key {
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub secret: String,
}

/// `null` reads as the zero value, as Go's decoder reads it into a non-pointer field.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Why a file's contents could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{0}")]
    Yaml(#[from] apimachinery::yaml::YamlError),
    #[error("Object 'Kind' is missing in the file")]
    MissingKind,
    #[error("no kind {kind:?} is registered for version {api_version:?}")]
    UnknownKind { kind: String, api_version: String },
    #[error("strict decoding error: {}", .0.iter().map(|f| format!("unknown field {f:?}")).collect::<Vec<_>>().join(", "))]
    UnknownFields(Vec<String>),
    #[error("json: {0}")]
    Type(#[from] serde_json::Error),
}

/// Decodes the file (YAML, of which JSON is a part).
pub fn decode(data: &[u8]) -> Result<EncryptionConfiguration, DecodeError> {
    let value = apimachinery::yaml::from_yaml(data)?;
    let text = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or_default();
    let (kind, api_version) = (text("kind"), text("apiVersion"));
    if kind.is_empty() {
        return Err(DecodeError::MissingKind);
    }
    if kind != KIND || api_version != API_VERSION {
        return Err(DecodeError::UnknownKind {
            kind: kind.to_string(),
            api_version: api_version.to_string(),
        });
    }
    let mut unknown = Vec::new();
    unknown_fields(&value, &Shape::Root, "", &mut unknown);
    if !unknown.is_empty() {
        return Err(DecodeError::UnknownFields(unknown));
    }
    Ok(serde_json::from_value(value)?)
}

/// The fields each level of the file may have.
enum Shape {
    Root,
    Resource,
    Provider,
    Keys,
    Key,
    /// An object with no fields (identity's).
    Empty,
    /// Free-form (kms's, refused later as a whole).
    Free,
}

impl Shape {
    /// The shape of `field` at this level, `None` when the field is unknown.
    fn child(&self, field: &str) -> Option<Shape> {
        Some(match (self, field) {
            (Shape::Root, "kind" | "apiVersion") => Shape::Free,
            (Shape::Root, "resources") => Shape::Resource,
            (Shape::Resource, "resources") => Shape::Free,
            (Shape::Resource, "providers") => Shape::Provider,
            (Shape::Provider, "aesgcm" | "aescbc" | "secretbox") => Shape::Keys,
            (Shape::Provider, "identity") => Shape::Empty,
            (Shape::Provider, "kms") => Shape::Free,
            (Shape::Keys, "keys") => Shape::Key,
            (Shape::Key, "name" | "secret") => Shape::Free,
            (Shape::Free, _) => Shape::Free,
            _ => return None,
        })
    }
}

fn unknown_fields(value: &Value, shape: &Shape, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match shape.child(k) {
                    Some(inner) => unknown_fields(v, &inner, &here, out),
                    None => out.push(here),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                unknown_fields(v, shape, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

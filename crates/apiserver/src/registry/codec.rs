//! The storage codec of a resource: how its objects are written to, and read from, their
//! stored bytes (upstream's storage codec, `--storage-media-type`).
//!
//! Objects are written as upstream's kube-apiserver writes them by default: protobuf in the
//! `k8s\0` envelope (`runtime.Unknown` with the object's `apiVersion` and `kind`, its message
//! as `raw`, empty `contentEncoding` and `contentType`), through the kind's type model. With
//! `--storage-media-type=application/json` they are written as canonical JSON, with
//! `application/yaml` as YAML; a kind without a protobuf type is always written as JSON.
//! Whatever the setting, every form is read: protobuf (upstream's, or ours), JSON (what
//! earlier builds wrote) and YAML, so mixed data serves. The stored form never holds the
//! `resourceVersion` (storage's revision is the object's version), as upstream stores it.
//!
//! The codec is a value transformer ([`storage::transform`]); encryption at rest sits under
//! it, on the encoded bytes, as upstream's transformers do.

use std::str::FromStr;

use apimachinery::protobuf;
use apimachinery::schema::MessageRef;
use bytes::Bytes;
use serde_json::Value;
use storage::encrypt::ENCRYPTED_PREFIX;
use storage::transform::ValueTransformer;
use storage::StorageError;

use super::encoding::encode_canonical;

/// The media type objects are written in (`--storage-media-type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StorageMediaType {
    Json,
    Yaml,
    /// Upstream's kube-apiserver default.
    #[default]
    Protobuf,
}

impl StorageMediaType {
    /// The names `--storage-media-type` accepts, as upstream lists them.
    pub const NAMES: [&'static str; 3] = [
        "application/json",
        "application/vnd.kubernetes.protobuf",
        "application/yaml",
    ];
}

impl FromStr for StorageMediaType {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "application/json" => Ok(StorageMediaType::Json),
            "application/yaml" => Ok(StorageMediaType::Yaml),
            "application/vnd.kubernetes.protobuf" => Ok(StorageMediaType::Protobuf),
            _ => Err(()),
        }
    }
}

/// How a store's objects are kept: the media type they are written in, and the encryption
/// (or other transformer) applied to the encoded bytes.
#[derive(Clone, Default)]
pub struct StorageEncoding {
    pub media_type: StorageMediaType,
    pub encryption: Option<std::sync::Arc<dyn ValueTransformer>>,
}

/// Writes a kind's objects in the configured media type; reads every form.
pub struct StorageCodec {
    schema: MessageRef,
    media_type: StorageMediaType,
}

impl StorageCodec {
    pub fn new(schema: MessageRef, media_type: StorageMediaType) -> Self {
        StorageCodec { schema, media_type }
    }

    /// The stored bytes of `obj`, which carries no `resourceVersion` (storage's revision
    /// is the object's version).
    pub fn encode_object(&self, key: &str, obj: &Value) -> Result<Bytes, StorageError> {
        match self.media_type {
            StorageMediaType::Json => Ok(encode_canonical(obj)),
            StorageMediaType::Yaml => Ok(Bytes::from(apimachinery::yaml::to_yaml_sorted(obj))),
            StorageMediaType::Protobuf => {
                let text = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default();
                let pb = protobuf::encode(text("apiVersion"), text("kind"), &self.schema, obj)
                    .map_err(|e| internal(key, "encoding", e))?;
                Ok(Bytes::from(pb))
            }
        }
    }

    /// The object that stored bytes in any form (protobuf, JSON, YAML) hold.
    pub fn decode_object(&self, key: &str, stored: &[u8]) -> Result<Value, StorageError> {
        if stored.starts_with(&protobuf::MAGIC) {
            let lookup = |_: &str, _: &str| Some(self.schema.clone());
            let (_, object) = protobuf::decode_keeping_zeros(stored, &lookup)
                .map_err(|e| internal(key, "decoding", e))?;
            return Ok(object);
        }
        let first = stored.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'{') {
            return serde_json::from_slice(stored).map_err(|e| internal(key, "decoding", e));
        }
        if stored.starts_with(ENCRYPTED_PREFIX) {
            // What upstream's identity transformer says of encrypted data it has no key for.
            return Err(internal(
                key,
                "decoding",
                "identity transformer tried to read encrypted data",
            ));
        }
        let object =
            apimachinery::yaml::from_yaml(stored).map_err(|e| internal(key, "decoding", e))?;
        if !object.is_object() {
            return Err(internal(
                key,
                "decoding",
                "the stored value is not an object",
            ));
        }
        Ok(object)
    }

    /// Whether writing and reading back may change an object (protobuf and YAML forms;
    /// canonical JSON reads back as written).
    pub fn round_trip_changes(&self) -> bool {
        self.media_type != StorageMediaType::Json
    }
}

fn internal(key: &str, what: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError::Internal(format!("{what} {key}: {e}"))
}

/// As a value transformer the codec turns JSON written through it into the stored form,
/// and any stored form into canonical JSON.
impl ValueTransformer for StorageCodec {
    fn to_storage(&self, key: &str, value: Bytes) -> Result<Bytes, StorageError> {
        if self.media_type == StorageMediaType::Json {
            return Ok(value);
        }
        let object: Value =
            serde_json::from_slice(&value).map_err(|e| internal(key, "encoding", e))?;
        self.encode_object(key, &object)
    }

    fn read_stored(&self, key: &str, stored: Bytes) -> Result<Bytes, StorageError> {
        let first = stored.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'{') {
            return Ok(stored);
        }
        Ok(encode_canonical(&self.decode_object(key, &stored)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codec(kind: &str, media_type: StorageMediaType) -> StorageCodec {
        let schema = apimachinery::types::model()
            .message(kind)
            .cloned()
            .expect("a declared type");
        StorageCodec::new(schema, media_type)
    }

    fn status() -> Value {
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
               "status": "Failure", "message": "m", "code": 404})
    }

    #[test]
    fn writes_protobuf_in_upstreams_envelope_and_reads_every_form() {
        let c = codec(
            "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
            StorageMediaType::Protobuf,
        );
        let json = encode_canonical(&status());
        let stored = c.to_storage("/k", json.clone()).unwrap();
        // k8s\0, then runtime.Unknown: typeMeta {apiVersion, kind}, raw, "" and "".
        assert!(stored.starts_with(b"k8s\0\x0a\x0c\x0a\x02v1\x12\x06Status\x12"));
        assert!(stored.ends_with(b"\x1a\x00\x22\x00"));
        let read: Value = serde_json::from_slice(&c.read_stored("/k", stored).unwrap()).unwrap();
        assert_eq!(read, status());
        // JSON written by earlier builds, and YAML, read the same.
        assert_eq!(c.read_stored("/k", json.clone()).unwrap(), json);
        let yaml = Bytes::from(apimachinery::yaml::to_yaml_sorted(&status()));
        let read: Value = serde_json::from_slice(&c.read_stored("/k", yaml).unwrap()).unwrap();
        assert_eq!(read, status());
        assert!(c
            .read_stored("/k", Bytes::from_static(b"k8s\0\xff"))
            .is_err());
        let e = c
            .read_stored("/k", Bytes::from_static(b"k8s:enc:aescbc:v1:k:..."))
            .unwrap_err();
        assert!(e
            .to_string()
            .contains("identity transformer tried to read encrypted data"));
    }

    #[test]
    fn json_and_yaml_media_types_write_those_forms() {
        let json = encode_canonical(&status());
        let schema = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
        let c = codec(schema, StorageMediaType::Json);
        assert_eq!(c.to_storage("/k", json.clone()).unwrap(), json);
        let c = codec(schema, StorageMediaType::Yaml);
        let stored = c.to_storage("/k", json.clone()).unwrap();
        assert!(
            stored.starts_with(b"apiVersion: v1\ncode: 404\n"),
            "{stored:?}"
        );
        let read: Value = serde_json::from_slice(&c.read_stored("/k", stored).unwrap()).unwrap();
        assert_eq!(read, status());
        assert_eq!("application/yaml".parse(), Ok(StorageMediaType::Yaml));
        assert!("text/plain".parse::<StorageMediaType>().is_err());
    }

    #[test]
    fn zero_values_that_were_written_read_back() {
        // Pointer fields in Go: their zero is a value (false is not "unset").
        let c = codec(
            "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
            StorageMediaType::Protobuf,
        );
        let options = json!({"kind": "DeleteOptions", "apiVersion": "v1", "metadata": {},
                             "gracePeriodSeconds": 0, "orphanDependents": false});
        let stored = c.to_storage("/k", encode_canonical(&options)).unwrap();
        let read: Value = serde_json::from_slice(&c.read_stored("/k", stored).unwrap()).unwrap();
        assert_eq!(read, options);
    }
}

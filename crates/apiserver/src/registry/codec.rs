//! The storage codec of a resource: how its objects are read from their stored bytes.
//!
//! Objects are written as canonical JSON (`--storage-media-type=application/json`). An
//! object stored as upstream's kube-apiserver stores it by default — protobuf in the
//! `k8s\0` envelope — is read too, through the kind's type model, so a store written by
//! upstream serves here. The codec is a value transformer ([`storage::transform`]), the
//! layer encryption at rest will join.

use apimachinery::protobuf;
use apimachinery::schema::MessageRef;
use bytes::Bytes;
use storage::transform::ValueTransformer;
use storage::StorageError;

use super::encoding::encode_canonical;

/// Reads JSON as it is and protobuf through `schema`; writes JSON.
pub struct StorageCodec {
    schema: MessageRef,
}

impl StorageCodec {
    pub fn new(schema: MessageRef) -> Self {
        StorageCodec { schema }
    }
}

impl ValueTransformer for StorageCodec {
    fn to_storage(&self, _key: &str, value: Bytes) -> Result<Bytes, StorageError> {
        Ok(value)
    }

    fn read_stored(&self, key: &str, stored: Bytes) -> Result<Bytes, StorageError> {
        if !stored.starts_with(&protobuf::MAGIC) {
            return Ok(stored);
        }
        let lookup = |_: &str, _: &str| Some(self.schema.clone());
        let (_, object) = protobuf::decode(&stored, &lookup)
            .map_err(|e| StorageError::Internal(format!("decoding {key}: {e}")))?;
        Ok(encode_canonical(&object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn reads_json_as_it_is_and_protobuf_through_the_type() {
        let schema = apimachinery::types::model()
            .message("io.k8s.apimachinery.pkg.apis.meta.v1.Status")
            .cloned()
            .expect("Status");
        let codec = StorageCodec::new(schema.clone());
        let json = Bytes::from_static(br#"{"kind":"Status","metadata":{}}"#);
        assert_eq!(codec.read_stored("/k", json.clone()).unwrap(), json);
        assert_eq!(codec.to_storage("/k", json.clone()).unwrap(), json);
        let object = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Failure", "message": "m", "code": 404});
        let pb = protobuf::encode("v1", "Status", &schema, &object).unwrap();
        let read = codec.read_stored("/k", Bytes::from(pb)).unwrap();
        let read: Value = serde_json::from_slice(&read).unwrap();
        assert_eq!(read, object);
        assert!(codec
            .read_stored("/k", Bytes::from_static(b"k8s\0\xff"))
            .is_err());
    }
}

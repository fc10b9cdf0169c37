//! How objects are kept as bytes, so that reads serialize nothing: objects are stored in a
//! canonical JSON form (`kind`, `apiVersion`, `metadata` first, as upstream writes them) with
//! no `resourceVersion`; serving splices the resourceVersion into the bytes, and list items
//! drop their type meta by slicing.

use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value};

/// Encodes an object canonically, without `metadata.resourceVersion`.
pub fn encode_canonical(obj: &Value) -> Bytes {
    let Value::Object(map) = obj else {
        return Bytes::from(serde_json::to_vec(obj).unwrap_or_default());
    };
    let mut ordered = Map::with_capacity(map.len());
    for key in ["kind", "apiVersion"] {
        if let Some(v) = map.get(key) {
            ordered.insert(key.to_string(), v.clone());
        }
    }
    let mut metadata = match map.get("metadata") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    metadata.remove("resourceVersion");
    ordered.insert("metadata".to_string(), Value::Object(metadata));
    for (k, v) in map {
        if !matches!(k.as_str(), "kind" | "apiVersion" | "metadata") {
            ordered.insert(k.clone(), v.clone());
        }
    }
    Bytes::from(serde_json::to_vec(&Value::Object(ordered)).unwrap_or_default())
}

/// The marker that opens the metadata object in canonical bytes.
const METADATA: &[u8] = b"\"metadata\":{";

/// Where the top-level metadata object's `{` is: a scan that tracks strings and nesting,
/// so a nested `metadata` (a pod template's) is never taken for the object's own. In
/// canonical bytes it is found right after `kind` and `apiVersion`.
fn metadata_brace(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                if depth == 1 && bytes[i..].starts_with(METADATA) {
                    return Some(i + METADATA.len() - 1);
                }
                in_string = true;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The object's wire JSON with `metadata.resourceVersion` set to `rev`.
pub fn with_resource_version(stored: &[u8], rev: i64) -> Bytes {
    if let Some(brace) = metadata_brace(stored) {
        let rv = format!("\"resourceVersion\":\"{rev}\"");
        let mut out = BytesMut::with_capacity(stored.len() + rv.len() + 1);
        out.extend_from_slice(&stored[..=brace]);
        out.extend_from_slice(rv.as_bytes());
        if stored.get(brace + 1) != Some(&b'}') {
            out.extend_from_slice(b",");
        }
        out.extend_from_slice(&stored[brace + 1..]);
        return out.freeze();
    }
    // Not canonical (written by something else): take the slow path.
    match serde_json::from_slice::<Value>(stored) {
        Ok(mut obj) => {
            super::meta::set_meta(
                &mut obj,
                "resourceVersion",
                Some(Value::String(rev.to_string())),
            );
            Bytes::from(serde_json::to_vec(&obj).unwrap_or_default())
        }
        Err(_) => Bytes::copy_from_slice(stored),
    }
}

/// Where `"metadata"` starts in wire JSON whose only earlier keys are `kind` and
/// `apiVersion` (canonical bytes): list items are `{` followed by the bytes from there.
pub fn type_meta_end(wire: &[u8]) -> Option<usize> {
    let start = metadata_brace(wire)? + 1 - METADATA.len();
    (start > 1).then_some(start)
}

/// The object without `kind`/`apiVersion`, as items of typed lists are written: `{` followed
/// by everything from `metadata` on. Falls back to the full bytes when not canonical.
pub fn without_type_meta(wire: &Bytes) -> Bytes {
    match metadata_brace(wire) {
        Some(brace) => {
            let start = brace + 1 - METADATA.len();
            if start <= 1 {
                return wire.clone();
            }
            let mut out = BytesMut::with_capacity(wire.len() - start + 1);
            out.extend_from_slice(b"{");
            out.extend_from_slice(&wire[start..]);
            out.freeze()
        }
        None => wire.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splice_and_strip() {
        let obj = json!({"data": {"a": "\"metadata\":{"}, "metadata": {"name": "x", "resourceVersion": "9"}, "apiVersion": "v1", "kind": "ConfigMap"});
        let stored = encode_canonical(&obj);
        assert!(
            stored.starts_with(br#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}"#)
        );
        let wire = with_resource_version(&stored, 42);
        let v: Value = serde_json::from_slice(&wire).unwrap();
        assert_eq!(v["metadata"]["resourceVersion"], "42");
        assert_eq!(v["data"]["a"], "\"metadata\":{");
        let item: Value = serde_json::from_slice(&without_type_meta(&wire)).unwrap();
        assert!(item.get("kind").is_none() && item.get("apiVersion").is_none());
        assert_eq!(item["metadata"]["name"], "x");
        assert_eq!(item["data"]["a"], "\"metadata\":{");
    }

    #[test]
    fn empty_metadata_and_foreign_bytes() {
        let stored = encode_canonical(&json!({"kind": "K", "apiVersion": "v1"}));
        let v: Value = serde_json::from_slice(&with_resource_version(&stored, 1)).unwrap();
        assert_eq!(v["metadata"], json!({"resourceVersion": "1"}));
        let foreign = br#"{"spec":{"template":{"metadata":{}}},"metadata":{"name":"y"}}"#;
        let v: Value = serde_json::from_slice(&with_resource_version(foreign, 2)).unwrap();
        assert_eq!(v["metadata"]["resourceVersion"], "2");
        assert_eq!(v["spec"]["template"]["metadata"], json!({}));
        assert_eq!(&without_type_meta(&Bytes::from_static(b"[1]"))[..], b"[1]");
    }
}

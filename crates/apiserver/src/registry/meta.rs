//! Accessors for `metadata` on objects kept as JSON, so that one code path serves every kind.

use serde_json::{Map, Value};

/// The object's `metadata` map, if present.
pub fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata")?.as_object()
}

/// The object's `metadata` map, created when missing (and replacing a non-object).
pub fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    let Value::Object(map) = obj else {
        unreachable!("made an object above")
    };
    let entry = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(m) => m,
        _ => unreachable!("made an object above"),
    }
}

/// A string field of `metadata` (`""` when missing).
pub fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    meta(obj)
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn name(obj: &Value) -> &str {
    meta_str(obj, "name")
}

pub fn namespace(obj: &Value) -> &str {
    meta_str(obj, "namespace")
}

pub fn resource_version(obj: &Value) -> &str {
    meta_str(obj, "resourceVersion")
}

pub fn uid(obj: &Value) -> &str {
    meta_str(obj, "uid")
}

/// Sets (or, with `None`, removes) a `metadata` field.
pub fn set_meta(obj: &mut Value, field: &str, value: Option<Value>) {
    let m = meta_mut(obj);
    match value {
        Some(v) => {
            m.insert(field.to_string(), v);
        }
        None => {
            m.remove(field);
        }
    }
}

/// The object's labels (an empty map when none).
pub fn labels(obj: &Value) -> Map<String, Value> {
    meta(obj)
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// The `metadata.finalizers` list.
pub fn finalizers(obj: &Value) -> Vec<String> {
    meta(obj)
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether deletion of the object has begun.
pub fn deletion_started(obj: &Value) -> bool {
    meta(obj).is_some_and(|m| m.get("deletionTimestamp").is_some_and(|v| !v.is_null()))
}

/// The object without `metadata` and `status`: what counts as its spec for `generation`.
pub fn spec_part(obj: &Value) -> Value {
    match obj {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Builds `PartialObjectMetadata` for an object: its type meta and metadata only.
pub fn partial_object_metadata(obj: &Value) -> Value {
    serde_json::json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta(obj).cloned().map(Value::Object).unwrap_or_else(|| Value::Object(Map::new())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accessors() {
        let mut o = json!({"metadata": {"name": "a", "labels": {"x": "y"}, "finalizers": ["f"]}, "data": {}});
        assert_eq!(name(&o), "a");
        assert_eq!(namespace(&o), "");
        assert_eq!(labels(&o).len(), 1);
        assert_eq!(finalizers(&o), vec!["f".to_string()]);
        set_meta(&mut o, "namespace", Some(json!("ns")));
        assert_eq!(namespace(&o), "ns");
        assert!(!deletion_started(&o));
        assert_eq!(spec_part(&o), json!({"data": {}}));
        let mut bad = json!(3);
        set_meta(&mut bad, "name", Some(json!("n")));
        assert_eq!(name(&bad), "n");
    }
}

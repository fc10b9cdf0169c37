//! The `metadata.managedFields` entries of an object, as managers: one field set per
//! manager identity (manager name, operation, subresource, and for `Update` the API
//! version), encoded back in upstream's order.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::set::Set;

/// Who manages a set of fields: an entry minus its fields and time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// Part of the identity of `Update` managers only (empty for `Apply`).
    pub api_version: String,
    pub subresource: String,
}

impl Identity {
    /// How conflicts name a manager: `"mgr"`, with `with subresource "status"` and, for
    /// `Update` managers, `using v1`.
    pub fn describe(&self) -> String {
        let mut s = apimachinery::go_quote(&self.manager);
        if !self.subresource.is_empty() {
            s.push_str(&format!(
                " with subresource {}",
                apimachinery::go_quote(&self.subresource)
            ));
        }
        if self.operation == "Update" {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }
}

/// The fields one manager owns, at the API version it wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedSet {
    pub set: Set,
    pub api_version: String,
    /// Whether they were applied (`Apply`) rather than written (`Update`).
    pub applied: bool,
    /// When the manager last changed the object (RFC 3339).
    pub time: Option<String>,
}

/// Every manager of an object.
pub type Managers = BTreeMap<Identity, VersionedSet>;

/// An entry that does not decode (upstream's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("operation must be `Apply` or `Update`")]
    Operation,
    #[error("apiVersion must not be empty")]
    ApiVersion,
    #[error("missing fieldsType in managed fields entry {0}")]
    MissingFieldsType(usize),
    #[error("invalid fieldsType {0:?} in managed fields entry {1}")]
    FieldsType(String, usize),
    #[error("error decoding set: {0}")]
    Fields(String),
    #[error("managedFields must be a list of entries")]
    NotList,
}

/// Whether the object's `managedFields` asks for tracking to start over: `[]` or `[{}]`.
pub fn is_reset(obj: &Value) -> bool {
    match obj.pointer("/metadata/managedFields") {
        Some(Value::Array(items)) => {
            items.is_empty() || (items.len() == 1 && is_empty_object(&items[0]))
        }
        _ => false,
    }
}

fn is_empty_object(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.is_empty())
}

/// Decodes the object's `managedFields` (none: no managers).
pub fn decode(obj: &Value) -> Result<Managers, EntryError> {
    let mut out = Managers::new();
    let Some(list) = obj.pointer("/metadata/managedFields") else {
        return Ok(out);
    };
    if list.is_null() {
        return Ok(out);
    }
    let Some(items) = list.as_array() else {
        return Err(EntryError::NotList);
    };
    for (i, e) in items.iter().enumerate() {
        let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let operation = s("operation");
        if operation != "Apply" && operation != "Update" {
            return Err(EntryError::Operation);
        }
        let api_version = s("apiVersion");
        if api_version.is_empty() {
            return Err(EntryError::ApiVersion);
        }
        match s("fieldsType").as_str() {
            "FieldsV1" => {}
            "" => return Err(EntryError::MissingFieldsType(i)),
            other => return Err(EntryError::FieldsType(other.to_string(), i)),
        }
        let set = match e.get("fieldsV1") {
            None | Some(Value::Null) => Set::new(),
            Some(v) => Set::from_fields_v1(v).map_err(|e| EntryError::Fields(e.to_string()))?,
        };
        let applied = operation == "Apply";
        let identity = Identity {
            manager: s("manager"),
            api_version: if applied {
                String::new()
            } else {
                api_version.clone()
            },
            operation,
            subresource: s("subresource"),
        };
        out.insert(
            identity,
            VersionedSet {
                set,
                api_version,
                applied,
                time: e.get("time").and_then(Value::as_str).map(str::to_string),
            },
        );
    }
    Ok(out)
}

/// The entries of `managers`, sorted as upstream sorts them (operation, time, manager, API
/// version, subresource); `None` when there are none.
pub fn encode(managers: &Managers) -> Option<Value> {
    if managers.is_empty() {
        return None;
    }
    let mut entries: Vec<(&Identity, &VersionedSet)> = managers.iter().collect();
    entries.sort_by(|(a, x), (b, y)| {
        let op = |i: &Identity, v: &VersionedSet| {
            if v.applied {
                "Apply".to_string()
            } else {
                i.operation.clone()
            }
        };
        op(a, x)
            .cmp(&op(b, y))
            .then_with(|| {
                x.time
                    .as_deref()
                    .unwrap_or("")
                    .cmp(y.time.as_deref().unwrap_or(""))
            })
            .then_with(|| a.manager.cmp(&b.manager))
            .then_with(|| x.api_version.cmp(&y.api_version))
            .then_with(|| a.subresource.cmp(&b.subresource))
    });
    let list = entries
        .into_iter()
        .map(|(id, vs)| {
            let mut m = Map::new();
            if !id.manager.is_empty() {
                m.insert("manager".into(), json!(id.manager));
            }
            m.insert(
                "operation".into(),
                json!(if vs.applied { "Apply" } else { "Update" }),
            );
            m.insert("apiVersion".into(), json!(vs.api_version));
            if let Some(t) = &vs.time {
                m.insert("time".into(), json!(t));
            }
            m.insert("fieldsType".into(), json!("FieldsV1"));
            let fields: Value =
                serde_json::from_str(&vs.set.to_fields_v1()).unwrap_or_else(|_| json!({}));
            m.insert("fieldsV1".into(), fields);
            if !id.subresource.is_empty() {
                m.insert("subresource".into(), json!(id.subresource));
            }
            Value::Object(m)
        })
        .collect();
    Some(Value::Array(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_sorted() {
        let obj = json!({"metadata": {"managedFields": [
            {"manager": "b", "operation": "Update", "apiVersion": "v1", "time": "2026-01-01T00:00:02Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {".": {}, "f:x": {}}}},
            {"manager": "a", "operation": "Update", "apiVersion": "v1", "time": "2026-01-01T00:00:02Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:y": {}}}, "subresource": "status"},
            {"manager": "z", "operation": "Apply", "apiVersion": "v1", "time": "2026-01-01T00:00:09Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:z": {}}}},
        ]}});
        let managers = decode(&obj).unwrap_or_default();
        assert_eq!(managers.len(), 3);
        let encoded = encode(&managers).unwrap_or(Value::Null);
        let names: Vec<&str> = encoded
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["manager"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, ["z", "a", "b"]);
        assert_eq!(encoded[2], obj["metadata"]["managedFields"][0]);
        assert_eq!(encoded[1], obj["metadata"]["managedFields"][1]);
    }

    #[test]
    fn bad_entries_are_upstreams_errors() {
        let with = |e: Value| decode(&json!({"metadata": {"managedFields": [e]}}));
        assert_eq!(with(json!({"operation": "X"})), Err(EntryError::Operation));
        assert_eq!(
            with(json!({"operation": "Apply"})),
            Err(EntryError::ApiVersion)
        );
        assert_eq!(
            with(json!({"operation": "Apply", "apiVersion": "v1"})),
            Err(EntryError::MissingFieldsType(0))
        );
        assert!(is_reset(&json!({"metadata": {"managedFields": []}})));
        assert!(is_reset(&json!({"metadata": {"managedFields": [{}]}})));
        assert!(!is_reset(&json!({"metadata": {}})));
    }
}

//! The managers of a `scale` subresource, kept on the parent object (upstream's
//! `ScaleHandler`): a write through `*/scale` sees the parent's managers of the replicas
//! field as managers of the `Scale`'s `.spec.replicas`, and what the write leaves is mapped
//! back onto the parent's replicas field.
//!
//! Mapping back follows upstream exactly, quirks included: a scale manager's entry takes
//! the time the parent had for the same identity (so `Update` entries through `scale`,
//! whose identity names `autoscaling/v1`, carry no time), and parent entries written at an
//! API version the kind has no replicas path for are dropped.

use crate::entries::{Identity, Managers, VersionedSet};
use crate::path::Path;
use crate::set::Set;

/// The API version of the `Scale` kind.
pub const SCALE_API_VERSION: &str = "autoscaling/v1";

/// `.spec.replicas`, where a `Scale` keeps its replicas.
fn scale_replicas() -> Path {
    Path::fields(&["spec", "replicas"])
}

/// How one kind's replicas field maps to its `Scale`.
#[derive(Debug, Clone)]
pub struct ScaleHandler {
    /// The parent's API version of this request (`apps/v1`): scale managers are recorded
    /// on the parent at it.
    pub parent_api_version: String,
    /// The replicas path of each API version of the kind (upstream's
    /// `ResourcePathMappings`).
    pub replicas_paths: Vec<(String, Path)>,
}

impl ScaleHandler {
    /// A handler for a kind whose every listed API version keeps its replicas at
    /// `.spec.replicas`.
    pub fn spec_replicas(parent_api_version: &str, api_versions: &[&str]) -> ScaleHandler {
        ScaleHandler {
            parent_api_version: parent_api_version.to_string(),
            replicas_paths: api_versions
                .iter()
                .map(|v| (v.to_string(), Path::fields(&["spec", "replicas"])))
                .collect(),
        }
    }

    fn replicas_path(&self, api_version: &str) -> Option<&Path> {
        self.replicas_paths
            .iter()
            .find(|(v, _)| v == api_version)
            .map(|(_, p)| p)
    }

    /// The managers of the `Scale`: every parent manager of the replicas field, owning
    /// the `Scale`'s `.spec.replicas` at `autoscaling/v1`.
    pub fn to_subresource(&self, parent: &Managers) -> Managers {
        let mut out = Managers::new();
        for (id, vs) in parent {
            let Some(path) = self.replicas_path(&vs.api_version) else {
                continue;
            };
            if !vs.set.has(&path.0) {
                continue;
            }
            let id = Identity {
                api_version: if vs.applied {
                    String::new()
                } else {
                    SCALE_API_VERSION.to_string()
                },
                ..id.clone()
            };
            out.insert(
                id,
                VersionedSet {
                    set: Set::from_paths([scale_replicas()]),
                    api_version: SCALE_API_VERSION.to_string(),
                    applied: vs.applied,
                    time: vs.time.clone(),
                },
            );
        }
        out
    }

    /// The parent's managers after a write through `scale` left the `Scale` with
    /// `scale`'s managers: parent managers of the replicas field that do not manage the
    /// `Scale` any more lose it, and the `Scale`'s managers of `.spec.replicas` own the
    /// parent's replicas field.
    pub fn to_parent(&self, parent: &Managers, scale: &Managers) -> Managers {
        let mut out = Managers::new();
        let mut remaining = scale.clone();
        for (id, vs) in parent {
            let Some(path) = self.replicas_path(&vs.api_version) else {
                continue;
            };
            // Kept as it is: an entry without replicas, or one the scale still has.
            if !vs.set.has(&path.0) || remaining.remove(id).is_some() {
                out.insert(id.clone(), vs.clone());
            } else {
                let set = vs.set.difference(&Set::from_paths([path.clone()]));
                if !set.is_empty() {
                    out.insert(id.clone(), VersionedSet { set, ..vs.clone() });
                }
            }
        }
        let Some(parent_path) = self.replicas_path(&self.parent_api_version) else {
            return out;
        };
        for (id, vs) in remaining {
            if !vs.set.has(&scale_replicas().0) {
                continue;
            }
            let time = parent.get(&id).and_then(|p| p.time.clone());
            let id = Identity {
                api_version: if vs.applied {
                    String::new()
                } else {
                    self.parent_api_version.clone()
                },
                ..id
            };
            out.insert(
                id,
                VersionedSet {
                    set: Set::from_paths([parent_path.clone()]),
                    api_version: self.parent_api_version.clone(),
                    applied: vs.applied,
                    time,
                },
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries;
    use serde_json::{json, Value};

    fn managers(list: Value) -> Managers {
        entries::decode(&json!({"metadata": {"managedFields": list}})).unwrap_or_default()
    }

    fn handler() -> ScaleHandler {
        ScaleHandler::spec_replicas("apps/v1", &["apps/v1beta1", "apps/v1beta2", "apps/v1"])
    }

    fn encoded(m: &Managers) -> Value {
        entries::encode(m).unwrap_or(Value::Null)
    }

    #[test]
    fn the_scale_sees_the_managers_of_replicas_only() {
        let parent = managers(json!([
            {"manager": "other", "operation": "Apply", "apiVersion": "apps/v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:paused": {}}}},
            {"manager": "owner", "operation": "Apply", "apiVersion": "apps/v1",
             "time": "2026-01-01T00:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}, "f:paused": {}}}},
            {"manager": "old", "operation": "Update", "apiVersion": "apps/v10",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        ]));
        assert_eq!(
            encoded(&handler().to_subresource(&parent)),
            json!([{"manager": "owner", "operation": "Apply", "apiVersion": "autoscaling/v1",
                "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:replicas": {}}}}])
        );
    }

    #[test]
    fn a_scale_updater_takes_replicas_from_the_parent() {
        let parent = managers(json!([
            {"manager": "test", "operation": "Apply", "apiVersion": "apps/v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}, "f:selector": {}}}},
        ]));
        let scale = managers(json!([
            {"manager": "scale", "operation": "Update", "apiVersion": "autoscaling/v1",
             "time": "2026-01-01T00:00:00Z", "subresource": "scale",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        ]));
        assert_eq!(
            encoded(&handler().to_parent(&parent, &scale)),
            json!([
                {"manager": "test", "operation": "Apply", "apiVersion": "apps/v1",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:selector": {}}}},
                {"manager": "scale", "operation": "Update", "apiVersion": "apps/v1",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}},
                 "subresource": "scale"},
            ])
        );
    }

    #[test]
    fn a_manager_still_owning_the_scale_keeps_its_entry() {
        let parent = managers(json!([
            {"manager": "a", "operation": "Apply", "apiVersion": "apps/v1", "subresource": "scale",
             "time": "2026-01-01T00:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        ]));
        let scale = handler().to_subresource(&parent);
        let mut with_b = scale.clone();
        with_b.insert(
            Identity {
                manager: "b".into(),
                operation: "Apply".into(),
                api_version: String::new(),
                subresource: "scale".into(),
            },
            VersionedSet {
                set: Set::from_paths([scale_replicas()]),
                api_version: SCALE_API_VERSION.into(),
                applied: true,
                time: Some("2026-02-02T00:00:00Z".into()),
            },
        );
        let back = handler().to_parent(&parent, &with_b);
        // Entries without a time sort first, as upstream sorts them.
        let list = encoded(&back);
        assert_eq!(list[0]["manager"], "b");
        assert_eq!(list[0]["apiVersion"], "apps/v1");
        // The time is the parent's for that identity: a new manager has none.
        assert!(list[0].get("time").is_none());
        assert_eq!(list[1]["manager"], "a");
        assert_eq!(list[1]["time"], "2026-01-01T00:00:00Z");
    }

    #[test]
    fn scale_managers_of_status_only_are_not_mapped() {
        let parent = managers(json!([
            {"manager": "test", "operation": "Apply", "apiVersion": "apps/v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:selector": {}}}},
        ]));
        let scale = managers(json!([
            {"manager": "scale", "operation": "Update", "apiVersion": "autoscaling/v1",
             "subresource": "scale",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:replicas": {}}}},
        ]));
        assert_eq!(handler().to_parent(&parent, &scale), parent);
    }
}

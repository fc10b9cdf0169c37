//! core/v1 (`k8s.io/api/core/v1`).

use apimachinery::schema::{Field, ListMerge, Message, Type};
use apimachinery::types::OBJECT_META;

/// Standard object metadata, as every kind declares it.
const METADATA: Field =
    Field::new("metadata", 1, Type::Message(&OBJECT_META)).doc("Standard object metadata.");

/// `ConfigMap`: configuration data for pods.
pub static CONFIG_MAP: Message = Message {
    name: "io.k8s.api.core.v1.ConfigMap",
    description: "Configuration data for pods to consume.",
    gvk: Some(("", "v1", "ConfigMap")),
    fields: &[
        METADATA,
        Field::new("immutable", 4, Type::Bool)
            .doc("When true, data cannot be changed; only metadata can."),
        Field::new("data", 2, Type::Map(&Type::String))
            .doc("UTF-8 configuration data; keys are alphanumeric, '-', '_' or '.' and must not repeat in binaryData."),
        Field::new("binaryData", 3, Type::Map(&Type::Bytes))
            .doc("Binary configuration data; keys must not repeat in data."),
    ],
};

/// `Secret`: sensitive data, such as passwords and keys.
pub static SECRET: Message = Message {
    name: "io.k8s.api.core.v1.Secret",
    description: "Sensitive data of a certain type, such as credentials or keys.",
    gvk: Some(("", "v1", "Secret")),
    fields: &[
        METADATA,
        Field::new("immutable", 5, Type::Bool)
            .doc("When true, data cannot be changed; only metadata can."),
        Field::new("data", 2, Type::Map(&Type::Bytes))
            .doc("The secret data; base64 in JSON and YAML."),
        Field::new("stringData", 4, Type::Map(&Type::String))
            .doc("Write-only convenience: plain-text values merged into data on write."),
        Field::new("type", 3, Type::String)
            .doc("Used to facilitate programmatic handling of the secret data."),
    ],
};

/// `Namespace`: a scope for names.
pub static NAMESPACE: Message = Message {
    name: "io.k8s.api.core.v1.Namespace",
    description: "A scope for names.",
    gvk: Some(("", "v1", "Namespace")),
    fields: &[
        METADATA,
        Field::new("spec", 2, Type::Message(&NAMESPACE_SPEC))
            .doc("Desired behavior of the namespace."),
        Field::new("status", 3, Type::Message(&NAMESPACE_STATUS))
            .doc("Observed state of the namespace."),
    ],
};

/// `NamespaceSpec`.
pub static NAMESPACE_SPEC: Message = Message {
    name: "io.k8s.api.core.v1.NamespaceSpec",
    description: "Desired behavior of a namespace.",
    gvk: None,
    fields: &[Field::new("finalizers", 1, Type::List(&Type::String))
        .doc("Values that must be emptied before the namespace is removed from storage.")
        .merge(ListMerge {
            list_type: Some("atomic"),
            map_keys: &[],
            patch_strategy: None,
            patch_merge_key: None,
        })],
};

/// `NamespaceStatus`.
pub static NAMESPACE_STATUS: Message = Message {
    name: "io.k8s.api.core.v1.NamespaceStatus",
    description: "Observed state of a namespace.",
    gvk: None,
    fields: &[
        Field::new("phase", 1, Type::String).doc("`Active` or `Terminating`."),
        Field::new(
            "conditions",
            2,
            Type::List(&Type::Message(&NAMESPACE_CONDITION)),
        )
        .doc("Latest observations of the namespace's state.")
        .merge(ListMerge {
            list_type: Some("map"),
            map_keys: &["type"],
            patch_strategy: Some("merge"),
            patch_merge_key: Some("type"),
        }),
    ],
};

/// `NamespaceCondition`.
pub static NAMESPACE_CONDITION: Message = Message {
    name: "io.k8s.api.core.v1.NamespaceCondition",
    description: "One observation of a namespace's state.",
    gvk: None,
    fields: &[
        Field::new("type", 1, Type::String)
            .doc("Type of the condition.")
            .required(),
        Field::new("status", 2, Type::String)
            .doc("`True`, `False` or `Unknown`.")
            .required(),
        Field::new("lastTransitionTime", 4, Type::Time).doc("When the status last changed."),
        Field::new("reason", 5, Type::String).doc("CamelCase reason for the last transition."),
        Field::new("message", 6, Type::String)
            .doc("Human-readable details of the last transition."),
    ],
};

/// `ObjectReference`: enough to find one object (an event's subject).
pub static OBJECT_REFERENCE: Message = Message {
    name: "io.k8s.api.core.v1.ObjectReference",
    description: "A reference to an object: enough to inspect or change it.",
    gvk: None,
    fields: &[
        Field::new("kind", 1, Type::String).doc("Kind of the referent."),
        Field::new("namespace", 2, Type::String).doc("Namespace of the referent."),
        Field::new("name", 3, Type::String).doc("Name of the referent."),
        Field::new("uid", 4, Type::String).doc("UID of the referent."),
        Field::new("apiVersion", 5, Type::String).doc("API version of the referent."),
        Field::new("resourceVersion", 6, Type::String)
            .doc("The referent's resourceVersion this reference was made for, if any."),
        Field::new("fieldPath", 7, Type::String)
            .doc("A piece of the referent (such as one container of a pod), when not the whole."),
    ],
};

/// `EventSource`: who reported a (legacy) event.
pub static EVENT_SOURCE: Message = Message {
    name: "io.k8s.api.core.v1.EventSource",
    description: "The component, and host, that reported an event.",
    gvk: None,
    fields: &[
        Field::new("component", 1, Type::String).doc("Component reporting the event."),
        Field::new("host", 2, Type::String).doc("Node name on which the event was produced."),
    ],
};

/// `EventSeries`: a repeating event.
pub static EVENT_SERIES: Message = Message {
    name: "io.k8s.api.core.v1.EventSeries",
    description: "Data about a series of events that keep happening.",
    gvk: None,
    fields: &[
        Field::new("count", 1, Type::Int32)
            .doc("Occurrences in the series up to lastObservedTime."),
        Field::new("lastObservedTime", 2, Type::MicroTime)
            .doc("When the last occurrence was seen."),
    ],
};

/// `Event`: a report of something that happened to an object.
pub static EVENT: Message = Message {
    name: "io.k8s.api.core.v1.Event",
    description:
        "A report of an event somewhere in the cluster. Events are kept for a limited time.",
    gvk: Some(("", "v1", "Event")),
    fields: &[
        METADATA.required(),
        Field::new("involvedObject", 2, Type::Message(&OBJECT_REFERENCE))
            .doc("The object this event is about.")
            .required(),
        Field::new("reason", 3, Type::String)
            .doc("Short, machine-understandable reason for the object's transition (CamelCase)."),
        Field::new("message", 4, Type::String).doc("Human-readable description of the event."),
        Field::new("source", 5, Type::Message(&EVENT_SOURCE))
            .doc("The component reporting the event (legacy; see reportingComponent)."),
        Field::new("firstTimestamp", 6, Type::Time).doc("When the event was first recorded."),
        Field::new("lastTimestamp", 7, Type::Time)
            .doc("When the most recent occurrence was recorded."),
        Field::new("count", 8, Type::Int32).doc("How many times the event has occurred."),
        Field::new("type", 9, Type::String).doc("`Normal` or `Warning`; more may come."),
        Field::new("eventTime", 10, Type::MicroTime).doc("When the event was first observed."),
        Field::new("series", 11, Type::Message(&EVENT_SERIES))
            .doc("The series this event belongs to, or nothing for a singleton."),
        Field::new("action", 12, Type::String)
            .doc("What action was taken or failed regarding the object."),
        Field::new("related", 13, Type::Message(&OBJECT_REFERENCE))
            .doc("A second object, for more complex actions."),
        Field::new("reportingComponent", 14, Type::String)
            .doc("The controller that emitted the event, e.g. `kubernetes.io/kubelet`.")
            .emit_zero(),
        Field::new("reportingInstance", 15, Type::String)
            .doc("The instance of that controller, e.g. `kubelet-xyzf`.")
            .emit_zero(),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use apimachinery::protobuf;
    use serde_json::json;

    #[test]
    fn numbers_match_upstream() {
        let n = |m: &Message| -> Vec<(&str, u32)> {
            m.fields.iter().map(|f| (f.json, f.proto)).collect()
        };
        assert_eq!(
            n(&CONFIG_MAP),
            [
                ("metadata", 1),
                ("immutable", 4),
                ("data", 2),
                ("binaryData", 3)
            ]
        );
        assert_eq!(
            n(&SECRET),
            [
                ("metadata", 1),
                ("immutable", 5),
                ("data", 2),
                ("stringData", 4),
                ("type", 3)
            ]
        );
        assert_eq!(n(&NAMESPACE), [("metadata", 1), ("spec", 2), ("status", 3)]);
        let numbers: Vec<u32> = EVENT.fields.iter().map(|f| f.proto).collect();
        assert_eq!(numbers, (1..=15).collect::<Vec<u32>>());
        assert_eq!(
            n(&OBJECT_REFERENCE),
            [
                ("kind", 1),
                ("namespace", 2),
                ("name", 3),
                ("uid", 4),
                ("apiVersion", 5),
                ("resourceVersion", 6),
                ("fieldPath", 7)
            ]
        );
        assert_eq!(
            n(&NAMESPACE_CONDITION),
            [
                ("type", 1),
                ("status", 2),
                ("lastTransitionTime", 4),
                ("reason", 5),
                ("message", 6)
            ]
        );
    }

    #[test]
    fn secret_round_trip() {
        let v = json!({
            "metadata": {"name": "s", "namespace": "default"},
            "data": {"p": "cQ=="},
            "stringData": {"x": "y"},
            "type": "Opaque",
        });
        let bytes = protobuf::encode_message(&SECRET, &v).unwrap();
        assert_eq!(protobuf::decode_message(&SECRET, &bytes).unwrap(), v);
    }

    #[test]
    fn namespace_keeps_empty_spec_and_status() {
        // What Go sends for `kubectl create namespace n`: spec and status always present.
        let mut raw = vec![0x0a, 0x03, 0x0a, 0x01, b'n'];
        raw.extend([0x12, 0x00, 0x1a, 0x00]);
        assert_eq!(
            protobuf::decode_message(&NAMESPACE, &raw).unwrap(),
            json!({"metadata": {"name": "n"}, "spec": {}, "status": {}})
        );
    }
}

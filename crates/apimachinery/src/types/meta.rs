//! `meta.k8s.io/v1` types (`k8s.io/apimachinery/pkg/apis/meta/v1`).
//!
//! Protobuf numbers follow upstream's `generated.proto`; list merge facts follow the
//! `x-kubernetes-*` extensions upstream's OpenAPI publishes for these fields.

use crate::schema::{Field, ListMerge, Message, Type};

const ATOMIC: ListMerge = ListMerge {
    list_type: Some("atomic"),
    map_keys: &[],
    patch_strategy: None,
    patch_merge_key: None,
};

/// `metav1.ObjectMeta`: the metadata every persisted object carries.
pub static OBJECT_META: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    description: "Metadata every persisted object carries: identity, versioning, labels and ownership.",
    gvk: None,
    fields: &[
        Field::new("name", 1, Type::String)
            .doc("Name of the object, unique within its namespace for its resource. Cannot be updated."),
        Field::new("generateName", 2, Type::String)
            .doc("Prefix from which the server builds a unique name when `name` is empty."),
        Field::new("namespace", 3, Type::String)
            .doc("Namespace the object lives in; empty for cluster-scoped objects."),
        Field::new("selfLink", 4, Type::String).doc("Deprecated and no longer set by the server."),
        Field::new("uid", 5, Type::String)
            .doc("Identifier the server assigns on creation, unique in time and space. Read-only."),
        Field::new("resourceVersion", 6, Type::String).doc(
            "Opaque version of the object, used for optimistic concurrency and watches. Read-only.",
        ),
        Field::new("generation", 7, Type::Int64)
            .doc("Sequence number of a specific generation of the desired state. Read-only."),
        Field::new("creationTimestamp", 8, Type::Time)
            .doc("When the object was created, in UTC. Set by the server. Read-only."),
        Field::new("deletionTimestamp", 9, Type::Time)
            .doc("When the object will be deleted; set once a graceful deletion is requested. Read-only."),
        Field::new("deletionGracePeriodSeconds", 10, Type::Int64)
            .doc("Seconds allowed for graceful termination before removal. Read-only."),
        Field::new("labels", 11, Type::Map(&Type::String))
            .doc("String keys and values used to organize and select objects."),
        Field::new("annotations", 12, Type::Map(&Type::String))
            .doc("Unstructured key-value data for tools; not queryable."),
        Field::new("ownerReferences", 13, Type::List(&Type::Message(&OWNER_REFERENCE)))
            .doc("Objects this object depends on; at most one may be the managing controller.")
            .merge(ListMerge {
                list_type: Some("map"),
                map_keys: &["uid"],
                patch_strategy: Some("merge"),
                patch_merge_key: Some("uid"),
            }),
        Field::new("finalizers", 14, Type::List(&Type::String))
            .doc("Entries that must be removed before the object is deleted from storage.")
            .merge(ListMerge {
                list_type: Some("set"),
                map_keys: &[],
                patch_strategy: Some("merge"),
                patch_merge_key: None,
            }),
        Field::new("managedFields", 17, Type::List(&Type::Message(&MANAGED_FIELDS_ENTRY)))
            .doc("Which manager owns which fields, for server-side apply.")
            .merge(ATOMIC),
    ],
};

/// `metav1.OwnerReference`: a pointer to an owning object in the same namespace.
pub static OWNER_REFERENCE: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
    description:
        "Identifies an owning object, which must be in the same namespace or cluster-scoped.",
    gvk: None,
    fields: &[
        Field::new("apiVersion", 5, Type::String)
            .doc("API version of the owner.")
            .required(),
        Field::new("kind", 1, Type::String)
            .doc("Kind of the owner.")
            .required(),
        Field::new("name", 3, Type::String)
            .doc("Name of the owner.")
            .required(),
        Field::new("uid", 4, Type::String)
            .doc("UID of the owner.")
            .required(),
        Field::new("controller", 6, Type::Bool)
            .doc("Whether the owner is the managing controller."),
        Field::new("blockOwnerDeletion", 7, Type::Bool)
            .doc("Whether foreground deletion of the owner waits for this object to go away."),
    ],
};

/// `metav1.ManagedFieldsEntry`: one manager's share of an object's fields.
pub static MANAGED_FIELDS_ENTRY: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
    description: "The fields one workflow manages on an object, with the operation that set them.",
    gvk: None,
    fields: &[
        Field::new("manager", 1, Type::String).doc("Identifier of the managing workflow."),
        Field::new("operation", 2, Type::String).doc("`Apply` or `Update`."),
        Field::new("apiVersion", 3, Type::String).doc("API version the field set is expressed in."),
        Field::new("time", 4, Type::Time).doc("When the entry last changed."),
        Field::new("fieldsType", 6, Type::String)
            .doc("Format of the field set; only `FieldsV1` exists."),
        // `FieldsV1 { Raw = 1 }` in protobuf: a message wrapping the JSON of the field set.
        Field::new("fieldsV1", 7, Type::RawJson).doc("The field set, in the FieldsV1 format."),
        Field::new("subresource", 8, Type::String)
            .doc("Subresource through which the fields were written; empty for the main resource."),
    ],
};

/// `metav1.ListMeta`: metadata of list responses.
pub static LIST_META: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
    description: "Metadata of synthetic resources such as lists.",
    gvk: None,
    fields: &[
        Field::new("selfLink", 1, Type::String).doc("Deprecated and no longer set by the server."),
        Field::new("resourceVersion", 2, Type::String)
            .doc("Version of the list, usable to start a watch from it."),
        Field::new("continue", 3, Type::String)
            .doc("Token to fetch the next chunk of a paginated list."),
        Field::new("remainingItemCount", 4, Type::Int64)
            .doc("How many items a paginated list still holds after this chunk (an estimate)."),
        Field::new("shardInfo", 5, Type::Message(&SHARD_INFO))
            .doc("The shard a sharded list was served for."),
    ],
};

/// `metav1.ShardInfo`: which shard a list response covers.
pub static SHARD_INFO: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.ShardInfo",
    description: "The shard selector a list response was filtered with.",
    gvk: None,
    fields: &[Field::new("selector", 1, Type::String)
        .doc("The shard selector the response was filtered by.")
        .required()],
};

/// `metav1.Status`: the outcome of calls that return no object, and every error.
pub static STATUS: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    description: "The result of an operation that returns no object, and of every failed request.",
    gvk: Some(("", "v1", "Status")),
    fields: &[
        Field::new("metadata", 1, Type::Message(&LIST_META)).doc("Standard list metadata."),
        Field::new("status", 2, Type::String).doc("`Success` or `Failure`."),
        Field::new("message", 3, Type::String).doc("Human-readable description of the outcome."),
        Field::new("reason", 4, Type::String)
            .doc("Machine-readable reason for a failure; empty when none is known."),
        Field::new("details", 5, Type::Message(&STATUS_DETAILS))
            .doc("Further data on the failure, depending on the reason."),
        Field::new("code", 6, Type::Int32).doc("Suggested HTTP status code; 0 when not set."),
    ],
};

/// `metav1.StatusDetails`.
pub static STATUS_DETAILS: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails",
    description: "Which object a Status is about, and the causes of a failure.",
    gvk: None,
    fields: &[
        Field::new("name", 1, Type::String).doc("Name of the object concerned, if any."),
        Field::new("group", 2, Type::String).doc("Group of the resource concerned."),
        Field::new("kind", 3, Type::String).doc("Kind (or resource) of the object concerned."),
        Field::new("uid", 6, Type::String).doc("UID of the object concerned, if any."),
        Field::new("causes", 4, Type::List(&Type::Message(&STATUS_CAUSE)))
            .doc("The individual problems behind the failure.")
            .merge(ATOMIC),
        Field::new("retryAfterSeconds", 5, Type::Int32)
            .doc("Seconds the client should wait before retrying."),
    ],
};

/// `metav1.StatusCause`.
pub static STATUS_CAUSE: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause",
    description: "One problem behind a failure, possibly tied to a field.",
    gvk: None,
    fields: &[
        Field::new("reason", 1, Type::String).doc("Machine-readable kind of problem."),
        Field::new("message", 2, Type::String).doc("Human-readable description of the problem."),
        Field::new("field", 3, Type::String)
            .doc("Path of the field at fault (`spec.containers[0].name`), if any."),
    ],
};

/// `metav1.DeleteOptions`: the optional body of DELETE requests.
pub static DELETE_OPTIONS: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    description: "Options of a delete request.",
    gvk: Some(("", "v1", "DeleteOptions")),
    fields: &[
        Field::new("gracePeriodSeconds", 1, Type::Int64)
            .doc("Seconds before the object is deleted; 0 deletes at once."),
        Field::new("preconditions", 2, Type::Message(&PRECONDITIONS))
            .doc("Conditions the object must meet for the deletion to proceed."),
        Field::new("orphanDependents", 3, Type::Bool)
            .doc("Deprecated: use propagationPolicy. Whether dependents are orphaned."),
        Field::new("propagationPolicy", 4, Type::String).doc(
            "How garbage collection treats dependents: `Orphan`, `Background` or `Foreground`.",
        ),
        Field::new("dryRun", 5, Type::List(&Type::String))
            .doc("`All` processes every stage without persisting anything.")
            .merge(ATOMIC),
        Field::new(
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            6,
            Type::Bool,
        )
        .doc("Deletes a corrupt object that cannot be read from storage; use with care."),
    ],
};

/// `metav1.Preconditions`.
pub static PRECONDITIONS: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions",
    description: "What the object must match for an operation to proceed.",
    gvk: None,
    fields: &[
        Field::new("uid", 1, Type::String).doc("The UID the object must have."),
        Field::new("resourceVersion", 2, Type::String)
            .doc("The resourceVersion the object must have."),
    ],
};

/// `metav1.Condition`: the standard shape of status conditions.
pub static CONDITION: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.Condition",
    description: "One aspect of an object's current state.",
    gvk: None,
    fields: &[
        Field::new("type", 1, Type::String)
            .doc("Type of the condition, in CamelCase.")
            .required(),
        Field::new("status", 2, Type::String)
            .doc("`True`, `False` or `Unknown`.")
            .required(),
        Field::new("observedGeneration", 3, Type::Int64)
            .doc("The metadata.generation the condition was computed from."),
        Field::new("lastTransitionTime", 4, Type::Time)
            .doc("When the status last changed.")
            .required(),
        Field::new("reason", 5, Type::String)
            .doc("CamelCase reason for the last transition.")
            .required(),
        Field::new("message", 6, Type::String)
            .doc("Human-readable details of the last transition.")
            .required(),
    ],
};

/// `metav1.WatchEvent`: one event of a watch stream.
///
/// In protobuf streams `object` is a `runtime.RawExtension` whose bytes are the event's object
/// in the stream's own encoding (a protobuf envelope); in JSON it is the object itself.
pub static WATCH_EVENT: Message = Message {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    description: "One event of a watch stream.",
    gvk: Some(("", "v1", "WatchEvent")),
    fields: &[
        Field::new("type", 1, Type::String)
            .doc("`ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`.")
            .required(),
        Field::new("object", 2, Type::RawJson)
            .doc("The object the event is about; a Status for ERROR events.")
            .required(),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(m: &Message) -> Vec<(&'static str, u32)> {
        m.fields.iter().map(|f| (f.json, f.proto)).collect()
    }

    #[test]
    fn object_meta_numbers() {
        assert_eq!(
            numbers(&OBJECT_META),
            vec![
                ("name", 1),
                ("generateName", 2),
                ("namespace", 3),
                ("selfLink", 4),
                ("uid", 5),
                ("resourceVersion", 6),
                ("generation", 7),
                ("creationTimestamp", 8),
                ("deletionTimestamp", 9),
                ("deletionGracePeriodSeconds", 10),
                ("labels", 11),
                ("annotations", 12),
                ("ownerReferences", 13),
                ("finalizers", 14),
                ("managedFields", 17),
            ]
        );
    }

    #[test]
    fn numbers_are_unique() {
        for m in [
            &OBJECT_META,
            &OWNER_REFERENCE,
            &MANAGED_FIELDS_ENTRY,
            &LIST_META,
            &SHARD_INFO,
            &STATUS,
            &STATUS_DETAILS,
            &STATUS_CAUSE,
            &DELETE_OPTIONS,
            &PRECONDITIONS,
            &CONDITION,
            &WATCH_EVENT,
        ] {
            let mut seen: Vec<u32> = m.fields.iter().map(|f| f.proto).collect();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), m.fields.len(), "{}", m.name);
            assert!(m.fields.iter().all(|f| f.proto > 0), "{}", m.name);
        }
    }
}

//! Declarations ([`crate::schema::Message`]) of the types every API group shares: the
//! `meta.k8s.io/v1` types (object and list metadata, `Status`, `DeleteOptions`, `WatchEvent`,
//! `Condition`). Kinds of the built-in groups are declared in the `controlplane` crate.
//!
//! Fields are declared in the order upstream's Go structs list them (the order JSON output
//! follows); each carries its protobuf field number from upstream's `generated.proto`.
//! `apiVersion`/`kind` are not declared: they travel in the protobuf envelope, not in the
//! message.

pub mod meta;

pub use meta::{
    CONDITION, DELETE_OPTIONS, LIST_META, MANAGED_FIELDS_ENTRY, OBJECT_META, OWNER_REFERENCE,
    PRECONDITIONS, SHARD_INFO, STATUS, STATUS_CAUSE, STATUS_DETAILS, WATCH_EVENT,
};

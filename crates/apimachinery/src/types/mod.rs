//! The types every API group shares: `meta.k8s.io/v1` (object and list metadata, `Status`,
//! `DeleteOptions`, `WatchEvent`, `Condition`, …), `runtime`, `resource` and `version`.
//!
//! The declarations (`generated/`) are written by `cargo run -p xtask -- gen-types
//! <reference dir>` from upstream's published facts, in upstream's Go field order with its
//! protobuf numbers. `apiVersion`/`kind` of kinds are not declared: they travel in the
//! protobuf envelope, not in the message. [`model`] is their run-time form; the well-known
//! messages have their own accessors.

use std::sync::LazyLock;

use crate::schema::{decl, MessageRef, Model};

#[rustfmt::skip]
mod generated;
pub use generated::*;

pub use meta_v1::{
    CONDITION, DELETE_OPTIONS, LIST_META, MANAGED_FIELDS_ENTRY, OBJECT_META, OWNER_REFERENCE,
    PRECONDITIONS, STATUS, STATUS_CAUSE, STATUS_DETAILS, WATCH_EVENT,
};

static MODEL: LazyLock<Model> = LazyLock::new(|| {
    let mut model = Model::default();
    model.add_decls(ALL);
    model
});

/// The run-time model of these types.
pub fn model() -> &'static Model {
    &MODEL
}

/// The run-time handle of one of these declarations (an empty message for another).
pub fn handle(d: &'static decl::Message) -> &'static MessageRef {
    static EMPTY: LazyLock<MessageRef> =
        LazyLock::new(|| MessageRef::new(crate::schema::Message::default()));
    MODEL.message(d.name).unwrap_or(&EMPTY)
}

/// `metav1.ObjectMeta`.
pub fn object_meta() -> &'static MessageRef {
    handle(&OBJECT_META)
}

/// `metav1.ListMeta`.
pub fn list_meta() -> &'static MessageRef {
    handle(&LIST_META)
}

/// `metav1.Status`.
pub fn status() -> &'static MessageRef {
    handle(&STATUS)
}

/// `metav1.DeleteOptions`.
pub fn delete_options() -> &'static MessageRef {
    handle(&DELETE_OPTIONS)
}

/// `metav1.WatchEvent`.
pub fn watch_event() -> &'static MessageRef {
    handle(&WATCH_EVENT)
}

/// `metav1.OwnerReference`.
pub fn owner_reference() -> &'static MessageRef {
    handle(&OWNER_REFERENCE)
}

//! The type model of every built-in Kubernetes type: `k8s.io/api`'s groups, the
//! apiextensions and aggregator types, and (from [`apimachinery::types`]) the
//! `meta.k8s.io` types they use.
//!
//! The declarations in `generated/` are written by `cargo run -p xtask -- gen-types
//! <reference dir>` from upstream's published OpenAPI and protobuf definitions. [`kind`] and
//! [`message`] turn the one asked for, and what it refers to, into the run-time form once;
//! [`model`] holds all of them.

use std::sync::{LazyLock, Mutex, PoisonError};

use apimachinery::schema::{decl, MessageRef, Model};

#[rustfmt::skip]
mod generated;
pub use generated::*;

/// The types handed out so far: a served kind brings in only what it refers to, so a
/// server holds the few dozen types it serves rather than all 1,204.
static BUILT: LazyLock<Mutex<Model>> =
    LazyLock::new(|| Mutex::new(apimachinery::types::model().clone()));

/// Every built-in type in one model (the fixture checks and tools; servers use [`kind`]).
static MODEL: LazyLock<Model> = LazyLock::new(|| {
    let mut model = apimachinery::types::model().clone();
    model.add_decls(ALL);
    model
});

/// Every built-in type, found by definition name or group-version-kind.
pub fn model() -> &'static Model {
    &MODEL
}

fn handle(d: &'static decl::Message) -> MessageRef {
    BUILT
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .add_decls(&[d])
}

/// The type of a built-in kind (the first type declared for it).
pub fn kind(group: &str, version: &str, kind: &str) -> Option<MessageRef> {
    ALL.iter()
        .find(|d| d.gvks.contains(&(group, version, kind)))
        .map(|d| handle(d))
}

/// The type with this definition name (`io.k8s.api.core.v1.Pod`).
pub fn message(name: &str) -> Option<MessageRef> {
    if let Some(m) = apimachinery::types::model().message(name) {
        return Some(m.clone());
    }
    ALL.iter().find(|d| d.name == name).map(|d| handle(d))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_kind_is_found_and_references_resolve() {
        let model = super::model();
        let pod = super::kind("", "v1", "Pod").expect("Pod");
        // Handed out once: the same handle every time.
        assert!(super::kind("", "v1", "Pod").is_some_and(|p| p.same(&pod)));
        assert_eq!(pod.name, "io.k8s.api.core.v1.Pod");
        let meta = pod.field("metadata").expect("metadata");
        let apimachinery::schema::Type::Message(m) = &meta.ty else {
            panic!("metadata is a message");
        };
        // One ObjectMeta for every kind, shared with apimachinery's own model.
        let own = apimachinery::types::model()
            .message("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
            .expect("ObjectMeta");
        assert!(m.same(own));
        assert!(model.len() > 1000, "{} messages", model.len());
        // Volume flattens its source in JSON.
        let volume = super::message("io.k8s.api.core.v1.Volume").expect("Volume");
        assert!(volume.field("configMap").is_some());
        assert!(volume.field_by_number(2).is_some_and(|f| f.inline));
    }
}

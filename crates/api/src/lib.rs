//! The type model of every built-in Kubernetes type: `k8s.io/api`'s groups, the
//! apiextensions and aggregator types, and (from [`apimachinery::types`]) the
//! `meta.k8s.io` types they use.
//!
//! The declarations in `generated/` are written by `cargo run -p xtask -- gen-types
//! <reference dir>` from upstream's published OpenAPI and protobuf definitions; [`model`]
//! turns them into the run-time [`Model`] once.

use std::sync::LazyLock;

use apimachinery::schema::{MessageRef, Model};

#[rustfmt::skip]
mod generated;
pub use generated::*;

static MODEL: LazyLock<Model> = LazyLock::new(|| {
    let mut model = apimachinery::types::model().clone();
    model.add_decls(ALL);
    model
});

/// Every built-in type, found by definition name or group-version-kind.
pub fn model() -> &'static Model {
    &MODEL
}

/// The type of a built-in kind.
pub fn kind(group: &str, version: &str, kind: &str) -> Option<&'static MessageRef> {
    MODEL.kind(group, version, kind)
}

/// The type with this definition name (`io.k8s.api.core.v1.Pod`).
pub fn message(name: &str) -> Option<&'static MessageRef> {
    MODEL.message(name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_kind_is_found_and_references_resolve() {
        let model = super::model();
        let pod = super::kind("", "v1", "Pod").expect("Pod");
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

//! The built-in resources: each a declaration plus a strategy.

pub mod configmaps;
pub mod events;
pub mod namespaces;
pub mod priorityclasses;
pub mod secrets;

use apiserver::registry::ResourceDecl;

/// Every built-in resource, in discovery order, as `config` has them stored.
pub fn all(config: &crate::StorageConfig<'_>) -> Vec<ResourceDecl> {
    vec![
        configmaps::decl(),
        events::decl().with_ttl(config.event_ttl),
        namespaces::decl(),
        secrets::decl(),
        priorityclasses::decl(),
    ]
}

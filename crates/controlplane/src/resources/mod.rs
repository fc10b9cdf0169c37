//! The built-in resources: each a declaration plus a strategy.

pub mod configmaps;
pub mod events;
pub mod namespaces;
pub mod priorityclasses;
pub mod secrets;

use apiserver::registry::ResourceDecl;

/// Every built-in resource, in discovery order.
pub fn all() -> Vec<ResourceDecl> {
    vec![
        configmaps::decl(),
        events::decl(),
        namespaces::decl(),
        secrets::decl(),
        priorityclasses::decl(),
    ]
}

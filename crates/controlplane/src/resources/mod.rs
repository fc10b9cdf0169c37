//! The built-in resources: each a declaration plus a strategy.

pub mod configmaps;
pub mod endpoints;
pub mod endpointslices;
pub mod events;
mod fields;
pub mod leases;
pub mod limitranges;
pub mod namespaces;
pub mod netcheck;
pub mod nodes;
pub mod pod_rest;
pub mod poddisruptionbudgets;
pub mod pods;
pub mod podspec;
pub mod priorityclasses;
pub(crate) mod resourcelists;
pub mod resourcequotas;
pub mod reviews;
pub mod secrets;
pub mod serviceaccounts;

use std::sync::Arc;

use apiserver::auth::Authorizer;
use apiserver::registry::{Listers, ResourceDecl, Subresource};

/// Every built-in resource, in discovery order, as `config` has them stored; the reviews
/// answer with `authorizer`; subresources that read other kinds read them through
/// `listers`.
pub fn all(
    config: &crate::StorageConfig<'_>,
    authorizer: Arc<dyn Authorizer>,
    listers: &Arc<Listers>,
) -> Vec<ResourceDecl> {
    let mut all = vec![
        configmaps::decl(),
        endpoints::decl(),
        events::decl().with_ttl(config.event_ttl),
        namespaces::decl(),
        nodes::decl().with_subresource(
            Subresource::new("proxy", &["create", "delete", "get", "patch", "update"])
                .served_by(Arc::new(pod_rest::NodeProxy::new(listers.clone()))),
        ),
        pod_rest::with_subresources(pods::decl(), listers),
        secrets::decl(),
        serviceaccounts::decl(),
        priorityclasses::decl(),
        leases::decl(config.coordinated_leader_election),
        endpointslices::decl(),
        poddisruptionbudgets::decl(),
        limitranges::decl(),
        resourcequotas::decl(),
    ];
    all.extend(reviews::decls(authorizer));
    all
}

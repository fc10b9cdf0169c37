//! The built-in resources: each a declaration plus a strategy.

pub mod configmaps;
pub mod endpoints;
pub mod endpointslices;
pub mod events;
pub mod events_v1;
mod fields;
pub mod hpa;
pub mod hpa_v1;
pub mod ipaddresses;
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
pub mod servicecidrs;
pub mod services;
pub mod workloads;

use std::sync::Arc;

use apiserver::auth::Authorizer;
use apiserver::registry::{Listers, ResourceDecl};

/// Every built-in resource, in discovery order, as `config` has them stored; the reviews
/// answer with `authorizer`; subresources that read other kinds read them through
/// `listers`; Services reserve through `services`. A version served over another's
/// storage names that version's declaration (`ResourceDecl::stored_as`).
pub fn all(
    config: &crate::StorageConfig<'_>,
    authorizer: Arc<dyn Authorizer>,
    listers: &Arc<Listers>,
    services: Option<Arc<services::ServiceReserver>>,
) -> Vec<ResourceDecl> {
    let kubelets = Arc::new(pod_rest::Kubelets {
        listers: listers.clone(),
        preferred_address_types: config.kubelet_preferred_address_types.to_vec(),
    });
    let core_events = events::decl().with_ttl(config.event_ttl);
    let hpa_v2 = hpa::decl();
    let mut all = vec![
        configmaps::decl(),
        endpoints::decl(),
        core_events.clone(),
        namespaces::decl(),
        nodes::decl().with_subresource(pod_rest::connect_subresource(
            "proxy",
            pod_rest::PROXY_VERBS,
            "NodeProxyOptions",
            pod_rest::NodeProxy::new(kubelets.clone()),
        )),
        pod_rest::with_subresources(pods::decl(), listers, &kubelets),
        pod_rest::legacy_bindings_decl(listers),
        secrets::decl(),
        serviceaccounts::decl(),
        services::decl(services).with_subresource(pod_rest::connect_subresource(
            "proxy",
            pod_rest::PROXY_VERBS,
            "ServiceProxyOptions",
            pod_rest::ServiceProxy::new(listers.clone()),
        )),
        priorityclasses::decl(),
        leases::decl(config.coordinated_leader_election),
        endpointslices::decl(),
        poddisruptionbudgets::decl(),
        limitranges::decl(),
        resourcequotas::decl(),
        ipaddresses::decl(),
        servicecidrs::decl(),
        // autoscaling: v2 (stored, preferred) before v1, as upstream lists them.
        hpa_v2.clone(),
        hpa_v1::decl(hpa_v2),
        events_v1::decl(core_events),
    ];
    all.extend(workloads::decls());
    all.extend(reviews::decls(authorizer));
    all
}

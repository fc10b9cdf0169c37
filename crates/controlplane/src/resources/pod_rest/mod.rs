//! The subresources of pods served by REST storage of their own: `binding` (a scheduler
//! assigns a node), `eviction` (a delete that honours PodDisruptionBudgets), and the
//! connect subresources that reach the pod's node (`log`, `exec`, `attach`,
//! `portforward`) or the pod itself (`proxy`). The legacy `bindings` resource binds
//! through `binding`.

mod binding;
mod connect;
mod eviction;
mod legacy_binding;

use std::sync::Arc;

use apiserver::registry::{Listers, ResourceDecl, Subresource};

pub use connect::{KubeletConnect, Kubelets, NodeProxy, ServiceProxy, PREFERRED_ADDRESS_TYPES};
pub use legacy_binding::decl as legacy_bindings_decl;

/// Adds the subresources to the pods declaration; the eviction reads PodDisruptionBudgets
/// through `listers`, and the connect subresources find nodes' kubelets with `kubelets`.
pub fn with_subresources(
    decl: ResourceDecl,
    listers: &Arc<Listers>,
    kubelets: &Arc<Kubelets>,
) -> ResourceDecl {
    decl.with_subresource(
        Subresource::new("binding", &["create"])
            .of_kind("", "v1", "Binding")
            .with_schema(crate::types::of("", "v1", "Binding"))
            .served_by(Arc::new(binding::BindingRest)),
    )
    .with_subresource(
        Subresource::new("eviction", &["create"])
            .of_kind("policy", "v1", "Eviction")
            .with_schema(crate::types::of("policy", "v1", "Eviction"))
            .served_by(Arc::new(eviction::EvictionRest::new(listers.clone()))),
    )
    .with_subresource(
        Subresource::new("log", &["get"]).served_by(Arc::new(KubeletConnect::new(
            connect::Target::Log,
            kubelets.clone(),
        ))),
    )
    .with_subresource(
        Subresource::new("exec", &["create", "get"]).served_by(Arc::new(KubeletConnect::new(
            connect::Target::Exec,
            kubelets.clone(),
        ))),
    )
    .with_subresource(
        Subresource::new("attach", &["create", "get"]).served_by(Arc::new(KubeletConnect::new(
            connect::Target::Attach,
            kubelets.clone(),
        ))),
    )
    .with_subresource(
        Subresource::new("portforward", &["create", "get"]).served_by(Arc::new(
            KubeletConnect::new(connect::Target::PortForward, kubelets.clone()),
        )),
    )
    .with_subresource(
        Subresource::new("proxy", &["create", "delete", "get", "patch", "update"]).served_by(
            Arc::new(KubeletConnect::new(
                connect::Target::Proxy,
                kubelets.clone(),
            )),
        ),
    )
}

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

use apiserver::registry::{Listers, ResourceDecl, Subresource, SubresourceRest};

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
        Subresource::new("log", &["get"])
            .with_options(crate::types::of("", "v1", "PodLogOptions"))
            .read_with_options()
            .served_by(Arc::new(KubeletConnect::new(
                connect::Target::Log,
                kubelets.clone(),
            ))),
    )
    .with_subresource(connect_subresource(
        "exec",
        &["create", "get"],
        "PodExecOptions",
        KubeletConnect::new(connect::Target::Exec, kubelets.clone()),
    ))
    .with_subresource(connect_subresource(
        "attach",
        &["create", "get"],
        "PodAttachOptions",
        KubeletConnect::new(connect::Target::Attach, kubelets.clone()),
    ))
    .with_subresource(connect_subresource(
        "portforward",
        &["create", "get"],
        "PodPortForwardOptions",
        KubeletConnect::new(connect::Target::PortForward, kubelets.clone()),
    ))
    .with_subresource(connect_subresource(
        "proxy",
        PROXY_VERBS,
        "PodProxyOptions",
        KubeletConnect::new(connect::Target::Proxy, kubelets.clone()),
    ))
}

/// The verbs of the proxy subresources.
pub const PROXY_VERBS: &[&str] = &["create", "delete", "get", "patch", "update"];

/// A connect subresource whose kind is its core/v1 options type (`PodExecOptions`), as
/// upstream's connecters declare it, served by `rest`.
pub fn connect_subresource(
    name: &str,
    verbs: &[&str],
    options: &str,
    rest: impl SubresourceRest,
) -> Subresource {
    Subresource::new(name, verbs)
        .of_kind("", "v1", options)
        .with_options(crate::types::of("", "v1", options))
        .served_by(Arc::new(rest))
}

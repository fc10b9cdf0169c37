//! Service accounts for pods: the ServiceAccount admission plugin (`admission`) and the
//! controller that gives every namespace its `default` ServiceAccount and `kube-root-ca.crt`
//! ConfigMap (`controller`), which upstream's kube-controller-manager runs.

pub mod admission;
pub mod controller;
mod secrets;
mod token_volume;

/// The service account a pod runs as when it names none.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";

/// The ConfigMap every namespace gets with the cluster's CA bundle.
pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";

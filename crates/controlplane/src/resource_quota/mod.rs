//! ResourceQuota: the admission plugin that counts and enforces a namespace's quotas
//! (upstream's `plugin/resourcequota`), the evaluators that say what each kind uses
//! (`quota/v1/evaluator`), and the in-server controller that keeps quotas' status (upstream
//! runs it in kube-controller-manager).

pub mod access;
pub mod admission;
pub mod controller;
pub mod evaluators;
pub mod usage;

pub use admission::ResourceQuota;
pub use controller::QuotaController;

//! The generic server: the delegation chain, the non-resource endpoints, hooks, serving.

pub mod chain;
pub mod core;
pub mod hooks;
pub mod parse_errors;
pub mod serve;
pub mod tls;

pub use chain::{not_found, DelegateTarget, GenericApiServer, ServerChain};
pub use core::{version_info, CoreRoutes};
pub use hooks::{hook, Lifecycle};
pub use serve::{ServeConfig, ServeError, ShutdownSignals};

//! The generic registry: resource declarations, strategies and the one Store serving them.

pub mod cacher;
pub mod codec;
pub mod deletion;
pub mod encoding;
pub mod list_options;
pub mod listers;
pub mod managed;
pub mod meta;
pub mod resource;
pub mod rest;
pub mod store;
pub mod watch;

pub use deletion::{DeleteOptions, GcPolicy, Preconditions, Propagation};
pub use list_options::ListParams;
pub use listers::Listers;
pub use resource::{
    Cell, ColumnDef, DefaultStrategy, ResourceDecl, Review, Scope, Strategy, Subresource,
    WriteContext,
};
pub use rest::{ConnectRequest, Created, SubresourceHandler, SubresourceRest};
pub use store::{DeleteOutcome, RequestContext, Store};
pub use watch::WatchOut;

//! The generic registry: resource declarations, strategies and the one Store serving them.

pub mod cacher;
pub mod codec;
pub mod deletion;
pub mod encoding;
pub mod list_options;
pub mod managed;
pub mod meta;
pub mod resource;
pub mod store;
pub mod watch;

pub use deletion::{DeleteOptions, GcPolicy, Preconditions, Propagation};
pub use list_options::ListParams;
pub use resource::{
    Cell, ColumnDef, DefaultStrategy, ResourceDecl, Review, Scope, Strategy, Subresource,
};
pub use store::{DeleteOutcome, RequestContext, Store};
pub use watch::WatchOut;

//! The generic registry: resource declarations, strategies and the one Store serving them.

mod cache_watchers;
pub mod cacher;
pub mod codec;
pub mod deletion;
pub mod encoding;
pub mod list_options;
pub mod listers;
pub mod managed;
pub mod meta;
pub mod reservation;
pub mod resource;
pub mod rest;
pub mod store;
pub mod versions;
pub mod watch;

pub use codec::{StorageEncoding, StorageMediaType};
pub use deletion::{DeleteOptions, GcPolicy, Preconditions, Propagation};
pub use list_options::ListParams;
pub use listers::Listers;
pub use reservation::{NoReservation, Reservation, Reserver};
pub use resource::{
    Cell, ColumnDef, DefaultStrategy, ResourceDecl, Review, Scope, StoredAs, Strategy, Subresource,
    WriteContext,
};
pub use rest::{ConnectRequest, Created, SubresourceHandler, SubresourceRest, UpdatedObject};
pub use store::{DeleteOutcome, RequestContext, Store};
pub use versions::Conversion;
pub use watch::WatchOut;

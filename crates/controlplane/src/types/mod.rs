//! Type declarations ([`apimachinery::schema::Message`]) of the built-in kinds, from which the
//! protobuf codec (and later OpenAPI) works. Fields are listed in upstream's Go struct order
//! with upstream's protobuf numbers; list kinds need no declaration (every list is
//! `{metadata = 1, items = 2}`).

pub mod core;
pub mod reviews;
pub mod scheduling;

pub use self::core::{
    CONFIG_MAP, EVENT, NAMESPACE, NAMESPACE_CONDITION, NAMESPACE_SPEC, NAMESPACE_STATUS, SECRET,
};
pub use self::scheduling::PRIORITY_CLASS;

//! Server-side apply and `metadata.managedFields`, generic over the type model
//! ([`apimachinery::schema`]).
//!
//! The semantics are those of sigs.k8s.io/structured-merge-diff and k8s.io/apimachinery's
//! `managedfields` package:
//!
//! - [`path`] and [`set`]: field paths (`f:`, `k:`, `v:`, `i:`) and sets of them, with the
//!   FieldsV1 JSON encoding ([`set::Set::to_fields_v1`]);
//! - [`shape`]: how a schema node merges (atomic, granular struct or map, list by key,
//!   set or atomic list, deduced for free-form JSON);
//! - [`typed`]: the field set an object has, the comparison of two objects, the merge of an
//!   applied configuration into a live object, and removal of items;
//! - [`entries`]: the `managedFields` entries of an object, decoded into managers and
//!   encoded back sorted as upstream sorts them;
//! - [`manager`]: what a write does to them: an `Update` entry for create, update and
//!   patch; `Apply` with ownership, pruning of dropped fields and conflicts;
//! - [`scale`]: the managers of a `scale` subresource, kept on the parent object.

pub mod entries;
pub mod gojson;
pub mod manager;
pub mod path;
pub mod scale;
pub mod set;
pub mod shape;
pub mod typed;

pub use entries::{Managers, VersionedSet};
pub use manager::{ApplyError, FieldManager, Operation, VersionConverter};
pub use path::{Path, PathElement};
pub use set::Set;

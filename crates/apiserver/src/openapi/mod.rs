//! OpenAPI documents generated from the registered resource declarations, as upstream's
//! `PrepareRun` installs them: one Swagger 2.0 document at `/openapi/v2`, and OpenAPI 3.0
//! documents per group-version (and per group and root path) listed by `/openapi/v3`.
//!
//! Nothing is written per kind: every resource's paths, operation ids, parameters and
//! responses come from its [`ResourceDecl`](crate::registry::ResourceDecl)
//! ([`paths`]), and its component schemas from its type declaration
//! ([`apimachinery::schema::Message`], see [`schema`]); kinds served without a declaration
//! get a permissive schema. Documents are regenerated when the registry changes and cached
//! per registry snapshot ([`OpenApiService`]).

mod document;
pub mod meta_types;
pub mod paths;
pub mod proto_v2;
pub mod schema;
mod service;

pub use document::{gv_key, v2_document, v3_documents};
pub use service::{content_hash, OpenApiService, Rendered};

#[cfg(test)]
mod tests;

//! REST endpoints: content negotiation, rendering, and the generic verb handlers.

pub mod negotiate;
pub mod options;
pub mod protobuf;
pub mod render;
pub mod resource;
pub mod warnings;

//! The generic API server library (upstream's `k8s.io/apiserver`): the filter chain, REST
//! endpoints, the generic registry (Store + per-kind Strategy), discovery, health, metrics,
//! admission, authentication and authorization, and serving with graceful shutdown.

pub mod admission;
pub mod admission_config;
pub mod auth;
pub mod body;
pub mod discovery;
pub mod encryptionconfig;
pub mod endpoints;
pub mod filters;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod registry;
pub mod request_info;
pub mod server;

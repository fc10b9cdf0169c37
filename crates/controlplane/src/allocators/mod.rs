//! The Service allocators (upstream's `pkg/registry/core/service/ipallocator` and
//! `portallocator`), stored as upstream v1.36 stores them:
//!
//! - cluster IPs are `networking.k8s.io/v1` `IPAddress` objects named by the address
//!   (`/registry/ipaddresses/<ip>`), created through their store: creating the object is
//!   the allocation, and storage's create-if-absent makes it safe across API servers;
//! - node ports are the bitmap of a `RangeAllocation` at `/registry/ranges/servicenodeports`,
//!   changed by compare-and-swap on its revision.
//!
//! [`repair`] reconciles both with the Services at start-up and then periodically.

pub mod cidr;
pub mod ip;
pub mod ports;
pub mod repair;

use std::net::IpAddr;

/// Why an allocation failed; the texts are upstream's (clients see them in 422 causes).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AllocError {
    #[error("range is full")]
    Full,
    #[error("provided IP is already allocated")]
    IpAllocated,
    #[error("provided IP {0} is not in the valid range")]
    IpNotInRange(IpAddr),
    #[error("the provided network does not match the current range")]
    MismatchedNetwork,
    #[error("provided port is already allocated")]
    PortAllocated,
    #[error("provided port is not in the valid range. The range of valid ports is {0}")]
    PortNotInRange(String),
    #[error("allocator not ready")]
    NotReady,
    #[error("{0}")]
    Storage(String),
}

/// The Service an allocation belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub namespace: String,
    pub name: String,
}

/// A random number below `n` (`n > 0`), from the UUID generator's randomness.
pub(crate) fn random_below(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(word) % n
}

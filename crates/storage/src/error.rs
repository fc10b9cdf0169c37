//! Errors every storage backend reports, with etcd's meanings.

use crate::Revision;

/// A storage failure; the API layer maps each to its upstream `Status`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("key not found: {key}")]
    NotFound { key: String },
    #[error("key already exists: {key}")]
    AlreadyExists { key: String },
    /// A compare-and-swap found another mod revision than expected.
    #[error("conflict on {key}: expected revision {expected}, found {actual}")]
    Conflict {
        key: String,
        expected: Revision,
        actual: Revision,
    },
    /// The requested revision has been compacted away.
    #[error("required revision {requested} has been compacted (compacted revision {compacted})")]
    Compacted {
        requested: Revision,
        compacted: Revision,
    },
    /// The requested revision is newer than the store's current one.
    #[error("required revision {requested} is a future revision (current {current})")]
    FutureRevision {
        requested: Revision,
        current: Revision,
    },
    /// A value is larger than the backend accepts.
    #[error("request is too large: {size} bytes, limit {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("storage request timed out: {0}")]
    Timeout(String),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("storage internal error: {0}")]
    Internal(String),
}

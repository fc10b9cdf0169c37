//! Mapping etcd client errors to [`StorageError`].
//!
//! etcd reports its own conditions as gRPC statuses whose messages are stable strings
//! (`etcdserver: request is too large`, `mvcc: required revision has been compacted`, …), so
//! those are recognised by message first, then by gRPC code; transport failures are
//! [`StorageError::Unavailable`]; anything else is [`StorageError::Internal`] with the message.

use std::future::Future;
use std::time::Duration;

use etcd_client::Error as ClientError;
use tonic::Code;

use crate::{Revision, StorageError};

/// What a failed request was about, to fill in the fields of the error.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ErrorContext {
    /// The revision the request asked for (a list's revision, a compaction's target).
    pub(crate) requested: Revision,
    /// The size of the value written, for [`StorageError::TooLarge`].
    pub(crate) size: usize,
    /// The configured request limit, for [`StorageError::TooLarge`].
    pub(crate) limit: usize,
    /// The newest compacted revision known, for [`StorageError::Compacted`].
    pub(crate) compacted: Revision,
}

/// Maps a client error.
pub(crate) fn from_client(err: ClientError, cx: &ErrorContext) -> StorageError {
    match err {
        ClientError::GRpcStatus(status) => from_status(status.code(), status.message(), cx),
        ClientError::TransportError(err) => StorageError::Unavailable(format!("etcd: {err}")),
        ClientError::IoError(err) => StorageError::Unavailable(format!("etcd: {err}")),
        ClientError::WatchError(msg) => StorageError::Unavailable(format!("etcd watch: {msg}")),
        other => StorageError::Internal(format!("etcd: {other}")),
    }
}

/// Maps a gRPC status (also a watch's cancel reason, with [`Code::Unknown`]).
pub(crate) fn from_status(code: Code, message: &str, cx: &ErrorContext) -> StorageError {
    if let Some(err) = from_message(message, cx) {
        return err;
    }
    match code {
        Code::DeadlineExceeded => StorageError::Timeout(format!("etcd: {message}")),
        Code::Unavailable | Code::Cancelled | Code::Aborted => {
            StorageError::Unavailable(format!("etcd: {message}"))
        }
        // Transport-level failures surface as `Unknown` with an h2/hyper message.
        Code::Unknown if is_transport_message(message) => {
            StorageError::Unavailable(format!("etcd: {message}"))
        }
        _ => StorageError::Internal(format!("etcd ({code:?}): {message}")),
    }
}

/// The conditions etcd names in its messages, whatever the code.
fn from_message(message: &str, cx: &ErrorContext) -> Option<StorageError> {
    let too_large = message.contains("request is too large")
        || message.contains("message larger than max")
        || message.contains("message length too large");
    if too_large {
        return Some(StorageError::TooLarge {
            size: cx.size,
            limit: cx.limit,
        });
    }
    if message.contains("required revision has been compacted") {
        return Some(StorageError::Compacted {
            requested: cx.requested,
            compacted: cx.compacted,
        });
    }
    if message.contains("required revision is a future revision") {
        // The caller fills in the current revision (see `EtcdStore::with_current`).
        return Some(StorageError::FutureRevision {
            requested: cx.requested,
            current: 0,
        });
    }
    if message.contains("request timed out") {
        return Some(StorageError::Timeout(format!("etcd: {message}")));
    }
    let unavailable = [
        "no leader",
        "leader changed",
        "not capable",
        "too many requests",
        "server stopped",
        "raft: stopped",
    ];
    if unavailable.iter().any(|needle| message.contains(needle)) {
        return Some(StorageError::Unavailable(format!("etcd: {message}")));
    }
    None
}

fn is_transport_message(message: &str) -> bool {
    [
        "transport error",
        "connection",
        "h2 protocol error",
        "broken pipe",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

/// Runs one unary etcd request within `timeout`, mapping its error.
pub(crate) async fn timed<T, F>(
    what: &str,
    timeout: Duration,
    cx: &ErrorContext,
    request: F,
) -> Result<T, StorageError>
where
    F: Future<Output = Result<T, ClientError>>,
{
    match tokio::time::timeout(timeout, request).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(from_client(err, cx)),
        Err(_) => Err(StorageError::Timeout(format!(
            "etcd {what} did not answer within {timeout:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx() -> ErrorContext {
        ErrorContext {
            requested: 7,
            size: 10,
            limit: 5,
            compacted: 3,
        }
    }

    #[test]
    fn etcd_messages_map_to_their_errors() {
        let cases = [
            (
                Code::InvalidArgument,
                "etcdserver: request is too large",
                StorageError::TooLarge { size: 10, limit: 5 },
            ),
            (
                Code::ResourceExhausted,
                "grpc: received message larger than max (3145738 vs. 2097152)",
                StorageError::TooLarge { size: 10, limit: 5 },
            ),
            (
                Code::OutOfRange,
                "etcdserver: mvcc: required revision has been compacted",
                StorageError::Compacted {
                    requested: 7,
                    compacted: 3,
                },
            ),
            (
                Code::OutOfRange,
                "etcdserver: mvcc: required revision is a future revision",
                StorageError::FutureRevision {
                    requested: 7,
                    current: 0,
                },
            ),
        ];
        for (code, message, expected) in cases {
            assert_eq!(from_status(code, message, &cx()), expected, "{message}");
        }
    }

    #[test]
    fn codes_map_to_kinds() {
        let kind = |code, message| from_status(code, message, &cx());
        assert!(matches!(
            kind(Code::Unavailable, "etcdserver: no leader"),
            StorageError::Unavailable(_)
        ));
        assert!(matches!(
            kind(Code::Unavailable, "etcdserver: request timed out"),
            StorageError::Timeout(_)
        ));
        assert!(matches!(
            kind(Code::DeadlineExceeded, "context deadline exceeded"),
            StorageError::Timeout(_)
        ));
        assert!(matches!(
            kind(Code::Unknown, "transport error"),
            StorageError::Unavailable(_)
        ));
        assert!(matches!(
            kind(Code::InvalidArgument, "etcdserver: key is not provided"),
            StorageError::Internal(message) if message.contains("key is not provided")
        ));
    }
}

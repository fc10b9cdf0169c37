//! The HTTP body type used throughout the server, and helpers to build and read it.

use std::convert::Infallible;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::Body as _;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full};

/// Error of request and response bodies (whatever the connection reports). A named type
/// rather than a bare trait object keeps the futures that hold bodies provably `Send`.
#[derive(Debug)]
pub struct BodyError(pub Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BodyError {}

/// Request and response body: a boxed body that may stream (watch responses do).
pub type Body = UnsyncBoxBody<Bytes, BodyError>;

/// A body holding `bytes` at once.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

/// An empty body.
pub fn empty() -> Body {
    full(Bytes::new())
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadBodyError {
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("reading request body: {0}")]
    Io(String),
}

/// How much of a body past the limit is read and dropped before the 413 goes out, and for
/// how long at most. A client still sending when the server answers and closes sees its
/// connection reset (a TLS EOF) instead of the answer; reading the rest first lets the
/// answer arrive, and the bound keeps an endless body from holding the request.
const DRAIN_BYTES: usize = 64 << 20;
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Reads a whole body, refusing more than `limit` bytes. A body over the limit is read to
/// its end (within [`DRAIN_BYTES`] and [`DRAIN_TIME`]) and dropped, so that the 413 the
/// caller answers reaches the client over HTTP/1.1 and HTTP/2 alike.
pub async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, ReadBodyError> {
    let hint = usize::try_from(body.size_hint().lower()).unwrap_or(limit);
    let mut buf = BytesMut::with_capacity(hint.min(limit));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ReadBodyError::Io(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if buf.len() + data.len() > limit {
            drain(body, data.len()).await;
            return Err(ReadBodyError::TooLarge(limit));
        }
        buf.extend_from_slice(&data);
    }
    Ok(buf.freeze())
}

/// Reads and drops the rest of `body` (`read` bytes of it already seen past the limit).
async fn drain(mut body: Body, mut read: usize) {
    let rest = async {
        while read < DRAIN_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => {
                    read += frame.data_ref().map_or(0, Bytes::len);
                }
                Some(Err(_)) | None => break,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, rest).await;
}

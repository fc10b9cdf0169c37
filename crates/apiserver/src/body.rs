//! The HTTP body type used throughout the server, and helpers to build and read it.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, LengthLimitError, Limited};

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

/// Reads a whole body, refusing more than `limit` bytes.
pub async fn read_limited(body: Body, limit: usize) -> Result<Bytes, ReadBodyError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(ReadBodyError::TooLarge(limit)),
        Err(e) => Err(ReadBodyError::Io(e.to_string())),
    }
}

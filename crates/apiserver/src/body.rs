//! The HTTP body type used throughout the server, and helpers to build and read it.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::{Body as _, Frame};
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
async fn drain<B>(mut body: B, mut read: usize)
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
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

/// A request body the connection keeps a handle on while a handler reads it, so that what
/// the handler left unread (an early 401, 403, 404 or 415) is read and dropped before the
/// answer goes out: otherwise a client still sending sees its stream reset or its
/// connection closed instead of the answer.
pub struct SharedBody<B>(Arc<Mutex<B>>);

impl<B> SharedBody<B> {
    pub fn new(body: B) -> Self {
        SharedBody(Arc::new(Mutex::new(body)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, B> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<B> Clone for SharedBody<B> {
    fn clone(&self) -> Self {
        SharedBody(self.0.clone())
    }
}

impl<B: http_body::Body<Data = Bytes> + Unpin> SharedBody<B> {
    /// Reads and drops what is left of the body (within [`DRAIN_BYTES`] and [`DRAIN_TIME`]).
    pub async fn drain_unread(&self) {
        if !self.lock().is_end_stream() {
            drain(self.clone(), 0).await;
        }
    }
}

impl<B: http_body::Body<Data = Bytes> + Unpin> http_body::Body for SharedBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        Pin::new(&mut *self.lock()).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.lock().is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.lock().size_hint()
    }
}

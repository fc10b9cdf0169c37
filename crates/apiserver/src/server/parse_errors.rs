//! Status bodies for the answers hyper writes itself, before any handler runs, when an
//! HTTP/1.1 request cannot be parsed within its limits: `414 URI Too Long` (the `http`
//! crate holds URIs of at most 65,534 bytes) and `431 Request Header Fields Too Large`
//! (past the 1 MiB header limit). hyper sends them with an empty body and closes the
//! connection; [`StatusBodies`] wraps the connection's stream and replaces exactly that
//! answer with the same status carrying a `Status` object, as every other error has.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The automatic answers replaced: (status line, Status message).
const ANSWERS: [(&[u8], u16, &str); 2] = [
    (
        b"HTTP/1.1 414 URI Too Long\r\n",
        414,
        "the request URI is longer than the server's limit of 65534 bytes",
    ),
    (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        431,
        "the request's header fields are larger than the server's limit of 1048576 bytes",
    ),
];

/// The longest automatic answer (status line, `connection`, `content-length`, `date`).
const MAX_ANSWER_LEN: usize = 256;

/// A connection stream whose writes of hyper's bodiless parse-error answers get a body.
pub struct StatusBodies<T> {
    inner: T,
    /// The replacement still to write, and how much of it is written.
    pending: Vec<u8>,
    written: usize,
}

impl<T> StatusBodies<T> {
    pub fn new(inner: T) -> Self {
        StatusBodies {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

/// The answer to write instead of `buf`, when `buf` is one of hyper's automatic answers
/// whole: the status line, then headers only, `content-length: 0` among them.
fn replacement(buf: &[u8]) -> Option<Vec<u8>> {
    if buf.len() > MAX_ANSWER_LEN || !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let (line, code, message) = ANSWERS.iter().find(|(line, _, _)| buf.starts_with(line))?;
    let head = std::str::from_utf8(&buf[line.len()..buf.len() - 2]).ok()?;
    let headers: Vec<&str> = head.split_terminator("\r\n").collect();
    if !headers.contains(&"content-length: 0") {
        return None;
    }
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "code": code,
    })
    .to_string();
    let mut out = line.to_vec();
    for h in headers.iter().filter(|h| !h.starts_with("content-length:")) {
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(
        format!(
            "content-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body.as_bytes());
    Some(out)
}

impl<T: AsyncWrite + Unpin> StatusBodies<T> {
    /// Writes what is left of a replacement.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for StatusBodies<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StatusBodies<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        if let Some(answer) = replacement(buf) {
            this.pending = answer;
            // What is not written now is written by the next write, flush or shutdown.
            if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "date: Thu, 03 Dec 2026 07:02:38 GMT";

    #[test]
    fn replaces_hypers_bodiless_answers() {
        let auto = format!(
            "HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\n{DATE}\r\n\r\n"
        );
        let out = String::from_utf8(replacement(auto.as_bytes()).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\nconnection: close\r\n"));
        assert!(head.contains(DATE) && head.contains("content-type: application/json"));
        assert!(head.ends_with(&format!("content-length: {}", body.len())));
        let status: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            (status["kind"].as_str(), status["code"].as_u64()),
            (Some("Status"), Some(414))
        );

        let auto = format!("HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n{DATE}\r\n\r\n");
        assert!(replacement(auto.as_bytes()).is_some());
    }

    #[test]
    fn leaves_everything_else() {
        for other in [
            format!("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n{DATE}\r\n\r\n"),
            format!("HTTP/1.1 414 URI Too Long\r\ncontent-length: 2\r\n{DATE}\r\n\r\n"),
            format!("HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n{DATE}\r\n\r\n{{}}"),
            "HTTP/1.1 414 URI Too Long\r\n".to_string(),
        ] {
            assert!(replacement(other.as_bytes()).is_none(), "{other}");
        }
    }
}

//! Sending a message body with HTTP/1.1 framing: by length or chunked, with
//! whatever of it has already arrived in the head's own write (data plane).

use super::head::{push_decimal, push_hex};
use crate::wire::client::Error;
use axum::body::Body;
use bytes::Bytes;
use http_body::Body as _;
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// The header that frames a body of `length` bytes, `chunked` when unknown.
pub fn push_framing(out: &mut Vec<u8>, length: Option<u64>) {
    match length {
        Some(n) => {
            out.extend_from_slice(b"content-length: ");
            push_decimal(out, n);
            out.extend_from_slice(b"\r\n");
        }
        None => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
}

/// Appends one piece of body to `out`, as a chunk when the body is chunked.
pub fn push_piece(out: &mut Vec<u8>, data: &[u8], chunked: bool) {
    if chunked {
        push_hex(out, data.len() as u64);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    } else {
        out.extend_from_slice(data);
    }
}

/// The start of a streamed body that had already arrived when the request was
/// sent: it leaves in the head's write, and the rest streams after it.
#[derive(Default)]
pub struct Early {
    pub data: Option<Bytes>,
    /// Nothing more follows.
    pub ended: bool,
}

impl Early {
    /// What of a declared `length` the rest of the body must still bring
    /// (`None` for a chunked body); an error if what arrived contradicts it.
    pub fn left(&self, length: Option<u64>) -> Result<Option<u64>, Error> {
        let Some(n) = length else {
            return Ok(None);
        };
        let here = self.data.as_ref().map_or(0, |d| d.len() as u64);
        let left = n
            .checked_sub(here)
            .ok_or(Error::Protocol("body longer than declared"))?;
        if self.ended && left > 0 {
            return Err(Error::Protocol("body shorter than declared"));
        }
        Ok(Some(left))
    }

    /// Appends the piece after a head, framed, with the end of a chunked body
    /// if nothing more follows.
    pub fn push_to(&self, out: &mut Vec<u8>, chunked: bool) {
        if let Some(data) = &self.data {
            push_piece(out, data, chunked);
        }
        if self.ended && chunked {
            out.extend_from_slice(b"0\r\n\r\n");
        }
    }
}

/// Takes the body's first piece if it is already here, without waiting for it.
pub async fn early(body: &mut Body) -> Result<Early, Error> {
    std::future::poll_fn(|cx| {
        Poll::Ready(match Pin::new(&mut *body).poll_frame(cx) {
            Poll::Pending => Ok(Early::default()),
            Poll::Ready(None) => Ok(Early {
                data: None,
                ended: true,
            }),
            Poll::Ready(Some(Err(e))) => Err(Error::Client(io::Error::other(e))),
            Poll::Ready(Some(Ok(frame))) => Ok(Early {
                data: frame.into_data().ok().filter(|d| !d.is_empty()),
                ended: body.is_end_stream(),
            }),
        })
    })
    .await
}

/// How long `pump` waits between two pieces of progress: for the next piece of
/// the body from its source, and for the sink to take a write. Like nginx's
/// `client_body_timeout` and `send_timeout`, each counts between two successive
/// operations, not for the whole body: a large body at a steady pace is fine, a
/// stalled one is let go.
#[derive(Debug, Clone, Copy)]
pub struct Waits {
    pub source: Duration,
    pub sink: Duration,
}

/// Why a streamed body stopped short. Which side failed decides whose fault it
/// is: on the upstream leg a slow or vanished caller must never count against
/// the upstream (its circuit breaker), and a stalled upstream never against the caller.
#[derive(Debug)]
pub enum Broke {
    /// The body's source broke off or sent nothing for `Waits::source`.
    Source(io::Error),
    /// The sink failed or took nothing for `Waits::sink`.
    Sink(io::Error),
    /// The body contradicts the length its head declared.
    Framing(&'static str),
}

impl From<Broke> for Error {
    /// On the upstream leg the source is the caller and the sink the upstream.
    fn from(broke: Broke) -> Self {
        match broke {
            Broke::Source(e) => Error::Client(e),
            Broke::Sink(e) if e.kind() == io::ErrorKind::TimedOut => Error::Timeout,
            Broke::Sink(e) => Error::Io(e),
            Broke::Framing(what) => Error::Protocol(what),
        }
    }
}

fn timed_out(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, what)
}

/// Sends the rest of a streamed body, framed as the head announced: `left` is
/// what remains of a declared length, `None` for a chunked body.
pub async fn pump(
    io: &mut (impl AsyncWrite + Unpin),
    mut body: Body,
    mut left: Option<u64>,
    waits: Waits,
) -> Result<(), Broke> {
    let chunked = left.is_none();
    let mut piece = Vec::new();
    loop {
        let next = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx));
        let frame = match tokio::time::timeout(waits.source, next).await {
            Err(_) => return Err(Broke::Source(timed_out("the body stalled"))),
            Ok(None) => break,
            Ok(Some(frame)) => frame.map_err(|e| Broke::Source(io::Error::other(e)))?,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers: not forwarded
        };
        if data.is_empty() {
            continue;
        }
        let write = if let Some(n) = left.as_mut() {
            *n = n
                .checked_sub(data.len() as u64)
                .ok_or(Broke::Framing("body longer than declared"))?;
            &data[..]
        } else {
            piece.clear();
            push_piece(&mut piece, &data, true);
            &piece[..]
        };
        sink(io, write, waits.sink).await?;
    }
    if chunked {
        sink(io, b"0\r\n\r\n", waits.sink).await?;
    } else if left.is_some_and(|n| n > 0) {
        return Err(Broke::Framing("body shorter than declared"));
    }
    Ok(())
}

async fn sink(
    io: &mut (impl AsyncWrite + Unpin),
    bytes: &[u8],
    wait: Duration,
) -> Result<(), Broke> {
    match tokio::time::timeout(wait, io.write_all(bytes)).await {
        Err(_) => Err(Broke::Sink(timed_out("the receiver stopped reading"))),
        Ok(result) => result.map_err(Broke::Sink),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A receiver that stops reading holds the sender for one sink wait, not
    /// for ever: the body is given up with `Broke::Sink`.
    #[tokio::test]
    async fn a_reader_that_stops_reading_is_let_go() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mut io, accepted) = tokio::join!(
            async { tokio::net::TcpStream::connect(addr).await.unwrap() },
            listener.accept()
        );
        // Accepted and never read: the kernel's buffers fill, then writes wait.
        let _silent = accepted.unwrap().0;
        let body = Body::from(vec![b'x'; 64 * 1024 * 1024]);
        let waits = Waits {
            source: Duration::from_secs(5),
            sink: Duration::from_millis(200),
        };
        let started = std::time::Instant::now();
        let outcome = pump(&mut io, body, Some(64 * 1024 * 1024), waits).await;
        assert!(
            matches!(&outcome, Err(Broke::Sink(e)) if e.kind() == io::ErrorKind::TimedOut),
            "{outcome:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

//! The upstream leg's HTTP/1.1 client, run inside the request's own task (data plane).
//!
//! A general-purpose client drives each pooled connection from a task of its own
//! and passes the request, the answer's head and every body chunk to it over
//! channels: several wake-ups and hand-overs per proxied request, which the
//! gateway's profile showed costing more than its whole policy pipeline. Here the
//! request's task does the exchange itself: it writes the head (and a body known
//! in full) in one write, reads and parses the answer's head, and returns a body
//! that reads the rest from the socket and gives the connection back to this
//! thread's pool the moment the message ends. A small answer usually arrives
//! with its head in one read and goes back as a plain buffer.
//!
//! Framing follows RFC 9112 §6: `Content-Length`, `chunked` or read-until-close
//! for answers; `Content-Length` when the request body's size is known, else
//! `chunked`. Connections are reused only where the protocol allows it and the
//! exchange ended cleanly.
//!
//! Here are the exchange and its retries on a stale connection; `pool` keeps the
//! idle connections (one pool per worker thread), `request` writes the head,
//! `answer` parses the answer's head and decides its framing, and `body`
//! decodes what follows. The framing pieces both legs share are in `h1`.

mod answer;
mod body;
mod pool;
mod request;
mod stream;

pub use answer::{Answer, Passed};

/// Fuzzing entries for the answer's head and body decoding.
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    use super::answer::{Framing, framing, parse_head};
    use super::body::decode_chunked as decode;
    use bytes::BytesMut;
    use http::Method;

    /// An upstream's answer head on arbitrary bytes: parsed, then framed for a
    /// GET and a HEAD. A head is refused or understood, never a panic, and
    /// parsing consumes exactly the head.
    pub fn answer_head(data: &[u8]) {
        let mut buf = BytesMut::from(data);
        if let Ok(Some(head)) =
            parse_head(&mut buf, &|name| name.eq_ignore_ascii_case(b"x-request-id"))
        {
            assert!(buf.len() < data.len(), "a parsed head consumed nothing");
            assert!(head.lines.is_empty() || head.lines.ends_with(b"\r\n"));
            let _ = framing(&Method::GET, &head);
            if let Ok((framing, _)) = framing(&Method::HEAD, &head) {
                assert_eq!(framing, Framing::Length(0), "a HEAD answer has no body");
            }
        }
    }

    /// The chunked decoder on arbitrary bytes: the first byte picks the size of
    /// the reads. Whatever the reads' boundaries, it must decode the same body
    /// and reach the same verdict as when everything arrives at once, and the
    /// body can never hold more bytes than came.
    pub fn chunked(data: &[u8]) {
        let Some((&step, wire)) = data.split_first() else {
            return;
        };
        let whole = decode(wire, wire.len().max(1));
        let pieces = decode(wire, usize::from(step % 16) + 1);
        assert_eq!(whole, pieces, "the decoding depends on the read boundaries");
        assert!(whole.0.len() <= wire.len());
    }
}

use crate::wire::fields::Fields;
use crate::wire::h1::{Early, Known, Waits, early, pump, push_decimal};
use crate::wire::stamp::Stamp;
use answer::{Framing, Head, framing, parse_head};
use axum::body::Body;
use body::Incoming;
use bytes::{Bytes, BytesMut};
use http::{Method, Response, StatusCode};
use http_body::Body as _;
use pool::{Conn, checkout, connect, release};
use request::encode_head;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use stream::Stream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Sleep;

/// How much room each read of a connection asks for.
const READ_CHUNK: usize = 16 * 1024;
/// A request body known in full and at most this large goes in the head's write.
const COALESCE: usize = 64 * 1024;

#[derive(Debug)]
pub enum Error {
    /// No connection could be made: nothing reached the upstream.
    Connect(io::Error),
    Io(io::Error),
    Protocol(&'static str),
    /// No answer's head before the deadline.
    Timeout,
    /// Every address the upstream's host resolved to is refused by the
    /// upstream policy; the reason for the first.
    Refused(String),
    /// The caller's body broke off or stalled: the caller's failure, which must
    /// not count against the upstream.
    Client(io::Error),
}

impl Error {
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Connect(_))
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout)
    }

    pub fn is_client(&self) -> bool {
        matches!(self, Error::Client(_))
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Connect(e) => write!(f, "connect: {e}"),
            Error::Io(e) => write!(f, "{e}"),
            Error::Protocol(what) => f.write_str(what),
            Error::Timeout => f.write_str("timed out"),
            Error::Refused(why) => f.write_str(why),
            Error::Client(e) => write!(f, "the caller's body: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// A request's body as the client sends it.
pub enum Outgoing {
    /// Known in full (buffered for validation, or empty).
    Full(Bytes),
    Stream(Body),
}

/// A request as it leaves for the upstream. The caller's headers are passed
/// as they came with a filter, and the gateway's own beside them, so that
/// forwarding costs no header map edits: the head is written straight from both.
pub struct Request<'a> {
    pub method: &'a Method,
    /// The request-target (origin form) in pieces, written one after another.
    pub target: &'a [&'a str],
    /// The upstream's `host[:port]`: where to connect, the pool's key, and the
    /// `Host` unless a header says otherwise.
    pub authority: &'a str,
    pub headers: Fields<'a>,
    /// Which of `headers` travel on, by name (as told at parse, and as it
    /// came, in any case).
    pub keep: &'a (dyn Fn(Known, &[u8]) -> bool + Sync),
    /// The `Host` the gateway sets, in place of any the caller's filter
    /// keeps; without either the authority goes as `Host`.
    pub host: Option<&'a [u8]>,
    /// The gateway's own headers, as lines ready for the wire (`name:
    /// value\r\n`), written after the caller's: written straight from the
    /// values they borrow, they are never made into header values (each a
    /// reference count on shared bytes, taken and dropped per request).
    pub lines: &'a [u8],
    /// When the request arrived: the connection pool's clock, so that taking
    /// a connection and giving it back read none of their own.
    pub started: std::time::Instant,
    /// The headers the gateway sets on the answer: the upstream's copies are
    /// dropped, and these written in their place.
    pub stamp: &'a Stamp<'a>,
    /// How long the upstream has to answer, counted from when the request has
    /// been sent in full: the time a streamed body takes to come from the
    /// caller is the caller's, not the upstream's.
    pub timeout: std::time::Duration,
    /// How long a streamed body may pause between two pieces of it.
    pub body_wait: std::time::Duration,
    /// Set for an `https` upstream: the TLS configuration to connect with.
    pub tls: Option<&'a Arc<rustls::ClientConfig>>,
    /// Says whether a new connection may go to an address the upstream's host
    /// resolved to (the host as the URL names it, the address), and why not.
    pub guard: &'a Guard<'a>,
    /// Which policy `guard` enforces: pooled connections made under another
    /// are not reused.
    pub guard_id: u64,
}

/// See [`Request::guard`].
pub type Guard<'a> = dyn Fn(&str, std::net::SocketAddr) -> Result<(), String> + Sync + 'a;

/// Methods whose requests can be repeated without changing anything more
/// (RFC 9110 §9.2.2): the only ones sent twice, here or by `forward`'s retries.
pub fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// Sends `req` to its upstream and returns the answer once its head has
/// arrived; the body follows as it is read. Without a head within
/// `req.timeout` of the request leaving in full, the exchange is abandoned
/// with [`Error::Timeout`] (and its connection closed).
pub async fn send(req: &Request<'_>, mut body: Outgoing) -> Result<Answer, Error> {
    let deadline = tokio::time::Instant::now() + req.timeout;
    let key = req.authority;
    if key.is_empty() {
        return Err(Error::Protocol("upstream URL has no host"));
    }
    let (length, early) = match &mut body {
        Outgoing::Full(bytes) => (Some(bytes.len() as u64), Early::default()),
        Outgoing::Stream(stream) => (stream.size_hint().exact(), early(stream).await?),
    };
    let sending = Sending {
        req,
        length,
        left: early.left(length)?,
        early,
    };
    let mut pooled = checkout(key, req.tls.is_some(), req.guard_id, req.started);
    loop {
        let reused = pooled.is_some();
        let mut conn = match pooled.take() {
            Some(mut conn) => {
                conn.deadline.as_mut().reset(deadline);
                conn
            }
            None => {
                match tokio::time::timeout_at(
                    deadline,
                    connect(key, req.tls, req.guard, req.guard_id, req.started, deadline),
                )
                .await
                {
                    Ok(conn) => conn?,
                    Err(_) => return Err(Error::Timeout),
                }
            }
        };
        let Conn {
            io,
            read,
            write,
            deadline: timer,
            ..
        } = &mut conn;
        let outcome = sending
            .exchange(io, read, write, timer, &mut body, reused)
            .await;
        match outcome {
            Ok(head) => return respond(conn, req.method, head, req.stamp),
            // The connection was stale: the request goes again on a new one.
            Err(None) => continue,
            Err(Some(e)) => return Err(e),
        }
    }
}

/// What one request sends, whichever connection it goes on.
struct Sending<'r, 'a> {
    req: &'r Request<'a>,
    /// The body's length, when known: `chunked` otherwise.
    length: Option<u64>,
    /// What a streamed body had ready at once.
    early: Early,
    /// What remains of a streamed body of known length after `early`.
    left: Option<u64>,
}

impl Sending<'_, '_> {
    /// One exchange on one connection, up to the answer's head. `Err(None)`
    /// means the connection turned out stale before the upstream can have
    /// acted on the request, which may then go again on a new one.
    async fn exchange(
        &self,
        io: &mut Stream,
        read: &mut BytesMut,
        write: &mut Vec<u8>,
        timer: &mut Pin<Box<Sleep>>,
        body: &mut Outgoing,
        reused: bool,
    ) -> Result<Head, Option<Error>> {
        let req = self.req;
        encode_head(write, req, self.length);
        match &*body {
            Outgoing::Full(bytes) if bytes.len() <= COALESCE => {
                write.extend_from_slice(bytes);
            }
            Outgoing::Full(_) => {}
            Outgoing::Stream(_) => self.early.push_to(write, self.length.is_none()),
        }
        // Only the bytes cross the await: a reference to the body itself
        // would make the future need a `Sync` body, which a stream is not.
        let large = match &*body {
            Outgoing::Full(bytes) if bytes.len() > COALESCE => Some(bytes.clone()),
            _ => None,
        };
        let head_and_known_body = async {
            // A connection the upstream closed while idle fails on first use; if it
            // did before the upstream can have seen anything, the request goes again
            // on a new one, as any client would (the stale one is dropped).
            match io.write(write).await {
                Ok(n) if n == write.len() => {}
                Ok(0) | Err(_) if reused => return Err(None),
                Ok(n) => io.write_all(&write[n..]).await.map_err(Error::Io)?,
                Err(e) => return Err(Some(Error::Io(e))),
            }
            if let Some(bytes) = &large {
                io.write_all(bytes).await.map_err(Error::Io)?;
            }
            Ok::<(), Option<Error>>(())
        };
        tokio::select! {
            biased;
            sent = head_and_known_body => sent?,
            () = timer.as_mut() => return Err(Some(Error::Timeout)),
        }
        let replayable = match body {
            Outgoing::Full(_) => true,
            Outgoing::Stream(_) if self.early.ended => false,
            Outgoing::Stream(stream) => {
                // Paced by the caller: outside the upstream's deadline, which
                // starts again once the body has gone.
                let waits = Waits {
                    source: req.body_wait,
                    sink: req.timeout,
                };
                pump(io, std::mem::take(stream), self.left, waits)
                    .await
                    .map_err(|broke| Some(broke.into()))?;
                timer
                    .as_mut()
                    .reset(tokio::time::Instant::now() + req.timeout);
                false
            }
        };
        let head = tokio::select! {
            biased;
            head = read_head(io, read, req.stamp) => head,
            () = timer.as_mut() => return Err(Some(Error::Timeout)),
        };
        match head {
            Ok(head) => Ok(head),
            // Closed without a byte of answer on a reused connection: the upstream
            // let it go just as this request went out, and cannot have answered.
            // Only an idempotent request is sent again, since it may have been read.
            Err(HeadError::Closed) if reused && replayable && idempotent(req.method) => Err(None),
            Err(HeadError::Closed) => Err(Some(Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "upstream closed the connection before answering",
            )))),
            Err(HeadError::Failed(e)) => Err(Some(e)),
        }
    }
}

enum HeadError {
    /// Closed or reset before the first byte of an answer.
    Closed,
    Failed(Error),
}

/// Reads the final answer's head, skipping informational (1xx) ones.
async fn read_head(
    io: &mut Stream,
    read: &mut BytesMut,
    stamp: &Stamp<'_>,
) -> Result<Head, HeadError> {
    let mut received = false;
    loop {
        if !read.is_empty() {
            received = true;
            match parse_head(read, &|name| stamp.owns(name)).map_err(HeadError::Failed)? {
                Some(head) if head.status.is_informational() => {
                    if head.status == StatusCode::SWITCHING_PROTOCOLS {
                        return Err(HeadError::Failed(Error::Protocol(
                            "upstream switched protocols, which the gateway does not proxy",
                        )));
                    }
                    continue;
                }
                Some(head) => return Ok(head),
                None => {}
            }
        }
        read.reserve(READ_CHUNK);
        match io.read_buf(read).await {
            Ok(0) | Err(_) if !received => return Err(HeadError::Closed),
            Ok(0) => {
                return Err(HeadError::Failed(Error::Protocol(
                    "upstream closed the connection mid-answer",
                )));
            }
            Ok(_) => {}
            Err(e) => return Err(HeadError::Failed(Error::Io(e))),
        }
    }
}

fn respond(
    mut conn: Conn,
    method: &Method,
    head: Head,
    stamp: &Stamp<'_>,
) -> Result<Answer, Error> {
    let (framing, reusable) = framing(method, &head)?;
    let body = match framing {
        // The whole body is already here (or there is none): hand it over as a
        // buffer and the connection straight back to the pool.
        Framing::Length(n) if conn.read.len() as u64 >= n => {
            let bytes = conn.read.split_to(n as usize).freeze();
            if reusable {
                release(conn);
            }
            if bytes.is_empty() {
                Body::empty()
            } else {
                Body::from(bytes)
            }
        }
        framing => Body::new(Incoming {
            conn: Some(conn),
            framing,
            reusable,
        }),
    };
    let mut lines = head.lines;
    // A bodiless answer keeps its length: for `HEAD` it is the size a `GET`
    // would bring (RFC 9110 §8.6). Every other body is framed by its writer.
    if (*method == Method::HEAD || head.status == StatusCode::NOT_MODIFIED)
        && let Ok(Some(n)) = head.length
    {
        lines.extend_from_slice(b"content-length: ");
        push_decimal(&mut lines, n);
        lines.extend_from_slice(b"\r\n");
    }
    stamp.write(&mut lines);
    // Its header map stays empty, and so never allocates.
    let mut response = Response::new(body);
    *response.status_mut() = head.status;
    *response.version_mut() = head.version;
    Ok(Answer {
        response,
        passed: Some(Passed {
            lines: lines.freeze(),
            has_date: head.has_date,
        }),
    })
}

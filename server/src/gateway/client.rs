//! The upstream leg's HTTP/1.1 client, run inside the request's own task.
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

use super::FastMap;
use super::fields::Fields;
use super::stamp::Stamp;
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Response, StatusCode, Version};
use http_body::{Body as _, Frame, SizeHint};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Idle connections older than this are closed rather than reused; below the
/// usual upstream keep-alive timeouts (nginx: 75 s), so the gateway lets go first.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_IDLE_PER_HOST: usize = 512;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// An answer's head larger than this is refused (hyper's default is 400 KiB;
/// no sane upstream comes near this).
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;
const READ_CHUNK: usize = 16 * 1024;
/// A request body known in full and at most this large goes in the head's write.
const COALESCE: usize = 64 * 1024;
/// Chunk-size lines and trailer sections longer than this are refused.
const MAX_LINE: usize = 4096;

#[derive(Debug)]
pub enum Error {
    /// No connection could be made: nothing reached the upstream.
    Connect(io::Error),
    Io(io::Error),
    Protocol(&'static str),
}

impl Error {
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Connect(_))
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Connect(e) => write!(f, "connect: {e}"),
            Error::Io(e) => write!(f, "{e}"),
            Error::Protocol(what) => f.write_str(what),
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

/// One upstream connection with its buffers, which it keeps from one exchange
/// to the next.
struct Conn {
    io: TcpStream,
    /// The pool's key: the upstream's `host:port`.
    key: Box<str>,
    /// What was read and not yet consumed; empty between exchanges.
    read: BytesMut,
    write: Vec<u8>,
}

impl Conn {
    /// An idle connection has nothing to read: readiness means the upstream
    /// closed it (or wrote out of turn). This reads the event loop's state
    /// without a system call.
    fn looks_alive(&self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        self.io.poll_read_ready(&mut cx).is_pending()
    }
}

/// Idle connections by upstream, each queue oldest first with when it went idle.
type Idle = FastMap<Box<str>, VecDeque<(Instant, Conn)>>;

thread_local! {
    /// One pool per thread: on the thread-per-core workers a request, its upstream
    /// connection and the body that returns it all stay on one thread.
    static IDLE: RefCell<Idle> = RefCell::new(Idle::default());
}

fn checkout(key: &str) -> Option<Conn> {
    let now = Instant::now();
    IDLE.with_borrow_mut(|idle| {
        let queue = idle.get_mut(key)?;
        // Most recently used first: it is the least likely to have been closed.
        while let Some((since, conn)) = queue.pop_back() {
            if now.saturating_duration_since(since) < IDLE_TIMEOUT && conn.looks_alive() {
                return Some(conn);
            }
        }
        None
    })
}

fn release(conn: Conn) {
    // Bytes after the end of a message mean the two sides disagree on framing.
    if !conn.read.is_empty() {
        return;
    }
    let now = Instant::now();
    IDLE.with_borrow_mut(|idle| {
        let queue = match idle.get_mut(&*conn.key) {
            Some(queue) => queue,
            None => idle.entry(conn.key.clone()).or_default(),
        };
        while queue
            .front()
            .is_some_and(|(since, _)| now.saturating_duration_since(*since) >= IDLE_TIMEOUT)
            || queue.len() >= MAX_IDLE_PER_HOST
        {
            queue.pop_front();
        }
        queue.push_back((now, conn));
    });
}

async fn connect(authority: &str) -> Result<Conn, Error> {
    let (host, port) = host_port(authority);
    let io = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host, port)))
        .await
        .map_err(|_| Error::Connect(io::Error::new(io::ErrorKind::TimedOut, "timed out")))?
        .map_err(Error::Connect)?;
    // The head and a small body leave in one segment; Nagle would hold the next.
    io.set_nodelay(true).map_err(Error::Connect)?;
    Ok(Conn {
        io,
        key: authority.into(),
        read: BytesMut::with_capacity(READ_CHUNK),
        write: Vec::with_capacity(1024),
    })
}

/// An authority's host as `connect` takes it (IPv6 literals without their
/// brackets) and its port, 80 by default.
fn host_port(authority: &str) -> (&str, u16) {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => (v6, None),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    (host, port.and_then(|p| p.parse().ok()).unwrap_or(80))
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
    /// Which of `headers` travel on, by name (in any case).
    pub keep: &'a (dyn Fn(&[u8]) -> bool + Sync),
    /// The gateway's own headers, written after the caller's.
    pub extra: &'a [(HeaderName, HeaderValue)],
    /// More of the gateway's own, as lines ready for the wire (`name: value\r\n`):
    /// the ones it composes per request, which would otherwise each be a string
    /// made only to become a header value.
    pub lines: &'a [u8],
    /// The headers the gateway sets on the answer: the upstream's copies are
    /// dropped, and these written in their place.
    pub stamp: &'a Stamp<'a>,
}

/// Methods whose requests mean something without a body; others say
/// `Content-Length: 0` when they have none, as RFC 9110 §8.6 advises.
fn bodiless(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET
            | Method::HEAD
            | Method::DELETE
            | Method::OPTIONS
            | Method::CONNECT
            | Method::TRACE
    )
}

/// Methods whose requests can be repeated without changing anything more
/// (RFC 9110 §9.2.2): the only ones sent twice, here or by `forward`'s retries.
pub fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// Writes the request head into `out`: `length` is the body's size, `None` for
/// a chunked one. Framing headers are the client's own: the caller's
/// `Content-Length` and `Transfer-Encoding` say how the body reached the
/// gateway, not how it leaves.
fn encode_head(out: &mut Vec<u8>, req: &Request<'_>, length: Option<u64>) {
    out.clear();
    out.extend_from_slice(req.method.as_str().as_bytes());
    out.push(b' ');
    let start = out.len();
    for piece in req.target {
        out.extend_from_slice(piece.as_bytes());
    }
    if out.len() == start {
        out.push(b'/');
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let host = header::HOST.as_str().as_bytes();
    let has_host = req.extra.iter().any(|(name, _)| name == header::HOST)
        || (req.headers.get("host").is_some() && (req.keep)(host));
    if !has_host {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(req.authority.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let caller = req.headers.iter().filter(|(name, _)| (req.keep)(name));
    let extra = req
        .extra
        .iter()
        .map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes()));
    for (name, value) in caller.chain(extra) {
        if name.eq_ignore_ascii_case(b"content-length")
            || name.eq_ignore_ascii_case(b"transfer-encoding")
        {
            continue;
        }
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(req.lines);
    if !(length == Some(0) && bodiless(req.method)) {
        push_framing(out, length);
    }
    out.extend_from_slice(b"\r\n");
}

/// The header that frames a body of `length` bytes, `chunked` when unknown.
pub(super) fn push_framing(out: &mut Vec<u8>, length: Option<u64>) {
    match length {
        Some(n) => {
            out.extend_from_slice(b"content-length: ");
            push_number(out, n, 10);
            out.extend_from_slice(b"\r\n");
        }
        None => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
}

/// `n` in ASCII digits of `radix` (10 or 16), without the formatting machinery.
pub(super) fn push_number(out: &mut impl bytes::BufMut, mut n: u64, radix: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b"0123456789abcdef"[(n % radix) as usize];
        n /= radix;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&digits[at..]);
}

/// Appends one piece of body to `out`, as a chunk when the body is chunked.
pub(super) fn push_piece(out: &mut Vec<u8>, data: &[u8], chunked: bool) {
    if chunked {
        push_number(out, data.len() as u64, 16);
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
pub(super) struct Early {
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
pub(super) async fn early(body: &mut Body) -> Result<Early, Error> {
    std::future::poll_fn(|cx| {
        Poll::Ready(match Pin::new(&mut *body).poll_frame(cx) {
            Poll::Pending => Ok(Early::default()),
            Poll::Ready(None) => Ok(Early {
                data: None,
                ended: true,
            }),
            Poll::Ready(Some(Err(e))) => Err(Error::Io(io::Error::other(e))),
            Poll::Ready(Some(Ok(frame))) => Ok(Early {
                data: frame.into_data().ok().filter(|d| !d.is_empty()),
                ended: body.is_end_stream(),
            }),
        })
    })
    .await
}

/// Sends the rest of a streamed body, framed as the head announced: `left` is
/// what remains of a declared length, `None` for a chunked body.
pub(super) async fn pump(
    io: &mut TcpStream,
    mut body: Body,
    mut left: Option<u64>,
) -> Result<(), Error> {
    let chunked = left.is_none();
    let mut piece = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| Error::Io(io::Error::other(e)))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers: not forwarded
        };
        if data.is_empty() {
            continue;
        }
        if let Some(n) = left.as_mut() {
            *n = n
                .checked_sub(data.len() as u64)
                .ok_or(Error::Protocol("body longer than declared"))?;
            io.write_all(&data).await.map_err(Error::Io)?;
        } else {
            piece.clear();
            push_piece(&mut piece, &data, true);
            io.write_all(&piece).await.map_err(Error::Io)?;
        }
    }
    if chunked {
        io.write_all(b"0\r\n\r\n").await.map_err(Error::Io)?;
    } else if left.is_some_and(|n| n > 0) {
        return Err(Error::Protocol("body shorter than declared"));
    }
    Ok(())
}

/// An answer's head: its header lines that travel on, and what the ones that
/// frame the message or describe only this connection said.
struct Head {
    status: StatusCode,
    version: Version,
    /// `Name: value\r\n` for each header that travels on, as it came.
    lines: BytesMut,
    has_date: bool,
    /// The `Content-Length`, or why it cannot be used.
    length: Result<Option<u64>, &'static str>,
    /// `Connection` lists `close`.
    close: bool,
    /// `Connection` lists `keep-alive` (what HTTP/1.0 needs to keep a connection).
    keep_alive: bool,
    /// `Transfer-Encoding` was sent; whether its last coding is `chunked`.
    chunked: Option<bool>,
}

/// An upstream answer's header lines (`Name: value\r\n` each) as they came,
/// less the hop-by-hop ones, the framing ones, and those the gateway sets
/// itself, followed by the gateway's own (its [`Stamp`]), so the answer's
/// header map stays empty. Carried in the response's extensions: the connection loop writes
/// them out as they are, so a proxied answer's headers are never built into a
/// header map, taken apart and written again; [`materialize`] makes headers of
/// them where a header map is needed (hyper's path, the router's fallback).
#[derive(Clone, Debug)]
pub struct Passed {
    lines: Bytes,
    has_date: bool,
}

impl Passed {
    pub fn lines(&self) -> &[u8] {
        &self.lines
    }

    pub fn has_date(&self) -> bool {
        self.has_date
    }

    /// Each header's name and value.
    fn pairs(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.lines.split(|&b| b == b'\n').filter_map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let colon = line.iter().position(|&b| b == b':')?;
            Some((&line[..colon], line[colon + 1..].trim_ascii()))
        })
    }

    /// The first value of `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// Moves an answer's passed header lines into its header map, after the
/// gateway's own, for code that writes responses from header maps.
pub fn materialize(response: &mut Response<Body>) {
    let Some(passed) = response.extensions_mut().remove::<Passed>() else {
        return;
    };
    let headers = response.headers_mut();
    for (name, value) in passed.pairs() {
        // Checked by the parser already; a line that still fails is left out.
        if let (Some(name), Ok(value)) = (
            self::name(name),
            HeaderValue::from_maybe_shared(passed.lines.slice_ref(value)),
        ) {
            headers.append(name, value);
        }
    }
}

/// Room in a proxied answer's lines for the gateway's own (request id, rate
/// limits, a deprecation's three), so that adding them never regrows the buffer.
const STAMP_ROOM: usize = 256;

/// RFC 9110 §7.6.1: these describe one connection, never the message (compared
/// without regard to case, as they come off the wire).
pub(super) fn hop_by_hop(name: &[u8]) -> bool {
    const NAMES: [&[u8]; 8] = [
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    ];
    NAMES
        .iter()
        .any(|n| n.len() == name.len() && n.eq_ignore_ascii_case(name))
}

/// The comma-separated tokens of a header value, trimmed, empty ones skipped.
pub(super) fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|t| !t.is_empty())
}

/// Parses a complete head off the front of `buf`, or `None` if more is needed.
/// Hop-by-hop headers, those a `Connection` header names, the framing ones and
/// the ones `owned` says the gateway sets itself are read where they matter and
/// dropped; the rest are kept as lines to pass on.
fn parse_head(buf: &mut BytesMut, owned: &dyn Fn(&[u8]) -> bool) -> Result<Option<Head>, Error> {
    let mut head = Head {
        status: StatusCode::OK,
        version: Version::HTTP_11,
        lines: BytesMut::new(),
        has_date: false,
        length: Ok(None),
        close: false,
        keep_alive: false,
        chunked: None,
    };
    let len = {
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut slots);
        let len = match response.parse(buf) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
                return Err(Error::Protocol("upstream response head too large"));
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(Error::Protocol("upstream response has too many headers"));
            }
            Err(_) => return Err(Error::Protocol("malformed upstream response head")),
        };
        head.status = response
            .code
            .and_then(|c| StatusCode::from_u16(c).ok())
            .ok_or(Error::Protocol("malformed upstream status"))?;
        if response.version != Some(1) {
            head.version = Version::HTTP_10;
        }
        // Tokens of `Connection` other than these two name more headers to drop
        // (RFC 9110 §7.6.1). Answers rarely have any, so the names are only
        // looked for when `named` says there are some.
        let mut named = false;
        let mut size = 0;
        for h in response.headers.iter() {
            let name = h.name.as_bytes();
            size += name.len() + h.value.len() + 4;
            if name.eq_ignore_ascii_case(b"connection") {
                for token in tokens(h.value) {
                    if token.eq_ignore_ascii_case(b"close") {
                        head.close = true;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") {
                        head.keep_alive = true;
                    } else {
                        named = true;
                    }
                }
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                if let Some(last) = tokens(h.value).last() {
                    head.chunked = Some(last.eq_ignore_ascii_case(b"chunked"));
                } else if head.chunked.is_none() {
                    head.chunked = Some(false);
                }
            } else if name.eq_ignore_ascii_case(b"content-length") {
                head.length = match (head.length, plain_digits(h.value)) {
                    (Err(e), _) => Err(e),
                    (_, None) => Err("invalid upstream Content-Length"),
                    (Ok(Some(l)), Some(n)) if l != n => Err("conflicting upstream Content-Length"),
                    (Ok(_), Some(n)) => Ok(Some(n)),
                };
            }
        }
        let connection_lists = |name: &[u8]| {
            response
                .headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("connection"))
                .flat_map(|h| tokens(h.value))
                .any(|t| t.eq_ignore_ascii_case(name))
        };
        // With room for the gateway's own lines, which `respond` adds.
        head.lines.reserve(size + STAMP_ROOM);
        for h in response.headers.iter() {
            let name = h.name.as_bytes();
            if hop_by_hop(name)
                || name.eq_ignore_ascii_case(b"content-length")
                || owned(name)
                || (named && connection_lists(name))
            {
                continue;
            }
            head.has_date |= name.eq_ignore_ascii_case(b"date");
            head.lines.extend_from_slice(name);
            head.lines.extend_from_slice(b": ");
            head.lines.extend_from_slice(h.value);
            head.lines.extend_from_slice(b"\r\n");
        }
        len
    };
    bytes::Buf::advance(buf, len);
    Ok(Some(head))
}

/// A `Content-Length` value: ASCII digits only (no sign, no spaces, no list).
pub(super) fn plain_digits(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 15 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        value
            .iter()
            .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')),
    )
}

/// Where one header's name and value lie in a head: name start and end, value
/// start and end. Parsing records these so that the values can then share the
/// head's bytes instead of each taking an allocation.
pub(super) type Span = (u32, u32, u32, u32);

/// Records in `spans` where `headers`, parsed out of `base`, lie in it; returns
/// how many it recorded.
pub(super) fn locate(base: &[u8], headers: &[httparse::Header<'_>], spans: &mut [Span]) -> usize {
    let base = base.as_ptr() as usize;
    let mut count = 0;
    for (span, h) in spans.iter_mut().zip(headers) {
        let name = h.name.as_ptr() as usize - base;
        let value = h.value.as_ptr() as usize - base;
        *span = (
            name as u32,
            (name + h.name.len()) as u32,
            value as u32,
            (value + h.value.len()) as u32,
        );
        count += 1;
    }
    count
}

/// Header names the gateway reads or writes that the `http` crate has no
/// constant for. A name parsed from the wire that is not one of its constants
/// is copied into an allocation of its own; these are matched first instead.
static KNOWN: [HeaderName; 7] = [
    super::policy::API_KEY,
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("x-forwarded-for"),
    HeaderName::from_static("x-forwarded-host"),
    HeaderName::from_static("x-forwarded-proto"),
    HeaderName::from_static("x-consumer-id"),
    HeaderName::from_static("x-consumer-app"),
];

fn name(raw: &[u8]) -> Option<HeaderName> {
    let known = KNOWN.iter().find(|k| {
        let k = k.as_str().as_bytes();
        k.len() == raw.len() && k.eq_ignore_ascii_case(raw)
    });
    match known {
        Some(name) => Some(name.clone()),
        None => HeaderName::from_bytes(raw).ok(),
    }
}

/// The headers at `spans` in `head`, their values sharing its bytes; `None` if
/// a name or value is invalid.
pub(super) fn header_map(head: &Bytes, spans: &[Span]) -> Option<HeaderMap> {
    let mut headers = HeaderMap::with_capacity(spans.len());
    for &(ns, ne, vs, ve) in spans {
        let name = name(&head[ns as usize..ne as usize])?;
        let value = HeaderValue::from_maybe_shared(head.slice(vs as usize..ve as usize)).ok()?;
        headers.append(name, value);
    }
    Some(headers)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked(Chunk),
    /// Read until the upstream closes; the connection ends with the message.
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

/// RFC 9112 §6.3, in order. Also says whether the connection can carry another
/// exchange afterwards.
fn framing(method: &Method, head: &Head) -> Result<(Framing, bool), Error> {
    let mut reusable = match head.version {
        Version::HTTP_11 => !head.close,
        _ => head.keep_alive && !head.close,
    };
    let status = head.status.as_u16();
    if *method == Method::HEAD || status == 204 || status == 304 {
        return Ok((Framing::Length(0), reusable));
    }
    if let Some(chunked) = head.chunked {
        // With both, Transfer-Encoding wins, and the connection must not be reused.
        if head.length != Ok(None) {
            reusable = false;
        }
        return Ok(if chunked {
            (Framing::Chunked(Chunk::Size), reusable)
        } else {
            (Framing::Close, false)
        });
    }
    Ok(match head.length.map_err(Error::Protocol)? {
        Some(n) => (Framing::Length(n), reusable),
        None => (Framing::Close, false),
    })
}

/// Sends `req` to its upstream and returns the answer once its head has
/// arrived; the body follows as it is read.
pub async fn send(req: &Request<'_>, mut body: Outgoing) -> Result<Response<Body>, Error> {
    let key = req.authority;
    if key.is_empty() {
        return Err(Error::Protocol("upstream URL has no host"));
    }
    let (length, early) = match &mut body {
        Outgoing::Full(bytes) => (Some(bytes.len() as u64), Early::default()),
        Outgoing::Stream(stream) => (stream.size_hint().exact(), early(stream).await?),
    };
    let chunked = length.is_none();
    let left = early.left(length)?;
    let mut pooled = checkout(key);
    loop {
        let reused = pooled.is_some();
        let mut conn = match pooled.take() {
            Some(conn) => conn,
            None => connect(key).await?,
        };
        encode_head(&mut conn.write, req, length);
        match &body {
            Outgoing::Full(bytes) if bytes.len() <= COALESCE => {
                conn.write.extend_from_slice(bytes);
            }
            Outgoing::Full(_) => {}
            Outgoing::Stream(_) => early.push_to(&mut conn.write, chunked),
        }
        // A connection the upstream closed while idle fails on first use; if it
        // did before the upstream can have seen anything, the request goes again
        // on a new one, as any client would (the stale one is dropped).
        match conn.io.write(&conn.write).await {
            Ok(n) if n == conn.write.len() => {}
            Ok(0) | Err(_) if reused => continue,
            Ok(n) => conn
                .io
                .write_all(&conn.write[n..])
                .await
                .map_err(Error::Io)?,
            Err(e) => return Err(Error::Io(e)),
        }
        let replayable = match body {
            Outgoing::Full(ref bytes) => {
                if bytes.len() > COALESCE {
                    conn.io.write_all(bytes).await.map_err(Error::Io)?;
                }
                true
            }
            Outgoing::Stream(_) if early.ended => false,
            Outgoing::Stream(ref mut stream) => {
                pump(&mut conn.io, std::mem::take(stream), left).await?;
                false
            }
        };
        match read_head(&mut conn, req.stamp).await {
            Ok(head) => return respond(conn, req.method, head, req.stamp),
            // Closed without a byte of answer on a reused connection: the upstream
            // let it go just as this request went out, and cannot have answered.
            // Only an idempotent request is sent again, since it may have been read.
            Err(HeadError::Closed) if reused && replayable && idempotent(req.method) => {
                continue;
            }
            Err(HeadError::Closed) => {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "upstream closed the connection before answering",
                )));
            }
            Err(HeadError::Failed(e)) => return Err(e),
        }
    }
}

enum HeadError {
    /// Closed or reset before the first byte of an answer.
    Closed,
    Failed(Error),
}

/// Reads the final answer's head, skipping informational (1xx) ones.
async fn read_head(conn: &mut Conn, stamp: &Stamp<'_>) -> Result<Head, HeadError> {
    let mut received = false;
    loop {
        if !conn.read.is_empty() {
            received = true;
            match parse_head(&mut conn.read, &|name| stamp.owns(name)).map_err(HeadError::Failed)? {
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
        conn.read.reserve(READ_CHUNK);
        match conn.io.read_buf(&mut conn.read).await {
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
) -> Result<Response<Body>, Error> {
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
        push_number(&mut lines, n, 10);
        lines.extend_from_slice(b"\r\n");
    }
    stamp.write(&mut lines);
    // Its header map stays empty, and so never allocates.
    let mut response = Response::new(body);
    *response.status_mut() = head.status;
    *response.version_mut() = head.version;
    response.extensions_mut().insert(Passed {
        lines: lines.freeze(),
        has_date: head.has_date,
    });
    Ok(response)
}

/// An answer's body still on the wire.
struct Incoming {
    /// `None` once the body has ended (the connection is back in the pool or closed).
    conn: Option<Conn>,
    framing: Framing,
    reusable: bool,
}

impl Incoming {
    fn finish(&mut self) {
        if let Some(conn) = self.conn.take()
            && self.reusable
        {
            release(conn);
        }
    }

    fn fail(&mut self, what: &'static str) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.conn = None;
        Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::InvalidData, what))))
    }
}

/// Reads more of the answer; `Ok(0)` is the upstream closing.
fn poll_fill(conn: &mut Conn, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
    conn.read.reserve(READ_CHUNK);
    tokio_util::io::poll_read_buf(Pin::new(&mut conn.io), cx, &mut conn.read)
}

/// One CRLF-terminated line off the front of `buf`, without its terminator.
fn take_line(buf: &mut BytesMut) -> Option<Bytes> {
    let end = buf.iter().position(|&b| b == b'\n')?;
    let mut line = buf.split_to(end + 1);
    line.truncate(end);
    if line.last() == Some(&b'\r') {
        line.truncate(end - 1);
    }
    Some(line.freeze())
}

/// A chunk-size line: hex digits, then optional extensions (ignored).
fn chunk_size(line: &[u8]) -> Option<u64> {
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        let d = (b as char).to_digit(16)?;
        Some(n << 4 | u64::from(d))
    })
}

impl http_body::Body for Incoming {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        loop {
            let Some(conn) = this.conn.as_mut() else {
                return Poll::Ready(None);
            };
            // What is buffered is used first; `more` says the socket must be read.
            let more = match &mut this.framing {
                Framing::Length(0) => {
                    this.finish();
                    return Poll::Ready(None);
                }
                Framing::Length(left) => {
                    if conn.read.is_empty() {
                        true
                    } else {
                        let take = (*left).min(conn.read.len() as u64);
                        let data = conn.read.split_to(take as usize).freeze();
                        *left -= take;
                        if *left == 0 {
                            this.finish();
                        }
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                }
                Framing::Close => {
                    if conn.read.is_empty() {
                        true
                    } else {
                        let data = conn.read.split().freeze();
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                }
                Framing::Chunked(state) => match *state {
                    Chunk::Size => match take_line(&mut conn.read) {
                        Some(line) => {
                            match chunk_size(&line) {
                                Some(0) => *state = Chunk::Trailers,
                                Some(n) => *state = Chunk::Data(n),
                                None => return this.fail("malformed chunk size from upstream"),
                            }
                            false
                        }
                        None if conn.read.len() > MAX_LINE => {
                            return this.fail("chunk size line too long");
                        }
                        None => true,
                    },
                    Chunk::Data(left) => {
                        if conn.read.is_empty() {
                            true
                        } else {
                            let take = left.min(conn.read.len() as u64);
                            let data = conn.read.split_to(take as usize).freeze();
                            *state = match left - take {
                                0 => Chunk::DataEnd,
                                left => Chunk::Data(left),
                            };
                            return Poll::Ready(Some(Ok(Frame::data(data))));
                        }
                    }
                    Chunk::DataEnd => match take_line(&mut conn.read) {
                        Some(line) if line.is_empty() => {
                            *state = Chunk::Size;
                            false
                        }
                        Some(_) => return this.fail("chunk data longer than its size"),
                        None if conn.read.len() > 2 => {
                            return this.fail("chunk data longer than its size");
                        }
                        None => true,
                    },
                    // Trailers are read and dropped: they would describe the
                    // upstream's message, and few clients read them.
                    Chunk::Trailers => match take_line(&mut conn.read) {
                        Some(line) if line.is_empty() => {
                            this.framing = Framing::Length(0);
                            false
                        }
                        Some(_) => false,
                        None if conn.read.len() > MAX_LINE => {
                            return this.fail("trailer line too long");
                        }
                        None => true,
                    },
                },
            };
            if more {
                match ready!(poll_fill(conn, cx)) {
                    Ok(0) if this.framing == Framing::Close => {
                        this.conn = None;
                        return Poll::Ready(None);
                    }
                    Ok(0) => return this.fail("upstream closed the connection mid-body"),
                    Ok(_) => {}
                    Err(e) => {
                        this.conn = None;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.conn.is_none() || self.framing == Framing::Length(0)
    }

    fn size_hint(&self) -> SizeHint {
        match self.framing {
            Framing::Length(left) => SizeHint::with_exact(left),
            _ => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> Head {
        let mut buf = BytesMut::from(raw);
        parse_head(&mut buf, &|_| false).unwrap().unwrap()
    }

    fn lines(head: &Head) -> &str {
        std::str::from_utf8(&head.lines).unwrap()
    }

    #[test]
    fn parses_a_head_and_leaves_the_body() {
        let mut buf = BytesMut::from(
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Custom: a b\r\nContent-Length: 2\r\n\r\n{}",
        );
        let head = parse_head(&mut buf, &|_| false).unwrap().unwrap();
        assert_eq!(head.status, StatusCode::CREATED);
        assert_eq!(head.version, Version::HTTP_11);
        // The length frames the body; it is not passed on as a line.
        assert_eq!(head.length, Ok(Some(2)));
        assert_eq!(
            lines(&head),
            "Content-Type: application/json\r\nX-Custom: a b\r\n"
        );
        assert!(!head.has_date);
        assert_eq!(&buf[..], b"{}");
        let mut partial = BytesMut::from("HTTP/1.1 200 OK\r\nContent-Len");
        assert!(parse_head(&mut partial, &|_| false).unwrap().is_none());
        let mut bad = BytesMut::from("HTTP/1.1 2x0 OK\r\n\r\n");
        assert!(parse_head(&mut bad, &|_| false).is_err());
    }

    #[test]
    fn hop_by_hop_and_gateway_owned_headers_are_read_then_dropped() {
        let raw = "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: 1\r\n\
             Keep-Alive: timeout=5\r\nTransfer-Encoding: gzip, chunked\r\nTE: trailers\r\n\
             Content-Type: application/json\r\nX-Request-Id: abc\r\nRateLimit-Limit: 1\r\n\
             Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n";
        let owned = |name: &[u8]| {
            name.eq_ignore_ascii_case(b"x-request-id")
                || name.eq_ignore_ascii_case(b"ratelimit-limit")
        };
        let h = parse_head(&mut BytesMut::from(raw), &owned)
            .unwrap()
            .unwrap();
        assert_eq!(
            lines(&h),
            "Content-Type: application/json\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
        );
        assert!(h.has_date);
        assert!(h.keep_alive && !h.close);
        assert_eq!(h.chunked, Some(true));
        // Not the gateway's on this answer: the upstream's pass.
        let unowned = head(raw);
        assert!(lines(&unowned).contains("RateLimit-Limit: 1\r\n"));
        assert!(lines(&unowned).contains("X-Request-Id: abc\r\n"));
        // Names the gateway knows come out as its constants, whatever their case.
        assert_eq!(name(b"X-API-Key").unwrap(), KNOWN[0]);
        assert_eq!(name(b"x-other").unwrap(), "x-other");
        assert!(name(b"bad name").is_none());
    }

    #[test]
    fn passed_lines_read_back_as_headers() {
        let passed = Passed {
            lines: Bytes::from_static(
                b"Content-Type: application/json\r\nLink: <a>\r\nLink:  <b> \r\n",
            ),
            has_date: false,
        };
        assert_eq!(passed.get("content-type"), Some("application/json"));
        assert_eq!(passed.get("LINK"), Some("<a>"));
        assert_eq!(passed.get("date"), None);
        let mut response = Response::new(Body::empty());
        response
            .headers_mut()
            .insert("ratelimit-limit", HeaderValue::from_static("100"));
        response.extensions_mut().insert(passed);
        materialize(&mut response);
        let headers = response.headers();
        assert_eq!(headers["ratelimit-limit"], "100");
        assert_eq!(headers["content-type"], "application/json");
        let links: Vec<_> = headers.get_all("link").iter().collect();
        assert_eq!(links, ["<a>", "<b>"]);
        assert!(response.extensions().get::<Passed>().is_none());
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let get = Method::GET;
        let length = head("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n");
        assert_eq!(framing(&get, &length).unwrap(), (Framing::Length(12), true));
        assert_eq!(
            framing(&Method::HEAD, &length).unwrap(),
            (Framing::Length(0), true)
        );
        let chunked = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert_eq!(
            framing(&get, &chunked).unwrap(),
            (Framing::Chunked(Chunk::Size), true)
        );
        // Both: Transfer-Encoding wins and the connection is not reused.
        let both =
            head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(
            framing(&get, &both).unwrap(),
            (Framing::Chunked(Chunk::Size), false)
        );
        let close = head("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n");
        assert_eq!(framing(&get, &close).unwrap(), (Framing::Length(1), false));
        let until_close = head("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(
            framing(&get, &until_close).unwrap(),
            (Framing::Close, false)
        );
        let old = head("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n");
        assert_eq!(framing(&get, &old).unwrap(), (Framing::Length(1), false));
        let no_content = head("HTTP/1.1 204 No Content\r\n\r\n");
        assert_eq!(
            framing(&get, &no_content).unwrap(),
            (Framing::Length(0), true)
        );
        for bad in [
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n",
        ] {
            assert!(framing(&get, &head(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_without_format() {
        let mut out = Vec::new();
        for (n, radix, text) in [
            (0, 10, "0"),
            (1234, 10, "1234"),
            (u64::MAX, 10, "18446744073709551615"),
            (255, 16, "ff"),
            (0, 16, "0"),
        ] {
            out.clear();
            push_number(&mut out, n, radix);
            assert_eq!(out, text.as_bytes());
        }
    }

    #[test]
    fn chunk_sizes_with_and_without_extensions() {
        assert_eq!(chunk_size(b"1a"), Some(26));
        assert_eq!(chunk_size(b"FF;name=value"), Some(255));
        assert_eq!(chunk_size(b"0"), Some(0));
        assert_eq!(chunk_size(b""), None);
        assert_eq!(chunk_size(b"zz"), None);
        assert_eq!(chunk_size(b"11111111111111111"), None);
    }

    #[test]
    fn request_heads_carry_their_own_framing() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("erp.local"));
        headers.insert("content-length", HeaderValue::from_static("999"));
        headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        headers.insert("x-secret", HeaderValue::from_static("stays"));
        let keep = |name: &[u8]| name != b"x-secret";
        let extra = [(
            HeaderName::from_static("x-added"),
            HeaderValue::from_static("1"),
        )];
        let post = Request {
            method: &Method::POST,
            target: &["/orders", "", "?", "x=1"],
            authority: "127.0.0.1:9000",
            headers: Fields::Map(&headers),
            keep: &keep,
            extra: &extra,
            lines: b"x-line: 2\r\n",
            stamp: &Stamp::new(HeaderValue::from_static("req-1")),
        };
        let mut out = Vec::new();
        encode_head(&mut out, &post, Some(2));
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "POST /orders?x=1 HTTP/1.1\r\nhost: erp.local\r\nx-added: 1\r\nx-line: 2\r\ncontent-length: 2\r\n\r\n"
        );
        encode_head(&mut out, &post, None);
        push_piece(&mut out, b"0123456789abcdefg", true);
        assert!(
            String::from_utf8(out.clone())
                .unwrap()
                .ends_with("\r\ntransfer-encoding: chunked\r\n\r\n11\r\n0123456789abcdefg\r\n")
        );
        let none = HeaderMap::new();
        let get = Request {
            method: &Method::GET,
            target: &["", ""],
            authority: "127.0.0.1:9000",
            headers: Fields::Map(&none),
            keep: &|_| true,
            extra: &[],
            lines: b"",
            stamp: &Stamp::new(HeaderValue::from_static("req-1")),
        };
        encode_head(&mut out, &get, Some(0));
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "GET / HTTP/1.1\r\nhost: 127.0.0.1:9000\r\n\r\n"
        );
    }

    #[test]
    fn authorities_split_into_host_and_port() {
        assert_eq!(host_port("127.0.0.1:9000"), ("127.0.0.1", 9000));
        assert_eq!(host_port("erp.internal"), ("erp.internal", 80));
        assert_eq!(host_port("[::1]:8080"), ("::1", 8080));
        assert_eq!(host_port("[2001:db8::7]"), ("2001:db8::7", 80));
    }

    /// Runs the body decoder over `wire`, fed in pieces of `step` bytes.
    async fn decode(wire: &'static [u8], framing: Framing, step: usize) -> Result<Vec<u8>, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            // The reader may stop early on a framing error.
            for piece in wire.chunks(step) {
                if socket.write_all(piece).await.is_err() {
                    break;
                }
                tokio::task::yield_now().await;
            }
        });
        let io = TcpStream::connect(addr).await.unwrap();
        let body = Incoming {
            conn: Some(Conn {
                io,
                key: "test".into(),
                read: BytesMut::new(),
                write: Vec::new(),
            }),
            framing,
            reusable: false,
        };
        let result = axum::body::to_bytes(Body::new(body), usize::MAX).await;
        writer.await.unwrap();
        result.map(|b| b.to_vec()).map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn bodies_decode_whatever_the_read_boundaries() {
        let chunked =
            b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n";
        for step in [1, 3, 7, chunked.len()] {
            assert_eq!(
                decode(chunked, Framing::Chunked(Chunk::Size), step)
                    .await
                    .unwrap(),
                b"Wikipedia in\r\n\r\nchunks."
            );
            assert_eq!(
                decode(b"hello world", Framing::Length(11), step)
                    .await
                    .unwrap(),
                b"hello world"
            );
        }
        assert_eq!(
            decode(b"until the end", Framing::Close, 4).await.unwrap(),
            b"until the end"
        );
        // Cut short, or framed wrongly: an error, never a silently short body.
        assert!(decode(b"hello", Framing::Length(11), 2).await.is_err());
        assert!(
            decode(
                b"4\r\nWikiXX\r\n0\r\n\r\n",
                Framing::Chunked(Chunk::Size),
                3
            )
            .await
            .is_err()
        );
        assert!(
            decode(b"q\r\n", Framing::Chunked(Chunk::Size), 3)
                .await
                .is_err()
        );
        assert!(
            decode(b"4\r\nWi", Framing::Chunked(Chunk::Size), 3)
                .await
                .is_err()
        );
    }
}

//! One client connection: Steward's own HTTP/1.1 server loop for the requests a
//! gateway sees all day, hyper for everything else (data plane).
//!
//! A general-purpose server dispatches each request through layers built to
//! handle every corner of the protocol (upgrades, `Expect: 100-continue`,
//! chunked and unbounded bodies, HTTP/1.0), and the gateway's profile showed
//! that machinery costing more than its whole policy pipeline. Most requests
//! need none of it: an HTTP/1.1 head in origin form whose body, if any, has a
//! small declared length. Those are parsed here in place (header values share
//! the read buffer), dispatched, and answered with the response head and a body
//! that is already at hand in one write.
//!
//! The first request that is anything else hands the connection, with what has
//! been read of it, to hyper for the rest of its life. So the edge cases, and
//! every malformed request's answer, stay with hyper's well-tested code; this
//! loop decides nothing it is unsure of.

use crate::wire::client;
use crate::wire::fields::Raw;
use crate::wire::h1::{self, Span};
use crate::wire::serve::App;
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap};
use http::{Method, Request, StatusCode, Uri, Version};
use http_body::Body as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::cell::RefCell;
use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// What a connection is served over: a TCP stream, or TLS over one.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for S {}
use tokio::sync::watch;

/// How long a connection may keep the gateway waiting, and on what.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// A request's head must arrive within this of its first byte (slow-loris),
    /// and a small body with it.
    pub head: Duration,
    /// An idle keep-alive connection is closed after this.
    pub keep_alive: Duration,
    /// Streaming an answer, each piece of it must arrive within `source` of the
    /// last (an upstream that stalls mid-body), and each write to the caller
    /// must make progress within `sink` (a caller that stopped reading): neither
    /// can pin a connection, and the upstream connection behind it, for ever.
    pub answer: h1::Waits,
}

impl Default for Timeouts {
    /// nginx's defaults where it has one: 60 s per read or write, 75 s idle.
    fn default() -> Self {
        Timeouts {
            head: Duration::from_secs(30),
            keep_alive: Duration::from_secs(75),
            answer: h1::Waits {
                source: Duration::from_secs(60),
                sink: Duration::from_secs(60),
            },
        }
    }
}
/// A head not complete within this many bytes goes to hyper, which enforces
/// its own limit and answers 431.
const MAX_HEAD: usize = 16 * 1024;
const MAX_HEADERS: usize = 100;
/// A body of up to this many bytes is read in full before dispatch when it has
/// not all arrived with the head; a larger one goes to hyper, which streams it.
const SMALL_BODY: u64 = 16 * 1024;
const READ_CHUNK: usize = 8 * 1024;

/// Serves `stream` until the client leaves, the connection idles out, or
/// `stop` says the gateway is shutting down (in-flight requests finish first).
pub async fn run<A: App>(
    mut io: impl Stream,
    peer: SocketAddr,
    app: A,
    stop: watch::Receiver<bool>,
    timeouts: Timeouts,
) {
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut out = Vec::with_capacity(1024);
    // Filled in place by each parse: 1.6 KB of positions that moving would copy.
    let mut parsed = Head::default();
    let timer = tokio::time::sleep(timeouts.keep_alive);
    tokio::pin!(timer);
    // One wait for shutdown for the connection's whole life: a fresh
    // `changed()` in each read's select registered a waiter and removed it
    // again, two locks per request, for a signal that comes once.
    let mut watched = stop.clone();
    let stopping = watched.changed();
    tokio::pin!(stopping);
    loop {
        // Read until a head is here, then decide who serves it. The head's
        // deadline is set once, at its first byte: a client trickling a byte at
        // a time must not push it back with each one.
        let mut head_started = false;
        loop {
            match parse(&buf, &mut parsed) {
                Parse::Simple => break,
                Parse::Partial if buf.len() <= MAX_HEAD => {}
                Parse::Partial | Parse::Other => {
                    return hand_to_hyper(io, buf, peer, app, stop, timeouts.head).await;
                }
            }
            if buf.is_empty() {
                timer
                    .as_mut()
                    .reset((Instant::now() + timeouts.keep_alive).into());
            } else if !head_started {
                head_started = true;
                timer
                    .as_mut()
                    .reset((Instant::now() + timeouts.head).into());
            }
            buf.reserve(READ_CHUNK);
            tokio::select! {
                biased;
                read = io.read_buf(&mut buf) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                },
                // Between requests the connection just closes; a head half read
                // is abandoned, as it would be by a timeout.
                _ = &mut stopping => return,
                () = &mut timer => return,
            }
        }
        // A small body still on its way is awaited, under the head's deadline.
        let wanted = parsed.len + parsed.body as usize;
        if buf.len() < wanted {
            timer
                .as_mut()
                .reset((Instant::now() + timeouts.head).into());
            while buf.len() < wanted {
                buf.reserve(wanted - buf.len());
                tokio::select! {
                    biased;
                    read = io.read_buf(&mut buf) => match read {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    },
                    () = &mut timer => return,
                }
            }
        }
        let head = buf.split_to(parsed.len).freeze();
        let body = buf.split_to(parsed.body as usize).freeze();
        let Some((request, raw)) = request(&head, &parsed, body.clone()) else {
            // A method or target that httparse lets through and `http` does not:
            // hyper answers it (400), from the bytes as they came.
            let mut again = BytesMut::with_capacity(head.len() + body.len() + buf.len());
            again.extend_from_slice(&head);
            again.extend_from_slice(&body);
            again.extend_from_slice(&buf);
            return hand_to_hyper(io, again, peer, app, stop, timeouts.head).await;
        };
        let method_is_head = request.method() == Method::HEAD;
        let call = app.call(request, Some(raw), peer);
        let mut call = std::pin::pin!(call);
        // While the answer is on its way the connection is watched: a caller
        // that hangs up takes its request with it (the upstream exchange is
        // dropped, as nginx does by default), and what it pipelined meanwhile
        // is kept for the next round. The read that finds nothing is the one
        // the next request's wait would have made anyway.
        let mut ahead = [0u8; 512];
        let mut pipelined = 0;
        let answer = tokio::select! {
            biased;
            answer = &mut call => answer,
            read = io.read(&mut ahead) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    pipelined = n;
                    call.await
                }
            },
        };
        drop(head);
        buf.extend_from_slice(&ahead[..pipelined]);
        let close = parsed.close || stop.has_changed().unwrap_or(true);
        if respond(
            &mut io,
            &mut out,
            answer,
            method_is_head,
            close,
            timeouts.answer,
        )
        .await
        .is_err()
            || close
        {
            let _ = io.shutdown().await;
            return;
        }
    }
}

/// What [`parse`] found at the front of the buffer.
enum Parse {
    /// A complete head this loop serves.
    Simple,
    /// Not a complete head yet.
    Partial,
    /// A head (or garbage) for hyper to deal with.
    Other,
}

/// A simple request's head, as positions in the read buffer.
struct Head {
    /// The head's length, blank line included.
    len: usize,
    method: (u32, u32),
    target: (u32, u32),
    headers: [Span; MAX_HEADERS],
    /// Which known name each of `headers` has.
    known: [h1::Known; MAX_HEADERS],
    count: usize,
    /// The body's declared length (0 without one).
    body: u64,
    /// The client asked for the connection to close after this exchange.
    close: bool,
}

impl Default for Head {
    fn default() -> Self {
        Head {
            len: 0,
            method: (0, 0),
            target: (0, 0),
            headers: [Span::default(); MAX_HEADERS],
            known: [h1::Known::Other; MAX_HEADERS],
            count: 0,
            body: 0,
            close: false,
        }
    }
}

/// Parses the head at the front of `buf` and tells whether this loop serves it:
/// HTTP/1.1, origin-form target, no `Transfer-Encoding`, `Expect` or `Upgrade`,
/// at most one `Content-Length`, plain digits, and a body that is here or small.
fn parse(buf: &[u8], head: &mut Head) -> Parse {
    if buf.is_empty() {
        return Parse::Partial;
    }
    // Left uninitialised: filling 100 slots (3.2 KB) before each parse cost more
    // than the parse of a typical head.
    let mut slots = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut slots) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parse::Partial,
        Err(_) => return Parse::Other,
    };
    let (Some(method), Some(target), Some(1)) = (req.method, req.path, req.version) else {
        return Parse::Other;
    };
    if !target.starts_with('/') || method == "CONNECT" {
        return Parse::Other;
    }
    let mut body = None;
    let mut close = false;
    for (at, h) in req.headers.iter().enumerate() {
        let name = h1::Known::of(h.name.as_bytes());
        if let Some(slot) = head.known.get_mut(at) {
            *slot = name;
        }
        match name {
            h1::Known::ContentLength => {
                if body.is_some() {
                    return Parse::Other;
                }
                match h1::plain_digits(h.value) {
                    Some(n) => body = Some(n),
                    None => return Parse::Other,
                }
            }
            h1::Known::TransferEncoding | h1::Known::Expect | h1::Known::Upgrade => {
                return Parse::Other;
            }
            h1::Known::Connection => {
                for token in h1::tokens(h.value) {
                    if token.eq_ignore_ascii_case(b"close") {
                        close = true;
                    } else if token.eq_ignore_ascii_case(b"upgrade") {
                        return Parse::Other;
                    }
                }
            }
            _ => {}
        }
    }
    let body = body.unwrap_or(0);
    if body > SMALL_BODY && ((buf.len() - len) as u64) < body {
        return Parse::Other;
    }
    head.len = len;
    head.method = span(buf, method.as_bytes());
    head.target = span(buf, target.as_bytes());
    head.body = body;
    head.close = close;
    head.count = h1::locate(buf, req.headers, &mut head.headers);
    Parse::Simple
}

/// The fuzzing entry for request heads: [`parse`] on arbitrary bytes, then
/// what the loop builds from a head it serves. Panics where an invariant the
/// loop relies on is broken (spans outside the head, a served head that cannot
/// become a request).
#[cfg(feature = "fuzzing")]
pub fn fuzz_request_head(data: &[u8]) {
    let mut head = Head::default();
    if let Parse::Simple = parse(data, &mut head) {
        assert!(head.len <= data.len(), "head longer than the input");
        let within = |end: u32| end as usize <= head.len;
        assert!(head.method.0 <= head.method.1 && within(head.method.1));
        assert!(head.target.0 <= head.target.1 && within(head.target.1));
        assert!(head.count <= MAX_HEADERS);
        for span in &head.headers[..head.count] {
            assert!(span.0 <= span.1 && span.1 <= span.2 && span.2 <= span.3 && within(span.3));
        }
        let bytes = Bytes::copy_from_slice(&data[..head.len]);
        let method = &bytes[head.method.0 as usize..head.method.1 as usize];
        // httparse accepted the method as a token, so http must too.
        assert!(Method::from_bytes(method).is_ok(), "method refused");
        let _ = request(&bytes, &head, Bytes::new());
    }
}

/// Where `part`, a slice of `buf`, lies in it.
fn span(buf: &[u8], part: &[u8]) -> (u32, u32) {
    let start = part.as_ptr() as usize - buf.as_ptr() as usize;
    (start as u32, (start + part.len()) as u32)
}

/// The request, its target sharing the head's bytes, and its header fields
/// left where they are (see `fields`): its header map stays empty.
fn request(head: &Bytes, parsed: &Head, body: Bytes) -> Option<(Request<Body>, Raw)> {
    let method =
        Method::from_bytes(&head[parsed.method.0 as usize..parsed.method.1 as usize]).ok()?;
    let uri =
        Uri::from_maybe_shared(head.slice(parsed.target.0 as usize..parsed.target.1 as usize))
            .ok()?;
    let raw = Raw::parsed(
        head.clone(),
        &parsed.headers[..parsed.count],
        &parsed.known[..parsed.count],
    );
    let mut request = Request::new(if body.is_empty() {
        Body::empty()
    } else {
        Body::from(body)
    });
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11;
    Some((request, raw))
}

/// Writes `response`: its head, with `Date` added if missing and framing
/// headers of this connection's own, and its body, in one write when the body
/// is at hand; the rest streams after it, `chunked` when its length is unknown.
async fn respond(
    io: &mut impl Stream,
    out: &mut Vec<u8>,
    answer: client::Answer,
    method_is_head: bool,
    close: bool,
    waits: h1::Waits,
) -> Result<(), client::Error> {
    let (parts, mut body) = answer.response.into_parts();
    let status = parts.status;
    // RFC 9110 §6.4.1: no content after these, whatever the headers say.
    let bodiless = method_is_head
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let length = if bodiless {
        None
    } else {
        body.size_hint().exact()
    };
    out.clear();
    status_line(out, status);
    write_headers(out, &parts.headers, bodiless);
    // A proxied answer's own headers, as they came from the upstream.
    let passed = answer.passed.as_ref();
    if let Some(passed) = passed {
        out.extend_from_slice(passed.lines());
    }
    if !parts.headers.contains_key(header::DATE) && !passed.is_some_and(client::Passed::has_date) {
        out.extend_from_slice(b"date: ");
        push_date(out);
        out.extend_from_slice(b"\r\n");
    }
    if !bodiless {
        h1::push_framing(out, length);
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if bodiless {
        return io.write_all(out).await.map_err(client::Error::Io);
    }
    let early = h1::early(&mut body).await?;
    let left = early.left(length)?;
    early.push_to(out, length.is_none());
    io.write_all(out).await.map_err(client::Error::Io)?;
    if early.ended {
        return Ok(());
    }
    h1::pump(io, body, left, waits)
        .await
        .map_err(client::Error::from)
}

/// `HTTP/1.1 <code> <reason>\r\n`: the usual answer's in one copy.
fn status_line(out: &mut Vec<u8>, status: StatusCode) {
    if status == StatusCode::OK {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        return;
    }
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// The response's headers, less the ones that frame this connection's message.
/// A bodiless answer keeps its `Content-Length`: for `HEAD` it is the size a
/// `GET` would bring (RFC 9110 §8.6).
fn write_headers(out: &mut Vec<u8>, headers: &HeaderMap, bodiless: bool) {
    for (name, value) in headers {
        if (name == header::CONTENT_LENGTH && !bodiless)
            || name == header::TRANSFER_ENCODING
            || name == header::CONNECTION
        {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

thread_local! {
    /// The current second as an HTTP-date, made once a second per thread.
    static DATE: RefCell<(u64, [u8; 29])> = const { RefCell::new((u64::MAX, [0; 29])) };
}

/// Appends the current time as an IMF-fixdate (RFC 9110 §5.6.7).
fn push_date(out: &mut Vec<u8>) {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    DATE.with_borrow_mut(|(at, text)| {
        if *at != secs {
            *at = secs;
            *text = imf_fixdate(secs);
        }
        out.extend_from_slice(&text[..]);
    });
}

fn imf_fixdate(secs: u64) -> [u8; 29] {
    let mut text = [b' '; 29];
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp(secs as i64) else {
        return text;
    };
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    if let Ok(s) = at.format(&f)
        && s.len() == text.len()
    {
        text.copy_from_slice(s.as_bytes());
    }
    text
}

/// Serves the rest of the connection with hyper, starting with `read`, what
/// has been read of it and not consumed.
async fn hand_to_hyper<A: App, S: Stream>(
    io: S,
    read: BytesMut,
    peer: SocketAddr,
    app: A,
    mut stop: watch::Receiver<bool>,
    head_timeout: Duration,
) {
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let app = app.clone();
        async move {
            let answer = app.call(req.map(Body::new), None, peer).await;
            Ok::<_, std::convert::Infallible>(answer.into_response())
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout)
        .serve_connection(
            TokioIo::new(Rewind {
                read: read.freeze(),
                io,
            }),
            service,
        );
    tokio::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        _ = stop.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = ended {
        tracing::debug!(error = %e, "gateway connection ended with an error");
    }
}

/// A socket that first gives back what was already read from it.
struct Rewind<S> {
    read: Bytes,
    io: S,
}

impl<S: Stream> AsyncRead for Rewind<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.read.is_empty() {
            let n = this.read.len().min(buf.remaining());
            buf.put_slice(&this.read.split_to(n));
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl<S: Stream> AsyncWrite for Rewind<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fields::Fields;
    use http::HeaderValue;

    fn simple(raw: &str) -> Head {
        let mut head = Head::default();
        match parse(raw.as_bytes(), &mut head) {
            Parse::Simple => head,
            Parse::Partial => panic!("partial: {raw:?}"),
            Parse::Other => panic!("not simple: {raw:?}"),
        }
    }

    fn is_other(raw: &str) -> bool {
        matches!(parse(raw.as_bytes(), &mut Head::default()), Parse::Other)
    }

    #[test]
    fn the_common_request_is_served_here() {
        let raw = "POST /shop/v1/orders?x=1 HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}";
        let head = simple(raw);
        assert_eq!(head.len, raw.len() - 2);
        assert_eq!(head.body, 2);
        assert!(!head.close);
        let bytes = Bytes::copy_from_slice(&raw.as_bytes()[..head.len]);
        let (req, raw) = request(&bytes, &head, Bytes::from_static(b"{}")).unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri().path(), "/shop/v1/orders");
        assert_eq!(req.uri().query(), Some("x=1"));
        // The fields stay in the head; the map is made only where one is needed.
        assert!(req.headers().is_empty());
        assert_eq!(Fields::Raw(&raw).get("host"), Some(&b"gw"[..]));
        assert_eq!(raw.to_map()["content-length"], "2");
        assert_eq!(req.body().size_hint().exact(), Some(2));
        assert!(simple("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n").close);
    }

    #[test]
    fn incomplete_heads_wait_for_more() {
        let mut head = Head::default();
        assert!(matches!(parse(b"", &mut head), Parse::Partial));
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nHost: a", &mut head),
            Parse::Partial
        ));
    }

    #[test]
    fn everything_unusual_goes_to_hyper() {
        for raw in [
            "GET / HTTP/1.0\r\n\r\n",
            "GET http://example.com/ HTTP/1.1\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\n\r\n",
            "CONNECT example.com:443 HTTP/1.1\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
            "POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\n{}",
            "POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n{}",
            "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
            "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
            "GARBAGE\r\n\r\n",
        ] {
            assert!(is_other(raw), "{raw:?}");
        }
        // A large body that has not arrived streams through hyper; one that is
        // all here, or small, is served here.
        assert!(is_other(
            "POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"
        ));
        assert_eq!(
            simple("POST / HTTP/1.1\r\nContent-Length: 16384\r\n\r\n").body,
            16384
        );
        let mut big = "PUT / HTTP/1.1\r\nContent-Length: 20000\r\n\r\n".to_string();
        big.push_str(&"x".repeat(20000));
        assert_eq!(simple(&big).body, 20000);
    }

    #[test]
    fn content_length_is_plain_digits() {
        assert_eq!(h1::plain_digits(b"0"), Some(0));
        assert_eq!(h1::plain_digits(b"1234"), Some(1234));
        for bad in [&b""[..], b"-1", b"1 ", b"0x10", b"1,1", b"9999999999999999"] {
            assert_eq!(h1::plain_digits(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn dates_are_imf_fixdates() {
        assert_eq!(&imf_fixdate(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT");
        let mut out = Vec::new();
        push_date(&mut out);
        assert_eq!(out.len(), 29);
        assert!(out.ends_with(b" GMT"));
    }

    #[test]
    fn framing_headers_are_the_connections_own() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let mut out = Vec::new();
        write_headers(&mut out, &headers, false);
        assert_eq!(out, b"content-type: text/plain\r\n");
        out.clear();
        write_headers(&mut out, &headers, true);
        assert_eq!(out, b"content-length: 5\r\ncontent-type: text/plain\r\n");
    }
}

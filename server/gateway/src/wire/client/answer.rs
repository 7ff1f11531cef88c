//! The upstream's answer head: parsed, its connection-level fields read and
//! dropped, the rest kept as the lines that came, and the framing of the body
//! that follows decided by RFC 9112 §6.3 (data plane).

use super::Error;
use crate::wire::h1::{Known, Runs, header_name, plain_digits, tokens};
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http::header::HeaderValue;
use http::{Method, Response, StatusCode, Version};
use std::mem::MaybeUninit;

/// An answer's head larger than this is refused (hyper's default is 400 KiB;
/// no sane upstream comes near this).
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;

/// An answer's head: its header lines that travel on, and what the ones that
/// frame the message or describe only this connection said.
pub(super) struct Head {
    pub(super) status: StatusCode,
    pub(super) version: Version,
    /// `Name: value\r\n` for each header that travels on, as it came.
    pub(super) lines: BytesMut,
    pub(super) has_date: bool,
    /// The `Content-Length`, or why it cannot be used.
    pub(super) length: Result<Option<u64>, &'static str>,
    /// `Connection` lists `close`.
    pub(super) close: bool,
    /// `Connection` lists `keep-alive` (what HTTP/1.0 needs to keep a connection).
    pub(super) keep_alive: bool,
    /// `Transfer-Encoding` was sent; whether its last coding is `chunked`.
    pub(super) chunked: Option<bool>,
}

/// An upstream answer's header lines (`Name: value\r\n` each) as they came,
/// less the hop-by-hop ones, the framing ones, and those the gateway sets
/// itself, followed by the gateway's own (its [`Stamp`](crate::wire::stamp::Stamp)), so the answer's
/// header map stays empty. Carried beside the response in an [`Answer`]: the
/// connection loop writes them out as they are, so a proxied answer's headers
/// are never built into a header map, taken apart and written again;
/// [`Answer::into_response`] makes headers of them where a header map is needed
/// (hyper's path, the router's fallback).
#[derive(Clone, Debug)]
pub struct Passed {
    pub(super) lines: Bytes,
    pub(super) has_date: bool,
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

/// What the gateway answers: a response, and for a proxied one the upstream's
/// header lines beside it. Beside, not in the response's extensions: those are
/// a hash map allocated for the one entry, and the entry boxed, on every
/// proxied request.
#[derive(Debug)]
pub struct Answer {
    pub response: Response<Body>,
    pub passed: Option<Passed>,
}

impl From<Response<Body>> for Answer {
    fn from(response: Response<Body>) -> Self {
        Answer {
            response,
            passed: None,
        }
    }
}

impl Answer {
    /// The response with the passed header lines moved into its header map,
    /// after the gateway's own, for code that writes responses from header maps.
    pub fn into_response(self) -> Response<Body> {
        let Answer {
            mut response,
            passed,
        } = self;
        let Some(passed) = passed else {
            return response;
        };
        let headers = response.headers_mut();
        for (name, value) in passed.pairs() {
            // Checked by the parser already; a line that still fails is left out.
            if let (Some(name), Ok(value)) = (
                header_name(name),
                HeaderValue::from_maybe_shared(passed.lines.slice_ref(value)),
            ) {
                headers.append(name, value);
            }
        }
        response
    }
}

/// Room in a proxied answer's lines for the gateway's own (request id, rate
/// limits, a deprecation's three), so that adding them never regrows the buffer.
const STAMP_ROOM: usize = 256;

/// Parses a complete head off the front of `buf`, or `None` if more is needed.
/// Hop-by-hop headers, those a `Connection` header names, the framing ones and
/// the ones `owned` says the gateway sets itself are read where they matter and
/// dropped; the rest are kept as lines to pass on.
pub(super) fn parse_head(
    buf: &mut BytesMut,
    owned: &dyn Fn(&[u8]) -> bool,
) -> Result<Option<Head>, Error> {
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
        // Left uninitialised: filling 100 slots (3.2 KB) before each parse cost
        // more than the parse of a typical head.
        let mut slots = [const { MaybeUninit::uninit() }; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut []);
        let src: &[u8] = buf;
        let len = match httparse::ParserConfig::default().parse_response_with_uninit_headers(
            &mut response,
            src,
            &mut slots,
        ) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if src.len() > MAX_HEAD => {
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
        // Each name is told once, here, and read again by the copy below.
        let mut kinds = [Known::Other; MAX_HEADERS];
        for (h, kind) in response.headers.iter().zip(&mut kinds) {
            *kind = Known::of(h.name.as_bytes());
            size += h.name.len() + h.value.len() + 4;
            match kind {
                Known::Connection => {
                    for token in tokens(h.value) {
                        if token.eq_ignore_ascii_case(b"close") {
                            head.close = true;
                        } else if token.eq_ignore_ascii_case(b"keep-alive") {
                            head.keep_alive = true;
                        } else {
                            named = true;
                        }
                    }
                }
                Known::TransferEncoding => {
                    if let Some(last) = tokens(h.value).last() {
                        head.chunked = Some(last.eq_ignore_ascii_case(b"chunked"));
                    } else if head.chunked.is_none() {
                        head.chunked = Some(false);
                    }
                }
                Known::ContentLength => {
                    head.length = match (head.length, plain_digits(h.value)) {
                        (Err(e), _) => Err(e),
                        (_, None) => Err("invalid upstream Content-Length"),
                        (Ok(Some(l)), Some(n)) if l != n => {
                            Err("conflicting upstream Content-Length")
                        }
                        (Ok(_), Some(n)) => Ok(Some(n)),
                    };
                }
                _ => {}
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
        let mut run = Runs::default();
        for (h, &kind) in response.headers.iter().zip(&kinds) {
            let name = h.name.as_bytes();
            if kind.hop_by_hop()
                || kind == Known::ContentLength
                || owned(name)
                || (named && connection_lists(name))
            {
                continue;
            }
            head.has_date |= kind == Known::Date;
            run.keep(src, name, h.value, &mut head.lines);
        }
        run.flush(src, &mut head.lines);
        len
    };
    bytes::Buf::advance(buf, len);
    Ok(Some(head))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    Length(u64),
    Chunked(Chunk),
    /// Read until the upstream closes; the connection ends with the message.
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

/// RFC 9112 §6.3, in order. Also says whether the connection can carry another
/// exchange afterwards.
pub(super) fn framing(method: &Method, head: &Head) -> Result<(Framing, bool), Error> {
    let mut reusable = match head.version {
        Version::HTTP_11 => !head.close,
        _ => head.keep_alive && !head.close,
    };
    let status = head.status.as_u16();
    if *method == Method::HEAD || status == 204 || status == 304 {
        // No body follows these, whatever the head says (RFC 9110 §6.4.1); but
        // an upstream that sends the body its head describes anyway would have
        // it read as the answer to the next request on the connection. Where
        // the head describes a body, the connection is not reused.
        let describes_body = head.chunked.is_some() || matches!(head.length, Ok(Some(n)) if n > 0);
        return Ok((Framing::Length(0), reusable && !describes_body));
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
    }
    #[test]
    fn kept_lines_come_out_in_one_form_however_they_came() {
        // Lines as they came run together; the others are rewritten, and a
        // dropped line in between breaks a run without leaking into it.
        let h = head(
            "HTTP/1.1 200 OK\r\nServer: up\r\nA: 1\r\nContent-Length: 0\r\nB:2\r\n\
             C: 3  \r\nD:\r\nE: 5\nF: 6\r\nG: 7\r\n\r\n",
        );
        assert_eq!(
            lines(&h),
            "Server: up\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: \r\nE: 5\r\nF: 6\r\nG: 7\r\n"
        );
        let h = head("HTTP/1.1 200 OK\nX: 1\nConnection: close\nY: 2\n\n");
        assert_eq!(lines(&h), "X: 1\r\nY: 2\r\n");
        assert!(h.close);
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
        let response = Answer {
            response,
            passed: Some(passed),
        }
        .into_response();
        let headers = response.headers();
        assert_eq!(headers["ratelimit-limit"], "100");
        assert_eq!(headers["content-type"], "application/json");
        let links: Vec<_> = headers.get_all("link").iter().collect();
        assert_eq!(links, ["<a>", "<b>"]);
    }
    #[test]
    fn framing_follows_rfc_9112() {
        let get = Method::GET;
        let length = head("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n");
        assert_eq!(framing(&get, &length).unwrap(), (Framing::Length(12), true));
        // No body follows; the head describes one, so the connection goes.
        assert_eq!(
            framing(&Method::HEAD, &length).unwrap(),
            (Framing::Length(0), false)
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
    fn a_bodiless_answer_whose_head_describes_a_body_ends_its_connection() {
        let reusable = |method: Method, raw: &str| framing(&method, &head(raw)).unwrap().1;
        assert!(!reusable(
            Method::HEAD,
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
        ));
        assert!(!reusable(
            Method::GET,
            "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
        ));
        assert!(reusable(
            Method::GET,
            "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n"
        ));
        assert!(reusable(
            Method::HEAD,
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(reusable(Method::GET, "HTTP/1.1 204 No Content\r\n\r\n"));
    }
}

//! The request head as it leaves for the upstream (data plane).

use super::Request;
use crate::wire::h1::{Known, Runs, push_framing};
use http::Method;
use http::header;

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

/// Writes the request head into `out`: `length` is the body's size, `None` for
/// a chunked one. Framing headers are the client's own: the caller's
/// `Content-Length` and `Transfer-Encoding` say how the body reached the
/// gateway, not how it leaves.
pub(super) fn encode_head(out: &mut Vec<u8>, req: &Request<'_>, length: Option<u64>) {
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
    let callers_host = req.host.is_none()
        && req.headers.known(Known::Host).is_some()
        && (req.keep)(Known::Host, host);
    if !callers_host {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(req.host.unwrap_or(req.authority.as_bytes()));
        out.extend_from_slice(b"\r\n");
    }
    let src = req.headers.source();
    let mut runs = Runs::default();
    for (known, name, value) in req.headers.iter() {
        if !(req.keep)(known, name) {
            continue;
        }
        match known {
            Known::ContentLength | Known::TransferEncoding => continue,
            Known::Host if !callers_host => continue,
            _ => runs.keep(src, name, value, out),
        }
    }
    runs.flush(src, out);
    out.extend_from_slice(req.lines);
    if !(length == Some(0) && bodiless(req.method)) {
        push_framing(out, length);
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fields::Fields;
    use crate::wire::h1::push_piece;
    use crate::wire::stamp::Stamp;
    use http::header::{HeaderMap, HeaderValue};

    #[test]
    fn request_heads_carry_their_own_framing() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("erp.local"));
        headers.insert("content-length", HeaderValue::from_static("999"));
        headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        headers.insert("x-secret", HeaderValue::from_static("stays"));
        let keep = |_: Known, name: &[u8]| name != b"x-secret";
        let post = Request {
            method: &Method::POST,
            target: &["/orders", "", "?", "x=1"],
            authority: "127.0.0.1:9000",
            headers: Fields::Map(&headers),
            keep: &keep,
            started: std::time::Instant::now(),
            host: None,
            lines: b"x-added: 1\r\nx-line: 2\r\n",
            stamp: &Stamp::new(HeaderValue::from_static("req-1")),
            timeout: std::time::Duration::from_secs(1),
            body_wait: std::time::Duration::from_secs(1),
            tls: None,
            guard: &|_, _| Ok(()),
            guard_id: 0,
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
            keep: &|_, _| true,
            started: std::time::Instant::now(),
            host: None,
            lines: b"",
            stamp: &Stamp::new(HeaderValue::from_static("req-1")),
            timeout: std::time::Duration::from_secs(1),
            body_wait: std::time::Duration::from_secs(1),
            tls: None,
            guard: &|_, _| Ok(()),
            guard_id: 0,
        };
        encode_head(&mut out, &get, Some(0));
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "GET / HTTP/1.1\r\nhost: 127.0.0.1:9000\r\n\r\n"
        );
        // The gateway's Host, when it sets one, is the only one.
        let set = Request {
            host: Some(b"erp.internal:8069"),
            ..post
        };
        encode_head(&mut out, &set, Some(2));
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "POST /orders?x=1 HTTP/1.1\r\nhost: erp.internal:8069\r\nx-added: 1\r\nx-line: 2\r\ncontent-length: 2\r\n\r\n"
        );
    }

    #[test]
    fn a_raw_heads_lines_go_as_they_came_less_the_dropped_ones() {
        use crate::wire::fields::Raw;
        use crate::wire::h1::{Span, locate};
        let text = "POST /o HTTP/1.1\r\nHost: shop\r\nX-A: 1\r\nX-B:2\r\nContent-Length: 2\r\n\
                    X-Secret: s\r\nX-C: 3\r\nTransfer-Encoding: x\r\nX-D: 4\r\n\r\n";
        let head = bytes::Bytes::from_static(text.as_bytes());
        let mut slots = [httparse::EMPTY_HEADER; 16];
        let mut parsed = httparse::Request::new(&mut slots);
        assert!(parsed.parse(&head).unwrap().is_complete());
        let mut spans = [Span::default(); 16];
        let n = locate(&head, parsed.headers, &mut spans);
        let raw = Raw::classified(head.clone(), &spans[..n]);
        let keep = |_: Known, name: &[u8]| !name.eq_ignore_ascii_case(b"x-secret");
        let post = Request {
            method: &Method::POST,
            target: &["/o"],
            authority: "127.0.0.1:9000",
            headers: Fields::Raw(&raw),
            keep: &keep,
            started: std::time::Instant::now(),
            host: Some(b"erp"),
            lines: b"x-added: 1\r\n",
            stamp: &Stamp::new(HeaderValue::from_static("req-1")),
            timeout: std::time::Duration::from_secs(1),
            body_wait: std::time::Duration::from_secs(1),
            tls: None,
            guard: &|_, _| Ok(()),
            guard_id: 0,
        };
        let mut out = Vec::new();
        encode_head(&mut out, &post, Some(2));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST /o HTTP/1.1\r\nhost: erp\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\nX-D: 4\r\n\
             x-added: 1\r\ncontent-length: 2\r\n\r\n"
        );
    }
}

//! A request's header fields, read where they are.
//!
//! The connection loop parses a head in place, and most of its fields are only
//! ever looked at twice: once by a policy that wants one of them (the key, the
//! content type) and once when the head is written upstream. Building a header
//! map of them (a hash and an insert each, the names matched against the known
//! ones, two allocations, then the drop) cost more in the gateway's profile than
//! the policies that read it. So the loop hands the head on as [`Raw`]: its
//! bytes and where each field lies in them. A request that came through hyper
//! has a header map instead; [`Fields`] reads either.
//!
//! Lookups in a raw head compare names without regard to case (as they came off
//! the wire); a head has a dozen fields or so, which a scan reads faster than a
//! hash is computed.

use super::h1::{self, Span};
use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue};

/// A parsed head's bytes and where each of its fields lies in them. Made only
/// of heads whose names and values are all valid for a header map, so that
/// [`Raw::to_map`] never fails.
#[derive(Debug, Clone)]
pub struct Raw {
    head: Bytes,
    spans: Box<[Span]>,
}

impl Raw {
    /// `None` if a name or value would not make a header map, which leaves the
    /// request to a parser that answers such heads itself.
    pub fn new(head: Bytes, spans: &[Span]) -> Option<Raw> {
        let raw = Raw {
            head,
            spans: spans.into(),
        };
        let valid = raw
            .pairs()
            .all(|(name, value)| valid_name(name) && valid_value(value));
        valid.then_some(raw)
    }

    /// Where the first field called `name` (in any case) lies.
    fn find(&self, name: &str) -> Option<Span> {
        self.spans
            .iter()
            .find(|&&(ns, ne, ..)| eq(&self.head[ns as usize..ne as usize], name))
            .copied()
    }

    fn pairs(&self) -> impl Iterator<Item = (&[u8], &[u8])> + use<'_> {
        self.spans.iter().map(|&(ns, ne, vs, ve)| {
            (
                &self.head[ns as usize..ne as usize],
                &self.head[vs as usize..ve as usize],
            )
        })
    }

    /// The fields as a header map, their values sharing the head's bytes.
    pub fn to_map(&self) -> HeaderMap {
        h1::header_map(&self.head, &self.spans).unwrap_or_default()
    }
}

/// What `http` accepts as a header name once lowercased: tchar (RFC 9110 §5.6.2).
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().fold(true, |ok, &b| ok & TCHAR[usize::from(b)])
}

/// tchar by byte value. Every byte of every name of every request is checked,
/// and a lookup is one load, where testing the byte against the list of
/// punctuation was a search of it (in the gateway's profile, about a tenth of
/// all the instructions a request took).
static TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < table.len() {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    table
};

/// What `http` accepts as a header value: visible bytes, spaces and tabs. A fold
/// without early exit, so that the compiler checks many bytes at once.
fn valid_value(value: &[u8]) -> bool {
    value.iter().fold(true, |ok, &b| {
        ok & ((b >= 0x20 && b != 0x7f) | (b == b'\t'))
    })
}

/// A request's header fields: a raw head, or a header map.
#[derive(Debug, Clone, Copy)]
pub enum Fields<'a> {
    Raw(&'a Raw),
    Map(&'a HeaderMap),
}

impl<'a> Fields<'a> {
    /// The first value of `name` (in any case).
    pub fn get(self, name: &str) -> Option<&'a [u8]> {
        match self {
            Fields::Map(map) => map.get(name).map(HeaderValue::as_bytes),
            Fields::Raw(raw) => raw
                .find(name)
                .map(|(.., vs, ve)| &raw.head[vs as usize..ve as usize]),
        }
    }

    /// The first value of `name` as text, if it is.
    pub fn text(self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The first value of `name` as a header value sharing the head's bytes.
    pub fn value(self, name: &str) -> Option<HeaderValue> {
        match self {
            Fields::Map(map) => map.get(name).cloned(),
            Fields::Raw(raw) => raw.find(name).and_then(|(.., vs, ve)| {
                HeaderValue::from_maybe_shared(raw.head.slice(vs as usize..ve as usize)).ok()
            }),
        }
    }

    /// Every value of `name` (in any case), in order.
    pub fn get_all<'n>(self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        let (map, raw) = match self {
            Fields::Map(map) => (Some(map.get_all(name).iter()), None),
            Fields::Raw(raw) => (None, Some(raw.pairs())),
        };
        let from_map = map.into_iter().flatten().map(HeaderValue::as_bytes);
        let from_raw = raw
            .into_iter()
            .flatten()
            .filter(move |(n, _)| eq(n, name))
            .map(|(_, v)| v);
        from_map.chain(from_raw)
    }

    /// Every field, in order: names as they came (a header map's in lowercase).
    pub fn iter(self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + use<'a> {
        let (map, raw) = match self {
            Fields::Map(map) => (Some(map.iter()), None),
            Fields::Raw(raw) => (None, Some(raw.pairs())),
        };
        map.into_iter()
            .flatten()
            .map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes()))
            .chain(raw.into_iter().flatten())
    }
}

/// Two names, without regard to case.
fn eq(raw: &[u8], name: &str) -> bool {
    raw.len() == name.len() && raw.eq_ignore_ascii_case(name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw head of `text` and the header map hyper would make of it.
    fn both(text: &'static str) -> (Option<Raw>, HeaderMap) {
        let head = Bytes::from_static(text.as_bytes());
        let mut slots = [httparse::EMPTY_HEADER; 16];
        let mut req = httparse::Request::new(&mut slots);
        assert!(req.parse(text.as_bytes()).unwrap().is_complete());
        let mut spans = [Span::default(); 16];
        let n = h1::locate(&head, req.headers, &mut spans);
        let raw = Raw::new(head, &spans[..n]);
        let map = raw.as_ref().map(Raw::to_map).unwrap_or_default();
        (raw, map)
    }

    #[test]
    fn a_raw_head_reads_as_its_header_map_does() {
        let (raw, map) = both(
            "GET / HTTP/1.1\r\nHost: shop\r\nX-Tag: a\r\nContent-Type: text/plain\r\nx-tag: b\r\n\r\n",
        );
        let raw = raw.unwrap();
        for fields in [Fields::Raw(&raw), Fields::Map(&map)] {
            assert_eq!(fields.get("host"), Some(&b"shop"[..]));
            assert_eq!(fields.text("content-type"), Some("text/plain"));
            assert_eq!(fields.get("X-TAG"), Some(&b"a"[..]));
            assert_eq!(fields.get_all("x-tag").collect::<Vec<_>>(), [b"a", b"b"]);
            assert_eq!(fields.value("host").unwrap(), "shop");
            assert!(fields.get("missing").is_none() && fields.value("missing").is_none());
            assert_eq!(fields.iter().count(), 4);
        }
        // The raw head keeps the names as they came; the map has them lowercase.
        let names: Vec<_> = Fields::Raw(&raw).iter().map(|(n, _)| n).collect();
        assert_eq!(names, [&b"Host"[..], b"X-Tag", b"Content-Type", b"x-tag"]);
    }

    #[test]
    fn a_head_a_header_map_would_refuse_is_not_raw() {
        // `http` takes obs-text in a value, and no control bytes but a tab.
        let raw = |text: &'static [u8]| {
            Raw::new(Bytes::from_static(text), &[(0, 3, 5, text.len() as u32)])
        };
        assert!(raw(b"X-A: caf\xc3\xa9").is_some());
        assert!(raw(b"X-A: a\x7fb").is_none());
        assert!(raw(b"X-A: a\x00b").is_none());
        assert!(valid_name(b"X-Custom_1.~") && !valid_name(b"") && !valid_name(b"a b"));
        // The table says of every byte what `http` says of it as a name.
        for b in 0..=u8::MAX {
            let ours = valid_name(&[b]);
            assert_eq!(ours, http::HeaderName::from_bytes(&[b]).is_ok(), "byte {b}");
        }
        assert!(valid_value(b"a\tb c") && !valid_value(b"a\x01b"));
    }
}

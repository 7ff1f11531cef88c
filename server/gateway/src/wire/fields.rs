//! A request's header fields, read where they are (data plane).
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
//! the wire). The names the policies ask for are [`Known`] ones, found through
//! the index the parse built; any other name is looked for by a scan (a head
//! has a dozen fields or so, which a scan reads faster than a hash is computed).

use crate::wire::h1::{self, Index, Known, Span};
use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue};

/// A parsed head's bytes and where each of its fields lies in them. Made only
/// of heads httparse parsed, whose names and values are all valid for a header
/// map, so that [`Raw::to_map`] never fails.
#[derive(Debug, Clone)]
pub struct Raw {
    head: Bytes,
    fields: Box<[Field]>,
    index: Index,
}

/// One field of a raw head: where it lies, and which known name it has (told
/// once, as the head was parsed, so that the forwarding filter and the head
/// written upstream do not tell it again).
#[derive(Debug, Clone, Copy)]
struct Field {
    span: Span,
    known: Known,
}

impl Raw {
    /// The fields of a head httparse parsed, which need no second look: the
    /// bytes it takes in a name (tchar) and in a value (tab, visible, obs-text)
    /// are the ones `http` takes (a test below holds both to it, byte by byte).
    /// Checking each again cost a tenth of the connection loop's instructions.
    /// `known` is which known name each of `spans` has.
    pub fn parsed(head: Bytes, spans: &[Span], known: &[Known]) -> Raw {
        let index = Index::of(known);
        let fields = spans
            .iter()
            .zip(known)
            .map(|(&span, &known)| Field { span, known })
            .collect();
        Raw {
            head,
            fields,
            index,
        }
    }

    /// [`Raw::parsed`], telling the names here (for the tests' own heads).
    #[cfg(test)]
    pub fn classified(head: Bytes, spans: &[Span]) -> Raw {
        let known: Vec<Known> = spans
            .iter()
            .map(|&(ns, ne, ..)| Known::of(&head[ns as usize..ne as usize]))
            .collect();
        Raw::parsed(head, spans, &known)
    }

    /// Where the first field called `name` (in any case) lies.
    fn find(&self, name: &str) -> Option<Span> {
        match Known::of(name.as_bytes()) {
            Known::Other => self
                .fields
                .iter()
                .map(|f| f.span)
                .find(|&(ns, ne, ..)| eq(&self.head[ns as usize..ne as usize], name)),
            known => self.at(known),
        }
    }

    /// Where the first field of a known name lies.
    fn at(&self, name: Known) -> Option<Span> {
        self.index
            .get(name)
            .and_then(|at| self.fields.get(at))
            .map(|f| f.span)
    }

    fn triples(&self) -> impl Iterator<Item = (Known, &[u8], &[u8])> + use<'_> {
        self.fields.iter().map(|f| {
            let (ns, ne, vs, ve) = f.span;
            (
                f.known,
                &self.head[ns as usize..ne as usize],
                &self.head[vs as usize..ve as usize],
            )
        })
    }

    /// The fields as a header map, their values sharing the head's bytes.
    pub fn to_map(&self) -> HeaderMap {
        h1::header_map(&self.head, self.fields.iter().map(|f| f.span)).unwrap_or_default()
    }
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

    /// The first value of a known name: for a raw head, through its index.
    pub fn known(self, name: Known) -> Option<&'a [u8]> {
        match self {
            Fields::Map(map) => map.get(name.as_str()).map(HeaderValue::as_bytes),
            Fields::Raw(raw) => raw
                .at(name)
                .map(|(.., vs, ve)| &raw.head[vs as usize..ve as usize]),
        }
    }

    /// The first value of a known name as text, if it is.
    pub fn text(self, name: Known) -> Option<&'a str> {
        self.known(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The first value of a known name as a header value sharing the head's
    /// bytes.
    pub fn value(self, name: Known) -> Option<HeaderValue> {
        match self {
            Fields::Map(map) => map.get(name.as_str()).cloned(),
            Fields::Raw(raw) => raw.at(name).and_then(|(.., vs, ve)| {
                HeaderValue::from_maybe_shared(raw.head.slice(vs as usize..ve as usize)).ok()
            }),
        }
    }

    /// Every value of `name` (in any case), in order.
    pub fn get_all<'n>(self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        let (map, raw) = match self {
            Fields::Map(map) => (Some(map.get_all(name).iter()), None),
            Fields::Raw(raw) => (None, Some(raw.triples())),
        };
        let from_map = map.into_iter().flatten().map(HeaderValue::as_bytes);
        let from_raw = raw
            .into_iter()
            .flatten()
            .filter(move |(_, n, _)| eq(n, name))
            .map(|(_, _, v)| v);
        from_map.chain(from_raw)
    }

    /// The bytes a raw head's fields are slices of (empty for a header map),
    /// for copying lines as they came ([`h1::Runs`]).
    pub fn source(self) -> &'a [u8] {
        match self {
            Fields::Raw(raw) => &raw.head,
            Fields::Map(_) => &[],
        }
    }

    /// Every field, in order, with which known name it has: names as they
    /// came (a header map's in lowercase).
    pub fn iter(self) -> impl Iterator<Item = (Known, &'a [u8], &'a [u8])> + use<'a> {
        let (map, raw) = match self {
            Fields::Map(map) => (Some(map.iter()), None),
            Fields::Raw(raw) => (None, Some(raw.triples())),
        };
        map.into_iter()
            .flatten()
            .map(|(n, v)| {
                let name = n.as_str().as_bytes();
                (Known::of(name), name, v.as_bytes())
            })
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
    fn both(text: &'static str) -> (Raw, HeaderMap) {
        let head = Bytes::from_static(text.as_bytes());
        let mut slots = [httparse::EMPTY_HEADER; 16];
        let mut req = httparse::Request::new(&mut slots);
        assert!(req.parse(text.as_bytes()).unwrap().is_complete());
        let mut spans = [Span::default(); 16];
        let n = h1::locate(&head, req.headers, &mut spans);
        let raw = Raw::classified(head.clone(), &spans[..n]);
        let map = raw.to_map();
        (raw, map)
    }

    #[test]
    fn a_raw_head_reads_as_its_header_map_does() {
        let (raw, map) = both(
            "GET / HTTP/1.1\r\nHost: shop\r\nX-Tag: a\r\nContent-Type: text/plain\r\nx-tag: b\r\n\r\n",
        );
        for fields in [Fields::Raw(&raw), Fields::Map(&map)] {
            assert_eq!(fields.get("host"), Some(&b"shop"[..]));
            assert_eq!(fields.text(Known::ContentType), Some("text/plain"));
            assert_eq!(fields.known(Known::Host), Some(&b"shop"[..]));
            assert_eq!(fields.get("CONTENT-type"), Some(&b"text/plain"[..]));
            assert_eq!(fields.get("X-TAG"), Some(&b"a"[..]));
            assert_eq!(fields.get_all("x-tag").collect::<Vec<_>>(), [b"a", b"b"]);
            assert_eq!(fields.value(Known::Host).unwrap(), "shop");
            assert!(fields.get("missing").is_none() && fields.value(Known::ApiKey).is_none());
            assert!(fields.known(Known::Other).is_none());
            assert_eq!(fields.iter().count(), 4);
        }
        // The raw head keeps the names as they came; the map has them lowercase.
        let names: Vec<_> = Fields::Raw(&raw).iter().map(|(k, n, _)| (k, n)).collect();
        assert_eq!(
            names,
            [
                (Known::Host, &b"Host"[..]),
                (Known::Other, b"X-Tag"),
                (Known::ContentType, b"Content-Type"),
                (Known::Other, b"x-tag")
            ]
        );
        let kinds: Vec<_> = Fields::Map(&map).iter().map(|(k, ..)| k).collect();
        assert_eq!(
            kinds,
            [Known::Host, Known::Other, Known::Other, Known::ContentType]
        );
    }

    /// What [`Raw::parsed`] relies on: a byte httparse takes in a field's name
    /// or value is one `http` takes there, and the other way round.
    #[test]
    fn httparse_takes_in_fields_what_a_header_map_takes() {
        let parses = |head: &[u8]| {
            let mut slots = [httparse::EMPTY_HEADER; 4];
            let mut req = httparse::Request::new(&mut slots);
            matches!(req.parse(head), Ok(httparse::Status::Complete(_)))
        };
        for b in 0..=u8::MAX {
            if matches!(b, b'\r' | b'\n' | b':') {
                continue;
            }
            let name = [b'x', b];
            let head = [b"GET / HTTP/1.1\r\n".as_slice(), &name, b": v\r\n\r\n"].concat();
            let in_name = http::HeaderName::from_bytes(&name).is_ok();
            assert_eq!(parses(&head), in_name, "byte {b} in a name");
            let value = [b'a', b, b'z'];
            let head = [b"GET / HTTP/1.1\r\nx: ".as_slice(), &value, b"\r\n\r\n"].concat();
            let in_value = http::HeaderValue::from_bytes(&value).is_ok();
            assert_eq!(parses(&head), in_value, "byte {b} in a value");
        }
    }
}

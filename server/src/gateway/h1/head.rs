//! Header fields: the tokens and names both legs read, where fields lie in a
//! parsed head, and numbers written as ASCII.

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};

/// `n` in decimal ASCII digits, without the formatting machinery.
pub fn push_decimal(out: &mut impl bytes::BufMut, n: u64) {
    push_digits::<10>(out, n);
}

/// `n` in lowercase hexadecimal digits (chunk sizes).
pub fn push_hex(out: &mut impl bytes::BufMut, n: u64) {
    push_digits::<16>(out, n);
}

/// The radix is a constant so that dividing by it compiles to a multiply and
/// a shift: every answer writes several numbers, and a 64-bit division by a
/// value only known at run time is one of the slowest instructions there is.
fn push_digits<const RADIX: u64>(out: &mut impl bytes::BufMut, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b"0123456789abcdef"[(n % RADIX) as usize];
        n /= RADIX;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&digits[at..]);
}

/// RFC 9110 §7.6.1: these describe one connection, never the message (compared
/// without regard to case, as they come off the wire).
pub fn hop_by_hop(name: &[u8]) -> bool {
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
pub fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|t| !t.is_empty())
}

/// A `Content-Length` value: ASCII digits only (no sign, no spaces, no list).
pub fn plain_digits(value: &[u8]) -> Option<u64> {
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
pub type Span = (u32, u32, u32, u32);

/// Records in `spans` where `headers`, parsed out of `base`, lie in it; returns
/// how many it recorded.
pub fn locate(base: &[u8], headers: &[httparse::Header<'_>], spans: &mut [Span]) -> usize {
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
    crate::gateway::policy::API_KEY,
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("x-forwarded-for"),
    HeaderName::from_static("x-forwarded-host"),
    HeaderName::from_static("x-forwarded-proto"),
    HeaderName::from_static("x-consumer-id"),
    HeaderName::from_static("x-consumer-app"),
];

pub fn header_name(raw: &[u8]) -> Option<HeaderName> {
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
pub fn header_map(head: &Bytes, spans: &[Span]) -> Option<HeaderMap> {
    let mut headers = HeaderMap::with_capacity(spans.len());
    for &(ns, ne, vs, ve) in spans {
        let name = header_name(&head[ns as usize..ne as usize])?;
        let value = HeaderValue::from_maybe_shared(head.slice(vs as usize..ve as usize)).ok()?;
        headers.append(name, value);
    }
    Some(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_without_format() {
        let mut out = Vec::new();
        for (n, radix, text) in [
            (0, 10, "0"),
            (1234, 10, "1234"),
            (u64::MAX, 10, "18446744073709551615"),
            (255, 16, "ff"),
            (0, 16, "0"),
            (u64::MAX, 16, "ffffffffffffffff"),
        ] {
            out.clear();
            match radix {
                10 => push_decimal(&mut out, n),
                _ => push_hex(&mut out, n),
            }
            assert_eq!(out, text.as_bytes());
        }
    }

    #[test]
    fn known_names_come_out_as_constants() {
        // Whatever their case, names the gateway knows are not copied.
        assert_eq!(header_name(b"X-API-Key").unwrap(), KNOWN[0]);
        assert_eq!(header_name(b"x-other").unwrap(), "x-other");
        assert!(header_name(b"bad name").is_none());
    }
}

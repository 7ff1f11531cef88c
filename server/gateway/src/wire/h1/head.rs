//! Header fields: the tokens and names both legs read, where fields lie in a
//! parsed head, and numbers written as ASCII (data plane).

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

/// The header names the gateway acts on, in either leg. Every field of every
/// head is asked about (is it framing, hop-by-hop, a credential, one the gateway
/// sets itself?), and comparing each with a dozen names showed in the profile;
/// [`Known::of`] tells a name by its length first, then compares it, a word at a
/// time, with at most two candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    Host,
    Date,
    ApiKey,
    Authorization,
    ContentType,
    ContentLength,
    TransferEncoding,
    Connection,
    KeepAlive,
    ProxyAuthenticate,
    ProxyAuthorization,
    Te,
    Trailer,
    Upgrade,
    Expect,
    RequestId,
    Forwarded,
    ForwardedFor,
    ForwardedHost,
    ForwardedProto,
    ConsumerId,
    ConsumerApp,
    Cookie,
    /// Any other name.
    Other,
}

/// Each known name, in lowercase, in the order of [`Known`]'s variants.
const NAMES: [&str; Known::COUNT] = [
    "host",
    "date",
    "x-api-key",
    "authorization",
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "x-request-id",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-consumer-id",
    "x-consumer-app",
    "cookie",
];

/// Each known name's [`words`] with, for each word, the case bit of every
/// letter in it: a name's words OR-ed with those equal the known name's exactly
/// when the two names are equal without regard to case (a byte that only
/// matches a letter with its case bit set is that letter in upper case; the
/// bytes that are not letters are compared as they are). Worked out at compile
/// time.
const KEYS: [[(u64, u64); 3]; Known::COUNT] = {
    let mut keys = [[(0, 0); 3]; Known::COUNT];
    let mut i = 0;
    while i < Known::COUNT {
        let name = NAMES[i].as_bytes();
        let mut letters = [0u8; 24];
        let mut at = 0;
        while at < name.len() {
            if name[at].is_ascii_lowercase() {
                letters[at] = 0x20;
            }
            at += 1;
        }
        let (value, case) = (
            const_words(name),
            const_words(letters.split_at(name.len()).0),
        );
        let mut w = 0;
        while w < 3 {
            keys[i][w] = (case[w], value[w]);
            w += 1;
        }
        i += 1;
    }
    keys
};

impl Known {
    /// How many names are known (`Other` aside).
    pub const COUNT: usize = Known::Other as usize;

    /// Which known name `name` is, compared without regard to case (as names
    /// come off the wire).
    pub fn of(name: &[u8]) -> Known {
        use Known::*;
        let candidates: &[Known] = match name.len() {
            2 => &[Te],
            4 => &[Host, Date],
            6 => &[Expect, Cookie],
            7 => &[Upgrade, Trailer],
            9 => &[ApiKey, Forwarded],
            10 => &[Connection, KeepAlive],
            12 => &[ContentType, RequestId],
            13 => &[Authorization, ConsumerId],
            14 => &[ContentLength, ConsumerApp],
            15 => &[ForwardedFor],
            16 => &[ForwardedHost],
            17 => &[TransferEncoding, ForwardedProto],
            18 => &[ProxyAuthenticate],
            19 => &[ProxyAuthorization],
            _ => return Other,
        };
        let words = words(name);
        let is = |k: Known| {
            let key = &KEYS[k as usize];
            (0..3).all(|w| words[w] | key[w].0 == key[w].1)
        };
        candidates.iter().copied().find(|&k| is(k)).unwrap_or(Other)
    }

    /// The name in lowercase (empty for `Other`).
    pub fn as_str(self) -> &'static str {
        NAMES.get(self as usize).copied().unwrap_or_default()
    }

    /// RFC 9110 §7.6.1: these describe one connection, never the message.
    pub fn hop_by_hop(self) -> bool {
        use Known::*;
        matches!(
            self,
            Connection
                | KeepAlive
                | ProxyAuthenticate
                | ProxyAuthorization
                | Te
                | Trailer
                | TransferEncoding
                | Upgrade
        )
    }
}

/// A name of 2 to 24 bytes as three words: overlapping windows that together
/// cover every byte (the first and last 8, and the middle 8 of a longer one; 4
/// or 2 bytes for a short one), so that two names of the same length are equal
/// exactly when their words are.
fn words(name: &[u8]) -> [u64; 3] {
    let Some((width, middle)) = windows(name.len()) else {
        return [0; 3];
    };
    [
        load(name, 0, width),
        if middle { load(name, 8, 8) } else { 0 },
        load(name, name.len() - width, width),
    ]
}

/// [`words`] at compile time.
const fn const_words(name: &[u8]) -> [u64; 3] {
    let Some((width, middle)) = windows(name.len()) else {
        return [0; 3];
    };
    [
        const_load(name, 0, width),
        if middle { const_load(name, 8, 8) } else { 0 },
        const_load(name, name.len() - width, width),
    ]
}

/// The width of the first and last window for a name of `len` bytes, and
/// whether it needs the middle one; `None` beyond 2 to 24 bytes.
const fn windows(len: usize) -> Option<(usize, bool)> {
    match len {
        2..=3 => Some((2, false)),
        4..=7 => Some((4, false)),
        8..=24 => Some((8, len > 16)),
        _ => None,
    }
}

/// `width` bytes of `bytes` from `at`, little-endian: one load each.
fn load(bytes: &[u8], at: usize, width: usize) -> u64 {
    match width {
        8 => bytes
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes),
        4 => bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, |b| u64::from(u32::from_le_bytes(b))),
        _ => bytes
            .get(at..at + 2)
            .and_then(|b| b.try_into().ok())
            .map_or(0, |b| u64::from(u16::from_le_bytes(b))),
    }
}

/// [`load`] for compile time, a byte at a time.
const fn const_load(bytes: &[u8], at: usize, width: usize) -> u64 {
    let mut word = 0;
    let mut i = 0;
    while i < width {
        word |= (bytes[at + i] as u64) << (8 * i);
        i += 1;
    }
    word
}

/// Where the first field of each [`Known`] name lies among a head's fields, so
/// that the policies' lookups (the key, the content type, the host…) are an
/// index rather than a scan.
#[derive(Clone, Copy, Debug)]
pub struct Index([u8; Known::COUNT]);

impl Default for Index {
    fn default() -> Self {
        Index([u8::MAX; Known::COUNT])
    }
}

impl Index {
    /// Notes that field number `at` is called `name`, unless an earlier one was.
    #[inline]
    fn note(&mut self, name: Known, at: usize) {
        if let Some(slot) = self.0.get_mut(name as usize)
            && *slot == u8::MAX
            && at < usize::from(u8::MAX)
        {
            *slot = at as u8;
        }
    }

    /// The index of fields whose names are `known`, in order.
    pub fn of(known: &[Known]) -> Index {
        let mut index = Index::default();
        for (at, &name) in known.iter().enumerate() {
            index.note(name, at);
        }
        index
    }

    /// Which field is the first called `name`; `None` if none is, or if `name`
    /// is not a known one (the caller then has to look).
    pub fn get(&self, name: Known) -> Option<usize> {
        let at = *self.0.get(name as usize)?;
        (at != u8::MAX).then_some(usize::from(at))
    }
}

/// Header lines passed on from a parsed head, copied in runs: a line that came
/// as `Name: value\r\n` exactly is copied with its neighbours in one piece,
/// where writing each line's four parts cost four small copies (the fields a
/// head passes on usually lie together, the dropped ones around them). Any
/// other line is written in that form part by part.
#[derive(Default)]
pub struct Runs {
    /// The pending run's start and end in the head's bytes.
    pending: Option<(usize, usize)>,
}

impl Runs {
    /// Writes the field `name: value` to `out`; where both are slices of `src`,
    /// as they came, it joins the pending run instead.
    pub fn keep(&mut self, src: &[u8], name: &[u8], value: &[u8], out: &mut impl bytes::BufMut) {
        let base = src.as_ptr() as usize;
        let start = (name.as_ptr() as usize).wrapping_sub(base);
        let name_end = start.wrapping_add(name.len());
        let value_start = (value.as_ptr() as usize).wrapping_sub(base);
        let end = value_start.wrapping_add(value.len());
        // Offsets of slices from elsewhere wrap around or run past `src`:
        // those fail these checks, and are written part by part.
        let as_it_came = start <= name_end
            && name_end.checked_add(2) == Some(value_start)
            && value_start <= end
            && src.get(name_end..value_start) == Some(b": ")
            && src.get(end..end.saturating_add(2)) == Some(b"\r\n");
        if as_it_came {
            match &mut self.pending {
                Some((_, pending_end)) if *pending_end == start => *pending_end = end + 2,
                _ => {
                    self.flush(src, out);
                    self.pending = Some((start, end + 2));
                }
            }
            return;
        }
        self.flush(src, out);
        out.put_slice(name);
        out.put_slice(b": ");
        out.put_slice(value);
        out.put_slice(b"\r\n");
    }

    /// Copies the pending run to `out`; call once the last field is kept.
    pub fn flush(&mut self, src: &[u8], out: &mut impl bytes::BufMut) {
        if let Some((start, end)) = self.pending.take() {
            out.put_slice(&src[start..end]);
        }
    }
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

/// The header partners present their API key in.
pub const API_KEY_HEADER: &str = "x-api-key";
/// Looked up by name rather than by string, which would parse the string each time.
pub const API_KEY: HeaderName = HeaderName::from_static(API_KEY_HEADER);

/// Header names the gateway reads or writes that the `http` crate has no
/// constant for. A name parsed from the wire that is not one of its constants
/// is copied into an allocation of its own; these are matched first instead.
static KNOWN: [HeaderName; 7] = [
    API_KEY,
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
pub fn header_map(head: &Bytes, spans: impl ExactSizeIterator<Item = Span>) -> Option<HeaderMap> {
    let mut headers = HeaderMap::with_capacity(spans.len());
    for (ns, ne, vs, ve) in spans {
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
    fn known_names_are_told_in_any_case() {
        let all = [
            ("Host", Known::Host),
            ("date", Known::Date),
            ("X-API-Key", Known::ApiKey),
            ("authorization", Known::Authorization),
            ("Content-Type", Known::ContentType),
            ("content-length", Known::ContentLength),
            ("Transfer-Encoding", Known::TransferEncoding),
            ("connection", Known::Connection),
            ("Keep-Alive", Known::KeepAlive),
            ("proxy-authenticate", Known::ProxyAuthenticate),
            ("Proxy-Authorization", Known::ProxyAuthorization),
            ("TE", Known::Te),
            ("trailer", Known::Trailer),
            ("Upgrade", Known::Upgrade),
            ("expect", Known::Expect),
            ("X-Request-Id", Known::RequestId),
            ("Forwarded", Known::Forwarded),
            ("x-forwarded-for", Known::ForwardedFor),
            ("X-Forwarded-Host", Known::ForwardedHost),
            ("x-forwarded-proto", Known::ForwardedProto),
            ("X-Consumer-Id", Known::ConsumerId),
            ("x-consumer-app", Known::ConsumerApp),
            ("Cookie", Known::Cookie),
        ];
        assert_eq!(all.len(), Known::COUNT);
        for (name, known) in all {
            assert_eq!(Known::of(name.as_bytes()), known, "{name}");
        }
        for other in [
            "",
            "hosts",
            "x-api-keys",
            "content-typ",
            "x-forwarded-port",
            "ratelimit-limit",
        ] {
            assert_eq!(Known::of(other.as_bytes()), Known::Other, "{other}");
        }
        let hop: Vec<_> = all
            .iter()
            .filter(|(_, k)| k.hop_by_hop())
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        assert_eq!(
            hop,
            [
                "transfer-encoding",
                "connection",
                "keep-alive",
                "proxy-authenticate",
                "proxy-authorization",
                "te",
                "trailer",
                "upgrade"
            ]
        );
    }

    #[test]
    fn runs_copy_lines_as_they_came_and_rewrite_the_rest() {
        let src = b"A: 1\r\nB: 2\r\nC:3\r\nD: 4\r\nE: 5\r\n";
        let mut out = Vec::new();
        let mut runs = Runs::default();
        // A, B (one run), C (rewritten), E (D skipped: a run of its own).
        runs.keep(src, &src[0..1], &src[3..4], &mut out);
        runs.keep(src, &src[6..7], &src[9..10], &mut out);
        runs.keep(src, &src[12..13], &src[14..15], &mut out);
        runs.keep(src, &src[23..24], &src[26..27], &mut out);
        // Slices from elsewhere are written part by part, whatever lies there.
        let elsewhere = b"Z: 9\r\n";
        runs.keep(src, &elsewhere[0..1], &elsewhere[3..4], &mut out);
        runs.keep(&[], &src[0..1], &src[3..4], &mut out);
        runs.flush(src, &mut out);
        assert_eq!(out, b"A: 1\r\nB: 2\r\nC: 3\r\nE: 5\r\nZ: 9\r\nA: 1\r\n");
    }

    #[test]
    fn an_index_points_at_the_first_field_of_each_known_name() {
        // Host: a, X-Tag: 1, host: b, X-API-Key: k
        let index = Index::of(&[Known::Host, Known::Other, Known::Host, Known::ApiKey]);
        assert_eq!(index.get(Known::Host), Some(0));
        assert_eq!(index.get(Known::ApiKey), Some(3));
        assert_eq!(index.get(Known::ContentType), None);
        assert_eq!(index.get(Known::Other), None);
    }

    #[test]
    fn known_names_come_out_as_constants() {
        // Whatever their case, names the gateway knows are not copied.
        assert_eq!(header_name(b"X-API-Key").unwrap(), KNOWN[0]);
        assert_eq!(header_name(b"x-other").unwrap(), "x-other");
        assert!(header_name(b"bad name").is_none());
    }
}

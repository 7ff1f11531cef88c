//! The headers the gateway sets on every answer, whoever gives it: the request
//! id, a deprecated version's announcement, and the caller's rate-limit state (data plane).
//!
//! The pipeline fills a [`Stamp`] in as it learns these. An upstream's own
//! copies of them never pass (the client asks [`Stamp::owns`] of each line it
//! reads), and on a proxied answer the stamp is written as header lines beside
//! the upstream's ([`Stamp::write`]), so the common answer never gets a header
//! map, and its numbers never become allocated header values. A refusal, which
//! has a header map anyway, gets them there ([`Stamp::apply`]).

use bytes::BufMut;
use http::header::{HeaderMap, HeaderName, HeaderValue};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// The `RateLimit-*` fields (draft-ietf-httpapi-ratelimit-headers) of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the burst is fully available again.
    pub reset: u64,
}

/// See the module header. Borrows the announcement from the snapshot the
/// request was served from.
#[derive(Debug, Clone)]
pub struct Stamp<'s> {
    request_id: HeaderValue,
    announcement: &'s [(HeaderName, HeaderValue)],
    rate: Option<Rate>,
}

impl<'s> Stamp<'s> {
    pub fn new(request_id: HeaderValue) -> Self {
        Stamp {
            request_id,
            announcement: &[],
            rate: None,
        }
    }

    pub fn request_id(&self) -> &HeaderValue {
        &self.request_id
    }

    /// The version's lifecycle headers (none unless it is deprecated).
    pub fn announce(&mut self, headers: &'s [(HeaderName, HeaderValue)]) {
        self.announcement = headers;
    }

    pub fn rate(&mut self, rate: Rate) {
        self.rate = Some(rate);
    }

    /// Whether the gateway sets `name` (in any case, as it came off the wire)
    /// on this answer. Rate-limit fields are the gateway's only when it limited
    /// the request: a public operation's upstream may send its own.
    pub fn owns(&self, name: &[u8]) -> bool {
        let is = |known: &HeaderName| known.as_str().as_bytes().eq_ignore_ascii_case(name);
        is(&REQUEST_ID)
            || (self.rate.is_some() && [LIMIT, REMAINING, RESET].iter().any(is))
            || self.announcement.iter().any(|(n, _)| is(n))
    }

    /// Appends the headers as `name: value\r\n` lines.
    pub fn write(&self, out: &mut impl BufMut) {
        line(out, REQUEST_ID.as_str(), self.request_id.as_bytes());
        for (name, value) in self.announcement {
            line(out, name.as_str(), value.as_bytes());
        }
        if let Some(rate) = self.rate {
            for (name, n) in [
                (LIMIT, u64::from(rate.limit)),
                (REMAINING, u64::from(rate.remaining)),
                (RESET, rate.reset),
            ] {
                out.put_slice(name.as_str().as_bytes());
                out.put_slice(b": ");
                crate::wire::h1::push_decimal(out, n);
                out.put_slice(b"\r\n");
            }
        }
    }

    /// Sets the headers in `headers`, in place of any of the same names.
    pub fn apply(self, headers: &mut HeaderMap) {
        headers.insert(REQUEST_ID, self.request_id);
        for (name, value) in self.announcement {
            headers.insert(name.clone(), value.clone());
        }
        if let Some(rate) = self.rate {
            headers.insert(LIMIT, HeaderValue::from(rate.limit));
            headers.insert(REMAINING, HeaderValue::from(rate.remaining));
            headers.insert(RESET, HeaderValue::from(rate.reset));
        }
    }
}

fn line(out: &mut impl BufMut, name: &str, value: &[u8]) {
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    out.put_slice(value);
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp<'s>(announcement: &'s [(HeaderName, HeaderValue)], rate: Option<Rate>) -> Stamp<'s> {
        let mut stamp = Stamp::new(HeaderValue::from_static("req-1"));
        stamp.announce(announcement);
        if let Some(rate) = rate {
            stamp.rate(rate);
        }
        stamp
    }

    const RATE: Rate = Rate {
        limit: 100,
        remaining: 0,
        reset: 12_345_678_901,
    };

    #[test]
    fn lines_and_header_map_say_the_same() {
        let announcement = [(
            HeaderName::from_static("deprecation"),
            HeaderValue::from_static("@1700000000"),
        )];
        let stamp = stamp(&announcement, Some(RATE));
        let mut out = Vec::new();
        stamp.write(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "x-request-id: req-1\r\ndeprecation: @1700000000\r\nratelimit-limit: 100\r\n\
             ratelimit-remaining: 0\r\nratelimit-reset: 12345678901\r\n"
        );
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("forged"));
        headers.insert(LIMIT, HeaderValue::from_static("1"));
        stamp.apply(&mut headers);
        assert_eq!(headers.len(), 5);
        assert_eq!(headers[REQUEST_ID], "req-1");
        assert_eq!(headers["deprecation"], "@1700000000");
        assert_eq!(headers[LIMIT], "100");
        assert_eq!(headers[REMAINING], "0");
        assert_eq!(headers[RESET], "12345678901");
    }

    #[test]
    fn owns_what_it_sets_in_any_case() {
        let announcement = [(
            HeaderName::from_static("sunset"),
            HeaderValue::from_static("x"),
        )];
        let limited = stamp(&announcement, Some(RATE));
        for name in [
            "X-Request-Id",
            "SUNSET",
            "ratelimit-limit",
            "RateLimit-Reset",
        ] {
            assert!(limited.owns(name.as_bytes()), "{name}");
        }
        assert!(!limited.owns(b"ratelimit-policy"));
        assert!(!limited.owns(b"x-request"));
        // Without a limit of its own, the upstream's rate-limit fields pass.
        let public = stamp(&[], None);
        assert!(public.owns(b"x-request-id"));
        assert!(!public.owns(b"RateLimit-Limit"));
        assert!(!public.owns(b"sunset"));
    }
}

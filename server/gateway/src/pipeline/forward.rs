//! The upstream leg: a pooled keep-alive HTTP/1.1 client, hop-by-hop headers
//! stripped both ways, the forwarding headers added, the consumer's identity
//! passed on (and forged copies removed), bodies streamed in both directions (data plane).

use crate::pipeline::problem::Refusal;
use crate::pipeline::resilience::{Breakers, RetryBudget, State};
use crate::snapshot::Upstream;
use crate::wire::client::{self, Outgoing};
use crate::wire::fields::Fields;
use crate::wire::h1;
use crate::wire::stamp::Stamp;
use axum::body::Body;
use http::header::{self, HeaderValue};
use http::{Request, StatusCode};
use std::net::SocketAddr;
use std::time::Duration;

/// The caller's headers that do not travel upstream (names in any case, as they
/// came): hop-by-hop ones, the credentials (they stay at the gateway), and those
/// the gateway sets itself, so that forged copies cannot pass as the gateway's.
fn stays(name: h1::Known) -> bool {
    use h1::Known::*;
    name.hop_by_hop()
        || matches!(
            name,
            ApiKey
                | Authorization
                | Host
                | ConsumerId
                | ConsumerApp
                | RequestId
                | Forwarded
                | ForwardedFor
                | ForwardedHost
                | ForwardedProto
        )
}

/// Other names by which callers claim to be someone else to upstreams that
/// trust them (`X-Forwarded-Port`, `-Prefix`, `-Server`, nginx's `X-Real-IP`):
/// they travel only from a trusted proxy. Only names of these lengths are
/// compared, so other headers pay a length check.
fn claims_origin(name: &[u8]) -> bool {
    const PREFIX: &[u8] = b"x-forwarded-";
    (name.len() > PREFIX.len() && name[..PREFIX.len()].eq_ignore_ascii_case(PREFIX))
        || name.eq_ignore_ascii_case(b"x-real-ip")
}

/// Whether a `Connection` header names `name`, which makes it hop-by-hop too
/// (RFC 9110 §7.6.1).
fn connection_names(fields: Fields<'_>, name: &[u8]) -> bool {
    fields
        .get_all(header::CONNECTION.as_str())
        .flat_map(h1::tokens)
        .any(|token| token.eq_ignore_ascii_case(name))
}

/// The `X-Forwarded-For` and `Forwarded` (RFC 7239) header lines for a request
/// from `addr`, written as they go on the wire: the address is formatted once,
/// on the stack, and the two values never become strings or header values of
/// their own (both showed in the gateway's profile). `prior` holds the values a
/// trusted proxy in front sent, which these extend; from anyone else the
/// caller's own copies are dropped, so that nobody can pass as another address.
/// The parts that come from the caller are header values already, so they hold
/// no line breaks.
fn forwarding(out: &mut Vec<u8>, addr: SocketAddr, host: &[u8], prior: Prior<'_>, https: bool) {
    let mut text = [0u8; 48];
    let ip = ip_text(addr.ip(), &mut text).as_bytes();
    let before = |v: Option<&[u8]>| v.map_or(0, <[u8]>::len);
    out.reserve(2 * ip.len() + host.len() + before(prior.for_) + before(prior.forwarded) + 64);
    out.extend_from_slice(b"x-forwarded-for: ");
    if let Some(prior) = prior.for_ {
        out.extend_from_slice(prior);
        out.extend_from_slice(b", ");
    }
    out.extend_from_slice(ip);
    out.extend_from_slice(b"\r\nforwarded: ");
    if let Some(prior) = prior.forwarded {
        out.extend_from_slice(prior);
        out.extend_from_slice(b", ");
    }
    out.extend_from_slice(b"for=");
    if addr.is_ipv6() {
        out.extend_from_slice(b"\"[");
        out.extend_from_slice(ip);
        out.extend_from_slice(b"]\"");
    } else {
        out.extend_from_slice(ip);
    }
    out.extend_from_slice(b";host=\"");
    // The caller chose the Host header: as a quoted-string (RFC 9110 §5.6.4) its
    // quotes and backslashes are escaped, so it cannot add parameters of its own.
    for &b in host {
        if matches!(b, b'"' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.extend_from_slice(if https {
        b"\";proto=https\r\n"
    } else {
        b"\";proto=http\r\n"
    });
}

/// What a trusted proxy in front of the gateway said about the caller.
#[derive(Default, Clone, Copy)]
struct Prior<'a> {
    for_: Option<&'a [u8]>,
    forwarded: Option<&'a [u8]>,
}

/// An address as text, written into `buf`. IPv4, the usual case, is written
/// digit by digit: the formatting machinery cost a thousand instructions per
/// request in the gateway's profile. IPv6 is rare enough to leave to it.
fn ip_text(ip: std::net::IpAddr, buf: &mut [u8; 48]) -> &str {
    let len = match ip {
        std::net::IpAddr::V4(v4) => {
            let mut at = 0;
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buf[at] = b'.';
                    at += 1;
                }
                if octet >= 100 {
                    buf[at] = b'0' + octet / 100;
                    at += 1;
                }
                if octet >= 10 {
                    buf[at] = b'0' + octet / 10 % 10;
                    at += 1;
                }
                buf[at] = b'0' + octet % 10;
                at += 1;
            }
            at
        }
        std::net::IpAddr::V6(v6) => {
            use std::io::Write;
            // Its text is at most 45 bytes (39 as Rust writes it).
            let mut cursor = std::io::Cursor::new(&mut buf[..]);
            let _ = write!(cursor, "{v6}");
            cursor.position() as usize
        }
    };
    std::str::from_utf8(&buf[..len]).unwrap_or_default()
}

/// Writes a header line: `start` is the name with its `": "`, a constant the
/// compiler copies inline.
#[inline]
fn push_line(out: &mut Vec<u8>, start: &[u8], value: &[u8]) {
    out.extend_from_slice(start);
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Who the upstream is told the caller is.
pub struct Identity<'a> {
    pub consumer: &'a HeaderValue,
    pub application: &'a HeaderValue,
}

pub struct Outbound<'a> {
    pub upstream: Option<&'a Upstream>,
    /// The path below the version's base path, with the query.
    pub rest: &'a str,
    pub query: Option<&'a str>,
    pub client_addr: Option<SocketAddr>,
    /// The caller is a proxy the operator trusts: its forwarding headers are
    /// extended rather than replaced.
    pub trusted_proxy: bool,
    /// The caller's header fields (the request itself comes without them).
    pub fields: Fields<'a>,
    pub identity: Option<Identity<'a>>,
    pub timeout: Duration,
    /// How long a streamed request body may pause between two pieces.
    pub body_wait: Duration,
    /// When the request arrived.
    pub started: std::time::Instant,
    /// The body, when it is known in full (buffered for validation, or empty):
    /// it leaves in the head's write, and only such requests can be retried.
    pub known_body: Option<axum::body::Bytes>,
    /// The headers the gateway sets on the answer: the upstream's copies go.
    pub stamp: &'a Stamp<'a>,
    /// How `https` upstreams are reached.
    pub tls: &'a std::sync::Arc<rustls::ClientConfig>,
    /// Where upstream traffic may go.
    pub policy: &'a steward_shared::upstream::UpstreamPolicy,
    /// The operation reads cookies: the caller's `Cookie` goes upstream.
    pub cookies: bool,
    /// The caller came over TLS.
    pub https: bool,
}

/// Sends the request upstream and streams the answer back, through the circuit
/// breaker, retrying an idempotent request once (budget permitting) when the
/// upstream could not be reached or answered 502, 503 or 504.
pub async fn forward(
    breakers: &Breakers,
    budget: &RetryBudget,
    req: Request<Body>,
    out: Outbound<'_>,
) -> Result<client::Answer, Refusal> {
    let upstream = out.upstream.ok_or_else(|| {
        Refusal::new(
            StatusCode::BAD_GATEWAY,
            "upstream-unreachable",
            "Upstream unreachable",
            "the version's upstream URL is not a valid URL",
        )
    })?;
    let (parts, body) = req.into_parts();
    let fields = out.fields;
    // The caller's Host as it came: a parsed field value, so it holds no line
    // breaks.
    let original_host = fields.known(h1::Known::Host);
    let mut lines = Vec::with_capacity(256);
    if let Some(id) = out.identity {
        push_line(&mut lines, b"x-consumer-id: ", id.consumer.as_bytes());
        push_line(&mut lines, b"x-consumer-app: ", id.application.as_bytes());
    }
    push_line(
        &mut lines,
        b"x-request-id: ",
        out.stamp.request_id().as_bytes(),
    );
    let trusted = out.trusted_proxy;
    let prior = |name| if trusted { fields.known(name) } else { None };
    if let Some(addr) = out.client_addr {
        let prior = Prior {
            for_: prior(h1::Known::ForwardedFor),
            forwarded: prior(h1::Known::Forwarded),
        };
        forwarding(
            &mut lines,
            addr,
            original_host.unwrap_or_default(),
            prior,
            out.https,
        );
    }
    // A trusted proxy saw the caller's own host and scheme; the gateway saw its.
    if let Some(host) = prior(h1::Known::ForwardedHost).or(original_host) {
        push_line(&mut lines, b"x-forwarded-host: ", host);
    }
    let own: &[u8] = if out.https { b"https" } else { b"http" };
    let proto = prior(h1::Known::ForwardedProto).unwrap_or(own);
    push_line(&mut lines, b"x-forwarded-proto: ", proto);
    // Rare: a Connection header naming more hop-by-hop headers.
    let named = fields.known(h1::Known::Connection).is_some();
    let cookies = out.cookies;
    let keep = |known, name: &[u8]| {
        !(stays(known)
            || known == h1::Known::Cookie && !cookies
            || known == h1::Known::Other && !trusted && claims_origin(name)
            || named && connection_names(fields, name))
    };
    let query = out.query.map_or(["", ""], |q| ["?", q]);
    let target = [&*upstream.path, out.rest, query[0], query[1]];
    let request = client::Request {
        method: &parts.method,
        target: &target,
        authority: &upstream.authority,
        headers: fields,
        keep: &keep,
        host: upstream.host.as_ref().map(HeaderValue::as_bytes),
        lines: &lines,
        started: out.started,
        stamp: out.stamp,
        timeout: out.timeout,
        body_wait: out.body_wait,
        tls: upstream.tls.then_some(out.tls),
        guard: &|host, addr| out.policy.check(host, addr),
        guard_id: out.policy.id(),
    };
    // The unit of circuit breaking.
    let key = &*upstream.authority;
    budget.deposit();
    // Only a body known in full can be sent twice, and only for a method where
    // repeating the request changes nothing.
    let again = if client::idempotent(&parts.method) {
        out.known_body.clone()
    } else {
        None
    };
    let mut body = Some(match out.known_body {
        Some(bytes) => Outgoing::Full(bytes),
        None => Outgoing::Stream(body),
    });
    let mut attempt = 0;
    loop {
        attempt += 1;
        let pass = match breakers.admit(key, std::time::Instant::now) {
            Ok(pass) => pass,
            Err(wait) => {
                return Err(Refusal::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "circuit-open",
                    "Upstream circuit open",
                    "the upstream failed repeatedly; the gateway is giving it time to recover",
                )
                .with_header(header::RETRY_AFTER, wait.max(1).to_string()));
            }
        };
        let this_body = body
            .take()
            .unwrap_or_else(|| Outgoing::Full(again.clone().unwrap_or_default()));
        let answer = client::send(&request, this_body).await;
        let (failure, retryable) = match &answer {
            // The caller's body broke off or stalled: nothing is known of the
            // upstream, so the pass goes back unsettled.
            Err(e) if e.is_client() => {
                drop(pass);
                return Err(Refusal::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "request-body-stalled",
                    "Request body stalled",
                    format!(
                        "the request body broke off or paused for more than {} ms",
                        out.body_wait.as_millis()
                    ),
                ));
            }
            // Refused by policy: nothing was sent, and the upstream is not to blame.
            Err(client::Error::Refused(why)) => {
                drop(pass);
                return Err(Refusal::new(
                    StatusCode::BAD_GATEWAY,
                    "upstream-refused",
                    "Upstream not allowed",
                    format!("{why}; an admin can allow it on the console's Gateways page"),
                ));
            }
            // Another try would only wait as long again.
            Err(e) if e.is_timeout() => (true, false),
            Err(_) => (true, true),
            Ok(r) => {
                let s = r.response.status().as_u16();
                (s >= 500, matches!(s, 502..=504))
            }
        };
        pass.settle(!failure, std::time::Instant::now);
        // A retry into a circuit that just opened would only turn the upstream's
        // answer into a 503; the client is better served by the real one.
        if retryable
            && again.is_some()
            && attempt == 1
            && breakers.state(key) == State::Closed
            && budget.try_spend()
        {
            continue;
        }
        let answer = match answer {
            Err(e) if e.is_timeout() => {
                return Err(Refusal::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    "upstream-timeout",
                    "Upstream timeout",
                    format!(
                        "the upstream did not answer within {} ms",
                        out.timeout.as_millis()
                    ),
                ));
            }
            Err(e) => {
                tracing::warn!(error = %e, upstream = %key, "upstream request failed");
                return Err(Refusal::new(
                    StatusCode::BAD_GATEWAY,
                    "upstream-unreachable",
                    "Upstream unreachable",
                    if e.is_connect() {
                        "the gateway could not connect to the upstream"
                    } else {
                        "the upstream connection failed"
                    },
                ));
            }
            Ok(r) => r,
        };
        // The client has already dropped the answer's hop-by-hop headers.
        return Ok(answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarding_headers_for_both_address_families() {
        let lines = |addr: &str, host: &str, prior: Prior<'_>| {
            let mut out = Vec::new();
            forwarding(
                &mut out,
                addr.parse().unwrap(),
                host.as_bytes(),
                prior,
                false,
            );
            String::from_utf8(out).unwrap()
        };
        let none = Prior::default();
        assert_eq!(
            lines("10.1.20.3:5000", "shop.example", none),
            "x-forwarded-for: 10.1.20.3\r\n\
             forwarded: for=10.1.20.3;host=\"shop.example\";proto=http\r\n"
        );
        let from_proxy = Prior {
            for_: Some(b"203.0.113.9"),
            forwarded: Some(b"for=203.0.113.9;proto=https"),
        };
        assert_eq!(
            lines("[2001:db8::17]:443", "h", from_proxy),
            "x-forwarded-for: 203.0.113.9, 2001:db8::17\r\n\
             forwarded: for=203.0.113.9;proto=https, for=\"[2001:db8::17]\";host=\"h\";proto=http\r\n"
        );
        // A forged Host cannot smuggle a parameter into Forwarded.
        assert!(
            lines("10.1.20.3:5000", "shop\";for=1.2.3.4", none)
                .ends_with("forwarded: for=10.1.20.3;host=\"shop\\\";for=1.2.3.4\";proto=http\r\n")
        );
        // The longest text an address formats to fits the stack buffer.
        let longest = "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:1";
        assert!(lines(longest, "", none).starts_with(&format!(
            "x-forwarded-for: {}\r\n",
            longest.parse::<SocketAddr>().unwrap().ip()
        )));
    }

    #[test]
    fn only_trusted_proxies_may_claim_an_origin() {
        for name in ["X-Forwarded-Port", "x-forwarded-prefix", "X-Real-IP"] {
            assert!(claims_origin(name.as_bytes()), "{name}");
        }
        for name in ["x-forwarded-", "x-real-ips", "x-request-id", "forwarded"] {
            assert!(!claims_origin(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn credentials_hop_by_hop_and_the_gateways_own_fields_stay() {
        for name in [
            "X-API-Key",
            "authorization",
            "Host",
            "x-consumer-id",
            "X-Consumer-App",
            "x-request-id",
            "X-Forwarded-For",
            "x-forwarded-host",
            "X-Forwarded-Proto",
            "Forwarded",
            "Connection",
            "keep-alive",
            "TE",
            "Transfer-Encoding",
            "upgrade",
            "Proxy-Authorization",
        ] {
            assert!(stays(h1::Known::of(name.as_bytes())), "{name}");
        }
        for name in [
            "content-type",
            "accept",
            "x-api-keys",
            "x-consumer",
            "forwarded-for",
        ] {
            assert!(!stays(h1::Known::of(name.as_bytes())), "{name}");
        }
    }

    #[test]
    fn addresses_write_as_std_formats_them() {
        let mut buf = [0u8; 48];
        for ip in [
            "0.0.0.0",
            "9.10.99.100",
            "127.0.0.1",
            "255.255.255.255",
            "::1",
            "::ffff:10.0.0.1",
        ] {
            let parsed: std::net::IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(parsed, &mut buf), parsed.to_string());
        }
    }
}

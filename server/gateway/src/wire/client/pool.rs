//! Idle upstream connections, one pool per worker thread (data plane).

use super::stream::Stream;
use super::{Error, READ_CHUNK};
use crate::FastMap;
use bytes::BytesMut;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// Idle connections older than this are closed rather than reused; below the
/// usual upstream keep-alive timeouts (nginx: 75 s), so the gateway lets go first.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_IDLE_PER_HOST: usize = 512;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// One upstream connection with its buffers, which it keeps from one exchange
/// to the next.
pub(super) struct Conn {
    pub(super) io: Stream,
    /// The pool's key: the upstream's `host:port`, with `tls` telling the two
    /// schemes' pools apart.
    pub(super) key: Box<str>,
    pub(super) tls: bool,
    /// The upstream policy its address was checked under.
    pub(super) guarded: u64,
    /// What was read and not yet consumed; empty between exchanges.
    pub(super) read: BytesMut,
    pub(super) write: Vec<u8>,
    /// The exchange's deadline, kept from one exchange to the next: moving a
    /// registered timer later is a store, where a timer per exchange took the
    /// time wheel's lock to register and again to cancel (about 600
    /// instructions a request in the gateway's profile).
    pub(super) deadline: Pin<Box<Sleep>>,
    /// When its latest exchange began, which is what its idle time counts
    /// from: a little earlier than the exchange's end, so a connection is let
    /// go a little early, never late, and the pool reads no clock of its own.
    pub(super) used: Instant,
}

impl Conn {
    /// An idle connection has nothing to read: readiness means the upstream
    /// closed it (or wrote out of turn). This reads the event loop's state
    /// without a system call.
    fn looks_alive(&self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        self.io.tcp().poll_read_ready(&mut cx).is_pending()
    }
}

/// Idle connections by upstream, each queue oldest first with when it went idle.
type Idle = FastMap<Box<str>, VecDeque<(Instant, Conn)>>;

thread_local! {
    /// One pool per thread: on the thread-per-core workers a request, its upstream
    /// connection and the body that returns it all stay on one thread.
    /// Plain connections first, TLS ones second: one upstream may be reached both ways.
    static IDLE: RefCell<[Idle; 2]> = RefCell::new(Default::default());
}

/// An idle connection to `key` (over TLS if `tls`) for an exchange beginning `now`.
pub(super) fn checkout(key: &str, tls: bool, guarded: u64, now: Instant) -> Option<Conn> {
    IDLE.with_borrow_mut(|idle| {
        let queue = idle[usize::from(tls)].get_mut(key)?;
        // Most recently used first: it is the least likely to have been closed.
        while let Some((since, mut conn)) = queue.pop_back() {
            if now.saturating_duration_since(since) < IDLE_TIMEOUT
                && conn.guarded == guarded
                && conn.looks_alive()
            {
                conn.used = now;
                return Some(conn);
            }
        }
        None
    })
}

pub(super) fn release(conn: Conn) {
    // Bytes after the end of a message mean the two sides disagree on framing.
    if !conn.read.is_empty() {
        return;
    }
    let now = conn.used;
    IDLE.with_borrow_mut(|idle| {
        let idle = &mut idle[usize::from(conn.tls)];
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

/// Connects to `authority` (over TLS with `tls`) for an exchange that began
/// `now`, with `deadline` set on the connection for it. The TLS handshake
/// checks the upstream's certificate against the host name it was reached by.
pub(super) async fn connect(
    authority: &str,
    tls: Option<&Arc<rustls::ClientConfig>>,
    guard: &super::Guard<'_>,
    guarded: u64,
    now: Instant,
    deadline: tokio::time::Instant,
) -> Result<Conn, Error> {
    let timed_out = || Error::Connect(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
    let (host, port) = host_port(authority, if tls.is_some() { 443 } else { 80 });
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, connect_allowed(host, port, guard))
        .await
        .map_err(|_| timed_out())??;
    // The head and a small body leave in one segment; Nagle would hold the next.
    tcp.set_nodelay(true).map_err(Error::Connect)?;
    let io = match tls {
        None => Stream::Plain(tcp),
        Some(config) => {
            let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|_| {
                Error::Connect(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the upstream's host is not a valid TLS server name",
                ))
            })?;
            let connector = tokio_rustls::TlsConnector::from(config.clone());
            let handshake = connector.connect(name, tcp);
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, handshake)
                .await
                .map_err(|_| timed_out())?
                .map_err(Error::Connect)?;
            Stream::Tls(Box::new(stream))
        }
    };
    Ok(Conn {
        io,
        key: authority.into(),
        tls: tls.is_some(),
        guarded,
        read: BytesMut::with_capacity(READ_CHUNK),
        write: Vec::with_capacity(1024),
        deadline: Box::pin(tokio::time::sleep_until(deadline)),
        used: now,
    })
}

/// Resolves `host` and connects to the first of its addresses that `guard`
/// allows, so that the address checked is the address used: a name cannot
/// pass the check and then resolve elsewhere.
async fn connect_allowed(
    host: &str,
    port: u16,
    guard: &super::Guard<'_>,
) -> Result<TcpStream, Error> {
    let mut refused = None;
    let mut failed = None;
    for addr in tokio::net::lookup_host((host, port))
        .await
        .map_err(Error::Connect)?
    {
        if let Err(why) = guard(host, addr) {
            refused.get_or_insert(why);
            continue;
        }
        match TcpStream::connect(addr).await {
            Ok(tcp) => return Ok(tcp),
            Err(e) => failed = Some(e),
        }
    }
    Err(match (failed, refused) {
        (Some(e), _) => Error::Connect(e),
        (None, Some(why)) => Error::Refused(why),
        (None, None) => Error::Connect(io::Error::new(
            io::ErrorKind::NotFound,
            "the upstream's host resolved to no address",
        )),
    })
}

/// An authority's host as `connect` takes it (IPv6 literals without their
/// brackets) and its port, `default` when it names none.
fn host_port(authority: &str, default: u16) -> (&str, u16) {
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
    (host, port.and_then(|p| p.parse().ok()).unwrap_or(default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_split_into_host_and_port() {
        assert_eq!(host_port("127.0.0.1:9000", 80), ("127.0.0.1", 9000));
        assert_eq!(host_port("erp.internal", 80), ("erp.internal", 80));
        assert_eq!(host_port("erp.internal", 443), ("erp.internal", 443));
        assert_eq!(host_port("[::1]:8080", 80), ("::1", 8080));
        assert_eq!(host_port("[2001:db8::7]", 80), ("2001:db8::7", 80));
    }
}

//! The gateway's listener. HTTP/1.1 only, so no protocol sniffing per connection,
//! `TCP_NODELAY` on every accepted socket (a proxy must not let Nagle hold back
//! the end of a response), and a graceful shutdown that lets in-flight requests
//! finish. Each connection is served by `connection` (data plane).
//!
//! [`serve_on_workers`] runs it thread-per-core, the way nginx runs its workers:
//! each thread has its own single-threaded runtime, its own copy of the listening
//! socket and (see `forward`) its own upstream pool. A request, its upstream
//! connection and that connection's task then all live on one thread, so proxying
//! never wakes another core or takes a work-stealing scheduler's locks, which on
//! a busy gateway cost more than the whole policy pipeline.

use crate::wire::client::Answer;
pub use crate::wire::connection::Timeouts;
use crate::wire::fields::Raw;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower::ServiceExt;

/// How long in-flight requests may take to finish once shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);

/// What the listener allows: connections at once, in all and from one source
/// (an IPv4 address, or an IPv6 /64), and how long each may keep it waiting.
/// A client that opens connections and sends nothing (slow-loris), or stops
/// reading its answers, holds at most its own share, for at most the timeouts.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub per_source: usize,
    pub timeouts: Timeouts,
    /// Serve TLS with this configuration ([`crate::wire::tls::server_config`]);
    /// the handshake must finish within the head timeout.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 10_000,
            per_source: 512,
            timeouts: Timeouts::default(),
            tls: None,
        }
    }
}

/// The count of open connections, in all and by source, that every worker shares.
#[derive(Debug)]
struct Gate {
    limits: Limits,
    total: AtomicUsize,
    /// Taken once per connection, never per request.
    sources: std::sync::Mutex<crate::FastMap<std::net::IpAddr, usize>>,
}

/// A connection's place in the [`Gate`], given back when it ends.
#[derive(Debug)]
struct Admitted {
    gate: Arc<Gate>,
    source: std::net::IpAddr,
}

impl Gate {
    fn new(limits: Limits) -> Arc<Gate> {
        Arc::new(Gate {
            limits,
            total: AtomicUsize::new(0),
            sources: Default::default(),
        })
    }

    /// A place for a connection from `peer`, if it is within the limits.
    fn enter(self: &Arc<Self>, peer: std::net::IpAddr) -> Option<Admitted> {
        if self.total.fetch_add(1, Ordering::Relaxed) >= self.limits.max_connections {
            self.total.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        let source = steward_shared::source::of(peer);
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        let open = sources.entry(source).or_insert(0);
        if *open >= self.limits.per_source {
            drop(sources);
            self.total.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        *open += 1;
        Some(Admitted {
            gate: self.clone(),
            source,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.gate.total.fetch_sub(1, Ordering::Relaxed);
        let mut sources = self.gate.sources.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(open) = sources.get_mut(&self.source) {
            *open -= 1;
            if *open == 0 {
                sources.remove(&self.source);
            }
        }
    }
}

/// Said, best effort, to a connection over the limits before it is closed.
const OVER_LIMIT: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\
retry-after: 1\r\ncontent-length: 0\r\n\r\n";

/// Tokio's timer wakes its own event loop (an eventfd write, then a wasted turn
/// of `epoll_wait`) whenever a timer is set to fire before the earliest deadline
/// the loop last parked with. Every proxied request sets two (hyper's header
/// read timeout, the upstream timeout), and a worker that has just gone idle
/// parks with none, so one request in five paid that wake in the gateway's
/// profile. A timer that always fires within `TICK` keeps the parked deadline
/// near: longer timers never wake the loop, and an idle worker turns 20 times a
/// second.
const TICK: Duration = Duration::from_millis(50);

/// What a listener serves: each request with the address of its peer. A
/// request the connection loop parsed comes with its header fields in `raw`
/// and an empty header map; one that came through hyper, with its map.
///
/// The answer may borrow the app: a connection owns its copy and awaits each
/// answer in turn, so serving a request need not touch a reference count
/// that every worker shares.
pub trait App: Clone + Send + Sync + 'static {
    fn call(
        &self,
        req: http::Request<Body>,
        raw: Option<Raw>,
        peer: SocketAddr,
    ) -> impl Future<Output = Answer> + Send + use<'_, Self>;
}

impl App for Router {
    fn call(
        &self,
        mut req: http::Request<Body>,
        raw: Option<Raw>,
        peer: SocketAddr,
    ) -> impl Future<Output = Answer> + Send + use<'_> {
        if let Some(raw) = raw {
            *req.headers_mut() = raw.to_map();
        }
        req.extensions_mut().insert(ConnectInfo(peer));
        let router = self.clone();
        async move {
            match router.oneshot(req).await {
                Ok(response) => Answer::from(response),
                Err(never) => match never {},
            }
        }
    }
}

pub async fn serve(
    listener: TcpListener,
    app: impl App,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_share(listener, app, shutdown, None, Gate::new(limits)).await
}

/// A connection on its way to another worker, with its place in the gate.
type Handover = (std::net::TcpStream, SocketAddr, Admitted);

/// How many connections each worker serves, and how to pass one to another.
/// Every worker's event loop hears of each new connection, and whichever calls
/// `accept` first gets it: left alone, a burst of connections (a client's pool
/// opening) splits at random, as unevenly as three to one in the benchmark, and
/// the busier worker then sets both the throughput and the tail latency. So a
/// worker that accepts while another serves fewer connections hands the new
/// one over; it costs a message per connection, nothing per request.
#[derive(Debug)]
struct Balance {
    active: Box<[Count]>,
    inboxes: Box<[mpsc::UnboundedSender<Handover>]>,
}

/// One worker's count, alone on its cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Count(AtomicUsize);

impl Balance {
    /// The balance for `workers`, with each worker's inbox.
    fn new(workers: usize) -> (Arc<Self>, Vec<mpsc::UnboundedReceiver<Handover>>) {
        let (inboxes, receivers): (Vec<_>, Vec<_>) =
            (0..workers).map(|_| mpsc::unbounded_channel()).unzip();
        let balance = Balance {
            active: (0..workers).map(|_| Count::default()).collect(),
            inboxes: inboxes.into(),
        };
        (Arc::new(balance), receivers)
    }

    /// The worker that should serve a connection `me` accepted: the one with
    /// the fewest, `me` on a tie. Counts it there.
    fn assign(&self, me: usize) -> usize {
        let count = |n: usize| self.active[n].0.load(Ordering::Relaxed);
        let mut best = me;
        for n in 0..self.active.len() {
            if count(n) < count(best) {
                best = n;
            }
        }
        self.active[best].0.fetch_add(1, Ordering::Relaxed);
        best
    }
}

/// A connection counted in its worker's share until it ends.
struct Counted(Option<(Arc<Balance>, usize)>);

impl Drop for Counted {
    fn drop(&mut self) {
        if let Some((balance, me)) = &self.0 {
            balance.active[*me].0.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// One worker's share of the gateway, or the whole of it when `share` is
/// `None`: this worker's number, the balance, and its inbox.
type Share = (usize, Arc<Balance>, mpsc::UnboundedReceiver<Handover>);

async fn serve_share(
    listener: TcpListener,
    app: impl App,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    mut share: Option<Share>,
    gate: Arc<Gate>,
) -> std::io::Result<()> {
    let timeouts = gate.limits.timeouts;
    let tls = gate.limits.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let (stop, stopping) = watch::channel(false);
    // Every connection holds a sender; the channel closes once all have ended.
    let (alive, mut drained) = mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        let handed = async {
            match share.as_mut() {
                Some((_, _, inbox)) => inbox.recv().await,
                None => std::future::pending().await,
            }
        };
        let (stream, addr, counted, admitted) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, addr)) => {
                    let Some(admitted) = gate.enter(addr.ip()) else {
                        let _ = stream.try_write(OVER_LIMIT);
                        continue;
                    };
                    match &share {
                        None => (stream, addr, Counted(None), admitted),
                        Some((me, balance, _)) => {
                            let to = balance.assign(*me);
                            if to != *me {
                                // Should the handover fail, the connection is
                                // dropped with it (the client reconnects), and
                                // so is its place in the other worker's count.
                                let sent = stream.into_std().map(|stream| {
                                    balance.inboxes[to].send((stream, addr, admitted)).is_ok()
                                });
                                if !matches!(sent, Ok(true)) {
                                    drop(Counted(Some((balance.clone(), to))));
                                }
                                continue;
                            }
                            (stream, addr, Counted(Some((balance.clone(), *me))), admitted)
                        }
                    }
                }
                Err(e) => {
                    // Out of descriptors, typically: back off instead of spinning.
                    tracing::warn!(error = %e, "gateway accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            Some((stream, addr, admitted)) = handed => {
                // Already counted here by the worker that accepted it.
                let counted = share.as_ref().map(|(me, balance, _)| (balance.clone(), *me));
                let counted = Counted(counted);
                match TcpStream::from_std(stream) {
                    Ok(stream) => (stream, addr, counted, admitted),
                    Err(_) => continue,
                }
            }
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let stopping = stopping.clone();
        let alive = alive.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => crate::wire::connection::run(stream, addr, app, stopping, timeouts).await,
                Some(acceptor) => {
                    // A handshake that fails or dawdles has nothing to serve.
                    let handshake = acceptor.accept(stream);
                    if let Ok(Ok(stream)) = tokio::time::timeout(timeouts.head, handshake).await {
                        crate::wire::connection::run(stream, addr, app, stopping, timeouts).await;
                    }
                }
            }
            drop(counted);
            drop(admitted);
            drop(alive);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(alive);
    tokio::select! {
        _ = drained.recv() => {}
        () = tokio::time::sleep(DRAIN) => {}
    }
    Ok(())
}

/// How many gateway workers `requested` means: 0 is one per CPU core.
pub fn worker_count(requested: usize) -> usize {
    match requested {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// Serves `app` on `workers` threads, each running [`serve`] on a duplicate of
/// `listener` in its own current-thread runtime. Every worker's event loop
/// watches the one listening socket; whichever is free accepts, so a busy worker
/// takes fewer new connections. Returns once `shutdown` resolves and every worker
/// has drained, or with the first worker's error. (Should this function return
/// early, the dropped `stop` sender ends the workers' shutdown wait just the same.)
pub async fn serve_on_workers(
    listener: TcpListener,
    workers: usize,
    app: impl App,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let socket = listener.into_std()?;
    let gate = Gate::new(limits);
    let (balance, mut inboxes) = Balance::new(workers.max(1));
    let (stop, stopped) = watch::channel(false);
    let (exit_tx, mut exits) = mpsc::unbounded_channel::<std::io::Result<()>>();
    for n in 0..workers.max(1) {
        let socket = socket.try_clone()?;
        let share = Some((n, balance.clone(), inboxes.remove(0)));
        let gate = gate.clone();
        let app = app.clone();
        let mut stopped = stopped.clone();
        let exit = exit_tx.clone();
        std::thread::Builder::new()
            .name(format!("gateway-{n}"))
            .spawn(move || {
                let result = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .and_then(|runtime| {
                        runtime.block_on(async move {
                            tokio::spawn(async {
                                let mut tick = tokio::time::interval(TICK);
                                tick.set_missed_tick_behavior(
                                    tokio::time::MissedTickBehavior::Delay,
                                );
                                loop {
                                    tick.tick().await;
                                }
                            });
                            let stop = async move {
                                let _ = stopped.wait_for(|s| *s).await;
                            };
                            let listener = TcpListener::from_std(socket)?;
                            serve_share(listener, app, stop, share, gate).await
                        })
                    });
                let _ = exit.send(result);
            })?;
    }
    drop(exit_tx);
    drop(socket);
    tokio::pin!(shutdown);
    let mut first_error = None;
    let mut running = workers.max(1);
    tokio::select! {
        () = &mut shutdown => {}
        exit = exits.recv() => {
            // A worker stopped on its own: it could not start its runtime or
            // listen. Stop the others rather than serve at reduced capacity.
            running -= 1;
            first_error = exit.and_then(Result::err);
        }
    }
    let _ = stop.send(true);
    while running > 0 {
        match exits.recv().await {
            Some(result) => {
                running -= 1;
                if let (None, Err(e)) = (&first_error, result) {
                    first_error = Some(e);
                }
            }
            None => break,
        }
    }
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_source_gets_its_share_of_connections() {
        let gate = Gate::new(Limits {
            max_connections: 5,
            per_source: 2,
            ..Limits::default()
        });
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let a1 = gate.enter(ip("10.0.0.1")).expect("first");
        let _a2 = gate.enter(ip("10.0.0.1")).expect("second");
        assert!(gate.enter(ip("10.0.0.1")).is_none(), "over its share");
        // One IPv6 /64 is one source, however it varies the rest.
        let _b1 = gate.enter(ip("2001:db8:1:2::1")).expect("v6");
        let _b2 = gate.enter(ip("2001:db8:1:2::ffff")).expect("v6, same /64");
        assert!(gate.enter(ip("2001:db8:1:2:ab::1")).is_none());
        let _c = gate.enter(ip("10.0.0.9")).expect("the fifth in all");
        assert!(gate.enter(ip("10.0.0.10")).is_none(), "over the total");
        drop(a1);
        assert!(gate.enter(ip("10.0.0.1")).is_some(), "a place given back");
    }

    #[test]
    fn connections_go_to_the_worker_with_the_fewest() {
        let (balance, _inboxes) = Balance::new(2);
        assert_eq!(balance.assign(1), 1, "a tie stays where it was accepted");
        assert_eq!(balance.assign(1), 0);
        assert_eq!(balance.assign(1), 1);
        let held = Counted(Some((balance.clone(), 1)));
        assert_eq!(balance.assign(0), 0);
        drop(held);
        assert_eq!(
            balance.assign(0),
            1,
            "an ended connection gives its place back"
        );
    }
}

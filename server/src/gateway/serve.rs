//! The gateway's listener. HTTP/1.1 only, so no protocol sniffing per connection,
//! `TCP_NODELAY` on every accepted socket (a proxy must not let Nagle hold back
//! the end of a response), and a graceful shutdown that lets in-flight requests
//! finish. Each connection is served by `connection`.
//!
//! [`serve_on_workers`] runs it thread-per-core, the way nginx runs its workers:
//! each thread has its own single-threaded runtime, its own copy of the listening
//! socket and (see `forward`) its own upstream pool. A request, its upstream
//! connection and that connection's task then all live on one thread, so proxying
//! never wakes another core or takes a work-stealing scheduler's locks, which on
//! a busy gateway cost more than the whole policy pipeline.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tower::ServiceExt;

/// How long in-flight requests may take to finish once shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);

/// Tokio's timer wakes its own event loop (an eventfd write, then a wasted turn
/// of `epoll_wait`) whenever a timer is set to fire before the earliest deadline
/// the loop last parked with. Every proxied request sets two (hyper's header
/// read timeout, the upstream timeout), and a worker that has just gone idle
/// parks with none, so one request in five paid that wake in the gateway's
/// profile. A timer that always fires within `TICK` keeps the parked deadline
/// near: longer timers never wake the loop, and an idle worker turns 20 times a
/// second.
const TICK: Duration = Duration::from_millis(50);

/// What a listener serves: each request with the address of its peer.
pub trait App: Clone + Send + Sync + 'static {
    fn call(
        &self,
        req: http::Request<Body>,
        peer: SocketAddr,
    ) -> impl Future<Output = Response> + Send + use<Self>;
}

impl App for Router {
    fn call(
        &self,
        mut req: http::Request<Body>,
        peer: SocketAddr,
    ) -> impl Future<Output = Response> + Send + use<> {
        req.extensions_mut().insert(ConnectInfo(peer));
        let router = self.clone();
        async move {
            match router.oneshot(req).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
    }
}

pub async fn serve(
    listener: TcpListener,
    app: impl App,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopping) = watch::channel(false);
    // Every connection holds a sender; the channel closes once all have ended.
    let (alive, mut drained) = mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, typically: back off instead of spinning.
                    tracing::warn!(error = %e, "gateway accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let stopping = stopping.clone();
        let alive = alive.clone();
        tokio::spawn(async move {
            super::connection::run(stream, addr, app, stopping).await;
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
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let socket = listener.into_std()?;
    let (stop, stopped) = watch::channel(false);
    let (exit_tx, mut exits) = mpsc::unbounded_channel::<std::io::Result<()>>();
    for n in 0..workers.max(1) {
        let socket = socket.try_clone()?;
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
                            let listener = TcpListener::from_std(socket)?;
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
                            serve(listener, app, stop).await
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

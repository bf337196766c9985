//! Accepting connections and stopping: what `axum::serve` does, with the one guard it leaves
//! out, a deadline for a request's headers (hyper has it, but only given a timer, which
//! `axum::serve` does not give): without it a client that sends half a header holds its
//! connection, and a stop's drain, for ever.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::AppState;

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and lets
/// requests in flight finish for up to `drain`, or until `now` resolves (the second signal:
/// [`Signals::count`]); then it returns, leaving those still running to the runtime, which the
/// caller ends. Either way it returns `Ok`: a drained stop is a clean one.
///
/// A client has `header_timeout` to send a request's headers, the first request's and each
/// next one's on a kept-alive connection; then its connection is closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    now: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
    header_timeout: Duration,
) -> io::Result<()> {
    // Each connection holds a receiver: the sender sees them all gone once every connection
    // has closed, and its one message asks them to finish what they are answering and close.
    let (stop, stopping) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    if !is_the_connections_own(&e) {
                        // Out of file descriptors, say: wait rather than spin.
                        tracing::error!("cannot accept a connection: {e}");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(
            router
                .clone()
                .map_request(|request: Request<Incoming>| request.map(Body::new)),
        );
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let mut connection = pin!(builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades());
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    drop(stopping);
    tracing::info!(
        "stopping: no new connections; {} open, given {drain:?} to finish their requests",
        connections(stop.receiver_count())
    );
    let _ = stop.send(());
    tokio::select! {
        () = stop.closed() => {}
        () = tokio::time::sleep(drain) => {
            tracing::warn!(
                "{} still open after {drain:?} (--shutdown-timeout) dropped",
                connections(stop.receiver_count())
            );
        }
        () = now => {
            tracing::warn!(
                "stopped at the second signal: {} still open dropped",
                connections(stop.receiver_count())
            );
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// `n` connections, in words.
fn connections(n: usize) -> String {
    match n {
        1 => "1 connection".to_owned(),
        n => format!("{n} connections"),
    }
}

/// Errors of one connection, which end it and not the server.
fn is_the_connections_own(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Counts Ctrl-C and SIGTERM from [`Signals::listen`] on: the first asks for a stop, the
/// second for one at once. One listener counts them all, so a signal that comes between two
/// waits is not lost, and "the second signal" is the second, whatever waited for the first.
#[derive(Clone, Debug)]
pub struct Signals(watch::Receiver<u32>);

impl Signals {
    /// Starts counting, on a task of the current runtime (whose handlers are in place when
    /// this returns).
    pub fn listen() -> Signals {
        let (count, counted) = watch::channel(0u32);
        let mut next = Next::new();
        tokio::spawn(async move {
            loop {
                next.signal().await;
                count.send_modify(|n| *n += 1);
            }
        });
        Signals(counted)
    }

    /// Resolves once `n` signals have come (at once if they already have).
    pub async fn count(mut self, n: u32) {
        if self.0.wait_for(|&seen| seen >= n).await.is_err() {
            // The counting task is gone with the runtime: no signal will come.
            std::future::pending::<()>().await;
        }
    }
}

/// The signals that stop the server, each kept registered between waits.
struct Next {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Next {
    #[cfg(unix)]
    fn new() -> Next {
        use tokio::signal::unix::{signal, SignalKind};
        Next {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    #[cfg(not(unix))]
    fn new() -> Next {
        Next {}
    }

    /// The next Ctrl-C or SIGTERM.
    #[cfg(unix)]
    async fn signal(&mut self) {
        async fn recv(stream: &mut Option<tokio::signal::unix::Signal>) {
            let received = match stream {
                Some(s) => s.recv().await.is_some(),
                None => false,
            };
            if !received {
                // Not registered, or closed: this one never comes.
                std::future::pending::<()>().await;
            }
        }
        tokio::select! {
            () = recv(&mut self.interrupt) => {}
            () = recv(&mut self.terminate) => {}
        }
    }

    /// The next Ctrl-C.
    #[cfg(not(unix))]
    async fn signal(&mut self) {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Resolves when the server is to stop accepting connections: at the first of `signals`, or
/// with a `delay`, that long after it. Meanwhile readiness says not ready
/// ([`AppState::start_stopping`]) and every request is still answered, new connections'
/// included, so that a load balancer that polls readiness stops sending requests before
/// connections are refused. The second signal ends the delay, and the stop with it
/// ([`serve`]'s `now`).
pub async fn stop_signal(state: Arc<AppState>, delay: Duration, signals: Signals) {
    signals.clone().count(1).await;
    state.start_stopping();
    if delay.is_zero() {
        return;
    }
    tracing::info!(
        "stopping in {delay:?} (--shutdown-delay): readiness says not ready, requests are still answered"
    );
    tokio::select! {
        () = tokio::time::sleep(delay) => {}
        () = signals.count(2) => {}
    }
}

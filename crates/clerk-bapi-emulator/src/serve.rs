//! The server loop: accepts connections on the emulator's listener and serves the router over
//! HTTP/1.1 with a deadline on request heads, so a client that trickles its headers (or leaves a
//! kept-alive connection idle) cannot hold a connection forever. (`axum::serve` has no such knob,
//! hence hyper's own connection builder.) On shutdown it stops accepting, lets each connection
//! finish its request, and returns once every connection has ended.

use crate::conn::EmulatorListener;
use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Default time a client has to send a request's head (and its body, see the guard).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves once `stop` says so (or its sender is gone). Holds no `watch::Ref` across an await.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

pub(crate) async fn serve(mut listener: EmulatorListener, router: Router, mut stop: watch::Receiver<bool>, header_timeout: Duration) {
    let mut connections = JoinSet::new();
    loop {
        // Reap finished connections so the set stays as small as the live ones.
        while connections.try_join_next().is_some() {}
        let (io, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped(&mut stop) => break,
        };
        let handle = io.handle();
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(handle.clone());
            router.clone().oneshot(req.map(Body::new))
        });
        let mut stop = stop.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
            let conn = builder.serve_connection(TokioIo::new(io), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stopped(&mut stop) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    while connections.join_next().await.is_some() {}
}

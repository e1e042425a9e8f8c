//! Listening sockets: accept connections up to `maxConnections` and serve each in a task.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use crate::codec::Codec;

use super::conn;
use super::context::Shared;
use super::route::Router;

/// Everything a connection accepted on one listener needs.
#[derive(Debug)]
pub(crate) struct ListenerCtx {
    /// The listener's name, for logs.
    pub(crate) name: Arc<str>,
    /// The application protocol's name.
    pub(crate) protocol: Arc<str>,
    /// Frames and answers the protocol.
    pub(crate) codec: Arc<dyn Codec>,
    /// The largest frame accepted.
    pub(crate) max_frame: usize,
    /// Routes and rate limit.
    pub(crate) router: Router,
    /// Settings, metrics and lifecycle.
    pub(crate) shared: Arc<Shared>,
}

/// Accepts until draining starts; connections over the limit are closed at once.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    ctx: Arc<ListenerCtx>,
    connections: Arc<Semaphore>,
    tracker: TaskTracker,
) {
    let shared = ctx.shared.clone();
    loop {
        let accepted = tokio::select! {
            _ = shared.draining.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => match connections.clone().try_acquire_owned() {
                Ok(permit) => {
                    let _ = stream.set_nodelay(true);
                    tracing::debug!(listener = %ctx.name, %peer, "accepted");
                    tracker.spawn(conn::serve(stream, ctx.clone(), permit));
                }
                Err(_) => {
                    shared.metrics.downstream_rejected.fetch_add(1, Relaxed);
                    tracing::warn!(listener = %ctx.name, %peer, "maxConnections reached; closing");
                }
            },
            Err(e) => {
                // Out of file descriptors and similar: back off instead of spinning.
                tracing::warn!(listener = %ctx.name, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    tracing::info!(listener = %ctx.name, "stopped accepting");
}

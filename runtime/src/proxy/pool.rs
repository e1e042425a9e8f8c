//! Upstream connections: requests from many downstream connections multiplexed over a few
//! upstream connections per endpoint, with request ids rewritten so responses map back.

use std::collections::HashMap;
use std::io;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::codec::Codec;
use crate::metadata::{MessageType, Metadata};
use crate::mutation::Mutation;
use crate::reply::{ErrorKind, ReplyError};
use crate::wire::Encoded;

use super::context::Shared;
use super::idle::Usage;
use super::io::{FrameReader, Parts, write_loop};

/// An upstream response: the frame and its decoded metadata.
pub(crate) type Response = (Bytes, Metadata);

type Waiter = oneshot::Sender<Result<Response, ReplyError>>;

/// The connections to one endpoint, opened on first use and replaced when they close
/// (also when they idle out: see [`super::idle`]).
#[derive(Debug)]
pub(crate) struct Pool {
    address: Arc<str>,
    codec: Arc<dyn Codec>,
    max_frame: usize,
    slots: Vec<tokio::sync::Mutex<Option<Arc<UpstreamConn>>>>,
    next: AtomicUsize,
    shared: Arc<Shared>,
}

impl Pool {
    /// A pool for `address` (`host:port`) speaking `codec`.
    pub(crate) fn new(
        address: Arc<str>,
        codec: Arc<dyn Codec>,
        max_frame: usize,
        shared: Arc<Shared>,
    ) -> Pool {
        let slots = (0..shared.settings.upstream_connections.max(1))
            .map(|_| tokio::sync::Mutex::new(None))
            .collect();
        Pool {
            address,
            codec,
            max_frame,
            slots,
            next: AtomicUsize::new(0),
            shared,
        }
    }

    /// The endpoint's address.
    pub(crate) fn address(&self) -> &Arc<str> {
        &self.address
    }

    /// A lease on an open connection, connecting when the chosen slot has none, or has one
    /// that closed or was retired for idling.
    pub(crate) async fn get(&self) -> io::Result<Lease> {
        let i = self.next.fetch_add(1, Relaxed) % self.slots.len().max(1);
        let Some(slot) = self.slots.get(i) else {
            return Err(io::Error::other("pool has no slots"));
        };
        let mut slot = slot.lock().await;
        if let Some(lease) = slot.as_ref().and_then(Lease::try_new) {
            return Ok(lease);
        }
        // Under the slot lock, so callers that found the same retired connection share one
        // fresh connection instead of each opening their own.
        let lease = self.connect().await?;
        *slot = Some(lease.0.clone());
        Ok(lease)
    }

    /// Opens a connection, already leased to the caller.
    async fn connect(&self) -> io::Result<Lease> {
        let metrics = &self.shared.metrics;
        let timeout = self.shared.settings.connect_timeout;
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(&*self.address)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                metrics.upstream_connect_failures.fetch_add(1, Relaxed);
                return Err(e);
            }
            Err(_) => {
                metrics.upstream_connect_failures.fetch_add(1, Relaxed);
                return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"));
            }
        };
        let _ = stream.set_nodelay(true);
        metrics.upstream_connects.fetch_add(1, Relaxed);
        metrics.upstream_connections.fetch_add(1, Relaxed);
        tracing::debug!(upstream = %self.address, "upstream connected");
        Ok(Lease(UpstreamConn::start(
            stream,
            self.codec.clone(),
            self.max_frame,
            self.shared.clone(),
        )))
    }
}

/// A request's use of an upstream connection: while any lease is held the connection is not
/// closed for idling, and dropping the last one starts its idle time.
#[derive(Debug)]
pub(crate) struct Lease(Arc<UpstreamConn>);

impl Lease {
    /// A lease on `conn`, unless it has closed or been retired for idling.
    fn try_new(conn: &Arc<UpstreamConn>) -> Option<Lease> {
        let open = !conn.closed.is_cancelled() && conn.usage.try_lease();
        open.then(|| Lease(conn.clone()))
    }
}

impl Deref for Lease {
    type Target = UpstreamConn;

    fn deref(&self) -> &UpstreamConn {
        &self.0
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.0.usage.release();
    }
}

/// One upstream connection: a writer task, a reader task, and the requests awaiting answers.
#[derive(Debug)]
pub(crate) struct UpstreamConn {
    tx: mpsc::Sender<Parts>,
    pending: Mutex<HashMap<u64, Waiter>>,
    next_id: AtomicU64,
    closed: CancellationToken,
    codec: Arc<dyn Codec>,
    /// Leases and idle time; shared with the writer task, which closes the connection on idle.
    usage: Arc<Usage>,
}

impl UpstreamConn {
    /// Starts the connection's tasks; the connection comes back leased once, to its opener.
    fn start(
        stream: TcpStream,
        codec: Arc<dyn Codec>,
        max_frame: usize,
        shared: Arc<Shared>,
    ) -> Arc<UpstreamConn> {
        let (rd, wr) = stream.into_split();
        let (tx, rx) = mpsc::channel(shared.settings.buffer);
        let conn = Arc::new(UpstreamConn {
            tx,
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            closed: CancellationToken::new(),
            codec: codec.clone(),
            usage: Arc::new(Usage::leased_once()),
        });
        let closed = conn.closed.clone();
        // The idle timer runs in the writer, so a retired connection still writes what was
        // queued before it retired (oneway requests release their lease once queued), then
        // sends FIN; cancelling `closed` afterwards ends the reader.
        let idle = idle_close(conn.usage.clone(), shared.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = write_loop(wr, rx, idle) => {}
                _ = closed.cancelled() => {}
            }
            closed.cancel();
        });
        let reader = FrameReader::new(rd, codec, max_frame);
        tokio::spawn(read_loop(
            Arc::downgrade(&conn),
            conn.closed.clone(),
            reader,
            shared,
        ));
        conn
    }

    /// Sends a request with a fresh request id and waits for its response.
    ///
    /// Cancel-safe: dropping the future forgets the request, and a late response is dropped.
    pub(crate) async fn call(
        &self,
        frame: &Bytes,
        mutation: &Mutation,
    ) -> Result<Response, ReplyError> {
        let id = self.next_id.fetch_add(1, Relaxed);
        let parts = self.encode(frame, mutation, Some(id))?;
        let (tx, rx) = oneshot::channel();
        self.lock_pending().insert(id, tx);
        let _forget = Forget { conn: self, id };
        // Checked after inserting, so a concurrent close either sees the waiter or we see it.
        if self.closed.is_cancelled() || self.tx.send(parts).await.is_err() {
            return Err(closed());
        }
        rx.await.unwrap_or_else(|_| Err(closed()))
    }

    /// Sends a request that expects no response.
    pub(crate) async fn send_oneway(
        &self,
        frame: &Bytes,
        mutation: &Mutation,
    ) -> Result<(), ReplyError> {
        let parts = self.encode(frame, mutation, None)?;
        self.tx.send(parts).await.map_err(|_| closed())
    }

    fn encode(
        &self,
        frame: &Bytes,
        mutation: &Mutation,
        id: Option<u64>,
    ) -> Result<Parts, ReplyError> {
        let mut mutation = mutation.clone();
        mutation.request_id = id;
        let mut out = Encoded::new();
        self.codec.encode(frame, &mutation, &mut out).map_err(|e| {
            ReplyError::new(
                ErrorKind::Unspecified,
                format!("cannot re-encode request: {e}"),
            )
        })?;
        Ok(out.into_parts())
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Waiter>> {
        // No code panics while holding the lock, so poisoning cannot happen; recover anyway.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands a response frame to its waiter; returns a frame to write back, if any.
    fn on_frame(&self, frame: Bytes) -> Option<Parts> {
        let meta = match self.codec.decode(&frame) {
            Ok(meta) => meta,
            Err(e) => {
                let id = self.codec.peek_request_id(&frame);
                tracing::warn!(error = %e, request_id = ?id, "undecodable upstream response");
                self.fail(
                    id,
                    ReplyError::new(
                        ErrorKind::BadResponse,
                        format!("undecodable upstream response: {e}"),
                    ),
                );
                return None;
            }
        };
        match meta.message_type {
            MessageType::Heartbeat => {
                let mut out = Encoded::new();
                self.codec.heartbeat_reply(&meta, &mut out).ok()?;
                Some(out.into_parts())
            }
            MessageType::Response | MessageType::Error => {
                let waiter = meta
                    .request_id
                    .and_then(|id| self.lock_pending().remove(&id));
                if let Some(waiter) = waiter {
                    let _ = waiter.send(Ok((frame, meta)));
                }
                None
            }
            other => {
                let msg = format!("upstream sent a {} where a response was due", other.name());
                self.fail(
                    meta.request_id,
                    ReplyError::new(ErrorKind::BadResponse, msg),
                );
                None
            }
        }
    }

    fn fail(&self, id: Option<u64>, error: ReplyError) {
        if let Some(waiter) = id.and_then(|id| self.lock_pending().remove(&id)) {
            let _ = waiter.send(Err(error));
        }
    }

    fn fail_all(&self) {
        let waiters: Vec<Waiter> = self.lock_pending().drain().map(|(_, w)| w).collect();
        for waiter in waiters {
            let _ = waiter.send(Err(closed()));
        }
    }
}

/// Removes a request's waiter when its caller stops waiting.
struct Forget<'a> {
    conn: &'a UpstreamConn,
    id: u64,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.conn.lock_pending().remove(&self.id);
    }
}

/// Completes once the connection is retired for idling, counting the close.
async fn idle_close(usage: Arc<Usage>, shared: Arc<Shared>) {
    usage
        .retired_after(shared.settings.upstream_idle_timeout)
        .await;
    shared.metrics.upstream_idle_closed.fetch_add(1, Relaxed);
    tracing::debug!("upstream connection idle; closing");
}

fn closed() -> ReplyError {
    ReplyError::new(
        ErrorKind::BadResponse,
        "upstream connection closed before responding",
    )
}

async fn read_loop(
    conn: std::sync::Weak<UpstreamConn>,
    closed: CancellationToken,
    mut reader: FrameReader<tokio::net::tcp::OwnedReadHalf>,
    shared: Arc<Shared>,
) {
    loop {
        let frame = tokio::select! {
            r = reader.next() => r,
            _ = closed.cancelled() => break,
            _ = shared.stop.cancelled() => break,
        };
        let Ok(Some(frame)) = frame else { break };
        let Some(conn) = conn.upgrade() else { break };
        if let Some(reply) = conn.on_frame(frame) {
            let _ = conn.tx.try_send(reply);
        }
    }
    closed.cancel();
    if let Some(conn) = conn.upgrade() {
        conn.fail_all();
    }
    shared.metrics.upstream_connections.fetch_sub(1, Relaxed);
    tracing::debug!("upstream connection closed");
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::net::TcpListener;

    use super::super::context::Settings;
    use super::super::stub::{StubCodec, shared};
    use super::*;

    #[tokio::test]
    async fn a_retired_connection_is_never_handed_out() {
        // The kernel completes connects to a listening socket without an accept.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let settings = Settings {
            upstream_connections: 1,
            ..Settings::default()
        };
        let shared = shared(settings);
        let pool = Pool::new(address.into(), Arc::new(StubCodec), 1024, shared.clone());
        let (first, second) = (pool.get().await.unwrap(), pool.get().await.unwrap());
        assert!(Arc::ptr_eq(&first.0, &second.0), "one slot, one connection");
        let conn = first.0.clone();
        assert!(
            !conn.usage.try_retire(Duration::ZERO),
            "retired while leased"
        );
        drop((first, second));
        // The idle timer retires it, and the pool looks before the writer has closed it:
        // the request must get a fresh connection, not the retiring one.
        assert!(conn.usage.try_retire(Duration::ZERO));
        assert!(!conn.closed.is_cancelled());
        let third = pool.get().await.unwrap();
        assert!(
            !Arc::ptr_eq(&third.0, &conn),
            "handed out a retired connection"
        );
        assert_eq!(shared.metrics.upstream_connects.load(Relaxed), 2);
    }
}

//! Upstream connections: requests from many downstream connections multiplexed over a few
//! upstream connections per endpoint, with request ids rewritten so responses map back.

use std::collections::HashMap;
use std::io;
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
use super::io::{FrameReader, Parts, write_loop};

/// An upstream response: the frame and its decoded metadata.
pub(crate) type Response = (Bytes, Metadata);

type Waiter = oneshot::Sender<Result<Response, ReplyError>>;

/// The connections to one endpoint, opened on first use and replaced when they close.
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

    /// An open connection, connecting when the chosen slot has none.
    pub(crate) async fn get(&self) -> io::Result<Arc<UpstreamConn>> {
        let i = self.next.fetch_add(1, Relaxed) % self.slots.len().max(1);
        let Some(slot) = self.slots.get(i) else {
            return Err(io::Error::other("pool has no slots"));
        };
        let mut slot = slot.lock().await;
        if let Some(conn) = slot.as_ref().filter(|c| !c.closed.is_cancelled()) {
            return Ok(conn.clone());
        }
        let conn = self.connect().await?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn connect(&self) -> io::Result<Arc<UpstreamConn>> {
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
        Ok(UpstreamConn::start(
            stream,
            self.codec.clone(),
            self.max_frame,
            self.shared.clone(),
        ))
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
}

impl UpstreamConn {
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
        });
        let closed = conn.closed.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = write_loop(wr, rx, std::future::pending()) => {}
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

//! One downstream connection: frame, decode, dispatch with bounded in-flight requests,
//! answer heartbeats, reply to undecodable frames, and drain on shutdown.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::metadata::{MessageType, Metadata};
use crate::reply::{ErrorKind, ReplyError};
use crate::wire::Encoded;

use super::access::Access;
use super::io::{FrameReader, Parts, ReadError, write_loop};
use super::listener::ListenerCtx;
use super::request::{handle_oneway, handle_request, local_reply};

/// Bytes read and dropped after an error reply, so closing does not reset the connection
/// (and lose the reply) while the client is still sending.
const LINGER_BYTES: usize = 64 * 1024;
/// How long to wait for the client to close after an error reply.
const LINGER_TIME: Duration = Duration::from_secs(1);

/// Why reading stopped.
enum End {
    Done,
    BadFrame,
}

/// Serves a downstream connection until it closes, idles out, fails to frame, or drains.
pub(crate) async fn serve(stream: TcpStream, ctx: Arc<ListenerCtx>, _slot: OwnedSemaphorePermit) {
    let shared = ctx.shared.clone();
    let settings = &shared.settings;
    shared.metrics.downstream_connections.fetch_add(1, Relaxed);
    let (rd, wr) = stream.into_split();
    let (tx, rx) = mpsc::channel(settings.buffer.max(1));
    // Ends when the senders are gone: idling and draining are decided by `read_requests`.
    let writer = tokio::spawn(write_loop(wr, rx, std::future::pending()));
    let in_flight = Arc::new(Semaphore::new(settings.max_in_flight.max(1)));
    let mut reader = FrameReader::new(rd, ctx.codec.clone(), ctx.max_frame);
    let end = read_requests(&ctx, &mut reader, &in_flight, &tx).await;
    // Let requests in flight answer (each is bounded by its route timeout).
    let all = u32::try_from(settings.max_in_flight.max(1)).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(settings.drain_timeout, in_flight.acquire_many(all)).await;
    drop(tx);
    let _ = tokio::time::timeout(settings.drain_timeout, writer).await;
    if let End::BadFrame = end {
        linger(reader.into_inner()).await;
    }
    shared.metrics.downstream_connections.fetch_sub(1, Relaxed);
}

async fn read_requests(
    ctx: &Arc<ListenerCtx>,
    reader: &mut FrameReader<OwnedReadHalf>,
    in_flight: &Arc<Semaphore>,
    tx: &mpsc::Sender<Parts>,
) -> End {
    let shared = &ctx.shared;
    let max = shared.settings.max_in_flight.max(1);
    loop {
        // Waiting for a permit before reading is the backpressure: a client with
        // `maxInFlight` requests outstanding is not read from.
        let permit = tokio::select! {
            _ = shared.draining.cancelled() => return End::Done,
            permit = in_flight.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return End::Done,
            },
        };
        let next = tokio::select! {
            _ = shared.draining.cancelled() => return End::Done,
            next = tokio::time::timeout(shared.settings.idle_timeout, reader.next()) => next,
        };
        match next {
            Err(_idle) if in_flight.available_permits() + 1 >= max => return End::Done,
            Err(_idle) => {}
            Ok(Ok(None)) => return End::Done,
            Ok(Ok(Some(frame))) => {
                if !dispatch(ctx, frame, permit, tx).await {
                    return End::BadFrame;
                }
            }
            Ok(Err(ReadError::Io(e))) => {
                tracing::debug!(listener = %ctx.name, error = %e, "downstream read failed");
                return End::Done;
            }
            Ok(Err(ReadError::Frame { error, request_id })) => {
                bad_frame(ctx, request_id, error.to_string(), tx).await;
                return End::BadFrame;
            }
        }
    }
}

/// Routes one frame by message type; false when the connection must close.
async fn dispatch(
    ctx: &Arc<ListenerCtx>,
    frame: Bytes,
    permit: OwnedSemaphorePermit,
    tx: &mpsc::Sender<Parts>,
) -> bool {
    let meta = match ctx.codec.decode(&frame) {
        Ok(meta) => meta,
        Err(e) => {
            let id = ctx.codec.peek_request_id(&frame);
            bad_frame(ctx, id, e.to_string(), tx).await;
            return false;
        }
    };
    match meta.message_type {
        MessageType::Request => {
            tokio::spawn(handle_request(ctx.clone(), frame, meta, tx.clone(), permit));
        }
        MessageType::Oneway => {
            tokio::spawn(handle_oneway(ctx.clone(), frame, meta, permit));
        }
        MessageType::Heartbeat => {
            ctx.shared.metrics.heartbeats.fetch_add(1, Relaxed);
            let mut out = Encoded::new();
            match ctx.codec.heartbeat_reply(&meta, &mut out) {
                Ok(()) => {
                    let _ = tx.send(out.into_parts()).await;
                }
                Err(e) => tracing::debug!(error = %e, "codec has no heartbeat reply"),
            }
        }
        MessageType::Response | MessageType::Error => {
            tracing::debug!(listener = %ctx.name, "ignored a response sent by a client");
        }
        other => {
            let msg = format!("{} messages are not supported", other.name());
            let error = ReplyError::new(ErrorKind::Unspecified, msg);
            let parts = local_reply(ctx, None, &meta, &error, &mut Access::default());
            let _ = tx.send(parts).await;
        }
    }
    true
}

/// Counts an undecodable frame and answers it when its request id is readable.
async fn bad_frame(
    ctx: &ListenerCtx,
    request_id: Option<u64>,
    why: String,
    tx: &mpsc::Sender<Parts>,
) {
    ctx.shared.metrics.decode_errors.fetch_add(1, Relaxed);
    tracing::info!(listener = %ctx.name, error = %why, request_id = ?request_id, "bad frame; closing");
    if request_id.is_none() {
        return;
    }
    let meta = Metadata::for_request_id(request_id);
    let error = ReplyError::new(
        ErrorKind::Unspecified,
        format!("cannot decode request: {why}"),
    );
    let parts = local_reply(ctx, None, &meta, &error, &mut Access::default());
    if !parts.is_empty() {
        let _ = tx.send(parts).await;
    }
}

/// Reads and drops what the client still sends, up to a bound, until it closes.
async fn linger(mut rd: OwnedReadHalf) {
    let mut sink = [0u8; 4096];
    let mut left = LINGER_BYTES;
    let drain = async {
        while left > 0 {
            match rd.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, drain).await;
}

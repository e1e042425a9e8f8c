//! Framed reading and batched writing over a TCP half, with bounded buffers.

use std::io;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::mpsc;

use crate::codec::Codec;
use crate::error::{DecodeError, DecodeErrorKind};
use crate::framing::split_frame;

/// Bytes read per syscall when the frame's length is not yet known.
const READ_CHUNK: usize = 8 * 1024;

/// A frame's bytes, as segments that may share the payload of another frame.
pub(crate) type Parts = Vec<Bytes>;

/// Why a framed stream stopped yielding frames.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The transport failed, or closed in the middle of a frame.
    Io(io::Error),
    /// The bytes do not frame; `request_id` is what the codec could still read.
    Frame {
        /// The codec's error.
        error: DecodeError,
        /// The request id from the frame's header, when readable.
        request_id: Option<u64>,
    },
}

/// Splits a byte stream into frames; never buffers more than one frame plus a read chunk.
pub(crate) struct FrameReader<R> {
    io: R,
    buf: BytesMut,
    codec: Arc<dyn Codec>,
    max_frame: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Frames `io` with `codec`, rejecting frames over `max_frame` bytes.
    pub(crate) fn new(io: R, codec: Arc<dyn Codec>, max_frame: usize) -> Self {
        FrameReader {
            io,
            buf: BytesMut::with_capacity(READ_CHUNK),
            codec,
            max_frame,
        }
    }

    /// The next complete frame, or `None` at a clean end of stream.
    ///
    /// Cancel-safe: bytes already read stay in the buffer for the next call.
    pub(crate) async fn next(&mut self) -> Result<Option<Bytes>, ReadError> {
        loop {
            let codec = &self.codec;
            match split_frame(&mut self.buf, self.max_frame, |b| codec.frame_len(b)) {
                Ok(Some(frame)) => return Ok(Some(frame)),
                Ok(None) => {}
                Err(error) => {
                    let request_id = self.codec.peek_request_id(&self.buf);
                    return Err(ReadError::Frame { error, request_id });
                }
            }
            // A codec that keeps asking for bytes it already has must not grow the buffer forever.
            if self.buf.len() > self.max_frame {
                let error = DecodeError::new(
                    0,
                    DecodeErrorKind::FrameTooLarge {
                        len: self.buf.len() as u64,
                        max: self.max_frame as u64,
                    },
                );
                let request_id = self.codec.peek_request_id(&self.buf);
                return Err(ReadError::Frame { error, request_id });
            }
            if self.buf.capacity() == self.buf.len() {
                self.buf.reserve(READ_CHUNK);
            }
            match self.io.read_buf(&mut self.buf).await {
                Ok(0) if self.buf.is_empty() => return Ok(None),
                Ok(0) => return Err(ReadError::Io(io::ErrorKind::UnexpectedEof.into())),
                Ok(_) => {}
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }
}

/// Writes queued frames, batching what is queued into one flush, until every sender is gone
/// or `until` completes; then writes what is already queued and shuts the writer down.
///
/// Ending on `until` still writes frames queued before it, so a closing connection does not
/// lose a frame its sender already counts as sent (a oneway request, say).
pub(crate) async fn write_loop<W: AsyncWrite + Unpin>(
    io: W,
    mut rx: mpsc::Receiver<Parts>,
    until: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(READ_CHUNK * 2, io);
    let mut until = std::pin::pin!(until);
    let mut open = true;
    loop {
        let next = tokio::select! {
            // `until` first: it only stops new frames, never the queued ones, so there is
            // nothing to gain from a random pick but a less predictable close.
            biased;
            () = &mut until, if open => {
                // Refuses new frames; `recv` still yields the queued ones, then `None`.
                rx.close();
                open = false;
                continue;
            }
            next = rx.recv() => next,
        };
        let Some(parts) = next else { break };
        write_parts(&mut out, &parts).await?;
        while let Ok(more) = rx.try_recv() {
            write_parts(&mut out, &more).await?;
        }
        out.flush().await?;
    }
    out.shutdown().await
}

async fn write_parts<W: AsyncWrite + Unpin>(out: &mut W, parts: &[Bytes]) -> io::Result<()> {
    for part in parts {
        out.write_all(part).await?;
    }
    Ok(())
}

impl<R> FrameReader<R> {
    /// The underlying reader; buffered bytes are dropped.
    pub(crate) fn into_inner(self) -> R {
        self.io
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ending_on_until_still_writes_the_queued_frames() {
        let (wr, mut rd) = tokio::io::duplex(1024);
        let (tx, rx) = mpsc::channel(8);
        for part in ["a", "b", "c"] {
            tx.send(vec![Bytes::from(part)]).await.unwrap();
        }
        let writer = tokio::spawn(write_loop(wr, rx, async {}));
        let mut written = String::new();
        rd.read_to_string(&mut written).await.unwrap();
        assert_eq!(written, "abc");
        writer.await.unwrap().unwrap();
        assert!(
            tx.send(vec![Bytes::from("d")]).await.is_err(),
            "still accepts frames"
        );
    }
}

//! Splitting complete frames off a stream buffer.

use bytes::{Bytes, BytesMut};

use crate::codec::FrameLen;
use crate::error::{DecodeError, DecodeErrorKind};

/// Splits the next complete frame off `buf`, or returns `None` when more bytes are needed.
///
/// Rejects a frame longer than `max` as soon as its header says so, before buffering it.
pub fn split_frame(
    buf: &mut BytesMut,
    max: usize,
    frame_len: impl FnOnce(&[u8]) -> Result<FrameLen, DecodeError>,
) -> Result<Option<Bytes>, DecodeError> {
    if buf.is_empty() {
        return Ok(None);
    }
    match frame_len(buf)? {
        FrameLen::Complete(n) if n > max => Err(too_large(n, max)),
        FrameLen::Complete(n) if n <= buf.len() => Ok(Some(buf.split_to(n).freeze())),
        FrameLen::Complete(n) | FrameLen::NeedMore(n) => {
            if n > max {
                return Err(too_large(n, max));
            }
            buf.reserve(n.saturating_sub(buf.len()));
            Ok(None)
        }
    }
}

fn too_large(len: usize, max: usize) -> DecodeError {
    DecodeError::new(
        0,
        DecodeErrorKind::FrameTooLarge {
            len: len as u64,
            max: max as u64,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len_prefixed(buf: &[u8]) -> Result<FrameLen, DecodeError> {
        Ok(match buf.first() {
            Some(&n) => FrameLen::Complete(1 + usize::from(n)),
            None => FrameLen::NeedMore(1),
        })
    }

    #[test]
    fn splits_complete_frames_only() {
        let mut buf = BytesMut::from(&[2, b'a', b'b', 3, b'c'][..]);
        assert_eq!(
            split_frame(&mut buf, 16, len_prefixed).unwrap().unwrap(),
            &[2, b'a', b'b'][..]
        );
        assert_eq!(split_frame(&mut buf, 16, len_prefixed).unwrap(), None);
        assert_eq!(buf.len(), 2);
    }

    #[test]
    fn rejects_oversized_before_buffering() {
        let mut buf = BytesMut::from(&[200][..]);
        let err = split_frame(&mut buf, 16, len_prefixed).unwrap_err();
        assert!(matches!(
            err.kind(),
            DecodeErrorKind::FrameTooLarge { len: 201, max: 16 }
        ));
    }
}

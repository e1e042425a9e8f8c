//! Hand-tuned Dubbo 2 header: `schemas/dubbo.mproto` written out by hand.

use bytes::Bytes;
use smallvec::SmallVec;

use super::awesomerpc::share_or_copy;
use super::{Error, FrameLen, be16, be32};
use crate::model::{Meta, PropValue, dubbo_message_type, dubbo_status};

/// The frame's magic number.
pub const MAGIC: u16 = 0xdabb;
/// Header size.
const HEADER: usize = 16;

/// An owned message, the input of `encode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// A request (else a response).
    pub request: bool,
    /// Expects a response.
    pub two_way: bool,
    /// A heartbeat or other event.
    pub event: bool,
    /// 5-bit serialization id.
    pub serialization: u8,
    /// Response status.
    pub status: u8,
    /// Request id.
    pub request_id: u64,
    /// Serialized invocation or result.
    pub body: Bytes,
}

/// A validated frame, borrowing the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View<'a> {
    /// A request (else a response).
    pub request: bool,
    /// Expects a response.
    pub two_way: bool,
    /// A heartbeat or other event.
    pub event: bool,
    /// 5-bit serialization id.
    pub serialization: u8,
    /// Response status.
    pub status: u8,
    /// Request id.
    pub request_id: u64,
    /// Serialized invocation or result.
    pub body: &'a [u8],
}

/// Finds the length of the frame at the start of `buf`.
#[inline]
pub fn frame_len(buf: &[u8]) -> Result<FrameLen, Error> {
    let Some(head) = buf.first_chunk::<HEADER>() else {
        return match buf {
            [m0, m1, ..] if be16([*m0, *m1]) != MAGIC => Err(Error::Magic),
            _ => Ok(FrameLen::NeedMore(HEADER)),
        };
    };
    let [m0, m1, _, _, _, _, _, _, _, _, _, _, b0, b1, b2, b3] = *head;
    if be16([m0, m1]) != MAGIC {
        return Err(Error::Magic);
    }
    let total = HEADER + be32([b0, b1, b2, b3]) as usize;
    Ok(if buf.len() >= total {
        FrameLen::Complete(total)
    } else {
        FrameLen::NeedMore(total)
    })
}

/// Decodes and validates a frame into a borrowed view.
#[inline]
pub fn decode(frame: &[u8]) -> Result<View<'_>, Error> {
    let (head, body) = frame.split_first_chunk::<HEADER>().ok_or(Error::Short)?;
    let [m0, m1, flags, status, r @ .., b0, b1, b2, b3] = *head;
    if be16([m0, m1]) != MAGIC {
        return Err(Error::Magic);
    }
    let body_len = be32([b0, b1, b2, b3]) as usize;
    if body.len() != body_len {
        return Err(if body.len() < body_len {
            Error::Short
        } else {
            Error::Length
        });
    }
    Ok(View {
        request: flags & 0x80 != 0,
        two_way: flags & 0x40 != 0,
        event: flags & 0x20 != 0,
        serialization: flags & 0x1f,
        status,
        request_id: u64::from_be_bytes(r),
        body,
    })
}

/// Decodes routing metadata: message type, request id, status and the serialization id.
#[inline]
pub fn decode_metadata(frame: &[u8]) -> Result<Meta<'_>, Error> {
    let v = decode(frame)?;
    let mut properties = SmallVec::new();
    properties.push(("serialization", PropValue::Int(i64::from(v.serialization))));
    Ok(Meta {
        message_type: dubbo_message_type(v.request, v.two_way, v.event),
        request_id: v.request_id,
        stream_id: None,
        response_status: Some(dubbo_status(v.request, v.status)),
        properties,
    })
}

/// Encodes an owned message, computing the body length.
#[inline]
pub fn encode(m: &Message, out: &mut Vec<u8>) -> Result<(), Error> {
    let body_len = u32::try_from(m.body.len()).map_err(|_| Error::Length)?;
    if m.serialization > 0x1f {
        return Err(Error::Invalid);
    }
    let flags = (u8::from(m.request) << 7)
        | (u8::from(m.two_way) << 6)
        | (u8::from(m.event) << 5)
        | m.serialization;
    let [m0, m1] = MAGIC.to_be_bytes();
    let [r0, r1, r2, r3, r4, r5, r6, r7] = m.request_id.to_be_bytes();
    let [b0, b1, b2, b3] = body_len.to_be_bytes();
    out.extend_from_slice(&[
        m0, m1, flags, m.status, r0, r1, r2, r3, r4, r5, r6, r7, b0, b1, b2, b3,
    ]);
    out.extend_from_slice(&m.body);
    Ok(())
}

/// Re-encodes `frame` with a new request id: the header is copied with the id patched, a
/// large body is shared.
#[inline]
pub fn encode_with_request_id(
    frame: &Bytes,
    request_id: u64,
    out: &mut Vec<u8>,
) -> Result<Option<Bytes>, Error> {
    let v = decode(frame)?;
    let head = frame.first_chunk::<HEADER>().ok_or(Error::Short)?;
    let mut head = *head;
    head[4..12].copy_from_slice(&request_id.to_be_bytes());
    out.extend_from_slice(&head);
    Ok(share_or_copy(frame, v.body, out))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fixtures::{DUBBO_NEW_ID, as_frame, dubbo_bytes, dubbo_fields};
    use crate::model::DubboFields;

    /// Every field of a view, owned.
    pub(crate) fn fields(v: &View<'_>) -> DubboFields {
        DubboFields {
            request: v.request,
            two_way: v.two_way,
            event: v.event,
            serialization: v.serialization,
            status: v.status,
            request_id: v.request_id,
            body: v.body.to_vec(),
        }
    }

    #[test]
    fn round_trips_the_hand_built_frame() {
        let f = dubbo_fields();
        let bytes = dubbo_bytes(&f);
        assert_eq!(fields(&decode(&bytes).unwrap()), f);
        assert_eq!(frame_len(&bytes), Ok(FrameLen::Complete(bytes.len())));
        assert_eq!(frame_len(&bytes[..3]), Ok(FrameLen::NeedMore(16)));
        assert_eq!(frame_len(&bytes[..20]), Ok(FrameLen::NeedMore(bytes.len())));
        assert_eq!(frame_len(b"\x00\x01"), Err(Error::Magic));
        let m = Message {
            request: f.request,
            two_way: f.two_way,
            event: f.event,
            serialization: f.serialization,
            status: f.status,
            request_id: f.request_id,
            body: Bytes::from(f.body.clone()),
        };
        let mut out = Vec::new();
        encode(&m, &mut out).unwrap();
        assert_eq!(out, bytes);
        let meta = decode_metadata(&bytes).unwrap();
        assert_eq!(meta.properties[0], ("serialization", PropValue::Int(2)));
    }

    #[test]
    fn rewrites_the_request_id_only() {
        let frame = as_frame(&dubbo_bytes(&dubbo_fields()));
        let mut out = Vec::new();
        assert!(
            encode_with_request_id(&frame, DUBBO_NEW_ID, &mut out)
                .unwrap()
                .is_none()
        );
        let expected = dubbo_bytes(&DubboFields {
            request_id: DUBBO_NEW_ID,
            ..dubbo_fields()
        });
        assert_eq!(out, expected);
        assert_eq!(decode(&expected[..20]), Err(Error::Short));
    }
}

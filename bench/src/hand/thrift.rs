//! Hand-tuned Thrift framed binary protocol: `schemas/thrift.mproto` written out by hand.

use bytes::Bytes;
use smallvec::SmallVec;

use super::awesomerpc::share_or_copy;
use super::{Error, FrameLen, be16, be32, utf8};
use crate::model::{Meta, PropValue, thrift_message_type, thrift_status};

/// Strict binary protocol version 1.
pub const VERSION: u16 = 0x8001;

/// An owned message, the input of `encode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Message type, 1..=4.
    pub kind: u8,
    /// Method name.
    pub name: String,
    /// Sequence id.
    pub seq_id: u32,
    /// Arguments or result struct.
    pub body: Bytes,
}

/// A validated frame, borrowing every field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View<'a> {
    /// Message type.
    pub kind: u8,
    /// Method name.
    pub name: &'a str,
    /// Sequence id.
    pub seq_id: u32,
    /// Arguments or result struct.
    pub body: &'a [u8],
    /// Offset of the sequence id, for in-place rewrites.
    seq_at: usize,
}

/// Finds the length of the frame at the start of `buf`, checking the version bytes when present.
#[inline]
pub fn frame_len(buf: &[u8]) -> Result<FrameLen, Error> {
    let Some((size, rest)) = buf.split_first_chunk::<4>() else {
        return Ok(FrameLen::NeedMore(4));
    };
    // Refuse garbage before waiting for up to 4 GiB of it.
    match rest {
        [0x80, 0x01, ..] | [0x80] | [] => {}
        _ => return Err(Error::Magic),
    }
    let total = be32(*size) as usize + 4;
    Ok(if buf.len() >= total {
        FrameLen::Complete(total)
    } else {
        FrameLen::NeedMore(total)
    })
}

/// Decodes and validates a frame into a borrowed view.
#[inline]
pub fn decode(frame: &[u8]) -> Result<View<'_>, Error> {
    let (head, rest) = frame.split_first_chunk::<12>().ok_or(Error::Short)?;
    let [s0, s1, s2, s3, v0, v1, _pad, kind, n0, n1, n2, n3] = *head;
    if be32([s0, s1, s2, s3]) as usize != frame.len() - 4 {
        return Err(Error::Length);
    }
    if be16([v0, v1]) != VERSION {
        return Err(Error::Magic);
    }
    if !(1..=4).contains(&kind) {
        return Err(Error::Invalid);
    }
    let (name, rest) = rest
        .split_at_checked(be32([n0, n1, n2, n3]) as usize)
        .ok_or(Error::Short)?;
    let (seq, body) = rest.split_first_chunk::<4>().ok_or(Error::Short)?;
    Ok(View {
        kind,
        name: utf8(name)?,
        seq_id: be32(*seq),
        body,
        seq_at: 12 + name.len(),
    })
}

/// Decodes routing metadata: message type, sequence id and the method name, borrowed.
#[inline]
pub fn decode_metadata(frame: &[u8]) -> Result<Meta<'_>, Error> {
    let v = decode(frame)?;
    let mut properties = SmallVec::new();
    properties.push(("method", PropValue::Text(v.name)));
    Ok(Meta {
        message_type: thrift_message_type(v.kind),
        request_id: u64::from(v.seq_id),
        stream_id: None,
        response_status: Some(thrift_status(v.kind)),
        properties,
    })
}

/// Encodes an owned message, computing the frame size.
#[inline]
pub fn encode(m: &Message, out: &mut Vec<u8>) -> Result<(), Error> {
    let size = 12 + m.name.len() + m.body.len();
    let size = u32::try_from(size).map_err(|_| Error::Length)?;
    if !(1..=4).contains(&m.kind) {
        return Err(Error::Invalid);
    }
    let [s0, s1, s2, s3] = size.to_be_bytes();
    let [n0, n1, n2, n3] = (m.name.len() as u32).to_be_bytes();
    out.extend_from_slice(&[s0, s1, s2, s3, 0x80, 0x01, 0, m.kind, n0, n1, n2, n3]);
    out.extend_from_slice(m.name.as_bytes());
    out.extend_from_slice(&m.seq_id.to_be_bytes());
    out.extend_from_slice(&m.body);
    Ok(())
}

/// Re-encodes `frame` with a new sequence id: the head is copied with the id patched, a large
/// body is shared.
#[inline]
pub fn encode_with_request_id(
    frame: &Bytes,
    request_id: u64,
    out: &mut Vec<u8>,
) -> Result<Option<Bytes>, Error> {
    let v = decode(frame)?;
    let seq = u32::try_from(request_id).map_err(|_| Error::Length)?;
    let head = frame.get(..v.seq_at).ok_or(Error::Short)?;
    out.extend_from_slice(head);
    out.extend_from_slice(&seq.to_be_bytes());
    Ok(share_or_copy(frame, v.body, out))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fixtures::{THRIFT_NEW_SEQ, as_frame, thrift_bytes, thrift_fields};
    use crate::model::ThriftFields;

    /// Every field of a view, owned.
    pub(crate) fn fields(v: &View<'_>) -> ThriftFields {
        ThriftFields {
            kind: v.kind,
            name: v.name.to_owned(),
            seq_id: v.seq_id,
            body: v.body.to_vec(),
        }
    }

    #[test]
    fn round_trips_the_hand_built_frame() {
        let f = thrift_fields();
        let bytes = thrift_bytes(&f);
        assert_eq!(fields(&decode(&bytes).unwrap()), f);
        assert_eq!(frame_len(&bytes), Ok(FrameLen::Complete(bytes.len())));
        assert_eq!(frame_len(&bytes[..3]), Ok(FrameLen::NeedMore(4)));
        assert_eq!(frame_len(&bytes[..5]), Ok(FrameLen::NeedMore(bytes.len())));
        assert_eq!(frame_len(b"GET / HTTP/1.1"), Err(Error::Magic));
        let m = Message {
            kind: f.kind,
            name: f.name.clone(),
            seq_id: f.seq_id,
            body: Bytes::from(f.body.clone()),
        };
        let mut out = Vec::new();
        encode(&m, &mut out).unwrap();
        assert_eq!(out, bytes);
    }

    #[test]
    fn rewrites_the_sequence_id_only() {
        let frame = as_frame(&thrift_bytes(&thrift_fields()));
        let mut out = Vec::new();
        let shared = encode_with_request_id(&frame, u64::from(THRIFT_NEW_SEQ), &mut out).unwrap();
        assert!(shared.is_none(), "a small body is copied with the head");
        let expected = thrift_bytes(&ThriftFields {
            seq_id: THRIFT_NEW_SEQ,
            ..thrift_fields()
        });
        assert_eq!(out, expected);
        assert!(encode_with_request_id(&frame, 1 << 40, &mut out).is_err());
    }

    #[test]
    fn rejects_bad_frames() {
        let bytes = thrift_bytes(&thrift_fields());
        assert_eq!(decode(&bytes[..bytes.len() - 1]), Err(Error::Length));
        let mut kind = bytes.clone();
        kind[7] = 9;
        assert_eq!(decode(&kind), Err(Error::Invalid));
        let mut version = bytes;
        version[5] = 2;
        assert_eq!(decode(&version), Err(Error::Magic));
    }
}

//! Dubbo 2 header with deku.

use deku::prelude::*;
use mproto_runtime::FrameLen;
use smallvec::SmallVec;

use super::{read_exact, write_into};
use crate::model::{Meta, PropValue, dubbo_message_type, dubbo_status};

/// One Dubbo message.
#[deku_derive(DekuRead, DekuWrite)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[deku(endian = "big", magic = b"\xda\xbb")]
pub struct Message {
    /// A request (else a response).
    #[deku(bits = 1)]
    pub request: bool,
    /// Expects a response.
    #[deku(bits = 1)]
    pub two_way: bool,
    /// A heartbeat or other event.
    #[deku(bits = 1)]
    pub event: bool,
    /// Serialization id.
    #[deku(bits = 5)]
    pub serialization: u8,
    /// Response status.
    pub status: u8,
    /// Request id.
    pub request_id: u64,
    #[deku(temp, temp_value = "u32::try_from(body.len())?")]
    body_len: u32,
    /// Serialized invocation or result.
    #[deku(count = "*body_len")]
    pub body: Vec<u8>,
}

/// The 16-byte header, read with deku to find the frame length.
#[derive(Debug, DekuRead)]
#[deku(endian = "big", magic = b"\xda\xbb")]
struct Header {
    _flags: u8,
    _status: u8,
    _request_id: u64,
    body_len: u32,
}

/// Finds the length of the frame at the start of `buf`.
pub fn frame_len(buf: &[u8]) -> Result<FrameLen, DekuError> {
    match Header::from_bytes((buf, 0)) {
        Ok((_, h)) => {
            let total = 16 + h.body_len as usize;
            Ok(if buf.len() >= total {
                FrameLen::Complete(total)
            } else {
                FrameLen::NeedMore(total)
            })
        }
        Err(DekuError::Incomplete(_)) => Ok(FrameLen::NeedMore(16)),
        Err(e) => Err(e),
    }
}

/// Decodes a whole frame.
pub fn decode(frame: &[u8]) -> Result<Message, DekuError> {
    read_exact(frame)
}

/// The routing metadata of a decoded message.
pub fn metadata(m: &Message) -> Meta<'_> {
    let mut properties = SmallVec::new();
    properties.push(("serialization", PropValue::Int(i64::from(m.serialization))));
    Meta {
        message_type: dubbo_message_type(m.request, m.two_way, m.event),
        request_id: m.request_id,
        stream_id: None,
        response_status: Some(dubbo_status(m.request, m.status)),
        properties,
    }
}

/// Encodes a message into `out`.
pub fn encode(m: &Message, out: &mut Vec<u8>) -> Result<(), DekuError> {
    write_into(m, out)
}

/// Re-encodes `frame` with a new request id: decode, change, encode.
pub fn encode_with_request_id(
    frame: &[u8],
    request_id: u64,
    out: &mut Vec<u8>,
) -> Result<(), DekuError> {
    let mut m = decode(frame)?;
    m.request_id = request_id;
    encode(&m, out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fixtures::{DUBBO_NEW_ID, dubbo_bytes, dubbo_fields};
    use crate::model::{DubboFields, MetaSummary};

    /// Every field, owned.
    pub(crate) fn fields(m: &Message) -> DubboFields {
        DubboFields {
            request: m.request,
            two_way: m.two_way,
            event: m.event,
            serialization: m.serialization,
            status: m.status,
            request_id: m.request_id,
            body: m.body.clone(),
        }
    }

    #[test]
    fn agrees_with_the_hand_built_frame_and_the_hand_tuned_parser() {
        let f = dubbo_fields();
        let bytes = dubbo_bytes(&f);
        let m = decode(&bytes).unwrap();
        assert_eq!(fields(&m), f);
        assert_eq!(frame_len(&bytes).unwrap(), FrameLen::Complete(bytes.len()));
        assert_eq!(frame_len(&bytes[..5]).unwrap(), FrameLen::NeedMore(16));
        let hand = crate::hand::dubbo::decode_metadata(&bytes).unwrap();
        assert_eq!(MetaSummary::from(&metadata(&m)), MetaSummary::from(&hand));
        let mut out = Vec::new();
        encode(&m, &mut out).unwrap();
        assert_eq!(out, bytes);
        out.clear();
        encode_with_request_id(&bytes, DUBBO_NEW_ID, &mut out).unwrap();
        let expected = DubboFields {
            request_id: DUBBO_NEW_ID,
            ..f
        };
        assert_eq!(out, dubbo_bytes(&expected));
    }
}

//! Dubbo 2 header with binrw.

use binrw::io::Cursor;
use binrw::{BinRead, BinResult, binread, binrw};
use mproto_runtime::FrameLen;
use smallvec::SmallVec;

use super::{read_exact, write_into};
use crate::model::{Meta, PropValue, dubbo_message_type, dubbo_status};

/// The flag byte: request, two-way, event, 5-bit serialization id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    /// A request (else a response).
    pub request: bool,
    /// Expects a response.
    pub two_way: bool,
    /// A heartbeat or other event.
    pub event: bool,
    /// Serialization id.
    pub serialization: u8,
}

impl Flags {
    /// Unpacks the byte.
    fn from_raw(raw: u8) -> Self {
        Flags {
            request: raw & 0x80 != 0,
            two_way: raw & 0x40 != 0,
            event: raw & 0x20 != 0,
            serialization: raw & 0x1f,
        }
    }

    /// Packs the byte.
    fn pack(&self) -> u8 {
        (u8::from(self.request) << 7)
            | (u8::from(self.two_way) << 6)
            | (u8::from(self.event) << 5)
            | (self.serialization & 0x1f)
    }
}

/// One Dubbo message.
#[binrw]
#[brw(big, magic = 0xdabbu16)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The flag byte.
    #[br(map = Flags::from_raw)]
    #[bw(map = Flags::pack)]
    pub flags: Flags,
    /// Response status.
    pub status: u8,
    /// Request id.
    pub request_id: u64,
    #[br(temp)]
    #[bw(try_calc = u32::try_from(body.len()))]
    body_len: u32,
    /// Serialized invocation or result.
    #[br(count = body_len)]
    pub body: Vec<u8>,
}

/// The 16-byte header, read with binrw to find the frame length.
#[binread]
#[br(big, magic = 0xdabbu16)]
struct Header {
    #[br(temp)]
    _flags: u8,
    #[br(temp)]
    _status: u8,
    #[br(temp)]
    _request_id: u64,
    body_len: u32,
}

/// Finds the length of the frame at the start of `buf`.
pub fn frame_len(buf: &[u8]) -> BinResult<FrameLen> {
    match Header::read(&mut Cursor::new(buf)) {
        Ok(h) => {
            let total = 16 + h.body_len as usize;
            Ok(if buf.len() >= total {
                FrameLen::Complete(total)
            } else {
                FrameLen::NeedMore(total)
            })
        }
        Err(e) if e.is_eof() => Ok(FrameLen::NeedMore(16)),
        Err(e) => Err(e),
    }
}

/// Decodes a whole frame.
pub fn decode(frame: &[u8]) -> BinResult<Message> {
    read_exact(frame)
}

/// The routing metadata of a decoded message.
pub fn metadata(m: &Message) -> Meta<'_> {
    let f = m.flags;
    let mut properties = SmallVec::new();
    properties.push(("serialization", PropValue::Int(i64::from(f.serialization))));
    Meta {
        message_type: dubbo_message_type(f.request, f.two_way, f.event),
        request_id: m.request_id,
        stream_id: None,
        response_status: Some(dubbo_status(f.request, m.status)),
        properties,
    }
}

/// Encodes a message into `out`.
pub fn encode(m: &Message, out: &mut Vec<u8>) -> BinResult<()> {
    write_into(m, out)
}

/// Re-encodes `frame` with a new request id: decode, change, encode.
pub fn encode_with_request_id(frame: &[u8], request_id: u64, out: &mut Vec<u8>) -> BinResult<()> {
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
            request: m.flags.request,
            two_way: m.flags.two_way,
            event: m.flags.event,
            serialization: m.flags.serialization,
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

//! Thrift framed binary protocol with binrw.

use binrw::io::Cursor;
use binrw::{BinRead, BinResult, binrw};
use mproto_runtime::FrameLen;
use smallvec::SmallVec;

use super::{read_exact, utf8, write_into};
use crate::model::{Meta, PropValue, thrift_message_type, thrift_status};

/// The binary protocol's message types.
#[binrw]
#[brw(repr = u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A call.
    Call = 1,
    /// A reply.
    Reply = 2,
    /// An exception.
    Exception = 3,
    /// A one-way call.
    Oneway = 4,
}

/// One framed Thrift message.
#[binrw]
#[brw(big)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    #[br(temp)]
    #[bw(try_calc = u32::try_from(12 + name.len() + body.len()))]
    size: u32,
    #[br(temp, assert(version == 0x8001))]
    #[bw(calc = 0x8001)]
    version: u16,
    /// Message type, after one unused byte.
    #[brw(pad_before = 1)]
    pub kind: MessageKind,
    #[br(temp)]
    #[bw(try_calc = u32::try_from(name.len()))]
    name_len: u32,
    /// Method name.
    #[br(count = name_len, try_map = utf8, assert(size as usize >= 12 + name.len()))]
    #[bw(map = String::as_bytes)]
    pub name: String,
    /// Sequence id.
    pub seq_id: u32,
    /// Arguments or result struct: the rest of the frame.
    #[br(count = size as usize - 12 - name.len())]
    pub body: Vec<u8>,
}

/// Finds the length of the frame at the start of `buf`.
pub fn frame_len(buf: &[u8]) -> BinResult<FrameLen> {
    match u32::read_be(&mut Cursor::new(buf)) {
        Ok(size) => {
            let total = size as usize + 4;
            Ok(if buf.len() >= total {
                FrameLen::Complete(total)
            } else {
                FrameLen::NeedMore(total)
            })
        }
        Err(e) if e.is_eof() => Ok(FrameLen::NeedMore(4)),
        Err(e) => Err(e),
    }
}

/// Decodes a whole frame.
pub fn decode(frame: &[u8]) -> BinResult<Message> {
    read_exact(frame)
}

/// The routing metadata of a decoded message, borrowing its text.
pub fn metadata(m: &Message) -> Meta<'_> {
    let kind = m.kind as u8;
    let mut properties = SmallVec::new();
    properties.push(("method", PropValue::Text(m.name.as_str())));
    Meta {
        message_type: thrift_message_type(kind),
        request_id: u64::from(m.seq_id),
        stream_id: None,
        response_status: Some(thrift_status(kind)),
        properties,
    }
}

/// Encodes a message into `out`.
pub fn encode(m: &Message, out: &mut Vec<u8>) -> BinResult<()> {
    write_into(m, out)
}

/// Re-encodes `frame` with a new sequence id: decode, change, encode.
pub fn encode_with_request_id(frame: &[u8], request_id: u64, out: &mut Vec<u8>) -> BinResult<()> {
    let mut m = decode(frame)?;
    m.seq_id = u32::try_from(request_id).map_err(|e| binrw::Error::Custom {
        pos: 0,
        err: Box::new(e),
    })?;
    encode(&m, out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fixtures::{THRIFT_NEW_SEQ, thrift_bytes, thrift_fields};
    use crate::model::{MetaSummary, ThriftFields};

    /// Every field, owned.
    pub(crate) fn fields(m: &Message) -> ThriftFields {
        ThriftFields {
            kind: m.kind as u8,
            name: m.name.clone(),
            seq_id: m.seq_id,
            body: m.body.clone(),
        }
    }

    #[test]
    fn agrees_with_the_hand_built_frame_and_the_hand_tuned_parser() {
        let f = thrift_fields();
        let bytes = thrift_bytes(&f);
        let m = decode(&bytes).unwrap();
        assert_eq!(fields(&m), f);
        assert_eq!(frame_len(&bytes).unwrap(), FrameLen::Complete(bytes.len()));
        let hand = crate::hand::thrift::decode_metadata(&bytes).unwrap();
        assert_eq!(MetaSummary::from(&metadata(&m)), MetaSummary::from(&hand));
        let mut out = Vec::new();
        encode(&m, &mut out).unwrap();
        assert_eq!(out, bytes);
        out.clear();
        encode_with_request_id(&bytes, u64::from(THRIFT_NEW_SEQ), &mut out).unwrap();
        let expected = ThriftFields {
            seq_id: THRIFT_NEW_SEQ,
            ..f
        };
        assert_eq!(out, thrift_bytes(&expected));
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
    }
}

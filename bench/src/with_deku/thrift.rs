//! Thrift framed binary protocol with deku.

use deku::prelude::*;
use mproto_runtime::FrameLen;
use smallvec::SmallVec;

use super::{read_exact, read_str32, write_into, write_str32};
use crate::model::{Meta, PropValue, thrift_message_type, thrift_status};

/// The binary protocol's message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, DekuRead, DekuWrite)]
#[deku(id_type = "u8", endian = "endian", ctx = "endian: deku::ctx::Endian")]
#[repr(u8)]
pub enum MessageKind {
    /// A call.
    #[deku(id = 1)]
    Call = 1,
    /// A reply.
    #[deku(id = 2)]
    Reply = 2,
    /// An exception.
    #[deku(id = 3)]
    Exception = 3,
    /// A one-way call.
    #[deku(id = 4)]
    Oneway = 4,
}

/// One framed Thrift message.
#[deku_derive(DekuRead, DekuWrite)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[deku(endian = "big")]
pub struct Message {
    #[deku(temp, temp_value = "u32::try_from(12 + name.len() + body.len())?")]
    size: u32,
    /// Message type, after the version and one unused byte.
    #[deku(magic = b"\x80\x01", pad_bytes_before = "1")]
    pub kind: MessageKind,
    /// Method name.
    #[deku(
        reader = "read_str32(deku::reader)",
        writer = "write_str32(deku::writer, &self.name)",
        assert = "*size as usize >= 12 + name.len()"
    )]
    pub name: String,
    /// Sequence id.
    pub seq_id: u32,
    /// Arguments or result struct: the rest of the frame.
    #[deku(count = "*size as usize - 12 - name.len()")]
    pub body: Vec<u8>,
}

/// Finds the length of the frame at the start of `buf`.
pub fn frame_len(buf: &[u8]) -> Result<FrameLen, DekuError> {
    match <u32 as DekuReader<'_, deku::ctx::Endian>>::from_reader_with_ctx(
        &mut Reader::new(std::io::Cursor::new(buf)),
        deku::ctx::Endian::Big,
    ) {
        Ok(size) => {
            let total = size as usize + 4;
            Ok(if buf.len() >= total {
                FrameLen::Complete(total)
            } else {
                FrameLen::NeedMore(total)
            })
        }
        Err(DekuError::Incomplete(_)) => Ok(FrameLen::NeedMore(4)),
        Err(e) => Err(e),
    }
}

/// Decodes a whole frame.
pub fn decode(frame: &[u8]) -> Result<Message, DekuError> {
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
pub fn encode(m: &Message, out: &mut Vec<u8>) -> Result<(), DekuError> {
    write_into(m, out)
}

/// Re-encodes `frame` with a new sequence id: decode, change, encode.
pub fn encode_with_request_id(
    frame: &[u8],
    request_id: u64,
    out: &mut Vec<u8>,
) -> Result<(), DekuError> {
    let mut m = decode(frame)?;
    m.seq_id = u32::try_from(request_id)?;
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

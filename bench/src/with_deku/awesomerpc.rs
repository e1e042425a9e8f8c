//! AwesomeRPC with deku.

use deku::prelude::*;
use mproto_runtime::FrameLen;
use smallvec::SmallVec;

use super::{read_exact, read_str8, read_str16, write_into, write_str8, write_str16};
use crate::model::{Meta, PropValue, awesome_message_type, awesome_status};

/// What a message is: three bits, unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, DekuRead, DekuWrite)]
#[deku(
    id_type = "u8",
    bits = 3,
    endian = "endian",
    ctx = "endian: deku::ctx::Endian"
)]
pub enum Kind {
    /// A call that expects a response.
    #[deku(id = 0)]
    Request,
    /// The answer to a request.
    #[deku(id = 1)]
    Response,
    /// A call that is never answered.
    #[deku(id = 2)]
    Oneway,
    /// A keep-alive.
    #[deku(id = 3)]
    Heartbeat,
    /// A failure outside any request (`Error` in the schema; renamed because deku's derive
    /// also names an associated `Error` type).
    #[deku(id = 4)]
    Failure,
    /// Any other value, kept as read.
    #[deku(id_pat = "_")]
    Unknown(u8),
}

impl Kind {
    /// The value on the wire.
    pub fn to_raw(self) -> u8 {
        match self {
            Kind::Request => 0,
            Kind::Response => 1,
            Kind::Oneway => 2,
            Kind::Heartbeat => 3,
            Kind::Failure => 4,
            Kind::Unknown(raw) => raw,
        }
    }
}

/// One header: key with a u8 length, value with a u16 length.
#[derive(Debug, Clone, PartialEq, Eq, DekuRead, DekuWrite)]
#[deku(endian = "endian", ctx = "endian: deku::ctx::Endian")]
pub struct Header {
    /// Header name.
    #[deku(
        reader = "read_str8(deku::reader)",
        writer = "write_str8(deku::writer, &self.key)"
    )]
    pub key: String,
    /// Header value.
    #[deku(
        reader = "read_str16(deku::reader)",
        writer = "write_str16(deku::writer, &self.value)"
    )]
    pub value: String,
}

/// One AwesomeRPC message.
#[deku_derive(DekuRead, DekuWrite)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[deku(endian = "big", magic = b"\xA1\xB2")]
pub struct Message {
    /// Protocol version; only 1 exists.
    #[deku(assert_eq = "1")]
    pub version: u8,
    /// Message kind.
    pub kind: Kind,
    /// Compressed body.
    #[deku(bits = 1)]
    pub compressed: bool,
    /// Carries a stream id.
    #[deku(bits = 1)]
    pub streaming: bool,
    /// Reserved bits, zero (deku's `temp` fields cannot carry a write-side assertion).
    #[deku(bits = 3, assert_eq = "0")]
    pub reserved: u8,
    /// Response status.
    pub status: u8,
    /// Request id.
    pub request_id: u64,
    /// Stream id, present when streaming.
    #[deku(cond = "*streaming")]
    pub stream_id: Option<u32>,
    #[deku(temp, temp_value = "u16::try_from(headers_size(headers))?")]
    header_len: u16,
    #[deku(temp, temp_value = "u32::try_from(body.len())?")]
    body_len: u32,
    /// Text headers, `header_len` bytes of them.
    #[deku(bytes_read = "*header_len")]
    pub headers: Vec<Header>,
    /// Payload.
    #[deku(count = "*body_len")]
    pub body: Vec<u8>,
}

/// The byte size of a header list.
fn headers_size(headers: &[Header]) -> usize {
    headers
        .iter()
        .map(|h| 3 + h.key.len() + h.value.len())
        .sum()
}

/// The fields framing needs, read with deku like any other struct.
#[derive(Debug, DekuRead)]
#[deku(endian = "big", magic = b"\xA1\xB2")]
struct Prefix {
    _version: u8,
    _kind: Kind,
    #[deku(bits = 1)]
    _compressed: bool,
    #[deku(bits = 1)]
    streaming: bool,
    #[deku(bits = 3, assert_eq = "0")]
    _reserved: u8,
    _status: u8,
    _request_id: u64,
    #[deku(cond = "*streaming")]
    _stream_id: Option<u32>,
    header_len: u16,
    body_len: u32,
}

/// Finds the length of the frame at the start of `buf`.
pub fn frame_len(buf: &[u8]) -> Result<FrameLen, DekuError> {
    match Prefix::from_bytes((buf, 0)) {
        Ok((_, p)) => {
            let fixed = if p.streaming { 23 } else { 19 };
            let total = fixed + usize::from(p.header_len) + p.body_len as usize;
            Ok(if buf.len() >= total {
                FrameLen::Complete(total)
            } else {
                FrameLen::NeedMore(total)
            })
        }
        Err(DekuError::Incomplete(_)) => Ok(FrameLen::NeedMore(19)),
        Err(e) => Err(e),
    }
}

/// Decodes a whole frame.
pub fn decode(frame: &[u8]) -> Result<Message, DekuError> {
    read_exact(frame)
}

/// The routing metadata of a decoded message, borrowing its text.
pub fn metadata(m: &Message) -> Meta<'_> {
    let mut properties = SmallVec::new();
    properties.push(("version", PropValue::Int(i64::from(m.version))));
    for h in &m.headers {
        properties.push((h.key.as_str(), PropValue::Text(h.value.as_str())));
    }
    Meta {
        message_type: awesome_message_type(m.kind.to_raw()),
        request_id: m.request_id,
        stream_id: m.stream_id.map(u64::from),
        response_status: Some(awesome_status(m.status)),
        properties,
    }
}

/// Encodes a message into `out`.
pub fn encode(m: &Message, out: &mut Vec<u8>) -> Result<(), DekuError> {
    write_into(m, out)
}

/// Re-encodes `frame` with `set` applied to its headers (replace the first entry with the
/// same key, else append): decode, change, encode.
pub fn encode_mutated(
    frame: &[u8],
    set: &[(&str, &str)],
    out: &mut Vec<u8>,
) -> Result<(), DekuError> {
    let mut m = decode(frame)?;
    for (k, v) in set {
        match m.headers.iter_mut().find(|h| h.key == *k) {
            Some(h) => h.value = (*v).to_owned(),
            None => m.headers.push(Header {
                key: (*k).to_owned(),
                value: (*v).to_owned(),
            }),
        }
    }
    encode(&m, out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fixtures::{self, AWESOME_ADDED, awesome_bytes};
    use crate::model::{AwesomeFields, MetaSummary};

    /// Every field, owned.
    pub(crate) fn fields(m: &Message) -> AwesomeFields {
        AwesomeFields {
            version: m.version,
            kind: m.kind.to_raw(),
            compressed: m.compressed,
            streaming: m.streaming,
            status: m.status,
            request_id: m.request_id,
            stream_id: m.stream_id,
            headers: m
                .headers
                .iter()
                .map(|h| (h.key.clone(), h.value.clone()))
                .collect(),
            body: m.body.clone(),
        }
    }

    #[test]
    fn agrees_with_the_hand_built_frames_and_the_hand_tuned_parser() {
        for f in [
            fixtures::awesome_fields(),
            fixtures::awesome_streaming_fields(),
        ] {
            let bytes = awesome_bytes(&f);
            let m = decode(&bytes).unwrap();
            assert_eq!(fields(&m), f);
            assert_eq!(frame_len(&bytes).unwrap(), FrameLen::Complete(bytes.len()));
            let hand = crate::hand::awesomerpc::decode_metadata(&bytes).unwrap();
            assert_eq!(MetaSummary::from(&metadata(&m)), MetaSummary::from(&hand));
            let mut out = Vec::new();
            encode(&m, &mut out).unwrap();
            assert_eq!(out, bytes);
        }
        let bytes = awesome_bytes(&fixtures::awesome_fields());
        assert_eq!(frame_len(&bytes[..10]).unwrap(), FrameLen::NeedMore(19));
        let mut out = Vec::new();
        encode_mutated(&bytes, &AWESOME_ADDED, &mut out).unwrap();
        assert_eq!(out, awesome_bytes(&fixtures::awesome_mutated_fields()));
    }

    #[test]
    fn unknown_kinds_are_kept() {
        let mut f = fixtures::awesome_fields();
        f.kind = 6;
        let bytes = awesome_bytes(&f);
        let m = decode(&bytes).unwrap();
        assert_eq!(m.kind, Kind::Unknown(6));
        let mut out = Vec::new();
        encode(&m, &mut out).unwrap();
        assert_eq!(out, bytes);
    }

    #[test]
    fn refuses_what_the_schema_refuses() {
        let bytes = awesome_bytes(&fixtures::awesome_fields());
        let mut reserved = bytes.clone();
        reserved[3] |= 1;
        assert!(decode(&reserved).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert!(decode(&long).is_err());
        let mut bad = bytes;
        bad[20] = 0xFF;
        assert!(decode(&bad).is_err());
    }
}

//! AwesomeRPC with binrw.

use binrw::helpers::until_eof;
use binrw::io::{Cursor, TakeSeekExt};
use binrw::{BinRead, BinResult, binread, binrw};
use mproto_runtime::FrameLen;
use smallvec::SmallVec;

use super::{read_exact, utf8, write_into};
use crate::model::{Meta, PropValue, awesome_message_type, awesome_status};

/// The flag bits: kind (3), compressed, streaming, three reserved zero bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    /// 3-bit message kind.
    pub kind: u8,
    /// Compressed body.
    pub compressed: bool,
    /// Carries a stream id.
    pub streaming: bool,
}

impl Flags {
    /// Unpacks the byte, refusing set reserved bits.
    fn from_raw(raw: u8) -> Result<Self, &'static str> {
        if raw & 0b111 != 0 {
            return Err("reserved flag bits set");
        }
        Ok(Flags {
            kind: raw >> 5,
            compressed: raw & 0b1_0000 != 0,
            streaming: raw & 0b1000 != 0,
        })
    }

    /// Packs the byte.
    fn pack(&self) -> u8 {
        (self.kind << 5) | (u8::from(self.compressed) << 4) | (u8::from(self.streaming) << 3)
    }
}

/// One header: key with a u8 length, value with a u16 length.
#[binrw]
#[brw(big)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    #[br(temp)]
    #[bw(try_calc = u8::try_from(key.len()))]
    key_len: u8,
    /// Header name.
    #[br(count = key_len, try_map = utf8)]
    #[bw(map = String::as_bytes)]
    pub key: String,
    #[br(temp)]
    #[bw(try_calc = u16::try_from(value.len()))]
    value_len: u16,
    /// Header value.
    #[br(count = value_len, try_map = utf8)]
    #[bw(map = String::as_bytes)]
    pub value: String,
}

impl Header {
    /// A header from a key and value.
    pub fn new(key: &str, value: &str) -> Self {
        Header {
            key: key.to_owned(),
            value: value.to_owned(),
        }
    }
}

/// One AwesomeRPC message.
#[binrw]
#[brw(big, magic = 0xA1B2u16)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Protocol version; only 1 exists.
    #[br(assert(version == 1))]
    pub version: u8,
    /// Kind and switches.
    #[br(try_map = Flags::from_raw)]
    #[bw(map = Flags::pack)]
    pub flags: Flags,
    /// Response status.
    pub status: u8,
    /// Request id.
    pub request_id: u64,
    /// Stream id, present when streaming.
    #[br(if(flags.streaming))]
    pub stream_id: Option<u32>,
    #[br(temp)]
    #[bw(try_calc = u16::try_from(headers_size(headers)))]
    header_len: u16,
    #[br(temp)]
    #[bw(try_calc = u32::try_from(body.len()))]
    body_len: u32,
    /// Text headers, `header_len` bytes of them.
    #[br(map_stream = |s| s.take_seek(u64::from(header_len)), parse_with = until_eof)]
    pub headers: Vec<Header>,
    /// Payload.
    #[br(count = body_len)]
    pub body: Vec<u8>,
}

/// The byte size of a header list.
fn headers_size(headers: &[Header]) -> usize {
    headers
        .iter()
        .map(|h| 3 + h.key.len() + h.value.len())
        .sum()
}

/// The fields framing needs, read with binrw like any other struct.
#[binread]
#[br(big, magic = 0xA1B2u16)]
struct Prefix {
    #[br(temp)]
    _version: u8,
    #[br(temp, try_map = Flags::from_raw)]
    flags: Flags,
    #[br(temp)]
    _status: u8,
    #[br(temp)]
    _request_id: u64,
    #[br(if(flags.streaming))]
    stream_id: Option<u32>,
    header_len: u16,
    body_len: u32,
}

/// Finds the length of the frame at the start of `buf`.
pub fn frame_len(buf: &[u8]) -> BinResult<FrameLen> {
    match Prefix::read(&mut Cursor::new(buf)) {
        Ok(p) => {
            let fixed = if p.stream_id.is_some() { 23 } else { 19 };
            let total = fixed + usize::from(p.header_len) + p.body_len as usize;
            Ok(if buf.len() >= total {
                FrameLen::Complete(total)
            } else {
                FrameLen::NeedMore(total)
            })
        }
        Err(e) if e.is_eof() => Ok(FrameLen::NeedMore(19)),
        Err(e) => Err(e),
    }
}

/// Decodes a whole frame.
pub fn decode(frame: &[u8]) -> BinResult<Message> {
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
        message_type: awesome_message_type(m.flags.kind),
        request_id: m.request_id,
        stream_id: m.stream_id.map(u64::from),
        response_status: Some(awesome_status(m.status)),
        properties,
    }
}

/// Encodes a message into `out`.
pub fn encode(m: &Message, out: &mut Vec<u8>) -> BinResult<()> {
    write_into(m, out)
}

/// Re-encodes `frame` with `set` applied to its headers (replace the first entry with the
/// same key, else append): decode, change, encode.
pub fn encode_mutated(frame: &[u8], set: &[(&str, &str)], out: &mut Vec<u8>) -> BinResult<()> {
    let mut m = decode(frame)?;
    for (k, v) in set {
        match m.headers.iter_mut().find(|h| h.key == *k) {
            Some(h) => h.value = (*v).to_owned(),
            None => m.headers.push(Header::new(k, v)),
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
            kind: m.flags.kind,
            compressed: m.flags.compressed,
            streaming: m.flags.streaming,
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

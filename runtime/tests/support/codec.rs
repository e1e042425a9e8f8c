//! A small hand-written codec for the proxy tests, standing in for a generated one.
//!
//! Frame: `u32` total length (big-endian, including itself), `u8` kind (0 request,
//! 1 response, 2 oneway, 3 heartbeat, 4 error), `u64` request id, `u16` header count,
//! headers (`u8` key length, key, `u16` value length, value), then the body.

use mproto_runtime::wire::{Sink, share_str};
use mproto_runtime::{ByteString, Bytes};
use mproto_runtime::{
    Codec, DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind, Encoded, ErrorKind,
    FrameLen, MessageType, Metadata, Mutation, ReplyError, ResponseStatus,
};

/// Bytes before the headers.
pub const HEAD: usize = 15;

/// The test protocol's codec.
#[derive(Debug, Default)]
pub struct TestCodec;

/// A test message, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub kind: u8,
    pub id: u64,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub const REQUEST: u8 = 0;
pub const RESPONSE: u8 = 1;
pub const ONEWAY: u8 = 2;
pub const HEARTBEAT: u8 = 3;
pub const ERROR: u8 = 4;

impl Msg {
    pub fn request(id: u64, headers: &[(&str, &str)]) -> Msg {
        Msg {
            kind: REQUEST,
            id,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: format!("body-{id}").into_bytes(),
        }
    }

    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_frame(
            &mut out,
            self.kind,
            self.id,
            &self.headers,
            &Bytes::from(self.body.clone()),
        );
        out
    }

    pub fn decode(frame: &[u8]) -> Option<Msg> {
        let (kind, id, headers, body_at) = parse(frame).ok()?;
        Some(Msg {
            kind,
            id,
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            body: frame.get(body_at..)?.to_vec(),
        })
    }
}

/// Writes a whole frame; the body is shared, not copied, when the sink allows it.
fn write_frame<S: Sink, K: AsRef<str>, V: AsRef<str>>(
    out: &mut S,
    kind: u8,
    id: u64,
    headers: &[(K, V)],
    body: &Bytes,
) {
    let mut len = HEAD + body.len();
    for (k, v) in headers {
        len += 3 + k.as_ref().len() + v.as_ref().len();
    }
    out.write_slice(&(len as u32).to_be_bytes());
    out.write_slice(&[kind]);
    out.write_slice(&id.to_be_bytes());
    out.write_slice(&(headers.len() as u16).to_be_bytes());
    for (k, v) in headers {
        out.write_slice(&[k.as_ref().len() as u8]);
        out.write_slice(k.as_ref().as_bytes());
        out.write_slice(&(v.as_ref().len() as u16).to_be_bytes());
        out.write_slice(v.as_ref().as_bytes());
    }
    out.write_shared(body);
}

fn err(offset: usize, kind: DecodeErrorKind) -> DecodeError {
    DecodeError::new(offset, kind)
}

fn take<'a>(frame: &'a [u8], at: &mut usize, n: usize) -> Result<&'a [u8], DecodeError> {
    let part = frame.get(*at..*at + n).ok_or_else(|| {
        err(
            *at,
            DecodeErrorKind::Truncated {
                needed: n as u64,
                available: frame.len().saturating_sub(*at) as u64,
            },
        )
    })?;
    *at += n;
    Ok(part)
}

fn text<'a>(frame: &'a [u8], at: &mut usize, n: usize) -> Result<&'a str, DecodeError> {
    let start = *at;
    let bytes = take(frame, at, n)?;
    std::str::from_utf8(bytes).map_err(|e| {
        err(
            start,
            DecodeErrorKind::Utf8 {
                valid_up_to: e.valid_up_to(),
            },
        )
    })
}

/// Kind, id, headers and the body's offset of a complete frame.
#[allow(clippy::type_complexity)]
fn parse(frame: &[u8]) -> Result<(u8, u64, Vec<(&str, &str)>, usize), DecodeError> {
    let mut at = 4;
    let kind = take(frame, &mut at, 1)?[0];
    if kind > ERROR {
        return Err(err(
            4,
            DecodeErrorKind::Enum {
                name: "Kind",
                found: u64::from(kind),
            },
        ));
    }
    let id = u64::from_be_bytes(take(frame, &mut at, 8)?.try_into().unwrap());
    let count = u16::from_be_bytes(take(frame, &mut at, 2)?.try_into().unwrap());
    let mut headers = Vec::with_capacity(usize::from(count).min(64));
    for _ in 0..count {
        let klen = usize::from(take(frame, &mut at, 1)?[0]);
        let key = text(frame, &mut at, klen)?;
        let vlen = usize::from(u16::from_be_bytes(
            take(frame, &mut at, 2)?.try_into().unwrap(),
        ));
        let value = text(frame, &mut at, vlen)?;
        headers.push((key, value));
    }
    Ok((kind, id, headers, at))
}

impl Codec for TestCodec {
    fn protocol(&self) -> &'static str {
        "testrpc"
    }

    fn codec_name(&self) -> &'static str {
        "mproto.test.codec.testrpc"
    }

    fn max_frame_len(&self) -> usize {
        1 << 20
    }

    fn frame_len(&self, buf: &[u8]) -> Result<FrameLen, DecodeError> {
        let Some(head) = buf.get(..4) else {
            return Ok(FrameLen::NeedMore(4));
        };
        let len = u32::from_be_bytes(head.try_into().unwrap()) as usize;
        if len < HEAD {
            return Err(err(0, DecodeErrorKind::BadLength { found: len as i128 }));
        }
        Ok(FrameLen::Complete(len))
    }

    fn decode(&self, frame: &Bytes) -> Result<Metadata, DecodeError> {
        let (kind, id, headers, _) = parse(frame)?;
        let mut meta = Metadata {
            message_type: match kind {
                REQUEST => MessageType::Request,
                RESPONSE => MessageType::Response,
                ONEWAY => MessageType::Oneway,
                HEARTBEAT => MessageType::Heartbeat,
                _ => MessageType::Error,
            },
            request_id: Some(id),
            ..Metadata::default()
        };
        meta.response_status = match kind {
            RESPONSE => Some(ResponseStatus::Ok),
            ERROR => Some(ResponseStatus::Error),
            _ => None,
        };
        for (k, v) in headers {
            meta.properties
                .push(share_str(frame, k), share_str(frame, v).into());
        }
        Ok(meta)
    }

    fn peek_request_id(&self, frame: &[u8]) -> Option<u64> {
        Some(u64::from_be_bytes(frame.get(5..13)?.try_into().ok()?))
    }

    fn encode(
        &self,
        frame: &Bytes,
        mutation: &Mutation,
        out: &mut Encoded,
    ) -> Result<(), EncodeError> {
        let (kind, id, headers, body_at) =
            parse(frame).map_err(|e| EncodeError::new(EncodeErrorKind::Decode(e)))?;
        let mut list: Vec<(ByteString, ByteString)> = headers
            .iter()
            .map(|(k, v)| (share_str(frame, k), share_str(frame, v)))
            .collect();
        mutation.apply_to(&mut list);
        write_frame(
            out,
            kind,
            mutation.request_id.unwrap_or(id),
            &list,
            &frame.slice(body_at..),
        );
        Ok(())
    }

    fn error_reply(
        &self,
        request: &Metadata,
        error: &ReplyError,
        out: &mut Encoded,
    ) -> Result<(), EncodeError> {
        let headers = [("error", error.kind.name()), ("message", &error.message)];
        write_frame(
            out,
            ERROR,
            request.request_id.unwrap_or(0),
            &headers,
            &Bytes::new(),
        );
        Ok(())
    }

    fn heartbeat_reply(&self, request: &Metadata, out: &mut Encoded) -> Result<(), EncodeError> {
        write_frame::<_, &str, &str>(
            out,
            HEARTBEAT,
            request.request_id.unwrap_or(0),
            &[],
            &Bytes::new(),
        );
        Ok(())
    }
}

/// The error kind an error reply reports.
pub fn error_kind(msg: &Msg) -> Option<ErrorKind> {
    let name = msg.header("error")?;
    ErrorKind::ALL.into_iter().find(|k| k.name() == name)
}

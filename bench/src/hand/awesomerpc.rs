//! Hand-tuned AwesomeRPC: `schemas/awesomerpc.mproto` written out by hand.

use bytes::Bytes;
use smallvec::SmallVec;

use super::{Error, FrameLen, be16, be32, utf8};
use crate::model::{Meta, PropValue, awesome_message_type, awesome_status};

/// The frame's magic number.
pub const MAGIC: u16 = 0xA1B2;
/// Bytes before the headers without a stream id.
const FIXED: usize = 19;
/// Bytes before the headers with a stream id.
const FIXED_STREAMING: usize = 23;
/// Payloads at least this long are shared rather than copied on re-encode (as the runtime does).
const SHARE_MIN: usize = 256;

/// An owned message, the input of `encode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Protocol version; must be 1.
    pub version: u8,
    /// 3-bit message kind.
    pub kind: u8,
    /// Compressed body.
    pub compressed: bool,
    /// Carries a stream id.
    pub streaming: bool,
    /// Response status.
    pub status: u8,
    /// Request id.
    pub request_id: u64,
    /// Stream id, present exactly when streaming.
    pub stream_id: Option<u32>,
    /// Text headers.
    pub headers: Vec<(String, String)>,
    /// Payload.
    pub body: Bytes,
}

/// A validated frame, borrowing every field.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// Protocol version.
    pub version: u8,
    /// 3-bit message kind.
    pub kind: u8,
    /// Compressed body.
    pub compressed: bool,
    /// Carries a stream id.
    pub streaming: bool,
    /// Response status.
    pub status: u8,
    /// Request id.
    pub request_id: u64,
    /// Stream id.
    pub stream_id: Option<u32>,
    /// The header block; private so that only `decode` (which validates it) makes one.
    headers: &'a [u8],
    /// Payload.
    pub body: &'a [u8],
}

impl<'a> View<'a> {
    /// The headers, in order.
    pub fn headers(&self) -> Headers<'a> {
        Headers(self.headers)
    }
}

/// Iterates a header block that `decode` validated.
#[derive(Debug, Clone)]
pub struct Headers<'a>(&'a [u8]);

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, &'a str);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (k, v, rest) = split_header(self.0)?;
        self.0 = rest;
        // SAFETY: `View` is only built by `decode`, which checked every key and value of this
        // block with `check_headers`; re-validating here would charge UTF-8 twice.
        Some(unsafe {
            (
                std::str::from_utf8_unchecked(k),
                std::str::from_utf8_unchecked(v),
            )
        })
    }
}

/// The fixed part of a frame.
struct Prefix {
    version: u8,
    flags: u8,
    status: u8,
    request_id: u64,
    stream_id: Option<u32>,
    header_len: usize,
    body_len: usize,
}

/// Splits one `key(u8 len) value(u16 len)` entry off the front of `b`.
#[inline(always)]
fn split_header(b: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (&klen, rest) = b.split_first()?;
    let (k, rest) = rest.split_at_checked(klen as usize)?;
    let (vlen, rest) = rest.split_first_chunk::<2>()?;
    let (v, rest) = rest.split_at_checked(be16(*vlen) as usize)?;
    Some((k, v, rest))
}

/// Reads and checks the fixed part; returns it and the bytes after it.
#[inline(always)]
fn prefix(frame: &[u8]) -> Result<(Prefix, &[u8]), Error> {
    let (head, rest) = frame.split_first_chunk::<13>().ok_or(Error::Short)?;
    let [m0, m1, version, flags, status, r @ ..] = *head;
    if be16([m0, m1]) != MAGIC {
        return Err(Error::Magic);
    }
    if version != 1 || flags & 0b111 != 0 {
        return Err(Error::Invalid);
    }
    let (stream_id, rest) = if flags & 0b1000 != 0 {
        let (s, rest) = rest.split_first_chunk::<4>().ok_or(Error::Short)?;
        (Some(be32(*s)), rest)
    } else {
        (None, rest)
    };
    let (lens, rest) = rest.split_first_chunk::<6>().ok_or(Error::Short)?;
    let [h0, h1, b0, b1, b2, b3] = *lens;
    let prefix = Prefix {
        version,
        flags,
        status,
        request_id: u64::from_be_bytes(r),
        stream_id,
        header_len: be16([h0, h1]) as usize,
        body_len: be32([b0, b1, b2, b3]) as usize,
    };
    Ok((prefix, rest))
}

/// Splits the rest of a frame into headers and body, requiring the frame to end exactly.
#[inline(always)]
fn sections<'a>(p: &Prefix, rest: &'a [u8]) -> Result<(&'a [u8], &'a [u8]), Error> {
    let (headers, body) = rest.split_at_checked(p.header_len).ok_or(Error::Short)?;
    if body.len() != p.body_len {
        return Err(if body.len() < p.body_len {
            Error::Short
        } else {
            Error::Length
        });
    }
    Ok((headers, body))
}

/// Text from a header block: unchecked when the whole block was found to be ASCII.
#[inline(always)]
fn text(b: &[u8], ascii: bool) -> Result<&str, Error> {
    if ascii {
        // SAFETY: every byte of the block this slice lies in is ASCII, hence UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked(b) })
    } else {
        utf8(b)
    }
}

/// Checks a header block's structure and text; an all-ASCII block (the usual case) is
/// validated in one word-at-a-time pass instead of per string.
#[inline]
fn check_headers(mut b: &[u8]) -> Result<(), Error> {
    let ascii = b.is_ascii();
    while !b.is_empty() {
        let (k, v, rest) = split_header(b).ok_or(Error::Length)?;
        text(k, ascii)?;
        text(v, ascii)?;
        b = rest;
    }
    Ok(())
}

/// Finds the length of the frame at the start of `buf`.
#[inline]
pub fn frame_len(buf: &[u8]) -> Result<FrameLen, Error> {
    if let Some([m0, m1, _, flags]) = buf.first_chunk::<4>().copied() {
        if be16([m0, m1]) != MAGIC {
            return Err(Error::Magic);
        }
        if flags & 0b111 != 0 {
            return Err(Error::Invalid);
        }
        let fixed = if flags & 0b1000 != 0 {
            FIXED_STREAMING
        } else {
            FIXED
        };
        let Some(lens) = buf.get(fixed - 6..).and_then(|b| b.first_chunk::<6>()) else {
            return Ok(FrameLen::NeedMore(fixed));
        };
        let [h0, h1, b0, b1, b2, b3] = *lens;
        let total = fixed + be16([h0, h1]) as usize + be32([b0, b1, b2, b3]) as usize;
        Ok(if buf.len() >= total {
            FrameLen::Complete(total)
        } else {
            FrameLen::NeedMore(total)
        })
    } else {
        match buf {
            [m0, m1, ..] if be16([*m0, *m1]) != MAGIC => Err(Error::Magic),
            _ => Ok(FrameLen::NeedMore(FIXED)),
        }
    }
}

/// Decodes and validates a frame into a borrowed view.
#[inline]
pub fn decode(frame: &[u8]) -> Result<View<'_>, Error> {
    let (p, rest) = prefix(frame)?;
    let (headers, body) = sections(&p, rest)?;
    check_headers(headers)?;
    Ok(View {
        version: p.version,
        kind: p.flags >> 5,
        compressed: p.flags & 0b1_0000 != 0,
        streaming: p.flags & 0b1000 != 0,
        status: p.status,
        request_id: p.request_id,
        stream_id: p.stream_id,
        headers,
        body,
    })
}

/// Decodes routing metadata in one pass: validation and property collection together.
#[inline]
pub fn decode_metadata(frame: &[u8]) -> Result<Meta<'_>, Error> {
    let (p, rest) = prefix(frame)?;
    let (mut headers, _body) = sections(&p, rest)?;
    let ascii = headers.is_ascii();
    let mut properties = SmallVec::new();
    properties.push(("version", PropValue::Int(i64::from(p.version))));
    while !headers.is_empty() {
        let (k, v, rest) = split_header(headers).ok_or(Error::Length)?;
        properties.push((text(k, ascii)?, PropValue::Text(text(v, ascii)?)));
        headers = rest;
    }
    Ok(Meta {
        message_type: awesome_message_type(p.flags >> 5),
        request_id: p.request_id,
        stream_id: p.stream_id.map(u64::from),
        response_status: Some(awesome_status(p.status)),
        properties,
    })
}

/// Writes the fixed part for the given lengths into `out`.
#[inline(always)]
fn put_prefix(out: &mut Vec<u8>, p: &Prefix) {
    let mut head = [0u8; FIXED_STREAMING];
    let [m0, m1] = MAGIC.to_be_bytes();
    let [r0, r1, r2, r3, r4, r5, r6, r7] = p.request_id.to_be_bytes();
    let [h0, h1] = (p.header_len as u16).to_be_bytes();
    let [b0, b1, b2, b3] = (p.body_len as u32).to_be_bytes();
    let n = match p.stream_id {
        Some(s) => {
            let [s0, s1, s2, s3] = s.to_be_bytes();
            head = [
                m0, m1, p.version, p.flags, p.status, r0, r1, r2, r3, r4, r5, r6, r7, s0, s1, s2,
                s3, h0, h1, b0, b1, b2, b3,
            ];
            FIXED_STREAMING
        }
        None => {
            head[..FIXED].copy_from_slice(&[
                m0, m1, p.version, p.flags, p.status, r0, r1, r2, r3, r4, r5, r6, r7, h0, h1, b0,
                b1, b2, b3,
            ]);
            FIXED
        }
    };
    out.extend_from_slice(&head[..n]);
}

/// Appends one header entry.
#[inline(always)]
fn put_header(out: &mut Vec<u8>, k: &str, v: &str) {
    out.push(k.len() as u8);
    out.extend_from_slice(k.as_bytes());
    out.extend_from_slice(&(v.len() as u16).to_be_bytes());
    out.extend_from_slice(v.as_bytes());
}

/// The byte size of one header entry, or an error if a length does not fit its prefix.
#[inline(always)]
fn header_size(k: &str, v: &str) -> Result<usize, Error> {
    if k.len() > u8::MAX as usize || v.len() > u16::MAX as usize {
        return Err(Error::Length);
    }
    Ok(3 + k.len() + v.len())
}

/// Encodes an owned message, computing both lengths.
#[inline]
pub fn encode(m: &Message, out: &mut Vec<u8>) -> Result<(), Error> {
    let mut header_len = 0;
    for (k, v) in &m.headers {
        header_len += header_size(k, v)?;
    }
    if header_len > u16::MAX as usize
        || u32::try_from(m.body.len()).is_err()
        || m.version != 1
        || m.kind > 7
        || m.streaming != m.stream_id.is_some()
    {
        return Err(Error::Length);
    }
    let flags = (m.kind << 5) | (u8::from(m.compressed) << 4) | (u8::from(m.streaming) << 3);
    put_prefix(
        out,
        &Prefix {
            version: m.version,
            flags,
            status: m.status,
            request_id: m.request_id,
            stream_id: m.stream_id,
            header_len,
            body_len: m.body.len(),
        },
    );
    for (k, v) in &m.headers {
        put_header(out, k, v);
    }
    out.extend_from_slice(&m.body);
    Ok(())
}

/// Re-encodes `frame` with `set` applied to its headers (replace the first entry with the
/// same key, else append). The new head goes to `out`; a large body comes back as a shared
/// slice of `frame` instead of being copied.
pub fn encode_mutated(
    frame: &Bytes,
    set: &[(&str, &str)],
    out: &mut Vec<u8>,
) -> Result<Option<Bytes>, Error> {
    let (p, rest) = prefix(frame)?;
    let (headers, body) = sections(&p, rest)?;
    check_headers(headers)?;
    // Which mutations replace an existing header; the rest are appended.
    let mut replaces = 0u64;
    for (k, _) in Headers(headers) {
        for (i, (key, _)) in set.iter().enumerate() {
            if *key == k {
                replaces |= 1 << i;
            }
        }
    }
    let mut header_len = headers.len();
    for (i, (k, v)) in set.iter().enumerate() {
        if replaces & (1 << i) == 0 {
            header_len += header_size(k, v)?;
        }
    }
    if replaces != 0 {
        // Slow path: rebuild the block with replaced values.
        header_len = 0;
        for (k, v) in Headers(headers) {
            header_len += header_size(k, replaced(set, k).unwrap_or(v))?;
        }
        for (i, (k, v)) in set.iter().enumerate() {
            if replaces & (1 << i) == 0 {
                header_len += header_size(k, v)?;
            }
        }
    }
    if header_len > u16::MAX as usize {
        return Err(Error::Length);
    }
    put_prefix(out, &Prefix { header_len, ..p });
    if replaces == 0 {
        // Fast path: existing headers are copied as one block.
        out.extend_from_slice(headers);
    } else {
        for (k, v) in Headers(headers) {
            put_header(out, k, replaced(set, k).unwrap_or(v));
        }
    }
    for (i, (k, v)) in set.iter().enumerate() {
        if replaces & (1 << i) == 0 {
            put_header(out, k, v);
        }
    }
    Ok(share_or_copy(frame, body, out))
}

/// The first value `set` gives for `key`.
fn replaced<'s>(set: &[(&str, &'s str)], key: &str) -> Option<&'s str> {
    set.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// Shares `body` (a slice of `frame`) when it is large, else appends a copy to `out`.
#[inline(always)]
pub(crate) fn share_or_copy(frame: &Bytes, body: &[u8], out: &mut Vec<u8>) -> Option<Bytes> {
    if body.len() >= SHARE_MIN {
        Some(frame.slice_ref(body))
    } else {
        out.extend_from_slice(body);
        None
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fixtures::{self, AWESOME_ADDED, as_frame, awesome_bytes};
    use crate::model::AwesomeFields;

    /// Every field of a view, owned.
    pub(crate) fn fields(v: &View<'_>) -> AwesomeFields {
        AwesomeFields {
            version: v.version,
            kind: v.kind,
            compressed: v.compressed,
            streaming: v.streaming,
            status: v.status,
            request_id: v.request_id,
            stream_id: v.stream_id,
            headers: v
                .headers()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            body: v.body.to_vec(),
        }
    }

    fn owned(f: &AwesomeFields) -> Message {
        Message {
            version: f.version,
            kind: f.kind,
            compressed: f.compressed,
            streaming: f.streaming,
            status: f.status,
            request_id: f.request_id,
            stream_id: f.stream_id,
            headers: f.headers.clone(),
            body: Bytes::from(f.body.clone()),
        }
    }

    #[test]
    fn decodes_and_encodes_the_hand_built_frames() {
        for f in [
            fixtures::awesome_fields(),
            fixtures::awesome_streaming_fields(),
        ] {
            let bytes = awesome_bytes(&f);
            assert_eq!(fields(&decode(&bytes).unwrap()), f);
            assert_eq!(frame_len(&bytes), Ok(FrameLen::Complete(bytes.len())));
            let mut out = Vec::new();
            encode(&owned(&f), &mut out).unwrap();
            assert_eq!(out, bytes);
        }
    }

    #[test]
    fn frame_len_asks_for_more_and_refuses_garbage() {
        let bytes = awesome_bytes(&fixtures::awesome_fields());
        assert_eq!(frame_len(&bytes[..1]), Ok(FrameLen::NeedMore(FIXED)));
        assert_eq!(frame_len(&bytes[..10]), Ok(FrameLen::NeedMore(FIXED)));
        assert_eq!(frame_len(&bytes[..30]), Ok(FrameLen::NeedMore(bytes.len())));
        assert_eq!(frame_len(b"\x00\x00"), Err(Error::Magic));
        let mut reserved = bytes.clone();
        reserved[3] |= 1;
        assert_eq!(frame_len(&reserved), Err(Error::Invalid));
        assert_eq!(decode(&reserved).unwrap_err(), Error::Invalid);
    }

    #[test]
    fn decode_rejects_bad_lengths_and_text() {
        let bytes = awesome_bytes(&fixtures::awesome_fields());
        assert_eq!(decode(&bytes[..bytes.len() - 1]).unwrap_err(), Error::Short);
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(decode(&long).unwrap_err(), Error::Length);
        let mut bad = bytes.clone();
        bad[20] = 0xFF; // inside the first key
        assert_eq!(decode(&bad).unwrap_err(), Error::Utf8);
        assert_eq!(decode_metadata(&bad).unwrap_err(), Error::Utf8);
    }

    #[test]
    fn metadata_borrows_every_header() {
        let bytes = awesome_bytes(&fixtures::awesome_fields());
        let meta = decode_metadata(&bytes).unwrap();
        assert_eq!(meta.request_id, 0x0102_0304_0506_0708);
        assert_eq!(meta.properties.len(), 9);
        assert_eq!(meta.properties[0], ("version", PropValue::Int(1)));
        let (_, PropValue::Text(service)) = meta.properties[1] else {
            panic!("service is text")
        };
        assert_eq!(service, "com.example.UserService");
        assert!(bytes.as_ptr_range().contains(&service.as_ptr()));
        assert!(!meta.properties.spilled());
    }

    #[test]
    fn mutation_appends_and_replaces() {
        let frame = as_frame(&awesome_bytes(&fixtures::awesome_fields()));
        let mut out = Vec::new();
        let body = encode_mutated(&frame, &AWESOME_ADDED, &mut out).unwrap();
        let body = body.expect("a 1 KiB body is shared");
        assert_eq!(body.as_ptr(), frame[frame.len() - 1024..].as_ptr());
        out.extend_from_slice(&body);
        assert_eq!(out, awesome_bytes(&fixtures::awesome_mutated_fields()));

        let mut out = Vec::new();
        let set = [("method", "getUser"), ("x-new", "1")];
        let body = encode_mutated(&frame, &set, &mut out).unwrap().unwrap();
        out.extend_from_slice(&body);
        let mut expected = fixtures::awesome_fields();
        expected.headers[1].1 = "getUser".to_owned();
        expected.headers.push(("x-new".to_owned(), "1".to_owned()));
        assert_eq!(out, awesome_bytes(&expected));
    }
}

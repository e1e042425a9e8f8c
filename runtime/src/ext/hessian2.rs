//! Hessian2 strings, the text encoding of Dubbo's default serialization.
//!
//! Supports strings sent as one final chunk (the form every Hessian2 writer uses
//! for text under 32 KiB); multi-chunk strings are rejected with an error.

use bytes::Bytes;
use bytestring::ByteString;

use super::Extern;
use crate::wire::{Sink, share_str};

/// A Hessian2 string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hessian2Str;

/// Longest string, in UTF-16 units, that fits one chunk.
const MAX_CHUNK: usize = 0xffff;

impl Extern for Hessian2Str {
    type Ref<'a> = &'a str;
    type Owned = ByteString;

    fn decode(buf: &[u8]) -> Result<(&str, usize), String> {
        let (&tag, rest) = buf
            .split_first()
            .ok_or("expected a Hessian2 string, found the end of the data")?;
        let (units, header) = match tag {
            0x00..=0x1f => (usize::from(tag), 1),
            0x30..=0x33 => {
                let low = *rest.first().ok_or("truncated Hessian2 string length")?;
                ((usize::from(tag - 0x30) << 8) | usize::from(low), 2)
            }
            b'S' => match rest {
                [hi, lo, ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), 3),
                _ => return Err("truncated Hessian2 string length".into()),
            },
            b'N' => return Ok(("", 1)),
            b'R' => return Err("multi-chunk Hessian2 strings are not supported".into()),
            other => {
                return Err(format!(
                    "expected a Hessian2 string, found tag {other:#04x}"
                ));
            }
        };
        let body = buf.get(header..).unwrap_or_default();
        let len = utf8_len_of_units(body, units).ok_or("truncated or invalid Hessian2 string")?;
        let text = body.get(..len).ok_or("truncated Hessian2 string")?;
        let text = std::str::from_utf8(text)
            .map_err(|e| format!("invalid UTF-8 in Hessian2 string: {e}"))?;
        Ok((text, header + len))
    }

    fn to_owned(value: &str, frame: &Bytes) -> ByteString {
        share_str(frame, value)
    }

    fn encoded_len(value: &ByteString) -> usize {
        header_len(value.encode_utf16().count()) + value.len()
    }

    fn encode<S: Sink + ?Sized>(value: &ByteString, out: &mut S) -> Result<(), String> {
        let units = value.encode_utf16().count();
        match units {
            0..=31 => out.write_slice(&[units as u8]),
            32..=1023 => out.write_slice(&[0x30 + (units >> 8) as u8, units as u8]),
            _ if units <= MAX_CHUNK => {
                out.write_slice(b"S");
                out.write_slice(&(units as u16).to_be_bytes());
            }
            _ => {
                return Err(format!(
                    "Hessian2 string of {units} UTF-16 units needs several chunks"
                ));
            }
        }
        out.write_slice(value.as_bytes());
        Ok(())
    }
}

fn header_len(units: usize) -> usize {
    match units {
        0..=31 => 1,
        32..=1023 => 2,
        _ => 3,
    }
}

/// Bytes taken by the first `units` UTF-16 units of UTF-8 text.
fn utf8_len_of_units(body: &[u8], units: usize) -> Option<usize> {
    let mut pos = 0;
    let mut seen = 0;
    while seen < units {
        let lead = *body.get(pos)?;
        let (bytes, width) = match lead {
            0x00..=0x7f => (1, 1),
            0xc0..=0xdf => (2, 1),
            0xe0..=0xef => (3, 1),
            0xf0..=0xf7 => (4, 2),
            _ => return None,
        };
        pos += bytes;
        seen += width;
    }
    (seen == units && pos <= body.len()).then_some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> Vec<u8> {
        let owned = ByteString::from(text);
        let mut out = Vec::new();
        Hessian2Str::encode(&owned, &mut out).unwrap();
        assert_eq!(out.len(), Hessian2Str::encoded_len(&owned));
        let (decoded, used) = Hessian2Str::decode(&out).unwrap();
        assert_eq!(decoded, text);
        assert_eq!(used, out.len());
        out
    }

    #[test]
    fn short_medium_and_long_forms() {
        assert_eq!(round_trip("hi"), [2, b'h', b'i']);
        assert_eq!(round_trip("")[0], 0);
        assert_eq!(round_trip(&"x".repeat(40))[..2], [0x30, 40]);
        assert_eq!(round_trip(&"x".repeat(2000))[..3], [b'S', 0x07, 0xd0]);
        round_trip("héllo wörld ✓ 𝄞");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Hessian2Str::decode(&[]).is_err());
        assert!(Hessian2Str::decode(&[5, b'a']).is_err());
        assert!(Hessian2Str::decode(&[b'R', 0, 1, b'a']).is_err());
        assert!(Hessian2Str::decode(&[0x90]).is_err());
        assert!(Hessian2Str::decode(&[1, 0xff]).is_err());
    }
}

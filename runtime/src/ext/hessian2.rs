//! Hessian2 strings, the text encoding of Dubbo's default serialization.
//!
//! Supports strings sent as one final chunk (the form every Hessian2 writer uses
//! for text under 32 KiB); multi-chunk strings are rejected with an error.
//!
//! Hessian2 counts a string's length in UTF-16 units and, in the Java
//! implementation that Dubbo uses, writes each unit as UTF-8, so a character outside
//! the Basic Multilingual Plane travels as its two surrogates, three bytes each; Java's
//! reader accepts nothing longer than three bytes. Strings are written that way.
//! Reading borrows the text from the frame, which surrogates cannot be part of in Rust,
//! so such a string is refused with an error that says so; four-byte UTF-8 (as other
//! writers send) is read.

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
        let text = std::str::from_utf8(text).map_err(|e| refusal(text, &e))?;
        Ok((text, header + len))
    }

    fn to_owned(value: &str, frame: &Bytes) -> ByteString {
        share_str(frame, value)
    }

    fn encoded_len(value: &ByteString) -> usize {
        // Each four-byte character is written as two three-byte surrogates.
        header_len(value.encode_utf16().count()) + value.len() + 2 * supplementary(value)
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
        write_units(value, out);
        Ok(())
    }
}

/// How many characters of `text` lie outside the Basic Multilingual Plane (the lead
/// bytes of four-byte sequences).
fn supplementary(text: &str) -> usize {
    text.bytes().filter(|&b| b >= 0xf0).count()
}

/// Writes `text` as Java's Hessian2 writer does: UTF-8, except that a character outside
/// the Basic Multilingual Plane is written as its two UTF-16 surrogates, three bytes each.
fn write_units<S: Sink + ?Sized>(text: &str, out: &mut S) {
    let mut run = 0;
    for (at, c) in text.char_indices().filter(|(_, c)| c.len_utf8() == 4) {
        out.write_slice(&text.as_bytes()[run..at]);
        let mut units = [0u16; 2];
        for &unit in c.encode_utf16(&mut units).iter() {
            out.write_slice(&[
                0xe0 | (unit >> 12) as u8,
                0x80 | ((unit >> 6) & 0x3f) as u8,
                0x80 | (unit & 0x3f) as u8,
            ]);
        }
        run = at + 4;
    }
    out.write_slice(&text.as_bytes()[run..]);
}

/// The error for text that is not UTF-8, naming surrogates (what Java writes for a
/// character outside the Basic Multilingual Plane) when that is why.
fn refusal(text: &[u8], e: &std::str::Utf8Error) -> String {
    let at = e.valid_up_to();
    match text.get(at..at + 2) {
        Some([0xed, 0xa0..=0xbf]) => format!(
            "Hessian2 string with a UTF-16 surrogate at byte {at} of its text (a character outside the \
             Basic Multilingual Plane, as Java writes it): not supported, the text must be \
             borrowed as UTF-8"
        ),
        _ => format!("invalid UTF-8 in Hessian2 string: {e}"),
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
        round_trip("héllo wörld ✓");
    }

    #[test]
    fn characters_outside_the_bmp_are_written_as_java_writes_them() {
        // U+1D11E is D834 DD1E in UTF-16; Java writes each surrogate as three bytes.
        let owned = ByteString::from("a𝄞b🌍");
        let mut out = Vec::new();
        Hessian2Str::encode(&owned, &mut out).unwrap();
        let expected: &[u8] = &[
            6, b'a', 0xed, 0xa0, 0xb4, 0xed, 0xb4, 0x9e, b'b', 0xed, 0xa0, 0xbc, 0xed, 0xbc, 0x8d,
        ];
        assert_eq!(out, expected);
        assert_eq!(Hessian2Str::encoded_len(&owned), expected.len());
        let e = Hessian2Str::decode(&out).unwrap_err();
        assert!(e.contains("surrogate at byte 1"), "{e}");
        // Four-byte UTF-8, as other writers send it, is read: 𝄞 counts two units.
        assert_eq!(
            Hessian2Str::decode(&[3, b'a', 0xf0, 0x9d, 0x84, 0x9e]),
            Ok(("a𝄞", 6))
        );
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

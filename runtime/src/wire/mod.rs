//! Wire helpers shared by generated codecs: the reader, sinks, varints and zero-copy slicing.

mod reader;
mod sink;
mod walk;

pub use reader::Reader;
pub use sink::{Counter, Crc32, Encoded, SHARE_MIN, Sink, Sum8, Xor8};
pub use walk::{Stop, Walk, conclude, finish_at};

use bytes::Bytes;
use bytestring::ByteString;

/// Bytes of padding that bring `pos` to a multiple of `align`.
#[inline]
pub fn padding_to(pos: usize, align: usize) -> usize {
    if align <= 1 {
        0
    } else {
        (align - pos % align) % align
    }
}

/// Maps a signed value onto the unsigned zigzag encoding.
#[inline]
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Reverses [`zigzag`].
#[inline]
pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Length of `v` as an unsigned LEB128 varint.
#[inline]
pub fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Writes `v` as an unsigned LEB128 varint.
#[inline]
pub fn put_varint<S: Sink + ?Sized>(out: &mut S, mut v: u64) {
    let mut buf = [0u8; 10];
    let mut n = 0;
    for slot in buf.iter_mut() {
        n += 1;
        if v < 0x80 {
            *slot = v as u8;
            break;
        }
        *slot = (v as u8) | 0x80;
        v >>= 7;
    }
    out.write_slice(buf.get(..n).unwrap_or_default());
}

/// Writes `part` of `frame`: shared when it is large enough to be worth a
/// reference, copied otherwise.
#[inline]
pub fn write_part<S: Sink + ?Sized>(out: &mut S, frame: &Bytes, part: &[u8]) {
    if part.len() >= SHARE_MIN {
        out.write_owned(share(frame, part));
    } else {
        out.write_slice(part);
    }
}

/// A `Bytes` for `part`, which lies inside `frame`, without copying.
///
/// Falls back to a copy when `part` is not inside `frame`, so a caller's
/// mistake costs an allocation, never a panic.
#[inline]
pub fn share(frame: &Bytes, part: &[u8]) -> Bytes {
    match offset_in(frame, part) {
        Some(start) => frame.slice(start..start + part.len()),
        None => Bytes::copy_from_slice(part),
    }
}

/// A [`ByteString`] for `part`, which lies inside `frame`, without copying or revalidating.
#[inline]
pub fn share_str(frame: &Bytes, part: &str) -> ByteString {
    match offset_in(frame, part.as_bytes()) {
        Some(start) => {
            let bytes = frame.slice(start..start + part.len());
            // SAFETY: `bytes` holds exactly the bytes of `part`, which is a `&str`
            // and therefore valid UTF-8.
            #[allow(unsafe_code)]
            unsafe {
                ByteString::from_bytes_unchecked(bytes)
            }
        }
        None => ByteString::from(part),
    }
}

fn offset_in(frame: &[u8], part: &[u8]) -> Option<usize> {
    let base = frame.as_ptr() as usize;
    let start = (part.as_ptr() as usize).checked_sub(base)?;
    let end = start.checked_add(part.len())?;
    (end <= frame.len()).then_some(start)
}

/// Renders a value for an error message.
#[inline]
pub fn render<T: std::fmt::Debug>(value: &T) -> String {
    format!("{value:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn share_borrows_inside_and_copies_outside() {
        let frame = Bytes::from_static(b"hello world");
        let inside = share(&frame, &frame[6..]);
        assert_eq!(inside.as_ptr(), frame[6..].as_ptr());
        let other = b"elsewhere".to_vec();
        let outside = share(&frame, &other);
        assert_eq!(&outside[..], b"elsewhere");
        let text = std::str::from_utf8(&frame[..5]).unwrap();
        let s = share_str(&frame, text);
        assert_eq!(&*s, "hello");
        assert_eq!(s.as_bytes().as_ptr(), frame.as_ptr());
    }

    #[test]
    fn padding() {
        assert_eq!(padding_to(0, 4), 0);
        assert_eq!(padding_to(5, 4), 3);
        assert_eq!(padding_to(5, 0), 0);
    }

    proptest! {
        #[test]
        fn varint_round_trip(v: u64) {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            prop_assert_eq!(out.len(), varint_len(v));
            prop_assert_eq!(Reader::new(&out).varint().unwrap(), v);
        }

        #[test]
        fn zigzag_round_trip(v: i64) {
            prop_assert_eq!(unzigzag(zigzag(v)), v);
            let mut out = Vec::new();
            put_varint(&mut out, zigzag(v));
            prop_assert_eq!(Reader::new(&out).zigzag().unwrap(), v);
        }
    }
}

//! A bounds-checked cursor over a frame, used by generated decoders.

use crate::error::{DecodeError, DecodeErrorKind};

/// A cursor over a frame that never panics and never copies.
///
/// Positions are absolute offsets from the start of the frame, so errors raised
/// inside nested windows still report where in the frame they happened.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
    /// The window as text, when all of it is UTF-8 (see [`Reader::with_text`]),
    /// and where in the frame it starts.
    text: Option<(&'a str, usize)>,
}

impl<'a> Reader<'a> {
    /// A reader over a whole frame.
    #[inline]
    pub fn new(frame: &'a [u8]) -> Self {
        Reader {
            buf: frame,
            pos: 0,
            end: frame.len(),
            text: None,
        }
    }

    /// A reader over `start..end` of the same frame (empty if out of bounds).
    #[inline]
    pub fn between(&self, start: usize, end: usize) -> Self {
        let end = end.min(self.buf.len());
        Reader {
            buf: self.buf,
            pos: start.min(end),
            end,
            text: self.text,
        }
    }

    /// The unread bytes of the window, without consuming them.
    #[inline]
    pub fn peek(&self) -> &'a [u8] {
        self.buf.get(self.pos..self.end).unwrap_or_default()
    }

    /// The current offset from the start of the frame.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left before the end of the current window.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.end - self.pos
    }

    /// True when the window has been read to its end.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    /// An error at the current position.
    #[inline]
    pub fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(self.pos, kind)
    }

    // Inline so that a reader never has its address taken for an error: a reader
    // that escapes is kept in memory, stored on every decode.
    #[inline]
    fn truncated(&self, needed: u64) -> DecodeError {
        truncated_at(self.pos, needed, self.remaining())
    }

    /// Takes exactly `N` bytes as an array.
    #[inline]
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        match self.peek().first_chunk::<N>() {
            Some(bytes) => {
                self.pos += N;
                Ok(*bytes)
            }
            None => Err(self.truncated(N as u64)),
        }
    }

    /// Borrows exactly `N` bytes as an array reference.
    #[inline]
    pub fn fixed<const N: usize>(&mut self) -> Result<&'a [u8; N], DecodeError> {
        match self.peek().first_chunk::<N>() {
            Some(bytes) => {
                self.pos += N;
                Ok(bytes)
            }
            None => Err(self.truncated(N as u64)),
        }
    }

    /// Borrows the next `N` bytes and advances past them, or `None` (and no move) when
    /// the window holds fewer: generated decoders read a run of fixed-size fields as
    /// one chunk this way, and fall back to field-by-field reads (which say which
    /// field is cut short) when it is missing.
    #[inline]
    pub fn chunk<const N: usize>(&mut self) -> Option<&'a [u8; N]> {
        let bytes = self.peek().first_chunk::<N>()?;
        self.pos += N;
        Some(bytes)
    }

    /// Takes `n` bytes, borrowed from the frame.
    #[inline]
    pub fn bytes(&mut self, n: u64) -> Result<&'a [u8], DecodeError> {
        let taken = usize::try_from(n).ok().and_then(|n| self.peek().get(..n));
        match taken {
            Some(bytes) => {
                self.pos += bytes.len();
                Ok(bytes)
            }
            None => Err(self.truncated(n)),
        }
    }

    /// Takes `n` bytes that must end the window: a frame's last field, read by `decode`.
    ///
    /// One comparison where [`Reader::bytes`] then [`Reader::finish`] take two, with the
    /// same errors: `Truncated` when fewer remain, and `Trailing` when more do. The caller
    /// reports `Trailing` outside any field, as `finish` does.
    #[inline(always)]
    pub fn bytes_to_end(&mut self, n: u64) -> Result<&'a [u8], DecodeError> {
        let rest = self.peek();
        if n == rest.len() as u64 {
            self.pos = self.end;
            return Ok(rest);
        }
        // Values in, an error out: passing `self` would keep the reader in memory on
        // the fast path too.
        Err(not_to_end(self.pos, rest.len(), n))
    }

    /// Takes a length given by an expression, rejecting negative lengths.
    #[inline]
    pub fn bytes_checked(&mut self, n: i128) -> Result<&'a [u8], DecodeError> {
        let n =
            u64::try_from(n).map_err(|_| self.error(DecodeErrorKind::BadLength { found: n }))?;
        self.bytes(n)
    }

    /// Takes everything up to the end of the window.
    #[inline]
    pub fn rest(&mut self) -> &'a [u8] {
        let start = self.pos;
        self.pos = self.end;
        self.buf.get(start..self.end).unwrap_or_default()
    }

    /// Takes bytes up to a NUL, consuming the NUL but not returning it.
    #[inline]
    pub fn until_nul(&mut self) -> Result<&'a [u8], DecodeError> {
        let window = self.buf.get(self.pos..self.end).unwrap_or_default();
        match window.iter().position(|&b| b == 0) {
            Some(n) => {
                let text = self.bytes(n as u64)?;
                self.pos += 1;
                Ok(text)
            }
            None => Err(self.error(DecodeErrorKind::MissingNul)),
        }
    }

    /// Skips `n` bytes (padding).
    #[inline]
    pub fn skip(&mut self, n: u64) -> Result<(), DecodeError> {
        self.bytes(n).map(|_| ())
    }

    /// Skips to the next multiple of `align` bytes from the start of the frame.
    #[inline]
    pub fn align(&mut self, align: usize) -> Result<(), DecodeError> {
        self.skip(crate::wire::padding_to(self.pos, align) as u64)
    }

    /// Splits off the next `n` bytes as a window and advances past them.
    #[inline]
    pub fn window(&mut self, n: u64) -> Result<Reader<'a>, DecodeError> {
        let start = self.pos;
        self.bytes(n)?;
        Ok(Reader {
            buf: self.buf,
            pos: start,
            end: self.pos,
            text: self.text,
        })
    }

    /// Fails unless the window has been read to its end.
    #[inline]
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(DecodeErrorKind::Trailing {
                extra: self.remaining() as u64,
            }))
        }
    }

    /// The bytes between two positions of this reader's frame.
    #[inline]
    pub fn span(&self, start: usize, end: usize) -> &'a [u8] {
        self.buf.get(start..end).unwrap_or_default()
    }

    /// Reads one byte.
    #[inline]
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    /// Reads a bool stored as one byte, 0 or 1.
    #[inline]
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        let at = self.pos;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            found => Err(DecodeError::new(at, DecodeErrorKind::Bool { found })),
        }
    }

    /// Reads an unsigned LEB128 varint of at most 64 bits.
    #[inline]
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..10u32 {
            let byte = self.u8().map_err(|_| {
                DecodeError::new(
                    start,
                    DecodeErrorKind::Truncated {
                        needed: u64::from(i) + 1,
                        available: u64::from(i),
                    },
                )
            })?;
            let low = u64::from(byte & 0x7f);
            if i == 9 && low > 1 {
                break;
            }
            value |= low << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::new(start, DecodeErrorKind::Varint))
    }

    /// Reads a zigzag-encoded signed varint.
    #[inline]
    pub fn zigzag(&mut self) -> Result<i64, DecodeError> {
        self.varint().map(crate::wire::unzigzag)
    }

    /// Checks text for UTF-8, reporting the offset of the first bad byte.
    #[inline(always)]
    pub fn utf8(&self, start: usize, bytes: &'a [u8]) -> Result<&'a str, DecodeError> {
        // Inside a window already known to be UTF-8, a slice at character boundaries
        // is text too: an O(1) check instead of validating the bytes again.
        if let Some((text, at)) = self.text {
            let from = start.wrapping_sub(at);
            if let Some(s) = from
                .checked_add(bytes.len())
                .and_then(|to| text.get(from..to))
            {
                return Ok(s);
            }
        }
        // Header text is nearly always ASCII, which `is_ascii` checks a word at a
        // time; `from_utf8` walks a short string byte by byte (133 instructions for
        // Thrift's 14-byte method name). Inlined here, the check costs Thrift's full
        // decode 14 instructions less than a call into a safe wrapper crate.
        if bytes.is_ascii() {
            // SAFETY: every ASCII byte is a one-byte UTF-8 character.
            #[allow(unsafe_code)]
            return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
        }
        Self::utf8_slow(start, bytes)
    }

    /// Validates text that is not ASCII.
    #[cold]
    #[inline(never)]
    fn utf8_slow(start: usize, bytes: &'a [u8]) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(bytes).map_err(|e| {
            DecodeError::new(
                start + e.valid_up_to(),
                DecodeErrorKind::Utf8 {
                    valid_up_to: e.valid_up_to(),
                },
            )
        })
    }

    /// This reader moved back to `pos`, an offset it has passed: generated decoders start a
    /// struct over from its first field this way, without keeping a copy of the reader.
    #[inline]
    pub fn rewound(mut self, pos: usize) -> Self {
        self.pos = pos;
        self
    }

    /// This reader with `text`, the unread window known to be text (checked once by the
    /// caller), so that text fields inside it need no validation of their own.
    #[inline]
    pub fn with_text(mut self, text: Option<&'a str>) -> Self {
        if let Some(text) = text
            && std::ptr::eq(text.as_bytes(), self.peek())
        {
            self.text = Some((text, self.pos));
        }
        self
    }
}

macro_rules! int_readers {
    ($($be:ident $le:ident $ty:ty;)*) => {
        impl<'a> Reader<'a> {
            $(
                #[doc = concat!("Reads a big-endian `", stringify!($ty), "`.")]
                #[inline]
                pub fn $be(&mut self) -> Result<$ty, DecodeError> {
                    self.array().map(<$ty>::from_be_bytes)
                }

                #[doc = concat!("Reads a little-endian `", stringify!($ty), "`.")]
                #[inline]
                pub fn $le(&mut self) -> Result<$ty, DecodeError> {
                    self.array().map(<$ty>::from_le_bytes)
                }
            )*
        }
    };
}

int_readers! {
    u16_be u16_le u16;
    u32_be u32_le u32;
    u64_be u64_le u64;
    i16_be i16_le i16;
    i32_be i32_le i32;
    i64_be i64_le i64;
    f32_be f32_le f32;
    f64_be f64_le f64;
}

impl<'a> Reader<'a> {
    /// Reads one signed byte.
    #[inline]
    pub fn i8(&mut self) -> Result<i8, DecodeError> {
        self.array().map(i8::from_be_bytes)
    }
}

/// `needed` bytes were wanted at `pos`, where the window has `available`.
#[inline]
fn truncated_at(pos: usize, needed: u64, available: usize) -> DecodeError {
    DecodeError::new(
        pos,
        DecodeErrorKind::Truncated {
            needed,
            available: available as u64,
        },
    )
}

/// The error of [`Reader::bytes_to_end`] when `available` bytes at `pos` are not `n`.
#[cold]
#[inline(never)]
fn not_to_end(pos: usize, available: usize, n: u64) -> DecodeError {
    // An `n` below `available` fits a `usize`, and `pos + n` stays inside the frame.
    match usize::try_from(n).ok().filter(|&n| n < available) {
        Some(n) => DecodeError::new(
            pos + n,
            DecodeErrorKind::Trailing {
                extra: (available - n) as u64,
            },
        ),
        None => truncated_at(pos, n, available),
    }
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Strategy as _;

    use super::*;

    #[test]
    fn reads_integers_both_ways() {
        let mut r = Reader::new(&[0x12, 0x34, 0x12, 0x34]);
        assert_eq!(r.u16_be().unwrap(), 0x1234);
        assert_eq!(r.u16_le().unwrap(), 0x3412);
        assert!(r.is_empty());
    }

    #[test]
    fn a_rewound_reader_reads_the_same_bytes_again() {
        let mut r = Reader::new(&[0xab, 0xcd, 0xef]);
        let start = r.pos();
        assert_eq!(r.u16_be().unwrap(), 0xabcd);
        let mut again = r.rewound(start);
        assert_eq!(again.u16_be().unwrap(), 0xabcd);
        assert_eq!(again.u8().unwrap(), 0xef);
        assert_eq!(
            r.u8().unwrap(),
            0xef,
            "rewinding a copy leaves the reader where it was"
        );
    }

    #[test]
    fn truncation_reports_offset_and_sizes() {
        let mut r = Reader::new(&[1, 2, 3]);
        r.u8().unwrap();
        let err = r.u32_be().unwrap_err();
        assert_eq!(err.offset(), 1);
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::Truncated {
                needed: 4,
                available: 2
            }
        );
    }

    #[test]
    fn huge_lengths_do_not_overflow() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert!(r.bytes(u64::MAX).is_err());
        assert!(r.bytes_checked(-1).is_err());
        assert_eq!(r.pos(), 0);
    }

    #[test]
    fn windows_keep_absolute_offsets() {
        let data = [0, 1, 2, 3, 4, 5];
        let mut r = Reader::new(&data);
        r.u8().unwrap();
        let mut w = r.window(3).unwrap();
        assert_eq!(r.pos(), 4);
        assert_eq!(w.u16_be().unwrap(), 0x0102);
        let err = w.u16_be().unwrap_err();
        assert_eq!(err.offset(), 3);
        assert_eq!(
            w.finish().unwrap_err().kind(),
            &DecodeErrorKind::Trailing { extra: 1 }
        );
    }

    #[test]
    fn varints() {
        assert_eq!(Reader::new(&[0x96, 0x01]).varint().unwrap(), 150);
        assert_eq!(Reader::new(&[0]).varint().unwrap(), 0);
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Reader::new(&max).varint().unwrap(), u64::MAX);
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(
            Reader::new(&over).varint().unwrap_err().kind(),
            &DecodeErrorKind::Varint
        );
        assert!(matches!(
            Reader::new(&[0x80]).varint().unwrap_err().kind(),
            DecodeErrorKind::Truncated { .. }
        ));
        assert_eq!(Reader::new(&[0x03]).zigzag().unwrap(), -2);
    }

    #[test]
    fn nul_terminated() {
        let mut r = Reader::new(b"ab\0c");
        assert_eq!(r.until_nul().unwrap(), b"ab");
        assert_eq!(r.pos(), 3);
        assert_eq!(
            r.until_nul().unwrap_err().kind(),
            &DecodeErrorKind::MissingNul
        );
    }

    #[test]
    fn alignment_is_from_frame_start() {
        let data = [0u8; 8];
        let mut r = Reader::new(&data);
        r.u8().unwrap();
        r.align(4).unwrap();
        assert_eq!(r.pos(), 4);
        r.align(4).unwrap();
        assert_eq!(r.pos(), 4);
    }

    #[test]
    fn text_windows_slice_instead_of_revalidating() {
        let frame = b"\x02h\xc3\xa9llo";
        let r = Reader::new(frame).with_text(std::str::from_utf8(frame).ok());
        assert_eq!(r.utf8(1, &frame[1..4]), Ok("h\u{e9}"));
        // Not at a character boundary: validated on its own, and rejected.
        assert!(r.utf8(2, &frame[2..3]).is_err());
        // Text that is not this window's bytes is not taken for them.
        let other = Reader::new(&frame[1..4]).with_text(Some("xyz"));
        assert_eq!(other.utf8(0, &frame[1..2]), Ok("h"));
    }

    #[test]
    fn bad_utf8_points_at_the_byte() {
        let data = b"ok\xff";
        let r = Reader::new(data);
        let err = r.utf8(0, data).unwrap_err();
        assert_eq!(err.offset(), 2);
        // Past the ASCII check: a valid non-ASCII character, then a bad byte after it.
        let data = "h\u{e9}!".as_bytes();
        assert_eq!(Reader::new(data).utf8(0, data), Ok("h\u{e9}!"));
        let data = b"h\xc3\xa9\xc3";
        let err = Reader::new(data).utf8(4, data).unwrap_err();
        assert_eq!(err.offset(), 4 + 3);
        assert_eq!(Reader::new(b"plain").utf8(0, b"plain"), Ok("plain"));
    }

    #[test]
    fn bytes_to_end_errs_as_bytes_then_finish() {
        let data = [1u8, 2, 3, 4, 5];
        for n in 0..8u64 {
            let mut open = Reader::new(&data);
            open.u8().unwrap();
            let mut whole = open;
            let expected = open.bytes(n).and_then(|b| open.finish().map(|()| b));
            assert_eq!(whole.bytes_to_end(n), expected, "n = {n}");
            if expected.is_ok() {
                assert!(whole.is_empty());
            }
        }
    }

    proptest::proptest! {
        /// The ASCII shortcut accepts and rejects exactly what `from_utf8` does.
        #[test]
        fn utf8_agrees_with_std(
            // Random bytes are rarely all ASCII past a few bytes, so ASCII text and valid
            // non-ASCII text are drawn on their own too.
            bytes in proptest::prop_oneof![
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
                proptest::collection::vec(0u8..0x80, 0..40),
                proptest::string::string_regex("[a-z\u{e9}\u{1F600}]{0,16}")
                    .unwrap()
                    .prop_map(String::into_bytes),
            ],
            start in 0usize..1000,
        ) {
            let got = Reader::new(&bytes).utf8(start, &bytes);
            match std::str::from_utf8(&bytes) {
                Ok(text) => proptest::prop_assert_eq!(got, Ok(text)),
                Err(e) => proptest::prop_assert_eq!(
                    got.unwrap_err().offset(),
                    start + e.valid_up_to()
                ),
            }
        }
    }
}

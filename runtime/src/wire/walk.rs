//! A framing walker: finds a frame's length from as few bytes as possible.

use crate::codec::FrameLen;
use crate::error::{DecodeError, DecodeErrorKind};
use crate::wire::Reader;

/// Why a walk stopped before the end of the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The buffer must hold at least this many bytes to go on.
    Need(u64),
    /// The bytes seen cannot start a valid frame.
    Error(DecodeError),
}

impl From<DecodeError> for Stop {
    fn from(e: DecodeError) -> Self {
        Stop::Error(e)
    }
}

/// A cursor that reads the fields framing depends on and skips the rest
/// without needing their bytes, so a frame's length is known from its header.
#[derive(Debug, Clone, Copy)]
pub struct Walk<'a> {
    buf: &'a [u8],
    pos: u64,
}

impl<'a> Walk<'a> {
    /// A walk from the start of `buf`.
    #[inline]
    pub fn new(buf: &'a [u8]) -> Self {
        Walk { buf, pos: 0 }
    }

    /// The offset reached so far.
    #[inline]
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// An error at the current offset.
    #[cold]
    pub fn error(&self, kind: DecodeErrorKind) -> Stop {
        Stop::Error(DecodeError::new(to_usize(self.pos), kind))
    }

    /// Reads `N` bytes, or asks for them.
    #[inline]
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], Stop> {
        let end = self.pos + N as u64;
        let start = to_usize(self.pos);
        match self
            .buf
            .get(start..)
            .and_then(|rest| rest.first_chunk::<N>())
        {
            Some(bytes) => {
                self.pos = end;
                Ok(*bytes)
            }
            None => Err(Stop::Need(end)),
        }
    }

    /// Borrows the next `N` bytes and advances past them, or `None` (and no move) when
    /// the buffer holds fewer: generated walks read a run of fixed-size fields as one
    /// chunk this way, and fall back to field-by-field reads when it is missing.
    /// A reference, not a copy: fields are then loaded straight from the buffer, where a
    /// copied array is packed into a register and taken apart again with shifts.
    #[inline]
    pub fn chunk<const N: usize>(&mut self) -> Option<&'a [u8; N]> {
        let start = usize::try_from(self.pos).ok()?;
        let bytes = self.buf.get(start..)?.first_chunk::<N>()?;
        self.pos += N as u64;
        Some(bytes)
    }

    /// Reads one byte.
    #[inline]
    pub fn u8(&mut self) -> Result<u8, Stop> {
        self.array::<1>().map(|[b]| b)
    }

    /// Reads one signed byte.
    #[inline]
    pub fn i8(&mut self) -> Result<i8, Stop> {
        self.array::<1>().map(i8::from_be_bytes)
    }

    /// Reads a strict bool (0 or 1).
    #[inline]
    pub fn bool(&mut self) -> Result<bool, Stop> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            found => {
                self.pos -= 1;
                Err(self.error(DecodeErrorKind::Bool { found }))
            }
        }
    }

    /// Reads an unsigned LEB128 varint.
    #[inline]
    pub fn varint(&mut self) -> Result<u64, Stop> {
        let mut value = 0u64;
        for i in 0..10u64 {
            let Some(&byte) = self.buf.get(to_usize(self.pos + i)) else {
                return Err(Stop::Need(self.pos + i + 1));
            };
            let bits = u64::from(byte & 0x7f);
            if i == 9 && bits > 1 {
                break;
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                self.pos += i + 1;
                return Ok(value);
            }
        }
        Err(self.error(DecodeErrorKind::Varint))
    }

    /// Reads a zigzag varint.
    #[inline]
    pub fn zigzag(&mut self) -> Result<i64, Stop> {
        self.varint().map(super::unzigzag)
    }

    /// Skips `n` bytes without needing them.
    #[inline]
    pub fn skip(&mut self, n: u64) -> Result<(), Stop> {
        match self.pos.checked_add(n) {
            Some(pos) => {
                self.pos = pos;
                Ok(())
            }
            None => Err(self.error(DecodeErrorKind::BadLength { found: n.into() })),
        }
    }

    /// Skips a length computed by an expression, rejecting negative values.
    #[inline]
    pub fn skip_checked(&mut self, n: i128) -> Result<(), Stop> {
        match u64::try_from(n) {
            Ok(n) => self.skip(n),
            Err(_) => Err(self.error(DecodeErrorKind::BadLength { found: n })),
        }
    }

    /// Skips to the next multiple of `align` from the frame start.
    #[inline]
    pub fn align(&mut self, align: u64) -> Result<(), Stop> {
        let pad = if align <= 1 {
            0
        } else {
            (align - self.pos % align) % align
        };
        self.skip(pad)
    }

    /// Skips bytes up to and including a NUL.
    #[inline]
    pub fn until_nul(&mut self) -> Result<(), Stop> {
        let rest = self.buf.get(to_usize(self.pos)..).unwrap_or_default();
        match rest.iter().position(|&b| b == 0) {
            Some(i) => self.skip(i as u64 + 1),
            None => Err(Stop::Need(self.pos.max(self.buf.len() as u64) + 1)),
        }
    }

    /// This walk seeing only the bytes before `end`: reads past it ask for more. For
    /// checks made ahead of a frame's end, so that they never look into the next frame.
    #[inline]
    pub fn within(self, end: u64) -> Self {
        let len = usize::try_from(end).map_or(self.buf.len(), |end| end.min(self.buf.len()));
        Walk {
            buf: self.buf.get(..len).unwrap_or(self.buf),
            pos: self.pos,
        }
    }

    /// A reader over `start..end` of the frame, for a field framing must decode rather
    /// than skip (a condition reads a member of it, or its length): asks for more bytes
    /// unless all of it is here.
    #[inline]
    pub fn reader(&self, start: u64, end: u64) -> Result<Reader<'a>, Stop> {
        if end > self.buf.len() as u64 {
            return Err(Stop::Need(end));
        }
        Ok(Reader::new(self.buf).between(to_usize(start), to_usize(end)))
    }

    /// The frame ends here: complete if the buffer holds it.
    #[inline]
    pub fn end(&self) -> FrameLen {
        finish_at(self.buf, self.pos)
    }
}

/// The answer for a frame that ends at `end`.
#[inline]
pub fn finish_at(buf: &[u8], end: u64) -> FrameLen {
    if end <= buf.len() as u64 {
        FrameLen::Complete(to_usize(end))
    } else {
        FrameLen::NeedMore(to_usize(end))
    }
}

/// Turns a walk's result into `frame_len`'s answer.
#[inline]
pub fn conclude(result: Result<FrameLen, Stop>) -> Result<FrameLen, DecodeError> {
    match result {
        Ok(len) => Ok(len),
        Err(Stop::Need(n)) => Ok(FrameLen::NeedMore(to_usize(n))),
        Err(Stop::Error(e)) => Err(e),
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

macro_rules! walk_ints {
    ($($be:ident $le:ident $ty:ty;)*) => {
        impl<'a> Walk<'a> {
            $(
                #[doc = concat!("Reads a big-endian `", stringify!($ty), "`.")]
                #[inline]
                pub fn $be(&mut self) -> Result<$ty, Stop> {
                    self.array().map(<$ty>::from_be_bytes)
                }

                #[doc = concat!("Reads a little-endian `", stringify!($ty), "`.")]
                #[inline]
                pub fn $le(&mut self) -> Result<$ty, Stop> {
                    self.array().map(<$ty>::from_le_bytes)
                }
            )*
        }
    };
}

walk_ints! {
    u16_be u16_le u16;
    u32_be u32_le u32;
    u64_be u64_le u64;
    i16_be i16_le i16;
    i32_be i32_le i32;
    i64_be i64_le i64;
    f32_be f32_le f32;
    f64_be f64_le f64;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk_len_prefixed(buf: &[u8]) -> Result<FrameLen, DecodeError> {
        conclude((|| {
            let mut w = Walk::new(buf);
            let n = w.u16_be()?;
            w.skip(n.into())?;
            Ok(w.end())
        })())
    }

    #[test]
    fn asks_for_the_header_then_the_body() {
        assert_eq!(walk_len_prefixed(&[]), Ok(FrameLen::NeedMore(2)));
        assert_eq!(walk_len_prefixed(&[0]), Ok(FrameLen::NeedMore(2)));
        assert_eq!(walk_len_prefixed(&[0, 3, 1]), Ok(FrameLen::NeedMore(5)));
        assert_eq!(
            walk_len_prefixed(&[0, 3, 1, 2, 3, 9]),
            Ok(FrameLen::Complete(5))
        );
    }

    #[test]
    fn a_walk_within_an_end_does_not_read_past_it() {
        let mut w = Walk::new(&[1, 2, 3, 4]);
        w.skip(1).unwrap();
        let mut inside = w.within(3);
        assert_eq!(inside.pos(), 1);
        assert_eq!(inside.u8(), Ok(2));
        assert_eq!(inside.u16_be(), Err(Stop::Need(4)));
        // An end past the buffer (or past `usize`) leaves the buffer as it is.
        assert_eq!(w.within(10).u16_be(), Ok(0x0203));
        assert_eq!(w.within(u64::MAX).u8(), Ok(2));
    }

    #[test]
    fn a_skipped_field_is_read_back_once_all_of_it_is_here() {
        let mut w = Walk::new(&[2, b'h', b'i']);
        w.skip(1).unwrap();
        w.skip(2).unwrap();
        let mut r = w.reader(1, w.pos()).unwrap();
        // Offsets stay those of the frame, for errors.
        assert_eq!((r.pos(), r.rest()), (1, &b"hi"[..]));
        w.skip(1).unwrap();
        assert_eq!(w.reader(1, w.pos()).map(|_| ()), Err(Stop::Need(4)));
    }

    #[test]
    fn varints_and_nul() {
        let mut w = Walk::new(&[0x80]);
        assert_eq!(w.varint(), Err(Stop::Need(2)));
        let mut w = Walk::new(&[0x80, 0x01]);
        assert_eq!(w.varint(), Ok(128));
        let mut w = Walk::new(b"ab");
        assert_eq!(w.until_nul(), Err(Stop::Need(3)));
        let mut w = Walk::new(b"ab\0c");
        assert_eq!(w.until_nul(), Ok(()));
        assert_eq!(w.pos(), 3);
    }

    #[test]
    fn huge_skips_do_not_overflow() {
        let mut w = Walk::new(&[]);
        w.skip(u64::MAX).unwrap();
        assert!(matches!(w.skip(1), Err(Stop::Error(_))));
        assert!(matches!(w.skip_checked(-1), Err(Stop::Error(_))));
    }
}

//! Where encoders write: contiguous buffers, shared-segment frames, hashers and counters.

use bytes::{Bytes, BytesMut};

/// A destination for encoded bytes.
///
/// Generated encoders are generic over the sink, so the same code fills a
/// buffer, feeds a checksum, or builds a frame that shares payload bytes.
pub trait Sink {
    /// Appends bytes.
    fn write_slice(&mut self, src: &[u8]);

    /// Appends bytes the sink may keep by reference instead of copying.
    fn write_shared(&mut self, src: &Bytes) {
        self.write_slice(src);
    }

    /// Appends bytes the sink may keep, handing over the reference: a sink that keeps
    /// it saves the reference count update of [`Sink::write_shared`]'s clone.
    #[inline]
    fn write_owned(&mut self, src: Bytes) {
        self.write_shared(&src);
    }

    /// Bytes written so far; alignment is measured from the frame's first byte.
    fn position(&self) -> usize;
}

impl Sink for BytesMut {
    #[inline]
    fn write_slice(&mut self, src: &[u8]) {
        self.extend_from_slice(src);
    }

    #[inline]
    fn position(&self) -> usize {
        self.len()
    }
}

impl Sink for Vec<u8> {
    #[inline]
    fn write_slice(&mut self, src: &[u8]) {
        self.extend_from_slice(src);
    }

    #[inline]
    fn position(&self) -> usize {
        self.len()
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    #[inline]
    fn write_slice(&mut self, src: &[u8]) {
        (**self).write_slice(src);
    }

    #[inline]
    fn write_shared(&mut self, src: &Bytes) {
        (**self).write_shared(src);
    }

    #[inline]
    fn write_owned(&mut self, src: Bytes) {
        (**self).write_owned(src);
    }

    #[inline]
    fn position(&self) -> usize {
        (**self).position()
    }
}

/// A sink that only counts, for sizes of derived length fields.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counter(pub usize);

impl Sink for Counter {
    #[inline]
    fn write_slice(&mut self, src: &[u8]) {
        self.0 += src.len();
    }

    #[inline]
    fn position(&self) -> usize {
        self.0
    }
}

/// A sink that computes a CRC-32 (IEEE) of what it is given.
#[derive(Debug, Default, Clone)]
pub struct Crc32(crc32fast::Hasher, usize);

impl Crc32 {
    /// The checksum of everything written so far.
    #[inline]
    pub fn finish(self) -> u32 {
        self.0.finalize()
    }
}

impl Sink for Crc32 {
    fn write_slice(&mut self, src: &[u8]) {
        self.0.update(src);
        self.1 += src.len();
    }

    fn position(&self) -> usize {
        self.1
    }
}

/// A sink that sums bytes modulo 256.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sum8(pub u8, usize);

impl Sink for Sum8 {
    fn write_slice(&mut self, src: &[u8]) {
        self.0 = src.iter().fold(self.0, |acc, b| acc.wrapping_add(*b));
        self.1 += src.len();
    }

    fn position(&self) -> usize {
        self.1
    }
}

/// A sink that XORs bytes together.
#[derive(Debug, Default, Clone, Copy)]
pub struct Xor8(pub u8, usize);

impl Sink for Xor8 {
    fn write_slice(&mut self, src: &[u8]) {
        self.0 = src.iter().fold(self.0, |acc, b| acc ^ *b);
        self.1 += src.len();
    }

    fn position(&self) -> usize {
        self.1
    }
}

/// Payload segments at least this long are shared rather than copied.
pub const SHARE_MIN: usize = 256;

/// An encoded frame whose large payload fields are shared with the frame they came from.
///
/// Re-encoding a frame with a mutation rewrites its header but keeps its body as a
/// reference-counted slice of the original buffer: the payload is never copied.
#[derive(Debug, Default, Clone)]
pub struct Encoded {
    /// Every copied byte, in frame order.
    copied: Vec<u8>,
    /// Each shared segment, after the copied bytes up to the offset it is paired with.
    shared: Vec<(usize, Bytes)>,
    /// The shared segments' total length. Copied bytes are counted by `copied` alone,
    /// so that a copy updates one length, not two (each is a store that the next write
    /// must load again).
    shared_len: usize,
}

impl Encoded {
    /// An empty frame.
    #[inline]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty frame with room for `head` bytes of copied data before it grows.
    #[inline]
    pub fn with_capacity(head: usize) -> Self {
        Encoded {
            copied: Vec::with_capacity(head),
            ..Self::default()
        }
    }

    /// Empties the frame for reuse, keeping the copied-data buffer's capacity.
    #[inline]
    pub fn clear(&mut self) {
        self.copied.clear();
        // Most frames share nothing: skip setting up the loop that drops each segment.
        if !self.shared.is_empty() {
            self.shared.clear();
        }
        self.shared_len = 0;
    }

    /// Total length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.copied.len() + self.shared_len
    }

    /// True when nothing was written.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The frame as segments, in order, ready for a vectored write.
    ///
    /// The copied bytes become one buffer without a copy; only a frame with copied bytes
    /// on both sides of a shared segment has that buffer sliced.
    pub fn into_parts(self) -> Vec<Bytes> {
        let mut copied = Bytes::from(self.copied);
        let mut parts = Vec::with_capacity(2 * self.shared.len() + 1);
        // `copied` holds the copied bytes from offset `at` on.
        let mut at = 0;
        for (until, segment) in self.shared {
            if until > at {
                parts.push(copied.split_to(until - at));
                at = until;
            }
            parts.push(segment);
        }
        if !copied.is_empty() {
            parts.push(copied);
        }
        parts
    }

    /// The frame as one contiguous buffer (copies if it has several segments).
    pub fn to_bytes(&self) -> Bytes {
        if self.shared.is_empty() {
            return Bytes::copy_from_slice(&self.copied);
        }
        let mut out = BytesMut::with_capacity(self.len());
        let mut at = 0;
        for (until, segment) in &self.shared {
            out.extend_from_slice(&self.copied[at..*until]);
            out.extend_from_slice(segment);
            at = *until;
        }
        out.extend_from_slice(&self.copied[at..]);
        out.freeze()
    }

    /// How many segments share memory with another buffer rather than owning a copy.
    #[inline]
    pub fn shared_parts(&self) -> usize {
        self.shared.len()
    }
}

impl Sink for Encoded {
    #[inline]
    fn write_slice(&mut self, src: &[u8]) {
        self.copied.extend_from_slice(src);
    }

    #[inline]
    fn write_shared(&mut self, src: &Bytes) {
        if src.len() < SHARE_MIN {
            self.write_slice(src);
            return;
        }
        self.write_owned(src.clone());
    }

    #[inline]
    fn write_owned(&mut self, src: Bytes) {
        if src.len() < SHARE_MIN {
            self.write_slice(&src);
            return;
        }
        self.shared_len += src.len();
        self.shared.push((self.copied.len(), src));
    }

    #[inline]
    fn position(&self) -> usize {
        self.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_shares_large_payloads() {
        let body = Bytes::from(vec![7u8; 1024]);
        let mut out = Encoded::new();
        out.write_slice(b"head");
        out.write_shared(&body);
        out.write_slice(b"tail");
        out.write_shared(&Bytes::from_static(b"tiny"));
        assert_eq!(out.len(), 4 + 1024 + 8);
        let flat = out.to_bytes();
        assert_eq!(&flat[..4], b"head");
        assert_eq!(&flat[1028..], b"tailtiny");
        let parts = out.into_parts();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[1].as_ptr(),
            body.as_ptr(),
            "payload must not be copied"
        );
    }

    #[test]
    fn every_layout_of_copied_and_shared_segments_reads_back_in_order() {
        let big = |b: u8| Bytes::from(vec![b; SHARE_MIN]);
        // Each step is copied text or a shared payload; every sequence of up to four.
        let steps: [Option<u8>; 3] = [None, Some(1), Some(2)];
        for n in 0..=4u32 {
            for code in 0..3usize.pow(n) {
                let mut out = Encoded::with_capacity(8);
                let mut expected = Vec::new();
                let mut shared = Vec::new();
                for i in 0..n {
                    match steps[code / 3usize.pow(i) % 3] {
                        None => {
                            out.write_slice(b"ab");
                            expected.extend_from_slice(b"ab");
                        }
                        Some(b) => {
                            let payload = big(b);
                            out.write_shared(&payload);
                            expected.extend_from_slice(&payload);
                            shared.push(payload);
                        }
                    }
                }
                assert_eq!(out.len(), expected.len());
                assert_eq!(out.shared_parts(), shared.len());
                assert_eq!(out.to_bytes(), expected);
                let parts = out.into_parts();
                assert!(parts.iter().all(|p| !p.is_empty()), "no empty segments");
                assert_eq!(parts.concat(), expected);
                let kept: Vec<_> = parts.iter().filter(|p| p.len() >= SHARE_MIN).collect();
                for (part, payload) in kept.iter().zip(&shared) {
                    assert_eq!(
                        part.as_ptr(),
                        payload.as_ptr(),
                        "payload must not be copied"
                    );
                }
            }
        }
    }

    #[test]
    fn a_cleared_frame_starts_empty() {
        let mut out = Encoded::new();
        out.write_slice(b"head");
        out.write_shared(&Bytes::from(vec![1u8; SHARE_MIN]));
        out.clear();
        assert!(out.is_empty());
        out.write_slice(b"x");
        assert_eq!(out.into_parts(), vec![Bytes::from_static(b"x")]);
    }

    #[test]
    fn checksum_sinks() {
        let mut crc = Crc32::default();
        crc.write_slice(b"123456789");
        assert_eq!(crc.finish(), 0xcbf4_3926);
        let mut sum = Sum8::default();
        sum.write_slice(&[200, 100]);
        assert_eq!(sum.0, 44);
        let mut x = Xor8::default();
        x.write_slice(&[0b1100, 0b1010]);
        assert_eq!(x.0, 0b0110);
    }
}

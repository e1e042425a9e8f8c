//! Lazily iterated lists inside a decoded frame.

use std::fmt;
use std::marker::PhantomData;

use crate::error::DecodeError;
use crate::wire::Reader;

/// How to decode one element of a list; implemented by generated code.
pub trait Element<'a> {
    /// The decoded element, borrowing from the frame.
    type Item;

    /// True when elements hold text: the list then checks its whole window for UTF-8
    /// once, and its strings are sliced from it instead of validated one by one.
    const TEXT: bool = false;

    /// Decodes one element at the reader's position.
    fn decode(r: &mut Reader<'a>) -> Result<Self::Item, DecodeError>;

    /// Splits one element off the front of `text`, a list window already known to be
    /// UTF-8, leaving `text` at the next element: the fast path for lists of text.
    ///
    /// Builds no error: `None` means "not this way" (the element is malformed, or this
    /// element type has no text fast path), and the list then decodes the same bytes
    /// with [`Element::decode`], which says what is wrong. `text` is left as it was when
    /// `None` is returned. Only called when [`Element::TEXT`] is true.
    #[inline]
    fn split_text(text: &mut &'a str) -> Option<Self::Item> {
        let _ = text;
        None
    }
}

/// Splits a string with an `N`-byte length prefix (decoded by `len`) off the front of
/// `text`, or `None` when `text` is too short or the string does not start and end at
/// character boundaries. For [`Element::split_text`].
#[inline]
pub fn split_prefixed<'a, const N: usize>(
    text: &mut &'a str,
    len: impl FnOnce([u8; N]) -> u64,
) -> Option<&'a str> {
    let prefix = *text.as_bytes().first_chunk::<N>()?;
    // Past the prefix first, then the string: the next element's address is then one
    // add after the length's load. Splitting at `N + len` first put two adds there, on
    // the chain of dependent loads that walking a list is (AwesomeRPC decode_full −2 ns).
    let (s, rest) = text
        .get(N..)?
        .split_at_checked(usize::try_from(len(prefix)).ok()?)?;
    *text = rest;
    Some(s)
}

/// The window, with its text checked once when the elements hold text.
#[inline]
fn text_of<'a, E: Element<'a>>(window: Reader<'a>) -> Reader<'a> {
    if E::TEXT { window.with_text() } else { window }
}

/// A list inside a frame: validated when the frame is decoded, decoded again lazily
/// as it is iterated, so holding it allocates nothing.
///
/// Kept small (the window's bytes, its text, the count: 40 bytes) because a decoded
/// view holds it by value and is moved around whole; a larger `List` (it held a
/// `Reader`, 80 bytes) was copied through memory in pieces its stores did not match.
pub struct List<'a, E> {
    /// The list's bytes in the frame.
    bytes: &'a [u8],
    /// The window as text, for elements that hold text and a window that is UTF-8.
    text: Option<&'a str>,
    len: usize,
    _element: PhantomData<fn() -> E>,
}

impl<'a, E> Clone for List<'a, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<'a, E> Copy for List<'a, E> {}

impl<'a, E: Element<'a>> List<'a, E> {
    /// Decodes exactly `count` elements, checking each.
    #[inline]
    pub fn decode_count(r: &mut Reader<'a>, count: u64) -> Result<Self, DecodeError> {
        let start = r.pos();
        let mut len = 0usize;
        while (len as u64) < count {
            E::decode(r).map_err(|e| e.at_index(len))?;
            len += 1;
        }
        let reader = text_of::<E>(r.between(start, r.pos()));
        Ok(List {
            bytes: reader.peek(),
            text: if E::TEXT { reader.text() } else { None },
            len,
            _element: PhantomData,
        })
    }

    /// Decodes elements until the window ends, checking each.
    ///
    /// Always inlined: a `List` returned through memory from an out-of-line call is
    /// read back in pieces its stores do not match (a store-forwarding stall that
    /// cost AwesomeRPC re-encode ~35 ns).
    #[inline(always)]
    pub fn decode_all(window: Reader<'a>) -> Result<Self, DecodeError> {
        let window = text_of::<E>(window);
        let text = if E::TEXT { window.text() } else { None };
        // Fast path: split the elements off the text; anything it cannot split is
        // decoded again, from the start, to report the error where it is.
        if let Some(len) = text.and_then(|t| Self::split_all(t, |_| ())) {
            return Ok(List {
                bytes: window.peek(),
                text,
                len,
                _element: PhantomData,
            });
        }
        Self::decode_each(window, text)
    }

    /// Splits every element off `text` with [`Element::split_text`], handing each to
    /// `each`: how many there were, or `None` at the first that does not split.
    #[inline(always)]
    fn split_all(mut text: &'a str, mut each: impl FnMut(E::Item)) -> Option<usize> {
        let mut len = 0usize;
        while !text.is_empty() {
            each(E::split_text(&mut text)?);
            len += 1;
        }
        Some(len)
    }

    /// `decode_all` one element at a time with [`Element::decode`].
    #[inline]
    fn decode_each(full: Reader<'a>, text: Option<&'a str>) -> Result<Self, DecodeError> {
        let mut window = full;
        let mut len = 0usize;
        while !window.is_empty() {
            E::decode(&mut window).map_err(|e| e.at_index(len))?;
            len += 1;
        }
        Ok(List {
            bytes: full.peek(),
            text,
            len,
            _element: PhantomData,
        })
    }

    /// The list in `window`, not yet checked: it has no elements until
    /// [`List::validated_with`] checks it. For generated decoders that check a list in
    /// the pass that also uses its elements (building metadata, looking for replaced
    /// keys), and fall back to the checking decode when that pass finds a problem.
    #[doc(hidden)]
    #[inline]
    pub fn deferred(window: Reader<'a>) -> Self {
        List {
            bytes: window.peek(),
            text: None,
            len: 0,
            _element: PhantomData,
        }
    }

    /// Checks a [`List::deferred`] list the way [`List::decode_all`]'s fast path does
    /// (the window is UTF-8 and every element splits off its text), handing each
    /// element to `each` as it goes: one pass instead of a check and an iteration.
    ///
    /// `None` when the fast path cannot take the list (not text, not UTF-8, or an
    /// element that does not split); `each` may then have seen some elements, and the
    /// caller starts over with the checking decode, which reports what is wrong (or
    /// accepts a list only [`Element::decode`] can read).
    #[doc(hidden)]
    #[inline(always)]
    pub fn validated_with(self, each: impl FnMut(E::Item)) -> Option<Self> {
        if !E::TEXT {
            return None;
        }
        let text = std::str::from_utf8(self.bytes).ok()?;
        let len = Self::split_all(text, each)?;
        Some(List {
            bytes: self.bytes,
            text: Some(text),
            len,
            _element: PhantomData,
        })
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the list has no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The list's bytes in the frame.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Iterates over the elements.
    #[inline]
    pub fn iter(&self) -> ListIter<'a, E> {
        ListIter {
            rest: self.bytes,
            text: self.text,
            left: self.len,
            _element: PhantomData,
        }
    }
}

impl<'a, E: Element<'a>> IntoIterator for List<'a, E> {
    type Item = E::Item;
    type IntoIter = ListIter<'a, E>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, E: Element<'a>> fmt::Debug for List<'a, E>
where
    E::Item: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, E: Element<'a>> PartialEq for List<'a, E>
where
    E::Item: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

/// Iterator over a [`List`].
pub struct ListIter<'a, E> {
    /// The unread elements' bytes, when iterating with [`Element::decode`].
    rest: &'a [u8],
    /// The unread elements as text, while the text fast path works.
    text: Option<&'a str>,
    left: usize,
    _element: PhantomData<fn() -> E>,
}

impl<'a, E> Clone for ListIter<'a, E> {
    fn clone(&self) -> Self {
        ListIter {
            rest: self.rest,
            text: self.text,
            left: self.left,
            _element: PhantomData,
        }
    }
}

impl<'a, E: Element<'a>> Iterator for ListIter<'a, E> {
    type Item = E::Item;

    #[inline]
    fn next(&mut self) -> Option<E::Item> {
        if self.left == 0 {
            return None;
        }
        if E::TEXT {
            if let Some(text) = &mut self.text
                && let Some(item) = E::split_text(text)
            {
                self.left -= 1;
                return Some(item);
            }
            // By value, so that the iterator is not borrowed by an out-of-line call
            // and can stay in registers across the caller's loop.
            let (item, rest) = self.clone().next_slow();
            *self = rest;
            return item;
        }
        self.next_decoded()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<'a, E: Element<'a>> ListIter<'a, E> {
    /// The next element of a text list the fast path cannot split, and the iterator
    /// after it: go on with the reader from where the text stopped. Kept out of line so
    /// that `next` stays small enough to inline into the caller's loop.
    #[cold]
    #[inline(never)]
    fn next_slow(mut self) -> (Option<E::Item>, Self) {
        if let Some(text) = self.text.take() {
            let start = self.rest.len().saturating_sub(text.len());
            self.rest = self.rest.get(start..).unwrap_or_default();
        }
        (self.next_decoded(), self)
    }

    /// The next element, decoded with [`Element::decode`].
    #[inline]
    fn next_decoded(&mut self) -> Option<E::Item> {
        // The list was checked when it was decoded, so this cannot fail; if it
        // somehow did, the iterator ends rather than panicking. (Offsets in this reader
        // are relative to the rest of the list; no error leaves this function.)
        let mut reader = Reader::new(self.rest);
        match E::decode(&mut reader) {
            Ok(item) => {
                self.rest = reader.peek();
                self.left -= 1;
                Some(item)
            }
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }
}

impl<'a, E: Element<'a>> ExactSizeIterator for ListIter<'a, E> {}

impl<'a, E: Element<'a>> std::iter::FusedIterator for ListIter<'a, E> {}

#[cfg(test)]
mod tests {
    use super::*;

    struct Short;

    impl<'a> Element<'a> for Short {
        type Item = &'a [u8];

        fn decode(r: &mut Reader<'a>) -> Result<&'a [u8], DecodeError> {
            let n = r.u8()?;
            r.bytes(u64::from(n))
        }
    }

    #[test]
    fn counts_and_iterates() {
        let data = [2, b'a', b'b', 1, b'c', 9];
        let mut r = Reader::new(&data);
        let list = List::<Short>::decode_count(&mut r, 2).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(r.pos(), 5);
        assert_eq!(list.iter().collect::<Vec<_>>(), [&b"ab"[..], b"c"]);
        assert_eq!(format!("{list:?}"), "[[97, 98], [99]]");
    }

    /// Text elements with the fast path: a `u8`-prefixed string.
    struct Word;

    impl<'a> Element<'a> for Word {
        type Item = &'a str;
        const TEXT: bool = true;

        fn decode(r: &mut Reader<'a>) -> Result<&'a str, DecodeError> {
            let n = r.u8()?;
            let start = r.pos();
            let b = r.bytes(u64::from(n))?;
            r.utf8(start, b)
        }

        fn split_text(text: &mut &'a str) -> Option<&'a str> {
            split_prefixed::<1>(text, |[n]| u64::from(n))
        }
    }

    #[test]
    fn text_fast_path_agrees_with_decode() {
        let data = b"\x02ab\x03c\xc3\xa9";
        let list = List::<Word>::decode_all(Reader::new(data)).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list.iter().collect::<Vec<_>>(), ["ab", "c\u{e9}"]);
        // A string ending inside a character: the fast path declines, decode reports it.
        let bad = b"\x02ab\x02c\xc3\xa9";
        let err = List::<Word>::decode_all(Reader::new(bad)).unwrap_err();
        assert_eq!(err.path().to_string(), "[1]");
        assert!(matches!(err.kind(), crate::DecodeErrorKind::Utf8 { .. }));
        // Not UTF-8 as a whole: no fast path, the same elements.
        let binary = b"\x01\xff\x01a";
        assert!(List::<Word>::decode_all(Reader::new(binary)).is_err());
        let mut t = "\x05ab";
        assert_eq!(split_prefixed::<1>(&mut t, |[n]| u64::from(n)), None);
        assert_eq!(t, "\x05ab");
    }

    #[test]
    fn iteration_falls_back_to_the_reader() {
        // Element 1 splits; element 2 holds a length byte that is not at a character
        // boundary of the window's text, so iteration continues with the reader.
        struct Pair;
        impl<'a> Element<'a> for Pair {
            type Item = (u8, &'a [u8]);
            const TEXT: bool = true;
            fn decode(r: &mut Reader<'a>) -> Result<Self::Item, DecodeError> {
                let n = r.u8()?;
                Ok((n, r.bytes(u64::from(n))?))
            }
            fn split_text(text: &mut &'a str) -> Option<Self::Item> {
                let mut t = *text;
                let s = split_prefixed::<1>(&mut t, |[n]| u64::from(n))?;
                if s == "x" {
                    return None;
                }
                *text = t;
                Some((s.len() as u8, s.as_bytes()))
            }
        }
        let data = b"\x02ab\x01x\x01c";
        let list = List::<Pair>::decode_all(Reader::new(data)).unwrap();
        assert_eq!(
            list.iter().collect::<Vec<_>>(),
            [(2, &b"ab"[..]), (1, b"x"), (1, b"c")]
        );
    }

    #[test]
    fn bad_element_reports_index() {
        let data = [2, b'a', b'b', 5, b'c'];
        let err = List::<Short>::decode_all(Reader::new(&data)).unwrap_err();
        assert_eq!(err.path().to_string(), "[1]");
        assert_eq!(err.offset(), 4);
    }
}

//! Lazily iterated lists inside a decoded frame.

use std::fmt;
use std::marker::PhantomData;

use ascii::{AsAsciiStr, AsciiChar, AsciiStr};

use crate::error::DecodeError;
use crate::wire::Reader;

/// How to decode one element of a list; implemented by generated code.
pub trait Element<'a> {
    /// The decoded element, borrowing from the frame.
    type Item;

    /// True when elements hold text: the list then checks its whole window for text
    /// once, and its strings are split off it instead of validated one by one.
    const TEXT: bool = false;

    /// Decodes one element at the reader's position.
    fn decode(r: &mut Reader<'a>) -> Result<Self::Item, DecodeError>;

    /// Splits one element off the front of `text`, a list window already known to be
    /// text, leaving `text` at the next element: the fast path for lists of text.
    ///
    /// Builds no error: `None` means "not this way" (the element is malformed, or this
    /// element type has no text fast path), and the list then decodes the same bytes
    /// with [`Element::decode`], which says what is wrong. `text` is left as it was when
    /// `None` is returned. Only called when [`Element::TEXT`] is true.
    #[inline]
    fn split_text(text: &mut impl Text<'a>) -> Option<Self::Item> {
        let _ = text;
        None
    }
}

/// A list window known to be text, which strings are split off: `&str`, or ASCII
/// (the usual header), which splits at any byte without character-boundary checks.
///
/// Sealed: lists make their windows of these two kinds only.
pub trait Text<'a>: Copy + sealed::Sealed {
    /// The text's bytes.
    fn as_bytes(self) -> &'a [u8];

    /// The text split at byte `mid`; `None` past the end or inside a character.
    fn split_at(self, mid: usize) -> Option<(Self, Self)>;

    /// The first `N` bytes (a length prefix) and the text after them; `None` when
    /// shorter, or when the rest does not start at a character boundary.
    fn split_prefix<const N: usize>(self) -> Option<([u8; N], Self)>;

    /// The text as a `str`.
    fn as_str(self) -> &'a str;
}

mod sealed {
    /// Implemented by the two kinds of [`super::Text`] only.
    pub trait Sealed {}

    impl Sealed for &str {}

    impl Sealed for &[ascii::AsciiChar] {}
}

impl<'a> Text<'a> for &'a str {
    #[inline(always)]
    fn as_bytes(self) -> &'a [u8] {
        str::as_bytes(self)
    }

    #[inline(always)]
    fn split_at(self, mid: usize) -> Option<(Self, Self)> {
        self.split_at_checked(mid)
    }

    #[inline(always)]
    fn split_prefix<const N: usize>(self) -> Option<([u8; N], Self)> {
        let prefix = *str::as_bytes(self).first_chunk::<N>()?;
        Some((prefix, self.get(N..)?))
    }

    #[inline(always)]
    fn as_str(self) -> &'a str {
        self
    }
}

impl<'a> Text<'a> for &'a [AsciiChar] {
    #[inline(always)]
    fn as_bytes(self) -> &'a [u8] {
        <&AsciiStr>::from(self).as_bytes()
    }

    #[inline(always)]
    fn split_at(self, mid: usize) -> Option<(Self, Self)> {
        self.split_at_checked(mid)
    }

    #[inline(always)]
    fn split_prefix<const N: usize>(self) -> Option<([u8; N], Self)> {
        let (prefix, rest) = self.split_first_chunk::<N>()?;
        Some((prefix.map(AsciiChar::as_byte), rest))
    }

    #[inline(always)]
    fn as_str(self) -> &'a str {
        <&AsciiStr>::from(self).as_str()
    }
}

/// Splits a string with an `N`-byte length prefix (decoded by `len`) off the front of
/// `text`, or `None` when `text` is too short or the string does not start and end at
/// character boundaries. For [`Element::split_text`].
///
/// Always inlined: with `#[inline]`, inlined from this crate into a codec's, it split at
/// `len + N` in two adds after the length's load rather than one, on the chain of
/// dependent loads that walking a list is (8 headers: 16.5 → 14 ns).
#[inline(always)]
pub fn split_prefixed<'a, const N: usize>(
    text: &mut impl Text<'a>,
    len: impl FnOnce([u8; N]) -> u64,
) -> Option<&'a str> {
    // Past the prefix first, then the string: the next element's address is then one
    // add after the length's load. Splitting at `N + len` first put two adds there, on
    // the chain of dependent loads that walking a list is (AwesomeRPC decode_full −2 ns).
    let (prefix, rest) = text.split_prefix::<N>()?;
    let (s, rest) = rest.split_at(usize::try_from(len(prefix)).ok()?)?;
    *text = rest;
    Some(s.as_str())
}

/// A list's bytes, and what is known of them.
#[derive(Clone, Copy)]
enum Window<'a> {
    /// Not known to be text (or the elements hold none).
    Bytes(&'a [u8]),
    /// All ASCII: strings split off at any byte.
    Ascii(&'a [AsciiChar]),
    /// UTF-8 but not all ASCII: strings split off at character boundaries.
    Utf8(&'a str),
}

impl<'a> Window<'a> {
    /// The window over `bytes`, checked for text when elements hold text.
    #[inline(always)]
    fn of<E: Element<'a>>(bytes: &'a [u8]) -> Self {
        if !E::TEXT {
            return Window::Bytes(bytes);
        }
        // One word-at-a-time ASCII pass first: the UTF-8 check costs more on the
        // usual all-ASCII header block, and ASCII text then splits without boundary checks.
        if let Ok(ascii) = bytes.as_ascii_str() {
            Window::Ascii(ascii.as_slice())
        } else if let Ok(text) = std::str::from_utf8(bytes) {
            Window::Utf8(text)
        } else {
            Window::Bytes(bytes)
        }
    }

    /// The window's bytes.
    #[inline(always)]
    fn bytes(self) -> &'a [u8] {
        match self {
            Window::Bytes(b) => b,
            Window::Ascii(t) => t.as_bytes(),
            Window::Utf8(t) => t.as_bytes(),
        }
    }

    /// The window as text, when it is.
    #[inline(always)]
    fn text(self) -> Option<&'a str> {
        match self {
            Window::Bytes(_) => None,
            Window::Ascii(t) => Some(t.as_str()),
            Window::Utf8(t) => Some(t),
        }
    }

    /// Splits every element off the window with [`Element::split_text`], handing each
    /// to `each`: how many there were, or `None` at the first that does not split (and
    /// for a window that is not text).
    #[inline(always)]
    fn split_all<E: Element<'a>>(self, each: impl FnMut(E::Item)) -> Option<usize> {
        match self {
            Window::Bytes(_) => None,
            Window::Ascii(t) => split_all::<E>(t, each),
            Window::Utf8(t) => split_all::<E>(t, each),
        }
    }
}

/// [`Window::split_all`] over one kind of text.
#[inline(always)]
fn split_all<'a, E: Element<'a>>(
    mut text: impl Text<'a>,
    mut each: impl FnMut(E::Item),
) -> Option<usize> {
    let mut len = 0usize;
    while !text.as_bytes().is_empty() {
        each(E::split_text(&mut text)?);
        len += 1;
    }
    Some(len)
}

/// A list inside a frame: validated when the frame is decoded, decoded again lazily
/// as it is iterated, so holding it allocates nothing.
///
/// Kept small (its window and count: 32 bytes) because a decoded view holds it by
/// value and is moved around whole; a larger `List` (it held a `Reader`, 80 bytes)
/// was copied through memory in pieces its stores did not match.
pub struct List<'a, E> {
    window: Window<'a>,
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
        Ok(List {
            window: Window::of::<E>(r.between(start, r.pos()).peek()),
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
    pub fn decode_all(reader: Reader<'a>) -> Result<Self, DecodeError> {
        let window = Window::of::<E>(reader.peek());
        // Fast path: split the elements off the text; anything it cannot split is
        // decoded again, from the start, to report the error where it is.
        if let Some(len) = window.split_all::<E>(|_| ()) {
            return Ok(List {
                window,
                len,
                _element: PhantomData,
            });
        }
        Self::decode_each(reader, window)
    }

    /// `decode_all` one element at a time with [`Element::decode`].
    #[inline]
    fn decode_each(full: Reader<'a>, window: Window<'a>) -> Result<Self, DecodeError> {
        let mut reader = full.with_text(window.text());
        let mut len = 0usize;
        while !reader.is_empty() {
            E::decode(&mut reader).map_err(|e| e.at_index(len))?;
            len += 1;
        }
        Ok(List {
            window,
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
    pub fn deferred(reader: Reader<'a>) -> Self {
        List {
            window: Window::Bytes(reader.peek()),
            len: 0,
            _element: PhantomData,
        }
    }

    /// Checks a [`List::deferred`] list the way [`List::decode_all`]'s fast path does
    /// (the window is text and every element splits off it), handing each element to
    /// `each` as it goes: one pass instead of a check and an iteration.
    ///
    /// `None` when the fast path cannot take the list (not text, or an element that
    /// does not split); `each` may then have seen some elements, and the caller starts
    /// over with the checking decode, which reports what is wrong (or accepts a list
    /// only [`Element::decode`] can read).
    #[doc(hidden)]
    #[inline(always)]
    pub fn validated_with(self, each: impl FnMut(E::Item)) -> Option<Self> {
        let window = Window::of::<E>(self.window.bytes());
        let len = window.split_all::<E>(each)?;
        Some(List {
            window,
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
        self.window.bytes()
    }

    /// Iterates over the elements.
    #[inline]
    pub fn iter(&self) -> ListIter<'a, E> {
        ListIter {
            rest: self.window,
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
    /// The unread elements.
    rest: Window<'a>,
    left: usize,
    _element: PhantomData<fn() -> E>,
}

impl<'a, E> Clone for ListIter<'a, E> {
    fn clone(&self) -> Self {
        ListIter {
            rest: self.rest,
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
        if !E::TEXT {
            return self.next_decoded();
        }
        let item = match &mut self.rest {
            Window::Ascii(t) => E::split_text(t),
            Window::Utf8(t) => E::split_text(t),
            Window::Bytes(_) => None,
        };
        if let Some(item) = item {
            self.left -= 1;
            return Some(item);
        }
        // By value, so that the iterator is not borrowed by an out-of-line call
        // and can stay in registers across the caller's loop.
        let (item, rest) = self.clone().next_slow();
        *self = rest;
        item
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
        self.rest = Window::Bytes(self.rest.bytes());
        (self.next_decoded(), self)
    }

    /// The next element, decoded with [`Element::decode`].
    #[inline]
    fn next_decoded(&mut self) -> Option<E::Item> {
        // The list was checked when it was decoded, so this cannot fail; if it
        // somehow did, the iterator ends rather than panicking. (Offsets in this reader
        // are relative to the rest of the list; no error leaves this function.)
        let mut reader = Reader::new(self.rest.bytes());
        match E::decode(&mut reader) {
            Ok(item) => {
                self.rest = Window::Bytes(reader.peek());
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

        fn split_text(text: &mut impl Text<'a>) -> Option<&'a str> {
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
            fn split_text(text: &mut impl Text<'a>) -> Option<Self::Item> {
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

    /// A header: a `u8`-prefixed key and a big-endian `u16`-prefixed value, with the
    /// fast path generated code has.
    struct Header;

    impl<'a> Element<'a> for Header {
        type Item = (&'a str, &'a str);
        const TEXT: bool = true;

        fn decode(r: &mut Reader<'a>) -> Result<Self::Item, DecodeError> {
            let n = r.u8()?;
            let start = r.pos();
            let k = r.bytes(u64::from(n))?;
            let k = r.utf8(start, k)?;
            let n = r.u16_be()?;
            let start = r.pos();
            let v = r.bytes(u64::from(n))?;
            Ok((k, r.utf8(start, v)?))
        }

        fn split_text(text: &mut impl Text<'a>) -> Option<Self::Item> {
            let mut t = *text;
            let k = split_prefixed::<1>(&mut t, |[n]| u64::from(n))?;
            let v = split_prefixed::<2>(&mut t, |b| u64::from(u16::from_be_bytes(b)))?;
            *text = t;
            Some((k, v))
        }
    }

    /// The list in `data` read one element at a time with [`Element::decode`] alone: no
    /// window check, no fast path.
    fn one_by_one(data: &[u8]) -> Result<Vec<(&str, &str)>, DecodeError> {
        let mut r = Reader::new(data);
        let mut items = Vec::new();
        while !r.is_empty() {
            items.push(Header::decode(&mut r).map_err(|e| e.at_index(items.len()))?);
        }
        Ok(items)
    }

    /// `(key, value)` pairs as a header block.
    fn block(headers: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, v) in headers {
            out.push(k.len() as u8);
            out.extend_from_slice(k);
            out.extend_from_slice(&(v.len() as u16).to_be_bytes());
            out.extend_from_slice(v);
        }
        out
    }

    #[test]
    fn a_list_is_small() {
        // A view holds its lists by value and is moved whole (see `List`).
        assert_eq!(std::mem::size_of::<List<'static, Header>>(), 32);
    }

    #[test]
    fn windows_are_classified_once() {
        let ascii = block(&[(b"k".to_vec(), b"v".to_vec())]);
        assert!(matches!(Window::of::<Header>(&ascii), Window::Ascii(_)));
        let utf8 = block(&[(b"k".to_vec(), "\u{e9}".into())]);
        assert!(matches!(Window::of::<Header>(&utf8), Window::Utf8(_)));
        // A value of 200 bytes: its length's low byte is not ASCII, nor UTF-8 here.
        let long = block(&[(b"k".to_vec(), vec![b'a'; 200])]);
        assert!(matches!(Window::of::<Header>(&long), Window::Bytes(_)));
        assert!(matches!(Window::of::<Short>(&ascii), Window::Bytes(_)));
        for data in [ascii, utf8, long] {
            let list = List::<Header>::decode_all(Reader::new(&data)).unwrap();
            assert_eq!(Ok(list.iter().collect()), one_by_one(&data));
            assert_eq!(list.as_bytes(), &data[..]);
        }
    }

    /// Text of up to `max` bytes: mostly ASCII, often other UTF-8, sometimes any bytes.
    fn text(max: usize) -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let ascii = proptest::string::string_regex(&format!("[a-z]{{0,{max}}}")).unwrap();
        let utf8 = proptest::string::string_regex(&format!("[a-z\u{e9}\u{20ac}]{{0,{}}}", max / 3))
            .unwrap();
        prop_oneof![
            4 => ascii.prop_map(String::into_bytes),
            2 => utf8.prop_map(String::into_bytes),
            1 => proptest::collection::vec(any::<u8>(), 0..max),
        ]
    }

    proptest::proptest! {
        /// Whatever the window (ASCII, UTF-8 or neither; well formed or not), the list
        /// decodes, counts and iterates what element-by-element decoding gives, and
        /// fails with the same error.
        #[test]
        fn fast_paths_agree_with_decode(
            headers in proptest::collection::vec((text(4), text(140)), 0..5),
            cut in 0usize..8,
            flip in proptest::option::of((0usize..600, proptest::prelude::any::<u8>())),
        ) {
            let mut data = block(&headers);
            data.truncate(data.len().saturating_sub(cut));
            if let Some((at, byte)) = flip && !data.is_empty() {
                let at = at % data.len();
                data[at] = byte;
            }
            let expected = one_by_one(&data);
            let list = List::<Header>::decode_all(Reader::new(&data));
            proptest::prop_assert_eq!(
                list.map(|l| (l.len(), l.iter().collect::<Vec<_>>())),
                expected.clone().map(|items| (items.len(), items))
            );
            let mut each = Vec::new();
            let checked = List::<Header>::deferred(Reader::new(&data))
                .validated_with(|item| each.push(item));
            if let Some(list) = checked {
                proptest::prop_assert_eq!(Ok(list.iter().collect::<Vec<_>>()), expected.clone());
                proptest::prop_assert_eq!(Ok(each), expected);
            }
        }
    }
}

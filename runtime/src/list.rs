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
}

/// The window, with its text checked once when the elements hold text.
#[inline]
fn text_of<'a, E: Element<'a>>(window: Reader<'a>) -> Reader<'a> {
    if E::TEXT { window.with_text() } else { window }
}

/// A list inside a frame: validated when the frame is decoded, decoded again lazily
/// as it is iterated, so holding it allocates nothing.
pub struct List<'a, E> {
    reader: Reader<'a>,
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
            reader: text_of::<E>(r.between(start, r.pos())),
            len,
            _element: PhantomData,
        })
    }

    /// Decodes elements until the window ends, checking each.
    #[inline]
    pub fn decode_all(window: Reader<'a>) -> Result<Self, DecodeError> {
        let mut window = text_of::<E>(window);
        let full = window;
        let mut len = 0usize;
        while !window.is_empty() {
            E::decode(&mut window).map_err(|e| e.at_index(len))?;
            len += 1;
        }
        Ok(List {
            reader: full,
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
        self.reader.peek()
    }

    /// Iterates over the elements.
    #[inline]
    pub fn iter(&self) -> ListIter<'a, E> {
        ListIter {
            reader: self.reader,
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
    reader: Reader<'a>,
    left: usize,
    _element: PhantomData<fn() -> E>,
}

impl<'a, E: Element<'a>> Iterator for ListIter<'a, E> {
    type Item = E::Item;

    fn next(&mut self) -> Option<E::Item> {
        if self.left == 0 {
            return None;
        }
        // The list was checked when it was decoded, so this cannot fail; if it
        // somehow did, the iterator ends rather than panicking.
        match E::decode(&mut self.reader) {
            Ok(item) => {
                self.left -= 1;
                Some(item)
            }
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
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

    #[test]
    fn bad_element_reports_index() {
        let data = [2, b'a', b'b', 5, b'c'];
        let err = List::<Short>::decode_all(Reader::new(&data)).unwrap_err();
        assert_eq!(err.path().to_string(), "[1]");
        assert_eq!(err.offset(), 4);
    }
}

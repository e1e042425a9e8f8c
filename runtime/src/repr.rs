//! How owned values hold bytes and text. Generated code converts decoded slices
//! into whatever representation a field declares (borrowed, copied or shared with
//! the frame) and writes any of them back, so a `#[derive(Codec)]` struct may use
//! `&'a [u8]`, `Vec<u8>` or `Bytes` (and `&'a str`, `String` or `ByteString`).

use std::borrow::Cow;

use bytes::Bytes;
use bytestring::ByteString;

use crate::metadata::Value;
use crate::wire::{Sink, share, share_str};

/// Builds a field's value from a decoded slice `part` of `frame`.
///
/// `frame` may be empty when the caller decoded from a plain slice; sharing
/// representations then copy.
pub trait FromWire<'a, V>: Sized {
    /// The value for `part`.
    fn from_wire(part: V, frame: &Bytes) -> Self;
}

impl<'a> FromWire<'a, &'a [u8]> for &'a [u8] {
    #[inline]
    fn from_wire(part: &'a [u8], _frame: &Bytes) -> Self {
        part
    }
}

impl<'a> FromWire<'a, &'a [u8]> for Vec<u8> {
    #[inline]
    fn from_wire(part: &'a [u8], _frame: &Bytes) -> Self {
        part.to_vec()
    }
}

impl<'a> FromWire<'a, &'a [u8]> for Bytes {
    #[inline]
    fn from_wire(part: &'a [u8], frame: &Bytes) -> Self {
        share(frame, part)
    }
}

impl<'a> FromWire<'a, &'a [u8]> for Cow<'a, [u8]> {
    #[inline]
    fn from_wire(part: &'a [u8], _frame: &Bytes) -> Self {
        Cow::Borrowed(part)
    }
}

impl<'a> FromWire<'a, &'a str> for &'a str {
    #[inline]
    fn from_wire(part: &'a str, _frame: &Bytes) -> Self {
        part
    }
}

impl<'a> FromWire<'a, &'a str> for String {
    #[inline]
    fn from_wire(part: &'a str, _frame: &Bytes) -> Self {
        part.to_owned()
    }
}

impl<'a> FromWire<'a, &'a str> for ByteString {
    #[inline]
    fn from_wire(part: &'a str, frame: &Bytes) -> Self {
        share_str(frame, part)
    }
}

impl<'a> FromWire<'a, &'a str> for Cow<'a, str> {
    #[inline]
    fn from_wire(part: &'a str, _frame: &Bytes) -> Self {
        Cow::Borrowed(part)
    }
}

/// A reply field set from a request's property (`name = req["method"]`).
pub trait FromProperty<'a>: Sized {
    /// The property as this type; `None` when it cannot hold it (a number into `&str`).
    fn from_property(value: &'a Value) -> Option<Self>;
}

impl<'a> FromProperty<'a> for &'a str {
    fn from_property(value: &'a Value) -> Option<Self> {
        match value {
            Value::Text(s) => Some(s),
            Value::Int(_) => None,
        }
    }
}

impl FromProperty<'_> for ByteString {
    fn from_property(value: &Value) -> Option<Self> {
        Some(value.to_text())
    }
}

impl FromProperty<'_> for String {
    fn from_property(value: &Value) -> Option<Self> {
        Some(value.to_text().to_string())
    }
}

impl<'a> FromProperty<'a> for Cow<'a, str> {
    fn from_property(value: &'a Value) -> Option<Self> {
        Some(match value {
            Value::Text(s) => Cow::Borrowed(s),
            Value::Int(n) => Cow::Owned(n.to_string()),
        })
    }
}

/// A reply field that holds a struct the reply encodes (`body = Inner { … }`).
#[diagnostic::on_unimplemented(
    message = "a reply encodes a struct into a `{Self}` field, which cannot own it",
    note = "declare the field as `Bytes`, `Vec<u8>` or `Cow<'a, [u8]>`"
)]
pub trait FromEncoded {
    /// The field holding `bytes`.
    fn from_encoded(bytes: Bytes) -> Self;
}

impl FromEncoded for Bytes {
    fn from_encoded(bytes: Bytes) -> Self {
        bytes
    }
}

impl FromEncoded for Vec<u8> {
    fn from_encoded(bytes: Bytes) -> Self {
        bytes.into()
    }
}

impl FromEncoded for Cow<'_, [u8]> {
    fn from_encoded(bytes: Bytes) -> Self {
        Cow::Owned(bytes.into())
    }
}

/// Writes a field's bytes or text, by reference where the sink can keep one.
pub trait WriteWire {
    /// Appends the value's wire bytes to `out`.
    fn write_to<S: Sink + ?Sized>(&self, out: &mut S);
}

impl WriteWire for [u8] {
    #[inline]
    fn write_to<S: Sink + ?Sized>(&self, out: &mut S) {
        out.write_slice(self);
    }
}

impl WriteWire for str {
    #[inline]
    fn write_to<S: Sink + ?Sized>(&self, out: &mut S) {
        out.write_slice(self.as_bytes());
    }
}

impl WriteWire for Vec<u8> {
    #[inline]
    fn write_to<S: Sink + ?Sized>(&self, out: &mut S) {
        out.write_slice(self);
    }
}

impl WriteWire for String {
    #[inline]
    fn write_to<S: Sink + ?Sized>(&self, out: &mut S) {
        out.write_slice(self.as_bytes());
    }
}

impl WriteWire for Bytes {
    #[inline]
    fn write_to<S: Sink + ?Sized>(&self, out: &mut S) {
        out.write_shared(self);
    }
}

impl WriteWire for ByteString {
    #[inline]
    fn write_to<S: Sink + ?Sized>(&self, out: &mut S) {
        out.write_shared(self.as_bytes());
    }
}

impl<T: WriteWire + ToOwned + ?Sized> WriteWire for Cow<'_, T> {
    #[inline]
    fn write_to<S: Sink + ?Sized>(&self, out: &mut S) {
        (**self).write_to(out);
    }
}

impl<T: WriteWire + ?Sized> WriteWire for &T {
    #[inline]
    fn write_to<S: Sink + ?Sized>(&self, out: &mut S) {
        (**self).write_to(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Encoded;

    #[test]
    fn properties_convert_to_every_text_form() {
        let text = Value::Text(ByteString::from_static("ping"));
        let number = Value::Int(42);
        assert_eq!(<&str>::from_property(&text), Some("ping"));
        assert_eq!(<&str>::from_property(&number), None);
        assert_eq!(String::from_property(&number).as_deref(), Some("42"));
        assert_eq!(ByteString::from_property(&text).as_deref(), Some("ping"));
        assert_eq!(
            Cow::<str>::from_property(&number),
            Some(Cow::Owned("42".into()))
        );
        assert!(matches!(
            Cow::<str>::from_property(&text),
            Some(Cow::Borrowed("ping"))
        ));
        let bytes = Bytes::from_static(b"\x0b\x00");
        assert_eq!(Vec::<u8>::from_encoded(bytes.clone()), bytes.to_vec());
        assert_eq!(
            Cow::<[u8]>::from_encoded(bytes.clone()),
            Cow::<[u8]>::Owned(bytes.to_vec())
        );
        assert_eq!(Bytes::from_encoded(bytes.clone()), bytes);
    }

    #[test]
    fn borrowed_copied_and_shared_forms_hold_the_same_bytes() {
        let frame = Bytes::from_static(b"xxhello");
        let part = &frame[2..];
        let b: &[u8] = FromWire::from_wire(part, &frame);
        let v: Vec<u8> = FromWire::from_wire(part, &frame);
        let s: Bytes = FromWire::from_wire(part, &frame);
        assert_eq!(
            (b, &v[..], &s[..]),
            (&b"hello"[..], &b"hello"[..], &b"hello"[..])
        );
        assert_eq!(s.as_ptr(), part.as_ptr(), "Bytes shares the frame");
        let copied: Bytes = FromWire::from_wire(part, &Bytes::new());
        assert_ne!(copied.as_ptr(), part.as_ptr(), "no frame: a copy");
        let t: ByteString = FromWire::from_wire("hi", &Bytes::new());
        let c: Cow<'_, str> = FromWire::from_wire("hi", &Bytes::new());
        assert_eq!((&*t, &*c), ("hi", "hi"));
    }

    #[test]
    fn every_form_writes_its_bytes() {
        let mut out = Encoded::default();
        b"ab"[..].write_to(&mut out);
        "cd".write_to(&mut out);
        String::from("ef").write_to(&mut out);
        vec![b'g'].write_to(&mut out);
        Cow::<str>::Borrowed("h").write_to(&mut out);
        WriteWire::write_to(&&ByteString::from("i"), &mut out);
        assert_eq!(&out.to_bytes()[..], b"abcdefghi");
    }
}

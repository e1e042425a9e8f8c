//! Extern field types: encodings written in Rust and named from a schema.

pub mod hessian2;

use std::fmt;

use bytes::Bytes;

use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
use crate::wire::{Reader, Sink};

/// A field encoding implemented in Rust, for formats a schema cannot describe
/// (such as Hessian2 strings). A schema names the implementing type with
/// `extern Name = "path::to::Type"`.
pub trait Extern {
    /// The decoded value, borrowing from the frame.
    type Ref<'a>: Copy + fmt::Debug + PartialEq;
    /// The value for encoding.
    type Owned: Clone + fmt::Debug + PartialEq + Default;

    /// Decodes a value at the start of `buf`, returning it and the bytes it used.
    fn decode(buf: &[u8]) -> Result<(Self::Ref<'_>, usize), String>;

    /// Converts a decoded value, sharing `frame`'s memory where it can.
    fn to_owned(value: Self::Ref<'_>, frame: &Bytes) -> Self::Owned;

    /// Bytes `value` takes on the wire.
    fn encoded_len(value: &Self::Owned) -> usize;

    /// Encodes `value`.
    fn encode<S: Sink + ?Sized>(value: &Self::Owned, out: &mut S) -> Result<(), String>;
}

/// Decodes an extern field at the reader's position.
pub fn decode<'a, X: Extern>(r: &mut Reader<'a>) -> Result<X::Ref<'a>, DecodeError> {
    let (value, used) =
        X::decode(r.peek()).map_err(|message| r.error(DecodeErrorKind::Extern { message }))?;
    r.skip(used as u64)?;
    Ok(value)
}

/// Encodes an extern field.
pub fn encode<X: Extern, S: Sink + ?Sized>(
    value: &X::Owned,
    out: &mut S,
) -> Result<(), EncodeError> {
    X::encode(value, out).map_err(|message| EncodeError::new(EncodeErrorKind::Extern { message }))
}

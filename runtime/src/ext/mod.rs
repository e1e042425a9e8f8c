//! Extern field types: encodings written in Rust and named from a schema.

pub mod hessian2;

use std::fmt;

use bytes::Bytes;

use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
use crate::wire::{Reader, Sink};

/// A field encoding implemented in Rust, for formats a schema cannot describe
/// (such as Hessian2 strings). A schema names the implementing type with
/// `extern Name = "path::to::Type"`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an mproto extern codec",
    label = "`with = …` and `extern` name a type that implements `mproto::Extern`"
)]
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

    /// Decodes a field at the reader's position, as generated code does.
    fn decode_at<'a>(r: &mut Reader<'a>) -> Result<Self::Ref<'a>, DecodeError> {
        let (value, used) = Self::decode(r.peek())
            .map_err(|message| r.error(DecodeErrorKind::Extern { message }))?;
        r.skip(used as u64)?;
        Ok(value)
    }

    /// Encodes a field, as generated code does.
    fn encode_to<S: Sink + ?Sized>(value: &Self::Owned, out: &mut S) -> Result<(), EncodeError> {
        Self::encode(value, out)
            .map_err(|message| EncodeError::new(EncodeErrorKind::Extern { message }))
    }
}

//! The one module generated code names; not a public API.

pub use crate::__impl_tokio_codec;
pub use crate::codec::{Codec, FrameLen};
pub use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
pub use crate::eval;
pub use crate::ext::{self, Extern};
pub use crate::framing::split_frame;
pub use crate::list::{Element, List, Text, split_prefixed};
pub use crate::metadata::{MessageType, Metadata, Properties, ResponseStatus, Value};
pub use crate::mutation::Mutation;
pub use crate::reply::{ErrorKind, ReplyError};
pub use crate::repr::{FromEncoded, FromProperty, FromWire, WriteWire};
pub use crate::wire::{
    Counter, Crc32, Encoded, Reader, Sink, Stop, Sum8, Walk, Xor8, conclude, finish_at, padding_to,
    put_varint, render, share, share_str, unzigzag, varint_len, write_part, zigzag,
};
pub use bytes::{Bytes, BytesMut};
pub use smallvec::SmallVec;

/// Implemented by every `#[derive(Codec)]` type, so a derive naming another type
/// can say plainly when that type is not derived.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not `#[derive(Codec)]`",
    label = "a field of a derived type is a wire type, or a type that derives `Codec` too",
    note = "add `#[derive(mproto::Codec)]` to `{Self}`, or give the field `#[mproto(with = path)]`"
)]
pub trait Derived {}
pub use bytestring::ByteString;
#[cfg(feature = "tokio")]
pub use tokio_util;

//! The one module generated code names; not a public API.

pub use crate::__impl_tokio_codec;
pub use crate::codec::{Codec, FrameLen};
pub use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
pub use crate::eval;
pub use crate::ext::{self, Extern};
pub use crate::framing::split_frame;
pub use crate::list::{Element, List};
pub use crate::metadata::{MessageType, Metadata, Properties, ResponseStatus, Value};
pub use crate::mutation::Mutation;
pub use crate::reply::{ErrorKind, ReplyError};
pub use crate::repr::{FromWire, WriteWire};
pub use crate::wire::{
    Counter, Crc32, Encoded, Reader, Sink, Stop, Sum8, Walk, Xor8, conclude, finish_at, padding_to,
    put_varint, render, share, share_str, unzigzag, varint_len, write_part, zigzag,
};
pub use bytes::{Bytes, BytesMut};
pub use bytestring::ByteString;
#[cfg(feature = "tokio")]
pub use tokio_util;

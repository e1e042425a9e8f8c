//! Runtime support for mproto codecs: the codec contract the proxy calls, the
//! metadata and mutation types it passes around, and the wire helpers that
//! generated decoders and encoders use.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod codec;
pub mod error;
pub mod eval;
pub mod ext;
#[cfg(feature = "tokio")]
pub mod framed;
pub mod framing;
pub mod list;
#[cfg(feature = "mesh")]
pub mod mesh;
pub mod metadata;
pub mod mutation;
#[cfg(feature = "proxy")]
pub mod proxy;
pub mod reply;
pub mod repr;
pub mod wire;

#[doc(hidden)]
pub mod __private;

pub use bytes::{Bytes, BytesMut};
pub use bytestring::ByteString;
pub use codec::{Codec, FrameLen, Registry};
pub use error::{
    DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind, Error, FieldPath, PathSeg,
};
pub use ext::Extern;
pub use list::{Element, List, ListIter, Text};
pub use metadata::{MessageType, Metadata, Properties, ResponseStatus, Value};
pub use mutation::Mutation;
pub use reply::{ErrorKind, ReplyError};
pub use wire::{Encoded, Reader, Sink};

/// Implements the tokio codecs when the `tokio` feature is off: nothing to do.
#[cfg(not(feature = "tokio"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_tokio_codec {
    ($codec:ty, $message:ty) => {};
}

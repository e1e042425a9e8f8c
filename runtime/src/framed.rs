//! `tokio_util` codecs: raw frames for any [`Codec`], typed messages for generated codecs.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::codec::Codec;
use crate::error::Error;
use crate::framing::split_frame;

/// Splits a byte stream into frames with any codec, enforcing a frame size limit.
#[derive(Clone)]
pub struct FrameCodec {
    codec: Arc<dyn Codec>,
    max_frame: usize,
}

impl FrameCodec {
    /// Frames with `codec`, accepting frames up to the schema's `max_frame`.
    pub fn new(codec: Arc<dyn Codec>) -> Self {
        let max_frame = codec.max_frame_len();
        FrameCodec { codec, max_frame }
    }

    /// Overrides the largest accepted frame.
    #[must_use]
    pub fn with_max_frame(mut self, max_frame: usize) -> Self {
        self.max_frame = max_frame;
        self
    }

    /// The codec that frames the stream.
    pub fn codec(&self) -> &Arc<dyn Codec> {
        &self.codec
    }
}

impl Decoder for FrameCodec {
    type Item = Bytes;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        let codec = &self.codec;
        Ok(split_frame(src, self.max_frame, |b| codec.frame_len(b))?)
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = Error;

    fn encode(&mut self, frame: Bytes, dst: &mut BytesMut) -> Result<(), Error> {
        dst.extend_from_slice(&frame);
        Ok(())
    }
}

/// Implements `tokio_util::codec::{Decoder, Encoder}` for a generated codec type.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_tokio_codec {
    ($codec:ty, $message:ty) => {
        impl $crate::__private::tokio_util::codec::Decoder for $codec {
            type Item = $message;
            type Error = $crate::Error;

            fn decode(
                &mut self,
                src: &mut $crate::__private::BytesMut,
            ) -> ::core::result::Result<::core::option::Option<$message>, $crate::Error> {
                match $crate::__private::split_frame(src, MAX_FRAME, frame_len)? {
                    ::core::option::Option::Some(frame) => ::core::result::Result::Ok(
                        ::core::option::Option::Some(<$message>::decode(&frame)?),
                    ),
                    ::core::option::Option::None => {
                        ::core::result::Result::Ok(::core::option::Option::None)
                    }
                }
            }
        }

        impl $crate::__private::tokio_util::codec::Encoder<$message> for $codec {
            type Error = $crate::Error;

            fn encode(
                &mut self,
                item: $message,
                dst: &mut $crate::__private::BytesMut,
            ) -> ::core::result::Result<(), $crate::Error> {
                item.encode(dst)?;
                ::core::result::Result::Ok(())
            }
        }

        impl $crate::__private::tokio_util::codec::Encoder<&$message> for $codec {
            type Error = $crate::Error;

            fn encode(
                &mut self,
                item: &$message,
                dst: &mut $crate::__private::BytesMut,
            ) -> ::core::result::Result<(), $crate::Error> {
                item.encode(dst)?;
                ::core::result::Result::Ok(())
            }
        }
    };
}

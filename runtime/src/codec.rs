//! The codec contract between a protocol's codec and the proxy.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::metadata::Metadata;
use crate::mutation::Mutation;
use crate::reply::ReplyError;
use crate::wire::Encoded;

/// How much of a frame a buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameLen {
    /// The buffer starts with a complete frame of this many bytes.
    Complete(usize),
    /// The buffer must hold at least this many bytes before the frame's length is known
    /// or the frame is complete.
    NeedMore(usize),
}

/// A protocol's codec, as the proxy uses it: stateless, shared across connections,
/// and cheap to call once per frame.
///
/// Modelled on MetaProtocol Proxy's codec (decode, encode, onError), made stateless and
/// zero-copy: the proxy owns the buffers, and metadata values are slices of the frame.
pub trait Codec: Send + Sync + 'static {
    /// The protocol's name, as in an `ApplicationProtocol`'s `spec.protocol`.
    fn protocol(&self) -> &'static str;

    /// The codec's name, as in an `ApplicationProtocol`'s `spec.codec`.
    fn codec_name(&self) -> &'static str;

    /// The largest frame the schema allows.
    fn max_frame_len(&self) -> usize;

    /// Finds the length of the frame at the start of `buf`.
    fn frame_len(&self, buf: &[u8]) -> Result<FrameLen, DecodeError>;

    /// Decodes a complete frame's routing metadata, borrowing values from `frame`.
    fn decode(&self, frame: &Bytes) -> Result<Metadata, DecodeError>;

    /// Reads the request id of a frame that did not decode, if it can be read at all.
    fn peek_request_id(&self, frame: &[u8]) -> Option<u64>;

    /// Re-encodes `frame` with `mutation` applied, sharing its payload.
    fn encode(
        &self,
        frame: &Bytes,
        mutation: &Mutation,
        out: &mut Encoded,
    ) -> Result<(), EncodeError>;

    /// Builds the protocol's error reply to `request`.
    fn error_reply(
        &self,
        request: &Metadata,
        error: &ReplyError,
        out: &mut Encoded,
    ) -> Result<(), EncodeError>;

    /// Builds the protocol's answer to a heartbeat `request`.
    fn heartbeat_reply(&self, request: &Metadata, out: &mut Encoded) -> Result<(), EncodeError>;
}

impl std::fmt::Debug for dyn Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.codec_name())
    }
}

/// Codecs by codec name, as an `ApplicationProtocol` refers to them.
#[derive(Clone, Default)]
pub struct Registry {
    by_codec: HashMap<&'static str, Arc<dyn Codec>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a codec under its codec name, replacing any codec of the same name.
    pub fn register(&mut self, codec: Arc<dyn Codec>) -> &mut Self {
        self.by_codec.insert(codec.codec_name(), codec);
        self
    }

    /// The codec with this codec name.
    pub fn by_codec_name(&self, name: &str) -> Option<&Arc<dyn Codec>> {
        self.by_codec.get(name)
    }

    /// The codec for this protocol name.
    pub fn by_protocol(&self, protocol: &str) -> Option<&Arc<dyn Codec>> {
        self.by_codec.values().find(|c| c.protocol() == protocol)
    }

    /// All codec names, sorted.
    pub fn codec_names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.by_codec.keys().copied().collect();
        names.sort_unstable();
        names
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.codec_names()).finish()
    }
}

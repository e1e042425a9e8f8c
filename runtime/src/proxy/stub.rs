//! A codec that only names a protocol, for unit tests that build clusters but send nothing.

use std::sync::Arc;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use crate::codec::{Codec, FrameLen};
use crate::error::{DecodeError, EncodeError};
use crate::metadata::Metadata;
use crate::mutation::Mutation;
use crate::reply::ReplyError;
use crate::wire::Encoded;

use super::balance::Endpoint;
use super::context::{Settings, Shared};
use super::metrics::Metrics;
use super::pool::Pool;

/// Protocol `stub`, codec `mproto.test.stub`; never asked to frame anything.
#[derive(Debug)]
pub(crate) struct StubCodec;

impl Codec for StubCodec {
    fn protocol(&self) -> &'static str {
        "stub"
    }
    fn codec_name(&self) -> &'static str {
        "mproto.test.stub"
    }
    fn max_frame_len(&self) -> usize {
        1024
    }
    fn frame_len(&self, _: &[u8]) -> Result<FrameLen, DecodeError> {
        unreachable!("unit tests send no frames")
    }
    fn decode(&self, _: &Bytes) -> Result<Metadata, DecodeError> {
        unreachable!("unit tests send no frames")
    }
    fn peek_request_id(&self, _: &[u8]) -> Option<u64> {
        None
    }
    fn encode(&self, _: &Bytes, _: &Mutation, _: &mut Encoded) -> Result<(), EncodeError> {
        unreachable!("unit tests send no frames")
    }
    fn error_reply(
        &self,
        _: &Metadata,
        _: &ReplyError,
        _: &mut Encoded,
    ) -> Result<(), EncodeError> {
        unreachable!("unit tests send no frames")
    }
    fn heartbeat_reply(&self, _: &Metadata, _: &mut Encoded) -> Result<(), EncodeError> {
        unreachable!("unit tests send no frames")
    }
}

/// Proxy-wide state with `settings` and fresh metrics.
pub(crate) fn shared(settings: Settings) -> Arc<Shared> {
    Arc::new(Shared {
        settings,
        metrics: Arc::new(Metrics::default()),
        access_properties: Vec::new(),
        draining: CancellationToken::new(),
        stop: CancellationToken::new(),
        ready: Default::default(),
    })
}

/// An endpoint at `address` that is never connected to.
pub(crate) fn endpoint(address: &str) -> Arc<Endpoint> {
    let pool = Pool::new(
        address.into(),
        Arc::new(StubCodec),
        1024,
        shared(Settings::default()),
    );
    Arc::new(Endpoint::new(pool))
}

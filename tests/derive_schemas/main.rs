//! `#[derive(Codec)]` mirrors of the shipped schemas: each must behave exactly like
//! the codec generated from its `.mproto` file (`mproto_codecs`) — the same bytes
//! from the same values, and the same frame lengths, metadata, errors,
//! re-encodings and replies for any input.

mod awesomerpc;
mod dubbo;
mod thrift;

use bytes::Bytes;
use mproto::{Codec, DecodeError, Encoded, ErrorKind, FrameLen, Metadata, Mutation, ReplyError};
use proptest::prelude::*;

/// Asserts that `derived` and `dsl` agree on the valid frame `bytes`: framing of
/// it and of every prefix, metadata, the re-encoding under `mutation`, and every
/// reply to it. Returns the metadata.
fn same_on_frame(
    derived: &dyn Codec,
    dsl: &dyn Codec,
    bytes: &[u8],
    mutation: &Mutation,
) -> Result<Metadata, TestCaseError> {
    prop_assert_eq!(
        derived.frame_len(bytes),
        Ok(FrameLen::Complete(bytes.len()))
    );
    prop_assert_eq!(dsl.frame_len(bytes), Ok(FrameLen::Complete(bytes.len())));
    for cut in 0..bytes.len() {
        let got = derived.frame_len(&bytes[..cut]);
        prop_assert!(
            matches!(got, Ok(FrameLen::NeedMore(_))),
            "prefix {cut}: {got:?}"
        );
        prop_assert_eq!(got, dsl.frame_len(&bytes[..cut]));
    }
    let frame = Bytes::copy_from_slice(bytes);
    let metadata = derived
        .decode(&frame)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&Ok(metadata.clone()), &dsl.decode(&frame));
    prop_assert_eq!(derived.peek_request_id(bytes), dsl.peek_request_id(bytes));
    let (mut a, mut b) = (Encoded::default(), Encoded::default());
    let (ra, rb) = (
        derived.encode(&frame, mutation, &mut a),
        dsl.encode(&frame, mutation, &mut b),
    );
    prop_assert_eq!(&ra, &rb);
    prop_assert_eq!(a.to_bytes(), b.to_bytes());
    for kind in ErrorKind::ALL {
        let err = ReplyError::new(kind, "it went wrong: ünïcode");
        let (mut a, mut b) = (Encoded::default(), Encoded::default());
        let (ra, rb) = (
            derived.error_reply(&metadata, &err, &mut a),
            dsl.error_reply(&metadata, &err, &mut b),
        );
        prop_assert_eq!(&ra, &rb);
        prop_assert_eq!(a.to_bytes(), b.to_bytes());
    }
    let (mut a, mut b) = (Encoded::default(), Encoded::default());
    let (ra, rb) = (
        derived.heartbeat_reply(&metadata, &mut a),
        dsl.heartbeat_reply(&metadata, &mut b),
    );
    prop_assert_eq!(&ra, &rb);
    prop_assert_eq!(a.to_bytes(), b.to_bytes());
    Ok(metadata)
}

/// The codec's error reply (of `kind`, saying `message`) to the request `frame`.
fn error_reply(codec: &dyn Codec, frame: &Bytes, kind: ErrorKind, message: &'static str) -> Bytes {
    let request = codec.decode(frame).unwrap();
    let mut out = Encoded::default();
    codec
        .error_reply(&request, &ReplyError::new(kind, message), &mut out)
        .unwrap();
    out.to_bytes()
}

/// Asserts that both codecs give the same answer for `bytes` with the byte at `at`
/// replaced by `with`: the same success, or an error at the same offset, of the
/// same kind, in the same field (the derived path may add a member the schema
/// leaves unnamed, such as reserved bits).
fn same_on_damaged(
    derived: &dyn Codec,
    dsl: &dyn Codec,
    bytes: &[u8],
    at: usize,
    with: u8,
) -> Result<(), TestCaseError> {
    let mut damaged = bytes.to_vec();
    if let Some(b) = damaged.get_mut(at % bytes.len().max(1)) {
        *b = with;
    }
    same_outcome(derived.frame_len(&damaged), dsl.frame_len(&damaged))?;
    let frame = Bytes::from(damaged);
    same_outcome(derived.decode(&frame), dsl.decode(&frame))
}

fn same_outcome<T: PartialEq + std::fmt::Debug>(
    derived: Result<T, DecodeError>,
    dsl: Result<T, DecodeError>,
) -> Result<(), TestCaseError> {
    match (derived, dsl) {
        (Err(a), Err(b)) => {
            prop_assert_eq!((a.offset(), a.kind()), (b.offset(), b.kind()));
            let mut named = a.path().segments();
            for seg in b.path().segments() {
                prop_assert!(
                    named.any(|s| s == seg),
                    "{} is not within {}",
                    b.path(),
                    a.path()
                );
            }
        }
        (a, b) => prop_assert_eq!(a, b),
    }
    Ok(())
}

//! AwesomeRPC's `encode_mutated` checks the header list in the same pass that looks for
//! replaced keys, and `decode_metadata` in the pass that pushes the headers as
//! properties (`decode_deferred` + `List::validated_with`); both start over with the
//! checking `decode` when that pass does not take the frame. These properties hold on
//! valid frames, on every prefix of one, on damaged ones and on random bytes:
//!
//! - the one-pass check accepts only frames `decode` accepts, with the same view;
//! - `decode_metadata` answers what `decode` and `metadata_of` answer (the same
//!   metadata, or the same error);
//! - `encode_mutated` answers what decoding, applying the mutation to the owned
//!   message and encoding it answers: the same bytes, or the same error (the decode
//!   error, with its offset, field path and kind).

use bytes::Bytes;
use mproto_codecs::awesomerpc;
use mproto_runtime::__private::{EncodeError, Encoded, Mutation};
use proptest::prelude::*;

use crate::{awesomerpc_message, mutation, variants};

/// The one-pass check, as `encode_mutated` runs it.
fn one_pass(buf: &[u8]) -> Option<awesomerpc::MessageRef<'_>> {
    let mut view = awesomerpc::MessageRef::decode_deferred(buf).ok()?;
    view.headers = view.headers.validated_with(|_| ())?;
    Some(view)
}

/// `encode_mutated` the slow way: decode, apply to the owned message, encode.
fn reference(frame: &Bytes, mutation: &Mutation) -> Result<Bytes, EncodeError> {
    if mutation.is_empty() {
        return Ok(frame.clone());
    }
    let view = awesomerpc::MessageRef::decode(frame)?;
    let mut message = awesomerpc::Message::from_ref(&view, frame);
    mutation.apply_to(&mut message.headers);
    if let Some(id) = mutation.request_id {
        message.request_id = id;
    }
    message.to_bytes()
}

fn check(buf: &[u8], mutation: &Mutation) -> Result<(), TestCaseError> {
    if let Some(view) = one_pass(buf) {
        prop_assert_eq!(awesomerpc::MessageRef::decode(buf), Ok(view));
    }
    let frame = Bytes::copy_from_slice(buf);
    prop_assert_eq!(
        awesomerpc::decode_metadata(&frame),
        awesomerpc::MessageRef::decode(&frame).and_then(|v| awesomerpc::metadata_of(&v, &frame))
    );
    let mut out = Encoded::default();
    let fast = awesomerpc::encode_mutated(&frame, mutation, &mut out).map(|()| out.to_bytes());
    prop_assert_eq!(fast, reference(&frame, mutation));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn one_pass_agrees_with_decode(
        flags in any::<u8>(),
        stream_id in proptest::option::of(any::<u32>()),
        request_id in any::<u64>(),
        headers in proptest::collection::vec(("[ab]{0,2}", "[a-z0-9é]{0,10}"), 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..40),
        at in any::<usize>(),
        by in any::<u8>(),
        mutation in mutation(0..3),
    ) {
        let message = awesomerpc_message(flags, stream_id, request_id, headers, body);
        let bytes = message.to_bytes().unwrap();
        for buf in variants(&bytes, at, by) {
            check(&buf, &mutation)?;
        }
    }

    #[test]
    fn random_bytes_agree(
        bytes in proptest::collection::vec(any::<u8>(), 0..48),
        mutation in mutation(0..3),
    ) {
        check(&bytes, &mutation)?;
    }
}

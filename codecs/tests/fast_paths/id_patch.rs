//! Dubbo's and Thrift's `encode_mutated` rewrite a request id by patching a copy of the
//! frame's head (`mutate.rs`, `id_patch`) after the frame decodes, and refuse property
//! changes on a path that decodes the frame again (`mutate_owned.rs`). On valid frames,
//! every prefix of one, damaged ones and random bytes, each answers what decoding, setting
//! the id on the owned message and encoding it answers: the same bytes, or the same error
//! (the decode error with its offset, field path and kind, an id that does not fit, or
//! the refusal of a property change).

use bytes::Bytes;
use mproto_codecs::{dubbo, thrift};
use mproto_runtime::__private::{EncodeError, EncodeErrorKind, Encoded, Mutation};
use proptest::prelude::*;

use crate::{dubbo_message, mutation, thrift_message, variants};

/// What `encode_mutated` must answer, the slow way.
fn reference<M>(
    mutation: &Mutation,
    decode: impl FnOnce() -> Result<M, mproto_runtime::DecodeError>,
    set_id: impl FnOnce(&mut M, u64) -> Result<(), EncodeError>,
    encode: impl FnOnce(&M) -> Result<Bytes, EncodeError>,
) -> Result<Bytes, EncodeError> {
    let mut message = decode()?;
    if let Some(id) = mutation.request_id {
        set_id(&mut message, id)?;
    }
    if !mutation.properties.is_empty() {
        return Err(EncodeError::new(EncodeErrorKind::Unsupported(
            "mutating this protocol's properties",
        )));
    }
    encode(&message)
}

fn fast(
    frame: &Bytes,
    mutation: &Mutation,
    encode_mutated: fn(&Bytes, &Mutation, &mut Encoded) -> Result<(), EncodeError>,
) -> Result<Bytes, EncodeError> {
    let mut out = Encoded::default();
    encode_mutated(frame, mutation, &mut out).map(|()| out.to_bytes())
}

/// The patch against the reference: the same error, or bytes that decode to the same
/// message and differ from the frame only in the id's bytes. (The patch keeps every
/// other byte as received, padding included; re-encoding writes padding as zeros.)
fn agree<M: PartialEq + std::fmt::Debug>(
    frame: &Bytes,
    fast: Result<Bytes, EncodeError>,
    reference: Result<Bytes, EncodeError>,
    decode: impl Fn(&Bytes) -> M,
    id: std::ops::Range<usize>,
) -> Result<(), TestCaseError> {
    match (fast, reference) {
        (Ok(fast), Ok(reference)) => {
            prop_assert_eq!(decode(&fast), decode(&reference));
            prop_assert_eq!(fast.len(), frame.len());
            prop_assert_eq!(&fast[..id.start], &frame[..id.start]);
            prop_assert_eq!(&fast[id.end..], &frame[id.end..]);
        }
        (fast, reference) => prop_assert_eq!(fast, reference),
    }
    Ok(())
}

fn check(buf: &[u8], mutation: &Mutation) -> Result<(), TestCaseError> {
    let frame = Bytes::copy_from_slice(buf);
    if mutation.is_empty() {
        return Ok(());
    }
    let reference_dubbo = reference(
        mutation,
        || dubbo::Message::decode(&frame),
        |m, id| {
            m.request_id = id;
            Ok(())
        },
        |m| m.to_bytes(),
    );
    agree(
        &frame,
        fast(&frame, mutation, dubbo::encode_mutated),
        reference_dubbo,
        |b| dubbo::Message::decode(b).unwrap(),
        4..12,
    )?;
    let reference_thrift = reference(
        mutation,
        || thrift::Message::decode(&frame),
        |m, id| {
            m.seq_id = u32::try_from(id).map_err(|_| {
                EncodeError::new(EncodeErrorKind::OutOfRange {
                    value: i128::from(id),
                    max: i128::from(u32::MAX),
                })
            })?;
            Ok(())
        },
        |m| m.to_bytes(),
    );
    let seq_at = thrift::MessageRef::decode(buf).map_or(0, |v| 12 + v.name.len());
    agree(
        &frame,
        fast(&frame, mutation, thrift::encode_mutated),
        reference_thrift,
        |b| thrift::Message::decode(b).unwrap(),
        seq_at..seq_at + 4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn dubbo_and_thrift_patches_agree(
        flags in any::<u8>(),
        status in any::<u8>(),
        request_id in any::<u64>(),
        kind in 1u8..=4,
        name in "[a-zA-Z]{0,12}",
        seq_id in any::<u32>(),
        body in proptest::collection::vec(any::<u8>(), 0..40),
        at in any::<usize>(),
        by in any::<u8>(),
        mutation in mutation(0..2),
    ) {
        let dubbo = dubbo_message(flags, status, request_id, body.clone());
        let thrift = thrift_message(kind, name, seq_id, body);
        for bytes in [dubbo.to_bytes().unwrap(), thrift.to_bytes().unwrap()] {
            for buf in variants(&bytes, at, by) {
                check(&buf, &mutation)?;
            }
        }
    }

    #[test]
    fn random_bytes_agree(
        bytes in proptest::collection::vec(any::<u8>(), 0..48),
        mutation in mutation(0..2),
    ) {
        check(&bytes, &mutation)?;
    }
}

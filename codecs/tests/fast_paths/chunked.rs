//! The chunked fast paths of the generated code (a run of fixed-size fields read as one
//! chunk, see `compiler/src/codegen/chunk.rs`) answer exactly what the field-by-field
//! reads answer, on valid frames, on every prefix of one and on damaged ones: the same
//! values, the same `frame_len`, the same errors (offset, field path and kind).

use mproto_codecs::{awesomerpc, dubbo, thrift};
use mproto_runtime::__private::{DecodeError, FrameLen, Reader, Stop, Walk, conclude, eval};
use proptest::prelude::*;

use crate::{awesomerpc_message, dubbo_message, thrift_message, variants};

/// `decode`, one field at a time.
fn decode_each<'a, T>(
    buf: &'a [u8],
    read_each: impl FnOnce(&mut Reader<'a>, &mut &'static str) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let mut r = Reader::new(buf);
    let mut at = "";
    let v = read_each(&mut r, &mut at).map_err(|e| eval::in_field(e, at))?;
    r.finish()?;
    Ok(v)
}

/// What a walk finds for `buf`.
fn walked(
    buf: &[u8],
    walk: impl FnOnce(&mut Walk<'_>) -> Result<(), Stop>,
) -> Result<FrameLen, DecodeError> {
    let mut w = Walk::new(buf);
    let result = walk(&mut w);
    conclude(result.map(|()| w.end()))
}

fn check_awesomerpc(buf: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        awesomerpc::MessageRef::decode(buf),
        decode_each(buf, awesomerpc::MessageRef::read_each)
    );
    prop_assert_eq!(
        walked(buf, awesomerpc::MessageRef::walk),
        walked(buf, awesomerpc::MessageRef::walk_each)
    );
    Ok(())
}

fn check_dubbo(buf: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        dubbo::MessageRef::decode(buf),
        decode_each(buf, dubbo::MessageRef::read_each)
    );
    prop_assert_eq!(
        walked(buf, dubbo::MessageRef::walk),
        walked(buf, dubbo::MessageRef::walk_each)
    );
    Ok(())
}

fn check_thrift(buf: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        thrift::MessageRef::decode(buf),
        decode_each(buf, thrift::MessageRef::read_each)
    );
    Ok(())
}

fn encoded(encode: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn awesomerpc_chunks_agree(
        flags in any::<u8>(),
        stream_id in proptest::option::of(any::<u32>()),
        request_id in any::<u64>(),
        headers in proptest::collection::vec(("[a-z]{0,6}", "[a-z0-9é]{0,10}"), 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..40),
        at in any::<usize>(),
        by in any::<u8>(),
    ) {
        let message = awesomerpc_message(flags, stream_id, request_id, headers, body);
        let bytes = encoded(|out| message.encode(out).unwrap());
        for buf in variants(&bytes, at, by) {
            check_awesomerpc(&buf)?;
        }
    }

    #[test]
    fn dubbo_chunks_agree(
        flags in any::<u8>(),
        status in any::<u8>(),
        request_id in any::<u64>(),
        body in proptest::collection::vec(any::<u8>(), 0..40),
        at in any::<usize>(),
        by in any::<u8>(),
    ) {
        let message = dubbo_message(flags, status, request_id, body);
        let bytes = encoded(|out| message.encode(out).unwrap());
        for buf in variants(&bytes, at, by) {
            check_dubbo(&buf)?;
        }
    }

    #[test]
    fn thrift_chunks_agree(
        kind in 1u8..=4,
        name in "[a-zA-Z]{0,12}",
        seq_id in any::<u32>(),
        body in proptest::collection::vec(any::<u8>(), 0..40),
        at in any::<usize>(),
        by in any::<u8>(),
    ) {
        let message = thrift_message(kind, name, seq_id, body);
        let bytes = encoded(|out| message.encode(out).unwrap());
        for buf in variants(&bytes, at, by) {
            check_thrift(&buf)?;
        }
    }

    #[test]
    fn random_bytes_agree(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
        check_awesomerpc(&bytes)?;
        check_dubbo(&bytes)?;
        check_thrift(&bytes)?;
    }
}

//! The generated codecs' fast paths against their checking slow paths: each must
//! give the same answer (value, frame length or error with offset, field path and
//! kind) on valid frames, every prefix of one, damaged ones and random bytes.

mod chunked;
mod deferred;
mod id_patch;

use bytes::Bytes;
use mproto_codecs::{awesomerpc, dubbo, thrift};
use mproto_runtime::__private::Mutation;
use proptest::prelude::*;

/// Every prefix of `frame`, `frame` with byte `at` replaced by `by`, and `frame` with
/// `by` appended.
fn variants(frame: &[u8], at: usize, by: u8) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = (0..=frame.len()).map(|n| frame[..n].to_vec()).collect();
    if !frame.is_empty() {
        let mut damaged = frame.to_vec();
        damaged[at % frame.len()] = by;
        out.push(damaged);
    }
    let mut longer = frame.to_vec();
    longer.push(by);
    out.push(longer);
    out
}

/// An AwesomeRPC message whose kind and switches come from `flags`.
fn awesomerpc_message(
    flags: u8,
    stream_id: Option<u32>,
    request_id: u64,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> awesomerpc::Message {
    awesomerpc::Message {
        flags: awesomerpc::MessageFlags {
            kind: awesomerpc::Kind::from_raw(flags >> 5),
            compressed: flags & 1 != 0,
            streaming: stream_id.is_some(),
        },
        status: awesomerpc::Status::from_raw(flags),
        request_id,
        stream_id,
        headers: headers
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
        body: Bytes::from(body),
        ..Default::default()
    }
}

/// A Dubbo message from a raw flag byte and status.
fn dubbo_message(flags: u8, status: u8, request_id: u64, body: Vec<u8>) -> dubbo::Message {
    dubbo::Message {
        flags: dubbo::MessageFlags::from_raw(flags),
        status: dubbo::Status::from_raw(status),
        request_id,
        body: Bytes::from(body),
    }
}

/// A Thrift call of a known kind (1 to 4).
fn thrift_message(kind: u8, name: String, seq_id: u32, body: Vec<u8>) -> thrift::Message {
    thrift::Message {
        kind: thrift::MessageKind::from_raw(kind).unwrap(),
        name: name.into(),
        seq_id,
        body: Bytes::from(body),
    }
}

/// A mutation: maybe a request id (often one that fits 32 bits), and up to `props - 1`
/// changes with keys from a small alphabet, so that they sometimes replace a header.
fn mutation(props: std::ops::Range<usize>) -> impl Strategy<Value = Mutation> {
    (
        proptest::option::of(prop_oneof![any::<u32>().prop_map(u64::from), any::<u64>()]),
        proptest::collection::vec(("[ab]{1,2}", "[a-z0-9é]{0,6}"), props),
    )
        .prop_map(|(id, changes)| {
            let mut m = Mutation::new();
            m.request_id = id;
            for (k, v) in changes {
                m = m.with(k, v);
            }
            m
        })
}

//! The generated codecs' fast paths against their checking slow paths: each must
//! give the same answer (value, frame length or error with offset, field path and
//! kind) on valid frames, every prefix of one, damaged ones and random bytes.

mod chunked;
mod deferred;
mod id_patch;

use bytes::Bytes;
use mproto_codecs::awesomerpc;

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

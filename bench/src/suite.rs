//! Every (format, operation, implementation) the benchmarks measure, defined once and handed
//! to a [`Runner`]: criterion times them, the allocation counter counts them.

use std::hint::black_box;

use bytes::Bytes;
use mproto_codecs::awesomerpc::{self, AwesomerpcCodec};
use mproto_codecs::dubbo::{self, DubboCodec};
use mproto_codecs::thrift::{self, ThriftCodec};
use mproto_runtime::{Codec, Encoded};

use crate::fixtures::{self, AWESOME_ADDED, DUBBO_NEW_ID, THRIFT_NEW_SEQ, as_frame};
use crate::model::{Touch, to_runtime};
use crate::{generated, hand, with_binrw, with_deku};

/// The operation measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Find the frame length in a buffer holding the frame.
    FrameLen,
    /// Decode the routing metadata (what the proxy does per frame).
    DecodeMetadata,
    /// Decode and read every field.
    DecodeFull,
    /// Encode an owned value into a reused buffer.
    Encode,
    /// Re-encode a frame with a mutation (two added headers; a request-id rewrite for
    /// Thrift and Dubbo, which have no header list).
    Reencode,
}

impl Op {
    /// Every operation, in table order.
    pub const ALL: [Op; 5] = [
        Op::FrameLen,
        Op::DecodeMetadata,
        Op::DecodeFull,
        Op::Encode,
        Op::Reencode,
    ];

    /// The name used in benchmark ids and tables.
    pub fn name(self) -> &'static str {
        match self {
            Op::FrameLen => "frame_len",
            Op::DecodeMetadata => "decode_metadata",
            Op::DecodeFull => "decode_full",
            Op::Encode => "encode",
            Op::Reencode => "reencode",
        }
    }
}

/// The implementations, in table order: the generated codec first, the ceiling second.
pub const IMPLS: [&str; 4] = ["mproto", "hand", "binrw", "deku"];
/// The formats, in table order.
pub const FORMATS: [&str; 3] = ["awesomerpc", "thrift", "dubbo"];

/// Something that does a measurement of one operation.
pub trait Runner {
    /// Measures `f`, one call of which is one operation.
    fn run<R>(&mut self, format: &'static str, op: Op, imp: &'static str, f: impl FnMut() -> R);
}

/// Runs every format.
pub fn run_all(r: &mut impl Runner) {
    awesomerpc(r);
    thrift(r);
    dubbo(r);
}

/// A reusable output buffer, big enough that no operation grows it after the first call.
fn buffer() -> Vec<u8> {
    Vec::with_capacity(4096)
}

/// AwesomeRPC: 8 headers and a 1 KiB body.
pub fn awesomerpc(r: &mut impl Runner) {
    const F: &str = "awesomerpc";
    let fields = fixtures::awesome_fields();
    let frame_owned = as_frame(&fixtures::awesome_bytes(&fields));
    let frame: &Bytes = &frame_owned;
    let gen_msg = generated::awesome_message(&fields);
    let hand_msg = hand::awesomerpc::Message {
        version: fields.version,
        kind: fields.kind,
        compressed: fields.compressed,
        streaming: fields.streaming,
        status: fields.status,
        request_id: fields.request_id,
        stream_id: fields.stream_id,
        headers: fields.headers.clone(),
        body: Bytes::from(fields.body.clone()),
    };
    let binrw_msg = with_binrw::awesomerpc::decode(frame).expect("fixture decodes");
    let deku_msg = with_deku::awesomerpc::decode(frame).expect("fixture decodes");
    let mutation = generated::awesome_mutation();

    r.run(F, Op::FrameLen, "mproto", || {
        AwesomerpcCodec.frame_len(black_box(frame)).unwrap()
    });
    r.run(F, Op::FrameLen, "hand", || {
        hand::awesomerpc::frame_len(black_box(frame)).unwrap()
    });
    r.run(F, Op::FrameLen, "binrw", || {
        with_binrw::awesomerpc::frame_len(black_box(frame)).unwrap()
    });
    r.run(F, Op::FrameLen, "deku", || {
        with_deku::awesomerpc::frame_len(black_box(frame)).unwrap()
    });

    r.run(F, Op::DecodeMetadata, "mproto", || {
        AwesomerpcCodec.decode(black_box(frame)).unwrap()
    });
    r.run(F, Op::DecodeMetadata, "hand", || {
        to_runtime(
            &hand::awesomerpc::decode_metadata(black_box(frame)).unwrap(),
            frame,
        )
    });
    r.run(F, Op::DecodeMetadata, "binrw", || {
        let m = with_binrw::awesomerpc::decode(black_box(frame)).unwrap();
        to_runtime(&with_binrw::awesomerpc::metadata(&m), frame)
    });
    r.run(F, Op::DecodeMetadata, "deku", || {
        let m = with_deku::awesomerpc::decode(black_box(frame)).unwrap();
        to_runtime(&with_deku::awesomerpc::metadata(&m), frame)
    });

    r.run(F, Op::DecodeFull, "mproto", || {
        generated::touch_awesome(&awesomerpc::MessageRef::decode(black_box(frame)).unwrap())
    });
    r.run(F, Op::DecodeFull, "hand", || {
        let v = hand::awesomerpc::decode(black_box(frame)).unwrap();
        let mut t = Touch::default();
        t.num(u64::from(v.version));
        t.num(u64::from(v.kind));
        t.num(u64::from(v.compressed) | u64::from(v.streaming) << 1);
        t.num(u64::from(v.status));
        t.num(v.request_id);
        t.num(v.stream_id.map_or(0, u64::from));
        for (k, val) in v.headers() {
            t.bytes(k.as_bytes());
            t.bytes(val.as_bytes());
        }
        t.bytes(v.body);
        t.0
    });
    r.run(F, Op::DecodeFull, "binrw", || {
        let m = with_binrw::awesomerpc::decode(black_box(frame)).unwrap();
        let mut t = Touch::default();
        t.num(u64::from(m.version));
        t.num(u64::from(m.flags.kind));
        t.num(u64::from(m.flags.compressed) | u64::from(m.flags.streaming) << 1);
        t.num(u64::from(m.status));
        t.num(m.request_id);
        t.num(m.stream_id.map_or(0, u64::from));
        for h in &m.headers {
            t.bytes(h.key.as_bytes());
            t.bytes(h.value.as_bytes());
        }
        t.bytes(&m.body);
        t.0
    });
    r.run(F, Op::DecodeFull, "deku", || {
        let m = with_deku::awesomerpc::decode(black_box(frame)).unwrap();
        let mut t = Touch::default();
        t.num(u64::from(m.version));
        t.num(u64::from(m.kind.to_raw()));
        t.num(u64::from(m.compressed) | u64::from(m.streaming) << 1);
        t.num(u64::from(m.status));
        t.num(m.request_id);
        t.num(m.stream_id.map_or(0, u64::from));
        for h in &m.headers {
            t.bytes(h.key.as_bytes());
            t.bytes(h.value.as_bytes());
        }
        t.bytes(&m.body);
        t.0
    });

    let mut buf = buffer();
    // Like the baselines' reused output buffer: the proxy keeps one per connection.
    let mut reused = Encoded::with_capacity(4096);
    r.run(F, Op::Encode, "mproto", || {
        buf.clear();
        black_box(&gen_msg).encode(&mut buf).unwrap();
        buf.len()
    });
    r.run(F, Op::Encode, "hand", || {
        buf.clear();
        hand::awesomerpc::encode(black_box(&hand_msg), &mut buf).unwrap();
        buf.len()
    });
    r.run(F, Op::Encode, "binrw", || {
        buf.clear();
        with_binrw::awesomerpc::encode(black_box(&binrw_msg), &mut buf).unwrap();
        buf.len()
    });
    r.run(F, Op::Encode, "deku", || {
        buf.clear();
        with_deku::awesomerpc::encode(black_box(&deku_msg), &mut buf).unwrap();
        buf.len()
    });

    r.run(F, Op::Reencode, "mproto", || {
        reused.clear();
        AwesomerpcCodec
            .encode(black_box(frame), black_box(&mutation), &mut reused)
            .unwrap();
        reused.len()
    });
    r.run(F, Op::Reencode, "hand", || {
        buf.clear();
        hand::awesomerpc::encode_mutated(black_box(frame), black_box(&AWESOME_ADDED), &mut buf)
            .unwrap()
    });
    r.run(F, Op::Reencode, "binrw", || {
        buf.clear();
        with_binrw::awesomerpc::encode_mutated(
            black_box(frame),
            black_box(&AWESOME_ADDED),
            &mut buf,
        )
        .unwrap();
        buf.len()
    });
    r.run(F, Op::Reencode, "deku", || {
        buf.clear();
        with_deku::awesomerpc::encode_mutated(
            black_box(frame),
            black_box(&AWESOME_ADDED),
            &mut buf,
        )
        .unwrap();
        buf.len()
    });
}

/// Thrift: a framed strict-binary call with a small argument struct.
pub fn thrift(r: &mut impl Runner) {
    const F: &str = "thrift";
    let fields = fixtures::thrift_fields();
    let frame_owned = as_frame(&fixtures::thrift_bytes(&fields));
    let frame: &Bytes = &frame_owned;
    let gen_msg = generated::thrift_message(&fields);
    let hand_msg = hand::thrift::Message {
        kind: fields.kind,
        name: fields.name.clone(),
        seq_id: fields.seq_id,
        body: Bytes::from(fields.body.clone()),
    };
    let binrw_msg = with_binrw::thrift::decode(frame).expect("fixture decodes");
    let deku_msg = with_deku::thrift::decode(frame).expect("fixture decodes");
    let mutation = generated::thrift_mutation();
    let new_id = u64::from(THRIFT_NEW_SEQ);

    r.run(F, Op::FrameLen, "mproto", || {
        ThriftCodec.frame_len(black_box(frame)).unwrap()
    });
    r.run(F, Op::FrameLen, "hand", || {
        hand::thrift::frame_len(black_box(frame)).unwrap()
    });
    r.run(F, Op::FrameLen, "binrw", || {
        with_binrw::thrift::frame_len(black_box(frame)).unwrap()
    });
    r.run(F, Op::FrameLen, "deku", || {
        with_deku::thrift::frame_len(black_box(frame)).unwrap()
    });

    r.run(F, Op::DecodeMetadata, "mproto", || {
        ThriftCodec.decode(black_box(frame)).unwrap()
    });
    r.run(F, Op::DecodeMetadata, "hand", || {
        to_runtime(
            &hand::thrift::decode_metadata(black_box(frame)).unwrap(),
            frame,
        )
    });
    r.run(F, Op::DecodeMetadata, "binrw", || {
        let m = with_binrw::thrift::decode(black_box(frame)).unwrap();
        to_runtime(&with_binrw::thrift::metadata(&m), frame)
    });
    r.run(F, Op::DecodeMetadata, "deku", || {
        let m = with_deku::thrift::decode(black_box(frame)).unwrap();
        to_runtime(&with_deku::thrift::metadata(&m), frame)
    });

    r.run(F, Op::DecodeFull, "mproto", || {
        generated::touch_thrift(&thrift::MessageRef::decode(black_box(frame)).unwrap())
    });
    r.run(F, Op::DecodeFull, "hand", || {
        let v = hand::thrift::decode(black_box(frame)).unwrap();
        thrift_touch(v.kind, v.name, v.seq_id, v.body)
    });
    r.run(F, Op::DecodeFull, "binrw", || {
        let m = with_binrw::thrift::decode(black_box(frame)).unwrap();
        thrift_touch(m.kind as u8, &m.name, m.seq_id, &m.body)
    });
    r.run(F, Op::DecodeFull, "deku", || {
        let m = with_deku::thrift::decode(black_box(frame)).unwrap();
        thrift_touch(m.kind as u8, &m.name, m.seq_id, &m.body)
    });

    let mut buf = buffer();
    // Like the baselines' reused output buffer: the proxy keeps one per connection.
    let mut reused = Encoded::with_capacity(4096);
    r.run(F, Op::Encode, "mproto", || {
        buf.clear();
        black_box(&gen_msg).encode(&mut buf).unwrap();
        buf.len()
    });
    r.run(F, Op::Encode, "hand", || {
        buf.clear();
        hand::thrift::encode(black_box(&hand_msg), &mut buf).unwrap();
        buf.len()
    });
    r.run(F, Op::Encode, "binrw", || {
        buf.clear();
        with_binrw::thrift::encode(black_box(&binrw_msg), &mut buf).unwrap();
        buf.len()
    });
    r.run(F, Op::Encode, "deku", || {
        buf.clear();
        with_deku::thrift::encode(black_box(&deku_msg), &mut buf).unwrap();
        buf.len()
    });

    r.run(F, Op::Reencode, "mproto", || {
        reused.clear();
        ThriftCodec
            .encode(black_box(frame), black_box(&mutation), &mut reused)
            .unwrap();
        reused.len()
    });
    r.run(F, Op::Reencode, "hand", || {
        buf.clear();
        hand::thrift::encode_with_request_id(black_box(frame), black_box(new_id), &mut buf).unwrap()
    });
    r.run(F, Op::Reencode, "binrw", || {
        buf.clear();
        with_binrw::thrift::encode_with_request_id(black_box(frame), black_box(new_id), &mut buf)
            .unwrap();
        buf.len()
    });
    r.run(F, Op::Reencode, "deku", || {
        buf.clear();
        with_deku::thrift::encode_with_request_id(black_box(frame), black_box(new_id), &mut buf)
            .unwrap();
        buf.len()
    });
}

/// Reads every Thrift field.
#[inline(always)]
fn thrift_touch(kind: u8, name: &str, seq_id: u32, body: &[u8]) -> u64 {
    let mut t = Touch::default();
    t.num(u64::from(kind));
    t.bytes(name.as_bytes());
    t.num(u64::from(seq_id));
    t.bytes(body);
    t.0
}

/// Dubbo: a two-way Hessian2 request header with a small invocation body.
pub fn dubbo(r: &mut impl Runner) {
    const F: &str = "dubbo";
    let fields = fixtures::dubbo_fields();
    let frame_owned = as_frame(&fixtures::dubbo_bytes(&fields));
    let frame: &Bytes = &frame_owned;
    let gen_msg = generated::dubbo_message(&fields);
    let hand_msg = hand::dubbo::Message {
        request: fields.request,
        two_way: fields.two_way,
        event: fields.event,
        serialization: fields.serialization,
        status: fields.status,
        request_id: fields.request_id,
        body: Bytes::from(fields.body.clone()),
    };
    let binrw_msg = with_binrw::dubbo::decode(frame).expect("fixture decodes");
    let deku_msg = with_deku::dubbo::decode(frame).expect("fixture decodes");
    let mutation = generated::dubbo_mutation();

    r.run(F, Op::FrameLen, "mproto", || {
        DubboCodec.frame_len(black_box(frame)).unwrap()
    });
    r.run(F, Op::FrameLen, "hand", || {
        hand::dubbo::frame_len(black_box(frame)).unwrap()
    });
    r.run(F, Op::FrameLen, "binrw", || {
        with_binrw::dubbo::frame_len(black_box(frame)).unwrap()
    });
    r.run(F, Op::FrameLen, "deku", || {
        with_deku::dubbo::frame_len(black_box(frame)).unwrap()
    });

    r.run(F, Op::DecodeMetadata, "mproto", || {
        DubboCodec.decode(black_box(frame)).unwrap()
    });
    r.run(F, Op::DecodeMetadata, "hand", || {
        to_runtime(
            &hand::dubbo::decode_metadata(black_box(frame)).unwrap(),
            frame,
        )
    });
    r.run(F, Op::DecodeMetadata, "binrw", || {
        let m = with_binrw::dubbo::decode(black_box(frame)).unwrap();
        to_runtime(&with_binrw::dubbo::metadata(&m), frame)
    });
    r.run(F, Op::DecodeMetadata, "deku", || {
        let m = with_deku::dubbo::decode(black_box(frame)).unwrap();
        to_runtime(&with_deku::dubbo::metadata(&m), frame)
    });

    r.run(F, Op::DecodeFull, "mproto", || {
        generated::touch_dubbo(&dubbo::MessageRef::decode(black_box(frame)).unwrap())
    });
    r.run(F, Op::DecodeFull, "hand", || {
        let v = hand::dubbo::decode(black_box(frame)).unwrap();
        let flags = [v.request, v.two_way, v.event];
        dubbo_touch(flags, v.serialization, v.status, v.request_id, v.body)
    });
    r.run(F, Op::DecodeFull, "binrw", || {
        let m = with_binrw::dubbo::decode(black_box(frame)).unwrap();
        let f = m.flags;
        let flags = [f.request, f.two_way, f.event];
        dubbo_touch(flags, f.serialization, m.status, m.request_id, &m.body)
    });
    r.run(F, Op::DecodeFull, "deku", || {
        let m = with_deku::dubbo::decode(black_box(frame)).unwrap();
        let flags = [m.request, m.two_way, m.event];
        dubbo_touch(flags, m.serialization, m.status, m.request_id, &m.body)
    });

    let mut buf = buffer();
    // Like the baselines' reused output buffer: the proxy keeps one per connection.
    let mut reused = Encoded::with_capacity(4096);
    r.run(F, Op::Encode, "mproto", || {
        buf.clear();
        black_box(&gen_msg).encode(&mut buf).unwrap();
        buf.len()
    });
    r.run(F, Op::Encode, "hand", || {
        buf.clear();
        hand::dubbo::encode(black_box(&hand_msg), &mut buf).unwrap();
        buf.len()
    });
    r.run(F, Op::Encode, "binrw", || {
        buf.clear();
        with_binrw::dubbo::encode(black_box(&binrw_msg), &mut buf).unwrap();
        buf.len()
    });
    r.run(F, Op::Encode, "deku", || {
        buf.clear();
        with_deku::dubbo::encode(black_box(&deku_msg), &mut buf).unwrap();
        buf.len()
    });

    r.run(F, Op::Reencode, "mproto", || {
        reused.clear();
        DubboCodec
            .encode(black_box(frame), black_box(&mutation), &mut reused)
            .unwrap();
        reused.len()
    });
    r.run(F, Op::Reencode, "hand", || {
        buf.clear();
        hand::dubbo::encode_with_request_id(black_box(frame), black_box(DUBBO_NEW_ID), &mut buf)
            .unwrap()
    });
    r.run(F, Op::Reencode, "binrw", || {
        buf.clear();
        with_binrw::dubbo::encode_with_request_id(
            black_box(frame),
            black_box(DUBBO_NEW_ID),
            &mut buf,
        )
        .unwrap();
        buf.len()
    });
    r.run(F, Op::Reencode, "deku", || {
        buf.clear();
        with_deku::dubbo::encode_with_request_id(
            black_box(frame),
            black_box(DUBBO_NEW_ID),
            &mut buf,
        )
        .unwrap();
        buf.len()
    });
}

/// Reads every Dubbo field.
#[inline(always)]
fn dubbo_touch(flags: [bool; 3], serialization: u8, status: u8, id: u64, body: &[u8]) -> u64 {
    let mut t = Touch::default();
    let [a, b, c] = flags;
    t.num(u64::from(a) | u64::from(b) << 1 | u64::from(c) << 2);
    t.num(u64::from(serialization));
    t.num(u64::from(status));
    t.num(id);
    t.bytes(body);
    t.0
}

//! The generated codecs (`mproto-codecs`), with the helpers the suite needs around them:
//! owned messages built from the fixtures and the same mutations the baselines apply.

use bytes::Bytes;
use bytestring::ByteString;
use mproto_codecs::{awesomerpc, dubbo, thrift};
use mproto_runtime::Mutation;

use crate::fixtures::{AWESOME_ADDED, DUBBO_NEW_ID, THRIFT_NEW_SEQ};
use crate::model::{AwesomeFields, DubboFields, ThriftFields, Touch};

/// The owned AwesomeRPC message for `f`.
pub fn awesome_message(f: &AwesomeFields) -> awesomerpc::Message {
    awesomerpc::Message {
        version: f.version,
        flags: awesomerpc::MessageFlags {
            kind: awesomerpc::Kind::from_raw(f.kind),
            compressed: f.compressed,
            streaming: f.streaming,
        },
        status: awesomerpc::Status::from_raw(f.status),
        request_id: f.request_id,
        stream_id: f.stream_id,
        headers: f
            .headers
            .iter()
            .map(|(k, v)| (ByteString::from(k.as_str()), ByteString::from(v.as_str())))
            .collect(),
        body: Bytes::from(f.body.clone()),
    }
}

/// The owned Thrift message for `f`.
pub fn thrift_message(f: &ThriftFields) -> thrift::Message {
    thrift::Message {
        kind: thrift::MessageKind::from_raw(f.kind).expect("fixture kinds are valid"),
        name: ByteString::from(f.name.as_str()),
        seq_id: f.seq_id,
        body: Bytes::from(f.body.clone()),
    }
}

/// The owned Dubbo message for `f`.
pub fn dubbo_message(f: &DubboFields) -> dubbo::Message {
    dubbo::Message {
        flags: dubbo::MessageFlags {
            request: f.request,
            two_way: f.two_way,
            event: f.event,
            serialization: f.serialization,
        },
        status: dubbo::Status::from_raw(f.status),
        request_id: f.request_id,
        body: Bytes::from(f.body.clone()),
    }
}

/// The re-encode benchmark's AwesomeRPC mutation: two added headers.
pub fn awesome_mutation() -> Mutation {
    AWESOME_ADDED
        .iter()
        .fold(Mutation::new(), |m, (k, v)| m.with(*k, *v))
}

/// The re-encode benchmark's Thrift mutation: a new request id.
pub fn thrift_mutation() -> Mutation {
    Mutation::new().with_request_id(u64::from(THRIFT_NEW_SEQ))
}

/// The re-encode benchmark's Dubbo mutation: a new request id.
pub fn dubbo_mutation() -> Mutation {
    Mutation::new().with_request_id(DUBBO_NEW_ID)
}

/// Reads every field of an AwesomeRPC view, iterating the headers.
#[inline]
pub fn touch_awesome(v: &awesomerpc::MessageRef<'_>) -> u64 {
    let mut t = Touch::default();
    t.num(u64::from(v.version));
    t.num(u64::from(v.flags.kind.to_raw()));
    t.num(u64::from(v.flags.compressed) | u64::from(v.flags.streaming) << 1);
    t.num(u64::from(v.status.to_raw()));
    t.num(v.request_id);
    t.num(v.stream_id.map_or(0, u64::from));
    for (k, val) in v.headers.iter() {
        t.bytes(k.as_bytes());
        t.bytes(val.as_bytes());
    }
    t.bytes(v.body);
    t.0
}

/// Reads every field of a Thrift view.
#[inline]
pub fn touch_thrift(v: &thrift::MessageRef<'_>) -> u64 {
    let mut t = Touch::default();
    t.num(u64::from(v.kind.to_raw()));
    t.bytes(v.name.as_bytes());
    t.num(u64::from(v.seq_id));
    t.bytes(v.body);
    t.0
}

/// Reads every field of a Dubbo view.
#[inline]
pub fn touch_dubbo(v: &dubbo::MessageRef<'_>) -> u64 {
    let mut t = Touch::default();
    let f = v.flags;
    t.num(u64::from(f.request) | u64::from(f.two_way) << 1 | u64::from(f.event) << 2);
    t.num(u64::from(f.serialization));
    t.num(u64::from(v.status.to_raw()));
    t.num(v.request_id);
    t.bytes(v.body);
    t.0
}

#[cfg(test)]
mod tests {
    //! The generated codecs decode the same values from the same bytes as every baseline,
    //! and encode the same bytes.

    use mproto_codecs::awesomerpc::AwesomerpcCodec;
    use mproto_codecs::dubbo::DubboCodec;
    use mproto_codecs::thrift::ThriftCodec;
    use mproto_runtime::{Codec, Encoded, FrameLen};

    use super::*;
    use crate::fixtures::{self, as_frame, awesome_bytes, dubbo_bytes, thrift_bytes};
    use crate::model::MetaSummary;
    use crate::{hand, with_binrw, with_deku};

    fn awesome_fields_of(v: &awesomerpc::MessageRef<'_>) -> AwesomeFields {
        AwesomeFields {
            version: v.version,
            kind: v.flags.kind.to_raw(),
            compressed: v.flags.compressed,
            streaming: v.flags.streaming,
            status: v.status.to_raw(),
            request_id: v.request_id,
            stream_id: v.stream_id,
            headers: v
                .headers
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            body: v.body.to_vec(),
        }
    }

    fn encoded(out: Encoded) -> Vec<u8> {
        out.to_bytes().to_vec()
    }

    #[test]
    fn awesomerpc_matches_every_baseline() {
        for f in [
            fixtures::awesome_fields(),
            fixtures::awesome_streaming_fields(),
        ] {
            let bytes = awesome_bytes(&f);
            let frame = as_frame(&bytes);
            let view = awesomerpc::MessageRef::decode(&frame).unwrap();
            assert_eq!(awesome_fields_of(&view), f);
            assert_eq!(
                awesome_fields_of(&view),
                with_binrw::awesomerpc::tests::fields(
                    &with_binrw::awesomerpc::decode(&bytes).unwrap()
                )
            );
            assert_eq!(
                awesome_fields_of(&view),
                with_deku::awesomerpc::tests::fields(
                    &with_deku::awesomerpc::decode(&bytes).unwrap()
                )
            );
            assert_eq!(
                awesome_fields_of(&view),
                hand::awesomerpc::tests::fields(&hand::awesomerpc::decode(&bytes).unwrap())
            );
            let meta = AwesomerpcCodec.decode(&frame).unwrap();
            let hand_meta = hand::awesomerpc::decode_metadata(&bytes).unwrap();
            assert_eq!(MetaSummary::from(&meta), MetaSummary::from(&hand_meta));
            assert_eq!(
                AwesomerpcCodec.frame_len(&bytes).unwrap(),
                FrameLen::Complete(bytes.len())
            );
            assert_eq!(awesome_message(&f).to_bytes().unwrap().to_vec(), bytes);
        }
        let frame = as_frame(&awesome_bytes(&fixtures::awesome_fields()));
        let mut out = Encoded::new();
        AwesomerpcCodec
            .encode(&frame, &awesome_mutation(), &mut out)
            .unwrap();
        assert_eq!(
            encoded(out),
            awesome_bytes(&fixtures::awesome_mutated_fields())
        );
    }

    #[test]
    fn thrift_matches_every_baseline() {
        let f = fixtures::thrift_fields();
        let bytes = thrift_bytes(&f);
        let frame = as_frame(&bytes);
        let view = thrift::MessageRef::decode(&frame).unwrap();
        let fields = ThriftFields {
            kind: view.kind.to_raw(),
            name: view.name.to_owned(),
            seq_id: view.seq_id,
            body: view.body.to_vec(),
        };
        assert_eq!(fields, f);
        let hand_view = hand::thrift::decode(&bytes).unwrap();
        assert_eq!((hand_view.name, hand_view.seq_id), (view.name, view.seq_id));
        let meta = ThriftCodec.decode(&frame).unwrap();
        let summary = MetaSummary::from(&meta);
        assert_eq!(
            summary,
            MetaSummary::from(&hand::thrift::decode_metadata(&bytes).unwrap())
        );
        let b = with_binrw::thrift::decode(&bytes).unwrap();
        assert_eq!(
            summary,
            MetaSummary::from(&with_binrw::thrift::metadata(&b))
        );
        let d = with_deku::thrift::decode(&bytes).unwrap();
        assert_eq!(summary, MetaSummary::from(&with_deku::thrift::metadata(&d)));
        assert_eq!(
            ThriftCodec.frame_len(&bytes).unwrap(),
            FrameLen::Complete(bytes.len())
        );
        assert_eq!(thrift_message(&f).to_bytes().unwrap().to_vec(), bytes);
        let mut out = Encoded::new();
        ThriftCodec
            .encode(&frame, &thrift_mutation(), &mut out)
            .unwrap();
        let expected = ThriftFields {
            seq_id: THRIFT_NEW_SEQ,
            ..f
        };
        assert_eq!(encoded(out), thrift_bytes(&expected));
    }

    #[test]
    fn dubbo_matches_every_baseline() {
        let f = fixtures::dubbo_fields();
        let bytes = dubbo_bytes(&f);
        let frame = as_frame(&bytes);
        let view = dubbo::MessageRef::decode(&frame).unwrap();
        let fields = DubboFields {
            request: view.flags.request,
            two_way: view.flags.two_way,
            event: view.flags.event,
            serialization: view.flags.serialization,
            status: view.status.to_raw(),
            request_id: view.request_id,
            body: view.body.to_vec(),
        };
        assert_eq!(fields, f);
        assert_eq!(
            fields,
            hand::dubbo::tests::fields(&hand::dubbo::decode(&bytes).unwrap())
        );
        assert_eq!(
            fields,
            with_binrw::dubbo::tests::fields(&with_binrw::dubbo::decode(&bytes).unwrap())
        );
        assert_eq!(
            fields,
            with_deku::dubbo::tests::fields(&with_deku::dubbo::decode(&bytes).unwrap())
        );
        let meta = DubboCodec.decode(&frame).unwrap();
        assert_eq!(
            MetaSummary::from(&meta),
            MetaSummary::from(&hand::dubbo::decode_metadata(&bytes).unwrap())
        );
        assert_eq!(
            DubboCodec.frame_len(&bytes).unwrap(),
            FrameLen::Complete(bytes.len())
        );
        assert_eq!(dubbo_message(&f).to_bytes().unwrap().to_vec(), bytes);
        let mut out = Encoded::new();
        DubboCodec
            .encode(&frame, &dubbo_mutation(), &mut out)
            .unwrap();
        let expected = DubboFields {
            request_id: DUBBO_NEW_ID,
            ..f
        };
        assert_eq!(encoded(out), dubbo_bytes(&expected));
    }
}

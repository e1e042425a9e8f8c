//! Properties every shipped codec must have, over generated values:
//! `decode(encode(x)) == x`, the encoded length is what `frame_len` finds,
//! every strict prefix asks for more bytes, and random bytes never panic.

use bytes::Bytes;
use mproto::{ByteString, Codec, Encoded, FrameLen, Mutation};
use mproto_codecs::{awesomerpc, dubbo, thrift};
use proptest::prelude::*;

fn text(max: usize) -> impl Strategy<Value = ByteString> {
    proptest::string::string_regex(&format!("[a-z0-9é-]{{0,{max}}}"))
        .expect("valid regex")
        .prop_map(ByteString::from)
}

fn blob(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn awesomerpc_message() -> impl Strategy<Value = awesomerpc::Message> {
    let kind = prop_oneof![
        Just(awesomerpc::Kind::Request),
        Just(awesomerpc::Kind::Response),
        Just(awesomerpc::Kind::Oneway),
        Just(awesomerpc::Kind::Heartbeat),
        Just(awesomerpc::Kind::Error),
        (5u8..8).prop_map(awesomerpc::Kind::from_raw),
    ];
    (
        kind,
        any::<bool>(),
        proptest::option::of(any::<u32>()),
        any::<u8>(),
        any::<u64>(),
        proptest::collection::vec((text(12), text(40)), 0..6),
        blob(600),
    )
        .prop_map(
            |(kind, compressed, stream_id, status, request_id, headers, body)| {
                awesomerpc::Message {
                    flags: awesomerpc::MessageFlags {
                        kind,
                        compressed,
                        streaming: stream_id.is_some(),
                    },
                    status: awesomerpc::Status::from_raw(status),
                    request_id,
                    stream_id,
                    headers,
                    body,
                    ..Default::default()
                }
            },
        )
}

fn thrift_message() -> impl Strategy<Value = thrift::Message> {
    let kind = prop_oneof![
        Just(thrift::MessageKind::Call),
        Just(thrift::MessageKind::Reply),
        Just(thrift::MessageKind::Exception),
        Just(thrift::MessageKind::Oneway),
    ];
    (kind, text(30), any::<u32>(), blob(600)).prop_map(|(kind, name, seq_id, body)| {
        thrift::Message {
            kind,
            name,
            seq_id,
            body,
        }
    })
}

fn dubbo_message() -> impl Strategy<Value = dubbo::Message> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u8..32,
        any::<u8>(),
        any::<u64>(),
        blob(600),
    )
        .prop_map(
            |(request, two_way, event, serialization, status, request_id, body)| dubbo::Message {
                flags: dubbo::MessageFlags {
                    request,
                    two_way,
                    event,
                    serialization,
                },
                status: dubbo::Status::from_raw(status),
                request_id,
                body,
            },
        )
}

/// Checks framing on a valid encoding: complete at its length, need-more on every prefix.
fn check_framing(codec: &dyn Codec, frame: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(codec.frame_len(frame), Ok(FrameLen::Complete(frame.len())));
    let mut longer = frame.to_vec();
    longer.extend_from_slice(&[0xAB; 7]);
    prop_assert_eq!(
        codec.frame_len(&longer),
        Ok(FrameLen::Complete(frame.len()))
    );
    for cut in 0..frame.len() {
        match codec.frame_len(&frame[..cut]) {
            Ok(FrameLen::NeedMore(n)) => {
                prop_assert!(n > cut && n <= frame.len(), "prefix {cut}: need {n}")
            }
            other => prop_assert!(false, "prefix of {cut} bytes answered {other:?}"),
        }
    }
    Ok(())
}

/// Decoding and re-encoding through the `Codec` contract gives the same bytes.
fn check_codec_identity(codec: &dyn Codec, frame: &Bytes) -> Result<(), TestCaseError> {
    let metadata = codec.decode(frame);
    prop_assert!(metadata.is_ok(), "metadata: {metadata:?}");
    let mut out = Encoded::new();
    codec
        .encode(frame, &Mutation::new(), &mut out)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(out.to_bytes(), frame.clone());
    prop_assert_eq!(
        codec.peek_request_id(frame),
        metadata.ok().and_then(|m| m.request_id)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn awesomerpc_round_trips(msg in awesomerpc_message()) {
        let frame = msg.to_bytes().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(msg.encoded_len().ok(), Some(frame.len()));
        prop_assert_eq!(awesomerpc::Message::decode(&frame), Ok(msg));
        check_framing(&awesomerpc::AwesomerpcCodec, &frame)?;
        check_codec_identity(&awesomerpc::AwesomerpcCodec, &frame)?;
    }

    #[test]
    fn thrift_round_trips(msg in thrift_message()) {
        let frame = msg.to_bytes().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(msg.encoded_len().ok(), Some(frame.len()));
        prop_assert_eq!(thrift::Message::decode(&frame), Ok(msg));
        check_framing(&thrift::ThriftCodec, &frame)?;
        check_codec_identity(&thrift::ThriftCodec, &frame)?;
    }

    #[test]
    fn dubbo_round_trips(msg in dubbo_message()) {
        let frame = msg.to_bytes().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(msg.encoded_len().ok(), Some(frame.len()));
        prop_assert_eq!(dubbo::Message::decode(&frame), Ok(msg));
        check_framing(&dubbo::DubboCodec, &frame)?;
        check_codec_identity(&dubbo::DubboCodec, &frame)?;
    }

    #[test]
    fn mutation_sets_headers_and_request_id(
        msg in awesomerpc_message(),
        key in text(10),
        value in text(20),
        id in any::<u64>(),
    ) {
        let frame = msg.to_bytes().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mutation = Mutation::new().with(key.clone(), value.clone()).with_request_id(id);
        let mut out = Encoded::new();
        awesomerpc::AwesomerpcCodec.encode(&frame, &mutation, &mut out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mutated = awesomerpc::Message::decode(&out.to_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut expected = msg;
        expected.request_id = id;
        mutation.apply_to(&mut expected.headers);
        prop_assert_eq!(mutated, expected);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let frame = Bytes::from(bytes);
        for codec in [&awesomerpc::AwesomerpcCodec as &dyn Codec, &thrift::ThriftCodec, &dubbo::DubboCodec] {
            let _ = codec.frame_len(&frame);
            let _ = codec.decode(&frame);
            let _ = codec.peek_request_id(&frame);
            let _ = codec.encode(&frame, &Mutation::new().with("k", "v").with_request_id(1), &mut Encoded::new());
        }
        let _ = awesomerpc::MessageRef::decode(&frame);
        let _ = thrift::MessageRef::decode(&frame);
        let _ = dubbo::MessageRef::decode(&frame);
    }

    #[test]
    fn frame_len_does_not_depend_on_what_follows(
        head in prop_oneof![
            Just(Vec::new()),
            (0u32..8).prop_map(|n| n.to_be_bytes().to_vec()),
            Just(vec![0xA1, 0xB2]),
            Just(vec![0xDA, 0xBB]),
        ],
        tail in proptest::collection::vec(any::<u8>(), 0..48),
    ) {
        let buf = [head, tail].concat();
        for codec in [&awesomerpc::AwesomerpcCodec as &dyn Codec, &thrift::ThriftCodec, &dubbo::DubboCodec] {
            // Once a prefix frames or is refused, more bytes must not change the answer:
            // they belong to the next frame.
            let mut settled = None;
            for k in 0..=buf.len() {
                let answer = codec.frame_len(&buf[..k]);
                if let Ok(FrameLen::NeedMore(n)) = answer {
                    prop_assert!(n > k, "NeedMore({n}) with {k} bytes");
                }
                match &settled {
                    Some(first) => prop_assert_eq!(&answer, first, "{} bytes of {:02x?}", k, buf),
                    None if !matches!(answer, Ok(FrameLen::NeedMore(_))) => settled = Some(answer),
                    None => {}
                }
            }
        }
    }

    #[test]
    fn corrupted_frames_never_panic(msg in awesomerpc_message(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let frame = msg.to_bytes().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut bytes = frame.to_vec();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        let frame = Bytes::from(bytes);
        let codec = awesomerpc::AwesomerpcCodec;
        let framed = codec.frame_len(&frame);
        // A corrupted frame that still decodes must still frame as exactly itself, and
        // its request id must be the one the proxy would read without decoding.
        if let Ok(m) = codec.decode(&frame) {
            prop_assert_eq!(framed, Ok(FrameLen::Complete(frame.len())));
            prop_assert_eq!(codec.peek_request_id(&frame), m.request_id);
        }
    }
}

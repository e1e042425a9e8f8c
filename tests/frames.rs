//! Real frames, written out byte by byte from each protocol's specification,
//! decoded by the generated codecs; and the replies the codecs build, checked
//! against the bytes the real implementations send.

use bytes::Bytes;
use mproto::{
    Codec, DecodeErrorKind, Encoded, ErrorKind, FrameLen, MessageType, Metadata, ReplyError,
    ResponseStatus, Value,
};
use mproto_codecs::{awesomerpc, dubbo, thrift};

/// A Thrift framed, strict-binary `ping()` call with seqid 1 and empty arguments.
const THRIFT_PING: &[u8] = &[
    0x00, 0x00, 0x00, 0x11, // frame size: 17
    0x80, 0x01, 0x00, 0x01, // version 1, type CALL
    0x00, 0x00, 0x00, 0x04, b'p', b'i', b'n', b'g', // method name
    0x00, 0x00, 0x00, 0x01, // seqid
    0x00, // arguments struct: STOP
];

/// A Dubbo heartbeat request (request, two-way, event, Hessian2) with id 7 and a null body.
const DUBBO_HEARTBEAT: &[u8] = &[
    0xda, 0xbb, 0xe2, 0x00, // magic, flags, status
    0, 0, 0, 0, 0, 0, 0, 7, // request id
    0, 0, 0, 1, b'N', // body length, Hessian2 null
];

fn text(m: &Metadata, key: &str) -> Option<String> {
    m.get(key).map(|v| v.to_string())
}

#[test]
fn thrift_call_decodes_to_metadata() {
    let frame = Bytes::from_static(THRIFT_PING);
    let codec = thrift::ThriftCodec;
    assert_eq!(codec.frame_len(&frame[..3]), Ok(FrameLen::NeedMore(4)));
    assert_eq!(codec.frame_len(&frame[..4]), Ok(FrameLen::NeedMore(21)));
    assert_eq!(codec.frame_len(&frame), Ok(FrameLen::Complete(21)));
    let m = codec.decode(&frame).unwrap();
    assert_eq!(m.message_type, MessageType::Request);
    assert_eq!(m.request_id, Some(1));
    assert_eq!(m.response_status, Some(ResponseStatus::Ok));
    assert_eq!(text(&m, "method").as_deref(), Some("ping"));
    let view = thrift::MessageRef::decode(&frame).unwrap();
    assert_eq!(view.name, "ping");
    assert_eq!(view.body, &[0u8][..]);
}

#[test]
fn thrift_garbage_is_refused_from_its_first_bytes() {
    // A plausible size, then not the strict binary protocol's version.
    let garbage = [0x00, 0x00, 0x10, 0x00, 0x47, 0x45];
    let e = thrift::ThriftCodec.frame_len(&garbage).unwrap_err();
    assert_eq!(
        (e.offset(), e.path().to_string()),
        (4, "version".to_string())
    );
    // Too short to tell yet: ask for the whole frame.
    assert_eq!(
        thrift::ThriftCodec.frame_len(&garbage[..5]),
        Ok(FrameLen::NeedMore(4100))
    );
}

#[test]
fn thrift_frames_too_short_for_their_fields_frame_the_same_whatever_follows() {
    // Sizes 0 and 1 end the frame before the version: the version's check must not read
    // the next frame's bytes, so the answer is the same however much of it has arrived.
    let codec = thrift::ThriftCodec;
    for (frame, len) in [(&[0u8, 0, 0, 0][..], 4), (&[0, 0, 0, 1, 0x80][..], 5)] {
        for next in [&[][..], &[0, 0], &[0x80, 0x01], &[0x47, 0x45, 0x54]] {
            let buf = [frame, next].concat();
            assert_eq!(
                codec.frame_len(&buf),
                Ok(FrameLen::Complete(len)),
                "{buf:02x?}"
            );
        }
        assert!(codec.decode(&Bytes::copy_from_slice(frame)).is_err());
    }
}

#[test]
fn thrift_error_reply_is_an_application_exception() {
    let codec = thrift::ThriftCodec;
    let request = codec.decode(&Bytes::from_static(THRIFT_PING)).unwrap();
    let mut out = Encoded::new();
    codec
        .error_reply(
            &request,
            &ReplyError::new(ErrorKind::RouteNotFound, "no route"),
            &mut out,
        )
        .unwrap();
    let expected: &[u8] = &[
        0x00, 0x00, 0x00, 0x27, // frame size: 39
        0x80, 0x01, 0x00, 0x03, // version 1, type EXCEPTION
        0x00, 0x00, 0x00, 0x04, b'p', b'i', b'n', b'g', // the request's method
        0x00, 0x00, 0x00, 0x01, // the request's seqid
        0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, b'n', b'o', b' ', b'r', b'o', b'u', b't',
        b'e', // 1: message
        0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, // 2: type UNKNOWN_METHOD
        0x00, // STOP
    ];
    assert_eq!(out.to_bytes(), Bytes::from_static(expected));
    let reply = codec.decode(&out.to_bytes()).unwrap();
    assert_eq!(reply.response_status, Some(ResponseStatus::Error));
    assert_eq!(reply.request_id, Some(1));
}

#[test]
fn dubbo_heartbeat_is_answered_like_dubbo() {
    let codec = dubbo::DubboCodec;
    let frame = Bytes::from_static(DUBBO_HEARTBEAT);
    assert_eq!(codec.frame_len(&frame[..15]), Ok(FrameLen::NeedMore(16)));
    assert_eq!(codec.frame_len(&frame[..16]), Ok(FrameLen::NeedMore(17)));
    let m = codec.decode(&frame).unwrap();
    assert_eq!(m.message_type, MessageType::Heartbeat);
    assert_eq!(m.request_id, Some(7));
    assert_eq!(m.get("serialization"), Some(&Value::Int(2)));
    let mut out = Encoded::new();
    codec.heartbeat_reply(&m, &mut out).unwrap();
    let expected: &[u8] = &[
        0xda, 0xbb, 0x22, 20, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, b'N',
    ];
    assert_eq!(out.to_bytes(), Bytes::from_static(expected));
}

#[test]
fn dubbo_error_reply_carries_a_hessian_string() {
    let codec = dubbo::DubboCodec;
    let request = Metadata::for_request_id(Some(300));
    let mut out = Encoded::new();
    codec
        .error_reply(
            &request,
            &ReplyError::new(ErrorKind::Timeout, "timed out"),
            &mut out,
        )
        .unwrap();
    let expected: &[u8] = &[
        0xda, 0xbb, 0x02, 31, // response, Hessian2, SERVER_TIMEOUT
        0, 0, 0, 0, 0, 0, 0x01, 0x2c, // request id 300
        0, 0, 0, 10, 0x09, b't', b'i', b'm', b'e', b'd', b' ', b'o', b'u', b't',
    ];
    assert_eq!(out.to_bytes(), Bytes::from_static(expected));
    let body = dubbo::Message::decode(&out.to_bytes()).unwrap().body;
    let decoded = dubbo::ErrorBodyRef::decode(&body).unwrap();
    assert_eq!(decoded.message, "timed out");
    let reply = codec.decode(&out.to_bytes()).unwrap();
    assert_eq!(reply.message_type, MessageType::Response);
    assert_eq!(reply.response_status, Some(ResponseStatus::Error));
}

#[test]
fn request_ids_are_only_read_from_frames_of_the_protocol() {
    let http = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(awesomerpc::AwesomerpcCodec.peek_request_id(http), None);
    assert_eq!(dubbo::DubboCodec.peek_request_id(http), None);
    assert_eq!(dubbo::DubboCodec.peek_request_id(DUBBO_HEARTBEAT), Some(7));
}

#[test]
fn awesomerpc_errors_name_offset_field_and_values() {
    let msg = awesomerpc::Message {
        headers: vec![("service".into(), "a".into())],
        ..Default::default()
    };
    let mut bytes = msg.to_bytes().unwrap().to_vec();
    bytes[0] = 0xff;
    let err = awesomerpc::MessageRef::decode(&bytes).unwrap_err();
    assert_eq!(err.offset(), 0);
    assert_eq!(err.path().to_string(), "magic");
    assert!(matches!(
        err.kind(),
        DecodeErrorKind::Magic {
            expected: 0xa1b2,
            found: 0xffb2
        }
    ));
    assert!(
        awesomerpc::AwesomerpcCodec.frame_len(&bytes).is_err(),
        "framing rejects a bad magic early"
    );

    let mut bytes = msg.to_bytes().unwrap().to_vec();
    bytes[2] = 2;
    let err = awesomerpc::MessageRef::decode(&bytes).unwrap_err();
    assert_eq!(
        (err.offset(), err.path().to_string()),
        (2, "version".to_string())
    );
    assert!(err.to_string().contains("version == 1"), "{err}");

    // The first header's key is one byte long but claims three: the error points
    // inside the header list.
    let mut bytes = msg.to_bytes().unwrap().to_vec();
    let headers_at = 2 + 1 + 1 + 1 + 8 + 2 + 4;
    bytes[headers_at] = 200;
    let err = awesomerpc::MessageRef::decode(&bytes).unwrap_err();
    assert_eq!(err.path().to_string(), "headers[0]");
    assert_eq!(err.offset(), headers_at + 1);
}

#[test]
fn awesomerpc_encode_rejects_values_that_disagree() {
    let msg = awesomerpc::Message {
        version: 2,
        ..Default::default()
    };
    let err = msg.to_bytes().unwrap_err();
    assert_eq!(err.path().to_string(), "version");
    let msg = awesomerpc::Message {
        stream_id: Some(3),
        ..Default::default()
    };
    let err = msg.to_bytes().unwrap_err();
    assert_eq!(err.path().to_string(), "stream_id");
    let msg = awesomerpc::Message {
        flags: awesomerpc::MessageFlags {
            kind: awesomerpc::Kind::from_raw(9),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(msg.to_bytes().unwrap_err().path().to_string(), "flags.kind");
    // `Kind` keeps unknown values; its default is the variant valued 0.
    assert_eq!(awesomerpc::Kind::default(), awesomerpc::Kind::Request);
    let long = "x".repeat(300);
    let msg = awesomerpc::Message {
        headers: vec![(long.as_str().into(), "v".into())],
        ..Default::default()
    };
    assert_eq!(msg.to_bytes().unwrap_err().path().to_string(), "headers[0]");
}

#[test]
fn awesomerpc_error_and_heartbeat_replies() {
    let codec = awesomerpc::AwesomerpcCodec;
    let request = awesomerpc::Message {
        request_id: 99,
        ..Default::default()
    }
    .to_bytes()
    .unwrap();
    let m = codec.decode(&request).unwrap();
    let mut out = Encoded::new();
    codec
        .error_reply(
            &m,
            &ReplyError::new(ErrorKind::OverLimit, "slow down"),
            &mut out,
        )
        .unwrap();
    let reply = awesomerpc::Message::decode(&out.to_bytes()).unwrap();
    assert_eq!(reply.flags.kind, awesomerpc::Kind::Response);
    assert_eq!(reply.status, awesomerpc::Status::OverLimit);
    assert_eq!(reply.request_id, 99);
    assert_eq!(
        reply.headers,
        vec![
            ("error".into(), "slow down".into()),
            ("error-kind".into(), "OverLimit".into())
        ]
    );
    let mut out = Encoded::new();
    codec.heartbeat_reply(&m, &mut out).unwrap();
    let hb = codec.decode(&out.to_bytes()).unwrap();
    assert_eq!(
        (hb.message_type, hb.request_id),
        (MessageType::Heartbeat, Some(99))
    );
}

#[test]
fn tokio_codec_frames_a_stream() {
    use tokio_util::codec::{Decoder, Encoder};
    let mut codec = awesomerpc::AwesomerpcCodec;
    let a = awesomerpc::Message {
        request_id: 1,
        ..Default::default()
    };
    let b = awesomerpc::Message {
        request_id: 2,
        body: Bytes::from_static(b"hi"),
        ..Default::default()
    };
    let mut buf = bytes::BytesMut::new();
    Encoder::encode(&mut codec, &a, &mut buf).unwrap();
    Encoder::encode(&mut codec, b.clone(), &mut buf).unwrap();
    let mut stream = buf.split_off(5);
    assert_eq!(Decoder::decode(&mut codec, &mut buf).unwrap(), None);
    buf.unsplit(stream.split());
    assert_eq!(Decoder::decode(&mut codec, &mut buf).unwrap(), Some(a));
    assert_eq!(Decoder::decode(&mut codec, &mut buf).unwrap(), Some(b));
    assert_eq!(Decoder::decode(&mut codec, &mut buf).unwrap(), None);
}

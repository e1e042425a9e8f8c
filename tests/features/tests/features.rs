//! Every layout feature, both directions: proptest round trips over the
//! `features.mproto` frame, framing on every prefix, and the errors each
//! feature reports on bad input.

use bytes::Bytes;
use mproto_feature_tests::features::*;
use mproto_feature_tests::frames_whole_and_waits_on_prefixes;
use mproto_runtime::{
    ByteString, Codec, DecodeErrorKind, EncodeErrorKind, Encoded, ErrorKind, MessageType, Metadata,
    Mutation, ReplyError, Value,
};
use proptest::prelude::*;

fn text(max: usize) -> impl Strategy<Value = ByteString> {
    proptest::string::string_regex(&format!("[a-zA-Z0-9 ü]{{0,{max}}}"))
        .unwrap()
        .prop_map(ByteString::from)
}

fn body() -> impl Strategy<Value = (Kind, MessageBody)> {
    let call = (
        proptest::string::string_regex("[a-z]{0,12}").unwrap(),
        proptest::collection::vec(any::<u16>(), 0..20),
    )
        .prop_map(|(m, a)| {
            (
                Kind::Call,
                MessageBody::Call(Call {
                    method: m.into(),
                    args: a,
                }),
            )
        });
    let note = (
        any::<f32>().prop_filter("NaN never equals itself", |f| !f.is_nan()),
        any::<f64>().prop_filter("NaN", |f| !f.is_nan()),
        any::<bool>(),
    )
        .prop_map(|(score, ratio, ok)| (Kind::Note, MessageBody::Note(Note { score, ratio, ok })));
    let raw = (
        prop_oneof![Just(Kind::Reply), (5u8..=255).prop_map(Kind::from_raw)],
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(k, b)| (k, MessageBody::Raw(Bytes::from(b))));
    prop_oneof![call, note, raw, Just((Kind::Ping, MessageBody::Ping))]
}

fn message() -> impl Strategy<Value = Message> {
    (
        body(),
        (any::<bool>(), 0u8..8, proptest::option::of(any::<u64>())),
        proptest::option::of(prop_oneof![
            Just(Color::Red),
            Just(Color::Green),
            Just(Color::Blue)
        ]),
        any::<u64>(),
        proptest::collection::vec((any::<i16>(), any::<i64>()), 0..5),
        proptest::collection::vec(text(10), 0..4),
        proptest::collection::vec((text(8), text(8)), 0..4),
        proptest::collection::vec(any::<u32>(), 0..6),
        proptest::collection::vec(any::<u8>(), 0..30),
    )
        .prop_map(
            |(
                (kind, body),
                (urgent, level, trace),
                color,
                id,
                points,
                tags,
                labels,
                sizes,
                blob,
            )| Message {
                version: 2,
                kind,
                flags: MessageFlags {
                    traced: trace.is_some(),
                    color_set: color.is_some(),
                },
                priority: Priority { urgent, level },
                trace,
                color,
                id,
                points: points.into_iter().map(|(x, y)| Point { x, y }).collect(),
                tags,
                labels,
                sizes,
                blob: Bytes::from(blob),
                body,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_feature_round_trips(msg in message()) {
        let frame = msg.to_bytes().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(Message::decode(&frame), Ok(msg.clone()));
        frames_whole_and_waits_on_prefixes(frame_len, &frame).map_err(TestCaseError::fail)?;
        // `align 4` pads the fields before the checksum to a multiple of four.
        let view = MessageRef::decode(&frame).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(view.id, msg.id);
        let mut out = Encoded::new();
        FeaturesCodec.encode(&frame, &Mutation::new().with("x", "1").with_request_id(7), &mut out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mutated = Message::decode(&out.to_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(mutated.id, 7);
        prop_assert!(mutated.labels.iter().any(|(k, v)| k == "x" && v == "1"));
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        let frame = Bytes::from(bytes);
        let _ = frame_len(&frame);
        let _ = MessageRef::decode(&frame);
        let _ = FeaturesCodec.decode(&frame);
        let _ = FeaturesCodec.peek_request_id(&frame);
    }
}

fn sample() -> Message {
    Message {
        version: 2,
        kind: Kind::Call,
        id: 300,
        tags: vec!["a".into()],
        blob: Bytes::from_static(b"xyz"),
        body: MessageBody::Call(Call {
            method: "m".into(),
            args: vec![1, 2],
        }),
        ..Default::default()
    }
}

fn field_at(frame: &[u8], path: &str) -> (usize, String) {
    match MessageRef::decode(frame) {
        Err(e) => (e.offset(), e.path().to_string()),
        Ok(_) => panic!("decoded: {path}"),
    }
}

#[test]
fn derived_fields_are_computed_and_checked() {
    let frame = sample().to_bytes().unwrap();
    let view = MessageRef::decode(&frame).unwrap();
    assert_eq!(view.size as usize, frame.len() - 4);
    assert_eq!(view.blob_len, 4, "blob_len is the blob's length plus one");
    assert_eq!(view.n_points, 0);
    assert_eq!(
        view.xor, b'a',
        "xor8 over the tag list: its count byte 0, then 1, then `a`... folded"
    );
    let mut bytes = frame.to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    let (_, path) = field_at(&bytes, "body_crc");
    assert_eq!(path, "body_crc");
}

#[test]
fn constants_constraints_and_closed_enums_are_checked() {
    let frame = sample().to_bytes().unwrap();
    let mut bytes = frame.to_vec();
    bytes[4] = 0;
    assert_eq!(field_at(&bytes, "magic"), (4, "magic".to_string()));
    let mut bytes = frame.to_vec();
    bytes[6] = 3;
    assert_eq!(field_at(&bytes, "version"), (6, "version".to_string()));
    // `flags` holds a constant (`_: u6 = 0`), so a raw value can be refused; `Priority`
    // has none, so every raw value unpacks, reserved bits ignored.
    let flags_at = 4 + 2 + 1 + 1;
    let mut bytes = frame.to_vec();
    bytes[flags_at] |= 1;
    assert_eq!(field_at(&bytes, "flags"), (flags_at, "flags".to_string()));
    let mut bytes = frame.to_vec();
    bytes[flags_at + 1] = 0xff;
    bytes[flags_at + 2] = 0xff;
    let p = MessageRef::decode(&bytes).unwrap().priority;
    assert_eq!((p.urgent, p.level), (true, 7));
    assert_eq!(
        Priority::from_raw(0xffff),
        Priority {
            urgent: true,
            level: 7
        }
    );
    assert!(MessageFlags::from_raw(0xff).is_err());
    let with_color = Message {
        flags: MessageFlags {
            color_set: true,
            ..Default::default()
        },
        color: Some(Color::Blue),
        ..sample()
    };
    let mut bytes = with_color.to_bytes().unwrap().to_vec();
    let at = 4 + 2 + 1 + 1 + 1 + 2;
    assert_eq!(&bytes[at..at + 2], &[2, 0], "Color is little-endian");
    bytes[at] = 9;
    let e = MessageRef::decode(&bytes).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            DecodeErrorKind::Enum {
                name: "Color",
                found: 9
            }
        ),
        "{e}"
    );
}

#[test]
fn open_enums_keep_every_value_and_name_the_known_ones() {
    // The wire value itself, not a tag beside it: decoding stores the byte as read.
    assert_eq!(std::mem::size_of::<Kind>(), 1);
    for raw in 0..=u8::MAX {
        assert_eq!(Kind::from_raw(raw).to_raw(), raw);
    }
    let label = |k: Kind| match k {
        Kind::Call => "call",
        Kind::Reply | Kind::Note => "answer",
        other if other.is_known() => "known",
        _ => "unknown",
    };
    let labels = [1, 2, 3, 4, 9].map(|raw| label(Kind::from_raw(raw)));
    assert_eq!(labels, ["call", "answer", "answer", "known", "unknown"]);
    assert_eq!(Kind::from_raw(2), Kind::Reply);
    assert_eq!(
        (Kind::Reply.name(), Kind::from_raw(9).name()),
        ("Reply", "Unknown")
    );
    assert_eq!(format!("{:?}", Kind::Ping), "Ping");
    assert_eq!(format!("{:?}", Kind::from_raw(9)), "Unknown(9)");
    // No variant is 0, so the default is the first variant, as for a Rust enum.
    assert_eq!(Kind::default(), Kind::Call);
    // Unknown values round-trip through a frame.
    let msg = Message {
        kind: Kind::from_raw(200),
        body: MessageBody::Raw(Bytes::from_static(b"x")),
        ..sample()
    };
    let frame = msg.to_bytes().unwrap();
    assert_eq!(
        MessageRef::decode(&frame).unwrap().kind,
        Kind::from_raw(200)
    );
}

#[test]
fn encode_refuses_inconsistent_values() {
    let wrong_arm = Message {
        kind: Kind::Note,
        ..sample()
    };
    assert!(matches!(
        wrong_arm.to_bytes().unwrap_err().kind(),
        EncodeErrorKind::UnionArm { .. }
    ));
    let missing = Message {
        flags: MessageFlags {
            traced: true,
            ..Default::default()
        },
        ..sample()
    };
    assert!(matches!(
        missing.to_bytes().unwrap_err().kind(),
        EncodeErrorKind::Condition { holds: true, .. }
    ));
    let nul = Message {
        body: MessageBody::Call(Call {
            method: "a\0b".into(),
            args: vec![],
        }),
        ..sample()
    };
    assert!(matches!(
        nul.to_bytes().unwrap_err().kind(),
        EncodeErrorKind::InteriorNul
    ));
    let too_many: Vec<u32> = vec![0; 64];
    let big = Message {
        sizes: too_many,
        ..sample()
    };
    let e = big.to_bytes().unwrap_err();
    assert!(
        matches!(
            e.kind(),
            EncodeErrorKind::OutOfRange {
                value: 256,
                max: 255
            }
        ),
        "{e}"
    );
    assert_eq!(e.path().to_string(), "sizes");
}

/// Fields of a fixed-size run are written together (`encode.rs`, `write_run`): a value
/// refused in the middle of a run still names its field, and no byte of the run is written.
#[test]
fn a_refused_value_inside_a_written_run_names_its_field() {
    let level = Message {
        priority: Priority {
            urgent: true,
            level: 9,
        },
        ..sample()
    };
    let e = level.to_bytes().unwrap_err();
    assert!(
        matches!(e.kind(), EncodeErrorKind::OutOfRange { value: 9, max: 7 }),
        "{e}"
    );
    assert_eq!(e.path().to_string(), "priority.level");
    let mut out = Encoded::new();
    assert!(level.encode(&mut out).is_err());
    assert!(out.is_empty(), "nothing of the refused run is written");

    let version = Message {
        version: 3,
        ..sample()
    };
    let e = version.to_bytes().unwrap_err();
    assert!(
        matches!(e.kind(), EncodeErrorKind::Constraint { .. }),
        "{e}"
    );
    assert_eq!(e.path().to_string(), "version");
}

#[test]
fn metadata_replies_and_properties() {
    let msg = Message {
        flags: MessageFlags {
            traced: true,
            color_set: true,
        },
        trace: Some(5),
        color: Some(Color::Green),
        priority: Priority {
            urgent: true,
            level: 3,
        },
        labels: vec![("tenant".into(), "a".into())],
        ..sample()
    };
    let frame = msg.to_bytes().unwrap();
    let m = FeaturesCodec.decode(&frame).unwrap();
    assert_eq!(m.message_type, MessageType::Request);
    assert_eq!((m.request_id, m.stream_id), (Some(300), Some(5)));
    assert_eq!(m.get("kind").map(Value::to_text).as_deref(), Some("Call"));
    assert_eq!(m.get("color").map(Value::to_text).as_deref(), Some("Green"));
    assert_eq!(m.get("urgent").map(Value::to_text).as_deref(), Some("true"));
    assert_eq!(m.get("tenant").map(Value::to_text).as_deref(), Some("a"));

    let mut out = Encoded::new();
    FeaturesCodec
        .error_reply(
            &m,
            &ReplyError::new(ErrorKind::NoHealthyUpstream, "down"),
            &mut out,
        )
        .unwrap();
    let reply = Message::decode(&out.to_bytes()).unwrap();
    assert_eq!(reply.kind, Kind::Reply);
    assert_eq!(reply.body, MessageBody::Raw(Bytes::from_static(b"error")));
    assert_eq!(
        reply.labels,
        vec![
            ("error".into(), "down".into()),
            ("kind".into(), "NoHealthyUpstream".into()),
            ("id".into(), "300".into())
        ]
    );
    let mut out = Encoded::new();
    FeaturesCodec
        .heartbeat_reply(&Metadata::for_request_id(Some(9)), &mut out)
        .unwrap();
    let hb = FeaturesCodec.decode(&out.to_bytes()).unwrap();
    assert_eq!(
        (hb.message_type, hb.request_id),
        (MessageType::Heartbeat, Some(9))
    );
}

#[test]
fn the_tutorial_schema_works_as_the_readme_says() {
    use mproto_feature_tests::ping::{Kind, Message, MessageRef, PingCodec};
    let msg = Message {
        kind: Kind::Request,
        id: 7,
        method: "hello".into(),
        ..Default::default()
    };
    let frame = msg.to_bytes().unwrap();
    let view = MessageRef::decode(&frame).unwrap();
    assert_eq!(view.method, "hello");
    let metadata = PingCodec.decode(&frame).unwrap();
    assert_eq!(metadata.request_id, Some(7));
    assert_eq!(
        metadata.get("method").map(Value::to_text).as_deref(),
        Some("hello")
    );
}

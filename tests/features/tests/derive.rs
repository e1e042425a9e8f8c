//! The every-feature frame of `features.mproto`, described again with
//! `#[derive(Codec)]`: both front ends must produce the same bytes, decode each
//! other's frames and give the same metadata.

use bytes::Bytes;
use mproto_feature_tests::features as dsl;
use mproto_runtime::{ByteString, Codec as _, FrameLen};
use proptest::prelude::*;

mod derived {
    use mproto::Codec;

    /// Message kinds; unknown values are kept.
    #[derive(Codec, Debug, Clone, Copy, PartialEq, Eq)]
    #[repr(u8)]
    pub enum Kind {
        Call = 1,
        Reply = 2,
        Note = 3,
        Ping = 4,
        #[mproto(unknown)]
        Unknown(u8),
    }

    /// A closed enum, little-endian.
    #[derive(Codec, Debug, Clone, Copy, PartialEq, Eq)]
    #[mproto(repr = u16, endian = "little")]
    pub enum Color {
        Red,
        Green,
        Blue,
    }

    /// A point, little-endian regardless of the frame.
    #[derive(Codec, Debug, Clone, PartialEq)]
    pub struct Point {
        #[mproto(endian = "little")]
        pub x: i16,
        #[mproto(zigzag)]
        pub y: i64,
    }

    /// A named bit group.
    #[derive(Codec, Debug, Clone, Copy, PartialEq, Eq)]
    #[mproto(bits = u16)]
    pub struct Priority {
        pub urgent: bool,
        #[mproto(bits = 3)]
        pub level: u8,
        #[mproto(bits = 12)]
        pub spare: u16,
    }

    /// Switches.
    #[derive(Codec, Debug, Clone, Copy, PartialEq, Eq)]
    #[mproto(bits = u8)]
    pub struct Flags {
        pub traced: bool,
        pub color_set: bool,
        #[mproto(bits = 6, value = 0)]
        pub reserved: u8,
    }

    /// A call.
    #[derive(Codec, Debug, Clone, PartialEq)]
    pub struct Call {
        #[mproto(nul)]
        pub method: String,
        #[mproto(to_end)]
        pub args: Vec<u16>,
    }

    /// A tagged note.
    #[derive(Codec, Debug, Clone, PartialEq)]
    pub struct Note {
        #[mproto(value = b"NOTE")]
        pub tag: [u8; 4],
        pub score: f32,
        #[mproto(endian = "little")]
        pub ratio: f64,
        pub ok: bool,
    }

    /// The body, chosen by `kind`.
    #[derive(Codec, Debug, Clone, PartialEq)]
    pub enum Body {
        #[mproto(tag = Kind::Call)]
        Call(Call),
        #[mproto(tag = Kind::Note)]
        Note(Note),
        #[mproto(tag = Kind::Ping)]
        Ping,
        #[mproto(tag = _)]
        Raw(#[mproto(to_end)] Vec<u8>),
    }

    /// The frame.
    #[derive(Codec, Debug, Clone, PartialEq)]
    #[mproto(
        protocol = "features",
        codec = "mproto.test.features",
        max_frame = 65536,
        message_type = match kind {
            Kind::Call => MessageType::Request,
            Kind::Reply => MessageType::Response,
            Kind::Ping => MessageType::Heartbeat,
            _ => MessageType::Oneway,
        },
        property("kind") = kind,
        property("color") = color,
        property("urgent") = priority.urgent,
        error_reply(req, err) = {
            kind = Kind::Reply,
            id = req.request_id,
            labels = ["error" => err.message, "kind" => err.kind, "id" => req.request_id],
            body = b"error",
        },
        heartbeat_reply(req) = { kind = Kind::Ping, id = req.request_id, body = () },
    )]
    pub struct Message {
        #[mproto(value = sizeof(self) - 4)]
        pub size: u32,
        #[mproto(value = 0xF00D)]
        pub magic: u16,
        #[mproto(where = version == 2)]
        pub version: u8,
        pub kind: Kind,
        pub flags: Flags,
        pub priority: Priority,
        #[mproto(if = flags.traced, stream_id)]
        pub trace: Option<u64>,
        #[mproto(if = flags.color_set)]
        pub color: Option<Color>,
        #[mproto(pad = 2)]
        pub _pad: (),
        #[mproto(varint, request_id)]
        pub id: u64,
        pub n_points: u8,
        #[mproto(len = n_points)]
        pub points: Vec<Point>,
        #[mproto(prefix = u16, elem_prefix = u8)]
        pub tags: Vec<String>,
        #[mproto(size_prefix = u16, key_prefix = varint, value_prefix = varint, properties, mutate)]
        pub labels: Vec<(ByteString, ByteString)>,
        #[mproto(size_prefix = u8)]
        pub sizes: Vec<u32>,
        #[mproto(value = sum8(points..sizes))]
        pub sum: u8,
        #[mproto(value = xor8(tags))]
        pub xor: u8,
        pub blob_len: u16,
        #[mproto(len = blob_len - 1)]
        pub blob: Bytes,
        #[mproto(align = 4)]
        pub _align: (),
        #[mproto(value = crc32(body))]
        pub body_crc: u32,
        #[mproto(match = kind)]
        pub body: Body,
    }

    use bytes::Bytes;
    use mproto_runtime::ByteString;
}

use derived::*;

fn sample(id: u64, tags: Vec<String>, note: bool, traced: Option<u64>) -> (Message, dsl::Message) {
    let points = vec![Point { x: -3, y: 7 }, Point { x: 9, y: -100 }];
    let d = Message {
        version: 2,
        kind: if note { Kind::Note } else { Kind::Call },
        flags: Flags {
            traced: traced.is_some(),
            color_set: true,
            reserved: 0,
        },
        priority: Priority {
            urgent: true,
            level: 5,
            spare: 0,
        },
        trace: traced,
        color: Some(Color::Blue),
        id,
        n_points: 2,
        points,
        tags: tags.clone(),
        labels: vec![("k".into(), "v".into())],
        sizes: vec![1, 2, 3],
        blob: Bytes::from_static(b"xyz"),
        body: if note {
            Body::Note(Note {
                tag: *b"NOTE",
                score: 1.5,
                ratio: -2.25,
                ok: true,
            })
        } else {
            Body::Call(Call {
                method: "m".into(),
                args: vec![1, 2],
            })
        },
        ..Default::default()
    };
    let s = dsl::Message {
        version: 2,
        kind: if note {
            dsl::Kind::Note
        } else {
            dsl::Kind::Call
        },
        flags: dsl::MessageFlags {
            traced: traced.is_some(),
            color_set: true,
        },
        priority: dsl::Priority {
            urgent: true,
            level: 5,
        },
        trace: traced,
        color: Some(dsl::Color::Blue),
        id,
        points: vec![dsl::Point { x: -3, y: 7 }, dsl::Point { x: 9, y: -100 }],
        tags: tags.into_iter().map(ByteString::from).collect(),
        labels: vec![("k".into(), "v".into())],
        sizes: vec![1, 2, 3],
        blob: Bytes::from_static(b"xyz"),
        body: if note {
            dsl::MessageBody::Note(dsl::Note {
                score: 1.5,
                ratio: -2.25,
                ok: true,
            })
        } else {
            dsl::MessageBody::Call(dsl::Call {
                method: "m".into(),
                args: vec![1, 2],
            })
        },
    };
    (d, s)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn both_front_ends_write_and_read_the_same_frames(
        id in any::<u64>(),
        tags in proptest::collection::vec("[a-z]{0,6}", 0..4),
        note in any::<bool>(),
        traced in proptest::option::of(any::<u64>()),
    ) {
        let (d, s) = sample(id, tags, note, traced);
        let bytes = d.to_bytes().unwrap();
        prop_assert_eq!(&bytes, &s.to_bytes().unwrap());
        prop_assert_eq!(Message::decode(&bytes).unwrap(), {
            let mut filled = d.clone();
            let again = Message::decode(&bytes).unwrap();
            filled.size = again.size;
            filled.magic = 0xF00D;
            filled.sum = again.sum;
            filled.xor = again.xor;
            filled.blob_len = 4;
            filled.body_crc = again.body_crc;
            filled
        });
        prop_assert_eq!(
            FeaturesCodec.frame_len(&bytes).unwrap(),
            dsl::FeaturesCodec.frame_len(&bytes).unwrap()
        );
        prop_assert_eq!(
            FeaturesCodec.decode(&bytes).unwrap(),
            dsl::FeaturesCodec.decode(&bytes).unwrap()
        );
        for cut in 0..bytes.len() {
            prop_assert!(matches!(FeaturesCodec.frame_len(&bytes[..cut]), Ok(FrameLen::NeedMore(_))));
        }
    }
}

#[test]
fn replies_are_the_same_bytes() {
    use mproto_runtime::{Encoded, ErrorKind, Metadata, ReplyError};
    let (d, _) = sample(41, vec![], false, None);
    let frame = d.to_bytes().unwrap();
    let request: Metadata = FeaturesCodec.decode(&frame).unwrap();
    let err = ReplyError::new(ErrorKind::Timeout, "too slow");
    let (mut a, mut b) = (Encoded::default(), Encoded::default());
    FeaturesCodec.error_reply(&request, &err, &mut a).unwrap();
    dsl::FeaturesCodec
        .error_reply(&request, &err, &mut b)
        .unwrap();
    assert_eq!(a.to_bytes(), b.to_bytes());
    let (mut a, mut b) = (Encoded::default(), Encoded::default());
    FeaturesCodec.heartbeat_reply(&request, &mut a).unwrap();
    dsl::FeaturesCodec
        .heartbeat_reply(&request, &mut b)
        .unwrap();
    assert_eq!(a.to_bytes(), b.to_bytes());
}

//! The edge cases of `edges.mproto` (negative and varint constants, a struct of
//! constants only, a frame without metadata, a rule no value meets) work as written.

use bytes::Bytes;
use mproto_feature_tests::constants::{ConstantsCodec, Message as Versioned};
use mproto_feature_tests::edges::{
    Covered, CoveredByBool, CoveredBySide, CoveredRef, CoveredShared, Deep, EdgesCodec, Flagged,
    FlaggedRef, Hollow, HollowRef, Lead, Maybe, Measured, Message, MessageRef, Odd, Opaque, Opens,
    OpensRef, Rows, S, Side, SizedBodyRef, SizedFlagRef, SizedRef, Step, Stepped, SteppedBy,
    SteppedByRef, SteppedRef, Wide,
};
use mproto_feature_tests::negative::{Message as Signed, NegativeCodec};
use mproto_feature_tests::replies::RepliesCodec;
use mproto_runtime::{
    Codec, DecodeErrorKind, EncodeErrorKind, Encoded, ErrorKind, MessageType, Metadata, Mutation,
    ReplyError, Value,
};

/// `Message::default()` on the wire: -21555 is 0xABCD, -2 is 0xFFFE, 3 one varint byte.
const DEFAULT: &[u8] = &[0xAB, 0xCD, 7, 0xFF, 0xFE, 3, 0];

#[test]
fn negative_and_varint_constants_are_written_and_checked() {
    assert_eq!(&Message::default().to_bytes().unwrap()[..], DEFAULT);
    let frame = Bytes::from_static(&[0xAB, 0xCD, 7, 0xFF, 0xFE, 3, 2, b'h', b'i']);
    assert_eq!(Message::decode(&frame).unwrap().body, &b"hi"[..]);
    for (at, byte, path) in [
        (1, 0xCE, "magic"),
        (4, 0xFD, "marker.level"),
        (5, 4, "version"),
    ] {
        let mut bytes = DEFAULT.to_vec();
        bytes[at] = byte;
        let e = MessageRef::decode(&bytes).unwrap_err();
        assert!(matches!(e.kind(), DecodeErrorKind::Magic { .. }), "{e}");
        assert_eq!(e.path().to_string(), path);
    }
}

#[test]
fn a_frame_without_metadata_decodes_to_a_request_without_an_id() {
    let m = EdgesCodec.decode(&Bytes::from_static(DEFAULT)).unwrap();
    assert_eq!(m.message_type, MessageType::Request);
    assert_eq!(m.request_id, None);
    assert!(m.properties.is_empty());
}

#[test]
fn a_rule_no_value_meets_refuses_to_encode() {
    let e = Odd::default().to_bytes().unwrap_err();
    assert!(
        matches!(e.kind(), EncodeErrorKind::Constraint { .. }),
        "{e}"
    );
    assert_eq!(e.path().to_string(), "v");
}

#[test]
fn metadata_reads_constant_fields() {
    let frame = Versioned { id: 9 }.to_bytes().unwrap();
    // -3 as a zigzag varint is 5.
    assert_eq!(
        &frame[..],
        &[2, 5, b'p', b'l', b'a', b'i', b'n', 5, 0, 0, 0, 9]
    );
    let m = ConstantsCodec.decode(&frame).unwrap();
    assert_eq!(m.request_id, Some(9));
    assert_eq!(m.get("version"), Some(&Value::Int(2)));
    assert_eq!(m.get("flavor"), Some(&Value::from("plain")));
    assert_eq!(m.get("shift"), Some(&Value::Int(-3)));
    let mut other = frame.to_vec();
    other[7] = 6;
    let e = Versioned::decode(&Bytes::from(other)).unwrap_err();
    assert!(matches!(e.kind(), DecodeErrorKind::Magic { .. }), "{e}");
    assert_eq!((e.offset(), e.path().to_string()), (7, "shift".to_string()));
    // The id sits after a variable-size constant: the frame is re-encoded whole.
    let mut out = Encoded::new();
    let mutation = Mutation::new().with_request_id(77);
    ConstantsCodec.encode(&frame, &mutation, &mut out).unwrap();
    assert_eq!(Versioned::decode(&out.to_bytes()).unwrap().id, 77);
}

#[test]
fn a_union_arm_reads_an_earlier_length_and_a_fixed_union_is_skipped_whole() {
    let v = SizedRef::decode(&[1, 0, 2, b'h', b'i', 7]).unwrap();
    assert_eq!(v.body, SizedBodyRef::V1(b"hi"));
    assert!(matches!(v.flag, SizedFlagRef::V1(7)));
    let v = SizedRef::decode(&[2, 0, 9, 7]).unwrap();
    assert_eq!(v.body, SizedBodyRef::Other);
    assert!(SizedRef::decode(&[1, 0, 3, b'h', b'i', 7]).is_err());
}

#[test]
fn a_type_named_s_is_a_list_element() {
    let rows = Rows {
        rows: vec![S { x: 1 }, S { x: 2 }],
    };
    let bytes = rows.to_bytes().unwrap();
    assert_eq!(&bytes[..], &[2, 1, 2]);
    assert_eq!(Rows::decode(&bytes).unwrap(), rows);
}

#[test]
fn a_negative_magic_is_checked_before_the_id_is_peeked() {
    let frame = Signed {
        id: 7,
        body: Bytes::from_static(b"x"),
    }
    .to_bytes()
    .unwrap();
    assert_eq!(&frame[..6], &[0xAB, 0xCD, 0, 0, 0, 7]);
    assert_eq!(NegativeCodec.peek_request_id(&frame), Some(7));
    let mut other = frame.to_vec();
    other[1] = 0xCE;
    assert_eq!(NegativeCodec.peek_request_id(&other), None);
}

#[test]
fn a_reply_fills_fixed_bytes_and_leaves_lengths_to_encode() {
    let mut out = Encoded::new();
    RepliesCodec
        .error_reply(
            &Metadata::for_request_id(Some(7)),
            &ReplyError::new(ErrorKind::Timeout, "late"),
            &mut out,
        )
        .unwrap();
    // id, tag, inner (n = 3, "abc"), items (one element: n = 1, "x"), kind, code (the
    // four-byte arm).
    let wire = [
        0, 0, 0, 7, b'F', b'A', b'I', b'L', 3, b'a', b'b', b'c', 1, 1, b'x', 2, b'W', b'X', b'Y',
        b'Z',
    ];
    assert_eq!(&out.to_bytes()[..], &wire);
}

#[test]
fn empty_structs_reserved_bits_and_leading_constants_round_trip() {
    let v = Hollow {
        lead: Lead { x: 5 },
        ..Hollow::default()
    };
    let bytes = v.to_bytes().unwrap();
    assert_eq!(&bytes[..], &[0, 0, 0, 7, 9, 0, 5]);
    assert_eq!(Hollow::decode(&bytes).unwrap(), v);
    // Reserved bits are ignored on decode; the constants are checked.
    let set = [0xFF, 0xFF, 0xFF, 7, 9, 0, 5];
    assert_eq!(HollowRef::decode(&set).unwrap().lead.x, 5);
    let e = HollowRef::decode(&[0, 0, 0, 7, 8, 0, 5]).unwrap_err();
    assert!(matches!(e.kind(), DecodeErrorKind::Magic { .. }), "{e}");
}

#[test]
fn arms_that_cover_every_value_never_take_the_default_arm() {
    let v = Covered {
        on: true,
        side: Side::Right,
        by_bool: CoveredByBool::True(4),
        by_side: CoveredBySide::Right,
        n: 1,
        shared: CoveredShared::Big(7),
        m: 2,
    };
    let bytes = v.to_bytes().unwrap();
    assert_eq!(&bytes[..], &[1, 1, 4, 1, 0, 7, 2]);
    assert_eq!(Covered::decode(&bytes).unwrap(), v);
    let left = [0, 0, 0, 3, 9, 2, 5, 1];
    let r = CoveredRef::decode(&left).unwrap();
    assert!(matches!(
        r.by_side,
        mproto_feature_tests::edges::CoveredBySideRef::Left(9)
    ));
    assert!(matches!(
        r.shared,
        mproto_feature_tests::edges::CoveredSharedRef::Small(5)
    ));
    let e = Covered {
        by_bool: CoveredByBool::Other,
        ..v
    }
    .to_bytes()
    .unwrap_err();
    assert!(matches!(e.kind(), EncodeErrorKind::UnionArm { .. }), "{e}");
}

#[test]
fn bool_constants_are_written_and_checked() {
    let bytes = Flagged { x: 3 }.to_bytes().unwrap();
    assert_eq!(&bytes[..], &[1, 0, 3]);
    assert_eq!(Flagged::decode(&bytes).unwrap().x, 3);
    for bad in [[0, 0, 3], [1, 1, 3]] {
        let e = FlaggedRef::decode(&bad).unwrap_err();
        assert!(
            matches!(e.kind(), DecodeErrorKind::Constraint { .. }),
            "{e}"
        );
    }
}

#[test]
fn a_conditional_field_defaults_to_absent() {
    assert_eq!(Maybe::default().y, None);
    let v = Maybe { x: 1, y: Some(2) };
    assert_eq!(Maybe::decode(&v.to_bytes().unwrap()).unwrap(), v);
}

#[test]
fn an_explicit_length_is_computed_and_checked() {
    let v = Measured {
        data: Bytes::from_static(b"abc"),
    };
    let bytes = v.to_bytes().unwrap();
    assert_eq!(&bytes[..], b"\x03abc");
    assert_eq!(Measured::decode(&bytes).unwrap(), v);
}

#[test]
fn a_signed_open_enum_keeps_its_value_and_selects_arms_by_constant() {
    // No variant is 0, so the default is the first one, `Back` (-1).
    let v = Stepped::default();
    assert_eq!((v.step, v.step.to_raw()), (Step::Back, -1));
    assert_eq!(&v.to_bytes().unwrap()[..], &[0xFF, 0]);
    let r = SteppedRef::decode(&[1, 0, 9]).unwrap();
    assert_eq!((r.step, r.by), (Step::Forward, SteppedByRef::Forward(9)));
    let r = SteppedRef::decode(&[0x80]).unwrap();
    assert_eq!((r.step.to_raw(), r.by), (-128, SteppedByRef::Other));
    assert_eq!(format!("{:?}", r.step), "Other(-128)");
    assert_eq!(r.step.name(), "Other");
    let unknown = Stepped {
        step: Step::from_raw(5),
        by: SteppedBy::Other,
    };
    assert_eq!(&unknown.to_bytes().unwrap()[..], &[5]);
}

#[test]
fn open_enums_at_the_edges_of_their_widths() {
    // Only the catch-all: no value is known, and every one is kept.
    assert_eq!(format!("{:?}", Opaque::from_raw(5)), "Raw(5)");
    assert!(!Opaque::default().is_known());
    let v = Opens::default();
    assert_eq!((v.wide, v.deep), (Wide::Zero, Deep::Min));
    let v = Opens {
        opaque: Opaque::from_raw(0xBEEF),
        wide: Wide::Max,
        deep: Deep::from_raw(-1),
    };
    let bytes = v.to_bytes().unwrap();
    assert_eq!(&bytes[..2], &[0xBE, 0xEF]);
    assert_eq!(&bytes[2..10], &[0xFF; 8]);
    let r = OpensRef::decode(&bytes).unwrap();
    assert_eq!((r.wide.to_raw(), r.deep.to_raw()), (u64::MAX, -1));
    assert_eq!((r.wide.name(), r.deep.name()), ("Max", "Other"));
    assert_eq!(Deep::Min.to_raw(), i64::MIN);
}

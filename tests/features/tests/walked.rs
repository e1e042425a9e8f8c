//! `walked.mproto`: framing that has to decode a struct, a string and a header list
//! to decide which fields follow finds the same frame lengths as decoding does, on
//! every prefix, and a mutation that changes what a condition reads is refused.

use mproto_feature_tests::frames_whole_and_waits_on_prefixes;
use mproto_feature_tests::walked::*;
use mproto_runtime::{ByteString, Codec, EncodeErrorKind, Encoded, Mutation};
use proptest::prelude::*;

fn message() -> impl Strategy<Value = Message> {
    (
        0u8..3,
        "[a-z]{1,3}",
        proptest::collection::vec(("[a-z]{1,3}", "[a-z]{0,3}"), 0..3),
        any::<u16>(),
        any::<u8>(),
        any::<u32>(),
    )
        .prop_map(|(flags, name, headers, wide, single, id)| {
            let headers: Vec<(ByteString, ByteString)> = headers
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
            Message {
                head: Head { flags },
                wide: (flags == 1).then_some(wide),
                single: (headers.len() == 1 && name.len() == 2).then_some(single),
                name: name.into(),
                headers,
                id,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn framing_decodes_what_its_conditions_read(msg in message()) {
        let frame = msg.to_bytes().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(Message::decode(&frame), Ok(msg.clone()));
        frames_whole_and_waits_on_prefixes(frame_len, &frame).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn a_mutation_that_changes_a_condition_is_refused() {
    let msg = Message {
        head: Head { flags: 0 },
        wide: None,
        name: "ab".into(),
        headers: vec![("k".into(), "v".into())],
        single: Some(9),
        id: 1,
    };
    let frame = msg.to_bytes().unwrap();
    // One header and a two-byte name: `single` is there.
    assert_eq!(frame[frame.len() - 5], 9);
    let mut out = Encoded::new();
    let e = WalkedCodec
        .encode(&frame, &Mutation::new().with("x", "1"), &mut out)
        .unwrap_err();
    assert!(matches!(e.kind(), EncodeErrorKind::Condition { .. }), "{e}");
    assert_eq!(e.path().to_string(), "single");
    // A mutation that keeps one header keeps the frame as it is, but for that header.
    let mut out = Encoded::new();
    WalkedCodec
        .encode(&frame, &Mutation::new().with("k", "w"), &mut out)
        .unwrap();
    let mutated = Message::decode(&out.to_bytes()).unwrap();
    assert_eq!(mutated.headers, vec![("k".into(), "w".into())]);
    assert_eq!(mutated.single, Some(9));
}

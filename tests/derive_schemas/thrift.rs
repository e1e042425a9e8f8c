//! Thrift's framed strict binary protocol (`schemas/thrift.mproto`) as derived
//! Rust items.

use std::borrow::Cow;

use mproto::Codec;

/// The binary protocol's message types.
#[derive(Codec, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum MessageKind {
    Call = 1,
    Reply = 2,
    Exception = 3,
    Oneway = 4,
}

/// `TApplicationException` types.
#[derive(Codec, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum ExceptionType {
    Unknown = 0,
    UnknownMethod = 1,
    InvalidMessageType = 2,
    WrongMethodName = 3,
    BadSequenceId = 4,
    MissingResult = 5,
    InternalError = 6,
    ProtocolError = 7,
}

/// A `TApplicationException` struct: field 1 the message, field 2 the type, a stop byte.
#[derive(Codec, Debug, Clone, PartialEq)]
pub struct ApplicationException<'a> {
    #[mproto(value = 11)]
    pub message_type: u8,
    #[mproto(value = 1)]
    pub message_id: u16,
    #[mproto(prefix = u32)]
    pub message: &'a str,
    #[mproto(value = 8)]
    pub kind_type: u8,
    #[mproto(value = 2)]
    pub kind_id: u16,
    pub kind: ExceptionType,
    #[mproto(value = 0)]
    pub stop: u8,
}

/// One framed Thrift message.
#[derive(Codec, Debug, Clone, PartialEq)]
#[mproto(
    protocol = "thrift",
    codec = "aeraki.meta_protocol.codec.thrift",
    max_frame = 16777216,
    message_type = match kind {
        MessageKind::Call => MessageType::Request,
        MessageKind::Oneway => MessageType::Oneway,
        _ => MessageType::Response,
    },
    request_id = seq_id,
    response_status = if kind == MessageKind::Exception { ResponseStatus::Error } else { ResponseStatus::Ok },
    property("method") = name,
    error_reply(req, err) = {
        kind = MessageKind::Exception,
        name = req["method"],
        seq_id = req.request_id,
        body = ApplicationException {
            message: err.message,
            kind: match err.kind {
                ErrorKind::RouteNotFound => ExceptionType::UnknownMethod,
                _ => ExceptionType::InternalError,
            },
        },
    },
)]
pub struct Message<'a> {
    #[mproto(value = sizeof(self) - 4)]
    pub size: u32,
    #[mproto(value = 0x8001)]
    pub version: u16,
    #[mproto(pad = 1)]
    pub _pad: (),
    pub kind: MessageKind,
    #[mproto(prefix = u32)]
    pub name: &'a str,
    pub seq_id: u32,
    /// Borrowed when decoded; owned when a reply encodes an exception into it.
    #[mproto(to_end)]
    pub body: Cow<'a, [u8]>,
}

mod equivalence {
    use std::borrow::Cow;

    use mproto::Mutation;
    use mproto_codecs::thrift as dsl;
    use proptest::prelude::*;

    use super::{ApplicationException, ExceptionType, Message, MessageKind, ThriftCodec};
    use crate::{same_on_damaged, same_on_frame};

    const KINDS: [(MessageKind, dsl::MessageKind); 4] = [
        (MessageKind::Call, dsl::MessageKind::Call),
        (MessageKind::Reply, dsl::MessageKind::Reply),
        (MessageKind::Exception, dsl::MessageKind::Exception),
        (MessageKind::Oneway, dsl::MessageKind::Oneway),
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn derived_thrift_is_the_dsl_thrift(
            kind in 0..KINDS.len(),
            name in "[a-zA-Z_ä]{0,12}",
            seq_id in any::<u32>(),
            body in proptest::collection::vec(any::<u8>(), 0..40),
            new_id in any::<u64>(),
            at in any::<usize>(),
            with in any::<u8>(),
        ) {
            let derived = Message {
                kind: KINDS[kind].0,
                name: &name,
                seq_id,
                body: Cow::Borrowed(&body),
                ..Default::default()
            };
            let owned = dsl::Message {
                kind: KINDS[kind].1,
                name: name.as_str().into(),
                seq_id,
                body: body.clone().into(),
            };
            let bytes = derived.to_bytes().unwrap();
            prop_assert_eq!(&bytes, &owned.to_bytes().unwrap());
            let back = Message::decode(&bytes).unwrap();
            for cut in 0..bytes.len() {
                prop_assert!(Message::decode(&bytes[..cut]).is_err(), "a {cut}-byte prefix decodes");
            }
            prop_assert!(matches!(back.body, Cow::Borrowed(_)), "decoding borrows the body");
            prop_assert_eq!(&back, &Message { size: back.size, ..derived.clone() });
            prop_assert_eq!(back.size as usize, bytes.len() - 4);
            let mutation = Mutation::new().with_request_id(new_id);
            let md = same_on_frame(&ThriftCodec, &dsl::ThriftCodec, &bytes, &mutation)?;
            prop_assert_eq!(md.request_id, Some(u64::from(seq_id)));
            same_on_damaged(&ThriftCodec, &dsl::ThriftCodec, &bytes, at, with)?;
        }
    }

    #[test]
    fn error_reply_carries_an_application_exception() {
        let call = Message {
            kind: MessageKind::Call,
            name: "getUser",
            seq_id: 9,
            ..Default::default()
        }
        .to_bytes()
        .unwrap();
        let bytes = crate::error_reply(
            &ThriftCodec,
            &call,
            mproto::ErrorKind::RouteNotFound,
            "no route",
        );
        let reply = Message::decode(&bytes).unwrap();
        assert_eq!(
            (reply.kind, reply.name, reply.seq_id),
            (MessageKind::Exception, "getUser", 9)
        );
        let exception = ApplicationException::decode(&reply.body).unwrap();
        assert_eq!(
            (exception.message, exception.kind),
            ("no route", ExceptionType::UnknownMethod)
        );
    }
}

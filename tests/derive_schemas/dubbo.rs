//! Dubbo 2 (`schemas/dubbo.mproto`) as derived Rust items.

use std::borrow::Cow;

use mproto::{ByteString, Codec};

/// Response status codes; requests carry 0, which decodes as `Unknown(0)`.
#[derive(Codec, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    Ok = 20,
    ClientTimeout = 30,
    ServerTimeout = 31,
    BadRequest = 40,
    BadResponse = 50,
    ServiceNotFound = 60,
    ServiceError = 70,
    ServerError = 80,
    ClientError = 90,
    ServerThreadpoolExhausted = 100,
    #[mproto(unknown)]
    Unknown(u8),
}

/// The body of a response whose status is not `Ok`: the error message.
#[derive(Codec, Debug, Clone, PartialEq)]
pub struct ErrorBody {
    #[mproto(with = mproto::ext::hessian2::Hessian2Str)]
    pub message: ByteString,
}

/// The flag byte.
#[derive(Codec, Debug, Clone, Copy, PartialEq, Eq)]
#[mproto(bits = u8)]
pub struct Flags {
    pub request: bool,
    pub two_way: bool,
    pub event: bool,
    #[mproto(bits = 5)]
    pub serialization: u8,
}

/// One Dubbo message.
#[derive(Codec, Debug, Clone, PartialEq)]
#[mproto(
    protocol = "dubbo",
    codec = "aeraki.meta_protocol.codec.dubbo",
    max_frame = 8388608,
    message_type = if flags.event {
        MessageType::Heartbeat
    } else if flags.request {
        if flags.two_way { MessageType::Request } else { MessageType::Oneway }
    } else {
        MessageType::Response
    },
    response_status = if flags.request || status == Status::Ok { ResponseStatus::Ok } else { ResponseStatus::Error },
    property("serialization") = flags.serialization,
    error_reply(req, err) = {
        flags.serialization = 2,
        status = match err.kind {
            ErrorKind::Timeout => Status::ServerTimeout,
            ErrorKind::RouteNotFound | ErrorKind::ClusterNotFound | ErrorKind::NoHealthyUpstream => Status::ServiceNotFound,
            ErrorKind::OverLimit => Status::ServerThreadpoolExhausted,
            ErrorKind::BadResponse => Status::BadResponse,
            _ => Status::ServerError,
        },
        request_id = req.request_id,
        body = ErrorBody { message: err.message },
    },
    heartbeat_reply(req) = {
        flags.event = true,
        flags.serialization = 2,
        status = Status::Ok,
        request_id = req.request_id,
        body = b"N",
    },
)]
pub struct Message<'a> {
    #[mproto(value = 0xdabb)]
    pub magic: u16,
    pub flags: Flags,
    pub status: Status,
    #[mproto(request_id)]
    pub request_id: u64,
    pub body_len: u32,
    /// Borrowed when decoded; owned when a reply encodes an error into it.
    #[mproto(len = body_len)]
    pub body: Cow<'a, [u8]>,
}

mod equivalence {
    use std::borrow::Cow;

    use mproto::Mutation;
    use mproto_codecs::dubbo as dsl;
    use proptest::prelude::*;

    use super::{DubboCodec, ErrorBody, Flags, Message, Status};
    use crate::{same_on_damaged, same_on_frame};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn derived_dubbo_is_the_dsl_dubbo(
            (request, two_way, event) in any::<(bool, bool, bool)>(),
            serialization in 0u8..32,
            status in any::<u8>(),
            request_id in any::<u64>(),
            body in proptest::collection::vec(any::<u8>(), 0..40),
            new_id in any::<u64>(),
            at in any::<usize>(),
            with in any::<u8>(),
        ) {
            let derived = Message {
                flags: Flags { request, two_way, event, serialization },
                status: Status::from_raw(status),
                request_id,
                body: Cow::Borrowed(&body),
                ..Default::default()
            };
            let owned = dsl::Message {
                flags: dsl::MessageFlags { request, two_way, event, serialization },
                status: dsl::Status::from_raw(status),
                request_id,
                body: body.clone().into(),
            };
            let bytes = derived.to_bytes().unwrap();
            prop_assert_eq!(&bytes, &owned.to_bytes().unwrap());
            let back = Message::decode(&bytes).unwrap();
            for cut in 0..bytes.len() {
                prop_assert!(Message::decode(&bytes[..cut]).is_err(), "a {cut}-byte prefix decodes");
            }
            prop_assert!(matches!(back.body, Cow::Borrowed(_)), "decoding borrows the body");
            prop_assert_eq!(&back, &Message { body_len: body.len() as u32, ..derived.clone() });
            let mutation = Mutation::new().with_request_id(new_id);
            let md = same_on_frame(&DubboCodec, &dsl::DubboCodec, &bytes, &mutation)?;
            prop_assert_eq!(md.request_id, Some(request_id));
            same_on_damaged(&DubboCodec, &dsl::DubboCodec, &bytes, at, with)?;
        }
    }

    #[test]
    fn error_reply_carries_a_hessian2_message() {
        let call = Message {
            flags: Flags {
                request: true,
                two_way: true,
                event: false,
                serialization: 2,
            },
            request_id: 77,
            ..Default::default()
        }
        .to_bytes()
        .unwrap();
        let bytes = crate::error_reply(&DubboCodec, &call, mproto::ErrorKind::Timeout, "too slow");
        let reply = Message::decode(&bytes).unwrap();
        assert_eq!(
            (reply.status, reply.request_id),
            (Status::ServerTimeout, 77)
        );
        assert_eq!(ErrorBody::decode(&reply.body).unwrap().message, "too slow");
    }
}

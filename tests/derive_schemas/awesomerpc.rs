//! AwesomeRPC (`schemas/awesomerpc.mproto`) as derived Rust items.

use mproto::Codec;

/// What a message is.
#[derive(Codec, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[mproto(repr = u3)]
pub enum Kind {
    Request = 0,
    Response = 1,
    Oneway = 2,
    Heartbeat = 3,
    Error = 4,
    #[mproto(unknown)]
    Unknown(u8),
}

/// Outcome of a request.
#[derive(Codec, Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    Ok = 0,
    NotFound = 1,
    Unavailable = 2,
    Timeout = 3,
    OverLimit = 4,
    BadResponse = 5,
    Internal = 6,
    #[mproto(unknown)]
    Unknown(u8),
}

/// Kind and switches.
#[derive(Codec, Debug, Clone, Copy, PartialEq, Eq)]
#[mproto(bits = u8)]
pub struct Flags {
    pub kind: Kind,
    pub compressed: bool,
    pub streaming: bool,
    #[mproto(bits = 3, value = 0)]
    pub reserved: u8,
}

/// One AwesomeRPC message, borrowing its text and body from the frame.
#[derive(Codec, Debug, Clone, PartialEq)]
#[mproto(
    protocol = "awesomerpc",
    codec = "aeraki.meta_protocol.codec.awesomerpc",
    max_frame = 4194304,
    message_type = match flags.kind {
        Kind::Request => MessageType::Request,
        Kind::Response => MessageType::Response,
        Kind::Oneway => MessageType::Oneway,
        Kind::Heartbeat => MessageType::Heartbeat,
        _ => MessageType::Error,
    },
    response_status = if status == Status::Ok { ResponseStatus::Ok } else { ResponseStatus::Error },
    property("version") = version,
    error_reply(req, err) = {
        flags.kind = Kind::Response,
        status = match err.kind {
            ErrorKind::RouteNotFound | ErrorKind::ClusterNotFound => Status::NotFound,
            ErrorKind::NoHealthyUpstream => Status::Unavailable,
            ErrorKind::Timeout => Status::Timeout,
            ErrorKind::OverLimit => Status::OverLimit,
            ErrorKind::BadResponse => Status::BadResponse,
            _ => Status::Internal,
        },
        request_id = req.request_id,
        headers = ["error" => err.message, "error-kind" => err.kind],
    },
    heartbeat_reply(req) = {
        flags.kind = Kind::Heartbeat,
        request_id = req.request_id,
    },
)]
pub struct Message<'a> {
    #[mproto(value = 0xA1B2)]
    pub magic: u16,
    #[mproto(where = version == 1)]
    pub version: u8,
    pub flags: Flags,
    pub status: Status,
    #[mproto(request_id)]
    pub request_id: u64,
    #[mproto(if = flags.streaming, stream_id)]
    pub stream_id: Option<u32>,
    pub header_len: u16,
    pub body_len: u32,
    #[mproto(size = header_len, key_prefix = u8, value_prefix = u16, properties, mutate)]
    pub headers: Vec<(&'a str, &'a str)>,
    #[mproto(len = body_len)]
    pub body: &'a [u8],
}

mod equivalence {
    use mproto::Mutation;
    use mproto_codecs::awesomerpc as dsl;
    use proptest::prelude::*;

    use super::{AwesomerpcCodec, Flags, Kind, Message, Status};
    use crate::{same_on_damaged, same_on_frame};

    fn header() -> impl Strategy<Value = (String, String)> {
        ("[a-z-]{1,8}", "[ -~é]{0,12}")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn derived_awesomerpc_is_the_dsl_awesomerpc(
            kind in 0u8..8,
            (compressed, stream_id) in (any::<bool>(), proptest::option::of(any::<u32>())),
            status in any::<u8>(),
            request_id in any::<u64>(),
            headers in proptest::collection::vec(header(), 0..5),
            body in proptest::collection::vec(any::<u8>(), 0..40),
            added in proptest::collection::vec(header(), 0..3),
            at in any::<usize>(),
            with in any::<u8>(),
        ) {
            let derived = Message {
                flags: Flags {
                    kind: Kind::from_raw(kind),
                    compressed,
                    streaming: stream_id.is_some(),
                    reserved: 0,
                },
                status: Status::from_raw(status),
                request_id,
                stream_id,
                headers: headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
                body: &body,
                ..Default::default()
            };
            let owned = dsl::Message {
                flags: dsl::MessageFlags {
                    kind: dsl::Kind::from_raw(kind),
                    compressed,
                    streaming: stream_id.is_some(),
                },
                status: dsl::Status::from_raw(status),
                request_id,
                stream_id,
                headers: headers.iter().map(|(k, v)| (k.as_str().into(), v.as_str().into())).collect(),
                body: body.clone().into(),
                ..Default::default()
            };
            let bytes = derived.to_bytes().unwrap();
            prop_assert_eq!(&bytes, &owned.to_bytes().unwrap());
            let back = Message::decode(&bytes).unwrap();
            for cut in 0..bytes.len() {
                prop_assert!(Message::decode(&bytes[..cut]).is_err(), "a {cut}-byte prefix decodes");
            }
            prop_assert_eq!(back.body.as_ptr(), bytes[bytes.len() - body.len()..].as_ptr(), "decoding borrows the body");
            prop_assert_eq!(&back, &Message { header_len: back.header_len, body_len: body.len() as u32, ..derived.clone() });
            let mutation = added.iter().fold(Mutation::new(), |m, (k, v)| m.with(k.as_str(), v.as_str()));
            let md = same_on_frame(&AwesomerpcCodec, &dsl::AwesomerpcCodec, &bytes, &mutation)?;
            prop_assert_eq!(md.request_id, Some(request_id));
            prop_assert_eq!(md.stream_id, stream_id.map(u64::from));
            same_on_damaged(&AwesomerpcCodec, &dsl::AwesomerpcCodec, &bytes, at, with)?;
        }
    }
}

//! `#[derive(Codec)]` structs that describe AwesomeRPC: the same bytes and metadata
//! as the codec generated from `schemas/awesomerpc.mproto`.

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

#[test]
fn derived_message_round_trips() {
    let m = Message {
        flags: Flags {
            kind: Kind::Request,
            ..Default::default()
        },
        request_id: 7,
        headers: vec![("service", "echo"), ("method", "ping")],
        body: b"hello",
        ..Default::default()
    };
    let bytes = m.to_bytes().unwrap();
    let back = Message::decode(&bytes).unwrap();
    assert_eq!(back.body, b"hello");
    assert_eq!(back.magic, 0xA1B2);
    assert_eq!(back.body_len, 5);
    assert_eq!(back.headers, m.headers);
    let md = AwesomerpcCodec.decode(&bytes).unwrap();
    assert_eq!(md.request_id, Some(7));
}

//! What every implementation produces, in one shape, so the comparison is of equal work
//! and the tests can check that all of them decode the same values.

use mproto_runtime::{Metadata, Value};
use smallvec::SmallVec;

pub use mproto_runtime::{MessageType, ResponseStatus};

/// Properties kept inline before spilling, as many as the runtime's `Properties` keeps.
pub const INLINE_PROPS: usize = mproto_runtime::metadata::INLINE_PROPERTIES;

/// A routable property value borrowed from the frame (or from a baseline's owned message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropValue<'a> {
    /// Text, borrowed.
    Text(&'a str),
    /// An integer field.
    Int(i64),
}

/// Routing metadata with borrowed values: what the proxy needs per frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta<'a> {
    /// What the frame is.
    pub message_type: MessageType,
    /// Correlates a response with its request.
    pub request_id: u64,
    /// The stream, for protocols that have one.
    pub stream_id: Option<u64>,
    /// Success or failure.
    pub response_status: Option<ResponseStatus>,
    /// Routable properties in frame order.
    pub properties: SmallVec<[(&'a str, PropValue<'a>); INLINE_PROPS]>,
}

/// The runtime's `Metadata` for borrowed metadata: what the proxy keeps per frame.
///
/// Every implementation's "decode to metadata" ends here, so the comparison is of
/// equal work: text that lies inside `frame` is shared (a reference count, no copy),
/// text owned elsewhere (binrw's and deku's `String`s) is copied.
pub fn to_runtime(m: &Meta<'_>, frame: &bytes::Bytes) -> Metadata {
    let mut properties = mproto_runtime::Properties::new();
    for (k, v) in &m.properties {
        let value = match v {
            PropValue::Text(t) => Value::Text(mproto_runtime::wire::share_str(frame, t)),
            PropValue::Int(n) => Value::Int(i128::from(*n)),
        };
        properties.push(key(frame, k), value);
    }
    Metadata {
        message_type: m.message_type,
        request_id: Some(m.request_id),
        stream_id: m.stream_id,
        response_status: m.response_status,
        properties,
    }
}

/// A property key: shared when it lies in the frame; the schemas' fixed keys are
/// static strings, as in generated code, so they cost nothing either.
fn key(frame: &bytes::Bytes, k: &str) -> bytestring::ByteString {
    match k {
        "version" => bytestring::ByteString::from_static("version"),
        "method" => bytestring::ByteString::from_static("method"),
        "serialization" => bytestring::ByteString::from_static("serialization"),
        other => mproto_runtime::wire::share_str(frame, other),
    }
}

/// An owned, implementation-neutral copy of metadata, for comparing implementations in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaSummary {
    /// What the frame is.
    pub message_type: MessageType,
    /// The request id.
    pub request_id: Option<u64>,
    /// The stream id.
    pub stream_id: Option<u64>,
    /// Success or failure.
    pub response_status: Option<ResponseStatus>,
    /// Properties as text, in order.
    pub properties: Vec<(String, String)>,
}

impl From<&Meta<'_>> for MetaSummary {
    fn from(m: &Meta<'_>) -> Self {
        let text = |v: &PropValue<'_>| match v {
            PropValue::Text(s) => (*s).to_owned(),
            PropValue::Int(n) => n.to_string(),
        };
        MetaSummary {
            message_type: m.message_type,
            request_id: Some(m.request_id),
            stream_id: m.stream_id,
            response_status: m.response_status,
            properties: m
                .properties
                .iter()
                .map(|(k, v)| ((*k).to_owned(), text(v)))
                .collect(),
        }
    }
}

impl From<&Metadata> for MetaSummary {
    fn from(m: &Metadata) -> Self {
        let text = |v: &Value| match v {
            Value::Text(s) => s.to_string(),
            Value::Int(n) => n.to_string(),
        };
        MetaSummary {
            message_type: m.message_type,
            request_id: m.request_id,
            stream_id: m.stream_id,
            response_status: m.response_status,
            properties: m
                .properties
                .iter()
                .map(|(k, v)| (k.to_owned(), text(v)))
                .collect(),
        }
    }
}

/// Every field of an AwesomeRPC message, owned, for comparing full decodes in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwesomeFields {
    /// Protocol version.
    pub version: u8,
    /// Raw 3-bit kind.
    pub kind: u8,
    /// Compressed flag.
    pub compressed: bool,
    /// Streaming flag.
    pub streaming: bool,
    /// Raw status byte.
    pub status: u8,
    /// Request id.
    pub request_id: u64,
    /// Stream id, present when streaming.
    pub stream_id: Option<u32>,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// Every field of a Thrift message, owned, for comparing full decodes in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThriftFields {
    /// Raw message type.
    pub kind: u8,
    /// Method name.
    pub name: String,
    /// Sequence id.
    pub seq_id: u32,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// Every field of a Dubbo message, owned, for comparing full decodes in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DubboFields {
    /// Request flag.
    pub request: bool,
    /// Two-way flag.
    pub two_way: bool,
    /// Event flag.
    pub event: bool,
    /// 5-bit serialization id.
    pub serialization: u8,
    /// Raw status byte.
    pub status: u8,
    /// Request id.
    pub request_id: u64,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// AwesomeRPC's metadata mapping from the schema: kind to message type.
pub fn awesome_message_type(kind: u8) -> MessageType {
    match kind {
        0 => MessageType::Request,
        1 => MessageType::Response,
        2 => MessageType::Oneway,
        3 => MessageType::Heartbeat,
        _ => MessageType::Error,
    }
}

/// AwesomeRPC's response status from the schema: status 0 is Ok.
pub fn awesome_status(status: u8) -> ResponseStatus {
    if status == 0 {
        ResponseStatus::Ok
    } else {
        ResponseStatus::Error
    }
}

/// Thrift's metadata mapping from the schema: message type byte to message type.
pub fn thrift_message_type(kind: u8) -> MessageType {
    match kind {
        1 => MessageType::Request,
        4 => MessageType::Oneway,
        _ => MessageType::Response,
    }
}

/// Thrift's response status from the schema: only exceptions fail.
pub fn thrift_status(kind: u8) -> ResponseStatus {
    if kind == 3 {
        ResponseStatus::Error
    } else {
        ResponseStatus::Ok
    }
}

/// Dubbo's metadata mapping from the schema's flag bits.
pub fn dubbo_message_type(request: bool, two_way: bool, event: bool) -> MessageType {
    match (event, request, two_way) {
        (true, _, _) => MessageType::Heartbeat,
        (false, true, true) => MessageType::Request,
        (false, true, false) => MessageType::Oneway,
        (false, false, _) => MessageType::Response,
    }
}

/// Dubbo's response status from the schema: requests and status 20 are Ok.
pub fn dubbo_status(request: bool, status: u8) -> ResponseStatus {
    if request || status == 20 {
        ResponseStatus::Ok
    } else {
        ResponseStatus::Error
    }
}

/// A running digest that makes "touch every field" observable without copying.
#[derive(Debug, Default, Clone, Copy)]
pub struct Touch(pub u64);

impl Touch {
    /// Folds in a number.
    #[inline(always)]
    pub fn num(&mut self, v: u64) {
        self.0 = self.0.rotate_left(5) ^ v;
    }

    /// Folds in a byte slice: its address and length, which is what reading a view gives.
    #[inline(always)]
    pub fn bytes(&mut self, b: &[u8]) {
        let b = std::hint::black_box(b);
        self.num(b.len() as u64);
        self.num(b.first().copied().unwrap_or(0) as u64);
    }
}

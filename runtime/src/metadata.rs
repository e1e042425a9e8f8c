//! Routing metadata decoded from a frame, in MetaProtocol's vocabulary.

use std::fmt;

use bytestring::ByteString;
use smallvec::SmallVec;

/// What a frame is, as MetaProtocol names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MessageType {
    /// A request that expects a response.
    #[default]
    Request,
    /// A response to a request.
    Response,
    /// A request that expects no response.
    Oneway,
    /// Opens a stream.
    StreamInit,
    /// Data on an open stream.
    StreamData,
    /// Closes one direction of a stream.
    StreamCloseOneWay,
    /// Closes both directions of a stream.
    StreamCloseTwoWay,
    /// A keep-alive probe or its answer.
    Heartbeat,
    /// An error message that answers a request.
    Error,
}

impl MessageType {
    /// Every message type, in declaration order.
    pub const ALL: [MessageType; 9] = [
        MessageType::Request,
        MessageType::Response,
        MessageType::Oneway,
        MessageType::StreamInit,
        MessageType::StreamData,
        MessageType::StreamCloseOneWay,
        MessageType::StreamCloseTwoWay,
        MessageType::Heartbeat,
        MessageType::Error,
    ];

    /// The variant's name, as written in schemas and manifests.
    #[inline]
    pub fn name(self) -> &'static str {
        match self {
            MessageType::Request => "Request",
            MessageType::Response => "Response",
            MessageType::Oneway => "Oneway",
            MessageType::StreamInit => "StreamInit",
            MessageType::StreamData => "StreamData",
            MessageType::StreamCloseOneWay => "StreamCloseOneWay",
            MessageType::StreamCloseTwoWay => "StreamCloseTwoWay",
            MessageType::Heartbeat => "Heartbeat",
            MessageType::Error => "Error",
        }
    }

    /// True for the message types that answer a request.
    #[inline]
    pub fn is_reply(self) -> bool {
        matches!(self, MessageType::Response | MessageType::Error)
    }
}

/// Whether a response reports success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseStatus {
    /// The request succeeded.
    Ok,
    /// The request failed.
    Error,
}

impl ResponseStatus {
    /// The variant's name.
    #[inline]
    pub fn name(self) -> &'static str {
        match self {
            ResponseStatus::Ok => "Ok",
            ResponseStatus::Error => "Error",
        }
    }
}

/// The value of a routable property: text borrowed from the frame, or a number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// Text; a slice of the frame, not a copy.
    Text(ByteString),
    /// An integer field, matched by its decimal form.
    Int(i128),
}

impl Value {
    /// The value as text, using `scratch` for numbers so nothing is allocated.
    #[inline]
    pub fn as_text<'s>(&'s self, scratch: &'s mut itoa::Buffer) -> &'s str {
        match self {
            Value::Text(s) => s,
            Value::Int(n) => scratch.format(*n),
        }
    }

    /// The value as owned text (integers in decimal).
    #[inline]
    pub fn to_text(&self) -> ByteString {
        match self {
            Value::Text(t) => t.clone(),
            Value::Int(i) => ByteString::from(itoa::Buffer::new().format(*i)),
        }
    }

    /// True when the value's text equals `text`.
    #[inline]
    pub fn eq_text(&self, text: &str) -> bool {
        self.as_text(&mut itoa::Buffer::new()) == text
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) => f.write_str(s),
            Value::Int(n) => write!(f, "{n}"),
        }
    }
}

impl From<ByteString> for Value {
    fn from(s: ByteString) -> Self {
        Value::Text(s)
    }
}

impl From<&'static str> for Value {
    fn from(s: &'static str) -> Self {
        Value::Text(ByteString::from_static(s))
    }
}

/// Properties kept inline before the list spills to the heap.
pub const INLINE_PROPERTIES: usize = 12;

/// Routable key/value properties, in frame order; keys may repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties(SmallVec<[(ByteString, Value); INLINE_PROPERTIES]>);

impl Properties {
    /// An empty list.
    #[inline]
    pub fn new() -> Self {
        Self::default()
    }

    /// The first value under `key`.
    #[inline]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| &**k == key).map(|(_, v)| v)
    }

    /// Appends a property.
    #[inline]
    pub fn push(&mut self, key: ByteString, value: Value) {
        self.0.push((key, value));
    }

    /// Replaces the first value under `key`, or appends it.
    #[inline]
    pub fn set(&mut self, key: ByteString, value: Value) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// All properties in order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (&**k, v))
    }

    /// Number of properties.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when the properties still fit inline (nothing was allocated for them).
    #[inline]
    pub fn is_inline(&self) -> bool {
        !self.0.spilled()
    }
}

/// What the proxy knows about a frame after decoding it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// What the frame is.
    pub message_type: MessageType,
    /// Correlates a response with its request.
    pub request_id: Option<u64>,
    /// Identifies the stream a frame belongs to.
    pub stream_id: Option<u64>,
    /// Success or failure, for responses.
    pub response_status: Option<ResponseStatus>,
    /// Routable properties.
    pub properties: Properties,
}

impl Metadata {
    /// Metadata that knows only a request id, for replying to an undecodable frame.
    #[inline]
    pub fn for_request_id(request_id: Option<u64>) -> Self {
        Metadata {
            request_id,
            ..Self::default()
        }
    }

    /// The first value of a property.
    #[inline]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.properties.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_their_decimal_text() {
        assert!(Value::Int(-42).eq_text("-42"));
        assert!(!Value::Int(42).eq_text("042"));
        assert!(Value::from("v1").eq_text("v1"));
    }

    #[test]
    fn set_replaces_first_or_appends() {
        let mut p = Properties::new();
        p.push("a".into(), "1".into());
        p.push("a".into(), "2".into());
        p.set("a".into(), "3".into());
        p.set("b".into(), "4".into());
        let all: Vec<_> = p.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(all, ["a=3", "a=2", "b=4"]);
        assert!(p.is_inline());
    }
}

//! Why the proxy answers a request itself, in MetaProtocol's vocabulary.

use std::borrow::Cow;
use std::fmt;

/// Why a local reply is sent instead of an upstream response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// No route matched the request.
    RouteNotFound,
    /// The route names a destination that does not exist.
    ClusterNotFound,
    /// The destination has no endpoint that accepts connections.
    NoHealthyUpstream,
    /// The upstream answered with something that is not a response.
    BadResponse,
    /// A rate limit rejected the request.
    OverLimit,
    /// The upstream did not answer in time.
    Timeout,
    /// Anything else, including a request that could not be decoded.
    Unspecified,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::RouteNotFound,
        ErrorKind::ClusterNotFound,
        ErrorKind::NoHealthyUpstream,
        ErrorKind::BadResponse,
        ErrorKind::OverLimit,
        ErrorKind::Timeout,
        ErrorKind::Unspecified,
    ];

    /// The variant's name, as written in schemas.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::RouteNotFound => "RouteNotFound",
            ErrorKind::ClusterNotFound => "ClusterNotFound",
            ErrorKind::NoHealthyUpstream => "NoHealthyUpstream",
            ErrorKind::BadResponse => "BadResponse",
            ErrorKind::OverLimit => "OverLimit",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::Unspecified => "Unspecified",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error a local reply reports: its kind and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyError {
    /// Why the proxy answers.
    pub kind: ErrorKind,
    /// A message for the client.
    pub message: Cow<'static, str>,
}

impl ReplyError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        ReplyError {
            kind,
            message: message.into(),
        }
    }
}

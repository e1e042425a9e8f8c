//! mproto's own `Proxy` object (`mproto.io/v1alpha1`): listeners, admin address, limits.

use serde::{Deserialize, Serialize};

use super::objects::{Kind, Resource};

/// A `Proxy` object.
pub type Proxy = Resource<ProxySpec>;

/// What a standalone proxy listens on and the limits it enforces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProxySpec {
    /// Sockets that accept downstream traffic, each for one service host and port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<Listener>,
    /// The admin HTTP server (`/metrics`, `/ready`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<Admin>,
    /// Resource limits and timeouts.
    #[serde(default, skip_serializing_if = "Limits::is_default")]
    pub limits: Limits,
    /// What the JSON access log records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<AccessLog>,
}

impl Kind for ProxySpec {
    const KIND: &'static str = "Proxy";
    const API_VERSION: &'static str = "mproto.io/v1alpha1";
    const GROUP: &'static str = "mproto.io";
}

/// A listening socket that proxies traffic for `host:port` of a `ServiceEntry`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Listener {
    /// A name for logs; defaults to `host:port`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The socket address to bind, e.g. `0.0.0.0:20880` (port 0 picks a free port).
    pub address: String,
    /// The `ServiceEntry` host whose traffic arrives here.
    pub host: String,
    /// The `ServiceEntry` port whose traffic arrives here.
    pub port: u32,
    /// The application protocol; defaults to the one in the port's `tcp-metaprotocol-<p>` name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// The admin server's address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Admin {
    /// The socket address to bind, e.g. `127.0.0.1:15000`.
    pub address: String,
}

/// Limits; every field has a default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Limits {
    /// Largest frame in bytes; defaults to the codec's schema limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frame: Option<u64>,
    /// Most downstream connections open at once; more are closed on accept (default 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Close a downstream connection with nothing in flight after this long (default `300s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<String>,
    /// Most requests in flight per downstream connection; reading pauses there (default 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u32>,
    /// Frames queued for writing per connection before senders wait (default 128).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer: Option<u32>,
    /// Route timeout when a route sets none, e.g. `30s` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<String>,
    /// Upstream connect timeout (default `5s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<String>,
    /// Upstream connections per endpoint that requests are multiplexed over (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_connections: Option<u32>,
    /// Close an upstream connection with no request in flight after this long (default `300s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_idle_timeout: Option<String>,
    /// How long a shutdown waits for in-flight requests (default `30s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_timeout: Option<String>,
}

impl Limits {
    /// True when no limit is set.
    pub fn is_default(&self) -> bool {
        *self == Limits::default()
    }
}

/// Access log settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessLog {
    /// Request properties copied into each access log line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<String>,
}

//! State shared by every task of one proxy: settings, metrics and lifecycle tokens.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::metrics::Metrics;

/// The proxy's limits with defaults filled in.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) max_frame: Option<usize>,
    pub(crate) max_connections: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_in_flight: usize,
    pub(crate) buffer: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) upstream_connections: usize,
    /// How long an upstream connection may sit with nothing in flight before it is closed.
    pub(crate) upstream_idle_timeout: Duration,
    pub(crate) drain_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_frame: None,
            max_connections: 1024,
            idle_timeout: Duration::from_secs(300),
            max_in_flight: 256,
            buffer: 128,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            upstream_connections: 2,
            // The downstream `idle_timeout` default: one notion of "idle" for both sides.
            upstream_idle_timeout: Duration::from_secs(300),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// What every connection and request task of a proxy can see.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    pub(crate) metrics: Arc<Metrics>,
    /// Properties copied into access log lines.
    pub(crate) access_properties: Vec<String>,
    /// Cancelled when shutdown begins: stop accepting and reading new requests.
    pub(crate) draining: CancellationToken,
    /// Cancelled after draining: upstream connections and the admin server end.
    pub(crate) stop: CancellationToken,
    /// True once every listener is bound and serving.
    pub(crate) ready: AtomicBool,
}

//! The shared runtime proxy: frames any protocol with its codec, routes on decoded
//! metadata by MetaRouter rules, and applies the mesh's traffic policy.
//!
//! Configuration comes from mesh objects (see [`crate::mesh`]): a `Proxy` object's listeners
//! each serve one `ServiceEntry` host and port; the port's `tcp-metaprotocol-<protocol>` name
//! and the `ApplicationProtocol` for that protocol pick the codec from a [`Registry`]; the
//! `MetaRouter` for the host routes requests to destinations whose endpoints come from the
//! `ServiceEntry` and whose subsets and load balancer come from the `DestinationRule`.
//!
//! ```no_run
//! # async fn demo(codec: std::sync::Arc<dyn mproto_runtime::Codec>) -> Result<(), Box<dyn std::error::Error>> {
//! use mproto_runtime::{Registry, mesh::Mesh, proxy::Proxy};
//!
//! let mut registry = Registry::new();
//! registry.register(codec);
//! let mesh = Mesh::load_files(&["mesh.yaml", "endpoints.yaml"])?;
//! let proxy = Proxy::bind(&mesh, &registry).await?;
//! println!("listening on {:?}", proxy.listener_addrs());
//! proxy.run(async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(()) }
//! ```
//!
//! Data path, per downstream connection: frames are split with the codec (bounded by the
//! max frame), decoded, and dispatched by message type. Requests pass the local rate limit,
//! match the first route, pick a weighted destination and an endpoint, and are forwarded over
//! a pooled upstream connection with a fresh request id; the response is mapped back by that
//! id, re-encoded with the downstream id and the response mutation. Oneway requests are
//! forwarded without waiting; heartbeats are answered locally. Failures become the codec's
//! error reply with the request's id.

mod access;
mod admin;
mod balance;
mod build;
mod conn;
mod context;
mod idle;
mod io;
mod limit;
mod listener;
mod metrics;
mod outlier;
mod pool;
mod request;
mod route;
#[cfg(test)]
mod stub;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use crate::codec::Registry;
use crate::mesh::{ConfigErrors, Mesh};

pub use build::Plan;
pub use metrics::{Metrics, Status};

use context::Shared;
use listener::ListenerCtx;

/// A proxy whose sockets are bound, ready to [`run`](Proxy::run).
pub struct Proxy {
    listeners: Vec<(TcpListener, Arc<ListenerCtx>)>,
    admin: Option<TcpListener>,
    shared: Arc<Shared>,
}

/// Why a proxy could not start.
#[derive(Debug)]
pub enum ProxyError {
    /// The configuration is invalid.
    Config(ConfigErrors),
    /// A socket could not be bound.
    Bind {
        /// The address.
        address: SocketAddr,
        /// The system's error.
        source: std::io::Error,
    },
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Config(e) => write!(f, "{e}"),
            ProxyError::Bind { address, source } => write!(f, "cannot bind {address}: {source}"),
        }
    }
}

impl std::error::Error for ProxyError {}

impl From<ConfigErrors> for ProxyError {
    fn from(e: ConfigErrors) -> Self {
        ProxyError::Config(e)
    }
}

impl Proxy {
    /// Loads the YAML files, builds the configuration and binds its sockets.
    pub async fn load<P: AsRef<Path>>(
        paths: &[P],
        registry: &Registry,
    ) -> Result<Proxy, ProxyError> {
        let mesh = Mesh::load_files(paths)?;
        Proxy::bind(&mesh, registry).await
    }

    /// Builds the configuration from `mesh` and binds its sockets.
    pub async fn bind(mesh: &Mesh, registry: &Registry) -> Result<Proxy, ProxyError> {
        Proxy::bind_plan(Plan::build(mesh, registry)?).await
    }

    /// Binds the sockets of a built configuration.
    pub async fn bind_plan(plan: Plan) -> Result<Proxy, ProxyError> {
        let mut listeners = Vec::with_capacity(plan.listeners.len());
        for (address, ctx) in plan.listeners {
            listeners.push((bind(address).await?, ctx));
        }
        let admin = match plan.admin {
            Some(address) => Some(bind(address).await?),
            None => None,
        };
        Ok(Proxy {
            listeners,
            admin,
            shared: plan.shared,
        })
    }

    /// The bound listener addresses, in configuration order (useful with port 0).
    pub fn listener_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|(l, _)| l.local_addr().ok())
            .collect()
    }

    /// The bound admin address, if one is configured.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The proxy's metrics, live.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.shared.metrics.clone()
    }

    /// Serves until `shutdown` completes, then stops accepting, lets requests in flight
    /// finish (up to `drainTimeout`), closes connections and returns.
    pub async fn run<F: Future<Output = ()>>(self, shutdown: F) {
        let shared = self.shared;
        let tracker = TaskTracker::new();
        let connections = Arc::new(Semaphore::new(shared.settings.max_connections));
        if let Some(admin) = self.admin {
            tokio::spawn(admin::serve(admin, shared.clone()));
        }
        for (listener, ctx) in self.listeners {
            tracing::info!(listener = %ctx.name, protocol = %ctx.protocol, address = ?listener.local_addr().ok(), "listening");
            tracker.spawn(listener::accept_loop(
                listener,
                ctx,
                connections.clone(),
                tracker.clone(),
            ));
        }
        tracker.close();
        shared.ready.store(true, Relaxed);
        shutdown.await;
        tracing::info!("shutdown: draining");
        shared.draining.cancel();
        if tokio::time::timeout(shared.settings.drain_timeout, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("drain timeout: closing connections with requests in flight");
        }
        shared.stop.cancel();
        tracing::info!("stopped");
    }
}

async fn bind(address: SocketAddr) -> Result<TcpListener, ProxyError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| ProxyError::Bind { address, source })
}

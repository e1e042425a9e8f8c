//! Clusters (a host, subset and port's endpoints) and the load balancers that pick one.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use crate::metadata::Metadata;
use crate::reply::{ErrorKind, ReplyError};

use super::pool::{Pool, UpstreamConn};

/// How a cluster picks an endpoint.
#[derive(Debug)]
pub(crate) enum Balancer {
    /// Each endpoint in turn.
    RoundRobin(AtomicUsize),
    /// Uniformly at random.
    Random,
    /// The less busy of two random endpoints.
    LeastRequest,
    /// Rendezvous hashing of a metadata property, so a key sticks to an endpoint.
    Hash(String),
}

/// One upstream address, shared by every cluster that contains it.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// `host:port`.
    pub(crate) address: Arc<str>,
    /// Requests in flight, for `LEAST_REQUEST`.
    active: AtomicUsize,
    /// Connections to the endpoint.
    pub(crate) pool: Pool,
}

impl Endpoint {
    /// An endpoint reached through `pool`.
    pub(crate) fn new(pool: Pool) -> Endpoint {
        Endpoint {
            address: pool.address().clone(),
            active: AtomicUsize::new(0),
            pool,
        }
    }
}

/// Counts a request against an endpoint until dropped.
#[derive(Debug)]
pub(crate) struct Active(Arc<Endpoint>);

impl Active {
    fn new(endpoint: Arc<Endpoint>) -> Active {
        endpoint.active.fetch_add(1, Relaxed);
        Active(endpoint)
    }

    /// The endpoint's address.
    pub(crate) fn address(&self) -> &Arc<str> {
        &self.0.address
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Relaxed);
    }
}

/// The endpoints of one destination (host, subset, port) and its balancer.
#[derive(Debug)]
pub(crate) struct Cluster {
    /// `host|subset|port`, for logs.
    pub(crate) name: Arc<str>,
    pub(crate) endpoints: Vec<Arc<Endpoint>>,
    pub(crate) balancer: Balancer,
}

/// Endpoints tried before giving up on a connect failure.
const CONNECT_ATTEMPTS: usize = 3;

impl Cluster {
    /// Picks an endpoint and a connection to it, trying the next endpoints when a connect fails.
    pub(crate) async fn connect(
        &self,
        meta: &Metadata,
    ) -> Result<(Active, Arc<UpstreamConn>), ReplyError> {
        let n = self.endpoints.len();
        let Some(first) = self.pick(meta) else {
            let msg = format!("cluster {} has no endpoints", self.name);
            return Err(ReplyError::new(ErrorKind::NoHealthyUpstream, msg));
        };
        let mut last_error = None;
        for attempt in 0..n.min(CONNECT_ATTEMPTS) {
            let Some(endpoint) = self.endpoints.get((first + attempt) % n) else {
                break;
            };
            match endpoint.pool.get().await {
                Ok(conn) => return Ok((Active::new(endpoint.clone()), conn)),
                Err(e) => last_error = Some(format!("{}: {e}", endpoint.address)),
            }
        }
        let msg = format!(
            "no healthy upstream in {}: {}",
            self.name,
            last_error.unwrap_or_default()
        );
        Err(ReplyError::new(ErrorKind::NoHealthyUpstream, msg))
    }

    /// The index of the endpoint the balancer picks.
    pub(crate) fn pick(&self, meta: &Metadata) -> Option<usize> {
        let n = self.endpoints.len();
        if n <= 1 {
            return (n == 1).then_some(0);
        }
        Some(match &self.balancer {
            Balancer::RoundRobin(next) => next.fetch_add(1, Relaxed) % n,
            Balancer::Random => fastrand::usize(0..n),
            Balancer::LeastRequest => {
                let (a, b) = (fastrand::usize(0..n), fastrand::usize(0..n));
                let load = |i: usize| {
                    self.endpoints
                        .get(i)
                        .map_or(usize::MAX, |e| e.active.load(Relaxed))
                };
                if load(b) < load(a) { b } else { a }
            }
            Balancer::Hash(key) => match meta.get(key) {
                Some(value) => self.rendezvous(&value.to_string()),
                None => fastrand::usize(0..n),
            },
        })
    }

    /// The endpoint with the highest hash of (key, address): stable as endpoints come and go.
    fn rendezvous(&self, key: &str) -> usize {
        let score = |e: &Endpoint| {
            let mut h = DefaultHasher::new();
            key.hash(&mut h);
            e.address.hash(&mut h);
            h.finish()
        };
        (0..self.endpoints.len())
            .max_by_key(|i| self.endpoints.get(*i).map_or(0, |e| score(e)))
            .unwrap_or(0)
    }
}

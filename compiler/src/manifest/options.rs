//! What the manifest generator may be told; every field has a default derived from the schema.

use std::collections::BTreeMap;

/// The port a service listens on when none is given: a free, unprivileged port that no
/// well-known RPC protocol claims (Dubbo's 20880 and Thrift's 9090 are one `--port` away).
pub const DEFAULT_PORT: u16 = 9000;
/// The suffix of the port name when none is given: `tcp-metaprotocol-<protocol>-server`.
pub const DEFAULT_PORT_SUFFIX: &str = "server";
/// The image the gateway Deployment runs when none is given.
pub const DEFAULT_IMAGE: &str = "ghcr.io/mproto/mproto:latest";
/// The namespace when none is given.
pub const DEFAULT_NAMESPACE: &str = "default";
/// The port of the gateway proxy's admin server (`/ready`, `/metrics`).
pub const GATEWAY_ADMIN_PORT: u16 = 15000;
/// Where the gateway's ConfigMap is mounted, and the key of its one file.
pub const GATEWAY_CONFIG_DIR: &str = "/etc/mproto";
/// The ConfigMap key (and file name) of the gateway proxy's configuration.
pub const GATEWAY_CONFIG_FILE: &str = "mesh.yaml";
/// The host the standalone proxy (`--standalone`) listens on and serves its admin on by
/// default: only this machine reaches it until `--listen`/`--admin` say otherwise.
pub const STANDALONE_HOST: &str = "127.0.0.1";
/// The DNS suffix of Kubernetes Services: `<service>.<namespace>.svc.<cluster domain>`.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// How a `ServiceEntry` finds its endpoints (Istio's `resolution`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Use the connection's original destination.
    None,
    /// The endpoints are IP addresses.
    Static,
    /// Resolve endpoint addresses (or, without endpoints, the hosts) by DNS.
    Dns,
    /// Resolve by DNS and use one address at a time.
    DnsRoundRobin,
}

impl Resolution {
    /// Whether addresses are looked up by DNS.
    pub fn by_dns(self) -> bool {
        matches!(self, Resolution::Dns | Resolution::DnsRoundRobin)
    }
}

/// One static endpoint of a `ServiceEntry`: an address and, optionally, its own port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// IP address or DNS name.
    pub address: String,
    /// The endpoint's port when it differs from the target port.
    pub port: Option<u16>,
    /// Labels (matched by `DestinationRule` subsets).
    pub labels: BTreeMap<String, String>,
}

/// A `DestinationRule` subset: a name routes use and the endpoint labels it selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subset {
    /// The subset's name, as in a MetaRouter destination's `subset`.
    pub name: String,
    /// Labels an endpoint must carry to belong to the subset.
    pub labels: BTreeMap<String, String>,
}

/// How the proxy (or Envoy) picks an endpoint of the service: Istio's
/// `trafficPolicy.loadBalancer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadBalancer {
    /// `simple: ROUND_ROBIN`.
    RoundRobin,
    /// `simple: RANDOM`.
    Random,
    /// `simple: LEAST_REQUEST`.
    LeastRequest,
    /// `consistentHash.httpHeaderName`: hash a routable property, so a key sticks to an endpoint.
    Hash(String),
}

/// Options of [`emit_manifests`](super::emit_manifests); `Default` gives every default.
///
/// Unset (`None` or empty) fields are derived: the service is named after the protocol,
/// it selects pods labelled `app: <service>`, and its host is
/// `<service>.<namespace>.svc.cluster.local`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestOptions {
    /// Namespace of every namespaced object (default `default`).
    pub namespace: Option<String>,
    /// Name of the Service or ServiceEntry and MetaRouter (default: the protocol's name).
    pub service: Option<String>,
    /// The service port (default [`DEFAULT_PORT`]).
    pub port: Option<u16>,
    /// The pods' port (default: the service port).
    pub target_port: Option<u16>,
    /// The last part of the port name `tcp-metaprotocol-<protocol>-<suffix>`
    /// (default `server`; `Some("")` leaves it out).
    pub port_suffix: Option<String>,
    /// Emit an Istio `ServiceEntry` instead of a Kubernetes `Service`.
    pub service_entry: bool,
    /// The ServiceEntry's hosts (default: the service's cluster-local name).
    pub hosts: Vec<String>,
    /// The ServiceEntry's resolution (default: `STATIC` for IP endpoints or a workload
    /// selector, `DNS` for named endpoints or none at all).
    pub resolution: Option<Resolution>,
    /// Pod labels the Service (or a ServiceEntry without endpoints) selects (default `app: <service>`).
    pub selector: BTreeMap<String, String>,
    /// Static endpoints of the ServiceEntry (instead of a workload selector).
    pub endpoints: Vec<Endpoint>,
    /// `DestinationRule` subsets, in order (any subset or a load balancer emits the rule).
    pub subsets: Vec<Subset>,
    /// The `DestinationRule`'s load balancer for the whole host.
    pub load_balancer: Option<LoadBalancer>,
    /// Emit real example routes that match on the schema's routable properties (otherwise
    /// they are written as comments above the MetaRouter).
    pub example_routes: bool,
    /// Also emit a Deployment, ConfigMap and Service that run `mproto proxy` as a gateway.
    pub gateway: bool,
    /// The gateway's container image (default [`DEFAULT_IMAGE`]).
    pub image: Option<String>,
    /// The gateway's replica count (default 1).
    pub replicas: Option<u16>,
    /// Also emit a `Proxy` object, so that `mproto proxy --config` runs the output as it is
    /// (needs a ServiceEntry with endpoints, or DNS resolution; not with `gateway`).
    pub standalone: bool,
    /// The standalone proxy's listener, an `IP:PORT` socket address
    /// (default `127.0.0.1:<port>`).
    pub listen: Option<String>,
    /// The standalone proxy's admin server, an `IP:PORT` socket address
    /// (default `127.0.0.1:15000`).
    pub admin: Option<String>,
}

impl ManifestOptions {
    /// All defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The namespace, or the default.
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE)
    }

    /// The service name, or the protocol's name.
    pub fn service<'a>(&'a self, protocol: &'a str) -> &'a str {
        self.service.as_deref().unwrap_or(protocol)
    }

    /// The service port, or [`DEFAULT_PORT`].
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_PORT)
    }

    /// The pods' port, or the service port.
    pub fn target_port(&self) -> u16 {
        self.target_port.unwrap_or_else(|| self.port())
    }

    /// The port name suffix, or [`DEFAULT_PORT_SUFFIX`].
    pub fn port_suffix(&self) -> &str {
        self.port_suffix.as_deref().unwrap_or(DEFAULT_PORT_SUFFIX)
    }

    /// The gateway image, or [`DEFAULT_IMAGE`].
    pub fn image(&self) -> &str {
        self.image.as_deref().unwrap_or(DEFAULT_IMAGE)
    }

    /// The gateway replica count, or 1.
    pub fn replicas(&self) -> u16 {
        self.replicas.unwrap_or(1)
    }

    /// The standalone proxy's listener address, or [`STANDALONE_HOST`] on the service port.
    pub fn listen(&self) -> String {
        self.listen
            .clone()
            .unwrap_or_else(|| format!("{STANDALONE_HOST}:{}", self.port()))
    }

    /// The standalone proxy's admin address, or [`STANDALONE_HOST`] on [`GATEWAY_ADMIN_PORT`].
    pub fn admin(&self) -> String {
        self.admin
            .clone()
            .unwrap_or_else(|| format!("{STANDALONE_HOST}:{GATEWAY_ADMIN_PORT}"))
    }
}

//! Istio's `ServiceEntry` and `DestinationRule` (`networking.istio.io`) and Kubernetes'
//! `Service`, with the fields a MetaProtocol proxy uses. Unknown fields are ignored so
//! that real Istio objects load.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::objects::{Kind, Resource, null_as_default};

/// A `ServiceEntry` object.
pub type ServiceEntry = Resource<ServiceEntrySpec>;
/// A `DestinationRule` object.
pub type DestinationRule = Resource<DestinationRuleSpec>;
/// A Kubernetes `Service` object.
pub type Service = Resource<ServiceSpec>;
/// A `WorkloadEntry` object: an endpoint that `ServiceEntry`s select by `workloadSelector`.
pub type WorkloadEntryObject = Resource<WorkloadEntry>;

/// A service in the registry: its hosts, ports and (for a standalone run) endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEntrySpec {
    /// Host names of the service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Virtual IPs of the service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// Ports; a `tcp-metaprotocol-<protocol>` name selects the protocol.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ServicePort>,
    /// Whether the service is inside or outside the mesh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// How endpoints are found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// The service's endpoints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<WorkloadEntry>,
    /// Selects workloads by label in a cluster (not used by a standalone proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_selector: Option<WorkloadSelector>,
    /// Namespaces the object is exported to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export_to: Vec<String>,
}

impl Kind for ServiceEntrySpec {
    const KIND: &'static str = "ServiceEntry";
    const API_VERSION: &'static str = "networking.istio.io/v1alpha3";
    const GROUP: &'static str = "networking.istio.io";
}

/// A port of a `ServiceEntry`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    /// The port number.
    pub number: u32,
    /// The port's name, e.g. `tcp-metaprotocol-dubbo`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The transport protocol, e.g. `TCP`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub protocol: String,
    /// The endpoints' port when it differs from `number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u32>,
}

/// Where a `ServiceEntry`'s service lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Location {
    /// Outside the mesh.
    MeshExternal,
    /// Inside the mesh.
    MeshInternal,
}

/// How a `ServiceEntry`'s endpoints are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Resolution {
    /// Use the destination address of the connection.
    None,
    /// Use the listed endpoint addresses.
    Static,
    /// Resolve endpoint addresses (or the hosts) by DNS.
    Dns,
    /// Resolve by DNS, using one address at a time.
    DnsRoundRobin,
}

/// One endpoint of a service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadEntry {
    /// IP address or DNS name.
    pub address: String,
    /// Port overrides by service port name.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub ports: BTreeMap<String, u32>,
    /// Labels, matched by `DestinationRule` subsets.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Relative load-balancing weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
}

impl Kind for WorkloadEntry {
    const KIND: &'static str = "WorkloadEntry";
    const API_VERSION: &'static str = "networking.istio.io/v1alpha3";
    const GROUP: &'static str = "networking.istio.io";
}

/// Selects workloads by labels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSelector {
    /// Labels a workload must carry.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
}

/// Subsets of a host and how traffic to it is balanced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationRuleSpec {
    /// The host the rule applies to.
    pub host: String,
    /// Policy for the whole host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<TrafficPolicy>,
    /// Named groups of endpoints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subsets: Vec<Subset>,
    /// Namespaces the object is exported to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export_to: Vec<String>,
}

impl Kind for DestinationRuleSpec {
    const KIND: &'static str = "DestinationRule";
    const API_VERSION: &'static str = "networking.istio.io/v1alpha3";
    const GROUP: &'static str = "networking.istio.io";
}

/// A named group of a host's endpoints, selected by labels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subset {
    /// The subset's name, as in a route's `destination.subset`.
    pub name: String,
    /// Labels an endpoint must carry to belong to the subset.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Policy for this subset, overriding the host's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<TrafficPolicy>,
}

/// Traffic policy; load balancing and outlier detection are used by the proxy, other
/// fields (connection pools, TLS, ...) are ignored like any unknown field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficPolicy {
    /// How an endpoint is picked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancerSettings>,
    /// When an endpoint is ejected for failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<OutlierDetection>,
}

/// Passive health checking: endpoints that fail in a row are ejected for a while. Other
/// Istio fields (`minHealthPercent`, `splitExternalLocalOriginErrors`, ...) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutlierDetection {
    /// Gateway errors in a row that eject an endpoint; 0 or absent: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_gateway_errors: Option<u32>,
    /// Errors (gateway errors or error responses) in a row that eject; default 5, 0: off.
    #[serde(
        default,
        rename = "consecutive5xxErrors",
        skip_serializing_if = "Option::is_none"
    )]
    pub consecutive_5xx_errors: Option<u32>,
    /// Envoy's sweep interval (default `10s`); validated, but ejections end lazily.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// How long a first ejection lasts (default `30s`); the n-th lasts n times as long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_ejection_time: Option<String>,
    /// Most endpoints of a cluster ejected at once, in percent (default 10); one always may be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ejection_percent: Option<u32>,
}

/// A simple balancer or a consistent hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerSettings {
    /// A simple balancer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simple: Option<SimpleLb>,
    /// Hash a request attribute to pick an endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistent_hash: Option<ConsistentHash>,
}

/// Istio's simple load balancers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SimpleLb {
    /// The default: round robin.
    Unspecified,
    /// Each endpoint in turn.
    RoundRobin,
    /// The endpoint with fewer requests of two picked at random.
    LeastRequest,
    /// Deprecated name of `LEAST_REQUEST`.
    LeastConn,
    /// A random endpoint.
    Random,
    /// The connection's original destination (treated as round robin).
    Passthrough,
}

/// Consistent hashing on a request attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsistentHash {
    /// The metadata property to hash (MetaProtocol reuses the HTTP header field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_header_name: Option<String>,
}

/// A Kubernetes `Service`: ports and the pods it selects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// Ports of the service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<KubePort>,
    /// Pod labels the service selects.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub selector: BTreeMap<String, String>,
    /// `ClusterIP`, `NodePort`, `LoadBalancer` or `ExternalName`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

impl Kind for ServiceSpec {
    const KIND: &'static str = "Service";
    const API_VERSION: &'static str = "v1";
    const GROUP: &'static str = "";
}

/// A port of a Kubernetes `Service`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubePort {
    /// The port's name, e.g. `tcp-metaprotocol-dubbo-server`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The service port.
    pub port: u32,
    /// The pods' port: a number or a named container port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<IntOrString>,
    /// `TCP`, `UDP` or `SCTP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// The application protocol hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

/// A Kubernetes value that is a number or a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    /// A number.
    Int(u32),
    /// A name.
    String(String),
}

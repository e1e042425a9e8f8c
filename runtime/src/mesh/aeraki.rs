//! Aeraki's MetaProtocol objects (`metaprotocol.aeraki.io/v1alpha1`): `ApplicationProtocol`
//! and `MetaRouter`, field for field as in the CRDs' openAPIV3Schema.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::objects::{Kind, Resource, is_false};

/// An `ApplicationProtocol` object.
pub type ApplicationProtocol = Resource<ApplicationProtocolSpec>;
/// A `MetaRouter` object.
pub type MetaRouter = Resource<MetaRouterSpec>;

/// Names the codec that frames a protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationProtocolSpec {
    /// The protocol's name, as in `tcp-metaprotocol-<protocol>` port names.
    pub protocol: String,
    /// The codec's name, e.g. `aeraki.meta_protocol.codec.dubbo`.
    pub codec: String,
}

impl Kind for ApplicationProtocolSpec {
    const KIND: &'static str = "ApplicationProtocol";
    const API_VERSION: &'static str = "metaprotocol.aeraki.io/v1alpha1";
    const GROUP: &'static str = "metaprotocol.aeraki.io";
}

/// Route policies for the MetaProtocol traffic sent to `hosts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetaRouterSpec {
    /// The destination services whose traffic these routes govern.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Gateways and sidecars that apply the routes (not used by a standalone proxy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gateways: Vec<String>,
    /// Namespaces the object is exported to (not used by a standalone proxy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export_to: Vec<String>,
    /// Ordered route rules; the first that matches wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<MetaRoute>,
    /// A token-bucket rate limit applied before routing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_rate_limit: Option<LocalRateLimit>,
    /// A rate limit enforced by an external service (parsed, not enforced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_rate_limit: Option<GlobalRateLimit>,
}

impl Kind for MetaRouterSpec {
    const KIND: &'static str = "MetaRouter";
    const API_VERSION: &'static str = "metaprotocol.aeraki.io/v1alpha1";
    const GROUP: &'static str = "metaprotocol.aeraki.io";
}

/// One route rule: a match, where to send, and what to change on the way.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetaRoute {
    /// The route's name, for logs and metrics.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Conditions on the request's metadata; absent matches everything.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_: Option<MetaRouteMatch>,
    /// Weighted destinations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<MetaRouteDestination>,
    /// Properties set on each request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_mutation: Vec<KeyValue>,
    /// Properties set on each response.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_mutation: Vec<KeyValue>,
    /// Where a copy of each request goes (responses dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<Destination>,
    /// The share of requests mirrored; absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror_percentage: Option<Percent>,
    /// mproto extension: how long to wait for the upstream's response, e.g. `5s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// Conditions on metadata attributes; all must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetaRouteMatch {
    /// Attribute name to condition; an empty condition checks presence.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, StringMatch>,
}

/// How an attribute's value is matched: exactly one of the fields, or none for presence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StringMatch {
    /// The value equals this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    /// The value starts with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The whole value matches this RE2-style regex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// A destination and its share of the route's traffic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetaRouteDestination {
    /// Where to send.
    pub destination: Destination,
    /// Relative weight; absent counts as equal shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
}

/// A service (and optionally a subset and port) in the registry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Destination {
    /// A host of a `ServiceEntry`.
    pub host: String,
    /// A subset defined by a `DestinationRule` for the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
    /// The port on the host; absent means the listener's port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<PortSelector>,
}

/// Selects a port by number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortSelector {
    /// The port number.
    pub number: u32,
}

/// A property to set: `key` gets `value`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyValue {
    /// Property name.
    pub key: String,
    /// Property value.
    pub value: String,
}

/// A percentage, 0.0 to 100.0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Percent {
    /// The percentage.
    pub value: f64,
}

/// A local token-bucket rate limit with more specific per-condition buckets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalRateLimit {
    /// The bucket for requests that match no condition; absent means unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_bucket: Option<TokenBucket>,
    /// Specific buckets; the first condition that matches is used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<RateLimitCondition>,
}

/// A bucket that applies to requests matching `match`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimitCondition {
    /// Conditions on the request's attributes.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_: Option<MetaRouteMatch>,
    /// The bucket for matching requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_bucket: Option<TokenBucket>,
}

/// A token bucket: `maxTokens` capacity, refilled by `tokensPerFill` every `fillInterval`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenBucket {
    /// How often tokens are added, e.g. `60s`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fill_interval: String,
    /// The bucket's capacity (it starts full).
    #[serde(default)]
    pub max_tokens: u32,
    /// Tokens added per interval; absent means 1, as in Envoy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_fill: Option<u32>,
}

/// A rate limit enforced by an external rate limit service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GlobalRateLimit {
    /// The rate limit domain.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub domain: String,
    /// Requests the limit applies to.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_: Option<MetaRouteMatch>,
    /// The cluster of the rate limit service.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rate_limit_service: String,
    /// Timeout of the call to the service, e.g. `100ms`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub request_timeout: String,
    /// Reject requests when the service cannot be reached.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deny_on_fail: bool,
    /// Descriptors sent to the service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub descriptors: Vec<RateLimitDescriptor>,
}

/// Maps a request property to a rate limit descriptor key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimitDescriptor {
    /// The request property.
    pub property: String,
    /// The descriptor key.
    pub descriptor_key: String,
}

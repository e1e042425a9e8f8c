//! An emitted object: a typed body (k8s-openapi for core kinds, the runtime's mesh models
//! for Aeraki, Istio and mproto kinds) and the comment lines written above it.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use mproto_runtime::mesh;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// One emitted object and the comment written above it.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Lines written as `# …` comments above the object in YAML (not part of the object).
    pub comment: Vec<String>,
    /// The object itself.
    pub body: Body,
}

/// The typed object; serializes to exactly what `kubectl apply` and `mproto proxy` read.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Aeraki `ApplicationProtocol` (cluster-scoped).
    ApplicationProtocol(mesh::ApplicationProtocol),
    /// Kubernetes `Service`.
    Service(Box<Service>),
    /// Istio `ServiceEntry`.
    ServiceEntry(mesh::ServiceEntry),
    /// Istio `DestinationRule` (subsets and load balancer of the service's host).
    DestinationRule(mesh::DestinationRule),
    /// Aeraki `MetaRouter`.
    MetaRouter(mesh::MetaRouter),
    /// Kubernetes `ConfigMap` (the gateway proxy's configuration).
    ConfigMap(Box<ConfigMap>),
    /// Kubernetes `Deployment` (the gateway proxy).
    Deployment(Box<Deployment>),
    /// mproto `Proxy` (not a cluster object: inside the gateway's ConfigMap, or beside the
    /// mesh objects with `standalone`).
    Proxy(mesh::Proxy),
}

impl Object {
    /// An object without a comment.
    pub fn new(body: Body) -> Self {
        Object {
            comment: Vec::new(),
            body,
        }
    }

    /// The object's `kind`.
    pub fn kind(&self) -> &'static str {
        match &self.body {
            Body::ApplicationProtocol(_) => "ApplicationProtocol",
            Body::Service(_) => "Service",
            Body::ServiceEntry(_) => "ServiceEntry",
            Body::DestinationRule(_) => "DestinationRule",
            Body::MetaRouter(_) => "MetaRouter",
            Body::ConfigMap(_) => "ConfigMap",
            Body::Deployment(_) => "Deployment",
            Body::Proxy(_) => "Proxy",
        }
    }

    /// The object's `metadata.name`.
    pub fn name(&self) -> &str {
        match &self.body {
            Body::ApplicationProtocol(o) => &o.metadata.name,
            Body::ServiceEntry(o) => &o.metadata.name,
            Body::DestinationRule(o) => &o.metadata.name,
            Body::MetaRouter(o) => &o.metadata.name,
            Body::Proxy(o) => &o.metadata.name,
            Body::Service(o) => k8s_name(&o.metadata),
            Body::ConfigMap(o) => k8s_name(&o.metadata),
            Body::Deployment(o) => k8s_name(&o.metadata),
        }
    }

    /// The object as a JSON value, as validators see it.
    pub fn to_json(&self) -> serde_json::Value {
        // Every body is plain data with string keys: serializing it cannot fail.
        serde_json::to_value(&self.body).unwrap_or_default()
    }
}

fn k8s_name(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or_default()
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Body::ApplicationProtocol(o) => o.serialize(s),
            Body::Service(o) => envelope_first(o, s),
            Body::ServiceEntry(o) => o.serialize(s),
            Body::DestinationRule(o) => o.serialize(s),
            Body::MetaRouter(o) => o.serialize(s),
            Body::ConfigMap(o) => envelope_first(o, s),
            Body::Deployment(o) => envelope_first(o, s),
            Body::Proxy(o) => o.serialize(s),
        }
    }
}

/// k8s-openapi writes fields alphabetically; people read `apiVersion`, `kind` and
/// `metadata` first (and not after a ConfigMap's data), so those lead.
fn envelope_first<T: Serialize, S: Serializer>(object: &T, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Envelope {
        api_version: Value,
        kind: Value,
        metadata: Value,
        #[serde(flatten)]
        rest: Map<String, Value>,
    }
    let mut rest = match serde_json::to_value(object).map_err(serde::ser::Error::custom)? {
        Value::Object(map) => map,
        _ => return Err(serde::ser::Error::custom("a Kubernetes object is a map")),
    };
    let mut take = |key: &str| rest.remove(key).unwrap_or(Value::Null);
    let envelope = Envelope {
        api_version: take("apiVersion"),
        kind: take("kind"),
        metadata: take("metadata"),
        rest,
    };
    envelope.serialize(s)
}

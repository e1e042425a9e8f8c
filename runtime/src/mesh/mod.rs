//! Typed models of the mesh objects that configure the proxy, and their YAML loader.
//!
//! The models follow Aeraki's CRDs (`ApplicationProtocol`, `MetaRouter`) and Istio's
//! (`ServiceEntry`, `DestinationRule`) field for field, so the manifests a user would
//! `kubectl apply` load unchanged; mproto adds a small `Proxy` object for a standalone
//! run. Every type is `Serialize + Deserialize` and skips empty fields when written, so a
//! manifest generator can build objects with these types too.
//!
//! ```
//! use mproto_runtime::mesh::Mesh;
//!
//! let mesh = Mesh::load_str("inline.yaml", r#"
//! apiVersion: metaprotocol.aeraki.io/v1alpha1
//! kind: ApplicationProtocol
//! metadata: { name: dubbo }
//! spec: { protocol: dubbo, codec: aeraki.meta_protocol.codec.dubbo }
//! ---
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: { name: ignored }
//! "#).unwrap();
//! assert_eq!(mesh.application_protocols[0].object.spec.protocol, "dubbo");
//! assert_eq!(mesh.skipped.len(), 1);
//! ```

pub mod aeraki;
mod check;
pub mod duration;
pub mod error;
pub mod istio;
pub mod load;
pub mod objects;
pub mod proxy;

pub use aeraki::{
    ApplicationProtocol, ApplicationProtocolSpec, Destination, GlobalRateLimit, KeyValue,
    LocalRateLimit, MetaRoute, MetaRouteDestination, MetaRouteMatch, MetaRouter, MetaRouterSpec,
    Percent, PortSelector, RateLimitCondition, RateLimitDescriptor, StringMatch, TokenBucket,
};
#[cfg(feature = "proxy")]
pub(crate) use check::compile_regex;
pub use duration::parse_duration;
pub use error::{ConfigError, ConfigErrors};
pub use istio::{
    ConsistentHash, DestinationRule, DestinationRuleSpec, IntOrString, KubePort,
    LoadBalancerSettings, Location, OutlierDetection, Resolution, Service, ServiceEntry,
    ServiceEntrySpec, ServicePort, ServiceSpec, SimpleLb, Subset, TrafficPolicy, WorkloadEntry,
    WorkloadEntryObject, WorkloadSelector,
};
pub use load::{Loaded, Mesh, Source};
pub use objects::{Kind, ObjectId, ObjectMeta, Resource};
pub use proxy::{AccessLog, Admin, Limits, Listener, Proxy, ProxySpec};

//! Builds the mesh objects of a checked [`Plan`]: ApplicationProtocol, Service or
//! ServiceEntry, and MetaRouter; and the `Proxy` object that `mproto proxy` reads.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use mproto_runtime::mesh::{self, Resource};

use super::object::{Body, Object};
use super::options::{LoadBalancer, Resolution};
use super::plan::{Plan, StandalonePlan};
use super::routes;

/// The ApplicationProtocol: cluster-scoped, named after the protocol.
pub(crate) fn application_protocol(plan: &Plan) -> mesh::ApplicationProtocol {
    Resource::new(
        plan.protocol.clone(),
        mesh::ApplicationProtocolSpec {
            protocol: plan.protocol.clone(),
            codec: plan.codec.clone(),
        },
    )
}

/// Kubernetes object metadata with a name and namespace.
pub(crate) fn k8s_meta(name: &str, namespace: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        ..ObjectMeta::default()
    }
}

/// A Kubernetes Service selecting `selector`, with one TCP port named `port_name`.
pub(crate) fn k8s_service(
    name: &str,
    namespace: &str,
    selector: &BTreeMap<String, String>,
    port: (&str, u16, IntOrString),
) -> core::Service {
    let (port_name, number, target) = port;
    core::Service {
        metadata: k8s_meta(name, namespace),
        spec: Some(core::ServiceSpec {
            selector: Some(selector.clone()),
            ports: Some(vec![core::ServicePort {
                name: Some(port_name.to_owned()),
                port: i32::from(number),
                target_port: Some(target),
                protocol: Some("TCP".to_owned()),
                ..core::ServicePort::default()
            }]),
            ..core::ServiceSpec::default()
        }),
        ..core::Service::default()
    }
}

/// The protocol's Kubernetes Service.
fn service(plan: &Plan) -> core::Service {
    let target = IntOrString::Int(i32::from(plan.target_port));
    k8s_service(
        &plan.service,
        &plan.namespace,
        &plan.selector,
        (&plan.port_name, plan.port, target),
    )
}

/// The protocol's ServiceEntry (also what the gateway proxy reads for its upstream).
pub(crate) fn service_entry(plan: &Plan) -> mesh::ServiceEntry {
    let selector = plan.workload_selector();
    let mut entry = Resource::new(
        plan.service.clone(),
        mesh::ServiceEntrySpec {
            hosts: plan.hosts.clone(),
            ports: vec![mesh::ServicePort {
                number: u32::from(plan.port),
                name: plan.port_name.clone(),
                protocol: "TCP".to_owned(),
                target_port: (plan.target_port != plan.port).then_some(u32::from(plan.target_port)),
            }],
            // Istio applies a workload selector to mesh-internal services only.
            location: selector.then_some(mesh::Location::MeshInternal),
            resolution: Some(resolution(plan.resolution)),
            endpoints: plan.endpoints.iter().map(|e| endpoint(plan, e)).collect(),
            workload_selector: selector.then(|| mesh::WorkloadSelector {
                labels: plan.selector.clone(),
            }),
            ..mesh::ServiceEntrySpec::default()
        },
    );
    entry.metadata.namespace = plan.namespace.clone();
    entry
}

fn resolution(r: Resolution) -> mesh::Resolution {
    match r {
        Resolution::None => mesh::Resolution::None,
        Resolution::Static => mesh::Resolution::Static,
        Resolution::Dns => mesh::Resolution::Dns,
        Resolution::DnsRoundRobin => mesh::Resolution::DnsRoundRobin,
    }
}

fn endpoint(plan: &Plan, e: &super::options::Endpoint) -> mesh::WorkloadEntry {
    mesh::WorkloadEntry {
        address: e.address.clone(),
        // Endpoint ports are keyed by the service port's name.
        ports: e
            .port
            .map(|p| BTreeMap::from([(plan.port_name.clone(), u32::from(p))]))
            .unwrap_or_default(),
        labels: e.labels.clone(),
        weight: None,
    }
}

/// The DestinationRule for the service's host: its subsets, in order, and the load balancer.
pub(crate) fn destination_rule(plan: &Plan) -> mesh::DestinationRule {
    let load_balancer = plan.load_balancer.as_ref().map(|lb| {
        let simple = |s| mesh::LoadBalancerSettings {
            simple: Some(s),
            ..mesh::LoadBalancerSettings::default()
        };
        match lb {
            LoadBalancer::RoundRobin => simple(mesh::SimpleLb::RoundRobin),
            LoadBalancer::Random => simple(mesh::SimpleLb::Random),
            LoadBalancer::LeastRequest => simple(mesh::SimpleLb::LeastRequest),
            LoadBalancer::Hash(property) => mesh::LoadBalancerSettings {
                consistent_hash: Some(mesh::ConsistentHash {
                    http_header_name: Some(property.clone()),
                }),
                ..mesh::LoadBalancerSettings::default()
            },
        }
    });
    let mut rule = Resource::new(
        plan.service.clone(),
        mesh::DestinationRuleSpec {
            host: plan.host().to_owned(),
            traffic_policy: load_balancer.map(|lb| mesh::TrafficPolicy {
                load_balancer: Some(lb),
                ..mesh::TrafficPolicy::default()
            }),
            subsets: plan
                .subsets
                .iter()
                .map(|s| mesh::Subset {
                    name: s.name.clone(),
                    labels: s.labels.clone(),
                    traffic_policy: None,
                })
                .collect(),
            ..mesh::DestinationRuleSpec::default()
        },
    );
    rule.metadata.namespace = plan.namespace.clone();
    rule
}

/// The MetaRouter: example routes (when asked for) and a default route to the service.
pub(crate) fn meta_router(plan: &Plan) -> mesh::MetaRouter {
    let mut routes = if plan.example_routes {
        routes::example_routes(plan)
    } else {
        Vec::new()
    };
    routes.push(routes::default_route(plan));
    let mut router = Resource::new(
        plan.service.clone(),
        mesh::MetaRouterSpec {
            hosts: vec![plan.host().to_owned()],
            routes,
            ..mesh::MetaRouterSpec::default()
        },
    );
    router.metadata.namespace = plan.namespace.clone();
    router
}

/// The mesh objects in apply order, the MetaRouter with its comment.
pub(crate) fn mesh_objects(plan: &Plan) -> Vec<Object> {
    let registry = if plan.service_entry {
        Body::ServiceEntry(service_entry(plan))
    } else {
        Body::Service(Box::new(service(plan)))
    };
    let mut objects = vec![
        Object::new(Body::ApplicationProtocol(application_protocol(plan))),
        Object::new(registry),
    ];
    if plan.destination_rule() {
        objects.push(Object::new(Body::DestinationRule(destination_rule(plan))));
    }
    objects.push(Object {
        comment: routes::comment(plan),
        body: Body::MetaRouter(meta_router(plan)),
    });
    objects
}

/// mproto's `Proxy` object for the plan's service: one listener on `listen` for the
/// service's host and port, the admin server on `admin`, and an access log of the routable
/// properties. The gateway puts it in its ConfigMap; `--standalone` beside the mesh objects.
pub(crate) fn proxy(plan: &Plan, name: &str, listen: &str, admin: &str) -> mesh::Proxy {
    let mut proxy = Resource::new(
        name.to_owned(),
        mesh::ProxySpec {
            listeners: vec![mesh::Listener {
                name: plan.service.clone(),
                address: listen.to_owned(),
                host: plan.host().to_owned(),
                port: u32::from(plan.port),
                protocol: None,
            }],
            admin: Some(mesh::Admin {
                address: admin.to_owned(),
            }),
            access_log: (!plan.property_keys.is_empty()).then(|| mesh::AccessLog {
                properties: plan.property_keys.clone(),
            }),
            ..mesh::ProxySpec::default()
        },
    );
    proxy.metadata.namespace = plan.namespace.clone();
    proxy
}

/// The standalone proxy's `Proxy` object, named after the service, with a comment that says
/// how to run it.
pub(crate) fn standalone_proxy(plan: &Plan, standalone: &StandalonePlan) -> Object {
    let proxy = proxy(
        plan,
        &plan.service,
        &standalone.listen.to_string(),
        &standalone.admin.to_string(),
    );
    Object {
        comment: vec![
            "Run with `mproto proxy --config FILE` (mproto's own object, not for a cluster):"
                .to_owned(),
            format!(
                "listens on {} for {}:{}, admin (/ready, /metrics) on http://{}.",
                standalone.listen,
                plan.host(),
                plan.port,
                standalone.admin
            ),
        ],
        body: Body::Proxy(proxy),
    }
}

//! The gateway: a Deployment running `mproto proxy`, the ConfigMap that configures it with
//! the same objects, and a Service in front of it.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use mproto_runtime::mesh;

use super::emit::{self, k8s_meta};
use super::names;
use super::object::{Body, Object};
use super::options::{GATEWAY_ADMIN_PORT, GATEWAY_CONFIG_DIR, GATEWAY_CONFIG_FILE, Resolution};
use super::plan::{GatewayPlan, Plan};
use super::render::render_yaml;

/// The named container port of the proxy's listener (container port names: 15 characters).
const PROXY_PORT_NAME: &str = "proxy";
/// The named container port of the proxy's admin server.
const ADMIN_PORT_NAME: &str = "admin";
/// The pod annotation that carries a hash of the configuration, so a change rolls the pods.
const CONFIG_HASH_ANNOTATION: &str = "mproto.io/config-hash";

/// The gateway's ConfigMap, Deployment and Service.
pub(crate) fn gateway_objects(plan: &Plan, gw: &GatewayPlan) -> Vec<Object> {
    let config = render_yaml(&config_objects(plan, gw));
    let hash = format!("{:016x}", fnv1a(config.as_bytes()));
    vec![
        Object::new(Body::ConfigMap(Box::new(config_map(plan, gw, config)))),
        Object::new(Body::Deployment(Box::new(deployment(plan, gw, &hash)))),
        Object::new(Body::Service(Box::new(service(plan, gw)))),
    ]
}

/// What the proxy reads: the ApplicationProtocol, its upstream, the DestinationRule (if
/// any), the MetaRouter and a Proxy.
pub(crate) fn config_objects(plan: &Plan, gw: &GatewayPlan) -> Vec<Object> {
    let mut objects = vec![
        Object::new(Body::ApplicationProtocol(emit::application_protocol(plan))),
        Object::new(Body::ServiceEntry(upstream(plan))),
    ];
    if plan.destination_rule() {
        let rule = emit::destination_rule(plan);
        objects.push(Object::new(Body::DestinationRule(rule)));
    }
    objects.push(Object::new(Body::MetaRouter(emit::meta_router(plan))));
    objects.push(proxy_object(plan, gw));
    objects
}

/// The ServiceEntry the proxy forwards to: the given one, or (behind a Kubernetes
/// Service) a DNS entry for the Service's cluster-local name, which the proxy resolves.
fn upstream(plan: &Plan) -> mesh::ServiceEntry {
    if plan.service_entry {
        return emit::service_entry(plan);
    }
    // Through the Service's cluster IP, so the service port, not the pods' port.
    let dns = Plan {
        resolution: Resolution::Dns,
        endpoints: Vec::new(),
        target_port: plan.port,
        ..plan.clone()
    };
    emit::service_entry(&dns)
}

/// The `Proxy` object, serialized by hand into the config: it is not a cluster object.
fn proxy_object(plan: &Plan, gw: &GatewayPlan) -> Object {
    // The kubelet probes `/ready` from outside the pod, and clients come through the Service.
    let proxy = emit::proxy(
        plan,
        &gw.name,
        &format!("0.0.0.0:{}", plan.port),
        &format!("0.0.0.0:{GATEWAY_ADMIN_PORT}"),
    );
    Object::new(Body::Proxy(proxy))
}

fn labels(gw: &GatewayPlan) -> BTreeMap<String, String> {
    BTreeMap::from([("app".to_owned(), gw.name.clone())])
}

fn config_map(plan: &Plan, gw: &GatewayPlan, config: String) -> core::ConfigMap {
    core::ConfigMap {
        metadata: k8s_meta(&gw.name, &plan.namespace),
        data: Some(BTreeMap::from([(GATEWAY_CONFIG_FILE.to_owned(), config)])),
        ..core::ConfigMap::default()
    }
}

fn deployment(plan: &Plan, gw: &GatewayPlan, hash: &str) -> Deployment {
    let annotations = BTreeMap::from([
        (CONFIG_HASH_ANNOTATION.to_owned(), hash.to_owned()),
        // The gateway is the protocol-aware hop itself; a sidecar would be a second one.
        ("sidecar.istio.io/inject".to_owned(), "false".to_owned()),
    ]);
    Deployment {
        metadata: ObjectMeta {
            labels: Some(labels(gw)),
            ..k8s_meta(&gw.name, &plan.namespace)
        },
        spec: Some(DeploymentSpec {
            replicas: Some(i32::from(gw.replicas)),
            selector: LabelSelector {
                match_labels: Some(labels(gw)),
                ..LabelSelector::default()
            },
            template: core::PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(gw)),
                    annotations: Some(annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod(plan, gw)),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

fn pod(plan: &Plan, gw: &GatewayPlan) -> core::PodSpec {
    let volume = "config".to_owned();
    core::PodSpec {
        containers: vec![container(plan, gw, &volume)],
        volumes: Some(vec![core::Volume {
            name: volume,
            config_map: Some(core::ConfigMapVolumeSource {
                name: gw.name.clone(),
                ..core::ConfigMapVolumeSource::default()
            }),
            ..core::Volume::default()
        }]),
        ..core::PodSpec::default()
    }
}

fn container(plan: &Plan, gw: &GatewayPlan, volume: &str) -> core::Container {
    let port = |name: &str, number: u16| core::ContainerPort {
        name: Some(name.to_owned()),
        container_port: i32::from(number),
        protocol: Some("TCP".to_owned()),
        ..core::ContainerPort::default()
    };
    core::Container {
        name: "mproto".to_owned(),
        image: Some(gw.image.clone()),
        args: Some(vec![
            "proxy".to_owned(),
            "--config".to_owned(),
            format!("{GATEWAY_CONFIG_DIR}/{GATEWAY_CONFIG_FILE}"),
        ]),
        ports: Some(vec![
            port(PROXY_PORT_NAME, plan.port),
            port(ADMIN_PORT_NAME, GATEWAY_ADMIN_PORT),
        ]),
        readiness_probe: Some(core::Probe {
            http_get: Some(core::HTTPGetAction {
                path: Some("/ready".to_owned()),
                port: IntOrString::String(ADMIN_PORT_NAME.to_owned()),
                ..core::HTTPGetAction::default()
            }),
            ..core::Probe::default()
        }),
        volume_mounts: Some(vec![core::VolumeMount {
            name: volume.to_owned(),
            mount_path: GATEWAY_CONFIG_DIR.to_owned(),
            read_only: Some(true),
            ..core::VolumeMount::default()
        }]),
        ..core::Container::default()
    }
}

/// The gateway's Service; its port follows the convention so meshed clients speak the protocol.
fn service(plan: &Plan, gw: &GatewayPlan) -> core::Service {
    let port_name = names::port_name(&plan.protocol, "gateway");
    let target = IntOrString::String(PROXY_PORT_NAME.to_owned());
    emit::k8s_service(
        &gw.name,
        &plan.namespace,
        &labels(gw),
        (&port_name, plan.port, target),
    )
}

/// 64-bit FNV-1a: a stable hash that needs no dependency (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

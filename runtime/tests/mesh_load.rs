//! Loading mesh objects: Aeraki's real manifests, error messages, and serialization.
#![cfg(feature = "mesh")]

use std::path::PathBuf;

use mproto_runtime::mesh::{
    Destination, KeyValue, Limits, Listener, Mesh, MetaRoute, MetaRouteDestination, MetaRouter,
    MetaRouterSpec, Proxy, ProxySpec, Resolution, SimpleLb,
};

fn reference_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/aeraki");
    assert!(
        dir.is_dir(),
        "missing {}: shared/ must sit beside the repository",
        dir.display()
    );
    dir
}

fn dubbo_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(reference_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("dubbo-") && name.ends_with(".yaml")
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_dubbo_manifest_loads_unchanged() {
    let files = dubbo_files();
    assert!(
        files.len() >= 9,
        "expected Aeraki's dubbo demo files, found {files:?}"
    );
    for file in &files {
        let mesh = Mesh::load_files(&[file]).unwrap_or_else(|e| panic!("{e}"));
        let objects = mesh.meta_routers.len()
            + mesh.service_entries.len()
            + mesh.destination_rules.len()
            + mesh.skipped.len();
        assert!(objects > 0, "{} loaded nothing", file.display());
    }
}

#[test]
fn dubbo_objects_are_typed() {
    let dir = reference_dir();
    let mesh = Mesh::load_files(&[
        dir.join("applicationprotocol.yaml"),
        dir.join("dubbo-serviceentry.yaml"),
        dir.join("dubbo-destinationrule.yaml"),
        dir.join("dubbo-traffic-split.yaml"),
        dir.join("dubbo-dubbo-sample.yaml"),
    ])
    .unwrap();
    assert_eq!(mesh.application_protocols.len(), 2);
    let se = &mesh.service_entries[0].object;
    assert_eq!(se.spec.ports[0].name, "tcp-metaprotocol-dubbo");
    assert_eq!(se.spec.resolution, Some(Resolution::Static));
    assert_eq!(mesh.destination_rules[0].object.spec.subsets[1].name, "v2");
    let route = &mesh.meta_routers[0].object.spec.routes[0];
    assert_eq!(route.route[1].weight, Some(80));
    let method = &route.match_.as_ref().unwrap().attributes["method"];
    assert_eq!(method.exact.as_deref(), Some("sayHello"));
    // The sample's ConfigMap and four Deployments are skipped, not rejected.
    assert_eq!(mesh.skipped.len(), 5);
}

#[test]
fn local_rate_limit_and_mirror_are_typed() {
    let dir = reference_dir();
    let mesh = Mesh::load_files(&[dir.join("dubbo-metarouter-local-ratelimit.yaml")]).unwrap();
    let limit = mesh.meta_routers[0]
        .object
        .spec
        .local_rate_limit
        .clone()
        .unwrap();
    assert_eq!(limit.token_bucket.unwrap().max_tokens, 10);
    assert_eq!(
        limit.conditions[0]
            .token_bucket
            .as_ref()
            .unwrap()
            .fill_interval,
        "10s"
    );
    let mesh = Mesh::load_files(&[dir.join("dubbo-traffic-mirroring.yaml")]).unwrap();
    let route = &mesh.meta_routers[0].object.spec.routes[0];
    assert_eq!(route.mirror.as_ref().unwrap().subset.as_deref(), Some("v2"));
    assert_eq!(route.mirror_percentage.as_ref().unwrap().value, 100.0);
}

#[test]
fn type_errors_name_file_object_and_field() {
    let err = Mesh::load_str(
        "bad.yaml",
        "apiVersion: metaprotocol.aeraki.io/v1alpha1\nkind: MetaRouter\n\
         metadata: {name: r, namespace: ns}\n\
         spec:\n  hosts: [a]\n  routes:\n  - route:\n    - destination: {host: a}\n      weight: lots\n",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("bad.yaml: MetaRouter ns/r: field `spec.routes[0].route[0].weight`"),
        "{text}"
    );
}

#[test]
fn unknown_metarouter_fields_are_rejected() {
    let err = Mesh::load_str(
        "typo.yaml",
        "apiVersion: metaprotocol.aeraki.io/v1alpha1\nkind: MetaRouter\nmetadata: {name: r}\n\
         spec:\n  hosts: [a]\n  routes:\n  - name: x\n    rotue: []\n",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("field `spec.routes[0].rotue`: unknown field"),
        "{text}"
    );
}

#[test]
fn semantic_errors_are_collected_with_fields() {
    let err = Mesh::load_str(
        "sem.yaml",
        r#"
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: r}
spec:
  hosts: [a]
  routes:
  - match: {attributes: {method: {regex: "(", exact: x}}}
    route: [{destination: {host: a}}]
    timeout: 5 seconds
  localRateLimit:
    tokenBucket: {fillInterval: 0s, maxTokens: 0}
---
apiVersion: mproto.io/v1alpha1
kind: Proxy
metadata: {name: p}
spec:
  listeners: [{address: "localhost", host: a, port: 70000}]
"#,
    )
    .unwrap_err();
    let fields: Vec<_> = err.0.iter().map(|e| e.field.clone().unwrap()).collect();
    for want in [
        "spec.routes[0].match.attributes.method",
        "spec.routes[0].match.attributes.method.regex",
        "spec.routes[0].timeout",
        "spec.localRateLimit.tokenBucket.maxTokens",
        "spec.localRateLimit.tokenBucket.fillInterval",
        "spec.listeners[0].address",
        "spec.listeners[0].port",
    ] {
        assert!(
            fields.iter().any(|f| f == want),
            "missing {want} in {fields:?}"
        );
    }
}

#[test]
fn yaml_syntax_errors_name_the_file() {
    let err = Mesh::load_str("broken.yaml", "kind: [unclosed\n").unwrap_err();
    assert!(
        err.to_string().starts_with("broken.yaml: invalid YAML"),
        "{err}"
    );
}

#[test]
fn duplicates_are_errors() {
    let one = "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\n\
               metadata: {name: d}\nspec: {host: a}\n";
    let err = Mesh::load_str("dup.yaml", &format!("{one}---\n{one}")).unwrap_err();
    assert!(err.to_string().contains("defined again"), "{err}");
}

#[test]
fn objects_serialize_without_empty_fields_and_round_trip() {
    let router = MetaRouter::new(
        "r",
        MetaRouterSpec {
            hosts: vec!["svc".into()],
            routes: vec![MetaRoute {
                name: "all".into(),
                route: vec![MetaRouteDestination {
                    destination: Destination {
                        host: "svc".into(),
                        ..Destination::default()
                    },
                    weight: None,
                }],
                request_mutation: vec![KeyValue {
                    key: "k".into(),
                    value: "v".into(),
                }],
                ..MetaRoute::default()
            }],
            ..MetaRouterSpec::default()
        },
    );
    let text = serde_norway::to_string(&router).unwrap();
    assert!(text.starts_with("apiVersion: metaprotocol.aeraki.io/v1alpha1\nkind: MetaRouter\n"));
    for absent in ["null", "[]", "{}", "mirror", "weight", "namespace"] {
        assert!(!text.contains(absent), "`{absent}` in\n{text}");
    }
    let mesh = Mesh::load_str("round.yaml", &text).unwrap();
    assert_eq!(mesh.meta_routers[0].object, router);
}

#[test]
fn load_balancer_names_follow_istio() {
    let mesh = Mesh::load_str(
        "lb.yaml",
        "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: d}\n\
         spec:\n  host: a\n  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}\n",
    )
    .unwrap();
    let lb = mesh.destination_rules[0]
        .object
        .spec
        .traffic_policy
        .clone()
        .unwrap();
    assert_eq!(
        lb.load_balancer.unwrap().simple,
        Some(SimpleLb::LeastRequest)
    );
}

/// A `Proxy` object `p` with one listener and `limits`.
fn proxy_with_limits(limits: &str) -> String {
    format!(
        "apiVersion: mproto.io/v1alpha1\nkind: Proxy\nmetadata: {{name: p}}\nspec:\n  \
         listeners: [{{address: \"127.0.0.1:0\", host: a, port: 9000}}]\n  limits: {{{limits}}}\n"
    )
}

#[test]
fn upstream_idle_timeout_is_a_limit() {
    let mesh = Mesh::load_str("p.yaml", &proxy_with_limits("upstreamIdleTimeout: 1m30s")).unwrap();
    let limits = &mesh.proxies[0].object.spec.limits;
    assert_eq!(limits.upstream_idle_timeout.as_deref(), Some("1m30s"));
    let unset = Mesh::load_str("p.yaml", &proxy_with_limits("")).unwrap();
    assert_eq!(
        unset.proxies[0].object.spec.limits.upstream_idle_timeout,
        None
    );
}

#[test]
fn bad_upstream_idle_timeouts_name_file_object_and_field() {
    for bad in ["soon", "5", "10 parsecs", "\"\""] {
        let yaml = proxy_with_limits(&format!("upstreamIdleTimeout: {bad}"));
        let err = Mesh::load_str("p.yaml", &yaml).unwrap_err().to_string();
        assert!(
            err.starts_with("p.yaml: Proxy p: field `spec.limits.upstreamIdleTimeout`: "),
            "{bad}: {err}"
        );
    }
}

#[test]
fn upstream_idle_timeout_round_trips() {
    let proxy = Proxy::new(
        "p",
        ProxySpec {
            listeners: vec![Listener {
                address: "127.0.0.1:0".into(),
                host: "a".into(),
                port: 9000,
                ..Listener::default()
            }],
            limits: Limits {
                upstream_idle_timeout: Some("45s".into()),
                ..Limits::default()
            },
            ..ProxySpec::default()
        },
    );
    let text = serde_norway::to_string(&proxy).unwrap();
    assert!(text.contains("upstreamIdleTimeout: 45s"), "{text}");
    let mesh = Mesh::load_str("round.yaml", &text).unwrap();
    assert_eq!(mesh.proxies[0].object, proxy);
}

/// A DestinationRule for host `a` with `policy` at the host and `v1` subset levels.
fn rule_with_policies(host: &str, subset: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\n\
         metadata: {{name: d, namespace: ns}}\nspec:\n  host: a\n\
         \x20 trafficPolicy: {{outlierDetection: {host}}}\n\
         \x20 subsets:\n  - {{name: v1, trafficPolicy: {{outlierDetection: {subset}}}}}\n"
    )
}

#[test]
fn outlier_detection_parses_and_ignores_other_istio_fields() {
    let yaml = rule_with_policies(
        "{consecutiveGatewayErrors: 3, consecutive5xxErrors: 2, interval: 5s, \
         baseEjectionTime: 1m, maxEjectionPercent: 50, minHealthPercent: 40, \
         splitExternalLocalOriginErrors: true}",
        "{}",
    );
    let mesh = Mesh::load_str("od.yaml", &yaml).unwrap_or_else(|e| panic!("{e}"));
    let spec = &mesh.destination_rules[0].object.spec;
    let od = spec
        .traffic_policy
        .as_ref()
        .and_then(|p| p.outlier_detection.as_ref())
        .unwrap();
    assert_eq!(od.consecutive_gateway_errors, Some(3));
    assert_eq!(od.consecutive_5xx_errors, Some(2));
    assert_eq!(od.interval.as_deref(), Some("5s"));
    assert_eq!(od.base_ejection_time.as_deref(), Some("1m"));
    assert_eq!(od.max_ejection_percent, Some(50));
    let subset = spec.subsets[0].traffic_policy.as_ref().unwrap();
    assert_eq!(
        subset.outlier_detection,
        Some(Default::default()),
        "an empty outlierDetection is kept, so the proxy applies the defaults"
    );
}

#[test]
fn bad_outlier_durations_name_file_object_and_field() {
    let yaml = rule_with_policies(
        "{baseEjectionTime: 30 seconds, interval: 0s}",
        "{baseEjectionTime: 10x, maxEjectionPercent: 101}",
    );
    let err = Mesh::load_str("od.yaml", &yaml).unwrap_err();
    let text = err.to_string();
    for field in [
        "spec.trafficPolicy.outlierDetection.baseEjectionTime",
        "spec.trafficPolicy.outlierDetection.interval",
        "spec.subsets[0].trafficPolicy.outlierDetection.baseEjectionTime",
        "spec.subsets[0].trafficPolicy.outlierDetection.maxEjectionPercent",
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("`{field}`")))
            .unwrap_or_else(|| panic!("no {field} in\n{text}"));
        assert!(line.starts_with("od.yaml: DestinationRule ns/d"), "{line}");
    }
    assert_eq!(err.0.len(), 4, "{text}");
}

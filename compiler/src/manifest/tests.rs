//! Manifests for hand-built schemas and every option combination: snapshots of the YAML,
//! validation against Aeraki's CRDs, and loading into the proxy's configuration model.

use std::collections::BTreeMap;

use mproto_runtime::mesh::Mesh;

use super::*;
use crate::diag::Span;
use crate::ir::{
    Expr, ExprKind, Field, FieldRef, FieldValue, Ident, Metadata, Property, Protocol, Schema,
    Struct, Ty, Type, TypeDef, TypeId, TypeKind, ValueTy,
};

fn ident(name: &str) -> Ident {
    Ident {
        name: name.to_owned(),
        span: Span::default(),
    }
}

fn field(name: &str) -> Field {
    Field {
        name: Some(ident(name)),
        doc: Vec::new(),
        ty: Type {
            kind: Ty::Bool,
            span: Span::default(),
        },
        value: FieldValue::Plain,
        constraint: None,
        condition: None,
        span: Span::default(),
    }
}

fn named(key: &str) -> Property {
    Property::Named {
        key: key.to_owned(),
        value: Expr {
            kind: ExprKind::Str(key.to_owned()),
            ty: ValueTy::Text,
            span: Span::default(),
            text: format!("{key:?}"),
        },
        span: Span::default(),
    }
}

/// A schema for `protocol` whose frame has a `headers` field, with these properties.
fn schema(protocol: &str, properties: Vec<Property>) -> Schema {
    let frame = TypeDef {
        name: ident("Message"),
        doc: Vec::new(),
        kind: TypeKind::Struct(Struct {
            fields: vec![field("id"), field("headers")],
            is_frame: true,
        }),
        rust: None,
    };
    Schema {
        protocol: Some(Protocol {
            name: ident(protocol),
            codec: format!("aeraki.meta_protocol.codec.{protocol}"),
            endian: Default::default(),
            max_frame: crate::ir::DEFAULT_MAX_FRAME,
            doc: Vec::new(),
            span: Span::default(),
        }),
        types: vec![frame],
        frame: Some(TypeId(0)),
        metadata: Some(Metadata {
            span: Span::default(),
            message_type: None,
            request_id: None,
            stream_id: None,
            response_status: None,
            properties,
            mutate: None,
        }),
        ..Schema::default()
    }
}

/// Like AwesomeRPC: two named properties and a key/value list.
fn rpc() -> Schema {
    let headers = Property::List {
        field: FieldRef {
            field: 1,
            sub: Vec::new(),
        },
        span: Span::default(),
    };
    schema("rpc", vec![named("version"), named("method"), headers])
}

/// Emits, checks everything a cluster and the proxy would check, and renders the YAML.
fn emit_checked(schema: &Schema, options: &ManifestOptions) -> String {
    let objects = match emit_manifests(schema, options) {
        Ok(objects) => objects,
        Err(errors) => panic!("unexpected errors: {errors:#?}"),
    };
    let yaml = render_yaml(&objects);
    assert_crds_accept(&objects);
    assert_loads(&yaml);
    assert_proxy_config_loads(&objects);
    yaml
}

/// Every ApplicationProtocol and MetaRouter validates against Aeraki's CRD schema.
fn assert_crds_accept(objects: &[Object]) {
    let crds = CrdValidators::new().expect("embedded CRDs compile");
    let mut validated = 0;
    for object in objects {
        if let Some(problems) = crds.validate(object.kind(), &object.to_json()) {
            assert!(problems.is_empty(), "{}: {problems:#?}", object.kind());
            validated += 1;
        }
    }
    assert_eq!(validated, 2, "one ApplicationProtocol and one MetaRouter");
}

/// The YAML loads into the proxy's model, with the kinds it knows typed.
fn assert_loads(yaml: &str) -> Mesh {
    let mesh = Mesh::load_str("emitted.yaml", yaml)
        .unwrap_or_else(|e| panic!("the proxy's loader rejects the output:\n{e}\n{yaml}"));
    assert_eq!(mesh.application_protocols.len(), 1);
    assert_eq!(mesh.meta_routers.len(), 1);
    assert!(!mesh.services.is_empty() || !mesh.service_entries.is_empty());
    mesh
}

/// The `mesh.yaml` of the gateway's ConfigMap, if there is one.
fn gateway_config(objects: &[Object]) -> Option<String> {
    objects.iter().find_map(|o| match &o.body {
        Body::ConfigMap(cm) => cm.data.as_ref()?.get(GATEWAY_CONFIG_FILE).cloned(),
        _ => None,
    })
}

/// The gateway's ConfigMap, or the standalone output itself, holds a configuration whose
/// listener serves a ServiceEntry host.
fn assert_proxy_config_loads(objects: &[Object]) {
    let config = gateway_config(objects);
    let standalone = objects.iter().any(|o| matches!(o.body, Body::Proxy(_)));
    let Some(config) = config.or_else(|| standalone.then(|| render_yaml(objects))) else {
        return;
    };
    let report = check_str("config.yaml", &config);
    assert!(report.is_ok(), "{:#?}", report.errors);
    let mesh = assert_loads(&config);
    assert_eq!(mesh.proxies.len(), 1);
    let listener = &mesh.proxies[0].object.spec.listeners[0];
    let entry = &mesh.service_entries[0].object.spec;
    assert!(
        entry.hosts.contains(&listener.host),
        "{listener:?} vs {entry:?}"
    );
    assert!(entry.ports.iter().any(|p| p.number == listener.port));
    assert_eq!(
        mesh.meta_routers[0].object.spec.hosts,
        vec![listener.host.clone()]
    );
}

#[test]
fn defaults_give_a_service_and_a_commented_router() {
    let yaml = emit_checked(&rpc(), &ManifestOptions::default());
    assert!(yaml.contains("name: tcp-metaprotocol-rpc-server"));
    insta::assert_snapshot!(yaml);
}

#[test]
fn service_entry_selects_workloads_by_default() {
    let options = ManifestOptions {
        service_entry: true,
        namespace: Some("meta-rpc".into()),
        ..ManifestOptions::default()
    };
    insta::assert_snapshot!(emit_checked(&rpc(), &options));
}

#[test]
fn service_entry_with_static_endpoints_and_hosts() {
    let endpoint = |address: &str, port, version: &str| Endpoint {
        address: address.into(),
        port,
        labels: BTreeMap::from([("version".into(), version.into())]),
    };
    let options = ManifestOptions {
        service_entry: true,
        service: Some("demo".into()),
        hosts: vec!["demo.rpc.example".into()],
        port: Some(20880),
        target_port: Some(20881),
        port_suffix: Some(String::new()),
        endpoints: vec![
            endpoint("10.0.0.11", None, "v1"),
            endpoint("10.0.0.12", Some(20990), "v2"),
        ],
        ..ManifestOptions::default()
    };
    let yaml = emit_checked(&rpc(), &options);
    assert!(yaml.contains("resolution: STATIC"));
    insta::assert_snapshot!(yaml);
}

#[test]
fn example_routes_match_each_named_property() {
    let options = ManifestOptions {
        example_routes: true,
        ..ManifestOptions::default()
    };
    let yaml = emit_checked(&rpc(), &options);
    assert!(yaml.contains("name: by-method"));
    insta::assert_snapshot!(yaml);
}

#[test]
fn gateway_runs_the_proxy_behind_a_service() {
    let options = ManifestOptions {
        gateway: true,
        port: Some(20880),
        image: Some("registry.example/mproto:0.1".into()),
        replicas: Some(2),
        ..ManifestOptions::default()
    };
    let yaml = emit_checked(&rpc(), &options);
    assert!(yaml.contains("- --config\n"));
    insta::assert_snapshot!(yaml);
}

#[test]
fn gateway_with_a_dns_service_entry() {
    let options = ManifestOptions {
        gateway: true,
        service_entry: true,
        example_routes: true,
        endpoints: vec![Endpoint {
            address: "rpc-backend.internal".into(),
            port: None,
            labels: BTreeMap::new(),
        }],
        ..ManifestOptions::default()
    };
    let yaml = emit_checked(&rpc(), &options);
    assert!(yaml.contains("resolution: DNS"));
    insta::assert_snapshot!(yaml);
}

#[test]
fn a_schema_without_properties_says_so() {
    let yaml = emit_checked(&schema("plain", Vec::new()), &ManifestOptions::default());
    assert!(yaml.contains("declares no routable properties"), "{yaml}");
}

#[test]
fn objects_are_typed_and_named() {
    let objects = emit_manifests(&rpc(), &ManifestOptions::default()).expect("valid");
    let kinds: Vec<_> = objects.iter().map(|o| (o.kind(), o.name())).collect();
    assert_eq!(
        kinds,
        [
            ("ApplicationProtocol", "rpc"),
            ("Service", "rpc"),
            ("MetaRouter", "rpc")
        ]
    );
    assert_eq!(file_name(1, &objects[1]), "02-service-rpc.yaml");
}

/// Renders errors one per line, for snapshots.
fn errors(schema: &Schema, options: &ManifestOptions) -> String {
    match emit_manifests(schema, options) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors.iter().map(|e| format!("{e}\n")).collect(),
    }
}

#[test]
fn a_schema_without_a_protocol_is_an_error() {
    let mut s = rpc();
    s.protocol = None;
    insta::assert_snapshot!(errors(&s, &ManifestOptions::default()), @"schema: the schema has no `protocol` block: manifests need the protocol's name and codec\n");
}

#[test]
fn every_problem_is_reported_at_once() {
    let options = ManifestOptions {
        namespace: Some("Prod_NS".into()),
        service: Some("9lives".into()),
        port: Some(0),
        port_suffix: Some("a-very-long-suffix-that-pushes-the-port-name-past-63".into()),
        selector: BTreeMap::from([("app".into(), "-bad".into())]),
        hosts: vec!["bad host".into()],
        ..ManifestOptions::default()
    };
    insta::assert_snapshot!(errors(&schema("my-rpc", Vec::new()), &options));
}

#[test]
fn impossible_service_entry_combinations_are_errors() {
    let options = ManifestOptions {
        service_entry: true,
        gateway: true,
        resolution: Some(Resolution::Static),
        port: Some(GATEWAY_ADMIN_PORT),
        endpoints: vec![Endpoint {
            address: "backend.internal".into(),
            port: Some(0),
            labels: BTreeMap::new(),
        }],
        selector: BTreeMap::from([("app".into(), "x".into())]),
        image: Some("has space".into()),
        ..ManifestOptions::default()
    };
    insta::assert_snapshot!(errors(&rpc(), &options));
}

#[test]
fn service_entry_options_need_service_entry() {
    let options = ManifestOptions {
        hosts: vec!["h.example".into()],
        resolution: Some(Resolution::Dns),
        ..ManifestOptions::default()
    };
    insta::assert_snapshot!(errors(&rpc(), &options));
}

#[test]
fn a_gateway_cannot_select_pods_by_label() {
    let options = ManifestOptions {
        service_entry: true,
        gateway: true,
        ..ManifestOptions::default()
    };
    let text = errors(&rpc(), &options);
    assert!(
        text.starts_with("--gateway: the gateway proxy cannot select pods"),
        "{text}"
    );
    // The proxy resolves the hosts for either DNS resolution.
    let round_robin = ManifestOptions {
        resolution: Some(Resolution::DnsRoundRobin),
        ..options
    };
    emit_checked(&rpc(), &round_robin);
}

// === --standalone ===

fn endpoint(address: &str, port: Option<u16>) -> Endpoint {
    Endpoint {
        address: address.into(),
        port,
        labels: BTreeMap::new(),
    }
}

/// `--service-entry --host rpc.local --standalone` with these endpoints.
fn standalone(endpoints: Vec<Endpoint>) -> ManifestOptions {
    ManifestOptions {
        service_entry: true,
        standalone: true,
        hosts: vec!["rpc.local".into()],
        endpoints,
        ..ManifestOptions::default()
    }
}

/// The errors, exactly and in order.
fn assert_errors(options: &ManifestOptions, expected: &[&str]) {
    let got = errors(&rpc(), options);
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(got, expected);
}

#[test]
fn standalone_adds_a_proxy_for_the_service_entry() {
    let options = standalone(vec![endpoint("127.0.0.1", Some(9001))]);
    let objects = emit_manifests(&rpc(), &options).expect("valid");
    let kinds: Vec<_> = objects.iter().map(|o| (o.kind(), o.name())).collect();
    assert_eq!(
        kinds,
        [
            ("ApplicationProtocol", "rpc"),
            ("ServiceEntry", "rpc"),
            ("MetaRouter", "rpc"),
            ("Proxy", "rpc"),
        ]
    );
    let yaml = emit_checked(&rpc(), &options);
    assert!(yaml.contains("address: 127.0.0.1:9000\n"), "{yaml}");
    insta::assert_snapshot!(yaml);
}

#[test]
fn standalone_listens_and_serves_admin_where_told() {
    // DNS-resolved hosts, IPv6 addresses written in full: the proxy gets them canonical.
    let options = ManifestOptions {
        resolution: Some(Resolution::Dns),
        listen: Some("[0:0:0:0:0:0:0:1]:7000".into()),
        admin: Some("[::1]:7001".into()),
        ..standalone(Vec::new())
    };
    let yaml = emit_checked(&rpc(), &options);
    let mesh = assert_loads(&yaml);
    let spec = &mesh.proxies[0].object.spec;
    assert_eq!(spec.listeners[0].address, "[::1]:7000");
    assert_eq!(spec.listeners[0].host, "rpc.local");
    assert_eq!(
        spec.admin.as_ref().map(|a| a.address.as_str()),
        Some("[::1]:7001")
    );
    assert_eq!(
        spec.access_log.as_ref().map(|a| a.properties.clone()),
        Some(vec!["version".to_owned(), "method".to_owned()])
    );
}

#[test]
fn standalone_accepts_upstreams_on_the_same_port_elsewhere() {
    // Same port, other host; IPv4 wildcard and an IPv6 loopback upstream; port 0 binds a
    // free port and so never collides.
    for (listen, upstream) in [
        ("127.0.0.1:9000", "10.0.0.1"),
        ("0.0.0.0:9000", "::1"),
        ("127.0.0.1:0", "127.0.0.1"),
    ] {
        let options = ManifestOptions {
            listen: Some(listen.into()),
            admin: Some("127.0.0.1:0".into()),
            ..standalone(vec![endpoint(upstream, None)])
        };
        emit_checked(&rpc(), &options);
    }
}

#[test]
fn standalone_needs_a_service_entry() {
    let options = ManifestOptions {
        standalone: true,
        ..ManifestOptions::default()
    };
    assert_errors(
        &options,
        &[
            "--standalone: the proxy forwards to a ServiceEntry's endpoints: add --service-entry \
           with --endpoint ADDRESS[:PORT] (or --resolution dns to resolve the hosts)",
        ],
    );
}

#[test]
fn standalone_cannot_select_pods_by_label() {
    assert_errors(
        &standalone(Vec::new()),
        &[
            "--standalone: the proxy cannot select pods by label: add --endpoint ADDRESS[:PORT] \
           (or --resolution dns to resolve the hosts)",
        ],
    );
}

#[test]
fn standalone_cannot_forward_to_the_original_destination() {
    let options = ManifestOptions {
        resolution: Some(Resolution::None),
        ..standalone(Vec::new())
    };
    assert_errors(
        &options,
        &[
            "--standalone: the proxy cannot forward to a connection's original destination \
           (--resolution none): add --endpoint ADDRESS[:PORT] and drop --resolution, or use \
           --resolution dns to resolve the hosts",
        ],
    );
}

#[test]
fn standalone_and_gateway_are_exclusive() {
    let options = ManifestOptions {
        gateway: true,
        ..standalone(vec![endpoint("10.0.0.1", None)])
    };
    assert_errors(
        &options,
        &[
            "--standalone: cannot be combined with --gateway: --gateway runs the proxy in a \
           cluster (its Proxy object is in the ConfigMap), --standalone runs it here with \
           `mproto proxy --config`; drop one of them",
        ],
    );
}

#[test]
fn listen_and_admin_are_socket_addresses() {
    let not_an_address = |option: &str, text: &str| {
        format!(
            "{option}: `{text}` is not an IP:PORT socket address (such as 127.0.0.1:9000 or \
             [::1]:9000; the proxy binds addresses, not names)"
        )
    };
    for (listen, admin) in [
        ("localhost:9000", "::1:15000"),
        ("127.0.0.1", "[::1]"),
        ("127.0.0.1:65536", "[::1]:x"),
        ("", "[127.0.0.1]:9000"),
    ] {
        let options = ManifestOptions {
            listen: Some(listen.into()),
            admin: Some(admin.into()),
            ..standalone(vec![endpoint("10.0.0.1", None)])
        };
        let expected = [
            not_an_address("--listen", listen),
            not_an_address("--admin", admin),
        ];
        assert_errors(&options, &expected.each_ref().map(String::as_str));
    }
}

#[test]
fn listen_and_admin_need_standalone() {
    let options = ManifestOptions {
        listen: Some("127.0.0.1:9000".into()),
        admin: Some("bad".into()),
        ..ManifestOptions::default()
    };
    assert_errors(
        &options,
        &[
            "--listen: only applies to the standalone proxy: add --standalone",
            "--admin: only applies to the standalone proxy: add --standalone",
        ],
    );
}

#[test]
fn the_proxy_must_not_forward_to_itself() {
    // The default listener is 127.0.0.1:<port>, and an endpoint without a port is on the
    // target port, which defaults to the service port.
    assert_errors(
        &standalone(vec![endpoint("127.0.0.1", None)]),
        &[
            "--listen: `127.0.0.1:9000` is where endpoint `127.0.0.1:9000` listens: the proxy \
           would forward to itself; choose another --listen address, or another port for the \
           upstream",
        ],
    );
    let options = ManifestOptions {
        listen: Some("0.0.0.0:9001".into()),
        target_port: Some(9001),
        ..standalone(vec![
            endpoint("10.0.0.1", None),
            endpoint("127.0.0.1", None),
        ])
    };
    assert_errors(
        &options,
        &[
            "--listen: `0.0.0.0:9001` is where endpoint `127.0.0.1:9001` listens: the proxy \
           would forward to itself; choose another --listen address, or another port for the \
           upstream",
        ],
    );
    let options = ManifestOptions {
        hosts: vec!["localhost".into()],
        resolution: Some(Resolution::Dns),
        listen: Some("[::]:9000".into()),
        ..standalone(Vec::new())
    };
    assert_errors(
        &options,
        &[
            "--listen: `[::]:9000` is where host `localhost:9000` listens: the proxy would \
           forward to itself; choose another --listen address, or another port for the \
           upstream",
        ],
    );
}

#[test]
fn the_admin_must_not_share_a_socket() {
    let options = ManifestOptions {
        port: Some(GATEWAY_ADMIN_PORT),
        ..standalone(vec![endpoint("10.0.0.1", None)])
    };
    assert_errors(
        &options,
        &[
            "--admin: `127.0.0.1:15000` and the listener `127.0.0.1:15000` (--listen) would \
           both bind port 15000; choose another --admin address",
        ],
    );
    let options = ManifestOptions {
        listen: Some("127.0.0.1:9000".into()),
        admin: Some("[::]:9001".into()),
        ..standalone(vec![endpoint("127.0.0.1", Some(9001))])
    };
    assert_errors(
        &options,
        &[
            "--admin: `[::]:9001` is where endpoint `127.0.0.1:9001` listens: the proxy would \
           forward to its own admin server; choose another --admin address",
        ],
    );
}

// === --subset and --load-balancer: a DestinationRule ===

fn labelled(address: &str, port: u16, version: &str) -> Endpoint {
    Endpoint {
        address: address.into(),
        port: Some(port),
        labels: BTreeMap::from([("version".into(), version.into())]),
    }
}

fn subset(name: &str, labels: &[(&str, &str)]) -> Subset {
    Subset {
        name: name.into(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// `--service-entry --host rpc.local` with endpoints v1 and v2 and subsets v1 and v2.
fn versioned() -> ManifestOptions {
    ManifestOptions {
        service_entry: true,
        hosts: vec!["rpc.local".into()],
        endpoints: vec![
            labelled("127.0.0.1", 9001, "v1"),
            labelled("127.0.0.1", 9002, "v2"),
        ],
        subsets: vec![
            subset("v1", &[("version", "v1")]),
            subset("v2", &[("version", "v2")]),
        ],
        ..ManifestOptions::default()
    }
}

/// The emitted DestinationRule, typed.
fn destination_rule_of(objects: &[Object]) -> mproto_runtime::mesh::DestinationRule {
    let rules: Vec<_> = objects
        .iter()
        .filter_map(|o| match &o.body {
            Body::DestinationRule(rule) => Some(rule.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(rules.len(), 1, "one DestinationRule");
    rules[0].clone()
}

#[test]
fn subsets_and_a_load_balancer_give_a_destination_rule() {
    let options = ManifestOptions {
        load_balancer: Some(LoadBalancer::Hash("method".into())),
        ..versioned()
    };
    let objects = emit_manifests(&rpc(), &options).expect("valid");
    let kinds: Vec<_> = objects.iter().map(|o| (o.kind(), o.name())).collect();
    assert_eq!(
        kinds,
        [
            ("ApplicationProtocol", "rpc"),
            ("ServiceEntry", "rpc"),
            ("DestinationRule", "rpc"),
            ("MetaRouter", "rpc"),
        ]
    );
    let yaml = emit_checked(&rpc(), &options);
    // What the proxy's model loads is exactly the typed object that was emitted.
    let mesh = assert_loads(&yaml);
    assert_eq!(mesh.destination_rules.len(), 1);
    assert_eq!(
        mesh.destination_rules[0].object,
        destination_rule_of(&objects)
    );
    let spec = &mesh.destination_rules[0].object.spec;
    assert_eq!(spec.host, "rpc.local");
    let names: Vec<_> = spec.subsets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["v1", "v2"]);
    insta::assert_snapshot!(yaml);
}

#[test]
fn each_load_balancer_is_istios() {
    use mproto_runtime::mesh::SimpleLb;
    for (lb, simple) in [
        (LoadBalancer::RoundRobin, SimpleLb::RoundRobin),
        (LoadBalancer::Random, SimpleLb::Random),
        (LoadBalancer::LeastRequest, SimpleLb::LeastRequest),
    ] {
        // A load balancer alone is a rule without subsets, for a Kubernetes Service.
        let options = ManifestOptions {
            namespace: Some("rpc-ns".into()),
            load_balancer: Some(lb),
            ..ManifestOptions::default()
        };
        let yaml = emit_checked(&rpc(), &options);
        let mesh = assert_loads(&yaml);
        let rule = &mesh.destination_rules[0].object;
        assert_eq!(rule.metadata.namespace, "rpc-ns");
        assert_eq!(rule.spec.host, "rpc.rpc-ns.svc.cluster.local");
        assert!(rule.spec.subsets.is_empty());
        let lb = rule
            .spec
            .traffic_policy
            .as_ref()
            .and_then(|p| p.load_balancer.as_ref());
        assert_eq!(lb.and_then(|l| l.simple), Some(simple));
        assert!(lb.is_some_and(|l| l.consistent_hash.is_none()));
    }
}

#[test]
fn subsets_of_a_service_are_not_checked_against_pods() {
    let options = ManifestOptions {
        subsets: vec![subset("canary", &[("track", "canary"), ("app", "rpc")])],
        ..ManifestOptions::default()
    };
    let yaml = emit_checked(&rpc(), &options);
    let rule = &assert_loads(&yaml).destination_rules[0].object;
    assert_eq!(rule.spec.host, "rpc.default.svc.cluster.local");
    assert!(rule.spec.traffic_policy.is_none());
    assert_eq!(rule.spec.subsets[0].labels.len(), 2);
}

#[test]
fn no_destination_rule_without_subsets_or_a_load_balancer() {
    let objects = emit_manifests(&rpc(), &ManifestOptions::default()).expect("valid");
    assert!(
        objects
            .iter()
            .all(|o| !matches!(o.body, Body::DestinationRule(_)))
    );
}

#[test]
fn the_gateway_and_the_standalone_proxy_read_the_destination_rule() {
    let gateway = ManifestOptions {
        gateway: true,
        load_balancer: Some(LoadBalancer::LeastRequest),
        ..versioned()
    };
    let objects = emit_manifests(&rpc(), &gateway).expect("valid");
    emit_checked(&rpc(), &gateway);
    let config = gateway_config(&objects).expect("the gateway's ConfigMap");
    let mesh = assert_loads(&config);
    assert_eq!(mesh.destination_rules.len(), 1);
    assert_eq!(
        mesh.destination_rules[0].object,
        destination_rule_of(&objects)
    );

    let standalone = ManifestOptions {
        standalone: true,
        ..versioned()
    };
    let yaml = emit_checked(&rpc(), &standalone);
    let mesh = assert_loads(&yaml);
    assert_eq!(mesh.destination_rules.len(), 1);
    assert_eq!(mesh.proxies.len(), 1);
}

#[test]
fn subset_names_and_labels_are_checked() {
    let options = ManifestOptions {
        subsets: vec![
            subset("V1", &[("version", "v1")]),
            subset("v2", &[("version", "v2")]),
            subset("v2", &[("version", "v2")]),
            subset("empty", &[]),
            subset("bad", &[("Bad Key", "-x")]),
        ],
        ..versioned()
    };
    assert_errors(
        &options,
        &[
            "--subset: `V1` must be lowercase letters, digits and '-', starting and ending with \
             a letter or digit",
            "--subset: `v2` is given twice: subset names must be unique",
            "--subset: `empty` has no labels: give NAME:KEY=VALUE[,KEY=VALUE…]",
            "--subset: `Bad Key` must be letters, digits, '-', '_' and '.', starting and ending \
             with a letter or digit",
            "--subset: `-x` must be letters, digits, '-', '_' and '.', starting and ending with \
             a letter or digit",
            "--subset: `bad` (Bad Key=-x) selects no --endpoint, so the proxy would have no \
             endpoint for it: add ,Bad Key=-x to an --endpoint, or drop the subset",
        ],
    );
}

#[test]
fn a_subset_must_select_a_listed_endpoint() {
    let mut options = versioned();
    options.subsets.push(subset("v3", &[("version", "v3")]));
    // Every label must match: v1 carries version=v1 but not zone=a.
    options
        .subsets
        .push(subset("v1-a", &[("version", "v1"), ("zone", "a")]));
    assert_errors(
        &options,
        &[
            "--subset: `v3` (version=v3) selects no --endpoint, so the proxy would have no \
             endpoint for it: add ,version=v3 to an --endpoint, or drop the subset",
            "--subset: `v1-a` (version=v1,zone=a) selects no --endpoint, so the proxy would \
             have no endpoint for it: add ,version=v1,zone=a to an --endpoint, or drop the \
             subset",
        ],
    );
}

#[test]
fn subsets_need_endpoints_with_labels() {
    // Hosts resolved by DNS carry no labels.
    let options = ManifestOptions {
        endpoints: Vec::new(),
        resolution: Some(Resolution::Dns),
        ..versioned()
    };
    assert_errors(
        &options,
        &[
            "--subset: a subset selects endpoints by label, and the ServiceEntry lists no \
             --endpoint to carry labels (its hosts have none): add --endpoint \
             ADDRESS[:PORT],KEY=VALUE, or drop --subset",
        ],
    );
    // A workload selector selects pods, whose labels are not known here.
    let selector = ManifestOptions {
        endpoints: Vec::new(),
        ..versioned()
    };
    emit_checked(&rpc(), &selector);
    // The gateway reaches a Kubernetes Service by name.
    let gateway = ManifestOptions {
        gateway: true,
        subsets: versioned().subsets,
        ..ManifestOptions::default()
    };
    assert_errors(
        &gateway,
        &[
            "--subset: the gateway proxy reaches the Kubernetes Service by its DNS name and \
             cannot select pods by label, so every subset would be empty there: use \
             --service-entry with --endpoint ADDRESS[:PORT],KEY=VALUE, or drop --subset",
        ],
    );
}

#[test]
fn a_hash_is_on_a_routable_property() {
    let named_only = schema("plain", vec![named("version"), named("method")]);
    let hash = |property: &str| ManifestOptions {
        load_balancer: Some(LoadBalancer::Hash(property.into())),
        ..ManifestOptions::default()
    };
    emit_checked(&named_only, &hash("method"));
    let errors_of = |schema: &Schema, property: &str| errors(schema, &hash(property));
    assert_eq!(
        errors_of(&named_only, "versoin"),
        "--load-balancer: `versoin` is not a routable property of `plain` (it declares \
         `version`, `method`); did you mean `version`?\n"
    );
    assert_eq!(
        errors_of(&named_only, "zone"),
        "--load-balancer: `zone` is not a routable property of `plain` (it declares \
         `version`, `method`)\n"
    );
    assert_eq!(
        errors_of(&named_only, ""),
        "--load-balancer: `hash:` needs a routable property: hash:PROPERTY\n"
    );
    assert_eq!(
        errors_of(&schema("bare", Vec::new()), "version"),
        "--load-balancer: `version` is not a routable property: protocol `bare` declares \
         none to hash on\n"
    );
    // With a key/value list, every key is routable: any name may be one.
    emit_checked(&rpc(), &hash("x-user"));
}

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
    assert_gateway_config_loads(&objects);
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

/// The gateway's ConfigMap, or the standalone output itself, holds a configuration whose
/// listener serves a ServiceEntry host.
fn assert_gateway_config_loads(objects: &[Object]) {
    let config = objects.iter().find_map(|o| match &o.body {
        Body::ConfigMap(cm) => cm.data.as_ref()?.get(GATEWAY_CONFIG_FILE).cloned(),
        _ => None,
    });
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

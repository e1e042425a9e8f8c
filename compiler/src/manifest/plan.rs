//! Checks a schema and options together and resolves every default into a [`Plan`]:
//! all problems are collected before any object is built.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::names;
use super::options::{
    Endpoint, GATEWAY_ADMIN_PORT, LoadBalancer, ManifestOptions, Resolution, Subset,
};
use crate::ir;

/// A problem with the schema or the options, naming the option (as the CLI spells it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The option at fault, e.g. `--namespace`, or `schema` for the schema itself.
    pub option: &'static str,
    /// What is wrong and, where it helps, what to do.
    pub message: String,
}

impl ManifestError {
    fn new(option: &'static str, message: impl Into<String>) -> Self {
        ManifestError {
            option,
            message: message.into(),
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.option, self.message)
    }
}

impl std::error::Error for ManifestError {}

/// Everything the emitters need, checked and with defaults filled in.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub protocol: String,
    pub codec: String,
    pub namespace: String,
    pub service: String,
    pub port: u16,
    pub target_port: u16,
    pub port_name: String,
    pub service_entry: bool,
    pub hosts: Vec<String>,
    /// Pod labels the Service, or a STATIC ServiceEntry without endpoints, selects.
    pub selector: BTreeMap<String, String>,
    pub resolution: Resolution,
    pub endpoints: Vec<Endpoint>,
    /// Keys of `property "key" = …` lines, in schema order.
    pub property_keys: Vec<String>,
    /// Names of key/value list fields whose every key is routable.
    pub property_lists: Vec<String>,
    /// The DestinationRule's subsets and load balancer; empty and `None`: no rule.
    pub subsets: Vec<Subset>,
    pub load_balancer: Option<LoadBalancer>,
    pub example_routes: bool,
    pub gateway: Option<GatewayPlan>,
    pub standalone: Option<StandalonePlan>,
}

/// The gateway's settings.
#[derive(Debug, Clone)]
pub(crate) struct GatewayPlan {
    pub name: String,
    pub image: String,
    pub replicas: u16,
}

/// Where the standalone proxy listens and serves its admin.
#[derive(Debug, Clone)]
pub(crate) struct StandalonePlan {
    pub listen: SocketAddr,
    pub admin: SocketAddr,
}

impl Plan {
    /// The host routes and listeners refer to: the first ServiceEntry host or the Service's name.
    pub fn host(&self) -> &str {
        &self.hosts[0]
    }

    /// Whether the ServiceEntry selects workloads by label: STATIC, without endpoints.
    pub fn workload_selector(&self) -> bool {
        self.endpoints.is_empty() && self.resolution == Resolution::Static
    }

    /// Whether a `DestinationRule` is emitted: for subsets or a load balancer.
    pub fn destination_rule(&self) -> bool {
        !self.subsets.is_empty() || self.load_balancer.is_some()
    }
}

/// Collects problems while a plan is built.
#[derive(Default)]
struct Errors(Vec<ManifestError>);

impl Errors {
    fn push(&mut self, option: &'static str, message: impl Into<String>) {
        self.0.push(ManifestError::new(option, message));
    }

    /// Records `check`'s complaint about `value` given for `option`.
    fn check(&mut self, option: &'static str, value: &str, check: names::Check) {
        if let Err(why) = check {
            self.push(option, format!("`{value}` {why}"));
        }
    }
}

/// Checks the schema and options and resolves every default, or returns every problem.
pub(crate) fn plan(
    schema: &ir::Schema,
    opts: &ManifestOptions,
) -> Result<Plan, Vec<ManifestError>> {
    let mut errors = Errors::default();
    let Some(protocol) = &schema.protocol else {
        errors.push(
            "schema",
            "the schema has no `protocol` block: manifests need the protocol's name and codec",
        );
        return Err(errors.0);
    };
    let name = protocol.name.name.as_str();
    check_protocol(&mut errors, protocol);
    let namespace = opts.namespace().to_owned();
    errors.check("--namespace", &namespace, names::dns1123_label(&namespace));
    let service = opts.service(name).to_owned();
    errors.check("--service", &service, names::dns1035_label(&service));
    let port_name = check_ports(&mut errors, opts, name);
    let selector = selector(opts, &service);
    check_labels(&mut errors, "--selector", &selector);
    let hosts = hosts(opts, &service, &namespace);
    for host in &hosts {
        errors.check("--host", host, names::istio_host(host));
    }
    if !opts.service_entry {
        check_service_only(&mut errors, opts);
    }
    let resolution = resolution(opts);
    check_endpoints(&mut errors, opts, resolution);
    let gateway = opts
        .gateway
        .then(|| gateway(&mut errors, opts, &service, name, resolution));
    let standalone = if opts.standalone {
        standalone(&mut errors, opts, &hosts, resolution)
    } else {
        check_standalone_only(&mut errors, opts);
        None
    };
    let (property_keys, property_lists) = properties(schema);
    check_subsets(&mut errors, opts, resolution);
    if let Some(LoadBalancer::Hash(property)) = &opts.load_balancer {
        check_hash(&mut errors, name, property, &property_keys, &property_lists);
    }
    if !errors.0.is_empty() {
        return Err(errors.0);
    }
    Ok(Plan {
        protocol: name.to_owned(),
        codec: protocol.codec.clone(),
        namespace,
        service,
        port: opts.port(),
        target_port: opts.target_port(),
        port_name,
        service_entry: opts.service_entry,
        hosts,
        selector,
        resolution,
        endpoints: opts.endpoints.clone(),
        subsets: opts.subsets.clone(),
        load_balancer: opts.load_balancer.clone(),
        property_keys,
        property_lists,
        example_routes: opts.example_routes,
        gateway,
        standalone,
    })
}

fn check_protocol(errors: &mut Errors, protocol: &ir::Protocol) {
    let name = &protocol.name.name;
    if let Err(why) = names::protocol_name(name) {
        errors.push("schema", format!("protocol name `{name}` {why}"));
    }
    if protocol.codec.trim().is_empty() {
        errors.push(
            "schema",
            "the protocol's codec name is empty: an ApplicationProtocol needs one",
        );
    }
}

/// Checks ports and the port name; returns the port name.
fn check_ports(errors: &mut Errors, opts: &ManifestOptions, protocol: &str) -> String {
    if opts.port == Some(0) {
        errors.push("--port", "must be between 1 and 65535");
    }
    if opts.target_port == Some(0) {
        errors.push("--target-port", "must be between 1 and 65535");
    }
    let suffix = opts.port_suffix();
    if !suffix.is_empty() {
        errors.check("--port-suffix", suffix, names::dns1123_label(suffix));
    }
    let port_name = names::port_name(protocol, suffix);
    // Service and ServiceEntry port names are DNS-1123 labels (63 characters), not
    // IANA service names: only container ports have the 15-character limit.
    if let Err(why) = names::dns1123_label(&port_name) {
        errors.push(
            "--port-suffix",
            format!("the port name `{port_name}` {why}; choose a shorter suffix"),
        );
    }
    port_name
}

fn selector(opts: &ManifestOptions, service: &str) -> BTreeMap<String, String> {
    if opts.selector.is_empty() {
        BTreeMap::from([("app".to_owned(), service.to_owned())])
    } else {
        opts.selector.clone()
    }
}

fn check_labels(errors: &mut Errors, option: &'static str, labels: &BTreeMap<String, String>) {
    for (key, value) in labels {
        errors.check(option, key, names::label_key(key));
        errors.check(option, value, names::label_value(value));
    }
}

fn hosts(opts: &ManifestOptions, service: &str, namespace: &str) -> Vec<String> {
    if opts.hosts.is_empty() {
        vec![names::service_host(service, namespace)]
    } else {
        opts.hosts.clone()
    }
}

/// Options that only a ServiceEntry can carry are an error without `--service-entry`.
fn check_service_only(errors: &mut Errors, opts: &ManifestOptions) {
    let only = [
        ("--host", !opts.hosts.is_empty()),
        ("--resolution", opts.resolution.is_some()),
        ("--endpoint", !opts.endpoints.is_empty()),
    ];
    for (option, given) in only {
        if given {
            errors.push(
                option,
                "only applies to a ServiceEntry: add --service-entry (a Kubernetes Service \
                 is named <service>.<namespace>.svc.cluster.local and selects its pods)",
            );
        }
    }
}

/// The given resolution, or STATIC for IP endpoints or a selector, DNS otherwise.
fn resolution(opts: &ManifestOptions) -> Resolution {
    if let Some(r) = opts.resolution {
        return r;
    }
    let all_ips = opts
        .endpoints
        .iter()
        .all(|e| e.address.parse::<IpAddr>().is_ok());
    if all_ips {
        Resolution::Static
    } else {
        Resolution::Dns
    }
}

fn check_endpoints(errors: &mut Errors, opts: &ManifestOptions, resolution: Resolution) {
    for e in &opts.endpoints {
        let ip = e.address.parse::<IpAddr>().is_ok();
        if !ip {
            errors.check("--endpoint", &e.address, names::istio_host(&e.address));
        }
        if !ip && resolution == Resolution::Static {
            errors.push(
                "--endpoint",
                format!(
                    "`{}` is not an IP address, which STATIC resolution needs; use --resolution dns",
                    e.address
                ),
            );
        }
        if e.port == Some(0) {
            errors.push(
                "--endpoint",
                format!("`{}`: port 0 is not a port", e.address),
            );
        }
        check_labels(errors, "--endpoint", &e.labels);
    }
    if !opts.selector.is_empty() && !opts.endpoints.is_empty() {
        errors.push(
            "--selector",
            "a ServiceEntry either selects workloads by label or lists --endpoint addresses, not both",
        );
    }
    if resolution == Resolution::None && !opts.endpoints.is_empty() {
        errors.push(
            "--resolution",
            "NONE uses the connection's destination address: it takes no endpoints",
        );
    }
}

/// Subset names are RFC 1123 labels, unique, each with labels in Kubernetes' syntax; and
/// where the endpoints are listed here, each subset must select at least one of them.
fn check_subsets(errors: &mut Errors, opts: &ManifestOptions, resolution: Resolution) {
    for (i, subset) in opts.subsets.iter().enumerate() {
        let name = &subset.name;
        errors.check("--subset", name, names::dns1123_label(name));
        if opts.subsets[..i].iter().any(|s| &s.name == name) {
            errors.push(
                "--subset",
                format!("`{name}` is given twice: subset names must be unique"),
            );
        }
        if subset.labels.is_empty() {
            errors.push(
                "--subset",
                format!("`{name}` has no labels: give NAME:KEY=VALUE[,KEY=VALUE…]"),
            );
        }
        check_labels(errors, "--subset", &subset.labels);
    }
    if opts.subsets.is_empty() {
        return;
    }
    if !opts.service_entry {
        // A Service selects pods, whose labels are not known here; but the gateway proxy
        // reaches the Service by its DNS name, which carries no labels.
        if opts.gateway {
            errors.push(
                "--subset",
                "the gateway proxy reaches the Kubernetes Service by its DNS name and cannot \
                 select pods by label, so every subset would be empty there: use \
                 --service-entry with --endpoint ADDRESS[:PORT],KEY=VALUE, or drop --subset",
            );
        }
        return;
    }
    if opts.endpoints.is_empty() {
        if resolution != Resolution::Static {
            errors.push(
                "--subset",
                "a subset selects endpoints by label, and the ServiceEntry lists no \
                 --endpoint to carry labels (its hosts have none): add \
                 --endpoint ADDRESS[:PORT],KEY=VALUE, or drop --subset",
            );
        }
        // STATIC without endpoints selects workloads by label: not known here.
        return;
    }
    for subset in &opts.subsets {
        let selects = |e: &Endpoint| {
            subset
                .labels
                .iter()
                .all(|(k, v)| e.labels.get(k) == Some(v))
        };
        if !subset.labels.is_empty() && !opts.endpoints.iter().any(selects) {
            let labels = label_list(&subset.labels);
            errors.push(
                "--subset",
                format!(
                    "`{}` ({labels}) selects no --endpoint, so the proxy would have no \
                     endpoint for it: add ,{labels} to an --endpoint, or drop the subset",
                    subset.name
                ),
            );
        }
    }
}

/// `k=v,k2=v2`.
fn label_list(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A consistent hash needs a routable property: a named one, or (when the schema routes on
/// every key of a key/value list) any key, which cannot be checked here.
fn check_hash(
    errors: &mut Errors,
    protocol: &str,
    property: &str,
    keys: &[String],
    lists: &[String],
) {
    if property.is_empty() {
        errors.push(
            "--load-balancer",
            "`hash:` needs a routable property: hash:PROPERTY",
        );
        return;
    }
    if !lists.is_empty() || keys.iter().any(|k| k == property) {
        return;
    }
    if keys.is_empty() {
        errors.push(
            "--load-balancer",
            format!(
                "`{property}` is not a routable property: protocol `{protocol}` declares none \
                 to hash on"
            ),
        );
        return;
    }
    let declared = names::quoted(keys);
    let candidates: Vec<&str> = keys.iter().map(String::as_str).collect();
    let hint = crate::lower::did_you_mean(property, &candidates)
        .map(|best| format!("; did you mean `{best}`?"))
        .unwrap_or_default();
    errors.push(
        "--load-balancer",
        format!(
            "`{property}` is not a routable property of `{protocol}` (it declares \
             {declared}){hint}"
        ),
    );
}

fn gateway(
    errors: &mut Errors,
    opts: &ManifestOptions,
    service: &str,
    name_of_protocol: &str,
    resolution: Resolution,
) -> GatewayPlan {
    let name = format!("{service}-gateway");
    errors.check("--service", &name, names::dns1035_label(&name));
    let gateway_port = names::port_name(name_of_protocol, "gateway");
    if let Err(why) = names::dns1123_label(&gateway_port) {
        errors.push(
            "schema",
            format!("the gateway port name `{gateway_port}` {why}"),
        );
    }
    if opts.port() == GATEWAY_ADMIN_PORT {
        errors.push(
            "--port",
            format!("{GATEWAY_ADMIN_PORT} is the gateway proxy's admin port; choose another"),
        );
    }
    let image = opts.image().to_owned();
    if image.is_empty() || image.contains(char::is_whitespace) {
        errors.push("--image", format!("`{image}` is not an image reference"));
    }
    if opts.service_entry && !proxy_finds_endpoints(opts, resolution) {
        errors.push(
            "--gateway",
            "the gateway proxy cannot select pods by label: with --service-entry give \
             --endpoint ADDRESS (or --resolution dns to resolve the hosts), or drop \
             --service-entry to route through the Kubernetes Service",
        );
    }
    GatewayPlan {
        name,
        image,
        replicas: opts.replicas(),
    }
}

/// Whether `mproto proxy` can find the ServiceEntry's endpoints from its files: it reads
/// listed endpoints, or resolves the hosts by DNS, but cannot watch pods by label.
fn proxy_finds_endpoints(opts: &ManifestOptions, resolution: Resolution) -> bool {
    !opts.endpoints.is_empty() || resolution.by_dns()
}

/// `--listen` and `--admin` only say something with `--standalone`.
fn check_standalone_only(errors: &mut Errors, opts: &ManifestOptions) {
    let only = [
        ("--listen", opts.listen.is_some()),
        ("--admin", opts.admin.is_some()),
    ];
    for (option, given) in only {
        if given {
            errors.push(
                option,
                "only applies to the standalone proxy: add --standalone",
            );
        }
    }
}

/// Checks that the standalone proxy can run: a ServiceEntry it can find endpoints for,
/// socket addresses to bind, and no address that would make it forward to itself.
fn standalone(
    errors: &mut Errors,
    opts: &ManifestOptions,
    hosts: &[String],
    resolution: Resolution,
) -> Option<StandalonePlan> {
    if opts.gateway {
        errors.push(
            "--standalone",
            "cannot be combined with --gateway: --gateway runs the proxy in a cluster (its \
             Proxy object is in the ConfigMap), --standalone runs it here with \
             `mproto proxy --config`; drop one of them",
        );
    }
    if !opts.service_entry {
        errors.push(
            "--standalone",
            "the proxy forwards to a ServiceEntry's endpoints: add --service-entry with \
             --endpoint ADDRESS[:PORT] (or --resolution dns to resolve the hosts)",
        );
    } else if resolution == Resolution::None && opts.endpoints.is_empty() {
        errors.push(
            "--standalone",
            "the proxy cannot forward to a connection's original destination \
             (--resolution none): add --endpoint ADDRESS[:PORT] and drop --resolution, \
             or use --resolution dns to resolve the hosts",
        );
    } else if !proxy_finds_endpoints(opts, resolution) {
        errors.push(
            "--standalone",
            "the proxy cannot select pods by label: add --endpoint ADDRESS[:PORT] \
             (or --resolution dns to resolve the hosts)",
        );
    }
    let listen = socket_addr(errors, "--listen", &opts.listen());
    let admin = socket_addr(errors, "--admin", &opts.admin());
    if let (Some(listen), Some(admin)) = (listen, admin)
        && overlaps(listen, admin)
    {
        errors.push(
            "--admin",
            format!(
                "`{admin}` and the listener `{listen}` (--listen) would both bind port {}; \
                 choose another --admin address",
                admin.port()
            ),
        );
    }
    for (upstream, addrs) in upstreams(opts, hosts, resolution) {
        let reached =
            |bound: Option<SocketAddr>| bound.filter(|&b| addrs.iter().any(|&a| reaches(b, a)));
        if let Some(listen) = reached(listen) {
            errors.push(
                "--listen",
                format!(
                    "`{listen}` is where {upstream} listens: the proxy would forward to \
                     itself; choose another --listen address, or another port for the upstream"
                ),
            );
        }
        if let Some(admin) = reached(admin) {
            errors.push(
                "--admin",
                format!(
                    "`{admin}` is where {upstream} listens: the proxy would forward to its \
                     own admin server; choose another --admin address"
                ),
            );
        }
    }
    Some(StandalonePlan {
        listen: listen?,
        admin: admin?,
    })
}

/// Parses an `IP:PORT` socket address, as the proxy will (IPv6 in brackets).
fn socket_addr(errors: &mut Errors, option: &'static str, text: &str) -> Option<SocketAddr> {
    let parsed = text.parse::<SocketAddr>().ok();
    if parsed.is_none() {
        errors.push(
            option,
            format!(
                "`{text}` is not an IP:PORT socket address (such as 127.0.0.1:9000 or \
                 [::1]:9000; the proxy binds addresses, not names)"
            ),
        );
    }
    parsed
}

/// The upstreams the proxy would forward to whose addresses are known without resolving
/// names (IP endpoints, and `localhost` as endpoint or, resolved by DNS, as host), each
/// described for messages.
fn upstreams(
    opts: &ManifestOptions,
    hosts: &[String],
    resolution: Resolution,
) -> Vec<(String, Vec<SocketAddr>)> {
    let target = opts.target_port();
    let known = |what: &str, address: &str, port: u16| {
        let (ips, shown) = match address.parse::<IpAddr>() {
            Ok(ip) => (vec![ip], SocketAddr::new(ip, port).to_string()),
            Err(_) if address.eq_ignore_ascii_case("localhost") => (
                vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()],
                format!("{address}:{port}"),
            ),
            Err(_) => return None,
        };
        let addrs = ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect();
        Some((format!("{what} `{shown}`"), addrs))
    };
    let mut out: Vec<_> = opts
        .endpoints
        .iter()
        .filter_map(|e| known("endpoint", &e.address, e.port.unwrap_or(target)))
        .collect();
    if opts.endpoints.is_empty() && resolution.by_dns() {
        out.extend(hosts.iter().filter_map(|h| known("host", h, target)));
    }
    out
}

/// Whether a connection to `upstream` would arrive at a socket bound to `bound`: the same
/// address, or a wildcard bind and a local upstream on the same port.
fn reaches(bound: SocketAddr, upstream: SocketAddr) -> bool {
    let local = upstream.ip().is_loopback() || upstream.ip().is_unspecified();
    same_port(bound, upstream)
        && (bound.ip() == upstream.ip() || (covers(bound.ip(), upstream.ip()) && local))
}

/// Whether binding both addresses would fail: the same port, and the same address or one a
/// wildcard that covers the other.
fn overlaps(a: SocketAddr, b: SocketAddr) -> bool {
    same_port(a, b) && (a.ip() == b.ip() || covers(a.ip(), b.ip()) || covers(b.ip(), a.ip()))
}

/// The same port, and not 0 (which binds a free port each time).
fn same_port(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && a.port() != 0
}

/// Whether a socket bound to `wildcard` also receives connections to `ip`: `0.0.0.0` takes
/// every IPv4 address; `[::]` every address (dual-stack, Linux's default).
fn covers(wildcard: IpAddr, ip: IpAddr) -> bool {
    wildcard.is_unspecified() && (wildcard.is_ipv6() || ip.is_ipv4())
}

/// The routable property keys and the key/value lists whose every key is routable.
fn properties(schema: &ir::Schema) -> (Vec<String>, Vec<String>) {
    let mut keys = Vec::new();
    let mut lists = Vec::new();
    let Some(meta) = &schema.metadata else {
        return (keys, lists);
    };
    for property in &meta.properties {
        match property {
            ir::Property::Named { key, .. } => keys.push(key.clone()),
            ir::Property::List { field, .. } => lists.push(field_name(schema, field)),
        }
    }
    (keys, lists)
}

/// The frame field a metadata field reference starts at (the metadata block names the frame).
fn field_name(schema: &ir::Schema, field: &ir::FieldRef) -> String {
    schema
        .frame
        .and_then(|id| schema.as_struct(id))
        .and_then(|s| s.fields.get(field.field))
        .and_then(|f| f.name.as_ref())
        .map_or_else(|| format!("field #{}", field.field), |n| n.name.clone())
}

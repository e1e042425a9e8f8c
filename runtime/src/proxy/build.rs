//! Turns loaded mesh objects and a codec registry into listeners, routes and clusters.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use tokio_util::sync::CancellationToken;

use crate::codec::{Codec, Registry};
use crate::mesh::{
    self, ConfigError, ConfigErrors, Destination, DestinationRule, Loaded, Mesh, MetaRouter,
    Resolution, ServiceEntry, SimpleLb, TrafficPolicy, parse_duration,
};

use super::balance::{Balancer, Cluster, Endpoint};
use super::context::{Settings, Shared};
use super::limit::RateLimiter;
use super::listener::ListenerCtx;
use super::metrics::{Metrics, RouteSet};
use super::outlier::{Detector, Policy};
use super::pool::Pool;
use super::route::{Matcher, Route, Router, Target, Weighted, to_mutation};

/// The port-name prefix that names a MetaProtocol port's protocol, as in Aeraki.
const PORT_PREFIX: &str = "tcp-metaprotocol-";

/// A checked proxy configuration, ready to bind.
#[derive(Debug)]
pub struct Plan {
    pub(crate) listeners: Vec<(SocketAddr, Arc<ListenerCtx>)>,
    pub(crate) admin: Option<SocketAddr>,
    pub(crate) shared: Arc<Shared>,
}

impl Plan {
    /// Builds listeners, routes and clusters from `mesh`, with codecs from `registry`.
    pub fn build(mesh: &Mesh, registry: &Registry) -> Result<Plan, ConfigErrors> {
        let proxy = match mesh.proxies.as_slice() {
            [one] => one,
            [] => {
                return Err(ConfigError::file(
                    "<config>",
                    "no Proxy object (mproto.io/v1alpha1) defines listeners",
                )
                .into());
            }
            [_, second, ..] => {
                let msg = "only one Proxy object is allowed";
                return Err(ConfigError::field(
                    &second.source.file,
                    second.object.id(),
                    "metadata.name",
                    msg,
                )
                .into());
            }
        };
        let mut errors = ConfigErrors::default();
        let shared = Arc::new(Shared {
            settings: settings(proxy, &mut errors),
            metrics: Arc::new(Metrics::default()),
            access_properties: proxy
                .object
                .spec
                .access_log
                .as_ref()
                .map(|a| a.properties.clone())
                .unwrap_or_default(),
            draining: CancellationToken::new(),
            stop: CancellationToken::new(),
            ready: Default::default(),
        });
        let mut builder = Builder {
            mesh,
            registry,
            shared: shared.clone(),
            clusters: HashMap::new(),
            endpoints: HashMap::new(),
            route_metrics: RouteSet::default(),
        };
        let mut listeners = Vec::new();
        for (i, l) in proxy.object.spec.listeners.iter().enumerate() {
            let at = |field: &str, msg: String| {
                ConfigError::field(
                    &proxy.source.file,
                    proxy.object.id(),
                    format!("spec.listeners[{i}].{field}"),
                    msg,
                )
            };
            match builder.listener(l, &at) {
                Ok(ctx) => match l.address.parse::<SocketAddr>() {
                    Ok(addr) => listeners.push((addr, Arc::new(ctx))),
                    Err(e) => errors.push(at("address", e.to_string())),
                },
                Err(mut errs) => errors.0.append(&mut errs.0),
            }
        }
        if listeners.is_empty() && errors.0.is_empty() {
            errors.push(ConfigError::field(
                &proxy.source.file,
                proxy.object.id(),
                "spec.listeners",
                "at least one listener is required",
            ));
        }
        shared.metrics.set_routes(builder.route_metrics);
        let admin = proxy
            .object
            .spec
            .admin
            .as_ref()
            .and_then(|a| a.address.parse().ok());
        errors.into_result(Plan {
            listeners,
            admin,
            shared,
        })
    }

    /// The endpoints (`host:port`, in configuration order) that each destination of route
    /// `route` of listener `listener` resolves to, or why it is unresolved (a
    /// `ClusterNotFound` at run time); `None` when there is no such listener or route.
    /// Listeners are named as in the `Proxy` object (`host:port` when unnamed), routes as
    /// in the MetaRouter (`route-<i>` when unnamed). For tools and tests that check what a
    /// configuration does without serving it.
    pub fn route_endpoints(
        &self,
        listener: &str,
        route: &str,
    ) -> Option<Vec<Result<Vec<String>, String>>> {
        let (_, ctx) = self.listeners.iter().find(|(_, l)| &*l.name == listener)?;
        let route = ctx.router.routes.iter().find(|r| &*r.name == route)?;
        let endpoints = |cluster: &Cluster| {
            let members = cluster.members.iter();
            members.map(|m| m.endpoint.address.to_string()).collect()
        };
        let targets = route.destinations.iter().map(|d| match &d.target {
            Ok(cluster) => Ok(endpoints(cluster)),
            Err(why) => Err(why.to_string()),
        });
        Some(targets.collect())
    }
}

/// Limits with defaults; each field was checked on load, so parse errors cannot remain.
fn settings(proxy: &Loaded<mesh::Proxy>, errors: &mut ConfigErrors) -> Settings {
    let limits = &proxy.object.spec.limits;
    let mut s = Settings::default();
    let mut duration = |field: &str, text: &Option<String>, slot: &mut std::time::Duration| {
        if let Some(text) = text {
            match parse_duration(text) {
                Ok(d) => *slot = d,
                Err(e) => errors.push(ConfigError::field(
                    &proxy.source.file,
                    proxy.object.id(),
                    format!("spec.limits.{field}"),
                    e,
                )),
            }
        }
    };
    duration("idleTimeout", &limits.idle_timeout, &mut s.idle_timeout);
    duration(
        "requestTimeout",
        &limits.request_timeout,
        &mut s.request_timeout,
    );
    duration(
        "connectTimeout",
        &limits.connect_timeout,
        &mut s.connect_timeout,
    );
    duration("drainTimeout", &limits.drain_timeout, &mut s.drain_timeout);
    duration(
        "upstreamIdleTimeout",
        &limits.upstream_idle_timeout,
        &mut s.upstream_idle_timeout,
    );
    let size = |v: Option<u32>, default: usize| v.map_or(default, |v| v.max(1) as usize);
    s.max_frame = limits
        .max_frame
        .map(|v| usize::try_from(v).unwrap_or(usize::MAX));
    s.max_connections = size(limits.max_connections, s.max_connections);
    s.max_in_flight = size(limits.max_in_flight, s.max_in_flight);
    s.buffer = size(limits.buffer, s.buffer);
    s.upstream_connections = size(limits.upstream_connections, s.upstream_connections);
    s
}

/// Resolves hosts to clusters, sharing endpoints (and their connection pools) between clusters.
struct Builder<'a> {
    mesh: &'a Mesh,
    registry: &'a Registry,
    shared: Arc<Shared>,
    clusters: HashMap<(String, Option<String>, u32, &'static str), Target>,
    endpoints: HashMap<(String, &'static str), Arc<Endpoint>>,
    /// Per-route counters, one per route name, in build order.
    route_metrics: RouteSet,
}

/// Builds a `ConfigError` for a listener field.
type At<'f> = &'f dyn Fn(&str, String) -> ConfigError;

impl Builder<'_> {
    fn listener(&mut self, l: &mesh::Listener, at: At<'_>) -> Result<ListenerCtx, ConfigErrors> {
        let entry = service_entry(self.mesh, &l.host)
            .ok_or_else(|| at("host", format!("no ServiceEntry has host `{}`", l.host)))?;
        let port = entry
            .object
            .spec
            .ports
            .iter()
            .find(|p| p.number == l.port)
            .ok_or_else(|| {
                at(
                    "port",
                    format!("ServiceEntry {} has no port {}", entry.object.id(), l.port),
                )
            })?;
        let protocol = match &l.protocol {
            Some(p) => p.clone(),
            None => protocol_of_port(&port.name).ok_or_else(|| {
                at("protocol", format!("port name `{}` does not say the protocol ({PORT_PREFIX}<protocol>); set `protocol`", port.name))
            })?,
        };
        let codec = self.codec(&protocol, at)?;
        let max_frame = self
            .shared
            .settings
            .max_frame
            .unwrap_or_else(|| codec.max_frame_len());
        let router = self.router(l, &codec, max_frame)?;
        let name = if l.name.is_empty() {
            format!("{}:{}", l.host, l.port)
        } else {
            l.name.clone()
        };
        Ok(ListenerCtx {
            name: name.into(),
            protocol: protocol.into(),
            codec,
            max_frame,
            router,
            shared: self.shared.clone(),
        })
    }

    /// The codec for `protocol`: through its ApplicationProtocol, else the registry's own.
    fn codec(&self, protocol: &str, at: At<'_>) -> Result<Arc<dyn Codec>, ConfigErrors> {
        let app = self
            .mesh
            .application_protocols
            .iter()
            .find(|a| a.object.spec.protocol == protocol);
        match app {
            Some(app) => self
                .registry
                .by_codec_name(&app.object.spec.codec)
                .cloned()
                .ok_or_else(|| {
                    let msg = format!(
                        "no codec `{}` is compiled in (known: {:?})",
                        app.object.spec.codec,
                        self.registry.codec_names()
                    );
                    ConfigError::field(&app.source.file, app.object.id(), "spec.codec", msg).into()
                }),
            None => self.registry.by_protocol(protocol).cloned().ok_or_else(|| {
                at(
                    "protocol",
                    format!(
                        "no ApplicationProtocol or compiled-in codec for protocol `{protocol}`"
                    ),
                )
                .into()
            }),
        }
    }

    fn router(
        &mut self,
        l: &mesh::Listener,
        codec: &Arc<dyn Codec>,
        max_frame: usize,
    ) -> Result<Router, ConfigErrors> {
        let routers: Vec<&Loaded<MetaRouter>> = self
            .mesh
            .meta_routers
            .iter()
            .filter(|r| r.object.spec.hosts.contains(&l.host))
            .collect();
        let router = match routers.as_slice() {
            [] => None,
            [one] => Some(*one),
            [_, second, ..] => {
                let msg = format!("a second MetaRouter for host `{}`", l.host);
                return Err(ConfigError::field(
                    &second.source.file,
                    second.object.id(),
                    "spec.hosts",
                    msg,
                )
                .into());
            }
        };
        let err = |r: &Loaded<MetaRouter>, field: String, msg: String| -> ConfigErrors {
            ConfigError::field(&r.source.file, r.object.id(), field, msg).into()
        };
        let mut out = Router::default();
        let Some(r) = router else {
            out.routes.push(self.default_route(l, codec, max_frame));
            return Ok(out);
        };
        if let Some(limit) = &r.object.spec.local_rate_limit {
            out.limiter =
                Some(RateLimiter::new(limit).map_err(|e| err(r, "spec.localRateLimit".into(), e))?);
        }
        for (i, spec) in r.object.spec.routes.iter().enumerate() {
            let matcher = Matcher::new(spec.match_.as_ref())
                .map_err(|e| err(r, format!("spec.routes[{i}].match"), e))?;
            let timeout = match &spec.timeout {
                Some(t) => {
                    parse_duration(t).map_err(|e| err(r, format!("spec.routes[{i}].timeout"), e))?
                }
                None => self.shared.settings.request_timeout,
            };
            let all_unweighted = spec.route.iter().all(|d| d.weight.is_none());
            let destinations = spec
                .route
                .iter()
                .map(|d| Weighted {
                    weight: if all_unweighted {
                        1
                    } else {
                        d.weight.unwrap_or(0)
                    },
                    target: self.target(&d.destination, l.port, codec, max_frame),
                })
                .collect();
            let mirror = spec.mirror.as_ref().map(|m| {
                let share = spec
                    .mirror_percentage
                    .as_ref()
                    .map_or(1.0, |p| p.value / 100.0);
                (self.target(m, l.port, codec, max_frame), share)
            });
            let name: Arc<str> = if spec.name.is_empty() {
                format!("route-{i}").into()
            } else {
                spec.name.as_str().into()
            };
            out.routes.push(Route {
                metrics: self.route_metrics.counters(&name),
                name,
                matcher,
                destinations,
                request_mutation: to_mutation(&spec.request_mutation),
                response_mutation: to_mutation(&spec.response_mutation),
                mirror,
                timeout,
            });
        }
        if out.routes.is_empty() {
            out.routes.push(self.default_route(l, codec, max_frame));
        }
        Ok(out)
    }

    /// Without routes, everything goes to the listener's own host, as Aeraki does.
    fn default_route(
        &mut self,
        l: &mesh::Listener,
        codec: &Arc<dyn Codec>,
        max_frame: usize,
    ) -> Route {
        let dest = Destination {
            host: l.host.clone(),
            ..Destination::default()
        };
        let name: Arc<str> = "default".into();
        Route {
            metrics: self.route_metrics.counters(&name),
            name,
            matcher: Matcher::default(),
            destinations: vec![Weighted {
                weight: 1,
                target: self.target(&dest, l.port, codec, max_frame),
            }],
            request_mutation: Default::default(),
            response_mutation: Default::default(),
            mirror: None,
            timeout: self.shared.settings.request_timeout,
        }
    }

    /// The cluster of a destination, or why it does not exist (a `ClusterNotFound` at run time).
    fn target(
        &mut self,
        d: &Destination,
        default_port: u32,
        codec: &Arc<dyn Codec>,
        max_frame: usize,
    ) -> Target {
        let port = d.port.as_ref().map_or(default_port, |p| p.number);
        let key = (d.host.clone(), d.subset.clone(), port, codec.codec_name());
        if let Some(t) = self.clusters.get(&key) {
            return t.clone();
        }
        let target = self
            .cluster(d, port, codec, max_frame)
            .map(Arc::new)
            .map_err(Arc::from);
        if let Err(why) = &target {
            tracing::warn!(host = %d.host, subset = ?d.subset, "destination unresolved: {why}");
        }
        self.clusters.insert(key, target.clone());
        target
    }

    /// The cluster for a destination: its endpoints with their weights, and its balancer.
    fn cluster(
        &mut self,
        d: &Destination,
        port: u32,
        codec: &Arc<dyn Codec>,
        max_frame: usize,
    ) -> Result<Cluster, String> {
        let mesh = self.mesh;
        let entry = service_entry(mesh, &d.host)
            .ok_or_else(|| format!("no ServiceEntry has host `{}`", d.host))?;
        let spec = &entry.object.spec;
        let sport = spec
            .ports
            .iter()
            .find(|p| p.number == port)
            .ok_or_else(|| format!("host `{}` has no port {port}", d.host))?;
        let rule = destination_rule(mesh, &d.host);
        let subset = match &d.subset {
            None => None,
            Some(name) => Some(
                rule.and_then(|r| r.object.spec.subsets.iter().find(|s| &s.name == name))
                    .ok_or_else(|| {
                        format!(
                            "no DestinationRule defines subset `{name}` of host `{}`",
                            d.host
                        )
                    })?,
            ),
        };
        let policies = (
            subset.and_then(|s| s.traffic_policy.as_ref()),
            rule.and_then(|r| r.object.spec.traffic_policy.as_ref()),
        );
        let lb = merged(policies, |p| p.load_balancer.as_ref());
        let outlier = merged(policies, |p| p.outlier_detection.as_ref())
            .map(|od| Detector::new(Policy::new(od), self.shared.metrics.clone()));
        let selector = subset.map(|s| &s.labels);
        let members = endpoint_addresses(mesh, entry, sport, selector)
            .into_iter()
            .map(|(address, weight)| (self.endpoint(address, codec, max_frame), weight))
            .collect();
        let name = format!("{}|{}|{port}", d.host, d.subset.as_deref().unwrap_or(""));
        Ok(Cluster::new(name.into(), members, balancer(lb), outlier))
    }

    fn endpoint(
        &mut self,
        address: String,
        codec: &Arc<dyn Codec>,
        max_frame: usize,
    ) -> Arc<Endpoint> {
        let shared = self.shared.clone();
        self.endpoints
            .entry((address.clone(), codec.codec_name()))
            .or_insert_with(|| {
                Arc::new(Endpoint::new(Pool::new(
                    address.into(),
                    codec.clone(),
                    max_frame,
                    shared,
                )))
            })
            .clone()
    }
}

fn service_entry<'m>(mesh: &'m Mesh, host: &str) -> Option<&'m Loaded<ServiceEntry>> {
    mesh.service_entries
        .iter()
        .find(|e| e.object.spec.hosts.iter().any(|h| h == host))
}

fn destination_rule<'m>(mesh: &'m Mesh, host: &str) -> Option<&'m Loaded<DestinationRule>> {
    mesh.destination_rules
        .iter()
        .find(|r| r.object.spec.host == host)
}

/// The protocol in a `tcp-metaprotocol-<protocol>[-suffix]` port name.
fn protocol_of_port(name: &str) -> Option<String> {
    let rest = name.strip_prefix(PORT_PREFIX)?;
    let protocol = rest.split('-').next().filter(|p| !p.is_empty())?;
    Some(protocol.to_owned())
}

/// `address:port` and weight of each endpoint whose labels include `selector`: the entry's
/// own `endpoints`, the `WorkloadEntry`s its `workloadSelector` selects, or, for a DNS entry
/// with neither, its hosts (weight 1). An absent weight is 1; `Cluster::new` makes 0 a 1.
fn endpoint_addresses(
    mesh: &Mesh,
    entry: &Loaded<ServiceEntry>,
    port: &mesh::ServicePort,
    selector: Option<&BTreeMap<String, String>>,
) -> Vec<(String, u32)> {
    let spec = &entry.object.spec;
    let has = |labels: &BTreeMap<String, String>, want: &BTreeMap<String, String>| {
        want.iter().all(|(k, v)| labels.get(k) == Some(v))
    };
    let workloads = spec.workload_selector.as_ref().into_iter().flat_map(|ws| {
        mesh.workload_entries
            .iter()
            .map(|w| &w.object.spec)
            .filter(move |w| !ws.labels.is_empty() && has(&w.labels, &ws.labels))
    });
    let target = port.target_port.unwrap_or(port.number);
    let join = |host: &str, port: u32| {
        if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }
    };
    let selected: Vec<(String, u32)> = spec
        .endpoints
        .iter()
        .chain(workloads)
        .filter(|e| selector.is_none_or(|sel| has(&e.labels, sel)))
        .map(|e| {
            let port = e.ports.get(&port.name).copied().unwrap_or(target);
            (join(&e.address, port), e.weight.unwrap_or(1))
        })
        .collect();
    let dns = matches!(
        spec.resolution,
        Some(Resolution::Dns | Resolution::DnsRoundRobin)
    );
    if selected.is_empty() && dns && selector.is_none() {
        return spec.hosts.iter().map(|h| (join(h, target), 1)).collect();
    }
    selected
}

/// A field of the subset's traffic policy, else of the host's: Istio merges a subset's
/// policy over the host's field by field, so a subset that sets only outlierDetection keeps
/// the host's loadBalancer.
fn merged<'p, T>(
    (subset, host): (Option<&'p TrafficPolicy>, Option<&'p TrafficPolicy>),
    field: fn(&'p TrafficPolicy) -> Option<&'p T>,
) -> Option<&'p T> {
    subset.and_then(field).or_else(|| host.and_then(field))
}

/// The balancer a DestinationRule's `loadBalancer` asks for; round robin by default.
fn balancer(lb: Option<&mesh::LoadBalancerSettings>) -> Balancer {
    let Some(lb) = lb else {
        return Balancer::RoundRobin(AtomicUsize::new(0));
    };
    if let Some(key) = lb
        .consistent_hash
        .as_ref()
        .and_then(|h| h.http_header_name.clone())
    {
        return Balancer::Hash(key);
    }
    match lb.simple {
        Some(SimpleLb::Random) => Balancer::Random,
        Some(SimpleLb::LeastRequest | SimpleLb::LeastConn) => Balancer::LeastRequest,
        _ => Balancer::RoundRobin(AtomicUsize::new(0)),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::stub::StubCodec;
    use super::*;

    /// Host `a.test` lists weighted endpoints; `b.test` selects weighted WorkloadEntries, one
    /// at an address `a.test` also has; `c.test` is a DNS host. Routes 0, 1, 2 go to each.
    const WEIGHTED: &str = r#"
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: a, namespace: test}
spec:
  hosts: [a.test]
  ports: [{number: 9000, name: tcp-metaprotocol-stub, protocol: TCP}]
  resolution: STATIC
  endpoints:
  - {address: 10.0.0.1, weight: 1}
  - {address: 10.0.0.2, weight: 3}
  - {address: 10.0.0.3}
  - {address: 10.0.0.4, weight: 0}
---
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: b, namespace: test}
spec:
  hosts: [b.test]
  ports: [{number: 9000, name: tcp-metaprotocol-stub, protocol: TCP}]
  resolution: STATIC
  workloadSelector: {labels: {app: b}}
---
apiVersion: networking.istio.io/v1beta1
kind: WorkloadEntry
metadata: {name: b1, namespace: test}
spec: {address: 10.0.0.1, labels: {app: b}, weight: 5}
---
apiVersion: networking.istio.io/v1beta1
kind: WorkloadEntry
metadata: {name: b2, namespace: test}
spec: {address: 10.0.1.2, labels: {app: b}, weight: 2}
---
apiVersion: networking.istio.io/v1beta1
kind: WorkloadEntry
metadata: {name: other, namespace: test}
spec: {address: 10.0.2.1, labels: {app: other}, weight: 9}
---
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: c, namespace: test}
spec:
  hosts: [c.test]
  ports: [{number: 9000, name: tcp-metaprotocol-stub, protocol: TCP}]
  resolution: DNS
---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: a, namespace: test}
spec:
  hosts: [a.test]
  routes:
  - {match: {attributes: {to: {exact: a}}}, route: [{destination: {host: a.test}}]}
  - {match: {attributes: {to: {exact: b}}}, route: [{destination: {host: b.test}}]}
  - {match: {attributes: {to: {exact: c}}}, route: [{destination: {host: c.test}}]}
---
apiVersion: mproto.io/v1alpha1
kind: Proxy
metadata: {name: test}
spec:
  listeners: [{address: "127.0.0.1:0", host: a.test, port: 9000}]
"#;

    /// The cluster the first destination of route `i` resolves to.
    fn cluster_of(plan: &Plan, i: usize) -> Arc<Cluster> {
        let route = &plan.listeners[0].1.router.routes[i];
        route.destinations[0].target.clone().unwrap()
    }

    /// `(address, weight)` of each endpoint of a cluster.
    fn weights(cluster: &Cluster) -> Vec<(&str, u32)> {
        let members = cluster.members.iter();
        members.map(|m| (&*m.endpoint.address, m.weight)).collect()
    }

    #[test]
    fn clusters_carry_endpoint_weights() {
        let mesh = Mesh::load_str("weighted.yaml", WEIGHTED).unwrap();
        let mut registry = Registry::new();
        registry.register(Arc::new(StubCodec));
        let plan = Plan::build(&mesh, &registry).unwrap();
        let (a, b, c) = (
            cluster_of(&plan, 0),
            cluster_of(&plan, 1),
            cluster_of(&plan, 2),
        );
        // Absent and 0 both count as 1, as Envoy requires weights of at least 1.
        assert_eq!(
            weights(&a),
            [
                ("10.0.0.1:9000", 1),
                ("10.0.0.2:9000", 3),
                ("10.0.0.3:9000", 1),
                ("10.0.0.4:9000", 1)
            ]
        );
        assert_eq!(weights(&b), [("10.0.0.1:9000", 5), ("10.0.1.2:9000", 2)]);
        assert_eq!(weights(&c), [("c.test:9000", 1)]);
        // One endpoint, one pool, a weight of its own in each cluster.
        assert!(Arc::ptr_eq(&a.members[0].endpoint, &b.members[0].endpoint));
    }

    #[test]
    fn route_endpoints_name_each_destination_s_cluster() {
        let yaml = WEIGHTED.replace(
            "{destination: {host: c.test}}",
            "{destination: {host: c.test, subset: x}}",
        );
        let mesh = Mesh::load_str("weighted.yaml", &yaml).unwrap();
        let mut registry = Registry::new();
        registry.register(Arc::new(StubCodec));
        let plan = Plan::build(&mesh, &registry).unwrap();
        let b = plan.route_endpoints("a.test:9000", "route-1").unwrap();
        assert_eq!(
            b,
            [Ok(vec![
                "10.0.0.1:9000".to_owned(),
                "10.0.1.2:9000".to_owned()
            ])]
        );
        let c = plan.route_endpoints("a.test:9000", "route-2").unwrap();
        assert_eq!(
            c,
            [Err(
                "no DestinationRule defines subset `x` of host `c.test`".to_owned()
            )]
        );
        assert!(plan.route_endpoints("a.test:9000", "nope").is_none());
        assert!(plan.route_endpoints("nope", "route-0").is_none());
    }

    #[test]
    fn a_subset_policy_overrides_the_host_policy_field_by_field() {
        let yaml = WEIGHTED.replace(
            "{destination: {host: a.test}}",
            "{destination: {host: a.test, subset: v1}}",
        ) + "---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: a, namespace: test}
spec:
  host: a.test
  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
  subsets:
  - {name: v1, labels: {}, trafficPolicy: {outlierDetection: {consecutiveGatewayErrors: 2}}}
";
        let mesh = Mesh::load_str("weighted.yaml", &yaml).unwrap();
        let mut registry = Registry::new();
        registry.register(Arc::new(StubCodec));
        let plan = Plan::build(&mesh, &registry).unwrap();
        let v1 = cluster_of(&plan, 0);
        assert!(v1.outlier.is_some(), "the subset's outlierDetection");
        assert!(
            matches!(v1.balancer, Balancer::LeastRequest),
            "the host's loadBalancer: {:?}",
            v1.balancer
        );
    }

    /// The settings built from [`WEIGHTED`] with `limits` added to its Proxy object.
    fn settings_with(limits: &str) -> Settings {
        let yaml = format!("{WEIGHTED}  limits: {{{limits}}}\n");
        let mesh = Mesh::load_str("weighted.yaml", &yaml).unwrap();
        let mut registry = Registry::new();
        registry.register(Arc::new(StubCodec));
        Plan::build(&mesh, &registry)
            .unwrap()
            .shared
            .settings
            .clone()
    }

    #[test]
    fn upstream_idle_timeout_defaults_to_the_downstream_default() {
        let defaults = settings_with("");
        assert_eq!(defaults.upstream_idle_timeout, Duration::from_secs(300));
        assert_eq!(defaults.upstream_idle_timeout, defaults.idle_timeout);
        // Each side has its own limit.
        let set = settings_with("upstreamIdleTimeout: 1.5s, idleTimeout: 10s");
        assert_eq!(set.upstream_idle_timeout, Duration::from_millis(1500));
        assert_eq!(set.idle_timeout, Duration::from_secs(10));
    }

    #[test]
    fn protocol_comes_from_the_port_name() {
        assert_eq!(
            protocol_of_port("tcp-metaprotocol-dubbo").as_deref(),
            Some("dubbo")
        );
        assert_eq!(
            protocol_of_port("tcp-metaprotocol-thrift-server").as_deref(),
            Some("thrift")
        );
        assert_eq!(protocol_of_port("tcp-dubbo"), None);
        assert_eq!(protocol_of_port("tcp-metaprotocol-"), None);
    }
}

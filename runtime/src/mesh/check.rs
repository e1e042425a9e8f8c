//! Field checks that serde cannot express: one-of matches, regexes, durations, ranges.

use super::aeraki::ApplicationProtocol;
use super::aeraki::{MetaRoute, MetaRouteMatch, MetaRouter, StringMatch, TokenBucket};
use super::duration::parse_duration;
use super::istio::{
    DestinationRule, OutlierDetection, Service, ServiceEntry, TrafficPolicy, WorkloadEntryObject,
};
use super::proxy::{Limits, Proxy};

/// Problems as `(field path, message)`.
type Out = Vec<(String, String)>;

/// The kind-specific checks of an object.
pub trait CheckSpec {
    /// Pushes `(field path, message)` for every problem in the spec.
    fn check_spec(&self, out: &mut Out);
}

impl CheckSpec for ApplicationProtocol {
    fn check_spec(&self, out: &mut Out) {
        non_empty(out, "spec.protocol", &self.spec.protocol);
        non_empty(out, "spec.codec", &self.spec.codec);
    }
}

impl CheckSpec for MetaRouter {
    fn check_spec(&self, out: &mut Out) {
        if self.spec.hosts.is_empty() {
            push(out, "spec.hosts", "must name at least one host");
        }
        for (i, route) in self.spec.routes.iter().enumerate() {
            check_route(out, &format!("spec.routes[{i}]"), route);
        }
        if let Some(limit) = &self.spec.local_rate_limit {
            if let Some(bucket) = &limit.token_bucket {
                check_bucket(out, "spec.localRateLimit.tokenBucket", bucket);
            }
            for (i, cond) in limit.conditions.iter().enumerate() {
                let at = format!("spec.localRateLimit.conditions[{i}]");
                match &cond.token_bucket {
                    Some(bucket) => check_bucket(out, &format!("{at}.tokenBucket"), bucket),
                    None => push(out, &format!("{at}.tokenBucket"), "is required"),
                }
                if let Some(m) = &cond.match_ {
                    check_match(out, &format!("{at}.match"), m);
                }
            }
        }
    }
}

fn check_route(out: &mut Out, at: &str, route: &MetaRoute) {
    if let Some(m) = &route.match_ {
        check_match(out, &format!("{at}.match"), m);
    }
    if route.route.is_empty() {
        push(
            out,
            &format!("{at}.route"),
            "must list at least one destination",
        );
    }
    for (j, dest) in route.route.iter().enumerate() {
        non_empty(
            out,
            &format!("{at}.route[{j}].destination.host"),
            &dest.destination.host,
        );
    }
    if route.route.len() > 1 && route.route.iter().all(|d| d.weight == Some(0)) {
        push(out, &format!("{at}.route"), "all weights are 0");
    }
    if let Some(mirror) = &route.mirror {
        non_empty(out, &format!("{at}.mirror.host"), &mirror.host);
    }
    if let Some(p) = &route.mirror_percentage
        && !(0.0..=100.0).contains(&p.value)
    {
        push(
            out,
            &format!("{at}.mirrorPercentage.value"),
            "must be between 0 and 100",
        );
    }
    if let Some(t) = &route.timeout {
        duration(out, &format!("{at}.timeout"), t);
    }
}

/// Checks each attribute condition: at most one of exact/prefix/regex, and a valid regex.
pub(crate) fn check_match(out: &mut Out, at: &str, m: &MetaRouteMatch) {
    for (name, cond) in &m.attributes {
        let field = format!("{at}.attributes.{name}");
        let set = [&cond.exact, &cond.prefix, &cond.regex];
        if set.iter().filter(|v| v.is_some()).count() > 1 {
            push(out, &field, "set only one of exact, prefix and regex");
        }
        if let Err(e) = compile_regex(cond) {
            push(out, &format!("{field}.regex"), &e);
        }
    }
}

/// Compiles a condition's regex, anchored to match the whole value as RE2 full match does.
pub(crate) fn compile_regex(cond: &StringMatch) -> Result<Option<regex::Regex>, String> {
    cond.regex
        .as_deref()
        .map(|r| regex::Regex::new(&format!("^(?:{r})$")).map_err(|e| e.to_string()))
        .transpose()
}

fn check_bucket(out: &mut Out, at: &str, bucket: &TokenBucket) {
    if bucket.max_tokens == 0 {
        push(out, &format!("{at}.maxTokens"), "must be at least 1");
    }
    if bucket.tokens_per_fill == Some(0) {
        push(out, &format!("{at}.tokensPerFill"), "must be at least 1");
    }
    match parse_duration(&bucket.fill_interval) {
        Ok(d) if d.is_zero() => push(out, &format!("{at}.fillInterval"), "must be positive"),
        Ok(_) => {}
        Err(e) => push(out, &format!("{at}.fillInterval"), &e),
    }
}

impl CheckSpec for ServiceEntry {
    fn check_spec(&self, out: &mut Out) {
        if self.spec.hosts.is_empty() {
            push(out, "spec.hosts", "must name at least one host");
        }
        for (i, port) in self.spec.ports.iter().enumerate() {
            port_number(out, &format!("spec.ports[{i}].number"), port.number);
        }
        for (i, ep) in self.spec.endpoints.iter().enumerate() {
            non_empty(out, &format!("spec.endpoints[{i}].address"), &ep.address);
            for (name, port) in &ep.ports {
                port_number(out, &format!("spec.endpoints[{i}].ports.{name}"), *port);
            }
        }
    }
}

impl CheckSpec for WorkloadEntryObject {
    fn check_spec(&self, out: &mut Out) {
        non_empty(out, "spec.address", &self.spec.address);
        for (name, port) in &self.spec.ports {
            port_number(out, &format!("spec.ports.{name}"), *port);
        }
    }
}

impl CheckSpec for DestinationRule {
    fn check_spec(&self, out: &mut Out) {
        non_empty(out, "spec.host", &self.spec.host);
        check_policy(out, "spec.trafficPolicy", self.spec.traffic_policy.as_ref());
        for (i, subset) in self.spec.subsets.iter().enumerate() {
            non_empty(out, &format!("spec.subsets[{i}].name"), &subset.name);
            let at = format!("spec.subsets[{i}].trafficPolicy");
            check_policy(out, &at, subset.traffic_policy.as_ref());
            if self.spec.subsets[..i].iter().any(|s| s.name == subset.name) {
                push(
                    out,
                    &format!("spec.subsets[{i}].name"),
                    "repeats an earlier subset",
                );
            }
        }
    }
}

fn check_policy(out: &mut Out, at: &str, policy: Option<&TrafficPolicy>) {
    if let Some(od) = policy.and_then(|p| p.outlier_detection.as_ref()) {
        check_outlier(out, &format!("{at}.outlierDetection"), od);
    }
}

fn check_outlier(out: &mut Out, at: &str, od: &OutlierDetection) {
    // Istio rejects durations under 1ms; zero would eject for no time or sweep constantly.
    let durations = [
        ("interval", &od.interval),
        ("baseEjectionTime", &od.base_ejection_time),
    ];
    for (name, value) in durations {
        let Some(text) = value else { continue };
        match parse_duration(text) {
            Ok(d) if d < std::time::Duration::from_millis(1) => {
                push(out, &format!("{at}.{name}"), "must be at least 1ms");
            }
            Ok(_) => {}
            Err(e) => push(out, &format!("{at}.{name}"), &e),
        }
    }
    if od.max_ejection_percent.is_some_and(|p| p > 100) {
        push(
            out,
            &format!("{at}.maxEjectionPercent"),
            "must be between 0 and 100",
        );
    }
}

impl CheckSpec for Service {
    fn check_spec(&self, out: &mut Out) {
        for (i, port) in self.spec.ports.iter().enumerate() {
            port_number(out, &format!("spec.ports[{i}].port"), port.port);
        }
    }
}

impl CheckSpec for Proxy {
    fn check_spec(&self, out: &mut Out) {
        for (i, l) in self.spec.listeners.iter().enumerate() {
            let at = format!("spec.listeners[{i}]");
            socket_addr(out, &format!("{at}.address"), &l.address);
            non_empty(out, &format!("{at}.host"), &l.host);
            port_number(out, &format!("{at}.port"), l.port);
        }
        if let Some(admin) = &self.spec.admin {
            socket_addr(out, "spec.admin.address", &admin.address);
        }
        check_limits(out, &self.spec.limits);
    }
}

fn check_limits(out: &mut Out, limits: &Limits) {
    let positive = [
        ("maxFrame", limits.max_frame.map(|v| v as u128)),
        ("maxConnections", limits.max_connections.map(u128::from)),
        ("maxInFlight", limits.max_in_flight.map(u128::from)),
        ("buffer", limits.buffer.map(u128::from)),
        (
            "upstreamConnections",
            limits.upstream_connections.map(u128::from),
        ),
    ];
    for (name, value) in positive {
        if value == Some(0) {
            push(out, &format!("spec.limits.{name}"), "must be at least 1");
        }
    }
    let durations = [
        ("idleTimeout", &limits.idle_timeout),
        ("requestTimeout", &limits.request_timeout),
        ("connectTimeout", &limits.connect_timeout),
        ("drainTimeout", &limits.drain_timeout),
        ("upstreamIdleTimeout", &limits.upstream_idle_timeout),
    ];
    for (name, value) in durations {
        if let Some(v) = value {
            duration(out, &format!("spec.limits.{name}"), v);
        }
    }
}

fn push(out: &mut Out, field: &str, message: &str) {
    out.push((field.to_owned(), message.to_owned()));
}

fn non_empty(out: &mut Out, field: &str, value: &str) {
    if value.is_empty() {
        push(out, field, "must not be empty");
    }
}

fn port_number(out: &mut Out, field: &str, port: u32) {
    if !(1..=65535).contains(&port) {
        push(
            out,
            field,
            &format!("{port} is not a port number (1-65535)"),
        );
    }
}

fn socket_addr(out: &mut Out, field: &str, addr: &str) {
    if addr.parse::<std::net::SocketAddr>().is_err() {
        push(
            out,
            field,
            &format!("`{addr}` is not an IP:port socket address"),
        );
    }
}

fn duration(out: &mut Out, field: &str, text: &str) {
    if let Err(e) = parse_duration(text) {
        push(out, field, &e);
    }
}

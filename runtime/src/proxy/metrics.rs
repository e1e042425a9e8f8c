//! Counters and gauges the proxy keeps, rendered as Prometheus text on `/metrics`.
//!
//! Per-route counters live in one [`RouteMetrics`] per route name, made while the routes are
//! built and held by each `Route`, so the request path updates them without a lookup or a lock.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::reply::ErrorKind;

/// Upper bounds of the request duration histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Every status, in the order they are rendered.
const STATUSES: [Status; 3] = [Status::Ok, Status::Error, Status::Local];

/// How a request ended, for `mproto_responses_total{status}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The upstream answered with success.
    Ok,
    /// The upstream answered with an error.
    Error,
    /// The proxy answered itself.
    Local,
}

impl Status {
    /// The label value.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Error => "error",
            Status::Local => "local",
        }
    }
}

/// A duration histogram over [`BUCKETS`].
#[derive(Debug, Default)]
struct Histogram {
    /// Counts per bucket (not cumulative), plus one for `+Inf`.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    /// Sum of durations, in microseconds.
    sum_us: AtomicU64,
}

impl Histogram {
    /// Counts one duration.
    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let slot = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        if let Some(bucket) = self.buckets.get(slot) {
            bucket.fetch_add(1, Relaxed);
        }
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_us.fetch_add(micros, Relaxed);
    }

    /// Writes the `_bucket` (cumulative), `_sum` and `_count` samples of `name`, each with
    /// `labels` (`k="v"` pairs, or empty) before `le`.
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            cumulative += bucket.load(Relaxed);
            let le = BUCKETS.get(i).map_or_else(|| "+Inf".into(), f64::to_string);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
        // Unlabelled `_sum` and `_count` carry no braces at all.
        let braced = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = self.sum_us.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "{name}_sum{braced} {sum}\n{name}_count{braced} {cumulative}"
        );
    }
}

/// How requests ended: counted alike for the whole proxy and for each route.
#[derive(Debug, Default)]
struct Outcomes {
    /// Responses sent downstream, by [`Status`].
    responses: [AtomicU64; 3],
    /// Local replies, by [`ErrorKind`] in `ErrorKind::ALL` order.
    local_replies: [AtomicU64; 7],
    /// Time from request to response.
    duration: Histogram,
}

impl Outcomes {
    /// Counts a response sent downstream and its duration.
    fn record_response(&self, status: Status, elapsed: Duration) {
        if let Some(counter) = self.responses.get(status as usize) {
            counter.fetch_add(1, Relaxed);
        }
        self.duration.observe(elapsed);
    }

    /// Counts a local reply of `kind`.
    fn record_local_reply(&self, kind: ErrorKind) {
        if let Some(i) = ErrorKind::ALL.iter().position(|k| *k == kind)
            && let Some(counter) = self.local_replies.get(i)
        {
            counter.fetch_add(1, Relaxed);
        }
    }

    /// Local replies of `kind` so far.
    fn local_replies(&self, kind: ErrorKind) -> u64 {
        ErrorKind::ALL
            .iter()
            .position(|k| *k == kind)
            .and_then(|i| self.local_replies.get(i))
            .map_or(0, |c| c.load(Relaxed))
    }

    /// Responses of `status` so far.
    fn responses(&self, status: Status) -> u64 {
        self.responses
            .get(status as usize)
            .map_or(0, |c| c.load(Relaxed))
    }
}

/// The counters of one route name, shared by every route built with that name.
#[derive(Debug)]
pub(crate) struct RouteMetrics {
    /// The route's name: the `route` label.
    name: Arc<str>,
    /// Requests matched to the route (two-way and oneway).
    requests: AtomicU64,
    /// How its requests ended.
    outcomes: Outcomes,
}

impl RouteMetrics {
    /// Counts a request matched to the route.
    pub(crate) fn record_request(&self) {
        self.requests.fetch_add(1, Relaxed);
    }

    /// Counts a response to one of the route's requests and its duration.
    pub(crate) fn record_response(&self, status: Status, elapsed: Duration) {
        self.outcomes.record_response(status, elapsed);
    }

    /// Counts a local reply of `kind` to one of the route's requests.
    pub(crate) fn record_local_reply(&self, kind: ErrorKind) {
        self.outcomes.record_local_reply(kind);
    }
}

/// The per-route counters handed out while routes are built, in build order.
#[derive(Debug, Default)]
pub(crate) struct RouteSet(Vec<Arc<RouteMetrics>>);

impl RouteSet {
    /// The counters for `name`, made on first use; routes sharing a name (`default` on two
    /// listeners, say) share them, because two series with one label set are invalid.
    pub(crate) fn counters(&mut self, name: &Arc<str>) -> Arc<RouteMetrics> {
        if let Some(found) = self.0.iter().find(|r| r.name == *name) {
            return found.clone();
        }
        let made = Arc::new(RouteMetrics {
            name: name.clone(),
            requests: AtomicU64::new(0),
            outcomes: Outcomes::default(),
        });
        self.0.push(made.clone());
        made
    }
}

/// Every metric the proxy exports; all updates are lock-free.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests received (two-way and oneway).
    pub requests: AtomicU64,
    /// Oneway requests forwarded.
    pub oneway: AtomicU64,
    /// Responses, local replies and durations of all requests.
    outcomes: Outcomes,
    /// Heartbeats answered locally.
    pub heartbeats: AtomicU64,
    /// Downstream frames that could not be framed or decoded.
    pub decode_errors: AtomicU64,
    /// Requests waiting for an answer.
    pub active_requests: AtomicI64,
    /// Requests rejected by the local rate limit.
    pub rate_limited: AtomicU64,
    /// Requests copied to a mirror.
    pub mirrored: AtomicU64,
    /// Open downstream connections.
    pub downstream_connections: AtomicI64,
    /// Downstream connections closed on accept because of `maxConnections`.
    pub downstream_rejected: AtomicU64,
    /// Open upstream connections.
    pub upstream_connections: AtomicI64,
    /// Upstream connections opened since start.
    pub upstream_connects: AtomicU64,
    /// Upstream connection attempts that failed.
    pub upstream_connect_failures: AtomicU64,
    /// Upstream connections closed after `upstreamIdleTimeout` with nothing in flight.
    pub upstream_idle_closed: AtomicU64,
    /// Endpoints ejected from a cluster by outlier detection.
    pub outlier_ejections: AtomicU64,
    /// Per-route counters in build order; set once, since configuration fixes the routes.
    routes: OnceLock<Vec<Arc<RouteMetrics>>>,
}

impl Metrics {
    /// Counts a response sent downstream and its duration.
    pub fn record_response(&self, status: Status, elapsed: Duration) {
        self.outcomes.record_response(status, elapsed);
    }

    /// Counts a local reply of `kind`.
    pub fn record_local_reply(&self, kind: ErrorKind) {
        self.outcomes.record_local_reply(kind);
    }

    /// Local replies of `kind` sent so far.
    pub fn local_replies(&self, kind: ErrorKind) -> u64 {
        self.outcomes.local_replies(kind)
    }

    /// Responses of `status` sent so far.
    pub fn responses(&self, status: Status) -> u64 {
        self.outcomes.responses(status)
    }

    /// Exports the routes' counters; a second call is ignored, as the route set is fixed.
    pub(crate) fn set_routes(&self, routes: RouteSet) {
        let _ = self.routes.set(routes.0);
    }

    /// The metrics in Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        counter(
            &mut out,
            "mproto_requests_total",
            "Requests received.",
            &self.requests,
        );
        counter(
            &mut out,
            "mproto_oneway_total",
            "Oneway requests forwarded.",
            &self.oneway,
        );
        header(
            &mut out,
            "mproto_responses_total",
            "counter",
            "Responses sent downstream by status.",
        );
        for status in STATUSES {
            let n = self.responses(status);
            let _ = writeln!(
                out,
                "mproto_responses_total{{status=\"{}\"}} {n}",
                status.name()
            );
        }
        header(
            &mut out,
            "mproto_local_replies_total",
            "counter",
            "Local replies by error kind.",
        );
        for kind in ErrorKind::ALL {
            let n = self.local_replies(kind);
            let _ = writeln!(out, "mproto_local_replies_total{{kind=\"{kind}\"}} {n}");
        }
        counter(
            &mut out,
            "mproto_heartbeats_total",
            "Heartbeats answered locally.",
            &self.heartbeats,
        );
        counter(
            &mut out,
            "mproto_decode_errors_total",
            "Downstream frames that failed to decode.",
            &self.decode_errors,
        );
        counter(
            &mut out,
            "mproto_rate_limited_total",
            "Requests rejected by the local rate limit.",
            &self.rate_limited,
        );
        counter(
            &mut out,
            "mproto_mirrored_total",
            "Requests copied to a mirror.",
            &self.mirrored,
        );
        counter(
            &mut out,
            "mproto_downstream_rejected_total",
            "Connections closed at maxConnections.",
            &self.downstream_rejected,
        );
        counter(
            &mut out,
            "mproto_upstream_connects_total",
            "Upstream connections opened.",
            &self.upstream_connects,
        );
        counter(
            &mut out,
            "mproto_upstream_connect_failures_total",
            "Upstream connection attempts that failed.",
            &self.upstream_connect_failures,
        );
        counter(
            &mut out,
            "mproto_upstream_idle_closed_total",
            "Upstream connections closed for idling.",
            &self.upstream_idle_closed,
        );
        counter(
            &mut out,
            "mproto_outlier_ejections_total",
            "Endpoints ejected from a cluster by outlier detection.",
            &self.outlier_ejections,
        );
        gauge(
            &mut out,
            "mproto_active_requests",
            "Requests waiting for an answer.",
            &self.active_requests,
        );
        gauge(
            &mut out,
            "mproto_downstream_connections",
            "Open downstream connections.",
            &self.downstream_connections,
        );
        gauge(
            &mut out,
            "mproto_upstream_connections",
            "Open upstream connections.",
            &self.upstream_connections,
        );
        let name = "mproto_request_duration_seconds";
        header(
            &mut out,
            name,
            "histogram",
            "Time from request to response.",
        );
        self.outcomes.duration.render(&mut out, name, "");
        if let Some(routes) = self.routes.get().filter(|r| !r.is_empty()) {
            render_routes(&mut out, routes);
        }
        out
    }
}

/// The per-route families, each header once with every route's samples in build order.
fn render_routes(out: &mut String, routes: &[Arc<RouteMetrics>]) {
    // Escape each name once rather than once per sample.
    let labelled: Vec<(String, &RouteMetrics)> = routes
        .iter()
        .map(|r| (format!("route=\"{}\"", escape(&r.name)), &**r))
        .collect();
    let name = "mproto_route_requests_total";
    header(out, name, "counter", "Requests matched to each route.");
    for (route, m) in &labelled {
        let _ = writeln!(out, "{name}{{{route}}} {}", m.requests.load(Relaxed));
    }
    let name = "mproto_route_responses_total";
    header(
        out,
        name,
        "counter",
        "Responses sent downstream by route and status.",
    );
    for (route, m) in &labelled {
        for status in STATUSES {
            let n = m.outcomes.responses(status);
            let _ = writeln!(out, "{name}{{{route},status=\"{}\"}} {n}", status.name());
        }
    }
    render_route_outcomes(out, &labelled);
}

/// The per-route local reply and duration families.
fn render_route_outcomes(out: &mut String, labelled: &[(String, &RouteMetrics)]) {
    let name = "mproto_route_local_replies_total";
    header(
        out,
        name,
        "counter",
        "Local replies by route and error kind.",
    );
    for (route, m) in labelled {
        // A request that matched a route cannot end in RouteNotFound: no always-zero series.
        for kind in ErrorKind::ALL
            .into_iter()
            .filter(|k| *k != ErrorKind::RouteNotFound)
        {
            let n = m.outcomes.local_replies(kind);
            let _ = writeln!(out, "{name}{{{route},kind=\"{kind}\"}} {n}");
        }
    }
    let name = "mproto_route_request_duration_seconds";
    header(
        out,
        name,
        "histogram",
        "Time from request to response, by route.",
    );
    for (route, m) in labelled {
        m.outcomes.duration.render(out, name, route);
    }
}

/// `value` escaped for a label in the text format: backslash, double quote and newline.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Writes the `# HELP` and `# TYPE` lines of a family.
fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Writes an unlabelled counter with its header.
fn counter(out: &mut String, name: &str, help: &str, value: &AtomicU64) {
    header(out, name, "counter", help);
    let _ = writeln!(out, "{name} {}", value.load(Relaxed));
}

/// Writes an unlabelled gauge with its header.
fn gauge(out: &mut String, name: &str, help: &str, value: &AtomicI64) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {}", value.load(Relaxed));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_cumulative_histogram_and_labels() {
        let m = Metrics::default();
        m.record_response(Status::Ok, Duration::from_micros(300));
        m.record_response(Status::Local, Duration::from_secs(10));
        m.record_local_reply(ErrorKind::Timeout);
        let text = m.render();
        assert!(text.contains("mproto_responses_total{status=\"ok\"} 1"));
        assert!(text.contains("mproto_local_replies_total{kind=\"Timeout\"} 1"));
        assert!(text.contains("mproto_request_duration_seconds_bucket{le=\"0.0005\"} 1"));
        assert!(text.contains("mproto_request_duration_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(text.contains("mproto_request_duration_seconds_count 2"));
        assert!(
            !text.contains("mproto_route_"),
            "no routes, no route families"
        );
    }

    /// Metrics with routes `names` built in order; repeated names share counters.
    fn with_routes(names: &[&str]) -> (Metrics, Vec<Arc<RouteMetrics>>) {
        let mut set = RouteSet::default();
        let handles = names.iter().map(|n| set.counters(&Arc::from(*n))).collect();
        let m = Metrics::default();
        m.set_routes(set);
        (m, handles)
    }

    /// The lines of `text` that start with `prefix`.
    fn lines<'t>(text: &'t str, prefix: &str) -> Vec<&'t str> {
        text.lines().filter(|l| l.starts_with(prefix)).collect()
    }

    #[test]
    fn route_families_have_one_header_and_routes_in_build_order() {
        let (m, r) = with_routes(&["alpha", "beta", "alpha"]);
        r[0].record_request();
        r[2].record_request();
        r[0].record_response(Status::Ok, Duration::from_millis(1));
        r[1].record_request();
        r[1].record_local_reply(ErrorKind::OverLimit);
        r[1].record_response(Status::Local, Duration::from_millis(1));
        let text = m.render();
        for family in [
            "mproto_route_requests_total",
            "mproto_route_responses_total",
            "mproto_route_local_replies_total",
            "mproto_route_request_duration_seconds",
        ] {
            assert_eq!(
                lines(&text, &format!("# HELP {family} ")).len(),
                1,
                "{family}"
            );
            assert_eq!(
                lines(&text, &format!("# TYPE {family} ")).len(),
                1,
                "{family}"
            );
        }
        assert_eq!(
            lines(&text, "mproto_route_requests_total"),
            [
                "mproto_route_requests_total{route=\"alpha\"} 2",
                "mproto_route_requests_total{route=\"beta\"} 1",
            ]
        );
        assert_eq!(
            lines(&text, "mproto_route_responses_total"),
            [
                "mproto_route_responses_total{route=\"alpha\",status=\"ok\"} 1",
                "mproto_route_responses_total{route=\"alpha\",status=\"error\"} 0",
                "mproto_route_responses_total{route=\"alpha\",status=\"local\"} 0",
                "mproto_route_responses_total{route=\"beta\",status=\"ok\"} 0",
                "mproto_route_responses_total{route=\"beta\",status=\"error\"} 0",
                "mproto_route_responses_total{route=\"beta\",status=\"local\"} 1",
            ]
        );
        let replies = lines(&text, "mproto_route_local_replies_total{route=\"beta\"");
        assert_eq!(replies.len(), ErrorKind::ALL.len() - 1, "{replies:?}");
        assert!(
            replies
                .contains(&"mproto_route_local_replies_total{route=\"beta\",kind=\"OverLimit\"} 1")
        );
        assert!(!text.contains("route=\"alpha\",kind=\"RouteNotFound\""));
        // The global families still count nothing the routes counted: routes are separate.
        assert!(text.contains("mproto_responses_total{status=\"ok\"} 0"));
    }

    #[test]
    fn route_names_are_escaped() {
        let (m, _) = with_routes(&["a\"b\\c\nd"]);
        let text = m.render();
        assert!(
            text.contains("mproto_route_requests_total{route=\"a\\\"b\\\\c\\nd\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "mproto_route_request_duration_seconds_count{route=\"a\\\"b\\\\c\\nd\"} 0"
            )
        );
        assert_eq!(
            text.lines().filter(|l| l.starts_with('d')).count(),
            0,
            "raw newline leaked"
        );
    }

    #[test]
    fn route_histogram_is_cumulative_with_inf_sum_and_count() {
        let (m, r) = with_routes(&["r"]);
        for micros in [300, 3_000, 10_000_000] {
            r[0].record_response(Status::Ok, Duration::from_micros(micros));
        }
        let text = m.render();
        let name = "mproto_route_request_duration_seconds";
        let buckets = lines(&text, &format!("{name}_bucket{{route=\"r\","));
        let counts: Vec<u64> = buckets
            .iter()
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(
            counts,
            [1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3],
            "{buckets:?}"
        );
        assert_eq!(
            buckets[0],
            format!("{name}_bucket{{route=\"r\",le=\"0.0005\"}} 1")
        );
        assert_eq!(
            buckets[12],
            format!("{name}_bucket{{route=\"r\",le=\"+Inf\"}} 3")
        );
        assert!(
            text.contains(&format!("{name}_sum{{route=\"r\"}} 10.0033\n")),
            "{text}"
        );
        assert!(text.contains(&format!("{name}_count{{route=\"r\"}} 3\n")));
        // The unlabelled global histogram saw none of this.
        assert!(text.contains("mproto_request_duration_seconds_count 0\n"));
    }
}

//! Passive outlier detection: endpoints that fail several times in a row are ejected from
//! their cluster's balancing for a while, as Envoy does for a DestinationRule's
//! `outlierDetection`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use tokio::time::Instant;

use crate::mesh::{OutlierDetection, parse_duration};
use crate::metadata::ResponseStatus;
use crate::reply::{ErrorKind, ReplyError};

use super::balance::Member;
use super::metrics::Metrics;
use super::pool::Response;

/// Envoy's default `max_ejection_time`, which Istio leaves unset: repeat ejections grow
/// no longer than this (or than the base time, when that is longer).
const MAX_EJECTION: Duration = Duration::from_secs(300);

/// A DestinationRule's `outlierDetection` with Istio's defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Gateway errors in a row that eject; 0 turns the check off.
    pub(crate) consecutive_gateway: u32,
    /// Errors of any kind in a row that eject; 0 turns the check off.
    pub(crate) consecutive_5xx: u32,
    /// The first ejection's length; the n-th lasts n times as long.
    pub(crate) base_ejection: Duration,
    /// Most members ejected at once, in percent of the cluster.
    pub(crate) max_ejection_percent: u32,
}

impl Policy {
    /// The policy `od` asks for; Istio's defaults: gateway errors off, 5 errors, 30s, 10%.
    pub(crate) fn new(od: &OutlierDetection) -> Policy {
        // Durations were validated on load; the default only covers an impossible failure.
        let base = od
            .base_ejection_time
            .as_deref()
            .and_then(|t| parse_duration(t).ok())
            .unwrap_or(Duration::from_secs(30));
        Policy {
            consecutive_gateway: od.consecutive_gateway_errors.unwrap_or(0),
            consecutive_5xx: od.consecutive_5xx_errors.unwrap_or(5),
            base_ejection: base,
            max_ejection_percent: od.max_ejection_percent.unwrap_or(10).min(100),
        }
    }

    /// Whether these failure counts reach an enabled threshold.
    fn trips(&self, gateway: u32, errors: u32) -> bool {
        let reached = |limit: u32, count: u32| limit > 0 && count >= limit;
        reached(self.consecutive_gateway, gateway) || reached(self.consecutive_5xx, errors)
    }

    /// How long the `times`-th ejection lasts.
    fn ejection_time(&self, times: u32) -> Duration {
        let cap = MAX_EJECTION.max(self.base_ejection);
        self.base_ejection.saturating_mul(times).min(cap)
    }
}

/// What one exchange with an endpoint says about its health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A response that is not an error.
    Success,
    /// A response whose status is an error: counts towards `consecutive5xxErrors` only.
    ErrorStatus,
    /// No usable response (connect failure, timeout, lost connection, undecodable frame):
    /// counts towards both thresholds.
    GatewayError,
}

impl Outcome {
    /// The outcome of a call, or `None` when the failure was not the endpoint's doing.
    pub(crate) fn of(result: &Result<Response, ReplyError>) -> Option<Outcome> {
        match result {
            Ok((_, meta)) if meta.response_status == Some(ResponseStatus::Error) => {
                Some(Outcome::ErrorStatus)
            }
            Ok(_) => Some(Outcome::Success),
            Err(e) => match e.kind {
                ErrorKind::NoHealthyUpstream | ErrorKind::Timeout | ErrorKind::BadResponse => {
                    Some(Outcome::GatewayError)
                }
                // Request re-encoding and the like fail in the proxy, not the endpoint.
                _ => None,
            },
        }
    }
}

/// One member's failure counts and ejection state, all atomics so reports need no lock.
#[derive(Debug, Default)]
pub(crate) struct Health {
    /// Gateway errors in a row.
    gateway: AtomicU32,
    /// Errors of any kind in a row.
    errors: AtomicU32,
    /// Ejections so far, the multiplier of the next ejection's length.
    times_ejected: AtomicU32,
    /// Milliseconds since the detector's epoch until which the member is ejected.
    ejected_until: AtomicU64,
}

impl Health {
    /// Whether the member is ejected at `now` (milliseconds since the epoch).
    fn ejected_at(&self, now: u64) -> bool {
        self.ejected_until.load(Relaxed) > now
    }

    /// Zeroes both counts; skips the store when already zero, so a run of successes
    /// only reads the cache line that every request of the member shares.
    fn reset(&self) {
        for count in [&self.gateway, &self.errors] {
            if count.load(Relaxed) != 0 {
                count.store(0, Relaxed);
            }
        }
    }
}

/// A cluster's outlier detector: its policy, a clock and the ejection counter.
#[derive(Debug)]
pub(crate) struct Detector {
    policy: Policy,
    /// The origin of every timestamp; tokio's clock, so tests can pause it.
    epoch: Instant,
    /// The latest `ejected_until` of any member: past it no member is ejected, and picking
    /// skips the per-member checks.
    latest_until: AtomicU64,
    metrics: Arc<Metrics>,
}

impl Detector {
    /// A detector applying `policy`, counting ejections in `metrics`.
    pub(crate) fn new(policy: Policy, metrics: Arc<Metrics>) -> Detector {
        Detector {
            policy,
            epoch: Instant::now(),
            latest_until: AtomicU64::new(0),
            metrics,
        }
    }

    /// Milliseconds since the epoch.
    pub(crate) fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether some member may be ejected at `now`.
    pub(crate) fn any_ejected(&self, now: u64) -> bool {
        self.latest_until.load(Relaxed) > now
    }

    /// Whether `member` is ejected at `now`.
    pub(crate) fn is_ejected(member: &Member, now: u64) -> bool {
        member.health.ejected_at(now)
    }

    /// Counts `outcome` against member `i` and ejects it when a threshold is reached.
    pub(crate) fn record(&self, cluster: &str, members: &[Member], i: usize, outcome: Outcome) {
        let Some(member) = members.get(i) else { return };
        let health = &member.health;
        let (gateway, errors) = match outcome {
            Outcome::Success => return health.reset(),
            Outcome::ErrorStatus => {
                // An error response proves the endpoint reachable: the gateway run ends.
                health.gateway.store(0, Relaxed);
                (0, health.errors.fetch_add(1, Relaxed).saturating_add(1))
            }
            Outcome::GatewayError => (
                health.gateway.fetch_add(1, Relaxed).saturating_add(1),
                health.errors.fetch_add(1, Relaxed).saturating_add(1),
            ),
        };
        if !self.policy.trips(gateway, errors) {
            return;
        }
        // A new run must reach the threshold again, whether or not this one ejects.
        health.reset();
        let now = self.now();
        if health.ejected_at(now) || !self.room_for_one_more(members, now) {
            return;
        }
        self.eject(cluster, member, now);
    }

    /// Whether one more ejection stays within `maxEjectionPercent`; the first always does.
    fn room_for_one_more(&self, members: &[Member], now: u64) -> bool {
        // Scanned only when a threshold is reached, never per request. Two ejections racing
        // here may both pass; the bound is then exceeded by one until one of them ends.
        let ejected = members.iter().filter(|m| m.health.ejected_at(now)).count() as u64;
        let limit = u64::from(self.policy.max_ejection_percent) * members.len() as u64;
        ejected == 0 || 100 * (ejected + 1) <= limit
    }

    /// Ejects `member` from `now` for the base time times its ejection count.
    fn eject(&self, cluster: &str, member: &Member, now: u64) {
        let health = &member.health;
        let times = health.times_ejected.fetch_add(1, Relaxed).saturating_add(1);
        let length = self.policy.ejection_time(times);
        let millis = u64::try_from(length.as_millis()).unwrap_or(u64::MAX);
        let until = now.saturating_add(millis);
        health.ejected_until.store(until, Relaxed);
        self.latest_until.fetch_max(until, Relaxed);
        self.metrics.outlier_ejections.fetch_add(1, Relaxed);
        tracing::info!(
            cluster,
            endpoint = %member.endpoint.address,
            ejections = times,
            seconds = length.as_secs_f64(),
            "outlier endpoint ejected"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::balance::{Balancer, Cluster};
    use super::super::stub;
    use super::*;

    /// A policy of `gateway` and `errors` thresholds, 30s base time and `percent`.
    fn policy(gateway: u32, errors: u32, percent: u32) -> Policy {
        Policy {
            consecutive_gateway: gateway,
            consecutive_5xx: errors,
            base_ejection: Duration::from_secs(30),
            max_ejection_percent: percent,
        }
    }

    /// A round-robin cluster of `n` members watched by a detector with `policy`.
    fn cluster(n: usize, policy: Policy) -> (Cluster, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::default());
        let members = (0..n)
            .map(|i| (stub::endpoint(&format!("10.0.0.{i}:9000")), 1))
            .collect();
        let balancer = Balancer::RoundRobin(Default::default());
        let detector = Detector::new(policy, metrics.clone());
        let c = Cluster::new("test".into(), members, balancer, Some(detector));
        (c, metrics)
    }

    /// Reports `outcome` `times` times against member `i`.
    fn report(c: &Cluster, i: usize, outcome: Outcome, times: usize) {
        for _ in 0..times {
            c.report(i, outcome);
        }
    }

    /// Whether member `i` is ejected now.
    fn ejected(c: &Cluster, i: usize) -> bool {
        let d = c.detector().unwrap();
        Detector::is_ejected(&c.members[i], d.now())
    }

    #[test]
    fn defaults_follow_istio() {
        let p = Policy::new(&OutlierDetection::default());
        assert_eq!(p, policy(0, 5, 10));
        let od = OutlierDetection {
            consecutive_gateway_errors: Some(2),
            consecutive_5xx_errors: Some(0),
            base_ejection_time: Some("1.5s".into()),
            max_ejection_percent: Some(100),
            ..OutlierDetection::default()
        };
        let p = Policy::new(&od);
        assert_eq!((p.consecutive_gateway, p.consecutive_5xx), (2, 0));
        assert_eq!(p.base_ejection, Duration::from_millis(1500));
        assert_eq!(p.max_ejection_percent, 100);
    }

    #[tokio::test(start_paused = true)]
    async fn errors_eject_at_the_threshold_and_success_resets_the_run() {
        let (c, metrics) = cluster(2, policy(0, 3, 100));
        report(&c, 0, Outcome::ErrorStatus, 2);
        c.report(0, Outcome::Success);
        report(&c, 0, Outcome::ErrorStatus, 2);
        assert!(!ejected(&c, 0), "the success started a new run");
        c.report(0, Outcome::GatewayError);
        assert!(ejected(&c, 0), "gateway errors count as errors too");
        assert_eq!(metrics.outlier_ejections.load(Relaxed), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn gateway_threshold_ignores_error_responses() {
        let (c, _) = cluster(2, policy(2, 0, 100));
        c.report(1, Outcome::GatewayError);
        c.report(1, Outcome::ErrorStatus);
        c.report(1, Outcome::GatewayError);
        assert!(!ejected(&c, 1), "an error response ends a gateway run");
        c.report(1, Outcome::GatewayError);
        assert!(ejected(&c, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn ejection_time_grows_with_each_ejection() {
        let (c, _) = cluster(2, policy(1, 0, 100));
        for (times, secs) in [(1, 30), (2, 60), (3, 90)] {
            c.report(0, Outcome::GatewayError);
            assert!(ejected(&c, 0), "ejection {times}");
            tokio::time::advance(Duration::from_secs(secs - 1)).await;
            assert!(ejected(&c, 0), "ejection {times} ended early");
            tokio::time::advance(Duration::from_secs(1)).await;
            assert!(!ejected(&c, 0), "ejection {times} lasts {secs}s");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn ejection_time_is_capped_like_envoy() {
        let (c, _) = cluster(2, policy(1, 0, 100));
        let d = c.detector().unwrap();
        assert_eq!(d.policy.ejection_time(11), Duration::from_secs(300));
        assert_eq!(d.policy.ejection_time(u32::MAX), Duration::from_secs(300));
    }

    #[tokio::test(start_paused = true)]
    async fn max_percent_bounds_ejections_but_one_is_always_allowed() {
        // 10% of 4 members is under one, yet the first ejection goes ahead.
        let (c, metrics) = cluster(4, policy(1, 0, 10));
        c.report(0, Outcome::GatewayError);
        c.report(1, Outcome::GatewayError);
        assert!(ejected(&c, 0) && !ejected(&c, 1));
        assert_eq!(metrics.outlier_ejections.load(Relaxed), 1);
        // 50% of 4: two may be out, not three.
        let (c, _) = cluster(4, policy(1, 0, 50));
        for i in 0..3 {
            c.report(i, Outcome::GatewayError);
        }
        let out: Vec<bool> = (0..4).map(|i| ejected(&c, i)).collect();
        assert_eq!(out, [true, true, false, false]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_ejected_member_is_not_ejected_again() {
        let (c, metrics) = cluster(2, policy(1, 0, 100));
        report(&c, 0, Outcome::GatewayError, 3);
        assert_eq!(metrics.outlier_ejections.load(Relaxed), 1);
        tokio::time::advance(Duration::from_secs(30)).await;
        c.report(0, Outcome::GatewayError);
        assert_eq!(metrics.outlier_ejections.load(Relaxed), 2);
    }

    #[test]
    fn outcomes_map_reply_kinds() {
        let err = |kind| Outcome::of(&Err(ReplyError::new(kind, "x")));
        assert_eq!(err(ErrorKind::Timeout), Some(Outcome::GatewayError));
        assert_eq!(err(ErrorKind::BadResponse), Some(Outcome::GatewayError));
        assert_eq!(
            err(ErrorKind::NoHealthyUpstream),
            Some(Outcome::GatewayError)
        );
        assert_eq!(err(ErrorKind::Unspecified), None);
        let mut meta = crate::metadata::Metadata::default();
        assert_eq!(
            Outcome::of(&Ok((Default::default(), meta.clone()))),
            Some(Outcome::Success)
        );
        meta.response_status = Some(ResponseStatus::Error);
        assert_eq!(
            Outcome::of(&Ok((Default::default(), meta))),
            Some(Outcome::ErrorStatus)
        );
    }
}

//! Clusters (a host, subset and port's endpoints) and the load balancers that pick one.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use crate::metadata::Metadata;
use crate::reply::{ErrorKind, ReplyError};

use super::outlier::{Detector, Health, Outcome};
use super::pool::{Lease, Pool};

/// How a cluster picks an endpoint.
#[derive(Debug)]
pub(crate) enum Balancer {
    /// Each endpoint in turn, as often per cycle as its weight.
    RoundRobin(AtomicUsize),
    /// At random, in proportion to the weights.
    Random,
    /// Of two random endpoints, the one with fewer requests in flight per unit of weight.
    LeastRequest,
    /// Rendezvous hashing of a metadata property, so a key sticks to an endpoint.
    Hash(String),
}

/// One upstream address, shared by every cluster that contains it.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// `host:port`.
    pub(crate) address: Arc<str>,
    /// Requests in flight, for `LEAST_REQUEST`.
    active: AtomicUsize,
    /// Connections to the endpoint.
    pub(crate) pool: Pool,
}

impl Endpoint {
    /// An endpoint reached through `pool`.
    pub(crate) fn new(pool: Pool) -> Endpoint {
        Endpoint {
            address: pool.address().clone(),
            active: AtomicUsize::new(0),
            pool,
        }
    }
}

/// Counts a request against an endpoint until dropped.
#[derive(Debug)]
pub(crate) struct Active {
    endpoint: Arc<Endpoint>,
    /// The endpoint's index in the cluster that picked it, to report the outcome against.
    pub(crate) member: usize,
}

impl Active {
    fn new(endpoint: Arc<Endpoint>, member: usize) -> Active {
        endpoint.active.fetch_add(1, Relaxed);
        Active { endpoint, member }
    }

    /// The endpoint's address.
    pub(crate) fn address(&self) -> &Arc<str> {
        &self.endpoint.address
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.endpoint.active.fetch_sub(1, Relaxed);
    }
}

/// One endpoint of a cluster with the cluster's own weight for it.
#[derive(Debug)]
pub(crate) struct Member {
    /// The shared endpoint (address, pool, in-flight count).
    pub(crate) endpoint: Arc<Endpoint>,
    /// Relative share of the cluster's requests, at least 1; kept here, not in the
    /// endpoint, because an endpoint is shared by clusters that may weigh it differently.
    pub(crate) weight: u32,
    /// Failure counts and ejection, per cluster like the weight: a DestinationRule's
    /// subsets may judge a shared endpoint by different policies.
    pub(crate) health: Health,
}

/// The endpoints of one destination (host, subset, port) and its balancer.
#[derive(Debug)]
pub(crate) struct Cluster {
    /// `host|subset|port`, for logs.
    pub(crate) name: Arc<str>,
    /// The endpoints in configuration order, which is also the connect fallback order.
    pub(crate) members: Vec<Member>,
    /// The DestinationRule's load balancer.
    pub(crate) balancer: Balancer,
    /// Tables for picking by weight; `None` when every weight is equal, so the common case
    /// runs the plain balancers unchanged.
    weights: Option<Weights>,
    /// The DestinationRule's outlier detection, if it has one.
    pub(crate) outlier: Option<Detector>,
}

/// Endpoints tried before giving up on a connect failure.
const CONNECT_ATTEMPTS: usize = 3;

impl Cluster {
    /// A cluster of `(endpoint, weight)` pairs picked by `balancer`, ejecting failing members
    /// when `outlier` is set; a weight of 0 counts as 1.
    pub(crate) fn new(
        name: Arc<str>,
        members: Vec<(Arc<Endpoint>, u32)>,
        balancer: Balancer,
        outlier: Option<Detector>,
    ) -> Cluster {
        // Envoy requires weights of at least 1: a 0 would leave an endpoint that is never
        // picked yet still tried when a neighbour's connect fails.
        let members: Vec<Member> = members
            .into_iter()
            .map(|(endpoint, weight)| Member {
                endpoint,
                weight: weight.max(1),
                health: Health::default(),
            })
            .collect();
        let weights: Vec<u32> = members.iter().map(|m| m.weight).collect();
        let round_robin = matches!(balancer, Balancer::RoundRobin(_));
        Cluster {
            name,
            members,
            balancer,
            weights: Weights::new(&weights, round_robin),
            outlier,
        }
    }

    /// The outlier detector, if the cluster has one.
    #[cfg(test)]
    pub(crate) fn detector(&self) -> Option<&Detector> {
        self.outlier.as_ref()
    }

    /// Counts the outcome of an exchange with member `i` towards its ejection.
    pub(crate) fn report(&self, i: usize, outcome: Outcome) {
        if let Some(detector) = &self.outlier {
            detector.record(&self.name, &self.members, i, outcome);
        }
    }

    /// Picks an endpoint and a connection to it, trying the next endpoints when a connect fails.
    pub(crate) async fn connect(&self, meta: &Metadata) -> Result<(Active, Lease), ReplyError> {
        let n = self.members.len();
        let Some(first) = self.pick(meta) else {
            let msg = format!("cluster {} has no endpoints", self.name);
            return Err(ReplyError::new(ErrorKind::NoHealthyUpstream, msg));
        };
        let mut last_error = None;
        for attempt in 0..n.min(CONNECT_ATTEMPTS) {
            let i = (first + attempt) % n;
            let Some(Member { endpoint, .. }) = self.members.get(i) else {
                break;
            };
            match endpoint.pool.get().await {
                Ok(conn) => return Ok((Active::new(endpoint.clone(), i), conn)),
                Err(e) => {
                    self.report(i, Outcome::GatewayError);
                    last_error = Some(format!("{}: {e}", endpoint.address));
                }
            }
        }
        let msg = format!(
            "no healthy upstream in {}: {}",
            self.name,
            last_error.unwrap_or_default()
        );
        Err(ReplyError::new(ErrorKind::NoHealthyUpstream, msg))
    }

    /// The index of the endpoint the balancer picks: among the members not ejected, or
    /// among all when every one is ejected (some traffic beats none).
    pub(crate) fn pick(&self, meta: &Metadata) -> Option<usize> {
        let n = self.members.len();
        if n <= 1 {
            return (n == 1).then_some(0);
        }
        if let Some(detector) = &self.outlier {
            let now = detector.now();
            if detector.any_ejected(now)
                && let Some(i) = self.pick_up(meta, |m| !Detector::is_ejected(m, now))
            {
                return Some(i);
            }
        }
        Some(match &self.weights {
            None => self.pick_even(meta, n),
            Some(weights) => self.pick_weighted(meta, weights),
        })
    }

    /// The balancers when every weight is equal: each endpoint gets the same share.
    fn pick_even(&self, meta: &Metadata, n: usize) -> usize {
        match &self.balancer {
            Balancer::RoundRobin(next) => next.fetch_add(1, Relaxed) % n,
            Balancer::Random => fastrand::usize(0..n),
            Balancer::LeastRequest => self.lighter(fastrand::usize(0..n), fastrand::usize(0..n)),
            Balancer::Hash(key) => match meta.get(key) {
                Some(value) => self.rendezvous(&value.to_string(), |_| true),
                None => fastrand::usize(0..n),
            },
        }
    }

    /// The balancers over the members `up` accepts, or `None` when it accepts none. Each
    /// balancer keeps its kind; scans over the members replace the prebuilt tables, which
    /// costs O(members) per pick but only while some member is ejected.
    fn pick_up(&self, meta: &Metadata, up: impl Fn(&Member) -> bool) -> Option<usize> {
        let count = self.members.iter().filter(|m| up(m)).count();
        if count == 0 {
            return None;
        }
        Some(match &self.balancer {
            Balancer::RoundRobin(next) => {
                let step = next.fetch_add(1, Relaxed);
                match &self.weights {
                    None => self.nth_up(step % count, &up),
                    // In proportion to weight over the members up; the smooth schedule
                    // would hand an ejected member's turns all to whoever follows it.
                    Some(_) => {
                        let total = self.up_weight(&up);
                        self.nth_weighted_up(step as u64 % total.max(1), &up)
                    }
                }
            }
            Balancer::Random => self.roll_up(&up),
            Balancer::LeastRequest => self.lighter(self.roll_up(&up), self.roll_up(&up)),
            Balancer::Hash(key) => match (meta.get(key), &self.weights) {
                (Some(value), None) => self.rendezvous(&value.to_string(), &up),
                (Some(value), Some(_)) => self.weighted_rendezvous(&value.to_string(), &up),
                (None, _) => self.roll_up(&up),
            },
        })
    }

    /// The index of the `k`-th member `up` accepts.
    fn nth_up(&self, k: usize, up: impl Fn(&Member) -> bool) -> usize {
        let mut accepted = self.members.iter().enumerate().filter(|(_, m)| up(m));
        accepted.nth(k).map_or(0, |(i, _)| i)
    }

    /// A member `up` accepts, drawn with probability proportional to its weight.
    fn roll_up(&self, up: impl Fn(&Member) -> bool) -> usize {
        let total = self.up_weight(&up);
        self.nth_weighted_up(fastrand::u64(0..total.max(1)), up)
    }

    /// The total weight of the members `up` accepts.
    fn up_weight(&self, up: impl Fn(&Member) -> bool) -> u64 {
        let up = self.members.iter().filter(|m| up(m));
        up.map(|m| u64::from(m.weight)).sum()
    }

    /// The member `up` accepts whose share of the weight, laid end to end in member
    /// order, holds `k` (below their total weight).
    fn nth_weighted_up(&self, mut k: u64, up: impl Fn(&Member) -> bool) -> usize {
        for (i, m) in self.members.iter().enumerate().filter(|(_, m)| up(m)) {
            let weight = u64::from(m.weight);
            if k < weight {
                return i;
            }
            k -= weight;
        }
        self.nth_up(0, up)
    }

    /// The balancers when weights differ: each endpoint's share follows its weight.
    fn pick_weighted(&self, meta: &Metadata, weights: &Weights) -> usize {
        match &self.balancer {
            Balancer::RoundRobin(next) => weights.scheduled(next.fetch_add(1, Relaxed)),
            Balancer::Random => weights.roll(),
            Balancer::LeastRequest => self.lighter(weights.roll(), weights.roll()),
            Balancer::Hash(key) => match meta.get(key) {
                Some(value) => self.weighted_rendezvous(&value.to_string(), |_| true),
                None => weights.roll(),
            },
        }
    }

    /// Of two members, the one with fewer requests in flight per unit of weight (`a` on a tie).
    fn lighter(&self, a: usize, b: usize) -> usize {
        // (active + 1) / weight, so an idle endpoint still counts; compared by
        // cross-multiplying, which stays exact in integers.
        let load = |i: usize| {
            self.members.get(i).map_or((u128::MAX, 1), |m| {
                let active = m.endpoint.active.load(Relaxed) as u128;
                (active + 1, u128::from(m.weight))
            })
        };
        let ((active_a, weight_a), (active_b, weight_b)) = (load(a), load(b));
        if active_b.saturating_mul(weight_a) < active_a.saturating_mul(weight_b) {
            b
        } else {
            a
        }
    }

    /// Of the members `up` accepts, the one with the highest hash of (key, address): stable
    /// as endpoints come and go (or are ejected and return).
    fn rendezvous(&self, key: &str, up: impl Fn(&Member) -> bool) -> usize {
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| up(m))
            .max_by_key(|(_, m)| key_hash(key, &m.endpoint.address))
            .map_or(0, |(i, _)| i)
    }

    /// Weighted rendezvous: the highest `weight / -ln(u)`, with `u` in (0, 1) from the
    /// (key, address) hash, wins; a key still sticks to one endpoint, and each endpoint
    /// wins a share of keys proportional to its weight. Only members `up` accepts compete.
    fn weighted_rendezvous(&self, key: &str, up: impl Fn(&Member) -> bool) -> usize {
        let score = |m: &Member| {
            let u = unit_interval(key_hash(key, &m.endpoint.address));
            f64::from(m.weight) / -u.ln()
        };
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| up(m))
            .map(|(i, m)| (i, score(m)))
            .max_by(|(_, x), (_, y)| x.total_cmp(y))
            .map_or(0, |(i, _)| i)
    }
}

/// The hash that ranks an endpoint for a consistent-hash key.
fn key_hash(key: &str, address: &str) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    address.hash(&mut h);
    h.finish()
}

/// `h` as a float strictly inside (0, 1), so its logarithm is finite and negative.
fn unit_interval(h: u64) -> f64 {
    // The top 53 bits fit an f64 exactly; the half step keeps both ends open.
    ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// The longest round-robin cycle; heavier weights are scaled down to fit it, trading a little
/// precision for a bounded table.
const MAX_CYCLE: i64 = 4096;

/// Tables, built once per cluster, for picking endpoints in proportion to their weights.
#[derive(Debug)]
struct Weights {
    /// Running sums of the weights: member `i` owns the rolls `cumulative[i - 1]..cumulative[i]`.
    cumulative: Vec<u64>,
    /// One cycle of smooth weighted round robin, as member indices; empty unless ROUND_ROBIN.
    schedule: Vec<usize>,
}

impl Weights {
    /// Tables for `weights` (each at least 1), or `None` when they are all equal.
    fn new(weights: &[u32], round_robin: bool) -> Option<Weights> {
        let first = *weights.first()?;
        if weights.iter().all(|w| *w == first) {
            return None;
        }
        let cumulative = weights
            .iter()
            .scan(0u64, |sum, w| {
                *sum += u64::from(*w);
                Some(*sum)
            })
            .collect();
        let schedule = if round_robin {
            smooth_schedule(&cycle_weights(weights))
        } else {
            Vec::new()
        };
        Some(Weights {
            cumulative,
            schedule,
        })
    }

    /// A member index drawn with probability proportional to its weight.
    fn roll(&self) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0);
        let roll = fastrand::u64(0..total.max(1));
        self.cumulative.partition_point(|sum| *sum <= roll)
    }

    /// The member at round-robin step `step`: the schedule repeats.
    fn scheduled(&self, step: usize) -> usize {
        step.checked_rem(self.schedule.len())
            .and_then(|i| self.schedule.get(i))
            .copied()
            .unwrap_or(0)
    }
}

/// The weights of one round-robin cycle: divided by their gcd, and scaled down to about
/// `MAX_CYCLE` in all (each kept at least 1) when still heavier.
fn cycle_weights(weights: &[u32]) -> Vec<i64> {
    let mut cycle: Vec<i64> = weights.iter().map(|w| i64::from(*w)).collect();
    divide_by_gcd(&mut cycle);
    let total: i64 = cycle.iter().sum();
    if total > MAX_CYCLE {
        for w in &mut cycle {
            // Rounded to nearest, so shares move as little as the smaller total allows.
            *w = ((*w * MAX_CYCLE + total / 2) / total).max(1);
        }
        divide_by_gcd(&mut cycle);
    }
    cycle
}

/// Divides every weight by their greatest common divisor: the shortest exact cycle.
fn divide_by_gcd(weights: &mut [i64]) {
    let g = weights.iter().fold(0, |g, w| gcd(g, *w));
    if g > 1 {
        weights.iter_mut().for_each(|w| *w /= g);
    }
}

/// Euclid's greatest common divisor.
fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// One cycle of nginx's smooth weighted round robin: at each step every member gains its
/// weight and the richest (the first on a tie) is picked and pays the total. Each member is
/// picked exactly its weight's times per cycle, spread out rather than in runs.
fn smooth_schedule(weights: &[i64]) -> Vec<usize> {
    let total: i64 = weights.iter().sum();
    let mut current = vec![0i64; weights.len()];
    (0..total)
        .map(|_| {
            current.iter_mut().zip(weights).for_each(|(c, w)| *c += w);
            let best = first_max(&current);
            if let Some(c) = current.get_mut(best) {
                *c -= total;
            }
            best
        })
        .collect()
}

/// The index of the first largest value.
fn first_max(values: &[i64]) -> usize {
    let first = |best: (usize, i64), (i, v): (usize, &i64)| {
        if *v > best.1 { (i, *v) } else { best }
    };
    values.iter().enumerate().fold((0, i64::MIN), first).0
}

#[cfg(test)]
mod tests {
    use bytestring::ByteString;

    use std::time::Duration;

    use super::super::metrics::Metrics;
    use super::super::outlier::Policy;
    use super::super::stub;
    use super::*;
    use crate::metadata::Value;

    /// A cluster of endpoints `10.0.0.<i>:9000` with `weights`.
    fn cluster(weights: &[u32], balancer: Balancer) -> Cluster {
        let members = weights
            .iter()
            .enumerate()
            .map(|(i, w)| (stub::endpoint(&format!("10.0.0.{i}:9000")), *w))
            .collect();
        Cluster::new("test".into(), members, balancer, None)
    }

    fn round_robin() -> Balancer {
        Balancer::RoundRobin(AtomicUsize::new(0))
    }

    /// The first `n` picks without metadata.
    fn picks(c: &Cluster, n: usize) -> Vec<usize> {
        let meta = Metadata::default();
        (0..n).map(|_| c.pick(&meta).unwrap()).collect()
    }

    /// How often each member was picked in `n` picks.
    fn counts(c: &Cluster, n: usize) -> Vec<usize> {
        let mut counts = vec![0; c.members.len()];
        for i in picks(c, n) {
            counts[i] += 1;
        }
        counts
    }

    #[test]
    fn round_robin_one_to_three_is_exact() {
        let c = cluster(&[1, 3], round_robin());
        assert_eq!(counts(&c, 100), [25, 75]);
    }

    #[test]
    fn round_robin_interleaves_as_nginx_documents() {
        // nginx's smooth weighted round robin for weights {5, 1, 1}: a a b a c a a.
        let c = cluster(&[5, 1, 1], round_robin());
        let cycle = [0, 0, 1, 0, 2, 0, 0];
        assert_eq!(picks(&c, 14), [cycle, cycle].concat());
    }

    #[test]
    fn equal_weights_keep_the_plain_balancers() {
        for weights in [[1, 1, 1], [2, 2, 2], [0, 1, 0]] {
            let c = cluster(&weights, round_robin());
            assert!(c.weights.is_none(), "{weights:?} built weight tables");
            assert_eq!(picks(&c, 6), [0, 1, 2, 0, 1, 2], "{weights:?}");
        }
    }

    #[test]
    fn zero_weight_counts_as_one() {
        let c = cluster(&[0, 2], round_robin());
        let weights: Vec<u32> = c.members.iter().map(|m| m.weight).collect();
        assert_eq!(weights, [1, 2]);
        assert_eq!(counts(&c, 30), [10, 20]);
    }

    #[test]
    fn cycle_is_divided_by_the_gcd() {
        assert_eq!(cycle_weights(&[3000, 6000, 9000]), [1, 2, 3]);
        let c = cluster(&[3000, 6000, 9000], round_robin());
        assert_eq!(c.weights.as_ref().unwrap().schedule.len(), 6);
        assert_eq!(counts(&c, 60), [10, 20, 30]);
    }

    #[test]
    fn heavy_weights_are_scaled_down_to_the_cap() {
        // 15001 in all, coprime: scaled to 4096, rounding to nearest, the lightest kept at 1.
        let heavy = [1, 5000, 10000];
        assert_eq!(cycle_weights(&heavy), [1, 1365, 2730]);
        let c = cluster(&heavy, round_robin());
        assert_eq!(c.weights.as_ref().unwrap().schedule.len(), 4096);
        assert_eq!(counts(&c, 2 * 4096), [2, 2 * 1365, 2 * 2730]);
    }

    #[test]
    fn weighted_random_follows_weights() {
        fastrand::seed(7);
        let c = cluster(&[1, 3], Balancer::Random);
        let n = 10_000;
        let first = counts(&c, n)[0];
        // Binomial(10000, 0.25): mean 2500, sd 43.3; the bounds are 5 sd either side.
        assert!(
            (2283..=2717).contains(&first),
            "weight 1 got {first} of {n}"
        );
    }

    #[test]
    fn least_request_compares_load_per_weight() {
        let c = cluster(&[1, 4], Balancer::LeastRequest);
        let busy = |n: usize| -> Vec<Active> {
            (0..n)
                .map(|_| Active::new(c.members[1].endpoint.clone(), 1))
                .collect()
        };
        // Idle at weight 1 costs 1; 2 in flight at weight 4 cost 3/4: the heavier wins.
        let mut held = busy(2);
        assert_eq!((c.lighter(0, 1), c.lighter(1, 0)), (1, 1));
        // 3 in flight cost 4/4, a tie: the first candidate stays.
        held.extend(busy(1));
        assert_eq!((c.lighter(0, 1), c.lighter(1, 0)), (0, 1));
        // 4 in flight cost 5/4: the idle endpoint wins.
        held.extend(busy(1));
        assert_eq!((c.lighter(0, 1), c.lighter(1, 0)), (0, 0));
        drop(held);
        assert_eq!(c.members[1].endpoint.active.load(Relaxed), 0);
    }

    #[test]
    fn least_request_picks_the_busy_heavy_endpoint_unless_both_rolls_miss_it() {
        fastrand::seed(11);
        let c = cluster(&[1, 4], Balancer::LeastRequest);
        let _held: Vec<Active> = (0..2)
            .map(|_| Active::new(c.members[1].endpoint.clone(), 1))
            .collect();
        // The light endpoint only wins when both weighted rolls land on it: p = 1/25.
        // Binomial(2000, 0.04): mean 80, sd 8.8.
        let light = counts(&c, 2000)[0];
        assert!((40..=125).contains(&light), "light endpoint got {light}");
    }

    #[test]
    fn weighted_rendezvous_sticks_to_an_endpoint() {
        let c = cluster(&[1, 3, 2], Balancer::Hash("user".into()));
        let mut meta = Metadata::default();
        meta.properties
            .push(ByteString::from_static("user"), Value::from("alice"));
        let first = c.pick(&meta).unwrap();
        assert!((0..10).all(|_| c.pick(&meta) == Some(first)));
        // Without the last endpoint, keys that were elsewhere stay where they were.
        let fewer = cluster(&[1, 3], Balancer::Hash("user".into()));
        for i in 0..1000 {
            let key = format!("user-{i}");
            let before = c.weighted_rendezvous(&key, |_| true);
            if before != 2 {
                assert_eq!(fewer.weighted_rendezvous(&key, |_| true), before, "{key}");
            }
        }
    }

    #[test]
    fn weighted_rendezvous_shares_follow_weights() {
        let c = cluster(&[1, 3], Balancer::Hash("user".into()));
        let n = 10_000;
        let first = (0..n)
            .filter(|i| c.weighted_rendezvous(&format!("user-{i}"), |_| true) == 0)
            .count();
        // Shares of 1/4 and 3/4: Binomial(10000, 0.25) bounds, 5 sd either side.
        assert!(
            (2283..=2717).contains(&first),
            "weight 1 won {first} of {n} keys"
        );
    }

    /// `cluster(weights, balancer)` with a detector that ejects at a member's first gateway
    /// error, for 30s, with no bound on how many members are out.
    fn watched(weights: &[u32], balancer: Balancer) -> Cluster {
        let policy = Policy {
            consecutive_gateway: 1,
            consecutive_5xx: 0,
            base_ejection: Duration::from_secs(30),
            max_ejection_percent: 100,
        };
        let detector = Detector::new(policy, Arc::new(Metrics::default()));
        let c = cluster(weights, balancer);
        let members = members_of(&c);
        Cluster::new(c.name, members, c.balancer, Some(detector))
    }

    /// The `(endpoint, weight)` pairs of `c`.
    fn members_of(c: &Cluster) -> Vec<(Arc<Endpoint>, u32)> {
        c.members
            .iter()
            .map(|m| (m.endpoint.clone(), m.weight))
            .collect()
    }

    /// Every balancer kind; `Hash` on a key the test metadata lacks picks by weight at random.
    fn every_balancer() -> [(&'static str, Balancer); 4] {
        [
            ("round robin", round_robin()),
            ("random", Balancer::Random),
            ("least request", Balancer::LeastRequest),
            ("hash without key", Balancer::Hash("user".into())),
        ]
    }

    #[test]
    fn every_balancer_skips_ejected_members() {
        fastrand::seed(3);
        for weights in [[1, 1, 1], [1, 2, 3]] {
            for (name, balancer) in every_balancer() {
                let c = watched(&weights, balancer);
                c.report(0, Outcome::GatewayError);
                c.report(2, Outcome::GatewayError);
                assert_eq!(counts(&c, 200), [0, 200, 0], "{name} {weights:?}");
            }
        }
    }

    #[test]
    fn every_balancer_falls_back_to_all_when_all_are_ejected() {
        fastrand::seed(5);
        for weights in [[1, 1, 1], [1, 2, 3]] {
            for (name, balancer) in every_balancer() {
                let c = watched(&weights, balancer);
                (0..3).for_each(|i| c.report(i, Outcome::GatewayError));
                // Each member's share is at least 1/6: none is missed in 300 picks but by
                // a chance under 1e-23.
                let counts = counts(&c, 300);
                assert!(
                    counts.iter().all(|n| *n > 0),
                    "{name} {weights:?}: {counts:?}"
                );
            }
        }
    }

    #[test]
    fn round_robin_shares_an_ejected_member_s_turns() {
        let c = watched(&[1, 1, 1], round_robin());
        c.report(0, Outcome::GatewayError);
        assert_eq!(counts(&c, 200), [0, 100, 100]);
        let c = watched(&[5, 1, 1], round_robin());
        c.report(0, Outcome::GatewayError);
        assert_eq!(
            counts(&c, 70),
            [0, 35, 35],
            "equal weights keep equal shares"
        );
        let c = watched(&[1, 3, 1], round_robin());
        c.report(2, Outcome::GatewayError);
        assert_eq!(counts(&c, 80), [20, 60, 0]);
    }

    #[test]
    fn hash_keys_move_only_off_an_ejected_member() {
        for weights in [[1, 1, 1], [1, 2, 3]] {
            let c = watched(&weights, Balancer::Hash("user".into()));
            let pick = |key: &str| {
                let mut meta = Metadata::default();
                meta.properties
                    .push(ByteString::from("user"), Value::from(ByteString::from(key)));
                c.pick(&meta).unwrap()
            };
            let keys: Vec<String> = (0..200).map(|i| format!("user-{i}")).collect();
            let before: Vec<usize> = keys.iter().map(|k| pick(k)).collect();
            let gone = before[0];
            c.report(gone, Outcome::GatewayError);
            for (key, was) in keys.iter().zip(before) {
                let now = pick(key);
                if was == gone {
                    assert_ne!(now, gone, "{key} stayed on the ejected member");
                } else {
                    assert_eq!(now, was, "{key} moved though its member is up");
                }
            }
        }
    }
}

//! MetaRouter's local rate limit: a default token bucket and per-condition buckets.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::mesh::{self, parse_duration};
use crate::metadata::Metadata;

use super::route::Matcher;

/// A token bucket that starts full and refills in whole intervals, as Envoy's does.
#[derive(Debug)]
pub(crate) struct Bucket {
    max_tokens: u32,
    tokens_per_fill: u32,
    fill_interval: Duration,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    tokens: u32,
    last_fill: Instant,
}

impl Bucket {
    /// A full bucket; the spec was checked on load.
    pub(crate) fn new(spec: &mesh::TokenBucket) -> Result<Bucket, String> {
        let fill_interval = parse_duration(&spec.fill_interval)?;
        if fill_interval.is_zero() || spec.max_tokens == 0 {
            return Err("a token bucket needs a positive fillInterval and maxTokens".into());
        }
        Ok(Bucket {
            max_tokens: spec.max_tokens,
            tokens_per_fill: spec.tokens_per_fill.unwrap_or(1).max(1),
            fill_interval,
            state: Mutex::new(BucketState {
                tokens: spec.max_tokens,
                last_fill: Instant::now(),
            }),
        })
    }

    /// Takes a token if one is left.
    pub(crate) fn try_take(&self) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return true; // A poisoned lock cannot happen here; fail open rather than panic.
        };
        let now = Instant::now();
        let fills = now.duration_since(state.last_fill).as_nanos() / self.fill_interval.as_nanos();
        if fills > 0 {
            let added = u32::try_from(fills)
                .unwrap_or(u32::MAX)
                .saturating_mul(self.tokens_per_fill);
            state.tokens = state.tokens.saturating_add(added).min(self.max_tokens);
            let elapsed =
                u32::try_from(fills).map_or(now - state.last_fill, |f| self.fill_interval * f);
            state.last_fill += elapsed;
        }
        if state.tokens == 0 {
            return false;
        }
        state.tokens -= 1;
        true
    }
}

/// The local rate limit of one MetaRouter.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    default: Option<Bucket>,
    conditions: Vec<(Matcher, Bucket)>,
}

impl RateLimiter {
    /// Builds the limiter from its spec.
    pub(crate) fn new(spec: &mesh::LocalRateLimit) -> Result<RateLimiter, String> {
        let default = spec.token_bucket.as_ref().map(Bucket::new).transpose()?;
        let mut conditions = Vec::with_capacity(spec.conditions.len());
        for cond in &spec.conditions {
            let Some(bucket) = &cond.token_bucket else {
                return Err("a condition needs a tokenBucket".into());
            };
            conditions.push((Matcher::new(cond.match_.as_ref())?, Bucket::new(bucket)?));
        }
        Ok(RateLimiter {
            default,
            conditions,
        })
    }

    /// True when the request may pass: the first matching condition's bucket decides,
    /// else the default bucket, else it passes.
    pub(crate) fn allow(&self, meta: &Metadata) -> bool {
        let bucket = self
            .conditions
            .iter()
            .find(|(m, _)| m.matches(meta))
            .map(|(_, b)| b)
            .or(self.default.as_ref());
        bucket.is_none_or(Bucket::try_take)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(max: u32, interval: &str) -> mesh::TokenBucket {
        mesh::TokenBucket {
            fill_interval: interval.into(),
            max_tokens: max,
            tokens_per_fill: None,
        }
    }

    #[test]
    fn bucket_empties_and_does_not_refill_within_interval() {
        let b = Bucket::new(&spec(2, "1h")).unwrap();
        assert!(b.try_take());
        assert!(b.try_take());
        assert!(!b.try_take());
    }

    #[test]
    fn bucket_refills_after_interval() {
        let b = Bucket::new(&spec(1, "1ns")).unwrap();
        // Every call is at least one interval after the last fill.
        for _ in 0..10 {
            assert!(b.try_take());
        }
    }
}

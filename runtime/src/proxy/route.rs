//! MetaRouter routes: attribute matching, weighted destinations, mutations and timeouts.

use std::sync::Arc;
use std::time::Duration;

use bytestring::ByteString;
use regex::Regex;

use crate::mesh::{self, MetaRouteMatch, StringMatch};
use crate::metadata::Metadata;
use crate::mutation::Mutation;

use super::balance::Cluster;
use super::limit::RateLimiter;
use super::metrics::RouteMetrics;

/// A destination resolved at start: its cluster, or why there is none.
pub(crate) type Target = Result<Arc<Cluster>, Arc<str>>;

/// One attribute condition.
#[derive(Debug)]
enum Cond {
    Present,
    Exact(String),
    Prefix(String),
    Regex(Regex),
}

/// All conditions of a `match`; an empty matcher matches every request.
#[derive(Debug, Default)]
pub(crate) struct Matcher(Vec<(String, Cond)>);

impl Matcher {
    /// Builds a matcher; `None` matches everything.
    pub(crate) fn new(spec: Option<&MetaRouteMatch>) -> Result<Matcher, String> {
        let mut conds = Vec::new();
        for (key, m) in spec.map(|s| &s.attributes).into_iter().flatten() {
            conds.push((key.clone(), cond(m)?));
        }
        Ok(Matcher(conds))
    }

    /// True when every condition holds for the request's properties.
    pub(crate) fn matches(&self, meta: &Metadata) -> bool {
        let mut scratch = itoa::Buffer::new();
        self.0.iter().all(|(key, cond)| {
            let Some(value) = meta.get(key) else {
                return false;
            };
            let text = value.as_text(&mut scratch);
            match cond {
                Cond::Present => true,
                Cond::Exact(s) => text == s,
                Cond::Prefix(s) => text.starts_with(s.as_str()),
                Cond::Regex(r) => r.is_match(text),
            }
        })
    }
}

fn cond(m: &StringMatch) -> Result<Cond, String> {
    Ok(
        match (&m.exact, &m.prefix, crate::mesh::compile_regex(m)?) {
            (Some(s), _, _) => Cond::Exact(s.clone()),
            (None, Some(s), _) => Cond::Prefix(s.clone()),
            (None, None, Some(r)) => Cond::Regex(r),
            (None, None, None) => Cond::Present,
        },
    )
}

/// A destination with its weight.
#[derive(Debug)]
pub(crate) struct Weighted {
    pub(crate) weight: u32,
    pub(crate) target: Target,
}

/// A compiled route rule.
#[derive(Debug)]
pub(crate) struct Route {
    /// The route's name, for logs and the `route` metric label.
    pub(crate) name: Arc<str>,
    /// Its counters, made at build time so a request updates them without a lookup.
    pub(crate) metrics: Arc<RouteMetrics>,
    pub(crate) matcher: Matcher,
    pub(crate) destinations: Vec<Weighted>,
    /// Properties set on each request.
    pub(crate) request_mutation: Mutation,
    /// Properties set on each response.
    pub(crate) response_mutation: Mutation,
    /// Where copies go, and the share of requests copied (0.0 to 1.0).
    pub(crate) mirror: Option<(Target, f64)>,
    pub(crate) timeout: Duration,
}

impl Route {
    /// Picks a destination by weight; equal shares when every weight is absent.
    pub(crate) fn pick(&self) -> Option<&Target> {
        let total: u64 = self.destinations.iter().map(|d| u64::from(d.weight)).sum();
        if total == 0 {
            return self.destinations.first().map(|d| &d.target);
        }
        let mut roll = fastrand::u64(0..total);
        for d in &self.destinations {
            if roll < u64::from(d.weight) {
                return Some(&d.target);
            }
            roll -= u64::from(d.weight);
        }
        self.destinations.last().map(|d| &d.target)
    }

    /// True when this request should also be mirrored.
    pub(crate) fn roll_mirror(&self) -> Option<&Target> {
        let (target, share) = self.mirror.as_ref()?;
        (*share >= 1.0 || fastrand::f64() < *share).then_some(target)
    }
}

/// The routes and rate limit that apply to one listener.
#[derive(Debug, Default)]
pub(crate) struct Router {
    pub(crate) routes: Vec<Route>,
    pub(crate) limiter: Option<RateLimiter>,
}

impl Router {
    /// The first route whose match holds.
    pub(crate) fn find(&self, meta: &Metadata) -> Option<&Route> {
        self.routes.iter().find(|r| r.matcher.matches(meta))
    }
}

/// Turns a MetaRouter mutation list into the codec's mutation.
pub(crate) fn to_mutation(list: &[mesh::KeyValue]) -> Mutation {
    let properties = list
        .iter()
        .map(|kv| {
            (
                ByteString::from(kv.key.as_str()),
                ByteString::from(kv.value.as_str()),
            )
        })
        .collect();
    Mutation {
        request_id: None,
        properties,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::Value;

    fn meta(pairs: &[(&'static str, &'static str)]) -> Metadata {
        let mut m = Metadata::default();
        for (k, v) in pairs {
            m.properties
                .push(ByteString::from_static(k), Value::from(*v));
        }
        m
    }

    fn matcher(yaml: &str) -> Matcher {
        let spec: MetaRouteMatch = serde_norway::from_str(yaml).unwrap();
        Matcher::new(Some(&spec)).unwrap()
    }

    #[test]
    fn each_match_kind() {
        let m = meta(&[("method", "sayHello"), ("interface", "org.demo.Svc")]);
        assert!(matcher("attributes: {method: {exact: sayHello}}").matches(&m));
        assert!(!matcher("attributes: {method: {exact: sayHell}}").matches(&m));
        assert!(matcher("attributes: {interface: {prefix: org.}}").matches(&m));
        assert!(matcher("attributes: {method: {regex: 'say.*'}}").matches(&m));
        // Regexes match the whole value, as RE2 full match does.
        assert!(!matcher("attributes: {method: {regex: 'say'}}").matches(&m));
        assert!(matcher("attributes: {method: {}}").matches(&m));
        assert!(!matcher("attributes: {missing: {}}").matches(&m));
        assert!(Matcher::new(None).unwrap().matches(&m));
    }
}

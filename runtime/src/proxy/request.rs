//! One downstream request: rate limit, route, split, balance, forward, and the answer.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::metadata::{MessageType, Metadata, ResponseStatus};
use crate::mutation::Mutation;
use crate::reply::{ErrorKind, ReplyError};
use crate::wire::Encoded;

use super::access::Access;
use super::balance::Cluster;
use super::io::Parts;
use super::listener::ListenerCtx;
use super::metrics::Status;
use super::outlier::Outcome;
use super::pool::Response;
use super::route::{Route, Target};

/// Answers a two-way request and writes the answer to the downstream connection.
pub(crate) async fn handle_request(
    ctx: Arc<ListenerCtx>,
    frame: Bytes,
    meta: Metadata,
    tx: mpsc::Sender<Parts>,
    _permit: OwnedSemaphorePermit,
) {
    let start = Instant::now();
    let metrics = &ctx.shared.metrics;
    metrics.requests.fetch_add(1, Relaxed);
    metrics.active_requests.fetch_add(1, Relaxed);
    let mut log = Access {
        bytes_in: frame.len(),
        ..Access::default()
    };
    let (route, forwarded) = forward(&ctx, &frame, &meta, &mut log).await;
    let (parts, status) = match forwarded {
        Ok((response, route)) => answer(&ctx, &meta, response, route),
        Err(error) => (
            local_reply(&ctx, route, &meta, &error, &mut log),
            Status::Local,
        ),
    };
    log.status = status.name();
    log.bytes_out = parts.iter().map(Bytes::len).sum();
    if !parts.is_empty() {
        let _ = tx.send(parts).await;
    }
    let took = start.elapsed();
    metrics.record_response(status, took);
    if let Some(route) = route {
        route.metrics.record_response(status, took);
    }
    metrics.active_requests.fetch_sub(1, Relaxed);
    log.emit(&ctx.protocol, &meta, &ctx.shared.access_properties, took);
}

/// Forwards a oneway request without waiting for anything but the write.
pub(crate) async fn handle_oneway(
    ctx: Arc<ListenerCtx>,
    frame: Bytes,
    meta: Metadata,
    _permit: OwnedSemaphorePermit,
) {
    let start = Instant::now();
    ctx.shared.metrics.requests.fetch_add(1, Relaxed);
    ctx.shared.metrics.oneway.fetch_add(1, Relaxed);
    let mut log = Access {
        bytes_in: frame.len(),
        status: "oneway",
        ..Access::default()
    };
    let matched_route = matched(&ctx, &meta, &mut log);
    let sent = async {
        let (route, cluster) = select(&ctx, &meta, matched_route)?;
        mirror(&ctx, route, &frame, &meta);
        let (active, conn) = cluster.connect(&meta).await?;
        log.upstream = Some(active.address().clone());
        conn.send_oneway(&frame, &route.request_mutation).await
    };
    if let Err(e) = sent.await {
        log.error = Some(e.kind.name());
        count_local_reply(&ctx, matched_route, e.kind);
        tracing::debug!(error = %e.message, "oneway request dropped");
    }
    log.emit(
        &ctx.protocol,
        &meta,
        &ctx.shared.access_properties,
        start.elapsed(),
    );
}

/// The first route the request matches, counted on the route and named in the access log.
fn matched<'a>(ctx: &'a ListenerCtx, meta: &Metadata, log: &mut Access) -> Option<&'a Route> {
    let route = ctx.router.find(meta)?;
    route.metrics.record_request();
    log.route = Some(route.name.clone());
    Some(route)
}

/// Rate limit and destination for a request that matched `route`, if any.
fn select<'a>(
    ctx: &'a ListenerCtx,
    meta: &Metadata,
    route: Option<&'a Route>,
) -> Result<(&'a Route, &'a Arc<Cluster>), ReplyError> {
    // The route was matched first only to count a rejection against it: the limit still
    // decides before the route does, so a request over the limit is OverLimit either way.
    if let Some(limiter) = &ctx.router.limiter
        && !limiter.allow(meta)
    {
        ctx.shared.metrics.rate_limited.fetch_add(1, Relaxed);
        return Err(ReplyError::new(
            ErrorKind::OverLimit,
            "local rate limit exceeded",
        ));
    }
    let route = route
        .ok_or_else(|| ReplyError::new(ErrorKind::RouteNotFound, "no route matches the request"))?;
    let cluster = route
        .pick()
        .ok_or_else(|| ReplyError::new(ErrorKind::ClusterNotFound, "route has no destination"))?
        .as_ref()
        .map_err(|why| ReplyError::new(ErrorKind::ClusterNotFound, why.to_string()))?;
    Ok((route, cluster))
}

/// Routes and forwards a two-way request; the matched route comes back whatever the outcome,
/// so a local reply can be counted against it.
async fn forward<'a>(
    ctx: &'a ListenerCtx,
    frame: &Bytes,
    meta: &Metadata,
    log: &mut Access,
) -> (Option<&'a Route>, Result<(Response, &'a Route), ReplyError>) {
    if meta.request_id.is_none() {
        let msg = "a request without a request id cannot be multiplexed";
        return (None, Err(ReplyError::new(ErrorKind::Unspecified, msg)));
    }
    let route = matched(ctx, meta, log);
    (route, call(ctx, route, frame, meta, log).await)
}

/// Sends the request on its route and waits for the response, within the route timeout.
async fn call<'a>(
    ctx: &'a ListenerCtx,
    matched: Option<&'a Route>,
    frame: &Bytes,
    meta: &Metadata,
    log: &mut Access,
) -> Result<(Response, &'a Route), ReplyError> {
    let (route, cluster) = select(ctx, meta, matched)?;
    mirror(ctx, route, frame, meta);
    // The member that got a connection, for outlier detection; connect failures are
    // reported by `connect` itself, per endpoint tried.
    let mut member = None;
    let exchange = async {
        let (active, conn) = cluster.connect(meta).await?;
        log.upstream = Some(active.address().clone());
        member = Some(active.member);
        conn.call(frame, &route.request_mutation).await
    };
    let result = match tokio::time::timeout(route.timeout, exchange).await {
        Ok(result) => result,
        Err(_) => {
            let msg = format!("upstream did not answer within {:?}", route.timeout);
            Err(ReplyError::new(ErrorKind::Timeout, msg))
        }
    };
    if let (Some(i), Some(outcome)) = (member, Outcome::of(&result)) {
        cluster.report(i, outcome);
    }
    result.map(|response| (response, route))
}

/// Copies the request to the route's mirror, if it rolls one; never waits for it.
fn mirror(ctx: &ListenerCtx, route: &Route, frame: &Bytes, meta: &Metadata) {
    let Some(Ok(cluster)) = route.roll_mirror().map(Target::as_ref) else {
        return;
    };
    ctx.shared.metrics.mirrored.fetch_add(1, Relaxed);
    let (cluster, frame, meta) = (cluster.clone(), frame.clone(), meta.clone());
    let (mutation, timeout) = (route.request_mutation.clone(), route.timeout);
    let oneway = meta.message_type == MessageType::Oneway;
    tokio::spawn(async move {
        let copy = async {
            let (_active, conn) = cluster.connect(&meta).await?;
            if oneway {
                conn.send_oneway(&frame, &mutation).await
            } else {
                conn.call(&frame, &mutation).await.map(drop)
            }
        };
        if let Ok(Err(e)) = tokio::time::timeout(timeout, copy).await {
            tracing::debug!(error = %e.message, "mirror failed");
        }
    });
}

/// The upstream response re-encoded with the downstream request id and the response mutation.
fn answer(
    ctx: &ListenerCtx,
    request: &Metadata,
    response: Response,
    route: &Route,
) -> (Parts, Status) {
    let (frame, meta) = response;
    let mutation = Mutation {
        request_id: request.request_id,
        properties: route.response_mutation.properties.clone(),
    };
    let mut out = Encoded::new();
    if let Err(e) = ctx.codec.encode(&frame, &mutation, &mut out) {
        let error = ReplyError::new(
            ErrorKind::BadResponse,
            format!("cannot re-encode response: {e}"),
        );
        return (
            local_reply(ctx, Some(route), request, &error, &mut Access::default()),
            Status::Local,
        );
    }
    let failed = meta.message_type == MessageType::Error
        || meta.response_status == Some(ResponseStatus::Error);
    (
        out.into_parts(),
        if failed { Status::Error } else { Status::Ok },
    )
}

/// The codec's error reply to `request`, counted by kind (and on `route`, when one matched).
pub(crate) fn local_reply(
    ctx: &ListenerCtx,
    route: Option<&Route>,
    request: &Metadata,
    error: &ReplyError,
    log: &mut Access,
) -> Parts {
    count_local_reply(ctx, route, error.kind);
    log.error = Some(error.kind.name());
    tracing::debug!(kind = %error.kind, message = %error.message, "local reply");
    let mut out = Encoded::new();
    match ctx.codec.error_reply(request, error, &mut out) {
        Ok(()) => out.into_parts(),
        Err(e) => {
            tracing::warn!(error = %e, "codec could not build an error reply");
            Vec::new()
        }
    }
}

/// Counts a local reply (or a dropped oneway) of `kind`, in total and on its route.
fn count_local_reply(ctx: &ListenerCtx, route: Option<&Route>, kind: ErrorKind) {
    ctx.shared.metrics.record_local_reply(kind);
    if let Some(route) = route {
        route.metrics.record_local_reply(kind);
    }
}

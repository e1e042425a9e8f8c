//! The proxy end to end over real sockets on 127.0.0.1: client → proxy → upstream servers.
#![cfg(feature = "proxy")]

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use mproto_runtime::ErrorKind;
use mproto_runtime::proxy::Status;
use support::codec::{ERROR, HEARTBEAT, ONEWAY, RESPONSE};
use support::*;
use tokio::sync::Semaphore;

/// Three echo servers labelled v1, v2, v3.
async fn three() -> (Upstream, Upstream, Upstream) {
    (
        Upstream::start("s1", Mode::Echo).await,
        Upstream::start("s2", Mode::Echo).await,
        Upstream::start("s3", Mode::Echo).await,
    )
}

fn eps<'a>(ups: &[(&Upstream, &'a str)]) -> Vec<(std::net::SocketAddr, &'a str)> {
    ups.iter().map(|(u, v)| (u.addr, *v)).collect()
}

async fn match_proxy() -> (Running, (Upstream, Upstream, Upstream)) {
    let (a, b, c) = three().await;
    let routes = format!(
        "  routes:\n{}{}{}{}",
        route("exact", "method: {exact: sayHello}", "v1"),
        route("prefix", "interface: {prefix: org.demo.}", "v2"),
        route("regex", "method: {regex: 'get[A-Z][a-z]+'}", "v3"),
        route("presence", "canary: {}", "v2"),
    );
    let yaml = mesh_yaml(&eps(&[(&a, "v1"), (&b, "v2"), (&c, "v3")]), &routes, "");
    (start_proxy(&yaml).await, (a, b, c))
}

async fn server_for(p: &Running, id: u64, headers: &[(&str, &str)]) -> String {
    let mut client = Client::connect(p.addr).await;
    let reply = client.call(&Msg::request(id, headers)).await;
    assert_eq!(reply.id, id);
    assert_eq!(reply.kind, RESPONSE, "{reply:?}");
    reply.header("server").unwrap().to_owned()
}

#[tokio::test]
async fn routes_by_exact_match() {
    let (p, _ups) = match_proxy().await;
    assert_eq!(server_for(&p, 1, &[("method", "sayHello")]).await, "s1");
}

#[tokio::test]
async fn routes_by_prefix_match() {
    let (p, _ups) = match_proxy().await;
    assert_eq!(
        server_for(&p, 2, &[("interface", "org.demo.Greeter")]).await,
        "s2"
    );
}

#[tokio::test]
async fn routes_by_regex_match() {
    let (p, _ups) = match_proxy().await;
    assert_eq!(server_for(&p, 3, &[("method", "getUser")]).await, "s3");
    // Full-match semantics: a partial match is no match.
    let mut client = Client::connect(p.addr).await;
    let reply = client
        .call(&Msg::request(4, &[("method", "getUser2")]))
        .await;
    assert_eq!(
        (reply.kind, error_kind(&reply)),
        (ERROR, Some(ErrorKind::RouteNotFound))
    );
}

#[tokio::test]
async fn routes_by_presence_match() {
    let (p, _ups) = match_proxy().await;
    assert_eq!(server_for(&p, 5, &[("canary", "")]).await, "s2");
}

#[tokio::test]
async fn first_matching_route_wins() {
    let (p, _ups) = match_proxy().await;
    let server = server_for(&p, 6, &[("method", "sayHello"), ("canary", "1")]).await;
    assert_eq!(server, "s1");
}

#[tokio::test]
async fn weighted_split_within_statistical_bounds() {
    let (a, b, _c) = three().await;
    let routes = "  routes:\n  - name: split\n    route:\n    - {destination: {host: svc.test, subset: v1}, weight: 20}\n    - {destination: {host: svc.test, subset: v2}, weight: 80}\n";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1"), (&b, "v2")]), routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    let n = 1000;
    let mut to_v1 = 0;
    for id in 0..n {
        client.send(&Msg::request(id, &[])).await;
    }
    for _ in 0..n {
        if client.recv().await.header("server") == Some("s1") {
            to_v1 += 1;
        }
    }
    // Binomial(1000, 0.2): mean 200, sd 12.6; the bounds are about 4.7 sd wide.
    assert!((140..=260).contains(&to_v1), "v1 got {to_v1} of {n}");
}

#[tokio::test]
async fn mirror_copies_requests_and_drops_its_responses() {
    let (a, mut b, _c) = three().await;
    let routes = "  routes:\n  - name: m\n    route: [{destination: {host: svc.test, subset: v1}}]\n    mirror: {host: svc.test, subset: v2}\n    mirrorPercentage: {value: 100.0}\n";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1"), (&b, "v2")]), routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    for id in [10, 11] {
        let reply = client.call(&Msg::request(id, &[("k", "v")])).await;
        assert_eq!((reply.id, reply.header("server")), (id, Some("s1")));
        let copy = b.next_seen().await;
        assert_eq!(
            (copy.header("k"), copy.body.as_slice()),
            (Some("v"), format!("body-{id}").as_bytes())
        );
    }
    assert_eq!(p.metrics.mirrored.load(Relaxed), 2);
}

#[tokio::test]
async fn request_and_response_mutations_reach_the_peers() {
    let (mut a, _b, _c) = three().await;
    let routes = "  routes:\n  - name: mut\n    route: [{destination: {host: svc.test}}]\n    requestMutation: [{key: foo, value: bar}, {key: keep, value: replaced}]\n    responseMutation: [{key: served-by, value: mesh}]\n";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1")]), routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    let mut req = Msg::request(42, &[("keep", "original"), ("x", "1")]);
    req.body = vec![7u8; 4096]; // large enough to be shared, not copied, by re-encoding
    let reply = client.call(&req).await;
    let upstream = a.next_seen().await;
    assert_eq!(upstream.header("foo"), Some("bar"));
    assert_eq!(upstream.header("keep"), Some("replaced"));
    assert_eq!(upstream.header("x"), Some("1"));
    assert_ne!(upstream.id, 0, "upstream id is the proxy's own");
    assert_eq!(upstream.body, req.body);
    assert_eq!(reply.id, 42);
    assert_eq!(reply.header("served-by"), Some("mesh"));
    assert_eq!(reply.header("foo"), Some("bar"), "echoed request header");
    assert_eq!(reply.body, req.body);
}

#[tokio::test]
async fn local_rate_limit_replies_over_limit_per_condition() {
    let (a, _b, _c) = three().await;
    let routes = "  localRateLimit:\n    tokenBucket: {fillInterval: 1h, maxTokens: 4, tokensPerFill: 4}\n    conditions:\n    - match: {attributes: {method: {exact: sayHello}}}\n      tokenBucket: {fillInterval: 1h, maxTokens: 2, tokensPerFill: 2}\n  routes:\n  - name: all\n    route: [{destination: {host: svc.test}}]\n";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1")]), routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    let hello = [("method", "sayHello")];
    for id in 1..=2 {
        assert_eq!(client.call(&Msg::request(id, &hello)).await.kind, RESPONSE);
    }
    let limited = client.call(&Msg::request(3, &hello)).await;
    assert_eq!(
        (limited.id, error_kind(&limited)),
        (3, Some(ErrorKind::OverLimit))
    );
    // Other methods draw from the default bucket of 4.
    for id in 4..=7 {
        assert_eq!(
            client
                .call(&Msg::request(id, &[("method", "bye")]))
                .await
                .kind,
            RESPONSE
        );
    }
    let limited = client.call(&Msg::request(8, &[("method", "bye")])).await;
    assert_eq!(
        (limited.id, error_kind(&limited)),
        (8, Some(ErrorKind::OverLimit))
    );
    assert_eq!(p.metrics.rate_limited.load(Relaxed), 2);
    assert_eq!(p.metrics.local_replies(ErrorKind::OverLimit), 2);
}

#[tokio::test]
async fn every_local_reply_kind_carries_the_request_id() {
    let live = Upstream::start("live", Mode::Echo).await;
    let garbage = Upstream::start("garbage", Mode::Garbage).await;
    let gate = Upstream::start("slow", Mode::Gate(Arc::new(Semaphore::new(0)))).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let routes = format!(
        "  localRateLimit:\n    conditions:\n    - match: {{attributes: {{case: {{exact: limit}}}}}}\n      tokenBucket: {{fillInterval: 1h, maxTokens: 1}}\n  routes:\n{}{}{}{}{}",
        "  - name: nocluster\n    match: {attributes: {case: {exact: cluster}}}\n    route: [{destination: {host: nowhere.test}}]\n",
        route("dead", "case: {exact: dead}", "v2"),
        route("bad", "case: {exact: bad}", "v3"),
        "  - name: slow\n    match: {attributes: {case: {exact: slow}}}\n    timeout: 100ms\n    route: [{destination: {host: svc.test, subset: v4}}]\n",
        route("limit", "case: {exact: limit}", "v1"),
    );
    let yaml = mesh_yaml(
        &[
            (live.addr, "v1"),
            (dead, "v2"),
            (garbage.addr, "v3"),
            (gate.addr, "v4"),
        ],
        &routes,
        "",
    )
    .replace(
        "  - {name: v3, labels: {version: v3}}",
        "  - {name: v3, labels: {version: v3}}\n  - {name: v4, labels: {version: v4}}",
    );
    let p = start_proxy(&yaml).await;
    let mut client = Client::connect(p.addr).await;
    let cases = [
        ("none", ErrorKind::RouteNotFound),
        ("cluster", ErrorKind::ClusterNotFound),
        ("dead", ErrorKind::NoHealthyUpstream),
        ("bad", ErrorKind::BadResponse),
        ("slow", ErrorKind::Timeout),
    ];
    for (i, (case, kind)) in cases.iter().enumerate() {
        let id = 1000 + i as u64;
        let reply = client.call(&Msg::request(id, &[("case", case)])).await;
        assert_eq!(
            (reply.kind, reply.id, error_kind(&reply)),
            (ERROR, id, Some(*kind)),
            "{case}"
        );
        assert_eq!(p.metrics.local_replies(*kind), 1, "{case}");
    }
    assert_eq!(
        client
            .call(&Msg::request(2000, &[("case", "limit")]))
            .await
            .kind,
        RESPONSE
    );
    let reply = client.call(&Msg::request(2001, &[("case", "limit")])).await;
    assert_eq!(
        (reply.id, error_kind(&reply)),
        (2001, Some(ErrorKind::OverLimit))
    );
    assert_eq!(p.metrics.responses(Status::Local), 6);
    // Each kind produced after a route matched is also counted on that route.
    let (_, body) = http_get(p.admin, "/metrics").await;
    for (route, kind) in [
        ("nocluster", "ClusterNotFound"),
        ("dead", "NoHealthyUpstream"),
        ("bad", "BadResponse"),
        ("slow", "Timeout"),
        ("limit", "OverLimit"),
    ] {
        let line =
            format!("mproto_route_local_replies_total{{route=\"{route}\",kind=\"{kind}\"}} 1");
        assert!(
            body.lines().any(|l| l == line),
            "missing `{line}` in\n{body}"
        );
    }
}

#[tokio::test]
async fn pipelined_requests_get_out_of_order_responses_mapped_back() {
    let rev = Upstream::start("rev", Mode::Reverse(4)).await;
    let routes = "  routes:\n  - name: all\n    route: [{destination: {host: svc.test}}]\n";
    let p = start_proxy(&mesh_yaml(
        &[(rev.addr, "v1")],
        routes,
        "upstreamConnections: 1",
    ))
    .await;
    let mut client = Client::connect(p.addr).await;
    let ids = [501, 502, 503, 504];
    for id in ids {
        client.send(&Msg::request(id, &[])).await;
    }
    let mut got = Vec::new();
    for _ in ids {
        let reply = client.recv().await;
        assert_eq!(
            reply.body,
            format!("body-{}", reply.id).into_bytes(),
            "response mapped to the wrong request"
        );
        got.push(reply.id);
    }
    assert_eq!(
        got,
        [504, 503, 502, 501],
        "upstream answered in reverse; so does the proxy"
    );
}

#[tokio::test]
async fn requests_from_several_clients_share_one_upstream_connection() {
    let mut a = Upstream::start("a", Mode::Echo).await;
    let routes = "  routes:\n  - name: all\n    route: [{destination: {host: svc.test}}]\n";
    let p = start_proxy(&mesh_yaml(
        &[(a.addr, "v1")],
        routes,
        "upstreamConnections: 1",
    ))
    .await;
    let (mut c1, mut c2) = (Client::connect(p.addr).await, Client::connect(p.addr).await);
    // Both clients use id 7; the proxy gives each its own upstream id.
    assert_eq!(
        c1.call(&Msg::request(7, &[("who", "c1")]))
            .await
            .header("who"),
        Some("c1")
    );
    assert_eq!(
        c2.call(&Msg::request(7, &[("who", "c2")]))
            .await
            .header("who"),
        Some("c2")
    );
    let (u1, u2) = (a.next_seen().await, a.next_seen().await);
    assert_ne!(u1.id, u2.id);
    assert_eq!(p.metrics.upstream_connects.load(Relaxed), 1);
}

#[tokio::test]
async fn upstream_killed_mid_request_gets_a_bad_response_reply() {
    let closer = Upstream::start("closer", Mode::Close).await;
    let live = Upstream::start("live", Mode::Echo).await;
    let routes = format!(
        "  routes:\n{}{}",
        route("kill", "case: {exact: kill}", "v1"),
        route("ok", "case: {}", "v2")
    );
    let p = start_proxy(&mesh_yaml(
        &[(closer.addr, "v1"), (live.addr, "v2")],
        &routes,
        "",
    ))
    .await;
    let mut client = Client::connect(p.addr).await;
    let reply = client.call(&Msg::request(77, &[("case", "kill")])).await;
    assert_eq!(
        (reply.id, error_kind(&reply)),
        (77, Some(ErrorKind::BadResponse))
    );
    // The downstream connection and other upstreams are unaffected.
    let reply = client.call(&Msg::request(78, &[("case", "ok")])).await;
    assert_eq!((reply.id, reply.kind), (78, RESPONSE));
}

#[tokio::test]
async fn slow_upstream_hits_the_route_timeout() {
    let gate = Arc::new(Semaphore::new(0));
    let slow = Upstream::start("slow", Mode::Gate(gate.clone())).await;
    let routes = "  routes:\n  - name: slow\n    timeout: 150ms\n    route: [{destination: {host: svc.test}}]\n";
    let p = start_proxy(&mesh_yaml(&[(slow.addr, "v1")], routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    let reply = client.call(&Msg::request(9, &[])).await;
    assert_eq!(
        (reply.id, error_kind(&reply)),
        (9, Some(ErrorKind::Timeout))
    );
    // The late response is dropped; the next request gets its own answer.
    gate.add_permits(2);
    let reply = client.call(&Msg::request(10, &[])).await;
    assert_eq!((reply.id, reply.kind), (10, RESPONSE));
}

#[tokio::test]
async fn undecodable_frame_gets_an_error_reply_then_close() {
    let a = Upstream::start("a", Mode::Echo).await;
    let p = start_proxy(&mesh_yaml(&[(a.addr, "v1")], "  routes: []\n", "")).await;
    let mut bad = Client::connect(p.addr).await;
    let mut frame = Msg::request(31, &[]).encode();
    frame[4] = 99; // unknown kind: frames fine, does not decode
    bad.send_raw(&frame).await;
    let reply = bad.recv().await;
    assert_eq!(
        (reply.kind, reply.id, error_kind(&reply)),
        (ERROR, 31, Some(ErrorKind::Unspecified))
    );
    assert!(bad.closed().await);
    // Bytes that do not even frame: no id to answer, just close.
    let mut worse = Client::connect(p.addr).await;
    worse.send_raw(&[0, 0, 0, 1, 0xff, 0xff]).await;
    assert!(worse.closed().await);
    // Other connections are unaffected.
    let mut good = Client::connect(p.addr).await;
    assert_eq!(good.call(&Msg::request(32, &[])).await.kind, RESPONSE);
    assert_eq!(p.metrics.decode_errors.load(Relaxed), 2);
}

#[tokio::test]
async fn frame_over_the_size_limit_is_refused_before_buffering() {
    let a = Upstream::start("a", Mode::Echo).await;
    let p = start_proxy(&mesh_yaml(
        &[(a.addr, "v1")],
        "  routes: []\n",
        "maxFrame: 1024",
    ))
    .await;
    let mut client = Client::connect(p.addr).await;
    let mut big = Msg::request(55, &[]);
    big.body = vec![0; 2000];
    let bytes = big.encode();
    client.send_raw(&bytes[..64]).await; // the header alone announces the size
    let reply = client.recv().await;
    assert_eq!(
        (reply.id, error_kind(&reply)),
        (55, Some(ErrorKind::Unspecified))
    );
    assert!(
        reply.header("message").unwrap().contains("1024"),
        "{reply:?}"
    );
    assert!(client.closed().await);
}

#[tokio::test]
async fn oneway_is_forwarded_and_heartbeat_answered_locally() {
    let mut a = Upstream::start("a", Mode::Echo).await;
    let routes = "  routes:\n  - name: all\n    route: [{destination: {host: svc.test}}]\n    requestMutation: [{key: via, value: proxy}]\n";
    let p = start_proxy(&mesh_yaml(&[(a.addr, "v1")], routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    let mut oneway = Msg::request(60, &[]);
    oneway.kind = ONEWAY;
    client.send(&oneway).await;
    let seen = a.next_seen().await;
    assert_eq!((seen.kind, seen.header("via")), (ONEWAY, Some("proxy")));
    let mut ping = Msg::request(61, &[]);
    ping.kind = HEARTBEAT;
    let pong = client.call(&ping).await;
    assert_eq!((pong.kind, pong.id), (HEARTBEAT, 61));
    // The next frame is the answer to the next request: nothing answered the oneway.
    assert_eq!(client.call(&Msg::request(62, &[])).await.id, 62);
    assert_eq!(
        a.next_seen().await.kind,
        support::codec::REQUEST,
        "heartbeat never reached upstream"
    );
    assert_eq!(p.metrics.heartbeats.load(Relaxed), 1);
}

#[tokio::test]
async fn graceful_drain_finishes_requests_in_flight() {
    let gate = Arc::new(Semaphore::new(0));
    let mut slow = Upstream::start("slow", Mode::Gate(gate.clone())).await;
    let routes = "  routes:\n  - name: all\n    route: [{destination: {host: svc.test}}]\n";
    let mut p = start_proxy(&mesh_yaml(&[(slow.addr, "v1")], routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    client.send(&Msg::request(90, &[])).await;
    slow.next_seen().await; // the request is in flight
    assert_eq!(http_get(p.admin, "/ready").await.0, 200);
    p.shutdown();
    within("the listener to close", async {
        while tokio::net::TcpStream::connect(p.addr).await.is_ok() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(http_get(p.admin, "/ready").await.0, 503);
    gate.add_permits(1);
    let reply = client.recv().await;
    assert_eq!((reply.id, reply.kind), (90, RESPONSE));
    assert!(client.closed().await, "drained connection closes");
    p.stopped().await;
}

#[tokio::test]
async fn admin_serves_prometheus_metrics() {
    let a = Upstream::start("a", Mode::Echo).await;
    let p = start_proxy(&mesh_yaml(&[(a.addr, "v1")], "  routes: []\n", "")).await;
    let mut client = Client::connect(p.addr).await;
    client.call(&Msg::request(1, &[])).await;
    let (code, body) = http_get(p.admin, "/metrics").await;
    assert_eq!(code, 200);
    for line in [
        "mproto_requests_total 1",
        "mproto_responses_total{status=\"ok\"} 1",
        "mproto_local_replies_total{kind=\"RouteNotFound\"} 0",
        "mproto_upstream_connections 1",
        "mproto_request_duration_seconds_count 1",
        "mproto_active_requests 0",
    ] {
        assert!(body.contains(line), "missing `{line}` in\n{body}");
    }
    assert_eq!(http_get(p.admin, "/nope").await.0, 404);
}

#[tokio::test]
async fn admin_serves_per_route_metrics() {
    const N: u64 = 3;
    let (mut a, b, _c) = three().await;
    let routes = format!(
        "  localRateLimit:\n    conditions:\n    - match: {{attributes: {{method: {{exact: b}}}}}}\n      tokenBucket: {{fillInterval: 1h, maxTokens: {N}}}\n  routes:\n{}{}",
        route("alpha", "method: {exact: a}", "v1"),
        route("beta", "method: {exact: b}", "v2"),
    );
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1"), (&b, "v2")]), &routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    for id in 0..N {
        for method in ["a", "b"] {
            let reply = client.call(&Msg::request(id, &[("method", method)])).await;
            assert_eq!(reply.kind, RESPONSE, "{method}: {reply:?}");
        }
    }
    let limited = client.call(&Msg::request(10, &[("method", "b")])).await;
    assert_eq!(error_kind(&limited), Some(ErrorKind::OverLimit));
    let lost = client.call(&Msg::request(11, &[("method", "c")])).await;
    assert_eq!(error_kind(&lost), Some(ErrorKind::RouteNotFound));
    a.drain_seen();
    let mut oneway = Msg::request(12, &[("method", "a")]);
    oneway.kind = ONEWAY;
    client.send(&oneway).await;
    // The route counts a request before forwarding it, so once upstream has it, it is counted.
    assert_eq!(a.next_seen().await.kind, ONEWAY);
    // On the test's single-threaded runtime a request task records its metrics before it
    // yields, and the writer task that sends the reply runs only after that yield.
    let (code, body) = http_get(p.admin, "/metrics").await;
    assert_eq!(code, 200);
    let (n, n1) = (N, N + 1);
    for line in [
        format!("mproto_requests_total {}", 2 * N + 3),
        "mproto_local_replies_total{kind=\"RouteNotFound\"} 1".into(),
        format!("mproto_route_requests_total{{route=\"alpha\"}} {n1}"),
        format!("mproto_route_requests_total{{route=\"beta\"}} {n1}"),
        format!("mproto_route_responses_total{{route=\"alpha\",status=\"ok\"}} {n}"),
        "mproto_route_responses_total{route=\"alpha\",status=\"local\"} 0".into(),
        format!("mproto_route_responses_total{{route=\"beta\",status=\"ok\"}} {n}"),
        "mproto_route_responses_total{route=\"beta\",status=\"local\"} 1".into(),
        "mproto_route_local_replies_total{route=\"alpha\",kind=\"OverLimit\"} 0".into(),
        "mproto_route_local_replies_total{route=\"beta\",kind=\"OverLimit\"} 1".into(),
        format!("mproto_route_request_duration_seconds_count{{route=\"alpha\"}} {n}"),
        format!("mproto_route_request_duration_seconds_count{{route=\"beta\"}} {n1}"),
        format!("mproto_route_request_duration_seconds_bucket{{route=\"beta\",le=\"+Inf\"}} {n1}"),
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "missing `{line}` in\n{body}"
        );
    }
    assert!(!body.contains(",kind=\"RouteNotFound\""), "{body}");
    assert_eq!(
        body.matches("# TYPE mproto_route_requests_total ").count(),
        1
    );
}

#[tokio::test]
async fn connections_over_the_limit_are_closed() {
    let a = Upstream::start("a", Mode::Echo).await;
    let p = start_proxy(&mesh_yaml(
        &[(a.addr, "v1")],
        "  routes: []\n",
        "maxConnections: 1",
    ))
    .await;
    let mut first = Client::connect(p.addr).await;
    first.call(&Msg::request(1, &[])).await;
    let mut second = Client::connect(p.addr).await;
    assert!(second.closed().await);
    assert_eq!(first.call(&Msg::request(2, &[])).await.id, 2);
    assert_eq!(p.metrics.downstream_rejected.load(Relaxed), 1);
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let a = Upstream::start("a", Mode::Echo).await;
    let p = start_proxy(&mesh_yaml(
        &[(a.addr, "v1")],
        "  routes: []\n",
        "idleTimeout: 100ms",
    ))
    .await;
    let mut client = Client::connect(p.addr).await;
    client.call(&Msg::request(1, &[])).await;
    assert!(client.closed().await);
}

#[tokio::test]
async fn consistent_hash_keeps_a_key_on_one_endpoint() {
    let (a, b, c) = three().await;
    let yaml = mesh_yaml(&eps(&[(&a, "v1"), (&b, "v1"), (&c, "v1")]), "  routes: []\n", "")
        .replace("  host: svc.test\n  subsets:", "  host: svc.test\n  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: user}}}\n  subsets:");
    let p = start_proxy(&yaml).await;
    let mut client = Client::connect(p.addr).await;
    for user in ["alice", "bob", "carol"] {
        let first = client
            .call(&Msg::request(1, &[("user", user)]))
            .await
            .header("server")
            .unwrap()
            .to_owned();
        for id in 2..12 {
            let server = client.call(&Msg::request(id, &[("user", user)])).await;
            assert_eq!(server.header("server"), Some(first.as_str()), "{user}");
        }
    }
}

#[tokio::test]
async fn round_robin_spreads_over_endpoints() {
    let (a, b, c) = three().await;
    let p = start_proxy(&mesh_yaml(
        &eps(&[(&a, "v1"), (&b, "v1"), (&c, "v1")]),
        "  routes: []\n",
        "",
    ))
    .await;
    let mut client = Client::connect(p.addr).await;
    let mut servers = std::collections::BTreeSet::new();
    for id in 0..6 {
        servers.insert(
            client
                .call(&Msg::request(id, &[]))
                .await
                .header("server")
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(servers.len(), 3, "{servers:?}");
}

#[tokio::test]
async fn round_robin_follows_endpoint_weights() {
    let (a, b, _c) = three().await;
    // ServiceEntry endpoint weights 1 and 3; no loadBalancer, so round robin.
    let yaml = mesh_yaml(&eps(&[(&a, "w1"), (&b, "w3")]), "  routes: []\n", "")
        .replace("{version: w1}}", "{version: w1}, weight: 1}")
        .replace("{version: w3}}", "{version: w3}, weight: 3}");
    assert!(yaml.contains("weight: 3}"), "{yaml}");
    let p = start_proxy(&yaml).await;
    let mut client = Client::connect(p.addr).await;
    let n = 100;
    for id in 0..n {
        client.send(&Msg::request(id, &[])).await;
    }
    let mut to_s1 = 0;
    for _ in 0..n {
        if client.recv().await.header("server") == Some("s1") {
            to_s1 += 1;
        }
    }
    // A full cycle is 4 picks: 25 cycles give exactly 25 and 75.
    assert_eq!((to_s1, n - to_s1), (25, 75));
}

/// The upstream idle timeout the idle tests configure.
const UPSTREAM_IDLE: Duration = Duration::from_millis(200);

/// A proxy sending everything to `up` over one upstream connection that idles out after
/// `idle` (a duration as written in the config).
async fn one_connection_proxy(up: &Upstream, idle: &str) -> Running {
    let limits = format!("upstreamConnections: 1, upstreamIdleTimeout: {idle}");
    start_proxy(&mesh_yaml(&[(up.addr, "v1")], "  routes: []\n", &limits)).await
}

#[tokio::test]
async fn idle_upstream_connections_are_closed_and_reopened() {
    let mut a = Upstream::start("a", Mode::Echo).await;
    let p = one_connection_proxy(&a, "200ms").await;
    let mut client = Client::connect(p.addr).await;
    let sent = Instant::now();
    assert_eq!(client.call(&Msg::request(1, &[])).await.kind, RESPONSE);
    assert_eq!((a.accepted(), a.eofs()), (1, 0));
    a.wait_eofs(1).await;
    // The request's lease ended after it was sent, and idling starts there.
    assert!(
        sent.elapsed() >= UPSTREAM_IDLE,
        "closed after {:?}",
        sent.elapsed()
    );
    wait_metric(p.admin, "mproto_upstream_connections 0").await;
    wait_metric(p.admin, "mproto_upstream_idle_closed_total 1").await;
    // The downstream connection is unaffected, and the next request gets a new connection.
    assert_eq!(client.call(&Msg::request(2, &[])).await.kind, RESPONSE);
    assert_eq!(a.accepted(), 2);
    wait_metric(p.admin, "mproto_upstream_connections 1").await;
    assert_eq!(p.metrics.upstream_connects.load(Relaxed), 2);
}

#[tokio::test]
async fn busy_upstream_connections_are_not_closed() {
    let gate = Arc::new(Semaphore::new(0));
    let mut a = Upstream::start("a", Mode::Hold(gate.clone())).await;
    let p = one_connection_proxy(&a, "200ms").await;
    let mut held = Client::connect(p.addr).await;
    held.send(&Msg::request(1, &[("hold", "")])).await;
    assert_eq!(a.next_seen().await.header("hold"), Some(""));
    // One request in flight and nothing else for two idle periods: that is not idle.
    tokio::time::sleep(UPSTREAM_IDLE * 2).await;
    assert_eq!(a.eofs(), 0, "closed with a request in flight");
    // Requests flow on the same upstream connection across several idle periods, while
    // the held one stays in flight.
    let mut client = Client::connect(p.addr).await;
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed() < UPSTREAM_IDLE * 3 && sent < 100_000 {
        sent += 1;
        let reply = client.call(&Msg::request(sent, &[])).await;
        assert_eq!((reply.id, reply.kind), (sent, RESPONSE), "{reply:?}");
    }
    assert!(
        start.elapsed() >= UPSTREAM_IDLE * 3,
        "{sent} requests ended early"
    );
    assert_eq!((a.accepted(), a.eofs()), (1, 0), "closed while busy");
    gate.add_permits(1);
    let reply = held.recv().await;
    assert_eq!((reply.id, reply.kind), (1, RESPONSE));
    // Once nothing is in flight the connection idles out after all.
    a.wait_eofs(1).await;
    assert_eq!(a.accepted(), 1);
    assert_eq!(p.metrics.upstream_idle_closed.load(Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_racing_idle_closes_never_fail() {
    // A zero timeout retires the connection whenever its last request ends, so requests of
    // the other clients keep racing retirements; each must get a connection that stays open
    // for it. Threads make the race real; the pauses (pacing, not synchronisation) leave
    // gaps longer than the timer's 1ms resolution, so retirements do happen.
    const CLIENTS: u64 = 4;
    const EACH: u64 = 100;
    let mut a = Upstream::start("a", Mode::Echo).await;
    let p = one_connection_proxy(&a, "0s").await;
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let mut client = Client::connect(p.addr).await;
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                let id = c * 1000 + i;
                let reply = client.call(&Msg::request(id, &[])).await;
                assert_eq!((reply.id, reply.kind), (id, RESPONSE), "{reply:?}");
                tokio::time::sleep(Duration::from_micros((id % 3) * 700)).await;
            }
        }));
    }
    for task in tasks {
        within("the clients", task).await.unwrap();
    }
    assert_eq!(a.drain_seen().len() as u64, CLIENTS * EACH);
    // Oneway requests release their connection once queued: a retirement right after must
    // still write them.
    let mut client = Client::connect(p.addr).await;
    for id in 0..EACH {
        let mut oneway = Msg::request(id, &[]);
        oneway.kind = ONEWAY;
        client.send(&oneway).await;
    }
    // Each oneway is forwarded by its own task, possibly over different connections: any order.
    let mut seen = Vec::new();
    for _ in 0..EACH {
        let msg = a.next_seen().await;
        assert_eq!(msg.kind, ONEWAY, "{msg:?}");
        seen.push(msg.id);
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..EACH).collect::<Vec<_>>(), "oneways lost");
    let idle_closed = p.metrics.upstream_idle_closed.load(Relaxed);
    assert!(
        idle_closed > 1,
        "the race was not exercised: {idle_closed} idle closes"
    );
    assert_eq!(p.metrics.local_replies(ErrorKind::BadResponse), 0);
}

/// Two endpoints, the second in `bad_mode`, with `outlier_detection` on the host: two
/// failures in the first four requests, then every request to the good endpoint, and one
/// ejection in `/metrics`.
async fn ejects_the_bad_endpoint(bad_mode: Mode, outlier_detection: &str) {
    let good = Upstream::start("good", Mode::Echo).await;
    let bad = Upstream::start("bad", bad_mode).await;
    let policy = format!("trafficPolicy: {{outlierDetection: {outlier_detection}}}");
    let yaml = mesh_yaml(&eps(&[(&good, "v1"), (&bad, "v1")]), "  routes: []\n", "").replace(
        "  host: svc.test\n  subsets:",
        &format!("  host: svc.test\n  {policy}\n  subsets:"),
    );
    assert!(yaml.contains("outlierDetection"), "{yaml}");
    let p = start_proxy(&yaml).await;
    let mut client = Client::connect(p.addr).await;
    // Round robin alternates, so the bad endpoint's second failure comes by the fourth request.
    let mut failures = 0;
    for id in 0..4 {
        if client.call(&Msg::request(id, &[])).await.kind == ERROR {
            failures += 1;
        }
    }
    assert_eq!(failures, 2, "the bad endpoint answered before its ejection");
    for id in 4..24 {
        let reply = client.call(&Msg::request(id, &[])).await;
        assert_eq!(
            (reply.kind, reply.header("server")),
            (RESPONSE, Some("good")),
            "request {id} after the ejection"
        );
    }
    wait_metric(p.admin, "mproto_outlier_ejections_total 1").await;
}

#[tokio::test]
async fn outlier_detection_ejects_an_endpoint_that_answers_errors() {
    let policy = "{consecutive5xxErrors: 2, baseEjectionTime: 30s, maxEjectionPercent: 50}";
    ejects_the_bad_endpoint(Mode::Fail, policy).await;
}

#[tokio::test]
async fn outlier_detection_ejects_an_endpoint_that_drops_connections() {
    // Error responses are off: only the lost connections (gateway errors) count.
    let policy = "{consecutiveGatewayErrors: 2, consecutive5xxErrors: 0, baseEjectionTime: 30s}";
    ejects_the_bad_endpoint(Mode::Close, policy).await;
}

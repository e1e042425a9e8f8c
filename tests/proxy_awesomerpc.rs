//! The runtime proxy end to end with the generated AwesomeRPC codec, over real sockets on
//! 127.0.0.1: client → proxy → upstream servers, every frame framed by `AwesomerpcCodec`.

mod proxy_support;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use mproto_codecs::awesomerpc::{Kind, Status};
use mproto_runtime::ErrorKind;
use proxy_support::*;
use tokio::sync::Semaphore;

/// Three echo servers, named s1, s2, s3.
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

/// A proxy routing by each match type to s1 (v1), s2 (v2), s3 (v3).
async fn match_proxy() -> (Running, (Upstream, Upstream, Upstream)) {
    let (a, b, c) = three().await;
    let routes = format!(
        "  routes:\n{}{}{}{}",
        route("exact", "method: {exact: SayHello}", "v1"),
        route("prefix", "service: {prefix: demo.}", "v2"),
        route("regex", "method: {regex: 'Get[A-Z][a-z]+'}", "v3"),
        route("presence", "canary: {}", "v2"),
    );
    let yaml = mesh_yaml(&eps(&[(&a, "v1"), (&b, "v2"), (&c, "v3")]), &routes, "");
    (start_proxy(&yaml).await, (a, b, c))
}

/// The server that answered a request with `headers`.
async fn server_for(p: &Running, id: u64, headers: &[(&str, &str)]) -> String {
    let mut client = Client::connect(p.addr).await;
    let reply = client.call(request(id, headers)).await;
    assert_eq!(reply.request_id, id);
    assert_eq!(
        (reply.flags.kind, reply.status),
        (Kind::Response, Status::Ok),
        "{reply:?}"
    );
    server(&reply).unwrap().to_owned()
}

/// Asserts `reply` is the codec's error reply of `kind` for request `id`.
#[track_caller]
fn assert_local_reply(reply: &mproto_codecs::awesomerpc::Message, id: u64, kind: ErrorKind) {
    let status = match kind {
        ErrorKind::RouteNotFound | ErrorKind::ClusterNotFound => Status::NotFound,
        ErrorKind::NoHealthyUpstream => Status::Unavailable,
        ErrorKind::Timeout => Status::Timeout,
        ErrorKind::OverLimit => Status::OverLimit,
        ErrorKind::BadResponse => Status::BadResponse,
        _ => Status::Internal,
    };
    assert_eq!(
        (
            reply.request_id,
            reply.flags.kind,
            reply.status,
            header(reply, "error-kind")
        ),
        (
            id,
            Kind::Response,
            status,
            Some(format!("{kind:?}").as_str())
        ),
        "{reply:?}"
    );
    assert!(header(reply, "error").is_some_and(|m| !m.is_empty()));
}

// === routing ===

#[tokio::test]
async fn routes_by_exact_header() {
    let (p, _ups) = match_proxy().await;
    assert_eq!(server_for(&p, 1, &[("method", "SayHello")]).await, "s1");
}

#[tokio::test]
async fn routes_by_header_prefix() {
    let (p, _ups) = match_proxy().await;
    assert_eq!(
        server_for(&p, 2, &[("service", "demo.Greeter")]).await,
        "s2"
    );
}

#[tokio::test]
async fn routes_by_regex_with_full_match_semantics() {
    let (p, _ups) = match_proxy().await;
    assert_eq!(server_for(&p, 3, &[("method", "GetUser")]).await, "s3");
    let mut client = Client::connect(p.addr).await;
    let reply = client.call(request(4, &[("method", "GetUser2")])).await;
    assert_local_reply(&reply, 4, ErrorKind::RouteNotFound);
}

#[tokio::test]
async fn routes_by_header_presence_and_first_match_wins() {
    let (p, _ups) = match_proxy().await;
    assert_eq!(server_for(&p, 5, &[("canary", "")]).await, "s2");
    let both = [("method", "SayHello"), ("canary", "1")];
    assert_eq!(server_for(&p, 6, &both).await, "s1");
}

#[tokio::test]
async fn routes_by_the_version_property() {
    // "version" is a metadata property of every AwesomeRPC frame, besides the headers.
    let (a, b, _c) = three().await;
    let routes = route("v", "version: {exact: '1'}", "v2");
    let yaml = mesh_yaml(
        &eps(&[(&a, "v1"), (&b, "v2")]),
        &format!("  routes:\n{routes}"),
        "",
    );
    let p = start_proxy(&yaml).await;
    assert_eq!(server_for(&p, 7, &[]).await, "s2");
}

#[tokio::test]
async fn weighted_split_within_statistical_bounds() {
    let (a, b, _c) = three().await;
    let routes = "  routes:\n  - name: split\n    route:\n    - {destination: {host: greeter.test, subset: v1}, weight: 20}\n    - {destination: {host: greeter.test, subset: v2}, weight: 80}\n";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1"), (&b, "v2")]), routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    let n = 1000;
    for id in 0..n {
        client.send(request(id, &[])).await;
    }
    let mut to_v1 = 0;
    for _ in 0..n {
        let reply = client.recv().await;
        assert_eq!(reply.status, Status::Ok);
        if server(&reply) == Some("s1") {
            to_v1 += 1;
        }
    }
    // Binomial(1000, 0.2): mean 200, sd 12.6; the bounds are about 4.7 sd wide.
    assert!((140..=260).contains(&to_v1), "v1 got {to_v1} of {n}");
}

// === policies ===

#[tokio::test]
async fn request_and_response_mutations_reach_the_peers() {
    let (mut a, _b, _c) = three().await;
    let routes = "  routes:\n  - name: mut\n    route: [{destination: {host: greeter.test}}]\n    requestMutation: [{key: x-mesh, value: mproto}, {key: keep, value: replaced}]\n    responseMutation: [{key: served-by, value: mesh}]\n";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1")]), routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    let mut req = request(42, &[("keep", "original"), ("x", "1")]);
    req.body = vec![7u8; 4096].into();
    let reply = client.call(req.clone()).await;
    let upstream = a.next_seen().await;
    assert_eq!(header(&upstream, "x-mesh"), Some("mproto"));
    assert_eq!(header(&upstream, "keep"), Some("replaced"));
    assert_eq!(header(&upstream, "x"), Some("1"));
    assert_eq!(upstream.body, req.body);
    assert_eq!(reply.request_id, 42);
    assert_eq!(header(&reply, "served-by"), Some("mesh"));
    assert_eq!(
        header(&reply, "x-mesh"),
        Some("mproto"),
        "echoed by upstream"
    );
    assert_eq!(reply.body, req.body);
}

#[tokio::test]
async fn upstream_sees_its_own_request_ids_and_the_client_its_own() {
    let (mut a, _b, _c) = three().await;
    let routes = "  routes:\n  - name: all\n    route: [{destination: {host: greeter.test}}]\n";
    let limits = "upstreamConnections: 1";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1")]), routes, limits)).await;
    let (mut c1, mut c2) = (Client::connect(p.addr).await, Client::connect(p.addr).await);
    // Two clients use the same id; the proxy multiplexes them on one upstream connection
    // with distinct ids.
    c1.send(request(5, &[("from", "c1")])).await;
    c2.send(request(5, &[("from", "c2")])).await;
    let (r1, r2) = (c1.recv().await, c2.recv().await);
    assert_eq!((r1.request_id, header(&r1, "from")), (5, Some("c1")));
    assert_eq!((r2.request_id, header(&r2, "from")), (5, Some("c2")));
    let (u1, u2) = (a.next_seen().await, a.next_seen().await);
    assert_ne!(u1.request_id, u2.request_id);
}

#[tokio::test]
async fn mirror_copies_requests_and_drops_its_responses() {
    let (a, mut b, _c) = three().await;
    let routes = "  routes:\n  - name: m\n    route: [{destination: {host: greeter.test, subset: v1}}]\n    mirror: {host: greeter.test, subset: v2}\n    mirrorPercentage: {value: 100.0}\n";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1"), (&b, "v2")]), routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    for id in [10, 11] {
        let reply = client.call(request(id, &[("k", "v")])).await;
        assert_eq!((reply.request_id, server(&reply)), (id, Some("s1")));
        let copy = b.next_seen().await;
        assert_eq!(header(&copy, "k"), Some("v"));
        assert_eq!(&copy.body[..], format!("body-{id}").as_bytes());
    }
    assert_eq!(p.metrics.mirrored.load(Relaxed), 2);
}

#[tokio::test]
async fn local_rate_limit_replies_over_limit_per_condition() {
    let (a, _b, _c) = three().await;
    let routes = "  localRateLimit:\n    tokenBucket: {fillInterval: 1h, maxTokens: 3, tokensPerFill: 3}\n    conditions:\n    - match: {attributes: {method: {exact: SayHello}}}\n      tokenBucket: {fillInterval: 1h, maxTokens: 2, tokensPerFill: 2}\n  routes:\n  - name: all\n    route: [{destination: {host: greeter.test}}]\n";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1")]), routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    let hello = [("method", "SayHello")];
    for id in 1..=2 {
        assert_eq!(client.call(request(id, &hello)).await.status, Status::Ok);
    }
    assert_local_reply(
        &client.call(request(3, &hello)).await,
        3,
        ErrorKind::OverLimit,
    );
    let bye = [("method", "Bye")];
    for id in 4..=6 {
        assert_eq!(client.call(request(id, &bye)).await.status, Status::Ok);
    }
    assert_local_reply(
        &client.call(request(7, &bye)).await,
        7,
        ErrorKind::OverLimit,
    );
    assert_eq!(p.metrics.rate_limited.load(Relaxed), 2);
}

// === local replies ===

#[tokio::test]
async fn every_local_reply_kind_carries_the_request_id() {
    let live = Upstream::start("live", Mode::Echo).await;
    let not_a_response = Upstream::start("odd", Mode::NotAResponse).await;
    let closes = Upstream::start("closes", Mode::Close).await;
    let slow = Upstream::start("slow", Mode::Gate(Arc::new(Semaphore::new(0)))).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let routes = format!(
        "  localRateLimit:\n    conditions:\n    - match: {{attributes: {{case: {{exact: limit}}}}}}\n      tokenBucket: {{fillInterval: 1h, maxTokens: 1}}\n  routes:\n{}{}{}{}{}{}{}",
        "  - name: nocluster\n    match: {attributes: {case: {exact: cluster}}}\n    route: [{destination: {host: nowhere.test}}]\n",
        route("nosubset", "case: {exact: subset}", "v9"),
        route("dead", "case: {exact: dead}", "v2"),
        route("odd", "case: {exact: odd}", "v3"),
        "  - name: slow\n    match: {attributes: {case: {exact: slow}}}\n    timeout: 100ms\n    route: [{destination: {host: greeter.test, subset: v4}}]\n",
        route("closes", "case: {exact: closes}", "v5"),
        route("limit", "case: {exact: limit}", "v1"),
    );
    let yaml = mesh_yaml(
        &[
            (live.addr, "v1"),
            (dead, "v2"),
            (not_a_response.addr, "v3"),
            (slow.addr, "v4"),
            (closes.addr, "v5"),
        ],
        &routes,
        "",
    );
    let p = start_proxy(&yaml).await;
    let mut client = Client::connect(p.addr).await;
    let cases = [
        (101, "none", ErrorKind::RouteNotFound),
        (102, "cluster", ErrorKind::ClusterNotFound),
        (103, "subset", ErrorKind::ClusterNotFound),
        (104, "dead", ErrorKind::NoHealthyUpstream),
        (105, "odd", ErrorKind::BadResponse),
        (106, "closes", ErrorKind::BadResponse),
        (107, "slow", ErrorKind::Timeout),
    ];
    for (id, case, kind) in cases {
        let reply = client.call(request(id, &[("case", case)])).await;
        assert_local_reply(&reply, id, kind);
    }
    let first = client.call(request(108, &[("case", "limit")])).await;
    assert_eq!((first.request_id, server(&first)), (108, Some("live")));
    let limited = client.call(request(109, &[("case", "limit")])).await;
    assert_local_reply(&limited, 109, ErrorKind::OverLimit);
    for kind in [
        ErrorKind::RouteNotFound,
        ErrorKind::NoHealthyUpstream,
        ErrorKind::Timeout,
        ErrorKind::OverLimit,
    ] {
        assert_eq!(p.metrics.local_replies(kind), 1, "{kind:?}");
    }
    assert_eq!(p.metrics.local_replies(ErrorKind::ClusterNotFound), 2);
    assert_eq!(p.metrics.local_replies(ErrorKind::BadResponse), 2);
}

// === message types ===

#[tokio::test]
async fn heartbeats_are_answered_by_the_proxy() {
    let (mut a, _b, _c) = three().await;
    let routes = "  routes:\n  - name: all\n    route: [{destination: {host: greeter.test}}]\n";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1")]), routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    let beat = client.call(message(Kind::Heartbeat, 77, &[], "")).await;
    assert_eq!((beat.flags.kind, beat.request_id), (Kind::Heartbeat, 77));
    // The next message the upstream sees is the request: the heartbeat never reached it.
    let reply = client.call(request(78, &[])).await;
    assert_eq!(reply.request_id, 78);
    let seen = a.next_seen().await;
    assert_eq!(seen.flags.kind, Kind::Request);
    assert!(a.drain_seen().is_empty());
    assert_eq!(p.metrics.heartbeats.load(Relaxed), 1);
}

#[tokio::test]
async fn oneway_messages_are_forwarded_and_not_answered() {
    let (mut a, _b, _c) = three().await;
    let routes = "  routes:\n  - name: all\n    route: [{destination: {host: greeter.test}}]\n";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1")]), routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    client
        .send(message(Kind::Oneway, 90, &[("event", "ping")], "fire"))
        .await;
    let seen = a.next_seen().await;
    assert_eq!(
        (seen.flags.kind, header(&seen, "event")),
        (Kind::Oneway, Some("ping"))
    );
    // The first answer on the connection is the following request's.
    let reply = client.call(request(91, &[])).await;
    assert_eq!(reply.request_id, 91);
    assert_eq!(p.metrics.oneway.load(Relaxed), 1);
}

#[tokio::test]
async fn pipelined_requests_get_out_of_order_responses_by_id() {
    let a = Upstream::start("rev", Mode::Reverse(8)).await;
    let routes = "  routes:\n  - name: all\n    route: [{destination: {host: greeter.test}}]\n";
    let p = start_proxy(&mesh_yaml(
        &eps(&[(&a, "v1")]),
        routes,
        "upstreamConnections: 1",
    ))
    .await;
    let mut client = Client::connect(p.addr).await;
    for id in 1..=8 {
        client.send(request(id, &[("n", &id.to_string())])).await;
    }
    let mut ids = Vec::new();
    for _ in 0..8 {
        let reply = client.recv().await;
        assert_eq!(
            header(&reply, "n"),
            Some(reply.request_id.to_string().as_str())
        );
        assert_eq!(
            &reply.body[..],
            format!("body-{}", reply.request_id).as_bytes()
        );
        ids.push(reply.request_id);
    }
    assert_eq!(ids, (1..=8).rev().collect::<Vec<_>>());
}

// === bad input and limits ===

#[tokio::test]
async fn undecodable_frame_gets_an_error_reply_then_close_and_others_are_unaffected() {
    let (a, _b, _c) = three().await;
    let routes = "  routes:\n  - name: all\n    route: [{destination: {host: greeter.test}}]\n";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1")]), routes, "")).await;
    let mut bystander = Client::connect(p.addr).await;
    let mut client = Client::connect(p.addr).await;
    let mut frame = request(55, &[]).to_bytes().unwrap().to_vec();
    frame[2] = 2; // version 2 violates `where version == 1`; the request id is still readable
    client.send_raw(&frame).await;
    let reply = client.recv().await;
    assert_local_reply(&reply, 55, ErrorKind::Unspecified);
    assert!(client.closed().await);
    assert_eq!(p.metrics.decode_errors.load(Relaxed), 1);
    let ok = bystander.call(request(56, &[])).await;
    assert_eq!((ok.request_id, ok.status), (56, Status::Ok));
}

#[tokio::test]
async fn garbage_without_a_readable_id_closes_the_connection() {
    let (a, _b, _c) = three().await;
    let routes = "  routes:\n  - name: all\n    route: [{destination: {host: greeter.test}}]\n";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1")]), routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    // Too short to hold a request id, and the magic is wrong.
    client.send_raw(b"GET /\r\n\r\n").await;
    assert!(client.closed().await);
    assert_eq!(p.metrics.decode_errors.load(Relaxed), 1);
}

#[tokio::test]
async fn a_frame_over_the_size_limit_is_refused() {
    let (mut a, _b, _c) = three().await;
    let routes = "  routes:\n  - name: all\n    route: [{destination: {host: greeter.test}}]\n";
    let p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1")]), routes, "maxFrame: 1024")).await;
    let mut client = Client::connect(p.addr).await;
    let small = client.call(request(1, &[])).await;
    assert_eq!(small.status, Status::Ok);
    let mut big = request(2, &[]);
    big.body = vec![0u8; 2000].into();
    // Only the header is sent: the announced length alone gets the frame refused.
    let bytes = big.to_bytes().unwrap();
    client.send_raw(&bytes[..64]).await;
    let reply = client.recv().await;
    assert_local_reply(&reply, 2, ErrorKind::Unspecified);
    assert!(client.closed().await);
    let rest = a.drain_seen();
    assert_eq!(
        rest.len(),
        1,
        "only the small request reaches the upstream: {rest:?}"
    );
    assert_eq!(p.metrics.decode_errors.load(Relaxed), 1);
}

// === lifecycle ===

#[tokio::test]
async fn drain_answers_requests_in_flight_then_stops() {
    let gate = Arc::new(Semaphore::new(0));
    let mut a = Upstream::start("slow", Mode::Gate(gate.clone())).await;
    let routes = "  routes:\n  - name: all\n    route: [{destination: {host: greeter.test}}]\n";
    let mut p = start_proxy(&mesh_yaml(&eps(&[(&a, "v1")]), routes, "")).await;
    let mut client = Client::connect(p.addr).await;
    client.send(request(31, &[])).await;
    client.send(request(32, &[])).await;
    a.next_seen().await;
    a.next_seen().await;
    p.shutdown();
    gate.add_permits(2);
    let mut ids = vec![
        client.recv().await.request_id,
        client.recv().await.request_id,
    ];
    ids.sort();
    assert_eq!(ids, [31, 32]);
    assert!(client.closed().await);
    p.stopped().await;
}

//! Aeraki's dubbo demo manifests, unchanged, driving the proxy; endpoints and the Proxy
//! object come from a separate file (Istio `WorkloadEntry`s selected by the ServiceEntry's
//! `workloadSelector`). The test codec stands in for dubbo under dubbo's codec name.
#![cfg(feature = "proxy")]

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use mproto_runtime::mesh::{ConfigErrors, Mesh};
use mproto_runtime::proxy::{Plan, Proxy};
use mproto_runtime::{
    Bytes, Codec, DecodeError, EncodeError, Encoded, ErrorKind, FrameLen, Metadata, Mutation,
    Registry, ReplyError,
};
use support::codec::RESPONSE;
use support::*;
use tokio::sync::oneshot;

/// The test codec under dubbo's names, as a compiled dubbo codec would register.
struct AsDubbo(TestCodec);

impl Codec for AsDubbo {
    fn protocol(&self) -> &'static str {
        "dubbo"
    }
    fn codec_name(&self) -> &'static str {
        "aeraki.meta_protocol.codec.dubbo"
    }
    fn max_frame_len(&self) -> usize {
        self.0.max_frame_len()
    }
    fn frame_len(&self, buf: &[u8]) -> Result<FrameLen, DecodeError> {
        self.0.frame_len(buf)
    }
    fn decode(&self, frame: &Bytes) -> Result<Metadata, DecodeError> {
        self.0.decode(frame)
    }
    fn peek_request_id(&self, frame: &[u8]) -> Option<u64> {
        self.0.peek_request_id(frame)
    }
    fn encode(&self, frame: &Bytes, m: &Mutation, out: &mut Encoded) -> Result<(), EncodeError> {
        self.0.encode(frame, m, out)
    }
    fn error_reply(
        &self,
        r: &Metadata,
        e: &ReplyError,
        out: &mut Encoded,
    ) -> Result<(), EncodeError> {
        self.0.error_reply(r, e, out)
    }
    fn heartbeat_reply(&self, r: &Metadata, out: &mut Encoded) -> Result<(), EncodeError> {
        self.0.heartbeat_reply(r, out)
    }
}

fn dubbo_registry() -> Registry {
    let mut r = Registry::new();
    r.register(Arc::new(AsDubbo(TestCodec)));
    r
}

fn reference(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference/aeraki")
        .join(name)
}

const HOST: &str = "org.apache.dubbo.samples.basic.api.demoservice";
const DEMO: [(&str, &str); 3] = [
    (
        "interface",
        "org.apache.dubbo.samples.basic.api.DemoService",
    ),
    ("method", "sayHello"),
    ("foo", "bar"),
];

/// WorkloadEntries for v1 and v2 and a Proxy object, in their own file.
fn endpoints_yaml(v1: &Upstream, v2: &Upstream) -> String {
    let we = |name: &str, version: &str, u: &Upstream| {
        format!(
            "apiVersion: networking.istio.io/v1beta1\nkind: WorkloadEntry\nmetadata: {{name: {name}, namespace: meta-dubbo}}\n\
             spec:\n  address: {}\n  ports: {{tcp-metaprotocol-dubbo: {}}}\n  labels: {{app: dubbo-sample-provider, version: {version}}}\n---\n",
            u.addr.ip(),
            u.addr.port()
        )
    };
    format!(
        "{}{}apiVersion: mproto.io/v1alpha1\nkind: Proxy\nmetadata: {{name: edge}}\nspec:\n  listeners: [{{address: \"127.0.0.1:0\", host: {HOST}, port: 20880}}]\n  admin: {{address: \"127.0.0.1:0\"}}\n",
        we("provider-v1", "v1", v1),
        we("provider-v2", "v2", v2)
    )
}

/// Runs the proxy on the shared files plus `router` and the endpoints file.
async fn run(
    router: &str,
    v1: &Upstream,
    v2: &Upstream,
) -> (std::net::SocketAddr, oneshot::Sender<()>) {
    let dir = std::env::temp_dir().join(format!(
        "mproto-aeraki-{}-{}",
        std::process::id(),
        v1.addr.port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let endpoints = dir.join("endpoints.yaml");
    std::fs::write(&endpoints, endpoints_yaml(v1, v2)).unwrap();
    let files = [
        reference("applicationprotocol.yaml"),
        reference("dubbo-serviceentry.yaml"),
        reference("dubbo-destinationrule.yaml"),
        reference(router),
        endpoints,
    ];
    let proxy = Proxy::load(&files, &dubbo_registry())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&dir);
    let addr = proxy.listener_addrs()[0];
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(proxy.run(async move {
        let _ = rx.await;
    }));
    (addr, tx)
}

#[tokio::test]
async fn traffic_split_manifest_routes_and_splits() {
    let (v1, v2) = (
        Upstream::start("v1", Mode::Echo).await,
        Upstream::start("v2", Mode::Echo).await,
    );
    let (addr, _stop) = run("dubbo-traffic-split.yaml", &v1, &v2).await;
    let mut client = Client::connect(addr).await;
    let mut to_v1 = 0;
    for id in 0..500 {
        let reply = client.call(&Msg::request(id, &DEMO)).await;
        assert_eq!(reply.kind, RESPONSE);
        to_v1 += usize::from(reply.header("server") == Some("v1"));
    }
    // 20% of 500: mean 100, sd 8.9.
    assert!((60..=140).contains(&to_v1), "v1 got {to_v1} of 500");
    let miss = client
        .call(&Msg::request(9, &[("method", "sayHello")]))
        .await;
    assert_eq!(error_kind(&miss), Some(ErrorKind::RouteNotFound));
}

#[tokio::test]
async fn header_mutation_manifest_sets_both_keys() {
    let (mut v1, v2) = (
        Upstream::start("v1", Mode::Echo).await,
        Upstream::start("v2", Mode::Echo).await,
    );
    let (addr, _stop) = run("dubbo-metarouter-header-mutation.yaml", &v1, &v2).await;
    let mut client = Client::connect(addr).await;
    // No subset: round robin over v1 and v2; the first request goes to v1.
    let reply = client.call(&Msg::request(1, &DEMO)).await;
    assert_eq!(
        (reply.header("foo"), reply.header("foo1")),
        (Some("bar"), Some("bar1"))
    );
    let seen = v1.next_seen().await;
    assert_eq!(seen.header("foo1"), Some("bar1"));
}

#[tokio::test]
async fn local_ratelimit_manifest_limits_say_hello() {
    let (v1, v2) = (
        Upstream::start("v1", Mode::Echo).await,
        Upstream::start("v2", Mode::Echo).await,
    );
    let (addr, _stop) = run("dubbo-metarouter-local-ratelimit.yaml", &v1, &v2).await;
    let mut client = Client::connect(addr).await;
    for id in 0..2 {
        assert_eq!(
            client.call(&Msg::request(id, &DEMO)).await.header("server"),
            Some("v1")
        );
    }
    let limited = client.call(&Msg::request(2, &DEMO)).await;
    assert_eq!(
        (limited.id, error_kind(&limited)),
        (2, Some(ErrorKind::OverLimit))
    );
}

#[tokio::test]
async fn mirroring_manifest_copies_to_v2() {
    let (v1, mut v2) = (
        Upstream::start("v1", Mode::Echo).await,
        Upstream::start("v2", Mode::Echo).await,
    );
    let (addr, _stop) = run("dubbo-traffic-mirroring.yaml", &v1, &v2).await;
    let mut client = Client::connect(addr).await;
    assert_eq!(
        client.call(&Msg::request(5, &DEMO)).await.header("server"),
        Some("v1")
    );
    assert_eq!(v2.next_seen().await.header("method"), Some("sayHello"));
}

#[test]
fn plan_errors_name_the_proxy_field() {
    let text = "apiVersion: mproto.io/v1alpha1\nkind: Proxy\nmetadata: {name: edge}\n\
                spec:\n  listeners: [{address: \"127.0.0.1:0\", host: missing.host, port: 1}]\n";
    let mesh = Mesh::load_str("proxy.yaml", text).unwrap();
    let err: ConfigErrors = Plan::build(&mesh, &dubbo_registry()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "proxy.yaml: Proxy edge: field `spec.listeners[0].host`: no ServiceEntry has host `missing.host`"
    );
}

#[test]
fn unknown_codec_names_the_application_protocol() {
    let files = [
        reference("applicationprotocol.yaml"),
        reference("dubbo-serviceentry.yaml"),
    ];
    let mut mesh = Mesh::load_files(&files).unwrap();
    let proxy = format!(
        "apiVersion: mproto.io/v1alpha1\nkind: Proxy\nmetadata: {{name: edge}}\n\
         spec:\n  listeners: [{{address: \"127.0.0.1:0\", host: {HOST}, port: 20880}}]\n"
    );
    let mut errors = ConfigErrors::default();
    mesh.add_text("proxy.yaml", &proxy, &mut errors);
    let err = Plan::build(&mesh, &registry()).unwrap_err().to_string();
    assert!(
        err.contains("applicationprotocol.yaml: ApplicationProtocol dubbo: field `spec.codec`: no codec `aeraki.meta_protocol.codec.dubbo`"),
        "{err}"
    );
}

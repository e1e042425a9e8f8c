//! Harness for the proxy's end-to-end tests with the generated AwesomeRPC codec: upstream
//! servers and a client framed by `AwesomerpcCodec` through `Framed`, and a proxy runner.
//! Every wait is bounded by [`WAIT`].
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mproto_codecs::awesomerpc::{AwesomerpcCodec, Kind, Message, MessageFlags, Status};
use mproto_runtime::mesh::Mesh;
use mproto_runtime::proxy::{Metrics, Proxy};
use mproto_runtime::{ByteString, Bytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::codec::{Framed, FramedRead, FramedWrite};

/// The longest any test waits for anything.
pub const WAIT: Duration = Duration::from_secs(5);

/// Awaits `f`, failing the test after [`WAIT`].
pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

// === messages ===

/// A request with `id`, `headers` and the body `body-<id>`.
pub fn request(id: u64, headers: &[(&str, &str)]) -> Message {
    message(Kind::Request, id, headers, format!("body-{id}"))
}

/// A message of `kind`.
pub fn message(kind: Kind, id: u64, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Message {
    Message {
        flags: MessageFlags {
            kind,
            ..Default::default()
        },
        request_id: id,
        headers: headers
            .iter()
            .map(|(k, v)| (ByteString::from(*k), ByteString::from(*v)))
            .collect(),
        body: body.into(),
        ..Default::default()
    }
}

/// The value of the first header named `key`.
pub fn header<'m>(m: &'m Message, key: &str) -> Option<&'m str> {
    m.headers.iter().find(|(k, _)| k == key).map(|(_, v)| &**v)
}

/// The server name an echo upstream put in its response.
pub fn server(m: &Message) -> Option<&str> {
    header(m, "server")
}

// === upstream ===

/// How an upstream test server answers.
#[derive(Clone)]
pub enum Mode {
    /// Answers each request at once, echoing headers and body, plus `server: <name>`.
    Echo,
    /// Collects this many requests, then answers them in reverse order.
    Reverse(usize),
    /// Answers each request once a permit is added to the semaphore.
    Gate(Arc<Semaphore>),
    /// Closes the connection when a request arrives.
    Close,
    /// Answers with a request instead of a response.
    NotAResponse,
}

/// An upstream test server on 127.0.0.1 that reports every message it receives.
pub struct Upstream {
    pub addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<Message>,
    task: JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Upstream {
    /// Starts a server named `name` answering in `mode`.
    pub async fn start(name: &str, mode: Mode) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, seen) = mpsc::unbounded_channel();
        let name: Arc<str> = name.into();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                conns.spawn(serve(stream, name.clone(), mode.clone(), tx.clone()));
            }
        });
        Upstream { addr, seen, task }
    }

    /// The next message this server received.
    pub async fn next_seen(&mut self) -> Message {
        within("an upstream message", self.seen.recv())
            .await
            .expect("server stopped")
    }

    /// Every message received so far.
    pub fn drain_seen(&mut self) -> Vec<Message> {
        std::iter::from_fn(|| self.seen.try_recv().ok()).collect()
    }
}

/// The echo answer to `req`: same id, headers and body, plus `server: <name>`.
pub fn reply_to(req: &Message, name: &str) -> Message {
    let mut reply = req.clone();
    reply.flags.kind = Kind::Response;
    reply.status = Status::Ok;
    reply
        .headers
        .push((ByteString::from_static("server"), ByteString::from(name)));
    reply
}

type Writer = Arc<Mutex<FramedWrite<tokio::net::tcp::OwnedWriteHalf, AwesomerpcCodec>>>;

async fn serve(
    stream: TcpStream,
    name: Arc<str>,
    mode: Mode,
    seen: mpsc::UnboundedSender<Message>,
) {
    let (rd, wr) = stream.into_split();
    let mut rd = FramedRead::new(rd, AwesomerpcCodec);
    let wr: Writer = Arc::new(Mutex::new(FramedWrite::new(wr, AwesomerpcCodec)));
    let mut held = Vec::new();
    while let Some(Ok(req)) = rd.next().await {
        let _ = seen.send(req.clone());
        if req.flags.kind != Kind::Request {
            continue;
        }
        match &mode {
            Mode::Echo => write(&wr, reply_to(&req, &name)).await,
            Mode::Reverse(n) => {
                held.push(req);
                if held.len() == *n {
                    for r in held.drain(..).rev() {
                        write(&wr, reply_to(&r, &name)).await;
                    }
                }
            }
            Mode::Gate(gate) => {
                let (gate, wr, reply) = (gate.clone(), wr.clone(), reply_to(&req, &name));
                tokio::spawn(async move {
                    if let Ok(p) = gate.acquire().await {
                        p.forget();
                        write(&wr, reply).await;
                    }
                });
            }
            Mode::Close => return,
            Mode::NotAResponse => {
                let mut bad = reply_to(&req, &name);
                bad.flags.kind = Kind::Request;
                write(&wr, bad).await;
            }
        }
    }
}

async fn write(wr: &Writer, m: Message) {
    let _ = wr.lock().await.send(m).await;
}

// === client ===

/// A downstream test client.
pub struct Client {
    framed: Framed<TcpStream, AwesomerpcCodec>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = within("connect", TcpStream::connect(addr)).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            framed: Framed::new(stream, AwesomerpcCodec),
        }
    }

    pub async fn send(&mut self, m: Message) {
        within("send", self.framed.send(m)).await.unwrap();
    }

    /// Sends bytes as they are, framed or not.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        within("send", self.framed.get_mut().write_all(bytes))
            .await
            .unwrap();
    }

    /// The next message, or `None` when the proxy closed the connection.
    pub async fn recv_or_eof(&mut self) -> Option<Message> {
        within("a reply", self.framed.next())
            .await
            .map(|m| m.expect("proxy sent a malformed frame"))
    }

    pub async fn recv(&mut self) -> Message {
        self.recv_or_eof().await.expect("connection closed")
    }

    pub async fn call(&mut self, m: Message) -> Message {
        self.send(m).await;
        self.recv().await
    }

    /// True when the proxy closes the connection without sending anything more.
    pub async fn closed(&mut self) -> bool {
        if !self.framed.read_buffer().is_empty() {
            return false;
        }
        let mut byte = [0u8; 1];
        matches!(
            within("close", self.framed.get_mut().read(&mut byte)).await,
            Ok(0) | Err(_)
        )
    }
}

// === proxy ===

/// A proxy running in a task.
pub struct Running {
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    pub metrics: Arc<Metrics>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Running {
    /// Starts the drain.
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Waits for `run` to return.
    pub async fn stopped(&mut self) {
        if let Some(task) = self.task.take() {
            within("the proxy to stop", task).await.unwrap();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Loads `yaml`, binds with every shipped codec, and runs the proxy.
pub async fn start_proxy(yaml: &str) -> Running {
    let mesh = Mesh::load_str("test.yaml", yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let proxy = Proxy::bind(&mesh, &mproto_codecs::registry())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = proxy.listener_addrs()[0];
    let admin = proxy.admin_addr().expect("admin address");
    let metrics = proxy.metrics();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(proxy.run(async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        admin,
        metrics,
        shutdown: Some(tx),
        task: Some(task),
    }
}

/// The mesh for tests: AwesomeRPC service `greeter.test:8090` with endpoints
/// `(address, version label)`, subsets v1 to v5 by version, a Proxy with `limits`, and a
/// MetaRouter with `routes`.
pub fn mesh_yaml(endpoints: &[(SocketAddr, &str)], routes: &str, limits: &str) -> String {
    let eps: String = endpoints
        .iter()
        .map(|(a, v)| format!("  - {{address: \"{}\", ports: {{tcp-metaprotocol-awesomerpc: {}}}, labels: {{version: {v}}}}}\n", a.ip(), a.port()))
        .collect();
    format!(
        r#"apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: ApplicationProtocol
metadata: {{name: awesomerpc}}
spec: {{protocol: awesomerpc, codec: aeraki.meta_protocol.codec.awesomerpc}}
---
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {{name: greeter, namespace: test}}
spec:
  hosts: [greeter.test]
  ports: [{{number: 8090, name: tcp-metaprotocol-awesomerpc, protocol: TCP}}]
  resolution: STATIC
  endpoints:
{eps}---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {{name: greeter, namespace: test}}
spec:
  host: greeter.test
  subsets:
  - {{name: v1, labels: {{version: v1}}}}
  - {{name: v2, labels: {{version: v2}}}}
  - {{name: v3, labels: {{version: v3}}}}
  - {{name: v4, labels: {{version: v4}}}}
  - {{name: v5, labels: {{version: v5}}}}
---
apiVersion: mproto.io/v1alpha1
kind: Proxy
metadata: {{name: test}}
spec:
  listeners: [{{address: "127.0.0.1:0", host: greeter.test, port: 8090}}]
  admin: {{address: "127.0.0.1:0"}}
  limits: {{{limits}}}
---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {{name: greeter, namespace: test}}
spec:
  hosts: [greeter.test]
{routes}"#
    )
}

/// A route block sending everything matching `matcher` to `subset`.
pub fn route(name: &str, matcher: &str, subset: &str) -> String {
    format!(
        "  - name: {name}\n    match: {{attributes: {{{matcher}}}}}\n    route: [{{destination: {{host: greeter.test, subset: {subset}}}}}]\n"
    )
}

//! Test harness: a hand-written codec, upstream servers, a client, and a proxy runner.
//! Every wait is bounded by [`WAIT`].
#![allow(dead_code)]

pub mod codec;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use mproto_runtime::mesh::Mesh;
use mproto_runtime::proxy::{Metrics, Proxy};
use mproto_runtime::{Codec, Registry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use codec::{Msg, TestCodec, error_kind};

/// The longest any test waits for anything.
pub const WAIT: Duration = Duration::from_secs(5);

/// The codec under test; swap in a generated codec here.
pub fn test_codec() -> Arc<dyn Codec> {
    Arc::new(TestCodec)
}

/// A registry holding the codec under test.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.register(test_codec());
    r
}

/// Awaits `f`, failing the test after [`WAIT`].
pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Reads one frame of the test protocol; `None` at end of stream.
async fn read_frame(rd: &mut (impl AsyncReadExt + Unpin)) -> Option<Vec<u8>> {
    let mut head = [0u8; 4];
    rd.read_exact(&mut head).await.ok()?;
    let len = u32::from_be_bytes(head) as usize;
    let mut frame = head.to_vec();
    frame.resize(len.max(4), 0);
    rd.read_exact(&mut frame[4..]).await.ok()?;
    Some(frame)
}

/// How an upstream test server answers.
#[derive(Clone)]
pub enum Mode {
    /// Answers each request at once, echoing headers and body, plus `server: <name>`.
    Echo,
    /// Collects this many requests, then answers them in reverse order.
    Reverse(usize),
    /// Answers each request once a permit is added to the semaphore.
    Gate(Arc<Semaphore>),
    /// Answers requests with a `hold` header once a permit is added, others at once.
    Hold(Arc<Semaphore>),
    /// Closes the connection when a request arrives.
    Close,
    /// Answers with a frame of an unknown kind.
    Garbage,
    /// Answers each request with an error-kind reply (response status `Error`).
    Fail,
}

/// An upstream test server on 127.0.0.1.
pub struct Upstream {
    pub addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<Msg>,
    /// Connections accepted so far.
    accepted: Arc<AtomicUsize>,
    /// Connections that ended because the proxy closed them (end of stream).
    eofs: watch::Receiver<usize>,
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
        let (eof_tx, eofs) = watch::channel(0);
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let name: Arc<str> = name.into();
        let task = tokio::spawn(async move {
            let (eof_tx, mut conns) = (Arc::new(eof_tx), Vec::new());
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Relaxed);
                let (name, mode, tx, eof) =
                    (name.clone(), mode.clone(), tx.clone(), eof_tx.clone());
                conns.push(tokio::spawn(async move {
                    if serve_upstream(stream, name, mode, tx).await {
                        eof.send_modify(|n| *n += 1);
                    }
                }));
            }
        });
        Upstream {
            addr,
            seen,
            accepted,
            eofs,
            task,
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Relaxed)
    }

    /// Connections the proxy has closed so far.
    pub fn eofs(&self) -> usize {
        *self.eofs.borrow()
    }

    /// Waits until the proxy has closed `n` connections, failing after [`WAIT`].
    pub async fn wait_eofs(&mut self, n: usize) {
        within(
            "the proxy to close an upstream connection",
            self.eofs.wait_for(|e| *e >= n),
        )
        .await
        .expect("server stopped");
    }

    /// The next frame this server received.
    pub async fn next_seen(&mut self) -> Msg {
        within("an upstream request", self.seen.recv())
            .await
            .expect("server stopped")
    }

    /// Every frame received so far.
    pub fn drain_seen(&mut self) -> Vec<Msg> {
        std::iter::from_fn(|| self.seen.try_recv().ok()).collect()
    }
}

fn reply_to(req: &Msg, name: &str) -> Msg {
    let mut headers = req.headers.clone();
    headers.push(("server".into(), name.into()));
    Msg {
        kind: codec::RESPONSE,
        id: req.id,
        headers,
        body: req.body.clone(),
    }
}

/// Serves one connection; true when it ended because the proxy closed it.
async fn serve_upstream(
    stream: TcpStream,
    name: Arc<str>,
    mode: Mode,
    seen: mpsc::UnboundedSender<Msg>,
) -> bool {
    let (mut rd, wr) = stream.into_split();
    let wr = Arc::new(Mutex::new(wr));
    let mut held = Vec::new();
    while let Some(frame) = read_frame(&mut rd).await {
        let Some(req) = Msg::decode(&frame) else {
            return false;
        };
        let _ = seen.send(req.clone());
        if req.kind != codec::REQUEST {
            continue;
        }
        match &mode {
            Mode::Echo => write(&wr, &reply_to(&req, &name)).await,
            Mode::Reverse(n) => {
                held.push(req);
                if held.len() == *n {
                    for r in held.drain(..).rev() {
                        write(&wr, &reply_to(&r, &name)).await;
                    }
                }
            }
            Mode::Gate(gate) => answer_when_let_through(gate, &wr, reply_to(&req, &name)),
            Mode::Hold(gate) if req.header("hold").is_some() => {
                answer_when_let_through(gate, &wr, reply_to(&req, &name));
            }
            Mode::Hold(_) => write(&wr, &reply_to(&req, &name)).await,
            Mode::Close => return false,
            Mode::Fail => {
                let mut failed = reply_to(&req, &name);
                failed.kind = codec::ERROR;
                write(&wr, &failed).await;
            }
            Mode::Garbage => {
                let mut bad = reply_to(&req, &name);
                bad.kind = 99;
                write(&wr, &bad).await;
            }
        }
    }
    true
}

/// Writes `reply` once `gate` has a permit, without blocking the connection meanwhile.
fn answer_when_let_through(
    gate: &Arc<Semaphore>,
    wr: &Arc<Mutex<tokio::net::tcp::OwnedWriteHalf>>,
    reply: Msg,
) {
    let (gate, wr) = (gate.clone(), wr.clone());
    tokio::spawn(async move {
        if let Ok(p) = gate.acquire().await {
            p.forget();
            write(&wr, &reply).await;
        }
    });
}

async fn write(wr: &Mutex<tokio::net::tcp::OwnedWriteHalf>, msg: &Msg) {
    let _ = wr.lock().await.write_all(&msg.encode()).await;
}

/// A downstream test client.
pub struct Client {
    stream: TcpStream,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = within("connect", TcpStream::connect(addr)).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Client { stream }
    }

    pub async fn send(&mut self, msg: &Msg) {
        self.send_raw(&msg.encode()).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        within("send", self.stream.write_all(bytes)).await.unwrap();
    }

    /// The next frame, or `None` when the proxy closed the connection.
    pub async fn recv_or_eof(&mut self) -> Option<Msg> {
        let frame = within("a reply", read_frame(&mut self.stream)).await?;
        Some(Msg::decode(&frame).expect("proxy sent a malformed frame"))
    }

    pub async fn recv(&mut self) -> Msg {
        self.recv_or_eof().await.expect("connection closed")
    }

    pub async fn call(&mut self, msg: &Msg) -> Msg {
        self.send(msg).await;
        self.recv().await
    }

    /// True when the proxy closes the connection without sending anything more.
    pub async fn closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(
            within("close", self.stream.read(&mut byte)).await,
            Ok(0) | Err(_)
        )
    }
}

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

/// Loads `yaml`, binds, and runs the proxy.
pub async fn start_proxy(yaml: &str) -> Running {
    let mesh = Mesh::load_str("test.yaml", yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let proxy = Proxy::bind(&mesh, &registry())
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

/// Polls `/metrics` until it has the line `line`, failing after [`WAIT`].
pub async fn wait_metric(admin: SocketAddr, line: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, body) = http_get(admin, "/metrics").await;
        if body.lines().any(|l| l == line) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no `{line}` within {WAIT:?} in\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A minimal HTTP GET: status code and body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    within("an admin response", async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).await.unwrap();
        let code = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (code, body)
    })
    .await
}

/// The mesh for tests: service `svc.test:9000` with endpoints `(address, version label)`,
/// subsets v1, v2, v3 by version, a Proxy with `limits`, and a MetaRouter with `routes`.
pub fn mesh_yaml(endpoints: &[(SocketAddr, &str)], routes: &str, limits: &str) -> String {
    let eps: String = endpoints
        .iter()
        .map(|(a, v)| format!("  - {{address: \"{}\", ports: {{tcp-metaprotocol-testrpc: {}}}, labels: {{version: {v}}}}}\n", a.ip(), a.port()))
        .collect();
    format!(
        r#"apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: ApplicationProtocol
metadata: {{name: testrpc}}
spec: {{protocol: testrpc, codec: mproto.test.codec.testrpc}}
---
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {{name: svc, namespace: test}}
spec:
  hosts: [svc.test]
  ports: [{{number: 9000, name: tcp-metaprotocol-testrpc, protocol: TCP}}]
  resolution: STATIC
  endpoints:
{eps}---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {{name: svc, namespace: test}}
spec:
  host: svc.test
  subsets:
  - {{name: v1, labels: {{version: v1}}}}
  - {{name: v2, labels: {{version: v2}}}}
  - {{name: v3, labels: {{version: v3}}}}
---
apiVersion: mproto.io/v1alpha1
kind: Proxy
metadata: {{name: test}}
spec:
  listeners: [{{address: "127.0.0.1:0", host: svc.test, port: 9000}}]
  admin: {{address: "127.0.0.1:0"}}
  limits: {{{limits}}}
---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {{name: svc, namespace: test}}
spec:
  hosts: [svc.test]
{routes}"#
    )
}

/// A route block sending everything matching `attr` to `subset`.
pub fn route(name: &str, matcher: &str, subset: &str) -> String {
    format!(
        "  - name: {name}\n    match: {{attributes: {{{matcher}}}}}\n    route: [{{destination: {{host: svc.test, subset: {subset}}}}}]\n"
    )
}

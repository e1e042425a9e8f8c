//! `mproto proxy` over the real binary: configuration errors, serving with the shipped
//! codecs, `--max-frame`, the access log, a graceful stop on SIGTERM, and the one-command
//! flow from a schema (`mproto manifests --standalone`) to a running proxy.

mod proxy_support;

use std::path::PathBuf;
use std::process::Stdio;

use mproto_codecs::awesomerpc::Status;
use proxy_support::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const MESH: &str = "examples/awesomerpc-mesh/manifests/mesh.yaml";
const LOCAL: &str = "examples/awesomerpc-mesh/manifests/local.yaml";

fn mproto() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mproto"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .kill_on_drop(true);
    cmd
}

/// Writes `text` to a file of its own under Cargo's temporary directory for tests.
fn temp_file(name: &str, text: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli_proxy_{}_{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn config_errors_name_file_object_and_field_and_exit_1() {
    let mesh = std::fs::read_to_string(MESH).unwrap();
    let broken = temp_file(
        "broken.yaml",
        &mesh
            .replace("weight: 80", "weight: lots")
            .replace("fillInterval: 60s", "fillInterval: soon"),
    );
    let out = within(
        "mproto proxy",
        mproto()
            .arg("proxy")
            .arg("--config")
            .arg(&broken)
            .arg(LOCAL)
            .output(),
    )
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file = broken.display().to_string();
    assert!(
        stderr.contains(&format!(
            "error: {file}: MetaRouter demo/greeter: field `spec.routes[2].route[0].weight`: invalid type: string \"lots\""
        )),
        "{stderr}"
    );
    assert!(stderr.contains("error: the configuration has"), "{stderr}");
    let _ = std::fs::remove_file(broken);
}

#[tokio::test]
async fn a_missing_file_is_an_error() {
    let out = within(
        "mproto proxy",
        mproto()
            .args(["proxy", "--config", "no/such/file.yaml"])
            .output(),
    )
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: no/such/file.yaml: cannot read"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn serves_the_demo_mesh_and_stops_on_sigterm() {
    let v1 = Upstream::start("s1", Mode::Echo).await;
    let v2 = Upstream::start("s2", Mode::Echo).await;
    let local = temp_file(
        "local.yaml",
        &format!(
            r#"apiVersion: networking.istio.io/v1beta1
kind: WorkloadEntry
metadata: {{name: greeter-v1, namespace: demo}}
spec: {{address: 127.0.0.1, ports: {{tcp-metaprotocol-awesomerpc: {}}}, labels: {{app: greeter, version: v1}}}}
---
apiVersion: networking.istio.io/v1beta1
kind: WorkloadEntry
metadata: {{name: greeter-v2, namespace: demo}}
spec: {{address: 127.0.0.1, ports: {{tcp-metaprotocol-awesomerpc: {}}}, labels: {{app: greeter, version: v2}}}}
---
apiVersion: mproto.io/v1alpha1
kind: Proxy
metadata: {{name: edge}}
spec:
  listeners: [{{address: "127.0.0.1:0", host: greeter.demo.svc.cluster.local, port: 8090}}]
  admin: {{address: "127.0.0.1:0"}}
"#,
            v1.addr.port(),
            v2.addr.port()
        ),
    );
    let local_arg = local.to_str().unwrap();
    let (mut child, mut stdout) = spawn_proxy(&["--max-frame", "512", "--config", MESH, local_arg]);
    let first = within("the listening line", stdout.next_line())
        .await
        .unwrap()
        .expect("a line on stdout");
    let addr: std::net::SocketAddr = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .parse()
        .unwrap();
    let admin = within("the admin line", stdout.next_line())
        .await
        .unwrap()
        .expect("a second line on stdout");
    assert!(admin.starts_with("admin on http://127.0.0.1:"), "{admin}");

    let mut client = Client::connect(addr).await;
    let routed = client.call(request(1, &[("method", "SayHelloV2")])).await;
    assert_eq!((routed.request_id, server(&routed)), (1, Some("s2")));
    let split = client.call(request(2, &[("method", "SayHello")])).await;
    assert_eq!(header(&split, "x-mesh"), Some("mproto"));
    assert_eq!(header(&split, "x-proxy"), Some("mproto"));
    // --max-frame 512 overrides the schema's 4 MiB.
    let mut big = request(3, &[("method", "SayHello")]);
    big.body = vec![0u8; 600].into();
    let refused = client.call(big).await;
    assert_eq!((refused.request_id, refused.status), (3, Status::Internal));

    let stderr = stop_with_sigterm(&mut child).await;
    assert!(stderr.contains("mproto::access"), "{stderr}");
    assert!(stderr.contains(r#""route":"v2-by-method""#), "{stderr}");
    assert!(stderr.contains("draining"), "{stderr}");
    let _ = std::fs::remove_file(local);
}

/// Starts `mproto proxy ARGS` logging at info, with its stdout lines to read.
#[cfg(unix)]
fn spawn_proxy(
    args: &[&str],
) -> (
    tokio::process::Child,
    tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
) {
    let mut child = mproto()
        .arg("proxy")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("RUST_LOG", "info")
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, stdout)
}

/// Sends SIGTERM, checks the proxy drains and exits 0, and returns everything it logged.
#[cfg(unix)]
async fn stop_with_sigterm(child: &mut tokio::process::Child) -> String {
    let pid = child.id().expect("the proxy is running").to_string();
    let killed = within("kill", Command::new("kill").args(["-TERM", &pid]).status())
        .await
        .unwrap();
    assert!(killed.success());
    let status = within("the proxy to exit", child.wait()).await.unwrap();
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    within(
        "stderr",
        child.stderr.take().unwrap().read_to_string(&mut stderr),
    )
    .await
    .unwrap();
    stderr
}

/// Two distinct ports that were free a moment ago: both are held while the OS picks them,
/// then released for the proxy to bind.
fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

/// `GET path` from the admin server: the status line.
async fn admin_get(admin: &str, path: &str) -> String {
    let mut stream = within(
        "the admin connection",
        tokio::net::TcpStream::connect(admin),
    )
    .await
    .unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nhost: {admin}\r\n\r\n");
    within("the admin request", stream.write_all(head.as_bytes()))
        .await
        .unwrap();
    let mut answer = String::new();
    within("the admin answer", stream.read_to_string(&mut answer))
        .await
        .unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

/// A schema to a running proxy in two commands: emit with --standalone, check, serve.
#[cfg(unix)]
#[tokio::test]
async fn standalone_manifests_run_as_they_are() {
    let mut upstream = Upstream::start("echo", Mode::Echo).await;
    let (listen_port, admin_port) = free_ports();
    let listen = format!("127.0.0.1:{listen_port}");
    let admin = format!("127.0.0.1:{admin_port}");
    let endpoint = format!("127.0.0.1:{}", upstream.addr.port());
    let emitted = within(
        "mproto manifests",
        mproto()
            .args(["manifests", "schemas/awesomerpc.mproto", "--service-entry"])
            .args(["--host", "awesomerpc.local", "--port", "9000"])
            .args(["--endpoint", &endpoint, "--standalone"])
            .args(["--listen", &listen, "--admin", &admin])
            .output(),
    )
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&emitted.stderr);
    assert!(emitted.status.success(), "{stderr}");
    let config = temp_file(
        "standalone.yaml",
        &String::from_utf8(emitted.stdout).unwrap(),
    );

    let checked = within(
        "mproto manifests --check",
        mproto()
            .args(["manifests", "--check"])
            .arg(&config)
            .output(),
    )
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(stdout.starts_with("ok: "), "{stdout}");

    let (mut child, mut stdout) = spawn_proxy(&["--config", config.to_str().unwrap()]);
    let line = within("the listening line", stdout.next_line())
        .await
        .unwrap();
    assert_eq!(line, Some(format!("listening on {listen}")));
    let line = within("the admin line", stdout.next_line()).await.unwrap();
    assert_eq!(
        line,
        Some(format!("admin on http://{admin} (/metrics, /ready)"))
    );

    let mut client = Client::connect(listen.parse().unwrap()).await;
    let answer = client.call(request(7, &[("method", "SayHello")])).await;
    assert_eq!(answer.request_id, 7);
    assert_eq!(answer.status, Status::Ok);
    assert_eq!(server(&answer), Some("echo"));
    assert_eq!(&answer.body[..], b"body-7");
    let seen = upstream.next_seen().await;
    assert_eq!(header(&seen, "method"), Some("SayHello"));
    assert_eq!(admin_get(&admin, "/ready").await, "HTTP/1.1 200 OK");

    let stderr = stop_with_sigterm(&mut child).await;
    // The access log records the schema's routable property, as --standalone configured it.
    let access = stderr
        .lines()
        .find(|l| l.contains("mproto::access"))
        .unwrap_or_else(|| panic!("no access log line: {stderr}"));
    assert!(access.contains(r#""route":"default""#), "{access}");
    assert!(access.contains(r#""version":"#), "{access}");
    let _ = std::fs::remove_file(config);
}

//! `mproto proxy` over the real binary: configuration errors, serving with the shipped
//! codecs, `--max-frame`, the access log, and a graceful stop on SIGTERM.

mod proxy_support;

use std::path::PathBuf;
use std::process::Stdio;

use mproto_codecs::awesomerpc::Status;
use proxy_support::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
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
    let mut child = mproto()
        .args(["proxy", "--max-frame", "512", "--config", MESH])
        .arg(&local)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("RUST_LOG", "info")
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
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
    assert!(stderr.contains("mproto::access"), "{stderr}");
    assert!(stderr.contains(r#""route":"v2-by-method""#), "{stderr}");
    assert!(stderr.contains("draining"), "{stderr}");
    let _ = std::fs::remove_file(local);
}

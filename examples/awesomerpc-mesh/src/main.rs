//! The mesh demo in one process: starts an AwesomeRPC echo server for each endpoint of the
//! manifests, starts the runtime proxy from the same manifests with the compiled-in codecs,
//! sends traffic through it, prints where each request went, and exits 0 when every route,
//! the split, the mutations, the rate limit and the local replies behaved as configured.
//!
//! `cargo run -p awesomerpc-mesh` uses free ports; `-- --fixed-ports` uses the manifests' own.
//! `RUST_LOG=mproto::access=info` shows the proxy's access log.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use awesomerpc_echo::{SERVED_BY, call_pipelined, header, heartbeat, request};
use clap::Parser;
use mproto_codecs::awesomerpc::{Kind, Message, Status};
use mproto_runtime::mesh::{Mesh, WorkloadEntry};
use mproto_runtime::proxy::Proxy;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing_subscriber::EnvFilter;

/// How long one batch of requests may take.
const BATCH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the proxy may take to drain at the end.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the greeter mesh demo: two echo servers behind the proxy.
#[derive(Parser)]
struct Args {
    /// Manifests to load (default: this example's `manifests/mesh.yaml` and `local.yaml`).
    #[arg(long = "config", value_name = "FILE", num_args = 1..)]
    config: Vec<PathBuf>,
    /// Requests sent to the 80/20 split.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    requests: u64,
    /// Bind the addresses written in the manifests instead of free ports.
    #[arg(long)]
    fixed_ports: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .compact()
        .init();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("demo: some checks failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error>;

async fn run(args: Args) -> Result<bool, BoxError> {
    let paths = if args.config.is_empty() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("manifests");
        vec![dir.join("mesh.yaml"), dir.join("local.yaml")]
    } else {
        args.config.clone()
    };
    let mut mesh = Mesh::load_files(&paths)?;
    let servers = start_endpoints(&mut mesh, args.fixed_ports).await?;
    if !args.fixed_ports {
        use_free_ports(&mut mesh);
    }
    let proxy = Proxy::bind(&mesh, &mproto_codecs::registry()).await?;
    let addr = *proxy.listener_addrs().first().ok_or("no listener")?;
    println!("proxy listening on {addr}");
    if let Some(admin) = proxy.admin_addr() {
        println!("admin on http://{admin}/metrics");
    }
    let metrics = proxy.metrics();
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(proxy.run(async {
        let _ = stopped.await;
    }));

    let report = drive(addr, args.requests).await;

    let _ = stop.send(());
    tokio::time::timeout(STOP_TIMEOUT, running).await??;
    for server in servers {
        server.abort();
    }
    let report = report?;
    println!(
        "\nproxy metrics: {} requests, {} rate limited, {} heartbeats answered locally",
        metrics.requests.load(Relaxed),
        metrics.rate_limited.load(Relaxed),
        metrics.heartbeats.load(Relaxed)
    );
    Ok(report)
}

// === endpoints ===

/// Starts an echo server for every endpoint (WorkloadEntries and inline ServiceEntry
/// endpoints), named by its `version` label; with free ports, points the endpoint at it.
async fn start_endpoints(
    mesh: &mut Mesh,
    fixed_ports: bool,
) -> Result<Vec<JoinHandle<()>>, BoxError> {
    let mut endpoints: Vec<&mut WorkloadEntry> = mesh
        .workload_entries
        .iter_mut()
        .map(|w| &mut w.object.spec)
        .collect();
    for entry in &mut mesh.service_entries {
        endpoints.extend(entry.object.spec.endpoints.iter_mut());
    }
    let mut servers = Vec::new();
    for endpoint in endpoints {
        let name = endpoint
            .labels
            .get("version")
            .cloned()
            .unwrap_or_else(|| endpoint.address.clone());
        let bind: SocketAddr = if fixed_ports {
            let port = endpoint
                .ports
                .values()
                .next()
                .ok_or("endpoint without port")?;
            format!("{}:{port}", endpoint.address).parse()?
        } else {
            "127.0.0.1:0".parse()?
        };
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|e| format!("echo server {name}: cannot bind {bind}: {e}"))?;
        let local = listener.local_addr()?;
        println!("echo server {name} on {local}");
        endpoint.address = local.ip().to_string();
        for port in endpoint.ports.values_mut() {
            *port = u32::from(local.port());
        }
        servers.push(tokio::spawn(async move {
            let _ = awesomerpc_echo::serve(listener, &name).await;
        }));
    }
    Ok(servers)
}

/// Rebinds the proxy's listeners and admin server to free ports on 127.0.0.1.
fn use_free_ports(mesh: &mut Mesh) {
    for proxy in &mut mesh.proxies {
        for listener in &mut proxy.object.spec.listeners {
            listener.address = "127.0.0.1:0".into();
        }
        if let Some(admin) = &mut proxy.object.spec.admin {
            admin.address = "127.0.0.1:0".into();
        }
    }
}

// === traffic ===

/// One batch of traffic and what it should show.
struct Batch {
    name: &'static str,
    headers: &'static [(&'static str, &'static str)],
    count: u64,
}

/// Sends every batch through the proxy, prints the tally, and checks the outcome.
async fn drive(addr: SocketAddr, split_requests: u64) -> Result<bool, BoxError> {
    let batches = [
        Batch {
            name: "split (method=SayHello)",
            headers: &[("method", "SayHello")],
            count: split_requests,
        },
        Batch {
            name: "v2-by-method (method=SayHelloV2)",
            headers: &[("method", "SayHelloV2")],
            count: 10,
        },
        Batch {
            name: "canary (canary header present)",
            headers: &[("method", "SayHello"), ("canary", "yes")],
            count: 10,
        },
        Batch {
            name: "rate limit (method=Flood, 5/min)",
            headers: &[("method", "Flood")],
            count: 10,
        },
        Batch {
            name: "no route (method=Unknown)",
            headers: &[("method", "Unknown")],
            count: 2,
        },
    ];
    println!(
        "\n{:<34} {:>5} {:>5} {:>5} {:>11} {:>9}",
        "batch", "sent", "v1", "v2", "over-limit", "no-route"
    );
    let mut tallies = Vec::new();
    for batch in &batches {
        let headers: Vec<(String, String)> = batch
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let requests = (1..=batch.count)
            .map(|id| request(id, &headers, "hello"))
            .collect();
        let answers = call_pipelined(addr, requests, BATCH_TIMEOUT).await?;
        let tally = Tally::of(&answers);
        println!(
            "{:<34} {:>5} {:>5} {:>5} {:>11} {:>9}",
            batch.name,
            batch.count,
            tally.get("v1"),
            tally.get("v2"),
            tally.get("OverLimit"),
            tally.get("RouteNotFound")
        );
        tallies.push(tally);
    }
    let beat = call_pipelined(addr, vec![heartbeat(7)], BATCH_TIMEOUT).await?;
    let heartbeat_ok = beat
        .first()
        .is_some_and(|m| m.flags.kind == Kind::Heartbeat && m.request_id == 7);
    println!("heartbeat answered by the proxy: {heartbeat_ok}");

    let [split, by_method, canary, flood, no_route] = &tallies[..] else {
        unreachable!("one tally per batch")
    };
    let n = split_requests as usize;
    let checks = [
        (
            "split: every request answered by v1 or v2",
            split.get("v1") + split.get("v2") == n,
        ),
        (
            "split: request mutation x-mesh seen by the upstream, response mutation x-proxy by the client",
            split.mutated == n,
        ),
        ("v2-by-method: all to v2", by_method.get("v2") == 10),
        ("canary: all to v2", canary.get("v2") == 10),
        (
            "rate limit: 5 pass, 5 over limit",
            flood.get("OverLimit") == 5 && flood.get("v1") + flood.get("v2") == 5,
        ),
        (
            "no route: RouteNotFound",
            no_route.get("RouteNotFound") == 2,
        ),
        ("heartbeat answered locally", heartbeat_ok),
    ];
    println!();
    let mut ok = true;
    for (what, passed) in checks {
        println!("[{}] {what}", if passed { "ok" } else { "FAILED" });
        ok &= passed;
    }
    if n >= 50 {
        let share = split.get("v1") as f64 / n as f64 * 100.0;
        println!("split: {share:.0}% to v1 (configured 80%)");
    }
    Ok(ok)
}

/// Where the answers of a batch came from.
#[derive(Default)]
struct Tally {
    /// By `served-by` for responses, by error kind for local replies.
    by: BTreeMap<String, usize>,
    /// Answers showing both mutations.
    mutated: usize,
}

impl Tally {
    fn of(answers: &[Message]) -> Tally {
        let mut tally = Tally::default();
        for answer in answers {
            let key = match (answer.status, header(answer, SERVED_BY)) {
                (Status::Ok, Some(server)) => server,
                _ => header(answer, "error-kind").unwrap_or("other"),
            };
            *tally.by.entry(key.to_owned()).or_default() += 1;
            if header(answer, "x-mesh") == Some("mproto") && header(answer, "x-proxy").is_some() {
                tally.mutated += 1;
            }
        }
        tally
    }

    fn get(&self, key: &str) -> usize {
        self.by.get(key).copied().unwrap_or(0)
    }
}

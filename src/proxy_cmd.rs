//! `mproto proxy`: runs the shared runtime proxy with every shipped codec until SIGTERM or
//! Ctrl-C, then drains.

use std::path::PathBuf;

use mproto_runtime::mesh::Mesh;
use mproto_runtime::proxy::{Proxy, ProxyError};
use tracing_subscriber::EnvFilter;

/// The log filter when `RUST_LOG` is not set: access log lines and operational events.
const DEFAULT_LOG: &str = "info";

/// Arguments of `mproto proxy`.
#[derive(clap::Args)]
pub struct ProxyArgs {
    /// Mesh configuration files: YAML with ApplicationProtocol, ServiceEntry, WorkloadEntry,
    /// DestinationRule, MetaRouter and Proxy objects (other kinds are skipped).
    #[arg(short, long = "config", value_name = "FILE", required = true, num_args = 1..)]
    config: Vec<PathBuf>,
    /// Largest frame in bytes, overriding `limits.maxFrame` and the schema's limit.
    #[arg(long, value_name = "N")]
    max_frame: Option<u64>,
}

/// Loads the configuration, binds, prints the bound addresses and serves until a signal;
/// false when the configuration is invalid or a socket cannot be bound.
pub fn run(args: ProxyArgs) -> bool {
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return false;
        }
    };
    runtime.block_on(serve(args))
}

async fn serve(args: ProxyArgs) -> bool {
    let proxy = match bind(&args).await {
        Ok(proxy) => proxy,
        Err(ProxyError::Config(errors)) => {
            for e in &errors.0 {
                eprintln!("error: {e}");
            }
            let n = errors.0.len();
            eprintln!(
                "error: the configuration has {n} error{}",
                if n == 1 { "" } else { "s" }
            );
            return false;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return false;
        }
    };
    // Handlers first: a signal sent as soon as "listening" is printed must drain the
    // proxy, not kill it (a test that did so failed under load).
    let shutdown = shutdown_signal();
    for addr in proxy.listener_addrs() {
        println!("listening on {addr}");
    }
    if let Some(admin) = proxy.admin_addr() {
        println!("admin on http://{admin} (/metrics, /ready)");
    }
    proxy.run(shutdown).await;
    true
}

/// Loads every file, applies `--max-frame` to every Proxy object, and binds.
async fn bind(args: &ProxyArgs) -> Result<Proxy, ProxyError> {
    let mut mesh = Mesh::load_files(&args.config)?;
    if let Some(max_frame) = args.max_frame {
        for proxy in &mut mesh.proxies {
            proxy.object.spec.limits.max_frame = Some(max_frame);
        }
    }
    let registry = mproto_codecs::registry();
    Proxy::bind(&mesh, &registry).await
}

/// Completes on Ctrl-C or, on Unix, SIGTERM. The Unix handlers are installed when this
/// is called, not when the future is first polled.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(s) => drop(s.recv().await),
                    None => std::future::pending().await,
                }
            };
            let terminate = async {
                match terminate.as_mut() {
                    Some(s) => drop(s.recv().await),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = interrupt => {}
                () = terminate => {}
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Logs to stderr, one compact line per event, filtered by `RUST_LOG` (default `info`).
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .compact()
        .try_init();
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A SIGTERM that arrives after `shutdown_signal` returns and before its future is
    /// first polled completes the future. With handlers installed at the first poll (as
    /// before), the signal's default action would end this test process instead.
    #[tokio::test]
    async fn a_sigterm_before_the_first_poll_is_caught() {
        let shutdown = shutdown_signal();
        let pid = std::process::id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        tokio::time::timeout(std::time::Duration::from_secs(5), shutdown)
            .await
            .expect("the SIGTERM completes the shutdown future");
    }
}

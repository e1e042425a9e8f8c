//! An AwesomeRPC echo server: `echo-server --listen 127.0.0.1:21001 --name v1`.

use std::net::SocketAddr;

use clap::Parser;
use tokio::net::TcpListener;

/// Answers AwesomeRPC requests with their own headers and body, plus `served-by: <name>`.
#[derive(Parser)]
struct Args {
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:21001")]
    listen: SocketAddr,
    /// The name sent back in the `served-by` header.
    #[arg(long, default_value = "echo")]
    name: String,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind(args.listen).await?;
    println!(
        "echo server {} listening on {}",
        args.name,
        listener.local_addr()?
    );
    tokio::select! {
        served = awesomerpc_echo::serve(listener, &args.name) => served,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

//! An AwesomeRPC client: `echo-client --connect 127.0.0.1:20880 --count 5 --header method=SayHello`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use awesomerpc_echo::{call_pipelined, describe, heartbeat, parse_header, request};
use clap::Parser;

/// Sends COUNT requests pipelined on one connection and prints every answer.
#[derive(Parser)]
struct Args {
    /// The server or proxy address.
    #[arg(long, default_value = "127.0.0.1:20880")]
    connect: SocketAddr,
    /// How many requests to send (ids 1..=COUNT).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    count: u64,
    /// A request header, `key=value`; repeat for more.
    #[arg(long = "header", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// The request body.
    #[arg(long, default_value = "hello")]
    body: String,
    /// Also send a heartbeat (id 0).
    #[arg(long)]
    heartbeat: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut messages: Vec<_> = (1..=args.count)
        .map(|id| request(id, &args.headers, args.body.clone()))
        .collect();
    if args.heartbeat {
        messages.push(heartbeat(0));
    }
    let timeout = Duration::from_secs(args.timeout);
    match call_pipelined(args.connect, messages, timeout).await {
        Ok(answers) => {
            for answer in &answers {
                println!("{}", describe(answer));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: {e}", args.connect);
            ExitCode::FAILURE
        }
    }
}

//! The `mproto` command: check schemas, generate Rust codecs and mesh manifests from them.

mod manifests;
mod proxy_cmd;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mproto_compiler::{SourceMap, diag};

/// Describe a binary protocol once; get a zero-copy Rust codec.
#[derive(Parser)]
#[command(name = "mproto", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Checks schemas and prints every error with its location; exits 1 on errors.
    Check {
        /// Schema files (`.mproto`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Generates a Rust module for each schema.
    Gen {
        /// Schema files (`.mproto`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write `<stem>.rs` files into this directory instead of printing to stdout.
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// The path generated code uses to reach the runtime.
        #[arg(long, default_value = "::mproto")]
        runtime: String,
    },
    /// Emits the Kubernetes manifests that put a schema's protocol into an Istio + Aeraki
    /// mesh (ApplicationProtocol, Service or ServiceEntry, MetaRouter, optionally a gateway
    /// running `mproto proxy` or the Proxy object of a standalone one), or with --check
    /// validates hand-written manifests.
    // Boxed: its many options would make every other command as large.
    Manifests(Box<manifests::ManifestsArgs>),
    /// Runs the shared runtime proxy with every shipped codec until SIGTERM or Ctrl-C.
    Proxy(proxy_cmd::ProxyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ok = match cli.command {
        Command::Check { files } => files.iter().map(|f| check(f)).fold(true, |a, b| a & b),
        Command::Gen {
            files,
            out,
            runtime,
        } => files
            .iter()
            .map(|f| generate(f, out.as_deref(), &runtime))
            .fold(true, |a, b| a & b),
        Command::Manifests(args) => manifests::run(*args),
        Command::Proxy(args) => proxy_cmd::run(args),
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints diagnostics the way rustc does, in colour on a terminal.
fn report(sources: &SourceMap, diagnostics: mproto_compiler::Diagnostics, file: &Path) {
    let count = diagnostics.error_count();
    let color = std::io::stderr().is_terminal();
    eprint!(
        "{}",
        diag::render_all(sources, &diagnostics.into_sorted(), color)
    );
    let plural = if count == 1 { "" } else { "s" };
    eprintln!("error: {} has {count} error{plural}", file.display());
}

fn check(file: &Path) -> bool {
    let mut sources = SourceMap::new();
    match mproto_compiler::compile_file(file, &mut sources) {
        Ok(compiled) => {
            let what = match &compiled.schema.protocol {
                Some(p) => format!("protocol `{}`, codec `{}`", p.name.name, p.codec),
                None => "no protocol".to_string(),
            };
            println!(
                "ok: {} ({what}, {} types)",
                file.display(),
                compiled.schema.types.len()
            );
            true
        }
        Err(d) => {
            report(&sources, d, file);
            false
        }
    }
}

fn generate(file: &Path, out: Option<&Path>, runtime: &str) -> bool {
    let mut sources = SourceMap::new();
    let code = match mproto_compiler::generate_file(file, runtime, &mut sources) {
        Ok(code) => code,
        Err(d) => {
            report(&sources, d, file);
            return false;
        }
    };
    let Some(dir) = out else {
        print!("{code}");
        return true;
    };
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("schema");
    let path = dir.join(format!("{stem}.rs"));
    match std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, code)) {
        Ok(()) => {
            println!("wrote {}", path.display());
            true
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", path.display());
            false
        }
    }
}

//! Criterion benchmarks: every format, operation and implementation in `mproto_bench::suite`,
//! then the table of medians and ratios for `docs/performance.md`.
//! `cargo bench -p mproto-bench --bench codecs`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::Criterion;
use mproto_bench::report::{Table, middle};
use mproto_bench::suite::{self, FORMATS, IMPLS, Op, Runner};

/// Runs each operation under criterion, named `format/operation/implementation`.
struct Timed<'c>(&'c mut Criterion);

impl Runner for Timed<'_> {
    fn run<R>(
        &mut self,
        format: &'static str,
        op: Op,
        imp: &'static str,
        mut f: impl FnMut() -> R,
    ) {
        let id = format!("{format}/{}/{imp}", op.name());
        // The output is observed through a reference: `iter` would move it into
        // `black_box`, a copy of up to 1 KiB per call that no caller of a codec makes.
        self.0.bench_function(&id, |b| {
            b.iter(|| {
                let out = f();
                black_box(&out);
            })
        });
    }
}

/// Where the results go: the workspace's `target/criterion`, whatever the working directory.
fn output_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion")
}

/// The median of a finished benchmark, read back from criterion's estimates (criterion
/// names the directory after the id with `/` turned into `_`).
fn median_ns(dir: &Path, format: &str, op: Op, imp: &str) -> Option<f64> {
    let path = dir
        .join(format!("{format}_{}_{imp}", op.name()))
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

/// How many full passes to make (`MPROTO_BENCH_PASSES`, default 1): each cell of the table
/// is then the median of the passes' medians. On a shared machine a burst of load can slow
/// one benchmark of one pass by a third; a median of three passes is not moved by it.
fn pass_count() -> usize {
    std::env::var("MPROTO_BENCH_PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// The medians of the pass just run, read back from criterion's output.
fn read_pass(dir: &Path) -> Table {
    let mut table = Table::default();
    for format in FORMATS {
        for op in Op::ALL {
            for imp in IMPLS {
                if let Some(ns) = median_ns(dir, format, op, imp) {
                    table.insert(format, op, imp, ns);
                }
            }
        }
    }
    table
}

fn main() {
    let dir = output_dir();
    let mut passes = Vec::new();
    for _ in 0..pass_count() {
        // A fresh `Criterion` per pass: one instance renames an id it has seen (`#2`),
        // and would write the pass's estimates under another directory. Short runs: 60
        // benchmarks on a shared two-core machine; medians settle well before 2 s.
        let mut c = Criterion::default()
            .output_directory(&dir)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .configure_from_args();
        suite::run_all(&mut Timed(&mut c));
        c.final_summary();
        passes.push(read_pass(&dir));
    }

    let mut table = Table::default();
    for format in FORMATS {
        for op in Op::ALL {
            for imp in IMPLS {
                let values = passes.iter().filter_map(|p| p.get(format, op, imp));
                if let Some(ns) = middle(values.collect()) {
                    table.insert(format, op, imp, ns);
                }
            }
        }
    }
    println!("Median ns/op (ratio to the hand-tuned parser):");
    println!("{}", table.render_times());
}

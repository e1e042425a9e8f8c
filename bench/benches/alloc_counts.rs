//! Prints heap allocations per operation for every implementation (a table for
//! `docs/performance.md`); `cargo bench -p mproto-bench --bench alloc_counts`.

use mproto_bench::report::CountAllocs;
use mproto_bench::suite;

fn main() {
    let mut counts = CountAllocs::new(1000);
    suite::run_all(&mut counts);
    println!("Allocations per operation (mean over 1000 calls after one warm-up call):");
    println!("{}", counts.table.render_allocs());
}

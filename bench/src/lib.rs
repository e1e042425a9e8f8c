//! Codec benchmarks for mproto: the generated codecs against a hand-tuned zero-copy parser,
//! binrw and deku, over the same frames and the same operations (see `docs/performance.md`).

pub mod alloc;
pub mod fixtures;
pub mod generated;
pub mod hand;
pub mod model;
pub mod report;
pub mod suite;
pub mod with_binrw;
pub mod with_deku;

/// Counts allocations in every binary that links this crate: the benches and the tests.
#[global_allocator]
static GLOBAL: alloc::CountingAlloc = alloc::CountingAlloc;

//! Decoding with the generated codecs allocates nothing (the zero-copy claim), checked
//! with the crate's counting allocator. One test per binary: the counter is process-wide.

use mproto_bench::report::CountAllocs;
use mproto_bench::suite::{self, FORMATS, IMPLS, Op};

#[test]
fn generated_decoders_allocate_nothing_and_every_cell_is_counted() {
    let mut counts = CountAllocs::new(100);
    suite::run_all(&mut counts);
    let table = counts.table;
    for format in FORMATS {
        for op in Op::ALL {
            for imp in IMPLS {
                assert!(
                    table.get(format, op, imp).is_some(),
                    "{format}/{}/{imp} was not run",
                    op.name()
                );
            }
        }
        for op in [Op::DecodeMetadata, Op::DecodeFull, Op::FrameLen] {
            for imp in ["mproto", "hand"] {
                assert_eq!(
                    table.get(format, op, imp),
                    Some(0.0),
                    "{format}/{}/{imp} allocates",
                    op.name()
                );
            }
        }
    }
    // The owned baselines must allocate to decode: if they stop, the table is wrong.
    assert!(table.get("awesomerpc", Op::DecodeFull, "binrw").unwrap() >= 17.0);
    assert!(table.get("awesomerpc", Op::DecodeFull, "deku").unwrap() >= 17.0);
    println!("{}", table.render_allocs());
}

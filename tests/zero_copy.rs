//! Zero copy, measured: decoding a frame allocates nothing and copies no payload,
//! and re-encoding with a mutation shares the payload instead of copying it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::Bytes;
use mproto::{Codec, Encoded, Mutation, Value};
use mproto_codecs::awesomerpc;

/// Counts allocations made by the current thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (out, ALLOCATIONS.with(Cell::get) - before)
}

fn inside(frame: &[u8], part: &[u8]) -> bool {
    let range = frame.as_ptr_range();
    range.contains(&part.as_ptr()) && part.as_ptr_range().end <= range.end
}

fn sample() -> Bytes {
    let headers = (0..8)
        .map(|i| (format!("key-{i}").into(), format!("value-{i}").into()))
        .collect();
    let msg = awesomerpc::Message {
        request_id: 5,
        headers,
        body: Bytes::from(vec![7u8; 1024]),
        ..Default::default()
    };
    let frame = msg.to_bytes().unwrap();
    // Slicing a freshly frozen buffer may promote it to shared storage once; do it
    // before measuring, as the proxy's buffers are already shared.
    drop(frame.slice(..1));
    frame
}

#[test]
fn decoding_a_view_allocates_nothing_and_borrows_the_payload() {
    let frame = sample();
    let (view, n) = allocations(|| awesomerpc::MessageRef::decode(&frame).unwrap());
    assert_eq!(n, 0, "MessageRef::decode allocated");
    assert!(inside(&frame, view.body));
    let ((), n) = allocations(|| {
        for (k, v) in view.headers.iter() {
            assert!(inside(&frame, k.as_bytes()) && inside(&frame, v.as_bytes()));
        }
    });
    assert_eq!(n, 0, "iterating headers allocated");
}

#[test]
fn decoding_metadata_allocates_nothing_and_shares_values() {
    let frame = sample();
    let codec = awesomerpc::AwesomerpcCodec;
    let (metadata, n) = allocations(|| codec.decode(&frame).unwrap());
    assert_eq!(n, 0, "decode_metadata allocated");
    assert!(metadata.properties.is_inline());
    match metadata.get("key-3") {
        Some(Value::Text(t)) => assert!(inside(&frame, t.as_bytes())),
        other => panic!("key-3: {other:?}"),
    }
}

#[test]
fn owned_values_share_the_frame() {
    let frame = sample();
    let msg = awesomerpc::Message::decode(&frame).unwrap();
    assert!(inside(&frame, &msg.body));
    assert!(inside(&frame, msg.headers[0].1.as_bytes()));
}

#[test]
fn mutation_shares_the_payload() {
    let frame = sample();
    let mut out = Encoded::new();
    awesomerpc::AwesomerpcCodec
        .encode(
            &frame,
            &Mutation::new().with("x-canary", "1").with("key-0", "new"),
            &mut out,
        )
        .unwrap();
    assert!(out.shared_parts() >= 1, "the body was copied");
    let parts = out.into_parts();
    assert!(parts.iter().any(|p| p.len() == 1024 && inside(&frame, p)));
}

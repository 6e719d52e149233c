//! Allocation counting needs a process-wide counter, so these checks run
//! alone in their binary, without libtest (`harness = false`): no other
//! thread can allocate while they count. BAD_INPUTS L2 and L5.

use std::alloc::System;

use bytes::BytesMut;
use sockframe::{Decoder, Frames, LengthCodec};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    l2_declared_max_then_stall_costs_only_received_bytes();
    l5_zero_length_flood_allocates_nothing();
    println!("zero_alloc: 2 passed, 0 failed");
}

/// BAD_INPUTS L2: a header declaring the maximum, then a stall. The decoder
/// reserves nothing: the buffer holds only what arrived.
fn l2_declared_max_then_stall_costs_only_received_bytes() {
    let mut codec = LengthCodec::new();
    let max = codec.max_frame_length() as u32;
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(&max.to_be_bytes());
    buf.extend_from_slice(b"drip");
    let region = Region::new(GLOBAL);
    for _ in 0..100 {
        assert_eq!(codec.decode_bytes(&mut buf), Ok(None));
    }
    let stats = region.change();
    assert_eq!(stats.allocations + stats.reallocations, 0, "decoder allocated: {stats:?}");
    assert_eq!(stats.bytes_allocated, 0);
    assert!(buf.capacity() <= 64, "buffer grew to {}", buf.capacity());
    assert_eq!(&buf[4..], b"drip", "received bytes kept");
}

/// BAD_INPUTS L5: a flood of zero-length frames is O(1) each and allocates
/// nothing on the borrowed path.
fn l5_zero_length_flood_allocates_nothing() {
    let n = 100_000;
    let mut wire = vec![0u8; 4 * n];
    let mut codec = LengthCodec::new();
    let region = Region::new(GLOBAL);
    let mut frames = Frames::new(&mut codec, &mut wire);
    let mut count = 0;
    for f in frames.by_ref() {
        assert_eq!(f, Ok(&b""[..]));
        count += 1;
    }
    assert_eq!(frames.consumed(), 4 * n);
    let stats = region.change();
    assert_eq!(count, n);
    assert_eq!(stats.allocations + stats.reallocations, 0, "{stats:?}");
}

//! Allocation counting needs a process-wide counter, so these checks run
//! alone in their binary, without libtest (`harness = false`): no other
//! thread can allocate while they count. BAD_INPUTS L2 and L5.

use std::alloc::System;

use bytes::BytesMut;
use sockframe::buffer::RecvBuf;
use sockframe::{Decoder, Framed, Frames, LengthCodec};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    l2_declared_max_then_stall_costs_only_received_bytes();
    l5_zero_length_flood_allocates_nothing();
    steady_state_receive_allocates_nothing();
    println!("zero_alloc: 3 passed, 0 failed");
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

/// Once warmed up, receiving allocates nothing per frame: borrowed frames
/// (`RecvBuf::frames`), owned frames split off the buffer
/// (`RecvBuf::frames_owned`: one reference count each) and `Framed::recv`.
fn steady_state_receive_allocates_nothing() {
    let mut wire = Vec::new();
    for i in 0..2000u32 {
        let payload = i.to_be_bytes().repeat(1 + (i as usize % 30));
        wire.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        wire.extend_from_slice(&payload);
    }
    let mut codec = LengthCodec::new();
    let mut buf = RecvBuf::new(16 * 1024, 1 << 20);
    let mut run = |buf: &mut RecvBuf, owned: bool| {
        let mut n = 0;
        for chunk in wire.chunks(1460) {
            buf.extend_from_slice(chunk).unwrap();
            if owned {
                for frame in buf.frames_owned(&mut codec) {
                    n += frame.unwrap().len();
                }
            } else {
                for frame in buf.frames(&mut codec) {
                    n += frame.unwrap().len();
                }
            }
        }
        n
    };
    for owned in [false, true] {
        let expect = run(&mut buf, owned); // warm-up
        let region = Region::new(GLOBAL);
        for _ in 0..3 {
            assert_eq!(run(&mut buf, owned), expect);
        }
        let stats = region.change();
        assert_eq!(stats.allocations + stats.reallocations, 0, "owned {owned}: {stats:?}");
    }

    let mut framed = Framed::new(std::io::Cursor::new(wire.repeat(4)), LengthCodec::new());
    for _ in 0..2000 {
        framed.recv().unwrap().unwrap();
    }
    let region = Region::new(GLOBAL);
    let mut n = 0;
    while let Some(frame) = framed.recv().unwrap() {
        n += 1;
        drop(frame);
    }
    let stats = region.change();
    assert_eq!(n, 6000);
    assert_eq!(stats.allocations + stats.reallocations, 0, "Framed::recv: {stats:?}");
}

//! Length-prefix decode and encode, sockframe vs tokio-util's
//! `LengthDelimitedCodec`, measured in the same run.
//!
//! `cargo bench --bench length` prints a Markdown table of ns/frame and
//! ratios (higher is better for sockframe) and the allocations per frame of
//! sockframe's steady state, counted by a wrapping global allocator that every
//! contender runs under. Set `BENCH_QUICK=1` for a fast smoke run.

use std::alloc::System;
use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use sockframe::buffer::SendQueue;
use sockframe::{Decoder, Encoder, Frames, LengthCodec};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tokio_util::codec::{Decoder as _, Encoder as _, LengthDelimitedCodec};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const CHUNK: usize = 1460;
const SIZES: [usize; 4] = [16, 256, 4096, 65536];

struct Timer {
    samples: usize,
    sample_time: Duration,
}

impl Timer {
    /// Median ns per unit of `f`, which does `units` units of work per call.
    /// `setup` runs outside the timed region before every call.
    fn measure<S, T>(&self, units: usize, mut setup: impl FnMut() -> S, mut f: impl FnMut(S) -> T) -> f64 {
        // Calibrate: calls per sample.
        let start = Instant::now();
        let s = setup();
        black_box(f(s));
        let once = start.elapsed().max(Duration::from_micros(1));
        let calls = (self.sample_time.as_nanos() / once.as_nanos()).clamp(1, 100_000) as usize;
        let mut per_unit = Vec::with_capacity(self.samples);
        for _ in 0..self.samples {
            let mut total = Duration::ZERO;
            for _ in 0..calls {
                let s = setup();
                let t = Instant::now();
                black_box(f(s));
                total += t.elapsed();
            }
            per_unit.push(total.as_nanos() as f64 / (calls * units) as f64);
        }
        per_unit.sort_by(f64::total_cmp);
        per_unit[per_unit.len() / 2]
    }
}

fn wire_for(payload: usize, total: usize) -> (Vec<u8>, usize) {
    let frames = (total / (payload + 4)).max(64);
    let mut codec = LengthCodec::new();
    let mut out = BytesMut::new();
    let body: Vec<u8> = (0..payload).map(|i| i as u8).collect();
    for _ in 0..frames {
        Encoder::encode(&mut codec, &body, &mut out).unwrap();
    }
    (out.to_vec(), frames)
}

/// The receive loop a borrowing caller writes: append a read, take every
/// complete frame, compact.
fn ours_borrowed_chunked(wire: &[u8], buf: &mut Vec<u8>) -> usize {
    let mut codec = LengthCodec::new();
    let mut sum = 0;
    buf.clear();
    let mut start = 0;
    for chunk in wire.chunks(CHUNK) {
        buf.extend_from_slice(chunk);
        let mut frames = Frames::new(&mut codec, &mut buf[start..]);
        for f in frames.by_ref() {
            sum += f.unwrap().len();
        }
        start += frames.consumed();
        if start == buf.len() {
            buf.clear();
            start = 0;
        } else if start > buf.capacity() / 2 {
            buf.drain(..start);
            start = 0;
        }
    }
    sum
}

fn ours_owned_chunked(wire: &[u8], buf: &mut BytesMut) -> usize {
    let mut codec = LengthCodec::new();
    let mut sum = 0;
    for chunk in wire.chunks(CHUNK) {
        buf.extend_from_slice(chunk);
        while let Some(f) = codec.decode_bytes(buf).unwrap() {
            sum += f.len();
        }
    }
    sum
}

fn tokio_chunked(wire: &[u8], buf: &mut BytesMut) -> usize {
    let mut codec = LengthDelimitedCodec::new();
    let mut sum = 0;
    for chunk in wire.chunks(CHUNK) {
        buf.extend_from_slice(chunk);
        while let Some(f) = codec.decode(buf).unwrap() {
            sum += f.len();
        }
    }
    sum
}

fn memcpy_chunked(wire: &[u8], buf: &mut Vec<u8>, frame_len: usize) -> usize {
    // The same bytes, copied in the same reads into a buffer emptied once per frame.
    buf.clear();
    for chunk in wire.chunks(CHUNK) {
        buf.extend_from_slice(chunk);
        if buf.len() >= frame_len {
            black_box(&buf[..]);
            buf.clear();
        }
    }
    wire.len()
}

fn main() {
    let quick = std::env::var_os("BENCH_QUICK").is_some() || std::env::args().any(|a| a == "--quick");
    let timer = if quick {
        Timer { samples: 3, sample_time: Duration::from_millis(10) }
    } else {
        Timer { samples: 9, sample_time: Duration::from_millis(60) }
    };
    let total = if quick { 1 << 20 } else { 4 << 20 };

    println!("| payload | case | tokio-util ns/frame | sockframe ns/frame | ratio (×) |");
    println!("|---:|---|---:|---:|---:|");
    let mut alloc_rows = Vec::new();
    for &size in &SIZES {
        let (wire, n) = wire_for(size, total);
        let row = |case: &str, theirs: f64, ours: f64| {
            println!("| {size} B | {case} | {theirs:.1} | {ours:.1} | {:.2} |", theirs / ours);
        };

        // Whole buffer in memory.
        let tokio_whole = timer.measure(
            n,
            || BytesMut::from(&wire[..]),
            |mut buf| {
                let mut c = LengthDelimitedCodec::new();
                let mut k = 0;
                while let Some(f) = c.decode(&mut buf).unwrap() {
                    k += black_box(f).len();
                }
                k
            },
        );
        let owned_whole = timer.measure(
            n,
            || BytesMut::from(&wire[..]),
            |mut buf| {
                let mut c = LengthCodec::new();
                let mut k = 0;
                while let Some(f) = c.decode_bytes(&mut buf).unwrap() {
                    k += black_box(f).len();
                }
                k
            },
        );
        let mut scratch = wire.clone();
        let borrowed_whole = timer.measure(
            n,
            || (),
            |()| {
                let mut c = LengthCodec::new();
                Frames::new(&mut c, &mut scratch).map(|f| black_box(f.unwrap()).len()).sum::<usize>()
            },
        );
        row("decode, whole buffer, owned `Bytes`", tokio_whole, owned_whole);
        row("decode, whole buffer, borrowed `&[u8]`", tokio_whole, borrowed_whole);

        // Fed in 1,460-byte reads.
        let mut vbuf = Vec::with_capacity(2 * (size + 4) + CHUNK);
        let mut bbuf = BytesMut::with_capacity(2 * (size + 4) + CHUNK);
        let tokio_chunk = timer.measure(n, || (), |()| tokio_chunked(&wire, &mut bbuf));
        let owned_chunk = timer.measure(n, || (), |()| ours_owned_chunked(&wire, &mut bbuf));
        let borrowed_chunk = timer.measure(n, || (), |()| ours_borrowed_chunked(&wire, &mut vbuf));
        row("decode, 1,460-byte reads, owned `Bytes`", tokio_chunk, owned_chunk);
        row("decode, 1,460-byte reads, borrowed `&[u8]`", tokio_chunk, borrowed_chunk);
        let memcpy = timer.measure(n, || (), |()| memcpy_chunked(&wire, &mut vbuf, size + 4));
        println!(
            "| {size} B | 1,460-byte reads vs memcpy of the same bytes | tokio-util {:.2}× memcpy | sockframe {:.2}× memcpy | |",
            memcpy / tokio_chunk,
            memcpy / borrowed_chunk
        );

        // Encode into a reused buffer.
        let payload: &'static [u8] = vec![0x5a; size].leak();
        let mut out = BytesMut::with_capacity(n * (size + 4));
        let tokio_enc = timer.measure(
            n,
            || (),
            |()| {
                out.clear();
                let mut c = LengthDelimitedCodec::new();
                for _ in 0..n {
                    c.encode(Bytes::from_static(payload), &mut out).unwrap();
                }
                out.len()
            },
        );
        let ours_enc = timer.measure(
            n,
            || (),
            |()| {
                out.clear();
                let mut c = LengthCodec::new();
                for _ in 0..n {
                    Encoder::encode(&mut c, payload, &mut out).unwrap();
                }
                out.len()
            },
        );
        row("encode", tokio_enc, ours_enc);

        // The path a writer takes: frames queued in a `SendQueue` that is
        // written out (emptied) whenever 64 KiB are pending, against
        // tokio-util's `Encoder<&[u8]>` into a `BytesMut` cleared alike.
        const WRITE_AT: usize = 64 * 1024;
        let mut tbuf = BytesMut::with_capacity(2 * WRITE_AT);
        let tokio_q = timer.measure(
            n,
            || (),
            |()| {
                let mut c = LengthDelimitedCodec::new();
                for _ in 0..n {
                    c.encode(payload, &mut tbuf).unwrap();
                    if tbuf.len() >= WRITE_AT {
                        black_box(&tbuf[..]);
                        tbuf.clear();
                    }
                }
                tbuf.len()
            },
        );
        let mut queue = SendQueue::with_capacity(1 << 20, 2 * WRITE_AT);
        let ours_q = timer.measure(
            n,
            || (),
            |()| {
                let mut c = LengthCodec::new();
                for _ in 0..n {
                    queue.push(&mut c, payload).unwrap();
                    let pending = queue.len();
                    if pending >= WRITE_AT {
                        black_box(queue.pending());
                        queue.advance(pending);
                    }
                }
                queue.len()
            },
        );
        row("encode into a send queue written out every 64 KiB", tokio_q, ours_q);

        // Steady-state allocations per frame (buffers already sized).
        let region = Region::new(GLOBAL);
        black_box(ours_borrowed_chunked(&wire, &mut vbuf));
        let mut c = LengthCodec::new();
        black_box(Frames::new(&mut c, &mut scratch).count());
        out.clear();
        for _ in 0..n {
            Encoder::encode(&mut c, payload, &mut out).unwrap();
        }
        for _ in 0..n {
            queue.push(&mut c, payload).unwrap();
            let pending = queue.len();
            if pending >= WRITE_AT {
                queue.advance(pending);
            }
        }
        let ours = region.change();
        let region = Region::new(GLOBAL);
        black_box(tokio_chunked(&wire, &mut bbuf));
        let theirs = region.change();
        alloc_rows.push((
            size,
            n,
            ours.allocations + ours.reallocations,
            theirs.allocations + theirs.reallocations,
        ));
    }
    println!();
    println!("| payload | frames | sockframe allocations (borrowed decode, chunked + whole, encode, and encode into a send queue) | tokio-util allocations (chunked decode) |");
    println!("|---:|---:|---:|---:|");
    for (size, n, ours, theirs) in alloc_rows {
        println!("| {size} B | {n} | {ours} | {theirs} |");
    }
}

//! Catalogue codecs against tokio-util, in the same run.
//!
//! * 64-byte lines: sockframe's `DelimitedCodec::lines()` (bytes view,
//!   payloads borrowed from the buffer) vs tokio-util's `LinesCodec`
//!   (yields `String`) and `AnyDelimiterCodec` (yields `Bytes`).
//! * 16-byte frames: `VarintCodec` vs sockframe's own u32 `LengthCodec`.
//!
//! Throughput is in frames (elements) per second.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, Throughput};
use sockframe::{Decoder, DelimitedCodec, Encoder, LengthCodec, VarintCodec};
use tokio_util::codec::{AnyDelimiterCodec, LinesCodec};

const FRAMES: usize = 1024;

fn lines_wire() -> Vec<u8> {
    let mut wire = Vec::with_capacity(FRAMES * 65);
    for i in 0..FRAMES {
        let line: Vec<u8> = (0..64).map(|j| b'a' + ((i + j) % 26) as u8).collect();
        wire.extend_from_slice(&line);
        wire.push(b'\n');
    }
    wire
}

fn encoded<E: Encoder>(mut enc: E, len: usize) -> Vec<u8> {
    let mut out = BytesMut::new();
    for i in 0..FRAMES {
        enc.encode(&vec![i as u8; len], &mut out).unwrap();
    }
    out.to_vec()
}

/// Decodes every frame borrowed from the buffer (the `Frames` loop a
/// caller writes), summing payload lengths so nothing is optimised away.
fn decode_borrowed<D: Decoder>(codec: &mut D, buf: &mut [u8]) -> usize {
    let (mut used, mut total) = (0, 0);
    while let Some(f) = codec.decode(&mut buf[used..]).unwrap() {
        total += black_box(f.payload(&buf[used..])).len();
        used += f.consumed();
    }
    total
}

/// Decodes `wire` with a tokio-util line codec into owned items, summing
/// their lengths.
fn tokio_lines<C>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, mut codec: C, wire: &[u8])
where
    C: tokio_util::codec::Decoder,
    C::Item: AsRef<[u8]>,
    C::Error: std::fmt::Debug,
{
    g.bench_function(name, |b| {
        b.iter_batched_ref(
            || BytesMut::from(wire),
            |buf| {
                let mut n = 0;
                while let Some(l) = codec.decode(buf).unwrap() {
                    n += black_box(l).as_ref().len();
                }
                assert_eq!(n, FRAMES * 64);
            },
            BatchSize::SmallInput,
        );
    });
}

fn lines(c: &mut Criterion) {
    let wire = lines_wire();
    let mut g = c.benchmark_group("lines_64B");
    g.throughput(Throughput::Elements(FRAMES as u64));
    g.bench_function("sockframe_lines_bytes", |b| {
        let mut buf = wire.clone();
        let mut codec = DelimitedCodec::lines();
        b.iter(|| assert_eq!(decode_borrowed(&mut codec, &mut buf), FRAMES * 64));
    });
    g.bench_function("sockframe_lines_decode_bytes", |b| {
        let mut codec = DelimitedCodec::lines();
        b.iter_batched_ref(
            || BytesMut::from(&wire[..]),
            |buf| {
                let mut n = 0;
                while let Some(f) = codec.decode_bytes(buf).unwrap() {
                    n += black_box(f).len();
                }
                assert_eq!(n, FRAMES * 64);
            },
            BatchSize::SmallInput,
        );
    });
    tokio_lines(&mut g, "tokio_LinesCodec", LinesCodec::new(), &wire);
    tokio_lines(
        &mut g,
        "tokio_AnyDelimiterCodec",
        AnyDelimiterCodec::new(b"\n".to_vec(), b"\n".to_vec()),
        &wire,
    );
    g.finish();
}

fn varint_vs_length(c: &mut Criterion) {
    let mut g = c.benchmark_group("prefix_16B");
    g.throughput(Throughput::Elements(FRAMES as u64));
    let mut varint_wire = encoded(VarintCodec::new(), 16);
    let mut length_wire = encoded(LengthCodec::new(), 16);
    g.bench_function("sockframe_varint", |b| {
        let mut codec = VarintCodec::new();
        b.iter(|| assert_eq!(decode_borrowed(&mut codec, &mut varint_wire), FRAMES * 16));
    });
    g.bench_function("sockframe_length_u32", |b| {
        let mut codec = LengthCodec::new();
        b.iter(|| assert_eq!(decode_borrowed(&mut codec, &mut length_wire), FRAMES * 16));
    });
    g.finish();
}

criterion_group!(benches, lines, varint_vs_length);
criterion_main!(benches);

//! Framings for links that corrupt bytes, each beside a named baseline in
//! the same run (figures and ratios in BENCHMARKS.md, "Corrupting links"):
//!
//! * `slip_64B`, `slip_1KiB`: SLIP decode into owned `Bytes` (what a
//!   tokio-util user gets) with sockframe's `SlipCodec::decode_bytes` vs
//!   the `slip-codec` crate's tokio codec; sockframe's borrowed decode too.
//! * `crc_64KiB`: `len,crc=crc32c` vs plain `len` decode of 64 KiB frames
//!   (the checksum's cost); `crc_64KiB_framed_read` the same through
//!   `FramedRead` from a reader (bytes copied into the receive buffer, as
//!   from a socket).
//! * `unescape_64KiB`: SLIP and HDLC decode of 64 KiB payloads with nothing
//!   to escape vs `memcpy` of the same bytes.
//!
//! Throughput is in bytes of wire per second.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sockframe::codec::hdlc::Fcs;
use sockframe::{Codec, Decoder, Encoder, HdlcCodec, SlipCodec};

/// Payloads of `len` pseudo-random bytes (so END and ESC occur now and
/// then, as in real traffic).
fn payloads(len: usize, count: usize) -> Vec<Vec<u8>> {
    let mut x: u32 = 0x9e37_79b9;
    (0..count)
        .map(|_| {
            (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x >> 24) as u8
                })
                .collect()
        })
        .collect()
}

fn wire<E: Encoder>(mut enc: E, payloads: &[Vec<u8>]) -> Vec<u8> {
    let mut out = BytesMut::new();
    for p in payloads {
        enc.encode(p, &mut out).unwrap();
    }
    out.to_vec()
}

/// Decodes every frame borrowed from the buffer, summing payload lengths.
fn decode_borrowed<D: Decoder>(codec: &mut D, buf: &mut [u8]) -> usize {
    let (mut used, mut total) = (0, 0);
    while let Some(f) = codec.decode(&mut buf[used..]).unwrap() {
        total += black_box(f.payload(&buf[used..])).len();
        used += f.consumed();
    }
    total
}

fn slip(c: &mut Criterion) {
    for (name, len, count) in [("slip_64B", 64, 1024), ("slip_1KiB", 1024, 256)] {
        let payloads = payloads(len, count);
        let total = len * count;
        let wire = wire(SlipCodec::new(), &payloads);
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(wire.len() as u64));
        g.bench_function("sockframe_decode_bytes", |b| {
            let mut codec = SlipCodec::new();
            b.iter_batched_ref(
                || BytesMut::from(&wire[..]),
                |buf| {
                    let mut n = 0;
                    while let Some(f) = codec.decode_bytes(buf).unwrap() {
                        n += black_box(f).len();
                    }
                    assert_eq!(n, total);
                },
                BatchSize::SmallInput,
            );
        });
        g.bench_function("sockframe_borrowed", |b| {
            let mut codec = SlipCodec::new();
            b.iter_batched_ref(
                || wire.clone(),
                |buf| assert_eq!(decode_borrowed(&mut codec, buf), total),
                BatchSize::SmallInput,
            );
        });
        g.bench_function("slip_codec_tokio", |b| {
            use tokio_util::codec::Decoder as _;
            let mut codec = slip_codec::tokio::SlipCodec::builder().capacity(64 * 1024).build();
            b.iter_batched_ref(
                || BytesMut::from(&wire[..]),
                |buf| {
                    let mut n = 0;
                    while let Some(f) = codec.decode(buf).unwrap() {
                        n += black_box(f).len();
                    }
                    assert_eq!(n, total);
                },
                BatchSize::SmallInput,
            );
        });
        g.finish();
    }
}

fn crc(c: &mut Criterion) {
    let payloads = payloads(64 * 1024, 16);
    let total = 64 * 1024 * 16;
    let mut g = c.benchmark_group("crc_64KiB");
    for spec in ["len", "len,crc=crc32c", "len,crc=crc32", "len,crc=crc16-x25"] {
        let codec: Codec = spec.parse().unwrap();
        let mut buf = wire(codec.clone(), &payloads);
        g.throughput(Throughput::Bytes(buf.len() as u64));
        g.bench_function(spec, |b| {
            let mut codec = codec.clone();
            // Nothing is rewritten in place: the same buffer serves every run.
            b.iter(|| assert_eq!(decode_borrowed(&mut codec, &mut buf), total));
        });
    }
    g.finish();
    // The path a receiver runs: bytes copied into the receive buffer (as a
    // socket read does) and frames borrowed from it.
    let mut g = c.benchmark_group("crc_64KiB_framed_read");
    for spec in ["len", "len,crc=crc32c", "len,crc=crc32"] {
        let codec: Codec = spec.parse().unwrap();
        let wire = wire(codec.clone(), &payloads);
        g.throughput(Throughput::Bytes(wire.len() as u64));
        g.bench_function(spec, |b| {
            b.iter(|| {
                let mut framed = sockframe::FramedRead::new(&wire[..], codec.clone());
                let mut n = 0;
                while let Some(len) = framed.recv_with(|p| black_box(p).len()).unwrap() {
                    n += len;
                }
                assert_eq!(n, total);
            });
        });
    }
    g.finish();
}

fn unescape(c: &mut Criterion) {
    // Nothing to escape: no C0/DB (SLIP) and no 7E/7D (HDLC).
    let payloads = vec![vec![b'a'; 64 * 1024]; 16];
    let total = 64 * 1024 * 16;
    let mut g = c.benchmark_group("unescape_64KiB");
    let slip_wire = wire(SlipCodec::new(), &payloads);
    g.throughput(Throughput::Bytes(slip_wire.len() as u64));
    g.bench_function("memcpy", |b| {
        let mut dst = vec![0u8; slip_wire.len()];
        b.iter(|| {
            dst.copy_from_slice(black_box(&slip_wire));
            black_box(&dst);
        });
    });
    g.bench_function("sockframe_slip", |b| {
        let mut codec = SlipCodec::new();
        let mut buf = slip_wire.clone();
        b.iter(|| assert_eq!(decode_borrowed(&mut codec, &mut buf), total));
    });
    for (name, fcs) in [("sockframe_hdlc_fcs16", Fcs::Fcs16), ("sockframe_hdlc_fcs32", Fcs::Fcs32)] {
        g.bench_function(name, |b| {
            let codec = HdlcCodec::builder().fcs(fcs).build().unwrap();
            let mut buf = wire(codec.clone(), &payloads);
            let mut codec = codec;
            b.iter(|| assert_eq!(decode_borrowed(&mut codec, &mut buf), total));
        });
    }
    g.finish();
}

criterion_group!(benches, slip, crc, unescape);
criterion_main!(benches);

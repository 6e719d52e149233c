//! Transport benchmarks against hand-written std::net code and tokio-util's
//! `Framed`, measured in the same run on the same machine.
//!
//! ```text
//! cargo bench --bench transport            # full sizes
//! SOCKFRAME_BENCH_QUICK=1 cargo bench ...  # a smoke run
//! ```
//!
//! A plain `harness = false` program (not criterion): every variant is an
//! end-to-end transfer over loopback between two threads. The variants being
//! compared run in turn, `REPS` rounds, so drift in the machine's speed hits
//! them alike; each one's median is reported, with ratios to the baselines.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use sockframe::{Framed, LengthCodec};
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};

const REPS: usize = 5;
const SMALL: usize = 64;

fn quick() -> bool {
    std::env::var_os("SOCKFRAME_BENCH_QUICK").is_some()
}

fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    c.set_nodelay(true).unwrap();
    s.set_nodelay(true).unwrap();
    (c, s)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs `send` and `recv` once on two threads over a fresh pair; returns the
/// wall time.
fn once<S, P, F, G>(pair: &P, send: F, recv: G) -> Duration
where
    S: Send + 'static,
    P: Fn() -> (S, S),
    F: Fn(S) + Send + Sync + Copy + 'static,
    G: Fn(S) -> usize + Send + Sync + Copy + 'static,
{
    let (a, b) = pair();
    let start = Instant::now();
    let rx = thread::spawn(move || recv(b));
    send(a);
    let n = rx.join().unwrap();
    let t = start.elapsed();
    assert!(n > 0);
    t
}

/// Runs every variant once per round, `REPS` rounds, so that drift in the
/// machine's speed hits all variants alike; returns each one's median.
fn rounds<const N: usize>(mut variants: [&mut dyn FnMut() -> Duration; N]) -> [Duration; N] {
    let mut times: [Vec<Duration>; N] = std::array::from_fn(|_| Vec::new());
    for _ in 0..REPS {
        for (v, t) in variants.iter_mut().zip(times.iter_mut()) {
            t.push(v());
        }
    }
    times.map(median)
}

fn frame_bytes(payload: &[u8]) -> Vec<u8> {
    let mut v = (payload.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

/// A hand-written receiver: reads into a 64 KiB buffer and walks the u32 BE
/// length prefixes; returns the frame count.
fn hand_recv<S: Read>(mut s: S) -> usize {
    let mut buf = vec![0u8; 128 * 1024];
    let (mut start, mut end, mut frames) = (0usize, 0usize, 0usize);
    loop {
        while end - start >= 4 {
            let len = u32::from_be_bytes(buf[start..start + 4].try_into().unwrap()) as usize;
            if end - start < 4 + len {
                break;
            }
            std::hint::black_box(&buf[start + 4..start + 4 + len]);
            start += 4 + len;
            frames += 1;
        }
        if start > 0 {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
        }
        let n = s.read(&mut buf[end..]).unwrap();
        if n == 0 {
            return frames;
        }
        end += n;
    }
}

fn sockframe_recv<S: Read + Write>(s: S) -> usize {
    let mut f = Framed::new(s, LengthCodec::new());
    let mut frames = 0;
    while f.recv_with(|p| std::hint::black_box(p.len())).unwrap().is_some() {
        frames += 1;
    }
    frames
}

fn small_frames(n: usize) {
    let payload = [0x5au8; SMALL];
    let mut one = [0x5au8; 4 + SMALL];
    one[..4].copy_from_slice(&(SMALL as u32).to_be_bytes());
    println!("## {n} frames of {SMALL} B over loopback TCP (median of {REPS})");

    let mut sf = || {
        once(
            &tcp_pair,
            move |s| {
                let mut f = Framed::new(s, LengthCodec::new());
                for _ in 0..n {
                    f.send(&payload).unwrap();
                }
                f.flush().unwrap();
            },
            sockframe_recv,
        )
    };
    let mut a = || {
        once(
            &tcp_pair,
            move |mut s: TcpStream| {
                for _ in 0..n {
                    s.write_all(&one).unwrap();
                }
            },
            hand_recv,
        )
    };
    let mut b = || {
        once(
            &tcp_pair,
            move |mut s: TcpStream| {
                let mut batch = Vec::with_capacity(64 * 1024);
                for _ in 0..n {
                    if batch.len() + 4 + SMALL > 64 * 1024 {
                        s.write_all(&batch).unwrap();
                        batch.clear();
                    }
                    batch.extend_from_slice(&(SMALL as u32).to_be_bytes());
                    batch.extend_from_slice(&payload);
                }
                s.write_all(&batch).unwrap();
            },
            hand_recv,
        )
    };
    let mut c = || {
        once(
            &tcp_pair,
            move |s: TcpStream| {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async move {
                    s.set_nonblocking(true).unwrap();
                    let s = tokio::net::TcpStream::from_std(s).unwrap();
                    let mut w = FramedWrite::new(s, LengthDelimitedCodec::new());
                    let payload = Bytes::from_static(&[0x5a; SMALL]);
                    for _ in 0..n {
                        w.feed(payload.clone()).await.unwrap();
                    }
                    SinkExt::<Bytes>::flush(&mut w).await.unwrap();
                });
            },
            |s: TcpStream| {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async move {
                    s.set_nonblocking(true).unwrap();
                    let s = tokio::net::TcpStream::from_std(s).unwrap();
                    let mut r = FramedRead::new(s, LengthDelimitedCodec::new());
                    let mut frames = 0;
                    while let Some(f) = r.next().await {
                        std::hint::black_box(f.unwrap().len());
                        frames += 1;
                    }
                    frames
                })
            },
        )
    };
    let [sf, a, b, c] = rounds([&mut sf, &mut a, &mut b, &mut c]);
    let rate = |d: Duration| n as f64 / d.as_secs_f64() / 1e6;
    println!("sockframe Framed send/recv_with  {:>8.1} ms  {:>6.2} M frames/s", ms(sf), rate(sf));
    println!("(a) write_all per frame          {:>8.1} ms  {:>6.2} M frames/s", ms(a), rate(a));
    println!("(b) hand-batched 64 KiB writes   {:>8.1} ms  {:>6.2} M frames/s", ms(b), rate(b));
    println!("(c) tokio-util Framed, 2 x current-thread rt {:>8.1} ms  {:>6.2} M frames/s", ms(c), rate(c));
    println!(
        "ratios (throughput, sockframe / baseline): vs (a) {:.2}x, vs (b) {:.2}x [target >= 0.9], vs (c) {:.2}x [target >= 1.5]",
        secs(a) / secs(sf),
        secs(b) / secs(sf),
        secs(c) / secs(sf)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p) as usize]
}

fn ping_pong(rounds: usize) {
    const MSG: &[u8] = b"Hello from client";
    println!("## ping-pong of the {}-byte message, TCP_NODELAY, {rounds} round trips", MSG.len());
    let wire = frame_bytes(MSG);
    let mut results = Vec::new();
    // Interleave the variants so drift in machine load hits both.
    let mut sf_all = Vec::new();
    let mut raw_all = Vec::new();
    for _ in 0..REPS {
        let (c, s) = tcp_pair();
        let srv = thread::spawn(move || {
            let mut f = Framed::new(s, LengthCodec::new());
            while let Some(m) = f.recv().unwrap() {
                f.send(&m).unwrap();
                f.flush().unwrap();
            }
        });
        let mut f = Framed::new(c, LengthCodec::new());
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let t = Instant::now();
            f.send(MSG).unwrap();
            f.flush().unwrap();
            let got = f.recv_with(|p| p.len()).unwrap();
            times.push(t.elapsed());
            assert_eq!(got, Some(MSG.len()));
        }
        drop(f);
        srv.join().unwrap();
        sf_all.extend(times);

        let (mut c, mut s) = tcp_pair();
        let len = wire.len();
        let srv = thread::spawn(move || {
            let mut buf = vec![0u8; len];
            while s.read_exact(&mut buf).is_ok() {
                s.write_all(&buf).unwrap();
            }
        });
        let mut buf = vec![0u8; len];
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let t = Instant::now();
            c.write_all(&wire).unwrap();
            c.read_exact(&mut buf).unwrap();
            times.push(t.elapsed());
        }
        drop(c);
        srv.join().unwrap();
        raw_all.extend(times);
    }
    for (name, v) in [("sockframe send+flush/recv", &mut sf_all), ("raw std write/read_exact", &mut raw_all)]
    {
        let p50 = percentile(v, 0.5);
        let p99 = percentile(v, 0.99);
        println!(
            "{name:<28} p50 {:>6.1} us  p99 {:>6.1} us",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6
        );
        results.push(p50);
    }
    println!(
        "ratio p50 sockframe / raw: {:.3}x [target <= 1.05]",
        results[0].as_secs_f64() / results[1].as_secs_f64()
    );
}

fn bulk<S, P>(label: &str, pair: P, frames: usize)
where
    S: Read + Write + Send + 'static,
    P: Fn() -> (S, S) + Copy,
{
    const BULK: usize = 64 * 1024;
    let bytes = frames * BULK;
    println!("## bulk {frames} frames of 64 KiB over {label}");
    let mut sf = || {
        once(
            &pair,
            move |s: S| {
                let payload = vec![0xa5u8; BULK];
                let mut f = Framed::new(s, LengthCodec::new());
                for _ in 0..frames {
                    f.send(&payload).unwrap();
                }
                f.flush().unwrap();
            },
            sockframe_recv,
        )
    };
    let mut raw = || {
        once(
            &pair,
            move |mut s: S| {
                let chunk = vec![0xa5u8; BULK];
                for _ in 0..frames {
                    s.write_all(&chunk).unwrap();
                }
            },
            |mut s: S| {
                let mut buf = vec![0u8; 128 * 1024];
                let mut total = 0usize;
                loop {
                    let n = s.read(&mut buf).unwrap();
                    if n == 0 {
                        return total;
                    }
                    total += n;
                }
            },
        )
    };
    let [sf, raw] = rounds([&mut sf, &mut raw]);
    let gbps = |d: Duration| bytes as f64 / d.as_secs_f64() / 1e9;
    println!("sockframe Framed (vectored send, recv_with) {:>7.2} GB/s", gbps(sf));
    println!("raw std write_all/read 64 KiB               {:>7.2} GB/s", gbps(raw));
    println!("ratio sockframe / raw: {:.2}x [target >= 0.9]", secs(raw) / secs(sf));
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let q = quick();
    small_frames(if q { 50_000 } else { 1_000_000 });
    ping_pong(if q { 1_000 } else { 10_000 });
    bulk("TCP", tcp_pair, if q { 1_000 } else { 16_384 });
    bulk("Unix sockets", || UnixStream::pair().unwrap(), if q { 1_000 } else { 16_384 });
}

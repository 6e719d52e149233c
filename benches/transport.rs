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
//! compared run in turn, `rounds` rounds, each round starting at a different
//! variant, so drift in the machine's speed and the order hit them alike.
//! Each variant's median is reported, and every ratio is the median of the
//! per-round ratios (with their spread), which cancels most of the
//! run-to-run noise of a 2-vCPU VM. On Linux the CPU time each side's thread
//! used (`/proc/thread-self/schedstat`) is printed too.
//!
//! `SOCKFRAME_BENCH_ONLY=small|pingpong|bulk` runs one section.

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
/// Rounds for the throughput sections: many short transfers give a more
/// stable median than a few long ones.
const ROUNDS: usize = 15;
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

/// One end-to-end transfer: wall time, and CPU time of the sending and the
/// receiving thread (zero where the OS does not report it).
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    wall: Duration,
    send_cpu: Duration,
    recv_cpu: Duration,
}

/// CPU time the calling thread has used so far (Linux; `None` elsewhere).
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(s.split_whitespace().next()?.parse().ok()?))
}

fn cpu_since(start: Option<Duration>) -> Duration {
    match (start, thread_cpu()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    }
}

/// Runs `send` and `recv` once on two threads over a fresh pair.
fn once<S, P, F, G>(pair: &P, send: F, recv: G) -> Sample
where
    S: Send + 'static,
    P: Fn() -> (S, S),
    F: Fn(S) + Send + Sync + Copy + 'static,
    G: Fn(S) -> usize + Send + Sync + Copy + 'static,
{
    let (a, b) = pair();
    let start = Instant::now();
    let rx = thread::spawn(move || {
        let c = thread_cpu();
        let n = recv(b);
        (n, cpu_since(c))
    });
    let c = thread_cpu();
    send(a);
    let send_cpu = cpu_since(c);
    let (n, recv_cpu) = rx.join().unwrap();
    let wall = start.elapsed();
    assert!(n > 0);
    Sample { wall, send_cpu, recv_cpu }
}

/// Runs every variant once per round, `n` rounds; round `r` starts at
/// variant `r % N`. Returns every sample, `[variant][round]`.
fn rounds<const N: usize>(n: usize, variants: [&mut dyn FnMut() -> Sample; N]) -> [Vec<Sample>; N] {
    let mut out: [Vec<Sample>; N] = std::array::from_fn(|_| Vec::with_capacity(n));
    for r in 0..n {
        for k in 0..N {
            let i = (r + k) % N;
            let sample = variants[i]();
            out[i].push(sample);
        }
    }
    out
}

/// Median wall time of a variant's samples.
fn wall(v: &[Sample]) -> Duration {
    median(v.iter().map(|s| s.wall).collect())
}

/// `"send X ms, recv Y ms"`: median CPU time of each side, if known.
fn cpu(v: &[Sample]) -> String {
    let s = median(v.iter().map(|s| s.send_cpu).collect());
    let r = median(v.iter().map(|s| s.recv_cpu).collect());
    if s.is_zero() && r.is_zero() {
        return String::new();
    }
    format!("  cpu: send {:>6.1} ms, recv {:>6.1} ms", ms(s), ms(r))
}

/// Throughput of `ours` relative to `base`: the median over rounds of
/// `base.wall / ours.wall`, with the lower and upper quartile.
fn ratio(ours: &[Sample], base: &[Sample]) -> (f64, f64, f64) {
    let mut r: Vec<f64> =
        ours.iter().zip(base).map(|(o, b)| b.wall.as_secs_f64() / o.wall.as_secs_f64()).collect();
    r.sort_by(f64::total_cmp);
    let q = |p: f64| r[((r.len() - 1) as f64 * p).round() as usize];
    (q(0.5), q(0.25), q(0.75))
}

fn show_ratio(label: &str, ours: &[Sample], base: &[Sample], target: &str) {
    let (m, lo, hi) = ratio(ours, base);
    println!("ratio {label}: {m:.2}x (quartiles of the per-round ratios {lo:.2}-{hi:.2}) {target}");
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
    println!("## {n} frames of {SMALL} B over loopback TCP, TCP_NODELAY (medians of {ROUNDS} rounds)");

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
    // (a) is two orders of magnitude slower and no target: three runs.
    let [a] = rounds(3, [&mut a]);
    let [sf, b, c] = rounds(ROUNDS, [&mut sf, &mut b, &mut c]);
    let rate = |v: &[Sample]| n as f64 / wall(v).as_secs_f64() / 1e6;
    let row = |name: &str, v: &[Sample]| {
        println!("{name:<44} {:>8.1} ms {:>7.2} M frames/s{}", ms(wall(v)), rate(v), cpu(v));
    };
    row("sockframe Framed send/recv_with", &sf);
    row("(a) write_all per frame (3 runs)", &a);
    row("(b) hand-batched 64 KiB writes", &b);
    row("(c) tokio-util Framed, 2 x current-thread rt", &c);
    println!("ratio vs (a): {:.0}x", secs(wall(&a)) / secs(wall(&sf)));
    show_ratio("vs (b)", &sf, &b, "[target >= 0.9]");
    show_ratio("vs (c)", &sf, &c, "[target >= 1.5]");
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
    println!("## bulk {frames} frames of 64 KiB over {label} (medians of {ROUNDS} rounds)");
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
    // Two raw receivers: one read per 128 KiB buffer, and per 64 KiB buffer
    // (smaller reads measured faster over loopback TCP).
    let mut raw128 = || once(&pair, raw_send::<S, BULK>(frames), raw_recv::<S, { 128 * 1024 }>);
    let mut raw64 = || once(&pair, raw_send::<S, BULK>(frames), raw_recv::<S, { 64 * 1024 }>);
    let [sf, raw128, raw64] = rounds(ROUNDS, [&mut sf, &mut raw128, &mut raw64]);
    let gbps = |v: &[Sample]| bytes as f64 / wall(v).as_secs_f64() / 1e9;
    println!("sockframe Framed (vectored send, recv_with) {:>7.2} GB/s{}", gbps(&sf), cpu(&sf));
    println!("raw write_all 64 KiB / read 128 KiB         {:>7.2} GB/s{}", gbps(&raw128), cpu(&raw128));
    println!("raw write_all 64 KiB / read 64 KiB          {:>7.2} GB/s{}", gbps(&raw64), cpu(&raw64));
    show_ratio("sockframe / raw (128 KiB reads)", &sf, &raw128, "[target >= 0.9]");
    show_ratio("sockframe / raw (64 KiB reads)", &sf, &raw64, "[target >= 0.9]");
}

/// A raw sender: `frames` writes of `SIZE` bytes.
fn raw_send<S: Write, const SIZE: usize>(frames: usize) -> impl Fn(S) + Send + Sync + Copy + 'static {
    move |mut s: S| {
        let chunk = vec![0xa5u8; SIZE];
        for _ in 0..frames {
            s.write_all(&chunk).unwrap();
        }
    }
}

/// A raw receiver: reads into a `SIZE`-byte buffer until EOF; returns the
/// byte count.
fn raw_recv<S: Read, const SIZE: usize>(mut s: S) -> usize {
    let mut buf = vec![0u8; SIZE];
    let mut total = 0usize;
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            return total;
        }
        total += n;
    }
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let q = quick();
    let only = std::env::var("SOCKFRAME_BENCH_ONLY").ok();
    let run = |section: &str| only.as_deref().map_or(true, |o| o == section);
    if run("small") {
        small_frames(if q { 50_000 } else { 1_000_000 });
    }
    if run("pingpong") {
        ping_pong(if q { 1_000 } else { 10_000 });
    }
    if run("bulk") {
        let frames = if q { 256 } else { 4096 };
        bulk("TCP, TCP_NODELAY", tcp_pair, frames);
        bulk("Unix sockets", || UnixStream::pair().unwrap(), frames);
    }
}

//! `sockframe bench`: loopback throughput and round-trip latency for a codec
//! and frame size, over TCP or a Unix socket, beside raw std::net doing the
//! same bytes in the same run. With `--clients N`, the `listen --echo` event
//! loop in a child process is loaded by N concurrent clients and its peak RSS
//! and the echo latency percentiles are reported.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sockframe::net::HalfClose;
use sockframe::{Codec, Framed, FramedConfig};

use crate::addr::Stream;
use crate::CliError;

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Framing to measure (see `listen --help`).
    #[arg(long, short = 'c', default_value = "len", value_name = "SPEC")]
    codec: Codec,
    /// Payload bytes per frame.
    #[arg(long, short = 's', default_value_t = 64, value_name = "BYTES")]
    size: usize,
    /// Frames sent one way for the throughput figure (default: 64 MiB worth, 20,000 to 1,000,000).
    #[arg(long, value_name = "N")]
    frames: Option<u64>,
    /// Round trips for the latency figure.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    round_trips: u64,
    /// Throughput runs of each kind (alternated; the median is reported).
    #[arg(long, default_value_t = 3, value_name = "N")]
    reps: usize,
    /// Use a Unix domain socket instead of TCP.
    #[arg(long)]
    unix: bool,
    /// Load a `listen --echo` server (a child process) with N concurrent
    /// clients instead; each makes --per-client round trips.
    #[arg(long, value_name = "N")]
    clients: Option<usize>,
    /// Round trips per client with --clients.
    #[arg(long, default_value_t = 100, value_name = "N")]
    per_client: u64,
}

fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg:>28} [{bar:30}] {pos}/{len} ({per_sec})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// A connected pair over loopback: (client, server).
fn pair(unix: bool, dir: &std::path::Path) -> io::Result<(Stream, Stream)> {
    if unix {
        let path = dir.join("bench.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)?;
        let client = UnixStream::connect(&path)?;
        let (server, _) = listener.accept()?;
        let _ = std::fs::remove_file(&path);
        Ok((Stream::Unix(client), Stream::Unix(server)))
    } else {
        let listener = sockframe::net::tcp_listen("127.0.0.1:0")?;
        let client = sockframe::net::tcp_connect(listener.local_addr()?)?;
        let (server, _) = sockframe::net::tcp_accept(&listener)?;
        Ok((Stream::Tcp(client), Stream::Tcp(server)))
    }
}

fn payload(codec: &Codec, size: usize) -> Result<Vec<u8>, CliError> {
    if size > codec.max_frame_length() {
        return Err(CliError::Usage(format!(
            "--size {size} is over the codec's max frame length {}",
            codec.max_frame_length()
        )));
    }
    Ok(vec![b'x'; size])
}

fn framed(stream: Stream, codec: Codec, cfg: FramedConfig) -> Result<Framed<Stream, Codec>, CliError> {
    Framed::with_config(stream, codec, cfg).map_err(|e| CliError::Runtime(e.to_string()))
}

/// One echo round trip; waits for every byte back (raw framing may deliver
/// the echo in pieces).
fn round_trip(framed: &mut Framed<Stream, Codec>, body: &[u8]) -> Result<Duration, CliError> {
    let t = Instant::now();
    framed.send(body)?;
    framed.flush()?;
    let mut got = 0;
    while got < body.len().max(1) {
        match framed.recv_with(|p| p.len())? {
            Some(n) => got += n,
            None => return Err(CliError::Runtime("echo server closed".into())),
        }
    }
    Ok(t.elapsed())
}

fn join<T>(h: thread::JoinHandle<Result<T, CliError>>) -> Result<T, CliError> {
    h.join().map_err(|_| CliError::Runtime("bench thread panicked".into()))?
}

/// Seconds for `frames` frames of `size` bytes one way through sockframe.
fn framed_throughput(args: &BenchArgs, dir: &std::path::Path, frames: u64) -> Result<f64, CliError> {
    let (client, server) = pair(args.unix, dir)?;
    let body = payload(&args.codec, args.size)?;
    let expect = frames * args.size as u64;
    let (c1, c2) = (args.codec.clone(), args.codec.clone());
    let cfg = FramedConfig::new();
    let bar = progress(frames, "sockframe throughput");
    let rx = thread::spawn(move || -> Result<u64, CliError> {
        server.set_timeouts(Some(Duration::from_secs(30)))?;
        let mut framed = framed(server, c2, cfg)?;
        let mut bytes = 0u64;
        while let Some(n) = framed.recv_with(|p| p.len())? {
            bytes += n as u64;
        }
        Ok(bytes)
    });
    let start = Instant::now();
    let mut framed = framed(client, c1, cfg)?;
    for i in 0..frames {
        framed.send(&body)?;
        if i % 4096 == 0 {
            bar.set_position(i);
        }
    }
    framed.close_write()?;
    let got = join(rx)?;
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    if got != expect {
        return Err(CliError::Runtime(format!("throughput run received {got} of {expect} bytes")));
    }
    Ok(secs)
}

/// Seconds for the same payload bytes through raw std::net, 64 KiB writes.
fn raw_throughput(args: &BenchArgs, dir: &std::path::Path, frames: u64) -> Result<f64, CliError> {
    let (mut client, mut server) = pair(args.unix, dir)?;
    let total = frames * args.size as u64;
    let rx = thread::spawn(move || -> Result<u64, CliError> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut bytes = 0u64;
        loop {
            match server.read(&mut buf) {
                Ok(0) => return Ok(bytes),
                Ok(n) => bytes += n as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    });
    let block = vec![b'x'; 64 * 1024];
    let start = Instant::now();
    let mut left = total;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        client.write_all(&block[..n])?;
        left -= n as u64;
    }
    client.shutdown_write()?;
    let got = join(rx)?;
    if got != total {
        return Err(CliError::Runtime(format!("raw run received {got} of {total} bytes")));
    }
    Ok(start.elapsed().as_secs_f64())
}

fn median(runs: &mut [f64]) -> f64 {
    runs.sort_by(f64::total_cmp);
    runs.get(runs.len() / 2).copied().unwrap_or(0.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Round-trip samples through sockframe (echo server thread).
fn framed_latency(args: &BenchArgs, dir: &std::path::Path) -> Result<Vec<Duration>, CliError> {
    let (client, server) = pair(args.unix, dir)?;
    let body = payload(&args.codec, args.size)?;
    let (c1, c2) = (args.codec.clone(), args.codec.clone());
    let cfg = FramedConfig::new();
    let echo = thread::spawn(move || -> Result<(), CliError> {
        server.set_timeouts(Some(Duration::from_secs(30)))?;
        let mut framed = framed(server, c2, cfg)?;
        while let Some(frame) = framed.recv()? {
            framed.send(&frame)?;
            framed.flush()?;
        }
        Ok(())
    });
    client.set_timeouts(Some(Duration::from_secs(30)))?;
    let mut framed = framed(client, c1, cfg)?;
    let bar = progress(args.round_trips, "sockframe round trips");
    let mut samples = Vec::with_capacity(args.round_trips as usize);
    for i in 0..args.round_trips {
        samples.push(round_trip(&mut framed, &body)?);
        if i % 256 == 0 {
            bar.set_position(i);
        }
    }
    framed.close_write()?;
    join(echo)?;
    bar.finish_and_clear();
    samples.sort();
    Ok(samples)
}

/// Round-trip samples through raw std::net `write`/`read`.
fn raw_latency(args: &BenchArgs, dir: &std::path::Path) -> Result<Vec<Duration>, CliError> {
    let (mut client, mut server) = pair(args.unix, dir)?;
    let size = args.size.max(1);
    let echo = thread::spawn(move || -> Result<(), CliError> {
        let mut buf = vec![0u8; size];
        loop {
            match server.read_exact(&mut buf) {
                Ok(()) => server.write_all(&buf)?,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
    });
    let body = vec![b'x'; size];
    let mut back = vec![0u8; size];
    let mut samples = Vec::with_capacity(args.round_trips as usize);
    for _ in 0..args.round_trips {
        let t = Instant::now();
        client.write_all(&body)?;
        client.read_exact(&mut back)?;
        samples.push(t.elapsed());
    }
    client.shutdown_write()?;
    join(echo)?;
    samples.sort();
    Ok(samples)
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub(crate) fn run(args: BenchArgs) -> Result<(), CliError> {
    if let Some(clients) = args.clients {
        return event_loop(&args, clients);
    }
    let dir = std::env::temp_dir().join(format!("sockframe-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = point_to_point(&args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn point_to_point(args: &BenchArgs, dir: &std::path::Path) -> Result<(), CliError> {
    let frames = args
        .frames
        .unwrap_or_else(|| ((64u64 << 20) / (args.size as u64 + 4).max(1)).clamp(20_000, 1_000_000));
    let transport = if args.unix { "unix" } else { "tcp" };
    // Alternate the two, several times, and keep each one's median: loopback
    // throughput on a small machine drifts between runs.
    let mut framed_runs = Vec::new();
    let mut raw_runs = Vec::new();
    for _ in 0..args.reps.max(1) {
        raw_runs.push(raw_throughput(args, dir, frames)?);
        framed_runs.push(framed_throughput(args, dir, frames)?);
    }
    let framed_secs = median(&mut framed_runs);
    let raw_secs = median(&mut raw_runs);
    let framed_rtt = framed_latency(args, dir)?;
    let raw_rtt = raw_latency(args, dir)?;
    let mb = (frames * args.size as u64) as f64 / (1 << 20) as f64;
    println!(
        "sockframe bench: codec {}, {} B frames, {transport}, {frames} frames (median of {} runs), {} round trips",
        args.codec,
        args.size,
        args.reps.max(1),
        args.round_trips
    );
    println!("| path | frames/s | MiB/s | rtt p50 µs | rtt p99 µs |");
    println!("|---|---:|---:|---:|---:|");
    let row = |label: &str, secs: f64, rtt: &[Duration]| {
        println!(
            "| {label} | {:.0} | {:.1} | {:.1} | {:.1} |",
            frames as f64 / secs,
            mb / secs,
            us(percentile(rtt, 0.5)),
            us(percentile(rtt, 0.99))
        );
    };
    row("sockframe Framed", framed_secs, &framed_rtt);
    row("raw std::net (same bytes, unframed)", raw_secs, &raw_rtt);
    println!(
        "| ratio sockframe / raw | {:.2}× throughput | | {:.2}× p50 | {:.2}× p99 |",
        raw_secs / framed_secs,
        us(percentile(&framed_rtt, 0.5)) / us(percentile(&raw_rtt, 0.5)).max(1e-9),
        us(percentile(&framed_rtt, 0.99)) / us(percentile(&raw_rtt, 0.99)).max(1e-9)
    );
    Ok(())
}

/// Kills the server child however the bench ends.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn event_loop(args: &BenchArgs, clients: usize) -> Result<(), CliError> {
    let exe: PathBuf = std::env::current_exe()?;
    let (addr_arg, unix_path) = if args.unix {
        let path = std::env::temp_dir().join(format!("sockframe-bench-{}.sock", std::process::id()));
        (format!("unix:{}", path.display()), Some(path))
    } else {
        ("127.0.0.1:0".to_owned(), None)
    };
    let mut child = Command::new(exe)
        .args(["listen", &addr_arg, "--echo", "--quiet", "--codec", &args.codec.to_string()])
        .arg(format!("--max-clients={}", clients + 16))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let stderr = child.stderr.take().ok_or_else(|| CliError::Runtime("no stderr from server".into()))?;
    let guard = ChildGuard(child);
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().transpose()?.unwrap_or_default();
    let addr = first
        .strip_prefix("sockframe: listening on ")
        .ok_or_else(|| CliError::Runtime(format!("server did not start: {first}")))?
        .to_owned();
    // Keep draining the server's stderr so it never blocks on it.
    thread::spawn(move || for _ in lines {});
    let addr: crate::addr::Addr = addr.parse().map_err(CliError::Runtime)?;
    let rss_idle = peak_rss_kib(pid).unwrap_or(0);

    let body = payload(&args.codec, args.size)?;
    let total = clients as u64 * args.per_client;
    let bar = progress(total, &format!("{clients} clients, echo round trips"));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut handles = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (addr, codec, body, done, per) =
            (addr.clone(), args.codec.clone(), body.clone(), done.clone(), args.per_client);
        let cfg = FramedConfig::new();
        handles.push(thread::Builder::new().stack_size(256 * 1024).spawn(
            move || -> Result<Vec<Duration>, CliError> {
                let stream = addr.connect(Duration::from_secs(30))?;
                stream.set_timeouts(Some(Duration::from_secs(30)))?;
                let mut framed = framed(stream, codec, cfg)?;
                let mut samples = Vec::with_capacity(per as usize);
                for _ in 0..per {
                    samples.push(round_trip(&mut framed, &body)?);
                    done.fetch_add(1, Ordering::Relaxed);
                }
                framed.close_write()?;
                Ok(samples)
            },
        )?);
    }
    let mut samples = Vec::with_capacity(total as usize);
    let mut failures = 0usize;
    let mut first_error = None;
    while handles.iter().any(|h| !h.is_finished()) {
        bar.set_position(done.load(Ordering::Relaxed));
        thread::sleep(Duration::from_millis(50));
    }
    for h in handles {
        match join(h) {
            Ok(s) => samples.extend(s),
            Err(e) => {
                failures += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let rss_peak = peak_rss_kib(pid).unwrap_or(0);
    drop(guard);
    if let Some(p) = unix_path {
        let _ = std::fs::remove_file(p);
    }
    if let Some(e) = first_error {
        let msg = match e {
            CliError::Runtime(m) | CliError::Usage(m) => m,
        };
        return Err(CliError::Runtime(format!("{failures} of {clients} clients failed; first: {msg}")));
    }
    samples.sort();
    println!("sockframe bench: `listen --echo` event loop, {clients} concurrent clients × {} round trips, codec {}, {} B frames, {}", args.per_client, args.codec, args.size, if args.unix { "unix" } else { "tcp" });
    println!("| round trips | round trips/s | echo p50 µs | echo p99 µs | server RSS idle KiB | server peak RSS KiB |");
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.0} | {:.1} | {:.1} | {rss_idle} | {rss_peak} |",
        samples.len(),
        samples.len() as f64 / secs,
        us(percentile(&samples, 0.5)),
        us(percentile(&samples, 0.99))
    );
    io::stdout().flush()?;
    Ok(())
}

//! Point to point: a codec's throughput and round-trip latency through
//! `Framed`, beside raw std::net doing the same bytes in the same run.

use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::thread;
use std::time::Duration;
use std::time::Instant;

use sockframe::net::HalfClose;
use sockframe::FramedConfig;

use super::stats::{fmt_ratio, fmt_us, median, us, Latencies};
use super::{framed, join, payload, progress, round_trip, BenchArgs};
use crate::addr::Stream;
use crate::CliError;

pub(super) fn run(args: &BenchArgs) -> Result<(), CliError> {
    let dir = std::env::temp_dir().join(format!("sockframe-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A connected pair over loopback: (client, server).
fn pair(unix: bool, dir: &Path) -> io::Result<(Stream, Stream)> {
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

/// Seconds for `frames` frames of `size` bytes one way through sockframe.
fn framed_throughput(args: &BenchArgs, dir: &Path, frames: u64) -> Result<f64, CliError> {
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
fn raw_throughput(args: &BenchArgs, dir: &Path, frames: u64) -> Result<f64, CliError> {
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

/// Round-trip samples through sockframe (echo server thread).
fn framed_latency(args: &BenchArgs, dir: &Path) -> Result<Latencies, CliError> {
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
    Ok(Latencies::new(samples))
}

/// Round-trip samples through raw std::net `write`/`read`.
fn raw_latency(args: &BenchArgs, dir: &Path) -> Result<Latencies, CliError> {
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
    Ok(Latencies::new(samples))
}

fn measure(args: &BenchArgs, dir: &Path) -> Result<(), CliError> {
    let frames = args.frames();
    let transport = if args.unix { "unix" } else { "tcp" };
    // Alternate the two, several times, and keep each one's median: loopback
    // throughput on a small machine drifts between runs.
    let mut framed_runs = Vec::new();
    let mut raw_runs = Vec::new();
    for _ in 0..args.reps() {
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
        args.reps(),
        args.round_trips
    );
    println!("| path | frames/s | MiB/s | rtt p50 µs | rtt p99 µs |");
    println!("|---|---:|---:|---:|---:|");
    let row = |label: &str, secs: f64, rtt: &Latencies| {
        println!(
            "| {label} | {:.0} | {:.1} | {} | {} |",
            frames as f64 / secs,
            mb / secs,
            fmt_us(rtt.p50()),
            fmt_us(rtt.p99())
        );
    };
    row("sockframe Framed", framed_secs, &framed_rtt);
    row("raw std::net (same bytes, unframed)", raw_secs, &raw_rtt);
    println!(
        "| ratio sockframe / raw | {} throughput | | {} p50 | {} p99 |",
        fmt_ratio(raw_secs, framed_secs),
        fmt_ratio(us(framed_rtt.p50()), us(raw_rtt.p50())),
        fmt_ratio(us(framed_rtt.p99()), us(raw_rtt.p99()))
    );
    Ok(())
}

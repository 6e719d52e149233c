//! `--clients N`: the `listen --echo` event loop (a child process) loaded by
//! N concurrent blocking clients; throughput, echo latency percentiles and
//! the server's peak RSS.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use sockframe::FramedConfig;

use super::child::ChildProc;
use super::stats::{fmt_us, Latencies};
use super::{framed, join, message, payload, progress, round_trip, BenchArgs};
use crate::CliError;

/// How long all the clients together may take, at most.
const LOAD_LIMIT: Duration = Duration::from_secs(600);

pub(super) fn run(args: &BenchArgs, clients: usize) -> Result<(), CliError> {
    let (addr_arg, unix_path) = if args.unix {
        let path = std::env::temp_dir().join(format!("sockframe-bench-{}.sock", std::process::id()));
        (format!("unix:{}", path.display()), Some(path))
    } else {
        ("127.0.0.1:0".to_owned(), None)
    };
    let result = load(args, clients, &addr_arg);
    if let Some(p) = unix_path {
        let _ = std::fs::remove_file(p);
    }
    result
}

fn load(args: &BenchArgs, clients: usize, addr_arg: &str) -> Result<(), CliError> {
    let codec = args.codec.to_string();
    let max_clients = format!("--max-clients={}", clients + 16);
    let (server, addr) =
        ChildProc::sockframe(&["listen", addr_arg, "--echo", "--quiet", "--codec", &codec, &max_clients])?;
    let addr: crate::addr::Addr = addr.parse().map_err(CliError::Runtime)?;
    let rss_idle = server.peak_rss_kib().unwrap_or(0);
    let fds_idle = server.open_fds().unwrap_or(0);

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
    // Every client's reads and writes time out after 30 s; this bounds the
    // wait as well.
    while handles.iter().any(|h| !h.is_finished()) && start.elapsed() < LOAD_LIMIT {
        bar.set_position(done.load(Ordering::Relaxed));
        thread::sleep(Duration::from_millis(50));
    }
    let mut samples = Vec::with_capacity(total as usize);
    let mut failures = 0usize;
    let mut first_error = None;
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
    let rss_peak = server.peak_rss_kib().unwrap_or(0);
    // Every client has closed: what does the server keep, 300 ms after it
    // has closed every connection (as many descriptors open as when idle)?
    let closed_by = Instant::now() + Duration::from_secs(5);
    while server.open_fds().is_some_and(|n| n > fds_idle) && Instant::now() < closed_by {
        thread::sleep(Duration::from_millis(20));
    }
    thread::sleep(Duration::from_millis(300));
    let rss_after = server.rss_kib().unwrap_or(0);
    drop(server);
    if let Some(e) = first_error {
        return Err(CliError::Runtime(format!(
            "{failures} of {clients} clients failed; first: {}",
            message(e)
        )));
    }
    let samples = Latencies::new(samples);
    println!(
        "sockframe bench: `listen --echo` event loop, {clients} concurrent clients × {} round trips, codec {}, {} B frames, {}",
        args.per_client,
        args.codec,
        args.size,
        if args.unix { "unix" } else { "tcp" }
    );
    println!(
        "| round trips | round trips/s | echo p50 µs | echo p99 µs | server RSS idle KiB | server peak RSS KiB | server RSS after close KiB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.0} | {} | {} | {rss_idle} | {rss_peak} | {rss_after} |",
        samples.len(),
        samples.len() as f64 / secs,
        fmt_us(samples.p50()),
        fmt_us(samples.p99())
    );
    io::stdout().flush()?;
    Ok(())
}

//! `sockframe bench`: loopback throughput and round-trip latency for a codec
//! and frame size, over TCP or a Unix socket, beside raw std::net doing the
//! same bytes in the same run (`point_to_point`). With `--clients N`, the
//! `listen --echo` event loop in a child process is loaded by N concurrent
//! clients and its peak RSS and the echo latency percentiles are reported
//! (`clients`). With `--relay`, `sockframe relay` in a child process is
//! measured beside socat relaying the same bytes (`relay`).
//!
//! Every mode reports through [`stats`]; the modes that run a server child
//! use the [`child`] harness.

mod child;
mod clients;
mod point_to_point;
mod relay;
mod stats;

use std::thread;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
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
    #[arg(long, conflicts_with = "relay")]
    unix: bool,
    /// Load a `listen --echo` server (a child process) with N concurrent
    /// clients instead; each makes --per-client round trips.
    #[arg(long, value_name = "N", conflicts_with = "relay")]
    clients: Option<usize>,
    /// Round trips per client with --clients.
    #[arg(long, default_value_t = 100, value_name = "N")]
    per_client: u64,
    /// Measure `sockframe relay --codec SPEC` (a child process, decoding and
    /// re-encoding every frame) beside socat relaying the same bytes, over
    /// TCP: throughput to a sink, and the round-trip latency it adds to an
    /// echo server.
    #[arg(long)]
    relay: bool,
}

impl BenchArgs {
    /// Frames per throughput run: --frames, or 64 MiB worth (20,000 to 1,000,000).
    fn frames(&self) -> u64 {
        self.frames
            .unwrap_or_else(|| ((64u64 << 20) / (self.size as u64 + 4).max(1)).clamp(20_000, 1_000_000))
    }

    fn reps(&self) -> usize {
        self.reps.max(1)
    }
}

pub(crate) fn run(args: BenchArgs) -> Result<(), CliError> {
    if args.relay {
        return relay::run(&args);
    }
    if let Some(clients) = args.clients {
        return clients::run(&args, clients);
    }
    point_to_point::run(&args)
}

fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg:>28} [{bar:30}] {pos}/{len} ({per_sec})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
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

/// The message a [`CliError`] carries.
fn message(e: CliError) -> String {
    match e {
        CliError::Runtime(m) | CliError::Usage(m) => m,
    }
}

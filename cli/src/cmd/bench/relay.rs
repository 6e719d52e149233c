//! `--relay`: `sockframe relay` (a child process that decodes and re-encodes
//! every frame) beside socat (a child process relaying the same bytes
//! without looking at them), in the same run, over loopback TCP.
//!
//! * Throughput: one client streams `--frames` frames through the proxy to a
//!   sink (a thread here, plain std::net) that reads and counts the bytes; the
//!   two proxies take turns, `--reps` runs each, medians reported.
//! * Latency: `--round-trips` ping-pongs through each proxy to an echo server
//!   (a thread here, `Framed`), and straight to it; the proxy's *added*
//!   latency is its p50 minus the direct p50.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use sockframe::{Codec, Encoder, FramedConfig};

use super::child::ChildProc;
use super::stats::{fmt_ratio, fmt_us, median, us, Latencies};
use super::{framed, message, payload, progress, round_trip, BenchArgs};
use crate::addr::Stream;
use crate::CliError;

/// Socket reads and writes in the bench give up after this.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `apt-get install socat` may take.
const INSTALL_LIMIT: Duration = Duration::from_secs(180);

/// What a server thread in the bench process does with each connection.
#[derive(Clone)]
enum Role {
    /// Reads until the end and reports the byte count.
    Sink,
    /// Echoes every frame back.
    Echo(Codec),
}

/// A server thread on an ephemeral loopback port. It serves one connection
/// at a time, as many as come (socat's readiness probes too), until dropped.
struct LocalServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    /// Per connection: bytes read (sink) or an error.
    reports: Receiver<Result<u64, String>>,
}

impl LocalServer {
    fn start(role: Role) -> Result<LocalServer, CliError> {
        let listener = sockframe::net::tcp_listen("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, reports) = mpsc::channel();
        let flag = stop.clone();
        thread::spawn(move || {
            // Ends when the server is dropped (it sets `stop`, then connects
            // to wake this accept up).
            while !flag.load(Ordering::Relaxed) {
                let report = match listener.accept() {
                    Ok((stream, _)) if !flag.load(Ordering::Relaxed) => serve(stream, &role),
                    Ok(_) => break,
                    Err(e) => Err(e.to_string()),
                };
                if tx.send(report).is_err() {
                    break;
                }
            }
        });
        Ok(LocalServer { addr, stop, reports })
    }

    /// The byte count of the next connection that carried any (readiness
    /// probes carry none), waiting at most `limit`.
    fn next_bytes(&self, limit: Duration) -> Result<u64, CliError> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.reports.recv_timeout(left) {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => return Ok(n),
                Ok(Err(e)) => return Err(CliError::Runtime(format!("sink: {e}"))),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(CliError::Runtime(format!("the sink saw no end of stream within {limit:?}")))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(CliError::Runtime("the sink stopped".into()))
                }
            }
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn serve(stream: TcpStream, role: &Role) -> Result<u64, String> {
    let run = || -> Result<u64, CliError> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        match role {
            Role::Sink => {
                let mut stream = stream;
                let mut buf = vec![0u8; 256 * 1024];
                let mut bytes = 0u64;
                // Each read waits at most IO_TIMEOUT; the stream ends.
                loop {
                    match stream.read(&mut buf) {
                        Ok(0) => return Ok(bytes),
                        Ok(n) => bytes += n as u64,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Role::Echo(codec) => {
                let mut framed = framed(Stream::Tcp(stream), codec.clone(), FramedConfig::new())?;
                while let Some(frame) = framed.recv()? {
                    framed.send(&frame)?;
                    framed.flush()?;
                }
                Ok(0)
            }
        }
    };
    run().map_err(message)
}

/// A proxy under test, running as a child process.
struct Proxy {
    label: &'static str,
    addr: SocketAddr,
    child: ChildProc,
}

fn parse_addr(s: &str) -> Result<SocketAddr, CliError> {
    s.parse().map_err(|e| CliError::Runtime(format!("bad address {s:?}: {e}")))
}

/// `sockframe relay 127.0.0.1:0 UPSTREAM --codec SPEC -q`.
fn relay_proxy(codec: &Codec, upstream: SocketAddr) -> Result<Proxy, CliError> {
    let (up, codec) = (upstream.to_string(), codec.to_string());
    let (child, addr) = ChildProc::sockframe(&["relay", "127.0.0.1:0", &up, "--codec", &codec, "-q"])?;
    Ok(Proxy { label: "sockframe relay (decodes, re-encodes)", addr: parse_addr(&addr)?, child })
}

/// `socat TCP-LISTEN:PORT,reuseaddr,fork,nodelay TCP:127.0.0.1:UPSTREAM_PORT,nodelay`,
/// once it accepts connections. `nodelay` on both sides, as the relay does:
/// without it socat's 8 KiB writes of a 64 KiB frame meet Nagle and delayed
/// ACKs, and each round trip takes about 88 ms instead of tens of µs.
fn socat_proxy(socat: &Path, upstream: SocketAddr) -> Result<Proxy, CliError> {
    // A port the OS just handed out and took back: free, barring a race.
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut child = ChildProc::spawn(
        "socat",
        Command::new(socat)
            .arg(format!("TCP-LISTEN:{port},reuseaddr,fork,nodelay"))
            .arg(format!("TCP:127.0.0.1:{},nodelay", upstream.port())),
    )?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    child.wait_listening(addr)?;
    Ok(Proxy { label: "socat, nodelay (same bytes, unframed)", addr, child })
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// socat's path; if it is not installed, tries `apt-get install -y -qq socat`
/// (when apt-get exists). Err: why there is no socat.
fn socat() -> Result<PathBuf, String> {
    if let Some(p) = find_on_path("socat") {
        return Ok(p);
    }
    let Some(apt) = find_on_path("apt-get") else { return Err("socat is not installed".into()) };
    eprintln!("sockframe: socat is not installed; trying apt-get install -y -qq socat");
    let installed = ChildProc::spawn(
        "apt-get",
        Command::new(apt).args(["install", "-y", "-qq", "socat"]).env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .and_then(|mut c| c.wait_success(INSTALL_LIMIT));
    match installed {
        Ok(true) => find_on_path("socat").ok_or_else(|| "socat is still not on PATH after apt-get".into()),
        Ok(false) => Err("socat is not installed and apt-get install socat failed".into()),
        Err(e) => Err(format!("socat is not installed and apt-get could not run: {}", message(e))),
    }
}

/// Encoded bytes of one frame of `body`.
fn wire_len(codec: &Codec, body: &[u8]) -> Result<u64, CliError> {
    let mut wire = BytesMut::new();
    codec.clone().encode(body, &mut wire).map_err(|e| CliError::Runtime(e.to_string()))?;
    Ok(wire.len() as u64)
}

fn connect(addr: SocketAddr) -> Result<Stream, CliError> {
    let stream = sockframe::net::tcp_connect_timeout(&addr, Duration::from_secs(10))?;
    let stream = Stream::Tcp(stream);
    stream.set_timeouts(Some(IO_TIMEOUT))?;
    Ok(stream)
}

/// Seconds until the sink has read all of `frames` frames streamed through
/// `proxy`.
fn throughput(
    args: &BenchArgs,
    proxy: &Proxy,
    sink: &LocalServer,
    body: &[u8],
    frames: u64,
) -> Result<f64, CliError> {
    let expect = frames * wire_len(&args.codec, body)?;
    let bar = progress(frames, proxy.label);
    let mut framed = framed(connect(proxy.addr)?, args.codec.clone(), FramedConfig::new())?;
    let start = Instant::now();
    for i in 0..frames {
        framed.send(body)?;
        if i % 4096 == 0 {
            bar.set_position(i);
        }
    }
    framed.close_write()?;
    let got = sink.next_bytes(IO_TIMEOUT);
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let said = proxy.child.last_stderr().map(|l| format!(" (it said: {l})")).unwrap_or_default();
    match got {
        Ok(got) if got == expect => {}
        Ok(got) => {
            return Err(CliError::Runtime(format!(
                "{}: the sink received {got} of {expect} bytes{said}",
                proxy.label
            )))
        }
        Err(e) => return Err(CliError::Runtime(format!("{}: {}{said}", proxy.label, message(e)))),
    }
    Ok(secs)
}

/// Round trips to the echo server at `addr`.
fn latency(args: &BenchArgs, addr: SocketAddr, body: &[u8], what: &str) -> Result<Latencies, CliError> {
    let mut framed = framed(connect(addr)?, args.codec.clone(), FramedConfig::new())?;
    let bar = progress(args.round_trips, what);
    let mut samples = Vec::with_capacity(args.round_trips as usize);
    for i in 0..args.round_trips {
        samples.push(round_trip(&mut framed, body)?);
        if i % 256 == 0 {
            bar.set_position(i);
        }
    }
    framed.close_write()?;
    bar.finish_and_clear();
    Ok(Latencies::new(samples))
}

/// One proxy's figures.
struct Figures {
    label: &'static str,
    secs: f64,
    rtt: Latencies,
}

pub(super) fn run(args: &BenchArgs) -> Result<(), CliError> {
    let body = payload(&args.codec, args.size)?;
    let frames = args.frames();
    let socat = socat();

    // Throughput: the proxies take turns, `reps` runs each.
    let sink = LocalServer::start(Role::Sink)?;
    let relay = relay_proxy(&args.codec, sink.addr)?;
    let socat_sink = match &socat {
        Ok(path) => Some(socat_proxy(path, sink.addr)?),
        Err(_) => None,
    };
    let (mut relay_runs, mut socat_runs) = (Vec::new(), Vec::new());
    for _ in 0..args.reps() {
        relay_runs.push(throughput(args, &relay, &sink, &body, frames)?);
        if let Some(proxy) = &socat_sink {
            socat_runs.push(throughput(args, proxy, &sink, &body, frames)?);
        }
    }
    drop((relay, socat_sink, sink));

    // Latency: straight to the echo server, then through each proxy.
    let echo = LocalServer::start(Role::Echo(args.codec.clone()))?;
    let direct = latency(args, echo.addr, &body, "direct round trips")?;
    let relay = relay_proxy(&args.codec, echo.addr)?;
    let mut rows = vec![Figures {
        label: relay.label,
        secs: median(&mut relay_runs),
        rtt: latency(args, relay.addr, &body, "relay round trips")?,
    }];
    drop(relay);
    if let Ok(path) = &socat {
        let proxy = socat_proxy(path, echo.addr)?;
        let rtt = latency(args, proxy.addr, &body, "socat round trips")?;
        rows.push(Figures { label: proxy.label, secs: median(&mut socat_runs), rtt });
    }
    drop(echo);

    let mb = (frames * args.size as u64) as f64 / (1 << 20) as f64;
    let added = |rtt: &Latencies| us(rtt.p50()) - us(direct.p50());
    println!(
        "sockframe bench --relay: codec {}, {} B frames, tcp, {frames} frames (median of {} runs), {} round trips",
        args.codec,
        args.size,
        args.reps(),
        args.round_trips
    );
    println!("| path | frames/s | MiB/s | rtt p50 µs | rtt p99 µs | added p50 µs |");
    println!("|---|---:|---:|---:|---:|---:|");
    for f in &rows {
        println!(
            "| {} | {:.0} | {:.1} | {} | {} | {:.1} |",
            f.label,
            frames as f64 / f.secs,
            mb / f.secs,
            fmt_us(f.rtt.p50()),
            fmt_us(f.rtt.p99()),
            added(&f.rtt)
        );
    }
    println!("| direct (no proxy) | – | – | {} | {} | – |", fmt_us(direct.p50()), fmt_us(direct.p99()));
    match (&rows[..], &socat) {
        ([relay, socat], _) => println!(
            "| ratio relay / socat | {} throughput | | {} p50 | {} p99 | {} added p50 |",
            fmt_ratio(socat.secs, relay.secs),
            fmt_ratio(us(relay.rtt.p50()), us(socat.rtt.p50())),
            fmt_ratio(us(relay.rtt.p99()), us(socat.rtt.p99())),
            fmt_ratio(added(&relay.rtt), added(&socat.rtt))
        ),
        (_, Err(why)) => println!("\n{why}: sockframe's figures alone, no socat to compare with."),
        _ => {}
    }
    Ok(())
}

//! `sockframe replay`: plays a capture back (see [`crate::capture`] for the
//! format): as its client(s) against a server, a regression test that fails
//! on the first reply that differs; as its server to clients that connect
//! (`--serve`); or as the raw wire bytes of one direction (`--wire`), a
//! `decode` input or a fuzz seed.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use sockframe::{Codec, Encoder, Framed, FramedConfig, TransportError};

use crate::addr::{Addr, MioStream, Stream};
use crate::capture::{Capture, Dir, Event, EventKind};
use crate::error::seconds;
use crate::io_format::hex;
use crate::CliError;

/// When frames go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Timing {
    /// Keep the recorded gaps: wait until each frame's recorded time offset.
    Original,
    /// Send as soon as the frames recorded before it have arrived.
    Fast,
}

/// A direction, for `--wire`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum WireDir {
    /// Client to server, framed with the capture's client codec.
    C2s,
    /// Server to client, framed with the capture's server codec.
    S2c,
}

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The capture: JSON Lines written by `--record`.
    pub(crate) file: PathBuf,
    /// The server to replay the client side against: HOST:PORT, [::1]:PORT
    /// or unix:PATH. Every reply must equal the recorded one (exit 1 if not).
    #[arg(required_unless_present_any = ["serve", "wire"], conflicts_with_all = ["serve", "wire"])]
    pub(crate) addr: Option<Addr>,
    /// Play the server side instead: listen on LISTEN; the k-th client to
    /// connect plays recorded connection k. Exits once every recorded
    /// connection has been played.
    #[arg(long, value_name = "LISTEN", conflicts_with = "wire")]
    pub(crate) serve: Option<Addr>,
    /// Write the frames of one direction, framed with that side's codec, to
    /// stdout as raw wire bytes.
    #[arg(long, value_enum, value_name = "DIRECTION")]
    pub(crate) wire: Option<WireDir>,
    /// With --wire: only connection N.
    #[arg(long, value_name = "N", requires = "wire")]
    pub(crate) conn: Option<u64>,
    /// When each frame is sent.
    #[arg(long, value_enum, default_value_t = Timing::Fast, conflicts_with = "wire")]
    pub(crate) timing: Timing,
    /// Seconds to wait for connecting, writing, and each awaited frame.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub(crate) timeout: f64,
}

pub(crate) fn run(args: ReplayArgs) -> Result<(), CliError> {
    let timeout = seconds(args.timeout, "--timeout")?;
    let capture = Capture::read(&args.file)?;
    let name = args.file.display().to_string();
    if let Some(dir) = args.wire {
        print_warnings(&capture);
        return wire(&capture, &name, dir, args.conn);
    }
    if capture.conns().is_empty() {
        print_warnings(&capture);
        return Err(CliError::Runtime(format!("{name}: no connections recorded; nothing to replay")));
    }
    match (args.serve, args.addr) {
        (Some(listen), _) => serve(&capture, &listen, args.timing, timeout),
        (None, Some(addr)) => {
            print_warnings(&capture);
            client(&capture, &addr, args.timing, timeout)
        }
        // clap requires one of ADDR, --serve and --wire.
        (None, None) => Err(CliError::Usage("replay needs ADDR, --serve LISTEN or --wire DIRECTION".into())),
    }
}

fn print_warnings(capture: &Capture) {
    for w in &capture.warnings {
        eprintln!("sockframe: {w}");
    }
}

/// `--wire`: one direction's frames as wire bytes.
fn wire(capture: &Capture, name: &str, dir: WireDir, conn: Option<u64>) -> Result<(), CliError> {
    let (dir, mut codec) = match dir {
        WireDir::C2s => (Dir::C2s, capture.client_codec.clone()),
        WireDir::S2c => (Dir::S2c, capture.server_codec.clone()),
    };
    if let Some(n) = conn {
        if !capture.conns().contains(&n) {
            return Err(CliError::Runtime(format!("{name}: no connection {n} recorded")));
        }
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut buf = bytes::BytesMut::new();
    for ev in &capture.events {
        if conn.is_some_and(|n| n != ev.conn) {
            continue;
        }
        if let EventKind::Frame { dir: d, payload, .. } = &ev.kind {
            if *d == dir {
                codec.encode(payload, &mut buf).map_err(|e| {
                    CliError::Runtime(format!("{name} line {}: cannot frame with {codec}: {e}", ev.line))
                })?;
                if buf.len() >= 64 * 1024 {
                    out.write_all(&buf)?;
                    buf.clear();
                }
            }
        }
    }
    out.write_all(&buf)?;
    out.flush()?;
    Ok(())
}

/// What one connection's play did.
#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    sent: u64,
    matched: u64,
}

/// How one connection is played.
#[derive(Debug, Clone)]
struct Play {
    conn: u64,
    /// The direction we send; the other one we await.
    ours: Dir,
    /// Who is at the other end, for messages.
    peer: &'static str,
    timing: Timing,
    /// The instant that stands for recorded time `t0`.
    base: Instant,
    t0: f64,
    timeout: Duration,
}

impl Play {
    /// With `--timing original`, sleeps until recorded time `t`.
    fn wait_until(&self, t: f64) {
        if self.timing != Timing::Original {
            return;
        }
        let offset = Duration::try_from_secs_f64(t - self.t0).unwrap_or(Duration::ZERO);
        if let Some(at) = self.base.checked_add(offset) {
            let now = Instant::now();
            if at > now {
                thread::sleep(at - now);
            }
        }
    }

    fn expected(&self, dir: Dir, index: u64, payload: &[u8]) -> String {
        format!("conn {}: {} frame {index} (expected {})", self.conn, dir.as_str(), abbrev(payload))
    }

    /// Walks the connection's recorded events in order: sends ours, awaits
    /// and compares theirs.
    fn run(&self, framed: &mut Framed<Stream, Codec>, events: &[Event]) -> Result<Stats, String> {
        let mut stats = Stats::default();
        let theirs = match self.ours {
            Dir::C2s => Dir::S2c,
            Dir::S2c => Dir::C2s,
        };
        // Frames of theirs received so far, for an extra one's index.
        let mut received = 0u64;
        for ev in events {
            match &ev.kind {
                EventKind::Open { .. } => {}
                EventKind::Frame { dir, index, payload } if *dir == self.ours => {
                    self.wait_until(ev.t);
                    framed.send(payload).and_then(|()| framed.flush()).map_err(|e| {
                        format!("conn {}: sending {} frame {index}: {e}", self.conn, dir.as_str())
                    })?;
                    stats.sent += 1;
                }
                EventKind::Frame { dir, index, payload } => {
                    let what = self.expected(*dir, *index, payload);
                    match framed.recv() {
                        Ok(Some(got)) if got[..] == payload[..] => stats.matched += 1,
                        Ok(Some(got)) => {
                            return Err(format!(
                                "conn {}: {} frame {index} differs: expected {}, got {}",
                                self.conn,
                                dir.as_str(),
                                abbrev(payload),
                                abbrev(&got)
                            ))
                        }
                        Ok(None) => return Err(format!("{what}: the {} closed the connection", self.peer)),
                        Err(e) => return Err(self.recv_error(&what, &e)),
                    }
                    received += 1;
                }
                EventKind::Close { dir } if *dir == self.ours => {
                    self.wait_until(ev.t);
                    framed
                        .close_write()
                        .map_err(|e| format!("conn {}: closing our sending side: {e}", self.conn))?;
                }
                EventKind::Close { dir } => {
                    // They finished sending: nothing more may arrive.
                    let what =
                        format!("conn {}: the {}'s close (end of {})", self.conn, self.peer, dir.as_str());
                    match framed.recv() {
                        Ok(None) => {}
                        Ok(Some(got)) => {
                            return Err(format!(
                                "conn {}: extra {} frame {received} before the recorded close: got {}",
                                self.conn,
                                theirs.as_str(),
                                abbrev(&got)
                            ))
                        }
                        Err(e) => return Err(self.recv_error(&what, &e)),
                    }
                }
                // The recorded connection ended there; so does its replay.
                EventKind::Error { .. } => break,
            }
        }
        Ok(stats)
    }

    fn recv_error(&self, what: &str, e: &TransportError) -> String {
        match e {
            TransportError::Timeout { .. } => {
                format!("timed out after {}s waiting for {what}", self.timeout.as_secs_f64())
            }
            e => format!("waiting for {what}: {e}"),
        }
    }
}

/// A payload in hex with its length; the first 32 bytes of a longer one.
fn abbrev(payload: &[u8]) -> String {
    let len = plural(payload.len() as u64, "byte", "bytes");
    match payload.get(..32) {
        Some(head) if payload.len() > 32 => format!("{}... ({len})", hex(head)),
        _ => format!("{} ({len})", hex(payload)),
    }
}

fn framed(stream: Stream, codec: Codec, timeout: Duration) -> Result<Framed<Stream, Codec>, String> {
    // The socket timeouts bound each wait; the transport's own deadlines
    // would count the recorded gaps of `--timing original` as silence.
    stream.set_timeouts(Some(timeout)).map_err(|e| e.to_string())?;
    let forever = Duration::from_secs(u64::MAX / 4);
    let config = FramedConfig::new().frame_deadline(forever).idle_timeout(forever);
    Framed::with_config(stream, codec, config).map_err(|e| e.to_string())
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

type Results = mpsc::Receiver<(u64, Result<Stats, String>)>;

/// Plays one connection on a thread of its own; its result goes to `tx`.
fn spawn(
    conn: u64,
    tx: &mpsc::Sender<(u64, Result<Stats, String>)>,
    f: impl FnOnce() -> Result<Stats, String> + Send + 'static,
) -> Result<(), CliError> {
    let tx = tx.clone();
    thread::Builder::new()
        .name(format!("conn {conn}"))
        .stack_size(256 * 1024)
        .spawn(move || {
            let _ = tx.send((conn, f()));
        })
        .map(drop)
        .map_err(|e| CliError::Runtime(format!("conn {conn}: cannot start a thread: {e}")))
}

/// Waits for `expected` connections' results; every failure on stderr, the
/// last one (in connection order) as the error.
fn finish(results: &Results, expected: usize) -> Result<Stats, CliError> {
    let mut total = Stats::default();
    let mut failures: Vec<(u64, String)> = Vec::new();
    for _ in 0..expected {
        match results.recv() {
            Ok((_, Ok(s))) => {
                total.sent += s.sent;
                total.matched += s.matched;
            }
            Ok((conn, Err(e))) => failures.push((conn, e)),
            // Every sender is gone with results missing: a player died.
            Err(_) => failures.push((u64::MAX, "a connection's player stopped without a result".into())),
        }
        if failures.last().is_some_and(|(conn, _)| *conn == u64::MAX) {
            break;
        }
    }
    failures.sort_by_key(|(conn, _)| *conn);
    match failures.pop() {
        Some((_, last)) => {
            for (_, e) in failures {
                eprintln!("sockframe: {e}");
            }
            Err(CliError::Runtime(last))
        }
        None => Ok(total),
    }
}

/// Plays the client side: one thread per recorded connection.
fn client(capture: &Capture, addr: &Addr, timing: Timing, timeout: Duration) -> Result<(), CliError> {
    let conns = capture.by_conn();
    let (base, t0) = (Instant::now(), capture.start());
    let (tx, rx) = mpsc::channel();
    for (conn, events) in conns.iter().cloned() {
        let play = Play { conn, ours: Dir::C2s, peer: "server", timing, base, t0, timeout };
        let codec = capture.client_codec.clone();
        let addr = addr.clone();
        spawn(conn, &tx, move || {
            if let Some(first) = events.first() {
                play.wait_until(first.t);
            }
            let stream = addr.connect(timeout).map_err(|e| format!("conn {conn}: {e}"))?;
            let mut framed = framed(stream, codec, timeout).map_err(|e| format!("conn {conn}: {e}"))?;
            play.run(&mut framed, &events)
        })?;
    }
    drop(tx);
    let total = finish(&rx, conns.len())?;
    println!(
        "replayed {}: {} sent, {} matched",
        plural(conns.len() as u64, "connection", "connections"),
        plural(total.sent, "frame", "frames"),
        plural(total.matched, "reply", "replies")
    );
    Ok(())
}

/// The accepted non-blocking stream as a blocking one.
fn blocking(stream: MioStream) -> io::Result<Stream> {
    match stream {
        MioStream::Tcp(s) => {
            let s = std::net::TcpStream::from(s);
            s.set_nonblocking(false)?;
            Ok(Stream::Tcp(s))
        }
        MioStream::Unix(s) => {
            let s = std::os::unix::net::UnixStream::from(s);
            s.set_nonblocking(false)?;
            Ok(Stream::Unix(s))
        }
    }
}

/// Plays the server side: the k-th accepted connection plays recorded
/// connection k.
fn serve(capture: &Capture, listen: &Addr, timing: Timing, timeout: Duration) -> Result<(), CliError> {
    let conns = capture.by_conn();
    let mut listener = listen.listen()?;
    eprintln!("sockframe: listening on {}", listener.local_addr());
    print_warnings(capture);
    let mut poll = mio::Poll::new()?;
    poll.registry().register(&mut listener, mio::Token(0), mio::Interest::READABLE)?;
    let mut ready = mio::Events::with_capacity(16);
    let (tx, rx) = mpsc::channel();
    let mut pending = conns.iter().cloned();
    let mut next = pending.next();
    // Connections that finished while others were still to connect.
    let (mut early, mut total) = (0usize, Stats::default());
    while let Some((conn, events)) = next.take() {
        match listener.accept() {
            Ok((stream, _peer)) => {
                let t0 = events.first().map_or(0.0, |e| e.t);
                let play =
                    Play { conn, ours: Dir::S2c, peer: "client", timing, base: Instant::now(), t0, timeout };
                let codec = capture.server_codec.clone();
                spawn(conn, &tx, move || {
                    let stream = blocking(stream).map_err(|e| format!("conn {conn}: {e}"))?;
                    let mut framed =
                        framed(stream, codec, timeout).map_err(|e| format!("conn {conn}: {e}"))?;
                    play.run(&mut framed, &events)
                })?;
                next = pending.next();
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // A connection that failed ends the run even while others
                // have yet to connect.
                while let Ok((_, done)) = rx.try_recv() {
                    let s = done.map_err(CliError::Runtime)?;
                    total.sent += s.sent;
                    total.matched += s.matched;
                    early += 1;
                }
                match poll.poll(&mut ready, Some(Duration::from_millis(100))) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // A client that gave up before we accepted it, and the like:
            // not the fault of the next one.
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
            Err(e) => return Err(CliError::Runtime(format!("accept on {listen}: {e}"))),
        }
        // Not accepted yet: still the next one to play.
        next = Some((conn, events));
    }
    drop(tx);
    let rest = finish(&rx, conns.len() - early)?;
    println!(
        "served {}: {} sent, {} matched",
        plural(conns.len() as u64, "connection", "connections"),
        plural(total.sent + rest.sent, "frame", "frames"),
        plural(total.matched + rest.matched, "frame", "frames")
    );
    Ok(())
}

//! `sockframe relay LISTEN UPSTREAM`: sit between clients and a server, see
//! every frame both ways, re-frame between two framings, record the
//! conversation.
//!
//! Each accepted client gets its own upstream connection (a *pair*); both
//! are served by the one event loop `listen` uses (`event_loop::serve`).
//! A frame read from one side is printed, recorded, and sent on the other
//! side straight from the receive buffer, encoded with that side's codec: a
//! large frame goes out in a vectored write without being copied, small
//! ones are queued and written once per readiness event. When the other side's send queue is full the frame waits
//! (the only copy) and reading from this side pauses until it drains: a slow
//! side holds the other back, and memory per pair stays bounded by the two
//! receive caps and send caps. A half-close is passed on in the same
//! direction once everything before it is out. A decode error, a reset or a
//! deadline on either side ends that pair (one line on stderr, both
//! connections closed); an upstream that cannot be reached closes the client
//! and says why. Everyone else is served on.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Args;
use mio::event::Event;
use mio::{Interest, Token};
use sockframe::{Codec, Framed, FramedConfig, Recv, TransportError};

use crate::addr::{Addr, MioStream};
use crate::capture::{Dir, Recorder};
use crate::error::seconds;
use crate::event_loop::{self, watch_writable, Ctx, Handler};
use crate::io_format::{self, Format};
use crate::CliError;

/// Queued bytes on one side that trigger a write within one event.
const WRITE_BATCH: usize = 64 * 1024;

#[derive(Debug, Args)]
pub(crate) struct RelayArgs {
    /// Where clients connect: HOST:PORT, [::1]:PORT or unix:PATH.
    listen: Addr,
    /// The server each client is relayed to: HOST:PORT, [::1]:PORT or unix:PATH.
    upstream: Addr,
    /// Framing on both sides (see `listen --help`); `raw` on both sides makes
    /// a plain proxy that logs chunks.
    #[arg(long, short = 'c', default_value = "len", value_name = "SPEC")]
    codec: Codec,
    /// Framing between the clients and the relay (default: --codec).
    #[arg(long, value_name = "SPEC")]
    client_codec: Option<Codec>,
    /// Framing between the relay and the server (default: --codec).
    #[arg(long, value_name = "SPEC")]
    server_codec: Option<Codec>,
    /// How to print frames.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Forward without printing.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Record every frame to FILE (a capture for `sockframe replay`).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Seconds a frame may take to arrive once its first byte has.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    frame_timeout: f64,
    /// Seconds a connection may stay silent between frames.
    #[arg(long, value_name = "SECS", default_value_t = 300.0)]
    idle_timeout: f64,
    /// Seconds the upstream connect may take.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    connect_timeout: f64,
    /// Most concurrent clients; further ones are closed at once.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_clients: usize,
}

/// One connection of a pair.
struct Side {
    framed: Framed<MioStream, Codec>,
    token: Token,
    /// WRITABLE interest is registered.
    writable: bool,
    /// This side has finished sending to us.
    read_done: bool,
    /// We have passed the other side's end on (shut our writing down).
    write_done: bool,
    /// Frames for this side that its send queue had no room for.
    backlog: VecDeque<Bytes>,
    /// Frames read from this side so far (the index printed and recorded).
    frames: u64,
}

impl Side {
    fn new(framed: Framed<MioStream, Codec>, token: Token) -> Self {
        Side {
            framed,
            token,
            writable: false,
            read_done: false,
            write_done: false,
            backlog: VecDeque::new(),
            frames: 0,
        }
    }

    fn wants_write(&self) -> bool {
        self.framed.wants_write() || !self.backlog.is_empty()
    }

    /// Moves waiting frames into the send queue; `true` if none is left.
    fn drain_backlog(&mut self) -> Result<bool, TransportError> {
        while let Some(frame) = self.backlog.front() {
            match self.framed.queue(frame) {
                Ok(()) => {
                    self.backlog.pop_front();
                }
                Err(TransportError::Full { .. }) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// A client and its upstream connection.
struct Pair {
    id: u64,
    peer: String,
    client: Side,
    server: Side,
    /// The upstream connect has completed.
    connected: bool,
    /// When the upstream connect gives up.
    connect_by: Instant,
}

/// Where printed and recorded frames go.
struct Log {
    out: BufWriter<io::StdoutLock<'static>>,
    format: Format,
    quiet: bool,
    start: Instant,
    recorder: Option<Recorder>,
}

impl Log {
    fn frame(&mut self, id: u64, dir: Dir, index: u64, payload: &[u8]) -> io::Result<()> {
        if !self.quiet {
            let t = self.start.elapsed().as_secs_f64();
            io_format::print_relayed(&mut self.out, self.format, t, id, dir.as_str(), index, payload)?;
        }
        if let Some(r) = &mut self.recorder {
            r.frame(id, dir, payload)?;
        }
        Ok(())
    }
}

/// Reads frames from `from` until it would block, queueing each on `to`.
/// Stops reading while `to` has frames waiting. Passes `from`'s end on to
/// `to` once everything before it is queued and written.
fn pump(
    from: &mut Side,
    to: &mut Side,
    to_live: bool,
    id: u64,
    dir: Dir,
    log: &mut Log,
) -> Result<(), TransportError> {
    loop {
        if !to.drain_backlog()? {
            if to_live && to.framed.try_flush()? {
                continue;
            }
            return Ok(());
        }
        if from.read_done {
            break;
        }
        let Side { framed, frames, .. } = from;
        let got = framed.try_recv_with(|payload| -> Result<(), TransportError> {
            log.frame(id, dir, *frames, payload)?;
            *frames += 1;
            // A large frame goes out at once, straight from this side's
            // receive buffer; small ones are queued for one write per event.
            let sent = if to_live { to.framed.try_send(payload) } else { to.framed.queue(payload) };
            match sent {
                Ok(()) => Ok(()),
                Err(TransportError::Full { .. }) => {
                    to.backlog.push_back(Bytes::copy_from_slice(payload));
                    Ok(())
                }
                Err(e) => Err(e),
            }
        })?;
        match got {
            Recv::Frame(queued) => queued?,
            Recv::WouldBlock => break,
            Recv::End => {
                from.read_done = true;
                if let Some(r) = &mut log.recorder {
                    r.close(id, dir)?;
                }
            }
        }
        if to_live && to.framed.pending_send_bytes() >= WRITE_BATCH {
            to.framed.try_flush()?;
        }
    }
    if to_live {
        to.framed.try_flush()?;
        if from.read_done && !to.wants_write() && !to.write_done {
            // BAD_INPUTS X22: a half-close goes on in the same direction.
            to.framed.close_write()?;
            to.write_done = true;
        }
    }
    Ok(())
}

enum Next {
    Keep,
    Close,
}

struct Relay {
    upstream: Addr,
    client_codec: Codec,
    server_codec: Codec,
    config: FramedConfig,
    connect_timeout: Duration,
    log: Log,
    pairs: HashMap<u64, Pair>,
    /// Token -> pair id.
    tokens: HashMap<Token, u64>,
    next_id: u64,
}

impl Relay {
    fn drive(&mut self, ctx: &mut Ctx<'_>, id: u64, event: Option<&Event>) -> Result<Next, String> {
        let Some(pair) = self.pairs.get_mut(&id) else { return Ok(Next::Close) };
        if !pair.connected {
            let on_server = event.is_some_and(|e| e.token() == pair.server.token);
            if on_server {
                let stream = pair.server.framed.get_ref();
                match stream.take_error() {
                    Ok(Some(e)) | Err(e) => return Err(format!("upstream {}: {e}", self.upstream)),
                    Ok(None) if stream.is_connected() => {
                        pair.connected = true;
                        let _ = stream.set_nodelay();
                    }
                    Ok(None) => {}
                }
            }
        }
        let log = &mut self.log;
        let live = pair.connected;
        let c2s = pump(&mut pair.client, &mut pair.server, live, id, Dir::C2s, log);
        c2s.map_err(|e| format!("client -> server: {e}"))?;
        if live {
            let s2c = pump(&mut pair.server, &mut pair.client, true, id, Dir::S2c, log);
            s2c.map_err(|e| format!("server -> client: {e}"))?;
        }
        let registry = ctx.registry;
        // The upstream stays WRITABLE until its connect completes.
        for (side, connecting) in [(&mut pair.client, false), (&mut pair.server, !live)] {
            let want = side.wants_write() || connecting;
            watch_writable(registry, side.framed.get_mut(), side.token, &mut side.writable, want)
                .map_err(|e| e.to_string())?;
        }
        let done = |s: &Side| s.read_done && !s.wants_write();
        if live
            && done(&pair.client)
            && done(&pair.server)
            && pair.client.write_done
            && pair.server.write_done
        {
            return Ok(Next::Close);
        }
        ctx.deadline(pair.client.framed.next_deadline());
        ctx.deadline(pair.server.framed.next_deadline());
        if !live {
            ctx.deadline(Some(pair.connect_by));
        }
        Ok(Next::Keep)
    }

    fn close(&mut self, ctx: &mut Ctx<'_>, id: u64) {
        if let Some(mut pair) = self.pairs.remove(&id) {
            for side in [&mut pair.client, &mut pair.server] {
                self.tokens.remove(&side.token);
                let _ = ctx.registry.deregister(side.framed.get_mut());
            }
        }
        // As `listen` does: the tables go when the last pair has gone.
        if self.pairs.is_empty() && self.pairs.capacity() > 0 {
            self.pairs = HashMap::new();
            self.tokens = HashMap::new();
        }
    }

    fn fail(&mut self, ctx: &mut Ctx<'_>, id: u64, why: &str) {
        if let Some(pair) = self.pairs.get(&id) {
            eprintln!("sockframe: connection {} ({}): {why}; closing both sides", pair.id, pair.peer);
            if let Some(r) = &mut self.log.recorder {
                let _ = r.error(id, why);
            }
        }
        self.close(ctx, id);
    }
}

impl Handler for Relay {
    fn accept(&mut self, ctx: &mut Ctx<'_>, mut stream: MioStream, peer: String) {
        let id = self.next_id;
        self.next_id += 1;
        let (client_token, server_token) = (ctx.token(), ctx.token());
        let mut upstream = match self.upstream.connect_nonblocking() {
            Ok(s) => s,
            Err(e) => {
                // The client is dropped (closed) here: say why.
                eprintln!(
                    "sockframe: connection {id} ({peer}): upstream {}: {e}; closing the client",
                    self.upstream
                );
                return;
            }
        };
        let registered =
            ctx.registry.register(&mut stream, client_token, Interest::READABLE).and_then(|()| {
                ctx.registry.register(&mut upstream, server_token, Interest::READABLE | Interest::WRITABLE)
            });
        if let Err(e) = registered {
            eprintln!("sockframe: connection {id} ({peer}): register: {e}");
            return;
        }
        let framed = |s, codec: &Codec| Framed::with_config(s, codec.clone(), self.config);
        let (client, server) =
            match (framed(stream, &self.client_codec), framed(upstream, &self.server_codec)) {
                (Ok(c), Ok(s)) => (c, s),
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("sockframe: {e}");
                    return;
                }
            };
        if let Some(r) = &mut self.log.recorder {
            let _ = r.open(id, &peer);
        }
        let mut server = Side::new(server, server_token);
        server.writable = true;
        let pair = Pair {
            id,
            peer,
            client: Side::new(client, client_token),
            server,
            connected: false,
            connect_by: Instant::now() + self.connect_timeout,
        };
        ctx.deadline(Some(pair.connect_by));
        self.tokens.insert(client_token, id);
        self.tokens.insert(server_token, id);
        self.pairs.insert(id, pair);
    }

    fn ready(&mut self, ctx: &mut Ctx<'_>, event: &Event) {
        let Some(&id) = self.tokens.get(&event.token()) else { return };
        match self.drive(ctx, id, Some(event)) {
            Ok(Next::Keep) => {}
            Ok(Next::Close) => self.close(ctx, id),
            Err(why) => self.fail(ctx, id, &why),
        }
    }

    fn expire(&mut self, ctx: &mut Ctx<'_>, now: Instant) -> Option<Instant> {
        let mut expired = Vec::new();
        let mut next: Option<Instant> = None;
        let mut earliest = |d: Option<Instant>| {
            if let Some(d) = d {
                next = Some(next.map_or(d, |n: Instant| n.min(d)));
            }
        };
        for (id, p) in &self.pairs {
            if !p.connected && now >= p.connect_by {
                expired.push((*id, format!("upstream {}: connect timed out", self.upstream)));
                continue;
            }
            let checks = [
                ("client", p.client.framed.check_deadlines_at(now)),
                ("server", p.server.framed.check_deadlines_at(now)),
            ];
            match checks.into_iter().find_map(|(side, r)| r.err().map(|e| (side, e))) {
                Some((side, e)) => expired.push((*id, format!("{side}: {e}"))),
                None => {
                    earliest(p.client.framed.next_deadline());
                    earliest(p.server.framed.next_deadline());
                    if !p.connected {
                        earliest(Some(p.connect_by));
                    }
                }
            }
        }
        for (id, why) in expired {
            self.fail(ctx, id, &why);
        }
        next
    }

    fn clients(&self) -> usize {
        self.pairs.len()
    }

    fn turn_done(&mut self) -> io::Result<()> {
        self.log.out.flush()
    }

    fn finished(&mut self, _now: Instant) -> Option<Option<Instant>> {
        Some(None)
    }
}

pub(crate) fn run(args: RelayArgs) -> Result<(), CliError> {
    let client_codec = args.client_codec.unwrap_or_else(|| args.codec.clone());
    let server_codec = args.server_codec.unwrap_or_else(|| args.codec.clone());
    let config = FramedConfig::new()
        .recv_initial(4096)
        .write_batch(WRITE_BATCH)
        .frame_deadline(seconds(args.frame_timeout, "--frame-timeout")?)
        .idle_timeout(seconds(args.idle_timeout, "--idle-timeout")?)
        .build()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let recorder = match &args.record {
        Some(path) => Some(Recorder::create(path, &client_codec, &server_codec, "relay")?),
        None => None,
    };
    let log = Log {
        out: BufWriter::new(io::stdout().lock()),
        format: args.format,
        quiet: args.quiet,
        start: Instant::now(),
        recorder,
    };
    let mut relay = Relay {
        upstream: args.upstream,
        client_codec,
        server_codec,
        config,
        connect_timeout: seconds(args.connect_timeout, "--connect-timeout")?,
        log,
        pairs: HashMap::new(),
        tokens: HashMap::new(),
        next_id: 1,
    };
    event_loop::serve(&args.listen, args.max_clients, &mut relay)
}

//! The one readiness-driven, non-blocking event loop (mio) behind `listen`
//! and `relay`: [`serve`] accepts clients and hands every readiness event to
//! a [`Handler`] (`listen`'s [`Echo`] here, `relay`'s in `cmd/relay.rs`). The
//! loop sleeps until the earliest deadline any connection has
//! (`Framed::next_deadline`), not on a timer, and handlers register WRITABLE
//! interest only while bytes wait to be written (`Framed::wants_write`).
//!
//! `listen`:
//! Per connection: a [`Framed`] over the non-blocking stream. Readable or
//! writable, a connection is *driven*: frames are read until the socket
//! would block, each is printed and its reply queued straight from the
//! receive buffer (`try_recv_reply`), and the queue is written out once per
//! event, so pipelined frames cost a fraction of a write each (and once
//! `write_batch` bytes are queued, so the queue stays small). WRITABLE
//! interest is registered only while replies wait. A connection whose replies
//! cannot be queued (its peer does not read) stops being read until they
//! drain, so memory stays bounded by the send cap.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mio::event::Event;
use mio::{Events, Interest, Poll, Registry, Token};
use sockframe::{Codec, Framed, FramedConfig, Recv, Replies, TransportError};

use crate::addr::{Addr, Listener, MioStream};
use crate::capture::{Dir, Recorder};
use crate::io_format::{self, Format};
use crate::CliError;

const LISTENER: Token = Token(0);
/// Queued reply bytes that trigger a write within one readiness event.
const LISTEN_WRITE_BATCH: usize = 8 * 1024;
/// How long, after `--count` is reached, replies may take to go out.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// What `listen` does with frames.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) codec: Codec,
    pub(crate) format: Format,
    pub(crate) echo: bool,
    pub(crate) reply: Option<Vec<u8>>,
    pub(crate) count: Option<u64>,
    pub(crate) frame_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_clients: usize,
    pub(crate) quiet: bool,
    pub(crate) record: Option<PathBuf>,
}

struct Conn<S = MioStream> {
    id: u64,
    peer: String,
    framed: Framed<S, Codec>,
    /// Replies the send queue had no room for; reading pauses while any wait.
    backlog: VecDeque<Bytes>,
    /// The peer has finished sending.
    read_done: bool,
    /// WRITABLE interest is registered (only while replies wait).
    writable: bool,
}

enum Next {
    Keep,
    Close,
}

struct Server<'a, W: Write> {
    opts: &'a Options,
    out: W,
    frames: u64,
    stopping: bool,
    recorder: Option<Recorder>,
}

impl<W: Write> Server<'_, W> {
    fn limit_reached(&self) -> bool {
        self.opts.count.is_some_and(|n| self.frames >= n)
    }

    /// Reads frames until the socket would block, queueing each reply; writes
    /// the queue out once at the end (and whenever `write_batch` bytes are
    /// queued). Replies that did not fit wait in the backlog, and reading
    /// pauses until a writable event lets them out.
    fn drive<S: Read + Write>(&mut self, conn: &mut Conn<S>) -> Result<Next, TransportError> {
        let batch = conn.framed.config().get_write_batch();
        loop {
            while let Some(reply) = conn.backlog.front() {
                match conn.framed.queue(reply) {
                    Ok(()) => {
                        conn.backlog.pop_front();
                    }
                    Err(TransportError::Full { .. }) => break,
                    Err(e) => return Err(e),
                }
            }
            if !conn.backlog.is_empty() {
                // Wait for the peer to read (a writable event drives us again).
                if conn.framed.try_flush()? {
                    continue;
                }
                break;
            }
            if conn.read_done || self.stopping {
                break;
            }
            let Conn { framed, backlog, id, peer, .. } = conn;
            match framed
                .try_recv_reply(|payload, replies| self.on_frame(*id, peer, payload, replies, backlog))?
            {
                Recv::Frame(answered) => answered?,
                Recv::WouldBlock => break,
                Recv::End => {
                    conn.read_done = true;
                    if let Some(r) = &mut self.recorder {
                        r.close(conn.id, Dir::C2s)?;
                    }
                }
            }
            if conn.framed.pending_send_bytes() >= batch {
                conn.framed.try_flush()?;
            }
        }
        conn.framed.try_flush()?;
        if conn.read_done && !conn.framed.wants_write() && conn.backlog.is_empty() {
            return Ok(Next::Close);
        }
        Ok(Next::Keep)
    }

    /// Prints a frame and queues its answers; an answer the send queue has no
    /// room for waits in `backlog`.
    fn on_frame(
        &mut self,
        id: u64,
        peer: &str,
        payload: &[u8],
        replies: &mut Replies<'_, Codec>,
        backlog: &mut VecDeque<Bytes>,
    ) -> Result<(), TransportError> {
        self.frames += 1;
        if !self.opts.quiet {
            io_format::print_frame(&mut self.out, self.opts.format, payload, Some((id, peer)))?;
        }
        let answers = [self.opts.echo.then_some(payload), self.opts.reply.as_deref()];
        if let Some(r) = &mut self.recorder {
            r.frame(id, Dir::C2s, payload)?;
            for answer in answers.into_iter().flatten() {
                r.frame(id, Dir::S2c, answer)?;
            }
        }
        for answer in answers.into_iter().flatten() {
            if !backlog.is_empty() {
                backlog.push_back(Bytes::copy_from_slice(answer));
                continue;
            }
            // Large answers go out at once from the receive buffer; small
            // ones are queued for one write per readiness event.
            match replies.send(answer) {
                Ok(()) => {}
                Err(TransportError::Full { .. }) => backlog.push_back(Bytes::copy_from_slice(answer)),
                Err(e) => return Err(e),
            }
        }
        if self.limit_reached() {
            self.stopping = true;
        }
        Ok(())
    }
}

/// What the loop asks of a service (`listen`'s echo, `relay`'s pairs).
pub(crate) trait Handler {
    /// Takes a newly accepted client: registers it with `ctx`.
    fn accept(&mut self, ctx: &mut Ctx<'_>, stream: MioStream, peer: String);
    /// A readiness event for one of the handler's tokens.
    fn ready(&mut self, ctx: &mut Ctx<'_>, event: &Event);
    /// Closes every connection whose deadline has passed at `now`; returns
    /// the earliest deadline left.
    fn expire(&mut self, ctx: &mut Ctx<'_>, now: Instant) -> Option<Instant>;
    /// Clients being served (for `--max-clients`).
    fn clients(&self) -> usize;
    /// Called once per loop turn, after the events: flush printed output.
    ///
    /// # Errors
    /// Writing the output.
    fn turn_done(&mut self) -> io::Result<()>;
    /// `Some(wake)`: keep going, and wake by `wake` at the latest (a grace
    /// period); `None` from `finished` ends the loop.
    fn finished(&mut self, now: Instant) -> Option<Option<Instant>>;
}

/// What a handler gets to work with: the registry, token allocation, and the
/// loop's next wake-up, which it lowers when a connection's deadline moves
/// earlier.
pub(crate) struct Ctx<'a> {
    pub(crate) registry: &'a Registry,
    next_token: usize,
    wake: Option<Instant>,
}

impl Ctx<'_> {
    /// A fresh token.
    pub(crate) fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }

    /// Makes sure the loop wakes by `deadline`.
    pub(crate) fn deadline(&mut self, deadline: Option<Instant>) {
        if let Some(d) = deadline {
            self.wake = Some(self.wake.map_or(d, |w| w.min(d)));
        }
    }
}

/// Registers WRITABLE interest exactly while `want` holds; `registered` is
/// what is registered now.
pub(crate) fn watch_writable(
    registry: &Registry,
    stream: &mut MioStream,
    token: Token,
    registered: &mut bool,
    want: bool,
) -> io::Result<()> {
    if want != *registered {
        let interest = if want { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
        registry.reregister(stream, token, interest)?;
        *registered = want;
    }
    Ok(())
}

/// Binds `addr`, prints the bound address, and runs `handler` until it says
/// it has finished.
pub(crate) fn serve(addr: &Addr, max_clients: usize, handler: &mut impl Handler) -> Result<(), CliError> {
    let mut listener = addr.listen()?;
    let mut poll = Poll::new()?;
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
    // Tests and scripts read the bound address (port 0 gets a real one).
    eprintln!("sockframe: listening on {}", listener.local_addr());
    let mut events = Events::with_capacity(1024);
    let mut next_token = 0;
    let mut wake: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let timeout = wake.map(|w| w.saturating_duration_since(now));
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e.into());
            }
        }
        let mut ctx = Ctx { registry: poll.registry(), next_token, wake };
        for event in events.iter() {
            if event.token() == LISTENER {
                accept_all(&listener, &mut ctx, max_clients, handler);
            } else {
                handler.ready(&mut ctx, event);
            }
        }
        handler.turn_done()?;
        let now = Instant::now();
        if ctx.wake.is_some_and(|w| w <= now) {
            ctx.wake = handler.expire(&mut ctx, now);
        }
        match handler.finished(now) {
            None => return Ok(()),
            Some(grace) => ctx.deadline(grace),
        }
        next_token = ctx.next_token;
        wake = ctx.wake;
    }
}

fn accept_all(listener: &Listener, ctx: &mut Ctx<'_>, max_clients: usize, handler: &mut impl Handler) {
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // EMFILE and friends: say so, keep serving the others.
                eprintln!("sockframe: accept: {e}");
                return;
            }
        };
        if handler.clients() >= max_clients {
            eprintln!("sockframe: {peer}: refused, --max-clients {max_clients} reached");
            continue;
        }
        handler.accept(ctx, stream, peer);
    }
}

/// `listen`: prints every frame, answers it (`--echo`, `--reply`), stops after
/// `--count` frames once their replies are out.
struct Echo<'a> {
    server: Server<'a, BufWriter<io::StdoutLock<'static>>>,
    config: FramedConfig,
    conns: HashMap<Token, Conn>,
    next_id: u64,
    stop_at: Option<Instant>,
}

impl Echo<'_> {
    fn close(&mut self, ctx: &mut Ctx<'_>, token: Token) {
        if let Some(mut conn) = self.conns.remove(&token) {
            let _ = ctx.registry.deregister(conn.framed.get_mut());
        }
        // Give the table back when the last connection has gone (it holds
        // every connection's state inline). Not before: a smaller table
        // allocated while connections close lands at the top of the heap,
        // and one live block there keeps the allocator from returning all
        // the freed memory below it.
        if self.conns.is_empty() && self.conns.capacity() > 0 {
            self.conns = HashMap::new();
        }
    }

    fn fail(&mut self, ctx: &mut Ctx<'_>, token: Token, e: &TransportError) {
        if let Some(conn) = self.conns.get(&token) {
            report(conn, e);
            if let Some(r) = &mut self.server.recorder {
                let _ = r.error(conn.id, &e.to_string());
            }
        }
        self.close(ctx, token);
    }
}

impl Handler for Echo<'_> {
    fn accept(&mut self, ctx: &mut Ctx<'_>, mut stream: MioStream, peer: String) {
        let token = ctx.token();
        if let Err(e) = ctx.registry.register(&mut stream, token, Interest::READABLE) {
            eprintln!("sockframe: {peer}: register: {e}");
            return;
        }
        let framed = match Framed::with_config(stream, self.server.opts.codec.clone(), self.config) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("sockframe: {e}");
                return;
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        if let Some(r) = &mut self.server.recorder {
            let _ = r.open(id, &peer);
        }
        ctx.deadline(framed.next_deadline());
        self.conns.insert(
            token,
            Conn { id, peer, framed, backlog: VecDeque::new(), read_done: false, writable: false },
        );
    }

    fn ready(&mut self, ctx: &mut Ctx<'_>, event: &Event) {
        let token = event.token();
        let Some(conn) = self.conns.get_mut(&token) else { return };
        let result = self.server.drive(conn).and_then(|next| {
            let want = conn.framed.wants_write() || !conn.backlog.is_empty();
            watch_writable(ctx.registry, conn.framed.get_mut(), token, &mut conn.writable, want)?;
            Ok(next)
        });
        match result {
            Ok(Next::Keep) => ctx.deadline(conn.framed.next_deadline()),
            Ok(Next::Close) => self.close(ctx, token),
            Err(e) => self.fail(ctx, token, &e),
        }
    }

    fn expire(&mut self, ctx: &mut Ctx<'_>, now: Instant) -> Option<Instant> {
        let mut expired = Vec::new();
        let mut next: Option<Instant> = None;
        for (t, c) in &self.conns {
            match c.framed.check_deadlines_at(now) {
                Err(e) => expired.push((*t, e)),
                Ok(()) => {
                    if let Some(d) = c.framed.next_deadline() {
                        next = Some(next.map_or(d, |n| n.min(d)));
                    }
                }
            }
        }
        for (t, e) in expired {
            self.fail(ctx, t, &e);
        }
        next
    }

    fn clients(&self) -> usize {
        self.conns.len()
    }

    fn turn_done(&mut self) -> io::Result<()> {
        self.server.out.flush()
    }

    fn finished(&mut self, now: Instant) -> Option<Option<Instant>> {
        if !self.server.stopping {
            return Some(None);
        }
        let deadline = *self.stop_at.get_or_insert(now + DRAIN_GRACE);
        let pending = self.conns.values().any(|c| c.framed.wants_write() || !c.backlog.is_empty());
        if !pending || now >= deadline {
            return None;
        }
        Some(Some(deadline))
    }
}

/// Serves until `--count` frames have been received and answered (or forever).
pub(crate) fn run(addr: &Addr, opts: &Options) -> Result<(), CliError> {
    // Many connections, mostly small frames: start each receive buffer small
    // (it grows with a large frame and shrinks back afterwards), and write
    // replies out once 16 KiB are queued, so a connection holds little more
    // than a frame in each direction.
    let config = FramedConfig::new()
        .recv_initial(4096)
        .write_batch(LISTEN_WRITE_BATCH)
        .frame_deadline(opts.frame_timeout)
        .idle_timeout(opts.idle_timeout)
        .build()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let recorder = match &opts.record {
        Some(path) => Some(Recorder::create(path, &opts.codec, &opts.codec, "listen")?),
        None => None,
    };
    let out = BufWriter::new(io::stdout().lock());
    let server = Server { opts, out, frames: 0, stopping: false, recorder };
    let mut echo = Echo { server, config, conns: HashMap::new(), next_id: 1, stop_at: None };
    serve(addr, opts.max_clients, &mut echo)?;
    echo.server.out.flush()?;
    Ok(())
}

fn report<S>(conn: &Conn<S>, e: &TransportError) {
    eprintln!("sockframe: connection {} ({}): {e}", conn.id, conn.peer);
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use sockframe::fuzzing::{ScriptedIo, Step};
    use sockframe::Encoder;

    use super::*;

    fn options() -> Options {
        Options {
            codec: Codec::default(),
            format: Format::Text,
            echo: true,
            reply: None,
            count: None,
            frame_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(300),
            max_clients: 10,
            quiet: true,
            record: None,
        }
    }

    fn conn(io: ScriptedIo, config: FramedConfig) -> Conn<ScriptedIo> {
        let framed = Framed::with_config(io, Codec::default(), config).unwrap();
        Conn {
            id: 1,
            peer: "test".into(),
            framed,
            backlog: VecDeque::new(),
            read_done: false,
            writable: false,
        }
    }

    fn pipelined(frames: usize, size: usize) -> Vec<u8> {
        let mut wire = BytesMut::new();
        for i in 0..frames {
            Codec::default().encode(&vec![i as u8; size], &mut wire).unwrap();
        }
        wire.to_vec()
    }

    #[test]
    fn pipelined_frames_are_answered_with_far_fewer_writes_than_frames() {
        // 2,000 pipelined 64-byte frames arrive in 16 KiB reads within one
        // readiness event: every echo goes out, in order, in a handful of
        // writes (the goal: at most 0.05 writes per frame).
        let opts = options();
        let mut server = Server { opts: &opts, out: Vec::new(), frames: 0, stopping: false, recorder: None };
        let wire = pipelined(2000, 64);
        let mut io = ScriptedIo::new(wire.clone(), vec![Step::Ok(16 * 1024)], vec![Step::Ok(usize::MAX)]);
        io.end_with = Some(io::ErrorKind::WouldBlock); // the socket is drained, not closed
        let mut c = conn(io, FramedConfig::new().recv_initial(4096).write_batch(LISTEN_WRITE_BATCH));
        assert!(matches!(server.drive(&mut c), Ok(Next::Keep)));
        assert_eq!(server.frames, 2000);
        let io = c.framed.get_ref();
        assert!(io.written == wire, "echoes differ from the frames sent");
        assert!(io.write_calls * 20 <= 2000, "{} writes for 2000 frames", io.write_calls);
        assert!(!c.framed.wants_write());
    }

    #[test]
    fn a_peer_that_does_not_read_pauses_reading_and_loses_nothing() {
        // BAD_INPUTS E6 through the event loop: the socket takes nothing, so
        // replies fill the send cap, the rest wait in the backlog, reading
        // stops; once writes go through, everything is echoed in order.
        let opts = options();
        let mut server = Server { opts: &opts, out: Vec::new(), frames: 0, stopping: false, recorder: None };
        let wire = pipelined(300, 100);
        let mut io = ScriptedIo::new(wire.clone(), vec![Step::Ok(4096)], vec![Step::WouldBlock]);
        io.end_with = Some(io::ErrorKind::WouldBlock);
        let mut c = conn(io, FramedConfig::new().send_cap(2048).write_batch(1024));
        assert!(matches!(server.drive(&mut c), Ok(Next::Keep)));
        assert!(c.framed.pending_send_bytes() <= 2048 + 104, "queue {}", c.framed.pending_send_bytes());
        assert!(!c.backlog.is_empty(), "replies wait in the backlog");
        let read_so_far = c.framed.get_ref().input_pos;
        assert!(read_so_far < wire.len(), "reading paused");
        // The peer starts reading: each writable event drains and reads on.
        c.framed.get_mut().writes = vec![Step::Ok(usize::MAX)];
        for _ in 0..100 {
            server.drive(&mut c).unwrap();
            if c.framed.get_ref().written.len() == wire.len() {
                break;
            }
        }
        assert_eq!(server.frames, 300);
        assert!(c.framed.get_ref().written == wire, "echoes lost, duplicated or reordered");
    }
}

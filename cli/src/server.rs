//! `sockframe listen`: one readiness-driven, non-blocking event loop (mio)
//! serving any number of connections.
//!
//! Per connection: a [`Framed`] over the non-blocking stream. Readable or
//! writable, a connection is *driven*: queued replies are flushed, frames are
//! read until the socket would block, each is printed and answered. A
//! connection whose replies cannot be queued (its peer does not read) stops
//! being read until they drain, so memory stays bounded by the send cap.
//! Deadlines (a frame that takes too long, a silent connection) are swept
//! every 100 ms.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufWriter, Write};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mio::{Events, Interest, Poll, Token};
use sockframe::{Codec, Framed, FramedConfig, Recv, TransportError};

use crate::addr::{Addr, Listener, MioStream};
use crate::io_format::{self, Format};
use crate::CliError;

const LISTENER: Token = Token(0);
const SWEEP: Duration = Duration::from_millis(100);
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
}

struct Conn {
    id: u64,
    peer: String,
    framed: Framed<MioStream, Codec>,
    /// Replies the send queue had no room for; reading pauses while any wait.
    backlog: VecDeque<Bytes>,
    /// The peer has finished sending.
    read_done: bool,
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
}

impl<W: Write> Server<'_, W> {
    fn limit_reached(&self) -> bool {
        self.opts.count.is_some_and(|n| self.frames >= n)
    }

    /// Flushes, moves backlog into the send queue, reads frames until the
    /// socket would block, answers them.
    fn drive(&mut self, conn: &mut Conn) -> Result<Next, TransportError> {
        loop {
            conn.framed.try_flush()?;
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
                return Ok(Next::Keep);
            }
            if conn.read_done || self.stopping {
                break;
            }
            match conn.framed.try_recv()? {
                Recv::Frame(frame) => self.on_frame(conn, frame)?,
                Recv::WouldBlock => break,
                Recv::End => conn.read_done = true,
            }
        }
        conn.framed.try_flush()?;
        if conn.read_done && !conn.framed.wants_write() {
            return Ok(Next::Close);
        }
        Ok(Next::Keep)
    }

    fn on_frame(&mut self, conn: &mut Conn, frame: Bytes) -> Result<(), TransportError> {
        self.frames += 1;
        if !self.opts.quiet {
            io_format::print_frame(&mut self.out, self.opts.format, &frame, Some((conn.id, &conn.peer)))?;
        }
        if self.opts.echo {
            conn.backlog.push_back(frame);
        }
        if let Some(reply) = &self.opts.reply {
            conn.backlog.push_back(Bytes::copy_from_slice(reply));
        }
        if self.limit_reached() {
            self.stopping = true;
        }
        Ok(())
    }
}

/// Serves until `--count` frames have been received and answered (or forever).
pub(crate) fn run(addr: &Addr, opts: &Options) -> Result<(), CliError> {
    // Many connections, mostly small frames: start each receive buffer small
    // (it grows with a large frame and shrinks back afterwards).
    let config = FramedConfig::new()
        .recv_initial(4096)
        .frame_deadline(opts.frame_timeout)
        .idle_timeout(opts.idle_timeout)
        .build()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let mut listener = addr.listen()?;
    let mut poll = Poll::new()?;
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
    // Tests and scripts read the bound address (port 0 gets a real one).
    eprintln!("sockframe: listening on {}", listener.local_addr());

    let stdout = io::stdout();
    let mut server = Server { opts, out: BufWriter::new(stdout.lock()), frames: 0, stopping: false };
    let mut conns: HashMap<Token, Conn> = HashMap::new();
    let mut next_id: u64 = 1;
    let mut events = Events::with_capacity(1024);
    let mut next_sweep = Instant::now() + SWEEP;
    let mut stop_at: Option<Instant> = None;

    loop {
        let timeout = next_sweep.saturating_duration_since(Instant::now());
        if let Err(e) = poll.poll(&mut events, Some(timeout)) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e.into());
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                accept_all(&listener, &poll, &mut conns, &mut next_id, opts, config);
                continue;
            }
            let token = event.token();
            let Some(conn) = conns.get_mut(&token) else { continue };
            let next = match server.drive(conn) {
                Ok(next) => next,
                Err(e) => {
                    report(conn, &e);
                    Next::Close
                }
            };
            if let Next::Close = next {
                close(&poll, &mut conns, token);
            }
        }
        server.out.flush()?;

        let now = Instant::now();
        if now >= next_sweep {
            next_sweep = now + SWEEP;
            let expired: Vec<Token> = conns
                .iter()
                .filter_map(|(t, c)| c.framed.check_deadlines().err().map(|e| (t, c, e)))
                .map(|(t, c, e)| {
                    report(c, &e);
                    *t
                })
                .collect();
            for t in expired {
                close(&poll, &mut conns, t);
            }
        }

        if server.stopping {
            let deadline = *stop_at.get_or_insert(now + DRAIN_GRACE);
            let pending = conns.values().any(|c| c.framed.wants_write() || !c.backlog.is_empty());
            if !pending || now >= deadline {
                server.out.flush()?;
                return Ok(());
            }
        }
    }
}

fn accept_all(
    listener: &Listener,
    poll: &Poll,
    conns: &mut HashMap<Token, Conn>,
    next_id: &mut u64,
    opts: &Options,
    config: FramedConfig,
) {
    loop {
        let (mut stream, peer) = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // EMFILE and friends: say so, keep serving the others.
                eprintln!("sockframe: accept: {e}");
                return;
            }
        };
        if conns.len() >= opts.max_clients {
            eprintln!("sockframe: {peer}: refused, --max-clients {} reached", opts.max_clients);
            continue;
        }
        let id = *next_id;
        *next_id += 1;
        let token = Token(usize::try_from(id).unwrap_or(usize::MAX));
        if let Err(e) = poll.registry().register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
        {
            eprintln!("sockframe: {peer}: register: {e}");
            continue;
        }
        let framed = match Framed::with_config(stream, opts.codec.clone(), config) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("sockframe: {e}");
                continue;
            }
        };
        conns.insert(token, Conn { id, peer, framed, backlog: VecDeque::new(), read_done: false });
    }
}

fn report(conn: &Conn, e: &TransportError) {
    eprintln!("sockframe: connection {} ({}): {e}", conn.id, conn.peer);
}

fn close(poll: &Poll, conns: &mut HashMap<Token, Conn>, token: Token) {
    if let Some(mut conn) = conns.remove(&token) {
        let _ = poll.registry().deregister(conn.framed.get_mut());
    }
}

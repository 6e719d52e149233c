//! `sockframe listen`: one readiness-driven, non-blocking event loop (mio)
//! serving any number of connections.
//!
//! Per connection: a [`Framed`] over the non-blocking stream. Readable or
//! writable, a connection is *driven*: frames are read until the socket
//! would block, each is printed and its reply queued straight from the
//! receive buffer (`try_recv_reply`), and the queue is written out once per
//! event, so pipelined frames cost a fraction of a write each (and once
//! `write_batch` bytes are queued, so the queue stays small). WRITABLE
//! interest is registered only while replies wait. A connection whose replies
//! cannot be queued (its peer does not read) stops being read until they
//! drain, so memory stays bounded by the send cap. Deadlines (a frame that
//! takes too long, a silent connection) are swept every 100 ms.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufWriter, Read, Write};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mio::{Events, Interest, Poll, Token};
use sockframe::{Codec, Framed, FramedConfig, Recv, Replies, TransportError};

use crate::addr::{Addr, Listener, MioStream};
use crate::io_format::{self, Format};
use crate::CliError;

const LISTENER: Token = Token(0);
const SWEEP: Duration = Duration::from_millis(100);
/// Queued reply bytes that trigger a write within one readiness event.
const LISTEN_WRITE_BATCH: usize = 16 * 1024;
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
                Recv::End => conn.read_done = true,
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
        for answer in answers.into_iter().flatten() {
            if !backlog.is_empty() {
                backlog.push_back(Bytes::copy_from_slice(answer));
                continue;
            }
            match replies.queue(answer) {
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

/// Serves until `--count` frames have been received and answered (or forever).
pub(crate) fn run(addr: &Addr, opts: &Options) -> Result<(), CliError> {
    // Many connections, mostly small frames: start each receive buffer small
    // (it grows with a large frame and shrinks back afterwards), and write
    // replies out once 8 KiB are queued (as tokio-util's codec does), so a
    // connection holds little more than a frame in each direction.
    let config = FramedConfig::new()
        .recv_initial(4096)
        .write_batch(LISTEN_WRITE_BATCH)
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
            let next =
                match server.drive(conn).and_then(|next| watch_writable(&poll, token, conn).map(|()| next)) {
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
        if let Err(e) = poll.registry().register(&mut stream, token, Interest::READABLE) {
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
        conns.insert(
            token,
            Conn { id, peer, framed, backlog: VecDeque::new(), read_done: false, writable: false },
        );
    }
}

/// Registers WRITABLE interest exactly while replies wait to be written.
fn watch_writable(poll: &Poll, token: Token, conn: &mut Conn) -> Result<(), TransportError> {
    let want = conn.framed.wants_write() || !conn.backlog.is_empty();
    if want != conn.writable {
        let interest = if want { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
        poll.registry().reregister(conn.framed.get_mut(), token, interest)?;
        conn.writable = want;
    }
    Ok(())
}

fn report<S>(conn: &Conn<S>, e: &TransportError) {
    eprintln!("sockframe: connection {} ({}): {e}", conn.id, conn.peer);
}

fn close(poll: &Poll, conns: &mut HashMap<Token, Conn>, token: Token) {
    if let Some(mut conn) = conns.remove(&token) {
        let _ = poll.registry().deregister(conn.framed.get_mut());
    }
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
        let mut server = Server { opts: &opts, out: Vec::new(), frames: 0, stopping: false };
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
        let mut server = Server { opts: &opts, out: Vec::new(), frames: 0, stopping: false };
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

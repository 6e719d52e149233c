//! [`Framed`]: a codec over any `Read + Write` stream, blocking or not; its
//! halves [`FramedRead`] (needs only `Read`: stdin, a file, a pipe, a read
//! half) and [`FramedWrite`] (needs only `Write`).
//!
//! Every driver goes through the same [`Decoder`]/[`Encoder`] contract: skip
//! frames (discarded input) are dropped and counted ([`FramedRead::skipped`])
//! the same way for every codec.
//!
//! This is the only part of the crate that sees `std::io` results and turns
//! them into progress:
//!
//! | `read`/`write` returns | what `Framed` does |
//! |---|---|
//! | `Ok(n)`, short | keeps the bytes; resumes at the exact offset |
//! | `Ok(0)` from `read` | end of stream: remaining frames, then a clean end or `Truncated` |
//! | `Ok(0)` from `write` | [`TransportError::WriteZero`], queued bytes kept |
//! | `Interrupted` | retried |
//! | `WouldBlock` | non-blocking calls: "not ready" ([`Recv::WouldBlock`], `try_flush() == Ok(false)`); blocking calls: a socket timeout ([`TransportError::Timeout`]) — nothing buffered is lost either way |
//! | `ConnectionReset` & co. | [`TransportError::ResetMidFrame`] / [`TransportError::SendFailed`] with the byte counts |
//!
//! # Blocking loop
//!
//! ```
//! use std::net::{TcpListener, TcpStream};
//! use std::time::Duration;
//! use sockframe::{Framed, LengthCodec};
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let addr = listener.local_addr()?;
//! let server = std::thread::spawn(move || -> Result<(), sockframe::TransportError> {
//!     let (stream, _) = listener.accept()?;
//!     stream.set_read_timeout(Some(Duration::from_secs(5)))?;
//!     let mut framed = Framed::new(stream, LengthCodec::new());
//!     // recv() flushes queued replies before it waits for more input.
//!     while let Some(msg) = framed.recv()? {
//!         framed.send(&msg)?; // echo
//!     }
//!     framed.flush() // Ok(None): the client closed at a frame boundary
//! });
//!
//! let stream = TcpStream::connect(addr)?;
//! stream.set_read_timeout(Some(Duration::from_secs(5)))?;
//! let mut framed = Framed::new(stream, LengthCodec::new());
//! framed.send(b"Hello from client")?;
//! framed.flush()?; // send() coalesces small frames; flush() writes them out
//! assert_eq!(framed.recv()?.as_deref(), Some(&b"Hello from client"[..]));
//! drop(framed);
//! server.join().unwrap()?;
//! # Ok::<(), sockframe::TransportError>(())
//! ```
//!
//! # Non-blocking loop
//!
//! With the stream in non-blocking mode, nothing writes unless you ask, so the
//! fast recipe is also the plain one. Per readiness event, per connection:
//!
//! 1. [`Framed::try_recv`] (or [`Framed::try_recv_reply`], which lets you
//!    queue the answer straight from the receive buffer) until
//!    [`Recv::WouldBlock`], [`queue`](Framed::queue)-ing every reply;
//! 2. one [`Framed::try_flush`]: a burst of pipelined requests is answered
//!    with one write, not one per frame;
//! 3. register for writability only while [`Framed::wants_write`].
//!
//! `queue` reports [`TransportError::Full`] at the send cap: keep that reply
//! and stop reading until a writable event drains the queue. The
//! `echo_nonblocking` example is this recipe with mio, `sockframe listen` is
//! built on it, and `hello_client --nonblocking` shows a client.
//!
//! ```
//! use std::net::{TcpListener, TcpStream};
//! use sockframe::{Framed, LengthCodec, Recv};
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let client = TcpStream::connect(listener.local_addr()?)?;
//! let (server, _) = listener.accept()?;
//! client.set_nonblocking(true)?;
//! let mut framed = Framed::new(client, LengthCodec::new());
//! framed.queue(b"ping")?;
//! // Nothing to read yet: would-block, nothing lost.
//! assert!(matches!(framed.try_recv()?, Recv::WouldBlock));
//! while !framed.try_flush()? {
//!     // a real loop waits for writability here
//! }
//! let mut peer = Framed::new(server, LengthCodec::new());
//! assert_eq!(peer.recv()?.as_deref(), Some(&b"ping"[..]));
//! peer.send(b"pong")?;
//! peer.flush()?;
//! loop {
//!     match framed.try_recv()? {
//!         Recv::Frame(f) => break assert_eq!(f, "pong"),
//!         Recv::WouldBlock => std::thread::sleep(std::time::Duration::from_millis(1)), // a real loop polls
//!         Recv::End => unreachable!("the peer is still open"),
//!     }
//! }
//! # Ok::<(), sockframe::TransportError>(())
//! ```
//!
//! # SIGPIPE
//!
//! Writing to a socket whose peer has gone raises `SIGPIPE` unless the write
//! passes `MSG_NOSIGNAL`. Rust's std does for plain `write` on Linux, but the
//! vectored path (`writev`, used here for large payloads) cannot. Rust
//! programs ignore `SIGPIPE` by default, so both paths return `BrokenPipe`
//! (reported as [`TransportError::SendFailed`]); a host process that restores
//! the default disposition must ignore `SIGPIPE` itself (this crate forbids
//! `unsafe` and does not touch signal handlers).

use std::io::{self, IoSlice, Read, Write};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::buffer::{ReadOutcome, RecvBuf, SendQueue};
use crate::codec::{Decoder, Encoder, Envelope, Frame, SkipStats};
use crate::error::{ConfigError, TimeoutKind, TransportError};
use crate::net::{HalfClose, TryClone};

/// Partial frames at least this large ask the codec how long they will be
/// (`Decoder::frame_len_hint`) so that the receive buffer grows to fit them
/// once; smaller ones never pay for the question.
const HINT_MIN: usize = 64 * 1024;

/// Settings for a [`Framed`]: a small `Copy` builder with finite defaults.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | [`recv_initial`](Self::recv_initial) | 64 KiB | receive buffer size it starts at and shrinks back to |
/// | [`recv_cap`](Self::recv_cap) | the codec's [`max_wire_len`](Decoder::max_wire_len) + 64 KiB | largest receive buffer; must hold the codec's largest frame |
/// | [`send_cap`](Self::send_cap) | 1 MiB | queued bytes before [`Framed::queue`] reports [`TransportError::Full`] |
/// | [`write_batch`](Self::write_batch) | 64 KiB | [`Framed::send`] writes out once this much is queued (at most `send_cap`) |
/// | [`vectored_min`](Self::vectored_min) | 8 KiB | payloads this large are sent by [`Framed::send`] with one vectored write, uncopied |
/// | [`frame_deadline`](Self::frame_deadline) | 30 s | a frame must complete this long after its first byte arrived |
/// | [`idle_timeout`](Self::idle_timeout) | 300 s | longest silence at a frame boundary |
///
/// Whatever the buffer's size, one `read` asks for at most 64 KiB: larger
/// reads measured slower over loopback TCP (see BENCHMARKS.md).
///
/// ```
/// use std::time::Duration;
/// use sockframe::FramedConfig;
///
/// let config = FramedConfig::new().send_cap(4096).frame_deadline(Duration::from_secs(2)).build()?;
/// assert_eq!(config.get_send_cap(), 4096);
/// assert_eq!(config.get_recv_cap(), None); // derived from the codec
/// assert!(FramedConfig::new().recv_cap(0).build().is_err());
/// # Ok::<(), sockframe::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramedConfig {
    recv_initial: usize,
    recv_cap: Option<usize>,
    send_cap: usize,
    write_batch: usize,
    vectored_min: usize,
    frame_deadline: Duration,
    idle_timeout: Duration,
}

impl Default for FramedConfig {
    fn default() -> Self {
        FramedConfig::new()
    }
}

impl FramedConfig {
    /// The defaults listed above.
    pub const fn new() -> Self {
        FramedConfig {
            recv_initial: 64 * 1024,
            recv_cap: None,
            send_cap: 1024 * 1024,
            write_batch: 64 * 1024,
            vectored_min: 8 * 1024,
            frame_deadline: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(300),
        }
    }

    /// Receive buffer size to start at and shrink back to (BAD_INPUTS T7).
    pub const fn recv_initial(mut self, bytes: usize) -> Self {
        self.recv_initial = bytes;
        self
    }

    /// Largest receive buffer, instead of the codec's
    /// [`max_wire_len`](Decoder::max_wire_len) plus one read. Frames that do
    /// not fit end in [`TransportError::RecvBufferFull`].
    pub const fn recv_cap(mut self, bytes: usize) -> Self {
        self.recv_cap = Some(bytes);
        self
    }

    /// Send queue cap for [`Framed::queue`] (BAD_INPUTS E6).
    pub const fn send_cap(mut self, bytes: usize) -> Self {
        self.send_cap = bytes;
        self
    }

    /// Bytes [`Framed::send`] coalesces before writing them out.
    pub const fn write_batch(mut self, bytes: usize) -> Self {
        self.write_batch = bytes;
        self
    }

    /// Smallest payload [`Framed::send`] writes with a vectored write instead
    /// of copying it into the queue.
    pub const fn vectored_min(mut self, bytes: usize) -> Self {
        self.vectored_min = bytes;
        self
    }

    /// Per-frame deadline, counted from the first byte of a frame (T4).
    pub const fn frame_deadline(mut self, d: Duration) -> Self {
        self.frame_deadline = d;
        self
    }

    /// Idle timeout: longest time without a received byte at a frame boundary.
    pub const fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// The send queue cap in force.
    pub const fn get_send_cap(&self) -> usize {
        self.send_cap
    }

    /// The write batch in force.
    pub const fn get_write_batch(&self) -> usize {
        self.write_batch
    }

    /// The receive buffer cap set explicitly; `None`: derived from the codec.
    pub const fn get_recv_cap(&self) -> Option<usize> {
        self.recv_cap
    }

    /// Checks the settings. `write_batch` is clamped to `send_cap`, and
    /// `recv_initial` to the receive buffer cap.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a zero size or duration.
    pub fn build(mut self) -> Result<Self, ConfigError> {
        let invalid = |reason| Err(ConfigError::Invalid { reason });
        if self.recv_cap == Some(0) || self.recv_initial == 0 || self.send_cap == 0 || self.write_batch == 0 {
            return invalid("buffer sizes must be positive");
        }
        if self.frame_deadline.is_zero() || self.idle_timeout.is_zero() {
            return invalid("deadlines must be positive");
        }
        if let Some(cap) = self.recv_cap {
            self.recv_initial = self.recv_initial.min(cap);
        }
        self.write_batch = self.write_batch.min(self.send_cap);
        Ok(self)
    }

    /// The receive buffer for `codec`.
    pub(crate) fn recv_buf<D: Decoder>(&self, codec: &D) -> RecvBuf {
        let cap =
            self.recv_cap.unwrap_or_else(|| codec.max_wire_len().saturating_add(crate::limits::READ_CHUNK));
        RecvBuf::new(self.recv_initial, cap)
    }
}

/// One outcome of a non-blocking receive.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Recv<T = Bytes> {
    /// A complete frame.
    Frame(T),
    /// No complete frame yet and the stream would block; every byte read so
    /// far is kept. Wait for readability and call again.
    WouldBlock,
    /// The peer closed the stream at a frame boundary; no more frames.
    End,
}

impl<T> Recv<T> {
    /// The frame passed through `f`; `WouldBlock` and `End` as they are.
    #[inline(always)]
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Recv<U> {
        match self {
            Recv::Frame(t) => Recv::Frame(f(t)),
            Recv::WouldBlock => Recv::WouldBlock,
            Recv::End => Recv::End,
        }
    }
}

pub(crate) fn is_reset(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::NotConnected
    )
}

fn is_would_block(kind: io::ErrorKind) -> bool {
    matches!(kind, io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// The read side's state: receive buffer, end of stream, deadlines, skips.
#[derive(Debug)]
struct ReadState {
    rbuf: RecvBuf,
    eof: bool,
    // When the last byte arrived (or the transport was created).
    last_read: Instant,
    // Some(t): an incomplete frame is buffered, its first byte arrived no
    // later than t.
    frame_started: Option<Instant>,
    skipped: SkipStats,
    frame_deadline: Duration,
    idle_timeout: Duration,
}

/// What a blocking receive does before it waits for input: [`Framed`]
/// writes out its queue (never wait for a reply to a request still queued);
/// a [`FramedRead`] has nothing to do.
trait BeforeWait<S> {
    fn before_wait(&mut self, io: &mut S) -> Result<(), TransportError>;
}

struct NoWrites;

impl<S> BeforeWait<S> for NoWrites {
    #[inline]
    fn before_wait(&mut self, _io: &mut S) -> Result<(), TransportError> {
        Ok(())
    }
}

impl<S: Write> BeforeWait<S> for WriteState {
    #[inline]
    fn before_wait(&mut self, io: &mut S) -> Result<(), TransportError> {
        if !self.wq.is_empty() {
            self.write_queue(io, true)?;
        }
        Ok(())
    }
}

impl ReadState {
    fn new<D: Decoder>(config: &FramedConfig, codec: &D, now: Instant) -> Self {
        ReadState {
            rbuf: config.recv_buf(codec),
            eof: false,
            last_read: now,
            frame_started: None,
            skipped: SkipStats::default(),
            frame_deadline: config.frame_deadline,
            idle_timeout: config.idle_timeout,
        }
    }

    /// The bytes were consumed (a frame or a skip): restart the frame clock.
    #[inline(always)]
    fn consumed(&mut self, n: usize) {
        self.rbuf.consume(n);
        self.restart_frame_clock();
    }

    #[inline(always)]
    fn restart_frame_clock(&mut self) {
        // The rest arrived no later than the last read.
        self.frame_started = if self.rbuf.is_empty() { None } else { Some(self.last_read) };
    }

    /// Hands a decoded frame's payload to `f`, then drops the frame from the
    /// receive buffer.
    #[inline(always)]
    fn take_frame<T>(&mut self, frame: Frame, f: impl FnOnce(&[u8]) -> T) -> T {
        let out = f(frame.payload(self.rbuf.data()));
        self.consumed(frame.consumed());
        out
    }

    #[cold]
    fn skip(&mut self, frame: Frame) {
        self.skipped.record(&frame);
        self.consumed(frame.consumed());
    }

    /// Decodes what is buffered, dropping skip frames: a frame, or `None`.
    fn decode_buffered<D: Decoder>(&mut self, codec: &mut D) -> Result<Option<Frame>, TransportError> {
        loop {
            let decoded = if self.eof {
                codec.decode_eof(self.rbuf.data_mut())?
            } else {
                codec.decode(self.rbuf.data_mut())?
            };
            match decoded {
                Some(frame) if frame.is_skip() => self.skip(frame),
                other => return Ok(other),
            }
        }
    }

    /// The next frame, not yet consumed: the caller takes it with
    /// [`take_frame`](Self::take_frame). A frame already in the buffer is
    /// returned here, inlined into the caller's loop; everything else
    /// (skips, reads, end of stream, deadlines) is
    /// [`recv_slow`](Self::recv_slow)'s.
    #[inline(always)]
    fn recv<S: Read, D: Decoder>(
        &mut self,
        io: &mut S,
        codec: &mut D,
        hook: &mut impl BeforeWait<S>,
        mode: Mode,
    ) -> Result<Recv<Frame>, TransportError> {
        if !self.eof {
            match codec.decode(self.rbuf.data_mut())? {
                Some(frame) if !frame.is_skip() => return Ok(Recv::Frame(frame)),
                Some(frame) => {
                    self.skip(frame);
                    return self.recv_slow(io, codec, hook, mode, true);
                }
                None => {}
            }
        }
        self.recv_slow(io, codec, hook, mode, self.eof)
    }

    /// [`recv`](Self::recv), then [`take_frame`](Self::take_frame).
    #[inline(always)]
    fn recv_with<S: Read, D: Decoder, T>(
        &mut self,
        io: &mut S,
        codec: &mut D,
        hook: &mut impl BeforeWait<S>,
        mode: Mode,
        f: impl FnOnce(&[u8]) -> T,
    ) -> Result<Recv<T>, TransportError> {
        Ok(self.recv(io, codec, hook, mode)?.map(|frame| self.take_frame(frame, f)))
    }

    /// [`recv`](Self::recv), then the frame split off the buffer as an owned
    /// `Bytes` (no copy).
    #[inline(always)]
    fn recv_bytes<S: Read, D: Decoder>(
        &mut self,
        io: &mut S,
        codec: &mut D,
        hook: &mut impl BeforeWait<S>,
        mode: Mode,
    ) -> Result<Recv<Bytes>, TransportError> {
        Ok(self.recv(io, codec, hook, mode)?.map(|frame| {
            let payload = self.rbuf.split_frame(frame);
            self.restart_frame_clock();
            payload
        }))
    }

    /// No whole frame was buffered: decode again first if `decode_first`,
    /// then read until a frame is whole, or until the end of the stream, a
    /// would-block or an error.
    #[inline(never)]
    fn recv_slow<S: Read, D: Decoder>(
        &mut self,
        io: &mut S,
        codec: &mut D,
        hook: &mut impl BeforeWait<S>,
        mode: Mode,
        decode_first: bool,
    ) -> Result<Recv<Frame>, TransportError> {
        let mut decode = decode_first;
        loop {
            if decode {
                if let Some(frame) = self.decode_buffered(codec)? {
                    return Ok(Recv::Frame(frame));
                }
                if self.eof {
                    // decode_eof found no frame and no error: a clean end.
                    return Ok(Recv::End);
                }
            }
            decode = true;
            if mode.blocking() {
                hook.before_wait(io)?;
            }
            if let Some(start) = self.frame_started {
                if self.last_read.saturating_duration_since(start) >= self.frame_deadline {
                    return Err(TransportError::Timeout {
                        kind: TimeoutKind::FrameDeadline,
                        buffered: self.rbuf.len(),
                    });
                }
            }
            if self.rbuf.len() >= HINT_MIN {
                // A large frame is coming in: fit it once, not by doubling.
                if let Some(n) = codec.frame_len_hint(self.rbuf.data()) {
                    self.rbuf.reserve_frame(n);
                }
            }
            match self.rbuf.read_from(io) {
                Ok(ReadOutcome::Data(_)) => {
                    self.last_read = mode.now();
                    if self.frame_started.is_none() {
                        self.frame_started = Some(self.last_read);
                    }
                }
                Ok(ReadOutcome::Eof) => {
                    self.eof = true;
                    self.frame_started = None;
                }
                Ok(ReadOutcome::Full) => return Err(TransportError::RecvBufferFull { cap: self.rbuf.cap() }),
                Err(e) if is_would_block(e.kind()) => {
                    return match mode {
                        Mode::Blocking => {
                            self.check_deadlines(Instant::now())?;
                            Err(TransportError::Timeout {
                                kind: TimeoutKind::Read,
                                buffered: self.rbuf.len(),
                            })
                        }
                        Mode::NonBlocking(now) => {
                            self.check_deadlines(now.unwrap_or_else(Instant::now))?;
                            Ok(Recv::WouldBlock)
                        }
                    };
                }
                Err(e) if is_reset(e.kind()) && !self.rbuf.is_empty() => {
                    let discarded = self.rbuf.len();
                    self.rbuf.consume(discarded);
                    self.frame_started = None;
                    return Err(TransportError::ResetMidFrame { discarded, source: e });
                }
                Err(e) => return Err(TransportError::Io(e)),
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        match self.frame_started {
            Some(start) => start.checked_add(self.frame_deadline),
            None if self.rbuf.is_empty() && !self.eof => self.last_read.checked_add(self.idle_timeout),
            None => None,
        }
    }

    fn check_deadlines(&self, now: Instant) -> Result<(), TransportError> {
        let kind = match self.frame_started {
            Some(start) if now.saturating_duration_since(start) >= self.frame_deadline => {
                TimeoutKind::FrameDeadline
            }
            None if self.rbuf.is_empty()
                && !self.eof
                && now.saturating_duration_since(self.last_read) >= self.idle_timeout =>
            {
                TimeoutKind::Idle
            }
            _ => return Ok(()),
        };
        Err(TransportError::Timeout { kind, buffered: self.rbuf.len() })
    }
}

/// How a receive waits, and which clock it reads.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Blocking, on the system clock.
    Blocking,
    /// Non-blocking, on the given instant or the system clock.
    NonBlocking(Option<Instant>),
}

impl Mode {
    #[inline]
    fn blocking(self) -> bool {
        matches!(self, Mode::Blocking)
    }

    #[inline]
    fn now(self) -> Instant {
        match self {
            Mode::NonBlocking(Some(now)) => now,
            _ => Instant::now(),
        }
    }
}

/// The write side's state: the send queue and its batching settings.
#[derive(Debug)]
struct WriteState {
    wq: SendQueue,
    write_batch: usize,
    vectored_min: usize,
}

impl WriteState {
    fn new(config: &FramedConfig) -> Self {
        WriteState {
            wq: SendQueue::new(config.send_cap),
            write_batch: config.write_batch,
            vectored_min: config.vectored_min,
        }
    }

    /// Writes queued bytes until the queue is empty (`Ok(true)`) or the stream
    /// would block (`Ok(false)`, or a write timeout when `blocking`).
    fn write_queue<W: Write>(&mut self, io: &mut W, blocking: bool) -> Result<bool, TransportError> {
        while !self.wq.is_empty() {
            match io.write(self.wq.pending()) {
                Ok(0) => return Err(TransportError::WriteZero { unsent: self.wq.len() }),
                Ok(n) => self.wq.advance(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_would_block(e.kind()) => {
                    return if blocking {
                        Err(TransportError::Timeout { kind: TimeoutKind::Write, buffered: self.wq.len() })
                    } else {
                        Ok(false)
                    };
                }
                Err(e) if is_reset(e.kind()) => {
                    let unsent = self.wq.len();
                    self.wq.clear();
                    return Err(TransportError::SendFailed { unsent, source: e });
                }
                Err(e) => return Err(TransportError::Io(e)),
            }
        }
        Ok(true)
    }

    fn flush<W: Write>(&mut self, io: &mut W) -> Result<(), TransportError> {
        self.write_queue(io, true)?;
        io.flush()?;
        Ok(())
    }

    fn try_flush<W: Write>(&mut self, io: &mut W) -> Result<bool, TransportError> {
        if !self.write_queue(io, false)? {
            return Ok(false);
        }
        match io.flush() {
            Ok(()) => Ok(true),
            Err(e) if is_would_block(e.kind()) || e.kind() == io::ErrorKind::Interrupted => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends `queue ++ head ++ payload ++ tail` with vectored writes, without
    /// copying the payload. On a recoverable failure the unsent rest of the
    /// frame is queued, so a later flush resumes at the exact offset.
    fn send_vectored<W: Write + ?Sized>(
        &mut self,
        io: &mut W,
        env: &Envelope,
        payload: &[u8],
    ) -> Result<(), TransportError> {
        let parts = [self.wq.pending(), env.head(), payload, env.tail()];
        let (done, result) = write_parts(io, parts);
        let queued = self.wq.len();
        let Err(e) = result else {
            self.wq.clear();
            return Ok(());
        };
        if is_reset(e.kind()) {
            let total = parts_len(&[self.wq.pending(), env.head(), payload, env.tail()]);
            self.wq.clear();
            return Err(TransportError::SendFailed { unsent: total.saturating_sub(done), source: e });
        }
        // Keep exactly the unsent bytes. (`done <= queued` would do as well:
        // with the whole queue out, both branches queue the whole frame.)
        if done < queued {
            self.wq.advance(done);
            env.write(payload, self.wq.buffer_mut());
        } else {
            self.wq.clear();
            let mut skip = done - queued;
            for part in [env.head(), payload, env.tail()] {
                let from = skip.min(part.len());
                self.wq.buffer_mut().extend_from_slice(&part[from..]);
                skip -= from;
            }
        }
        Err(match e.kind() {
            io::ErrorKind::WriteZero => TransportError::WriteZero { unsent: self.wq.len() },
            k if is_would_block(k) => {
                TransportError::Timeout { kind: TimeoutKind::Write, buffered: self.wq.len() }
            }
            _ => TransportError::Io(e),
        })
    }

    #[inline(always)]
    fn send<W: Write, E: Encoder>(
        &mut self,
        io: &mut W,
        codec: &mut E,
        payload: &[u8],
    ) -> Result<(), TransportError> {
        if payload.len() >= self.vectored_min && self.send_large(io, codec, payload)? {
            return Ok(());
        }
        // Small frames: encode straight into the queue (no intermediate
        // envelope). `write_batch <= send_cap` (checked by `build`), so the
        // queue can only be over its cap when it is also due for a write.
        let before = self.wq.len();
        // Encoders write nothing on error, so the queue stays as it was.
        self.wq.append(codec, payload)?;
        if self.wq.len() >= self.write_batch {
            return self.send_batch_full(io, codec, before, payload);
        }
        Ok(())
    }

    /// [`send`](Self::send)'s path for a payload of `vectored_min` bytes or
    /// more: one vectored write. `Ok(false)`: the codec has no envelope, and
    /// the payload takes the small-frame path.
    #[inline(never)]
    fn send_large<W: Write, E: Encoder>(
        &mut self,
        io: &mut W,
        codec: &mut E,
        payload: &[u8],
    ) -> Result<bool, TransportError> {
        let Some(env) = codec.envelope(payload)? else {
            return Ok(false);
        };
        let len = env
            .frame_len(payload.len())
            .ok_or(TransportError::Full { queued: self.wq.len(), cap: self.wq.cap() })?;
        self.make_room(io, len)?;
        self.send_vectored(io, &env, payload)?;
        Ok(true)
    }

    /// The queue grew from `before` bytes to at least `write_batch` by
    /// encoding `payload`: undo and retry if that went over the cap, then
    /// write the queue out once it holds `write_batch` bytes.
    #[inline(never)]
    fn send_batch_full<W: Write, E: Encoder>(
        &mut self,
        io: &mut W,
        codec: &mut E,
        before: usize,
        payload: &[u8],
    ) -> Result<(), TransportError> {
        // (`||` or `>=` here only redo work: an empty queue, or one exactly
        // at its cap, takes the frame again after `make_room` writes nothing.
        // An overstated `len` only makes `make_room` write the queue out
        // early: the same bytes reach the wire.)
        if before > 0 && self.wq.len() > self.wq.cap() {
            let len = self.wq.len() - before;
            self.wq.truncate(before);
            self.make_room(io, len)?;
            self.wq.append(codec, payload)?;
        }
        if self.wq.len() >= self.write_batch {
            self.write_queue(io, true)?;
        }
        Ok(())
    }

    /// Blocking: writes the queue out if `len` more bytes would not fit under
    /// the cap. A stalled peer becomes [`TransportError::Full`] (nothing
    /// queued) instead of unbounded growth (BAD_INPUTS E6).
    fn make_room<W: Write>(&mut self, io: &mut W, len: usize) -> Result<(), TransportError> {
        if self.wq.has_room(len) {
            return Ok(());
        }
        match self.write_queue(io, true) {
            Ok(_) => Ok(()),
            Err(TransportError::Timeout { .. } | TransportError::WriteZero { .. }) => {
                Err(TransportError::Full { queued: self.wq.len(), cap: self.wq.cap() })
            }
            Err(e) => Err(e),
        }
    }

    fn queue<E: Encoder>(&mut self, codec: &mut E, payload: &[u8]) -> Result<(), TransportError> {
        self.wq.encode(codec, payload)
    }

    /// [`Replies::send`]: a frame of `vectored_min` bytes or more whose
    /// framing has an envelope goes out with what is queued in one vectored
    /// write, straight from `payload`; only what the stream does not take
    /// (it would block) is queued. Smaller frames are queued.
    fn write_through<W: Write + ?Sized, E: Encoder>(
        &mut self,
        io: &mut W,
        codec: &mut E,
        payload: &[u8],
    ) -> Result<(), TransportError> {
        if payload.len() < self.vectored_min {
            return self.queue(codec, payload);
        }
        let Some(env) = codec.envelope(payload)? else {
            return self.queue(codec, payload);
        };
        // The same room rule as `queue`: if nothing went out, the whole frame
        // must fit.
        if !env.frame_len(payload.len()).is_some_and(|len| self.wq.has_room(len)) {
            return self.queue(codec, payload);
        }
        match self.send_vectored(io, &env, payload) {
            Err(TransportError::Timeout { kind: TimeoutKind::Write, .. }) => Ok(()),
            other => other,
        }
    }
}

fn parts_len(parts: &[&[u8]]) -> usize {
    parts.iter().fold(0usize, |acc, p| acc.saturating_add(p.len()))
}

/// Writes all of `parts` with vectored writes; returns how many bytes went
/// out and the error that stopped it, if any. `Interrupted` is retried.
fn write_parts<W: Write + ?Sized>(io: &mut W, parts: [&[u8]; 4]) -> (usize, io::Result<()>) {
    let total = parts_len(&parts);
    let mut done = 0;
    while done < total {
        let mut slices = [IoSlice::new(&[]); 4];
        let mut count = 0;
        let mut skip = done;
        for part in parts {
            if skip >= part.len() {
                skip -= part.len();
                continue;
            }
            slices[count] = IoSlice::new(&part[skip..]);
            skip = 0;
            count += 1;
        }
        match io.write_vectored(&slices[..count]) {
            Ok(0) => return (done, Err(io::ErrorKind::WriteZero.into())),
            // A writer claiming more than it was given is clamped (X7); the
            // clamp only matters for the loop's end, since `done` is not
            // used once it reaches `total`.
            Ok(n) => done += n.min(total - done),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Err(e)),
        }
    }
    (done, Ok(()))
}

impl<S, T: BeforeWait<S>> BeforeWait<S> for &mut T {
    #[inline]
    fn before_wait(&mut self, io: &mut S) -> Result<(), TransportError> {
        (**self).before_wait(io)
    }
}

/// A codec over a byte stream: frames in, frames out.
///
/// See the [module docs](self) for both caller loops. [`FramedRead`] and
/// [`FramedWrite`] are its halves, for streams that only read or only write
/// ([`try_split`](Self::try_split) makes them from one socket).
#[derive(Debug)]
pub struct Framed<S, C> {
    io: S,
    codec: C,
    rd: ReadState,
    wr: WriteState,
    config: FramedConfig,
}

/// The read half: a decoder over any [`Read`] (a socket, stdin, a file, a
/// pipe). Owns the receive buffer, the decode loop, skip handling and the
/// read deadlines.
///
/// ```
/// use sockframe::{FramedRead, DelimitedCodec};
///
/// let input: &[u8] = b"one\ntwo\r\n";
/// let mut lines = FramedRead::new(input, DelimitedCodec::lines());
/// assert_eq!(lines.recv()?.as_deref(), Some(&b"one"[..]));
/// assert_eq!(lines.recv_with(|l| l.len())?, Some(3));
/// assert_eq!(lines.recv()?, None); // a clean end
/// # Ok::<(), sockframe::TransportError>(())
/// ```
#[derive(Debug)]
pub struct FramedRead<R, D> {
    io: R,
    codec: D,
    rd: ReadState,
    config: FramedConfig,
}

/// The write half: an encoder over any [`Write`]. Owns the send queue,
/// coalescing of small frames and vectored writes of large ones.
///
/// ```
/// use sockframe::{FramedWrite, LengthCodec};
///
/// let mut out = FramedWrite::new(Vec::new(), LengthCodec::new());
/// out.send(b"hi")?;
/// out.flush()?;
/// assert_eq!(out.get_ref(), b"\x00\x00\x00\x02hi");
/// # Ok::<(), sockframe::TransportError>(())
/// ```
#[derive(Debug)]
pub struct FramedWrite<W, E> {
    io: W,
    codec: E,
    wr: WriteState,
    config: FramedConfig,
}

/// Accessors every transport type has.
macro_rules! common_api {
    ($io:ident, $codec:ident) => {
        /// The settings in force.
        pub fn config(&self) -> &FramedConfig {
            &self.config
        }

        /// The stream.
        pub fn get_ref(&self) -> &$io {
            &self.io
        }

        /// The stream, mutably. Reading or writing it directly corrupts the framing.
        pub fn get_mut(&mut self) -> &mut $io {
            &mut self.io
        }

        /// The stream; buffered bytes are dropped (see `into_parts` to keep them).
        pub fn into_inner(self) -> $io {
            self.io
        }

        /// The codec.
        pub fn codec(&self) -> &$codec {
            &self.codec
        }

        /// The codec, mutably.
        pub fn codec_mut(&mut self) -> &mut $codec {
            &mut self.codec
        }
    };
}

/// The read side's methods, for [`Framed`] and [`FramedRead`].
macro_rules! read_api {
    () => {
        /// Bytes received and not yet returned as frames.
        pub fn read_buffer(&self) -> &[u8] {
            self.rd.rbuf.data()
        }

        /// Bytes allocated for the receive buffer (it shrinks back after a
        /// large frame, BAD_INPUTS T7).
        pub fn recv_capacity(&self) -> usize {
            self.rd.rbuf.capacity()
        }

        /// The receive buffer's cap: the configured one, or the codec's
        /// [`max_wire_len`](Decoder::max_wire_len) plus one read.
        pub fn recv_cap(&self) -> usize {
            self.rd.rbuf.cap()
        }

        /// Whether the peer has closed its sending side (a read returned
        /// `Ok(0)`). Frames received before that may still be buffered.
        pub fn is_read_closed(&self) -> bool {
            self.rd.eof
        }

        /// What the codec skipped so far (discarded overlong lines): dropped
        /// from the buffer as they arrived, never delivered as frames.
        pub fn skipped(&self) -> SkipStats {
            self.rd.skipped
        }

        /// The earliest instant at which a deadline fires: the frame deadline
        /// while a frame is incomplete, else the idle timeout. Event loops use
        /// it as their poll timeout, then call
        /// [`check_deadlines`](Self::check_deadlines).
        pub fn next_deadline(&self) -> Option<Instant> {
            self.rd.next_deadline()
        }

        /// Reports an expired deadline as of now.
        ///
        /// # Errors
        /// [`TransportError::Timeout`] with [`TimeoutKind::FrameDeadline`] or
        /// [`TimeoutKind::Idle`].
        pub fn check_deadlines(&self) -> Result<(), TransportError> {
            self.rd.check_deadlines(Instant::now())
        }

        /// [`check_deadlines`](Self::check_deadlines) as of `now`: the clock
        /// is the caller's, so deadline tests need no sleeping.
        ///
        /// ```
        /// use std::time::{Duration, Instant};
        /// use sockframe::{Framed, FramedConfig, LengthCodec, TimeoutKind, TransportError};
        ///
        /// let config = FramedConfig::new().idle_timeout(Duration::from_secs(10));
        /// let framed = Framed::with_config(std::io::Cursor::new(Vec::new()), LengthCodec::new(), config)?;
        /// let now = Instant::now();
        /// assert!(framed.check_deadlines_at(now).is_ok());
        /// let later = now + Duration::from_secs(11);
        /// assert!(matches!(
        ///     framed.check_deadlines_at(later),
        ///     Err(TransportError::Timeout { kind: TimeoutKind::Idle, .. })
        /// ));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        ///
        /// # Errors
        /// As [`check_deadlines`](Self::check_deadlines).
        pub fn check_deadlines_at(&self, now: Instant) -> Result<(), TransportError> {
            self.rd.check_deadlines(now)
        }

        /// Receives the next frame, blocking. `Ok(None)`: the peer closed at a
        /// frame boundary. A [`Framed`] writes out queued frames before it
        /// waits for input.
        ///
        /// The payload is split off the receive buffer without copying (one
        /// reference count, as tokio-util's `FramedRead`). A frame you keep
        /// holds on to the buffer memory it came from;
        /// [`recv_with`](Self::recv_with) lends the payload instead.
        ///
        /// ```
        /// use std::io::Cursor;
        /// use sockframe::{Framed, LengthCodec};
        ///
        /// let wire = b"\x00\x00\x00\x02hi\x00\x00\x00\x00".to_vec();
        /// let mut framed = Framed::new(Cursor::new(wire), LengthCodec::new());
        /// assert_eq!(framed.recv()?.as_deref(), Some(&b"hi"[..]));
        /// assert_eq!(framed.recv()?.as_deref(), Some(&b""[..]));
        /// assert_eq!(framed.recv()?, None);
        /// # Ok::<(), sockframe::TransportError>(())
        /// ```
        ///
        /// # Errors
        /// `Decode(Truncated { pending })` when the stream ends inside a frame;
        /// `ResetMidFrame { discarded }`; `Timeout` (the socket's read timeout,
        /// the frame deadline or the idle timeout — buffered bytes are kept);
        /// `RecvBufferFull`; other `Decode` and `Io` errors.
        pub fn recv(&mut self) -> Result<Option<Bytes>, TransportError> {
            let (io, codec, rd, mut hook) = self.read_parts();
            match rd.recv_bytes(io, codec, &mut hook, Mode::Blocking)? {
                Recv::Frame(t) => Ok(Some(t)),
                Recv::End => Ok(None),
                // A blocking receive reports would-block as a timeout.
                Recv::WouldBlock => {
                    Err(TransportError::Timeout { kind: TimeoutKind::Read, buffered: rd.rbuf.len() })
                }
            }
        }

        /// Like [`recv`](Self::recv), but lends the payload to `f` straight
        /// from the receive buffer: no allocation.
        ///
        /// ```
        /// use std::io::Cursor;
        /// use sockframe::{Framed, LengthCodec};
        ///
        /// let mut framed = Framed::new(Cursor::new(b"\x00\x00\x00\x02hi".to_vec()), LengthCodec::new());
        /// assert_eq!(framed.recv_with(|p| p.len())?, Some(2));
        /// # Ok::<(), sockframe::TransportError>(())
        /// ```
        ///
        /// # Errors
        /// As [`recv`](Self::recv).
        #[inline]
        pub fn recv_with<T>(&mut self, f: impl FnOnce(&[u8]) -> T) -> Result<Option<T>, TransportError> {
            let (io, codec, rd, mut hook) = self.read_parts();
            match rd.recv_with(io, codec, &mut hook, Mode::Blocking, f)? {
                Recv::Frame(t) => Ok(Some(t)),
                Recv::End => Ok(None),
                // A blocking receive reports would-block as a timeout.
                Recv::WouldBlock => {
                    Err(TransportError::Timeout { kind: TimeoutKind::Read, buffered: rd.rbuf.len() })
                }
            }
        }

        /// Receives without blocking: a frame, [`Recv::WouldBlock`] (every
        /// byte read so far is kept), or [`Recv::End`]. Does not write; call
        /// `try_flush` for that.
        ///
        /// # Errors
        /// As [`recv`](Self::recv); timeouts only for the frame deadline and
        /// the idle timeout.
        pub fn try_recv(&mut self) -> Result<Recv<Bytes>, TransportError> {
            let (io, codec, rd, mut hook) = self.read_parts();
            rd.recv_bytes(io, codec, &mut hook, Mode::NonBlocking(None))
        }

        /// [`try_recv`](Self::try_recv) lending the payload to `f`.
        ///
        /// # Errors
        /// As [`try_recv`](Self::try_recv).
        #[inline]
        pub fn try_recv_with<T>(&mut self, f: impl FnOnce(&[u8]) -> T) -> Result<Recv<T>, TransportError> {
            let (io, codec, rd, mut hook) = self.read_parts();
            rd.recv_with(io, codec, &mut hook, Mode::NonBlocking(None), f)
        }

        /// [`try_recv_with`](Self::try_recv_with) on the caller's clock:
        /// `now` stamps the bytes that arrive and decides the deadlines.
        ///
        /// # Errors
        /// As [`try_recv`](Self::try_recv).
        #[inline]
        pub fn try_recv_with_at<T>(
            &mut self,
            now: Instant,
            f: impl FnOnce(&[u8]) -> T,
        ) -> Result<Recv<T>, TransportError> {
            let (io, codec, rd, mut hook) = self.read_parts();
            rd.recv_with(io, codec, &mut hook, Mode::NonBlocking(Some(now)), f)
        }
    };
}

/// The write side's methods, for [`Framed`] and [`FramedWrite`].
macro_rules! write_api {
    () => {
        /// Queued bytes not yet written.
        pub fn pending_send_bytes(&self) -> usize {
            self.wr.wq.len()
        }

        /// Whether bytes are queued: register for writability and call
        /// [`try_flush`](Self::try_flush) while this holds.
        pub fn wants_write(&self) -> bool {
            !self.wr.wq.is_empty()
        }

        /// Writes every queued byte, blocking.
        ///
        /// # Errors
        /// [`TransportError::Timeout`] (kind `Write`) when the socket's write
        /// timeout expires or the stream is non-blocking; `WriteZero`;
        /// `SendFailed` when the peer is gone; `Io`. Except for `SendFailed`,
        /// unsent bytes stay queued and `flush` may be called again.
        pub fn flush(&mut self) -> Result<(), TransportError> {
            self.wr.flush(&mut self.io)
        }

        /// Writes as many queued bytes as the stream takes without blocking.
        /// `Ok(true)`: everything is written; `Ok(false)`: the stream would
        /// block, the rest stays queued (wait for writability).
        ///
        /// # Errors
        /// As [`flush`](Self::flush), without timeouts.
        pub fn try_flush(&mut self) -> Result<bool, TransportError> {
            self.wr.try_flush(&mut self.io)
        }

        /// Sends a frame, blocking as needed.
        ///
        /// Small frames are coalesced: they are queued and written out once
        /// [`write_batch`](FramedConfig::write_batch) bytes are queued, by
        /// [`flush`](Self::flush), or (for a [`Framed`]) before `recv` waits
        /// for input. Payloads of [`vectored_min`](FramedConfig::vectored_min)
        /// bytes or more go out at once, together with anything queued, in
        /// one vectored write of queue + header + payload + trailer, without
        /// copying the payload (for codecs with an
        /// [`envelope`](Encoder::envelope)).
        ///
        /// ```
        /// use sockframe::{Framed, LengthCodec};
        ///
        /// let mut framed = Framed::new(Vec::new(), LengthCodec::new());
        /// framed.send(b"hi")?;
        /// assert_eq!(framed.pending_send_bytes(), 6); // coalescing
        /// framed.flush()?;
        /// assert_eq!(framed.get_ref(), b"\x00\x00\x00\x02hi");
        /// # Ok::<(), sockframe::TransportError>(())
        /// ```
        ///
        /// The queue never holds more than `max(send_cap, one frame)`: when a
        /// frame does not fit, `send` first writes the queue out (BAD_INPUTS E6).
        ///
        /// # Errors
        /// * [`TransportError::Encode`] or [`TransportError::Full`] (the queue
        ///   could not be written out, e.g. a write timeout while the peer does
        ///   not read): the frame was **not** queued; retry `send` later.
        /// * [`TransportError::SendFailed`]: the peer is gone; `unsent` counts
        ///   this frame's unsent bytes too.
        /// * Any other error (`Timeout`, `WriteZero`, `Io`) concerns writing
        ///   *after* the frame was queued: do not send it again; call
        ///   [`flush`](Self::flush) to retry.
        #[inline(always)]
        pub fn send(&mut self, payload: &[u8]) -> Result<(), TransportError> {
            self.wr.send(&mut self.io, &mut self.codec, payload)
        }

        /// Queues a frame without writing (non-blocking mode); write it out
        /// with [`try_flush`](Self::try_flush). An empty queue always accepts
        /// one frame, so memory stays below `max(send_cap, one frame)`. The
        /// payload is copied into the queue (the zero-copy vectored path is
        /// [`send`](Self::send)'s, which may block).
        ///
        /// ```
        /// use sockframe::{Framed, FramedConfig, LengthCodec, TransportError};
        ///
        /// let config = FramedConfig::new().send_cap(16).write_batch(16);
        /// let mut framed = Framed::with_config(Vec::new(), LengthCodec::new(), config)?;
        /// framed.queue(b"0123456789")?;
        /// // BAD_INPUTS E6: the cap is reached, backpressure instead of growth.
        /// assert!(matches!(framed.queue(b"more"), Err(TransportError::Full { queued: 14, cap: 16 })));
        /// assert!(framed.try_flush()?);
        /// framed.queue(b"more")?;
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        ///
        /// # Errors
        /// [`TransportError::Full`] at the cap (nothing queued; flush, then
        /// retry), or [`TransportError::Encode`].
        pub fn queue(&mut self, payload: &[u8]) -> Result<(), TransportError> {
            self.wr.queue(&mut self.codec, payload)
        }

        /// Non-blocking send for forwarding and echoing: a small frame is
        /// queued (as [`queue`](Self::queue)); a large one (at least
        /// `vectored_min` bytes, framing with an envelope) goes out at once
        /// with what is queued, in one vectored write straight from
        /// `payload`, and only what the stream does not take is queued, so
        /// it is never copied whole into the queue. Never blocks.
        ///
        /// ```
        /// use sockframe::{Framed, LengthCodec};
        ///
        /// let mut framed = Framed::new(Vec::new(), LengthCodec::new());
        /// framed.try_send(&[1u8; 100_000])?; // written through
        /// framed.try_send(b"small")?; // queued
        /// assert_eq!((framed.get_ref().len(), framed.pending_send_bytes()), (100_004, 9));
        /// # Ok::<(), sockframe::TransportError>(())
        /// ```
        ///
        /// # Errors
        /// As [`queue`](Self::queue); `SendFailed` when the peer is gone, or
        /// the write's I/O error (the unsent rest stays queued).
        pub fn try_send(&mut self, payload: &[u8]) -> Result<(), TransportError> {
            self.wr.write_through(&mut self.io, &mut self.codec, payload)
        }
    };
}

impl<S, C: Decoder> Framed<S, C> {
    /// A transport with the default [`FramedConfig`].
    pub fn new(io: S, codec: C) -> Self {
        Framed::with_valid_config(io, codec, FramedConfig::new())
    }

    /// A transport with `config`.
    ///
    /// ```
    /// use sockframe::{Framed, FramedConfig, LengthCodec};
    ///
    /// let io = std::io::Cursor::new(Vec::<u8>::new());
    /// let framed = Framed::with_config(io, LengthCodec::new(), FramedConfig::new().send_cap(1 << 16))?;
    /// assert_eq!(framed.config().get_send_cap(), 1 << 16);
    /// assert_eq!(framed.recv_cap(), 8 * 1024 * 1024 + 4 + 64 * 1024); // the codec's largest frame + one read
    /// # Ok::<(), sockframe::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// As [`FramedConfig::build`].
    pub fn with_config(io: S, codec: C, config: FramedConfig) -> Result<Self, ConfigError> {
        Ok(Framed::with_valid_config(io, codec, config.build()?))
    }

    fn with_valid_config(io: S, codec: C, config: FramedConfig) -> Self {
        let rd = ReadState::new(&config, &codec, Instant::now());
        Framed { io, codec, rd, wr: WriteState::new(&config), config }
    }
}

impl<S, C> Framed<S, C> {
    common_api!(S, C);

    /// The stream, the codec, the received bytes not yet decoded, and the
    /// queued bytes not yet written.
    pub fn into_parts(self) -> (S, C, Vec<u8>, Vec<u8>) {
        let rest = self.rd.rbuf.data().to_vec();
        let unsent = self.wr.wq.pending().to_vec();
        (self.io, self.codec, rest, unsent)
    }

    /// Splits into a read half and a write half over two handles of the same
    /// socket (`try_clone`), as with `TcpStream::try_clone`. Buffered input
    /// stays with the read half, queued output with the write half; each half
    /// gets a copy of the codec.
    ///
    /// ```
    /// use std::net::{TcpListener, TcpStream};
    /// use sockframe::{Framed, LengthCodec};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// let client = Framed::new(TcpStream::connect(listener.local_addr()?)?, LengthCodec::new());
    /// let (server, _) = listener.accept()?;
    /// let (mut rx, mut tx) = client.try_split()?;
    /// let mut peer = Framed::new(server, LengthCodec::new());
    /// tx.send(b"ping")?;
    /// tx.flush()?;
    /// assert_eq!(peer.recv()?.as_deref(), Some(&b"ping"[..]));
    /// peer.send(b"pong")?;
    /// peer.flush()?;
    /// assert_eq!(rx.recv()?.as_deref(), Some(&b"pong"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The error of cloning the socket handle.
    pub fn try_split(self) -> io::Result<(FramedRead<S, C>, FramedWrite<S, C>)>
    where
        S: TryClone,
        C: Clone,
    {
        let other = self.io.try_clone_stream()?;
        let read = FramedRead { io: self.io, codec: self.codec.clone(), rd: self.rd, config: self.config };
        let write = FramedWrite { io: other, codec: self.codec, wr: self.wr, config: self.config };
        Ok((read, write))
    }
}

impl<S: Read + Write, C: Decoder> Framed<S, C> {
    #[inline(always)]
    fn read_parts(&mut self) -> (&mut S, &mut C, &mut ReadState, &mut WriteState) {
        (&mut self.io, &mut self.codec, &mut self.rd, &mut self.wr)
    }

    read_api!();
}

impl<S: Write, C: Encoder> Framed<S, C> {
    write_api!();
}

/// Queues replies on a [`Framed`]'s send queue from inside
/// [`Framed::try_recv_reply`], while the received payload is still borrowed
/// from the receive buffer.
pub struct Replies<'a, C> {
    wr: &'a mut WriteState,
    codec: &'a mut C,
    io: &'a mut dyn Write,
}

impl<C: core::fmt::Debug> core::fmt::Debug for Replies<'_, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Replies").field("wr", &self.wr).field("codec", &self.codec).finish_non_exhaustive()
    }
}

impl<C: Encoder> Replies<'_, C> {
    /// Queues a frame, as [`Framed::queue`]: nothing is written.
    ///
    /// # Errors
    /// [`TransportError::Full`] at the send cap (nothing queued: keep the
    /// reply, flush, and queue it again), or [`TransportError::Encode`].
    #[inline]
    pub fn queue(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        self.wr.queue(self.codec, payload)
    }

    /// Sends a frame the way an echo wants it: a small one is queued (as
    /// [`queue`](Self::queue): the queue goes out once per readiness
    /// event), a large one (at least `vectored_min` bytes, see
    /// [`FramedConfig::vectored_min`]) goes out at once, together with what is
    /// queued, in one vectored write straight from `payload`, and only what
    /// the stream does not take is queued. Echoing a 4 MiB frame thus costs
    /// no 4 MiB copy into the send queue.
    ///
    /// ```
    /// use std::io::Cursor;
    /// use sockframe::{Framed, LengthCodec, Recv};
    ///
    /// let mut wire = vec![0, 1, 0, 0];
    /// wire.extend(vec![7u8; 65536]);
    /// let mut framed = Framed::new(Cursor::new(wire), LengthCodec::new());
    /// let Recv::Frame(sent) = framed.try_recv_reply(|p, replies| replies.send(p))? else { panic!() };
    /// sent?;
    /// assert_eq!(framed.pending_send_bytes(), 0); // written, not queued
    /// assert_eq!(framed.get_ref().get_ref().len(), 2 * (4 + 65536));
    /// # Ok::<(), sockframe::TransportError>(())
    /// ```
    ///
    /// # Errors
    /// As [`queue`](Self::queue); `SendFailed` when the peer is gone, or the
    /// write's I/O error (the unsent rest stays queued).
    #[inline]
    pub fn send(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        self.wr.write_through(self.io, self.codec, payload)
    }

    /// Bytes queued and not yet written.
    pub fn pending_send_bytes(&self) -> usize {
        self.wr.wq.len()
    }
}

impl<S: Read + Write, C: Decoder + Encoder> Framed<S, C> {
    /// Receives one frame without blocking and lets `f` answer it: `f` gets
    /// the payload, borrowed from the receive buffer, and a [`Replies`]
    /// handle that queues frames on this transport's send queue. Nothing is
    /// written: the event-loop recipe is to call this until
    /// [`Recv::WouldBlock`], then [`try_flush`](Self::try_flush) once, so
    /// that a burst of pipelined requests is answered with one write.
    ///
    /// ```
    /// use std::io::Cursor;
    /// use sockframe::{Framed, LengthCodec, Recv};
    ///
    /// // Two requests arrive together; both echoes go out in one write.
    /// let wire = b"\x00\x00\x00\x01a\x00\x00\x00\x01b".to_vec();
    /// let mut framed = Framed::new(Cursor::new(wire), LengthCodec::new());
    /// while let Recv::Frame(queued) = framed.try_recv_reply(|p, replies| replies.queue(p))? {
    ///     queued?;
    /// }
    /// assert_eq!(framed.pending_send_bytes(), 10);
    /// # Ok::<(), sockframe::TransportError>(())
    /// ```
    ///
    /// # Errors
    /// As [`try_recv`](Self::try_recv).
    #[inline]
    pub fn try_recv_reply<T>(
        &mut self,
        f: impl FnOnce(&[u8], &mut Replies<'_, C>) -> T,
    ) -> Result<Recv<T>, TransportError> {
        Ok(match self.rd.recv(&mut self.io, &mut self.codec, &mut NoWrites, Mode::NonBlocking(None))? {
            Recv::Frame(frame) => {
                let payload = frame.payload(self.rd.rbuf.data());
                let out =
                    f(payload, &mut Replies { wr: &mut self.wr, codec: &mut self.codec, io: &mut self.io });
                self.rd.consumed(frame.consumed());
                Recv::Frame(out)
            }
            Recv::WouldBlock => Recv::WouldBlock,
            Recv::End => Recv::End,
        })
    }
}

impl<S: Write + HalfClose, C: Encoder> Framed<S, C> {
    /// Flushes, then shuts down the sending side (TCP FIN): the peer sees a
    /// clean end after our last frame and can still reply (BAD_INPUTS T3).
    ///
    /// # Errors
    /// As [`flush`](Self::flush), or the shutdown's I/O error.
    pub fn close_write(&mut self) -> Result<(), TransportError> {
        self.flush()?;
        self.io.shutdown_write()?;
        Ok(())
    }
}

impl<R, D: Decoder> FramedRead<R, D> {
    /// A read half with the default [`FramedConfig`].
    pub fn new(io: R, codec: D) -> Self {
        FramedRead::with_valid_config(io, codec, FramedConfig::new())
    }

    /// A read half with `config` (its send settings are unused).
    ///
    /// # Errors
    /// As [`FramedConfig::build`].
    pub fn with_config(io: R, codec: D, config: FramedConfig) -> Result<Self, ConfigError> {
        Ok(FramedRead::with_valid_config(io, codec, config.build()?))
    }

    fn with_valid_config(io: R, codec: D, config: FramedConfig) -> Self {
        let rd = ReadState::new(&config, &codec, Instant::now());
        FramedRead { io, codec, rd, config }
    }
}

impl<R, D> FramedRead<R, D> {
    common_api!(R, D);

    /// The stream, the codec, and the received bytes not yet decoded.
    pub fn into_parts(self) -> (R, D, Vec<u8>) {
        let rest = self.rd.rbuf.data().to_vec();
        (self.io, self.codec, rest)
    }
}

impl<R: Read, D: Decoder> FramedRead<R, D> {
    #[inline(always)]
    fn read_parts(&mut self) -> (&mut R, &mut D, &mut ReadState, NoWrites) {
        (&mut self.io, &mut self.codec, &mut self.rd, NoWrites)
    }

    read_api!();
}

impl<W, E> FramedWrite<W, E> {
    /// A write half with the default [`FramedConfig`].
    pub fn new(io: W, codec: E) -> Self {
        FramedWrite::with_valid_config(io, codec, FramedConfig::new())
    }

    /// A write half with `config` (its receive settings are unused).
    ///
    /// # Errors
    /// As [`FramedConfig::build`].
    pub fn with_config(io: W, codec: E, config: FramedConfig) -> Result<Self, ConfigError> {
        Ok(FramedWrite::with_valid_config(io, codec, config.build()?))
    }

    fn with_valid_config(io: W, codec: E, config: FramedConfig) -> Self {
        FramedWrite { io, codec, wr: WriteState::new(&config), config }
    }

    common_api!(W, E);

    /// The stream, the codec, and the queued bytes not yet written.
    pub fn into_parts(self) -> (W, E, Vec<u8>) {
        let unsent = self.wr.wq.pending().to_vec();
        (self.io, self.codec, unsent)
    }
}

impl<W: Write, E: Encoder> FramedWrite<W, E> {
    write_api!();
}

impl<W: Write + HalfClose, E: Encoder> FramedWrite<W, E> {
    /// Flushes, then shuts down the sending side (TCP FIN), as
    /// [`Framed::close_write`].
    ///
    /// # Errors
    /// As [`flush`](Self::flush), or the shutdown's I/O error.
    pub fn close_write(&mut self) -> Result<(), TransportError> {
        self.flush()?;
        self.io.shutdown_write()?;
        Ok(())
    }
}

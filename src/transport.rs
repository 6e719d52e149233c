//! [`Framed`]: a codec over any `Read + Write` stream, blocking or not.
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
//! With the stream in non-blocking mode, use [`Framed::queue`],
//! [`Framed::try_flush`] and [`Framed::try_recv`]; wait for readiness (mio,
//! `poll`) whenever they report would-block, and register for writability only
//! while [`Framed::wants_write`]. The `hello_client --nonblocking` example
//! does this with mio.
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
use crate::codec::{Decoder, Encoder, Envelope, Frame};
use crate::error::{ConfigError, TimeoutKind, TransportError};
use crate::net::HalfClose;

/// Settings for a [`Framed`]: a small `Copy` builder with finite defaults.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | [`recv_initial`](Self::recv_initial) | 64 KiB | receive buffer size it starts at and shrinks back to |
/// | [`recv_cap`](Self::recv_cap) | 8 MiB + 64 KiB | largest receive buffer; must hold the codec's largest frame |
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
/// assert!(FramedConfig::new().recv_cap(0).build().is_err());
/// # Ok::<(), sockframe::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramedConfig {
    recv_initial: usize,
    recv_cap: usize,
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
            recv_cap: 8 * 1024 * 1024 + 64 * 1024,
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

    /// Largest receive buffer. Set it to at least the codec's largest
    /// encoded frame, or such frames end in [`TransportError::RecvBufferFull`].
    pub const fn recv_cap(mut self, bytes: usize) -> Self {
        self.recv_cap = bytes;
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

    /// The receive buffer cap in force.
    pub const fn get_recv_cap(&self) -> usize {
        self.recv_cap
    }

    /// Checks the settings. `recv_initial` is clamped to `recv_cap` and
    /// `write_batch` to `send_cap`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a zero size or duration.
    pub fn build(mut self) -> Result<Self, ConfigError> {
        let invalid = |reason| Err(ConfigError::Invalid { reason });
        if self.recv_cap == 0 || self.recv_initial == 0 || self.send_cap == 0 || self.write_batch == 0 {
            return invalid("buffer sizes must be positive");
        }
        if self.frame_deadline.is_zero() || self.idle_timeout.is_zero() {
            return invalid("deadlines must be positive");
        }
        self.recv_initial = self.recv_initial.min(self.recv_cap);
        self.write_batch = self.write_batch.min(self.send_cap);
        Ok(self)
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

/// A codec over a byte stream: frames in, frames out.
///
/// See the [module docs](self) for both caller loops.
#[derive(Debug)]
pub struct Framed<S, C> {
    io: S,
    codec: C,
    rbuf: RecvBuf,
    wq: SendQueue,
    config: FramedConfig,
    eof: bool,
    // When the last byte arrived (or the transport was created).
    last_read: Instant,
    // Some(t): an incomplete frame is buffered, its first byte arrived no
    // later than t.
    frame_started: Option<Instant>,
}

fn is_reset(kind: io::ErrorKind) -> bool {
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

impl<S, C> Framed<S, C> {
    /// A transport with the default [`FramedConfig`].
    pub fn new(io: S, codec: C) -> Self {
        Framed::with_valid_config(io, codec, FramedConfig::new())
    }

    /// A transport with `config`.
    ///
    /// ```
    /// use sockframe::{Framed, FramedConfig, LengthCodec};
    ///
    /// let framed = Framed::with_config(Vec::<u8>::new(), LengthCodec::new(), FramedConfig::new().send_cap(1 << 16))?;
    /// assert_eq!(framed.config().get_send_cap(), 1 << 16);
    /// # Ok::<(), sockframe::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// As [`FramedConfig::build`].
    pub fn with_config(io: S, codec: C, config: FramedConfig) -> Result<Self, ConfigError> {
        Ok(Framed::with_valid_config(io, codec, config.build()?))
    }

    fn with_valid_config(io: S, codec: C, config: FramedConfig) -> Self {
        Framed {
            io,
            codec,
            rbuf: RecvBuf::new(config.recv_initial, config.recv_cap),
            wq: SendQueue::new(config.send_cap),
            config,
            eof: false,
            last_read: Instant::now(),
            frame_started: None,
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &FramedConfig {
        &self.config
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The stream, mutably. Reading or writing it directly corrupts the framing.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The stream; buffered input and unsent output are dropped
    /// (see [`into_parts`](Self::into_parts) to keep them).
    pub fn into_inner(self) -> S {
        self.io
    }

    /// The stream, the codec, the received bytes not yet decoded, and the
    /// queued bytes not yet written.
    pub fn into_parts(self) -> (S, C, Vec<u8>, Vec<u8>) {
        let rest = self.rbuf.data().to_vec();
        let unsent = self.wq.pending().to_vec();
        (self.io, self.codec, rest, unsent)
    }

    /// The codec.
    pub fn codec(&self) -> &C {
        &self.codec
    }

    /// The codec, mutably.
    pub fn codec_mut(&mut self) -> &mut C {
        &mut self.codec
    }

    /// Bytes received and not yet returned as frames.
    pub fn read_buffer(&self) -> &[u8] {
        self.rbuf.data()
    }

    /// Bytes allocated for the receive buffer (it shrinks back after a large
    /// frame, BAD_INPUTS T7).
    pub fn recv_capacity(&self) -> usize {
        self.rbuf.capacity()
    }

    /// Queued bytes not yet written.
    pub fn pending_send_bytes(&self) -> usize {
        self.wq.len()
    }

    /// Whether bytes are queued: register for writability and call
    /// [`try_flush`](Self::try_flush) while this holds.
    pub fn wants_write(&self) -> bool {
        !self.wq.is_empty()
    }

    /// Whether the peer has closed its sending side (a read returned `Ok(0)`).
    /// Frames received before that may still be buffered.
    pub fn is_read_closed(&self) -> bool {
        self.eof
    }

    /// The earliest instant at which a deadline fires: the frame deadline
    /// while a frame is incomplete, else the idle timeout. Event loops use it
    /// as their poll timeout, then call [`check_deadlines`](Self::check_deadlines).
    pub fn next_deadline(&self) -> Option<Instant> {
        match self.frame_started {
            Some(start) => start.checked_add(self.config.frame_deadline),
            None if self.rbuf.is_empty() && !self.eof => self.last_read.checked_add(self.config.idle_timeout),
            None => None,
        }
    }

    /// Reports an expired deadline as of now.
    ///
    /// # Errors
    /// [`TransportError::Timeout`] with [`TimeoutKind::FrameDeadline`] or
    /// [`TimeoutKind::Idle`].
    pub fn check_deadlines(&self) -> Result<(), TransportError> {
        self.check_deadlines_at(Instant::now())
    }

    fn check_deadlines_at(&self, now: Instant) -> Result<(), TransportError> {
        let kind = match self.frame_started {
            Some(start) if now.saturating_duration_since(start) >= self.config.frame_deadline => {
                TimeoutKind::FrameDeadline
            }
            None if self.rbuf.is_empty()
                && !self.eof
                && now.saturating_duration_since(self.last_read) >= self.config.idle_timeout =>
            {
                TimeoutKind::Idle
            }
            _ => return Ok(()),
        };
        Err(TransportError::Timeout { kind, buffered: self.rbuf.len() })
    }
}

impl<S: Write, C> Framed<S, C> {
    /// Writes queued bytes until the queue is empty (`Ok(true)`) or the stream
    /// would block (`Ok(false)`, or a write timeout when `blocking`).
    fn write_queue(&mut self, blocking: bool) -> Result<bool, TransportError> {
        while !self.wq.is_empty() {
            match self.io.write(self.wq.pending()) {
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

    /// Writes every queued byte, blocking.
    ///
    /// # Errors
    /// [`TransportError::Timeout`] (kind `Write`) when the socket's write
    /// timeout expires or the stream is non-blocking; `WriteZero`;
    /// `SendFailed` when the peer is gone; `Io`. Except for `SendFailed`,
    /// unsent bytes stay queued and `flush` may be called again.
    pub fn flush(&mut self) -> Result<(), TransportError> {
        self.write_queue(true)?;
        self.io.flush()?;
        Ok(())
    }

    /// Writes as many queued bytes as the stream takes without blocking.
    /// `Ok(true)`: everything is written; `Ok(false)`: the stream would block,
    /// the rest stays queued (wait for writability).
    ///
    /// # Errors
    /// As [`flush`](Self::flush), without timeouts.
    pub fn try_flush(&mut self) -> Result<bool, TransportError> {
        if !self.write_queue(false)? {
            return Ok(false);
        }
        match self.io.flush() {
            Ok(()) => Ok(true),
            Err(e) if is_would_block(e.kind()) || e.kind() == io::ErrorKind::Interrupted => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends `queue ++ head ++ payload ++ tail` with vectored writes, without
    /// copying the payload. On a recoverable failure the unsent rest of the
    /// frame is queued, so a later flush resumes at the exact offset.
    fn send_vectored(&mut self, env: &Envelope, payload: &[u8]) -> Result<(), TransportError> {
        let parts = [self.wq.pending(), env.head(), payload, env.tail()];
        let (done, result) = write_parts(&mut self.io, parts);
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
        // Keep exactly the unsent bytes.
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
            Ok(n) => done += n.min(total - done),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Err(e)),
        }
    }
    (done, Ok(()))
}

impl<S: Write, C: Encoder> Framed<S, C> {
    /// Sends a frame, blocking as needed.
    ///
    /// Small frames are coalesced: they are queued and written out once
    /// [`write_batch`](FramedConfig::write_batch) bytes are queued, by
    /// [`flush`](Self::flush), or before [`recv`](Self::recv) waits for input.
    /// Payloads of [`vectored_min`](FramedConfig::vectored_min) bytes or more
    /// go out at once, together with anything queued, in one vectored write
    /// of queue + header + payload + trailer, without copying the payload.
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
    ///   could not be written out, e.g. a write timeout while the peer does not
    ///   read): the frame was **not** queued; retry `send` later.
    /// * [`TransportError::SendFailed`]: the peer is gone; `unsent` counts
    ///   this frame's unsent bytes too.
    /// * Any other error (`Timeout`, `WriteZero`, `Io`) concerns writing
    ///   *after* the frame was queued: do not send it again; call
    ///   [`flush`](Self::flush) to retry.
    #[inline(always)]
    pub fn send(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        if payload.len() >= self.config.vectored_min && self.send_large(payload)? {
            return Ok(());
        }
        // Small frames: encode straight into the queue (no intermediate
        // envelope). `write_batch <= send_cap` (checked by `build`), so the
        // queue can only be over its cap when it is also due for a write.
        let before = self.wq.len();
        self.encode_into_queue(payload)?;
        if self.wq.len() >= self.config.write_batch {
            return self.send_batch_full(before, payload);
        }
        Ok(())
    }

    /// [`send`](Self::send)'s path for a payload of `vectored_min` bytes or
    /// more: one vectored write. `Ok(false)`: the codec has no envelope, and
    /// the payload takes the small-frame path.
    #[inline(never)]
    fn send_large(&mut self, payload: &[u8]) -> Result<bool, TransportError> {
        let Some(env) = self.codec.envelope(payload)? else {
            return Ok(false);
        };
        let len = env
            .frame_len(payload.len())
            .ok_or(TransportError::Full { queued: self.wq.len(), cap: self.wq.cap() })?;
        self.make_room(len)?;
        self.send_vectored(&env, payload)?;
        Ok(true)
    }

    /// The queue grew from `before` bytes to at least `write_batch` by
    /// encoding `payload`: undo and retry if that went over the cap, then
    /// write the queue out once it holds `write_batch` bytes.
    #[inline(never)]
    fn send_batch_full(&mut self, before: usize, payload: &[u8]) -> Result<(), TransportError> {
        if before > 0 && self.wq.len() > self.wq.cap() {
            let len = self.wq.len() - before;
            self.wq.buffer_mut().truncate(before);
            self.make_room(len)?;
            self.encode_into_queue(payload)?;
        }
        if self.wq.len() >= self.config.write_batch {
            self.write_queue(true)?;
        }
        Ok(())
    }

    #[inline(always)]
    fn encode_into_queue(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        // Encoders write nothing on error, so the queue stays as it was.
        self.codec.encode(payload, self.wq.buffer_mut())?;
        Ok(())
    }

    /// Blocking: writes the queue out if `len` more bytes would not fit under
    /// the cap. A stalled peer becomes [`TransportError::Full`] (nothing
    /// queued) instead of unbounded growth (BAD_INPUTS E6).
    fn make_room(&mut self, len: usize) -> Result<(), TransportError> {
        if self.wq.has_room(len) {
            return Ok(());
        }
        match self.write_queue(true) {
            Ok(_) => Ok(()),
            Err(TransportError::Timeout { .. } | TransportError::WriteZero { .. }) => {
                Err(TransportError::Full { queued: self.wq.len(), cap: self.wq.cap() })
            }
            Err(e) => Err(e),
        }
    }

    /// Queues a frame without writing (non-blocking mode); write it out with
    /// [`try_flush`](Self::try_flush). An empty queue always accepts one
    /// frame, so memory stays below `max(send_cap, one frame)`. The payload is
    /// copied into the queue (the zero-copy vectored path is
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
        let before = self.wq.len();
        self.codec.encode(payload, self.wq.buffer_mut())?;
        if before > 0 && self.wq.len() > self.wq.cap() {
            self.wq.buffer_mut().truncate(before);
            return Err(TransportError::Full { queued: before, cap: self.wq.cap() });
        }
        Ok(())
    }
}

impl<S: Read + Write, C: Decoder> Framed<S, C> {
    /// Hands a decoded frame's payload to `f`, then drops the frame from the
    /// receive buffer.
    #[inline(always)]
    fn take_frame<T>(&mut self, frame: Frame, f: impl FnOnce(&[u8]) -> T) -> T {
        let out = f(frame.payload(self.rbuf.data()));
        self.rbuf.consume(frame.consumed());
        self.rbuf.maybe_shrink();
        // The rest arrived no later than the last read.
        self.frame_started = if self.rbuf.is_empty() { None } else { Some(self.last_read) };
        out
    }

    /// A frame already in the buffer is returned here, inlined into the
    /// caller's loop; everything else (reads, end of stream, deadlines) is
    /// [`recv_slow`](Self::recv_slow)'s.
    #[inline(always)]
    fn recv_inner<T>(
        &mut self,
        blocking: bool,
        f: impl FnOnce(&[u8]) -> T,
    ) -> Result<Recv<T>, TransportError> {
        if !self.eof {
            if let Some(frame) = self.codec.decode(self.rbuf.data_mut())? {
                return Ok(Recv::Frame(self.take_frame(frame, f)));
            }
        }
        self.recv_slow(blocking, f)
    }

    /// [`recv_inner`](Self::recv_inner) found no whole frame buffered: read
    /// until one is, or until the end of the stream, a would-block or an error.
    #[inline(never)]
    fn recv_slow<T>(
        &mut self,
        blocking: bool,
        f: impl FnOnce(&[u8]) -> T,
    ) -> Result<Recv<T>, TransportError> {
        loop {
            if self.eof {
                // A clean end, or Truncated when the stream ended inside a frame.
                return Ok(match self.codec.decode_eof(self.rbuf.data_mut())? {
                    Some(frame) => Recv::Frame(self.take_frame(frame, f)),
                    None => Recv::End,
                });
            }
            if blocking && !self.wq.is_empty() {
                // Never wait for a reply to a request still in our queue.
                self.write_queue(true)?;
            }
            if let Some(start) = self.frame_started {
                if self.last_read.saturating_duration_since(start) >= self.config.frame_deadline {
                    return Err(TransportError::Timeout {
                        kind: TimeoutKind::FrameDeadline,
                        buffered: self.rbuf.len(),
                    });
                }
            }
            match self.rbuf.read_from(&mut self.io) {
                Ok(ReadOutcome::Data(_)) => {
                    self.last_read = Instant::now();
                    if self.frame_started.is_none() {
                        self.frame_started = Some(self.last_read);
                    }
                }
                Ok(ReadOutcome::Eof) => {
                    self.eof = true;
                    self.frame_started = None;
                    continue;
                }
                Ok(ReadOutcome::Full) => return Err(TransportError::RecvBufferFull { cap: self.rbuf.cap() }),
                Err(e) if is_would_block(e.kind()) => {
                    self.check_deadlines()?;
                    return if blocking {
                        Err(TransportError::Timeout { kind: TimeoutKind::Read, buffered: self.rbuf.len() })
                    } else {
                        Ok(Recv::WouldBlock)
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
            if let Some(frame) = self.codec.decode(self.rbuf.data_mut())? {
                return Ok(Recv::Frame(self.take_frame(frame, f)));
            }
        }
    }

    /// Receives the next frame, blocking. `Ok(None)`: the peer closed at a
    /// frame boundary. Queued frames are flushed before it waits for input.
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
        self.recv_with(Bytes::copy_from_slice)
    }

    /// Like [`recv`](Self::recv), but lends the payload to `f` straight from
    /// the receive buffer: no allocation.
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
        match self.recv_inner(true, f)? {
            Recv::Frame(t) => Ok(Some(t)),
            Recv::End => Ok(None),
            // recv_inner(blocking) reports would-block as a timeout.
            Recv::WouldBlock => {
                Err(TransportError::Timeout { kind: TimeoutKind::Read, buffered: self.rbuf.len() })
            }
        }
    }

    /// Receives without blocking: a frame, [`Recv::WouldBlock`] (every byte
    /// read so far is kept), or [`Recv::End`]. Does not write; call
    /// [`try_flush`](Self::try_flush) for that.
    ///
    /// # Errors
    /// As [`recv`](Self::recv); timeouts only for the frame deadline and the
    /// idle timeout.
    pub fn try_recv(&mut self) -> Result<Recv<Bytes>, TransportError> {
        self.try_recv_with(Bytes::copy_from_slice)
    }

    /// [`try_recv`](Self::try_recv) lending the payload to `f`.
    ///
    /// # Errors
    /// As [`try_recv`](Self::try_recv).
    pub fn try_recv_with<T>(&mut self, f: impl FnOnce(&[u8]) -> T) -> Result<Recv<T>, TransportError> {
        self.recv_inner(false, f)
    }
}

impl<S: Write + HalfClose, C> Framed<S, C> {
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

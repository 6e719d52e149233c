//! [`FramedIo`]: a codec over blocking [`embedded_io`] streams (a UART, a USB
//! CDC port, a TCP socket of an embedded network stack), for firmware on
//! `no_std` + `alloc` (feature `embedded-io`).
//!
//! It drives the same [`RecvBuf`] and [`SendQueue`] as the std transport, and
//! goes through the same [`Decoder`]/[`Encoder`] contract: skip frames are
//! dropped and counted ([`FramedIo::skipped`]), the end of the stream is
//! [`Decoder::decode_eof`], so every codec of the crate works unchanged.
//!
//! | `read`/`write` returns | what `FramedIo` does |
//! |---|---|
//! | `Ok(n)`, short | keeps the bytes; resumes at the exact offset |
//! | `Ok(0)` from `read` | end of stream: remaining frames, then `Ok(None)` or `Decode(Truncated { pending })` |
//! | `Ok(0)` from `write` | [`FramedIoError::WriteZero`], queued bytes kept |
//! | an error of kind `Interrupted` | retried |
//! | any other error | [`FramedIoError::Io`] with the stream's own error; buffered and queued bytes are kept |
//!
//! `embedded_io` traits block until they make progress, so there is no
//! would-block and no timer here: bound a silent peer with the UART's own
//! timeout, reported as an I/O error.
//!
//! ```
//! use sockframe::embedded::FramedIo;
//! use sockframe::LengthCodec;
//!
//! // Sending: into any `embedded_io::Write`, here a byte array.
//! let mut wire = [0u8; 32];
//! let mut tx = FramedIo::new(&mut wire[..], LengthCodec::new());
//! tx.send(b"hello")?; // writes the frame out before it returns
//! tx.queue(b"world")?; // queued only...
//! tx.flush()?; // ...until a flush
//! let unused = tx.into_inner().len();
//! let sent = wire.len() - unused;
//!
//! // Receiving: from any `embedded_io::Read`, here the bytes just written.
//! let mut rx = FramedIo::new(&wire[..sent], LengthCodec::new());
//! assert_eq!(rx.recv()?.as_deref(), Some(&b"hello"[..]));
//! assert_eq!(rx.recv_with(|payload| payload.len())?, Some(5));
//! assert_eq!(rx.recv()?, None); // the stream ended at a frame boundary
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use bytes::Bytes;
use embedded_io::{Error as _, ErrorKind, Read, Write};

use crate::buffer::{PushError, ReadOutcome, RecvBuf, SendQueue};
use crate::codec::{Decoder, Encoder, Frame, SkipStats};
use crate::error::{ConfigError, DecodeError, EncodeError};

/// Settings for a [`FramedIo`]: a small `Copy` builder with finite defaults.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | [`recv_initial`](Self::recv_initial) | 4 KiB | receive buffer size it starts at and shrinks back to |
/// | [`recv_cap`](Self::recv_cap) | the codec's [`max_wire_len`](Decoder::max_wire_len) + 64 KiB | largest receive buffer; must hold the codec's largest frame |
/// | [`send_cap`](Self::send_cap) | 64 KiB | queued bytes before [`FramedIo::queue`] reports [`FramedIoError::Full`] |
///
/// On a small device, bound memory with a codec maximum and a receive cap
/// that fit it: the receive buffer never grows beyond `recv_cap`, the send
/// queue beyond `max(send_cap, one frame)`.
///
/// ```
/// use sockframe::embedded::{FramedIo, FramedIoConfig};
/// use sockframe::LengthCodec;
///
/// let codec = LengthCodec::builder().width(2).max_frame_length(256).build()?;
/// let config = FramedIoConfig::new().recv_initial(512).recv_cap(1024).send_cap(512).build()?;
/// let framed = FramedIo::with_config(&b""[..], codec, config)?;
/// assert_eq!(framed.recv_cap(), 1024);
/// assert_eq!(config.get_send_cap(), 512);
/// assert!(FramedIoConfig::new().send_cap(0).build().is_err());
/// # Ok::<(), sockframe::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramedIoConfig {
    recv_initial: usize,
    recv_cap: Option<usize>,
    send_cap: usize,
}

impl Default for FramedIoConfig {
    fn default() -> Self {
        FramedIoConfig::new()
    }
}

impl FramedIoConfig {
    /// The defaults listed above.
    ///
    /// ```
    /// use sockframe::embedded::FramedIoConfig;
    ///
    /// let config = FramedIoConfig::new();
    /// assert_eq!(config.get_recv_cap(), None); // derived from the codec
    /// assert_eq!(config, FramedIoConfig::default());
    /// ```
    pub const fn new() -> Self {
        FramedIoConfig { recv_initial: 4 * 1024, recv_cap: None, send_cap: 64 * 1024 }
    }

    /// Receive buffer size to start at and shrink back to (BAD_INPUTS T7).
    ///
    /// ```
    /// use sockframe::embedded::FramedIoConfig;
    ///
    /// assert!(FramedIoConfig::new().recv_initial(0).build().is_err());
    /// ```
    pub const fn recv_initial(mut self, bytes: usize) -> Self {
        self.recv_initial = bytes;
        self
    }

    /// Largest receive buffer, instead of the codec's
    /// [`max_wire_len`](Decoder::max_wire_len) plus one read. Frames that do
    /// not fit end in [`FramedIoError::RecvBufferFull`].
    ///
    /// ```
    /// use sockframe::embedded::FramedIoConfig;
    ///
    /// assert_eq!(FramedIoConfig::new().recv_cap(2048).get_recv_cap(), Some(2048));
    /// ```
    pub const fn recv_cap(mut self, bytes: usize) -> Self {
        self.recv_cap = Some(bytes);
        self
    }

    /// Send queue cap for [`FramedIo::queue`] (BAD_INPUTS E6).
    ///
    /// ```
    /// use sockframe::embedded::FramedIoConfig;
    ///
    /// assert_eq!(FramedIoConfig::new().send_cap(100).get_send_cap(), 100);
    /// ```
    pub const fn send_cap(mut self, bytes: usize) -> Self {
        self.send_cap = bytes;
        self
    }

    /// The send queue cap in force.
    ///
    /// ```
    /// use sockframe::embedded::FramedIoConfig;
    ///
    /// assert_eq!(FramedIoConfig::new().get_send_cap(), 64 * 1024);
    /// ```
    pub const fn get_send_cap(&self) -> usize {
        self.send_cap
    }

    /// The receive buffer cap set explicitly; `None`: derived from the codec.
    ///
    /// ```
    /// use sockframe::embedded::FramedIoConfig;
    ///
    /// assert_eq!(FramedIoConfig::new().get_recv_cap(), None);
    /// ```
    pub const fn get_recv_cap(&self) -> Option<usize> {
        self.recv_cap
    }

    /// Checks the settings; `recv_initial` is clamped to the receive cap.
    ///
    /// ```
    /// use sockframe::embedded::FramedIoConfig;
    ///
    /// assert!(FramedIoConfig::new().recv_cap(0).build().is_err());
    /// assert!(FramedIoConfig::new().recv_initial(1 << 20).recv_cap(64).build().is_ok());
    /// ```
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a zero size.
    pub fn build(mut self) -> Result<Self, ConfigError> {
        if self.recv_cap == Some(0) || self.recv_initial == 0 || self.send_cap == 0 {
            return Err(ConfigError::Invalid { reason: "buffer sizes must be positive" });
        }
        if let Some(cap) = self.recv_cap {
            self.recv_initial = self.recv_initial.min(cap);
        }
        Ok(self)
    }

    /// The receive buffer for `codec`.
    fn recv_buf<D: Decoder>(&self, codec: &D) -> RecvBuf {
        let cap =
            self.recv_cap.unwrap_or_else(|| codec.max_wire_len().saturating_add(crate::limits::READ_CHUNK));
        RecvBuf::new(self.recv_initial, cap)
    }
}

/// What went wrong moving frames over an `embedded_io` stream. `E` is the
/// stream's own error type.
///
/// Nothing buffered is lost to an error: received bytes stay in the receive
/// buffer, queued bytes in the send queue.
///
/// ```
/// use sockframe::embedded::FramedIoError;
/// use sockframe::DecodeError;
///
/// let e: FramedIoError<embedded_io::ErrorKind> = DecodeError::Truncated { pending: 3 }.into();
/// assert_eq!(e.to_string(), "stream ended inside a frame with 3 bytes pending");
/// let io = FramedIoError::Io(embedded_io::ErrorKind::TimedOut);
/// assert_eq!(io.to_string(), "I/O error: TimedOut");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramedIoError<E> {
    /// The stream reported an error (other than `Interrupted`, which is
    /// retried).
    #[error("I/O error: {0:?}")]
    Io(E),
    /// The peer's bytes violate the framing; the stream is corrupt. Ending
    /// inside a frame is `Decode(DecodeError::Truncated { pending })`.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The payload cannot be carried by this framing; nothing was queued.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The stream accepted zero bytes (`Ok(0)` from `write`); the bytes stay
    /// queued.
    #[error("write accepted zero bytes with {unsent} bytes unsent")]
    WriteZero {
        /// Bytes still queued.
        unsent: usize,
    },
    /// The send queue is at its cap; nothing was queued. Flush, then queue
    /// the frame again.
    #[error("send queue full: {queued} bytes queued, cap {cap}")]
    Full {
        /// Bytes queued now.
        queued: usize,
        /// The configured cap.
        cap: usize,
    },
    /// A frame does not fit in the receive buffer's cap. The stream cannot
    /// make progress; raise the cap to at least the codec's largest frame.
    #[error("receive buffer full at its cap of {cap} bytes without a complete frame")]
    RecvBufferFull {
        /// The configured cap.
        cap: usize,
    },
}

impl<E> From<PushError> for FramedIoError<E> {
    /// [`PushError::Encode`] to [`Encode`](Self::Encode), [`PushError::Full`]
    /// to [`Full`](Self::Full).
    ///
    /// ```
    /// use sockframe::buffer::PushError;
    /// use sockframe::embedded::FramedIoError;
    ///
    /// let e: FramedIoError<core::convert::Infallible> = PushError::Full { queued: 9, cap: 8 }.into();
    /// assert_eq!(e, FramedIoError::Full { queued: 9, cap: 8 });
    /// ```
    fn from(e: PushError) -> Self {
        match e {
            PushError::Encode(e) => FramedIoError::Encode(e),
            PushError::Full { queued, cap } => FramedIoError::Full { queued, cap },
        }
    }
}

/// A codec over a blocking `embedded_io` stream: frames in, frames out.
///
/// Receiving needs `T: embedded_io::Read`, sending `T: embedded_io::Write`;
/// a stream that does both can do both. See the [module docs](self).
///
/// ```
/// use sockframe::embedded::FramedIo;
/// use sockframe::DelimitedCodec;
///
/// let mut lines = FramedIo::new(&b"one\r\ntwo\n"[..], DelimitedCodec::lines());
/// assert_eq!(lines.recv()?.as_deref(), Some(&b"one"[..]));
/// assert_eq!(lines.recv()?.as_deref(), Some(&b"two"[..]));
/// assert_eq!(lines.recv()?, None);
/// # Ok::<(), sockframe::embedded::FramedIoError<core::convert::Infallible>>(())
/// ```
#[derive(Debug)]
pub struct FramedIo<T, C> {
    io: T,
    codec: C,
    rbuf: RecvBuf,
    wq: SendQueue,
    // The stream returned `Ok(0)`: decode with `decode_eof` from now on.
    eof: bool,
    skipped: SkipStats,
    config: FramedIoConfig,
}

impl<T, C: Decoder> FramedIo<T, C> {
    /// A driver with the default [`FramedIoConfig`].
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::LengthCodec;
    ///
    /// let framed = FramedIo::new(&b""[..], LengthCodec::new());
    /// assert_eq!(framed.recv_cap(), 8 * 1024 * 1024 + 4 + 64 * 1024); // the codec's largest frame + one read
    /// ```
    pub fn new(io: T, codec: C) -> Self {
        FramedIo::with_valid_config(io, codec, FramedIoConfig::new())
    }

    /// A driver with `config`.
    ///
    /// ```
    /// use sockframe::embedded::{FramedIo, FramedIoConfig};
    /// use sockframe::LengthCodec;
    ///
    /// let framed = FramedIo::with_config(&b""[..], LengthCodec::new(), FramedIoConfig::new().recv_cap(4096))?;
    /// assert_eq!(framed.recv_cap(), 4096);
    /// # Ok::<(), sockframe::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// As [`FramedIoConfig::build`].
    pub fn with_config(io: T, codec: C, config: FramedIoConfig) -> Result<Self, ConfigError> {
        Ok(FramedIo::with_valid_config(io, codec, config.build()?))
    }

    fn with_valid_config(io: T, codec: C, config: FramedIoConfig) -> Self {
        let rbuf = config.recv_buf(&codec);
        FramedIo {
            io,
            codec,
            rbuf,
            wq: SendQueue::new(config.send_cap),
            eof: false,
            skipped: SkipStats::default(),
            config,
        }
    }
}

impl<T, C> FramedIo<T, C> {
    /// The settings in force.
    ///
    /// ```
    /// use sockframe::embedded::{FramedIo, FramedIoConfig};
    /// use sockframe::LengthCodec;
    ///
    /// let framed = FramedIo::new(&b""[..], LengthCodec::new());
    /// assert_eq!(*framed.config(), FramedIoConfig::new());
    /// ```
    pub fn config(&self) -> &FramedIoConfig {
        &self.config
    }

    /// The stream.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::LengthCodec;
    ///
    /// let framed = FramedIo::new(&b"abc"[..], LengthCodec::new());
    /// assert_eq!(*framed.get_ref(), b"abc");
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The stream, mutably. Reading or writing it directly corrupts the
    /// framing.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::LengthCodec;
    ///
    /// let mut framed = FramedIo::new(&b"abc"[..], LengthCodec::new());
    /// *framed.get_mut() = &b""[..];
    /// assert_eq!(framed.recv()?, None);
    /// # Ok::<(), sockframe::embedded::FramedIoError<core::convert::Infallible>>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// The stream; buffered bytes (received and not decoded, queued and not
    /// written) are dropped. Flush first to keep nothing queued.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::LengthCodec;
    ///
    /// let mut out = [0u8; 8];
    /// let mut framed = FramedIo::new(&mut out[..], LengthCodec::new());
    /// framed.send(b"hi")?;
    /// assert_eq!(framed.into_inner().len(), 2); // 6 of 8 bytes used
    /// assert_eq!(&out[..6], b"\x00\x00\x00\x02hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_inner(self) -> T {
        self.io
    }

    /// The codec.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::LengthCodec;
    ///
    /// let framed = FramedIo::new(&b""[..], LengthCodec::new());
    /// assert_eq!(framed.codec().max_frame_length(), 8 * 1024 * 1024);
    /// ```
    pub fn codec(&self) -> &C {
        &self.codec
    }

    /// The codec, mutably.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::LengthCodec;
    ///
    /// let mut framed = FramedIo::new(&b""[..], LengthCodec::new());
    /// let _codec: &mut LengthCodec = framed.codec_mut();
    /// ```
    pub fn codec_mut(&mut self) -> &mut C {
        &mut self.codec
    }

    /// Bytes received and not yet returned as frames.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::LengthCodec;
    ///
    /// let mut framed = FramedIo::new(&b"\x00\x00\x00\x01a\x00\x00"[..], LengthCodec::new());
    /// assert_eq!(framed.recv()?.as_deref(), Some(&b"a"[..]));
    /// assert_eq!(framed.read_buffer(), b"\x00\x00");
    /// # Ok::<(), sockframe::embedded::FramedIoError<core::convert::Infallible>>(())
    /// ```
    pub fn read_buffer(&self) -> &[u8] {
        self.rbuf.data()
    }

    /// The receive buffer's cap: the configured one, or the codec's
    /// [`max_wire_len`](Decoder::max_wire_len) plus one read.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::LengthCodec;
    ///
    /// let codec = LengthCodec::builder().max_frame_length(100).build()?;
    /// assert_eq!(FramedIo::new(&b""[..], codec).recv_cap(), 104 + 64 * 1024);
    /// # Ok::<(), sockframe::ConfigError>(())
    /// ```
    pub fn recv_cap(&self) -> usize {
        self.rbuf.cap()
    }

    /// Whether the stream has ended (a read returned `Ok(0)`). Frames
    /// received before that may still be buffered.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::LengthCodec;
    ///
    /// let mut framed = FramedIo::new(&b""[..], LengthCodec::new());
    /// assert!(!framed.is_read_closed());
    /// assert_eq!(framed.recv()?, None);
    /// assert!(framed.is_read_closed());
    /// # Ok::<(), sockframe::embedded::FramedIoError<core::convert::Infallible>>(())
    /// ```
    pub fn is_read_closed(&self) -> bool {
        self.eof
    }

    /// What the codec skipped so far (discarded overlong lines): dropped from
    /// the buffer as they arrived, never delivered as frames.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::{DelimitedCodec, Overlong, SkipStats};
    ///
    /// let codec = DelimitedCodec::builder().max_frame_length(3).overlong(Overlong::Discard).build()?;
    /// let mut framed = FramedIo::new(&b"ok\ntoo long\nyes\n"[..], codec);
    /// assert_eq!(framed.recv()?.as_deref(), Some(&b"ok"[..]));
    /// assert_eq!(framed.recv()?.as_deref(), Some(&b"yes"[..]));
    /// assert_eq!(framed.skipped(), SkipStats { regions: 1, bytes: 9 });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn skipped(&self) -> SkipStats {
        self.skipped
    }

    /// Queued bytes not yet written.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::LengthCodec;
    ///
    /// let mut out = [0u8; 16];
    /// let mut framed = FramedIo::new(&mut out[..], LengthCodec::new());
    /// framed.queue(b"hi")?;
    /// assert_eq!(framed.pending_send_bytes(), 6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pending_send_bytes(&self) -> usize {
        self.wq.len()
    }
}

impl<T: Read, C: Decoder> FramedIo<T, C> {
    /// Receives the next frame, blocking. `Ok(None)`: the stream ended at a
    /// frame boundary (and stays ended). Does not write: flush queued frames
    /// before waiting for a reply to them.
    ///
    /// The payload is split off the receive buffer without copying;
    /// [`recv_with`](Self::recv_with) lends it instead.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::{DecodeError, LengthCodec};
    /// use sockframe::embedded::FramedIoError;
    ///
    /// let mut framed = FramedIo::new(&b"\x00\x00\x00\x02hi\x00\x00\x00\x05hel"[..], LengthCodec::new());
    /// assert_eq!(framed.recv()?.as_deref(), Some(&b"hi"[..]));
    /// // The stream ends inside the next frame: 7 bytes of it were received.
    /// assert_eq!(framed.recv(), Err(FramedIoError::Decode(DecodeError::Truncated { pending: 7 })));
    /// # Ok::<(), FramedIoError<core::convert::Infallible>>(())
    /// ```
    ///
    /// # Errors
    /// `Decode(Truncated { pending })` when the stream ends inside a frame;
    /// other `Decode` errors (the stream is corrupt); `RecvBufferFull`; `Io`
    /// (received bytes are kept, so `recv` may be called again).
    pub fn recv(&mut self) -> Result<Option<Bytes>, FramedIoError<T::Error>> {
        Ok(self.next_frame()?.map(|frame| self.rbuf.split_frame(frame)))
    }

    /// Like [`recv`](Self::recv), but lends the payload to `f` straight from
    /// the receive buffer: no allocation.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::LengthCodec;
    ///
    /// let mut framed = FramedIo::new(&b"\x00\x00\x00\x02hi"[..], LengthCodec::new());
    /// assert_eq!(framed.recv_with(|p| p.to_ascii_uppercase())?, Some(b"HI".to_vec()));
    /// assert_eq!(framed.recv_with(|p| p.len())?, None);
    /// # Ok::<(), sockframe::embedded::FramedIoError<core::convert::Infallible>>(())
    /// ```
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub fn recv_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>, FramedIoError<T::Error>> {
        let Some(frame) = self.next_frame()? else {
            return Ok(None);
        };
        let out = f(frame.payload(self.rbuf.data()));
        self.rbuf.consume(frame.consumed());
        Ok(Some(out))
    }

    /// The next frame, not yet consumed; skip frames are dropped and counted
    /// on the way, and the stream is read until a frame is whole or it ends.
    fn next_frame(&mut self) -> Result<Option<Frame>, FramedIoError<T::Error>> {
        loop {
            let data = self.rbuf.data_mut();
            let decoded = if self.eof { self.codec.decode_eof(data)? } else { self.codec.decode(data)? };
            match decoded {
                Some(frame) if frame.is_skip() => {
                    self.skipped.record(&frame);
                    self.rbuf.consume(frame.consumed());
                }
                Some(frame) => return Ok(Some(frame)),
                // decode_eof found no frame and no error: a clean end.
                None if self.eof => return Ok(None),
                None => self.fill()?,
            }
        }
    }

    /// One read into the receive buffer.
    fn fill(&mut self) -> Result<(), FramedIoError<T::Error>> {
        let io = &mut self.io;
        let outcome = self.rbuf.read_with(|spare| loop {
            match io.read(spare) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                result => break result,
            }
        });
        match outcome {
            Ok(ReadOutcome::Data(_)) => Ok(()),
            Ok(ReadOutcome::Eof) => {
                self.eof = true;
                Ok(())
            }
            Ok(ReadOutcome::Full) => Err(FramedIoError::RecvBufferFull { cap: self.rbuf.cap() }),
            Err(e) => Err(FramedIoError::Io(e)),
        }
    }
}

impl<T: Write, C: Encoder> FramedIo<T, C> {
    /// Queues a frame without writing; [`flush`](Self::flush) writes it out.
    /// A non-empty queue takes no frame that would take it over
    /// [`send_cap`](FramedIoConfig::send_cap); an empty one takes any frame,
    /// so memory stays below `max(send_cap, one frame)`.
    ///
    /// ```
    /// use sockframe::embedded::{FramedIo, FramedIoConfig, FramedIoError};
    /// use sockframe::LengthCodec;
    ///
    /// let mut out = [0u8; 64];
    /// let config = FramedIoConfig::new().send_cap(16);
    /// let mut framed = FramedIo::with_config(&mut out[..], LengthCodec::new(), config)?;
    /// framed.queue(b"0123456789")?;
    /// assert_eq!(framed.queue(b"more"), Err(FramedIoError::Full { queued: 14, cap: 16 }));
    /// framed.flush()?;
    /// framed.queue(b"more")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`FramedIoError::Full`] at the cap (nothing queued; flush, then
    /// retry), or [`FramedIoError::Encode`].
    pub fn queue(&mut self, payload: &[u8]) -> Result<(), FramedIoError<T::Error>> {
        Ok(self.wq.push(&mut self.codec, payload)?)
    }

    /// Sends a frame: queues it (writing out what was queued first if it
    /// does not fit) and writes the queue out, blocking. Does not call the
    /// stream's `flush`; [`flush`](Self::flush) does.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::LengthCodec;
    ///
    /// let mut out = [0u8; 16];
    /// let mut framed = FramedIo::new(&mut out[..], LengthCodec::new());
    /// framed.send(b"hi")?;
    /// assert_eq!(framed.pending_send_bytes(), 0);
    /// drop(framed);
    /// assert_eq!(&out[..6], b"\x00\x00\x00\x02hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// * [`FramedIoError::Encode`], or [`FramedIoError::Full`] (the frame
    ///   did not fit behind what was queued, and writing that out failed):
    ///   the frame was **not** queued; retry `send` later.
    /// * `WriteZero` or `Io`: writing failed *after* the frame was queued.
    ///   Do not send it again: queued bytes stay queued, and
    ///   [`flush`](Self::flush) retries them.
    pub fn send(&mut self, payload: &[u8]) -> Result<(), FramedIoError<T::Error>> {
        match self.wq.push(&mut self.codec, payload) {
            Ok(()) => {}
            Err(PushError::Full { .. }) => {
                // Whatever stopped the write, the frame is not queued: say
                // so with `Full`, so that every other error means "queued".
                // A lasting I/O error shows again at the next flush.
                if self.write_queue().is_err() {
                    return Err(FramedIoError::Full { queued: self.wq.len(), cap: self.wq.cap() });
                }
                self.wq.push(&mut self.codec, payload)?;
            }
            Err(e) => return Err(e.into()),
        }
        self.write_queue()
    }

    /// Writes every queued byte, then flushes the stream, blocking.
    ///
    /// ```
    /// use sockframe::embedded::FramedIo;
    /// use sockframe::LengthCodec;
    ///
    /// let mut out = [0u8; 16];
    /// let mut framed = FramedIo::new(&mut out[..], LengthCodec::new());
    /// framed.queue(b"a")?;
    /// framed.queue(b"b")?;
    /// framed.flush()?; // both frames in one write
    /// drop(framed);
    /// assert_eq!(&out[..10], b"\x00\x00\x00\x01a\x00\x00\x00\x01b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// `WriteZero` or `Io`; unsent bytes stay queued and `flush` may be
    /// called again.
    pub fn flush(&mut self) -> Result<(), FramedIoError<T::Error>> {
        self.write_queue()?;
        loop {
            match self.io.flush() {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                result => return result.map_err(FramedIoError::Io),
            }
        }
    }

    /// Writes the queue out: short writes resume at the exact offset.
    fn write_queue(&mut self) -> Result<(), FramedIoError<T::Error>> {
        while !self.wq.is_empty() {
            match self.io.write(self.wq.pending()) {
                Ok(0) => return Err(FramedIoError::WriteZero { unsent: self.wq.len() }),
                // (`advance` clamps a writer claiming more than it was given.)
                Ok(n) => self.wq.advance(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(FramedIoError::Io(e)),
            }
        }
        Ok(())
    }
}

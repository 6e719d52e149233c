//! [`AsyncFramed`]: a codec over [`futures_io::AsyncRead`] /
//! [`futures_io::AsyncWrite`] streams (feature `futures-io`): smol and
//! async-std sockets, and tokio's through `tokio_util::compat`.
//!
//! It drives the same [`RecvBuf`] and [`SendQueue`] as the blocking
//! transport, and goes through the same [`Decoder`]/[`Encoder`] contract:
//! skip frames are dropped and counted ([`AsyncFramed::skipped`]), the end of
//! the stream is [`Decoder::decode_eof`], so every codec of the crate works
//! unchanged. Errors are the transport's [`TransportError`]:
//!
//! | `poll_read`/`poll_write` returns | what `AsyncFramed` does |
//! |---|---|
//! | `Ready(Ok(n))`, short | keeps the bytes; resumes at the exact offset |
//! | `Ready(Ok(0))` from `poll_read` | end of stream: remaining frames, then `Ok(None)` or `Decode(Truncated { pending })` |
//! | `Ready(Ok(0))` from `poll_write` | [`TransportError::WriteZero`], queued bytes kept |
//! | `Interrupted` | retried |
//! | `Pending` | `Pending`: nothing buffered is lost, and a future dropped there loses nothing either |
//! | `ConnectionReset` & co. | [`TransportError::ResetMidFrame`] / [`TransportError::SendFailed`] with the byte counts |
//!
//! There are no timers here (the runtime has them): wrap a call in your
//! runtime's timeout to bound a silent peer.
//!
//! ```
//! use sockframe::futures_io::AsyncFramed;
//! use sockframe::LengthCodec;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! # rt.block_on(async {
//! // Sending, into any `AsyncWrite`: here a `Vec<u8>`.
//! let mut tx = AsyncFramed::new(Vec::new(), LengthCodec::new());
//! tx.send(b"hello").await?; // writes the frame out before it returns
//! tx.queue(b"world")?; // queued only...
//! tx.flush().await?; // ...until a flush
//! let wire = tx.into_inner();
//!
//! // Receiving, from any `AsyncRead`: here the bytes just written.
//! let mut rx = AsyncFramed::new(&wire[..], LengthCodec::new());
//! assert_eq!(rx.recv().await?.as_deref(), Some(&b"hello"[..]));
//! assert_eq!(rx.recv_with(|payload| payload.len()).await?, Some(5));
//! assert_eq!(rx.recv().await?, None); // the stream ended at a frame boundary
//! # Ok::<(), sockframe::TransportError>(())
//! # })?;
//! # Ok(())
//! # }
//! ```
//!
//! [`AsyncFramed`] is also a [`futures_core::Stream`] of frames, for
//! `StreamExt` combinators.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ::futures_io::{AsyncRead, AsyncWrite};
use bytes::Bytes;

use crate::buffer::{PushError, ReadOutcome, RecvBuf, SendQueue};
use crate::codec::{Decoder, Encoder, Frame, SkipStats};
use crate::error::{ConfigError, TransportError};
use crate::transport::{is_reset, FramedConfig};

/// A codec over an async byte stream: frames in, frames out.
///
/// Receiving needs `S: AsyncRead + Unpin`, sending `S: AsyncWrite + Unpin`
/// (pin a stream that is not `Unpin` with `Box::pin`). Settings come from a
/// [`FramedConfig`]: its receive buffer and send cap apply; its deadlines,
/// write batch and vectored minimum do not (use the runtime's timeouts).
/// See the [module docs](self).
///
/// ```
/// use sockframe::futures_io::AsyncFramed;
/// use sockframe::DelimitedCodec;
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build()?;
/// # rt.block_on(async {
/// let mut lines = AsyncFramed::new(&b"one\r\ntwo\n"[..], DelimitedCodec::lines());
/// assert_eq!(lines.recv().await?.as_deref(), Some(&b"one"[..]));
/// assert_eq!(lines.recv().await?.as_deref(), Some(&b"two"[..]));
/// assert_eq!(lines.recv().await?, None);
/// # Ok::<(), sockframe::TransportError>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AsyncFramed<S, C> {
    io: S,
    codec: C,
    rbuf: RecvBuf,
    wq: SendQueue,
    // The stream returned `Ok(0)`: decode with `decode_eof` from now on.
    eof: bool,
    // The `Stream` impl returned its last item (a clean end or an error).
    stream_done: bool,
    skipped: SkipStats,
    config: FramedConfig,
}

impl<S, C: Decoder> AsyncFramed<S, C> {
    /// A driver with the default [`FramedConfig`].
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// let framed = AsyncFramed::new(&b""[..], LengthCodec::new());
    /// assert_eq!(framed.recv_cap(), 8 * 1024 * 1024 + 4 + 64 * 1024); // the codec's largest frame + one read
    /// ```
    pub fn new(io: S, codec: C) -> Self {
        AsyncFramed::with_valid_config(io, codec, FramedConfig::new())
    }

    /// A driver with `config`.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::{FramedConfig, LengthCodec};
    ///
    /// let config = FramedConfig::new().recv_cap(4096).send_cap(1024);
    /// let framed = AsyncFramed::with_config(&b""[..], LengthCodec::new(), config)?;
    /// assert_eq!(framed.recv_cap(), 4096);
    /// assert_eq!(framed.config().get_send_cap(), 1024);
    /// # Ok::<(), sockframe::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// As [`FramedConfig::build`].
    pub fn with_config(io: S, codec: C, config: FramedConfig) -> Result<Self, ConfigError> {
        Ok(AsyncFramed::with_valid_config(io, codec, config.build()?))
    }

    fn with_valid_config(io: S, codec: C, config: FramedConfig) -> Self {
        let rbuf = config.recv_buf(&codec);
        AsyncFramed {
            io,
            codec,
            rbuf,
            wq: SendQueue::new(config.get_send_cap()),
            eof: false,
            stream_done: false,
            skipped: SkipStats::default(),
            config,
        }
    }
}

impl<S, C> AsyncFramed<S, C> {
    /// The settings in force.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::{FramedConfig, LengthCodec};
    ///
    /// let framed = AsyncFramed::new(&b""[..], LengthCodec::new());
    /// assert_eq!(*framed.config(), FramedConfig::new());
    /// ```
    pub fn config(&self) -> &FramedConfig {
        &self.config
    }

    /// The stream.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// let framed = AsyncFramed::new(&b"abc"[..], LengthCodec::new());
    /// assert_eq!(*framed.get_ref(), b"abc");
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The stream, mutably. Reading or writing it directly corrupts the
    /// framing.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// let mut framed = AsyncFramed::new(Vec::<u8>::new(), LengthCodec::new());
    /// framed.get_mut().extend_from_slice(b"raw"); // bypasses the framing
    /// assert_eq!(framed.get_ref(), b"raw");
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The stream; buffered bytes (received and not decoded, queued and not
    /// written) are dropped. Flush first to keep nothing queued.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// let framed = AsyncFramed::new(vec![1u8], LengthCodec::new());
    /// assert_eq!(framed.into_inner(), [1]);
    /// ```
    pub fn into_inner(self) -> S {
        self.io
    }

    /// The codec.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// let framed = AsyncFramed::new(&b""[..], LengthCodec::new());
    /// assert_eq!(framed.codec().max_frame_length(), 8 * 1024 * 1024);
    /// ```
    pub fn codec(&self) -> &C {
        &self.codec
    }

    /// The codec, mutably.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// let mut framed = AsyncFramed::new(&b""[..], LengthCodec::new());
    /// let _codec: &mut LengthCodec = framed.codec_mut();
    /// ```
    pub fn codec_mut(&mut self) -> &mut C {
        &mut self.codec
    }

    /// Bytes received and not yet returned as frames.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let mut framed = AsyncFramed::new(&b"\x00\x00\x00\x01a\x00\x00"[..], LengthCodec::new());
    /// assert_eq!(framed.recv().await?.as_deref(), Some(&b"a"[..]));
    /// assert_eq!(framed.read_buffer(), b"\x00\x00");
    /// # Ok::<(), sockframe::TransportError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_buffer(&self) -> &[u8] {
        self.rbuf.data()
    }

    /// The receive buffer's cap: the configured one, or the codec's
    /// [`max_wire_len`](Decoder::max_wire_len) plus one read.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// let codec = LengthCodec::builder().max_frame_length(100).build()?;
    /// assert_eq!(AsyncFramed::new(&b""[..], codec).recv_cap(), 104 + 64 * 1024);
    /// # Ok::<(), sockframe::ConfigError>(())
    /// ```
    pub fn recv_cap(&self) -> usize {
        self.rbuf.cap()
    }

    /// Whether the peer has closed its sending side (a read returned
    /// `Ok(0)`). Frames received before that may still be buffered.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let mut framed = AsyncFramed::new(&b""[..], LengthCodec::new());
    /// assert!(!framed.is_read_closed());
    /// assert_eq!(framed.recv().await?, None);
    /// assert!(framed.is_read_closed());
    /// # Ok::<(), sockframe::TransportError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_read_closed(&self) -> bool {
        self.eof
    }

    /// What the codec skipped so far (discarded overlong lines): dropped from
    /// the buffer as they arrived, never delivered as frames.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::{DelimitedCodec, Overlong, SkipStats};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let codec = DelimitedCodec::builder().max_frame_length(3).overlong(Overlong::Discard).build()?;
    /// let mut framed = AsyncFramed::new(&b"ok\ntoo long\nyes\n"[..], codec);
    /// assert_eq!(framed.recv().await?.as_deref(), Some(&b"ok"[..]));
    /// assert_eq!(framed.recv().await?.as_deref(), Some(&b"yes"[..]));
    /// assert_eq!(framed.skipped(), SkipStats { regions: 1, bytes: 9 });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn skipped(&self) -> SkipStats {
        self.skipped
    }

    /// Queued bytes not yet written.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// let mut framed = AsyncFramed::new(Vec::new(), LengthCodec::new());
    /// framed.queue(b"hi")?;
    /// assert_eq!(framed.pending_send_bytes(), 6);
    /// # Ok::<(), sockframe::TransportError>(())
    /// ```
    pub fn pending_send_bytes(&self) -> usize {
        self.wq.len()
    }
}

impl<S: AsyncRead + Unpin, C: Decoder> AsyncFramed<S, C> {
    /// Receives the next frame. `Ok(None)`: the peer closed at a frame
    /// boundary (and the stream stays ended). Does not write: flush queued
    /// frames before waiting for a reply to them.
    ///
    /// Cancel-safe: a future dropped before it completes loses no byte (what
    /// it read stays buffered for the next call).
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::{DecodeError, LengthCodec, TransportError};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let mut framed = AsyncFramed::new(&b"\x00\x00\x00\x02hi\x00\x00\x00\x05hel"[..], LengthCodec::new());
    /// assert_eq!(framed.recv().await?.as_deref(), Some(&b"hi"[..]));
    /// // The stream ends inside the next frame: 7 bytes of it were received.
    /// assert!(matches!(
    ///     framed.recv().await,
    ///     Err(TransportError::Decode(DecodeError::Truncated { pending: 7 }))
    /// ));
    /// # Ok::<(), TransportError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// `Decode(Truncated { pending })` when the stream ends inside a frame;
    /// `ResetMidFrame { discarded }`; `RecvBufferFull`; other `Decode`
    /// errors; `Io`.
    pub async fn recv(&mut self) -> Result<Option<Bytes>, TransportError> {
        let frame = poll_fn(|cx| self.poll_frame(cx)).await?;
        Ok(frame.map(|frame| self.rbuf.split_frame(frame)))
    }

    /// Like [`recv`](Self::recv), but lends the payload to `f` straight from
    /// the receive buffer: no allocation.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let mut framed = AsyncFramed::new(&b"\x00\x00\x00\x02hi"[..], LengthCodec::new());
    /// assert_eq!(framed.recv_with(|p| p.to_ascii_uppercase()).await?, Some(b"HI".to_vec()));
    /// assert_eq!(framed.recv_with(|p| p.len()).await?, None);
    /// # Ok::<(), sockframe::TransportError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub async fn recv_with<T>(&mut self, f: impl FnOnce(&[u8]) -> T) -> Result<Option<T>, TransportError> {
        let Some(frame) = poll_fn(|cx| self.poll_frame(cx)).await? else {
            return Ok(None);
        };
        let out = f(frame.payload(self.rbuf.data()));
        self.rbuf.consume(frame.consumed());
        Ok(Some(out))
    }

    /// The next frame, not yet consumed; skip frames are dropped and counted
    /// on the way, and the stream is read until a frame is whole, it ends,
    /// or it is not ready.
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Frame>, TransportError>> {
        loop {
            let data = self.rbuf.data_mut();
            let decoded = if self.eof { self.codec.decode_eof(data) } else { self.codec.decode(data) };
            match decoded? {
                Some(frame) if frame.is_skip() => {
                    self.skipped.record(&frame);
                    self.rbuf.consume(frame.consumed());
                    continue;
                }
                Some(frame) => return Poll::Ready(Ok(Some(frame))),
                // decode_eof found no frame and no error: a clean end.
                None if self.eof => return Poll::Ready(Ok(None)),
                None => {}
            }
            let io = &mut self.io;
            // `Err(None)`: not ready.
            let outcome = self.rbuf.read_with(|spare| loop {
                match Pin::new(&mut *io).poll_read(cx, spare) {
                    Poll::Pending => break Err(None),
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Poll::Ready(result) => break result.map_err(Some),
                }
            });
            match outcome {
                Ok(ReadOutcome::Data(_)) => {}
                Ok(ReadOutcome::Eof) => self.eof = true,
                Ok(ReadOutcome::Full) => {
                    return Poll::Ready(Err(TransportError::RecvBufferFull { cap: self.rbuf.cap() }));
                }
                Err(None) => return Poll::Pending,
                Err(Some(e)) if is_reset(e.kind()) && !self.rbuf.is_empty() => {
                    let discarded = self.rbuf.len();
                    self.rbuf.consume(discarded);
                    return Poll::Ready(Err(TransportError::ResetMidFrame { discarded, source: e }));
                }
                Err(Some(e)) => return Poll::Ready(Err(TransportError::Io(e))),
            }
        }
    }
}

impl<S: AsyncWrite + Unpin, C: Encoder> AsyncFramed<S, C> {
    /// Queues a frame without writing; [`flush`](Self::flush) writes it out.
    /// A non-empty queue takes no frame that would take it over
    /// [`send_cap`](FramedConfig::send_cap); an empty one takes any frame,
    /// so memory stays below `max(send_cap, one frame)`.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::{FramedConfig, LengthCodec, TransportError};
    ///
    /// let config = FramedConfig::new().send_cap(16);
    /// let mut framed = AsyncFramed::with_config(Vec::new(), LengthCodec::new(), config)?;
    /// framed.queue(b"0123456789")?;
    /// assert!(matches!(framed.queue(b"more"), Err(TransportError::Full { queued: 14, cap: 16 })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`TransportError::Full`] at the cap (nothing queued; flush, then
    /// retry), or [`TransportError::Encode`].
    pub fn queue(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        self.wq.encode(&mut self.codec, payload)
    }

    /// Sends a frame: queues it (writing out what was queued first if it
    /// does not fit) and writes the queue out. Does not flush the stream;
    /// [`flush`](Self::flush) does.
    ///
    /// A future dropped before it completes loses nothing: the frame, once
    /// queued, stays queued for the next `send` or `flush`.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let mut framed = AsyncFramed::new(Vec::new(), LengthCodec::new());
    /// framed.send(b"hi").await?;
    /// assert_eq!(framed.pending_send_bytes(), 0);
    /// assert_eq!(framed.get_ref(), b"\x00\x00\x00\x02hi");
    /// # Ok::<(), sockframe::TransportError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// * [`TransportError::Encode`], or [`TransportError::Full`] (the frame
    ///   did not fit behind what was queued, and writing that out failed):
    ///   the frame was **not** queued; retry `send` later.
    /// * [`TransportError::SendFailed`]: the peer is gone; `unsent` counts
    ///   the queued bytes that never reached the stream, and nothing is
    ///   queued any more.
    /// * `WriteZero` or `Io`: writing failed *after* the frame was queued.
    ///   Do not send it again: queued bytes stay queued, and
    ///   [`flush`](Self::flush) retries them.
    pub async fn send(&mut self, payload: &[u8]) -> Result<(), TransportError> {
        match self.wq.push(&mut self.codec, payload) {
            Ok(()) => {}
            Err(PushError::Full { .. }) => {
                // Whatever stopped the write, the frame is not queued: say
                // so with `Full`, so that every other error means "queued".
                // A lasting I/O error shows again at the next flush.
                match poll_fn(|cx| self.poll_write_queue(cx)).await {
                    Ok(()) => {}
                    Err(e @ TransportError::SendFailed { .. }) => return Err(e),
                    Err(_) => {
                        return Err(TransportError::Full { queued: self.wq.len(), cap: self.wq.cap() });
                    }
                }
                self.wq.encode(&mut self.codec, payload)?;
            }
            Err(PushError::Encode(e)) => return Err(TransportError::Encode(e)),
        }
        poll_fn(|cx| self.poll_write_queue(cx)).await
    }

    /// Writes every queued byte, then flushes the stream.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let mut framed = AsyncFramed::new(Vec::new(), LengthCodec::new());
    /// framed.queue(b"a")?;
    /// framed.queue(b"b")?;
    /// framed.flush().await?; // both frames in one write
    /// assert_eq!(framed.get_ref(), b"\x00\x00\x00\x01a\x00\x00\x00\x01b");
    /// # Ok::<(), sockframe::TransportError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`send`](Self::send)'s write errors; except after `SendFailed`,
    /// unsent bytes stay queued and `flush` may be called again.
    pub async fn flush(&mut self) -> Result<(), TransportError> {
        poll_fn(|cx| self.poll_flush_all(cx)).await
    }

    /// Flushes, then closes the stream (`poll_close`: for a TCP stream, a
    /// FIN): the peer sees a clean end after our last frame.
    ///
    /// ```
    /// use sockframe::futures_io::AsyncFramed;
    /// use sockframe::LengthCodec;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let mut framed = AsyncFramed::new(Vec::new(), LengthCodec::new());
    /// framed.queue(b"bye")?;
    /// framed.close().await?;
    /// assert_eq!(framed.get_ref(), b"\x00\x00\x00\x03bye");
    /// # Ok::<(), sockframe::TransportError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`flush`](Self::flush), or the close's I/O error.
    pub async fn close(&mut self) -> Result<(), TransportError> {
        poll_fn(|cx| {
            ready!(self.poll_flush_all(cx))?;
            Pin::new(&mut self.io).poll_close(cx).map_err(TransportError::Io)
        })
        .await
    }

    /// The queue, then the stream's own flush.
    fn poll_flush_all(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        ready!(self.poll_write_queue(cx))?;
        loop {
            match ready!(Pin::new(&mut self.io).poll_flush(cx)) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return Poll::Ready(result.map_err(TransportError::Io)),
            }
        }
    }

    /// Writes the queue out: short writes resume at the exact offset.
    fn poll_write_queue(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        while !self.wq.is_empty() {
            match ready!(Pin::new(&mut self.io).poll_write(cx, self.wq.pending())) {
                Ok(0) => return Poll::Ready(Err(TransportError::WriteZero { unsent: self.wq.len() })),
                // (`advance` clamps a writer claiming more than it was given.)
                Ok(n) => self.wq.advance(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_reset(e.kind()) => {
                    let unsent = self.wq.len();
                    self.wq.clear();
                    return Poll::Ready(Err(TransportError::SendFailed { unsent, source: e }));
                }
                Err(e) => return Poll::Ready(Err(TransportError::Io(e))),
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// The frames as a stream, as [`AsyncFramed::recv`] returns them; it ends at
/// a clean end of the byte stream, and after the first error.
///
/// ```
/// use futures_util::StreamExt;
/// use sockframe::futures_io::AsyncFramed;
/// use sockframe::LengthCodec;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let wire = b"\x00\x00\x00\x01a\x00\x00\x00\x01b\x00";
/// let frames: Vec<_> = AsyncFramed::new(&wire[..], LengthCodec::new()).collect().await;
/// assert_eq!(frames.len(), 3); // "a", "b", then Truncated
/// assert_eq!(frames[1].as_ref().ok().map(|b| &b[..]), Some(&b"b"[..]));
/// assert!(frames[2].is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl<S: AsyncRead + Unpin, C: Decoder + Unpin> futures_core::Stream for AsyncFramed<S, C> {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.stream_done {
            return Poll::Ready(None);
        }
        match ready!(this.poll_frame(cx)) {
            Ok(Some(frame)) => Poll::Ready(Some(Ok(this.rbuf.split_frame(frame)))),
            Ok(None) => {
                this.stream_done = true;
                Poll::Ready(None)
            }
            Err(e) => {
                this.stream_done = true;
                Poll::Ready(Some(Err(e)))
            }
        }
    }
}

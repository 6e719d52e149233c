//! The two buffers between a codec and a socket.
//!
//! * [`RecvBuf`]: bytes read and not yet decoded. Reads (64 KiB at most) go straight into its
//!   spare capacity; it grows only when a frame needs room, up to a cap, and
//!   shrinks back by itself once the traffic no longer needs the room (T7 in
//!   `docs/hostile-inputs.md`).
//!   [`RecvBuf::frames`] walks its frames and drops them as it goes.
//! * [`SendQueue`]: encoded bytes not yet written. Small frames coalesce into
//!   one write; after a short write it resumes at the exact offset.
//!
//! Both are plain data structures, and need only `alloc`: the std
//! transport (`Framed`, with the `std` feature) drives them, and so do the
//! `embedded-io` and `futures-io` drivers. Only [`RecvBuf::read_from`] (a
//! `std::io::Read`) and [`SendQueue::encode`] (a `TransportError`) need `std`;
//! [`RecvBuf::read_with`] and [`SendQueue::push`] are their I/O-agnostic
//! cores.
//!
//! # Three ways to take frames out of a receive buffer
//!
//! Each loop below reads a whole stream (any [`Read`]: a socket, a file, a
//! pipe) and handles its end: bytes left over at the end are a truncated
//! frame, reported as [`DecodeError::Truncated`].
//!
//! Borrowed payloads, straight out of the buffer (no allocation, no
//! reference count):
//!
//! ```
//! use sockframe::buffer::{ReadOutcome, RecvBuf};
//! use sockframe::LengthCodec;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut stream: &[u8] = b"\x00\x00\x00\x02hi\x00\x00\x00\x03you";
//! let (mut codec, mut buf) = (LengthCodec::new(), RecvBuf::new(4096, 1 << 20));
//! let mut total = 0;
//! loop {
//!     let eof = buf.read_from(&mut stream)? == ReadOutcome::Eof;
//!     let frames = if eof { buf.frames_at_eof(&mut codec) } else { buf.frames(&mut codec) };
//!     for payload in frames {
//!         total += payload?.len(); // `payload` is a `&[u8]` into the buffer
//!     }
//!     if eof {
//!         break;
//!     }
//! }
//! assert_eq!(total, 5);
//! # Ok(())
//! # }
//! ```
//!
//! Owned [`Bytes`], split off the buffer without copying (one reference
//! count per frame), to keep or send to another thread:
//!
//! ```
//! use bytes::Bytes;
//! use sockframe::buffer::{ReadOutcome, RecvBuf};
//! use sockframe::LengthCodec;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut stream: &[u8] = b"\x00\x00\x00\x02hi\x00\x00\x00\x03you";
//! let (mut codec, mut buf) = (LengthCodec::new(), RecvBuf::new(4096, 1 << 20));
//! let mut kept: Vec<Bytes> = Vec::new();
//! loop {
//!     let eof = buf.read_from(&mut stream)? == ReadOutcome::Eof;
//!     let frames = if eof { buf.frames_owned_at_eof(&mut codec) } else { buf.frames_owned(&mut codec) };
//!     for payload in frames {
//!         kept.push(payload?);
//!     }
//!     if eof {
//!         break;
//!     }
//! }
//! assert_eq!(kept, ["hi", "you"]);
//! # Ok(())
//! # }
//! ```
//!
//! Text lines, UTF-8 checked, borrowed as `&str` (or owned as
//! [`Utf8Bytes`] with `frames_owned(..).text()`); a line that is not UTF-8
//! is an error for that line only:
//!
//! ```
//! use sockframe::buffer::{ReadOutcome, RecvBuf};
//! use sockframe::{DecodeError, DelimitedCodec};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut stream: &[u8] = b"hello\r\n\xffoops\nworld\n";
//! let (mut codec, mut buf) = (DelimitedCodec::lines(), RecvBuf::new(4096, 1 << 20));
//! let mut lines = Vec::new();
//! loop {
//!     let eof = buf.read_from(&mut stream)? == ReadOutcome::Eof;
//!     let frames = if eof { buf.frames_at_eof(&mut codec) } else { buf.frames(&mut codec) };
//!     for line in frames.text() {
//!         match line {
//!             Ok(text) => lines.push(text.to_owned()),
//!             Err(DecodeError::InvalidUtf8 { .. }) => lines.push("<not UTF-8>".to_owned()),
//!             Err(e) => return Err(e.into()),
//!         }
//!     }
//!     if eof {
//!         break;
//!     }
//! }
//! // (A last line without its newline would end the loop with `Truncated`.)
//! assert_eq!(lines, ["hello", "<not UTF-8>", "world"]);
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "std")]
use std::io::{self, Read};

use bytes::{Buf, Bytes, BytesMut};

use crate::codec::{Decoder, Encoder, Frame, Frames, SkipStats, SliceEncode, TextFrames};
#[cfg(feature = "std")]
use crate::error::TransportError;
use crate::error::{DecodeError, EncodeError};

/// Reads smaller than this are not worth a syscall while the buffer can
/// still compact or grow.
const MIN_READ: usize = 4096;

/// The least a [`SendQueue`] allocates.
const FIRST_SEND_ALLOCATION: usize = 4096;

/// The least a [`SendQueue`] initialises at a time for encoders that write
/// into slices: small, so that an idle connection's queue touches little
/// of its allocation.
const SPARE_STEP: usize = 512;

/// Frames up to this size are written into the queue's initialised spare
/// memory; larger ones are appended (zeroing memory first would cost more
/// than the length updates it saves).
const SLICE_MAX: usize = 64 * 1024;

/// The most one [`RecvBuf::read_with`] asks for. Larger reads measured
/// slower over loopback TCP (the receiver holds the socket longer per call
/// while the sender waits), and a 64 KiB read already amortises the syscall.
const MAX_READ: usize = 64 * 1024;

/// Receive buffer: a byte vector with a window of unconsumed bytes.
///
/// Bytes come in through [`read_from`](Self::read_from) (a reader),
/// [`extend_from_slice`](Self::extend_from_slice) (bytes you already have) or
/// [`spare`](Self::spare) + [`commit`](Self::commit); frames go out through
/// [`frames`](Self::frames), which drops each frame as it is walked.
///
/// The buffer manages its own size: it grows while a frame needs room (up to
/// the cap) and gives the room back once a whole buffer's worth of traffic
/// has gone by without needing more than a quarter of it, so releasing
/// memory never costs more than a small fraction of the bytes processed.
///
/// A whole receive loop, to the end of the stream:
///
/// ```
/// use sockframe::buffer::{ReadOutcome, RecvBuf};
/// use sockframe::{Decoder, LengthCodec};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut socket: &[u8] = b"\x00\x00\x00\x05hello\x00\x00\x00\x05world";
/// let mut codec = LengthCodec::new();
/// let mut buf = RecvBuf::new(4096, 1 << 20);
/// let mut got = Vec::new();
/// loop {
///     for payload in buf.frames(&mut codec) {
///         got.push(payload?.to_vec());
///     }
///     if buf.read_from(&mut socket)? == ReadOutcome::Eof {
///         break;
///     }
/// }
/// // At the end: any bytes left are a truncated frame.
/// for payload in buf.frames_at_eof(&mut codec) {
///     got.push(payload?.to_vec());
/// }
/// assert_eq!(got, [b"hello", b"world"]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct RecvBuf {
    // `buf.len()` is the allocated, initialised size. A `BytesMut`, so that
    // owned frames split off it without copying.
    buf: BytesMut,
    // 0 <= start <= end <= buf.len() <= cap
    start: usize,
    end: usize,
    initial: usize,
    cap: usize,
    // The shrink policy: bytes consumed since the last review, and the most
    // bytes held at once in that time.
    window: usize,
    peak: usize,
    // Bytes that owned frames took off the front of the current allocation
    // (`split_frame`): the allocation is `split + buf.capacity()` bytes, and
    // these bytes count as consumed front when deciding whether moving the
    // live bytes back to the start is cheap.
    split: usize,
}

/// [`RecvBuf::extend_from_slice`] was given more bytes than fit under the cap;
/// nothing was appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{additional} more bytes do not fit: {len} buffered, cap {cap}")]
pub struct CapExceeded {
    /// Bytes buffered.
    pub len: usize,
    /// Bytes offered.
    pub additional: usize,
    /// The buffer's cap.
    pub cap: usize,
}

/// What one [`RecvBuf::read_with`] (or `read_from`) did.
///
/// ```
/// use sockframe::buffer::{ReadOutcome, RecvBuf};
///
/// let mut buf = RecvBuf::new(4, 4);
/// let two = |room: &mut [u8]| -> Result<usize, ()> {
///     room[..2].copy_from_slice(b"hi");
///     Ok(2)
/// };
/// assert_eq!(buf.read_with(two), Ok(ReadOutcome::Data(2)));
/// assert_eq!(buf.read_with(|_| Ok::<_, ()>(0)), Ok(ReadOutcome::Eof));
/// assert_eq!(buf.read_with(two), Ok(ReadOutcome::Data(2)));
/// // At the cap: no read at all (BAD_INPUTS T1).
/// assert_eq!(buf.read_with(|_| Err("not called")), Ok(ReadOutcome::Full));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// `n > 0` bytes were appended.
    Data(usize),
    /// The reader returned `Ok(0)`: end of stream.
    Eof,
    /// The buffer is at its cap; no read was attempted (BAD_INPUTS T1).
    Full,
}

impl RecvBuf {
    /// An empty buffer that starts at `initial` bytes (allocated on the first
    /// read) and never grows beyond `cap`. `initial` is clamped to `1..=cap`.
    pub fn new(initial: usize, cap: usize) -> Self {
        let cap = cap.max(1);
        RecvBuf {
            buf: BytesMut::new(),
            start: 0,
            end: 0,
            initial: initial.clamp(1, cap),
            cap,
            window: 0,
            peak: 0,
            split: 0,
        }
    }

    /// Appends `bytes` (received through another layer, a capture, a test).
    ///
    /// ```
    /// use sockframe::buffer::{CapExceeded, RecvBuf};
    ///
    /// let mut buf = RecvBuf::new(4, 8);
    /// buf.extend_from_slice(b"hello")?;
    /// assert_eq!(buf.data(), b"hello");
    /// assert_eq!(buf.extend_from_slice(b"world"), Err(CapExceeded { len: 5, additional: 5, cap: 8 }));
    /// assert_eq!(buf.data(), b"hello"); // all or nothing
    /// # Ok::<(), CapExceeded>(())
    /// ```
    ///
    /// # Errors
    /// [`CapExceeded`] if the bytes would take the buffer over its cap;
    /// nothing is appended then.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) -> Result<(), CapExceeded> {
        let len = self.len();
        let n = bytes.len();
        if n > self.cap - len {
            return Err(CapExceeded { len, additional: n, cap: self.cap });
        }
        if self.window >= self.allocated() {
            self.review();
        }
        // (Only a shortcut: `make_room` does nothing when the bytes fit.)
        if self.buf.len() - self.end < n {
            self.make_room(n);
        }
        match self.buf.get_mut(self.end..self.end + n) {
            Some(room) => room.copy_from_slice(bytes),
            None => {
                // Append past the initialised part, with no zero-filling
                // first: the allocation is reclaimed, or grows (doubling, up
                // to the cap).
                let total = self.end + n;
                let doubled = self.allocated().saturating_mul(2).max(self.initial).min(self.cap);
                let _ = self.reserve_total(total, total.max(doubled));
                self.buf.truncate(self.end);
                self.buf.extend_from_slice(bytes);
            }
        }
        self.end += n;
        self.peak = self.peak.max(self.end - self.start);
        Ok(())
    }

    /// Makes the allocation hold `need` bytes counted from the buffer's
    /// current start (the consumed front included), never passing the cap.
    /// It moves the live bytes back to the start of the allocation when that
    /// is cheap (the rule of [`spare`](Self::spare), with the bytes owned
    /// frames took off the front counted as freed) or when `grow_to` is no
    /// larger than the allocation, and no owned frame still holds it; else
    /// it allocates `grow_to` (>= `need`) bytes exactly (a `Vec`'s amortised
    /// growth could pass the cap). So a stream of large owned frames settles
    /// on a buffer where moving a partial frame is rare, as borrowed frames
    /// do, instead of moving nearly every frame once. When the allocation
    /// changes, the consumed front is dropped and `start` becomes 0; returns
    /// how many bytes that was.
    fn reserve_total(&mut self, need: usize, grow_to: usize) -> usize {
        if self.buf.capacity() >= need {
            return 0;
        }
        let allocated = self.allocated();
        let dropped = self.start;
        self.buf.truncate(self.end);
        self.buf.advance(dropped);
        self.end -= dropped;
        self.start = 0;
        let front = self.split.saturating_add(dropped);
        let cheap = self.end <= MIN_READ || self.end.saturating_mul(8) <= front;
        let reclaim = cheap || grow_to <= allocated;
        // (Equivalent mutants: `need + dropped` for `need - dropped`, here
        // and twice below. A front is dropped here only when it was not
        // cheap to compact, and then `reclaim` holds only at the cap, where
        // `spare` and `make_room` compact first; so `dropped` is 0 whenever
        // these are reached. Callers also pass `grow_to >= need`.)
        if !(reclaim && self.buf.try_reclaim(need - dropped - self.end)) {
            let size = if reclaim && self.split > 0 {
                // Owned frames the caller keeps hold the allocation: carry
                // on in fresh memory of the initial size, not twice theirs.
                (need - dropped).max(self.initial)
            } else {
                grow_to.max(need - dropped)
            };
            let mut fresh = BytesMut::with_capacity(size);
            fresh.extend_from_slice(&self.buf);
            self.buf = fresh;
        }
        self.split = 0;
        dropped
    }

    /// The size of the current allocation, counting the front that owned
    /// frames took.
    #[inline]
    fn allocated(&self) -> usize {
        self.split.saturating_add(self.buf.capacity())
    }

    /// A frame of `frame_len` wire bytes is arriving at the front of the
    /// buffer ([`Decoder::frame_len_hint`]): makes room for all of it and one
    /// read after it in one step, within the cap, instead of doubling past
    /// it as reads come in. A frame that already fits changes nothing.
    ///
    /// ```
    /// use sockframe::buffer::RecvBuf;
    ///
    /// let mut buf = RecvBuf::new(4096, 16 << 20);
    /// buf.extend_from_slice(b"\x00\x40\x00\x00")?; // a 4 MiB frame begins
    /// buf.reserve_frame(4 + (4 << 20));
    /// assert!(buf.capacity() >= 4 + (4 << 20));
    /// assert!(buf.capacity() < 5 << 20); // not 8 MiB
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_frame(&mut self, frame_len: usize) {
        let need = frame_len.saturating_add(MAX_READ).min(self.cap);
        if self.buf.len() - self.start >= need {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        self.reserve_total(need, need);
        let len = need.min(self.buf.capacity()).max(self.end);
        self.buf.resize(len, 0);
    }

    /// Before appending `n` bytes that do not fit after the data: moves the
    /// live bytes to the front when that is cheap (as [`spare`](Self::spare)
    /// decides: at most 4 KiB, or at most 1/8 of what it frees) or when the
    /// buffer may not grow (the cap). Otherwise `reserve_total` grows it, so
    /// a stream of large frames settles on a buffer where moving is cheap.
    #[cold]
    fn make_room(&mut self, n: usize) {
        let len = self.len();
        let cheap = len <= MIN_READ || len.saturating_mul(8) <= self.start;
        // (Equivalent mutants: `start >= 0`, since compacting from 0 moves
        // nothing; and compacting in more cases, which changes where the
        // live bytes sit and how often they move, never what the buffer
        // holds.)
        if self.start > 0 && (cheap || self.end + n > self.cap) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end = len;
            self.start = 0;
        }
        self.reclaim_front();
    }

    /// Owned frames took the front of the allocation: once they are all
    /// dropped and at most 4 KiB are live, moves those bytes back to its
    /// start, as compaction does for borrowed frames. So the receive buffer
    /// keeps reusing the same cache-warm memory, instead of filling the rest
    /// of the allocation and then moving (or reallocating for) a large
    /// partial frame. While the caller keeps a frame, nothing moves.
    #[inline]
    fn reclaim_front(&mut self) {
        // (Equivalent mutant: `split >= 0`. With no front taken, the
        // `BytesMut` starts its allocation and `try_reclaim` moves nothing;
        // the truncation only drops initialised bytes after the data.)
        if self.split > 0 && self.start == 0 && self.end <= MIN_READ {
            self.buf.truncate(self.end);
            // Asking for the whole allocation makes the `BytesMut` move the
            // bytes to its start (it never allocates in `try_reclaim`).
            if self.buf.try_reclaim(self.allocated() - self.end) {
                self.split = 0;
            }
        }
    }

    /// The frames in the buffer, each dropped from it as the iterator walks
    /// past it (also when the loop stops early, e.g. at a `?`). Payloads are
    /// lent straight out of the buffer. The iteration ends at need-more or
    /// after the first error; errors are sticky in the codecs, so decoding
    /// again returns the same error.
    ///
    /// ```
    /// use sockframe::buffer::RecvBuf;
    /// use sockframe::LengthCodec;
    ///
    /// let mut codec = LengthCodec::new();
    /// let mut buf = RecvBuf::new(64, 64);
    /// buf.extend_from_slice(b"\x00\x00\x00\x01a\x00\x00\x00\x02bc\x00\x00")?;
    /// let got: Vec<&[u8]> = buf.frames(&mut codec).collect::<Result<_, _>>()?;
    /// assert_eq!(got, [&b"a"[..], b"bc"]);
    /// assert_eq!(buf.data(), b"\x00\x00"); // a partial header stays
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn frames<'a, D: Decoder + ?Sized>(&'a mut self, decoder: &'a mut D) -> RecvFrames<'a, D> {
        self.walk(decoder, false)
    }

    /// [`frames`](Self::frames) at the end of the stream: bytes left that do
    /// not form a frame end it with [`DecodeError::Truncated`].
    pub fn frames_at_eof<'a, D: Decoder + ?Sized>(&'a mut self, decoder: &'a mut D) -> RecvFrames<'a, D> {
        self.walk(decoder, true)
    }

    /// The frames in the buffer as owned [`Bytes`], split off it without
    /// copying (one reference count per frame, as tokio-util's `FramedRead`
    /// gives them). Ends at need-more or after the first error.
    ///
    /// A frame you keep holds on to the buffer memory it came from; the
    /// buffer carries on in fresh memory meanwhile.
    ///
    /// ```
    /// use sockframe::buffer::RecvBuf;
    /// use sockframe::LengthCodec;
    ///
    /// let mut codec = LengthCodec::new();
    /// let mut buf = RecvBuf::new(64, 64);
    /// buf.extend_from_slice(b"\x00\x00\x00\x01a\x00\x00\x00\x02bc\x00\x00")?;
    /// let kept: Vec<bytes::Bytes> = buf.frames_owned(&mut codec).collect::<Result<_, _>>()?;
    /// assert_eq!(kept, ["a", "bc"]);
    /// assert_eq!(buf.data(), b"\x00\x00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn frames_owned<'a, D: Decoder + ?Sized>(&'a mut self, decoder: &'a mut D) -> OwnedFrames<'a, D> {
        OwnedFrames { buf: self, decoder, eof: false, done: false, skipped: SkipStats::default() }
    }

    /// [`frames_owned`](Self::frames_owned) at the end of the stream.
    pub fn frames_owned_at_eof<'a, D: Decoder + ?Sized>(
        &'a mut self,
        decoder: &'a mut D,
    ) -> OwnedFrames<'a, D> {
        OwnedFrames { buf: self, decoder, eof: true, done: false, skipped: SkipStats::default() }
    }

    /// Splits a frame, decoded from the front of [`data_mut`](Self::data_mut),
    /// off the buffer as an owned [`Bytes`], without copying. A skip frame
    /// gives an empty `Bytes`; its bytes are dropped all the same.
    ///
    /// ```
    /// use sockframe::buffer::RecvBuf;
    /// use sockframe::{Decoder, LengthCodec};
    ///
    /// let mut codec = LengthCodec::new();
    /// let mut buf = RecvBuf::new(64, 64);
    /// buf.extend_from_slice(b"\x00\x00\x00\x02hi!")?;
    /// let frame = codec.decode(buf.data_mut())?.unwrap();
    /// assert_eq!(buf.split_frame(frame), "hi");
    /// assert_eq!(buf.data(), b"!");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline(always)]
    pub fn split_frame(&mut self, frame: Frame) -> Bytes {
        let consumed = frame.consumed().min(self.len());
        let range = frame.payload_range();
        // (A skip frame's range is empty and at its end, so splitting it
        // would give the same empty `Bytes`; this saves the split. Hence
        // `&&` would do as well: no decoder returns a range past `consumed`.)
        if frame.is_skip() || range.end > consumed {
            self.consume(consumed);
            return Bytes::new();
        }
        let at = self.start + consumed;
        let mut head = self.buf.split_to(at).freeze();
        head.advance(self.start + range.start);
        // (`<=` would do as well: truncating to the length it has is a no-op.)
        if range.end < consumed {
            head.truncate(range.len());
        }
        self.end -= at;
        self.start = 0;
        self.split = self.split.saturating_add(at);
        self.window = self.window.saturating_add(consumed);
        head
    }

    fn walk<'a, D: Decoder + ?Sized>(&'a mut self, decoder: &'a mut D, eof: bool) -> RecvFrames<'a, D> {
        // Disjoint borrows: the frames borrow the bytes, the guard the offsets.
        let data = &mut self.buf[self.start..self.end];
        let frames = if eof { Frames::at_eof(decoder, data) } else { Frames::new(decoder, data) };
        RecvFrames { frames, start: &mut self.start, end: &mut self.end, window: &mut self.window }
    }

    /// The unconsumed bytes.
    #[inline]
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The unconsumed bytes, mutably (decoders may transform a frame in place).
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.end]
    }

    /// Number of unconsumed bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether no unconsumed bytes are held.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Bytes currently allocated for the buffer (not counting memory that
    /// owned frames split off it still hold).
    #[inline]
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The configured cap.
    #[inline]
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Drops `n` bytes from the front. `n` is clamped to [`len`](Self::len).
    #[inline]
    pub fn consume(&mut self, n: usize) {
        advance(&mut self.start, &mut self.end, &mut self.window, n);
    }

    /// Marks `n` bytes of the slice last returned by [`spare`](Self::spare)
    /// as received. `n` is clamped to the spare length.
    #[inline]
    pub fn commit(&mut self, n: usize) {
        self.end += n.min(self.buf.len() - self.end);
        self.peak = self.peak.max(self.end - self.start);
    }

    /// Room to read into. Empty only at the cap.
    ///
    /// When less than a useful read's worth is free at the end: compacts if
    /// that moves at most 4 KiB or 1/8 of the bytes it frees (or at the cap),
    /// else doubles the buffer (up to the cap). Small frames thus live in a
    /// buffer of a few KiB (many connections stay small), and a stream of
    /// large frames settles on a buffer about 8 frames large where compaction
    /// costs little, instead of copying each partial frame forward.
    pub fn spare(&mut self) -> &mut [u8] {
        if self.window >= self.allocated() {
            self.review();
        }
        // The buffer's size, counting the front owned frames took.
        let size = self.split.saturating_add(self.buf.len());
        // A useful read: half the buffer, between 4 KiB and a full 64 KiB
        // read, so a large buffer is never read into a few KiB at a time.
        let want = (size / 2).clamp(MIN_READ, MAX_READ).min(self.cap);
        if self.buf.len() - self.end < want {
            self.reclaim_front();
            let len = self.len();
            // Moving a few KiB costs less than a syscall; moving a large
            // partial frame is worth it only when it frees far more.
            let cheap = len <= MIN_READ || len.saturating_mul(8) <= self.start;
            // (`start >= 0` would do as well: compacting from 0 moves nothing.)
            if self.start > 0 && (cheap || size >= self.cap) {
                self.buf.copy_within(self.start..self.end, 0);
                self.end = len;
                self.start = 0;
            }
            // Grow (up to the cap), or use room the allocation already
            // has: the front owned frames took, or capacity not yet
            // initialised. (Equivalent mutants: `<= cap`, since growing to
            // the cap at the cap is a resize to the same length; `<=` for
            // the first `<`, `||` for `&&`, and `>=` for the last `>`: the
            // branch then runs with room enough or nothing to take back, and
            // `reserve_total` returns at once and `resize` keeps the length
            // or initialises more of the capacity.)
            if self.buf.len() - self.end < want && (size < self.cap || self.allocated() > self.buf.len()) {
                let grown =
                    size.saturating_mul(2).max(self.initial).max(self.end.saturating_add(want)).min(self.cap);
                // The live bytes and a useful read, never past the cap.
                let need = self.start + self.len().saturating_add(want).min(self.cap);
                let dropped = self.reserve_total(need, grown);
                let len = (grown - dropped).max(self.end + want).min(self.buf.capacity());
                self.buf.resize(len, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// The shrink policy, once a buffer's worth of bytes has been consumed
    /// since the last review: an oversized buffer (see
    /// [`maybe_shrink`](Self::maybe_shrink)) whose traffic in that time never
    /// held more than a quarter of it is released. Its cost (a copy of at
    /// most `initial` bytes and a later regrowth) is thus paid at most once
    /// per buffer's worth of traffic, and a stream that fills the buffer
    /// keeps it (T7).
    #[cold]
    fn review(&mut self) {
        if self.peak <= self.allocated() / 4 {
            self.maybe_shrink();
        }
        self.window = 0;
        self.peak = self.len();
    }

    /// Releases memory now: when more than sixteen times the initial size is
    /// allocated and what is left fits in the initial size, reallocates at
    /// the initial size.
    ///
    /// The buffer already does this by itself once the traffic no longer
    /// needs the room; call this only when a connection goes idle and you
    /// want its memory back before more traffic arrives. Never call it per
    /// frame: a stream of large frames would then free and regrow the buffer
    /// for every frame.
    pub fn maybe_shrink(&mut self) {
        if self.allocated() > self.initial.saturating_mul(16) && self.len() <= self.initial {
            self.shrink();
        }
    }

    #[cold]
    fn shrink(&mut self) {
        let mut small = BytesMut::zeroed(self.initial);
        small[..self.len()].copy_from_slice(self.data());
        self.end = self.len();
        self.start = 0;
        self.split = 0;
        self.buf = small;
    }

    /// One `read` of at most 64 KiB into spare capacity. `Interrupted` is retried here; every
    /// other error (including `WouldBlock`) is returned with the buffered
    /// bytes untouched. Never calls `read` with an empty slice (T1).
    ///
    /// # Errors
    /// Whatever the reader returns, except `Interrupted`.
    #[cfg(feature = "std")]
    pub fn read_from<R: Read + ?Sized>(&mut self, reader: &mut R) -> io::Result<ReadOutcome> {
        loop {
            match self.read_with(|spare| reader.read(spare)) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                outcome => return outcome,
            }
        }
    }

    /// One read of at most 64 KiB into spare capacity, through `read`: any
    /// reader's read function (an `embedded_io::Read`, a poll turned into a
    /// result, a ring buffer), called at most once with a non-empty slice
    /// (T1). It returns how many bytes it wrote to the front of the slice,
    /// `Ok(0)` at the end of the stream, or an error, which is returned with
    /// the buffered bytes untouched. A count larger than the slice is
    /// clamped. Nothing is retried here.
    ///
    /// ```
    /// use sockframe::buffer::{ReadOutcome, RecvBuf};
    ///
    /// let mut source: &[u8] = b"\x00\x00\x00\x02hi";
    /// let mut buf = RecvBuf::new(64, 64);
    /// let read = |room: &mut [u8], source: &mut &[u8]| -> Result<usize, ()> {
    ///     let n = room.len().min(source.len()).min(3); // a short read
    ///     room[..n].copy_from_slice(&source[..n]);
    ///     *source = &source[n..];
    ///     Ok(n)
    /// };
    /// assert_eq!(buf.read_with(|room| read(room, &mut source)), Ok(ReadOutcome::Data(3)));
    /// assert_eq!(buf.read_with(|room| read(room, &mut source)), Ok(ReadOutcome::Data(3)));
    /// assert_eq!(buf.read_with(|room| read(room, &mut source)), Ok(ReadOutcome::Eof));
    /// assert_eq!(buf.data(), b"\x00\x00\x00\x02hi");
    /// ```
    ///
    /// # Errors
    /// Whatever `read` returns.
    #[inline]
    pub fn read_with<E>(
        &mut self,
        read: impl FnOnce(&mut [u8]) -> Result<usize, E>,
    ) -> Result<ReadOutcome, E> {
        let spare = self.spare();
        if spare.is_empty() {
            return Ok(ReadOutcome::Full);
        }
        let room = spare.len().min(MAX_READ);
        let spare = &mut spare[..room];
        match read(spare)? {
            0 => Ok(ReadOutcome::Eof),
            n => {
                // A reader claiming more than it was given is buggy; never trust it.
                let n = n.min(room);
                self.commit(n);
                Ok(ReadOutcome::Data(n))
            }
        }
    }
}

/// Owned frames split off a [`RecvBuf`], from [`RecvBuf::frames_owned`].
#[derive(Debug)]
pub struct OwnedFrames<'a, D: ?Sized> {
    buf: &'a mut RecvBuf,
    decoder: &'a mut D,
    eof: bool,
    done: bool,
    skipped: SkipStats,
}

impl<'a, D: Decoder + ?Sized> OwnedFrames<'a, D> {
    /// What was skipped so far (discarded overlong lines, say).
    pub fn skipped(&self) -> SkipStats {
        self.skipped
    }

    /// The frames as owned UTF-8 text: each payload checked, a frame that is
    /// not UTF-8 yielded as [`DecodeError::InvalidUtf8`] (it is dropped from
    /// the buffer all the same).
    ///
    /// ```
    /// use sockframe::buffer::RecvBuf;
    /// use sockframe::DelimitedCodec;
    ///
    /// let mut codec = DelimitedCodec::lines();
    /// let mut buf = RecvBuf::new(64, 64);
    /// buf.extend_from_slice(b"one\r\ntwo\n")?;
    /// let lines: Vec<String> = buf.frames_owned(&mut codec).text().map(|t| Ok(t?.to_string())).collect::<Result<_, sockframe::DecodeError>>()?;
    /// assert_eq!(lines, ["one", "two"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn text(self) -> impl Iterator<Item = Result<Utf8Bytes, DecodeError>> + 'a {
        self.map(|frame| frame.and_then(Utf8Bytes::try_from))
    }
}

impl<D: Decoder + ?Sized> Iterator for OwnedFrames<'_, D> {
    type Item = Result<Bytes, DecodeError>;

    // (`inline(always)` measured faster on 16 B frames and slower on 256 B.)
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let data = self.buf.data_mut();
            let decoded = if self.eof { self.decoder.decode_eof(data) } else { self.decoder.decode(data) };
            match decoded {
                Ok(Some(frame)) if frame.is_skip() => {
                    self.skipped.record(&frame);
                    self.buf.consume(frame.consumed());
                }
                Ok(Some(frame)) => return Some(Ok(self.buf.split_frame(frame))),
                Ok(None) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// An owned frame known to be UTF-8: a [`Bytes`] (one reference count, no
/// copy) with a `&str` view.
///
/// The bytes are checked once, when the value is made; [`as_str`](Self::as_str)
/// is free (the `bytestring` crate keeps the checked bytes).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Utf8Bytes(bytestring::ByteString);

impl Utf8Bytes {
    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bytes, without copying.
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = DecodeError;

    /// Checks `bytes` as UTF-8.
    #[inline]
    fn try_from(bytes: Bytes) -> Result<Self, DecodeError> {
        bytestring::ByteString::try_from(bytes)
            .map(Utf8Bytes)
            .map_err(|e| DecodeError::InvalidUtf8 { valid_up_to: e.valid_up_to() })
    }
}

impl core::fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Drops `n` (clamped) bytes from the front of `start..end`; an emptied
/// buffer restarts at 0 so its whole allocation is reused without copying.
#[inline(always)]
fn advance(start: &mut usize, end: &mut usize, window: &mut usize, n: usize) {
    let n = n.min(*end - *start);
    *start += n;
    *window = window.saturating_add(n);
    if *start == *end {
        *start = 0;
        *end = 0;
    }
}

/// The frames of a [`RecvBuf`], from [`RecvBuf::frames`]: payloads lent from
/// the buffer, each frame dropped from it as the iterator walks past it.
#[derive(Debug)]
pub struct RecvFrames<'a, D: ?Sized> {
    frames: Frames<'a, D>,
    start: &'a mut usize,
    end: &'a mut usize,
    window: &'a mut usize,
}

impl<'a, D: Decoder + ?Sized> RecvFrames<'a, D> {
    /// What was skipped so far (discarded overlong lines, say).
    pub fn skipped(&self) -> SkipStats {
        self.frames.skipped()
    }

    /// The frames as UTF-8 text: each payload checked, a frame that is not
    /// UTF-8 yielded as [`DecodeError::InvalidUtf8`] (it is dropped from the
    /// buffer all the same, so the caller may stop or go on).
    ///
    /// ```
    /// use sockframe::buffer::RecvBuf;
    /// use sockframe::{DecodeError, DelimitedCodec};
    ///
    /// let mut codec = DelimitedCodec::lines();
    /// let mut buf = RecvBuf::new(64, 64);
    /// buf.extend_from_slice(b"one\r\n\xff\ntwo\nthr")?;
    /// let got: Vec<_> = buf.frames(&mut codec).text().collect();
    /// assert_eq!(got, [Ok("one"), Err(DecodeError::InvalidUtf8 { valid_up_to: 0 }), Ok("two")]);
    /// assert_eq!(buf.data(), b"thr");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn text(self) -> TextFrames<Self> {
        TextFrames::new(self)
    }
}

impl<'a, D: Decoder + ?Sized> Iterator for RecvFrames<'a, D> {
    type Item = Result<&'a [u8], DecodeError>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        self.frames.next()
    }
}

impl<D: ?Sized> Drop for RecvFrames<'_, D> {
    #[inline]
    fn drop(&mut self) {
        advance(self.start, self.end, self.window, self.frames.consumed());
    }
}

/// Why [`SendQueue::push`] did not queue a frame; the queue is unchanged.
///
/// ```
/// use sockframe::buffer::PushError;
///
/// assert_eq!(PushError::Full { queued: 10, cap: 8 }.to_string(), "send queue full: 10 bytes queued, cap 8");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// The framing cannot carry the payload.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The frame would take a non-empty queue over its cap: write the queue
    /// out, then push the frame again.
    #[error("send queue full: {queued} bytes queued, cap {cap}")]
    Full {
        /// Bytes queued now.
        queued: usize,
        /// The configured cap.
        cap: usize,
    },
}

#[cfg(feature = "std")]
impl From<PushError> for TransportError {
    fn from(e: PushError) -> Self {
        match e {
            PushError::Encode(e) => TransportError::Encode(e),
            PushError::Full { queued, cap } => TransportError::Full { queued, cap },
        }
    }
}

/// Send queue: encoded bytes waiting for the socket.
///
/// Written bytes are dropped from the front with [`advance`](Self::advance),
/// so a short write or `WouldBlock` resumes exactly where it stopped.
///
/// The queue keeps the memory it has written out initialised, and frames of
/// the framings that know a frame's length before writing it (length prefix,
/// varint, lines/delimiter, netstring, raw, fixed, sync word: see
/// [`Encoder::encode_to_slice`]) are written straight into it: one length
/// update per frame, and small payloads copied inline. Other framings
/// append through [`Encoder::encode`]; the queued bytes are the same.
///
/// ```
/// use sockframe::buffer::SendQueue;
///
/// let mut q = SendQueue::new(1024);
/// q.buffer_mut().extend_from_slice(b"abcdef");
/// q.advance(4); // the socket took 4 bytes
/// assert_eq!(q.pending(), b"ef");
/// assert!(q.has_room(1022));
/// assert!(!q.has_room(1023));
/// ```
pub struct SendQueue {
    /// Initialised memory: `buf[head..buf.len() - spare]` is pending, and
    /// the `spare` bytes after it are free, for encoders that write frames
    /// into slices ([`Encoder::encode_to_slice`]). Everything before `head`
    /// was written out.
    buf: BytesMut,
    head: usize,
    spare: usize,
    cap: usize,
}

impl core::fmt::Debug for SendQueue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SendQueue")
            .field("pending", &self.len())
            .field("cap", &self.cap)
            .field("capacity", &self.capacity())
            .finish()
    }
}

impl SendQueue {
    /// An empty queue holding at most `cap` bytes (see [`has_room`](Self::has_room)).
    /// It allocates on first use, at least 4 KiB (or `cap`, if smaller).
    ///
    /// ```
    /// use sockframe::buffer::SendQueue;
    /// use sockframe::LengthCodec;
    ///
    /// let mut q = SendQueue::new(1 << 20);
    /// assert_eq!(q.capacity(), 0);
    /// q.push(&mut LengthCodec::new(), b"hi")?;
    /// assert!(q.capacity() >= 4096);
    /// # Ok::<(), sockframe::buffer::PushError>(())
    /// ```
    pub fn new(cap: usize) -> Self {
        SendQueue { buf: BytesMut::new(), head: 0, spare: 0, cap }
    }

    /// An empty queue holding at most `cap` bytes, with room for `capacity`
    /// bytes allocated up front (clamped to the cap).
    ///
    /// ```
    /// use sockframe::buffer::SendQueue;
    ///
    /// let q = SendQueue::with_capacity(1 << 20, 8192);
    /// assert!(q.capacity() >= 8192);
    /// ```
    pub fn with_capacity(cap: usize, capacity: usize) -> Self {
        SendQueue { buf: BytesMut::with_capacity(capacity.min(cap)), head: 0, spare: 0, cap }
    }

    /// Bytes allocated.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Encodes one frame onto the end of the queue, within the cap: a frame
    /// that would take a non-empty queue over its cap is not queued (write
    /// the queue out first). An empty queue takes any frame the encoder
    /// accepts (see [`has_room`](Self::has_room)).
    ///
    /// ```
    /// use sockframe::buffer::SendQueue;
    /// use sockframe::{LengthCodec, TransportError};
    ///
    /// let mut codec = LengthCodec::new();
    /// let mut q = SendQueue::new(16);
    /// q.encode(&mut codec, b"hello")?;
    /// assert_eq!(q.pending(), b"\x00\x00\x00\x05hello");
    /// assert!(matches!(q.encode(&mut codec, b"world"), Err(TransportError::Full { queued: 9, cap: 16 })));
    /// assert_eq!(q.len(), 9); // unchanged
    /// # Ok::<(), TransportError>(())
    /// ```
    ///
    /// # Errors
    /// [`TransportError::Encode`] if the framing cannot carry the payload,
    /// [`TransportError::Full`] if it does not fit; the queue is unchanged.
    #[cfg(feature = "std")]
    #[inline(always)]
    pub fn encode<E: Encoder + ?Sized>(
        &mut self,
        encoder: &mut E,
        payload: &[u8],
    ) -> Result<(), TransportError> {
        Ok(self.push(encoder, payload)?)
    }

    /// [`encode`](Self::encode) without `std`: the same rule (a frame that
    /// would take a non-empty queue over its cap is not queued), with its own
    /// error type.
    ///
    /// ```
    /// use sockframe::buffer::{PushError, SendQueue};
    /// use sockframe::LengthCodec;
    ///
    /// let mut codec = LengthCodec::new();
    /// let mut q = SendQueue::new(16);
    /// q.push(&mut codec, b"hello")?;
    /// assert_eq!(q.push(&mut codec, b"world"), Err(PushError::Full { queued: 9, cap: 16 }));
    /// assert_eq!(q.pending(), b"\x00\x00\x00\x05hello"); // unchanged
    /// # Ok::<(), PushError>(())
    /// ```
    ///
    /// # Errors
    /// [`PushError::Encode`] if the framing cannot carry the payload,
    /// [`PushError::Full`] if it does not fit; the queue is unchanged.
    #[inline(always)]
    pub fn push<E: Encoder + ?Sized>(&mut self, encoder: &mut E, payload: &[u8]) -> Result<(), PushError> {
        self.push_within::<true, E>(encoder, payload)
    }

    /// Encodes one frame onto the end of the queue whatever the cap, for a
    /// writer that makes room by writing the queue out afterwards (never
    /// [`PushError::Full`]).
    #[cfg(feature = "std")]
    #[inline(always)]
    pub(crate) fn append<E: Encoder + ?Sized>(
        &mut self,
        encoder: &mut E,
        payload: &[u8],
    ) -> Result<(), PushError> {
        self.push_within::<false, E>(encoder, payload)
    }

    /// [`push`](Self::push), within the cap if `CAPPED`. (The cap is read
    /// where it is used: loading it up front measured slower.)
    #[inline(always)]
    fn push_within<const CAPPED: bool, E: Encoder + ?Sized>(
        &mut self,
        encoder: &mut E,
        payload: &[u8],
    ) -> Result<(), PushError> {
        let before = self.len();
        match self.encode_to_spare(encoder, payload)? {
            // Written into the spare memory but not yet queued: refusing it
            // leaves the queue as it was. (`before + n` cannot overflow: both
            // count bytes of the buffer.)
            SliceEncode::Written(n) if n <= self.spare => {
                if !CAPPED || before == 0 || before + n <= self.cap {
                    self.spare -= n;
                    Ok(())
                } else {
                    Err(PushError::Full { queued: before, cap: self.cap })
                }
            }
            SliceEncode::Needs(n) if n <= SLICE_MAX => {
                self.push_after_growing(encoder, payload, before, n, self.cap_if::<CAPPED>())
            }
            _ => self.push_appending(encoder, payload, before, self.cap_if::<CAPPED>()),
        }
    }

    /// The cap a push keeps to: none for an uncapped one.
    #[inline(always)]
    fn cap_if<const CAPPED: bool>(&self) -> usize {
        if CAPPED {
            self.cap
        } else {
            usize::MAX
        }
    }

    /// [`push`](Self::push) for a frame of `n` bytes that does not fit in
    /// the spare memory: refused at the cap before any room is made for it.
    #[inline(never)]
    fn push_after_growing<E: Encoder + ?Sized>(
        &mut self,
        encoder: &mut E,
        payload: &[u8],
        before: usize,
        n: usize,
        cap: usize,
    ) -> Result<(), PushError> {
        if before != 0 && before.saturating_add(n) > cap {
            return Err(PushError::Full { queued: before, cap });
        }
        match self.grow_and_encode_to_spare(encoder, payload, n)? {
            // (Within the cap: the frame takes the `n` bytes checked above,
            // as the encoder said.)
            Some(m) => {
                self.spare -= m;
                Ok(())
            }
            None => self.push_appending(encoder, payload, before, cap),
        }
    }

    /// Has the encoder write the frame into the spare memory after the
    /// pending bytes, without queueing it yet.
    #[inline(always)]
    fn encode_to_spare<E: Encoder + ?Sized>(
        &mut self,
        encoder: &mut E,
        payload: &[u8],
    ) -> Result<SliceEncode, EncodeError> {
        let end = self.end();
        encoder.encode_to_slice(payload, self.buf.get_mut(end..).unwrap_or_default())
    }

    /// Makes `n` bytes of spare memory and encodes the frame there:
    /// `Some(m)` when it is there, `None` when it has to be appended.
    fn grow_and_encode_to_spare<E: Encoder + ?Sized>(
        &mut self,
        encoder: &mut E,
        payload: &[u8],
        n: usize,
    ) -> Result<Option<usize>, EncodeError> {
        self.make_spare(n);
        Ok(match self.encode_to_spare(encoder, payload)? {
            SliceEncode::Written(m) if m <= self.spare => Some(m),
            _ => None,
        })
    }

    /// Makes at least `n` bytes of spare memory after the pending bytes:
    /// takes back the written front when moving the pending bytes there
    /// costs no more than the room it frees, else initialises more memory,
    /// in the free capacity or in a larger allocation.
    fn make_spare(&mut self, n: usize) {
        // (Equivalent mutants: `head >= 0`, or `||` for `&&`, only move the
        // pending bytes when that frees nothing or costs more than it frees:
        // the same bytes stay queued.)
        if self.head > 0 && self.len() <= self.head {
            let end = self.end();
            self.buf.copy_within(self.head..end, 0);
            self.spare += self.head;
            self.head = 0;
        }
        // (Callers come here only when the spare memory is short, so `want`
        // is never 0: `w >= 0` is an equivalent mutant.)
        let Some(want) = n.checked_sub(self.spare).filter(|&w| w > 0) else {
            return;
        };
        if self.buf.capacity() == 0 {
            self.first_allocation();
        }
        // How much to initialise: a step, or all of the free capacity when
        // that is less than a step but enough, or a larger allocation. (A
        // mutant that overstates `free` only initialises a step where it
        // would have filled the capacity: equivalent, as is any other
        // choice of how much to initialise, as long as it is `want` or more.)
        let free = self.buf.capacity() - self.buf.len();
        let step = want.max(SPARE_STEP);
        let step = if want <= free { step.min(free) } else { step };
        // (No overflow: `n` is at most SLICE_MAX, and the buffer's length is
        // that of an allocation.)
        self.buf.resize(self.buf.len() + step, 0);
        self.spare += step;
    }

    /// [`push`](Self::push) for encoders that append (or frames too large
    /// for the spare memory).
    #[inline(never)]
    fn push_appending<E: Encoder + ?Sized>(
        &mut self,
        encoder: &mut E,
        payload: &[u8],
        before: usize,
        cap: usize,
    ) -> Result<(), PushError> {
        match encoder.encode(payload, self.buffer_mut()) {
            Ok(()) if self.buf.len() <= cap || before == 0 => Ok(()),
            Ok(()) => Err(self.over_cap(before, cap)),
            Err(e) => Err(PushError::Encode(e)),
        }
    }

    #[cold]
    fn over_cap(&mut self, before: usize, cap: usize) -> PushError {
        self.buf.truncate(before);
        PushError::Full { queued: before, cap }
    }

    /// Drops the pending bytes after the first `len` (an encoded frame taken
    /// back); their memory becomes spare.
    #[cfg(feature = "std")]
    pub(crate) fn truncate(&mut self, len: usize) {
        let pending = self.len();
        // (`<=` for `<` adds nothing to the spare memory: equivalent.)
        if len < pending {
            self.spare += pending - len;
        }
    }

    /// The bytes not yet written.
    #[inline]
    pub fn pending(&self) -> &[u8] {
        self.buf.get(self.head..self.end()).unwrap_or_default()
    }

    /// Number of bytes not yet written.
    #[inline]
    pub fn len(&self) -> usize {
        self.end() - self.head
    }

    /// Where the pending bytes end and the spare memory starts.
    #[inline]
    fn end(&self) -> usize {
        self.buf.len() - self.spare
    }

    /// Whether everything was written.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The configured cap.
    #[inline]
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Whether `n` more bytes fit under the cap. An empty queue always takes
    /// one frame, however large, so that a frame above the cap can still be
    /// sent; memory stays bounded by `max(cap, largest frame)`.
    #[inline]
    pub fn has_room(&self, n: usize) -> bool {
        let len = self.len();
        len == 0 || len.checked_add(n).is_some_and(|t| t <= self.cap)
    }

    /// The buffer to append encoded frames to. Writing here bypasses the cap:
    /// use [`encode`](Self::encode) to stay under it, or check
    /// [`has_room`](Self::has_room) first.
    #[inline]
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        if self.head != 0 || self.spare != 0 {
            self.exact();
        }
        if self.buf.capacity() == 0 {
            self.first_allocation();
        }
        &mut self.buf
    }

    /// Makes the buffer hold exactly the pending bytes, for appending.
    fn exact(&mut self) {
        self.buf.truncate(self.end());
        self.spare = 0;
        self.buf.advance(self.head);
        self.head = 0;
    }

    /// At least 4 KiB at once, never a block sized by the first frame: a
    /// small block per connection lands in the allocator's per-size caches
    /// when the connection closes, where it can keep the freed memory of a
    /// thousand others from being returned to the system.
    #[cold]
    fn first_allocation(&mut self) {
        self.buf.reserve(FIRST_SEND_ALLOCATION.min(self.cap.max(1)));
    }

    /// Drops `n` written bytes from the front (clamped to [`len`](Self::len)).
    #[inline]
    pub fn advance(&mut self, n: usize) {
        if n >= self.len() {
            // Everything went out: the queue starts again at the front of
            // its memory, all of it spare.
            self.clear();
        } else {
            self.head += n;
        }
    }

    /// Drops everything (after a fatal write error).
    pub fn clear(&mut self) {
        self.head = 0;
        self.spare = self.buf.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use alloc::{format, vec};

    #[test]
    #[cfg(feature = "std")]
    fn recv_buf_grows_to_the_cap_and_then_reports_full() {
        let mut b = RecvBuf::new(4, 10);
        assert_eq!(b.spare().len(), 10); // MIN_READ clamps to the cap; grows to it
        let mut src: &[u8] = b"0123456789abc";
        assert_eq!(b.read_from(&mut src).unwrap(), ReadOutcome::Data(10));
        // BAD_INPUTS T1: full, so no read with an empty slice.
        assert_eq!(b.read_from(&mut src).unwrap(), ReadOutcome::Full);
        assert_eq!(src, b"abc");
        b.consume(9);
        assert_eq!(b.data(), b"9");
        assert_eq!(b.read_from(&mut src).unwrap(), ReadOutcome::Data(3));
        assert_eq!(b.data(), b"9abc");
        assert_eq!(b.read_from(&mut src).unwrap(), ReadOutcome::Eof);
    }

    #[test]
    fn recv_buf_compacts_cheaply_and_keeps_bytes() {
        let mut b = RecvBuf::new(8192, 8192);
        let spare = b.spare();
        assert_eq!(spare.len(), 8192);
        spare.fill(7);
        b.commit(8192);
        b.consume(8000);
        // 192 bytes left, 8000 freed: compaction is cheap, no growth.
        assert!(b.spare().len() >= 8000);
        assert_eq!(b.capacity(), 8192);
        assert_eq!(b.data(), &[7u8; 192][..]);
    }

    #[test]
    #[cfg(feature = "std")]
    fn recv_buf_shrinks_after_a_large_frame() {
        // BAD_INPUTS T7
        let mut b = RecvBuf::new(16, 1 << 20);
        let mut src = vec![1u8; 4096];
        src.extend_from_slice(b"tail");
        let mut r = &src[..];
        for _ in 0..1000 {
            if r.is_empty() {
                break;
            }
            assert!(
                matches!(b.read_from(&mut r).unwrap(), ReadOutcome::Data(_)),
                "every read makes progress"
            );
        }
        assert!(r.is_empty());
        assert!(b.capacity() > 16 * 16);
        b.consume(4096);
        b.maybe_shrink();
        assert_eq!(b.capacity(), 16);
        assert_eq!(b.data(), b"tail");
    }

    #[test]
    #[cfg(feature = "std")]
    fn recv_buf_reads_at_most_max_read_even_with_more_room() {
        struct Recorder(Vec<usize>);
        impl Read for Recorder {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.0.push(buf.len());
                buf.fill(1);
                Ok(buf.len())
            }
        }
        let mut b = RecvBuf::new(4 * MAX_READ, 8 * MAX_READ);
        let mut r = Recorder(Vec::new());
        for _ in 0..6 {
            assert_eq!(b.read_from(&mut r).unwrap(), ReadOutcome::Data(MAX_READ));
        }
        assert_eq!(r.0, vec![MAX_READ; 6]);
        assert_eq!(b.len(), 6 * MAX_READ);
        assert!(b.data().iter().all(|&x| x == 1));
    }

    #[test]
    #[cfg(feature = "std")]
    fn recv_buf_keeps_reads_large_for_a_stream_of_large_frames() {
        // 64 KiB + 4 frames arriving in uneven pieces: every read after the
        // first few asks for a full 64 KiB (no trickle of small reads near
        // the buffer's end), the buffer stays bounded, no byte is lost.
        const FRAME: usize = 65_540;
        struct Counter {
            next: u8,
            sizes: Vec<usize>,
        }
        impl Read for Counter {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                // Sockets return what has arrived, often less than asked.
                const GIVE: [usize; 5] = [65_536, 65_483, 40_000, 65_536, 1_000];
                let n = buf.len().min(GIVE[self.sizes.len() % GIVE.len()]);
                self.sizes.push(buf.len());
                for b in buf[..n].iter_mut() {
                    *b = self.next;
                    self.next = self.next.wrapping_add(1);
                }
                Ok(n)
            }
        }
        let mut b = RecvBuf::new(64 * 1024, 8 << 20);
        let mut r = Counter { next: 0, sizes: Vec::new() };
        let mut expect = 0u8;
        for _ in 0..500 {
            b.read_from(&mut r).unwrap();
            while b.len() >= FRAME {
                assert!(b.data()[..FRAME].iter().all(|&x| {
                    let ok = x == expect;
                    expect = expect.wrapping_add(1);
                    ok
                }));
                b.consume(FRAME);
            }
        }
        assert!(r.sizes[10..].iter().all(|&n| n == MAX_READ), "{:?}", &r.sizes[..40]);
        assert!(b.capacity() <= 2 << 20, "capacity {}", b.capacity());
    }

    /// A buffer of `initial`..`cap` holding bytes `start..end` of a pattern,
    /// `size` bytes allocated.
    fn state(initial: usize, cap: usize, size: usize, start: usize, end: usize) -> RecvBuf {
        let mut b = RecvBuf::new(initial, cap);
        b.buf = BytesMut::zeroed(size);
        for (i, x) in b.buf.iter_mut().enumerate() {
            *x = i as u8;
        }
        b.start = start;
        b.end = end;
        b
    }

    fn check(b: &mut RecvBuf, capacity: usize, spare: usize, first: usize) {
        let len = b.len();
        assert_eq!(b.spare().len(), spare, "spare");
        assert_eq!(b.capacity(), capacity, "capacity");
        assert_eq!(b.len(), len, "bytes kept");
        let expect: Vec<u8> = (first..first + len).map(|i| i as u8).collect();
        assert_eq!(b.data(), &expect[..], "bytes intact");
    }

    #[test]
    fn spare_policy_at_its_boundaries() {
        const K: usize = 1024;
        // Exactly a useful read (half the buffer, at least 4 KiB) free at
        // the end: nothing moves.
        let mut b = state(4 * K, 1 << 20, 8 * K, 4000, 4 * K);
        check(&mut b, 8 * K, 4 * K, 4000);
        // 4 KiB left to move (the small-frame rule): compaction, no growth.
        let mut b = state(4 * K, 1 << 20, 8 * K, 4 * K, 8 * K);
        check(&mut b, 8 * K, 4 * K, 4 * K);
        // More than 4 KiB, and more than 1/8 of what compaction frees: grow.
        let mut b = state(4 * K, 1 << 20, 8 * K, 3192, 8 * K);
        check(&mut b, 16 * K, 8 * K, 3192);
        // Moving exactly 1/8 of what it frees: compaction, no growth.
        let mut b = state(4 * K, 1 << 20, 64 * K, 56_000, 63_000);
        check(&mut b, 64 * K, 64 * K - 7000, 56_000);
        // At the cap, compaction even when it is not cheap.
        let mut b = state(4 * K, 16 * K, 16 * K, 2000, 16 * K);
        check(&mut b, 16 * K, 2000, 2000);
        // Growth leaves room for a full useful read after the data.
        let mut b = state(4 * K, 1 << 20, 4 * K, 100, 4 * K);
        check(&mut b, 8 * K, 8 * K - (4 * K - 100), 100);
        // An empty buffer allocates its initial size on first use.
        let mut b = RecvBuf::new(6 * K, 1 << 20);
        assert_eq!(b.spare().len(), 6 * K);
        // At the cap with nothing to free: full, so no read (T1).
        let mut b = state(4 * K, 16 * K, 16 * K, 0, 16 * K);
        assert!(b.spare().is_empty());
    }

    #[test]
    fn shrinks_only_above_sixteen_times_the_initial_size() {
        // BAD_INPUTS T7 at its boundary: 16× is kept, more is released, and
        // only when what is left fits the initial size.
        let mut b = state(16, 1 << 20, 256, 250, 256);
        b.maybe_shrink();
        assert_eq!(b.capacity(), 256);
        let mut b = state(16, 1 << 20, 257, 240, 257);
        b.maybe_shrink();
        assert_eq!(b.capacity(), 257, "17 bytes left do not fit 16");
        let mut b = state(16, 1 << 20, 257, 241, 257);
        b.maybe_shrink();
        assert_eq!(b.capacity(), 16);
        let expect: Vec<u8> = (241..257).map(|i| i as u8).collect();
        assert_eq!(b.data(), &expect[..]);
    }

    #[test]
    fn commit_is_clamped_to_the_spare_length() {
        let mut b = RecvBuf::new(16, 16);
        let n = b.spare().len();
        b.commit(n + 10);
        assert_eq!(b.len(), n);
        b.commit(1);
        assert_eq!(b.len(), n);
    }

    #[test]
    fn extend_from_slice_fills_exactly_to_the_cap_and_is_all_or_nothing() {
        let mut b = RecvBuf::new(4, 10);
        b.extend_from_slice(b"0123456").unwrap();
        b.consume(5);
        // 2 held: 8 more fit exactly (compacting the consumed front), 9 do not.
        assert_eq!(b.extend_from_slice(b"abcdefghi"), Err(CapExceeded { len: 2, additional: 9, cap: 10 }));
        assert_eq!(b.data(), b"56");
        b.extend_from_slice(b"abcdefgh").unwrap();
        assert_eq!(b.data(), b"56abcdefgh");
        assert_eq!(b.extend_from_slice(b"x"), Err(CapExceeded { len: 10, additional: 1, cap: 10 }));
        b.extend_from_slice(b"").unwrap();
        assert_eq!(b.len(), 10);
    }

    #[test]
    fn frames_are_dropped_as_walked_even_when_the_loop_stops_early() {
        use crate::LengthCodec;
        let mut codec = LengthCodec::new();
        let mut b = RecvBuf::new(64, 64);
        b.extend_from_slice(b"\x00\x00\x00\x01a\x00\x00\x00\x01b\x00\x00\x00\x01c\x00").unwrap();
        let first = b.frames(&mut codec).next().unwrap().unwrap().to_vec();
        assert_eq!(first, b"a");
        assert_eq!(b.len(), 11, "only the frame walked is dropped");
        let rest: Vec<Vec<u8>> = b.frames(&mut codec).map(|p| p.unwrap().to_vec()).collect();
        assert_eq!(rest, [b"b", b"c"]);
        assert_eq!(b.data(), b"\x00");
        let mut eof = b.frames_at_eof(&mut codec);
        assert_eq!(eof.next(), Some(Err(DecodeError::Truncated { pending: 1 })));
        assert_eq!(eof.next(), None);
        drop(eof);
        assert_eq!(b.data(), b"\x00", "an error drops nothing");
        b.consume(1);
        assert_eq!(b.frames_at_eof(&mut codec).next(), None);
    }

    #[test]
    fn frames_count_skips_and_drop_them() {
        use crate::{DelimitedCodec, Overlong};
        let mut codec =
            DelimitedCodec::builder().max_frame_length(3).overlong(Overlong::Discard).build().unwrap();
        let mut b = RecvBuf::new(64, 64);
        b.extend_from_slice(b"ok\ntoo long\nyes\nx").unwrap();
        let mut frames = b.frames(&mut codec);
        assert_eq!(frames.next(), Some(Ok(&b"ok"[..])));
        assert_eq!(frames.next(), Some(Ok(&b"yes"[..])));
        assert_eq!(frames.next(), None);
        assert_eq!(frames.skipped(), SkipStats { regions: 1, bytes: 9 });
        drop(frames);
        assert_eq!(b.data(), b"x");
        // The owned frames count them alike.
        let mut codec =
            DelimitedCodec::builder().max_frame_length(3).overlong(Overlong::Discard).build().unwrap();
        let mut b = RecvBuf::new(64, 64);
        b.extend_from_slice(b"ok\ntoo long\nyes\nx").unwrap();
        let mut frames = b.frames_owned(&mut codec);
        assert_eq!(frames.next(), Some(Ok(Bytes::from_static(b"ok"))));
        assert_eq!(frames.next(), Some(Ok(Bytes::from_static(b"yes"))));
        assert_eq!(frames.next(), None);
        assert_eq!(frames.skipped(), SkipStats { regions: 1, bytes: 9 });
        assert_eq!(b.data(), b"x");
    }

    /// Consumes `total` bytes in `piece`-byte frames through a buffer, as a
    /// receive loop does; returns the capacity after each piece.
    fn traffic(b: &mut RecvBuf, piece: usize, total: usize) -> Vec<usize> {
        let data = vec![9u8; piece];
        let mut caps = Vec::new();
        for _ in 0..total / piece {
            b.extend_from_slice(&data).unwrap();
            b.consume(piece);
            caps.push(b.capacity());
        }
        caps
    }

    #[test]
    fn an_oversized_buffer_is_released_once_the_traffic_stops_needing_it() {
        // T7, amortised: a buffer grown to 256 KiB by one frame...
        let mut b = RecvBuf::new(4096, 1 << 20);
        b.extend_from_slice(&vec![1u8; 200_000]).unwrap();
        b.consume(200_000);
        let grown = b.capacity();
        assert!(grown >= 200_000);
        // ...and then small frames: kept while the review window still
        // includes the big frame, released within the next window.
        let caps = traffic(&mut b, 1000, 3 * grown);
        let released = caps.iter().position(|&c| c == 4096).expect("released") * 1000;
        assert!(released >= grown - 200_000, "released after {released} bytes: too early");
        assert!(released <= 2 * grown, "released after {released} bytes: too late");
    }

    #[test]
    fn a_buffer_the_traffic_fills_is_kept() {
        // The harness's trap: a buffer filled and drained whole, again and
        // again, must not be freed and regrown on every drain.
        let mut b = RecvBuf::new(4096, 8 << 20);
        let chunk = vec![1u8; 1 << 20];
        for _ in 0..8 {
            b.extend_from_slice(&chunk).unwrap();
            b.consume(1 << 20);
            assert!(b.capacity() >= 1 << 20);
        }
        // More than a quarter of the buffer in use counts as needing it...
        let mut b = RecvBuf::new(4096, 8 << 20);
        b.extend_from_slice(&chunk).unwrap();
        b.consume(1 << 20);
        let cap = b.capacity();
        let caps = traffic(&mut b, cap / 4 + 1, 16 * cap);
        assert!(caps.iter().all(|&c| c == cap), "{caps:?}");
        // ...a quarter does not: it is released (and regrows to what the
        // traffic needs).
        let caps = traffic(&mut b, cap / 4, 16 * cap);
        assert!(caps.iter().any(|&c| c < cap), "{caps:?}");
    }

    #[test]
    fn a_line_that_is_not_utf8_is_an_error_for_that_line_only() {
        // X20, borrowed and owned.
        use crate::DelimitedCodec;
        let wire = b"ok\n\xe2\x82\n\xc3\xa9t\xc3\xa9\ntail";
        let expect = [
            Ok("ok".to_owned()),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 0 }),
            Ok("\u{e9}t\u{e9}".to_owned()),
        ];
        for owned in [false, true] {
            // A codec remembers how far it searched its stream: a new stream, a new codec.
            let mut codec = DelimitedCodec::lines();
            let mut b = RecvBuf::new(64, 64);
            b.extend_from_slice(wire).unwrap();
            let got: Vec<_> = if owned {
                b.frames_owned(&mut codec).text().map(|t| t.map(|t| t.to_string())).collect()
            } else {
                b.frames(&mut codec).text().map(|t| t.map(str::to_owned)).collect()
            };
            assert_eq!(got, expect, "owned {owned}");
            assert_eq!(b.data(), b"tail");
        }
        let text = Utf8Bytes::try_from(Bytes::from_static("h\u{e9}".as_bytes())).unwrap();
        assert_eq!((text.as_str(), format!("{text:?}")), ("h\u{e9}", "\"h\u{e9}\"".to_owned()));
        assert!(text == "h\u{e9}" && text == *"h\u{e9}");
        assert!(text != "x" && text != *"x" && text != *"h\u{e9}!");
        assert_eq!(text.into_bytes(), "h\u{e9}".as_bytes());
        assert_eq!(
            Utf8Bytes::try_from(Bytes::from_static(b"ab\xff")),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 2 })
        );
    }

    /// A stream of `n` frames of `size` bytes in the default length layout.
    fn len_stream(n: usize, size: usize) -> Vec<u8> {
        (0..n).flat_map(|i| [&(size as u32).to_be_bytes()[..], &vec![i as u8; size]].concat()).collect()
    }

    #[test]
    fn owned_frames_dropped_as_they_come_reuse_the_front_of_the_buffer() {
        // 10 KB frames arriving 1,460 bytes at a time. Once a frame is split
        // off and dropped, the few bytes after it go back to the start of the
        // allocation, so every frame is received into the same memory (as
        // borrowed frames are), and the buffer never grows past two frames.
        let mut codec = crate::LengthCodec::new();
        let mut b = RecvBuf::new(4096, 1 << 20);
        let mut starts = Vec::new();
        for chunk in len_stream(40, 10_000).chunks(1460) {
            b.extend_from_slice(chunk).unwrap();
            assert!(b.capacity() <= 2 * 10_004, "capacity {}", b.capacity());
            for frame in b.frames_owned(&mut codec) {
                let frame = frame.unwrap();
                assert!(frame.iter().all(|&x| x == starts.len() as u8));
                starts.push(frame.as_ptr() as usize);
            }
        }
        assert_eq!(starts.len(), 40);
        assert!(starts[2..].iter().all(|&p| p == starts[1]), "frames moved: {starts:?}");
    }

    #[test]
    fn the_front_owned_frames_took_comes_back_once_they_are_dropped() {
        // One 100-byte frame and 10 bytes of the next in an 8 KiB buffer.
        let mut codec = crate::LengthCodec::new();
        let stream = len_stream(2, 100);
        let mut b = RecvBuf::new(8192, 1 << 20);
        b.extend_from_slice(&stream[..114]).unwrap();
        let kept: Vec<Bytes> = b.frames_owned(&mut codec).map(Result::unwrap).collect();
        assert_eq!(b.capacity(), 8192 - 104, "the rest of the allocation");
        // Kept: the next bytes go after it, nothing moves.
        b.extend_from_slice(&stream[114..150]).unwrap();
        assert_eq!(b.capacity(), 8192 - 104);
        assert_eq!(kept[0], vec![0u8; 100]);
        // Dropped: the 46 live bytes go back to the start of the allocation.
        drop(kept);
        b.extend_from_slice(&stream[150..151]).unwrap();
        assert_eq!(b.capacity(), 8192);
        assert_eq!(b.data(), &stream[104..151]);
        // More than 4 KiB live behind the front: not moved early (it would
        // cost more than a read); the buffer fills its allocation first.
        let mut b = RecvBuf::new(16_384, 1 << 20);
        let stream = len_stream(2, 5000);
        b.extend_from_slice(&stream[..5004 + 4200]).unwrap();
        assert_eq!(b.frames_owned(&mut codec).count(), 1);
        b.extend_from_slice(&[1]).unwrap();
        assert_eq!(b.capacity(), 16_384 - 5004);
        assert_eq!(b.len(), 4201);
    }

    #[test]
    fn at_the_end_of_its_allocation_the_buffer_takes_back_the_front_or_carries_on_in_fresh_memory() {
        let mut codec = crate::LengthCodec::new();
        // Three 20,004-byte frames split off a 65,012-byte allocation, 5,000
        // bytes live (more than the early move takes, but 1/8 of the front).
        let stream = len_stream(4, 20_000);
        let fill = |b: &mut RecvBuf, codec: &mut crate::LengthCodec| -> Vec<Bytes> {
            b.extend_from_slice(&stream[..65_012]).unwrap();
            assert_eq!(b.capacity(), 65_012);
            b.frames_owned(codec).map(Result::unwrap).collect()
        };
        // Dropped: the allocation is taken back (the live bytes move to its
        // start), no growth.
        let mut b = RecvBuf::new(32_768, 1 << 20);
        let frames = fill(&mut b, &mut codec);
        let start_of_allocation = frames[0].as_ptr() as usize - 4;
        drop(frames);
        b.extend_from_slice(&stream[65_012..66_012]).unwrap();
        assert_eq!((b.capacity(), b.len()), (65_012, 6000));
        assert_eq!(b.data(), &stream[60_012..66_012]);
        assert_eq!(b.data().as_ptr() as usize, start_of_allocation, "the same memory, not a copy");
        // Kept: fresh memory of the initial size, not twice the allocation.
        let mut b = RecvBuf::new(32_768, 1 << 20);
        let kept = fill(&mut b, &mut codec);
        b.extend_from_slice(&stream[65_012..66_012]).unwrap();
        assert_eq!((b.capacity(), b.len()), (32_768, 6000));
        assert_eq!(b.data(), &stream[60_012..66_012]);
        assert!(kept.iter().enumerate().all(|(i, f)| f.len() == 20_000 && f.iter().all(|&x| x == i as u8)));
        // At the cap, a partial frame that is not cheap to move is moved
        // all the same, within the same memory.
        let mut b = RecvBuf::new(16_384, 16_384);
        let stream = len_stream(2, 10_000);
        b.extend_from_slice(&stream[..15_004]).unwrap();
        let frames: Vec<Bytes> = b.frames_owned(&mut codec).map(Result::unwrap).collect();
        let start_of_allocation = frames[0].as_ptr() as usize - 4;
        drop(frames);
        b.extend_from_slice(&stream[15_004..16_504]).unwrap();
        assert_eq!((b.capacity(), b.len()), (16_384, 6500));
        assert_eq!(b.data(), &stream[10_004..16_504]);
        assert_eq!(b.data().as_ptr() as usize, start_of_allocation, "the same memory, not a copy");
        let stream = len_stream(3, 3000);
        // Kept, and more live bytes than the initial size: exactly what
        // they need.
        let mut b = RecvBuf::new(4096, 1 << 20);
        b.extend_from_slice(&stream[..3004]).unwrap();
        let kept: Vec<Bytes> = b.frames_owned(&mut codec).map(Result::unwrap).collect();
        let cap = b.capacity();
        b.extend_from_slice(&stream[3004..3004 + cap]).unwrap();
        b.extend_from_slice(&stream[3004 + cap..3004 + cap + 4000]).unwrap();
        assert_eq!((b.capacity(), b.len()), (cap + 4000, cap + 4000));
        drop(kept);
    }

    #[test]
    fn reads_of_a_stream_of_large_frames_keep_the_buffer() {
        // The review runs once per buffer's worth of traffic on the read path
        // too: 256 KiB frames read 64 KiB at a time, each consumed once whole
        // (the buffer is then empty, small enough to shrink), never make the
        // buffer shrink and regrow.
        const FRAME: usize = 256 * 1024;
        struct Steady;
        impl Read for Steady {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(65_536);
                buf[..n].fill(7);
                Ok(n)
            }
        }
        let mut b = RecvBuf::new(4096, 8 << 20);
        let mut smallest = usize::MAX;
        for i in 0..400 {
            b.read_from(&mut Steady).unwrap();
            if b.len() >= FRAME {
                b.consume(FRAME);
            }
            if i >= 20 {
                smallest = smallest.min(b.capacity());
            }
        }
        assert!(smallest >= FRAME, "the buffer shrank to {smallest}");
    }

    #[test]
    fn a_large_buffer_is_kept_for_a_buffers_worth_of_traffic_after_its_frame() {
        // T7's amortisation on the read path: after a 1 MiB frame, the
        // buffer is not released at the first small read (a frame that size
        // may come again); only once about a buffer's worth of small traffic
        // has gone by.
        struct Feed(Vec<u8>);
        impl Read for Feed {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(65_536);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0.drain(..n);
                Ok(n)
            }
        }
        let mut b = RecvBuf::new(4096, 8 << 20);
        let mut feed = Feed(vec![1; 1 << 20]);
        while b.len() < 1 << 20 {
            b.read_from(&mut feed).unwrap();
        }
        b.consume(1 << 20);
        let big = b.capacity();
        assert!(big >= 1 << 20);
        for _ in 0..10 {
            feed.0.extend_from_slice(&[2; 100]);
            b.read_from(&mut feed).unwrap();
            b.consume(100);
            assert_eq!(b.capacity(), big, "released after a few small reads");
        }
        // ...and released once about a buffer's worth has gone by without
        // needing it.
        for _ in 0..40 {
            feed.0.extend_from_slice(&[3; 65_536]);
            b.read_from(&mut feed).unwrap();
            let n = b.len();
            b.consume(n);
        }
        assert!(b.capacity() <= 64 * 1024, "still {} after 2.5 MiB of small reads", b.capacity());
    }

    #[test]
    fn a_send_queue_allocates_at_least_4_kib_at_first() {
        // Never a block sized by the first frame (a small block left in the
        // allocator's per-size caches keeps freed memory from the system).
        let mut q = SendQueue::new(1 << 20);
        assert_eq!(q.capacity(), 0);
        q.push(&mut crate::LengthCodec::new(), b"hi").unwrap();
        assert!(q.capacity() >= FIRST_SEND_ALLOCATION, "capacity {}", q.capacity());
        let mut q = SendQueue::new(1 << 20);
        q.buffer_mut().extend_from_slice(b"x");
        assert!(q.capacity() >= FIRST_SEND_ALLOCATION);
        // Never past a smaller cap.
        let mut q = SendQueue::new(100);
        q.buffer_mut();
        assert!((100..FIRST_SEND_ALLOCATION).contains(&q.capacity()), "capacity {}", q.capacity());
        // A queue that has room allocates nothing more.
        let mut q = SendQueue::with_capacity(1 << 20, 64);
        q.buffer_mut();
        assert_eq!(q.capacity(), 64);
    }

    #[test]
    fn owned_frames_kept_by_the_caller_are_never_moved_or_overwritten() {
        // The same stream with every frame kept: the buffer cannot reuse the
        // memory they hold, so it carries on after them (BAD_INPUTS X21).
        let mut codec = crate::LengthCodec::new();
        let mut b = RecvBuf::new(4096, 1 << 20);
        let mut kept = Vec::new();
        for chunk in len_stream(40, 10_000).chunks(1460) {
            b.extend_from_slice(chunk).unwrap();
            kept.extend(b.frames_owned(&mut codec).map(Result::unwrap));
        }
        assert_eq!(kept.len(), 40);
        for (i, frame) in kept.iter().enumerate() {
            assert!(frame.len() == 10_000 && frame.iter().all(|&x| x == i as u8), "frame {i}");
        }
    }

    #[test]
    fn a_large_partial_frame_behind_owned_frames_grows_the_buffer_instead_of_moving() {
        // A frame kept by the caller holds the front; 9,000 live bytes are
        // behind 1,004 split off. Moving them would cost more than 1/8 of
        // what it frees, so the buffer grows (doubling the allocation).
        let mut codec = crate::LengthCodec::new();
        let mut b = RecvBuf::new(10_004, 1 << 20);
        let stream = len_stream(3, 1000);
        b.extend_from_slice(&stream[..1004]).unwrap();
        let kept: Vec<Bytes> = b.frames_owned(&mut codec).map(Result::unwrap).collect();
        b.extend_from_slice(&[0; 9000]).unwrap();
        assert_eq!(b.capacity(), 9000, "the rest of the allocation");
        drop(kept);
        b.extend_from_slice(&[0; 100]).unwrap();
        assert_eq!(b.capacity(), 2 * 10_004);
        assert_eq!(b.len(), 9100);
    }

    #[test]
    fn appending_never_allocates_past_the_cap() {
        // At the cap, the live bytes move to the front instead: 6,000 live
        // bytes behind 2,000 consumed ones in a full 8,192-byte buffer.
        let mut b = RecvBuf::new(8192, 8192);
        b.extend_from_slice(&[1; 8000]).unwrap();
        assert_eq!(b.capacity(), 8192);
        b.consume(2000);
        b.extend_from_slice(&[2; 200]).unwrap();
        assert_eq!(b.capacity(), 8192);
        assert_eq!(b.len(), 6200);
        assert!(b.data()[..6000].iter().all(|&x| x == 1) && b.data()[6000..].iter().all(|&x| x == 2));
        // Exactly up to the cap, below it: the buffer grows to the cap.
        let mut b = RecvBuf::new(4096, 8192);
        b.extend_from_slice(&[1; 4096]).unwrap();
        b.consume(96);
        b.extend_from_slice(&[2; 4096]).unwrap();
        assert_eq!((b.len(), b.capacity()), (8096, 8192));
        // Below the cap, live bytes that outweigh the consumed front are not
        // moved to make room: the buffer grows (as `spare` does).
        let mut b = RecvBuf::new(8192, 1 << 20);
        b.extend_from_slice(&[1; 8000]).unwrap();
        b.consume(2000);
        b.extend_from_slice(&[2; 200]).unwrap();
        assert_eq!((b.len(), b.capacity()), (6200, 16384));
        // Growth doubles, never past the cap.
        let mut b = RecvBuf::new(100, 1000);
        for _ in 0..10 {
            b.extend_from_slice(&[3; 100]).unwrap();
            assert!(b.capacity() <= 1000, "capacity {}", b.capacity());
        }
        assert_eq!(b.len(), 1000);
    }

    #[test]
    fn the_shrink_review_counts_only_live_bytes() {
        // Small frames with one byte always left over (the next frame's
        // start): the consumed front is not traffic held, so a buffer grown
        // by one large frame is still released.
        let mut b = RecvBuf::new(4096, 1 << 20);
        b.extend_from_slice(&vec![1u8; 200_001]).unwrap();
        b.consume(200_000);
        let grown = b.capacity();
        for _ in 0..(3 * grown / 1000) {
            b.extend_from_slice(&[2u8; 1000]).unwrap();
            b.consume(1000);
        }
        assert_eq!(b.len(), 1);
        assert!(b.capacity() < grown / 4, "capacity {} of {grown}", b.capacity());
    }

    #[test]
    #[cfg(feature = "std")]
    fn send_queue_encodes_under_its_cap() {
        use crate::{EncodeError, LengthCodec};
        let mut codec = LengthCodec::builder().max_frame_length(8).build().unwrap();
        let mut q = SendQueue::with_capacity(10, 64);
        assert!(q.capacity() >= 10);
        // An empty queue takes a frame over the cap.
        q.encode(&mut codec, b"12345678").unwrap();
        assert_eq!(q.len(), 12);
        assert!(matches!(q.encode(&mut codec, b""), Err(TransportError::Full { queued: 12, cap: 10 })));
        q.advance(12);
        q.encode(&mut codec, b"abc").unwrap();
        assert!(matches!(q.encode(&mut codec, b""), Err(TransportError::Full { queued: 7, cap: 10 })));
        assert_eq!(q.pending(), b"\x00\x00\x00\x03abc");
        let mut q = SendQueue::new(100);
        q.encode(&mut codec, b"ab").unwrap();
        q.encode(&mut codec, b"cd").unwrap();
        assert_eq!(q.pending(), b"\x00\x00\x00\x02ab\x00\x00\x00\x02cd");
        assert!(matches!(
            q.encode(&mut codec, b"123456789"),
            Err(TransportError::Encode(EncodeError::PayloadTooLarge { len: 9, max: 8 }))
        ));
        assert_eq!(q.len(), 12);
    }

    #[test]
    fn push_encodes_under_its_cap_without_std() {
        use crate::{EncodeError, LengthCodec};
        let mut codec = LengthCodec::builder().max_frame_length(8).build().unwrap();
        let mut q = SendQueue::new(10);
        q.push(&mut codec, b"12345678").unwrap(); // an empty queue takes a frame over the cap
        assert_eq!(q.push(&mut codec, b""), Err(PushError::Full { queued: 12, cap: 10 }));
        q.advance(12);
        assert_eq!(
            q.push(&mut codec, b"123456789"),
            Err(PushError::Encode(EncodeError::PayloadTooLarge { len: 9, max: 8 }))
        );
        assert!(q.is_empty());
    }

    #[test]
    fn read_with_clamps_a_lying_reader_and_reports_eof_and_full() {
        let mut b = RecvBuf::new(8, 8);
        assert_eq!(b.read_with(|room| Ok::<_, ()>(room.len() + 5)), Ok(ReadOutcome::Data(8)));
        assert_eq!(b.len(), 8);
        assert_eq!(
            b.read_with(|_| -> Result<usize, ()> { panic!("no read at the cap") }),
            Ok(ReadOutcome::Full)
        );
        b.consume(8);
        assert_eq!(b.read_with(|_| Err::<usize, _>("gone")), Err("gone"));
        assert!(b.is_empty(), "an error appends nothing");
        assert_eq!(b.read_with(|_| Ok::<_, ()>(0)), Ok(ReadOutcome::Eof));
    }

    #[test]
    fn consume_is_clamped_to_what_is_buffered() {
        let mut b = RecvBuf::new(16, 16);
        b.extend_from_slice(b"hello").unwrap();
        b.consume(2);
        b.consume(100);
        assert!(b.is_empty());
        assert_eq!(b.len(), 0);
        b.extend_from_slice(b"next").unwrap();
        assert_eq!(b.data(), b"next");
    }

    #[test]
    fn send_queue_advances_and_caps() {
        let mut q = SendQueue::new(4);
        assert_eq!(q.cap(), 4);
        assert!(q.has_room(100)); // an empty queue takes one frame
        q.buffer_mut().extend_from_slice(b"abc");
        assert!(q.has_room(1));
        assert!(!q.has_room(2));
        q.advance(10); // clamped
        assert!(q.is_empty());
    }
}

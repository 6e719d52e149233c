//! The decode/encode contract and the framings that implement it.
//!
//! A [`Decoder`] looks at the bytes a caller has received and not yet consumed,
//! and answers with one of three outcomes:
//!
//! | result | meaning | what the caller does |
//! |---|---|---|
//! | `Ok(Some(frame))` | a complete frame | use `frame.payload(buf)`, then drop `frame.consumed()` bytes from the front |
//! | `Ok(None)` | need more bytes | read more, append, call again with the same bytes first |
//! | `Err(e)` | the stream is corrupt | stop; frames returned earlier stay valid |
//!
//! Need-more is never an error and never requires consuming anything. A decoder
//! may remember how far it has looked (so every call does work proportional to
//! the *new* bytes), which is why the caller must hand it the same unconsumed
//! bytes again, followed by whatever arrived since.
//!
//! End of stream is explicit: call [`Decoder::decode_eof`] once the peer has
//! closed. It returns the remaining complete frames, then `Ok(None)` if the
//! stream ended at a frame boundary, or [`DecodeError::Truncated`] if it ended
//! inside one.

use core::ops::Range;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::{DecodeError, EncodeError};

pub mod any;
pub mod cobs;
pub mod delimited;
pub mod length;
pub mod netstring;
pub mod raw;
pub mod varint;

/// Where a decoded frame lies in the buffer passed to [`Decoder::decode`].
///
/// Invariant: `start <= end <= consumed`.
///
/// ```
/// use sockframe::{Decoder, LengthCodec};
///
/// let mut codec = LengthCodec::new();
/// let mut wire = *b"\x00\x00\x00\x02hi\x00";
/// let frame = codec.decode(&mut wire).unwrap().unwrap();
/// assert_eq!(frame.payload(&wire), b"hi");
/// assert_eq!(frame.consumed(), 6);
/// assert_eq!(frame.payload_range(), 4..6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a decoded frame must be consumed from the buffer"]
pub struct Frame {
    consumed: usize,
    start: usize,
    end: usize,
}

impl Frame {
    /// A frame whose payload is `buf[start..end]` and which occupies the first
    /// `consumed` bytes of the buffer.
    ///
    /// # Panics
    /// If `start <= end <= consumed` does not hold. This is a bug in a
    /// decoder, never a consequence of input.
    #[inline]
    pub const fn new(consumed: usize, start: usize, end: usize) -> Self {
        assert!(start <= end && end <= consumed, "Frame::new: start <= end <= consumed");
        Frame { consumed, start, end }
    }

    /// Bytes the frame occupies from the front of the buffer, framing included.
    #[inline]
    pub const fn consumed(&self) -> usize {
        self.consumed
    }

    /// The payload's position in the buffer.
    #[inline]
    pub const fn payload_range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// The payload length.
    #[inline]
    pub const fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the payload is empty.
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The payload, borrowed from the buffer the frame was decoded from.
    #[inline]
    pub fn payload<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start..self.end]
    }
}

/// An incremental frame decoder. See the [module docs](self) for the contract.
pub trait Decoder {
    /// Decodes the next frame from the front of `buf`, the bytes received and
    /// not yet consumed.
    ///
    /// `buf` is mutable only so that framings that transform their payload
    /// (COBS) can decode it in place inside the frame's own bytes; on
    /// `Ok(None)` the buffer is left as it was.
    ///
    /// # Errors
    /// A [`DecodeError`] when the bytes violate the framing.
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError>;

    /// Decodes at end of stream: the peer will send nothing more.
    ///
    /// Returns a frame while complete frames remain, then `Ok(None)` if `buf`
    /// is empty (a clean end at a frame boundary).
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] when bytes of an incomplete frame remain, or
    /// any error [`decode`](Decoder::decode) reports.
    fn decode_eof(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        match self.decode(buf)? {
            Some(frame) => Ok(Some(frame)),
            None if buf.is_empty() => Ok(None),
            None => Err(DecodeError::Truncated { pending: buf.len() }),
        }
    }

    /// Decodes the next frame as an owned [`Bytes`] split off `buf` without
    /// copying, and removes its bytes from `buf`.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use sockframe::{Decoder, LengthCodec};
    ///
    /// let mut codec = LengthCodec::new();
    /// let mut buf = BytesMut::from(&b"\x00\x00\x00\x02hi\x00\x00"[..]);
    /// assert_eq!(codec.decode_bytes(&mut buf).unwrap().unwrap(), "hi");
    /// assert_eq!(codec.decode_bytes(&mut buf).unwrap(), None); // need more
    /// assert_eq!(buf.len(), 2); // the partial header is kept
    /// ```
    ///
    /// # Errors
    /// As [`decode`](Decoder::decode).
    fn decode_bytes(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, DecodeError> {
        match self.decode(&mut buf[..])? {
            Some(frame) => Ok(Some(split_frame(frame, buf))),
            None => Ok(None),
        }
    }

    /// [`decode_bytes`](Decoder::decode_bytes) at end of stream.
    ///
    /// # Errors
    /// As [`decode_eof`](Decoder::decode_eof).
    fn decode_bytes_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, DecodeError> {
        match self.decode_eof(&mut buf[..])? {
            Some(frame) => Ok(Some(split_frame(frame, buf))),
            None => Ok(None),
        }
    }
}

#[inline]
fn split_frame(frame: Frame, buf: &mut BytesMut) -> Bytes {
    // One split (one reference count increment) per frame; trimming the
    // frozen `Bytes` is pointer arithmetic.
    let mut payload = buf.split_to(frame.consumed).freeze();
    payload.advance(frame.start);
    if frame.end < frame.consumed {
        payload.truncate(frame.len());
    }
    payload
}

impl<D: Decoder + ?Sized> Decoder for &mut D {
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        (**self).decode(buf)
    }
    fn decode_eof(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        (**self).decode_eof(buf)
    }
}

/// Iterates over the complete frames in a buffer, lending payloads straight
/// out of it: no allocation, no reference counting.
///
/// When the iterator ends (need-more) or yields an error, [`consumed`](Self::consumed)
/// says how many bytes from the front of the buffer the frames occupied; drop
/// exactly those before decoding further.
///
/// ```
/// use sockframe::{Decoder, Frames, LengthCodec};
///
/// let mut codec = LengthCodec::new();
/// let mut buf = b"\x00\x00\x00\x01a\x00\x00\x00\x02bc\x00\x00".to_vec();
/// let mut frames = Frames::new(&mut codec, &mut buf);
/// assert_eq!(frames.next(), Some(Ok(&b"a"[..])));
/// assert_eq!(frames.next(), Some(Ok(&b"bc"[..])));
/// assert_eq!(frames.next(), None); // need more
/// let used = frames.consumed();
/// buf.drain(..used);
/// assert_eq!(buf, b"\x00\x00");
/// ```
#[derive(Debug)]
pub struct Frames<'a, D: ?Sized> {
    decoder: &'a mut D,
    rest: &'a mut [u8],
    consumed: usize,
    eof: bool,
    done: bool,
}

impl<'a, D: Decoder + ?Sized> Frames<'a, D> {
    /// Frames in `buf`; more may follow.
    pub fn new(decoder: &'a mut D, buf: &'a mut [u8]) -> Self {
        Frames { decoder, rest: buf, consumed: 0, eof: false, done: false }
    }

    /// Frames in `buf`, which is the last of the stream: trailing bytes that do
    /// not form a frame end the iteration with [`DecodeError::Truncated`].
    pub fn at_eof(decoder: &'a mut D, buf: &'a mut [u8]) -> Self {
        Frames { decoder, rest: buf, consumed: 0, eof: true, done: false }
    }

    /// Bytes occupied by the frames yielded so far.
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// The bytes after the frames yielded so far.
    pub fn remaining(&self) -> &[u8] {
        self.rest
    }
}

impl<'a, D: Decoder + ?Sized> Iterator for Frames<'a, D> {
    type Item = Result<&'a [u8], DecodeError>;

    // Inlined into the caller's loop: this is the per-frame hot path.
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result =
            if self.eof { self.decoder.decode_eof(self.rest) } else { self.decoder.decode(self.rest) };
        match result {
            Ok(Some(frame)) => {
                let rest = core::mem::take(&mut self.rest);
                let (head, tail) = rest.split_at_mut(frame.consumed);
                self.rest = tail;
                self.consumed += frame.consumed;
                let head: &'a [u8] = head;
                Some(Ok(&head[frame.start..frame.end]))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// The bytes a framing puts before and after a payload that it sends verbatim.
///
/// Lets a writer send header, payload and trailer with one vectored write
/// without copying the payload. At most [`Envelope::CAPACITY`] bytes each.
///
/// ```
/// use sockframe::{Encoder, LengthCodec};
///
/// let mut codec = LengthCodec::new();
/// let env = codec.envelope(b"hello").unwrap().unwrap();
/// assert_eq!(env.head(), b"\x00\x00\x00\x05");
/// assert_eq!(env.tail(), b"");
/// assert_eq!(env.frame_len(5), Some(9));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    head: [u8; Envelope::CAPACITY],
    tail: [u8; Envelope::CAPACITY],
    head_len: u8,
    tail_len: u8,
}

impl core::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Envelope").field("head", &self.head()).field("tail", &self.tail()).finish()
    }
}

impl Envelope {
    /// Largest head or tail an envelope holds.
    pub const CAPACITY: usize = 32;

    /// An envelope of `head` and `tail`, or `None` if either is longer than
    /// [`CAPACITY`](Self::CAPACITY).
    #[inline]
    pub fn new(head: &[u8], tail: &[u8]) -> Option<Self> {
        if head.len() > Self::CAPACITY || tail.len() > Self::CAPACITY {
            return None;
        }
        let mut env = Envelope {
            head: [0; Self::CAPACITY],
            tail: [0; Self::CAPACITY],
            head_len: head.len() as u8,
            tail_len: tail.len() as u8,
        };
        env.head[..head.len()].copy_from_slice(head);
        env.tail[..tail.len()].copy_from_slice(tail);
        Some(env)
    }

    /// Bytes that go before the payload.
    #[inline]
    pub fn head(&self) -> &[u8] {
        &self.head[..usize::from(self.head_len)]
    }

    /// Bytes that go after the payload.
    #[inline]
    pub fn tail(&self) -> &[u8] {
        &self.tail[..usize::from(self.tail_len)]
    }

    /// Total encoded length for a payload of `payload_len` bytes.
    #[inline]
    pub fn frame_len(&self, payload_len: usize) -> Option<usize> {
        usize::from(self.head_len).checked_add(payload_len)?.checked_add(usize::from(self.tail_len))
    }

    /// Appends head, payload and tail to `dst`.
    #[inline]
    pub fn write(&self, payload: &[u8], dst: &mut BytesMut) {
        dst.reserve(usize::from(self.head_len) + payload.len() + usize::from(self.tail_len));
        dst.put_slice(self.head());
        dst.put_slice(payload);
        dst.put_slice(self.tail());
    }
}

/// A frame encoder.
///
/// Encoding never half-writes: on error the output buffer is byte-identical to
/// what it was before the call.
pub trait Encoder {
    /// Appends the encoding of `payload` to `dst`.
    ///
    /// The provided implementation writes the [`envelope`](Encoder::envelope)
    /// around the payload; framings without an envelope override it.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use sockframe::{Encoder, LengthCodec};
    ///
    /// let mut codec = LengthCodec::new();
    /// let mut out = BytesMut::new();
    /// codec.encode(b"hi", &mut out).unwrap();
    /// assert_eq!(&out[..], b"\x00\x00\x00\x02hi");
    /// ```
    ///
    /// # Errors
    /// An [`EncodeError`] when this framing cannot carry `payload`; `dst` is
    /// unchanged.
    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        match self.envelope(payload)? {
            Some(env) => {
                env.write(payload, dst);
                Ok(())
            }
            // An encoder without envelopes must override `encode`; reaching
            // here is an implementation bug, reported rather than panicking.
            None => Err(EncodeError::PayloadTooLarge { len: payload.len(), max: 0 }),
        }
    }

    /// The bytes this framing puts around `payload`, if it sends the payload
    /// verbatim; `Ok(None)` if the payload must be transformed (COBS).
    ///
    /// # Errors
    /// As [`encode`](Encoder::encode).
    fn envelope(&mut self, payload: &[u8]) -> Result<Option<Envelope>, EncodeError>;
}

impl<E: Encoder + ?Sized> Encoder for &mut E {
    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        (**self).encode(payload, dst)
    }
    fn envelope(&mut self, payload: &[u8]) -> Result<Option<Envelope>, EncodeError> {
        (**self).envelope(payload)
    }
}

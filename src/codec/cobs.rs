//! Consistent Overhead Byte Stuffing (Cheshire & Baker) with `0x00` as the
//! frame delimiter, byte-compatible with the `cobs` crate.
//!
//! COBS removes every zero from the payload, so a single `0x00` can end each
//! frame. The payload is cut at its zeros into blocks; each block is sent as
//! a code byte (its length + 1) followed by its non-zero bytes, and the zero
//! after it is implied. A block of 254 non-zero bytes has code `FF` and no
//! implied zero.
//!
//! ```text
//! payload  11 22 00 33          encoded  03 11 22 02 33 00
//!                                        └code┘   └code┘ └ delimiter
//! payload  (empty)              encoded  01 00
//! ```
//!
//! # Size
//! A payload of `n` bytes encodes to at most [`max_encoded_len`]`(n)` =
//! `n + n / 254 + 2` bytes, delimiter included (one code byte per 254
//! non-zero bytes, one for the last block, one delimiter).
//!
//! # Decoding
//! The decoder looks for the `0x00` with a search that resumes where it
//! stopped, and decodes the frame **in place** inside its own bytes (the
//! payload is never longer than its encoding), returning the payload's
//! range. A frame whose code byte points past its end, and the empty frame
//! (a lone `0x00`; the empty payload is `01 00`), are
//! [`DecodeError::InvalidFraming`]. If `max_encoded_len(max) - 1` bytes have
//! arrived without a delimiter, the decoder reports
//! [`DecodeError::DelimiterNotFound`]. In discard mode
//! ([`CobsBuilder::discard`], spec `cobs,discard`) an invalid frame is
//! skipped up to its `0x00` instead ([`SkipReason::Corrupt`]), an overlong
//! one as it streams in ([`SkipReason::Overlong`]), and decoding goes on.

use bytes::{BufMut, BytesMut};

use crate::codec::{Decoder, Encoder, Envelope, Frame, SkipReason};
use crate::error::{ConfigError, DecodeError, EncodeError};
use crate::limits::NO_LIMIT as MAX_LIMIT;

pub use crate::limits::DEFAULT_MAX_FRAME_LENGTH;

/// The most bytes a payload of `len` bytes encodes to, the `0x00` delimiter
/// included: `len + len / 254 + 2` (saturating).
///
/// ```
/// use sockframe::codec::cobs::max_encoded_len;
/// assert_eq!(max_encoded_len(0), 2); // 01 00
/// assert_eq!(max_encoded_len(300), 303); // 300 bytes, 2 code bytes, 00
/// // 254 non-zero bytes encode to FF, the bytes, 00: 256, within the bound.
/// assert_eq!(max_encoded_len(254), 257);
/// ```
pub const fn max_encoded_len(len: usize) -> usize {
    len.saturating_add(len / 254).saturating_add(2)
}

/// Configures a [`CobsCodec`]. Obtain one from [`CobsCodec::builder`].
///
/// ```
/// use sockframe::CobsCodec;
///
/// let codec = CobsCodec::builder().max_frame_length(256).build().unwrap();
/// assert_eq!(codec.max_frame_length(), 256);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct CobsBuilder {
    max: usize,
    discard: bool,
}

impl Default for CobsBuilder {
    fn default() -> Self {
        CobsBuilder { max: DEFAULT_MAX_FRAME_LENGTH, discard: false }
    }
}

impl CobsBuilder {
    /// Largest payload (decoded) accepted and encoded, inclusive. Default 8 MiB.
    pub fn max_frame_length(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    /// Skip invalid and overlong frames (up to their `0x00`) instead of
    /// failing the stream (spec `cobs,discard`). Default `false`.
    pub fn discard(mut self, discard: bool) -> Self {
        self.discard = discard;
        self
    }

    /// Builds the codec.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a maximum whose encoding could exceed
    /// `isize::MAX` bytes.
    pub fn build(self) -> Result<CobsCodec, ConfigError> {
        if self.max > MAX_LIMIT / 2 {
            return Err(ConfigError::Invalid { reason: "max_frame_length above isize::MAX / 2" });
        }
        Ok(CobsCodec { max: self.max, discard: self.discard, next_index: 0, discarding: false, failed: None })
    }
}

/// A COBS decoder and encoder. See the [module docs](self).
///
/// ```
/// use bytes::BytesMut;
/// use sockframe::{CobsCodec, Decoder, Encoder};
///
/// let mut codec = CobsCodec::new();
/// let mut wire = BytesMut::new();
/// codec.encode(b"\x11\x22\x00\x33", &mut wire).unwrap();
/// assert_eq!(&wire[..], b"\x03\x11\x22\x02\x33\x00");
/// assert_eq!(codec.decode_bytes(&mut wire).unwrap().unwrap(), &b"\x11\x22\x00\x33"[..]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CobsCodec {
    max: usize,
    discard: bool,
    // Discard mode: inside an overlong frame, dropping bytes up to its 0x00.
    discarding: bool,
    // No 0x00 in buf[..next_index]; reset when a frame is returned.
    next_index: usize,
    // A bad frame was partly rewritten in place: the error repeats (errors
    // are sticky), instead of a second look at the rewritten bytes.
    failed: Option<DecodeError>,
}

impl Default for CobsCodec {
    fn default() -> Self {
        CobsCodec::new()
    }
}

impl CobsCodec {
    /// The default codec, 8 MiB maximum.
    pub fn new() -> Self {
        Self::builder().build().expect("the default configuration is valid")
    }

    /// A builder with the default settings.
    pub fn builder() -> CobsBuilder {
        // (Equivalent mutant: cargo-mutants' `Default::default()` is this.)
        CobsBuilder::default()
    }

    /// The maximum payload length in force (inclusive).
    pub fn max_frame_length(&self) -> usize {
        self.max
    }
}

impl CobsCodec {
    #[cold]
    fn fail(&mut self, e: DecodeError) -> DecodeError {
        self.failed = Some(e);
        e
    }

    /// A bad frame of `consumed` bytes: skipped in discard mode, else the
    /// stream fails.
    #[cold]
    fn bad_frame(
        &mut self,
        consumed: usize,
        e: DecodeError,
        reason: SkipReason,
    ) -> Result<Option<Frame>, DecodeError> {
        if self.discard {
            return Ok(Some(Frame::skipped(consumed, reason, true)));
        }
        Err(self.fail(e))
    }

    /// Drops an overlong frame as it streams in, up to and including its 0x00.
    fn discard_overlong(&mut self, buf: &[u8], first: bool) -> Option<Frame> {
        match buf.iter().position(|&b| b == 0) {
            Some(z) => {
                self.discarding = false;
                Some(Frame::skipped(z + 1, SkipReason::Overlong, first))
            }
            None if buf.is_empty() => None,
            None => Some(Frame::skipped(buf.len(), SkipReason::Overlong, first)),
        }
    }
}

/// Decodes the COBS block sequence `buf[..len]` in place; returns the payload
/// length. The payload ends up in `buf[..payload_len]`.
fn decode_in_place(buf: &mut [u8], len: usize) -> Result<usize, DecodeError> {
    // BAD_INPUTS C1: an empty frame.
    if len == 0 {
        return Err(DecodeError::InvalidFraming { offset: 0, reason: "empty COBS frame" });
    }
    // Invariant: w <= r, so writes never overtake unread bytes.
    let (mut r, mut w) = (0usize, 0usize);
    while r < len {
        let code = buf.get(r).copied().unwrap_or(0);
        let n = usize::from(code).saturating_sub(1);
        let start = r + 1;
        let end = start + n;
        // BAD_INPUTS C1: a code byte pointing past the end of the frame.
        if end > len || code == 0 {
            return Err(DecodeError::InvalidFraming {
                offset: r,
                reason: "COBS code byte points past the frame",
            });
        }
        buf.copy_within(start..end, w);
        w += n;
        r = end;
        if code != 0xff && r < len {
            if let Some(z) = buf.get_mut(w) {
                *z = 0;
            }
            w += 1;
        }
    }
    Ok(w)
}

impl Decoder for CobsCodec {
    #[inline]
    fn max_wire_len(&self) -> usize {
        max_encoded_len(self.max)
    }

    #[inline]
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.discarding {
            return Ok(self.discard_overlong(buf, false));
        }
        // The longest body (frame without delimiter) a max payload needs.
        let body_max = max_encoded_len(self.max) - 1;
        let window = buf.len().min(body_max.saturating_add(1));
        let hay = buf.get(self.next_index..window).unwrap_or_default();
        let Some(p) = hay.iter().position(|&b| b == 0) else {
            // BAD_INPUTS C3 (as D1): no delimiter within the longest frame.
            if window > body_max {
                if self.discard {
                    self.next_index = 0;
                    self.discarding = true;
                    return Ok(self.discard_overlong(buf, true));
                }
                return Err(DecodeError::DelimiterNotFound { max: self.max });
            }
            self.next_index = window;
            return Ok(None);
        };
        let len = self.next_index + p;
        self.next_index = 0;
        let n = match decode_in_place(buf, len) {
            Ok(n) => n,
            Err(e) => return self.bad_frame(len + 1, e, SkipReason::Corrupt),
        };
        if n > self.max {
            let e = DecodeError::FrameTooLarge { declared: n as u64, max: self.max };
            return self.bad_frame(len + 1, e, SkipReason::Overlong);
        }
        Ok(Some(Frame::new(len + 1, 0, n)))
    }
}

impl Encoder for CobsCodec {
    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        let len = payload.len();
        if len > self.max {
            return Err(EncodeError::PayloadTooLarge { len, max: self.max });
        }
        dst.reserve(max_encoded_len(len));
        let mut code_pos = dst.len();
        dst.put_u8(0);
        let mut code = 1u8;
        for (i, &b) in payload.iter().enumerate() {
            if b != 0 {
                dst.put_u8(b);
                code += 1;
                // A full block; open the next only if bytes follow, as the
                // cobs crate does.
                if code != 0xff || i + 1 == len {
                    continue;
                }
            }
            if let Some(c) = dst.get_mut(code_pos) {
                *c = code;
            }
            code_pos = dst.len();
            dst.put_u8(0);
            code = 1;
        }
        if let Some(c) = dst.get_mut(code_pos) {
            *c = code;
        }
        dst.put_u8(0);
        Ok(())
    }

    /// COBS transforms the payload: always `Ok(None)`, or the size error.
    fn envelope(&mut self, payload: &[u8]) -> Result<Option<Envelope>, EncodeError> {
        if payload.len() > self.max {
            return Err(EncodeError::PayloadTooLarge { len: payload.len(), max: self.max });
        }
        Ok(None)
    }
}

impl crate::codec::any::Spec for CobsCodec {
    const NAMES: &'static [&'static str] = &["cobs"];
    const EXAMPLES: &'static [&'static str] = &["cobs", "cobs,max=600", "cobs,max=300,discard"];

    fn from_spec(_name: &str, arg: Option<&str>) -> Result<Self, alloc::string::String> {
        crate::codec::any::no_arg(arg, CobsCodec::new())
    }

    fn max_frame_length(&self) -> usize {
        self.max
    }

    fn with_max_frame_length(&self, max: usize) -> Result<Self, ConfigError> {
        CobsCodec::builder().max_frame_length(max).discard(self.discard).build()
    }

    fn discards(&self) -> bool {
        self.discard
    }

    fn with_discard(&self) -> Result<Self, alloc::string::String> {
        CobsCodec::builder()
            .max_frame_length(self.max)
            .discard(true)
            .build()
            .map_err(|e| alloc::string::ToString::to_string(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(p: &[u8]) -> alloc::vec::Vec<u8> {
        let mut out = BytesMut::new();
        CobsCodec::new().encode(p, &mut out).unwrap();
        out.to_vec()
    }

    #[test]
    fn wikipedia_examples() {
        assert_eq!(enc(&[0x00]), [0x01, 0x01, 0x00]);
        assert_eq!(enc(&[0x00, 0x00]), [0x01, 0x01, 0x01, 0x00]);
        assert_eq!(enc(&[0x00, 0x11, 0x00]), [0x01, 0x02, 0x11, 0x01, 0x00]);
        assert_eq!(enc(&[0x11, 0x22, 0x00, 0x33]), [0x03, 0x11, 0x22, 0x02, 0x33, 0x00]);
        assert_eq!(enc(&[0x11, 0x22, 0x33, 0x44]), [0x05, 0x11, 0x22, 0x33, 0x44, 0x00]);
        assert_eq!(enc(&[0x11, 0x00, 0x00, 0x00]), [0x02, 0x11, 0x01, 0x01, 0x01, 0x00]);
        let p: alloc::vec::Vec<u8> = (1..=254).collect();
        let e = enc(&p);
        assert_eq!(e.len(), 256);
        assert_eq!((e[0], e[255]), (0xff, 0x00));
        let p: alloc::vec::Vec<u8> = (0..=255).collect();
        let e = enc(&p);
        assert_eq!(&e[..3], [0x01, 0xff, 0x01]);
        assert_eq!(&e[256..], [0x02, 0xff, 0x00]);
    }
}

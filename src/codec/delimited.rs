//! Delimiter framing: text lines (`\n`, optionally `\r\n`) and any single- or
//! multi-byte delimiter.
//!
//! ```text
//! lines():           delimiter(&[0x0d, 0x0a]):    delimiter(&[0x00]):
//! +-------+----+     +-------+-------+            +-------+----+
//! | h i   | 0A |     | h i   | 0D 0A |            | h i   | 00 |
//! +-------+----+     +-------+-------+            +-------+----+
//!  payload  delim     payload  delim               payload  delim
//! ```
//!
//! # Limits
//! The maximum frame length counts the bytes before the delimiter (a `\r`
//! that [`strip_cr`](DelimitedBuilder::strip_cr) removes included) and is
//! **inclusive**: a line of exactly `max` bytes is accepted, one of `max + 1`
//! is overlong. The default is [`DEFAULT_MAX_LINE_LENGTH`] (64 KiB). An
//! overlong line is detected as soon as `max + delimiter length` bytes have
//! arrived without a delimiter, so the caller never buffers more than that
//! plus one read.
//!
//! # Overlong lines
//! [`Overlong::Fail`] (the default) reports [`DecodeError::DelimiterNotFound`]
//! and the stream is done, as for any decode error.
//! [`Overlong::Discard`] skips an overlong line up to and including its
//! delimiter and carries on, through the contract's skip frames
//! ([`Frame::is_skip`]): the bytes of the overlong line are handed back for
//! dropping as they arrive, so memory stays bounded by `max` plus one read
//! in every driver, and the first piece of each line is marked
//! ([`Frame::starts_skip_region`]). At end of stream an unterminated overlong
//! line is skipped too (the caller asked to skip it), not `Truncated`.
//!
//! # End of stream
//! An unterminated last line that fits the maximum is [`DecodeError::Truncated`] at
//! [`decode_eof`](Decoder::decode_eof), as for every framing here
//! (tokio-util's `LinesCodec` returns it as a final line instead).
//!
//! # Work
//! The search resumes where the previous call stopped: feeding `n` bytes
//! one at a time examines `O(n · delimiter length)` bytes in total.

use core::str;

use crate::codec::{slice_enveloped, Decoder, Encoder, Envelope, Frame, SkipReason, SliceEncode};
use crate::error::{ConfigError, DecodeError, EncodeError};
use crate::limits::NO_LIMIT as MAX_LIMIT;

pub use crate::limits::{DEFAULT_MAX_LINE_LENGTH, MAX_DELIMITER_LEN};

/// What the decoder does with a line longer than the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overlong {
    /// Report [`DecodeError::DelimiterNotFound`]; the stream is corrupt. The default.
    #[default]
    Fail,
    /// Skip the line up to and including the next delimiter (as skip frames,
    /// see [`Frame::is_skip`]) and carry on.
    Discard,
}

/// Configures a [`DelimitedCodec`]. Obtain one from [`DelimitedCodec::builder`];
/// the defaults are those of [`DelimitedCodec::lines`].
///
/// ```
/// use sockframe::{DelimitedCodec, Overlong};
///
/// let codec = DelimitedCodec::builder()
///     .delimiter(b"\r\n")
///     .strip_cr(false)
///     .max_frame_length(1024)
///     .overlong(Overlong::Discard)
///     .build()
///     .unwrap();
/// assert_eq!(codec.delimiter(), b"\r\n");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct DelimitedBuilder {
    delim: [u8; MAX_DELIMITER_LEN],
    // May exceed MAX_DELIMITER_LEN, in which case build() fails.
    delim_len: usize,
    strip_cr: bool,
    max: usize,
    overlong: Overlong,
}

impl Default for DelimitedBuilder {
    fn default() -> Self {
        let mut delim = [0; MAX_DELIMITER_LEN];
        delim[0] = b'\n';
        DelimitedBuilder {
            delim,
            delim_len: 1,
            strip_cr: true,
            max: DEFAULT_MAX_LINE_LENGTH,
            overlong: Overlong::Fail,
        }
    }
}

impl DelimitedBuilder {
    /// The delimiter, 1 to [`MAX_DELIMITER_LEN`] bytes. Default `\n`.
    pub fn delimiter(mut self, delimiter: &[u8]) -> Self {
        self.delim_len = delimiter.len();
        if let (Some(dst), Some(src)) = (self.delim.get_mut(..delimiter.len()), delimiter.get(..)) {
            dst.copy_from_slice(src);
        }
        self
    }

    /// Remove one `\r` before the delimiter from decoded frames (so `\r\n`
    /// line ends work with a `\n` delimiter). The encoder then rejects
    /// payloads that end in `\r`, which could not round trip. Default `true`.
    pub fn strip_cr(mut self, strip: bool) -> Self {
        self.strip_cr = strip;
        self
    }

    /// Largest frame accepted (bytes before the delimiter, inclusive) and
    /// largest payload encoded. Default [`DEFAULT_MAX_LINE_LENGTH`].
    pub fn max_frame_length(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    /// What to do with an overlong line. Default [`Overlong::Fail`].
    pub fn overlong(mut self, overlong: Overlong) -> Self {
        self.overlong = overlong;
        self
    }

    /// Builds the codec.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for an empty delimiter or one longer than
    /// [`MAX_DELIMITER_LEN`], or a maximum above `isize::MAX`.
    pub fn build(self) -> Result<DelimitedCodec, ConfigError> {
        if self.delim_len == 0 {
            return Err(ConfigError::Invalid { reason: "empty delimiter" });
        }
        if self.delim_len > MAX_DELIMITER_LEN {
            return Err(ConfigError::Invalid { reason: "delimiter longer than 32 bytes" });
        }
        if self.max > MAX_LIMIT {
            return Err(ConfigError::Invalid { reason: "max_frame_length above isize::MAX" });
        }
        Ok(DelimitedCodec {
            delim: self.delim,
            delim_len: self.delim_len,
            strip_cr: self.strip_cr,
            max: self.max,
            overlong: self.overlong,
            next_index: 0,
            discarding: false,
            examined: 0,
        })
    }
}

/// A delimiter decoder and encoder. See the [module docs](self).
///
/// ```
/// use bytes::BytesMut;
/// use sockframe::{Decoder, DelimitedCodec, Encoder};
///
/// let mut codec = DelimitedCodec::lines();
/// let mut buf = BytesMut::from(&b"hello\r\nwor"[..]);
/// assert_eq!(codec.decode_bytes(&mut buf).unwrap().unwrap(), "hello");
/// assert_eq!(codec.decode_bytes(&mut buf).unwrap(), None);
/// buf.extend_from_slice(b"ld\n");
/// assert_eq!(codec.decode_bytes(&mut buf).unwrap().unwrap(), "world");
///
/// let mut out = BytesMut::new();
/// codec.encode(b"hi", &mut out).unwrap();
/// assert_eq!(&out[..], b"hi\n");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelimitedCodec {
    delim: [u8; MAX_DELIMITER_LEN],
    // 1 <= delim_len <= MAX_DELIMITER_LEN
    delim_len: usize,
    strip_cr: bool,
    max: usize,
    overlong: Overlong,
    // Scan state, relative to the front of the buffer, which the caller
    // advances by each frame's `consumed`: no delimiter starts before
    // next_index.
    next_index: usize,
    // Looking for the delimiter that ends an overlong line (Overlong::Discard).
    discarding: bool,
    // Positions examined since construction (the D3 linear-work property).
    examined: u64,
}

impl Default for DelimitedCodec {
    fn default() -> Self {
        DelimitedCodec::lines()
    }
}

impl DelimitedCodec {
    /// Lines: `\n` delimiter, a trailing `\r` stripped, 64 KiB maximum,
    /// overlong lines fail.
    pub fn lines() -> Self {
        Self::builder().build().expect("the default configuration is valid")
    }

    /// Frames ending in `delimiter`, nothing stripped, default limits.
    ///
    /// ```
    /// use sockframe::{Decoder, DelimitedCodec};
    ///
    /// let mut codec = DelimitedCodec::new(b"\r\n").unwrap();
    /// let mut wire = *b"a\nb\r\n";
    /// let frame = codec.decode(&mut wire).unwrap().unwrap();
    /// assert_eq!(frame.payload(&wire), b"a\nb");
    /// ```
    ///
    /// # Errors
    /// As [`DelimitedBuilder::build`].
    pub fn new(delimiter: &[u8]) -> Result<Self, ConfigError> {
        DelimitedBuilder::default().delimiter(delimiter).strip_cr(false).build()
    }

    /// A builder with the defaults of [`lines`](Self::lines).
    pub fn builder() -> DelimitedBuilder {
        // (Equivalent mutant: cargo-mutants' `Default::default()` is this.)
        DelimitedBuilder::default()
    }

    /// The delimiter.
    pub fn delimiter(&self) -> &[u8] {
        self.delim.get(..self.delim_len).unwrap_or_default()
    }

    /// Whether a `\r` before the delimiter is stripped.
    pub fn strips_cr(&self) -> bool {
        self.strip_cr
    }

    /// The maximum frame length in force (inclusive).
    pub fn max_frame_length(&self) -> usize {
        self.max
    }

    /// The overlong-line policy.
    pub fn overlong(&self) -> Overlong {
        self.overlong
    }

    /// Whether this is the `\n` + strip-`\r` configuration of [`lines`](Self::lines).
    pub fn is_lines(&self) -> bool {
        self.delimiter() == b"\n" && self.strip_cr
    }

    /// Buffer positions examined by the delimiter search since this codec was
    /// made: a measure of the decoder's work, used to test that it is linear.
    #[doc(hidden)]
    pub fn bytes_examined(&self) -> u64 {
        self.examined
    }

    /// Decodes the next frame as text: returns the bytes the frame occupies
    /// and its payload as `&str`, or [`DecodeError::InvalidUtf8`] for a
    /// frame that is not UTF-8.
    ///
    /// Only complete frames are validated, so a code point split across reads
    /// is fine; an invalid frame is still consumed (drop the returned count)
    /// and the stream stays usable. In [`Overlong::Discard`] mode the bytes
    /// of an overlong line come back as [`DecodeError::DelimiterNotFound`] in
    /// the same place (possibly in several pieces while the line streams in):
    /// drop the count and carry on.
    ///
    /// ```
    /// use sockframe::{DecodeError, DelimitedCodec};
    ///
    /// let mut codec = DelimitedCodec::lines();
    /// let mut buf = b"gr\xc3\xbc\xc3\x9f\n\xff\nok\n".to_vec();
    /// let (used, text) = codec.decode_text(&mut buf).unwrap().unwrap();
    /// assert_eq!((used, text), (7, Ok("grüß")));
    /// buf.drain(..used);
    /// let (used, text) = codec.decode_text(&mut buf).unwrap().unwrap();
    /// assert_eq!((used, text), (2, Err(DecodeError::InvalidUtf8 { valid_up_to: 0 })));
    /// buf.drain(..used);
    /// assert_eq!(codec.decode_text(&mut buf).unwrap().unwrap(), (3, Ok("ok")));
    /// ```
    ///
    /// # Errors
    /// As [`Decoder::decode`].
    #[allow(clippy::type_complexity)]
    pub fn decode_text<'b>(
        &mut self,
        buf: &'b mut [u8],
    ) -> Result<Option<(usize, Result<&'b str, DecodeError>)>, DecodeError> {
        let Some(frame) = self.decode(buf)? else { return Ok(None) };
        if frame.is_skip() {
            return Ok(Some((frame.consumed(), Err(DecodeError::DelimiterNotFound { max: self.max }))));
        }
        let buf: &'b [u8] = buf;
        let payload = buf.get(frame.payload_range()).unwrap_or_default();
        let text =
            str::from_utf8(payload).map_err(|e| DecodeError::InvalidUtf8 { valid_up_to: e.valid_up_to() });
        Ok(Some((frame.consumed(), text)))
    }

    /// First position `p >= from` where the delimiter starts and ends within
    /// `hay`; updates the work counter.
    #[inline]
    fn find(&mut self, hay: &[u8], from: usize) -> Option<usize> {
        let dlen = self.delim_len;
        if let [d] = self.delimiter() {
            let d = *d;
            let tail = hay.get(from..)?;
            let found = find_byte(d, tail);
            self.examined += found.map_or(tail.len(), |p| p + 1) as u64;
            return found.map(|p| p + from);
        }
        let last = hay.len().checked_sub(dlen)?;
        let mut p = from;
        while p <= last {
            self.examined += 1;
            if hay.get(p..p + dlen) == Some(self.delimiter()) {
                return Some(p);
            }
            p += 1;
        }
        None
    }

    /// The first position where a delimiter could start that the search
    /// over `scanned` bytes has not ruled out.
    #[inline]
    fn resume_at(&self, scanned: usize) -> usize {
        scanned.saturating_sub(self.delim_len - 1)
    }

    /// Whether the encoder must reject `payload`: the decoder would find a
    /// delimiter that starts inside it (also across the payload's end, for
    /// delimiters like `aba` after a payload ending in `ab`).
    fn delimiter_in(&self, payload: &[u8]) -> Option<usize> {
        let delim = self.delimiter();
        if let [d] = delim {
            return payload.iter().position(|b| b == d);
        }
        (0..payload.len()).find(|&p| {
            delim.iter().enumerate().all(|(i, d)| {
                let b = match payload.get(p + i) {
                    Some(b) => Some(b),
                    None => delim.get(p + i - payload.len()),
                };
                b == Some(d)
            })
        })
    }
}

use crate::codec::scan::find_byte;

impl Decoder for DelimitedCodec {
    #[inline]
    fn max_wire_len(&self) -> usize {
        self.max.saturating_add(self.delim_len)
    }

    #[inline(always)]
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        crate::codec::DecodeRef::decode_ref(self, buf)
    }

    #[inline(always)]
    fn decode_eof(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        crate::codec::DecodeRef::decode_eof_ref(self, buf)
    }
}

impl crate::codec::DecodeRef for DelimitedCodec {
    #[inline]
    fn decode_ref(&mut self, buf: &[u8]) -> Result<Option<Frame>, DecodeError> {
        let dlen = self.delim_len;
        if self.discarding {
            return Ok(self.discard(buf, false));
        }
        // A frame of at most max bytes has its delimiter end by max + dlen.
        let limit = self.max.saturating_add(dlen);
        let window = buf.len().min(limit);
        let hay = buf.get(..window).unwrap_or_default();
        if let Some(p) = self.find(hay, self.next_index) {
            let mut end = p;
            if self.strip_cr && end > 0 && hay.get(end - 1) == Some(&b'\r') {
                end -= 1;
            }
            self.next_index = 0;
            return Ok(Some(Frame::new(p + dlen, 0, end)));
        }
        self.next_index = self.resume_at(window);
        if window < limit {
            return Ok(None);
        }
        // BAD_INPUTS D1: max + dlen bytes and no delimiter.
        match self.overlong {
            Overlong::Fail => Err(DecodeError::DelimiterNotFound { max: self.max }),
            Overlong::Discard => {
                self.discarding = true;
                Ok(self.discard(buf, true))
            }
        }
    }

    fn decode_eof_ref(&mut self, buf: &[u8]) -> Result<Option<Frame>, DecodeError> {
        match crate::codec::DecodeRef::decode_ref(self, buf)? {
            Some(frame) => Ok(Some(frame)),
            None if buf.is_empty() => Ok(None),
            // The rest of an overlong line the caller asked to skip.
            None if self.discarding => {
                self.discarding = false;
                self.next_index = 0;
                Ok(Some(Frame::skipped(buf.len(), SkipReason::Overlong, false)))
            }
            None => Err(DecodeError::Truncated { pending: buf.len() }),
        }
    }
}

impl DelimitedCodec {
    /// Inside an overlong line: hands back the bytes up to and including the
    /// next delimiter, or every byte that cannot start one. `first`: the
    /// line was found overlong just now.
    fn discard(&mut self, buf: &[u8], first: bool) -> Option<Frame> {
        if let Some(p) = self.find(buf, self.next_index) {
            self.discarding = false;
            self.next_index = 0;
            return Some(Frame::skipped(p + self.delim_len, SkipReason::Overlong, first));
        }
        // Positions before `resume_at` hold no delimiter start: hand them
        // back. The rest may hold the start of one; the scan resumes at the
        // new front once they are dropped.
        let n = self.resume_at(buf.len());
        if n == 0 {
            return None;
        }
        self.next_index = 0;
        Some(Frame::skipped(n, SkipReason::Overlong, first))
    }
}

impl Encoder for DelimitedCodec {
    #[inline]
    fn encode_to_slice(&mut self, payload: &[u8], dst: &mut [u8]) -> Result<SliceEncode, EncodeError> {
        slice_enveloped(self.envelope(payload), payload, dst)
    }

    #[inline]
    fn encode(&mut self, payload: &[u8], dst: &mut bytes::BytesMut) -> Result<(), EncodeError> {
        crate::codec::encode_enveloped(self.envelope(payload), payload, dst)
    }

    #[inline]
    fn envelope(&mut self, payload: &[u8]) -> Result<Option<Envelope>, EncodeError> {
        let len = payload.len();
        if len > self.max {
            return Err(EncodeError::PayloadTooLarge { len, max: self.max });
        }
        // BAD_INPUTS D7: no escaping; the payload must not contain the delimiter.
        if let Some(offset) = self.delimiter_in(payload) {
            return Err(EncodeError::ContainsDelimiter { offset });
        }
        if self.strip_cr && payload.last() == Some(&b'\r') {
            return Err(EncodeError::ContainsDelimiter { offset: len - 1 });
        }
        Ok(Envelope::new(&[], self.delimiter()))
    }
}

impl crate::codec::any::Spec for DelimitedCodec {
    const NAMES: &'static [&'static str] = &["lines", "delim"];
    const EXAMPLES: &'static [&'static str] =
        &["lines", "lines,max=8,discard", "delim:00", "delim:0d0a,max=5", "delim:616261,max=6,discard"];

    fn from_spec(name: &str, arg: Option<&str>) -> Result<Self, alloc::string::String> {
        if name == "lines" {
            return crate::codec::any::no_arg(arg, DelimitedCodec::lines());
        }
        let a = arg.ok_or("delim needs a hex delimiter, e.g. delim:0d0a")?;
        let (bytes, n) =
            parse_hex(a).ok_or_else(|| alloc::format!("bad hex delimiter {a:?} (1 to 32 bytes)"))?;
        DelimitedCodec::new(bytes.get(..n).unwrap_or_default())
            .map_err(|e| alloc::string::ToString::to_string(&e))
    }

    fn fmt_spec(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.is_lines() {
            return f.write_str("lines");
        }
        f.write_str("delim:")?;
        for b in self.delimiter() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }

    fn max_frame_length(&self) -> usize {
        self.max
    }

    fn default_max(&self) -> Option<usize> {
        Some(DEFAULT_MAX_LINE_LENGTH)
    }

    fn with_max_frame_length(&self, max: usize) -> Result<Self, ConfigError> {
        self.rebuild().max_frame_length(max).build()
    }

    fn discards(&self) -> bool {
        self.overlong == Overlong::Discard
    }

    fn with_discard(&self) -> Result<Self, alloc::string::String> {
        self.rebuild().overlong(Overlong::Discard).build().map_err(|e| alloc::string::ToString::to_string(&e))
    }
}

impl DelimitedCodec {
    /// A builder with this codec's settings.
    fn rebuild(&self) -> DelimitedBuilder {
        DelimitedCodec::builder()
            .delimiter(self.delimiter())
            .strip_cr(self.strip_cr)
            .overlong(self.overlong)
            .max_frame_length(self.max)
    }
}

pub(crate) fn parse_hex(hex: &str) -> Option<([u8; MAX_DELIMITER_LEN], usize)> {
    let bytes = hex.as_bytes();
    if bytes.is_empty() || bytes.len() % 2 != 0 || bytes.len() / 2 > MAX_DELIMITER_LEN {
        return None;
    }
    let mut out = [0u8; MAX_DELIMITER_LEN];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let s = core::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(s, 16).ok()?;
    }
    Some((out, bytes.len() / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_delimiter_rejected_by_encoder() {
        let mut c = DelimitedCodec::new(b"aba").unwrap();
        assert_eq!(c.envelope(b"xab"), Err(EncodeError::ContainsDelimiter { offset: 1 }));
        assert!(c.envelope(b"ab").is_err());
        assert!(c.envelope(b"xa").is_ok());
        assert!(c.envelope(b"xb").is_ok());
    }

    #[test]
    fn find_byte_agrees_with_position() {
        let hay: alloc::vec::Vec<u8> = (0..200u32).map(|i| (i * 7 % 13) as u8).collect();
        for needle in 0..=14u8 {
            for start in 0..20 {
                let expect = hay[start..].iter().position(|&b| b == needle);
                assert_eq!(find_byte(needle, &hay[start..]), expect, "{needle} from {start}");
            }
        }
        assert_eq!(find_byte(1, &[0, 1, 1, 1, 1, 1, 1, 1, 1]), Some(1));
        assert_eq!(find_byte(0x80, &[0x7f, 0x00, 0x81, 0x80]), Some(3));
    }

    #[test]
    fn builder_rejects_nonsense() {
        assert!(DelimitedCodec::new(b"").is_err());
        assert!(DelimitedCodec::new(&[1; 33]).is_err());
        assert!(DelimitedCodec::new(&[1; 32]).is_ok());
    }
}

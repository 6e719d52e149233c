//! Length-prefixed framing, wire-compatible with tokio-util's `LengthDelimitedCodec`.
//!
//! The default frame is a 4-byte big-endian length followed by that many bytes:
//!
//! ```text
//! +---- len: u32 BE ----+---------- payload ----------+
//! | 00 00 00 0B         | H e l l o   w o r l d        |
//! +---------------------+------------------------------+
//! ```
//!
//! Every tokio-util option is available: a field of 1 to 8 bytes, big, little
//! or native endian, a header before the field (`length_field_offset`), a signed
//! `length_adjustment` added to the declared length, and `num_skip`, the number
//! of header bytes removed before the payload:
//!
//! ```text
//! length_field_offset = 2, width = 2, length_adjustment = 2, num_skip = 4
//! +- tag -+- len -+--------- payload (len + 2 bytes) ---------+
//! | CA FE | 00 0B | ...                                       |
//! +-------+-------+-------------------------------------------+
//!  \---- skipped ---/
//! ```
//!
//! Decoding checks the declared length against the maximum the moment the
//! header is complete, before anything is reserved; the decoder never
//! allocates, and a caller's buffer grows only with bytes that actually arrive.

use bytes::{BufMut, BytesMut};

use crate::codec::{copy_small, slice_enveloped, Decoder, Encoder, Envelope, Frame, SliceEncode, SMALL};
use crate::error::{ConfigError, DecodeError, EncodeError};

pub use crate::limits::DEFAULT_MAX_FRAME_LENGTH;

/// Largest header (`max(length_field_offset + width, num_skip)`) and largest
/// `|length_adjustment|` a builder accepts.
pub const MAX_HEADER_LENGTH: usize = 64 * 1024;

/// Byte order of the length field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Endian {
    /// Most significant byte first (network order). The default.
    #[default]
    Big,
    /// Least significant byte first.
    Little,
    /// The byte order of the machine the code runs on.
    Native,
}

/// Configures a [`LengthCodec`]. Obtain one from [`LengthCodec::builder`].
///
/// ```
/// use sockframe::{Endian, LengthCodec};
///
/// let codec = LengthCodec::builder()
///     .width(2)
///     .endian(Endian::Little)
///     .max_frame_length(1024)
///     .build()
///     .unwrap();
/// assert_eq!(codec.max_frame_length(), 1024);
/// assert_eq!(codec.header_len(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct LengthBuilder {
    width: usize,
    endian: Endian,
    offset: usize,
    adjustment: isize,
    num_skip: Option<usize>,
    max: Option<usize>,
}

impl Default for LengthBuilder {
    fn default() -> Self {
        LengthBuilder { width: 4, endian: Endian::Big, offset: 0, adjustment: 0, num_skip: None, max: None }
    }
}

impl LengthBuilder {
    /// Width of the length field in bytes, 1 to 8. Default 4.
    pub fn width(mut self, width: usize) -> Self {
        self.width = width;
        self
    }

    /// Byte order of the length field. Default big endian.
    pub fn endian(mut self, endian: Endian) -> Self {
        self.endian = endian;
        self
    }

    /// Bytes of header before the length field. Decoding only, as in
    /// tokio-util: the encoder writes the length field and the payload.
    /// Default 0.
    pub fn length_field_offset(mut self, offset: usize) -> Self {
        self.offset = offset;
        self
    }

    /// Added to the declared length to get the number of bytes that follow
    /// the skipped header (the encoder subtracts it). At most
    /// [`MAX_HEADER_LENGTH`] either way. Default 0.
    pub fn length_adjustment(mut self, adjustment: isize) -> Self {
        self.adjustment = adjustment;
        self
    }

    /// Header bytes removed before the payload. Decoding only. Default
    /// `length_field_offset + width`.
    pub fn num_skip(mut self, num_skip: usize) -> Self {
        self.num_skip = Some(num_skip);
        self
    }

    /// Largest declared length accepted, and largest payload encoded.
    ///
    /// Default: 8 MiB, or less if the field cannot express 8 MiB (255 for a
    /// 1-byte field). As in tokio-util the declared length is checked before
    /// the adjustment is applied.
    pub fn max_frame_length(mut self, max: usize) -> Self {
        self.max = Some(max);
        self
    }

    /// Builds the codec.
    ///
    /// # Errors
    /// [`ConfigError`] for a width outside 1..=8, an explicit maximum the
    /// field cannot express, a header over [`MAX_HEADER_LENGTH`], or sizes
    /// that overflow `usize`.
    pub fn build(self) -> Result<LengthCodec, ConfigError> {
        if !(1..=8).contains(&self.width) {
            return Err(ConfigError::InvalidWidth { width: self.width });
        }
        let field_max = crate::limits::field_max(self.width);
        let adjustment = i64::try_from(self.adjustment)
            .map_err(|_| ConfigError::Overflow { reason: "length adjustment" })?;
        // The largest payload whose encoded length still fits the field.
        let limit = field_max.saturating_add_signed(adjustment);
        let max = match self.max {
            Some(max) if (max as u64) > limit => {
                return Err(ConfigError::MaxTooLarge { max, limit });
            }
            Some(max) => max,
            None => crate::limits::default_length_max(self.width, adjustment),
        };
        // Every declared length <= max would adjust to below zero: nothing
        // could ever be decoded or encoded.
        // (`adjustment <= 0` would do as well: `max < 0` never holds.)
        if self.adjustment < 0 && max < self.adjustment.unsigned_abs() {
            return Err(ConfigError::Invalid {
                reason: "max_frame_length below a negative length_adjustment",
            });
        }
        let field_end = self
            .offset
            .checked_add(self.width)
            .ok_or(ConfigError::Overflow { reason: "length_field_offset + width" })?;
        let skip = self.num_skip.unwrap_or(field_end);
        let head_len = field_end.max(skip);
        if head_len > MAX_HEADER_LENGTH {
            return Err(ConfigError::Invalid { reason: "header longer than MAX_HEADER_LENGTH" });
        }
        // Adjustments describe header sizes; a huge one would make every
        // frame's size, and so the memory a peer can make us hold, unbounded.
        if self.adjustment.unsigned_abs() > MAX_HEADER_LENGTH {
            return Err(ConfigError::Invalid { reason: "|length_adjustment| larger than MAX_HEADER_LENGTH" });
        }
        // Every frame the decoder accepts must have a size that fits usize:
        // skip + max + positive adjustment.
        skip.checked_add(max)
            .and_then(|n| n.checked_add(self.adjustment.max(0).unsigned_abs()))
            .ok_or(ConfigError::Overflow { reason: "num_skip + max_frame_length + length_adjustment" })?;
        let big = match self.endian {
            Endian::Big => true,
            Endian::Little => false,
            Endian::Native => cfg!(target_endian = "big"),
        };
        Ok(LengthCodec {
            width: self.width,
            big,
            offset: self.offset,
            adjustment: self.adjustment,
            skip,
            head_len,
            max,
            fast: self.width == 4 && big && self.offset == 0 && self.adjustment == 0 && skip == 4,
            pending: None,
        })
    }
}

#[cold]
fn too_large(declared: u64, max: usize) -> DecodeError {
    DecodeError::FrameTooLarge { declared, max }
}

/// A length-prefix decoder and encoder. See the [module docs](self).
///
/// ```
/// use bytes::BytesMut;
/// use sockframe::{Decoder, Encoder, LengthCodec};
///
/// let mut codec = LengthCodec::new();
/// let mut wire = BytesMut::new();
/// codec.encode(b"Hello from client", &mut wire).unwrap();
///
/// // Bytes arrive one at a time; the frame appears once all are there.
/// let mut rx = BytesMut::new();
/// let mut frames = Vec::new();
/// for b in wire.iter() {
///     rx.extend_from_slice(&[*b]);
///     while let Some(f) = codec.decode_bytes(&mut rx).unwrap() {
///         frames.push(f);
///     }
/// }
/// assert_eq!(frames, [&b"Hello from client"[..]]);
/// ```
#[derive(Debug, Clone)]
pub struct LengthCodec {
    width: usize,
    big: bool,
    offset: usize,
    adjustment: isize,
    skip: usize,
    // max(offset + width, skip)
    head_len: usize,
    max: usize,
    // The default layout (u32 BE at offset 0, no adjustment, default skip):
    // decoded statelessly with one fixed-size read.
    fast: bool,
    // Some(n): the header of the current frame was parsed and n bytes follow
    // the skipped header. Saves re-parsing while a large payload trickles in.
    pending: Option<usize>,
}

impl Default for LengthCodec {
    fn default() -> Self {
        LengthCodec::new()
    }
}

impl LengthCodec {
    /// The default codec: u32 big-endian length, 8 MiB maximum.
    pub fn new() -> Self {
        Self::builder().build().expect("the default configuration is valid")
    }

    /// A builder with the default settings.
    pub fn builder() -> LengthBuilder {
        // (Equivalent mutant: cargo-mutants' `Default::default()` is this.)
        LengthBuilder::default()
    }

    /// The maximum frame length in force.
    pub fn max_frame_length(&self) -> usize {
        self.max
    }

    /// Bytes needed before the length can be read: `max(offset + width, num_skip)`.
    pub fn header_len(&self) -> usize {
        self.head_len
    }

    /// Width of the length field in bytes.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Whether the length field is big endian.
    pub fn is_big_endian(&self) -> bool {
        self.big
    }

    /// Whether the encoder's output decodes back to the same payloads with
    /// this configuration: no header before the field and the default
    /// `num_skip`. (With other layouts the caller's payload is expected to
    /// carry the extra header bytes, as in tokio-util.)
    pub fn is_symmetric(&self) -> bool {
        self.offset == 0 && self.skip == self.width
    }

    #[inline]
    fn read_field(&self, field: &[u8]) -> u64 {
        let mut v = 0u64;
        // (`^` would do as well as `|`: the low byte of `v << 8` is zero.)
        if self.big {
            for &b in field {
                v = (v << 8) | u64::from(b);
            }
        } else {
            for &b in field.iter().rev() {
                v = (v << 8) | u64::from(b);
            }
        }
        v
    }

    #[inline]
    fn parse_header(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        let field = buf.get(self.offset..self.offset + self.width).unwrap_or_default();
        let declared = self.read_field(field);
        if declared > self.max as u64 {
            return Err(too_large(declared, self.max));
        }
        // declared <= max <= usize::MAX
        let declared_usize = declared as usize;
        // (`<= 0` would do as well: subtracting 0 is adding 0.)
        let adjusted = if self.adjustment < 0 {
            declared_usize.checked_sub(self.adjustment.unsigned_abs())
        } else {
            declared_usize.checked_add(self.adjustment.unsigned_abs())
        };
        let adjustment = self.adjustment as i64;
        let len = adjusted.ok_or(DecodeError::LengthAdjustment { declared, adjustment })?;
        // BAD_INPUTS L4: a frame must cover its whole header, so every frame
        // consumes at least one byte and no header byte is read twice.
        match self.skip.checked_add(len) {
            Some(total) if total >= self.head_len => Ok(len),
            _ => Err(DecodeError::LengthAdjustment { declared, adjustment }),
        }
    }

    /// The default layout: nothing to remember between calls, since
    /// re-reading four bytes costs less than keeping state.
    #[inline(always)]
    fn decode_fast(&self, buf: &[u8]) -> Result<Option<Frame>, DecodeError> {
        let Some(head) = buf.first_chunk::<4>() else { return Ok(None) };
        let declared = u32::from_be_bytes(*head);
        let len = declared as usize;
        if len > self.max {
            return Err(too_large(u64::from(declared), self.max));
        }
        // Cannot overflow: build() checked 4 + max.
        let total = 4 + len;
        if buf.len() < total {
            return Ok(None);
        }
        Ok(Some(Frame::new(total, 4, total)))
    }

    /// The length field for a payload of `len` bytes.
    #[inline]
    fn field_for(&self, len: usize) -> Result<u64, EncodeError> {
        // Reject what our own decoder would reject: it checks the declared
        // field against max, so with a negative adjustment payloads must stay
        // |adjustment| below it. (tokio-util checks only the payload length.)
        // build() ensured max >= |adjustment| when it is negative.
        // (Equivalent mutants here: `adjustment <= 0` for `< 0`, twice, since
        // an adjustment of 0 changes nothing either way; the `None` arms and
        // the width check below are defensive, unreachable once build() has
        // checked max against the field and the adjustment, so forcing their
        // guards changes nothing observable.)
        let max = if self.adjustment < 0 {
            self.max.saturating_sub(self.adjustment.unsigned_abs())
        } else {
            self.max
        };
        if len > max {
            return Err(EncodeError::PayloadTooLarge { len, max });
        }
        let field = if self.adjustment < 0 {
            len.checked_add(self.adjustment.unsigned_abs())
        } else {
            len.checked_sub(self.adjustment.unsigned_abs())
        };
        let field = match field {
            Some(f) => f as u64,
            None if self.adjustment > 0 => {
                return Err(EncodeError::PayloadTooSmall { len, adjustment: self.adjustment as i64 })
            }
            None => return Err(EncodeError::PayloadTooLarge { len, max }),
        };
        if self.width < 8 && field >> (8 * self.width) != 0 {
            return Err(EncodeError::PayloadTooLarge { len, max });
        }
        Ok(field)
    }
}

impl Decoder for LengthCodec {
    #[inline]
    fn max_wire_len(&self) -> usize {
        self.head_len
            .max(self.skip)
            .saturating_add(self.max)
            .saturating_add(self.adjustment.max(0).unsigned_abs())
    }

    fn frame_len_hint(&self, buf: &[u8]) -> Option<usize> {
        let len = match self.pending {
            Some(len) => len,
            None if buf.len() >= self.head_len => self.parse_header(buf).ok()?,
            None => return None,
        };
        self.skip.checked_add(len)
    }

    #[inline(always)]
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        crate::codec::DecodeRef::decode_ref(self, buf)
    }
}

impl crate::codec::DecodeRef for LengthCodec {
    #[inline(always)]
    fn decode_ref(&mut self, buf: &[u8]) -> Result<Option<Frame>, DecodeError> {
        if self.fast {
            return self.decode_fast(buf);
        }
        let len = match self.pending.take() {
            Some(len) => len,
            None => {
                if buf.len() < self.head_len {
                    return Ok(None);
                }
                self.parse_header(buf)?
            }
        };
        // Cannot overflow: checked in parse_header.
        let total = self.skip + len;
        if buf.len() < total {
            self.pending = Some(len);
            return Ok(None);
        }
        Ok(Some(Frame::new(total, self.skip, total)))
    }
}

impl Encoder for LengthCodec {
    #[inline(always)]
    fn encode_to_slice(&mut self, payload: &[u8], dst: &mut [u8]) -> Result<SliceEncode, EncodeError> {
        // Small payloads of the default layout inline, without a call: the
        // caller's loop keeps its registers. (The general path writes the
        // same bytes: a mutant of this condition is equivalent.)
        if self.fast && payload.len() <= SMALL {
            return self.default_layout_to_slice(payload, dst, copy_small);
        }
        self.encode_to_slice_general(payload, dst)
    }

    #[inline(always)]
    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        if self.fast {
            // The default layout: no adjustment, so the field is the payload
            // length, and max fits the 32-bit field (build() checked).
            let len = payload.len();
            if len > self.max {
                return Err(too_large_payload(len, self.max));
            }
            // (Reserving more or less is not observable: `put_*` grow as needed.)
            dst.reserve(4 + len);
            dst.put_u32(len as u32);
            dst.put_slice(payload);
            return Ok(());
        }
        self.encode_general(payload, dst)
    }

    #[inline]
    fn envelope(&mut self, payload: &[u8]) -> Result<Option<Envelope>, EncodeError> {
        let field = self.field_for(payload.len())?;
        let bytes = if self.big { field.to_be_bytes() } else { field.to_le_bytes() };
        let head = if self.big { &bytes[8 - self.width..] } else { &bytes[..self.width] };
        Ok(Envelope::new(head, &[]))
    }
}

#[cold]
fn too_large_payload(len: usize, max: usize) -> EncodeError {
    EncodeError::PayloadTooLarge { len, max }
}

impl LengthCodec {
    /// `encode_to_slice` for larger payloads and every other layout, out of
    /// line as `encode_general` is.
    #[inline(never)]
    fn encode_to_slice_general(
        &mut self,
        payload: &[u8],
        dst: &mut [u8],
    ) -> Result<SliceEncode, EncodeError> {
        if self.fast {
            return self.default_layout_to_slice(payload, dst, <[u8]>::copy_from_slice);
        }
        slice_enveloped(self.envelope(payload), payload, dst)
    }

    /// The default layout into a slice: a 4-byte big-endian length, then
    /// the payload, copied by `copy`.
    #[inline(always)]
    fn default_layout_to_slice(
        &self,
        payload: &[u8],
        dst: &mut [u8],
        copy: impl FnOnce(&mut [u8], &[u8]),
    ) -> Result<SliceEncode, EncodeError> {
        // As in `encode`: the field is the payload length, and fits.
        let len = payload.len();
        if len > self.max {
            return Err(too_large_payload(len, self.max));
        }
        // (No overflow: a slice holds at most isize::MAX bytes.)
        let n = 4 + len;
        let Some(out) = dst.get_mut(..n) else {
            return Ok(SliceEncode::Needs(n));
        };
        let (head, body) = out.split_at_mut(4);
        head.copy_from_slice(&(len as u32).to_be_bytes());
        copy(body, payload);
        Ok(SliceEncode::Written(n))
    }

    /// Every layout but the default one, out of line so that the default
    /// layout's few instructions inline into the caller's loop.
    #[inline(never)]
    fn encode_general(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        let field = self.field_for(payload.len())?;
        // (As above, the amount reserved is not observable.)
        dst.reserve(self.width + payload.len());
        if self.big {
            dst.put_slice(&field.to_be_bytes()[8 - self.width..]);
        } else {
            dst.put_slice(&field.to_le_bytes()[..self.width]);
        }
        dst.put_slice(payload);
        Ok(())
    }
}

impl crate::codec::any::Spec for LengthCodec {
    const NAMES: &'static [&'static str] = &["len"];
    const EXAMPLES: &'static [&'static str] =
        &["len", "len:u8", "len:u16le,max=300", "len:u24be", "len:u64le,max=1000"];

    fn from_spec(_name: &str, arg: Option<&str>) -> Result<Self, alloc::string::String> {
        let (width, endian) = match arg {
            None => (4, Endian::Big),
            Some(a) => parse_len_arg(a)
                .ok_or_else(|| alloc::format!("bad length field {a:?}, expected u8 or uNNbe/uNNle"))?,
        };
        LengthCodec::builder()
            .width(width)
            .endian(endian)
            .build()
            .map_err(|e| alloc::string::ToString::to_string(&e))
    }

    fn fmt_spec(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.width {
            1 => f.write_str("len:u8"),
            w => write!(f, "len:u{}{}", 8 * w, if self.big { "be" } else { "le" }),
        }
    }

    fn max_frame_length(&self) -> usize {
        self.max
    }

    fn default_max(&self) -> Option<usize> {
        Some(crate::limits::default_length_max(self.width, 0))
    }

    /// Only width and byte order carry over.
    fn with_max_frame_length(&self, max: usize) -> Result<Self, ConfigError> {
        let endian = if self.big { Endian::Big } else { Endian::Little };
        LengthCodec::builder().width(self.width).endian(endian).max_frame_length(max).build()
    }
}

fn parse_len_arg(arg: &str) -> Option<(usize, Endian)> {
    if arg == "u8" {
        return Some((1, Endian::Big));
    }
    let rest = arg.strip_prefix('u')?;
    let (bits, endian) = if let Some(b) = rest.strip_suffix("be") {
        (b, Endian::Big)
    } else {
        (rest.strip_suffix("le")?, Endian::Little)
    };
    // Digits only: u16::from_str would also take "+16".
    if !bits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bits: usize = bits.parse().ok()?;
    if bits % 8 != 0 || !(16..=64).contains(&bits) {
        return None;
    }
    Some((bits / 8, endian))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    fn decode_all(codec: &mut LengthCodec, wire: &[u8]) -> Result<Vec<Vec<u8>>, DecodeError> {
        let mut buf = BytesMut::from(wire);
        let mut out = Vec::new();
        while let Some(f) = codec.decode_bytes_eof(&mut buf)? {
            out.push(f.to_vec());
        }
        Ok(out)
    }

    #[test]
    fn default_layout() {
        let mut c = LengthCodec::new();
        assert_eq!(
            decode_all(&mut c, b"\x00\x00\x00\x03abc\x00\x00\x00\x00"),
            Ok(vec![b"abc".to_vec(), vec![]])
        );
    }

    #[test]
    fn little_endian_u16() {
        let mut c = LengthCodec::builder().width(2).endian(Endian::Little).build().unwrap();
        assert_eq!(decode_all(&mut c, b"\x02\x00hi"), Ok(vec![b"hi".to_vec()]));
        let mut out = BytesMut::new();
        c.encode(b"hi", &mut out).unwrap();
        assert_eq!(&out[..], b"\x02\x00hi");
    }

    #[test]
    fn u24_big_endian() {
        let mut c = LengthCodec::builder().width(3).build().unwrap();
        let mut out = BytesMut::new();
        c.encode(&[7u8; 258], &mut out).unwrap();
        assert_eq!(&out[..3], b"\x00\x01\x02");
        assert_eq!(decode_all(&mut c, &out), Ok(vec![vec![7u8; 258]]));
    }

    #[test]
    fn offset_adjustment_and_skip() {
        // tag(2) len(2) payload; the length counts the whole frame, and the
        // frame is delivered whole (num_skip 0).
        let wire = b"\xca\xfe\x00\x06xy";
        let mut c = LengthCodec::builder().length_field_offset(2).width(2).num_skip(0).build().unwrap();
        assert_eq!(decode_all(&mut c, wire), Ok(vec![wire.to_vec()]));
        // The length counts the payload only; deliver the payload.
        let wire = b"\xca\xfe\x00\x02xy";
        let mut c = LengthCodec::builder().length_field_offset(2).width(2).build().unwrap();
        assert_eq!(decode_all(&mut c, wire), Ok(vec![b"xy".to_vec()]));
        // The length counts the whole frame; strip the header.
        let wire = b"\xca\xfe\x00\x06xy";
        let mut c =
            LengthCodec::builder().length_field_offset(2).width(2).length_adjustment(-4).build().unwrap();
        assert_eq!(decode_all(&mut c, wire), Ok(vec![b"xy".to_vec()]));
    }

    #[test]
    fn default_max_clamps_to_field() {
        let c = LengthCodec::builder().width(1).build().unwrap();
        assert_eq!(c.max_frame_length(), 255);
        let c = LengthCodec::builder().width(2).length_adjustment(-2).build().unwrap();
        assert_eq!(c.max_frame_length(), 65533);
    }
}

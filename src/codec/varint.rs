//! Varint (LEB128) length prefix, byte-compatible with protobuf
//! length-delimited streams (prost's `encode_length_delimiter` /
//! `decode_length_delimiter`).
//!
//! The length is an unsigned LEB128 integer: 7 bits per byte, least
//! significant group first, the high bit set on every byte but the last.
//!
//! ```text
//! 300-byte payload:
//! +- varint(300) -+------------ payload ------------+
//! | AC 02         | 300 bytes                       |
//! +---------------+---------------------------------+
//!   AC = 1_0101100  (more follows, low 7 bits 0x2C)
//!   02 = 0_0000010  (last, next 7 bits)   0x2C + (2 << 7) = 300
//! ```
//!
//! A varint is at most 10 bytes (64 bits). The decoder rejects an 11th
//! continuation byte, a 10th byte that would overflow `u64`, and, unless
//! [`VarintBuilder::allow_overlong`] is set, encodings that are not minimal
//! (`80 00` for 0): a peer producing those is not protobuf and is probably
//! trying to smuggle something past a length check. The declared length is
//! compared with the maximum as soon as the varint is complete, before a
//! single payload byte is buffered.

use crate::codec::{slice_enveloped, Decoder, Encoder, Envelope, Frame, SliceEncode};
use crate::error::{ConfigError, DecodeError, EncodeError};

pub use crate::limits::DEFAULT_MAX_FRAME_LENGTH;

/// Longest varint: 10 bytes carry 64 bits.
pub const MAX_VARINT_LEN: usize = 10;

use crate::limits::NO_LIMIT as MAX_LIMIT;

/// Writes `value` as a minimal LEB128 varint into `out`, returning its length.
///
/// ```
/// let mut out = [0u8; 10];
/// let n = sockframe::codec::varint::encode_varint(300, &mut out);
/// assert_eq!(&out[..n], [0xac, 0x02]);
/// ```
pub fn encode_varint(mut value: u64, out: &mut [u8; MAX_VARINT_LEN]) -> usize {
    let mut n = 0;
    for slot in out.iter_mut() {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        n += 1;
        if value == 0 {
            *slot = low;
            break;
        }
        // (`^` would do as well: `low` never has the top bit.)
        *slot = low | 0x80;
    }
    n
}

/// Parses a varint at the front of `buf`: `Ok(None)` if it is incomplete,
/// `Ok(Some((value, length)))` otherwise.
fn parse_varint(buf: &[u8], allow_overlong: bool) -> Result<Option<(u64, usize)>, DecodeError> {
    let mut value = 0u64;
    for (i, &b) in buf.iter().take(MAX_VARINT_LEN).enumerate() {
        if i == MAX_VARINT_LEN - 1 {
            // BAD_INPUTS V1: a 10th byte may not continue.
            if b & 0x80 != 0 {
                return Err(DecodeError::MalformedLength { reason: "varint longer than 10 bytes" });
            }
            // BAD_INPUTS V2: bits 64 and up.
            if b > 0x01 {
                return Err(DecodeError::MalformedLength { reason: "varint overflows u64" });
            }
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            // BAD_INPUTS V3: a final zero group after the first byte adds
            // nothing, so a shorter encoding exists.
            if i > 0 && b == 0 && !allow_overlong {
                return Err(DecodeError::MalformedLength { reason: "overlong varint encoding" });
            }
            return Ok(Some((value, i + 1)));
        }
    }
    Ok(None)
}

/// Configures a [`VarintCodec`]. Obtain one from [`VarintCodec::builder`].
///
/// ```
/// use sockframe::VarintCodec;
///
/// let codec = VarintCodec::builder().max_frame_length(1024).build().unwrap();
/// assert_eq!(codec.max_frame_length(), 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct VarintBuilder {
    max: usize,
    allow_overlong: bool,
}

impl Default for VarintBuilder {
    fn default() -> Self {
        VarintBuilder { max: DEFAULT_MAX_FRAME_LENGTH, allow_overlong: false }
    }
}

impl VarintBuilder {
    /// Largest declared length accepted and largest payload encoded.
    /// Default 8 MiB.
    pub fn max_frame_length(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    /// Accept non-minimal varints (`80 00` for 0) as protobuf decoders do.
    /// Default `false`: they are rejected with [`DecodeError::MalformedLength`].
    pub fn allow_overlong(mut self, allow: bool) -> Self {
        self.allow_overlong = allow;
        self
    }

    /// Builds the codec.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a maximum above `isize::MAX`.
    pub fn build(self) -> Result<VarintCodec, ConfigError> {
        if self.max > MAX_LIMIT {
            return Err(ConfigError::Invalid { reason: "max_frame_length above isize::MAX" });
        }
        Ok(VarintCodec { max: self.max, allow_overlong: self.allow_overlong, pending: None })
    }
}

/// A varint length-prefix decoder and encoder. See the [module docs](self).
///
/// ```
/// use bytes::BytesMut;
/// use sockframe::{Decoder, Encoder, VarintCodec};
///
/// let mut codec = VarintCodec::new();
/// let mut wire = BytesMut::new();
/// codec.encode(b"hello", &mut wire).unwrap();
/// assert_eq!(&wire[..], b"\x05hello");
/// assert_eq!(codec.decode_bytes(&mut wire).unwrap().unwrap(), "hello");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarintCodec {
    max: usize,
    allow_overlong: bool,
    // Some((header, len)): the varint of the current frame was parsed.
    pending: Option<(usize, usize)>,
}

impl Default for VarintCodec {
    fn default() -> Self {
        VarintCodec::new()
    }
}

impl VarintCodec {
    /// The default codec: 8 MiB maximum, overlong varints rejected.
    pub fn new() -> Self {
        Self::builder().build().expect("the default configuration is valid")
    }

    /// A builder with the default settings.
    pub fn builder() -> VarintBuilder {
        // (Equivalent mutant: cargo-mutants' `Default::default()` is this.)
        VarintBuilder::default()
    }

    /// The maximum frame length in force.
    pub fn max_frame_length(&self) -> usize {
        self.max
    }

    /// Whether non-minimal varints are accepted.
    pub fn allows_overlong(&self) -> bool {
        self.allow_overlong
    }
}

impl Decoder for VarintCodec {
    #[inline]
    fn max_wire_len(&self) -> usize {
        self.max.saturating_add(MAX_VARINT_LEN)
    }

    fn frame_len_hint(&self, buf: &[u8]) -> Option<usize> {
        let (header, len) = match self.pending {
            Some(p) => p,
            None => {
                let (declared, header) = parse_varint(buf, true).ok()??;
                (header, usize::try_from(declared).ok().filter(|&l| l <= self.max)?)
            }
        };
        header.checked_add(len)
    }

    #[inline(always)]
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        crate::codec::DecodeRef::decode_ref(self, buf)
    }
}

impl crate::codec::DecodeRef for VarintCodec {
    #[inline]
    fn decode_ref(&mut self, buf: &[u8]) -> Result<Option<Frame>, DecodeError> {
        let (header, len) = match self.pending {
            Some(p) => p,
            // Lengths under 128 take one byte: the common case for small frames.
            // (A mutant that skips this fast path is equivalent: `parse_varint`
            // reads one-byte varints the same way, only slower.)
            None => match buf.first() {
                None => return Ok(None),
                Some(&b) if b < 0x80 => {
                    let len = usize::from(b);
                    if len > self.max {
                        return Err(DecodeError::FrameTooLarge { declared: u64::from(b), max: self.max });
                    }
                    (1, len)
                }
                Some(_) => {
                    let Some((declared, header)) = parse_varint(buf, self.allow_overlong)? else {
                        return Ok(None);
                    };
                    if declared > self.max as u64 {
                        return Err(DecodeError::FrameTooLarge { declared, max: self.max });
                    }
                    // declared <= max <= isize::MAX
                    (header, declared as usize)
                }
            },
        };
        // header <= 10 and len <= isize::MAX: no overflow.
        let total = header + len;
        if buf.len() < total {
            self.pending = Some((header, len));
            return Ok(None);
        }
        self.pending = None;
        Ok(Some(Frame::new(total, header, total)))
    }
}

impl Encoder for VarintCodec {
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
        let mut head = [0u8; MAX_VARINT_LEN];
        let n = encode_varint(len as u64, &mut head);
        Ok(Envelope::new(head.get(..n).unwrap_or_default(), &[]))
    }
}

impl crate::codec::any::Spec for VarintCodec {
    const NAMES: &'static [&'static str] = &["varint"];
    const EXAMPLES: &'static [&'static str] = &["varint", "varint,max=200"];

    fn from_spec(_name: &str, arg: Option<&str>) -> Result<Self, alloc::string::String> {
        crate::codec::any::no_arg(arg, VarintCodec::new())
    }

    fn max_frame_length(&self) -> usize {
        self.max
    }

    fn with_max_frame_length(&self, max: usize) -> Result<Self, ConfigError> {
        VarintCodec::builder().allow_overlong(self.allow_overlong).max_frame_length(max).build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_varints() {
        let mut out = [0u8; 10];
        for (v, bytes) in [
            (0u64, &[0x00][..]),
            (1, &[0x01]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (300, &[0xac, 0x02]),
            (u64::MAX, &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        ] {
            let n = encode_varint(v, &mut out);
            assert_eq!(&out[..n], bytes);
            assert_eq!(parse_varint(bytes, false), Ok(Some((v, bytes.len()))));
        }
    }

    #[test]
    fn v1_v2_v3() {
        // BAD_INPUTS V1
        assert_eq!(
            parse_varint(&[0xff; 11], false),
            Err(DecodeError::MalformedLength { reason: "varint longer than 10 bytes" })
        );
        // BAD_INPUTS V2
        let mut v2 = [0xff; 10];
        v2[9] = 0x02;
        assert_eq!(
            parse_varint(&v2, false),
            Err(DecodeError::MalformedLength { reason: "varint overflows u64" })
        );
        // BAD_INPUTS V3
        assert!(parse_varint(&[0x80, 0x00], false).is_err());
        assert_eq!(parse_varint(&[0x80, 0x00], true), Ok(Some((0, 2))));
    }
}

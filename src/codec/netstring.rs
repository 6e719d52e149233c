//! Netstrings (D. J. Bernstein, <https://cr.yp.to/proto/netstrings.txt>):
//! a decimal length, `:`, the payload, `,`.
//!
//! ```text
//! "hello world!" is encoded as
//! +- len -+-:-+------------ payload ------------+-,-+
//! | 1 2   | : | h e l l o   w o r l d !         | , |
//! +-------+---+---------------------------------+---+
//! the empty payload is "0:,"
//! ```
//!
//! As the spec requires, a length has no leading zeros (`01:a,` is an
//! error, `0:,` the empty frame) and is not empty (`:,` is an error). The
//! length may have at most as many digits as the maximum frame length has,
//! so a stream of digits is rejected after a bounded number of bytes and the
//! arithmetic never overflows. The declared length is checked against the
//! maximum (inclusive) as soon as the `:` arrives, before the payload is
//! buffered; a frame without its trailing `,` is an error.

use crate::codec::{slice_enveloped, Decoder, Encoder, Envelope, Frame, SliceEncode};
use crate::error::{ConfigError, DecodeError, EncodeError};
use crate::limits::NO_LIMIT as MAX_LIMIT;

pub use crate::limits::DEFAULT_MAX_FRAME_LENGTH;

/// Configures a [`NetstringCodec`]. Obtain one from [`NetstringCodec::builder`].
///
/// ```
/// use sockframe::NetstringCodec;
///
/// let codec = NetstringCodec::builder().max_frame_length(999).build().unwrap();
/// assert_eq!(codec.max_frame_length(), 999);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct NetstringBuilder {
    max: usize,
}

impl Default for NetstringBuilder {
    fn default() -> Self {
        NetstringBuilder { max: DEFAULT_MAX_FRAME_LENGTH }
    }
}

impl NetstringBuilder {
    /// Largest payload accepted and encoded (inclusive). Default 8 MiB.
    pub fn max_frame_length(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    /// Builds the codec.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a maximum above `isize::MAX`.
    pub fn build(self) -> Result<NetstringCodec, ConfigError> {
        if self.max > MAX_LIMIT {
            return Err(ConfigError::Invalid { reason: "max_frame_length above isize::MAX" });
        }
        Ok(NetstringCodec { max: self.max, max_digits: digits(self.max), pending: None })
    }
}

/// Decimal digits of `n` (1 for 0).
fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// A netstring decoder and encoder. See the [module docs](self).
///
/// ```
/// use bytes::BytesMut;
/// use sockframe::{Decoder, Encoder, NetstringCodec};
///
/// let mut codec = NetstringCodec::new();
/// let mut wire = BytesMut::new();
/// codec.encode(b"hello world!", &mut wire).unwrap();
/// assert_eq!(&wire[..], b"12:hello world!,");
/// assert_eq!(codec.decode_bytes(&mut wire).unwrap().unwrap(), "hello world!");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetstringCodec {
    max: usize,
    // Digits of max: the longest length field accepted.
    max_digits: usize,
    // Some((header, len)): "len:" of the current frame was parsed; header
    // counts the digits and the colon.
    pending: Option<(usize, usize)>,
}

impl Default for NetstringCodec {
    fn default() -> Self {
        NetstringCodec::new()
    }
}

impl NetstringCodec {
    /// The default codec, 8 MiB maximum.
    pub fn new() -> Self {
        Self::builder().build().expect("the default configuration is valid")
    }

    /// A builder with the default settings.
    pub fn builder() -> NetstringBuilder {
        // (Equivalent mutant: cargo-mutants' `Default::default()` is this.)
        NetstringBuilder::default()
    }

    /// The maximum frame length in force (inclusive).
    pub fn max_frame_length(&self) -> usize {
        self.max
    }

    fn parse_header(&self, buf: &[u8]) -> Result<Option<(usize, usize)>, DecodeError> {
        let mut value: u64 = 0;
        for (i, &b) in buf.iter().enumerate() {
            match b {
                b':' if i == 0 => {
                    // BAD_INPUTS N1: an empty length.
                    return Err(DecodeError::MalformedLength { reason: "empty netstring length" });
                }
                b':' => {
                    if value > self.max as u64 {
                        return Err(DecodeError::FrameTooLarge { declared: value, max: self.max });
                    }
                    return Ok(Some((i + 1, value as usize)));
                }
                b'0'..=b'9' => {
                    // BAD_INPUTS N1: "01:" has a leading zero.
                    if i == 1 && value == 0 {
                        return Err(DecodeError::MalformedLength {
                            reason: "netstring length has a leading zero",
                        });
                    }
                    // BAD_INPUTS N2: at most max_digits digits (<= 19), so
                    // value < 10^19 < u64::MAX and nothing overflows.
                    if i >= self.max_digits {
                        return Err(DecodeError::MalformedLength {
                            reason: "netstring length has more digits than the maximum",
                        });
                    }
                    value = value * 10 + u64::from(b - b'0');
                }
                _ => {
                    return Err(DecodeError::InvalidFraming { offset: i, reason: "expected a digit or ':'" });
                }
            }
        }
        Ok(None)
    }
}

impl Decoder for NetstringCodec {
    #[inline]
    fn max_wire_len(&self) -> usize {
        self.max.saturating_add(self.max_digits).saturating_add(2)
    }

    #[inline(always)]
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        crate::codec::DecodeRef::decode_ref(self, buf)
    }
}

impl crate::codec::DecodeRef for NetstringCodec {
    #[inline]
    fn decode_ref(&mut self, buf: &[u8]) -> Result<Option<Frame>, DecodeError> {
        let (header, len) = match self.pending {
            Some(p) => p,
            None => {
                let Some(p) = self.parse_header(buf)? else { return Ok(None) };
                self.pending = Some(p);
                p
            }
        };
        // header <= 20, len <= isize::MAX
        let end = header + len;
        match buf.get(end) {
            None => Ok(None),
            Some(b',') => {
                self.pending = None;
                Ok(Some(Frame::new(end + 1, header, end)))
            }
            // BAD_INPUTS N3
            Some(_) => {
                Err(DecodeError::InvalidFraming { offset: end, reason: "expected ',' after the payload" })
            }
        }
    }
}

impl Encoder for NetstringCodec {
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
        let mut head = [0u8; 21];
        let mut i = head.len() - 1;
        head[i] = b':';
        let mut n = len;
        loop {
            i -= 1;
            head[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Ok(Envelope::new(head.get(i..).unwrap_or_default(), b","))
    }
}

impl crate::codec::any::Spec for NetstringCodec {
    const NAMES: &'static [&'static str] = &["netstring"];
    const EXAMPLES: &'static [&'static str] = &["netstring", "netstring,max=100"];

    fn from_spec(_name: &str, arg: Option<&str>) -> Result<Self, alloc::string::String> {
        crate::codec::any::no_arg(arg, NetstringCodec::new())
    }

    fn max_frame_length(&self) -> usize {
        self.max
    }

    fn with_max_frame_length(&self, max: usize) -> Result<Self, ConfigError> {
        NetstringCodec::builder().max_frame_length(max).build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_of() {
        assert_eq!(digits(0), 1);
        assert_eq!(digits(9), 1);
        assert_eq!(digits(10), 2);
        assert_eq!(digits(usize::MAX), 20);
        assert_eq!(digits(isize::MAX as usize), 19);
    }
}

//! Unframed streams: [`RawCodec`] delivers bytes as they arrive, and
//! [`FixedCodec`] cuts the stream into records of one fixed size.
//!
//! ```text
//! RawCodec:    reads  | h e l | l o w o r | l d |   ->  frames "hel", "lowor", "ld"
//!              (each decode returns everything buffered, up to max bytes)
//! FixedCodec:  size 4 | 0 1 0 2 | 0 3 0 4 | 0 5 ...  ->  frames of exactly 4 bytes
//! ```
//!
//! `RawCodec` is for peers that do not frame at all (the seed's C programs):
//! frame boundaries are wherever reads happened to end, so only the
//! concatenation of frames is meaningful, and the encoder writes payloads
//! verbatim. At end of stream every buffered byte is delivered; a raw stream
//! is never truncated.

use crate::codec::{slice_enveloped, Decoder, Encoder, Envelope, Frame, SliceEncode};
use crate::error::{ConfigError, DecodeError, EncodeError};
use crate::limits::NO_LIMIT as MAX_LIMIT;

pub use crate::limits::DEFAULT_MAX_CHUNK;

/// Delivers buffered bytes as they come, at most `max` at a time.
///
/// ```
/// use sockframe::{Decoder, RawCodec};
///
/// let mut codec = RawCodec::new();
/// let mut buf = *b"any bytes";
/// let frame = codec.decode(&mut buf).unwrap().unwrap();
/// assert_eq!(frame.payload(&buf), b"any bytes");
/// assert_eq!(codec.decode(&mut []), Ok(None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawCodec {
    max: usize,
}

impl Default for RawCodec {
    fn default() -> Self {
        RawCodec::new()
    }
}

impl RawCodec {
    /// Chunks of up to [`DEFAULT_MAX_CHUNK`] bytes.
    pub fn new() -> Self {
        RawCodec { max: DEFAULT_MAX_CHUNK }
    }

    /// Chunks of up to `max` bytes; `max` is also the largest payload the
    /// encoder accepts.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for 0 or a maximum above `isize::MAX`.
    pub fn with_max_frame_length(max: usize) -> Result<Self, ConfigError> {
        if max == 0 || max > MAX_LIMIT {
            return Err(ConfigError::Invalid { reason: "raw chunk size must be 1 ..= isize::MAX" });
        }
        Ok(RawCodec { max })
    }

    /// The largest chunk delivered.
    pub fn max_frame_length(&self) -> usize {
        self.max
    }
}

impl Decoder for RawCodec {
    #[inline]
    fn max_wire_len(&self) -> usize {
        self.max
    }

    #[inline(always)]
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        crate::codec::DecodeRef::decode_ref(self, buf)
    }
}

impl crate::codec::DecodeRef for RawCodec {
    #[inline]
    fn decode_ref(&mut self, buf: &[u8]) -> Result<Option<Frame>, DecodeError> {
        if buf.is_empty() {
            return Ok(None);
        }
        let n = buf.len().min(self.max);
        Ok(Some(Frame::new(n, 0, n)))
    }
}

impl Encoder for RawCodec {
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
        if payload.len() > self.max {
            return Err(EncodeError::PayloadTooLarge { len: payload.len(), max: self.max });
        }
        Ok(Envelope::new(&[], &[]))
    }
}

/// Records of exactly `size` bytes, no header.
///
/// ```
/// use bytes::BytesMut;
/// use sockframe::{Decoder, Encoder, EncodeError, FixedCodec};
///
/// let mut codec = FixedCodec::new(2).unwrap();
/// let mut buf = BytesMut::from(&b"abcde"[..]);
/// assert_eq!(codec.decode_bytes(&mut buf).unwrap().unwrap(), "ab");
/// assert_eq!(codec.decode_bytes(&mut buf).unwrap().unwrap(), "cd");
/// assert_eq!(codec.decode_bytes(&mut buf).unwrap(), None);
/// assert_eq!(
///     codec.encode(b"xyz", &mut buf),
///     Err(EncodeError::WrongLength { len: 3, expected: 2 })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedCodec {
    size: usize,
}

impl FixedCodec {
    /// Records of `size` bytes.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for 0 or a size above `isize::MAX`.
    pub fn new(size: usize) -> Result<Self, ConfigError> {
        if size == 0 || size > MAX_LIMIT {
            return Err(ConfigError::Invalid { reason: "record size must be 1 ..= isize::MAX" });
        }
        Ok(FixedCodec { size })
    }

    /// The record size.
    pub fn size(&self) -> usize {
        self.size
    }
}

impl Decoder for FixedCodec {
    #[inline]
    fn max_wire_len(&self) -> usize {
        self.size
    }

    #[inline(always)]
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        crate::codec::DecodeRef::decode_ref(self, buf)
    }
}

impl crate::codec::DecodeRef for FixedCodec {
    #[inline]
    fn decode_ref(&mut self, buf: &[u8]) -> Result<Option<Frame>, DecodeError> {
        if buf.len() < self.size {
            return Ok(None);
        }
        Ok(Some(Frame::new(self.size, 0, self.size)))
    }
}

impl Encoder for FixedCodec {
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
        if payload.len() != self.size {
            return Err(EncodeError::WrongLength { len: payload.len(), expected: self.size });
        }
        Ok(Envelope::new(&[], &[]))
    }
}

impl crate::codec::any::Spec for RawCodec {
    const NAMES: &'static [&'static str] = &["raw"];
    const EXAMPLES: &'static [&'static str] = &["raw", "raw,max=7"];
    const PRESERVES_BOUNDARIES: bool = false;

    fn from_spec(_name: &str, arg: Option<&str>) -> Result<Self, alloc::string::String> {
        crate::codec::any::no_arg(arg, RawCodec::new())
    }

    fn max_frame_length(&self) -> usize {
        self.max
    }

    fn default_max(&self) -> Option<usize> {
        Some(crate::limits::DEFAULT_MAX_CHUNK)
    }

    fn with_max_frame_length(&self, max: usize) -> Result<Self, ConfigError> {
        RawCodec::with_max_frame_length(max)
    }
}

impl crate::codec::any::Spec for FixedCodec {
    const NAMES: &'static [&'static str] = &["fixed"];
    const EXAMPLES: &'static [&'static str] = &["fixed:1", "fixed:16"];

    fn from_spec(_name: &str, arg: Option<&str>) -> Result<Self, alloc::string::String> {
        let a = arg.ok_or("fixed needs a record size, e.g. fixed:16")?;
        let size = a
            .parse::<usize>()
            .ok()
            .filter(|_| a.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| alloc::format!("bad record size {a:?}"))?;
        FixedCodec::new(size).map_err(|e| alloc::string::ToString::to_string(&e))
    }

    fn fmt_spec(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "fixed:{}", self.size)
    }

    /// The record size.
    fn max_frame_length(&self) -> usize {
        self.size
    }

    /// Records have no `max` option.
    fn default_max(&self) -> Option<usize> {
        None
    }

    fn with_max_frame_length(&self, _max: usize) -> Result<Self, ConfigError> {
        Err(ConfigError::Invalid { reason: "fixed records have no max" })
    }
}

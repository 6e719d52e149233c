//! HDLC-style asynchronous framing (RFC 1662, as PPP uses it on serial
//! links): flag `7E` around each frame, control escape `7D` followed by the
//! byte XOR `0x20`, and a frame check sequence (FCS) after the payload.
//!
//! ```text
//! payload  01 7E 02        encoded  7E 01 7D 5E 02 | FCS-16, LSB first, escaped | 7E
//! ```
//!
//! The FCS is FCS-16 (CRC-16/X-25) or FCS-32 (CRC-32), computed over the
//! payload and sent least significant byte first, as RFC 1662 specifies; the
//! decoder checks it and strips it. What a protocol puts inside the payload
//! (PPP's address and control fields, say) is the caller's.
//!
//! The encoder escapes only the flag and the escape byte (an async control
//! character map of zero, as on 8-bit clean links and TCP); the decoder
//! accepts any escaped byte. A frame shorter than its FCS is refused, a bad
//! FCS is [`DecodeError::ChecksumMismatch`], and `7D 7E` (the sender's abort
//! sequence) is an escape at the end of the frame. In discard mode
//! (`,discard`) each of these skips the frame and decoding resumes after
//! its flag. Empty frames (two flags in a row) are idle fill and skipped, as
//! in [`slip`](super::slip).

use bytes::BytesMut;

use crate::codec::any::Spec;
use crate::codec::checksum::{Checksum, CrcAlgorithm};
use crate::codec::escaped::{Escaped, Stuffing};
use crate::codec::{Decoder, Encoder, Envelope, Frame};
use crate::error::{ConfigError, DecodeError, EncodeError};
use crate::limits::{DEFAULT_MAX_FRAME_LENGTH, NO_LIMIT};

/// The flag sequence: ends (and usually starts) every frame.
pub const FLAG: u8 = 0x7E;
/// The control escape: the next byte is XOR `0x20`.
pub const ESCAPE: u8 = 0x7D;

/// Which frame check sequence follows the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fcs {
    /// FCS-16: CRC-16/X-25, two bytes.
    Fcs16,
    /// FCS-32: CRC-32, four bytes.
    Fcs32,
}

impl Fcs {
    /// The checksum with RFC 1662's byte order (least significant first).
    pub const fn checksum(self) -> Checksum {
        match self {
            Fcs::Fcs16 => Checksum::new(CrcAlgorithm::Crc16X25),
            Fcs::Fcs32 => Checksum::new(CrcAlgorithm::Crc32),
        }
    }
}

/// Configures an [`HdlcCodec`].
///
/// ```
/// use sockframe::codec::hdlc::Fcs;
/// use sockframe::HdlcCodec;
///
/// let codec = HdlcCodec::builder().fcs(Fcs::Fcs32).max_frame_length(1500).build()?;
/// assert_eq!((codec.fcs(), codec.max_frame_length()), (Fcs::Fcs32, 1500));
/// # Ok::<(), sockframe::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct HdlcBuilder {
    max: usize,
    fcs: Fcs,
    leading: bool,
    discard: bool,
}

impl Default for HdlcBuilder {
    fn default() -> Self {
        HdlcBuilder { max: DEFAULT_MAX_FRAME_LENGTH, fcs: Fcs::Fcs16, leading: true, discard: false }
    }
}

impl HdlcBuilder {
    /// Largest payload (FCS not included), inclusive. Default 8 MiB.
    pub fn max_frame_length(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    /// The frame check sequence. Default [`Fcs::Fcs16`].
    pub fn fcs(mut self, fcs: Fcs) -> Self {
        self.fcs = fcs;
        self
    }

    /// Whether the encoder puts a flag before each frame as well as after it
    /// (default `true`). The decoder accepts both, and shared flags.
    pub fn leading_flag(mut self, leading: bool) -> Self {
        self.leading = leading;
        self
    }

    /// Skip corrupt and overlong frames instead of failing. Default `false`.
    pub fn discard(mut self, discard: bool) -> Self {
        self.discard = discard;
        self
    }

    /// Builds the codec.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a maximum above `isize::MAX / 2`.
    pub fn build(self) -> Result<HdlcCodec, ConfigError> {
        if self.max > NO_LIMIT / 2 - 8 {
            return Err(ConfigError::Invalid { reason: "max_frame_length above isize::MAX / 2" });
        }
        let checksum = self.fcs.checksum();
        let mut engine = Escaped::new(FLAG, ESCAPE, Stuffing::Xor, self.max, checksum.len());
        engine.discard = self.discard;
        Ok(HdlcCodec { engine, fcs: self.fcs, leading: self.leading })
    }
}

/// An HDLC-style async framing decoder and encoder. See the
/// [module docs](self).
///
/// ```
/// use bytes::BytesMut;
/// use sockframe::{Decoder, Encoder, HdlcCodec};
///
/// let mut codec = HdlcCodec::new();
/// let mut wire = BytesMut::new();
/// codec.encode(b"\x01\x7e\x02", &mut wire)?;
/// assert_eq!(&wire[..5], b"\x7e\x01\x7d\x5e\x02");
/// assert_eq!(&codec.decode_bytes(&mut wire)?.unwrap()[..], b"\x01\x7e\x02");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HdlcCodec {
    engine: Escaped,
    fcs: Fcs,
    leading: bool,
}

impl Default for HdlcCodec {
    fn default() -> Self {
        HdlcCodec::new()
    }
}

impl HdlcCodec {
    /// The default codec: FCS-16, 8 MiB maximum, leading flag, strict.
    pub fn new() -> Self {
        let checksum = Fcs::Fcs16.checksum();
        HdlcCodec {
            engine: Escaped::new(FLAG, ESCAPE, Stuffing::Xor, DEFAULT_MAX_FRAME_LENGTH, checksum.len()),
            fcs: Fcs::Fcs16,
            leading: true,
        }
    }

    /// A builder with the default settings.
    pub fn builder() -> HdlcBuilder {
        // (Equivalent mutant: cargo-mutants' `Default::default()` is this.)
        HdlcBuilder::default()
    }

    /// The maximum payload length in force (inclusive, FCS not included).
    pub fn max_frame_length(&self) -> usize {
        self.engine.max
    }

    /// The frame check sequence.
    pub fn fcs(&self) -> Fcs {
        self.fcs
    }

    fn rebuild(&self) -> HdlcBuilder {
        HdlcCodec::builder()
            .max_frame_length(self.engine.max)
            .fcs(self.fcs)
            .leading_flag(self.leading)
            .discard(self.engine.discard)
    }
}

impl Decoder for HdlcCodec {
    #[inline]
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        let checksum = self.fcs.checksum();
        // BAD_INPUTS K5/K6: a frame shorter than its FCS, a bad FCS.
        self.engine.decode(buf, |frame| checksum.verify(frame))
    }

    fn max_wire_len(&self) -> usize {
        self.engine.max_wire_len()
    }
}

impl Encoder for HdlcCodec {
    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        if payload.len() > self.engine.max {
            return Err(EncodeError::PayloadTooLarge { len: payload.len(), max: self.engine.max });
        }
        let checksum = self.fcs.checksum();
        let fcs = checksum.wire_bytes(payload);
        self.engine.encode(self.leading, &[payload, fcs.get(..checksum.len()).unwrap_or_default()], dst);
        Ok(())
    }

    /// HDLC transforms the payload: always `Ok(None)`, or the size error.
    fn envelope(&mut self, payload: &[u8]) -> Result<Option<Envelope>, EncodeError> {
        if payload.len() > self.engine.max {
            return Err(EncodeError::PayloadTooLarge { len: payload.len(), max: self.engine.max });
        }
        Ok(None)
    }
}

impl Spec for HdlcCodec {
    const NAMES: &'static [&'static str] = &["hdlc"];
    const EXAMPLES: &'static [&'static str] = &["hdlc", "hdlc:fcs32", "hdlc,max=50,discard"];

    fn from_spec(_name: &str, arg: Option<&str>) -> Result<Self, alloc::string::String> {
        let fcs = match arg {
            None | Some("fcs16") => Fcs::Fcs16,
            Some("fcs32") => Fcs::Fcs32,
            Some(a) => return Err(alloc::format!("unknown FCS {a:?} (fcs16 or fcs32)")),
        };
        HdlcCodec::builder().fcs(fcs).build().map_err(|e| alloc::string::ToString::to_string(&e))
    }

    fn fmt_spec(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self.fcs {
            Fcs::Fcs16 => "hdlc",
            Fcs::Fcs32 => "hdlc:fcs32",
        })
    }

    fn max_frame_length(&self) -> usize {
        self.engine.max
    }

    fn with_max_frame_length(&self, max: usize) -> Result<Self, ConfigError> {
        self.rebuild().max_frame_length(max).build()
    }

    fn discards(&self) -> bool {
        self.engine.discard
    }

    fn with_discard(&self) -> Result<Self, alloc::string::String> {
        self.rebuild().discard(true).build().map_err(|e| alloc::string::ToString::to_string(&e))
    }
}

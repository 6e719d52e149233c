//! CRC checksums, and a trailer that adds one to any framing.
//!
//! [`ChecksumCodec`] wraps another codec: on encode it appends the CRC of the
//! payload to it and frames the result with the inner codec; on decode it
//! checks and strips the trailer of every frame the inner codec returns.
//! A mismatch is [`DecodeError::ChecksumMismatch`], or, in discard mode, a
//! skip frame ([`SkipReason::Corrupt`]): the frame is dropped, counted, and
//! the frames after it come out as usual.
//!
//! ```text
//! len,crc=crc32c     00 00 00 06 | 68 69 | 4a 3b 2c 1d
//!                    └ length ─┘ └ hi ┘ └ CRC-32C of "hi", least significant byte first
//! ```
//!
//! The checksums are computed by the [`crc`] crate (table-driven, no_std,
//! about 4 GiB/s here); with the `hw-crc` feature every algorithm uses the
//! CPU's instructions instead (`crc-fast`: 50 to 95 GiB/s here).
//! [`CrcAlgorithm`] lists the five this crate offers, each with the byte order
//! its protocols send it in by default; [`Checksum`] pairs one with a byte
//! order.
//!
//! # Which framings it suits
//! Skipping a frame with a bad checksum keeps the stream usable only when the
//! frame boundaries survive the corruption: with COBS, SLIP or KISS the next
//! delimiter starts a fresh frame. With a length prefix (`len`, `varint`,
//! `netstring`) a corrupt *payload* is caught and skipped, but a corrupt
//! *length* loses the stream (the decoder cannot know where the next frame
//! starts); [`SyncCodec`](crate::SyncCodec) is the length-prefixed framing
//! that recovers. The trailer is binary, so spec strings refuse it for
//! `lines`/`delim` (it may contain the delimiter) and for `raw`/`fixed`
//! (no frames to check).
//!
//! ```
//! use bytes::BytesMut;
//! use sockframe::{Codec, Decoder, DecodeError, Encoder};
//!
//! let mut codec: Codec = "cobs,crc=crc16-xmodem".parse()?;
//! let mut wire = BytesMut::new();
//! codec.encode(b"hello", &mut wire)?;
//! assert_eq!(codec.decode_bytes(&mut wire)?.unwrap(), "hello");
//!
//! // One bit flipped on the way.
//! codec.encode(b"hello", &mut wire)?;
//! wire[2] ^= 0x10;
//! assert!(matches!(codec.decode_bytes(&mut wire), Err(DecodeError::ChecksumMismatch { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use bytes::BytesMut;
use crc::{Crc, Table};

use crate::codec::any::Spec;
use crate::codec::length::Endian;
use crate::codec::{DecodeRef, Decoder, Encoder, Envelope, Frame, SkipReason};
use crate::error::{ConfigError, DecodeError, EncodeError};

static CRC16_CCITT_FALSE: Crc<u16, Table<16>> = Crc::<u16, Table<16>>::new(&crc::CRC_16_IBM_3740);
static CRC16_X25: Crc<u16, Table<16>> = Crc::<u16, Table<16>>::new(&crc::CRC_16_IBM_SDLC);
static CRC16_XMODEM: Crc<u16, Table<16>> = Crc::<u16, Table<16>>::new(&crc::CRC_16_XMODEM);
// With `hw-crc` the tables stay for the test that checks both agree.
static CRC32: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&crc::CRC_32_ISO_HDLC);
static CRC32C: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&crc::CRC_32_ISCSI);

/// A CRC algorithm, by its name in the CRC catalogue.
///
/// ```
/// use sockframe::codec::checksum::CrcAlgorithm;
///
/// // The catalogue's check value: the CRC of "123456789".
/// assert_eq!(CrcAlgorithm::Crc32c.checksum(b"123456789"), 0xe306_9283);
/// assert_eq!(CrcAlgorithm::Crc16X25.len(), 2);
/// assert_eq!("crc16-x25".parse::<CrcAlgorithm>(), Ok(CrcAlgorithm::Crc16X25));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CrcAlgorithm {
    /// CRC-16/CCITT-FALSE (catalogue: CRC-16/IBM-3740), `crc16-ccitt-false`;
    /// sent most significant byte first.
    Crc16CcittFalse,
    /// CRC-16/X-25 (catalogue: CRC-16/IBM-SDLC), the HDLC and PPP FCS-16,
    /// `crc16-x25`; sent least significant byte first.
    Crc16X25,
    /// CRC-16/XMODEM, `crc16-xmodem`; sent most significant byte first.
    Crc16Xmodem,
    /// CRC-32 (catalogue: CRC-32/ISO-HDLC), as Ethernet, zlib and the HDLC
    /// FCS-32 use it, `crc32`; sent least significant byte first.
    Crc32,
    /// CRC-32C (Castagnoli; catalogue: CRC-32/ISCSI), `crc32c`; sent least
    /// significant byte first.
    Crc32c,
}

impl CrcAlgorithm {
    /// Every algorithm, in the order of the list above.
    pub const ALL: [CrcAlgorithm; 5] = [
        CrcAlgorithm::Crc16CcittFalse,
        CrcAlgorithm::Crc16X25,
        CrcAlgorithm::Crc16Xmodem,
        CrcAlgorithm::Crc32,
        CrcAlgorithm::Crc32c,
    ];

    /// The spec name (`crc32c`).
    pub const fn name(self) -> &'static str {
        match self {
            CrcAlgorithm::Crc16CcittFalse => "crc16-ccitt-false",
            CrcAlgorithm::Crc16X25 => "crc16-x25",
            CrcAlgorithm::Crc16Xmodem => "crc16-xmodem",
            CrcAlgorithm::Crc32 => "crc32",
            CrcAlgorithm::Crc32c => "crc32c",
        }
    }

    /// Bytes the checksum occupies on the wire: 2 or 4.
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(self) -> usize {
        match self {
            CrcAlgorithm::Crc16CcittFalse | CrcAlgorithm::Crc16X25 | CrcAlgorithm::Crc16Xmodem => 2,
            CrcAlgorithm::Crc32 | CrcAlgorithm::Crc32c => 4,
        }
    }

    /// The byte order its protocols send it in: least significant byte
    /// first for the reflected algorithms (X-25, CRC-32, CRC-32C, as HDLC and
    /// Ethernet send them), most significant first for CCITT-FALSE and XMODEM.
    pub const fn conventional_order(self) -> Endian {
        match self {
            CrcAlgorithm::Crc16CcittFalse | CrcAlgorithm::Crc16Xmodem => Endian::Big,
            CrcAlgorithm::Crc16X25 | CrcAlgorithm::Crc32 | CrcAlgorithm::Crc32c => Endian::Little,
        }
    }

    /// The CRC of `data`, widened to `u32`.
    #[inline]
    pub fn checksum(self, data: &[u8]) -> u32 {
        #[cfg(feature = "hw-crc")]
        {
            self.checksum_hw(data)
        }
        #[cfg(not(feature = "hw-crc"))]
        {
            self.checksum_table(data)
        }
    }

    /// The `crc` crate's slice-by-16 tables.
    #[cfg_attr(feature = "hw-crc", allow(dead_code))]
    fn checksum_table(self, data: &[u8]) -> u32 {
        match self {
            CrcAlgorithm::Crc16CcittFalse => u32::from(CRC16_CCITT_FALSE.checksum(data)),
            CrcAlgorithm::Crc16X25 => u32::from(CRC16_X25.checksum(data)),
            CrcAlgorithm::Crc16Xmodem => u32::from(CRC16_XMODEM.checksum(data)),
            CrcAlgorithm::Crc32 => CRC32.checksum(data),
            CrcAlgorithm::Crc32c => CRC32C.checksum(data),
        }
    }

    /// `crc-fast`: the CPU's instructions where it has them.
    #[cfg(feature = "hw-crc")]
    fn checksum_hw(self, data: &[u8]) -> u32 {
        use crc_fast::CrcAlgorithm as A;
        let alg = match self {
            CrcAlgorithm::Crc16CcittFalse => A::Crc16Ibm3740,
            CrcAlgorithm::Crc16X25 => A::Crc16IbmSdlc,
            CrcAlgorithm::Crc16Xmodem => A::Crc16Xmodem,
            CrcAlgorithm::Crc32 => A::Crc32IsoHdlc,
            CrcAlgorithm::Crc32c => A::Crc32Iscsi,
        };
        // A 16- or 32-bit CRC in the low bits of the u64.
        crc_fast::checksum(alg, data) as u32
    }
}

impl fmt::Display for CrcAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for CrcAlgorithm {
    type Err = String;

    /// Parses a spec name (`crc16-ccitt-false`, `crc16-x25`, `crc16-xmodem`,
    /// `crc32`, `crc32c`).
    fn from_str(s: &str) -> Result<Self, String> {
        CrcAlgorithm::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| {
            alloc::format!(
                "unknown checksum {s:?} (crc16-ccitt-false, crc16-x25, crc16-xmodem, crc32, crc32c; \
                 optionally :be or :le)"
            )
        })
    }
}

/// A CRC algorithm and the byte order of its value on the wire.
///
/// Spec form: `ALG` (its conventional order) or `ALG:be` / `ALG:le`.
///
/// ```
/// use sockframe::codec::checksum::{Checksum, CrcAlgorithm};
/// use sockframe::Endian;
///
/// let c: Checksum = "crc16-x25".parse().unwrap();
/// assert_eq!(c.order(), Endian::Little);
/// let mut out = Vec::new();
/// c.append(b"123456789", &mut out);
/// assert_eq!(out, [0x6e, 0x90]); // check value 0x906e, least significant byte first
/// assert_eq!("crc32c:be".parse::<Checksum>().unwrap().to_string(), "crc32c:be");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checksum {
    algorithm: CrcAlgorithm,
    order: Endian,
}

impl Checksum {
    /// `algorithm` in its conventional byte order.
    pub const fn new(algorithm: CrcAlgorithm) -> Self {
        Checksum { algorithm, order: algorithm.conventional_order() }
    }

    /// The same algorithm sent in `order` (`Native` is resolved to the
    /// order of the machine).
    pub const fn with_order(mut self, order: Endian) -> Self {
        self.order = match order {
            Endian::Native if cfg!(target_endian = "little") => Endian::Little,
            Endian::Native => Endian::Big,
            o => o,
        };
        self
    }

    const fn little(&self) -> bool {
        matches!(self.order, Endian::Little)
    }

    /// The algorithm.
    pub const fn algorithm(&self) -> CrcAlgorithm {
        self.algorithm
    }

    /// The byte order on the wire.
    pub const fn order(&self) -> Endian {
        self.order
    }

    /// Bytes on the wire: 2 or 4.
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> usize {
        self.algorithm.len()
    }

    /// The checksum of `data` as its wire bytes (the first [`len`](Self::len)
    /// bytes of the array).
    #[inline]
    pub fn wire_bytes(&self, data: &[u8]) -> [u8; 4] {
        let v = self.algorithm.checksum(data);
        let n = self.len();
        let mut out = [0u8; 4];
        for (i, b) in out.iter_mut().take(n).enumerate() {
            let shift = if self.little() { 8 * i } else { 8 * (n - 1 - i) };
            *b = (v >> shift) as u8;
        }
        out
    }

    /// Appends the checksum of `data` to `out`.
    pub fn append(&self, data: &[u8], out: &mut impl Extend<u8>) {
        let bytes = self.wire_bytes(data);
        out.extend(bytes.iter().take(self.len()).copied());
    }

    /// Reads a checksum value from its wire bytes (`trailer.len()` must be
    /// [`len`](Self::len)).
    #[inline]
    pub fn read(&self, trailer: &[u8]) -> u32 {
        // (Equivalent mutant: `^` for `|`, the low byte of `acc << 8` is 0.)
        let fold = |acc: u32, &b: &u8| (acc << 8) | u32::from(b);
        if self.little() {
            trailer.iter().rev().fold(0, fold)
        } else {
            trailer.iter().fold(0, fold)
        }
    }

    /// Checks `frame` = data followed by its checksum; returns the length of
    /// the data.
    ///
    /// # Errors
    /// [`DecodeError::ChecksumMismatch`], or [`DecodeError::InvalidFraming`]
    /// for a frame shorter than the checksum.
    #[inline]
    pub fn verify(&self, frame: &[u8]) -> Result<usize, DecodeError> {
        let Some(data_len) = frame.len().checked_sub(self.len()) else {
            return Err(DecodeError::InvalidFraming { offset: 0, reason: "frame shorter than its checksum" });
        };
        let (data, trailer) = frame.split_at(data_len);
        let expected = self.algorithm.checksum(data);
        let received = self.read(trailer);
        if expected != received {
            return Err(DecodeError::ChecksumMismatch { expected, received });
        }
        Ok(data_len)
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.algorithm.name())?;
        if self.order != self.algorithm.conventional_order() {
            f.write_str(if self.little() { ":le" } else { ":be" })?;
        }
        Ok(())
    }
}

impl core::str::FromStr for Checksum {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (name, order) = match s.split_once(':') {
            Some((n, "be")) => (n, Some(Endian::Big)),
            Some((n, "le")) => (n, Some(Endian::Little)),
            Some((_, o)) => return Err(alloc::format!("checksum byte order {o:?}: be or le")),
            None => (s, None),
        };
        let c = Checksum::new(name.parse()?);
        Ok(match order {
            Some(o) => c.with_order(o),
            None => c,
        })
    }
}

/// Adds a CRC trailer to every frame of an inner codec. See the
/// [module docs](self).
///
/// ```
/// use bytes::BytesMut;
/// use sockframe::codec::checksum::{Checksum, ChecksumCodec, CrcAlgorithm};
/// use sockframe::{Decoder, Encoder, LengthCodec};
///
/// let mut codec = ChecksumCodec::new(LengthCodec::new(), Checksum::new(CrcAlgorithm::Crc32c));
/// let mut wire = BytesMut::new();
/// codec.encode(b"hi", &mut wire).unwrap();
/// assert_eq!(&wire[..6], b"\x00\x00\x00\x06hi");
/// assert_eq!(codec.decode_bytes(&mut wire).unwrap().unwrap(), "hi");
/// ```
#[derive(Debug, Clone)]
pub struct ChecksumCodec<C> {
    inner: C,
    checksum: Checksum,
    discard: bool,
    // A corrupt frame in strict mode: the error repeats (inner codecs may
    // have rewritten the frame's bytes in place).
    failed: Option<DecodeError>,
    // Payload + checksum, handed to the inner encoder (kept to reuse its
    // allocation).
    scratch: Vec<u8>,
}

impl<C> ChecksumCodec<C> {
    /// Wraps `inner` with `checksum`, failing on the first mismatch.
    pub fn new(inner: C, checksum: Checksum) -> Self {
        ChecksumCodec { inner, checksum, discard: false, failed: None, scratch: Vec::new() }
    }

    /// The same codec, skipping frames whose checksum does not match
    /// (`true`) instead of failing.
    pub fn discard(mut self, discard: bool) -> Self {
        self.discard = discard;
        self
    }

    /// Whether frames with a bad checksum are skipped.
    pub fn discards(&self) -> bool {
        self.discard
    }

    /// The checksum in use.
    pub fn checksum(&self) -> Checksum {
        self.checksum
    }

    /// The inner codec.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    #[cold]
    fn corrupt(&mut self, consumed: usize, e: DecodeError) -> Result<Option<Frame>, DecodeError> {
        if self.discard {
            return Ok(Some(Frame::skipped(consumed, SkipReason::Corrupt, true)));
        }
        self.failed = Some(e);
        Err(e)
    }
}

impl<C: Decoder> ChecksumCodec<C> {
    #[inline]
    fn check(&mut self, frame: Option<Frame>, buf: &[u8]) -> Result<Option<Frame>, DecodeError> {
        let Some(frame) = frame else { return Ok(None) };
        if frame.is_skip() {
            return Ok(Some(frame));
        }
        match self.checksum.verify(frame.payload(buf)) {
            Ok(n) => {
                let start = frame.payload_range().start;
                Ok(Some(Frame::new(frame.consumed(), start, start + n)))
            }
            Err(e) => self.corrupt(frame.consumed(), e),
        }
    }
}

impl<C: Decoder> Decoder for ChecksumCodec<C> {
    #[inline]
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let frame = self.inner.decode(buf)?;
        self.check(frame, buf)
    }

    fn decode_eof(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let frame = self.inner.decode_eof(buf)?;
        self.check(frame, buf)
    }

    fn max_wire_len(&self) -> usize {
        self.inner.max_wire_len()
    }

    fn frame_len_hint(&self, buf: &[u8]) -> Option<usize> {
        self.inner.frame_len_hint(buf)
    }
}

/// Over a framing that never changes the bytes, the checked framing does
/// not either: it decodes a shared slice.
///
/// ```
/// use sockframe::codec::RefFrames;
/// use sockframe::{Checksum, ChecksumCodec, CrcAlgorithm, Encoder, LengthCodec};
///
/// let mut codec = ChecksumCodec::new(LengthCodec::new(), Checksum::new(CrcAlgorithm::Crc32c));
/// let mut wire = bytes::BytesMut::new();
/// codec.encode(b"hi", &mut wire)?;
/// let shared: &[u8] = &wire;
/// let got: Vec<&[u8]> = RefFrames::at_eof(&mut codec, shared).collect::<Result<_, _>>()?;
/// assert_eq!(got, [&b"hi"[..]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl<C: DecodeRef> DecodeRef for ChecksumCodec<C> {
    #[inline]
    fn decode_ref(&mut self, buf: &[u8]) -> Result<Option<Frame>, DecodeError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let frame = self.inner.decode_ref(buf)?;
        self.check(frame, buf)
    }

    fn decode_eof_ref(&mut self, buf: &[u8]) -> Result<Option<Frame>, DecodeError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let frame = self.inner.decode_eof_ref(buf)?;
        self.check(frame, buf)
    }
}

impl<C: Encoder> Encoder for ChecksumCodec<C> {
    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        self.scratch.clear();
        self.scratch.extend_from_slice(payload);
        self.checksum.append(payload, &mut self.scratch);
        let result = self.inner.encode(&self.scratch, dst);
        // (Equivalent mutants here: when the scratch buffer is released only
        // changes memory, never the bytes written.)
        if self.scratch.capacity() > 64 * 1024 {
            // Don't keep a large payload's buffer for good.
            self.scratch = Vec::new();
        }
        result.map_err(|e| match e {
            EncodeError::PayloadTooLarge { len, max } => EncodeError::PayloadTooLarge {
                len: len.saturating_sub(self.checksum.len()),
                max: max.saturating_sub(self.checksum.len()),
            },
            e => e,
        })
    }

    /// The trailer depends on the payload's bytes: always `Ok(None)`, or the
    /// inner codec's size error.
    fn envelope(&mut self, payload: &[u8]) -> Result<Option<Envelope>, EncodeError> {
        // (cargo-mutants' `Ok(None)` for this body is this body.)
        let _ = payload;
        Ok(None)
    }
}

/// The codec type behind spec strings with `,crc=`: a [`ChecksumCodec`]
/// over any other spec framing.
pub type CheckedCodec = ChecksumCodec<alloc::boxed::Box<crate::Codec>>;

impl CheckedCodec {
    /// Wraps a spec codec; its maximum frame length becomes the maximum
    /// *payload* (the inner codec carries the checksum on top).
    ///
    /// ```
    /// use sockframe::codec::checksum::{CheckedCodec, Checksum, CrcAlgorithm};
    /// use sockframe::Codec;
    ///
    /// let inner: Codec = "varint,max=100".parse().unwrap();
    /// let c = CheckedCodec::with_spec_codec(inner, Checksum::new(CrcAlgorithm::Crc32)).unwrap();
    /// assert_eq!(Codec::from(c).to_string(), "varint,crc=crc32,max=100");
    /// ```
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a framing that cannot carry a binary
    /// trailer (`lines`, `delim`, `raw`, `fixed`), and the inner builder's
    /// errors.
    pub fn with_spec_codec(inner: crate::Codec, checksum: Checksum) -> Result<Self, ConfigError> {
        use crate::Codec as K;
        if matches!(inner, K::Delimited(_)) {
            return Err(ConfigError::Invalid {
                reason: "crc= needs a framing that carries any byte (not lines or delim)",
            });
        }
        if !inner.preserves_boundaries() || matches!(inner, K::Fixed(_) | K::Checked(_)) {
            return Err(ConfigError::Invalid { reason: "crc= needs a framing with frames and a maximum" });
        }
        // The payload keeps the inner framing's maximum when the trailer
        // fits on top of it, else gives the trailer's bytes up (a length
        // field at its limit: `len:u8`, `sync`).
        let max = inner.max_frame_length();
        let inner = inner.clone().with_max_frame_length(max.saturating_add(checksum.len())).unwrap_or(inner);
        Ok(ChecksumCodec::new(alloc::boxed::Box::new(inner), checksum))
    }
}

impl Spec for CheckedCodec {
    // Built from the `crc=` option of another framing's spec, never by name.
    const NAMES: &'static [&'static str] = &[];
    const EXAMPLES: &'static [&'static str] = &[
        "len,crc=crc32c",
        "cobs,crc=crc16-xmodem",
        "varint,crc=crc16-x25:be,max=300",
        "netstring,crc=crc32,discard",
        "cobs,crc=crc16-ccitt-false,max=200,discard",
        "slip,crc=crc32c,discard",
    ];

    fn from_spec(name: &str, _arg: Option<&str>) -> Result<Self, String> {
        Err(alloc::format!("{name}: a checksum is an option (,crc=ALG) of another framing"))
    }

    fn fmt_spec(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt_head(f)?;
        write!(f, ",crc={}", self.checksum)
    }

    fn max_frame_length(&self) -> usize {
        self.inner.max_frame_length().saturating_sub(self.checksum.len())
    }

    fn default_max(&self) -> Option<usize> {
        // What `with_spec_codec` gives a spec without `max=`.
        let d = self.inner.default_max()?;
        let n = self.checksum.len();
        let fits = (*self.inner).clone().with_max_frame_length(d.saturating_add(n)).is_ok();
        Some(if fits { d } else { d.saturating_sub(n) })
    }

    fn with_max_frame_length(&self, max: usize) -> Result<Self, ConfigError> {
        let inner = (*self.inner).clone().with_max_frame_length(max.saturating_add(self.checksum.len()))?;
        Ok(ChecksumCodec::new(alloc::boxed::Box::new(inner), self.checksum).discard(self.discard))
    }

    fn discards(&self) -> bool {
        self.discard
    }

    fn with_discard(&self) -> Result<Self, String> {
        // The inner framing skips what it can recover from on its own
        // (overlong or corrupt frames of SLIP, say); framings without a
        // discard mode stay strict about their own structure.
        let inner = match self.inner.with_discard() {
            Ok(c) => c,
            Err(_) => (*self.inner).clone(),
        };
        Ok(ChecksumCodec::new(alloc::boxed::Box::new(inner), self.checksum).discard(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "hw-crc")]
    fn hardware_crcs_agree_with_the_tables() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for n in [0, 1, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 1000, 4999] {
            let d = &data[..n];
            for alg in CrcAlgorithm::ALL {
                assert_eq!(alg.checksum_hw(d), alg.checksum_table(d), "{alg} {n}");
            }
        }
    }

    #[test]
    fn wire_bytes_follow_the_order() {
        let c = Checksum::new(CrcAlgorithm::Crc16CcittFalse);
        assert_eq!(&c.wire_bytes(b"123456789")[..2], [0x29, 0xb1]);
        let c = c.with_order(Endian::Little);
        assert_eq!(&c.wire_bytes(b"123456789")[..2], [0xb1, 0x29]);
        assert_eq!(c.read(&[0xb1, 0x29]), 0x29b1);
        let c = Checksum::new(CrcAlgorithm::Crc32);
        assert_eq!(c.wire_bytes(b"123456789"), [0x26, 0x39, 0xf4, 0xcb]);
        assert_eq!(c.read(&[0x26, 0x39, 0xf4, 0xcb]), 0xcbf4_3926);
        let c = c.with_order(Endian::Big);
        assert_eq!(c.wire_bytes(b"123456789"), [0xcb, 0xf4, 0x39, 0x26]);
    }

    #[test]
    fn verify_reports_short_frames_and_mismatches() {
        let c = Checksum::new(CrcAlgorithm::Crc32c);
        assert!(matches!(c.verify(b"abc"), Err(DecodeError::InvalidFraming { .. })));
        let mut f = b"data".to_vec();
        c.append(b"data", &mut f);
        assert_eq!(c.verify(&f), Ok(4));
        f[0] ^= 1;
        let want = CrcAlgorithm::Crc32c.checksum(&f[..4]);
        assert_eq!(
            c.verify(&f),
            Err(DecodeError::ChecksumMismatch {
                expected: want,
                received: CrcAlgorithm::Crc32c.checksum(b"data")
            })
        );
    }
}

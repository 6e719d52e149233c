//! SLIP (RFC 1055) and KISS, the TNC protocol built on it.
//!
//! SLIP ends each frame with END (`C0`); inside a frame END is sent as
//! `DB DC` and ESC (`DB`) as `DB DD`. Senders usually put an END before each
//! frame too, to flush line noise; empty frames between ENDs are skipped on
//! decode ([`SkipReason::Empty`](crate::SkipReason::Empty)), so SLIP cannot
//! carry an empty payload ([`EncodeError::EmptyPayload`]).
//!
//! ```text
//! payload  01 C0 02 DB 03       encoded  C0 01 DB DC 02 DB DD 03 C0
//!                                        └ leading END (optional)  └ END
//! ```
//!
//! KISS (the protocol between a host and a packet-radio TNC, also served
//! over TCP by software TNCs such as Direwolf) frames the same way, with the
//! names FEND, FESC, TFEND, TFESC, and makes the first byte of every frame a
//! port/command byte: the high nibble is the port, the low nibble the
//! command ([`KissHeader`]). [`KissCodec`] hands the caller the whole frame,
//! command byte first, and [`KissCodec::encode_frame`] writes one from its
//! parts.
//!
//! A byte after ESC other than the two substitutes, and an ESC as the last
//! byte of a frame, are [`DecodeError::InvalidFraming`]; in discard mode
//! (`,discard`) the frame is skipped and decoding resumes after its END.
//! The search runs a word at a time and resumes where it stopped; a frame
//! with nothing escaped is never copied.

use bytes::BytesMut;

use crate::codec::any::{no_arg, Spec};
use crate::codec::escaped::{Escaped, Stuffing};
use crate::codec::{Decoder, Encoder, Envelope, Frame};
use crate::error::{ConfigError, DecodeError, EncodeError};
use crate::limits::{DEFAULT_MAX_FRAME_LENGTH, NO_LIMIT};

/// END: ends (and usually starts) every frame.
pub const END: u8 = 0xC0;
/// ESC: the next byte stands for END or ESC.
pub const ESC: u8 = 0xDB;
/// After ESC: an END in the payload.
pub const ESC_END: u8 = 0xDC;
/// After ESC: an ESC in the payload.
pub const ESC_ESC: u8 = 0xDD;

const STUFFING: Stuffing = Stuffing::Slip { end_sub: ESC_END, esc_sub: ESC_ESC };

fn engine(max: usize) -> Result<Escaped, ConfigError> {
    // Escaping may double a frame; keep that within isize::MAX.
    if max > NO_LIMIT / 2 - 2 {
        return Err(ConfigError::Invalid { reason: "max_frame_length above isize::MAX / 2" });
    }
    Ok(Escaped::new(END, ESC, STUFFING, max, 0))
}

/// Configures a [`SlipCodec`] or a [`KissCodec`].
///
/// ```
/// use sockframe::SlipCodec;
///
/// let codec = SlipCodec::builder().max_frame_length(1006).leading_end(false).discard(true).build()?;
/// assert_eq!((codec.max_frame_length(), codec.leading_end(), codec.discards()), (1006, false, true));
/// # Ok::<(), sockframe::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct SlipBuilder {
    max: usize,
    leading: bool,
    discard: bool,
}

impl Default for SlipBuilder {
    fn default() -> Self {
        SlipBuilder { max: DEFAULT_MAX_FRAME_LENGTH, leading: true, discard: false }
    }
}

impl SlipBuilder {
    /// Largest payload (decoded) accepted and encoded, inclusive. Default 8 MiB.
    pub fn max_frame_length(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    /// Whether the encoder puts an END before each frame as well as after
    /// it (default `true`, as RFC 1055 recommends and the `slip-codec` crate
    /// does). The decoder accepts both.
    pub fn leading_end(mut self, leading: bool) -> Self {
        self.leading = leading;
        self
    }

    /// Skip corrupt and overlong frames (counted as skipped) instead of
    /// failing the stream. Default `false`.
    pub fn discard(mut self, discard: bool) -> Self {
        self.discard = discard;
        self
    }

    fn engine(self) -> Result<Escaped, ConfigError> {
        let mut e = engine(self.max)?;
        e.discard = self.discard;
        Ok(e)
    }

    /// Builds a SLIP codec.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a maximum above `isize::MAX / 2`.
    pub fn build(self) -> Result<SlipCodec, ConfigError> {
        Ok(SlipCodec { engine: self.engine()?, leading: self.leading })
    }

    /// Builds a KISS codec.
    ///
    /// # Errors
    /// As [`build`](Self::build).
    pub fn build_kiss(self) -> Result<KissCodec, ConfigError> {
        Ok(KissCodec { engine: self.engine()?, leading: self.leading })
    }
}

/// A SLIP decoder and encoder. See the [module docs](self).
///
/// ```
/// use bytes::BytesMut;
/// use sockframe::{Decoder, Encoder, SlipCodec};
///
/// let mut codec = SlipCodec::new();
/// let mut wire = BytesMut::new();
/// codec.encode(&[0x01, 0xc0, 0x02, 0xdb, 0x03], &mut wire)?;
/// assert_eq!(&wire[..], [0xc0, 0x01, 0xdb, 0xdc, 0x02, 0xdb, 0xdd, 0x03, 0xc0]);
/// assert_eq!(&codec.decode_bytes(&mut wire)?.unwrap()[..], [0x01, 0xc0, 0x02, 0xdb, 0x03]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipCodec {
    engine: Escaped,
    leading: bool,
}

impl Default for SlipCodec {
    fn default() -> Self {
        SlipCodec::new()
    }
}

impl SlipCodec {
    /// The default codec: 8 MiB maximum, leading END, strict.
    pub fn new() -> Self {
        SlipCodec { engine: Escaped::new(END, ESC, STUFFING, DEFAULT_MAX_FRAME_LENGTH, 0), leading: true }
    }

    /// A builder with the default settings.
    pub fn builder() -> SlipBuilder {
        // (Equivalent mutant: cargo-mutants' `Default::default()` is this.)
        SlipBuilder::default()
    }

    /// The maximum payload length in force (inclusive).
    pub fn max_frame_length(&self) -> usize {
        self.engine.max
    }

    /// Whether the encoder writes an END before each frame.
    pub fn leading_end(&self) -> bool {
        self.leading
    }

    /// Whether corrupt and overlong frames are skipped.
    pub fn discards(&self) -> bool {
        self.engine.discard
    }
}

fn check_payload(engine: &Escaped, payload: &[u8]) -> Result<(), EncodeError> {
    if payload.is_empty() {
        return Err(EncodeError::EmptyPayload);
    }
    if payload.len() > engine.max {
        return Err(EncodeError::PayloadTooLarge { len: payload.len(), max: engine.max });
    }
    Ok(())
}

/// The contract impls SLIP and KISS share: the same engine, the same
/// checks; only the names and examples differ.
macro_rules! stuffed_codec {
    ($ty:ident, $build:ident, $names:expr, $examples:expr) => {
        impl $ty {
            fn rebuild(&self) -> SlipBuilder {
                SlipCodec::builder()
                    .max_frame_length(self.engine.max)
                    .leading_end(self.leading)
                    .discard(self.engine.discard)
            }
        }

        impl Decoder for $ty {
            #[inline]
            fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
                // Frames are never empty (empty ones are fill): a KISS frame
                // always has its command byte.
                self.engine.decode(buf, |frame| Ok(frame.len()))
            }

            fn max_wire_len(&self) -> usize {
                self.engine.max_wire_len()
            }
        }

        impl Encoder for $ty {
            /// Encodes `payload` as a whole frame (for KISS, its first byte
            /// is the port/command byte; see [`KissCodec::encode_frame`]).
            fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
                check_payload(&self.engine, payload)?;
                self.engine.encode(self.leading, &[payload], dst);
                Ok(())
            }

            /// The payload is transformed: always `Ok(None)`, or the size error.
            fn envelope(&mut self, payload: &[u8]) -> Result<Option<Envelope>, EncodeError> {
                check_payload(&self.engine, payload)?;
                Ok(None)
            }
        }

        impl Spec for $ty {
            const NAMES: &'static [&'static str] = $names;
            const EXAMPLES: &'static [&'static str] = $examples;

            fn from_spec(_name: &str, arg: Option<&str>) -> Result<Self, alloc::string::String> {
                no_arg(arg, $ty::new())
            }

            fn max_frame_length(&self) -> usize {
                self.engine.max
            }

            fn with_max_frame_length(&self, max: usize) -> Result<Self, ConfigError> {
                self.rebuild().max_frame_length(max).$build()
            }

            fn discards(&self) -> bool {
                self.engine.discard
            }

            fn with_discard(&self) -> Result<Self, alloc::string::String> {
                self.rebuild().discard(true).$build().map_err(|e| alloc::string::ToString::to_string(&e))
            }
        }
    };
}

stuffed_codec!(SlipCodec, build, &["slip"], &["slip", "slip,max=64,discard"]);

/// What the low nibble of a KISS port/command byte asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KissCommand {
    /// 0: a data frame for the radio.
    Data,
    /// 1: transmitter keyup delay, in 10 ms units.
    TxDelay,
    /// 2: the persistence parameter p.
    Persistence,
    /// 3: slot interval, in 10 ms units.
    SlotTime,
    /// 4: time to hold after the frame, in 10 ms units (obsolete).
    TxTail,
    /// 5: full (non-zero) or half duplex.
    FullDuplex,
    /// 6: hardware-specific.
    SetHardware,
    /// `FF`: leave KISS mode.
    Return,
    /// Any other value of the low nibble (7 to 15; 15 is valid only as `FF`).
    Unknown(u8),
}

/// A KISS port/command byte, split.
///
/// ```
/// use sockframe::codec::slip::{KissCommand, KissHeader};
///
/// assert_eq!(KissHeader::parse(0x00), KissHeader { port: 0, command: KissCommand::Data });
/// assert_eq!(KissHeader::parse(0x21), KissHeader { port: 2, command: KissCommand::TxDelay });
/// assert_eq!(KissHeader::parse(0xff).command, KissCommand::Return);
/// assert_eq!(KissHeader::parse(0x3f).command, KissCommand::Unknown(15));
/// for b in 0..=255u8 {
///     assert_eq!(KissHeader::parse(b).to_byte(), b);
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KissHeader {
    /// The TNC port, 0 to 15 (15 for `Return`).
    pub port: u8,
    /// The command.
    pub command: KissCommand,
}

impl KissHeader {
    /// Splits a port/command byte. Every byte value has a meaning; values
    /// KISS does not define come out as [`KissCommand::Unknown`].
    pub const fn parse(byte: u8) -> Self {
        let port = byte >> 4;
        let command = match byte & 0x0f {
            _ if byte == 0xff => KissCommand::Return,
            0 => KissCommand::Data,
            1 => KissCommand::TxDelay,
            2 => KissCommand::Persistence,
            3 => KissCommand::SlotTime,
            4 => KissCommand::TxTail,
            5 => KissCommand::FullDuplex,
            6 => KissCommand::SetHardware,
            n => KissCommand::Unknown(n),
        };
        KissHeader { port, command }
    }

    /// The byte on the wire (only the low nibble of the port is used).
    pub const fn to_byte(self) -> u8 {
        let cmd = match self.command {
            KissCommand::Data => 0,
            KissCommand::TxDelay => 1,
            KissCommand::Persistence => 2,
            KissCommand::SlotTime => 3,
            KissCommand::TxTail => 4,
            KissCommand::FullDuplex => 5,
            KissCommand::SetHardware => 6,
            KissCommand::Return => return 0xff,
            KissCommand::Unknown(n) => n & 0x0f,
        };
        // (Equivalent mutant: `^` for `|`, the two nibbles never overlap.)
        (self.port << 4) | cmd
    }
}

/// A KISS decoder and encoder: SLIP-style framing, payloads that start with
/// the port/command byte. See the [module docs](self).
///
/// ```
/// use bytes::BytesMut;
/// use sockframe::codec::slip::{KissCommand, KissHeader};
/// use sockframe::{Decoder, KissCodec};
///
/// let mut codec = KissCodec::new();
/// let mut wire = BytesMut::new();
/// codec.encode_frame(KissHeader { port: 1, command: KissCommand::Data }, b"\xc0hi", &mut wire)?;
/// assert_eq!(&wire[..], b"\xc0\x10\xdb\xdchi\xc0");
/// let frame = codec.decode_bytes(&mut wire)?.unwrap();
/// let (header, data) = KissCodec::split(&frame).unwrap();
/// assert_eq!((header.port, header.command, data), (1, KissCommand::Data, &b"\xc0hi"[..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KissCodec {
    engine: Escaped,
    leading: bool,
}

impl Default for KissCodec {
    fn default() -> Self {
        KissCodec::new()
    }
}

impl KissCodec {
    /// The default codec: 8 MiB maximum, leading FEND, strict.
    pub fn new() -> Self {
        KissCodec { engine: Escaped::new(END, ESC, STUFFING, DEFAULT_MAX_FRAME_LENGTH, 0), leading: true }
    }

    /// A builder ([`SlipBuilder::build_kiss`]) with the default settings.
    pub fn builder() -> SlipBuilder {
        // (Equivalent mutant: cargo-mutants' `Default::default()` is this.)
        SlipBuilder::default()
    }

    /// The maximum frame length (command byte included) in force.
    pub fn max_frame_length(&self) -> usize {
        self.engine.max
    }

    /// Splits a decoded frame into its header and data; `None` for an empty
    /// slice (the decoder never returns one).
    pub fn split(frame: &[u8]) -> Option<(KissHeader, &[u8])> {
        let (&b, data) = frame.split_first()?;
        Some((KissHeader::parse(b), data))
    }

    /// Encodes a frame of `header` and `data` (no copy of `data`).
    ///
    /// # Errors
    /// [`EncodeError::PayloadTooLarge`] if the frame is over the maximum.
    pub fn encode_frame(
        &mut self,
        header: KissHeader,
        data: &[u8],
        dst: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let len = data.len().saturating_add(1);
        if len > self.engine.max {
            return Err(EncodeError::PayloadTooLarge { len, max: self.engine.max });
        }
        self.engine.encode(self.leading, &[&[header.to_byte()], data], dst);
        Ok(())
    }
}

stuffed_codec!(KissCodec, build_kiss, &["kiss"], &["kiss", "kiss,max=40,discard"]);

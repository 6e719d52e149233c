//! A framing chosen at run time: [`Codec`] is any of the codecs in this crate,
//! parsed from a spec string so that tools can take it on the command line.
//!
//! # Spec grammar
//!
//! ```text
//! spec    = name [ ":" arg ] *( "," option )
//! name    = "len" | "varint" | "lines" | "delim" | "netstring" | "cobs" | "raw" | "fixed"
//! option  = "max=" BYTES          ; max frame length, decimal
//!         | "discard"             ; lines / delim: skip overlong lines (Overlong::Discard)
//! ```
//!
//! | spec | codec |
//! |---|---|
//! | `len` = `len:u32be` | [`LengthCodec`], 4-byte big-endian length |
//! | `len:u8`, `len:u16le`, `len:u24be`, ..., `len:u64be` | [`LengthCodec`] of that width and byte order |
//! | `varint` | [`VarintCodec`] (protobuf length-delimited) |
//! | `lines` | [`DelimitedCodec::lines`]: `\n`, trailing `\r` stripped |
//! | `delim:HEX` (`delim:00`, `delim:0d0a`) | [`DelimitedCodec::new`], 1 to 32 bytes, nothing stripped |
//! | `netstring` | [`NetstringCodec`] |
//! | `cobs` | [`CobsCodec`] |
//! | `raw` | [`RawCodec`] |
//! | `fixed:N` | [`FixedCodec`] of `N`-byte records (no `max`) |
//!
//! `Display` prints the canonical spec (`len` prints as `len:u32be`; `max`
//! only when it differs from the codec's default), and parsing it gives the
//! same codec back. Settings no spec can express (a length field offset,
//! an adjustment, accepting overlong varints, `\r` stripping with another
//! delimiter) are lost when printing a codec built by hand.
//!
//! ```
//! use sockframe::Codec;
//!
//! let codec: Codec = "len:u16le,max=1024".parse().unwrap();
//! assert_eq!(codec.max_frame_length(), 1024);
//! assert_eq!(codec.to_string(), "len:u16le,max=1024");
//! assert_eq!("len".parse::<Codec>().unwrap().to_string(), "len:u32be");
//!
//! let err = "json".parse::<Codec>().unwrap_err().to_string();
//! assert!(err.contains("valid forms"), "{err}");
//! ```

use alloc::format;
use alloc::string::ToString;
use core::fmt;
use core::str::FromStr;

use bytes::BytesMut;

use crate::codec::cobs::{self, CobsCodec};
use crate::codec::delimited::{self, DelimitedCodec, Overlong};
use crate::codec::length::{self, Endian, LengthCodec};
use crate::codec::netstring::{self, NetstringCodec};
use crate::codec::raw::{self, FixedCodec, RawCodec};
use crate::codec::varint::{self, VarintCodec};
use crate::codec::{Decoder, Encoder, Envelope, Frame};
use crate::error::{ConfigError, DecodeError, EncodeError};

/// The valid spec forms, as listed in errors.
pub const VALID_FORMS: &str = "len (= len:u32be), len:u8, len:u16be, len:u16le, len:u24be, ..., len:u64le, \
varint, lines, delim:HEX (1 to 32 bytes, e.g. delim:00, delim:0d0a), netstring, cobs, raw, fixed:N; \
optionally followed by ,max=BYTES (and ,discard for lines/delim)";

/// Any framing of this crate, chosen at run time. See the [module docs](self).
///
/// ```
/// use bytes::BytesMut;
/// use sockframe::{Codec, Decoder, Encoder};
///
/// for spec in ["len", "varint", "lines", "delim:0d0a", "netstring", "cobs"] {
///     let mut codec: Codec = spec.parse().unwrap();
///     let mut wire = BytesMut::new();
///     codec.encode(b"hi", &mut wire).unwrap();
///     assert_eq!(codec.decode_bytes(&mut wire).unwrap().unwrap(), "hi", "{spec}");
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Codec {
    /// `len...`
    Length(LengthCodec),
    /// `varint`
    Varint(VarintCodec),
    /// `lines`, `delim:HEX`
    Delimited(DelimitedCodec),
    /// `netstring`
    Netstring(NetstringCodec),
    /// `cobs`
    Cobs(CobsCodec),
    /// `raw`
    Raw(RawCodec),
    /// `fixed:N`
    Fixed(FixedCodec),
}

impl Default for Codec {
    /// `len:u32be`.
    fn default() -> Self {
        Codec::Length(LengthCodec::new())
    }
}

macro_rules! delegate {
    ($self:expr, $c:ident => $e:expr) => {
        match $self {
            Codec::Length($c) => $e,
            Codec::Varint($c) => $e,
            Codec::Delimited($c) => $e,
            Codec::Netstring($c) => $e,
            Codec::Cobs($c) => $e,
            Codec::Raw($c) => $e,
            Codec::Fixed($c) => $e,
        }
    };
}

macro_rules! from_codec {
    ($($t:ident => $v:ident),*) => {$(
        impl From<$t> for Codec {
            fn from(c: $t) -> Self {
                Codec::$v(c)
            }
        }
    )*};
}
from_codec!(LengthCodec => Length, VarintCodec => Varint, DelimitedCodec => Delimited,
    NetstringCodec => Netstring, CobsCodec => Cobs, RawCodec => Raw, FixedCodec => Fixed);

impl Codec {
    /// The maximum frame length in force (the record size for `fixed`).
    pub fn max_frame_length(&self) -> usize {
        match self {
            Codec::Length(c) => c.max_frame_length(),
            Codec::Varint(c) => c.max_frame_length(),
            Codec::Delimited(c) => c.max_frame_length(),
            Codec::Netstring(c) => c.max_frame_length(),
            Codec::Cobs(c) => c.max_frame_length(),
            Codec::Raw(c) => c.max_frame_length(),
            Codec::Fixed(c) => c.size(),
        }
    }

    /// The same framing with another maximum frame length (decoding state is
    /// reset). For `len`, only width and byte order carry over.
    ///
    /// ```
    /// use sockframe::Codec;
    ///
    /// let codec: Codec = "varint".parse().unwrap();
    /// let codec = codec.with_max_frame_length(100).unwrap();
    /// assert_eq!(codec.to_string(), "varint,max=100");
    /// ```
    ///
    /// # Errors
    /// The codec's builder errors, e.g. a maximum a `len:u8` field cannot
    /// express; [`ConfigError::Invalid`] for `fixed`.
    pub fn with_max_frame_length(self, max: usize) -> Result<Self, ConfigError> {
        Ok(match self {
            Codec::Length(c) => Codec::Length(
                LengthCodec::builder()
                    .width(c.width())
                    .endian(if c.is_big_endian() { Endian::Big } else { Endian::Little })
                    .max_frame_length(max)
                    .build()?,
            ),
            Codec::Varint(c) => Codec::Varint(
                VarintCodec::builder().allow_overlong(c.allows_overlong()).max_frame_length(max).build()?,
            ),
            Codec::Delimited(c) => Codec::Delimited(
                DelimitedCodec::builder()
                    .delimiter(c.delimiter())
                    .strip_cr(c.strips_cr())
                    .overlong(c.overlong())
                    .max_frame_length(max)
                    .build()?,
            ),
            Codec::Netstring(_) => Codec::Netstring(NetstringCodec::builder().max_frame_length(max).build()?),
            Codec::Cobs(_) => Codec::Cobs(CobsCodec::builder().max_frame_length(max).build()?),
            Codec::Raw(_) => Codec::Raw(RawCodec::with_max_frame_length(max)?),
            Codec::Fixed(_) => return Err(ConfigError::Invalid { reason: "fixed records have no max" }),
        })
    }

    /// The default maximum of this framing, as a spec without `max=` gets it.
    fn default_max(&self) -> Option<usize> {
        Some(match self {
            Codec::Length(c) => {
                let field_max = if c.width() >= 8 { u64::MAX } else { (1u64 << (8 * c.width())) - 1 };
                usize::try_from(field_max)
                    .map_or(length::DEFAULT_MAX_FRAME_LENGTH, |m| m.min(length::DEFAULT_MAX_FRAME_LENGTH))
            }
            Codec::Varint(_) => varint::DEFAULT_MAX_FRAME_LENGTH,
            Codec::Delimited(_) => delimited::DEFAULT_MAX_LINE_LENGTH,
            Codec::Netstring(_) => netstring::DEFAULT_MAX_FRAME_LENGTH,
            Codec::Cobs(_) => cobs::DEFAULT_MAX_FRAME_LENGTH,
            Codec::Raw(_) => raw::DEFAULT_MAX_CHUNK,
            Codec::Fixed(_) => return None,
        })
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Codec::Length(c) if c.width() == 1 => f.write_str("len:u8")?,
            Codec::Length(c) => {
                write!(f, "len:u{}{}", 8 * c.width(), if c.is_big_endian() { "be" } else { "le" })?;
            }
            Codec::Varint(_) => f.write_str("varint")?,
            Codec::Delimited(c) if c.is_lines() => f.write_str("lines")?,
            Codec::Delimited(c) => {
                f.write_str("delim:")?;
                for b in c.delimiter() {
                    write!(f, "{b:02x}")?;
                }
            }
            Codec::Netstring(_) => f.write_str("netstring")?,
            Codec::Cobs(_) => f.write_str("cobs")?,
            Codec::Raw(_) => f.write_str("raw")?,
            Codec::Fixed(c) => write!(f, "fixed:{}", c.size())?,
        }
        if self.default_max().is_some_and(|d| d != self.max_frame_length()) {
            write!(f, ",max={}", self.max_frame_length())?;
        }
        if let Codec::Delimited(c) = self {
            if c.overlong() == Overlong::Discard {
                f.write_str(",discard")?;
            }
        }
        Ok(())
    }
}

fn spec_error(spec: &str, reason: impl ToString) -> ConfigError {
    ConfigError::InvalidSpec { spec: spec.to_string(), reason: reason.to_string() }
}

fn parse_hex(hex: &str) -> Option<([u8; delimited::MAX_DELIMITER_LEN], usize)> {
    let bytes = hex.as_bytes();
    if bytes.is_empty() || bytes.len() % 2 != 0 || bytes.len() / 2 > delimited::MAX_DELIMITER_LEN {
        return None;
    }
    let mut out = [0u8; delimited::MAX_DELIMITER_LEN];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let s = core::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(s, 16).ok()?;
    }
    Some((out, bytes.len() / 2))
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

impl FromStr for Codec {
    type Err = ConfigError;

    /// Parses a spec; see the [module docs](self) for the grammar.
    ///
    /// # Errors
    /// [`ConfigError::InvalidSpec`], whose message lists the valid forms.
    fn from_str(spec: &str) -> Result<Self, ConfigError> {
        parse_spec(spec).map_err(|e| match e {
            e @ ConfigError::InvalidSpec { .. } => e,
            e => spec_error(spec, e),
        })
    }
}

fn parse_spec(spec: &str) -> Result<Codec, ConfigError> {
    let mut parts = spec.split(',');
    let head = parts.next().unwrap_or_default();
    let (name, arg) = match head.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (head, None),
    };
    let mut max = None;
    let mut discard = false;
    for opt in parts {
        if let Some(m) = opt.strip_prefix("max=") {
            if m.is_empty() || !m.bytes().all(|b| b.is_ascii_digit()) || max.is_some() {
                return Err(spec_error(spec, "max= takes one decimal number of bytes"));
            }
            max = Some(m.parse::<usize>().map_err(|_| spec_error(spec, "max= is too large"))?);
        } else if opt == "discard" && matches!(name, "lines" | "delim") && !discard {
            discard = true;
        } else {
            return Err(spec_error(spec, format!("unknown option {opt:?}")));
        }
    }
    let no_arg = |codec: Codec| match arg {
        None => Ok(codec),
        Some(_) => Err(spec_error(spec, format!("{name} takes no argument"))),
    };
    let codec = match name {
        "len" => {
            let (width, endian) = match arg {
                None => (4, Endian::Big),
                Some(a) => parse_len_arg(a).ok_or_else(|| {
                    spec_error(spec, format!("bad length field {a:?}, expected u8 or uNNbe/uNNle"))
                })?,
            };
            Codec::Length(LengthCodec::builder().width(width).endian(endian).build()?)
        }
        "varint" => no_arg(Codec::Varint(VarintCodec::new()))?,
        "lines" => no_arg(Codec::Delimited(DelimitedCodec::lines()))?,
        "delim" => {
            let a = arg.ok_or_else(|| spec_error(spec, "delim needs a hex delimiter, e.g. delim:0d0a"))?;
            let (bytes, n) = parse_hex(a)
                .ok_or_else(|| spec_error(spec, format!("bad hex delimiter {a:?} (1 to 32 bytes)")))?;
            Codec::Delimited(DelimitedCodec::new(bytes.get(..n).unwrap_or_default())?)
        }
        "netstring" => no_arg(Codec::Netstring(NetstringCodec::new()))?,
        "cobs" => no_arg(Codec::Cobs(CobsCodec::new()))?,
        "raw" => no_arg(Codec::Raw(RawCodec::new()))?,
        "fixed" => {
            let a = arg.ok_or_else(|| spec_error(spec, "fixed needs a record size, e.g. fixed:16"))?;
            let size = a
                .parse::<usize>()
                .ok()
                .filter(|_| a.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| spec_error(spec, format!("bad record size {a:?}")))?;
            if max.is_some() {
                return Err(spec_error(spec, "fixed takes no max"));
            }
            Codec::Fixed(FixedCodec::new(size)?)
        }
        _ => return Err(spec_error(spec, format!("unknown framing {name:?}"))),
    };
    let codec = match codec {
        Codec::Delimited(c) if discard => Codec::Delimited(
            DelimitedCodec::builder()
                .delimiter(c.delimiter())
                .strip_cr(c.strips_cr())
                .max_frame_length(c.max_frame_length())
                .overlong(Overlong::Discard)
                .build()?,
        ),
        c => c,
    };
    match max {
        Some(m) => codec.with_max_frame_length(m),
        None => Ok(codec),
    }
}

impl Decoder for Codec {
    #[inline]
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        delegate!(self, c => c.decode(buf))
    }

    fn decode_eof(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        delegate!(self, c => c.decode_eof(buf))
    }
}

impl Encoder for Codec {
    #[inline]
    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        delegate!(self, c => c.encode(payload, dst))
    }

    #[inline]
    fn envelope(&mut self, payload: &[u8]) -> Result<Option<Envelope>, EncodeError> {
        delegate!(self, c => c.envelope(payload))
    }
}

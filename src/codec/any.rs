//! A framing chosen at run time: [`Codec`] is any of the codecs in this crate,
//! parsed from a spec string so that tools can take it on the command line.
//!
//! # Spec grammar
//!
//! ```text
//! spec    = name [ ":" arg ] *( "," option )
//! name    = "len" | "varint" | "lines" | "delim" | "netstring" | "cobs" | "raw" | "fixed"
//!         | "slip" | "kiss" | "hdlc" | "sync"
//! option  = "max=" BYTES          ; max frame length (payload), decimal
//!         | "crc=" ALG [":be" | ":le"]  ; a CRC trailer on every frame (ChecksumCodec)
//!         | "discard"             ; skip bad frames instead of failing (lines, delim,
//!                                 ; cobs, slip, kiss, hdlc, sync, and with crc=)
//! ALG     = "crc16-ccitt-false" | "crc16-x25" | "crc16-xmodem" | "crc32" | "crc32c"
//! ```
//!
//! # Adding a framing
//!
//! A framing lives in its own file under `src/codec/` and implements
//! [`Decoder`], [`Encoder`] and [`Spec`] (its spec names, example specs,
//! parsing and printing). One line in [`for_each_codec!`](crate::for_each_codec)
//! then gives it a [`Codec`] variant, spec parsing, the tokio-util impls and
//! a place in the contract test suite.
//!
//! | spec | codec |
//! |---|---|
//! | `len` = `len:u32be` | [`LengthCodec`](crate::LengthCodec), 4-byte big-endian length |
//! | `len:u8`, `len:u16le`, `len:u24be`, ..., `len:u64be` | [`LengthCodec`](crate::LengthCodec) of that width and byte order |
//! | `varint` | [`VarintCodec`](crate::VarintCodec) (protobuf length-delimited) |
//! | `lines` | [`DelimitedCodec::lines`](crate::DelimitedCodec::lines): `\n`, trailing `\r` stripped |
//! | `delim:HEX` (`delim:00`, `delim:0d0a`) | [`DelimitedCodec::new`](crate::DelimitedCodec::new), 1 to 32 bytes, nothing stripped |
//! | `netstring` | [`NetstringCodec`](crate::NetstringCodec) |
//! | `cobs` | [`CobsCodec`](crate::CobsCodec) |
//! | `raw` | [`RawCodec`](crate::RawCodec) |
//! | `fixed:N` | [`FixedCodec`](crate::FixedCodec) of `N`-byte records (no `max`) |
//! | `slip` | [`SlipCodec`](crate::SlipCodec) (RFC 1055) |
//! | `kiss` | [`KissCodec`](crate::KissCodec) (KISS TNC frames, command byte first) |
//! | `hdlc` = `hdlc:fcs16`, `hdlc:fcs32` | [`HdlcCodec`](crate::HdlcCodec) (RFC 1662 async framing) |
//! | `sync`, `sync:HEX` (`sync:a55a`) | [`SyncCodec`](crate::SyncCodec), sync word of 1 to 8 bytes |
//! | `NAME,crc=ALG` (`len,crc=crc32c`, `cobs,crc=crc16-xmodem:le`) | [`ChecksumCodec`](crate::ChecksumCodec) over that framing; not for `lines`, `delim`, `raw`, `fixed` |
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

use alloc::string::{String, ToString};
use core::fmt;
use core::str::FromStr;

use bytes::BytesMut;

use crate::codec::{Decoder, Encoder, Envelope, Frame, SliceEncode};
use crate::error::{ConfigError, DecodeError, EncodeError};

/// A framing that can be named by a spec string (see [`Codec`]).
pub trait Spec: Sized + Decoder + Encoder {
    /// The spec names this framing answers to (`"len"`, or `"lines"` and `"delim"`).
    const NAMES: &'static [&'static str];
    /// Representative specs, used by the contract test suite: every framing
    /// is tested in each of these configurations.
    const EXAMPLES: &'static [&'static str];
    /// Whether decoded frames are the encoder's payloads. `false` for a
    /// framing of a plain byte stream (raw), whose frames are wherever reads
    /// ended: only the concatenation of the bytes is preserved.
    const PRESERVES_BOUNDARIES: bool = true;

    /// Builds the framing named `name` with its `:arg`; the common options
    /// (`max=`, `discard`) are applied afterwards.
    ///
    /// # Errors
    /// Why the argument is not valid.
    fn from_spec(name: &str, arg: Option<&str>) -> Result<Self, String>;

    /// Writes `name[:arg]`, the part of the spec before the options. The
    /// default writes the first of [`NAMES`](Spec::NAMES), for framings that
    /// take no argument.
    ///
    /// # Errors
    /// As the formatter.
    fn fmt_spec(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::NAMES.first().copied().unwrap_or_default())
    }

    /// The maximum frame length in force (the record size for `fixed`).
    fn max_frame_length(&self) -> usize;

    /// The maximum a spec without `max=` gets; `None` if the framing takes
    /// no `max=` option. The default is
    /// [`DEFAULT_MAX_FRAME_LENGTH`](crate::limits::DEFAULT_MAX_FRAME_LENGTH).
    fn default_max(&self) -> Option<usize> {
        Some(crate::limits::DEFAULT_MAX_FRAME_LENGTH)
    }

    /// The same framing with another maximum (decoding state is reset).
    ///
    /// # Errors
    /// The builder's error, e.g. a maximum the length field cannot express.
    fn with_max_frame_length(&self, max: usize) -> Result<Self, ConfigError>;

    /// Whether this framing skips bad input (`,discard`) instead of failing.
    fn discards(&self) -> bool {
        false
    }

    /// The same framing in skip mode (`,discard`).
    ///
    /// # Errors
    /// When the framing has no skip mode.
    fn with_discard(&self) -> Result<Self, String> {
        Err("takes no discard option".to_string())
    }
}

/// For [`Spec::from_spec`] of a framing that takes no `:arg`.
pub(crate) fn no_arg<T>(arg: Option<&str>, codec: T) -> Result<T, String> {
    match arg {
        None => Ok(codec),
        Some(_) => Err("takes no argument".to_string()),
    }
}

/// Calls `$callback! { (Variant, Type), ... }` with every framing of the
/// crate: the one list that [`Codec`], spec parsing, the tokio-util impls and
/// the contract test suite are generated from.
///
/// ```
/// macro_rules! names {
///     ($(($variant:ident, $ty:ty)),* $(,)?) => {
///         [$(stringify!($variant)),*]
///     };
/// }
/// let names = sockframe::for_each_codec!(names);
/// assert!(names.contains(&"Length") && names.contains(&"Cobs"));
/// ```
#[macro_export]
macro_rules! for_each_codec {
    ($callback:ident) => {
        $callback! {
            (Length, $crate::codec::length::LengthCodec),
            (Varint, $crate::codec::varint::VarintCodec),
            (Delimited, $crate::codec::delimited::DelimitedCodec),
            (Netstring, $crate::codec::netstring::NetstringCodec),
            (Cobs, $crate::codec::cobs::CobsCodec),
            (Raw, $crate::codec::raw::RawCodec),
            (Fixed, $crate::codec::raw::FixedCodec),
            (Slip, $crate::codec::slip::SlipCodec),
            (Kiss, $crate::codec::slip::KissCodec),
            (Hdlc, $crate::codec::hdlc::HdlcCodec),
            (Sync, $crate::codec::sync::SyncCodec),
            (Checked, $crate::codec::checksum::CheckedCodec),
        }
    };
}

macro_rules! define_codec {
    ($(($variant:ident, $ty:ty)),* $(,)?) => {
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
            $(
                #[doc = concat!("[`", stringify!($ty), "`]")]
                $variant($ty),
            )*
        }

        $(
            impl From<$ty> for Codec {
                fn from(c: $ty) -> Self {
                    Codec::$variant(c)
                }
            }
        )*

        macro_rules! delegate {
            ($self:expr, $c:ident => $e:expr) => {
                match $self {
                    $(Codec::$variant($c) => $e,)*
                }
            };
        }

        /// Builds the framing that answers to `name`, if any does.
        fn from_name(name: &str, arg: Option<&str>) -> Option<Result<Codec, String>> {
            $(
                if <$ty as Spec>::NAMES.contains(&name) {
                    return Some(<$ty as Spec>::from_spec(name, arg).map(Codec::$variant));
                }
            )*
            None
        }

        impl Codec {
            /// Representative specs of every framing (each framing's
            /// [`Spec::EXAMPLES`]).
            pub fn examples() -> impl Iterator<Item = &'static str> {
                [$(<$ty as Spec>::EXAMPLES),*].into_iter().flatten().copied()
            }
        }
    };
}

for_each_codec!(define_codec);

/// The valid spec forms, as listed in errors.
pub const VALID_FORMS: &str = "len (= len:u32be), len:u8, len:u16be, len:u16le, len:u24be, ..., len:u64le, \
varint, lines, delim:HEX (1 to 32 bytes, e.g. delim:00, delim:0d0a), netstring, cobs, raw, fixed:N, \
slip, kiss, hdlc (= hdlc:fcs16), hdlc:fcs32, sync, sync:HEX (1 to 8 bytes); \
optionally followed by ,max=BYTES, ,crc=ALG[:be|:le] (crc16-ccitt-false, crc16-x25, crc16-xmodem, crc32, crc32c) \
and ,discard (lines, delim, slip, kiss, hdlc, sync, and any framing with crc=)";

impl Default for Codec {
    /// `len:u32be`.
    fn default() -> Self {
        Codec::Length(crate::codec::length::LengthCodec::new())
    }
}

impl Codec {
    /// The maximum frame length in force (the record size for `fixed`).
    pub fn max_frame_length(&self) -> usize {
        // `Spec::` explicitly: several codecs have inherent methods of the
        // same names, which method resolution would pick instead.
        delegate!(self, c => Spec::max_frame_length(c))
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
        Ok(delegate!(&self, c => Spec::with_max_frame_length(c, max)?.into()))
    }

    /// Whether this framing skips bad input (`,discard`) instead of failing.
    pub fn discards(&self) -> bool {
        delegate!(self, c => Spec::discards(c))
    }

    /// The maximum a spec without `max=` gets ([`Spec::default_max`]).
    pub(crate) fn default_max(&self) -> Option<usize> {
        delegate!(self, c => Spec::default_max(c))
    }

    /// The same framing in discard mode ([`Spec::with_discard`]).
    pub(crate) fn with_discard(&self) -> Result<Self, String> {
        delegate!(self, c => Spec::with_discard(c).map(Codec::from))
    }

    /// The spec before its `max=` and `discard` options ([`Spec::fmt_spec`]).
    pub(crate) fn fmt_head(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        delegate!(self, c => Spec::fmt_spec(c, f))
    }

    /// Whether decoded frames are the encoder's payloads
    /// ([`Spec::PRESERVES_BOUNDARIES`]; `false` for `raw`).
    pub fn preserves_boundaries(&self) -> bool {
        fn of<T: Spec>(_: &T) -> bool {
            T::PRESERVES_BOUNDARIES
        }
        delegate!(self, c => of(c))
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        delegate!(self, c => {
            Spec::fmt_spec(c, f)?;
            if Spec::default_max(c).is_some_and(|d| d != Spec::max_frame_length(c)) {
                write!(f, ",max={}", Spec::max_frame_length(c))?;
            }
            if Spec::discards(c) {
                f.write_str(",discard")?;
            }
            Ok(())
        })
    }
}

fn spec_error(spec: &str, reason: impl fmt::Display) -> ConfigError {
    ConfigError::InvalidSpec {
        spec: spec.to_string(),
        reason: alloc::format!("{reason}; valid forms: {VALID_FORMS}"),
    }
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
    let mut crc = None;
    for opt in parts {
        if let Some(c) = opt.strip_prefix("crc=") {
            if crc.is_some() {
                return Err(spec_error(spec, "crc= given twice"));
            }
            crc = Some(c.parse::<crate::codec::checksum::Checksum>().map_err(|e| spec_error(spec, e))?);
        } else if let Some(m) = opt.strip_prefix("max=") {
            if m.is_empty() || !m.bytes().all(|b| b.is_ascii_digit()) || max.is_some() {
                return Err(spec_error(spec, "max= takes one decimal number of bytes"));
            }
            max = Some(m.parse::<usize>().map_err(|_| spec_error(spec, "max= is too large"))?);
        } else if opt == "discard" && !discard {
            discard = true;
        } else {
            return Err(spec_error(spec, alloc::format!("unknown option {opt:?}")));
        }
    }
    let with_name = |reason: String| spec_error(spec, alloc::format!("{name}: {reason}"));
    let codec = from_name(name, arg)
        .ok_or_else(|| spec_error(spec, alloc::format!("unknown framing {name:?}")))?
        .map_err(with_name)?;
    let codec = match crc {
        Some(c) => Codec::Checked(crate::codec::checksum::CheckedCodec::with_spec_codec(codec, c)?),
        None => codec,
    };
    let codec = match max {
        Some(_) if codec.default_max().is_none() => return Err(with_name("takes no max".to_string())),
        Some(m) => codec.with_max_frame_length(m)?,
        None => codec,
    };
    if discard {
        return delegate!(&codec, c => Spec::with_discard(c).map(Codec::from).map_err(with_name));
    }
    Ok(codec)
}

impl Decoder for Codec {
    #[inline]
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        delegate!(self, c => c.decode(buf))
    }

    fn decode_eof(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        delegate!(self, c => c.decode_eof(buf))
    }

    fn max_wire_len(&self) -> usize {
        delegate!(self, c => c.max_wire_len())
    }

    fn frame_len_hint(&self, buf: &[u8]) -> Option<usize> {
        delegate!(self, c => c.frame_len_hint(buf))
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

    #[inline]
    fn encode_to_slice(&mut self, payload: &[u8], dst: &mut [u8]) -> Result<SliceEncode, EncodeError> {
        delegate!(self, c => c.encode_to_slice(payload, dst))
    }
}

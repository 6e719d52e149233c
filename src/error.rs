//! Error types.
//!
//! Bad input from the peer and misuse of the API are different types:
//!
//! * [`DecodeError`]: the bytes on the wire violate the framing. The stream is
//!   corrupt after one of these; frames decoded before it remain valid.
//! * [`EncodeError`]: a payload this framing cannot carry. Nothing was written.
//! * [`ConfigError`]: a builder was asked for something impossible.

/// The peer sent bytes that violate the framing.
///
/// After a `DecodeError` the decoder's position in the stream is unknown, so the
/// stream should be dropped (delimiter codecs document a recovery mode as an
/// exception). Every frame returned before the error is complete and valid.
///
/// ```
/// use sockframe::{DecodeError, Decoder, LengthCodec};
///
/// let mut codec = LengthCodec::new();
/// let mut wire = *b"\xff\xff\xff\xff";
/// assert_eq!(
///     codec.decode(&mut wire),
///     Err(DecodeError::FrameTooLarge { declared: 0xffff_ffff, max: 8 * 1024 * 1024 })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame header declared a length above the configured maximum.
    /// Reported as soon as the header is complete, before any payload is buffered.
    #[error("frame of {declared} bytes exceeds the maximum of {max} bytes")]
    FrameTooLarge {
        /// The length the peer declared (as read from the wire).
        declared: u64,
        /// The configured maximum.
        max: usize,
    },
    /// The stream ended inside a frame.
    #[error("stream ended inside a frame with {pending} bytes pending")]
    Truncated {
        /// Bytes received for the incomplete frame and discarded.
        pending: usize,
    },
    /// Applying the configured length adjustment to the declared length
    /// overflowed or went below zero.
    #[error("declared length {declared} with adjustment {adjustment} is out of range")]
    LengthAdjustment {
        /// The length the peer declared.
        declared: u64,
        /// The configured adjustment.
        adjustment: i64,
    },
    /// A variable-length integer was longer than its type allows, overflowed,
    /// or (where rejected by policy) was not minimally encoded.
    #[error("malformed length: {reason}")]
    MalformedLength {
        /// What was wrong with it.
        reason: &'static str,
    },
    /// No delimiter arrived within the maximum frame length.
    #[error("no delimiter within the maximum of {max} bytes")]
    DelimiterNotFound {
        /// The configured maximum.
        max: usize,
    },
    /// The framing bytes are invalid (a bad terminator, a bad code byte, ...).
    #[error("invalid framing at byte {offset} of the frame: {reason}")]
    InvalidFraming {
        /// Offset within the frame where the problem was found.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A frame was not valid UTF-8 where text was required.
    #[error("frame is not valid UTF-8 (valid up to byte {valid_up_to})")]
    InvalidUtf8 {
        /// Length of the valid UTF-8 prefix of the frame.
        valid_up_to: usize,
    },
}

/// A payload this framing cannot carry. The output buffer is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The payload is longer than the configured maximum or than the length
    /// field can express.
    #[error("payload of {len} bytes exceeds the maximum of {max} bytes")]
    PayloadTooLarge {
        /// The payload length.
        len: usize,
        /// The largest payload this encoder accepts.
        max: usize,
    },
    /// The payload is shorter than a positive length adjustment allows.
    #[error("payload of {len} bytes is shorter than the length adjustment {adjustment}")]
    PayloadTooSmall {
        /// The payload length.
        len: usize,
        /// The configured adjustment.
        adjustment: i64,
    },
    /// The payload contains the frame delimiter and the framing has no escaping.
    #[error("payload contains the delimiter at byte {offset}")]
    ContainsDelimiter {
        /// Offset of the first delimiter in the payload.
        offset: usize,
    },
    /// The framing carries payloads of exactly one length (fixed-size records).
    #[error("payload of {len} bytes, but records are {expected} bytes")]
    WrongLength {
        /// The payload length.
        len: usize,
        /// The record size.
        expected: usize,
    },
}

/// A builder was given settings that cannot work together.
///
/// ```
/// use sockframe::{ConfigError, LengthCodec};
///
/// assert!(matches!(
///     LengthCodec::builder().width(0).build(),
///     Err(ConfigError::InvalidWidth { width: 0 })
/// ));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A length field must be 1 to 8 bytes wide.
    #[error("length field width {width} is not between 1 and 8 bytes")]
    InvalidWidth {
        /// The requested width.
        width: usize,
    },
    /// The maximum frame length cannot be expressed by the length field.
    #[error("max frame length {max} cannot be expressed by the length field (largest: {limit})")]
    MaxTooLarge {
        /// The requested maximum.
        max: usize,
        /// The largest maximum the field can express.
        limit: u64,
    },
    /// Header sizes or the length adjustment overflow.
    #[error("header layout overflows: {reason}")]
    Overflow {
        /// Which quantity overflowed.
        reason: &'static str,
    },
    /// A setting is outside its allowed range.
    #[error("invalid setting: {reason}")]
    Invalid {
        /// What is wrong.
        reason: &'static str,
    },
    /// A framing spec string (see `Codec`'s `FromStr`) could not be parsed.
    #[error("invalid framing spec {spec:?}: {reason}; valid forms: {}", crate::codec::any::VALID_FORMS)]
    InvalidSpec {
        /// The spec as given.
        spec: alloc::string::String,
        /// What is wrong with it.
        reason: alloc::string::String,
    },
}

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
    /// A frame's checksum (a CRC trailer, an HDLC FCS) does not match its
    /// contents: the bytes were corrupted on the way.
    #[error("checksum mismatch: computed {expected:#x}, frame carries {received:#x}")]
    ChecksumMismatch {
        /// The checksum computed over the received contents.
        expected: u32,
        /// The checksum the frame carries.
        received: u32,
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
    /// The framing cannot carry an empty payload: SLIP, KISS and HDLC-style
    /// decoders drop empty frames as idle fill between delimiters.
    #[error("this framing cannot carry an empty payload")]
    EmptyPayload,
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
    #[error("invalid framing spec {spec:?}: {reason}")]
    InvalidSpec {
        /// The spec as given.
        spec: alloc::string::String,
        /// What is wrong with it, and the valid forms.
        reason: alloc::string::String,
    },
}

#[cfg(feature = "std")]
pub use self::transport::{TimeoutKind, TransportError};

#[cfg(feature = "std")]
mod transport {
    use std::io;

    use super::{DecodeError, EncodeError};

    /// Which clock ran out in a [`TransportError::Timeout`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum TimeoutKind {
        /// A frame that had started arriving was not complete within the
        /// per-frame deadline (BAD_INPUTS T4: a slowloris peer).
        FrameDeadline,
        /// No byte arrived at a frame boundary for the idle timeout.
        Idle,
        /// The socket's own read timeout (`set_read_timeout`) expired; on Unix
        /// the OS reports it as `WouldBlock`, elsewhere as `TimedOut` (T5).
        Read,
        /// The socket's own write timeout expired (the peer does not read).
        Write,
    }

    impl core::fmt::Display for TimeoutKind {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str(match self {
                TimeoutKind::FrameDeadline => "frame deadline",
                TimeoutKind::Idle => "idle",
                TimeoutKind::Read => "read",
                TimeoutKind::Write => "write",
            })
        }
    }

    /// What went wrong moving frames over a `Read + Write` stream.
    ///
    /// Errors say what happened to the bytes involved. Unless stated
    /// otherwise, nothing buffered is lost: a [`Timeout`](Self::Timeout),
    /// [`Full`](Self::Full) or [`WriteZero`](Self::WriteZero) leaves the
    /// transport in a state where the same call can be retried.
    ///
    /// ```
    /// use std::io;
    /// use sockframe::TransportError;
    ///
    /// let e = TransportError::from(io::Error::from(io::ErrorKind::PermissionDenied));
    /// assert!(matches!(e, TransportError::Io(_)));
    /// assert_eq!(TransportError::Full { queued: 10, cap: 8 }.to_string(), "send queue full: 10 bytes queued, cap 8");
    /// ```
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum TransportError {
        /// The peer's bytes violate the framing; the stream is corrupt. Ending
        /// inside a frame is `Decode(DecodeError::Truncated { pending })`.
        #[error(transparent)]
        Decode(#[from] DecodeError),
        /// The payload cannot be carried by this framing; nothing was queued.
        #[error(transparent)]
        Encode(#[from] EncodeError),
        /// The connection was reset (or aborted) while part of a frame was
        /// buffered; those bytes are lost (BAD_INPUTS T2).
        #[error("connection reset with {discarded} bytes of an incomplete frame discarded")]
        ResetMidFrame {
            /// Bytes of the incomplete frame that were received and discarded.
            discarded: usize,
            /// The error the socket reported.
            #[source]
            source: io::Error,
        },
        /// A deadline or a socket timeout expired. Buffered bytes are kept; the
        /// call may be retried (a frame deadline keeps firing until the frame
        /// completes).
        #[error("{kind} timeout with {buffered} bytes buffered")]
        Timeout {
            /// Which clock ran out.
            kind: TimeoutKind,
            /// Bytes buffered in the direction that timed out (received bytes
            /// of an incomplete frame, or queued bytes not yet written).
            buffered: usize,
        },
        /// The stream accepted zero bytes (`Ok(0)` from `write`).
        #[error("write accepted zero bytes with {unsent} bytes unsent")]
        WriteZero {
            /// Bytes still queued.
            unsent: usize,
        },
        /// The send queue is at its cap (backpressure, BAD_INPUTS E6). Not
        /// fatal: write some bytes out (`try_flush`) and queue the frame again.
        #[error("send queue full: {queued} bytes queued, cap {cap}")]
        Full {
            /// Bytes queued now.
            queued: usize,
            /// The configured cap.
            cap: usize,
        },
        /// The peer is gone (`BrokenPipe`, `ConnectionReset`, ...) while bytes
        /// were being sent; `unsent` of them never reached the socket (E7).
        #[error("peer closed the connection; {unsent} bytes were not sent")]
        SendFailed {
            /// Bytes accepted by `send`/`queue` that were not written.
            unsent: usize,
            /// The error the socket reported.
            #[source]
            source: io::Error,
        },
        /// A frame does not fit in the receive buffer's cap. The stream cannot
        /// make progress; raise the cap to at least the codec's largest frame.
        #[error("receive buffer full at its cap of {cap} bytes without a complete frame")]
        RecvBufferFull {
            /// The configured cap.
            cap: usize,
        },
        /// Any other I/O error.
        #[error(transparent)]
        Io(#[from] io::Error),
    }
}

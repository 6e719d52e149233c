//! Limits and defaults shared by every framing.
//!
//! One home for them, so that codecs, the transport and tools agree. Every
//! limit has a finite default; [`NO_LIMIT`] is the explicit way to ask for
//! "as large as memory allows" where a builder takes a maximum.

/// The largest maximum frame length any builder accepts: `isize::MAX`, the
/// most a Rust allocation can hold. Pass it to `max_frame_length` to ask for
/// no practical limit.
///
/// ```
/// use sockframe::{limits::NO_LIMIT, DelimitedCodec};
///
/// let codec = DelimitedCodec::builder().max_frame_length(NO_LIMIT).build().unwrap();
/// assert_eq!(codec.max_frame_length(), NO_LIMIT);
/// assert!(DelimitedCodec::builder().max_frame_length(NO_LIMIT + 1).build().is_err());
/// ```
pub const NO_LIMIT: usize = isize::MAX as usize;

/// Default maximum frame length of the length-prefix, varint, netstring and
/// COBS framings: 8 MiB, as in tokio-util's `LengthDelimitedCodec`.
pub const DEFAULT_MAX_FRAME_LENGTH: usize = 8 * 1024 * 1024;

/// Default maximum line length of the delimiter framing: 64 KiB.
pub const DEFAULT_MAX_LINE_LENGTH: usize = 64 * 1024;

/// Default largest chunk the raw codec returns: 64 KiB.
pub const DEFAULT_MAX_CHUNK: usize = 64 * 1024;

/// Longest delimiter the delimiter framing accepts. A wire parameter: it does
/// not depend on any buffer size of the transport.
pub const MAX_DELIMITER_LEN: usize = 32;

/// The largest value a length field of `width` bytes (1 to 8) holds.
///
/// ```
/// use sockframe::limits::field_max;
///
/// assert_eq!(field_max(1), 255);
/// assert_eq!(field_max(3), 0xff_ffff);
/// assert_eq!(field_max(8), u64::MAX);
/// ```
pub const fn field_max(width: usize) -> u64 {
    if width >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * width)) - 1
    }
}

/// The default maximum of a length field of `width` bytes:
/// [`DEFAULT_MAX_FRAME_LENGTH`], or less if the field cannot express it
/// (given the length adjustment `adjustment`).
///
/// ```
/// use sockframe::limits::{default_length_max, DEFAULT_MAX_FRAME_LENGTH};
///
/// assert_eq!(default_length_max(1, 0), 255);
/// assert_eq!(default_length_max(4, 0), DEFAULT_MAX_FRAME_LENGTH);
/// ```
pub const fn default_length_max(width: usize, adjustment: i64) -> usize {
    let limit = field_max(width).saturating_add_signed(adjustment);
    if limit < DEFAULT_MAX_FRAME_LENGTH as u64 {
        limit as usize
    } else {
        DEFAULT_MAX_FRAME_LENGTH
    }
}

/// Bytes one read may add to a receive buffer, beyond the largest frame:
/// the transport's receive buffer cap defaults to a codec's
/// [`max_wire_len`](crate::Decoder::max_wire_len) plus this.
pub const READ_CHUNK: usize = 64 * 1024;

//! Sync-word framing: a length-prefixed binary framing that recovers from
//! corrupt, dropped and inserted bytes.
//!
//! ```text
//! EB 90 | 00 05 | 36 a9 | 68 65 6c 6c 6f | 4c bb 71 9a
//! sync    length  header  payload          CRC-32C of the payload
//!         (u16 BE) check                   (least significant byte first)
//! ```
//!
//! * **Sync word**: 1 to 8 bytes (default `EB 90`) that start every frame.
//! * **Length**: the payload length, big-endian, 1, 2 (default) or 4 bytes.
//! * **Header check**: CRC-16/CCITT-FALSE of the sync word and the length
//!   field, big-endian.
//!   A corrupt length is caught here, before the decoder waits for or
//!   trusts a length that was never sent.
//! * **Payload**, then its **CRC** ([`Checksum`], default CRC-32C).
//!
//! # Recovering (discard mode, `,discard`)
//! Strict mode fails on the first bad byte, like the other length framings.
//! In discard mode the decoder skips what does not check out and goes on,
//! as skip frames ([`SkipReason::Corrupt`]; one region per run of bad bytes):
//!
//! * bytes before a sync word are dropped (the search runs a word at a time
//!   and never looks at a byte twice);
//! * a header that fails its check, or declares more than the maximum,
//!   drops one byte and the search for the next sync word goes on from there
//!   (the sync word may have been a chance match inside a payload);
//! * a frame whose header checks out but whose payload CRC does not drops
//!   one byte, and the search resumes inside it: if bytes were dropped from
//!   the frame, the next frame's sync word starts there, and no good frame
//!   is lost. The search never looks at a byte twice; payload CRCs may
//!   overlap only while fewer than five failed frames nest inside one
//!   another (beyond that, only crafted input, the outermost is skipped
//!   whole), so each byte is covered by at most five: linear work.
//! * a chance header inside a payload (sync word, length and check all
//!   valid: about one in 2^16 positions that hold the sync word) makes the
//!   decoder wait for its length; the frames behind it come out once that
//!   many bytes have arrived, or at the end of the stream.
//!
//! ```
//! use sockframe::{Codec, Decoder, Encoder, Frames};
//!
//! let mut codec: Codec = "sync,discard".parse()?;
//! let mut wire = bytes::BytesMut::new();
//! for p in [&b"one"[..], b"two", b"three"] {
//!     codec.encode(p, &mut wire)?;
//! }
//! wire[7] ^= 0xff; // corrupt "one"
//! let mut buf = wire.to_vec();
//! let mut frames = Frames::new(&mut codec, &mut buf);
//! let got: Vec<&[u8]> = frames.by_ref().collect::<Result<_, _>>()?;
//! assert_eq!(got, [&b"two"[..], b"three"]);
//! assert_eq!(frames.skipped().regions, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use bytes::{BufMut, BytesMut};

use crate::codec::any::Spec;
use crate::codec::checksum::{Checksum, CrcAlgorithm};
use crate::codec::{slice_enveloped, Decoder, Encoder, Envelope, Frame, SkipReason, SliceEncode};
use crate::error::{ConfigError, DecodeError, EncodeError};

/// The default sync word.
pub const DEFAULT_SYNC: [u8; 2] = [0xEB, 0x90];
/// The longest sync word.
pub const MAX_SYNC_LEN: usize = 8;

const HEADER_CHECK: CrcAlgorithm = CrcAlgorithm::Crc16CcittFalse;

/// Failed frames that may overlap before the decoder stops looking inside
/// them: each byte is covered by at most this many + 1 payload CRCs.
const MAX_NESTED: u32 = 4;

/// Configures a [`SyncCodec`].
///
/// ```
/// use sockframe::codec::checksum::{Checksum, CrcAlgorithm};
/// use sockframe::SyncCodec;
///
/// let codec = SyncCodec::builder()
///     .sync_word(b"\x7e\x7e\x55")
///     .length_width(4)
///     .max_frame_length(1 << 20)
///     .checksum(Checksum::new(CrcAlgorithm::Crc32))
///     .build()?;
/// assert_eq!(codec.sync_word(), b"\x7e\x7e\x55");
/// assert!(SyncCodec::builder().length_width(1).max_frame_length(256).build().is_err());
/// # Ok::<(), sockframe::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct SyncBuilder {
    sync: [u8; MAX_SYNC_LEN],
    sync_len: usize,
    width: usize,
    max: Option<usize>,
    checksum: Checksum,
    discard: bool,
}

impl Default for SyncBuilder {
    fn default() -> Self {
        let mut sync = [0; MAX_SYNC_LEN];
        sync[..2].copy_from_slice(&DEFAULT_SYNC);
        SyncBuilder {
            sync,
            sync_len: 2,
            width: 2,
            max: None,
            checksum: Checksum::new(CrcAlgorithm::Crc32c),
            discard: false,
        }
    }
}

impl SyncBuilder {
    /// The sync word, 1 to 8 bytes. Default `EB 90`. Longer words make
    /// chance matches inside payloads rarer.
    pub fn sync_word(mut self, word: &[u8]) -> Self {
        self.sync_len = word.len();
        if let Some(dst) = self.sync.get_mut(..word.len()) {
            dst.copy_from_slice(word);
        }
        self
    }

    /// Bytes of the length field: 1, 2 (default) or 4.
    pub fn length_width(mut self, width: usize) -> Self {
        self.width = width;
        self
    }

    /// Largest payload, inclusive. Default: the most the length field holds
    /// (65,535 for two bytes), and at most 8 MiB.
    pub fn max_frame_length(mut self, max: usize) -> Self {
        self.max = Some(max);
        self
    }

    /// The payload checksum. Default CRC-32C.
    pub fn checksum(mut self, checksum: Checksum) -> Self {
        self.checksum = checksum;
        self
    }

    /// Skip what does not check out and resynchronise (see the module
    /// docs) instead of failing. Default `false`.
    pub fn discard(mut self, discard: bool) -> Self {
        self.discard = discard;
        self
    }

    /// Builds the codec.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a sync word of 0 or more than 8 bytes,
    /// [`ConfigError::InvalidWidth`] for a width other than 1, 2 or 4,
    /// [`ConfigError::MaxTooLarge`] for a maximum the field cannot express.
    pub fn build(self) -> Result<SyncCodec, ConfigError> {
        if self.sync_len == 0 || self.sync_len > MAX_SYNC_LEN {
            return Err(ConfigError::Invalid { reason: "sync word must be 1 to 8 bytes" });
        }
        if !matches!(self.width, 1 | 2 | 4) {
            return Err(ConfigError::InvalidWidth { width: self.width });
        }
        let limit = crate::limits::field_max(self.width);
        let max = self.max.unwrap_or_else(|| {
            usize::try_from(limit).unwrap_or(usize::MAX).min(crate::limits::DEFAULT_MAX_FRAME_LENGTH)
        });
        if max as u64 > limit {
            return Err(ConfigError::MaxTooLarge { max, limit });
        }
        Ok(SyncCodec {
            sync: self.sync,
            sync_len: self.sync_len,
            width: self.width,
            max,
            checksum: self.checksum,
            discard: self.discard,
            in_region: false,
            nested: 0,
            failed_until: 0,
            failed: None,
        })
    }
}

/// A sync-word framing decoder and encoder. See the [module docs](self).
///
/// ```
/// use bytes::BytesMut;
/// use sockframe::{Decoder, Encoder, SyncCodec};
///
/// let mut codec = SyncCodec::new();
/// let mut wire = BytesMut::new();
/// codec.encode(b"hello", &mut wire)?;
/// assert_eq!(&wire[..], b"\xeb\x90\x00\x05\x36\xa9hello\x4c\xbb\x71\x9a");
/// assert_eq!(codec.decode_bytes(&mut wire)?.unwrap(), "hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCodec {
    sync: [u8; MAX_SYNC_LEN],
    sync_len: usize,
    width: usize,
    max: usize,
    checksum: Checksum,
    discard: bool,
    // Skipping a run of bad bytes (the next skip continues its region).
    in_region: bool,
    // Discard mode: candidates whose payload CRC failed, overlapping one
    // another, and how far (from the front of the buffer) the outermost
    // reaches. Bounds the CRC work per byte (see MAX_NESTED).
    nested: u32,
    failed_until: usize,
    failed: Option<DecodeError>,
}

impl Default for SyncCodec {
    fn default() -> Self {
        SyncCodec::new()
    }
}

impl SyncCodec {
    /// The default codec: sync `EB 90`, 2-byte length, CRC-32C, strict.
    pub fn new() -> Self {
        match SyncCodec::builder().build() {
            Ok(c) => c,
            // The default configuration is valid (tested).
            Err(_) => unreachable!("the default sync configuration is valid"),
        }
    }

    /// A builder with the default settings.
    pub fn builder() -> SyncBuilder {
        // (Equivalent mutant: cargo-mutants' `Default::default()` is this.)
        SyncBuilder::default()
    }

    /// The sync word.
    pub fn sync_word(&self) -> &[u8] {
        self.sync.get(..self.sync_len).unwrap_or_default()
    }

    /// The maximum payload length in force (inclusive).
    pub fn max_frame_length(&self) -> usize {
        self.max
    }

    /// Sync word, length field and header check.
    fn header_len(&self) -> usize {
        self.sync_len + self.width + 2
    }

    fn rebuild(&self) -> SyncBuilder {
        SyncCodec::builder()
            .sync_word(self.sync_word())
            .length_width(self.width)
            .max_frame_length(self.max)
            .checksum(self.checksum)
            .discard(self.discard)
    }

    #[cold]
    fn fail(&mut self, e: DecodeError) -> DecodeError {
        self.failed = Some(e);
        e
    }

    /// Drops `n` bad bytes (discard mode), continuing the current region.
    fn skip(&mut self, n: usize) -> Frame {
        let first = !self.in_region;
        self.in_region = true;
        self.failed_until = self.failed_until.saturating_sub(n);
        if self.failed_until == 0 {
            self.nested = 0;
        }
        Frame::skipped(n, SkipReason::Corrupt, first)
    }

    /// Where the next sync word (or a prefix of one cut by the end of `buf`)
    /// starts at or after position 1; `buf.len()` if nowhere.
    fn next_sync(&self, buf: &[u8]) -> usize {
        let word = self.sync_word();
        let first = word.first().copied().unwrap_or(0);
        let mut from = 1;
        while let Some(p) = memchr::memchr(first, buf.get(from..).unwrap_or_default()) {
            let q = from + p;
            let have = buf.get(q..).unwrap_or_default();
            let n = have.len().min(word.len());
            if have.get(..n) == word.get(..n) {
                return q;
            }
            from = q + 1;
        }
        buf.len()
    }
}

impl Decoder for SyncCodec {
    #[inline(always)]
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        crate::codec::DecodeRef::decode_ref(self, buf)
    }

    #[inline(always)]
    fn decode_eof(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        crate::codec::DecodeRef::decode_eof_ref(self, buf)
    }

    fn max_wire_len(&self) -> usize {
        self.header_len() + self.max + self.checksum.len()
    }

    fn frame_len_hint(&self, buf: &[u8]) -> Option<usize> {
        let s = self.sync_len;
        let header = buf.get(..self.header_len())?;
        if header.get(..s) != Some(self.sync_word()) {
            return None;
        }
        let field = header.get(s..s + self.width)?;
        // (Equivalent mutant: `^` for `|`, as in `decode`.)
        let len = field.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let len = usize::try_from(len).ok().filter(|&l| l <= self.max)?;
        Some(self.header_len() + len + self.checksum.len())
    }
}

impl crate::codec::DecodeRef for SyncCodec {
    #[inline]
    fn decode_ref(&mut self, buf: &[u8]) -> Result<Option<Frame>, DecodeError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let s = self.sync_len;
        let have = buf.len().min(s);
        if buf.get(..have) != self.sync.get(..have) {
            // BAD_INPUTS S1: no sync word where a frame should start.
            if !self.discard {
                return Err(
                    self.fail(DecodeError::InvalidFraming { offset: 0, reason: "expected the sync word" })
                );
            }
            let q = self.next_sync(buf);
            return Ok(Some(self.skip(q)));
        }
        let hdr = self.header_len();
        let Some(header) = buf.get(..hdr) else { return Ok(None) };
        let field = header.get(s..s + self.width).unwrap_or_default();
        let stored =
            header.get(s + self.width..).and_then(|b| <[u8; 2]>::try_from(b).ok()).unwrap_or_default();
        // (Equivalent mutant: `^` for `|`, the low byte of `acc << 8` is 0.)
        let declared = field.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        // BAD_INPUTS S2: a corrupted length field fails the header check.
        let covered = header.get(..s + self.width).unwrap_or_default();
        if HEADER_CHECK.checksum(covered) != u32::from(u16::from_be_bytes(stored)) {
            if !self.discard {
                return Err(self.fail(DecodeError::InvalidFraming {
                    offset: s,
                    reason: "length field fails its header check",
                }));
            }
            return Ok(Some(self.skip(1)));
        }
        if declared > self.max as u64 {
            if !self.discard {
                return Err(self.fail(DecodeError::FrameTooLarge { declared, max: self.max }));
            }
            return Ok(Some(self.skip(1)));
        }
        let len = declared as usize;
        let total = hdr + len + self.checksum.len();
        let Some(frame) = buf.get(hdr..total) else { return Ok(None) };
        match self.checksum.verify(frame) {
            Ok(_) => {
                self.in_region = false;
                self.nested = 0;
                self.failed_until = 0;
                Ok(Some(Frame::new(total, hdr, hdr + len)))
            }
            // BAD_INPUTS S3: a bad payload CRC; the last header-length bytes
            // may hold the next frame's sync word (bytes were dropped).
            Err(_) if self.discard => {
                // The header checked out, so this was a frame whose payload
                // was hit, or a chance header inside a payload: look for the
                // next sync word from the next byte on, so that a frame
                // starting inside this one (bytes were dropped) is found.
                // Past MAX_NESTED failed frames overlapping one another
                // (only crafted input does that), skip the outermost whole.
                self.nested += 1;
                self.failed_until = self.failed_until.max(total);
                if self.nested > MAX_NESTED {
                    let n = self.failed_until.saturating_sub(hdr).max(1);
                    self.nested = 0;
                    self.failed_until = 0;
                    return Ok(Some(self.skip(n)));
                }
                Ok(Some(self.skip(1)))
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// At the end of the stream in discard mode, an incomplete frame at the
    /// front may be a chance header inside a payload: if a sync word follows
    /// it, its bytes are skipped and decoding goes on from there; otherwise
    /// (and always in strict mode) the rest is [`DecodeError::Truncated`].
    fn decode_eof_ref(&mut self, buf: &[u8]) -> Result<Option<Frame>, DecodeError> {
        match crate::codec::DecodeRef::decode_ref(self, buf)? {
            Some(frame) => Ok(Some(frame)),
            None if buf.is_empty() => Ok(None),
            None => {
                let q = if self.discard { self.next_sync(buf) } else { buf.len() };
                if q < buf.len() {
                    return Ok(Some(self.skip(q)));
                }
                Err(DecodeError::Truncated { pending: buf.len() })
            }
        }
    }
}

impl SyncCodec {
    fn head(&self, len: usize) -> Result<([u8; MAX_SYNC_LEN + 6], usize), EncodeError> {
        if len > self.max {
            return Err(EncodeError::PayloadTooLarge { len, max: self.max });
        }
        let mut head = [0u8; MAX_SYNC_LEN + 6];
        let s = self.sync_len;
        head[..s].copy_from_slice(self.sync_word());
        let field = (len as u64).to_be_bytes();
        let w = self.width;
        head[s..s + w].copy_from_slice(&field[8 - w..]);
        let check = HEADER_CHECK.checksum(&head[..s + w]) as u16;
        head[s + w..s + w + 2].copy_from_slice(&check.to_be_bytes());
        Ok((head, self.header_len()))
    }
}

impl Encoder for SyncCodec {
    #[inline]
    fn encode_to_slice(&mut self, payload: &[u8], dst: &mut [u8]) -> Result<SliceEncode, EncodeError> {
        slice_enveloped(self.envelope(payload), payload, dst)
    }

    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        let (head, n) = self.head(payload.len())?;
        let crc = self.checksum.wire_bytes(payload);
        // (Equivalent mutants in this sum: `reserve` is only a hint, the
        // bytes written are the same.)
        dst.reserve(n + payload.len() + self.checksum.len());
        dst.put_slice(head.get(..n).unwrap_or_default());
        dst.put_slice(payload);
        dst.put_slice(crc.get(..self.checksum.len()).unwrap_or_default());
        Ok(())
    }

    fn envelope(&mut self, payload: &[u8]) -> Result<Option<Envelope>, EncodeError> {
        let (head, n) = self.head(payload.len())?;
        let crc = self.checksum.wire_bytes(payload);
        Ok(Envelope::new(
            head.get(..n).unwrap_or_default(),
            crc.get(..self.checksum.len()).unwrap_or_default(),
        ))
    }
}

impl Spec for SyncCodec {
    const NAMES: &'static [&'static str] = &["sync"];
    const EXAMPLES: &'static [&'static str] = &["sync", "sync:a55a5aa5,max=300,discard", "sync:7e,max=100"];

    fn from_spec(_name: &str, arg: Option<&str>) -> Result<Self, alloc::string::String> {
        let mut b = SyncCodec::builder();
        if let Some(a) = arg {
            let (bytes, n) = crate::codec::delimited::parse_hex(a)
                .filter(|&(_, n)| n <= MAX_SYNC_LEN)
                .ok_or_else(|| alloc::format!("bad hex sync word {a:?} (1 to 8 bytes)"))?;
            b = b.sync_word(bytes.get(..n).unwrap_or_default());
        }
        b.build().map_err(|e| alloc::string::ToString::to_string(&e))
    }

    fn fmt_spec(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("sync")?;
        if self.sync_word() != DEFAULT_SYNC {
            f.write_str(":")?;
            for b in self.sync_word() {
                write!(f, "{b:02x}")?;
            }
        }
        Ok(())
    }

    fn max_frame_length(&self) -> usize {
        self.max
    }

    fn default_max(&self) -> Option<usize> {
        Some(
            usize::try_from(crate::limits::field_max(self.width))
                .unwrap_or(usize::MAX)
                .min(crate::limits::DEFAULT_MAX_FRAME_LENGTH),
        )
    }

    fn with_max_frame_length(&self, max: usize) -> Result<Self, ConfigError> {
        self.rebuild().max_frame_length(max).build()
    }

    fn discards(&self) -> bool {
        self.discard
    }

    fn with_discard(&self) -> Result<Self, alloc::string::String> {
        self.rebuild().discard(true).build().map_err(|e| alloc::string::ToString::to_string(&e))
    }
}

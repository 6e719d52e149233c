//! Fuzz harness bodies, shared by the `fuzz/` targets and by `cargo test`,
//! which replays the committed corpus through the same functions on stable.
//!
//! Each harness takes raw fuzz bytes, derives a configuration and inputs from
//! them with [`Input`], and asserts invariants (round trip, split invariance,
//! nothing lost, bounded buffering) by panicking when one fails.
//! Not part of the public API.
#![allow(missing_docs, clippy::missing_panics_doc)]

use alloc::vec::Vec;

mod catalogue;
pub use catalogue::*;
#[cfg(feature = "std")]
mod transport;
#[cfg(feature = "std")]
pub use transport::*;
#[cfg(feature = "tokio")]
mod differential;
#[cfg(feature = "tokio")]
pub use differential::*;
mod resync;
pub use resync::*;

use bytes::BytesMut;

use crate::codec::length::{Endian, LengthBuilder, LengthCodec};
use crate::codec::{Decoder, Encoder, SkipStats};
use crate::error::DecodeError;

/// Reads structured values off the front of fuzz data; yields zeros once the
/// data runs out, so every input maps to some configuration.
#[derive(Debug)]
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    /// Up to `n` bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Cut sizes for feeding a stream: `count` sizes from 1 to 256, with a
    /// bias towards 1-byte drips.
    pub fn cuts(&mut self, count: usize) -> Vec<usize> {
        (0..count)
            .map(|_| match self.byte() {
                b @ 0..=127 => usize::from(b % 4) + 1,
                b => usize::from(b) * 2 - 254,
            })
            .collect()
    }
}

/// What a decoder made of a whole stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub frames: Vec<Vec<u8>>,
    /// `Ok(())` for a clean end at a frame boundary.
    pub end: Result<(), DecodeError>,
    /// Most bytes held in the receive buffer after a decode pass.
    pub peak_buffered: usize,
    /// What the decoder skipped (skip frames are not in `frames`).
    pub skipped: SkipStats,
}

/// Decodes `wire` delivered in chunks of the sizes in `cuts` (cycled; an
/// empty list means one piece), then signals end of stream.
///
/// Checks the contract on the way: need-more leaves the buffer untouched,
/// frames lie inside the buffer and always consume at least one byte.
pub fn decode_chunked<D: Decoder>(decoder: &mut D, wire: &[u8], cuts: &[usize]) -> Outcome {
    let mut buf: Vec<u8> = Vec::new();
    let mut frames = Vec::new();
    let mut skipped = SkipStats::default();
    let mut peak = 0;
    let mut pos = 0;
    let mut cut = 0;
    let mut end = Ok(());
    'feed: while pos < wire.len() {
        let n = match cuts.get(cut % cuts.len().max(1)) {
            Some(&n) => n.max(1),
            None => wire.len(),
        };
        cut += 1;
        let next = wire.len().min(pos + n);
        buf.extend_from_slice(&wire[pos..next]);
        pos = next;
        match drain(decoder, &mut buf, &mut frames, &mut skipped, false) {
            Ok(()) => peak = peak.max(buf.len()),
            Err(e) => {
                end = Err(e);
                break 'feed;
            }
        }
    }
    if end.is_ok() {
        end = drain(decoder, &mut buf, &mut frames, &mut skipped, true);
    }
    Outcome { frames, end, peak_buffered: peak, skipped }
}

fn drain<D: Decoder>(
    decoder: &mut D,
    buf: &mut Vec<u8>,
    frames: &mut Vec<Vec<u8>>,
    skipped: &mut SkipStats,
    eof: bool,
) -> Result<(), DecodeError> {
    let mut used = 0;
    let result = loop {
        // Checking "need-more leaves the buffer untouched" needs a copy;
        // keep it cheap on large buffers.
        let before = if buf.len() - used <= 4096 { Some(buf[used..].to_vec()) } else { None };
        let step = if eof { decoder.decode_eof(&mut buf[used..]) } else { decoder.decode(&mut buf[used..]) };
        match step {
            Ok(Some(frame)) => {
                assert!(frame.consumed() > 0, "a frame must consume at least one byte");
                assert!(frame.consumed() <= buf.len() - used, "frame beyond the buffer");
                if frame.is_skip() {
                    assert!(frame.is_empty(), "a skip frame has no payload");
                    skipped.record(&frame);
                } else {
                    frames.push(frame.payload(&buf[used..]).to_vec());
                }
                used += frame.consumed();
            }
            Ok(None) => {
                if let Some(before) = before {
                    assert_eq!(&buf[used..], &before[..], "need-more must leave the buffer untouched");
                }
                if eof {
                    assert_eq!(used, buf.len(), "clean end with bytes left");
                }
                break Ok(());
            }
            Err(e) => break Err(e),
        }
    };
    buf.drain(..used);
    result
}

/// Split invariance: decoding at the cuts gives the same frames and the same
/// end as decoding in one piece, and a 1-byte drip agrees too.
pub fn check_split<D: Decoder + Clone>(decoder: &D, wire: &[u8], cuts: &[usize]) -> Outcome {
    let whole = decode_chunked(&mut decoder.clone(), wire, &[]);
    let split = decode_chunked(&mut decoder.clone(), wire, cuts);
    assert_eq!(whole.frames, split.frames, "frames differ when split");
    assert_eq!(whole.end, split.end, "end differs when split");
    assert_eq!(whole.skipped, split.skipped, "skips differ when split");
    if wire.len() <= 4096 {
        let drip = decode_chunked(&mut decoder.clone(), wire, &[1]);
        assert_eq!(whole.frames, drip.frames, "frames differ in a 1-byte drip");
        assert_eq!(whole.end, drip.end, "end differs in a 1-byte drip");
        assert_eq!(whole.skipped, drip.skipped, "skips differ in a 1-byte drip");
    }
    whole
}

/// Round trip: every payload the encoder accepts decodes back, in order, at
/// any cuts; a rejected payload leaves the output byte-identical; re-encoding
/// the decoded frames reproduces the wire bytes.
pub fn check_roundtrip<C: Decoder + Encoder + Clone>(codec: &C, payloads: &[&[u8]], cuts: &[usize]) {
    let mut enc = codec.clone();
    let mut wire = BytesMut::new();
    let mut accepted: Vec<Vec<u8>> = Vec::new();
    for p in payloads {
        let before = wire.clone();
        match enc.encode(p, &mut wire) {
            Ok(()) => accepted.push(p.to_vec()),
            Err(_) => assert_eq!(wire, before, "failed encode changed the output"),
        }
    }
    let out = check_split(codec, &wire, cuts);
    assert_eq!(out.end, Ok(()), "encoded stream did not end cleanly");
    assert_eq!(out.frames, accepted, "decoded frames differ from encoded payloads");
    let mut again = BytesMut::new();
    let mut enc = codec.clone();
    for f in &out.frames {
        enc.encode(f, &mut again).expect("re-encoding a decoded frame");
    }
    assert_eq!(again, wire, "re-encoding differs");
}

/// A harness body: takes raw fuzz bytes, panics when an invariant fails.
pub type Harness = fn(&[u8]);

/// Every fuzz target by name, with its harness. `tests/fuzz_corpus.rs`
/// replays `fuzz/corpus/<name>/*` through each; `fuzz/fuzz_targets/<name>.rs`
/// calls the same function.
pub const TARGETS: &[(&str, Harness)] = &[
    ("length_decode", length_decode),
    ("length_split", length_split),
    ("length_roundtrip", length_roundtrip),
    ("varint_split", varint_split),
    ("delimited_split", delimited_split),
    ("netstring_split", netstring_split),
    ("cobs_roundtrip", cobs_roundtrip),
    ("any_codec", any_codec),
    ("slip_resync", slip_resync),
    ("kiss_resync", kiss_resync),
    ("hdlc_resync", hdlc_resync),
    ("sync_resync", sync_resync),
    ("checksum_resync", checksum_resync),
    #[cfg(feature = "std")]
    ("transport_script", transport_script),
    #[cfg(feature = "tokio")]
    ("length_vs_tokio", length_vs_tokio),
    #[cfg(feature = "tokio")]
    ("delimited_vs_tokio", delimited_vs_tokio),
];

/// Length codec settings derived from 6 bytes of fuzz input, kept as plain
/// values so that the same layout can be handed to tokio-util.
/// `symmetric` restricts it to layouts whose encoding decodes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthLayout {
    pub width: usize,
    pub endian: Endian,
    pub offset: usize,
    pub adjustment: isize,
    pub num_skip: Option<usize>,
    /// `None`: the codec's default.
    pub max: Option<usize>,
}

impl LengthLayout {
    pub fn from_input(input: &mut Input<'_>, symmetric: bool) -> Self {
        let flags = input.byte();
        let width = usize::from(flags % 8) + 1;
        let endian = match (flags >> 3) % 3 {
            0 => Endian::Big,
            1 => Endian::Little,
            _ => Endian::Native,
        };
        let offset = if symmetric { 0 } else { usize::from(input.byte() % 4) };
        let adjustment = isize::from(input.byte() as i8 % 16);
        let skip_byte = input.byte();
        let num_skip = (!symmetric && skip_byte & 0x80 != 0).then(|| usize::from(skip_byte % 16));
        let max = match input.u16() {
            0 => None,
            m => Some(usize::from(m)),
        };
        LengthLayout { width, endian, offset, adjustment, num_skip, max }
    }

    /// The same layout without a header before the field and with the
    /// default `num_skip`, so that encoded frames decode back.
    pub fn symmetric(self) -> Self {
        LengthLayout { offset: 0, num_skip: None, ..self }
    }

    /// `num_skip` in force.
    pub fn skip(&self) -> usize {
        self.num_skip.unwrap_or(self.offset + self.width)
    }

    pub fn builder(&self) -> LengthBuilder {
        let mut builder = LengthCodec::builder()
            .width(self.width)
            .endian(self.endian)
            .length_field_offset(self.offset)
            .length_adjustment(self.adjustment);
        if let Some(skip) = self.num_skip {
            builder = builder.num_skip(skip);
        }
        if let Some(max) = self.max {
            builder = builder.max_frame_length(max);
        }
        builder
    }
}

/// A length codec configuration derived from 6 bytes of fuzz input
/// ([`LengthLayout::from_input`]).
pub fn length_codec(input: &mut Input<'_>, symmetric: bool) -> LengthCodec {
    let builder = LengthLayout::from_input(input, symmetric).builder();
    // A max the field cannot express is a config error; fall back to the
    // field's default then, which must build.
    match builder.build() {
        Ok(c) => c,
        Err(_) => builder.max_frame_length(usize::from(u8::MAX) - 16).build().unwrap_or_default(),
    }
}

/// `length_decode`: arbitrary bytes through an arbitrary configuration, fed
/// in chunks. Frames fit the limit, consumption never exceeds the input, and
/// the buffer never holds more than one frame's worth plus one read.
pub fn length_decode(data: &[u8]) {
    let mut input = Input::new(data);
    let codec = length_codec(&mut input, false);
    let cuts = input.cuts(8);
    let wire = input.rest();
    let out = decode_chunked(&mut codec.clone(), wire, &cuts);
    let adj = 16; // |adjustment| < 16 in these configurations
    let frame_bound = codec.header_len() + codec.max_frame_length() + adj;
    let consumed: usize = out.frames.iter().map(Vec::len).sum();
    assert!(consumed <= wire.len());
    for f in &out.frames {
        assert!(f.len() <= frame_bound, "frame over the limit");
    }
    let chunk = cuts.iter().copied().max().unwrap_or(wire.len());
    assert!(
        out.peak_buffered <= frame_bound + chunk,
        "buffered {} > {}",
        out.peak_buffered,
        frame_bound + chunk
    );
}

/// `length_split`: chunked decoding equals one-shot decoding.
pub fn length_split(data: &[u8]) {
    let mut input = Input::new(data);
    let codec = length_codec(&mut input, false);
    let cuts = input.cuts(6);
    check_split(&codec, input.rest(), &cuts);
}

/// `length_roundtrip`: arbitrary payloads encode, decode at arbitrary cuts,
/// and re-encode to the same bytes.
pub fn length_roundtrip(data: &[u8]) {
    let mut input = Input::new(data);
    let codec = length_codec(&mut input, true);
    let cuts = input.cuts(4);
    let mut payloads = Vec::new();
    while !input.is_empty() && payloads.len() < 64 {
        let len = usize::from(input.u16() % 600);
        payloads.push(input.bytes(len));
    }
    check_roundtrip(&codec, &payloads, &cuts);
}

//! Differential harnesses: sockframe's codecs against the tokio-util codecs
//! they claim wire compatibility with, fed the same bytes in the same chunks.
//!
//! Frames must agree one by one and both decoders must stop at the same frame
//! with matching errors. Every place where they may legitimately differ is a
//! `match` arm named `documented difference: ...`; comparison stops there.
//! Anything else panics.

use std::io;
use std::vec::Vec;

use bytes::BytesMut;
use tokio_util::codec::length_delimited::{Builder as TokioBuilder, LengthDelimitedCodec};
use tokio_util::codec::{
    AnyDelimiterCodec, AnyDelimiterCodecError, Decoder as TokioDecoder, Encoder as TokioEncoder, LinesCodec,
    LinesCodecError,
};

use super::catalogue::payloads;
use super::{Input, LengthLayout};
use crate::codec::delimited::DelimitedCodec;
use crate::codec::length::{Endian, LengthCodec};
use crate::codec::{Decoder, Encoder};
use crate::error::{ConfigError, DecodeError};

/// How a decoder's run over a whole stream ended.
#[derive(Debug)]
enum End<E> {
    /// `decode_eof` returned `Ok(None)`.
    Clean,
    Failed(E),
    /// More frames than input bytes: tokio-util repeating a frame that
    /// consumes nothing (BAD_INPUTS L4 with `num_skip` 0).
    Looping,
}

/// A decoder's frames, then how it ended.
#[derive(Debug)]
struct Run<E> {
    frames: Vec<Vec<u8>>,
    end: End<E>,
}

/// One decode call on a `BytesMut`: `step(buf, eof)`.
type Step<'a, E> = dyn FnMut(&mut BytesMut, bool) -> Result<Option<Vec<u8>>, E> + 'a;

/// Feeds `wire` in chunks of the sizes in `cuts` (cycled, as
/// [`decode_chunked`](super::decode_chunked)), taking frames after each chunk
/// until need-more, then at end of stream until `Ok(None)`.
fn feed<E>(wire: &[u8], cuts: &[usize], step: &mut Step<'_, E>) -> Run<E> {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let (mut pos, mut cut) = (0, 0);
    loop {
        let eof = pos == wire.len();
        if !eof {
            let n = cuts.get(cut % cuts.len().max(1)).map_or(wire.len(), |&n| n.max(1));
            cut += 1;
            let next = wire.len().min(pos + n);
            buf.extend_from_slice(&wire[pos..next]);
            pos = next;
        }
        loop {
            match step(&mut buf, eof) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(e) => return Run { frames, end: End::Failed(e) },
            }
            if frames.len() > wire.len() + 1 {
                return Run { frames, end: End::Looping };
            }
        }
        if eof {
            return Run { frames, end: End::Clean };
        }
    }
}

/// sockframe's decoder, through `decode_bytes` / `decode_bytes_eof`.
fn our_step<D: Decoder>(
    mut codec: D,
) -> impl FnMut(&mut BytesMut, bool) -> Result<Option<Vec<u8>>, DecodeError> {
    move |buf, eof| {
        let frame = if eof {
            Decoder::decode_bytes_eof(&mut codec, buf)
        } else {
            Decoder::decode_bytes(&mut codec, buf)
        };
        frame.map(|f| f.map(Vec::from))
    }
}

/// A tokio-util decoder, its items as bytes and its errors mapped by `err`.
fn their_step<D: TokioDecoder, E>(
    mut codec: D,
    item: fn(D::Item) -> Vec<u8>,
    err: fn(D::Error) -> E,
) -> impl FnMut(&mut BytesMut, bool) -> Result<Option<Vec<u8>>, E> {
    move |buf, eof| {
        let frame = if eof { codec.decode_eof(buf) } else { codec.decode(buf) };
        frame.map(|f| f.map(item)).map_err(err)
    }
}

fn tokio_length_codec(layout: &LengthLayout) -> LengthDelimitedCodec {
    let mut b = TokioBuilder::new();
    b.length_field_length(layout.width)
        .length_field_offset(layout.offset)
        .length_adjustment(layout.adjustment);
    match layout.endian {
        Endian::Big => b.big_endian(),
        Endian::Little => b.little_endian(),
        Endian::Native => b.native_endian(),
    };
    if let Some(skip) = layout.num_skip {
        b.num_skip(skip);
    }
    if let Some(max) = layout.max {
        b.max_frame_length(max);
    }
    b.new_codec()
}

/// Both codecs for `layout`; ours is `None` for a layout that admits no frame.
fn length_pair(layout: &LengthLayout) -> (Option<LengthCodec>, LengthDelimitedCodec) {
    let theirs = tokio_length_codec(layout);
    let ours = match layout.builder().build() {
        Ok(codec) => Some(codec),
        // documented difference: sockframe's builder refuses a max the length
        // field cannot express; tokio-util clamps it (to the same limit,
        // checked below).
        Err(ConfigError::MaxTooLarge { limit, .. }) => {
            let limit = usize::try_from(limit).expect("limit below a u16 max");
            Some(layout.builder().max_frame_length(limit).build().expect("clamped layout builds"))
        }
        // documented difference: sockframe's builder refuses a max below a
        // negative adjustment (every frame would fail); tokio-util builds it.
        Err(ConfigError::Invalid { .. })
            if layout.adjustment < 0 && theirs.max_frame_length() < layout.adjustment.unsigned_abs() =>
        {
            None
        }
        Err(e) => panic!("{layout:?} does not build: {e}"),
    };
    if let Some(ours) = &ours {
        assert_eq!(
            ours.max_frame_length(),
            theirs.max_frame_length(),
            "max frame length differs for {layout:?}"
        );
    }
    (ours, theirs)
}

/// Decodes `wire` with both length codecs; returns our run, or `None`
/// for a layout sockframe does not build.
fn compare_length(layout: &LengthLayout, wire: &[u8], cuts: &[usize]) -> Option<Run<DecodeError>> {
    let (ours_codec, theirs_codec) = length_pair(layout);
    let theirs = feed(wire, cuts, &mut their_step(theirs_codec, Vec::from, core::convert::identity));
    let Some(ours_codec) = ours_codec else {
        assert!(theirs.frames.is_empty(), "tokio-util decoded a frame in {layout:?}, which admits none");
        return None;
    };
    let ours = feed(wire, cuts, &mut our_step(ours_codec));
    let (skip, head_len) = (layout.skip(), layout.skip().max(layout.offset + layout.width));
    let n = ours.frames.len();
    match (&ours.end, &theirs.end) {
        // documented difference: BAD_INPUTS L4: sockframe refuses a frame
        // that would end inside its own header; tokio-util returns it (and
        // re-reads the rest of the header as the next frame, or repeats an
        // empty frame forever with num_skip 0). tokio-util may fail later;
        // its frame at our failing index decides.
        (End::Failed(DecodeError::LengthAdjustment { .. }), _)
            if theirs.frames.get(n).is_some_and(|f| skip + f.len() < head_len) =>
        {
            assert_eq!(
                ours.frames[..],
                theirs.frames[..n],
                "frames before the L4 frame differ in {layout:?}"
            );
            return Some(ours);
        }
        (End::Clean, End::Clean) => {}
        (End::Failed(DecodeError::FrameTooLarge { .. }), End::Failed(e))
            if e.kind() == io::ErrorKind::InvalidData => {}
        (End::Failed(DecodeError::LengthAdjustment { .. }), End::Failed(e))
            if e.kind() == io::ErrorKind::InvalidInput => {}
        // tokio-util's "bytes remaining on stream".
        (End::Failed(DecodeError::Truncated { .. }), End::Failed(e)) if e.kind() == io::ErrorKind::Other => {}
        // documented difference: tokio-util removes a header from its buffer
        // once parsed, so when the stream ends right after a complete header
        // (and num_skip covers the whole header) its decode_eof sees an empty
        // buffer and reports a clean end; sockframe reports Truncated.
        (End::Failed(DecodeError::Truncated { pending }), End::Clean)
            if *pending == skip && skip == head_len => {}
        (a, b) => panic!(
            "{layout:?}: sockframe ended {a:?} after {n} frames, tokio-util {b:?} after {} frames",
            theirs.frames.len()
        ),
    }
    assert_eq!(
        ours.frames, theirs.frames,
        "frames differ in {layout:?} (ends {:?} / {:?})",
        ours.end, theirs.end
    );
    Some(ours)
}

/// `length_vs_tokio`: arbitrary bytes through both length codecs with the
/// same arbitrary layout and cuts; then arbitrary payloads through both
/// encoders (symmetric layout), each stream decoded by both decoders.
pub fn length_vs_tokio(data: &[u8]) {
    let mut input = Input::new(data);
    let layout = LengthLayout::from_input(&mut input, false);
    let cuts = input.cuts(6);
    let split = usize::from(input.u16());
    let rest = input.rest();
    let (wire, more) = rest.split_at(split.min(rest.len()));
    compare_length(&layout, wire, &cuts);

    let layout = layout.symmetric();
    let (Some(mut ours), mut theirs) = length_pair(&layout) else { return };
    let (mut ours_wire, mut theirs_wire, mut accepted) = (BytesMut::new(), BytesMut::new(), Vec::new());
    for p in payloads(&mut Input::new(more), 600) {
        let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
        match (
            Encoder::encode(&mut ours, p, &mut a).is_ok(),
            TokioEncoder::encode(&mut theirs, p, &mut b).is_ok(),
        ) {
            (true, true) => {
                assert_eq!(a, b, "encodings of a {}-byte payload differ in {layout:?}", p.len());
                accepted.push(p.to_vec());
            }
            (false, false) => {}
            // documented difference: with a negative adjustment sockframe's
            // encoder refuses a payload whose length field (len + |adj|)
            // exceeds max, which both decoders refuse; tokio-util writes it.
            (false, true)
                if layout.adjustment < 0
                    && p.len() + layout.adjustment.unsigned_abs() > ours.max_frame_length() => {}
            (x, y) => panic!("{layout:?}: {}-byte payload: sockframe encodes {x}, tokio-util {y}", p.len()),
        }
        ours_wire.extend_from_slice(&a);
        theirs_wire.extend_from_slice(&b);
    }
    // The common encodings are identical, so each decoder reads the other's.
    let out = compare_length(&layout, &ours_wire, &cuts).expect("the layout built");
    assert!(matches!(out.end, End::Clean), "encoded stream ended {:?} in {layout:?}", out.end);
    assert_eq!(out.frames, accepted, "decoded frames differ from the payloads in {layout:?}");
    // With the payloads only tokio-util writes, the decoders still agree.
    compare_length(&layout, &theirs_wire, &cuts);
}

/// A tokio-util delimiter codec's error.
#[derive(Debug)]
enum DelimError {
    TooLong,
    NotUtf8,
    /// Shown (through `Debug`) in failure messages only.
    Io(#[allow(dead_code)] io::Error),
}

fn lines_error(e: LinesCodecError) -> DelimError {
    match e {
        LinesCodecError::MaxLineLengthExceeded => DelimError::TooLong,
        LinesCodecError::Io(e) if e.kind() == io::ErrorKind::InvalidData => DelimError::NotUtf8,
        LinesCodecError::Io(e) => DelimError::Io(e),
    }
}

fn any_delimiter_error(e: AnyDelimiterCodecError) -> DelimError {
    match e {
        AnyDelimiterCodecError::MaxChunkLengthExceeded => DelimError::TooLong,
        AnyDelimiterCodecError::Io(e) => DelimError::Io(e),
    }
}

/// `delimited_vs_tokio`: arbitrary bytes through sockframe's `DelimitedCodec`
/// and tokio-util's `LinesCodec` (`\n`, strip `\r`) or `AnyDelimiterCodec`
/// (one single-byte delimiter, nothing stripped), same max, same cuts.
pub fn delimited_vs_tokio(data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.byte();
    let lines = flags & 1 != 0;
    // A small alphabet (\n \v \f \r) so that delimiters occur.
    let delim = if lines { b'\n' } else { input.byte() % 4 + b'\n' };
    let max = if flags & 2 != 0 { isize::MAX.unsigned_abs() } else { usize::from(input.u16() % 512) };
    let cuts = input.cuts(6);
    let wire = input.rest();
    let codec = DelimitedCodec::builder().delimiter(&[delim]).strip_cr(lines).max_frame_length(max).build();
    let ours = feed(wire, &cuts, &mut our_step(codec.expect("a single-byte delimiter builds")));
    let theirs = if lines {
        feed(
            wire,
            &cuts,
            &mut their_step(LinesCodec::new_with_max_length(max), String::into_bytes, lines_error),
        )
    } else {
        let codec = AnyDelimiterCodec::new_with_max_length(vec![delim], vec![delim], max);
        feed(wire, &cuts, &mut their_step(codec, Vec::from, any_delimiter_error))
    };
    let what = if lines { "LinesCodec" } else { "AnyDelimiterCodec" };

    // documented difference: at end of stream tokio-util returns an
    // unterminated last frame (LinesCodec without a trailing \r, and nothing
    // for a lone "\r"); sockframe reports Truncated. Compare tokio-util
    // against our frames plus that tail.
    let mut expected = ours.frames;
    let ours_end = match ours.end {
        End::Failed(DecodeError::Truncated { pending }) => {
            let tail = &wire[wire.len() - pending..];
            if !(lines && tail == b"\r") {
                expected.push(if lines { tail.strip_suffix(b"\r").unwrap_or(tail) } else { tail }.to_vec());
            }
            End::Clean
        }
        end => end,
    };
    match (&ours_end, &theirs.end) {
        // Same max rule: content (a stripped \r included) of at most max
        // bytes; max + 1 bytes without a delimiter fail at once.
        (End::Clean, End::Clean)
        | (End::Failed(DecodeError::DelimiterNotFound { .. }), End::Failed(DelimError::TooLong)) => {
            assert_eq!(theirs.frames, expected, "{what}, max {max}: frames differ (end {ours_end:?})");
        }
        // documented difference: LinesCodec yields Strings and fails on a
        // line that is not UTF-8; sockframe yields the bytes.
        (_, End::Failed(DelimError::NotUtf8)) if lines => {
            let n = theirs.frames.len();
            assert_eq!(expected.get(..n), Some(&theirs.frames[..]), "lines before the non-UTF-8 one differ");
            let bad = expected.get(n).map(|f| core::str::from_utf8(f));
            assert!(
                matches!(bad, Some(Err(_))),
                "LinesCodec refused line {n} as UTF-8, sockframe has {bad:?}"
            );
        }
        (a, b) => panic!(
            "{what}, max {max}: sockframe ended {a:?} after {} frames, tokio-util {b:?} after {} frames",
            expected.len(),
            theirs.frames.len()
        ),
    }
}

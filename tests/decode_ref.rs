//! `DecodeRef`: the framings that never change the bytes decode a shared
//! `&[u8]` exactly as they decode a mutable buffer, in one piece or split.

use proptest::prelude::*;
use sockframe::codec::{DecodeRef, RefFrames};
use sockframe::fuzzing::decode_chunked;
use sockframe::{
    Checksum, ChecksumCodec, Codec, CrcAlgorithm, DecodeError, Decoder, Encoder, Frames, SkipStats,
};

type Items = Vec<Result<Vec<u8>, DecodeError>>;

/// The concrete codec a spec names, when it is a read-only framing.
fn concrete(spec: &str) -> Option<Box<dyn ReadOnly>> {
    Some(match spec.parse::<Codec>().ok()? {
        Codec::Length(c) => Box::new(c),
        Codec::Varint(c) => Box::new(c),
        Codec::Delimited(c) => Box::new(c),
        Codec::Netstring(c) => Box::new(c),
        Codec::Raw(c) => Box::new(c),
        Codec::Fixed(c) => Box::new(c),
        Codec::Sync(c) => Box::new(c),
        _ => return None,
    })
}

/// Every example spec of the read-only framings.
fn read_only_examples() -> Vec<&'static str> {
    Codec::examples().filter(|spec| concrete(spec).is_some()).collect()
}

/// A read-only framing behind a trait object (both halves of the contract).
trait ReadOnly: DecodeRef + Encoder {}
impl<T: DecodeRef + Encoder> ReadOnly for T {}

/// Walks `wire` at the end of the stream through `Frames` on a mutable copy.
fn walk_mut(codec: &mut dyn ReadOnly, wire: &[u8]) -> (Items, usize, SkipStats) {
    let mut copy = wire.to_vec();
    let mut frames = Frames::at_eof(codec, &mut copy);
    let items = frames.by_ref().map(|r| r.map(<[u8]>::to_vec)).collect();
    (items, frames.consumed(), frames.skipped())
}

/// The same through `RefFrames` on the shared slice.
fn walk_ref(codec: &mut dyn ReadOnly, wire: &[u8]) -> (Items, usize, SkipStats) {
    let mut frames = RefFrames::at_eof(codec, wire);
    let items = frames.by_ref().map(|r| r.map(<[u8]>::to_vec)).collect();
    (items, frames.consumed(), frames.skipped())
}

/// The loop of `RefFrames`' doc example: pieces appended to a buffer the
/// caller owns, frames walked on a shared borrow, the walked bytes dropped.
fn walk_ref_pieces(codec: &mut dyn ReadOnly, wire: &[u8], cuts: &[usize]) -> Items {
    let mut pending = Vec::new();
    let mut items = Vec::new();
    let mut rest = wire;
    let mut i = 0;
    while !rest.is_empty() {
        let n = cuts.get(i % cuts.len().max(1)).copied().unwrap_or(rest.len()).clamp(1, rest.len());
        i += 1;
        pending.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        let mut frames = RefFrames::new(&mut *codec, &pending);
        for item in frames.by_ref() {
            let failed = item.is_err();
            items.push(item.map(<[u8]>::to_vec));
            if failed {
                return items;
            }
        }
        let used = frames.consumed();
        pending.drain(..used);
    }
    items.extend(RefFrames::at_eof(codec, &pending).map(|r| r.map(<[u8]>::to_vec)));
    items
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// One seam: on any bytes (frames the framing wrote, then damaged), the
    /// shared-slice walk yields the same frames, errors, consumed bytes and
    /// skips as the mutable walk; fed in pieces it yields the same frames
    /// as `decode_chunked`, the drivers' reference loop.
    #[test]
    fn decode_ref_is_decode_on_shared_bytes(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..6),
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        junk in prop::collection::vec(any::<u8>(), 0..6),
        cuts in prop::collection::vec(1usize..50, 1..6),
    ) {
        // Each read-only framing, and a CRC-32C trailer over those that
        // carry binary payloads (`ChecksumCodec` is read-only over them).
        let checked = read_only_examples().into_iter().filter(|spec| !["lines", "delim", "raw", "fixed"].iter().any(|n| spec.starts_with(n)));
        let cases = read_only_examples().into_iter().map(|spec| (spec, false)).chain(checked.map(|spec| (spec, true)));
        for (spec, crc) in cases {
            let make = || -> Box<dyn ReadOnly> {
                let plain = concrete(spec).unwrap();
                if crc { Box::new(ChecksumCodec::new(plain, Checksum::new(CrcAlgorithm::Crc32c))) } else { plain }
            };
            let spec = format!("{spec}{}", if crc { ",crc=crc32c" } else { "" });
            let mut wire = bytes::BytesMut::new();
            let mut enc = make();
            for p in &payloads {
                let _ = enc.encode(p, &mut wire);
            }
            let mut wire = wire.to_vec();
            if !wire.is_empty() {
                for (at, byte) in &damage {
                    let i = at.index(wire.len());
                    wire[i] = *byte;
                }
            }
            wire.extend_from_slice(&junk);
            let mutable = walk_mut(&mut *make(), &wire);
            let shared = walk_ref(&mut *make(), &wire);
            prop_assert_eq!(&mutable, &shared, "{}", spec);
            let pieces = walk_ref_pieces(&mut *make(), &wire, &cuts);
            let reference = decode_chunked(&mut make(), &wire, &cuts);
            let frames: Vec<Vec<u8>> = pieces.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
            prop_assert_eq!(&frames, &reference.frames, "{} in pieces", spec);
            prop_assert_eq!(pieces.iter().find_map(|r| r.clone().err()), reference.end.err(), "{} in pieces", spec);
        }
    }
}

#[test]
fn every_read_only_framing_has_examples() {
    // The framings that decode in place are not DecodeRef; the rest are
    // all covered by the property above.
    let specs = read_only_examples();
    for name in ["len", "varint", "lines", "delim", "netstring", "raw", "fixed", "sync"] {
        assert!(specs.iter().any(|s| s.starts_with(name)), "no example of {name}: {specs:?}");
    }
    assert!(!specs.iter().any(|s| ["cobs", "slip", "kiss", "hdlc"].iter().any(|n| s.starts_with(n))));
}

#[test]
fn a_shared_bytes_value_decodes_without_a_copy() {
    // A `Bytes` (one reference count, immutable) is walked in place: the
    // payloads point into it.
    let wire = bytes::Bytes::from_static(b"\x00\x00\x00\x02hi\x00\x00\x00\x00\x00\x00");
    let mut codec = sockframe::LengthCodec::new();
    let mut frames = RefFrames::new(&mut codec, &wire);
    let hi = frames.next().unwrap().unwrap();
    assert_eq!(hi, b"hi");
    assert_eq!(hi.as_ptr(), wire[4..].as_ptr());
    assert_eq!(frames.next(), Some(Ok(&b""[..])));
    assert_eq!(frames.next(), None);
    assert_eq!((frames.consumed(), frames.remaining()), (10, &b"\x00\x00"[..]));
    let rest = &wire[frames.consumed()..];
    assert_eq!(RefFrames::at_eof(&mut codec, rest).next(), Some(Err(DecodeError::Truncated { pending: 2 })));
    // `decode_ref` on a borrowed codec forwards.
    let by_ref = &mut codec;
    assert_eq!(by_ref.decode_ref(&wire).unwrap().map(|f| f.consumed()), Some(6));
    assert_eq!(Decoder::max_wire_len(&by_ref), Decoder::max_wire_len(&codec));
}

//! Properties shared by the per-codec proptest suites.
#![allow(dead_code)]

use bytes::BytesMut;
use proptest::prelude::*;
use sockframe::fuzzing::decode_chunked;
use sockframe::{DecodeError, Decoder, Encoder};

/// Modest case counts: the suite runs on two cores.
pub fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, ..ProptestConfig::default() }
}

/// Read sizes, biased to 1-byte drips.
pub fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop_oneof![3 => 1usize..4, 1 => 1usize..300], 1..8)
}

pub fn payloads(max_len: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..max_len), 0..8)
}

/// Encodes every payload, asserting that the ones the encoder rejects leave
/// the output byte-identical; returns the wire and the accepted payloads
/// with the end offset of each frame.
pub fn encode_all<C: Encoder>(codec: &mut C, payloads: &[Vec<u8>]) -> (BytesMut, Vec<(Vec<u8>, usize)>) {
    let mut wire = BytesMut::new();
    let mut accepted = Vec::new();
    for p in payloads {
        let before = wire.clone();
        match codec.encode(p, &mut wire) {
            Ok(()) => accepted.push((p.clone(), wire.len())),
            Err(_) => assert_eq!(wire, before, "a failed encode changed the output"),
        }
    }
    (wire, accepted)
}

/// Every strict prefix of a valid stream yields its complete frames and then
/// need-more (never an error), and `Truncated` at end of stream unless it
/// ends on a frame boundary.
pub fn check_prefixes<C: Decoder + Encoder + Clone>(codec: &C, payloads: &[Vec<u8>]) {
    let (wire, accepted) = encode_all(&mut codec.clone(), payloads);
    for k in 0..wire.len() {
        let mut dec = codec.clone();
        let mut buf = wire[..k].to_vec();
        let mut used = 0;
        let mut frames = Vec::new();
        loop {
            match dec.decode(&mut buf[used..]) {
                Ok(Some(f)) => {
                    frames.push(f.payload(&buf[used..]).to_vec());
                    used += f.consumed();
                }
                Ok(None) => break,
                Err(e) => panic!("prefix of {k} bytes: {e}"),
            }
        }
        let complete: Vec<Vec<u8>> =
            accepted.iter().filter(|(_, end)| *end <= k).map(|(p, _)| p.clone()).collect();
        assert_eq!(frames, complete, "prefix of {k} bytes");
        let at_boundary = k == 0 || accepted.iter().any(|(_, end)| *end == k);
        // A framing that resynchronises may first skip bytes of the cut-off
        // frame at the end (where a sync word might start a frame); what it
        // does not skip is Truncated, and no frame comes out of it.
        let mut eof = dec.decode_eof(&mut buf[used..]);
        while let Ok(Some(skip)) = eof {
            assert!(skip.is_skip() && !at_boundary, "prefix of {k} bytes: a frame at EOF");
            used += skip.consumed();
            eof = dec.decode_eof(&mut buf[used..]);
        }
        if at_boundary {
            assert_eq!(eof, Ok(None));
        } else {
            assert_eq!(eof, Err(DecodeError::Truncated { pending: k - used }), "prefix of {k} bytes");
        }
    }
}

/// Arbitrary bytes at arbitrary cuts: no panic, the same outcome as in one
/// piece, and never more than `bound + largest read` bytes buffered.
pub fn check_arbitrary<C: Decoder + Clone>(codec: &C, wire: &[u8], cuts: &[usize], bound: usize) {
    let out = sockframe::fuzzing::check_split(codec, wire, cuts);
    let chunked = decode_chunked(&mut codec.clone(), wire, cuts);
    assert_eq!(out.frames, chunked.frames);
    let chunk = cuts.iter().copied().max().unwrap_or(1);
    assert!(chunked.peak_buffered <= bound + chunk, "buffered {} > {bound} + {chunk}", chunked.peak_buffered);
}

/// Decodes a whole stream in one piece, then end of stream.
pub fn decode_whole<C: Decoder>(codec: &mut C, wire: &[u8]) -> (Vec<Vec<u8>>, Result<(), DecodeError>) {
    let out = decode_chunked(codec, wire, &[]);
    (out.frames, out.end)
}

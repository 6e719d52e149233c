//! Harnesses for the catalogue codecs (varint, delimited, netstring, COBS,
//! raw/fixed, and the run-time [`Codec`]).

use alloc::string::ToString;
use alloc::vec::Vec;

use bytes::BytesMut;

use super::{check_roundtrip, check_split, decode_chunked, Input};
use crate::codec::any::Codec;
use crate::codec::cobs::{max_encoded_len, CobsCodec};
use crate::codec::delimited::{DelimitedCodec, Overlong};
use crate::codec::netstring::NetstringCodec;
use crate::codec::varint::VarintCodec;
use crate::codec::{Decoder, Encoder};

/// A max frame length from two bytes: 0 means the codec's default.
fn max_from(input: &mut Input<'_>) -> Option<usize> {
    match input.u16() {
        0 => None,
        m => Some(usize::from(m % 2048)),
    }
}

/// Payloads: length-prefixed chunks of the rest of the input.
pub(super) fn payloads<'a>(input: &mut Input<'a>, max_len: u16) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    while !input.is_empty() && out.len() < 64 {
        let len = usize::from(input.u16() % max_len.max(1));
        out.push(input.bytes(len));
    }
    out
}

pub fn varint_codec(input: &mut Input<'_>) -> VarintCodec {
    let flags = input.byte();
    let mut b = VarintCodec::builder().allow_overlong(flags & 1 != 0);
    if let Some(m) = max_from(input) {
        b = b.max_frame_length(m);
    }
    b.build().unwrap_or_default()
}

pub fn delimited_codec(input: &mut Input<'_>) -> DelimitedCodec {
    let flags = input.byte();
    let dlen = usize::from(flags % 4) + 1;
    // Small alphabets so that delimiters occur in arbitrary data.
    let delim: Vec<u8> = input.bytes(dlen).iter().map(|b| b % 4 + b'\n').collect();
    let mut b = DelimitedCodec::builder().strip_cr(flags & 0x10 != 0).overlong(if flags & 0x20 != 0 {
        Overlong::Discard
    } else {
        Overlong::Fail
    });
    if !delim.is_empty() {
        b = b.delimiter(&delim);
    }
    if let Some(m) = max_from(input) {
        b = b.max_frame_length(m % 300);
    }
    b.build().unwrap_or_default()
}

pub fn netstring_codec(input: &mut Input<'_>) -> NetstringCodec {
    match max_from(input) {
        Some(m) => NetstringCodec::builder().max_frame_length(m).build().unwrap_or_default(),
        None => NetstringCodec::new(),
    }
}

pub fn cobs_codec(input: &mut Input<'_>) -> CobsCodec {
    match max_from(input) {
        Some(m) => CobsCodec::builder().max_frame_length(m).build().unwrap_or_default(),
        None => CobsCodec::new(),
    }
}

/// Arbitrary bytes, decoded whole and at cuts: same result, frames within
/// the limit, nothing produced from nothing, and the receive buffer never
/// beyond one frame's worth plus one read.
fn check_decode<D: Decoder + Clone>(codec: &D, wire: &[u8], cuts: &[usize], frame_bound: usize) {
    let out = check_split(codec, wire, cuts);
    let chunked = decode_chunked(&mut codec.clone(), wire, cuts);
    let payload_bytes: usize = out.frames.iter().map(Vec::len).sum();
    assert!(payload_bytes <= wire.len(), "more payload than input");
    for f in &out.frames {
        assert!(f.len() <= frame_bound, "frame of {} over the bound {}", f.len(), frame_bound);
    }
    let chunk = cuts.iter().copied().max().unwrap_or(wire.len()).max(1);
    assert!(
        chunked.peak_buffered <= frame_bound + chunk,
        "buffered {} > {} + {}",
        chunked.peak_buffered,
        frame_bound,
        chunk
    );
}

/// `varint_split`: arbitrary bytes split anywhere decode alike and stay
/// bounded; then arbitrary payloads round trip.
pub fn varint_split(data: &[u8]) {
    let mut input = Input::new(data);
    let codec = varint_codec(&mut input);
    let cuts = input.cuts(6);
    let split = usize::from(input.u16());
    let rest = input.rest();
    let (wire, more) = rest.split_at(split.min(rest.len()));
    check_decode(&codec, wire, &cuts, 10 + codec.max_frame_length());
    check_roundtrip(&codec, &payloads(&mut Input::new(more), 600), &cuts);
}

/// `delimited_split`: as `varint_split`, plus the D3 work bound: the search
/// examines at most `delimiter length` positions per byte, whatever the cuts.
pub fn delimited_split(data: &[u8]) {
    let mut input = Input::new(data);
    let codec = delimited_codec(&mut input);
    let cuts = input.cuts(6);
    let split = usize::from(input.u16());
    let rest = input.rest();
    let (wire, more) = rest.split_at(split.min(rest.len()));
    let dlen = codec.delimiter().len();
    let bound = codec.max_frame_length() + dlen;
    if codec.overlong() == Overlong::Fail {
        check_decode(&codec, wire, &cuts, bound);
    } else {
        // Discard mode keeps skipped bytes in the caller's buffer until the
        // next delimiter (documented); frames stay within the limit.
        let out = check_split(&codec, wire, &cuts);
        assert!(out.frames.iter().all(|f| f.len() <= codec.max_frame_length()));
    }
    let mut drip = codec.clone();
    let _ = decode_chunked(&mut drip, wire, &[1]);
    let limit = (dlen as u64) * (wire.len() as u64) * 2 + 64;
    assert!(drip.bytes_examined() <= limit, "examined {} > {}", drip.bytes_examined(), limit);
    check_roundtrip(&codec, &payloads(&mut Input::new(more), 300), &cuts);
}

/// `netstring_split`: as `varint_split`.
pub fn netstring_split(data: &[u8]) {
    let mut input = Input::new(data);
    let codec = netstring_codec(&mut input);
    let cuts = input.cuts(6);
    let split = usize::from(input.u16());
    let rest = input.rest();
    let (wire, more) = rest.split_at(split.min(rest.len()));
    check_decode(&codec, wire, &cuts, 22 + codec.max_frame_length());
    check_roundtrip(&codec, &payloads(&mut Input::new(more), 600), &cuts);
}

/// `cobs_roundtrip`: payloads (zero-heavy) round trip and stay within the
/// documented size bound; arbitrary bytes decode alike at any cuts.
pub fn cobs_roundtrip(data: &[u8]) {
    let mut input = Input::new(data);
    let codec = cobs_codec(&mut input);
    let cuts = input.cuts(6);
    let zero_mask = input.byte();
    let split = usize::from(input.u16());
    let rest = input.rest();
    let (wire, more) = rest.split_at(split.min(rest.len()));
    check_decode(&codec, wire, &cuts, max_encoded_len(codec.max_frame_length()));
    let mut owned: Vec<Vec<u8>> = Vec::new();
    for p in payloads(&mut Input::new(more), 1200) {
        // Turn bytes matching the mask into zeros so both long runs and
        // dense zeros occur.
        owned.push(
            p.iter().map(|&b| if zero_mask != 0 && b & zero_mask == zero_mask { 0 } else { b }).collect(),
        );
    }
    for p in &owned {
        let mut out = BytesMut::new();
        if codec.clone().encode(p, &mut out).is_ok() {
            assert!(out.len() <= max_encoded_len(p.len()), "C2: encoding over the bound");
            assert_eq!(out.iter().position(|&b| b == 0), Some(out.len() - 1), "zero inside the encoding");
        }
    }
    let refs: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
    check_roundtrip(&codec, &refs, &cuts);
}

/// A codec chosen by one byte of input from every framing's example specs
/// (the registry's list), with a max from two more.
pub fn any_codec_from(input: &mut Input<'_>) -> Codec {
    let examples: Vec<&str> = Codec::examples().collect();
    let pick = usize::from(input.byte()) % examples.len().max(1);
    let codec: Codec = examples.get(pick).and_then(|s| s.parse().ok()).unwrap_or_default();
    match max_from(input) {
        Some(m) => {
            let fallback = codec.clone();
            codec.with_max_frame_length(m.max(1)).unwrap_or(fallback)
        }
        None => codec,
    }
}

/// `any_codec`: the run-time codec picked from the first byte. Its spec
/// round-trips through `Display`; arbitrary bytes decode alike at any cuts;
/// payloads round trip (for a framing without boundaries, their
/// concatenation does).
pub fn any_codec(data: &[u8]) {
    let mut input = Input::new(data);
    let codec = any_codec_from(&mut input);
    let spec = codec.to_string();
    let reparsed: Codec = spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"));
    assert_eq!(reparsed.to_string(), spec, "spec does not round trip");
    assert_eq!(reparsed.max_frame_length(), codec.max_frame_length());
    assert_eq!(reparsed.discards(), codec.discards());
    let cuts = input.cuts(6);
    let split = usize::from(input.u16());
    let rest = input.rest();
    let (wire, more) = rest.split_at(split.min(rest.len()));
    if codec.preserves_boundaries() {
        let _ = check_split(&codec, wire, &cuts);
    } else {
        // Frames are wherever reads ended: only the bytes are invariant.
        let whole = decode_chunked(&mut codec.clone(), wire, &[]);
        let split = decode_chunked(&mut codec.clone(), wire, &cuts);
        assert_eq!(whole.frames.concat(), wire);
        assert_eq!(split.frames.concat(), wire);
        assert_eq!((whole.end, split.end), (Ok(()), Ok(())));
    }
    let payloads = payloads(&mut Input::new(more), 600);
    let payloads = fit_payloads(&mut codec.clone(), &payloads);
    let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    if codec.preserves_boundaries() {
        check_roundtrip(&codec, &refs, &cuts);
    } else {
        check_stream(&codec, &refs, &cuts);
    }
}

/// Payloads the codec's encoder can take: a payload of the wrong length for
/// fixed-size records is cut or padded to the record size; others stay as
/// they are (rejected ones are still offered, to test that a failed encode
/// leaves the output untouched).
pub fn fit_payloads<E: Encoder>(codec: &mut E, payloads: &[&[u8]]) -> Vec<Vec<u8>> {
    payloads
        .iter()
        .map(|p| match codec.encode(p, &mut BytesMut::new()) {
            Err(crate::error::EncodeError::WrongLength { expected, .. }) => {
                let mut p = p.to_vec();
                p.resize(expected, 0xa5);
                p
            }
            _ => p.to_vec(),
        })
        .collect()
}

/// A framing without boundaries: the decoded bytes are the encoded bytes.
fn check_stream<C: Decoder + Encoder + Clone>(codec: &C, payloads: &[&[u8]], cuts: &[usize]) {
    let mut enc = codec.clone();
    let mut wire = BytesMut::new();
    for p in payloads {
        let before = wire.clone();
        if enc.encode(p, &mut wire).is_err() {
            assert_eq!(wire, before);
        }
    }
    let out = decode_chunked(&mut codec.clone(), &wire, cuts);
    assert_eq!(out.end, Ok(()), "a byte stream always ends cleanly");
    assert!(out.frames.iter().all(|f| !f.is_empty() && f.len() <= codec.max_wire_len()));
    assert_eq!(out.frames.concat(), &wire[..], "bytes lost or reordered");
}

//! Harnesses for the framings of links that corrupt bytes (SLIP, KISS,
//! HDLC-style, sync-word, and the CRC trailer): arbitrary bytes decode alike
//! at any cuts and stay bounded, payloads round trip, and one corruption of
//! a good stream (a flipped bit, a dropped or an inserted byte) loses only
//! the frames it touches; every other frame comes out, in order.

use alloc::vec::Vec;

use bytes::BytesMut;

use super::catalogue::payloads;
use super::{check_roundtrip, check_split, decode_chunked, Input};
use crate::codec::any::Codec;
use crate::codec::{Decoder, Encoder};
use crate::error::DecodeError;

/// Picks one of `specs` (all in discard mode, and the same in strict mode)
/// and a max from the input.
fn pick(input: &mut Input<'_>, specs: &[&str]) -> (Codec, Codec) {
    let spec = specs.get(usize::from(input.byte()) % specs.len().max(1)).copied().unwrap_or("slip");
    let strict: Codec = spec.parse().unwrap_or_default();
    let strict = match input.u16() {
        0 => strict,
        m => {
            let fallback = strict.clone();
            strict.with_max_frame_length(usize::from(m % 600).max(1)).unwrap_or(fallback)
        }
    };
    let discard = strict.with_discard().unwrap_or_else(|_| strict.clone());
    (strict, discard)
}

fn resync(data: &[u8], specs: &[&str]) {
    let mut input = Input::new(data);
    let (strict, discard) = pick(&mut input, specs);
    let cuts = input.cuts(6);
    let kind = input.byte();
    let at = usize::from(input.u16());
    let byte = input.byte();
    let split = usize::from(input.u16());
    let rest = input.rest();
    let (wire, more) = rest.split_at(split.min(rest.len()));
    // Arbitrary bytes, in both modes: split invariance and bounded memory.
    for c in [&strict, &discard] {
        let out = check_split(c, wire, &cuts);
        assert!(out.frames.iter().all(|f| f.len() <= c.max_frame_length()), "frame over the maximum");
        let chunk = cuts.iter().copied().max().unwrap_or(wire.len()).max(1);
        let chunked = decode_chunked(&mut c.clone(), wire, &cuts);
        assert!(chunked.peak_buffered <= c.max_wire_len() + chunk, "buffered {}", chunked.peak_buffered);
    }
    // Payloads the framing carries (SLIP and KISS take no empty one).
    let payloads: Vec<&[u8]> =
        payloads(&mut Input::new(more), 300).into_iter().filter(|p| !p.is_empty()).collect();
    let mut accepted: Vec<&[u8]> = Vec::new();
    let mut wire = BytesMut::new();
    let mut spans = Vec::new();
    for p in payloads {
        let start = wire.len();
        if strict.clone().encode(p, &mut wire).is_ok() {
            accepted.push(p);
            spans.push(start..wire.len());
        }
    }
    check_roundtrip(&strict, &accepted, &cuts);
    check_roundtrip(&discard, &accepted, &cuts);
    if wire.is_empty() {
        return;
    }
    // One corruption.
    let mut bad = wire.to_vec();
    let at = match kind % 3 {
        0 => {
            let at = at % bad.len();
            if let Some(b) = bad.get_mut(at) {
                *b ^= 1 << (byte % 8);
            }
            at
        }
        1 => {
            let at = at % bad.len();
            bad.remove(at);
            at
        }
        _ => {
            let at = at % (bad.len() + 1);
            bad.insert(at, byte);
            at
        }
    };
    let touched = |s: &core::ops::Range<usize>| s.start <= at + 1 && at <= s.end;
    let first = spans.iter().position(touched).unwrap_or(spans.len());
    let last = spans.iter().rposition(touched).unwrap_or(first);
    let before = accepted.get(..first).unwrap_or_default();
    let after = accepted.get(last + 1..).unwrap_or_default();
    let out = decode_chunked(&mut discard.clone(), &bad, &cuts);
    let n = out.frames.len();
    assert!(n >= before.len() + after.len(), "frames lost: {} of {} + {}", n, before.len(), after.len());
    assert!(out.frames.iter().zip(before).all(|(a, b)| a == b), "a frame before the corruption changed");
    assert!(out.frames[n - after.len()..].iter().zip(after).all(|(a, b)| a == b), "a frame after it changed");
    if last + 1 < spans.len() {
        assert_eq!(out.end, Ok(()), "an untouched last frame, but the stream did not end cleanly");
    } else {
        assert!(matches!(out.end, Ok(()) | Err(DecodeError::Truncated { .. })), "{:?}", out.end);
    }
}

/// `slip_resync`: SLIP, with and without a CRC trailer.
pub fn slip_resync(data: &[u8]) {
    resync(data, &["slip", "slip,crc=crc32c", "slip,crc=crc16-ccitt-false"]);
}

/// `kiss_resync`: KISS, with and without a CRC trailer.
pub fn kiss_resync(data: &[u8]) {
    resync(data, &["kiss", "kiss,crc=crc16-x25"]);
}

/// `hdlc_resync`: HDLC-style framing with FCS-16 and FCS-32.
pub fn hdlc_resync(data: &[u8]) {
    resync(data, &["hdlc", "hdlc:fcs32"]);
}

/// `sync_resync`: sync-word framing with several sync words.
pub fn sync_resync(data: &[u8]) {
    resync(data, &["sync", "sync:a5", "sync:7e7e7e7e", "sync,crc=crc16-xmodem"]);
}

/// `checksum_resync`: the CRC trailer over COBS and the length framings
/// (which recover from a corrupt payload, not from a corrupt length: for
/// those the property holds only when the length survived, so only COBS
/// is corrupted here; the others round trip and decode arbitrary bytes).
pub fn checksum_resync(data: &[u8]) {
    if data.first().is_some_and(|b| b & 1 == 1) {
        resync(data.get(1..).unwrap_or_default(), &["cobs,crc=crc32c", "cobs,crc=crc16-xmodem"]);
    } else {
        let mut input = Input::new(data.get(1..).unwrap_or_default());
        let (strict, _) =
            pick(&mut input, &["len,crc=crc32", "varint,crc=crc16-x25", "netstring,crc=crc32c"]);
        let cuts = input.cuts(6);
        let split = usize::from(input.u16());
        let rest = input.rest();
        let (wire, more) = rest.split_at(split.min(rest.len()));
        let _ = check_split(&strict, wire, &cuts);
        let payloads = payloads(&mut Input::new(more), 300);
        check_roundtrip(&strict, &payloads, &cuts);
    }
}

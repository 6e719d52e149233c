//! COBS: properties, BAD_INPUTS C1–C3, vectors against the `cobs` crate.

mod common;

use bytes::BytesMut;
use common::*;
use proptest::prelude::*;
use sockframe::codec::cobs::max_encoded_len;
use sockframe::fuzzing::{check_roundtrip, decode_chunked};
use sockframe::{CobsCodec, DecodeError, Decoder, EncodeError, Encoder};

fn small() -> CobsCodec {
    CobsCodec::builder().max_frame_length(300).build().unwrap()
}

/// Payloads with both zero-dense and long zero-free stretches.
fn cobs_payloads() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        prop_oneof![
            prop::collection::vec(prop_oneof![any::<u8>(), Just(0u8)], 0..100),
            prop::collection::vec(1u8..=255, 250..520),
        ],
        0..6,
    )
}

fn encode(p: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    CobsCodec::new().encode(p, &mut out).unwrap();
    out.to_vec()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn round_trip_at_any_cuts(payloads in cobs_payloads(), cuts in cuts()) {
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        check_roundtrip(&CobsCodec::new(), &refs, &cuts);
        check_roundtrip(&small(), &refs, &cuts);
    }

    #[test]
    fn prefixes_need_more(payloads in prop::collection::vec(prop::collection::vec(prop_oneof![any::<u8>(), Just(0u8)], 0..60), 0..5)) {
        check_prefixes(&CobsCodec::new(), &payloads);
    }

    #[test]
    fn arbitrary_bytes_bounded(wire in prop::collection::vec(prop_oneof![4 => 1u8..=255, 1 => Just(0u8)], 0..1200), cuts in cuts()) {
        // BAD_INPUTS C1/C3: whatever the bytes, a typed error or frames.
        check_arbitrary(&small(), &wire, &cuts, max_encoded_len(300));
    }

    // Compatibility with the cobs crate (which leaves the delimiter to the
    // caller, and encodes the empty payload as nothing rather than 01).
    #[test]
    fn cobs_crate_vectors(p in prop_oneof![
        prop::collection::vec(any::<u8>(), 1..600),
        prop::collection::vec(1u8..=255, 1..800),
    ]) {
        let ours = encode(&p);
        let mut theirs = cobs::encode_vec(&p);
        prop_assert_eq!(&ours[..ours.len() - 1], &theirs[..]);
        prop_assert_eq!(cobs::decode_vec(&ours[..ours.len() - 1]).unwrap(), p.clone());
        theirs.push(0);
        let mut buf = BytesMut::from(&theirs[..]);
        prop_assert_eq!(CobsCodec::new().decode_bytes(&mut buf).unwrap().unwrap(), &p[..]);
        // C2: the documented bound holds, and matches the crate's.
        prop_assert!(ours.len() <= max_encoded_len(p.len()));
        prop_assert!(ours.len() <= cobs::max_encoding_length(p.len()) + 1);
    }
}

#[test]
fn c1_bad_code_bytes_and_empty_frame() {
    // BAD_INPUTS C1: `[0x02]` then the delimiter: the code points past the end.
    let mut buf = vec![0x02, 0x00];
    assert!(matches!(CobsCodec::new().decode(&mut buf), Err(DecodeError::InvalidFraming { offset: 0, .. })));
    // A later code byte pointing past the end.
    let mut buf = vec![0x02, 0x41, 0x05, 0x42, 0x00];
    assert!(matches!(CobsCodec::new().decode(&mut buf), Err(DecodeError::InvalidFraming { offset: 2, .. })));
    // A zero inside what the code byte claims is one block ends the frame early.
    let mut buf = vec![0x04, 0x41, 0x00, 0x42, 0x00];
    assert!(matches!(CobsCodec::new().decode(&mut buf), Err(DecodeError::InvalidFraming { .. })));
    // The empty frame (lone delimiter).
    let mut buf = vec![0x00];
    assert_eq!(
        CobsCodec::new().decode(&mut buf),
        Err(DecodeError::InvalidFraming { offset: 0, reason: "empty COBS frame" })
    );
    // `[0x02]` with no delimiter yet: need more; at EOF, truncated.
    let mut buf = vec![0x02];
    assert_eq!(CobsCodec::new().decode(&mut buf), Ok(None));
    assert_eq!(CobsCodec::new().decode_eof(&mut buf), Err(DecodeError::Truncated { pending: 1 }));
    // The empty payload is 01 00.
    assert_eq!(encode(b""), [0x01, 0x00]);
    let mut buf = vec![0x01, 0x00];
    assert_eq!(CobsCodec::new().decode(&mut buf).unwrap().unwrap().len(), 0);
}

#[test]
fn c2_encoded_length_bound_for_254k_non_zero_bytes() {
    // BAD_INPUTS C2
    for k in 0..=8 {
        for extra in [0usize, 1, 253] {
            let n = 254 * k + extra;
            let p: Vec<u8> = (0..n).map(|i| (i % 255 + 1) as u8).collect();
            let e = encode(&p);
            assert!(e.len() <= max_encoded_len(n), "n={n}: {} > {}", e.len(), max_encoded_len(n));
            assert_eq!(e.iter().position(|&b| b == 0), Some(e.len() - 1));
            let mut buf = BytesMut::from(&e[..]);
            assert_eq!(CobsCodec::new().decode_bytes(&mut buf).unwrap().unwrap(), &p[..]);
        }
    }
    assert_eq!(max_encoded_len(254 * 3), 254 * 3 + 3 + 2);
}

#[test]
fn c3_no_terminating_zero() {
    // BAD_INPUTS C3: error once the longest frame max allows has arrived.
    let out = decode_chunked(&mut small(), &[0x11; 10_000], &[9]);
    assert_eq!(out.end, Err(DecodeError::DelimiterNotFound { max: 300 }));
    assert!(out.peak_buffered < max_encoded_len(300));
    // A frame whose encoding is within the bound but decodes over max.
    // max 254 allows 256 body bytes; 128 blocks `02 41` decode to 255 bytes.
    let mut c = CobsCodec::builder().max_frame_length(254).build().unwrap();
    let mut buf = [0x02, 0x41].repeat(128);
    buf.push(0);
    assert_eq!(c.decode(&mut buf), Err(DecodeError::FrameTooLarge { declared: 255, max: 254 }));
}

#[test]
fn encoder_limit_leaves_output_untouched() {
    let mut out = BytesMut::from(&b"x"[..]);
    assert_eq!(small().encode(&[1; 301], &mut out), Err(EncodeError::PayloadTooLarge { len: 301, max: 300 }));
    assert_eq!(&out[..], b"x");
    assert_eq!(small().envelope(b"abc"), Ok(None));
}

#[test]
fn builder_rejects_nonsense() {
    assert!(CobsCodec::builder().max_frame_length(usize::MAX).build().is_err());
}

#[test]
fn limits_at_their_exact_boundaries() {
    use sockframe::limits::NO_LIMIT;
    // The largest maximum whose encoding still fits isize::MAX.
    let c = CobsCodec::builder().max_frame_length(NO_LIMIT / 2).build().unwrap();
    assert_eq!(c.max_frame_length(), NO_LIMIT / 2);
    assert!(CobsCodec::builder().max_frame_length(NO_LIMIT / 2 + 1).build().is_err());
    assert_eq!(CobsCodec::builder().max_frame_length(10).build().unwrap().max_frame_length(), 10);
    // C3 exactly: max 10 allows a body of 11 bytes (code byte + 10); the
    // 12th byte without a zero is the error, not before.
    let mut c = CobsCodec::builder().max_frame_length(10).build().unwrap();
    assert_eq!(c.max_wire_len(), 12);
    let mut body = [0x11u8; 11];
    assert_eq!(c.decode(&mut body), Ok(None));
    let mut body = [0x11u8; 12];
    assert_eq!(c.decode(&mut body), Err(DecodeError::DelimiterNotFound { max: 10 }));
    // The largest frame itself decodes.
    let mut c = CobsCodec::builder().max_frame_length(10).build().unwrap();
    let mut wire = encode(&[0x22; 10]);
    assert_eq!(wire.len(), 12);
    assert_eq!(c.decode(&mut wire).map(|f| f.map(|f| f.len())), Ok(Some(10)));
}

#[test]
fn envelope_refuses_what_encode_refuses() {
    // COBS has no envelope (it rewrites the payload), but the size check is
    // the same, so a transport asking for one gets the error first.
    let mut c = CobsCodec::builder().max_frame_length(3).build().unwrap();
    assert_eq!(c.envelope(b"abc"), Ok(None));
    assert_eq!(c.envelope(b"abcd"), Err(EncodeError::PayloadTooLarge { len: 4, max: 3 }));
}

//! Raw chunks and fixed-size records.

mod common;

use bytes::BytesMut;
use common::*;
use proptest::prelude::*;
use sockframe::fuzzing::{check_roundtrip, decode_chunked};
use sockframe::{DecodeError, Decoder, EncodeError, Encoder, FixedCodec, RawCodec};

proptest! {
    #![proptest_config(config())]

    #[test]
    fn raw_delivers_every_byte_in_order(wire in prop::collection::vec(any::<u8>(), 0..2000), cuts in cuts(), max in 1usize..100) {
        let codec = RawCodec::with_max_frame_length(max).unwrap();
        let out = decode_chunked(&mut codec.clone(), &wire, &cuts);
        prop_assert_eq!(out.end, Ok(()));
        prop_assert!(out.frames.iter().all(|f| !f.is_empty() && f.len() <= max));
        prop_assert_eq!(out.frames.concat(), wire);
        // Nothing is held back: after each read, everything was delivered.
        prop_assert_eq!(out.peak_buffered, 0);
    }

    #[test]
    fn raw_encodes_verbatim(payloads in payloads(100)) {
        let (wire, accepted) = encode_all(&mut RawCodec::new(), &payloads);
        let all: Vec<u8> = accepted.into_iter().flat_map(|(p, _)| p).collect();
        prop_assert_eq!(&wire[..], &all[..]);
    }

    #[test]
    fn fixed_round_trip(size in 1usize..20, records in prop::collection::vec(any::<u8>(), 0..400), cuts in cuts()) {
        let codec = FixedCodec::new(size).unwrap();
        let recs: Vec<&[u8]> = records.chunks(size).collect(); // the last may be short: rejected
        check_roundtrip(&codec, &recs, &cuts);
        let owned: Vec<Vec<u8>> = recs.iter().map(|r| r.to_vec()).collect();
        check_prefixes(&codec, &owned);
    }

    #[test]
    fn fixed_arbitrary_bytes(size in 1usize..20, wire in prop::collection::vec(any::<u8>(), 0..400), cuts in cuts()) {
        check_arbitrary(&FixedCodec::new(size).unwrap(), &wire, &cuts, size);
    }
}

#[test]
fn raw_eof_is_always_clean() {
    let mut c = RawCodec::new();
    let mut buf = b"tail".to_vec();
    let f = c.decode_eof(&mut buf).unwrap().unwrap();
    assert_eq!(f.payload(&buf), b"tail");
    assert_eq!(c.decode_eof(&mut []), Ok(None));
}

#[test]
fn fixed_truncated_and_wrong_length() {
    let mut c = FixedCodec::new(4).unwrap();
    let mut buf = b"abc".to_vec();
    assert_eq!(c.decode_eof(&mut buf), Err(DecodeError::Truncated { pending: 3 }));
    let mut out = BytesMut::from(&b"q"[..]);
    assert_eq!(c.encode(b"abcde", &mut out), Err(EncodeError::WrongLength { len: 5, expected: 4 }));
    assert_eq!(&out[..], b"q");
}

#[test]
fn builders_reject_nonsense() {
    assert!(RawCodec::with_max_frame_length(0).is_err());
    assert!(FixedCodec::new(0).is_err());
    assert!(FixedCodec::new(usize::MAX).is_err());
    let mut out = BytesMut::new();
    let mut raw = RawCodec::with_max_frame_length(2).unwrap();
    assert_eq!(raw.encode(b"abc", &mut out), Err(EncodeError::PayloadTooLarge { len: 3, max: 2 }));
    assert!(out.is_empty());
}

#[test]
fn sizes_at_their_limits() {
    use sockframe::limits::NO_LIMIT;
    let raw = RawCodec::with_max_frame_length(NO_LIMIT).unwrap();
    assert_eq!((raw.max_frame_length(), raw.max_wire_len()), (NO_LIMIT, NO_LIMIT));
    assert!(RawCodec::with_max_frame_length(NO_LIMIT + 1).is_err());
    assert!(RawCodec::with_max_frame_length(0).is_err());
    let raw = RawCodec::with_max_frame_length(7).unwrap();
    assert_eq!((raw.max_frame_length(), raw.max_wire_len()), (7, 7));
    let fixed = FixedCodec::new(NO_LIMIT).unwrap();
    assert_eq!((fixed.size(), fixed.max_wire_len()), (NO_LIMIT, NO_LIMIT));
    assert!(FixedCodec::new(NO_LIMIT + 1).is_err());
    assert!(FixedCodec::new(0).is_err());
    let fixed = FixedCodec::new(3).unwrap();
    assert_eq!((fixed.size(), fixed.max_wire_len()), (3, 3));
}

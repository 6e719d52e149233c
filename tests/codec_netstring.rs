//! Netstrings: properties, BAD_INPUTS N1–N3, the spec's examples.

mod common;

use bytes::BytesMut;
use common::*;
use proptest::prelude::*;
use sockframe::fuzzing::{check_roundtrip, decode_chunked};
use sockframe::{DecodeError, Decoder, EncodeError, Encoder, NetstringCodec};

fn small() -> NetstringCodec {
    NetstringCodec::builder().max_frame_length(120).build().unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn round_trip_at_any_cuts(payloads in payloads(200), cuts in cuts()) {
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        check_roundtrip(&NetstringCodec::new(), &refs, &cuts);
        check_roundtrip(&small(), &refs, &cuts);
    }

    #[test]
    fn prefixes_need_more(payloads in payloads(150)) {
        check_prefixes(&NetstringCodec::new(), &payloads);
    }

    #[test]
    fn arbitrary_bytes_bounded(wire in prop::collection::vec(prop::sample::select(b"0123456789:,ab".to_vec()), 0..400), cuts in cuts()) {
        check_arbitrary(&small(), &wire, &cuts, 120 + 5);
    }

    #[test]
    fn length_is_plain_decimal(len in 0usize..100_000) {
        let env = NetstringCodec::new().envelope(&vec![0; len]).unwrap().unwrap();
        let head = format!("{len}:");
        prop_assert_eq!(env.head(), head.as_bytes());
        prop_assert_eq!(env.tail(), b",");
    }
}

#[test]
fn spec_examples() {
    // From https://cr.yp.to/proto/netstrings.txt
    let mut out = BytesMut::new();
    NetstringCodec::new().encode(b"hello world!", &mut out).unwrap();
    assert_eq!(&out[..], b"12:hello world!,");
    let mut out = BytesMut::new();
    NetstringCodec::new().encode(b"", &mut out).unwrap();
    assert_eq!(&out[..], b"0:,");
    assert_eq!(
        decode_whole(&mut NetstringCodec::new(), b"12:hello world!,0:,"),
        (vec![b"hello world!".to_vec(), vec![]], Ok(()))
    );
}

#[test]
fn n1_leading_zero_empty_length_and_empty_frame() {
    // BAD_INPUTS N1: `01:a,` error, `:` error, `0:,` the empty frame.
    let mut buf = b"01:a,".to_vec();
    assert!(matches!(NetstringCodec::new().decode(&mut buf), Err(DecodeError::MalformedLength { .. })));
    let mut buf = b":".to_vec();
    assert!(matches!(NetstringCodec::new().decode(&mut buf), Err(DecodeError::MalformedLength { .. })));
    let mut buf = b"0:,".to_vec();
    let f = NetstringCodec::new().decode(&mut buf).unwrap().unwrap();
    assert_eq!((f.consumed(), f.len()), (3, 0));
    // Also split: the leading zero is caught when the second digit arrives.
    let out = decode_chunked(&mut NetstringCodec::new(), b"3:abc,01:a,", &[1]);
    assert_eq!(out.frames, [b"abc"]);
    assert!(matches!(out.end, Err(DecodeError::MalformedLength { .. })));
    let mut buf = b"x:".to_vec();
    assert!(matches!(
        NetstringCodec::new().decode(&mut buf),
        Err(DecodeError::InvalidFraming { offset: 0, .. })
    ));
}

#[test]
fn n2_more_digits_than_max_needs() {
    // BAD_INPUTS N2: max 120 has 3 digits; the 4th digit is an error, and
    // an endless digit stream is rejected after 4 bytes without overflow.
    let mut c = small();
    let mut buf = b"999".to_vec();
    assert_eq!(c.decode(&mut buf), Ok(None)); // 3 digits may still be followed by ':'
    buf.push(b':');
    assert_eq!(c.decode(&mut buf), Err(DecodeError::FrameTooLarge { declared: 999, max: 120 }));
    let mut buf = b"1000".to_vec();
    assert!(matches!(small().decode(&mut buf), Err(DecodeError::MalformedLength { .. })));
    let mut buf = vec![b'9'; 100_000];
    assert!(matches!(NetstringCodec::new().decode(&mut buf), Err(DecodeError::MalformedLength { .. })));
    let out = decode_chunked(&mut NetstringCodec::new(), &[b'9'; 1000], &[1]);
    assert!(out.peak_buffered <= 8);
    // Too large once the colon arrives.
    let mut buf = b"121:".to_vec();
    assert_eq!(small().decode(&mut buf), Err(DecodeError::FrameTooLarge { declared: 121, max: 120 }));
}

#[test]
fn n3_missing_or_wrong_comma_and_length_exactly_max() {
    // BAD_INPUTS N3
    let mut buf = b"3:abc;".to_vec();
    assert_eq!(
        NetstringCodec::new().decode(&mut buf),
        Err(DecodeError::InvalidFraming { offset: 5, reason: "expected ',' after the payload" })
    );
    let mut buf = b"3:abc".to_vec();
    assert_eq!(NetstringCodec::new().decode(&mut buf), Ok(None));
    assert_eq!(NetstringCodec::new().decode_eof(&mut buf), Err(DecodeError::Truncated { pending: 5 }));
    // Exactly max is accepted, by decoder and encoder.
    let mut wire = b"120:".to_vec();
    wire.extend_from_slice(&[b'x'; 120]);
    wire.push(b',');
    let f = small().decode(&mut wire).unwrap().unwrap();
    assert_eq!(f.len(), 120);
    let mut out = BytesMut::from(&b"q"[..]);
    assert!(small().encode(&[0; 120], &mut out).is_ok());
    let before = out.clone();
    assert_eq!(small().encode(&[0; 121], &mut out), Err(EncodeError::PayloadTooLarge { len: 121, max: 120 }));
    assert_eq!(out, before);
}

#[test]
fn builder_rejects_nonsense() {
    assert!(NetstringCodec::builder().max_frame_length(usize::MAX).build().is_err());
    assert_eq!(NetstringCodec::new().max_frame_length(), 8 * 1024 * 1024);
}

//! Varint length prefix: properties, BAD_INPUTS V1–V4, prost vectors.

mod common;

use bytes::BytesMut;
use common::*;
use proptest::prelude::*;
use sockframe::fuzzing::check_roundtrip;
use sockframe::{DecodeError, Decoder, EncodeError, Encoder, VarintCodec};

fn small() -> VarintCodec {
    VarintCodec::builder().max_frame_length(200).build().unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn round_trip_at_any_cuts(payloads in payloads(300), cuts in cuts()) {
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        check_roundtrip(&VarintCodec::new(), &refs, &cuts);
        check_roundtrip(&small(), &refs, &cuts); // some rejected: output untouched
    }

    #[test]
    fn prefixes_need_more(payloads in payloads(200)) {
        check_prefixes(&VarintCodec::new(), &payloads);
    }

    #[test]
    fn arbitrary_bytes_bounded(wire in prop::collection::vec(any::<u8>(), 0..600), cuts in cuts()) {
        check_arbitrary(&small(), &wire, &cuts, 10 + 200);
    }

    // Compatibility: prost writes and reads the same bytes.
    #[test]
    fn prost_vectors(len in prop_oneof![0usize..20_000, 0usize..(1 << 23)]) {
        let mut ours = BytesMut::new();
        let payload = vec![0xab; len];
        VarintCodec::new().encode(&payload, &mut ours).unwrap();
        let mut theirs = BytesMut::new();
        prost::encode_length_delimiter(len, &mut theirs).unwrap();
        prop_assert_eq!(&ours[..theirs.len()], &theirs[..]);
        prop_assert_eq!(prost::decode_length_delimiter(&ours[..]).unwrap(), len);
        theirs.extend_from_slice(&payload);
        prop_assert_eq!(VarintCodec::new().decode_bytes(&mut theirs).unwrap().unwrap().len(), len);
    }
}

#[test]
fn prost_fixed_vectors() {
    for len in [0usize, 1, 127, 128, 255, 300, 16_383, 16_384, 2_097_151, 2_097_152, 8 * 1024 * 1024] {
        let mut theirs = BytesMut::new();
        prost::encode_length_delimiter(len, &mut theirs).unwrap();
        assert_eq!(theirs.len(), prost::length_delimiter_len(len));
        let env = VarintCodec::new().envelope(&vec![0; len]).unwrap().unwrap();
        assert_eq!(env.head(), &theirs[..], "length {len}");
    }
    assert_eq!(VarintCodec::new().envelope(b"").unwrap().unwrap().head(), [0x00]);
}

#[test]
fn v1_eleven_continuation_bytes_error_within_ten() {
    // BAD_INPUTS V1: the error comes after at most 10 bytes.
    let mut c = VarintCodec::new();
    let mut wire = [0xffu8; 10];
    assert_eq!(c.decode(&mut wire[..9]), Ok(None));
    assert_eq!(
        c.decode(&mut wire),
        Err(DecodeError::MalformedLength { reason: "varint longer than 10 bytes" })
    );
    let mut wire = [0x80u8; 11];
    assert!(matches!(c.decode(&mut wire), Err(DecodeError::MalformedLength { .. })));
}

#[test]
fn v2_tenth_byte_overflows_u64() {
    // BAD_INPUTS V2
    let mut wire = [0xffu8; 10];
    wire[9] = 0x02;
    assert_eq!(
        VarintCodec::new().decode(&mut wire),
        Err(DecodeError::MalformedLength { reason: "varint overflows u64" })
    );
    // u64::MAX itself is well-formed, and far over the maximum.
    wire[9] = 0x01;
    assert_eq!(
        VarintCodec::new().decode(&mut wire),
        Err(DecodeError::FrameTooLarge { declared: u64::MAX, max: 8 * 1024 * 1024 })
    );
}

#[test]
fn v3_overlong_rejected_by_default_accepted_on_request() {
    // BAD_INPUTS V3
    let overlong = [&b"\x80\x00"[..], b"\x81\x80\x00x", b"\xff\x00"];
    for w in overlong {
        let mut buf = w.to_vec();
        assert_eq!(
            VarintCodec::new().decode(&mut buf),
            Err(DecodeError::MalformedLength { reason: "overlong varint encoding" })
        );
    }
    let mut lenient = VarintCodec::builder().allow_overlong(true).build().unwrap();
    let mut buf = b"\x81\x80\x00x".to_vec();
    let f = lenient.decode(&mut buf).unwrap().unwrap();
    assert_eq!(f.payload(&buf), b"x");
    // Prost reads the overlong form the lenient decoder accepts.
    assert_eq!(prost::decode_length_delimiter(&b"\x81\x80\x00"[..]).unwrap(), 1);
}

#[test]
fn v4_varint_cut_by_eof_is_truncated() {
    // BAD_INPUTS V4
    let mut c = VarintCodec::new();
    let mut buf = b"\xac".to_vec();
    assert_eq!(c.decode(&mut buf), Ok(None));
    assert_eq!(c.decode_eof(&mut buf), Err(DecodeError::Truncated { pending: 1 }));
    // And a complete varint with a short payload.
    let mut buf = b"\x05hel".to_vec();
    assert_eq!(VarintCodec::new().decode_eof(&mut buf), Err(DecodeError::Truncated { pending: 4 }));
}

#[test]
fn max_is_checked_before_buffering_and_inclusive() {
    let mut c = small();
    let mut buf = b"\xc9\x01".to_vec(); // 201
    assert_eq!(c.decode(&mut buf), Err(DecodeError::FrameTooLarge { declared: 201, max: 200 }));
    let mut buf = b"\xc8\x01".to_vec(); // 200: need more, not an error
    assert_eq!(small().decode(&mut buf), Ok(None));
    let mut out = BytesMut::from(&b"keep"[..]);
    assert_eq!(small().encode(&[0; 201], &mut out), Err(EncodeError::PayloadTooLarge { len: 201, max: 200 }));
    assert_eq!(&out[..], b"keep");
    assert!(small().encode(&[0; 200], &mut out).is_ok());
}

#[test]
fn builder_rejects_nonsense() {
    assert!(VarintCodec::builder().max_frame_length(usize::MAX).build().is_err());
}

#[test]
fn builder_settings_are_reported_back() {
    use sockframe::limits::NO_LIMIT;
    let c = VarintCodec::builder().max_frame_length(NO_LIMIT).allow_overlong(true).build().unwrap();
    assert_eq!((c.max_frame_length(), c.allows_overlong()), (NO_LIMIT, true));
    assert!(VarintCodec::builder().max_frame_length(NO_LIMIT + 1).build().is_err());
    let c = VarintCodec::builder().max_frame_length(5).build().unwrap();
    assert_eq!((c.max_frame_length(), c.allows_overlong()), (5, false));
}

#[test]
fn one_byte_lengths_are_checked_against_max_inclusively() {
    let mut c = VarintCodec::builder().max_frame_length(5).build().unwrap();
    let mut wire = *b"\x05hello";
    assert_eq!(c.decode(&mut wire).map(|f| f.map(|f| f.len())), Ok(Some(5)));
    let mut c = VarintCodec::builder().max_frame_length(5).build().unwrap();
    let mut wire = *b"\x06hello!";
    assert_eq!(c.decode(&mut wire), Err(DecodeError::FrameTooLarge { declared: 6, max: 5 }));
}

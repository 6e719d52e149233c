//! Properties of the length-prefix codec over arbitrary configurations.

use bytes::BytesMut;
use proptest::prelude::*;
use sockframe::fuzzing::{check_roundtrip, check_split, decode_chunked};
use sockframe::{DecodeError, Decoder, Encoder, Endian, LengthBuilder, LengthCodec};

fn endian() -> impl Strategy<Value = Endian> {
    prop_oneof![Just(Endian::Big), Just(Endian::Little), Just(Endian::Native)]
}

/// Configurations whose encoder output decodes back (offset 0, default skip).
fn symmetric_codec() -> impl Strategy<Value = LengthCodec> {
    (1usize..=8, endian(), -8isize..=8, prop::option::of(0usize..2000)).prop_filter_map(
        "config must build",
        |(width, endian, adjustment, max)| {
            let mut b = LengthCodec::builder().width(width).endian(endian).length_adjustment(adjustment);
            if let Some(max) = max {
                b = b.max_frame_length(max);
            }
            b.build().ok()
        },
    )
}

/// Any layout tokio-util's builder can express.
fn any_builder() -> impl Strategy<Value = LengthBuilder> {
    (
        1usize..=8,
        endian(),
        0usize..4,
        -8isize..=8,
        prop::option::of(0usize..16),
        prop::option::of(0usize..2000),
    )
        .prop_map(|(width, endian, offset, adjustment, skip, max)| {
            let mut b = LengthCodec::builder()
                .width(width)
                .endian(endian)
                .length_field_offset(offset)
                .length_adjustment(adjustment);
            if let Some(skip) = skip {
                b = b.num_skip(skip);
            }
            if let Some(max) = max {
                b = b.max_frame_length(max);
            }
            b
        })
}

fn payloads() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..12)
}

fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..64, 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every accepted payload decodes back, in order, at any cuts, and
    /// re-encodes to the same bytes; a rejected one leaves the output as it was.
    #[test]
    fn round_trip(codec in symmetric_codec(), payloads in payloads(), cuts in cuts()) {
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        check_roundtrip(&codec, &refs, &cuts);
    }

    /// BAD_INPUTS L6: any cut points, and a 1-byte drip, give the same frames
    /// and the same error as one-shot decoding, for any bytes and layout.
    #[test]
    fn split_invariance(builder in any_builder(), wire in prop::collection::vec(any::<u8>(), 0..600), cuts in cuts()) {
        if let Ok(codec) = builder.build() {
            check_split(&codec, &wire, &cuts);
        }
    }

    /// Every strict prefix of a valid stream yields its complete frames, then
    /// need-more; at end of stream the partial frame is `Truncated` with the
    /// exact number of pending bytes (BAD_INPUTS L8).
    #[test]
    fn prefixes_need_more(codec in symmetric_codec(), payloads in payloads()) {
        let mut enc = codec.clone();
        let mut wire = BytesMut::new();
        let mut ends = vec![0usize];
        let mut accepted = Vec::new();
        for p in &payloads {
            if enc.encode(p, &mut wire).is_ok() {
                ends.push(wire.len());
                accepted.push(p.clone());
            }
        }
        for cut in 0..wire.len() {
            let complete = ends.iter().filter(|&&e| e <= cut).count() - 1;
            let boundary = ends[complete];
            let mut dec = codec.clone();
            let mut buf = wire[..cut].to_vec();
            let mut got = Vec::new();
            let mut used = 0;
            while let Some(f) = dec.decode(&mut buf[used..]).unwrap() {
                got.push(f.payload(&buf[used..]).to_vec());
                used += f.consumed();
            }
            prop_assert_eq!(&got[..], &accepted[..complete]);
            prop_assert_eq!(used, boundary);
            let eof = dec.decode_eof(&mut buf[used..]);
            if cut == boundary {
                prop_assert_eq!(eof, Ok(None));
            } else {
                prop_assert_eq!(eof, Err(DecodeError::Truncated { pending: cut - boundary }));
            }
        }
    }

    /// Arbitrary bytes never panic, and a receiver reading in chunks never
    /// holds more than header + max + |adjustment| + one chunk (BAD_INPUTS L2).
    #[test]
    fn arbitrary_bytes_bounded(builder in any_builder(), wire in prop::collection::vec(any::<u8>(), 0..2000), chunk in 1usize..200) {
        if let Ok(codec) = builder.build() {
            let out = decode_chunked(&mut codec.clone(), &wire, &[chunk]);
            let bound = codec.header_len() + codec.max_frame_length() + 8 + chunk;
            prop_assert!(out.peak_buffered <= bound, "buffered {} > {}", out.peak_buffered, bound);
            let total: usize = out.frames.iter().map(Vec::len).sum();
            prop_assert!(total <= wire.len());
        }
    }

    /// BAD_INPUTS E1: a payload the codec cannot carry is rejected and the
    /// output buffer is byte-identical.
    #[test]
    fn encode_failure_leaves_output_untouched(codec in symmetric_codec(), prefix in prop::collection::vec(any::<u8>(), 0..40), extra in 1usize..50) {
        let mut enc = codec.clone();
        let too_long = vec![0xAB; codec.max_frame_length() + extra];
        let mut out = BytesMut::from(&prefix[..]);
        prop_assert!(enc.encode(&too_long, &mut out).is_err());
        prop_assert_eq!(&out[..], &prefix[..]);
    }
}

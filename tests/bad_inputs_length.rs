//! BAD_INPUTS rows L1, L3, L4, L6–L9 and E1 (L2 and L5 count allocations,
//! so they live alone in `zero_alloc.rs`) for the length-prefix codec, one test (at
//! least) per row, each naming its row.

use bytes::BytesMut;
use sockframe::fuzzing::decode_chunked;
use sockframe::{ConfigError, DecodeError, Decoder, EncodeError, Encoder, Frames, LengthCodec};

fn encode_all(codec: &mut LengthCodec, payloads: &[&[u8]]) -> Vec<u8> {
    let mut out = BytesMut::new();
    for p in payloads {
        codec.encode(p, &mut out).unwrap();
    }
    out.to_vec()
}

/// BAD_INPUTS L1: `FF FF FF FF` is refused as soon as the header is complete.
#[test]
fn l1_declared_length_over_max_is_refused_at_header() {
    let mut codec = LengthCodec::new();
    let mut wire = *b"\xff\xff\xff\xff";
    for n in 0..4 {
        assert_eq!(codec.decode(&mut wire[..n]), Ok(None), "header incomplete at {n} bytes");
    }
    assert_eq!(
        codec.decode(&mut wire),
        Err(DecodeError::FrameTooLarge { declared: 0xffff_ffff, max: 8 * 1024 * 1024 })
    );
    // One past a configured max, with a valid frame before it: the frame is delivered first.
    let mut codec = LengthCodec::builder().max_frame_length(10).build().unwrap();
    let wire = b"\x00\x00\x00\x0a0123456789\x00\x00\x00\x0b";
    let out = decode_chunked(&mut codec, wire, &[3]);
    assert_eq!(out.frames, vec![b"0123456789".to_vec()]);
    assert_eq!(out.end, Err(DecodeError::FrameTooLarge { declared: 11, max: 10 }));
}

/// BAD_INPUTS L3: an 8-byte length near `u64::MAX`, and layouts whose
/// header + length + adjustment would overflow.
#[test]
fn l3_u64_lengths_and_overflowing_layouts() {
    let mut codec = LengthCodec::builder().width(8).build().unwrap();
    let mut wire = u64::MAX.to_be_bytes();
    assert_eq!(
        codec.decode(&mut wire),
        Err(DecodeError::FrameTooLarge { declared: u64::MAX, max: 8 * 1024 * 1024 })
    );
    // The largest max that still leaves room for header + adjustment.
    let max = usize::MAX - 8 - 100;
    let mut codec =
        LengthCodec::builder().width(8).max_frame_length(max).length_adjustment(100).build().unwrap();
    let mut wire = (u64::MAX - 1).to_be_bytes();
    assert!(matches!(codec.decode(&mut wire), Err(DecodeError::FrameTooLarge { .. })));
    let mut wire = (max as u64).to_be_bytes();
    assert_eq!(codec.decode(&mut wire), Ok(None), "a huge legal frame is simply incomplete");
    // One more and the arithmetic would wrap: refused at build time.
    let err = LengthCodec::builder().width(8).max_frame_length(max + 1).length_adjustment(100).build();
    assert!(matches!(err, Err(ConfigError::Overflow { .. })), "{err:?}");
}

/// BAD_INPUTS L4: an adjustment that makes the length negative, or a frame
/// shorter than its own header, is a typed error before any slicing.
#[test]
fn l4_adjustment_below_zero_or_below_header() {
    let mut codec = LengthCodec::builder().length_adjustment(-4).build().unwrap();
    let mut wire = *b"\x00\x00\x00\x02xx";
    assert_eq!(codec.decode(&mut wire), Err(DecodeError::LengthAdjustment { declared: 2, adjustment: -4 }));
    // num_skip 0: the frame includes the header, so it must be at least 4 bytes.
    let mut codec = LengthCodec::builder().num_skip(0).build().unwrap();
    let mut wire = *b"\x00\x00\x00\x02xx";
    assert_eq!(codec.decode(&mut wire), Err(DecodeError::LengthAdjustment { declared: 2, adjustment: 0 }));
    let mut wire = *b"\x00\x00\x00\x04";
    assert_eq!(codec.decode(&mut wire).map(|f| f.map(|f| f.consumed())), Ok(Some(4)));
}

/// BAD_INPUTS L6: the stream split at every possible offset, and dripped a
/// byte at a time, decodes to the same frames.
#[test]
fn l6_every_split_offset_and_drip() {
    let mut codec = LengthCodec::new();
    let wire = encode_all(&mut codec, &[b"Hello from client", b"", b"x", &[0xA5; 300]]);
    let whole = decode_chunked(&mut LengthCodec::new(), &wire, &[]);
    assert_eq!(whole.frames.len(), 4);
    for cut in 1..wire.len() {
        let out = decode_chunked(&mut LengthCodec::new(), &wire, &[cut, wire.len()]);
        assert_eq!(out.frames, whole.frames, "split at {cut}");
        assert_eq!(out.end, Ok(()));
    }
    let drip = decode_chunked(&mut LengthCodec::new(), &wire, &[1]);
    assert_eq!(drip.frames, whole.frames);
}

/// BAD_INPUTS L7: many frames in one read are all delivered, in order.
#[test]
fn l7_many_frames_in_one_read() {
    let payloads: Vec<Vec<u8>> = (0..5000u32).map(|i| i.to_le_bytes()[..(i % 5) as usize].to_vec()).collect();
    let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    let mut wire = encode_all(&mut LengthCodec::new(), &refs);
    let mut codec = LengthCodec::new();
    let got: Vec<Vec<u8>> = Frames::new(&mut codec, &mut wire).map(|f| f.unwrap().to_vec()).collect();
    assert_eq!(got, payloads);
}

/// BAD_INPUTS L8: EOF inside a header or a payload is `Truncated` with the
/// pending byte count; EOF at a boundary is a clean end.
#[test]
fn l8_eof_inside_header_or_payload() {
    let mut codec = LengthCodec::new();
    let mut wire = b"\x00\x00\x00\x03abc\x00\x00".to_vec();
    let mut frames = Frames::at_eof(&mut codec, &mut wire);
    assert_eq!(frames.next(), Some(Ok(&b"abc"[..])));
    assert_eq!(frames.next(), Some(Err(DecodeError::Truncated { pending: 2 })));
    assert_eq!(frames.next(), None);

    let mut codec = LengthCodec::new();
    let mut wire = b"\x00\x00\x00\x05abc".to_vec();
    assert_eq!(codec.decode(&mut wire), Ok(None));
    assert_eq!(codec.decode_eof(&mut wire), Err(DecodeError::Truncated { pending: 7 }));

    let mut codec = LengthCodec::new();
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x01z"[..]);
    assert_eq!(codec.decode_bytes_eof(&mut buf).unwrap().as_deref(), Some(&b"z"[..]));
    assert_eq!(codec.decode_bytes_eof(&mut buf), Ok(None));
}

/// BAD_INPUTS L9: builder misuse is a `build()` error, never a later panic.
#[test]
fn l9_builder_misuse() {
    assert_eq!(LengthCodec::builder().width(0).build().unwrap_err(), ConfigError::InvalidWidth { width: 0 });
    assert_eq!(LengthCodec::builder().width(9).build().unwrap_err(), ConfigError::InvalidWidth { width: 9 });
    assert_eq!(
        LengthCodec::builder().width(1).max_frame_length(256).build().unwrap_err(),
        ConfigError::MaxTooLarge { max: 256, limit: 255 }
    );
    // A negative adjustment shrinks what the field can express.
    assert!(matches!(
        LengthCodec::builder().width(1).length_adjustment(-10).max_frame_length(250).build(),
        Err(ConfigError::MaxTooLarge { max: 250, limit: 245 })
    ));
    // A max below a negative adjustment admits no frame at all (found by
    // fuzzing: fuzz/regressions/length_roundtrip/max_below_negative_adjustment).
    assert!(matches!(
        LengthCodec::builder().width(8).length_adjustment(-9).max_frame_length(3).build(),
        Err(ConfigError::Invalid { .. })
    ));
    assert!(LengthCodec::builder().width(1).length_adjustment(-300).build().is_err());
    assert!(LengthCodec::builder().length_adjustment(isize::MAX).build().is_err());
    assert!(LengthCodec::builder().length_field_offset(usize::MAX).build().is_err());
    assert!(LengthCodec::builder().num_skip(1 << 20).build().is_err());
    assert!(LengthCodec::builder().length_adjustment(isize::MIN).build().is_err());
    // Extreme but consistent settings build and decode without panicking.
    let mut codec = LengthCodec::builder().length_adjustment(-65536).width(8).build().unwrap();
    let mut wire = [0xffu8; 8];
    assert!(codec.decode(&mut wire).is_err());
}

/// BAD_INPUTS E1: a payload longer than the field can express is
/// `PayloadTooLarge` and the output buffer is byte-identical.
#[test]
fn e1_payload_too_large_leaves_output_untouched() {
    let mut codec = LengthCodec::builder().width(1).build().unwrap();
    let mut out = BytesMut::from(&b"earlier frame"[..]);
    assert_eq!(codec.encode(&[0; 256], &mut out), Err(EncodeError::PayloadTooLarge { len: 256, max: 255 }));
    assert_eq!(&out[..], b"earlier frame");
    codec.encode(&[7; 255], &mut out).unwrap();
    assert_eq!(out[13], 255);

    let mut codec = LengthCodec::builder().length_adjustment(3).build().unwrap();
    let mut out = BytesMut::new();
    assert_eq!(codec.encode(b"ab", &mut out), Err(EncodeError::PayloadTooSmall { len: 2, adjustment: 3 }));
    assert!(out.is_empty());
}

/// The builder's limits at their exact boundaries, and the layout getters.
#[test]
fn builder_limits_at_their_boundaries_and_layout_getters() {
    use sockframe::codec::length::MAX_HEADER_LENGTH;
    // max equal to a negative adjustment: only empty payloads, but valid.
    let c = LengthCodec::builder().length_adjustment(-4).max_frame_length(4).build().unwrap();
    assert_eq!(c.max_frame_length(), 4);
    let err = LengthCodec::builder().length_adjustment(-4).max_frame_length(3).build();
    assert!(matches!(err, Err(ConfigError::Invalid { .. })), "{err:?}");
    // A header of exactly MAX_HEADER_LENGTH bytes, and one byte more.
    let c = LengthCodec::builder().num_skip(MAX_HEADER_LENGTH).build().unwrap();
    assert_eq!(c.header_len(), MAX_HEADER_LENGTH);
    assert!(LengthCodec::builder().num_skip(MAX_HEADER_LENGTH + 1).build().is_err());
    assert!(LengthCodec::builder().length_field_offset(MAX_HEADER_LENGTH - 4).build().is_ok());
    assert!(LengthCodec::builder().length_field_offset(MAX_HEADER_LENGTH - 3).build().is_err());
    // Getters.
    let c = LengthCodec::new();
    assert_eq!((c.header_len(), c.width(), c.is_big_endian(), c.is_symmetric()), (4, 4, true, true));
    let c = LengthCodec::builder().width(2).endian(sockframe::Endian::Little).build().unwrap();
    assert_eq!((c.header_len(), c.width(), c.is_big_endian(), c.is_symmetric()), (2, 2, false, true));
    let c = LengthCodec::builder().length_field_offset(2).build().unwrap();
    assert_eq!((c.header_len(), c.is_symmetric()), (6, false));
    let c = LengthCodec::builder().num_skip(0).build().unwrap();
    assert_eq!((c.header_len(), c.is_symmetric()), (4, false));
    let c = LengthCodec::builder().length_field_offset(2).num_skip(6).build().unwrap();
    assert!(!c.is_symmetric(), "a header before the field");
    let c = LengthCodec::builder().width(3).num_skip(3).build().unwrap();
    assert!(c.is_symmetric(), "num_skip equal to the width is the default");
}

/// Only the default layout takes the 4-byte fast path: layouts that skip 4
/// bytes but read a field of another width or at another offset decode by
/// their own field.
#[test]
fn layouts_that_skip_four_bytes_read_their_own_field() {
    // A 2-byte field, then 2 more header bytes.
    let mut c = LengthCodec::builder().width(2).num_skip(4).build().unwrap();
    let mut wire = *b"\x00\x03\xaa\xbbabc";
    let f = c.decode(&mut wire).unwrap().unwrap();
    assert_eq!((f.consumed(), f.payload(&wire)), (7, &b"abc"[..]));
    // A 4-byte field at offset 2, the payload starting after 4 bytes (it
    // overlaps the field, as tokio-util allows).
    let mut c = LengthCodec::builder().length_field_offset(2).num_skip(4).build().unwrap();
    let mut wire = *b"\x09\x09\x00\x00\x00\x03a";
    let f = c.decode(&mut wire).unwrap().unwrap();
    assert_eq!((f.consumed(), f.payload(&wire)), (7, &b"\x00\x03a"[..]));
}

/// The envelope (header written apart from the payload, for vectored
/// writes) is the header `encode` writes, in every width and byte order.
#[test]
fn envelopes_match_encode_in_every_layout() {
    for width in 1..=8 {
        for endian in [sockframe::Endian::Big, sockframe::Endian::Little] {
            let mut c =
                LengthCodec::builder().width(width).endian(endian).max_frame_length(200).build().unwrap();
            let payload = [7u8; 200];
            let env = c.envelope(&payload).unwrap().expect("a length header fits an envelope");
            let mut out = BytesMut::new();
            c.encode(&payload, &mut out).unwrap();
            assert_eq!(env.head(), &out[..width], "width {width} {endian:?}");
            assert_eq!(env.tail(), b"");
            assert_eq!(&out[width..], &payload[..]);
        }
    }
    let mut c = LengthCodec::builder().length_adjustment(2).build().unwrap();
    assert_eq!(c.envelope(b"abc").unwrap().unwrap().head(), b"\x00\x00\x00\x01");
    assert_eq!(c.envelope(b"a"), Err(EncodeError::PayloadTooSmall { len: 1, adjustment: 2 }));
}

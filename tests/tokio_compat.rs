//! Byte-for-byte compatibility with tokio-util's `LengthDelimitedCodec`, in
//! both directions, across a spread of builder settings.
//!
//! Documented differences, which these tests allow for and nothing else:
//! * sockframe refuses a frame that would end inside its own header
//!   (BAD_INPUTS L4); tokio-util returns it and re-reads header bytes.
//! * sockframe's encoder refuses payloads its own decoder would refuse (with
//!   a negative adjustment, `len + |adj| > max`); tokio-util encodes them.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use sockframe::fuzzing::decode_chunked;
use sockframe::{DecodeError, Encoder, Endian, LengthCodec};
use tokio_util::codec::length_delimited::{Builder as TokioBuilder, LengthDelimitedCodec};
use tokio_util::codec::{Decoder as _, Encoder as _};

#[derive(Debug, Clone, Copy)]
struct Layout {
    width: usize,
    endian: Endian,
    offset: usize,
    adjustment: isize,
    skip: Option<usize>,
    max: usize,
}

impl Layout {
    fn field_limit(&self) -> u64 {
        let field_max = if self.width == 8 { u64::MAX } else { (1u64 << (8 * self.width)) - 1 };
        field_max.saturating_add_signed(self.adjustment as i64)
    }

    /// `None` for the layouts sockframe refuses to build: a max below a
    /// negative adjustment admits no frame at all.
    fn ours(&self) -> Option<LengthCodec> {
        let max = (self.max as u64).min(self.field_limit()) as usize;
        let mut b = LengthCodec::builder()
            .width(self.width)
            .endian(self.endian)
            .length_field_offset(self.offset)
            .length_adjustment(self.adjustment)
            .max_frame_length(max);
        if let Some(skip) = self.skip {
            b = b.num_skip(skip);
        }
        let built = b.build();
        if self.adjustment >= 0 || max >= self.adjustment.unsigned_abs() {
            Some(built.expect("layout builds"))
        } else {
            assert!(built.is_err(), "a layout that admits no frame must not build");
            None
        }
    }

    fn tokio(&self) -> LengthDelimitedCodec {
        let mut b = TokioBuilder::new();
        b.length_field_length(self.width)
            .length_field_offset(self.offset)
            .length_adjustment(self.adjustment)
            .max_frame_length(self.max);
        match self.endian {
            Endian::Big => b.big_endian(),
            Endian::Little => b.little_endian(),
            Endian::Native => b.native_endian(),
        };
        if let Some(skip) = self.skip {
            b.num_skip(skip);
        }
        b.new_codec()
    }

    fn head_len(&self) -> usize {
        (self.offset + self.width).max(self.skip.unwrap_or(self.offset + self.width))
    }
}

fn layouts() -> impl Strategy<Value = Layout> {
    let endian = prop_oneof![Just(Endian::Big), Just(Endian::Little), Just(Endian::Native)];
    (
        prop::sample::select(vec![1usize, 2, 3, 4, 8]),
        endian,
        0usize..4,
        -6isize..=6,
        prop::option::of(0usize..10),
        1usize..3000,
    )
        .prop_map(|(width, endian, offset, adjustment, skip, max)| Layout {
            width,
            endian,
            offset,
            adjustment,
            skip,
            max,
        })
}

/// Tokio decodes `wire` in one piece: frames, and whether it stopped with an error.
fn tokio_decode(layout: &Layout, wire: &[u8]) -> (Vec<Vec<u8>>, bool) {
    let mut codec = layout.tokio();
    let mut buf = BytesMut::from(wire);
    let mut frames = Vec::new();
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(f)) => frames.push(f.to_vec()),
            Ok(None) => return (frames, false),
            Err(_) => return (frames, true),
        }
        // tokio-util can loop on zero-progress frames (L4); stop it.
        if frames.len() > wire.len() + 1 {
            return (frames, true);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Arbitrary bytes decode to the same frames, and fail at the same place.
    #[test]
    fn decode_matches_tokio(layout in layouts(), wire in prop::collection::vec(any::<u8>(), 0..400)) {
        let Some(mut codec) = layout.ours() else { return Ok(()) };
        let ours = decode_chunked(&mut codec, &wire, &[]);
        let (theirs, tokio_failed) = tokio_decode(&layout, &wire);
        match ours.end {
            Ok(()) | Err(DecodeError::Truncated { .. }) => {
                prop_assert_eq!(&ours.frames, &theirs);
                prop_assert!(!tokio_failed);
            }
            Err(DecodeError::FrameTooLarge { .. }) => {
                prop_assert_eq!(&ours.frames, &theirs);
                prop_assert!(tokio_failed);
            }
            Err(DecodeError::LengthAdjustment { .. }) => {
                prop_assert_eq!(&ours.frames[..], &theirs[..ours.frames.len()]);
                // Either tokio failed too, or it returned a frame ending inside its header.
                let short = theirs.get(ours.frames.len()).is_some_and(|f| {
                    layout.skip.unwrap_or(layout.offset + layout.width) + f.len() < layout.head_len()
                });
                prop_assert!(tokio_failed || short, "tokio accepted a frame we refused");
            }
            Err(e) => prop_assert!(false, "unexpected error {e:?}"),
        }
    }

    /// Both encoders produce the same bytes for every payload ours accepts,
    /// and tokio decodes our frames back to the payloads (symmetric layouts).
    #[test]
    fn encode_matches_tokio(
        mut layout in layouts(),
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..8),
    ) {
        layout.offset = 0;
        layout.skip = None;
        let Some(mut ours) = layout.ours() else { return Ok(()) };
        let mut theirs = layout.tokio();
        let mut a = BytesMut::new();
        let mut b = BytesMut::new();
        let mut accepted = Vec::new();
        for p in &payloads {
            if Encoder::encode(&mut ours, p, &mut a).is_ok() {
                theirs.encode(Bytes::from(p.clone()), &mut b).expect("tokio encodes what we encode");
                accepted.push(p.clone());
            }
        }
        prop_assert_eq!(&a, &b);
        let (decoded, failed) = tokio_decode(&layout, &a);
        prop_assert!(!failed);
        prop_assert_eq!(decoded, accepted);
    }
}

/// A fixed spread of settings, encoded by tokio-util and decoded by us.
#[test]
fn tokio_frames_decode_identically() {
    for width in [1usize, 2, 3, 4, 8] {
        for endian in [Endian::Big, Endian::Little, Endian::Native] {
            for adjustment in [-3isize, 0, 2] {
                let layout = Layout { width, endian, offset: 0, adjustment, skip: None, max: 200 };
                let mut theirs = layout.tokio();
                let mut wire = BytesMut::new();
                let payloads: Vec<Vec<u8>> = (3..40u8).map(|n| vec![n; usize::from(n)]).collect();
                for p in &payloads {
                    theirs.encode(Bytes::from(p.clone()), &mut wire).unwrap();
                }
                let out = decode_chunked(&mut layout.ours().unwrap(), &wire, &[7]);
                assert_eq!(out.end, Ok(()), "{layout:?}");
                assert_eq!(out.frames, payloads, "{layout:?}");
            }
        }
    }
}

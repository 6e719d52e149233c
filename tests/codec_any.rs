//! The run-time `Codec`: spec parsing, `Display` round trip, delegation.

mod common;

use bytes::BytesMut;
use common::*;
use proptest::prelude::*;
use sockframe::fuzzing::check_roundtrip;
use sockframe::{Codec, ConfigError, Decoder, DelimitedCodec, Encoder, LengthCodec, Overlong};

const CANONICAL: &[&str] = &[
    "len:u32be",
    "len:u8",
    "len:u16le",
    "len:u16be",
    "len:u24be",
    "len:u40le",
    "len:u64be",
    "len:u64le",
    "varint",
    "lines",
    "delim:00",
    "delim:0d0a",
    "delim:0a",
    "netstring",
    "cobs",
    "raw",
    "fixed:16",
    "len:u16le,max=1024",
    "len:u8,max=10",
    "varint,max=100",
    "lines,max=80",
    "lines,discard",
    "delim:2c2c,max=7,discard",
    "netstring,max=0",
    "cobs,max=4096",
    "raw,max=1",
];

#[test]
fn canonical_specs_round_trip_through_display() {
    for spec in CANONICAL {
        let codec: Codec = spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(&codec.to_string(), spec);
    }
}

#[test]
fn spec_shorthands_and_details() {
    let c: Codec = "len".parse().unwrap();
    assert_eq!(c.to_string(), "len:u32be");
    let Codec::Length(l) = c else { panic!("not len") };
    assert_eq!((l.width(), l.is_big_endian(), l.max_frame_length()), (4, true, 8 * 1024 * 1024));
    let Codec::Length(l) = "len:u16le".parse().unwrap() else { panic!() };
    assert_eq!((l.width(), l.is_big_endian(), l.max_frame_length()), (2, false, 65535));
    let Codec::Delimited(d) = "delim:0d0a".parse().unwrap() else { panic!() };
    assert_eq!((d.delimiter(), d.strips_cr()), (&b"\r\n"[..], false));
    let Codec::Delimited(d) = "lines,discard".parse().unwrap() else { panic!() };
    assert_eq!(d.overlong(), Overlong::Discard);
    assert_eq!("delim:0A".parse::<Codec>().unwrap().to_string(), "delim:0a");
    // An explicit default max is not printed.
    assert_eq!("varint,max=8388608".parse::<Codec>().unwrap().to_string(), "varint");
    assert_eq!("fixed:16".parse::<Codec>().unwrap().max_frame_length(), 16);
}

#[test]
fn bad_specs_list_the_valid_forms() {
    for bad in [
        "",
        "json",
        "len:u12be",
        "len:u32",
        "len:u72be",
        "len:+16be",
        "len:u16le,max=65536",
        "len,max=",
        "len,max=-1",
        "len,max=1,max=2",
        "varint:3",
        "delim",
        "delim:",
        "delim:0",
        "delim:zz",
        "lines,bogus",
        "len,discard",
        "slip:1",
        "hdlc:fcs8",
        "sync:",
        "len,crc=crc32c:xx",
        "fixed",
        "fixed:0",
        "fixed:4,max=3",
        "raw,max=0",
        "len,max=99999999999999999999999",
        &format!("delim:{}", "00".repeat(33)),
    ] {
        let err = bad.parse::<Codec>().expect_err(bad);
        assert!(matches!(err, ConfigError::InvalidSpec { .. }), "{bad}: {err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("valid forms") && msg.contains("delim:HEX") && msg.contains("netstring"),
            "{msg}"
        );
    }
}

#[test]
fn with_max_frame_length_rebuilds() {
    let c: Codec = "len:u8".parse().unwrap();
    assert!(c.clone().with_max_frame_length(256).is_err());
    assert_eq!(c.with_max_frame_length(100).unwrap().to_string(), "len:u8,max=100");
    let c = Codec::from(DelimitedCodec::lines()).with_max_frame_length(5).unwrap();
    assert_eq!(c.to_string(), "lines,max=5");
    assert!(Codec::from(LengthCodec::new()).with_max_frame_length(1).is_ok());
    assert!("fixed:3".parse::<Codec>().unwrap().with_max_frame_length(3).is_err());
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn delegation_round_trips(pick in 0..CANONICAL.len(), payloads in payloads(120), cuts in cuts()) {
        let codec: Codec = CANONICAL[pick].parse().unwrap();
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        match codec {
            Codec::Raw(_) | Codec::Fixed(_) => {
                sockframe::fuzzing::any_codec(&[pick as u8]); // covered by the harness
            }
            codec => {
                check_roundtrip(&codec, &refs, &cuts);
                check_prefixes(&codec, &payloads);
            }
        }
    }

    #[test]
    fn any_spec_string_never_panics(spec in "[a-z0-9:,=]{0,24}") {
        if let Ok(c) = spec.parse::<Codec>() {
            let again: Codec = c.to_string().parse().unwrap();
            prop_assert_eq!(again.to_string(), c.to_string());
        }
    }

    #[test]
    fn arbitrary_bytes_through_any_codec(data in prop::collection::vec(any::<u8>(), 0..600)) {
        sockframe::fuzzing::any_codec(&data);
    }
}

#[test]
fn codec_encodes_like_the_inner_codec() {
    let mut a: Codec = "netstring".parse().unwrap();
    let mut out = BytesMut::new();
    a.encode(b"abc", &mut out).unwrap();
    assert_eq!(&out[..], b"3:abc,");
    let mut c: Codec = "cobs".parse().unwrap();
    assert_eq!(c.envelope(b"abc"), Ok(None));
    let mut out = BytesMut::new();
    c.encode(b"a\0", &mut out).unwrap();
    assert_eq!(&out[..], b"\x02a\x01\x00");
    assert_eq!(c.decode_bytes(&mut out).unwrap().unwrap(), &b"a\0"[..]);
}

#[test]
fn spec_options_are_checked_one_by_one() {
    for bad in ["len,max=", "len,max=+5", "len,max=5,max=6", "len,max=x"] {
        let err = bad.parse::<Codec>().unwrap_err().to_string();
        assert!(err.contains("max= takes one decimal number"), "{bad}: {err}");
    }
    let err = "fixed:4,max=10".parse::<Codec>().unwrap_err().to_string();
    assert!(err.contains("fixed: takes no max"), "{err}");
    assert!("lines,discard".parse::<Codec>().unwrap().discards());
    assert!(!"lines".parse::<Codec>().unwrap().discards());
    // The envelope is the codec's own (a vectored write sends header and payload apart).
    let mut c: Codec = "len".parse().unwrap();
    let env = sockframe::Encoder::envelope(&mut c, b"hi").unwrap().expect("len has an envelope");
    assert_eq!(env.head(), b"\x00\x00\x00\x02");
}

#[test]
fn length_field_specs_at_their_limits() {
    for good in ["len:u8", "len:u16be", "len:u16le", "len:u24be", "len:u56le", "len:u64be"] {
        assert!(good.parse::<Codec>().is_ok(), "{good}");
    }
    for bad in
        ["len:u20be", "len:u72be", "len:u0be", "len:u12le", "len:u8be", "len:u16", "len:16be", "len:u+16be"]
    {
        assert!(bad.parse::<Codec>().is_err(), "{bad}");
    }
}

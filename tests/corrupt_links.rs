//! Framings for links that corrupt bytes: CRC trailers, SLIP, KISS,
//! HDLC-style async framing and sync-word framing.
//!
//! * Vectors from independent references, both ways: the CRC catalogue's
//!   check values, RFC 1662's FCS computation (its bitwise algorithm, written
//!   out here) and good-FCS residues, the `slip-codec` crate, and frames built
//!   by the KISS protocol description's rules.
//! * The hostile-input catalogue's rows K*, S* and Q*
//!   (docs/hostile-inputs.md).
//! * Resynchronisation as a property: one corruption (bit flip, dropped
//!   byte, inserted byte) anywhere in a stream of good frames; every frame
//!   it does not touch comes out, in order.

mod common;

use bytes::BytesMut;
use proptest::prelude::*;
use sockframe::codec::checksum::{Checksum, CrcAlgorithm};
use sockframe::codec::hdlc::Fcs;
use sockframe::codec::slip::{KissCommand, KissHeader};
use sockframe::fuzzing::decode_chunked;
use sockframe::{
    Codec, DecodeError, Decoder, EncodeError, Encoder, Endian, Frames, HdlcCodec, KissCodec, SkipReason,
    SlipCodec, SyncCodec,
};

fn codec(spec: &str) -> Codec {
    spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"))
}

fn enc(c: &mut impl Encoder, p: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    c.encode(p, &mut out).unwrap();
    out.to_vec()
}

/// Decodes a whole stream in one piece: frames, skip stats, end.
fn decode_all(c: &Codec, wire: &[u8]) -> sockframe::fuzzing::Outcome {
    decode_chunked(&mut c.clone(), wire, &[])
}

// ---------------------------------------------------------------- CRCs

#[test]
fn crc_catalogue_check_values() {
    // https://reveng.sourceforge.io/crc-catalogue/: CRC of "123456789".
    let check = [
        (CrcAlgorithm::Crc16CcittFalse, 0x29b1),
        (CrcAlgorithm::Crc16X25, 0x906e),
        (CrcAlgorithm::Crc16Xmodem, 0x31c3),
        (CrcAlgorithm::Crc32, 0xcbf4_3926),
        (CrcAlgorithm::Crc32c, 0xe306_9283),
    ];
    for (alg, want) in check {
        assert_eq!(alg.checksum(b"123456789"), want, "{alg}");
        assert_eq!(alg.to_string().parse::<CrcAlgorithm>(), Ok(alg));
    }
    assert_eq!(CrcAlgorithm::ALL.len(), check.len());
    assert!("crc64".parse::<CrcAlgorithm>().is_err());
    assert!("crc32:middle".parse::<Checksum>().is_err());
}

/// RFC 1662 appendix C.2's FCS-16, bit by bit (no table): the reference
/// the crc crate's CRC-16/X-25 must agree with.
fn rfc1662_fcs16(data: &[u8]) -> u16 {
    let mut fcs: u16 = 0xffff;
    for &b in data {
        fcs ^= u16::from(b);
        for _ in 0..8 {
            fcs = if fcs & 1 != 0 { (fcs >> 1) ^ 0x8408 } else { fcs >> 1 };
        }
    }
    fcs ^ 0xffff
}

/// RFC 1662 appendix C.3's FCS-32, bit by bit.
fn rfc1662_fcs32(data: &[u8]) -> u32 {
    let mut fcs: u32 = 0xffff_ffff;
    for &b in data {
        fcs ^= u32::from(b);
        for _ in 0..8 {
            fcs = if fcs & 1 != 0 { (fcs >> 1) ^ 0xedb8_8320 } else { fcs >> 1 };
        }
    }
    fcs ^ 0xffff_ffff
}

/// The bytes between the flags of one HDLC frame, unescaped by RFC 1662's
/// rule (independently of the codec).
fn hdlc_contents(wire: &[u8]) -> Vec<u8> {
    let inner: Vec<u8> = wire.iter().copied().filter(|&b| b != 0x7e).collect();
    let mut out = Vec::new();
    let mut it = inner.into_iter();
    while let Some(b) = it.next() {
        out.push(if b == 0x7d { it.next().unwrap() ^ 0x20 } else { b });
    }
    out
}

proptest! {
    #![proptest_config(common::config())]

    #[test]
    fn hdlc_fcs_matches_rfc1662_and_leaves_the_good_residue(payload in prop::collection::vec(any::<u8>(), 0..200)) {
        // FCS-16: the codec's trailer is RFC 1662's FCS, LSB first, and the
        // CRC register over contents + FCS ends at the good-FCS value 0xF0B8.
        let mut c = HdlcCodec::new();
        let contents = hdlc_contents(&enc(&mut c, &payload));
        let (data, fcs) = contents.split_at(contents.len() - 2);
        prop_assert_eq!(data, &payload[..]);
        prop_assert_eq!(u16::from_le_bytes([fcs[0], fcs[1]]), rfc1662_fcs16(&payload));
        prop_assert_eq!(CrcAlgorithm::Crc16X25.checksum(&contents) ^ 0xffff, 0xf0b8);
        // FCS-32: residue 0xDEBB20E3.
        let mut c = HdlcCodec::builder().fcs(Fcs::Fcs32).build().unwrap();
        let contents = hdlc_contents(&enc(&mut c, &payload));
        let (data, fcs) = contents.split_at(contents.len() - 4);
        prop_assert_eq!(data, &payload[..]);
        prop_assert_eq!(u32::from_le_bytes(fcs.try_into().unwrap()), rfc1662_fcs32(&payload));
        prop_assert_eq!(CrcAlgorithm::Crc32.checksum(&contents) ^ 0xffff_ffff, 0xdebb_20e3);
        // And a frame built by the RFC's algorithm alone decodes.
        let mut frame = payload.clone();
        frame.extend_from_slice(&rfc1662_fcs16(&payload).to_le_bytes());
        let mut wire = vec![0x7e];
        for b in frame {
            if b == 0x7e || b == 0x7d || b < 0x20 {
                // RFC 1662 escapes the control characters too by default.
                wire.extend_from_slice(&[0x7d, b ^ 0x20]);
            } else {
                wire.push(b);
            }
        }
        wire.push(0x7e);
        let out = decode_all(&codec("hdlc"), &wire);
        prop_assert_eq!(out.end, Ok(()));
        prop_assert_eq!(out.frames, vec![payload]);
    }

    #[test]
    fn slip_agrees_with_the_slip_codec_crate_both_ways(
        payloads in prop::collection::vec(prop::collection::vec(prop_oneof![any::<u8>(), Just(0xc0u8), Just(0xdbu8)], 1..100), 1..6),
        leading in any::<bool>(),
    ) {
        let mut ours = SlipCodec::builder().leading_end(leading).build().unwrap();
        let mut theirs = slip_codec::SlipEncoder::new(leading);
        let mut wire_ours = Vec::new();
        let mut wire_theirs = Vec::new();
        for p in &payloads {
            wire_ours.extend(enc(&mut ours, p));
            theirs.encode(p, &mut wire_theirs).unwrap();
        }
        // The same bytes on the wire ...
        prop_assert_eq!(&wire_ours, &wire_theirs);
        // ... which the crate's decoder turns back into the payloads ...
        let mut dec = slip_codec::SlipDecoder::new();
        let mut src = &wire_ours[..];
        for p in &payloads {
            let mut got = Vec::new();
            dec.decode(&mut src, &mut got).unwrap();
            prop_assert_eq!(&got, p);
        }
        // ... and ours does too.
        let out = decode_all(&codec("slip"), &wire_theirs);
        prop_assert_eq!(out.end, Ok(()));
        prop_assert_eq!(out.frames, payloads);
    }

    #[test]
    fn checksum_trailer_round_trips_in_every_order(
        payload in prop::collection::vec(any::<u8>(), 0..100),
        alg in prop::sample::select(CrcAlgorithm::ALL.to_vec()),
        order in prop::sample::select(vec![Endian::Big, Endian::Little]),
        inner in prop::sample::select(vec!["len", "varint", "netstring", "cobs", "slip", "kiss", "hdlc", "sync"]),
    ) {
        let check = Checksum::new(alg).with_order(order);
        let spec = format!("{inner},crc={check}");
        let c = codec(&spec);
        prop_assert_eq!(c.to_string().parse::<Codec>().unwrap().to_string(), c.to_string());
        let wire = enc(&mut c.clone(), &payload);
        let out = decode_all(&c, &wire);
        prop_assert_eq!(out.end, Ok(()));
        prop_assert_eq!(out.frames, vec![payload.clone()]);
        // The trailer on the wire, for a verbatim framing, is the checksum.
        if inner == "len" {
            let mut t = Vec::new();
            check.append(&payload, &mut t);
            prop_assert_eq!(&wire[4 + payload.len()..], &t[..]);
        }
    }
}

// ---------------------------------------------------------------- SLIP

#[test]
fn slip_rfc1055_stuffing() {
    // RFC 1055: END (C0) is sent as ESC ESC_END (DB DC), ESC (DB) as ESC
    // ESC_ESC (DB DD), and END ends the packet (and may start it).
    let mut c = SlipCodec::new();
    assert_eq!(enc(&mut c, b"\xc0"), b"\xc0\xdb\xdc\xc0");
    assert_eq!(enc(&mut c, b"\xdb"), b"\xc0\xdb\xdd\xc0");
    assert_eq!(enc(&mut c, b"\xdb\xdc"), b"\xc0\xdb\xdd\xdc\xc0");
    assert_eq!(enc(&mut c, b"hello"), b"\xc0hello\xc0");
    let mut bare = SlipCodec::builder().leading_end(false).build().unwrap();
    assert_eq!(enc(&mut bare, b"\xc0x\xdb"), b"\xdb\xdcx\xdb\xdd\xc0");
    // Both forms, and any run of ENDs between frames, decode alike.
    let out = decode_all(&codec("slip"), b"ab\xc0\xc0\xc0\xc0cd\xc0\xc0\xdb\xdc\xc0");
    assert_eq!(out.frames, [b"ab".to_vec(), b"cd".to_vec(), b"\xc0".to_vec()]);
    assert_eq!(out.end, Ok(()));
    // K3: the empty frames count as skipped bytes (one END is kept to open
    // the next frame), never as a region.
    assert_eq!((out.skipped.regions, out.skipped.bytes), (0, 2));
}

#[test]
fn slip_and_kiss_refuse_empty_payloads_hdlc_and_sync_carry_them() {
    for spec in ["slip", "kiss", "slip,crc=crc32"] {
        let mut c = codec(spec);
        let mut out = BytesMut::new();
        if spec.contains("crc") {
            // The checksum makes the frame non-empty.
            c.encode(b"", &mut out).unwrap();
            assert_eq!(decode_all(&codec(spec), &out).frames, [Vec::<u8>::new()]);
        } else {
            assert_eq!(c.encode(b"", &mut out), Err(EncodeError::EmptyPayload), "{spec}");
            assert!(out.is_empty());
        }
    }
    for spec in ["hdlc", "hdlc:fcs32", "sync"] {
        let c = codec(spec);
        let wire = enc(&mut c.clone(), b"");
        assert_eq!(decode_all(&c, &wire).frames, [Vec::<u8>::new()], "{spec}");
    }
}

#[test]
fn k1_k2_k3_bad_escapes_fail_or_skip_the_frame() {
    // K1: ESC as the last byte of a frame (SLIP: DB C0; HDLC: 7D 7E, the
    // abort sequence) and as the last byte of the stream.
    // K2: ESC followed by a byte that is not a substitute.
    // K3: END inside an escape is K1 (the END ends the frame).
    let cases: [(&str, &[u8], &[u8]); 4] = [
        ("slip", b"\xc0ok\xc0\xc0x\xdb\xc0\xc0ok\xc0", b"escape at the end"),
        ("slip", b"\xc0ok\xc0\xc0x\xdb\x41\xc0\xc0ok\xc0", b"invalid byte"),
        ("kiss", b"\xc0\x00ok\xc0\xc0\x00\xdb\xdb\xc0\xc0\x00ok\xc0", b"invalid byte"),
        ("hdlc", b"", b"escape at the end"),
    ];
    for (spec, wire, why) in cases {
        let wire = if spec == "hdlc" {
            let mut c = HdlcCodec::new();
            let mut w = enc(&mut c, b"ok");
            w.extend_from_slice(b"\x7ebad\x7d\x7e");
            w.extend(enc(&mut c, b"ok"));
            w
        } else {
            wire.to_vec()
        };
        let want_ok: Vec<u8> = if spec == "kiss" { b"\x00ok".to_vec() } else { b"ok".to_vec() };
        // Strict: the first frame, then the error, naming the problem.
        let out = decode_all(&codec(spec), &wire);
        assert_eq!(out.frames, std::slice::from_ref(&want_ok), "{spec}");
        match out.end {
            Err(DecodeError::InvalidFraming { reason, .. }) => {
                assert!(reason.as_bytes().windows(why.len()).any(|w| w == why), "{spec}: {reason}")
            }
            other => panic!("{spec}: {other:?}"),
        }
        // Discard: the bad frame is skipped as one corrupt region.
        let out = decode_all(&codec(&format!("{spec},discard")), &wire);
        assert_eq!(out.frames, [want_ok.clone(), want_ok], "{spec}");
        assert_eq!(out.end, Ok(()));
        assert_eq!(out.skipped.regions, 1, "{spec}");
    }
    // ESC as the very last byte of the stream: need-more, then Truncated.
    let out = decode_all(&codec("slip"), b"\xc0ok\xc0\xc0abc\xdb");
    assert_eq!(out.frames, [b"ok".to_vec()]);
    assert_eq!(out.end, Err(DecodeError::Truncated { pending: 5 }));
}

#[test]
fn k4_no_end_within_the_maximum_fails_or_is_dropped_as_it_streams() {
    for spec in ["slip,max=64", "kiss,max=64", "hdlc,max=64"] {
        let c = codec(spec);
        let mut wire = enc(&mut c.clone(), b"\x00a");
        let mut tail = enc(&mut c.clone(), b"\x00b");
        wire.extend(std::iter::repeat_n(b'x', 100_000));
        wire.push(tail[0]); // the END / flag that ends the overlong frame
        wire.append(&mut tail);
        let out = decode_all(&c, &wire);
        assert_eq!(out.frames, [b"\x00a".to_vec()], "{spec}");
        assert!(matches!(out.end, Err(DecodeError::DelimiterNotFound { max: 64 })), "{spec}: {:?}", out.end);
        let d = codec(&format!("{spec},discard"));
        for cuts in [vec![1], vec![7, 3], vec![4096], vec![]] {
            let out = decode_chunked(&mut d.clone(), &wire, &cuts);
            assert_eq!(out.frames, [b"\x00a".to_vec(), b"\x00b".to_vec()], "{spec}");
            assert_eq!(out.end, Ok(()));
            assert_eq!(out.skipped.regions, 1, "{spec}: one region for the overlong frame");
            // Memory stays bounded by the longest frame plus one read.
            let chunk = cuts.iter().copied().max().unwrap_or(wire.len());
            assert!(out.peak_buffered <= d.max_wire_len() + chunk, "{spec}: {} buffered", out.peak_buffered);
        }
    }
}

#[test]
fn k5_k6_hdlc_frames_shorter_than_their_fcs_and_bad_fcs() {
    let mut c = HdlcCodec::new();
    let good = enc(&mut c, b"good");
    // K5: one byte between flags, shorter than FCS-16.
    let mut wire = good.clone();
    wire.extend_from_slice(b"\x7e\x41\x7e");
    wire.extend_from_slice(&good);
    let out = decode_all(&codec("hdlc"), &wire);
    assert_eq!(out.frames, [b"good".to_vec()]);
    assert!(
        matches!(out.end, Err(DecodeError::InvalidFraming { reason: "frame shorter than its checksum", .. })),
        "{:?}",
        out.end
    );
    let out = decode_all(&codec("hdlc,discard"), &wire);
    assert_eq!(out.frames, [b"good".to_vec(), b"good".to_vec()]);
    assert_eq!(out.skipped.regions, 1);
    // K6: one bit flipped in the payload.
    let mut wire = good.clone();
    let mut bad = good.clone();
    bad[2] ^= 0x01;
    wire.extend_from_slice(&bad);
    wire.extend_from_slice(&good);
    let out = decode_all(&codec("hdlc"), &wire);
    assert!(matches!(out.end, Err(DecodeError::ChecksumMismatch { .. })), "{:?}", out.end);
    let out = decode_all(&codec("hdlc,discard"), &wire);
    assert_eq!(out.frames.len(), 2);
    assert_eq!(out.skipped.regions, 1);
}

// ---------------------------------------------------------------- KISS

#[test]
fn kiss_frames_by_the_protocol_description() {
    // A data frame "TEST" on port 0: FEND, command byte 00, data, FEND.
    let mut c = KissCodec::new();
    let mut wire = BytesMut::new();
    c.encode_frame(KissHeader { port: 0, command: KissCommand::Data }, b"TEST", &mut wire).unwrap();
    assert_eq!(&wire[..], b"\xc0\x00TEST\xc0");
    // FEND and FESC in the data are sent as FESC TFEND and FESC TFESC.
    wire.clear();
    c.encode_frame(KissHeader { port: 0, command: KissCommand::Data }, b"\xc0\xdb", &mut wire).unwrap();
    assert_eq!(&wire[..], b"\xc0\x00\xdb\xdc\xdb\xdd\xc0");
    // Port 5, and a TXDELAY of 50 (500 ms) on port 0, and Return.
    wire.clear();
    c.encode_frame(KissHeader { port: 5, command: KissCommand::Data }, b"Hello", &mut wire).unwrap();
    assert_eq!(&wire[..], b"\xc0\x50Hello\xc0");
    wire.clear();
    c.encode_frame(KissHeader { port: 0, command: KissCommand::TxDelay }, &[50], &mut wire).unwrap();
    assert_eq!(&wire[..], b"\xc0\x01\x32\xc0");
    wire.clear();
    c.encode_frame(KissHeader::parse(0xff), b"", &mut wire).unwrap();
    assert_eq!(&wire[..], b"\xc0\xff\xc0");
    // Consecutive frames that share one FEND.
    let out = decode_all(&codec("kiss"), b"\xc0\x00A\xc0\x10B\xc0\xc0\xff\xc0");
    assert_eq!(out.frames, [b"\x00A".to_vec(), b"\x10B".to_vec(), b"\xff".to_vec()]);
    let heads: Vec<KissHeader> = out.frames.iter().map(|f| KissCodec::split(f).unwrap().0).collect();
    assert_eq!(heads[1], KissHeader { port: 1, command: KissCommand::Data });
    assert_eq!(heads[2].command, KissCommand::Return);
}

#[test]
fn k7_every_kiss_command_byte_value() {
    // K7: every value of the command byte parses, prints back, and travels.
    let c = codec("kiss");
    let mut wire = Vec::new();
    for b in 0..=255u8 {
        let h = KissHeader::parse(b);
        assert_eq!(h.to_byte(), b);
        assert_eq!(h.port, b >> 4);
        match b & 0x0f {
            0 => assert_eq!(h.command, KissCommand::Data),
            1..=6 => assert!(!matches!(h.command, KissCommand::Unknown(_) | KissCommand::Return)),
            15 if b == 0xff => assert_eq!(h.command, KissCommand::Return),
            n => assert_eq!(h.command, KissCommand::Unknown(n)),
        }
        wire.extend(enc(&mut c.clone(), &[b, b'x']));
    }
    let out = decode_all(&c, &wire);
    assert_eq!(out.frames.len(), 256);
    for (b, f) in out.frames.iter().enumerate() {
        assert_eq!(f, &[b as u8, b'x']);
    }
}

// ---------------------------------------------------------------- sync

#[test]
fn s1_bytes_before_a_sync_word() {
    let c = codec("sync");
    let good = enc(&mut c.clone(), b"payload");
    let mut wire = b"garbage\xeb".to_vec();
    wire.extend_from_slice(&good);
    let out = decode_all(&c, &wire);
    assert!(matches!(out.end, Err(DecodeError::InvalidFraming { reason: "expected the sync word", .. })));
    let out = decode_all(&codec("sync,discard"), &wire);
    assert_eq!(out.frames, [b"payload".to_vec()]);
    assert_eq!((out.skipped.regions, out.skipped.bytes), (1, 8));
}

#[test]
fn s2_a_corrupted_length_field_fails_its_header_check() {
    let c = codec("sync");
    let mut wire = Vec::new();
    for p in [&b"one"[..], b"two", b"three"] {
        wire.extend(enc(&mut c.clone(), p));
    }
    // "one" claims 3 bytes; make it claim 0x1003 (inside the maximum).
    wire[2] ^= 0x10;
    let out = decode_all(&c, &wire);
    assert!(matches!(
        out.end,
        Err(DecodeError::InvalidFraming { reason: "length field fails its header check", .. })
    ));
    // Discard mode does not wait for 4 KiB that will never come: it finds
    // the next sync word at once.
    let out = decode_all(&codec("sync,discard"), &wire);
    assert_eq!(out.frames, [b"two".to_vec(), b"three".to_vec()]);
    assert_eq!(out.end, Ok(()));
    assert_eq!(out.skipped.regions, 1);
}

#[test]
fn s3_sync_words_inside_payloads_are_data() {
    let c = codec("sync,discard");
    let payloads: Vec<Vec<u8>> =
        vec![b"\xeb\x90\xeb\x90\x00\x01".to_vec(), b"\xeb\x90".to_vec(), vec![0xeb; 300]];
    let mut wire = Vec::new();
    for p in &payloads {
        wire.extend(enc(&mut c.clone(), p));
    }
    for cuts in [vec![], vec![1], vec![3, 5]] {
        let out = decode_chunked(&mut c.clone(), &wire, &cuts);
        assert_eq!(out.frames, payloads);
        assert_eq!(out.skipped.bytes, 0);
    }
}

#[test]
fn s4_bad_payload_crc_and_dropped_bytes_lose_no_following_frame() {
    let c = codec("sync");
    let frame = |p: &[u8]| enc(&mut c.clone(), p);
    // A byte dropped from the middle frame's payload: its declared length
    // now reaches into the next frame's sync word.
    let mut wire = frame(b"first");
    let mut mid = frame(b"middle frame");
    mid.remove(8);
    wire.extend(mid);
    wire.extend(frame(b"last"));
    let out = decode_all(&c, &wire);
    assert!(matches!(out.end, Err(DecodeError::ChecksumMismatch { .. })), "{:?}", out.end);
    let out = decode_all(&codec("sync,discard"), &wire);
    assert_eq!(out.frames, [b"first".to_vec(), b"last".to_vec()]);
    assert_eq!(out.end, Ok(()));
}

#[test]
fn sync_builder_limits() {
    assert!(SyncCodec::builder().sync_word(b"").build().is_err());
    assert!(SyncCodec::builder().sync_word(&[1; 9]).build().is_err());
    assert!(SyncCodec::builder().length_width(3).build().is_err());
    assert_eq!(SyncCodec::builder().length_width(1).build().unwrap().max_frame_length(), 255);
    assert_eq!(SyncCodec::new().max_frame_length(), 65_535);
    assert!("sync:0102030405060708090a".parse::<Codec>().is_err());
    assert_eq!(codec("sync:eb90").to_string(), "sync");
}

// ---------------------------------------------------------------- checksum trailer

#[test]
fn q1_a_bad_checksum_is_typed_and_skippable() {
    let c = codec("cobs,crc=crc32c");
    let mut wire = enc(&mut c.clone(), b"keep");
    let mut bad = enc(&mut c.clone(), b"flip");
    bad[2] ^= 0x04;
    wire.extend(bad);
    wire.extend(enc(&mut c.clone(), b"also"));
    let out = decode_all(&c, &wire);
    assert_eq!(out.frames, [b"keep".to_vec()]);
    match out.end {
        Err(DecodeError::ChecksumMismatch { expected, received }) => {
            assert_eq!(received, CrcAlgorithm::Crc32c.checksum(b"flip"));
            assert_ne!(expected, received);
        }
        other => panic!("{other:?}"),
    }
    let out = decode_all(&codec("cobs,crc=crc32c,discard"), &wire);
    assert_eq!(out.frames, [b"keep".to_vec(), b"also".to_vec()]);
    assert_eq!(out.skipped.regions, 1);
    // The skip says why.
    let mut d = codec("cobs,crc=crc32c,discard");
    let mut buf = wire.clone();
    let first = d.decode(&mut buf).unwrap().unwrap();
    let skip = d.decode(&mut buf[first.consumed()..]).unwrap().unwrap();
    assert_eq!(skip.skip_reason(), Some(SkipReason::Corrupt));
}

#[test]
fn q2_crc_option_refuses_framings_it_cannot_protect() {
    for spec in ["lines,crc=crc32", "delim:00,crc=crc32", "raw,crc=crc32", "fixed:8,crc=crc32", "len,crc=md5"]
    {
        let err = spec.parse::<Codec>().unwrap_err().to_string();
        assert!(err.contains("valid forms"), "{spec}: {err}");
    }
    assert!("len,crc=crc32,crc=crc32".parse::<Codec>().is_err());
    // max= is the payload: the inner framing carries the trailer on top.
    let c = codec("len:u8,crc=crc32,max=251");
    assert_eq!(c.max_frame_length(), 251);
    assert!("len:u8,crc=crc32,max=252".parse::<Codec>().is_err());
    let mut out = BytesMut::new();
    assert_eq!(
        c.clone().encode(&[0; 252], &mut out),
        Err(EncodeError::PayloadTooLarge { len: 252, max: 251 })
    );
}

// ---------------------------------------------------------------- resync property

/// Framings that recover, with whether a corrupt frame can come out
/// unnoticed (no checksum, or one of 16 bits that a random corruption
/// passes once in 65,536 tries: too often for a property run).
const RECOVERING: [(&str, bool); 9] = [
    ("slip,discard", true),
    ("kiss,discard", true),
    ("hdlc,discard", true),
    ("hdlc:fcs32,discard", false),
    ("sync,discard", false),
    ("sync:a5,max=300,discard", false),
    ("cobs,crc=crc32c,discard", false),
    ("slip,crc=crc32,discard", false),
    ("kiss,crc=crc16-x25,discard", true),
];

#[derive(Debug, Clone)]
enum Corruption {
    Flip { at: usize, bit: u8 },
    Drop { at: usize },
    Insert { at: usize, byte: u8 },
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Corruption::Flip { at, bit }),
        any::<usize>().prop_map(|at| Corruption::Drop { at }),
        (
            any::<usize>(),
            prop_oneof![any::<u8>(), Just(0xc0u8), Just(0x7e), Just(0xeb), Just(0xdb), Just(0x7d)]
        )
            .prop_map(|(at, byte)| Corruption::Insert { at, byte }),
    ]
}

proptest! {
    #![proptest_config(common::config())]

    #[test]
    fn one_corruption_loses_only_the_frames_it_touches(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..40), 1..10),
        hit in corruption(),
        cuts in common::cuts(),
    ) {
        for (spec, may_pass_corrupt) in RECOVERING {
            let c = codec(spec);
            let mut wire = Vec::new();
            let mut spans = Vec::new();
            for p in &payloads {
                let start = wire.len();
                wire.extend(enc(&mut c.clone(), p));
                spans.push(start..wire.len());
            }
            // Where the stream changes, and the frames whose bytes (or the
            // delimiters on either side of them) that reaches.
            let (at, corrupted) = match hit {
                Corruption::Flip { at, bit } => {
                    let at = at % wire.len();
                    let mut w = wire.clone();
                    w[at] ^= 1 << bit;
                    (at, w)
                }
                Corruption::Drop { at } => {
                    let at = at % wire.len();
                    let mut w = wire.clone();
                    w.remove(at);
                    (at, w)
                }
                Corruption::Insert { at, byte } => {
                    let at = at % (wire.len() + 1);
                    let mut w = wire.clone();
                    w.insert(at, byte);
                    (at, w)
                }
            };
            let touched = |s: &std::ops::Range<usize>| s.start <= at + 1 && at <= s.end;
            let first_touched = spans.iter().position(touched).unwrap_or(spans.len());
            let last_touched = spans.iter().rposition(touched).unwrap_or(first_touched);
            let before = &payloads[..first_touched];
            let after = payloads.get(last_touched + 1..).unwrap_or_default();
            let out = decode_chunked(&mut c.clone(), &corrupted, &cuts);
            // Frames before the corruption, untouched, come out first ...
            prop_assert!(out.frames.len() >= before.len(), "{}: {:?}", spec, out);
            prop_assert_eq!(&out.frames[..before.len()], before, "{}", spec);
            // ... and the frames after it come out last, in order.
            prop_assert!(out.frames.len() >= before.len() + after.len(), "{}: lost frames {:?}", spec, out);
            prop_assert_eq!(&out.frames[out.frames.len() - after.len()..], after, "{}", spec);
            // The stream ends cleanly unless the last frame was hit (cut
            // short, or its end marker gone).
            if last_touched + 1 < spans.len() {
                prop_assert_eq!(&out.end, &Ok(()), "{}", spec);
            } else {
                prop_assert!(
                    matches!(out.end, Ok(()) | Err(DecodeError::Truncated { .. })),
                    "{}: {:?}", spec, out.end
                );
            }
            // With a 32-bit check nothing corrupt comes out in between.
            if !may_pass_corrupt {
                let middle = &out.frames[before.len()..out.frames.len() - after.len()];
                for f in middle {
                    prop_assert!(payloads[first_touched..=last_touched.min(payloads.len() - 1)].contains(f),
                        "{}: a corrupt frame came out: {:?}", spec, f);
                }
            }
        }
    }
}

#[test]
fn decoding_a_corrupt_stream_in_discard_mode_through_frames() {
    // The borrowed driver agrees with decode_chunked, and skips count.
    let c = codec("hdlc,discard");
    let mut wire = Vec::new();
    for p in [&b"a"[..], b"b", b"c"] {
        wire.extend(enc(&mut c.clone(), p));
    }
    wire[2] ^= 0xff; // the FCS of "a"
    let mut dec = c.clone();
    let mut frames = Frames::new(&mut dec, &mut wire);
    let got: Vec<Vec<u8>> = frames.by_ref().map(|f| f.unwrap().to_vec()).collect();
    assert_eq!(got, [b"b".to_vec(), b"c".to_vec()]);
    assert_eq!(frames.skipped().regions, 1);
}

#[test]
fn c4_cobs_discard_skips_bad_frames() {
    // BAD_INPUTS C4: an invalid frame (code byte past the end), one that
    // decodes to more than max, and one whose 0x00 never comes within max.
    let c = codec("cobs,max=8");
    let good = enc(&mut c.clone(), b"ok");
    let mut wire = good.clone();
    wire.extend_from_slice(b"\x05ab\x00"); // code 5 points past the frame
    wire.extend_from_slice(&good);
    wire.extend(enc(&mut codec("cobs"), &[7u8; 9])); // 9 bytes > max 8
    wire.extend_from_slice(&good);
    wire.extend(std::iter::repeat_n(1u8, 5_000)); // no zero for 5,000 bytes
    wire.push(0);
    wire.extend_from_slice(&good);
    let out = decode_all(&c, &wire);
    assert_eq!(out.frames, [b"ok".to_vec()]);
    assert!(matches!(out.end, Err(DecodeError::InvalidFraming { .. })), "{:?}", out.end);
    let d = codec("cobs,max=8,discard");
    for cuts in [vec![], vec![1], vec![3, 7]] {
        let out = decode_chunked(&mut d.clone(), &wire, &cuts);
        assert_eq!(out.frames, vec![b"ok".to_vec(); 4]);
        assert_eq!(out.end, Ok(()));
        assert_eq!(out.skipped.regions, 3);
        let chunk = cuts.iter().copied().max().unwrap_or(wire.len());
        assert!(out.peak_buffered <= d.max_wire_len() + chunk);
    }
}

#[test]
fn sync_length_widths_and_sync_word_sizes_at_their_limits() {
    for width in [1usize, 2, 4] {
        let max = if width == 1 { 255 } else { 1000 };
        let c = SyncCodec::builder().length_width(width).max_frame_length(max).build().unwrap();
        let c: Codec = c.into();
        let payloads: Vec<Vec<u8>> = vec![b"x".to_vec(), vec![9u8; max], Vec::new()];
        let mut wire = Vec::new();
        for p in &payloads {
            wire.extend(enc(&mut c.clone(), p));
        }
        // Header: 2-byte sync word, `width` length bytes, 2 check bytes.
        assert_eq!(enc(&mut c.clone(), b"x").len(), 2 + width + 2 + 1 + 4, "width {width}");
        let out = decode_chunked(&mut c.clone(), &wire, &[3]);
        assert_eq!((out.frames, out.end), (payloads, Ok(())), "width {width}");
    }
    // A sync word of exactly 8 bytes is the longest there is.
    let c = SyncCodec::builder().sync_word(&[0xa5; 8]).build().unwrap();
    assert_eq!(c.sync_word(), [0xa5; 8]);
}

#[test]
fn sync_frames_over_the_maximum_fail_or_are_skipped() {
    // A header that checks out but declares more than this decoder's max.
    let big = codec("sync");
    let mut wire = enc(&mut big.clone(), &[1u8; 200]);
    wire.extend(enc(&mut big.clone(), b"fits"));
    let out = decode_all(&codec("sync,max=100"), &wire);
    assert_eq!(out.end, Err(DecodeError::FrameTooLarge { declared: 200, max: 100 }));
    let out = decode_all(&codec("sync,max=100,discard"), &wire);
    assert_eq!(out.frames, [b"fits".to_vec()]);
    assert_eq!(out.skipped.regions, 1);
}

/// A forged header at `at` (sync `a5`, 2-byte length) whose frame would end
/// at `end`; its payload CRC never matches.
fn forged_header(wire: &mut [u8], at: usize, end: usize) {
    let len = (end - at - 5 - 4) as u16;
    let mut head = vec![0xa5];
    head.extend_from_slice(&len.to_be_bytes());
    let check = CrcAlgorithm::Crc16CcittFalse.checksum(&head) as u16;
    head.extend_from_slice(&check.to_be_bytes());
    wire[at..at + 5].copy_from_slice(&head);
}

#[test]
fn sync_nested_failed_frames_are_bounded_so_the_work_stays_linear() {
    // Crafted input: six forged headers one inside the other, all claiming
    // to end at byte 200, a good frame G inside them and H after them. The
    // decoder looks inside a failed frame (a dropped byte would put the next
    // frame there), but only while at most four failed frames nest: at the
    // fifth it skips the outermost whole, so no byte is covered by more than
    // five CRCs. G is lost to that bound; H is found.
    let c = codec("sync:a5,max=300,discard");
    let mut wire = vec![0u8; 200];
    for at in [0, 5, 10, 15, 20, 25] {
        forged_header(&mut wire, at, 200);
    }
    let good = enc(&mut c.clone(), b"G");
    wire[30..30 + good.len()].copy_from_slice(&good);
    wire.extend(enc(&mut c.clone(), b"H"));
    for cuts in [vec![], vec![1], vec![7]] {
        let out = decode_chunked(&mut c.clone(), &wire, &cuts);
        assert_eq!(out.frames, [b"H".to_vec()], "cuts {cuts:?}");
        assert_eq!(out.end, Ok(()));
    }
    // With only four nested, G is found inside them.
    let mut wire = vec![0u8; 200];
    for at in [0, 5, 10, 15] {
        forged_header(&mut wire, at, 200);
    }
    wire[30..30 + good.len()].copy_from_slice(&good);
    wire.extend(enc(&mut c.clone(), b"H"));
    let out = decode_all(&c, &wire);
    assert_eq!(out.frames, [b"G".to_vec(), b"H".to_vec()]);
}

#[test]
fn sync_end_of_stream_resyncs_past_a_chance_header() {
    // A forged header claims 1,000 bytes that never come; a good frame
    // follows it. At the end of the stream, discard mode gives up on the
    // header and finds the frame; strict mode reports the truncation.
    let c = codec("sync:a5,max=2000,discard");
    let mut wire = vec![0u8; 5];
    forged_header(&mut wire, 0, 1009);
    wire.extend(enc(&mut c.clone(), b"after"));
    let out = decode_all(&c, &wire);
    assert_eq!((out.frames, out.end), (vec![b"after".to_vec()], Ok(())));
    let out = decode_all(&codec("sync:a5,max=2000"), &wire);
    assert!(out.frames.is_empty());
    assert!(matches!(out.end, Err(DecodeError::Truncated { .. })), "{:?}", out.end);
}

#[test]
fn sync_has_an_envelope_so_the_transport_sends_payloads_without_copying() {
    // The envelope is the encoding around the payload: head, payload, tail.
    let mut c = SyncCodec::new();
    for p in [&b""[..], b"hello", &[0xeb; 300]] {
        let env = c.envelope(p).unwrap().expect("sync framing has an envelope");
        let mut joined = env.head().to_vec();
        joined.extend_from_slice(p);
        joined.extend_from_slice(env.tail());
        assert_eq!(joined, enc(&mut c, p));
    }
    assert!(c.envelope(&vec![0; 70_000]).is_err());
}

#[test]
fn checksum_and_hdlc_settings_read_back_and_their_limits() {
    use sockframe::ChecksumCodec;
    use sockframe::LengthCodec;
    // Native byte order is the machine's.
    let native = Checksum::new(CrcAlgorithm::Crc16Xmodem).with_order(Endian::Native).order();
    assert_eq!(native, if cfg!(target_endian = "little") { Endian::Little } else { Endian::Big });
    let c = ChecksumCodec::new(LengthCodec::new(), Checksum::new(CrcAlgorithm::Crc32));
    assert!(!c.discards());
    let c = c.discard(true);
    assert!(c.discards());
    assert_eq!(c.checksum(), Checksum::new(CrcAlgorithm::Crc32));
    assert_eq!(c.inner().max_frame_length(), LengthCodec::new().max_frame_length());
    // The trailer's codec passes its inner framing's length hint on.
    let spec = codec("len,crc=crc32c");
    let wire = enc(&mut spec.clone(), &[5u8; 3000]);
    assert_eq!(spec.frame_len_hint(&wire[..10]), Some(wire.len()));
    // HDLC: the maximum in force, and the largest one the builder takes.
    let h = HdlcCodec::builder().max_frame_length(1234).build().unwrap();
    assert_eq!(h.max_frame_length(), 1234);
    let limit = sockframe::limits::NO_LIMIT / 2 - 8;
    assert!(HdlcCodec::builder().max_frame_length(limit).build().is_ok());
    assert!(HdlcCodec::builder().max_frame_length(limit + 1).build().is_err());
}

#[test]
fn slip_and_hdlc_limits_and_settings() {
    let s = SlipCodec::builder().max_frame_length(77).leading_end(false).build().unwrap();
    assert_eq!((s.max_frame_length(), s.leading_end(), s.discards()), (77, false, false));
    assert!(SlipCodec::new().leading_end());
    assert!(SlipCodec::builder().discard(true).build().unwrap().discards());
    let limit = sockframe::limits::NO_LIMIT / 2 - 2;
    assert!(SlipCodec::builder().max_frame_length(limit).build().is_ok());
    assert!(SlipCodec::builder().max_frame_length(limit + 1).build().is_err());
    // The envelope (none: HDLC and SLIP transform the payload) still
    // enforces the maximum, as encode does.
    let mut h = HdlcCodec::builder().max_frame_length(10).build().unwrap();
    assert_eq!(h.envelope(&[0; 10]), Ok(None));
    assert_eq!(h.envelope(&[0; 11]), Err(EncodeError::PayloadTooLarge { len: 11, max: 10 }));
    let mut s = SlipCodec::builder().max_frame_length(10).build().unwrap();
    assert_eq!(s.envelope(&[1; 10]), Ok(None));
    assert_eq!(s.envelope(&[1; 11]), Err(EncodeError::PayloadTooLarge { len: 11, max: 10 }));
    assert_eq!(s.envelope(b""), Err(EncodeError::EmptyPayload));
}

#[test]
fn kiss_frames_at_the_maximum() {
    let mut k = KissCodec::builder().max_frame_length(5).build_kiss().unwrap();
    assert_eq!(k.max_frame_length(), 5);
    let data = KissHeader { port: 0, command: KissCommand::Data };
    let mut out = BytesMut::new();
    // Command byte + 4 data bytes = the maximum of 5.
    k.encode_frame(data, b"abcd", &mut out).unwrap();
    assert_eq!(
        k.encode_frame(data, b"abcde", &mut out),
        Err(EncodeError::PayloadTooLarge { len: 6, max: 5 })
    );
    assert_eq!(&out[..], b"\xc0\x00abcd\xc0");
}

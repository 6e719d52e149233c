//! Delimiter framing: properties, BAD_INPUTS D1–D7, tokio-util vectors.

mod common;

use bytes::BytesMut;
use common::*;
use proptest::prelude::*;
use sockframe::fuzzing::{check_roundtrip, decode_chunked};
use sockframe::{DecodeError, Decoder, DelimitedCodec, EncodeError, Encoder, Overlong};
// Fully qualified calls: with feature `tokio` our codecs implement these
// traits too, and method syntax would be ambiguous.
use tokio_util::codec::{AnyDelimiterCodec, LinesCodec};

fn codecs() -> Vec<DelimitedCodec> {
    vec![
        DelimitedCodec::lines(),
        DelimitedCodec::new(b"\n").unwrap(),
        DelimitedCodec::new(b"\r\n").unwrap(),
        DelimitedCodec::new(b"\0").unwrap(),
        DelimitedCodec::new(b"aba").unwrap(),
        DelimitedCodec::builder().max_frame_length(8).build().unwrap(),
    ]
}

/// Payloads over a small alphabet full of delimiter bytes.
fn text_payloads() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(prop::sample::select(b"ab\r\n\0x".to_vec()), 0..20), 0..10)
}

/// A caller that keeps going after errors, as `Overlong::Discard` allows:
/// returns the frames and the number of errors.
fn decode_discarding(codec: &mut DelimitedCodec, wire: &[u8], chunk: usize) -> (Vec<Vec<u8>>, usize, usize) {
    // Returns the frames, the skipped regions (one per overlong line) and the
    // peak of bytes held after each decode pass.
    let mut buf = Vec::new();
    let (mut frames, mut regions, mut peak) = (Vec::new(), 0, 0);
    for piece in wire.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        let mut used = 0;
        while let Some(f) = codec.decode(&mut buf[used..]).expect("discard mode never fails") {
            assert!(f.consumed() > 0, "a frame or skip always makes progress");
            if f.is_skip() {
                regions += usize::from(f.starts_skip_region());
            } else {
                frames.push(f.payload(&buf[used..]).to_vec());
            }
            used += f.consumed();
        }
        buf.drain(..used);
        peak = peak.max(buf.len());
    }
    (frames, regions, peak)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn round_trip_at_any_cuts(payloads in text_payloads(), cuts in cuts()) {
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        for c in codecs() {
            check_roundtrip(&c, &refs, &cuts); // D7: rejected payloads leave the output untouched
        }
    }

    #[test]
    fn prefixes_need_more(payloads in text_payloads()) {
        for c in codecs() {
            check_prefixes(&c, &payloads);
        }
    }

    #[test]
    fn arbitrary_bytes_bounded(wire in prop::collection::vec(prop::sample::select(b"ab\r\n\0".to_vec()), 0..400), cuts in cuts()) {
        // BAD_INPUTS D1: never more than max + delimiter + one read buffered.
        for c in codecs() {
            let c = DelimitedCodec::builder().delimiter(c.delimiter()).max_frame_length(16).build().unwrap();
            check_arbitrary(&c, &wire, &cuts, 16 + c.delimiter().len());
        }
    }

    #[test]
    fn d3_positions_examined_at_most_once(
        wire in prop::collection::vec(prop::sample::select(b"ab\r\n".to_vec()), 0..3000),
        pick in 0usize..3,
    ) {
        // BAD_INPUTS D3 as a property: fed one byte at a time, the search
        // examines each buffer position at most once over the whole stream.
        let delim: &[u8] = [&b"\n"[..], b"\r\n", b"ab\r"][pick];
        let mut c = DelimitedCodec::builder().delimiter(delim).max_frame_length(1 << 20).build().unwrap();
        let out = decode_chunked(&mut c, &wire, &[1]);
        prop_assert!(c.bytes_examined() <= wire.len() as u64, "{} > {}", c.bytes_examined(), wire.len());
        let whole = decode_whole(&mut DelimitedCodec::builder().delimiter(delim).max_frame_length(1 << 20).build().unwrap(), &wire);
        prop_assert_eq!(out.frames, whole.0);
    }

    #[test]
    fn discard_skips_one_region_per_overlong_line(
        lines in prop::collection::vec(prop::collection::vec(prop::sample::select(b"abc\r".to_vec()), 0..30), 0..10),
        chunk in 1usize..40,
    ) {
        // BAD_INPUTS D2
        let max = 10;
        let mut wire = Vec::new();
        for l in &lines {
            wire.extend_from_slice(l);
            wire.push(b'\n');
        }
        let mut c = DelimitedCodec::builder().max_frame_length(max).overlong(Overlong::Discard).build().unwrap();
        let (frames, regions, _) = decode_discarding(&mut c, &wire, chunk);
        let expect: Vec<Vec<u8>> = lines.iter().filter(|l| l.len() <= max).map(|l| {
            let mut l = l.clone();
            if l.last() == Some(&b'\r') { l.pop(); }
            l
        }).collect();
        prop_assert_eq!(frames, expect);
        prop_assert_eq!(regions, lines.iter().filter(|l| l.len() > max).count());
    }

    // Compatibility: tokio-util's LinesCodec splits text the same way.
    #[test]
    fn lines_codec_vectors(lines in prop::collection::vec("[a-z\r é]{0,30}", 0..10), crlf in any::<bool>()) {
        let mut wire = String::new();
        for l in &lines {
            wire.push_str(l);
            wire.push_str(if crlf { "\r\n" } else { "\n" });
        }
        let mut theirs = Vec::new();
        let mut buf = BytesMut::from(wire.as_bytes());
        let mut lc = LinesCodec::new();
        while let Some(l) = tokio_util::codec::Decoder::decode(&mut lc, &mut buf).unwrap() {
            theirs.push(l.into_bytes());
        }
        let (ours, end) = decode_whole(&mut DelimitedCodec::lines(), wire.as_bytes());
        prop_assert_eq!(end, Ok(()));
        prop_assert_eq!(ours, theirs);
        // Encoding: LinesCodec writes line + "\n" as we do.
        for l in lines.iter().filter(|l| !l.ends_with('\r')) {
            let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
            tokio_util::codec::Encoder::encode(&mut LinesCodec::new(), l.as_str(), &mut a).unwrap();
            DelimitedCodec::lines().encode(l.as_bytes(), &mut b).unwrap();
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn any_delimiter_codec_vectors(wire in prop::collection::vec(prop::sample::select(b"ab,;\0".to_vec()), 0..200), delim in prop::sample::select(b",;\0".to_vec())) {
        let mut theirs = Vec::new();
        let mut buf = BytesMut::from(&wire[..]);
        let mut adc = AnyDelimiterCodec::new(vec![delim], vec![delim]);
        while let Some(f) = tokio_util::codec::Decoder::decode(&mut adc, &mut buf).unwrap() {
            theirs.push(f.to_vec());
        }
        let mut ours = Vec::new();
        let mut buf = BytesMut::from(&wire[..]);
        let mut c = DelimitedCodec::new(&[delim]).unwrap();
        while let Some(f) = c.decode_bytes(&mut buf).unwrap() {
            ours.push(f.to_vec());
        }
        prop_assert_eq!(ours, theirs);
        let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
        tokio_util::codec::Encoder::encode(&mut AnyDelimiterCodec::new(vec![delim], vec![delim]), "ab", &mut a).unwrap();
        DelimitedCodec::new(&[delim]).unwrap().encode(b"ab", &mut b).unwrap();
        prop_assert_eq!(a, b);
    }
}

#[test]
fn d1_delimiter_never_arrives() {
    // BAD_INPUTS D1: the error comes once more than max (+ delimiter) is
    // buffered, so a caller holds at most max + delimiter + one read.
    for delim in [&b"\n"[..], b"\r\n"] {
        let max = 100;
        let mut c = DelimitedCodec::builder().delimiter(delim).max_frame_length(max).build().unwrap();
        let wire = vec![b'x'; 10_000];
        let out = decode_chunked(&mut c, &wire, &[7]);
        assert_eq!(out.end, Err(DecodeError::DelimiterNotFound { max }));
        assert!(out.peak_buffered < max + delim.len(), "peak {}", out.peak_buffered);
    }
    // The default is finite.
    assert_eq!(DelimitedCodec::lines().max_frame_length(), 64 * 1024);
}

#[test]
fn d1_discard_mode_memory_bounded_by_skip_frames() {
    // BAD_INPUTS D1 in Overlong::Discard mode: the decoder hands the overlong
    // line back as skip frames while it streams in, so a caller that drops
    // every frame it is given holds at most max + delimiter + one read.
    for delim in [&b"\n"[..], b"\r\n"] {
        let max = 50;
        let c = DelimitedCodec::builder()
            .delimiter(delim)
            .max_frame_length(max)
            .overlong(Overlong::Discard)
            .build()
            .unwrap();
        let mut wire = vec![b'x'; 100_000];
        wire.extend_from_slice(delim);
        wire.extend_from_slice(b"next");
        wire.extend_from_slice(delim);
        for chunk in [1usize, 7, 4096] {
            let (frames, regions, peak) = decode_discarding(&mut c.clone(), &wire, chunk);
            assert_eq!((frames, regions), (vec![b"next".to_vec()], 1), "chunk {chunk}");
            assert!(peak < max + delim.len(), "chunk {chunk}: peak {peak}");
        }
    }
}

#[test]
fn d2_overlong_then_no_delimiter_one_error() {
    // BAD_INPUTS D2: the overlong line goes on and on; one error, no loop,
    // and the next line after the delimiter comes out.
    let c = DelimitedCodec::builder().max_frame_length(4).overlong(Overlong::Discard).build().unwrap();
    let mut wire = vec![b'z'; 5000];
    wire.extend_from_slice(b"\nok\n");
    for chunk in [1, 3, 64, 5000] {
        let (frames, regions, _) = decode_discarding(&mut c.clone(), &wire, chunk);
        assert_eq!(regions, 1);
        assert_eq!(frames, [b"ok"]);
    }
    // Fail mode: the error repeats if the caller insists; no frame.
    let mut c = DelimitedCodec::builder().max_frame_length(4).build().unwrap();
    let mut buf = wire.clone();
    assert!(c.decode(&mut buf).is_err());
    assert!(c.decode(&mut buf).is_err());
}

#[test]
fn d3_linear_work_one_byte_at_a_time() {
    // BAD_INPUTS D3: 1 MiB without a delimiter, fed a byte at a time; the
    // search resumes, so the positions examined stay linear (no timing).
    const N: usize = 1 << 20;
    for delim in [&b"\n"[..], b"\r\n", b"0123456789abcdef"] {
        let mut c = DelimitedCodec::builder().delimiter(delim).max_frame_length(2 * N).build().unwrap();
        let mut buf = Vec::with_capacity(N + 16);
        for i in 0..N {
            buf.push(b'a' + (i % 7) as u8);
            assert_eq!(c.decode(&mut buf), Ok(None));
        }
        assert!(c.bytes_examined() <= N as u64, "{:?}: examined {}", delim, c.bytes_examined());
        buf.extend_from_slice(delim);
        let f = c.decode(&mut buf).unwrap().unwrap();
        assert_eq!((f.consumed(), f.len()), (N + delim.len(), N));
        assert!(c.bytes_examined() <= N as u64 + delim.len() as u64);
    }
}

#[test]
fn d4_multibyte_delimiter_split_across_reads() {
    // BAD_INPUTS D4
    let mut c = DelimitedCodec::new(b"\r\n").unwrap();
    let mut buf = b"hello\r".to_vec();
    assert_eq!(c.decode(&mut buf), Ok(None));
    buf.extend_from_slice(b"\nnext");
    let f = c.decode(&mut buf).unwrap().unwrap();
    assert_eq!((f.payload(&buf), f.consumed()), (&b"hello"[..], 7));
    let out = decode_chunked(&mut DelimitedCodec::new(b"\r\n").unwrap(), b"a\r\r\nb\r\n\r\n", &[1]);
    assert_eq!(out.frames, [&b"a\r"[..], b"b", b""]);
}

#[test]
fn d5_exactly_max_accepted_max_plus_one_rejected() {
    // BAD_INPUTS D5: max is inclusive (bytes before the delimiter, \r included).
    for delim in [&b"\n"[..], b"\r\n"] {
        let max = 5;
        let mk = || {
            DelimitedCodec::builder().delimiter(delim).strip_cr(false).max_frame_length(max).build().unwrap()
        };
        let mut ok = b"12345".to_vec();
        ok.extend_from_slice(delim);
        assert_eq!(decode_whole(&mut mk(), &ok), (vec![b"12345".to_vec()], Ok(())));
        let mut long = b"123456".to_vec();
        long.extend_from_slice(delim);
        assert_eq!(decode_whole(&mut mk(), &long).1, Err(DecodeError::DelimiterNotFound { max }));
        // Byte by byte, too.
        assert_eq!(decode_chunked(&mut mk(), &ok, &[1]).frames, [b"12345"]);
        assert_eq!(decode_chunked(&mut mk(), &long, &[1]).end, Err(DecodeError::DelimiterNotFound { max }));
        // The encoder agrees.
        let mut out = BytesMut::new();
        assert!(mk().encode(b"12345", &mut out).is_ok());
        assert_eq!(mk().encode(b"123456", &mut out), Err(EncodeError::PayloadTooLarge { len: 6, max }));
    }
}

#[test]
fn d6_text_view_validates_complete_lines_only() {
    // BAD_INPUTS D6: "ü" is c3 bc; split it across reads, then an invalid line.
    let mut c = DelimitedCodec::lines();
    let mut buf = b"gr\xc3".to_vec();
    assert_eq!(c.decode_text(&mut buf), Ok(None));
    buf.extend_from_slice(b"\xbc\n\xff\xfe\nafter\n");
    let (used, text) = c.decode_text(&mut buf).unwrap().unwrap();
    assert_eq!(text, Ok("grü"));
    buf.drain(..used);
    let (used, text) = c.decode_text(&mut buf).unwrap().unwrap();
    assert_eq!(text, Err(DecodeError::InvalidUtf8 { valid_up_to: 0 }));
    buf.drain(..used);
    // Still usable.
    let (used, text) = c.decode_text(&mut buf).unwrap().unwrap();
    assert_eq!((used, text), (6, Ok("after")));
}

#[test]
fn d7_encoder_rejects_delimiter_output_untouched() {
    // BAD_INPUTS D7
    let cases: [(DelimitedCodec, &[u8], usize); 4] = [
        (DelimitedCodec::lines(), b"a\nb", 1),
        (DelimitedCodec::lines(), b"ends in cr\r", 10),
        (DelimitedCodec::new(b"\r\n").unwrap(), b"a\r\nb", 1),
        (DelimitedCodec::new(b"\0").unwrap(), b"\0", 0),
    ];
    for (mut c, payload, offset) in cases {
        let mut out = BytesMut::from(&b"queued"[..]);
        assert_eq!(c.encode(payload, &mut out), Err(EncodeError::ContainsDelimiter { offset }));
        assert_eq!(&out[..], b"queued");
    }
    // Without stripping, a trailing \r is an ordinary byte.
    let mut out = BytesMut::new();
    DelimitedCodec::new(b"\n").unwrap().encode(b"cr\r", &mut out).unwrap();
    assert_eq!(&out[..], b"cr\r\n");
}

#[test]
fn builder_rejects_nonsense() {
    assert!(DelimitedCodec::builder().delimiter(b"").build().is_err());
    assert!(DelimitedCodec::builder().delimiter(&[b'x'; 33]).build().is_err());
    assert!(DelimitedCodec::builder().max_frame_length(usize::MAX).build().is_err());
}

#[test]
fn the_search_counts_each_position_it_looks_at_once() {
    // The work counter behind the linear-work tests, checked exactly: a
    // one-byte delimiter examines every byte up to and including it, once.
    let mut c = DelimitedCodec::new(b"\n").unwrap();
    let mut buf = b"ab\ncd\nef".to_vec();
    assert_eq!(c.decode(&mut buf).unwrap().map(|f| f.consumed()), Some(3));
    assert_eq!(c.bytes_examined(), 3);
    buf.drain(..3);
    assert_eq!(c.decode(&mut buf).unwrap().map(|f| f.consumed()), Some(3));
    assert_eq!(c.bytes_examined(), 6);
    buf.drain(..3);
    assert_eq!(c.decode(&mut buf), Ok(None));
    assert_eq!(c.bytes_examined(), 8);
    buf.extend_from_slice(b"gh");
    assert_eq!(c.decode(&mut buf), Ok(None));
    assert_eq!(c.bytes_examined(), 10, "the search resumes where it stopped");
    // A longer delimiter examines each position where it could start, once.
    let mut c = DelimitedCodec::new(b"\r\n").unwrap();
    let mut buf = b"ab\r\ncd".to_vec();
    assert_eq!(c.decode(&mut buf).unwrap().map(|f| f.consumed()), Some(4));
    assert_eq!(c.bytes_examined(), 3);
    buf.drain(..4);
    assert_eq!(c.decode(&mut buf), Ok(None));
    assert_eq!(c.bytes_examined(), 4);
    buf.extend_from_slice(b"e\r");
    assert_eq!(c.decode(&mut buf), Ok(None));
    assert_eq!(c.bytes_examined(), 6, "resumes where a delimiter could still start");
    buf.extend_from_slice(b"\n");
    assert_eq!(c.decode(&mut buf).unwrap().map(|f| f.len()), Some(3));
    assert_eq!(c.bytes_examined(), 7);
}

#[test]
fn settings_are_reported_back() {
    let lines = DelimitedCodec::lines();
    assert!(lines.is_lines() && lines.strips_cr());
    assert_eq!(lines.overlong(), Overlong::Fail);
    let plain = DelimitedCodec::new(b"\n").unwrap();
    assert!(!plain.is_lines() && !plain.strips_cr());
    let crlf = DelimitedCodec::builder().delimiter(b"\r\n").strip_cr(true).build().unwrap();
    assert!(!crlf.is_lines() && crlf.strips_cr());
    let d = DelimitedCodec::builder().overlong(Overlong::Discard).build().unwrap();
    assert_eq!(d.overlong(), Overlong::Discard);
}

#[test]
fn hex_delimiters_in_specs_at_their_limits() {
    use sockframe::Codec;
    let ok = |s: &str| s.parse::<Codec>().is_ok();
    let bad_hex = |s: &str| {
        let err = s.parse::<Codec>().unwrap_err().to_string();
        err.contains("bad hex delimiter")
    };
    assert!(ok(&format!("delim:{}", "7e".repeat(32))));
    assert!(bad_hex(&format!("delim:{}", "7e".repeat(33))), "33 bytes");
    assert!(bad_hex("delim:"), "empty");
    assert!(bad_hex("delim:0"), "odd");
    assert!(bad_hex("delim:0d0"), "odd");
    assert!(bad_hex("delim:zz"), "not hex");
    assert!(ok("delim:0d0a"));
    assert_eq!("delim:0D0a".parse::<Codec>().unwrap().to_string(), "delim:0d0a");
}

#[test]
fn discard_mode_at_eof_inside_an_overlong_line_with_a_long_delimiter() {
    // The last byte could start a "\r\n": held back while the line streams
    // in, and skipped at the end of the stream (not `Truncated`).
    let mut c = DelimitedCodec::builder()
        .delimiter(b"\r\n")
        .max_frame_length(3)
        .overlong(Overlong::Discard)
        .build()
        .unwrap();
    let mut buf = b"too long\r".to_vec();
    let mut skipped = 0;
    while let Some(f) = c.decode(&mut buf).unwrap() {
        assert!(f.is_skip());
        skipped += f.consumed();
        buf.drain(..f.consumed());
    }
    assert_eq!(buf, b"\r");
    let f = c.decode_eof(&mut buf).unwrap().unwrap();
    assert!(f.is_skip() && !f.starts_skip_region());
    assert_eq!(skipped + f.consumed(), 9);
    buf.drain(..f.consumed());
    assert_eq!(c.decode_eof(&mut buf), Ok(None));
}

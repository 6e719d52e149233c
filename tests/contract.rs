//! The contract suite: every framing in the registry (each in the
//! configurations its `Spec::EXAMPLES` lists, discard modes included),
//! through every driver, must behave the same way.
//!
//! Drivers: the borrowed `decode` loop, the `Frames` iterator,
//! `decode_bytes` (owned `Bytes`), `FramedRead` (blocking) and `Framed`
//! (non-blocking `try_recv`) over the scripted I/O double with `WouldBlock`,
//! `Interrupted` and short reads at random points, and the tokio-util
//! `Decoder` impl. The write side (`send`/`queue` with short writes, `Ok(0)`,
//! `WouldBlock`, `Interrupted`) is `run_script`, instantiated for every
//! framing in `tests/transport_script.rs`; the CLI's `decode` goes through
//! `FramedRead` (`cli/tests/cli.rs`).
//!
//! Properties: round trip; split invariance at any cut (and a 1-byte drip,
//! every cut at once); need-more never consumes; errors are typed and
//! sticky; skips are bounded in memory and counted alike; `decode_eof`
//! ends cleanly at a frame boundary and reports `Truncated` inside a frame.

mod common;

use bytes::BytesMut;
use proptest::prelude::*;
use sockframe::fuzzing::{check_split, decode_chunked, fit_payloads, ScriptedIo, Step};
use sockframe::{
    Codec, DecodeError, Decoder, Encoder, Framed, FramedRead, Frames, Recv, TimeoutKind, TransportError,
};

/// What one driver made of a stream.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    frames: Vec<Vec<u8>>,
    end: Result<(), DecodeError>,
    /// Bytes skipped, where the driver counts them.
    skipped: Option<u64>,
}

fn specs() -> Vec<&'static str> {
    Codec::examples().collect()
}

fn codec(spec: &str) -> Codec {
    spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"))
}

fn pieces<'a>(wire: &'a [u8], cuts: &'a [usize]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut pos = 0;
    let mut i = 0;
    std::iter::from_fn(move || {
        if pos >= wire.len() {
            return None;
        }
        let n = cuts.get(i % cuts.len().max(1)).copied().unwrap_or(wire.len()).max(1);
        i += 1;
        let end = wire.len().min(pos + n);
        let piece = &wire[pos..end];
        pos = end;
        Some(piece)
    })
}

fn borrowed(c: &Codec, wire: &[u8], cuts: &[usize]) -> Run {
    let out = decode_chunked(&mut c.clone(), wire, cuts);
    // BAD_INPUTS L2/D1: what a driver holds is bounded by the largest frame plus one read.
    let read = cuts.iter().copied().max().unwrap_or(wire.len());
    assert!(out.peak_buffered <= c.max_wire_len() + read, "buffered {} bytes", out.peak_buffered);
    Run { frames: out.frames, end: out.end, skipped: Some(out.skipped.bytes) }
}

fn frames_iter(c: &Codec, wire: &[u8], cuts: &[usize]) -> Run {
    let mut c = c.clone();
    let (mut buf, mut frames, mut skipped) = (Vec::new(), Vec::new(), 0);
    let mut drain = |buf: &mut Vec<u8>, eof: bool| -> Result<(), DecodeError> {
        let mut it = if eof { Frames::at_eof(&mut c, buf) } else { Frames::new(&mut c, buf) };
        let mut result = Ok(());
        for f in it.by_ref() {
            match f {
                Ok(p) => frames.push(p.to_vec()),
                Err(e) => result = Err(e),
            }
        }
        let used = it.consumed();
        skipped += it.skipped().bytes;
        buf.drain(..used);
        if eof && result.is_ok() {
            assert!(buf.is_empty(), "Frames::at_eof left bytes without an error");
        }
        result
    };
    for piece in pieces(wire, cuts) {
        buf.extend_from_slice(piece);
        if let Err(e) = drain(&mut buf, false) {
            return Run { frames, end: Err(e), skipped: Some(skipped) };
        }
    }
    let end = drain(&mut buf, true);
    Run { frames, end, skipped: Some(skipped) }
}

fn owned(c: &Codec, wire: &[u8], cuts: &[usize]) -> Run {
    let mut c = c.clone();
    let (mut buf, mut frames) = (BytesMut::new(), Vec::new());
    for piece in pieces(wire, cuts) {
        buf.extend_from_slice(piece);
        loop {
            match c.decode_bytes(&mut buf) {
                Ok(Some(f)) => frames.push(f.to_vec()),
                Ok(None) => break,
                Err(e) => return Run { frames, end: Err(e), skipped: None },
            }
        }
    }
    loop {
        match c.decode_bytes_eof(&mut buf) {
            Ok(Some(f)) => frames.push(f.to_vec()),
            Ok(None) => return Run { frames, end: Ok(()), skipped: None },
            Err(e) => return Run { frames, end: Err(e), skipped: None },
        }
    }
}

#[cfg(feature = "tokio")]
fn tokio(c: &Codec, wire: &[u8], cuts: &[usize]) -> Run {
    use tokio_util::codec::Decoder as Tokio;
    let mut c = c.clone();
    let (mut buf, mut frames) = (BytesMut::new(), Vec::new());
    let fail = |frames, e| match e {
        sockframe::CodecError::Decode(e) => Run { frames, end: Err(e), skipped: None },
        e => panic!("tokio impl: {e}"),
    };
    for piece in pieces(wire, cuts) {
        buf.extend_from_slice(piece);
        loop {
            match Tokio::decode(&mut c, &mut buf) {
                Ok(Some(f)) => frames.push(f.to_vec()),
                Ok(None) => break,
                Err(e) => return fail(frames, e),
            }
        }
        // The impl drops skipped bytes as they arrive.
        assert!(buf.len() <= c.max_wire_len() + piece.len(), "tokio buffer at {}", buf.len());
    }
    loop {
        match Tokio::decode_eof(&mut c, &mut buf) {
            Ok(Some(f)) => frames.push(f.to_vec()),
            Ok(None) => return Run { frames, end: Ok(()), skipped: None },
            Err(e) => return fail(frames, e),
        }
    }
}

/// A read script from the cuts, with `WouldBlock` and `Interrupted` mixed in.
fn script(cuts: &[usize], noise: u8) -> Vec<Step> {
    let mut steps = Vec::new();
    for (i, &n) in cuts.iter().enumerate() {
        steps.push(Step::Ok(n.max(1)));
        match (i as u8).wrapping_add(noise) % 4 {
            0 => steps.push(Step::WouldBlock),
            1 => steps.push(Step::Interrupted),
            _ => {}
        }
    }
    if steps.is_empty() {
        steps.push(Step::Ok(usize::MAX));
    }
    steps
}

/// Bounds every driver loop: each call makes progress or meets a scripted
/// stall, and stalls never come more than twice in a row.
fn budget(wire: &[u8]) -> usize {
    4 * wire.len() + 64
}

fn transport_end(e: TransportError) -> Result<(), DecodeError> {
    match e {
        TransportError::Decode(e) => Err(e),
        e => panic!("unexpected transport error: {e}"),
    }
}

fn framed_read(c: &Codec, wire: &[u8], cuts: &[usize], noise: u8) -> Run {
    let io = ScriptedIo::new(wire.to_vec(), script(cuts, noise), Vec::new());
    let mut framed = FramedRead::new(io, c.clone());
    let mut frames = Vec::new();
    for _ in 0..budget(wire) {
        let got = framed.recv_with(<[u8]>::to_vec);
        assert!(framed.read_buffer().len() <= framed.recv_cap());
        match got {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => return Run { frames, end: Ok(()), skipped: Some(framed.skipped().bytes) },
            // A blocking read that would block is a read timeout: retry.
            Err(TransportError::Timeout { kind: TimeoutKind::Read, .. }) => {}
            Err(e) => return Run { frames, end: transport_end(e), skipped: Some(framed.skipped().bytes) },
        }
    }
    panic!("FramedRead made no progress");
}

fn framed_nonblocking(c: &Codec, wire: &[u8], cuts: &[usize], noise: u8) -> Run {
    let io = ScriptedIo::new(wire.to_vec(), script(cuts, noise), Vec::new());
    let mut framed = Framed::new(io, c.clone());
    let mut frames = Vec::new();
    for _ in 0..budget(wire) {
        match framed.try_recv_with(<[u8]>::to_vec) {
            Ok(Recv::Frame(f)) => frames.push(f),
            Ok(Recv::End) => return Run { frames, end: Ok(()), skipped: Some(framed.skipped().bytes) },
            Ok(Recv::WouldBlock) => {}
            Err(e) => return Run { frames, end: transport_end(e), skipped: Some(framed.skipped().bytes) },
        }
    }
    panic!("Framed::try_recv made no progress");
}

/// Every driver agrees with the borrowed loop on frames, end and skips.
fn all_drivers_agree(c: &Codec, wire: &[u8], cuts: &[usize], noise: u8) -> Run {
    let spec = c.to_string();
    let reference = borrowed(c, wire, cuts);
    let boundaries = c.preserves_boundaries();
    let same = |name: &str, run: Run| {
        if boundaries {
            assert_eq!(run.frames, reference.frames, "{spec}: {name} frames");
        } else {
            assert_eq!(run.frames.concat(), reference.frames.concat(), "{spec}: {name} bytes");
        }
        assert_eq!(run.end, reference.end, "{spec}: {name} end");
        if let Some(skipped) = run.skipped {
            assert_eq!(Some(skipped), reference.skipped, "{spec}: {name} skipped bytes");
        }
    };
    same("Frames", frames_iter(c, wire, cuts));
    same("decode_bytes", owned(c, wire, cuts));
    #[cfg(feature = "tokio")]
    same("tokio Decoder", tokio(c, wire, cuts));
    same("FramedRead", framed_read(c, wire, cuts, noise));
    same("Framed try_recv", framed_nonblocking(c, wire, cuts, noise));
    reference
}

/// Errors are typed and sticky: once `decode` fails on a buffer, it fails
/// again, with the same kind of error, on the same bytes and with more
/// appended.
fn errors_are_sticky(c: &Codec, wire: &[u8]) {
    let mut dec = c.clone();
    let mut buf = wire.to_vec();
    let mut used = 0;
    let err = loop {
        match dec.decode(&mut buf[used..]) {
            Ok(Some(f)) => used += f.consumed(),
            Ok(None) => return,
            Err(e) => break e,
        }
    };
    // The same kind of error: COBS decodes in place, so the offset it
    // reports may move once the frame's bytes were rewritten.
    let kind = std::mem::discriminant(&err);
    let again = dec.decode(&mut buf[used..]).err().unwrap_or_else(|| panic!("{c}: error {err:?} not sticky"));
    assert_eq!(std::mem::discriminant(&again), kind, "{c}: {again:?} after {err:?}");
    buf.extend_from_slice(wire);
    let more = dec
        .decode(&mut buf[used..])
        .err()
        .unwrap_or_else(|| panic!("{c}: {err:?} not sticky with more bytes"));
    assert_eq!(std::mem::discriminant(&more), kind, "{c}: {more:?} after {err:?}");
}

fn encoded(c: &Codec, payloads: &[Vec<u8>]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    let payloads = fit_payloads(&mut c.clone(), &refs);
    let (wire, accepted) = common::encode_all(&mut c.clone(), &payloads);
    (wire.to_vec(), accepted.into_iter().map(|(p, _)| p).collect())
}

/// Bytes that look like frames of many framings: delimiters, zeros, small
/// length fields, digits and `:`/`,`, plus anything.
fn hostile() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(b"\n\r\x00\x01\x02\x03:,0123456789abx".to_vec()),
            1 => any::<u8>(),
        ],
        0..400,
    )
}

proptest! {
    #![proptest_config(common::config())]

    #[test]
    fn round_trip_through_every_driver(
        payloads in common::payloads(40),
        cuts in common::cuts(),
        noise in any::<u8>(),
    ) {
        for spec in specs() {
            let c = codec(spec);
            let (wire, accepted) = encoded(&c, &payloads);
            let run = all_drivers_agree(&c, &wire, &cuts, noise);
            prop_assert_eq!(run.end, Ok(()), "{}", spec);
            prop_assert_eq!(run.skipped, Some(0), "{}", spec);
            if c.preserves_boundaries() {
                prop_assert_eq!(run.frames, accepted, "{}", spec);
            } else {
                prop_assert_eq!(run.frames.concat(), accepted.concat(), "{}", spec);
            }
        }
    }

    #[test]
    fn hostile_bytes_alike_in_every_driver(wire in hostile(), cuts in common::cuts(), noise in any::<u8>()) {
        for spec in specs() {
            let c = codec(spec);
            all_drivers_agree(&c, &wire, &cuts, noise);
            if c.preserves_boundaries() {
                // Split invariance against the whole stream and a 1-byte drip
                // (every cut at once); need-more never consumes (checked
                // inside decode_chunked).
                check_split(&c, &wire, &cuts);
            }
            errors_are_sticky(&c, &wire);
        }
    }

    #[test]
    fn prefixes_need_more_and_eof_is_explicit(payloads in common::payloads(24)) {
        for spec in specs() {
            let c = codec(spec);
            if c.preserves_boundaries() {
                let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
                common::check_prefixes(&c, &fit_payloads(&mut c.clone(), &refs));
            }
        }
    }
}

#[test]
fn every_framing_has_example_specs_and_they_round_trip_through_display() {
    macro_rules! check {
        ($(($variant:ident, $ty:ty)),* $(,)?) => {$(
            let examples = <$ty as sockframe::codec::any::Spec>::EXAMPLES;
            assert!(!examples.is_empty(), "{} has no example specs", stringify!($ty));
            for spec in examples {
                let c = codec(spec);
                assert!(matches!(c, Codec::$variant(_)), "{spec} parses to another framing");
                let again = codec(&c.to_string());
                assert_eq!(again.to_string(), c.to_string(), "{spec}");
                assert_eq!((again.max_frame_length(), again.discards()), (c.max_frame_length(), c.discards()));
            }
        )*};
    }
    sockframe::for_each_codec!(check);
    assert!(specs().iter().any(|s| s.contains("discard")), "a discard mode is in the suite");
}

#[test]
fn discard_modes_stay_bounded_and_count_each_overlong_line_once() {
    // BAD_INPUTS D1/D2 in every driver: a long overlong line streams in, is
    // dropped as it arrives and counted once; the lines around it come out.
    for spec in specs().into_iter().filter(|s| s.contains("discard")) {
        let c = codec(spec);
        let delim = match &c {
            Codec::Delimited(d) => d.delimiter().to_vec(),
            // The corrupting-link framings: tests/corrupt_links.rs.
            _ => continue,
        };
        let mut wire = b"a".to_vec();
        wire.extend_from_slice(&delim);
        wire.extend(std::iter::repeat_n(b'x', 100_000));
        wire.extend_from_slice(&delim);
        wire.extend_from_slice(b"b");
        wire.extend_from_slice(&delim);
        for cuts in [vec![1], vec![7, 3], vec![4096], vec![]] {
            let run = all_drivers_agree(&c, &wire, &cuts, 1);
            assert_eq!(run.frames, [b"a".to_vec(), b"b".to_vec()], "{spec}");
            assert_eq!(run.end, Ok(()));
            assert_eq!(run.skipped, Some(100_000 + delim.len() as u64), "{spec}");
            let mut frames = FramedRead::new(&wire[..], c.clone());
            while frames.recv().unwrap().is_some() {}
            assert_eq!(frames.skipped().regions, 1, "{spec}: one region per overlong line");
        }
    }
}

#[test]
fn encoders_leave_the_output_untouched_on_error() {
    // BAD_INPUTS E1/D7 for every framing: a rejected payload writes nothing.
    let too_big = vec![b'y'; 70_000];
    for spec in specs() {
        let mut c = codec(spec);
        let mut out = BytesMut::from(&b"keep"[..]);
        for p in [&too_big[..], b"a\nb", b"\r", b"\x00"] {
            if c.encode(p, &mut out).is_err() {
                assert_eq!(&out[..], b"keep", "{spec}");
            }
            out.truncate(4);
        }
    }
}

/// The largest payload `c` takes whose frame is longest on the wire: of
/// bytes no framing treats specially, or all bytes a stuffing framing
/// escapes (SLIP/KISS END, HDLC flag, COBS zero).
fn largest_payload(c: &Codec) -> Vec<u8> {
    let wire_len = |p: &[u8]| {
        let mut out = BytesMut::new();
        c.clone().encode(p, &mut out).map(|()| out.len()).unwrap_or(0)
    };
    [b'a', 0xc0, 0x7e, 0x00]
        .into_iter()
        .map(|b| vec![b; c.max_frame_length()])
        .max_by_key(|p| wire_len(p))
        .unwrap_or_default()
}

#[test]
fn every_framing_reports_the_wire_size_of_its_largest_frame() {
    // `max_wire_len` sizes the transport's receive cap: a frame of the
    // largest payload must fit in it, and it must not be far above it.
    for spec in specs() {
        let mut c = codec(spec);
        if c.max_frame_length() > 1 << 20 {
            c = c.with_max_frame_length(1000).unwrap();
        }
        let max = c.max_frame_length();
        let payload = largest_payload(&c);
        let mut wire = BytesMut::new();
        c.encode(&payload, &mut wire).unwrap_or_else(|e| panic!("{spec}: the largest payload: {e}"));
        let bound = c.max_wire_len();
        assert!(wire.len() <= bound, "{spec}: {} wire bytes over max_wire_len {bound}", wire.len());
        // Above it only by what a decoder accepts and the encoder never
        // writes: a stripped '\r' (lines), a padded varint (up to 10 bytes),
        // a leading END or flag, an escaped FCS byte (up to 4).
        assert!(bound <= wire.len() + 10, "{spec}: max_wire_len {bound} for {} wire bytes", wire.len());
        // One byte more is refused by the encoder (raw would split it; fixed
        // takes one size only).
        let mut out = BytesMut::new();
        let over = c.encode(&vec![b'a'; max + 1], &mut out);
        assert!(over.is_err(), "{spec}: a payload of max + 1 = {} bytes was encoded", max + 1);
        assert!(out.is_empty(), "{spec}");
        // ... and the decoder takes the largest frame from a buffer of exactly
        // max_wire_len bytes.
        let mut framed = FramedRead::with_config(
            &wire[..],
            c.clone(),
            sockframe::FramedConfig::new().recv_cap(bound).recv_initial(bound),
        )
        .unwrap();
        let got = framed.recv().unwrap_or_else(|e| panic!("{spec}: {e}"));
        if c.preserves_boundaries() {
            assert_eq!(got.as_deref(), Some(&payload[..]), "{spec}");
        } else {
            assert_eq!(got.map(|b| b.len()), Some(max), "{spec}");
        }
    }
}

#[test]
fn every_framing_with_a_max_takes_a_new_one_and_prints_only_what_differs() {
    for spec in specs() {
        let c = codec(spec);
        // The examples are canonical: printing gives the spec back.
        if !spec.starts_with("len,") && spec != "len" {
            assert_eq!(c.to_string(), *spec, "the example is not canonical");
        }
        match c.clone().with_max_frame_length(77) {
            Ok(small) => {
                assert_eq!(small.max_frame_length(), 77, "{spec}");
                assert!(small.to_string().contains(",max=77"), "{spec}: {small}");
                assert_eq!(small.discards(), c.discards(), "{spec}: discard mode carries over");
                // The new maximum is enforced by the encoder.
                let mut out = BytesMut::new();
                assert!(small.clone().encode(&[b'a'; 78], &mut out).is_err(), "{spec}");
                // isize::MAX is the largest a maximum can be (a length field
                // has its own limit, tested in bad_inputs_length.rs L3).
                let huge = c.clone().with_max_frame_length(isize::MAX as usize + 1);
                assert!(huge.is_err() || matches!(c, Codec::Length(_)), "{spec}: a max above isize::MAX");
                let at_limit = c.clone().with_max_frame_length(sockframe::limits::NO_LIMIT);
                // Refused only where the wire can outgrow the payload
                // (stuffing, a length field narrower than usize, a trailer).
                assert!(
                    at_limit.is_ok()
                        || matches!(
                            c,
                            Codec::Length(_)
                                | Codec::Cobs(_)
                                | Codec::Slip(_)
                                | Codec::Kiss(_)
                                | Codec::Hdlc(_)
                                | Codec::Sync(_)
                                | Codec::Checked(_)
                        ),
                    "{spec}: NO_LIMIT refused: {at_limit:?}"
                );
            }
            // Only fixed-size records have no max.
            Err(_) => assert!(spec.starts_with("fixed"), "{spec}: no new max"),
        }
        // A framing that takes no argument refuses one.
        let name = spec.split([':', ',']).next().unwrap();
        if !spec.contains(':') {
            assert!(format!("{name}:1").parse::<Codec>().is_err(), "{name}:1 parsed");
        }
    }
}

#[test]
fn skip_frames_carry_their_reason_and_where_a_region_starts() {
    use sockframe::{Frame, SkipReason};
    let first = Frame::skipped(5, SkipReason::Overlong, true);
    let more = Frame::skipped(3, SkipReason::Overlong, false);
    let frame = Frame::new(4, 1, 3);
    assert_eq!(
        (first.is_skip(), first.starts_skip_region(), first.skip_reason()),
        (true, true, Some(SkipReason::Overlong))
    );
    assert_eq!(
        (more.is_skip(), more.starts_skip_region(), more.skip_reason()),
        (true, false, Some(SkipReason::Overlong))
    );
    assert_eq!((frame.is_skip(), frame.starts_skip_region(), frame.skip_reason()), (false, false, None));
    assert_eq!((first.consumed(), first.len(), first.payload_range()), (5, 0, 5..5));
    assert_eq!(SkipReason::Overlong.to_string(), "frame over the maximum length");
    // What the decoders hand out says so too.
    let mut c = codec("lines,max=3,discard");
    let mut buf = b"toolong\n".to_vec();
    let skip = c.decode(&mut buf).unwrap().unwrap();
    assert_eq!((skip.skip_reason(), skip.starts_skip_region()), (Some(SkipReason::Overlong), true));
}

#[test]
fn frames_envelopes_and_the_forwarding_impls() {
    use sockframe::{Envelope, Frame, LengthCodec};
    // Frame's accessors.
    assert!(Frame::new(4, 4, 4).is_empty());
    assert!(!Frame::new(5, 4, 5).is_empty());
    // Frames says what is left after the frames it walked.
    let mut c = LengthCodec::new();
    let mut buf = b"\x00\x00\x00\x01a\x00\x00".to_vec();
    let mut frames = Frames::new(&mut c, &mut buf);
    assert_eq!(frames.next(), Some(Ok(&b"a"[..])));
    assert_eq!(frames.next(), None);
    assert_eq!((frames.consumed(), frames.remaining()), (5, &b"\x00\x00"[..]));
    // An envelope reports its frame's length and shows its parts.
    let env = Envelope::new(b"\x00\x02", b"\n").unwrap();
    assert_eq!(env.frame_len(2), Some(5));
    assert_eq!(env.frame_len(usize::MAX), None);
    assert_eq!(format!("{env:?}"), "Envelope { head: [0, 2], tail: [10] }");
    // `&mut D` and `&mut E` forward every method.
    for spec in specs() {
        let mut direct = codec(spec);
        let mut through = codec(spec);
        let forwarded = &mut through;
        assert_eq!(Decoder::max_wire_len(&forwarded), direct.max_wire_len(), "{spec}");
        let payload = b"ab";
        let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
        let ra = direct.encode(payload, &mut a);
        let rb = Encoder::encode(&mut &mut through, payload, &mut b);
        assert_eq!((ra, &a), (rb, &b), "{spec}");
        let env_direct = direct.envelope(payload).map(|e| e.map(|e| (e.head().to_vec(), e.tail().to_vec())));
        let env_through = Encoder::envelope(&mut &mut through, payload)
            .map(|e| e.map(|e| (e.head().to_vec(), e.tail().to_vec())));
        assert_eq!(env_direct, env_through, "{spec}");
        let (mut wa, mut wb) = (a.to_vec(), b.to_vec());
        let fa = direct.decode(&mut wa);
        let fb = Decoder::decode(&mut &mut through, &mut wb);
        assert_eq!(fa, fb, "{spec}");
        let (mut ta, mut tb) = (b"\x00".to_vec(), b"\x00".to_vec());
        let ea = codec(spec).decode_eof(&mut ta);
        let mut fresh = codec(spec);
        let eb = Decoder::decode_eof(&mut &mut fresh, &mut tb);
        assert_eq!(ea, eb, "{spec}");
    }
}

#[test]
fn frame_len_hints_are_never_wrong() {
    // `Decoder::frame_len_hint` sizes receive buffers: when a framing gives
    // one for a partial frame, it is that frame's exact wire length.
    for spec in specs() {
        let c = codec(spec);
        let max = c.max_frame_length().min(5000);
        let payload: Vec<u8> = (0..max).map(|i| b'a' + (i % 26) as u8).collect();
        let mut wire = BytesMut::new();
        if c.clone().encode(&payload, &mut wire).is_err() {
            continue;
        }
        let mut hinted = 0;
        for k in 0..wire.len() {
            if let Some(n) = c.frame_len_hint(&wire[..k]) {
                assert_eq!(n, wire.len(), "{spec}: hint from {k} bytes");
                hinted += 1;
            }
        }
        // A length prefix says it as soon as its header is in.
        let prefix = matches!(c, Codec::Length(_) | Codec::Varint(_) | Codec::Sync(_));
        if prefix {
            assert!(
                hinted + 16 >= wire.len(),
                "{spec}: hinted from only {hinted} of {} prefixes",
                wire.len()
            );
        }
    }
}

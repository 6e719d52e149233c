//! `sockframe::embedded::FramedIo` over a scripted `embedded_io` double:
//! reads cut at arbitrary points, short writes, `Interrupted`, `Ok(0)` and
//! errors at chosen calls.
//!
//! Properties, for every framing in the registry (`Codec::examples()`,
//! discard modes included): the driver receives exactly what the sans-IO
//! reference (`fuzzing::decode_chunked` in one piece) decodes, at any cuts,
//! frames, end (clean or `Truncated`/other decode error) and skips alike; the
//! bytes it sends are exactly the codec's encodings, whatever the write
//! schedule; nothing is lost or duplicated across I/O errors.
#![cfg(feature = "embedded-io")]

use bytes::BytesMut;
use embedded_io::{ErrorKind, ErrorType, Read, Write};
use proptest::prelude::*;
use sockframe::embedded::{FramedIo, FramedIoConfig, FramedIoError};
use sockframe::fuzzing::{decode_chunked, fit_payloads};
use sockframe::{Codec, DecodeError, Decoder, Encoder, LengthCodec};

/// An `embedded_io` error of a given kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ScriptError(ErrorKind);

impl embedded_io::Error for ScriptError {
    fn kind(&self) -> ErrorKind {
        self.0
    }
}

/// One scripted result of a `read` or `write` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Transfer at most this many bytes (at least 1).
    Give(usize),
    /// `Ok(0)` (for a write; a read returns `Ok(0)` only at the end of input).
    Zero,
    /// `Err` of this kind (`Interrupted` is retried by the driver).
    Fail(ErrorKind),
}

/// More calls than any test here makes: a driver that spins fails at once
/// instead of hanging the test.
const MAX_CALLS: usize = 200_000;

/// Reads serve `input` then `Ok(0)`; writes append to `written`. Each side
/// follows its script, then transfers everything asked for.
#[derive(Debug, Default)]
struct Script {
    input: Vec<u8>,
    input_pos: usize,
    reads: Vec<Step>,
    writes: Vec<Step>,
    written: Vec<u8>,
    read_calls: usize,
    write_calls: usize,
    flushes: usize,
}

impl Script {
    fn new(input: Vec<u8>, reads: Vec<Step>, writes: Vec<Step>) -> Self {
        Script { input, reads, writes, ..Script::default() }
    }

    fn next(script: &[Step], calls: &mut usize) -> Step {
        assert!(*calls < MAX_CALLS, "{MAX_CALLS} I/O calls: the driver is not making progress");
        let step = script.get(*calls).copied().unwrap_or(Step::Give(usize::MAX));
        *calls += 1;
        step
    }
}

impl ErrorType for Script {
    type Error = ScriptError;
}

impl Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ScriptError> {
        assert!(!buf.is_empty(), "BAD_INPUTS T1: read called with an empty buffer");
        let left = self.input.len() - self.input_pos;
        match Self::next(&self.reads, &mut self.read_calls) {
            Step::Fail(kind) => Err(ScriptError(kind)),
            _ if left == 0 => Ok(0),
            step => {
                // A read's Ok(0) means EOF, so a scripted Zero transfers one byte.
                let n = if let Step::Give(n) = step { n.max(1) } else { 1 };
                let n = n.min(left).min(buf.len());
                buf[..n].copy_from_slice(&self.input[self.input_pos..self.input_pos + n]);
                self.input_pos += n;
                Ok(n)
            }
        }
    }
}

impl Write for Script {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ScriptError> {
        assert!(!buf.is_empty(), "write called with nothing to write");
        match Self::next(&self.writes, &mut self.write_calls) {
            Step::Give(n) => {
                let n = n.max(1).min(buf.len());
                self.written.extend_from_slice(&buf[..n]);
                Ok(n)
            }
            Step::Zero => Ok(0),
            Step::Fail(kind) => Err(ScriptError(kind)),
        }
    }

    fn flush(&mut self) -> Result<(), ScriptError> {
        self.flushes += 1;
        Ok(())
    }
}

fn codec(spec: &str) -> Codec {
    spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"))
}

/// What the driver made of a stream: frames, how it ended, bytes skipped.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    frames: Vec<Vec<u8>>,
    end: Result<(), DecodeError>,
    skipped: u64,
}

/// Receives everything from `wire` through a `FramedIo`, reading as `reads`
/// says (errors retried by calling `recv` again), alternating `recv` and
/// `recv_with`.
fn receive(c: &Codec, wire: &[u8], reads: Vec<Step>) -> Run {
    let mut framed = FramedIo::new(Script::new(wire.to_vec(), reads, Vec::new()), c.clone());
    let mut frames = Vec::new();
    let mut errors = 0;
    for i in 0..=wire.len() * 2 + 64 {
        let got = if i % 2 == 0 {
            framed.recv().map(|f| f.map(|b| b.to_vec()))
        } else {
            framed.recv_with(|p| p.to_vec())
        };
        match got {
            Ok(Some(frame)) => frames.push(frame),
            Ok(None) => return Run { frames, end: Ok(()), skipped: framed.skipped().bytes },
            Err(FramedIoError::Decode(e)) => {
                return Run { frames, end: Err(e), skipped: framed.skipped().bytes }
            }
            Err(FramedIoError::Io(ScriptError(_))) => {
                errors += 1;
                assert!(errors <= 64, "more I/O errors than scripted");
            }
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    panic!("no end after {} frames", frames.len());
}

/// The sans-IO reference: the whole wire decoded in one piece.
fn reference(c: &Codec, wire: &[u8]) -> Run {
    let out = decode_chunked(&mut c.clone(), wire, &[]);
    Run { frames: out.frames, end: out.end, skipped: out.skipped.bytes }
}

/// A run as far as the framing defines it: a framing without boundaries
/// (`raw`) returns whatever each read brought, so only the bytes count.
fn comparable(c: &Codec, mut run: Run) -> Run {
    if !c.preserves_boundaries() {
        run.frames = vec![run.frames.concat()];
    }
    run
}

/// Read schedules: sizes biased to 1-byte drips, with `Interrupted` and a
/// passing I/O error sprinkled in.
fn read_steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        6 => (1usize..4).prop_map(Step::Give),
        3 => (1usize..300).prop_map(Step::Give),
        1 => Just(Step::Fail(ErrorKind::Interrupted)),
        1 => Just(Step::Fail(ErrorKind::TimedOut)),
    ];
    prop::collection::vec(step, 0..40)
}

/// Write schedules: short writes, `Interrupted`, a passing error, `Ok(0)`.
fn write_steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        6 => (1usize..5).prop_map(Step::Give),
        2 => (1usize..200).prop_map(Step::Give),
        1 => Just(Step::Fail(ErrorKind::Interrupted)),
        1 => Just(Step::Fail(ErrorKind::Other)),
        1 => Just(Step::Zero),
    ];
    prop::collection::vec(step, 0..40)
}

fn specs() -> Vec<&'static str> {
    Codec::examples().collect()
}

/// Sends every payload through a `FramedIo` over a write schedule,
/// retrying with `flush` after an I/O error (the frame stays queued);
/// returns the bytes written and the payloads accepted.
fn send_all(c: &Codec, payloads: &[Vec<u8>], writes: Vec<Step>, batch: bool) -> (Vec<u8>, Vec<Vec<u8>>) {
    let config = FramedIoConfig::new().send_cap(64);
    let mut framed = FramedIo::with_config(Script::new(Vec::new(), Vec::new(), writes), c.clone(), config)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut accepted = Vec::new();
    let flush = |framed: &mut FramedIo<Script, Codec>| {
        for _ in 0..200 {
            match framed.flush() {
                Ok(()) => return,
                Err(FramedIoError::Io(_) | FramedIoError::WriteZero { .. }) => {}
                Err(e) => panic!("flush: {e:?}"),
            }
        }
        panic!("flush made no progress");
    };
    for p in payloads {
        let result = if batch { framed.queue(p) } else { framed.send(p) };
        match result {
            Ok(()) => accepted.push(p.clone()),
            Err(FramedIoError::Encode(_)) => {}
            Err(FramedIoError::Full { .. }) if batch => {
                flush(&mut framed);
                match framed.queue(p) {
                    Ok(()) => accepted.push(p.clone()),
                    Err(FramedIoError::Encode(_)) => {}
                    Err(e) => panic!("queue after flush: {e:?}"),
                }
            }
            // The pre-write that made room failed: the frame was not queued.
            Err(FramedIoError::Full { .. }) => {
                flush(&mut framed);
                framed.queue(p).unwrap_or_else(|e| panic!("queue after flush: {e:?}"));
                accepted.push(p.clone());
            }
            // Writing failed after the frame was queued (a non-full queue
            // takes it first): flush retries.
            Err(FramedIoError::Io(_) | FramedIoError::WriteZero { .. }) => {
                accepted.push(p.clone());
                flush(&mut framed);
            }
            Err(e) => panic!("send: {e:?}"),
        }
    }
    flush(&mut framed);
    assert_eq!(framed.pending_send_bytes(), 0);
    (framed.into_inner().written, accepted)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Round trip and split invariance: what `send`/`queue` write is the
    /// codec's encoding of the accepted payloads, byte for byte, whatever
    /// the write schedule; receiving it at any cuts gives what the sans-IO
    /// reference decodes, which for framings that keep boundaries is the
    /// payloads themselves.
    #[test]
    fn round_trip_at_any_cuts(
        spec in prop::sample::select(specs()),
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..12),
        writes in write_steps(),
        reads in read_steps(),
        batch in any::<bool>(),
    ) {
        let c = codec(spec);
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let payloads = fit_payloads(&mut c.clone(), &refs);
        let (wire, accepted) = send_all(&c, &payloads, writes, batch);
        let mut expect = BytesMut::new();
        let mut enc = c.clone();
        let mut expect_accepted = Vec::new();
        for p in &payloads {
            if enc.encode(p, &mut expect).is_ok() {
                expect_accepted.push(p.clone());
            }
        }
        prop_assert_eq!(&wire[..], &expect[..], "{}: bytes sent differ from the encodings", spec);
        prop_assert_eq!(&accepted, &expect_accepted);
        let want = reference(&c, &wire);
        prop_assert_eq!(want.end, Ok(()), "{}", spec);
        if c.preserves_boundaries() {
            prop_assert_eq!(&want.frames, &accepted, "{}", spec);
        } else {
            prop_assert_eq!(want.frames.concat(), accepted.concat(), "{}", spec);
        }
        let got = receive(&c, &wire, reads);
        prop_assert_eq!(comparable(&c, got), comparable(&c, want), "{}", spec);
    }

    /// Arbitrary bytes (corrupt or truncated streams included) at arbitrary
    /// cuts: the driver ends exactly as the reference does, with the same
    /// frames before it and the same skips.
    #[test]
    fn arbitrary_bytes_match_the_reference(
        spec in prop::sample::select(specs()),
        wire in prop::collection::vec(prop_oneof![3 => any::<u8>(), 1 => Just(0u8), 1 => Just(b'\n')], 0..300),
        reads in read_steps(),
    ) {
        let c = codec(spec);
        let (got, want) = (receive(&c, &wire, reads), reference(&c, &wire));
        prop_assert_eq!(comparable(&c, got), comparable(&c, want), "{}", spec);
    }
}

#[test]
fn eof_inside_a_frame_is_truncated_with_the_pending_count() {
    let wire = b"\x00\x00\x00\x02hi\x00\x00\x00\x05hel".to_vec();
    let reads = vec![Step::Give(3), Step::Give(1), Step::Give(5), Step::Give(2)];
    let mut framed = FramedIo::new(Script::new(wire, reads, Vec::new()), LengthCodec::new());
    assert_eq!(framed.recv().unwrap().as_deref(), Some(&b"hi"[..]));
    assert!(!framed.is_read_closed());
    assert_eq!(framed.recv(), Err(FramedIoError::Decode(DecodeError::Truncated { pending: 7 })));
    assert!(framed.is_read_closed());
    assert_eq!(framed.read_buffer(), b"\x00\x00\x00\x05hel", "the partial frame is kept, not dropped");
    // Sticky: asking again reports the same end.
    assert_eq!(framed.recv(), Err(FramedIoError::Decode(DecodeError::Truncated { pending: 7 })));
}

#[test]
fn a_clean_end_stays_ended() {
    let mut framed =
        FramedIo::new(Script::new(b"\x00\x00\x00\x00".to_vec(), vec![], vec![]), LengthCodec::new());
    assert_eq!(framed.recv().unwrap().as_deref(), Some(&b""[..]));
    for _ in 0..3 {
        assert_eq!(framed.recv(), Ok(None));
    }
    assert_eq!(framed.get_ref().read_calls, 2, "no read after the end");
}

#[test]
fn a_read_error_is_passed_through_and_loses_nothing() {
    let wire = b"\x00\x00\x00\x05hello\x00\x00\x00\x01!".to_vec();
    let reads = vec![
        Step::Give(3),
        Step::Fail(ErrorKind::TimedOut),
        Step::Fail(ErrorKind::Interrupted),
        Step::Give(4),
        Step::Fail(ErrorKind::ConnectionReset),
    ];
    let mut framed = FramedIo::new(Script::new(wire, reads, vec![]), LengthCodec::new());
    assert_eq!(framed.recv(), Err(FramedIoError::Io(ScriptError(ErrorKind::TimedOut))));
    assert_eq!(framed.read_buffer(), b"\x00\x00\x00");
    // Interrupted is retried; the reset comes after 4 more bytes.
    assert_eq!(framed.recv(), Err(FramedIoError::Io(ScriptError(ErrorKind::ConnectionReset))));
    assert_eq!(framed.read_buffer(), b"\x00\x00\x00\x05hel");
    assert_eq!(framed.recv().unwrap().as_deref(), Some(&b"hello"[..]));
    assert_eq!(framed.recv_with(|p| p.to_vec()).unwrap(), Some(b"!".to_vec()));
    assert_eq!(framed.recv(), Ok(None));
}

#[test]
fn short_writes_resume_at_the_exact_offset() {
    let writes =
        vec![Step::Give(1), Step::Give(2), Step::Fail(ErrorKind::Interrupted), Step::Give(3), Step::Give(1)];
    let mut framed = FramedIo::new(Script::new(vec![], vec![], writes), LengthCodec::new());
    framed.send(b"hello").unwrap();
    framed.send(b"world").unwrap();
    assert_eq!(framed.pending_send_bytes(), 0);
    assert_eq!(framed.get_ref().written, b"\x00\x00\x00\x05hello\x00\x00\x00\x05world");
    assert_eq!(framed.get_ref().flushes, 0, "send does not flush the stream");
    framed.flush().unwrap();
    assert_eq!(framed.get_ref().flushes, 1);
}

#[test]
fn write_zero_and_write_errors_keep_the_queue() {
    let writes = vec![Step::Give(2), Step::Zero, Step::Give(3), Step::Fail(ErrorKind::BrokenPipe)];
    let mut framed = FramedIo::new(Script::new(vec![], vec![], writes), LengthCodec::new());
    assert_eq!(framed.send(b"hello"), Err(FramedIoError::WriteZero { unsent: 7 }));
    assert_eq!(framed.pending_send_bytes(), 7);
    assert_eq!(framed.flush(), Err(FramedIoError::Io(ScriptError(ErrorKind::BrokenPipe))));
    assert_eq!(framed.pending_send_bytes(), 4);
    framed.flush().unwrap();
    assert_eq!(framed.get_ref().written, b"\x00\x00\x00\x05hello", "nothing lost or repeated");
}

#[test]
fn the_send_queue_is_capped_and_send_makes_room() {
    let config = FramedIoConfig::new().send_cap(16);
    let writes = vec![Step::Give(4)];
    let mut framed =
        FramedIo::with_config(Script::new(vec![], vec![], writes), LengthCodec::new(), config).unwrap();
    framed.queue(b"0123456789").unwrap();
    assert_eq!(framed.queue(b"more"), Err(FramedIoError::Full { queued: 14, cap: 16 }));
    assert_eq!(framed.get_ref().written, b"", "queue never writes");
    // send writes the queue out to make room, then the frame.
    framed.send(b"more").unwrap();
    assert_eq!(framed.get_ref().written, b"\x00\x00\x00\x0a0123456789\x00\x00\x00\x04more");
    // An empty queue takes a frame above the cap.
    framed.queue(&[7u8; 40]).unwrap();
    assert_eq!(framed.pending_send_bytes(), 44);
    // Making room fails with Ok(0): Full, and the frame is not queued.
    let mut framed = FramedIo::with_config(
        Script::new(vec![], vec![], vec![Step::Zero]),
        LengthCodec::new(),
        FramedIoConfig::new().send_cap(16),
    )
    .unwrap();
    framed.queue(b"0123456789").unwrap();
    assert_eq!(framed.send(b"more"), Err(FramedIoError::Full { queued: 14, cap: 16 }));
    assert_eq!(framed.pending_send_bytes(), 14);
}

#[test]
fn encode_errors_queue_nothing() {
    let codec = LengthCodec::builder().max_frame_length(4).build().unwrap();
    let mut framed = FramedIo::new(Script::new(vec![], vec![], vec![]), codec);
    assert!(matches!(framed.send(b"too long"), Err(FramedIoError::Encode(_))));
    assert!(matches!(framed.queue(b"too long"), Err(FramedIoError::Encode(_))));
    assert_eq!(framed.pending_send_bytes(), 0);
    assert_eq!(framed.get_ref().write_calls, 0);
}

#[test]
fn a_frame_above_the_receive_cap_is_reported_not_grown_into() {
    let codec = LengthCodec::new();
    let mut wire = 100_000u32.to_be_bytes().to_vec();
    wire.extend_from_slice(&[1u8; 2000]);
    let config = FramedIoConfig::new().recv_initial(256).recv_cap(1024);
    let mut framed = FramedIo::with_config(Script::new(wire, vec![], vec![]), codec, config).unwrap();
    assert_eq!(framed.recv(), Err(FramedIoError::RecvBufferFull { cap: 1024 }));
    assert_eq!(framed.read_buffer().len(), 1024);
}

#[test]
fn skips_are_dropped_and_counted() {
    let c = codec("lines,max=8,discard");
    let wire = b"short\nthis line is far too long\nok\n".to_vec();
    let mut framed = FramedIo::new(Script::new(wire, vec![Step::Give(1); 64], vec![]), c);
    assert_eq!(framed.recv().unwrap().as_deref(), Some(&b"short"[..]));
    assert_eq!(framed.recv().unwrap().as_deref(), Some(&b"ok"[..]));
    assert_eq!(framed.recv(), Ok(None));
    assert_eq!(framed.skipped().regions, 1);
    assert_eq!(framed.skipped().bytes, 26);
    // Memory stayed bounded by the codec's maximum plus one read.
    assert!(framed.recv_cap() >= framed.codec().max_wire_len());
}

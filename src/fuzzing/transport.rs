//! A scripted I/O double and the `transport_script` harness: the fuzz input
//! is the I/O schedule (reads of chosen sizes, short writes, `WouldBlock`,
//! `Interrupted`, `Ok(0)`), and the invariants are "frames received ==
//! frames sent, in order" and "bytes written == concatenated encodings".

use std::io::{self, IoSlice, Read, Write};
use std::vec::Vec;

use bytes::BytesMut;

use super::Input;
use crate::codec::any::Codec;
use crate::codec::Encoder;
use crate::error::{TimeoutKind, TransportError};
use crate::transport::{Framed, FramedConfig, Recv};

/// One scripted result of a `read` or `write` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Transfer at most this many bytes (at least 1).
    Ok(usize),
    /// `Err(WouldBlock)`.
    WouldBlock,
    /// `Err(Interrupted)`.
    Interrupted,
    /// `Ok(0)` (for a write; a read only returns `Ok(0)` at the end of input).
    Zero,
    /// `Err(kind)`.
    Fail(io::ErrorKind),
}

/// More calls than any scripted test makes (its largest inputs take a few
/// hundred thousand calls).
const MAX_CALLS: usize = 2_000_000;

/// A `Read + Write` double that follows a script, cycling through it.
///
/// Reads serve `input`, then `Ok(0)` (EOF) once it is exhausted; writes append
/// to `written`. An empty script transfers everything at once. A read with
/// an empty buffer panics (BAD_INPUTS T1).
#[derive(Debug, Default)]
pub struct ScriptedIo {
    pub input: Vec<u8>,
    pub input_pos: usize,
    pub reads: Vec<Step>,
    pub writes: Vec<Step>,
    pub written: Vec<u8>,
    pub read_calls: usize,
    pub write_calls: usize,
    /// Once input is exhausted, report this error instead of EOF.
    pub end_with: Option<io::ErrorKind>,
}

impl ScriptedIo {
    pub fn new(input: Vec<u8>, reads: Vec<Step>, writes: Vec<Step>) -> Self {
        ScriptedIo { input, reads, writes, ..ScriptedIo::default() }
    }

    fn next(script: &[Step], calls: &mut usize) -> Step {
        // A caller that retries forever (e.g. treats `WouldBlock` as
        // `Interrupted`) fails here at once instead of hanging the test.
        assert!(*calls < MAX_CALLS, "{MAX_CALLS} I/O calls: the caller is not making progress");
        let step = script.get(*calls % script.len().max(1)).copied().unwrap_or(Step::Ok(usize::MAX));
        *calls += 1;
        step
    }

    fn step_err(step: Step) -> Option<io::Result<usize>> {
        match step {
            Step::Ok(_) => None,
            Step::WouldBlock => Some(Err(io::ErrorKind::WouldBlock.into())),
            Step::Interrupted => Some(Err(io::ErrorKind::Interrupted.into())),
            Step::Zero => Some(Ok(0)),
            Step::Fail(kind) => Some(Err(kind.into())),
        }
    }
}

impl Read for ScriptedIo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        assert!(!buf.is_empty(), "BAD_INPUTS T1: read called with an empty buffer");
        let step = Self::next(&self.reads, &mut self.read_calls);
        let left = self.input.len() - self.input_pos;
        match step {
            Step::Ok(_) | Step::Zero if left == 0 => match self.end_with {
                Some(kind) => Err(kind.into()),
                None => Ok(0),
            },
            Step::Ok(_) | Step::Zero => {
                // A read's Ok(0) means EOF, so a scripted Zero before the end
                // of input transfers one byte instead.
                let n = if let Step::Ok(n) = step { n.max(1) } else { 1 };
                let n = n.min(left).min(buf.len());
                buf[..n].copy_from_slice(&self.input[self.input_pos..self.input_pos + n]);
                self.input_pos += n;
                Ok(n)
            }
            other => Self::step_err(other).unwrap_or(Ok(0)),
        }
    }
}

impl Write for ScriptedIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let step = Self::next(&self.writes, &mut self.write_calls);
        let Step::Ok(n) = step else { return Self::step_err(step).unwrap_or(Ok(0)) };
        let mut left = n.max(1);
        let mut done = 0;
        for b in bufs {
            let take = left.min(b.len());
            self.written.extend_from_slice(&b[..take]);
            left -= take;
            done += take;
            if left == 0 {
                break;
            }
        }
        Ok(done)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A whole scripted exchange over one [`Framed`].
#[derive(Debug, Clone)]
pub struct ScriptCase {
    /// The framing, for both directions.
    pub codec: Codec,
    /// Frames to send; the peer sends the same frames to us. Payloads the
    /// codec rejects are left out (with the output checked untouched).
    pub payloads: Vec<Vec<u8>>,
    pub reads: Vec<Step>,
    pub writes: Vec<Step>,
    /// Receive with blocking `recv` (else `try_recv`).
    pub blocking_recv: bool,
    /// Bit i % 64: send payload i with blocking `send` (else `queue`).
    pub blocking_send_mask: u64,
    pub recv_initial: usize,
    pub send_cap: usize,
    pub write_batch: usize,
    pub vectored_min: usize,
}

fn transient(e: &TransportError) -> bool {
    matches!(
        e,
        TransportError::Timeout { kind: TimeoutKind::Read | TimeoutKind::Write, .. }
            | TransportError::WriteZero { .. }
            | TransportError::Full { .. }
    )
}

/// Runs `case` and checks: frames received == frames the peer sent, in
/// order (for a framing without boundaries, the same bytes), then a clean
/// end; bytes written == the concatenated encodings; the queue never exceeds
/// `max(send_cap, largest frame)` when filled by `queue` (BAD_INPUTS E2, E3,
/// E4, E5, E6).
pub fn run_script(case: &ScriptCase) {
    let mut encoder = case.codec.clone();
    let mut wire = BytesMut::new();
    let mut largest = 0;
    let mut payloads = Vec::new();
    for p in &case.payloads {
        let before = wire.clone();
        match encoder.encode(p, &mut wire) {
            Ok(()) => payloads.push(p.clone()),
            Err(_) => assert_eq!(wire, before, "a failed encode changed the output"),
        }
        largest = largest.max(wire.len() - before.len());
    }
    let payloads = &payloads;
    let mut reads = case.reads.clone();
    if !reads.iter().any(|s| matches!(s, Step::Ok(_))) {
        reads.push(Step::Ok(1));
    }
    let mut writes = case.writes.clone();
    if !writes.iter().any(|s| matches!(s, Step::Ok(_))) {
        writes.push(Step::Ok(1));
    }
    let steps = reads.len().max(writes.len());
    let io = ScriptedIo::new(wire.to_vec(), reads, writes);
    let send_cap = case.send_cap.max(1);
    // The receive buffer cap comes from the codec (its largest frame + one read).
    let config = FramedConfig::new()
        .recv_initial(case.recv_initial.max(1))
        .send_cap(send_cap)
        .write_batch(case.write_batch.clamp(1, send_cap))
        .vectored_min(case.vectored_min);
    let mut framed = match Framed::with_config(io, case.codec.clone(), config) {
        Ok(f) => f,
        Err(e) => panic!("harness config rejected: {e}"),
    };
    // Every call either makes progress or hits a non-Ok step, and at most
    // `steps` steps in a row are non-Ok: this bounds the loops.
    let budget = (2 * wire.len() + payloads.len() + 8).saturating_mul(steps + 1).saturating_mul(4);
    let mut spent = 0usize;
    let mut tick = |what: &str| {
        spent += 1;
        assert!(spent <= budget, "no progress in {what} after {budget} calls");
    };

    let mut received: Vec<Vec<u8>> = Vec::new();
    let mut ended = false;
    let recv_once = |framed: &mut Framed<ScriptedIo, Codec>, received: &mut Vec<Vec<u8>>| {
        let got = if case.blocking_recv {
            framed.recv_with(|p| p.to_vec()).map(|r| r.map_or(Recv::End, Recv::Frame))
        } else {
            framed.try_recv_with(|p| p.to_vec())
        };
        match got {
            Ok(Recv::Frame(f)) => {
                received.push(f);
                false
            }
            Ok(Recv::End) => true,
            Ok(Recv::WouldBlock) => false,
            Err(e) if transient(&e) => false,
            Err(e) => panic!("unexpected receive error: {e}"),
        }
    };

    for (i, p) in payloads.iter().enumerate() {
        if case.blocking_send_mask & (1 << (i % 64)) != 0 {
            loop {
                tick("send");
                match framed.send(p) {
                    Ok(()) => break,
                    // Not queued: make room, then send again.
                    Err(TransportError::Full { .. }) => match framed.flush() {
                        Ok(()) => {}
                        Err(e) if transient(&e) => {}
                        Err(e) => panic!("unexpected flush error: {e}"),
                    },
                    // The frame is queued; a later flush finishes it.
                    Err(e) if transient(&e) => break,
                    Err(e) => panic!("unexpected send error: {e}"),
                }
                assert!(framed.pending_send_bytes() <= send_cap.max(largest), "send queue over its cap");
            }
            assert!(framed.pending_send_bytes() <= send_cap.max(largest), "send queue over its cap");
        } else {
            loop {
                tick("queue");
                match framed.queue(p) {
                    Ok(()) => break,
                    Err(TransportError::Full { .. }) => match framed.try_flush() {
                        Ok(_) => {}
                        Err(e) if transient(&e) => {}
                        Err(e) => panic!("unexpected flush error: {e}"),
                    },
                    Err(e) => panic!("unexpected queue error: {e}"),
                }
                // BAD_INPUTS E6: the queue stays bounded.
                assert!(framed.pending_send_bytes() <= send_cap.max(largest));
            }
            assert!(framed.pending_send_bytes() <= send_cap.max(largest), "send queue over its cap");
        }
        if !ended {
            tick("recv");
            ended = recv_once(&mut framed, &mut received);
        }
    }
    while !ended {
        tick("recv");
        ended = recv_once(&mut framed, &mut received);
    }
    loop {
        tick("flush");
        let done = if case.blocking_recv { framed.flush().map(|()| true) } else { framed.try_flush() };
        match done {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) if transient(&e) => {}
            Err(e) => panic!("unexpected flush error: {e}"),
        }
    }
    if case.codec.preserves_boundaries() {
        assert_eq!(&received, payloads, "frames received differ from frames sent");
    } else {
        assert_eq!(received.concat(), payloads.concat(), "bytes received differ from bytes sent");
    }
    assert_eq!(framed.skipped().bytes, 0, "nothing to skip in a valid stream");
    assert_eq!(framed.pending_send_bytes(), 0);
    assert!(framed.get_ref().written == wire[..], "bytes written differ from the concatenated encodings");
}

fn step(input: &mut Input<'_>) -> Step {
    match input.byte() {
        0..=9 => Step::WouldBlock,
        10..=14 => Step::Interrupted,
        15..=17 => Step::Zero,
        b @ 18..=199 => Step::Ok(usize::from(b % 8) + 1),
        b => Step::Ok(usize::from(b - 199) * 97),
    }
}

/// `transport_script`: the fuzz input is the codec (one of every framing's
/// example specs), the configuration, the I/O schedule and the payloads;
/// see [`run_script`] for the invariants.
pub fn transport_script(data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.byte();
    let examples: Vec<&str> = Codec::examples().collect();
    // The committed corpus predates the choice of codec: byte 0 keeps it on
    // the default length prefix.
    let codec = match usize::from(flags >> 1) {
        0 => Codec::default(),
        n => examples.get(n % examples.len()).and_then(|s| s.parse().ok()).unwrap_or_default(),
    };
    let n_reads = usize::from(input.byte() % 8);
    let reads = (0..n_reads).map(|_| step(&mut input)).collect();
    let n_writes = usize::from(input.byte() % 8);
    let writes = (0..n_writes).map(|_| step(&mut input)).collect();
    let blocking_send_mask = u64::from(input.u16()) * 0x0001_0001_0001_0001;
    let recv_initial = usize::from(input.byte()) + 1;
    let send_cap = usize::from(input.u16() % 4096) + 1;
    let write_batch = usize::from(input.u16() % 4096) + 1;
    let vectored_min = usize::from(input.u16() % 2048);
    let mut payloads = Vec::new();
    while !input.is_empty() && payloads.len() < 32 {
        let len = usize::from(input.u16() % 3000);
        payloads.push(input.bytes(len).to_vec());
    }
    let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    let payloads = super::fit_payloads(&mut codec.clone(), &refs);
    run_script(&ScriptCase {
        codec,
        payloads,
        reads,
        writes,
        blocking_recv: flags & 1 != 0,
        blocking_send_mask,
        recv_initial,
        send_cap,
        write_batch,
        vectored_min,
    });
}

//! `Framed` over a scripted I/O double: short reads and writes, `WouldBlock`,
//! `Interrupted`, `Ok(0)` and errors, by hand and by proptest.

use std::io;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use proptest::prelude::*;
use sockframe::fuzzing::{run_script, ScriptCase, ScriptedIo, Step};
use sockframe::{
    Codec, DecodeError, Encoder, Framed, FramedConfig, LengthCodec, Recv, TimeoutKind, TransportError,
};

fn wire(payloads: &[&[u8]]) -> Vec<u8> {
    let mut out = BytesMut::new();
    let mut codec = LengthCodec::new();
    for p in payloads {
        codec.encode(p, &mut out).unwrap();
    }
    out.to_vec()
}

fn framed(io: ScriptedIo, config: FramedConfig) -> Framed<ScriptedIo, LengthCodec> {
    Framed::with_config(io, LengthCodec::new(), config).unwrap()
}

fn writer(writes: Vec<Step>) -> Framed<ScriptedIo, LengthCodec> {
    framed(ScriptedIo::new(Vec::new(), Vec::new(), writes), FramedConfig::new())
}

fn reader(input: Vec<u8>, reads: Vec<Step>) -> Framed<ScriptedIo, LengthCodec> {
    framed(ScriptedIo::new(input, reads, Vec::new()), FramedConfig::new())
}

#[test]
fn e2_one_byte_writes_put_exactly_the_encodings_on_the_wire() {
    // BAD_INPUTS E2
    let mut f = writer(vec![Step::Ok(1)]);
    f.send(b"Hello from client").unwrap();
    f.send(&[7u8; 10_000]).unwrap(); // the vectored path, one byte at a time
    f.send(b"").unwrap();
    f.flush().unwrap();
    assert_eq!(f.get_ref().written, wire(&[b"Hello from client", &[7u8; 10_000], b""]));
}

#[test]
fn e3_would_block_mid_frame_resumes_at_the_exact_offset() {
    // BAD_INPUTS E3: queue path, non-blocking.
    let mut f = writer(vec![Step::Ok(3), Step::WouldBlock]);
    f.queue(b"Hello from client").unwrap();
    assert!(!f.try_flush().unwrap());
    assert_eq!(f.get_ref().written, b"\x00\x00\x00");
    assert_eq!(f.pending_send_bytes(), 21 - 3);
    assert!(f.wants_write());
    while !f.try_flush().unwrap() {}
    assert_eq!(f.get_ref().written, wire(&[b"Hello from client"]));
    assert!(!f.wants_write());
}

#[test]
fn e3_a_vectored_write_stopped_after_the_queue_keeps_exactly_the_rest() {
    // BAD_INPUTS E3, the other side of the queue/frame border: the write
    // stops inside the header (12 = 9 queued + 3) or the payload (50), with
    // WouldBlock (a write timeout) or another error (kept, reported as Io).
    for (first, stop, timeout) in [
        (12, Step::WouldBlock, true),
        (50, Step::WouldBlock, true),
        (12, Step::Fail(io::ErrorKind::PermissionDenied), false),
        (9, Step::Fail(io::ErrorKind::PermissionDenied), false),
    ] {
        let mut f = writer(vec![Step::Ok(first), stop, Step::Ok(usize::MAX)]);
        f.send(b"small").unwrap();
        let big = vec![0xcdu8; 20_000];
        let err = f.send(&big).unwrap_err();
        match err {
            TransportError::Timeout { kind: TimeoutKind::Write, .. } => assert!(timeout, "{first}: {err}"),
            TransportError::Io(ref e) => {
                assert!(!timeout && e.kind() == io::ErrorKind::PermissionDenied, "{err}")
            }
            ref other => panic!("{first}: {other:?}"),
        }
        assert_eq!(f.pending_send_bytes(), 9 + 4 + 20_000 - first, "{first}");
        f.flush().unwrap();
        assert_eq!(f.get_ref().written, wire(&[b"small", &big]), "{first}");
    }
}

#[test]
fn e3_would_block_inside_a_vectored_frame_keeps_the_rest_queued() {
    // BAD_INPUTS E3: the zero-copy vectored path stops after the header and
    // 1 payload byte; the unsent rest is queued, nothing is duplicated.
    let mut f = writer(vec![Step::Ok(5), Step::WouldBlock]);
    f.send(b"small").unwrap(); // coalesced in the queue (9 bytes)
    let big = vec![0xabu8; 20_000];
    match f.send(&big) {
        Err(TransportError::Timeout { kind: TimeoutKind::Write, buffered }) => {
            assert_eq!(buffered, 9 + 4 + 20_000 - 5);
        }
        other => panic!("expected a write timeout, got {other:?}"),
    }
    assert_eq!(f.pending_send_bytes(), 9 + 4 + 20_000 - 5);
    loop {
        match f.flush() {
            Ok(()) => break,
            Err(TransportError::Timeout { kind: TimeoutKind::Write, .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(f.get_ref().written, wire(&[b"small", &big]));
}

#[test]
fn e4_write_returning_zero_is_write_zero_and_keeps_the_bytes() {
    // BAD_INPUTS E4
    let mut f = writer(vec![Step::Ok(2), Step::Zero]);
    f.queue(b"abc").unwrap();
    match f.flush() {
        Err(TransportError::WriteZero { unsent }) => assert_eq!(unsent, 5),
        other => panic!("expected WriteZero, got {other:?}"),
    }
    // Vectored path too.
    let mut g = writer(vec![Step::Zero]);
    assert!(matches!(g.send(&[1u8; 9000]), Err(TransportError::WriteZero { unsent: 9004 })));
    // A retry after the writer recovers sends everything exactly once.
    f.get_mut().writes = vec![Step::Ok(100)];
    f.flush().unwrap();
    assert_eq!(f.get_ref().written, wire(&[b"abc"]));
}

#[test]
fn e5_interrupted_is_retried_on_read_and_write() {
    // BAD_INPUTS E5
    let input = wire(&[b"one", b"two"]);
    let io =
        ScriptedIo::new(input, vec![Step::Interrupted, Step::Ok(3)], vec![Step::Interrupted, Step::Ok(4)]);
    let mut f = framed(io, FramedConfig::new());
    f.send(b"reply").unwrap();
    f.send(&[9u8; 8192]).unwrap(); // vectored
    f.flush().unwrap();
    assert_eq!(f.recv().unwrap().as_deref(), Some(&b"one"[..]));
    assert_eq!(f.recv().unwrap().as_deref(), Some(&b"two"[..]));
    assert_eq!(f.recv().unwrap(), None);
    assert_eq!(f.get_ref().written, wire(&[b"reply", &[9u8; 8192]]));
}

#[test]
fn e6_queue_reports_full_at_the_cap_and_memory_stays_bounded() {
    // BAD_INPUTS E6: the peer never reads (every write would block).
    let config = FramedConfig::new().send_cap(1000).write_batch(1000);
    let mut f = framed(ScriptedIo::new(Vec::new(), Vec::new(), vec![Step::WouldBlock]), config);
    let mut queued = 0;
    let full = loop {
        match f.queue(&[0u8; 96]) {
            Ok(()) => queued += 1,
            Err(e) => break e,
        }
        assert!(queued < 100, "no backpressure");
        assert!(!f.try_flush().unwrap());
    };
    assert!(matches!(full, TransportError::Full { queued: 1000, cap: 1000 }), "{full:?}");
    assert_eq!(queued, 10);
    assert!(f.pending_send_bytes() <= 1000);
    // Blocking send on a stalled peer is a write timeout, not growth.
    let mut g = framed(ScriptedIo::new(Vec::new(), Vec::new(), vec![Step::WouldBlock]), config);
    let err = (0..100).find_map(|_| g.send(&[0u8; 96]).err()).unwrap();
    assert!(matches!(err, TransportError::Timeout { kind: TimeoutKind::Write, .. }), "{err:?}");
    assert!(g.pending_send_bytes() <= 1000);
}

#[test]
fn e7_broken_pipe_reports_unsent_bytes_on_both_write_paths() {
    // BAD_INPUTS E7 (the scripted half; tests/loopback.rs uses real sockets).
    let mut f = writer(vec![Step::Ok(6), Step::Fail(io::ErrorKind::BrokenPipe)]);
    f.queue(b"0123456789").unwrap();
    match f.flush() {
        Err(TransportError::SendFailed { unsent, source }) => {
            assert_eq!(unsent, 14 - 6);
            assert_eq!(source.kind(), io::ErrorKind::BrokenPipe);
        }
        other => panic!("{other:?}"),
    }
    let mut g = writer(vec![Step::Ok(100), Step::Fail(io::ErrorKind::ConnectionReset)]);
    match g.send(&[1u8; 10_000]) {
        Err(TransportError::SendFailed { unsent, .. }) => assert_eq!(unsent, 10_004 - 100),
        other => panic!("{other:?}"),
    }
    assert_eq!(g.pending_send_bytes(), 0);
}

#[test]
fn l8_eof_inside_a_header_or_payload_is_truncated_and_at_a_boundary_is_clean() {
    // BAD_INPUTS L8
    let mut f = reader(b"\x00\x00".to_vec(), vec![Step::Ok(1)]);
    assert!(matches!(f.recv(), Err(TransportError::Decode(DecodeError::Truncated { pending: 2 }))));
    let mut input = wire(&[b"whole"]);
    input.extend_from_slice(b"\x00\x00\x00\x09part");
    let mut f = reader(input, vec![Step::Ok(3)]);
    assert_eq!(f.recv().unwrap().as_deref(), Some(&b"whole"[..]));
    assert!(matches!(f.recv(), Err(TransportError::Decode(DecodeError::Truncated { pending: 8 }))));
    let mut f = reader(wire(&[b"whole"]), vec![Step::Ok(2)]);
    assert!(matches!(f.try_recv().unwrap(), Recv::Frame(_)));
    assert_eq!(f.try_recv().unwrap(), Recv::End);
}

#[test]
fn t1_a_full_receive_buffer_never_reads_into_an_empty_slice() {
    // BAD_INPUTS T1: ScriptedIo panics on an empty read buffer.
    let config = FramedConfig::new().recv_initial(16).recv_cap(64).write_batch(64);
    let mut f = framed(ScriptedIo::new(wire(&[&[5u8; 100]]), vec![Step::Ok(7)], Vec::new()), config);
    assert!(matches!(f.recv(), Err(TransportError::RecvBufferFull { cap: 64 })));
    assert_eq!(f.read_buffer().len(), 64);
    assert!(matches!(f.try_recv(), Err(TransportError::RecvBufferFull { cap: 64 })));
}

#[test]
fn t2_reset_mid_frame_reports_the_discarded_bytes() {
    // BAD_INPUTS T2
    let mut input = wire(&[b"complete"]);
    input.extend_from_slice(b"\x00\x00\x01\x00abc");
    let mut io = ScriptedIo::new(input, vec![Step::Ok(5)], Vec::new());
    io.end_with = Some(io::ErrorKind::ConnectionReset);
    let mut f = framed(io, FramedConfig::new());
    assert_eq!(f.recv().unwrap().as_deref(), Some(&b"complete"[..]));
    match f.recv() {
        Err(TransportError::ResetMidFrame { discarded, source }) => {
            assert_eq!(discarded, 7);
            assert_eq!(source.kind(), io::ErrorKind::ConnectionReset);
        }
        other => panic!("{other:?}"),
    }
    // At a frame boundary a reset is a plain I/O error.
    let mut io = ScriptedIo::new(wire(&[b"x"]), Vec::new(), Vec::new());
    io.end_with = Some(io::ErrorKind::ConnectionReset);
    let mut f = framed(io, FramedConfig::new());
    assert!(f.recv().unwrap().is_some());
    assert!(matches!(f.recv(), Err(TransportError::Io(e)) if e.kind() == io::ErrorKind::ConnectionReset));
}

#[test]
fn t3_after_the_peer_half_closes_frames_are_delivered_and_replies_go_out() {
    // BAD_INPUTS T3: all input, then EOF, arrives in one read.
    let mut f = reader(wire(&[b"a", b"bb", b"ccc"]), Vec::new());
    let mut got = Vec::new();
    while let Some(frame) = f.recv().unwrap() {
        got.push(frame);
        f.send(b"ack").unwrap();
    }
    assert!(f.is_read_closed());
    assert_eq!(got, [&b"a"[..], b"bb", b"ccc"]);
    f.send(b"bye").unwrap();
    f.flush().unwrap();
    assert_eq!(f.get_ref().written, wire(&[b"ack", b"ack", b"ack", b"bye"]));
}

#[test]
fn t5_a_read_timeout_surfaces_as_a_timeout_and_keeps_buffered_bytes() {
    // BAD_INPUTS T5: set_read_timeout expiring is WouldBlock on Unix.
    let mut f = reader(wire(&[b"Hello from server"]), vec![Step::Ok(6), Step::WouldBlock]);
    match f.recv() {
        Err(TransportError::Timeout { kind: TimeoutKind::Read, buffered }) => assert_eq!(buffered, 6),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.read_buffer(), b"\x00\x00\x00\x11He");
    loop {
        match f.recv() {
            Ok(frame) => break assert_eq!(frame.as_deref(), Some(&b"Hello from server"[..])),
            Err(TransportError::Timeout { kind: TimeoutKind::Read, .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn t6_a_frame_goes_out_in_one_write_never_header_then_payload() {
    // BAD_INPUTS T6: one write (small frames, coalesced) or one vectored
    // write (large payloads) per flush, so Nagle never holds a payload back
    // behind its own header.
    let mut f = writer(Vec::new());
    f.send(b"Hello from client").unwrap();
    f.flush().unwrap();
    assert_eq!(f.get_ref().write_calls, 1);
    f.send(&[1u8; 100_000]).unwrap();
    assert_eq!(f.get_ref().write_calls, 2);
    f.queue(b"a").unwrap();
    f.queue(b"b").unwrap();
    assert!(f.try_flush().unwrap());
    assert_eq!(f.get_ref().write_calls, 3);
    assert_eq!(f.get_ref().written, wire(&[b"Hello from client", &[1u8; 100_000], b"a", b"b"]));
}

#[test]
fn t7_receive_buffer_shrinks_back_after_a_huge_frame() {
    // BAD_INPUTS T7: after one huge frame, small traffic worth a couple of
    // buffers gives the memory back (amortised: never a reallocation per frame).
    let big = vec![1u8; 1 << 20];
    let small = vec![2u8; 1000];
    let mut frames: Vec<&[u8]> = vec![&big];
    frames.extend(std::iter::repeat(&small[..]).take(6000));
    let config = FramedConfig::new().recv_initial(4096);
    let mut f = framed(ScriptedIo::new(wire(&frames), vec![Step::Ok(70_000)], Vec::new()), config);
    assert_eq!(f.recv_with(<[u8]>::len).unwrap(), Some(1 << 20));
    let grown = f.recv_capacity();
    assert!(grown >= 1 << 20, "capacity {grown} held the huge frame");
    let mut shrunk_after = None;
    for i in 0..6000 {
        assert_eq!(f.recv_with(|p| p == small).unwrap(), Some(true));
        if shrunk_after.is_none() && f.recv_capacity() <= 64 * 1024 {
            shrunk_after = Some(i * 1004);
        }
    }
    let after = shrunk_after.expect("the buffer shrinks back");
    // Within three buffers' worth of small traffic.
    assert!(after <= 3 * grown, "shrank only after {after} bytes (capacity {grown})");
    assert!(f.recv_capacity() <= 64 * 1024, "capacity {}", f.recv_capacity());
    assert_eq!(f.recv().unwrap(), None);
}

#[test]
fn a_stream_of_large_frames_keeps_its_receive_buffer() {
    // The other side of T7: a buffer the traffic fills is not freed and
    // regrown for every frame (shrinking per frame cost 2x on 64 KiB frames).
    let big = vec![3u8; 512 * 1024];
    let frames: Vec<&[u8]> = std::iter::repeat(&big[..]).take(12).collect();
    let config = FramedConfig::new().recv_initial(4096);
    let mut f = framed(ScriptedIo::new(wire(&frames), vec![Step::Ok(65_536)], Vec::new()), config);
    for i in 0..12 {
        assert_eq!(f.recv_with(<[u8]>::len).unwrap(), Some(big.len()));
        if i > 0 {
            assert!(f.recv_capacity() >= big.len(), "frame {i}: capacity {}", f.recv_capacity());
        }
    }
    assert_eq!(f.recv().unwrap(), None);
}

#[test]
fn owned_frames_split_off_without_growing_the_buffer() {
    // `recv` splits each payload off the receive buffer (no copy). Frames
    // dropped as they come let the buffer reuse its memory: it stays near
    // its initial size over a long stream of small frames, and a huge frame
    // is let go once small traffic follows (T7): the buffer is reviewed once
    // per buffer's worth of traffic (here about 1 MiB), so after at most two
    // reviews, about 2 MiB of small frames.
    let small: Vec<Vec<u8>> = (0..20_000u32).map(|i| i.to_le_bytes().repeat(8)).collect();
    let big = vec![7u8; 1 << 20];
    let mut frames: Vec<&[u8]> = small.iter().map(|v| &v[..]).collect();
    frames.push(&big);
    for _ in 0..4 {
        frames.extend(small.iter().map(|v| &v[..]));
    }
    let config = FramedConfig::new().recv_initial(4096);
    let mut f =
        framed(ScriptedIo::new(wire(&frames), vec![Step::Ok(3000), Step::Ok(70_000)], Vec::new()), config);
    let mut peak = 0;
    for (i, expect) in frames.iter().enumerate() {
        let got = f.recv().unwrap().unwrap();
        assert_eq!(&got[..], *expect, "frame {i}");
        if i < small.len() {
            peak = peak.max(f.recv_capacity());
        }
    }
    assert!(peak <= 16 * 1024, "capacity reached {peak} on small frames");
    assert!(f.recv_capacity() <= 64 * 1024, "capacity {} after the small frames", f.recv_capacity());
    assert_eq!(f.recv().unwrap(), None);
}

#[test]
fn owned_frames_kept_by_the_caller_stay_intact() {
    // The buffer reuses memory only when no frame holds it: frames kept
    // while the stream goes on must not be overwritten.
    let payloads: Vec<Vec<u8>> = (0..5000u32).map(|i| i.to_be_bytes().repeat(1 + i as usize % 40)).collect();
    let refs: Vec<&[u8]> = payloads.iter().map(|v| &v[..]).collect();
    let config = FramedConfig::new().recv_initial(4096);
    let mut f =
        framed(ScriptedIo::new(wire(&refs), vec![Step::Ok(1000), Step::Ok(5000)], Vec::new()), config);
    let mut kept = Vec::new();
    while let Some(frame) = f.recv().unwrap() {
        kept.push(frame);
    }
    assert_eq!(kept, payloads);
}

#[test]
fn idle_timeout_fires_at_a_frame_boundary_and_frame_deadline_inside_a_frame() {
    // On the caller's clock: deterministic, no sleeping.
    let config =
        FramedConfig::new().idle_timeout(Duration::from_secs(300)).frame_deadline(Duration::from_secs(30));
    let mut f = framed(ScriptedIo::new(Vec::new(), vec![Step::WouldBlock], Vec::new()), config);
    let t0 = Instant::now();
    assert_eq!(f.try_recv_with_at(t0, <[u8]>::to_vec).unwrap(), Recv::WouldBlock);
    // X10: silence at a frame boundary is judged by the idle timeout.
    let idle_at = f.next_deadline().unwrap();
    assert!(idle_at > t0 + Duration::from_secs(299) && idle_at <= t0 + Duration::from_secs(301));
    assert!(f.check_deadlines_at(idle_at - Duration::from_millis(1)).is_ok());
    assert!(matches!(
        f.check_deadlines_at(idle_at),
        Err(TransportError::Timeout { kind: TimeoutKind::Idle, buffered: 0 })
    ));
    assert!(matches!(
        f.try_recv_with_at(idle_at, <[u8]>::to_vec),
        Err(TransportError::Timeout { kind: TimeoutKind::Idle, buffered: 0 })
    ));

    // BAD_INPUTS T4 (scripted): part of a frame, then silence past the deadline.
    let mut f = framed(
        ScriptedIo::new(
            b"\x00\x00\x00\x05abc".to_vec(),
            vec![Step::Ok(6), Step::WouldBlock, Step::WouldBlock],
            Vec::new(),
        ),
        config,
    );
    assert_eq!(f.try_recv_with_at(t0, <[u8]>::to_vec).unwrap(), Recv::WouldBlock);
    // A partial frame is judged by the frame deadline, from its first byte.
    assert_eq!(f.next_deadline(), Some(t0 + Duration::from_secs(30)));
    assert!(f.check_deadlines_at(t0 + Duration::from_secs(29)).is_ok());
    let late = t0 + Duration::from_secs(30);
    assert!(matches!(
        f.check_deadlines_at(late),
        Err(TransportError::Timeout { kind: TimeoutKind::FrameDeadline, buffered: 6 })
    ));
    assert!(matches!(
        f.try_recv_with_at(late, <[u8]>::to_vec),
        Err(TransportError::Timeout { kind: TimeoutKind::FrameDeadline, buffered: 6 })
    ));
}

#[test]
fn a_frame_completed_in_time_restarts_the_clocks() {
    // A frame that completes before its deadline clears the frame clock; the
    // next deadline is the idle timeout counted from the last byte.
    let config =
        FramedConfig::new().idle_timeout(Duration::from_secs(300)).frame_deadline(Duration::from_secs(30));
    let mut f = framed(
        ScriptedIo::new(b"\x00\x00\x00\x02hi".to_vec(), vec![Step::Ok(3), Step::WouldBlock], Vec::new()),
        config,
    );
    let t0 = Instant::now();
    assert_eq!(f.try_recv_with_at(t0, <[u8]>::to_vec).unwrap(), Recv::WouldBlock);
    assert_eq!(f.next_deadline(), Some(t0 + Duration::from_secs(30)));
    let t1 = t0 + Duration::from_secs(20);
    assert_eq!(f.try_recv_with_at(t1, <[u8]>::to_vec).unwrap(), Recv::Frame(b"hi".to_vec()));
    assert_eq!(f.next_deadline(), Some(t1 + Duration::from_secs(300)));
    assert!(f.check_deadlines_at(t0 + Duration::from_secs(31)).is_ok(), "no frame deadline once complete");
}

/// A writer whose `flush` returns a chosen error; writes succeed.
struct FlushFails(io::ErrorKind, Vec<u8>);

impl io::Write for FlushFails {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.1.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Err(self.0.into())
    }
}

impl io::Read for FlushFails {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

#[test]
fn try_flush_treats_only_would_block_and_interrupted_flushes_as_not_ready() {
    for (kind, not_ready) in [
        (io::ErrorKind::WouldBlock, true),
        (io::ErrorKind::Interrupted, true),
        (io::ErrorKind::PermissionDenied, false),
    ] {
        let mut f = Framed::new(FlushFails(kind, Vec::new()), LengthCodec::new());
        f.queue(b"x").unwrap();
        match f.try_flush() {
            Ok(false) => assert!(not_ready, "{kind:?} is an error, not 'not ready'"),
            Err(TransportError::Io(e)) => assert!(!not_ready && e.kind() == kind, "{kind:?}: {e}"),
            other => panic!("{kind:?}: {other:?}"),
        }
        // The queued bytes went out either way.
        assert_eq!(f.pending_send_bytes(), 0);
        assert_eq!(f.get_ref().1, b"\x00\x00\x00\x01x");
    }
}

#[test]
fn a_reset_while_writing_the_queue_is_send_failed_with_the_unsent_count() {
    // BAD_INPUTS E7 on the queue path: 3 bytes go out, then the peer is gone.
    for kind in [io::ErrorKind::ConnectionReset, io::ErrorKind::BrokenPipe] {
        let mut f = writer(vec![Step::Ok(3), Step::Fail(kind)]);
        f.queue(b"hello").unwrap();
        match f.try_flush() {
            Err(TransportError::SendFailed { unsent, source }) => {
                assert_eq!((unsent, source.kind()), (6, kind));
            }
            other => panic!("{kind:?}: {other:?}"),
        }
        assert_eq!(f.pending_send_bytes(), 0, "nothing is left to send to a gone peer");
        assert_eq!(f.get_ref().written, b"\x00\x00\x00");
    }
    // Any other error keeps the bytes queued for a retry.
    let mut f = writer(vec![Step::Ok(3), Step::Fail(io::ErrorKind::PermissionDenied), Step::Ok(100)]);
    f.queue(b"hello").unwrap();
    assert!(matches!(f.try_flush(), Err(TransportError::Io(_))));
    assert_eq!(f.pending_send_bytes(), 6);
    assert!(f.try_flush().unwrap());
    assert_eq!(f.get_ref().written, wire(&[b"hello"]));
}

#[test]
fn config_rejects_nonsense() {
    assert!(FramedConfig::new().recv_cap(0).build().is_err());
    assert!(FramedConfig::new().send_cap(0).build().is_err());
    assert!(FramedConfig::new().idle_timeout(Duration::ZERO).build().is_err());
    // Documented clamps, not errors.
    let c = FramedConfig::new().send_cap(10).write_batch(11).build().unwrap();
    assert_eq!(c.get_send_cap(), 10);
    let f = Framed::with_config(
        Vec::<u8>::new(),
        LengthCodec::new(),
        FramedConfig::new().recv_initial(10).recv_cap(5),
    );
    assert!(f.is_ok());
    assert!(FramedConfig::new().frame_deadline(Duration::ZERO).build().is_err());
    assert!(FramedConfig::default().build().is_ok());
}

#[test]
fn hand_picked_scripts_hold_the_invariants() {
    // BAD_INPUTS E2, E3, E4, E5 together.
    for blocking_recv in [false, true] {
        run_script(&ScriptCase {
            codec: Codec::default(),
            payloads: vec![b"Hello from client".to_vec(), vec![3; 5000], Vec::new(), vec![4; 70]],
            reads: vec![Step::Ok(1), Step::WouldBlock, Step::Interrupted, Step::Ok(300)],
            writes: vec![Step::Ok(2), Step::Zero, Step::WouldBlock, Step::Interrupted, Step::Ok(1000)],
            blocking_recv,
            blocking_send_mask: 0b1010,
            recv_initial: 8,
            send_cap: 64,
            write_batch: 32,
            vectored_min: 1024,
        });
    }
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (1usize..64).prop_map(Step::Ok),
        1 => (64usize..20_000).prop_map(Step::Ok),
        2 => Just(Step::WouldBlock),
        1 => Just(Step::Interrupted),
        1 => Just(Step::Zero),
    ]
}

fn case() -> impl Strategy<Value = ScriptCase> {
    let specs: Vec<&'static str> = Codec::examples().collect();
    (
        prop::sample::select(specs),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..3000), 0..24),
        prop::collection::vec(step(), 0..6),
        prop::collection::vec(step(), 0..6),
        any::<bool>(),
        any::<u64>(),
        1usize..5000,
        1usize..5000,
        1usize..5000,
        0usize..4000,
    )
        .prop_map(
            |(
                spec,
                payloads,
                reads,
                writes,
                blocking_recv,
                mask,
                recv_initial,
                send_cap,
                write_batch,
                vectored_min,
            )| {
                let codec: Codec = spec.parse().expect("example specs parse");
                let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
                let payloads = sockframe::fuzzing::fit_payloads(&mut codec.clone(), &refs);
                ScriptCase {
                    codec,
                    payloads,
                    reads,
                    writes,
                    blocking_recv,
                    blocking_send_mask: mask,
                    recv_initial,
                    send_cap,
                    write_batch,
                    vectored_min,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Over arbitrary I/O schedules and every framing: frames received ==
    /// frames sent, in order, none lost or duplicated; bytes written == the
    /// concatenated encodings.
    #[test]
    fn arbitrary_schedules_lose_and_duplicate_nothing(case in case()) {
        run_script(&case);
    }
}

/// Reports more bytes than it was given, on both sides (BAD_INPUTS X7).
struct Liar {
    input: Vec<u8>,
    written: usize,
}

impl io::Read for Liar {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input.drain(..n);
        Ok(if n == 0 { 0 } else { buf.len() + 1000 })
    }
}

impl io::Write for Liar {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written += buf.len();
        Ok(buf.len() + 1000)
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        self.written += total;
        Ok(total + 1000)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn x7_counts_beyond_the_buffer_are_never_trusted() {
    // BAD_INPUTS X7: a Read/Write claiming more bytes than it was given
    // neither corrupts the buffers nor loses what is queued.
    let mut f = Framed::new(Liar { input: wire(&[b"one", b"two"]), written: 0 }, LengthCodec::new());
    assert_eq!(f.recv().unwrap().as_deref(), Some(&b"one"[..]));
    assert_eq!(f.recv().unwrap().as_deref(), Some(&b"two"[..]));
    f.send(b"x").unwrap();
    f.send(&[7; 20_000]).unwrap(); // the vectored path
    f.flush().unwrap();
    assert_eq!(f.pending_send_bytes(), 0);
    assert_eq!(f.get_ref().written, 5 + 20_004);
}

#[test]
fn config_reports_what_is_in_force() {
    let c = FramedConfig::new().build().unwrap();
    assert_eq!((c.get_send_cap(), c.get_write_batch(), c.get_recv_cap()), (1 << 20, 64 * 1024, None));
    // write_batch is clamped to send_cap; an explicit receive cap is kept.
    let c = FramedConfig::new().send_cap(1000).write_batch(5000).recv_cap(777).build().unwrap();
    assert_eq!((c.get_send_cap(), c.get_write_batch(), c.get_recv_cap()), (1000, 1000, Some(777)));
    // Without one, the transport derives its receive cap from the codec.
    let f =
        Framed::new(ScriptedIo::default(), LengthCodec::builder().max_frame_length(1000).build().unwrap());
    assert_eq!(f.recv_cap(), 1004 + 64 * 1024);
    let f = Framed::with_config(ScriptedIo::default(), LengthCodec::new(), c).unwrap();
    assert_eq!(f.recv_cap(), 777);
}

#[test]
fn no_deadline_after_the_peer_closed() {
    // The stream ended inside a frame: Truncated, and no clock runs any
    // more (neither the idle timeout nor the frame deadline).
    let mut f = reader(b"\x00\x00\x00\x05ab".to_vec(), vec![Step::Ok(100)]);
    let t0 = Instant::now();
    assert!(matches!(
        f.try_recv_with_at(t0, <[u8]>::to_vec),
        Err(TransportError::Decode(DecodeError::Truncated { pending: 6 }))
    ));
    assert!(f.is_read_closed());
    assert_eq!(f.read_buffer().len(), 6);
    assert_eq!(f.next_deadline(), None);
    assert!(f.check_deadlines_at(t0 + Duration::from_secs(100_000)).is_ok());
    // A clean end: nothing buffered, and still no idle clock.
    let mut f = reader(wire(&[b"hi"]), vec![Step::Ok(100)]);
    assert_eq!(f.try_recv_with_at(t0, <[u8]>::to_vec).unwrap(), Recv::Frame(b"hi".to_vec()));
    assert_eq!(f.try_recv_with_at(t0, <[u8]>::to_vec).unwrap(), Recv::End);
    assert_eq!(f.next_deadline(), None);
    assert!(f.check_deadlines_at(t0 + Duration::from_secs(100_000)).is_ok());
}

#[test]
fn try_recv_reply_queues_answers_without_writing() {
    // The non-blocking recipe: replies queued from inside the receive, all
    // written by one try_flush.
    let input = wire(&[b"a", b"bc", b"def"]);
    let mut f = framed(
        ScriptedIo::new(input, vec![Step::Ok(100), Step::WouldBlock], Vec::new()),
        FramedConfig::new(),
    );
    let mut seen = Vec::new();
    loop {
        let got = f.try_recv_reply(|payload, replies| {
            let before = replies.pending_send_bytes();
            replies.queue(payload).unwrap();
            (payload.to_vec(), before, replies.pending_send_bytes())
        });
        match got.unwrap() {
            Recv::Frame(x) => seen.push(x),
            Recv::WouldBlock => break,
            Recv::End => panic!("not closed"),
        }
    }
    let lens: Vec<(usize, usize)> = seen.iter().map(|(_, b, a)| (*b, *a)).collect();
    assert_eq!(lens, [(0, 5), (5, 11), (11, 18)]);
    assert_eq!(f.get_ref().write_calls, 0, "nothing written while receiving");
    assert!(f.try_flush().unwrap());
    assert_eq!(f.get_ref().written, wire(&[b"a", b"bc", b"def"]));
    assert_eq!(f.get_ref().write_calls, 1);
    // At the send cap the answer is refused and kept by the caller.
    let config = FramedConfig::new().send_cap(8).write_batch(8);
    let mut f = framed(ScriptedIo::new(wire(&[b"12345", b"6"]), vec![Step::Ok(100)], Vec::new()), config);
    let first = f.try_recv_reply(|p, r| r.queue(p)).unwrap();
    assert!(matches!(first, Recv::Frame(Ok(()))));
    let second = f.try_recv_reply(|p, r| r.queue(p)).unwrap();
    assert!(matches!(second, Recv::Frame(Err(TransportError::Full { queued: 9, cap: 8 }))));
}

#[test]
fn framed_write_close_write_ends_the_stream_after_the_last_frame() {
    // BAD_INPUTS T3 through the write half: the peer sees every frame, then
    // a clean end, and can still answer on the read half.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (mut rx, mut tx) = Framed::new(client, LengthCodec::new()).try_split().unwrap();
    tx.send(b"last").unwrap();
    tx.close_write().unwrap();
    let mut peer = Framed::new(server, LengthCodec::new());
    assert_eq!(peer.recv().unwrap().as_deref(), Some(&b"last"[..]));
    assert_eq!(peer.recv().unwrap(), None);
    peer.send(b"reply").unwrap();
    peer.close_write().unwrap();
    assert_eq!(rx.recv().unwrap().as_deref(), Some(&b"reply"[..]));
    assert_eq!(rx.recv().unwrap(), None);
}

#[test]
fn replies_send_writes_a_large_echo_through_and_queues_exactly_the_rest() {
    // A 100 KiB frame arrives; its echo goes out straight from the receive
    // buffer. The socket takes 30,000 bytes, then would block: exactly the
    // unsent rest is queued, and flushing it completes the frame.
    let payload: Vec<u8> = (0..100 * 1024u32).map(|i| (i % 251) as u8).collect();
    let input = wire(&[&payload]);
    let mut io =
        ScriptedIo::new(input.clone(), vec![Step::Ok(usize::MAX)], vec![Step::Ok(30_000), Step::WouldBlock]);
    io.end_with = Some(io::ErrorKind::WouldBlock);
    let mut f = framed(io, FramedConfig::new());
    match f.try_recv_reply(|p, replies| replies.send(p)).unwrap() {
        Recv::Frame(sent) => sent.unwrap(),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.get_ref().written.len(), 30_000);
    assert_eq!(f.pending_send_bytes(), input.len() - 30_000);
    f.get_mut().writes = vec![Step::Ok(usize::MAX)];
    assert!(f.try_flush().unwrap());
    assert!(f.get_ref().written == input, "the echo differs from the frame");
    // A small reply is only queued (one write per readiness event).
    let mut io = ScriptedIo::new(wire(&[b"hi"]), vec![Step::Ok(usize::MAX)], vec![Step::Ok(usize::MAX)]);
    io.end_with = Some(io::ErrorKind::WouldBlock);
    let mut f = framed(io, FramedConfig::new());
    assert!(matches!(f.try_recv_reply(|p, r| r.send(p)).unwrap(), Recv::Frame(Ok(()))));
    assert_eq!((f.get_ref().write_calls, f.pending_send_bytes()), (0, 6));
}

#[test]
fn a_large_frame_grows_the_receive_buffer_once_to_fit_not_by_doubling() {
    // A 4 MiB frame read 64 KiB at a time: the buffer ends near the frame's
    // size (the length prefix says how long it is), not at 8 MiB.
    let payload = vec![3u8; 4 << 20];
    let input = wire(&[&payload, b"next"]);
    let mut f = framed(ScriptedIo::new(input, vec![Step::Ok(64 * 1024)], Vec::new()), FramedConfig::new());
    // Borrowed, so that the buffer keeps its size after the frame.
    assert_eq!(f.recv_with(|p| p.len()).unwrap(), Some(4 << 20));
    let cap = f.recv_capacity();
    assert!(
        ((4 << 20) + 4..=(4 << 20) + 256 * 1024).contains(&cap),
        "receive buffer {cap} for a 4 MiB frame"
    );
    assert_eq!(f.recv().unwrap().as_deref(), Some(&b"next"[..]));
}

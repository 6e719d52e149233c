//! The write side's fast path: `Encoder::encode_to_slice` writes exactly what
//! `encode` appends, and a `SendQueue` that keeps spare memory for it holds
//! exactly the frames a plain byte vector would, under any mix of pushes,
//! partial writes, direct appends and clears (BAD_INPUTS E6, X28).

mod common;

use bytes::BytesMut;
use proptest::prelude::*;
use sockframe::buffer::{PushError, SendQueue};
use sockframe::{Codec, EncodeError, Encoder, FramedWrite, SliceEncode};

/// Every example spec, plus CRC trailers (which append, and must say so).
fn specs() -> Vec<String> {
    let mut specs: Vec<String> = Codec::examples().map(str::to_owned).collect();
    specs.extend(["len,crc=crc32c", "varint,crc=crc16-x25"].map(str::to_owned));
    specs
}

fn codec(spec: &str) -> Codec {
    spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"))
}

/// The framings that send the payload verbatim between a header and a
/// trailer: these must take the fast path, not fall back to appending.
fn writes_slices(c: &Codec) -> bool {
    matches!(
        c,
        Codec::Length(_)
            | Codec::Varint(_)
            | Codec::Delimited(_)
            | Codec::Netstring(_)
            | Codec::Raw(_)
            | Codec::Fixed(_)
            | Codec::Sync(_)
    )
}

/// What `encode` appends to an empty buffer.
fn appended(c: &Codec, payload: &[u8]) -> Result<Vec<u8>, EncodeError> {
    let mut out = BytesMut::new();
    c.clone().encode(payload, &mut out)?;
    Ok(out.to_vec())
}

#[test]
fn small_payloads_of_every_length_are_copied_whole() {
    // The inline copy of up to 64 bytes takes two overlapping moves; every
    // length on either side of each move's width must come out whole.
    let mut codec = sockframe::LengthCodec::new();
    for n in 0..=80usize {
        let payload: Vec<u8> = (1..=n as u8).collect();
        let mut dst = vec![0xEE; n + 8];
        assert_eq!(codec.encode_to_slice(&payload, &mut dst), Ok(SliceEncode::Written(n + 4)));
        assert_eq!(&dst[4..n + 4], &payload[..], "length {n}");
        assert!(dst[n + 4..].iter().all(|&b| b == 0xEE), "length {n}: wrote past the frame");
        let raw = &mut sockframe::RawCodec::new();
        let mut dst = vec![0xEE; n];
        assert_eq!(raw.encode_to_slice(&payload, &mut dst), Ok(SliceEncode::Written(n)));
        assert_eq!(dst, payload, "raw, length {n}");
    }
}

#[test]
fn a_queue_reuses_its_memory_once_written_out() {
    let mut codec = sockframe::LengthCodec::new();
    let mut q = SendQueue::new(1 << 20);
    for _ in 0..3 {
        for i in 0..1000u32 {
            q.push(&mut codec, &i.to_be_bytes()).unwrap();
        }
        assert_eq!(q.len(), 8000);
        assert_eq!(&q.pending()[..8], b"\x00\x00\x00\x04\x00\x00\x00\x00");
        let n = q.len();
        q.advance(n);
        assert!(q.is_empty());
    }
    let capacity = q.capacity();
    for _ in 0..10 {
        for i in 0..1000u32 {
            q.push(&mut codec, &i.to_be_bytes()).unwrap();
        }
        let n = q.len();
        q.advance(n);
    }
    assert_eq!(q.capacity(), capacity, "the queue grew although it was written out each time");
}

#[test]
fn a_frame_refused_at_the_cap_takes_no_memory() {
    // BAD_INPUTS E6: a queue over its cap refuses the frame before it
    // makes room for it.
    let mut codec = sockframe::LengthCodec::new();
    let mut q = SendQueue::new(256);
    q.push(&mut codec, b"first").unwrap();
    let capacity = q.capacity();
    let big = vec![7u8; 60_000];
    assert_eq!(q.push(&mut codec, &big), Err(PushError::Full { queued: 9, cap: 256 }));
    assert_eq!(q.capacity(), capacity);
    assert_eq!(q.pending(), b"\x00\x00\x00\x05first");
    // Once written out, the queue takes it (an empty queue takes any frame).
    q.advance(9);
    q.push(&mut codec, &big).unwrap();
    assert_eq!(q.len(), 60_004);
    assert_eq!(&q.pending()[..4], &60_000u32.to_be_bytes());
}

/// A framing that tells which way a queue asked for each frame: `S` before
/// the payload when it wrote into the queue's spare memory, `A` when it
/// appended. (A real framing writes the same bytes both ways.) With `lie`,
/// it claims to have written more than the slice it was given.
struct Spy {
    lie: bool,
}

impl Encoder for Spy {
    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.extend_from_slice(b"A");
        dst.extend_from_slice(payload);
        Ok(())
    }

    fn encode_to_slice(&mut self, payload: &[u8], dst: &mut [u8]) -> Result<SliceEncode, EncodeError> {
        let n = 1 + payload.len();
        let Some(out) = dst.get_mut(..n) else {
            return Ok(SliceEncode::Needs(n));
        };
        out[0] = b'S';
        out[1..].copy_from_slice(payload);
        Ok(SliceEncode::Written(if self.lie { dst.len() + 1 } else { n }))
    }
}

#[test]
fn small_frames_go_into_spare_memory_and_large_ones_are_appended() {
    let mut spy = Spy { lie: false };
    let mut q = SendQueue::new(1 << 20);
    q.push(&mut spy, b"one").unwrap(); // the first frame makes the spare memory
    q.push(&mut spy, b"two").unwrap();
    assert_eq!(q.pending(), b"Sone\x53two");
    q.advance(2);
    q.push(&mut spy, b"3").unwrap(); // after a partial write
    assert_eq!(q.pending(), b"ne\x53two\x533");
    q.advance(100);
    // Larger than 64 KiB: appended, never zeroed first.
    let big = vec![b'x'; 70_000];
    q.push(&mut spy, &big).unwrap();
    assert_eq!(q.len(), 70_001);
    assert_eq!(q.pending()[0], b'A');
    q.push(&mut spy, b"4").unwrap();
    assert_eq!(&q.pending()[70_001..], b"S4");
    // Past the first allocation (4 KiB) and every later one: still written
    // into spare memory.
    let mut q = SendQueue::new(1 << 20);
    for _ in 0..5_000 {
        q.push(&mut spy, b"abc").unwrap();
    }
    assert_eq!(q.len(), 20_000);
    assert!(q.pending().chunks(4).all(|f| f == b"Sabc"));
}

#[test]
fn framed_send_writes_small_frames_into_spare_memory_too() {
    // `FramedWrite::send` queues through the same path (without the cap:
    // it writes the queue out to make room), with a write batch to fill.
    let mut w = FramedWrite::new(Vec::new(), Spy { lie: false });
    for p in [&b"one"[..], b"two", &[b'x'; 70_000]] {
        w.send(p).unwrap();
    }
    w.send(b"3").unwrap();
    w.flush().unwrap();
    let out = w.into_inner();
    assert_eq!(&out[..8], b"Sone\x53two");
    assert_eq!(out[8], b'A');
    assert_eq!(&out[8 + 70_001..], b"S3");
    let mut w = FramedWrite::new(Vec::new(), Spy { lie: false });
    w.send(b"one").unwrap();
    w.codec_mut().lie = true;
    w.send(b"two").unwrap();
    w.flush().unwrap();
    assert_eq!(w.into_inner(), b"Sone\x41two");
}

#[test]
fn an_encoder_that_overstates_what_it_wrote_is_appended_instead() {
    // With spare memory to spare (after an honest frame) and without.
    let mut spy = Spy { lie: false };
    let mut q = SendQueue::new(1 << 20);
    q.push(&mut spy, b"one").unwrap();
    spy.lie = true;
    q.push(&mut spy, b"two").unwrap();
    q.push(&mut spy, b"3").unwrap();
    assert_eq!(q.pending(), b"Sone\x41two\x413");
    let mut q = SendQueue::new(1 << 20);
    q.push(&mut spy, b"one").unwrap();
    assert_eq!(q.pending(), b"Aone");
}

#[test]
fn a_queue_written_out_a_little_at_a_time_stays_within_its_memory() {
    // A slow peer: every write takes most of what is queued, never all, so
    // the queue never empties; it must take back the written front instead
    // of growing (BAD_INPUTS E6: memory stays bounded).
    let mut codec = sockframe::LengthCodec::new();
    let mut q = SendQueue::new(1 << 20);
    let mut model = std::collections::VecDeque::new();
    for i in 0..20_000u32 {
        let payload = [i as u8; 60];
        q.push(&mut codec, &payload).unwrap();
        model.extend(60u32.to_be_bytes());
        model.extend(payload);
        let n = q.len() - q.len() / 8;
        q.advance(n);
        model.drain(..n);
        assert_eq!(q.pending(), model.make_contiguous(), "after frame {i}");
    }
    assert!(q.capacity() <= 8192, "the queue grew to {} bytes", q.capacity());
}

#[derive(Debug, Clone)]
enum Op {
    Push { codec: usize, payload: Vec<u8> },
    Advance(usize),
    Append(Vec<u8>),
    Clear,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        6 => (0usize..4, prop::collection::vec(any::<u8>(), 0..80))
            .prop_map(|(codec, payload)| Op::Push { codec, payload }),
        3 => (0usize..120).prop_map(Op::Advance),
        1 => prop::collection::vec(any::<u8>(), 0..20).prop_map(Op::Append),
        1 => Just(Op::Clear),
    ];
    prop::collection::vec(op, 0..60)
}

proptest! {
    #![proptest_config(common::config())]

    #[test]
    fn encode_to_slice_writes_what_encode_appends(
        spec in prop::sample::select(specs()),
        payload in prop::collection::vec(any::<u8>(), 0..300),
        room in 0usize..320,
        fill in any::<u8>(),
    ) {
        let c = codec(&spec);
        let mut dst = vec![fill; room];
        let got = c.clone().encode_to_slice(&payload, &mut dst);
        match appended(&c, &payload) {
            Err(e) => {
                // Framings that append report their errors from `encode`.
                prop_assert!(got == Err(e) || (got == Ok(SliceEncode::Unsupported) && !writes_slices(&c)), "{got:?}");
                prop_assert!(dst.iter().all(|&b| b == fill), "an error wrote into the slice");
            }
            Ok(frame) => match got {
                Ok(SliceEncode::Written(n)) => {
                    prop_assert_eq!(n, frame.len());
                    prop_assert_eq!(&dst[..n], &frame[..]);
                    prop_assert!(dst[n..].iter().all(|&b| b == fill), "wrote past the frame");
                }
                Ok(SliceEncode::Needs(n)) => {
                    prop_assert_eq!(n, frame.len());
                    prop_assert!(n > room);
                    prop_assert!(dst.iter().all(|&b| b == fill), "Needs wrote into the slice");
                }
                Ok(SliceEncode::Unsupported) => {
                    prop_assert!(!writes_slices(&c), "{spec} appends although it sends payloads verbatim");
                    prop_assert!(dst.iter().all(|&b| b == fill));
                }
                Err(e) => prop_assert!(false, "encode_to_slice failed ({e}) where encode did not"),
            },
        }
    }

    /// BAD_INPUTS E6 (the cap) and X28 (nothing lost or repeated on the
    /// write side): the queue against a plain vector of pending bytes.
    #[test]
    fn a_send_queue_holds_what_a_byte_vector_would(
        cap in 0usize..200,
        initial in prop::option::of(0usize..64),
        ops in ops(),
    ) {
        // A framing of each kind: two that write slices (one with a small
        // max, so that encoding fails), one that appends (COBS) and a
        // CRC trailer (appends, over a framing that writes slices).
        let mut codecs: Vec<Codec> =
            ["len", "varint,max=40", "cobs", "len:u16le,crc=crc16-xmodem"].iter().map(|s| codec(s)).collect();
        let mut q = match initial {
            Some(n) => SendQueue::with_capacity(cap, n),
            None => SendQueue::new(cap),
        };
        let mut model: Vec<u8> = Vec::new();
        for op in ops {
            match op {
                Op::Push { codec, payload } => {
                    let c = &mut codecs[codec];
                    let got = q.push(c, &payload);
                    match appended(c, &payload) {
                        Err(e) => prop_assert_eq!(got, Err(PushError::Encode(e))),
                        Ok(frame) if model.is_empty() || model.len() + frame.len() <= cap => {
                            prop_assert_eq!(got, Ok(()));
                            model.extend_from_slice(&frame);
                        }
                        Ok(_) => prop_assert_eq!(got, Err(PushError::Full { queued: model.len(), cap })),
                    }
                }
                Op::Advance(n) => {
                    q.advance(n);
                    model.drain(..n.min(model.len()));
                }
                Op::Append(bytes) => {
                    q.buffer_mut().extend_from_slice(&bytes);
                    model.extend_from_slice(&bytes);
                }
                Op::Clear => {
                    q.clear();
                    model.clear();
                }
            }
            prop_assert_eq!(q.pending(), &model[..]);
            prop_assert_eq!(q.len(), model.len());
            prop_assert_eq!(q.is_empty(), model.is_empty());
            prop_assert_eq!(q.has_room(7), model.is_empty() || model.len() + 7 <= cap);
        }
    }
}

//! `sockframe::futures_io::AsyncFramed` over real loopback TCP sockets
//! (tokio's, through `tokio_util::compat`, as a smol or async-std user's
//! socket would be): every framing in the registry, many frames both ways,
//! in order and intact; a peer that closes inside a frame gives `Truncated`.
//! Every test runs under a timeout and stops by itself.
#![cfg(feature = "futures-io")]

use std::time::Duration;

use bytes::BytesMut;
use futures_util::StreamExt;
use sockframe::futures_io::AsyncFramed;
use sockframe::fuzzing::fit_payloads;
use sockframe::{Codec, DecodeError, Encoder, FramedConfig, TransportError};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

const LIMIT: Duration = Duration::from_secs(120);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
}

fn codec(spec: &str) -> Codec {
    spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"))
}

/// A deterministic xorshift generator: no extra dependency, same run every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `count` payloads this codec accepts, of many sizes up to its maximum
/// (a few large ones where the framing allows, so that writes go short and
/// the socket pushes back), mostly letters so that delimiter framings take
/// them too.
fn payloads(c: &Codec, count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed | 1);
    let max = c.max_frame_length();
    let mut raw: Vec<Vec<u8>> = Vec::new();
    for i in 0..count {
        let len = match i % 50 {
            49 if max >= 1 << 20 => 200_000 + rng.below(200_000),
            _ => rng.below(max.min(3000) + 1),
        };
        let text = rng.below(4) != 0;
        raw.push(
            (0..len).map(|_| if text { b'a' + rng.below(26) as u8 } else { rng.next() as u8 }).collect(),
        );
    }
    let refs: Vec<&[u8]> = raw.iter().map(Vec::as_slice).collect();
    let mut enc = c.clone();
    fit_payloads(&mut c.clone(), &refs)
        .into_iter()
        .filter(|p| enc.encode(p, &mut BytesMut::new()).is_ok())
        .collect()
}

/// What arrived equals what was sent: frame by frame, or byte by byte for a
/// framing without boundaries.
fn assert_same(c: &Codec, spec: &str, got: &[Vec<u8>], sent: &[Vec<u8>]) {
    if c.preserves_boundaries() {
        assert_eq!(got.len(), sent.len(), "{spec}: frame count");
        for (i, (g, s)) in got.iter().zip(sent).enumerate() {
            assert!(g == s, "{spec}: frame {i} differs ({} vs {} bytes)", g.len(), s.len());
        }
    } else {
        assert!(got.concat() == sent.concat(), "{spec}: bytes differ");
    }
}

/// An echo server for one connection: every frame goes back as it came.
async fn echo(listener: TcpListener, c: Codec) -> Result<u64, TransportError> {
    let (stream, _) = listener.accept().await?;
    let mut framed = AsyncFramed::new(stream.compat(), c);
    let mut echoed = 0;
    while let Some(frame) = framed.recv().await? {
        framed.send(&frame).await?;
        echoed += 1;
    }
    framed.close().await?;
    Ok(echoed)
}

#[test]
fn every_framing_crosses_a_loopback_socket_both_ways() {
    let specs: Vec<&'static str> = Codec::examples().collect();
    runtime().block_on(async {
        tokio::time::timeout(LIMIT, async {
            for (n, spec) in specs.iter().enumerate() {
                let c = codec(spec);
                let sent = payloads(&c, 300, 0x5eed + n as u64);
                assert!(sent.len() >= 50, "{spec}: only {} payloads fit", sent.len());
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let addr = listener.local_addr().expect("addr");
                let server = tokio::spawn(echo(listener, c.clone()));

                let (rd, wr) = TcpStream::connect(addr).await.expect("connect").into_split();
                let mut rx = AsyncFramed::new(rd.compat(), c.clone());
                let mut tx = AsyncFramed::new(wr.compat_write(), c.clone());
                // Send from a task of its own, so that both directions flow at once.
                let to_send = sent.clone();
                let writer = tokio::spawn(async move {
                    for (i, p) in to_send.iter().enumerate() {
                        if i % 3 == 0 {
                            tx.queue(p)?;
                            tx.flush().await?;
                        } else {
                            tx.send(p).await?;
                        }
                    }
                    tx.close().await // FIN: the server ends cleanly after the last frame
                });
                let mut got = Vec::new();
                // (A framing without boundaries may deliver a frame per read.)
                let bound = sent.iter().map(|p| p.len() + 1).sum::<usize>() + 10;
                for _ in 0..bound {
                    match rx.recv().await {
                        Ok(Some(frame)) => got.push(frame.to_vec()),
                        Ok(None) => break,
                        Err(e) => panic!("{spec}: client recv: {e}"),
                    }
                }
                assert!(rx.is_read_closed(), "{spec}: no clean end");
                writer.await.expect("writer task").unwrap_or_else(|e| panic!("{spec}: send: {e}"));
                let echoed =
                    server.await.expect("server task").unwrap_or_else(|e| panic!("{spec}: server: {e}"));
                assert_same(&c, spec, &got, &sent);
                if c.preserves_boundaries() {
                    assert_eq!(echoed, sent.len() as u64, "{spec}");
                }
            }
        })
        .await
        .expect("the test took too long");
    });
}

#[test]
fn recv_with_and_the_stream_see_the_same_frames() {
    runtime().block_on(async {
        tokio::time::timeout(LIMIT, async {
            let c = codec("varint");
            let sent = payloads(&c, 200, 7);
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            let to_send = sent.clone();
            let server = tokio::spawn(async move {
                let (stream, _) = listener.accept().await?;
                let mut tx = AsyncFramed::new(stream.compat(), codec("varint"));
                for (i, p) in to_send.iter().enumerate() {
                    if i % 2 == 0 {
                        tx.send(p).await?;
                    } else {
                        tx.queue(p)?;
                        tx.flush().await?;
                    }
                }
                tx.close().await
            });
            let stream = TcpStream::connect(addr).await.expect("connect");
            let mut rx = AsyncFramed::new(stream.compat(), c.clone());
            let mut got = Vec::new();
            // Half through recv_with (borrowed payloads), the rest as a Stream.
            for _ in 0..sent.len() / 2 {
                let frame = rx.recv_with(|p| p.to_vec()).await.expect("recv_with");
                got.push(frame.expect("a frame"));
            }
            let rest: Vec<_> = (&mut rx).take(sent.len() + 1).collect().await;
            for frame in rest {
                got.push(frame.expect("a frame").to_vec());
            }
            assert_same(&c, "varint", &got, &sent);
            server.await.expect("server task").expect("server");
        })
        .await
        .expect("the test took too long");
    });
}

#[test]
fn a_peer_closing_inside_a_frame_gives_truncated() {
    runtime().block_on(async {
        tokio::time::timeout(LIMIT, async {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            let peer = tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await?;
                // One whole frame, then 7 bytes of a 9-byte one, then FIN.
                stream.write_all(b"\x00\x00\x00\x02hi").await?;
                stream.write_all(b"\x00\x00\x00\x05hel").await?;
                stream.shutdown().await
            });
            let (stream, _) = listener.accept().await.expect("accept");
            let mut framed = AsyncFramed::new(stream.compat(), codec("len"));
            assert_eq!(framed.recv().await.expect("first frame").as_deref(), Some(&b"hi"[..]));
            match framed.recv().await {
                Err(TransportError::Decode(DecodeError::Truncated { pending: 7 })) => {}
                other => panic!("expected Truncated, got {other:?}"),
            }
            assert!(framed.is_read_closed());
            peer.await.expect("peer task").expect("peer");
        })
        .await
        .expect("the test took too long");
    });
}

#[test]
fn a_frame_above_the_receive_cap_is_reported() {
    runtime().block_on(async {
        tokio::time::timeout(LIMIT, async {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            let peer = tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await?;
                stream.write_all(&100_000u32.to_be_bytes()).await?;
                stream.write_all(&[1u8; 5000]).await?;
                stream.shutdown().await
            });
            let (stream, _) = listener.accept().await.expect("accept");
            let config = FramedConfig::new().recv_initial(1024).recv_cap(4096);
            let mut framed = AsyncFramed::with_config(stream.compat(), codec("len"), config).expect("config");
            match framed.recv().await {
                Err(TransportError::RecvBufferFull { cap: 4096 }) => {}
                other => panic!("expected RecvBufferFull, got {other:?}"),
            }
            assert!(framed.read_buffer().len() <= 4096);
            peer.await.expect("peer task").expect("peer");
        })
        .await
        .expect("the test took too long");
    });
}

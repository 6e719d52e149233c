//! `Framed` over real loopback TCP and Unix sockets, blocking and
//! non-blocking (mio). Every socket has a timeout and every loop a bound, so
//! a failure is an error, never a hang; all ports are 0.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mio::{Events, Interest, Poll, Token};
use sockframe::{net, Framed, FramedConfig, LengthCodec, Recv, TimeoutKind, TransportError};

const T: Duration = Duration::from_secs(20);
const SIXTEEN_MIB: usize = 16 * 1024 * 1024;

fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = net::tcp_listen("127.0.0.1:0").unwrap();
    let client = net::tcp_connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = net::tcp_accept(&listener).unwrap();
    for s in [&client, &server] {
        net::set_timeouts(s, Some(T), Some(T)).unwrap();
    }
    (client, server)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sf-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn unix_pair(name: &str) -> (UnixStream, UnixStream) {
    let dir = temp_dir(name);
    let path = dir.join("s");
    let listener = net::unix_listen(&path).unwrap();
    let client = net::unix_connect(&path).unwrap();
    let (server, _) = listener.accept().unwrap();
    for s in [&client, &server] {
        s.set_read_timeout(Some(T)).unwrap();
        s.set_write_timeout(Some(T)).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
    (client, server)
}

fn big_codec() -> LengthCodec {
    LengthCodec::builder().max_frame_length(SIXTEEN_MIB).build().unwrap()
}

fn big_config() -> FramedConfig {
    FramedConfig::new().recv_cap(SIXTEEN_MIB + 64 * 1024)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn small_frames(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("frame {i}").into_bytes()).collect()
}

/// A blocking echo server until the peer closes; returns frames echoed.
fn echo<S: Read + Write>(stream: S) -> Result<usize, TransportError> {
    let mut framed = Framed::with_config(stream, big_codec(), big_config()).expect("valid config");
    let mut n = 0;
    while let Some(msg) = framed.recv()? {
        framed.send(&msg)?;
        n += 1;
    }
    framed.flush()?;
    Ok(n)
}

/// Blocking client: one thread sends (then half-closes), this one receives.
fn blocking_roundtrip<S>(stream: &S, frames: &[Vec<u8>]) -> Vec<Bytes>
where
    for<'a> &'a S: Read + Write + net::HalfClose,
    S: Sync,
{
    thread::scope(|s| {
        s.spawn(|| {
            let mut tx = Framed::with_config(stream, big_codec(), big_config()).unwrap();
            for f in frames {
                tx.send(f).unwrap();
            }
            tx.close_write().unwrap();
        });
        let mut rx = Framed::with_config(stream, big_codec(), big_config()).unwrap();
        let mut got = Vec::new();
        while let Some(f) = rx.recv().unwrap() {
            got.push(f);
        }
        got
    })
}

/// Non-blocking client over mio: queues, flushes and receives as readiness
/// allows, never spinning; returns the frames echoed back.
fn nonblocking_roundtrip<S>(stream: S, frames: &[Vec<u8>]) -> Vec<Bytes>
where
    S: Read + Write + mio::event::Source,
{
    let mut poll = Poll::new().unwrap();
    let mut framed = Framed::with_config(stream, big_codec(), big_config()).unwrap();
    poll.registry().register(framed.get_mut(), Token(0), Interest::READABLE | Interest::WRITABLE).unwrap();
    let mut events = Events::with_capacity(8);
    let mut next = 0;
    let mut got = Vec::new();
    let deadline = Instant::now() + T;
    while got.len() < frames.len() {
        let mut progress = false;
        while next < frames.len() {
            match framed.queue(&frames[next]) {
                Ok(()) => {
                    next += 1;
                    progress = true;
                }
                Err(TransportError::Full { .. }) => break,
                Err(e) => panic!("queue: {e}"),
            }
        }
        let before = framed.pending_send_bytes();
        framed.try_flush().unwrap();
        progress |= framed.pending_send_bytes() < before;
        loop {
            match framed.try_recv().unwrap() {
                Recv::Frame(f) => {
                    got.push(f);
                    progress = true;
                }
                Recv::WouldBlock => break,
                Recv::End => panic!("server closed early"),
            }
        }
        if !progress {
            assert!(Instant::now() < deadline, "non-blocking exchange timed out");
            poll.poll(&mut events, Some(Duration::from_secs(5))).unwrap();
            assert!(!events.is_empty(), "no readiness within 5 s");
        }
    }
    got
}

fn check(got: &[Bytes], sent: &[Vec<u8>]) {
    assert_eq!(got.len(), sent.len(), "frame count");
    for (i, (g, s)) in got.iter().zip(sent).enumerate() {
        assert!(g[..] == s[..], "frame {i} differs");
    }
}

#[test]
fn tcp_16_mib_frame_blocking_and_nonblocking() {
    let frames = vec![pattern(SIXTEEN_MIB, 1), b"after".to_vec()];
    let (client, server) = tcp_pair();
    let srv = thread::spawn(move || echo(server));
    check(&blocking_roundtrip(&client, &frames), &frames);
    assert_eq!(srv.join().unwrap().unwrap(), 2);

    let (client, server) = tcp_pair();
    let srv = thread::spawn(move || echo(server));
    client.set_nonblocking(true).unwrap();
    check(&nonblocking_roundtrip(mio::net::TcpStream::from_std(client), &frames), &frames);
    assert_eq!(srv.join().unwrap().unwrap(), 2);
}

#[test]
fn unix_16_mib_frame_blocking_and_nonblocking() {
    let frames = vec![pattern(SIXTEEN_MIB, 2), Vec::new()];
    let (client, server) = unix_pair("big-b");
    let srv = thread::spawn(move || echo(server));
    check(&blocking_roundtrip(&client, &frames), &frames);
    assert_eq!(srv.join().unwrap().unwrap(), 2);

    let (client, server) = unix_pair("big-nb");
    let srv = thread::spawn(move || echo(server));
    client.set_nonblocking(true).unwrap();
    check(&nonblocking_roundtrip(mio::net::UnixStream::from_std(client), &frames), &frames);
    assert_eq!(srv.join().unwrap().unwrap(), 2);
}

#[test]
fn tcp_100_000_small_frames_blocking_and_nonblocking() {
    // BAD_INPUTS L7: many frames per read, all delivered in order.
    let frames = small_frames(100_000);
    let (client, server) = tcp_pair();
    let srv = thread::spawn(move || echo(server));
    check(&blocking_roundtrip(&client, &frames), &frames);
    assert_eq!(srv.join().unwrap().unwrap(), 100_000);

    let (client, server) = tcp_pair();
    let srv = thread::spawn(move || echo(server));
    client.set_nonblocking(true).unwrap();
    let stream = mio::net::TcpStream::from_std(client);
    check(&nonblocking_roundtrip(stream, &frames), &frames);
    assert_eq!(srv.join().unwrap().unwrap(), 100_000);
}

#[test]
fn unix_100_000_small_frames_blocking_and_nonblocking() {
    let frames = small_frames(100_000);
    let (client, server) = unix_pair("many-b");
    let srv = thread::spawn(move || echo(server));
    check(&blocking_roundtrip(&client, &frames), &frames);
    assert_eq!(srv.join().unwrap().unwrap(), 100_000);

    let (client, server) = unix_pair("many-nb");
    let srv = thread::spawn(move || echo(server));
    client.set_nonblocking(true).unwrap();
    check(&nonblocking_roundtrip(mio::net::UnixStream::from_std(client), &frames), &frames);
    assert_eq!(srv.join().unwrap().unwrap(), 100_000);
}

#[test]
fn t3_half_close_delivers_every_frame_and_replies_still_go_out() {
    // BAD_INPUTS T3, over TCP and Unix sockets.
    fn run<S: Read + Write + net::HalfClose + Send + 'static>(client: S, server: S) {
        let srv = thread::spawn(move || {
            let mut f = Framed::new(server, LengthCodec::new());
            let mut got = Vec::new();
            while let Some(m) = f.recv().unwrap() {
                got.push(m);
            }
            // The client half-closed; our replies still reach it.
            for m in &got {
                f.send(m).unwrap();
            }
            f.send(b"done").unwrap();
            f.close_write().unwrap();
            got.len()
        });
        let mut f = Framed::new(client, LengthCodec::new());
        for m in [&b"one"[..], b"two", b"three"] {
            f.send(m).unwrap();
        }
        f.close_write().unwrap();
        let mut replies = Vec::new();
        while let Some(m) = f.recv().unwrap() {
            replies.push(m);
        }
        assert_eq!(replies, [&b"one"[..], b"two", b"three", b"done"]);
        assert_eq!(srv.join().unwrap(), 3);
    }
    let (c, s) = tcp_pair();
    run(c, s);
    let (c, s) = unix_pair("half");
    run(c, s);
}

#[test]
fn t3_half_close_nonblocking_reader_sees_frames_then_end() {
    // BAD_INPUTS T3, non-blocking receiver.
    let (client, server) = tcp_pair();
    let mut raw = Framed::new(client, LengthCodec::new());
    raw.send(b"last words").unwrap();
    raw.close_write().unwrap();
    server.set_nonblocking(true).unwrap();
    let mut f = Framed::new(server, LengthCodec::new());
    let deadline = Instant::now() + T;
    let mut got = Vec::new();
    loop {
        match f.try_recv().unwrap() {
            Recv::Frame(m) => got.push(m),
            Recv::End => break,
            Recv::WouldBlock => {
                assert!(Instant::now() < deadline);
                thread::sleep(Duration::from_millis(2));
            }
        }
    }
    assert_eq!(got, [&b"last words"[..]]);
    f.queue(b"reply").unwrap();
    while !f.try_flush().unwrap() {
        assert!(Instant::now() < deadline);
        thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(raw.recv().unwrap().as_deref(), Some(&b"reply"[..]));
}

#[test]
fn t2_reset_mid_frame_reports_discarded_bytes() {
    // BAD_INPUTS T2. Closing a socket with unread input makes the kernel send
    // RST instead of FIN.
    let (client, server) = tcp_pair();
    let mut server_f = Framed::new(server, LengthCodec::new());
    server_f.send(b"never read by the client").unwrap();
    server_f.flush().unwrap();
    let mut raw = client;
    raw.write_all(b"\x00\x00\x01\x00partial").unwrap();
    server_f.get_ref().set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    // Wait until the partial frame is buffered (a read timeout keeps it).
    let deadline = Instant::now() + T;
    while server_f.read_buffer().len() < 11 {
        assert!(Instant::now() < deadline);
        match server_f.recv() {
            Err(TransportError::Timeout { kind: TimeoutKind::Read, .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    drop(raw); // RST
    server_f.get_ref().set_read_timeout(Some(T)).unwrap();
    match server_f.recv() {
        Err(TransportError::ResetMidFrame { discarded, .. }) => assert_eq!(discarded, 11),
        other => panic!("expected ResetMidFrame, got {other:?}"),
    }
}

#[test]
fn e6_backpressure_while_the_peer_does_not_read() {
    // BAD_INPUTS E6: the peer never reads; non-blocking queue reaches its cap
    // and reports Full, the blocking send reports Full after its write
    // timeout; memory stays bounded either way.
    let cap = 256 * 1024;
    let config = FramedConfig::new().send_cap(cap);
    let (client, _server) = tcp_pair();
    client.set_nonblocking(true).unwrap();
    let mut f = Framed::with_config(client, LengthCodec::new(), config).unwrap();
    let payload = [7u8; 1000];
    let mut full = false;
    for _ in 0..100_000 {
        match f.queue(&payload) {
            Ok(()) => {}
            Err(TransportError::Full { queued, cap: c }) => {
                assert_eq!(c, cap);
                assert!(queued <= cap);
                if !f.try_flush().unwrap() && f.queue(&payload).is_err() {
                    full = true;
                    break;
                }
            }
            Err(e) => panic!("{e}"),
        }
        assert!(f.pending_send_bytes() <= cap);
    }
    assert!(full, "never saw backpressure");

    let (client, _server) = tcp_pair();
    client.set_write_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut f = Framed::with_config(client, LengthCodec::new(), config).unwrap();
    let start = Instant::now();
    let err = (0..100_000).find_map(|_| f.send(&payload).err()).expect("blocking send never pushed back");
    assert!(
        matches!(err, TransportError::Full { .. } | TransportError::Timeout { kind: TimeoutKind::Write, .. }),
        "{err:?}"
    );
    assert!(f.pending_send_bytes() <= cap);
    assert!(start.elapsed() < T);
}

#[test]
fn e7_writes_to_a_reset_peer_fail_cleanly_on_plain_and_vectored_paths() {
    // BAD_INPUTS E7: BrokenPipe/ConnectionReset as SendFailed, the process
    // survives (Rust ignores SIGPIPE; writev carries no MSG_NOSIGNAL).
    for payload_len in [100, 100_000] {
        let (client, server) = tcp_pair();
        let mut peer = server;
        let mut f = Framed::new(client, LengthCodec::new());
        f.send(b"unread").unwrap();
        f.flush().unwrap();
        // The peer closes with our frame unread: RST.
        thread::sleep(Duration::from_millis(20));
        let mut one = [0u8; 1];
        peer.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
        let _ = peer.read(&mut one); // leave most of it unread
        drop(peer);
        thread::sleep(Duration::from_millis(50));
        let payload = vec![1u8; payload_len];
        let mut result = Ok(());
        for _ in 0..50 {
            result = f.send(&payload).and_then(|()| f.flush());
            if result.is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
        match result {
            Err(TransportError::SendFailed { unsent, source }) => {
                assert!(unsent > 0);
                assert!(
                    matches!(
                        source.kind(),
                        std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                    ),
                    "{source:?}"
                );
            }
            other => panic!("payload {payload_len}: expected SendFailed, got {other:?}"),
        }
    }
}

#[test]
fn t4_slowloris_is_cut_off_by_the_frame_deadline_and_others_are_unaffected() {
    // BAD_INPUTS T4: one byte just before each read timeout.
    let listener = net::tcp_listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = FramedConfig::new().frame_deadline(Duration::from_millis(400));
    let server = thread::spawn(move || {
        let mut results = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..2 {
            let (s, _) = net::tcp_accept(&listener).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
            handles.push(thread::spawn(move || {
                let start = Instant::now();
                let mut f = Framed::with_config(s, LengthCodec::new(), config).unwrap();
                let r = loop {
                    match f.recv() {
                        Err(TransportError::Timeout { kind: TimeoutKind::Read, .. }) => continue,
                        other => break other,
                    }
                };
                (r, start.elapsed())
            }));
        }
        for h in handles {
            results.push(h.join().unwrap());
        }
        results
    });
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let slow = thread::spawn(move || {
        let mut s = net::tcp_connect(addr).unwrap();
        s.set_write_timeout(Some(T)).unwrap();
        // Header declaring 1000 bytes, then a byte every 60 ms (< 100 ms).
        let _ = s.write_all(b"\x00\x00\x03\xe8");
        for _ in 0..200 {
            if stop_rx.recv_timeout(Duration::from_millis(60)).is_ok() || s.write_all(b"x").is_err() {
                break;
            }
        }
    });
    thread::sleep(Duration::from_millis(50));
    let mut good = Framed::new(net::tcp_connect(addr).unwrap(), LengthCodec::new());
    good.send(b"prompt").unwrap();
    good.flush().unwrap();
    let results = server.join().unwrap();
    let _ = stop_tx.send(());
    slow.join().unwrap();
    let mut deadline_hits = 0;
    for (r, elapsed) in results {
        match r {
            Ok(Some(m)) => assert_eq!(m, "prompt"),
            Err(TransportError::Timeout { kind: TimeoutKind::FrameDeadline, buffered }) => {
                assert!(buffered > 4);
                assert!(elapsed < Duration::from_secs(5), "deadline fired late: {elapsed:?}");
                deadline_hits += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(deadline_hits, 1);
}

#[test]
fn t4_slowloris_nonblocking() {
    // BAD_INPUTS T4, non-blocking receiver checking its deadline.
    let (client, server) = tcp_pair();
    server.set_nonblocking(true).unwrap();
    let config = FramedConfig::new().frame_deadline(Duration::from_millis(200));
    let mut f = Framed::with_config(server, LengthCodec::new(), config).unwrap();
    let mut raw = client;
    raw.write_all(b"\x00\x00\x00\x10").unwrap();
    let start = Instant::now();
    let err = loop {
        assert!(start.elapsed() < T, "deadline never fired");
        let _ = raw.write_all(b"y");
        match f.try_recv() {
            Ok(Recv::WouldBlock) => thread::sleep(Duration::from_millis(20)),
            Ok(other) => panic!("{other:?}"),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, TransportError::Timeout { kind: TimeoutKind::FrameDeadline, .. }), "{err:?}");
}

#[test]
fn t5_read_timeout_surfaces_as_timeout_with_bytes_kept() {
    // BAD_INPUTS T5: set_read_timeout's WouldBlock on Unix.
    let (client, server) = tcp_pair();
    server.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let mut raw = client;
    raw.write_all(b"\x00\x00\x00\x11Hello ").unwrap();
    let mut f = Framed::new(server, LengthCodec::new());
    let deadline = Instant::now() + T;
    loop {
        match f.recv() {
            Err(TransportError::Timeout { kind: TimeoutKind::Read, buffered: 10 }) => break,
            Err(TransportError::Timeout { kind: TimeoutKind::Read, .. }) => {
                assert!(Instant::now() < deadline)
            }
            other => panic!("{other:?}"),
        }
    }
    raw.write_all(b"from server").unwrap();
    assert_eq!(f.recv().unwrap().as_deref(), Some(&b"Hello from server"[..]));
}

#[test]
fn t7_buffer_shrinks_after_a_huge_frame_over_tcp() {
    // BAD_INPUTS T7: one huge frame, then small traffic worth a few buffers.
    let (client, server) = tcp_pair();
    let mut frames = vec![pattern(4 << 20, 3)];
    frames.extend((0..40_000u32).map(|i| pattern(1000, i as u8)));
    let expect = frames.clone();
    let sender = thread::spawn(move || {
        let mut f = Framed::new(client, LengthCodec::new());
        for m in &frames {
            f.send(m).unwrap();
        }
        f.close_write().unwrap();
        f
    });
    let mut f =
        Framed::with_config(server, LengthCodec::new(), FramedConfig::new().recv_initial(16 * 1024)).unwrap();
    for m in &expect {
        assert_eq!(f.recv().unwrap().as_deref(), Some(&m[..]));
    }
    assert_eq!(f.recv().unwrap(), None);
    assert!(f.recv_capacity() <= 64 * 1024, "capacity {} after small frames", f.recv_capacity());
    drop(sender.join().unwrap());
}

#[test]
fn t8_unix_path_too_long_and_stale_socket_file_are_clear_errors() {
    // BAD_INPUTS T8
    let dir = temp_dir("t8");
    let long = dir.join("x".repeat(net::MAX_UNIX_PATH));
    let err = net::unix_listen(&long).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("over the OS limit"), "{err}");
    let err = net::unix_connect(&long).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);

    let path = dir.join("stale.sock");
    drop(net::unix_listen(&path).unwrap());
    let err = net::unix_listen(&path).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    assert!(err.to_string().contains("stale socket file"), "{err}");

    // A live listener is not stale, and reclaim must not steal it.
    let live = net::unix_listen_reclaim(&path).unwrap();
    let err = net::unix_listen_reclaim(&path).unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");
    drop(live);

    // A regular file is never removed.
    let file = dir.join("file");
    std::fs::write(&file, b"keep me").unwrap();
    assert!(net::unix_listen_reclaim(&file).is_err());
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
    let _ = std::fs::remove_dir_all(&dir);
}

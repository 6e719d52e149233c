//! Drives the real `sockframe relay` between clients and a server: over TCP
//! and Unix sockets, re-framing, a decode error on one side, an unreachable
//! upstream, half-closes in each direction, 1,000 clients at once, and the
//! capture it records. Every network wait is bounded by socket timeouts or a
//! kill deadline; every port is 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use sockframe::{Codec, Framed};

mod common;
use common::*;

const WAIT: Duration = Duration::from_secs(60);

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.set_write_timeout(Some(WAIT)).unwrap();
    s
}

fn framed(addr: &str, codec: &str) -> Framed<TcpStream, Codec> {
    Framed::new(connect(addr), codec.parse().unwrap())
}

/// An echo server (`listen --echo`) and a relay in front of it.
fn echo_behind_relay(listen: &str, relay: &str, relay_args: &[&str], echo_codec: &str) -> (Server, Server) {
    let echo = Server::start(&["listen", listen, "--echo", "--quiet", "--codec", echo_codec]);
    let mut args = vec!["relay", relay, &echo.addr];
    args.extend_from_slice(relay_args);
    let relay = Server::start(&args);
    (echo, relay)
}

#[test]
fn relays_frames_both_ways_over_tcp_and_unix_and_prints_each() {
    let dir = temp_dir("both");
    for unix in [false, true] {
        let (l, r) = if unix {
            (
                format!("unix:{}", dir.join("echo.sock").display()),
                format!("unix:{}", dir.join("relay.sock").display()),
            )
        } else {
            ("127.0.0.1:0".to_owned(), "127.0.0.1:0".to_owned())
        };
        let (_echo, relay) = echo_behind_relay(&l, &r, &["--format", "json"], "len");
        let mut client = if unix {
            let path = r.strip_prefix("unix:").unwrap();
            let s = std::os::unix::net::UnixStream::connect(path).unwrap();
            s.set_read_timeout(Some(WAIT)).unwrap();
            Box::new(s) as Box<dyn ReadWrite>
        } else {
            Box::new(connect(&relay.addr)) as Box<dyn ReadWrite>
        };
        let mut f = Framed::new(&mut client, Codec::default());
        for msg in [&b"hello"[..], b"", b"\x00\xff binary"] {
            f.send(msg).unwrap();
            assert_eq!(f.recv().unwrap().as_deref(), Some(msg), "unix={unix}");
        }
        drop(f);
        drop(client);
        // Six frames printed: three each way, with time, conn, dir, index.
        let start = Instant::now();
        let lines = loop {
            let out = relay.stdout();
            if out.lines().count() >= 6 || start.elapsed() > WAIT {
                break out;
            }
            thread::sleep(Duration::from_millis(20));
        };
        let frames: Vec<serde_json::Value> =
            lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(frames.len(), 6, "{lines}");
        let dirs: Vec<&str> = frames.iter().map(|f| f["dir"].as_str().unwrap()).collect();
        assert_eq!(dirs, ["c2s", "s2c", "c2s", "s2c", "c2s", "s2c"]);
        assert!(frames.iter().all(|f| f["conn"] == 1 && f["t"].as_f64().is_some()));
        assert_eq!(frames[4]["i"], 2);
        assert_eq!(frames[4]["hex"], "00ff2062696e617279");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

#[test]
fn reframes_lines_from_the_client_to_a_length_prefixed_server() {
    let (_echo, relay) = echo_behind_relay(
        "127.0.0.1:0",
        "127.0.0.1:0",
        &["--client-codec", "lines", "--server-codec", "len"],
        "len",
    );
    let mut s = connect(&relay.addr);
    s.write_all(b"first line\nsecond\n").unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut got = String::new();
    for _ in 0..2 {
        reader.read_line(&mut got).unwrap();
    }
    assert_eq!(got, "first line\nsecond\n");
    // The relay printed what it forwarded (text format).
    let start = Instant::now();
    while relay.stdout().lines().count() < 4 && start.elapsed() < WAIT {
        thread::sleep(Duration::from_millis(20));
    }
    let out = relay.stdout();
    assert!(out.contains("#1 c2s 0 10: first line") && out.contains("#1 s2c 1 6: second"), "{out}");
}

#[test]
fn raw_on_both_sides_is_a_plain_proxy() {
    let (_echo, relay) = echo_behind_relay("127.0.0.1:0", "127.0.0.1:0", &["--codec", "raw", "-q"], "raw");
    let mut s = connect(&relay.addr);
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let writer = {
        let mut w = s.try_clone().unwrap();
        let data = data.clone();
        thread::spawn(move || {
            w.write_all(&data).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        })
    };
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    writer.join().unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "bytes changed on the way");
}

#[test]
fn a_decode_error_ends_only_that_pair() {
    // BAD_INPUTS X23
    let (_echo, relay) =
        echo_behind_relay("127.0.0.1:0", "127.0.0.1:0", &["-q", "--codec", "len,max=100"], "len");
    let mut good = framed(&relay.addr, "len");
    good.send(b"before").unwrap();
    assert_eq!(good.recv().unwrap().as_deref(), Some(&b"before"[..]));
    // A client that declares a 4 GiB frame.
    let mut bad = connect(&relay.addr);
    bad.write_all(b"\xff\xff\xff\xff").unwrap();
    let mut rest = Vec::new();
    let _ = bad.read_to_end(&mut rest); // closed by the relay (EOF or reset)
    let log = relay.wait_stderr(|s| s.contains("connection 2"));
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(lines[0].contains("connection 2") && lines[0].contains("exceeds the maximum"), "{log}");
    // The other pair is still served.
    good.send(b"after").unwrap();
    assert_eq!(good.recv().unwrap().as_deref(), Some(&b"after"[..]));
}

#[test]
fn an_unreachable_upstream_closes_the_client_and_says_why() {
    // BAD_INPUTS X24
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let upstream = format!("127.0.0.1:{port}");
    let relay = Server::start(&["relay", "127.0.0.1:0", &upstream, "-q"]);
    let mut s = connect(&relay.addr);
    let _ = s.write_all(b"\x00\x00\x00\x01x");
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(rest.is_empty());
    let log = relay.wait_stderr(|s| s.contains("upstream"));
    assert!(log.contains(&format!("upstream {upstream}")) && log.contains("refused"), "{log}");
    // And a unix path with nothing behind it.
    let dir = temp_dir("unreachable");
    let missing = format!("unix:{}", dir.join("nobody.sock").display());
    let relay = Server::start(&["relay", "127.0.0.1:0", &missing, "-q"]);
    let mut s = connect(&relay.addr);
    let _ = s.read_to_end(&mut rest);
    let log = relay.wait_stderr(|s| s.contains("upstream"));
    assert!(log.contains("nobody.sock"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_client_half_close_reaches_the_server_and_replies_still_come_back() {
    // BAD_INPUTS X22
    let (_echo, relay) = echo_behind_relay("127.0.0.1:0", "127.0.0.1:0", &["-q"], "len");
    let mut f = framed(&relay.addr, "len");
    for i in 0..50u32 {
        f.queue(&i.to_be_bytes()).unwrap();
    }
    f.flush().unwrap();
    f.close_write().unwrap();
    // Every reply, then a clean end: the echo server saw our end through
    // the relay, finished, and its end came back.
    for i in 0..50u32 {
        assert_eq!(f.recv().unwrap().as_deref(), Some(&i.to_be_bytes()[..]));
    }
    assert_eq!(f.recv().unwrap(), None);
}

#[test]
fn a_server_half_close_reaches_the_client_and_the_client_can_still_send() {
    // BAD_INPUTS X22
    // A server that greets, shuts its sending side, then reads one frame.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = listener.local_addr().unwrap().to_string();
    let server = thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut f = Framed::new(s, Codec::default());
        f.send(b"greeting").unwrap();
        f.close_write().unwrap();
        f.recv().map_err(|e| e.to_string())
    });
    let relay = Server::start(&["relay", "127.0.0.1:0", &upstream, "-q"]);
    let mut f = framed(&relay.addr, "len");
    assert_eq!(f.recv().unwrap().as_deref(), Some(&b"greeting"[..]));
    assert_eq!(f.recv().unwrap(), None, "the server's end came through");
    f.send(b"still talking").unwrap();
    f.flush().unwrap();
    let got = server.join();
    assert!(got.is_ok(), "server thread failed; relay stderr: {} stdout: {}", relay.stderr(), relay.stdout());
    let got = got.unwrap();
    assert!(got.is_ok(), "{got:?}; relay stderr: {} stdout: {}", relay.stderr(), relay.stdout());
    assert_eq!(got.unwrap().as_deref(), Some(&b"still talking"[..]));
}

#[test]
fn a_thousand_clients_through_the_relay_lose_nothing() {
    let (clients, frames) = (1000usize, 100usize);
    let (_echo, relay) = echo_behind_relay("127.0.0.1:0", "127.0.0.1:0", &["-q"], "len");
    let addr = relay.addr.clone();
    let handles: Vec<_> = (0..clients)
        .map(|id| {
            let addr = addr.clone();
            thread::Builder::new()
                .stack_size(128 * 1024)
                .spawn(move || echo_client(&addr, id, frames))
                .unwrap()
        })
        .collect();
    let errors: Vec<String> = handles.into_iter().filter_map(|h| h.join().unwrap().err()).collect();
    assert!(errors.is_empty(), "{} clients failed, first: {}", errors.len(), errors[0]);
    assert!(!relay.stderr().contains("closing"), "{}", relay.stderr());
}

#[test]
fn a_slow_server_holds_the_client_back_with_bounded_memory() {
    // BAD_INPUTS X25
    // A server that accepts and reads nothing for a while: the relay stops
    // reading the client once its queue towards the server is full, so the
    // client's writes block instead of the relay buffering everything.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = listener.local_addr().unwrap().to_string();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        rx.recv().unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut f = Framed::new(s, Codec::default());
        // Until the end: the client's last frame may be cut off by its write
        // timeout, so the pair may end with an error instead of a clean end.
        let mut n = 0u64;
        while let Ok(Some(p)) = f.recv() {
            n += p.len() as u64;
        }
        n
    });
    let relay = Server::start(&["relay", "127.0.0.1:0", &upstream, "-q"]);
    let s = connect(&relay.addr);
    s.set_write_timeout(Some(Duration::from_millis(500))).unwrap();
    let mut f = Framed::new(s, Codec::default());
    let chunk = vec![7u8; 64 * 1024];
    let mut sent = 0u64;
    // Writes stall within a bounded amount (socket buffers and the relay's
    // caps), far below the 1 GiB this would be.
    for _ in 0..16_384 {
        match f.send(&chunk) {
            Ok(()) => sent += chunk.len() as u64,
            Err(_) => break,
        }
    }
    assert!(sent < 256 * 1024 * 1024, "the relay buffered {sent} bytes for a server that reads nothing");
    // The relay's memory stays bounded too.
    let pid = relay.child.as_ref().unwrap().id();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    assert!(rss_kib < 64 * 1024, "relay RSS {rss_kib} KiB");
    tx.send(()).unwrap();
    drop(f);
    let received = server.join().unwrap();
    assert!(received > 0 && received <= sent + chunk.len() as u64, "{received} of {sent}");
}

#[test]
fn record_captures_every_frame_with_its_direction() {
    let dir = temp_dir("record");
    let cap = dir.join("relay.jsonl");
    let cap_s = cap.display().to_string();
    let (echo, relay) = echo_behind_relay("127.0.0.1:0", "127.0.0.1:0", &["-q", "--record", &cap_s], "len");
    let mut f = framed(&relay.addr, "len");
    f.send(b"\x00\x01\x02").unwrap();
    assert_eq!(f.recv().unwrap().as_deref(), Some(&b"\x00\x01\x02"[..]));
    f.close_write().unwrap();
    assert_eq!(f.recv().unwrap(), None);
    // Flushed per frame: readable while the relay still runs.
    let start = Instant::now();
    let text = loop {
        let t = std::fs::read_to_string(&cap).unwrap_or_default();
        if t.lines().count() >= 6 || start.elapsed() > WAIT {
            break t;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["sockframe_capture"], 1);
    assert_eq!(lines[0]["client_codec"], "len:u32be");
    assert_eq!(lines[1]["event"], "open");
    assert_eq!((lines[2]["dir"].as_str(), lines[2]["hex"].as_str()), (Some("c2s"), Some("000102")));
    assert_eq!((lines[3]["dir"].as_str(), lines[3]["hex"].as_str()), (Some("s2c"), Some("000102")));
    assert_eq!(lines[4]["event"], "close");
    drop(relay);
    // The capture replays against the same server (and fails against a
    // changed one).
    let out = Command::new(BIN).args(["replay", &cap_s, &echo.addr]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let other = Server::start(&["listen", "127.0.0.1:0", "--reply", "changed", "-q"]);
    let out = Command::new(BIN).args(["replay", &cap_s, &other.addr, "--timeout", "5"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_client_stalling_mid_frame_is_cut_off_by_the_frame_deadline() {
    // BAD_INPUTS T4 through the relay: half a header, then nothing.
    let (_echo, relay) =
        echo_behind_relay("127.0.0.1:0", "127.0.0.1:0", &["-q", "--frame-timeout", "1"], "len");
    let mut slow = connect(&relay.addr);
    slow.write_all(b"\x00\x00").unwrap();
    let mut good = framed(&relay.addr, "len");
    good.send(b"served meanwhile").unwrap();
    assert_eq!(good.recv().unwrap().as_deref(), Some(&b"served meanwhile"[..]));
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest); // closed by the relay (EOF or reset)
    let log = relay.wait_stderr(|s| s.contains("frame deadline"));
    assert!(log.contains("connection 1") && log.contains("frame deadline"), "{log}");
}

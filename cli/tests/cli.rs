//! Drives the real `sockframe` binary: the demo, listen/send over TCP and
//! Unix sockets for every codec, decode of hostile input, usage errors, the
//! seed's C programs with `--codec raw`, and load (BAD_INPUTS T9, T4).
//! Every network wait is bounded by socket timeouts or a kill deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

mod common;
use common::*;

#[test]
fn demo_prints_the_seed_exchange_blocking_then_nonblocking() {
    let out = sockframe(&["demo"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let expected = [
        "[client] Hello message sent to server",
        "[server] Hello from client",
        "[server] Hello message sent to client",
        "[client] Hello from server",
    ];
    let sections: Vec<&str> = stdout.split("== ").filter(|s| !s.is_empty()).collect();
    assert_eq!(sections.len(), 2, "{stdout}");
    assert!(sections[0].starts_with("blocking"), "{stdout}");
    assert!(sections[1].starts_with("non-blocking"), "{stdout}");
    for section in sections {
        let lines: Vec<&str> = section.lines().skip(1).collect();
        assert_eq!(lines, expected, "{stdout}");
    }
}

/// listen --echo and send, for every codec, over TCP and a Unix socket.
#[test]
fn listen_and_send_every_codec_tcp_and_unix() {
    let dir = temp_dir("codecs");
    let codecs: &[(&str, &[&str])] = &[
        ("len", &["Hello from client", "", "second frame"]),
        ("len:u8", &["a", "bc"]),
        ("len:u16le", &["a", "bc"]),
        ("len:u24be", &["a", "bc"]),
        ("len:u64be", &["a", "bc"]),
        ("varint", &["one", "two", ""]),
        ("lines", &["one", "two"]),
        ("delim:0d0a", &["one", "two"]),
        ("delim:00", &["one", "two"]),
        ("netstring", &["one", "", "two"]),
        ("cobs", &["one", "", "two"]),
        ("fixed:3", &["abc", "def"]),
        // The framings for corrupting links (SLIP and KISS carry no empty payload).
        ("slip", &["one", "two"]),
        ("kiss,discard", &["\u{10}one", " two"]),
        ("hdlc", &["one", "", "two"]),
        ("hdlc:fcs32", &["one", "two"]),
        ("sync:a55a,discard", &["one", "", "two"]),
        ("len,crc=crc32c", &["one", "", "two"]),
        // Raw has no boundaries: one message and one reply.
        ("raw", &["Hello from client"]),
    ];
    for (i, (codec, msgs)) in codecs.iter().enumerate() {
        for unix in [false, true] {
            let addr = if unix {
                format!("unix:{}", dir.join(format!("{i}.sock")).display())
            } else {
                "127.0.0.1:0".into()
            };
            let count = msgs.len().to_string();
            let server = Server::listen(&addr, &["--codec", codec, "--echo", "--count", &count]);
            let mut args =
                vec!["send", server.addr.as_str(), "--codec", codec, "--replies", &count, "--timeout", "20"];
            args.extend(msgs.iter().copied());
            let out = sockframe(&args, b"");
            let want: String = msgs.iter().map(|m| format!("{m}\n")).collect();
            assert!(out.status.success(), "{codec} unix={unix}: {}", text(&out.stderr));
            assert_eq!(text(&out.stdout), want, "{codec} unix={unix}: replies");
            let served = server.finish();
            assert!(served.status.success(), "{codec}: {}", text(&served.stderr));
            assert_eq!(text(&served.stdout), want, "{codec} unix={unix}: printed by listen");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn send_reads_stdin_lines_and_hex_and_listen_prints_formats() {
    let server = Server::listen("127.0.0.1:0", &["--count", "2", "--format", "json", "--reply", "ok"]);
    let out =
        sockframe(&["send", &server.addr, "--input", "hex", "--replies", "2", "-f", "hex"], b"6869\nff00\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "6f6b\n6f6b\n");
    let served = server.finish();
    let lines: Vec<serde_json::Value> =
        text(&served.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["text"], "hi");
    assert_eq!(lines[1]["hex"], "ff00");
    assert!(lines[1]["text"].is_null());
    assert_eq!(lines[0]["conn"], lines[1]["conn"]);
}

#[test]
fn encode_then_decode_round_trips_for_every_codec() {
    let input = b"Hello from client\nsecond\n\nlast\n";
    for codec in ["len", "len:u16le", "varint", "lines", "delim:0d0a", "netstring", "cobs"] {
        let enc = sockframe(&["encode", "--codec", codec], input);
        assert!(enc.status.success(), "{codec}: {}", text(&enc.stderr));
        let dec = sockframe(&["decode", "--codec", codec], &enc.stdout);
        assert!(dec.status.success(), "{codec}: {}", text(&dec.stderr));
        assert_eq!(dec.stdout, input, "{codec}");
    }
    let enc = sockframe(&["encode", "--input", "hex"], b"00ff\n");
    assert_eq!(enc.stdout, b"\x00\x00\x00\x02\x00\xff");
    // The framings for corrupting links (SLIP and KISS carry no empty
    // payload: KISS's first byte is its command byte).
    // Payloads in hex, with every byte these framings treat specially.
    let input = b"48656c6c6f\nc0dbdcdd7e7d5e5deb90\n6c617374\n";
    for codec in [
        "slip",
        "kiss",
        "hdlc",
        "hdlc:fcs32",
        "sync",
        "sync:a5,discard",
        "len,crc=crc32c",
        "cobs,crc=crc16-xmodem",
    ] {
        let enc = sockframe(&["encode", "--input", "hex", "--codec", codec], input);
        assert!(enc.status.success(), "{codec}: {}", text(&enc.stderr));
        let dec = sockframe(&["decode", "--format", "hex", "--codec", codec], &enc.stdout);
        assert!(dec.status.success(), "{codec}: {}", text(&dec.stderr));
        assert_eq!(dec.stdout, input, "{codec}");
    }
}

#[test]
fn decode_a_corrupted_capture_in_skip_mode_prints_every_good_frame() {
    // Issue 13: `,discard` on a link that corrupts bytes prints every good
    // frame, one stderr line per skipped region, and exits 0.
    let input = b"one\ntwo\nthree\nfour\nfive\n";
    for codec in ["hdlc", "slip,crc=crc32", "sync", "kiss,crc=crc16-x25"] {
        let enc = sockframe(&["encode", "--codec", codec], input);
        assert!(enc.status.success());
        let mut wire = enc.stdout.clone();
        // Corrupt "two" (a bit flip inside it) and "four" (a byte dropped).
        let find = |w: &[u8], p: &[u8]| w.windows(p.len()).position(|x| x == p).unwrap();
        let two = find(&wire, b"two");
        wire[two + 1] ^= 0x20;
        let four = find(&wire, b"four");
        wire.remove(four + 2);
        let out = sockframe(&["decode", "--codec", &format!("{codec},discard")], &wire);
        assert_eq!(out.status.code(), Some(0), "{codec}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "one\nthree\nfive\n", "{codec}");
        let err = text(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{codec}: one line per region: {err}");
        assert!(lines[0].contains("corrupt frame") && lines[0].contains("after frame 1"), "{codec}: {err}");
        assert!(lines[1].contains("after frame 2"), "{codec}: {err}");
        // Strict mode stops at the first corrupt frame with status 1.
        let out = sockframe(&["decode", "--codec", codec], &wire);
        assert_eq!(out.status.code(), Some(1), "{codec}");
        assert_eq!(text(&out.stdout), "one\n", "{codec}");
    }
}

/// Hostile input to decode: exit 1, the error names the problem, and every
/// complete frame before it is printed.
#[test]
fn decode_hostile_input_prints_earlier_frames_then_fails() {
    // A declared 4 GiB frame is refused without allocating it.
    let out = sockframe(&["decode"], b"\x00\x00\x00\x02hi\xff\xff\xff\xff");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "hi\n");
    let err = text(&out.stderr);
    assert!(err.contains("exceeds the maximum"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    // EOF inside a frame (BAD_INPUTS L8).
    let out = sockframe(&["decode"], b"\x00\x00\x00\x02hi\x00\x00\x00\x05abc");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "hi\n");
    assert!(
        text(&out.stderr).contains("3 bytes pending") || text(&out.stderr).contains("pending"),
        "{}",
        text(&out.stderr)
    );
    // A netstring with a leading zero (BAD_INPUTS N1), after a good one.
    let out = sockframe(&["decode", "--codec", "netstring"], b"2:hi,01:a,");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "hi\n");
    // --max-frame applies.
    let out = sockframe(&["decode", "--max-frame", "3"], b"\x00\x00\x00\x04abcd");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("maximum of 3"), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("panicked"));
}

#[test]
fn decode_discard_mode_skips_overlong_lines_and_exits_0() {
    // BAD_INPUTS D1/D2 through the CLI: `,discard` prints every line that
    // fits, reports each skipped line on stderr, and succeeds.
    let mut input = b"first\n".to_vec();
    input.extend_from_slice(&[b'x'; 200_000]); // streams in over several reads
    input.extend_from_slice(b"\nsecond\ntoo long again\nthird\n");
    for spec in ["lines,max=8,discard", "delim:0a,max=8,discard"] {
        let out = sockframe(&["decode", "--codec", spec], &input);
        assert_eq!(out.status.code(), Some(0), "{spec}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "first\nsecond\nthird\n", "{spec}");
        let err = text(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{spec}: one line per skipped line: {err}");
        assert!(lines[0].contains("200001 bytes") && lines[0].contains("after frame 1"), "{err}");
        assert!(lines[1].contains("15 bytes") && lines[1].contains("after frame 2"), "{err}");
    }
    // Without `,discard` the first overlong line ends the run with status 1.
    let out = sockframe(&["decode", "--codec", "lines,max=8"], &input);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "first\n");
}

#[test]
fn listen_asks_the_kernel_for_a_large_accept_backlog() {
    // A burst of 2,000 connects must not overflow the accept queue (mio and
    // std listen with 128). `ss` reports a listening socket's backlog as its
    // Send-Q.
    let server = Server::listen("127.0.0.1:0", &["--quiet"]);
    let port = server.addr.rsplit(':').next().unwrap().to_string();
    let out = Command::new("ss")
        .args(["-ltnH", &format!("sport = :{port}")])
        .output()
        .expect("ss (iproute2) is installed");
    let row = text(&out.stdout);
    let send_q: u64 =
        row.split_whitespace().nth(2).and_then(|q| q.parse().ok()).unwrap_or_else(|| panic!("ss: {row}"));
    let somaxconn: u64 =
        std::fs::read_to_string("/proc/sys/net/core/somaxconn").unwrap().trim().parse().unwrap();
    assert!(send_q >= 1024.min(somaxconn), "backlog {send_q}");
}

/// Millions of tiny frames decode in constant memory: the decoder's peak RSS
/// stays far below the size of its input.
#[test]
fn decode_streams_millions_of_frames_in_constant_memory() {
    let frames = 3_000_000usize;
    let mut child = Command::new(BIN)
        .args(["decode", "--format", "hex"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let mut count = 0usize;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => return count,
                Ok(n) => count += buf[..n].iter().filter(|&&b| b == b'\n').count(),
            }
        }
    });
    let frame = b"\x00\x00\x00\x01\x2a";
    let chunk: Vec<u8> = frame.iter().copied().cycle().take(frame.len() * 10_000).collect();
    for _ in 0..frames / 10_000 {
        stdin.write_all(&chunk).unwrap();
    }
    // Peak RSS while the process is still alive, after it read ~15 MB.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    drop(stdin);
    let printed = reader.join().unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(printed, frames);
    if let Some(kib) = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
    {
        assert!(kib < 12 * 1024, "decode peak RSS {kib} KiB for {} bytes of input", frames * frame.len());
    }
}

#[test]
fn usage_errors_exit_2_and_runtime_errors_exit_1() {
    for args in [
        &["decode", "--codec", "json"][..],
        &["send", "not-an-address", "x"],
        &["listen"],
        &["frobnicate"],
        &["decode", "--codec", "len:u8", "--max-frame", "1000"],
        &["listen", "127.0.0.1:0", "--frame-timeout", "-1"],
    ] {
        let out = sockframe(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("panicked"), "{args:?}");
        assert_eq!(text(&out.stderr).lines().count(), 1, "{args:?}: one line: {}", text(&out.stderr));
    }
    let err = text(&sockframe(&["decode", "--codec", "json"], b"").stderr);
    assert!(err.contains("valid forms"), "{err}");

    // A refused connection: one clear line, exit 1.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = sockframe(&["send", &format!("127.0.0.1:{port}"), "hi", "--timeout", "5"], b"");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("refused"), "{err}");
    // Waiting for a reply that never comes: a timeout, exit 1.
    let server = Server::listen("127.0.0.1:0", &["--quiet"]);
    let out = sockframe(&["send", &server.addr, "hi", "--replies", "1", "--timeout", "0.5"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("timeout"), "{}", text(&out.stderr));
    // A Unix socket path over the OS limit (BAD_INPUTS T8).
    let long = format!("unix:/tmp/{}", "x".repeat(200));
    let out = sockframe(&["listen", &long], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("over the OS limit"), "{}", text(&out.stderr));
}

fn compile_seed(dir: &Path, name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seed").join(format!("{name}.c"));
    let exe = dir.join(name);
    let status =
        Command::new("cc").arg("-O1").arg("-o").arg(&exe).arg(&src).status().expect("a C compiler (cc)");
    assert!(status.success(), "compiling {name}.c");
    exe
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `--codec raw` talks to the seed's unframed C programs, both ways.
#[test]
fn raw_codec_interoperates_with_the_seed_c_programs() {
    let dir = temp_dir("seed");
    let server_exe = compile_seed(&dir, "server");
    let client_exe = compile_seed(&dir, "client");

    // Our send against the seed's server.
    let port = free_port().to_string();
    let mut c_server = Command::new(&server_exe).arg(&port).stdout(Stdio::piped()).spawn().unwrap();
    let mut c_out = BufReader::new(c_server.stdout.take().unwrap());
    let mut line = String::new();
    c_out.read_line(&mut line).unwrap();
    assert_eq!(line, "listening\n");
    let out = sockframe(
        &["send", &format!("127.0.0.1:{port}"), "--codec", "raw", "--replies", "1", "Hello from client"],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Hello from server\n");
    let mut rest = String::new();
    c_out.read_to_string(&mut rest).unwrap();
    assert!(c_server.wait().unwrap().success());
    assert!(rest.starts_with("Hello from client"), "{rest}");

    // The seed's client against our listen.
    let port = free_port();
    let server = Server::listen(
        &format!("127.0.0.1:{port}"),
        &["--codec", "raw", "--reply", "Hello from server", "--count", "1"],
    );
    let c_client = Command::new(&client_exe).arg(port.to_string()).output().unwrap();
    assert!(c_client.status.success());
    assert_eq!(text(&c_client.stdout), "Hello message sent to server\nHello from server\n");
    let served = server.finish();
    assert_eq!(text(&served.stdout), "Hello from client\n");
    let _ = std::fs::remove_dir_all(&dir);
}

/// BAD_INPUTS T9: 1,000 concurrent clients × 100 frames through one
/// `listen --echo` event loop: all served, nothing lost or duplicated.
#[test]
fn t9_thousand_concurrent_clients_echo() {
    let (clients, frames) = (1000usize, 100usize);
    let total = (clients * frames).to_string();
    let server = Server::listen("127.0.0.1:0", &["--echo", "--quiet", "--count", &total]);
    let addr = server.addr.clone();
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
    let out = server.finish();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// BAD_INPUTS T4: 100 slowloris clients holding partial frames neither stall
/// the others nor stay connected past the frame deadline.
#[test]
fn t4_slowloris_clients_do_not_stall_others() {
    let server = Server::listen("127.0.0.1:0", &["--echo", "--quiet", "--frame-timeout", "1"]);
    let mut slow: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(&server.addr).unwrap();
            // Half a header, then nothing.
            s.write_all(b"\x00\x00").unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s
        })
        .collect();
    // Meanwhile ordinary clients are served at once.
    let start = Instant::now();
    for id in 0..20 {
        echo_client(&server.addr, id, 10).unwrap();
    }
    assert!(start.elapsed() < Duration::from_secs(5), "ordinary clients stalled: {:?}", start.elapsed());
    // Every slowloris connection is cut off by the deadline (EOF or reset).
    for s in &mut slow {
        let mut b = [0u8; 1];
        match s.read(&mut b) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("slowloris connection not closed: {other:?}"),
        }
    }
    thread::sleep(Duration::from_millis(100));
    let log = server.stderr.lock().unwrap().clone();
    assert!(log.matches("frame deadline").count() >= 100, "{log}");
}

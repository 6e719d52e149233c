//! Captures through the real binary (issue 12): `send --record`, then
//! `replay` as a regression test against a server (same and changed),
//! `replay --serve` to a client, `replay --wire` into `decode`, damaged
//! captures, and `--timing original`. Loopback only, port 0; every wait is
//! bounded by a socket timeout or a kill deadline.
//! Malformed and truncated captures: BAD_INPUTS X26.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

mod common;
use common::*;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Payloads with every awkward byte: NUL, 0xff, a newline, and an empty one.
const PAYLOADS_HEX: &str = "68656c6c6f\n00ff0a0d\n\n776f726c64\n";
const PAYLOADS: [&[u8]; 3] = [b"hello", b"\x00\xff\x0a\x0d", b"world"];

/// Records `send --input hex` (the three payloads) against `server`.
fn record(server: &Server, codec: &str, capture: &Path) {
    let out = sockframe(
        &[
            "send",
            &server.addr,
            "--codec",
            codec,
            "--input",
            "hex",
            "--replies",
            "3",
            "-f",
            "hex",
            "--timeout",
            "20",
            "--record",
            path_str(capture),
        ],
        PAYLOADS_HEX.as_bytes(),
    );
    assert!(out.status.success(), "send --record: {}", text(&out.stderr));
}

fn lines_of(capture: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(capture).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn send_records_and_replay_passes_against_the_same_server_and_fails_against_a_changed_one() {
    let dir = temp_dir("regression");
    let capture = dir.join("echo.jsonl");
    let echo = Server::listen("127.0.0.1:0", &["--quiet", "--echo"]);
    record(&echo, "len", &capture);

    // What send recorded: header, open, 3 c2s, 3 s2c, close c2s.
    let lines = lines_of(&capture);
    assert_eq!(lines.len(), 9, "{lines:?}");
    assert_eq!(lines[0]["sockframe_capture"], 1);
    assert_eq!(lines[0]["client_codec"], "len:u32be");
    assert_eq!(lines[0]["tool"], "send");
    assert_eq!(lines[1]["event"], "open");
    assert_eq!(lines[1]["peer"], echo.addr.as_str());
    for (k, p) in PAYLOADS.iter().enumerate() {
        for (line, dir) in [(&lines[2 + k], "c2s"), (&lines[5 + k], "s2c")] {
            assert_eq!(line["conn"], 1);
            assert_eq!(line["dir"], dir);
            assert_eq!(line["i"], k);
            assert_eq!(line["len"], p.len());
            assert_eq!(line["hex"], hex(p));
        }
    }
    assert_eq!(lines[8]["event"], "close");
    assert_eq!(lines[8]["dir"], "c2s");

    // The same kind of server: every reply matches.
    let fresh = Server::listen("127.0.0.1:0", &["--quiet", "--echo"]);
    let out = sockframe(&["replay", path_str(&capture), &fresh.addr], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "replayed 1 connection: 3 frames sent, 3 replies matched\n");
    assert_eq!(text(&out.stderr), "");

    // A changed server: the first reply differs.
    let changed = Server::listen("127.0.0.1:0", &["--quiet", "--reply", "other"]);
    let out = sockframe(&["replay", path_str(&capture), &changed.addr], b"");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("conn 1") && err.contains("s2c frame 0"), "{err}");
    assert!(err.contains(&hex(b"hello")) && err.contains(&hex(b"other")), "{err}");

    // A server that never answers: a timeout naming what was awaited.
    let silent = Server::listen("127.0.0.1:0", &["--quiet"]);
    let out = sockframe(&["replay", path_str(&capture), &silent.addr, "--timeout", "0.5"], b"");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("timed out") && err.contains("conn 1: s2c frame 0"), "{err}");
    assert!(err.contains(&hex(b"hello")), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn long_payloads_are_abbreviated_in_a_mismatch() {
    let dir = temp_dir("long");
    let capture = dir.join("long.jsonl");
    let long = "ab".repeat(100);
    let echo = Server::listen("127.0.0.1:0", &["--quiet", "--echo"]);
    let out = sockframe(
        &["send", &echo.addr, "--input", "hex", "--replies", "1", "--record", path_str(&capture)],
        format!("{long}\n").as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let changed = Server::listen("127.0.0.1:0", &["--quiet", "--reply", "x"]);
    let out = sockframe(&["replay", path_str(&capture), &changed.addr], b"");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("expected {}... (100 bytes)", "ab".repeat(32))), "{err}");
    assert!(err.contains("got 78 (1 byte)"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_plays_the_recorded_server_to_a_client() {
    let dir = temp_dir("serve");
    let capture = dir.join("pong.jsonl");
    let pong = Server::listen("127.0.0.1:0", &["--quiet", "--reply", "pong", "--codec", "netstring"]);
    record(&pong, "netstring", &capture);
    drop(pong);

    // The client gets the recorded replies, from the capture's server.
    let serve = Server::start(&["replay", path_str(&capture), "--serve", "127.0.0.1:0"]);
    let out = sockframe(
        &["send", &serve.addr, "--codec", "netstring", "--input", "hex", "--replies", "3", "--timeout", "20"],
        PAYLOADS_HEX.as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "pong\npong\npong\n");
    let served = serve.finish();
    assert_eq!(served.status.code(), Some(0), "{}", text(&served.stderr));
    assert_eq!(text(&served.stdout), "served 1 connection: 3 frames sent, 3 frames matched\n");

    // A client that sends something else: the server side reports it.
    let serve = Server::start(&["replay", path_str(&capture), "--serve", "127.0.0.1:0", "--timeout", "20"]);
    let out = sockframe(
        &[
            "send",
            &serve.addr,
            "--codec",
            "netstring",
            "hello",
            "changed",
            "--replies",
            "3",
            "--timeout",
            "20",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1), "the client gets no replies");
    let served = serve.finish();
    assert_eq!(served.status.code(), Some(1));
    let err = text(&served.stderr);
    assert!(err.contains("conn 1: c2s frame 1 differs"), "{err}");
    assert!(err.contains(&hex(PAYLOADS[1])) && err.contains(&hex(b"changed")), "{err}");

    // Two recorded connections: the k-th client to connect plays conn k.
    let capture = dir.join("two.jsonl");
    std::fs::write(&capture, two_conns(0.01)).unwrap();
    let serve = Server::start(&["replay", path_str(&capture), "--serve", "127.0.0.1:0"]);
    for conn in ["1", "2"] {
        let (a, b) = (format!("a{conn}"), format!("b{conn}"));
        let out = sockframe(&["send", &serve.addr, "-c", "lines", &a, &b, "--replies", "2"], b"");
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), format!("{a}\n{b}\n"));
    }
    let served = serve.finish();
    assert_eq!(served.status.code(), Some(0), "{}", text(&served.stderr));
    assert_eq!(text(&served.stdout), "served 2 connections: 4 frames sent, 4 frames matched\n");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A one-connection capture (lines both ways) from short event specs:
/// "c2s TEXT", "s2c TEXT", "close c2s", "close s2c".
fn script(events: &[&str]) -> String {
    let mut s = format!("{HEADER}\n");
    let mut counts = [0, 0];
    for (k, ev) in events.iter().enumerate() {
        let t = format!("{:.6}", k as f64 * 0.001);
        let (head, rest) = ev.split_once(' ').unwrap();
        s += &match head {
            "close" => format!("{{\"t\":{t},\"conn\":1,\"event\":\"close\",\"dir\":\"{rest}\"}}\n"),
            dir => {
                let n = &mut counts[usize::from(dir == "s2c")];
                *n += 1;
                format!(
                    "{{\"t\":{t},\"conn\":1,\"dir\":\"{dir}\",\"i\":{},\"len\":{},\"hex\":\"{}\"}}\n",
                    *n - 1,
                    rest.len(),
                    hex(rest.as_bytes())
                )
            }
        };
    }
    s
}

/// Replays `client` against `replay --serve` of `server`: the client
/// side's output.
fn against(dir: &Path, client: &[&str], server: &[&str]) -> Output {
    let (c, s) = (dir.join("client.jsonl"), dir.join("server.jsonl"));
    std::fs::write(&c, script(client)).unwrap();
    std::fs::write(&s, script(server)).unwrap();
    let serve = Server::start(&["replay", path_str(&s), "--serve", "127.0.0.1:0", "--timeout", "5"]);
    sockframe(&["replay", path_str(&c), &serve.addr, "--timeout", "5"], b"")
}

#[test]
fn replay_reports_extra_replies_and_a_server_that_closes_early() {
    let dir = temp_dir("extra");
    // The recorded server closed after its reply; this one sends another.
    let out = against(
        &dir,
        &["c2s a", "s2c a", "close c2s", "close s2c"],
        &["c2s a", "s2c a", "s2c zz", "close c2s", "close s2c"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("conn 1: extra s2c frame 1 before the recorded close: got 7a7a (2 bytes)"), "{err}");
    // Both close as recorded: a pass.
    let out = against(
        &dir,
        &["c2s a", "s2c a", "close c2s", "close s2c"],
        &["c2s a", "s2c a", "close c2s", "close s2c"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The server closes before the second reply.
    let out = against(&dir, &["c2s a", "s2c a", "c2s b", "s2c b"], &["c2s a", "s2c a", "close s2c"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("conn 1: s2c frame 1 (expected 62 (1 byte))"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wire_output_decodes_to_the_recorded_payloads() {
    let dir = temp_dir("wire");
    for codec in ["len", "varint", "cobs", "netstring"] {
        let capture = dir.join(format!("{codec}.jsonl"));
        let echo = Server::listen("127.0.0.1:0", &["--quiet", "--echo", "--codec", codec]);
        record(&echo, codec, &capture);
        let want: String = PAYLOADS.iter().map(|p| format!("{}\n", hex(p))).collect();
        for args in [&["--wire", "c2s"][..], &["--wire", "s2c"], &["--wire", "c2s", "--conn", "1"]] {
            let mut argv = vec!["replay", path_str(&capture)];
            argv.extend_from_slice(args);
            let wire = sockframe(&argv, b"");
            assert!(wire.status.success(), "{codec} {args:?}: {}", text(&wire.stderr));
            let dec = sockframe(&["decode", "--codec", codec, "-f", "hex"], &wire.stdout);
            assert!(dec.status.success(), "{codec} {args:?}: {}", text(&dec.stderr));
            assert_eq!(text(&dec.stdout), want, "{codec} {args:?}");
        }
        // A connection the capture does not hold.
        let out = sockframe(&["replay", path_str(&capture), "--wire", "c2s", "--conn", "7"], b"");
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains("no connection 7"), "{}", text(&out.stderr));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

const HEADER: &str = r#"{"sockframe_capture":1,"client_codec":"lines","server_codec":"lines","tool":"test"}"#;

/// A capture written by hand: two connections, each sending "a" then "b"
/// (after a gap of `gap` seconds) and getting each back.
fn two_conns(gap: f64) -> String {
    let mut s = format!("{HEADER}\n");
    for conn in [1, 2] {
        let t = |dt: f64| format!("{:.6}", dt);
        let p = |x: &str| format!("{}{conn}", x);
        s += &format!("{{\"t\":{},\"conn\":{conn},\"event\":\"open\",\"peer\":\"x\"}}\n", t(0.0));
        for (i, (at, payload)) in [(0.001, p("a")), (gap, p("b"))].into_iter().enumerate() {
            let h = hex(payload.as_bytes());
            for (dir, dt) in [("c2s", 0.0), ("s2c", 0.001)] {
                s += &format!(
                    "{{\"t\":{},\"conn\":{conn},\"dir\":\"{dir}\",\"i\":{i},\"len\":{},\"hex\":\"{h}\"}}\n",
                    t(at + dt),
                    payload.len()
                );
            }
        }
        s += &format!("{{\"t\":{},\"conn\":{conn},\"event\":\"close\",\"dir\":\"c2s\"}}\n", t(gap + 0.01));
    }
    s
}

#[test]
fn timing_original_keeps_the_recorded_gaps_and_fast_replays_every_connection() {
    let dir = temp_dir("timing");
    let capture = dir.join("gaps.jsonl");
    std::fs::write(&capture, two_conns(1.5)).unwrap();
    let echo = Server::listen("127.0.0.1:0", &["--quiet", "--echo", "--codec", "lines"]);
    let out = sockframe(&["replay", path_str(&capture), &echo.addr], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "replayed 2 connections: 4 frames sent, 4 replies matched\n");

    let start = Instant::now();
    let out = sockframe(&["replay", path_str(&capture), &echo.addr, "--timing", "original"], b"");
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(took >= Duration::from_millis(1300), "recorded span 1.5 s, replayed in {took:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_malformed_line_is_an_error_naming_the_line() {
    let dir = temp_dir("malformed");
    let capture = dir.join("bad.jsonl");
    let mut body = two_conns(0.01);
    // Line 4 (conn 1's first reply): hex that is not hex.
    let lines: Vec<&str> = body.lines().collect();
    let bad = lines[3].replace("\"hex\":\"", "\"hex\":\"zz");
    body = lines[..3].iter().chain([&bad.as_str()]).chain(&lines[4..]).map(|l| format!("{l}\n")).collect();
    std::fs::write(&capture, body).unwrap();
    let echo = Server::listen("127.0.0.1:0", &["--quiet", "--echo", "--codec", "lines"]);
    for args in [vec![echo.addr.as_str()], vec!["--wire", "c2s"], vec!["--serve", "127.0.0.1:0"]] {
        let mut argv = vec!["replay", path_str(&capture)];
        argv.extend_from_slice(&args);
        let out = sockframe(&argv, b"");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&format!("{} line 4: bad hex", capture.display())), "{err}");
    }
    // Another version: refused, clearly.
    std::fs::write(&capture, two_conns(0.01).replace("\"sockframe_capture\":1", "\"sockframe_capture\":9"))
        .unwrap();
    let out = sockframe(&["replay", path_str(&capture), &echo.addr], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("line 1: capture version 9 is not supported"),
        "{}",
        text(&out.stderr)
    );
    // No such file.
    let out = sockframe(&["replay", path_str(&dir.join("missing.jsonl")), &echo.addr], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("missing.jsonl"), "{}", text(&out.stderr));
    // Bad arguments: usage errors.
    for args in [
        &["replay", path_str(&capture)][..],
        &["replay", path_str(&capture), echo.addr.as_str(), "--wire", "c2s"],
        &["replay", path_str(&capture), "--wire", "both"],
        &["replay", path_str(&capture), echo.addr.as_str(), "--timeout", "-1"],
    ] {
        let out = sockframe(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr).lines().count(), 1, "{args:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_truncated_last_line_is_a_warning_and_the_rest_replays() {
    let dir = temp_dir("truncated");
    let capture = dir.join("cut.jsonl");
    let echo = Server::listen("127.0.0.1:0", &["--quiet", "--echo"]);
    record(&echo, "len", &capture);
    // A crash mid-write: the last reply's line is cut and the close is lost.
    let full = std::fs::read_to_string(&capture).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    assert_eq!(lines.len(), 9);
    let cut = format!("{}\n{}", lines[..7].join("\n"), &lines[7][..lines[7].len() / 2]);
    std::fs::write(&capture, cut).unwrap();

    let out = sockframe(&["replay", path_str(&capture), &echo.addr], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!(
            "sockframe: {} line 8: truncated (the recording stopped mid-write); ignored\n",
            capture.display()
        )
    );
    assert_eq!(text(&out.stdout), "replayed 1 connection: 3 frames sent, 2 replies matched\n");
    // --wire warns too and still writes every frame.
    let wire = sockframe(&["replay", path_str(&capture), "--wire", "c2s"], b"");
    assert!(wire.status.success());
    assert!(text(&wire.stderr).contains("line 8: truncated"), "{}", text(&wire.stderr));
    let dec = sockframe(&["decode", "-f", "hex"], &wire.stdout);
    assert_eq!(text(&dec.stdout).lines().count(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn listen_records_what_it_receives_and_answers() {
    let dir = temp_dir("listen-record");
    let cap = dir.join("listen.jsonl");
    let server =
        Server::listen("127.0.0.1:0", &["--quiet", "--echo", "--count", "2", "--record", path_str(&cap)]);
    let out = sockframe(&["send", &server.addr, "one", "two", "--replies", "2"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let served = server.finish();
    assert!(served.status.success(), "{}", text(&served.stderr));
    let lines = lines_of(&cap);
    assert_eq!(lines[0]["sockframe_capture"], 1);
    assert_eq!(lines[0]["tool"], "listen");
    let frames: Vec<(String, String)> = lines
        .iter()
        .filter(|l| l.get("dir").is_some() && l.get("hex").is_some())
        .map(|l| (l["dir"].as_str().unwrap().to_owned(), l["hex"].as_str().unwrap().to_owned()))
        .collect();
    let (one, two) = (hex(b"one"), hex(b"two"));
    assert_eq!(
        frames,
        [("c2s".into(), one.clone()), ("s2c".into(), one), ("c2s".into(), two.clone()), ("s2c".into(), two)]
    );
    // The capture replays against another echo server.
    let echo = Server::listen("127.0.0.1:0", &["--quiet", "--echo"]);
    let out = sockframe(&["replay", path_str(&cap), &echo.addr], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

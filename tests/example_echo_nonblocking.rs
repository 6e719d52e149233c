//! Runs the non-blocking recipe (`examples/echo_nonblocking.rs`, built by
//! `cargo test`) against clients that pipeline their frames: every echo comes
//! back in order, and the server exits by itself after `--max-clients`.
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use sockframe::{Encoder, Framed, LengthCodec};

#[test]
fn echo_nonblocking_answers_pipelined_frames_in_order() {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(|d| d.parent()).unwrap().join("examples").join("echo_nonblocking");
    assert!(bin.exists(), "{} not built", bin.display());
    let mut child = Command::new(&bin)
        .args(["--port", "0", "--max-clients", "3"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the example");
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("echo_nonblocking: listening on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    let clients: Vec<_> = (0..3u8)
        .map(|c| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let stream = TcpStream::connect(&addr).unwrap();
                stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                let payloads: Vec<Vec<u8>> = (0..500u32).map(|i| vec![c; (i % 300) as usize]).collect();
                let mut wire = BytesMut::new();
                for p in &payloads {
                    LengthCodec::new().encode(p, &mut wire).unwrap();
                }
                (&stream).write_all(&wire).unwrap(); // all 500 frames at once
                let mut framed = Framed::new(stream, LengthCodec::new());
                for p in &payloads {
                    assert_eq!(framed.recv().unwrap().as_deref(), Some(&p[..]));
                }
                framed.close_write().unwrap();
                assert_eq!(framed.recv().unwrap(), None, "the server closes after our end");
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the example did not exit after --max-clients");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success());
}

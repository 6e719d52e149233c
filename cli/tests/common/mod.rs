//! What the CLI test files share: running the binary with a deadline, and
//! server commands (`listen`, `relay`, `replay --serve`) in the background.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_sockframe");

/// Runs `sockframe ARGS` with `stdin`, killed after 60 s.
pub fn sockframe(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sockframe");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = wait_with_deadline(child, Duration::from_secs(60));
    writer.join().unwrap();
    out
}

pub fn wait_with_deadline(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut v);
            }
            v
        })
    };
    let out_t = drain(stdout.map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err_t = drain(stderr.map(|p| Box::new(p) as Box<dyn Read + Send>));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("sockframe did not finish within {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Output { status, stdout: out_t.join().unwrap(), stderr: err_t.join().unwrap() }
}

pub fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sockframe-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A server command running in the background: its bound address (from its
/// first stderr line, `sockframe: listening on ADDR`), and its stdout and
/// the rest of its stderr as they come.
pub struct Server {
    pub child: Option<Child>,
    pub addr: String,
    pub stdout: Arc<Mutex<String>>,
    pub stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

fn collect(
    lines: impl Iterator<Item = std::io::Result<String>> + Send + 'static,
    into: Arc<Mutex<String>>,
) -> JoinHandle<()> {
    thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let mut s = into.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    })
}

impl Server {
    /// `sockframe ARGS`, once it listens.
    pub fn start(args: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sockframe");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().expect("the server printed nothing").unwrap();
        let addr =
            first.strip_prefix("sockframe: listening on ").unwrap_or_else(|| panic!("{first}")).to_owned();
        let (stdout, stderr) = (Arc::new(Mutex::new(String::new())), Arc::new(Mutex::new(String::new())));
        let out_lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let readers = vec![collect(out_lines, stdout.clone()), collect(lines, stderr.clone())];
        Server { child: Some(child), addr, stdout, stderr, readers }
    }

    /// `sockframe listen ADDR EXTRA...`.
    pub fn listen(addr: &str, extra: &[&str]) -> Server {
        let mut args = vec!["listen", addr];
        args.extend_from_slice(extra);
        Server::start(&args)
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (60 s at most) until `cond` holds on stderr; returns it.
    pub fn wait_stderr(&self, cond: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.stderr();
            if cond(&s) || start.elapsed() > Duration::from_secs(60) {
                return s;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the server to exit by itself (e.g. after `--count`).
    pub fn finish(mut self) -> Output {
        let child = self.child.take().unwrap();
        let mut out = wait_with_deadline(child, Duration::from_secs(60));
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        out.stdout = self.stdout().into_bytes();
        out.stderr = self.stderr().into_bytes();
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A client of an echo service: pipelines `frames` frames (every one out
/// before the first reply is read), then checks every echo, in order.
pub fn echo_client(addr: &str, id: usize, frames: usize) -> Result<(), String> {
    let stream = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
    let mut framed = sockframe::Framed::new(stream, sockframe::Codec::default());
    // Pipelined: every frame goes out before the first reply is read.
    for seq in 0..frames {
        framed.send(format!("client {id} frame {seq}").as_bytes()).map_err(|e| e.to_string())?;
    }
    framed.flush().map_err(|e| e.to_string())?;
    for seq in 0..frames {
        let got = framed.recv().map_err(|e| format!("client {id}: {e}"))?;
        let want = format!("client {id} frame {seq}");
        if got.as_deref() != Some(want.as_bytes()) {
            return Err(format!("client {id}: got {got:?}, want {want}"));
        }
    }
    Ok(())
}

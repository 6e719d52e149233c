//! The child-process harness: a `sockframe` subcommand (or another server,
//! such as socat) run beside the bench, killed however the bench ends.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::CliError;

/// How long a server child may take to start listening.
const STARTUP: Duration = Duration::from_secs(10);

/// A running child process; killed and reaped when dropped.
pub(crate) struct ChildProc {
    child: Child,
    name: String,
    /// The last line the child wrote on stderr (after its first), if any.
    last_stderr: Arc<Mutex<Option<String>>>,
}

impl ChildProc {
    /// `sockframe ARGS` (this executable), once it has said
    /// `sockframe: listening on ADDR` on stderr; returns the child and ADDR.
    /// The rest of its stderr is drained (kept: the last line) so the child
    /// never blocks on it.
    pub(crate) fn sockframe(args: &[&str]) -> Result<(ChildProc, String), CliError> {
        let exe = std::env::current_exe()?;
        let name = format!("sockframe {}", args.first().copied().unwrap_or(""));
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take();
        let proc = ChildProc { child, name, last_stderr: Arc::new(Mutex::new(None)) };
        let stderr = stderr.ok_or_else(|| CliError::Runtime(format!("{}: no stderr", proc.name)))?;
        let (first_tx, first_rx) = mpsc::sync_channel::<String>(1);
        let last = proc.last_stderr.clone();
        thread::spawn(move || {
            let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
            let _ = first_tx.send(lines.next().unwrap_or_default());
            // Ends when the child's stderr closes (it exits or is killed).
            for line in lines {
                if let Ok(mut l) = last.lock() {
                    *l = Some(line);
                }
            }
        });
        let first = first_rx
            .recv_timeout(STARTUP)
            .map_err(|_| CliError::Runtime(format!("{} did not start within {STARTUP:?}", proc.name)))?;
        let addr = first
            .strip_prefix("sockframe: listening on ")
            .ok_or_else(|| CliError::Runtime(format!("{} did not start: {first}", proc.name)))?
            .to_owned();
        Ok((proc, addr))
    }

    /// Any program, its output discarded.
    pub(crate) fn spawn(name: &str, command: &mut Command) -> Result<ChildProc, CliError> {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| CliError::Runtime(format!("{name}: {e}")))?;
        Ok(ChildProc { child, name: name.to_owned(), last_stderr: Arc::new(Mutex::new(None)) })
    }

    /// Waits (bounded by the startup limit) until `addr` accepts a
    /// connection, which is closed at once; fails if the child exits first.
    pub(crate) fn wait_listening(&mut self, addr: SocketAddr) -> Result<(), CliError> {
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(CliError::Runtime(format!("{} exited before listening ({status})", self.name)));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(CliError::Runtime(format!("{} is not listening on {addr}", self.name)));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the child to exit by itself, at most `limit` (then it is
    /// killed on drop); `true` if it exited successfully.
    pub(crate) fn wait_success(&mut self, limit: Duration) -> Result<bool, CliError> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status.success());
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident set size so far (VmHWM), in KiB.
    pub(crate) fn peak_rss_kib(&self) -> Option<u64> {
        self.status_kib("VmHWM:")
    }

    /// Resident set size now (VmRSS), in KiB.
    pub(crate) fn rss_kib(&self) -> Option<u64> {
        self.status_kib("VmRSS:")
    }

    /// How many descriptors the child has open.
    pub(crate) fn open_fds(&self) -> Option<usize> {
        Some(std::fs::read_dir(format!("/proc/{}/fd", self.pid())).ok()?.count())
    }

    fn status_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// What the child last said on stderr, for error messages.
    pub(crate) fn last_stderr(&self) -> Option<String> {
        self.last_stderr.lock().ok().and_then(|l| l.clone())
    }
}

impl Drop for ChildProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

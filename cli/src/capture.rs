//! Captures: a framed conversation recorded as JSON Lines (`--record FILE`
//! on `relay`, `listen` and `send`), read back by `sockframe replay`.
//!
//! # Schema, version 1
//!
//! The first line is a header; every other line is one event, written as it
//! happens and flushed at once, so a crash loses at most the line in flight
//! (a truncated last line, which the reader reports and skips).
//!
//! ```text
//! {"sockframe_capture":1,"client_codec":"lines","server_codec":"len:u32be","tool":"relay"}
//! {"t":0.000102,"conn":1,"event":"open","peer":"127.0.0.1:50312"}
//! {"t":0.000391,"conn":1,"dir":"c2s","i":0,"len":5,"hex":"68656c6c6f"}
//! {"t":0.000877,"conn":1,"dir":"s2c","i":0,"len":5,"hex":"68656c6c6f"}
//! {"t":0.001020,"conn":1,"event":"close","dir":"c2s"}
//! ```
//!
//! * `t`: seconds since the capture started (microsecond resolution).
//! * `conn`: the connection (pair) it belongs to, from 1.
//! * `dir`: `c2s` (client to server) or `s2c` (server to client).
//! * `i`: the frame's index in its direction on its connection, from 0.
//! * `hex`: the payload, hex-encoded (binary payloads round-trip exactly);
//!   `len` is its length in bytes.
//! * `event`: `open` (with `peer`), `close` (the `dir` side finished
//!   sending: a half-close), `error` (with `reason`).
//!
//! The codecs are the spec strings of each side, so a capture says how to
//! put its frames back on the wire.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use sockframe::Codec;

use crate::io_format::hex;
use crate::CliError;

/// The schema version this build writes and reads.
pub(crate) const VERSION: u64 = 1;

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Dir {
    /// Client to server.
    C2s,
    /// Server to client.
    S2c,
}

impl Dir {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Dir::C2s => "c2s",
            Dir::S2c => "s2c",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Dir> {
        match s {
            "c2s" => Some(Dir::C2s),
            "s2c" => Some(Dir::S2c),
            _ => None,
        }
    }

    /// The arrow printed in logs.
    pub(crate) fn arrow(self) -> &'static str {
        match self {
            Dir::C2s => "->",
            Dir::S2c => "<-",
        }
    }
}

/// Writes a capture, one flushed line per event.
#[derive(Debug)]
pub(crate) struct Recorder {
    out: BufWriter<File>,
    start: Instant,
    /// Frames so far per (conn, dir), for `i`.
    counts: std::collections::HashMap<(u64, Dir), u64>,
}

impl Recorder {
    /// Creates (truncates) `path` and writes the header.
    pub(crate) fn create(path: &Path, client: &Codec, server: &Codec, tool: &str) -> Result<Self, CliError> {
        let file =
            File::create(path).map_err(|e| CliError::Runtime(format!("--record {}: {e}", path.display())))?;
        let mut rec =
            Recorder { out: BufWriter::new(file), start: Instant::now(), counts: Default::default() };
        let header = serde_json::json!({
            "sockframe_capture": VERSION,
            "client_codec": client.to_string(),
            "server_codec": server.to_string(),
            "tool": tool,
        });
        rec.line(&header)?;
        Ok(rec)
    }

    fn line(&mut self, v: &serde_json::Value) -> io::Result<()> {
        writeln!(self.out, "{v}")?;
        self.out.flush()
    }

    fn t(&self) -> f64 {
        (self.start.elapsed().as_micros() as f64) / 1e6
    }

    /// A frame that went `dir` on connection `conn`.
    pub(crate) fn frame(&mut self, conn: u64, dir: Dir, payload: &[u8]) -> io::Result<()> {
        let i = self.counts.entry((conn, dir)).or_insert(0);
        let index = *i;
        *i += 1;
        let v = serde_json::json!({
            "t": self.t(), "conn": conn, "dir": dir.as_str(), "i": index,
            "len": payload.len(), "hex": hex(payload),
        });
        self.line(&v)
    }

    /// A connection opened (`peer`: the client's address).
    pub(crate) fn open(&mut self, conn: u64, peer: &str) -> io::Result<()> {
        let v = serde_json::json!({"t": self.t(), "conn": conn, "event": "open", "peer": peer});
        self.line(&v)
    }

    /// The `dir` side of `conn` finished sending (a half-close).
    pub(crate) fn close(&mut self, conn: u64, dir: Dir) -> io::Result<()> {
        let v = serde_json::json!({"t": self.t(), "conn": conn, "event": "close", "dir": dir.as_str()});
        self.line(&v)
    }

    /// `conn` ended with an error.
    pub(crate) fn error(&mut self, conn: u64, reason: &str) -> io::Result<()> {
        let v = serde_json::json!({"t": self.t(), "conn": conn, "event": "error", "reason": reason});
        self.line(&v)
    }
}

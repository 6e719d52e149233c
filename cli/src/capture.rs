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

/// What happened, as one capture line records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// A frame that went `dir`; `index` is its `i`.
    Frame { dir: Dir, index: u64, payload: Vec<u8> },
    /// The connection opened; `peer` is the client's address.
    Open { peer: String },
    /// The `dir` side finished sending (a half-close).
    Close { dir: Dir },
    /// The connection ended with an error.
    Error { reason: String },
}

/// One event of a capture.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    /// Seconds since the capture started.
    pub(crate) t: f64,
    /// The connection it belongs to.
    pub(crate) conn: u64,
    /// Its line in the file (from 1; the header is line 1).
    pub(crate) line: usize,
    pub(crate) kind: EventKind,
}

/// A capture read back.
#[derive(Debug, Clone)]
pub(crate) struct Capture {
    pub(crate) client_codec: Codec,
    pub(crate) server_codec: Codec,
    /// The events, in file order.
    pub(crate) events: Vec<Event>,
    /// What the caller should print (without the `sockframe: ` prefix): a
    /// truncated last line that was skipped.
    pub(crate) warnings: Vec<String>,
}

impl Capture {
    /// Reads and checks the capture at `path`.
    pub(crate) fn read(path: &Path) -> Result<Capture, CliError> {
        let bytes =
            std::fs::read(path).map_err(|e| CliError::Runtime(format!("capture {}: {e}", path.display())))?;
        Capture::parse(&path.display().to_string(), &bytes)
    }

    /// Parses a capture's bytes; `name` names it in messages.
    pub(crate) fn parse(name: &str, bytes: &[u8]) -> Result<Capture, CliError> {
        let bad = |line: usize, what: String| CliError::Runtime(format!("{name} line {line}: {what}"));
        let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        // After a final `\n` split yields an empty piece: no line there.
        // Otherwise the last line was cut short (or the writer never ended it).
        let unterminated = match lines.last() {
            Some([]) => {
                lines.pop();
                false
            }
            _ => true,
        };
        let last = lines.len();
        let mut warnings = Vec::new();
        let mut values = Vec::with_capacity(lines.len());
        for (i, raw) in lines.iter().enumerate() {
            let n = i + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(u8::is_ascii_whitespace) && !(unterminated && n == last) {
                // A blank line carries nothing; tolerated.
                continue;
            }
            match serde_json::from_slice::<serde_json::Value>(raw) {
                Ok(v) => values.push((n, v)),
                Err(_) if unterminated && n == last && n > 1 => {
                    if !raw.iter().all(u8::is_ascii_whitespace) {
                        warnings.push(format!(
                            "{name} line {n}: truncated (the recording stopped mid-write); ignored"
                        ));
                    }
                }
                Err(e) if n == 1 && unterminated && last == 1 => {
                    return Err(bad(n, format!("truncated header, not a whole capture ({e})")))
                }
                Err(e) => return Err(bad(n, format!("bad JSON: {e}"))),
            }
        }
        let mut values = values.into_iter();
        let (client_codec, server_codec) = match values.next() {
            Some((1, header)) => parse_header(&header).map_err(|what| bad(1, what))?,
            _ => {
                return Err(CliError::Runtime(format!(
                    "{name}: not a sockframe capture (the first line is not a capture header)"
                )))
            }
        };
        let events = values
            .map(|(n, v)| {
                parse_event(&v).map(|(t, conn, kind)| Event { t, conn, line: n, kind }).map_err(|w| bad(n, w))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Capture { client_codec, server_codec, events, warnings })
    }

    /// The connections, in order of first appearance.
    pub(crate) fn conns(&self) -> Vec<u64> {
        let mut seen = std::collections::HashSet::new();
        self.events.iter().map(|e| e.conn).filter(|c| seen.insert(*c)).collect()
    }

    /// Each connection with its events in order; connections in order of
    /// first appearance.
    pub(crate) fn by_conn(&self) -> Vec<(u64, Vec<Event>)> {
        let mut slot = std::collections::HashMap::new();
        let mut out: Vec<(u64, Vec<Event>)> = Vec::new();
        for e in &self.events {
            let k = *slot.entry(e.conn).or_insert_with(|| {
                out.push((e.conn, Vec::new()));
                out.len() - 1
            });
            if let Some((_, events)) = out.get_mut(k) {
                events.push(e.clone());
            }
        }
        out
    }

    /// The time of the first event (the zero of `--timing original`).
    pub(crate) fn start(&self) -> f64 {
        self.events.iter().map(|e| e.t).reduce(f64::min).unwrap_or(0.0)
    }
}

type Object = serde_json::Map<String, serde_json::Value>;

fn field<'a>(obj: &'a Object, key: &str) -> Result<&'a serde_json::Value, String> {
    obj.get(key).ok_or_else(|| format!("missing field {key:?}"))
}

fn str_field<'a>(obj: &'a Object, key: &str) -> Result<&'a str, String> {
    field(obj, key)?.as_str().ok_or_else(|| format!("field {key:?} is not a string"))
}

fn u64_field(obj: &Object, key: &str) -> Result<u64, String> {
    field(obj, key)?.as_u64().ok_or_else(|| format!("field {key:?} is not a non-negative integer"))
}

fn dir_field(obj: &Object, key: &str) -> Result<Dir, String> {
    let s = str_field(obj, key)?;
    Dir::parse(s).ok_or_else(|| format!("unknown dir {s:?} (expected \"c2s\" or \"s2c\")"))
}

fn parse_header(v: &serde_json::Value) -> Result<(Codec, Codec), String> {
    let obj = v.as_object().ok_or("the header is not a JSON object")?;
    let version = obj
        .get("sockframe_capture")
        .ok_or("not a sockframe capture (no \"sockframe_capture\" in the header)")?;
    if version.as_u64() != Some(VERSION) {
        return Err(format!(
            "capture version {version} is not supported (this sockframe reads version {VERSION})"
        ));
    }
    let codec = |key: &str| -> Result<Codec, String> {
        let spec = str_field(obj, key)?;
        spec.parse().map_err(|e| format!("bad {key} {spec:?}: {e}"))
    };
    Ok((codec("client_codec")?, codec("server_codec")?))
}

fn parse_event(v: &serde_json::Value) -> Result<(f64, u64, EventKind), String> {
    let obj = v.as_object().ok_or("not a JSON object")?;
    let t = field(obj, "t")?
        .as_f64()
        .filter(|t| t.is_finite() && *t >= 0.0)
        .ok_or("field \"t\" is not a non-negative number")?;
    let conn = u64_field(obj, "conn")?;
    let kind = match obj.get("event") {
        None => {
            let dir = dir_field(obj, "dir")?;
            let index = u64_field(obj, "i")?;
            let len = u64_field(obj, "len")?;
            let payload = unhex_strict(str_field(obj, "hex")?)?;
            if payload.len() as u64 != len {
                return Err(format!("len {len} disagrees with hex ({} bytes)", payload.len()));
            }
            EventKind::Frame { dir, index, payload }
        }
        Some(event) => match event.as_str() {
            Some("open") => EventKind::Open { peer: str_field(obj, "peer")?.to_owned() },
            Some("close") => EventKind::Close { dir: dir_field(obj, "dir")? },
            Some("error") => EventKind::Error { reason: str_field(obj, "reason")?.to_owned() },
            _ => return Err(format!("unknown event {event} (expected \"open\", \"close\" or \"error\")")),
        },
    };
    Ok((t, conn, kind))
}

/// Lowercase or uppercase hex, no spaces.
fn unhex_strict(s: &str) -> Result<Vec<u8>, String> {
    let digit = |c: u8| char::from(c).to_digit(16);
    if s.len() % 2 != 0 {
        return Err("bad hex: odd number of digits".into());
    }
    s.as_bytes()
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| match (digit(pair[0]), digit(pair[1])) {
            (Some(hi), Some(lo)) => u8::try_from(hi * 16 + lo).map_err(|e| e.to_string()),
            _ => Err(format!("bad hex: {:?} at offset {}", String::from_utf8_lossy(pair), 2 * i)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        r#"{"sockframe_capture":1,"client_codec":"lines","server_codec":"len:u16le","tool":"test"}"#;

    fn parse(body: &str) -> Result<Capture, String> {
        Capture::parse("cap.jsonl", body.as_bytes()).map_err(|e| match e {
            CliError::Usage(m) | CliError::Runtime(m) => m,
        })
    }

    fn with_header(lines: &[&str]) -> String {
        let mut s = format!("{HEADER}\n");
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    #[test]
    fn reads_what_the_recorder_writes() {
        let path = std::env::temp_dir().join(format!("sockframe-capture-unit-{}.jsonl", std::process::id()));
        let client: Codec = "lines".parse().unwrap();
        let server: Codec = "varint".parse().unwrap();
        let mut rec = Recorder::create(&path, &client, &server, "test").unwrap();
        rec.open(1, "127.0.0.1:9").unwrap();
        rec.frame(1, Dir::C2s, b"\x00\xffhi").unwrap();
        rec.frame(2, Dir::C2s, b"").unwrap();
        rec.frame(1, Dir::S2c, b"ok").unwrap();
        rec.frame(1, Dir::C2s, b"again").unwrap();
        rec.close(1, Dir::C2s).unwrap();
        rec.error(2, "reset").unwrap();
        drop(rec);
        let cap = Capture::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(cap.client_codec.to_string(), "lines");
        assert_eq!(cap.server_codec.to_string(), "varint");
        assert!(cap.warnings.is_empty());
        let kinds: Vec<(u64, EventKind)> = cap.events.iter().map(|e| (e.conn, e.kind.clone())).collect();
        let frame = |dir, index, p: &[u8]| EventKind::Frame { dir, index, payload: p.to_vec() };
        assert_eq!(
            kinds,
            vec![
                (1, EventKind::Open { peer: "127.0.0.1:9".into() }),
                (1, frame(Dir::C2s, 0, b"\x00\xffhi")),
                (2, frame(Dir::C2s, 0, b"")),
                (1, frame(Dir::S2c, 0, b"ok")),
                (1, frame(Dir::C2s, 1, b"again")),
                (1, EventKind::Close { dir: Dir::C2s }),
                (2, EventKind::Error { reason: "reset".into() }),
            ]
        );
        assert_eq!(cap.events.iter().map(|e| e.line).collect::<Vec<_>>(), vec![2, 3, 4, 5, 6, 7, 8]);
        assert!(cap.events.windows(2).all(|w| w[0].t <= w[1].t));
        assert_eq!(cap.conns(), vec![1, 2]);
        let by_conn = cap.by_conn();
        assert_eq!(by_conn.iter().map(|(c, e)| (*c, e.len())).collect::<Vec<_>>(), vec![(1, 5), (2, 2)]);
        assert!(by_conn[1].1.iter().all(|e| e.conn == 2));
        assert_eq!(cap.start(), cap.events[0].t);
    }

    #[test]
    fn every_malformed_line_names_the_file_the_line_and_the_problem() {
        let frame = r#"{"t":0.1,"conn":1,"dir":"c2s","i":0,"len":2,"hex":"6869"}"#;
        let cases: &[(&str, &str)] = &[
            ("{not json", "bad JSON"),
            (r#"["t",1]"#, "not a JSON object"),
            (r#"{"conn":1,"dir":"c2s","i":0,"len":2,"hex":"6869"}"#, r#"missing field "t""#),
            (r#"{"t":-1,"conn":1,"dir":"c2s","i":0,"len":2,"hex":"6869"}"#, r#"field "t""#),
            (r#"{"t":"x","conn":1,"dir":"c2s","i":0,"len":2,"hex":"6869"}"#, r#"field "t""#),
            (r#"{"t":0.1,"dir":"c2s","i":0,"len":2,"hex":"6869"}"#, r#"missing field "conn""#),
            (r#"{"t":0.1,"conn":-2,"dir":"c2s","i":0,"len":2,"hex":"6869"}"#, r#"field "conn""#),
            (r#"{"t":0.1,"conn":1,"i":0,"len":2,"hex":"6869"}"#, r#"missing field "dir""#),
            (r#"{"t":0.1,"conn":1,"dir":"up","i":0,"len":2,"hex":"6869"}"#, r#"unknown dir "up""#),
            (r#"{"t":0.1,"conn":1,"dir":"c2s","len":2,"hex":"6869"}"#, r#"missing field "i""#),
            (r#"{"t":0.1,"conn":1,"dir":"c2s","i":0,"hex":"6869"}"#, r#"missing field "len""#),
            (r#"{"t":0.1,"conn":1,"dir":"c2s","i":0,"len":2}"#, r#"missing field "hex""#),
            (r#"{"t":0.1,"conn":1,"dir":"c2s","i":0,"len":2,"hex":7}"#, r#"field "hex" is not a string"#),
            (r#"{"t":0.1,"conn":1,"dir":"c2s","i":0,"len":2,"hex":"686"}"#, "bad hex: odd number"),
            (r#"{"t":0.1,"conn":1,"dir":"c2s","i":0,"len":2,"hex":"68zz"}"#, r#"bad hex: "zz" at offset 2"#),
            (
                r#"{"t":0.1,"conn":1,"dir":"c2s","i":0,"len":3,"hex":"6869"}"#,
                "len 3 disagrees with hex (2 bytes)",
            ),
            (r#"{"t":0.1,"conn":1,"event":"open"}"#, r#"missing field "peer""#),
            (r#"{"t":0.1,"conn":1,"event":"close"}"#, r#"missing field "dir""#),
            (r#"{"t":0.1,"conn":1,"event":"close","dir":"both"}"#, r#"unknown dir "both""#),
            (r#"{"t":0.1,"conn":1,"event":"error"}"#, r#"missing field "reason""#),
            (r#"{"t":0.1,"conn":1,"event":"reset"}"#, r#"unknown event "reset""#),
        ];
        for (line, want) in cases {
            // The bad line is line 3, after a good frame.
            let err = parse(&with_header(&[frame, line, frame])).unwrap_err();
            assert!(err.starts_with("cap.jsonl line 3: "), "{line}: {err}");
            assert!(err.contains(want), "{line}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            // Complete but wrong JSON on an unterminated last line is not a
            // truncation: still an error.
            if *want != "bad JSON" {
                let body = format!("{HEADER}\n{frame}\n{line}");
                let err = parse(&body).unwrap_err();
                assert!(err.contains("line 3: ") && err.contains(want), "{line}: {err}");
            }
        }
    }

    #[test]
    fn a_truncated_last_line_is_a_warning_and_the_rest_is_kept() {
        let full = r#"{"t":0.2,"conn":1,"dir":"s2c","i":0,"len":2,"hex":"6869"}"#;
        let good = with_header(&[r#"{"t":0.1,"conn":1,"dir":"c2s","i":0,"len":2,"hex":"6869"}"#]);
        for cut in [1, 10, 30, full.len() - 1] {
            let body = format!("{good}{}", &full[..cut]);
            let cap = parse(&body).unwrap();
            assert_eq!(cap.events.len(), 1, "cut at {cut}");
            assert_eq!(
                cap.warnings,
                vec!["cap.jsonl line 3: truncated (the recording stopped mid-write); ignored".to_string()]
            );
        }
        // Cut just before its newline: the line is whole.
        let cap = parse(&format!("{good}{full}")).unwrap();
        assert_eq!(cap.events.len(), 2);
        assert!(cap.warnings.is_empty());
        // The same broken line with a newline after it is an error.
        let err = parse(&format!("{good}{}\n", &full[..10])).unwrap_err();
        assert!(err.contains("line 3: bad JSON"), "{err}");
        // A broken line that is not the last one is an error.
        let err = parse(&format!("{good}{}\n{full}", &full[..10])).unwrap_err();
        assert!(err.contains("line 3: bad JSON"), "{err}");
    }

    #[test]
    fn the_header_is_checked() {
        let err = parse(&HEADER.replace("\"sockframe_capture\":1", "\"sockframe_capture\":2")).unwrap_err();
        assert!(err.contains("line 1: capture version 2 is not supported"), "{err}");
        assert!(err.contains("reads version 1"), "{err}");
        let err = parse("{\"sockframe_capture\":\"1\",\"client_codec\":\"len\",\"server_codec\":\"len\"}\n")
            .unwrap_err();
        assert!(err.contains("version \"1\" is not supported"), "{err}");
        let err = parse("{\"t\":0.1,\"conn\":1,\"event\":\"open\",\"peer\":\"x\"}\n").unwrap_err();
        assert!(err.contains("line 1: not a sockframe capture"), "{err}");
        let err = parse(&HEADER.replace("\"lines\"", "\"json\"")).unwrap_err();
        assert!(err.contains("line 1: bad client_codec \"json\""), "{err}");
        let err = parse(&HEADER.replace("\"server_codec\"", "\"codec\"")).unwrap_err();
        assert!(err.contains(r#"line 1: missing field "server_codec""#), "{err}");
        let err = parse("").unwrap_err();
        assert!(err.contains("cap.jsonl: not a sockframe capture"), "{err}");
        let err = parse(&HEADER[..20]).unwrap_err();
        assert!(err.contains("line 1: truncated header"), "{err}");
        let err = parse("[1]\n").unwrap_err();
        assert!(err.contains("line 1: the header is not a JSON object"), "{err}");
        // A header alone is a capture with no events; blank lines are skipped.
        let cap = parse(&format!("{HEADER}\n\n\r\n")).unwrap();
        assert!(cap.events.is_empty() && cap.warnings.is_empty());
        assert_eq!(cap.server_codec.to_string(), "len:u16le");
    }
}

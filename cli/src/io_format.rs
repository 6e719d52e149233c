//! How frames are printed and how payloads are read from stdin.

use std::io::{self, Write};

use clap::ValueEnum;

/// How a frame is printed: one line per frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// The payload as text (invalid UTF-8 shown as U+FFFD).
    Text,
    /// The payload as lowercase hex.
    Hex,
    /// A JSON object: connection, peer, length, text (or null), hex.
    Json,
}

/// How stdin holds payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum InputFormat {
    /// Each line is a payload (without its `\n` or `\r\n`).
    Lines,
    /// Each non-empty line is a hex-encoded payload (spaces allowed).
    Hex,
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

fn unhex(line: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = line.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).map_err(|_| "not hex".to_string())?;
            u8::from_str_radix(s, 16).map_err(|_| format!("invalid hex {s:?}"))
        })
        .collect()
}

/// Splits stdin into payloads.
pub(crate) fn parse_input(input: &[u8], format: InputFormat) -> Result<Vec<Vec<u8>>, String> {
    let mut lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    // A final newline ends the last line rather than starting an empty one.
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let strip_cr = |l: &[u8]| l.strip_suffix(b"\r").unwrap_or(l).to_vec();
    match format {
        InputFormat::Lines => Ok(lines.into_iter().map(strip_cr).collect()),
        InputFormat::Hex => lines
            .into_iter()
            .enumerate()
            .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
            .map(|(i, l)| {
                let text = std::str::from_utf8(l).map_err(|_| format!("stdin line {}: not hex", i + 1))?;
                unhex(text).map_err(|e| format!("stdin line {}: {e}", i + 1))
            })
            .collect(),
    }
}

/// Prints one frame; `conn` (id, peer) appears in JSON output.
pub(crate) fn print_frame(
    out: &mut impl Write,
    format: Format,
    payload: &[u8],
    conn: Option<(u64, &str)>,
) -> io::Result<()> {
    match format {
        Format::Text => {
            out.write_all(String::from_utf8_lossy(payload).as_bytes())?;
            out.write_all(b"\n")
        }
        Format::Hex => writeln!(out, "{}", hex(payload)),
        Format::Json => {
            let mut obj = serde_json::json!({
                "len": payload.len(),
                "text": std::str::from_utf8(payload).ok(),
                "hex": hex(payload),
            });
            if let Some((id, peer)) = conn {
                obj["conn"] = id.into();
                obj["peer"] = peer.into();
            }
            writeln!(out, "{obj}")
        }
    }
}

/// Prints a relayed frame: time since start, connection, direction
/// (`c2s` client to server, `s2c` server to client), index of the frame in
/// that direction, length, payload.
pub(crate) fn print_relayed(
    out: &mut impl Write,
    format: Format,
    t: f64,
    conn: u64,
    dir: &str,
    index: u64,
    payload: &[u8],
) -> io::Result<()> {
    match format {
        Format::Text => {
            write!(out, "{t:.6} #{conn} {dir} {index} {}: ", payload.len())?;
            out.write_all(String::from_utf8_lossy(payload).as_bytes())?;
            out.write_all(b"\n")
        }
        Format::Hex => writeln!(out, "{t:.6} #{conn} {dir} {index} {}: {}", payload.len(), hex(payload)),
        Format::Json => {
            let obj = serde_json::json!({
                "t": t,
                "conn": conn,
                "dir": dir,
                "i": index,
                "len": payload.len(),
                "text": std::str::from_utf8(payload).ok(),
                "hex": hex(payload),
            });
            writeln!(out, "{obj}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex(b"\x00\xffA"), "00ff41");
        assert_eq!(unhex("00 ff41"), Ok(vec![0, 255, 0x41]));
        assert!(unhex("0").is_err());
        assert!(unhex("zz").is_err());
    }

    #[test]
    fn input_lines_and_hex() {
        assert_eq!(
            parse_input(b"a\r\nb\n\nc", InputFormat::Lines).unwrap(),
            vec![b"a".to_vec(), b"b".to_vec(), vec![], b"c".to_vec()]
        );
        assert_eq!(parse_input(b"6869\n\n00\n", InputFormat::Hex).unwrap(), vec![b"hi".to_vec(), vec![0]]);
        assert_eq!(
            parse_input(b"6869\nxyz\n", InputFormat::Hex).unwrap_err(),
            "stdin line 2: odd number of hex digits"
        );
    }

    #[test]
    fn json_has_text_or_null() {
        let mut out = Vec::new();
        print_frame(&mut out, Format::Json, b"hi", Some((3, "127.0.0.1:9"))).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["text"], "hi");
        assert_eq!(v["conn"], 3);
        let mut out = Vec::new();
        print_frame(&mut out, Format::Json, b"\xff", None).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert!(v["text"].is_null());
        assert_eq!(v["hex"], "ff");
    }
}

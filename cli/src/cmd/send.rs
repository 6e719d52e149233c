//! `sockframe send`: connect, send each message as a frame, print replies.

use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

use clap::Args;
use sockframe::{Framed, FramedConfig};

use crate::addr::{Addr, Stream};
use crate::capture::{Dir, Recorder};
use crate::error::seconds;
use crate::io_format::{self, Format, InputFormat};
use crate::{CliError, CodecArgs};

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// HOST:PORT, [::1]:PORT or unix:PATH.
    pub(crate) addr: Addr,
    /// Messages to send, one frame each.
    pub(crate) msgs: Vec<String>,
    #[command(flatten)]
    pub(crate) codec: CodecArgs,
    /// Also send each line of stdin as a frame (hex: each line hex-decoded).
    #[arg(long, value_enum, value_name = "lines|hex")]
    pub(crate) input: Option<InputFormat>,
    /// Wait for N frames back and print them.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) replies: u64,
    /// How to print replies.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
    /// Seconds to wait for connecting, writing, and each reply.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub(crate) timeout: f64,
    /// Record the conversation to FILE (a capture; see `sockframe replay`).
    #[arg(long, value_name = "FILE")]
    pub(crate) record: Option<PathBuf>,
}

/// The optional capture of a `send`: connection 1.
struct Record(Option<(Recorder, PathBuf)>);

impl Record {
    fn note(&mut self, f: impl FnOnce(&mut Recorder) -> io::Result<()>) -> Result<(), CliError> {
        match &mut self.0 {
            Some((rec, path)) => {
                f(rec).map_err(|e| CliError::Runtime(format!("--record {}: {e}", path.display())))
            }
            None => Ok(()),
        }
    }
}

pub(crate) fn run(mut args: SendArgs) -> Result<(), CliError> {
    let codec = args.codec.codec()?;
    let timeout = seconds(args.timeout, "--timeout")?;
    let mut payloads: Vec<Vec<u8>> =
        std::mem::take(&mut args.msgs).into_iter().map(String::into_bytes).collect();
    if let Some(input) = args.input {
        let mut stdin = Vec::new();
        io::stdin().lock().read_to_end(&mut stdin)?;
        payloads.extend(io_format::parse_input(&stdin, input).map_err(CliError::Runtime)?);
    }
    let mut record = Record(match &args.record {
        Some(path) => Some((Recorder::create(path, &codec, &codec, "send")?, path.clone())),
        None => None,
    });
    let stream = args.addr.connect(timeout)?;
    record.note(|r| r.open(1, &args.addr.to_string()))?;
    let result = exchange(stream, codec, timeout, &payloads, &args, &mut record);
    if let Err(CliError::Runtime(reason) | CliError::Usage(reason)) = &result {
        // The capture says how the conversation ended; the error itself is
        // what the caller reports.
        let _ = record.note(|r| r.error(1, reason));
    }
    result
}

fn exchange(
    stream: Stream,
    codec: sockframe::Codec,
    timeout: std::time::Duration,
    payloads: &[Vec<u8>],
    args: &SendArgs,
    record: &mut Record,
) -> Result<(), CliError> {
    stream.set_timeouts(Some(timeout))?;
    let config = FramedConfig::new()
        .frame_deadline(timeout)
        .idle_timeout(timeout)
        .build()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let mut framed =
        Framed::with_config(stream, codec, config).map_err(|e| CliError::Usage(e.to_string()))?;
    for p in payloads {
        framed.send(p)?;
        record.note(|r| r.frame(1, Dir::C2s, p))?;
    }
    framed.flush()?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for got in 0..args.replies {
        match framed.recv()? {
            Some(frame) => {
                record.note(|r| r.frame(1, Dir::S2c, &frame))?;
                io_format::print_frame(&mut out, args.format, &frame, None)?;
                out.flush()?;
            }
            None => {
                return Err(CliError::Runtime(format!(
                    "connection closed after {got} of {} replies",
                    args.replies
                )))
            }
        }
    }
    // A clean end: our side is done sending.
    framed.close_write()?;
    record.note(|r| r.close(1, Dir::C2s))?;
    Ok(())
}

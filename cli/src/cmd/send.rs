//! `sockframe send`: connect, send each message as a frame, print replies.

use std::io::{self, BufWriter, Read, Write};

use clap::Args;
use sockframe::{Framed, FramedConfig};

use crate::addr::Addr;
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
}

pub(crate) fn run(args: SendArgs) -> Result<(), CliError> {
    let codec = args.codec.codec()?;
    let timeout = seconds(args.timeout, "--timeout")?;
    let mut payloads: Vec<Vec<u8>> = args.msgs.into_iter().map(String::into_bytes).collect();
    if let Some(input) = args.input {
        let mut stdin = Vec::new();
        io::stdin().lock().read_to_end(&mut stdin)?;
        payloads.extend(io_format::parse_input(&stdin, input).map_err(CliError::Runtime)?);
    }
    let stream = args.addr.connect(timeout)?;
    stream.set_timeouts(Some(timeout))?;
    let config = FramedConfig::new()
        .frame_deadline(timeout)
        .idle_timeout(timeout)
        .build()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let mut framed =
        Framed::with_config(stream, codec, config).map_err(|e| CliError::Usage(e.to_string()))?;
    for p in &payloads {
        framed.send(p)?;
    }
    framed.flush()?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for got in 0..args.replies {
        match framed.recv()? {
            Some(frame) => {
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
    Ok(())
}

//! `sockframe encode`: payloads from stdin, framed, to stdout.

use std::io::{self, BufWriter, Read, Write};

use clap::Args;
use sockframe::Encoder;

use crate::io_format::{self, InputFormat};
use crate::{CliError, CodecArgs};

#[derive(Debug, Args)]
pub(crate) struct EncodeArgs {
    #[command(flatten)]
    pub(crate) codec: CodecArgs,
    /// How stdin holds payloads: one per line, or one hex-encoded per line.
    #[arg(long, value_enum, default_value_t = InputFormat::Lines)]
    pub(crate) input: InputFormat,
}

pub(crate) fn run(args: EncodeArgs) -> Result<(), CliError> {
    let mut codec = args.codec.codec()?;
    let mut input = Vec::new();
    io::stdin().lock().read_to_end(&mut input)?;
    let payloads = io_format::parse_input(&input, args.input).map_err(CliError::Runtime)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut buf = bytes::BytesMut::new();
    for (i, p) in payloads.iter().enumerate() {
        codec.encode(p, &mut buf).map_err(|e| CliError::Runtime(format!("payload {}: {e}", i + 1)))?;
        if buf.len() >= 64 * 1024 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()?;
    Ok(())
}

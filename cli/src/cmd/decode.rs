//! `sockframe decode`: a framed byte stream from stdin, one frame per line.

use std::io::{self, BufWriter, Write};
use std::time::Duration;

use clap::Args;
use sockframe::{FramedConfig, FramedRead};

use super::skiplog;
use crate::io_format::{self, Format};
use crate::{CliError, CodecArgs};

#[derive(Debug, Args)]
pub(crate) struct DecodeArgs {
    #[command(flatten)]
    pub(crate) codec: CodecArgs,
    /// How to print frames.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

/// Decodes stdin through the library's read half, in memory bounded by one
/// frame plus one read; prints every complete frame before reporting an
/// error. In skip mode (`,discard`) each skipped region is one stderr line
/// and the exit status stays 0.
pub(crate) fn run(args: DecodeArgs) -> Result<(), CliError> {
    let codec = args.codec.codec()?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    // Reading a pipe or file has no deadlines.
    let forever = Duration::from_secs(u64::MAX / 4);
    let config = FramedConfig::new().frame_deadline(forever).idle_timeout(forever);
    let mut frames = FramedRead::with_config(io::stdin().lock(), skiplog::SkipLog::new(codec), config)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let mut count = 0u64;
    loop {
        let got = frames.recv_with(|payload| io_format::print_frame(&mut out, args.format, payload, None));
        // A frame (or the end) follows every region noted here: each is whole.
        for region in frames.codec_mut().take() {
            eprintln!("sockframe: skipped {} after frame {count}", region.describe());
        }
        match got {
            Ok(Some(printed)) => {
                printed?;
                count += 1;
            }
            Ok(None) => break,
            Err(e) => {
                let _ = out.flush();
                return Err(CliError::Runtime(format!("decode error after {count} frames: {e}")));
            }
        }
    }
    out.flush()?;
    Ok(())
}

//! `sockframe`: a netcat for framed protocols.
//!
//! Exit status: 0 on success, 1 for runtime errors (refused connection,
//! decode error, timeout), 2 for usage errors.
#![forbid(unsafe_code)]

mod addr;
mod capture;
mod cmd;
mod error;
mod event_loop;
mod io_format;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use sockframe::Codec;

pub(crate) use crate::error::CliError;

/// A netcat for framed protocols: send, receive, encode and decode frames in
/// any framing sockframe speaks.
#[derive(Debug, Parser)]
#[command(name = "sockframe", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The classic hello exchange over framed TCP on an ephemeral loopback
    /// port, blocking, then non-blocking.
    Demo,
    /// Serve any number of clients from one non-blocking event loop and print
    /// every frame received.
    Listen(cmd::listen::ListenArgs),
    /// Sit between clients and a server: forward, print and record every
    /// frame both ways, re-framing if the two sides speak different framings.
    Relay(cmd::relay::RelayArgs),
    /// Connect, send each MSG as a frame, and optionally wait for replies.
    Send(cmd::send::SendArgs),
    /// Read payloads from stdin and write them framed to stdout.
    Encode(cmd::encode::EncodeArgs),
    /// Read a framed byte stream from stdin and print its frames.
    Decode(cmd::decode::DecodeArgs),
    /// Loopback throughput and round-trip latency, beside raw std::net.
    Bench(cmd::bench::BenchArgs),
    /// Play a capture back: as its client(s) against a server, comparing
    /// every reply; as its server (--serve); or as wire bytes (--wire).
    Replay(cmd::replay::ReplayArgs),
}

/// The framing options every command shares.
#[derive(Debug, Clone, Args)]
pub(crate) struct CodecArgs {
    /// Framing: len (= len:u32be), len:u8, len:u16le, len:u24be, len:u64be, ...,
    /// varint, lines, delim:HEX, netstring, cobs, raw, fixed:N; optionally
    /// ",max=BYTES".
    #[arg(long, short = 'c', default_value = "len", value_name = "SPEC")]
    codec: Codec,
    /// Largest frame accepted or sent, in bytes (overrides the spec's max).
    #[arg(long, value_name = "BYTES")]
    max_frame: Option<usize>,
}

impl CodecArgs {
    pub(crate) fn codec(&self) -> Result<Codec, CliError> {
        match self.max_frame {
            Some(max) => {
                self.codec.clone().with_max_frame_length(max).map_err(|e| CliError::Usage(e.to_string()))
            }
            None => Ok(self.codec.clone()),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: stdout, status 0.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("sockframe: {}", one_line(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Usage(msg)) => {
            eprintln!("sockframe: {msg}");
            ExitCode::from(2)
        }
        Err(CliError::Runtime(msg)) => {
            eprintln!("sockframe: {msg}");
            ExitCode::from(1)
        }
    }
}

/// clap's message up to its usage section, on one line: errors are one line
/// on stderr.
fn one_line(rendered: &str) -> String {
    let text = rendered.trim_start().strip_prefix("error: ").unwrap_or(rendered);
    let head = text.split("\n\n").next().unwrap_or(text);
    let mut line = head.split_whitespace().collect::<Vec<_>>().join(" ");
    line.push_str(" (see --help)");
    line
}

fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Demo => cmd::demo::run(),
        Command::Listen(args) => cmd::listen::run(args),
        Command::Relay(args) => cmd::relay::run(args),
        Command::Send(args) => cmd::send::run(args),
        Command::Encode(args) => cmd::encode::run(args),
        Command::Decode(args) => cmd::decode::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Replay(args) => cmd::replay::run(args),
    }
}

//! `sockframe`: a netcat for framed protocols.
//!
//! Exit status: 0 on success, 1 for runtime errors (refused connection,
//! decode error, timeout), 2 for usage errors.
#![forbid(unsafe_code)]

mod addr;
mod bench;
mod demo;
mod io_format;
mod server;
mod skiplog;

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use sockframe::{Codec, Encoder, Framed, FramedConfig, FramedRead, TransportError};

use crate::addr::Addr;
use crate::io_format::{Format, InputFormat};

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
    Listen(ListenArgs),
    /// Connect, send each MSG as a frame, and optionally wait for replies.
    Send(SendArgs),
    /// Read payloads from stdin and write them framed to stdout.
    Encode(EncodeArgs),
    /// Read a framed byte stream from stdin and print its frames.
    Decode(DecodeArgs),
    /// Loopback throughput and round-trip latency, beside raw std::net.
    Bench(bench::BenchArgs),
}

/// The framing options every command shares.
#[derive(Debug, Clone, Args)]
struct CodecArgs {
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
    fn codec(&self) -> Result<Codec, CliError> {
        match self.max_frame {
            Some(max) => {
                self.codec.clone().with_max_frame_length(max).map_err(|e| CliError::Usage(e.to_string()))
            }
            None => Ok(self.codec.clone()),
        }
    }
}

#[derive(Debug, Args)]
struct ListenArgs {
    /// HOST:PORT, [::1]:PORT or unix:PATH.
    addr: Addr,
    #[command(flatten)]
    codec: CodecArgs,
    /// How to print received frames.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Send every frame back to its sender.
    #[arg(long)]
    echo: bool,
    /// Answer every frame with TEXT.
    #[arg(long, value_name = "TEXT")]
    reply: Option<String>,
    /// Exit after N frames in total (once their replies are out).
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Seconds a frame may take to arrive once its first byte has.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    frame_timeout: f64,
    /// Seconds a connection may stay silent between frames.
    #[arg(long, value_name = "SECS", default_value_t = 300.0)]
    idle_timeout: f64,
    /// Most concurrent connections; further ones are closed at once.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_clients: usize,
    /// Print nothing for received frames (replies still go out).
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Debug, Args)]
struct SendArgs {
    /// HOST:PORT, [::1]:PORT or unix:PATH.
    addr: Addr,
    /// Messages to send, one frame each.
    msgs: Vec<String>,
    #[command(flatten)]
    codec: CodecArgs,
    /// Also send each line of stdin as a frame (hex: each line hex-decoded).
    #[arg(long, value_enum, value_name = "lines|hex")]
    input: Option<InputFormat>,
    /// Wait for N frames back and print them.
    #[arg(long, value_name = "N", default_value_t = 0)]
    replies: u64,
    /// How to print replies.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Seconds to wait for connecting, writing, and each reply.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    timeout: f64,
}

#[derive(Debug, Args)]
struct EncodeArgs {
    #[command(flatten)]
    codec: CodecArgs,
    /// How stdin holds payloads: one per line, or one hex-encoded per line.
    #[arg(long, value_enum, default_value_t = InputFormat::Lines)]
    input: InputFormat,
}

#[derive(Debug, Args)]
struct DecodeArgs {
    #[command(flatten)]
    codec: CodecArgs,
    /// How to print frames.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// What ends a command unsuccessfully.
#[derive(Debug)]
enum CliError {
    /// Bad arguments: exit status 2.
    Usage(String),
    /// Anything at run time: exit status 1.
    Runtime(String),
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Runtime(e.to_string())
    }
}

impl From<TransportError> for CliError {
    fn from(e: TransportError) -> Self {
        CliError::Runtime(e.to_string())
    }
}

fn seconds(secs: f64, what: &str) -> Result<Duration, CliError> {
    Duration::try_from_secs_f64(secs)
        .map_err(|_| CliError::Usage(format!("{what} must be a positive number of seconds")))
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
        Command::Demo => demo::run(),
        Command::Listen(args) => {
            let opts = server::Options {
                codec: args.codec.codec()?,
                format: args.format,
                echo: args.echo,
                reply: args.reply.map(String::into_bytes),
                count: args.count,
                frame_timeout: seconds(args.frame_timeout, "--frame-timeout")?,
                idle_timeout: seconds(args.idle_timeout, "--idle-timeout")?,
                max_clients: args.max_clients,
                quiet: args.quiet,
            };
            server::run(&args.addr, &opts)
        }
        Command::Send(args) => send(args),
        Command::Encode(args) => encode(args),
        Command::Decode(args) => decode(args),
        Command::Bench(args) => bench::run(args),
    }
}

fn send(args: SendArgs) -> Result<(), CliError> {
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

fn encode(args: EncodeArgs) -> Result<(), CliError> {
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

/// Decodes stdin through the library's read half, in memory bounded by one
/// frame plus one read; prints every complete frame before reporting an
/// error. In skip mode (`,discard`) each skipped region is one stderr line
/// and the exit status stays 0.
fn decode(args: DecodeArgs) -> Result<(), CliError> {
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

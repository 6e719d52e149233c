//! `sockframe listen`: serve any number of clients from the event loop and
//! print every frame.

use clap::Args;

use crate::addr::Addr;
use crate::error::seconds;
use crate::event_loop::{self, Options};
use crate::io_format::Format;
use crate::{CliError, CodecArgs};

#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    /// HOST:PORT, [::1]:PORT or unix:PATH.
    pub(crate) addr: Addr,
    #[command(flatten)]
    pub(crate) codec: CodecArgs,
    /// How to print received frames.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
    /// Send every frame back to its sender.
    #[arg(long)]
    pub(crate) echo: bool,
    /// Answer every frame with TEXT.
    #[arg(long, value_name = "TEXT")]
    pub(crate) reply: Option<String>,
    /// Exit after N frames in total (once their replies are out).
    #[arg(long, value_name = "N")]
    pub(crate) count: Option<u64>,
    /// Seconds a frame may take to arrive once its first byte has.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub(crate) frame_timeout: f64,
    /// Seconds a connection may stay silent between frames.
    #[arg(long, value_name = "SECS", default_value_t = 300.0)]
    pub(crate) idle_timeout: f64,
    /// Most concurrent connections; further ones are closed at once.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub(crate) max_clients: usize,
    /// Print nothing for received frames (replies still go out).
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    /// Record every frame and reply to FILE (a capture for `sockframe replay`).
    #[arg(long, value_name = "FILE")]
    pub(crate) record: Option<std::path::PathBuf>,
}

pub(crate) fn run(args: ListenArgs) -> Result<(), CliError> {
    let opts = Options {
        codec: args.codec.codec()?,
        format: args.format,
        echo: args.echo,
        reply: args.reply.map(String::into_bytes),
        count: args.count,
        frame_timeout: seconds(args.frame_timeout, "--frame-timeout")?,
        idle_timeout: seconds(args.idle_timeout, "--idle-timeout")?,
        max_clients: args.max_clients,
        quiet: args.quiet,
        record: args.record,
    };
    event_loop::run(&args.addr, &opts)
}

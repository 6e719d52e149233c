//! `sockframe demo`: the seed's hello exchange, done right, over framed TCP on
//! an ephemeral loopback port: first with blocking sockets, then with
//! non-blocking sockets that wait for readiness (mio) instead of printing an
//! empty line on EAGAIN.
//!
//! The exchange is the examples' own code (`examples/common/hello.rs`, the
//! same module `hello_server` and `hello_client` run). Both ends run here in
//! one thread, one step at a time in wire order, so the four lines come out
//! in the order they happen on the wire: the client's hello fits in the
//! socket buffers, so the client can send it before the server accepts.

#[path = "../../../examples/common/hello.rs"]
mod hello;

use std::io::{self, Write};
use std::net::TcpListener;

use crate::CliError;

/// Prints what one end of the exchange writes, each line tagged `[who] `.
struct Tagged {
    who: &'static str,
    line_start: bool,
}

impl Tagged {
    fn new(who: &'static str) -> Self {
        Tagged { who, line_start: true }
    }
}

impl Write for Tagged {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut out = io::stdout().lock();
        for piece in buf.split_inclusive(|&b| b == b'\n') {
            if self.line_start {
                write!(out, "[{}] ", self.who)?;
            }
            out.write_all(piece)?;
            self.line_start = piece.ends_with(b"\n");
        }
        out.flush()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
}

pub(crate) fn run() -> Result<(), CliError> {
    exchange(false, "blocking sockets")?;
    exchange(true, "non-blocking sockets (mio)")?;
    Ok(())
}

fn exchange(nonblocking: bool, title: &str) -> Result<(), CliError> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    println!("== {title}, length-prefixed frames, {addr} ==");
    steps(&listener, nonblocking).map_err(|e| CliError::Runtime(format!("demo ({title}): {e}")))
}

/// Client hello, server hello, server reply, client reply.
fn steps(listener: &TcpListener, nonblocking: bool) -> hello::Res<()> {
    let (mut client_out, mut server_out) = (Tagged::new("client"), Tagged::new("server"));
    let mut client = hello::Client::connect(listener.local_addr()?, nonblocking)?;
    client.say_hello(&mut client_out)?;
    let (stream, _) = listener.accept()?;
    let mut server = hello::Server::new(stream, nonblocking)?;
    server.read_hello(&mut server_out)?;
    server.reply(&mut server_out)?;
    client.read_reply(&mut client_out)
}

//! The seed's hello exchange over sockframe's default framing (u32 BE length
//! prefix), blocking and non-blocking. Shared by `hello_server`,
//! `hello_client` and `tests/hello.rs` (included with `#[path]`).
#![allow(dead_code)]

use std::error::Error;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};
use sockframe::{net, Framed, LengthCodec, Recv};

pub type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

pub const CLIENT_HELLO: &[u8] = b"Hello from client";
pub const SERVER_HELLO: &[u8] = b"Hello from server";
/// Nothing in the exchange may take longer than this.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Command line flags shared by both programs.
#[derive(Debug, Clone, Copy)]
pub struct Args {
    pub port: u16,
    pub nonblocking: bool,
    pub forever: bool,
}

pub fn parse_args() -> Res<Args> {
    let mut args = Args { port: 12345, nonblocking: false, forever: false };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--port" => args.port = it.next().ok_or("--port needs a value")?.parse()?,
            "--nonblocking" => args.nonblocking = true,
            "--forever" => args.forever = true,
            "-h" | "--help" => {
                println!("flags: --port N (default 12345), --nonblocking, --forever (server only)");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    Ok(args)
}

fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// Blocking server side of one exchange.
pub fn serve_blocking(stream: TcpStream, out: &mut dyn Write) -> Res<()> {
    stream.set_nodelay(true)?;
    net::set_timeouts(&stream, Some(TIMEOUT), Some(TIMEOUT))?;
    let mut framed = Framed::new(stream, LengthCodec::new());
    let msg = framed.recv()?.ok_or("client closed before saying hello")?;
    writeln!(out, "{}", text(&msg))?;
    framed.send(SERVER_HELLO)?;
    framed.flush()?;
    writeln!(out, "Hello message sent to client")?;
    Ok(())
}

/// Blocking client side of the exchange.
pub fn client_blocking(addr: SocketAddr, out: &mut dyn Write) -> Res<()> {
    let stream = net::tcp_connect_timeout(&addr, TIMEOUT)?;
    net::set_timeouts(&stream, Some(TIMEOUT), Some(TIMEOUT))?;
    let mut framed = Framed::new(stream, LengthCodec::new());
    framed.send(CLIENT_HELLO)?;
    framed.flush()?;
    writeln!(out, "Hello message sent to server")?;
    let reply = framed.recv()?.ok_or("server closed without a reply")?;
    writeln!(out, "{}", text(&reply))?;
    Ok(())
}

/// Waits for readiness with a bounded wait; never spins: `poll` sleeps in
/// the kernel until the socket is ready.
fn wait(poll: &mut Poll, events: &mut Events, deadline: Instant) -> Res<()> {
    let left = deadline.checked_duration_since(Instant::now()).ok_or("timed out")?;
    poll.poll(events, Some(left))?;
    if events.is_empty() {
        return Err("timed out waiting for the peer".into());
    }
    Ok(())
}

/// Drives `framed` until `frame` is fully written, then until one frame
/// arrives, waiting for readiness instead of retrying (the seed's version
/// printed an empty line when its single non-blocking `recv` hit EAGAIN).
fn exchange_nonblocking(
    framed: &mut Framed<mio::net::TcpStream, LengthCodec>,
    poll: &mut Poll,
    send_first: Option<&[u8]>,
) -> Res<Option<Vec<u8>>> {
    let mut events = Events::with_capacity(4);
    let deadline = Instant::now() + TIMEOUT;
    if let Some(frame) = send_first {
        framed.queue(frame)?;
        while !framed.try_flush()? {
            wait(poll, &mut events, deadline)?;
        }
        return Ok(None);
    }
    loop {
        match framed.try_recv_with(|p| p.to_vec())? {
            Recv::Frame(f) => return Ok(Some(f)),
            Recv::End => return Err("peer closed before sending a frame".into()),
            Recv::WouldBlock => wait(poll, &mut events, deadline)?,
        }
    }
}

fn nonblocking_framed(stream: TcpStream, poll: &Poll) -> Res<Framed<mio::net::TcpStream, LengthCodec>> {
    stream.set_nodelay(true)?;
    stream.set_nonblocking(true)?;
    let mut framed = Framed::new(mio::net::TcpStream::from_std(stream), LengthCodec::new());
    poll.registry().register(framed.get_mut(), Token(0), Interest::READABLE | Interest::WRITABLE)?;
    Ok(framed)
}

/// Non-blocking server side of one exchange.
pub fn serve_nonblocking(stream: TcpStream, out: &mut dyn Write) -> Res<()> {
    let mut poll = Poll::new()?;
    let mut framed = nonblocking_framed(stream, &poll)?;
    let msg = exchange_nonblocking(&mut framed, &mut poll, None)?.ok_or("no message")?;
    writeln!(out, "{}", text(&msg))?;
    exchange_nonblocking(&mut framed, &mut poll, Some(SERVER_HELLO))?;
    writeln!(out, "Hello message sent to client")?;
    Ok(())
}

/// Non-blocking client side of the exchange.
pub fn client_nonblocking(addr: SocketAddr, out: &mut dyn Write) -> Res<()> {
    let mut poll = Poll::new()?;
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    let mut framed = nonblocking_framed(stream, &poll)?;
    exchange_nonblocking(&mut framed, &mut poll, Some(CLIENT_HELLO))?;
    writeln!(out, "Hello message sent to server")?;
    let reply = exchange_nonblocking(&mut framed, &mut poll, None)?.ok_or("no reply")?;
    writeln!(out, "{}", text(&reply))?;
    Ok(())
}

/// Serves one client (or every client, with `forever`) on `listener`.
pub fn serve(listener: &TcpListener, nonblocking: bool, forever: bool, out: &mut dyn Write) -> Res<()> {
    loop {
        let (stream, _) = listener.accept()?;
        let result = if nonblocking { serve_nonblocking(stream, out) } else { serve_blocking(stream, out) };
        match result {
            Ok(()) => {}
            Err(e) if forever => eprintln!("client failed: {e}"),
            Err(e) => return Err(e),
        }
        if !forever {
            return Ok(());
        }
    }
}

/// Client entry point.
pub fn client(addr: SocketAddr, nonblocking: bool, out: &mut dyn Write) -> Res<()> {
    if nonblocking {
        client_nonblocking(addr, out)
    } else {
        client_blocking(addr, out)
    }
}

//! The seed's hello exchange over sockframe's default framing (u32 BE length
//! prefix), blocking and non-blocking. Shared by `hello_server`,
//! `hello_client`, `tests/hello.rs` and the CLI's `sockframe demo` (each
//! includes it with `#[path]`).
//!
//! The exchange comes in steps, one per side per message, so that a caller
//! can run both ends in one thread, in wire order (`sockframe demo` does):
//! [`Client::connect`], [`Client::say_hello`], [`Server::new`] on the
//! accepted stream, [`Server::read_hello`], [`Server::reply`],
//! [`Client::read_reply`]. Every step writes its line to a
//! `&mut dyn Write` and takes at most [`TIMEOUT`].
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

/// One end of the exchange: a blocking stream with timeouts, or a
/// non-blocking one that waits for readiness with mio.
enum Conn {
    Blocking(Framed<TcpStream, LengthCodec>),
    NonBlocking(Framed<mio::net::TcpStream, LengthCodec>, Poll),
}

impl Conn {
    fn new(stream: TcpStream, nonblocking: bool) -> Res<Conn> {
        stream.set_nodelay(true)?;
        if !nonblocking {
            net::set_timeouts(&stream, Some(TIMEOUT), Some(TIMEOUT))?;
            return Ok(Conn::Blocking(Framed::new(stream, LengthCodec::new())));
        }
        stream.set_nonblocking(true)?;
        let poll = Poll::new()?;
        let mut framed = Framed::new(mio::net::TcpStream::from_std(stream), LengthCodec::new());
        poll.registry().register(framed.get_mut(), Token(0), Interest::READABLE | Interest::WRITABLE)?;
        Ok(Conn::NonBlocking(framed, poll))
    }

    /// Writes `frame` out completely.
    fn send(&mut self, frame: &[u8]) -> Res<()> {
        match self {
            Conn::Blocking(framed) => {
                framed.send(frame)?;
                framed.flush()?;
            }
            Conn::NonBlocking(framed, poll) => {
                let mut events = Events::with_capacity(4);
                let deadline = Instant::now() + TIMEOUT;
                framed.queue(frame)?;
                while !framed.try_flush()? {
                    wait(poll, &mut events, deadline)?;
                }
            }
        }
        Ok(())
    }

    /// The next frame; an error if the peer closes first.
    fn recv(&mut self) -> Res<Vec<u8>> {
        match self {
            Conn::Blocking(framed) => {
                Ok(framed.recv()?.ok_or("peer closed before sending a frame")?.to_vec())
            }
            // Waits for readiness instead of retrying (the seed's version
            // printed an empty line when its single non-blocking `recv` hit
            // EAGAIN).
            Conn::NonBlocking(framed, poll) => {
                let mut events = Events::with_capacity(4);
                let deadline = Instant::now() + TIMEOUT;
                loop {
                    match framed.try_recv_with(|p| p.to_vec())? {
                        Recv::Frame(f) => return Ok(f),
                        Recv::End => return Err("peer closed before sending a frame".into()),
                        Recv::WouldBlock => wait(poll, &mut events, deadline)?,
                    }
                }
            }
        }
    }
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

/// The client's end of the exchange.
pub struct Client(Conn);

impl Client {
    /// Connects to the server (bounded by [`TIMEOUT`]).
    pub fn connect(addr: SocketAddr, nonblocking: bool) -> Res<Client> {
        let stream = net::tcp_connect_timeout(&addr, TIMEOUT)?;
        Ok(Client(Conn::new(stream, nonblocking)?))
    }

    /// Sends "Hello from client" and says so.
    pub fn say_hello(&mut self, out: &mut dyn Write) -> Res<()> {
        self.0.send(CLIENT_HELLO)?;
        writeln!(out, "Hello message sent to server")?;
        Ok(())
    }

    /// Waits for the server's reply and prints it.
    pub fn read_reply(&mut self, out: &mut dyn Write) -> Res<()> {
        let reply = self.0.recv().map_err(|e| format!("no reply from the server: {e}"))?;
        writeln!(out, "{}", text(&reply))?;
        Ok(())
    }
}

/// The server's end of one exchange, on an accepted stream.
pub struct Server(Conn);

impl Server {
    pub fn new(stream: TcpStream, nonblocking: bool) -> Res<Server> {
        Ok(Server(Conn::new(stream, nonblocking)?))
    }

    /// Waits for the client's message and prints it.
    pub fn read_hello(&mut self, out: &mut dyn Write) -> Res<()> {
        let msg = self.0.recv().map_err(|e| format!("no hello from the client: {e}"))?;
        writeln!(out, "{}", text(&msg))?;
        Ok(())
    }

    /// Sends "Hello from server" and says so.
    pub fn reply(&mut self, out: &mut dyn Write) -> Res<()> {
        self.0.send(SERVER_HELLO)?;
        writeln!(out, "Hello message sent to client")?;
        Ok(())
    }
}

/// Server side of one exchange on an accepted stream.
pub fn serve_one(stream: TcpStream, nonblocking: bool, out: &mut dyn Write) -> Res<()> {
    let mut server = Server::new(stream, nonblocking)?;
    server.read_hello(out)?;
    server.reply(out)
}

/// Serves one client (or every client, with `forever`) on `listener`.
pub fn serve(listener: &TcpListener, nonblocking: bool, forever: bool, out: &mut dyn Write) -> Res<()> {
    loop {
        let (stream, _) = listener.accept()?;
        match serve_one(stream, nonblocking, out) {
            Ok(()) => {}
            Err(e) if forever => eprintln!("client failed: {e}"),
            Err(e) => return Err(e),
        }
        if !forever {
            return Ok(());
        }
    }
}

/// Client side of the exchange.
pub fn client(addr: SocketAddr, nonblocking: bool, out: &mut dyn Write) -> Res<()> {
    let mut client = Client::connect(addr, nonblocking)?;
    client.say_hello(out)?;
    client.read_reply(out)
}

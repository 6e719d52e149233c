//! `sockframe demo`: the seed's hello exchange, done right, over framed TCP on
//! an ephemeral loopback port: first with blocking sockets (a server thread
//! and a client), then with non-blocking sockets driven by one mio event loop
//! that waits for readiness instead of printing an empty line on EAGAIN.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use mio::net::TcpStream as MioTcpStream;
use mio::{Events, Interest, Poll, Token};
use sockframe::{Framed, LengthCodec, Recv, TransportError};

use crate::CliError;

const CLIENT_MSG: &[u8] = b"Hello from client";
const SERVER_MSG: &[u8] = b"Hello from server";
const TIMEOUT: Duration = Duration::from_secs(10);

fn say(who: &str, line: impl AsRef<[u8]>) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "[{who}] {}", String::from_utf8_lossy(line.as_ref()));
    let _ = out.flush();
}

pub(crate) fn run() -> Result<(), CliError> {
    blocking()?;
    nonblocking()?;
    Ok(())
}

fn blocking() -> Result<(), CliError> {
    let listener = sockframe::net::tcp_listen("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    println!("== blocking sockets, length-prefixed frames, {addr} ==");
    // The server prints what it received only after the client said it sent,
    // so the four lines come out in the order they happen on the wire.
    let (sent_tx, sent_rx) = mpsc::channel::<()>();
    let server = thread::spawn(move || -> Result<(), TransportError> {
        let (stream, _) = sockframe::net::tcp_accept(&listener)?;
        sockframe::net::set_timeouts(&stream, Some(TIMEOUT), Some(TIMEOUT))?;
        let mut framed = Framed::new(stream, LengthCodec::new());
        let msg =
            framed.recv()?.ok_or(TransportError::Decode(sockframe::DecodeError::Truncated { pending: 0 }))?;
        let _ = sent_rx.recv_timeout(TIMEOUT);
        say("server", &msg);
        framed.send(SERVER_MSG)?;
        framed.flush()?;
        say("server", "Hello message sent to client");
        Ok(())
    });
    let stream = sockframe::net::tcp_connect(addr)?;
    sockframe::net::set_timeouts(&stream, Some(TIMEOUT), Some(TIMEOUT))?;
    let mut framed = Framed::new(stream, LengthCodec::new());
    framed.send(CLIENT_MSG)?;
    framed.flush()?;
    say("client", "Hello message sent to server");
    let _ = sent_tx.send(());
    let reply = framed.recv()?;
    server.join().map_err(|_| CliError::Runtime("demo server thread panicked".into()))??;
    match reply {
        Some(reply) => say("client", &reply),
        None => return Err(CliError::Runtime("server closed without a reply".into())),
    }
    Ok(())
}

const LISTENER: Token = Token(0);
const SERVER: Token = Token(1);
const CLIENT: Token = Token(2);

/// Both ends in one thread: every step waits for readiness, none spins.
fn nonblocking() -> Result<(), CliError> {
    let std_listener = TcpListener::bind("127.0.0.1:0")?;
    std_listener.set_nonblocking(true)?;
    let addr: SocketAddr = std_listener.local_addr()?;
    println!("== non-blocking sockets (mio), length-prefixed frames, {addr} ==");
    let mut listener = mio::net::TcpListener::from_std(std_listener);
    let mut poll = Poll::new()?;
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;

    let mut client_stream = MioTcpStream::connect(addr)?;
    poll.registry().register(&mut client_stream, CLIENT, Interest::READABLE | Interest::WRITABLE)?;
    let mut client = Framed::new(client_stream, LengthCodec::new());
    client.queue(CLIENT_MSG)?;
    let mut server: Option<Framed<MioTcpStream, LengthCodec>> = None;
    let mut client_sent = false;
    let mut server_sent = false;
    let mut events = Events::with_capacity(16);
    let deadline = Instant::now() + TIMEOUT;

    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(CliError::Runtime("non-blocking demo timed out".into()));
        }
        match poll.poll(&mut events, Some(left)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
        for event in events.iter() {
            match event.token() {
                LISTENER => loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            stream.set_nodelay(true)?;
                            poll.registry().register(
                                &mut stream,
                                SERVER,
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            server = Some(Framed::new(stream, LengthCodec::new()));
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e.into()),
                    }
                },
                // Connected and writable: the frame goes out.
                CLIENT if !client_sent && client.try_flush()? => {
                    client_sent = true;
                    say("client", "Hello message sent to server");
                }
                _ => {}
            }
        }
        // Readiness is edge-triggered: after any event, drive both ends
        // until they would block.
        if let Some(srv) = server.as_mut() {
            if !server_sent {
                match srv.try_recv()? {
                    Recv::Frame(msg) => {
                        say("server", &msg);
                        srv.queue(SERVER_MSG)?;
                        server_sent = true;
                    }
                    Recv::WouldBlock => {}
                    Recv::End => return Err(CliError::Runtime("client closed early".into())),
                }
            }
            if server_sent && srv.wants_write() && srv.try_flush()? {
                say("server", "Hello message sent to client");
            }
        }
        if client_sent {
            match client.try_recv()? {
                Recv::Frame(reply) => {
                    say("client", &reply);
                    return Ok(());
                }
                Recv::WouldBlock => {}
                Recv::End => return Err(CliError::Runtime("server closed without a reply".into())),
            }
        }
    }
}

//! The non-blocking recipe: one mio event loop, any number of clients, every
//! frame echoed, pipelined frames answered with one write per readiness event.
//!
//! ```text
//! cargo run --release --example echo_nonblocking -- [--port N] [--max-clients N]
//! ```
//! Per readiness event, per connection:
//! 1. `try_recv_reply` until `Recv::WouldBlock`, queueing each reply straight
//!    from the receive buffer (nothing is written yet);
//! 2. one `try_flush`;
//! 3. WRITABLE interest only while `wants_write()` (the queue did not drain).
//!
//! A peer that does not read fills its send queue up to the cap
//! (`TransportError::Full`); the reply waits and reading that connection
//! pauses until a writable event drains the queue. With `--max-clients N` the
//! server exits once N connections have come and gone.
use std::collections::HashMap;
use std::error::Error;
use std::io;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use sockframe::{Framed, LengthCodec, Recv, TransportError};

const LISTENER: Token = Token(0);

struct Conn {
    framed: Framed<TcpStream, LengthCodec>,
    /// A reply the send queue had no room for; reading pauses while it waits.
    waiting: Option<Vec<u8>>,
    writable: bool,
    done: bool,
}

impl Conn {
    /// Steps 1 and 2 of the recipe. Returns whether the connection stays open.
    fn drive(&mut self) -> Result<bool, TransportError> {
        loop {
            if let Some(reply) = self.waiting.take() {
                if let Err(e) = self.framed.queue(&reply) {
                    self.waiting = Some(reply);
                    match e {
                        // Still no room: wait for the peer to read.
                        TransportError::Full { .. } if !self.framed.try_flush()? => break,
                        TransportError::Full { .. } => continue,
                        e => return Err(e),
                    }
                }
            }
            if self.done {
                break;
            }
            let got = self.framed.try_recv_reply(|payload, replies| match replies.queue(payload) {
                Ok(()) => Ok(None),
                Err(TransportError::Full { .. }) => Ok(Some(payload.to_vec())),
                Err(e) => Err(e),
            })?;
            match got {
                Recv::Frame(waiting) => self.waiting = waiting?,
                Recv::WouldBlock => break,
                Recv::End => self.done = true,
            }
        }
        self.framed.try_flush()?;
        Ok(!(self.done && !self.framed.wants_write() && self.waiting.is_none()))
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let (mut port, mut max_clients) = (7000u16, usize::MAX);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().ok_or("--port N")?.parse()?,
            "--max-clients" => max_clients = args.next().ok_or("--max-clients N")?.parse()?,
            _ => return Err(format!("unknown argument {a}").into()),
        }
    }
    let mut listener = TcpListener::bind(([127, 0, 0, 1], port).into())?;
    eprintln!("echo_nonblocking: listening on {}", listener.local_addr()?);
    let mut poll = Poll::new()?;
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut conns: HashMap<Token, Conn> = HashMap::new();
    let mut events = Events::with_capacity(1024);
    let (mut next, mut finished) = (1usize, 0usize);
    while finished < max_clients {
        poll.poll(&mut events, Some(Duration::from_secs(1)))?;
        for event in events.iter() {
            if event.token() == LISTENER {
                loop {
                    let (mut stream, _) = match listener.accept() {
                        Ok(s) => s,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e.into()),
                    };
                    stream.set_nodelay(true)?;
                    let token = Token(next);
                    next += 1;
                    poll.registry().register(&mut stream, token, Interest::READABLE)?;
                    let framed = Framed::new(stream, LengthCodec::new());
                    conns.insert(token, Conn { framed, waiting: None, writable: false, done: false });
                }
                continue;
            }
            let token = event.token();
            let Some(conn) = conns.get_mut(&token) else { continue };
            let open = match conn.drive() {
                Ok(open) => open,
                Err(e) => {
                    eprintln!("echo_nonblocking: connection {}: {e}", token.0);
                    false
                }
            };
            // Step 3: WRITABLE interest only while replies wait.
            let want = conn.framed.wants_write() || conn.waiting.is_some();
            if open && want != conn.writable {
                let interest =
                    if want { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
                poll.registry().reregister(conn.framed.get_mut(), token, interest)?;
                conn.writable = want;
            }
            if !open {
                if let Some(mut conn) = conns.remove(&token) {
                    poll.registry().deregister(conn.framed.get_mut())?;
                }
                finished += 1;
            }
        }
    }
    Ok(())
}

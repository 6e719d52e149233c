//! A thread-per-connection blocking echo server on `Framed`.
//!
//! ```text
//! cargo run --example echo_server -- [--port N] [--max-clients N]
//! ```
//! Every frame a client sends comes back. Each connection has a read timeout
//! (the idle bound) and a per-frame deadline, so a silent or dripping client
//! cannot hold a thread forever. With `--max-clients N` the server accepts N
//! connections, waits for them to finish, and exits.
use std::error::Error;
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use sockframe::{net, Framed, FramedConfig, LengthCodec, TransportError};

fn serve(stream: TcpStream) -> Result<usize, TransportError> {
    net::set_timeouts(&stream, Some(Duration::from_secs(60)), Some(Duration::from_secs(60)))?;
    let config = FramedConfig::new().frame_deadline(Duration::from_secs(10));
    let mut framed =
        Framed::with_config(stream, LengthCodec::new(), config).map_err(std::io::Error::other)?;
    let mut frames = 0;
    // recv() flushes queued echoes before it waits for the next frame.
    while let Some(frame) = framed.recv()? {
        framed.send(&frame)?;
        frames += 1;
    }
    framed.flush()?;
    Ok(frames)
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut port = 12345u16;
    let mut max_clients: Option<usize> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().ok_or("--port needs a value")?.parse()?,
            "--max-clients" => max_clients = Some(args.next().ok_or("--max-clients needs a value")?.parse()?),
            other => {
                return Err(format!("unknown argument {other:?}; flags: --port N, --max-clients N").into())
            }
        }
    }
    let listener = net::tcp_listen(("127.0.0.1", port))?;
    eprintln!("echo server on {}", listener.local_addr()?);
    let mut handles = Vec::new();
    let mut accepted = 0usize;
    while max_clients.map_or(true, |max| accepted < max) {
        let (stream, peer) = net::tcp_accept(&listener)?;
        accepted += 1;
        handles.push(thread::spawn(move || match serve(stream) {
            Ok(n) => eprintln!("{peer}: {n} frames echoed"),
            Err(e) => eprintln!("{peer}: {e}"),
        }));
        handles.retain(|h| !h.is_finished());
    }
    for h in handles {
        let _ = h.join();
    }
    Ok(())
}

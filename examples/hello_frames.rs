//! The seed's hello exchange, framed with the length-prefix codec over a real
//! loopback TCP connection (ephemeral port), using only the sans-IO core and
//! a hand-written read/write loop: the loop every caller of the core writes.
//!
//! `cargo run --example hello_frames`

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use sockframe::{Decoder, Encoder, LengthCodec};

/// Sends one frame: encode, then write until every byte is out.
fn send(stream: &mut TcpStream, codec: &mut LengthCodec, msg: &[u8]) -> io::Result<()> {
    let mut out = BytesMut::new();
    codec.encode(msg, &mut out).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    while !out.is_empty() {
        match stream.write(&out) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => out.advance(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Receives one frame: read until the decoder has a whole one.
fn recv(stream: &mut TcpStream, codec: &mut LengthCodec, buf: &mut BytesMut) -> io::Result<Vec<u8>> {
    let invalid = |e| io::Error::new(io::ErrorKind::InvalidData, e);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(frame) = codec.decode_bytes(buf).map_err(invalid)? {
            return Ok(frame.to_vec());
        }
        match stream.read(&mut chunk) {
            Ok(0) => {
                codec.decode_bytes_eof(buf).map_err(invalid)?;
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = thread::spawn(move || -> io::Result<()> {
        let (mut stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut codec = LengthCodec::new();
        let mut buf = BytesMut::new();
        let msg = recv(&mut stream, &mut codec, &mut buf)?;
        println!("{}", String::from_utf8_lossy(&msg));
        send(&mut stream, &mut codec, b"Hello from server")?;
        println!("Hello message sent to client");
        Ok(())
    });

    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut codec = LengthCodec::new();
    send(&mut stream, &mut codec, b"Hello from client")?;
    println!("Hello message sent to server");
    let mut buf = BytesMut::new();
    let reply = recv(&mut stream, &mut codec, &mut buf)?;
    server.join().map_err(|_| io::Error::other("server thread panicked"))??;
    println!("{}", String::from_utf8_lossy(&reply));
    Ok(())
}

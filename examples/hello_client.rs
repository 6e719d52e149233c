//! The seed's hello client, done right: sends "Hello from client" to
//! 127.0.0.1:12345 and prints the server's reply.
//!
//! ```text
//! cargo run --example hello_client -- [--port N] [--nonblocking]
//! ```
//! With `--nonblocking` the client waits for readiness with mio: where the
//! seed printed an empty line when its single non-blocking `recv` hit EAGAIN,
//! this one waits (bounded, 10 s) until the reply has arrived.
#[path = "common/hello.rs"]
mod hello;

use std::net::SocketAddr;

fn main() -> hello::Res<()> {
    let args = hello::parse_args()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    hello::client(addr, args.nonblocking, &mut std::io::stdout())
}

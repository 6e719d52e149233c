//! The seed's hello server, done right: waits for one client on
//! 127.0.0.1:12345, prints its message, replies "Hello from server".
//!
//! ```text
//! cargo run --example hello_server -- [--port N] [--nonblocking] [--forever]
//! ```
//! With `--nonblocking` the socket is non-blocking and the server waits for
//! readiness with mio instead of spinning. It serves one client and exits,
//! unless `--forever`.
#[path = "common/hello.rs"]
mod hello;

fn main() -> hello::Res<()> {
    let args = hello::parse_args()?;
    let listener = sockframe::net::tcp_listen(("127.0.0.1", args.port))?;
    eprintln!("listening on {}", listener.local_addr()?);
    hello::serve(&listener, args.nonblocking, args.forever, &mut std::io::stdout())
}

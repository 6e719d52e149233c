//! The seed's hello exchange end to end, through the same code the
//! `hello_server` / `hello_client` examples run: blocking and non-blocking
//! servers and clients in every combination, on port 0.
#[path = "../examples/common/hello.rs"]
mod hello;

use std::net::TcpListener;
use std::thread;

fn exchange(server_nb: bool, client_nb: bool) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let mut out = Vec::new();
        hello::serve(&listener, server_nb, false, &mut out).map_err(|e| e.to_string()).map(|()| out)
    });
    let mut out = Vec::new();
    hello::client(addr, client_nb, &mut out).unwrap();
    let server_out = server.join().unwrap().unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "Hello message sent to server\nHello from server\n");
    assert_eq!(String::from_utf8(server_out).unwrap(), "Hello from client\nHello message sent to client\n");
}

#[test]
fn hello_blocking_server_blocking_client() {
    exchange(false, false);
}

#[test]
fn hello_nonblocking_server_nonblocking_client() {
    exchange(true, true);
}

#[test]
fn hello_mixed_modes() {
    exchange(true, false);
    exchange(false, true);
}

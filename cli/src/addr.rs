//! Addresses (`HOST:PORT`, `[::1]:PORT`, `unix:PATH`) and the streams they
//! give, blocking (std) and non-blocking (mio).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use mio::event::Source;
use mio::{Interest, Registry, Token};
use sockframe::net::HalfClose;

/// Where to connect or listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Addr {
    /// `HOST:PORT` or `[v6]:PORT`, resolved when used.
    Tcp(String),
    /// `unix:PATH`.
    Unix(PathBuf),
}

const FORMS: &str = "expected HOST:PORT, [::1]:PORT or unix:PATH";

impl FromStr for Addr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(format!("empty unix socket path; {FORMS}"));
            }
            return Ok(Addr::Unix(PathBuf::from(path)));
        }
        if s.parse::<SocketAddr>().is_ok() {
            return Ok(Addr::Tcp(s.to_owned()));
        }
        match s.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && !host.contains(':') && port.parse::<u16>().is_ok() => {
                Ok(Addr::Tcp(s.to_owned()))
            }
            _ => Err(format!("invalid address {s:?}; {FORMS}")),
        }
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Tcp(a) => f.write_str(a),
            Addr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

impl Addr {
    fn resolve(&self, host: &str) -> io::Result<Vec<SocketAddr>> {
        let addrs: Vec<SocketAddr> = host.to_socket_addrs()?.collect();
        if addrs.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("{self}: no address found")));
        }
        Ok(addrs)
    }

    /// Connects (blocking), within `timeout` for TCP; TCP_NODELAY on.
    pub(crate) fn connect(&self, timeout: Duration) -> io::Result<Stream> {
        let context = |e: io::Error| io::Error::new(e.kind(), format!("connect to {self}: {e}"));
        match self {
            Addr::Tcp(host) => {
                let mut last = None;
                for addr in self.resolve(host).map_err(context)? {
                    match sockframe::net::tcp_connect_timeout(&addr, timeout) {
                        Ok(s) => return Ok(Stream::Tcp(s)),
                        Err(e) => last = Some(e),
                    }
                }
                Err(context(last.unwrap_or_else(|| io::ErrorKind::NotFound.into())))
            }
            Addr::Unix(path) => sockframe::net::unix_connect(path).map(Stream::Unix).map_err(context),
        }
    }

    /// Starts a non-blocking connect (the relay's upstream): completes on a
    /// writable event, or fails then ([`MioStream::take_error`]). Name
    /// resolution blocks, as it does for `connect`.
    pub(crate) fn connect_nonblocking(&self) -> io::Result<MioStream> {
        match self {
            Addr::Tcp(host) => {
                let addr = self.resolve(host)?[0];
                mio::net::TcpStream::connect(addr).map(MioStream::Tcp)
            }
            Addr::Unix(path) => mio::net::UnixStream::connect(path).map(MioStream::Unix),
        }
    }

    /// Binds a non-blocking listener. A stale Unix socket file (nobody
    /// listening) is replaced; a live one is an error.
    pub(crate) fn listen(&self) -> io::Result<Listener> {
        let context = |e: io::Error| io::Error::new(e.kind(), format!("listen on {self}: {e}"));
        match self {
            Addr::Tcp(host) => {
                let addr = self.resolve(host).map_err(context)?[0];
                let listener = mio::net::TcpListener::bind(addr).map_err(context)?;
                raise_backlog(&listener).map_err(context)?;
                Ok(Listener::Tcp(listener))
            }
            Addr::Unix(path) => {
                let std = sockframe::net::unix_listen_reclaim(path).map_err(context)?;
                std.set_nonblocking(true).map_err(context)?;
                raise_backlog(&std).map_err(context)?;
                Ok(Listener::Unix(mio::net::UnixListener::from_std(std), path.clone()))
            }
        }
    }
}

/// Connections the kernel queues for `accept` (clamped by
/// `net.core.somaxconn`). mio and std listen with 128: a burst of a thousand
/// connects would overflow that, and each dropped SYN waits a 1 s / 3 s
/// retransmit.
pub(crate) const BACKLOG: i32 = 4096;

/// Calls `listen` again with [`BACKLOG`]: on Linux that resizes the accept
/// queue of a listening socket.
fn raise_backlog<S: std::os::fd::AsFd>(listener: &S) -> io::Result<()> {
    socket2::SockRef::from(listener).listen(BACKLOG)
}

/// A connected blocking stream.
#[derive(Debug)]
pub(crate) enum Stream {
    Tcp(std::net::TcpStream),
    Unix(UnixStream),
}

impl Stream {
    pub(crate) fn set_timeouts(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
            Stream::Unix(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_vectored(bufs),
            Stream::Unix(s) => s.write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl HalfClose for Stream {
    fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Write),
            Stream::Unix(s) => s.shutdown(Shutdown::Write),
        }
    }
}

/// A non-blocking listener.
#[derive(Debug)]
pub(crate) enum Listener {
    Tcp(mio::net::TcpListener),
    Unix(mio::net::UnixListener, PathBuf),
}

impl Listener {
    /// The address clients connect to (with the port the OS picked).
    pub(crate) fn local_addr(&self) -> String {
        match self {
            Listener::Tcp(l) => l.local_addr().map_or_else(|e| format!("? ({e})"), |a| a.to_string()),
            Listener::Unix(_, path) => format!("unix:{}", path.display()),
        }
    }

    /// Accepts one pending connection, non-blocking.
    pub(crate) fn accept(&self) -> io::Result<(MioStream, String)> {
        match self {
            Listener::Tcp(l) => {
                let (s, peer) = l.accept()?;
                s.set_nodelay(true)?;
                Ok((MioStream::Tcp(s), peer.to_string()))
            }
            Listener::Unix(l, path) => {
                let (s, _) = l.accept()?;
                Ok((MioStream::Unix(s), format!("unix:{}", path.display())))
            }
        }
    }
}

impl Source for Listener {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.register(r, t, i),
            Listener::Unix(l, _) => l.register(r, t, i),
        }
    }
    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.reregister(r, t, i),
            Listener::Unix(l, _) => l.reregister(r, t, i),
        }
    }
    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.deregister(r),
            Listener::Unix(l, _) => l.deregister(r),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            // Leave no stale socket file behind.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A connected non-blocking stream.
#[derive(Debug)]
pub(crate) enum MioStream {
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
}

impl Read for MioStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            MioStream::Tcp(s) => s.read(buf),
            MioStream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for MioStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            MioStream::Tcp(s) => s.write(buf),
            MioStream::Unix(s) => s.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            MioStream::Tcp(s) => s.write_vectored(bufs),
            MioStream::Unix(s) => s.write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl HalfClose for MioStream {
    fn shutdown_write(&self) -> io::Result<()> {
        match self {
            MioStream::Tcp(s) => s.shutdown(Shutdown::Write),
            MioStream::Unix(s) => s.shutdown(Shutdown::Write),
        }
    }
}

impl MioStream {
    /// The connect in progress failed (`Some`), is done (`Ok(None)` and
    /// [`is_connected`](Self::is_connected)), or goes on.
    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            MioStream::Tcp(s) => s.take_error(),
            MioStream::Unix(s) => s.take_error(),
        }
    }

    /// Whether a non-blocking connect has completed.
    pub(crate) fn is_connected(&self) -> bool {
        match self {
            MioStream::Tcp(s) => s.peer_addr().is_ok(),
            MioStream::Unix(s) => s.peer_addr().is_ok(),
        }
    }

    /// TCP_NODELAY for TCP (small frames go out at once); nothing for Unix.
    pub(crate) fn set_nodelay(&self) -> io::Result<()> {
        match self {
            MioStream::Tcp(s) => s.set_nodelay(true),
            MioStream::Unix(_) => Ok(()),
        }
    }
}

impl Source for MioStream {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            MioStream::Tcp(s) => s.register(r, t, i),
            MioStream::Unix(s) => s.register(r, t, i),
        }
    }
    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            MioStream::Tcp(s) => s.reregister(r, t, i),
            MioStream::Unix(s) => s.reregister(r, t, i),
        }
    }
    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            MioStream::Tcp(s) => s.deregister(r),
            MioStream::Unix(s) => s.deregister(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!("127.0.0.1:12345".parse(), Ok(Addr::Tcp("127.0.0.1:12345".into())));
        assert_eq!("[::1]:80".parse(), Ok(Addr::Tcp("[::1]:80".into())));
        assert_eq!("localhost:7".parse(), Ok(Addr::Tcp("localhost:7".into())));
        assert_eq!("unix:/tmp/s.sock".parse(), Ok(Addr::Unix("/tmp/s.sock".into())));
        for bad in ["", "12345", "host", "host:", "host:99999", "::1:80", "unix:"] {
            let err = bad.parse::<Addr>().unwrap_err();
            assert!(err.contains("HOST:PORT"), "{bad}: {err}");
        }
    }
}

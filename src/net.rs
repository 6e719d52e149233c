//! TCP and Unix domain socket helpers for framed traffic.
//!
//! Framed traffic wants `TCP_NODELAY`: [`Framed`](crate::Framed) already
//! writes each frame (or a batch of frames) in one write, so Nagle's algorithm
//! only adds a delayed-ACK stall (BAD_INPUTS T6). The helpers here turn it on.
//!
//! ```
//! use sockframe::net;
//!
//! let listener = net::tcp_listen("127.0.0.1:0")?; // port 0: the OS picks
//! let client = net::tcp_connect(listener.local_addr()?)?;
//! let (server, _) = net::tcp_accept(&listener)?;
//! assert!(client.nodelay()? && server.nodelay()?);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Streams whose sending side can be shut down while the receiving side
/// stays open (TCP FIN / `shutdown(SHUT_WR)`).
pub trait HalfClose {
    /// Shuts down the writing half.
    ///
    /// # Errors
    /// The OS error.
    fn shutdown_write(&self) -> io::Result<()>;
}

impl HalfClose for TcpStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

#[cfg(unix)]
impl HalfClose for std::os::unix::net::UnixStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// A stream whose handle can be duplicated, so that a read half and a
/// write half can own one each ([`Framed::try_split`](crate::Framed::try_split)).
pub trait TryClone: Sized {
    /// Another handle to the same stream.
    ///
    /// # Errors
    /// The OS error.
    fn try_clone_stream(&self) -> io::Result<Self>;
}

impl TryClone for TcpStream {
    fn try_clone_stream(&self) -> io::Result<Self> {
        self.try_clone()
    }
}

#[cfg(unix)]
impl TryClone for std::os::unix::net::UnixStream {
    fn try_clone_stream(&self) -> io::Result<Self> {
        self.try_clone()
    }
}

impl<T: HalfClose + ?Sized> HalfClose for &T {
    fn shutdown_write(&self) -> io::Result<()> {
        (**self).shutdown_write()
    }
}

/// Connects with `TCP_NODELAY` on.
///
/// # Errors
/// The connect or setsockopt error.
pub fn tcp_connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Connects within `timeout`, with `TCP_NODELAY` on.
///
/// # Errors
/// The connect or setsockopt error; `TimedOut`.
pub fn tcp_connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(addr, timeout)?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Binds and listens. Use port 0 to let the OS pick a free port, then
/// `local_addr()` to learn it.
///
/// # Errors
/// The bind error.
pub fn tcp_listen<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
    TcpListener::bind(addr)
}

/// Accepts a connection and turns `TCP_NODELAY` on.
///
/// # Errors
/// The accept or setsockopt error.
pub fn tcp_accept(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
    let (stream, addr) = listener.accept()?;
    stream.set_nodelay(true)?;
    Ok((stream, addr))
}

/// Sets both socket timeouts. With a read timeout, blocking
/// [`Framed::recv`](crate::Framed::recv) returns a
/// [`Timeout`](crate::TransportError::Timeout) instead of waiting forever, and
/// the frame deadline and idle timeout are checked at least that often.
///
/// # Errors
/// The setsockopt error (a zero duration is `InvalidInput`).
pub fn set_timeouts(stream: &TcpStream, read: Option<Duration>, write: Option<Duration>) -> io::Result<()> {
    stream.set_read_timeout(read)?;
    stream.set_write_timeout(write)
}

#[cfg(unix)]
pub use self::unix::*;

#[cfg(unix)]
mod unix {
    use std::io;
    use std::os::unix::fs::FileTypeExt;
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::Path;

    /// Longest Unix socket path the OS accepts, in bytes (`sun_path` less its
    /// terminating NUL).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const MAX_UNIX_PATH: usize = 107;
    /// Longest Unix socket path the OS accepts, in bytes (`sun_path` less its
    /// terminating NUL).
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub const MAX_UNIX_PATH: usize = 103;

    fn check_path(path: &Path) -> io::Result<()> {
        let len = path.as_os_str().len();
        if len > MAX_UNIX_PATH {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "unix socket path is {len} bytes, over the OS limit of {MAX_UNIX_PATH}: {}; \
                     use a shorter path (e.g. a relative one or under /tmp)",
                    path.display()
                ),
            ));
        }
        Ok(())
    }

    /// Connects to a Unix stream socket, with a clear error for a path over
    /// [`MAX_UNIX_PATH`] (BAD_INPUTS T8).
    ///
    /// # Errors
    /// `InvalidInput` for a too-long path; the connect error.
    pub fn unix_connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let path = path.as_ref();
        check_path(path)?;
        UnixStream::connect(path)
    }

    /// Binds and listens on a Unix socket path, with clear errors for a path
    /// over [`MAX_UNIX_PATH`] and for a stale socket file left by a process
    /// that died (BAD_INPUTS T8). See [`unix_listen_reclaim`] to remove a
    /// stale file instead.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("sockframe-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("s.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// let listener = sockframe::net::unix_listen(&path)?;
    /// drop(listener); // the socket file stays: it is now stale
    /// let err = sockframe::net::unix_listen(&path).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    /// assert!(err.to_string().contains("stale"));
    /// let _listener = sockframe::net::unix_listen_reclaim(&path)?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// `InvalidInput` for a too-long path; `AddrInUse` naming a stale socket
    /// file, or a live listener; the bind error.
    pub fn unix_listen<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let path = path.as_ref();
        check_path(path)?;
        match UnixListener::bind(path) {
            Ok(l) => Ok(l),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => Err(in_use(path)),
            Err(e) => Err(e),
        }
    }

    fn is_stale(path: &Path) -> bool {
        let is_socket = std::fs::symlink_metadata(path).map(|m| m.file_type().is_socket()).unwrap_or(false);
        is_socket
            && matches!(UnixStream::connect(path), Err(e) if e.kind() == io::ErrorKind::ConnectionRefused)
    }

    fn in_use(path: &Path) -> io::Error {
        let what = if is_stale(path) {
            "is a stale socket file (no process listens on it); remove it or use unix_listen_reclaim"
        } else {
            "is in use (another process listens on it, or it is not a socket)"
        };
        io::Error::new(io::ErrorKind::AddrInUse, format!("unix socket path {} {what}", path.display()))
    }

    /// Like [`unix_listen`], but removes a stale socket file (a socket no
    /// process listens on) first. Never removes a live socket or another kind
    /// of file.
    ///
    /// # Errors
    /// As [`unix_listen`].
    pub fn unix_listen_reclaim<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let path = path.as_ref();
        check_path(path)?;
        if is_stale(path) {
            std::fs::remove_file(path)?;
        }
        unix_listen(path)
    }
}

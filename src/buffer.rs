//! The two buffers between a codec and a socket.
//!
//! * [`RecvBuf`]: bytes read and not yet decoded. Reads (64 KiB at most) go straight into its
//!   spare capacity; it grows only when a frame needs room, up to a cap, and
//!   shrinks back after a large frame (BAD_INPUTS T7).
//! * [`SendQueue`]: encoded bytes not yet written. Small frames coalesce into
//!   one write; after a short write it resumes at the exact offset.
//!
//! Both are plain data structures; [`Framed`](crate::Framed) drives them.

use std::io::{self, Read};

use bytes::{Buf, BytesMut};

/// Reads smaller than this are not worth a syscall while the buffer can
/// still compact or grow.
const MIN_READ: usize = 4096;

/// The most one [`RecvBuf::read_from`] asks for. Larger reads measured
/// slower over loopback TCP (the receiver holds the socket longer per call
/// while the sender waits), and a 64 KiB read already amortises the syscall.
const MAX_READ: usize = 64 * 1024;

/// Receive buffer: a byte vector with a window of unconsumed bytes.
///
/// ```
/// use sockframe::buffer::RecvBuf;
///
/// let mut buf = RecvBuf::new(16, 64);
/// let spare = buf.spare();
/// spare[..5].copy_from_slice(b"hello");
/// buf.commit(5);
/// assert_eq!(buf.data(), b"hello");
/// buf.consume(2);
/// assert_eq!(buf.data(), b"llo");
/// ```
#[derive(Debug)]
pub struct RecvBuf {
    // `buf.len()` is the allocated, initialised size.
    buf: Vec<u8>,
    // 0 <= start <= end <= buf.len() <= cap
    start: usize,
    end: usize,
    initial: usize,
    cap: usize,
}

/// What one [`RecvBuf::read_from`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// `n > 0` bytes were appended.
    Data(usize),
    /// The reader returned `Ok(0)`: end of stream.
    Eof,
    /// The buffer is at its cap; no read was attempted (BAD_INPUTS T1).
    Full,
}

impl RecvBuf {
    /// An empty buffer that starts at `initial` bytes (allocated on the first
    /// read) and never grows beyond `cap`. `initial` is clamped to `1..=cap`.
    pub fn new(initial: usize, cap: usize) -> Self {
        let cap = cap.max(1);
        RecvBuf { buf: Vec::new(), start: 0, end: 0, initial: initial.clamp(1, cap), cap }
    }

    /// The unconsumed bytes.
    #[inline]
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The unconsumed bytes, mutably (decoders may transform a frame in place).
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.end]
    }

    /// Number of unconsumed bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether no unconsumed bytes are held.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Bytes currently allocated.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The configured cap.
    #[inline]
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Drops `n` bytes from the front. `n` is clamped to [`len`](Self::len).
    #[inline]
    pub fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.start == self.end {
            // Empty: reuse the whole allocation without copying.
            self.start = 0;
            self.end = 0;
        }
    }

    /// Marks `n` bytes of the slice last returned by [`spare`](Self::spare)
    /// as received. `n` is clamped to the spare length.
    #[inline]
    pub fn commit(&mut self, n: usize) {
        self.end += n.min(self.buf.len() - self.end);
    }

    /// Room to read into. Empty only at the cap.
    ///
    /// When less than a useful read's worth is free at the end: compacts if
    /// that moves at most 4 KiB or 1/8 of the bytes it frees (or at the cap),
    /// else doubles the buffer (up to the cap). Small frames thus live in a
    /// buffer of a few KiB (many connections stay small), and a stream of
    /// large frames settles on a buffer about 8 frames large where compaction
    /// costs little, instead of copying each partial frame forward.
    pub fn spare(&mut self) -> &mut [u8] {
        // A useful read: half the buffer, between 4 KiB and a full 64 KiB
        // read, so a large buffer is never read into a few KiB at a time.
        let want = (self.buf.len() / 2).clamp(MIN_READ, MAX_READ).min(self.cap);
        if self.buf.len() - self.end < want {
            let len = self.len();
            // Moving a few KiB costs less than a syscall; moving a large
            // partial frame is worth it only when it frees far more.
            let cheap = len <= MIN_READ || len.saturating_mul(8) <= self.start;
            // (`start >= 0` would do as well: compacting from 0 moves nothing.)
            if self.start > 0 && (cheap || self.buf.len() >= self.cap) {
                self.buf.copy_within(self.start..self.end, 0);
                self.end = len;
                self.start = 0;
            }
            // (`<= cap` would do as well: growing to the cap at the cap is a
            // resize to the same length.)
            if self.buf.len() - self.end < want && self.buf.len() < self.cap {
                let grown = self
                    .buf
                    .len()
                    .saturating_mul(2)
                    .max(self.initial)
                    .max(self.end.saturating_add(want))
                    .min(self.cap);
                self.buf.resize(grown, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// Releases memory after a large frame (BAD_INPUTS T7): when more than
    /// sixteen times the initial size is allocated and what is left fits in
    /// the initial size, reallocates at the initial size.
    #[inline]
    pub fn maybe_shrink(&mut self) {
        if self.buf.len() > self.initial.saturating_mul(16) && self.len() <= self.initial {
            self.shrink();
        }
    }

    #[cold]
    fn shrink(&mut self) {
        let mut small = vec![0; self.initial];
        small[..self.len()].copy_from_slice(self.data());
        self.end = self.len();
        self.start = 0;
        self.buf = small;
    }

    /// One `read` of at most 64 KiB into spare capacity. `Interrupted` is retried here; every
    /// other error (including `WouldBlock`) is returned with the buffered
    /// bytes untouched. Never calls `read` with an empty slice (T1).
    ///
    /// # Errors
    /// Whatever the reader returns, except `Interrupted`.
    pub fn read_from<R: Read + ?Sized>(&mut self, reader: &mut R) -> io::Result<ReadOutcome> {
        loop {
            let spare = self.spare();
            if spare.is_empty() {
                return Ok(ReadOutcome::Full);
            }
            let room = spare.len().min(MAX_READ);
            let spare = &mut spare[..room];
            match reader.read(spare) {
                Ok(0) => return Ok(ReadOutcome::Eof),
                Ok(n) => {
                    // A reader claiming more than it was given is buggy; never trust it.
                    let n = n.min(room);
                    self.commit(n);
                    return Ok(ReadOutcome::Data(n));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Send queue: encoded bytes waiting for the socket.
///
/// Written bytes are dropped from the front with [`advance`](Self::advance),
/// so a short write or `WouldBlock` resumes exactly where it stopped.
///
/// ```
/// use sockframe::buffer::SendQueue;
///
/// let mut q = SendQueue::new(1024);
/// q.buffer_mut().extend_from_slice(b"abcdef");
/// q.advance(4); // the socket took 4 bytes
/// assert_eq!(q.pending(), b"ef");
/// assert!(q.has_room(1022));
/// assert!(!q.has_room(1023));
/// ```
#[derive(Debug)]
pub struct SendQueue {
    buf: BytesMut,
    cap: usize,
}

impl SendQueue {
    /// An empty queue holding at most `cap` bytes (see [`has_room`](Self::has_room)).
    pub fn new(cap: usize) -> Self {
        SendQueue { buf: BytesMut::new(), cap }
    }

    /// The bytes not yet written.
    #[inline]
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Number of bytes not yet written.
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether everything was written.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The configured cap.
    #[inline]
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Whether `n` more bytes fit under the cap. An empty queue always takes
    /// one frame, however large, so that a frame above the cap can still be
    /// sent; memory stays bounded by `max(cap, largest frame)`.
    #[inline]
    pub fn has_room(&self, n: usize) -> bool {
        self.buf.is_empty() || self.buf.len().checked_add(n).is_some_and(|t| t <= self.cap)
    }

    /// The buffer to append encoded frames to.
    #[inline]
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Drops `n` written bytes from the front (clamped to [`len`](Self::len)).
    #[inline]
    pub fn advance(&mut self, n: usize) {
        if n >= self.buf.len() {
            // Everything went out: reuse the buffer from its start (advancing
            // would move the start forward and cost a copy to reclaim later).
            self.buf.clear();
        } else {
            self.buf.advance(n);
        }
    }

    /// Drops everything (after a fatal write error).
    pub fn clear(&mut self) {
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recv_buf_grows_to_the_cap_and_then_reports_full() {
        let mut b = RecvBuf::new(4, 10);
        assert_eq!(b.spare().len(), 10); // MIN_READ clamps to the cap; grows to it
        let mut src: &[u8] = b"0123456789abc";
        assert_eq!(b.read_from(&mut src).unwrap(), ReadOutcome::Data(10));
        // BAD_INPUTS T1: full, so no read with an empty slice.
        assert_eq!(b.read_from(&mut src).unwrap(), ReadOutcome::Full);
        assert_eq!(src, b"abc");
        b.consume(9);
        assert_eq!(b.data(), b"9");
        assert_eq!(b.read_from(&mut src).unwrap(), ReadOutcome::Data(3));
        assert_eq!(b.data(), b"9abc");
        assert_eq!(b.read_from(&mut src).unwrap(), ReadOutcome::Eof);
    }

    #[test]
    fn recv_buf_compacts_cheaply_and_keeps_bytes() {
        let mut b = RecvBuf::new(8192, 8192);
        let spare = b.spare();
        assert_eq!(spare.len(), 8192);
        spare.fill(7);
        b.commit(8192);
        b.consume(8000);
        // 192 bytes left, 8000 freed: compaction is cheap, no growth.
        assert!(b.spare().len() >= 8000);
        assert_eq!(b.capacity(), 8192);
        assert_eq!(b.data(), &[7u8; 192][..]);
    }

    #[test]
    fn recv_buf_shrinks_after_a_large_frame() {
        // BAD_INPUTS T7
        let mut b = RecvBuf::new(16, 1 << 20);
        let mut src = vec![1u8; 4096];
        src.extend_from_slice(b"tail");
        let mut r = &src[..];
        for _ in 0..1000 {
            if r.is_empty() {
                break;
            }
            assert!(
                matches!(b.read_from(&mut r).unwrap(), ReadOutcome::Data(_)),
                "every read makes progress"
            );
        }
        assert!(r.is_empty());
        assert!(b.capacity() > 16 * 16);
        b.consume(4096);
        b.maybe_shrink();
        assert_eq!(b.capacity(), 16);
        assert_eq!(b.data(), b"tail");
    }

    #[test]
    fn recv_buf_reads_at_most_max_read_even_with_more_room() {
        struct Recorder(Vec<usize>);
        impl Read for Recorder {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.0.push(buf.len());
                buf.fill(1);
                Ok(buf.len())
            }
        }
        let mut b = RecvBuf::new(4 * MAX_READ, 8 * MAX_READ);
        let mut r = Recorder(Vec::new());
        for _ in 0..6 {
            assert_eq!(b.read_from(&mut r).unwrap(), ReadOutcome::Data(MAX_READ));
        }
        assert_eq!(r.0, vec![MAX_READ; 6]);
        assert_eq!(b.len(), 6 * MAX_READ);
        assert!(b.data().iter().all(|&x| x == 1));
    }

    #[test]
    fn recv_buf_keeps_reads_large_for_a_stream_of_large_frames() {
        // 64 KiB + 4 frames arriving in uneven pieces: every read after the
        // first few asks for a full 64 KiB (no trickle of small reads near
        // the buffer's end), the buffer stays bounded, no byte is lost.
        const FRAME: usize = 65_540;
        struct Counter {
            next: u8,
            sizes: Vec<usize>,
        }
        impl Read for Counter {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                // Sockets return what has arrived, often less than asked.
                const GIVE: [usize; 5] = [65_536, 65_483, 40_000, 65_536, 1_000];
                let n = buf.len().min(GIVE[self.sizes.len() % GIVE.len()]);
                self.sizes.push(buf.len());
                for b in buf[..n].iter_mut() {
                    *b = self.next;
                    self.next = self.next.wrapping_add(1);
                }
                Ok(n)
            }
        }
        let mut b = RecvBuf::new(64 * 1024, 8 << 20);
        let mut r = Counter { next: 0, sizes: Vec::new() };
        let mut expect = 0u8;
        for _ in 0..500 {
            b.read_from(&mut r).unwrap();
            while b.len() >= FRAME {
                assert!(b.data()[..FRAME].iter().all(|&x| {
                    let ok = x == expect;
                    expect = expect.wrapping_add(1);
                    ok
                }));
                b.consume(FRAME);
            }
        }
        assert!(r.sizes[10..].iter().all(|&n| n == MAX_READ), "{:?}", &r.sizes[..40]);
        assert!(b.capacity() <= 2 << 20, "capacity {}", b.capacity());
    }

    /// A buffer of `initial`..`cap` holding bytes `start..end` of a pattern,
    /// `size` bytes allocated.
    fn state(initial: usize, cap: usize, size: usize, start: usize, end: usize) -> RecvBuf {
        let mut b = RecvBuf::new(initial, cap);
        b.buf = vec![0; size];
        for (i, x) in b.buf.iter_mut().enumerate() {
            *x = i as u8;
        }
        b.start = start;
        b.end = end;
        b
    }

    fn check(b: &mut RecvBuf, capacity: usize, spare: usize, first: usize) {
        let len = b.len();
        assert_eq!(b.spare().len(), spare, "spare");
        assert_eq!(b.capacity(), capacity, "capacity");
        assert_eq!(b.len(), len, "bytes kept");
        let expect: Vec<u8> = (first..first + len).map(|i| i as u8).collect();
        assert_eq!(b.data(), &expect[..], "bytes intact");
    }

    #[test]
    fn spare_policy_at_its_boundaries() {
        const K: usize = 1024;
        // Exactly a useful read (half the buffer, at least 4 KiB) free at
        // the end: nothing moves.
        let mut b = state(4 * K, 1 << 20, 8 * K, 4000, 4 * K);
        check(&mut b, 8 * K, 4 * K, 4000);
        // 4 KiB left to move (the small-frame rule): compaction, no growth.
        let mut b = state(4 * K, 1 << 20, 8 * K, 4 * K, 8 * K);
        check(&mut b, 8 * K, 4 * K, 4 * K);
        // More than 4 KiB, and more than 1/8 of what compaction frees: grow.
        let mut b = state(4 * K, 1 << 20, 8 * K, 3192, 8 * K);
        check(&mut b, 16 * K, 8 * K, 3192);
        // Moving exactly 1/8 of what it frees: compaction, no growth.
        let mut b = state(4 * K, 1 << 20, 64 * K, 56_000, 63_000);
        check(&mut b, 64 * K, 64 * K - 7000, 56_000);
        // At the cap, compaction even when it is not cheap.
        let mut b = state(4 * K, 16 * K, 16 * K, 2000, 16 * K);
        check(&mut b, 16 * K, 2000, 2000);
        // Growth leaves room for a full useful read after the data.
        let mut b = state(4 * K, 1 << 20, 4 * K, 100, 4 * K);
        check(&mut b, 8 * K, 8 * K - (4 * K - 100), 100);
        // An empty buffer allocates its initial size on first use.
        let mut b = RecvBuf::new(6 * K, 1 << 20);
        assert_eq!(b.spare().len(), 6 * K);
        // At the cap with nothing to free: full, so no read (T1).
        let mut b = state(4 * K, 16 * K, 16 * K, 0, 16 * K);
        assert!(b.spare().is_empty());
    }

    #[test]
    fn shrinks_only_above_sixteen_times_the_initial_size() {
        // BAD_INPUTS T7 at its boundary: 16× is kept, more is released, and
        // only when what is left fits the initial size.
        let mut b = state(16, 1 << 20, 256, 250, 256);
        b.maybe_shrink();
        assert_eq!(b.capacity(), 256);
        let mut b = state(16, 1 << 20, 257, 240, 257);
        b.maybe_shrink();
        assert_eq!(b.capacity(), 257, "17 bytes left do not fit 16");
        let mut b = state(16, 1 << 20, 257, 241, 257);
        b.maybe_shrink();
        assert_eq!(b.capacity(), 16);
        let expect: Vec<u8> = (241..257).map(|i| i as u8).collect();
        assert_eq!(b.data(), &expect[..]);
    }

    #[test]
    fn commit_is_clamped_to_the_spare_length() {
        let mut b = RecvBuf::new(16, 16);
        let n = b.spare().len();
        b.commit(n + 10);
        assert_eq!(b.len(), n);
        b.commit(1);
        assert_eq!(b.len(), n);
    }

    #[test]
    fn send_queue_advances_and_caps() {
        let mut q = SendQueue::new(4);
        assert!(q.has_room(100)); // an empty queue takes one frame
        q.buffer_mut().extend_from_slice(b"abc");
        assert!(q.has_room(1));
        assert!(!q.has_room(2));
        q.advance(10); // clamped
        assert!(q.is_empty());
    }
}

//! The engine behind the byte-stuffing framings (SLIP, KISS, HDLC-style):
//! a frame is its escaped bytes followed by an END byte; inside it, END and
//! ESC are sent as ESC + a substitute.
//!
//! Decoding finds the END with a search (`memchr`, SIMD where the CPU has
//! it) that resumes where it stopped (need-more leaves the buffer
//! untouched), noting the first ESC on the way; a frame with nothing
//! escaped is scanned once and never copied, one with escapes is unescaped
//! in place inside its own bytes from its first ESC on. Empty frames (two ENDs
//! in a row: idle fill, or the leading END a sender puts before each frame)
//! are skipped as [`SkipReason::Empty`]; one leading END is kept in front of
//! the frame it opens, so fill never costs a decode call of its own.
//!
//! Errors (an invalid escape, an escape as the last byte, a bad check of the
//! framing built on top, a frame over the maximum) fail the stream, or, in
//! discard mode, skip the frame up to its END ([`SkipReason::Corrupt`],
//! [`SkipReason::Overlong`]) and go on with the next: resynchronisation is
//! the next END, and no byte is looked at twice by the search.

use bytes::{BufMut, BytesMut};

use crate::codec::{Frame, SkipReason};
use crate::error::DecodeError;
use memchr::{memchr, memchr2};

/// How the byte after ESC maps back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stuffing {
    /// SLIP/KISS: END is sent as ESC `end_sub`, ESC as ESC `esc_sub`; any
    /// other byte after ESC is an error.
    Slip { end_sub: u8, esc_sub: u8 },
    /// HDLC (RFC 1662): the byte after ESC is XORed with 0x20.
    Xor,
}

/// Byte-stuffing parameters and decoder state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Escaped {
    pub(crate) end: u8,
    pub(crate) esc: u8,
    pub(crate) stuffing: Stuffing,
    /// Largest payload (what `finish` returns), inclusive.
    pub(crate) max: usize,
    /// Bytes a frame carries after its payload (an FCS), escaped as well.
    pub(crate) trailer: usize,
    /// Skip corrupt and overlong frames instead of failing.
    pub(crate) discard: bool,
    // 1 if the frame being looked for has a leading END at buf[0].
    lead: usize,
    // No END in buf[lead..scanned]; 0 = nothing looked at yet.
    scanned: usize,
    // Where the first ESC of the frame is, once seen: frames without one
    // are found in one pass and never copied.
    first_esc: Option<usize>,
    // Inside an overlong frame, dropping bytes up to its END.
    discarding: bool,
    // A failed stream: the error repeats (frames are rewritten in place).
    failed: Option<DecodeError>,
}

impl Escaped {
    pub(crate) const fn new(end: u8, esc: u8, stuffing: Stuffing, max: usize, trailer: usize) -> Self {
        Escaped {
            end,
            esc,
            stuffing,
            max,
            trailer,
            discard: false,
            lead: 0,
            scanned: 0,
            first_esc: None,
            discarding: false,
            failed: None,
        }
    }

    /// Most escaped bytes between the leading END and the final END.
    fn body_max(&self) -> usize {
        self.max.saturating_add(self.trailer).saturating_mul(2)
    }

    /// A leading END, the body with every byte escaped, the final END.
    pub(crate) fn max_wire_len(&self) -> usize {
        self.body_max().saturating_add(2)
    }

    /// Decodes the next frame; `finish` gets the unescaped frame and returns
    /// the payload length (checking and dropping a trailer).
    #[inline]
    pub(crate) fn decode(
        &mut self,
        buf: &mut [u8],
        finish: impl FnOnce(&[u8]) -> Result<usize, DecodeError>,
    ) -> Result<Option<Frame>, DecodeError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.discarding {
            return Ok(self.discard_overlong(buf, false));
        }
        if self.scanned == 0 {
            let lead = buf.iter().take_while(|&&b| b == self.end).count();
            if lead >= 2 {
                // BAD_INPUTS K3: empty frames; keep one END to open the next.
                return Ok(Some(Frame::skipped(lead - 1, SkipReason::Empty, false)));
            }
            self.lead = lead;
            self.scanned = lead;
        }
        let limit = self.lead.saturating_add(self.body_max()).saturating_add(1);
        let window = buf.len().min(limit);
        let hay = buf.get(self.scanned..window).unwrap_or_default();
        let found = match self.first_esc {
            Some(_) => memchr(self.end, hay),
            // One pass for END or ESC (memchr2: SIMD where the CPU has it);
            // after the first ESC only END is looked for.
            None => match memchr2(self.end, self.esc, hay) {
                Some(p) if hay.get(p) == Some(&self.esc) => {
                    self.first_esc = Some(self.scanned + p);
                    let rest = hay.get(p + 1..).unwrap_or_default();
                    memchr(self.end, rest).map(|q| p + 1 + q)
                }
                other => other,
            },
        };
        let Some(p) = found else {
            if window >= limit {
                // BAD_INPUTS K4: no END within the longest frame.
                self.scanned = 0;
                self.first_esc = None;
                if self.discard {
                    self.discarding = true;
                    return Ok(self.discard_overlong(buf, true));
                }
                return Err(self.fail(DecodeError::DelimiterNotFound { max: self.max }));
            }
            self.scanned = window;
            return Ok(None);
        };
        let e = self.scanned + p;
        let lead = self.lead;
        let first_esc = self.first_esc.take();
        self.scanned = 0;
        if e == lead {
            // END END arriving in pieces: the first one is fill.
            return Ok(Some(Frame::skipped(lead, SkipReason::Empty, false)));
        }
        let consumed = e + 1;
        let body = buf.get_mut(lead..e).unwrap_or_default();
        let n = match first_esc {
            None => body.len(),
            Some(at) => {
                match unescape_in_place(body, at.saturating_sub(lead), self.end, self.esc, self.stuffing) {
                    Ok(n) => n,
                    Err(err) => return self.corrupt(consumed, err),
                }
            }
        };
        let k = match finish(body.get(..n).unwrap_or_default()) {
            Ok(k) => k,
            Err(err) => return self.corrupt(consumed, err),
        };
        if k > self.max {
            let err = DecodeError::FrameTooLarge { declared: k as u64, max: self.max };
            if self.discard {
                return Ok(Some(Frame::skipped(consumed, SkipReason::Overlong, true)));
            }
            return Err(self.fail(err));
        }
        Ok(Some(Frame::new(consumed, lead, lead + k)))
    }

    #[cold]
    fn fail(&mut self, e: DecodeError) -> DecodeError {
        self.failed = Some(e);
        e
    }

    #[cold]
    fn corrupt(&mut self, consumed: usize, e: DecodeError) -> Result<Option<Frame>, DecodeError> {
        if self.discard {
            return Ok(Some(Frame::skipped(consumed, SkipReason::Corrupt, true)));
        }
        Err(self.fail(e))
    }

    /// Drops an overlong frame as it streams in, up to and including its END.
    fn discard_overlong(&mut self, buf: &[u8], first: bool) -> Option<Frame> {
        match memchr(self.end, buf) {
            Some(e) => {
                self.discarding = false;
                Some(Frame::skipped(e + 1, SkipReason::Overlong, first))
            }
            None if buf.is_empty() => None,
            None => Some(Frame::skipped(buf.len(), SkipReason::Overlong, first)),
        }
    }

    /// Writes a frame: an optional leading END, the `parts` escaped one
    /// after the other, the final END. The caller checks sizes first.
    pub(crate) fn encode(&self, leading: bool, parts: &[&[u8]], dst: &mut BytesMut) {
        // Worst case: every byte escaped (sizes are bounded by the builders'
        // maximum, far below overflow; saturating all the same).
        let worst = parts.iter().fold(2usize, |acc, p| acc.saturating_add(p.len().saturating_mul(2)));
        dst.reserve(worst);
        if leading {
            dst.put_u8(self.end);
        }
        for &part in parts {
            let mut rest = part;
            while let Some(p) = memchr2(self.end, self.esc, rest) {
                let (run, tail) = rest.split_at(p);
                dst.extend_from_slice(run);
                let Some((&x, after)) = tail.split_first() else { break };
                dst.put_u8(self.esc);
                dst.put_u8(self.substitute(x));
                rest = after;
            }
            dst.extend_from_slice(rest);
        }
        dst.put_u8(self.end);
    }

    fn substitute(&self, x: u8) -> u8 {
        match self.stuffing {
            Stuffing::Slip { end_sub, esc_sub } => {
                if x == self.end {
                    end_sub
                } else {
                    esc_sub
                }
            }
            Stuffing::Xor => x ^ 0x20,
        }
    }
}

/// Unescapes `body` in place from `first` (its first ESC) on; returns the
/// unescaped length (the bytes are then `body[..n]`).
fn unescape_in_place(
    body: &mut [u8],
    first: usize,
    end: u8,
    esc: u8,
    stuffing: Stuffing,
) -> Result<usize, DecodeError> {
    let len = body.len();
    // Invariant: w <= r, so writes never overtake unread bytes. Nothing
    // before `first` is escaped: it is in place already.
    let (mut r, mut w) = (first, first);
    loop {
        let hay = body.get(r..).unwrap_or_default();
        let Some(p) = memchr(esc, hay) else {
            if w != r {
                body.copy_within(r..len, w);
            }
            return Ok(w + (len - r));
        };
        let at = r + p;
        if w != r {
            body.copy_within(r..at, w);
        }
        w += p;
        // BAD_INPUTS K1: an escape as the last byte of the frame (for HDLC,
        // 7D 7E: the sender aborted the frame).
        let Some(&x) = body.get(at + 1) else {
            return Err(DecodeError::InvalidFraming { offset: at, reason: "escape at the end of the frame" });
        };
        let v = match stuffing {
            Stuffing::Slip { end_sub, esc_sub } => {
                if x == end_sub {
                    end
                } else if x == esc_sub {
                    esc
                } else {
                    // BAD_INPUTS K2: an escape followed by an invalid byte.
                    return Err(DecodeError::InvalidFraming {
                        offset: at,
                        reason: "escape followed by an invalid byte",
                    });
                }
            }
            Stuffing::Xor => x ^ 0x20,
        };
        if let Some(slot) = body.get_mut(w) {
            *slot = v;
        }
        w += 1;
        r = at + 2;
    }
}

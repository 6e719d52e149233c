//! A decoder that notes the regions its inner decoder skips, so that
//! `decode` can report each one on its own stderr line (with its reason and
//! size) while the frames go through the library's driver as usual.

use sockframe::{DecodeError, Decoder, Frame, SkipReason};

/// One skipped region: why, and how many bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub reason: SkipReason,
    pub bytes: u64,
}

impl Region {
    pub fn describe(&self) -> String {
        let what = match self.reason {
            SkipReason::Overlong => "an overlong frame",
            SkipReason::Corrupt => "a corrupt frame",
            _ => "bytes that are not a frame",
        };
        format!("{what} ({} bytes)", self.bytes)
    }
}

/// Wraps a decoder; every skip frame that starts a region opens a
/// [`Region`], and the skip frames that continue it add their bytes. Empty
/// fill between frames (SLIP/KISS/HDLC) is not a region and not noted.
#[derive(Debug)]
pub struct SkipLog<C> {
    inner: C,
    regions: Vec<Region>,
    open: bool,
}

impl<C> SkipLog<C> {
    pub fn new(inner: C) -> Self {
        SkipLog { inner, regions: Vec::new(), open: false }
    }

    /// The regions noted since the last call (the last may still grow if
    /// the stream is inside it).
    pub fn take(&mut self) -> Vec<Region> {
        std::mem::take(&mut self.regions)
    }

    fn note(&mut self, frame: &Option<Frame>) {
        let Some(f) = frame else { return };
        match f.skip_reason() {
            None => self.open = false,
            Some(SkipReason::Empty) => {}
            Some(reason) => {
                if f.starts_skip_region() || !self.open || self.regions.is_empty() {
                    self.regions.push(Region { reason, bytes: 0 });
                    self.open = true;
                }
                if let Some(r) = self.regions.last_mut() {
                    r.bytes = r.bytes.saturating_add(f.consumed() as u64);
                }
            }
        }
    }
}

impl<C: Decoder> Decoder for SkipLog<C> {
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        let frame = self.inner.decode(buf)?;
        self.note(&frame);
        Ok(frame)
    }

    fn decode_eof(&mut self, buf: &mut [u8]) -> Result<Option<Frame>, DecodeError> {
        let frame = self.inner.decode_eof(buf)?;
        self.note(&frame);
        Ok(frame)
    }

    fn max_wire_len(&self) -> usize {
        self.inner.max_wire_len()
    }
}

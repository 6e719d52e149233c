//! Byte searches shared by the delimiter and escape framings: eight bytes
//! at a time in safe code (SWAR), so that a frame with nothing to find in it
//! is scanned at close to memory speed.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `word` equal to the byte in `pattern`
/// (`LO * byte`); a borrow can also flag bytes above a match, never below,
/// so the lowest flag is exact.
#[inline(always)]
fn matches(word: u64, pattern: u64) -> u64 {
    let x = word ^ pattern;
    x.wrapping_sub(LO) & !x & HI
}

/// The first `needle` in `hay`.
#[inline]
pub(crate) fn find_byte(needle: u8, hay: &[u8]) -> Option<usize> {
    let pattern = LO * u64::from(needle);
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else { break };
        let m = matches(u64::from_le_bytes(word), pattern);
        if m != 0 {
            return Some(base + (m.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks.remainder().iter().position(|&b| b == needle).map(|p| base + p)
}

/// The first byte of `hay` equal to `a` or to `b`.
#[inline]
pub(crate) fn find_either(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    let (pa, pb) = (LO * u64::from(a), LO * u64::from(b));
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else { break };
        let w = u64::from_le_bytes(word);
        // Each mask's lowest flag is exact, so the lowest of the two is.
        let m = matches(w, pa) | matches(w, pb);
        if m != 0 {
            return Some(base + (m.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks.remainder().iter().position(|&x| x == a || x == b).map(|p| base + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_agree_with_position_at_every_offset() {
        // Every alignment, with the needle at every place, and bytes on either
        // side of it that could borrow into a false match (needle - 1, + 1,
        // 0x80 | needle).
        for needle in [0x00u8, 0x01, 0x0a, 0x7e, 0x80, 0xc0, 0xdb, 0xff] {
            for len in 0..40 {
                for at in 0..=len {
                    let mut hay: alloc::vec::Vec<u8> = (0..len)
                        .map(|i| [needle.wrapping_sub(1), needle.wrapping_add(1), needle ^ 0x80][i % 3])
                        .collect();
                    if at < len {
                        hay[at] = needle;
                    }
                    let want = hay.iter().position(|&b| b == needle);
                    assert_eq!(find_byte(needle, &hay), want, "{needle:#x} {len} {at}");
                    let other = needle.wrapping_add(7);
                    let want2 = hay.iter().position(|&b| b == needle || b == other);
                    assert_eq!(find_either(needle, other, &hay), want2, "{needle:#x} {len} {at}");
                    assert_eq!(find_either(other, needle, &hay), want2, "{needle:#x} {len} {at}");
                }
            }
        }
    }
}

//! The delimiter search: eight bytes at a time in safe code (SWAR), which
//! measured faster than `memchr` on the short lines it mostly scans (the
//! escape framings, whose frames run long, use `memchr`).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_agrees_with_position_at_every_offset() {
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
                }
            }
        }
    }
}

//! ROT13, branch-free: one byte (`rot13_char`, the seed's landmark) and whole
//! buffers eight bytes at a time (SWAR), so the transform vectorises even in a
//! size-optimised build, where the compiler's own loop vectoriser is off.

/// Eight copies of a byte value, one per lane of a `u64`.
const fn lanes(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// Returns the ROT13 of `c`: `A-Z` and `a-z` rotate by 13, every other byte is
/// returned unchanged.
///
/// Same arithmetic as [`rot13_word`] on a single lane: no branch, no table.
#[inline]
pub const fn rot13_char(c: u8) -> u8 {
    let l = (c & 0x7f) | 0x20; // folded to lower case, bit 7 kept out of the sums
    // Each sum sets bit 7 exactly when `l` reaches the bound; `l <= 0x7f` so none wraps.
    let letter = (l + 0x1f) & !(l + 0x05) & !c & 0x80; // 'a' <= l <= 'z', and c < 0x80
    let back = (letter & (l + 0x12)) >> 7; // 'n'..='z': 13 back
    let fwd = (letter >> 7) ^ back; // 'a'..='m': 13 on
    c.wrapping_add(fwd * 13).wrapping_sub(back * 13)
}

/// Returns the ROT13 of eight bytes packed in a word.
///
/// Every lane holds at most 0x7f after masking, so adding the bounds below 0x80
/// never carries into the next lane, and a letter rotated by 13 stays a letter,
/// so neither can the final add and subtract.
#[inline]
pub const fn rot13_word(x: u64) -> u64 {
    let l = (x & lanes(0x7f)) | lanes(0x20);
    let ge_a = l + lanes(0x80 - b'a');
    let gt_z = l + lanes(0x80 - b'z' - 1);
    let ge_n = l + lanes(0x80 - b'n');
    let letter = ge_a & !gt_z & !x & lanes(0x80);
    let back = (letter & ge_n) >> 7;
    let fwd = (letter >> 7) ^ back;
    x.wrapping_add(fwd * 13).wrapping_sub(back * 13)
}

/// Applies ROT13 to every byte of `buf` in place.
///
/// The inner loop is eight bytes a step with no branch on the data:
/// load a `u64`, [`rot13_word`] (four adds, a handful of masks), store.
pub fn rot13(buf: &mut [u8]) {
    let (words, tail) = buf.as_chunks_mut::<8>();
    for w in words {
        *w = rot13_word(u64::from_ne_bytes(*w)).to_ne_bytes();
    }
    for c in tail {
        *c = rot13_char(*c);
    }
}

/// Applies ROT13 to the first `n` bytes of `buf` in whole words only, so
/// up to seven bytes after them are transformed too: `buf` must have them
/// (`n + 7 <= buf.len()`). For buffers that keep that slack (the line buffer
/// does) it is one loop where [`rot13`] needs a second one for the tail.
pub fn rot13_words(buf: &mut [u8], n: usize) {
    debug_assert!(n + 7 <= buf.len());
    for w in buf.as_chunks_mut::<8>().0.iter_mut().take(n.div_ceil(8)) {
        *w = rot13_word(u64::from_ne_bytes(*w)).to_ne_bytes();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's `rot13_char`, transcribed: the reference.
    fn seed(c: u8) -> u8 {
        match c {
            b'a'..=b'm' | b'A'..=b'M' => c + 13,
            b'n'..=b'z' | b'N'..=b'Z' => c - 13,
            _ => c,
        }
    }

    #[test]
    fn every_byte_value() {
        for c in 0..=255u8 {
            assert_eq!(rot13_char(c), seed(c), "byte {c:#04x}");
            assert_eq!(rot13_char(rot13_char(c)), c);
        }
    }

    #[test]
    fn every_byte_in_every_lane() {
        for c in 0..=255u8 {
            for lane in 0..8 {
                let mut b = [b'Q', 0xff, b'z', 0, b'a', b'M', 0x80, b'N'];
                b[lane] = c;
                let want: Vec<u8> = b.iter().map(|&x| seed(x)).collect();
                assert_eq!(rot13_word(u64::from_ne_bytes(b)).to_ne_bytes().to_vec(), want);
            }
        }
    }

    #[test]
    fn buffers_of_every_length_and_offset() {
        let src: Vec<u8> = (0..300u32).map(|i| (i * 37 + 11) as u8).collect();
        for start in 0..9 {
            for len in 0..(src.len() - start) {
                let mut b = src[start..start + len].to_vec();
                rot13(&mut b);
                let want: Vec<u8> = src[start..start + len].iter().map(|&x| seed(x)).collect();
                assert_eq!(b, want);
            }
        }
    }

    #[test]
    fn words_cover_every_length_with_slack() {
        let src: Vec<u8> = (0..300u32).map(|i| (i * 37 + 11) as u8).collect();
        for n in 0..290 {
            let mut b = src[..n + 7].to_vec();
            rot13_words(&mut b, n);
            let want: Vec<u8> = src[..n].iter().map(|&x| seed(x)).collect();
            assert_eq!(&b[..n], &want[..], "{n}");
        }
    }

    #[test]
    fn text() {
        let mut b = *b"Hello, World! 123 \xc3\xa9\n";
        rot13(&mut b);
        assert_eq!(&b, b"Uryyb, Jbeyq! 123 \xc3\xa9\n");
    }
}

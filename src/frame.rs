//! Line framing: the seed's `outbuf`, without its two defects (a line over the
//! buffer was cut short, and an unterminated last line was dropped).
//!
//! Bytes are read straight into the buffer behind the partial line it holds,
//! turned into ROT13 in place, and everything up to the last newline is ready
//! to go out with one send. A line longer than the buffer goes out in
//! buffer-sized pieces; at end of input the caller sends [`Lines::held`].

use crate::rot13::rot13_words;

/// Bytes a buffer needs past its capacity: ROT13 goes in whole words (see
/// [`rot13_words`]), so up to seven bytes after the data are scribbled on.
pub const SLACK: usize = 7;

/// A fixed line buffer. Invariant: the `held` bytes at its front are already
/// transformed and contain no newline.
pub struct Lines<'a> {
    buf: &'a mut [u8],
    held: usize,
    cap: usize,
}

impl<'a> Lines<'a> {
    /// Wraps an empty buffer of more than [`SLACK`] bytes; it holds
    /// `buf.len() - SLACK` bytes of data.
    pub fn new(buf: &'a mut [u8]) -> Self {
        let cap = buf.len() - SLACK;
        Lines { buf, held: 0, cap }
    }

    /// The free space where the next read goes.
    pub fn space(&mut self) -> &mut [u8] {
        &mut self.buf[self.held..self.cap]
    }

    /// Takes `n` bytes just read into [`space`](Self::space), and returns how
    /// many bytes at the front are ready to send (0: wait for more).
    pub fn arrived(&mut self, n: usize) -> usize {
        let start = self.held;
        let end = start + n;
        rot13_words(&mut self.buf[start..], n);
        self.held = end;
        // ROT13 leaves b'\n' alone, so the search can run on the output.
        match self.buf[start..end].iter().rposition(|&b| b == b'\n') {
            Some(i) => start + i + 1,
            None if end == self.cap => end,
            None => 0,
        }
    }

    /// The first `k` bytes, as returned by [`arrived`](Self::arrived).
    pub fn ready(&self, k: usize) -> &[u8] {
        &self.buf[..k]
    }

    /// Drops the first `k` bytes once they are sent; the partial line that
    /// follows moves to the front (it is shorter than one line, so this is cheap).
    pub fn sent(&mut self, k: usize) {
        self.buf.copy_within(k..self.held, 0);
        self.held -= k;
    }

    /// What is held: the last partial line, to send at end of input.
    pub fn held(&self) -> &[u8] {
        &self.buf[..self.held]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Rng, rot, run_framing as run};

    #[test]
    fn lines_and_tail() {
        let input = b"Hello\nWorld\nno newline";
        assert_eq!(run(input, 8, &mut || 3), rot(input));
        assert_eq!(run(input, 4096, &mut || 4096), rot(input));
    }

    #[test]
    fn long_line_goes_out_in_buffer_sized_pieces() {
        let input = [b'a'; 100];
        let mut storage = [0u8; 16 + SLACK];
        let mut lines = Lines::new(&mut storage);
        lines.space()[..10].copy_from_slice(&input[..10]);
        assert_eq!(lines.arrived(10), 0);
        lines.space().copy_from_slice(&input[..6]);
        assert_eq!(lines.arrived(6), 16);
        assert_eq!(lines.ready(16), &[b'n'; 16]);
        lines.sent(16);
        assert!(lines.held().is_empty());
    }

    #[test]
    fn flush_up_to_last_newline_only() {
        let mut storage = [0u8; 64 + SLACK];
        let mut lines = Lines::new(&mut storage);
        lines.space()[..8].copy_from_slice(b"ab\ncd\nef");
        assert_eq!(lines.arrived(8), 6);
        assert_eq!(lines.ready(6), b"no\npq\n");
        lines.sent(6);
        assert_eq!(lines.held(), b"rs");
        lines.space()[..2].copy_from_slice(b"g\n");
        assert_eq!(lines.arrived(2), 4);
        assert_eq!(lines.ready(4), b"rst\n");
    }

    #[test]
    fn random_inputs_in_random_splits() {
        // 100,000 cases: random bytes biased toward newlines, random buffer
        // sizes, and reads of 1 byte, random sizes, and more than the buffer.
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..100_000 {
            let len = rng.below(if case % 100 == 0 { 20_000 } else { 300 });
            let input: Vec<u8> = (0..len)
                .map(|_| match rng.below(8) {
                    0 => b'\n',
                    1 => rng.below(256) as u8,
                    _ => b'A' + rng.below(58) as u8,
                })
                .collect();
            let cap = 1 + rng.below(if case % 3 == 0 { 8 } else { 512 });
            let mode = case % 4;
            let mut r2 = Rng(rng.next() | 1);
            let mut sizes = move || match mode {
                0 => 1,
                1 => 1 + r2.below(7),
                2 => 1 + r2.below(2 * cap),
                _ => usize::MAX,
            };
            assert_eq!(run(&input, cap, &mut sizes), rot(&input), "case {case}");
        }
    }
}

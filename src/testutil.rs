//! What the unit tests share: a seeded generator, so that a failure
//! replays; the text of a message line and of an address; and the line
//! framing run over a whole input, checked on the way.

use crate::addr::Ip;
use crate::frame::{Lines, SLACK};
use crate::msg::Msg;
use crate::rot13::rot13_char;

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The text of a finished line, without its newline.
pub fn text(mut m: Msg) -> String {
    let line = m.line();
    String::from_utf8(line[..line.len() - 1].to_vec()).unwrap()
}

/// An address as the log prints it.
pub fn show(ip: Ip) -> String {
    let mut m = Msg::plain();
    m.ip(ip);
    text(m)
}

/// The ROT13 of `input`, a byte at a time: the reference.
pub fn rot(input: &[u8]) -> Vec<u8> {
    input.iter().map(|&c| rot13_char(c)).collect()
}

/// Runs `input` through a `Lines` of `cap` bytes in the read sizes that
/// `sizes` gives, as `child_run` does, and checks every flush against the
/// contract: a flush is everything up to the last newline received, or a
/// full buffer. Returns everything sent.
pub fn run_framing(input: &[u8], cap: usize, sizes: &mut dyn FnMut() -> usize) -> Vec<u8> {
    // The slack starts as odd bytes: none of it may ever go out.
    let mut storage: Vec<u8> = (0..cap + SLACK).map(|i| (i * 151 + cap) as u8).collect();
    let mut lines = Lines::new(&mut storage);
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        let space = lines.space();
        let n = sizes().clamp(1, space.len()).min(input.len() - pos);
        space[..n].copy_from_slice(&input[pos..pos + n]);
        pos += n;
        let k = lines.arrived(n);
        let since = &input[pos - n..pos];
        if let Some(i) = since.iter().rposition(|&b| b == b'\n') {
            assert_eq!(out.len() + k, pos - n + i + 1, "flush at newline");
        } else if k > 0 {
            assert_eq!(k, cap, "a flush without a newline is a full buffer");
        }
        out.extend_from_slice(lines.ready(k));
        lines.sent(k);
        assert!(!lines.held().contains(&b'\n'));
        assert!(lines.held().len() < cap);
    }
    out.extend_from_slice(lines.held());
    out
}

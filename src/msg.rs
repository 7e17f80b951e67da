//! Messages without `core::fmt`: a fixed line buffer that numbers, addresses
//! and error texts are appended to, written out with one write(2) so lines from
//! the parent and its signal handler never interleave.

/// Longest message; anything longer (a huge argument echoed back) is cut, and
/// the line still ends in a newline.
pub const MSG_MAX: usize = 240;

/// One line being built.
pub struct Msg {
    buf: [u8; MSG_MAX],
    len: usize,
}

impl Msg {
    /// A line for stderr: the program name, then `first`.
    pub fn new(first: &[u8]) -> Self {
        let mut m = Self::plain();
        m.push(b"rot13d: ").push(first);
        m
    }

    /// A line with no prefix (usage and version go to stdout).
    pub fn plain() -> Self {
        Msg { buf: [0; MSG_MAX], len: 0 }
    }

    /// Appends one byte, keeping the last place for the newline.
    /// (`len < MSG_MAX - 1` here is what lets the compiler drop the bounds
    /// check: no panic path in the binary for it.)
    fn byte(&mut self, b: u8) {
        if self.len < MSG_MAX - 1 {
            self.buf[self.len] = b;
            self.len += 1;
        }
    }

    /// Appends bytes.
    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        for &b in s {
            self.byte(b);
        }
        self
    }

    /// Appends `n` in decimal.
    pub fn num(&mut self, n: u32) -> &mut Self {
        self.digits(n, 10)
    }

    /// Appends `n` in lower-case hex without leading zeros.
    pub fn hex(&mut self, n: u16) -> &mut Self {
        self.digits(n as u32, 16)
    }

    /// Appends `n` in base `radix` (10 or 16), most significant digit first:
    /// the recursion is at most 10 deep and needs no digit buffer.
    fn digits(&mut self, n: u32, radix: u32) -> &mut Self {
        if n >= radix {
            self.digits(n / radix, radix);
        }
        self.byte(b"0123456789abcdef"[(n % radix) as usize & 15]);
        self
    }

    /// Ends the line and returns it, newline included.
    #[inline(never)] // called from sys::say twice, and the tests
    pub fn line(&mut self) -> &[u8] {
        let n = self.len.min(MSG_MAX - 1);
        self.buf[n] = b'\n';
        &self.buf[..n + 1]
    }
}

/// Words for the errno values a user may meet, lower case
/// (`bind: address already in use`): each text follows its number with the
/// top bit set. One string and a scan, where a `match` would cost a table.
/// The numbers are the generic Linux ones (MIPS, SPARC, Alpha renumber the
/// higher ones: there those print as `error N`).
const ERRNO_TEXT: &[u8] = b"\x81operation not permitted\x89bad file descriptor\
\x8bresource temporarily unavailable\x8cout of memory\x8dpermission denied\x96invalid argument\
\x97too many open files in system\x98too many open files\xd8not a socket\
\xdfoperation not supported\xe1address family not supported\xe2address already in use\
\xe3address not available\xe9no buffer space available";

impl Msg {
    /// Appends the cause of a failed call: its words, or `error N`.
    pub fn errno(&mut self, errno: i32) -> &mut Self {
        // The bytes after the tag, up to the next tag, are the words.
        let (mut on, mut found) = (false, false);
        let known = (1..128).contains(&errno)
            && !(cfg!(any(target_arch = "mips", target_arch = "mips64", target_arch = "sparc64")) && errno > 40);
        // An unknown errno gets tag 0, which no tag (top bit set) equals.
        let tag = if known { 0x80 | errno as u8 } else { 0 };
        for &b in ERRNO_TEXT {
            if b >= 0x80 {
                on = b == tag;
                found |= on;
            } else if on {
                self.byte(b);
            }
        }
        if !found {
            self.push(b"error ").num(errno as u32);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_line() {
        let mut m = Msg::new(b"bind: ");
        m.errno(98);
        assert_eq!(m.line(), b"rot13d: bind: address already in use\n");
        let mut m = Msg::new(b"x ");
        m.errno(4095);
        assert_eq!(m.line(), b"rot13d: x error 4095\n");
    }

    #[test]
    fn numbers() {
        for n in [0u32, 7, 10, 65535, 4_294_967_295] {
            let mut m = Msg::plain();
            m.num(n);
            assert_eq!(m.line(), format!("{n}\n").as_bytes());
        }
        for n in [0u16, 1, 0xf, 0x10, 0xabc, 0x1000, 0xffff] {
            let mut m = Msg::plain();
            m.hex(n);
            assert_eq!(m.line(), format!("{n:x}\n").as_bytes());
        }
    }

    #[test]
    fn long_lines_are_cut_but_end_in_newline() {
        let mut m = Msg::new(&[b'x'; 1000]);
        let line = m.line();
        assert_eq!(line.len(), MSG_MAX);
        assert_eq!(line.last(), Some(&b'\n'));
    }

    #[test]
    fn errno_words_match_the_c_library() {
        let words = |e: i32| {
            let mut m = Msg::plain();
            let l = m.errno(e).line();
            String::from_utf8(l[..l.len() - 1].to_vec()).unwrap()
        };
        // Where the C library's words are already plain, ours are the same.
        for e in [1, 9, 11, 13, 22, 23, 24, 97, 98, 105] {
            let ours = words(e);
            let libc = std::io::Error::from_raw_os_error(e).to_string().to_lowercase();
            assert!(libc.starts_with(&ours), "{e}: {ours} / {libc}");
        }
        assert_eq!(words(88), "not a socket");
        assert_eq!(words(99), "address not available");
        assert_eq!(words(12), "out of memory");
        assert_eq!(words(24), "too many open files");
        assert_eq!(words(105), "no buffer space available");
        assert_eq!(words(95), "operation not supported");
        for e in [0, 3, 127, 128, 0x80 + 98, 4095] {
            assert_eq!(words(e), format!("error {e}"), "{e}");
        }
    }
}

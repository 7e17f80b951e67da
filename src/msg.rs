//! Messages without `core::fmt`: a fixed line that words, numbers,
//! addresses and error texts are appended to, written out whole with one
//! write(2), so that lines from the parent and its signal handler never
//! interleave.

use linux_raw_sys::errno;

/// The longest line; anything longer (a huge argument echoed back) is cut,
/// and the line still ends in a newline. Room for the longest startup line:
/// an IPv6 address with its port and a socket name from systemd.
pub const MSG_MAX: usize = 512;

/// One line being built, in a fixed buffer whose last byte is kept for
/// the newline.
pub struct Msg {
    buf: [u8; MSG_MAX],
    len: usize,
}

impl Msg {
    /// A line for stderr: the program's name, then `first`.
    pub fn new(first: &[u8]) -> Self {
        let mut m = Self::plain();
        m.push(b"rot13d: ").push(first);
        m
    }

    /// An empty line, with no prefix (the help text goes to stdout).
    pub fn plain() -> Self {
        Msg { buf: [0; MSG_MAX], len: 0 }
    }

    /// Appends one byte, keeping the last place for the newline.
    fn byte(&mut self, b: u8) {
        if self.len < MSG_MAX - 1 {
            self.buf[self.len] = b;
            self.len += 1;
        }
    }

    /// How many bytes there are so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends bytes.
    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        for &b in s {
            self.byte(b);
        }
        self
    }

    /// Appends `n` in decimal.
    pub fn num(&mut self, n: u64) -> &mut Self {
        self.digits(n, 10)
    }

    /// Appends `n` in lower-case hex, without leading zeros.
    pub fn hex(&mut self, n: u16) -> &mut Self {
        self.digits(n as u64, 16)
    }

    /// Appends `n` in base `radix` (10 or 16), most significant digit
    /// first: the recursion is at most 20 deep and needs no digit buffer.
    fn digits(&mut self, n: u64, radix: u64) -> &mut Self {
        if n >= radix {
            self.digits(n / radix, radix);
        }
        self.byte(b"0123456789abcdef"[(n % radix) as usize]);
        self
    }

    /// Appends what a user typed (an argument, a name from a file) as it
    /// was, but with any byte that is not printable ASCII as `\xNN`, so
    /// that no control character reaches a terminal or a log.
    pub fn shown(&mut self, s: &[u8]) -> &mut Self {
        for &b in s {
            if (0x20..0x7f).contains(&b) {
                self.byte(b);
            } else {
                self.push(b"\\x");
                self.byte(b"0123456789abcdef"[(b >> 4) as usize]);
                self.byte(b"0123456789abcdef"[(b & 15) as usize]);
            }
        }
        self
    }

    /// Appends the cause of a failed call: its words (`address already in
    /// use`), or `error N` for a number without words here.
    pub fn errno(&mut self, e: i32) -> &mut Self {
        // Each entry of PACKED: the number, the length, the words.
        let mut rest = &PACKED[..];
        while let [n, len, more @ ..] = rest {
            let (words, next) = more.split_at((*len as usize).min(more.len()));
            if *n as i32 == e {
                return self.push(words);
            }
            rest = next;
        }
        self.push(b"error ").num(e as u64)
    }

    /// The text so far, without a newline.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len.min(MSG_MAX - 1)]
    }

    /// Ends the line and returns it, newline included. (`len` never passes
    /// `MSG_MAX - 1`; the `min` tells the compiler so, and spares the binary
    /// a panic path.)
    pub fn line(&mut self) -> &[u8] {
        let n = self.len.min(MSG_MAX - 1);
        self.buf[n] = b'\n';
        &self.buf[..n + 1]
    }
}

/// Words for the errors a user may meet, lower case and without a full
/// stop, as they follow a colon (`bind: address already in use`). The
/// numbers come by name from the kernel's headers, so they are right on
/// every architecture (MIPS numbers some of them differently).
const ERRNO_WORDS: &[(u32, &str)] = &[
    (errno::EPERM, "operation not permitted"),
    (errno::ENOENT, "no such file or directory"),
    (errno::EBADF, "bad file descriptor"),
    (errno::EAGAIN, "resource temporarily unavailable"),
    (errno::ENOMEM, "out of memory"),
    (errno::EACCES, "permission denied"),
    (errno::EINVAL, "invalid argument"),
    (errno::ENFILE, "too many open files in system"),
    (errno::EMFILE, "too many open files"),
    (errno::EFBIG, "file too large"),
    (errno::ENOTSOCK, "not a socket"),
    (errno::EOPNOTSUPP, "operation not supported"),
    (errno::EAFNOSUPPORT, "address family not supported"),
    (errno::EADDRINUSE, "address already in use"),
    (errno::EADDRNOTAVAIL, "address not available"),
    (errno::ENOBUFS, "no buffer space available"),
];

/// [`ERRNO_WORDS`] packed at compile time into one run of bytes (each
/// entry: the number, the length of its words, the words), so that the
/// binary holds the words and not a pointer to each.
const PACKED: [u8; packed_len()] = pack();

const fn packed_len() -> usize {
    let (mut n, mut i) = (0, 0);
    while i < ERRNO_WORDS.len() {
        n += 2 + ERRNO_WORDS[i].1.len();
        i += 1;
    }
    n
}

const fn pack() -> [u8; packed_len()] {
    let mut out = [0; packed_len()];
    let (mut at, mut i) = (0, 0);
    while i < ERRNO_WORDS.len() {
        let (e, words) = (ERRNO_WORDS[i].0, ERRNO_WORDS[i].1.as_bytes());
        assert!(e < 256 && words.len() < 256);
        out[at] = e as u8;
        out[at + 1] = words.len() as u8;
        let mut j = 0;
        while j < words.len() {
            out[at + 2 + j] = words[j];
            j += 1;
        }
        at += 2 + words.len();
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::text;

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
        for n in [0u64, 7, 10, 65535, 4_294_967_295, u64::MAX] {
            let mut m = Msg::plain();
            m.num(n);
            assert_eq!(text(m), n.to_string());
        }
        for n in [0u16, 1, 0xf, 0x10, 0xabc, 0x1000, 0xffff] {
            let mut m = Msg::plain();
            m.hex(n);
            assert_eq!(text(m), format!("{n:x}"));
        }
    }

    #[test]
    fn what_a_user_typed_is_shown_safely() {
        let mut m = Msg::plain();
        m.shown(b"bob\n\x1b[2J\xff ok");
        assert_eq!(text(m), r"bob\x0a\x1b[2J\xff ok");
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
            m.errno(e);
            text(m)
        };
        // Where the C library's words are already plain, ours are the same.
        for &(e, ours) in ERRNO_WORDS {
            let libc = std::io::Error::from_raw_os_error(e as i32).to_string().to_lowercase();
            let plain = ours
                .replace("out of memory", "cannot allocate memory")
                .replace("not a socket", "socket operation on non-socket");
            let plain = plain.replace("address not available", "cannot assign requested address");
            assert!(libc.starts_with(&plain) || libc.starts_with(ours), "{e}: {ours} / {libc}");
        }
        for e in [0, 3, 127, 128, 4095] {
            assert_eq!(words(e), format!("error {e}"), "{e}");
        }
    }
}

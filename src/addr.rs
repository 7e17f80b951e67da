//! Numeric addresses and numbers: parsing for the command line (`-l` in
//! every form it takes), printing for the startup line and the log, without
//! `core::fmt` or `core::net`'s parser.

use crate::msg::Msg;

/// The IPv4-mapped prefix, `::ffff:0:0/96`.
const MAPPED: [u8; 12] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/// An IP address, always in its 16-byte IPv6 form (IPv4 as `::ffff:a.b.c.d`,
/// network byte order), so that one comparison, one table key and one
/// printer serve both families; `v6` says which family it came in (or is to
/// be bound) as.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ip {
    pub bytes: [u8; 16],
    pub v6: bool,
}

impl Ip {
    /// An IPv4 address.
    pub const fn v4(q: [u8; 4]) -> Ip {
        // `::ffff:` and the four bytes, as one number.
        let n = 0xffff << 32 | u32::from_be_bytes(q) as u128;
        Ip { bytes: n.to_be_bytes(), v6: false }
    }

    /// An IPv6 address.
    pub const fn v6(bytes: [u8; 16]) -> Ip {
        Ip { bytes, v6: true }
    }

    /// The IPv4 address, when this is one (mapped or not).
    pub fn ipv4(&self) -> Option<[u8; 4]> {
        let b = &self.bytes;
        (b[..12] == MAPPED).then_some([b[12], b[13], b[14], b[15]])
    }

    /// Whether this is an IPv6 link-local address (`fe80::/10`), which
    /// means nothing without the interface it is on.
    pub fn is_link_local(&self) -> bool {
        self.bytes[0] == 0xfe && self.bytes[1] & 0xc0 == 0x80
    }

    /// The key for `-C`, which counts sessions per client: an IPv4 address
    /// is a client (whether it came in over an IPv4 or an IPv6 socket), and
    /// so is an IPv6 /64, the least a site or a host is given: one host
    /// with a /64 has 2^64 addresses to come from.
    pub fn client_key(&self) -> u128 {
        let n = u128::from_be_bytes(self.bytes);
        if self.ipv4().is_some() { n } else { n & !(u64::MAX as u128) }
    }
}

/// Parses a decimal number from 0 to `max`: digits only, no sign, no
/// overflow.
pub fn parse_num(s: &[u8], max: u64) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    (n <= max).then_some(n)
}

/// Parses a dotted quad, as inet_pton does: four decimal parts of 0-255, no
/// leading zeros (they would read as octal to inet_aton).
pub fn parse_v4(s: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    // `part`: the part being read; `n`, `digits`: its value and length so far.
    let (mut part, mut n, mut digits) = (0, 0u32, 0);
    // A dot after the last byte ends the last part like the others.
    let mut i = 0;
    while i <= s.len() {
        let c = s.get(i).copied().unwrap_or(b'.');
        i += 1;
        if c == b'.' {
            if digits == 0 {
                return None;
            }
            *out.get_mut(part)? = n as u8;
            (part, n, digits) = (part + 1, 0, 0);
        } else {
            let d = c.wrapping_sub(b'0') as u32;
            // Digits only, no leading zero, at most 255.
            if d > 9 || (digits > 0 && n == 0) {
                return None;
            }
            n = n * 10 + d;
            digits += 1;
            if n > 255 {
                return None;
            }
        }
    }
    (part == 4).then_some(out)
}

/// Parses an IPv6 address in any RFC 4291 text form: hex groups, one `::`,
/// and an optional dotted quad in the last 32 bits. One pass over the bytes;
/// the groups after `::` move to the end at the close.
pub fn parse_v6(s: &[u8]) -> Option<[u8; 16]> {
    let mut g = [0u16; 8];
    // `n`: groups read; `gap`: where the `::` stands (9: none, as a `::`
    // after all eight groups stands at 8); `run`: colons in a row; `v`,
    // `digits`: the group being read, from `start`.
    let (mut n, mut gap, mut run, mut v, mut digits, mut start) = (0, 9, 0, 0, 0, 0);
    let mut quad = false;
    for (i, &c) in s.iter().enumerate() {
        let l = c | 0x20;
        let d = match c {
            b'0'..=b'9' => c - b'0',
            _ if (b'a'..=b'f').contains(&l) => l - b'a' + 10,
            b':' => {
                if digits > 0 {
                    *g.get_mut(n)? = v;
                    n += 1;
                    (v, digits, run) = (0, 0, 1);
                } else {
                    // `::` once; a colon alone only after a group or
                    // before a second one.
                    run += 1;
                    if run == 2 && gap == 9 {
                        gap = n;
                    } else if run > 1 {
                        return None;
                    }
                }
                continue;
            }
            b'.' => {
                // A dotted quad: the last two groups, and the end.
                let q = parse_v4(s.get(start..)?)?;
                *g.get_mut(n)? = u16::from_be_bytes([q[0], q[1]]);
                *g.get_mut(n + 1)? = u16::from_be_bytes([q[2], q[3]]);
                n += 2;
                quad = true;
                break;
            }
            _ => return None,
        };
        if digits == 0 {
            // A group after one colon needs one before it.
            if run == 1 && n == 0 {
                return None;
            }
            start = i;
        }
        if digits == 4 {
            return None;
        }
        v = v << 4 | d as u16;
        digits += 1;
        run = 0;
    }
    if !quad {
        if digits > 0 {
            *g.get_mut(n)? = v;
            n += 1;
        } else if run == 1 {
            return None;
        }
    }
    // Eight groups, or fewer and a `::` to stand for the rest.
    if (gap == 9) != (n == 8) {
        return None;
    }
    // The groups after the gap move to the end; zeros are left behind them.
    for k in (gap..n).rev() {
        g[(k + 8 - n) & 7] = g[k & 7];
        g[k & 7] = 0;
    }
    let mut out = [0u8; 16];
    for (o, v) in out.as_chunks_mut::<2>().0.iter_mut().zip(g) {
        *o = v.to_be_bytes();
    }
    Some(out)
}

/// Whether `s` holds the byte `c`. (A plain loop: `[u8]::contains` brings
/// a word-at-a-time search, more code than these few bytes need.)
#[allow(clippy::manual_contains)]
fn has(s: &[u8], c: u8) -> bool {
    s.iter().any(|&b| b == c)
}

/// Parses a numeric IPv4 or IPv6 address.
pub fn parse_ip(s: &[u8]) -> Option<Ip> {
    if has(s, b':') { parse_v6(s).map(Ip::v6) } else { parse_v4(s).map(Ip::v4) }
}

/// Why a `-l` value is not an address rot13d can listen on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BadAddr {
    /// Neither form of numeric address (nor one with a port: that is `-p`).
    NotAnAddress,
    /// A host name: rot13d has no resolver (and perhaps no /etc/hosts).
    Name,
    /// `localhost`, whose addresses everyone knows.
    Localhost,
    /// A link-local address, which would need its interface (`%eth0`).
    LinkLocal,
}

impl BadAddr {
    /// What a usage message says after the value.
    pub fn words(self) -> &'static [u8] {
        match self {
            BadAddr::NotAnAddress => b"not a numeric IPv4 or IPv6 address (a port goes in -p)",
            BadAddr::Name => b"a name: give an address",
            BadAddr::Localhost => b"a name: give 127.0.0.1 or ::1",
            BadAddr::LinkLocal => b"link-local: use :: instead",
        }
    }
}

/// Parses `-l`'s value: `0` (any address: `::`, which takes IPv4 too), an
/// IPv4 address, or an IPv6 address, bare or in brackets (the form the
/// startup line prints). What people type instead gets a reason.
pub fn parse_listen(s: &[u8]) -> Result<Ip, BadAddr> {
    if s == b"0" {
        return Ok(Ip::v6([0; 16]));
    }
    let addr = s.strip_prefix(b"[").and_then(|r| r.strip_suffix(b"]")).unwrap_or(s);
    match parse_ip(addr) {
        Some(ip) if ip.is_link_local() => Err(BadAddr::LinkLocal),
        Some(ip) => Ok(ip),
        None if has(addr, b'%') => Err(BadAddr::LinkLocal),
        None if addr.starts_with(b"localhost") || addr.starts_with(b"ip6-localhost") => Err(BadAddr::Localhost),
        None if addr.first().is_some_and(u8::is_ascii_alphabetic) && !has(addr, b':') => Err(BadAddr::Name),
        None => Err(BadAddr::NotAnAddress),
    }
}

impl Msg {
    /// Appends an address in its canonical text form: dotted for IPv4 (with
    /// `::ffff:` in front when it is an IPv6 address), RFC 5952 for IPv6
    /// (lower case, the first longest run of two or more zero groups as `::`).
    pub fn ip(&mut self, ip: Ip) -> &mut Self {
        if let Some(q) = ip.ipv4() {
            if ip.v6 {
                self.push(b"::ffff:");
            }
            for (i, &o) in q.iter().enumerate() {
                if i > 0 {
                    self.push(b".");
                }
                self.num(o as u64);
            }
            return self;
        }
        let groups = ip.bytes.as_chunks::<2>().0;
        // The first longest run of two or more zero groups: [best, best + len).
        // (No run: best = 8, past the end.)
        let (mut best, mut len, mut run) = (8, 1, 0);
        for (i, g) in groups.iter().enumerate() {
            run = if *g == [0, 0] { run + 1 } else { 0 };
            if run > len {
                len = run;
                best = i + 1 - run;
            }
        }
        for (i, g) in groups.iter().enumerate() {
            if i.wrapping_sub(best) < len {
                if i == best {
                    self.push(b"::");
                }
                continue;
            }
            if i > 0 && i != best + len {
                self.push(b":");
            }
            self.hex(u16::from_be_bytes(*g));
        }
        self
    }

    /// Appends `ip:port`, an IPv6 address in brackets.
    pub fn sockaddr(&mut self, ip: Ip, port: u16) -> &mut Self {
        if ip.v6 {
            self.push(b"[");
        }
        self.ip(ip);
        self.push(if ip.v6 { b"]:" } else { b":" }).num(port as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Rng, show};
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn numbers() {
        assert_eq!(parse_num(b"0", 65535), Some(0));
        assert_eq!(parse_num(b"65535", 65535), Some(65535));
        assert_eq!(parse_num(b"4294967295", u32::MAX as u64), Some(u32::MAX as u64));
        assert_eq!(parse_num(b"18446744073709551615", u64::MAX), Some(u64::MAX));
        for bad in [&b""[..], b"65536", b"-1", b"+1", b"1x", b" 1", b"99999999999", b"0x10"] {
            assert_eq!(parse_num(bad, 65535), None, "{:?}", bad);
        }
        assert_eq!(parse_num(b"18446744073709551616", u64::MAX), None);
        assert_eq!(parse_num(b"99999999999999999999", u64::MAX), None);
    }

    fn listen(s: &str) -> Result<String, BadAddr> {
        parse_listen(s.as_bytes()).map(show)
    }

    #[test]
    fn listen_takes_addresses_as_people_type_them() {
        for (s, want) in [
            ("0", "::"),
            ("127.0.0.1", "127.0.0.1"),
            ("::1", "::1"),
            ("[::1]", "::1"),
            ("[::]", "::"),
            ("fec0::1", "fec0::1"),
        ] {
            assert_eq!(listen(s), Ok(want.to_string()), "{s}");
        }
        let bad = [
            ("localhost", BadAddr::Localhost),
            ("example.com", BadAddr::Name),
            ("1.2.3", BadAddr::NotAnAddress),
            ("::g", BadAddr::NotAnAddress),
            ("[::1", BadAddr::NotAnAddress),
            ("1.2.3.4:80", BadAddr::NotAnAddress),
            ("[::1]:80", BadAddr::NotAnAddress),
            ("localhost:80", BadAddr::Localhost),
            ("fe80::1", BadAddr::LinkLocal),
            ("fe80::1%eth0", BadAddr::LinkLocal),
            ("[fe80::1%2]", BadAddr::LinkLocal),
            ("", BadAddr::NotAnAddress),
        ];
        for (s, why) in bad {
            assert_eq!(listen(s), Err(why), "{s}");
        }
    }

    #[test]
    fn clients_are_ipv4_addresses_and_ipv6_slash_64s() {
        let key = |s: &str| parse_ip(s.as_bytes()).unwrap().client_key();
        assert_eq!(key("10.0.0.1"), key("::ffff:10.0.0.1"));
        assert_ne!(key("10.0.0.1"), key("10.0.0.2"));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::1"), key("::2"));
    }

    #[test]
    fn v4_like_std() {
        for s in [
            "0.0.0.0",
            "127.0.0.1",
            "255.255.255.255",
            "1.2.3.4",
            "10.0.0.07",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1..2.3",
            "",
            ".1.2.3",
            "1.2.3.",
            "01.2.3.4",
            "a.b.c.d",
        ] {
            let std = s.parse::<Ipv4Addr>().ok().map(|a| a.octets());
            assert_eq!(parse_v4(s.as_bytes()), std, "{s}");
        }
    }

    #[test]
    fn v6_known() {
        let cases = [
            ("::", Some("::")),
            ("::1", Some("::1")),
            ("1::", Some("1::")),
            ("fe80::1:2", Some("fe80::1:2")),
            ("2001:DB8:0:0:1:0:0:1", Some("2001:db8::1:0:0:1")),
            ("0:0:0:0:0:0:0:0", Some("::")),
            ("::ffff:127.0.0.1", Some("::ffff:127.0.0.1")),
            ("1:2:3:4:5:6:7:8", Some("1:2:3:4:5:6:7:8")),
            ("1:2:3:4:5:6:1.2.3.4", Some("1:2:3:4:5:6:102:304")),
            ("1:0:3:4:5:6:7:8", Some("1:0:3:4:5:6:7:8")),
            (":::", None),
            ("1:::2", None),
            ("1::2::3", None),
            (":1::2", None),
            ("1::2:", None),
            ("1:2:3:4:5:6:7:8:9", None),
            ("1:2:3:4:5:6:7", None),
            ("12345::", None),
            ("1:2:3:4:5:6:7:8::", None),
            ("1:2:3:4:5:6:7::", Some("1:2:3:4:5:6:7:0")),
            ("::2:3:4:5:6:7:8", Some("0:2:3:4:5:6:7:8")),
            ("1:2:3:4:5:6::1.2.3.4", None),
            ("::0:1.2.3.4", Some("::102:304")),
            (":1::", None),
            ("1::2:", None),
            ("::1.2.3.4:5", None),
            ("1:::", None),
            (":::1", None),
            ("::1.2.3.4.5", None),
            ("1.2.3.4::", None),
            ("g::", None),
            ("1:2:3:4:5:6:7::8", None),
        ];
        for (s, want) in cases {
            let got = parse_v6(s.as_bytes()).map(|a| show(Ip::v6(a)));
            assert_eq!(got.as_deref(), want, "{s}");
            assert_eq!(got.is_some(), s.parse::<Ipv6Addr>().is_ok(), "std disagrees on {s}");
        }
    }

    #[test]
    fn v6_parse_and_print_like_std_on_random_input() {
        let mut rng = Rng(42);
        for _ in 0..200_000 {
            // Random addresses with zero runs, printed by std and re-parsed.
            let mut seg = [0u16; 8];
            for s in seg.iter_mut() {
                *s = match rng.below(3) {
                    0 => 0,
                    1 => rng.below(16) as u16,
                    _ => rng.next() as u16,
                };
            }
            if rng.below(10) == 0 {
                seg[..6].copy_from_slice(&[0, 0, 0, 0, 0, 0xffff]);
            }
            let a = Ipv6Addr::from(seg);
            assert_eq!(show(Ip::v6(a.octets())), a.to_string());
            assert_eq!(parse_v6(a.to_string().as_bytes()), Some(a.octets()));
            // Random strings over the address alphabet: accept exactly what std accepts.
            let len = rng.below(20);
            let s: String = (0..len).map(|_| b"0123456789abcdefABCDEF::::..."[rng.below(29)] as char).collect();
            let std = s.parse::<Ipv6Addr>().ok().map(|a| a.octets());
            assert_eq!(parse_v6(s.as_bytes()), std, "{s}");
        }
    }

    #[test]
    fn sockaddrs() {
        assert_eq!(Msg::plain().sockaddr(Ip::v4([0, 0, 0, 0]), 50005).line(), b"0.0.0.0:50005\n");
        assert_eq!(Msg::plain().sockaddr(Ip::v6([0; 16]), 80).line(), b"[::]:80\n");
        let mapped = parse_ip(b"::ffff:127.0.0.1").unwrap();
        assert_eq!(Msg::plain().sockaddr(mapped, 1).line(), b"[::ffff:127.0.0.1]:1\n");
        // A peer is shown as a person reads it: IPv4, however it came in.
        assert_eq!(Msg::plain().ip(Ip { v6: false, ..mapped }).line(), b"127.0.0.1\n");
        assert_eq!(mapped.ipv4(), Some([127, 0, 0, 1]));
        assert_eq!(parse_ip(b"10.1.2.3"), Some(Ip::v4([10, 1, 2, 3])));
        assert_eq!(Ip::v6([0; 16]).ipv4(), None);
        assert_eq!(parse_ip(b"localhost"), None);
    }
}

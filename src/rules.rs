//! Access rules (`-a CIDR`, `-d CIDR`; rot13d(8), ACCESS RULES): which
//! peers are served. Checked in command-line order, the first rule that
//! matches decides; with none matching, a peer is refused if any `-a` was
//! given and served otherwise. A fixed table: no allocation.

use crate::addr::{Ip, parse_ip, parse_num};

/// The most rules a command line may give.
pub const MAX_RULES: usize = 32;

/// One `-a` or `-d`: a network, in the 16-byte IPv6 form every address
/// here has (IPv4 as `::ffff:a.b.c.d`), and how many of its leading bits a
/// peer must share.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Rule {
    pub allow: bool,
    pub net: [u8; 16],
    pub bits: u8,
}

/// `addr` with every bit past its first `bits` cleared: the network it is in.
fn masked(addr: &[u8; 16], bits: u8) -> [u8; 16] {
    let mask = u128::MAX.checked_shl(128 - bits as u32).unwrap_or(0);
    (u128::from_be_bytes(*addr) & mask).to_be_bytes()
}

impl Rule {
    /// Whether `peer` is in this rule's network.
    fn matches(&self, peer: &[u8; 16]) -> bool {
        masked(peer, self.bits) == self.net
    }
}

/// What the rules say of a peer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    Served,
    /// Refused by rule N (1 for the first `-a` or `-d` given).
    RefusedBy(u8),
    /// Refused because `-a` rules were given and none matched.
    NotAllowed,
}

/// The rules, in command-line order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Rules {
    rules: [Rule; MAX_RULES],
    len: u8,
    /// Some rule is an `-a`: a peer no rule matches is refused.
    allow_listed: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { rules: [Rule { allow: false, net: [0; 16], bits: 0 }; MAX_RULES], len: 0, allow_listed: false }
    }
}

/// Why a rule could not be taken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RuleError {
    /// Not a numeric address before the `/`.
    Address,
    /// A prefix length past 32 (IPv4) or 128 (IPv6), or not a number.
    Prefix,
    /// Bits set past the prefix (`10.0.0.1/8`): the network, or the host?
    HostBits,
    /// A rule past [`MAX_RULES`].
    TooMany,
}

impl RuleError {
    /// What a usage message says after the value.
    pub fn words(self) -> &'static [u8] {
        match self {
            RuleError::Address => b"not ADDRESS or ADDRESS/BITS",
            RuleError::Prefix => b"prefix length past 32 (IPv4) or 128 (IPv6)",
            RuleError::HostBits => b"host bits set past the prefix",
            RuleError::TooMany => b"more than 32 rules",
        }
    }
}

/// Parses `ADDR` or `ADDR/BITS`: an IPv4 network with 0-32 bits, or an IPv6
/// one with 0-128; a bare address is one host. Host bits set past the
/// prefix (`10.0.0.1/8`) are refused: was the network meant, or the host?
pub fn parse_cidr(text: &[u8]) -> Result<Rule, RuleError> {
    let (addr, bits) = match text.iter().position(|&c| c == b'/') {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let ip: Ip = parse_ip(addr).ok_or(RuleError::Address)?;
    let most = if ip.v6 { 128 } else { 32 };
    let bits = match bits {
        None => most,
        Some(b) => parse_num(b, most).ok_or(RuleError::Prefix)?,
    };
    // IPv4 networks live at the end of the IPv4-mapped prefix.
    let bits = if ip.v6 { bits } else { 96 + bits } as u8;
    // A network is given by its first address: nothing past the prefix.
    if masked(&ip.bytes, bits) != ip.bytes {
        return Err(RuleError::HostBits);
    }
    Ok(Rule { allow: false, net: ip.bytes, bits })
}

impl Rules {
    /// Adds `-a` (`allow`) or `-d` rule `text`.
    pub fn add(&mut self, allow: bool, text: &[u8]) -> Result<(), RuleError> {
        let rule = Rule { allow, ..parse_cidr(text)? };
        let slot = self.rules.get_mut(self.len as usize).ok_or(RuleError::TooMany)?;
        *slot = rule;
        self.len += 1;
        self.allow_listed |= allow;
        Ok(())
    }

    /// Whether any rule was given.
    pub fn any(&self) -> bool {
        self.len > 0
    }

    /// What the rules say of `peer` (an address's IPv6 form: an IPv4 peer,
    /// or an IPv4-mapped one seen on a `::` listener, meets IPv4 rules).
    pub fn verdict(&self, peer: &Ip) -> Verdict {
        for (i, rule) in self.rules[..self.len as usize].iter().enumerate() {
            if rule.matches(&peer.bytes) {
                return if rule.allow { Verdict::Served } else { Verdict::RefusedBy(i as u8 + 1) };
            }
        }
        if self.allow_listed { Verdict::NotAllowed } else { Verdict::Served }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(given: &[(bool, &str)]) -> Rules {
        let mut r = Rules::default();
        for &(allow, text) in given {
            r.add(allow, text.as_bytes()).unwrap();
        }
        r
    }

    fn ip(text: &str) -> Ip {
        parse_ip(text.as_bytes()).unwrap()
    }

    #[test]
    fn first_match_decides_and_no_match_depends_on_allow_rules() {
        let r = rules(&[(false, "127.0.0.1"), (true, "127.0.0.0/8"), (true, "2001:db8::/32")]);
        assert_eq!(r.verdict(&ip("127.0.0.1")), Verdict::RefusedBy(1));
        assert_eq!(r.verdict(&ip("127.0.0.2")), Verdict::Served);
        assert_eq!(r.verdict(&ip("2001:db8:1::5")), Verdict::Served);
        assert_eq!(r.verdict(&ip("10.0.0.1")), Verdict::NotAllowed);
        assert_eq!(r.verdict(&ip("::1")), Verdict::NotAllowed);
        // Only -d: whatever no rule names is served.
        let d = rules(&[(false, "10.0.0.0/8")]);
        assert_eq!((d.verdict(&ip("10.1.2.3")), d.verdict(&ip("11.0.0.1"))), (Verdict::RefusedBy(1), Verdict::Served));
        // None: all served.
        assert_eq!(Rules::default().verdict(&ip("::1")), Verdict::Served);
        assert!(!Rules::default().any() && d.any());
    }

    #[test]
    fn ipv4_mapped_peers_meet_ipv4_rules_and_only_them() {
        let r = rules(&[(true, "127.0.0.0/8")]);
        // As a `::` listener sees an IPv4 client: ::ffff:127.0.0.1.
        let mapped = Ip::v6(ip("127.0.0.1").bytes);
        assert_eq!(r.verdict(&mapped), Verdict::Served);
        assert_eq!(r.verdict(&ip("::1")), Verdict::NotAllowed);
        // 0.0.0.0/0 is every IPv4 peer, and no IPv6 one; ::/0 is everyone.
        let all4 = rules(&[(false, "0.0.0.0/0")]);
        assert_eq!(
            (all4.verdict(&ip("1.2.3.4")), all4.verdict(&ip("2001:db8::1"))),
            (Verdict::RefusedBy(1), Verdict::Served)
        );
        let all = rules(&[(false, "::/0")]);
        assert_eq!(
            (all.verdict(&ip("1.2.3.4")), all.verdict(&ip("2001:db8::1"))),
            (Verdict::RefusedBy(1), Verdict::RefusedBy(1))
        );
    }

    #[test]
    fn prefixes_cut_where_they_say() {
        let r = rules(&[(false, "192.168.4.0/23"), (false, "fe80::/10")]);
        for (peer, v) in [
            ("192.168.4.7", 1),
            ("192.168.5.255", 1),
            ("192.168.6.0", 0),
            ("192.168.3.255", 0),
            ("febf::1", 2),
            ("fec0::1", 0),
        ] {
            let want = if v == 0 { Verdict::Served } else { Verdict::RefusedBy(v) };
            assert_eq!(r.verdict(&ip(peer)), want, "{peer}");
        }
        // A bare address is one host, in either family.
        let host = rules(&[(false, "10.0.0.1"), (false, "2001:db8::1")]);
        assert_eq!(host.verdict(&ip("10.0.0.2")), Verdict::Served);
        assert_eq!(host.verdict(&ip("2001:db8::1")), Verdict::RefusedBy(2));
        assert_eq!(host.verdict(&ip("2001:db8::2")), Verdict::Served);
    }

    #[test]
    fn bad_rules_say_why() {
        let err = |t: &str| parse_cidr(t.as_bytes()).err();
        assert_eq!(err("10.0.0.0/8"), None);
        assert_eq!(err("::/0"), None);
        assert_eq!(err("::/128"), None);
        assert_eq!(err("10.0.0.0/33"), Some(RuleError::Prefix));
        assert_eq!(err("::/129"), Some(RuleError::Prefix));
        assert_eq!(err("10.0.0.0/"), Some(RuleError::Prefix));
        assert_eq!(err("10.0.0.0/-1"), Some(RuleError::Prefix));
        assert_eq!(err("10.0.0.1/8"), Some(RuleError::HostBits));
        assert_eq!(err("2001:db8::1/32"), Some(RuleError::HostBits));
        assert_eq!(err("localhost"), Some(RuleError::Address));
        assert_eq!(err("/8"), Some(RuleError::Address));
        let mut r = Rules::default();
        for i in 0..MAX_RULES {
            r.add(i % 2 == 0, b"10.0.0.0/8").unwrap();
        }
        assert_eq!(r.add(true, b"10.0.0.0/8"), Err(RuleError::TooMany));
    }
}

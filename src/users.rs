//! `-u USER[:GROUP]`: user and group, as names or numbers, and the lookup of
//! names in `/etc/passwd` and `/etc/group` (the files' format, as `getpwnam`
//! reads it without NSS modules). `main` reads the files and feeds an
//! [`Entry`]; what is here touches no file.

use crate::addr::parse_num;

/// A user or a group, as given.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Id<'a> {
    /// All digits: the id itself; no file is read (an empty image has none).
    Num(u32),
    Name(&'a [u8]),
}

/// `-u`'s value: a user, and a group if one was given.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ids<'a> {
    pub user: Id<'a>,
    pub group: Option<Id<'a>>,
}

/// Parses `USER[:GROUP]`. `-1` (4294967295) means "unchanged" to setuid(2),
/// so it is not an id.
pub fn parse_ids(val: &[u8]) -> Option<Ids<'_>> {
    let (user, group) = match val.iter().position(|&b| b == b':') {
        Some(i) => (&val[..i], Some(&val[i + 1..])),
        None => (val, None),
    };
    Some(Ids { user: parse_id(user)?, group: match group { Some(g) => Some(parse_id(g)?), None => None } })
}

/// One user or group: all digits is a number, anything else a name.
fn parse_id(s: &[u8]) -> Option<Id<'_>> {
    if s.is_empty() || s.iter().any(|&b| b == b':') {
        None
    } else if s.iter().all(u8::is_ascii_digit) {
        parse_num(s, u32::MAX - 1).map(Id::Num)
    } else {
        Some(Id::Name(s))
    }
}

/// Finds `name`'s line in `/etc/passwd` (`name:x:uid:gid:...`, giving
/// uid and gid) or `/etc/group` (`name:x:gid:...`, giving gid), fed one
/// byte at a time: no line buffer, so a line of any length (a group's
/// member list can be long) costs nothing.
pub struct Entry<'a> {
    name: &'a [u8],
    /// Numbers wanted: 2 for passwd, 1 for group.
    wanted: u8,
    /// Which field of the line the next byte is in, and where in it.
    field: u8,
    at: usize,
    /// Still this name's line, with good numbers so far.
    matching: bool,
    ids: [u64; 2],
}

impl<'a> Entry<'a> {
    pub fn passwd(name: &'a [u8]) -> Self {
        Entry { name, wanted: 2, field: 0, at: 0, matching: true, ids: [0; 2] }
    }

    pub fn group(name: &'a [u8]) -> Self {
        Entry { wanted: 1, ..Entry::passwd(name) }
    }

    /// Takes the next byte of the file; the ids (the group's in the first
    /// place) once `name`'s line is complete. Feed a last `\n` at the end
    /// of the file.
    pub fn feed(&mut self, b: u8) -> Option<(u32, u32)> {
        let number = (self.field as usize).wrapping_sub(2);
        if b == b'\n' || b == b':' {
            // A field ends: the name must be whole, a number not empty.
            let whole = match self.field {
                0 => self.at == self.name.len(),
                1 => true,
                _ => self.at > 0 || number >= self.wanted as usize,
            };
            self.matching &= whole;
            if self.matching && number.wrapping_add(1) == self.wanted as usize {
                return Some((self.ids[0] as u32, self.ids[1] as u32));
            }
            (self.field, self.at) = (self.field.saturating_add(1), 0);
            if b == b'\n' {
                *self = Entry { wanted: self.wanted, ..Entry::passwd(self.name) };
            }
            return None;
        }
        match self.ids.get_mut(number) {
            Some(id) if number < self.wanted as usize => {
                // (Once too large, the line no longer matches, whatever wraps.)
                *id = id.wrapping_mul(10).wrapping_add(b.wrapping_sub(b'0') as u64);
                self.matching &= b.is_ascii_digit() && *id < u32::MAX as u64;
            }
            _ => self.matching &= self.field > 0 || self.name.get(self.at) == Some(&b),
        }
        self.at += 1;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::tests::Rng;

    #[test]
    fn ids_as_names_or_numbers() {
        assert_eq!(parse_ids(b"0"), Some(Ids { user: Id::Num(0), group: None }));
        assert_eq!(parse_ids(b"nobody"), Some(Ids { user: Id::Name(b"nobody"), group: None }));
        assert_eq!(parse_ids(b"nobody:65534"), Some(Ids { user: Id::Name(b"nobody"), group: Some(Id::Num(65534)) }));
        assert_eq!(parse_ids(b"1:nogroup"), Some(Ids { user: Id::Num(1), group: Some(Id::Name(b"nogroup")) }));
        assert_eq!(parse_ids(b"4294967294"), Some(Ids { user: Id::Num(u32::MAX - 1), group: None }));
        for bad in [&b""[..], b":", b"1:", b":1", b"a:b:c", b"4294967295", b"1:4294967295", b"99999999999"] {
            assert_eq!(parse_ids(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/bash\n\
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
nob:x:7:8::/:\n\
broken:x:12\n\
bad:x:1x:2:\n\
huge:x:4294967295:1:\n\
empty:x::1:\n\
last:x:100:101:no newline:/:";

    /// Feeds `file` (and the closing newline) until the entry answers.
    fn find(file: &[u8], mut e: Entry) -> Option<(u32, u32)> {
        file.iter().chain(b"\n").find_map(|&b| e.feed(b))
    }

    #[test]
    fn passwd_and_group_lines() {
        let p = |n: &str| find(PASSWD, Entry::passwd(n.as_bytes()));
        assert_eq!(p("nobody"), Some((65534, 65534)));
        assert_eq!(p("nob"), Some((7, 8)));
        assert_eq!(p("root"), Some((0, 0)));
        assert_eq!(p("last"), Some((100, 101)));
        for missing in ["broken", "bad", "huge", "empty", "nobod", "nobodyx", "x", "", "0"] {
            assert_eq!(p(missing), None, "{missing}");
        }
        // A group with a member list far longer than any buffer.
        let mut group = b"big:x:4242:".to_vec();
        group.extend((0..5000).flat_map(|i| format!("user{i},").into_bytes()));
        group.extend(b"\nnogroup:x:65534:\nshort:x:9");
        let g = |n: &str| find(&group, Entry::group(n.as_bytes()));
        assert_eq!(g("nogroup"), Some((65534, 0)));
        assert_eq!(g("big"), Some((4242, 0)));
        assert_eq!(g("short"), Some((9, 0)));
        assert_eq!(g("user1"), None);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_agree_with_split() {
        let mut rng = Rng(99);
        for _ in 0..20_000 {
            let len = rng.below(300);
            let file: Vec<u8> = (0..len).map(|_| b":\nab0123456789x"[rng.below(15)]).collect();
            let _ = parse_ids(&file);
            // The same answer as splitting each line at its colons.
            let model = file.split(|&b| b == b'\n').find_map(|line| {
                let f: Vec<&[u8]> = line.split(|&b| b == b':').collect();
                let num = |s: &[u8]| (!s.is_empty() && s.iter().all(u8::is_ascii_digit) && s.len() <= 10).then(|| s.iter().fold(0u64, |n, &d| n * 10 + (d - b'0') as u64)).filter(|&n| n < u32::MAX as u64);
                (f.len() >= 4 && f[0] == b"ab").then(|| Some((num(f[2])? as u32, num(f[3])? as u32))).flatten()
            });
            assert_eq!(find(&file, Entry::passwd(b"ab")), model, "{:?}", String::from_utf8_lossy(&file));
        }
    }
}

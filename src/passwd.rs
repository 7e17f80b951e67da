//! `-u USER[:GROUP]` (rot13d(8), OPTIONS): the value as typed, and the
//! lines of /etc/passwd and /etc/group that turn names into ids. The files
//! are read by the server (line by line, through a fixed buffer); what a
//! line means is decided here.
//!
//! A user named here runs in its primary group from /etc/passwd (or
//! GROUP) and no other: supplementary groups are cleared, as daemontools'
//! setuidgid clears them (rot13d(8), OPTIONS, says why).

use crate::addr::parse_num;

/// A user or a group as typed: a number, or a name to look up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Id<'a> {
    Num(u32),
    Name(&'a [u8]),
}

/// `-u`'s value: a user, and the group to run as if not the user's own.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UserSpec<'a> {
    pub user: Id<'a>,
    pub group: Option<Id<'a>>,
}

/// Parses a user or a group: a number from 0 to 4294967294 (-1 means
/// "unchanged" to setuid(2), so it is no id), or a name (no colon, no
/// control character, not empty, not starting with `-`).
fn parse_id(s: &[u8]) -> Option<Id<'_>> {
    if s.first().is_some_and(u8::is_ascii_digit) {
        return parse_num(s, u32::MAX as u64 - 1).map(|n| Id::Num(n as u32));
    }
    let name = !s.is_empty() && s[0] != b'-' && s.iter().all(|&c| c > b' ' && c != b':' && c != 0x7f);
    name.then_some(Id::Name(s))
}

/// Parses `USER`, `USER:GROUP`, `UID` or `UID:GID` (names and numbers may
/// mix).
pub fn parse_user(s: &[u8]) -> Option<UserSpec<'_>> {
    let (user, group) = match s.iter().position(|&c| c == b':') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let group = match group {
        Some(g) => Some(parse_id(g)?),
        None => None,
    };
    Some(UserSpec { user: parse_id(user)?, group })
}

/// A line of /etc/passwd (`name:password:uid:gid:gecos:home:shell`) or
/// /etc/group (`name:password:gid:members`), if it is `name`'s: its third
/// field (the uid, or the group's gid) and its fourth, where that is a
/// number (the user's primary gid). `None` for a line that is not `name`'s,
/// or not a line of either file (a comment, an NIS `+` line, bad numbers).
pub fn entry(line: &[u8], name: &[u8]) -> Option<(u32, Option<u32>)> {
    let mut f = line.split(|&c| c == b':');
    if f.next()? != name {
        return None;
    }
    let id = parse_num(f.nth(1)?, u32::MAX as u64 - 1)? as u32;
    Some((id, f.next().and_then(|g| parse_num(g, u32::MAX as u64 - 1)).map(|g| g as u32)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_values() {
        let spec = |s: &'static str| parse_user(s.as_bytes());
        assert_eq!(spec("nobody"), Some(UserSpec { user: Id::Name(b"nobody"), group: None }));
        assert_eq!(spec("www-data:adm"), Some(UserSpec { user: Id::Name(b"www-data"), group: Some(Id::Name(b"adm")) }));
        assert_eq!(spec("65534:65533"), Some(UserSpec { user: Id::Num(65534), group: Some(Id::Num(65533)) }));
        assert_eq!(spec("0"), Some(UserSpec { user: Id::Num(0), group: None }));
        assert_eq!(spec("bob:100"), Some(UserSpec { user: Id::Name(b"bob"), group: Some(Id::Num(100)) }));
        assert_eq!(spec("4294967294"), Some(UserSpec { user: Id::Num(u32::MAX - 1), group: None }));
        assert_eq!(spec("machine$"), Some(UserSpec { user: Id::Name(b"machine$"), group: None }));
        for bad in ["", ":", "1:", ":1", "4294967295", "1:2:3", "-u", "a b", "1x", "bob:", "bob\n"] {
            assert_eq!(spec(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn lines_of_passwd_and_group() {
        let nobody = b"nobody:x:65534:65533:nobody:/nonexistent:/usr/sbin/nologin";
        assert_eq!(entry(nobody, b"nobody"), Some((65534, Some(65533))));
        assert_eq!(entry(nobody, b"nobod"), None);
        assert_eq!(entry(b"root::0:0:::", b"root"), Some((0, Some(0))));
        assert_eq!(entry(b"adm:x:4:syslog,bob", b"adm"), Some((4, None)));
        assert_eq!(entry(b"short:x:7", b"short"), Some((7, None)));
        for bad in ["", "# comment", "+bob", "bob:x", "bob:x:a:1:::", "bob:x:4294967295:1", "bob:x::1"] {
            assert_eq!(entry(bad.as_bytes(), b"bob"), None, "{bad:?}");
        }
        // A name is never empty, and a comment or an NIS line names nobody.
        assert_eq!(entry(b":x:1:1:::", b""), Some((1, Some(1))));
    }
}

//! Socket activation (rot13d(8), SOCKET ACTIVATION): which sockets a
//! service manager passed, read from the environment exactly as systemd's
//! `sd_listen_fds_with_names` reads it. `LISTEN_PID` decides whether the
//! variables are meant for this process at all; where they are, a value
//! that is not what it must be is an error, never a fall-back to listening
//! on the default address, where no client of the unit would look.

use crate::MAX_LISTENERS;
use crate::addr::parse_num;

/// The first fd a service manager passes (`SD_LISTEN_FDS_START`).
pub const FIRST_FD: i32 = 3;

/// What was passed: `count` fds from [`FIRST_FD`] on, and their names
/// (`LISTEN_FDNAMES`, one per fd, separated by colons) where given.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Passed<'a> {
    pub count: usize,
    names: Option<&'a [u8]>,
}

impl<'a> Passed<'a> {
    /// The name of the `i`-th fd passed (from 0), if names were given.
    pub fn name(&self, i: usize) -> Option<&'a [u8]> {
        self.names?.split(|&c| c == b':').nth(i)
    }
}

/// A variable meant for this process that is not what it must be: its
/// name, its value, and what is wrong with it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Bad<'a>(pub &'static [u8], pub &'a [u8], pub &'static [u8]);

/// Reads `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` from `env`
/// (`NAME=value` strings) for this process, whose pid `pid` gives (asked
/// only where `LISTEN_PID` is set): `None` when nothing was passed to it
/// (no `LISTEN_PID`, another process's, no `LISTEN_FDS`, or 0 of them).
pub fn passed<'a>(
    env: impl Iterator<Item = &'a [u8]>,
    pid: impl FnOnce() -> u32,
) -> Result<Option<Passed<'a>>, Bad<'a>> {
    let (mut listen_pid, mut fds, mut names) = (None, None, None);
    for var in env {
        if let Some(v) = var.strip_prefix(b"LISTEN_PID=") {
            listen_pid = Some(v);
        } else if let Some(v) = var.strip_prefix(b"LISTEN_FDS=") {
            fds = Some(v);
        } else if let Some(v) = var.strip_prefix(b"LISTEN_FDNAMES=") {
            names = Some(v);
        }
    }
    let Some(listen_pid) = listen_pid else {
        return Ok(None);
    };
    match parse_num(listen_pid, i32::MAX as u64) {
        Some(p) if p > 0 && p == pid() as u64 => {}
        Some(p) if p > 0 => return Ok(None),
        _ => return Err(Bad(b"LISTEN_PID", listen_pid, b"not a process id")),
    }
    let Some(fds) = fds else { return Ok(None) };
    let count = parse_num(fds, u64::MAX).ok_or(Bad(b"LISTEN_FDS", fds, b"not a number"))?;
    if count == 0 {
        return Ok(None);
    }
    if count > MAX_LISTENERS as u64 {
        return Err(Bad(b"LISTEN_FDS", fds, b"more than 16 sockets"));
    }
    if let Some(n) = names
        && n.split(|&c| c == b':').count() as u64 != count
    {
        return Err(Bad(b"LISTEN_FDNAMES", n, b"not a name per socket"));
    }
    Ok(Some(Passed { count: count as usize, names }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many fds, and their names, or what is wrong.
    type Read = Result<Option<(usize, Vec<Option<String>>)>, Bad<'static>>;

    fn read(env: &[&str], pid: u32) -> Read {
        let env: Vec<&'static [u8]> =
            env.iter().map(|v| &*Box::leak(v.as_bytes().to_vec().into_boxed_slice())).collect();
        passed(env.into_iter(), || pid).map(|p| {
            p.map(|p| {
                (p.count, (0..p.count).map(|i| p.name(i).map(|n| String::from_utf8(n.to_vec()).unwrap())).collect())
            })
        })
    }

    #[test]
    fn as_sd_listen_fds_reads_them() {
        assert_eq!(read(&["LISTEN_PID=7", "LISTEN_FDS=1"], 7), Ok(Some((1, vec![None]))));
        assert_eq!(
            read(&["PATH=/bin", "LISTEN_FDS=2", "LISTEN_PID=7", "LISTEN_FDNAMES=web:admin"], 7),
            Ok(Some((2, vec![Some("web".into()), Some("admin".into())])))
        );
        assert_eq!(read(&["LISTEN_PID=7", "LISTEN_FDS=16"], 7).map(|p| p.map(|p| p.0)), Ok(Some(16)));
        // Not for us: nothing passed, whatever else is set.
        for env in [
            &["LISTEN_FDS=1"][..],
            &["LISTEN_PID=8", "LISTEN_FDS=1"],
            &["LISTEN_PID=7"],
            &["LISTEN_PID=7", "LISTEN_FDS=0"],
            &["LISTEN_PID=8", "LISTEN_FDS=abc"],
            &[],
        ] {
            assert_eq!(read(env, 7), Ok(None), "{env:?}");
        }
        // For us, but wrong: an error naming what.
        let fds = |v: &'static str| Err(Bad(b"LISTEN_FDS", v.as_bytes(), b"not a number"));
        assert_eq!(read(&["LISTEN_PID=7", "LISTEN_FDS=abc"], 7), fds("abc"));
        assert_eq!(read(&["LISTEN_PID=7", "LISTEN_FDS="], 7), fds(""));
        assert_eq!(read(&["LISTEN_PID=7", "LISTEN_FDS=-1"], 7), fds("-1"));
        assert_eq!(read(&["LISTEN_PID=7", "LISTEN_FDS=99999999999999999999999"], 7), fds("99999999999999999999999"));
        assert_eq!(
            read(&["LISTEN_PID=7", "LISTEN_FDS=17"], 7),
            Err(Bad(b"LISTEN_FDS", b"17", b"more than 16 sockets"))
        );
        let pid = |v: &'static str| Err(Bad(b"LISTEN_PID", v.as_bytes(), b"not a process id"));
        assert_eq!(read(&["LISTEN_PID=x", "LISTEN_FDS=1"], 7), pid("x"));
        assert_eq!(read(&["LISTEN_PID=0", "LISTEN_FDS=1"], 7), pid("0"));
        let names = |v: &'static str| Err(Bad(b"LISTEN_FDNAMES", v.as_bytes(), b"not a name per socket"));
        assert_eq!(read(&["LISTEN_PID=7", "LISTEN_FDS=2", "LISTEN_FDNAMES=one"], 7), names("one"));
        assert_eq!(read(&["LISTEN_PID=7", "LISTEN_FDS=1", "LISTEN_FDNAMES=a:b"], 7), names("a:b"));
    }
}

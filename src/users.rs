//! `-u USER[:GROUP]`: the ids to run as, looked up in /etc/passwd and
//! /etc/group at start-up, before anything is confined; and the drop to
//! them, which clears the supplementary groups. Only those files are read
//! (no NSS: LDAP, systemd-userdb and the like are not asked), so numeric
//! ids are the way where they do not exist (a `FROM scratch` container).

use crate::log::{self, die};
use crate::state::LINE;
use crate::sys::Errno;
use core::ffi::CStr;
use rot13d::msg::Msg;
use rot13d::opts::Usage;
use rot13d::passwd::{Id, UserSpec, entry};
use rot13d::status::Status;
use rustix::fs::{Mode, OFlags};
use rustix::process::{Gid, Uid};

/// The ids a process of rot13d takes on.
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
}

const PASSWD: &CStr = c"/etc/passwd";
const GROUP: &CStr = c"/etc/group";

/// The entry for `name` in `path` (see `passwd::entry`), read whole into
/// the line buffer (free at start-up). A name that is not there, a file
/// that cannot be read, or one longer than the buffer (64 KiB) ends
/// rot13d: status 2.
fn lookup(path: &CStr, what: &'static [u8], name: &[u8]) -> (u32, Option<u32>) {
    let found = LINE.lend(|buf| -> Result<Option<(u32, Option<u32>)>, Errno> {
        let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
        let mut len = 0;
        while len < buf.len() {
            match rustix::io::read(&fd, &mut buf[len..])? {
                0 => {
                    return Ok(buf[..len].split(|&c| c == b'\n').find_map(|line| entry(line, name)));
                }
                n => len += n,
            }
        }
        Err(Errno::FBIG)
    });
    let e = match found {
        Some(Ok(Some(e))) => return e,
        Some(Ok(None)) => log::usage(Usage::of(b'u', name, what)),
        Some(Err(e)) => e,
        // The buffer is a session's already: never at start-up.
        None => Errno::BUSY,
    };
    let mut m = Msg::new(b"-u ");
    m.shown(name).push(b": ").push(path.to_bytes()).push(b": ").errno(e.raw_os_error());
    die(Status::Usage, &mut m)
}

/// The ids `-u` names: a user name gets its uid and primary group from
/// /etc/passwd (or GROUP, a name or a gid); numeric ids are taken as they
/// are (GID defaults to UID).
pub fn resolve(spec: UserSpec<'_>) -> Ids {
    let (uid, gid) = match spec.user {
        Id::Num(uid) => (uid, uid),
        Id::Name(name) => match lookup(PASSWD, b"no such user in /etc/passwd", name) {
            (uid, Some(gid)) => (uid, gid),
            (_, None) => log::usage(Usage::of(b'u', name, b"no such user in /etc/passwd")),
        },
    };
    let gid = match spec.group {
        None => gid,
        Some(Id::Num(gid)) => gid,
        Some(Id::Name(name)) => lookup(GROUP, b"no such group in /etc/group", name).0,
    };
    Ids { uid, gid }
}

/// Takes on `ids`: no supplementary groups, then the group, then the user,
/// then proof that root cannot be had back. Every failure ends the
/// process: status 1.
/// Where there is nothing to change (not root, and already that user and
/// group), nothing is done: setgroups would need a privilege not there.
pub fn drop_privileges(ids: &Ids) {
    use rustix::process::{getegid, geteuid, getgid, getuid};
    use rustix::thread::{set_thread_gid, set_thread_groups, set_thread_uid};
    let (uid, gid) = (Uid::from_raw(ids.uid), Gid::from_raw(ids.gid));
    if !geteuid().is_root() && getuid() == uid && geteuid() == uid && getgid() == gid && getegid() == gid {
        return;
    }
    log::must(set_thread_groups(&[]), b"setgroups");
    log::must(set_thread_gid(gid), b"setgid");
    log::must(set_thread_uid(uid), b"setuid");
    if ids.uid != 0 && set_thread_uid(Uid::ROOT).is_ok() {
        log::fail(b"setuid: root regained", Errno::PERM);
    }
}

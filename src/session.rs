//! A session: one connection, served until its end (rot13d(8), SERVING).
//! A forked child and a connection rot13d was given (`-i`, or fd 3 from a
//! service manager) come in the same way, [`session`], and go through the
//! same named steps before the seed's `child_run`.

use crate::confine::{self, Sessions};
use crate::listen::Peer;
use crate::log;
use crate::signals;
use crate::state::{LINE, LOG};
use crate::sys::{self, BorrowedFd, Errno};
use crate::users::{self, Ids};
use core::sync::atomic::Ordering::Relaxed;
use core::time::Duration;
use rot13d::frame::Lines;
use rot13d::msg::Msg;
use rot13d::opts::{Config, Usage};
use rot13d::rules::Verdict;
use rot13d::status::Status;
use rustix::net::sockopt::{self, Timeout};

/// Where a session's connection came from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Forked by the server's accept loop, which checked the peer, runs
    /// under the ids to take, and made the socket (blocking, as accept
    /// makes them).
    Forked,
    /// Given: stdin and stdout under `-i`, or fd 3 from a service manager.
    Given,
}

/// A session's connection: one socket both ways, or stdin and stdout.
pub struct Conn<'a> {
    pub input: BorrowedFd<'a>,
    pub output: BorrowedFd<'a>,
    pub origin: Origin,
}

/// The one way into a session. Each step says where it applies; all come
/// before the first client byte is read.
pub fn session(conn: Conn<'_>, cfg: &Config, ids: Option<&Ids>, how: Sessions) -> ! {
    let given = conn.origin == Origin::Given;
    // The ids: a given connection takes them now; a forked session runs
    // under those the server took once it listened.
    if let (true, Some(ids)) = (given, ids) {
        users::drop_privileges(ids);
    }
    // Blocking fds: a launcher may hand over a non-blocking socket or pipe,
    // on which a read fails with EAGAIN whenever the client pauses
    // (accept's sockets are blocking already).
    if given {
        set_blocking(conn.input);
        set_blocking(conn.output);
    }
    // Signals: a forked session ends by SIGTERM and SIGINT, not through
    // the server's handler. (A given one never had the handlers.)
    if !given {
        signals::reset_for_session();
    }
    // The rules: a forked session's peer passed them in the server.
    if given && cfg.rules.any() {
        let peer = rustix::net::getpeername(conn.input).ok().flatten();
        match Peer::of(peer.as_ref()) {
            Peer::Ip(ip, port) if cfg.rules.verdict(&ip) != Verdict::Served => {
                if LOG.verbose.load(Relaxed) {
                    log::say(Peer::Ip(ip, port).show(&mut Msg::new(b"refused ")).push(b": rule"));
                }
                sys::exit(Status::Ok.code())
            }
            Peer::Ip(..) => {}
            Peer::Local => log::usage(Usage::of(b'a', b"", b"needs stdin to be a TCP socket")),
        }
    }
    // The timeout: a read or write that waits longer fails with EAGAIN.
    if cfg.timeout > 0 {
        set_timeout(&conn, cfg.timeout);
    }
    // Confinement, last: after it the process can only read, write and end.
    if let Err(e) = confine::confine_session(how) {
        if LOG.verbose.load(Relaxed) {
            log::say(Msg::new(b"session not confined: seccomp: ").errno(e.raw_os_error()));
        }
        sys::exit(Status::Failed.code())
    }
    let status = child_run(conn.input, conn.output);
    // Only a given session says how it ended: a forked one's end is the
    // server's to log, when it reaps it.
    if given && LOG.verbose.load(Relaxed) {
        log::say_confined(Msg::new(b"end status ").num(status.code() as u64));
    }
    sys::exit(status.code())
}

/// `ioctl(fd, FIONBIO, 0)`—Makes `fd` blocking (on a socket shared with the
/// launcher, for it too: which is what it handed over for).
fn set_blocking(fd: BorrowedFd<'_>) {
    if let Err(e) = rustix::io::ioctl_fionbio(fd, false) {
        // A terminal or a file takes no FIONBIO, and blocks anyway.
        if e != Errno::NOTTY {
            log::fail(b"ioctl FIONBIO", e);
        }
    }
}

/// `-t`: SO_RCVTIMEO and SO_SNDTIMEO. On a pipe (`-i`) there is nothing
/// to set: refused, not ignored (status 2).
fn set_timeout(conn: &Conn<'_>, secs: u32) {
    let t = Some(Duration::from_secs(secs as u64));
    if sockopt::set_socket_timeout(conn.input, Timeout::Recv, t)
        .and(sockopt::set_socket_timeout(conn.output, Timeout::Send, t))
        .is_err()
    {
        log::usage(Usage::of(b't', b"", b"needs stdin to be a socket"));
    }
}

/// Sends all of `buf` to `out`, however many calls it takes; a peer that
/// is gone or stuck ends the session.
fn write_all(out: BorrowedFd<'_>, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match rustix::io::write(out, buf) {
            Ok(n) => buf = &buf[n..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// How a session that met `e` ends: status 0 when the peer simply went
/// away, 1 otherwise (a timeout, say).
fn ended_by(e: Errno) -> Status {
    match e {
        Errno::PIPE | Errno::CONNRESET => Status::Ok,
        _ => Status::Failed,
    }
}

/// The seed's `child_run`: serves one connection until end of input.
/// Reads are as large as the buffer's free space, and each read's complete
/// lines go back with one write. read/write, not recv/send: they work on
/// `-i`'s pipes too.
fn child_run(input: BorrowedFd<'_>, out: BorrowedFd<'_>) -> Status {
    let Some(buf) = LINE.take() else {
        return Status::Bug;
    };
    let mut lines = Lines::new(buf);
    loop {
        let n = match rustix::io::read(input, lines.space()) {
            Ok(0) => break,
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(e) => {
                // A timeout (-t) or a reset: the reply is still exactly the
                // ROT13 of what arrived, so the partial line goes out first,
                // if the peer takes it.
                return write_all(out, lines.held()).map_or_else(ended_by, |()| ended_by(e));
            }
        };
        let k = lines.arrived(n);
        if k > 0 {
            if let Err(e) = write_all(out, lines.ready(k)) {
                return ended_by(e);
            }
            lines.sent(k);
        }
    }
    write_all(out, lines.held()).map_or_else(ended_by, |()| Status::Ok)
}

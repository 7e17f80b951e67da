//! Messages on stderr, and the one way to end with one (rot13d(8),
//! DIAGNOSTICS and EXIT STATUS).

use crate::state::LOG;
use crate::sys::{self, Errno, PollFd};
use core::sync::atomic::Ordering::Relaxed;
use linux_raw_sys::general::POLLOUT;
use rot13d::msg::Msg;
use rot13d::opts::Usage;
use rot13d::status::Status;

/// The signals blocked while the log waits on nothing: none but those
/// blocked everywhere (see `signals::BLOCKED`), as its ppoll must not let
/// SIGCHLD's handler in.
use crate::signals::BLOCKED;

/// Writes one message to stderr with one write, so that lines from the
/// parent and its SIGCHLD handler never interleave; or drops it.
///
/// Clients decide how much `-v` logs, so a log reader that stalls (stderr
/// a pipe nobody drains) must not stall the server: a line goes out only
/// if stderr takes it now (ppoll with a zero timeout; on a pipe, a free
/// page, more than a line needs), else it is dropped and counted, as
/// syslog does, and the count goes out first, in the same write, with the
/// next line that can. The SIGCHLD handler never interrupts this: it runs
/// only in the accept loop's wait.
pub fn say(m: &mut Msg) {
    if LOG.silent.load(Relaxed) {
        return;
    }
    let err = sys::stdio(2);
    let mut ready = [PollFd::new(err, POLLOUT)];
    if sys::ppoll(&mut ready, Some((0, 0)), &BLOCKED) != Ok(1) {
        LOG.dropped.fetch_add(1, Relaxed);
        return;
    }
    let dropped = LOG.dropped.swap(0, Relaxed);
    let written = if dropped == 0 {
        rustix::io::write(err, m.line())
    } else {
        // Both lines in one write (the message cut short if the two do not fit).
        let mut both = Msg::new(b"");
        both.num(dropped as u64).push(b" log lines dropped (stderr was full)\n").push(m.as_bytes());
        rustix::io::write(err, both.line())
    };
    // Refused after all (stderr filled up since the check, or went away):
    // dropped like a line it was not ready for, and said with the next.
    if written.is_err() {
        LOG.dropped.fetch_add(dropped + 1, Relaxed);
    }
}

/// Writes one message to stderr without asking whether it takes it: for a
/// confined session, which may call nothing but read and write. Its one
/// line, at its end, may then wait for a stalled log reader; only that
/// session waits.
pub fn say_confined(m: &mut Msg) {
    if !LOG.silent.load(Relaxed) {
        // The session ends after this line: a write error has no one left
        // to be told to.
        let _ = rustix::io::write(sys::stdio(2), m.line());
    }
}

/// Logs `rot13d: WHAT: CAUSE`.
pub fn failed(what: &[u8], e: Errno) {
    say(Msg::new(what).push(b": ").errno(e.raw_os_error()));
}

/// Reports that `what` failed and ends the process: status 1.
pub fn fail(what: &[u8], e: Errno) -> ! {
    failed(what, e);
    sys::exit(Status::Failed.code())
}

/// Says `m` and ends the process with `status`.
pub fn die(status: Status, m: &mut Msg) -> ! {
    say(m);
    sys::exit(status.code())
}

/// Reports a usage error and ends the process: status 2.
pub fn usage(u: Usage<'_>) -> ! {
    die(Status::Usage, &mut u.msg())
}

/// Checks that `what` worked; its failure is reported and the end
/// (status 1).
pub fn must(r: sys::Result<()>, what: &[u8]) {
    if let Err(e) = r {
        fail(what, e)
    }
}

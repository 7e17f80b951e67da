//! Which signals are blocked where, and what they do (rot13d(8), SIGNALS).
//!
//! Whatever mask the launcher left, rot13d starts by setting its own: it
//! blocks SIGCHLD and SIGPIPE, and nothing else. SIGCHLD is let through
//! only while the accept loop waits (ppoll with [`WAITING`]), after
//! djb's tcpserver: so fork is never interrupted (a signal during fork
//! makes the kernel throw the new process away and start over), a check
//! of the session count cannot miss a child's end, and a child's end is
//! never handled before its start was recorded. SIGPIPE stays blocked
//! everywhere: a write to a peer that has gone is an EPIPE error for that
//! session, and the signal waits, pending, with nobody to kill.
//! Children inherit the mask; a session never unblocks anything.

use crate::sys::{self, Action, SigSet};
use linux_raw_sys::general::{SIGCHLD, SIGINT, SIGPIPE, SIGTERM};
use rot13d::status::Status;

/// The mask everywhere but the accept loop's wait.
pub const BLOCKED: SigSet = SigSet::of(&[SIGCHLD, SIGPIPE]);

/// The mask while the accept loop waits: SIGCHLD let through.
pub const WAITING: SigSet = SigSet::of(&[SIGPIPE]);

/// Sets the mask rot13d runs with, whatever the launcher left blocked (a
/// blocked SIGTERM would make the server unstoppable).
pub fn set_mask() {
    sys::set_mask(&BLOCKED);
}

/// The server's handlers, before it listens: SIGTERM and SIGINT can come
/// at any time; SIGCHLD is handled only while the loop waits.
pub fn handle(sigchld_handler: sys::Handler) {
    sys::set_action(SIGTERM, Action::Handle(term_handler));
    sys::set_action(SIGINT, Action::Handle(term_handler));
    sys::set_action(SIGCHLD, Action::Handle(sigchld_handler));
}

/// A forked session ends on SIGTERM and SIGINT as any program does, by the
/// signal: the parent's handler would exit 0 as if all were well.
pub fn reset_for_session() {
    sys::set_action(SIGTERM, Action::Default);
    sys::set_action(SIGINT, Action::Default);
}

/// SIGTERM and SIGINT in the server: it ends at once, status 0. `exit` here
/// closes the listeners and cannot race the accept loop as a flag would.
/// The sessions go on to their own ends.
extern "C" fn term_handler(_: core::ffi::c_int) {
    sys::exit(Status::Ok.code());
}

//! The server's state, in one place. Everything here is a `static` with
//! interior mutability (atomics, or a cell taken once), so the program
//! needs no `unsafe` to reach it.

use crate::sys::StaticCell;
use core::sync::atomic::{AtomicBool, AtomicU32};
use rot13d::children::Children;
use rot13d::frame::SLACK;

/// The most sessions at once: `-c`'s largest value.
pub const MAX_SESSIONS: usize = 65535;

/// The server's sessions (`-c`, `-C`, and which children are ours). Only
/// the parent uses it, and it is kept out of every child
/// (`sys::dont_fork`): the parent writes to it at every fork and reap,
/// and a child would otherwise keep a private copy of each page written.
/// Page-aligned, so that the range given to the kernel is its own.
#[repr(C, align(4096))]
pub struct Sessions(pub Children<MAX_SESSIONS>);

pub static SESSIONS: Sessions = Sessions(Children::new());

/// What the log does (see `log::say`).
pub struct Log {
    /// `-v`: a line per session's start, end and refusal.
    pub verbose: AtomicBool,
    /// No line at all: stderr is the client's connection (inetd hands the
    /// socket over as fds 0, 1 and 2), and a log line there would be part
    /// of its reply.
    pub silent: AtomicBool,
    /// Lines dropped since the last one written, because stderr did not
    /// take them at once.
    pub dropped: AtomicU32,
}

pub static LOG: Log =
    Log { verbose: AtomicBool::new(false), silent: AtomicBool::new(false), dropped: AtomicU32::new(0) };

/// The size of a session's line buffer: a line longer than this goes out
/// in pieces of this size.
pub const LINE_MAX: usize = 64 * 1024;

/// A session's line buffer, one per process (taken once, by the session),
/// with the slack the word-at-a-time ROT13 writes past its data. Before
/// any session, start-up borrows it to read /etc/passwd and /etc/group.
pub static LINE: StaticCell<[u8; LINE_MAX + SLACK]> = StaticCell::new([0; LINE_MAX + SLACK]);

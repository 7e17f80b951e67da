//! Confinement (rot13d(8), CONFINEMENT): once it listens, the server can
//! only do what its accept loop needs (the filter `PARENT`); a session,
//! before its first client byte, can only read, write and end. A failure
//! never fails open: the one exception is a kernel without seccomp at all,
//! which is said at start-up, even under `-q`, and then served unconfined.

use crate::log;
use crate::sys::{self, Errno};
use rot13d::msg::Msg;
use rot13d::sandbox::{PARENT_FILTER, SESSION_FILTER};
use rustix::thread::{SecureComputingMode, secure_computing_mode, set_no_new_privs, set_secure_computing_mode};

/// How a session confines itself, decided once (by the server at
/// start-up, or by a session under `-i`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sessions {
    /// Under the server's filter: its own filter on top, through the
    /// seccomp call (the one the server's filter allows for it).
    Stacked,
    /// Strict mode: the least costly (read, write, exit, rt_sigreturn).
    Strict,
    /// Under a service manager's filter, where strict mode is refused: its
    /// own filter on top, through the seccomp call or, before Linux 3.17,
    /// prctl.
    OnTop,
    /// The kernel has no seccomp: served unconfined, as was said.
    Unavailable,
    /// The benchmark's build without confinement (feature `unconfined`).
    Skipped,
}

/// Why sessions run unconfined, once, even under `-q`.
fn say_unavailable(e: Errno) {
    log::say(Msg::new(b"seccomp: ").errno(e.raw_os_error()).push(b" (sessions unconfined)"));
}

/// What a session can have where the server has no filter of its own: as
/// `prctl(PR_GET_SECCOMP)` says (EINVAL: no seccomp in this kernel).
pub fn without_server_filter() -> Sessions {
    if cfg!(feature = "unconfined") {
        return Sessions::Skipped;
    }
    match secure_computing_mode() {
        Ok(SecureComputingMode::Filter) => Sessions::OnTop,
        Ok(_) => Sessions::Strict,
        Err(e) => {
            say_unavailable(e);
            Sessions::Unavailable
        }
    }
}

/// The server's confinement, once it listens and has its ids:
/// no_new_privs (which the kernel requires of an unprivileged process that
/// sets a filter, and which children inherit), then the filter `PARENT`,
/// through the seccomp call (the one its sessions then use for theirs).
/// Before Linux 3.17 there is no seccomp call: the server goes without,
/// says so under `-v`, and its sessions confine themselves through prctl.
/// Any other failure ends the server (status 1): it never serves less
/// confined than it says.
pub fn confine_server(verbose: bool) -> Sessions {
    if cfg!(feature = "unconfined") {
        return Sessions::Skipped;
    }
    if let Err(e) = set_no_new_privs(true) {
        log::fail(b"prctl PR_SET_NO_NEW_PRIVS", e);
    }
    match sys::seccomp_filter(&PARENT_FILTER) {
        Ok(()) => Sessions::Stacked,
        Err(Errno::NOSYS) => {
            if verbose {
                log::say(&mut Msg::new(b"no seccomp call (Linux < 3.17): server unfiltered, sessions confined"));
            }
            without_server_filter()
        }
        // No filters in this kernel (no seccomp, or seccomp without
        // CONFIG_SECCOMP_FILTER): what strict mode can do is all there is.
        Err(Errno::INVAL) => without_server_filter(),
        Err(e) => log::fail(b"seccomp", e),
    }
}

/// A session's last step before its first client byte: from here on,
/// whatever those bytes do to the process, it can only read, write and
/// end. An error means the session must not serve (the caller ends it).
pub fn confine_session(how: Sessions) -> Result<(), Errno> {
    match how {
        Sessions::Stacked => sys::seccomp_filter(&SESSION_FILTER),
        Sessions::Strict => {
            set_no_new_privs(true)?;
            set_secure_computing_mode(SecureComputingMode::Strict)
        }
        Sessions::OnTop => {
            set_no_new_privs(true)?;
            match sys::seccomp_filter(&SESSION_FILTER) {
                Err(Errno::NOSYS) => sys::prctl_filter(&SESSION_FILTER),
                r => r,
            }
        }
        Sessions::Unavailable | Sessions::Skipped => Ok(()),
    }
}

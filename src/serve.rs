//! The seed's accept loop, made unkillable after djb's tcpserver, over one
//! listening socket or several; and its `sigchld_handler`.

use crate::confine::Sessions;
use crate::listen::{Listeners, Peer};
use crate::log;
use crate::session::{self, Conn, Origin};
use crate::signals::WAITING;
use crate::state::{LOG, SESSIONS};
use crate::sys::{self, AsFd, Errno, Fork, OwnedFd, PollFd};
use crate::users::Ids;
use core::sync::atomic::Ordering::Relaxed;
use rot13d::msg::Msg;
use rot13d::opts::Config;
use rot13d::rules::Verdict;

/// A connection, and the listener (its place) it came in on.
struct Accepted {
    conn: OwnedFd,
    peer: Peer,
    on: usize,
}

/// Serves until SIGTERM or SIGINT: wait below the cap; accept one; admit
/// it; fork its session. SIGCHLD's handler runs only in [`wait`], so the
/// count checked here is never changed under the check's feet.
pub fn serve(mut listeners: Listeners, cfg: &Config, ids: Option<&Ids>, how: Sessions) -> ! {
    let (mut next, mut failing) = (0, None);
    loop {
        if SESSIONS.0.len() >= cfg.max as usize {
            // Only a session's end can help: wait for one.
            wait(&mut [], None);
            continue;
        }
        match accept(&listeners, &mut next) {
            Ok(Some(a)) => {
                failing = None;
                if admit(&a, cfg, &listeners) {
                    spawn(a, &mut listeners, cfg, ids, how);
                }
                // The connection is closed here: the parent keeps nothing of it.
            }
            Ok(None) => wait_for_clients(&mut listeners),
            Err(e) => accept_failed(e, &mut failing),
        }
    }
}

/// The next waiting connection, from the listener after the last one that
/// had one, so that a busy listener's clients never starve another's; or
/// `None` if no listener has one.
fn accept(listeners: &Listeners, next: &mut usize) -> Result<Option<Accepted>, Errno> {
    let n = listeners.len();
    for k in 0..n {
        let on = (*next + k) % n;
        let Some(l) = listeners.get(on) else { continue };
        match rustix::net::acceptfrom(&l.fd) {
            Ok((conn, from)) => {
                *next = on + 1;
                return Ok(Some(Accepted { conn, peer: Peer::of(from.as_ref()), on }));
            }
            Err(Errno::AGAIN) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// Waits in ppoll with SIGCHLD let through: until `fds` has something, a
/// child has ended (its handler has run: EINTR), or `timeout` has passed.
fn wait(fds: &mut [PollFd], timeout: Option<(i64, i64)>) {
    // EINTR is how a child's end arrives; any other error (ENOMEM) leaves the
    // loop to try accept and wait again, which is all it could do about it.
    let _ = sys::ppoll(fds, timeout, &WAITING);
}

/// Waits until some listener has a connection, or a child has ended.
fn wait_for_clients(listeners: &mut Listeners) {
    let n = listeners.len();
    wait(listeners.polls.get_mut(..n).unwrap_or_default(), None);
}

/// Whether the connection is to be served: the rules, then `-C`. A refused
/// one is closed here, before any fork (a flood of them costs no
/// process), and logged under `-v`.
fn admit(a: &Accepted, cfg: &Config, listeners: &Listeners) -> bool {
    let refusal: &[u8] = match a.peer {
        Peer::Ip(ip, _) if cfg.rules.verdict(&ip) != Verdict::Served => b": rule",
        Peer::Ip(ip, _) if cfg.per_host > 0 && SESSIONS.0.count(ip.client_key()) >= cfg.per_host as usize => {
            b": per-client limit"
        }
        _ => return true,
    };
    if LOG.verbose.load(Relaxed) {
        let mut m = Msg::new(b"refused ");
        a.peer.show(&mut m).push(refusal);
        on(&mut m, a, listeners);
        log::say(&mut m);
    }
    false
}

/// Appends ` on LISTENER` where there is more than one.
fn on(m: &mut Msg, a: &Accepted, listeners: &Listeners) {
    if let Some(l) = listeners.get(a.on).filter(|_| listeners.len() > 1) {
        l.show(m.push(b" on "));
    }
}

/// Forks the session. It is counted before fork (djb: the count is never
/// below the truth) and uncounted if fork fails; the child closes the
/// listeners first.
fn spawn(a: Accepted, listeners: &mut Listeners, cfg: &Config, ids: Option<&Ids>, how: Sessions) {
    let key = match a.peer {
        Peer::Ip(ip, _) => ip.client_key(),
        Peer::Local => 0,
    };
    if !SESSIONS.0.reserve(key) {
        return;
    }
    match sys::fork() {
        Ok(Fork::Child) => {
            listeners.close();
            let conn = Conn { input: a.conn.as_fd(), output: a.conn.as_fd(), origin: Origin::Forked };
            session::session(conn, cfg, ids, how)
        }
        Ok(Fork::Parent(pid)) => {
            SESSIONS.0.born(pid);
            if LOG.verbose.load(Relaxed) {
                let mut m = Msg::new(b"pid ");
                a.peer.show(m.num(pid as u64).push(b" from "));
                on(&mut m, &a, listeners);
                log::say(m.push(b" (").num(SESSIONS.0.len() as u64).push(b"/").num(cfg.max as u64).push(b")"));
            }
        }
        Err(e) => {
            SESSIONS.0.stillborn();
            log::failed(b"fork", e);
        }
    }
}

/// accept() failed. A connection's failure is never the end of the
/// server: out of fds, buffers or memory, it says so once per run of the
/// same error and pauses 250 ms so that retrying does not spin (children's
/// ends are still handled meanwhile); anything else (the waiting
/// connection went away), on to the next at once. But a listener that
/// cannot accept at all would fail for ever: that ends the server, status
/// 1, as a failed listen would have.
fn accept_failed(e: Errno, failing: &mut Option<Errno>) {
    match e {
        Errno::BADF | Errno::NOTSOCK | Errno::INVAL | Errno::OPNOTSUPP => log::fail(b"accept", e),
        Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM => {
            if *failing != Some(e) {
                log::failed(b"accept", e);
                *failing = Some(e);
            }
            wait(&mut [], Some((0, 250_000_000)));
        }
        _ => {}
    }
}

/// The seed's `sigchld_handler`: reaps every child that has ended, with
/// `wait4(-1, WNOHANG)` until none is left (signals merge: one SIGCHLD
/// may stand for several ends). A session is uncounted and, under `-v`,
/// its end logged; a child inherited across exec is only reaped. It runs
/// only while the loop waits in ppoll, so it never meets the loop halfway.
pub extern "C" fn sigchld_handler(_: core::ffi::c_int) {
    while let Ok(Some((pid, status))) = rustix::process::wait(rustix::process::WaitOptions::NOHANG) {
        let pid = pid.as_raw_pid();
        if SESSIONS.0.remove(pid) && LOG.verbose.load(Relaxed) {
            let mut m = Msg::new(b"end pid ");
            m.num(pid as u64);
            match (status.exit_status(), status.terminating_signal()) {
                (Some(code), _) => m.push(b" status ").num(code as u64),
                (_, Some(sig)) => m.push(b" signal ").num(sig as u64),
                _ => &mut m,
            };
            log::say(&mut m);
        }
    }
}

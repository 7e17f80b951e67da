//! Scale (the README's "What a session costs" and "Scale past one box"):
//! two thousand sessions held at once: every one answers exactly, every one
//! is reaped after it closes, and the parent keeps nothing of any of them.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const SESSIONS: usize = 2000;

/// Raises this process's soft limit on open files to its hard limit (which
/// needs no privilege), and says whether `need` fit under it.
fn raise_nofile(need: u64) {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write `lim`.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = lim.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
    assert!(lim.rlim_cur >= need, "RLIMIT_NOFILE hard limit {} is below the {need} this test needs", lim.rlim_max);
}

#[test]
fn two_thousand_held_sessions_answer_exactly_and_are_all_reaped() {
    raise_nofile(SESSIONS as u64 + 100);
    let s = Server::start(&["-l", "127.0.0.1", "-c", "65535", "-b", "4096"]);
    let fds_before = s.fds();
    let mut held: Vec<TcpStream> = Vec::with_capacity(SESSIONS);
    for i in 0..SESSIONS {
        let mut c = s.connect();
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let line = format!("session {i}\n").into_bytes();
        assert_eq!(ask(&mut c, &line), rot13(&line), "session {i}");
        held.push(c);
    }
    // All held at once: a child each, the parent with its listener only.
    wait_until(
        Duration::from_secs(30),
        || s.children().len() == SESSIONS,
        || format!("{} children", s.children().len()),
    );
    assert_eq!(s.fds(), fds_before);
    // Each still answers, with every byte, after the others came.
    for (i, c) in held.iter_mut().enumerate() {
        let line = format!("still here {i}, {}\n", "x".repeat(i % 97)).into_bytes();
        assert_eq!(ask(c, &line), rot13(&line), "session {i}");
    }
    // Half-close: the last partial line comes back, then the end.
    for (i, c) in held.iter_mut().enumerate().take(100) {
        c.write_all(b"tail").unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"gnvy", "session {i}");
    }
    drop(held);
    wait_until(Duration::from_secs(60), || s.children().is_empty(), || format!("{} children left", s.children().len()));
    assert_eq!(s.fds(), fds_before);
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"after\n"), b"nsgre\n");
}

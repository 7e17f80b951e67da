//! Confinement (rot13d(8), CONFINEMENT), the same in both builds: the
//! server under its filter once it listens; every session, before its
//! first byte, under a filter of its own on top (or in strict mode where
//! it has no filter above it); nothing but read, write and exit in a
//! session's trace; a kernel without seccomp said so and served; any other
//! failure of confinement never fails open.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::process::Command;
use std::time::Duration;

/// Process `pid`'s (Seccomp, Seccomp_filters, NoNewPrivs).
fn confinement(pid: u32) -> (String, String, String) {
    (status_field(pid, "Seccomp"), status_field(pid, "Seccomp_filters"), status_field(pid, "NoNewPrivs"))
}

/// Waits until process `pid` is confined in mode `seccomp` under `filters`
/// filters, with no_new_privs (a session confines itself a moment after
/// it starts); fails with what it shows instead.
fn assert_confined(pid: u32, seccomp: &str, filters: &str, what: &str) {
    let want = (seccomp.to_string(), filters.to_string(), "1".to_string());
    wait_until(
        Duration::from_secs(10),
        || confinement(pid) == want,
        || format!("{what}: {:?}, not {want:?}", confinement(pid)),
    );
}

#[test]
fn the_server_and_its_sessions_are_confined_before_the_first_byte() {
    let s = Server::start(&["-t", "30"]);
    assert_confined(s.pid(), "2", "1", "the server: its own filter");
    let mut c = s.connect();
    // Nothing sent yet: the session waits in its first read, confined.
    wait_until(Duration::from_secs(10), || s.children().len() == 1, || "one session".into());
    assert_confined(s.children()[0], "2", "2", "a session: its filter on the server's");
    assert_eq!(ask(&mut c, b"confined\n"), b"pbasvarq\n");
}

#[test]
fn an_inetd_session_is_in_strict_mode() {
    let (mut client, child) = inetd_on_connection("127.0.0.1", &["-t", "30"], |_| {});
    assert_confined(child.id(), "1", "0", "strict mode");
    assert_eq!(ask(&mut client, b"strict\n"), b"fgevpg\n");
    client.shutdown(Shutdown::Write).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!((out.status.code(), stderr_of(&out.stderr).as_str()), (Some(0), ""));
}

#[test]
fn a_session_makes_no_call_but_read_write_and_exit() {
    need_strace();
    let log = std::env::temp_dir().join(format!("rot13d-session-trace-{}", std::process::id()));
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-o"]).arg(&log).arg(bin()).args(["-p", "0", "-t", "30"]);
    let s = Server::spawn(cmd);
    // strace is the server's parent here: the server is its child.
    wait_until(Duration::from_secs(10), || !children_of(s.pid()).is_empty(), || "rot13d under strace".into());
    let server = children_of(s.pid())[0];
    let c = connect(("127.0.0.1", s.port));
    assert_eq!(roundtrip(c, b"one\ntwo\nand a partial line".to_vec()), rot13(b"one\ntwo\nand a partial line"));
    wait_until(Duration::from_secs(10), || children_of(server).is_empty(), || "the session ended".into());
    kill("TERM", server);
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    // The session's lines: those of a pid other than the server's.
    let session: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(&format!("{server} ")))
        .filter_map(|l| l.split_once(' ').map(|(_, call)| call.trim_start()))
        .collect();
    let confined =
        session.iter().position(|c| c.starts_with("seccomp(")).unwrap_or_else(|| panic!("no seccomp call:\n{text}"));
    let after: Vec<&str> = session[confined + 1..]
        .iter()
        .map(|c| c.split(['(', ' ']).next().unwrap())
        .filter(|c| !c.is_empty() && *c != "+++" && *c != "---" && *c != "<...")
        .collect();
    assert!(!after.is_empty() && after.iter().all(|c| ["read", "write", "exit"].contains(c)), "{after:?}\n{text}");
    assert_eq!(after.last(), Some(&"exit"), "{text}");
    assert!(after.contains(&"read") && after.contains(&"write"), "{text}");
}

/// A kernel without seccomp (CONFIG_SECCOMP off): the seccomp call is
/// ENOSYS and prctl's seccomp options are EINVAL (the test's own filter
/// says so); no_new_privs it still has.
fn without_seccomp(cmd: &mut Command) {
    let mut f = errors_for(&[(libc::SYS_seccomp, libc::ENOSYS)]);
    // Before the final allow: prctl(PR_GET_SECCOMP or PR_SET_SECCOMP) -> EINVAL.
    let allow = f.pop().unwrap();
    f.extend([
        insn(0x15, 0, 5, libc::SYS_prctl as u32),      // prctl, or on to the allow
        insn(0x20, 0, 0, 16),                          // its option (the low half of arg 0)
        insn(0x15, 2, 0, libc::PR_GET_SECCOMP as u32), // -> EINVAL
        insn(0x15, 1, 0, libc::PR_SET_SECCOMP as u32), // -> EINVAL
        insn(0x06, 0, 0, 0x7fff_0000),                 // another option: allowed
        insn(0x06, 0, 0, 0x0005_0000 | libc::EINVAL as u32),
    ]);
    f.push(allow);
    under_filter(cmd, f);
}

#[test]
fn a_kernel_without_seccomp_is_said_and_served() {
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0"]);
    without_seccomp(&mut cmd);
    let s = Server::spawn(cmd);
    // Said once, even though nothing asked for -v.
    assert_eq!(s.line(), "rot13d: seccomp: invalid argument (sessions unconfined)");
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"served\n"), b"freirq\n");
    drop(c);
    s.wait_no_children();
    assert_eq!(s.line_within(Duration::from_millis(200)), None, "said once, not once a session");
    // -i says it too, and serves.
    let (mut client, child) = inetd_on_connection("127.0.0.1", &[], without_seccomp);
    assert_eq!(ask(&mut client, b"inetd\n"), b"vargq\n");
    client.shutdown(Shutdown::Write).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = "rot13d: seccomp: invalid argument (sessions unconfined)\n";
    assert_eq!((out.status.code(), stderr_of(&out.stderr).as_str()), (Some(0), said));
}

/// As systemd's SystemCallFilter= leaves it: no_new_privs and a filter
/// that (here) allows everything.
fn under_a_filter(cmd: &mut Command) {
    under_filter(cmd, errors_for(&[]));
}

#[test]
fn under_a_service_managers_filter_filters_stack() {
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0"]);
    under_a_filter(&mut cmd);
    let s = Server::spawn(cmd);
    let mut c = s.connect();
    wait_until(Duration::from_secs(10), || s.children().len() == 1, || "one session".into());
    assert_confined(s.pid(), "2", "2", "the server's on the manager's");
    assert_confined(s.children()[0], "2", "3", "the session's on both");
    assert_eq!(ask(&mut c, b"managed\n"), b"znantrq\n");
    // -i: strict mode is refused under a filter; its own goes on top.
    let (mut client, child) = inetd_on_connection("127.0.0.1", &[], under_a_filter);
    assert_confined(child.id(), "2", "2", "its own on the manager's");
    assert_eq!(ask(&mut client, b"inetd\n"), b"vargq\n");
}

#[test]
fn a_kernel_without_the_seccomp_call_still_confines_sessions() {
    // Before Linux 3.17 (still common on embedded boards): seccomp through
    // prctl only. The test's filter puts the server in filter mode, as a
    // service manager's would.
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0", "-v"]);
    under_filter(&mut cmd, errors_for(&[(libc::SYS_seccomp, libc::ENOSYS)]));
    let s = Server::spawn(cmd);
    assert_eq!(s.line(), "rot13d: no seccomp call (Linux < 3.17): server unfiltered, sessions confined");
    let mut c = s.connect();
    assert!(s.line().contains(" from 127.0.0.1:"));
    wait_until(Duration::from_secs(10), || s.children().len() == 1, || "one session".into());
    assert_confined(s.children()[0], "2", "2", "the session's own filter, through prctl");
    assert_eq!(status_field(s.pid(), "Seccomp_filters"), "1", "the server: the test's filter only");
    assert_eq!(ask(&mut c, b"old\n"), b"byq\n");
}

#[test]
fn a_failure_of_confinement_never_fails_open() {
    // The seccomp call refused (not missing): the server does not serve.
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0", "-q"]);
    under_filter(&mut cmd, errors_for(&[(libc::SYS_seccomp, libc::EPERM)]));
    assert_eq!(output(&mut cmd), (1, String::new(), "rot13d: seccomp: operation not permitted\n".to_string()));
    // A session that cannot confine itself reads nothing: status 1, said
    // under -v; the client gets no byte.
    let deny = |cmd: &mut Command| under_filter(cmd, errors_for(&[(libc::SYS_seccomp, libc::EPERM)]));
    let (mut client, child) = inetd_on_connection("127.0.0.1", &["-v"], deny);
    let _ = client.write_all(b"secret\n");
    let mut got = Vec::new();
    let _ = client.read_to_end(&mut got);
    assert_eq!(got, b"");
    let out = child.wait_with_output().unwrap();
    let said = "rot13d: session not confined: seccomp: operation not permitted\n";
    assert_eq!((out.status.code(), stderr_of(&out.stderr).as_str()), (Some(1), said));
}

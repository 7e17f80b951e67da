//! Confinement (rot13d(8), CONFINEMENT): every session in strict mode, or
//! under a filter already (the parent's, a service manager's) under one
//! more of its own, before its first byte; the parent of the default build
//! under its filter; nothing but read/write/exit in a session's trace; and
//! a kernel without seccomp said so, never silently.

mod common;
use common::*;
use std::io::Read;
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use std::time::Duration;

/// Whether the server runs under its own filter: the default build on
/// x86_64 (no filter is written for other architectures, and the static
/// build has none).
fn parent_filtered() -> bool {
    !is_static() && cfg!(target_arch = "x86_64")
}

/// Whether a session under a filter already adds a filter of its four
/// calls (strict mode being refused there): x86_64, both builds.
fn session_filter_written() -> bool {
    cfg!(target_arch = "x86_64")
}

/// What a forked session shows in /proc: its own filter (2) under the
/// parent's, strict mode (1) where the parent has none.
fn forked_session_mode() -> &'static str {
    if parent_filtered() { "2" } else { "1" }
}

#[test]
fn sessions_are_confined_before_their_first_byte() {
    let s = Server::start(&["-t", "30"]);
    let mut c = s.connect();
    // Nothing sent yet: the session waits in its first read, confined.
    wait_until(Duration::from_secs(10), || s.children().len() == 1, || "one session".into());
    let kid = s.children()[0];
    wait_until(Duration::from_secs(10), || status_field(kid, "Seccomp") != "0", || status_field(kid, "Seccomp"));
    assert_eq!(status_field(kid, "Seccomp"), forked_session_mode());
    assert_eq!(status_field(kid, "NoNewPrivs"), "1");
    if parent_filtered() {
        // Its own filter on top of the parent's.
        assert_eq!(status_field(kid, "Seccomp_filters"), "2");
    }
    assert_eq!(ask(&mut c, b"confined\n"), b"pbasvarq\n");
    // The parent: under its filter in the default build; the static build
    // has none (rot13d(8), CONFINEMENT).
    let parent = if parent_filtered() { ("2", "1") } else { ("0", "0") };
    assert_eq!((status_field(s.pid(), "Seccomp").as_str(), status_field(s.pid(), "NoNewPrivs").as_str()), parent);
    drop(c);
    s.wait_no_children();
}

#[test]
fn an_inetd_session_is_in_strict_mode() {
    let (mut client, child) = inetd_on_connection("127.0.0.1", &["-t", "30"], |_| {});
    let pid = child.id();
    wait_until(Duration::from_secs(10), || status_field(pid, "Seccomp") != "0", || status_field(pid, "Seccomp"));
    assert_eq!((status_field(pid, "Seccomp").as_str(), status_field(pid, "NoNewPrivs").as_str()), ("1", "1"));
    assert_eq!(ask(&mut client, b"strict\n"), b"fgevpg\n");
    client.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stderr).as_ref()), (Some(0), ""));
}

#[test]
fn a_session_makes_no_call_but_read_write_and_exit() {
    assert!(Command::new("strace").arg("-V").output().is_ok(), "strace is needed (apt-get install strace)");
    let log = std::env::temp_dir().join(format!("rot13d-session-trace-{}", std::process::id()));
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-o"]).arg(&log).arg(bin()).args(["-p", "0", "-t", "30"]);
    let s = Server::spawn(cmd);
    // strace is the server's parent here: the server is its child.
    wait_until(Duration::from_secs(10), || !children_of(s.pid()).is_empty(), || "rot13d under strace".into());
    let server = children_of(s.pid())[0];
    let c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
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
    // Strict mode through prctl, or a filter through seccomp (under the
    // parent's filter).
    let confined = session
        .iter()
        .position(|c| c.starts_with("seccomp(") || c.starts_with("prctl(PR_SET_SECCOMP"))
        .unwrap_or_else(|| panic!("no seccomp call:\n{text}"));
    let after: Vec<&str> = session[confined + 1..]
        .iter()
        .map(|c| c.split(['(', ' ']).next().unwrap())
        .filter(|c| !c.is_empty() && *c != "+++" && *c != "---" && *c != "<...")
        .collect();
    assert!(!after.is_empty() && after.iter().all(|c| ["read", "write", "exit"].contains(c)), "{after:?}\n{text}");
    assert_eq!(after.last(), Some(&"exit"), "{text}");
    assert!(after.contains(&"read") && after.contains(&"write"), "{text}");
}

/// A filter for the test's child that makes the kernel look as if it had
/// no seccomp: `seccomp` fails with ENOSYS and `prctl` with EINVAL, as on
/// a kernel built without CONFIG_SECCOMP (which still has
/// PR_SET_NO_NEW_PRIVS, but this is close enough for rot13d).
fn without_seccomp(cmd: &mut Command) {
    #[cfg(target_arch = "x86_64")]
    const ARCH: u32 = 0xc000_003e;
    #[cfg(target_arch = "aarch64")]
    const ARCH: u32 = 0xc000_00b7;
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    const ARCH: u32 = 0;
    let insn = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    let filter = [
        insn(0x20, 0, 0, 4),                                    // load arch
        insn(0x15, 1, 0, ARCH),                                 // ours: on
        insn(0x06, 0, 0, 0x7fff_0000),                          // else allow (nothing to hide)
        insn(0x20, 0, 0, 0),                                    // load nr
        insn(0x15, 2, 0, libc::SYS_seccomp as u32),             // seccomp: ENOSYS
        insn(0x15, 3, 0, libc::SYS_prctl as u32),               // prctl: EINVAL
        insn(0x06, 0, 0, 0x7fff_0000),                          // allow
        insn(0x06, 0, 0, 0x0005_0000 | libc::ENOSYS as u32),    // ENOSYS
        insn(0x06, 0, 0, 0x7fff_0000),                          // (unreached)
        insn(0x06, 0, 0, 0x0005_0000 | libc::EINVAL as u32),    // EINVAL
    ];
    under_filter(cmd, filter.to_vec());
}

#[test]
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), ignore = "the test's filter knows x86_64 and aarch64 only")]
fn a_kernel_without_seccomp_is_said_and_served() {
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0"]);
    without_seccomp(&mut cmd);
    let s = Server::spawn(cmd);
    // The startup line first, then why sessions run unconfined, even
    // though nothing asked for -v.
    assert_eq!(s.line(), "rot13d: seccomp (sessions unconfined): invalid argument");
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"served\n"), b"freirq\n");
    drop(c);
    s.wait_no_children();
    // Said once, not once a session.
    assert_eq!(s.line_within(Duration::from_millis(200)), None);
}

/// As systemd's SystemCallFilter= leaves it: no_new_privs and a filter that
/// (here) allows everything.
fn under_a_filter(cmd: &mut Command) {
    under_filter(cmd, vec![libc::sock_filter { code: 0x06, jt: 0, jf: 0, k: 0x7fff_0000 }]);
}

#[test]
fn under_a_service_managers_filter() {
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0"]);
    under_a_filter(&mut cmd);
    let s = Server::spawn(cmd);
    let mut c = s.connect();
    wait_until(Duration::from_secs(10), || s.children().len() == 1, || "one session".into());
    let kid = s.children()[0];
    // Filters stack: the server's (default build) on the manager's, the
    // session's on top.
    let server = if parent_filtered() { 2 } else { 1 };
    if session_filter_written() {
        let session = (server + 1).to_string();
        wait_until(Duration::from_secs(10), || status_field(kid, "Seccomp_filters") == session, || status_field(kid, "Seccomp_filters"));
        assert_eq!(status_field(s.pid(), "Seccomp_filters"), server.to_string());
    } else {
        // Strict mode cannot be had under a filter: said at start-up, not
        // left to fail quietly in every session.
        assert_eq!(s.line(), "rot13d: seccomp (sessions unconfined): operation not permitted");
    }
    assert_eq!(ask(&mut c, b"managed\n"), b"znantrq\n");
}

#[test]
fn an_inetd_session_under_a_service_managers_filter() {
    let (mut client, child) = inetd_on_connection("127.0.0.1", &[], under_a_filter);
    let pid = child.id();
    if session_filter_written() {
        // Strict mode refused, the session's own filter stacked on the
        // manager's instead.
        wait_until(Duration::from_secs(10), || status_field(pid, "Seccomp_filters") == "2", || status_field(pid, "Seccomp_filters"));
    }
    assert_eq!(ask(&mut client, b"inetd\n"), b"vargq\n");
    client.shutdown(Shutdown::Write).unwrap();
    let out = child.wait_with_output().unwrap();
    // Strict mode (other architectures) cannot be had under a filter: said.
    let said = if session_filter_written() { "" } else { "rot13d: seccomp (sessions unconfined): invalid argument\n" };
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stderr).as_ref()), (Some(0), said));
}

/// A kernel from before Linux 3.17 (still common on embedded devices): it
/// has seccomp, through prctl, but not the seccomp call, which here fails
/// with ENOSYS. (The test's filter puts the server in filter mode, as a
/// service manager's would.)
fn without_the_seccomp_call(cmd: &mut Command) {
    #[cfg(target_arch = "x86_64")]
    const ARCH: u32 = 0xc000_003e;
    #[cfg(not(target_arch = "x86_64"))]
    const ARCH: u32 = 0;
    let insn = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    let filter = [
        insn(0x20, 0, 0, 4),                                 // load arch
        insn(0x15, 1, 0, ARCH),                              // ours: on
        insn(0x06, 0, 0, 0x7fff_0000),                       // else allow
        insn(0x20, 0, 0, 0),                                 // load nr
        insn(0x15, 1, 0, libc::SYS_seccomp as u32),          // seccomp: ENOSYS
        insn(0x06, 0, 0, 0x7fff_0000),                       // allow
        insn(0x06, 0, 0, 0x0005_0000 | libc::ENOSYS as u32), // ENOSYS
    ];
    under_filter(cmd, filter.to_vec());
}

#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "no session filter is written for this architecture")]
fn a_kernel_without_the_seccomp_call_still_confines_sessions() {
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0", "-v"]);
    without_the_seccomp_call(&mut cmd);
    let s = Server::spawn(cmd);
    // The default build's server goes without its filter (it would need
    // the seccomp call) and says so under -v; the static build has none
    // anyway. Nothing says the sessions are unconfined: they are not.
    if parent_filtered() {
        assert_eq!(s.line(), "rot13d: no seccomp filter for the server here: its sessions have theirs");
    }
    let mut c = s.connect();
    assert!(s.line().contains(" from 127.0.0.1:"));
    wait_until(Duration::from_secs(10), || s.children().len() == 1, || "one session".into());
    let kid = s.children()[0];
    // Strict mode is refused under the test's filter: the session's own
    // filter goes on top of it, through prctl.
    wait_until(Duration::from_secs(10), || status_field(kid, "Seccomp_filters") == "2", || status_field(kid, "Seccomp_filters"));
    assert_eq!(status_field(s.pid(), "Seccomp_filters"), "1");
    assert_eq!(ask(&mut c, b"old\n"), b"byq\n");
    drop(c);
    assert!(s.line().ends_with(" status 0"));
    s.wait_no_children();
}

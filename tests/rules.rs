//! Access rules, `-a CIDR` and `-d CIDR` (rot13d(8), ACCESS RULES): first
//! match wins, IPv4 clients of a `::` listener meet IPv4 rules, a refused
//! peer costs no process, `-i` checks its stdin's peer, and so does a
//! server on a socket from systemd.

mod common;
use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Whether a connection to `s` from `from` gets its line answered (true),
/// or is closed unanswered (false).
fn served(s: &Server, from: &str) -> bool {
    let to = if from.contains(':') { "::1" } else { "127.0.0.1" };
    let mut c = TcpStream::connect((to, s.port)).unwrap_or_else(|e| panic!("connect {to}: {e}"));
    assert_eq!(c.local_addr().unwrap().ip().to_string(), from);
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // A refused peer may be closed before the line goes out.
    let _ = c.write_all(b"who\n");
    let _ = c.shutdown(Shutdown::Write);
    let mut got = Vec::new();
    match c.read_to_end(&mut got) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("read: {e}"),
    }
    match got.as_slice() {
        b"jub\n" => true,
        b"" => false,
        other => panic!("{other:?}"),
    }
}

/// The next log line that is not a session's start or end, less the
/// peer's port: `rot13d: refused ::1: rule`.
fn refusal(s: &Server) -> String {
    loop {
        let l = s.line();
        if !l.starts_with("rot13d: pid ") && !l.starts_with("rot13d: end pid ") {
            let (peer, why) = l.strip_prefix("rot13d: refused ").unwrap().rsplit_once(": ").unwrap();
            let host = peer.rsplit_once(':').unwrap().0.trim_matches(|c| c == '[' || c == ']');
            return format!("rot13d: refused {host}: {why}");
        }
    }
}

/// Starts the server on `::` with `rules`, under -v.
fn with_rules(rules: &[&str]) -> Option<Server> {
    Some(Server::start(&[&["-v"], rules].concat()))
}

#[test]
fn ipv4_clients_of_a_dual_stack_listener_meet_ipv4_rules() {
    let Some(s) = with_rules(&["-a", "127.0.0.0/8"]) else {
        return;
    };
    assert!(served(&s, "127.0.0.1"));
    // ::1 is in no -a rule: refused.
    assert!(!served(&s, "::1"));
    assert_eq!(refusal(&s), "rot13d: refused ::1: rule");
    let Some(d) = with_rules(&["-d", "127.0.0.1"]) else {
        return;
    };
    assert!(!served(&d, "127.0.0.1"));
    assert_eq!(refusal(&d), "rot13d: refused 127.0.0.1: rule");
    // Only -d rules: what they do not name is served.
    assert!(served(&d, "::1"));
}

#[test]
fn ipv6_rules_and_the_first_match_wins() {
    let Some(s) = with_rules(&["-d", "::1", "-a", "::/0"]) else {
        return;
    };
    assert!(!served(&s, "::1"));
    // ::/0 is every peer: IPv4 ones are ::ffff:a.b.c.d in it.
    assert!(served(&s, "127.0.0.1"));
    let Some(s) = with_rules(&["-a", "2001:db8::/32", "-d", "::ffff:0:0/96"]) else {
        return;
    };
    assert!(!served(&s, "::1"));
    assert!(!served(&s, "127.0.0.1"));
    let Some(s) = with_rules(&["-a", "::1/128", "-d", "::/0", "-a", "127.0.0.1"]) else {
        return;
    };
    assert!(served(&s, "::1"));
    // -d ::/0 comes first.
    assert!(!served(&s, "127.0.0.1"));
    let Some(s) = with_rules(&["-d", "127.0.0.0/8", "-a", "127.0.0.1"]) else {
        return;
    };
    assert!(!served(&s, "127.0.0.1"));
}

#[test]
fn a_thousand_refused_peers_cost_no_process_and_no_fd() {
    let Some(s) = with_rules(&["-d", "127.0.0.0/8"]) else {
        return;
    };
    let fds = s.fds();
    for _ in 0..1000 {
        let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        let mut buf = [0; 1];
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Closed by the parent: end of file, or a reset.
        assert!(matches!(c.read(&mut buf), Ok(0) | Err(_)));
        // No fork: the parent never has a child for a refused peer.
        assert!(s.children().is_empty());
    }
    assert_eq!(s.fds(), fds);
    // And it still serves whom the rules let through.
    assert!(served(&s, "::1"));
}

#[test]
fn bad_rules_are_usage_errors() {
    let many: Vec<&str> = std::iter::repeat_n(["-a", "10.0.0.0/8"], 33).flatten().collect();
    assert_usage_errors(&[
        (&["-a", "10.0.0.0/33"], "rot13d: -a 10.0.0.0/33: prefix length past 32 (IPv4) or 128 (IPv6)"),
        (&["-d", "::/129"], "rot13d: -d ::/129: prefix length past 32 (IPv4) or 128 (IPv6)"),
        (&["-a", "10.0.0.1/8"], "rot13d: -a 10.0.0.1/8: host bits set past the prefix"),
        (&["-a", "localhost"], "rot13d: -a localhost: not ADDRESS or ADDRESS/BITS"),
        (&["-d"], "rot13d: -d: missing value"),
        (&many, "rot13d: -a 10.0.0.0/8: more than 32 rules"),
    ]);
}

/// Runs `rot13d -i ARGS` on the server side of a loopback connection made
/// from `from`; returns what the client got and the exit status.
fn inetd(from: &str, args: &[&str]) -> (Vec<u8>, Option<i32>, String) {
    let (mut client, child) = inetd_on_connection(from, args, |_| {});
    let _ = client.write_all(b"who\n");
    let _ = client.shutdown(Shutdown::Write);
    let mut got = Vec::new();
    let _ = client.read_to_end(&mut got);
    let out = child.wait_with_output().unwrap();
    (got, out.status.code(), stderr_of(&out.stderr))
}

#[test]
fn inetd_sessions_check_their_peer() {
    assert_eq!(inetd("127.0.0.1", &["-a", "127.0.0.1"]), (b"jub\n".to_vec(), Some(0), String::new()));
    // Refused: closed at once, status 0, nothing read or written.
    assert_eq!(inetd("127.0.0.1", &["-d", "127.0.0.0/8"]), (Vec::new(), Some(0), String::new()));
    assert_eq!(inetd("::1", &["-a", "127.0.0.0/8"]), (Vec::new(), Some(0), String::new()));
    // A pipe has no peer to check: refused, not ignored.
    let out = Command::new(bin()).args(["-i", "-a", "127.0.0.1"]).stdin(Stdio::piped()).output().unwrap();
    assert_eq!(
        (out.status.code(), stderr_of(&out.stderr).as_str()),
        (Some(2), "rot13d: -a: needs stdin to be a TCP socket (rot13d -h for help)\n")
    );
}

#[test]
fn rules_apply_to_a_socket_from_systemd() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg("LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" -d 127.0.0.1").arg(bin());
    let fd = l.as_raw_fd();
    // SAFETY: dup2 and fcntl are async-signal-safe; the forked child only.
    unsafe {
        cmd.pre_exec(move || {
            let ok = if fd == 3 { libc::fcntl(3, libc::F_SETFD, 0) } else { libc::dup2(fd, 3) };
            if ok < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
        });
    }
    let s = Server::spawn(cmd);
    drop(l);
    assert!(!served(&s, "127.0.0.1"));
}

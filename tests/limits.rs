//! Limits, faults and privilege (rot13d(8), OPTIONS and EXIT STATUS): the
//! caps across every listener, per client, timeouts, running out of fds or
//! processes, and the users it runs as in every mode: the server keeps
//! serving under abuse and loses nothing.

mod common;
use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Asserts that nothing arrives on `c` for `t` (the read times out).
fn silent_for(c: &mut TcpStream, t: Duration) {
    c.set_read_timeout(Some(t)).unwrap();
    let mut b = [0u8; 16];
    match c.read(&mut b) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("expected silence, got {other:?}"),
    }
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
}

/// Asserts that the server closed `c` without a reply.
fn closed(c: &mut TcpStream) {
    let mut b = [0u8; 16];
    match c.read(&mut b) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("expected the connection closed, got {other:?}"),
    }
}

fn prlimit(pid: u32, what: &str) {
    let ok = Command::new("prlimit").arg("--pid").arg(pid.to_string()).arg(what).status().unwrap().success();
    assert!(ok, "prlimit {what}");
}

/// A client socket bound to `from` before it connects.
fn connect_from(from: &str, s: &Server) -> TcpStream {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&format!("{from}:0").parse::<SocketAddr>().unwrap().into()).unwrap();
    sock.connect(&format!("127.0.0.1:{}", s.port).parse::<SocketAddr>().unwrap().into()).unwrap();
    let c: TcpStream = sock.into();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c
}

#[test]
fn connection_cap_holds_the_fourth_in_the_backlog() {
    let s = Server::start(&["-c", "3"]);
    let mut held: Vec<TcpStream> = (0..3).map(|_| s.connect()).collect();
    for c in held.iter_mut() {
        assert_eq!(ask(c, b"in\n"), b"va\n");
    }
    let mut fourth = s.connect();
    fourth.write_all(b"wait\n").unwrap();
    silent_for(&mut fourth, Duration::from_millis(700));
    assert_eq!(s.children().len(), 3);
    // One of the three leaves: the fourth is accepted and answered.
    drop(held.pop());
    let mut got = [0u8; 5];
    fourth.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"jnvg\n");
    assert_eq!(s.children().len(), 3);
    drop(held);
    drop(fourth);
    s.wait_no_children();
}

#[test]
fn cap_of_one_serves_clients_one_after_another() {
    // Every wake-up must be caught: 30 clients through a cap of 1.
    let s = Server::start(&["-c", "1"]);
    let threads: Vec<_> = (0..30)
        .map(|i| {
            let c = s.connect();
            std::thread::spawn(move || {
                let line = format!("client {i}\n").into_bytes();
                assert_eq!(roundtrip(c, line.clone()), rot13(&line));
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    s.wait_no_children();
}

#[test]
fn per_host_cap_refuses_the_third_from_one_address_only() {
    let s = Server::start(&["-C", "2", "-v"]);
    let mut a = connect_from("127.0.0.1", &s);
    let mut b = connect_from("127.0.0.1", &s);
    assert_eq!(ask(&mut a, b"a\n"), b"n\n");
    assert_eq!(ask(&mut b, b"b\n"), b"o\n");
    assert!(s.line().starts_with("rot13d: pid "));
    assert!(s.line().starts_with("rot13d: pid "));
    let mut third = connect_from("127.0.0.1", &s);
    let port = third.local_addr().unwrap().port();
    closed(&mut third);
    assert_eq!(s.line(), format!("rot13d: refused 127.0.0.1:{port}: per-client limit"));
    // Another address is served meanwhile.
    let mut other = connect_from("127.0.0.2", &s);
    assert_eq!(ask(&mut other, b"c\n"), b"p\n");
    assert!(s.line().contains(" from 127.0.0.2:"));
    // When one of the two leaves, that address may come back.
    drop(a);
    assert!(s.line().starts_with("rot13d: end pid "));
    let mut again = connect_from("127.0.0.1", &s);
    assert_eq!(ask(&mut again, b"d\n"), b"q\n");
    drop((b, other, again));
    s.wait_no_children();
}

#[test]
fn idle_client_is_closed_after_the_timeout() {
    let s = Server::start(&["-t", "1"]);
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"hi\n"), b"uv\n");
    let start = Instant::now();
    closed(&mut c);
    let t = start.elapsed();
    assert!(t >= Duration::from_millis(900) && t < Duration::from_secs(5), "closed after {t:?}");
    s.wait_no_children();
    // Without -t an idle client stays.
    let s = Server::start(&[]);
    let mut c = s.connect();
    silent_for(&mut c, Duration::from_millis(1500));
    assert_eq!(ask(&mut c, b"still\n"), b"fgvyy\n");
}

#[test]
fn out_of_fds_is_survived_without_spinning() {
    let s = Server::start(&[]);
    // Every fd number the server could get is taken: accept fails EMFILE.
    prlimit(s.pid(), "--nofile=4:");
    let mut c = s.connect();
    c.write_all(b"patience\n").unwrap();
    assert_eq!(s.line(), "rot13d: accept: too many open files");
    let mut second = s.connect();
    second.write_all(b"second\n").unwrap();
    let before = cpu_ticks(s.pid());
    silent_for(&mut c, Duration::from_secs(1));
    let used = cpu_ticks(s.pid()) - before;
    assert!(used < 10, "the parent used {used} ticks of CPU in 1 s while failing");
    prlimit(s.pid(), "--nofile=1024:");
    let mut got = [0u8; 9];
    c.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"cngvrapr\n");
    let mut got = [0u8; 7];
    second.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"frpbaq\n");
    // Said once for the whole run of failures, not once a retry.
    assert_eq!(s.line_within(Duration::from_millis(300)), None);
    drop((second, c));
    s.wait_no_children();
}

#[test]
#[ignore = "needs root (RLIMIT_NPROC binds only after -u)"]
fn root_failed_fork_closes_that_connection_and_goes_on() {
    // Two processes for this uid: the parent and one child; a second child
    // cannot be forked (EAGAIN) until the first ends.
    let mut cmd = Command::new("prlimit");
    cmd.args(["--nproc=2:2", "--"]).arg(bin()).args(["-p", "0", "-u", "64999:64999"]);
    let s = Server::spawn(cmd);
    let mut a = s.connect();
    assert_eq!(ask(&mut a, b"a\n"), b"n\n");
    let mut b = s.connect();
    closed(&mut b);
    assert_eq!(s.line(), "rot13d: fork: resource temporarily unavailable");
    drop(a);
    s.wait_no_children();
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"ok\n"), b"bx\n");
    drop(c);
    s.wait_no_children();
}

/// The uid and gid of `name` in /etc/passwd.
fn ids_of(name: &str) -> (String, String) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd.lines().find(|l| l.starts_with(&format!("{name}:"))).unwrap();
    let f: Vec<&str> = line.split(':').collect();
    (f[2].to_string(), f[3].to_string())
}

/// Asserts that process `pid` runs as `uid` and `gid` with no
/// supplementary group.
fn runs_as(pid: u32, (uid, gid): &(String, String)) {
    assert_eq!(status_field(pid, "Uid"), format!("{uid}\t{uid}\t{uid}\t{uid}"), "pid {pid}");
    assert_eq!(status_field(pid, "Gid"), format!("{gid}\t{gid}\t{gid}\t{gid}"), "pid {pid}");
    assert_eq!(status_field(pid, "Groups"), "", "pid {pid}");
}

#[test]
#[ignore = "needs root"]
fn root_runs_as_the_user_named_in_every_mode() {
    let nobody = ids_of("nobody");
    let ids = ("65534".to_string(), "65533".to_string());
    // Standalone: the parent after it listens, and its sessions.
    for (arg, want) in
        [("nobody", &nobody), ("65534:65533", &ids), ("nobody:65533", &(nobody.0.clone(), "65533".into()))]
    {
        let s = Server::start(&["-u", arg]);
        let mut c = s.connect();
        assert_eq!(ask(&mut c, b"who\n"), b"jub\n");
        runs_as(s.pid(), want);
        runs_as(s.children()[0], want);
    }
    // -i: before the first byte is read.
    let (mut client, child) = inetd_on_connection("127.0.0.1", &["-u", "nobody"], |_| {});
    assert_eq!(ask(&mut client, b"who\n"), b"jub\n");
    runs_as(child.id(), &nobody);
    drop(client);
    // A listening socket passed, and a connection passed.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    use std::os::fd::AsRawFd;
    let s = Server::spawn(activated(&[l.as_raw_fd()], None, "-u nobody"));
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"who\n"), b"jub\n");
    runs_as(s.pid(), &nobody);
    runs_as(s.children()[0], &nobody);
    let (mut client, conn) = tcp_pair("127.0.0.1");
    let child = on_passed_connection(&conn, "-u nobody");
    assert_eq!(ask(&mut client, b"who\n"), b"jub\n");
    runs_as(child.id(), &nobody);
    drop((client, conn));
    let out = child.wait_with_output().unwrap();
    assert_eq!((out.status.code(), stderr_of(&out.stderr).as_str()), (Some(0), ""));
}

#[test]
fn a_user_it_already_is_changes_nothing_and_works() {
    // Not root, and -u names the user it runs as: nothing to do, so
    // nothing fails (setgroups would need a privilege it has not).
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(bin());
        c
    } else {
        Command::new(bin())
    };
    let me = if is_root() {
        "65534".to_string()
    } else {
        status_field(std::process::id(), "Uid").split('\t').next().unwrap().to_string()
    };
    let gid = if is_root() {
        "65534".to_string()
    } else {
        status_field(std::process::id(), "Gid").split('\t').next().unwrap().to_string()
    };
    cmd.args(["-p", "0", "-l", "127.0.0.1", "-u", &format!("{me}:{gid}")]);
    let s = Server::spawn(cmd);
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"same\n"), b"fnzr\n");
}

#[test]
fn bad_privilege_drop_exits_1() {
    // Root may take any ids: the failure path is for others, so as root the
    // server is started as nobody (setpriv, util-linux).
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(bin());
        c
    } else {
        Command::new(bin())
    };
    let out = cmd.args(["-p", "0", "-u", "0"]).stdin(Stdio::null()).output().unwrap();
    // (Before the startup line: ids are taken once it listens, before it says so.)
    assert_eq!(
        (out.status.code(), stderr_of(&out.stderr).as_str()),
        (Some(1), "rot13d: setgroups: operation not permitted\n")
    );
}

#[test]
fn end_log_shows_how_children_ended() {
    let s = Server::start(&["-v"]);
    let c = s.connect();
    let line = s.line();
    let pid: u32 = line.strip_prefix("rot13d: pid ").unwrap().split(' ').next().unwrap().parse().unwrap();
    kill("KILL", pid);
    assert_eq!(s.line(), format!("rot13d: end pid {pid} signal 9"));
    drop(c);
    s.wait_no_children();
}

#[test]
fn the_cap_counts_sessions_on_every_listener() {
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0", "-c", "2", "-l", "127.0.0.1", "-l", "::1"]);
    let s = Server::spawn_listening(cmd, 2);
    let mut a = connect(("127.0.0.1", s.addrs[0].1));
    let mut b = connect(("::1", s.addrs[1].1));
    assert_eq!(ask(&mut a, b"a\n"), b"n\n");
    assert_eq!(ask(&mut b, b"b\n"), b"o\n");
    // A third, on either: waits until one of the two leaves.
    let mut c = connect(("127.0.0.1", s.addrs[0].1));
    c.write_all(b"c\n").unwrap();
    silent_for(&mut c, Duration::from_millis(700));
    drop(b);
    let mut got = [0; 2];
    c.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"p\n");
}

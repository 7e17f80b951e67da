//! Serving (rot13d(8), DESCRIPTION and SIGNALS): the server as its clients
//! see it, over loopback: every byte, every line, many clients at once,
//! clients that misbehave, the signals that end it, and what -v says.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

#[test]
fn one_line() {
    let s = Server::start(&["-q"; 0]);
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"Hello, World!\n"), b"Uryyb, Jbeyq!\n");
    assert_eq!(ask(&mut c, b"second line\n"), b"frpbaq yvar\n");
}

#[test]
fn many_pipelined_lines() {
    let s = Server::start(&[]);
    let input: Vec<u8> = (0..20_000).flat_map(|i| format!("line {i} of The Quick Brown Fox\n").into_bytes()).collect();
    assert_eq!(roundtrip(s.connect(), input.clone()), rot13(&input));
}

#[test]
fn long_line_without_newline() {
    let s = Server::start(&[]);
    let input: Vec<u8> =
        (0..200_000u32).map(|i| b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[(i % 52) as usize]).collect();
    assert_eq!(roundtrip(s.connect(), input.clone()), rot13(&input));
}

#[test]
fn long_line_goes_out_before_its_newline() {
    // A full buffer is sent without waiting for the newline.
    let s = Server::start(&[]);
    let mut c = s.connect();
    c.write_all(&vec![b'a'; 200_000]).unwrap();
    let mut got = vec![0; 65536];
    c.read_exact(&mut got).unwrap();
    assert!(got.iter().all(|&b| b == b'n'));
}

#[test]
fn every_byte_value() {
    let s = Server::start(&[]);
    let input: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
    assert_eq!(roundtrip(s.connect(), input.clone()), rot13(&input));
    let mut line: Vec<u8> = (0..=255u8).filter(|&b| b != b'\n').collect();
    line.push(b'\n');
    let mut c = s.connect();
    assert_eq!(ask(&mut c, &line), rot13(&line));
}

#[test]
fn unterminated_last_line_and_half_close() {
    let s = Server::start(&[]);
    let mut c = s.connect();
    c.write_all(b"one\ntwo\nthree, no newline").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    assert_eq!(out, b"bar\ngjb\nguerr, ab arjyvar");
}

#[test]
fn fifty_concurrent_clients_then_no_zombies_and_no_stray_fds() {
    let s = Server::start(&[]);
    // Whatever fds the server inherited besides 0-2, it must add only fd 3.
    let before = s.fds();
    assert_eq!(sockets_of(s.pid()).iter().map(|s| s.0).collect::<Vec<_>>(), vec![3]);
    let clients: Vec<_> = (0..50)
        .map(|i| {
            let c = s.connect();
            std::thread::spawn(move || {
                let input: Vec<u8> = (0..2000).flat_map(|j| format!("client {i} line {j} Zz\n").into_bytes()).collect();
                assert_eq!(roundtrip(c, input.clone()), rot13(&input), "client {i}");
            })
        })
        .collect();
    for t in clients {
        t.join().unwrap();
    }
    s.wait_no_children();
    // The parent holds the listener and nothing of any connection.
    assert_eq!(s.fds(), before);
    assert_eq!(sockets_of(s.pid()).len(), 1);
}

#[test]
fn child_holds_only_its_connection() {
    let s = Server::start(&[]);
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"x\n"), b"k\n");
    let kids = s.children();
    assert_eq!(kids.len(), 1);
    // The parent closes its copy of the connection just after the fork: the
    // child may have answered before (under emulation it often has).
    wait_until(Duration::from_secs(10), || sockets_of(s.pid()).len() == 1, || format!("{:?}", sockets_of(s.pid())));
    // The child has the parent's fds, less the listener (closed first), plus
    // the connection: one socket, and not the listener.
    let (parent, child) = (fds_of(s.pid()), fds_of(kids[0]));
    let listener = sockets_of(s.pid());
    let conn = sockets_of(kids[0]);
    assert_eq!((listener.len(), conn.len()), (1, 1), "{listener:?} {conn:?}");
    assert_ne!(listener[0].1, conn[0].1);
    let mut want: Vec<u32> = parent.into_iter().filter(|&fd| fd != listener[0].0).chain([conn[0].0]).collect();
    want.sort();
    assert_eq!(child, want);
}

#[test]
fn reset_and_stuck_clients_harm_nobody_else() {
    let s = Server::start(&[]);
    // A client that resets mid-session.
    let r = socket2::Socket::from(s.connect());
    r.set_linger(Some(Duration::ZERO)).unwrap();
    (&r).write_all(b"half a li").unwrap();
    drop(r);
    // A client that sends a lot and never reads: its child blocks in send.
    let mut stuck = s.connect();
    let big = vec![b'x'; 64 * 1024];
    stuck.set_write_timeout(Some(Duration::from_millis(500))).unwrap();
    while stuck.write_all(&big).is_ok() {}
    // Everyone else is served.
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"still here\n"), b"fgvyy urer\n");
    drop(stuck);
    drop(c);
    s.wait_no_children();
}

#[test]
fn ipv6_and_dual_stack() {
    let s = Server::start(&["-l", "::1"]);
    assert_eq!(s.host, "::1");
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"six\n"), b"fvk\n");
    // `::` takes IPv4 clients too.
    let mut cmd = std::process::Command::new(bin());
    cmd.args(["-p", "0", "-l", "::"]);
    let s = Server::spawn(cmd);
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    assert_eq!(ask(&mut c, b"four\n"), b"sbhe\n");
    let mut c = TcpStream::connect(("::1", s.port)).unwrap();
    assert_eq!(ask(&mut c, b"six\n"), b"fvk\n");
}

#[test]
fn startup_line_names_the_real_port() {
    let s = Server::start(&["-l", "127.0.0.1"]);
    assert_eq!(s.host, "127.0.0.1");
    // Nothing else listens there: the port in the line is the server's.
    assert!(TcpListener::bind(("127.0.0.1", s.port)).is_err());
}

#[test]
fn quiet_prints_nothing_and_still_serves() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let child = std::process::Command::new(bin())
        .args(["-q", "-l", "127.0.0.1", "-p", &port.to_string()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut c = None;
    wait_until(
        Duration::from_secs(10),
        || {
            c = TcpStream::connect(("127.0.0.1", port)).ok();
            c.is_some()
        },
        || "server up".into(),
    );
    let mut c = c.unwrap();
    assert_eq!(ask(&mut c, b"q\n"), b"d\n");
    // The session's child shares the stderr pipe: end it first.
    drop(c);
    wait_until(Duration::from_secs(10), || children_of(child.id()).is_empty(), || "child ended".into());
    kill("TERM", child.id());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr_of(&out.stderr), "");
}

#[test]
fn port_in_use_exits_1() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, out, err) = run(&["-l", "127.0.0.1", "-p", &port]);
    let want = format!("rot13d: bind 127.0.0.1:{port}: address already in use\n");
    assert_eq!((code, out.as_str(), err.as_str()), (1, "", want.as_str()));
}

#[test]
fn address_not_here_exits_1() {
    // TEST-NET-1 is on no interface of this machine.
    let (code, _, err) = run(&["-l", "192.0.2.1", "-p", "0"]);
    assert_eq!((code, err.as_str()), (1, "rot13d: bind 192.0.2.1:0: address not available\n"));
}

#[test]
fn sigterm_and_sigint_exit_0_and_sessions_go_on() {
    for sig in ["TERM", "INT"] {
        let mut s = Server::start(&[]);
        let mut c = s.connect();
        assert_eq!(ask(&mut c, b"before\n"), b"orsber\n");
        let kids = s.children();
        s.signal(sig);
        let status = s.child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "after SIG{sig}");
        // The listener is gone with the parent...
        assert!(TcpStream::connect(("127.0.0.1", s.port)).is_err());
        // ...and the session it had handed over carries on.
        assert_eq!(ask(&mut c, b"after\n"), b"nsgre\n");
        drop(c);
        for k in kids {
            wait_until(
                Duration::from_secs(10),
                || !std::path::Path::new(&format!("/proc/{k}")).exists() || status_field(k, "State").starts_with('Z'),
                || format!("child {k} ended"),
            );
        }
    }
}

#[test]
fn verbose_logs_start_and_end() {
    let s = Server::start(&["-v", "-c", "7"]);
    let mut c = s.connect();
    let local = c.local_addr().unwrap();
    assert_eq!(ask(&mut c, b"v\n"), b"i\n");
    let kid = s.children()[0];
    assert_eq!(s.line(), format!("rot13d: pid {kid} from 127.0.0.1:{} (1/7)", local.port()));
    drop(c);
    assert_eq!(s.line(), format!("rot13d: end pid {kid} status 0"));
}

#[test]
fn several_addresses_each_served_and_named_in_the_log() {
    let mut cmd = std::process::Command::new(bin());
    cmd.args(["-p", "0", "-v", "-l", "127.0.0.1", "-l", "::1"]);
    let s = Server::spawn_listening(cmd, 2);
    let (v4, v6) = (s.addrs[0].1, s.addrs[1].1);
    let mut c = connect(("127.0.0.1", v4));
    assert_eq!(ask(&mut c, b"four\n"), b"sbhe\n");
    assert!(s.line().ends_with(&format!(" on 127.0.0.1:{v4} (1/256)")));
    let mut c = connect(("::1", v6));
    assert_eq!(ask(&mut c, b"six\n"), b"fvk\n");
    assert!(s.line().ends_with(&format!(" on [::1]:{v6} (2/256)")));
}

#[test]
fn any_ipv6_address_leaves_ipv4_to_an_ipv4_one() {
    // `-l :: -l 0.0.0.0` as people write it for "both, separately": the
    // IPv6 socket takes no IPv4 clients (else the second bind of one port
    // would fail), whatever net.ipv6.bindv6only says.
    let mut cmd = std::process::Command::new(bin());
    cmd.args(["-p", "0", "-l", "::", "-l", "127.0.0.1"]);
    let s = Server::spawn_listening(cmd, 2);
    let any6 = s.addrs[0].1;
    assert!(TcpStream::connect(("127.0.0.1", any6)).is_err(), "the :: socket took an IPv4 client");
    let mut c = connect(("::1", any6));
    assert_eq!(ask(&mut c, b"six\n"), b"fvk\n");
}

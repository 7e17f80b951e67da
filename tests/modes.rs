//! Start-up and modes (rot13d(8), SOCKET ACTIVATION and DESCRIPTION): every
//! way of starting rot13d, and every state a launcher can hand over, does
//! what the man page says or is refused with a message: one socket or
//! many from a service manager, odd LISTEN_* values, sets that cannot be
//! served, a connection as fd 3, -i on pipes and sockets, a non-blocking
//! listener, children and signal masks inherited across exec, fds left
//! open, closed stdio, a unit without IP sockets, stderr that is the
//! connection, and the log's one write per line.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A Unix listening socket in a fresh directory of its own.
fn unix_listener(name: &str) -> (UnixListener, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("rot13d-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("sock");
    (UnixListener::bind(&path).unwrap(), path)
}

/// Sends a line over a Unix socket and returns the answer.
fn ask_unix(path: &std::path::Path, line: &[u8]) -> Vec<u8> {
    let mut c = UnixStream::connect(path).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c.write_all(line).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    got
}

#[test]
fn one_socket_passed_is_served_on_its_own_port() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let s = Server::spawn(activated(&[l.as_raw_fd()], None, "-c 1 -v"));
    assert_eq!(s.port, l.local_addr().unwrap().port());
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"one\n"), b"bar\n");
}

#[test]
fn every_socket_passed_is_served_and_named() {
    // IPv4, IPv6 and a Unix socket, as three ListenStream= lines.
    let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
    let v6 = TcpListener::bind("[::1]:0").unwrap();
    let (unix, path) = unix_listener("three");
    let fds = [v4.as_raw_fd(), v6.as_raw_fd(), unix.as_raw_fd()];
    let names = "LISTEN_FDS=3 LISTEN_FDNAMES=web:web6:local";
    let s = Server::spawn_listening(activated(&fds, Some(names), "-v"), 3);
    assert_eq!(s.addrs[0], ("127.0.0.1".to_string(), v4.local_addr().unwrap().port()));
    assert_eq!(s.addrs[1], ("::1".to_string(), v6.local_addr().unwrap().port()));
    let mut c = connect(v4.local_addr().unwrap());
    assert_eq!(ask(&mut c, b"four\n"), b"sbhe\n");
    // With more than one listener, -v says which one a client came in on.
    let line = s.line();
    assert!(line.ends_with(&format!(" on 127.0.0.1:{} (web) (1/256)", v4.local_addr().unwrap().port())), "{line}");
    let mut c = connect(v6.local_addr().unwrap());
    assert_eq!(ask(&mut c, b"six\n"), b"fvk\n");
    assert!(s.line().contains(" on [::1]:"));
    assert_eq!(ask_unix(&path, b"unix\n"), b"havk\n");
    assert!(s.line().contains(" from unix on fd 5 (local) "));
    // Sixteen, the most there may be: each answers.
    let many: Vec<TcpListener> = (0..16).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let fds: Vec<i32> = many.iter().map(|l| l.as_raw_fd()).collect();
    let s = Server::spawn_listening(activated(&fds, None, ""), 16);
    for l in &many {
        let mut c = connect(l.local_addr().unwrap());
        assert_eq!(ask(&mut c, b"sixteen\n"), b"fvkgrra\n");
    }
    drop(s);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn one_listeners_clients_never_starve_anothers() {
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let quiet = TcpListener::bind("127.0.0.1:0").unwrap();
    let s = Server::spawn_listening(activated(&[busy.as_raw_fd(), quiet.as_raw_fd()], None, "-c 2"), 2);
    // Thirty clients queue on the first; one on the second is still served
    // among the first ones, not after them.
    let queued: Vec<TcpStream> = (0..30).map(|_| connect(busy.local_addr().unwrap())).collect();
    let mut q = connect(quiet.local_addr().unwrap());
    q.write_all(b"me too\n").unwrap();
    let served = std::thread::spawn(move || {
        let mut got = [0; 7];
        q.read_exact(&mut got).unwrap();
        got
    });
    // Each queued client is served in turn (two at a time).
    let mut answered = 0;
    for mut c in queued {
        assert_eq!(ask(&mut c, b"x\n"), b"k\n");
        answered += 1;
        drop(c);
        if served.is_finished() {
            break;
        }
    }
    assert_eq!(&served.join().unwrap(), b"zr gbb\n");
    assert!(answered < 10, "the second listener's client waited for {answered} of the first's");
    drop(s);
}

#[test]
fn odd_listen_values_are_errors_never_a_fallback() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let fd = [l.as_raw_fd()];
    for (env, want) in [
        ("LISTEN_FDS=abc", "rot13d: LISTEN_FDS=abc: not a number\n"),
        ("LISTEN_FDS=", "rot13d: LISTEN_FDS=: not a number\n"),
        ("LISTEN_FDS=-1", "rot13d: LISTEN_FDS=-1: not a number\n"),
        ("LISTEN_FDS=17", "rot13d: LISTEN_FDS=17: more than 16 sockets\n"),
        ("LISTEN_FDS=1 LISTEN_FDNAMES=a:b", "rot13d: LISTEN_FDNAMES=a:b: not a name per socket\n"),
    ] {
        assert_eq!(output(&mut activated(&fd, Some(env), "-q")), (1, String::new(), want.to_string()), "{env}");
    }
    // A LISTEN_PID that is no number is an error; another process's means
    // nothing was passed to this one, as LISTEN_FDS=0 does: it listens itself.
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg("LISTEN_PID=x LISTEN_FDS=1 exec \"$0\" -q").arg(bin());
    assert_eq!(output(&mut cmd), (1, String::new(), "rot13d: LISTEN_PID=x: not a process id\n".to_string()));
    let s = Server::spawn(activated(&fd, Some("LISTEN_FDS=0"), "-p 0 -l 127.0.0.1"));
    assert_ne!(s.port, l.local_addr().unwrap().port());
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg("LISTEN_PID=1 LISTEN_FDS=1 exec \"$0\" -p 0 -l 127.0.0.1").arg(bin());
    let s = Server::spawn(cmd);
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"own\n"), b"bja\n");
}

#[test]
fn passed_sets_that_cannot_be_served_name_the_fd() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let (_c, conn) = tcp_pair("127.0.0.1");
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let file = std::fs::File::open("/dev/null").unwrap();
    let (_c2, conn2) = tcp_pair("127.0.0.1");
    for (fds, want) in [
        (vec![l.as_raw_fd(), conn.as_raw_fd()], "rot13d: LISTEN_FDS: fd 4: a connection among other sockets\n"),
        (vec![conn.as_raw_fd(), l.as_raw_fd()], "rot13d: LISTEN_FDS: fd 3: a connection among other sockets\n"),
        (vec![conn.as_raw_fd(), conn2.as_raw_fd()], "rot13d: LISTEN_FDS: fd 3: a connection among other sockets\n"),
        (vec![l.as_raw_fd(), udp.as_raw_fd()], "rot13d: LISTEN_FDS: fd 4: operation not supported\n"),
        (vec![udp.as_raw_fd()], "rot13d: LISTEN_FDS: fd 3: operation not supported\n"),
        (vec![file.as_raw_fd()], "rot13d: LISTEN_FDS: fd 3: not a socket\n"),
    ] {
        assert_eq!(output(&mut activated(&fds, None, "-q")), (1, String::new(), want.to_string()), "{want}");
    }
}

#[test]
fn a_connection_as_fd_3_is_one_session() {
    // systemd Accept=yes without -i: fd 3 is the connection itself.
    let (mut client, conn) = tcp_pair("127.0.0.1");
    let child = on_passed_connection(&conn, "-t 5");
    drop(conn);
    assert_eq!(ask(&mut client, b"accepted by systemd\n"), b"npprcgrq ol flfgrzq\n");
    client.write_all(b"tail").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"gnvy");
    let out = child.wait_with_output().unwrap();
    assert_eq!((out.status.code(), stderr_of(&out.stderr).as_str()), (Some(0), ""));
}

#[test]
fn inetd_mode_under_a_launcher_that_passes_the_connection_as_fd_3() {
    // systemd-socket-activate --accept rot13d -i: stdin is the launcher's,
    // the connection is fd 3 with LISTEN_FDS=1. The connection is served.
    let (mut client, conn) = tcp_pair("127.0.0.1");
    let child = on_passed_connection(&conn, "-i -v");
    drop(conn);
    assert_eq!(ask(&mut client, b"passed\n"), b"cnffrq\n");
    client.shutdown(Shutdown::Write).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!((out.status.code(), stderr_of(&out.stderr).as_str()), (Some(0), "rot13d: end status 0\n"));
    // A listening socket passed to -i: refused, not ignored.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let want = "rot13d: -i: LISTEN_FDS passes listening sockets: leave -i out (rot13d -h for help)\n";
    assert_eq!(output(&mut activated(&[l.as_raw_fd()], None, "-i")), (2, String::new(), want.to_string()));
}

#[test]
fn inetd_mode_on_pipes_and_sockets() {
    let mut child = Command::new(bin())
        .arg("-i")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input: Vec<u8> =
        (0..100_000u32).flat_map(|i| format!("Hello {i}\n").into_bytes()).chain(*b"last, unterminated").collect();
    let mut stdin = child.stdin.take().unwrap();
    let want = rot13(&input);
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!((out.status.code(), stderr_of(&out.stderr).as_str()), (Some(0), ""));
    assert_eq!(out.stdout, want);
    // A reader that goes away ends it quietly, status 0.
    let script = format!("yes 'a line of text' | head -c 10000000 | '{}' -i | head -n 1", bin().display());
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("set -o pipefail; {script}; echo \"status ${{PIPESTATUS[2]}}\" >&2"))
        .output()
        .unwrap();
    assert_eq!((out.stdout.as_slice(), stderr_of(&out.stderr).as_str()), (&b"n yvar bs grkg\n"[..], "status 0\n"));
    // On a socket handed over non-blocking, a client that pauses is still served.
    let (mut client, conn) = tcp_pair("127.0.0.1");
    conn.set_nonblocking(true).unwrap();
    let fd: OwnedFd = conn.into();
    let child = Command::new(bin())
        .arg("-i")
        .stdin(Stdio::from(fd.try_clone().unwrap()))
        .stdout(Stdio::from(fd))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for line in [&b"first\n"[..], b"second\n"] {
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(ask(&mut client, line), rot13(line));
    }
    client.shutdown(Shutdown::Write).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!((out.status.code(), stderr_of(&out.stderr).as_str()), (Some(0), ""));
}

#[test]
fn timeout_sends_the_partial_line_first() {
    let s = Server::start(&["-t", "1"]);
    let mut c = s.connect();
    c.write_all(b"whole line\npartial").unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"jubyr yvar\ncnegvny");
    // And under -i on a socket; a timeout is status 1.
    let (mut client, child) = inetd_on_connection("127.0.0.1", &["-t", "1"], |_| {});
    client.write_all(b"half").unwrap();
    let mut got = Vec::new();
    client.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"unys");
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(1));
    // On a pipe there is nothing to time out with: refused.
    let out = Command::new("sh").arg("-c").arg(format!("echo hi | '{}' -i -t 5", bin().display())).output().unwrap();
    let err = "rot13d: -t: needs stdin to be a socket (rot13d -h for help)\n";
    assert_eq!((out.status.code(), stderr_of(&out.stderr).as_str(), out.stdout.as_slice()), (Some(2), err, &b""[..]));
}

#[test]
fn a_non_blocking_listener_passed_is_waited_on_not_spun_on() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let s = Server::spawn(activated(&[l.as_raw_fd()], None, ""));
    let before = cpu_ticks(s.pid());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(s.pid()) - before;
    assert!(used < 5, "the server used {used} ticks of CPU in 1 s with nothing to do");
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"waited\n"), b"jnvgrq\n");
}

#[test]
fn children_inherited_across_exec_are_no_sessions() {
    // A shell's background job, then exec: the job is rot13d's child.
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg("sleep 0.5 & exec \"$0\" -p 0 -l 127.0.0.1 -c 1 -v").arg(bin());
    let s = Server::spawn(cmd);
    let sleeper = s.children();
    assert_eq!(sleeper.len(), 1);
    let mut a = s.connect();
    assert_eq!(ask(&mut a, b"a\n"), b"n\n");
    assert!(s.line().starts_with("rot13d: pid "));
    // The job ends and is reaped, but it was no session: not logged, and
    // the one session allowed is still taken.
    wait_until(Duration::from_secs(5), || !s.children().contains(&sleeper[0]), || "the job reaped".into());
    let mut b = s.connect();
    b.write_all(b"b\n").unwrap();
    b.set_read_timeout(Some(Duration::from_millis(700))).unwrap();
    assert!(b.read(&mut [0; 2]).is_err(), "-c 1 was exceeded");
    assert_eq!(s.line_within(Duration::from_millis(100)), None, "the job's end was logged as a session's");
    drop(a);
    assert!(s.line().starts_with("rot13d: end pid "));
    b.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = [0; 2];
    b.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"o\n");
}

#[test]
fn signals_the_launcher_blocked_still_stop_it() {
    for sig in ["TERM", "INT"] {
        let mut cmd = Command::new(bin());
        cmd.args(["-p", "0", "-l", "127.0.0.1"]);
        // SAFETY: sigprocmask is async-signal-safe; the forked child only.
        unsafe {
            cmd.pre_exec(|| {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigaddset(&mut set, libc::SIGTERM);
                libc::sigaddset(&mut set, libc::SIGINT);
                libc::sigaddset(&mut set, libc::SIGCHLD);
                libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                Ok(())
            });
        }
        let mut s = Server::spawn(cmd);
        // It reaps too: SIGCHLD was blocked as well.
        let mut c = s.connect();
        assert_eq!(ask(&mut c, b"x\n"), b"k\n");
        drop(c);
        s.wait_no_children();
        s.signal(sig);
        assert_eq!(s.child.wait().unwrap().code(), Some(0), "SIG{sig}");
    }
}

/// Leaves `fds` (source, number) open across exec into `cmd`.
fn leave_open(cmd: &mut Command, fds: Vec<(i32, i32)>) {
    // SAFETY: only async-signal-safe calls, in the forked child.
    unsafe {
        cmd.pre_exec(move || {
            for &(from, to) in &fds {
                if libc::dup2(from, to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

#[test]
fn fds_the_launcher_left_open_reach_no_session() {
    // A pipe (fd 5) and a socket (fd 7) left open across exec.
    let (r, _w) = std::io::pipe().unwrap();
    let (_c, stray) = tcp_pair("127.0.0.1");
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0", "-l", "127.0.0.1"]);
    leave_open(&mut cmd, vec![(r.as_raw_fd(), 5), (stray.as_raw_fd(), 7)]);
    let s = Server::spawn(cmd);
    assert_eq!(s.fds(), [0, 1, 2, 3], "the parent: stdio and its listener");
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"x\n"), b"k\n");
    assert_eq!(fds_of(s.children()[0]), [0, 1, 2, 4], "the child: stdio and its connection");
    // Under -i: stdio only.
    let mut cmd = Command::new(bin());
    cmd.arg("-i").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    leave_open(&mut cmd, vec![(stray.as_raw_fd(), 9)]);
    let mut child = cmd.spawn().unwrap();
    wait_until(
        Duration::from_secs(10),
        || fds_of(child.id()).len() == 3,
        || format!("fds of -i: {:?}", fds_of(child.id())),
    );
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!((out.status.code(), stderr_of(&out.stderr).as_str()), (Some(0), ""));
}

#[test]
fn fds_left_open_are_closed_without_close_range_too() {
    // A kernel before 5.9: close_range is ENOSYS. An fd far above 1024.
    let (_c, stray) = tcp_pair("127.0.0.1");
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0", "-l", "127.0.0.1"]);
    // SAFETY: setrlimit within the hard limit and dup2, in the forked child.
    unsafe {
        let fd = stray.as_raw_fd();
        cmd.pre_exec(move || {
            let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
            lim.rlim_cur = lim.rlim_max.min(4096);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            if libc::dup2(fd, 2000) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    under_filter(&mut cmd, errors_for(&[(libc::SYS_close_range, libc::ENOSYS)]));
    let s = Server::spawn(cmd);
    assert_eq!(s.fds(), [0, 1, 2, 3]);
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"old kernel\n"), b"byq xreary\n");
}

#[test]
fn closed_stdio_never_sends_a_log_line_to_a_client() {
    // stdin and stdout closed: the listener must not take fd 0 and a
    // connection fd 1, and -v lines must not reach clients.
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0", "-l", "127.0.0.1", "-v"]);
    // SAFETY: close is async-signal-safe; this runs in the forked child.
    unsafe {
        cmd.pre_exec(|| {
            libc::close(0);
            libc::close(1);
            Ok(())
        });
    }
    let s = Server::spawn(cmd);
    for i in 0..5 {
        let line = format!("line {i}\n").into_bytes();
        assert_eq!(roundtrip(s.connect(), line.clone()), rot13(&line));
    }
    s.wait_no_children();
    // With sockets passed, all three closed: connections land above them.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let mut cmd = activated(&[l.as_raw_fd()], None, "-v <&- >&- 2>&-");
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).spawn().unwrap();
    drop(l);
    for i in 0..5 {
        let line = format!("closed stdio {i}\n").into_bytes();
        assert_eq!(roundtrip(connect(addr), line.clone()), rot13(&line));
    }
    kill("TERM", child.id());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn a_unit_without_ip_sockets_serves_its_unix_socket() {
    // RestrictAddressFamilies=AF_UNIX: making an IP socket fails.
    let (unix, path) = unix_listener("unix-only");
    let mut cmd = activated(&[unix.as_raw_fd()], None, "");
    under_filter(&mut cmd, errors_for(&[(libc::SYS_socket, libc::EAFNOSUPPORT)]));
    let s = Server::spawn(cmd);
    assert_eq!(s.addrs[0].0, "unix", "the startup line names the fd: {:?}", s.addrs);
    assert_eq!(ask_unix(&path, b"unix only\n"), b"havk bayl\n");
    drop(s);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn stderr_that_is_the_connection_gets_no_log_line() {
    // inetd hands the socket over as fds 0, 1 and 2; -v would log the end.
    let (mut client, conn) = tcp_pair("127.0.0.1");
    let fd: OwnedFd = conn.into();
    let mut child = Command::new(bin())
        .args(["-i", "-v", "-d", "10.0.0.0/8"])
        .stdin(Stdio::from(fd.try_clone().unwrap()))
        .stdout(Stdio::from(fd.try_clone().unwrap()))
        .stderr(Stdio::from(fd))
        .spawn()
        .unwrap();
    client.write_all(b"only this\n").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    client.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"bayl guvf\n");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn verbose_under_inetd_logs_refusals_and_ends() {
    let (mut client, child) = inetd_on_connection("127.0.0.1", &["-v"], |_| {});
    assert_eq!(ask(&mut client, b"logged\n"), b"ybttrq\n");
    client.shutdown(Shutdown::Write).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!((out.status.code(), stderr_of(&out.stderr).as_str()), (Some(0), "rot13d: end status 0\n"));
    let (client, child) = inetd_on_connection("127.0.0.1", &["-v", "-d", "127.0.0.0/8"], |_| {});
    let port = client.local_addr().unwrap().port();
    let out = child.wait_with_output().unwrap();
    let want = format!("rot13d: refused 127.0.0.1:{port}: rule\n");
    assert_eq!((out.status.code(), stderr_of(&out.stderr).as_str()), (Some(0), want.as_str()));
}

#[test]
fn the_log_writes_each_line_whole_with_one_write() {
    // stderr is a packet socket: every write is one packet, and a packet
    // that does not fit is not written at all.
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: socketpair writes two fds into `fds`.
    assert_eq!(unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET, 0, fds.as_mut_ptr()) }, 0);
    // SAFETY: both fds are new, and owned here alone.
    let (reader_fd, stderr_fd) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let mut child = Command::new(bin())
        .args(["-p", "0", "-l", "127.0.0.1", "-v"])
        .stdin(Stdio::null())
        .stderr(Stdio::from(stderr_fd))
        .spawn()
        .unwrap();
    let mut reader = UnixStream::from(reader_fd);
    let mut packet = [0u8; 1024];
    let n = reader.read(&mut packet).unwrap();
    let startup = String::from_utf8_lossy(&packet[..n]).lines().next().unwrap().to_string();
    let port: u16 = startup.rsplit(':').next().unwrap().parse().unwrap();
    // Nobody reads: the socket's buffer fills, and lines are dropped.
    for _ in 0..400 {
        let mut c = connect(("127.0.0.1", port));
        assert_eq!(ask(&mut c, b"x\n"), b"k\n");
    }
    wait_until(Duration::from_secs(10), || children_of(child.id()).is_empty(), || "children".into());
    // Now read every packet: each is whole lines, and the count of the
    // dropped ones comes in one packet with the line after it.
    reader.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut packets = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match reader.read(&mut packet) {
            Ok(n) => packets.push(String::from_utf8_lossy(&packet[..n]).into_owned()),
            Err(_) if packets.iter().any(|p| p.contains(" log lines dropped")) => break,
            Err(_) => {
                // The count goes out with the next line: make some (a
                // session's start and end; the start may come while the
                // socket is still full, and be dropped and counted too).
                assert!(std::time::Instant::now() < deadline, "no count of dropped lines: {packets:?}");
                let mut c = connect(("127.0.0.1", port));
                assert_eq!(ask(&mut c, b"y\n"), b"l\n");
            }
        }
    }
    for p in &packets {
        assert!(p.ends_with('\n') && p.lines().all(|l| l.starts_with("rot13d: ")), "{p:?}");
    }
    let count = packets.iter().find(|p| p.contains(" log lines dropped")).unwrap();
    assert_eq!(count.lines().count(), 2, "the count and the next line, in one write: {count:?}");
    kill("TERM", child.id());
    child.wait().unwrap();
}

#[test]
fn the_default_address_takes_ipv4_and_ipv6() {
    let s = Server::start(&[]);
    assert_eq!(s.host, "127.0.0.1");
    let mut c = connect(("127.0.0.1", s.port));
    assert_eq!(ask(&mut c, b"four\n"), b"sbhe\n");
    let mut c = connect(("::1", s.port));
    assert_eq!(ask(&mut c, b"six\n"), b"fvk\n");
}

#[test]
fn a_stalled_log_reader_does_not_stall_the_server() {
    // stderr is a pipe that nobody reads after the startup line: a few
    // hundred connections' lines fill it.
    let mut child = Command::new(bin())
        .args(["-p", "0", "-l", "127.0.0.1", "-v"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let mut first = [0u8; 256];
    let n = err.read(&mut first).unwrap();
    let line = String::from_utf8_lossy(&first[..n]).lines().next().unwrap().to_string();
    let port: u16 = line.rsplit(':').next().unwrap().parse().unwrap();
    for i in 0..2000 {
        let mut c = connect(("127.0.0.1", port));
        assert_eq!(ask(&mut c, b"go on\n"), b"tb ba\n", "connection {i}");
    }
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        err.read_to_end(&mut all).unwrap();
        String::from_utf8_lossy(&all).into_owned()
    });
    wait_until(Duration::from_secs(10), || children_of(child.id()).is_empty(), || "children".into());
    // Now drained, the log says how much it dropped, then goes on.
    let mut c = connect(("127.0.0.1", port));
    assert_eq!(ask(&mut c, b"last\n"), b"ynfg\n");
    drop(c);
    wait_until(Duration::from_secs(10), || children_of(child.id()).is_empty(), || "children".into());
    kill("TERM", child.id());
    child.wait().unwrap();
    let log = reader.join().unwrap();
    let dropped = log
        .lines()
        .find(|l| l.contains("log lines dropped"))
        .unwrap_or_else(|| panic!("no drop report in {} bytes", log.len()));
    let n: u32 = dropped.strip_prefix("rot13d: ").unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(n > 1000, "{dropped}");
    assert!(log.lines().last().unwrap().starts_with("rot13d: end pid "), "{log}");
}

//! Every way of starting rot13d does what it says or refuses clearly:
//! passed sockets, odd LISTEN_* values, options that do not apply,
//! sessions under -u, non-blocking stdin, -t with a partial line, fds
//! inherited from the launcher, closed stdio, the dual-stack default, a
//! stalled log reader, --help and --version.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Makes `fds` the child's fds 3, 4, ... (open across exec), and sets
/// LISTEN_PID/LISTEN_FDS through the shell that then execs the binary with
/// `args` (so the pid is right); `listen_fds` overrides LISTEN_FDS.
fn with_fds(fds: &[i32], listen_fds: Option<&str>, args: &str) -> Command {
    let n = listen_fds.map_or(fds.len().to_string(), str::to_string);
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(format!("LISTEN_PID=$$ LISTEN_FDS={n} exec \"$0\" {args}")).arg(bin());
    let fds = fds.to_vec();
    // SAFETY: only async-signal-safe calls, in the forked child.
    unsafe {
        cmd.pre_exec(move || {
            // Out of the way first: a source may sit on a target number.
            let high: Vec<i32> = fds.iter().map(|&fd| libc::fcntl(fd, libc::F_DUPFD, 100)).collect();
            for (i, &fd) in high.iter().enumerate() {
                if fd < 0 || libc::dup2(fd, 3 + i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(fd);
            }
            Ok(())
        });
    }
    cmd
}

fn output(mut cmd: Command) -> (Option<i32>, String) {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn one_socket_from_systemd_is_served_and_more_are_refused() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let s = Server::spawn(with_fds(&[l.as_raw_fd()], None, "-c 1 -v"));
    assert_eq!(s.port, l.local_addr().unwrap().port());
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"one\n"), b"bar\n");
    // Two sockets (two ListenStream= lines): refused at once, not a silent
    // fall-back to the default address where no client would look.
    let l6 = TcpListener::bind("[::1]:0").unwrap();
    assert_eq!(output(with_fds(&[l.as_raw_fd(), l6.as_raw_fd()], None, "-q")), (Some(1), "rot13d: bad LISTEN_FDS: 2 (one socket)\n".to_string()));
}

#[test]
fn one_address_on_the_command_line() {
    let (code, _, err) = run(&["-l", "127.0.0.1", "-l", "::1"]);
    assert_eq!((code, err.as_str()), (2, "rot13d: -l given twice (rot13d -h for help)\n"));
}

#[test]
fn odd_listen_fds_values_are_errors_never_a_silent_fallback() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    for value in ["abc", "17", "-1", "", "2"] {
        assert_eq!(output(with_fds(&[l.as_raw_fd()], Some(value), "-q")), (Some(1), format!("rot13d: bad LISTEN_FDS: {value} (one socket)\n")), "{value:?}");
    }
    // 0: not activated, as sd_listen_fds reads it: it listens itself.
    let s = Server::spawn(with_fds(&[l.as_raw_fd()], Some("0"), "-p 0 -l 127.0.0.1"));
    assert_ne!(s.port, l.local_addr().unwrap().port());
    // A LISTEN_PID that is not ours: not activated either.
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg("LISTEN_PID=1 LISTEN_FDS=1 exec \"$0\" -p 0 -l 127.0.0.1").arg(bin());
    let s = Server::spawn(cmd);
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"own\n"), b"bja\n");
    // Options about binding do not apply to a passed socket.
    for (args, opt) in [("-p 0", "-p"), ("-l ::1", "-l"), ("-b 5", "-b"), ("-r", "-r")] {
        assert_eq!(
            output(with_fds(&[l.as_raw_fd()], None, args)),
            (Some(2), format!("rot13d: {opt} does not apply to -i or LISTEN_FDS sockets (rot13d -h for help)\n"))
        );
    }
}

#[test]
fn inetd_mode_refuses_what_does_not_apply() {
    for (args, opt) in [(&["-p", "1"][..], "-p"), (&["-l", "::1"], "-l"), (&["-c", "2"], "-c"), (&["-C", "2"], "-C"), (&["-v"], "-v"), (&["-r"], "-r"), (&["-b", "1"], "-b")] {
        let mut a = vec!["-i"];
        a.extend(args);
        let (code, out, err) = run(&a);
        assert_eq!((code, out.as_str()), (2, ""), "{a:?}");
        assert_eq!(err, format!("rot13d: {opt} does not apply to -i or LISTEN_FDS sockets (rot13d -h for help)\n"));
    }
    // -t needs a socket: on a pipe there is nothing to time out with.
    let out = Command::new("sh").arg("-c").arg(format!("echo hi | '{}' -i -t 5", bin().display())).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "rot13d: -t needs stdin to be a socket (rot13d -h for help)\n");
    assert_eq!(out.stdout, b"");
}

/// A connected pair over loopback: (the client, the server's end).
fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (conn, _) = l.accept().unwrap();
    client.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    (client, conn)
}

#[test]
fn inetd_mode_with_a_non_blocking_socket() {
    let (mut client, conn) = tcp_pair();
    conn.set_nonblocking(true).unwrap();
    let fd: std::os::fd::OwnedFd = conn.into();
    let child = Command::new(bin())
        .arg("-i")
        .stdin(Stdio::from(fd.try_clone().unwrap()))
        .stdout(Stdio::from(fd))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The client pauses between lines: a read then has nothing to return.
    for line in [&b"first\n"[..], b"second\n", b"third\n"] {
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(ask(&mut client, line), rot13(line));
    }
    client.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stderr).as_ref(), rest.as_slice()), (Some(0), "", &b""[..]));
}

#[test]
fn timeout_sends_the_partial_line_first() {
    let s = Server::start(&["-t", "1"]);
    let mut c = s.connect();
    c.write_all(b"whole line\npartial").unwrap();
    // The reply to everything received, then the close.
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"jubyr yvar\ncnegvny");
    // And under -i on a socket.
    let (mut client, conn) = tcp_pair();
    let fd: std::os::fd::OwnedFd = conn.into();
    let mut child = Command::new(bin()).args(["-i", "-t", "1"]).stdin(Stdio::from(fd.try_clone().unwrap())).stdout(Stdio::from(fd)).spawn().unwrap();
    client.write_all(b"half").unwrap();
    let mut got = Vec::new();
    client.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"unys");
    // A timeout is status 1: the session did not end as the client chose.
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

#[test]
fn fds_the_launcher_left_open_reach_no_session() {
    // A pipe (fd 5) and a socket (fd 7) left open across exec by whoever
    // started us, not marked close-on-exec.
    let (r, _w) = std::io::pipe().unwrap();
    let (_c, stray) = tcp_pair();
    let (r, stray) = (r.as_raw_fd(), stray.as_raw_fd());
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0", "-l", "127.0.0.1"]);
    // SAFETY: only async-signal-safe calls, in the forked child.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(r, 5) < 0 || libc::dup2(stray, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let s = Server::spawn(cmd);
    assert_eq!(s.fds(), [0, 1, 2, 3], "the parent: stdio and its listener");
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"x\n"), b"k\n");
    let kid = s.children()[0];
    assert_eq!(fds_of(kid), [0, 1, 2, 4], "the child: stdio and its connection");
    // Under -i: stdio only.
    let mut cmd = Command::new(bin());
    cmd.arg("-i").stdin(Stdio::piped()).stdout(Stdio::piped());
    // SAFETY: as above.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(stray, 9) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    wait_until(Duration::from_secs(10), || fds_of(child.id()).len() == 3, || format!("fds of -i: {:?}", fds_of(child.id())));
    drop(child.stdin.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
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
        let c = s.connect();
        let line = format!("line {i}\n").into_bytes();
        assert_eq!(roundtrip(c, line.clone()), rot13(&line));
    }
    s.wait_no_children();
    // Its listener is above stdio; 0 and 1 hold stoppers, not connections.
    let socks = sockets_of(s.pid());
    assert!(socks.iter().all(|(fd, _)| *fd != 2), "{socks:?}");
    // stderr closed, under socket activation (where the port is known).
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let mut cmd = with_fds(&[l.as_raw_fd()], None, "-v 2>&-");
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).spawn().unwrap();
    drop(l);
    for i in 0..5 {
        let c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let line = format!("closed stderr {i}\n").into_bytes();
        assert_eq!(roundtrip(c, line.clone()), rot13(&line));
    }
    kill("TERM", child.id());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn default_address_takes_ipv4_and_ipv6() {
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0"]);
    let s = Server::spawn(cmd);
    assert!(s.host == "127.0.0.1", "{}", s.host);
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    assert_eq!(ask(&mut c, b"four\n"), b"sbhe\n");
    let mut c = TcpStream::connect(("::1", s.port)).unwrap();
    assert_eq!(ask(&mut c, b"six\n"), b"fvk\n");
}

#[test]
fn a_stalled_log_reader_does_not_stall_the_server() {
    // stderr is a pipe that nobody reads after the startup line: about 800
    // connections' lines fill it.
    let mut child = Command::new(bin()).args(["-p", "0", "-l", "127.0.0.1", "-v"]).stdin(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut err = child.stderr.take().unwrap();
    let mut first = [0u8; 256];
    let n = err.read(&mut first).unwrap();
    let line = String::from_utf8_lossy(&first[..n]).into_owned();
    let port: u16 = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    for i in 0..2000 {
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        assert_eq!(ask(&mut c, b"go on\n"), b"tb ba\n", "connection {i}");
    }
    // Now drained, the log says how much it dropped, then goes on.
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        err.read_to_end(&mut all).unwrap();
        String::from_utf8_lossy(&all).into_owned()
    });
    std::thread::sleep(Duration::from_millis(100));
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(ask(&mut c, b"last\n"), b"ynfg\n");
    drop(c);
    wait_until(Duration::from_secs(10), || children_of(child.id()).is_empty(), || "children".into());
    kill("TERM", child.id());
    child.wait().unwrap();
    let log = reader.join().unwrap();
    let dropped = log.lines().find(|l| l.contains("log lines dropped")).unwrap_or_else(|| panic!("no drop report in {} bytes", log.len()));
    let n: u32 = dropped.strip_prefix("rot13d: ").unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(n > 1000, "{dropped}");
    assert!(log.lines().last().unwrap().starts_with("rot13d: end pid "), "{log}");
}

#[test]
fn help_and_version_on_stdout() {
    for h in ["-h", "--help"] {
        let (code, out, err) = run(&[h]);
        assert_eq!((code, err.as_str()), (0, ""));
        assert!(out.starts_with("usage: rot13d [-iqrv]"), "{out}");
        for o in ["-l ADDR", "(50005)", "(1024)", "(256)", "1-65535", "0-4294967295", "-u UID[:GID]", "--version"] {
            assert!(out.contains(o), "{o} in {out}");
        }
    }
    for v in ["-V", "--version"] {
        assert_eq!(run(&[v]), (0, format!("rot13d {}\n", env!("CARGO_PKG_VERSION")), String::new()));
    }
    let (code, _, err) = run(&["-l", "localhost"]);
    assert_eq!((code, err.as_str()), (2, "rot13d: bad value for -l: localhost (rot13d -h for help)\n"));
}

#[test]
#[ignore = "needs root"]
fn root_inetd_session_runs_under_the_dropped_ids() {
    let (mut client, conn) = tcp_pair();
    let fd: std::os::fd::OwnedFd = conn.into();
    let mut child = Command::new(bin()).args(["-i", "-u", "65534:65533"]).stdin(Stdio::from(fd.try_clone().unwrap())).stdout(Stdio::from(fd)).spawn().unwrap();
    let pid = child.id();
    // Dropped before the first read, so before any byte arrives.
    wait_until(Duration::from_secs(10), || status_field(pid, "Uid") == "65534\t65534\t65534\t65534", || status_field(pid, "Uid"));
    assert_eq!(status_field(pid, "Gid"), "65533\t65533\t65533\t65533");
    assert_eq!(status_field(pid, "Groups"), "");
    // Dropped first, then confined (strict mode), still before any byte.
    wait_until(Duration::from_secs(10), || status_field(pid, "Seccomp") == "1", || status_field(pid, "Seccomp"));
    assert_eq!(ask(&mut client, b"who\n"), b"jub\n");
    drop(client);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

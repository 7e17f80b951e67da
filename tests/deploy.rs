//! The ways users start rot13d: inetd mode, systemd socket activation,
//! SO_REUSEPORT instances, and the static binary alone in an empty root.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn inetd_mode_on_pipes() {
    let mut child = Command::new(bin()).arg("-i").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let input: Vec<u8> = (0..100_000u32).flat_map(|i| format!("Hello {i}\n").into_bytes()).chain(*b"last, unterminated").collect();
    let mut stdin = child.stdin.take().unwrap();
    let want = rot13(&input);
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stderr, b"");
    assert_eq!(out.stdout, want);
}

#[test]
fn inetd_mode_hello() {
    let out = Command::new("sh").arg("-c").arg(format!("printf 'Hello\\n' | '{}' -i", bin().display())).output().unwrap();
    assert_eq!((out.status.code(), out.stdout.as_slice()), (Some(0), &b"Uryyb\n"[..]));
}

#[test]
fn inetd_mode_broken_stdout_ends_quietly() {
    // The reader goes away after the first line; the writer keeps going.
    let script = format!("yes 'a line of text' | head -c 10000000 | '{}' -i | head -n 1", bin().display());
    let out = Command::new("bash").arg("-c").arg(format!("set -o pipefail; {script}; echo \"status ${{PIPESTATUS[2]}}\" >&2")).output().unwrap();
    assert_eq!(out.stdout, b"n yvar bs grkg\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "status 0\n");
}

#[test]
fn inetd_mode_on_a_socket() {
    // As inetd, tcpserver or systemd Accept=yes start it: the connection is
    // stdin and stdout.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (conn, _) = l.accept().unwrap();
    let fd: OwnedFd = conn.into();
    let mut child = Command::new(bin())
        .args(["-i", "-t", "5"])
        .stdin(Stdio::from(fd.try_clone().unwrap()))
        .stdout(Stdio::from(fd))
        .spawn()
        .unwrap();
    client.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    assert_eq!(ask(&mut client, b"over a socket\n"), b"bire n fbpxrg\n");
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// Starts the binary as systemd does for `Accept=no`: `listener` as fd 3,
/// LISTEN_FDS=1 and LISTEN_PID set by the shell that then execs it (so the
/// pid is right), or to `pid_override` when given (then, not activated, it
/// listens on a port of its own: `-p 0 -l 127.0.0.1`).
fn activated(listener: &TcpListener, pid_override: Option<&str>) -> Command {
    let fd = listener.as_raw_fd();
    let (pid, own) = match pid_override {
        Some(p) => (p.to_string(), "-p 0 -l 127.0.0.1"),
        None => ("$$".to_string(), ""),
    };
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(format!("LISTEN_PID={pid} LISTEN_FDS=1 exec \"$0\" {own}")).arg(bin());
    on_fd3(&mut cmd, fd);
    cmd
}

/// Makes `fd` the child's fd 3, open across exec.
fn on_fd3(cmd: &mut Command, fd: i32) {
    // SAFETY: dup2 and fcntl are async-signal-safe; this runs in the forked
    // child only. dup2 onto itself keeps close-on-exec, hence the fcntl.
    unsafe {
        cmd.pre_exec(move || {
            let ok = if fd == 3 { libc::fcntl(3, libc::F_SETFD, 0) } else { libc::dup2(fd, 3) };
            if ok < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
        });
    }
}

#[test]
fn systemd_socket_activation() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let s = Server::spawn(activated(&l, None));
    // It serves on the socket it was given, not on a port of its own.
    assert_eq!(s.port, port);
    drop(l);
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"activated\n"), b"npgvingrq\n");
}

#[test]
fn socket_activation_for_another_pid_is_ignored() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let s = Server::spawn(activated(&l, Some("1")));
    assert_ne!(s.port, l.local_addr().unwrap().port());
    let mut c = s.connect();
    assert_eq!(ask(&mut c, b"own port\n"), b"bja cbeg\n");
}

/// Runs the binary with `fd` as its fd 3 and LISTEN_PID/LISTEN_FDS right,
/// and returns its exit status and stderr.
fn activated_on(fd: i32, args: &str) -> (Option<i32>, String) {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(format!("LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" {args}")).arg(bin());
    on_fd3(&mut cmd, fd);
    let out = cmd.output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_connection_as_fd_3_is_served_as_one_session() {
    // systemd Accept=yes without -i: fd 3 is the connection itself.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (conn, _) = l.accept().unwrap();
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg("LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" -t 5").arg(bin());
    on_fd3(&mut cmd, conn.as_raw_fd());
    let child = cmd.stdin(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    drop(conn);
    client.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    assert_eq!(ask(&mut client, b"accepted by systemd\n"), b"npprcgrq ol flfgrzq\n");
    client.write_all(b"tail").unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"gnvy");
    let out = child.wait_with_output().unwrap();
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stderr).as_ref()), (Some(0), ""));
    // Options about listening or other connections do not apply to it.
    let l2 = TcpListener::bind("127.0.0.1:0").unwrap();
    let _c = TcpStream::connect(l2.local_addr().unwrap()).unwrap();
    let (conn, _) = l2.accept().unwrap();
    assert_eq!(
        activated_on(conn.as_raw_fd(), "-c 5"),
        (Some(2), "rot13d: -c does not apply to -i or LISTEN_FDS sockets (rot13d -h for help)\n".to_string())
    );
}

#[test]
fn socket_activation_with_a_unix_socket() {
    use std::os::unix::net::{UnixListener, UnixStream};
    let dir = std::env::temp_dir().join(format!("rot13d-unix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("sock");
    let l = UnixListener::bind(&path).unwrap();
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg("LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" -v").arg(bin());
    on_fd3(&mut cmd, l.as_raw_fd());
    cmd.stderr(Stdio::piped());
    // Killed however the test ends.
    struct Reaped(std::process::Child);
    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Reaped(cmd.spawn().unwrap());
    let mut err = BufReader::new(child.0.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    // No IP address to show: the fd it was given.
    assert_eq!(line, "rot13d: listening on fd 3\n");
    let mut c = UnixStream::connect(&path).unwrap();
    c.write_all(b"over unix\n").unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    let mut reply = Vec::new();
    c.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"bire havk\n");
    line.clear();
    err.read_line(&mut line).unwrap();
    assert!(line.starts_with("rot13d: pid ") && line.ends_with(" from 0.0.0.0:0 (1/256)\n"), "{line}");
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.0.id() as i32, libc::SIGTERM) };
    assert_eq!(child.0.wait().unwrap().code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn socket_activation_with_a_datagram_socket_exits_1() {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(activated_on(udp.as_raw_fd(), "-q"), (Some(1), "rot13d: LISTEN_FDS: fd 3: operation not supported\n".to_string()));
}

#[test]
fn socket_activation_with_no_socket_exits_1() {
    let file = std::fs::File::open("/dev/null").unwrap();
    let fd = file.as_raw_fd();
    assert_eq!(activated_on(fd, "-q"), (Some(1), "rot13d: LISTEN_FDS: fd 3: not a socket\n".to_string()));
}

#[test]
fn two_instances_share_a_port_with_reuseport() {
    let a = Server::start(&["-r", "-v", "-l", "127.0.0.1"]);
    let port = a.port.to_string();
    let mut cmd = Command::new(bin());
    cmd.args(["-r", "-v", "-l", "127.0.0.1", "-p", &port]);
    let b = Server::spawn(cmd);
    assert_eq!(a.port, b.port);
    // The kernel spreads connections by a hash of the client's port: within
    // a few hundred connections both instances have served.
    let (mut seen_a, mut seen_b) = (false, false);
    for i in 0..300 {
        let mut c = a.connect();
        assert_eq!(ask(&mut c, b"which\n"), b"juvpu\n", "connection {i}");
        drop(c);
        seen_a |= a.line_within(Duration::from_millis(200)).is_some_and(|l| l.starts_with("rot13d: pid "));
        seen_b |= b.line_within(Duration::from_millis(0)).is_some_and(|l| l.starts_with("rot13d: pid "));
        if seen_a && seen_b {
            return;
        }
    }
    panic!("both instances should serve: a {seen_a}, b {seen_b}");
}

#[test]
fn without_reuseport_the_second_instance_cannot_bind() {
    let a = Server::start(&["-l", "127.0.0.1"]);
    let (code, _, err) = run(&["-l", "127.0.0.1", "-p", &a.port.to_string()]);
    assert_eq!((code, err.as_str()), (1, "rot13d: bind: address already in use\n"));
}

#[test]
#[ignore = "needs root (chroot)"]
fn root_serves_from_an_empty_root() {
    let root = std::env::temp_dir().join(format!("rot13d-root-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(bin(), root.join("rot13d")).unwrap();
    let mut cmd = Command::new("chroot");
    cmd.arg(&root).args(["/rot13d", "-p", "0", "-l", "127.0.0.1"]);
    if is_static() {
        // No /etc, /proc, /dev, no libc, no loader: nothing but the binary.
        let s = Server::spawn(cmd);
        let mut c = s.connect();
        assert_eq!(ask(&mut c, b"alone\n"), b"nybar\n");
        drop(c);
        s.wait_no_children();
    } else {
        // The default build needs its loader and libc: it cannot start there,
        // which is what the static build is for.
        eprintln!("NOTE: dynamic build: checking that it cannot run in an empty root");
        let out = cmd.stderr(Stdio::null()).output().unwrap();
        assert_ne!(out.status.code(), Some(0));
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn startup_trace_is_short() {
    // .ci/run installs strace; a machine without it fails here, loudly.
    assert!(Command::new("strace").arg("-V").output().is_ok(), "strace is needed (apt-get install strace)");
    let log = std::env::temp_dir().join(format!("rot13d-trace-{}", std::process::id()));
    // The default address, as a user starts it (the port aside).
    let tracer = Command::new("strace").arg("-o").arg(&log).arg(bin()).args(["-q", "-p", "0"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Ended however the test ends: the server on SIGTERM, strace with it.
    struct Traced(std::process::Child);
    impl Drop for Traced {
        fn drop(&mut self) {
            for pid in children_of(self.0.id()) {
                kill("TERM", pid);
            }
            let _ = self.0.wait();
        }
    }
    let mut tracer = Traced(tracer);
    wait_until(Duration::from_secs(10), || std::fs::read_to_string(&log).is_ok_and(|t| t.lines().any(|l| l.starts_with("accept"))), || "accept in the trace".into());
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let calls: Vec<&str> = text.lines().map(|l| l.split('(').next().unwrap()).collect();
    let upto = calls.iter().position(|c| c.starts_with("accept")).unwrap() + 1;
    let own = &calls[calls.iter().position(|c| *c == "close_range").unwrap()..upto];
    // Ours: inherited fds closed, the two signals that can come at any
    // time, then socket, SO_REUSEADDR, IPV6_V6ONLY off (dual stack), bind,
    // listen, then confinement, accept. Nothing else before serving.
    let listen = ["close_range", "rt_sigaction", "rt_sigaction", "socket", "setsockopt", "setsockopt", "bind", "listen"];
    if is_static() {
        // No filter for the parent: prctl(PR_GET_SECCOMP) asks whether
        // sessions can have strict mode. And before it all, nothing but
        // execve and the madvise that keeps the kernel's stack out of
        // children.
        assert_eq!(own, [&listen[..], &["prctl", "accept"]].concat(), "{text}");
        assert_eq!(&calls[..2], ["execve", "madvise"], "{text}");
        assert_eq!(upto, 12, "{text}");
    } else {
        // no_new_privs, then the parent's filter.
        assert_eq!(own, [&listen[..], &["prctl", "seccomp", "accept"]].concat(), "{text}");
    }
    drop(tracer.0.stdin.take());
    let status = {
        for pid in children_of(tracer.0.id()) {
            kill("TERM", pid);
        }
        tracer.0.wait().unwrap()
    };
    assert!(status.success());
}

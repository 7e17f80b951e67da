//! Test helpers: start the built binary (`ROT13D_BIN`, or cargo's own build)
//! with `-p 0`, read its port from the startup line, talk to it over
//! loopback, hand it sockets as a service manager does, and look at it
//! through /proc.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// The binary under test: `ROT13D_BIN` (make test sets it to each build in
/// turn), else the one cargo built for this test run.
pub fn bin() -> PathBuf {
    std::env::var_os("ROT13D_BIN").map(PathBuf::from).unwrap_or_else(|| env!("CARGO_BIN_EXE_rot13d").into())
}

/// The two builds. They have the same features and pass the same tests;
/// where they differ by design, the tests ask this, and nowhere else:
/// the default build is dynamically linked (it cannot run in an empty
/// root) and starts through the C library (a longer start-up trace).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Build {
    /// `make`: entered through the C library's start-up code.
    Libc,
    /// `make static`: no C library, no loader.
    Static,
}

/// Which build is under test: statically linked or not (PT_INTERP).
pub fn build() -> Build {
    let elf = std::fs::read(bin()).unwrap();
    let phoff = u64::from_le_bytes(elf[32..40].try_into().unwrap()) as usize;
    let size = u16::from_le_bytes([elf[54], elf[55]]) as usize;
    let n = u16::from_le_bytes([elf[56], elf[57]]) as usize;
    let interp = (0..n).any(|i| u32::from_le_bytes(elf[phoff + i * size..][..4].try_into().unwrap()) == 3);
    if interp { Build::Libc } else { Build::Static }
}

/// Whether the binary under test runs under qemu-user (`tools/cross
/// itest` says so in ROT13D_EMULATED): there it finds no seccomp and says
/// so on stderr, as on a kernel without seccomp. The tests that need what
/// qemu-user lacks are left out there, by name (tools/cross).
pub fn emulated() -> bool {
    std::env::var_os("ROT13D_EMULATED").is_some()
}

/// What rot13d says only where it finds no seccomp (under qemu-user).
fn said_for_want_of_seccomp(line: &str) -> bool {
    emulated()
        && (line == "rot13d: seccomp: invalid argument (sessions unconfined)"
            || line.starts_with("rot13d: no seccomp call (Linux < 3.17)"))
}

/// A process's stderr as text, less the lines it says under emulation only.
pub fn stderr_of(err: &[u8]) -> String {
    let text = String::from_utf8_lossy(err);
    text.split_inclusive('\n').filter(|l| !said_for_want_of_seccomp(l.trim_end())).collect()
}

pub fn is_root() -> bool {
    status_field(std::process::id(), "Uid").split_whitespace().next() == Some("0")
}

pub fn rot13(input: &[u8]) -> Vec<u8> {
    input
        .iter()
        .map(|&c| match c {
            b'a'..=b'm' | b'A'..=b'M' => c + 13,
            b'n'..=b'z' | b'N'..=b'Z' => c - 13,
            _ => c,
        })
        .collect()
}

/// A running server; its children and itself are killed and reaped on drop.
pub struct Server {
    pub child: Child,
    /// Where it listens, from its startup lines: (host to connect to, port).
    pub addrs: Vec<(String, u16)>,
    pub port: u16,
    pub host: String,
    lines: Receiver<String>,
}

impl Server {
    /// Starts `rot13d -p 0 ARGS` and waits for its startup line.
    pub fn start(args: &[&str]) -> Server {
        let mut cmd = Command::new(bin());
        cmd.arg("-p").arg("0").args(args);
        Server::spawn(cmd)
    }

    /// Starts a prepared command and waits for its startup line.
    pub fn spawn(cmd: Command) -> Server {
        Server::spawn_listening(cmd, 1)
    }

    /// Starts a prepared command and waits for `n` startup lines (one per
    /// listener).
    pub fn spawn_listening(mut cmd: Command, n: usize) -> Server {
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let (tx, lines) = channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let line = line.unwrap_or_default();
                if !said_for_want_of_seccomp(&line) && tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut addrs = Vec::new();
        for _ in 0..n {
            let line = lines.recv_timeout(Duration::from_secs(10)).expect("no startup line");
            let addr = line.strip_prefix("rot13d: listening on ").unwrap_or_else(|| panic!("startup line: {line:?}"));
            let addr = addr.split(" (").next().unwrap();
            let (host, port) = addr.rsplit_once(':').unwrap_or(("unix", "0"));
            let host = match host {
                "0.0.0.0" | "[::]" => "127.0.0.1".to_string(),
                h => h.trim_matches(|c| c == '[' || c == ']').to_string(),
            };
            addrs.push((host, port.parse().unwrap()));
        }
        let (host, port) = addrs[0].clone();
        Server { child, addrs, port, host, lines }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn connect(&self) -> TcpStream {
        connect((self.host.as_str(), self.port))
    }

    /// The next line the server writes to stderr, waiting up to 10 s.
    pub fn line(&self) -> String {
        self.lines.recv_timeout(Duration::from_secs(10)).expect("expected a log line")
    }

    /// A log line, if one comes within `t`.
    pub fn line_within(&self, t: Duration) -> Option<String> {
        self.lines.recv_timeout(t).ok()
    }

    /// The server's children, from /proc (zombies included until reaped).
    pub fn children(&self) -> Vec<u32> {
        children_of(self.pid())
    }

    /// The parent's open fds.
    pub fn fds(&self) -> Vec<u32> {
        fds_of(self.pid())
    }

    /// Waits until every child has ended and been reaped.
    pub fn wait_no_children(&self) {
        wait_until(
            Duration::from_secs(10),
            || self.children().is_empty(),
            || format!("children left: {:?}", self.children()),
        );
    }

    /// Sends a signal to the parent only.
    pub fn signal(&self, sig: &str) {
        kill(sig, self.pid());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for c in self.children() {
            kill("KILL", c);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client connection with a read timeout, so that no test hangs.
pub fn connect(addr: impl std::net::ToSocketAddrs) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

pub fn kill(sig: &str, pid: u32) {
    let _ = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).stderr(Stdio::null()).status();
}

pub fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect()
}

pub fn fds_of(pid: u32) -> Vec<u32> {
    let mut fds: Vec<u32> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().parse().unwrap())
        .collect();
    fds.sort();
    fds
}

/// The sockets among a process's fds: (fd, "socket:[inode]").
pub fn sockets_of(pid: u32) -> Vec<(u32, String)> {
    fds_of(pid)
        .into_iter()
        .filter_map(|fd| {
            let link = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
            let link = link.to_str()?.to_string();
            link.starts_with("socket:").then_some((fd, link))
        })
        .collect()
}

/// A field of /proc/PID/status, e.g. "Uid".
pub fn status_field(pid: u32, field: &str) -> String {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).unwrap_or("").trim().to_string()
}

/// CPU time of a process so far, in clock ticks (utime + stime).
pub fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// Polls `cond` until it holds; fails with `what()` after `limit`.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool, what: impl Fn() -> String) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out: {}", what());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `input` (from a second thread, so neither side can block the
/// other), half-closes, and returns everything the server sent back.
pub fn roundtrip(s: TcpStream, input: Vec<u8>) -> Vec<u8> {
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        w.write_all(&input).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
    });
    let mut out = Vec::new();
    (&s).read_to_end(&mut out).unwrap();
    writer.join().unwrap();
    out
}

/// Sends one line and reads its answer.
pub fn ask(s: &mut TcpStream, line: &[u8]) -> Vec<u8> {
    s.write_all(line).unwrap();
    let mut got = vec![0; line.len()];
    s.read_exact(&mut got).unwrap();
    got
}

/// Runs the binary with `args` to completion: (status, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    output(Command::new(bin()).args(args))
}

/// Runs a prepared command to completion, stdin empty: (status, stdout, stderr).
pub fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Runs each command line of `cases` and checks that it is a usage error:
/// status 2, nothing on stdout, exactly the message given on stderr (the
/// hint that follows every usage message is added here).
pub fn assert_usage_errors(cases: &[(&[&str], &str)]) {
    for (args, want) in cases {
        let (code, out, err) = run(args);
        let want = format!("{want} (rot13d -h for help)\n");
        assert_eq!((code, out.as_str(), err.as_str()), (2, "", want.as_str()), "{args:?}");
    }
}

/// A connected pair over loopback from `from`: (the client, the server's end).
pub fn tcp_pair(from: &str) -> (TcpStream, TcpStream) {
    let l = TcpListener::bind((from, 0)).unwrap();
    let client = connect(l.local_addr().unwrap());
    let (conn, _) = l.accept().unwrap();
    (client, conn)
}

/// Starts `rot13d -i ARGS` on the server side of a fresh loopback
/// connection from `from` (stdin and stdout that socket, stderr piped),
/// after `prepare` has had the command; returns the client's end and the
/// process. The command, which holds the server's end too, is dropped
/// here, so the connection ends when the process does.
pub fn inetd_on_connection(from: &str, args: &[&str], prepare: impl FnOnce(&mut Command)) -> (TcpStream, Child) {
    let (client, conn) = tcp_pair(from);
    let fd: std::os::fd::OwnedFd = conn.into();
    let mut cmd = Command::new(bin());
    cmd.arg("-i").args(args).stdin(Stdio::from(fd.try_clone().unwrap())).stdout(Stdio::from(fd)).stderr(Stdio::piped());
    prepare(&mut cmd);
    (client, cmd.spawn().unwrap())
}

/// The binary started on `conn` as a service manager with `Accept=yes`
/// starts it (fd 3, LISTEN_FDS=1), with `args`; stdin empty, stderr kept.
pub fn on_passed_connection(conn: &TcpStream, args: &str) -> Child {
    activated(&[conn.as_raw_fd()], None, args).stdin(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
}

/// A command that starts the binary as a service manager does: `fds`
/// become fds 3, 4, ... (open across exec), and a shell that then execs
/// the binary with `args` sets LISTEN_PID to its own pid (which the binary
/// keeps) and `env` (by default `LISTEN_FDS=<number of fds>`).
pub fn activated(fds: &[RawFd], env: Option<&str>, args: &str) -> Command {
    let env = env.map_or(format!("LISTEN_FDS={}", fds.len()), str::to_string);
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(format!("LISTEN_PID=$$ {env} exec \"$0\" {args}")).arg(bin());
    let fds = fds.to_vec();
    // SAFETY: only async-signal-safe calls, in the forked child.
    unsafe {
        cmd.pre_exec(move || {
            // Out of the way first: a source may sit on a target number.
            let high: Vec<i32> = fds.iter().map(|&fd| libc::fcntl(fd, libc::F_DUPFD, 200)).collect();
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

/// One classic BPF instruction.
pub fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// This machine's calling convention, as seccomp names it.
pub const AUDIT_ARCH: u32 = if cfg!(target_arch = "x86_64") {
    0xc000_003e
} else if cfg!(target_arch = "aarch64") {
    0xc000_00b7
} else if cfg!(target_arch = "arm") {
    0x4000_0028
} else if cfg!(target_arch = "riscv64") {
    0xc000_00f3
} else {
    0
};

/// A filter that answers each call `nr` of `errors` with its errno, as a
/// kernel without that call (ENOSYS) or feature would, and allows every
/// other call.
pub fn errors_for(errors: &[(i64, i32)]) -> Vec<libc::sock_filter> {
    let mut f =
        vec![insn(0x20, 0, 0, 4), insn(0x15, 1, 0, AUDIT_ARCH), insn(0x06, 0, 0, 0x7fff_0000), insn(0x20, 0, 0, 0)];
    for &(nr, errno) in errors {
        f.push(insn(0x15, 0, 1, nr as u32));
        f.push(insn(0x06, 0, 0, 0x0005_0000 | errno as u32));
    }
    f.push(insn(0x06, 0, 0, 0x7fff_0000));
    f
}

/// Makes `cmd` start under no_new_privs and the seccomp filter `filter`, as
/// a service manager's SystemCallFilter= would leave it.
pub fn under_filter(cmd: &mut Command, filter: Vec<libc::sock_filter>) {
    // SAFETY: only async-signal-safe calls, in the forked child; the
    // filter is moved into the closure, so it outlives the call.
    unsafe {
        cmd.pre_exec(move || {
            let prog = libc::sock_fprog { len: filter.len() as u16, filter: filter.as_ptr() as *mut _ };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::syscall(libc::SYS_seccomp, 1, 0, &prog as *const libc::sock_fprog) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Whether strace can run here (.ci/run installs it; a machine without it
/// fails the tests that need it, loudly).
pub fn need_strace() {
    assert!(Command::new("strace").arg("-V").output().is_ok(), "strace is needed (apt-get install strace)");
}

//! Test helpers: start the built binary (`ROT13D_BIN`, or cargo's own build)
//! with `-p 0`, read its port from the startup line, talk to it over loopback,
//! and look at it through /proc.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// The binary under test: `ROT13D_BIN` (make test sets it to each build in
/// turn), else the one cargo built for this test run.
pub fn bin() -> PathBuf {
    std::env::var_os("ROT13D_BIN").map(PathBuf::from).unwrap_or_else(|| env!("CARGO_BIN_EXE_rot13d").into())
}

/// Whether the binary under test is statically linked (no PT_INTERP).
pub fn is_static() -> bool {
    let elf = std::fs::read(bin()).unwrap();
    let phoff = u64::from_le_bytes(elf[32..40].try_into().unwrap()) as usize;
    let size = u16::from_le_bytes([elf[54], elf[55]]) as usize;
    let n = u16::from_le_bytes([elf[56], elf[57]]) as usize;
    !(0..n).any(|i| u32::from_le_bytes(elf[phoff + i * size..][..4].try_into().unwrap()) == 3)
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
    pub fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let (tx, lines) = channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                if tx.send(line.unwrap_or_default()).is_err() {
                    break;
                }
            }
        });
        let first = lines.recv_timeout(Duration::from_secs(10)).expect("no startup line");
        let addr = first.strip_prefix("rot13d: listening on ").unwrap_or_else(|| panic!("startup line: {first:?}"));
        let (host, port) = addr.rsplit_once(':').unwrap();
        let host = match host {
            "0.0.0.0" | "[::]" => "127.0.0.1".to_string(),
            h => h.trim_matches(|c| c == '[' || c == ']').to_string(),
        };
        let port = port.parse().unwrap();
        assert_ne!(port, 0);
        Server { child, port, host, lines }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect((self.host.as_str(), self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
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
        wait_until(Duration::from_secs(10), || self.children().is_empty(), || format!("children left: {:?}", self.children()));
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
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).unwrap().trim().to_string()
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
    let out = Command::new(bin()).args(args).stdin(Stdio::null()).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// Runs each command line of `cases` and checks that it is a usage error:
/// status 2, nothing on stdout, exactly the message given on stderr.
pub fn assert_usage_errors(cases: &[(&[&str], &str)]) {
    for (args, want) in cases {
        let (code, out, err) = run(args);
        assert_eq!((code, out.as_str(), err.as_str()), (2, "", *want), "{args:?}");
    }
}

/// Starts `rot13d -i ARGS` on the server side of a fresh loopback
/// connection from `from` (stdin and stdout that socket, stderr piped),
/// after `prepare` has had the command; returns the client's end and the
/// process. The command, which holds the server's end too, is dropped
/// here, so the connection ends when the process does.
pub fn inetd_on_connection(from: &str, args: &[&str], prepare: impl FnOnce(&mut Command)) -> (TcpStream, Child) {
    let l = std::net::TcpListener::bind((from, 0)).unwrap();
    let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (conn, _) = l.accept().unwrap();
    let fd: std::os::fd::OwnedFd = conn.into();
    let mut cmd = Command::new(bin());
    cmd.arg("-i").args(args).stdin(Stdio::from(fd.try_clone().unwrap())).stdout(Stdio::from(fd)).stderr(Stdio::piped());
    prepare(&mut cmd);
    (client, cmd.spawn().unwrap())
}

/// Makes `cmd` start under no_new_privs and the seccomp filter `filter`, as
/// a service manager's SystemCallFilter= would leave it.
pub fn under_filter(cmd: &mut Command, filter: Vec<libc::sock_filter>) {
    use std::os::unix::process::CommandExt;
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

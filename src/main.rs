//! rot13d: the tutorial's fork-per-connection ROT13 server, as a `no_std`
//! binary. The C program's landmarks keep their names: `tcp_server_listen`,
//! `main`'s accept loop (here [`serve`]), `child_run`, `sigchld_handler`, and
//! `rot13_char` (in the library, with the rest of the pure logic).
#![no_std]
#![no_main]
#![deny(unsafe_code)]

#[cfg(all(feature = "nolibc", not(target_arch = "x86_64")))]
compile_error!("the nolibc build (`make static`) has an entry point and signal code for x86_64 only; build without it (`make`) elsewhere");

#[cfg(target_arch = "x86_64")]
#[path = "arch/x86_64.rs"]
mod arch;
mod sys;

use core::ffi::c_int;
use core::sync::atomic::Ordering::Relaxed;
use core::time::Duration;
use rot13d::addr::{parse_num, Ip};
use rot13d::frame::Lines;
use rot13d::hosts::Hosts;
use rot13d::msg::Msg;
use rot13d::opts::{self, Command, Config, Log, Mode};
use rot13d::rules::Verdict;
use rustix::fd::AsRawFd;
use rustix::net::{self, AddressFamily, SocketType};
use rustix::net::sockopt::{self, Timeout};
use sys::{AsFd, BorrowedFd, Errno, Fork, OwnedFd};

// Live children, the child's flag and `-v`: in `sys::STATE`, which keeps
// them in one page with the line buffer (see there why).
use sys::STATE;
/// `-C`: which child serves which peer address (sized for the largest `-c`).
static HOSTS: Hosts<65535> = Hosts::new();

/// The seed's `main`: parse the command line, listen, serve.
fn main(mut args: sys::CStrs, env: sys::CStrs, line: sys::LineBuffer) -> c_int {
    args.next(); // the program's name
    let mut cfg = Config::default();
    match opts::parse(args, &mut cfg) {
        Ok(Command::Serve) => {}
        Ok(Command::Print(text)) => {
            // To stdout; a failed write ends with status 1 (0 if the
            // reader is gone), as a session's would.
            sys::ignore_sigpipe();
            write_all(sys::stdio(1), text);
            return 0;
        }
        Err(usage) => usage_error(usage),
    }
    // Sockets passed by systemd: none under -i (its connection is stdin
    // and stdout; systemd's copy as fd 3 is closed below).
    let passed = if cfg.inetd { 0 } else { activated(env) };
    // Whatever else the launcher left open (a pipe, a sibling's socket) is
    // not ours: closed before any child could inherit it for a session.
    sys::close_from(3 + passed);
    let mode = if cfg.inetd { Mode::Session } else if passed == 0 { Mode::Standalone } else { passed_mode() };
    if let Some(opt) = cfg.misplaced(mode) {
        misused(opt, b" does not apply to -i or LISTEN_FDS sockets");
    }
    if mode == Mode::Session {
        // -i's stdin and stdout, or systemd's fd 3 (Accept=yes).
        let (input, out) = if cfg.inetd { (0, 1) } else { (3, 3) };
        session(sys::stdio(input), sys::stdio(out), &cfg, line);
    }
    // SIGTERM/SIGINT can come at any time, so they are caught first.
    sys::sigaction(sys::SIGTERM, term_handler as sys::Handler as usize, sys::ONCE);
    sys::sigaction(sys::SIGINT, term_handler as sys::Handler as usize, sys::ONCE);
    let listener = if passed > 0 {
        // A socket of ours is what finds and fills a closed stdin, stdout
        // or stderr (see `tcp_server_socket`): one, at once closed again.
        drop(tcp_server_socket(&mut cfg.ip));
        sys::own_fd(3)
    } else {
        tcp_server_listen(&mut cfg)
    };
    if let Some(ids) = cfg.ids {
        drop_privileges(ids);
    }
    if cfg.log != Log::Quiet {
        // The real address: the port the kernel chose for `-p 0`, or the
        // one systemd bound, which may be a Unix socket's.
        let mut m = Msg::new(b"listening on ");
        match sys::ip_port(&must(net::getsockname(&listener), b"getsockname")) {
            Some((ip, port)) => m.sockaddr(ip, port),
            None => m.push(b"fd 3"),
        };
        sys::say(&mut m);
    }
    confine_parent(&cfg);
    serve(listener, &cfg, line)
}

/// From here on the parent can only do what its accept loop needs
/// (rot13d(8), CONFINEMENT). Where the kernel has no seccomp, the server
/// still serves, but never without saying so: even under -q.
fn confine_parent(cfg: &Config) {
    let confined = sys::confine_parent();
    if let Err(e) = confined {
        unconfined(e);
    }
    // The default build has no filter for the server on other
    // architectures (none is written) or before Linux 3.17 (no seccomp
    // call), while its sessions confine themselves: said under -v. (The
    // static build has none at all, for its size: the man page says so, as
    // there are no bytes left to.)
    #[cfg(not(feature = "nolibc"))]
    if confined.is_ok() && cfg.log == Log::Verbose && !sys::parent_filtered() {
        sys::say(&mut Msg::new(b"no seccomp filter for the server here: its sessions have theirs"));
    }
    let _ = cfg;
}

/// Says that sessions run unconfined, and why.
fn unconfined(e: Errno) {
    say_failed(b"seccomp (sessions unconfined)", e);
}

/// Reports a usage error and ends with status 2.
fn usage_error(usage: opts::Usage<'_>) -> ! {
    sys::say(&mut usage.msg());
    sys::exit(2)
}

/// Reports an option that cannot work as it is used (`-t needs stdin to
/// be a socket`) as a usage error: status 2.
fn misused(opt: u8, words: &[u8]) -> ! {
    usage_error(opts::Usage { why: b"", opt, arg: words })
}

/// One session on a connection we were given (`-i`, or systemd
/// `Accept=yes`): under the dropped ids from before its first byte, on
/// blocking fds, and then the end of the process.
fn session(input: BorrowedFd<'_>, out: BorrowedFd<'_>, cfg: &Config, line: sys::LineBuffer) -> ! {
    if let Some(ids) = cfg.ids {
        drop_privileges(ids);
    }
    // Some launchers hand over a non-blocking socket or pipe, on which a
    // read would fail with EAGAIN whenever the client pauses.
    sys::set_blocking(input);
    sys::set_blocking(out);
    sys::ignore_sigpipe();
    if cfg.rules.any() {
        // The peer is stdin's; a refused one is closed at once, status 0,
        // without a byte read.
        match net::getpeername(input).ok().flatten().as_ref().and_then(sys::ip_port) {
            Some((ip, _)) if cfg.rules.verdict(&ip) == Verdict::Served => {}
            Some(_) => sys::exit(0),
            None => misused(0, b"-a and -d need stdin to be a TCP socket"),
        }
    }
    if let Err(e) = settle(input, out, cfg.timeout) {
        unconfined(e);
    }
    child_run(input, out, line)
}

/// The result of `call`, or its failure reported and the end (status 1).
/// Always inlined: as calls, each `T` goes out and back through memory
/// (-80 bytes in the static build).
#[inline(always)]
fn must<T>(r: sys::Result<T>, call: &[u8]) -> T {
    match r {
        Ok(v) => v,
        Err(e) => fail(call, e),
    }
}

/// Reports that `call` failed and ends with status 1.
fn fail(call: &[u8], e: Errno) -> ! {
    say_failed(call, e);
    sys::exit(1)
}

/// Logs `rot13d: CALL: CAUSE`.
fn say_failed(call: &[u8], e: Errno) {
    sys::say(Msg::new(call).push(b": ").errno(e.raw_os_error()));
}

/// A TCP socket for `ip`, never on fd 0, 1 or 2.
fn tcp_server_socket(ip: &mut Ip) -> OwnedFd {
    let mut family = if ip.v6 { AddressFamily::INET6 } else { AddressFamily::INET };
    loop {
        match net::socket(family, SocketType::STREAM, None) {
            // The kernel gives the lowest free number: below 3, the launcher
            // closed stdin, stdout or stderr. Left free, that number would go
            // to a connection, and a log line to a client. A socket that is
            // never connected (writes to it fail) stays there as a stopper.
            Ok(fd) if fd.as_raw_fd() < 3 => core::mem::forget(fd),
            // A kernel without IPv6 (common on small embedded ones) has only
            // 0.0.0.0 to offer for `::`, the default; the startup line says so.
            Err(Errno::AFNOSUPPORT) if ip.bytes == [0; 16] => {
                *ip = Ip::v4([0; 4]);
                family = AddressFamily::INET;
            }
            r => return must(r, b"socket"),
        }
    }
}

/// The seed's `tcp_server_listen`: socket, SO_REUSEADDR, bind, listen.
/// Unlike the seed it does not ignore SIGPIPE here: that waits for the first
/// connection (see `serve`), which keeps the start-up trace short.
fn tcp_server_listen(cfg: &mut Config) -> OwnedFd {
    let fd = tcp_server_socket(&mut cfg.ip);
    // Restart at once on a port whose old connections linger in TIME_WAIT.
    must(sockopt::set_socket_reuseaddr(&fd, true), b"setsockopt");
    if cfg.reuseport {
        must(sockopt::set_socket_reuseport(&fd, true), b"setsockopt");
    }
    let a = cfg.ip.bytes;
    let bound = if cfg.ip.v6 {
        if a == [0; 16] {
            // `::` takes IPv4 too, whatever net.ipv6.bindv6only says.
            must(sockopt::set_ipv6_v6only(&fd, false), b"setsockopt");
        }
        net::bind(&fd, &net::SocketAddrV6::new(a.into(), cfg.port as u16, 0, 0))
    } else {
        net::bind(&fd, &net::SocketAddrV4::new([a[12], a[13], a[14], a[15]].into(), cfg.port as u16))
    };
    must(bound, b"bind");
    must(net::listen(&fd, cfg.backlog as i32), b"listen");
    fd
}

/// systemd socket activation: how many sockets were passed (from fd 3 on),
/// as `sd_listen_fds` reads it: none unless `LISTEN_PID` is our pid and
/// `LISTEN_FDS` is set and not 0. A `LISTEN_FDS` meant for us that is no
/// number, or more sockets than we serve, ends the server (status 1): never
/// a silent fall-back to listening on the default address.
fn activated(env: sys::CStrs) -> c_int {
    let (mut pid, mut fds) = (None, None);
    for var in env {
        // `LISTEN_PID=` or `LISTEN_FDS=`, compared four bytes at a time.
        let Some((name, v)) = var.split_first_chunk::<11>() else { continue };
        let word = |i: usize| u32::from_ne_bytes([name[i], name[i + 1], name[i + 2], name[i + 3]]);
        if word(0) != u32::from_ne_bytes(*b"LIST") || word(3) != u32::from_ne_bytes(*b"TEN_") {
            continue;
        }
        let last = word(7);
        if last == u32::from_ne_bytes(*b"PID=") {
            pid = Some(v);
        } else if last == u32::from_ne_bytes(*b"FDS=") {
            fds = Some(v);
        }
    }
    let (Some(pid), Some(fds)) = (pid, fds) else { return 0 };
    if parse_num(pid, i32::MAX as u32) != Some(rustix::process::getpid().as_raw_pid() as u32) {
        return 0;
    }
    // One listening socket (or one connection) is what is served.
    match parse_num(fds, 1) {
        Some(n) => n as c_int,
        None => {
            sys::say(Msg::new(b"bad LISTEN_FDS: ").push(fds).push(b" (one socket)"));
            sys::exit(1)
        }
    }
}

/// What systemd passed as fd 3: a listening socket (`Accept=no`), or a
/// connected stream socket (`Accept=yes`), served as one session as `-i`
/// would; anything else ends the server (status 1).
fn passed_mode() -> Mode {
    let fd = sys::stdio(3);
    let e = match sockopt::socket_acceptconn(fd) {
        Ok(true) => return Mode::Activated,
        Ok(false) if sockopt::socket_type(fd) == Ok(SocketType::STREAM) => return Mode::Session,
        // Neither accepts nor is a stream: what accept would say.
        Ok(false) => Errno::OPNOTSUPP,
        Err(e) => e,
    };
    fail(b"LISTEN_FDS: fd 3", e)
}

/// `-u UID:GID`: supplementary groups, then group, then user, then proof that
/// root cannot be had back. Every failure ends the server (status 1).
fn drop_privileges((uid, gid): (u32, u32)) {
    use rustix::thread::{set_thread_gid, set_thread_groups, set_thread_uid};
    use rustix::process::{Gid, Uid};
    must(set_thread_groups(&[]), b"setgroups");
    must(set_thread_gid(Gid::from_raw(gid)), b"setgid");
    must(set_thread_uid(Uid::from_raw(uid)), b"setuid");
    if uid != 0 && set_thread_uid(Uid::ROOT).is_ok() {
        fail(b"setuid: root could be regained", Errno::PERM);
    }
}

/// The seed's accept loop, made unkillable after djb's tcpserver.
///
/// SIGCHLD is held back everywhere except while accept blocks and while the
/// loop sleeps at the connection limit. So fork is never interrupted (a signal
/// during fork makes the kernel throw the new process away and start over),
/// the check of the limit cannot miss a child's end (sigsuspend lets SIGCHLD
/// through atomically as it sleeps), and a child's end is never handled
/// before its start was recorded and logged.
fn serve(listener: OwnedFd, cfg: &Config, line: sys::LineBuffer) -> ! {
    let verbose = cfg.log == Log::Verbose;
    STATE.verbose.store(verbose, Relaxed);
    // The mask to wait in; none until the reaper is set up.
    let mut open = None;
    let mut failing = None;
    loop {
        if let Some(open) = &open {
            while STATE.children.load(Relaxed) >= cfg.max {
                sys::suspend(open);
            }
            sys::unblock_children();
        }
        let accepted = net::acceptfrom(&listener);
        if open.is_none() {
            // No child exists before the first fork, so the reaper is set up
            // here, not at start-up: the trace to the first accept stays
            // short. So is SIGPIPE's SIG_IGN, which every child inherits: a
            // write to a peer that is gone is then an EPIPE error, not death.
            sys::sigaction(sys::SIGCHLD, sigchld_handler as sys::Handler as usize, sys::RESTART);
            sys::ignore_sigpipe();
        }
        let before = sys::block_children();
        if open.is_none() {
            open = Some(before.open());
        }
        let (conn, from) = match accepted {
            Ok(c) => c,
            Err(e) => {
                accept_failed(e, &mut failing);
                continue;
            }
        };
        failing = None;
        // A Unix socket's peer has no address: all count as 0.0.0.0.
        let (ip, port) = match from.as_ref().and_then(sys::ip_port) {
            Some(p) => p,
            None => (Ip::v4([0; 4]), 0),
        };
        // Logged as a person reads it: IPv4 even when it came in over `::`.
        let peer = Ip { v6: ip.v6 && ip.ipv4().is_none(), ..ip };
        // Refused in the parent, before any fork: a flood of refused
        // connections costs no process.
        if cfg.rules.verdict(&ip) != Verdict::Served {
            if verbose {
                sys::say(Msg::new(b"refused ").ip(peer).push(b": rule"));
            }
            continue;
        }
        let key = ip.key();
        if cfg.per_host > 0 && HOSTS.count(key) >= cfg.per_host as usize {
            if verbose {
                sys::say(Msg::new(b"refused ").ip(peer).push(b": per-host limit"));
            }
            continue;
        }
        // Counted before fork (djb): the count is never below the truth.
        let n = STATE.children.fetch_add(1, Relaxed) + 1;
        match sys::fork() {
            Ok(Fork::Child) => {
                drop(listener);
                // A session ends on SIGTERM and SIGINT as any program does,
                // by the signal; the parent's handlers would exit 0.
                sys::sigaction(sys::SIGTERM, sys::DEFAULT, 0);
                sys::sigaction(sys::SIGINT, sys::DEFAULT, 0);
                // Where this fails, the kernel has no seccomp: said at start-up.
                let _ = settle(conn.as_fd(), conn.as_fd(), cfg.timeout);
                child_run(conn.as_fd(), conn.as_fd(), line);
            }
            Ok(Fork::Parent(pid)) => {
                if cfg.per_host > 0 {
                    HOSTS.insert(pid, key);
                }
                if verbose {
                    let mut m = Msg::new(b"pid ");
                    m.num(pid as u32).push(b" from ").sockaddr(peer, port);
                    sys::say(m.push(b" (").num(n).push(b"/").num(cfg.max).push(b")"));
                }
            }
            Err(e) => {
                STATE.children.fetch_sub(1, Relaxed);
                say_failed(b"fork", e);
            }
        }
        // `conn` is closed here: the parent keeps nothing of a connection.
    }
}

/// accept() failed. A connection's failure is never the end of the server
/// (rot13d(8), EXIT STATUS): out of fds, buffers or memory, say so once per run of the
/// same error and pause so that retrying does not spin; anything else (the
/// waiting connection went away, a signal came), on to the next at once.
/// But a listener that cannot accept at all (fd 3 from socket activation
/// that is no socket, does not listen, or is a datagram socket) would fail
/// forever: that ends the server, status 1, as a failed listen would have.
/// (EOPNOTSUPP too, though accept(2) lists it among the new connection's
/// network errors to retry: current Linux TCP does not pass those through,
/// and a datagram socket would otherwise spin.)
fn accept_failed(e: Errno, failing: &mut Option<Errno>) {
    match e {
        Errno::BADF | Errno::NOTSOCK | Errno::INVAL | Errno::OPNOTSUPP => fail(b"accept", e),
        Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM => {
            if *failing != Some(e) {
                say_failed(b"accept", e);
                *failing = Some(e);
            }
            let _ = rustix::thread::nanosleep(&rustix::thread::Timespec { tv_sec: 0, tv_nsec: 250_000_000 });
        }
        _ => {}
    }
}

/// The seed's `sigchld_handler`: reaps every child that has ended, with
/// `wait4(-1, WNOHANG)` until none is left (signals merge: one SIGCHLD may
/// stand for several ends).
extern "C" fn sigchld_handler(_: c_int) {
    // The handler may interrupt the parent between a failed libc call and
    // its look at errno.
    let saved = sys::errno_save();
    while let Ok(Some((pid, status))) = rustix::process::wait(rustix::process::WaitOptions::NOHANG) {
        let pid = pid.as_raw_pid();
        // The parent changes the count only while SIGCHLD is blocked, so
        // nothing can come between this load and store. A child inherited
        // across exec was never counted: never below zero.
        let n = STATE.children.load(Relaxed);
        STATE.children.store(n.saturating_sub(1), Relaxed);
        HOSTS.remove(pid);
        if STATE.verbose.load(Relaxed) {
            let mut m = Msg::new(b"end pid ");
            m.num(pid as u32);
            match (status.exit_status(), status.terminating_signal()) {
                (Some(code), _) => m.push(b" status ").num(code as u32),
                (_, Some(sig)) => m.push(b" signal ").num(sig as u32),
                _ => &mut m,
            };
            sys::say(&mut m);
        }
    }
    sys::errno_restore(saved);
}

/// SIGTERM and SIGINT. The parent ends at once, status 0: `exit` here
/// closes the listener and cannot race the accept loop as a flag would.
/// Children set both back to the default first thing; one that comes in
/// between ends that child the same way, status 0, before it serves.
extern "C" fn term_handler(_: c_int) {
    sys::exit(0);
}

/// Sends all of `buf` to `out`, however many calls it takes; a peer that is
/// gone or stuck ends this session only.
fn write_all(out: BorrowedFd<'_>, mut buf: &[u8]) {
    while !buf.is_empty() {
        match rustix::io::write(out, buf) {
            Ok(n) => buf = &buf[n..],
            Err(Errno::INTR) => {}
            Err(e) => end(e),
        }
    }
}

/// `-t`: a read or write that waits longer than `secs` fails with EAGAIN.
/// On a pipe (`-i`) there is nothing to set: better refused than ignored.
fn set_timeout(input: BorrowedFd<'_>, out: BorrowedFd<'_>, secs: u32) {
    let t = Some(Duration::from_secs(secs as u64));
    if sockopt::set_socket_timeout(input, Timeout::Recv, t).and(sockopt::set_socket_timeout(out, Timeout::Send, t)).is_err() {
        misused(b't', b" needs stdin to be a socket");
    }
}

/// Ends a session on an I/O error: status 0 when the peer is simply gone,
/// 1 otherwise (a timeout, say), for the `-v` log.
fn end(e: Errno) -> ! {
    sys::exit(match e {
        Errno::PIPE | Errno::CONNRESET => 0,
        _ => 1,
    })
}

/// A session's set-up before its first client byte: `-t`, then
/// confinement (see `sys::confine_session`), after which, whatever those
/// bytes do to the process, it can only write to its own connection. An
/// error is the confinement's.
fn settle(input: BorrowedFd<'_>, out: BorrowedFd<'_>, timeout: u32) -> sys::Result<()> {
    if timeout > 0 {
        set_timeout(input, out, timeout);
    }
    sys::confine_session()
}

/// The seed's `child_run`: serves one connection (a socket, or stdin and
/// stdout under `-i`) until end of input, then ends the process (status 0).
/// Reads are as large as the buffer's free space, and each read's complete
/// lines go back with one write.
///
/// read/write, not recv/send: they work on pipes too, and SIGPIPE is ignored
/// in every process that writes (see `serve`).
fn child_run(input: BorrowedFd<'_>, out: BorrowedFd<'_>, line: sys::LineBuffer) -> ! {
    let mut lines = Lines::new(line);
    loop {
        let n = match rustix::io::read(input, lines.space()) {
            Ok(0) => break,
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(e) => {
                // A timeout (-t) or a reset: the reply is still exactly
                // rot13 of what arrived, so the partial line goes out
                // first, if the peer takes it.
                write_all(out, lines.held());
                end(e)
            }
        };
        let k = lines.arrived(n);
        if k > 0 {
            write_all(out, lines.ready(k));
            lines.sent(k);
        }
    }
    write_all(out, lines.held());
    sys::exit(0)
}

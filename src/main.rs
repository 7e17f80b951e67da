//! rot13d: the tutorial's fork-per-connection ROT13 server, as a `no_std`
//! binary. The C program's landmarks keep their names: `main` (here
//! [`rot13d_main`]), `tcp_server_listen` (`listen`), the accept loop
//! (`serve`), `sigchld_handler` (`serve`), `child_run` (`session`) and
//! `rot13_char` (in the library, with the rest of the pure logic).
//!
//! The layers, each calling only those below it:
//! - the server: this file, `listen`, `serve`, `session`, `users`,
//!   `confine`, `signals`, `log`, and its state in `state`;
//! - the library (`rot13d::*`): options, addresses, rules, framing, ROT13,
//!   the seccomp tables, /etc/passwd lines; no system calls;
//! - the platform: `sys` (the system calls rustix does not wrap, the entry
//!   point of each build, which enters the program through `rot13d_main`)
//!   and `arch` (instructions only).
#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod arch;
mod confine;
mod listen;
mod log;
mod serve;
mod session;
mod signals;
mod state;
mod sys;
mod users;

use crate::listen::Started;
use crate::session::{Conn, Origin};
use crate::state::LOG;
use core::sync::atomic::Ordering::Relaxed;
use rot13d::activation::{self, Bad};
use rot13d::msg::Msg;
use rot13d::opts::{self, Command, Config, Log, Mode};
use rot13d::status::Status;

/// The seed's `main`: the command line, how rot13d was started, then a
/// server or one session. The platform calls it once, on the program's own
/// stack, and exits with what it returns.
#[allow(unsafe_code)] // `no_mangle`: the one door from the platform into the program
#[unsafe(no_mangle)]
fn rot13d_main(mut args: sys::CStrs, env: sys::CStrs) -> i32 {
    // A known signal mask first, whatever the launcher left (see `signals`).
    signals::set_mask();
    args.next(); // the program's name
    let mut cfg = Config::default();
    match opts::parse(args, &mut cfg) {
        Ok(Command::Serve) => {}
        Ok(Command::Help) => return print(&opts::HELP).code(),
        Ok(Command::Version) => return print(opts::VERSION).code(),
        Err(u) => log::usage(u),
    }
    LOG.verbose.store(cfg.log == Log::Verbose, Relaxed);
    // Sockets a service manager passed, as sd_listen_fds reads them.
    let pid = || rustix::process::getpid().as_raw_pid() as u32;
    let passed = match activation::passed(env, pid) {
        Ok(p) => p,
        Err(Bad(var, value, why)) => {
            log::die(Status::Failed, Msg::new(var).push(b"=").shown(value).push(b": ").push(why))
        }
    };
    // Whatever else the launcher left open (a pipe, a sibling's socket) is
    // not ours: closed before any child could inherit it.
    close_inherited(activation::FIRST_FD + passed.map_or(0, |p| p.count as i32));
    let started = listen::how_started(&cfg, passed);
    let mode = started.mode();
    if let Some(u) = cfg.misplaced(mode) {
        log::usage(u);
    }
    let ids = cfg.user.map(users::resolve);
    if let Started::Session { input, output, .. } = started {
        // A log line must never reach the client: inetd hands the socket
        // over as stderr too.
        LOG.silent.store(listen::stderr_is(input), Relaxed);
        let how = confine::without_server_filter();
        let conn = Conn { input: sys::stdio(input), output: sys::stdio(output), origin: Origin::Given };
        session::session(conn, &cfg, ids.as_ref(), how)
    }
    signals::handle(serve::sigchld_handler);
    if mode == Mode::Passed {
        listen::plug_stdio();
    }
    let listeners = listen::listeners(&started, &cfg);
    if let Some(ids) = &ids {
        users::drop_privileges(ids);
    }
    listen::announce(&listeners, &cfg);
    // Only the parent uses its table of sessions: kept out of children.
    sys::dont_fork(&state::SESSIONS);
    let how = confine::confine_server(cfg.log == Log::Verbose);
    serve::serve(listeners, &cfg, ids.as_ref(), how)
}

/// `-h` or `-V`: `text` on stdout; how it went: written, or the reader
/// simply gone (`rot13d -h | head -1`) is Ok, any other failure not.
fn print(mut text: &[u8]) -> Status {
    while !text.is_empty() {
        match rustix::io::write(sys::stdio(1), text) {
            Ok(n) => text = &text[n..],
            Err(sys::Errno::INTR) => {}
            Err(sys::Errno::PIPE) => return Status::Ok,
            Err(_) => return Status::Failed,
        }
    }
    Status::Ok
}

/// Closes every fd from `first` on: with close_range where the kernel has
/// it (Linux 5.9); before, one by one, every number below the open-files
/// limit's maximum (an fd can only be above the current limit if it was
/// lowered after it was opened), at most 2^20 (the kernel's own default
/// ceiling, `fs.nr_open`).
fn close_inherited(first: i32) {
    if sys::close_range(first as u32).is_err() {
        let most = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum.unwrap_or(u64::MAX);
        for fd in first..most.min(1 << 20) as i32 {
            sys::close_inherited(fd);
        }
    }
}

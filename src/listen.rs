//! Where the connections come from (rot13d(8), SOCKET ACTIVATION): the
//! sockets rot13d binds itself (the seed's `tcp_server_listen`), those a
//! service manager passed, or the one connection it was given.

use crate::log::{self, die, must};
use crate::sys::{self, AsFd, Errno, OwnedFd};
use rot13d::MAX_LISTENERS;
use rot13d::activation::{FIRST_FD, Passed};
use rot13d::addr::Ip;
use rot13d::msg::Msg;
use rot13d::opts::{Config, Log, Mode, Usage};
use rot13d::status::Status;
use rustix::fd::AsRawFd;
use rustix::net::sockopt;
use rustix::net::{self, AddressFamily, SocketAddrAny, SocketFlags, SocketType};

/// A peer, or a socket's own address: an IP address and port, or a Unix
/// socket's, which has none to show.
#[derive(Clone, Copy)]
pub enum Peer {
    Ip(Ip, u16),
    Local,
}

impl Peer {
    /// What a socket address from accept, getpeername or getsockname is.
    pub fn of(addr: Option<&SocketAddrAny>) -> Peer {
        match addr.and_then(|a| core::net::SocketAddr::try_from(a.clone()).ok()) {
            Some(core::net::SocketAddr::V4(a)) => Peer::Ip(Ip::v4(a.ip().octets()), a.port()),
            Some(core::net::SocketAddr::V6(a)) => Peer::Ip(Ip::v6(a.ip().octets()), a.port()),
            None => Peer::Local,
        }
    }

    /// Appends it as a person reads it: an IPv4 client as IPv4, even when
    /// it came in over an IPv6 socket.
    pub fn show<'m>(&self, m: &'m mut Msg) -> &'m mut Msg {
        match *self {
            Peer::Ip(ip, port) => m.sockaddr(Ip { v6: ip.v6 && ip.ipv4().is_none(), ..ip }, port),
            Peer::Local => m.push(b"unix"),
        }
    }
}

/// A listening socket, with what the log calls it.
pub struct Listener {
    pub fd: OwnedFd,
    /// Its address: the port the kernel chose for `-p 0`, or the one a
    /// service manager bound (asked only where there is a log to say it:
    /// not under `-q`).
    addr: Peer,
    /// Its name from the service manager (`LISTEN_FDNAMES`), if any.
    name: Option<&'static [u8]>,
}

impl Listener {
    fn new(fd: OwnedFd, name: Option<&'static [u8]>, cfg: &Config) -> Self {
        let addr = if cfg.log == Log::Quiet { Peer::Local } else { Peer::of(net::getsockname(&fd).ok().as_ref()) };
        Listener { fd, addr, name }
    }

    /// Appends what the log calls it: its address, or its fd for a Unix
    /// socket; and its name.
    pub fn show<'m>(&self, m: &'m mut Msg) -> &'m mut Msg {
        match self.addr {
            Peer::Ip(ip, port) => m.sockaddr(ip, port),
            Peer::Local => m.push(b"fd ").num(self.fd.as_raw_fd() as u64),
        };
        if let Some(name) = self.name {
            m.push(b" (").shown(name).push(b")");
        }
        m
    }
}

/// The listening sockets, in the order given, and what the accept loop
/// waits on: each for a connection.
pub struct Listeners {
    list: [Option<Listener>; MAX_LISTENERS],
    len: usize,
    pub polls: [sys::PollFd; MAX_LISTENERS],
}

impl Listeners {
    fn push(&mut self, l: Listener) {
        if let (Some(slot), Some(poll)) = (self.list.get_mut(self.len), self.polls.get_mut(self.len)) {
            *poll = sys::PollFd::new(l.fd.as_fd(), linux_raw_sys::general::POLLIN);
            *slot = Some(l);
            self.len += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The `i`-th (from 0).
    pub fn get(&self, i: usize) -> Option<&Listener> {
        self.list.get(i)?.as_ref()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Listener> {
        self.list.iter().flatten()
    }

    /// Closes them all: a child's first step, so that it holds only its
    /// connection.
    pub fn close(&mut self) {
        self.list = [const { None }; MAX_LISTENERS];
    }
}

/// How rot13d was started, with what it serves.
pub enum Started {
    /// `-l` and `-p`: sockets to make.
    Standalone,
    /// Listening sockets from a service manager.
    Passed(Passed<'static>),
    /// One connection: stdin and stdout under `-i`, or fd 3 from a service
    /// manager (`Accept=yes`, or `systemd-socket-activate --accept`).
    Session { input: i32, output: i32, mode: Mode },
}

impl Started {
    pub fn mode(&self) -> Mode {
        match self {
            Started::Standalone => Mode::Standalone,
            Started::Passed(_) => Mode::Passed,
            Started::Session { mode, .. } => *mode,
        }
    }
}

/// Whether fd `fd`, passed by a service manager, is a listening socket
/// (true) or a connection (false); anything but a stream socket is an
/// error.
fn listening(fd: i32) -> Result<bool, Errno> {
    match sockopt::socket_type(sys::stdio(fd))? {
        SocketType::STREAM => sockopt::socket_acceptconn(sys::stdio(fd)),
        // A datagram socket: what accept would say.
        _ => Err(Errno::OPNOTSUPP),
    }
}

/// How rot13d was started: `-i`, the sockets passed (already read from the
/// environment), or neither. Passed fds that cannot be served end rot13d
/// (status 1), naming the fd: anything but stream sockets, and anything
/// but one connection or listening sockets only.
pub fn how_started(cfg: &Config, passed: Option<Passed<'static>>) -> Started {
    let Some(p) = passed else {
        return if cfg.inetd {
            Started::Session { input: 0, output: 1, mode: Mode::Inetd }
        } else {
            Started::Standalone
        };
    };
    let mut listeners = true;
    for fd in FIRST_FD..FIRST_FD + p.count as i32 {
        let mut m = Msg::new(b"LISTEN_FDS: fd ");
        m.num(fd as u64).push(b": ");
        match listening(fd) {
            Ok(true) => continue,
            Ok(false) if p.count == 1 => listeners = false,
            Ok(false) => die(Status::Failed, m.push(b"a connection among other sockets")),
            Err(e) => die(Status::Failed, m.errno(e.raw_os_error())),
        }
    }
    match (listeners, cfg.inetd) {
        (true, false) => Started::Passed(p),
        // `systemd-socket-activate --accept rot13d -i`: the connection is
        // fd 3, and stdin is the launcher's.
        (false, inetd) => Started::Session {
            input: FIRST_FD,
            output: FIRST_FD,
            mode: if inetd { Mode::Inetd } else { Mode::PassedConnection },
        },
        (true, true) => log::usage(Usage::of(b'i', b"", b"LISTEN_FDS passes listening sockets: leave -i out")),
    }
}

/// A stream socket for `family`, non-blocking (the accept loop waits in
/// ppoll, never in accept), and never on fd 0, 1 or 2: the kernel gives
/// the lowest free number, so below 3 the launcher closed stdin, stdout or
/// stderr. Left free, that number would go to a connection, and a log line
/// to a client; a socket that is never connected (writes to it fail) stays
/// there as a stopper instead.
fn new_socket(family: AddressFamily) -> rustix::io::Result<OwnedFd> {
    loop {
        let fd = net::socket_with(family, SocketType::STREAM, SocketFlags::NONBLOCK, None)?;
        if fd.as_raw_fd() >= 3 {
            return Ok(fd);
        }
        core::mem::forget(fd);
    }
}

/// The seed's `tcp_server_listen`: a socket, SO_REUSEADDR, bind, listen,
/// for one `-l` address. `::` takes IPv4 clients too, unless an IPv4
/// address is also given (that socket takes them).
pub fn tcp_server_listen(mut ip: Ip, cfg: &Config) -> OwnedFd {
    let any = ip == Ip::v6([0; 16]);
    let fd = loop {
        match new_socket(if ip.v6 { AddressFamily::INET6 } else { AddressFamily::INET }) {
            Ok(fd) => break fd,
            // A kernel without IPv6 (common on small embedded ones) has only
            // 0.0.0.0 to offer for `::`; the startup line says so.
            Err(Errno::AFNOSUPPORT) if any => ip = Ip::v4([0; 4]),
            Err(e) => log::fail(b"socket", e),
        }
    };
    // Restart at once on a port whose old connections linger in
    // TIME_WAIT; with -r, share the port; on `::`, take IPv4 or not,
    // whatever net.ipv6.bindv6only says.
    let v4_too = cfg.addresses().iter().any(|a| !a.v6);
    let set = sockopt::set_socket_reuseaddr(&fd, true)
        .and_then(|()| if cfg.reuseport { sockopt::set_socket_reuseport(&fd, true) } else { Ok(()) })
        .and_then(|()| if any && ip.v6 { sockopt::set_ipv6_v6only(&fd, v4_too) } else { Ok(()) });
    must(set, b"setsockopt");
    let bound = match ip.ipv4().filter(|_| !ip.v6) {
        Some(a) => net::bind(&fd, &net::SocketAddrV4::new(a.into(), cfg.port)),
        None => net::bind(&fd, &net::SocketAddrV6::new(ip.bytes.into(), cfg.port, 0, 0)),
    };
    if let Err(e) = bound {
        let mut m = Msg::new(b"bind ");
        die(Status::Failed, m.sockaddr(ip, cfg.port).push(b": ").errno(e.raw_os_error()))
    }
    must(net::listen(&fd, cfg.backlog as i32), b"listen");
    fd
}

/// The listening sockets: made from `-l` and `-p`, or those passed (made
/// non-blocking, as the loop needs; a service manager does not mind).
pub fn listeners(started: &Started, cfg: &Config) -> Listeners {
    let mut all = Listeners {
        list: [const { None }; MAX_LISTENERS],
        len: 0,
        polls: [const { sys::PollFd::unused() }; MAX_LISTENERS],
    };
    if let Started::Passed(p) = started {
        for i in 0..p.count {
            let fd = sys::own_fd(FIRST_FD + i as i32);
            must(rustix::io::ioctl_fionbio(&fd, true), b"ioctl FIONBIO");
            all.push(Listener::new(fd, p.name(i), cfg));
        }
    } else {
        for &ip in cfg.addresses() {
            all.push(Listener::new(tcp_server_listen(ip, cfg), None, cfg));
        }
    }
    all
}

/// The startup line, one for each listener: `rot13d: listening on
/// [::]:50005`. Not under `-q`.
pub fn announce(listeners: &Listeners, cfg: &Config) {
    if cfg.log != Log::Quiet {
        for l in listeners.iter() {
            log::say(l.show(&mut Msg::new(b"listening on ")));
        }
    }
}

/// With listening sockets passed, rot13d makes no socket of its own, so
/// nothing else fills a closed stdin, stdout or stderr before a connection
/// would: pipes fill them here, until a pipe lands above them (a pipe
/// needs no address family a unit may forbid; its read end takes no
/// write, so a log line to a closed stderr still goes nowhere).
pub fn plug_stdio() {
    while let Ok((r, w)) = rustix::pipe::pipe() {
        let full = w.as_raw_fd() >= 3;
        for fd in [r, w] {
            if fd.as_raw_fd() < 3 {
                core::mem::forget(fd); // a stopper, for good
            }
        }
        if full {
            return;
        }
    }
}

/// Whether the stderr of a session is its connection (inetd hands the
/// socket over as fds 0, 1 and 2): the same file as `conn`.
pub fn stderr_is(conn: i32) -> bool {
    match (rustix::fs::fstat(sys::stdio(2)), rustix::fs::fstat(sys::stdio(conn))) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
        _ => false,
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> sys::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

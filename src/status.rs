//! Exit statuses (rot13d(8), EXIT STATUS), named once. The server and a
//! session (a forked child, or the process under `-i`) use the same
//! numbers, each for its own reasons.

/// How a process of rot13d ends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(i32)]
pub enum Status {
    /// The server: ended on SIGTERM or SIGINT, or printed `-h`/`-V`.
    /// A session: end of input, the peer went away, or a rule refused it.
    Ok = 0,
    /// The server: could not start (a socket, bind, listen, the sockets it
    /// was passed, the user to run as, its confinement), or `-h`/`-V`
    /// output failed. A session: a `-t` timeout, another read or write
    /// error, or its confinement failed (it then reads nothing).
    Failed = 1,
    /// A usage error: the command line is wrong, or an option cannot work
    /// where rot13d was started.
    Usage = 2,
    /// A bug: a panic (EX_SOFTWARE).
    Bug = 70,
}

impl Status {
    /// The number the process exits with.
    pub const fn code(self) -> i32 {
        self as i32
    }
}

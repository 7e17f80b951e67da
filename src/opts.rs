//! The command line, parsed getopt-style: `-p 80` or `-p80`, flags clustered
//! (`-qr`), `--` ends the options, `--help` and `--version` as everywhere;
//! anything else is a usage error (exit status 2).
//!
//! Which options make sense depends on how the server was started, which
//! only `main` knows (socket activation comes from the environment), so the
//! parser records what was given and [`Config::check`] refuses what does not
//! apply to the mode found.

use crate::addr::{parse_ip, parse_num, Ip};
use crate::msg::Msg;
use crate::users::{parse_ids, Ids};

/// The most listening sockets: `-l` given this often, or as many sockets
/// passed by systemd (`LISTEN_FDS`).
pub const MAX_LISTEN: usize = 16;

/// What the startup line and the log say.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Log {
    /// `-q`: no startup line (errors are still reported).
    Quiet,
    /// The startup line and errors.
    Normal,
    /// `-v`: also a line per connection start, end and refusal.
    Verbose,
}

/// Everything the server is asked to do, with the defaults filled in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Config<'a> {
    /// `-i`: one session on stdin and stdout.
    pub inetd: bool,
    pub log: Log,
    /// `-r`: SO_REUSEPORT.
    pub reuseport: bool,
    /// `-l`, in the order given (the first `listen_count` of them).
    pub listen: [Ip; MAX_LISTEN],
    pub listen_count: usize,
    /// `-p`: the TCP port (0: the kernel chooses), at most 65535.
    pub port: u32,
    /// `-b`: the listen backlog.
    pub backlog: u32,
    /// `-c`: the most sessions at once.
    pub max: u32,
    /// `-C`: the most sessions at once from one address (0: no limit).
    pub per_host: u32,
    /// `-t`: the idle timeout in seconds (0: none).
    pub timeout: u32,
    /// `-u USER[:GROUP]`, names or numbers, resolved by `main`.
    pub ids: Option<Ids<'a>>,
    /// Which options were given, for [`Config::check`].
    pub given: Given,
}

/// A set of option letters.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Given(u64);

impl Given {
    fn bit(opt: u8) -> u64 {
        1u64.wrapping_shl(opt.wrapping_sub(b'A') as u32)
    }
    pub fn add(&mut self, opt: u8) {
        self.0 |= Self::bit(opt);
    }
    pub fn remove(&mut self, opt: u8) {
        self.0 &= !Self::bit(opt);
    }
    pub fn has(&self, opt: u8) -> bool {
        self.0 & Self::bit(opt) != 0
    }
}

impl Config<'_> {
    /// The `-l` addresses given (none: listen on the default).
    pub fn addresses(&self) -> &[Ip] {
        self.listen.get(..self.listen_count).unwrap_or(&[])
    }

    /// Refuses the options that mean nothing in `mode`: with one session
    /// (`-i`, or a connection passed as fd 3) there is no listener and no
    /// second connection to limit or log; sockets passed by systemd are
    /// already bound and listening.
    #[inline(never)]
    pub fn check(&self, mode: Mode) -> Result<(), Usage<'static>> {
        let (refused, why): (&[u8], &'static [u8]) = match mode {
            Mode::Standalone => return Ok(()),
            Mode::Session if self.inetd => (b"lpbrcCv", b"does not apply to -i"),
            Mode::Session => (b"lpbrcCv", b"does not apply to a connection on fd 3"),
            Mode::Activated => (b"lpbr", b"does not apply to sockets from systemd"),
        };
        for &opt in refused {
            if self.given.has(opt) {
                return Err(Usage { why: b"", opt, arg: why });
            }
        }
        Ok(())
    }
}

/// How the server was started, as `main` finds it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Binds and listens itself.
    Standalone,
    /// Serves one connection it was given: `-i`, or systemd `Accept=yes`.
    Session,
    /// Accepts on listening sockets passed by systemd (`Accept=no`).
    Activated,
}

impl Default for Config<'_> {
    fn default() -> Self {
        Config {
            inetd: false,
            log: Log::Normal,
            reuseport: false,
            listen: [Ip::v4([0; 4]); MAX_LISTEN],
            listen_count: 0,
            port: 50005,
            backlog: 1024,
            max: 256,
            per_host: 0,
            timeout: 0,
            ids: None,
            given: Given(0),
        }
    }
}

/// What the command line asks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Command {
    /// Serve, as the `Config` filled in says.
    Serve,
    /// `-h`, `-V`: print this on stdout and exit.
    Print(&'static [u8]),
}

/// A usage error: what was wrong, with which option (0: none), and the
/// argument that was.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Usage<'a> {
    pub why: &'static [u8],
    pub opt: u8,
    pub arg: &'a [u8],
}

impl Usage<'_> {
    /// Appends the one-line message, with the hint, e.g.
    /// `rot13d: bad value for -p: 70000 (rot13d -h for help)`.
    pub fn msg<'m>(&self, m: &'m mut Msg) -> &'m mut Msg {
        m.push(self.why);
        if self.opt != 0 {
            m.push(&[b'-', self.opt]);
            if !self.arg.is_empty() {
                m.push(if self.why.is_empty() { b" " } else { b": " });
            }
        }
        m.push(self.arg).push(b" (rot13d -h for help)")
    }
}

/// `-h` and `--help` print this to stdout: every option with its range and
/// default. The man page, rot13d(8), has the rest.
pub const HELP: &[u8] = b"usage: rot13d [-iqvr] [-l ADDR]... [-p PORT] [-b N] [-c N] [-C N] [-t SECS]
              [-u USER[:GROUP]]      (each line back in ROT13; see rot13d(8))
 -l ADDR  numeric IPv4/IPv6, up to 16 (default ::, or 0.0.0.0 without IPv6)
 -p PORT  0-65535, 0: any (default 50005)   -b N  backlog 0-65535 (default 1024)
 -c N     sessions 1-65535 (default 256)    -C N  per client 0-65535 (default 0: any)
 -t SECS  idle limit 0-4294967295 (default 0: none)
 -u USER[:GROUP]  ids after listening   -r  SO_REUSEPORT   -i  inetd mode
 -q  no startup line   -v  log sessions   -h --help   -V --version
";

/// `-V` and `--version` print this to stdout.
pub const VERSION: &[u8] = concat!("rot13d ", env!("CARGO_PKG_VERSION"), "\n").as_bytes();

/// Parses the arguments after the program name into `c`, which holds the
/// defaults (filled in place: no copy of the config is made).
pub fn parse<'a, I: Iterator<Item = &'a [u8]>>(mut args: I, c: &mut Config<'a>) -> Result<Command, Usage<'a>> {
    // After `--` every argument is an unexpected one, as is a bare `-`.
    let mut ended = false;
    while let Some(arg) = args.next() {
        let mut flags = match arg {
            b"--help" if !ended => return Ok(Command::Print(HELP)),
            b"--version" if !ended => return Ok(Command::Print(VERSION)),
            [b'-', flags @ ..] if !ended && !flags.is_empty() => flags,
            _ => return Err(Usage { why: b"unexpected argument: ", opt: 0, arg }),
        };
        if flags == b"-" {
            ended = true;
            continue;
        }
        if flags.first() == Some(&b'-') {
            return Err(Usage { why: b"unknown option: ", opt: 0, arg });
        }
        while let [opt, rest @ ..] = flags {
            let opt = *opt;
            flags = rest;
            c.given.add(opt);
            match opt {
                b'i' => c.inetd = true,
                // The last of -q and -v wins.
                b'q' => {
                    c.log = Log::Quiet;
                    c.given.remove(b'v');
                }
                b'v' => c.log = Log::Verbose,
                b'r' => c.reuseport = true,
                b'h' => return Ok(Command::Print(HELP)),
                b'V' => return Ok(Command::Print(VERSION)),
                _ => {
                    if !b"lpbcCtu".contains(&opt) {
                        return Err(Usage { why: b"unknown option ", opt, arg: b"" });
                    }
                    // The value is the rest of this argument, or the next one.
                    let val = match rest {
                        [] => args.next().ok_or(Usage { why: b"missing value for ", opt, arg: b"" })?,
                        v => v,
                    };
                    set(c, opt, val).map_err(|why| Usage { why, opt, arg: val })?;
                    flags = &[];
                }
            }
        }
    }
    Ok(Command::Serve)
}

impl Config<'_> {
    /// The field of numeric option `opt`, with its least and greatest value.
    fn number(&mut self, opt: u8) -> Option<(&mut u32, u32, u32)> {
        Some(match opt {
            b'p' => (&mut self.port, 0, 65535),
            b'b' => (&mut self.backlog, 0, 65535),
            b'c' => (&mut self.max, 1, 65535),
            b'C' => (&mut self.per_host, 0, 65535),
            b't' => (&mut self.timeout, 0, u32::MAX),
            _ => return None,
        })
    }
}

/// Sets option `opt` from its value `val`, or says what is wrong with it.
#[inline(never)]
fn set<'a>(c: &mut Config<'a>, opt: u8, val: &'a [u8]) -> Result<(), &'static [u8]> {
    const BAD: &[u8] = b"bad value for ";
    if let Some((field, least, most)) = c.number(opt) {
        *field = parse_num(val, most).filter(|&n| n >= least).ok_or(BAD)?;
        return Ok(());
    }
    match opt {
        b'l' => {
            let slot = c.listen.get_mut(c.listen_count).ok_or(&b"too many addresses (at most 16) for "[..])?;
            // A host name gets a hint, not a lookup: the server has no
            // resolver (and runs where there may be no /etc/hosts).
            *slot = parse_ip(val).ok_or(&b"a numeric address (127.0.0.1, ::1; no %scope) is needed for "[..])?;
            c.listen_count += 1;
        }
        _ => c.ids = Some(parse_ids(val).ok_or(BAD)?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::Id;

    fn p(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(|a| a.as_bytes()), &mut Config::default()).map_err(|u| String::from_utf8(u.msg(&mut Msg::new()).line().to_vec()).unwrap())
    }

    fn cfg<'a>(args: &[&'a str]) -> Config<'a> {
        let mut c = Config::default();
        match parse(args.iter().map(|a| a.as_bytes()), &mut c) {
            Ok(Command::Serve) => c,
            _ => panic!("{args:?}"),
        }
    }

    fn v6(s: &str) -> Ip {
        Ip::v6(s.parse::<std::net::Ipv6Addr>().unwrap().octets())
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]);
        assert_eq!((c.port, c.backlog, c.max, c.per_host, c.timeout), (50005, 1024, 256, 0, 0));
        assert_eq!((c.inetd, c.log, c.reuseport, c.ids, c.addresses()), (false, Log::Normal, false, None, &[][..]));
    }

    #[test]
    fn every_option_both_spellings() {
        let a = cfg(&["-l", "::1", "-p", "0", "-b", "5", "-c", "3", "-C", "2", "-t", "9", "-u", "65534:100", "-r", "-i", "-v"]);
        let b = cfg(&["-l::1", "-p0", "-b5", "-c3", "-C2", "-t9", "-u65534:100", "-riv"]);
        assert_eq!(a, b);
        for o in *b"lpbcCturiv" {
            assert!(a.given.has(o), "{}", o as char);
        }
        assert!(!a.given.has(b'q') && !cfg(&[]).given.has(b'l'));
        assert_eq!(a.addresses(), &[v6("::1")]);
        assert_eq!((a.port, a.backlog, a.max, a.per_host, a.timeout), (0, 5, 3, 2, 9));
        assert_eq!(a.ids, Some(Ids { user: Id::Num(65534), group: Some(Id::Num(100)) }));
        assert_eq!((a.reuseport, a.inetd, a.log), (true, true, Log::Verbose));
        assert_eq!(cfg(&["-u", "nobody:nogroup"]).ids, Some(Ids { user: Id::Name(b"nobody"), group: Some(Id::Name(b"nogroup")) }));
        assert_eq!(cfg(&["-u", "7"]).ids, Some(Ids { user: Id::Num(7), group: None }));
        assert_eq!(cfg(&["-v", "-q"]).log, Log::Quiet);
        assert_eq!(cfg(&["-qv"]).log, Log::Verbose);
        assert_eq!(cfg(&["-qp", "80"]).port, 80);
        assert_eq!(cfg(&["-t", "4294967295"]).timeout, u32::MAX);
        assert_eq!(cfg(&["-c", "65535"]).max, 65535);
        assert_eq!(cfg(&["-c", "1"]).max, 1);
        assert_eq!(cfg(&["--"]).port, 50005);
    }

    #[test]
    fn several_addresses() {
        let c = cfg(&["-l", "127.0.0.1", "-l", "::1", "-l", "::"]);
        assert_eq!(c.addresses(), &[Ip::v4([127, 0, 0, 1]), v6("::1"), v6("::")]);
        let sixteen: Vec<&str> = (0..16).flat_map(|_| ["-l", "127.0.0.1"]).collect();
        assert_eq!(cfg(&sixteen).addresses().len(), 16);
        let mut seventeen = sixteen.clone();
        seventeen.extend(["-l", "::1"]);
        assert_eq!(p(&seventeen), Err("rot13d: too many addresses (at most 16) for -l: ::1 (rot13d -h for help)\n".into()));
    }

    #[test]
    fn help_and_version() {
        for h in ["-h", "--help"] {
            assert_eq!(p(&[h]), Ok(Command::Print(HELP)));
        }
        for v in ["-V", "--version"] {
            assert_eq!(p(&[v]), Ok(Command::Print(VERSION)));
        }
        assert_eq!(p(&["-p", "1", "-V", "-x"]), Ok(Command::Print(VERSION)));
        assert!(VERSION.starts_with(b"rot13d 0."));
        // Every option letter the parser takes is in the help, with its range.
        let help = std::str::from_utf8(HELP).unwrap();
        for o in ["-l ADDR", "-p PORT", "-b N", "-c N", "-C N", "-t SECS", "-u USER", "-r", "-i", "-q", "-v", "-h", "-V"] {
            assert!(help.contains(o), "{o}");
        }
        assert!(help.lines().all(|l| l.len() <= 80));
    }

    #[test]
    fn usage_errors_say_what_and_hint() {
        let cases = [
            (&["-x"][..], "rot13d: unknown option -x (rot13d -h for help)\n"),
            (&["--frobnicate"], "rot13d: unknown option: --frobnicate (rot13d -h for help)\n"),
            (&["-p"], "rot13d: missing value for -p (rot13d -h for help)\n"),
            (&["-qp"], "rot13d: missing value for -p (rot13d -h for help)\n"),
            (&["-p", "70000"], "rot13d: bad value for -p: 70000 (rot13d -h for help)\n"),
            (&["-p", "abc"], "rot13d: bad value for -p: abc (rot13d -h for help)\n"),
            (&["-l", "1.2.3.256"], "rot13d: a numeric address (127.0.0.1, ::1; no %scope) is needed for -l: 1.2.3.256 (rot13d -h for help)\n"),
            (&["-l", "localhost"], "rot13d: a numeric address (127.0.0.1, ::1; no %scope) is needed for -l: localhost (rot13d -h for help)\n"),
            (&["-l", "fe80::1%eth0"], "rot13d: a numeric address (127.0.0.1, ::1; no %scope) is needed for -l: fe80::1%eth0 (rot13d -h for help)\n"),
            (&["-c", "0"], "rot13d: bad value for -c: 0 (rot13d -h for help)\n"),
            (&["-c", "65536"], "rot13d: bad value for -c: 65536 (rot13d -h for help)\n"),
            (&["-C", "x"], "rot13d: bad value for -C: x (rot13d -h for help)\n"),
            (&["-t", "-1"], "rot13d: bad value for -t: -1 (rot13d -h for help)\n"),
            (&["-b", ""], "rot13d: bad value for -b (rot13d -h for help)\n"),
            (&["-u", "1:"], "rot13d: bad value for -u: 1: (rot13d -h for help)\n"),
            (&["-u", ""], "rot13d: bad value for -u (rot13d -h for help)\n"),
            (&["-u", "4294967295"], "rot13d: bad value for -u: 4294967295 (rot13d -h for help)\n"),
            (&["foo"], "rot13d: unexpected argument: foo (rot13d -h for help)\n"),
            (&["-"], "rot13d: unexpected argument: - (rot13d -h for help)\n"),
            (&["--", "-p"], "rot13d: unexpected argument: -p (rot13d -h for help)\n"),
            (&["--", "--help"], "rot13d: unexpected argument: --help (rot13d -h for help)\n"),
        ];
        for (args, want) in cases {
            assert_eq!(p(args), Err(want.to_string()), "{args:?}");
        }
    }

    #[test]
    fn options_that_do_not_apply_are_refused() {
        let check = |args: &[&str], mode| {
            cfg(args).check(mode).map_err(|u| String::from_utf8(u.msg(&mut Msg::new()).line().to_vec()).unwrap())
        };
        // Every option works standalone.
        assert_eq!(check(&["-l", "::1", "-p", "1", "-b", "1", "-r", "-c", "1", "-C", "1", "-v", "-t", "1", "-u", "1"], Mode::Standalone), Ok(()));
        // A session takes -t, -u, -q.
        assert_eq!(check(&["-i", "-t", "5", "-u", "1", "-q"], Mode::Session), Ok(()));
        for o in [&["-p", "1"][..], &["-l", "::1"], &["-b", "1"], &["-r"], &["-c", "1"], &["-C", "1"], &["-v"]] {
            let mut args = vec!["-i"];
            args.extend(o);
            let e = check(&args, Mode::Session).unwrap_err();
            assert_eq!(e, format!("rot13d: {} does not apply to -i (rot13d -h for help)\n", o[0]));
            let e = check(o, Mode::Session).unwrap_err();
            assert_eq!(e, format!("rot13d: {} does not apply to a connection on fd 3 (rot13d -h for help)\n", o[0]));
        }
        // Passed listeners take the limits and the log, not the address.
        assert_eq!(check(&["-c", "1", "-C", "1", "-v", "-t", "1", "-u", "1"], Mode::Activated), Ok(()));
        for o in [&["-p", "1"][..], &["-l", "::1"], &["-b", "1"], &["-r"]] {
            let e = check(o, Mode::Activated).unwrap_err();
            assert_eq!(e, format!("rot13d: {} does not apply to sockets from systemd (rot13d -h for help)\n", o[0]));
        }
    }
}

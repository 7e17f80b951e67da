//! The command line (rot13d(8), OPTIONS), parsed getopt-style: `-p 80` or `-p80`, flags
//! clustered (`-qr`), `--` ends the options; anything else is a usage error.

use crate::addr::{parse_ip, parse_num, Ip};
/// `-a` and `-d`: in the default build; the static one has no room for
/// them (rot13d(8), ACCESS RULES), and there they are unknown options.
pub const RULES: bool = cfg!(not(feature = "nolibc"));
#[cfg(not(feature = "nolibc"))]
pub use crate::rules::Rules;
#[cfg(feature = "nolibc")]
pub use crate::rules::NoRules as Rules;
use crate::msg::Msg;

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

/// Everything the server is asked to do.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Config {
    /// `-p`: the TCP port, 0-65535 (0: the kernel chooses).
    pub port: u32,
    /// `-b`: the listen backlog, 0-65535.
    pub backlog: u32,
    /// `-c`: the most sessions at once, 1-65535.
    pub max: u32,
    /// `-C`: the most sessions at once from one address, 0-65535 (0: no limit).
    pub per_host: u32,
    /// `-t`: the idle timeout in seconds (0: none).
    pub timeout: u32,
    pub inetd: bool,
    pub log: Log,
    pub reuseport: bool,
    pub ip: Ip,
    /// `-u UID[:GID]`.
    pub ids: Option<(u32, u32)>,
    /// `-a` and `-d`, in the order given.
    pub rules: Rules,
    /// Which options were given, for [`Config::misplaced`].
    pub given: Given,
}

/// A set of option letters.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Given(u64);

impl Given {
    /// Bit `opt - 'A'` stands for letter `opt` (any from `A` to `z`).
    const fn bit(opt: u8) -> u64 {
        1u64.wrapping_shl(opt.wrapping_sub(b'A') as u32)
    }
    /// The set of `letters`.
    const fn of(letters: &[u8]) -> Given {
        let (mut set, mut i) = (0, 0);
        while i < letters.len() {
            set |= Self::bit(letters[i]);
            i += 1;
        }
        Given(set)
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
    /// The first letter (in ASCII order) of `set` that is in this one.
    fn first_of(&self, set: Given) -> Option<u8> {
        let both = self.0 & set.0;
        (both != 0).then(|| b'A' + both.trailing_zeros() as u8)
    }
}

/// How the server was started, as `main` finds it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Binds and listens itself.
    Standalone,
    /// Serves one connection it was given: `-i`, or systemd `Accept=yes`.
    Session,
    /// Accepts on a listening socket passed by systemd (`Accept=no`).
    Activated,
}

impl Config {
    /// The first option given that means nothing in `mode`, which would
    /// otherwise be ignored without a word: with one session (`-i`, or a
    /// connection passed as fd 3) there is no listener and no second
    /// connection to limit or log; a socket passed by systemd is already
    /// bound and listening.
    pub fn misplaced(&self, mode: Mode) -> Option<u8> {
        const NO_LISTENER: Given = Given::of(b"lpbr");
        const ONE_SESSION: Given = Given::of(b"lpbrcCv");
        let refused = match mode {
            Mode::Standalone => Given(0),
            Mode::Session => ONE_SESSION,
            Mode::Activated => NO_LISTENER,
        };
        self.given.first_of(refused)
    }

}

impl Default for Config {
    fn default() -> Self {
        Config {
            inetd: false,
            log: Log::Normal,
            reuseport: false,
            ip: Ip::v6([0; 16]),
            ids: None,
            // (In the static build a unit struct: `NoRules`.)
            #[allow(clippy::default_constructed_unit_structs)]
            rules: Rules::default(),
            port: 50005,
            backlog: 1024,
            max: 256,
            per_host: 0,
            timeout: 0,
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
    /// Appends the one-line message, with the hint (the exit status is 2), e.g.
    /// `rot13d: bad value for -p: 70000 (rot13d -h for help)`.
    pub fn msg(&self) -> Msg {
        let mut m = Msg::new(self.why);
        if self.opt != 0 {
            m.push(&[b'-', self.opt]);
            // `bad value for -p: 70000`; with no `why`, the words that
            // follow start with their own space (`-l given twice`).
            if !self.arg.is_empty() && !self.why.is_empty() {
                m.push(b": ");
            }
        }
        m.push(self.arg).push(b" (rot13d -h for help)");
        m
    }
}

/// The `-h` text, with `$rules`' lines where the build has `-a`/`-d`.
macro_rules! help {
    ($($rules:literal)?) => {
        concat!(
            "usage: rot13d [-iqrv] [-l ADDR] [-p PORT] [-b|-c|-C N] [-t S] [-u UID[:GID]]\n",
            $($rules,)?
            " -l  numeric IPv4/IPv6 address (default ::, or 0.0.0.0 without IPv6)\n",
            " -p  port 0-65535, 0: any (50005)   -b  listen backlog 0-65535 (1024)\n",
            " -c  sessions 1-65535 (256)   -C  per client address 0-65535 (0: any)\n",
            " -t  idle seconds 0-4294967295 (0: none)   -u  ids to take after listening\n",
            " -i  one session on stdin/stdout   -r  SO_REUSEPORT   -q  quiet   -v  verbose\n",
            " -h --help   -V --version   (more in rot13d(8))\n",
        )
        .as_bytes()
    };
}

/// `-h` and `--help` print this to stdout: every option, its range and
/// default; rot13d(8) has the rest.
#[cfg(not(feature = "nolibc"))]
pub const HELP: &[u8] = help!(
    " -a|-d CIDR  allow|deny peers; the first match wins; none: denied if any -a\n"
);
#[cfg(feature = "nolibc")]
pub const HELP: &[u8] = help!();

/// `-V` and `--version` print this to stdout.
pub const VERSION: &[u8] = concat!("rot13d ", env!("CARGO_PKG_VERSION"), "\n").as_bytes();

/// Parses the arguments after the program name into `c`, which holds the
/// defaults (filled in place: no copy of the config is made).
pub fn parse<'a, I: Iterator<Item = &'a [u8]>>(mut args: I, c: &mut Config) -> Result<Command, Usage<'a>> {
    // After `--` every argument is an unexpected one, as is a bare `-`.
    let mut ended = false;
    while let Some(arg) = args.next() {
        let mut flags = match arg {
            [b'-', flags @ ..] if !ended && !flags.is_empty() => flags,
            _ => return Err(Usage { why: b"unexpected argument: ", opt: 0, arg }),
        };
        if let [b'-', long @ ..] = flags {
            // `--` ends the options; the long forms are the two everyone
            // types first, which may be cut short as getopt_long allows
            // (`--he`, `--vers`).
            return match long {
                [] => {
                    ended = true;
                    continue;
                }
                _ if b"help".starts_with(long) => Ok(Command::Print(HELP)),
                _ if b"version".starts_with(long) => Ok(Command::Print(VERSION)),
                _ => Err(Usage { why: b"unknown option ", opt: 0, arg }),
            };
        }
        while let [opt, rest @ ..] = flags {
            let opt = *opt;
            flags = rest;
            if opt == b'l' && c.given.has(opt) {
                // One address: the last would win without a word.
                return Err(Usage { why: b"", opt, arg: b" given twice" });
            }
            c.given.add(opt);
            match opt {
                b'i' => c.inetd = true,
                b'q' => {
                    // -v then -q is quiet: no -v left to refuse.
                    c.log = Log::Quiet;
                    c.given.remove(b'v');
                }
                b'v' => c.log = Log::Verbose,
                b'r' => c.reuseport = true,
                b'h' => return Ok(Command::Print(HELP)),
                b'V' => return Ok(Command::Print(VERSION)),
                _ => {
                    let valued: &[u8] = if RULES { b"lpbcCtuad" } else { b"lpbcCtu" };
                    if !valued.contains(&opt) {
                        return Err(Usage { why: b"unknown option ", opt, arg: b"" });
                    }
                    // The value is the rest of this argument, or the next one.
                    let val = match rest {
                        [] => args.next().ok_or(Usage { why: b"missing value for ", opt, arg: b"" })?,
                        v => v,
                    };
                    if RULES && (opt == b'a' || opt == b'd') {
                        c.rules.add(opt == b'a', val).map_err(|why| Usage { why, opt, arg: val })?;
                    } else if !set(c, opt, val) {
                        return Err(Usage { why: b"bad value for ", opt, arg: val });
                    }
                    flags = &[];
                }
            }
        }
    }
    Ok(Command::Serve)
}

/// Sets option `opt` from its value `val`; false if the value is bad.
/// (Out of line: inlined, its parsers' state crowds the option loop's
/// registers, which costs 80 bytes of moves.)
#[inline(never)]
fn set(c: &mut Config, opt: u8, val: &[u8]) -> bool {
    let (slot, least, most) = match opt {
        b'p' => (&mut c.port, 0, 65535),
        b'b' => (&mut c.backlog, 0, 65535),
        b'c' => (&mut c.max, 1, 65535),
        b'C' => (&mut c.per_host, 0, 65535),
        b't' => (&mut c.timeout, 0, u32::MAX),
        b'l' => return parse_ip(val).map(|ip| c.ip = ip).is_some(),
        _ => return parse_ids(val).map(|ids| c.ids = Some(ids)).is_some(),
    };
    parse_num(val, most).filter(|&n| n >= least).map(|n| *slot = n).is_some()
}

/// Parses `UID[:GID]`; the GID defaults to the UID. `-1` (4294967295) means
/// "unchanged" to setuid(2), so it is not an id.
fn parse_ids(val: &[u8]) -> Option<(u32, u32)> {
    let (u, g) = match val.iter().position(|&b| b == b':') {
        Some(i) => (&val[..i], &val[i + 1..]),
        None => (val, val),
    };
    Some((parse_num(u, u32::MAX - 1)?, parse_num(g, u32::MAX - 1)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(|a| a.as_bytes()), &mut Config::default()).map_err(|u| {
            String::from_utf8(u.msg().line().to_vec()).unwrap()
        })
    }

    fn cfg(args: &[&str]) -> Config {
        let mut c = Config::default();
        match parse(args.iter().map(|a| a.as_bytes()), &mut c) {
            Ok(Command::Serve) => c,
            _ => panic!("{args:?}"),
        }
    }

    #[test]
    fn defaults_are_the_seeds_but_dual_stack() {
        let c = cfg(&[]);
        assert_eq!((c.ip, c.port, c.backlog, c.max, c.per_host, c.timeout), (Ip::v6([0; 16]), 50005, 1024, 256, 0, 0));
        assert_eq!((c.inetd, c.log, c.reuseport, c.ids), (false, Log::Normal, false, None));
    }

    #[test]
    fn every_option_both_spellings() {
        let a = cfg(&["-l", "::1", "-p", "0", "-b", "5", "-c", "3", "-C", "2", "-t", "9", "-u", "65534:100", "-r", "-i", "-v"]);
        let b = cfg(&["-l::1", "-p0", "-b5", "-c3", "-C2", "-t9", "-u65534:100", "-riv"]);
        assert_eq!(a, b);
        assert_eq!(a.ip, Ip::v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
        assert_eq!((a.port, a.backlog, a.max, a.per_host, a.timeout), (0, 5, 3, 2, 9));
        assert_eq!((a.ids, a.reuseport, a.inetd, a.log), (Some((65534, 100)), true, true, Log::Verbose));
        assert_eq!(cfg(&["-u", "7"]).ids, Some((7, 7)));
        assert_eq!(cfg(&["-v", "-q"]).log, Log::Quiet);
        assert_eq!(cfg(&["-qp", "80"]).port, 80);
        assert_eq!(cfg(&["-t", "4294967295"]).timeout, u32::MAX);
        assert_eq!(cfg(&["-c", "65535"]).max, 65535);
        assert_eq!(cfg(&["--"]).port, 50005);
    }

    #[test]
    fn help_and_version() {
        for h in ["-h", "--help", "-qh"] {
            assert_eq!(p(&[h]), Ok(Command::Print(HELP)));
        }
        for h in ["--he", "--h"] {
            assert_eq!(p(&[h]), Ok(Command::Print(HELP)));
        }
        for v in ["-V", "--version", "--vers", "--v"] {
            assert_eq!(p(&[v]), Ok(Command::Print(VERSION)));
        }
        assert_eq!(p(&["-p", "1", "-V", "-x"]), Ok(Command::Print(VERSION)));
        assert!(VERSION.starts_with(b"rot13d 0."));
        // Every option, with its range and default, on lines a terminal holds.
        let help = std::str::from_utf8(HELP).unwrap();
        for o in ["-l ", "-p ", "-b", "-c", "-C", "-t ", "-u ", "-r ", "-i ", "-q ", "-v ", "-h --help", "-V --version"] {
            assert!(help.contains(o), "{o}");
        }
        for range in ["0-65535", "1-65535", "0-4294967295", "(50005)", "(1024)", "(256)"] {
            assert!(help.contains(range), "{range}");
        }
        assert!(help.lines().all(|l| l.len() <= 80));
    }

    #[test]
    fn options_that_do_not_apply_are_found() {
        let all = cfg(&["-l", "::1", "-p", "1", "-b", "1", "-r", "-c", "1", "-C", "1", "-v", "-t", "1", "-u", "1"]);
        assert_eq!(all.misplaced(Mode::Standalone), None);
        // A session takes -t, -u, -q; a passed listener also the limits and -v.
        assert_eq!(cfg(&["-i", "-t", "5", "-u", "1", "-q"]).misplaced(Mode::Session), None);
        assert_eq!(cfg(&["-c", "1", "-C", "1", "-v", "-t", "1", "-u", "1"]).misplaced(Mode::Activated), None);
        for o in ["-p1", "-l::1", "-b1", "-r", "-c1", "-C1", "-v"] {
            assert_eq!(cfg(&[o]).misplaced(Mode::Session), Some(o.as_bytes()[1]), "{o}");
        }
        for o in ["-p1", "-l::1", "-b1", "-r"] {
            assert_eq!(cfg(&["-c1", "-v", o]).misplaced(Mode::Activated), Some(o.as_bytes()[1]), "{o}");
        }
        // -v then -q is quiet: nothing to refuse.
        assert_eq!(cfg(&["-v", "-q"]).misplaced(Mode::Session), None);
        assert_eq!(cfg(&["-q", "-v"]).misplaced(Mode::Session), Some(b'v'));
    }

    #[test]
    fn rules_in_the_order_given() {
        use crate::rules::Verdict;
        let c = cfg(&["-d", "127.0.0.1", "-a127.0.0.0/8"]);
        let ip = |t: &str| parse_ip(t.as_bytes()).unwrap();
        assert_eq!([c.rules.verdict(&ip("127.0.0.1")), c.rules.verdict(&ip("127.0.0.2")), c.rules.verdict(&ip("::1"))], [Verdict::RefusedBy(1), Verdict::Served, Verdict::NotAllowed]);
        assert_eq!(p(&["-a", "10.0.0.1/8"]), Err("rot13d: host bits set in -a: 10.0.0.1/8 (rot13d -h for help)\n".into()));
        assert_eq!(p(&["-d", "::/200"]), Err("rot13d: bad prefix length in -d: ::/200 (rot13d -h for help)\n".into()));
        // Everywhere a session or a listener is: never refused as misplaced.
        for mode in [Mode::Standalone, Mode::Session, Mode::Activated] {
            assert_eq!(c.misplaced(mode), None);
        }
    }

    #[test]
    fn usage_errors_say_what_and_hint() {
        let cases = [
            (&["-x"][..], "rot13d: unknown option -x (rot13d -h for help)\n"),
            (&["-p"], "rot13d: missing value for -p (rot13d -h for help)\n"),
            (&["-qp"], "rot13d: missing value for -p (rot13d -h for help)\n"),
            (&["-p", "70000"], "rot13d: bad value for -p: 70000 (rot13d -h for help)\n"),
            (&["-p", "abc"], "rot13d: bad value for -p: abc (rot13d -h for help)\n"),
            (&["-l", "1.2.3.256"], "rot13d: bad value for -l: 1.2.3.256 (rot13d -h for help)\n"),
            (&["-l", "localhost"], "rot13d: bad value for -l: localhost (rot13d -h for help)\n"),
            (&["-c", "0"], "rot13d: bad value for -c: 0 (rot13d -h for help)\n"),
            (&["-c", "65536"], "rot13d: bad value for -c: 65536 (rot13d -h for help)\n"),
            (&["-C", "x"], "rot13d: bad value for -C: x (rot13d -h for help)\n"),
            (&["-t", "-1"], "rot13d: bad value for -t: -1 (rot13d -h for help)\n"),
            (&["-b", ""], "rot13d: bad value for -b (rot13d -h for help)\n"),
            (&["-u", "1:"], "rot13d: bad value for -u: 1: (rot13d -h for help)\n"),
            (&["-u", "4294967295"], "rot13d: bad value for -u: 4294967295 (rot13d -h for help)\n"),
            (&["-u", "nobody"], "rot13d: bad value for -u: nobody (rot13d -h for help)\n"),
            (&["-l", "::1", "-l", "127.0.0.1"], "rot13d: -l given twice (rot13d -h for help)\n"),
            (&["-l::1", "-pl", "1"], "rot13d: bad value for -p: l (rot13d -h for help)\n"),
            (&["--verbose"], "rot13d: unknown option --verbose (rot13d -h for help)\n"),
            (&["foo"], "rot13d: unexpected argument: foo (rot13d -h for help)\n"),
            (&["-"], "rot13d: unexpected argument: - (rot13d -h for help)\n"),
            (&["--", "-p"], "rot13d: unexpected argument: -p (rot13d -h for help)\n"),
        ];
        for (args, want) in cases {
            assert_eq!(p(args), Err(want.to_string()), "{args:?}");
        }
    }
}

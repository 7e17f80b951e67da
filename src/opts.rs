//! The command line (rot13d(8), OPTIONS). Every option is one line of
//! [`OPTIONS`]: its letter, its value, its range and default, the ways of
//! starting rot13d it applies to, and its help; parsing, `-h` and the
//! check of options that do not apply all come from that table, which is
//! read at compile time: the binary holds what parsing needs of it
//! ([`SPECS`]) and the help text it makes ([`HELP`]).
//!
//! getopt's conventions: `-p 80` or `-p80`, flags grouped (`-qr`), `--`
//! ends the options. An option given twice: the last one wins, as in every
//! getopt tool, except those that add to a list (`-l`, `-a`, `-d`).

use crate::addr::{BadAddr, Ip, parse_listen, parse_num};
use crate::msg::Msg;

use crate::MAX_LISTENERS;
use crate::passwd::{UserSpec, parse_user};
use crate::rules::{RuleError, Rules};

/// What an option sets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Key {
    Listen,
    Port,
    Backlog,
    Max,
    PerHost,
    Timeout,
    User,
    Allow,
    Deny,
    ReusePort,
    Inetd,
    Quiet,
    Verbose,
    Help,
    Version,
}

/// The ways of starting rot13d an option applies to, as a set.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Modes(u8);

impl Modes {
    /// Binding and listening itself.
    pub const STANDALONE: Modes = Modes(1);
    /// On listening sockets passed by a service manager.
    pub const PASSED: Modes = Modes(2);
    /// One session on a connection it was given.
    pub const SESSION: Modes = Modes(4);
    /// Wherever there is a listener.
    pub const LISTENING: Modes = Modes(1 | 2);
    pub const ALL: Modes = Modes(1 | 2 | 4);

    fn has(self, m: Modes) -> bool {
        self.0 & m.0 != 0
    }
}

/// One option.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Opt {
    pub letter: u8,
    pub key: Key,
    /// What its value is called in the help (empty: a flag).
    pub arg: &'static str,
    /// The numbers it takes, for a numeric one.
    pub range: Option<(u32, u32)>,
    /// Its default, as the help shows it (empty: none to show).
    pub default: &'static str,
    pub applies: Modes,
    pub help: &'static str,
}

/// Every option, in the order `-h` lists them.
pub const OPTIONS: &[Opt] = &[
    Opt {
        letter: b'l',
        key: Key::Listen,
        arg: "ADDR",
        range: None,
        default: "::, IPv4 too",
        applies: Modes::STANDALONE,
        help: "listen on ADDR (repeatable); 0 = any",
    },
    Opt {
        letter: b'p',
        key: Key::Port,
        arg: "PORT",
        range: Some((0, 65535)),
        default: "50005",
        applies: Modes::STANDALONE,
        help: "TCP port, 0 = any free one",
    },
    Opt {
        letter: b'b',
        key: Key::Backlog,
        arg: "N",
        range: Some((0, 65535)),
        default: "1024",
        applies: Modes::STANDALONE,
        help: "listen backlog",
    },
    Opt {
        letter: b'c',
        key: Key::Max,
        arg: "N",
        range: Some((1, 65535)),
        default: "256",
        applies: Modes::LISTENING,
        help: "most sessions at once",
    },
    Opt {
        letter: b'C',
        key: Key::PerHost,
        arg: "N",
        range: Some((0, 65535)),
        default: "0",
        applies: Modes::LISTENING,
        help: "per IPv4 address or IPv6 /64, 0 = any",
    },
    Opt {
        letter: b't',
        key: Key::Timeout,
        arg: "SECS",
        range: Some((0, u32::MAX)),
        default: "0",
        applies: Modes::ALL,
        help: "idle timeout, 0 = none",
    },
    Opt {
        letter: b'u',
        key: Key::User,
        arg: "USER[:GROUP]",
        range: None,
        default: "",
        applies: Modes::ALL,
        help: "run as USER and GROUP (names or ids)",
    },
    Opt {
        letter: b'a',
        key: Key::Allow,
        arg: "CIDR",
        range: None,
        default: "",
        applies: Modes::ALL,
        help: "allow peers in CIDR; the first match wins",
    },
    Opt {
        letter: b'd',
        key: Key::Deny,
        arg: "CIDR",
        range: None,
        default: "",
        applies: Modes::ALL,
        help: "deny peers in CIDR",
    },
    Opt {
        letter: b'i',
        key: Key::Inetd,
        arg: "",
        range: None,
        default: "",
        applies: Modes::ALL,
        help: "one session on stdin and stdout (inetd)",
    },
    Opt {
        letter: b'q',
        key: Key::Quiet,
        arg: "",
        range: None,
        default: "",
        applies: Modes::LISTENING,
        help: "no startup line",
    },
    Opt {
        letter: b'r',
        key: Key::ReusePort,
        arg: "",
        range: None,
        default: "",
        applies: Modes::STANDALONE,
        help: "SO_REUSEPORT: servers share a port",
    },
    Opt {
        letter: b'v',
        key: Key::Verbose,
        arg: "",
        range: None,
        default: "",
        applies: Modes::ALL,
        help: "log sessions' starts, ends, refusals",
    },
    Opt {
        letter: b'h',
        key: Key::Help,
        arg: "",
        range: None,
        default: "",
        applies: Modes::ALL,
        help: "this help (--help)",
    },
    Opt {
        letter: b'V',
        key: Key::Version,
        arg: "",
        range: None,
        default: "",
        applies: Modes::ALL,
        help: "the version (--version)",
    },
];

/// What parsing needs to know of an option: [`OPTIONS`] without its texts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Spec {
    pub letter: u8,
    pub key: Key,
    /// It takes a value (it is no flag).
    pub value: bool,
    pub range: Option<(u32, u32)>,
    pub applies: Modes,
}

/// [`OPTIONS`] as parsing reads it, made at compile time.
pub const SPECS: [Spec; OPTIONS.len()] = {
    let mut specs = [Spec { letter: 0, key: Key::Help, value: false, range: None, applies: Modes::ALL }; OPTIONS.len()];
    let mut i = 0;
    while i < OPTIONS.len() {
        let o = &OPTIONS[i];
        specs[i] = Spec { letter: o.letter, key: o.key, value: !o.arg.is_empty(), range: o.range, applies: o.applies };
        i += 1;
    }
    specs
};

/// The option with `letter`, and its place in the table.
fn find(letter: u8) -> Option<(usize, &'static Spec)> {
    SPECS.iter().enumerate().find(|(_, o)| o.letter == letter)
}

/// What the startup line and the log say.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Log {
    /// `-q`: no startup line (errors are still reported).
    Quiet,
    /// The startup line and errors.
    Normal,
    /// `-v`: also a line per session's start, end and refusal.
    Verbose,
}

/// Everything the server is asked to do.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Config<'a> {
    /// `-l`, in the order given: `listen[..listens]`; none given, the default.
    listen: [Ip; MAX_LISTENERS],
    listens: usize,
    pub port: u16,
    pub backlog: u16,
    /// `-c`: the most sessions at once.
    pub max: u16,
    /// `-C`: the most sessions at once per client (0: no limit).
    pub per_host: u16,
    /// `-t`: seconds a session may wait for its client (0: for ever).
    pub timeout: u32,
    pub user: Option<UserSpec<'a>>,
    pub rules: Rules,
    pub inetd: bool,
    pub log: Log,
    pub reuseport: bool,
    /// Which options (by their place in [`OPTIONS`]) were given, for
    /// [`Config::misplaced`].
    given: u32,
}

/// The address to listen on when no `-l` is given: `::`, which takes
/// IPv4 clients too.
pub const ANY: Ip = Ip::v6([0; 16]);

impl Default for Config<'_> {
    fn default() -> Self {
        Config {
            listen: [ANY; MAX_LISTENERS],
            listens: 0,
            port: 50005,
            backlog: 1024,
            max: 256,
            per_host: 0,
            timeout: 0,
            user: None,
            rules: Rules::default(),
            inetd: false,
            log: Log::Normal,
            reuseport: false,
            given: 0,
        }
    }
}

/// How rot13d was started, as the server finds it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// It binds and listens itself.
    Standalone,
    /// On listening sockets a service manager passed (systemd `Accept=no`).
    Passed,
    /// `-i`: one session on stdin and stdout (inetd, tcpserver, s6).
    Inetd,
    /// One session on a connection a service manager passed (`Accept=yes`).
    PassedConnection,
}

impl Mode {
    fn modes(self) -> Modes {
        match self {
            Mode::Standalone => Modes::STANDALONE,
            Mode::Passed => Modes::PASSED,
            Mode::Inetd | Mode::PassedConnection => Modes::SESSION,
        }
    }

    /// Why an option means nothing here: `-c: not with -i ...`.
    pub fn words(self) -> &'static [u8] {
        match self {
            Mode::Standalone => b"only with sockets passed",
            Mode::Passed => b"not with sockets passed (LISTEN_FDS)",
            Mode::Inetd => b"not with -i",
            Mode::PassedConnection => b"not with a connection passed (LISTEN_FDS)",
        }
    }
}

impl<'a> Config<'a> {
    /// The addresses to listen on.
    pub fn addresses(&self) -> &[Ip] {
        match &self.listen[..self.listens.min(MAX_LISTENERS)] {
            [] => &[ANY],
            given => given,
        }
    }

    /// The first option given that means nothing in `mode`, which would
    /// otherwise be ignored without a word. Of `-q` and `-v`, only the one
    /// that took effect (the last) counts.
    pub fn misplaced(&self, mode: Mode) -> Option<Usage<'a>> {
        let log = match self.log {
            Log::Quiet => Key::Quiet,
            _ => Key::Verbose,
        };
        SPECS
            .iter()
            .enumerate()
            .find(|&(i, o)| {
                self.given & 1 << i != 0
                    && !o.applies.has(mode.modes())
                    && (o.key == log || !matches!(o.key, Key::Quiet | Key::Verbose))
            })
            .map(|(_, o)| Usage::of(o.letter, b"", mode.words()))
    }

    /// Sets option `o` from `val` (empty for a flag); or says why `val`
    /// will not do (for a number, what [`Usage`] completes with its range).
    fn set(&mut self, o: &Spec, val: &'a [u8]) -> Result<(), &'static [u8]> {
        let (least, most) = o.range.unwrap_or((0, 0));
        let n = parse_num(val, most as u64).filter(|&n| n >= least as u64).ok_or(&b"not a number from"[..]);
        match o.key {
            Key::Listen => {
                let ip = parse_listen(val).map_err(BadAddr::words)?;
                *self.listen.get_mut(self.listens).ok_or(&b"more than 16 addresses"[..])? = ip;
                self.listens += 1;
            }
            Key::Port => self.port = n? as u16,
            Key::Backlog => self.backlog = n? as u16,
            Key::Max => self.max = n? as u16,
            Key::PerHost => self.per_host = n? as u16,
            Key::Timeout => self.timeout = n? as u32,
            Key::User => self.user = Some(parse_user(val).ok_or(&b"not USER[:GROUP]"[..])?),
            Key::Allow | Key::Deny => self.rules.add(o.key == Key::Allow, val).map_err(RuleError::words)?,
            Key::ReusePort => self.reuseport = true,
            Key::Inetd => self.inetd = true,
            Key::Quiet => self.log = Log::Quiet,
            Key::Verbose => self.log = Log::Verbose,
            Key::Help | Key::Version => {}
        }
        Ok(())
    }
}

/// What the command line asks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Command {
    /// Serve, as the `Config` filled in says.
    Serve,
    /// `-h`, `--help`.
    Help,
    /// `-V`, `--version`.
    Version,
}

/// A usage error (status 2): what was wrong, and with which option and
/// value; [`Usage::msg`] says it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Usage<'a> {
    /// The option's letter, or 0 where no one option is at fault.
    pub opt: u8,
    /// What was given (a value, an argument), shown as it was; may be empty.
    pub arg: &'a [u8],
    pub why: &'static [u8],
    /// The range of numbers that was wanted, said after `why`.
    pub range: Option<(u32, u32)>,
}

impl<'a> Usage<'a> {
    /// Option `opt` is wrong: `why`.
    pub const fn of(opt: u8, arg: &'a [u8], why: &'static [u8]) -> Self {
        Usage { opt, arg, why, range: None }
    }

    /// The one-line message, with the hint, e.g.
    /// `rot13d: -p 70000: not a number from 0 to 65535 (rot13d -h for help)`.
    pub fn msg(&self) -> Msg {
        let mut m = Msg::new(b"");
        if self.opt != 0 {
            m.push(b"-").shown(&[self.opt]);
            if !self.arg.is_empty() {
                m.push(b" ");
            }
        }
        m.shown(self.arg).push(b": ").push(self.why);
        if let Some((least, most)) = self.range {
            m.push(b" ").num(least as u64).push(b" to ").num(most as u64);
        }
        m.push(b" (rot13d -h for help)");
        m
    }
}

/// Parses the arguments after the program's name into `c`, which holds
/// the defaults.
pub fn parse<'a>(mut args: impl Iterator<Item = &'a [u8]>, c: &mut Config<'a>) -> Result<Command, Usage<'a>> {
    // After `--` every argument is an unexpected one, as is a bare `-`.
    let mut ended = false;
    while let Some(arg) = args.next() {
        let mut letters = match arg {
            [b'-', rest @ ..] if !ended && !rest.is_empty() => rest,
            _ => return Err(Usage::of(0, arg, b"unexpected argument")),
        };
        if let [b'-', long @ ..] = letters {
            // `--` ends the options; the long forms are the two everyone
            // types first, and may be cut short as getopt_long allows
            // (`--he`, `--vers`).
            match long {
                [] => ended = true,
                _ if b"help".starts_with(long) => return Ok(Command::Help),
                _ if b"version".starts_with(long) => return Ok(Command::Version),
                _ => return Err(Usage::of(0, arg, b"unknown option")),
            }
            continue;
        }
        while let [letter, rest @ ..] = letters {
            let Some((i, o)) = find(*letter) else {
                return Err(Usage::of(*letter, b"", b"unknown option"));
            };
            letters = rest;
            match o.key {
                Key::Help => return Ok(Command::Help),
                Key::Version => return Ok(Command::Version),
                _ => {
                    // A flag; or a value, the rest of this argument or the next one.
                    let val = match rest {
                        _ if !o.value => &[],
                        [] => args.next().ok_or(Usage::of(o.letter, b"", b"missing value"))?,
                        v => v,
                    };
                    c.set(o, val).map_err(|why| Usage { opt: o.letter, arg: val, why, range: o.range })?;
                    if o.value {
                        letters = &[];
                    }
                }
            }
            c.given |= 1 << i;
        }
    }
    Ok(Command::Serve)
}

/// `-h`: a line of usage, then every option with its value, help, range
/// and default, a line each (made at compile time from [`OPTIONS`]).
pub const HELP: [u8; HELP_TEXT.1] = {
    let mut out = [0; HELP_TEXT.1];
    let mut i = 0;
    while i < out.len() {
        out[i] = HELP_TEXT.0[i];
        i += 1;
    }
    out
};

/// The help text being made, and its length.
const HELP_TEXT: ([u8; 4096], usize) = {
    let mut t = ([0; 4096], 0);
    put(&mut t, b"usage: rot13d [OPTION]...\n");
    let mut i = 0;
    while i < OPTIONS.len() {
        let o = &OPTIONS[i];
        let start = t.1;
        put(&mut t, b"  -");
        put(&mut t, &[o.letter, b' ']);
        put(&mut t, o.arg.as_bytes());
        while t.1 - start < 18 {
            put(&mut t, b" ");
        }
        put(&mut t, o.help.as_bytes());
        if let Some((least, most)) = o.range {
            put(&mut t, b"; ");
            put_num(&mut t, least);
            put(&mut t, b"-");
            put_num(&mut t, most);
        }
        if !o.default.is_empty() {
            put(&mut t, b" (");
            put(&mut t, o.default.as_bytes());
            put(&mut t, b")");
        }
        put(&mut t, b"\n");
        i += 1;
    }
    put(&mut t, b"More in rot13d(8).\n");
    t
};

/// Appends `s` to the text `t` being made.
const fn put(t: &mut ([u8; 4096], usize), s: &[u8]) {
    let mut i = 0;
    while i < s.len() {
        t.0[t.1] = s[i];
        t.1 += 1;
        i += 1;
    }
}

/// Appends `n` in decimal.
const fn put_num(t: &mut ([u8; 4096], usize), n: u32) {
    if n >= 10 {
        put_num(t, n / 10);
    }
    put(t, &[b'0' + (n % 10) as u8]);
}

/// `-V`: the program's name and version.
pub const VERSION: &[u8] = concat!("rot13d ", env!("CARGO_PKG_VERSION"), "\n").as_bytes();

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passwd::Id;
    use crate::testutil::text;

    fn p(args: &[&'static str]) -> Result<Command, String> {
        parse(args.iter().map(|a| a.as_bytes()), &mut Config::default()).map_err(|u| text(u.msg()))
    }

    fn cfg(args: &[&'static str]) -> Config<'static> {
        let mut c = Config::default();
        match parse(args.iter().map(|a| a.as_bytes()), &mut c) {
            Ok(Command::Serve) => c,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    /// The option that sets `key`.
    fn opt(key: Key) -> &'static Opt {
        OPTIONS.iter().find(|o| o.key == key).unwrap()
    }

    fn addrs(c: &Config) -> Vec<String> {
        c.addresses().iter().map(|&ip| crate::testutil::show(ip)).collect()
    }

    #[test]
    fn every_key_has_one_line() {
        let keys = [
            Key::Listen,
            Key::Port,
            Key::Backlog,
            Key::Max,
            Key::PerHost,
            Key::Timeout,
            Key::User,
            Key::Allow,
            Key::Deny,
            Key::ReusePort,
            Key::Inetd,
            Key::Quiet,
            Key::Verbose,
            Key::Help,
            Key::Version,
        ];
        assert_eq!(keys.len(), OPTIONS.len());
        for k in keys {
            assert_eq!(OPTIONS.iter().filter(|o| o.key == k).count(), 1, "{k:?}");
            assert_eq!(opt(k).key, k);
        }
        for o in OPTIONS {
            assert_eq!(OPTIONS.iter().filter(|x| x.letter == o.letter).count(), 1, "{}", o.letter as char);
        }
        assert!(OPTIONS.len() <= 32, "`given` is a u32");
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]);
        assert_eq!((addrs(&c), c.port), (vec!["::".to_string()], 50005));
        assert_eq!((c.backlog, c.max, c.per_host, c.timeout), (1024, 256, 0, 0));
        assert_eq!((c.inetd, c.log, c.reuseport, c.user), (false, Log::Normal, false, None));
        // The table shows the same defaults.
        assert_eq!(
            [opt(Key::Port).default, opt(Key::Backlog).default, opt(Key::Max).default],
            ["50005", "1024", "256"]
        );
    }

    #[test]
    fn every_option_both_spellings() {
        let a = cfg(&[
            "-l",
            "::1",
            "-p",
            "0",
            "-b",
            "5",
            "-c",
            "3",
            "-C",
            "2",
            "-t",
            "9",
            "-u",
            "65534:100",
            "-r",
            "-i",
            "-v",
        ]);
        let b = cfg(&["-l::1", "-p0", "-b5", "-c3", "-C2", "-t9", "-u65534:100", "-riv"]);
        assert_eq!(a, b);
        assert_eq!((addrs(&a), a.port), (vec!["::1".to_string()], 0));
        assert_eq!((a.backlog, a.max, a.per_host, a.timeout), (5, 3, 2, 9));
        assert_eq!(a.user, Some(UserSpec { user: Id::Num(65534), group: Some(Id::Num(100)) }));
        assert_eq!((a.reuseport, a.inetd, a.log), (true, true, Log::Verbose));
        assert_eq!(cfg(&["-u", "nobody"]).user, Some(UserSpec { user: Id::Name(b"nobody"), group: None }));
        assert_eq!(cfg(&["-t", "4294967295"]).timeout, u32::MAX);
        assert_eq!(cfg(&["-c", "65535"]).max, 65535);
        assert_eq!(cfg(&["--"]).port, 50005);
    }

    #[test]
    fn the_last_one_wins_but_lists_add_up() {
        assert_eq!(cfg(&["-p", "1", "-p", "2"]).port, 2);
        assert_eq!(cfg(&["-v", "-q"]).log, Log::Quiet);
        assert_eq!(cfg(&["-qv"]).log, Log::Verbose);
        assert_eq!(cfg(&["-u", "1", "-u", "bob"]).user.map(|u| u.user), Some(Id::Name(b"bob")));
        let c = cfg(&["-l", "127.0.0.1", "-p", "7", "-l", "[::1]", "-l", "0"]);
        assert_eq!(addrs(&c), ["127.0.0.1", "::1", "::"]);
        let many: Vec<&str> = std::iter::repeat_n(["-l", "127.0.0.1"], MAX_LISTENERS + 1).flatten().collect();
        let err = parse(many.iter().map(|a| a.as_bytes()), &mut Config::default()).unwrap_err();
        assert_eq!(text(err.msg()), "rot13d: -l 127.0.0.1: more than 16 addresses (rot13d -h for help)");
    }

    fn help_text() -> String {
        String::from_utf8(HELP.to_vec()).unwrap()
    }

    #[test]
    #[ignore = "prints the help text: cargo test --lib -- --ignored --nocapture show_help"]
    fn show_help() {
        print!("{}", help_text());
    }

    #[test]
    fn help_and_version() {
        for h in [&["-h"][..], &["--help"], &["-qh"], &["--he"], &["--h"], &["-p", "1", "-h", "-x"]] {
            assert_eq!(p(h), Ok(Command::Help), "{h:?}");
        }
        for v in ["-V", "--version", "--vers", "--v"] {
            assert_eq!(p(&[v]), Ok(Command::Version));
        }
        assert!(VERSION.starts_with(b"rot13d 0."));
        let help = help_text();
        assert!(help.starts_with("usage: rot13d [OPTION]...\n  -l ADDR"), "{help}");
        // Every option, with its value, range and default, on lines a terminal holds.
        for o in OPTIONS {
            let line = help.lines().find(|l| l.starts_with(&format!("  -{}", o.letter as char))).unwrap();
            assert!(line.contains(o.help) && line.contains(o.arg) && line.contains(o.default), "{line}");
            if let Some((a, b)) = o.range {
                assert!(line.contains(&format!("{a}-{b}")), "{line}");
            }
        }
        assert!(help.lines().all(|l| l.len() <= 80), "{help}");
    }

    #[test]
    fn options_that_do_not_apply_are_found() {
        let all =
            cfg(&["-l", "::1", "-p", "1", "-b", "1", "-r", "-c", "1", "-C", "1", "-v", "-t", "1", "-u", "1", "-q"]);
        assert_eq!(all.misplaced(Mode::Standalone), None);
        // A session takes -t, -u, -v, the rules; passed listeners also the limits and -q.
        assert_eq!(cfg(&["-i", "-t", "5", "-u", "1", "-v", "-a", "::/0"]).misplaced(Mode::Inetd), None);
        assert_eq!(cfg(&["-c", "1", "-C", "1", "-v", "-t", "1", "-u", "1", "-q"]).misplaced(Mode::Passed), None);
        let refused = |o: u8, mode: Mode| Some(Usage::of(o, b"", mode.words()));
        for o in ["-p1", "-l::1", "-b1", "-r", "-c1", "-C1", "-q"] {
            let letter = o.as_bytes()[1];
            assert_eq!(cfg(&[o]).misplaced(Mode::Inetd), refused(letter, Mode::Inetd), "{o}");
            assert_eq!(cfg(&[o]).misplaced(Mode::PassedConnection), refused(letter, Mode::PassedConnection), "{o}");
        }
        for o in ["-p1", "-l::1", "-b1", "-r"] {
            assert_eq!(cfg(&["-c1", "-v", o]).misplaced(Mode::Passed), refused(o.as_bytes()[1], Mode::Passed), "{o}");
        }
        // The last of -q and -v is the one that counts.
        assert_eq!(cfg(&["-q", "-v"]).misplaced(Mode::Inetd), None);
        assert_eq!(cfg(&["-v", "-q"]).misplaced(Mode::Inetd), refused(b'q', Mode::Inetd));
        assert_eq!(text(refused(b'c', Mode::Inetd).unwrap().msg()), "rot13d: -c: not with -i (rot13d -h for help)");
    }

    #[test]
    fn rules_in_the_order_given() {
        use crate::addr::parse_ip;
        use crate::rules::Verdict;
        let c = cfg(&["-d", "127.0.0.1", "-a127.0.0.0/8"]);
        let ip = |t: &str| parse_ip(t.as_bytes()).unwrap();
        let verdicts =
            [c.rules.verdict(&ip("127.0.0.1")), c.rules.verdict(&ip("127.0.0.2")), c.rules.verdict(&ip("::1"))];
        assert_eq!(verdicts, [Verdict::RefusedBy(1), Verdict::Served, Verdict::NotAllowed]);
    }

    #[test]
    fn usage_errors_say_what_and_hint() {
        let cases = [
            (&["-x"][..], "rot13d: -x: unknown option"),
            (&["-qx"], "rot13d: -x: unknown option"),
            (&["-\x1b"], "rot13d: -\\x1b: unknown option"),
            (&["-p"], "rot13d: -p: missing value"),
            (&["-qp"], "rot13d: -p: missing value"),
            (&["-p", "70000"], "rot13d: -p 70000: not a number from 0 to 65535"),
            (&["-p", "abc"], "rot13d: -p abc: not a number from 0 to 65535"),
            (&["-p", ""], "rot13d: -p: not a number from 0 to 65535"),
            (&["-c", "0"], "rot13d: -c 0: not a number from 1 to 65535"),
            (&["-t", "-1"], "rot13d: -t -1: not a number from 0 to 4294967295"),
            (&["-l", "1.2.3.256"], "rot13d: -l 1.2.3.256: not a numeric IPv4 or IPv6 address (a port goes in -p)"),
            (&["-l", "localhost"], "rot13d: -l localhost: a name: give 127.0.0.1 or ::1"),
            (&["-l", "[::1]:80"], "rot13d: -l [::1]:80: not a numeric IPv4 or IPv6 address (a port goes in -p)"),
            (&["-u", "1:"], "rot13d: -u 1:: not USER[:GROUP]"),
            (&["-a", "10.0.0.1/8"], "rot13d: -a 10.0.0.1/8: host bits set past the prefix"),
            (&["-d", "::/200"], "rot13d: -d ::/200: prefix length past 32 (IPv4) or 128 (IPv6)"),
            (&["-l::1", "-pl", "1"], "rot13d: -p l: not a number from 0 to 65535"),
            (&["--verbose"], "rot13d: --verbose: unknown option"),
            (&["foo"], "rot13d: foo: unexpected argument"),
            (&["-"], "rot13d: -: unexpected argument"),
            (&["--", "-p"], "rot13d: -p: unexpected argument"),
        ];
        for (args, want) in cases {
            assert_eq!(p(args), Err(format!("{want} (rot13d -h for help)")), "{args:?}");
        }
    }
}

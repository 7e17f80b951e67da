//! The command line (rot13d(8), OPTIONS): help and version, usage errors
//! with their statuses and messages, the forms addresses and users take,
//! repeated options, and options refused where they mean nothing.

mod common;
use common::*;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};

#[test]
fn help_and_version_on_stdout() {
    for h in ["-h", "--help", "--he", "-qh"] {
        let (code, out, err) = run(&[h]);
        assert_eq!((code, err.as_str()), (0, ""), "{h}");
        assert!(out.starts_with("usage: rot13d [OPTION]...\n"), "{out}");
        // Every option, with its range and default, on lines a terminal holds.
        for o in ["-l ADDR", "-p PORT", "-b N", "-c N", "-C N", "-t SECS", "-u USER[:GROUP]", "-a CIDR", "-d CIDR"] {
            assert!(out.contains(&format!("  {o} ")), "{o} in {out}");
        }
        for o in ["-i", "-q", "-r", "-v", "-h", "-V"] {
            assert!(out.lines().any(|l| l.starts_with(&format!("  {o} "))), "{o} in {out}");
        }
        for d in ["0-65535 (50005)", "0-65535 (1024)", "1-65535 (256)", "0-4294967295 (0)"] {
            assert!(out.contains(d), "{d} in {out}");
        }
        assert!(out.lines().all(|l| l.len() <= 80), "{out}");
    }
    for v in ["-V", "--version", "--vers"] {
        assert_eq!(run(&[v]), (0, format!("rot13d {}\n", env!("CARGO_PKG_VERSION")), String::new()));
    }
    // Output that cannot be written is not a success.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    assert_eq!(Command::new(bin()).arg("-h").stdout(full).status().unwrap().code(), Some(1));
}

#[test]
fn usage_errors_exit_2_with_a_hint() {
    assert_usage_errors(&[
        (&["-x"], "rot13d: -x: unknown option"),
        (&["-qx"], "rot13d: -x: unknown option"),
        (&["--verbose"], "rot13d: --verbose: unknown option"),
        (&["-p"], "rot13d: -p: missing value"),
        (&["-p", "70000"], "rot13d: -p 70000: not a number from 0 to 65535"),
        (&["-p", "abc"], "rot13d: -p abc: not a number from 0 to 65535"),
        (&["-c", "0"], "rot13d: -c 0: not a number from 1 to 65535"),
        (&["-t", "-1"], "rot13d: -t -1: not a number from 0 to 4294967295"),
        (&["-u", "1:"], "rot13d: -u 1:: not USER[:GROUP]"),
        (&["-u", "4294967295"], "rot13d: -u 4294967295: not USER[:GROUP]"),
        (&["extra"], "rot13d: extra: unexpected argument"),
        (&["--", "-p"], "rot13d: -p: unexpected argument"),
        (&["-"], "rot13d: -: unexpected argument"),
    ]);
}

#[test]
fn addresses_as_people_type_them() {
    // The form the startup line prints, and 0 for any address.
    for (l, host) in [("[::1]", "::1"), ("127.0.0.1", "127.0.0.1"), ("::1", "::1")] {
        let s = Server::start(&["-l", l]);
        assert_eq!(s.host, host);
        let mut c = s.connect();
        assert_eq!(ask(&mut c, b"form\n"), b"sbez\n");
    }
    let s = Server::start(&["-l", "0"]);
    assert_eq!(s.host, "127.0.0.1", "-l 0 listens on ::, which takes IPv4 too");
    let mut c = connect(("::1", s.port));
    assert_eq!(ask(&mut c, b"any\n"), b"nal\n");
    assert_usage_errors(&[
        (&["-l", "localhost"], "rot13d: -l localhost: a name: give 127.0.0.1 or ::1"),
        (&["-l", "example.com"], "rot13d: -l example.com: a name: give an address"),
        (&["-l", "fe80::1%eth0"], "rot13d: -l fe80::1%eth0: link-local: use :: instead"),
        (&["-l", "fe80::1"], "rot13d: -l fe80::1: link-local: use :: instead"),
        (&["-l", "127.0.0.1:80"], "rot13d: -l 127.0.0.1:80: not a numeric IPv4 or IPv6 address (a port goes in -p)"),
        (&["-l", "1.2.3"], "rot13d: -l 1.2.3: not a numeric IPv4 or IPv6 address (a port goes in -p)"),
    ]);
}

#[test]
fn the_last_value_wins_and_lists_add_up() {
    // -p twice: the last, as getopt tools do.
    let s = Server::start(&["-l", "127.0.0.1", "-p", "1"]);
    assert!(TcpListener::bind(("127.0.0.1", s.port)).is_err(), "it listens on the port -p 0 (the last) gave");
    // -l twice: both.
    let mut cmd = Command::new(bin());
    cmd.args(["-p", "0", "-l", "127.0.0.1", "-l", "::1"]);
    let s = Server::spawn_listening(cmd, 2);
    assert_eq!(s.addrs.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(), ["127.0.0.1", "::1"]);
    assert_usage_errors(&[(
        &[
            "-l::1", "-l::1", "-l::1", "-l::1", "-l::1", "-l::1", "-l::1", "-l::1", "-l::1", "-l::1", "-l::1", "-l::1",
            "-l::1", "-l::1", "-l::1", "-l::1", "-l::1",
        ],
        "rot13d: -l ::1: more than 16 addresses",
    )]);
}

#[test]
fn unknown_users_and_groups_are_named() {
    assert_usage_errors(&[
        (&["-u", "no-such-user-here"], "rot13d: -u no-such-user-here: no such user in /etc/passwd"),
        (&["-u", "0:no-such-group-here"], "rot13d: -u no-such-group-here: no such group in /etc/group"),
    ]);
}

#[test]
fn options_that_do_not_apply_are_refused_naming_the_mode() {
    for (args, msg) in [
        (&["-i", "-p", "1"][..], "rot13d: -p: not with -i"),
        (&["-i", "-c", "2"], "rot13d: -c: not with -i"),
        (&["-i", "-C", "2"], "rot13d: -C: not with -i"),
        (&["-i", "-q"], "rot13d: -q: not with -i"),
        (&["-i", "-r"], "rot13d: -r: not with -i"),
        (&["-i", "-l", "::1"], "rot13d: -l: not with -i"),
    ] {
        let (code, out, err) = output(Command::new(bin()).args(args).stdin(Stdio::piped()));
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (2, "", format!("{msg} (rot13d -h for help)\n").as_str()),
            "{args:?}"
        );
    }
    // Listening sockets passed: the limits, -q and -v apply; binding does not.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    for (args, opt) in [("-p 0", "-p"), ("-l ::1", "-l"), ("-b 5", "-b"), ("-r", "-r")] {
        let want = format!("rot13d: {opt}: not with sockets passed (LISTEN_FDS) (rot13d -h for help)\n");
        assert_eq!(output(&mut activated(&[l.as_raw_fd()], None, args)), (2, String::new(), want), "{args}");
    }
    // A connection passed: as -i.
    let (_client, conn) = tcp_pair("127.0.0.1");
    let want = "rot13d: -c: not with a connection passed (LISTEN_FDS) (rot13d -h for help)\n".to_string();
    assert_eq!(output(&mut activated(&[conn.as_raw_fd()], None, "-c 5")), (2, String::new(), want));
}

//! Deployment (rot13d(8), EXAMPLES, and the README's "Deploying" and "The
//! trace"): what the README shows works, SO_REUSEPORT instances share a
//! port, the static binary runs alone in an empty root, and the start-up
//! trace is what the README's table explains.

mod common;
use common::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn the_readme_example_of_inetd_mode() {
    let out =
        Command::new("sh").arg("-c").arg(format!("printf 'Hello\\n' | '{}' -i", bin().display())).output().unwrap();
    assert_eq!((out.status.code(), out.stdout.as_slice()), (Some(0), &b"Uryyb\n"[..]));
}

#[test]
fn two_instances_share_a_port_with_reuseport() {
    let a = Server::start(&["-r", "-v", "-l", "127.0.0.1"]);
    let port = a.port.to_string();
    let mut cmd = Command::new(bin());
    cmd.args(["-r", "-v", "-l", "127.0.0.1", "-p", &port]);
    let b = Server::spawn(cmd);
    assert_eq!(a.port, b.port);
    // The kernel spreads connections by a hash of the client's port: within
    // a few hundred connections both instances have served.
    let (mut seen_a, mut seen_b) = (false, false);
    for i in 0..300 {
        let mut c = a.connect();
        assert_eq!(ask(&mut c, b"which\n"), b"juvpu\n", "connection {i}");
        drop(c);
        seen_a |= a.line_within(Duration::from_millis(200)).is_some_and(|l| l.starts_with("rot13d: pid "));
        seen_b |= b.line_within(Duration::from_millis(0)).is_some_and(|l| l.starts_with("rot13d: pid "));
        if seen_a && seen_b {
            return;
        }
    }
    panic!("both instances should serve: a {seen_a}, b {seen_b}");
}

#[test]
fn without_reuseport_the_second_instance_cannot_bind() {
    let a = Server::start(&["-l", "127.0.0.1"]);
    let (code, _, err) = run(&["-l", "127.0.0.1", "-p", &a.port.to_string()]);
    assert_eq!((code, err), (1, format!("rot13d: bind 127.0.0.1:{}: address already in use\n", a.port)));
}

#[test]
#[ignore = "needs root (chroot)"]
fn root_serves_from_an_empty_root() {
    let root = std::env::temp_dir().join(format!("rot13d-root-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(bin(), root.join("rot13d")).unwrap();
    let mut cmd = Command::new("chroot");
    cmd.arg(&root).args(["/rot13d", "-p", "0", "-l", "127.0.0.1"]);
    match build() {
        Build::Static => {
            // No /etc, /proc, /dev, no libc, no loader: nothing but the binary.
            let s = Server::spawn(cmd);
            let mut c = s.connect();
            assert_eq!(ask(&mut c, b"alone\n"), b"nybar\n");
        }
        Build::Libc => {
            // It needs its loader and C library: it cannot start there,
            // which is what the static build is for.
            let (code, _, _) = output(&mut cmd);
            assert_ne!(code, 0);
        }
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// The calls the README's trace table explains ("The trace"): the first
/// word in backquotes of each row of the table.
fn calls_the_readme_explains() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme.split("\n## The trace\n").nth(1).expect("a section \"The trace\"");
    table
        .lines()
        .skip_while(|l| !l.starts_with("| # |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('`').nth(1))
        .map(|c| c.split('(').next().unwrap().to_string())
        .collect()
}

#[test]
fn the_start_up_trace_is_short_and_every_call_explained() {
    need_strace();
    let log = std::env::temp_dir().join(format!("rot13d-trace-{}", std::process::id()));
    // The default address, as a user starts it (the port aside; -q: the
    // startup line's own calls are in the README's text).
    let mut cmd = Command::new("strace");
    cmd.arg("-o").arg(&log).arg(bin()).args(["-q", "-p", "0"]);
    let tracer = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    struct Traced(std::process::Child);
    impl Drop for Traced {
        fn drop(&mut self) {
            for pid in children_of(self.0.id()) {
                kill("TERM", pid);
            }
            let _ = self.0.wait();
        }
    }
    let _tracer = Traced(tracer);
    let accepted = |t: &str| t.lines().any(|l| l.starts_with("accept"));
    wait_until(
        Duration::from_secs(10),
        || std::fs::read_to_string(&log).is_ok_and(|t| accepted(&t)),
        || "accept in the trace".into(),
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let calls: Vec<&str> = text.lines().map(|l| l.split('(').next().unwrap()).collect();
    let upto = calls.iter().position(|c| c.starts_with("accept")).unwrap() + 1;
    // Ours start where the program does: the C library's start-up (the
    // default build's loader and libc) comes first there.
    let start = calls.iter().position(|c| *c == "madvise").unwrap();
    let ours = &calls[start..upto];
    for bad in ["open", "openat", "mmap", "brk", "mprotect", "read"] {
        assert!(!ours.contains(&bad), "{bad} before serving:\n{text}");
    }
    // Confined before the first client: the server's filter is set.
    assert!(ours.contains(&"seccomp"), "{text}");
    let explained = calls_the_readme_explains();
    for c in ours {
        assert!(explained.iter().any(|e| e == c), "{c} is not in the README's trace table {explained:?}\n{text}");
    }
    if build() == Build::Static {
        assert_eq!(&calls[..2], ["execve", "madvise"], "{text}");
        assert!(upto <= 16, "{upto} calls to the first accept:\n{text}");
    }
}

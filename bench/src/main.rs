//! `make bench`: every server side by side in one run, rounds interleaved,
//! medians and ratios against rot13d-static.
//!
//!   rot13d-bench [--smoke]      (REF="name=cmd args {port};..." adds servers)
//!
//! bulk: MB/s through one connection, 64-byte lines pipelined, every byte
//! checked. rate: connect, one line, reply, close, at concurrency 1 and 4,
//! replies checked. memory: Private_Clean + Private_Dirty + VmPTE per child
//! while connections are held. startup: system calls from execve to the
//! first accept (strace -f). size: the executable's bytes.
//!
//! A second table: what a held session costs the whole machine, from the
//! rise of Slab + KernelStack + PageTables + AnonPages in /proc/meminfo over
//! SESSIONS (default 2000) sessions held at once, divided by their number
//! (the client's sockets are in it too, the same for every server). Peers a
//! user would pick instead run where installed: tcpserver + `rot13d -i`,
//! socat + `rot13d -i`, and a no-fork iterative server (this program with
//! `--iterative PORT`: one process answering connections in turn, the
//! ceiling of any process model for the connection rate).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Params {
    bulk_bytes: usize,
    rate_time: Duration,
    held: usize,
    rounds: usize,
    /// Sessions held for the whole-machine figure.
    sessions: usize,
}

/// A server to measure: how to start it on a port, and its executable.
struct Spec {
    name: String,
    /// Arguments; `{port}` is replaced by 0: the kernel chooses a free
    /// port, which is then read from /proc (see [`listening_port`]).
    cmd: Vec<String>,
    /// It can hold sessions at once (not so the iterative server).
    holds: bool,
}

#[derive(Clone, Copy, Default)]
struct Row {
    bulk: f64,
    rate1: f64,
    rate4: f64,
    mem_kib: f64,
}

/// What the machine pays per held session, KiB, and its parts.
#[derive(Clone, Copy, Default)]
struct Machine {
    total: f64,
    slab: f64,
    kernel_stack: f64,
    page_tables: f64,
    anon: f64,
}

const LINE: &[u8; 64] = b"The quick brown fox jumps over the lazy dog; 0123456789 ABCDEFG\n";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(port) = args.iter().position(|a| a == "--iterative").and_then(|i| args.get(i + 1)) {
        iterative(port.parse().expect("--iterative PORT"));
    }
    let smoke = args.iter().any(|a| a == "--smoke");
    let mut p = if smoke {
        Params { bulk_bytes: 1 << 20, rate_time: Duration::from_millis(200), held: 20, rounds: 1, sessions: 300 }
    } else {
        Params { bulk_bytes: 16 << 20, rate_time: Duration::from_millis(1500), held: 200, rounds: 3, sessions: 2000 }
    };
    if let Ok(n) = std::env::var("SESSIONS") {
        p.sessions = n.parse().expect("SESSIONS=N");
    }
    p.sessions = session_limit(p.sessions);
    // `--rounds N`: more rounds, for a closer look at the spread.
    if let Some(n) = args.iter().position(|a| a == "--rounds").and_then(|i| args.get(i + 1)) {
        p.rounds = n.parse().expect("--rounds N");
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let exe = |p: &str| root.join(p).to_string_lossy().into_owned();
    let own = |bin: &str| -> Vec<String> {
        [exe(bin).as_str(), "-q", "-l", "127.0.0.1", "-c", "65535", "-b", "4096", "-p", "{port}"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let mut specs = vec![
        Spec { name: "rot13d-static".into(), cmd: own("target/static/rot13d"), holds: true },
        Spec { name: "rot13d (libc)".into(), cmd: own("target/release/rot13d"), holds: true },
    ];
    // The static build with sessions unconfined (`make bench` builds it):
    // what confinement costs, in the same run.
    if root.join("target/unconfined/static/rot13d").exists() {
        specs.push(Spec {
            name: "static, unconfined".into(),
            cmd: own("target/unconfined/static/rot13d"),
            holds: true,
        });
    }
    specs.push(Spec {
        name: "C ref, gcc -O2".into(),
        cmd: vec![exe("bench/target/ref-gcc"), "{port}".into()],
        holds: true,
    });
    if root.join("bench/target/ref-musl").exists() {
        specs.push(Spec {
            name: "C ref, musl static".into(),
            cmd: vec![exe("bench/target/ref-musl"), "{port}".into()],
            holds: true,
        });
    } else {
        eprintln!(
            "note: bench/target/ref-musl is not built (make bench builds it where musl-gcc is installed: apt-get install musl-tools): the musl row is left out"
        );
    }
    for r in std::env::var("REF").unwrap_or_default().split(';').filter(|s| !s.is_empty()) {
        let (name, cmd) = r.split_once('=').expect("REF=name=cmd args {port}");
        let cmd = cmd.split_whitespace().map(|w| if w.contains('/') { exe(w) } else { w.to_string() }).collect();
        specs.push(Spec { name: name.into(), cmd, holds: true });
    }
    // The peers, where installed: each runs the static build's -i per session.
    let inetd = exe("target/static/rot13d");
    if which("tcpserver") {
        let cmd =
            ["tcpserver", "-R", "-H", "-l", "0", "-c", "65535", "-b", "4096", "127.0.0.1", "{port}", &inetd, "-i"];
        specs.push(Spec {
            name: "tcpserver + -i".into(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            holds: true,
        });
    } else {
        eprintln!("note: no tcpserver here (apt-get install ucspi-tcp): its row is left out");
    }
    if which("socat") {
        let cmd = vec![
            "socat".into(),
            "TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,backlog=4096".into(),
            format!("EXEC:{inetd} -i"),
        ];
        specs.push(Spec { name: "socat + -i".into(), cmd, holds: true });
    } else {
        eprintln!("note: no socat here (apt-get install socat): its row is left out");
    }
    let me = std::env::current_exe().unwrap().to_string_lossy().into_owned();
    specs.push(Spec {
        name: "no-fork ceiling".into(),
        cmd: vec![me, "--iterative".into(), "{port}".into()],
        holds: false,
    });

    // `--only NAME`: just the rows whose names contain NAME (repeatable).
    let only: Vec<&String> = args.windows(2).filter(|w| w[0] == "--only").map(|w| &w[1]).collect();
    if !only.is_empty() {
        specs.retain(|s| only.iter().any(|o| s.name.contains(o.as_str())));
    }
    let mut rows: Vec<Vec<Row>> = vec![Vec::new(); specs.len()];
    for round in 0..p.rounds {
        for (i, spec) in specs.iter().enumerate() {
            eprintln!("round {}/{}: {}", round + 1, p.rounds, spec.name);
            rows[i].push(measure(spec, &p));
        }
    }
    // Whole-machine cost: one server at a time, nothing else running; the
    // median of the rounds (the meminfo figures move with whatever else
    // the machine does).
    let machines: Vec<Option<Machine>> = specs
        .iter()
        .map(|spec| {
            spec.holds.then(|| {
                let mut all: Vec<Machine> = (0..p.rounds)
                    .map(|round| {
                        eprintln!("holding {} sessions, round {}/{}: {}", p.sessions, round + 1, p.rounds, spec.name);
                        machine(&start(spec), p.sessions)
                    })
                    .collect();
                all.sort_by(|a, b| a.total.partial_cmp(&b.total).unwrap());
                all[all.len() / 2]
            })
        })
        .collect();
    let med = |i: usize, f: fn(&Row) -> f64| {
        let mut v: Vec<f64> = rows[i].iter().map(f).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let ceiling = specs.len() - 1;
    let (ceil1, ceil4) = (med(ceiling, |r| r.rate1), med(ceiling, |r| r.rate4));
    println!("conn/s as a share of the no-fork ceiling ({ceil1:.0} at c=1, {ceil4:.0} at c=4), then the full table:");
    for (i, spec) in specs.iter().enumerate().take(ceiling) {
        println!("  {:<20} c=1 {:.2}   c=4 {:.2}", spec.name, med(i, |r| r.rate1) / ceil1, med(i, |r| r.rate4) / ceil4);
    }
    println!(
        "{:<20} {:>10} {:>11} {:>11} {:>9} {:>9} {:>9}",
        "server", "bulk MB/s", "conn/s c=1", "conn/s c=4", "KiB/conn", "syscalls", "bytes"
    );
    let base = [med(0, |r| r.bulk), med(0, |r| r.rate1), med(0, |r| r.rate4), med(0, |r| r.mem_kib)];
    for (i, spec) in specs.iter().enumerate() {
        let m = [med(i, |r| r.bulk), med(i, |r| r.rate1), med(i, |r| r.rate4), med(i, |r| r.mem_kib)];
        // The ceiling is this program: its calls and bytes say nothing.
        let ours = spec.holds && spec.cmd[0].contains('/');
        let calls = if ours { startup_syscalls(spec).map_or("-".into(), |n| n.to_string()) } else { "-".into() };
        let size =
            if ours { std::fs::metadata(&spec.cmd[0]).map_or("-".into(), |m| m.len().to_string()) } else { "-".into() };
        let mem = if spec.holds { format!("{:.1}", m[3]) } else { "-".into() };
        println!("{:<20} {:>10.1} {:>11.0} {:>11.0} {:>9} {:>9} {:>9}", spec.name, m[0], m[1], m[2], mem, calls, size);
        if i > 0 {
            let mem = if spec.holds { format!("{:.2}x", base[3] / m[3]) } else { "-".into() };
            println!(
                "{:<20} {:>9.2}x {:>10.2}x {:>10.2}x {:>9}   (rot13d-static / this)",
                "",
                base[0] / m[0],
                base[1] / m[1],
                base[2] / m[2],
                mem
            );
        }
    }
    // The run-to-run noise, to read the ratios by: each row's connection
    // rate at concurrency 4, lowest and highest round against the median.
    if p.rounds > 1 {
        let spread: Vec<String> = specs
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let v: Vec<f64> = rows[i].iter().map(|r| r.rate4).collect();
                let (lo, hi) = v.iter().fold((f64::MAX, 0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
                let m = med(i, |r| r.rate4);
                format!("{} {:+.0}%/{:+.0}%", s.name, (lo / m - 1.0) * 100.0, (hi / m - 1.0) * 100.0)
            })
            .collect();
        println!("conn/s c=4, lowest/highest round against the median: {}", spread.join(", "));
    }
    println!();
    println!(
        "what one held session costs the machine, KiB ({} sessions held; /proc/meminfo rise / sessions; median of {} holds):",
        p.sessions, p.rounds
    );
    println!(
        "{:<20} {:>9} {:>7} {:>9} {:>9} {:>7}   {:>12}",
        "server", "machine", "slab", "kstack", "ptables", "anon", "USS+PTE"
    );
    for (i, spec) in specs.iter().enumerate() {
        // A rise below zero means the machine freed more than the sessions
        // took meanwhile (a busy machine): no figure, rather than a wrong one.
        if machines[i].is_some_and(|m| m.total <= 0.0) {
            println!("{:<20} {:>9}   (unmeasured: the machine freed memory during the hold)", spec.name, "-");
            continue;
        }
        if let Some(m) = machines[i] {
            println!(
                "{:<20} {:>9.1} {:>7.1} {:>9.1} {:>9.1} {:>7.1}   {:>12.1}",
                spec.name,
                m.total,
                m.slab,
                m.kernel_stack,
                m.page_tables,
                m.anon,
                med(i, |r| r.mem_kib)
            );
        }
    }
    if let Some(base) = machines[0].filter(|m| m.total > 0.0) {
        let ratios: Vec<String> = specs
            .iter()
            .zip(&machines)
            .skip(1)
            .filter_map(|(s, m)| {
                m.filter(|m| m.total > 0.0).map(|m| format!("{} {:.2}x", s.name, base.total / m.total))
            })
            .collect();
        println!("rot13d-static's machine cost / each: {}", ratios.join(", "));
    }
    let (gbs, n) = transform_speed(if smoke { 64 } else { 2048 });
    println!("rot13 transform (rot13d::rot13::rot13_words, SWAR, 8 bytes a step): {gbs:.2} GB/s over {n} MiB");
    println!(
        "{} rounds, medians; {} cores; {}",
        p.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_name()
    );
    if smoke {
        println!("bench smoke: 1 passed, 0 failed");
    }
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default()
}

/// The TCP port process `pid` listens on: the inodes of its sockets
/// (/proc/PID/fd) met among the listening ones of /proc/net/tcp and tcp6.
fn listening_port(pid: u32) -> Option<u16> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| l.to_str()?.strip_prefix("socket:[")?.strip_suffix(']').map(str::to_string))
        .collect();
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().find_map(|table| {
        std::fs::read_to_string(table).ok()?.lines().skip(1).find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // local address (hex ip:port), state 0A = LISTEN, inode.
            let port = u16::from_str_radix(f.get(1)?.rsplit(':').next()?, 16).ok()?;
            (f.get(3) == Some(&"0A") && inodes.iter().any(|i| Some(&i.as_str()) == f.get(9))).then_some(port)
        })
    })
}

struct Running {
    child: Child,
    port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        // The server and its children are one process group.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// The command that starts `spec` on port 0 (behind `wrapper`, e.g.
/// strace), in a process group of its own so that it and its children can
/// be killed together.
fn command(spec: &Spec, wrapper: &[&str]) -> Command {
    let args = spec.cmd[1..].iter().map(|a| a.replace("{port}", "0"));
    let mut cmd = Command::new(wrapper.first().copied().unwrap_or(&spec.cmd[0]));
    if !wrapper.is_empty() {
        cmd.args(&wrapper[1..]).arg(&spec.cmd[0]);
    }
    cmd.args(args).process_group(0).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    // Killed with the benchmark, whatever ends it: a failed check aborts
    // (panic = "abort"), and Drop would not run to kill the server.
    // SAFETY: prctl is async-signal-safe; this runs in the forked child.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    cmd
}

/// Starts `spec` and waits until it listens; its port comes from /proc.
fn start(spec: &Spec) -> Running {
    let child = command(spec, &[]).spawn().unwrap_or_else(|e| panic!("{}: {e}", spec.cmd[0]));
    let pid = child.id();
    let mut r = Running { child, port: 0 };
    let t = Instant::now();
    loop {
        if let Some(port) = listening_port(pid)
            && TcpStream::connect(("127.0.0.1", port)).is_ok()
        {
            r.port = port;
            return r;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "{} did not listen", spec.name);
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn measure(spec: &Spec, p: &Params) -> Row {
    let s = start(spec);
    let bulk = bulk(s.port, p.bulk_bytes);
    let rate1 = rate(s.port, 1, p.rate_time);
    let rate4 = rate(s.port, 4, p.rate_time);
    let mem_kib = if spec.holds { memory(&s, p.held) } else { 0.0 };
    Row { bulk, rate1, rate4, mem_kib }
}

fn which(prog: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(prog).is_file()))
}

/// `--iterative PORT`: one process, no fork: each connection is answered
/// (line by line, ROT13) until its end, then the next is accepted.
fn iterative(port: u16) -> ! {
    let l = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    let mut buf = vec![0u8; 65536 + rot13d::frame::SLACK];
    loop {
        let Ok((mut c, _)) = l.accept() else { continue };
        let mut lines = rot13d::frame::Lines::new(&mut buf);
        loop {
            let n = match c.read(lines.space()) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let k = lines.arrived(n);
            if k > 0 {
                if c.write_all(lines.ready(k)).is_err() {
                    break;
                }
                lines.sent(k);
            }
        }
        let _ = c.write_all(lines.held());
    }
}

/// The number of sessions that can be held, at most `want`: the soft limit
/// on open files is raised to the hard one first; a limit that still stops
/// it short is named.
fn session_limit(want: usize) -> usize {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write `lim`.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
    let mut nproc = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: as above.
    unsafe { libc::getrlimit(libc::RLIMIT_NPROC, &mut nproc) };
    let pid_max: usize =
        std::fs::read_to_string("/proc/sys/kernel/pid_max").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(32768);
    let running = std::fs::read_dir("/proc").map_or(0, |d| {
        d.filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit())))
            .count()
    });
    let avail_kib = meminfo().get("MemAvailable").copied().unwrap_or(f64::MAX);
    // Two processes a session at most (socat), 200 KiB each at most, and
    // room for the rest of the machine.
    let limits = [
        ("nofile (RLIMIT_NOFILE)", (lim.rlim_cur as usize).saturating_sub(200)),
        ("nproc (RLIMIT_NPROC)", (nproc.rlim_cur.min(1 << 30) as usize).saturating_sub(running + 200) / 2),
        ("pid_max", pid_max.saturating_sub(running + 200) / 2),
        ("memory (MemAvailable)", (avail_kib / 2.0 / 400.0) as usize),
    ];
    let mut n = want;
    for (name, most) in limits {
        if most < n {
            eprintln!("note: {name} allows {most} sessions, not {want}: holding {most}");
            n = most;
        }
    }
    n
}

/// /proc/meminfo, in KiB.
fn meminfo() -> std::collections::HashMap<String, f64> {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.to_string(), v.split_whitespace().next()?.parse().ok()?))
        })
        .collect()
}

/// Holds `n` sessions at once (each answers a line before and after) and
/// returns the rise of the machine's kernel and anonymous memory per
/// session; every session is closed and every process reaped before it
/// returns.
fn machine(s: &Running, n: usize) -> Machine {
    let parts = ["Slab", "KernelStack", "PageTables", "AnonPages"];
    let before = meminfo();
    let mut held = hold(s.port, n);
    std::thread::sleep(Duration::from_millis(300));
    let after = meminfo();
    for (i, c) in held.iter_mut().enumerate() {
        c.write_all(b"again\n").unwrap();
        let mut b = [0u8; 6];
        c.read_exact(&mut b).unwrap_or_else(|e| panic!("session {i} after the hold: {e}"));
        assert_eq!(&b, b"ntnva\n");
    }
    drop(held);
    let per = |k: &str| (after.get(k).unwrap_or(&0.0) - before.get(k).unwrap_or(&0.0)) / n as f64;
    let [slab, kernel_stack, page_tables, anon] = parts.map(per);
    // Wait for every session process to be gone before the next server.
    let pgid = s.child.id() as i32;
    let t = Instant::now();
    while group_size(pgid) > 1 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    Machine { total: slab + kernel_stack + page_tables + anon, slab, kernel_stack, page_tables, anon }
}

/// Opens `n` sessions to `port` and keeps them open, each after it has
/// answered a line exactly.
fn hold(port: u16, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| {
            let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("session {i}: {e}"));
            c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            c.write_all(b"held\n").unwrap();
            let mut b = [0u8; 5];
            c.read_exact(&mut b).unwrap_or_else(|e| panic!("session {i}: {e}"));
            assert_eq!(&b, b"uryq\n", "session {i}");
            c
        })
        .collect()
}

/// How many processes are in process group `pgid`.
fn group_size(pgid: i32) -> usize {
    std::fs::read_dir("/proc").map_or(0, |d| {
        d.filter_map(|e| e.ok())
            .filter(|e| {
                std::fs::read_to_string(e.path().join("stat")).ok().is_some_and(|st| {
                    st.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(2)?.parse::<i32>().ok())
                        == Some(pgid)
                })
            })
            .count()
    })
}

/// MB/s through one connection: lines written from one thread, read and
/// checked in another.
fn bulk(port: u16, bytes: usize) -> f64 {
    let input: Vec<u8> = LINE.iter().copied().cycle().take(bytes).collect();
    let want: Vec<u8> = input.iter().map(|&c| rot13d::rot13::rot13_char(c)).collect();
    let c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut w = c.try_clone().unwrap();
    let t = Instant::now();
    let writer = std::thread::spawn(move || {
        w.write_all(&input).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::with_capacity(bytes);
    (&c).take(bytes as u64).read_to_end(&mut got).unwrap();
    let secs = t.elapsed().as_secs_f64();
    writer.join().unwrap();
    assert!(got == want, "bulk: the reply differs from rot13(input)");
    bytes as f64 / 1e6 / secs
}

/// Connections per second: connect, one line, check the reply, close.
fn rate(port: u16, conc: usize, time: Duration) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let t = Instant::now();
    let threads: Vec<_> = (0..conc)
        .map(|_| {
            let (done, stop) = (done.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 14];
                while !stop.load(Ordering::Relaxed) {
                    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    c.write_all(b"Hello, World!\n").unwrap();
                    c.read_exact(&mut buf).unwrap();
                    assert_eq!(&buf, b"Uryyb, Jbeyq!\n");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(time);
    stop.store(true, Ordering::Relaxed);
    for th in threads {
        th.join().unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / t.elapsed().as_secs_f64()
}

/// KiB per held connection: each child's private pages and page tables.
fn memory(s: &Running, n: usize) -> f64 {
    let held = hold(s.port, n);
    let pid = s.child.id();
    let kids: Vec<u32> = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|k| k.parse().ok())
        .collect();
    let field = |text: &str, name: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .sum()
    };
    let mut total = 0.0;
    for k in &kids {
        let rollup = std::fs::read_to_string(format!("/proc/{k}/smaps_rollup")).unwrap_or_default();
        let status = std::fs::read_to_string(format!("/proc/{k}/status")).unwrap_or_default();
        total += field(&rollup, "Private_Clean:") + field(&rollup, "Private_Dirty:") + field(&status, "VmPTE:");
    }
    assert!(kids.len() >= n * 9 / 10, "only {} children for {n} connections", kids.len());
    drop(held);
    total / kids.len() as f64
}

/// System calls from execve to the first accept, under strace -f.
fn startup_syscalls(spec: &Spec) -> Option<usize> {
    Command::new("strace").arg("-V").output().ok()?;
    let log = std::env::temp_dir().join(format!("rot13d-bench-trace-{}", std::process::id()));
    let mut cmd = command(spec, &["strace", "-f", "-o", log.to_str()?]);
    let mut child = cmd.spawn().ok()?;
    let t = Instant::now();
    let count = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let calls: Vec<&str> = text.lines().filter_map(|l| l.split_whitespace().nth(1)).collect();
        if let Some(i) = calls.iter().position(|c| c.starts_with("accept")) {
            break Some(i + 1);
        }
        if t.elapsed() > Duration::from_secs(5) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    let _ = child.wait();
    let _ = std::fs::remove_file(&log);
    count
}

/// GB/s of the ROT13 transform alone, as the server calls it (whole words
/// over a buffer with slack), over 1 MiB.
fn transform_speed(mib: usize) -> (f64, usize) {
    let n = 1 << 20;
    let mut buf: Vec<u8> = LINE.iter().copied().cycle().take(n + rot13d::frame::SLACK).collect();
    rot13d::rot13::rot13_words(&mut buf, n);
    let t = Instant::now();
    for _ in 0..mib {
        rot13d::rot13::rot13_words(std::hint::black_box(&mut buf), n);
    }
    ((mib << 20) as f64 / 1e9 / t.elapsed().as_secs_f64(), mib)
}

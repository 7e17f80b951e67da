//! `make bench`: every server side by side in one run, rounds interleaved,
//! medians and ratios against rot13d-static.
//!
//!   rot13d-bench [--smoke]      (REF="name=cmd args:port;..." adds servers)
//!
//! bulk: MB/s through one connection, 64-byte lines pipelined, every byte
//! checked. rate: connect, one line, reply, close, at concurrency 1 and 4,
//! replies checked. memory: Private_Clean + Private_Dirty + VmPTE per child
//! while connections are held. startup: system calls from execve to the
//! first accept (strace -f). size: the executable's bytes.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Params {
    bulk_bytes: usize,
    rate_time: Duration,
    held: usize,
    rounds: usize,
}

/// A server to measure: how to start it on a port, and its executable.
struct Spec {
    name: String,
    /// Arguments; `{port}` is replaced by the port.
    cmd: Vec<String>,
    /// A server that cannot be told its port listens on this one.
    fixed_port: Option<u16>,
}

#[derive(Clone, Copy, Default)]
struct Row {
    bulk: f64,
    rate1: f64,
    rate4: f64,
    mem_kib: f64,
}

const LINE: &[u8; 64] = b"The quick brown fox jumps over the lazy dog; 0123456789 ABCDEFG\n";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let mut p = if smoke {
        Params { bulk_bytes: 1 << 20, rate_time: Duration::from_millis(200), held: 20, rounds: 1 }
    } else {
        Params { bulk_bytes: 16 << 20, rate_time: Duration::from_millis(1500), held: 200, rounds: 3 }
    };
    // `--rounds N`: more rounds, for a closer look at the spread.
    if let Some(n) = args.iter().position(|a| a == "--rounds").and_then(|i| args.get(i + 1)) {
        p.rounds = n.parse().expect("--rounds N");
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let exe = |p: &str| root.join(p).to_string_lossy().into_owned();
    let mut specs = vec![
        Spec { name: "rot13d-static".into(), cmd: vec![exe("target/static/rot13d"), "-q".into(), "-l".into(), "127.0.0.1".into(), "-p".into(), "{port}".into()], fixed_port: None },
        Spec { name: "rot13d (libc)".into(), cmd: vec![exe("target/release/rot13d"), "-q".into(), "-l".into(), "127.0.0.1".into(), "-p".into(), "{port}".into()], fixed_port: None },
        Spec { name: "C ref, gcc -O2".into(), cmd: vec![exe("bench/target/ref-gcc"), "{port}".into()], fixed_port: None },
    ];
    if root.join("bench/target/ref-musl").exists() {
        specs.push(Spec { name: "C ref, musl static".into(), cmd: vec![exe("bench/target/ref-musl"), "{port}".into()], fixed_port: None });
    } else {
        eprintln!("note: bench/target/ref-musl is not built (make bench builds it where musl-gcc is installed: apt-get install musl-tools): the musl row is left out");
    }
    for r in std::env::var("REF").unwrap_or_default().split(';').filter(|s| !s.is_empty()) {
        let (name, rest) = r.split_once('=').expect("REF=name=cmd:port");
        let (cmd, port) = rest.rsplit_once(':').expect("REF=name=cmd:port");
        let cmd = cmd.split_whitespace().map(|w| if w.contains('/') { exe(w) } else { w.to_string() }).collect();
        specs.push(Spec { name: name.into(), cmd, fixed_port: Some(port.parse().expect("port")) });
    }

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
    let med = |i: usize, f: fn(&Row) -> f64| {
        let mut v: Vec<f64> = rows[i].iter().map(f).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    println!("{:<20} {:>10} {:>11} {:>11} {:>9} {:>9} {:>9}", "server", "bulk MB/s", "conn/s c=1", "conn/s c=4", "KiB/conn", "syscalls", "bytes");
    let base = [med(0, |r| r.bulk), med(0, |r| r.rate1), med(0, |r| r.rate4), med(0, |r| r.mem_kib)];
    for (i, spec) in specs.iter().enumerate() {
        let m = [med(i, |r| r.bulk), med(i, |r| r.rate1), med(i, |r| r.rate4), med(i, |r| r.mem_kib)];
        let calls = startup_syscalls(spec).map_or("-".into(), |n| n.to_string());
        let size = std::fs::metadata(&spec.cmd[0]).map_or("-".into(), |m| m.len().to_string());
        println!("{:<20} {:>10.1} {:>11.0} {:>11.0} {:>9.1} {:>9} {:>9}", spec.name, m[0], m[1], m[2], m[3], calls, size);
        if i > 0 {
            println!(
                "{:<20} {:>9.2}x {:>10.2}x {:>10.2}x {:>8.2}x   (rot13d-static / this)",
                "",
                base[0] / m[0],
                base[1] / m[1],
                base[2] / m[2],
                base[3] / m[3]
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
    let (gbs, n) = transform_speed(if smoke { 64 } else { 2048 });
    println!("rot13 transform (rot13d::rot13::rot13_words, SWAR, 8 bytes a step): {gbs:.2} GB/s over {n} MiB");
    println!("{} rounds, medians; {} cores; {}", p.rounds, std::thread::available_parallelism().map_or(0, |n| n.get()), cpu_name());
    if smoke {
        println!("bench smoke: 1 passed, 0 failed");
    }
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_default()
}

/// A free loopback port below the kernel's ephemeral range.
fn free_port() -> u16 {
    let start = 20000 + (std::process::id() % 5000) as u16;
    (start..32000).find(|&p| TcpListener::bind(("127.0.0.1", p)).is_ok()).expect("a free port")
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

/// The command that starts `spec` on a free port (behind `wrapper`, e.g.
/// strace), in a process group of its own so that it and its children can
/// be killed together; and the port.
fn command(spec: &Spec, wrapper: &[&str]) -> (Command, u16) {
    let port = spec.fixed_port.unwrap_or_else(free_port);
    let args = spec.cmd[1..].iter().map(|a| a.replace("{port}", &port.to_string()));
    let mut cmd = Command::new(wrapper.first().copied().unwrap_or(&spec.cmd[0]));
    if !wrapper.is_empty() {
        cmd.args(&wrapper[1..]).arg(&spec.cmd[0]);
    }
    cmd.args(args).process_group(0).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    (cmd, port)
}

fn start(spec: &Spec) -> Running {
    let (mut cmd, port) = command(spec, &[]);
    let child = cmd.spawn().unwrap_or_else(|e| panic!("{}: {e}", spec.cmd[0]));
    let r = Running { child, port };
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(5), "{} did not listen on {port}", spec.name);
        std::thread::sleep(Duration::from_millis(5));
    }
    r
}

fn measure(spec: &Spec, p: &Params) -> Row {
    let s = start(spec);
    let bulk = bulk(s.port, p.bulk_bytes);
    let rate1 = rate(s.port, 1, p.rate_time);
    let rate4 = rate(s.port, 4, p.rate_time);
    let mem_kib = memory(&s, p.held);
    Row { bulk, rate1, rate4, mem_kib }
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
    let mut held = Vec::new();
    for _ in 0..n {
        let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        c.write_all(b"held\n").unwrap();
        let mut b = [0u8; 5];
        c.read_exact(&mut b).unwrap();
        held.push(c);
    }
    let pid = s.child.id();
    let kids: Vec<u32> = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|k| k.parse().ok())
        .collect();
    let field = |text: &str, name: &str| -> f64 {
        text.lines().filter(|l| l.starts_with(name)).filter_map(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()).sum()
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
    let (mut cmd, _) = command(spec, &["strace", "-f", "-o", log.to_str()?]);
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

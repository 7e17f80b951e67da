//! The seccomp filters (rot13d(8), CONFINEMENT): what the server may still
//! call once it listens, and what a session may call once it has its
//! connection. Each is a table of system call *names*, one a line with the
//! reason it is there, after OpenSSH's sandbox-seccomp-filter.c; the
//! numbers come by name from the kernel's headers (`linux-raw-sys`) for
//! whichever architecture this is built for, so one table serves them all.
//! Pure data, built at compile time; the platform layer hands it to the
//! kernel.
//!
//! A filter is a classic BPF program over `struct seccomp_data`: the
//! architecture check first (a call made in another convention, such as a
//! 32-bit one on a 64-bit kernel, has other numbers), then one comparison
//! per allowed call, and a kill for everything else.
//!
//! A session uses strict mode where it can: it allows the same four calls
//! as [`SESSION`] and costs the least to enter. A process under a filter
//! already (the server's, or a service manager's) cannot enter strict mode
//! (the kernel refuses a change of mode), so a session there adds
//! [`SESSION`] on top of what it runs under.

use core::mem::offset_of;
use linux_raw_sys::general::*;
use linux_raw_sys::ptrace::{
    BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W, SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS,
    seccomp_data, sock_filter,
};

/// The calling convention a filter allows (`AUDIT_ARCH_*`): the one this
/// program was built for. (On x86_64, x32 calls share it but have bit 30
/// set in their numbers, so they match no allowed call.)
#[cfg(target_arch = "x86_64")]
pub const AUDIT_ARCH: u32 = linux_raw_sys::ptrace::AUDIT_ARCH_X86_64;
#[cfg(target_arch = "aarch64")]
pub const AUDIT_ARCH: u32 = linux_raw_sys::ptrace::AUDIT_ARCH_AARCH64;
#[cfg(all(target_arch = "arm", target_endian = "little"))]
pub const AUDIT_ARCH: u32 = linux_raw_sys::ptrace::AUDIT_ARCH_ARM;
#[cfg(target_arch = "riscv64")]
pub const AUDIT_ARCH: u32 = linux_raw_sys::ptrace::AUDIT_ARCH_RISCV64;
#[cfg(all(target_arch = "mips", target_endian = "little"))]
pub const AUDIT_ARCH: u32 = linux_raw_sys::ptrace::AUDIT_ARCH_MIPSEL;

/// One line of a filter's table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Allow {
    /// The call, whatever its arguments.
    Call(u32),
    /// The call, only when its first argument is this value.
    Arg0(u32, u64),
}

/// What the server's accept loop calls once it listens, and what a forked
/// child calls before it adds [`SESSION`]: a session's calls must pass
/// both filters, so its reads are here too.
pub const PARENT: &[Allow] = &[
    Allow::Call(__NR_accept),                // the loop's one job
    Allow::Arg0(__NR_clone, SIGCHLD as u64), // fork, as clone(SIGCHLD): no threads, no namespaces
    Allow::Call(__NR_wait4),                 // the SIGCHLD handler's reaping
    Allow::Call(__NR_ppoll),                 // waiting for a client or a child's end; the log's readiness check
    #[cfg(target_pointer_width = "32")]
    Allow::Call(__NR_ppoll_time64), // the same with a 64-bit time (tried first on 32-bit machines)
    Allow::Call(__NR_rt_sigreturn),          // out of every handler
    Allow::Call(__NR_rt_sigaction),          // a child's SIGTERM and SIGINT back to their defaults
    Allow::Call(__NR_close),                 // a connection after fork; a child's listeners
    Allow::Call(__NR_write),                 // log lines; a session's replies
    Allow::Call(__NR_read),                  // a session's input
    Allow::Call(__NR_setsockopt),            // -t, in a child
    Allow::Call(__NR_seccomp),               // a child's own filter
    Allow::Call(__NR_exit),                  // SIGTERM's exit; a child's end
];

/// What strict mode allows: all a session needs once it has its
/// connection, its timeout and its signals set.
pub const SESSION: &[Allow] = &[
    Allow::Call(__NR_read),         // the client's bytes
    Allow::Call(__NR_write),        // their ROT13
    Allow::Call(__NR_exit),         // the end (exit, not exit_group, as in strict mode)
    Allow::Call(__NR_rt_sigreturn), // out of a handler
];

/// Offsets in `struct seccomp_data`: the call's number, its convention,
/// and the two halves of its first argument (a 64-bit field on every
/// architecture; the low half first on a little-endian one).
const NR: u32 = offset_of!(seccomp_data, nr) as u32;
const ARCH: u32 = offset_of!(seccomp_data, arch) as u32;
const ARG0: u32 = offset_of!(seccomp_data, args) as u32;
const ARG0_LOW: u32 = if cfg!(target_endian = "little") { ARG0 } else { ARG0 + 4 };
const ARG0_HIGH: u32 = if cfg!(target_endian = "little") { ARG0 + 4 } else { ARG0 };

/// Loads the 32-bit word at `offset` in `struct seccomp_data`.
const fn load(offset: u32) -> sock_filter {
    sock_filter { code: (BPF_LD | BPF_W | BPF_ABS) as u16, jt: 0, jf: 0, k: offset }
}

/// Skips `jt` instructions if the loaded word is `k`, else `jf`.
const fn jump_if(k: u32, jt: usize, jf: usize) -> sock_filter {
    sock_filter { code: (BPF_JMP | BPF_JEQ | BPF_K) as u16, jt: jt as u8, jf: jf as u8, k }
}

/// Ends the filter with `verdict`.
const fn verdict(verdict: u32) -> sock_filter {
    sock_filter { code: (BPF_RET | BPF_K) as u16, jt: 0, jf: 0, k: verdict }
}

/// How many instructions [`filter`] makes of `table`: the arch check and
/// the load of the number, one per call (five where an argument is
/// checked), the kill and the allow.
pub const fn filter_len(table: &[Allow]) -> usize {
    let mut n = 5;
    let mut i = 0;
    while i < table.len() {
        n += match table[i] {
            Allow::Call(_) => 1,
            Allow::Arg0(..) => 5,
        };
        i += 1;
    }
    n
}

/// The filter that allows what `table` says and kills the process on any
/// other call and on any other architecture. Built at compile time: `N`
/// must be [`filter_len`]`(table)`.
pub const fn filter<const N: usize>(table: &[Allow]) -> [sock_filter; N] {
    assert!(N == filter_len(table) && N < 256, "jumps are 8 bits");
    let (kill, allow) = (N - 2, N - 1);
    let mut f = [verdict(SECCOMP_RET_KILL_PROCESS); N];
    f[0] = load(ARCH); //                                the calling convention
    f[1] = jump_if(AUDIT_ARCH, 0, kill - 2); //          ours: on; any other: killed
    f[2] = load(NR); //                                  the call's number
    let (mut at, mut i) = (3, 0);
    while i < table.len() {
        match table[i] {
            Allow::Call(nr) => {
                f[at] = jump_if(nr, allow - at - 1, 0); //   this call: allowed
                at += 1;
            }
            Allow::Arg0(nr, arg) => {
                f[at] = jump_if(nr, 0, 4); //                 this call, or on past the argument's check
                f[at + 1] = load(ARG0_LOW);
                f[at + 2] = jump_if(arg as u32, 0, kill - at - 3); // its argument's low half, or killed
                f[at + 3] = load(ARG0_HIGH);
                f[at + 4] = jump_if((arg >> 32) as u32, allow - at - 5, kill - at - 5); // and high half
                at += 5;
            }
        }
        i += 1;
    }
    f[kill] = verdict(SECCOMP_RET_KILL_PROCESS); //      none of them: killed
    f[allow] = verdict(SECCOMP_RET_ALLOW);
    f
}

/// The server's filter, from after its startup line on.
pub const PARENT_FILTER: [sock_filter; filter_len(PARENT)] = filter(PARENT);

/// A session's filter, where it runs under one already and strict mode is
/// refused: on top of [`PARENT_FILTER`], or of a service manager's.
pub const SESSION_FILTER: [sock_filter; filter_len(SESSION)] = filter(SESSION);

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` as the kernel would for a call `nr` with first argument
    /// `arg0`, made in convention `arch`: the verdict. Only what the
    /// filters use: loads, equal-jumps, returns.
    fn run(f: &[sock_filter], arch: u32, nr: u32, arg0: u64) -> u32 {
        let (mut pc, mut acc) = (0, 0);
        loop {
            let i = f[pc];
            pc += 1;
            match i.code as u32 {
                c if c == BPF_LD | BPF_W | BPF_ABS => {
                    acc = match i.k {
                        ARCH => arch,
                        NR => nr,
                        ARG0_LOW => arg0 as u32,
                        ARG0_HIGH => (arg0 >> 32) as u32,
                        k => panic!("load of offset {k}"),
                    }
                }
                c if c == BPF_JMP | BPF_JEQ | BPF_K => pc += if acc == i.k { i.jt } else { i.jf } as usize,
                c if c == BPF_RET | BPF_K => return i.k,
                c => panic!("instruction {c:#x}"),
            }
        }
    }

    const KILL: u32 = SECCOMP_RET_KILL_PROCESS;
    const ALLOW: u32 = SECCOMP_RET_ALLOW;

    #[test]
    fn the_parent_is_allowed_its_calls_and_nothing_else() {
        let f = PARENT_FILTER;
        for entry in PARENT {
            match *entry {
                Allow::Call(nr) => assert_eq!(run(&f, AUDIT_ARCH, nr, 12345), ALLOW, "{nr}"),
                Allow::Arg0(nr, arg) => {
                    assert_eq!(run(&f, AUDIT_ARCH, nr, arg), ALLOW, "{nr}");
                    assert_eq!(run(&f, AUDIT_ARCH, nr, arg | 1 << 32), KILL, "{nr}: high half");
                    assert_eq!(run(&f, AUDIT_ARCH, nr, arg ^ 0x100), KILL, "{nr}: low half");
                }
            }
        }
        // fork as clone(SIGCHLD) only: a thread or a new namespace is killed.
        let thread = (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND) as u64;
        assert_eq!(run(&f, AUDIT_ARCH, __NR_clone, thread), KILL);
        assert_eq!(run(&f, AUDIT_ARCH, __NR_clone, (CLONE_NEWUSER | SIGCHLD) as u64), KILL);
        let allowed: Vec<u32> = PARENT
            .iter()
            .map(|a| match *a {
                Allow::Call(n) | Allow::Arg0(n, _) => n,
            })
            .collect();
        for nr in 0..1000 {
            if !allowed.contains(&nr) {
                assert_eq!(run(&f, AUDIT_ARCH, nr, 0), KILL, "{nr}");
            }
        }
        for nr in allowed {
            // Another convention, whatever the number means there.
            assert_eq!(run(&f, AUDIT_ARCH ^ 1, nr, SIGCHLD as u64), KILL, "{nr}");
            // x32's calls: the same numbers with bit 30 set.
            assert_eq!(run(&f, AUDIT_ARCH, nr | 0x4000_0000, SIGCHLD as u64), KILL, "{nr}");
        }
    }

    #[test]
    fn what_the_parent_must_never_do_is_killed() {
        let f = PARENT_FILTER;
        let mut never = vec![
            __NR_execve,
            __NR_execveat,
            __NR_openat,
            __NR_socket,
            __NR_connect,
            __NR_bind,
            __NR_ptrace,
            __NR_mprotect,
            __NR_kill,
            __NR_setuid,
            __NR_prctl,
            __NR_recvfrom,
            __NR_sendto,
            __NR_getpeername,
            __NR_ioctl,
            __NR_clone3,
            __NR_exit_group,
            __NR_unshare,
            __NR_setns,
        ];
        #[cfg(target_arch = "x86_64")]
        never.extend([__NR_open, __NR_fork, __NR_vfork]);
        #[cfg(target_pointer_width = "64")]
        never.push(__NR_mmap);
        #[cfg(target_pointer_width = "32")]
        never.push(__NR_mmap2);
        for nr in never {
            assert_eq!(run(&f, AUDIT_ARCH, nr, SIGCHLD as u64), KILL, "{nr}");
        }
    }

    #[test]
    fn a_session_can_only_read_write_and_end() {
        let f = SESSION_FILTER;
        let want = [__NR_read, __NR_write, __NR_exit, __NR_rt_sigreturn];
        for nr in 0..1000 {
            let verdict = if want.contains(&nr) { ALLOW } else { KILL };
            assert_eq!(run(&f, AUDIT_ARCH, nr, 0), verdict, "{nr}");
            assert_eq!(run(&f, AUDIT_ARCH ^ 1, nr, 0), KILL, "{nr}");
        }
    }

    #[test]
    fn the_names_are_the_c_librarys_numbers() {
        use libc::*;
        let pairs = [
            (__NR_accept, SYS_accept),
            (__NR_clone, SYS_clone),
            (__NR_wait4, SYS_wait4),
            (__NR_ppoll, SYS_ppoll),
            (__NR_rt_sigreturn, SYS_rt_sigreturn),
            (__NR_rt_sigaction, SYS_rt_sigaction),
            (__NR_close, SYS_close),
            (__NR_write, SYS_write),
            (__NR_read, SYS_read),
            (__NR_setsockopt, SYS_setsockopt),
            (__NR_seccomp, SYS_seccomp),
            (__NR_exit, SYS_exit),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours as c_long, theirs);
        }
        assert_eq!(SIGCHLD as c_int, libc::SIGCHLD);
    }

    #[test]
    fn jumps_land_on_the_verdicts() {
        let table = [Allow::Call(10), Allow::Arg0(11, 7), Allow::Call(12)];
        let f: [sock_filter; 12] = filter(&table);
        let a = AUDIT_ARCH;
        let got = [
            run(&f, a, 10, 0),
            run(&f, a, 11, 7),
            run(&f, a, 11, 8),
            run(&f, a, 12, 0),
            run(&f, a, 13, 0),
            run(&f, 1, 10, 0),
        ];
        assert_eq!(got, [ALLOW, ALLOW, KILL, ALLOW, KILL, KILL]);
    }
}

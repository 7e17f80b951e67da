//! The seccomp filters (rot13d(8), CONFINEMENT): what the parent may still
//! call once it listens, and what a session may call once it has its
//! connection. Pure data, built at compile time; `sys` hands them to the
//! kernel.
//!
//! Each is a classic BPF program over `struct seccomp_data` (the call's
//! number at offset 0, the calling convention's `AUDIT_ARCH_*` at 4): the
//! architecture check first, then one comparison per allowed call, and a
//! kill for everything else. Written after OpenSSH's
//! sandbox-seccomp-filter.c, with the allowed calls as a list, one a line.
//!
//! A session uses strict mode where it can (it costs less: see
//! `sys::confine_session`). A process in filter mode cannot enter strict
//! mode (the kernel refuses a change of mode), so a session under a filter
//! already (the parent's, or a service manager's) adds [`SESSION`], the
//! same four calls strict mode allows, on top.

/// One classic BPF instruction, as the kernel reads it (`struct sock_filter`).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `BPF_LD | BPF_W | BPF_ABS`: load the 32-bit word at offset `k`.
pub const LOAD: u16 = 0x20;
/// `BPF_JMP | BPF_JEQ | BPF_K`: skip `jt` if the word equals `k`, else `jf`.
pub const JUMP_IF_EQUAL: u16 = 0x15;
/// `BPF_RET | BPF_K`: the verdict `k`.
pub const RETURN: u16 = 0x06;

/// Offsets in `struct seccomp_data`.
pub const NR: u32 = 0;
pub const ARCH: u32 = 4;

/// `SECCOMP_RET_KILL_PROCESS`: the whole process dies of SIGSYS.
pub const KILL: u32 = 0x8000_0000;
/// `SECCOMP_RET_ALLOW`.
pub const ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_ERRNO | ENOSYS`: "no such call", for a newer call a C
/// library tries first and falls back from.
pub const NO_SUCH_CALL: u32 = 0x0005_0000 | 38;

/// `AUDIT_ARCH_X86_64`: 64-bit x86_64 calls (x32 ones share it, but their
/// numbers have bit 30 set and so match no allowed call).
#[cfg(target_arch = "x86_64")]
pub const THIS_ARCH: u32 = 0xc000_003e;

/// Loads the word at `offset` in `struct seccomp_data`.
const fn load(offset: u32) -> Insn {
    Insn { code: LOAD, jt: 0, jf: 0, k: offset }
}

/// Skips `skip` instructions if the loaded word is `k`, else none.
const fn skip_if(k: u16, skip: usize) -> Insn {
    Insn { code: JUMP_IF_EQUAL, jt: skip as u8, jf: 0, k: k as u32 }
}

/// Ends the filter with `verdict`.
const fn verdict(verdict: u32) -> Insn {
    Insn { code: RETURN, jt: 0, jf: 0, k: verdict }
}

/// The filter that allows the calls in `allowed`, answers those in
/// `enosys` with ENOSYS, and kills the process on any other call and on
/// any other architecture than x86_64. Built at compile time: `N` must be
/// [`filter_len`]`(allowed.len(), enosys.len())`.
#[cfg(target_arch = "x86_64")]
const fn filter<const N: usize>(allowed: &[u16], enosys: &[u16]) -> [Insn; N] {
    let (a, e) = (allowed.len(), enosys.len());
    assert!(N == filter_len(a, e) && a + e < 250);
    let mut f = [verdict(KILL); N];
    f[0] = load(ARCH); //                               the calling convention
    f[1] = Insn { code: JUMP_IF_EQUAL, jt: 0, jf: (a + e + 1) as u8, k: THIS_ARCH }; // ours: on; any other: to the KILL
    f[2] = load(NR); //                                 the call's number
    let mut i = 0;
    while i < a {
        f[3 + i] = skip_if(allowed[i], a + e - i); //    to the ALLOW below
        i += 1;
    }
    let mut j = 0;
    while j < e {
        f[3 + a + j] = skip_if(enosys[j], e - j + 1); // to the NO_SUCH_CALL
        j += 1;
    }
    f[3 + a + e] = verdict(KILL); //                    none of them (or not ours): killed
    f[4 + a + e] = verdict(ALLOW);
    if e > 0 {
        f[5 + a + e] = verdict(NO_SUCH_CALL);
    }
    f
}

/// How many instructions [`filter`] makes: the arch check and the load of
/// the number, one per call, the KILL and the ALLOW, and the ENOSYS answer
/// where some call gets it.
pub const fn filter_len(allowed: usize, enosys: usize) -> usize {
    allowed + enosys + 5 + (enosys > 0) as usize
}

/// x86_64's call numbers (arch/x86/entry/syscalls/syscall_64.tbl), the
/// ones the filters name; the tests check them against the C library's.
#[cfg(target_arch = "x86_64")]
mod nr {
    pub const READ: u16 = 0;
    pub const WRITE: u16 = 1;
    pub const CLOSE: u16 = 3;
    pub const RT_SIGACTION: u16 = 13;
    pub const RT_SIGPROCMASK: u16 = 14;
    pub const RT_SIGRETURN: u16 = 15;
    pub const NANOSLEEP: u16 = 35;
    pub const ACCEPT: u16 = 43;
    pub const SETSOCKOPT: u16 = 54;
    pub const FORK: u16 = 57;
    pub const EXIT: u16 = 60;
    pub const WAIT4: u16 = 61;
    pub const RT_SIGSUSPEND: u16 = 130;
    pub const PPOLL: u16 = 271;
    pub const SECCOMP: u16 = 317;
}

#[cfg(target_arch = "x86_64")]
mod calls {
    use super::nr::*;

    /// What the parent's accept loop calls, in either build, and what a
    /// child calls before it adds [`SESSION`](super::SESSION). A session's
    /// calls must pass both filters, so its reads are here too.
    pub const PARENT: [u16; 15] = [
        ACCEPT,          // the loop's one job
        FORK,            // a child per connection (the system call, in both builds)
        WAIT4,           // the SIGCHLD handler's reaping
        RT_SIGACTION,    // SIGCHLD and SIGPIPE at the first connection; a child's defaults
        RT_SIGPROCMASK,  // SIGCHLD held back around fork
        RT_SIGSUSPEND,   // waiting at the -c limit
        RT_SIGRETURN,    // out of every handler
        CLOSE,           // a connection after fork; a child's listener
        WRITE,           // log lines; a session's replies
        READ,            // a session's input
        PPOLL,           // whether stderr takes a log line now
        NANOSLEEP,       // the pause after EMFILE and the like
        SETSOCKOPT,      // -t, in a child
        SECCOMP,         // a child's own filter
        EXIT,            // SIGTERM's exit; a child's end
    ];

    /// Newer calls a C library tries first, to be answered ENOSYS so that
    /// it falls back to one above instead of the process being killed.
    /// None now: glibc's fork() tried clone3 before clone, but both builds
    /// make fork as the system call (`sys::fork`).
    pub const PARENT_ENOSYS: [u16; 0] = [];

    /// What strict mode allows: all a session needs once it has its
    /// connection, its timeouts and its signals set.
    pub const SESSION: [u16; 4] = [
        READ,         // the client's bytes
        WRITE,        // their rot13
        EXIT,         // the end (not exit_group, as in strict mode)
        RT_SIGRETURN, // out of a handler
    ];
}

/// The parent's filter, from the first connection on (rot13d(8), CONFINEMENT).
#[cfg(target_arch = "x86_64")]
pub const PARENT: [Insn; filter_len(calls::PARENT.len(), calls::PARENT_ENOSYS.len())] = filter(&calls::PARENT, &calls::PARENT_ENOSYS);

/// A session's filter, where it is under one already and strict mode is
/// refused: on top of [`PARENT`], or of a service manager's.
#[cfg(target_arch = "x86_64")]
pub const SESSION: [Insn; filter_len(calls::SESSION.len(), 0)] = filter(&calls::SESSION, &[]);

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` as the kernel would for call `nr` made in convention `arch`:
    /// the verdict. Only what the filters use: loads, equal-jumps, returns.
    fn run(f: &[Insn], arch: u32, nr: u32) -> u32 {
        let (mut pc, mut acc) = (0, 0);
        loop {
            let i = f[pc];
            pc += 1;
            match i.code {
                LOAD => acc = if i.k == ARCH { arch } else { assert_eq!(i.k, NR); nr },
                JUMP_IF_EQUAL => pc += if acc == i.k { i.jt } else { i.jf } as usize,
                RETURN => return i.k,
                c => panic!("instruction {c:#x}"),
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn parent_allows_its_calls_and_kills_the_rest() {
        let parent = PARENT;
        for nr in calls::PARENT {
            assert_eq!(run(&parent, THIS_ARCH, nr as u32), ALLOW, "{nr}");
        }
        use libc::*;
        for nr in [SYS_execve, SYS_execveat, SYS_open, SYS_openat, SYS_socket, SYS_connect, SYS_bind, SYS_ptrace,
            SYS_mprotect, SYS_mmap, SYS_kill, SYS_setuid, SYS_prctl, SYS_recvfrom, SYS_sendto, SYS_getpeername, SYS_ioctl,
            SYS_clone, SYS_clone3]
        {
            assert_eq!(run(&parent, THIS_ARCH, nr as u32), KILL, "{nr}");
        }
        // x32's accept: the same number with bit 30 set.
        assert_eq!(run(&parent, THIS_ARCH, SYS_accept as u32 | 0x4000_0000), KILL);
        // A 32-bit call (int 0x80) never reaches the numbers: 43 is times() there.
        assert_eq!(run(&parent, 0x4000_0003, SYS_accept as u32), KILL);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_numbers_are_the_c_librarys() {
        use libc::*;
        let ours = [nr::READ, nr::WRITE, nr::CLOSE, nr::RT_SIGACTION, nr::RT_SIGPROCMASK, nr::RT_SIGRETURN,
            nr::NANOSLEEP, nr::ACCEPT, nr::SETSOCKOPT, nr::FORK, nr::EXIT, nr::WAIT4, nr::RT_SIGSUSPEND,
            nr::PPOLL, nr::SECCOMP];
        let libc = [SYS_read, SYS_write, SYS_close, SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn,
            SYS_nanosleep, SYS_accept, SYS_setsockopt, SYS_fork, SYS_exit, SYS_wait4, SYS_rt_sigsuspend,
            SYS_ppoll, SYS_seccomp];
        assert_eq!(ours.map(|n| n as i64), libc);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn a_session_can_only_read_write_and_end() {
        let session = SESSION;
        for nr in 0..1000 {
            let want = if calls::SESSION.contains(&(nr as u16)) { ALLOW } else { KILL };
            assert_eq!(run(&session, THIS_ARCH, nr), want, "{nr}");
            assert_eq!(run(&session, 0x4000_0003, nr), KILL, "{nr}");
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn jumps_land_on_the_verdicts() {
        let f: [Insn; 9] = filter(&[10, 11], &[12]);
        let a = THIS_ARCH;
        assert_eq!([run(&f, a, 10), run(&f, a, 11), run(&f, a, 12), run(&f, a, 13), run(&f, 1, 10)], [ALLOW, ALLOW, NO_SUCH_CALL, KILL, KILL]);
    }
}

//! The platform seam: the binary's one door to the kernel besides rustix, and
//! (with `arch`) the only place `unsafe` is allowed.
//!
//! The default build gets sigaction and its entry point from the C library
//! (and fork, but on x86_64, where `arch` makes the bare call), and makes
//! exit, rt_sigprocmask, rt_sigsuspend, prctl and seccomp through its
//! `syscall()`; the `nolibc` build gets the same from `arch` as raw system
//! calls. Everything else is rustix, inline, in both.
#![allow(unsafe_code)]

use core::ffi::c_int;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use rot13d::frame::SLACK;
use rot13d::msg::Msg;
pub use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
pub use rustix::io::{Errno, Result};

#[cfg(target_arch = "x86_64")]
use crate::arch;

/// Signal numbers, from the platform's headers.
#[cfg(not(feature = "nolibc"))]
pub use libc::{SIGCHLD, SIGINT, SIGPIPE, SIGTERM};
#[cfg(feature = "nolibc")]
pub use arch::{SIGCHLD, SIGINT, SIGPIPE, SIGTERM};

/// A signal handler, as the kernel calls it.
pub type Handler = extern "C" fn(c_int);

/// The program's arguments or environment: a NULL-terminated array of C
/// strings, as the entry point received it.
#[derive(Clone, Copy)]
pub struct CStrs(*const *const u8);

impl Iterator for CStrs {
    type Item = &'static [u8];

    fn next(&mut self) -> Option<&'static [u8]> {
        // SAFETY: a `CStrs` is made only by the entry point, from the argv or
        // envp the kernel laid out: NULL-terminated arrays of NUL-terminated
        // strings that stay in place, unchanged, until the process ends.
        unsafe {
            let s = *self.0;
            if s.is_null() {
                return None;
            }
            self.0 = self.0.add(1);
            let mut n = 0;
            while *s.add(n) != 0 {
                n += 1;
            }
            Some(core::slice::from_raw_parts(s, n))
        }
    }
}

/// `main(argc, argv, envp)`—The C library's start-up code calls this.
///
/// On x86_64 the program then runs on a stack of its own, and the kernel's
/// stack, where this frame is, stays out of every child, as in the static
/// build (see `arch::dontfork_stack`): a held session needs three
/// page-table pages fewer. Nothing a child runs reads the arguments or the
/// environment, which live there.
#[cfg(not(feature = "nolibc"))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: c_int, argv: *const *const u8, envp: *const *const u8) -> c_int {
    #[cfg(target_arch = "x86_64")]
    {
        arch::dontfork_stack(&raw const argv as usize);
        // SAFETY: nothing on this frame is used after the switch.
        unsafe { arch::run_on_stack(main_on_stack, argv as usize, envp as usize) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: the C library calls `main` once.
    crate::main(CStrs(argv), CStrs(envp), unsafe { line_buffer() })
}

/// The rest of `main`, on the stack of its own; ends with `exit`.
#[cfg(all(not(feature = "nolibc"), target_arch = "x86_64"))]
extern "C" fn main_on_stack(argv: usize, envp: usize) -> ! {
    // SAFETY: `main` runs once, and this from it.
    exit(crate::main(CStrs(argv as *const *const u8), CStrs(envp as *const *const u8), unsafe { line_buffer() }))
}

/// Our `_start` (in `arch`) calls this with the initial stack pointer.
///
/// # Safety
/// `sp` must be the stack pointer the kernel set at execve: argc, then argv,
/// NULL, envp, NULL (System V ABI, §3.4.1).
#[cfg(feature = "nolibc")]
pub unsafe extern "C" fn start(sp: *const usize) -> ! {
    // SAFETY: the layout above, by this function's contract.
    let (argv, envp) = unsafe {
        let argc = *sp;
        let argv = sp.add(1) as *const *const u8;
        (argv, argv.add(argc + 1))
    };
    arch::dontfork_stack(sp as usize);
    // SAFETY: `_start` runs once, and this from it.
    exit(crate::main(CStrs(argv), CStrs(envp), unsafe { line_buffer() }))
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // The message is not formatted: that would bring in core::fmt. A panic is
    // a bug; 70 is EX_SOFTWARE.
    exit(70)
}

/// Test builds compile the dependencies for unwinding, and they then name the
/// unwinder's personality routine. Nothing unwinds here (panic = "abort").
#[cfg(debug_assertions)]
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

/// `exit(code)`—Ends the process at once; the kernel closes its fds.
///
/// The `exit` call, not `exit_group` (the C library's `_exit`): it is the
/// one a session in strict mode may make, and in a process of one thread
/// the two are the same.
pub fn exit(code: c_int) -> ! {
    #[cfg(not(feature = "nolibc"))]
    // SAFETY: exit takes any status and does not return.
    unsafe {
        libc::syscall(libc::SYS_exit, code);
        core::hint::unreachable_unchecked()
    }
    #[cfg(feature = "nolibc")]
    arch::exit(code)
}

/// What [`fork`] returns in each process.
pub enum Fork {
    Child,
    Parent(i32),
}

/// `fork()`—Creates a child process, a copy of this one.
///
/// On x86_64 the bare system call, in the default build too: the C
/// library's fork() runs its at-fork handlers and resets its locks in the
/// child (malloc's, stdio's, its thread block), which a child that only
/// makes system calls does not need and which cost every session pages of
/// its own and time. (The child calls nothing of the C library's but
/// sigaction and syscall.)
#[inline(always)] // one caller; out of line, the Result goes through memory
pub fn fork() -> Result<Fork> {
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: the process is single-threaded, so the child may call anything
    // the parent could.
    let pid = unsafe { libc::fork() };
    #[cfg(not(target_arch = "x86_64"))]
    if pid < 0 {
        return Err(errno());
    }
    #[cfg(target_arch = "x86_64")]
    let pid = arch::fork()?;
    Ok(if pid == 0 { Fork::Child } else { Fork::Parent(pid) })
}

/// The C library's `errno`, as rustix reports errors.
#[cfg(not(feature = "nolibc"))]
fn errno() -> Errno {
    // SAFETY: `__errno_location` returns this thread's errno, always valid.
    Errno::from_raw_os_error(unsafe { *libc::__errno_location() })
}

/// `SA_RESTART`: a blocking call the handler interrupted carries on.
#[cfg(not(feature = "nolibc"))]
pub const RESTART: u32 = libc::SA_RESTART as u32;
#[cfg(feature = "nolibc")]
pub const RESTART: u32 = 0x1000_0000;
/// `SA_RESETHAND`: the handler runs once; the next signal gets the default.
#[cfg(not(feature = "nolibc"))]
pub const ONCE: u32 = libc::SA_RESETHAND as u32;
#[cfg(feature = "nolibc")]
pub const ONCE: u32 = 0x8000_0000;

/// `SIG_DFL` and `SIG_IGN`, for [`sigaction`].
pub const DEFAULT: usize = 0;
pub const IGNORE: usize = 1;

/// `sigaction(sig, {handler, flags})`—Sets how signal `sig` is handled:
/// by `handler` (a [`Handler`] as a number), or ignored ([`IGNORE`]).
pub fn sigaction(sig: c_int, h: usize, flags: u32) {
    #[cfg(not(feature = "nolibc"))]
    // SAFETY: `act` is fully initialised (zeroed: empty mask) before the
    // call; the handlers are `extern "C" fn(c_int)` that only touch atomics
    // and make async-signal-safe system calls.
    unsafe {
        let mut act: libc::sigaction = core::mem::zeroed();
        act.sa_sigaction = h;
        act.sa_flags = flags as c_int;
        libc::sigaction(sig, &act, core::ptr::null_mut());
    }
    #[cfg(feature = "nolibc")]
    arch::sigaction(sig, h, flags as u64);
}

/// `sigaction(SIGPIPE, SIG_IGN)` once: a peer that closed early turns our
/// writes into EPIPE errors instead of killing us. Done on first need (the
/// first message, `-i`, the first connection: children inherit it) rather
/// than at start-up, which keeps the trace to the first accept short.
pub fn ignore_sigpipe() {
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.swap(true, Relaxed) {
        sigaction(SIGPIPE, IGNORE, 0);
    }
}

/// SIGCHLD's bit in the first word of a `sigset_t`: sigaddset and sigdelset
/// without the calls (each imported function costs the binary its symbol,
/// name, relocation and GOT slot).
#[cfg(not(feature = "nolibc"))]
const CHLD_BIT: libc::c_ulong = 1 << (SIGCHLD - 1);

/// The first word of a `sigset_t`, where signals 1 to 32 have their bits.
#[cfg(not(feature = "nolibc"))]
fn first_word(set: &mut libc::sigset_t) -> &mut libc::c_ulong {
    // SAFETY: every Linux C library (glibc, musl, bionic) lays a sigset_t
    // out as the kernel does: unsigned longs, signal N at bit (N - 1) % BITS
    // of word (N - 1) / BITS; the first word is at its start, aligned.
    unsafe { &mut *(set as *mut libc::sigset_t as *mut libc::c_ulong) }
}

/// The kernel's signal set, in bytes: 64 signals, 128 on MIPS. The default
/// build calls rt_sigprocmask and rt_sigsuspend through syscall() with it,
/// where the C library's wrappers would each be one more imported function
/// and add nothing a single-threaded process needs.
#[cfg(not(feature = "nolibc"))]
const KERNEL_SIGSET: usize = if cfg!(any(target_arch = "mips", target_arch = "mips32r6", target_arch = "mips64", target_arch = "mips64r6")) { 16 } else { 8 };

/// A saved signal mask.
#[cfg(not(feature = "nolibc"))]
pub struct Mask(libc::sigset_t);
#[cfg(feature = "nolibc")]
pub struct Mask(u64);

/// `sigprocmask(how, {SIGCHLD}, &old)`—Blocks (`SIG_BLOCK`) or unblocks
/// (`SIG_UNBLOCK`) SIGCHLD; returns the mask from before.
fn mask_children(block: bool) -> Mask {
    #[cfg(not(feature = "nolibc"))]
    // SAFETY: an all-zero sigset_t is the empty set (what sigemptyset
    // writes, in glibc and musl alike); `old` is filled in by sigprocmask.
    unsafe {
        let mut set: libc::sigset_t = core::mem::zeroed();
        let mut old: libc::sigset_t = core::mem::zeroed();
        *first_word(&mut set) |= CHLD_BIT;
        let how = if block { libc::SIG_BLOCK } else { libc::SIG_UNBLOCK };
        libc::syscall(libc::SYS_rt_sigprocmask, how, &set, &mut old, KERNEL_SIGSET);
        Mask(old)
    }
    #[cfg(feature = "nolibc")]
    {
        Mask(arch::sigprocmask(if block { 0 } else { 1 }, 1 << (SIGCHLD - 1)))
    }
}

/// Holds SIGCHLD back; returns the mask from before.
pub fn block_children() -> Mask {
    mask_children(true)
}

impl Mask {
    /// This mask less SIGCHLD (which may have come blocked from whoever
    /// started us): the mask to wait in (see [`suspend`]). Made once.
    pub fn open(self) -> Mask {
        #[cfg(not(feature = "nolibc"))]
        {
            let mut m = self.0;
            *first_word(&mut m) &= !CHLD_BIT;
            Mask(m)
        }
        #[cfg(feature = "nolibc")]
        Mask(self.0 & !(1 << (SIGCHLD - 1)))
    }
}

/// Lets SIGCHLD through.
pub fn unblock_children() {
    mask_children(false);
}

/// `sigsuspend(open)`—Sleeps until a handler has run, with SIGCHLD let
/// through: a check made while it was blocked cannot miss one.
pub fn suspend(old: &Mask) {
    #[cfg(not(feature = "nolibc"))]
    // SAFETY: `old` was filled in by rt_sigprocmask.
    unsafe {
        libc::syscall(libc::SYS_rt_sigsuspend, &old.0, KERNEL_SIGSET);
    }
    #[cfg(feature = "nolibc")]
    arch::sigsuspend(old.0);
}


/// Standard input, output and error, and the sockets systemd passes from
/// fd 3 on: open for the whole life of the process by convention; if one
/// is closed, calls on it fail with EBADF, handled there.
/// Always inlined: `fd` is a constant, so rustix's check that it is not -1
/// folds away.
#[inline(always)]
pub fn stdio(fd: c_int) -> BorrowedFd<'static> {
    // SAFETY: see above; a `BorrowedFd` of a closed fd is only ever an error.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// `write(2, m)`—Writes one message to stderr with one write, so lines
/// from the parent and its SIGCHLD handler never interleave; or drops it.
///
/// Clients decide how much `-v` logs, so a log reader that stalls (stderr a
/// pipe nobody drains) must not stall the server: a line goes out only if
/// poll says stderr takes it now (on a pipe: a free page, more than a line
/// needs), else it is dropped and counted, as syslog does, and the count
/// goes out first with the next line that can. The SIGCHLD handler cannot
/// interrupt this: every caller runs with SIGCHLD blocked, or before the
/// handler is set, or is the handler.
pub fn say(m: &mut Msg) {
    ignore_sigpipe();
    let err = stdio(2);
    let mut ready = [rustix::event::PollFd::new(&err, rustix::event::PollFlags::OUT)];
    let now = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };
    if rustix::event::poll(&mut ready, Some(&now)) != Ok(1) {
        STATE.dropped.fetch_add(1, Relaxed);
        return;
    }
    let dropped = STATE.dropped.swap(0, Relaxed);
    if dropped > 0 {
        let mut count = Msg::new(b"");
        count.num(dropped).push(b" log lines dropped (stderr was full)");
        let _ = rustix::io::write(err, count.line());
    }
    let _ = rustix::io::write(err, m.line());
}

/// The size of a session's line buffer: a line longer than this goes out in
/// pieces of this size.
pub const LINE_MAX: usize = 64 * 1024;

/// The process's mutable state, in one page with the start of the line buffer.
///
/// After fork, a page that either process writes becomes a private copy in
/// the child. The parent writes the child count at every fork and reap; the
/// child writes its first bytes of data. In one page, all that
/// costs a child one page of memory, not two.
#[repr(C, align(4096))]
pub struct State {
    /// Live children: raised before fork, lowered on fork failure and on reap.
    pub children: AtomicU32,
    /// The parent has its filter, and so no_new_privs, which a child
    /// inherits and could not set again under that filter (see
    /// [`confine_session`]). The static build has no parent filter.
    #[cfg(not(feature = "nolibc"))]
    pub filtered: AtomicBool,
    /// `-v`: the SIGCHLD handler logs every end.
    pub verbose: AtomicBool,
    /// Log lines dropped since the last one written (see [`say`]).
    pub dropped: AtomicU32,
    line: UnsafeCell<[u8; LINE_MAX + SLACK]>,
}

// SAFETY: all but `line` are atomics; `line` is reached only through
// `line_buffer`, which the entry point calls once.
unsafe impl Sync for State {}

pub static STATE: State = State {
    children: AtomicU32::new(0),
    #[cfg(not(feature = "nolibc"))]
    filtered: AtomicBool::new(false),
    verbose: AtomicBool::new(false),
    dropped: AtomicU32::new(0),
    line: UnsafeCell::new([0; LINE_MAX + SLACK]),
};

/// A session's line buffer: one per process, made by the entry point and
/// handed down to the session that uses it.
///
/// It is static, not on the stack: the compiler probes every page of a large
/// stack frame, so a 64 KiB array there would cost every child 64 KiB of
/// memory; here a child touches only the pages its data reaches.
pub type LineBuffer = &'static mut [u8; LINE_MAX + SLACK];

/// The line buffer, for the entry point to hand to `main`.
///
/// # Safety
/// Called once per process: the reference is then the only one.
unsafe fn line_buffer() -> LineBuffer {
    // SAFETY: by the contract, this is the only reference; the process is
    // single-threaded and no signal handler touches it.
    unsafe { &mut *STATE.line.get() }
}

/// `close_range(first, ~0U, 0)`—Closes every fd from `first` on: whatever
/// the launcher left open that is not ours. Kernels before 5.9 have no
/// close_range; there the fds below 1024 are closed one by one.
pub fn close_from(first: c_int) {
    #[cfg(not(feature = "nolibc"))]
    // SAFETY: close_range only closes fds; none of ours is open from `first` on.
    let done = unsafe { libc::syscall(libc::SYS_close_range, first as u32, u32::MAX, 0) } == 0;
    #[cfg(feature = "nolibc")]
    let done = arch::close_range(first as u32).is_ok();
    if !done {
        for fd in first..1024 {
            close(fd);
        }
    }
}

/// `ioctl(fd, FIONBIO, 0)`—Makes `fd` blocking, if a launcher passed it
/// non-blocking (on a socket shared with it, for it too).
pub fn set_blocking(fd: BorrowedFd<'_>) {
    let _ = rustix::io::ioctl_fionbio(fd, false);
}

/// `close(fd)`—For [`close_from`]'s fall-back: an fd from start-up that
/// nothing in this process owns.
fn close(fd: c_int) {
    use rustix::fd::FromRawFd;
    // SAFETY: at start-up no `OwnedFd` holds an fd from `first` on, and
    // nothing uses these numbers after this; EBADF for one that was not
    // open is ignored.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
}

/// A socket systemd passed (fd 3 on), to own from now on.
pub fn own_fd(fd: c_int) -> OwnedFd {
    use rustix::fd::FromRawFd;
    // SAFETY: the caller checked LISTEN_PID and LISTEN_FDS: `fd` was passed
    // to this process to own, and it is taken once.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// The C library's errno, saved by a signal handler (0 without libc).
pub fn errno_save() -> c_int {
    #[cfg(not(feature = "nolibc"))]
    // SAFETY: `__errno_location` returns this thread's errno, always valid.
    return unsafe { *libc::__errno_location() };
    #[cfg(feature = "nolibc")]
    0
}

/// Puts back what [`errno_save`] saved.
pub fn errno_restore(_saved: c_int) {
    #[cfg(not(feature = "nolibc"))]
    // SAFETY: as in `errno_save`.
    unsafe {
        *libc::__errno_location() = _saved;
    }
}

/// The IP address and port in a socket address from accept or getsockname
/// (read in place: rustix's conversion to `SocketAddr` costs more code);
/// `None` for another family (a Unix socket from socket activation).
/// Always inlined into its two callers: returned, the 20-byte pair goes
/// through memory (-96 bytes in the static build).
#[inline(always)]
pub fn ip_port(addr: &rustix::net::SocketAddrAny) -> Option<(rot13d::addr::Ip, u16)> {
    use rot13d::addr::Ip;
    // SAFETY: `as_ptr` points to a whole sockaddr_storage (128 bytes, more
    // than the 28 read here) owned by `addr`, which the kernel filled in.
    let b = unsafe { &*(addr.as_ptr() as *const [u8; 28]) };
    let port = u16::from_be_bytes([b[2], b[3]]);
    match u16::from_ne_bytes([b[0], b[1]]) {
        // AF_INET6: sin6_addr after family, port and flow label.
        10 => {
            let mut a = [0; 16];
            a.copy_from_slice(&b[8..24]);
            Some((Ip::v6(a), port))
        }
        2 => Some((Ip::v4([b[4], b[5], b[6], b[7]]), port)),
        _ => None,
    }
}

/// `prctl(option, arg, arg3, 0, 0)`.
fn prctl(option: c_int, arg: usize, arg3: usize) -> Result<()> {
    #[cfg(not(feature = "nolibc"))]
    // SAFETY: the options used here take numbers, or (PR_SET_SECCOMP's
    // filter mode) a live `sock_fprog` the kernel copies before it returns.
    // Through syscall(), not prctl(): one C library function imported fewer.
    return match unsafe { libc::syscall(libc::SYS_prctl, option, arg, arg3, 0, 0) } {
        r if r >= 0 => Ok(()),
        _ => Err(errno()),
    };
    #[cfg(feature = "nolibc")]
    arch::prctl(option as usize, arg, arg3)
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`—Nothing this process or its children
/// run can gain privileges (setuid bits, file capabilities) from now on;
/// the kernel requires it before an unprivileged process sets a filter.
fn no_new_privs() -> Result<()> {
    prctl(38, 1, 0)
}

/// `prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)`—From now on this process
/// can only read, write, return from a handler and `exit`.
fn strict_mode() -> Result<()> {
    prctl(22, 1, 0)
}

/// `struct sock_fprog`: a filter as the kernel takes it.
#[cfg(target_arch = "x86_64")]
#[repr(C)]
struct Program {
    len: u16,
    filter: *const rot13d::sandbox::Insn,
}

#[cfg(target_arch = "x86_64")]
impl Program {
    fn of(filter: &[rot13d::sandbox::Insn]) -> Program {
        Program { len: filter.len() as u16, filter: filter.as_ptr() }
    }
}

/// `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)`—From now on this
/// process and its children may make only the calls `filter` allows (and
/// those that every filter set before allows). The caller has set
/// no_new_privs (which children inherit), as the kernel requires of an
/// unprivileged process. Through prctl, as strict mode: the seccomp call
/// does the same but came only with Linux 3.17, filters with 3.5.
#[cfg(target_arch = "x86_64")]
fn prctl_filter(filter: &[rot13d::sandbox::Insn]) -> Result<()> {
    prctl(22, 2, &Program::of(filter) as *const Program as usize)
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, 0, &prog)`—The same through the seccomp
/// call: the parent's filter allows that call, not prctl, so the parent
/// sets its filter this way only where its sessions can add theirs so.
#[cfg(all(target_arch = "x86_64", not(feature = "nolibc")))]
fn seccomp_filter(filter: &[rot13d::sandbox::Insn]) -> Result<()> {
    let prog = Program::of(filter);
    // SAFETY: `prog` is a live `sock_fprog` whose instructions the kernel
    // copies before the call returns.
    match unsafe { libc::syscall(libc::SYS_seccomp, 1, 0, &prog as *const Program) } {
        0 => Ok(()),
        _ => Err(errno()),
    }
}

/// Whether the server runs under its own filter (the default build, from
/// [`confine_parent`] on; the static build has none).
pub fn parent_filtered() -> bool {
    #[cfg(not(feature = "nolibc"))]
    return STATE.filtered.load(Relaxed);
    #[cfg(feature = "nolibc")]
    false
}

/// The parent's confinement, once it listens. In the default build on
/// x86_64: no_new_privs and the filter [`PARENT`](rot13d::sandbox::PARENT)
/// (accept, fork, reap, log, end). Elsewhere the parent has no filter, and
/// `prctl(PR_GET_SECCOMP)` only asks whether its sessions can confine
/// themselves: not where the kernel has no seccomp (EINVAL); and, where no
/// session filter is written (other architectures), not under a filter
/// already (a service manager's), which refuses strict mode (said as
/// EPERM). An error means sessions will run unconfined: the caller says so.
pub fn confine_parent() -> Result<()> {
    #[cfg(all(target_arch = "x86_64", not(feature = "nolibc")))]
    {
        no_new_privs()?;
        match seccomp_filter(&rot13d::sandbox::PARENT) {
            Ok(()) => {
                STATE.filtered.store(true, Relaxed);
                Ok(())
            }
            // Before Linux 3.17 there is no seccomp call: the server goes
            // without its filter (rot13d(8), CONFINEMENT), and its sessions
            // confine themselves through prctl, if the kernel has seccomp.
            Err(Errno::NOSYS) => prctl(21, 0, 0),
            Err(e) => Err(e),
        }
    }
    #[cfg(feature = "nolibc")]
    return prctl(21, 0, 0);
    #[cfg(all(not(target_arch = "x86_64"), not(feature = "nolibc")))]
    // SAFETY: PR_GET_SECCOMP takes no pointer; it returns the mode.
    match unsafe { libc::syscall(libc::SYS_prctl, 21, 0, 0, 0, 0) } {
        0 => Ok(()),
        r if r > 0 => Err(Errno::PERM),
        _ => Err(errno()),
    }
}

/// A session's last calls but its own reads and writes: from here on it can
/// only read, write, return from a handler and end (`exit`); any other call
/// kills it. Strict mode, which allows just those four, where it can be
/// had: it costs the least. A process under a filter already (the parent's,
/// or a service manager's) cannot enter strict mode; there, on x86_64, a
/// filter of the same four calls ([`SESSION`](rot13d::sandbox::SESSION))
/// goes on top.
pub fn confine_session() -> Result<()> {
    // The benchmark's build without confinement (Cargo.toml, `unconfined`).
    if cfg!(feature = "unconfined") {
        return Ok(());
    }
    // Under the parent's filter strict mode is known to fail, and
    // no_new_privs is set already (and prctl would be killed).
    let filtered = parent_filtered();
    let strict = if filtered { Err(Errno::INVAL) } else { no_new_privs().and_then(|_| strict_mode()) };
    #[cfg(target_arch = "x86_64")]
    if strict.is_err() {
        #[cfg(not(feature = "nolibc"))]
        if filtered {
            return seccomp_filter(&rot13d::sandbox::SESSION);
        }
        return prctl_filter(&rot13d::sandbox::SESSION);
    }
    strict
}

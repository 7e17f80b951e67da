//! The platform: with `arch`, the only place `unsafe` is allowed, and the
//! binary's one door to the kernel besides rustix. It calls nothing above
//! it: the program is entered through [`rot13d_main`], declared here and
//! defined once by the binary (`src/main.rs`), as origin's `origin_main` is.
//!
//! Both builds are the same above this line, and nearly the same in it.
//! What differs is chosen once, by module path (as rustix chooses its
//! backend): `libc.rs`, the default build, where the C library's start-up
//! code calls our C `main`; or `linux_raw.rs`, the static build, where
//! `arch`'s `_start` calls [`start`]. Both then call [`enter`]. The system
//! calls rustix does not wrap (fork, the signal calls, exit, seccomp,
//! close_range) are made here through `arch::syscall` in both builds: the
//! C library is only the default build's way in.
#![allow(unsafe_code)]

#[cfg_attr(feature = "nolibc", path = "linux_raw.rs")]
#[cfg_attr(not(feature = "nolibc"), path = "libc.rs")]
mod backend;

#[cfg(feature = "nolibc")]
pub use backend::start;

use crate::arch;
use core::cell::UnsafeCell;
use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};
use linux_raw_sys::general::{
    __NR_clone, __NR_close_range, __NR_exit, __NR_rt_sigaction, __NR_rt_sigprocmask, __NR_seccomp, __kernel_timespec,
    SA_SIGINFO, SIG_SETMASK, kernel_sigaction, kernel_sigset_t, pollfd,
};
use linux_raw_sys::ptrace::{SECCOMP_MODE_FILTER, SECCOMP_SET_MODE_FILTER, sock_filter, sock_fprog};
use rot13d::status::Status;
pub use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
pub use rustix::io::{Errno, Result};

unsafe extern "Rust" {
    /// The program: what `main` is to a C program. It gets the arguments and
    /// the environment and returns the exit status. Defined by the binary,
    /// `#[unsafe(no_mangle)]`; called once, by [`enter`], on the stack of
    /// its own.
    safe fn rot13d_main(args: CStrs, env: CStrs) -> i32;
}

/// The program's arguments or environment: a NULL-terminated array of C
/// strings, as the kernel laid them out at execve.
#[derive(Clone, Copy)]
pub struct CStrs(*const *const u8);

impl Iterator for CStrs {
    type Item = &'static [u8];

    fn next(&mut self) -> Option<&'static [u8]> {
        // SAFETY: a `CStrs` is made only by `enter`, from the argv or envp
        // the kernel laid out: NULL-terminated arrays of NUL-terminated
        // strings that stay in place, unchanged, until the process ends.
        unsafe {
            let s = *self.0;
            if s.is_null() {
                return None;
            }
            self.0 = self.0.add(1);
            Some(core::ffi::CStr::from_ptr(s.cast()).to_bytes())
        }
    }
}

/// The stack the program runs on, in its own `.bss`: a child then needs no
/// page tables for the top of the address space, where the kernel's stack
/// is (see [`enter`]). The deepest path (the accept loop, the SIGCHLD
/// handler's frame with a log line, and the kernel's signal frame with the
/// FPU state) uses a few KiB; only the pages used are ever touched.
const STACK_SIZE: usize = 32 * 1024;

#[repr(C, align(16))]
struct Stack(UnsafeCell<[u8; STACK_SIZE]>);

// SAFETY: the stack is used only through the stack pointer, by the one
// thread, from `enter` on.
unsafe impl Sync for Stack {}

/// Placed first in the static build's `.bss` (`.bss.stack`, see build.rs),
/// right above its read-only code: an overflow faults there instead of
/// overwriting data.
#[unsafe(link_section = ".bss.stack")]
static STACK: Stack = Stack(UnsafeCell::new([0; STACK_SIZE]));

/// From the entry point (either build's) to the program: keeps the kernel's
/// stack out of every child, then runs [`rot13d_main`] on [`STACK`] and
/// exits with its status.
///
/// The kernel's stack holds the arguments and the environment, which only
/// start-up reads; with `MADV_DONTFORK` on it a child gets none of its page
/// tables: a held session needs three page-table pages (12 KiB) fewer, and
/// `ps` shows children as `[rot13d]` (their command line is not there).
/// The range is 1 MiB either side of `argv`, which lies on that stack: the
/// whole stack mapping (132 KiB here) and nothing else (the vDSO lies far
/// above); the holes in the range only make madvise say ENOMEM.
///
/// # Safety
/// `argv` and `envp` must be the process's, as the kernel laid them out;
/// called once.
pub unsafe fn enter(argv: *const *const u8, envp: *const *const u8) -> ! {
    let around = (argv as usize & !0xfff).wrapping_sub(1 << 20);
    // The result is not looked at: ENOMEM is expected (the range is wider
    // than the mapping, whose bounds are not known here, yet the part that
    // is mapped takes the advice), and a failure would cost only a child's
    // page tables, never a byte of anyone's data.
    // SAFETY: DONTFORK changes no memory of this process, only what a child
    // inherits, and no child reads the arguments or the environment.
    let _ = unsafe { rustix::mm::madvise(around as *mut _, 2 << 20, rustix::mm::Advice::LinuxDontFork) };
    let top = STACK.0.get() as usize + STACK_SIZE;
    // SAFETY: STACK is ours alone and unused so far (aligned to 16, as is
    // its size); nothing of the entry point's frames is used again.
    unsafe { arch::run_on_stack(on_own_stack, argv as usize, envp as usize, top) }
}

/// The program, on its own stack.
extern "C" fn on_own_stack(argv: usize, envp: usize) -> ! {
    exit(rot13d_main(CStrs(argv as *const *const u8), CStrs(envp as *const *const u8)))
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // The message is not formatted: that would bring in core::fmt.
    exit(Status::Bug.code())
}

/// Test builds of the dependencies are made for unwinding, and they then
/// name the unwinder's personality routine. Nothing unwinds here.
#[cfg(debug_assertions)]
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

/// The kernel's -4095..-1 error range to `Result`.
fn check(ret: isize) -> Result<usize> {
    if (-4095..0).contains(&ret) { Err(Errno::from_raw_os_error(-ret as i32)) } else { Ok(ret as usize) }
}

/// `exit(status)`—Ends the process at once; the kernel closes its fds.
///
/// The `exit` call, not `exit_group` (the C library's `_exit`): it is the
/// one a session in strict mode may make, and in a process of one thread
/// the two are the same.
pub fn exit(status: c_int) -> ! {
    // SAFETY: exit takes any status and does not return.
    unsafe {
        arch::syscall(__NR_exit, [status as usize, 0, 0, 0, 0, 0]);
        core::hint::unreachable_unchecked()
    }
}

/// What [`fork`] returns in each process.
pub enum Fork {
    Child,
    Parent(i32),
}

/// `clone(SIGCHLD, 0, 0, 0, 0)`—fork(): a child, a copy of this process.
///
/// The system call in both builds, not the C library's fork(), whose
/// at-fork work (its locks, its thread block) a child that only makes
/// system calls does not need, and which costs every session pages of its
/// own. As clone, because aarch64 and riscv64 have no fork call, and so
/// that the server's filter can allow this one use of clone and no other.
pub fn fork() -> Result<Fork> {
    // SAFETY: the process is single-threaded; the child goes on from here
    // with a copy of everything, on a copy of this stack (newsp 0).
    let pid = check(unsafe { arch::syscall(__NR_clone, [linux_raw_sys::general::SIGCHLD as usize, 0, 0, 0, 0, 0]) })?;
    Ok(if pid == 0 { Fork::Child } else { Fork::Parent(pid as i32) })
}

/// A set of signals, as the kernel takes it.
#[derive(Clone, Copy)]
pub struct SigSet(kernel_sigset_t);

impl SigSet {
    /// The set of `signals`.
    pub const fn of(signals: &[u32]) -> SigSet {
        let mut set = kernel_sigset_t { sig: [0; _] };
        let bits = usize::BITS;
        let mut i = 0;
        while i < signals.len() {
            let n = signals[i] - 1;
            set.sig[(n / bits) as usize] |= 1 << (n % bits);
            i += 1;
        }
        SigSet(set)
    }
}

/// `rt_sigprocmask(SIG_SETMASK, set, NULL)`—Blocks exactly the signals in
/// `set`.
pub fn set_mask(set: &SigSet) {
    // It cannot fail: the kernel refuses only an unknown `how`, a wrong
    // size or a bad pointer, and none of these can be passed.
    // SAFETY: `set` is a live kernel sigset of the size passed; the old mask
    // is not asked for.
    let _ = unsafe {
        arch::syscall(
            __NR_rt_sigprocmask,
            [SIG_SETMASK as usize, &set.0 as *const _ as usize, 0, size_of::<kernel_sigset_t>(), 0, 0],
        )
    };
}

/// A signal handler, as the kernel calls it.
pub type Handler = extern "C" fn(c_int);

/// What to do on a signal.
pub enum Action {
    Default,
    Handle(Handler),
}

/// `rt_sigaction(sig, {action, SA_SIGINFO, empty mask}, NULL)`—Sets what
/// signal `sig` does. `SA_SIGINFO`, so that every architecture returns
/// from a handler through rt_sigreturn (32-bit ARM otherwise uses
/// sigreturn), the one call the filters allow for it. No `SA_RESTART`:
/// the handlers run only in ppoll, which is never restarted anyway.
pub fn set_action(sig: u32, action: Action) {
    // SAFETY: all-zero is a valid kernel sigaction (SIG_DFL, no flags, an
    // empty mask); the handlers are `extern "C"` and only touch atomics and
    // make system calls.
    let mut act: kernel_sigaction = unsafe { core::mem::zeroed() };
    if let Action::Handle(h) = action {
        // SAFETY: the kernel calls it with the signal number (and two more
        // arguments, which a C function of one argument leaves alone).
        act.sa_handler_kernel = Some(unsafe { core::mem::transmute::<Handler, unsafe extern "C" fn(c_int)>(h) });
        act.sa_flags = SA_SIGINFO as _;
        arch::set_restorer(&mut act);
    }
    // It cannot fail: the kernel refuses only SIGKILL, SIGSTOP, a number
    // out of range, a wrong size or a bad pointer, none of which is passed.
    // SAFETY: `act` outlives the call; the old action is not asked for.
    let _ = unsafe {
        arch::syscall(
            __NR_rt_sigaction,
            [sig as usize, &act as *const _ as usize, 0, size_of::<kernel_sigset_t>(), 0, 0],
        )
    };
}

/// One fd to wait on, and what happened to it.
#[repr(transparent)]
pub struct PollFd(pollfd);

impl PollFd {
    /// Waiting for `events` (POLLIN, POLLOUT) on `fd`.
    pub fn new(fd: BorrowedFd<'_>, events: u32) -> PollFd {
        use rustix::fd::AsRawFd;
        PollFd(pollfd { fd: fd.as_raw_fd(), events: events as _, revents: 0 })
    }

    /// A place left empty: ppoll skips a negative fd.
    pub const fn unused() -> PollFd {
        PollFd(pollfd { fd: -1, events: 0, revents: 0 })
    }
}

/// `ppoll(fds, timeout, mask)`—Waits until one of `fds` is ready, `timeout`
/// (seconds, nanoseconds) has passed, or a handler has run, with `mask` as
/// the signal mask while it waits: a signal blocked everywhere else, and
/// let through here, can only interrupt the wait, never a check made
/// before it. How many of `fds` are ready; EINTR after a handler.
pub fn ppoll(fds: &mut [PollFd], timeout: Option<(i64, i64)>, mask: &SigSet) -> Result<usize> {
    let t = timeout.map(|(s, ns)| __kernel_timespec { tv_sec: s, tv_nsec: ns });
    let t = t.as_ref().map_or(core::ptr::null(), |t| t as *const __kernel_timespec);
    // SAFETY: the fds, the time and the mask are live for the call, with
    // their lengths.
    check(unsafe { ppoll_call(fds.as_mut_ptr() as usize, fds.len(), t as usize, &mask.0 as *const _ as usize) })
}

/// ppoll with a 64-bit time: the plain call on a 64-bit machine.
///
/// # Safety
/// As for ppoll.
#[cfg(target_pointer_width = "64")]
unsafe fn ppoll_call(fds: usize, n: usize, t: usize, mask: usize) -> isize {
    // SAFETY: by the caller.
    unsafe { arch::syscall(linux_raw_sys::general::__NR_ppoll, [fds, n, t, mask, size_of::<kernel_sigset_t>(), 0]) }
}

/// ppoll with a 64-bit time on a 32-bit machine: `ppoll_time64` (Linux
/// 5.1), or before it the old call with a 32-bit time (a timeout here is
/// never more than a quarter of a second).
///
/// # Safety
/// As for ppoll.
#[cfg(target_pointer_width = "32")]
unsafe fn ppoll_call(fds: usize, n: usize, t: usize, mask: usize) -> isize {
    use linux_raw_sys::general::{__NR_ppoll, __NR_ppoll_time64};
    let size = size_of::<kernel_sigset_t>();
    // SAFETY: by the caller.
    let r = unsafe { arch::syscall(__NR_ppoll_time64, [fds, n, t, mask, size, 0]) };
    if r != -(linux_raw_sys::errno::ENOSYS as isize) {
        return r;
    }
    // SAFETY: `t`, when not null, points at a live __kernel_timespec.
    let old = (t != 0).then(|| unsafe { *(t as *const __kernel_timespec) });
    let old = old.map(|t| [t.tv_sec as i32, t.tv_nsec as i32]);
    let t = old.as_ref().map_or(0, |o| o.as_ptr() as usize);
    // SAFETY: by the caller; `old` is live for the call.
    unsafe { arch::syscall(__NR_ppoll, [fds, n, t, mask, size, 0]) }
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, 0, prog)`—From now on this process
/// and its children may make only the calls `filter` allows (and those
/// every filter set before allows). Needs no_new_privs, which children
/// inherit (or CAP_SYS_ADMIN). Linux 3.17 and later.
pub fn seccomp_filter(filter: &[sock_filter]) -> Result<()> {
    let prog = sock_fprog { len: filter.len() as u16, filter: filter.as_ptr() as *mut _ };
    // SAFETY: `prog` and its instructions are live for the call; the kernel
    // copies them.
    check(unsafe {
        arch::syscall(__NR_seccomp, [SECCOMP_SET_MODE_FILTER as usize, 0, &prog as *const _ as usize, 0, 0, 0])
    })
    .map(drop)
}

/// `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog)`—The same through
/// prctl, which has had it since Linux 3.5, before the seccomp call.
pub fn prctl_filter(filter: &[sock_filter]) -> Result<()> {
    use linux_raw_sys::general::__NR_prctl;
    use linux_raw_sys::prctl::PR_SET_SECCOMP;
    let prog = sock_fprog { len: filter.len() as u16, filter: filter.as_ptr() as *mut _ };
    let args = [PR_SET_SECCOMP as usize, SECCOMP_MODE_FILTER as usize, &prog as *const _ as usize, 0, 0, 0];
    // SAFETY: as above.
    check(unsafe { arch::syscall(__NR_prctl, args) }).map(drop)
}

/// `close_range(first, ~0U, 0)`—Closes every fd from `first` on.
/// Linux 5.9 and later (ENOSYS before).
pub fn close_range(first: u32) -> Result<()> {
    // SAFETY: close_range only closes fds, and no `OwnedFd` of this process
    // holds one from `first` on when it is called (at start-up).
    check(unsafe { arch::syscall(__NR_close_range, [first as usize, u32::MAX as usize, 0, 0, 0, 0]) }).map(drop)
}

/// `close(fd)`—For start-up: an fd the launcher may have left open, that
/// nothing in this process owns (EBADF, for one not open, is no error).
pub fn close_inherited(fd: c_int) {
    // SAFETY: at start-up no `OwnedFd` holds an fd above those passed, and
    // nothing uses these numbers after this.
    unsafe { arch::syscall(linux_raw_sys::general::__NR_close, [fd as usize, 0, 0, 0, 0, 0]) };
}

/// Standard input, output and error, and the sockets a service manager
/// passes from fd 3 on: open for the whole life of the process by
/// convention; if one is closed, calls on it fail with EBADF, handled there.
pub fn stdio(fd: c_int) -> BorrowedFd<'static> {
    // SAFETY: see above; a `BorrowedFd` of a closed fd is only ever an error.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// An fd the launcher passed (a socket from a service manager), to own
/// from now on; or one of a pipe kept below 3 as a stopper, for good.
pub fn own_fd(fd: c_int) -> OwnedFd {
    use rustix::fd::FromRawFd;
    // SAFETY: the caller checked LISTEN_PID and LISTEN_FDS: `fd` was passed
    // to this process to own, and it is taken once.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// `madvise(x, size, MADV_DONTFORK)`—Keeps the pages of `x` out of every
/// child: for what only the parent uses (its table of sessions), which a
/// child would otherwise keep a copy of each time the parent wrote to it.
/// `x` must be page-aligned and a whole number of pages long.
pub fn dont_fork<T>(x: &'static T) {
    // A failure (a kernel without MADV_DONTFORK, before 2.6.16) costs each
    // child a copied page, nothing more: not a reason to refuse to serve.
    // SAFETY: DONTFORK changes no memory of this process, and the caller's
    // contract is that no child uses `x`.
    let _ = unsafe { rustix::mm::madvise(x as *const T as *mut _, size_of::<T>(), rustix::mm::Advice::LinuxDontFork) };
}

/// A value in a `static` that one caller may take, once, as its own: the
/// line buffer, a session's one big piece of memory, which lives in `.bss`
/// and not on the stack (the compiler probes every page of a large stack
/// frame, so 64 KiB there would cost every child 64 KiB; here a child
/// touches only the pages its data reaches).
pub struct StaticCell<T> {
    taken: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through `take`, which hands it out once.
unsafe impl<T: Send> Sync for StaticCell<T> {}

impl<T> StaticCell<T> {
    pub const fn new(value: T) -> Self {
        StaticCell { taken: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    /// The value, the first time; `None` after.
    #[allow(clippy::mut_from_ref)] // the swap hands it out once: see `take`'s SAFETY
    pub fn take(&'static self) -> Option<&'static mut T> {
        // SAFETY: the swap lets one caller through, so the reference is the
        // only one there will ever be.
        (!self.taken.swap(true, Relaxed)).then(|| unsafe { &mut *self.value.get() })
    }

    /// Lends the value to `f`, if nobody has it, and takes it back: for
    /// start-up's use of the line buffer before a session takes it.
    pub fn lend<R>(&'static self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        if self.taken.swap(true, Relaxed) {
            return None;
        }
        // SAFETY: the swap let only this caller through, and the reference
        // lives only for the call of `f` (its lifetime cannot escape it).
        let r = f(unsafe { &mut *self.value.get() });
        self.taken.store(false, Relaxed);
        Some(r)
    }
}

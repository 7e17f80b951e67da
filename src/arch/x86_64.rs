//! x86_64 Linux without libc: the entry point, the signal restorer, and the
//! few system calls rustix leaves to a C library (fork, exit, signals,
//! prctl), for the `nolibc` build; and for both builds, the stack of its
//! own that keeps the kernel's stack out of children, and fork as the bare
//! system call (see `sys::fork`). Nothing else in the program uses
//! assembly.
#![allow(unsafe_code)]
// The default build takes only the stack of its own and fork from here.
#![cfg_attr(not(feature = "nolibc"), allow(dead_code))]

use core::arch::{asm, naked_asm};
use rustix::io::{Errno, Result};

pub const SIGINT: i32 = 2;
pub const SIGPIPE: i32 = 13;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;

/// `SA_RESTORER`: the kernel returns from a handler through `restorer`.
const SA_RESTORER: u64 = 0x0400_0000;

/// The stack the program runs on, in its own .bss, not the one the kernel
/// set up: a child then needs no page tables for the top of the address
/// space, where that stack is (see `dontfork_stack`). It is the first thing
/// in .bss (`.bss.stack`, see `STATIC_LAYOUT` in build.rs), right above
/// the read-only code: an overflow faults there instead of overwriting data.
/// The deepest path (main, the accept loop, the SIGCHLD handler's frame and
/// the kernel's signal frame with the FPU state) uses a few KiB.
const STACK_SIZE: usize = 16 * 1024;
#[unsafe(link_section = ".bss.stack")]
static mut STACK: Stack = Stack([0; STACK_SIZE]);
#[repr(align(4096))]
struct Stack(#[allow(dead_code)] [u8; STACK_SIZE]); // used only through rsp

/// `_start`—Where execve leaves the program: hands the initial stack (the
/// arguments) to Rust, which runs on [`STACK`].
#[cfg(feature = "nolibc")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn _start() -> ! {
    naked_asm!(
        "xor ebp, ebp",               // no caller frame: backtraces stop here
        "mov rdi, rsp",               // first argument: the stack holding argc, argv, envp
        "lea rsp, [rip + {stack} + {size}]", // our own stack's end (16-byte aligned, as a call needs)
        "call {start}",               // into Rust; it ends with exit
        "ud2",                        // never reached
        stack = sym STACK,
        size = const STACK_SIZE,
        start = sym crate::sys::start,
    )
}

/// Calls `f(a, b)` on [`STACK`]: the default build's way onto the stack
/// that `_start` gives the static build. `f` never returns.
///
/// # Safety
/// Nothing on the stack being left may be used again.
#[cfg(not(feature = "nolibc"))]
pub unsafe fn run_on_stack(f: extern "C" fn(usize, usize) -> !, a: usize, b: usize) -> ! {
    // SAFETY: STACK is ours alone and unused so far; by the contract, the
    // frames left behind are dead.
    unsafe {
        asm!(
            "lea rsp, [rip + {stack} + {size}]", // our own stack's end (16-byte aligned, as a call needs)
            "call {f}",                           // into `f`, which never returns
            stack = sym STACK,
            size = const STACK_SIZE,
            f = in(reg) f,
            in("rdi") a,
            in("rsi") b,
            options(noreturn),
        )
    }
}

/// `madvise(around sp, MADV_DONTFORK)`—Keeps the kernel's initial stack (the
/// arguments and environment, which only start-up reads) out of every child:
/// fork then copies no page tables for it, three pages (12 KiB) less for
/// each session to hold and to free. The range is 1 MiB either side of
/// `sp`: the whole stack mapping (132 KiB) and nothing else (the vDSO lies
/// gigabytes away); the holes in it only make madvise say ENOMEM.
pub fn dontfork_stack(sp: usize) {
    let from = (sp & !0xfff) - (1 << 20);
    // SAFETY: madvise (28) with MADV_DONTFORK (10) changes no memory of this
    // process, only what a child inherits.
    unsafe { syscall::<28, 0>(from, 2 << 20, 10) };
}

/// `rt_sigreturn()`—Where a handler returns to: the kernel restores the
/// interrupted registers and mask from the frame it pushed.
#[unsafe(naked)]
unsafe extern "C" fn restorer() {
    naked_asm!(
        "mov eax, 15", // __NR_rt_sigreturn
        "syscall",     // does not return here
    )
}

/// A system call whose number, and a constant fourth argument, are
/// immediates in the instruction stream (`mov eax, imm32`): passed as
/// operands, LLVM loads constants with 10-byte `movabs`es.
///
/// # Safety
/// The arguments must be valid for system call `NR`.
unsafe fn syscall<const NR: u32, const D: u32>(a: usize, b: usize, c: usize) -> isize {
    let ret;
    // SAFETY: the caller vouches for the arguments; the instruction itself
    // touches no memory of ours and clobbers only rax, rcx, r10 and r11.
    unsafe {
        asm!(
            "mov eax, {nr}",  // the call's number
            "mov r10d, {d}",  // fourth argument (the upper half is zeroed)
            "syscall",        // arguments in rdi, rsi, rdx, r10; result in rax
            nr = const NR,
            d = const D,
            lateout("rax") ret,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            lateout("r10") _,
            lateout("rcx") _, // the syscall instruction saves rip here
            lateout("r11") _, // and rflags here
            options(nostack),
        );
    }
    ret
}

/// The kernel's -4095..-1 error range to `Result`.
fn check(ret: isize) -> Result<usize> {
    if (-4095..0).contains(&ret) {
        Err(Errno::from_raw_os_error(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

/// `exit(code)`—Ends the process (its one thread).
pub fn exit(code: i32) -> ! {
    // SAFETY: exit takes any status and never returns.
    unsafe {
        asm!(
            "syscall", // __NR_exit (60) in eax, status in edi
            in("eax") 60, in("edi") code, options(noreturn, nostack),
        )
    }
}

/// `prctl(option, arg, arg3, 0, 0)`—For the options used here: numbers,
/// or a `sock_fprog` for PR_SET_SECCOMP (see `sys::prctl`).
pub fn prctl(option: usize, arg: usize, arg3: usize) -> Result<()> {
    let ret;
    // SAFETY: prctl reads at most the `sock_fprog` a caller passes for a
    // filter, which it keeps alive for the call; the instruction clobbers
    // only rax, rcx and r11.
    unsafe {
        asm!(
            "syscall", // prctl (157) in eax; option, arg, arg3, then two zeros (the kernel checks them)
            inlateout("rax") 157isize => ret,
            in("rdi") option,
            in("rsi") arg,
            in("rdx") arg3,
            in("r10") 0,
            in("r8") 0,
            lateout("rcx") _, // the syscall instruction saves rip here
            lateout("r11") _, // and rflags here
            options(nostack),
        );
    }
    check(ret).map(drop)
}

/// `fork()`—Creates a child; returns its pid, or 0 in the child.
pub fn fork() -> Result<i32> {
    // SAFETY: fork (57) takes no arguments; the single-threaded child goes on
    // from here with a copy of everything.
    check(unsafe { syscall::<57, 0>(0, 0, 0) }).map(|pid| pid as i32)
}

/// `close_range(first, ~0, 0)`—Closes every fd from `first` on.
pub fn close_range(first: u32) -> Result<()> {
    // SAFETY: close_range (436) only closes fds; no memory is passed.
    check(unsafe { syscall::<436, 0>(first as usize, u32::MAX as usize, 0) }).map(drop)
}

/// The kernel's `struct sigaction` on x86_64.
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// `rt_sigaction(sig, act, NULL, 8)`—Sets the handler of `sig` (1 = ignore),
/// with an empty mask.
pub fn sigaction(sig: i32, handler: usize, flags: u64) {
    let act = KernelSigaction { handler, flags: flags | SA_RESTORER, restorer: restorer as *const () as usize, mask: 0 };
    // SAFETY: `act` is a valid kernel sigaction that outlives the call; the
    // old action is not asked for; 8 is the size of the kernel's sigset.
    unsafe { syscall::<13, 8>(sig as usize, &act as *const _ as usize, 0) };
}

/// `rt_sigprocmask(how, &set, &old, 8)`—Changes the signal mask (`how`:
/// 0 block, 1 unblock, 2 set); returns the mask from before.
pub fn sigprocmask(how: usize, set: u64) -> u64 {
    let mut old = 0u64;
    // SAFETY: both pointers are to live u64s, the kernel's sigset on x86_64.
    unsafe { syscall::<14, 8>(how, &set as *const u64 as usize, &mut old as *mut u64 as usize) };
    old
}

/// `rt_sigsuspend(&mask, 8)`—Waits for a handler to run, with `mask` set.
pub fn sigsuspend(mask: u64) {
    // SAFETY: the pointer is to a live u64 for the length of the call.
    unsafe { syscall::<130, 0>(&mask as *const u64 as usize, 8, 0) };
}

// The compiler lowers copies, fills and comparisons to calls to these C
// library functions; with no C library, here they are. In assembly, because
// the same loops written in Rust would be recognised and lowered to calls to
// themselves. String instructions: small, and fast on current x86_64.

/// `memcpy(dst, src, n)`—Copies `n` bytes; the areas do not overlap.
#[cfg(feature = "nolibc")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    naked_asm!(
        "mov rax, rdi", // return dst
        "mov rcx, rdx", // count
        "rep movsb",    // copy rcx bytes from [rsi] to [rdi], forwards
        "ret",
    )
}

/// `memmove(dst, src, n)`—Copies `n` bytes; the areas may overlap.
#[cfg(feature = "nolibc")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    naked_asm!(
        "mov rax, rdi",           // return dst
        "mov rcx, rdx",           // count
        "mov r8, rdi",            // r8 = dst - src, as unsigned:
        "sub r8, rsi",            // below n only when dst lies inside src's bytes
        "cmp r8, rdx",            // so a forward copy would overwrite unread input
        "jb 2f",                  // then copy backwards
        "rep movsb",              // forwards
        "ret",
        "2:",
        "lea rsi, [rsi + rdx - 1]", // last byte of src
        "lea rdi, [rdi + rdx - 1]", // last byte of dst
        "std",                    // string instructions count down
        "rep movsb",              // backwards
        "cld",                    // the ABI requires the direction flag clear on return
        "ret",
    )
}

/// `memset(dst, c, n)`—Fills `n` bytes with `c`.
#[cfg(feature = "nolibc")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    naked_asm!(
        "mov r8, rdi",  // keep dst to return
        "mov eax, esi", // the byte to store, in al
        "mov rcx, rdx", // count
        "rep stosb",    // store al into rcx bytes at [rdi]
        "mov rax, r8",  // return dst
        "ret",
    )
}

/// `bcmp(a, b, n)`—Zero when the `n` bytes at `a` and `b` are equal.
#[cfg(feature = "nolibc")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    naked_asm!(
        "xor eax, eax", // equal unless a difference is found
        "mov rcx, rdx", // count
        "repe cmpsb",   // compare [rsi] with [rdi] while equal and rcx > 0 (n = 0: no step, ZF kept from xor)
        "setne al",     // 1 if the last compare differed
        "ret",
    )
}

/// `strlen(s)`—The length of the NUL-terminated string at `s`.
#[cfg(feature = "nolibc")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn strlen(s: *const u8) -> usize {
    naked_asm!(
        "xor eax, eax", // look for a 0 byte
        "mov rcx, -1",  // with no limit
        "repne scasb",  // step rdi past the first 0; rcx counts down from -1
        "not rcx",      // rcx = length + 1
        "lea rax, [rcx - 1]", // return the length
        "ret",
    )
}

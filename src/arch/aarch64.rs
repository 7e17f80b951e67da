//! aarch64 (rot13d's arch contract: `src/arch/mod.rs`).

use core::arch::asm;
#[cfg(feature = "nolibc")]
use core::arch::naked_asm;
use linux_raw_sys::general::kernel_sigaction;

/// `_start`—Where execve leaves the static build.
#[cfg(feature = "nolibc")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn _start() -> ! {
    naked_asm!(
        "mov x29, xzr",   // no caller frame: backtraces stop here
        "mov x30, xzr",   // and no return address
        "mov x0, sp",     // first argument: the stack holding argc, argv, envp (16-byte aligned)
        "bl {start}",     // into Rust; it never returns
        "udf #0",         // never reached
        start = sym crate::sys::start,
    )
}

/// The system call instruction.
///
/// # Safety
/// The arguments must be valid for call `nr`.
#[inline(always)]
pub unsafe fn syscall(nr: u32, a: [usize; 6]) -> isize {
    let ret;
    // SAFETY: the caller vouches for the arguments; the instruction touches
    // no memory of ours but what they point to, and changes only x0.
    unsafe {
        asm!(
            "svc 0",                          // number in x8; arguments in x0-x5; result in x0
            in("x8") nr as usize,
            inlateout("x0") a[0] => ret,
            in("x1") a[1],
            in("x2") a[2],
            in("x3") a[3],
            in("x4") a[4],
            in("x5") a[5],
            options(nostack),
        );
    }
    ret
}

/// Calls `f(a, b)` on the stack that ends at `top`.
///
/// # Safety
/// `top` must be the 16-byte-aligned end of memory that is ours alone to
/// use as a stack; nothing on the stack being left may be used again.
pub unsafe fn run_on_stack(f: extern "C" fn(usize, usize) -> !, a: usize, b: usize, top: usize) -> ! {
    // SAFETY: by the contract above.
    unsafe {
        asm!(
            "mov sp, {top}", // the new stack
            "blr {f}",       // into `f`, which never returns
            "udf #0",        // never reached
            top = in(reg) top,
            f = in(reg) f,
            in("x0") a,
            in("x1") b,
            options(noreturn),
        )
    }
}

/// Nothing to set: the kernel returns from a handler through its vDSO's
/// sigreturn trampoline.
pub fn set_restorer(_: &mut kernel_sigaction) {}

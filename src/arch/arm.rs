//! 32-bit ARM, EABI, ARM (not Thumb) code, as armv7-unknown-linux-gnueabihf
//! builds (rot13d's arch contract: `src/arch/mod.rs`).

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
        "mov fp, #0",       // no caller frame: backtraces stop here
        "mov lr, #0",       // and no return address
        "mov r0, sp",       // first argument: the stack holding argc, argv, envp
        "bic sp, sp, #15",  // aligned as calls need (AAPCS asks 8; 16 does no harm)
        "bl {start}",       // into Rust; it never returns
        "udf #0",           // never reached
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
    // no memory of ours but what they point to, and changes only r0.
    unsafe {
        asm!(
            "svc 0",                          // number in r7; arguments in r0-r5; result in r0
            in("r7") nr,
            inlateout("r0") a[0] => ret,
            in("r1") a[1],
            in("r2") a[2],
            in("r3") a[3],
            in("r4") a[4],
            in("r5") a[5],
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
            "blx {f}",       // into `f`, which never returns
            "udf #0",        // never reached
            top = in(reg) top,
            f = in(reg) f,
            in("r0") a,
            in("r1") b,
            options(noreturn),
        )
    }
}

/// Nothing to set: without SA_RESTORER the kernel returns from a handler
/// through its signal page (rt_sigreturn, for handlers set with SA_SIGINFO
/// as all of rot13d's are).
pub fn set_restorer(_: &mut kernel_sigaction) {}

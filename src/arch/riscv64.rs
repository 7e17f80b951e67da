//! riscv64 (rot13d's arch contract: `src/arch/mod.rs`).

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
        "mv fp, zero",      // no caller frame: backtraces stop here
        "mv ra, zero",      // and no return address
        "mv a0, sp",        // first argument: the stack holding argc, argv, envp
        "andi sp, sp, -16", // aligned as calls need
        "call {start}",     // into Rust; it never returns
        "unimp",            // never reached
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
    // no memory of ours but what they point to, and changes only a0.
    unsafe {
        asm!(
            "ecall",                          // number in a7; arguments in a0-a5; result in a0
            in("a7") nr as usize,
            inlateout("a0") a[0] => ret,
            in("a1") a[1],
            in("a2") a[2],
            in("a3") a[3],
            in("a4") a[4],
            in("a5") a[5],
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
            "mv sp, {top}", // the new stack
            "jalr {f}",     // into `f`, which never returns
            "unimp",        // never reached
            top = in(reg) top,
            f = in(reg) f,
            in("a0") a,
            in("a1") b,
            options(noreturn),
        )
    }
}

/// Nothing to set: the kernel returns from a handler through its vDSO's
/// sigreturn trampoline.
pub fn set_restorer(_: &mut kernel_sigaction) {}

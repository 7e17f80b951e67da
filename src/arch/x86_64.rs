//! x86_64 (rot13d's arch contract: `src/arch/mod.rs`).

use core::arch::{asm, naked_asm};
use linux_raw_sys::general::{__NR_rt_sigreturn, SA_RESTORER, kernel_sigaction};

/// `_start`—Where execve leaves the static build.
#[cfg(feature = "nolibc")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn _start() -> ! {
    naked_asm!(
        "xor ebp, ebp",   // no caller frame: backtraces stop here
        "mov rdi, rsp",   // first argument: the stack holding argc, argv, envp
        "and rsp, -16",   // aligned as the ABI wants it before a call
        "call {start}",   // into Rust; it never returns
        "ud2",            // never reached
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
    // no memory of ours but what they point to, and clobbers rax, rcx, r11.
    unsafe {
        asm!(
            "syscall",                    // number in rax; arguments in rdi, rsi, rdx, r10, r8, r9; result in rax
            inlateout("rax") nr as isize => ret,
            in("rdi") a[0],
            in("rsi") a[1],
            in("rdx") a[2],
            in("r10") a[3],
            in("r8") a[4],
            in("r9") a[5],
            lateout("rcx") _,             // the instruction saves rip here
            lateout("r11") _,             // and rflags here
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
            "mov rsp, {top}", // the new stack (aligned: a call pushes the return address next)
            "call {f}",       // into `f`, which never returns
            "ud2",            // never reached
            top = in(reg) top,
            f = in(reg) f,
            in("rdi") a,
            in("rsi") b,
            options(noreturn),
        )
    }
}

/// `rt_sigreturn()`—Where a handler returns to: the kernel restores the
/// interrupted registers and mask from the frame it pushed.
#[unsafe(naked)]
unsafe extern "C" fn restorer() {
    naked_asm!(
        "mov eax, {nr}", // rt_sigreturn
        "syscall",       // does not return here
        nr = const __NR_rt_sigreturn,
    )
}

/// The x86_64 kernel needs the way back from a handler: `SA_RESTORER`.
pub fn set_restorer(act: &mut kernel_sigaction) {
    act.sa_flags |= SA_RESTORER as u64;
    act.sa_restorer = Some(restorer);
}

// The compiler lowers copies, fills and comparisons to calls to these C
// library functions; with no C library, here they are. In assembly,
// because the same loops written in Rust would be recognised and lowered
// to calls to themselves. String instructions: small, and fast on current
// x86_64.

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
        "mov rax, rdi", // return dst
        "mov rcx, rdx", // count
        "mov r8, rdi",  // r8 = dst - src, as unsigned:
        "sub r8, rsi",  // below n only when dst lies inside src's bytes
        "cmp r8, rdx",  // so a forward copy would overwrite unread input
        "jb 2f",        // then copy backwards
        "rep movsb",    // forwards
        "ret",
        "2:",
        "lea rsi, [rsi + rdx - 1]", // last byte of src
        "lea rdi, [rdi + rdx - 1]", // last byte of dst
        "std",                      // string instructions count down
        "rep movsb",                // backwards
        "cld",                      // the ABI requires the direction flag clear on return
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
        "xor eax, eax",       // look for a 0 byte
        "mov rcx, -1",        // with no limit
        "repne scasb",        // step rdi past the first 0; rcx counts down from -1
        "not rcx",            // rcx = length + 1
        "lea rax, [rcx - 1]", // return the length
        "ret",
    )
}

//! What an architecture gives rot13d: instructions, and nothing else.
//! Everything above them is written once, in `sys`, for every architecture;
//! a port is one more file here that provides, under this contract:
//!
//! - `_start` (the static build only): where execve leaves the program.
//!   It clears the frame pointer (backtraces stop there), and calls
//!   `crate::sys::start` with the initial stack pointer, which points at
//!   argc, argv, NULL, envp, NULL (the System V layout of every Linux
//!   architecture), on a stack aligned as that architecture's calls need.
//!   `start` never returns.
//! - `unsafe fn syscall(nr: u32, args: [usize; 6]) -> isize`: the system
//!   call instruction, with the kernel's convention for the number, six
//!   arguments and the result (-4095..-1 is an error number, negated). The
//!   caller vouches for the arguments.
//! - `unsafe fn run_on_stack(f, a, b, top) -> !`: calls `f(a, b)` (an
//!   `extern "C" fn(usize, usize) -> !`) with the stack pointer at `top`,
//!   aligned for that architecture. Nothing of the stack being left may be
//!   used again.
//! - `fn set_restorer(&mut kernel_sigaction)`: the way back from a signal
//!   handler, where the kernel needs the program to give one (x86_64:
//!   `SA_RESTORER` and a function that calls rt_sigreturn). Elsewhere the
//!   kernel returns through its vDSO (aarch64, riscv64) or its signal page
//!   (arm), and this sets nothing.
//! - `memcpy`, `memmove`, `memset`, `bcmp`, `strlen` (the static build, where the
//!   compiler's builtins do not have them: x86_64 with rustup's prebuilt
//!   `core`; a target built with `-Zbuild-std` gets them from
//!   `compiler-builtins-mem`).
//!
//! Each instruction has a comment; each `unsafe` block a `// SAFETY:` line.
#![allow(unsafe_code)]

#[cfg_attr(target_arch = "x86_64", path = "x86_64.rs")]
#[cfg_attr(target_arch = "aarch64", path = "aarch64.rs")]
#[cfg_attr(target_arch = "arm", path = "arm.rs")]
#[cfg_attr(target_arch = "riscv64", path = "riscv64.rs")]
mod imp;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "arm", target_arch = "riscv64")))]
compile_error!("rot13d has no src/arch/ file for this architecture: see the contract in src/arch/mod.rs");

pub use imp::*;

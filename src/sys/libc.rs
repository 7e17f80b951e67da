//! The default build's way in: the C library's start-up code (its loader,
//! its own set-up) calls `main`, as for any C program, and the program then
//! runs as in the static build. Nothing else of the C library is called.

use libc::{c_char, c_int};

/// `main(argc, argv, envp)`—The C library's start-up code calls this.
#[unsafe(no_mangle)]
extern "C" fn main(_argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    // SAFETY: the C library passes the process's argv and envp, once.
    unsafe { super::enter(argv.cast(), envp.cast()) }
}

// The C library, named here: the libc crate links it only when its `std`
// feature is off, and the test builds turn it on.
#[link(name = "c")]
unsafe extern "C" {}

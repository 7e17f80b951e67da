//! The static build's way in: no C library; `arch`'s `_start` calls
//! [`start`] with the stack the kernel set up at execve.

/// From `_start`: finds the arguments and the environment on the initial
/// stack, and enters the program.
///
/// # Safety
/// `sp` must be the stack pointer the kernel set at execve: argc, then
/// argv, NULL, envp, NULL (System V ABI, "Process Initialization").
pub unsafe extern "C" fn start(sp: *const usize) -> ! {
    // SAFETY: the layout above, by this function's contract.
    unsafe {
        let argc = *sp;
        let argv = sp.add(1) as *const *const u8;
        super::enter(argv, argv.add(argc + 1))
    }
}

//! Link arguments for the `rot13d` binary only (tests and the library link as
//! usual). Each one says what it buys; `make size` shows the result.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let nolibc = std::env::var_os("CARGO_FEATURE_NOLIBC").is_some();
    let common: &[&str] = &[
        // No .note.gnu.build-id: 36 bytes nobody reads.
        "-Wl,--build-id=none",
        // No .eh_frame_hdr: panic = "abort", nothing unwinds.
        "-Wl,--no-eh-frame-hdr",
        // No PT_GNU_RELRO: it page-aligns the data that follows it.
        "-Wl,-z,norelro",
        // Code in the same page as headers and read-only data: no padding to
        // a page boundary between segments.
        "-Wl,-z,noseparate-code",
    ];
    let own: &[&str] = if nolibc {
        &[
            // Our own _start (src/arch/x86_64.rs), no crt1.o/crti.o.
            "-nostartfiles",
            // No libc, no libgcc: nothing is linked that the source does not name.
            "-nostdlib",
            // Statically linked, no PT_INTERP: runs in an empty root.
            "-static",
            // A fixed-address executable: no self-relocation code is needed.
            "-no-pie",
            // Read-only data in the code segment: one program header less.
            "-Wl,--no-rosegment",
        ]
    } else {
        &[
            // The C library. Named here because the libc crate links it only
            // when its `std` feature is off, and test dependencies turn it on.
            "-lc",
            // Only the GNU hash table (the glibc loader needs no SysV one).
            "-Wl,--hash-style=gnu",
            // Resolve the few libc symbols at load time once: no lazy PLT stubs.
            "-Wl,-z,now",
            // A fixed-address executable: no relative relocations for the
            // loader to apply (they were a twentieth of the file).
            "-no-pie",
        ]
    };
    for arg in common.iter().chain(own) {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    // A linker script that only throws away: the unwind tables (.eh_frame,
    // a quarter of the binary; panic = "abort" never reads them) and the
    // toolchain's .comment. Every other section is placed as usual.
    let script = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("discard.ld");
    std::fs::write(&script, "SECTIONS { /DISCARD/ : { *(.eh_frame) *(.comment) } } INSERT AFTER .text;\n").unwrap();
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
}

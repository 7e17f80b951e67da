//! Link arguments for the `rot13d` binary only (tests and the library link
//! as usual). Each one says what it is for; `make size` shows the result.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let nolibc = std::env::var_os("CARGO_FEATURE_NOLIBC").is_some();
    let common: &[&str] = &[
        // No .note.gnu.build-id: nothing here reads it.
        "-Wl,--build-id=none",
        // No .eh_frame_hdr: panic = "abort", nothing unwinds.
        "-Wl,--no-eh-frame-hdr",
        // Functions whose machine code came out identical are kept once
        // (monomorphised copies, wrappers). Nothing here compares function
        // addresses, the one thing folding could change.
        "-Wl,--icf=all",
        // A fixed-address executable: no relocations for anyone to apply.
        "-no-pie",
    ];
    let own: &[&str] = if nolibc {
        // (The segments are laid out by STATIC_LAYOUT below.)
        &[
            // Our own _start (src/arch/), no crt1.o/crti.o.
            "-nostartfiles",
            // No libc, no libgcc: nothing is linked that the source does not name.
            "-nostdlib",
            // Statically linked, no PT_INTERP: runs in an empty root.
            "-static",
        ]
    } else {
        // (The C library itself is named by src/sys/libc.rs.)
        &[
            // Only the GNU hash table (the glibc loader needs no SysV one).
            "-Wl,--hash-style=gnu",
            // Resolve the few libc symbols at load time once: no lazy PLT stubs.
            "-Wl,-z,now",
            // No PT_GNU_RELRO: it page-aligns the data that follows it, and
            // with everything resolved at load time there is little to protect.
            "-Wl,-z,norelro",
            // Code in the same page as headers and read-only data: no
            // padding to a page boundary between segments.
            "-Wl,-z,noseparate-code",
        ]
    };
    for arg in common.iter().chain(own) {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    // The default build: a linker script that only throws away the unwind
    // tables (.eh_frame; panic = "abort" never reads them) and the
    // toolchain's .comment; the rest is placed as usual. The static build:
    // the whole layout (see STATIC_LAYOUT).
    let (name, text) = if nolibc {
        ("static.ld", STATIC_LAYOUT)
    } else {
        ("discard.ld", "SECTIONS { /DISCARD/ : { *(.eh_frame) *(.comment) } } INSERT AFTER .text;\n")
    };
    let script = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join(name);
    std::fs::write(&script, text).unwrap();
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
}

/// The static build's whole layout. Three program headers where the linker
/// would make four: one read-and-execute segment with the ELF and program
/// headers, code, read-only data and the GOT (addresses of our own
/// `memcpy`-family routines, fixed at link time: nothing writes it), one
/// read-write segment with only zero-filled memory (no file bytes), and the
/// non-executable stack. No PT_PHDR: only a dynamic loader reads that. The
/// zero-filled segment starts on a page of its own at the largest page size
/// the architecture may run with (64 KiB on aarch64), so that no page is
/// both code and data. The
/// program's own stack (`.bss.stack`) comes first in `.bss`, right above the
/// read-only code: an overflow faults there instead of overwriting data.
const STATIC_LAYOUT: &str = "\
ENTRY(_start)
PHDRS {
  text PT_LOAD FILEHDR PHDRS FLAGS(5);
  bss PT_LOAD FLAGS(6);
  stack PT_GNU_STACK FLAGS(6);
}
SECTIONS {
  . = 0x200000 + SIZEOF_HEADERS;
  .text : { *(.text .text.*) } :text
  .rodata : { *(.rodata .rodata.*) } :text
  .got : { *(.got .got.*) } :text
  . = ALIGN(CONSTANT(MAXPAGESIZE));
  .bss (NOLOAD) : { *(.bss.stack) *(.bss .bss.*) *(COMMON) } :bss
  /DISCARD/ : { *(.eh_frame*) *(.comment) *(.note*) }
}
";

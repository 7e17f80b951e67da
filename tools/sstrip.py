#!/usr/bin/env python3
"""Drop an ELF executable's section headers and the non-loaded sections
behind them (as ELFkickers' sstrip does): the kernel and the loader read only
the program headers, so the program runs the same. ELF32 and ELF64, little
endian (every architecture rot13d builds for). Refuses a file whose section
data is not all behind the last loaded byte."""
import struct
import sys

path = sys.argv[1]
elf = bytearray(open(path, "rb").read())
assert elf[:4] == b"\x7fELF" and elf[4] in (1, 2) and elf[5] == 1, "not a little-endian ELF file"
wide = elf[4] == 2
# The fields this needs, where they are in each class.
if wide:
    phoff, shoff = struct.unpack_from("<QQ", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    shoff_at, shfields_at = 0x28, 0x3A
    ph = "<IIQQQQQQ"  # type, flags, offset, vaddr, paddr, filesz, memsz, align
else:
    phoff, shoff = struct.unpack_from("<II", elf, 0x1C)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x2A)
    shoff_at, shfields_at = 0x20, 0x2E
    ph = "<IIIIIIII"  # type, offset, vaddr, paddr, filesz, memsz, flags, align
end = phoff + phentsize * phnum
zero = []
for i in range(phnum):
    at = phoff + i * phentsize
    f = struct.unpack_from(ph, elf, at)
    if wide:
        p_type, p_offset, p_vaddr, p_filesz, p_align = f[0], f[2], f[3], f[5], f[7]
        offset_at = at + 8
    else:
        p_type, p_offset, p_vaddr, p_filesz, p_align = f[0], f[1], f[2], f[4], f[7]
        offset_at = at + 4
    if p_type == 1 and p_filesz == 0:
        zero.append((offset_at, p_vaddr, max(p_align, 1)))  # zero-filled only: no file bytes
    elif p_type != 0:
        end = max(end, p_offset + p_filesz)
if shoff == 0:
    sys.exit(0)  # already stripped
assert shoff >= end, "section headers inside the loaded image"
# A segment with no file bytes may still point past the end of the file (the
# linker keeps p_offset congruent to p_vaddr); point it inside, congruent.
for offset_at, p_vaddr, p_align in zero:
    off = end - (end - p_vaddr) % p_align
    struct.pack_into("<Q" if wide else "<I", elf, offset_at, off if off >= 0 else p_vaddr % p_align)
struct.pack_into("<Q" if wide else "<I", elf, shoff_at, 0)  # e_shoff
struct.pack_into("<HHH", elf, shfields_at, 0, 0, 0)  # e_shentsize, e_shnum, e_shstrndx
open(path, "wb").write(bytes(elf[:end]))

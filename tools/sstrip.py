#!/usr/bin/env python3
"""Drop an ELF64 executable's section headers and the non-loaded sections
behind them (as ELFkickers' sstrip does): the kernel and the loader read only
the program headers, so the program runs the same. Refuses a file whose
section data is not all behind the last loaded byte."""
import struct
import sys

path = sys.argv[1]
elf = bytearray(open(path, "rb").read())
assert elf[:4] == b"\x7fELF" and elf[4] == 2 and elf[5] == 1, "not a little-endian ELF64 file"
phoff, shoff = struct.unpack_from("<QQ", elf, 0x20)
phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
end = phoff + phentsize * phnum
zero = []
for i in range(phnum):
    at = phoff + i * phentsize
    p_type, _, p_offset, p_vaddr, _, p_filesz, _, p_align = struct.unpack_from("<IIQQQQQQ", elf, at)
    if p_type == 1 and p_filesz == 0:
        zero.append((at, p_vaddr, max(p_align, 1)))  # zero-filled only: no file bytes
    elif p_type != 0:
        end = max(end, p_offset + p_filesz)
if shoff == 0:
    sys.exit(0)  # already stripped
assert shoff >= end, "section headers inside the loaded image"
# A segment with no file bytes may still point past the end of the file (the
# linker keeps p_offset congruent to p_vaddr); point it inside, congruent.
for at, p_vaddr, p_align in zero:
    off = end - (end - p_vaddr) % p_align
    struct.pack_into("<Q", elf, at + 8, off if off >= 0 else p_vaddr % p_align)
struct.pack_into("<Q", elf, 0x28, 0)        # e_shoff
struct.pack_into("<HHH", elf, 0x3A, 0, 0, 0)  # e_shentsize, e_shnum, e_shstrndx
open(path, "wb").write(bytes(elf[:end]))

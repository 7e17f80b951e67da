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
for i in range(phnum):
    p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
    if p_type != 0:
        end = max(end, p_offset + p_filesz)
if shoff == 0:
    sys.exit(0)  # already stripped
assert shoff >= end, "section headers inside the loaded image"
struct.pack_into("<Q", elf, 0x28, 0)        # e_shoff
struct.pack_into("<HHH", elf, 0x3A, 0, 0, 0)  # e_shentsize, e_shnum, e_shstrndx
open(path, "wb").write(bytes(elf[:end]))

#!/usr/bin/env python3
"""Where the bytes of a binary's code come from: `objdump -dl` of a build with
line tables, each instruction's bytes summed per source line and per file.
Usage: size-by-line.py BINARY [TOP]   (make size-lines builds one and runs it)"""
import collections
import re
import subprocess
import sys

path, top = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30
dis = subprocess.run(["objdump", "-d", "-l", "--no-show-raw-insn", path], capture_output=True, text=True, check=True).stdout
insns, loc = [], None
for line in dis.splitlines():
    m = re.match(r"^(/\S+|\S+\.rs):(\d+)", line)
    if m:
        loc = re.sub(r".*/(rustix-[^/]+|library|src)/", r"\1/", m.group(1)) + ":" + m.group(2)
        continue
    m = re.match(r"^\s+([0-9a-f]+):\s", line)
    if m:
        insns.append((int(m.group(1), 16), loc or "?"))
by_line, by_file = collections.Counter(), collections.Counter()
for (a, where), (b, _) in zip(insns, insns[1:]):
    if b - a < 64:  # not across a gap between functions
        by_line[where] += b - a
        by_file[where.rsplit(":", 1)[0]] += b - a
print(f"{sum(by_file.values())} bytes of code")
for f, n in by_file.most_common(15):
    print(f"{n:6d}  {f}")
print()
for f, n in by_line.most_common(top):
    print(f"{n:6d}  {f}")

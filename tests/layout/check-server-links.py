#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""partyline-server has no GStreamer in it (docs/ARCHITECTURE.md, issue
10): none of GStreamer's or libnice's libraries among its ELF NEEDED
entries, and no undefined gst_ or nice_ symbol in its symbol tables, as
`readelf` shows them. TAP.

    check-server-links.py READELF PROGRAM
"""

import re
import subprocess
import sys

LIBRARIES = re.compile(r'^lib(gst|nice)')
SYMBOLS = re.compile(r'^(gst_|nice_)')


def readelf(program, *options):
    return subprocess.run([readelf_path, '-W', *options, program], check=True,
                          capture_output=True, text=True).stdout


readelf_path, program = sys.argv[1], sys.argv[2]

needed = re.findall(r'\(NEEDED\)\s+Shared library: \[([^\]]+)\]', readelf(program, '-d'))
bad_needed = [name for name in needed if LIBRARIES.match(name)]

# -s lists .dynsym and, when the program is not stripped, .symtab:
#   Num: Value Size Type Bind Vis Ndx Name[@version]
undefined = set()
for line in readelf(program, '-s').splitlines():
    fields = line.split()
    if len(fields) >= 8 and fields[0].endswith(':') and fields[6] == 'UND':
        undefined.add(fields[7].split('@')[0])
bad_symbols = sorted(name for name in undefined if SYMBOLS.match(name))

print('1..2')
print(('not ok' if bad_needed or not needed else 'ok') +
      ' 1 - no GStreamer or libnice library among the NEEDED entries')
if not needed:
    print(f'# readelf -d shows no NEEDED entry in {program}')
for name in bad_needed:
    print(f'# NEEDED {name}')
print(('not ok' if bad_symbols or not undefined else 'ok') +
      ' 2 - no undefined gst_ or nice_ symbol')
if not undefined:
    print(f'# readelf -s shows no undefined symbol in {program}')
for name in bad_symbols:
    print(f'# undefined {name}')
print(f'# {len(needed)} NEEDED entries, {len(undefined)} undefined symbols')
sys.exit(1 if bad_needed or bad_symbols or not needed or not undefined else 0)

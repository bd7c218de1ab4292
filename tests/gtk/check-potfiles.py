#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""po/POTFILES.in lists every file with translatable strings, and only files
that exist (as GNOME Calls' check-po). TAP."""

import os
import re
import sys

root = sys.argv[1]
MARKS = {
    '.c': re.compile(r'\b(?:_|N_|C_|NC_|g_dngettext|g_dgettext)\s*\('),
    '.ui': re.compile(r'translatable="yes"'),
}
# Data files always carry translatable text.
DATA = re.compile(r'\.(desktop\.in|metainfo\.xml\.in|gschema\.xml)$')

listed = []
with open(os.path.join(root, 'po', 'POTFILES.in')) as f:
    for line in f:
        line = line.strip()
        if line and not line.startswith('#'):
            listed.append(line)

found = []
for top in ('src', 'data'):
    for folder, dirs, files in os.walk(os.path.join(root, top)):
        for name in files:
            path = os.path.relpath(os.path.join(folder, name), root)
            ext = os.path.splitext(name)[1]
            if DATA.search(name):
                found.append(path)
            elif ext in MARKS:
                with open(os.path.join(root, path), errors='replace') as f:
                    text = f.read()
                # In C, only the gettext macros count: drop comments first.
                if ext == '.c':
                    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
                if MARKS[ext].search(text):
                    found.append(path)

missing = sorted(set(found) - set(listed))
absent = sorted(p for p in listed if not os.path.exists(os.path.join(root, p)))
print('1..2')
print(('ok' if not missing else 'not ok') + ' 1 - every file with translatable strings is listed')
for p in missing:
    print(f'# missing from po/POTFILES.in: {p}')
print(('ok' if not absent else 'not ok') + ' 2 - every listed file exists')
for p in absent:
    print(f'# listed but absent: {p}')
sys.exit(1 if missing or absent else 0)

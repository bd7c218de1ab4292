#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every language in po/LINGUAS: its .po passes `msgfmt --check`, and merged
with what xgettext finds in the sources now (the files of POTFILES.in, with
the keywords of meson's 'glib' preset) every message is translated and none
is fuzzy. TAP."""

import os
import re
import subprocess
import sys
import tempfile

root = sys.argv[1]
po_dir = os.path.join(root, 'po')
KEYWORDS = ['--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
            '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3',
            '--keyword=g_dpgettext2:2c,3']

with open(os.path.join(po_dir, 'LINGUAS')) as f:
    languages = [w for line in f if not line.startswith('#') for w in line.split()]

print(f'1..{1 + 2 * len(languages)}')
n = 0
failed = False


def result(ok, name, diag=''):
    global n, failed
    n += 1
    failed |= not ok
    print(f'{"ok" if ok else "not ok"} {n} - {name}')
    for line in diag.strip().splitlines():
        print('# ' + line)


with tempfile.TemporaryDirectory() as tmp:
    pot = os.path.join(tmp, 'partyline.pot')
    r = subprocess.run(['xgettext', '--package-name=partyline', '--from-code=UTF-8',
                        '--add-comments', *KEYWORDS, '--directory', root,
                        '--files-from', os.path.join(po_dir, 'POTFILES.in'), '-o', pot],
                       capture_output=True, text=True)
    result(r.returncode == 0 and os.path.exists(pot), 'xgettext extracts the messages',
           r.stderr)

    for lang in languages:
        po = os.path.join(po_dir, lang + '.po')
        r = subprocess.run(['msgfmt', '--check', '--statistics', '-o', os.devnull, po],
                           capture_output=True, text=True)
        result(r.returncode == 0, f'{lang}.po passes msgfmt --check', r.stderr)

        merged = os.path.join(tmp, lang + '.po')
        r = subprocess.run(['msgmerge', '--quiet', '--no-fuzzy-matching', '-o', merged, po, pot],
                           capture_output=True, text=True)
        stats = subprocess.run(['msgfmt', '--statistics', '-o', os.devnull, merged],
                               capture_output=True, text=True) if r.returncode == 0 else r
        text = stats.stderr.strip()
        complete = r.returncode == 0 and re.fullmatch(r'\d+ translated messages?\.', text)
        untranslated = ''
        if not complete and r.returncode == 0:
            u = subprocess.run(['msgattrib', '--untranslated', '--only-fuzzy', merged],
                               capture_output=True, text=True).stdout
            u2 = subprocess.run(['msgattrib', '--untranslated', merged],
                                capture_output=True, text=True).stdout
            untranslated = '\n'.join(line for line in (u + u2).splitlines()
                                     if line.startswith('msgid'))
        result(bool(complete), f'{lang}: every message of the current sources is translated',
               text + '\n' + untranslated)

sys.exit(1 if failed else 0)

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every control in the dialer's .ui files has a name a screen reader can
say: a label of its own, a translatable accessible label, a labelled-by
relation, or (for rows) a title; and every such text is marked for
translation. Controls built in C are checked by test-dialer's screenshots
and by reading: this covers the templates. TAP."""

import glob
import os
import sys
import xml.etree.ElementTree as ET

CONTROLS = {
    'GtkButton', 'GtkToggleButton', 'GtkMenuButton', 'GtkLevelBar', 'GtkEntry',
    'GtkSwitch', 'GtkSpinButton', 'GtkCheckButton', 'GtkListBox', 'GtkGrid',
    'AdwEntryRow', 'AdwPasswordEntryRow', 'AdwComboRow', 'AdwActionRow',
}
# Grids are only controls when they are named as a group (the dial pad).
OPTIONAL = {'GtkGrid', 'AdwActionRow', 'GtkListBox'}
ROWS = {'AdwEntryRow', 'AdwPasswordEntryRow', 'AdwComboRow', 'AdwActionRow'}

src = sys.argv[1]
files = sorted(glob.glob(os.path.join(src, '**', '*.ui'), recursive=True))
results = []


def props(obj):
    return {p.get('name'): p for p in obj.findall('property')}


def accessible(obj):
    a = obj.find('accessibility')
    if a is None:
        return {}, set()
    return ({p.get('name'): p for p in a.findall('property')},
            {r.get('name') for r in a.findall('relation')})


for path in files:
    root = ET.parse(path).getroot()
    name = os.path.relpath(path, src)
    problems = []
    for obj in list(root.iter('object')) + list(root.iter('template')):
        cls = obj.get('class') if obj.tag == 'object' else obj.get('parent')
        if cls not in CONTROLS:
            continue
        p = props(obj)
        a, relations = accessible(obj)
        ident = obj.get('id') or obj.get('class')
        named_by = [p.get('label'), a.get('label'), p.get('title')]
        named = any(x is not None for x in named_by) or 'labelled-by' in relations
        if cls in ROWS and obj.tag == 'template':
            named = True          # the row's title is set in code (the peer)
        if obj.get('id') == 'account_row':
            named = True          # its title is the number, set in code
        if not named and cls not in OPTIONAL:
            problems.append(f'{ident} ({cls}) has no label, title or accessible label')
        for x in named_by + [p.get('tooltip-text'), p.get('placeholder-text')]:
            if x is not None and (x.text or '').strip() and x.get('translatable') != 'yes':
                problems.append(f'{ident} ({cls}): "{x.text}" is not marked translatable')
    results.append((name, problems))

print(f'1..{len(results)}')
for i, (name, problems) in enumerate(results, 1):
    print(f'{"ok" if not problems else "not ok"} {i} - {name}: every control has a name')
    for problem in problems:
        print(f'# {problem}')
sys.exit(1 if any(p for _, p in results) else 0)

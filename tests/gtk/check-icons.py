#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The application icons: a scalable one (128×128) and a symbolic one (16×16,
one flat colour, no gradients or images), both well-formed SVG named after
the application id. TAP."""

import os
import re
import sys
import xml.etree.ElementTree as ET

APP_ID = 'org.partyline.Partyline'
data = sys.argv[1]
SVG = '{http://www.w3.org/2000/svg}'
checks = []


def check(name, ok, diag=''):
    checks.append((name, ok, diag))


def load(path):
    try:
        return ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        check(f'{os.path.basename(path)} is well-formed SVG', False, str(e))
        return None


scalable = os.path.join(data, 'icons/hicolor/scalable/apps', APP_ID + '.svg')
symbolic = os.path.join(data, 'icons/hicolor/symbolic/apps', APP_ID + '-symbolic.svg')

root = load(scalable)
if root is not None:
    check('the scalable icon is an SVG of 128×128',
          root.tag == SVG + 'svg' and root.get('viewBox') == '0 0 128 128'
          and root.get('width') == '128' and root.get('height') == '128',
          f'{root.tag} {root.attrib}')

root = load(symbolic)
if root is not None:
    check('the symbolic icon is an SVG of 16×16',
          root.tag == SVG + 'svg' and root.get('viewBox') == '0 0 16 16',
          f'{root.tag} {root.attrib}')
    text = open(symbolic).read()
    colours = set(c.lower() for c in re.findall(r'#[0-9a-fA-F]{6}\b', text))
    fancy = [el.tag for el in root.iter()
             if el.tag in (SVG + 'linearGradient', SVG + 'radialGradient', SVG + 'image')]
    check('the symbolic icon is one flat colour', len(colours) <= 1 and not fancy,
          f'colours {sorted(colours)}, elements {fancy}')

print(f'1..{len(checks)}')
for i, (name, ok, diag) in enumerate(checks, 1):
    print(f'{"ok" if ok else "not ok"} {i} - {name}')
    if not ok and diag:
        print('# ' + diag)
sys.exit(0 if all(ok for _, ok, _ in checks) else 1)

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""One line per saved run of bench/setup.py, to compare runs (no network needed):

    python3 bench/summarize.py [bench/results/setup-*.json ...]

Every figure is read from the JSON files given (default: every
bench/results/setup-<date>.json); nothing is computed that the files do not hold,
except ratios and counts of values they hold.
"""

import glob
import json
import os
import sys


def f1(v):
    return '–' if v is None else f'{v:.1f}'


def f2(v):
    return '–' if v is None else f'{v:.2f}'


def sweep_row(result, label):
    for row in result.get('sweep', []):
        if row['label'] == label:
            return row['summary']
    return None


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    paths = argv or sorted(p for p in glob.glob(os.path.join(here, 'results', 'setup-*.json'))
                           if not p.endswith('-latest.json'))
    if not paths:
        print('no result files', file=sys.stderr)
        return 1
    print('| run | others\' CPU (of 2) | setup median / p95 / max | first audio median / p95 '
          '/ max | first call setup / audio (× median) | fresh pairs ≤ 1.5× (setup, audio) '
          '| teardown median | `all-ended` median / max | failed |')
    print('|---|---|---|---|---|---|---|---|---|')
    for path in paths:
        with open(path) as f:
            r = json.load(f)
        m, s = r['meta'], r['sequential']
        st, fc = s['steady'], s['first_call'] or {}
        others = m['cpu']['others_cpu_s'] / m['seconds'] if m.get('cpu') else None
        ratios = r.get('first_call_ratios', [])
        within = []
        for key in ('setup_ratio', 'first_audio_ratio'):
            vals = [x[key] for x in ratios if x[key] is not None]
            within.append(f'{sum(v <= 1.5 for v in vals)}/{len(vals)}')
        g = r.get('group', {}).get('all_ended_ms', {})
        failed = len(r.get('failures', []))
        print(f'| {m["date"]} | {f2(others)} | {f1(st["setup_ms"]["median"])} / '
              f'{f1(st["setup_ms"]["p95"])} / {f1(st["setup_ms"]["max"])} | '
              f'{f1(st["first_audio_ms"]["median"])} / {f1(st["first_audio_ms"]["p95"])} / '
              f'{f1(st["first_audio_ms"]["max"])} | {f1(fc.get("setup_ms"))} '
              f'({f2(fc.get("setup_ratio"))}) / {f1(fc.get("first_audio_ms"))} '
              f'({f2(fc.get("first_audio_ratio"))}) | {", ".join(within)} | '
              f'{f1(st["teardown_ms"]["median"])} | {f1(g.get("median"))} / {f1(g.get("max"))} | '
              f'{failed} |')
    print()
    labels = [row['label'] for row in json.load(open(paths[0])).get('sweep', [])]
    if labels:
        print('Sweep, setup median / first audio median (ms) per run:')
        print()
        print('| setting | ' + ' | '.join(json.load(open(p))['meta']['date'] for p in paths) + ' |')
        print('|---|' + '---|' * len(paths))
        for label in labels:
            cells = []
            for p in paths:
                summ = sweep_row(json.load(open(p)), label)
                cells.append('–' if summ is None else
                             f'{f1(summ["steady"]["setup_ms"]["median"])} / '
                             f'{f1(summ["steady"]["first_audio_ms"]["median"])}')
            print(f'| {label} | ' + ' | '.join(cells) + ' |')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

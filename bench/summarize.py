#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""One line per saved run of bench/setup.py, to compare runs (no network needed):

    python3 bench/summarize.py [bench/results/setup-*.json ...]
    python3 bench/summarize.py --targets [bench/results/NAME-<date>.json ...]

Every figure is read from the JSON files given (default: every
bench/results/setup-<date>.json); nothing is computed that the files do not hold,
except ratios and counts of values they hold.

--targets prints issue 4's targets as the runs judged them, one row each,
from the files given (default: the -latest.json of setup, teardown, churn,
soak and capacity), with the date of each run and how busy other processes
kept the machine during it.
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


TARGET_BENCHES = ('setup', 'teardown', 'churn', 'soak', 'capacity')


def targets(paths):
    here = os.path.dirname(os.path.abspath(__file__))
    paths = paths or [p for p in (os.path.join(here, 'results', f'{name}-latest.json')
                                  for name in TARGET_BENCHES) if os.path.exists(p)]
    if not paths:
        print('no result files', file=sys.stderr)
        return 1
    print('| benchmark | run | others\' CPU (of 2) | target | measured | verdict |')
    print('|---|---|---|---|---|---|')
    for path in paths:
        with open(path) as f:
            r = json.load(f)
        m = r['meta']
        name = m['command'].split()[1] if len(m['command'].split()) > 1 else '?'
        others = m['cpu']['others_cpu_s'] / m['seconds'] if m.get('cpu') and m['seconds'] else None
        rows = [t for t in r.get('targets', []) if t.get('issue', 4) == 4]
        if name == 'churn':
            for p in r.get('parts', []):
                rows.append({'target': f'churn, {p["label"]}: no failure', 'met': p['failed'] == 0,
                             'measured': f'{p["cycles"] - p["failed"]}/{p["cycles"]} cycles ok, '
                                         f'{f2(p["cycles_per_s"])} cycles/s, longest stall '
                                         f'caller {f1(p["max_stall_ms"]["caller"])} ms, callee '
                                         f'{f1(p["max_stall_ms"]["callee"])} ms'})
        if r.get('failures') or r.get('aborted') or r.get('problems'):
            rows.append({'target': 'the run itself: no failure, nothing odd', 'met': False,
                         'measured': f'{len(r.get("failures", []))} failures, '
                                     f'{len(r.get("problems", []))} odd: '
                                     + '; '.join(x.splitlines()[0][:100] for x in
                                                 (r.get('failures', []) + r.get('problems', []))[:2])
                                     + (f', aborted: {r["aborted"]}' if r.get('aborted') else '')})
        for i, t in enumerate(rows):
            print(f'| {name if i == 0 else ""} | {m["date"] if i == 0 else ""} | '
                  f'{f2(others) if i == 0 else ""} | {t["target"]} | {t["measured"]} | '
                  f'{"met" if t["met"] else "**not met**"} |')
    return 0


def main(argv):
    if argv[:1] == ['--targets']:
        return targets(argv[1:])
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
        m, s = r['meta'], r.get('sequential')
        if s is None:
            continue
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

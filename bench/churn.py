#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Churn rate: dial → hang-up cycles per second between two partyline-cli, with no failure.

Run it through bench/run (a private network namespace with only `lo`):

    bench/run churn [--cycles 300] [--random-cycles 300] [--max-delay-ms 300] [--seed 4]

One server, a caller (tone 440) and an auto-answering callee (tone 660), fresh
processes, one call at a time. Two parts, each preceded by `resources reset`
on both phones and followed by `settle` (no pipeline left, lingering ones
included) and `resources`:

1. hang up right after `active`: `dial`, wait for the caller's `active`,
   `hangup`, wait for `ended` on both phones; `cycles` times;
2. hang up after a random delay of 0–max ms after the `dial` was written
   (seeded, uniform), so that hang-ups land before the offer is sent, during
   ICE and DTLS, just after `active` or later; `ended` is awaited on the
   callee when the offer had been sent (`dialing`) or it saw the call.

A cycle fails when the call ends before the hang-up, a `hangup` is refused,
or an `ended` does not come within the watchdog timeout. Reported per part:
cycles per second over the whole part (bench overhead included: the next
dial is written only once both sides have ended the call), the cycle time,
teardown_ms on both sides, the state each hang-up found, the reasons, the
longest main-loop stall of each phone during the part, and what the phones
hold after it compared with before (calls, webrtcbins, nice agents must be 0;
threads and fds back to where they were).
"""

import random
import sys
import time

sys.dont_write_bytecode = True      # no bench/__pycache__ in the source tree
from benchlib import (Bench, BenchError, Phone, Server, churn_cycle,  # noqa: E402
                      describe_churn, f1, f2, leftovers, table)


def churn_part(bench, caller, callee, cycles, delays, label):
    """`cycles` cycles; delays[i] is the hang-up delay (None: after active)."""
    bench.progress(f'bench: {label}, {cycles} cycles')
    before = {'caller': caller.resources(reset=True), 'callee': callee.resources(reset=True)}
    load = bench.load()
    t0 = time.monotonic()
    records = []
    for i in range(cycles):
        rec = churn_cycle(caller, callee, delays[i])
        rec['index'] = i + 1
        records.append(rec)
        if not rec['ok']:
            bench.progress(f'  cycle {i + 1} FAILED: {rec["error"].splitlines()[0]}')
    seconds = time.monotonic() - t0
    during = {'caller': caller.resources(), 'callee': callee.resources()}
    after = {'caller': caller.settle(), 'callee': callee.settle()}
    part = describe_churn(records, seconds)
    part.update({'label': label, 'records': records, 'load': load.describe(),
                 'resources_before': before, 'resources_end_of_churn': during,
                 'resources_settled': after,
                 'max_stall_ms': {who: during[who]['max_stall_ms'] for who in during},
                 'max_busy_ms': {who: during[who].get('max_busy_ms') for who in during}})
    return part


def tables(result):
    parts = result.get('parts', [])
    if not parts:
        return ''
    rows = []
    for p in parts:
        rows.append([p['label'], f'{p["cycles"] - p["failed"]}/{p["cycles"]}',
                     f2(p['cycles_per_s']), f1(p['cycle_ms']['median']),
                     f1(p['cycle_ms']['p95']), f1(p['cycle_ms']['max']),
                     f1(p['teardown_ms']['median']), f1(p['teardown_ms']['max']),
                     f1(p['callee_teardown_ms']['median']),
                     f'{f1(p["max_stall_ms"]["caller"])} ({f1(p["max_busy_ms"]["caller"])})',
                     f'{f1(p["max_stall_ms"]["callee"])} ({f1(p["max_busy_ms"]["callee"])})',
                     f'{p["load"]["others_cpus"]:.2f}'])
    out = ['### Churn (one call at a time; ms unless stated)', '',
           table(['part', 'cycles ok', 'cycles/s', 'cycle median', 'p95', 'max',
                  'caller teardown median', 'max', 'callee teardown median',
                  'caller longest stall (less CPU waits)', 'callee longest stall (less CPU waits)',
                  "others' CPU (of 2)"], rows), '']
    rows = []
    for p in parts:
        reached = ', '.join(f'{k} {v}' for k, v in sorted(p['reached'].items()))
        reasons = ', '.join(f'{k} {v}' for k, v in sorted(p['reasons'].items()))
        rows.append([p['label'], reached, reasons])
    out += ['What each hang-up found, and the reasons the phones gave:', '',
            table(['part', 'caller state at the hang-up', 'reasons'], rows), '']
    rows = []
    for p in parts:
        for who in ('caller', 'callee'):
            b, a = p['resources_before'][who], p['resources_settled'][who]
            rows.append([p['label'] if who == 'caller' else '', who,
                         f'{b["threads"]} → {a["threads"]}', f'{b["fds"]} → {a["fds"]}',
                         f'{b["rss_kib"]} → {a["rss_kib"]}',
                         ', '.join(f'{k} {v}' for k, v in leftovers(a).items()) or 'none'])
    out += ['Before the part → after it, settled:', '',
            table(['part', 'phone', 'threads', 'fds', 'RSS KiB', 'live objects left'], rows), '']
    return '\n'.join(out)


def main():
    bench = Bench('churn', __doc__, ('server', 'cli'))
    ap = bench.ap
    ap.add_argument('--cycles', type=int, default=300,
                    help='cycles hanging up right after active (default 300; 0 skips)')
    ap.add_argument('--random-cycles', type=int, default=300,
                    help='cycles hanging up after a random delay (default 300; 0 skips)')
    ap.add_argument('--max-delay-ms', type=int, default=300,
                    help='the random delay is uniform in 0..this (default 300)')
    ap.add_argument('--seed', type=int, default=4, help='of the random delays (default 4)')
    args = bench.parse()
    if not 0 <= args.cycles <= 5000 or not 0 <= args.random_cycles <= 5000 or \
            not 0 <= args.max_delay_ms <= 5000:
        ap.error('--cycles and --random-cycles 0–5000, --max-delay-ms 0–5000')
    rc = bench.start()
    if rc is not None:
        return rc
    result = bench.result
    rng = random.Random(args.seed)
    try:
        server = Server(bench.children, bench.paths['server'])
        callee = Phone(bench.children, bench.paths['cli'], '2001', server.url, 'tone:660',
                       auto_answer=True, env=bench.env)
        caller = Phone(bench.children, bench.paths['cli'], '1001', server.url, 'tone:440',
                       env=bench.env)
        result['parts'] = []
        if args.cycles:
            result['parts'].append(churn_part(bench, caller, callee, args.cycles,
                                              [None] * args.cycles, 'hang up at active'))
        if args.random_cycles:
            delays = [rng.uniform(0, args.max_delay_ms / 1000.0)
                      for _ in range(args.random_cycles)]
            result['parts'].append(churn_part(
                bench, caller, callee, args.random_cycles, delays,
                f'hang up 0–{args.max_delay_ms} ms after dial'))
        result['exit'] = {'caller': caller.stop(), 'callee': callee.stop(),
                          'server': server.stop()}
    except BenchError as e:
        bench.abort(e)

    for p in result.get('parts', []):
        for r in p['records']:
            if not r['ok']:
                bench.failures.append(f'{p["label"]} cycle {r["index"]}: {r["error"]}')
        for who in ('caller', 'callee'):
            left = leftovers(p['resources_settled'][who])
            if left:
                bench.failures.append(f'{p["label"]}: {who} still holds {left} once settled')
        odd = {k: v for k, v in p['reasons'].items() if not k.endswith(' normal')}
        if odd:
            bench.problems.append(f'{p["label"]}: reasons other than normal: {odd}')
    return bench.finish(tables)


if __name__ == '__main__':
    sys.exit(main())

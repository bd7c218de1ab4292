#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Soak: memory, threads and fds of two partyline-cli over 1000 churn cycles.

Run it through bench/run (a private network namespace with only `lo`):

    bench/run soak [--cycles 1000] [--every 100] [--max-delay-ms 300] [--seed 5]

One server, a caller (tone 440) and an auto-answering callee (tone 660), fresh
processes. The cycles are churn cycles as in bench/churn.py's second part:
`dial`, `hangup` after a random 0–300 ms (seeded), `ended` on both sides, one
call at a time. Before the first cycle and after every `every` cycles, both
phones `settle` (no pipeline left, lingering ones included) and report
`resources`: RSS, threads, fds and the live-object counters.

Issue 4's target: RSS growth under 5 KiB per churn cycle after warm-up, and no
thread growth. Idle threads of GLib's and GStreamer's pools come and go, so a
single sample's thread count moves by several (5 to 13 here); "no growth" is
judged as: the fewest threads of the second half of the samples after warm-up
are not more than the fewest of the first half, and the least-squares slope
is under 10 threads per 1000 cycles (a thread kept by 2 % of the calls would
give 20, and raise the floor). Growth per cycle = (RSS after the last cycle − RSS after the
first `every` cycles, the warm-up) / the cycles in between; a least-squares
slope over every sample from the warm-up on is given beside it. Both phones
are judged; the target is met only if both are under it.
"""

import random
import sys
import time

sys.dont_write_bytecode = True      # no bench/__pycache__ in the source tree
from benchlib import (Bench, BenchError, Phone, Server, churn_cycle, describe_churn, f2,  # noqa: E402
                      leftovers, table, targets_section)

TARGET_KIB_PER_CYCLE = 5.0
TARGET_THREADS_PER_1000 = 10.0
WHO = ('caller', 'callee')


def slope(points):
    """Least-squares slope of (x, y) points (None for fewer than 2)."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else None


def threads_range(samples, warmup, who, half):
    """[min, max] thread count of the first (0) or second (1) half of the
    samples after the warm-up. Idle threads of GLib's and GStreamer's thread
    pools come and go, so single samples move by several threads."""
    after = [s for s in samples if s['cycles'] >= warmup]
    part = after[:(len(after) + 1) // 2] if half == 0 else after[(len(after) + 1) // 2:]
    values = [s[who]['threads'] for s in part] or [None]
    return [min(values), max(values)]


def analyse(samples, warmup):
    out = {}
    for who in WHO:
        pts = [(s['cycles'], s[who]['rss_kib']) for s in samples if s['cycles'] >= warmup]
        first = next(s for s in samples if s['cycles'] >= warmup)
        last = samples[-1]
        span = last['cycles'] - first['cycles']
        out[who] = {
            'rss_kib_start': samples[0][who]['rss_kib'],
            'rss_kib_warm': first[who]['rss_kib'], 'rss_kib_end': last[who]['rss_kib'],
            'warm_cycles': first['cycles'], 'end_cycles': last['cycles'],
            'kib_per_cycle': round((last[who]['rss_kib'] - first[who]['rss_kib']) / span, 3)
            if span else None,
            'kib_per_cycle_fit': round(slope(pts), 3) if slope(pts) is not None else None,
            'threads': [samples[0][who]['threads'], first[who]['threads'], last[who]['threads']],
            'threads_range_first_half': threads_range(samples, warmup, who, 0),
            'threads_range_second_half': threads_range(samples, warmup, who, 1),
            'threads_per_1000_cycles_fit': round(1000 * slope(
                [(s['cycles'], s[who]['threads']) for s in samples if s['cycles'] >= warmup]), 2),
            'fds': [samples[0][who]['fds'], first[who]['fds'], last[who]['fds']],
            'leftovers_end': leftovers(last[who]),
        }
    return out


def targets(result):
    g = result.get('growth')
    if not g:
        return []
    out = []
    worst = max(g[w]['kib_per_cycle'] for w in WHO)
    out.append({'target': f'RSS growth < {TARGET_KIB_PER_CYCLE:g} KiB per churn cycle after '
                          'warm-up (both phones)',
                'value': worst, 'met': worst < TARGET_KIB_PER_CYCLE,
                'measured': ', '.join(f'{w} {f2(g[w]["kib_per_cycle"])} (fit '
                                      f'{f2(g[w]["kib_per_cycle_fit"])})' for w in WHO)})
    # Growth: the floor rises (the fewest threads of the second half of the
    # samples after warm-up above the fewest of the first half), or the count
    # climbs (slope of 10 threads per 1000 cycles or more). Single samples move
    # by several threads with the idle threads of GLib's and GStreamer's pools.
    grew = {w: g[w] for w in WHO
            if g[w]['threads_range_second_half'][0] > g[w]['threads_range_first_half'][0]
            or g[w]['threads_per_1000_cycles_fit'] >= TARGET_THREADS_PER_1000}
    out.append({'target': 'no thread growth (the fewest threads of the second half of the '
                          'samples not above the fewest of the first half, and a slope under '
                          f'{TARGET_THREADS_PER_1000:g} per 1000 cycles)',
                'value': list(grew), 'met': not grew,
                'measured': ', '.join(
                    f'{w} {g[w]["threads_range_first_half"][0]}–'
                    f'{g[w]["threads_range_first_half"][1]} then '
                    f'{g[w]["threads_range_second_half"][0]}–'
                    f'{g[w]["threads_range_second_half"][1]} '
                    f'(fit {f2(g[w]["threads_per_1000_cycles_fit"])}/1000 cycles)' for w in WHO)})
    return out


def tables(result):
    samples = result.get('samples')
    if not samples:
        return ''
    rows = [[s['cycles']] + [x for w in WHO for x in (s[w]['rss_kib'], s[w]['threads'],
                                                        s[w]['fds'])] +
            [', '.join(f'{w}: {leftovers(s[w])}' for w in WHO if leftovers(s[w])) or 'none']
            for s in samples]
    out = [f'### Soak: {result["churn"]["cycles"]} churn cycles (hang-up 0–'
           f'{result["meta"]["options"]["max_delay_ms"]} ms after dial), settled samples', '',
           table(['after cycle', 'caller RSS KiB', 'threads', 'fds', 'callee RSS KiB', 'threads',
                  'fds', 'live objects left'], rows), '']
    c = result['churn']
    out.append(f'{c["cycles"] - c["failed"]} of {c["cycles"]} cycles ok in {c["seconds"]:.0f} s '
               f'({f2(c["cycles_per_s"])}/s); reached at the hang-up: '
               + ', '.join(f'{k} {v}' for k, v in sorted(c['reached'].items()))
               + '; reasons: ' + ', '.join(f'{k} {v}' for k, v in sorted(c['reasons'].items())))
    out.append('')
    g = result.get('growth')
    if g:
        rows = [[w, g[w]['rss_kib_start'], f'{g[w]["rss_kib_warm"]} (cycle {g[w]["warm_cycles"]})',
                 f'{g[w]["rss_kib_end"]} (cycle {g[w]["end_cycles"]})', f2(g[w]['kib_per_cycle']),
                 f2(g[w]['kib_per_cycle_fit']), ' → '.join(map(str, g[w]['threads'])),
                 ' → '.join(map(str, g[w]['fds']))] for w in WHO]
        out += [table(['phone', 'RSS KiB at start', 'after warm-up', 'at the end',
                       'KiB per cycle', 'KiB per cycle (fit)', 'threads start → warm → end',
                       'fds start → warm → end'], rows), '']
    if result.get('targets'):
        out += targets_section(result['targets'])
    return '\n'.join(out)


def main():
    bench = Bench('soak', __doc__, ('server', 'cli'), watchdog=1800.0)
    ap = bench.ap
    ap.add_argument('--cycles', type=int, default=1000, help='churn cycles (default 1000)')
    ap.add_argument('--every', type=int, default=100,
                    help='settle and sample every this many cycles; the first sample after '
                         'cycle 0 ends the warm-up (default 100)')
    ap.add_argument('--max-delay-ms', type=int, default=300,
                    help='the hang-up delay is uniform in 0..this (default 300)')
    ap.add_argument('--seed', type=int, default=5, help='of the random delays (default 5)')
    args = bench.parse()
    if not 1 <= args.every <= args.cycles <= 20000 or not 0 <= args.max_delay_ms <= 5000:
        ap.error('1 ≤ --every ≤ --cycles ≤ 20000, --max-delay-ms 0–5000')
    if args.cycles < 2 * args.every:
        ap.error('--cycles must be at least twice --every (a warm-up, then growth)')
    rc = bench.start()
    if rc is not None:
        return rc
    result = bench.result
    rng = random.Random(args.seed)
    records, samples = [], []
    try:
        server = Server(bench.children, bench.paths['server'])
        phones = {'callee': Phone(bench.children, bench.paths['cli'], '2001', server.url,
                                  'tone:660', auto_answer=True, env=bench.env),
                  'caller': Phone(bench.children, bench.paths['cli'], '1001', server.url,
                                  'tone:440', env=bench.env)}
        caller, callee = phones['caller'], phones['callee']

        def sample(cycles):
            s = {'cycles': cycles, 't': round(time.monotonic() - t0, 2)}
            s.update({w: phones[w].settle() for w in WHO})
            samples.append(s)
            bench.progress(f'  after {cycles} cycles: caller {s["caller"]["rss_kib"]} KiB, '
                           f'callee {s["callee"]["rss_kib"]} KiB')

        bench.progress(f'bench: {args.cycles} churn cycles, sampled every {args.every}')
        load = bench.load()
        t0 = time.monotonic()
        sample(0)
        churn_s = 0.0
        for i in range(args.cycles):
            c0 = time.monotonic()
            rec = churn_cycle(caller, callee, rng.uniform(0, args.max_delay_ms / 1000.0))
            churn_s += time.monotonic() - c0
            rec['index'] = i + 1
            records.append(rec)
            if not rec['ok']:
                bench.progress(f'  cycle {i + 1} FAILED: {rec["error"].splitlines()[0]}')
            if (i + 1) % args.every == 0 or i + 1 == args.cycles:
                sample(i + 1)
        result['churn'] = describe_churn(records, churn_s)
        result['churn']['load'] = load.describe()
        result['samples'] = samples
        result['growth'] = analyse(samples, args.every)
        result['records'] = records
        result['exit'] = {'caller': caller.stop(), 'callee': callee.stop(),
                          'server': server.stop()}
    except BenchError as e:
        bench.abort(e)
        result.setdefault('samples', samples)

    result['targets'] = targets(result)
    for r in records:
        if not r['ok']:
            bench.failures.append(f'cycle {r["index"]}: {r["error"]}')
    for s in samples:
        for w in WHO:
            if leftovers(s[w]):
                bench.failures.append(f'after cycle {s["cycles"]}: {w} still holds '
                                      f'{leftovers(s[w])} once settled')
    odd = {k: v for k, v in result.get('churn', {}).get('reasons', {}).items()
           if not k.endswith(' normal')}
    if odd:
        bench.problems.append(f'reasons other than normal: {odd}')
    return bench.finish(tables)


if __name__ == '__main__':
    sys.exit(main())

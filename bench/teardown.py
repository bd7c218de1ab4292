#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Teardown of partyline-cli: hang-up → NULL per call, and group hang-up of N calls.

Run it through bench/run (a private network namespace with only `lo`):

    bench/run teardown [--calls 30] [--sizes 1,4,8,16] [--rounds 10] [--reference-rounds 3]

One server, one caller (partyline-cli, tone 440) and one partyline-farm
(lines 3000…, tone 660, auto-answering) for every part:

1. per call: the caller dials line 30000, waits for `active` and `audio`,
   writes `hangup`, and reads `teardown_ms` from the `ended` of both sides
   (hang-up → that side's pipeline in NULL); `calls` times. Interleaved: the
   same number of calls of the minimal reference (bench/reference-webrtcbin,
   webrtcbin's defaults), whose NULL is a plain set_state on the main thread.
2. group hang-up, for each N: the caller group-dials N farm lines and waits
   until every call is `active` and heard (`audio`), so media flows on all of
   them. Then `resources reset`, `hangup-all`, wait for `all-ended` (its `ms`:
   from reading the command to the last pipeline in NULL), `resources` (its
   `max_stall_ms`: the longest main-loop stall of the caller in between), then
   `ended` on the farm for every call and `settle` on both before the next
   round. Beside it, `group N` of each reference configuration (N calls set up
   at once, then their caller pipelines to NULL one after the other on the main
   loop, as a plain program does: that sum is its main-loop stall).

Issue 4's target: group hang-up of 8 active calls under 40 ms until every
pipeline is in NULL, with the longest main-loop stall under 10 ms. Both are
judged on every round (median, and the worst round). Every wait is on an event,
with a timeout as a watchdog.
"""

import sys

sys.dont_write_bytecode = True      # no bench/__pycache__ in the source tree
from benchlib import (Bench, BenchError, Farm, Phone, Server, cleanup, describe_reference,  # noqa: E402
                      dialed, f1, f2, int_list, ms, public, ratio, start_references,
                      summary, table, targets_section, wait_audio, wait_state)

TARGET_GROUP = 8
TARGET_ALL_ENDED_MS = 40.0
TARGET_STALL_MS = 10.0
FARM_PREFIX = '3000'


def per_call(caller, farm, calls, references, progress):
    """Sequential calls to one farm line; references interleaved one call each."""
    number = farm.numbers[0]
    records, ref_records = [], {key: [] for key, _, _ in references}
    for i in range(calls):
        c0, f0 = caller.mark(), farm.mark()
        rec = {'index': i + 1, 'ok': False}
        cid = None
        try:
            caller.send(f'dial {number}')
            cid = dialed(caller, [number], c0)[number]
            wait_state(caller, cid, 'active', c0)
            wait_audio(caller, cid, c0)
            t_hang = caller.send(f'hangup {number}')
            end_c = wait_state(caller, cid, 'ended', c0)
            end_f = wait_state(farm, cid, 'ended', f0)
            rec.update({'ok': True, 'call_id': cid, 'teardown_ms': end_c.get('teardown_ms'),
                        'callee_teardown_ms': end_f.get('teardown_ms'),
                        'observed_hangup_to_ended_ms': ms(t_hang, end_c['_rx']),
                        'reason': end_c.get('reason'), 'callee_reason': end_f.get('reason')})
        except BenchError as e:
            rec['error'] = str(e)
            progress(f'  call {i + 1} FAILED: {str(e).splitlines()[0]}')
            cleanup(caller, FarmLine(farm, number), cid, c0, f0)
        records.append(rec)
        for key, _, ref in references:
            ref_records[key].append(ref.call())
    ok = [r for r in records if r['ok']]
    return {
        'calls': len(records), 'failed': len(records) - len(ok), 'records': records,
        'teardown_ms': summary([r['teardown_ms'] for r in ok]),
        'callee_teardown_ms': summary([r['callee_teardown_ms'] for r in ok]),
        'observed_hangup_to_ended_ms': summary([r['observed_hangup_to_ended_ms'] for r in ok]),
    }, ref_records


class FarmLine:
    """What cleanup() needs of a callee: its number, and the farm's events."""

    def __init__(self, farm, number):
        self.farm, self.number = farm, number

    def wait(self, *a, **kw):
        return self.farm.wait(*a, **kw)

    def mark(self):
        return self.farm.mark()

    @property
    def events(self):
        return self.farm.events


def group_round(caller, farm, size, index):
    numbers = farm.numbers[:size]
    c0, f0 = caller.mark(), farm.mark()
    rec = {'size': size, 'round': index, 'ok': False}
    cids = {}
    try:
        t_dial = caller.send('dial ' + ' '.join(numbers))
        cids = dialed(caller, numbers, c0)
        actives = [wait_state(caller, cids[n], 'active', c0) for n in numbers]
        audios = [wait_audio(caller, cids[n], c0) for n in numbers]
        for n in numbers:
            wait_audio(farm, cids[n], f0)
        before = caller.resources(reset=True)
        h0 = caller.mark()
        t_hang = caller.send('hangup-all')
        ae = caller.wait(lambda e: e['event'] == 'all-ended', since=h0, what='all-ended')
        after = caller.resources()
        ends = [wait_state(caller, cids[n], 'ended', c0) for n in numbers]
        farm_ends = [wait_state(farm, cids[n], 'ended', f0) for n in numbers]
        settled = caller.settle()
        farm_settled = farm.settle()
        rec.update({
            'ok': True, 'count': ae.get('count'), 'all_ended_ms': ae.get('ms'),
            'observed_all_ended_ms': ms(t_hang, ae['_rx']),
            'max_stall_ms': after.get('max_stall_ms'),
            'max_busy_ms': after.get('max_busy_ms'),
            'stall_before_ms': before.get('max_stall_ms'),
            'setup_ms': [a.get('setup_ms') for a in actives],
            'last_audio_after_dial_ms': ms(t_dial, max(a['_rx'] for a in audios)),
            'teardown_ms': [e.get('teardown_ms') for e in ends],
            'callee_teardown_ms': [e.get('teardown_ms') for e in farm_ends],
            'reasons': [e.get('reason') for e in ends],
            'callee_reasons': [e.get('reason') for e in farm_ends],
            'resources_before': before, 'resources_after': after,
            'settled': settled, 'farm_settled': farm_settled,
        })
        if ae.get('count') != size:
            rec['odd'] = f'all-ended count {ae.get("count")}, expected {size}'
    except BenchError as e:
        rec['error'] = str(e)
        for n in numbers:
            if n in cids:
                cleanup(caller, FarmLine(farm, n), cids[n], c0, f0)
    return rec


def describe_group(records):
    ok = [r for r in records if r['ok']]
    return {
        'rounds': len(records), 'failed': len(records) - len(ok),
        'all_ended_ms': summary([r['all_ended_ms'] for r in ok]),
        'observed_all_ended_ms': summary([r['observed_all_ended_ms'] for r in ok]),
        'max_stall_ms': summary([r['max_stall_ms'] for r in ok]),
        'max_busy_ms': summary([r.get('max_busy_ms') for r in ok]),
        'teardown_ms': summary([x for r in ok for x in r['teardown_ms']]),
        'callee_teardown_ms': summary([x for r in ok for x in r['callee_teardown_ms']]),
        'setup_ms': summary([x for r in ok for x in r['setup_ms']]),
    }


def describe_reference_groups(records):
    ok = [r for r in records if r.get('ok')]
    return {'rounds': len(records), 'failed': len(records) - len(ok),
            'callers_null_ms': summary([r['callers_null_ms'] for r in ok]),
            'callees_null_ms': summary([r['callees_null_ms'] for r in ok]),
            'callers_unref_ms': summary([r['callers_unref_ms'] for r in ok]),
            'callers_stall_ms': summary([r['callers_null_ms'] + r['callers_unref_ms']
                                         for r in ok]),
            'null_ms_per_pipeline': summary([x for r in ok for c in r['calls']
                                             for x in c['null_ms']])}


def reference_group(ref, size):
    since = ref.mark()
    ref.send(f'group {size}')
    ev = ref.wait(lambda e: e['event'] in ('group', 'error'), timeout=30 + size, since=since,
                  what=f'group {size}')
    rec = public(ev)
    rec['calls'] = [public(e) for e in ref.events[since:] if e['event'] == 'call']
    return rec


def targets(result):
    g = result.get('groups', {}).get(str(TARGET_GROUP))
    out = []
    if not g:
        return out
    s = g['summary']
    a, st = s['all_ended_ms'], s['max_stall_ms']
    out.append({'target': f'group hang-up of {TARGET_GROUP}: `all-ended` < '
                          f'{TARGET_ALL_ENDED_MS:g} ms (median of the rounds)',
                'value': a['median'], 'met': a['median'] is not None
                and a['median'] < TARGET_ALL_ENDED_MS,
                'measured': f'median {f1(a["median"])} ms, max {f1(a["max"])} ms '
                            f'({sum(1 for r in g["records"] if r["ok"] and r["all_ended_ms"] < TARGET_ALL_ENDED_MS)}'
                            f' of {s["rounds"]} rounds under)'})
    out.append({'target': f'group hang-up of {TARGET_GROUP}: every round < '
                          f'{TARGET_ALL_ENDED_MS:g} ms',
                'value': a['max'], 'met': a['max'] is not None and a['max'] < TARGET_ALL_ENDED_MS
                and s['failed'] == 0, 'measured': f'max {f1(a["max"])} ms'})
    b = s['max_busy_ms']
    out.append({'target': f'longest main-loop stall during it < {TARGET_STALL_MS:g} ms '
                          '(worst round)',
                'value': st['max'], 'met': st['max'] is not None and st['max'] < TARGET_STALL_MS
                and s['failed'] == 0,
                'measured': f'max {f1(st["max"])} ms, median {f1(st["median"])} ms (less the '
                            f'main thread\'s waits for a CPU: max {f1(b["max"])}, median '
                            f'{f1(b["median"])})'})
    return out


def tables(result):
    out = []
    pc = result.get('per_call')
    if pc:
        rows = [['caller: hang-up → NULL (`teardown_ms`)'] + cells(pc['teardown_ms']),
                ['callee (farm): hang-up received → NULL'] + cells(pc['callee_teardown_ms']),
                ['caller: `hangup` written → `ended` read'] +
                cells(pc['observed_hangup_to_ended_ms'])]
        for key, ref in result.get('reference', {}).items():
            rows.append([f'reference ({key}): NULL of one pipeline, main thread'] +
                        cells(ref['summary']['steady']['null_ms']))
            rows.append([f'reference ({key}): NULL + final unref of one pipeline'] +
                        cells(ref['summary']['steady']['hangup_ms']))
        out += [f'### Per call ({pc["calls"]} calls, {pc["failed"]} failed; ms)', '',
                table(['measure', 'n', 'median', 'p95', 'max'], rows), '']
        for key, ref in result.get('reference', {}).items():
            rs = ref['summary']['steady']['hangup_ms']
            out.append(f'Partyline caller teardown ÷ {key} reference NULL + unref: median '
                       f'{f2(ratio(pc["teardown_ms"]["median"], rs["median"]))}, p95 '
                       f'{f2(ratio(pc["teardown_ms"]["p95"], rs["p95"]))}')
        out.append('')
    groups = result.get('groups')
    if groups:
        rows = []
        for size, g in groups.items():
            s = g['summary']
            rows.append([size, f'{s["rounds"] - s["failed"]}/{s["rounds"]}',
                         f1(s['all_ended_ms']['median']), f1(s['all_ended_ms']['p95']),
                         f1(s['all_ended_ms']['max']), f1(s['observed_all_ended_ms']['median']),
                         f1(s['max_stall_ms']['median']), f1(s['max_stall_ms']['max']),
                         f1(s['max_busy_ms']['median']), f1(s['max_busy_ms']['max']),
                         f1(s['teardown_ms']['median']), f1(s['teardown_ms']['max']),
                         f1(s['callee_teardown_ms']['median'])])
        out += ['### Group hang-up of N active calls (`hangup-all` → `all-ended`; ms)', '',
                table(['N', 'rounds ok', 'all-ended median', 'p95', 'max', 'seen by bench median',
                       'main-loop stall median', 'stall max', 'less CPU waits: median',
                       'max', 'teardown_ms per call median',
                       'per call max', 'callee teardown median'], rows), '']
        refs = result.get('reference_groups')
        if refs:
            rows = []
            for size in groups:
                row = [size]
                for key in refs:
                    s = refs[key].get(size, {})
                    cn, cs = s.get('callers_null_ms', {}), s.get('callers_stall_ms', {})
                    row += [f1(cn.get('median')), f1(cs.get('median')), f1(cs.get('max'))]
                s = groups[size]['summary']['all_ended_ms']['median']
                row += [f2(ratio(s, refs[key].get(size, {}).get('callers_stall_ms', {})
                                 .get('median'))) for key in refs]
                rows.append(row)
            header = ['N']
            for key in refs:
                header += [f'{key}: callers to NULL, median', '+ their unref = its stall, median',
                           'max']
            header += [f'Partyline all-ended ÷ {key} stall' for key in refs]
            out += ['Plain-program comparison (bench/reference-webrtcbin `group N`: N calls set '
                    'up at once, then on the main thread each caller pipeline set to NULL, one '
                    'after the other, then each one\'s last ref dropped; ms):', '',
                    table(header, rows), '']
    if result.get('targets'):
        out += targets_section(result['targets'])
    return '\n'.join(out)


def cells(s):
    return [s['n'], f1(s['median']), f1(s['p95']), f1(s['max'])]


def main():
    bench = Bench('teardown', __doc__, ('server', 'cli', 'farm', 'reference'))
    ap = bench.ap
    ap.add_argument('--calls', type=int, default=30,
                    help='sequential calls for the per-call teardown (default 30; 0 skips)')
    ap.add_argument('--sizes', default='1,4,8,16',
                    help='group sizes, comma-separated (default 1,4,8,16)')
    ap.add_argument('--rounds', type=int, default=10, help='rounds per group size (default 10)')
    ap.add_argument('--reference-rounds', type=int, default=3,
                    help='`group N` rounds of each reference configuration per size (default 3; '
                         '0 skips the reference)')
    args = bench.parse()
    sizes = int_list(ap, '--sizes', args.sizes)
    if not sizes or any(not 1 <= n <= 64 for n in sizes):
        ap.error('--sizes: between 1 and 64 each')
    if not 0 <= args.calls <= 1000 or not 1 <= args.rounds <= 200 or \
            not 0 <= args.reference_rounds <= 50:
        ap.error('--calls 0–1000, --rounds 1–200, --reference-rounds 0–50')
    rc = bench.start()
    if rc is not None:
        return rc
    progress, children, paths, env, result = (bench.progress, bench.children, bench.paths,
                                              bench.env, bench.result)
    try:
        server = Server(children, paths['server'])
        farm = Farm(children, paths['farm'], FARM_PREFIX, max(sizes + [1]), server.url,
                    'tone:660', env=env)
        caller = Phone(children, paths['cli'], '1001', server.url, 'tone:440', env=env)
        references = start_references(children, paths['reference'], env) \
            if args.reference_rounds else []
        result['resources_start'] = {'caller': caller.resources(), 'farm': farm.resources()}

        if args.calls:
            progress(f'bench: {args.calls} calls, hang-up → NULL per call '
                     f'(+ {args.calls} of each reference)')
            load = bench.load()
            result['per_call'], ref_records = per_call(caller, farm, args.calls,
                                                       references[:1], progress)
            result['per_call']['load'] = load.describe()
            result['reference'] = {}
            for key, label, _ in references[:1]:
                result['reference'][key] = {'label': label, 'records': ref_records[key],
                                            'summary': describe_reference(ref_records[key])}

        result['groups'] = {}
        result['reference_groups'] = {key: {} for key, _, _ in references}
        for size in sizes:
            progress(f'bench: group hang-up of {size}, {args.rounds} rounds')
            load = bench.load()
            records = []
            for r in range(args.rounds):
                rec = group_round(caller, farm, size, r + 1)
                records.append(rec)
                if not rec['ok']:
                    progress(f'  round {r + 1} FAILED: {rec["error"].splitlines()[0]}')
            result['groups'][str(size)] = {'records': records, 'summary': describe_group(records),
                                           'load': load.describe()}
            for key, _, ref in references:
                recs = [reference_group(ref, size) for _ in range(args.reference_rounds)]
                result['reference_groups'][key][str(size)] = describe_reference_groups(recs)
                result['reference_groups'][key][str(size)]['records'] = recs
        result['resources_end'] = {'caller': caller.settle(), 'farm': farm.settle()}
        for key, _, ref in references:
            result.setdefault('reference_exit', {})[key] = ref.stop()
        result['caller_exit'] = caller.stop()
        result['farm_exit'] = farm.stop()
        result['server_exit'] = server.stop()
    except BenchError as e:
        bench.abort(e)

    result['targets'] = targets(result)
    for r in result.get('per_call', {}).get('records', []):
        if not r['ok']:
            bench.failures.append(f'call {r["index"]}: {r["error"]}')
        elif (r['reason'], r['callee_reason']) != ('normal', 'normal'):
            bench.problems.append(f'call {r["index"]}: reasons {r["reason"]!r}, '
                                  f'{r["callee_reason"]!r}')
    for size, g in result.get('groups', {}).items():
        for r in g['records']:
            if not r['ok']:
                bench.failures.append(f'group {size} round {r["round"]}: {r["error"]}')
                continue
            if r.get('odd'):
                bench.problems.append(f'group {size} round {r["round"]}: {r["odd"]}')
            odd = [x for x in r['reasons'] + r['callee_reasons'] if x != 'normal']
            if odd:
                bench.problems.append(f'group {size} round {r["round"]}: reasons {odd}')
            for who in ('settled', 'farm_settled'):
                left = {k: r[who][k] for k in ('pipelines', 'calls', 'peers', 'webrtcbins',
                                               'nice_agents') if r[who].get(k)}
                if left:
                    bench.problems.append(f'group {size} round {r["round"]}: {who}: {left}')
    for key, groups in result.get('reference_groups', {}).items():
        for size, g in groups.items():
            if g['failed']:
                bench.failures.append(f'reference {key} group {size}: {g["failed"]} failed')
    return bench.finish(tables)


if __name__ == '__main__':
    sys.exit(main())

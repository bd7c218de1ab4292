#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Call set-up, first audio and teardown times of partyline-cli, end to end.

Run it through bench/run (a private network namespace with only `lo`):

    bench/run setup [--calls 100] [--reference-calls 20] [--sweep-calls 20] [--group-rounds 10]

Three parts, one server for all of them, every phone a fresh process:

1. sequential calls: a caller (tone 440) dials an auto-answering callee
   (tone 660) N times: `dial` -> caller's `active` (setup_ms) and `audio`
   (first_audio_ms) -> `hangup` -> `ended` on both sides, then the next call.
   The first call of the processes is reported apart from calls 2..N.
   Interleaved with them, evenly spread, one call at a time: calls of the
   minimal reference (bench/reference-webrtcbin: two plain webrtcbin peers in
   one process), with webrtcbin's own defaults and with Partyline's settings;
   Partyline's figures are also given as ratios to them.
2. group hang-up: the same caller group-dials 3 auto-answering callees, waits
   until all three are `active` (not for audio), sends `hangup-all` and reads
   `all-ended` `ms`; then waits for `ended` on all four phones.
3. sweep: the sequential measurement (fewer calls) with a fresh caller and
   callee for each setting of PARTYLINE_JITTER_LATENCY_MS and
   PARTYLINE_ICE_PACING_MS, one knob at a time, plus two pairs with the
   built-in defaults; the calls of all settings are interleaved.

The figures printed and saved (bench/results/setup-<date>.json and
setup-latest.json) all come from the events of this run. Every wait is on an
event with a timeout as a watchdog; a call that fails is recorded with the
events that show why, and the exit status is 1.
"""

import sys
import time

sys.dont_write_bytecode = True      # no bench/__pycache__ in the source tree
from benchlib import (Bench, BenchError, Phone, Server, cleanup, describe_reference, dialed,  # noqa: E402
                      f1, f2, first_seen, is_call, ms, ratio, start_references, summary,
                      table, targets_section, wait_audio, wait_state)

# Issue 3's targets (requirements, not measurements).
TARGET_SETUP_MEDIAN_MS = 60.0
TARGET_AUDIO_MEDIAN_MS = 120.0
TARGET_FIRST_CALL_RATIO = 1.5
# Issue 4's (with the default 5 ms pacing): medians, tails and the first call.
ISSUE4_SETUP_MEDIAN_MS = 45.0
ISSUE4_AUDIO_MEDIAN_MS = 90.0
ISSUE4_P95_RATIO = 1.5
ISSUE4_FIRST_CALL_RATIO = 1.5

SWEEP = [
    ('defaults', {}),
    ('jitter 20 ms', {'PARTYLINE_JITTER_LATENCY_MS': '20'}),
    ('jitter 40 ms', {'PARTYLINE_JITTER_LATENCY_MS': '40'}),
    ('jitter 80 ms', {'PARTYLINE_JITTER_LATENCY_MS': '80'}),
    ('jitter 200 ms', {'PARTYLINE_JITTER_LATENCY_MS': '200'}),
    ('pacing 1 ms', {'PARTYLINE_ICE_PACING_MS': '1'}),
    ('pacing 5 ms', {'PARTYLINE_ICE_PACING_MS': '5'}),
    ('pacing 20 ms', {'PARTYLINE_ICE_PACING_MS': '20'}),
    ('defaults, 2nd pair', {}),
]

GROUP_TONES = (523, 659, 784)


def one_call(caller, callee, index):
    """dial -> active + audio on the caller -> hangup -> ended on both. A record."""
    c0, e0 = caller.mark(), callee.mark()
    rec = {'index': index, 'ok': False}
    cid = None
    try:
        t_dial = caller.send(f'dial {callee.number}')
        cid = dialed(caller, [callee.number], c0)[callee.number]
        rec['call_id'] = cid
        active = wait_state(caller, cid, 'active', c0)
        audio = wait_audio(caller, cid, c0)
        t_hang = caller.send(f'hangup {callee.number}')
        end_c = wait_state(caller, cid, 'ended', c0)
        end_e = wait_state(callee, cid, 'ended', e0)
    except BenchError as e:
        rec['error'] = str(e)
        cleanup(caller, callee, cid, c0, e0)
        return rec
    rec['timeline'] = timeline(t_dial, caller, c0, callee, e0, cid)
    callee_active = first_seen(callee, e0, lambda e: is_call(e, 'active', call_id=cid))
    callee_audio = first_seen(callee, e0, lambda e: e['event'] == 'audio'
                              and e.get('call_id') == cid)
    rec.update({
        'ok': True,
        'setup_ms': active.get('setup_ms'),
        'first_audio_ms': audio.get('first_audio_ms'),
        'observed_active_ms': ms(t_dial, active['_rx']),
        'observed_audio_ms': ms(t_dial, audio['_rx']),
        'teardown_ms': end_c.get('teardown_ms'),
        'callee_teardown_ms': end_e.get('teardown_ms'),
        'observed_hangup_to_ended_ms': ms(t_hang, end_c['_rx']),
        'observed_hangup_to_callee_ended_ms': ms(t_hang, end_e['_rx']),
        'reason': end_c.get('reason'),
        'callee_reason': end_e.get('reason'),
        'callee_setup_ms': callee_active.get('setup_ms') if callee_active else None,
        'callee_first_audio_ms': callee_audio.get('first_audio_ms') if callee_audio else None,
    })
    return rec


TIMELINE = ('caller dialing', 'caller ringing', 'callee incoming', 'callee connecting',
            'caller connecting', 'callee active', 'caller active', 'callee audio', 'caller audio')


def timeline(t_dial, caller, c0, callee, e0, cid):
    """When the bench read each event of the call on either phone, in ms since
    it wrote `dial` (one clock for both processes; pipe latency included)."""
    out = {}
    for who, phone, since in (('caller', caller, c0), ('callee', callee, e0)):
        for ev in phone.events[since:]:
            if ev.get('call_id') != cid:
                continue
            what = ev.get('state') if ev['event'] == 'call' else ev['event']
            key = f'{who} {what}'
            if key in TIMELINE and key not in out:
                out[key] = ms(t_dial, ev['_rx'])
    return out


def sequential(children, paths, server, caller_no, callee_no, calls, env, progress,
               references=(), reference_calls=0):
    """Fresh caller and callee, `calls` calls one after the other; after every
    k-th of them one call of each reference, so that `reference_calls` of each
    are spread evenly over the run (the first right after the first call)."""
    callee = Phone(children, paths['cli'], callee_no, server.url, 'tone:660', auto_answer=True,
                   env=env)
    caller = Phone(children, paths['cli'], caller_no, server.url, 'tone:440', env=env)
    records = []
    ref_records = {key: [] for key, _, _ in references}
    every = max(1, calls // reference_calls) if reference_calls else 0
    for i in range(calls):
        rec = one_call(caller, callee, i + 1)
        records.append(rec)
        if not rec['ok']:
            progress(f'  call {i + 1} FAILED: {rec["error"].splitlines()[0]}')
        if every and i % every == 0:
            for key, _, ref in references:
                if len(ref_records[key]) < reference_calls:
                    ref_records[key].append(ref.call())
    for key, _, ref in references:           # when calls < reference_calls
        while len(ref_records[key]) < reference_calls:
            ref_records[key].append(ref.call())
    return caller, callee, records, ref_records


def sweep(children, paths, server, calls, env, progress):
    """Fresh phones for every setting, all started first; then the calls go
    round-robin over the settings (the starting setting rotating each round),
    one call at a time, so that whatever else the machine does during the run
    falls on every setting alike and the ratios between rows stay fair."""
    rows = []
    for k, (label, knobs) in enumerate(SWEEP):
        cenv = dict(env, **knobs)
        callee = Phone(children, paths['cli'], str(2200 + k), server.url, 'tone:660',
                       auto_answer=True, env=cenv)
        caller = Phone(children, paths['cli'], str(1100 + k), server.url, 'tone:440', env=cenv)
        rows.append({'label': label, 'env': knobs, 'caller': caller, 'callee': callee,
                     'records': []})
    for i in range(calls):
        for j in range(len(rows)):
            row = rows[(i + j) % len(rows)]
            rec = one_call(row['caller'], row['callee'], i + 1)
            row['records'].append(rec)
            if not rec['ok']:
                progress(f'  sweep {row["label"]} call {i + 1} FAILED: '
                         f'{rec["error"].splitlines()[0]}')
    out = []
    for row in rows:
        caller, callee = row.pop('caller'), row.pop('callee')
        row['exit'] = {caller.number: caller.stop(), callee.number: callee.stop()}
        row['summary'] = describe_calls(row['records'])
        out.append(row)
    return out


def describe_calls(records):
    ok = [r for r in records if r['ok']]
    first = records[0] if records and records[0]['ok'] else None
    rest = [r for r in ok if r is not first]

    def col(key, rows=rest):
        return [r.get(key) for r in rows]

    out = {
        'calls': len(records), 'failed': len(records) - len(ok),
        'steady': {key: summary(col(key)) for key in (
            'setup_ms', 'first_audio_ms', 'observed_active_ms', 'observed_audio_ms',
            'teardown_ms', 'callee_teardown_ms', 'observed_hangup_to_callee_ended_ms',
            'callee_setup_ms', 'callee_first_audio_ms')},
        'all_calls': {key: summary(col(key, ok)) for key in (
            'setup_ms', 'first_audio_ms', 'teardown_ms')},
        'first_call': None,
        'timeline_steady_median': {k: summary([r['timeline'].get(k) for r in rest])['median']
                                   for k in TIMELINE},
        'timeline_first_call': first['timeline'] if first else None,
    }
    if first:
        out['first_call'] = {k: first.get(k) for k in (
            'setup_ms', 'first_audio_ms', 'teardown_ms', 'callee_setup_ms',
            'callee_first_audio_ms')}
        for key in ('setup_ms', 'first_audio_ms'):
            med = out['steady'][key]['median']
            out['first_call'][key.replace('_ms', '_ratio')] = \
                round(first[key] / med, 3) if med else None
    return out


def group_rounds(children, paths, server, caller, rounds, env, progress):
    numbers = [str(2101 + i) for i in range(len(GROUP_TONES))]
    callees = [Phone(children, paths['cli'], n, server.url, f'tone:{f}', auto_answer=True, env=env)
               for n, f in zip(numbers, GROUP_TONES)]
    records = []
    for r in range(rounds):
        c0 = caller.mark()
        e0 = [p.mark() for p in callees]
        rec = {'round': r + 1, 'ok': False}
        cids = {}
        try:
            caller.send('dial ' + ' '.join(numbers))
            cids = dialed(caller, numbers, c0)
            actives = [wait_state(caller, cids[n], 'active', c0) for n in numbers]
            h0 = caller.mark()
            t_hang = caller.send('hangup-all')
            ae = caller.wait(lambda e: e['event'] == 'all-ended', since=h0, what='all-ended')
            ends = [wait_state(caller, cids[n], 'ended', c0) for n in numbers]
            callee_ends = [wait_state(p, cids[n], 'ended', s)
                           for p, n, s in zip(callees, numbers, e0)]
            rec.update({
                'ok': True, 'count': ae.get('count'), 'all_ended_ms': ae.get('ms'),
                'observed_all_ended_ms': ms(t_hang, ae['_rx']),
                'setup_ms': [a.get('setup_ms') for a in actives],
                'teardown_ms': [e.get('teardown_ms') for e in ends],
                'reasons': [e.get('reason') for e in ends],
                'callee_reasons': [e.get('reason') for e in callee_ends],
            })
            if ae.get('count') != len(numbers):
                rec['odd'] = f'all-ended count {ae.get("count")}, expected {len(numbers)}'
        except BenchError as e:
            rec['error'] = str(e)
            progress(f'  group round {r + 1} FAILED: {str(e).splitlines()[0]}')
            for n, p, s in zip(numbers, callees, e0):
                cleanup(caller, p, cids.get(n), c0, s)
        records.append(rec)
    ok = [r for r in records if r['ok']]
    return callees, {
        'callees': numbers, 'rounds': records, 'failed': len(records) - len(ok),
        'all_ended_ms': summary([r['all_ended_ms'] for r in ok]),
        'observed_all_ended_ms': summary([r['observed_all_ended_ms'] for r in ok]),
        'setup_ms': summary([x for r in ok for x in r['setup_ms']]),
        'teardown_ms': summary([x for r in ok for x in r['teardown_ms']]),
    }


def odd_reasons(records, key):
    return [(r['index'], r[key]) for r in records if r['ok'] and r.get(key) != 'normal']


def tables(result):
    out = []
    main = result['sequential']
    st, first = main['steady'], main['first_call'] or {}
    n_steady = st['setup_ms']['n']
    out += [f'### Sequential calls ({main["calls"]} calls, {main["failed"]} failed; '
            f'steady state = calls 2–{main["calls"]}, n={n_steady})', '',
            '| measure | median | p95 | max | first call | first / median |',
            '|---|---|---|---|---|---|']
    rows = [('dial → active (setup_ms)', 'setup_ms', True),
            ('dial → first audio (first_audio_ms)', 'first_audio_ms', True),
            ('dial → active, seen by the bench', 'observed_active_ms', False),
            ('dial → first audio, seen by the bench', 'observed_audio_ms', False),
            ('teardown, caller (teardown_ms)', 'teardown_ms', False),
            ('teardown, callee (teardown_ms)', 'callee_teardown_ms', False),
            ('callee: answer → active', 'callee_setup_ms', False)]
    for label, key, with_first in rows:
        s = st[key]
        fv = first.get(key) if with_first or key in first else None
        ratio = first.get(key.replace('_ms', '_ratio')) if with_first else None
        out.append(f'| {label} | {f1(s["median"])} | {f1(s["p95"])} | {f1(s["max"])} | '
                   f'{f1(fv)} | {f2(ratio)} |')
    out.append('')
    tl, tf = main['timeline_steady_median'], main['timeline_first_call'] or {}
    out += ['Where the time goes (ms after `dial` was written, as read by the bench):', '',
            '| event | steady median | first call |', '|---|---|---|']
    out += [f'| {k} | {f1(tl.get(k))} | {f1(tf.get(k))} |' for k in TIMELINE]
    out.append('')

    g = result.get('group')
    if g:
        a, o = g['all_ended_ms'], g['observed_all_ended_ms']
        out += [f'### Group hang-up ({len(g["rounds"])} rounds of 3 calls, {g["failed"]} failed)',
                '', '| measure | median | p95 | max |', '|---|---|---|---|',
                f'| `hangup-all` → `all-ended` (ms) | {f1(a["median"])} | {f1(a["p95"])} | '
                f'{f1(a["max"])} |',
                f'| same, seen by the bench | {f1(o["median"])} | {f1(o["p95"])} | '
                f'{f1(o["max"])} |',
                f'| teardown_ms per call | {f1(g["teardown_ms"]["median"])} | '
                f'{f1(g["teardown_ms"]["p95"])} | {f1(g["teardown_ms"]["max"])} |',
                f'| dial → active, 3 at once | {f1(g["setup_ms"]["median"])} | '
                f'{f1(g["setup_ms"]["p95"])} | {f1(g["setup_ms"]["max"])} |', '']

    sw = result.get('sweep')
    if sw:
        base = sw[0]['summary']['steady']
        out += [f'### Sweep ({sw[0]["summary"]["calls"]} calls per setting, fresh phones each, '
                'calls interleaved; medians and p95 over calls 2..n; '
                'ratios are to the first "defaults" row)', '',
                '| setting | setup median | setup p95 | audio median | audio p95 | '
                'setup ratio | audio ratio | first call setup / audio | failed |',
                '|---|---|---|---|---|---|---|---|---|']
        for row in sw:
            s, fc = row['summary']['steady'], row['summary']['first_call'] or {}
            rs = s['setup_ms']['median'] / base['setup_ms']['median'] \
                if s['setup_ms']['median'] and base['setup_ms']['median'] else None
            ra = s['first_audio_ms']['median'] / base['first_audio_ms']['median'] \
                if s['first_audio_ms']['median'] and base['first_audio_ms']['median'] else None
            out.append(f'| {row["label"]} | {f1(s["setup_ms"]["median"])} | '
                       f'{f1(s["setup_ms"]["p95"])} | {f1(s["first_audio_ms"]["median"])} | '
                       f'{f1(s["first_audio_ms"]["p95"])} | {f2(rs)} | {f2(ra)} | '
                       f'{f1(fc.get("setup_ms"))} / {f1(fc.get("first_audio_ms"))} | '
                       f'{row["summary"]["failed"]} |')
        out.append('')

    ref = result.get('reference')
    if ref:
        out += [reference_tables(result), '']

    for issue in (3, 4):
        out += targets_section([t for t in result['targets'] if t['issue'] == issue], issue)
    ratios = result.get('first_call_ratios', [])
    if len(ratios) > 1:
        out.append('First call / own median, every fresh caller-callee pair of the run (the '
                   'sweep\'s pairs start together, so all their first calls fall in its first '
                   'round):')
        for key, label in (('setup_ratio', 'dial → active'),
                           ('first_audio_ratio', 'dial → first audio')):
            values = [x[key] for x in ratios if x[key] is not None]
            within = sum(1 for v in values if v <= TARGET_FIRST_CALL_RATIO)
            out.append(f'{label}: {within} of {len(values)} pairs ≤ '
                       f'{TARGET_FIRST_CALL_RATIO:g}×, median {f2(summary(values)["median"])}, '
                       f'max {f2(summary(values)["max"])}')
        out.append('')
    return '\n'.join(out)


def first_call_ratios(result):
    """First call / own steady median for every fresh caller-callee pair of the run."""
    pairs = [('sequential', result['sequential'])]
    pairs += [(f'sweep {row["label"]}', row['summary']) for row in result.get('sweep', [])]
    out = []
    for label, summ in pairs:
        fc = summ.get('first_call')
        if fc:
            out.append({'pair': label, 'setup_ratio': fc.get('setup_ratio'),
                        'first_audio_ratio': fc.get('first_audio_ratio')})
    return out


REF_ROWS = (('dial → active | connected', 'setup_ms', 'connected_ms'),
            ('dial → first audio | first audio', 'first_audio_ms', 'first_audio_ms'),
            ('teardown, caller (hang-up → NULL, disposed) | NULL + unref of one pipeline',
             'teardown_ms', 'hangup_ms'))


def reference_ratios(result):
    """Partyline's steady medians (and p95) over the reference's, per configuration."""
    st = result['sequential']['steady']
    out = {}
    for key, summ in result.get('reference', {}).items():
        rs = summ['summary']['steady']
        out[key] = {ours: {'median': ratio(st[ours]['median'], rs[theirs]['median']),
                           'p95': ratio(st[ours]['p95'], rs[theirs]['p95'])}
                    for _, ours, theirs in REF_ROWS}
    return out


def reference_tables(result):
    ref, st = result['reference'], result['sequential']['steady']
    first = result['sequential']['first_call'] or {}
    lines = ['### Minimal reference in the same run (bench/reference-webrtcbin: two webrtcbin '
             'peers in one process, times from building the pipelines; medians and p95 over '
             'calls 2..n, interleaved with the sequential calls)', '']
    rows = []
    for key, summ in ref.items():
        rs, fc = summ['summary']['steady'], summ['summary']['first_call'] or {}
        for k in ('offer_ms', 'ice_connected_ms', 'connected_ms', 'first_audio_ms', 'null_ms',
                  'hangup_ms'):
            rows.append([f'{key}: {summ["label"]}' if k == 'offer_ms' else '', k,
                         f1(rs[k]['median']), f1(rs[k]['p95']), f1(rs[k]['max']),
                         f1(fc.get(k))])
        rows.append(['', 'failed', summ['summary']['failed'], '', '', ''])
    lines += [table(['reference', 'measure (ms)', 'median', 'p95', 'max', 'first call'], rows), '']
    lines += ['Partyline (this run) over the reference (ratio of medians, of p95 in brackets):', '']
    rr = result['reference_ratios']
    rows = []
    for label, ours, theirs in REF_ROWS:
        ours_label, theirs_label = label.split(' | ')
        rows.append([ours_label, f1(st[ours]['median'])] +
                    [f'{f2(rr[k][ours]["median"])} ({f2(rr[k][ours]["p95"])})' for k in ref])
    rows.append(['first call, dial → active', f1(first.get('setup_ms'))] +
                 [f2(ratio(first.get('setup_ms'),
                           (ref[k]['summary']['first_call'] or {}).get('connected_ms')))
                  for k in ref])
    rows.append(['first call, dial → first audio', f1(first.get('first_audio_ms'))] +
                 [f2(ratio(first.get('first_audio_ms'),
                           (ref[k]['summary']['first_call'] or {}).get('first_audio_ms')))
                  for k in ref])
    lines.append(table(['Partyline measure', 'Partyline median (ms)'] +
                       [f'÷ {k} reference' for k in ref], rows))
    return '\n'.join(lines)


def targets(main):
    st, fc = main['steady'], main['first_call'] or {}
    res = []
    issue = 3

    def add(text, value, ok, shown):
        res.append({'issue': issue, 'target': text, 'value': value, 'met': bool(ok),
                    'measured': shown})

    m = st['setup_ms']['median']
    add(f'dial → active median < {TARGET_SETUP_MEDIAN_MS:g} ms', m,
        m is not None and m < TARGET_SETUP_MEDIAN_MS, f'{f1(m)} ms')
    m = st['first_audio_ms']['median']
    add(f'dial → first audio median < {TARGET_AUDIO_MEDIAN_MS:g} ms', m,
        m is not None and m < TARGET_AUDIO_MEDIAN_MS, f'{f1(m)} ms')
    for key, label in (('setup_ms', 'dial → active'), ('first_audio_ms', 'dial → first audio')):
        r = fc.get(key.replace('_ms', '_ratio'))
        add(f'first call ≤ {TARGET_FIRST_CALL_RATIO:g} × median ({label})', r,
            r is not None and r <= TARGET_FIRST_CALL_RATIO,
            f'{f1(fc.get(key))} ms = {f2(r)} × median')

    issue = 4
    m = st['setup_ms']['median']
    add(f'dial → active median < {ISSUE4_SETUP_MEDIAN_MS:g} ms (pacing 5 ms)', m,
        m is not None and m < ISSUE4_SETUP_MEDIAN_MS, f'{f1(m)} ms')
    m = st['first_audio_ms']['median']
    add(f'dial → first audio median < {ISSUE4_AUDIO_MEDIAN_MS:g} ms (pacing 5 ms)', m,
        m is not None and m < ISSUE4_AUDIO_MEDIAN_MS, f'{f1(m)} ms')
    for key, label in (('setup_ms', 'dial → active'), ('first_audio_ms', 'dial → first audio')):
        p95, med = st[key]['p95'], st[key]['median']
        r = ratio(p95, med)
        add(f'p95 < {ISSUE4_P95_RATIO:g} × median ({label})', r,
            r is not None and r < ISSUE4_P95_RATIO, f'{f1(p95)} ms = {f2(r)} × median')
    for key, label in (('setup_ms', 'dial → active'), ('first_audio_ms', 'dial → first audio')):
        r = fc.get(key.replace('_ms', '_ratio'))
        add(f'first call < {ISSUE4_FIRST_CALL_RATIO:g} × median ({label})', r,
            r is not None and r < ISSUE4_FIRST_CALL_RATIO,
            f'{f1(fc.get(key))} ms = {f2(r)} × median')
    return res


def main():
    bench = Bench('setup', __doc__, ('server', 'cli', 'reference'))
    ap = bench.ap
    ap.add_argument('--calls', type=int, default=100, help='sequential calls (default 100)')
    ap.add_argument('--reference-calls', type=int, default=20,
                    help='calls of each reference configuration (default 20; 0 skips them)')
    ap.add_argument('--sweep-calls', type=int, default=20,
                    help='calls per sweep setting (default 20; 0 skips the sweep)')
    ap.add_argument('--group-rounds', type=int, default=10,
                    help='group hang-up rounds (default 10; 0 skips them)')
    args = bench.parse()
    for name, lo, hi in (('calls', 2, 1000), ('reference_calls', 0, 1000),
                         ('sweep_calls', 0, 1000), ('group_rounds', 0, 200)):
        if not lo <= getattr(args, name) <= hi:
            ap.error(f'--{name.replace("_", "-")} must be between {lo} and {hi}')
    if args.sweep_calls == 1 or args.reference_calls == 1:
        ap.error('--sweep-calls and --reference-calls must be 0 or at least 2')
    if not args.reference_calls:
        bench.programs = ('server', 'cli')
    rc = bench.start()
    if rc is not None:
        return rc
    progress, children, paths, env = bench.progress, bench.children, bench.paths, bench.env
    result, problems = bench.result, bench.problems
    try:
        server = Server(children, paths['server'])
        references = start_references(children, paths['reference'], env) \
            if args.reference_calls else []

        progress(f'bench: {args.calls} sequential calls (1001 → 2001)'
                 + (f', {args.reference_calls} calls of each reference among them'
                    if references else ''))
        t0, load = time.monotonic(), bench.load()
        caller, callee, records, ref_records = sequential(
            children, paths, server, '1001', '2001', args.calls, env, progress,
            references, args.reference_calls)
        result['sequential'] = describe_calls(records)
        result['sequential']['records'] = records
        result['sequential']['seconds'] = round(time.monotonic() - t0, 2)
        result['sequential']['load'] = load.describe()
        result['sequential']['machine_busy_percent'] = result['sequential']['load'][
            'machine_busy_percent']
        for key, reason in (('reason', 'reason'), ('callee_reason', 'callee_reason')):
            for idx, value in odd_reasons(records, reason):
                problems.append(f'call {idx}: {key} {value!r} (expected "normal")')
        if references:
            result['reference'] = {}
            for key, label, ref in references:
                result['reference'][key] = {
                    'label': label, 'options': ref.argv[1:], 'ready': ref.ready,
                    'records': ref_records[key],
                    'summary': describe_reference(ref_records[key]), 'exit': ref.stop()}
            result['reference_ratios'] = reference_ratios(result)

        if args.group_rounds:
            progress(f'bench: {args.group_rounds} group hang-up rounds (1001 → 2101 2102 2103)')
            t0, load = time.monotonic(), bench.load()
            group_callees, result['group'] = group_rounds(children, paths, server, caller,
                                                          args.group_rounds, env, progress)
            result['group']['seconds'] = round(time.monotonic() - t0, 2)
            result['group']['load'] = load.describe()
            result['group']['machine_busy_percent'] = result['group']['load'][
                'machine_busy_percent']
            for rec in result['group']['rounds']:
                if rec.get('odd'):
                    problems.append(f'group round {rec["round"]}: {rec["odd"]}')
                for reason in rec.get('reasons', []) + rec.get('callee_reasons', []):
                    if reason != 'normal':
                        problems.append(f'group round {rec["round"]}: reason {reason!r}')
            for p in group_callees:
                result['group'].setdefault('exit', {})[p.number] = p.stop()
        exits = {'1001': caller.stop(), '2001': callee.stop()}
        result['sequential']['exit'] = exits

        if args.sweep_calls:
            progress(f'bench: sweep, {len(SWEEP)} settings × {args.sweep_calls} calls, interleaved')
            t0, load = time.monotonic(), bench.load()
            result['sweep'] = sweep(children, paths, server, args.sweep_calls, env, progress)
            result['sweep_seconds'] = round(time.monotonic() - t0, 2)
            result['sweep_load'] = load.describe()
            result['sweep_machine_busy_percent'] = result['sweep_load']['machine_busy_percent']

        result['server_exit'] = server.stop()
    except BenchError as e:
        bench.abort(e)

    failures = bench.failures
    if 'sequential' in result:
        result['first_call_ratios'] = first_call_ratios(result)
        result['targets'] = targets(result['sequential'])
        failures += [f'sequential call {r["index"]}: {r["error"]}'
                     for r in result['sequential']['records'] if not r['ok']]
    for key, ref in result.get('reference', {}).items():
        failures += [f'reference {key} call {r.get("index")}: {r.get("error")}'
                     for r in ref['records'] if not r.get('ok')]
    for rec in result.get('group', {}).get('rounds', []):
        if not rec['ok']:
            failures.append(f'group round {rec["round"]}: {rec["error"]}')
    for row in result.get('sweep', []):
        failures += [f'sweep {row["label"]} call {r["index"]}: {r["error"]}'
                     for r in row['records'] if not r['ok']]
    return bench.finish(lambda r: tables(r) if 'sequential' in r else '')


if __name__ == '__main__':
    sys.exit(main())

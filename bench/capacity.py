#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cost per active call, and the most simultaneous calls with clean audio on this machine.

Run it through bench/run (a private network namespace with only `lo`):

    bench/run capacity [--sizes 1,8,16,24,32,40,48,64,80,96,112,128] [--window 10] [--batch 8]

One server; one caller, partyline-cli (1001, tone 440, --analyze); one
partyline-farm with as many lines as the largest size (4000…, tone 660,
--analyze, auto-answering). All the caller's calls share one capture and one
Opus encoder, and so do all the farm's (src/phone/pl-shared-source.c); every
call has its own pipeline and webrtcbin on each side, so each call costs
two webrtcbins on this machine.

First, with no call: `resources` of both processes and their CPU over one
window (the idle cost). Then for each size N, in increasing order, without
hanging up in between:

1. ramp: the caller dials the next farm lines in batches of `batch`
   (`dial 4000 4001 …`), and each batch is complete when every new call is
   `active` on the caller and has `audio` on both sides;
2. `stats` of every call on both sides, `resources reset` on both;
3. a settling second (`--settle`, default 2 s) whose events are not judged,
   then the judged window (`--window`, default 10 s): CPU time of both
   processes from /proc/PID/stat over it, every `media` event in it;
4. `resources` of both (RSS, threads, fds, longest main-loop stall since 2.),
   and `stats` again.

The size is **clean** when, for every one of its N calls, on both sides
(caller hears 660 Hz, farm line hears 440 Hz):
- no call ended and no error was reported, from the ramp to the end of 4.;
- at least window − 1 `media` events fell in the judged window;
- every one of them is within ±5 Hz of the tone sent;
- every level is within ±3 dB of the level the same side heard at the first
  size (one call, idle machine): a gap of a third of a second in a one-second
  analysis, or a lost decoder, shows as a drop larger than that;
- webrtcbin's receive statistics count no lost packet between 2. and 4.
  (`packets_lost`, RTCP-derived: expected − received).
The report gives the largest clean size and, for the next one, which calls
failed which check. Past it, the sizes go on while every call still hears its
tone at its level (the loss check aside; --stop-at-loss stops at once), so the
report also gives that second limit. The kernel's UDP counters of the
namespace (/proc/net/snmp) over each window tell datagrams the kernel dropped
from packets lost before they were sent. Finally the
caller hangs up every call at once (`hangup-all`, timed) and both processes
settle.

Cost per call at N: (value at N − value with no call) / N, for RSS, threads
and fds of each process and the CPU of both; the marginal cost between two
sizes is given beside it. One call's cost here is both of its ends.
"""

import statistics
import sys
import time

sys.dont_write_bytecode = True      # no bench/__pycache__ in the source tree
from benchlib import (Bench, BenchError, CallFailed, Farm, Phone, Server, f0, f1, f2,  # noqa: E402
                      int_list, is_call, leftovers, public, table, targets_section,
                      udp_counters)

CALLER_TONE, FARM_TONE = 440, 660
FARM_PREFIX = '4000'
FREQ_TOLERANCE_HZ = 5.0
LEVEL_TOLERANCE_DB = 3.0
TARGET_CALLS = 40
COST_SIZES = (1, 8, 32)
RAMP_TIMEOUT = 30.0


class Step(Exception):
    """A size is not clean: the reason, for the report."""


def ramp(caller, farm, numbers, calls, batch):
    """Dials `numbers` in batches; fills calls[number] = call_id."""
    for i in range(0, len(numbers), batch):
        group = numbers[i:i + batch]
        c0, f0_ = caller.mark(), farm.mark()
        caller.send('dial ' + ' '.join(group))
        for n in group:
            ev = caller.wait(lambda e, n=n: is_call(e, 'dialing', peer=n) or e['event'] == 'error',
                             RAMP_TIMEOUT, c0, what=f'"dialing" to {n}')
            if ev['event'] == 'error':
                raise Step(f'dial {n} refused: {public(ev)}')
            calls[n] = ev['call_id']
        for n in group:
            cid = calls[n]
            ev = caller.wait(lambda e: is_call(e, call_id=cid) and e['state'] in ('active', 'ended'),
                             RAMP_TIMEOUT, c0, what=f'{n} active')
            if ev['state'] != 'active':
                raise Step(f'call to {n} ended while setting up: {public(ev)}')
            for side, proc, since in (('caller', caller, c0), ('farm', farm, f0_)):
                ev = proc.wait(lambda e: (e['event'] == 'audio' and e.get('call_id') == cid)
                               or is_call(e, 'ended', call_id=cid), RAMP_TIMEOUT, since,
                               what=f'audio of {n} on the {side}')
                if ev['event'] != 'audio':
                    raise Step(f'call to {n} ended on the {side} before any audio: {public(ev)}')


def stats(caller, farm, calls):
    """{'caller': {cid: stats}, 'farm': {cid: stats}} for every call."""
    c0, f0_ = caller.mark(), farm.mark()
    for n in calls:
        caller.send(f'stats {n}')
    farm.send('stats')
    out = {'caller': {}, 'farm': {}}
    ids = set(calls.values())
    for side, proc, since in (('caller', caller, c0), ('farm', farm, f0_)):
        i = since
        while len(out[side]) < len(ids):
            ev = proc.wait(lambda e: e['event'] in ('stats', 'error'), since=i,
                           what=f'stats of {len(ids)} calls on the {side} '
                                f'({len(out[side])} so far)')
            i = proc.events.index(ev, i) + 1
            if ev['event'] == 'error':
                raise Step(f'stats on the {side}: {public(ev)}')
            if ev.get('call_id') in ids:
                out[side][ev['call_id']] = public(ev)
    return out


def judge(size, calls, events, s0, s1, reference_levels, window_s):
    """Every check of the module doc, per call and side. Returns (clean,
    tones_ok, details, problems): tones_ok is the verdict without the
    packet-loss check (what is heard: tone, level, events, nothing ended)."""
    problems, loss = [], []
    per_side = {}
    by_cid = {cid: n for n, cid in calls.items()}
    for side, tone in (('caller', FARM_TONE), ('farm', CALLER_TONE)):
        ended = [e for e in events[side]['all'] if is_call(e, 'ended') and e.get('call_id') in by_cid]
        errors = [e for e in events[side]['all'] if e['event'] == 'error']
        for e in ended:
            problems.append(f'{side}: call with {by_cid[e["call_id"]]} ended: {public(e)}')
        for e in errors[:5]:
            problems.append(f'{side}: error {public(e)}')
        counts, freq_bad, level_bad, levels, lost = [], [], [], [], []
        for cid, n in by_cid.items():
            media = [e for e in events[side]['window'] if e['event'] == 'media'
                     and e.get('call_id') == cid]
            counts.append(len(media))
            if len(media) < window_s - 1:
                problems.append(f'{side}: call with {n}: {len(media)} media events in '
                                f'{window_s:g} s')
            bad_f = [e['frequency_hz'] for e in media
                     if abs(e['frequency_hz'] - tone) > FREQ_TOLERANCE_HZ]
            if bad_f:
                freq_bad.append(n)
                problems.append(f'{side}: call with {n}: heard {bad_f[:5]} Hz, not {tone}')
            ref = reference_levels.get(side)
            lv = [e['level_db'] for e in media]
            levels += lv
            bad_l = [x for x in lv if ref is not None and abs(x - ref) > LEVEL_TOLERANCE_DB]
            if bad_l:
                level_bad.append(n)
                problems.append(f'{side}: call with {n}: level {bad_l[:5]} dB, expected '
                                f'{ref:.1f} ± {LEVEL_TOLERANCE_DB:g}')
            a, b = s0[side].get(cid, {}), s1[side].get(cid, {})
            d = (b.get('packets_lost', 0) - a.get('packets_lost', 0)) if a and b else None
            lost.append(d)
            if d is None:
                problems.append(f'{side}: call with {n}: no stats')
            elif d > 0:
                loss.append(f'{side}: call with {n}: {d} packets lost in the window')
        recv = [s1[side][c].get('packets_received', 0) - s0[side][c].get('packets_received', 0)
                for c in by_cid if c in s0[side] and c in s1[side]]
        per_side[side] = {
            'media_events': {'min': min(counts) if counts else None,
                             'median': statistics.median(counts) if counts else None},
            'calls_wrong_frequency': freq_bad, 'calls_level_off': level_bad,
            'level_db': {'min': min(levels) if levels else None,
                         'median': statistics.median(levels) if levels else None,
                         'max': max(levels) if levels else None},
            'packets_lost': sum(x for x in lost if x), 'calls_with_loss': sum(1 for x in lost if x),
            'packets_received': sum(recv), 'ended': len(ended), 'errors': len(errors)}
    return not problems and not loss, not problems, per_side, problems + loss


def measure(bench, caller, farm, calls, args, marks=None):
    """Steps 2–4 of the module doc for the calls up now; `marks` (caller, farm)
    is where the events of the step begin (before its ramp)."""
    udp_s0 = udp_counters()
    s0 = stats(caller, farm, calls) if calls else {'caller': {}, 'farm': {}}
    caller.resources(reset=True)
    farm.resources(reset=True)
    c_start, f_start = caller.mark(), farm.mark()
    t0 = time.monotonic()
    caller.collect_until(t0 + args.settle)
    farm.mark()
    load = bench.load()
    cpu0 = {'caller': caller.cpu_seconds(), 'farm': farm.cpu_seconds()}
    udp0 = udp_counters()
    t1 = time.monotonic()
    c_win, f_win = caller.mark(), farm.mark()
    caller.collect_until(t1 + args.window)
    farm.mark()
    t2 = time.monotonic()
    cpu1 = {'caller': caller.cpu_seconds(), 'farm': farm.cpu_seconds()}
    udp1 = udp_counters()
    c_end, f_end = caller.mark(), farm.mark()
    res = {'caller': caller.resources(), 'farm': farm.resources()}
    s1 = stats(caller, farm, calls) if calls else {'caller': {}, 'farm': {}}
    udp_s1 = udp_counters()
    span = t2 - t1
    cpu = {w: round(100.0 * (cpu1[w] - cpu0[w]) / span, 1) for w in cpu0}
    if marks:
        c_start, f_start = marks
    events = {'caller': {'all': caller.events[c_start:], 'window': caller.events[c_win:c_end]},
              'farm': {'all': farm.events[f_start:], 'window': farm.events[f_win:f_end]}}
    udp = {k: udp1[k] - udp0[k] for k in ('InDatagrams', 'InErrors', 'RcvbufErrors',
                                          'SndbufErrors') if k in udp0 and k in udp1}
    # Over the same span as the stats: every datagram the kernel took in (RTP,
    # RTCP, STUN) against the RTP packets the receivers counted, received and
    # lost. Lost packets the kernel never saw were never sent.
    rtp = {k: sum(s1[w][c].get(k, 0) - s0[w][c].get(k, 0) for w in ('caller', 'farm')
                  for c in s1[w] if c in s0[w]) for k in ('packets_received', 'packets_lost')}
    stats_span = {'udp_in': udp_s1.get('InDatagrams', 0) - udp_s0.get('InDatagrams', 0),
                  'udp_out': udp_s1.get('OutDatagrams', 0) - udp_s0.get('OutDatagrams', 0),
                  'udp_rcvbuf_errors': udp_s1.get('RcvbufErrors', 0) - udp_s0.get('RcvbufErrors', 0),
                  'rtp_received': rtp['packets_received'], 'rtp_lost': rtp['packets_lost']}
    return {'n': len(calls), 'window_s': round(span, 2), 'cpu_percent_of_one_core': cpu,
            'resources': res, 'udp': udp, 'stats_span': stats_span,
            'load': load.describe()}, events, s0, s1


def per_call_cost(step, idle):
    n = step['n']
    out = {}
    for w in ('caller', 'farm'):
        r, i = step['resources'][w], idle['resources'][w]
        out[w] = {'rss_kib': round((r['rss_kib'] - i['rss_kib']) / n, 1),
                  'threads': round((r['threads'] - i['threads']) / n, 2),
                  'fds': round((r['fds'] - i['fds']) / n, 2),
                  'cpu_percent': round((step['cpu_percent_of_one_core'][w] -
                                        idle['cpu_percent_of_one_core'][w]) / n, 2)}
    out['both'] = {k: round(out['caller'][k] + out['farm'][k], 2) for k in out['caller']}
    return out


def marginal(a, b):
    """Cost per call between two sizes a < b (both ends)."""
    dn = b['n'] - a['n']
    out = {}
    for k in ('rss_kib', 'threads', 'fds'):
        out[k] = round(sum(b['resources'][w][k] - a['resources'][w][k]
                           for w in ('caller', 'farm')) / dn, 2)
    out['cpu_percent'] = round(sum(b['cpu_percent_of_one_core'][w] -
                                   a['cpu_percent_of_one_core'][w]
                                   for w in ('caller', 'farm')) / dn, 2)
    return out


def limits(steps, key):
    """The largest size such that it and every smaller size passed `key`, and
    the first size that did not, with its problems."""
    failed = next((s for s in steps if not s[key]), None)
    passed = [s['n'] for s in steps if s[key] and (failed is None or s['n'] < failed['n'])]
    return {'largest_clean': max(passed, default=None),
            'failed_size': failed['n'] if failed else None,
            'failed_problems': failed['problems'] if failed else [],
            'largest_tried': steps[-1]['n'] if steps else None}


def tables(result):
    out = []
    steps = result.get('steps', [])
    idle = result.get('idle')
    if idle and steps:
        rows = [['0 (idle)', '', idle['resources']['caller']['rss_kib'],
                 idle['resources']['farm']['rss_kib'], idle['resources']['caller']['threads'],
                 idle['resources']['farm']['threads'], idle['resources']['caller']['fds'],
                 idle['resources']['farm']['fds'], idle['cpu_percent_of_one_core']['caller'],
                 idle['cpu_percent_of_one_core']['farm'], '', '', '']]
        for s in steps:
            if 'resources' not in s:
                continue
            c = s['cost_per_call']['both']
            rows.append([s['n'], 'clean' if s['clean'] else 'NOT clean',
                         s['resources']['caller']['rss_kib'], s['resources']['farm']['rss_kib'],
                         s['resources']['caller']['threads'], s['resources']['farm']['threads'],
                         s['resources']['caller']['fds'], s['resources']['farm']['fds'],
                         s['cpu_percent_of_one_core']['caller'],
                         s['cpu_percent_of_one_core']['farm'],
                         f'{f0(c["rss_kib"])} KiB, {f1(c["threads"])} thr, {f1(c["fds"])} fds, '
                         f'{f2(c["cpu_percent"])} %',
                         f'{s["resources"]["caller"]["max_stall_ms"]:.1f} / '
                         f'{s["resources"]["farm"]["max_stall_ms"]:.1f} (less CPU waits '
                         f'{f1(s["resources"]["caller"].get("max_busy_ms"))} / '
                         f'{f1(s["resources"]["farm"].get("max_busy_ms"))})',
                         f'{s["load"]["others_cpus"]:.2f}'])
        out += ['### Active calls: what both processes hold, and the cost per call '
                '(both ends; (value at N − idle) / N)', '',
                table(['N', 'audio', 'caller RSS KiB', 'farm RSS KiB', 'caller threads',
                       'farm threads', 'caller fds', 'farm fds', 'caller CPU % of a core',
                       'farm CPU %', 'per call (both ends)', 'longest stall caller / farm (ms)',
                       "others' CPU (of 2)"], rows), '']
        cost = [s for s in steps if s['n'] in COST_SIZES and 'cost_per_call' in s]
        if cost:
            rows = []
            for s in cost:
                for w in ('caller', 'farm', 'both'):
                    c = s['cost_per_call'][w]
                    rows.append([s['n'] if w == 'caller' else '', w, f0(c['rss_kib']),
                                 f2(c['threads']), f2(c['fds']), f2(c['cpu_percent'])])
            out += ['Cost per active call at N = ' + ', '.join(str(s['n']) for s in cost) +
                    ' (RSS KiB, threads, fds, CPU % of one core; idle subtracted):', '',
                    table(['N', 'process', 'RSS KiB / call', 'threads / call', 'fds / call',
                           'CPU % / call'], rows), '']
        ms_ = result.get('marginal', [])
        if ms_:
            out += ['Marginal cost per call between sizes (both ends):', '',
                    table(['from → to', 'RSS KiB', 'threads', 'fds', 'CPU %'],
                          [[f'{m["from"]} → {m["to"]}', f0(m['rss_kib']), f2(m['threads']),
                            f2(m['fds']), f2(m['cpu_percent'])] for m in ms_]), '']
    if steps:
        rows = []
        for s in steps:
            q = s.get('quality', {})
            cells = []
            for side in ('caller', 'farm'):
                x = q.get(side)
                if x:
                    cells.append(f'{side}: level {f1(x["level_db"]["min"])}…'
                                 f'{f1(x["level_db"]["max"])} dB, wrong Hz {len(x["calls_wrong_frequency"])}, '
                                 f'level off {len(x["calls_level_off"])}, lost {x["packets_lost"]} '
                                 f'of {x["packets_received"]}, media/call ≥ {x["media_events"]["min"]}')
            udp = s.get('udp', {})
            rows.append([s['n'], 'clean' if s.get('clean') else 'NOT clean',
                         'right' if s.get('tones_ok') else 'WRONG',
                         '; '.join(cells) or s.get('why', ''),
                         f'{udp.get("InDatagrams", "–")} / {udp.get("RcvbufErrors", "–")} / '
                         f'{udp.get("InErrors", "–")}',
                         f'{s.get("stats_span", {}).get("udp_in", "–")} / '
                         f'{s.get("stats_span", {}).get("rtp_received", "–")} / '
                         f'{s.get("stats_span", {}).get("rtp_lost", "–")}'])
        out += ['### Audio on every call, per size (judged window '
                f'{result["meta"]["options"]["window"]:g} s)', '',
                table(['N', 'clean (all checks)', 'tones and levels (no loss check)',
                       'what was heard', 'UDP in / dropped, buffer full / in errors (kernel, '
                       'whole namespace, window)', 'between the two stats: UDP datagrams in / '
                       'RTP received / RTP lost (both sides)'], rows), '']
    for key, label in (('capacity', 'clean (all checks)'),
                       ('capacity_tones', 'with the right tones and levels (loss not checked)')):
        c = result.get(key)
        if c:
            out.append(f'Largest size {label}: **{c["largest_clean"]}** calls '
                       f'({2 * (c["largest_clean"] or 0)} webrtcbins on this machine). ' +
                       (f'Next size {c["failed_size"]}: {len(c["failed_problems"])} problems, '
                        'first: ' + '; '.join(c['failed_problems'][:6])
                        if c.get('failed_size') else 'No size failed up to the largest tried.'))
            out.append('')
    h = result.get('hangup_all')
    if h:
        out.append(f'`hangup-all` of {h["count"]} calls: `all-ended` after {f1(h["ms"])} ms, '
                   f'longest main-loop stall {f1(h["max_stall_ms"])} ms (less CPU waits '
                   f'{f1(h.get("max_busy_ms"))} ms).')
        out.append('')
    if result.get('targets'):
        out += targets_section(result['targets'])
    return '\n'.join(out)


def main():
    bench = Bench('capacity', __doc__, ('server', 'cli', 'farm'), watchdog=1800.0)
    ap = bench.ap
    ap.add_argument('--sizes', default='1,8,16,24,32,40,48,64,80,96,112,128',
                    help='numbers of simultaneous calls, increasing (default '
                         '1,8,16,24,32,40,48,64,80,96,112,128)')
    ap.add_argument('--window', type=float, default=10.0, help='judged window, s (default 10)')
    ap.add_argument('--settle', type=float, default=2.0,
                    help='unjudged seconds before the window (default 2)')
    ap.add_argument('--batch', type=int, default=8, help='calls dialed at once (default 8)')
    ap.add_argument('--stop-at-loss', action='store_true',
                    help='stop at the first size that is not clean (default: go on while '
                         'every call hears its tone, to measure that limit too)')
    args = bench.parse()
    sizes = int_list(ap, '--sizes', args.sizes)
    if not sizes or sizes != sorted(set(sizes)) or sizes[0] < 1 or sizes[-1] > 400:
        ap.error('--sizes: increasing, between 1 and 400')
    if not 3 <= args.window <= 120 or not 0 <= args.settle <= 30 or not 1 <= args.batch <= 64:
        ap.error('--window 3–120, --settle 0–30, --batch 1–64')
    rc = bench.start()
    if rc is not None:
        return rc
    result = bench.result
    result['steps'] = []
    reference_levels = {}
    try:
        server = Server(bench.children, bench.paths['server'])
        farm = Farm(bench.children, bench.paths['farm'], FARM_PREFIX, sizes[-1], server.url,
                    f'tone:{FARM_TONE}', analyze=True, env=bench.env, timeout=60.0)
        caller = Phone(bench.children, bench.paths['cli'], '1001', server.url,
                       f'tone:{CALLER_TONE}', analyze=True, env=bench.env)
        bench.progress('bench: idle cost (no call)')
        result['idle'], _, _, _ = measure(bench, caller, farm, {}, args)
        calls = {}
        for size in sizes:
            bench.progress(f'bench: {size} calls')
            step = {'n': size}
            result['steps'].append(step)
            try:
                t0, marks = time.monotonic(), (caller.mark(), farm.mark())
                ramp(caller, farm, farm.numbers[len(calls):size], calls, args.batch)
                step['ramp_s'] = round(time.monotonic() - t0, 2)
                m, events, s0, s1 = measure(bench, caller, farm, calls, args, marks)
                step.update(m)
                if not reference_levels:
                    for side in ('caller', 'farm'):
                        lv = [e['level_db'] for e in events[side]['window']
                              if e['event'] == 'media']
                        if lv:
                            reference_levels[side] = statistics.median(lv)
                    result['reference_levels_db'] = dict(reference_levels)
                clean, tones_ok, quality, problems = judge(size, calls, events, s0, s1,
                                                           reference_levels, args.window)
                step.update({'clean': clean, 'tones_ok': tones_ok, 'quality': quality,
                             'problems': problems,
                             'cost_per_call': per_call_cost(step, result['idle'])})
            except (Step, CallFailed, BenchError) as e:
                step.update({'clean': False, 'tones_ok': False, 'why': str(e).splitlines()[0],
                             'problems': [str(e)]})
            bench.progress(f'  {size}: {"clean" if step["clean"] else "NOT clean"}'
                           + ('' if step['clean'] else f' ({step["problems"][0][:160]})'))
            # Past the first size that loses packets, the sizes go on while every
            # call still hears its tone (so both limits are measured), unless
            # --stop-at-loss; past a size whose tones are wrong, never.
            if not step['tones_ok'] or (not step['clean'] and args.stop_at_loss):
                break

        result['capacity'] = limits(result['steps'], 'clean')
        result['capacity_tones'] = limits(result['steps'], 'tones_ok')
        ok = [s for s in result['steps'] if 'resources' in s]
        result['marginal'] = [dict(marginal(a, b), **{'from': a['n'], 'to': b['n']})
                              for a, b in zip(ok, ok[1:])]

        if calls:
            bench.progress(f'bench: hangup-all of {len(calls)} calls')
            caller.resources(reset=True)
            h0 = caller.mark()
            caller.send('hangup-all')
            ae = caller.wait(lambda e: e['event'] == 'all-ended', 60.0, h0, what='all-ended')
            after = caller.resources()
            result['hangup_all'] = {'count': ae.get('count'), 'ms': ae.get('ms'),
                                    'max_stall_ms': after.get('max_stall_ms'),
                                    'max_busy_ms': after.get('max_busy_ms')}
        result['settled'] = {'caller': caller.settle(timeout=60.0),
                             'farm': farm.settle(timeout=60.0)}
        result['exit'] = {'caller': caller.stop(), 'farm': farm.stop(timeout=60.0),
                          'server': server.stop()}
    except BenchError as e:
        bench.abort(e)

    cap = result.get('capacity', {})
    if cap:
        lc = cap['largest_clean'] or 0
        result['targets'] = [{
            'target': f'at least {TARGET_CALLS} simultaneous calls with verified audio',
            'value': lc, 'met': lc >= TARGET_CALLS,
            'measured': f'{lc} clean' + (f'; {cap["failed_size"]} not clean'
                                         if cap['failed_size'] else
                                         f'; every size up to {cap["largest_tried"]} clean')
            + (f' (right tones and levels, loss not checked: up to '
               f'{result["capacity_tones"]["largest_clean"]})'
               if result.get('capacity_tones') else '')}]
    for who, res in result.get('settled', {}).items():
        if leftovers(res):
            bench.failures.append(f'{who} still holds {leftovers(res)} once settled')
    return bench.finish(tables)


if __name__ == '__main__':
    sys.exit(main())

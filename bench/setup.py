#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Call set-up, first audio and teardown times of partyline-cli, end to end.

Run it through bench/run (a private network namespace with only `lo`):

    bench/run setup [--calls 40] [--sweep-calls 20] [--group-rounds 10]

Three parts, one server for all of them, every phone a fresh process:

1. sequential calls: a caller (tone 440) dials an auto-answering callee
   (tone 660) N times: `dial` -> caller's `active` (setup_ms) and `audio`
   (first_audio_ms) -> `hangup` -> `ended` on both sides, then the next call.
   The first call of the processes is reported apart from calls 2..N.
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

import argparse
import datetime
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True      # no bench/__pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (BenchError, Children, Load, Phone, Server,  # noqa: E402
                      assert_loopback_only, binary, cpu_jiffies, public, repo_root, summary)

KNOBS = ('PARTYLINE_JITTER_LATENCY_MS', 'PARTYLINE_ICE_PACING_MS')
# Not passed to the phones: with it set, every call writes a dot file as it connects.
DROPPED_ENV = ('GST_DEBUG_DUMP_DOT_DIR',)
DEBUG_ENV = ('GST_DEBUG', 'G_MESSAGES_DEBUG', 'GST_DEBUG_FILE', 'GST_DEBUG_DUMP_DOT_DIR')

# Issue 3's targets (requirements, not measurements).
TARGET_SETUP_MEDIAN_MS = 60.0
TARGET_AUDIO_MEDIAN_MS = 120.0
TARGET_FIRST_CALL_RATIO = 1.5

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


def is_call(ev, state=None, call_id=None, peer=None):
    return (ev.get('event') == 'call'
            and (state is None or ev.get('state') == state)
            and (call_id is None or ev.get('call_id') == call_id)
            and (peer is None or ev.get('peer') == peer))


def ms(a, b):
    return round((b - a) * 1000.0, 3)


class CallFailed(BenchError):
    pass


def dialed(caller, peers, since):
    """The call_id of each dialed peer, from the caller's `dialing` events."""
    ids = {}
    for peer in peers:
        ev = caller.wait(lambda e, p=peer: is_call(e, 'dialing', peer=p) or e['event'] == 'error',
                         since=since, what=f'"dialing" to {peer}')
        if ev['event'] == 'error':
            raise CallFailed(f'dial refused: {json.dumps(public(ev))}')
        ids[peer] = ev['call_id']
    return ids


def wait_state(phone, cid, state, since, what=None):
    """The `call` event of call `cid` reaching `state`; fails if it ends first."""
    ev = phone.wait(lambda e: is_call(e, call_id=cid) and e.get('state') in (state, 'ended'),
                    since=since, what=what or f'{cid} {state}')
    if ev['state'] != state:
        raise CallFailed(f'phone {phone.number}: call {cid} ended before {state}: '
                         f'{json.dumps(public(ev))}\n' + phone.recent(since))
    return ev


def wait_audio(phone, cid, since):
    ev = phone.wait(lambda e: (e['event'] == 'audio' and e.get('call_id') == cid)
                    or is_call(e, 'ended', call_id=cid), since=since, what=f'audio of {cid}')
    if ev['event'] != 'audio':
        raise CallFailed(f'phone {phone.number}: call {cid} ended before any audio: '
                         f'{json.dumps(public(ev))}\n' + phone.recent(since))
    return ev


def first_seen(phone, since, match):
    phone.mark()
    for ev in phone.events[since:]:
        if match(ev):
            return ev
    return None


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


def cleanup(caller, callee, cid, c0, e0):
    """After a failed call: hang it up and wait until both sides have ended it."""
    if cid is None:
        return
    try:
        if not first_seen(caller, c0, lambda e: is_call(e, 'ended', call_id=cid)):
            caller.send(f'hangup {callee.number}')
            caller.wait(lambda e: is_call(e, 'ended', call_id=cid), since=c0,
                        what=f'{cid} ended (cleanup)')
        if first_seen(callee, e0, lambda e: is_call(e, call_id=cid)):
            callee.wait(lambda e: is_call(e, 'ended', call_id=cid), since=e0,
                        what=f'{cid} ended on the callee (cleanup)')
    except BenchError as e:
        raise BenchError(f'could not clean up after a failed call: {e}') from None


def sequential(children, paths, server, caller_no, callee_no, calls, env, progress):
    """Fresh caller and callee, `calls` calls one after the other."""
    callee = Phone(children, paths['cli'], callee_no, server.url, 'tone:660', auto_answer=True,
                   env=env)
    caller = Phone(children, paths['cli'], caller_no, server.url, 'tone:440', env=env)
    records = []
    for i in range(calls):
        rec = one_call(caller, callee, i + 1)
        records.append(rec)
        if not rec['ok']:
            progress(f'  call {i + 1} FAILED: {rec["error"].splitlines()[0]}')
    return caller, callee, records


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


# --- output ---------------------------------------------------------------------------

def f1(v):
    return '–' if v is None else f'{v:.1f}'


def f2(v):
    return '–' if v is None else f'{v:.2f}'


def met(ok):
    return 'met' if ok else 'NOT met'


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

    out += ['### Targets (issue 3)', '', '| target | measured | |', '|---|---|---|']
    for t in result['targets']:
        out.append(f'| {t["target"]} | {t["measured"]} | {met(t["met"])} |')
    out.append('')
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


def targets(main):
    st, fc = main['steady'], main['first_call'] or {}
    res = []

    def add(text, value, ok, shown):
        res.append({'target': text, 'value': value, 'met': bool(ok), 'measured': shown})

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
    return res


# --- the run --------------------------------------------------------------------------

def run_text(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10,
                              stdin=subprocess.DEVNULL).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def snapshot(paths, folder):
    """Copy the (statically linked) programs, so that a rebuild during the run
    (other people work in this tree) cannot change them under the benchmark."""
    os.makedirs(folder, exist_ok=True)
    copies, info = {}, {}
    for key, path in paths.items():
        copy = os.path.join(folder, os.path.basename(path))
        shutil.copy2(path, copy)
        with open(copy, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        version = subprocess.run([copy, '--version'], capture_output=True, text=True,
                                 timeout=10, stdin=subprocess.DEVNULL)
        if version.returncode != 0:
            raise BenchError(f'{copy} --version exited with {version.returncode}: '
                             f'{version.stderr.strip()}')
        copies[key] = copy
        info[key] = {'path': path, 'version': version.stdout.strip(), 'sha256': digest, 'mtime': datetime.datetime.fromtimestamp(
            os.path.getmtime(path)).astimezone().isoformat(timespec='seconds')}
    return copies, info


def stderr_problems(children):
    """A phone writes nothing to stderr in a clean run: report what any of them wrote."""
    out = []
    for child in children.all:
        if child.kind != 'phone':
            continue
        lines = child.stderr_tail(10**6)[1:]      # the first line is our own `$ argv`
        if lines:
            out.append(f'{child.name} wrote {len(lines)} lines to stderr, first: {lines[0]!r}')
    return out


def metadata(args):
    root = repo_root()
    return {
        'command': ' '.join(['bench/run', 'setup'] + sys.argv[1:]),
        'date': datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
        'host': platform.node(), 'kernel': platform.release(), 'cpus': os.cpu_count(),
        'python': platform.python_version(),
        'gstreamer': run_text(['pkg-config', '--modversion', 'gstreamer-webrtc-1.0']),
        'git_head': run_text(['git', '-C', root, 'rev-parse', 'HEAD']),
        'git_dirty': (run_text(['git', '-C', root, 'status', '--porcelain', '--', 'src',
                                'pipelines', 'meson.build']) or '').splitlines(),
        'inherited_knobs': {k: os.environ[k] for k in KNOBS if k in os.environ},
        'inherited_debug_env': {k: os.environ[k] for k in DEBUG_ENV if k in os.environ},
        'loadavg_start': os.getloadavg(),
        'options': vars(args),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--calls', type=int, default=40, help='sequential calls (default 40)')
    ap.add_argument('--sweep-calls', type=int, default=20,
                    help='calls per sweep setting (default 20; 0 skips the sweep)')
    ap.add_argument('--group-rounds', type=int, default=10,
                    help='group hang-up rounds (default 10; 0 skips them)')
    ap.add_argument('--results', default=os.path.join(repo_root(), 'bench', 'results'),
                    help='folder for setup-<date>.json and setup-latest.json')
    ap.add_argument('--logdir', default=None,
                    help='stderr logs of every process (default build/bench-logs/setup-<date>)')
    ap.add_argument('--watchdog', type=float, default=900.0,
                    help='kill everything and exit 3 after this many seconds (default 900)')
    args = ap.parse_args()
    for name, lo, hi in (('calls', 2, 1000), ('sweep_calls', 0, 1000), ('group_rounds', 0, 200)):
        if not lo <= getattr(args, name) <= hi:
            ap.error(f'--{name.replace("_", "-")} must be between {lo} and {hi}')
    if args.sweep_calls == 1:
        ap.error('--sweep-calls must be 0 or at least 2')

    def progress(text):
        print(text, file=sys.stderr, flush=True)

    try:
        assert_loopback_only()
        root = repo_root()
        paths = {'server': binary('PARTYLINE_SERVER',
                                  os.path.join(root, 'build/src/server/partyline-server')),
                 'cli': binary('PARTYLINE_CLI', os.path.join(root, 'build/src/cli/partyline-cli'))}
    except BenchError as e:
        progress(f'bench: {e}')
        return 2

    stamp = datetime.datetime.now().strftime('%Y-%m-%dT%H%M%S')
    logdir = args.logdir or os.path.join(root, 'build', 'bench-logs', f'setup-{stamp}')
    env = {k: v for k, v in os.environ.items() if k not in KNOBS + DROPPED_ENV}
    env.setdefault('PARTYLINE_PIPELINE_DIR', os.path.join(root, 'pipelines'))
    result = {'meta': metadata(args)}
    try:
        paths, result['meta']['binaries'] = snapshot(paths, os.path.join(logdir, 'bin'))
    except (BenchError, OSError, subprocess.SubprocessError) as e:
        progress(f'bench: {e}')
        return 2
    result['meta']['logdir'] = logdir
    result['meta']['pipeline_dir'] = env['PARTYLINE_PIPELINE_DIR']
    children = Children(logdir, env, args.watchdog)
    started, jiffies0 = time.monotonic(), cpu_jiffies()
    problems = []
    try:
        server = Server(children, paths['server'])

        progress(f'bench: {args.calls} sequential calls (1001 → 2001)')
        t0, load = time.monotonic(), Load()
        caller, callee, records = sequential(children, paths, server, '1001', '2001',
                                             args.calls, env, progress)
        result['sequential'] = describe_calls(records)
        result['sequential']['records'] = records
        result['sequential']['seconds'] = round(time.monotonic() - t0, 2)
        result['sequential']['machine_busy_percent'] = load.busy_percent()
        for key in ('reason', 'callee_reason'):
            for idx, reason in odd_reasons(records, key):
                problems.append(f'call {idx}: {key} {reason!r} (expected "normal")')

        if args.group_rounds:
            progress(f'bench: {args.group_rounds} group hang-up rounds (1001 → 2101 2102 2103)')
            t0, load = time.monotonic(), Load()
            group_callees, result['group'] = group_rounds(children, paths, server, caller,
                                                          args.group_rounds, env, progress)
            result['group']['seconds'] = round(time.monotonic() - t0, 2)
            result['group']['machine_busy_percent'] = load.busy_percent()
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
            t0, load = time.monotonic(), Load()
            result['sweep'] = sweep(children, paths, server, args.sweep_calls, env, progress)
            result['sweep_seconds'] = round(time.monotonic() - t0, 2)
            result['sweep_machine_busy_percent'] = load.busy_percent()

        result['server_exit'] = server.stop()
    except BenchError as e:
        progress(f'bench: aborted: {e}')
        result['aborted'] = str(e)
    finally:
        problems += children.shutdown()
    problems += stderr_problems(children)
    for child in children.all:
        if child.proc.returncode not in (0, None):
            problems.append(f'{child.kind} {child.name} exited with {child.proc.returncode}')

    result['meta']['seconds'] = round(time.monotonic() - started, 2)
    # CPU time: the whole machine vs. the processes of this run (all waited for by now).
    busy, total = (b - a for a, b in zip(jiffies0, cpu_jiffies()))
    hz = os.sysconf('SC_CLK_TCK')
    ours = sum(getattr(resource.getrusage(who), f) for who in
               (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for f in ('ru_utime', 'ru_stime'))
    result['meta']['cpu'] = {
        'machine_busy_percent': round(100.0 * busy / total, 1) if total else None,
        'machine_busy_cpu_s': round(busy / hz, 2), 'bench_and_phones_cpu_s': round(ours, 2),
        'others_cpu_s': round(busy / hz - ours, 2)}
    result['meta']['loadavg_end'] = os.getloadavg()
    failures = []
    if 'sequential' in result:
        result['first_call_ratios'] = first_call_ratios(result)
        result['targets'] = targets(result['sequential'])
        failures += [f'sequential call {r["index"]}: {r["error"]}'
                     for r in result['sequential']['records'] if not r['ok']]
    for rec in result.get('group', {}).get('rounds', []):
        if not rec['ok']:
            failures.append(f'group round {rec["round"]}: {rec["error"]}')
    for row in result.get('sweep', []):
        failures += [f'sweep {row["label"]} call {r["index"]}: {r["error"]}'
                     for r in row['records'] if not r['ok']]
    result['failures'] = failures
    result['problems'] = problems

    os.makedirs(args.results, exist_ok=True)
    text = json.dumps(result, indent=1, default=public) + '\n'
    written = []
    for name in (f'setup-{stamp}.json', 'setup-latest.json'):
        path = os.path.join(args.results, name)
        with open(path + '.tmp', 'w') as f:
            f.write(text)
        os.replace(path + '.tmp', path)
        written.append(path)

    if 'sequential' in result:
        print(tables(result))
    m = result['meta']
    print(f'run: {m["date"]}, {m["cpus"]} CPUs, GStreamer {m["gstreamer"]}, '
          f'{m["seconds"]:.0f} s; load average {m["loadavg_start"][0]:.2f} → '
          f'{m["loadavg_end"][0]:.2f}; CPU time {m["cpu"]["bench_and_phones_cpu_s"]:.1f} s '
          f'ours, {m["cpu"]["others_cpu_s"]:.1f} s other processes '
          f'(machine {m["cpu"]["machine_busy_percent"]} % busy); results: {", ".join(written)}; logs: {logdir}')
    others = m['cpu']['others_cpu_s'] / m['seconds'] if m['seconds'] else 0
    if others > 0.2:
        print(f'note: other processes kept {others:.2f} of {m["cpus"]} CPUs busy on average '
              'during this run; these figures include that contention')
    for line in failures:
        print('FAILED: ' + line)
    for line in problems:
        print('odd: ' + line)
    return 1 if failures or problems or 'aborted' in result else 0


if __name__ == '__main__':
    sys.exit(main())

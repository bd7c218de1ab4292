# SPDX-License-Identifier: GPL-3.0-or-later
"""What Partyline's benchmarks share (Python 3 stdlib only): statistics, load
measurement, the benchmark's processes, call helpers, the frame of a run.

The process and event plumbing is tests/lib/plproc.py's, the same the test
harness (tests/lib/partyline.py) is built on; this module keeps what a
benchmark adds. Every process the benchmark starts belongs to
its `Children`. A `Phone` runs `partyline-cli --json`; one reader thread per
phone turns each stdout line into a dict, stamps it with the monotonic time
it was read (`_rx`) and puts it on a queue. `Phone.wait` takes events from
that queue into the phone's history and returns the first one that matches,
or raises `BenchError` when the deadline passes or the phone exits. Nothing
waits by sleeping: the timeout of a wait is a watchdog, never the
synchronisation itself.
"""

import argparse
import contextlib
import datetime
import hashlib
import json
import math
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time

import plproc   # tests/lib, on the PYTHONPATH that bench/run sets
from plproc import public  # noqa: F401 (the bench scripts import it from here)

WAIT_TIMEOUT = plproc.WAIT_TIMEOUT    # s for one event; a loopback call sets up in well under 1 s

KNOBS = ('PARTYLINE_JITTER_LATENCY_MS', 'PARTYLINE_ICE_PACING_MS')
# Not passed to the phones: with it set, every call writes a dot file as it connects.
DROPPED_ENV = ('GST_DEBUG_DUMP_DOT_DIR',)
DEBUG_ENV = ('GST_DEBUG', 'G_MESSAGES_DEBUG', 'GST_DEBUG_FILE', 'GST_DEBUG_DUMP_DOT_DIR')

# The programs a benchmark may run: the variable that overrides the path, the
# default path under the repository, and whether it answers --version.
PROGRAMS = {
    'server': ('PARTYLINE_SERVER', 'build/src/server/partyline-server', True),
    'cli': ('PARTYLINE_CLI', 'build/src/cli/partyline-cli', True),
    'farm': ('PARTYLINE_FARM', 'build/bench/partyline-farm', False),
    'reference': ('PARTYLINE_REFERENCE', 'build/bench/reference-webrtcbin', False),
}


class BenchError(plproc.ProcessError):
    """Something the benchmark waited for did not happen; the message has the evidence."""


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def binary(var, default):
    path = os.environ.get(var) or default
    if not os.access(path, os.X_OK):
        raise BenchError(f'{path} is not an executable; build first (ninja -C build) '
                         f'or set ${var}')
    return path


# --- statistics ---------------------------------------------------------------

def percentile(values, p):
    """Nearest-rank percentile: the smallest value with at least p % of the values <= it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


def summary(values):
    """n, median, p95 (nearest rank), min, max, mean of a list of numbers (None when empty)."""
    values = [v for v in values if v is not None]
    if not values:
        return {'n': 0, 'median': None, 'p95': None, 'min': None, 'max': None, 'mean': None}
    return {'n': len(values), 'median': statistics.median(values),
            'p95': percentile(values, 95), 'min': min(values), 'max': max(values),
            'mean': statistics.fmean(values)}


# --- load -----------------------------------------------------------------------------

def cpu_jiffies():
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    with open('/proc/stat') as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)   # idle + iowait
    total = sum(fields[:8])                                     # guest time is in user already
    return total - idle, total


def proc_cpu_seconds(pid):
    """User + system CPU time of one process (all its threads), from /proc/PID/stat."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def own_cpu_seconds(children=None):
    """CPU time of this process, its waited-for children and those still running."""
    total = sum(getattr(resource.getrusage(who), f) for who in
                (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for f in ('ru_utime', 'ru_stime'))
    for child in (children.processes if children else []):
        if child.alive():
            total += proc_cpu_seconds(child.proc.pid) or 0.0
    return total


def udp_counters():
    """The UDP counters of this network namespace (/proc/net/snmp): the
    kernel's own count of datagrams received, and dropped for a full socket
    buffer (RcvbufErrors) or otherwise (InErrors)."""
    try:
        with open('/proc/net/snmp') as f:
            rows = [line.split() for line in f if line.startswith('Udp:')]
        return {k: int(v) for k, v in zip(rows[0][1:], rows[1][1:])}
    except (OSError, IndexError, ValueError):
        return {}


class Load:
    """How busy the whole machine was between creation and busy_percent(), in %
    of all CPUs; with `children`, also how much of it was other people's work."""

    def __init__(self, children=None):
        self.children = children
        self.start = cpu_jiffies()
        self.t0 = time.monotonic()
        self.ours0 = own_cpu_seconds(children)

    def busy_percent(self):
        busy, total = cpu_jiffies()
        d_total = total - self.start[1]
        return round(100.0 * (busy - self.start[0]) / d_total, 1) if d_total else None

    def describe(self):
        """busy %, and the CPUs (of all) kept busy by processes not of this run, on average."""
        busy, total = cpu_jiffies()
        seconds = time.monotonic() - self.t0
        hz = os.sysconf('SC_CLK_TCK')
        ours = own_cpu_seconds(self.children) - self.ours0
        others = (busy - self.start[0]) / hz - ours
        return {'seconds': round(seconds, 2),
                'machine_busy_percent': round(100.0 * (busy - self.start[0]) /
                                              (total - self.start[1]), 1)
                if total > self.start[1] else None,
                'ours_cpu_s': round(ours, 2), 'others_cpu_s': round(others, 2),
                'others_cpus': round(others / seconds, 2) if seconds > 0 else None,
                'loadavg': os.getloadavg()}


def wait_for_quiet(max_wait_s, busy_below=15.0, window_s=5.0, progress=None):
    """Before a run (optional): sample the machine's load in fixed windows of
    `window_s` until one is under `busy_below` % busy, for at most `max_wait_s`.
    Returns the samples; the run starts anyway when the time is up."""
    samples = []
    deadline = time.monotonic() + max_wait_s
    while True:
        load = Load()
        time.sleep(window_s)          # a measurement window, not a synchronisation
        samples.append(load.busy_percent())
        if samples[-1] is not None and samples[-1] < busy_below:
            break
        if time.monotonic() >= deadline:
            if progress:
                progress(f'bench: machine still {samples[-1]} % busy after {max_wait_s:.0f} s; '
                         'running anyway')
            break
        if progress:
            progress(f'bench: machine {samples[-1]} % busy; waiting for < {busy_below:g} %')
    return samples


# --- processes ------------------------------------------------------------------
# Process, Server and EventProcess are tests/lib/plproc.py's; here
# only what a benchmark adds to them.

class Children(plproc.Group):
    """Every process the benchmark started (their errors are BenchErrors), and a
    watchdog over the whole run, started at once."""

    error = BenchError
    watchdog_status = 3

    def __init__(self, logdir, env, watchdog_s):
        os.makedirs(logdir, exist_ok=True)
        super().__init__(logdir, env, watchdog_s)
        self.start_watchdog()

    def watchdog_report(self, seconds):
        print(f'bench: watchdog: still running after {seconds:.0f} s; killing the processes '
              f'it started (logs in {self.logdir})', file=sys.stderr, flush=True)

    def shutdown(self):
        """Quit every phone still running (kill it if quit hangs), then stop the
        servers; returns what went wrong."""
        problems = [str(e) for e in self.stop_all()]
        self.cancel_watchdog()
        return problems


class Server(plproc.Server):
    """partyline-server at `path` on 127.0.0.1, a port it picks."""

    def __init__(self, children, path, name='server', timeout=WAIT_TIMEOUT):
        super().__init__(children, name, [path, '--listen', '127.0.0.1:0'], timeout)


class EventProcess(plproc.EventProcess):
    """A process of ours that prints JSON events (plproc.EventProcess: `wait`
    with a predicate, `_rx` on every event), and answers `resources`."""

    def resources(self, reset=False):
        """What the process holds now; with reset, the longest main-loop stall
        until now is reported and the probe starts over."""
        ev = self.request('resources reset' if reset else 'resources', 'resources')
        if ev['event'] != 'resources':
            raise BenchError(f'{self.number}: {json.dumps(public(ev))}')
        return public(ev)

    def settle(self, timeout=WAIT_TIMEOUT):
        """`resources` once no pipeline is left, lingering ones included."""
        ev = self.request('settle', 'resources', timeout)
        if ev['event'] != 'resources':
            raise BenchError(f'{self.number}: {json.dumps(public(ev))}')
        return public(ev)

    def cpu_seconds(self):
        return proc_cpu_seconds(self.proc.pid)


class Phone(EventProcess):
    """partyline-cli --json, with --sink fake on 127.0.0.1."""

    kind = 'phone'

    def __init__(self, children, path, number, server_url, source, auto_answer=False,
                 env=None, timeout=WAIT_TIMEOUT, analyze=False, extra=()):
        argv = [path, '--json', '--number', number, '--server', server_url, '--sink', 'fake',
                '--ice-address', '127.0.0.1', '--source', source]
        if auto_answer:
            argv.append('--auto-answer')
        if analyze:
            argv.append('--analyze')
        argv += list(extra)
        super().__init__(children, f'phone-{number}', argv, env=env)
        self.number = number
        self.registered = self.wait(lambda e: e['event'] == 'registered', timeout,
                                    what='registered')


class Farm(EventProcess):
    """bench/partyline-farm: lines PREFIX0 … PREFIX(count-1) in one process,
    auto-answering, every call sending `source` through one shared encoder.
    Its events carry `number` (the line) besides `peer` and `call_id`."""

    kind = 'farm'

    def __init__(self, children, path, prefix, count, server_url, source, analyze=False,
                 env=None, timeout=WAIT_TIMEOUT):
        argv = [path, '--server', server_url, '--prefix', prefix, '--count', str(count),
                '--ice-address', '127.0.0.1', '--source', source]
        if analyze:
            argv.append('--analyze')
        super().__init__(children, f'farm-{prefix}', argv, env=env)
        self.number = f'farm {prefix}0…{prefix}{count - 1}'
        self.numbers = [f'{prefix}{i}' for i in range(count)]
        self.registered = self.wait(lambda e: e['event'] in ('registered', 'error'),
                                    timeout + count * 0.1, what='registered')
        if self.registered['event'] != 'registered' or self.registered.get('count') != count:
            raise BenchError(f'farm {prefix}: {json.dumps(public(self.registered))}')


class Reference(EventProcess):
    """bench/reference-webrtcbin in its stdin mode: `call` runs one call of two
    plain webrtcbin peers in this process and prints one `call` record."""

    kind = 'reference'

    def __init__(self, children, path, name, options=(), env=None, timeout=WAIT_TIMEOUT):
        super().__init__(children, f'reference-{name}', [path] + list(options), env=env)
        self.number = f'reference {name}'
        self.ready = self.wait(lambda e: e['event'] == 'ready', timeout, what='ready')

    def call(self, timeout=WAIT_TIMEOUT):
        since = self.mark()
        self.send('call')
        return public(self.wait(lambda e: e['event'] in ('call', 'error'), timeout, since,
                                what='the call record'))


# --- calls ----------------------------------------------------------------------------

def is_call(ev, state=None, call_id=None, peer=None, number=None):
    """A `call` event (of a phone, or of a farm line when `number` is given)."""
    return (ev.get('event') == 'call'
            and (state is None or ev.get('state') == state)
            and (call_id is None or ev.get('call_id') == call_id)
            and (peer is None or ev.get('peer') == peer)
            and (number is None or ev.get('number') == number))


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


def wait_state(phone, cid, state, since, what=None, timeout=WAIT_TIMEOUT):
    """The `call` event of call `cid` reaching `state`; fails if it ends first."""
    ev = phone.wait(lambda e: is_call(e, call_id=cid) and e.get('state') in (state, 'ended'),
                    timeout=timeout, since=since, what=what or f'{cid} {state}')
    if ev['state'] != state:
        raise CallFailed(f'{phone.kind} {phone.number}: call {cid} ended before {state}: '
                         f'{json.dumps(public(ev))}\n' + phone.recent(since))
    return ev


def wait_audio(phone, cid, since, timeout=WAIT_TIMEOUT):
    ev = phone.wait(lambda e: (e['event'] == 'audio' and e.get('call_id') == cid)
                    or is_call(e, 'ended', call_id=cid), timeout=timeout, since=since,
                    what=f'audio of {cid}')
    if ev['event'] != 'audio':
        raise CallFailed(f'{phone.kind} {phone.number}: call {cid} ended before any audio: '
                         f'{json.dumps(public(ev))}\n' + phone.recent(since))
    return ev


def first_seen(phone, since, match):
    phone.mark()
    for ev in phone.events[since:]:
        if match(ev):
            return ev
    return None


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


# --- churn: dial → hang-up cycles -------------------------------------------------------

CALL_STATES = ('dialing', 'ringing', 'connecting', 'active')
# What a process holds for live calls: all 0 once settled.
LIVE_KEYS = ('pipelines', 'calls', 'peers', 'webrtcbins', 'nice_agents')


def leftovers(res):
    """The live-call counters of a `resources` event that are not 0."""
    return {k: res[k] for k in LIVE_KEYS if res.get(k)}


def churn_cycle(caller, callee, delay_s=None, timeout=WAIT_TIMEOUT):
    """One cycle: `dial`, then `hangup` once the caller reports `active`
    (delay_s None) or delay_s after the dial was written (a chosen stimulus:
    the events of the delay are collected meanwhile), then `ended` on the
    caller and, when the offer had been sent (`dialing`), on the callee.
    Returns a record; `ok` False with `error` when something failed."""
    peer = callee.number
    c0, e0 = caller.mark(), callee.mark()
    rec = {'ok': False, 'delay_ms': None if delay_s is None else round(delay_s * 1000.0, 1)}
    t_dial = caller.send(f'dial {peer}')
    try:
        if delay_s is None:
            ev = caller.wait(lambda e: is_call(e, peer=peer) and e['state'] in ('active', 'ended')
                             or e['event'] == 'error', timeout, c0, what=f'active with {peer}')
            if ev['event'] == 'error' or ev['state'] != 'active':
                raise CallFailed(f'before the hang-up: {json.dumps(public(ev))}\n' +
                                 caller.recent(c0))
        else:
            caller.collect_until(t_dial + delay_s)
        mine = [e for e in caller.events[c0:] if is_call(e, peer=peer) or e['event'] == 'error']
        bad = [e for e in mine if e['event'] == 'error' or e['state'] == 'ended']
        if bad:
            raise CallFailed(f'before the hang-up: {json.dumps(public(bad[0]))}\n' +
                             caller.recent(c0))
        reached = [e['state'] for e in mine if e['state'] in CALL_STATES]
        rec['reached'] = reached[-1] if reached else 'new'
        t_hang = caller.send(f'hangup {peer}')
        end = caller.wait(lambda e: is_call(e, 'ended', peer=peer) or e['event'] == 'error',
                          timeout, c0, what=f'ended with {peer}')
        if end['event'] == 'error':
            raise CallFailed(f'hangup refused: {json.dumps(public(end))}\n' + caller.recent(c0))
        cid = end['call_id']
        rec.update({'call_id': cid, 'reason': end.get('reason'),
                    'teardown_ms': end.get('teardown_ms'),
                    'hangup_to_ended_ms': ms(t_hang, end['_rx'])})
        sent = any(is_call(e, 'dialing', call_id=cid) for e in caller.events[c0:])
        seen = first_seen(callee, e0, lambda e: is_call(e, call_id=cid))
        if sent or seen:
            cend = wait_state(callee, cid, 'ended', e0, timeout=timeout)
            rec.update({'callee_reason': cend.get('reason'),
                        'callee_teardown_ms': cend.get('teardown_ms')})
            last = cend['_rx']
        else:
            last = end['_rx']
        rec['cycle_ms'] = ms(t_dial, last)
        rec['ok'] = True
    except BenchError as e:
        rec['error'] = str(e)
        with contextlib.suppress(BenchError):
            if not first_seen(caller, c0, lambda e: is_call(e, 'ended', peer=peer)):
                caller.send(f'hangup {peer}')
                caller.wait(lambda e: is_call(e, 'ended', peer=peer), timeout, c0,
                            what='ended (cleanup)')
    return rec


def describe_churn(records, seconds):
    ok = [r for r in records if r['ok']]
    reached = {}
    for r in ok:
        reached[r['reached']] = reached.get(r['reached'], 0) + 1
    reasons = {}
    for r in ok:
        for who, key in (('caller', 'reason'), ('callee', 'callee_reason')):
            if r.get(key) is not None:
                label = f'{who} {r[key]}'
                reasons[label] = reasons.get(label, 0) + 1
    return {'cycles': len(records), 'failed': len(records) - len(ok),
            'seconds': round(seconds, 2),
            'cycles_per_s': round(len(records) / seconds, 2) if seconds > 0 else None,
            'cycle_ms': summary([r['cycle_ms'] for r in ok]),
            'teardown_ms': summary([r.get('teardown_ms') for r in ok]),
            'callee_teardown_ms': summary([r.get('callee_teardown_ms') for r in ok]),
            'hangup_to_ended_ms': summary([r['hangup_to_ended_ms'] for r in ok]),
            'reached': reached, 'reasons': reasons}


# --- the reference (bench/reference-webrtcbin) -------------------------------------

# Two configurations of the reference: webrtcbin's and libnice's own defaults
# with nothing pre-warmed (the first row of docs/webrtcbin-1.22.md's "Measured
# on this platform", what issue 4 names), and Partyline's settings (jitter
# buffer 40 ms, pacing 5 ms, UPnP off, the DTLS certificate made before the
# first call), which separates what the settings buy from what the rest of
# Partyline costs.
REFERENCE_CONFIGS = (
    ('plain', 'webrtcbin defaults (200 ms, libnice pacing, UPnP on, no pre-warm)', ()),
    ('tuned', 'Partyline\'s settings (40 ms, pacing 5 ms, UPnP off, pre-warmed)',
     ('--latency', '40', '--pacing', '5', '--no-upnp', '--prewarm')),
)
REFERENCE_KEYS = ('offer_ms', 'ice_connected_ms', 'connected_ms', 'first_audio_ms',
                  'callee_connected_ms', 'callee_first_audio_ms', 'teardown_ms')


def start_references(children, path, env):
    return [(key, label, Reference(children, path, key, options, env=env))
            for key, label, options in REFERENCE_CONFIGS]


def describe_reference(records):
    """First call apart, then median/p95/max of calls 2..n; null_ms is per pipeline."""
    ok = [r for r in records if r.get('ok')]
    first = records[0] if records and records[0].get('ok') else None
    rest = [r for r in ok if r is not first]
    out = {'calls': len(records), 'failed': len(records) - len(ok),
           'steady': {k: summary([r.get(k) for r in rest]) for k in REFERENCE_KEYS},
           'first_call': {k: first.get(k) for k in REFERENCE_KEYS} if first else None}
    # Per pipeline: set_state (NULL), the final unref, and the two together
    # (what a plain program's hang-up blocks its main loop for).
    for key in ('null_ms', 'unref_ms'):
        out['steady'][key] = summary([x for r in rest for x in r.get(key, [])])
    out['steady']['hangup_ms'] = summary([a + b for r in rest for a, b in
                                          zip(r.get('null_ms', []), r.get('unref_ms', []))])
    if first:
        out['first_call']['null_ms'] = max(first.get('null_ms', [0]))
        out['first_call']['hangup_ms'] = max((a + b for a, b in zip(
            first.get('null_ms', []), first.get('unref_ms', []))), default=None)
    return out


# --- output -----------------------------------------------------------------------------

def f0(v):
    return '–' if v is None else f'{v:.0f}'


def f1(v):
    return '–' if v is None else f'{v:.1f}'


def f2(v):
    return '–' if v is None else f'{v:.2f}'


def met(ok):
    return 'met' if ok else 'NOT met'


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def table(header, rows):
    """A Markdown table: header is a list of column titles, rows lists of cells."""
    out = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    out += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(out)


def targets_section(targets, issue=4):
    """The lines of a "### Targets (issue N)" section: each target, what was
    measured, and whether it was met."""
    return [f'### Targets (issue {issue})', '',
            table(['target', 'measured', ''],
                  [[t['target'], t['measured'], met(t['met'])] for t in targets]), '']


def int_list(ap, option, text):
    """`1,4,8` as [1, 4, 8]; any other text is an error of `option`."""
    try:
        return [int(x) for x in text.split(',') if x]
    except ValueError:
        ap.error(f'{option} takes numbers separated by commas')


# --- the frame of a run -------------------------------------------------------------------

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
        version = None
        if PROGRAMS.get(key, (None, None, False))[2]:
            answer = subprocess.run([copy, '--version'], capture_output=True, text=True,
                                    timeout=10, stdin=subprocess.DEVNULL)
            if answer.returncode != 0:
                raise BenchError(f'{copy} --version exited with {answer.returncode}: '
                                 f'{answer.stderr.strip()}')
            version = answer.stdout.strip()
        copies[key] = copy
        info[key] = {'path': path, 'version': version, 'sha256': digest,
                     'mtime': datetime.datetime.fromtimestamp(
                         os.path.getmtime(path)).astimezone().isoformat(timespec='seconds')}
    return copies, info


# What a process of a kind may write to stderr in a clean run: the reference
# keeps libnice's UPnP on (webrtcbin's default), and gupnp warns that it
# cannot listen in a loopback-only namespace (docs/webrtcbin-1.22.md: "gupnp warnings").
EXPECTED_STDERR = {'reference': re.compile(r'^$|gupnp-context(-manager)?-WARNING')}


def stderr_problems(children):
    """A phone or farm writes nothing to stderr in a clean run, the reference
    nothing but gupnp warnings: report what any of them wrote besides."""
    out = []
    for child in children.processes:
        if child.kind == 'server':
            continue
        lines = child.stderr_tail(10**6)[1:]      # the first line is our own `$ argv`
        expected = EXPECTED_STDERR.get(child.kind)
        if expected:
            lines = [line for line in lines if not expected.search(line)]
        if lines:
            first = next((line for line in lines if line.strip()), lines[0])
            out.append(f'{child.name} wrote {len(lines)} lines to stderr, first: {first!r}')
    return out


class Bench:
    """What every benchmark does around its measurements: the common options,
    the loopback check, snapshots of the programs, the logs, the watchdog, the
    machine's load, the JSON files and the closing report.

        bench = Bench('teardown', __doc__, ('server', 'cli', 'farm'))
        bench.ap.add_argument(...)            # its own options
        args = bench.parse()
        if (rc := bench.start()) is not None: return rc
        try: ... bench.result[...] = ...; bench.failures.append(...)
        except BenchError as e: bench.abort(e)
        return bench.finish(tables_text_function)
    """

    def __init__(self, name, doc, programs, watchdog=900.0):
        self.name, self.programs = name, programs
        self.ap = argparse.ArgumentParser(description=doc.split('\n\n')[0])
        self.ap.add_argument('--results', default=os.path.join(repo_root(), 'bench', 'results'),
                             help=f'folder for {name}-<date>.json and {name}-latest.json')
        self.ap.add_argument('--logdir', default=None,
                             help=f'stderr logs of every process (default '
                                  f'build/bench-logs/{name}-<date>)')
        self.ap.add_argument('--watchdog', type=float, default=watchdog,
                             help=f'kill everything and exit 3 after this many seconds '
                                  f'(default {watchdog:g})')
        self.ap.add_argument('--wait-quiet', type=float, default=0.0, metavar='S',
                             help='first wait up to S seconds for a 5 s window in which the '
                                  'machine is under 15 %% busy (default 0: start at once)')
        self.failures, self.problems = [], []
        self.result = {}

    def parse(self):
        self.args = self.ap.parse_args()
        return self.args

    @staticmethod
    def progress(text):
        print(text, file=sys.stderr, flush=True)

    def start(self):
        """None when the run can go on, else the exit status (2)."""
        args, root = self.args, repo_root()
        try:
            plproc.assert_loopback_only('bench/run', BenchError)
            paths = {key: binary(PROGRAMS[key][0], os.path.join(root, PROGRAMS[key][1]))
                     for key in self.programs}
        except BenchError as e:
            self.progress(f'bench: {e}')
            return 2
        quiet = wait_for_quiet(args.wait_quiet, progress=self.progress) \
            if args.wait_quiet > 0 else None
        self.stamp = datetime.datetime.now().strftime('%Y-%m-%dT%H%M%S')
        self.logdir = args.logdir or os.path.join(root, 'build', 'bench-logs',
                                                  f'{self.name}-{self.stamp}')
        self.env = {k: v for k, v in os.environ.items() if k not in KNOBS + DROPPED_ENV}
        self.env.setdefault('PARTYLINE_PIPELINE_DIR', os.path.join(root, 'pipelines'))
        self.result['meta'] = self.metadata()
        if quiet is not None:
            self.result['meta']['wait_quiet_samples_percent'] = quiet
        try:
            self.paths, self.result['meta']['binaries'] = snapshot(
                paths, os.path.join(self.logdir, 'bin'))
        except (BenchError, OSError, subprocess.SubprocessError) as e:
            self.progress(f'bench: {e}')
            return 2
        self.result['meta']['logdir'] = self.logdir
        self.result['meta']['pipeline_dir'] = self.env['PARTYLINE_PIPELINE_DIR']
        self.children = Children(self.logdir, self.env, args.watchdog)
        self.started, self.jiffies0 = time.monotonic(), cpu_jiffies()
        return None

    def metadata(self):
        root = repo_root()
        return {
            'command': ' '.join(['bench/run', self.name] + sys.argv[1:]),
            'date': datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
            'host': platform.node(), 'kernel': platform.release(), 'cpus': os.cpu_count(),
            'python': platform.python_version(),
            'gstreamer': run_text(['pkg-config', '--modversion', 'gstreamer-webrtc-1.0']),
            'git_head': run_text(['git', '-C', root, 'rev-parse', 'HEAD']),
            'git_dirty': (run_text(['git', '-C', root, 'status', '--porcelain', '--', 'src',
                                    'pipelines', 'bench', 'tests/lib/plproc.py',
                                    'meson.build']) or '').splitlines(),
            # Free text from whoever built the programs, e.g. "git archive of <commit>".
            'built_from': os.environ.get('PARTYLINE_BENCH_BUILT_FROM'),
            'inherited_knobs': {k: os.environ[k] for k in KNOBS if k in os.environ},
            'inherited_debug_env': {k: os.environ[k] for k in DEBUG_ENV if k in os.environ},
            'loadavg_start': os.getloadavg(),
            'options': vars(self.args),
        }

    def load(self):
        """A Load over this run's processes: call .describe() at the end of a part."""
        return Load(self.children)

    def abort(self, error):
        self.progress(f'bench: aborted: {error}')
        self.result['aborted'] = str(error)

    def finish(self, tables):
        """Stops everything, writes the JSON files, prints tables(result) and the
        report; returns the exit status (1 on any failure, problem or abort)."""
        self.problems += self.children.shutdown()
        self.problems += stderr_problems(self.children)
        for child in self.children.processes:
            if child.proc.returncode not in (0, None):
                self.problems.append(f'{child.kind} {child.name} exited with '
                                     f'{child.proc.returncode}')
        m = self.result['meta']
        m['seconds'] = round(time.monotonic() - self.started, 2)
        # CPU time: the whole machine vs. the processes of this run (all waited for by now).
        busy, total = (b - a for a, b in zip(self.jiffies0, cpu_jiffies()))
        hz = os.sysconf('SC_CLK_TCK')
        ours = own_cpu_seconds()
        m['cpu'] = {
            'machine_busy_percent': round(100.0 * busy / total, 1) if total else None,
            'machine_busy_cpu_s': round(busy / hz, 2), 'bench_and_phones_cpu_s': round(ours, 2),
            'others_cpu_s': round(busy / hz - ours, 2)}
        m['loadavg_end'] = os.getloadavg()
        self.result['failures'] = self.failures
        self.result['problems'] = self.problems

        os.makedirs(self.args.results, exist_ok=True)
        text = json.dumps(self.result, indent=1, default=public) + '\n'
        written = []
        for name in (f'{self.name}-{self.stamp}.json', f'{self.name}-latest.json'):
            path = os.path.join(self.args.results, name)
            with open(path + '.tmp', 'w') as f:
                f.write(text)
            os.replace(path + '.tmp', path)
            written.append(path)

        text = tables(self.result)
        if text:
            print(text)
        print(f'run: {m["date"]}, {m["cpus"]} CPUs, GStreamer {m["gstreamer"]}, '
              f'{m["seconds"]:.0f} s; load average {m["loadavg_start"][0]:.2f} → '
              f'{m["loadavg_end"][0]:.2f}; CPU time {m["cpu"]["bench_and_phones_cpu_s"]:.1f} s '
              f'ours, {m["cpu"]["others_cpu_s"]:.1f} s other processes '
              f'(machine {m["cpu"]["machine_busy_percent"]} % busy); results: '
              f'{", ".join(written)}; logs: {self.logdir}')
        others = m['cpu']['others_cpu_s'] / m['seconds'] if m['seconds'] else 0
        if others > 0.2:
            print(f'note: other processes kept {others:.2f} of {m["cpus"]} CPUs busy on average '
                  'during this run; these figures include that contention')
        for line in self.failures:
            print('FAILED: ' + line)
        for line in self.problems:
            print('odd: ' + line)
        return 1 if self.failures or self.problems or 'aborted' in self.result else 0

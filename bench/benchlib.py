# SPDX-License-Identifier: GPL-3.0-or-later
"""Process and event plumbing for Partyline's benchmarks (Python 3 stdlib only).

Self-contained on purpose: tests/integration/partyline.py is built around TAP
steps, a benchmark wants timestamps and statistics instead.

Every process the benchmark starts is a `Child`. A `Phone` runs
`partyline-cli --json`; one reader thread per phone turns each stdout line
into a dict, stamps it with the monotonic time it was read (`_rx`) and puts
it on a queue. `Phone.wait` takes events from that queue into the phone's
history and returns the first one that matches, or raises `BenchError` when
the deadline passes or the phone exits. Nothing waits by sleeping: the
timeout of a wait is a watchdog, never the synchronisation itself.
"""

import contextlib
import json
import math
import os
import queue
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

WAIT_TIMEOUT = 15.0    # s for one event; a loopback call sets up in well under 1 s
QUIT_TIMEOUT = 10.0    # s from `quit` (or SIGTERM) to the exit


class BenchError(Exception):
    """Something the benchmark waited for did not happen; the message has the evidence."""


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def binary(var, default):
    path = os.environ.get(var) or default
    if not os.access(path, os.X_OK):
        raise BenchError(f'{path} is not an executable; build first (ninja -C build) '
                         f'or set ${var}')
    return path


def assert_loopback_only():
    """Refuse to run unless this network namespace has only `lo` (bench/run sets it up)."""
    names = sorted(name for _, name in socket.if_nameindex())
    if names != ['lo']:
        raise BenchError(f'not in a loopback-only network namespace (interfaces: {names}); '
                         'run through bench/run')


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


class Load:
    """How busy the whole machine was between start() and stop(), in % of all CPUs."""

    def __init__(self):
        self.start = cpu_jiffies()

    def busy_percent(self):
        busy, total = cpu_jiffies()
        d_total = total - self.start[1]
        return round(100.0 * (busy - self.start[0]) / d_total, 1) if d_total else None


# --- processes ------------------------------------------------------------------

class Children:
    """Every process the benchmark started, and a watchdog over the whole run."""

    def __init__(self, logdir, env, watchdog_s):
        self.logdir, self.env = logdir, env
        self.all = []
        os.makedirs(logdir, exist_ok=True)
        self._watchdog = threading.Timer(watchdog_s, self._fire, args=(watchdog_s,))
        self._watchdog.daemon = True
        self._watchdog.start()

    def _fire(self, seconds):
        print(f'bench: watchdog: still running after {seconds:.0f} s; killing the processes '
              f'it started (logs in {self.logdir})', file=sys.stderr, flush=True)
        for child in self.all:
            with contextlib.suppress(OSError):
                child.proc.kill()
        os._exit(3)

    def shutdown(self):
        """Quit every phone still running (kill it if quit hangs), then stop the servers."""
        problems = []
        for child in reversed(self.all):
            if not child.alive():
                continue
            try:
                child.stop()
            except BenchError as e:
                problems.append(str(e))
                child.kill()
        self._watchdog.cancel()
        return problems


class Child:
    """A process of ours, stderr in a log file."""

    kind = 'process'

    def __init__(self, children, name, argv, env=None, **popen):
        self.children, self.name, self.argv = children, name, argv
        self.log_path = os.path.join(children.logdir, f'{name}.stderr.log')
        self._log = open(self.log_path, 'w')
        self._log.write('$ ' + ' '.join(argv) + '\n')
        self._log.flush()
        popen.setdefault('stderr', self._log)
        self.proc = subprocess.Popen(argv, env=env or children.env, **popen)
        children.all.append(self)

    def alive(self):
        return self.proc.poll() is None

    def wait_exit(self, timeout=QUIT_TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise BenchError(f'{self.kind} {self.name} did not exit within {timeout} s') from None

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def stderr_tail(self, lines=15):
        try:
            with open(self.log_path, errors='replace') as f:
                return [line.rstrip('\n') for line in f.readlines()[-lines:]]
        except OSError:
            return []


class Server(Child):
    kind = 'server'

    def __init__(self, children, path, name='server', timeout=WAIT_TIMEOUT):
        super().__init__(children, name, [path, '--listen', '127.0.0.1:0'],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, errors='replace')
        lines = queue.Queue()
        threading.Thread(target=self._pump, args=(lines,), daemon=True).start()
        self.url = None
        deadline = time.monotonic() + timeout
        while self.url is None:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise BenchError(f'server printed no "listening on ws://…" within {timeout} s') \
                    from None
            if line is None:
                raise BenchError(f'server exited ({self.proc.wait()}) before listening')
            m = re.search(r'listening on (ws://\S+)', line)
            if m:
                self.url = m.group(1)

    def _pump(self, lines):
        for line in self.proc.stderr:
            self._log.write(line)
            self._log.flush()
            lines.put(line)
        lines.put(None)

    def stop(self, timeout=QUIT_TIMEOUT):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)


def _not_json(constant):
    raise ValueError(f'{constant} is not JSON')


class Phone(Child):
    kind = 'phone'

    def __init__(self, children, path, number, server_url, source, auto_answer=False,
                 env=None, timeout=WAIT_TIMEOUT):
        argv = [path, '--json', '--number', number, '--server', server_url, '--sink', 'fake',
                '--ice-address', '127.0.0.1', '--source', source]
        if auto_answer:
            argv.append('--auto-answer')
        super().__init__(children, f'phone-{number}', argv, env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, errors='replace', bufsize=1)
        self.number = number
        self.events = []
        self.eof = False
        self._queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.registered = self.wait(lambda e: e['event'] == 'registered', timeout,
                                    what='registered')

    def _read(self):
        for line in self.proc.stdout:
            rx = time.monotonic()
            line = line.strip()
            if not line:
                continue
            try:
                ev = json.loads(line, parse_constant=_not_json)
                if not isinstance(ev, dict) or 'event' not in ev:
                    raise ValueError('no "event" field')
            except ValueError as e:
                ev = {'event': '<not-json>', 'line': line, 'why': str(e)}
            ev['_rx'] = rx
            self._queue.put(ev)
        self._queue.put(None)

    def _take(self, timeout):
        try:
            ev = self._queue.get(timeout=timeout)
        except queue.Empty:
            return False
        if ev is None:
            self.eof = True
            return False
        self.events.append(ev)
        return True

    def mark(self):
        """Index of the next event: pass it as `since` to see only newer ones."""
        while not self.eof and self._take(0):
            pass
        return len(self.events)

    def send(self, line):
        """Write one command; returns the monotonic time just after it was flushed."""
        try:
            self.proc.stdin.write(line + '\n')
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise BenchError(f'phone {self.number} is gone (exit {self.proc.poll()}); '
                             f'could not send {line!r}') from None
        return time.monotonic()

    def wait(self, match, timeout=WAIT_TIMEOUT, since=0, what='a matching event'):
        """First event at index >= since for which match(event) is true."""
        deadline = time.monotonic() + timeout
        i = since
        while True:
            while i < len(self.events):
                ev = self.events[i]
                i += 1
                if match(ev):
                    return ev
            left = deadline - time.monotonic()
            if self.eof or left <= 0:
                break
            self._take(left)
        why = f'exited ({self.proc.wait()})' if self.eof else f'timed out after {timeout} s'
        raise BenchError(f'phone {self.number}: {why} waiting for {what}\n' + self.recent(since))

    def recent(self, since=0, count=12):
        shown = self.events[max(since, len(self.events) - count):]
        lines = [f'  last events of {self.number} (from #{since}):']
        lines += ['    ' + json.dumps(public(ev)) for ev in shown] or ['    (none)']
        tail = self.stderr_tail(5)
        if tail:
            lines.append(f'  stderr tail of {self.number}:')
            lines += ['    ' + line for line in tail]
        return '\n'.join(lines)

    def stop(self, timeout=QUIT_TIMEOUT):
        """`quit`, close stdin, wait for the exit; returns the exit status."""
        if self.alive():
            with contextlib.suppress(BenchError):
                self.send('quit')
            with contextlib.suppress(OSError, ValueError):
                self.proc.stdin.close()
        rc = self.wait_exit(timeout)
        self.mark()
        return rc


def public(ev):
    """An event without the harness's own fields (for JSON output and messages)."""
    return {k: v for k, v in ev.items() if not k.startswith('_')}

# SPDX-License-Identifier: GPL-3.0-or-later
"""The process layer of Partyline's test harness and benchmarks (stdlib only).

partyline.py builds the TAP harness on it (tests, demo,
torture tests, the dialer's tests) and bench/benchlib.py the benchmarks;
neither has a copy of its own.

- `Group`: every process one run started, the folder of their logs, the
  environment they run with, a watchdog over them all, and the exception
  class its processes raise (a subclass of `ProcessError`).
- `Process`: a child with its stderr in a log file (`describe` and
  `stderr_tail` give it back as evidence).
- `Server`: partyline-server; its URL is read from its "listening on ws://…"
  line. A thread keeps copying stderr to the log for as long as the server
  runs: an undrained pipe stalls the server once it fills.
- `EventProcess`: a process that prints one JSON object per line on stdout
  and reads commands on stdin (partyline-cli --json, the dialer, the bench's
  farm and reference). One reader thread stamps each event with the monotonic
  time it was read (`_rx`) and queues it; `wait` takes events into `events`
  (numbering them: `_n`) and returns the first that matches a predicate.

Nothing waits by sleeping: every wait blocks on a queue or a process with a
deadline, which is a watchdog, never the synchronisation itself.
"""

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

# Slow runs (valgrind, sanitizers) scale every deadline by $PARTYLINE_TIMEOUT_MULTIPLIER
# (set by the meson test setups; bench/run does not set it).
TIMEOUT_MULTIPLIER = float(os.environ.get('PARTYLINE_TIMEOUT_MULTIPLIER') or 1)
WAIT_TIMEOUT = 15.0 * TIMEOUT_MULTIPLIER   # s for one event; a loopback call sets up in < 1 s
QUIT_TIMEOUT = 10.0 * TIMEOUT_MULTIPLIER   # s from `quit` (or SIGTERM) to the exit

NOT_JSON = '<not-json>'   # the `event` of a stdout line that is not a JSON event


class ProcessError(Exception):
    """Something waited for did not happen; the message has the evidence."""


def assert_loopback_only(runner, error=ProcessError):
    """Raises `error` unless this process's network namespace has only `lo`;
    `runner` is what sets such a namespace up."""
    names = sorted(name for _, name in socket.if_nameindex())
    if names != ['lo']:
        raise error(f'not in a loopback-only network namespace (interfaces: {names}); '
                    f'run through {runner}')


class Group:
    """The processes of one run, their log folder and environment, and a
    watchdog (started by `start_watchdog`) that kills them all and exits.

    Subclasses set `error` (what their processes raise) and `watchdog_status`
    (the exit status when the watchdog fires), and may say what was stuck in
    `watchdog_report`."""

    error = ProcessError
    watchdog_status = 1

    def __init__(self, logdir, env, watchdog_s):
        self.logdir, self.env = logdir, env
        self.processes = []
        self._watchdog = threading.Timer(watchdog_s, self._fire, args=(watchdog_s,))
        self._watchdog.daemon = True

    def start_watchdog(self):
        self._watchdog.start()

    def cancel_watchdog(self):
        self._watchdog.cancel()

    def watchdog_report(self, seconds):
        """Called when the watchdog fires, before the processes are killed."""
        print(f'watchdog: still running after {seconds:.0f} s', file=sys.stderr, flush=True)

    def _fire(self, seconds):
        self.watchdog_report(seconds)
        for p in self.processes:
            with contextlib.suppress(OSError):
                p.proc.kill()
        os._exit(self.watchdog_status)

    def stop_all(self, timeout=QUIT_TIMEOUT):
        """Stops every process still running, the newest first (a phone quits,
        a server gets SIGTERM), and kills one that does not stop in time.
        Returns the errors that made it kill."""
        errors = []
        for p in reversed(self.processes):
            if not p.alive():
                continue
            try:
                p.stop(timeout)
            except ProcessError as e:
                errors.append(e)
                p.kill()
        return errors


class Process:
    """A child process of a Group, with its stderr in `<logdir>/<name>.stderr.log`."""

    kind = 'process'

    def __init__(self, group, name, argv, env=None, **popen):
        self.group, self.name, self.argv = group, name, argv
        self.log_path = os.path.join(group.logdir, f'{name}.stderr.log')
        self._log = open(self.log_path, 'w')
        self._log.write('$ ' + ' '.join(argv) + '\n')
        self._log.flush()
        popen.setdefault('stderr', self._log)
        self.proc = subprocess.Popen(argv, env=env or group.env, **popen)
        group.processes.append(self)

    def alive(self):
        return self.proc.poll() is None

    def wait_exit(self, timeout=QUIT_TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise self.group.error(f'{self.kind} {self.name} did not exit within {timeout} s') \
                from None

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def stop(self, timeout=QUIT_TIMEOUT):
        """Ends the process the way its kind is ended; a plain one is killed.
        Returns the exit status."""
        self.kill()
        return self.proc.returncode

    def stderr_tail(self, lines=15):
        try:
            with open(self.log_path, errors='replace') as f:
                return [line.rstrip('\n') for line in f.readlines()[-lines:]]
        except OSError:
            return []

    # What says why a process died: a GLib warning or critical (fatal under
    # G_DEBUG=fatal-warnings), a sanitizer's first line. A sanitizer's stack
    # pushes these out of the tail, so `describe` gives them as well.
    CAUSE = re.compile(r'(CRITICAL|WARNING|ERROR) \*\*|ERROR: AddressSanitizer|'
                       r'ERROR: LeakSanitizer|runtime error:|SUMMARY: ')

    def stderr_causes(self, limit=6):
        try:
            with open(self.log_path, errors='replace') as f:
                return [line.rstrip('\n') for line in f if self.CAUSE.search(line)][:limit]
        except OSError:
            return []

    def describe(self, lines=25):
        """Its state, the lines of its stderr that say why it failed (if any),
        and the tail of its stderr, for a failure report."""
        rc = self.proc.poll()
        state = 'running' if rc is None else f'exited with {rc}'
        tail = self.stderr_tail(lines)
        causes = [line for line in self.stderr_causes() if line not in tail]
        return [f'{self.kind} {self.name} ({state}); stderr: {self.log_path}'] + \
               ['  ' + line for line in causes] + \
               (['  […]'] if causes else []) + \
               ['  ' + line for line in tail]


class Server(Process):
    """partyline-server started with `argv` (which has its --listen): `url` is
    the ws:// URL from its "listening on" line."""

    kind = 'server'

    def __init__(self, group, name, argv, timeout=WAIT_TIMEOUT):
        super().__init__(group, name, argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, errors='replace')
        lines = queue.Queue()
        found = threading.Event()
        threading.Thread(target=self._pump, args=(lines, found), daemon=True).start()
        self.url = None
        deadline = time.monotonic() + timeout
        while self.url is None:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise self.group.error(f'server printed no "listening on ws://…" line within '
                                       f'{timeout} s') from None
            if line is None:
                raise self.group.error(f'server exited ({self.proc.wait()}) before listening')
            m = re.search(r'listening on (ws://\S+)', line)
            if m:
                self.url = m.group(1)
        found.set()

    def _pump(self, lines, found):
        """Copies stderr to the log until the server exits; hands the lines
        over until the URL is found."""
        for line in self.proc.stderr:
            self._log.write(line)
            self._log.flush()
            if not found.is_set():
                lines.put(line)
        lines.put(None)

    def stop(self, timeout=QUIT_TIMEOUT):
        """SIGTERM, then wait; returns the exit status."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)


def _not_json(constant):
    """json.loads accepts NaN and ±Infinity; JSON (and other readers) do not."""
    raise ValueError(f'{constant} is not JSON')


def parse_event(line):
    """One stdout line as an event (a dict with an `event` field), or a
    NOT_JSON event that keeps the line and says why."""
    try:
        ev = json.loads(line, parse_constant=_not_json)
        if not isinstance(ev, dict) or 'event' not in ev:
            raise ValueError('no "event" field')
    except ValueError as e:
        ev = {'event': NOT_JSON, 'line': line, 'why': str(e)}
    return ev


def public(ev):
    """An event without the harness's own fields (`_rx`, `_n`): for JSON output
    and messages."""
    return {k: v for k, v in ev.items() if not k.startswith('_')}


class EventProcess(Process):
    """A process that prints one JSON object per line on stdout and reads
    commands on stdin, one per line.

    Subclasses may set `copy_stdout` (also write stdout to
    `<logdir>/<name>.stdout.log`), `strict_json` (a line that is not a JSON
    event is an error, raised by the wait that reaches it, instead of a
    NOT_JSON event), and how much `recent` shows."""

    kind = 'process'
    copy_stdout = False
    strict_json = False
    recent_events = 12     # the last events `recent` shows
    recent_stderr = 5      # and the last lines of stderr (0: none)

    def __init__(self, group, name, argv, env=None):
        super().__init__(group, name, argv, env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, errors='replace', bufsize=1)
        self.number = name     # how messages name it
        self.events = []       # every event taken from the queue, in order
        self.eof = False
        self._queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        copy = open(os.path.join(self.group.logdir, f'{self.name}.stdout.log'), 'w') \
            if self.copy_stdout else None
        with copy or contextlib.nullcontext():
            for line in self.proc.stdout:
                rx = time.monotonic()
                if copy:
                    copy.write(line)
                    copy.flush()
                line = line.strip()
                if line:
                    ev = parse_event(line)
                    ev['_rx'] = rx
                    self._queue.put(ev)
        self._queue.put(None)

    def _take(self, timeout):
        """Moves one event from the queue to `events`; False on timeout or EOF."""
        try:
            ev = self._queue.get(timeout=timeout)
        except queue.Empty:
            return False
        if ev is None:
            self.eof = True
            return False
        if self.strict_json and ev['event'] == NOT_JSON:
            raise self.group.error(f'{self.kind} {self.number} printed a line that is not a '
                                   f'JSON event ({ev["why"]}): {ev["line"]!r}')
        ev['_n'] = len(self.events)
        self.events.append(ev)
        return True

    def mark(self):
        """Index of the next event: pass it as `since` to see only newer ones."""
        while not self.eof and self._take(0):
            pass
        return len(self.events)

    def send(self, line):
        """Writes one command; returns the monotonic time just after it was flushed."""
        try:
            self.proc.stdin.write(line + '\n')
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise self.group.error(f'{self.kind} {self.number} is gone (exit '
                                   f'{self.proc.poll()}); could not send {line!r}') from None
        return time.monotonic()

    def wait(self, match, timeout=WAIT_TIMEOUT, since=0, what='a matching event'):
        """The first event at index >= since for which match(event) is true;
        waits for it. `what` names it in the error."""
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
        raise self.group.error(f'{self.kind} {self.number}: {why} waiting for {what}\n'
                               + self.recent(since))

    def collect_until(self, deadline):
        """Takes every event that arrives before the monotonic time `deadline`;
        returns the number of events. This is a measurement window (or a
        chosen delay), never a way to wait for something to happen: those
        waits are `wait`."""
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._take(left)
        return len(self.events)

    def request(self, command, event, timeout=WAIT_TIMEOUT):
        """Sends `command` and returns the next `event` or `error` event."""
        since = self.mark()
        self.send(command)
        return self.wait(lambda e: e['event'] in (event, 'error'), timeout, since,
                         what=f'"{event}" after {command!r}')

    def recent(self, since=0, count=None):
        """The last events from index `since` on (and the tail of stderr), for
        a failure message."""
        count = self.recent_events if count is None else count
        shown = self.events[max(since, len(self.events) - count):]
        lines = [f'last events of {self.number} (from #{since}):'] if shown else \
                [f'no events from {self.number} since #{since}']
        lines += ['  ' + json.dumps(public(ev)) for ev in shown]
        tail = self.stderr_tail(self.recent_stderr) if self.recent_stderr else []
        if tail:
            lines.append(f'stderr tail of {self.number}:')
            lines += ['  ' + line for line in tail]
        return '\n'.join(lines)

    def stop(self, timeout=QUIT_TIMEOUT):
        """`quit`, close stdin, wait for the exit; returns the exit status."""
        if self.alive():
            with contextlib.suppress(ProcessError):
                self.send('quit')
            with contextlib.suppress(OSError, ValueError):
                self.proc.stdin.close()
        rc = self.wait_exit(timeout)
        self.mark()
        return rc

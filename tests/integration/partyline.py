# SPDX-License-Identifier: GPL-3.0-or-later
"""A small harness for Partyline's integration tests and demo (stdlib only).

It runs the real `partyline-server` (on port 0) and real `partyline-cli`
phones as processes, through their command-line contract (cli.md):

    with Test('call', plan=2) as t:
        with t.step('server and two phones register'):
            server = t.server()
            alice = t.phone('1001', server, source='tone:440')
            bob = t.phone('1002', server, auto_answer=True)
        with t.step('alice dials bob'):
            alice.send('dial 1002')
            alice.wait_call('1002', 'active')
            bob.wait_tone('1001', 440)

Every phone has a reader thread that parses each stdout line (one JSON object
per line with --json) into a queue; `wait_event` takes events from that queue
into the phone's history and returns the first one that matches. Nothing
waits by sleeping: every wait blocks on a queue or a process with a deadline.
Each process's stderr goes to a log file, whose tail is printed on failure;
each phone's stdout is copied to another.

Output is TAP: `Test` prints the plan, one `ok`/`not ok` line per step, and
`Bail out!` when a step fails (later steps depend on it) or the watchdog
fires. Binaries come from $PARTYLINE_CLI and $PARTYLINE_SERVER.
"""

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

# Slow runs (valgrind, sanitizers) scale every deadline by $PARTYLINE_TIMEOUT_MULTIPLIER.
TIMEOUT_MULTIPLIER = float(os.environ.get('PARTYLINE_TIMEOUT_MULTIPLIER') or 1)
DEFAULT_TIMEOUT = 15.0 * TIMEOUT_MULTIPLIER   # seconds for one wait; a loopback call sets up in < 1 s
QUIT_TIMEOUT = 10.0 * TIMEOUT_MULTIPLIER      # quit -> exit


class Failure(Exception):
    """A check failed; the message says what was expected and what was seen."""


def binary(var):
    path = os.environ.get(var)
    if not path or not os.access(path, os.X_OK):
        raise Failure(f'${var} must name the built executable (got {path!r})')
    return path


def wrapper():
    """$PARTYLINE_WRAPPER (e.g. `valgrind --error-exitcode=1 …`): a command
    line that every server and phone runs under; empty by default."""
    return os.environ.get('PARTYLINE_WRAPPER', '').split()


def assert_loopback_only():
    """Fail unless this process's network namespace has only `lo`."""
    names = sorted(name for _, name in socket.if_nameindex())
    if names != ['lo']:
        raise Failure(f'not in a loopback-only network namespace (interfaces: {names}); '
                      'run through tests/netns-run')


class near:
    """A field matcher: a number within `tol` of `target` (default ±5 Hz)."""

    def __init__(self, target, tol=5.0):
        self.target, self.tol = target, tol

    def __call__(self, value):
        return isinstance(value, (int, float)) and abs(value - self.target) <= self.tol

    def __repr__(self):
        return f'{self.target}±{self.tol}'


def number(value):
    """A field matcher: any JSON number."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive(value):
    """A field matcher: a number > 0."""
    return number(value) and value > 0


class Match:
    """An event predicate: an event name and/or a callable, plus fields that
    must be equal (or satisfy a callable, such as `near(440)`)."""

    def __init__(self, what=None, **fields):
        self.what, self.fields = what, fields

    def __call__(self, ev):
        if callable(self.what):
            if not self.what(ev):
                return False
        elif self.what is not None and ev.get('event') != self.what:
            return False
        for key, want in self.fields.items():
            if key not in ev:
                return False
            if callable(want) and not want(ev[key]):
                return False
            if not callable(want) and ev[key] != want:
                return False
        return True

    @classmethod
    def of(cls, what, fields):
        """`what` itself if it is a Match already, else a Match of both."""
        return what if isinstance(what, Match) else cls(what, **fields)

    def __repr__(self):
        what = _show(self.what)
        fields = ', '.join(f'{k}={_show(v)}' for k, v in self.fields.items())
        return f'event {what}' + (f' with {fields}' if fields else '')


def _not_json(constant):
    """json.loads accepts NaN and ±Infinity; JSON (and other readers) do not."""
    raise ValueError(f'{constant} is not JSON')


def _show(value):
    """A matcher as it reads in a failure message: functions by name."""
    if callable(value) and hasattr(value, '__name__'):
        return f'<{value.__name__}>'
    return repr(value)


def _tail(path, lines=25):
    try:
        with open(path, errors='replace') as f:
            return f.readlines()[-lines:]
    except OSError:
        return []


class Process:
    """A child process with its stderr in a log file."""

    kind = 'process'

    def __init__(self, test, name, argv, **popen):
        self.test, self.name, self.argv = test, name, argv
        self.log_path = os.path.join(test.logdir, f'{name}.stderr.log')
        self._log = open(self.log_path, 'w')
        self._log.write('$ ' + ' '.join(argv) + '\n')
        self._log.flush()
        popen.setdefault('stderr', self._log)
        self.proc = subprocess.Popen(argv, env=test.env, **popen)
        test.processes.append(self)

    def alive(self):
        return self.proc.poll() is None

    def wait_exit(self, timeout=QUIT_TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f'{self.kind} {self.name} did not exit within {timeout} s') from None

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def describe(self):
        rc = self.proc.poll()
        state = 'running' if rc is None else f'exited with {rc}'
        return [f'{self.kind} {self.name} ({state}); stderr: {self.log_path}'] + \
               ['  ' + line.rstrip('\n') for line in _tail(self.log_path)]


class Server(Process):
    kind = 'server'

    def __init__(self, test, token=None, name='server', timeout=DEFAULT_TIMEOUT,
                 listen='127.0.0.1:0'):
        argv = wrapper() + [binary('PARTYLINE_SERVER'), '--listen', listen]
        if token is not None:
            argv += ['--token', token]
        super().__init__(test, name, argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines = queue.Queue()
        threading.Thread(target=self._pump, args=(lines,), daemon=True).start()
        self.url = None
        deadline = time.monotonic() + timeout
        while self.url is None:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise Failure(f'server printed no "listening on ws://…" line within {timeout} s') from None
            if line is None:
                raise Failure(f'server exited ({self.proc.wait()}) before listening')
            m = re.search(r'listening on (ws://\S+)', line)
            if m:
                self.url = m.group(1)

    def _pump(self, lines):
        """Copy stderr to the log; hand lines over until the URL is found."""
        for line in self.proc.stderr:
            self._log.write(line)
            self._log.flush()
            lines.put(line)
        lines.put(None)

    def stop(self, timeout=QUIT_TIMEOUT):
        """SIGTERM, then wait; returns the exit status."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)


class Phone(Process):
    kind = 'phone'

    def __init__(self, test, number, server, source='tone:440', sink='fake',
                 analyze=True, auto_answer=False, args=(), wait_registered=True):
        url = server.url if isinstance(server, Server) else server
        argv = wrapper() + [binary('PARTYLINE_CLI'), '--json', '--server', url,
                            '--number', number, '--source', source, '--sink', sink,
                            '--ice-address', '127.0.0.1']
        if analyze:
            argv.append('--analyze')
        if auto_answer:
            argv.append('--auto-answer')
        argv += list(args)
        super().__init__(test, number, argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True, errors='replace', bufsize=1)
        self.number = number
        self.events = []          # every event taken from the queue, in order
        self.eof = False
        self._queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        if wait_registered:
            self.wait_event('registered', number=number)

    def _read(self):
        with open(os.path.join(self.test.logdir, f'{self.name}.stdout.log'), 'w') as copy:
            for line in self.proc.stdout:
                copy.write(line)
                copy.flush()
                self._parse(line.strip())
        self._queue.put(None)

    def _parse(self, line):
        if line:
            try:
                ev = json.loads(line, parse_constant=_not_json)
                if not isinstance(ev, dict) or 'event' not in ev:
                    raise ValueError('no "event" field')
            except ValueError as e:
                ev = {'event': '<not-json>', 'line': line, 'why': str(e)}
            self._queue.put(ev)

    def _take(self, timeout):
        """Move one event from the queue to the history; False on timeout or EOF."""
        try:
            ev = self._queue.get(timeout=timeout)
        except queue.Empty:
            return False
        if ev is None:
            self.eof = True
            return False
        if ev['event'] == '<not-json>':
            raise Failure(f'phone {self.number} printed a line that is not a JSON event '
                          f'({ev["why"]}): {ev["line"]!r}')
        ev['_n'] = len(self.events)
        self.events.append(ev)
        return True

    def mark(self):
        """Index of the next event: pass it as `since` to see only newer ones."""
        while not self.eof and self._take(0):
            pass
        return len(self.events)

    def send(self, line):
        self.test.diag(f'{self.number} <- {line}')
        try:
            self.proc.stdin.write(line + '\n')
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise Failure(f'phone {self.number} is gone (exit {self.proc.poll()}); '
                          f'could not send {line!r}') from None

    def find(self, what=None, since=0, **fields):
        """Events already received that match, oldest first."""
        self.mark()
        match = Match.of(what, fields)
        return [ev for ev in self.events[since:] if match(ev)]

    def wait_event(self, what=None, timeout=DEFAULT_TIMEOUT, since=0, **fields):
        """The first event at index >= since that matches; waits for it.

        `what` is an event name, a callable on the event, or a Match; each
        keyword is a field that must be equal, or satisfy a callable."""
        match = Match.of(what, fields)
        deadline = time.monotonic() + timeout
        i = since
        while True:
            for ev in self.events[i:]:
                if match(ev):
                    return ev
            i = max(i, len(self.events))
            left = deadline - time.monotonic()
            if self.eof or left <= 0:
                break
            self._take(left)
        why = f'phone exited ({self.proc.wait()})' if self.eof else f'timed out after {timeout} s'
        raise Failure(f'phone {self.number}: {why} waiting for {match!r}\n'
                      + self.recent(since))

    def idle(self, seconds):
        """Take events for `seconds`, then return: a timed wait on the event
        stream (a test's input, such as a random delay), never synchronisation.
        Returns the events taken."""
        start = len(self.events)
        deadline = time.monotonic() + seconds
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._take(left)
        return self.events[start:]

    def wait_call(self, peer, state, timeout=DEFAULT_TIMEOUT, since=0, **fields):
        """The `call` event of the call with `peer` entering `state`."""
        return self.wait_event('call', timeout=timeout, since=since, peer=peer, state=state,
                               **fields)

    def recent(self, since=0, count=15):
        shown = self.events[max(since, len(self.events) - count):]
        lines = [f'last events of {self.number} (from #{since}):'] if shown else \
                [f'no events from {self.number} since #{since}']
        for ev in shown:
            lines.append('  ' + json.dumps({k: v for k, v in ev.items() if k != '_n'}))
        return '\n'.join(lines)

    def wait_tone(self, peer, freq, timeout=DEFAULT_TIMEOUT, since=0, tol=5.0):
        """Wait until two consecutive `media` events of the call with `peer`
        report `freq` ± tol Hz; returns the second one."""
        hit = None
        deadline = time.monotonic() + timeout
        i = since
        while True:
            try:
                ev = self.wait_event('media', since=i, peer=peer,
                                     timeout=max(0.0, deadline - time.monotonic()))
            except Failure:
                heard = [e.get('frequency_hz') for e in self.find('media', since=since, peer=peer)]
                raise Failure(f'phone {self.number} did not hear {freq}±{tol} Hz from {peer} '
                              f'twice in a row within {timeout} s; heard {heard}\n'
                              + self.recent(since)) from None
            i = ev['_n'] + 1
            if not near(freq, tol)(ev.get('frequency_hz')):
                hit = None
            elif hit is None:
                hit = ev
            else:
                return ev

    def sync(self, timeout=DEFAULT_TIMEOUT):
        """Round trip through the command loop: an unknown command's `error`
        comes after every event the phone printed before reading it."""
        token = f'sync-{len(self.events)}-{time.monotonic_ns()}'
        since = self.mark()
        self.send(token)
        return self.wait_event('error', since=since, timeout=timeout,
                               command=lambda c: isinstance(c, str) and token in c)

    def quit(self, timeout=QUIT_TIMEOUT):
        """`quit`, close stdin, wait for the exit; returns the exit status."""
        if self.alive():
            with contextlib.suppress(Failure):
                self.send('quit')
            with contextlib.suppress(OSError, ValueError):
                self.proc.stdin.close()
        rc = self.wait_exit(timeout)
        self.mark()
        return rc


def quit_all(*phones):
    """`quit` each phone in turn; fails unless every one exits 0."""
    statuses = {phone.number: phone.quit() for phone in phones}
    if set(statuses.values()) != {0}:
        raise Failure(f'exit statuses {statuses}')


def wait_any(pairs, what=None, timeout=DEFAULT_TIMEOUT, **fields):
    """Wait until one of several phones has a matching event.

    `pairs` is a list of (phone, since); returns (phone, event)."""
    match = Match.of(what, fields)
    deadline = time.monotonic() + timeout
    while True:
        for phone, since in pairs:
            hits = phone.find(match, since=since)
            if hits:
                return phone, hits[0]
        if time.monotonic() >= deadline or all(phone.eof for phone, _ in pairs):
            raise Failure(f'no phone got {match!r} within {timeout} s\n'
                          + '\n'.join(phone.recent(since) for phone, since in pairs))
        for phone, _ in pairs:    # block on each queue in turn, briefly
            if not phone.eof:
                phone._take(0.05)


class Test:
    """A TAP test: plan, steps, process bookkeeping, a watchdog, clean shutdown."""

    def __init__(self, name, plan, watchdog=120.0, logdir=None, loopback_only=True):
        # A loopback-only test has one more check, made on entering.
        self.name, self.plan = name, plan + (1 if loopback_only else 0)
        self.count = 0
        self.failed = False
        self.processes = []
        self.logdir = os.path.join(logdir or os.environ.get('PARTYLINE_TEST_LOGDIR', 'logs'), name)
        shutil.rmtree(self.logdir, ignore_errors=True)
        os.makedirs(self.logdir)
        self.env = dict(os.environ)
        self.env['GST_DEBUG_DUMP_DOT_DIR'] = os.path.join(self.logdir, 'dot')
        os.makedirs(self.env['GST_DEBUG_DUMP_DOT_DIR'])
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._watchdog = threading.Timer(watchdog, self._fire, args=(watchdog,))
        self._watchdog.daemon = True
        self.loopback_only = loopback_only

    # TAP output -----------------------------------------------------------
    def _print(self, text, also_stderr=False):
        with self._lock:
            print(text, flush=True)
            if also_stderr:   # meson --print-errorlogs shows stderr only
                print(text, file=sys.stderr, flush=True)

    def diag(self, text, also_stderr=False):
        self._print('\n'.join('# ' + line for line in str(text).splitlines()), also_stderr)

    def _result(self, ok, name, diag=None):
        self.count += 1
        if not ok:
            self.failed = True
        self._print(f'{"ok" if ok else "not ok"} {self.count} - {name}', not ok)
        if diag:
            self.diag(diag, not ok)

    def check(self, cond, name, diag=None):
        """A non-fatal check: one TAP line."""
        self._result(bool(cond), name, None if cond else diag)
        return bool(cond)

    @contextlib.contextmanager
    def step(self, name, fatal=True):
        """A check: `ok` if the block runs through, otherwise `not ok` with
        the reason and the processes' logs, then `Bail out!` unless the
        step is not fatal (later steps do not depend on it)."""
        t0 = time.monotonic()
        try:
            yield
        except _Bail:
            raise
        except Exception as e:  # noqa: BLE001 — any error fails the step
            msg = str(e) if isinstance(e, Failure) else f'{type(e).__name__}: {e}'
            self._result(False, name, msg + '\n' + self._process_report())
            if fatal:
                raise _Bail() from None
            return
        self._result(True, f'{name} ({(time.monotonic() - t0) * 1000:.0f} ms)')

    def _process_report(self):
        lines = []
        for p in self.processes:
            lines += p.describe()
        return '\n'.join(lines)

    # processes -------------------------------------------------------------
    def server(self, **kw):
        return Server(self, **kw)

    def phone(self, number, server, **kw):
        return Phone(self, number, server, **kw)

    def run(self, argv, timeout=DEFAULT_TIMEOUT, cwd=None):
        """Run a short-lived command; returns (status, stdout, stderr)."""
        try:
            r = subprocess.run(argv, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=timeout, cwd=cwd)
        except subprocess.TimeoutExpired:
            raise Failure(f'{argv} did not exit within {timeout} s') from None
        return r.returncode, r.stdout, r.stderr

    def shutdown(self):
        """Quit every phone still running (kill it if quit hangs), stop the servers."""
        for p in reversed(self.processes):
            if not p.alive():
                continue
            try:
                if isinstance(p, Phone):
                    p.quit(timeout=5)
                elif isinstance(p, Server):
                    p.stop(timeout=5)
                else:
                    p.kill()
            except Failure as e:
                self.diag(f'{e}; killing it')
                p.kill()

    # lifecycle ----------------------------------------------------------------
    def __enter__(self):
        self._print(f'1..{self.plan}')
        self._watchdog.start()
        if self.loopback_only:
            try:
                assert_loopback_only()
            except Failure as e:
                self._result(False, 'only the loopback interface is present', str(e))
                self.__exit__(_Bail, None, None)
            self._result(True, 'only the loopback interface is present')
        return self

    def __exit__(self, kind, exc, tb):
        self._watchdog.cancel()
        if kind is not None and kind is not _Bail:
            msg = str(exc) if kind is Failure else f'{kind.__name__}: {exc}'
            self._result(False, 'harness', msg + '\n' + self._process_report())
        self.shutdown()
        if self.count != self.plan:
            self._print(f'Bail out! {self.count} of {self.plan} planned checks ran', True)
            self.failed = True
        self.diag(f'{self.name}: {"FAILED" if self.failed else "passed"} in '
                  f'{time.monotonic() - self._started:.1f} s; logs in {self.logdir}')
        sys.exit(1 if self.failed else 0)

    def _fire(self, seconds):
        self._print(f'Bail out! watchdog: {self.name} still running after {seconds:.0f} s', True)
        self.diag(self._process_report(), True)
        for p in self.processes:
            if isinstance(p, Phone):
                self.diag(p.recent(), True)
            with contextlib.suppress(OSError):
                p.proc.kill()
        os._exit(1)


class _Bail(Exception):
    """A step failed and was reported; stop the test."""

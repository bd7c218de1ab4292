# SPDX-License-Identifier: GPL-3.0-or-later
"""A small harness for Partyline's integration tests and demo (stdlib only).

It runs the real `partyline-server` (on port 0) and real `partyline-cli`
phones as processes, through their command-line contract (docs/cli.md):

    with Test('call', plan=2) as t:
        with t.step('server and two phones register'):
            server = t.server()
            alice = t.phone('1001', server, source='tone:440')
            bob = t.phone('1002', server, auto_answer=True)
        with t.step('alice dials bob'):
            alice.send('dial 1002')
            alice.wait_call('1002', 'active')
            bob.wait_tone('1001', 440)

The processes themselves are plproc.py's (shared with bench/benchlib.py):
every phone has a reader thread that parses each stdout line (one JSON object
per line with --json) into a queue; `wait_event` takes events from that queue
into the phone's history and returns the first one that matches. Nothing
waits by sleeping: every wait blocks on a queue or a process with a deadline.
Each process's stderr goes to a log file, whose tail is printed on failure;
each phone's stdout is copied to another. This module adds what makes it a
test: TAP, `Failure`, matchers (`Match`, `near`), the phone's own waits
(`wait_call`, `wait_tone`, `sync`) and the binaries from the environment.

Output is TAP: `Test` prints the plan, one `ok`/`not ok` line per step, and
`Bail out!` when a step fails (later steps depend on it) or the watchdog
fires. Binaries come from $PARTYLINE_CLI and $PARTYLINE_SERVER.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time

import plproc

Process = plproc.Process   # a child with its stderr in a log (dialer.py's Display)
TIMEOUT_MULTIPLIER = plproc.TIMEOUT_MULTIPLIER   # $PARTYLINE_TIMEOUT_MULTIPLIER: slow runs
DEFAULT_TIMEOUT = plproc.WAIT_TIMEOUT            # seconds for one wait
QUIT_TIMEOUT = plproc.QUIT_TIMEOUT               # quit -> exit
# The server's handshake and registration deadlines and the phone's
# --register-timeout (10 s by default), scaled like every wait here.
REGISTER_DEADLINE = str(round(10 * TIMEOUT_MULTIPLIER))


class Failure(plproc.ProcessError):
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


def _show(value):
    """A matcher as it reads in a failure message: functions by name."""
    if callable(value) and hasattr(value, '__name__'):
        return f'<{value.__name__}>'
    return repr(value)


class EventProcess(plproc.EventProcess):
    """A process that prints JSON events (plproc.EventProcess), with the
    harness's waits: events named and matched by field (`find`,
    `wait_event`), `idle`, `quit`. Every command sent is logged as a TAP
    comment, stdout is copied to `<logdir>/<name>.stdout.log`, and a line
    that is not a JSON event fails the wait that reaches it."""

    copy_stdout = True
    strict_json = True
    recent_events = 15
    recent_stderr = 0      # a failed step's report has every process's stderr

    def send(self, line):
        self.group.diag(f'{self.number} <- {line}')
        return super().send(line)

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
        return self.wait(match, timeout, since, what=repr(match))

    def idle(self, seconds):
        """Take events for `seconds`, then return: a timed wait on the event
        stream (a test's input, such as a random delay), never synchronisation.
        Returns the events taken."""
        start = len(self.events)
        self.collect_until(time.monotonic() + seconds)
        return self.events[start:]

    def quit(self, timeout=QUIT_TIMEOUT):
        """Ends the process (`stop`: for a phone, `quit`, close stdin, wait for
        the exit); returns the exit status."""
        return self.stop(timeout)


class Server(plproc.Server):
    """$PARTYLINE_SERVER on `listen` (port 0: one it picks), under the wrapper."""

    def __init__(self, test, token=None, name='server', timeout=DEFAULT_TIMEOUT,
                 listen='127.0.0.1:0'):
        argv = wrapper() + [binary('PARTYLINE_SERVER'), '--listen', listen,
                            '--handshake-timeout', REGISTER_DEADLINE,
                            '--register-timeout', REGISTER_DEADLINE]
        if token is not None:
            argv += ['--token', token]
        super().__init__(test, name, argv, timeout)


class Phone(EventProcess):
    """$PARTYLINE_CLI --json, registered as `number` (unless not wait_registered)."""

    kind = 'phone'

    def __init__(self, test, number, server, source='tone:440', sink='fake',
                 analyze=True, auto_answer=False, args=(), wait_registered=True):
        url = server.url if isinstance(server, plproc.Server) else server
        argv = wrapper() + [binary('PARTYLINE_CLI'), '--json', '--server', url,
                            '--number', number, '--source', source, '--sink', sink,
                            '--ice-address', '127.0.0.1',
                            '--register-timeout', REGISTER_DEADLINE]
        if analyze:
            argv.append('--analyze')
        if auto_answer:
            argv.append('--auto-answer')
        argv += list(args)
        super().__init__(test, number, argv)
        self.number = number
        if wait_registered:
            self.wait_event('registered', number=number)

    def wait_call(self, peer, state, timeout=DEFAULT_TIMEOUT, since=0, **fields):
        """The `call` event of the call with `peer` entering `state`."""
        return self.wait_event('call', timeout=timeout, since=since, peer=peer, state=state,
                               **fields)

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


class Test(plproc.Group):
    """A TAP test: plan, steps, and (plproc.Group) its processes, whose errors
    are Failures, their logs in `logdir`, a watchdog, clean shutdown."""

    error = Failure

    def __init__(self, name, plan, watchdog=120.0, logdir=None, loopback_only=True):
        # A loopback-only test has one more check, made on entering.
        self.name, self.plan = name, plan + (1 if loopback_only else 0)
        self.count = 0
        self.failed = False
        logdir = os.path.join(logdir or os.environ.get('PARTYLINE_TEST_LOGDIR', 'logs'), name)
        shutil.rmtree(logdir, ignore_errors=True)
        os.makedirs(logdir)
        env = dict(os.environ)
        env['GST_DEBUG_DUMP_DOT_DIR'] = os.path.join(logdir, 'dot')
        os.makedirs(env['GST_DEBUG_DUMP_DOT_DIR'])
        super().__init__(logdir, env, watchdog)
        self._lock = threading.Lock()
        self._started = time.monotonic()
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
        for e in self.stop_all(timeout=5):
            self.diag(f'{e}; killed it')

    # lifecycle ----------------------------------------------------------------
    def __enter__(self):
        self._print(f'1..{self.plan}')
        self.start_watchdog()
        if self.loopback_only:
            try:
                plproc.assert_loopback_only('tests/netns-run', Failure)
            except Failure as e:
                self._result(False, 'only the loopback interface is present', str(e))
                self.__exit__(_Bail, None, None)
            self._result(True, 'only the loopback interface is present')
        return self

    def __exit__(self, kind, exc, tb):
        self.cancel_watchdog()
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

    def watchdog_report(self, seconds):
        self._print(f'Bail out! watchdog: {self.name} still running after {seconds:.0f} s', True)
        self.diag(self._process_report(), True)
        for p in self.processes:
            if isinstance(p, plproc.EventProcess):
                self.diag(p.recent(), True)


class _Bail(Exception):
    """A step failed and was reported; stop the test."""

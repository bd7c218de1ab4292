# SPDX-License-Identifier: GPL-3.0-or-later
"""The desktop dialer under test, for tests/gtk/test-*.py.

Builds on partyline.py (the real server and partyline-cli phones as
processes, TAP, the watchdog) and adds:

- `Display`: a private Xvfb, started with -displayfd (it tells us when it is
  ready: no sleeping);
- `Notifications`: fake-notifications.py (beside this file), which owns
  org.freedesktop.Notifications on the test's session bus and reports every
  notification as a JSON line;
- `Dialer`: `partyline --json` (events are what the widgets show: a row's
  subtitle, a level bar's value, the account label), with its settings in a
  GSettings keyfile the test writes (and may rewrite: GSettings notices), and
  `action()` = `gapplication action org.partyline.Partyline …`, as a user
  or script would drive it from outside.

Every test runs inside `dbus-run-session` and tests/netns-run (see
tests/gtk/meson.build), so the session bus and the network are the test's own.
"""

import os
import select
import subprocess
import sys
import time

from partyline import (DEFAULT_TIMEOUT, QUIT_TIMEOUT, EventProcess, Failure,  # noqa: F401
                       Process, Server, Test, binary, near, number, positive, wait_any)

APP_ID = 'org.partyline.Partyline'


class Display(Process):
    """Xvfb on a display it picks itself."""

    kind = 'display'

    def __init__(self, test, size='1024x800x24', timeout=DEFAULT_TIMEOUT):
        r, w = os.pipe()
        argv = ['Xvfb', '-displayfd', str(w), '-screen', '0', size, '-nolisten', 'tcp',
                '-noreset']
        super().__init__(test, 'xvfb', argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, pass_fds=(w,))
        os.close(w)
        # Xvfb writes the number, then a newline: read both before closing
        # (a write to a closed pipe kills it).
        data = b''
        deadline = time.monotonic() + timeout
        while not data.endswith(b'\n'):
            ready, _, _ = select.select([r], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(r, 64) if ready else b''
            if not chunk:
                break
            data += chunk
        os.close(r)
        data = data.decode().strip()
        if not data.isdigit():
            raise Failure(f'Xvfb did not report a display within {timeout} s')
        self.display = ':' + data
        test.env['DISPLAY'] = self.display

    def screenshot(self, path, window_only=True):
        """The screen (trimmed to the window) as a PNG; returns its pixel
        standard deviation (0 for a blank image, about 0.3 for a window)."""
        raw = path + '.raw.png'
        status, out, err = self.group.run(['import', '-display', self.display, '-window', 'root',
                                           raw])
        if status != 0:
            raise Failure(f'import failed ({status}): {err}')
        # The root window is black around ours: trim it away.
        argv = ['convert', raw] + (['-trim', '+repage'] if window_only else []) + [path]
        status, out, err = self.group.run(argv)
        if status != 0:
            raise Failure(f'convert failed ({status}): {err}')
        os.unlink(raw)
        status, out, err = self.group.run(['convert', path, '-colorspace', 'gray', '-format',
                                           '%[fx:standard_deviation] %w %h', 'info:'])
        if status != 0:
            raise Failure(f'convert could not measure {path}: {err}')
        stddev, width, height = out.split()
        return float(stddev), int(width), int(height)


class JsonProcess(EventProcess):
    """A process that prints JSON events on stdout, read as a Phone's are;
    it ends on SIGTERM."""

    def __init__(self, test, name, argv, kind='process'):
        self.kind = kind
        super().__init__(test, name, argv)

    def stop(self, timeout=QUIT_TIMEOUT):
        if self.alive():
            self.proc.terminate()
        rc = self.wait_exit(timeout)
        self.mark()
        return rc


def python_with_gi():
    """An interpreter that has PyGObject (Debian's python3-gi)."""
    for python in (sys.executable, '/usr/bin/python3'):
        if subprocess.run([python, '-c', 'import gi'], capture_output=True).returncode == 0:
            return python
    raise Failure('no Python with PyGObject (install python3-gi)')


class Notifications(JsonProcess):
    def __init__(self, test):
        super().__init__(test, 'notifications',
                         [python_with_gi(), os.path.join(os.path.dirname(__file__),
                                                         'fake-notifications.py')],
                         kind='notification server')
        self.wait_event('ready')


def keyfile_value(value):
    """A GVariant text for a keyfile value."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(keyfile_value(v) for v in value) + ']'
    return "'" + str(value).replace('\\', '\\\\').replace("'", "\\'") + "'"


class Dialer(JsonProcess):
    """`partyline --json` with its own settings."""

    def __init__(self, test, number, server, source='tone:330', sink='fake', extra_env=None,
                 args=(), wait_registered=True, **settings):
        self.config_dir = os.path.join(test.logdir, 'config')
        self.settings = {
            'server-url': server.url if isinstance(server, Server) else server,
            'number': number,
            'audio-source': source,
            'audio-sink': sink,
            # Loopback-only host candidates, as the phones' --ice-address.
            'ice-addresses': ['127.0.0.1'],
        }
        self.settings.update({k.replace('_', '-'): v for k, v in settings.items()})
        self.write_settings()
        test.env.update({
            'XDG_CONFIG_HOME': self.config_dir,
            'GSETTINGS_BACKEND': 'keyfile',
            'GDK_BACKEND': 'x11',
            'GSK_RENDERER': 'cairo',        # no GL under Xvfb
            'GTK_A11Y': 'none',
            'NO_AT_BRIDGE': '1',
            'G_DEBUG': 'fatal-warnings',
        })
        test.env.update(extra_env or {})
        super().__init__(test, 'dialer', [binary('PARTYLINE_GTK'), '--json', *args],
                         kind='dialer')
        if wait_registered:
            self.wait_event('account', state='registered')

    def write_settings(self, wait=True, **changes):
        """Writes the keyfile; a running dialer picks the change up, and
        (`wait`) reports the settings it applied."""
        since = self.mark() if hasattr(self, 'events') else 0
        self.settings.update({k.replace('_', '-'): v for k, v in changes.items()})
        folder = os.path.join(self.config_dir, 'glib-2.0', 'settings')
        os.makedirs(folder, exist_ok=True)
        text = '[org/partyline/Partyline]\n' + ''.join(
            f'{key}={keyfile_value(value)}\n' for key, value in self.settings.items())
        tmp = os.path.join(folder, 'keyfile.tmp')
        with open(tmp, 'w') as f:
            f.write(text)
        os.replace(tmp, os.path.join(folder, 'keyfile'))
        if wait and hasattr(self, 'events'):
            want = {k.replace('-', '_'): v for k, v in changes.items()
                    if k.replace('_', '-') in ('server-url', 'number', 'audio-source', 'audio-sink')}
            self.wait_event('settings', since=since, **want)

    def action(self, name, parameter=None):
        """`gapplication action org.partyline.Partyline NAME ['PARAMETER']`."""
        argv = ['gapplication', 'action', APP_ID, name]
        if parameter is not None:
            argv.append(keyfile_value(parameter))
        self.group.diag(f'dialer <- action {name}' + (f' {parameter!r}' if parameter else ''))
        status, out, err = self.group.run(argv)
        if status != 0:
            raise Failure(f'{" ".join(argv)} failed ({status}): {err.strip()}')

    def sync(self, timeout=DEFAULT_TIMEOUT):
        """A `report` event: it comes after everything the dialer did before
        handling the action. Returns it."""
        since = self.mark()
        self.action('report', '')
        return self.wait_event('report', since=since, timeout=timeout)

    def wait_row(self, peer, state, timeout=DEFAULT_TIMEOUT, since=0, **fields):
        return self.wait_event('row', timeout=timeout, since=since, peer=peer, state=state,
                               **fields)

    def stop(self, timeout=QUIT_TIMEOUT):
        """app.quit: every call hung up, then the process exits."""
        if self.alive():
            try:
                self.action('quit')
            except Failure as e:
                self.group.diag(str(e))
                self.proc.terminate()
        rc = self.wait_exit(timeout)
        self.mark()
        return rc



def listen_address(url):
    """'ws://127.0.0.1:4242/ws' → '127.0.0.1:4242'."""
    return url.split('://', 1)[1].split('/', 1)[0]

# SPDX-License-Identifier: GPL-3.0-or-later
"""What the security tests share: the integration harness (partyline.py)
and `AioPeer`, aiopeer.py (an aiortc phone, beside this file) run as a
process with the harness's waits. aiortc is Debian's python3-aiortc, so aiopeer.py runs under
/usr/bin/python3 whatever python runs the test ($PARTYLINE_AIORTC_PYTHON
overrides it)."""

import os
import re

import partyline
from partyline import DEFAULT_TIMEOUT, Failure, Match, Test, near, positive, quit_all  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))

AIORTC_PYTHON = os.environ.get('PARTYLINE_AIORTC_PYTHON', '/usr/bin/python3')


class AioPeer(partyline.EventProcess):
    """tests/lib/aiopeer.py registered as `number` on `server`."""

    kind = 'aiopeer'

    def __init__(self, test, number, server, mangle=None, auto_answer=False, tone=880):
        argv = [AIORTC_PYTHON, os.path.join(HERE, 'aiopeer.py'), '--server', server.url,
                '--number', number, '--tone', str(tone)]
        if mangle:
            argv += ['--mangle', mangle]
        if auto_answer:
            argv.append('--auto-answer')
        super().__init__(test, f'aio-{number}', argv)
        self.number = number
        self.wait_event('registered', number=number)

    def wait_call(self, peer, state, timeout=DEFAULT_TIMEOUT, since=0, **fields):
        return self.wait_event('call', timeout=timeout, since=since, peer=peer, state=state,
                               **fields)


def says(pattern):
    """A field matcher: a string that matches the regular expression."""
    def match(value):
        return isinstance(value, str) and re.search(pattern, value) is not None
    match.__name__ = f'says {pattern!r}'
    return match

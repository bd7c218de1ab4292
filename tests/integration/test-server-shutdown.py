#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The server gets SIGTERM in the middle of a call: it hangs the call up
with reason disconnected and exits 0; both phones report the call ended and
`unregistered`, keep running, and exit 0 on `quit`."""

from partyline import Test, quit_all

with Test('server-shutdown', plan=6) as t:
    with t.step('server and two phones register'):
        server = t.server()
        alice = t.phone('1001', server, source='tone:440')
        bob = t.phone('1002', server, source='tone:660', auto_answer=True)

    with t.step('alice dials bob: both calls active, audio flowing'):
        alice.send('dial 1002')
        alice.wait_call('1002', 'active')
        bob.wait_call('1001', 'active')
        alice.wait_event('audio', peer='1002')
        bob.wait_event('audio', peer='1001')

    with t.step('SIGTERM: the server exits 0'):
        since_a, since_b = alice.mark(), bob.mark()
        rc = server.stop()
        assert rc == 0, f'server exit status {rc}'

    with t.step('both calls end with reason disconnected'):
        alice.wait_call('1002', 'ended', since=since_a, reason='disconnected')
        bob.wait_call('1001', 'ended', since=since_b, reason='disconnected')

    with t.step('both phones report unregistered and still answer commands'):
        alice.wait_event('unregistered', since=since_a)
        bob.wait_event('unregistered', since=since_b)
        alice.sync()
        bob.sync()

    with t.step('quit: both phones exit 0'):
        quit_all(alice, bob)

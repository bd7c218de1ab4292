#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The callee hangs up an active call: both calls end with reason normal and
a duration, and the caller can call again afterwards."""

from partyline import Test, positive, quit_all

with Test('remote-hangup', plan=5) as t:
    with t.step('server and two phones register'):
        server = t.server()
        alice = t.phone('1001', server, source='tone:440')
        bob = t.phone('1002', server, source='tone:660', auto_answer=True)

    with t.step('alice dials bob: both calls active, audio flowing'):
        alice.send('dial 1002')
        alice.wait_call('1002', 'active')
        bob.wait_call('1001', 'active')
        alice.wait_event('audio', peer='1002')

    with t.step('bob hangs up: both calls end with reason normal'):
        since_a, since_b = alice.mark(), bob.mark()
        bob.send('hangup 1001')
        alice.wait_call('1002', 'ended', since=since_a, reason='normal', duration_ms=positive)
        bob.wait_call('1001', 'ended', since=since_b, reason='normal', duration_ms=positive)

    with t.step('alice calls bob again: a new call becomes active'):
        since_a = alice.mark()
        alice.send('dial 1002')
        again = alice.wait_call('1002', 'active', since=since_a)
        first = alice.find('call', peer='1002', state='active')[0]
        assert again['call_id'] != first['call_id'], 'the second call reused the first call_id'

    with t.step('quit: both phones exit 0'):
        quit_all(alice, bob)

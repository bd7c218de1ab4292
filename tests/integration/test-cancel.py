#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The caller cancels before the answer: the callee (no auto-answer) sees the
call as `incoming`, the caller hangs up, and the callee's call ends with
reason normal without ever becoming active. Answering it afterwards is an
error."""

from partyline import Test, quit_all

with Test('cancel', plan=5) as t:
    with t.step('server and two phones register'):
        server = t.server()
        alice = t.phone('1001', server, source='tone:440')
        bob = t.phone('1002', server, source='tone:660')

    with t.step('alice dials bob: bob sees an incoming call'):
        alice.send('dial 1002')
        bob.wait_call('1001', 'incoming', direction='incoming')

    with t.step('alice hangs up before the answer: both calls end, bob\'s with reason normal'):
        alice.send('hangup 1002')
        alice.wait_call('1002', 'ended')
        bob.wait_call('1001', 'ended', reason='normal')
        active = alice.find('call', state='active') + bob.find('call', state='active')
        assert not active, f'a cancelled call became active: {active}'

    with t.step('answering the cancelled call is an error event'):
        since = bob.mark()
        bob.send('answer 1001')
        bob.wait_event('error', since=since)

    with t.step('quit: both phones exit 0'):
        quit_all(alice, bob)

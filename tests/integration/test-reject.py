#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The callee rejects: it sees the call as `incoming`, `reject N` ends the
caller's call with reason `rejected`, and neither call ever became active."""

from partyline import Test, quit_all

with Test('reject', plan=4) as t:
    with t.step('server and two phones register'):
        server = t.server()
        alice = t.phone('1001', server, source='tone:440')
        bob = t.phone('1002', server, source='tone:660')

    with t.step('alice dials bob: bob sees an incoming call'):
        alice.send('dial 1002')
        bob.wait_call('1001', 'incoming', direction='incoming')

    with t.step('bob rejects: alice\'s call ends with reason rejected, bob\'s ends too'):
        bob.send('reject 1001')
        alice.wait_call('1002', 'ended', reason='rejected')
        bob.wait_call('1001', 'ended')
        active = alice.find('call', state='active') + bob.find('call', state='active')
        assert not active, f'a rejected call became active: {active}'

    with t.step('quit: both phones exit 0'):
        quit_all(alice, bob)

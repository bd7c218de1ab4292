#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dialing a number nobody registered ends the call with reason not-found;
the phone stays registered and usable."""

from partyline import Test, quit_all

with Test('not-found', plan=4) as t:
    with t.step('server and one phone register'):
        server = t.server()
        alice = t.phone('1001', server, source='tone:440')

    with t.step('dial 9999: the call ends with reason not-found'):
        alice.send('dial 9999')
        alice.wait_call('9999', 'ended', reason='not-found')

    with t.step('the phone still answers commands and has no call left'):
        since = alice.mark()
        alice.send('list')
        alice.sync()
        listed = alice.find('call', since=since)
        assert not listed, f'list shows calls after not-found: {listed}'

    with t.step('quit: exit 0'):
        quit_all(alice)

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Busy: two phones dial each other at the same moment. Two numbers have at
most one call between them, so the server refuses the second `call` with
`busy` and that phone's outgoing call ends with reason busy. Both phones stay
usable: after clearing up, a normal call between them becomes active."""

from partyline import Match, Test, quit_all, wait_any

with Test('busy', plan=5) as t:
    with t.step('server and two phones register'):
        server = t.server()
        alice = t.phone('1001', server, source='tone:440')
        bob = t.phone('1002', server, source='tone:660')

    with t.step('both dial each other at once: an outgoing call ends with reason busy'):
        since_a, since_b = alice.mark(), bob.mark()
        alice.send('dial 1002')
        bob.send('dial 1001')
        # Whichever `call` reached the server second is refused.
        phone, ev = wait_any([(alice, since_a), (bob, since_b)],
                             Match('call', state='ended', reason='busy', direction='outgoing'))
        t.diag(f'{phone.number} got busy for its call to {ev["peer"]}')

    with t.step('clear up: hang up the calls left, each ends'):
        for p in (alice, bob):
            since = p.mark()
            p.send('list')
            p.sync()
            for call in p.find('call', since=since):
                p.send(f'hangup {call["peer"]}')
                p.wait_call(call['peer'], 'ended', since=since)

    with t.step('a normal call between them then becomes active'):
        since_a, since_b = alice.mark(), bob.mark()
        alice.send('dial 1002')
        bob.wait_call('1001', 'incoming', since=since_b)
        bob.send('answer 1001')
        alice.wait_call('1002', 'active', since=since_a)
        bob.wait_call('1001', 'active', since=since_b)

    with t.step('quit: both phones exit 0'):
        quit_all(alice, bob)

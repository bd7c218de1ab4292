#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""mute/unmute: while alice is muted, the level bob hears from her drops by
at least 20 dB and alice still hears bob; after unmute bob hears her tone
again. The same with `mute all` / `unmute all`."""

from partyline import Test, number, quit_all

DROP_DB = 20.0

with Test('mute', plan=6) as t:
    with t.step('server and two phones register; alice calls bob'):
        server = t.server()
        alice = t.phone('1001', server, source='tone:440')
        bob = t.phone('1002', server, source='tone:660', auto_answer=True)
        alice.send('dial 1002')
        alice.wait_call('1002', 'active')

    with t.step('bob hears alice\'s 440 Hz at a steady level'):
        heard = bob.wait_tone('1001', 440)
        loud = heard['level_db']
        assert number(loud), f'level_db is not a number: {heard}'
        t.diag(f'bob hears alice at {loud} dB')

    def quiet(level):
        return number(level) and level < loud - DROP_DB

    def muted(cmd, unmute_cmd):
        since_a, since_b = alice.mark(), bob.mark()
        alice.send(cmd)
        ev = bob.wait_event('media', since=since_b, peer='1001', level_db=quiet)
        t.diag(f'{cmd}: bob hears alice at {ev["level_db"]} dB')
        alice.wait_tone('1002', 660, since=since_a)   # sending only: alice still hears bob
        since_b = bob.mark()
        alice.send(unmute_cmd)
        bob.wait_tone('1001', 440, since=since_b)
        back = bob.find('media', since=since_b, peer='1001')[-1]
        assert not quiet(back.get('level_db')), f'after {unmute_cmd} the level stays low: {back}'

    with t.step('mute 1002: bob\'s level from alice drops, alice still hears bob; unmute 1002 restores it'):
        muted('mute 1002', 'unmute 1002')

    with t.step('mute all / unmute all do the same'):
        muted('mute all', 'unmute all')

    with t.step('mute/unmute caused no renegotiation: the call stayed active, one call each'):
        for p, peer in ((alice, '1002'), (bob, '1001')):
            states = [e['state'] for e in p.find('call', peer=peer)]
            assert states.count('active') == 1 and 'ended' not in states, f'{p.number}: {states}'

    with t.step('quit: both phones exit 0'):
        quit_all(alice, bob)

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Group dial and group hang-up: `dial 2001 2002 2003` makes three calls at
once, `list` shows three, and `hangup-all` ends all three with exactly one
`all-ended` event (count 3) once their pipelines are in NULL; every callee's
call ends normally."""

from partyline import Test, number, positive, quit_all

PEERS = {'2001': 523, '2002': 659, '2003': 784}

with Test('group', plan=7) as t:
    with t.step('server, a caller and three auto-answering phones register'):
        server = t.server()
        caller = t.phone('1001', server, source='tone:440')
        callees = {n: t.phone(n, server, source=f'tone:{hz}', auto_answer=True)
                   for n, hz in PEERS.items()}

    with t.step('dial 2001 2002 2003: three active calls on both sides'):
        caller.send('dial ' + ' '.join(PEERS))
        for n, phone in callees.items():
            caller.wait_call(n, 'active', direction='outgoing', setup_ms=positive)
            phone.wait_call('1001', 'active', direction='incoming')

    with t.step('every call carries audio both ways'):
        for n, phone in callees.items():
            caller.wait_event('audio', peer=n, first_audio_ms=positive)
            phone.wait_event('audio', peer='1001', first_audio_ms=positive)

    with t.step('list: three call events, one per callee, all active'):
        since = caller.mark()
        caller.send('list')
        caller.sync()
        listed = sorted((e['peer'], e['state']) for e in caller.find('call', since=since))
        assert listed == [(n, 'active') for n in sorted(PEERS)], listed

    with t.step('hangup-all: one all-ended event with count 3, after every call ended'):
        since = caller.mark()
        since_callee = {n: p.mark() for n, p in callees.items()}
        caller.send('hangup-all')
        done = caller.wait_event('all-ended', since=since, count=3, ms=number)
        for n in PEERS:
            ended = caller.find('call', since=since, peer=n, state='ended')
            assert ended and ended[0]['_n'] < done['_n'], \
                f'call to {n} not reported ended before all-ended\n' + caller.recent(since)
        caller.sync()
        assert len(caller.find('all-ended', since=since)) == 1, caller.recent(since)
        t.diag(f'group hang-up: {done["ms"]} ms')

    with t.step('every callee\'s call ends with reason normal'):
        for n, phone in callees.items():
            phone.wait_call('1001', 'ended', since=since_callee[n], reason='normal')

    with t.step('quit: all four phones exit 0'):
        quit_all(caller, *callees.values())

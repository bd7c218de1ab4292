#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The stdin commands on a live call: `list`, `stats N`, `dump N`; unknown
commands and bad arguments give an `error` event and change nothing; `quit`
hangs up (the peer's call ends normally) and exits 0."""

import os

from partyline import Test, number

with Test('commands', plan=8) as t:
    with t.step('server and two phones register; alice calls bob, audio flows'):
        server = t.server()
        alice = t.phone('1001', server, source='tone:440')
        bob = t.phone('1002', server, source='tone:660', auto_answer=True)
        alice.send('dial 1002')
        alice.wait_call('1002', 'active')
        alice.wait_event('audio', peer='1002')

    with t.step('list: exactly one call event, the active call to 1002'):
        since = alice.mark()
        alice.send('list')
        alice.sync()
        calls = alice.find('call', since=since)
        assert len(calls) == 1, f'list printed {len(calls)} call events: {calls}'
        c = calls[0]
        assert (c.get('peer'), c.get('state'), c.get('direction')) == ('1002', 'active', 'outgoing'), c

    with t.step('stats 1002: numbers, packets received growing, an RTT once RTCP has run'):
        # The RTT needs an RTCP round trip, so right after the answer it may
        # still be null; ask again once per `media` event (every second)
        # until it is a number, ten times at most. The other fields are
        # numbers from the start.
        seen = []
        for _ in range(10):
            since = alice.mark()
            alice.send('stats 1002')
            ev = alice.wait_event('stats', since=since, peer='1002')
            seen.append(ev)
            for key in ('packets_received', 'packets_lost', 'jitter_ms'):
                assert number(ev.get(key)), f'stats field {key} is {ev.get(key)!r}: {ev}'
            assert ev.get('rtt_ms') is None or number(ev['rtt_ms']), f'rtt_ms: {ev}'
            if number(ev.get('rtt_ms')) and len(seen) >= 2:
                break
            alice.wait_event('media', since=alice.mark(), peer='1002')
        assert number(seen[-1].get('rtt_ms')), f'no RTT after {len(seen)} stats: {seen}'
        received = [ev['packets_received'] for ev in seen]
        assert 0 < received[0] < received[-1], f'packets received do not grow: {received}'
        t.diag(f'stats: {seen[-1]}')

    with t.step('dump 1002: prints the path of a dot file that contains webrtcbin'):
        since = alice.mark()
        alice.send('dump 1002')
        ev = alice.wait_event(lambda e: isinstance(e.get('path'), str), since=since)
        path = ev['path']
        assert os.path.isfile(path), f'{path} does not exist ({ev})'
        with open(path, errors='replace') as f:
            text = f.read()
        # The element's type shows as GstWebRTCBin.
        assert text.startswith('digraph') and 'webrtcbin' in text.lower(), \
            f'{path} is not a dot file of a pipeline with webrtcbin'
        t.diag(f'dump: {path} ({len(text)} bytes)')

    with t.step('unknown command: an error event naming it'):
        since = alice.mark()
        alice.send('frobnicate 1002')
        ev = alice.wait_event('error', since=since)
        assert 'frobnicate' in ev.get('command', ''), f'error does not name the command: {ev}'
        assert ev.get('message'), f'error without message: {ev}'

    with t.step('bad arguments give error events naming the command: no such call, bad number, none'):
        for cmd in ('answer 9999', 'stats 9999', 'dump 9999', 'hangup 9999', 'mute 9999',
                    'dial bad!number', 'dial'):
            since = alice.mark()
            alice.send(cmd)
            alice.wait_event('error', since=since, command=lambda c, cmd=cmd: cmd in str(c))

    with t.step('none of that changed the call: still listed active, nothing ended'):
        since = alice.mark()
        alice.send('list')
        alice.sync()
        calls = alice.find('call', since=since)
        assert [(c['peer'], c['state']) for c in calls] == [('1002', 'active')], calls
        ended = alice.find('call', state='ended') + bob.find('call', state='ended')
        assert not ended, f'a call ended: {ended}'

    with t.step('alice quits: exit 0, bob\'s call ends normally, bob quits 0'):
        since_b = bob.mark()
        rc = alice.quit()
        assert rc == 0, f'alice exit status {rc}'
        bob.wait_call('1001', 'ended', since=since_b, reason='normal')
        rc = bob.quit()
        assert rc == 0, f'bob exit status {rc}'

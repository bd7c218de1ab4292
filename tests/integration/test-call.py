#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two phones, one call: both calls become active with setup_ms, both report
first audio, each hears the other's tone (±5 Hz), the caller hangs up and
both calls end normally, and quit exits 0."""

from partyline import Test, positive, quit_all

with Test('call', plan=7) as t:
    with t.step('server and two phones register'):
        server = t.server()
        alice = t.phone('1001', server, source='tone:440')
        bob = t.phone('1002', server, source='tone:660', auto_answer=True)

    with t.step('alice dials bob: both calls become active, with setup_ms'):
        alice.send('dial 1002')
        alice.wait_call('1002', 'active', direction='outgoing', setup_ms=positive)
        bob.wait_call('1001', 'active', direction='incoming', setup_ms=positive)

    with t.step('both sides report their first audio, with first_audio_ms'):
        a = alice.wait_event('audio', peer='1002', first_audio_ms=positive)
        b = bob.wait_event('audio', peer='1001', first_audio_ms=positive)
        t.diag(f'first audio: alice {a["first_audio_ms"]} ms, bob {b["first_audio_ms"]} ms')

    with t.step('alice hears bob\'s 660 Hz'):
        alice.wait_tone('1002', 660)

    with t.step('bob hears alice\'s 440 Hz'):
        bob.wait_tone('1001', 440)

    with t.step('alice hangs up: both calls end with reason normal'):
        since_a, since_b = alice.mark(), bob.mark()
        alice.send('hangup 1002')
        alice.wait_call('1002', 'ended', since=since_a, reason='normal', duration_ms=positive)
        bob.wait_call('1001', 'ended', since=since_b, reason='normal', duration_ms=positive)

    with t.step('quit: both phones exit 0'):
        quit_all(alice, bob)

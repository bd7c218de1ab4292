#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Answers checked (issue 9): partyline-cli dials an aiortc phone whose
answer names PCMU instead of the Opus the offer contained. The call must end
`failed` at once — without going to `connecting` — with a message saying the
answer does not accept the offered codec, and the aiortc peer gets `hangup`
with reason `failed`. The phone then still makes a good call (880 Hz)."""

from secpeer import AioPeer, Test

# "At once": well under the harness's 15 s wait; the answer is checked on
# arrival, before webrtcbin sees it.
AT_ONCE_S = 3.0

with Test('answer-codec', plan=4, watchdog=150) as t:
    with t.step('server and phone 1001 register'):
        server = t.server()
        phone = t.phone('1001', server, source='tone:440')

    with t.step('an answer without the offered Opus ends the call failed at once'):
        aio = AioPeer(t, '4301', server, mangle='codec', auto_answer=True)
        since = phone.mark()
        phone.send('dial 4301')
        ringing = phone.wait_call('4301', 'ringing', since=since)
        ended = phone.wait_call('4301', 'ended', since=since, reason='failed', timeout=AT_ONCE_S,
                                message=lambda m: isinstance(m, str) and
                                'does not accept the offered codec Opus/48000' in m)
        t.diag(f'ended {ended["t"] - ringing["t"]:.3f} s after ringing: {ended["message"]}')
        if phone.find('call', since=since, peer='4301', state='connecting'):
            raise AssertionError('the call went to connecting with a bad answer')
        aio.wait_call('1001', 'ended', reason='failed')
        aio.quit()

    with t.step('the phone still makes a good call: active, hears 880 Hz'):
        aio = AioPeer(t, '4302', server, auto_answer=True)
        since = phone.mark()
        phone.send('dial 4302')
        phone.wait_call('4302', 'active', since=since)
        phone.wait_tone('4302', 880, since=since)
        phone.send('hangup 4302')
        phone.wait_call('4302', 'ended', since=since, reason='normal')
        aio.quit()

    with t.step('quit: the phone exits 0'):
        if phone.quit() != 0:
            raise AssertionError('the phone did not exit 0')

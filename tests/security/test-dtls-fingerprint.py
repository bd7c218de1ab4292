#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Peer authentication (issue 9): partyline-cli against an aiortc phone
(aiopeer.py) through the real server, the phone as caller and as callee.

For each bad fingerprint the aiortc peer signals in its own SDP (a
well-formed sha-256 of another certificate, a malformed one, an empty value,
none at all, md2) the call must end `failed` with a `message` naming the
reason, never become `active`, and the phone must report no `audio` or
`media` event for it (none of the peer's 880 Hz is played); the aiortc peer
gets `hangup` with reason `failed`. The control: an unmodified aiortc peer
connects both ways, the call becomes active, and the phone hears 880 Hz."""

from secpeer import AioPeer, Test, positive, says

BAD = [
    ('wrong', r'does not match the sha-256 fingerprint'),
    ('malformed', r'malformed fingerprint'),
    # webrtcbin itself refuses an empty value as no fingerprint line at all
    ('empty', r'(?i)no fingerprint|malformed fingerprint'),
    ('absent', r'(?i)no fingerprint'),
    ('md2', r'weak hash function md2'),
]

with Test('dtls-fingerprint', plan=1 + 2 * len(BAD) + 2 + 1, watchdog=300) as t:
    with t.step('server and phone 1001 register'):
        server = t.server()
        phone = t.phone('1001', server, source='tone:440', auto_answer=True)

    n = 4100
    for kind, reason in BAD:
        for role in ('caller', 'callee'):
            n += 1
            peer = str(n)
            with t.step(f'{kind} fingerprint, phone as {role}: failed, with "{reason}", '
                        'never active, nothing heard', fatal=False):
                aio = AioPeer(t, peer, server, mangle=kind, auto_answer=True)
                since = phone.mark()
                if role == 'caller':
                    phone.send(f'dial {peer}')
                else:
                    aio.send('dial 1001')
                ended = phone.wait_call(peer, 'ended', since=since, reason='failed',
                                        message=says(reason))
                t.diag(f'{kind}/{role}: {ended["message"]}')
                aio.wait_call('1001', 'ended', reason='failed')
                phone.sync()
                bad = phone.find('call', since=since, peer=peer, state='active') + \
                    phone.find('audio', since=since, peer=peer) + \
                    phone.find('media', since=since, peer=peer)
                if bad:
                    raise AssertionError(f'the unauthenticated peer got through: {bad}')
                aio.quit()

    with t.step('control, phone as caller: active, and the phone hears the peer\'s 880 Hz'):
        aio = AioPeer(t, '4201', server, auto_answer=True)
        since = phone.mark()
        phone.send('dial 4201')
        phone.wait_call('4201', 'active', since=since, setup_ms=positive)
        aio.wait_call('1001', 'active')
        phone.wait_tone('4201', 880, since=since)
        phone.send('hangup 4201')
        phone.wait_call('4201', 'ended', since=since, reason='normal')
        aio.quit()

    with t.step('control, phone as callee: active, and the phone hears the peer\'s 880 Hz'):
        aio = AioPeer(t, '4202', server)
        since = phone.mark()
        aio.send('dial 1001')
        phone.wait_call('4202', 'active', since=since, setup_ms=positive)
        phone.wait_tone('4202', 880, since=since)
        aio.send('hangup')
        phone.wait_call('4202', 'ended', since=since, reason='normal')
        aio.quit()

    with t.step('quit: the phone exits 0'):
        if phone.quit() != 0:
            raise AssertionError('the phone did not exit 0')

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Calls at once on a phone (issue 9): each call is a pipeline of its own,
so callers could make a phone hold as many as they like (one registered
connection each, and a call that is never answered rings for ever).
partyline-cli --max-calls 2: two raw peers' calls ring; a third is refused
with `hangup busy` before any pipeline is built; the phone cannot dial a
third call either; once one call is over it dials, and hears, a real one."""

import uuid

from attacks import opus_offer
from rawpeer import RawPeer
from secpeer import Failure, Test, quit_all, says

with Test('max-calls', plan=5, watchdog=120) as t:
    with t.step('server; phone 1001 with --max-calls 2, phone 1002 answers'):
        server = t.server()
        phone = t.phone('1001', server, source='tone:440', args=['--max-calls', '2'])
        other = t.phone('1002', server, source='tone:660', auto_answer=True)

    peers, calls = [], {}
    with t.step('3001 and 3002 call 1001: both ring'):
        for number in ('3001', '3002'):
            raw = RawPeer(server.url)
            raw.send({'type': 'register', 'number': number})
            raw.expect(type='registered')
            calls[number] = str(uuid.uuid4())
            raw.send({'type': 'call', 'call_id': calls[number], 'to': '1001',
                      'sdp': opus_offer()})
            raw.expect(type='ringing', call_id=calls[number])
            phone.wait_call(number, 'incoming')
            peers.append(raw)

    with t.step('3003 calls 1001: refused busy, no call on the phone'):
        raw = RawPeer(server.url)
        raw.send({'type': 'register', 'number': '3003'})
        raw.expect(type='registered')
        call_id = str(uuid.uuid4())
        since = phone.mark()
        raw.send({'type': 'call', 'call_id': call_id, 'to': '1001', 'sdp': opus_offer()})
        hangup = raw.expect(type='hangup', call_id=call_id)
        if hangup.get('reason') != 'busy':
            raise Failure(f'expected hangup busy, got {hangup}')
        phone.sync()
        if phone.find('call', since=since, peer='3003'):
            raise Failure('the phone took a third call')
        peers.append(raw)

    with t.step('1001 cannot dial a third call; after 3001 hangs up it dials 1002 and hears it'):
        since = phone.mark()
        phone.send('dial 1002')
        phone.wait_event('error', since=since, message=says(r'at most 2 calls'))
        if phone.find('call', since=since, peer='1002'):
            raise Failure('the phone dialed a third call')
        peers[0].send({'type': 'hangup', 'call_id': calls['3001'], 'reason': 'normal'})
        phone.wait_call('3001', 'ended', since=since, reason='normal')
        phone.send('dial 1002')
        phone.wait_call('1002', 'active', since=since)
        phone.wait_tone('1002', 660, since=since)

    with t.step('quit: both phones exit 0'):
        for raw in peers:
            raw.close()
        quit_all(phone, other)

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Late messages: `ice`, `accept` and `ringing` for a call that has just
ended, and for a call_id reused by the next call, must be dropped, never
applied to the new call. The other party is a raw protocol peer (rawpeer.py,
a stdlib RFC 6455 client) that sends what a real phone never would.

Part 1, PARTYLINE_LATE_ROUNDS (default 10) rounds. Phone 1001 reaches the
server through a relay (rawpeer.HoldingProxy) that can hold what 1001 sends.
1001 dials the raw peer 3001 (call X), which rings. The relay holds; 1001
hangs X up (it forgets X at once; the server does not know yet) and dials
3001 again (call Y, its offer held too); 3001 sends `ice`, `accept` and
`ringing` for X, which the server still routes to 1001, then `peers`. The
relay releases. 3001 checks that none of the three was refused (no
`unknown-call` before the `peers` answer): they did reach 1001, which must
drop each of them (its debug log says "dropping … for unknown call X"), and
Y's events are exactly what Y's own messages imply: dialing, ringing
(3001's `ringing` for Y), ended with reason rejected (3001's `hangup` for
Y) — no connecting, no failure.

Part 2, the same rounds: 3001 calls 1001 reusing the call_id X of 1001's
last call, then sends the old call's `accept`, `ringing` and `ice` for X.
The server refuses `accept` and `ringing` from the caller; the `ice` goes
through (for this call it is the caller's candidate). 1001's call X must be
`incoming` and stay so (an outgoing call's `accept` or `ringing` is never
applied to an incoming one), then end with reason normal on 3001's hang-up.
Then 1001 settles back to its baseline and exits 0; the server exits 0."""

import re
import uuid

from rawpeer import HoldingProxy, RawPeer
from torture import DEFAULT_TIMEOUT, Failure, Ledger, Test, knob, quit_all, watchdog

ROUNDS = knob('PARTYLINE_LATE_ROUNDS', 10)

ANSWER_SDP = '\r\n'.join([
    'v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
    'a=group:BUNDLE audio0', 'm=audio 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0', 'a=ice-ufrag:late', 'a=ice-pwd:latelatelatelatelatelate',
    'a=fingerprint:sha-256 ' + ':'.join(['AB'] * 32), 'a=setup:active', 'a=mid:audio0',
    'a=sendrecv', 'a=rtcp-mux', 'a=rtpmap:96 OPUS/48000/2', ''])
OFFER_SDP = ANSWER_SDP.replace('a=setup:active', 'a=setup:actpass')
CANDIDATE = 'candidate:1 1 UDP 2015363327 127.0.0.1 40404 typ host'


def late_messages(call_id):
    return [{'type': 'ice', 'call_id': call_id, 'candidate': CANDIDATE, 'sdp_mline_index': 0},
            {'type': 'accept', 'call_id': call_id, 'sdp': ANSWER_SDP},
            {'type': 'ringing', 'call_id': call_id}]


def states_of(phone, call_id, since):
    return [e['state'] for e in phone.find('call', since=since, call_id=call_id)]


with Test('late-messages', plan=6, watchdog=watchdog(300)) as t:
    with t.step('server; raw peer 3001 and phone 1001 (through a relay) register; '
                'baseline taken'):
        server = t.server()
        raw = RawPeer(server.url)
        raw.send({'type': 'register', 'number': '3001'})
        raw.expect(type='registered', number='3001')
        port = int(server.url.rsplit(':', 1)[1].split('/')[0])
        relay = HoldingProxy('127.0.0.1', port)
        t.env['G_MESSAGES_DEBUG'] = 'pl-line'
        phone = t.phone('1001', relay.url(), analyze=False)
        del t.env['G_MESSAGES_DEBUG']
        # Warm-up: one call to 3001 that rings and is hung up.
        r = raw.mark()
        phone.send('dial 3001')
        x = raw.expect(type='call', since=r)['call_id']
        raw.send({'type': 'ringing', 'call_id': x})
        phone.wait_call('3001', 'ringing', call_id=x)
        phone.send('hangup 3001')
        phone.wait_call('3001', 'ended', call_id=x)
        raw.expect(type='hangup', call_id=x, since=r)
        ledger = Ledger()
        ledger.baseline([phone])

    forwarded = {'ice': 0, 'accept': 0, 'ringing': 0}
    last_x = None
    with t.step(f'{ROUNDS} rounds: ice/accept/ringing for a call just hung up reach the phone, '
                'which drops them; the next call sees only its own messages'):
        for i in range(ROUNDS):
            since, r = phone.mark(), raw.mark()
            phone.send('dial 3001')
            x = raw.expect(type='call', since=r)['call_id']
            raw.send({'type': 'ringing', 'call_id': x})
            phone.wait_call('3001', 'ringing', call_id=x, since=since)

            relay.hold()
            try:
                phone.send('hangup 3001')
                phone.wait_call('3001', 'ended', call_id=x, since=since, reason='normal')
                after = phone.mark()
                phone.send('dial 3001')
                y = phone.wait_call('3001', 'dialing', since=after)['call_id']
                r = raw.mark()
                late = late_messages(x)
                for msg in late:
                    raw.send(msg)
                raw.send({'type': 'peers'})
                raw.expect(type='peers', since=r)
            finally:
                relay.release()
            refused = {m.get('ref') for m in raw.messages[r:] if m.get('type') == 'error'
                       and m.get('call_id') == x}
            for msg in late:
                if msg['type'] not in refused:
                    forwarded[msg['type']] += 1
            raw.expect(type='call', call_id=y, since=r)
            raw.send({'type': 'ringing', 'call_id': y})
            phone.wait_call('3001', 'ringing', call_id=y, since=since)
            raw.send({'type': 'hangup', 'call_id': y, 'reason': 'rejected'})
            phone.wait_call('3001', 'ended', call_id=y, since=since, reason='rejected')
            phone.sync()
            got_x, got_y = states_of(phone, x, since), states_of(phone, y, since)
            if got_x != ['dialing', 'ringing', 'ended'] or got_y != ['dialing', 'ringing', 'ended']:
                raise Failure(f'round {i}: call X went {got_x} (expected [dialing, ringing, ended]), '
                              f'call Y {got_y} (expected [dialing, ringing, ended])\n'
                              + phone.recent(since))
            errors = [e for e in phone.find('error', since=since)
                      if not str(e.get('command', '')).startswith('sync-')]
            if errors:
                raise Failure(f'round {i}: error events {errors}')
            last_x = x
    t.diag(f'late messages the server forwarded to the phone: {forwarded} over {ROUNDS} rounds '
           '(the rest it refused with unknown-call)')

    with t.step('the phone itself dropped every forwarded late message (its debug log says so)'):
        with open(phone.log_path, errors='replace') as f:
            log = f.read()
        dropped = {kind: len(re.findall(rf'dropping {kind} for unknown call', log))
                   for kind in forwarded}
        t.diag(f'the phone dropped: {dropped}')
        untested = [kind for kind, n in forwarded.items() if n == 0]
        if untested:
            raise Failure(f'no {"/".join(untested)} for an ended call got past the server: '
                          'the phone\'s side of it was not tested')
        if any(dropped[kind] < n for kind, n in forwarded.items()):
            raise Failure(f'forwarded {forwarded}, but the phone dropped only {dropped}')

    with t.step(f'{ROUNDS} rounds: a call reusing the last call_id is not touched by the old '
                'call\'s accept/ringing/ice'):
        for i in range(ROUNDS):
            since = phone.mark()
            x = last_x if i == 0 else str(uuid.uuid4())
            # A fresh call_id's first call, then its reuse by the next call.
            for reuse in (False, True):
                r, s = raw.mark(), phone.mark()
                raw.send({'type': 'call', 'call_id': x, 'to': '1001', 'sdp': OFFER_SDP})
                phone.wait_call('3001', 'incoming', call_id=x, since=s)
                if reuse:
                    for msg in late_messages(x):
                        raw.send(msg)
                raw.send({'type': 'peers'})
                raw.expect(type='peers', since=r)
                phone.sync()
                raw.send({'type': 'hangup', 'call_id': x, 'reason': 'normal'})
                phone.wait_call('3001', 'ended', call_id=x, since=s, reason='normal')
                got = states_of(phone, x, since)
                if got != ['incoming', 'ended'] * (2 if reuse else 1):
                    raise Failure(f'round {i}: the calls with call_id {x} went {got}\n'
                                  + phone.recent(since))
                if reuse:
                    codes = sorted(m.get('code') for m in raw.messages[r:]
                                   if m.get('type') == 'error')
                    if codes != ['bad-request', 'bad-request']:
                        raise Failure(f'round {i}: the server answered {codes} '
                                      '(expected two bad-request)')

    with t.step('the phone settles back to its baseline'):
        ledger.check(t, [phone])

    with t.step('quit: the phone exits 0; the raw peer closes normally; the server exits 0'):
        quit_all(phone)
        raw.close()
        relay.close()
        if raw.close_code != 1000:
            raise Failure(f'close code {raw.close_code}')
        rc = server.stop(timeout=DEFAULT_TIMEOUT)
        assert rc == 0, f'server exit status {rc}'

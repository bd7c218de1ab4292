#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-call bounds on the phone (issue 9): a raw protocol peer (rawpeer.py)
calls partyline-cli 1001 (no auto-answer: the call stays ringing, the worst
case, since webrtcbin keeps every candidate of a call that is not stable)
and floods it with `ice` for that call: FLOOD_LARGE candidates of about
48 KB and FLOOD_SMALL distinct well-formed small ones, about 40 MB in all.
The server runs with --rate-limit 0 and a send queue of 256 MiB, so that
all of it is forwarded: the server's own bounds would otherwise drop the
phone for reading slower than the flood comes (tests/security/
test-server-flood.py tests those); here the phone's bounds are the subject.

Once everything has reached the phone (the raw peer's `peers` round trip,
then the TCP queues between the server and the phone empty, then a command
round trip through the phone), 1001's VmRSS must have grown by less than
RSS_BOUND_MIB, its log must say once that it dropped candidates, and it
must still work: it answers a real call from phone 1002 and hears its
660 Hz."""

import time
import uuid

import partyline
from attacks import opus_offer
from rawpeer import RawPeer
from secpeer import DEFAULT_TIMEOUT, Failure, Test

FLOOD_LARGE = 800
FLOOD_SMALL = 10000
LARGE_BYTES = 48000
RSS_BOUND_MIB = 16

OFFER = opus_offer()


def vm_rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise Failure(f'no VmRSS for {pid}')


def tcp_queues_empty(port):
    """Whether every TCP socket from or to `port` has empty send and receive queues."""
    with open('/proc/net/tcp') as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote, queues = fields[1], fields[2], fields[4]
            if int(local.split(':')[1], 16) != port and int(remote.split(':')[1], 16) != port:
                continue
            tx, rx = (int(x, 16) for x in queues.split(':'))
            if tx or rx:
                return False
    return True


def wait_drained(t, phone, port, timeout=DEFAULT_TIMEOUT * 4):
    deadline = time.monotonic() + timeout
    while True:
        phone.sync()       # each round trip lets the phone's main loop run
        if tcp_queues_empty(port):
            phone.sync()
            return
        if time.monotonic() > deadline:
            raise Failure(f'the TCP queues to the server (port {port}) did not drain in {timeout} s')


with Test('phone-bounds', plan=5, watchdog=200) as t:
    with t.step('server (no rate limit) and phones 1001, 1002 register; raw peer 3001 calls 1001'):
        argv = partyline.wrapper() + [partyline.binary('PARTYLINE_SERVER'),
                                      '--listen', '127.0.0.1:0', '--rate-limit', '0',
                                      '--max-send-queue', str(256 * 1024 * 1024)]
        server = partyline.plproc.Server(t, 'server', argv)
        port = int(server.url.rsplit(':', 1)[1].split('/')[0])
        phone = t.phone('1001', server, source='tone:440')
        other = t.phone('1002', server, source='tone:660')
        raw = RawPeer(server.url)
        raw.send({'type': 'register', 'number': '3001'})
        raw.expect(type='registered')
        call_id = str(uuid.uuid4())
        raw.send({'type': 'call', 'call_id': call_id, 'to': '1001', 'sdp': OFFER})
        phone.wait_call('3001', 'incoming')
        raw.expect(type='ringing', call_id=call_id)
        wait_drained(t, phone, port)
        before = vm_rss_kib(phone.proc.pid)
        t.diag(f'1001 VmRSS before the flood: {before / 1024:.1f} MiB')

    with t.step(f'3001 floods the ringing call with {FLOOD_LARGE} large and {FLOOD_SMALL} small '
                'candidates'):
        pad = 'x' * LARGE_BYTES
        sent = 0
        for i in range(FLOOD_LARGE + FLOOD_SMALL):
            port_i = 10000 + i % 50000
            cand = f'candidate:{i} 1 udp {2122260223 - i} 127.0.0.1 {port_i} typ host generation 0'
            if i < FLOOD_LARGE:
                cand += ' ufrag ' + pad
            msg = {'type': 'ice', 'call_id': call_id, 'candidate': cand, 'sdp_mline_index': 0}
            raw.send(msg)
            sent += len(cand)
        since = raw.mark()
        raw.send({'type': 'peers'})
        raw.expect(type='peers', since=since, timeout=DEFAULT_TIMEOUT * 4)
        refused = [m for m in raw.messages if m.get('type') == 'error']
        if refused:
            raise Failure(f'the server refused some of the flood: {refused[:3]}')
        wait_drained(t, phone, port)
        t.diag(f'sent {sent / 2**20:.1f} MiB of candidates')

    with t.step(f'1001 grew by less than {RSS_BOUND_MIB} MiB and said once that it dropped '
                'candidates'):
        after = vm_rss_kib(phone.proc.pid)
        grown = (after - before) / 1024
        t.diag(f'1001 VmRSS after the flood: {after / 1024:.1f} MiB (+{grown:.1f} MiB)')
        if grown >= RSS_BOUND_MIB:
            raise Failure(f'1001 grew by {grown:.1f} MiB (bound {RSS_BOUND_MIB} MiB)')
        with open(phone.log_path) as f:
            said = sum(1 for line in f if 'dropping remote ICE candidates' in line)
        if said != 1:
            raise Failure(f'1001 said {said} times that it dropped candidates (expected once)')
        phone.wait_call('3001', 'incoming')   # still ringing, nothing ended it
        if phone.find('call', peer='3001', state='ended'):
            raise Failure('the flooded call ended')

    with t.step('3001 hangs up; 1001 answers a real call from 1002 and hears 660 Hz'):
        since = phone.mark()
        raw.send({'type': 'hangup', 'call_id': call_id, 'reason': 'normal'})
        phone.wait_call('3001', 'ended', since=since, reason='normal')
        other.send('dial 1001')
        phone.wait_call('1002', 'incoming', since=since)
        phone.send('answer 1002')
        phone.wait_call('1002', 'active', since=since)
        phone.wait_tone('1002', 660, since=since)
        other.send('hangup 1001')
        phone.wait_call('1002', 'ended', since=since, reason='normal')
        raw.close()

    with t.step('quit: both phones exit 0'):
        partyline.quit_all(phone, other)

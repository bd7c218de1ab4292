#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A phone that stops reading while another floods it (issue 9).

Before: the server queued everything for the phone that did not read (259
MiB in 5.6 s, 189 MiB still held after it closed), and a third phone's
round trip reached 2 s. Now what waits for one phone is bounded
(--max-send-queue, 1 MiB by default): past it the phone is dropped, its
call ends with `hangup disconnected`, and the server's memory stays put.

The real partyline-server with its default limits. Three raw peers:
  v  registers and then never reads a byte;
  a  calls v and sends it `ice` messages of 60 KB as fast as it can (the
     server's rate limit lets 200 a second through, bursts of 400), from a
     process of its own (in this one it would hold the GIL and delay c);
  c  measures round trips (`peers` → `peers`) all the while, which must
     each stay under 50 ms.
"""

import base64
import multiprocessing
import os
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, os.path.join(HERE, '..', 'torture'))

from partyline import TIMEOUT_MULTIPLIER, Failure, Test  # noqa: E402
from rawpeer import RawPeer, OP_TEXT, mask_payload  # noqa: E402

CALL_ID = 'f1f1f1f1-0000-4000-8000-000000000001'
MAX_RTT_MS = 50.0
FLOOD_SECONDS = 30.0 * TIMEOUT_MULTIPLIER   # bound: v must be dropped well before
MIB = 1024 * 1024


def vm_kib(pid, field):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise Failure(f'no {field} in /proc/{pid}/status')


class Deaf:
    """A phone that registers and then reads nothing: a raw socket that
    sends its handshake and `register`, reads the 101, and stops."""

    def __init__(self, url, number):
        host, port = url.split('//', 1)[1].split('/', 1)[0].rsplit(':', 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f'GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n'
                           f'Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n'
                           'Sec-WebSocket-Version: 13\r\n\r\n').encode())
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = self.sock.recv(1)     # byte by byte: nothing past the 101 is read
            if not chunk:
                raise Failure('the server closed the handshake')
            head += chunk
        if not head.startswith(b'HTTP/1.1 101'):
            raise Failure(f'handshake refused: {head[:40]!r}')
        payload = f'{{"type":"register","number":"{number}"}}'.encode()
        mask = os.urandom(4)
        self.sock.sendall(struct.pack('!BB', 0x80 | OP_TEXT, 0x80 | len(payload)) + mask +
                          mask_payload(payload, mask))


def flood(a, stop, counter, progress):
    """As fast as it can; `progress` is set every few messages, and paces
    the third phone's round trips (under its own rate limit)."""
    candidate = 'candidate:1 1 udp 2122260223 127.0.0.1 9 typ host ' + 'x' * 60000
    while not stop.is_set():
        a.send({'type': 'ice', 'call_id': CALL_ID, 'sdp_mline_index': 0, 'candidate': candidate})
        counter.value += 1
        if counter.value % 4 == 0:
            progress.set()


def round_trip(c, progress, rtts):
    """One `peers` round trip, after the flood has made progress."""
    if not progress.wait(timeout=10):
        raise Failure('the flood stalled')
    progress.clear()
    since = c.mark()
    t1 = time.monotonic()
    c.send({'type': 'peers'})
    c.expect(type='peers', timeout=10, since=since)
    rtts.append((time.monotonic() - t1) * 1000.0)


with Test('server-flood', plan=4, watchdog=120 * TIMEOUT_MULTIPLIER) as t:
    with t.step('server, a phone that does not read, a flooder and a third phone'):
        server = t.server()
        pid = server.proc.pid
        v = Deaf(server.url, '5002')
        a = RawPeer(server.url)
        a.send({'type': 'register', 'number': '5001'})
        a.expect(type='registered')
        c = RawPeer(server.url)
        c.send({'type': 'register', 'number': '5003'})
        c.expect(type='registered')
        c.send({'type': 'peers'})
        numbers = c.expect(type='peers')['numbers']
        if '5002' not in numbers:
            raise Failure(f'the deaf phone is not registered: {numbers}')
        a.send({'type': 'call', 'call_id': CALL_ID, 'to': '5002', 'sdp': 'v=0\r\n'})
        rss_before = vm_kib(pid, 'VmRSS')
        hwm_before = vm_kib(pid, 'VmHWM')
        t.diag(f'server RSS {rss_before} KiB before the flood')

    rtts = []
    with t.step('the deaf phone is dropped; the flooder hears its call end'):
        mp = multiprocessing.get_context('fork')
        stop, progress, sent = mp.Event(), mp.Event(), mp.Value('l', 0)
        # The child writes on a's socket; a's reader thread here reads it.
        flooder = mp.Process(target=flood, args=(a, stop, sent, progress), daemon=True)
        t0 = time.monotonic()
        flooder.start()
        hangup = None
        deadline = t0 + FLOOD_SECONDS
        while hangup is None and time.monotonic() < deadline:
            round_trip(c, progress, rtts)
            a.mark()      # takes what a has received into a.messages
            hangup = next((m for m in a.messages if m.get('type') == 'hangup'), None)
        # Round trips go on for 2 s more, the flood still running (its messages
        # now answered with unknown-call).
        t_drop = time.monotonic()
        while time.monotonic() - t_drop < 2.0:
            round_trip(c, progress, rtts)
        stop.set()
        flooder.join(timeout=10)
        sent = sent.value
        if hangup is None:
            raise Failure(f'the deaf phone was not dropped in {FLOOD_SECONDS:.0f} s '
                          f'({sent} messages of 60 KB sent)')
        if hangup.get('call_id') != CALL_ID or hangup.get('reason') != 'disconnected':
            raise Failure(f'expected hangup disconnected for the call, got {hangup}')
        t.diag(f'dropped after {t_drop - t0:.2f} s; {sent} messages of 60 KB sent')

    with t.step('the server\'s memory did not grow with the flood'):
        hwm = vm_kib(pid, 'VmHWM')
        rss = vm_kib(pid, 'VmRSS')
        t.diag(f'server peak RSS +{(hwm - hwm_before) / 1024:.1f} MiB during the flood, '
               f'RSS now {rss} KiB')
        # The bound (1 MiB), one message being read, and the allocator's slack.
        if hwm - rss_before > 16 * 1024:
            raise Failure(f'the server grew by {(hwm - rss_before) / 1024:.1f} MiB '
                          '(at most 16 MiB expected)')

    with t.step(f'the third phone\'s round trips stayed under {MAX_RTT_MS:.0f} ms'):
        rtts.sort()
        t.diag(f'{len(rtts)} round trips: median {rtts[len(rtts) // 2]:.2f} ms, '
               f'max {rtts[-1]:.2f} ms')
        if rtts[-1] >= MAX_RTT_MS * TIMEOUT_MULTIPLIER:
            raise Failure(f'a round trip took {rtts[-1]:.1f} ms')

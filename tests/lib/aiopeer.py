#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""An independent WebRTC phone for the security tests, built on Debian's
python3-aiortc 1.4.0 (run it with /usr/bin/python3), that speaks
docs/protocol.md through the real partyline-server (the WebSocket is
rawpeer.py's RawPeer, beside this file).

    aiopeer.py --server ws://127.0.0.1:PORT/ws --number 4001 [--tone 880]
               [--mangle KIND] [--auto-answer]

It sends a sine tone and can rewrite its own offer or answer before sending:
--mangle wrong (a well-formed sha-256 fingerprint of no certificate),
malformed, empty (`a=fingerprint:` with no value), absent (no fingerprint
line), md2, or codec (an answer naming PCMU instead of the offered Opus).

Commands on stdin, one a line: `dial N`, `hangup`, `quit`. Events on stdout,
one JSON object a line like partyline-cli's (`event`, `t`): registered, call
(`state`: dialing, incoming, connecting, active, ended with `reason`),
audio-in (first frame received from the other side), ice-in (each remote
candidate) and sdp (`sent`: what was signalled, after rewriting).

Loopback only: aioice 0.8 (ice.get_host_addresses) skips 127.0.0.1, which
inside tests/netns-run (only lo) leaves no candidate at all, so it is made
to return 127.0.0.1 and nothing else; no STUN server is configured
(aiortc's default would be Google's).
"""

import argparse
import asyncio
import fractions
import json
import math
import os
import re
import sys
import threading
import time
import uuid

import aioice.ice
import av
from aiortc import (MediaStreamTrack, RTCConfiguration, RTCPeerConnection,
                    RTCSessionDescription)
from aiortc.sdp import candidate_from_sdp
from rawpeer import RawPeer

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ['127.0.0.1']

START = time.monotonic()
RATE = 48000
SAMPLES = 960   # 20 ms


def emit(event, **fields):
    print(json.dumps({'event': event, 't': round(time.monotonic() - START, 3), **fields}),
          flush=True)


class Tone(MediaStreamTrack):
    """A sine tone, 48 kHz mono s16, 20 ms frames in real time."""

    kind = 'audio'

    def __init__(self, freq):
        super().__init__()
        self.freq = freq
        self.pts = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.pts / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)      # media pacing, not synchronisation
        samples = bytes()
        k = 2 * math.pi * self.freq / RATE
        samples = b''.join(int(12000 * math.sin(k * (self.pts + i))).to_bytes(2, 'little', signed=True)
                           for i in range(SAMPLES))
        frame = av.AudioFrame(format='s16', layout='mono', samples=SAMPLES)
        frame.planes[0].update(samples)
        frame.sample_rate = RATE
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, RATE)
        self.pts += SAMPLES
        return frame


def mangle(sdp, kind):
    """Our own SDP as the test wants it signalled."""
    lines = sdp.split('\r\n')
    fp = [i for i, line in enumerate(lines) if line.startswith('a=fingerprint:')]
    if kind in ('wrong', 'malformed', 'empty', 'md2'):
        value = {
            'wrong': 'sha-256 ' + ':'.join(f'{b:02X}' for b in os.urandom(32)),
            'malformed': 'sha-256 ' + ':'.join(f'{b:02X}' for b in os.urandom(31)) + ':ZZ:00',
            'empty': '',
            'md2': 'md2 ' + ':'.join(f'{b:02X}' for b in os.urandom(16)),
        }[kind]
        lines = [line for i, line in enumerate(lines) if i not in fp[1:]]
        lines[fp[0]] = 'a=fingerprint:' + value
    elif kind == 'absent':
        lines = [line for i, line in enumerate(lines) if i not in fp]
    elif kind == 'codec':
        out = []
        for line in lines:
            if line.startswith('m=audio '):
                line = ' '.join(line.split(' ')[:3] + ['0'])
                out.append(line)
                out.append('a=rtpmap:0 PCMU/8000')
            elif re.match(r'a=(rtpmap|fmtp|rtcp-fb):\d+ ', line):
                continue
            else:
                out.append(line)
        lines = out
    return '\r\n'.join(lines)


class AioPeer:
    def __init__(self, args, loop):
        self.args, self.loop = args, loop
        self.ws = RawPeer(args.server)
        self.pc = None
        self.call_id = None
        self.peer = None
        self.remote_set = False
        self.pending = []
        self.state = None
        self.done = asyncio.Event()

    def set_state(self, state, **fields):
        if self.state == state or self.state == 'ended':
            return
        self.state = state
        emit('call', call_id=self.call_id, peer=self.peer, state=state, **fields)

    def new_pc(self):
        pc = RTCPeerConnection(configuration=RTCConfiguration(iceServers=[]))
        pc.addTrack(Tone(self.args.tone))

        @pc.on('connectionstatechange')
        async def on_state():
            if pc.connectionState == 'connected':
                self.set_state('active')
            elif pc.connectionState == 'failed':
                self.end('failed', notify=True)

        @pc.on('track')
        def on_track(track):
            asyncio.ensure_future(self.read_track(track))

        return pc

    async def read_track(self, track):
        first = True
        while True:
            try:
                await track.recv()
            except Exception:  # noqa: BLE001 — the track ended
                return
            if first:
                emit('audio-in', call_id=self.call_id, peer=self.peer)
                first = False

    def send(self, msg):
        self.ws.send(msg)

    async def local_sdp(self):
        sdp = self.pc.localDescription.sdp
        if self.args.mangle:
            sdp = mangle(sdp, self.args.mangle)
        emit('sdp', sent=sdp)
        return sdp

    async def dial(self, number):
        self.call_id, self.peer = str(uuid.uuid4()), number
        self.pc = self.new_pc()
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.send({'type': 'call', 'call_id': self.call_id, 'to': number,
                   'sdp': await self.local_sdp()})
        self.set_state('dialing')

    async def add_candidate(self, msg):
        cand = msg.get('candidate') or ''
        emit('ice-in', candidate=cand)
        if not cand:
            return
        c = candidate_from_sdp(cand.split(':', 1)[1])
        c.sdpMLineIndex = msg.get('sdp_mline_index') or 0
        c.sdpMid = self.pc.getTransceivers()[0].mid if self.pc.getTransceivers() else '0'
        await self.pc.addIceCandidate(c)

    async def flush(self):
        self.remote_set = True
        for msg in self.pending:
            await self.add_candidate(msg)
        self.pending = []

    async def handle(self, msg):
        kind = msg.get('type')
        if kind == 'registered':
            emit('registered', number=msg.get('number'))
        elif kind == 'call' and self.pc is None:
            self.call_id, self.peer = msg['call_id'], msg.get('from')
            self.pc = self.new_pc()
            self.set_state('incoming')
            self.send({'type': 'ringing', 'call_id': self.call_id})
            await self.pc.setRemoteDescription(RTCSessionDescription(msg['sdp'], 'offer'))
            await self.flush()
            if self.args.auto_answer:
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                self.send({'type': 'accept', 'call_id': self.call_id,
                           'sdp': await self.local_sdp()})
                self.set_state('connecting')
        elif msg.get('call_id') != self.call_id:
            return
        elif kind == 'accept':
            await self.pc.setRemoteDescription(RTCSessionDescription(msg['sdp'], 'answer'))
            await self.flush()
            self.set_state('connecting')
        elif kind == 'ice':
            if self.remote_set:
                await self.add_candidate(msg)
            else:
                self.pending.append(msg)
        elif kind == 'hangup':
            self.end(msg.get('reason', 'normal'), notify=False)
        elif kind == 'error':
            emit('error', message=msg.get('message'), code=msg.get('code'))

    def end(self, reason, notify):
        if self.state in (None, 'ended'):
            return
        if notify:
            self.send({'type': 'hangup', 'call_id': self.call_id, 'reason': reason})
        self.set_state('ended', reason=reason)
        if self.pc is not None:
            asyncio.ensure_future(self.pc.close())

    async def command(self, line):
        words = line.split()
        if not words:
            return
        if words[0] == 'dial' and len(words) == 2:
            await self.dial(words[1])
        elif words[0] == 'hangup':
            self.end('normal', notify=True)
        elif words[0] == 'quit':
            self.end('normal', notify=True)
            if self.pc is not None:
                # aiortc 1.4 can hang closing a transport whose DTLS handshake
                # was cut short; the process exits regardless.
                try:
                    await asyncio.wait_for(self.pc.close(), 2.0)
                except (asyncio.TimeoutError, Exception):  # noqa: BLE001
                    pass
            self.done.set()
        else:
            emit('error', message='unknown command', command=line)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--server', required=True)
    ap.add_argument('--number', required=True)
    ap.add_argument('--tone', type=float, default=880.0)
    ap.add_argument('--mangle', choices=['wrong', 'malformed', 'empty', 'absent', 'md2', 'codec'])
    ap.add_argument('--auto-answer', action='store_true')
    args = ap.parse_args()

    loop = asyncio.get_running_loop()
    me = AioPeer(args, loop)
    inbox = asyncio.Queue()

    def pump_ws():          # RawPeer's reader thread queues; hand them to asyncio
        while True:
            msg = me.ws._queue.get()
            loop.call_soon_threadsafe(inbox.put_nowait, ('ws', msg))
            if msg is None:
                return

    def pump_stdin():
        for line in sys.stdin:
            loop.call_soon_threadsafe(inbox.put_nowait, ('cmd', line.strip()))
        loop.call_soon_threadsafe(inbox.put_nowait, ('cmd', 'quit'))

    threading.Thread(target=pump_ws, daemon=True).start()
    threading.Thread(target=pump_stdin, daemon=True).start()
    me.send({'type': 'register', 'number': args.number})

    while not me.done.is_set():
        source, item = await inbox.get()
        try:
            if source == 'ws':
                if item is None:
                    emit('unregistered', reason='closed')
                    break
                await me.handle(item)
            else:
                await me.command(item)
        except Exception as e:  # noqa: BLE001 — report, keep running
            emit('error', message=f'{type(e).__name__}: {e}')
    me.ws.close(timeout=2.0)
    # Neither aiortc's pending tasks nor our threads may hold the exit.
    sys.stdout.flush()
    os._exit(0)


if __name__ == '__main__':
    asyncio.run(main())

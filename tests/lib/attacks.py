# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile signaling clients (stdlib only), shared by tests/security and
bench/hostile.py: the attacks of issue 9, made the way its findings were.

    deaf = Deaf(url, '5002')            # registers, then never reads a byte
    flooder = Flooder(url, '5001', '5002', call_id)   # calls it, floods it
    flooder.start() … flooder.stop()    # from a process of its own
    silent = silent_connections(url, 1000, sources)   # never say a word

Nothing here waits by sleeping: a flooder sends as fast as its socket takes
it, and sets `progress` every few messages for whoever paces itself on it.
"""

import base64
import multiprocessing
import os
import socket
import struct
import urllib.parse

from rawpeer import OP_TEXT, RawPeer, mask_payload

CANDIDATE_BYTES = 60000          # one `ice` message just under the 64 KiB limit
# A flooder sends about 1000 such messages a second here: `progress` every
# 16 keeps a phone that paces itself on it well under its rate limit (200).
PROGRESS_EVERY = 16


def opus_offer():
    """An SDP offer a phone takes for a call (one Opus audio m-line), from a
    peer without media: the call rings, its pipeline is built, and nothing
    more happens. A fresh random sha-256 fingerprint each time."""
    return '\r\n'.join([
        'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE audio0',
        'm=audio 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
        'a=ice-ufrag:flood', 'a=ice-pwd:floodfloodfloodfloodflood',
        'a=fingerprint:sha-256 ' + ':'.join(f'{b:02X}' for b in os.urandom(32)),
        'a=setup:actpass', 'a=mid:audio0', 'a=sendrecv', 'a=rtcp-mux',
        'a=rtpmap:96 OPUS/48000/2', '']) + '\r\n'


def host_port(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port or 80


def handshake_request(host, port):
    key = base64.b64encode(os.urandom(16)).decode()
    return (f'GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n'
            f'Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n'
            'Sec-WebSocket-Version: 13\r\n\r\n').encode()


class Deaf:
    """A phone that registers and then reads nothing: a raw socket that
    sends its handshake and `register`, reads the 101 byte by byte (so
    nothing after it is read), and stops."""

    def __init__(self, url, number, error=RuntimeError):
        host, port = host_port(url)
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.sendall(handshake_request(host, port))
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise error('the server closed the handshake')
            head += chunk
        if not head.startswith(b'HTTP/1.1 101'):
            raise error(f'handshake refused: {head[:40]!r}')
        payload = f'{{"type":"register","number":"{number}"}}'.encode()
        mask = os.urandom(4)
        self.sock.sendall(struct.pack('!BB', 0x80 | OP_TEXT, 0x80 | len(payload)) + mask +
                          mask_payload(payload, mask))

    def close(self):
        self.sock.close()


def _flood(peer, call_id, stop, sent, progress):
    candidate = 'candidate:1 1 udp 2122260223 127.0.0.1 9 typ host ' + 'x' * CANDIDATE_BYTES
    while not stop.is_set():
        peer.send({'type': 'ice', 'call_id': call_id, 'sdp_mline_index': 0,
                   'candidate': candidate})
        sent.value += 1
        if sent.value % PROGRESS_EVERY == 0:
            progress.set()


class Flooder:
    """A registered phone that calls `victim` and then sends it `ice`
    messages of 60 KB as fast as it can, from a process of its own (in the
    measuring process it would hold the GIL and delay the measurement). The
    server's rate limit lets 200 a second through, in bursts of 400. What it
    receives (`messages`, via the RawPeer) is read here."""

    def __init__(self, url, number, victim, call_id):
        self.peer = RawPeer(url)
        self.peer.send({'type': 'register', 'number': number})
        self.peer.expect(type='registered')
        self.peer.send({'type': 'call', 'call_id': call_id, 'to': victim, 'sdp': 'v=0\r\n'})
        mp = multiprocessing.get_context('fork')
        self.stop_event, self.progress, self._sent = mp.Event(), mp.Event(), mp.Value('l', 0)
        # The child writes on the peer's socket; the peer's reader thread here reads it.
        self.proc = mp.Process(target=_flood, daemon=True,
                               args=(self.peer, call_id, self.stop_event, self._sent,
                                     self.progress))

    def start(self):
        self.proc.start()

    def stop(self):
        self.stop_event.set()
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.kill()

    @property
    def sent(self):
        return self._sent.value

    def hangup(self):
        """The `hangup` it has received, if any."""
        self.peer.mark()
        return next((m for m in self.peer.messages if m.get('type') == 'hangup'), None)


def round_trip(peer, timeout=10):
    """ms of one `peers` → `peers` round trip."""
    import time
    since = peer.mark()
    t = time.monotonic()
    peer.send({'type': 'peers'})
    peer.expect(type='peers', timeout=timeout, since=since)
    return (time.monotonic() - t) * 1000.0


def vm_kib(pid, field):
    """A field of /proc/PID/status in KiB (VmRSS, VmHWM)."""
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'no {field} in /proc/{pid}/status')


def silent_connections(url, count, sources):
    """`count` TCP connections to the server, from the source addresses of
    `sources` in turn (the server limits connections per address), that
    never send a byte. Non-blocking sockets; the caller closes them."""
    host, port = host_port(url)
    socks = []
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((sources[i % len(sources)], 0))
        s.connect((host, port))
        s.setblocking(False)
        socks.append(s)
    return socks

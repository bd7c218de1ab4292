# SPDX-License-Identifier: GPL-3.0-or-later
"""A raw signaling-protocol peer in the Python standard library: a minimal
RFC 6455 WebSocket client (opening handshake with Sec-WebSocket-Accept
check, masked text frames, ping -> pong, close handshake) that speaks
docs/protocol.md by hand. It has no media stack: tests use it to send
what a real phone never would, such as messages for a call that is over.

    peer = RawPeer('ws://127.0.0.1:8443/ws')
    peer.send({'type': 'register', 'number': '3001'})
    peer.expect(type='registered')

A reader thread puts every received message (a dict) on a queue; `expect`
waits for the first one that matches, with a deadline, and keeps the others
in `messages`.
"""

import base64
import hashlib
import json
import os
import queue
import socket
import struct
import threading
import time
import urllib.parse

GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


def websocket_accept(key):
    """RFC 6455, 4.2.2: the Sec-WebSocket-Accept that answers the
    Sec-WebSocket-Key `key` (a str): base64 of the SHA-1 of key + GUID."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def mask_payload(payload, mask):
    """RFC 6455, 5.3: XOR with the 4-byte mask, as one big integer (fast)."""
    n = len(payload)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, 'big') ^ int.from_bytes(key, 'big')).to_bytes(n, 'big')


class ProtocolError(Exception):
    pass


class RawPeer:
    def __init__(self, url, timeout=10.0):
        u = urllib.parse.urlsplit(url)
        if u.scheme != 'ws':
            raise ProtocolError(f'only ws:// is supported, not {url}')
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        self.sock.settimeout(None)
        self._send_lock = threading.Lock()
        self.messages = []           # every message received, in order
        self.closed = threading.Event()
        self.close_code = None
        self._close_sent = False
        self._queue = queue.Queue()
        self._buffer = b''
        self._handshake(u, timeout)
        threading.Thread(target=self._read, daemon=True).start()

    # The opening handshake (RFC 6455, 4.1) -------------------------------
    def _handshake(self, u, timeout):
        key = base64.b64encode(os.urandom(16)).decode()
        path = (u.path or '/') + (f'?{u.query}' if u.query else '')
        request = (f'GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\n'
                   f'Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n'
                   'Sec-WebSocket-Version: 13\r\n\r\n')
        self.sock.sendall(request.encode())
        self.sock.settimeout(timeout)
        while b'\r\n\r\n' not in self._buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ProtocolError('connection closed during the handshake')
            self._buffer += chunk
        self.sock.settimeout(None)
        head, self._buffer = self._buffer.split(b'\r\n\r\n', 1)
        lines = head.decode('latin-1').split('\r\n')
        if not lines[0].startswith('HTTP/1.1 101'):
            raise ProtocolError(f'handshake refused: {lines[0]}')
        headers = {k.strip().lower(): v.strip() for k, v in
                   (line.split(':', 1) for line in lines[1:] if ':' in line)}
        if headers.get('sec-websocket-accept') != websocket_accept(key):
            raise ProtocolError('bad Sec-WebSocket-Accept')

    # Frames (RFC 6455, 5.2): a client masks every frame it sends ----------
    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = struct.pack('!BB', 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack('!BBH', 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack('!BBQ', 0x80 | opcode, 0x80 | 127, n)
        masked = mask_payload(payload, mask)
        with self._send_lock:
            self.sock.sendall(header + mask + masked)

    def _recv_exact(self, n):
        while len(self._buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def _read_frame(self):
        b0, b1 = self._recv_exact(2)
        fin, opcode, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
        if b1 & 0x80:
            raise ProtocolError('a server must not mask its frames')
        if n == 126:
            n, = struct.unpack('!H', self._recv_exact(2))
        elif n == 127:
            n, = struct.unpack('!Q', self._recv_exact(8))
        return fin, opcode, self._recv_exact(n)

    def _read(self):
        fragments, first_op = [], None
        try:
            while True:
                fin, opcode, payload = self._read_frame()
                if opcode == OP_PING:
                    self._send_frame(OP_PONG, payload)
                elif opcode == OP_PONG:
                    pass
                elif opcode == OP_CLOSE:
                    self.close_code = struct.unpack('!H', payload[:2])[0] if payload else 1005
                    if not self._close_sent:      # the server closed first: echo it
                        self._close_sent = True
                        self._send_frame(OP_CLOSE, payload[:2])
                    break
                else:
                    if opcode != 0:
                        first_op = opcode
                    fragments.append(payload)
                    if fin:
                        data = b''.join(fragments)
                        fragments = []
                        if first_op == OP_TEXT:
                            self._queue.put(json.loads(data.decode('utf-8')))
        except (EOFError, OSError, ProtocolError, ValueError):
            pass
        self.closed.set()
        self._queue.put(None)

    # The protocol ---------------------------------------------------------
    def send(self, message):
        self._send_frame(OP_TEXT, json.dumps(message).encode())

    def expect(self, timeout=10.0, since=0, **fields):
        """The first message at index >= since whose fields all match."""
        deadline = time.monotonic() + timeout
        i = since
        while True:
            for msg in self.messages[i:]:
                if all(msg.get(k) == v for k, v in fields.items()):
                    return msg
            i = len(self.messages)
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError(f'no message with {fields} within {timeout} s; '
                                    f'got {self.messages[since:]}')
            try:
                msg = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if msg is None:
                raise ProtocolError(f'connection closed waiting for {fields}; '
                                    f'got {self.messages[since:]}')
            self.messages.append(msg)

    def mark(self):
        while True:
            try:
                msg = self._queue.get_nowait()
            except queue.Empty:
                return len(self.messages)
            if msg is None:
                self._queue.put(None)
                return len(self.messages)
            self.messages.append(msg)

    def close(self, code=1000, timeout=5.0):
        """The closing handshake: send close, wait for the server's."""
        if not self.closed.is_set() and not self._close_sent:
            self._close_sent = True
            self._send_frame(OP_CLOSE, struct.pack('!H', code))
            self.closed.wait(timeout)
        self.sock.close()


class HoldingProxy:
    """A TCP relay on 127.0.0.1 in front of the server, for one phone: while
    held, what the phone sends stays in the relay (what the server sends
    still goes through), so the server learns of the phone's messages, such
    as a hang-up, only on release."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.port = self.listener.getsockname()[1]
        self._open = threading.Event()
        self._open.set()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self):
        return f'ws://127.0.0.1:{self.port}/ws'

    def hold(self):
        self._open.clear()

    def release(self):
        self._open.set()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False),
                             daemon=True).start()

    def _pump(self, src, dst, held):
        try:
            while True:
                data = src.recv(65536)
                if held:
                    self._open.wait()
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(data)
        except OSError:
            pass

    def close(self):
        self.release()
        self.listener.close()

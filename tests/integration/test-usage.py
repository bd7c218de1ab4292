#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The command line's exit statuses: 2 with one line on stderr for bad usage,
before anything starts (a live server is given, so a phone that started
anyway would register and exit 0 at end of input); 3 when the server cannot
be reached or refuses the registration; 0 at end of input."""

import json
import socket
import threading

from partyline import Test, binary
from rawpeer import websocket_accept

CASES = [
    ('an unknown source kind', ['--number', '1001', '--source', 'bogus:1']),
    ('a tone without a frequency', ['--number', '1001', '--source', 'tone:']),
    ('an unknown sink kind', ['--number', '1001', '--sink', 'nowhere']),
    ('a malformed number', ['--number', 'bad number!']),
    ('a number longer than 32 characters', ['--number', '1' * 33]),
    ('no number at all', []),
    ('an unknown option', ['--number', '1001', '--frobnicate']),
    ('a TURN server without a user and password',
     ['--number', '1001', '--turn', 'turn://127.0.0.1:3478']),
    ('a host candidate address that is not an IP address',
     ['--number', '1001', '--ice-address', 'localhost']),
    ('a negative register timeout', ['--number', '1001', '--register-timeout', '-1']),
]
BAD_URLS = ['not a url', 'http://127.0.0.1:8443/ws']

def silent_server(upgrade):
    """A listener on loopback that accepts one connection and then says
    nothing, after the WebSocket handshake when `upgrade`; returns
    (url, close)."""
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    held = []

    def serve():
        conn, _ = listener.accept()
        held.append(conn)
        if not upgrade:
            return
        request = b''
        while b'\r\n\r\n' not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
        key = next(line.split(b':', 1)[1].strip() for line in request.split(b'\r\n')
                   if line.lower().startswith(b'sec-websocket-key:'))
        accept = websocket_accept(key.decode('latin-1'))
        conn.sendall(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
                     b'Connection: Upgrade\r\nSec-WebSocket-Accept: ' + accept.encode() +
                     b'\r\n\r\n')

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def close():
        listener.close()
        for conn in held:
            conn.close()

    return f'ws://127.0.0.1:{listener.getsockname()[1]}/ws', close


with Test('usage', plan=len(CASES) + len(BAD_URLS) + 9) as t:
    cli = binary('PARTYLINE_CLI')
    with t.step('server starts'):
        server = t.server()
        token_server = t.server(token='s3cret', name='token-server')

    def expect(argv, status, name, one_line=True):
        with t.step(name):
            rc, out, err = t.run([cli, '--json'] + argv)
            lines = [line for line in err.splitlines() if line.strip()]
            assert rc == status, f'exit status {rc}, expected {status}\nstdout: {out!r}\nstderr: {err!r}'
            if one_line:
                assert len(lines) == 1, f'expected one line on stderr, got {lines}'
            events = [json.loads(line).get('event') for line in out.splitlines() if line.strip()]
            assert 'registered' not in events, f'the phone registered anyway: {out!r}'

    for what, args in CASES:
        expect(['--server', server.url] + args, 2, f'{what} exits 2 with one line on stderr')
    for url in BAD_URLS:
        expect(['--server', url, '--number', '1001'], 2, f'server URL {url!r} exits 2')

    # A port nobody listens on: bind one, note it, close it (nothing else
    # runs in this private namespace).
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        closed_port = s.getsockname()[1]
    expect(['--server', f'ws://127.0.0.1:{closed_port}/ws', '--number', '1001'], 3,
           'an unreachable server exits 3', one_line=False)

    with t.step('a number already registered exits 3'):
        alice = t.phone('1001', server)
        rc, out, err = t.run([cli, '--json', '--server', server.url, '--number', '1001'])
        assert rc == 3, f'exit status {rc}\nstdout: {out!r}\nstderr: {err!r}'

    for upgrade, what in ((False, 'never completes the WebSocket handshake'),
                          (True, 'never answers register')):
        url, close = silent_server(upgrade)
        try:
            with t.step(f'a server that {what} exits 3 after --register-timeout'):
                rc, out, err = t.run([cli, '--json', '--server', url, '--number', '1001',
                                      '--register-timeout', '1'])
                assert rc == 3, f'exit status {rc}\nstdout: {out!r}\nstderr: {err!r}'
                expected = 'no answer to register' if upgrade else 'cannot reach'
                assert expected in err, f'stderr: {err!r}'
        finally:
            close()

    expect(['--server', token_server.url, '--number', '1001'], 3,
           'a missing token exits 3', one_line=False)
    expect(['--server', token_server.url, '--number', '1001', '--token', 'wrong'], 3,
           'a wrong token exits 3', one_line=False)

    with t.step('the right token registers; end of input exits 0'):
        rc, out, err = t.run([cli, '--json', '--server', token_server.url, '--number', '1001',
                              '--token', 's3cret', '--source', 'silence', '--sink', 'fake'])
        events = [json.loads(line) for line in out.splitlines() if line.strip()]
        assert rc == 0, f'exit status {rc}\nstdout: {out!r}\nstderr: {err!r}'
        assert any(e.get('event') == 'registered' for e in events), f'no registered event: {out!r}'

    with t.step('--help and --version exit 0 and print something'):
        for flag in ('--help', '--version'):
            rc, out, err = t.run([cli, flag])
            assert rc == 0 and out.strip(), f'{flag}: exit {rc}, stdout {out!r}, stderr {err!r}'

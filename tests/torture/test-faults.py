#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults.

1. The server is killed (SIGKILL) in the middle of a call and restarted on
   the same port: both phones end the call with reason disconnected and
   report `unregistered`, keep answering commands, and settle back to their
   baseline less one descriptor (the WebSocket's socket, now closed). The
   CLI does not reconnect; two new phones register with the restarted server
   and call each other through it. Every phone exits 0 on `quit`.
2. A peer process is killed with SIGKILL mid-call: the other side ends the
   call with reason disconnected within a few seconds (the server sees the
   socket close at once).
3. A peer that never answers: with --ring-timeout=2 the caller ends the
   call with reason timeout, after 2 s; the callee's call ends too.
After each, the surviving phones settle back to their baseline."""

import socket
import time

from torture import Failure, Ledger, Test, elapsed, quit_all, warm_up, watchdog

KILLED_PEER_LIMIT_S = 5.0


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def active_call(caller, callee):
    since, since_callee = caller.mark(), callee.mark()
    caller.send(f'dial {callee.number}')
    caller.wait_call(callee.number, 'active', since=since)
    callee.wait_call(caller.number, 'active', since=since_callee)
    caller.wait_event('audio', peer=callee.number, since=since)
    return since, since_callee


with Test('faults', plan=8, watchdog=watchdog(240)) as t:
    with t.step('server on a fixed port; two phones; warm-up call; baseline taken'):
        listen = f'127.0.0.1:{free_port()}'
        server = t.server(listen=listen)
        alice = t.phone('1001', server, analyze=False)
        bob = t.phone('2001', server, source='tone:660', analyze=False, auto_answer=True)
        warm_up(alice, bob)
        ledger = Ledger()
        ledger.baseline([alice, bob])

    with t.step('SIGKILL of the server mid-call: both calls end disconnected, both phones '
                'unregistered and still answering'):
        since_a, since_b = active_call(alice, bob)
        server.kill()
        alice.wait_call('2001', 'ended', since=since_a, reason='disconnected')
        bob.wait_call('1001', 'ended', since=since_b, reason='disconnected')
        alice.wait_event('unregistered', since=since_a)
        bob.wait_event('unregistered', since=since_b)
        alice.sync()
        bob.sync()

    with t.step('both settle back to their baseline less the WebSocket\'s descriptor'):
        for phone in (alice, bob):
            phone_base = ledger.base[phone.number]
            phone_base['fds'] -= 1
        ledger.check(t, [alice, bob])

    with t.step('the server restarts on the same port; two new phones call through it'):
        server2 = t.server(listen=listen, name='server-restarted')
        if server2.url != server.url:
            raise Failure(f'restarted at {server2.url}, not {server.url}')
        carol = t.phone('1002', server2, analyze=False)
        dave = t.phone('2002', server2, source='tone:660', analyze=False, auto_answer=True)
        warm_up(carol, dave)
        ledger.baseline([carol, dave])

    with t.step(f'SIGKILL of a peer mid-call: the other side ends disconnected within '
                f'{KILLED_PEER_LIMIT_S:.0f} s'):
        since, _ = active_call(carol, dave)
        dave.kill()
        t0 = time.monotonic()
        carol.wait_call('2002', 'ended', since=since, reason='disconnected',
                        timeout=KILLED_PEER_LIMIT_S)
        t.diag(f'ended {elapsed(t0) * 1000:.0f} ms after the SIGKILL')

    with t.step('a peer that never answers: --ring-timeout=2 ends the call with timeout'):
        erin = t.phone('1003', server2, analyze=False, args=['--ring-timeout=2'])
        frank = t.phone('2003', server2, source='tone:660', analyze=False)
        since, since_frank = erin.mark(), frank.mark()
        erin.send('dial 2003')
        erin.wait_call('2003', 'ringing', since=since)
        incoming = frank.wait_call('1003', 'incoming', since=since_frank)
        t0 = time.monotonic()
        ended = erin.wait_call('2003', 'ended', since=since, reason='timeout')
        waited = elapsed(t0)
        frank.wait_call('1003', 'ended', since=since_frank, call_id=incoming['call_id'],
                        reason='timeout')
        if not 1.0 <= waited <= 4.0:
            raise Failure(f'timed out after {waited:.1f} s, not about 2 s')
        t.diag(f'rang {waited:.2f} s after ringing (ring timeout 2 s); {ended}')

    with t.step('the survivors settle back to their baseline'):
        ledger.check(t, [alice, bob, carol])

    with t.step('quit: every phone still running exits 0; the restarted server stops with 0'):
        quit_all(alice, bob, carol, erin, frank)
        rc = server2.stop()
        assert rc == 0, f'server exit status {rc}'

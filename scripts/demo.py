#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Partyline's main demo; scripts/demo runs it inside a loopback-only network
namespace after building. Usage: demo.py [BUILD_DIR]

A real partyline-server and four real partyline-cli phones: 1001 sends
440 Hz and group-dials 2001, 2002 and 2003, which auto-answer and send 523,
659 and 784 Hz. Every call must become active and carry the right tone both
ways (±5 Hz, from the phones' `media` events); then `hangup-all` must end all
three with one `all-ended` event, and every process must exit 0. The output
is TAP plus a table of the timings; the exit status is non-zero if any check
failed.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'build'))
os.environ.setdefault('PARTYLINE_CLI', os.path.join(BUILD, 'src', 'cli', 'partyline-cli'))
os.environ.setdefault('PARTYLINE_SERVER', os.path.join(BUILD, 'src', 'server', 'partyline-server'))
os.environ.setdefault('PARTYLINE_PIPELINE_DIR', os.path.join(ROOT, 'pipelines'))

from partyline import Failure, Test, number, positive, quit_all  # noqa: E402

CALLER, CALLER_HZ = '1001', 440
PEERS = {'2001': 523, '2002': 659, '2003': 784}


def fmt(value, unit=''):
    return f'{value:.1f}{unit}' if number(value) else '-'


def last_heard(phone, peer):
    media = phone.find('media', peer=peer)
    return media[-1].get('frequency_hz') if media else None


def table(rows, group):
    head = ('peer', 'tone', 'setup ms', 'first audio ms', 'caller hears', 'callee hears',
            'teardown ms')
    body = [head]
    for n, r in rows.items():
        body.append((n, f'{PEERS[n]} Hz', fmt(r.get('setup_ms')),
                     f'{fmt(r.get("first_audio_ms"))} / {fmt(r.get("callee_first_audio_ms"))}',
                     fmt(r.get('caller_hears'), ' Hz'), fmt(r.get('callee_hears'), ' Hz'),
                     fmt(r.get('teardown_ms'))))
    widths = [max(len(row[i]) for row in body) for i in range(len(head))]
    lines = ['  '.join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in body]
    lines.insert(1, '  '.join('-' * w for w in widths))
    lines.append('')
    lines.append(f'caller {CALLER} sends {CALLER_HZ} Hz; setup = dial -> connected (caller), '
                 'first audio = caller / callee, teardown = hang-up -> pipeline in NULL')
    lines.append(f'group hang-up (hangup-all -> all-ended): {fmt(group.get("ms"))} ms '
                 f'for {group.get("count", "-")} calls')
    return '\n'.join(lines)


rows = {n: {} for n in PEERS}
group = {}

with Test('demo', plan=10, watchdog=120, logdir=os.path.join(BUILD, 'demo-logs')) as t:
    try:
        with t.step('server and four phones register'):
            server = t.server()
            caller = t.phone(CALLER, server, source=f'tone:{CALLER_HZ}')
            callees = {n: t.phone(n, server, source=f'tone:{hz}', auto_answer=True)
                       for n, hz in PEERS.items()}

        with t.step(f'{CALLER} dials {" ".join(PEERS)}: three calls active on both sides'):
            caller.send('dial ' + ' '.join(PEERS))
            for n, phone in callees.items():
                ev = caller.wait_call(n, 'active', setup_ms=positive)
                rows[n]['setup_ms'] = ev['setup_ms']
                phone.wait_call(CALLER, 'active')

        with t.step('first audio heard on both sides of every call'):
            for n, phone in callees.items():
                rows[n]['first_audio_ms'] = caller.wait_event(
                    'audio', peer=n, first_audio_ms=positive)['first_audio_ms']
                rows[n]['callee_first_audio_ms'] = phone.wait_event(
                    'audio', peer=CALLER, first_audio_ms=positive)['first_audio_ms']

        for n, phone in callees.items():
            with t.step(f'call {n}: {CALLER} hears {PEERS[n]} Hz, {n} hears {CALLER_HZ} Hz',
                        fatal=False):
                heard = {}
                try:
                    heard['caller'] = caller.wait_tone(n, PEERS[n])['frequency_hz']
                    heard['callee'] = phone.wait_tone(CALLER, CALLER_HZ)['frequency_hz']
                finally:   # on failure, show what was heard last
                    rows[n]['caller_hears'] = heard.get('caller', last_heard(caller, n))
                    rows[n]['callee_hears'] = heard.get('callee', last_heard(phone, CALLER))

        with t.step('hangup-all: every call ends (with teardown_ms), then one all-ended, count 3'):
            since = caller.mark()
            since_callee = {n: p.mark() for n, p in callees.items()}
            caller.send('hangup-all')
            done = caller.wait_event('all-ended', since=since, count=3, ms=number)
            group.update(done)
            for n in PEERS:
                ev = caller.wait_call(n, 'ended', since=since)
                rows[n]['teardown_ms'] = ev.get('teardown_ms')
                if not number(ev.get('teardown_ms')):
                    raise Failure(f'the ended event of the call to {n} has no teardown_ms: {ev}')
                if ev['_n'] > done['_n']:
                    raise Failure(f'call to {n} ended after all-ended\n' + caller.recent(since))

        with t.step('every callee\'s call ends with reason normal'):
            for n, phone in callees.items():
                phone.wait_call(CALLER, 'ended', since=since_callee[n], reason='normal')

        with t.step('quit: all four phones exit 0'):
            quit_all(caller, *callees.values())

        with t.step('SIGTERM: the server exits 0'):
            rc = server.stop()
            if rc != 0:
                raise Failure(f'server exit status {rc}')
    finally:
        t.diag('\n' + table(rows, group) + '\n')

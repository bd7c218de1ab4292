#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Churn: PARTYLINE_CHURN_CYCLES (default 1000) dial -> hang-up cycles from
one phone to an auto-answering one, each hang-up sent after a random delay of
0-300 ms (seeded; the seed is printed). The delay is a timed wait on the
caller's event stream, and during it `stats 2001` is sent at random moments,
so hang-ups land before the offer, while dialing or ringing, during ICE,
during DTLS, just after `active`, later, and while a stats request is in
flight. Every call must end on both sides with reason normal, and afterwards
both phones settle back to their baseline (no call, peer, webrtcbin or nice
agent left; the same file descriptors; no thread growth); both exit 0.

Where each hang-up landed is read from the caller's own events: the last
state it reported before `ended` (no state at all: before the offer was
sent). `connecting` covers ICE and DTLS; webrtcbin's INFO log on the caller
(`ICE connection state change … to connected|completed`) tells them apart:
the hang-up's time (the `ended` event's t less its teardown_ms) is compared
with the time ICE connected, the two clocks being aligned on the warm-up
call's `active` event."""

import re
import statistics
import time

from torture import (Failure, Ledger, Test, elapsed, knob, quit_all, resources, rng, warm_up,
                     watchdog)

CYCLES = knob('PARTYLINE_CHURN_CYCLES', 1000)
# Sanitizer and valgrind runs set up calls slower, so they stretch the delay.
MAX_DELAY = knob('PARTYLINE_CHURN_MAX_DELAY_MS', 300) / 1000.0
JUST_AFTER_ACTIVE_MS = 50
# Buckets the churn must have hit, when it is long enough to hit them all.
REQUIRED = ('before-offer', 'ice', 'dtls', 'active<50ms', 'active', 'stats-in-flight')

GST_LINE = re.compile(r'^(\d+):(\d\d):(\d\d\.\d+) .*(ICE connection state change from \w+\(\d\) '
                      r'to (\w+)|Peer connection state change from \w+\(\d\) to (\w+))')


def gst_times(path):
    """(ice_connected, peer_connected) times from webrtcbin's log, seconds."""
    ice, peer = [], []
    with open(path, errors='replace') as f:
        for line in f:
            m = GST_LINE.match(line)
            if not m:
                continue
            when = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
            if m.group(5) in ('connected', 'completed'):
                ice.append(when)
            elif m.group(6) == 'connected':
                peer.append(when)
    return ice, peer


with Test('churn', plan=5, watchdog=watchdog(600)) as t:
    random = rng(t)
    t.diag(f'{CYCLES} cycles, hang-up after 0-{MAX_DELAY * 1000:.0f} ms')

    with t.step('server and two phones register; one warm-up call; baseline taken'):
        server = t.server()
        # The caller logs webrtcbin's state changes (see the docstring).
        t.env.update(GST_DEBUG='webrtcbin:4', GST_DEBUG_NO_COLOR='1')
        caller = t.phone('1001', server, analyze=False)
        del t.env['GST_DEBUG']
        callee = t.phone('2001', server, source='tone:660', analyze=False, auto_answer=True)
        warm_up(caller, callee)
        warm_active = caller.find('call', peer='2001', state='active')[0]
        ledger = Ledger()
        ledger.baseline([caller, callee])
        resources(caller, reset=True)

    cycles = []
    started = time.monotonic()
    with t.step(f'{CYCLES} dial -> hang-up cycles: every call ends normally on both sides'):
        for i in range(CYCLES):
            since, since_callee = caller.mark(), callee.mark()
            delay = random.uniform(0, MAX_DELAY)
            polls = sorted(random.uniform(0, delay) for _ in range(random.randrange(3)))
            caller.send('dial 2001')
            t0 = time.monotonic()
            last_poll = None
            for at in polls:
                caller.idle(at - elapsed(t0))
                caller.send('stats 2001')
                last_poll = caller.mark()
            caller.idle(delay - elapsed(t0))
            # A stats request is in flight if its reply has not come back yet.
            in_flight = last_poll is not None and not caller.find('stats', since=last_poll)
            caller.send('hangup 2001')
            ended = caller.wait_call('2001', 'ended', since=since)
            if ended['reason'] != 'normal':
                raise Failure(f'cycle {i}: the call ended with {ended["reason"]}\n'
                              + caller.recent(since))
            states = [e['state'] for e in caller.find('call', since=since, peer='2001')
                      if e['_n'] < ended['_n']]
            errors = caller.find('error', since=since)
            if errors:
                raise Failure(f'cycle {i}: error events {errors}\n' + caller.recent(since))
            if 'dialing' in states:
                # The callee got the offer: its call ends too, normally.
                callee.wait_call('1001', 'ended', since=since_callee,
                                 call_id=ended['call_id'], reason='normal')
            if i in (10, 20, 30):
                ledger.early([caller, callee])
            cycles.append({'states': states, 'ended': ended, 'in_flight': in_flight,
                           'active': next((e for e in caller.find('call', since=since)
                                           if e['state'] == 'active'), None),
                           'dialing': next((e for e in caller.find('call', since=since)
                                            if e['state'] == 'dialing'), None)})
        rate = CYCLES / elapsed(started)
    t.diag(f'{CYCLES} cycles in {elapsed(started):.1f} s ({rate:.1f} cycles/s)')

    with t.step('where the hang-ups landed: every kind of moment was hit', fatal=False):
        ice, peer = gst_times(caller.log_path)
        # The warm-up call's `active` is the first peer "connected" of the log.
        offset = warm_active['t'] - peer[0] if peer else None
        counts = {}
        for c in cycles:
            states, ended = c['states'], c['ended']
            hung_up_at = ended['t'] - ended['teardown_ms'] / 1000.0
            landed = states[-1] if states else 'before-offer'
            if landed == 'connecting' and offset is not None:
                start = c['dialing']['t'] if c['dialing'] else 0
                ice_done = any(start - offset <= x <= hung_up_at - offset for x in ice)
                landed = 'dtls' if ice_done else 'ice'
            elif landed == 'active':
                after = (hung_up_at - c['active']['t']) * 1000
                landed = 'active<50ms' if after < JUST_AFTER_ACTIVE_MS else 'active'
            counts[landed] = counts.get(landed, 0) + 1
            if c['in_flight'] and states:
                counts['stats-in-flight'] = counts.get('stats-in-flight', 0) + 1
        teardown = sorted(c['ended']['teardown_ms'] for c in cycles)
        order = ('before-offer', 'dialing', 'ringing', 'connecting', 'ice', 'dtls',
                 'active<50ms', 'active', 'stats-in-flight')
        t.diag('hang-ups landed: ' + ', '.join(f'{k} {counts[k]}' for k in order if k in counts)
               + '  (stats-in-flight overlaps the others)')
        t.diag(f'teardown ms (hang-up -> NULL): median {statistics.median(teardown):.1f}, '
               f'max {teardown[-1]:.1f}')
        missing = [k for k in REQUIRED if not counts.get(k)]
        if CYCLES >= 200 and missing:
            raise Failure(f'no hang-up landed in: {", ".join(missing)}')

    with t.step('both phones settle back to their baseline'):
        ledger.check(t, [caller, callee])

    with t.step('quit: both phones exit 0; the server stops with 0'):
        quit_all(caller, callee)
        rc = server.stop()
        assert rc == 0, f'server exit status {rc}'

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Group dial of 8 and `hangup-all`, PARTYLINE_GROUP_ROUNDS (default 100)
rounds. Of the eight callees, four answer at once, two after a delay
(--auto-answer=150 and =400) and two never answer, so each group has calls
still dialing, ringing, connecting and active when it is hung up. Odd rounds
hang up as soon as the four quick calls are active (the two delayed ones are
then ringing); even rounds after a random 0-300 ms (seeded), so the group
hang-up also lands while the offers are still being made.

Every round: exactly one `all-ended` with count 8, after every call of the
group reported `ended` (reason normal); every callee that got the call ends
it with reason normal. At the end the caller's longest main-loop stall and
the group hang-up times are printed, and all nine phones settle back to
their baseline and exit 0."""

import statistics
import time

from torture import Failure, Ledger, Test, elapsed, knob, quit_all, resources, rng, watchdog

ROUNDS = knob('PARTYLINE_GROUP_ROUNDS', 100)
QUICK = ['2001', '2002', '2003', '2004']
DELAYED = {'2005': 150, '2006': 400}
SILENT = ['2007', '2008']
GROUP = QUICK + list(DELAYED) + SILENT

with Test('group-hangup', plan=5, watchdog=watchdog(600)) as t:
    random = rng(t)

    with t.step('server, a caller and eight callees register'):
        server = t.server()
        caller = t.phone('1001', server, analyze=False)
        callees = {}
        for n in QUICK:
            callees[n] = t.phone(n, server, source='tone:660', analyze=False, auto_answer=True)
        for n, ms in DELAYED.items():
            callees[n] = t.phone(n, server, source='tone:660', analyze=False,
                                 args=[f'--auto-answer={ms}'])
        for n in SILENT:
            callees[n] = t.phone(n, server, source='tone:660', analyze=False)
        ledger = Ledger()

    group_ms, landed = [], {}

    def group_round(i):
        """One group dial and hang-up; odd rounds wait for the quick calls."""
        since = caller.mark()
        since_callee = {n: p.mark() for n, p in callees.items()}
        caller.send('dial ' + ' '.join(GROUP))
        if i % 2:
            for n in QUICK:
                caller.wait_call(n, 'active', since=since)
        else:
            caller.idle(random.uniform(0, 0.300))
        caller.send('hangup-all')
        done = caller.wait_event('all-ended', since=since)
        if done['count'] != len(GROUP):
            raise Failure(f'round {i}: all-ended count {done["count"]}\n' + caller.recent(since))
        group_ms.append(done['ms'])
        for n in GROUP:
            ended = caller.find('call', since=since, peer=n, state='ended')
            if not ended or ended[0]['_n'] > done['_n'] or ended[0]['reason'] != 'normal':
                raise Failure(f'round {i}: the call to {n} did not end normally before '
                              'all-ended\n' + caller.recent(since, count=40))
            states = [e['state'] for e in caller.find('call', since=since, peer=n)]
            moment = states[-2] if len(states) > 1 else 'before-offer'
            landed[moment] = landed.get(moment, 0) + 1
            if 'dialing' in states:
                callees[n].wait_call('1001', 'ended', since=since_callee[n],
                                     call_id=ended[0]['call_id'], reason='normal')
        caller.sync()
        if len(caller.find('all-ended', since=since)) != 1:
            raise Failure(f'round {i}: more than one all-ended\n' + caller.recent(since))

    with t.step('one warm-up group round; baseline taken'):
        group_round(1)
        ledger.baseline([caller, *callees.values()])
        resources(caller, reset=True)
        group_ms.clear()
        landed.clear()

    started = time.monotonic()
    with t.step(f'{ROUNDS} rounds of dial 8 -> hangup-all: one all-ended (count 8) after '
                'every call ended; every callee\'s call ends normally'):
        for i in range(ROUNDS):
            group_round(i)
            if i in (1, 3, 5):
                ledger.early([caller, *callees.values()])
    stall = resources(caller)['max_stall_ms']
    t.diag(f'{ROUNDS} rounds in {elapsed(started):.1f} s; group hang-up (hangup-all -> '
           f'all-ended) median {statistics.median(group_ms):.1f} ms, max {max(group_ms):.1f} ms; '
           f'longest main-loop stall of the caller {stall} ms')
    t.diag('calls hung up while: ' + ', '.join(f'{k} {v}' for k, v in sorted(landed.items())))

    with t.step('all nine phones settle back to their baseline'):
        ledger.check(t, [caller, *callees.values()])

    with t.step('quit: all nine phones exit 0; the server stops with 0'):
        quit_all(caller, *callees.values())
        rc = server.stop()
        assert rc == 0, f'server exit status {rc}'

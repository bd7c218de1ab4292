#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Races: the callee hangs up, rejects or answers at the same instant the
caller hangs up; the two commands go out caller first, callee first, or
simultaneously (two threads released together by a barrier, neither waiting
for the other). PARTYLINE_RACE_ROUNDS (default 30) rounds of each of the
3 x 3 combinations, in a shuffled order.

Whichever command lands first wins; the other may then find no call (an
`error` event saying so is the only error allowed). Every round, each side's
call ends once, with a reason its own or the other side's command explains;
afterwards both phones settle back to their baseline and exit 0."""

import threading

from torture import Failure, Ledger, Test, knob, quit_all, rng, watchdog

ROUNDS = knob('PARTYLINE_RACE_ROUNDS', 30)
KINDS = ('hangup', 'reject', 'answer')
ORDERS = ('caller-first', 'callee-first', 'simultaneous')
# What a command that lost the race may say (docs/cli.md: an error event, nothing changed).
LOST = ('no call with', 'is not waiting for an answer')
# The reasons each side's call may end with, per kind of race.
REASONS = {'hangup': {'normal'}, 'reject': {'normal', 'rejected'}, 'answer': {'normal'}}


def send_both(first, second, order):
    """Send the two (phone, line) pairs in the given order, without waiting."""
    if order == 'caller-first':
        for phone, line in (first, second):
            phone.send(line)
    elif order == 'callee-first':
        for phone, line in (second, first):
            phone.send(line)
    else:
        barrier = threading.Barrier(2)
        failures = []

        def go(phone, line):
            barrier.wait()
            try:
                phone.send(line)
            except Failure as e:
                failures.append(e)

        threads = [threading.Thread(target=go, args=pair) for pair in (first, second)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if failures:
            raise failures[0]


def errors(phone, since):
    """Error events, less those of the harness's own `sync` round trips."""
    return [ev for ev in phone.find('error', since=since)
            if not str(ev.get('command', '')).startswith('sync-')]


def check_errors(phone, since, round_name):
    for ev in errors(phone, since):
        if not any(text in ev.get('message', '') for text in LOST):
            raise Failure(f'{round_name}: unexpected error on {phone.number}: {ev}\n'
                          + phone.recent(since))


with Test('races', plan=4, watchdog=watchdog(300)) as t:
    random = rng(t)

    with t.step('server and two phones register; one warm-up call; baseline taken'):
        server = t.server()
        caller = t.phone('1001', server, analyze=False)
        callee = t.phone('2001', server, source='tone:660', analyze=False)
        # The warm-up call is answered by hand: the callee does not auto-answer.
        since_callee = callee.mark()
        caller.send('dial 2001')
        callee.wait_call('1001', 'incoming', since=since_callee)
        callee.send('answer 1001')
        caller.send('hangup 2001')
        caller.wait_call('2001', 'ended')
        callee.wait_call('1001', 'ended', since=since_callee)
        ledger = Ledger()
        ledger.baseline([caller, callee])

    rounds = [(k, o) for k in KINDS for o in ORDERS] * ROUNDS
    random.shuffle(rounds)
    tally = {}
    with t.step(f'{len(rounds)} rounds: both sides\' calls end, each once, with a reason '
                'one of the two commands explains'):
        for i, (kind, order) in enumerate(rounds):
            name = f'round {i} ({kind}, {order})'
            since, since_callee = caller.mark(), callee.mark()
            caller.send('dial 2001')
            incoming = callee.wait_call('1001', 'incoming', since=since_callee)
            if kind == 'hangup':
                # Both sides hang up an active call.
                callee.send('answer 1001')
                caller.wait_call('2001', 'active', since=since)
                callee.wait_call('1001', 'active', since=since_callee)
                callee_line = 'hangup 1001'
            else:
                callee_line = f'{kind} 1001'
            send_both((caller, 'hangup 2001'), (callee, callee_line), order)
            mine = caller.wait_call('2001', 'ended', since=since)
            theirs = callee.wait_call('1001', 'ended', since=since_callee,
                                      call_id=incoming['call_id'])
            # Let each phone's command loop catch up before counting errors.
            caller.sync()
            callee.sync()
            for phone, ev, s in ((caller, mine, since), (callee, theirs, since_callee)):
                if ev['reason'] not in REASONS[kind]:
                    raise Failure(f'{name}: {phone.number} ended with {ev["reason"]}\n'
                                  + phone.recent(s))
                n = len(phone.find('call', since=s, state='ended'))
                if n != 1:
                    raise Failure(f'{name}: {phone.number} reported {n} ended calls\n'
                                  + phone.recent(s))
                check_errors(phone, s, name)
            lost = ('caller' if errors(caller, since) else '') + \
                   ('callee' if errors(callee, since_callee) else '')
            key = f'{kind}/{order}: ' + (f'{lost} command lost' if lost else 'both applied')
            tally[key] = tally.get(key, 0) + 1
    t.diag('\n'.join(f'{k}: {v}' for k, v in sorted(tally.items())))

    with t.step('both phones settle back to their baseline'):
        ledger.check(t, [caller, callee])

    with t.step('quit: both phones exit 0; the server stops with 0'):
        quit_all(caller, callee)
        rc = server.stop()
        assert rc == 0, f'server exit status {rc}'

# SPDX-License-Identifier: GPL-3.0-or-later
"""What the torture tests share, on top of the integration harness
(partyline.py, imported, not copied).

- `knob()`: a count or seed from the environment, so that the sanitizer and
  valgrind runs can ask for a shorter churn (PARTYLINE_CHURN_CYCLES, …).
- `rng()`: the test's random generator; its seed is printed, and
  PARTYLINE_TORTURE_SEED replays a run.
- `Ledger`: the clean-up check. `ledger.baseline(phones)` runs one warm-up
  call per caller beforehand (see `warm_up`), then takes each phone's
  `settle` figures; `ledger.check(t, phones)` at the end settles every phone
  again and requires calls, peers, webrtcbins and nice_agents at 0, file
  descriptors back to the baseline exactly, and threads not grown.

Threads are compared with an allowance, THREAD_SLACK. A settled phone
still holds idle threads: GStreamer's streaming threads and our worker
threads (pl-worker.c) come from GLib thread pools that are not exclusive, and
GLib 2.74 lets a thread of such a pool wait 0.5 s for new work, then keeps up
to 2 unused threads process-wide (gthreadpool.c); GstSystemClock starts its
thread lazily. Baseline and end are both taken right after a call ended, so
both hold about the same idle threads; what varies is how many of them have
exited yet. A leak of one thread per call would show as hundreds over a
churn, far beyond the allowance.
"""

import os
import random
import signal
import time

from partyline import (DEFAULT_TIMEOUT, TIMEOUT_MULTIPLIER, Failure, Match,  # noqa: F401
                       Test, quit_all, wait_any)

THREAD_SLACK = 8
SETTLE_TIMEOUT = 10.0 * TIMEOUT_MULTIPLIER


def knob(name, default):
    """An integer from $name, or `default`."""
    value = os.environ.get(name)
    return int(value) if value else default


def rng(t):
    seed = knob('PARTYLINE_TORTURE_SEED', random.SystemRandom().randrange(2 ** 32))
    t.diag(f'random seed {seed} (replay with PARTYLINE_TORTURE_SEED={seed})')
    return random.Random(seed)


def watchdog(seconds):
    """A test's watchdog, scaled for slow runs (valgrind, sanitizers)."""
    return seconds * TIMEOUT_MULTIPLIER


def resources(phone, reset=False):
    since = phone.mark()
    phone.send('resources reset' if reset else 'resources')
    return phone.wait_event('resources', since=since)


def settle(phone, timeout=SETTLE_TIMEOUT):
    """`settle`: the phone's figures once no pipeline of it is left."""
    since = phone.mark()
    phone.send('settle')
    return phone.wait_event('resources', since=since, timeout=timeout)


def warm_up(caller, callee):
    """One full call and its hang-up: what every later call will find in place
    (the DTLS key, GStreamer's registry and pools, the worker threads)."""
    since, since_callee = caller.mark(), callee.mark()
    caller.send(f'dial {callee.number}')
    caller.wait_call(callee.number, 'active', since=since)
    callee.wait_call(caller.number, 'active', since=since_callee)
    caller.send(f'hangup {callee.number}')
    caller.wait_call(callee.number, 'ended', since=since, reason='normal')
    callee.wait_call(caller.number, 'ended', since=since_callee, reason='normal')


class Ledger:
    """Baseline figures per phone, and the check against them.

    Threads: see THREAD_SLACK. A test may also call `early()` a few times
    early in its run (after a round like its last one): the end is then
    compared with the largest of those settled counts, so that idle threads
    of a busier moment are not taken for growth."""

    FIELDS = ('calls', 'peers', 'webrtcbins', 'nice_agents')

    def __init__(self):
        self.base = {}
        self.early_threads = {}

    def baseline(self, phones):
        for phone in phones:
            self.base[phone.number] = settle(phone)
            self.early_threads[phone.number] = [self.base[phone.number]['threads']]

    def early(self, phones):
        for phone in phones:
            self.early_threads[phone.number].append(settle(phone)['threads'])

    def problems(self, phone):
        """What is wrong with `phone` once settled: a list of strings."""
        now = settle(phone)
        base = self.base[phone.number]
        bad = [f'{k} {now[k]} (expected 0)' for k in self.FIELDS if now[k] != 0]
        if now['pipelines'] != 0:
            bad.append(f'pipelines {now["pipelines"]} (expected 0)')
        if now['fds'] != base['fds']:
            bad.append(f'fds {now["fds"]} (baseline {base["fds"]})')
        early = max(self.early_threads[phone.number])
        if now['threads'] > early + THREAD_SLACK:
            bad.append(f'threads {now["threads"]} (early in the run at most {early}, '
                       f'+ {THREAD_SLACK} allowed)')
        return now, bad

    def check(self, t, phones, what='every phone settles back to its baseline'):
        report, failures = [], []
        for phone in phones:
            now, bad = self.problems(phone)
            base = self.base[phone.number]
            report.append(f'{phone.number}: fds {base["fds"]} -> {now["fds"]}, threads '
                          f'{base["threads"]} (early max {max(self.early_threads[phone.number])})'
                          f' -> {now["threads"]}, RSS {base["rss_kib"]} -> '
                          f'{now["rss_kib"]} KiB, calls/peers/webrtcbins/nice_agents '
                          f'{now["calls"]}/{now["peers"]}/{now["webrtcbins"]}/'
                          f'{now["nice_agents"]}, longest main-loop stall '
                          f'{now["max_stall_ms"]} ms')
            if bad:
                failures.append(f'{phone.number}: ' + ', '.join(bad))
        t.diag('\n'.join(report))
        if failures:
            raise Failure('not back to the baseline:\n' + '\n'.join(failures))


def kill9(process):
    """SIGKILL, then reap; returns the exit status (-9)."""
    process.proc.send_signal(signal.SIGKILL)
    return process.proc.wait(DEFAULT_TIMEOUT)


def elapsed(start):
    return time.monotonic() - start

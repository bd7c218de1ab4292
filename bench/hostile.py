#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The signaling server under hostile load: what an honest phone sees, and what the server holds.

Run it through bench/run (a private network namespace with only `lo`):

    bench/run hostile [--round-trips 300] [--silent 1000] [--burst 200]

One partyline-server with its default limits, and an honest phone (a raw
peer, tests/lib/rawpeer.py) that measures round trips (`peers` →
`peers`) in every part, against the anchor measured in the same run:

1. quiet: the honest phone alone (the anchor);
2. flood: a phone that never reads (tests/lib/attacks.py `Deaf`) while
   another floods it with 60 KB `ice` messages as fast as it can, from a
   process of its own; the server must drop the deaf phone once what waits
   for it passes --max-send-queue (1 MiB). Reported: the time to the drop,
   what was sent, the server's peak RSS before and after, and the honest
   phone's round trips until 2 s after the drop;
3. silent: --silent TCP connections that never send a byte (from 127.0.0.2–5:
   the server allows 256 per address); the server must drop each at its
   handshake deadline (10 s). Reported: how many were dropped and when, and
   the honest phone's round trips meanwhile;
4. burst: --burst connections opened at once while the honest phone keeps
   going: how long each connect took (the listen backlog was 10: 51 of 200
   waited over 1 s for a SYN to be sent again).

The honest phone's requests are paced (every 10 ms in parts 1, 3 and 4, on
the flood's progress in part 2) to stay under the server's rate limit of 200
a second. Ratios are against part 1. Targets (issue 9): during the flood the
honest phone's round trip stays under 50 ms, and the server's peak RSS grows
by less than 16 MiB.
"""

import select
import socket
import sys
import time

sys.dont_write_bytecode = True      # no bench/__pycache__ in the source tree
from attacks import Deaf, Flooder, host_port, round_trip, silent_connections, vm_kib  # noqa: E402
from benchlib import Bench, BenchError, Server, f1, f2, ratio, summary, table  # noqa: E402
from rawpeer import RawPeer  # noqa: E402

TARGET_FLOOD_RTT_MS = 50.0
TARGET_RSS_GROWTH_MIB = 16.0
PACE_S = 0.010
CALL_ID = 'bbbbbbbb-0000-4000-8000-000000000001'
SOURCES = ('127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5')


def paced(honest, count=None, seconds=None):
    """Round trips every PACE_S, `count` of them or for `seconds`."""
    rtts, t0 = [], time.monotonic()
    while (count is None or len(rtts) < count) and \
            (seconds is None or time.monotonic() - t0 < seconds):
        rtts.append(round_trip(honest))
        time.sleep(PACE_S)            # pacing under the rate limit: it waits for nothing
    return rtts


def flood(server_url, pid, honest, limit_s):
    deaf = Deaf(server_url, '5002', error=BenchError)
    flooder = Flooder(server_url, '5001', '5002', CALL_ID)
    hwm0, rss0 = vm_kib(pid, 'VmHWM'), vm_kib(pid, 'VmRSS')
    rtts, hangup = [], None
    t0 = time.monotonic()
    flooder.start()
    try:
        while hangup is None and time.monotonic() - t0 < limit_s:
            if not flooder.progress.wait(timeout=10):
                raise BenchError('the flood stalled')
            flooder.progress.clear()
            rtts.append(round_trip(honest))
            hangup = flooder.hangup()
        dropped_s = time.monotonic() - t0
        while time.monotonic() - t0 < dropped_s + 2.0:
            if flooder.progress.wait(timeout=10):
                flooder.progress.clear()
            rtts.append(round_trip(honest))
    finally:
        flooder.stop()
    deaf.close()
    if hangup is None:
        raise BenchError(f'the deaf phone was not dropped within {limit_s:.0f} s '
                         f'({flooder.sent} messages sent)')
    return {'dropped_after_s': round(dropped_s, 3), 'hangup': hangup,
            'messages_sent': flooder.sent,
            'mib_sent': round(flooder.sent * 60000 / 2**20, 1),
            'server_rss_before_kib': rss0, 'server_hwm_before_kib': hwm0,
            'server_hwm_after_kib': vm_kib(pid, 'VmHWM'),
            'server_rss_after_kib': vm_kib(pid, 'VmRSS'),
            'rtt_ms': rtts, 'rtt': summary(rtts)}


def silent(server_url, honest, count):
    socks = silent_connections(server_url, count, SOURCES)
    t0 = time.monotonic()
    open_socks, drops, rtts = {s.fileno(): s for s in socks}, [], []
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN | select.POLLHUP | select.POLLERR)
    next_rtt = t0
    while open_socks and time.monotonic() - t0 < 30.0:
        timeout_ms = max(0, int((next_rtt - time.monotonic()) * 1000))
        for fd, _ in poller.poll(timeout_ms):
            s = open_socks.pop(fd, None)
            if s is None:
                continue
            try:
                data = s.recv(64)
            except OSError:
                data = b''
            if not data:
                drops.append(time.monotonic() - t0)
            poller.unregister(fd)
            s.close()
        if time.monotonic() >= next_rtt:
            rtts.append(round_trip(honest))
            next_rtt = time.monotonic() + PACE_S
    for s in open_socks.values():
        s.close()
    return {'connections': count, 'dropped': len(drops), 'still_open_after_30_s': len(open_socks),
            'drop_s': summary(drops), 'rtt_ms': rtts, 'rtt': summary(rtts)}


def burst(server_url, honest, count):
    host, port = host_port(server_url)
    socks, times = [], []
    t0 = time.monotonic()
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((SOURCES[i % len(SOURCES)], 0))
        s.setblocking(False)
        s.connect_ex((host, port))
        socks.append((s, time.monotonic()))
    pending = {s.fileno(): (s, t) for s, t in socks}
    poller = select.poll()
    for s, _ in socks:
        poller.register(s, select.POLLOUT)
    while pending and time.monotonic() - t0 < 10.0:
        for fd, _ in poller.poll(100):
            s, t = pending.pop(fd)
            poller.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                times.append((time.monotonic() - t) * 1000.0)
    rtts = paced(honest, count=50)
    for s, _ in socks:
        s.close()
    return {'connections': count, 'connected': len(times),
            'over_1_s': sum(1 for x in times if x > 1000.0),
            'connect_ms': summary(times), 'rtt_ms': rtts, 'rtt': summary(rtts)}


def tables(result):
    if 'quiet' not in result:
        return ''
    q = result['quiet']['rtt']
    rows = [['quiet (the anchor)', f2(q['median']), f2(q['p95']), f2(q['max']), '1.00', '1.00']]
    for key, label in (('flood', 'a deaf phone flooded'), ('silent', 'silent connections'),
                       ('burst', 'a burst of connections')):
        if key in result:
            r = result[key]['rtt']
            rows.append([label, f2(r['median']), f2(r['p95']), f2(r['max']),
                         ratio(r['median'], q['median']), ratio(r['p95'], q['p95'])])
    out = ['The honest phone\'s round trip (`peers` → `peers`), ms:', '',
           table(['part', 'median', 'p95', 'max', '× quiet median', '× quiet p95'], rows)]
    if 'flood' in result:
        f = result['flood']
        growth = (f['server_hwm_after_kib'] - f['server_rss_before_kib']) / 1024
        out += ['', f'flood: the deaf phone was dropped after {f["dropped_after_s"]:.2f} s '
                f'({f["messages_sent"]} messages, {f["mib_sent"]} MiB, sent until 2 s after); the server\'s peak '
                f'RSS {f["server_hwm_after_kib"] / 1024:.1f} MiB, '
                f'{growth:+.1f} MiB over its RSS before; RSS after '
                f'{f["server_rss_after_kib"] / 1024:.1f} MiB']
    if 'silent' in result:
        s = result['silent']
        out += [f'silent: {s["dropped"]} of {s["connections"]} dropped, at '
                f'{f1(s["drop_s"]["min"])}–{f1(s["drop_s"]["max"])} s '
                f'(median {f1(s["drop_s"]["median"])} s); {s["still_open_after_30_s"]} still open']
    if 'burst' in result:
        b = result['burst']
        out += [f'burst: {b["connected"]} of {b["connections"]} connected; connect median '
                f'{f2(b["connect_ms"]["median"])} ms, max {f2(b["connect_ms"]["max"])} ms; '
                f'{b["over_1_s"]} over 1 s']
    return '\n'.join(out)


def main():
    bench = Bench('hostile', __doc__, ('server',), watchdog=300.0)
    ap = bench.ap
    ap.add_argument('--round-trips', type=int, default=300,
                    help='round trips of the quiet anchor (default 300)')
    ap.add_argument('--silent', type=int, default=1000,
                    help='silent connections (default 1000; at most 1000, 0 skips)')
    ap.add_argument('--burst', type=int, default=200,
                    help='connections opened at once (default 200; at most 1000, 0 skips)')
    args = bench.parse()
    if not 10 <= args.round_trips <= 10000 or not 0 <= args.silent <= 1000 or \
            not 0 <= args.burst <= 1000:
        ap.error('--round-trips 10–10000, --silent 0–1000, --burst 0–1000')
    rc = bench.start()
    if rc is not None:
        return rc
    result, progress = bench.result, bench.progress
    try:
        server = Server(bench.children, bench.paths['server'])
        pid = server.proc.pid
        honest = RawPeer(server.url)
        honest.send({'type': 'register', 'number': '5003'})
        honest.expect(type='registered')

        progress(f'bench: quiet, {args.round_trips} round trips')
        rtts = paced(honest, count=args.round_trips)
        result['quiet'] = {'rtt_ms': rtts, 'rtt': summary(rtts)}

        progress('bench: flood of a phone that does not read')
        result['flood'] = flood(server.url, pid, honest, 30.0)
        f = result['flood']
        growth = (f['server_hwm_after_kib'] - f['server_rss_before_kib']) / 1024
        if f['rtt']['max'] >= TARGET_FLOOD_RTT_MS:
            bench.failures.append(f'flood: a round trip took {f["rtt"]["max"]:.1f} ms '
                                  f'(target < {TARGET_FLOOD_RTT_MS:.0f})')
        if growth >= TARGET_RSS_GROWTH_MIB:
            bench.failures.append(f'flood: the server grew by {growth:.1f} MiB '
                                  f'(target < {TARGET_RSS_GROWTH_MIB:.0f})')

        if args.silent:
            progress(f'bench: {args.silent} silent connections (about 11 s)')
            result['silent'] = silent(server.url, honest, args.silent)
            if result['silent']['dropped'] != args.silent:
                bench.failures.append(f'silent: {result["silent"]["dropped"]} of '
                                      f'{args.silent} dropped')
        if args.burst:
            progress(f'bench: a burst of {args.burst} connections')
            result['burst'] = burst(server.url, honest, args.burst)
            if result['burst']['over_1_s'] or result['burst']['connected'] != args.burst:
                bench.failures.append(f'burst: {result["burst"]["connected"]} of {args.burst} '
                                      f'connected, {result["burst"]["over_1_s"]} over 1 s')
        result['server_rss_end_kib'] = vm_kib(pid, 'VmRSS')
    except (BenchError, OSError) as e:
        bench.abort(e)
    return bench.finish(tables)


if __name__ == '__main__':
    sys.exit(main())

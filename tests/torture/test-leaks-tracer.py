#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""GStreamer's `leaks` tracer on a churn: PARTYLINE_LEAKS_CYCLES (default
100) dial -> hang-up cycles at a random 0-300 ms (seeded) and a few group
hang-ups, then every phone settles, and gets SIGUSR1 (GST_LEAKS_TRACER_SIG),
on which the tracer lists every GstObject still alive ("object-alive"
records, then "listed N alive objects"). The phones log to a FIFO each
(GST_DEBUG_FILE), read by a thread, so the test waits for that last line
instead of polling a file.

A settled phone has no call, so nothing of ours may be alive: no pipeline
named call-* or shared-source-pt*, and no element, pad, bin or bus at all
(src/phone creates every one in the process; GStreamer keeps none of its own
once our pipelines are gone). Objects of other kinds that GStreamer keeps
for the process (its DTLS agent and certificate, the system clock, task
pools, tracer records) are listed with their count and allowed; so are
GstDtlsConnection objects, which GStreamer 1.22.0's dtls plugin creates and
sometimes never frees (a few per hundred calls on the caller, each with
ref-count 6 and no element left around it). The phones then exit 0."""

import os
import queue
import re
import signal
import threading
import time

from torture import (DEFAULT_TIMEOUT, Failure, Ledger, Test, knob, quit_all, rng, warm_up,
                     watchdog)

CYCLES = knob('PARTYLINE_LEAKS_CYCLES', 100)
ALIVE = re.compile(r'object-alive, type-name=\(string\)(\w+), address=\(gpointer\)(\w+), '
                   r'description=\(string\)(?:"(.*?)"|(\S*?)), ref-count')
LISTED = re.compile(r'listed\s+(\d+)\s+alive\s+objects')
# Types of ours: elements, pads, bins, buses (see the docstring). GstDtlsConnection
# is not: the dtls plugin creates it, and on 1.22.0 some outlive their elements.
OURS = re.compile(r'(Pad|Bin|Bus|Pipeline|Sink|Src|Element|Dec|Enc|Pay|Depay|Queue|Tee|Convert|'
                  r'Resample|Level|Spectrum|Volume|Valve|Capsfilter|Demux|Mux|Filter|Jitter|'
                  r'Session|Webrtc|WebRTC|Nice|Dtls|Srtp|Rtp|RTP|Proxy)')
# What GStreamer keeps for the whole process, whatever the application does.
PROCESS_WIDE = {'GstSystemClock', 'GstTaskPool', 'GstTracerRecord', 'GstLeaksTracer',
                'GstDtlsAgent', 'GstDtlsCertificate', 'GstRegistry', 'GstPlugin',
                'GstPluginFeature', 'GstElementFactory', 'GstTypeFindFactory',
                'GstDeviceProviderFactory', 'GstTracerFactory', 'GstDynamicTypeFactory',
                'GstAllocatorSysmem', 'GstAllocator'}


class Fifo:
    """A named pipe a phone logs into; a thread hands its lines over."""

    def __init__(self, path):
        self.path = path
        os.mkfifo(path)
        self.lines = queue.Queue()
        self.copy = open(path + '.log', 'w')
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        with open(self.path, errors='replace') as f:     # blocks until the phone opens it
            for line in f:
                self.copy.write(line)
                self.copy.flush()
                self.lines.put(line)
        self.lines.put(None)

    def listing(self, timeout):
        """Lines up to "listed N alive objects"; returns (N, alive lines)."""
        alive = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise Failure(f'no "listed N alive objects" within {timeout} s') from None
            if line is None:
                raise Failure('the phone closed its log before listing its objects')
            if 'GST_TRACER :0:: object-alive, ' in line:
                alive.append(line)
            m = LISTED.search(line)
            if m:
                return int(m.group(1)), alive


with Test('leaks-tracer', plan=5, watchdog=watchdog(400)) as t:
    random = rng(t)

    with t.step('server and three phones with the leaks tracer register; warm-up'):
        server = t.server()
        fifos = {}
        phones = []
        for number, extra in (('1001', {}), ('2001', {'auto_answer': True}),
                              ('2002', {'auto_answer': True})):
            fifos[number] = Fifo(os.path.join(t.logdir, f'{number}.gst'))
            t.env.update(GST_TRACERS='leaks(filters=GstObject)', GST_LEAKS_TRACER_SIG='1',
                         GST_DEBUG='GST_TRACER:7,leaks:7', GST_DEBUG_NO_COLOR='1',
                         GST_DEBUG_FILE=fifos[number].path)
            phones.append(t.phone(number, server, analyze=False, **extra))
        for key in ('GST_TRACERS', 'GST_LEAKS_TRACER_SIG', 'GST_DEBUG', 'GST_DEBUG_FILE'):
            del t.env[key]
        caller, callee, other = phones
        warm_up(caller, callee)
        ledger = Ledger()
        ledger.baseline(phones)

    with t.step(f'{CYCLES} churn cycles and {CYCLES // 10} group hang-ups'):
        for i in range(CYCLES):
            since = caller.mark()
            caller.send('dial 2001')
            caller.idle(random.uniform(0, 0.300))
            caller.send('hangup 2001')
            caller.wait_call('2001', 'ended', since=since, reason='normal')
            if i % 10 == 9:
                since = caller.mark()
                caller.send('dial 2001 2002')
                caller.idle(random.uniform(0, 0.300))
                caller.send('hangup-all')
                caller.wait_event('all-ended', since=since, count=2)

    with t.step('every phone settles back to its baseline'):
        ledger.check(t, phones)

    with t.step('the leaks tracer lists no object of ours alive in any settled phone'):
        report, ours = [], []
        for phone in phones:
            phone.proc.send_signal(signal.SIGUSR1)
            count, alive = fifos[phone.number].listing(DEFAULT_TIMEOUT)
            kinds = {}
            for line in alive:
                m = ALIVE.search(line)
                if not m:
                    raise Failure(f'cannot read {line!r}')
                type_name, desc = m.group(1), m.group(3) or m.group(4) or ''
                kinds[type_name] = kinds.get(type_name, 0) + 1
                if type_name == 'GstDtlsConnection':
                    continue
                if ('call-' in desc or 'shared-source-pt' in desc or
                        (type_name not in PROCESS_WIDE and OURS.search(type_name))):
                    ours.append(f'{phone.number}: {type_name} {desc}')
            report.append(f'{phone.number}: {count} GstObjects alive: '
                          + ', '.join(f'{k} {v}' for k, v in sorted(kinds.items())))
        t.diag('\n'.join(report))
        if ours:
            raise Failure('objects of ours still alive:\n' + '\n'.join(ours[:50]))

    with t.step('quit: every phone exits 0; the server stops with 0'):
        quit_all(*phones)
        rc = server.stop()
        assert rc == 0, f'server exit status {rc}'

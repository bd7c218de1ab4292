#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The other sources, sinks and start-up options: alice sends a file
(`--source file:`, looped) and dials with `--dial`; bob answers after 400 ms
(`--auto-answer=400`), sends `silence` and records (`--sink record:DIR`).
Bob hears the file's tone, alice hears silence; then alice is killed
(SIGKILL, an abrupt end for bob) and bob's recording must still be a
finalized Ogg/Opus file: its last page carries the end-of-stream flag and it
holds at least one second of audio."""

import os
import shutil
import signal
import struct

from partyline import Failure, Test, number, positive, quit_all

FILE_HZ = 1000
ANSWER_MS = 400


def ogg_pages(path):
    """(flags, granule position) of every page; fails unless the whole file
    is a sequence of well-formed Ogg pages."""
    with open(path, 'rb') as f:
        data = f.read()
    pages, at = [], 0
    while at < len(data):
        if data[at:at + 4] != b'OggS' or len(data) < at + 27:
            raise Failure(f'{path}: no Ogg page at byte {at} of {len(data)}')
        flags, granule = data[at + 5], struct.unpack_from('<q', data, at + 6)[0]
        nsegs = data[at + 26]
        body = sum(data[at + 27:at + 27 + nsegs])
        at += 27 + nsegs + body
        if at > len(data):
            raise Failure(f'{path}: the last page is cut short')
        pages.append((flags, granule))
    return pages


with Test('sources-sinks', plan=6) as t:
    gst_launch = shutil.which('gst-launch-1.0')
    record_dir = os.path.join(t.logdir, 'records')
    tone_file = os.path.join(t.logdir, f'tone-{FILE_HZ}.ogg')

    with t.step(f'make a one-second {FILE_HZ} Hz Ogg/Opus file with gst-launch-1.0'):
        if not gst_launch:
            raise Failure('gst-launch-1.0 is not installed')
        os.makedirs(record_dir)
        rc, out, err = t.run([gst_launch, 'audiotestsrc', 'num-buffers=48', 'samplesperbuffer=1000',
                              f'freq={FILE_HZ}', 'volume=0.3', '!', 'audio/x-raw,rate=48000',
                              '!', 'opusenc', '!', 'oggmux', '!', 'filesink',
                              f'location={tone_file}'])
        if rc != 0:
            raise Failure(f'gst-launch-1.0 failed: {out}{err}')

    with t.step('bob registers; alice registers and dials him with --dial'):
        server = t.server()
        bob = t.phone('1002', server, source='silence', sink=f'record:{record_dir}',
                      args=[f'--auto-answer={ANSWER_MS}'])
        alice = t.phone('1001', server, source=f'file:{tone_file}', args=['--dial', '1002'])

    with t.step(f'bob answers after {ANSWER_MS} ms: both calls active'):
        incoming = bob.wait_call('1001', 'incoming')
        active = bob.wait_call('1001', 'active', setup_ms=positive)
        out = alice.wait_call('1002', 'active', setup_ms=positive)
        waited = (active['t'] - incoming['t']) * 1000
        if waited < ANSWER_MS:
            raise Failure(f'bob answered {waited:.0f} ms after the call came in')
        if out['setup_ms'] < ANSWER_MS:
            raise Failure(f'alice connected {out["setup_ms"]} ms after dialing, '
                          f'before bob could answer')

    with t.step(f'bob hears the file\'s {FILE_HZ} Hz (looped past its one second); '
                'alice hears silence'):
        first = bob.wait_tone('1001', FILE_HZ)
        bob.wait_tone('1001', FILE_HZ, since=first['_n'] + 1, timeout=5)   # still there later
        heard = alice.wait_event('media', peer='1002', level_db=number)
        if heard['level_db'] > -50:
            raise Failure(f'alice hears {heard["level_db"]} dB from a silent phone: {heard}')

    with t.step('alice is killed: bob\'s call ends with reason disconnected'):
        since = bob.mark()
        alice.proc.send_signal(signal.SIGKILL)
        alice.wait_exit()
        bob.wait_call('1001', 'ended', since=since, reason='disconnected')

    with t.step('bob\'s recording is one finalized Ogg file with at least a second of audio'):
        files = os.listdir(record_dir)
        if len(files) != 1:
            raise Failure(f'{record_dir} holds {files}, expected one recording')
        path = os.path.join(record_dir, files[0])
        pages = ogg_pages(path)
        flags, granule = pages[-1]
        if not flags & 0x04:
            raise Failure(f'{path}: the last page has no end-of-stream flag (not finalized)')
        seconds = granule / 48000.0
        if seconds < 1.0:
            raise Failure(f'{path}: only {seconds:.2f} s of audio')
        t.diag(f'recording: {path}, {len(pages)} pages, {seconds:.2f} s')
        quit_all(bob)

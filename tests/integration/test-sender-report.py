#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""RTCP sender reports never make rtpsession drop its lock mid-iteration.

GStreamer 1.22.0's rtpsession builds a sender report while iterating its
sources; if the sending source does not know its clock rate yet, it drops
the session lock to ask for it, and a packet from the other side that adds a
source meanwhile raises "g_hash_table_foreach: assertion 'version ==
hash_table->version'" (fixed upstream in b9f7ab6052, 1.22.3). pl-peer.c gives
rtpsession the sender's SSRC and clock rate in the caps, so that path is
never taken. This test reads rtpsession's own debug log: both phones built
sender reports (an RTT is measured both ways), their sending source learned
the clock rate from the caps, and never had to ask for it while reporting.
The race itself is too rare to wait for; the path that opens it is not."""

from partyline import Failure, Test, number, quit_all

ASKED = 'no clock-rate, getting for pt'          # rtpsource.c, rtp_source_get_new_sr
FROM_CAPS = 'got clock-rate 48000'               # rtpsource.c, rtp_source_update_send_caps
REPORT = 'create SR for SSRC'                    # rtpsession.c, session_start_rtcp


def wait_rtt(phone, peer, tries=15):
    """Ask for stats once per `media` event until the RTT is a number: the
    other side has answered one of this phone's sender reports."""
    for _ in range(tries):
        since = phone.mark()
        phone.send(f'stats {peer}')
        ev = phone.wait_event('stats', since=since, peer=peer)
        if number(ev.get('rtt_ms')):
            return ev['rtt_ms']
        phone.wait_event('media', since=phone.mark(), peer=peer)
    raise Failure(f'{phone.number}: no RTT after {tries} stats')


def log_lines(phone):
    with open(phone.log_path, errors='replace') as f:
        return f.readlines()


with Test('sender-report', plan=4) as t:
    debug = [c for c in t.env.get('GST_DEBUG', '').split(',') if c]
    t.env['GST_DEBUG'] = ','.join(debug + ['rtpsource:5', 'rtpsession:5'])
    t.env['GST_DEBUG_NO_COLOR'] = '1'

    with t.step('alice calls bob; each hears the other\'s tone'):
        server = t.server()
        alice = t.phone('1001', server, source='tone:440')
        bob = t.phone('1002', server, source='tone:660', auto_answer=True)
        alice.send('dial 1002')
        alice.wait_call('1002', 'active')
        bob.wait_tone('1001', 440)
        alice.wait_tone('1002', 660)

    with t.step('both sides measure an RTT: each has sent sender reports'):
        for phone, peer in ((alice, '1002'), (bob, '1001')):
            t.diag(f'{phone.number}: rtt {wait_rtt(phone, peer)} ms')

    with t.step('quit: both phones exit 0'):
        quit_all(alice, bob)

    with t.step('rtpsession knew the clock rate from the caps and never asked while reporting'):
        for phone in (alice, bob):
            lines = log_lines(phone)
            reports = [l for l in lines if REPORT in l]
            from_caps = [l for l in lines if FROM_CAPS in l]
            asked = [l for l in lines if ASKED in l]
            t.diag(f'{phone.number}: {len(reports)} sender reports, clock rate from caps '
                   f'{len(from_caps)}×, asked while reporting {len(asked)}×')
            assert reports, f'{phone.number}: no "{REPORT}" in {phone.log_path}'
            assert from_caps, f'{phone.number}: no "{FROM_CAPS}" in {phone.log_path}'
            assert not asked, f'{phone.number}: {asked[0].strip()}'

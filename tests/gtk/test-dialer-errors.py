#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the dialer tells the user when things go wrong, and how it recovers:
a server address that is not one, a refused registration, a microphone that
cannot be opened, devices chosen by name that are not connected, a switch
from one such device to another (only the name changes), a local address
that is not an IP address, and a lost connection, after which it reconnects
by itself with a growing delay once the server is back; then auto-answer.
Settings change by rewriting the GSettings keyfile, as `gsettings set` or
Preferences would."""

from dialer import Dialer, Display, Failure, Test, listen_address, wait_any

with Test('dialer-errors', plan=11, watchdog=120) as t:
    with t.step('a server address that is not one: the banner says so, no retry'):
        Display(t)
        server = t.server()
        t.phone('2001', server, source='tone:523', auto_answer=True)
        dialer = Dialer(t, '1001', 'ws//127.0.0.1/ws', wait_registered=False)
        ev = dialer.wait_event('account', state='failed',
                               banner=lambda b: b and 'is not a server address' in b
                               and 'ws//127.0.0.1/ws' in b)
        t.diag(f'banner: {ev["banner"]}')

    with t.step('a refused registration (the number is taken): the banner says why'):
        since = dialer.mark()
        dialer.write_settings(server_url=server.url, number='2001')
        ev = dialer.wait_event('account', since=since, state='failed',
                               banner=lambda b: b and 'refused to register 2001' in b
                               and 'number-taken' in b)
        t.diag(f'banner: {ev["banner"]}')

    with t.step('a free number: registered, the banner is gone'):
        since = dialer.mark()
        dialer.write_settings(number='1001')
        dialer.wait_event('account', since=since, state='registered', banner=None)

    with t.step('the microphone cannot be opened: the call fails and a message says so'):
        since = dialer.mark()
        dialer.write_settings(audio_source='auto')
        dialer.action('dial', '2001')
        _, ev = wait_any([(dialer, since)], lambda e: (
            e.get('event') == 'message' and 'microphone cannot be opened' in e.get('text', ''))
            or (e.get('event') == 'row' and e.get('state') == 'active'))
        if ev['event'] == 'row':
            t.diag('this machine has a working microphone: nothing to report')
            dialer.action('hangup', '2001')
        else:
            t.diag(f'message: {ev["text"]}')
            dialer.wait_row('2001', 'ended', since=since, status='Ended · Failed')
        since = dialer.mark()
        dialer.write_settings(audio_source='tone:330')
        dialer.wait_event('account', since=since, state='registered')

    with t.step('a microphone or speakers chosen by name that are not connected: messages'):
        since = dialer.mark()
        dialer.write_settings(audio_source='device:No Such Microphone')
        dialer.wait_event('account', since=since, state='registered')
        dialer.action('dial', '2001')
        ev = dialer.wait_event('message', since=since, text=lambda s: 'microphone cannot be opened'
                               in s and "'No Such Microphone' is not connected" in s)
        t.diag(f'message: {ev["text"]}')
        dialer.wait_row('2001', 'ended', since=since, status='Ended · Failed')
        since = dialer.mark()
        dialer.write_settings(audio_source='tone:330', audio_sink='device:No Such Speakers')
        dialer.wait_event('account', since=since, state='registered')
        dialer.action('dial', '2001')
        ev = dialer.wait_event('message', since=since, text=lambda s: 'call with 2001 failed' in s
                               and "'No Such Speakers' is not connected" in s)
        t.diag(f'message: {ev["text"]}')
        dialer.wait_row('2001', 'ended', since=since, status='Ended · Failed')
        since = dialer.mark()
        dialer.write_settings(audio_sink='fake')
        dialer.wait_event('account', since=since, state='registered')

    with t.step('from one microphone or speakers chosen by name to another: the new one is used'):
        def switch_device(key, old, new, text):
            since = dialer.mark()
            dialer.write_settings(**{key: f'device:{old}'})
            dialer.wait_event('account', since=since, state='registered')
            dialer.action('dial', '2001')
            dialer.wait_event('message', since=since, text=lambda s: f"'{old}' is not connected" in s)
            dialer.wait_row('2001', 'ended', since=since, status='Ended · Failed')
            # Only the device's name changes: the account takes the new
            # settings at once (before it reports them) and registers again.
            since = dialer.mark()
            dialer.write_settings(**{key: f'device:{new}'})
            if not dialer.find('account', since=since, state='connecting'):
                raise Failure(f'{key} device:{old} -> device:{new} was ignored (the line was '
                              f'not replaced)\n' + dialer.recent(since))
            dialer.wait_event('account', since=since, state='registered')
            dialer.action('dial', '2001')
            ev = dialer.wait_event('message', since=since, text=lambda s: text in s
                                   and 'is not connected' in s)
            assert f"'{new}' is not connected" in ev['text'], ev
            t.diag(f'message: {ev["text"]}')
            dialer.wait_row('2001', 'ended', since=since, status='Ended · Failed')

        switch_device('audio_source', 'Microphone One', 'Microphone Two',
                      'microphone cannot be opened')
        since = dialer.mark()
        dialer.write_settings(audio_source='tone:330')
        dialer.wait_event('account', since=since, state='registered')
        switch_device('audio_sink', 'Speakers One', 'Speakers Two', 'call with 2001 failed')
        since = dialer.mark()
        dialer.write_settings(audio_sink='fake')
        dialer.wait_event('account', since=since, state='registered')

    with t.step('an ICE address in the settings that is not one: a message says so, '
                'calls use the others'):
        since = dialer.mark()
        dialer.write_settings(ice_addresses=['127.0.0.1', 'localhost'])
        dialer.action('dial', '2001')
        dialer.wait_row('2001', 'active', since=since)
        # Said while the settings were applied, before they were reported.
        ev = dialer.find('message', since=since, text='“localhost” is not an IP address')
        assert ev, dialer.recent(since)
        t.diag(f'message: {ev[0]["text"]}')
        dialer.action('hangup', '2001')
        dialer.wait_row('2001', 'ended', since=since, status='Ended · Hung up')
        dialer.write_settings(ice_addresses=['127.0.0.1'])

    with t.step('the server goes away: "lost", then retries after 1 s, then 2 s'):
        address = listen_address(server.url)
        since = dialer.mark()
        assert server.stop() == 0
        dialer.wait_event('account', since=since, state='retrying',
                          banner=lambda b: b and 'connection to the server was lost' in b
                          and 'Trying again in 1 second.' in b)
        ev = dialer.wait_event('account', since=since, state='retrying',
                               banner=lambda b: b and 'Cannot reach the server' in b
                               and 'Trying again in 2 seconds.' in b, timeout=5)
        t.diag(f'banner: {ev["banner"]}')

    with t.step('the server is back on the same address: the dialer registers by itself'):
        server = t.server(listen=address, name='server-again')
        dialer.wait_event('account', since=since, state='registered', banner=None, timeout=20)
        peer = t.phone('2002', server, source='tone:659', auto_answer=True)
        since = dialer.mark()
        dialer.action('dial', '2002')
        dialer.wait_row('2002', 'active', since=since)
        peer.wait_call('1001', 'active')
        dialer.action('hangup-all')
        dialer.wait_event('all-ended', since=since, count=1)

    with t.step('auto-answer on: a call from 2002 becomes active by itself'):
        since = dialer.mark()
        since_peer = peer.mark()
        dialer.write_settings(auto_answer=True)
        peer.send('dial 1001')
        dialer.wait_row('2002', 'active', since=since, direction='incoming')
        peer.wait_call('1001', 'active', since=since_peer)
        peer.send('hangup 1001')
        dialer.wait_row('2002', 'ended', since=since, status='Ended · Hung up')

    with t.step('app.quit: exit 0'):
        assert dialer.quit() == 0

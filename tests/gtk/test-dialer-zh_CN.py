#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The dialer in Simplified Chinese (the build's own translations): the
account row, a call's row and the history speak Chinese, and a screenshot
(tests/gtk/artifacts/main-window-zh_CN.png) is not blank. Then SIGTERM
ends it cleanly."""

import os
import shutil

from dialer import Dialer, Display, Test

with Test('dialer-zh_CN', plan=3, watchdog=90) as t:
    with t.step('in zh_CN the account row says 已连接 (connected)'):
        display = Display(t)
        server = t.server()
        peer = t.phone('2001', server, source='tone:523', auto_answer=True)
        # `partyline --dial` before the account is registered: it calls once it is.
        dialer = Dialer(t, '1001', server, extra_env={'LANGUAGE': 'zh_CN'},
                        args=('--dial', '2001'), wait_registered=False)
        dialer.wait_event('account', state='registered', status='已连接')

    with t.step('`--dial 2001` at start: 通话中 (active) with its timer, then 已结束 · 已挂断'):
        dialer.wait_row('2001', 'active', status='通话中 · 0:01', timeout=20)
        dialer.wait_event('level', peer='2001', value=lambda v: v > 0.3)
        shot = os.path.join(t.logdir, 'main-window-zh_CN.png')
        stddev, width, height = display.screenshot(shot)
        t.diag(f'screenshot {shot}: {width}x{height}, pixel standard deviation {stddev:.3f}')
        assert stddev > 0.05 and width >= 360, (stddev, width, height)
        artifact_dir = os.environ.get('PARTYLINE_ARTIFACT_DIR')
        if artifact_dir:
            os.makedirs(artifact_dir, exist_ok=True)
            shutil.copy(shot, os.path.join(artifact_dir, 'main-window-zh_CN.png'))
        dialer.action('hangup', '2001')
        dialer.wait_row('2001', 'ended', status='已结束 · 已挂断')
        dialer.wait_event('history', peer='2001', subtitle=lambda s: s.startswith('呼出 · '))

    with t.step('SIGTERM during a call: the call is hung up (normal), exit 0'):
        since = dialer.mark()
        since_peer = peer.mark()
        dialer.action('dial', '2001')
        dialer.wait_row('2001', 'active', since=since)
        dialer.proc.terminate()
        peer.wait_call('1001', 'ended', since=since_peer, reason='normal')
        assert dialer.wait_exit() == 0

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A stand-in for the desktop's notification server on the test's session
bus: it owns org.freedesktop.Notifications and prints each notification it
gets as a JSON line ({"event": "notify", ...}) on standard output, after a
{"event": "ready"} line once it owns the name. It never shows anything."""

import json
import sys

from gi.repository import Gio, GLib

XML = """
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="Notify">
      <arg type="s" direction="in"/><arg type="u" direction="in"/>
      <arg type="s" direction="in"/><arg type="s" direction="in"/>
      <arg type="s" direction="in"/><arg type="as" direction="in"/>
      <arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
      <arg type="u" direction="out"/>
    </method>
    <method name="CloseNotification"><arg type="u" direction="in"/></method>
    <method name="GetCapabilities"><arg type="as" direction="out"/></method>
    <method name="GetServerInformation">
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
    </method>
    <signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
    <signal name="ActionInvoked"><arg type="u"/><arg type="s"/></signal>
  </interface>
</node>
"""

next_id = 1


def emit(event, **fields):
    print(json.dumps({'event': event, **fields}), flush=True)


def on_call(connection, sender, path, interface, method, params, invocation):
    global next_id
    if method == 'Notify':
        app, replaces, icon, summary, body, actions, hints, timeout = params.unpack()
        emit('notify', app=app, summary=summary, body=body, actions=actions,
             urgency=hints.get('urgency'), category=hints.get('category'))
        invocation.return_value(GLib.Variant('(u)', (next_id,)))
        next_id += 1
    elif method == 'CloseNotification':
        emit('close', id=params.unpack()[0])
        invocation.return_value(None)
    elif method == 'GetCapabilities':
        invocation.return_value(GLib.Variant('(as)', (['actions', 'body'],)))
    else:
        invocation.return_value(GLib.Variant('(ssss)', ('fake', 'partyline-tests', '1', '1.2')))


def main():
    loop = GLib.MainLoop()
    node = Gio.DBusNodeInfo.new_for_xml(XML)
    connection = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    connection.register_object('/org/freedesktop/Notifications', node.interfaces[0], on_call,
                               None, None)

    def acquired(*args):
        emit('ready')

    def lost(*args):
        emit('lost')
        loop.quit()

    Gio.bus_own_name_on_connection(connection, 'org.freedesktop.Notifications',
                                   Gio.BusNameOwnerFlags.DO_NOT_QUEUE, acquired, lost)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, loop.quit)
    loop.run()
    return 0


if __name__ == '__main__':
    sys.exit(main())

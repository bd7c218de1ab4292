/* pl-ws-connection.h — the server's end of one WebSocket, with bounds
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  PL_WS_STATE_OPEN,
  PL_WS_STATE_CLOSING,  /* a close frame was sent or received */
  PL_WS_STATE_CLOSED,
} PlWsState;

#define PL_TYPE_WS_CONNECTION (pl_ws_connection_get_type ())

G_DECLARE_FINAL_TYPE (PlWsConnection, pl_ws_connection, PL, WS_CONNECTION, GObject)

/* @stream is what is left of an HTTP connection after a WebSocket
 * handshake. A message longer than @max_message bytes, in one frame or in
 * fragments, is refused (the ::too-large signal) before more than
 * @max_message bytes of it are held. When more than @max_send_queue bytes
 * wait to be written, the peer is not reading: the connection is dropped. */
PlWsConnection *pl_ws_connection_new                    (GIOStream      *stream,
                                                         gsize           max_message,
                                                         gsize           max_send_queue);
PlWsState       pl_ws_connection_get_state              (PlWsConnection *self);
void            pl_ws_connection_send_text              (PlWsConnection *self,
                                                         const char     *text);
/* The close handshake: sends a close frame, reads (and drops) what the peer
 * still sends until its close frame or for 2 s, then closes the stream. */
void            pl_ws_connection_close                  (PlWsConnection *self,
                                                         gushort         code,
                                                         const char     *reason);
/* Closes the stream now, without a close frame. */
void            pl_ws_connection_abort                  (PlWsConnection *self,
                                                         const char     *why);
gushort         pl_ws_connection_get_close_code         (PlWsConnection *self);
void            pl_ws_connection_set_keepalive_interval (PlWsConnection *self,
                                                         guint           seconds);

G_END_DECLS

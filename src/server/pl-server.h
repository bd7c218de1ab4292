/* pl-server.h — the Partyline signaling server (docs/protocol.md)
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PL_SERVER_DEFAULT_RATE_LIMIT          200 /* messages per second */
#define PL_SERVER_DEFAULT_RATE_BURST          400 /* messages */
#define PL_SERVER_DEFAULT_KEEPALIVE_INTERVAL  10  /* seconds between pings */
#define PL_SERVER_DEFAULT_IDLE_TIMEOUT        30  /* seconds of silence before a peer is dropped */
#define PL_SERVER_DEFAULT_MAX_AUTH_FAILURES   3   /* `unauthorized` answers before the close */

/* Bounds on what any client can make the server hold (docs/SECURITY.md).
 * Each is also a property of the same name; 0 turns off the ones that
 * allow it (timeouts, connection counts). */
#define PL_SERVER_DEFAULT_MAX_MESSAGE_SIZE    65536   /* bytes, one frame or reassembled */
#define PL_SERVER_DEFAULT_MAX_SEND_QUEUE      (1024 * 1024) /* bytes waiting for a phone */
#define PL_SERVER_DEFAULT_HANDSHAKE_TIMEOUT   10      /* seconds from connecting */
#define PL_SERVER_DEFAULT_REGISTER_TIMEOUT    10      /* seconds from connecting */
#define PL_SERVER_DEFAULT_MAX_CONNECTIONS     4096
#define PL_SERVER_DEFAULT_MAX_CONNECTIONS_PER_ADDRESS 256
#define PL_SERVER_DEFAULT_LISTEN_BACKLOG      1024

#define PL_TYPE_SERVER (pl_server_get_type ())

G_DECLARE_FINAL_TYPE (PlServer, pl_server, PL, SERVER, GObject)

PlServer           *pl_server_new                    (void);

/* Settings. Each is also a property of the same name. */
const char         *pl_server_get_token              (PlServer           *self);
void                pl_server_set_token              (PlServer           *self,
                                                      const char         *token);
guint               pl_server_get_rate_limit         (PlServer           *self);
void                pl_server_set_rate_limit         (PlServer           *self,
                                                      guint               rate_limit);
guint               pl_server_get_rate_burst         (PlServer           *self);
void                pl_server_set_rate_burst         (PlServer           *self,
                                                      guint               rate_burst);
const char * const *pl_server_get_allowed_origins    (PlServer           *self);
void                pl_server_set_allowed_origins    (PlServer           *self,
                                                      const char * const *origins);
guint               pl_server_get_keepalive_interval (PlServer           *self);
void                pl_server_set_keepalive_interval (PlServer           *self,
                                                      guint               seconds);
guint               pl_server_get_idle_timeout       (PlServer           *self);
void                pl_server_set_idle_timeout       (PlServer           *self,
                                                      guint               seconds);
guint               pl_server_get_max_auth_failures  (PlServer           *self);
void                pl_server_set_max_auth_failures  (PlServer           *self,
                                                      guint               max_failures);

/* Listens on @address (an IP literal) and @port (0 picks a free port) and
 * serves the protocol at /ws. Fails with G_IO_ERROR_ADDRESS_IN_USE when
 * the port is taken, G_IO_ERROR_INVALID_ARGUMENT for a bad address. */
gboolean            pl_server_listen                 (PlServer           *self,
                                                      const char         *address,
                                                      guint16             port,
                                                      GError            **error);
guint16             pl_server_get_port               (PlServer           *self);

guint               pl_server_get_n_connections      (PlServer           *self);
guint               pl_server_get_n_calls            (PlServer           *self);

/* Stops listening, hangs up every call with reason `disconnected` to both
 * parties and closes every WebSocket with code 1001. The connections are
 * gone once :n-connections drops to 0. Idempotent. */
void                pl_server_shutdown               (PlServer           *self);

G_END_DECLS

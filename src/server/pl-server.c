/* pl-server.c — the Partyline signaling server
 *
 * Copyright 2026 The Partyline authors
 *
 * One SoupServer with a WebSocket handler at /ws. Each WebSocket is a
 * Connection; a registered Connection owns one number; a Call links two
 * Connections by its call_id. Everything runs on the thread-default main
 * context of the thread that created the server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-server"

#include "config.h"

#include "pl-server.h"

#include "pl-error.h"
#include "pl-protocol.h"
#include "pl-token-bucket.h"
#include "pl-ws-connection.h"
#include "pl-ws-decoder.h"

#include <libsoup/soup.h>

#include <string.h>

/* Connections refused over a limit are logged at most once a second. */
#define REFUSAL_LOG_INTERVAL_US G_USEC_PER_SEC

static const char too_many_response[] =
  "HTTP/1.1 503 Service Unavailable\r\n"
  "Content-Length: 0\r\n"
  "Connection: close\r\n"
  "\r\n";

enum {
  PROP_0,
  PROP_TOKEN,
  PROP_RATE_LIMIT,
  PROP_RATE_BURST,
  PROP_ALLOWED_ORIGINS,
  PROP_KEEPALIVE_INTERVAL,
  PROP_IDLE_TIMEOUT,
  PROP_MAX_AUTH_FAILURES,
  PROP_MAX_MESSAGE_SIZE,
  PROP_MAX_SEND_QUEUE,
  PROP_HANDSHAKE_TIMEOUT,
  PROP_REGISTER_TIMEOUT,
  PROP_MAX_CONNECTIONS,
  PROP_MAX_CONNECTIONS_PER_ADDRESS,
  PROP_LISTEN_BACKLOG,
  PROP_PORT,
  PROP_N_CONNECTIONS,
  PROP_N_CALLS,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

typedef struct _Call Call;

/* A TCP connection accepted and handed to libsoup for the WebSocket
 * handshake, until the handshake is done (it becomes a Connection) or
 * its time is up. */
typedef struct {
  GSocketConnection *stream;
  GSocketAddress    *remote;            /* the key: libsoup hands it back */
  char              *peer;              /* "127.0.0.1:40112" */
  char              *address;           /* "127.0.0.1", for the per-address limit */
  gint64             accepted_at;
} Pending;

typedef struct {
  PlServer                *server;      /* unowned: the server owns us */
  guint                    id;
  PlWsConnection          *ws;
  char                    *peer;        /* "127.0.0.1:40112" */
  char                    *address;     /* "127.0.0.1" */
  gint64                   accepted_at; /* the TCP connection */
  char                    *number;      /* NULL until registered */
  GHashTable              *calls;       /* set of Call *, unowned */

  PlTokenBucket            bucket;      /* rate limit */
  gint64                   rate_limited_time;
  guint                    auth_failures;
  gint64                   last_seen;   /* last message or pong */

  /* Set once the connection is going away: its calls have ended, its
   * number is free, and nothing it sends is handled any more. */
  gboolean                 detached;
} Connection;

struct _Call {
  char       *call_id;
  Connection *caller;
  Connection *callee;
};

struct _PlServer
{
  GObject     parent_instance;

  char       *token;
  guint       rate_limit;
  guint       rate_burst;
  GStrv       allowed_origins;
  guint       keepalive_interval;
  guint       idle_timeout;
  guint       max_auth_failures;
  guint       max_message_size;
  guint       max_send_queue;
  guint       handshake_timeout;
  guint       register_timeout;
  guint       max_connections;
  guint       max_connections_per_address;
  guint       listen_backlog;

  GSocketService *service;
  SoupServer *soup_server;
  guint16     port;
  guint       idle_check_id;
  gboolean    shut_down;

  guint       next_connection_id;
  GHashTable *connections;  /* id → Connection, owned */
  GHashTable *numbers;      /* number → Connection */
  GHashTable *calls;        /* call_id → Call, owned */
  GHashTable *pending;      /* GSocketAddress * → Pending, owned */
  GHashTable *per_address;  /* "127.0.0.1" → number of its connections, pending or not */

  guint       drop_id;       /* dropping connections past the handshake deadline */
  guint       dropped_overdue;
  gint64      refusal_logged_at;
  guint       refusals;     /* since then */
};

G_DEFINE_FINAL_TYPE (PlServer, pl_server, G_TYPE_OBJECT)

static void
call_free (Call *call)
{
  g_free (call->call_id);
  g_free (call);
}

static void
address_count_add (PlServer   *self,
                   const char *address,
                   int         delta)
{
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, address));

  count += delta;
  if (count == 0)
    g_hash_table_remove (self->per_address, address);
  else
    g_hash_table_insert (self->per_address, g_strdup (address), GUINT_TO_POINTER (count));
}

static void
pending_free (Pending *pending)
{
  g_clear_object (&pending->stream);
  g_clear_object (&pending->remote);
  g_free (pending->peer);
  g_free (pending->address);
  g_free (pending);
}

static void
connection_free (Connection *conn)
{
  g_signal_handlers_disconnect_by_data (conn->ws, conn);
  /* Without a close first (the server is disposed): just drop the socket. */
  pl_ws_connection_abort (conn->ws, NULL);
  g_clear_object (&conn->ws);
  g_clear_pointer (&conn->calls, g_hash_table_unref);
  if (conn->server->per_address != NULL)
    address_count_add (conn->server, conn->address, -1);
  g_free (conn->peer);
  g_free (conn->address);
  g_free (conn->number);
  g_free (conn);
}

static const char *
connection_name (Connection *conn)
{
  return conn->number != NULL ? conn->number : "(unregistered)";
}

static void
connection_send (Connection *conn,
                 const char *text)
{
  if (pl_ws_connection_get_state (conn->ws) != PL_WS_STATE_OPEN) {
    g_debug ("connection %u is closing, not sending %s", conn->id, text);
    return;
  }

  pl_ws_connection_send_text (conn->ws, text);
}

static void
connection_send_message (Connection      *conn,
                         const PlMessage *msg)
{
  g_autofree char *text = pl_message_to_json (msg);

  connection_send (conn, text);
}

/* @msg, when not NULL, is the offending message: it gives `ref` and
 * `call_id`, as docs/protocol.md asks ("error (server → phone)"). */
static void
connection_send_error (Connection      *conn,
                       PlProtocolError  code,
                       const char      *message,
                       const PlMessage *msg)
{
  g_autofree char *text = NULL;

  text = pl_protocol_build_error (code, message,
                                  msg != NULL ? msg->type_name : NULL,
                                  msg != NULL ? msg->call_id : NULL);
  g_debug ("connection %u: error %s: %s", conn->id,
           pl_protocol_error_to_string (code), message);
  connection_send (conn, text);
}

static void
connection_send_hangup (Connection     *conn,
                        const char     *call_id,
                        PlHangupReason  reason)
{
  g_autofree char *text = pl_protocol_build_hangup (call_id, reason);

  connection_send (conn, text);
}

static void
server_forget_call (PlServer *self,
                    Call     *call)
{
  g_hash_table_remove (call->caller->calls, call);
  g_hash_table_remove (call->callee->calls, call);
  g_hash_table_remove (self->calls, call->call_id);

  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_N_CALLS]);
}

static Call *
find_call_between (Connection *a,
                   Connection *b)
{
  GHashTableIter iter;
  Call *call;

  g_hash_table_iter_init (&iter, a->calls);
  while (g_hash_table_iter_next (&iter, (gpointer *) &call, NULL)) {
    if (call->caller == b || call->callee == b)
      return call;
  }

  return NULL;
}

/* Ends every call of @conn with `disconnected` to the other party, frees
 * its number and stops handling what it sends. Idempotent. */
static void
connection_detach (Connection *conn)
{
  PlServer *self = conn->server;
  g_autoptr(GList) calls = NULL;

  if (conn->detached)
    return;
  conn->detached = TRUE;

  calls = g_hash_table_get_keys (conn->calls);
  for (GList *l = calls; l != NULL; l = l->next) {
    Call *call = l->data;
    Connection *other = call->caller == conn ? call->callee : call->caller;

    g_message ("call %s %s -> %s ended: %s disconnected", call->call_id,
               call->caller->number, call->callee->number, conn->number);
    connection_send_hangup (other, call->call_id, PL_HANGUP_DISCONNECTED);
    server_forget_call (self, call);
  }

  if (conn->number != NULL && g_hash_table_lookup (self->numbers, conn->number) == conn) {
    g_hash_table_remove (self->numbers, conn->number);
    g_message ("connection %u unregistered %s", conn->id, conn->number);
  }
}

static void
connection_close (Connection *conn,
                  gushort     code,
                  const char *reason)
{
  connection_detach (conn);

  if (pl_ws_connection_get_state (conn->ws) == PL_WS_STATE_OPEN) {
    g_message ("connection %u closing (code %u, %s)", conn->id, code, reason);
    pl_ws_connection_close (conn->ws, code, reason);
  }
}

static gboolean
connection_take_token (Connection *conn,
                       gint64      now)
{
  PlServer *self = conn->server;

  if (self->rate_limit == 0)
    return TRUE;

  return pl_token_bucket_take (&conn->bucket, self->rate_limit, MAX (self->rate_burst, 1), now);
}

static gboolean
token_equal (const char *expected,
             const char *given)
{
  gsize expected_len;
  gsize given_len;
  guchar diff;

  if (given == NULL)
    return FALSE;

  /* Compare in a time that does not depend on where they differ. */
  expected_len = strlen (expected);
  given_len = strlen (given);
  diff = expected_len != given_len;
  for (gsize i = 0; i < given_len; i++)
    diff |= (guchar) given[i] ^ (guchar) expected[i % expected_len];

  return diff == 0;
}

static void
handle_register (PlServer   *self,
                 Connection *conn,
                 PlMessage  *msg)
{
  g_autoptr(PlMessage) reply = NULL;

  if (conn->number != NULL) {
    connection_send_error (conn, PL_PROTOCOL_ERROR_BAD_REQUEST,
                           "this connection is already registered", msg);
    return;
  }

  if (self->token != NULL && !token_equal (self->token, msg->token)) {
    conn->auth_failures++;
    g_message ("connection %u: registration of %s refused: %s", conn->id, msg->number,
               msg->token == NULL ? "no token" : "wrong token");
    connection_send_error (conn, PL_PROTOCOL_ERROR_UNAUTHORIZED,
                           msg->token == NULL ? "a token is required" : "wrong token", msg);
    if (self->max_auth_failures > 0 && conn->auth_failures >= self->max_auth_failures)
      connection_close (conn, PL_WS_CLOSE_POLICY_VIOLATION, "too many failed registrations");
    return;
  }

  if (g_hash_table_contains (self->numbers, msg->number)) {
    g_message ("connection %u: registration of %s refused: number taken", conn->id, msg->number);
    connection_send_error (conn, PL_PROTOCOL_ERROR_NUMBER_TAKEN,
                           "this number is registered by another phone", msg);
    return;
  }

  conn->number = g_strdup (msg->number);
  g_hash_table_insert (self->numbers, conn->number, conn);
  g_message ("connection %u registered %s", conn->id, conn->number);

  reply = pl_message_new (PL_MESSAGE_REGISTERED);
  reply->number = g_strdup (conn->number);
  connection_send_message (conn, reply);
}

static void
handle_call (PlServer   *self,
             Connection *conn,
             PlMessage  *msg)
{
  g_autoptr(PlMessage) forward = NULL;
  Connection *callee;
  Call *call;

  if (strcmp (msg->to, conn->number) == 0) {
    connection_send_error (conn, PL_PROTOCOL_ERROR_BAD_REQUEST, "a phone cannot call itself", msg);
    return;
  }

  if (g_hash_table_contains (self->calls, msg->call_id)) {
    connection_send_error (conn, PL_PROTOCOL_ERROR_BAD_REQUEST, "this call_id is already in use", msg);
    return;
  }

  callee = g_hash_table_lookup (self->numbers, msg->to);
  if (callee == NULL) {
    g_message ("call %s %s -> %s not-found", msg->call_id, conn->number, msg->to);
    connection_send_hangup (conn, msg->call_id, PL_HANGUP_NOT_FOUND);
    return;
  }

  call = find_call_between (conn, callee);
  if (call != NULL) {
    g_message ("call %s %s -> %s busy: call %s is up between them", msg->call_id,
               conn->number, msg->to, call->call_id);
    connection_send_error (conn, PL_PROTOCOL_ERROR_BUSY,
                           "these numbers already have a call", msg);
    return;
  }

  call = g_new0 (Call, 1);
  call->call_id = g_strdup (msg->call_id);
  call->caller = conn;
  call->callee = callee;
  g_hash_table_insert (self->calls, call->call_id, call);
  g_hash_table_add (conn->calls, call);
  g_hash_table_add (callee->calls, call);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_N_CALLS]);

  g_message ("call %s %s -> %s dialing", call->call_id, conn->number, callee->number);

  forward = pl_message_new (PL_MESSAGE_CALL);
  forward->call_id = g_strdup (msg->call_id);
  forward->from = g_strdup (conn->number);
  forward->sdp = g_strdup (msg->sdp);
  connection_send_message (callee, forward);
}

/* ringing, accept, ice and hangup: routed between the two parties only. */
static void
handle_in_call (PlServer   *self,
                Connection *conn,
                PlMessage  *msg)
{
  g_autoptr(PlMessage) forward = NULL;
  Connection *other;
  Call *call;

  call = g_hash_table_lookup (self->calls, msg->call_id);
  if (call == NULL || (call->caller != conn && call->callee != conn)) {
    connection_send_error (conn, PL_PROTOCOL_ERROR_UNKNOWN_CALL, "no such call", msg);
    return;
  }

  if ((msg->type == PL_MESSAGE_RINGING || msg->type == PL_MESSAGE_ACCEPT) &&
      conn == call->caller) {
    connection_send_error (conn, PL_PROTOCOL_ERROR_BAD_REQUEST,
                           "only the callee may send this message", msg);
    return;
  }

  other = conn == call->caller ? call->callee : call->caller;
  forward = pl_message_new (msg->type);
  forward->call_id = g_strdup (msg->call_id);

  switch (msg->type) {
  case PL_MESSAGE_RINGING:
    g_message ("call %s %s -> %s ringing", call->call_id,
               call->caller->number, call->callee->number);
    break;

  case PL_MESSAGE_ACCEPT:
    g_message ("call %s %s -> %s accepted", call->call_id,
               call->caller->number, call->callee->number);
    forward->sdp = g_strdup (msg->sdp);
    break;

  case PL_MESSAGE_ICE:
    forward->candidate = g_strdup (msg->candidate);
    forward->sdp_mline_index = msg->sdp_mline_index;
    break;

  case PL_MESSAGE_HANGUP:
    g_message ("call %s %s -> %s ended: %s hung up (%s)", call->call_id,
               call->caller->number, call->callee->number, conn->number, msg->reason);
    forward->reason = g_strdup (msg->reason);
    break;

  case PL_MESSAGE_UNKNOWN:
  case PL_MESSAGE_REGISTER:
  case PL_MESSAGE_REGISTERED:
  case PL_MESSAGE_CALL:
  case PL_MESSAGE_PEERS:
  case PL_MESSAGE_ERROR:
  default:
    g_assert_not_reached ();
  }

  connection_send_message (other, forward);

  if (msg->type == PL_MESSAGE_HANGUP)
    server_forget_call (self, call);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
handle_peers (PlServer   *self,
              Connection *conn)
{
  g_autoptr(PlMessage) reply = pl_message_new (PL_MESSAGE_PEERS);
  g_autoptr(GPtrArray) numbers = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  const char *number;

  g_hash_table_iter_init (&iter, self->numbers);
  while (g_hash_table_iter_next (&iter, (gpointer *) &number, NULL))
    g_ptr_array_add (numbers, g_strdup (number));
  g_ptr_array_sort (numbers, compare_strings);
  g_ptr_array_add (numbers, NULL);

  reply->numbers = (GStrv) g_ptr_array_free (g_steal_pointer (&numbers), FALSE);
  connection_send_message (conn, reply);
}

static void
handle_text (PlServer   *self,
             Connection *conn,
             const char *text,
             gsize       length)
{
  g_autoptr(PlMessage) msg = NULL;
  g_autoptr(GError) error = NULL;

  /* The checks run in the order of docs/protocol.md, "error (server → phone)". */
  msg = pl_message_parse (text, length, &error);
  if (msg == NULL) {
    connection_send_error (conn, PL_PROTOCOL_ERROR_BAD_REQUEST, error->message, NULL);
    return;
  }
  g_debug ("connection %u: %s", conn->id, msg->type_name ? msg->type_name : "(no type)");

  if (msg->type == PL_MESSAGE_UNKNOWN) {
    g_autofree char *message = NULL;

    if (msg->type_name != NULL)
      message = g_strdup_printf ("unknown message type '%s'", msg->type_name);
    else
      message = g_strdup ("missing or non-string field 'type'");
    connection_send_error (conn, PL_PROTOCOL_ERROR_BAD_REQUEST, message, msg);
    return;
  }

  if (msg->type != PL_MESSAGE_REGISTER && conn->number == NULL) {
    connection_send_error (conn, PL_PROTOCOL_ERROR_NOT_REGISTERED, "register first", msg);
    return;
  }

  if (!pl_message_validate (msg, PL_PROTOCOL_TO_SERVER, &error)) {
    connection_send_error (conn, PL_PROTOCOL_ERROR_BAD_REQUEST, error->message, msg);
    return;
  }

  switch (msg->type) {
  case PL_MESSAGE_REGISTER:
    handle_register (self, conn, msg);
    break;

  case PL_MESSAGE_CALL:
    handle_call (self, conn, msg);
    break;

  case PL_MESSAGE_RINGING:
  case PL_MESSAGE_ACCEPT:
  case PL_MESSAGE_ICE:
  case PL_MESSAGE_HANGUP:
    handle_in_call (self, conn, msg);
    break;

  case PL_MESSAGE_PEERS:
    handle_peers (self, conn);
    break;

  case PL_MESSAGE_REGISTERED:
  case PL_MESSAGE_ERROR:
  case PL_MESSAGE_UNKNOWN:
  default:
    /* pl_message_validate () refuses these in this direction. */
    g_assert_not_reached ();
  }
}

static void
on_websocket_message (PlWsConnection *ws,
                      int             type,
                      GBytes         *message,
                      gpointer        user_data)
{
  Connection *conn = user_data;
  PlServer *self = conn->server;
  const char *data;
  gsize length;
  gint64 now;

  if (conn->detached)
    return;

  now = g_get_monotonic_time ();
  conn->last_seen = now;
  data = g_bytes_get_data (message, &length);

  if (!connection_take_token (conn, now)) {
    if (conn->rate_limited_time == 0 || now - conn->rate_limited_time >= G_USEC_PER_SEC) {
      g_autoptr(PlMessage) msg = NULL;

      if (type == PL_WS_OPCODE_TEXT)
        msg = pl_message_peek (data, length);
      conn->rate_limited_time = now;
      g_message ("connection %u (%s) is over the rate limit; dropping messages",
                 conn->id, connection_name (conn));
      connection_send_error (conn, PL_PROTOCOL_ERROR_RATE_LIMITED,
                             "too many messages; this one and the next ones are dropped", msg);
    }
    return;
  }

  if (type != PL_WS_OPCODE_TEXT) {
    connection_send_error (conn, PL_PROTOCOL_ERROR_BAD_REQUEST,
                           "messages are JSON in text frames", NULL);
    return;
  }

  handle_text (self, conn, data, length);
}

/* A message over the limit, in one frame or in fragments: only its first
 * max-message-size bytes were read, which say what it was. */
static void
on_websocket_too_large (PlWsConnection *ws,
                        GBytes         *prefix,
                        gpointer        user_data)
{
  Connection *conn = user_data;
  PlServer *self = conn->server;
  g_autoptr(PlMessage) msg = NULL;
  g_autofree char *text = NULL;
  gsize length;
  const char *data;

  if (conn->detached)
    return;

  data = g_bytes_get_data (prefix, &length);
  msg = pl_message_peek (data, length);
  text = g_strdup_printf ("a message may be at most %u bytes", self->max_message_size);
  g_message ("connection %u (%s) sent a message over %u bytes", conn->id,
             connection_name (conn), self->max_message_size);
  connection_send_error (conn, PL_PROTOCOL_ERROR_TOO_LARGE, text, msg);
  connection_close (conn, PL_WS_CLOSE_TOO_BIG, "message too large");
}

static void
on_websocket_pong (PlWsConnection *ws,
                   gpointer        user_data)
{
  Connection *conn = user_data;

  conn->last_seen = g_get_monotonic_time ();
}

static void
on_websocket_error (PlWsConnection *ws,
                    const char     *why,
                    gpointer        user_data)
{
  Connection *conn = user_data;

  g_message ("connection %u (%s): %s", conn->id, connection_name (conn), why);
}

static void
on_websocket_closing (PlWsConnection *ws,
                      gpointer        user_data)
{
  connection_detach (user_data);
}

static void
on_websocket_closed (PlWsConnection *ws,
                     gpointer        user_data)
{
  Connection *conn = user_data;
  PlServer *self = conn->server;

  connection_detach (conn);
  g_message ("connection %u closed (%s, code %u)", conn->id, connection_name (conn),
             pl_ws_connection_get_close_code (ws));

  g_hash_table_remove (self->connections, GUINT_TO_POINTER (conn->id));
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_N_CONNECTIONS]);
}

static char *
describe_address (GSocketAddress *address)
{
  g_autofree char *ip = NULL;
  GInetSocketAddress *inet;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("(unknown)");

  inet = G_INET_SOCKET_ADDRESS (address);
  ip = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
  if (g_inet_address_get_family (g_inet_socket_address_get_address (inet)) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", ip, g_inet_socket_address_get_port (inet));

  return g_strdup_printf ("%s:%u", ip, g_inet_socket_address_get_port (inet));
}

/* The key of the per-address limit: the IP address alone. */
static char *
describe_ip (GSocketAddress *address)
{
  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return describe_address (address);

  return g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
}

/* The handshake's answer is written: the stream is ours now. */
static void
on_handshake_written (SoupServerMessage *msg,
                      gpointer           user_data)
{
  PlServer *self = PL_SERVER (user_data);
  g_autoptr(GIOStream) stream = NULL;
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  Pending *pending = remote != NULL ? g_hash_table_lookup (self->pending, remote) : NULL;
  Connection *conn;

  conn = g_new0 (Connection, 1);
  conn->server = self;
  conn->id = ++self->next_connection_id;
  conn->calls = g_hash_table_new (NULL, NULL);
  conn->last_seen = g_get_monotonic_time ();
  if (pending != NULL) {
    /* The connection keeps its place in the per-address count. */
    conn->peer = g_steal_pointer (&pending->peer);
    conn->address = g_steal_pointer (&pending->address);
    conn->accepted_at = pending->accepted_at;
    g_hash_table_remove (self->pending, remote);
  } else {
    /* Not one of ours (accepted before a restart of listening?): count it now. */
    conn->peer = describe_address (remote);
    conn->address = describe_ip (remote);
    conn->accepted_at = conn->last_seen;
    address_count_add (self, conn->address, 1);
  }
  pl_token_bucket_init (&conn->bucket, MAX (self->rate_burst, 1), conn->last_seen);

  g_object_ref (msg);
  stream = soup_server_message_steal_connection (msg);
  g_object_unref (msg);
  conn->ws = pl_ws_connection_new (stream, self->max_message_size, self->max_send_queue);
  pl_ws_connection_set_keepalive_interval (conn->ws, self->keepalive_interval);

  g_signal_connect (conn->ws, "message", G_CALLBACK (on_websocket_message), conn);
  g_signal_connect (conn->ws, "too-large", G_CALLBACK (on_websocket_too_large), conn);
  g_signal_connect (conn->ws, "pong", G_CALLBACK (on_websocket_pong), conn);
  g_signal_connect (conn->ws, "error", G_CALLBACK (on_websocket_error), conn);
  g_signal_connect (conn->ws, "closing", G_CALLBACK (on_websocket_closing), conn);
  g_signal_connect (conn->ws, "closed", G_CALLBACK (on_websocket_closed), conn);

  g_hash_table_insert (self->connections, GUINT_TO_POINTER (conn->id), conn);
  g_message ("connection %u opened from %s", conn->id, conn->peer);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_N_CONNECTIONS]);

  if (self->shut_down)
    connection_close (conn, PL_WS_CLOSE_GOING_AWAY, "server shutting down");
}

static gboolean
origin_is_allowed (PlServer   *self,
                   const char *origin)
{
  /* The list is for browsers, which always send Origin; other phones
   * send none and are let in. */
  if (self->allowed_origins == NULL || self->allowed_origins[0] == NULL || origin == NULL)
    return TRUE;

  for (guint i = 0; self->allowed_origins[i] != NULL; i++) {
    if (g_ascii_strcasecmp (self->allowed_origins[i], origin) == 0)
      return TRUE;
  }

  return FALSE;
}

/* /ws: the WebSocket handshake. Setting a status refuses it. No extension
 * is offered: permessage-deflate would let a small frame inflate far past
 * the message limit. */
static void
on_soup_server_request (SoupServer        *server,
                        SoupServerMessage *msg,
                        const char        *path,
                        GHashTable        *query,
                        gpointer           user_data)
{
  PlServer *self = PL_SERVER (user_data);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");

  if (strcmp (path, "/ws") != 0) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }

  if (self->shut_down) {
    soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
    return;
  }

  if (!origin_is_allowed (self, origin)) {
    g_autofree char *peer = describe_address (soup_server_message_get_remote_address (msg));

    g_message ("refused a connection from %s: origin %s is not allowed", peer, origin);
    soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, NULL);
    return;
  }

  if (soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL))
    g_signal_connect_object (msg, "wrote-informational", G_CALLBACK (on_handshake_written),
                             self, 0);
}

static void
log_refusal (PlServer   *self,
             const char *peer,
             const char *why)
{
  gint64 now = g_get_monotonic_time ();

  self->refusals++;
  if (self->refusal_logged_at != 0 && now - self->refusal_logged_at < REFUSAL_LOG_INTERVAL_US)
    return;

  g_message ("refused %u connection%s in the last second, the last from %s: %s",
             self->refusals, self->refusals == 1 ? "" : "s", peer, why);
  self->refusal_logged_at = now;
  self->refusals = 0;
}

static void
on_refusal_written (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GIOStream) stream = user_data;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, NULL);
  g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

/* Drops pending connections that libsoup has closed (the peer went away
 * before the handshake ended), so they no longer count. */
static void
prune_pending (PlServer *self)
{
  GHashTableIter iter;
  Pending *pending;

  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &pending)) {
    if (!g_io_stream_is_closed (G_IO_STREAM (pending->stream)))
      continue;
    address_count_add (self, pending->address, -1);
    g_hash_table_iter_remove (&iter);
  }
}

/* A TCP connection: count it, then hand it to libsoup for the handshake. */
static gboolean
on_service_incoming (GSocketService    *service,
                     GSocketConnection *connection,
                     GObject           *source_object,
                     gpointer           user_data)
{
  PlServer *self = PL_SERVER (user_data);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address (connection, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *peer = NULL;
  g_autofree char *address = NULL;
  const char *refusal = NULL;
  Pending *pending;

  if (remote == NULL || local == NULL || self->shut_down)
    return TRUE;      /* the connection is dropped with the last ref */

  peer = describe_address (remote);
  address = describe_ip (remote);

  if (self->max_connections > 0 || self->max_connections_per_address > 0)
    prune_pending (self);
  if (self->max_connections > 0 &&
      g_hash_table_size (self->connections) + g_hash_table_size (self->pending) >= self->max_connections)
    refusal = "the server has its most connections";
  else if (self->max_connections_per_address > 0 &&
           GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, address)) >=
           self->max_connections_per_address)
    refusal = "that address has its most connections";

  if (refusal != NULL) {
    log_refusal (self, peer, refusal);
    g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                     too_many_response, strlen (too_many_response),
                                     G_PRIORITY_DEFAULT, NULL, on_refusal_written,
                                     g_object_ref (connection));
    return TRUE;
  }

  /* Counted first: libsoup may read the handshake and answer it before
   * soup_server_accept_iostream () returns. */
  pending = g_new0 (Pending, 1);
  pending->stream = g_object_ref (connection);
  pending->remote = g_object_ref (remote);
  pending->peer = g_steal_pointer (&peer);
  pending->address = g_steal_pointer (&address);
  pending->accepted_at = g_get_monotonic_time ();
  g_hash_table_insert (self->pending, pending->remote, pending);
  address_count_add (self, pending->address, 1);

  if (!soup_server_accept_iostream (self->soup_server, G_IO_STREAM (connection), local, remote,
                                    &error)) {
    g_message ("cannot serve the connection from %s: %s", pending->peer, error->message);
    if (g_hash_table_lookup (self->pending, remote) == pending) {
      address_count_add (self, pending->address, -1);
      g_hash_table_remove (self->pending, remote);
    }
  }

  return TRUE;
}

static gboolean
pending_is_overdue (PlServer *self,
                    Pending  *pending,
                    gint64    now)
{
  return now - pending->accepted_at > (gint64) self->handshake_timeout * G_USEC_PER_SEC;
}

/* Connections past the handshake deadline are dropped DROP_BATCH at a time,
 * at low priority: a thousand at once, and libsoup's cleanup of them, would
 * stall the main loop for the phones that are talking (about 0.1 s here). */
#define DROP_BATCH 32

static gboolean
on_drop_overdue_idle (gpointer user_data)
{
  PlServer *self = PL_SERVER (user_data);
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  Pending *pending;
  guint dropped = 0;

  g_hash_table_iter_init (&iter, self->pending);
  while (dropped < DROP_BATCH && g_hash_table_iter_next (&iter, NULL, (gpointer *) &pending)) {
    if (!pending_is_overdue (self, pending, now))
      continue;
    if (self->dropped_overdue == 0)
      g_message ("connection from %s: no WebSocket handshake within %u s: dropping it%s",
                 pending->peer, self->handshake_timeout,
                 g_hash_table_size (self->pending) > 1 ? " (and the others due)" : "");
    /* libsoup reads the end of the stream and closes its side. */
    g_socket_shutdown (g_socket_connection_get_socket (pending->stream), TRUE, TRUE, NULL);
    address_count_add (self, pending->address, -1);
    g_hash_table_iter_remove (&iter);
    dropped++;
    self->dropped_overdue++;
  }

  if (dropped == DROP_BATCH)
    return G_SOURCE_CONTINUE;

  if (self->dropped_overdue > 1)
    g_message ("dropped %u connections without a WebSocket handshake within %u s",
               self->dropped_overdue, self->handshake_timeout);
  self->dropped_overdue = 0;
  self->drop_id = 0;

  return G_SOURCE_REMOVE;
}

/* Once a second: deadlines of the handshake and of `register`, and phones
 * gone silent. */
static gboolean
on_idle_check_timeout (gpointer user_data)
{
  PlServer *self = PL_SERVER (user_data);
  g_autoptr(GList) connections = NULL;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  Pending *pending;

  prune_pending (self);
  if (self->handshake_timeout > 0 && self->drop_id == 0) {
    g_hash_table_iter_init (&iter, self->pending);
    while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &pending)) {
      if (pending_is_overdue (self, pending, now)) {
        self->drop_id = g_idle_add_full (G_PRIORITY_LOW, on_drop_overdue_idle, self, NULL);
        break;
      }
    }
  }

  connections = g_hash_table_get_values (self->connections);
  for (GList *l = connections; l != NULL; l = l->next) {
    Connection *conn = l->data;

    if (conn->detached)
      continue;

    if (conn->number == NULL && self->register_timeout > 0 &&
        now - conn->accepted_at > (gint64) self->register_timeout * G_USEC_PER_SEC) {
      g_message ("connection %u: no registration within %u s of connecting",
                 conn->id, self->register_timeout);
      connection_close (conn, PL_WS_CLOSE_POLICY_VIOLATION, "register first");
      continue;
    }

    if (self->idle_timeout == 0 ||
        now - conn->last_seen <= (gint64) self->idle_timeout * G_USEC_PER_SEC)
      continue;

    g_message ("connection %u (%s) silent for %u s: treating it as disconnected",
               conn->id, connection_name (conn), self->idle_timeout);
    connection_close (conn, PL_WS_CLOSE_GOING_AWAY, "ping timeout");
  }

  return G_SOURCE_CONTINUE;
}

static guint *
limit_field (PlServer *self,
             guint     prop_id)
{
  switch (prop_id) {
  case PROP_MAX_MESSAGE_SIZE:
    return &self->max_message_size;
  case PROP_MAX_SEND_QUEUE:
    return &self->max_send_queue;
  case PROP_HANDSHAKE_TIMEOUT:
    return &self->handshake_timeout;
  case PROP_REGISTER_TIMEOUT:
    return &self->register_timeout;
  case PROP_MAX_CONNECTIONS:
    return &self->max_connections;
  case PROP_MAX_CONNECTIONS_PER_ADDRESS:
    return &self->max_connections_per_address;
  case PROP_LISTEN_BACKLOG:
    return &self->listen_backlog;
  default:
    g_return_val_if_reached (NULL);
  }
}

static void
set_limit (PlServer *self,
           guint     prop_id,
           guint     value)
{
  guint *field = limit_field (self, prop_id);

  if (field == NULL || *field == value)
    return;

  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), props[prop_id]);
}

static void
pl_server_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  PlServer *self = PL_SERVER (object);

  switch (prop_id) {
  case PROP_TOKEN:
    g_value_set_string (value, self->token);
    break;

  case PROP_RATE_LIMIT:
    g_value_set_uint (value, self->rate_limit);
    break;

  case PROP_RATE_BURST:
    g_value_set_uint (value, self->rate_burst);
    break;

  case PROP_ALLOWED_ORIGINS:
    g_value_set_boxed (value, self->allowed_origins);
    break;

  case PROP_KEEPALIVE_INTERVAL:
    g_value_set_uint (value, self->keepalive_interval);
    break;

  case PROP_IDLE_TIMEOUT:
    g_value_set_uint (value, self->idle_timeout);
    break;

  case PROP_MAX_AUTH_FAILURES:
    g_value_set_uint (value, self->max_auth_failures);
    break;

  case PROP_MAX_MESSAGE_SIZE:
    g_value_set_uint (value, self->max_message_size);
    break;

  case PROP_MAX_SEND_QUEUE:
    g_value_set_uint (value, self->max_send_queue);
    break;

  case PROP_HANDSHAKE_TIMEOUT:
    g_value_set_uint (value, self->handshake_timeout);
    break;

  case PROP_REGISTER_TIMEOUT:
    g_value_set_uint (value, self->register_timeout);
    break;

  case PROP_MAX_CONNECTIONS:
    g_value_set_uint (value, self->max_connections);
    break;

  case PROP_MAX_CONNECTIONS_PER_ADDRESS:
    g_value_set_uint (value, self->max_connections_per_address);
    break;

  case PROP_LISTEN_BACKLOG:
    g_value_set_uint (value, self->listen_backlog);
    break;

  case PROP_PORT:
    g_value_set_uint (value, self->port);
    break;

  case PROP_N_CONNECTIONS:
    g_value_set_uint (value, pl_server_get_n_connections (self));
    break;

  case PROP_N_CALLS:
    g_value_set_uint (value, pl_server_get_n_calls (self));
    break;

  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
pl_server_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  PlServer *self = PL_SERVER (object);

  switch (prop_id) {
  case PROP_TOKEN:
    pl_server_set_token (self, g_value_get_string (value));
    break;

  case PROP_RATE_LIMIT:
    pl_server_set_rate_limit (self, g_value_get_uint (value));
    break;

  case PROP_RATE_BURST:
    pl_server_set_rate_burst (self, g_value_get_uint (value));
    break;

  case PROP_ALLOWED_ORIGINS:
    pl_server_set_allowed_origins (self, g_value_get_boxed (value));
    break;

  case PROP_KEEPALIVE_INTERVAL:
    pl_server_set_keepalive_interval (self, g_value_get_uint (value));
    break;

  case PROP_IDLE_TIMEOUT:
    pl_server_set_idle_timeout (self, g_value_get_uint (value));
    break;

  case PROP_MAX_AUTH_FAILURES:
    pl_server_set_max_auth_failures (self, g_value_get_uint (value));
    break;

  case PROP_MAX_MESSAGE_SIZE:
  case PROP_MAX_SEND_QUEUE:
  case PROP_HANDSHAKE_TIMEOUT:
  case PROP_REGISTER_TIMEOUT:
  case PROP_MAX_CONNECTIONS:
  case PROP_MAX_CONNECTIONS_PER_ADDRESS:
  case PROP_LISTEN_BACKLOG:
    set_limit (self, prop_id, g_value_get_uint (value));
    break;

  case PROP_PORT:
  case PROP_N_CONNECTIONS:
  case PROP_N_CALLS:
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
pl_server_dispose (GObject *object)
{
  PlServer *self = PL_SERVER (object);

  g_clear_handle_id (&self->idle_check_id, g_source_remove);
  g_clear_handle_id (&self->drop_id, g_source_remove);

  if (self->service != NULL) {
    g_signal_handlers_disconnect_by_data (self->service, self);
    g_socket_service_stop (self->service);
    g_socket_listener_close (G_SOCKET_LISTENER (self->service));
    g_clear_object (&self->service);
  }
  if (self->soup_server != NULL) {
    soup_server_disconnect (self->soup_server);
    g_clear_object (&self->soup_server);
  }

  /* Without a shutdown first, the sockets are dropped without a close
   * frame: connection_free () disconnects and releases each one. */
  g_clear_pointer (&self->numbers, g_hash_table_unref);
  g_clear_pointer (&self->calls, g_hash_table_unref);
  g_clear_pointer (&self->connections, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_hash_table_unref);
  g_clear_pointer (&self->per_address, g_hash_table_unref);

  G_OBJECT_CLASS (pl_server_parent_class)->dispose (object);
}

static void
pl_server_finalize (GObject *object)
{
  PlServer *self = PL_SERVER (object);

  g_free (self->token);
  g_strfreev (self->allowed_origins);

  G_OBJECT_CLASS (pl_server_parent_class)->finalize (object);
}

static void
pl_server_class_init (PlServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = pl_server_get_property;
  object_class->set_property = pl_server_set_property;
  object_class->dispose = pl_server_dispose;
  object_class->finalize = pl_server_finalize;

  props[PROP_TOKEN] =
    g_param_spec_string ("token", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_RATE_LIMIT] =
    g_param_spec_uint ("rate-limit", NULL, NULL,
                       0, G_MAXUINT, PL_SERVER_DEFAULT_RATE_LIMIT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_RATE_BURST] =
    g_param_spec_uint ("rate-burst", NULL, NULL,
                       1, G_MAXUINT, PL_SERVER_DEFAULT_RATE_BURST,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_ALLOWED_ORIGINS] =
    g_param_spec_boxed ("allowed-origins", NULL, NULL,
                        G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_KEEPALIVE_INTERVAL] =
    g_param_spec_uint ("keepalive-interval", NULL, NULL,
                       0, G_MAXUINT, PL_SERVER_DEFAULT_KEEPALIVE_INTERVAL,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_IDLE_TIMEOUT] =
    g_param_spec_uint ("idle-timeout", NULL, NULL,
                       0, G_MAXUINT, PL_SERVER_DEFAULT_IDLE_TIMEOUT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_MAX_AUTH_FAILURES] =
    g_param_spec_uint ("max-auth-failures", NULL, NULL,
                       0, G_MAXUINT, PL_SERVER_DEFAULT_MAX_AUTH_FAILURES,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /* The bounds on what a client can make the server hold (docs/SECURITY.md). */
  props[PROP_MAX_MESSAGE_SIZE] =
    g_param_spec_uint ("max-message-size", NULL, NULL,
                       1, G_MAXUINT, PL_SERVER_DEFAULT_MAX_MESSAGE_SIZE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_MAX_SEND_QUEUE] =
    g_param_spec_uint ("max-send-queue", NULL, NULL,
                       1, G_MAXUINT, PL_SERVER_DEFAULT_MAX_SEND_QUEUE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_HANDSHAKE_TIMEOUT] =
    g_param_spec_uint ("handshake-timeout", NULL, NULL,
                       0, G_MAXUINT, PL_SERVER_DEFAULT_HANDSHAKE_TIMEOUT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_REGISTER_TIMEOUT] =
    g_param_spec_uint ("register-timeout", NULL, NULL,
                       0, G_MAXUINT, PL_SERVER_DEFAULT_REGISTER_TIMEOUT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_MAX_CONNECTIONS] =
    g_param_spec_uint ("max-connections", NULL, NULL,
                       0, G_MAXUINT, PL_SERVER_DEFAULT_MAX_CONNECTIONS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_MAX_CONNECTIONS_PER_ADDRESS] =
    g_param_spec_uint ("max-connections-per-address", NULL, NULL,
                       0, G_MAXUINT, PL_SERVER_DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_LISTEN_BACKLOG] =
    g_param_spec_uint ("listen-backlog", NULL, NULL,
                       1, G_MAXINT, PL_SERVER_DEFAULT_LISTEN_BACKLOG,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL,
                       0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_N_CONNECTIONS] =
    g_param_spec_uint ("n-connections", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  props[PROP_N_CALLS] =
    g_param_spec_uint ("n-calls", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
pl_server_init (PlServer *self)
{
  self->rate_limit = PL_SERVER_DEFAULT_RATE_LIMIT;
  self->rate_burst = PL_SERVER_DEFAULT_RATE_BURST;
  self->keepalive_interval = PL_SERVER_DEFAULT_KEEPALIVE_INTERVAL;
  self->idle_timeout = PL_SERVER_DEFAULT_IDLE_TIMEOUT;
  self->max_auth_failures = PL_SERVER_DEFAULT_MAX_AUTH_FAILURES;
  self->max_message_size = PL_SERVER_DEFAULT_MAX_MESSAGE_SIZE;
  self->max_send_queue = PL_SERVER_DEFAULT_MAX_SEND_QUEUE;
  self->handshake_timeout = PL_SERVER_DEFAULT_HANDSHAKE_TIMEOUT;
  self->register_timeout = PL_SERVER_DEFAULT_REGISTER_TIMEOUT;
  self->max_connections = PL_SERVER_DEFAULT_MAX_CONNECTIONS;
  self->max_connections_per_address = PL_SERVER_DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
  self->listen_backlog = PL_SERVER_DEFAULT_LISTEN_BACKLOG;

  self->connections = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) connection_free);
  self->numbers = g_hash_table_new (g_str_hash, g_str_equal);
  self->calls = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) call_free);
  self->pending = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) pending_free);
  self->per_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  self->soup_server = soup_server_new ("server-header", PACKAGE_NAME "-server/" PACKAGE_VERSION " ",
                                       NULL);
  /* libsoup reads the HTTP of the handshake; the sockets are ours (limits,
   * deadlines, backlog) and so is the WebSocket after it (pl-ws-connection.c). */
  soup_server_add_handler (self->soup_server, "/ws", on_soup_server_request, self, NULL);
}

PlServer *
pl_server_new (void)
{
  return g_object_new (PL_TYPE_SERVER, NULL);
}

const char *
pl_server_get_token (PlServer *self)
{
  g_return_val_if_fail (PL_IS_SERVER (self), NULL);

  return self->token;
}

/* An empty token is no token. */
void
pl_server_set_token (PlServer   *self,
                     const char *token)
{
  g_return_if_fail (PL_IS_SERVER (self));

  if (token != NULL && *token == '\0')
    token = NULL;

  if (g_strcmp0 (self->token, token) == 0)
    return;

  g_free (self->token);
  self->token = g_strdup (token);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_TOKEN]);
}

guint
pl_server_get_rate_limit (PlServer *self)
{
  g_return_val_if_fail (PL_IS_SERVER (self), 0);

  return self->rate_limit;
}

/* Messages per second per connection; 0 turns the limit off. */
void
pl_server_set_rate_limit (PlServer *self,
                          guint     rate_limit)
{
  g_return_if_fail (PL_IS_SERVER (self));

  if (self->rate_limit == rate_limit)
    return;

  self->rate_limit = rate_limit;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RATE_LIMIT]);
}

guint
pl_server_get_rate_burst (PlServer *self)
{
  g_return_val_if_fail (PL_IS_SERVER (self), 0);

  return self->rate_burst;
}

void
pl_server_set_rate_burst (PlServer *self,
                          guint     rate_burst)
{
  g_return_if_fail (PL_IS_SERVER (self));
  g_return_if_fail (rate_burst >= 1);

  if (self->rate_burst == rate_burst)
    return;

  self->rate_burst = rate_burst;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RATE_BURST]);
}

const char * const *
pl_server_get_allowed_origins (PlServer *self)
{
  g_return_val_if_fail (PL_IS_SERVER (self), NULL);

  return (const char * const *) self->allowed_origins;
}

/* NULL or an empty list lets every origin in. */
void
pl_server_set_allowed_origins (PlServer           *self,
                               const char * const *origins)
{
  g_return_if_fail (PL_IS_SERVER (self));

  if (self->allowed_origins == NULL && origins == NULL)
    return;
  if (self->allowed_origins != NULL && origins != NULL &&
      g_strv_equal ((const char * const *) self->allowed_origins, origins))
    return;

  g_strfreev (self->allowed_origins);
  self->allowed_origins = g_strdupv ((char **) origins);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ALLOWED_ORIGINS]);
}

guint
pl_server_get_keepalive_interval (PlServer *self)
{
  g_return_val_if_fail (PL_IS_SERVER (self), 0);

  return self->keepalive_interval;
}

/* Seconds between WebSocket pings; 0 sends none. */
void
pl_server_set_keepalive_interval (PlServer *self,
                                  guint     seconds)
{
  GHashTableIter iter;
  Connection *conn;

  g_return_if_fail (PL_IS_SERVER (self));

  if (self->keepalive_interval == seconds)
    return;

  self->keepalive_interval = seconds;

  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conn))
    pl_ws_connection_set_keepalive_interval (conn->ws, seconds);

  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_KEEPALIVE_INTERVAL]);
}

guint
pl_server_get_idle_timeout (PlServer *self)
{
  g_return_val_if_fail (PL_IS_SERVER (self), 0);

  return self->idle_timeout;
}

/* Seconds without a message or a pong after which a phone is treated as
 * disconnected; 0 never. Keep it a few keepalive intervals long. */
void
pl_server_set_idle_timeout (PlServer *self,
                            guint     seconds)
{
  g_return_if_fail (PL_IS_SERVER (self));

  if (self->idle_timeout == seconds)
    return;

  self->idle_timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_IDLE_TIMEOUT]);
}

guint
pl_server_get_max_auth_failures (PlServer *self)
{
  g_return_val_if_fail (PL_IS_SERVER (self), 0);

  return self->max_auth_failures;
}

/* After this many `unauthorized` answers the connection is closed with
 * code 1008; 0 never closes. */
void
pl_server_set_max_auth_failures (PlServer *self,
                                 guint     max_failures)
{
  g_return_if_fail (PL_IS_SERVER (self));

  if (self->max_auth_failures == max_failures)
    return;

  self->max_auth_failures = max_failures;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MAX_AUTH_FAILURES]);
}

gboolean
pl_server_listen (PlServer   *self,
                  const char *address,
                  guint16     port,
                  GError    **error)
{
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GSocketAddress) local_address = NULL;

  g_return_val_if_fail (PL_IS_SERVER (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (self->port == 0, FALSE);
  g_return_val_if_fail (!self->shut_down, FALSE);

  inet = g_inet_address_new_from_string (address);
  if (inet == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "'%s' is not an IP address", address);
    return FALSE;
  }

  socket_address = g_inet_socket_address_new (inet, port);
  if (self->service == NULL) {
    self->service = g_socket_service_new ();
    /* The kernel caps it at net.core.somaxconn (4096 on Debian 12). */
    g_socket_listener_set_backlog (G_SOCKET_LISTENER (self->service), self->listen_backlog);
    g_signal_connect (self->service, "incoming", G_CALLBACK (on_service_incoming), self);
  }
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), socket_address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                      &local_address, error))
    return FALSE;
  g_socket_service_start (self->service);

  if (G_IS_INET_SOCKET_ADDRESS (local_address))
    self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local_address));
  else
    self->port = port;

  if (self->idle_check_id == 0)
    self->idle_check_id = g_timeout_add_seconds (1, on_idle_check_timeout, self);

  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PORT]);

  return TRUE;
}

guint16
pl_server_get_port (PlServer *self)
{
  g_return_val_if_fail (PL_IS_SERVER (self), 0);

  return self->port;
}

guint
pl_server_get_n_connections (PlServer *self)
{
  g_return_val_if_fail (PL_IS_SERVER (self), 0);

  return self->connections != NULL ? g_hash_table_size (self->connections) : 0;
}

guint
pl_server_get_n_calls (PlServer *self)
{
  g_return_val_if_fail (PL_IS_SERVER (self), 0);

  return self->calls != NULL ? g_hash_table_size (self->calls) : 0;
}

void
pl_server_shutdown (PlServer *self)
{
  g_autoptr(GList) calls = NULL;
  g_autoptr(GList) connections = NULL;

  g_return_if_fail (PL_IS_SERVER (self));

  if (self->shut_down || self->connections == NULL)
    return;
  self->shut_down = TRUE;

  g_message ("shutting down: %u calls, %u connections",
             g_hash_table_size (self->calls), g_hash_table_size (self->connections));

  g_clear_handle_id (&self->idle_check_id, g_source_remove);
  if (self->service != NULL) {
    g_socket_service_stop (self->service);
    g_socket_listener_close (G_SOCKET_LISTENER (self->service));
  }
  soup_server_disconnect (self->soup_server);

  calls = g_hash_table_get_values (self->calls);
  for (GList *l = calls; l != NULL; l = l->next) {
    Call *call = l->data;

    g_message ("call %s %s -> %s ended: server shutting down", call->call_id,
               call->caller->number, call->callee->number);
    connection_send_hangup (call->caller, call->call_id, PL_HANGUP_DISCONNECTED);
    connection_send_hangup (call->callee, call->call_id, PL_HANGUP_DISCONNECTED);
    server_forget_call (self, call);
  }

  connections = g_hash_table_get_values (self->connections);
  for (GList *l = connections; l != NULL; l = l->next)
    connection_close (l->data, PL_WS_CLOSE_GOING_AWAY, "server shutting down");
}

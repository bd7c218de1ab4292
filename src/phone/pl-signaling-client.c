/* pl-signaling-client.c
 *
 * A phone's WebSocket to the signaling server. What the phone sends leaves
 * through an outbox paced under the server's rate limit: by default a server
 * drops what a connection sends beyond 200 messages a second, after a burst of
 * 400 (docs/protocol.md, "error (server → phone)", the rate limit), and a
 * dropped `hangup` would leave the other phone in the call. A group dial and
 * hang-up of 8 sends about 30 messages; the torture tests' back-to-back rounds
 * sent up to 276 a second. The outbox keeps 10 % under the default rate, and
 * its burst is a tenth of the server's: what it paces can still reach the
 * server bunched up (a link that stalls, then delivers what it held at once),
 * and the server's bucket must take that too. If the server still says
 * `rate-limited` (it was configured tighter), the pace halves.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-signaling-client"

#include "config.h"

#include "pl-signaling-client.h"
#include "pl-token-bucket.h"

#include <libsoup/soup.h>

#define MAX_INCOMING_PAYLOAD (256 * 1024)
/* Messages a second and the burst the outbox allows, against the protocol's
 * default server limit of 200 a second, bursts of 400. The rate is 90 % of
 * it. The burst is small: messages paced over a time T can arrive at once
 * (held by the link, or by a server busy elsewhere), SEND_BURST + SEND_RATE * T
 * of them, which the server's bucket takes while that stays within 400: up to
 * T = 2 s here. With a burst of 360 it was 0.2 s, and under valgrind the tests'
 * in-process server, busy on the same main loop, read 435 to 595 at once.
 * A group dial and hang-up of 8 (about 30 messages) still leaves at once. */
#define SEND_RATE  180.0
#define SEND_BURST 40.0
/* The slowest pace `rate-limited` answers can bring us down to. */
#define SEND_RATE_MIN 10.0

struct _PlSignalingClient
{
  GObject                  parent_instance;

  char                    *url;
  char                    *token;
  SoupSession             *session;
  SoupWebsocketConnection *connection;
  GTask                   *register_task;
  guint                    register_timeout_s;
  guint                    register_timeout_id;
  gboolean                 closing;

  /* The outbox: JSON texts in the order sent, paced by a token bucket. */
  GQueue                   outbox;
  double                   send_rate;
  PlTokenBucket            bucket;
  guint                    flush_id;
  gboolean                 close_when_sent;
};

G_DEFINE_FINAL_TYPE (PlSignalingClient, pl_signaling_client, G_TYPE_OBJECT)

enum {
  SIGNAL_MESSAGE,
  SIGNAL_CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
finish_registration (PlSignalingClient *self,
                     GError            *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->register_task);

  g_clear_handle_id (&self->register_timeout_id, g_source_remove);
  if (task == NULL) {
    g_clear_error (&error);
    return;
  }

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
outbox_clear (PlSignalingClient *self)
{
  g_clear_handle_id (&self->flush_id, g_source_remove);
  g_queue_clear_full (&self->outbox, g_free);
  self->close_when_sent = FALSE;
}

static gboolean on_flush_timeout (gpointer user_data);

/* Sends what the bucket allows, then waits for the next token. */
static void
outbox_flush (PlSignalingClient *self)
{
  gint64 now = g_get_monotonic_time ();

  if (!pl_signaling_client_is_connected (self)) {
    outbox_clear (self);
    return;
  }

  while (!g_queue_is_empty (&self->outbox) &&
         pl_token_bucket_take (&self->bucket, self->send_rate, SEND_BURST, now)) {
    g_autofree char *text = g_queue_pop_head (&self->outbox);

    soup_websocket_connection_send_text (self->connection, text);
  }

  if (!g_queue_is_empty (&self->outbox)) {
    if (self->flush_id == 0)
      self->flush_id = g_timeout_add (pl_token_bucket_next_ms (&self->bucket, self->send_rate),
                                      on_flush_timeout, self);
    return;
  }

  if (self->close_when_sent) {
    self->close_when_sent = FALSE;
    soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  }
}

static gboolean
on_flush_timeout (gpointer user_data)
{
  PlSignalingClient *self = user_data;

  self->flush_id = 0;
  outbox_flush (self);

  return G_SOURCE_REMOVE;
}

/* The server dropped something we sent: it is configured tighter than the
 * protocol's default. Go slower from now on. Which messages were lost the
 * protocol does not say. */
static void
slow_down (PlSignalingClient *self,
           const PlMessage   *msg)
{
  self->send_rate = MAX (self->send_rate / 2.0, SEND_RATE_MIN);
  pl_token_bucket_init (&self->bucket, 0.0, g_get_monotonic_time ());
  g_message ("the server dropped messages (%s, %s%s%s); sending at most %.0f a second now",
             msg->code, msg->ref ? msg->ref : "", msg->call_id ? " " : "",
             msg->call_id ? msg->call_id : "", self->send_rate);
}

static void
on_connection_message (SoupWebsocketConnection *connection,
                       SoupWebsocketDataType    type,
                       GBytes                  *bytes,
                       gpointer                 user_data)
{
  PlSignalingClient *self = user_data;
  g_autoptr(PlMessage) msg = NULL;
  g_autoptr(GError) error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    g_debug ("ignoring a binary frame of %zu bytes", size);
    return;
  }

  msg = pl_message_parse (data, size, &error);
  if (msg == NULL || !pl_message_validate (msg, PL_PROTOCOL_TO_PHONE, &error)) {
    g_debug ("ignoring a message from the server: %s", error->message);
    return;
  }

  if (self->register_task != NULL) {
    if (msg->type == PL_MESSAGE_REGISTERED) {
      finish_registration (self, NULL);
      return;
    }
    if (msg->type == PL_MESSAGE_ERROR && g_strcmp0 (msg->ref, "register") == 0) {
      finish_registration (self, g_error_new (PL_SIGNALING_ERROR, PL_SIGNALING_ERROR_REFUSED,
                                              "registration refused: %s (%s)",
                                              msg->message, msg->code));
      return;
    }
  }

  if (msg->type == PL_MESSAGE_ERROR && g_strcmp0 (msg->code, "rate-limited") == 0)
    slow_down (self, msg);

  g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, msg);
}

static void
on_connection_closed (SoupWebsocketConnection *connection,
                      gpointer                 user_data)
{
  PlSignalingClient *self = user_data;
  g_autoptr(SoupWebsocketConnection) closed = g_steal_pointer (&self->connection);
  g_autofree char *reason = NULL;
  gushort code = soup_websocket_connection_get_close_code (connection);
  const char *data = soup_websocket_connection_get_close_data (connection);

  g_signal_handlers_disconnect_by_data (connection, self);
  outbox_clear (self);

  if (self->closing)
    reason = g_strdup ("closed");
  else if (code == 0)
    reason = g_strdup ("connection lost");
  else
    reason = g_strdup_printf ("closed by the server (%u%s%s)", code,
                              data && *data ? ": " : "", data ? data : "");

  finish_registration (self, g_error_new (PL_SIGNALING_ERROR, PL_SIGNALING_ERROR_CLOSED,
                                          "the server closed the connection: %s", reason));
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0, reason);
}

static gboolean
on_register_timeout (gpointer user_data)
{
  PlSignalingClient *self = user_data;

  self->register_timeout_id = 0;
  finish_registration (self, g_error_new (PL_SIGNALING_ERROR, PL_SIGNALING_ERROR_CONNECT,
                                          "no answer to register from %s", self->url));
  return G_SOURCE_REMOVE;
}

static void
websocket_connect_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PlSignalingClient *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMessage) msg = NULL;
  SoupWebsocketConnection *connection;

  connection = soup_session_websocket_connect_finish (SOUP_SESSION (object), result, &error);
  if (connection == NULL) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_task_return_error (task, g_steal_pointer (&error));
    else
      g_task_return_new_error (task, PL_SIGNALING_ERROR, PL_SIGNALING_ERROR_CONNECT,
                               "cannot reach %s: %s", self->url, error->message);
    return;
  }

  self->connection = connection;
  self->send_rate = SEND_RATE;
  pl_token_bucket_init (&self->bucket, SEND_BURST, g_get_monotonic_time ());
  soup_websocket_connection_set_max_incoming_payload_size (connection, MAX_INCOMING_PAYLOAD);
  g_signal_connect (connection, "message", G_CALLBACK (on_connection_message), self);
  g_signal_connect (connection, "closed", G_CALLBACK (on_connection_closed), self);

  self->register_task = g_steal_pointer (&task);
  if (self->register_timeout_s > 0)
    self->register_timeout_id = g_timeout_add_seconds (self->register_timeout_s,
                                                       on_register_timeout, self);

  msg = pl_message_new (PL_MESSAGE_REGISTER);
  msg->number = g_strdup (g_task_get_task_data (self->register_task));
  msg->token = g_strdup (self->token);
  pl_signaling_client_send (self, msg);
}

static void
pl_signaling_client_dispose (GObject *object)
{
  PlSignalingClient *self = PL_SIGNALING_CLIENT (object);

  g_clear_handle_id (&self->register_timeout_id, g_source_remove);
  outbox_clear (self);
  if (self->connection != NULL) {
    g_signal_handlers_disconnect_by_data (self->connection, self);
    if (soup_websocket_connection_get_state (self->connection) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  }
  g_clear_object (&self->connection);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (pl_signaling_client_parent_class)->dispose (object);
}

static void
pl_signaling_client_finalize (GObject *object)
{
  PlSignalingClient *self = PL_SIGNALING_CLIENT (object);

  g_free (self->url);
  g_free (self->token);

  G_OBJECT_CLASS (pl_signaling_client_parent_class)->finalize (object);
}

static void
pl_signaling_client_class_init (PlSignalingClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_signaling_client_dispose;
  object_class->finalize = pl_signaling_client_finalize;

  /* A validated server → phone message (PlMessage *), on the main context. */
  signals[SIGNAL_MESSAGE] =
    g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
pl_signaling_client_init (PlSignalingClient *self)
{
  g_queue_init (&self->outbox);
  self->send_rate = SEND_RATE;
  self->register_timeout_s = PL_SIGNALING_DEFAULT_REGISTER_TIMEOUT_S;
}

PlSignalingClient *
pl_signaling_client_new (const char *url,
                         const char *token)
{
  PlSignalingClient *self;

  g_return_val_if_fail (url != NULL, NULL);

  self = g_object_new (PL_TYPE_SIGNALING_CLIENT, NULL);
  self->url = g_strdup (url);
  self->token = g_strdup (token);
  self->session = soup_session_new_with_options ("timeout", self->register_timeout_s, NULL);

  return self;
}

void
pl_signaling_client_set_register_timeout (PlSignalingClient *self,
                                          guint              seconds)
{
  g_return_if_fail (PL_IS_SIGNALING_CLIENT (self));

  self->register_timeout_s = seconds;
  g_object_set (self->session, "timeout", seconds, NULL);
}

gboolean
pl_signaling_client_is_connected (PlSignalingClient *self)
{
  g_return_val_if_fail (PL_IS_SIGNALING_CLIENT (self), FALSE);

  return self->connection != NULL &&
         soup_websocket_connection_get_state (self->connection) == SOUP_WEBSOCKET_STATE_OPEN;
}

void
pl_signaling_client_register_async (PlSignalingClient  *self,
                                    const char         *number,
                                    GCancellable       *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(SoupMessage) message = NULL;

  g_return_if_fail (PL_IS_SIGNALING_CLIENT (self));
  g_return_if_fail (number != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pl_signaling_client_register_async);
  g_task_set_task_data (task, g_strdup (number), g_free);

  if (self->connection != NULL || self->register_task != NULL) {
    g_task_return_new_error (task, PL_SIGNALING_ERROR, PL_SIGNALING_ERROR_CONNECT,
                             "already connected");
    return;
  }

  message = soup_message_new (SOUP_METHOD_GET, self->url);
  if (message == NULL) {
    g_task_return_new_error (task, PL_SIGNALING_ERROR, PL_SIGNALING_ERROR_CONNECT,
                             "invalid server URL %s", self->url);
    return;
  }

  self->closing = FALSE;
  soup_session_websocket_connect_async (self->session, message, NULL, NULL, G_PRIORITY_DEFAULT,
                                        cancellable, websocket_connect_cb, g_steal_pointer (&task));
}

gboolean
pl_signaling_client_register_finish (PlSignalingClient *self,
                                     GAsyncResult      *result,
                                     GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
pl_signaling_client_send (PlSignalingClient *self,
                          const PlMessage   *msg)
{
  g_return_val_if_fail (PL_IS_SIGNALING_CLIENT (self), FALSE);
  g_return_val_if_fail (msg != NULL, FALSE);

  if (!pl_signaling_client_is_connected (self) || self->close_when_sent)
    return FALSE;

  g_queue_push_tail (&self->outbox, pl_message_to_json (msg));
  /* While the outbox waits for its next token, the message waits in line and
   * the timer sends it. Flushing here would count the time the caller spends
   * sending a batch as refill, and a slow caller (a loaded phone, valgrind)
   * would push the whole batch out in one run, far past the burst. */
  if (self->flush_id == 0)
    outbox_flush (self);

  return TRUE;
}

guint
pl_signaling_client_get_queued (PlSignalingClient *self)
{
  g_return_val_if_fail (PL_IS_SIGNALING_CLIENT (self), 0);

  return g_queue_get_length (&self->outbox);
}

void
pl_signaling_client_close (PlSignalingClient *self)
{
  g_return_if_fail (PL_IS_SIGNALING_CLIENT (self));

  self->closing = TRUE;
  if (!pl_signaling_client_is_connected (self))
    return;

  /* What was sent before the close leaves first (a quit's hang-ups). */
  self->close_when_sent = TRUE;
  outbox_flush (self);
}

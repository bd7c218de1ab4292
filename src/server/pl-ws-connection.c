/* pl-ws-connection.c — the server's end of one WebSocket, with bounds
 *
 * Copyright 2026 The Partyline authors
 *
 * What SoupWebsocketConnection does for the server, with the bounds the
 * server needs and libsoup 3.2 does not have (pl-ws-decoder.c says why):
 *
 *  - reading: one read of READ_SIZE bytes at a time through PlWsDecoder,
 *    which holds at most one message of the limit;
 *  - writing: frames wait in a queue written one at a time; when the queue
 *    passes its bound the peer is not reading, and the connection is
 *    dropped instead of growing: one phone that stops reading costs the
 *    server at most the bound, and never delays the others;
 *  - closing: after a close frame the connection goes on reading, and drops
 *    what it reads, until the peer's close frame, its end of stream, or the
 *    linger time. Closing a socket with unread data in it makes the kernel
 *    send a reset, which would destroy the close frame on its way.
 *
 * Everything runs on the thread-default main context of its creator.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-ws-connection"

#include "config.h"

#include "pl-ws-connection.h"
#include "pl-ws-decoder.h"

#include <string.h>

#define READ_SIZE          16384
#define LINGER_MS          2000

struct _PlWsConnection
{
  GObject        parent_instance;

  GIOStream     *stream;
  GCancellable  *cancellable;
  PlWsDecoder   *decoder;
  guint8        *read_buffer;
  gsize          max_send_queue;

  PlWsState      state;
  gushort        close_code;
  gboolean       close_sent;
  gboolean       closing_emitted;
  gboolean       close_after_flush;  /* the peer's close is answered: close once written */
  gboolean       stream_closing;     /* the stream closes once no I/O is pending */
  gboolean       close_started;

  gboolean       reading;
  gboolean       writing;
  GQueue         send_queue;         /* GBytes *, whole frames */
  gsize          send_queue_size;

  guint          keepalive_interval;
  guint          keepalive_id;
  guint          linger_id;
};

G_DEFINE_FINAL_TYPE (PlWsConnection, pl_ws_connection, G_TYPE_OBJECT)

enum {
  SIGNAL_MESSAGE,
  SIGNAL_TOO_LARGE,
  SIGNAL_PONG,
  SIGNAL_ERROR,
  SIGNAL_CLOSING,
  SIGNAL_CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void start_read (PlWsConnection *self);
static void start_write (PlWsConnection *self);
static void close_stream (PlWsConnection *self);

static void
emit_closing (PlWsConnection *self)
{
  if (self->closing_emitted)
    return;

  self->closing_emitted = TRUE;
  g_signal_emit (self, signals[SIGNAL_CLOSING], 0);
}

static void
on_stream_closed (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(PlWsConnection) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_io_stream_close_finish (G_IO_STREAM (object), result, &error))
    g_debug ("closing the stream: %s", error->message);

  self->state = PL_WS_STATE_CLOSED;
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0);
}

/* A stream cannot be closed while a read or a write is pending on it: the
 * cancelled ones finish first, and the last of them calls this again. */
static void
maybe_close_stream (PlWsConnection *self)
{
  if (!self->stream_closing || self->close_started || self->reading || self->writing)
    return;

  self->close_started = TRUE;
  g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, on_stream_closed,
                           g_object_ref (self));
}

static void
close_stream (PlWsConnection *self)
{
  if (self->stream_closing)
    return;

  self->stream_closing = TRUE;
  if (self->close_code == 0)
    self->close_code = PL_WS_CLOSE_ABNORMAL;
  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  g_clear_handle_id (&self->linger_id, g_source_remove);
  if (self->state == PL_WS_STATE_OPEN)
    self->state = PL_WS_STATE_CLOSING;
  emit_closing (self);

  g_cancellable_cancel (self->cancellable);
  maybe_close_stream (self);
}

static void
queue_frame (PlWsConnection *self,
             GBytes         *frame)
{
  gsize size = g_bytes_get_size (frame);

  if (self->send_queue_size + size > self->max_send_queue) {
    g_autofree char *why = g_strdup_printf ("the peer does not read: %" G_GSIZE_FORMAT
                                            " bytes wait to be sent (at most %" G_GSIZE_FORMAT ")",
                                            self->send_queue_size + size, self->max_send_queue);

    g_bytes_unref (frame);
    pl_ws_connection_abort (self, why);
    return;
  }

  g_queue_push_tail (&self->send_queue, frame);
  self->send_queue_size += size;
  if (!self->writing)
    start_write (self);
}

static void
send_close_frame (PlWsConnection *self,
                  gushort         code,
                  const char     *reason)
{
  guint8 payload[125];
  gsize length = 0;

  self->close_sent = TRUE;
  if (code != PL_WS_CLOSE_NO_STATUS) {
    gsize reason_len = reason != NULL ? strlen (reason) : 0;
    const char *end = NULL;

    /* At most 123 bytes of reason, cut on a character boundary. */
    if (reason_len > sizeof payload - 2) {
      g_utf8_validate (reason, sizeof payload - 2, &end);
      reason_len = end - reason;
    }
    payload[0] = code >> 8;
    payload[1] = code & 0xFF;
    if (reason_len > 0)
      memcpy (payload + 2, reason, reason_len);
    length = 2 + reason_len;
  }

  queue_frame (self, pl_ws_encode_frame (PL_WS_OPCODE_CLOSE, payload, length));
}

static void
on_write_done (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(PlWsConnection) self = user_data;
  g_autoptr(GError) error = NULL;
  GBytes *frame;

  self->writing = FALSE;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error)) {
    if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_autofree char *why = g_strdup_printf ("cannot send: %s", error->message);

      pl_ws_connection_abort (self, why);
    }
    maybe_close_stream (self);
    return;
  }

  frame = g_queue_pop_head (&self->send_queue);
  self->send_queue_size -= g_bytes_get_size (frame);
  g_bytes_unref (frame);

  if (self->stream_closing) {
    maybe_close_stream (self);
  } else if (!g_queue_is_empty (&self->send_queue)) {
    start_write (self);
  } else if (self->close_after_flush) {
    close_stream (self);
  }
}

static void
start_write (PlWsConnection *self)
{
  GBytes *frame = g_queue_peek_head (&self->send_queue);
  gsize size;
  gconstpointer data;

  if (frame == NULL || self->stream_closing)
    return;

  data = g_bytes_get_data (frame, &size);
  self->writing = TRUE;
  g_output_stream_write_all_async (g_io_stream_get_output_stream (self->stream), data, size,
                                   G_PRIORITY_DEFAULT, self->cancellable, on_write_done,
                                   g_object_ref (self));
}

static void
handle_event (PlWsConnection  *self,
              const PlWsEvent *event)
{
  switch (event->type) {
  case PL_WS_EVENT_NONE:
    break;

  case PL_WS_EVENT_TEXT:
  case PL_WS_EVENT_BINARY:
    /* After a close frame, what the peer still sends is read and dropped. */
    if (self->state == PL_WS_STATE_OPEN) {
      char *copy = g_malloc (event->length + 1);
      g_autoptr(GBytes) bytes = NULL;

      memcpy (copy, event->data, event->length);
      copy[event->length] = '\0';
      bytes = g_bytes_new_take (copy, event->length);
      g_signal_emit (self, signals[SIGNAL_MESSAGE], 0,
                     event->type == PL_WS_EVENT_TEXT ? PL_WS_OPCODE_TEXT : PL_WS_OPCODE_BINARY,
                     bytes);
    }
    break;

  case PL_WS_EVENT_TOO_BIG:
    if (self->state == PL_WS_STATE_OPEN) {
      g_autoptr(GBytes) prefix = g_bytes_new (event->data, event->length);

      g_signal_emit (self, signals[SIGNAL_TOO_LARGE], 0, prefix);
    }
    break;

  case PL_WS_EVENT_PING:
    if (self->state == PL_WS_STATE_OPEN)
      queue_frame (self, pl_ws_encode_frame (PL_WS_OPCODE_PONG, event->data, event->length));
    break;

  case PL_WS_EVENT_PONG:
    g_signal_emit (self, signals[SIGNAL_PONG], 0);
    break;

  case PL_WS_EVENT_CLOSE:
    if (self->close_sent) {
      /* The answer to ours: the handshake is over. */
      close_stream (self);
      break;
    }
    self->close_code = event->code;
    self->state = PL_WS_STATE_CLOSING;
    emit_closing (self);
    send_close_frame (self, event->code, NULL);
    self->close_after_flush = TRUE;
    break;

  case PL_WS_EVENT_ERROR:
    g_signal_emit (self, signals[SIGNAL_ERROR], 0, event->message);
    if (self->state == PL_WS_STATE_OPEN) {
      /* The stream cannot be read further: the decoder drops the rest until
       * the peer closes or the linger time is over. */
      pl_ws_connection_close (self, event->code, event->message);
    }
    break;

  default:
    g_assert_not_reached ();
  }
}

static void
on_read_done (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(PlWsConnection) self = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;
  gsize offset = 0;

  self->reading = FALSE;
  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (n <= 0) {
    if (n < 0 && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_debug ("reading: %s", error->message);
    /* The peer is gone (or we are closing): nothing more to read. */
    close_stream (self);
    maybe_close_stream (self);
    return;
  }

  while (offset < (gsize) n && !self->stream_closing) {
    PlWsEvent event;
    gsize used = pl_ws_decoder_feed (self->decoder, self->read_buffer + offset, n - offset, &event);

    offset += used;
    handle_event (self, &event);
    if (used == 0 && event.type == PL_WS_EVENT_NONE)
      break;
  }

  if (self->stream_closing)
    maybe_close_stream (self);
  else
    start_read (self);
}

static void
start_read (PlWsConnection *self)
{
  self->reading = TRUE;
  g_input_stream_read_async (g_io_stream_get_input_stream (self->stream), self->read_buffer,
                             READ_SIZE, G_PRIORITY_DEFAULT, self->cancellable, on_read_done,
                             g_object_ref (self));
}

static gboolean
on_keepalive_timeout (gpointer user_data)
{
  PlWsConnection *self = user_data;

  if (self->state == PL_WS_STATE_OPEN)
    queue_frame (self, pl_ws_encode_frame (PL_WS_OPCODE_PING, NULL, 0));

  return G_SOURCE_CONTINUE;
}

static gboolean
on_linger_timeout (gpointer user_data)
{
  PlWsConnection *self = user_data;

  self->linger_id = 0;
  g_debug ("no close frame in answer within %d ms: closing", LINGER_MS);
  close_stream (self);

  return G_SOURCE_REMOVE;
}

static void
pl_ws_connection_dispose (GObject *object)
{
  PlWsConnection *self = PL_WS_CONNECTION (object);

  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  g_clear_handle_id (&self->linger_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);

  G_OBJECT_CLASS (pl_ws_connection_parent_class)->dispose (object);
}

static void
pl_ws_connection_finalize (GObject *object)
{
  PlWsConnection *self = PL_WS_CONNECTION (object);

  g_queue_clear_full (&self->send_queue, (GDestroyNotify) g_bytes_unref);
  g_clear_object (&self->stream);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->decoder, pl_ws_decoder_free);
  g_free (self->read_buffer);

  G_OBJECT_CLASS (pl_ws_connection_parent_class)->finalize (object);
}

static void
pl_ws_connection_class_init (PlWsConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_ws_connection_dispose;
  object_class->finalize = pl_ws_connection_finalize;

  /* (opcode PL_WS_OPCODE_TEXT or _BINARY, GBytes *data): a whole message,
   * NUL-terminated past its size. */
  signals[SIGNAL_MESSAGE] =
    g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_BYTES);
  /* (GBytes *prefix): a message over the limit, of which only @prefix was
   * read. The connection stays open: the receiver answers and closes it. */
  signals[SIGNAL_TOO_LARGE] =
    g_signal_new ("too-large", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_BYTES);
  signals[SIGNAL_PONG] =
    g_signal_new ("pong", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  /* (const char *why): a protocol error of the peer, or why it was dropped. */
  signals[SIGNAL_ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
  /* The connection is going away: nothing it receives is delivered any more. */
  signals[SIGNAL_CLOSING] =
    g_signal_new ("closing", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  /* The stream is closed. */
  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
pl_ws_connection_init (PlWsConnection *self)
{
  g_queue_init (&self->send_queue);
  self->cancellable = g_cancellable_new ();
  self->read_buffer = g_malloc (READ_SIZE);
}

PlWsConnection *
pl_ws_connection_new (GIOStream *stream,
                      gsize      max_message,
                      gsize      max_send_queue)
{
  PlWsConnection *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);
  g_return_val_if_fail (max_message > 0, NULL);

  self = g_object_new (PL_TYPE_WS_CONNECTION, NULL);
  self->stream = g_object_ref (stream);
  self->decoder = pl_ws_decoder_new (max_message);
  self->max_send_queue = max_send_queue;

  start_read (self);

  return self;
}

PlWsState
pl_ws_connection_get_state (PlWsConnection *self)
{
  g_return_val_if_fail (PL_IS_WS_CONNECTION (self), PL_WS_STATE_CLOSED);

  return self->state;
}

void
pl_ws_connection_send_text (PlWsConnection *self,
                            const char     *text)
{
  g_return_if_fail (PL_IS_WS_CONNECTION (self));
  g_return_if_fail (text != NULL);

  if (self->state != PL_WS_STATE_OPEN) {
    g_debug ("closing: not sending %s", text);
    return;
  }

  queue_frame (self, pl_ws_encode_frame (PL_WS_OPCODE_TEXT, (const guint8 *) text, strlen (text)));
}

void
pl_ws_connection_close (PlWsConnection *self,
                        gushort         code,
                        const char     *reason)
{
  g_return_if_fail (PL_IS_WS_CONNECTION (self));

  if (self->state != PL_WS_STATE_OPEN)
    return;

  self->state = PL_WS_STATE_CLOSING;
  self->close_code = code;
  g_clear_handle_id (&self->keepalive_id, g_source_remove);

  g_object_ref (self);
  emit_closing (self);
  send_close_frame (self, code, reason);
  if (!self->stream_closing)
    self->linger_id = g_timeout_add (LINGER_MS, on_linger_timeout, self);
  g_object_unref (self);
}

void
pl_ws_connection_abort (PlWsConnection *self,
                        const char     *why)
{
  g_return_if_fail (PL_IS_WS_CONNECTION (self));

  if (self->stream_closing)
    return;

  g_object_ref (self);
  if (why != NULL)
    g_signal_emit (self, signals[SIGNAL_ERROR], 0, why);
  if (self->state == PL_WS_STATE_OPEN)
    self->close_code = PL_WS_CLOSE_ABNORMAL;
  close_stream (self);
  g_object_unref (self);
}

gushort
pl_ws_connection_get_close_code (PlWsConnection *self)
{
  g_return_val_if_fail (PL_IS_WS_CONNECTION (self), 0);

  return self->close_code;
}

/* Seconds between pings; 0 sends none. */
void
pl_ws_connection_set_keepalive_interval (PlWsConnection *self,
                                         guint           seconds)
{
  g_return_if_fail (PL_IS_WS_CONNECTION (self));

  self->keepalive_interval = seconds;
  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  if (seconds > 0 && self->state == PL_WS_STATE_OPEN)
    self->keepalive_id = g_timeout_add_seconds (seconds, on_keepalive_timeout, self);
}
